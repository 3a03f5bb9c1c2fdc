//! Result files read back: the histograms travel inside them (base64 of the compressed HDR V2
//! encoding), so results from several runs or injectors merge losslessly, and two results
//! compare transaction by transaction.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde_json::{Map, Value, json};

use crate::exec::injector_load::InjectorLoad;
use crate::exec::runtime::Driver;
use crate::output::outcome::{RunResult, StopReason};
use crate::output::units::grouped;
use crate::stats::{ErrorKind, JourneyCounts, Merged, TxnStats};

/// Encodes a histogram for a result file.
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut bytes).expect("serializing into memory cannot fail");
    BASE64.encode(bytes)
}

/// Decodes a histogram from a result file.
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = BASE64.decode(text).map_err(|e| format!("histogram is not base64: {e}"))?;
    let mut h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram does not decode: {e:?}"))?;
    h.auto(true);
    Ok(h)
}

/// Every counter and histogram of a transaction, for `merge`.
pub fn raw_json(stats: &TxnStats) -> Value {
    let errors: Map<String, Value> = ErrorKind::ALL
        .iter()
        .filter(|k| stats.errors_of(**k) > 0)
        .map(|k| (k.name().to_string(), json!(stats.errors_of(*k))))
        .collect();
    json!({
        "txn_us": encode_histogram(&stats.txn_us),
        "req_us": encode_histogram(&stats.req_us),
        "txn_us_corrected": encode_histogram(&stats.txn_us_corrected),
        "req_us_corrected": encode_histogram(&stats.req_us_corrected),
        "txn_ok": stats.txn_ok,
        "txn_err": stats.txn_err,
        "req_ok": stats.req_ok,
        "req_err": errors,
        "not_sent": stats.not_sent,
        "status_class": stats.status_class,
        "status_codes": crate::output::report::status_codes_json(stats),
        "reconnects": stats.reconnects,
        "connects": stats.connects,
        "connects_failed": stats.connects_failed,
        "connect_us_sum": stats.connect_us_sum,
        "tls_handshakes": stats.tls_handshakes,
        "tls_failed": stats.tls_failed,
        "tls_us_sum": stats.tls_us_sum,
        "tls_resumed": stats.tls_resumed,
        "first_byte_us_sum": stats.first_byte_us_sum,
        "body_bytes": stats.body_bytes,
        "http": stats.http.raw_json(),
        "ws": if stats.ws.is_empty() { Value::Null } else { stats.ws.raw_json() },
        "sent_bytes": stats.sent_bytes,
    })
}

fn field_u64(value: &Value, key: &str, at: &str) -> Result<u64, String> {
    value.get(key).and_then(Value::as_u64).ok_or_else(|| format!("{at}: missing or bad {key:?}"))
}

fn raw_stats(raw: &Value, at: &str) -> Result<TxnStats, String> {
    let hist = |key: &str| -> Result<Histogram<u64>, String> {
        let text = raw.get(key).and_then(Value::as_str).ok_or_else(|| format!("{at}: missing {key:?}"))?;
        decode_histogram(text).map_err(|e| format!("{at}.{key}: {e}"))
    };
    let mut stats = TxnStats {
        txn_us: hist("txn_us")?,
        req_us: hist("req_us")?,
        txn_us_corrected: hist("txn_us_corrected")?,
        req_us_corrected: hist("req_us_corrected")?,
        txn_ok: field_u64(raw, "txn_ok", at)?,
        txn_err: field_u64(raw, "txn_err", at)?,
        req_ok: field_u64(raw, "req_ok", at)?,
        reconnects: field_u64(raw, "reconnects", at)?,
        connects: field_u64(raw, "connects", at)?,
        connect_us_sum: field_u64(raw, "connect_us_sum", at)?,
        tls_handshakes: field_u64(raw, "tls_handshakes", at)?,
        tls_us_sum: field_u64(raw, "tls_us_sum", at)?,
        tls_resumed: field_u64(raw, "tls_resumed", at)?,
        first_byte_us_sum: field_u64(raw, "first_byte_us_sum", at)?,
        body_bytes: field_u64(raw, "body_bytes", at)?,
        // Absent from results written before these were counted: nothing was counted then.
        not_sent: raw.get("not_sent").and_then(Value::as_u64).unwrap_or(0),
        connects_failed: raw.get("connects_failed").and_then(Value::as_u64).unwrap_or(0),
        tls_failed: raw.get("tls_failed").and_then(Value::as_u64).unwrap_or(0),
        http: crate::stats::http_metrics::HttpMetrics::from_raw(raw.get("http"), at)?,
        ws: crate::ws::stats::WsStats::from_raw(raw.get("ws").filter(|v| !v.is_null()), at)?,
        // Result files written before sent bytes were counted have none.
        sent_bytes: raw.get("sent_bytes").and_then(Value::as_u64).unwrap_or(0),
        ..TxnStats::default()
    };
    if let Some(errors) = raw.get("req_err").and_then(Value::as_object) {
        for (name, count) in errors {
            let kind = ErrorKind::from_name(name).ok_or_else(|| format!("{at}: unknown error kind {name:?}"))?;
            stats.add_errors(kind, count.as_u64().ok_or_else(|| format!("{at}: bad count for {name}"))?);
        }
    }
    let classes =
        raw.get("status_class").and_then(Value::as_array).ok_or_else(|| format!("{at}: missing status_class"))?;
    for (i, count) in classes.iter().enumerate().take(6) {
        stats.status_class[i] = count.as_u64().unwrap_or(0);
    }
    // Absent from result files written before exact codes were counted.
    if let Some(codes) = raw.get("status_codes").and_then(Value::as_object) {
        for (code, count) in codes {
            let code: u16 = code.parse().map_err(|_| format!("{at}: status code {code:?} is not a number"))?;
            stats.add_status_code(code, count.as_u64().ok_or_else(|| format!("{at}: bad count for status {code}"))?);
        }
    }
    Ok(stats)
}

/// The injector's lag histogram and busy figures; results written before they existed have none.
fn injector_raw(raw: &Value, name: &str) -> Result<InjectorLoad, String> {
    let at = format!("{name}: injector.raw");
    let lag = raw.get("lag_us").and_then(Value::as_str).ok_or_else(|| format!("{at}: missing \"lag_us\""))?;
    Ok(InjectorLoad {
        lag_us: decode_histogram(lag).map_err(|e| format!("{at}.lag_us: {e}"))?,
        busy_us: field_u64(raw, "busy_us", &at)?,
        wall_us: field_u64(raw, "wall_us", &at)?,
        busy_percent_max: raw.get("busy_percent_max").and_then(Value::as_f64).unwrap_or(0.0),
    })
}

/// Reads a result file (as written by `--json`) back into a run result.
pub fn read_result(json: &Value, name: &str) -> Result<RunResult, String> {
    let mut merged = Merged::default();
    let transactions = json["transactions"].as_array().ok_or_else(|| format!("{name}: no transactions array"))?;
    for (i, txn) in transactions.iter().enumerate() {
        let at = format!("{name}: transactions[{i}]");
        let txn_name = txn["name"].as_str().ok_or_else(|| format!("{at}: no name"))?;
        let raw = txn.get("raw").ok_or_else(|| {
            format!("{at}: no raw histograms (written by an older mite-engine?); cannot merge losslessly")
        })?;
        merged.txns.insert(Arc::from(txn_name), raw_stats(raw, &at)?);
    }
    let journeys = &json["totals"]["journeys"];
    merged.journeys = JourneyCounts {
        started: journeys["started"].as_u64().unwrap_or(0),
        ok: journeys["ok"].as_u64().unwrap_or(0),
        failed: journeys["failed"].as_u64().unwrap_or(0),
        cancelled: journeys["cancelled"].as_u64().unwrap_or(0),
        scheduled: journeys["scheduled"].as_u64().unwrap_or(0),
        arrivals_started: journeys["arrivals_started"].as_u64().unwrap_or(0),
        missed: journeys["missed"].as_u64().unwrap_or(0),
    };
    if let Some(messages) = json["messages"].as_object() {
        for (kind, count) in messages {
            merged.messages.insert(Arc::from(kind.as_str()), count.as_u64().unwrap_or(0));
        }
    }
    if let Some(raw) = json["injector"].get("raw") {
        merged.injector = injector_raw(raw, name)?;
    }
    let drivers = json["drivers"]
        .as_array()
        .map(|d| {
            d.iter().map(|v| if v.as_str() == Some("io_uring") { Driver::IoUring } else { Driver::Epoll }).collect()
        })
        .unwrap_or_default();
    Ok(RunResult {
        scenario: json["scenario"].as_str().unwrap_or("").to_string(),
        cores: json["cores"]
            .as_array()
            .map(|c| c.iter().filter_map(|v| v.as_u64()).map(|v| v as usize).collect())
            .unwrap_or_default(),
        drivers,
        fallbacks: Vec::new(),
        started_at_unix_s: json["started_at_unix_s"].as_f64().unwrap_or(0.0),
        duration_s: json["duration_s"].as_f64().ok_or_else(|| format!("{name}: no duration_s"))?,
        stopped_by: match json["stopped_by"].as_str() {
            Some("completed") => StopReason::Completed,
            Some("interrupted") => StopReason::Interrupted,
            _ => StopReason::Duration,
        },
        merged,
        intervals: Vec::new(),
        segment: json["segment"].as_str().map(str::to_string),
    })
}

/// Merges results of runs that happened side by side (segments, injectors): counters add,
/// histograms merge exactly; the duration is the longest; cores and drivers are listed in
/// order. Per-interval progress is not merged.
pub fn merge(results: &[RunResult]) -> Result<RunResult, String> {
    let first = results.first().ok_or("nothing to merge")?;
    let mut merged = Merged::default();
    let mut cores = Vec::new();
    let mut drivers = Vec::new();
    for result in results {
        merged.merge(&result.merged);
        cores.extend(&result.cores);
        drivers.extend(&result.drivers);
    }
    Ok(RunResult {
        scenario: first.scenario.clone(),
        cores,
        drivers,
        fallbacks: Vec::new(),
        started_at_unix_s: results.iter().map(|r| r.started_at_unix_s).fold(f64::INFINITY, f64::min),
        duration_s: results.iter().map(|r| r.duration_s).fold(0.0, f64::max),
        stopped_by: first.stopped_by,
        merged,
        intervals: Vec::new(),
        segment: None,
    })
}

/// One transaction's figures for comparison.
#[derive(Clone, Copy, Debug, Default)]
struct Figures {
    count: f64,
    rate: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    error_percent: f64,
}

fn figures(txn: &Value, seconds: f64) -> Figures {
    let requests = &txn["requests"];
    // Error rates are over every attempt; results written before `attempts` existed counted
    // every attempt as a request.
    let attempts = requests["attempts"].as_f64().or_else(|| requests["count"].as_f64()).unwrap_or(0.0);
    let (count, attempts, errors, latency) = if attempts > 0.0 {
        (
            requests["count"].as_f64().unwrap_or(0.0),
            attempts,
            requests["errors"].as_f64().unwrap_or(0.0),
            &txn["latency_us"],
        )
    } else {
        let count = txn["count"].as_f64().unwrap_or(0.0);
        (count, count, txn["errors"].as_f64().unwrap_or(0.0), &txn["latency_us"])
    };
    let latency = if txn["latency_us_corrected"].is_object() { &txn["latency_us_corrected"] } else { latency };
    Figures {
        count,
        rate: if seconds > 0.0 { count / seconds } else { 0.0 },
        p50: latency["p50"].as_f64().unwrap_or(0.0),
        p99: latency["p99"].as_f64().unwrap_or(0.0),
        p999: latency["p999"].as_f64().unwrap_or(0.0),
        error_percent: if attempts > 0.0 { errors * 100.0 / attempts } else { 0.0 },
    }
}

fn delta(base: f64, new: f64) -> String {
    if base == 0.0 {
        return if new == 0.0 { "=".into() } else { "new".into() };
    }
    format!("{:+.1}%", (new - base) * 100.0 / base)
}

/// Checks that `json` is a mite-engine result file, saying why not: `{"hello":1}` or `[]`
/// must never compare as "no regression".
pub fn check_result_file(json: &Value, name: &str) -> Result<(), String> {
    let not = |why: &str| Err(format!("{name} is not a mite-engine result: {why}"));
    let Some(object) = json.as_object() else {
        return not("expected a JSON object as written by --json");
    };
    for key in ["mite_engine_version", "duration_s", "totals", "transactions"] {
        if !object.contains_key(key) {
            return not(&format!("no {key:?} field"));
        }
    }
    if !json["duration_s"].is_number() {
        return not("\"duration_s\" is not a number");
    }
    let Some(transactions) = json["transactions"].as_array() else {
        return not("\"transactions\" is not a list");
    };
    for (i, txn) in transactions.iter().enumerate() {
        if !txn["name"].is_string() || !txn["requests"].is_object() {
            return not(&format!("transactions[{i}] has no name or no requests"));
        }
    }
    Ok(())
}

/// Compares two result files. Returns the table and the regressions beyond `max_regression_pct`
/// (latency p50/p99/p99.9 up, rate down, by more than that percentage; error rate up by more
/// than that many percentage points; a transaction of BASE missing from NEW). Latencies are
/// the corrected ones when both have them. Files that are not results are refused.
pub fn compare(base: &Value, new: &Value, max_regression_pct: f64) -> Result<(String, Vec<String>), String> {
    check_result_file(base, "BASE")?;
    check_result_file(new, "NEW")?;
    let seconds = |v: &Value| v["duration_s"].as_f64().unwrap_or(0.0);
    let by_name = |v: &Value| -> BTreeMap<String, Figures> {
        v["transactions"]
            .as_array()
            .map(|txns| {
                txns.iter().filter_map(|t| Some((t["name"].as_str()?.to_string(), figures(t, seconds(v))))).collect()
            })
            .unwrap_or_default()
    };
    let (old, now) = (by_name(base), by_name(new));
    let mut out = String::new();
    let mut regressions = Vec::new();
    let _ = writeln!(
        out,
        "{:<30} {:>12} {:>12} {:>9} {:>10} {:>9} {:>10} {:>9} {:>10} {:>9} {:>8} {:>8}",
        "transaction",
        "count",
        "rate/s",
        "Δrate",
        "p50 ms",
        "Δp50",
        "p99 ms",
        "Δp99",
        "p99.9 ms",
        "Δp99.9",
        "err %",
        "Δerr pp"
    );
    let names: std::collections::BTreeSet<&String> = old.keys().chain(now.keys()).collect();
    for name in names {
        let (Some(a), Some(b)) = (old.get(name), now.get(name)) else {
            let _ = writeln!(out, "{name:<30} only in {}", if old.contains_key(name) { "BASE" } else { "NEW" });
            if old.contains_key(name) {
                // What BASE measured and NEW did not run at all is the worst regression.
                regressions.push(format!("{name}: in BASE, missing from NEW"));
            }
            continue;
        };
        let _ = writeln!(
            out,
            "{:<30} {:>12} {:>12.1} {:>9} {:>10.2} {:>9} {:>10.2} {:>9} {:>10.2} {:>9} {:>8.3} {:>+8.3}",
            name,
            grouped(b.count as u64),
            b.rate,
            delta(a.rate, b.rate),
            b.p50 / 1000.0,
            delta(a.p50, b.p50),
            b.p99 / 1000.0,
            delta(a.p99, b.p99),
            b.p999 / 1000.0,
            delta(a.p999, b.p999),
            b.error_percent,
            b.error_percent - a.error_percent
        );
        let worse = |base: f64, new: f64| base > 0.0 && (new - base) * 100.0 / base > max_regression_pct;
        for (label, base_value, new_value) in [("p50", a.p50, b.p50), ("p99", a.p99, b.p99), ("p99.9", a.p999, b.p999)]
        {
            if worse(base_value, new_value) {
                regressions.push(format!(
                    "{name}: {label} {}ms -> {}ms ({})",
                    base_value / 1000.0,
                    new_value / 1000.0,
                    delta(base_value, new_value)
                ));
            }
        }
        if a.rate > 0.0 && (a.rate - b.rate) * 100.0 / a.rate > max_regression_pct {
            regressions.push(format!("{name}: rate {:.1}/s -> {:.1}/s ({})", a.rate, b.rate, delta(a.rate, b.rate)));
        }
        if b.error_percent - a.error_percent > max_regression_pct {
            regressions.push(format!("{name}: errors {:.3}% -> {:.3}%", a.error_percent, b.error_percent));
        }
    }
    Ok((out, regressions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::record_latency;

    #[test]
    fn histograms_round_trip_through_text() {
        let mut h = crate::stats::new_latency_histogram();
        for v in [1, 10, 100, 1000, 123_456, 3_000_000] {
            record_latency(&mut h, v);
        }
        let back = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(back.len(), h.len());
        for q in [0.1, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(back.value_at_quantile(q), h.value_at_quantile(q));
        }
        assert!(decode_histogram("not base64!").is_err());
    }

    fn result_with(names: &[&str]) -> Value {
        let txns: Vec<Value> = names
            .iter()
            .map(|n| {
                json!({ "name": n, "count": 10, "errors": 0, "latency_us": { "p50": 100, "p99": 200, "p999": 300 },
                        "requests": { "count": 10, "errors": 0, "attempts": 10 } })
            })
            .collect();
        json!({ "mite_engine_version": "0", "duration_s": 1.0, "totals": {}, "transactions": txns })
    }

    /// Issue 11: `compare` of `{"hello":1}` or `[]` said "no regression".
    #[test]
    fn compare_refuses_what_is_not_a_result() {
        let good = result_with(&["a"]);
        for bad in [
            json!({"hello": 1}),
            json!([]),
            json!({"mite_engine_version": "0", "duration_s": 1, "totals": {}, "transactions": {}}),
        ] {
            let err = compare(&bad, &good, 5.0).unwrap_err();
            assert!(err.contains("BASE is not a mite-engine result"), "{err}");
            assert!(compare(&good, &bad, 5.0).unwrap_err().contains("NEW is not"));
        }
        assert!(compare(&good, &good, 5.0).unwrap().1.is_empty());
    }

    /// Issue 11: a transaction in BASE and missing from NEW passed.
    #[test]
    fn a_transaction_missing_from_new_is_a_regression() {
        let (_, regressions) = compare(&result_with(&["a", "b"]), &result_with(&["a"]), 5.0).unwrap();
        assert_eq!(regressions, vec!["b: in BASE, missing from NEW".to_string()]);
        let (_, regressions) = compare(&result_with(&["a"]), &result_with(&["a", "c"]), 5.0).unwrap();
        assert!(regressions.is_empty(), "a new transaction is not a regression: {regressions:?}");
    }

    #[test]
    fn raw_stats_round_trip() {
        let mut stats = TxnStats { req_ok: 5, txn_ok: 4, connects: 2, ..TxnStats::default() };
        stats.add_error(ErrorKind::Timeout);
        stats.add_error(ErrorKind::Refused);
        stats.not_sent = 1;
        stats.connects_failed = 1;
        stats.add_status(200);
        record_latency(&mut stats.req_us, 500);
        let back = raw_stats(&raw_json(&stats), "t").unwrap();
        assert_eq!((back.requests(), back.attempts(), back.not_sent), (6, 7, 1));
        assert_eq!(back.connects_failed, 1);
        assert_eq!(back.errors_of(ErrorKind::Timeout), 1);
        assert_eq!(back.status_class, stats.status_class);
        assert_eq!(back.status_codes, stats.status_codes);
        assert_eq!(back.req_us.len(), 1);
    }
}
