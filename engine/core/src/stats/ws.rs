//! WebSocket counters per transaction: connections, messages and payload bytes each way, pings
//! answered, close handshakes, failures on open connections by kind, and request/reply
//! latencies. Merged like the HTTP counters; rendered by `output::websocket`.

use crate::stats::error_kind::ErrorKind;
use crate::stats::histogram::LatencyHistogram;

/// What one transaction's WebSockets did (one interval, or merged).
#[derive(Clone, Debug, Default)]
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
    pub reply_us: LatencyHistogram,
}

/// The counters' names, in [`WsStats::counters`] order (as result files name them).
pub const COUNTERS: [&str; 7] =
    ["connects", "messages_sent", "messages_received", "bytes_sent", "bytes_received", "pings_received", "closes"];

impl WsStats {
    /// The counters, in [`COUNTERS`] order.
    pub fn counters(&self) -> [u64; 7] {
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

    /// The counters to set, in [`COUNTERS`] order.
    pub fn counters_mut(&mut self) -> [&mut u64; 7] {
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
        self.reply_us.add(&other.reply_us);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::record_latency;

    #[test]
    fn merge_adds_counters_errors_and_replies() {
        let mut a =
            WsStats { connects: 2, messages_sent: 10, messages_received: 9, bytes_sent: 100, ..WsStats::default() };
        a.add_error(ErrorKind::WsClosed);
        record_latency(&mut a.reply_us, 1500);
        let mut merged = a.clone();
        merged.merge(&a);
        assert_eq!(merged.counters(), [4, 20, 18, 200, 0, 0, 0]);
        assert_eq!(merged.errors_of(ErrorKind::WsClosed), 2);
        assert_eq!(merged.reply_us.len(), 2);
        assert!(WsStats::default().is_empty() && !merged.is_empty());
    }
}
