//! Latencies as a core records them: a count per hdrhistogram bucket in one flat array
//! ([`SlotCounts`]), one per histogram of a transaction ([`Latencies`]). A record is an index
//! computed with a `leading_zeros` and a few shifts, and one increment; hdrhistogram's own
//! `record` also keeps the total, the minimum and the maximum, and costs about a hundred
//! instructions. The counts travel to the stats thread as [`RecordedValues`], which builds
//! the same histograms from them as from histograms recorded value by value
//! (`slot_counts_make_the_histogram_record_makes`).

use crate::limits::LATENCY_US_MAX;
use crate::stats::histogram::{RecordedValues, SUB_BUCKETS, slot_of};
use crate::stats::{Timings, TxnStats};

/// Counts of latencies (µs) by the slot of their bucket in a latency histogram
/// (`histogram::slot_of`). It takes no memory until its first value, then grows a bucket at a
/// time, as hdrhistogram grows its counts: the same 16 KiB below 2 ms, 1 KiB more per doubling
/// of the range; it keeps its memory for the next interval.
#[derive(Debug, Default)]
pub struct SlotCounts {
    counts: Box<[u64]>,
}

impl SlotCounts {
    /// No values, no memory.
    pub fn new() -> SlotCounts {
        SlotCounts { counts: Box::new([]) }
    }

    /// Counts `value_us`, clamped to `1..=LATENCY_US_MAX` as `histogram::record_latency`
    /// clamps it.
    #[inline]
    pub fn record(&mut self, value_us: u64) {
        let slot = slot_of(value_us.clamp(1, LATENCY_US_MAX));
        match self.counts.get_mut(slot) {
            Some(count) => *count += 1,
            None => self.grow_and_record(slot),
        }
    }

    /// [`Self::record`]'s slow path: the counts grown to the end of `slot`'s bucket first (the
    /// first bucket's slots, below `SUB_BUCKETS`, at least).
    #[cold]
    #[inline(never)]
    fn grow_and_record(&mut self, slot: usize) {
        let half = SUB_BUCKETS as usize / 2;
        let len = (slot / half + 1).max(2) * half;
        let mut counts = vec![0; len].into_boxed_slice();
        counts[..self.counts.len()].copy_from_slice(&self.counts);
        counts[slot] = 1;
        self.counts = counts;
    }

    /// Whether it holds memory (a value was recorded once).
    pub fn is_made(&self) -> bool {
        !self.counts.is_empty()
    }

    /// Moves the counts out as [`RecordedValues`], leaving zeros (and the memory).
    pub fn take(&mut self) -> RecordedValues {
        RecordedValues::take_slot_counts(&mut self.counts)
    }
}

/// Which of a transaction's histograms a latency goes to, in `TxnStats::histograms_mut` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Latency {
    /// `txn_us`.
    Txn,
    /// `txn_us_corrected`.
    TxnCorrected,
    /// `req_us`.
    Req,
    /// `req_us_corrected`.
    ReqCorrected,
    /// `http.dns_us`.
    Dns,
    /// `http.connect_us`.
    Connect,
    /// `http.tls_us`.
    Tls,
    /// `http.first_byte_us`.
    FirstByte,
    /// `ws.reply_us`.
    WsReply,
}

/// A transaction's latencies on one core, one [`SlotCounts`] per histogram of its
/// [`TxnStats`]: what a core records into (its `TxnStats` keeps the counters).
#[derive(Debug, Default)]
pub struct Latencies([SlotCounts; TxnStats::HISTOGRAMS]);

impl Latencies {
    /// Counts `value_us` for the histogram `which`.
    #[inline]
    pub fn record(&mut self, which: Latency, value_us: u64) {
        self.0[which as usize].record(value_us);
    }

    /// Counts a response's phases: its time to first byte, and the name lookup, connect and
    /// TLS handshake it did.
    #[inline]
    pub fn record_phases(&mut self, timings: &Timings) {
        self.record_connection_phases(timings);
        self.record(Latency::FirstByte, timings.first_byte_us);
    }

    /// Counts the name lookup, connect and TLS handshake an exchange did, answered or not (a
    /// request that timed out on a new connection made its connect as one answered did). An
    /// exchange that connected more than once (a retry on a new connection) has the sum of its
    /// connects' times: each is counted as their mean, so that the phase counts one value per
    /// connect that succeeded, as `TxnStats::connects` does, with the same sum.
    #[inline]
    pub fn record_connection_phases(&mut self, timings: &Timings) {
        if let Some(us) = timings.dns_us {
            self.record(Latency::Dns, us);
        }
        let connects = timings.connects.saturating_sub(timings.connects_failed).max(1);
        let handshakes = timings.tls_handshakes.saturating_sub(timings.tls_failed).max(1);
        for (which, us, n) in
            [(Latency::Connect, timings.connect_us, connects), (Latency::Tls, timings.tls_us, handshakes)]
        {
            if let Some(us) = us {
                for _ in 0..n {
                    self.record(which, us / u64::from(n));
                }
            }
        }
    }

    /// Counts the connection work an exchange reported since a report of `before` (both
    /// cumulative over the exchange): each phase is timed when it is counted, so a request
    /// cancelled at the stop after its connect has that connect timed as well as counted.
    #[inline]
    pub fn record_connection_phases_since(&mut self, before: &Timings, now: &Timings) {
        let succeeded =
            |t: &Timings| (t.connects.saturating_sub(t.connects_failed), t.tls_handshakes.saturating_sub(t.tls_failed));
        let ((connects, handshakes), (connects_before, handshakes_before)) = (succeeded(now), succeeded(before));
        let since = |now_us: Option<u64>, before_us: Option<u64>, more: bool| {
            now_us.filter(|_| more || before_us.is_none()).map(|us| us.saturating_sub(before_us.unwrap_or(0)))
        };
        self.record_connection_phases(&Timings {
            dns_us: now.dns_us.filter(|_| before.dns_us.is_none()),
            connect_us: since(now.connect_us, before.connect_us, connects > connects_before),
            tls_us: since(now.tls_us, before.tls_us, handshakes > handshakes_before),
            connects: connects.saturating_sub(connects_before),
            tls_handshakes: handshakes.saturating_sub(handshakes_before),
            ..Timings::default()
        });
    }

    /// Moves the counts out, in `TxnStats::histograms_mut` order, keeping the memory.
    pub fn take(&mut self) -> [RecordedValues; TxnStats::HISTOGRAMS] {
        self.0.each_mut().map(SlotCounts::take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::histogram::{fit_range, highest_of};
    use crate::stats::{LatencyHistogram, new_latency_histogram, record_latency};
    use hdrhistogram::Histogram;
    use proptest::prelude::*;

    /// Equal in everything a reader of the histogram sees: values, counts, range, encoding.
    fn same(a: &Histogram<u64>, b: &Histogram<u64>) -> bool {
        use crate::stats::histogram::encode;
        (a.high(), a.buckets()) == (b.high(), b.buckets())
            && a == b
            && (a.min(), a.max(), a.len(), a.mean()) == (b.min(), b.max(), b.len(), b.mean())
            && encode(a) == encode(b)
    }

    /// The histogram the stats thread builds from `values` counted as slots.
    fn through_slots(values: &[u64]) -> LatencyHistogram {
        let mut counts = SlotCounts::new();
        for &value in values {
            counts.record(value);
        }
        let mut built = LatencyHistogram::new();
        counts.take().add_to(&mut built);
        assert!(counts.take().is_empty(), "taking leaves nothing");
        built
    }

    /// Values across the whole range, each bucket's edges, the clamp's edges and beyond.
    fn edges() -> Vec<u64> {
        let mut values = vec![0, 1, 2, 3, 1_000, 2_047, 2_048, 2_049];
        for shift in 0..64 {
            let edge = 1u64 << shift;
            values.extend([edge - 1, edge, edge + 1, edge + edge / 3]);
        }
        values.extend([LATENCY_US_MAX - 1, LATENCY_US_MAX, LATENCY_US_MAX + 1, u64::MAX - 1, u64::MAX]);
        values
    }

    proptest! {
        #[test]
        fn slot_counts_make_the_histogram_record_makes(
            values in proptest::collection::vec(
                prop_oneof![0u64..5_000, 0u64..200_000, 0u64..LATENCY_US_MAX + 1_000, any::<u64>()],
                0..400,
            ),
        ) {
            let mut recorded = new_latency_histogram();
            for &value in &values {
                record_latency(&mut recorded, value);
            }
            let built = through_slots(&values);
            prop_assert!(same(&built, &recorded));
        }

        #[test]
        fn slots_follow_hdrhistogram_at_any_precision(
            sigfigs in 1u8..=5,
            values in proptest::collection::vec(0u64..1 << 62, 1..50),
        ) {
            // `slot_of` is hdrhistogram's index at unit 1; at LATENCY_SIGFIGS it is checked
            // for every bucket edge in `histogram`; here the arithmetic at other precisions
            // (below the top bucket, where hdrhistogram's own answer saturates one short).
            let h = Histogram::<u64>::new_with_bounds(1, u64::MAX, sigfigs).unwrap();
            let bits = (2 * 10u64.pow(u32::from(sigfigs))).next_power_of_two().trailing_zeros();
            for value in values {
                let slot = crate::stats::histogram::slot_at(value, bits);
                prop_assert_eq!(crate::stats::histogram::highest_at(slot, bits), h.highest_equivalent(value));
            }
        }
    }

    #[test]
    fn every_edge_and_the_clamp_give_what_record_gives() {
        let values = edges();
        let mut recorded = new_latency_histogram();
        for &value in &values {
            record_latency(&mut recorded, value);
            assert!(same(&through_slots(&[value]), &fresh_with(value)), "{value} alone");
        }
        assert!(same(&through_slots(&values), &recorded));
        assert_eq!(recorded.len(), values.len() as u64, "nothing dropped");
    }

    fn fresh_with(value: u64) -> Histogram<u64> {
        let mut h = new_latency_histogram();
        record_latency(&mut h, value);
        h
    }

    #[test]
    fn counts_grow_a_bucket_at_a_time_and_keep_their_memory() {
        let mut counts = SlotCounts::new();
        assert!(!counts.is_made() && counts.take().is_empty());
        counts.record(500);
        assert_eq!(counts.counts.len(), SUB_BUCKETS as usize, "the first bucket, as hdrhistogram makes it");
        counts.record(100_000);
        let hdr = fresh_with(100_000);
        assert_eq!(counts.counts.len(), hdr.distinct_values(), "hdrhistogram's counts at 100 ms");
        counts.record(LATENCY_US_MAX);
        assert!(highest_of(counts.counts.len() - 1) >= LATENCY_US_MAX);
        let values = counts.take();
        assert_eq!(values.len(), 3);
        assert!(counts.is_made(), "memory kept for the next interval");
        counts.record(7);
        assert_eq!(counts.take().pairs(), &[(7, 1)]);
    }

    #[test]
    fn a_histogram_built_from_counts_needs_no_fitting() {
        let mut built = through_slots(&[90_000, 5, 3_000_000]);
        let before = built.clone();
        fit_range(&mut built);
        assert!(same(&built, &before));
    }

    #[test]
    fn latencies_land_in_their_histograms() {
        let values = [(Latency::Txn, 10), (Latency::TxnCorrected, 20), (Latency::Req, 30), (Latency::ReqCorrected, 40)];
        let timings = Timings {
            dns_us: Some(50),
            connect_us: Some(60),
            tls_us: Some(70),
            first_byte_us: 80,
            ..Timings::default()
        };
        let (mut latencies, mut stats) = (Latencies::default(), TxnStats::default());
        for (which, us) in values {
            latencies.record(which, us);
        }
        latencies.record_phases(&timings);
        latencies.record(Latency::WsReply, 90);
        record_latency(&mut stats.txn_us, 10);
        record_latency(&mut stats.txn_us_corrected, 20);
        record_latency(&mut stats.req_us, 30);
        record_latency(&mut stats.req_us_corrected, 40);
        stats.http.record(&http::Method::GET, 200, &timings);
        record_latency(&mut stats.ws.reply_us, 90);
        let (_, expected) = stats.take_interval();
        assert_eq!(latencies.take(), expected);
        assert!(latencies.take().iter().all(RecordedValues::is_empty));
    }

    /// An exchange that connected twice (one failed try first, then two that succeeded: a
    /// retry) counts a connect time for each that succeeded, their mean, so that the phase's
    /// count is the connects' and its sum their times'; a handshake that failed has none.
    #[test]
    fn each_connect_that_succeeded_has_a_phase_time() {
        let timings = Timings {
            connect_us: Some(300),
            connects: 3,
            connects_failed: 1,
            tls_us: Some(500),
            tls_handshakes: 3,
            tls_failed: 2,
            ..Timings::default()
        };
        let mut latencies = Latencies::default();
        latencies.record_connection_phases(&timings);
        let taken = latencies.take();
        let at = |which: Latency| taken[which as usize].pairs().iter().map(|&(_, n)| u64::from(n)).sum::<u64>();
        assert_eq!((at(Latency::Connect), at(Latency::Tls), at(Latency::FirstByte)), (2, 1, 0));
    }

    /// Connection work timed as it is reported: a first connect (with its name lookup) when it
    /// is made, a retry's second connect at the next report, nothing again at the exchange's
    /// end; each time once, the lookup once.
    #[test]
    fn connection_work_is_timed_once_as_it_is_reported() {
        let first = Timings { dns_us: Some(40), connect_us: Some(300), connects: 1, ..Timings::default() };
        let retried = Timings { connect_us: Some(800), connects: 3, connects_failed: 1, ..first };
        let mut latencies = Latencies::default();
        let mut reported = Timings::default();
        for now in [first, first, retried, retried] {
            latencies.record_connection_phases_since(&reported, &now);
            reported = now;
        }
        let taken = latencies.take();
        let pairs = |which: Latency| taken[which as usize].pairs().to_vec();
        assert_eq!(pairs(Latency::Dns), [(40, 1)]);
        assert_eq!(pairs(Latency::Connect), [(300, 1), (500, 1)], "the first, then the retry's");
        assert!(pairs(Latency::Tls).is_empty());
    }
}
