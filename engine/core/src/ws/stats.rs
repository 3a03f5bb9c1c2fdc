//! WebSocket counters per transaction: connections, messages and payload bytes each way, pings
//! answered, close handshakes, failures on open connections by kind, and request/reply
//! latencies. Merged like the HTTP counters; rendered in the table, the JSON and Prometheus.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};

use crate::output::report::{latency_json, quantile};
use crate::output::units::{grouped, ms};
use crate::stats::{ErrorKind, Merged, new_latency_histogram};

/// What one transaction's WebSockets did (one interval, or merged).
#[derive(Clone, Debug)]
pub struct WsStats {
    /// Handshakes completed (connections upgraded).
    pub connects: u64,
    /// Data messages sent (text and binary).
    pub messages_sent: u64,
    /// Data messages received.
    pub messages_received: u64,
    /// Payload bytes of the messages sent.
    pub bytes_sent: u64,
    /// Payload bytes of the messages received.
    pub bytes_received: u64,
    /// Pings from the server, each answered with a pong.
    pub pings_received: u64,
    /// Close handshakes completed (started by either side).
    pub closes: u64,
    /// Failures on upgraded connections, by kind (index = `ErrorKind as usize`). Failed
    /// handshakes are requests, counted with the HTTP request errors.
    pub errors: [u64; ErrorKind::COUNT],
    /// Request/reply times: from sending to the first matching reply, µs.
    pub reply_us: Histogram<u64>,
}

impl Default for WsStats {
    fn default() -> Self {
        WsStats {
            connects: 0,
            messages_sent: 0,
            messages_received: 0,
            bytes_sent: 0,
            bytes_received: 0,
            pings_received: 0,
            closes: 0,
            errors: [0; ErrorKind::COUNT],
            reply_us: new_latency_histogram(),
        }
    }
}

const COUNTERS: [&str; 7] =
    ["connects", "messages_sent", "messages_received", "bytes_sent", "bytes_received", "pings_received", "closes"];

impl WsStats {
    fn counters(&self) -> [u64; 7] {
        [
            self.connects,
            self.messages_sent,
            self.messages_received,
            self.bytes_sent,
            self.bytes_received,
            self.pings_received,
            self.closes,
        ]
    }

    fn counters_mut(&mut self) -> [&mut u64; 7] {
        [
            &mut self.connects,
            &mut self.messages_sent,
            &mut self.messages_received,
            &mut self.bytes_sent,
            &mut self.bytes_received,
            &mut self.pings_received,
            &mut self.closes,
        ]
    }

    /// Failures of all kinds.
    pub fn error_count(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Failures of one kind.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors[kind as usize]
    }

    /// Adds one failure.
    pub fn add_error(&mut self, kind: ErrorKind) {
        self.errors[kind as usize] += 1;
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counters().iter().all(|&c| c == 0) && self.error_count() == 0 && self.reply_us.is_empty()
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &WsStats) {
        for (mine, theirs) in self.counters_mut().into_iter().zip(other.counters()) {
            *mine += theirs;
        }
        for (mine, theirs) in self.errors.iter_mut().zip(other.errors) {
            *mine += theirs;
        }
        self.reply_us.add(&other.reply_us).expect("auto-resizing histograms always merge");
    }

    fn errors_json(&self) -> Value {
        let map: Map<String, Value> = ErrorKind::ALL
            .iter()
            .filter(|k| self.errors_of(**k) > 0)
            .map(|k| (k.name().to_string(), json!(self.errors_of(*k))))
            .collect();
        Value::Object(map)
    }

    /// The `websocket` object of a transaction (or the totals); null when unused.
    pub fn json(&self, seconds: f64) -> Value {
        if self.is_empty() {
            return Value::Null;
        }
        let per_s = |n: u64| if seconds > 0.0 { (n as f64 / seconds * 10.0).round() / 10.0 } else { 0.0 };
        json!({
            "connects": self.connects,
            "messages_sent": self.messages_sent,
            "messages_received": self.messages_received,
            "messages_per_s": per_s(self.messages_sent + self.messages_received),
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "pings_received": self.pings_received,
            "closes": self.closes,
            "errors": self.error_count(),
            "errors_by_kind": self.errors_json(),
            "reply_us": if self.reply_us.is_empty() { Value::Null } else { latency_json(&self.reply_us) },
        })
    }

    /// Every counter and the reply histogram, for `merge` of result files.
    pub fn raw_json(&self) -> Value {
        let mut map: Map<String, Value> =
            COUNTERS.iter().zip(self.counters()).map(|(k, v)| (k.to_string(), json!(v))).collect();
        map.insert("errors".into(), self.errors_json());
        map.insert("reply_us".into(), json!(crate::output::results::encode_histogram(&self.reply_us)));
        Value::Object(map)
    }

    /// Reads [`WsStats::raw_json`] back; a result without it (no WebSockets, or an older
    /// engine) gives empty counters.
    pub fn from_raw(raw: Option<&Value>, at: &str) -> Result<WsStats, String> {
        let mut stats = WsStats::default();
        let Some(raw) = raw else { return Ok(stats) };
        for (name, slot) in COUNTERS.iter().zip(stats.counters_mut()) {
            *slot =
                raw.get(*name).and_then(Value::as_u64).ok_or_else(|| format!("{at}.ws: missing or bad {name:?}"))?;
        }
        if let Some(errors) = raw.get("errors").and_then(Value::as_object) {
            for (name, count) in errors {
                let kind = ErrorKind::from_name(name).ok_or_else(|| format!("{at}.ws: unknown error kind {name:?}"))?;
                stats.errors[kind as usize] +=
                    count.as_u64().ok_or_else(|| format!("{at}.ws: bad count for {name}"))?;
            }
        }
        let text =
            raw.get("reply_us").and_then(Value::as_str).ok_or_else(|| format!("{at}.ws: missing \"reply_us\""))?;
        stats.reply_us =
            crate::output::results::decode_histogram(text).map_err(|e| format!("{at}.ws.reply_us: {e}"))?;
        Ok(stats)
    }
}

/// The table's WebSocket section: one row per transaction that used WebSockets (empty when
/// none did).
pub fn table(merged: &Merged, seconds: f64) -> String {
    let rows: Vec<_> = merged.txns.iter().filter(|(_, s)| !s.ws.is_empty()).collect();
    let mut out = String::new();
    if rows.is_empty() {
        return out;
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(11).clamp(11, 60);
    let _ = writeln!(
        out,
        "\n{:<width$} {:>8} {:>10} {:>10} {:>8} {:>12} {:>12} {:>7} {:>9} {:>9}",
        "websocket",
        "conns",
        "msgs sent",
        "msgs recv",
        "msg/s",
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
        let rate =
            if seconds > 0.0 { ((ws.messages_sent + ws.messages_received) as f64 / seconds).round() as u64 } else { 0 };
        let shown: String = name.chars().take(width).collect();
        let _ = writeln!(
            out,
            "{shown:<width$} {:>8} {:>10} {:>10} {:>8} {:>12} {:>12} {:>7} {p50:>9} {p99:>9}",
            grouped(ws.connects),
            grouped(ws.messages_sent),
            grouped(ws.messages_received),
            grouped(rate),
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
    use crate::stats::record_latency;

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
        assert!(text.contains("websocket errors by kind: ws_protocol 1"), "{text}");
        let mut out = String::new();
        exposition(&mut out, &merged, |s| s.to_string());
        assert!(out.contains("mite_ws_message_sent_total{transaction=\"chat\"} 30"), "{out}");
        assert!(out.contains("mite_ws_error_total{transaction=\"chat\",kind=\"ws_protocol\"} 1"), "{out}");
        assert!(!out.contains("plain"));
        assert!(table(&Merged::default(), 1.0).is_empty());
    }

    #[test]
    fn raw_round_trip_and_merge() {
        let mut a =
            WsStats { connects: 2, messages_sent: 10, messages_received: 9, bytes_sent: 100, ..WsStats::default() };
        a.add_error(ErrorKind::WsClosed);
        record_latency(&mut a.reply_us, 1500);
        let back = WsStats::from_raw(Some(&a.raw_json()), "t").unwrap();
        assert_eq!(back.counters(), a.counters());
        assert_eq!(back.errors, a.errors);
        assert_eq!(back.reply_us.len(), 1);
        let mut merged = back.clone();
        merged.merge(&a);
        assert_eq!(merged.messages_sent, 20);
        assert_eq!(merged.errors_of(ErrorKind::WsClosed), 2);
        assert!(WsStats::from_raw(None, "t").unwrap().is_empty());
        assert!(WsStats::from_raw(Some(&json!({"connects": 1})), "t").is_err());
    }
}
