//! CI gates that must not pass when they should not (outside try 3, findings 2, 5, 9, 10 and
//! 15): thresholds and `compare` against runs whose transactions fail, every threshold printed,
//! the exit code's line, a signal after the duration ended, result files `compare` must refuse.

mod support;
use mite_core::output::units::grouped;
use support::{Scratch, engine, signal_when, text};

use std::path::Path;

use mite_tools::{Target, TargetOptions};

const EXIT_ERROR: i32 = 1;
const EXIT_THRESHOLD: i32 = 3;
const EXIT_REGRESSION: i32 = 4;

/// A scenario file in `dir`: one journey `j` of `steps`, `constant` journeys in flight.
fn scenario_file(dir: &Path, name: &str, target: &Target, steps: &str, constant: u32) -> String {
    let path = dir.join(format!("{name}.toml"));
    let text = format!(
        "name = \"{name}\"\n[config]\nbase = \"{}\"\n[journeys.j]\nsteps = [ {steps} ]\n[[scenario]]\njourney = \"j\"\nvolume = {{ constant = {constant} }}\n",
        target.url("").trim_end_matches('/')
    );
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn run(scenario: &str, more: &[&str]) -> std::process::Output {
    let mut args = vec!["--cores", "1", "--no-pin", "--scenario", scenario, "--duration", "400ms", "-q"];
    args.extend(more);
    engine(&args)
}

/// Finding 2: every `login` failed (its capture was not found) while each of its requests got a
/// 200; `login:errors<1%` passed with `actual 0.000%` and `compare` saw no regression.
#[test]
fn failed_transactions_fail_the_error_gates_and_compare() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let good = scenario_file(
        scratch.path(),
        "good",
        &target,
        r#"{ transaction = "login", url = "{base}/json", capture = { t = { json = "token" } } }"#,
        2,
    );
    let bad = scenario_file(
        scratch.path(),
        "bad",
        &target,
        r#"{ transaction = "login", url = "{base}/json", capture = { t = { json = "missing" } } }"#,
        2,
    );
    let (good_json, bad_json) = (scratch.file("good.json"), scratch.file("bad.json"));
    let out = run(&good, &["--json", good_json.to_str().unwrap(), "--threshold", "login:errors<1%"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(
        &bad,
        &["--json", bad_json.to_str().unwrap(), "--threshold", "login:errors<1%", "--threshold", "errors<1%"],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_THRESHOLD), "{said}");
    for gate in ["login:errors<1%", "errors<1%"] {
        let line = said.lines().find(|l| l.starts_with(&format!("threshold {gate}:"))).expect(gate);
        assert!(line.contains("FAIL (actual 100.000%: requests 0 of "), "{line}");
    }
    let out = engine(&["compare", good_json.to_str().unwrap(), bad_json.to_str().unwrap()]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_REGRESSION), "{said}");
    assert!(said.contains("login: errors 0.000% -> 100.000%"), "{said}");
    // The count column is the transactions' (the result file's `transactions[].count`).
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&bad_json).unwrap()).unwrap();
    let count = file["transactions"][0]["count"].as_u64().unwrap();
    let row = said.lines().find(|l| l.starts_with("login ")).unwrap();
    assert_eq!(row.split_whitespace().nth(1), Some(grouped(count).as_str()), "{row}");
}

/// Finding 5: `checkout` never runs (the step before it fails every time). Its optional
/// threshold was an error that hid `errors<1%`, never evaluated; now the optional one passes
/// with no data and every threshold is printed.
#[test]
fn an_optional_threshold_on_a_transaction_that_never_ran_passes() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let steps =
        r#"{ transaction = "loop", url = "{base}/redirect/loop" }, { transaction = "checkout", url = "{base}/" }"#;
    let file = scenario_file(scratch.path(), "opt", &target, steps, 1);
    let out =
        run(&file, &["--threshold", "checkout:p99<500ms?", "--threshold", "errors<1%", "--threshold", "loop:count>=1"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_THRESHOLD), "{said}");
    assert!(
        said.contains(
            "threshold checkout:p99<500ms?: pass (actual no data (optional: no transaction \"checkout\" ran))"
        ),
        "{said}"
    );
    assert!(said.contains("threshold errors<1%: FAIL (actual 100.000%"), "{said}");
    assert!(said.contains("threshold loop:count>=1: pass"), "{said}");
    assert!(said.contains("1 of 3 thresholds failed"), "{said}");
}

/// Outside try 4, case 3: `after` never runs (the step before it fails every time). The file
/// defines it, so its thresholds have no data: `after:p99<1s` failed as an unknown name (a
/// threshold ERROR, exit 1); it is a failed threshold (exit 3), and `after:p99<1s?` passes.
#[test]
fn a_transaction_the_file_defines_that_never_ran_has_no_data() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let steps = r#"{ transaction = "ok", url = "{base}/json" },
        { transaction = "capfail", url = "{base}/json", capture = { x = { json = "nope.missing" } } },
        { transaction = "after", url = "{base}/json" }"#;
    let file = scenario_file(scratch.path(), "never", &target, steps, 2);
    let out = run(&file, &["--threshold", "after:p99<1s", "--threshold", "after:p99<1s?"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_THRESHOLD), "{said}");
    assert!(said.contains("threshold after:p99<1s: FAIL (actual no data (no transaction \"after\" ran))"), "{said}");
    assert!(
        said.contains("threshold after:p99<1s?: pass (actual no data (optional: no transaction \"after\" ran))"),
        "{said}"
    );
    assert!(!said.contains("threshold ERROR"), "{said}");
    assert!(said.contains("1 of 2 thresholds failed"), "{said}");
}

/// A run that sent nothing passed `rps>0?` as `no data (optional)`: a floor on a count or a
/// rate asks for traffic, and a run against a dead target (every connect refused) or one whose
/// volume runs no journey sent none, which is 0, measured: the gate fails, optional or not.
#[test]
fn a_gate_that_asks_for_traffic_fails_when_none_was_sent() {
    let scratch = Scratch::new();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let gates = ["--threshold", "rps>0?", "--threshold", "count>=1?", "--threshold", "p99<1s?"];
    for (name, constant) in [("dead", 1), ("idle", 0)] {
        let path = scratch.path().join(format!("{name}.toml"));
        let file = format!(
            "[journeys.j]\nsteps = [ {{ url = \"{refused}/\" }} ]\n[[scenario]]\njourney = \"j\"\nvolume = {{ constant = {constant} }}\n"
        );
        std::fs::write(&path, file).unwrap();
        let out = run(path.to_str().unwrap(), &gates);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(EXIT_THRESHOLD), "{name}: {said}");
        let why = match name {
            "dead" => "(none sent: ",
            _ => "(nothing ran: no request made, no transaction completed)",
        };
        assert!(said.contains(&format!("threshold rps>0?: FAIL (actual 0.0/s {why}")), "{name}: {said}");
        assert!(said.contains(&format!("threshold count>=1?: FAIL (actual 0 {why}")), "{name}: {said}");
        let no_data = match name {
            "dead" => "no request answered: ",
            _ => "nothing ran: no request made, no transaction completed)",
        };
        assert!(
            said.contains(&format!("threshold p99<1s?: pass (actual no data (optional; {no_data}")),
            "{name}: {said}"
        );
    }
}

/// Outside try 4, case 3: beside a Rust journey (whose transactions only a run can tell) a
/// misspelt optional threshold passed saying only `no transaction "byts" ran`. It passes still
/// (a Rust journey may record a transaction only now and then), naming what ran and the
/// closest name; a mandatory one is an error with the same suggestion.
#[test]
fn an_optional_name_nothing_defines_names_what_ran_and_the_closest() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let path = scratch.file("mixed.toml");
    let text_of_file = format!(
        "name = \"mixed\"\n[config]\nbase = \"{base}\"\ntarget_url = \"{base}/\"\n\
         [journeys.j]\nsteps = [ {{ transaction = \"bytes\", url = \"{{base}}/bytes/8\" }} ]\n\
         [[scenario]]\njourney = \"j\"\nvolume = {{ constant = 1 }}\n\
         [[scenario]]\njourney = \"http_example:journey\"\nvolume = {{ constant = 1 }}\n",
        base = target.url("").trim_end_matches('/')
    );
    std::fs::write(&path, text_of_file).unwrap();
    let out = run(path.to_str().unwrap(), &["--threshold", "byts:p99<1s?", "--threshold", "nosuch:p99<1s?"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    // Said before the run too, beside the transactions the file defines.
    assert!(
        said.contains(
            "WARNING: threshold \"byts:p99<1s?\" names a transaction this scenario file does not define (its \
             transactions: bytes, j); did you mean \"bytes\"?; only a registered journey it runs could record \"byts\""
        ),
        "{said}"
    );
    assert!(
        said.contains(
            "threshold byts:p99<1s?: pass (actual no data (optional: no transaction \"byts\" ran, and the scenario \
             file does not define it; did you mean \"bytes\"?; transactions that ran: bytes, get_root))"
        ),
        "{said}"
    );
    assert!(
        said.contains("nosuch\" ran, and the scenario file does not define it; transactions that ran: bytes, get_root"),
        "{said}"
    );
    let out = run(path.to_str().unwrap(), &["--threshold", "byts:p99<1s"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_ERROR), "{said}");
    assert!(
        said.contains("no transaction named \"byts\" in the results (known: bytes, get_root); did you mean \"bytes\"?"),
        "{said}"
    );
}

/// Finding 5: one threshold that could not be checked (an unknown name, in a scenario whose
/// transactions only a run can tell) hid every threshold after it.
#[test]
fn every_threshold_is_printed_when_one_cannot_be_checked() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let url = format!("target_url={}", target.url("/"));
    let out = engine(&[
        "--cores",
        "1",
        "--no-pin",
        "--scenario",
        "http_example:scenario",
        "--config",
        &url,
        "--config",
        "journeys=1",
        "--duration",
        "300ms",
        "-q",
        "--threshold",
        "nope:p99<1ms",
        "--threshold",
        "count<1",
        "--threshold",
        "get_root:count>=1",
        "--threshold",
        "nope:p99<1ms?",
    ]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_ERROR), "{said}");
    assert!(said.contains("threshold ERROR: threshold \"nope:p99<1ms\": no transaction named \"nope\""), "{said}");
    assert!(said.contains("threshold count<1: FAIL"), "{said}");
    assert!(said.contains("threshold get_root:count>=1: pass"), "{said}");
    assert!(said.contains("threshold nope:p99<1ms?: pass (actual no data (optional"), "{said}");
    assert!(
        said.contains("1 of 4 thresholds failed") && said.contains("1 of 4 thresholds could not be checked"),
        "{said}"
    );
    assert!(said.contains("a threshold could not be checked; a threshold failed: exit code 1"), "{said}");
}

/// Finding 9: an output that could not be written and an interrupt both apply; the last line
/// said `exit code 5` while the process exited 1.
#[test]
fn the_exit_code_line_says_the_code_returned() {
    assert!(Path::new("/dev/full").exists(), "this test writes to /dev/full");
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let file =
        scenario_file(scratch.path(), "slow", &target, r#"{ transaction = "slow", url = "{base}/delay/50" }"#, 2);
    let args: Vec<String> = [
        "--cores",
        "1",
        "--no-pin",
        "--scenario",
        &file,
        "--duration",
        "60s",
        "--tick",
        "100ms",
        "--html",
        "/dev/full",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (out, _) = signal_when(&args, libc::SIGTERM, |said| said.contains("[ "));
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_ERROR), "{said}");
    assert!(said.contains("the report was not written; the run was interrupted: exit code 1"), "{said}");
    assert!(!said.contains("exit code 5"), "{said}");
}

/// Finding 10: a signal that came after the duration ended (journeys finishing in the grace)
/// relabelled a complete run as interrupted (exit 5), though nothing was cut short.
#[test]
fn a_signal_after_the_duration_ended_leaves_the_run_stopped_by_its_duration() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let file =
        scenario_file(scratch.path(), "sig", &target, r#"{ transaction = "slow", url = "{base}/delay/2000" }"#, 2);
    let json = scratch.file("sig.json");
    let args: Vec<String> = [
        "--cores",
        "1",
        "--no-pin",
        "--scenario",
        &file,
        "--duration",
        "500ms",
        "--tick",
        "100ms",
        "--grace",
        "5s",
        "--json",
        json.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // The first progress line of the grace (the duration has ended, journeys are draining),
    // however late a busy machine says it: the signal comes in the grace, while both journeys
    // still wait for their responses (2 s).
    let (out, _) = signal_when(&args, libc::SIGTERM, |said| said.contains("] grace: "));
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains(", stopped at the end of its duration\n"), "{said}");
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(file["stopped_by"], "duration");
    assert_eq!((file["totals"]["ok"].as_u64(), file["totals"]["errors"].as_u64()), (Some(2), Some(0)), "{said}");
}

/// Outside try 4: a transaction with no completions (every request still waiting when the
/// grace ended: cancelled) read `0.00 ms, -100.0%` in each latency column of `compare`, an
/// improvement. Its latencies are `no data` and compared with nothing; its rate falling to 0/s
/// is the regression (exit 4), and the other way round nothing regresses (exit 0).
#[test]
fn compare_says_no_data_for_a_transaction_that_never_completed() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let fast = scenario_file(scratch.path(), "fast", &target, r#"{ transaction = "g", url = "{base}/json" }"#, 2);
    let stuck =
        scenario_file(scratch.path(), "stuck", &target, r#"{ transaction = "g", url = "{base}/delay/20000" }"#, 2);
    let (fast_json, stuck_json) = (scratch.file("fast.json"), scratch.file("stuck.json"));
    let out = run(&fast, &["--json", fast_json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(&stuck, &["--grace", "0s", "--json", stuck_json.to_str().unwrap()]);
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stuck_json).unwrap()).unwrap();
    assert_eq!(file["transactions"][0]["count"], 0, "{}", text(&out));
    let (fast_json, stuck_json) = (fast_json.to_str().unwrap(), stuck_json.to_str().unwrap());
    let out = engine(&["compare", fast_json, stuck_json]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_REGRESSION), "{said}");
    let row = said.lines().find(|l| l.starts_with("g ")).unwrap();
    assert_eq!(row.matches("no data").count(), 3, "{row}");
    assert!(!row.split_whitespace().any(|cell| cell == "0.00"), "{row}");
    assert_eq!(row.matches("-100.0%").count(), 1, "only the rate fell by 100%: {row}");
    assert!(said.contains("-> 0.0/s (-100.0%, none completed)"), "{said}");
    let out = engine(&["compare", stuck_json, fast_json]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let row = said.lines().find(|l| l.starts_with("g ")).unwrap();
    assert_eq!(row.split_whitespace().filter(|c| *c == "-").count(), 3, "no latency change measured: {row}");
    let out = engine(&["compare", stuck_json, stuck_json]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// Outside try 4: `--max-regression 5` (no %) and `1e2%` were taken, and `errors<0%` (a gate
/// no run can pass) was accepted by `--threshold` and a scenario file's `thresholds`. Each is a
/// usage error (exit 2; a scenario file's, exit 1 at its line) naming the flag or threshold
/// and the forms it takes; nothing runs.
#[test]
fn loose_gate_syntax_is_refused_naming_the_accepted_forms() {
    for (value, said) in [
        ("5", "error: --max-regression \"5\": expected a percentage of zero or more written with %, like 5% or 0.5%"),
        ("1e2%", "error: --max-regression \"1e2%\": expected a percentage"),
        ("+5%", "error: --max-regression \"+5%\": expected a percentage"),
    ] {
        let out = engine(&["compare", "a.json", "b.json", "--max-regression", value]);
        assert_eq!(out.status.code(), Some(2), "{value}: {}", text(&out));
        assert!(text(&out).starts_with(said), "{value}: {}", text(&out));
    }
    let out = engine(&["--scenario", "http_example:scenario", "--threshold", "errors<0%"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).starts_with(
            "error: --threshold \"errors<0%\": \"<0%\" could never pass: nothing measured is below 0 (for none at \
             all, write errors<=0%)"
        ),
        "{}",
        text(&out)
    );
    refused_in_a_file("never", "\"get:errors<0\"", ":1: thresholds[0]: \"get:errors<0\": \"<0\" could never pass");
}

/// Outside try 5: `errors<=100%` was accepted, a gate no run can fail. Refused as a flag (a
/// usage error) and in a file (at its line, by `scenario check` and before a run), saying why.
#[test]
fn a_gate_that_could_never_fail_is_refused() {
    let out = engine(&["--scenario", "http_example:scenario", "--threshold", "errors<=100%"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).starts_with(
            "error: --threshold \"errors<=100%\": \"<=100%\" could never fail: an error rate is at most 100%"
        ),
        "{}",
        text(&out)
    );
    refused_in_a_file(
        "always",
        "\"get:p99<1s\", \"get:count>=0\"",
        ":1: thresholds[1]: \"get:count>=0\": \">=0\" could never fail",
    );
}

/// A scenario file whose first line is `thresholds = [THRESHOLDS]` is refused by `scenario
/// check` and before a run, each saying `expected`, and the target never hit.
fn refused_in_a_file(name: &str, thresholds: &str, expected: &str) {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let file = scenario_file(scratch.path(), name, &target, r#"{ transaction = "get", url = "{base}/" }"#, 1);
    let written = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("thresholds = [{thresholds}]\n{written}")).unwrap();
    for args in [&["scenario", "check", file.as_str()][..], &["--scenario", file.as_str(), "--duration", "1s", "-q"]] {
        let out = engine(args);
        assert_eq!(out.status.code(), Some(EXIT_ERROR), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(expected), "{args:?}: {}", text(&out));
    }
    assert_eq!(target.hits(), 0, "refused before the first request");
}

/// Finding 15: `compare` took a file with a transaction twice (which `merge` refuses), a
/// `duration_s` of 0 (then reported a -100 % rate regression) and `format_version: 0`.
#[test]
fn compare_refuses_what_merge_refuses() {
    let scratch = Scratch::new();
    let txn = r#"{ "name": "a", "count": 10, "errors": 0, "latency_us": { "p50": 100, "p99": 200, "p999": 300 }, "requests": { "count": 10, "errors": 0, "attempts": 10 } }"#;
    let write = |name: &str, version: u32, duration: f64, txns: &str| {
        let path = scratch.file(name);
        let text = format!(
            r#"{{ "mite_engine_version": "0", "format_version": {version}, "duration_s": {duration}, "totals": {{}}, "transactions": [{txns}] }}"#
        );
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let good = write("good.json", 1, 1.0, txn);
    for (name, version, duration, txns, expected) in [
        ("dup.json", 1, 1.0, format!("{txn},{txn}"), "transactions[1]: a second transaction named \"a\""),
        ("dur0.json", 1, 0.0, txn.to_string(), "duration_s: 0 is not a run's length"),
        ("ver0.json", 0, 1.0, txn.to_string(), "format_version: 0 is not a version"),
    ] {
        let bad = write(name, version, duration, &txns);
        let out = engine(&["compare", &good, &bad]);
        assert_eq!(out.status.code(), Some(EXIT_ERROR), "{name}: {}", text(&out));
        assert!(text(&out).contains(expected), "{name}: {}", text(&out));
    }
}

/// Finding 15: `merge ... -o m.json --html /nonexistent/m.html` wrote `m.json`, then exited 1.
#[test]
fn merge_checks_both_outputs_before_writing_either() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let file = scenario_file(scratch.path(), "one", &target, r#"{ transaction = "get", url = "{base}/" }"#, 1);
    let part = scratch.file("part.json");
    let out = run(&file, &["--json", part.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let merged = scratch.file("m.json");
    let again = support::as_another_run(&part, &scratch.file("again.json"));
    let (part, again, merged_path) = (part.to_str().unwrap(), again.to_str().unwrap(), merged.to_str().unwrap());
    let out = engine(&["merge", part, again, "-o", merged_path, "--html", "/nonexistent-dir/m.html"]);
    assert_eq!(out.status.code(), Some(EXIT_ERROR), "{}", text(&out));
    assert!(text(&out).contains("--html /nonexistent-dir/m.html"), "{}", text(&out));
    assert!(!merged.exists(), "nothing is written when an output is refused");
    let out = engine(&["merge", part, again, "-o", merged_path, "--html", scratch.file("m.html").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(merged.exists() && scratch.file("m.html").exists());
}

/// Outside try 4: results of two different scenario files under one name (`t1`) merged with
/// no word, their counts added up. Results of different scenarios (other names, or other files
/// under one name) are refused, naming both, with nothing written; `--mixed-scenarios` merges
/// them with a warning; two runs of one file merge as before.
#[test]
fn merge_refuses_results_of_different_scenarios_unless_asked() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = |name: &str| scratch.file(name).display().to_string();
    let (one, two) = (scratch.path().join("one"), scratch.path().join("two"));
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();
    let first = scenario_file(&one, "same", &target, r#"{ transaction = "get", url = "{base}/" }"#, 1);
    let steps = r#"{ transaction = "get", url = "{base}/" }, { transaction = "more", url = "{base}/json" }"#;
    let second = scenario_file(&two, "same", &target, steps, 1);
    let other = scenario_file(scratch.path(), "other", &target, r#"{ transaction = "get", url = "{base}/" }"#, 1);
    for (scenario, out) in [(&first, "a.json"), (&first, "a2.json"), (&second, "b.json"), (&other, "c.json")] {
        let out = run(scenario, &["--json", &json(out)]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json("a.json")).unwrap()).unwrap();
    assert_eq!(file["scenario_file"].as_str(), Some(first.as_str()));
    assert!(file["scenario_digest"].as_str().unwrap().starts_with("fnv1a64:"), "{file}");
    let merged = json("m.json");
    for (b, said) in [
        ("b.json", format!("ran \"same\" (scenario file {second}, fnv1a64:")),
        ("c.json", format!("{} ran \"other\" (scenario file {other}, ", json("c.json"))),
    ] {
        let out = engine(&["merge", &json("a.json"), &json(b), "-o", &merged]);
        let said_out = text(&out);
        assert_eq!(out.status.code(), Some(EXIT_ERROR), "{said_out}");
        assert!(said_out.contains("error: results of different scenarios: "), "{said_out}");
        assert!(said_out.contains(&format!("{} ran \"same\" (scenario file {first}, ", json("a.json"))), "{said_out}");
        assert!(said_out.contains(&said), "{said_out}");
        assert!(said_out.contains("nothing written (merge them anyway with --mixed-scenarios)"), "{said_out}");
        assert!(!Path::new(&merged).exists(), "nothing is written");
    }
    let out = engine(&["merge", &json("a.json"), &json("b.json"), "-o", &merged, "--mixed-scenarios"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("warning: results of different scenarios: "), "{}", text(&out));
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert!(file.get("scenario_digest").is_none(), "a merge of two files is of neither: {file}");
    let out = engine(&["merge", &json("a.json"), &json("a2.json"), "-o", &merged]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("different scenarios"), "{}", text(&out));
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(file["scenario"], "same");
    assert_eq!(file["scenario_file"].as_str(), Some(first.as_str()));
}

/// Finding 5: `scenario check` accepted a threshold naming a transaction the file cannot
/// record (the file defines every journey it runs); a run took such a `--threshold` too.
#[test]
fn a_threshold_naming_a_transaction_the_file_cannot_record_is_refused_before_the_run() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let steps =
        r#"{ transaction = "loop", url = "{base}/redirect/loop" }, { transaction = "checkout", url = "{base}/" }"#;
    let file = scenario_file(scratch.path(), "names", &target, steps, 1);
    let written = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("thresholds = [\"checkout:p99<500ms?\", \"chekout:p99<500ms?\"]\n{written}"))
        .unwrap();
    let out = engine(&["scenario", "check", &file]);
    assert_eq!(out.status.code(), Some(EXIT_ERROR), "{}", text(&out));
    assert!(
        text(&out).contains(":1: thresholds[1]: \"chekout:p99<500ms?\": no transaction named \"chekout\" in this scenario file (its transactions: checkout, j, loop)"),
        "{}",
        text(&out)
    );
    std::fs::write(&file, &written).unwrap();
    let hits = target.hits();
    let out = run(&file, &["--threshold", "checkout:p99<500ms?", "--threshold", "chekout:p99<500ms"]);
    assert_eq!(out.status.code(), Some(EXIT_ERROR), "{}", text(&out));
    assert!(text(&out).contains("threshold \"chekout:p99<500ms\": no transaction named \"chekout\""), "{}", text(&out));
    assert_eq!(target.hits(), hits, "refused before the first request");
}

/// Outside try: the run's table escaped a transaction's name, but a threshold line naming it
/// (and `scenario check`'s, and `journey test`'s trace) printed it raw: an escape sequence in a
/// scenario file recoloured the terminal, a line break forged a line (`threshold forged: pass`).
#[test]
fn names_in_threshold_lines_and_traces_are_shown_not_obeyed() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let name = r"evil\u001b[31m\r\nthreshold forged: pass";
    let steps = format!(r#"{{ transaction = "{name}", url = "{{base}}/status/500" }}"#);
    let file = scenario_file(scratch.path(), "hostile", &target, &steps, 1);
    let gate = "evil\u{1b}[31m\r\nthreshold forged: pass:errors<1%";
    let out = run(&file, &["--threshold", gate]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_THRESHOLD), "{said}");
    let line = said.lines().find(|l| l.starts_with("threshold evil")).expect("the threshold line");
    assert!(line.starts_with(r"threshold evil\u{1b}[31m\r\nthreshold forged: pass:errors<1%: FAIL"), "{line}");
    let clean = |said: &str| !said.contains('\u{1b}') && !said.contains('\r') && !said.contains("\nthreshold forged");
    assert!(clean(&said), "{said}");
    let out = engine(&["journey", "test", "j", "--scenario", &file]);
    let said = text(&out);
    assert!(said.contains(r"evil\u{1b}[31m\r\nthreshold forged: pass"), "{said}");
    assert!(clean(&said), "{said}");
    let written = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, written.replacen("[config]", &format!("thresholds = [\"{name}:errors<1%\"]\n[config]"), 1))
        .unwrap();
    let out = engine(&["scenario", "check", &file]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains(r"  threshold evil\u{1b}[31m\r\nthreshold forged: pass:errors<1%"), "{said}");
    assert!(clean(&said), "{said}");
}
