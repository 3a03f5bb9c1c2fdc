//! Figures with nothing behind them read null in the result file, not 0: a run whose every
//! request was refused, and a plain-HTTP run (no TLS handshake); and a file of the first format
//! (its zeros) still reads in `compare` and `merge`.

mod support;
use support::{Scratch, engine, scenario, text};

use std::path::Path;

use mite_tools::{Target, TargetOptions};
use serde_json::{Value, json};

/// A 1 s run of one GET journey at `url`, its result written to `json`.
fn run(url: &str, json: &Path) -> std::process::Output {
    let url = format!("target_url={url}");
    let get = scenario("get.toml");
    let json = json.to_str().unwrap();
    engine(&["--cores", "1", "--no-pin", "--scenario", &get, "--duration", "1s", "--config", &url, "--json", json])
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A port on 127.0.0.1 nothing listens on: connects to it are refused.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

const LATENCY_FIGURES: [&str; 7] = ["min", "mean", "p50", "p90", "p99", "p999", "max"];

fn assert_no_latency(latency: &Value) {
    assert_eq!(latency["count"], 0, "{latency}");
    for figure in LATENCY_FIGURES {
        assert!(latency[figure].is_null(), "{figure} of no value: {latency}");
    }
}

#[test]
fn a_run_with_only_refused_connects_writes_null_where_nothing_was_measured() {
    let scratch = Scratch::new();
    let json = scratch.file("dead.json");
    let out = run(&format!("http://127.0.0.1:{}/", dead_port()), &json);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(!said.contains("0.00ms"), "no time of 0 shown: {said}");
    let file = read(&json);
    assert_eq!(file["format_version"], 2);
    assert!(file["totals"]["errors_by_kind"]["refused"].as_u64().unwrap() > 0, "{}", file["totals"]);
    assert_eq!(file["totals"]["requests"], 0);
    assert_no_latency(&file["totals"]["latency_us"]);
    let requests = &file["transactions"][0]["requests"];
    assert_no_latency(&requests["latency_us"]);
    for mean in ["connect_us_mean", "tls_us_mean", "first_byte_us_mean"] {
        assert!(requests[mean].is_null(), "{mean} over nothing: {requests}");
    }
    let intervals = file["intervals"].as_array().unwrap();
    assert!(!intervals.is_empty());
    for interval in intervals {
        assert_eq!(interval["requests"], 0, "{interval}");
        // No request answered: the figures are the failed transactions' durations, null
        // exactly where no transaction was timed either (`latency` null).
        let none = interval["latency"].is_null();
        assert_eq!((interval["p50_us"].is_null(), interval["p99_us"].is_null()), (none, none), "{interval}");
    }
}

#[test]
fn a_plain_http_run_has_no_tls_mean_and_an_old_format_still_compares_and_merges() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let (plain, dead) = (scratch.file("plain.json"), scratch.file("dead.json"));
    let out = run(&target.url("/"), &plain);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let file = read(&plain);
    let requests = &file["transactions"][0]["requests"];
    assert_eq!(requests["tls_handshakes"]["attempted"], 0, "{requests}");
    assert!(requests["tls_us_mean"].is_null(), "no handshake, no mean: {requests}");
    assert!(requests["connect_us_mean"].as_f64().is_some() && requests["first_byte_us_mean"].as_f64().is_some());
    assert!(file["totals"]["latency_us"]["p50"].as_u64().is_some(), "{}", file["totals"]);

    // The refused run, as the first format wrote it: 0 where nothing was measured.
    let out = run(&format!("http://127.0.0.1:{}/", dead_port()), &dead);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut old = read(&dead);
    as_first_version(&mut old);
    old["format_version"] = json!(1);
    assert_eq!(old["totals"]["latency_us"]["p99"], 0);
    let old_path = scratch.file("old.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let (plain, old_path) = (plain.to_str().unwrap(), old_path.to_str().unwrap());

    let out = engine(&["compare", old_path, plain, "--max-regression", "1000000%"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let merged = scratch.file("merged.json");
    let out = engine(&["merge", old_path, plain, "-o", merged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let merged = read(&merged);
    assert_eq!(merged["format_version"], 2);
    let attempts = |v: &Value| v["totals"]["attempts"].as_u64().unwrap();
    assert_eq!(attempts(&merged), attempts(&old) + attempts(&file));
    assert!(merged["totals"]["errors_by_kind"]["refused"].as_u64() > Some(0), "{}", merged["totals"]);

    // The same first-format result framed in a pod's log (`--json=-`), merged from the log.
    let log = scratch.file("pod.log");
    let framed = mite_core::output::result_frame::encode(&old.to_string(), None);
    std::fs::write(&log, format!("running on cores [0]\n{framed}\nresult written to standard output\n")).unwrap();
    let from_log = scratch.file("from-log.json");
    let out = engine(&["merge", log.to_str().unwrap(), plain, "-o", from_log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(attempts(&read(&from_log)), attempts(&merged));
}

/// `value` as the first format wrote it: 0 for every figure of no data.
fn as_first_version(value: &mut Value) {
    const ZEROED: [&str; 15] = [
        "min",
        "mean",
        "p50",
        "p90",
        "p99",
        "p999",
        "max",
        "connect_us_mean",
        "tls_us_mean",
        "first_byte_us_mean",
        "busy_percent_mean",
        "busy_percent_max",
        "p50_us",
        "p99_us",
        "injector_lag_p99_us",
    ];
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if field.is_null() && ZEROED.contains(&key.as_str()) {
                    *field = json!(0);
                } else {
                    as_first_version(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(as_first_version),
        _ => {}
    }
}
