//! The WebSocket counters for people and programs: the table's WebSocket section, the
//! `websocket` object of the result file, and the Prometheus lines.

use std::fmt::Write as _;

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
