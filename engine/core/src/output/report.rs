//! Results for people and programs: the end-of-run table and the JSON result file.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};

use crate::exec::injector_load::InjectorLoad;
use crate::output::outcome::RunResult;
use crate::output::units::{bytes, grouped, mean, ms, percent, rate, short_us};
use crate::stats::{ErrorKind, Merged, TxnStats};

pub(crate) fn quantile(h: &Histogram<u64>, q: f64) -> u64 {
    if h.is_empty() { 0 } else { h.value_at_quantile(q) }
}

pub(crate) fn latency_json(h: &Histogram<u64>) -> Value {
    json!({
        "count": h.len(),
        "min": if h.is_empty() { 0 } else { h.min() },
        "mean": if h.is_empty() { 0.0 } else { (h.mean() * 10.0).round() / 10.0 },
        "p50": quantile(h, 0.5),
        "p90": quantile(h, 0.9),
        "p99": quantile(h, 0.99),
        "p999": quantile(h, 0.999),
        "max": if h.is_empty() { 0 } else { h.max() },
    })
}

/// Corrected latencies exist only for open-model (arrival-rate) runs.
fn corrected_json(h: &Histogram<u64>) -> Value {
    if h.is_empty() { Value::Null } else { latency_json(h) }
}

fn arrivals_json(journeys: &crate::stats::JourneyCounts, seconds: f64) -> Value {
    if journeys.scheduled == 0 {
        return Value::Null;
    }
    // Every arrival that came due is counted once in `scheduled`, and ends as started or missed.
    let requested = journeys.scheduled;
    json!({
        "requested": requested,
        "started": journeys.arrivals_started,
        "missed": journeys.missed,
        "requested_per_s": rate(requested, seconds),
        "achieved_per_s": rate(journeys.arrivals_started, seconds),
    })
}

fn errors_by_kind(stats: &TxnStats) -> Value {
    let mut map = Map::new();
    for kind in ErrorKind::ALL {
        let count = stats.errors_of(kind);
        if count > 0 {
            map.insert(kind.name().to_string(), json!(count));
        }
    }
    Value::Object(map)
}

fn status_json(stats: &TxnStats) -> Value {
    let mut map = Map::new();
    for (class, &count) in stats.status_class.iter().enumerate() {
        if count > 0 {
            let name = if class == 0 { "other".to_string() } else { format!("{class}xx") };
            map.insert(name, json!(count));
        }
    }
    Value::Object(map)
}

/// Connection work: every attempt counted, failed ones apart.
fn connections_json(stats: &TxnStats) -> (Value, Value) {
    (
        json!({ "attempted": stats.connects, "failed": stats.connects_failed }),
        json!({ "attempted": stats.tls_handshakes, "failed": stats.tls_failed, "resumed": stats.tls_resumed }),
    )
}

/// Responses by exact status code, in code order: `{"200": 1204, "503": 602}`.
pub fn status_codes_json(stats: &TxnStats) -> Value {
    let mut codes = stats.status_codes.clone();
    codes.sort_unstable();
    Value::Object(codes.into_iter().map(|(code, n)| (code.to_string(), json!(n))).collect())
}

fn requests_json(stats: &TxnStats, seconds: f64) -> Value {
    let (connects, tls_handshakes) = connections_json(stats);
    json!({
        "count": stats.requests(),
        "ok": stats.req_ok,
        "errors": stats.req_errors(),
        "not_sent": stats.not_sent,
        "attempts": stats.attempts(),
        "errors_by_kind": errors_by_kind(stats),
        "rps": rate(stats.requests(), seconds),
        "status": status_json(stats),
        "status_codes": status_codes_json(stats),
        "latency_us": latency_json(&stats.req_us),
        "latency_us_corrected": corrected_json(&stats.req_us_corrected),
        "reconnects": stats.reconnects,
        "connects": connects,
        "connect_us_mean": mean(stats.connect_us_sum, stats.connects_ok()),
        "tls_handshakes": tls_handshakes,
        "tls_us_mean": mean(stats.tls_us_sum, stats.tls_ok()),
        "tls_resumed": stats.tls_resumed,
        // Every response that came back (ok, or an unexpected status) has a first byte.
        "first_byte_us_mean": mean(stats.first_byte_us_sum, stats.req_ok + stats.errors_of(ErrorKind::Status)),
        "body_bytes": stats.body_bytes,
        "phases_us": phases_json(stats),
        "responses": stats
            .http
            .responses()
            .iter()
            .map(|(method, status, count)| json!({"method": method, "response_code": status, "count": count}))
            .collect::<Vec<_>>(),
        "sent_bytes": stats.sent_bytes,
    })
}

/// Per-phase latency summaries: dns, connect, tls, first_byte, total (µs).
fn phases_json(stats: &TxnStats) -> Value {
    let mut map = Map::new();
    for (name, histogram) in stats.http.phases() {
        map.insert(name.to_string(), latency_json(histogram));
    }
    map.insert("total".to_string(), latency_json(&stats.req_us));
    Value::Object(map)
}

/// The `--phases` view: where each transaction's request time went, phase by phase.
pub fn phases_table(merged: &Merged) -> String {
    let mut out = String::new();
    let width = merged.txns.keys().map(|n| n.len()).max().unwrap_or(11).clamp(11, 60);
    let _ = writeln!(
        out,
        "{:<width$} {:<10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "transaction", "phase", "count", "mean", "p50", "p90", "p99", "max"
    );
    for (name, stats) in &merged.txns {
        if stats.requests() == 0 {
            continue;
        }
        let mut first = true;
        let phases = stats.http.phases().into_iter().chain([("total", &stats.req_us)]);
        for (phase, h) in phases.filter(|(_, h)| !h.is_empty()) {
            let _ = writeln!(
                out,
                "{:<width$} {:<10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
                if first { truncate(name, width) } else { String::new() },
                phase,
                grouped(h.len()),
                ms(h.mean().round() as u64),
                ms(quantile(h, 0.5)),
                ms(quantile(h, 0.9)),
                ms(quantile(h, 0.99)),
                ms(h.max())
            );
            first = false;
        }
    }
    out.push_str(
        "(dns: name resolution, once per host per core; connect, tls: new connections only; first_byte: from \
         writing the request to the first response byte; total: from the start, connect included, to the last byte)\n",
    );
    out
}

/// The result file (schema documented in README.md).
pub fn result_json(result: &RunResult) -> Value {
    result_json_with(result, true)
}

/// The result file, with or without each transaction's `raw` histograms (the live dashboard
/// leaves them out: it draws from the histograms directly).
pub fn result_json_with(result: &RunResult, raw: bool) -> Value {
    let seconds = result.duration_s;
    let total = result.merged.total();
    let (connects, tls_handshakes) = connections_json(&total);
    let transactions: Vec<Value> = result
        .merged
        .txns
        .iter()
        .map(|(name, stats)| {
            json!({
                "name": name.as_ref(),
                "count": stats.transactions(),
                "ok": stats.txn_ok,
                "errors": stats.txn_err,
                "rate": rate(stats.transactions(), seconds),
                "latency_us": latency_json(&stats.txn_us),
                "latency_us_corrected": corrected_json(&stats.txn_us_corrected),
                "requests": requests_json(stats, seconds),
                "websocket": stats.ws.json(seconds),
                "raw": if raw { crate::output::results::raw_json(stats) } else { Value::Null },
            })
        })
        .collect();
    let intervals: Vec<Value> = result
        .intervals
        .iter()
        .map(|p| {
            let mut point = json!({
                "elapsed_s": (p.elapsed_s * 1000.0).round() / 1000.0,
                "requests": p.requests,
                "errors": p.errors,
                "not_sent": p.not_sent,
                "transactions": p.transactions,
                "rps": (p.rps * 10.0).round() / 10.0,
                "p50_us": p.p50_us,
                "p99_us": p.p99_us,
                "journeys_in_flight": p.journeys_in_flight,
                "injector_lag_p99_us": p.lag_p99_us,
                "injector_busy_percent_max": (p.busy_percent_max * 10.0).round() / 10.0,
                "injector_saturated": p.saturated,
            });
            if let Value::Object(fields) = &mut point {
                p.detail.json_fields(fields);
            }
            point
        })
        .collect();
    let messages: Map<String, Value> = result.merged.messages.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({
        "mite_engine_version": env!("CARGO_PKG_VERSION"),
        "scenario": result.scenario,
        "started_at_unix_s": result.started_at_unix_s,
        "duration_s": (seconds * 1000.0).round() / 1000.0,
        "stopped_by": result.stopped_by.name(),
        "cores": result.cores,
        "segment": result.segment,
        "driver": result.driver_name(),
        "drivers": result.drivers.iter().map(|d| d.name()).collect::<Vec<_>>(),
        "driver_fallbacks": result.fallbacks,
        "totals": {
            "requests": total.requests(),
            "ok": total.req_ok,
            "errors": total.req_errors(),
            "not_sent": total.not_sent,
            "attempts": total.attempts(),
            "errors_by_kind": errors_by_kind(&total),
            "rps": rate(total.requests(), seconds),
            "status": status_json(&total),
            "status_codes": status_codes_json(&total),
            "transactions": total.transactions(),
            "transaction_errors": total.txn_err,
            "reconnects": total.reconnects,
            "connects": connects,
            "tls_handshakes": tls_handshakes,
            "body_bytes": total.body_bytes,
            "sent_bytes": total.sent_bytes,
            "latency_us": latency_json(&total.req_us),
            "latency_us_corrected": corrected_json(&total.req_us_corrected),
            "journeys": {
                "started": result.merged.journeys.started,
                "ok": result.merged.journeys.ok,
                "failed": result.merged.journeys.failed,
                "cancelled": result.merged.journeys.cancelled,
                "scheduled": result.merged.journeys.scheduled,
                "arrivals_started": result.merged.journeys.arrivals_started,
                "missed": result.merged.journeys.missed,
            },
            "arrivals": arrivals_json(&result.merged.journeys, seconds),
            "websocket": total.ws.json(seconds),
        },
        "injector": injector_json(&result.merged.injector, request_p50(&total)),
        "transactions": transactions,
        "messages": messages,
        "error_samples": result.merged.error_samples,
        "intervals": intervals,
    })
}

/// The median the injector's lag is weighed against: requests', or transactions' when the
/// journeys made no request.
fn request_p50(total: &TxnStats) -> u64 {
    if total.req_us.is_empty() { quantile(&total.txn_us, 0.5) } else { quantile(&total.req_us, 0.5) }
}

fn injector_json(load: &InjectorLoad, request_p50_us: u64) -> Value {
    json!({
        "lag_us": latency_json(&load.lag_us),
        "busy_percent_mean": (load.busy_percent_mean() * 10.0).round() / 10.0,
        "busy_percent_max": (load.busy_percent_max * 10.0).round() / 10.0,
        "saturated": load.saturated(request_p50_us),
        "raw": {
            "lag_us": crate::output::results::encode_histogram(&load.lag_us),
            "busy_us": load.busy_us,
            "wall_us": load.wall_us,
            "busy_percent_max": load.busy_percent_max,
        },
    })
}

/// The injector's own line in the table: its lag, how busy its cores were, and a warning when
/// it was saturated.
fn injector_line(out: &mut String, load: &InjectorLoad, request_p50_us: u64) {
    if load.lag_us.is_empty() && load.wall_us == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "injector: event-loop lag p50 {} p99 {} max {}; cores busy mean {:.0}%, max {:.0}%",
        short_us(load.lag_at(0.5)),
        short_us(load.lag_at(0.99)),
        short_us(if load.lag_us.is_empty() { 0 } else { load.lag_us.max() }),
        load.busy_percent_mean(),
        load.busy_percent_max
    );
    if load.saturated(request_p50_us) {
        let _ = writeln!(
            out,
            "WARNING: the injector was saturated: latencies above include its own delay (lag p99 {} against a \
             median of {}); add cores, lower the load, keep other work off its cores, or read them as an upper bound",
            short_us(load.lag_at(0.99)),
            short_us(request_p50_us)
        );
    }
}

/// The end-of-run table: one row per transaction, then totals.
pub fn table(merged: &Merged, seconds: f64) -> String {
    let mut out = String::new();
    let width = merged.txns.keys().map(|n| n.len()).max().unwrap_or(11).clamp(11, 60);
    let _ = writeln!(
        out,
        "{:<width$} {:>10} {:>7} {:>10} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "transaction", "count", "errors", "requests", "req err", "req/s", "p50", "p90", "p99", "p99.9", "max"
    );
    for (name, stats) in &merged.txns {
        let h = &stats.txn_us;
        let (p50, p90, p99, p999, max) = if h.is_empty() {
            ("-".into(), "-".into(), "-".into(), "-".into(), "-".into())
        } else {
            (ms(quantile(h, 0.5)), ms(quantile(h, 0.9)), ms(quantile(h, 0.99)), ms(quantile(h, 0.999)), ms(h.max()))
        };
        let _ = writeln!(
            out,
            "{:<width$} {:>10} {:>7} {:>10} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
            truncate(name, width),
            grouped(stats.transactions()),
            grouped(stats.txn_err),
            grouped(stats.requests()),
            grouped(stats.req_errors()),
            grouped(rate(stats.requests(), seconds).round() as u64),
            p50,
            p90,
            p99,
            p999,
            max
        );
    }
    let total = merged.total();
    let _ = writeln!(
        out,
        "\nrequests {} in {:.2}s = {} req/s; ok {}, errors {}{}",
        grouped(total.requests()),
        seconds,
        grouped(rate(total.requests(), seconds).round() as u64),
        grouped(total.req_ok),
        grouped(total.req_errors()),
        if total.not_sent > 0 {
            format!(
                "; not sent {} (failed before a byte was written; {} attempts in all)",
                grouped(total.not_sent),
                grouped(total.attempts())
            )
        } else {
            String::new()
        }
    );
    status_line(&mut out, &total);
    bytes_line(&mut out, &total, seconds);
    errors_block(&mut out, &total, merged);
    if !total.req_us.is_empty() {
        // Failed requests have no response time; transaction durations include failed ones.
        percentile_line(&mut out, "response time (requests answered, any status)", &total.req_us);
    }
    if !total.req_us_corrected.is_empty() || !total.txn_us_corrected.is_empty() {
        let h = if total.req_us_corrected.is_empty() { &total.txn_us_corrected } else { &total.req_us_corrected };
        percentile_line(&mut out, "corrected (from intended start)", h);
    }
    let journeys = &merged.journeys;
    if journeys.scheduled > 0 {
        let requested = journeys.scheduled;
        let _ = writeln!(
            out,
            "arrivals: requested {} ({}/s), started {} ({}/s), missed {}{}",
            grouped(requested),
            grouped(rate(requested, seconds).round() as u64),
            grouped(journeys.arrivals_started),
            grouped(rate(journeys.arrivals_started, seconds).round() as u64),
            grouped(journeys.missed),
            if journeys.missed > 0 {
                " -- the engine could not keep up: raise max_in_flight, add cores, or lower the rate"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        out,
        "journeys started {}, ok {}, failed {}, cancelled at stop {}",
        grouped(merged.journeys.started),
        grouped(merged.journeys.ok),
        grouped(merged.journeys.failed),
        grouped(merged.journeys.cancelled),
    );
    let _ = writeln!(out, "{}", connections_line(&total));
    out.push_str(&crate::ws::stats::table(merged, seconds));
    injector_line(&mut out, &merged.injector, request_p50(&total));
    if let Some(text) = merged.error_samples.get("journey") {
        let _ = writeln!(out, "first journey error: {text}");
    }
    if !merged.messages.is_empty() {
        let messages: Vec<String> = merged.messages.iter().map(|(k, v)| format!("{k} {}", grouped(*v))).collect();
        let _ = writeln!(out, "messages: {}", messages.join(", "));
    }
    out
}

/// `connects 12 (failed 3), TLS handshakes 9 (failed 0), reconnects 2`: every attempt.
fn connections_line(total: &TxnStats) -> String {
    let mut line = format!("connects {} (failed {})", grouped(total.connects), grouped(total.connects_failed));
    if total.tls_handshakes > 0 {
        let _ =
            write!(line, ", TLS handshakes {} (failed {})", grouped(total.tls_handshakes), grouped(total.tls_failed));
    }
    let _ = write!(line, ", reconnects {}", grouped(total.reconnects));
    line
}

/// `status codes: 200 14,573 (99.9%), 503 12 (0.1%)`: responses by exact code (by class when
/// more codes were seen than are counted one by one).
fn status_line(out: &mut String, total: &TxnStats) {
    let responses: u64 = total.status_class.iter().sum();
    if responses == 0 {
        return;
    }
    if total.status_codes.iter().map(|(_, n)| n).sum::<u64>() == responses {
        let mut codes = total.status_codes.clone();
        codes.sort_unstable();
        let codes: Vec<String> =
            codes.iter().map(|(code, n)| format!("{code} {} ({})", grouped(*n), percent(*n, responses))).collect();
        let _ = writeln!(out, "status codes: {}", codes.join(", "));
        return;
    }
    let classes: Vec<String> = total
        .status_class
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(class, n)| {
            let name = if class == 0 { "other".to_string() } else { format!("{class}xx") };
            format!("{name} {} ({})", grouped(*n), percent(*n, responses))
        })
        .collect();
    let _ = writeln!(out, "status codes: {}", classes.join(", "));
}

/// Bytes received (response bodies) and sent (requests that got a response), with rates.
fn bytes_line(out: &mut String, total: &TxnStats, seconds: f64) {
    if total.body_bytes == 0 && total.sent_bytes == 0 {
        return;
    }
    let per_s = |n: u64| if seconds > 0.0 { bytes((n as f64 / seconds) as u64) + "/s" } else { "-".into() };
    let _ = writeln!(
        out,
        "bytes: received {} ({}) of response bodies, sent {} ({}) of requests",
        bytes(total.body_bytes),
        per_s(total.body_bytes),
        bytes(total.sent_bytes),
        per_s(total.sent_bytes)
    );
}

/// Errors by kind, each with its share of requests and the first message seen.
fn errors_block(out: &mut String, total: &TxnStats, merged: &Merged) {
    if total.req_errors() == 0 {
        return;
    }
    let _ = writeln!(out, "errors by kind:");
    for kind in ErrorKind::ALL {
        let count = total.errors_of(kind);
        if count == 0 {
            continue;
        }
        let first = merged
            .error_samples
            .get(kind.name())
            .map(|t| format!("  first: {}", t.strip_prefix(&format!("{}: ", kind.name())).unwrap_or(t)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<16} {:>10} {:>7}{first}",
            kind.name(),
            grouped(count),
            percent(count, total.attempts())
        );
    }
}

fn percentile_line(out: &mut String, label: &str, h: &Histogram<u64>) {
    let _ = writeln!(
        out,
        "{label}: p50 {} p90 {} p99 {} p99.9 {} max {}",
        ms(quantile(h, 0.5)),
        ms(quantile(h, 0.9)),
        ms(quantile(h, 0.99)),
        ms(quantile(h, 0.999)),
        ms(h.max())
    );
}

fn truncate(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        name.to_string()
    } else {
        let mut cut: String = name.chars().take(width - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_shows_status_codes_bytes_and_errors_with_their_first_message() {
        let mut merged = Merged::default();
        let mut stats = TxnStats { req_ok: 3, txn_ok: 3, body_bytes: 3 * 1024, sent_bytes: 600, ..TxnStats::default() };
        for status in [200, 200, 200, 503] {
            stats.add_status(status);
        }
        stats.add_error(ErrorKind::Status);
        stats.add_error(ErrorKind::Timeout);
        merged.txns.insert("t".into(), stats);
        merged.error_samples.insert("status", "GET http://x/ answered 503, expected 200-399".into());
        let text = table(&merged, 2.0);
        assert!(text.contains("status codes: 200 3 (75.0%), 503 1 (25.0%)"), "{text}");
        assert!(
            text.contains("bytes: received 3.0 KiB (1.5 KiB/s) of response bodies, sent 600 B (300 B/s)"),
            "{text}"
        );
        assert!(text.contains("first: GET http://x/ answered 503"), "{text}");
        let timeout = text.lines().find(|l| l.trim_start().starts_with("timeout")).unwrap();
        assert!(timeout.contains("20.0%") && !timeout.contains("first:"), "{timeout}");
    }
}
