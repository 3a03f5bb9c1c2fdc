//! The outputs as a user meets them: a result that could not be written (a full disk) says so
//! and exits 1; `compare` of results of different scenarios says what it compares; a hand-edited
//! result whose figures no run could write is refused, naming the file and the field.

mod support;
use support::{Scratch, engine, scenario, text};

use std::path::Path;

use mite_tools::{Target, TargetOptions};
use serde_json::{Value, json};

/// A 1 s run of one GET journey against `target`, with `extra` flags.
fn run_get(target: &Target, extra: &[&str]) -> std::process::Output {
    let url = format!("target_url={}", target.url("/"));
    let get = scenario("get.toml");
    let mut args = vec!["--cores", "1", "--no-pin", "--scenario", &get, "--duration", "1s", "--config", &url, "-q"];
    args.extend_from_slice(extra);
    engine(&args)
}

/// A full disk (`/dev/full`) under `--json`, `--json=-` and `merge -o`: the error says the
/// result was not written and names the flag; the exit code is 1. Before, the run said
/// `error: --json: writing /dev/full: No space left on device` and `an output could not be
/// written`, and `merge` said only `error: writing /dev/full: ...`.
#[test]
fn a_result_on_a_full_disk_is_said_not_written() {
    assert!(Path::new("/dev/full").exists(), "this test writes to /dev/full");
    let target = Target::start(TargetOptions::default()).unwrap();
    let out = run_get(&target, &["--json", "/dev/full"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("error: --json /dev/full: the result was NOT written: "), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert!(said.contains("the result was not written: exit code 1"), "{said}");
    assert!(!said.contains("result written to"), "{said}");

    let scratch = Scratch::new();
    let (a, b) = (scratch.file("a.json"), scratch.file("b.json"));
    for file in [&a, &b] {
        let out = run_get(&target, &["--json", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let out = engine(&["merge", a.to_str().unwrap(), b.to_str().unwrap(), "-o", "/dev/full"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("-o /dev/full: the merged result was NOT written: "), "{said}");
    assert!(!said.contains("merged 2 results into"), "{said}");
}

/// The framed result on standard output (`--json=-`) onto a full disk.
#[test]
fn a_framed_result_on_a_full_disk_is_said_not_written() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let url = format!("target_url={}", target.url("/"));
    let get = scenario("get.toml");
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "--scenario", &get, "--duration", "1s", "--config", &url, "--json=-"])
        .stdout(full)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("error: --json standard output: the result was NOT written: "), "{said}");
    assert!(said.contains("the result was not written: exit code 1"), "{said}");
}

fn write(scratch: &Scratch, name: &str, value: &Value) -> String {
    let path = scratch.file(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

fn result(scenario: &str, digest: &str, duration_s: f64) -> Value {
    json!({ "mite_engine_version": "0", "format_version": 2, "scenario": scenario, "scenario_digest": digest,
            "duration_s": duration_s, "totals": {},
            "transactions": [{ "name": "t", "count": 10, "errors": 0,
                               "latency_us": { "count": 10, "p50": 100, "p99": 200, "p999": 300 },
                               "requests": { "count": 10, "errors": 0, "attempts": 10 } }] })
}

/// `compare` of a `get` run with a `login` run said only which transactions were in one of
/// them: it says the two ran different scenarios (or different texts of one scenario file).
#[test]
fn compare_says_when_the_scenarios_differ() {
    let scratch = Scratch::new();
    let get = write(&scratch, "get.json", &result("get", "fnv1a64:1", 1.0));
    let login = write(&scratch, "login.json", &result("login", "fnv1a64:2", 1.0));
    let edited = write(&scratch, "edited.json", &result("get", "fnv1a64:3", 1.0));
    let out = engine(&["compare", &get, &login]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("note: BASE and NEW ran different scenarios: BASE \"get\", NEW \"login\""), "{said}");
    let out = engine(&["compare", &get, &edited]);
    let said = text(&out);
    assert!(said.contains("note: BASE and NEW ran different texts of scenario \"get\""), "{said}");
    let out = engine(&["compare", &get, &get]);
    assert!(!text(&out).contains("note:"), "{}", text(&out));
}

/// Hand-edited figures no run writes: a run shorter than a millisecond (its rates a billion
/// times too high), more failures than attempts or than transactions. Before, `compare` read
/// `duration_s: 1e-9` and showed a rate of 10,000,000,000/s; `errors` 10^18 of 0 attempts
/// read as 0 % failed.
#[test]
fn figures_no_run_writes_are_refused_naming_the_field() {
    let scratch = Scratch::new();
    let good = write(&scratch, "good.json", &result("get", "fnv1a64:1", 1.0));
    let short = write(&scratch, "short.json", &result("get", "fnv1a64:1", 1e-9));
    let out = engine(&["compare", &good, &short]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("NEW is not a mite-engine result: duration_s: 0.000000001 is not a run's length"), "{said}");

    let mut failed = result("get", "fnv1a64:1", 1.0);
    failed["transactions"][0]["requests"]["errors"] = json!(1_000_000_000_000_000_000u64);
    let failed = write(&scratch, "failed.json", &failed);
    let out = engine(&["compare", &good, &failed]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("transactions[0].requests.errors: more failed than attempted"), "{said}");

    let mut failed = result("get", "fnv1a64:1", 1.0);
    failed["transactions"][0]["errors"] = json!(11);
    let failed = write(&scratch, "failed-txn.json", &failed);
    let out = engine(&["compare", &failed, &good]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("BASE is not a mite-engine result: transactions[0].errors: more failed than completed"),
        "{said}"
    );
}

/// `compare a.json b.json > table.txt` on a full disk exited 0 (or 4) with nothing written and
/// no word of it: the comparison is its output. It says it was not written, exit 1; a reader
/// that stops early (`| head`) still only cuts it off.
#[test]
fn a_comparison_on_a_full_disk_is_said_not_written() {
    let scratch = Scratch::new();
    let base = write(&scratch, "base.json", &result("get", "fnv1a64:1", 1.0));
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["compare", &base, &base])
        .stdout(full)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("error: the comparison was NOT written to standard output: No space left on device"),
        "{said}"
    );

    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["compare", &base, &base])
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}
