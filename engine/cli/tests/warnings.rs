//! What the command line says whatever `-q` asks (warnings are never hidden), what the result
//! file keeps of `--insecure`, and flags blamed where they came from (the outside tester's
//! findings on `-q`, `MITE_SEGMENT` and the lingers); the configuration keys nothing read, said
//! and kept in the result file; and `[client] max_head_bytes` beside its flag.

mod support;
use support::{Scratch, engine, get_run, text};

use std::process::Command;

use mite_tools::{Target, TargetOptions};

/// Two entries that each earn a warning before the run: `constant = 0` runs nothing, and a
/// recyclable datapool of one row feeds two journeys.
fn warned_scenario(scratch: &Scratch, target: &Target) -> String {
    let text = format!(
        r#"name = "warned"
[config]
base = "{}"
[datapools.one]
range = {{ from = 1, to = 1 }}
column = "id"
[journeys.get]
steps = [{{ transaction = "get_root", url = "{{base}}", think = "20ms" }}]
[[scenario]]
journey = "get"
datapool = "one"
volume = {{ constant = 2 }}
[[scenario]]
journey = "get"
volume = {{ constant = 0 }}
"#,
        target.url("/")
    );
    scratch.write("warned.toml", text)
}

/// The saturation warning depends on the machine's load (a loaded machine can saturate a
/// 300 ms run's core); it has its own tests, so the tests here leave it out of what they compare.
const SATURATED: &str = "the injector was saturated";

/// A result file, less any saturation warning (`SATURATED`); `warnings` absent if none is left.
fn result(path: &std::path::Path) -> serde_json::Value {
    let mut file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if let Some(warnings) = file.get_mut("warnings").and_then(serde_json::Value::as_array_mut) {
        warnings.retain(|w| !w.as_str().is_some_and(|w| w.contains(SATURATED)));
        if warnings.is_empty() {
            file.as_object_mut().unwrap().remove("warnings");
        }
    }
    file
}

/// Outside try 6: `journey test --insecure` said nothing of it, where a run warns.
#[test]
fn journey_test_warns_of_insecure_as_a_run_does() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let scenario = warned_scenario(&scratch, &target);
    let out = engine(&["journey", "test", "get", "--scenario", scenario.as_str(), "--insecure"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("WARNING: --insecure: TLS certificates are NOT verified"), "{said}");
    let checked = engine(&["journey", "test", "get", "--scenario", scenario.as_str()]);
    assert!(!text(&checked).contains("NOT verified"), "{}", text(&checked));
}

/// `-q` hid every warning (`--insecure`'s, a datapool too small, a volume of 0) along with
/// the progress lines; now it hides the progress lines only.
#[test]
fn quiet_hides_progress_lines_not_warnings() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let scenario = warned_scenario(&scratch, &target);
    let base = ["--cores", "1", "--no-pin", "--scenario", scenario.as_str(), "--duration", "1500ms", "--insecure"];
    let quiet = engine(&[&base[..], &["-q"]].concat());
    assert_eq!(quiet.status.code(), Some(0), "{}", text(&quiet));
    let said = String::from_utf8_lossy(&quiet.stderr);
    for warning in [
        "WARNING: --insecure: TLS certificates are NOT verified",
        "recyclable datapool \"one\" has 1 row,",
        "runs no journey at all",
    ] {
        assert!(said.contains(warning), "-q hid {warning:?}:\n{said}");
    }
    let progress = |said: &str| said.lines().filter(|l| l.starts_with('[') && l.contains(" txn ")).count();
    assert_eq!(progress(&said), 0, "-q still hides the progress lines:\n{said}");
    let loud = engine(&base);
    let said_loud = String::from_utf8_lossy(&loud.stderr);
    assert!(progress(&said_loud) > 0, "without -q the progress lines are there:\n{said_loud}");
    assert_eq!(
        said_loud.matches("WARNING:").count(),
        said.matches("WARNING:").count(),
        "the same warnings with and without -q:\n{said_loud}\n---\n{said}"
    );
}

/// The result file says whether TLS certificates were verified (`--insecure` was only said on
/// the terminal), and `merge` keeps it: false when any input was.
#[test]
fn the_result_file_records_insecure_and_merge_keeps_it() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let url = format!("target_url={}", target.url("/"));
    let get = support::scenario("get.toml");
    let (checked, insecure, merged) =
        (scratch.file("checked.json"), scratch.file("insecure.json"), scratch.file("m.json"));
    for (path, extra) in [(&checked, &[][..]), (&insecure, &["--insecure"][..])] {
        get_run(&target, "300ms", path, extra);
    }
    assert_eq!(result(&checked)["tls_verified"], true);
    assert_eq!(result(&insecure)["tls_verified"], false);
    // The scenario file's `[client] insecure = true` is the same as the flag.
    let file = scratch.file("insecure.toml");
    let toml = std::fs::read_to_string(&get).unwrap().replace("[config]", "[client]\ninsecure = true\n\n[config]");
    std::fs::write(&file, toml).unwrap();
    let from_file = scratch.file("from_file.json");
    let out = engine(&[
        "--cores",
        "1",
        "--no-pin",
        "-q",
        "--scenario",
        file.to_str().unwrap(),
        "--duration",
        "300ms",
        "--config",
        &url,
        "--json",
        from_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TLS certificates are NOT verified"), "{}", text(&out));
    assert_eq!(result(&from_file)["tls_verified"], false);
    let again = support::as_another_run(&checked, &checked.with_file_name("checked-again.json"));
    let out = engine(&["merge", checked.to_str().unwrap(), again.to_str().unwrap(), "-o", merged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(result(&merged)["tls_verified"], true);
    let out = engine(&["merge", checked.to_str().unwrap(), insecure.to_str().unwrap(), "-o", merged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(result(&merged)["tls_verified"], false, "one insecure input makes the whole unverified");
}

/// `MITE_SEGMENT=x` was reported as `--segment "x"`: a flag the user never typed.
#[test]
fn a_bad_mite_segment_is_blamed_on_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--scenario", "nothing.toml"])
        .env("MITE_SEGMENT", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.starts_with("error: MITE_SEGMENT \"x\": expected K/N"), "{said}");
    assert!(said.contains("stands for --segment"), "{said}");
    // The flag given on the command line wins, and is the one blamed.
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--scenario", "nothing.toml", "--segment", "3/2"])
        .env("MITE_SEGMENT", "0/2")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: --segment \"3/2\": need 0 <= K < N"));
}

/// `MITE_SEGMENT=x mite-engine list` failed (clap read the variable for every command): it
/// matters to a load run only, and every other command runs as without it.
#[test]
fn mite_segment_does_not_touch_commands_without_a_segment() {
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine")).arg("list").env("MITE_SEGMENT", "x").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("scenarios:"), "{}", text(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["scenario", "check", "http_example:scenario"])
        .env("MITE_SEGMENT", "9/2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("MITE_SEGMENT"), "{}", text(&out));
}

/// A linger without its server was accepted and did nothing; it is a usage error now.
#[test]
fn a_linger_without_its_server_is_a_usage_error() {
    for (linger, server) in [("--dashboard-linger", "--dashboard"), ("--prometheus-linger", "--prometheus")] {
        let out = engine(&["--scenario", "nothing.toml", linger, "5s"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        let expected = format!("error: {linger} \"5s\": there is nothing to keep serving without {server}");
        assert!(said.starts_with(&expected), "{said}");
    }
}

/// A journey or datapool name holding an escape sequence and a line break is written out in
/// the warnings of a run and of `scenario check`: it forged a `WARNING:` line of its own.
#[test]
fn names_in_warnings_cannot_forge_lines_or_recolour_the_terminal() {
    let scratch = Scratch::new();
    let path = scratch.write(
        "names.toml",
        r#"[datapools."p\u001b[31m\nWARNING: forged pool"]
rows = [["a"]]
columns = ["x"]
[journeys."j\u001b[2J\nWARNING: forged journey"]
steps = [{ transaction = "t", url = "http://127.0.0.1:9/" }]
[[scenario]]
journey = "j\u001b[2J\nWARNING: forged journey"
datapool = "p\u001b[31m\nWARNING: forged pool"
volume = { constant = 3 }
"#,
    );
    let path = path.as_str();
    for out in [
        engine(&["scenario", "check", path]),
        engine(&["--cores", "1", "--no-pin", "--scenario", path, "--duration", "200ms", "-q"]),
    ] {
        let said = text(&out);
        assert!(said.contains(r"j\u{1b}[2J\nWARNING: forged journey"), "{said}");
        assert!(!said.contains('\u{1b}'), "{said}");
        assert!(!said.lines().any(|line| line.starts_with("WARNING: forged")), "{said}");
    }
}

/// `--config base=...` to a registered Rust scenario that reads `target_url` was ignored
/// without a word: after the run (and after `journey test`), each key nothing read is named,
/// with what was read and the closest key.
#[test]
fn a_config_key_a_rust_scenario_never_read_is_named_after_the_run() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let url = format!("target_url={}", target.url("/"));
    let run =
        login_example_run(&target, "500ms", &["--config", "journeys=2", "--config", "taget_url=http://127.0.0.1:1/"]);
    let out = engine(&run.iter().map(String::as_str).collect::<Vec<_>>());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        said.contains(
            "WARNING: --config taget_url=http://127.0.0.1:1/ was never read by the scenario (it read: journeys, \
             target_url); did you mean \"target_url\"?"
        ),
        "{said}"
    );
    assert_eq!(said.matches("never read").count(), 1, "journeys and target_url were read:\n{said}");
    let test = ["journey", "test", "login_example:journey", "login_example:users", "--rows", "1"];
    let out = engine(&[&test[..], &["--config", url.as_str(), "--config", "base=x"]].concat());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        said.contains("WARNING: --config base=x was never read by journey login_example:journey (it read: target_url)"),
        "{said}"
    );
}

/// The arguments of a quiet run of the registered `login_example:scenario` on one core against
/// `target` (its `target_url`) for `duration`, then `more`.
fn login_example_run(target: &Target, duration: &str, more: &[&str]) -> Vec<String> {
    let url = format!("target_url={}", target.url("/"));
    let run = ["--scenario", "login_example:scenario", "--cores", "1", "--no-pin", "--duration", duration, "-q"];
    run.iter().copied().chain(["--config", url.as_str()]).chain(more.iter().copied()).map(String::from).collect()
}

/// A run of a Rust scenario with a `--config` key and a `MITE_CONF_*` variable that nothing
/// read: `(stderr, result file)`; `env` is the variable set.
fn run_with_unread_keys(target: &Target, json: &std::path::Path, env: &str) -> (String, serde_json::Value) {
    let run = login_example_run(target, "300ms", &["--config", "base=x y", "--json", json.to_str().unwrap()]);
    let out =
        Command::new(env!("CARGO_BIN_EXE_mite-engine")).args(run).env(env, "http://127.0.0.1:1/").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    (String::from_utf8_lossy(&out.stderr).into_owned(), result(json))
}

/// `MITE_CONF_taget_url` beside a Rust scenario was taken without a word, and the warnings of
/// `--config` keys went to the terminal alone: the variable is named as set, a value with a
/// space is said in double quotes, both are kept in the result file's `warnings`, and `merge`
/// keeps each input's, once, naming the input of one that not every input has.
#[test]
fn unread_keys_and_variables_are_named_and_kept_in_the_result_file_and_its_merge() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let (a, b, merged) = (scratch.file("a.json"), scratch.file("b.json"), scratch.file("m.json"));
    let (said, file) = run_with_unread_keys(&target, &a, "MITE_CONF_taget_url");
    let variable = "MITE_CONF_taget_url=http://127.0.0.1:1/ was never read by the scenario (it read: journeys, \
                    target_url); did you mean \"target_url\"?";
    let flag = "--config \"base=x y\" was never read by the scenario (it read: journeys, target_url)";
    for warning in [variable, flag] {
        assert!(said.contains(&format!("WARNING: {warning}")), "{said}");
    }
    assert_eq!(file["warnings"], serde_json::json!([variable, flag]));
    // Another injector whose environment set another variable.
    let (_, other) = run_with_unread_keys(&target, &b, "MITE_CONF_target_ur");
    let near = "MITE_CONF_target_ur=http://127.0.0.1:1/ was never read by the scenario (it read: journeys, \
                target_url); did you mean \"target_url\"?";
    assert_eq!(other["warnings"], serde_json::json!([near, flag]));
    let out = engine(&["merge", a.to_str().unwrap(), b.to_str().unwrap(), "-o", merged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let warnings: Vec<String> = serde_json::from_value(result(&merged)["warnings"].clone()).unwrap();
    // Then the merge's own, as it said them (the runs' windows apart, on a busy machine).
    let own: Vec<String> = text(&out).lines().filter_map(|l| l.strip_prefix("warning: ")).map(String::from).collect();
    assert_eq!(warnings[3..], own[..], "{warnings:?}");
    assert_eq!(warnings[1], flag, "every input has it: said once, as it is");
    assert!(warnings[0].ends_with(&format!("a.json: {variable}")), "{warnings:?}");
    assert!(warnings[2].ends_with(&format!("b.json: {near}")), "{warnings:?}");
    // A run that warned of nothing writes no `warnings`.
    let quiet = scratch.file("quiet.json");
    let url = format!("target_url={}", target.url("/"));
    let get = support::scenario("get.toml");
    let args = ["--cores", "1", "--no-pin", "-q", "--scenario", &get, "--duration", "300ms", "--config", &url];
    let out = engine(&[&args[..], &["--json", quiet.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(result(&quiet).get("warnings"), None);
}

/// The response-head limit could be raised by `--max-head-bytes` alone: a scenario file's
/// `[client] max_head_bytes = "256KiB"` reads a 200 KiB head that the default refuses, the
/// flag wins over it, and a bad size is refused at its line.
#[test]
fn the_scenario_files_max_head_bytes_reads_a_large_head_and_the_flag_wins() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let with = |size: &str| {
        let path = scratch.file(&format!("head-{}.toml", size.len()));
        let toml = std::fs::read_to_string(support::scenario("get.toml")).unwrap();
        std::fs::write(&path, toml.replace("[config]", &format!("[client]\nmax_head_bytes = {size}\n\n[config]")))
            .unwrap();
        path.display().to_string()
    };
    let url = format!("target_url={}", target.url("/bad/huge-headers"));
    let run = |file: &str, extra: &[&str]| {
        let args = ["--cores", "1", "--no-pin", "-q", "--scenario", file, "--duration", "1s", "--config", &url];
        engine(&[&args[..], &["--threshold", "errors<1%"], extra].concat())
    };
    let out = run(&support::scenario("get.toml"), &[]);
    assert_eq!(out.status.code(), Some(3), "the default refuses the head: {}", text(&out));
    let raised = with("\"256KiB\"");
    let out = run(&raised, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(&raised, &["--max-head-bytes", "64KiB"]);
    assert_eq!(out.status.code(), Some(3), "the flag wins over the file: {}", text(&out));
    assert!(text(&out).contains("response head larger than 65536 bytes"), "{}", text(&out));
    let bad = with("\"64k\"");
    let out = run(&bad, &[]);
    assert_eq!(out.status.code(), Some(1), "a scenario file refused, as any: {}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!(
            "{bad}:7: client.max_head_bytes: \"64k\": must be from 1 to 16,777,216 bytes (16MiB), as a whole number"
        )),
        "{said}"
    );
    assert!(said.contains("e.g. max_head_bytes = \"64KiB\""), "{said}");
}

/// Outside try: the warnings not about configuration (`--insecure`, a datapool too small for
/// its journeys, an entry that runs nothing) were said on the terminal and not kept: a result
/// read later did not say what the terminal said. Every warning said is now in the result
/// file's `warnings`, in the order said, for a run, `journey run` and `merge`.
#[test]
fn every_warning_said_is_kept_in_the_result_file() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let scenario = warned_scenario(&scratch, &target);
    let json = scratch.file("warned.json");
    let out = engine(&[
        "--cores",
        "1",
        "--no-pin",
        "-q",
        "--scenario",
        scenario.as_str(),
        "--duration",
        "300ms",
        "--insecure",
        "--json",
        json.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{said}");
    let kept: Vec<String> = serde_json::from_value(result(&json)["warnings"].clone()).unwrap();
    let shown: Vec<&str> =
        said.lines().filter_map(|line| line.strip_prefix("WARNING: ")).filter(|w| !w.contains(SATURATED)).collect();
    assert_eq!(shown.len(), 3, "{said}");
    assert_eq!(kept.len(), shown.len(), "{kept:?}\n{said}");
    for (kept, shown) in kept.iter().zip(&shown) {
        assert!(kept.starts_with(shown), "kept {kept:?}, said {shown:?}");
    }
    assert!(kept.iter().any(|w| w == "--insecure: TLS certificates are NOT verified"), "{kept:?}");
    // `journey run`, through the same run loop.
    let one = scratch.file("one.json");
    let out =
        engine(&["journey", "run", "get", "--scenario", &scenario, "--insecure", "--json", one.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(result(&one)["warnings"], serde_json::json!(["--insecure: TLS certificates are NOT verified"]));
    // A merge keeps its inputs' and its own (`warning: ...` on the terminal).
    let again = support::as_another_run(&json, &json.with_file_name("again.json"));
    // Another injector's engine, of another version: the merge warns of it.
    let mut other: serde_json::Value = result(&again);
    other["mite_engine_version"] = "0.0.1".into();
    std::fs::write(&again, other.to_string()).unwrap();
    let merged = scratch.file("merged.json");
    let out = engine(&["merge", json.to_str().unwrap(), again.to_str().unwrap(), "-o", merged.to_str().unwrap()]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let kept: Vec<String> = serde_json::from_value(result(&merged)["warnings"].clone()).unwrap();
    let own: Vec<&str> = said.lines().filter_map(|line| line.strip_prefix("warning: ")).collect();
    assert!(own.iter().any(|w| w.starts_with("parts of different engine versions: ")), "{said}");
    assert_eq!(kept.len(), 3 + own.len(), "{kept:?}\n{said}");
    assert!(own.iter().all(|w| kept.iter().any(|k| k == w)), "{kept:?}\n{said}");
}
