//! The WebSocket counters for people and programs: the table's WebSocket section, the
//! `websocket` object of the result file, the Prometheus lines, and `compare`'s section.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::output::result_file::{Latency, ResultFile, WebSocketFigures};
use crate::output::units::{self, grouped, ms, per_second};
use crate::stats::histogram::quantile;
use crate::stats::{ErrorKind, Merged, WsStats};

/// The table's WebSocket section: one row per transaction that used WebSockets (empty when
/// none did).
pub fn table(merged: &Merged, seconds: f64) -> String {
    let rows: Vec<_> = merged.txns.iter().filter(|(_, s)| !s.ws.is_empty()).collect();
    let mut out = String::new();
    if rows.is_empty() {
        return out;
    }
    let width = crate::output::report::name_column(rows.iter().map(|(n, _)| &***n));
    let _ = writeln!(
        out,
        "\n{:<width$} {:>8} {:>10} {:>10} {:>8} {:>8} {:>12} {:>12} {:>7} {:>9} {:>9}",
        "websocket",
        "conns",
        "msgs sent",
        "msgs recv",
        "sent/s",
        "recv/s",
        "bytes sent",
        "bytes recv",
        "errors",
        "reply p50",
        "reply p99"
    );
    for (name, stats) in rows {
        let ws = &stats.ws;
        let (p50, p99) = if ws.reply_us.is_empty() {
            ("-".to_string(), "-".to_string())
        } else {
            (ms(quantile(&ws.reply_us, 0.5)), ms(quantile(&ws.reply_us, 0.99)))
        };
        // Each way apart: messages sent and received a second (their sum read as either).
        let rate = |n: u64| per_second(units::rate(n, seconds));
        let shown = crate::output::report::name_cell(name, width);
        let _ = writeln!(
            out,
            "{shown} {:>8} {:>10} {:>10} {:>8} {:>8} {:>12} {:>12} {:>7} {p50:>9} {p99:>9}",
            grouped(ws.connects),
            grouped(ws.messages_sent),
            grouped(ws.messages_received),
            rate(ws.messages_sent),
            rate(ws.messages_received),
            grouped(ws.bytes_sent),
            grouped(ws.bytes_received),
            grouped(ws.error_count()),
        );
    }
    let total = merged.total().ws;
    let kinds: Vec<String> = ErrorKind::ALL
        .iter()
        .filter(|k| total.errors_of(**k) > 0)
        .map(|k| format!("{} {}", k.name(), grouped(total.errors_of(*k))))
        .collect();
    if !kinds.is_empty() {
        let _ = writeln!(out, "websocket errors by kind: {}", kinds.join(", "));
        if let Some(first) = merged.error_samples.get("websocket") {
            let _ = writeln!(out, "  first: {}", super::report::printable(first));
        }
    }
    out
}

/// `compare`'s WebSocket section, under the transactions' table: for each transaction that used
/// WebSockets in either run (and all of them together when there are several), NEW's messages
/// each way, a second, and its reply times, each with its change from BASE; empty when neither
/// run used WebSockets. Shown, not judged: the regressions are the transactions' rows'.
pub fn compare(base: &ResultFile, new: &ResultFile) -> String {
    let (old, now) = (used(base), used(new));
    let names: BTreeSet<&str> = old.keys().chain(now.keys()).copied().collect();
    let mut rows: Vec<(&str, Option<&WebSocketFigures>, Option<&WebSocketFigures>)> =
        names.iter().map(|name| (*name, old.get(name).copied(), now.get(name).copied())).collect();
    let totals = (base.totals.websocket.as_ref(), new.totals.websocket.as_ref());
    if names.len() != 1 && (totals.0.is_some() || totals.1.is_some()) {
        rows.push(("all WebSocket transactions", totals.0, totals.1));
    }
    let mut out = String::new();
    if rows.is_empty() {
        return out;
    }
    let width = crate::output::report::name_column(rows.iter().map(|(name, ..)| *name)).max(30);
    let _ = writeln!(
        out,
        "\n{:<width$} {:>10} {:>10} {:>9} {:>8} {:>9} {:>8} {:>10} {:>8} {:>10} {:>8}",
        "websocket",
        "msgs sent",
        "msgs recv",
        "sent/s",
        "Δsent/s",
        "recv/s",
        "Δrecv/s",
        "reply p50",
        "Δp50",
        "reply p99",
        "Δp99"
    );
    let durations = (base.duration_s, new.duration_s);
    for (name, a, b) in rows {
        let cell = crate::output::report::name_cell(name, width);
        match (a, b) {
            (Some(a), Some(b)) => compare_row(&mut out, &cell, (a, b), durations),
            (Some(_), None) => _ = writeln!(out, "{cell} only in BASE"),
            (None, _) => _ = writeln!(out, "{cell} only in NEW"),
        }
    }
    out
}

/// The transactions of `file` that used WebSockets, by name.
fn used(file: &ResultFile) -> BTreeMap<&str, &WebSocketFigures> {
    file.transactions.iter().filter_map(|t| Some((t.name.as_str(), t.websocket.as_ref()?))).collect()
}

/// One row of [`compare`]: NEW's figures (`b`), each rate and reply time with its change from
/// BASE's (`a`), the rates over each run's duration (`durations`: BASE's, NEW's).
fn compare_row(out: &mut String, cell: &str, (a, b): (&WebSocketFigures, &WebSocketFigures), durations: (f64, f64)) {
    use crate::output::results::{delta, latency_cells};
    let rates = |ws: &WebSocketFigures, seconds: f64| {
        (units::rate(ws.messages_sent, seconds), units::rate(ws.messages_received, seconds))
    };
    let ((sent_a, received_a), (sent_b, received_b)) = (rates(a, durations.0), rates(b, durations.1));
    let reply = |ws: &WebSocketFigures, pick: fn(&Latency) -> Option<u64>| {
        ws.reply_us.as_ref().filter(|l| l.count > 0).and_then(pick).map(|us| us as f64)
    };
    let (p50, d50) = latency_cells(reply(a, |l| l.p50), reply(b, |l| l.p50));
    let (p99, d99) = latency_cells(reply(a, |l| l.p99), reply(b, |l| l.p99));
    let _ = writeln!(
        out,
        "{cell} {:>10} {:>10} {:>9} {:>8} {:>9} {:>8} {:>10} {:>8} {:>10} {:>8}",
        grouped(b.messages_sent),
        grouped(b.messages_received),
        per_second(sent_b),
        delta(sent_a, sent_b),
        per_second(received_b),
        delta(received_a, received_b),
        p50,
        d50,
        p99,
        d99
    );
}

/// A Prometheus counter: name, help, and how to read it.
type Metric = (&'static str, &'static str, fn(&WsStats) -> u64);

/// Prometheus lines for the WebSocket counters (nothing when no transaction used them).
pub fn exposition(out: &mut String, merged: &Merged, label: impl Fn(&str) -> String) {
    let rows: Vec<_> = merged.txns.iter().filter(|(_, s)| !s.ws.is_empty()).collect();
    if rows.is_empty() {
        return;
    }
    let metrics: [Metric; 5] = [
        ("mite_ws_connect_total", "WebSocket handshakes completed.", |s| s.connects),
        ("mite_ws_message_sent_total", "WebSocket data messages sent.", |s| s.messages_sent),
        ("mite_ws_message_received_total", "WebSocket data messages received.", |s| s.messages_received),
        ("mite_ws_byte_sent_total", "WebSocket payload bytes sent.", |s| s.bytes_sent),
        ("mite_ws_byte_received_total", "WebSocket payload bytes received.", |s| s.bytes_received),
    ];
    for (metric, help, value) in metrics {
        let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} counter");
        for (name, stats) in &rows {
            let _ = writeln!(out, "{metric}{{transaction=\"{}\"}} {}", label(name), value(&stats.ws));
        }
    }
    let _ = writeln!(out, "# HELP mite_ws_error_total WebSocket failures by kind.\n# TYPE mite_ws_error_total counter");
    for (name, stats) in &rows {
        for kind in ErrorKind::ALL {
            let count = stats.ws.errors_of(kind);
            if count > 0 {
                let _ = writeln!(
                    out,
                    "mite_ws_error_total{{transaction=\"{}\",kind=\"{}\"}} {count}",
                    label(name),
                    kind.name()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::outcome::RunResult;
    use crate::output::result_file::result_file;

    /// A result file of a 2 s run whose transactions are `txns` (name, messages sent and
    /// received, reply time µs, none when 0).
    fn run_of(txns: &[(&str, u64, u64, u64)]) -> ResultFile {
        let mut merged = Merged::default();
        merged.txns.insert("plain".into(), crate::stats::TxnStats { txn_ok: 1, ..Default::default() });
        for &(name, sent, received, reply_us) in txns {
            let mut stats = crate::stats::TxnStats::default();
            (stats.ws.connects, stats.ws.messages_sent, stats.ws.messages_received) = (1, sent, received);
            if reply_us > 0 {
                crate::stats::record_latency(&mut stats.ws.reply_us, reply_us);
            }
            merged.txns.insert(name.into(), stats);
        }
        result_file(&RunResult { duration_s: 2.0, ..RunResult::of("s", merged) }, false)
    }

    /// Outside try: `compare A.json B.json` showed no WebSocket figures, though both files had
    /// them. It shows each WebSocket transaction's (and all of them together when there are
    /// several) with their change from BASE; nothing when neither run used WebSockets.
    #[test]
    fn compare_shows_the_websocket_figures_of_either_run() {
        let base = run_of(&[("chat", 2_000, 1_800, 400)]);
        let new = run_of(&[("chat", 2_200, 1_800, 500)]);
        let text = compare(&base, &new);
        let header = text.lines().nth(1).unwrap();
        assert!(
            header.starts_with("websocket ") && header.contains("msgs sent  msgs recv    sent/s  Δsent/s"),
            "{text}"
        );
        let row = text.lines().find(|l| l.starts_with("chat ")).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells[1..],
            ["2,200", "1,800", "1,100", "+10.0%", "900", "+0.0%", "0.50", "+25.0%", "0.50", "+25.0%"]
        );
        assert!(!text.contains("all WebSocket transactions"), "one transaction: no sum of it: {text}");
        // A transaction in one run only, and the sum of several.
        let new = run_of(&[("chat", 2_200, 1_800, 0), ("feed", 0, 50, 0)]);
        let text = compare(&base, &new);
        assert!(text.lines().any(|l| l.starts_with("feed ") && l.ends_with(" only in NEW")), "{text}");
        let all = text.lines().find(|l| l.starts_with("all WebSocket transactions")).unwrap();
        assert!(all.contains(" 2,200      1,850 "), "{text}");
        let chat = text.lines().find(|l| l.starts_with("chat ")).unwrap();
        assert!(chat.contains("no data"), "no reply timed in NEW: {chat}");
        assert!(compare(&new, &run_of(&[])).contains(" only in BASE"), "gone from NEW");
        assert_eq!(compare(&run_of(&[]), &run_of(&[])), "", "neither used WebSockets: nothing");
        // Under the transactions' table of `compare`.
        let (table, _) = crate::output::results::compare(&base, &run_of(&[("chat", 2_200, 1_800, 500)]), 5.0);
        assert!(table.contains("\nwebsocket ") && table.find("plain") < table.find("\nwebsocket "), "{table}");
    }

    #[test]
    fn table_and_exposition_show_only_websocket_transactions() {
        let mut merged = Merged::default();
        merged.txns.insert("plain".into(), crate::stats::TxnStats::default());
        let mut chat = crate::stats::TxnStats::default();
        chat.ws.connects = 3;
        chat.ws.messages_sent = 30;
        chat.ws.messages_received = 29;
        chat.ws.add_error(ErrorKind::WsProtocol);
        merged.txns.insert("chat".into(), chat);
        let text = table(&merged, 1.0);
        assert!(text.contains("chat") && !text.contains("plain"), "{text}");
        // Outside try: one `msg/s` column summed both ways (59/s) without saying so.
        let header = text.lines().find(|l| l.starts_with("websocket")).unwrap();
        assert!(header.contains("msgs sent  msgs recv   sent/s   recv/s") && !header.contains("msg/s"), "{text}");
        let row = text.lines().find(|l| l.starts_with("chat")).unwrap();
        assert!(row.contains(" 30         29       30       29 "), "{text}");
        let slow = table(&merged, 4.0);
        assert!(slow.contains(" 30         29      7.5      7.3 "), "over 4 s: {slow}");
        assert!(text.contains("websocket errors by kind: ws_protocol 1"), "{text}");
        assert!(!text.contains("first:"), "no sample, no line");
        merged.error_samples.insert("websocket", "ws_protocol: bad \u{1b}[31mframe".into());
        let text = table(&merged, 1.0);
        assert!(text.contains("  first: ws_protocol: bad \\u{1b}[31mframe"), "escaped: {text}");
        let mut out = String::new();
        exposition(&mut out, &merged, |s| s.to_string());
        assert!(out.contains("mite_ws_message_sent_total{transaction=\"chat\"} 30"), "{out}");
        assert!(out.contains("mite_ws_error_total{transaction=\"chat\",kind=\"ws_protocol\"} 1"), "{out}");
        assert!(!out.contains("plain"));
        assert!(table(&Merged::default(), 1.0).is_empty());
    }
}
