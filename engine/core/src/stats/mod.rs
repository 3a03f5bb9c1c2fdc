//! Per-core, per-transaction statistics: latency histograms plus plain counters, swapped out
//! every interval as a snapshot and merged (losslessly) by the stats thread.

pub mod cookies;
pub mod error_kind;
pub mod histogram;
pub mod http_metrics;
pub mod injector_load;
pub mod interval;
pub mod slot_counts;
pub mod value_sums;
pub mod ws;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::limits::STATUS_CODES_MAX;

pub use cookies::{CookieIgnored, CookiesIgnored};
pub use error_kind::ErrorKind;
pub use histogram::{LatencyHistogram, RecordedValues, new_latency_histogram, record_latency};
pub use http_metrics::Timings;
pub use injector_load::InjectorLoad;
pub use interval::Intervals;
pub use slot_counts::{Latencies, Latency, SlotCounts};
pub use ws::WsStats;

/// Everything counted for one transaction name during one interval (or merged over many). Its
/// histograms take memory only once they hold a value ([`LatencyHistogram`]): a default one is
/// some 600 bytes of counters.
#[derive(Clone, Debug, Default)]
pub struct TxnStats {
    /// Durations of completed transactions (ok or failed), µs.
    pub txn_us: LatencyHistogram,
    /// Open model only: transaction durations plus the journey's start delay (from its
    /// intended start), µs.
    pub txn_us_corrected: LatencyHistogram,
    /// Transactions that completed without error.
    pub txn_ok: u64,
    /// Transactions that ended with an error.
    pub txn_err: u64,
    /// Total time of requests that got a response (any status), µs.
    pub req_us: LatencyHistogram,
    /// Open model only: request times plus the journey's start delay, µs.
    pub req_us_corrected: LatencyHistogram,
    /// Requests that succeeded.
    pub req_ok: u64,
    /// Failed attempts by kind (index = `ErrorKind as usize`), sent or not.
    pub req_err: [u64; ErrorKind::COUNT],
    /// Failed attempts that never wrote a byte to a connection (resolve, connect, TLS
    /// handshake, no connection free): counted under their kind too, but not as requests.
    pub not_sent: u64,
    /// Responses by status class: 1xx..5xx at 1..=5, anything else at 0.
    pub status_class: [u64; 6],
    /// Responses by exact status code, `(code, count)` in code order; at most
    /// `STATUS_CODES_MAX` codes (the classes count every response).
    pub status_codes: Vec<(u16, u64)>,
    /// Keep-alive connections the server closed, replaced by a fresh one (not an error).
    pub reconnects: u64,
    /// TCP connects attempted (succeeded or failed).
    pub connects: u64,
    /// TCP connects that failed.
    pub connects_failed: u64,
    /// Sum of connect times of the connects that succeeded, µs.
    pub connect_us_sum: u64,
    /// TLS handshakes attempted (succeeded or failed).
    pub tls_handshakes: u64,
    /// TLS handshakes that failed.
    pub tls_failed: u64,
    /// Sum of TLS handshake times of the handshakes that succeeded, µs.
    pub tls_us_sum: u64,
    /// TLS handshakes that resumed an earlier session.
    pub tls_resumed: u64,
    /// Sum of times to first response byte, µs.
    pub first_byte_us_sum: u64,
    /// Body bytes of the responses read (any status); a body a failure cut short is not counted.
    pub body_bytes: u64,
    /// Phase histograms, responses by method and code (Mite's `http_metrics`).
    pub http: crate::stats::http_metrics::HttpMetrics,
    /// WebSocket counters (messages, bytes, failures on open connections, reply times).
    pub ws: WsStats,
    /// Request bytes written to connections (head and body), whatever became of the request:
    /// answered, failed after writing, or retried (each attempt's bytes).
    pub sent_bytes: u64,
    /// `Set-Cookie` fields of its responses that the journey's jar ignored, by reason.
    pub cookies_ignored: CookiesIgnored,
}

impl TxnStats {
    /// Zero counters and no histogram made: a `TxnStats` that carries only counters, as a
    /// snapshot does (its values travel apart, as [`RecordedValues`]). The same as `default()`.
    pub fn counters_only() -> TxnStats {
        TxnStats::default()
    }

    /// Moves the counters out, as a [`TxnStats::counters_only`], leaving `self` with zero
    /// counters and its own histograms, untouched.
    fn take_counters(&mut self) -> TxnStats {
        let mut counters = std::mem::take(self);
        for (mine, none) in self.histograms_mut().into_iter().zip(counters.histograms_mut()) {
            std::mem::swap(mine, none);
        }
        counters
    }

    /// Moves this interval's counts out: the counters as a [`TxnStats::counters_only`], the
    /// histograms' values as [`RecordedValues`] (in `histograms_mut` order). `self` is left
    /// empty, its histograms keeping their allocations. (A core records its latencies apart, as
    /// `slot_counts::Latencies`, and takes them with `Latencies::take`.)
    pub fn take_interval(&mut self) -> (TxnStats, [RecordedValues; TxnStats::HISTOGRAMS]) {
        let values = self.histograms_mut().map(LatencyHistogram::take_values);
        (self.take_counters(), values)
    }

    /// Zeroes the counters, leaving the histograms as they are.
    pub(crate) fn clear_counters(&mut self) {
        drop(self.take_counters());
    }

    /// Attempts that ended in an error, sent or not.
    pub fn req_errors(&self) -> u64 {
        self.req_err.iter().sum()
    }

    /// Every attempt accounted for: succeeded plus failed (`requests + not_sent`).
    pub fn attempts(&self) -> u64 {
        self.req_ok + self.req_errors()
    }

    /// Requests written to a connection: what a server could see (attempts less `not_sent`).
    pub fn requests(&self) -> u64 {
        self.attempts() - self.not_sent
    }

    /// Successful TCP connects.
    pub fn connects_ok(&self) -> u64 {
        self.connects - self.connects_failed
    }

    /// Successful TLS handshakes.
    pub fn tls_ok(&self) -> u64 {
        self.tls_handshakes - self.tls_failed
    }

    /// Transactions completed (ok plus failed).
    pub fn transactions(&self) -> u64 {
        self.txn_ok + self.txn_err
    }

    /// Count of one error kind.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.req_err[kind.index()]
    }

    /// Histograms per transaction, as `histograms_mut` lists them.
    pub const HISTOGRAMS: usize = 9;

    /// Every histogram, in a fixed order (for moving their values between threads).
    pub fn histograms_mut(&mut self) -> [&mut LatencyHistogram; TxnStats::HISTOGRAMS] {
        [
            &mut self.txn_us,
            &mut self.txn_us_corrected,
            &mut self.req_us,
            &mut self.req_us_corrected,
            &mut self.http.dns_us,
            &mut self.http.connect_us,
            &mut self.http.tls_us,
            &mut self.http.first_byte_us,
            &mut self.ws.reply_us,
        ]
    }

    /// Adds one failed request.
    pub fn add_error(&mut self, kind: ErrorKind) {
        self.add_errors(kind, 1);
    }

    /// Adds `count` failed requests of one kind.
    pub fn add_errors(&mut self, kind: ErrorKind, count: u64) {
        self.req_err[kind.index()] += count;
    }

    /// Adds one status to the class counters.
    #[inline]
    pub fn add_status(&mut self, status: u16) {
        let class = usize::from(status / 100);
        self.status_class[if (1..=5).contains(&class) { class } else { 0 }] += 1;
        self.add_status_code(status, 1);
    }

    /// Adds `count` responses with exact code `status` (past `STATUS_CODES_MAX` distinct codes,
    /// a new code is left to the class counters).
    pub fn add_status_code(&mut self, status: u16, count: u64) {
        // Kept in code order, so that what a merge keeps does not depend on arrival order.
        match self.status_codes.binary_search_by_key(&status, |(code, _)| *code) {
            Ok(at) => self.status_codes[at].1 += count,
            Err(at) if self.status_codes.len() < STATUS_CODES_MAX => self.status_codes.insert(at, (status, count)),
            Err(_) => {}
        }
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.transactions() == 0
            && self.attempts() == 0
            && self.reconnects == 0
            && self.connects == 0
            && self.ws.is_empty()
    }

    /// Adds `other` into `self`; histograms merge losslessly.
    pub fn merge(&mut self, other: &TxnStats) {
        self.txn_us.add(&other.txn_us);
        self.req_us.add(&other.req_us);
        self.txn_us_corrected.add(&other.txn_us_corrected);
        self.req_us_corrected.add(&other.req_us_corrected);
        self.txn_ok += other.txn_ok;
        self.txn_err += other.txn_err;
        self.req_ok += other.req_ok;
        for (mine, theirs) in self.req_err.iter_mut().zip(other.req_err) {
            *mine += theirs;
        }
        self.not_sent += other.not_sent;
        for (mine, theirs) in self.status_class.iter_mut().zip(other.status_class) {
            *mine += theirs;
        }
        for &(code, count) in &other.status_codes {
            self.add_status_code(code, count);
        }
        self.reconnects += other.reconnects;
        self.connects += other.connects;
        self.connects_failed += other.connects_failed;
        self.connect_us_sum += other.connect_us_sum;
        self.tls_handshakes += other.tls_handshakes;
        self.tls_failed += other.tls_failed;
        self.tls_us_sum += other.tls_us_sum;
        self.tls_resumed += other.tls_resumed;
        self.first_byte_us_sum += other.first_byte_us_sum;
        self.body_bytes += other.body_bytes;
        self.http.merge(&other.http);
        self.ws.merge(&other.ws);
        self.sent_bytes += other.sent_bytes;
        self.cookies_ignored.merge(&other.cookies_ignored);
    }
}

/// Journey-level counters for one core and interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JourneyCounts {
    /// Journeys started.
    pub started: u64,
    /// Journeys that returned Ok.
    pub ok: u64,
    /// Journeys that returned an error, or panicked.
    pub failed: u64,
    /// Journeys that panicked (also in `failed`): each counted once, as an error of the
    /// transaction it was in.
    pub panicked: u64,
    /// Journeys still running when the stop's grace period ended.
    pub cancelled: u64,
    /// Open model: arrivals that came due up to the stop (requested); each ends once, as
    /// `arrivals_started`, `missed` or `datapool_exhausted`.
    pub scheduled: u64,
    /// Open model: arrivals that started a journey.
    pub arrivals_started: u64,
    /// Open model: arrivals dropped because the queue for slots was full, or still queued when
    /// the run stopped: the injector or the journey slots could not keep up.
    pub missed: u64,
    /// Open model: arrivals that never started because their entry's single-use datapool ran
    /// out (the one that found no row, and those still queued behind it): neither the injector
    /// nor the slots held them up, so they are not `missed`.
    pub datapool_exhausted: u64,
    /// Open model: how far the arrivals were scheduled, µs since the start (the stop, the
    /// duration's end, or the rate model's own end): `scheduled` came due over this time, so
    /// the rates asked and achieved are over it, not over the run with its grace. Merged by
    /// taking the latest.
    pub arrivals_until_us: u64,
}

impl JourneyCounts {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &JourneyCounts) {
        self.started += other.started;
        self.ok += other.ok;
        self.failed += other.failed;
        self.panicked += other.panicked;
        self.cancelled += other.cancelled;
        self.scheduled += other.scheduled;
        self.arrivals_started += other.arrivals_started;
        self.missed += other.missed;
        self.datapool_exhausted += other.datapool_exhausted;
        self.arrivals_until_us = self.arrivals_until_us.max(other.arrivals_until_us);
    }
}

/// What one core sends the stats thread at the end of an interval.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Which core.
    pub core: usize,
    /// Seconds since the run started, when the snapshot was taken.
    pub elapsed_s: f64,
    /// Which interval (tick) this snapshot closes; the last snapshot of a core closes the
    /// interval after its last tick.
    pub tick: u64,
    /// Stats per transaction name, for names active in the interval: their counters only
    /// ([`TxnStats::counters_only`]); the values of their histograms travel in `recorded`.
    pub txns: Vec<(Arc<str>, TxnStats)>,
    /// The values of `txns[i]`'s histograms (in `TxnStats::histograms_mut` order).
    pub recorded: Vec<[RecordedValues; TxnStats::HISTOGRAMS]>,
    /// Journey counters for the interval.
    pub journeys: JourneyCounts,
    /// Journeys in flight at the moment of the snapshot (a gauge, not a count).
    pub journeys_in_flight: u64,
    /// Target journeys in flight on this core (sum over scenario entries).
    pub journeys_target: u64,
    /// `ctx.send` messages by type during the interval.
    pub messages: Vec<(Arc<str>, u64)>,
    /// One example message per error kind (or `journey`), the first this core saw.
    pub error_samples: Vec<(&'static str, String)>,
    /// Last snapshot of this core: the core has stopped.
    pub last: bool,
    /// On the last snapshot: the core stopped because every one of its scenario entries had
    /// finished (volume models ended, single-use datapools used up), not at the duration's end
    /// or on a stop signal.
    pub completed: bool,
    /// Which part of the core's run the figures come from: an interval of the run, the piece
    /// up to the stop before a grace, or a piece of the grace.
    pub phase: Phase,
    /// The core's own lag and load during the interval.
    pub injector: InjectorLoad,
}

/// Which part of a core's run a snapshot's figures come from. A core with journeys in flight
/// at its stop reports the piece of interval up to the stop at once ([`Phase::Stop`]), then the
/// grace in pieces of its own, one per interval end it passes and one at its end
/// ([`Phase::Grace`]): a progress line never mixes the run with the grace after it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// An interval of the run, ended by its tick (or by the stop, when no journey was in
    /// flight: then it is the core's last, and there is no grace to report).
    #[default]
    Run,
    /// The piece of interval up to the stop; journeys were in flight, the grace follows.
    Stop,
    /// A piece of the grace: journeys in flight at the stop finishing, none starting.
    Grace,
}

impl Phase {
    /// Whether the figures are the grace's (an interval of the grace is reported apart from
    /// the run's interval with the same index).
    pub fn in_grace(self) -> bool {
        self == Phase::Grace
    }
}

/// Where a snapshot's figures go: whether in the grace, and the interval's index. Every
/// interval of the run (each core's piece up to its stop included) comes before the grace's:
/// cores that see an interrupt on either side of a tick stop in two intervals, and the later
/// one's piece is still a line of the run, before the grace's lines.
pub type IntervalKey = (bool, u64);

impl Snapshot {
    /// The interval this snapshot closes.
    pub fn key(&self) -> IntervalKey {
        (self.phase.in_grace(), self.tick)
    }
}

/// Stats merged across cores (and intervals), keyed by transaction name.
#[derive(Clone, Debug, Default)]
pub struct Merged {
    /// Per transaction.
    pub txns: BTreeMap<Arc<str>, TxnStats>,
    /// Journey counters.
    pub journeys: JourneyCounts,
    /// Messages by type.
    pub messages: BTreeMap<Arc<str>, u64>,
    /// One example message per error kind (or `journey`).
    pub error_samples: BTreeMap<&'static str, String>,
    /// The injector's own lag and load.
    pub injector: InjectorLoad,
}

impl Merged {
    /// Adds a snapshot's contents.
    pub fn add(&mut self, snapshot: &Snapshot) {
        let no_values = [const { RecordedValues::none() }; TxnStats::HISTOGRAMS];
        for (i, (name, stats)) in snapshot.txns.iter().enumerate() {
            let mine = self.txns.entry(name.clone()).or_default();
            mine.merge(stats);
            let values = snapshot.recorded.get(i).unwrap_or(&no_values);
            for (histogram, values) in mine.histograms_mut().into_iter().zip(values) {
                values.add_to(histogram);
            }
        }
        self.add_untimed(snapshot);
    }

    /// Adds a snapshot's counters: everything but its histograms' values (`snapshot.recorded`,
    /// for the caller to add). A transaction new to `self` starts from `new(name)` (empty).
    pub(crate) fn add_counters(&mut self, snapshot: &Snapshot, mut new: impl FnMut(&str) -> TxnStats) {
        for (name, stats) in &snapshot.txns {
            self.txns.entry(name.clone()).or_insert_with(|| new(name)).merge(stats);
        }
        self.add_untimed(snapshot);
    }

    /// Adds what a snapshot holds outside its transactions.
    fn add_untimed(&mut self, snapshot: &Snapshot) {
        self.journeys.merge(&snapshot.journeys);
        for (kind, count) in &snapshot.messages {
            *self.messages.entry(kind.clone()).or_default() += count;
        }
        for (kind, text) in &snapshot.error_samples {
            self.error_samples.entry(kind).or_insert_with(|| text.clone());
        }
        self.injector.merge(&snapshot.injector);
    }

    /// Adds another merged set.
    pub fn merge(&mut self, other: &Merged) {
        for (name, stats) in &other.txns {
            self.txns.entry(name.clone()).or_default().merge(stats);
        }
        self.journeys.merge(&other.journeys);
        for (kind, count) in &other.messages {
            *self.messages.entry(kind.clone()).or_default() += count;
        }
        for (kind, text) in &other.error_samples {
            self.error_samples.entry(kind).or_insert_with(|| text.clone());
        }
        self.injector.merge(&other.injector);
    }

    /// All transactions folded into one.
    pub fn total(&self) -> TxnStats {
        let mut total = TxnStats::default();
        for stats in self.txns.values() {
            total.merge(stats);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn merged_percentiles_equal_single_histogram(
            samples in proptest::collection::vec(1u64..5_000_000, 1..2_000),
            parts in 1usize..8,
        ) {
            let mut single = new_latency_histogram();
            let mut shards: Vec<TxnStats> = (0..parts).map(|_| TxnStats::default()).collect();
            for (i, &value) in samples.iter().enumerate() {
                record_latency(&mut single, value);
                record_latency(&mut shards[i % parts].txn_us, value);
            }
            let mut merged = TxnStats::default();
            for shard in &shards {
                merged.merge(shard);
            }
            for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
                prop_assert_eq!(merged.txn_us.value_at_quantile(q), single.value_at_quantile(q));
            }
            prop_assert_eq!(merged.txn_us.len(), samples.len() as u64);
            prop_assert_eq!(merged.txn_us.max(), single.max());
        }
    }

    #[test]
    fn counts_and_kinds_merge() {
        let mut a = TxnStats { req_ok: 3, ..TxnStats::default() };
        a.add_error(ErrorKind::Timeout);
        a.add_status(200);
        a.add_status(503);
        a.add_status(999);
        let mut b = TxnStats::default();
        b.add_error(ErrorKind::Timeout);
        b.add_error(ErrorKind::Reset);
        a.merge(&b);
        assert_eq!(a.requests(), 6);
        assert_eq!(a.errors_of(ErrorKind::Timeout), 2);
        assert_eq!(a.status_class, [1, 0, 1, 0, 0, 1]);
        assert_eq!(a.status_codes, vec![(200, 1), (503, 1), (999, 1)]);
        let mut many = TxnStats::default();
        for code in 0..(STATUS_CODES_MAX as u16 + 10) {
            many.add_status(100 + code);
        }
        assert_eq!(many.status_codes.len(), STATUS_CODES_MAX);
        assert_eq!(many.status_class.iter().sum::<u64>(), STATUS_CODES_MAX as u64 + 10, "classes count every one");
    }
}
