//! The shipped scenario files run against the local target, with exact accounting.

use std::time::Duration;

use mite_core::RunResult;
use mite_core::run::StopReason;
use mite_core::scenario::file as scenario_file;
use mite_tests::{
    ScenarioDir, assert_target_saw_every_request, options, run, run_file, shipped_scenario as scenario_path,
};
use mite_tools::{Target, TargetOptions};

#[test]
fn get_toml_runs_with_zero_errors() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let overrides = vec![format!("target_url={}", target.url("/"))];
    let result = run_file(&scenario_path("get.toml"), &overrides, options(2, Duration::from_secs(1)));
    let total = assert_target_saw_every_request(&result, target.hits());
    assert!(total.req_ok > 100);
    assert_eq!(total.req_errors(), 0);
}

#[test]
fn users_toml_captures_and_templates() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let base = target.url("");
    let overrides = vec![format!("base={base}")];
    let loaded = scenario_file::load(&scenario_path("users.toml"), &mite_journeys::registry(), &overrides).unwrap();
    assert_eq!(loaded.client.timeout, Some(Duration::from_secs(5)));
    let result = run(&loaded.registry, loaded.scenario, &overrides, options(1, Duration::from_secs(2)));
    let total = assert_target_saw_every_request(&result, target.hits());
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
    assert_eq!(result.merged.journeys.failed, 0, "{:?}", result.merged.error_samples);
    assert!(result.merged.txns["echo"].req_ok > 0);
}

#[test]
fn mixed_toml_single_use_range_runs_each_id_once() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let overrides = vec![format!("target_url={}", target.url("/"))];
    let loaded = scenario_file::load(&scenario_path("mixed.toml"), &mite_journeys::registry(), &overrides).unwrap();
    let mut opts = options(2, Duration::from_secs(3));
    opts.duration = None;
    let mut scenario = loaded.scenario;
    // Keep only the single-use entry so the run ends when the ids run out.
    scenario.entries.truncate(1);
    let result = run(&loaded.registry, scenario, &overrides, opts);
    assert_eq!(result.stopped_by, StopReason::Completed);
    assert_eq!(result.merged.txns["bytes"].req_ok, 500);
    assert_eq!(result.merged.txns["bytes"].body_bytes, (1..=500u64).sum::<u64>());
    assert_eq!(target.hits(), 500);
}

#[test]
fn har_conversion_runs() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let har = format!(
        r#"{{"log": {{"pages": [{{"id": "p", "title": "Home"}}], "entries": [
        {{"pageref": "p", "request": {{"method": "GET", "url": "{root}", "headers": [{{"name": "Accept", "value": "*/*"}}]}}}},
        {{"pageref": "p", "request": {{"method": "GET", "url": "{root}style.css", "headers": []}}}},
        {{"request": {{"method": "POST", "url": "{root}echo", "headers": [], "postData": {{"text": "hi"}}}}}}]}}}}"#,
        root = target.url("/")
    );
    let converted = mite_core::scenario::har::convert(&har, &[], false).unwrap();
    let dir = ScenarioDir::new();
    let path = dir.write("recorded.toml", &converted.toml);
    let result = run_file(&path, &[], options(1, Duration::from_secs(5)));
    assert_eq!(result.merged.total().req_ok, 2);
    assert!(result.merged.txns.contains_key("Home :: GET /"));
    assert_eq!(target.hits(), 2);
}

#[test]
fn login_toml_runs_the_flow_with_zero_errors_and_per_route_counts_match() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let overrides = vec![format!("base={}", target.url(""))];
    let loaded = scenario_file::load(&scenario_path("login.toml"), &mite_journeys::registry(), &overrides).unwrap();
    assert_eq!(loaded.client.max_redirects, Some(5));
    let result = run(&loaded.registry, loaded.scenario, &overrides, options(1, Duration::from_secs(1)));
    let m = &result.merged;
    assert_eq!(m.total().req_errors(), 0, "{:?}", m.error_samples);
    assert_eq!(m.journeys.failed, 0, "{:?}", m.error_samples);
    let logins = target.route_hits("/login");
    assert!(logins > 10, "{logins} logins");
    assert_eq!(target.route_hits("/login"), target.route_hits("/logout"));
    // login: POST /login + the redirect to /account; account: /account again.
    assert_eq!(m.txns["login"].requests(), 2 * logins);
    assert_eq!(target.route_hits("/account"), 2 * logins);
    assert_eq!(m.txns["old_link"].requests(), target.route_hits("/redirect/301/1"));
    assert_eq!(target.route_hits("/redirect/301/0"), 0, "follow_redirects = false");
    assert_eq!(m.txns["logout"].requests(), target.route_hits("/logout") + target.route_hits("/"));
    assert_eq!(m.txns["profile"].req_ok, logins);
    assert_eq!(m.total().requests(), target.hits());
}

/// A browser's recording of the login flow: the converted journey makes the same requests per
/// iteration as the browser did, redirects and cookies handled by the session.
#[test]
fn converted_browser_login_har_makes_the_browsers_requests() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let root = target.url("");
    let har = format!(
        r#"{{"log": {{"entries": [
        {{"request": {{"method": "GET", "url": "{root}/", "headers": []}}, "response": {{"status": 200}}}},
        {{"request": {{"method": "POST", "url": "{root}/login", "headers": [{{"name": "Content-Type", "value": "application/x-www-form-urlencoded"}}],
           "postData": {{"mimeType": "application/x-www-form-urlencoded", "text": "user=ann&password=secret"}}}},
          "response": {{"status": 302, "redirectURL": "/account", "headers": [{{"name": "Set-Cookie", "value": "session=tok-ann; Path=/"}}]}}}},
        {{"request": {{"method": "GET", "url": "{root}/account", "headers": [{{"name": "Cookie", "value": "session=tok-ann"}}]}}, "response": {{"status": 200}}}},
        {{"request": {{"method": "GET", "url": "{root}/account", "headers": [{{"name": "Cookie", "value": "session=tok-ann"}}]}}, "response": {{"status": 200}}}},
        {{"request": {{"method": "POST", "url": "{root}/json/echo", "headers": [{{"name": "Content-Type", "value": "application/json"}}, {{"name": "Cookie", "value": "session=tok-ann"}}],
           "postData": {{"mimeType": "application/json", "text": "{{\"cart\": [1, 2]}}"}}}}, "response": {{"status": 200}}}},
        {{"request": {{"method": "GET", "url": "{root}/redirect/302/2", "headers": []}}, "response": {{"status": 302, "redirectURL": "/redirect/302/1"}}}},
        {{"request": {{"method": "GET", "url": "{root}/redirect/302/1", "headers": []}}, "response": {{"status": 302, "redirectURL": "/redirect/302/0"}}}},
        {{"request": {{"method": "GET", "url": "{root}/redirect/302/0", "headers": []}}, "response": {{"status": 200}}}},
        {{"request": {{"method": "GET", "url": "{root}/logout", "headers": [{{"name": "Cookie", "value": "session=tok-ann"}}]}},
          "response": {{"status": 302, "headers": [{{"name": "Location", "value": "{root}/"}}]}}}},
        {{"request": {{"method": "GET", "url": "{root}/", "headers": []}}, "response": {{"status": 200}}}}
      ]}}}}"#
    );
    let converted = mite_core::scenario::har::convert(&har, &[], false).unwrap();
    assert_eq!((converted.kept, converted.dropped_redirect), (6, 4));
    let dir = ScenarioDir::new();
    let path = dir.write("recorded.toml", &converted.toml);
    let loaded = scenario_file::load(&path, &mite_journeys::registry(), &[]).unwrap();
    let mut scenario = loaded.scenario;
    scenario.entries[0].volume = mite_core::VolumeModel::Oneshot { journeys: 3 };
    let result = run(&loaded.registry, scenario, &[], options(1, Duration::from_secs(10)));
    let m = &result.merged;
    assert_eq!(m.total().req_errors(), 0, "{:?}", m.error_samples);
    assert_eq!(m.journeys.ok, 3, "{:?}", m.error_samples);
    // Per route, three times what the browser requested once.
    let mut recorded = std::collections::BTreeMap::<String, u64>::new();
    let doc: serde_json::Value = serde_json::from_str(&har).unwrap();
    for entry in doc["log"]["entries"].as_array().unwrap() {
        let url = entry["request"]["url"].as_str().unwrap();
        *recorded.entry(url.trim_start_matches(&root).to_string()).or_default() += 3;
    }
    assert_eq!(target.route_counts(), recorded);
    assert_eq!(m.total().requests(), target.hits());
}

#[test]
fn declarative_pace_spaces_journey_runs_and_bad_pace_is_a_clear_error() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let dir = ScenarioDir::new();
    let path = dir.path().join("paced.toml");
    let text = |pace: &str| {
        format!(
            "[journeys.paced]\npace = {pace}\nsteps = [{{ url = \"{}\" }}]\n[[scenario]]\njourney = \"paced\"\nvolume = {{ constant = 1 }}\n",
            target.url("/")
        )
    };
    std::fs::write(&path, text("\"200ms\"")).unwrap();
    let result = run_file(&path, &[], options(1, Duration::from_millis(1000)));
    let started = result.merged.journeys.started;
    assert!((4..=6).contains(&started), "{started} paced runs in 1 s");
    assert_target_saw_every_request(&result, target.hits());
    std::fs::write(&path, text("{ mean = \"200ms\", plus_minus = \"50ms\" }")).unwrap();
    assert!(scenario_file::load(&path, &mite_journeys::registry(), &[]).is_ok());
    for (bad, says) in [
        ("\"soon\"", "not a duration"),
        ("{ avg = \"1s\" }", "unknown key \"avg\""),
        ("3", "not a pace"),
        ("{ mean = \"200ms\", plus_minus = \"300ms\" }", "plus_minus (300ms) is more than mean (200ms)"),
    ] {
        std::fs::write(&path, text(bad)).unwrap();
        let err = scenario_file::load(&path, &mite_journeys::registry(), &[]).unwrap_err();
        assert!(err.field == "journeys.paced.pace" && err.to_string().contains(says), "{bad}: {err}");
    }
}

/// A JSON capture from a body that is not JSON says so (it said only "not found"), and one
/// whose path is missing says "not found in the response".
#[test]
fn a_json_capture_tells_a_body_that_is_not_json_from_a_missing_path() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let dir = ScenarioDir::new();
    let file = dir.write(
        "captures.toml",
        r#"
[journeys.text]
steps = [{ transaction = "text", url = "{base}/", capture = { token = { json = "token" } } }]
[journeys.json]
steps = [{ transaction = "json", url = "{base}/json", capture = { nope = { json = "no.such.key" } } }]

[[scenario]]
journey = "text"
volume = { oneshot = 1 }
"#,
    );
    let base = target.url("").trim_end_matches('/').to_string();
    let loaded = scenario_file::load(&file, &mite_journeys::registry(), &[format!("base={base}")]).unwrap();
    let error = |journey: &str| {
        let record = mite_core::prelude::JourneyTest::new()
            .config("base", base.clone())
            .run_registered(&loaded.registry, journey);
        record.unwrap().result.unwrap_err().to_string()
    };
    let text = error("text");
    assert!(
        text.contains("capture token = { json = \"token\" } not found: the response body (13 bytes) is not JSON"),
        "{text}"
    );
    let json = error("json");
    assert!(json.ends_with("not found in the response"), "{json}");
}

/// A JSON capture that finds `null` was captured as the text "null" and sent on (`/echo/null`
/// reached the target). It fails its step as a missing value does, saying it found null; the
/// next step is not sent. `0`, `false` and `""` are values.
#[test]
fn a_json_capture_of_null_fails_its_step_saying_so() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let dir = ScenarioDir::new();
    let file = dir.write(
        "null.toml",
        r#"
[journeys.null]
steps = [
  { transaction = "get", method = "POST", url = "{base}/echo", body = '{{"token": null, "n": 0, "f": false, "e": ""}}',
    capture = { n = { json = "n" }, f = { json = "f" }, e = { json = "e" }, token = { json = "token" } } },
  { transaction = "use", url = "{base}/echo/{token}" },
]
[[scenario]]
journey = "null"
volume = { oneshot = 1 }
"#,
    );
    let base = target.url("").trim_end_matches('/').to_string();
    let loaded = scenario_file::load(&file, &mite_journeys::registry(), &[format!("base={base}")]).unwrap();
    let record = mite_core::prelude::JourneyTest::new().config("base", base).run_registered(&loaded.registry, "null");
    let said = record.unwrap().result.unwrap_err().to_string();
    assert!(
        said.contains("capture token = { json = \"token\" } is null in the response: null is no value to capture"),
        "{said}"
    );
    assert_eq!((target.route_hits("/echo"), target.route_hits("/echo/null")), (1, 0), "the next step was not sent");
}

/// Reads up to `count` HTTP/1.1 requests (head and Content-Length body) from connections to
/// `listener`, answers each with an empty 200, and returns them as text.
fn capture_requests(listener: std::net::TcpListener, count: usize) -> std::thread::JoinHandle<Vec<String>> {
    use std::io::{BufRead, BufReader, Read, Write};
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        while seen.len() < count {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            while seen.len() < count {
                let mut head = String::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap();
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                if head.is_empty() {
                    break;
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                seen.push(head + &String::from_utf8(body).unwrap());
                writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap();
            }
        }
        seen
    })
}

/// Headers, query and form fields, JSON body keys and cookies go out in the order the file
/// writes them (they went out in alphabetical order).
#[test]
fn a_steps_tables_go_out_in_written_order() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = capture_requests(listener, 2);
    let dir = ScenarioDir::new();
    let file = dir.write(
        "ordered.toml",
        r#"
[journeys.ordered]
steps = [
  { url = "{base}/j", headers = { Zebra = "1", Apple = "2", Mango = "3" }, query = { z = "1", a = "2", m = "3" },
    json = { zulu = 1, alpha = { yak = true, ant = false }, mike = "m" }, cookies = { zc = "1", ac = "2" } },
  { method = "POST", url = "{base}/f", form = { zz = "1", aa = "2", mm = "3" } },
]
[[scenario]]
journey = "ordered"
volume = { oneshot = 1 }
"#,
    );
    let overrides = [format!("base={base}")];
    let loaded = scenario_file::load(&file, &mite_journeys::registry(), &overrides).unwrap();
    let record = mite_core::prelude::JourneyTest::new()
        .config("base", base.clone())
        .run_registered(&loaded.registry, "ordered")
        .unwrap();
    record.result.unwrap();
    let requests = server.join().unwrap();
    let first = &requests[0];
    assert!(first.starts_with("GET /j?z=1&a=2&m=3 HTTP/1.1\r\n"), "{first}");
    let at = |text: &str| first.find(text).unwrap_or_else(|| panic!("{text:?} not in {first}"));
    assert!(at("Zebra: 1") < at("Apple: 2") && at("Apple: 2") < at("Mango: 3"), "{first}");
    assert!(first.contains("zc=1; ac=2"), "{first}");
    assert!(first.ends_with(r#"{"zulu":1,"alpha":{"yak":true,"ant":false},"mike":"m"}"#), "{first}");
    assert!(requests[1].ends_with("zz=1&aa=2&mm=3"), "{}", requests[1]);
}

/// README's scenario example loads as written, and with each of its commented alternatives
/// uncommented (`[client]`'s options; each `# or, instead of csv:` pool): two keys on one
/// commented line were invalid TOML once uncommented.
#[test]
fn readmes_scenario_example_loads_with_every_commented_alternative() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let section = &readme[readme.find("## Scenario files").expect("the scenario files section")..];
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    let lines: Vec<&str> = block.lines().collect();
    let is_setting = |line: &str| {
        line.strip_prefix("# ")
            .and_then(|rest| rest.split_once(" = "))
            .is_some_and(|(key, _)| !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    };
    // Groups of commented settings: consecutive lines, a new group at each "# or, instead of".
    let mut groups: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(instead) = line.strip_prefix("# or, instead of ") {
            groups.push((instead.split([':', ' ']).next(), Vec::new()));
        } else if is_setting(line) {
            match groups.last_mut() {
                Some((_, group)) if group.last().is_some_and(|&last| last + 1 == i) || group.is_empty() => {
                    group.push(i)
                }
                _ => groups.push((None, vec![i])),
            }
        }
    }
    let settings = lines.iter().filter(|line| is_setting(line)).count();
    assert_eq!(groups.iter().map(|(_, g)| g.len()).sum::<usize>(), settings, "{groups:?}");
    assert!(groups.len() >= 3 && settings >= 10, "{groups:?}");
    let dir = ScenarioDir::new();
    dir.write("users.csv", "name,user_id\nann,1\nbob,2\n");
    let load = |text: &str, what: &str| {
        let path = dir.write("readme.toml", text);
        scenario_file::load(&path, &mite_journeys::registry(), &[])
            .unwrap_or_else(|e| panic!("README's example with {what}: {e}\n{text}"));
    };
    load(block, "nothing uncommented");
    for (instead, group) in &groups {
        let variant: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, line)| match instead {
                _ if group.contains(&i) => line["# ".len()..].to_string(),
                Some(key) if line.starts_with(&format!("{key} = ")) => format!("# {line}"),
                _ => line.to_string(),
            })
            .collect();
        let uncommented: Vec<&str> = group.iter().map(|&i| lines[i]).collect();
        load(&variant.join("\n"), &format!("{uncommented:?} uncommented"));
    }
}

/// Runs `file` on one core with `base` set to `target`'s URL until its single-use datapool
/// is used up (at most 10 s), with no request error.
fn run_to_completion(file: &std::path::Path, target: &Target) -> RunResult {
    let mut opts = options(1, Duration::from_secs(10));
    opts.duration = None;
    let result = run_file(file, &[format!("base={}", target.url(""))], opts);
    assert_eq!(result.stopped_by, StopReason::Completed);
    assert_eq!(result.merged.total().req_errors(), 0, "{:?}", result.merged.error_samples);
    result
}

/// A journey slot renders a URL that reads configuration only once, on its first run (issue
/// 15): a capture of an earlier step named like a configuration key still shadows the key in
/// every later step of every run, and the next run starts from the configuration again.
#[test]
fn a_capture_named_like_a_config_key_shadows_it_in_every_run_of_a_slot() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let dir = ScenarioDir::new();
    let file = dir.write(
        "shadow.toml",
        r#"
[config]
n = "7"
[datapools.runs]
range = { from = 1, to = 5 }
column = "run"
recyclable = false
[journeys.shadow]
steps = [
  { transaction = "config", url = "{base}/bytes/{n}" },
  { transaction = "capture", url = "{base}/json", capture = { n = { json = "user.id" } } },
  { transaction = "captured", url = "{base}/bytes/{n}" },
]
[[scenario]]
journey = "shadow"
datapool = "runs"
volume = { constant = 1 }
"#,
    );
    let result = run_to_completion(&file, &target);
    assert_eq!((target.route_hits("/bytes/7"), target.route_hits("/bytes/42")), (5, 5));
    assert_eq!(result.merged.txns["captured"].body_bytes, 5 * 42);
}

/// A URL that is a capture from start to end (`url = "{next}"`: a link read from a response)
/// loads and runs: the check before the run cannot render it, so it is left to the run, where
/// a captured value that makes no URL fails its step, counted once.
#[test]
fn a_url_that_is_a_capture_loads_and_runs() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let dir = ScenarioDir::new();
    let file = dir.write(
        "link.toml",
        r#"
[datapools.runs]
range = { from = 1, to = 4 }
column = "run"
recyclable = false
[journeys.link]
steps = [
  { transaction = "link", method = "POST", url = "{base}/echo", body = '{{"next": "{base}/bytes/3", "bad": "no url"}}', capture = { next = { json = "next" }, bad = { json = "bad" } } },
  { transaction = "followed", url = "{next}" },
  { transaction = "bad", url = "{bad}" },
]
[[scenario]]
journey = "link"
datapool = "runs"
volume = { constant = 1 }
"#,
    );
    let mut opts = options(1, Duration::from_secs(10));
    opts.duration = None;
    let result = run_file(&file, &[format!("base={}", target.url(""))], opts);
    assert_eq!(result.stopped_by, StopReason::Completed);
    assert_eq!(target.route_hits("/bytes/3"), 4);
    assert_eq!(result.merged.txns["followed"].body_bytes, 4 * 3);
    let bad = &result.merged.txns["bad"];
    assert_eq!((bad.txn_ok, bad.txn_err), (0, 4), "{bad:?}");
    let said = format!("{:?}", result.merged.error_samples);
    assert!(said.contains("no url"), "{said}");
}

/// A CSV column named like a configuration key shadows the key, though the slot kept the URL
/// the configuration renders; a URL reading no column keeps using the kept one.
#[test]
fn a_csv_column_named_like_a_config_key_shadows_it_in_a_slot() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let dir = ScenarioDir::new();
    dir.write("rows.csv", "n\n3\n5\n3\n");
    let file = dir.write(
        "column.toml",
        r#"
[config]
n = "7"
m = "9"
[datapools.rows]
csv = "rows.csv"
recyclable = false
[journeys.column]
steps = [
  { transaction = "column", url = "{base}/bytes/{n}" },
  { transaction = "config", url = "{base}/bytes/{m}" },
]
[[scenario]]
journey = "column"
datapool = "rows"
volume = { constant = 1 }
"#,
    );
    run_to_completion(&file, &target);
    let hits = |n: u32| target.route_hits(&format!("/bytes/{n}"));
    assert_eq!((hits(3), hits(5), hits(7), hits(9)), (2, 1, 0, 3));
}
