//! Figures with nothing behind them: null in the file (format 2), and the zeros format 1 wrote
//! there read as the same nulls.

use serde_json::{Value, json};

use super::*;
use crate::output::outcome::IntervalPoint;
use crate::output::results::compare;
use crate::stats::record_latency;

/// A run whose every attempt was refused (nothing answered, nothing connected, no probe ran),
/// with one more transaction `answered` when asked.
fn refused_run(answered: bool) -> RunResult {
    let mut refused = TxnStats { connects: 5, connects_failed: 5, not_sent: 5, txn_err: 5, ..TxnStats::default() };
    refused.add_errors(ErrorKind::Refused, 5);
    // Its failed transactions were timed; its requests were not.
    record_latency(&mut refused.txn_us, 300);
    // Connected in 0 µs (rounded down) once, and answered: a mean of 0 is a time here.
    let mut one = TxnStats { req_ok: 1, txn_ok: 1, connects: 1, ..TxnStats::default() };
    one.add_status(200);
    record_latency(&mut one.req_us, 40);
    record_latency(&mut one.txn_us, 40);
    let mut merged = Merged::default();
    merged.txns.insert("refused".into(), refused);
    if answered {
        merged.txns.insert("answered".into(), one);
    }
    let nothing_timed = IntervalPoint { elapsed_s: 1.0, errors: 5, not_sent: 5, ..IntervalPoint::default() };
    RunResult { intervals: vec![nothing_timed], tls_verified: Some(true), ..RunResult::of("refused", merged) }
}

const LATENCY_FIGURES: [&str; 7] = ["min", "mean", "p50", "p90", "p99", "p999", "max"];

#[test]
fn figures_with_nothing_behind_them_are_null() {
    let written = result_file(&refused_run(false), true);
    let file = written.to_value();
    assert_eq!(file["format_version"], 2);
    let refused = &file["transactions"][0];
    assert_eq!(refused["name"], "refused");
    for latency in [&file["totals"]["latency_us"], &refused["requests"]["latency_us"], &file["injector"]["lag_us"]] {
        assert_eq!(latency["count"], 0, "{latency}");
        for figure in LATENCY_FIGURES {
            assert!(latency[figure].is_null(), "{figure}: {latency}");
        }
    }
    assert!(refused["requests"]["phases_us"]["total"]["p50"].is_null(), "{refused}");
    assert_eq!(refused["latency_us"]["p50"], 300, "failed transactions are timed");
    for mean in ["connect_us_mean", "tls_us_mean", "first_byte_us_mean"] {
        assert!(refused["requests"][mean].is_null(), "{mean}: {refused}");
    }
    let both = result_file(&refused_run(true), true).to_value();
    let answered = &both["transactions"][0]["requests"];
    assert_eq!((answered["connect_us_mean"].as_f64(), answered["tls_us_mean"].as_f64()), (Some(0.0), None));
    assert!(answered["first_byte_us_mean"].is_number(), "{answered}");
    assert!(file["injector"]["busy_percent_mean"].is_null() && file["injector"]["busy_percent_max"].is_null());
    let interval = &file["intervals"][0];
    for figure in ["p50_us", "p99_us", "injector_lag_p99_us", "latency"] {
        assert!(interval[figure].is_null(), "{figure}: {interval}");
    }
    // The nulls read back as they were written.
    assert_eq!(ResultFile::read(&written.to_json_pretty(), "run.json").unwrap(), written);
}

/// `value` as format 1 wrote it: 0 where format 2 writes null for no data.
fn as_first_version(value: &mut Value) {
    const ZERO_WHEN_NONE: [&str; 13] = [
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
        "injector_lag_p99_us",
    ];
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                let zeroed = ZERO_WHEN_NONE.contains(&key.as_str()) || key == "p50_us" || key == "p99_us";
                if field.is_null() && zeroed {
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

#[test]
fn a_first_version_file_reads_its_zeros_of_no_data_as_none() {
    let written = result_file(&refused_run(true), true);
    let mut old = written.to_value();
    as_first_version(&mut old);
    old["format_version"] = json!(1);
    assert_eq!(old["transactions"][1]["requests"]["latency_us"]["p50"], 0);
    assert_eq!(old["intervals"][0]["p50_us"], 0);
    let read = ResultFile::read(&old.to_string(), "old.json").unwrap();
    assert_eq!(read.format_version, 1, "the version it was written in");
    assert_eq!(ResultFile { format_version: FORMAT_VERSION, ..read.clone() }, written);
    // A mean of 0 over a count is a time, in either version.
    assert_eq!(read.transactions[0].requests.connect_us_mean, Some(0.0));

    // Compared and merged beside a file of this version, as one.
    let (table, regressions) = compare(&read, &written, 5.0);
    assert!(regressions.is_empty(), "{regressions:?}\n{table}");
    let merged =
        crate::output::results::merge(&[read_run(&read, "old.json").unwrap(), read_run(&written, "new.json").unwrap()]);
    assert_eq!(merged.unwrap().merged.total().attempts(), 12);
}

/// A hand-edited file: a latency with figures beside a count of 0 has none; one with a count
/// and a figure left out has that one missing, the others kept; one with no count (a file
/// made by hand) has its figures as written.
#[test]
fn latency_figures_are_read_with_their_count() {
    let latency = |text: &str| -> Latency { serde_json::from_str(text).unwrap() };
    assert_eq!(latency(r#"{"count": 0, "p50": 7, "mean": 7.0}"#), Latency::default());
    assert_eq!(latency(r#"{"p50": 7}"#).p50, Some(7));
    let partial = latency(r#"{"count": 3, "p50": 7, "p99": null}"#);
    assert_eq!((partial.p50, partial.p99, partial.max), (Some(7), None, None));
}
