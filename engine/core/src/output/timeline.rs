//! What the reports draw over time: one bounded record per interval (ok and errors by kind,
//! status classes, connections, bytes, arrivals, percentiles per transaction, and the
//! WebSockets' counts and reply times), built by the stats thread from the interval's merged
//! snapshots.

use std::sync::Arc;

use hdrhistogram::Histogram;

use crate::limits::TIMELINE_TRANSACTIONS_MAX;
use crate::stats::{ErrorKind, JourneyCounts, Merged, WsStats};

/// Latency percentiles of one interval, µs (as the result file's intervals have them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Largest value.
    pub max_us: u64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Option<Percentiles> {
        (!h.is_empty()).then(|| Percentiles {
            p50_us: h.value_at_quantile(0.5),
            p90_us: h.value_at_quantile(0.9),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
        })
    }
}

/// One transaction during one interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnPoint {
    /// Transaction name.
    pub name: Arc<str>,
    /// How many values `latency` is of: transactions completed in the interval, or requests
    /// answered for a name timed by its requests ([`IntervalDetail::of_in_run`]).
    pub count: u64,
    /// Transaction durations, or request times for a name that has completed no transaction in
    /// the run so far.
    pub latency: Percentiles,
    /// Open model: the same from the intended start.
    pub corrected: Option<Percentiles>,
}

/// What every transaction's WebSockets did in one interval: the counts of `stats::WsStats`
/// (each interval's add up to the run's, exactly) and the reply times' percentiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WsPoint {
    /// Handshakes completed.
    pub connects: u64,
    /// Data messages sent.
    pub messages_sent: u64,
    /// Data messages received.
    pub messages_received: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Pings answered.
    pub pings_received: u64,
    /// Close handshakes completed.
    pub closes: u64,
    /// Failures on upgraded connections, all kinds.
    pub errors: u64,
    /// Request/reply times of the replies that came in the interval; `None` when none did.
    pub reply: Option<Percentiles>,
}

impl WsPoint {
    /// The interval's figures of `ws` (every transaction's, merged); `None` when it counted
    /// nothing.
    pub fn of(ws: &WsStats) -> Option<WsPoint> {
        (!ws.is_empty()).then(|| WsPoint {
            connects: ws.connects,
            messages_sent: ws.messages_sent,
            messages_received: ws.messages_received,
            bytes_sent: ws.bytes_sent,
            bytes_received: ws.bytes_received,
            pings_received: ws.pings_received,
            closes: ws.closes,
            errors: ws.error_count(),
            reply: Percentiles::of(&ws.reply_us),
        })
    }
}

/// Everything an interval adds to the over-time charts beyond the progress line's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntervalDetail {
    /// Requests that succeeded.
    pub ok: u64,
    /// Failed requests by kind (index = position in `ErrorKind::ALL`).
    pub errors_by_kind: [u64; ErrorKind::COUNT],
    /// Responses by status class (1xx..5xx at 1..=5, other at 0).
    pub status_class: [u64; 6],
    /// TCP connects attempted (succeeded or failed).
    pub connects: u64,
    /// TCP connects that failed.
    pub connects_failed: u64,
    /// Keep-alive connections the server closed and the client replaced.
    pub reconnects: u64,
    /// Body bytes of the responses read (`TxnStats::body_bytes`).
    pub body_bytes: u64,
    /// Request bytes written, answered or not (`TxnStats::sent_bytes`).
    pub sent_bytes: u64,
    /// Journeys the volume models asked for at the end of the interval.
    pub journeys_target: u64,
    /// Journey counters of the interval (arrivals, starts, misses).
    pub journeys: JourneyCounts,
    /// All requests answered in the interval; in a run that has answered none so far,
    /// transaction durations ([`IntervalDetail::of_in_run`]).
    pub all: Option<Percentiles>,
    /// Open model: all requests from their intended start.
    pub all_corrected: Option<Percentiles>,
    /// Per transaction, the first `TIMELINE_TRANSACTIONS_MAX` names in order.
    pub txns: Vec<TxnPoint>,
    /// Transactions active in the interval but left out by the bound.
    pub txns_left_out: usize,
    /// Every transaction's WebSockets; `None` when they counted nothing in the interval.
    pub ws: Option<WsPoint>,
}

impl IntervalDetail {
    /// Builds the detail of one interval (`interval` holds only that interval's snapshots), as
    /// the run's first: [`IntervalDetail::of_in_run`] with the interval as the run so far.
    pub fn of(interval: &Merged, journeys_target: u64) -> IntervalDetail {
        IntervalDetail::of_in_run(interval, interval, journeys_target)
    }

    /// Builds the detail of one interval of a run whose figures so far (this interval's
    /// included) are `run`. A name's points are its transaction durations once a transaction
    /// of that name has completed in the run: an interval in which none completed (a long
    /// transaction still running, its requests answered) has no point for it, never its
    /// request times under the same name. A name that has completed none (a journey's own row,
    /// which times requests made outside any transaction; a transaction not yet ended) has its
    /// answered requests' times. Likewise `all`: the requests answered in the interval once the
    /// run has answered one (none in an interval where every request failed, never the
    /// transactions' durations in their place); the transactions' durations in a run that has
    /// answered none so far.
    pub fn of_in_run(interval: &Merged, run: &Merged, journeys_target: u64) -> IntervalDetail {
        let total = interval.total();
        let mut errors_by_kind = [0; ErrorKind::COUNT];
        for (slot, kind) in errors_by_kind.iter_mut().zip(ErrorKind::ALL) {
            *slot = total.errors_of(kind);
        }
        let mut txns = Vec::new();
        for (name, stats) in interval.txns.iter().take(TIMELINE_TRANSACTIONS_MAX) {
            // Durations are recorded as transactions complete; a journey's own row counts the
            // failures outside any transaction, with no duration, and keeps its request times.
            let completed = run.txns.get(name).is_some_and(|r| !r.txn_us.is_empty());
            let (timed, corrected) = if completed || !stats.txn_us.is_empty() {
                (&stats.txn_us, &stats.txn_us_corrected)
            } else {
                (&stats.req_us, &stats.req_us_corrected)
            };
            let Some(latency) = Percentiles::of(timed) else { continue };
            txns.push(TxnPoint {
                name: name.clone(),
                count: timed.len(),
                latency,
                corrected: Percentiles::of(corrected),
            });
        }
        let answered = !total.req_us.is_empty() || run.txns.values().any(|s| !s.req_us.is_empty());
        let (all, all_corrected) =
            if answered { (&total.req_us, &total.req_us_corrected) } else { (&total.txn_us, &total.txn_us_corrected) };
        IntervalDetail {
            all: Percentiles::of(all),
            all_corrected: Percentiles::of(all_corrected),
            ok: total.req_ok,
            errors_by_kind,
            status_class: total.status_class,
            connects: total.connects,
            connects_failed: total.connects_failed,
            reconnects: total.reconnects,
            body_bytes: total.body_bytes,
            sent_bytes: total.sent_bytes,
            journeys_target,
            journeys: interval.journeys,
            txns,
            txns_left_out: interval.txns.len().saturating_sub(TIMELINE_TRANSACTIONS_MAX),
            ws: WsPoint::of(&total.ws),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{TxnStats, record_latency};

    /// One interval of a 3 s transaction making 20 ms requests: `answered` requests answered,
    /// `completed` transactions completed.
    fn checkout(answered: u64, completed: u64) -> Merged {
        let mut stats = TxnStats { req_ok: answered, txn_ok: completed, ..TxnStats::default() };
        for _ in 0..answered {
            record_latency(&mut stats.req_us, 20_000);
        }
        for _ in 0..completed {
            record_latency(&mut stats.txn_us, 3_000_000);
        }
        let mut merged = Merged::default();
        merged.txns.insert("checkout".into(), stats);
        merged
    }

    /// A transaction's points over time keep one meaning. Before: an interval in which none of
    /// its (3 s) transactions completed drew its (20 ms) request times under its name, and a
    /// point's count was its requests (3) where it had completed one transaction.
    #[test]
    fn a_transactions_points_are_its_durations_once_one_completed() {
        let mut run = Merged::default();
        let mut points = Vec::new();
        for interval in [checkout(3, 0), checkout(3, 1), checkout(3, 0)] {
            run.merge(&interval);
            let detail = IntervalDetail::of_in_run(&interval, &run, 0);
            points.push(detail.txns.first().map(|t| (t.count, t.latency.max_us / 1000)));
        }
        assert_eq!(
            points,
            [
                Some((3, 20)),    // none completed yet: timed by its requests so far
                Some((1, 3_000)), // one completed: its duration
                None,             // none completed in this interval: no point, not 20 ms
            ]
        );
    }

    /// The whole run's points keep one meaning too. Before: an interval whose requests all
    /// failed (timed out) drew its transactions' 3 s durations as its "all requests"
    /// percentiles, beside 20 ms request times in the intervals around it.
    /// A journey's own row (requests made outside any transaction) keeps drawing its request
    /// times after a journey failed outside any transaction, which counts a failed
    /// transaction there with no duration.
    #[test]
    fn a_journey_rows_points_stay_its_request_times() {
        let mut row = checkout(3, 0);
        row.txns.get_mut("checkout").unwrap().txn_err = 1;
        let detail = IntervalDetail::of_in_run(&row, &row, 0);
        assert_eq!(detail.txns.first().map(|t| (t.count, t.latency.max_us / 1000)), Some((3, 20)));
    }

    #[test]
    fn all_requests_points_are_never_transaction_durations_once_a_request_was_answered() {
        let mut run = Merged::default();
        let mut points = Vec::new();
        for interval in [checkout(0, 1), checkout(3, 1), checkout(0, 1)] {
            run.merge(&interval);
            points.push(IntervalDetail::of_in_run(&interval, &run, 0).all.map(|p| p.max_us / 1000));
        }
        assert_eq!(points, [Some(3_000), Some(20), None], "durations before any answer, then requests only");
    }

    #[test]
    fn detail_counts_errors_status_and_percentiles() {
        let mut merged = Merged::default();
        let mut stats = TxnStats { req_ok: 3, txn_ok: 2, connects: 1, ..TxnStats::default() };
        stats.add_error(ErrorKind::Timeout);
        stats.add_status(200);
        stats.add_status(503);
        for us in [1_000, 2_000, 50_000] {
            record_latency(&mut stats.txn_us, us);
        }
        merged.txns.insert("a".into(), stats);
        merged.txns.insert("empty".into(), TxnStats { connects: 1, ..TxnStats::default() });
        let detail = IntervalDetail::of(&merged, 7);
        assert_eq!(detail.ok, 3);
        assert_eq!(detail.errors_by_kind[ErrorKind::ALL.iter().position(|k| *k == ErrorKind::Timeout).unwrap()], 1);
        assert_eq!(detail.status_class, [0, 0, 1, 0, 0, 1]);
        assert_eq!(detail.connects, 2);
        assert_eq!(detail.journeys_target, 7);
        assert_eq!(detail.txns.len(), 1, "a name with no timings draws nothing");
        assert!((50_000..=50_100).contains(&detail.txns[0].latency.max_us));
        assert!(detail.txns[0].corrected.is_none());
        assert_eq!(detail.all.unwrap().p50_us, detail.txns[0].latency.p50_us, "one transaction: the same figures");
    }

    /// The interval records carried no WebSocket figures: a WebSocket run drew nothing of its
    /// messages over time. They carry every transaction's counts, and the reply times of the
    /// interval (not of the run so far); an interval without WebSockets has none.
    #[test]
    fn detail_counts_every_transactions_websockets() {
        let mut merged = Merged::default();
        for (name, sent, reply_ms) in [("chat", 10, 2), ("feed", 5, 40)] {
            let mut stats = TxnStats::default();
            stats.ws.connects = 1;
            stats.ws.messages_sent = sent;
            stats.ws.messages_received = sent - 1;
            stats.ws.bytes_sent = 100 * sent;
            stats.ws.bytes_received = 90 * sent;
            stats.ws.pings_received = 2;
            stats.ws.closes = 1;
            stats.ws.add_error(ErrorKind::WsClosed);
            for _ in 0..sent {
                record_latency(&mut stats.ws.reply_us, reply_ms * 1000);
            }
            merged.txns.insert(name.into(), stats);
        }
        merged.txns.insert("plain".into(), TxnStats { req_ok: 3, ..TxnStats::default() });
        let ws = IntervalDetail::of(&merged, 0).ws.expect("WebSockets counted");
        let counts = [ws.connects, ws.messages_sent, ws.messages_received, ws.bytes_sent, ws.bytes_received];
        assert_eq!(counts, [2, 15, 13, 1_500, 1_350]);
        assert_eq!((ws.pings_received, ws.closes, ws.errors), (4, 2, 2));
        let reply = ws.reply.expect("15 replies");
        assert_eq!((reply.p50_us / 1000, reply.p99_us / 1000), (2, 40), "{reply:?}");
        assert_eq!(IntervalDetail::of(&checkout(3, 1), 0).ws, None, "no WebSocket, no figures");
    }

    #[test]
    fn transactions_drawn_over_time_are_bounded() {
        let mut merged = Merged::default();
        for i in 0..TIMELINE_TRANSACTIONS_MAX + 5 {
            let mut stats = TxnStats { txn_ok: 1, ..TxnStats::default() };
            record_latency(&mut stats.txn_us, 10);
            merged.txns.insert(Arc::from(format!("t{i:04}")), stats);
        }
        let detail = IntervalDetail::of(&merged, 0);
        assert_eq!(detail.txns.len(), TIMELINE_TRANSACTIONS_MAX);
        assert_eq!(detail.txns_left_out, 5);
    }
}
