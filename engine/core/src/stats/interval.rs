//! The stats thread's intervals: which snapshots make up each one, when one is complete (every
//! core has reported it, or stopped), how their values are added, and the histograms one
//! interval hands on to the next (figures in benches/README.md):
//!
//! - Adding a transaction at a time. Added snapshot by snapshot, each core's values land all
//!   over the interval's histograms (on a big box far more than the caches hold); an interval
//!   keeps the snapshots it receives (up to `STATS_WAITING_VALUES_MAX` values) and adds them
//!   together, a transaction at a time, so that its histograms stay in cache while every core's
//!   values for it are added, summed per bucket first (`value_sums`) so that each bucket is
//!   recorded once. This is what made the thread's time per interval a quarter of what it was.
//! - Hand-on. A retired interval's transactions are kept, by name, counters zeroed, and the
//!   next interval that sees a name takes its histograms back (reset just before its values are
//!   added, while in cache), so that the thread allocates no histograms in steady state: new
//!   ones cost the kernel's page clearing whenever the allocator has given their memory back
//!   (a third of the time of the old bench, which dropped each interval before making the
//!   next). With the collector's order glibc keeps the memory, and hand-on measures as neutral.
//!
//! What a consumer sees is exactly what adding snapshot by snapshot to new histograms gives:
//! counts and percentiles because a reset histogram holds nothing and adding is order-free,
//! and range (hdrhistogram never shrinks a histogram) because an empty histogram wider than the
//! values need starts new (`histogram::narrow_for`) and [`Intervals::pop_complete`] fits any
//! other to what a new one would have grown to (`histogram::fit_range`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::limits::STATS_WAITING_VALUES_MAX;
use crate::stats::histogram::fit_range;
use crate::stats::value_sums::ValueSums;
use crate::stats::{IntervalKey, Merged, Phase, RecordedValues, Snapshot, TxnStats};

/// An interval not yet complete.
#[derive(Default)]
struct Pending {
    merged: Merged,
    /// When its latest snapshot was taken, seconds since the start.
    elapsed_s: f64,
    /// Snapshots received but not yet added, and the values they hold.
    waiting: Vec<Snapshot>,
    waiting_values: usize,
    /// Transactions taken back from a retired interval whose histograms still hold its values:
    /// each is reset just before its first values of this interval are added (when it is in
    /// cache), or when the interval completes.
    stale: BTreeSet<Arc<str>>,
}

/// Snapshots merged into their intervals until each is complete.
pub struct Intervals {
    /// Per core: the last interval it reported.
    last_tick: Vec<Option<IntervalKey>>,
    /// Per core: whether it sent its last snapshot.
    finished: Vec<bool>,
    /// Intervals not yet complete, by tick (the run's piece of an interval before the grace's).
    pending: BTreeMap<IntervalKey, Pending>,
    /// The transactions of the last interval handed back, counters zeroed, by name.
    spare: BTreeMap<Arc<str>, TxnStats>,
    /// Values an interval keeps waiting before it adds them (`STATS_WAITING_VALUES_MAX`).
    waiting_values_max: usize,
    /// Scratch for adding a transaction's values from every core.
    sums: ValueSums,
}

impl Intervals {
    /// Nothing reported yet by any of `cores` cores.
    pub fn new(cores: usize) -> Intervals {
        Intervals::with_waiting_max(cores, STATS_WAITING_VALUES_MAX)
    }

    fn with_waiting_max(cores: usize, waiting_values_max: usize) -> Intervals {
        Intervals {
            last_tick: vec![None; cores],
            finished: vec![false; cores],
            pending: BTreeMap::new(),
            spare: BTreeMap::new(),
            waiting_values_max,
            sums: ValueSums::default(),
        }
    }

    /// Takes a snapshot into the interval it closes (`snapshot.core` is below `cores`).
    pub fn add(&mut self, snapshot: Snapshot) {
        // A core's piece up to its stop is its last of the run: every interval of the run is
        // then reported for it (cores that see an interrupt on either side of a tick stop in
        // two intervals; the later one's line waits for no more from the earlier).
        let reported = if snapshot.phase == Phase::Stop { (false, u64::MAX) } else { snapshot.key() };
        self.last_tick[snapshot.core] = Some(reported);
        if snapshot.last {
            self.finished[snapshot.core] = true;
        }
        let pending = self.pending.entry(snapshot.key()).or_default();
        pending.elapsed_s = pending.elapsed_s.max(snapshot.elapsed_s);
        pending.waiting_values += snapshot.recorded.iter().flatten().map(RecordedValues::len).sum::<usize>();
        pending.waiting.push(snapshot);
        if pending.waiting_values >= self.waiting_values_max {
            pending.add_waiting(&mut self.spare, &mut self.sums);
        }
    }

    /// The oldest pending interval, once every core has reported it or stopped, with the time
    /// its latest snapshot was taken (seconds since the start). Its histograms are exactly what
    /// new ones holding the same values would be.
    pub fn pop_complete(&mut self) -> Option<(Merged, f64)> {
        let (&tick, _) = self.pending.first_key_value()?;
        let reported = |core: usize| self.finished[core] || self.last_tick[core].is_some_and(|t| t >= tick);
        if !(0..self.finished.len()).all(reported) {
            return None;
        }
        let (_, mut pending) = self.pending.pop_first()?;
        pending.add_waiting(&mut self.spare, &mut self.sums);
        for name in std::mem::take(&mut pending.stale) {
            if let Some(stats) = pending.merged.txns.get_mut(&name) {
                reset_histograms(stats);
            }
        }
        for stats in pending.merged.txns.values_mut() {
            for histogram in stats.histograms_mut() {
                fit_range(histogram);
            }
        }
        Some((pending.merged, pending.elapsed_s))
    }

    /// Takes back an interval no longer needed: its transactions (counters zeroed, histograms
    /// reset when taken) serve the next intervals. Only the last interval handed back is kept
    /// (what an earlier one left unused is freed), so the spares stay within one interval's size.
    pub fn recycle(&mut self, interval: Merged) {
        self.spare.clear();
        for (name, mut stats) in interval.txns {
            stats.clear_counters();
            self.spare.insert(name, stats);
        }
    }

    /// The run ends without `core` (its thread was lost): no interval waits for it any more.
    pub fn lost(&mut self, core: usize) {
        self.finished[core] = true;
    }

    /// Every core has sent its last snapshot.
    pub fn all_finished(&self) -> bool {
        self.finished.iter().all(|f| *f)
    }

    /// No interval is waiting for snapshots.
    pub fn none_pending(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Empties the histograms, keeping their allocations (and ranges: see `histogram::fit_range`).
fn reset_histograms(stats: &mut TxnStats) {
    for histogram in stats.histograms_mut() {
        histogram.reset();
    }
}

impl Pending {
    /// Adds the waiting snapshots, in the order they came: counters snapshot by snapshot, then
    /// values a transaction and a histogram at a time, every snapshot's together (`sums`). A
    /// transaction new to the interval takes its spare, if any.
    fn add_waiting(&mut self, spare: &mut BTreeMap<Arc<str>, TxnStats>, sums: &mut ValueSums) {
        let waiting = std::mem::take(&mut self.waiting);
        let mut by_name: BTreeMap<&str, Vec<&[RecordedValues; TxnStats::HISTOGRAMS]>> = BTreeMap::new();
        let stale = &mut self.stale;
        for snapshot in &waiting {
            self.merged.add_counters(snapshot, |name| match spare.remove_entry(name) {
                Some((name, stats)) => {
                    stale.insert(name);
                    stats
                }
                None => TxnStats::default(),
            });
            for ((name, _), values) in snapshot.txns.iter().zip(&snapshot.recorded) {
                by_name.entry(name).or_default().push(values);
            }
        }
        for (name, values) in by_name {
            let stats = self.merged.txns.get_mut(name).expect("every transaction's counters were added");
            if self.stale.remove(name) {
                reset_histograms(stats);
            }
            for (at, histogram) in stats.histograms_mut().into_iter().enumerate() {
                sums.add_to(values.iter().map(|core_values| &core_values[at]), histogram);
            }
        }
        self.waiting_values = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{ErrorKind, record_latency};
    use proptest::prelude::*;

    /// One core's interval: per transaction index, `None` when it did nothing, else its
    /// latencies (none: it only counted an error).
    type CoreInterval = Vec<Option<Vec<u64>>>;

    fn name(t: usize) -> Arc<str> {
        Arc::from(format!("journey :: transaction {t}"))
    }

    /// What a core sends for `txns`, taken as a core takes it (`TxnStats::take_interval`).
    fn snapshot(core: usize, tick: u64, txns: &[Option<Vec<u64>>]) -> Snapshot {
        let (mut taken, mut recorded) = (Vec::new(), Vec::new());
        for (t, latencies) in txns.iter().enumerate() {
            let Some(latencies) = latencies else { continue };
            let mut stats = TxnStats::default();
            if latencies.is_empty() {
                stats.add_error(ErrorKind::Timeout);
            }
            for &us in latencies {
                stats.req_ok += 1;
                stats.add_status(200);
                record_latency(&mut stats.req_us, us);
                record_latency(&mut stats.http.first_byte_us, us / 2);
                record_latency(&mut stats.txn_us, us + 100);
            }
            let (counters, values) = stats.take_interval();
            assert!(stats.is_empty() && stats.histograms_mut().iter().all(|h| h.is_empty()));
            taken.push((name(t), counters));
            recorded.push(values);
        }
        Snapshot { core, elapsed_s: tick as f64, tick, txns: taken, recorded, ..Snapshot::default() }
    }

    /// What a reader sees of a histogram: its values and counts, and its range (which its
    /// encoding carries).
    type Seen = (u64, u64, u64, u64, u8, usize, Vec<(u64, u64)>);

    fn seen_histogram(h: &hdrhistogram::Histogram<u64>) -> Seen {
        let values = h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        (h.len(), h.min_nz(), h.max(), h.high(), h.buckets(), h.distinct_values(), values)
    }

    /// Everything a consumer of the interval can see of its transactions: names, counters,
    /// histograms.
    fn seen(interval: &Merged) -> Vec<(Arc<str>, String, Vec<Seen>)> {
        let seen_txn = |(name, stats): (&Arc<str>, &TxnStats)| {
            let mut stats = stats.clone();
            let histograms = stats.histograms_mut().map(|h| seen_histogram(h)).to_vec();
            (name.clone(), format!("{:?}", stats.take_counters()), histograms)
        };
        interval.txns.iter().map(seen_txn).collect()
    }

    /// Runs `intervals` (per interval, per core) through [`Intervals`] as the stats thread does
    /// (each interval handed back once the next one has closed) and checks each against a new
    /// `Merged` of the same snapshots. Returns the intervals as seen.
    fn merged_both_ways(intervals: &[Vec<CoreInterval>], waiting_values_max: usize) -> Vec<Merged> {
        let cores = intervals.first().map_or(1, Vec::len);
        let mut reused = Intervals::with_waiting_max(cores, waiting_values_max);
        let (mut previous, mut out) = (None, Vec::new());
        for (tick, cores_txns) in intervals.iter().enumerate() {
            let mut fresh = Merged::default();
            for (core, txns) in cores_txns.iter().enumerate() {
                if core > 0 {
                    assert!(reused.pop_complete().is_none(), "complete before every core reported");
                }
                reused.add(snapshot(core, tick as u64, txns));
                fresh.add(&snapshot(core, tick as u64, txns));
            }
            let (interval, _) = reused.pop_complete().expect("every core reported");
            // Not assert_eq: a histogram's values run to thousands.
            assert!(seen(&interval) == seen(&fresh), "interval {tick} differs from a new merge");
            out.push(interval.clone());
            if let Some(before) = previous.replace(interval) {
                reused.recycle(before);
            }
        }
        out
    }

    fn latencies() -> impl Strategy<Value = Vec<u64>> {
        let one = prop_oneof![1u64..3_000, 1u64..200_000, 1u64..60_000_000, Just(crate::limits::LATENCY_US_MAX)];
        proptest::collection::vec(one, 0..25)
    }

    proptest! {
        // Each case walks some hundred histograms of up to 23k buckets in an unoptimised build.
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn reused_histograms_merge_exactly_as_new_ones(
            intervals in (1usize..4).prop_flat_map(|cores| proptest::collection::vec(
                proptest::collection::vec(proptest::collection::vec(proptest::option::of(latencies()), 0..5), cores),
                1..7,
            )),
            waiting_values_max in prop_oneof![Just(STATS_WAITING_VALUES_MAX), 0usize..40],
        ) {
            merged_both_ways(&intervals, waiting_values_max);
        }
    }

    #[test]
    fn nothing_of_an_interval_leaks_into_the_next() {
        // Interval 2 takes back interval 0's transactions, interval 3 interval 1's.
        let intervals = vec![
            vec![vec![Some(vec![5_000_000, 300]), Some(vec![40])], vec![Some(vec![70_000]), None]],
            vec![vec![Some(vec![4_000_000]), None], vec![None, None]],
            // Transaction 0 with latencies far below those of the interval it reuses.
            vec![vec![Some(vec![120]), None], vec![Some(vec![100]), None]],
            // Transaction 0 only failed: no latency at all.
            vec![vec![Some(vec![]), None], vec![None, None]],
            vec![vec![None, Some(vec![90])], vec![None, None]],
        ];
        let mut merged = merged_both_ways(&intervals, STATS_WAITING_VALUES_MAX);
        assert!(
            merged_both_ways(&intervals, 1).iter().zip(&merged).all(|(a, b)| seen(a) == seen(b)),
            "added as they come"
        );
        let small = &merged[2].txns[&name(0)];
        assert_eq!(
            (small.req_ok, small.req_errors(), small.req_us.len(), small.status_codes.clone()),
            (2, 0, 2, vec![(200, 2)])
        );
        assert_eq!(small.req_us.max(), small.req_us.highest_equivalent(120), "not the 5 s of interval 0");
        assert!(!merged[2].txns.contains_key(&name(1)));
        let failed = merged[3].txns.get_mut(&name(0)).expect("transaction 0 failed in interval 3");
        assert_eq!((failed.req_errors(), failed.req_ok, failed.status_class[2]), (1, 0, 0));
        assert!(failed.histograms_mut().iter().all(|h| h.is_empty() && h.buckets() == 1), "and its range is new");
        assert!(!merged[4].txns.contains_key(&name(0)));
    }

    #[test]
    fn a_transaction_sent_without_values_holds_none_of_an_earlier_interval() {
        let mut intervals = Intervals::new(1);
        intervals.add(snapshot(0, 0, &[Some(vec![5_000_000])]));
        let (first, _) = intervals.pop_complete().expect("one core");
        intervals.recycle(first);
        let mut bare = snapshot(0, 1, &[Some(vec![])]);
        bare.recorded.clear();
        intervals.add(bare);
        let (mut second, _) = intervals.pop_complete().expect("one core");
        let stats = second.txns.get_mut(&name(0)).expect("counted");
        assert_eq!(stats.req_errors(), 1);
        assert!(stats.histograms_mut().iter().all(|h| h.is_empty() && h.buckets() == 1));
    }

    #[test]
    fn an_interval_waits_for_every_core_that_has_not_stopped() {
        let mut intervals = Intervals::new(3);
        intervals.add(snapshot(0, 0, &[Some(vec![10])]));
        intervals.add(snapshot(1, 0, &[Some(vec![20])]));
        assert!(intervals.pop_complete().is_none(), "core 2 has not reported tick 0");
        let mut stopped = snapshot(2, 0, &[]);
        stopped.last = true;
        intervals.add(stopped);
        intervals.add(snapshot(0, 1, &[Some(vec![30])]));
        let (first, _) = intervals.pop_complete().expect("tick 0 complete");
        assert_eq!(first.txns[&name(0)].req_ok, 2);
        assert!(intervals.pop_complete().is_none(), "core 1 has not reported tick 1");
        intervals.add(snapshot(1, 1, &[]));
        assert!(intervals.pop_complete().is_some() && intervals.none_pending());
        assert!(!intervals.all_finished());
    }

    /// The stop at 1.5 s with journeys in flight: the piece up to it and the grace's piece to
    /// 2 s have the same interval index, and are two intervals, in that order (they were one).
    #[test]
    fn the_grace_is_an_interval_apart_from_the_stop() {
        use crate::stats::Phase;
        let mut intervals = Intervals::new(2);
        let piece = |core, tick, phase, last| Snapshot { phase, last, ..snapshot(core, tick, &[Some(vec![10])]) };
        // Core 1 had nothing in flight at its stop: its last report, in the run's interval 1.
        intervals.add(piece(0, 1, Phase::Stop, false));
        intervals.add(piece(1, 1, Phase::Run, true));
        intervals.add(piece(0, 1, Phase::Grace, false));
        intervals.add(piece(0, 2, Phase::Grace, true));
        let counts: Vec<u64> =
            std::iter::from_fn(|| intervals.pop_complete()).map(|(m, _)| m.txns[&name(0)].req_ok).collect();
        assert_eq!(counts, [2, 1, 1], "the stop's piece (both cores), then two pieces of grace");
        assert!(intervals.all_finished() && intervals.none_pending());
        // A grace piece waits for a core that has not reported past it.
        let mut intervals = Intervals::new(2);
        intervals.add(piece(0, 1, Phase::Grace, false));
        intervals.add(piece(1, 1, Phase::Stop, false));
        assert!(intervals.pop_complete().is_some(), "interval 1 up to the stop");
        assert!(intervals.pop_complete().is_none(), "core 1 has not reported its grace to 2 s");
        intervals.add(piece(1, 2, Phase::Grace, true));
        assert!(intervals.pop_complete().is_some());
    }

    /// An interrupt seen by core 0 just before the tick ending interval 4 and by core 1 just
    /// after it: core 1's piece up to its stop is in interval 5, and is a line of the run,
    /// before the grace's (core 0's grace piece to that tick came between them).
    #[test]
    fn every_core_s_stop_comes_before_the_grace() {
        use crate::stats::Phase;
        let mut intervals = Intervals::new(2);
        // `n` requests of 10 µs.
        let piece = |core, tick, phase, last, n| Snapshot { phase, last, ..snapshot(core, tick, &[Some(vec![10; n])]) };
        intervals.add(piece(0, 4, Phase::Stop, false, 1));
        intervals.add(piece(1, 4, Phase::Run, false, 1));
        intervals.add(piece(0, 4, Phase::Grace, false, 3));
        intervals.add(piece(1, 5, Phase::Stop, false, 5));
        intervals.add(piece(0, 5, Phase::Grace, true, 1));
        intervals.add(piece(1, 5, Phase::Grace, true, 1));
        let mut order = Vec::new();
        while let Some((merged, _)) = intervals.pop_complete() {
            order.push(merged.txns[&name(0)].req_ok);
        }
        // Interval 4 (both cores), core 1's stop in 5, then the grace: core 0's piece of 4,
        // both cores' of 5.
        assert_eq!(order, [2, 5, 3, 2]);
    }

    /// Core 1 stopped in interval 4 (its grace goes on), core 0 just after the tick, in 5: the
    /// line up to core 0's stop waits for nothing more from core 1 (it waited for core 1's
    /// next grace piece, a tick later).
    #[test]
    fn a_stopped_core_holds_no_interval_of_the_run() {
        use crate::stats::Phase;
        let mut intervals = Intervals::new(2);
        let piece = |core, tick, phase| Snapshot { phase, ..snapshot(core, tick, &[Some(vec![10])]) };
        intervals.add(piece(1, 4, Phase::Stop));
        intervals.add(piece(0, 4, Phase::Run));
        intervals.add(piece(0, 5, Phase::Stop));
        assert!(intervals.pop_complete().is_some(), "interval 4");
        assert!(intervals.pop_complete().is_some(), "core 0's piece up to its stop, in 5");
        assert!(intervals.pop_complete().is_none(), "the grace waits for both cores");
    }
}
