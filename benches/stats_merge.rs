//! The stats thread's work per interval on a big box: 64 cores each send one snapshot of 200
//! transactions; the thread merges each into its interval (`stats::Intervals`, as the run's
//! collector does), drops it, folds the interval into the run's totals, and folds it into one
//! total for the progress line. It must take a small share of the interval. Snapshots carry
//! each transaction's counters and its histograms' recorded values (`RecordedValues`), taken on
//! each core; `core_takes_its_snapshot` is that cost on one core. The `before_` rows are the
//! earlier ways, kept to show what each change bought (benches/README.md): intervals added
//! together but into new histograms each time; and snapshot by snapshot into new histograms
//! (`Merged::add`), as the stats thread did before.

use std::sync::Arc;

use criterion::{BatchSize, Criterion, black_box, criterion_group, criterion_main};
use mite_core::stats::{Intervals, LatencyHistogram, Merged, RecordedValues, Snapshot, TxnStats, record_latency};

const CORES: usize = 64;
const TRANSACTIONS: usize = 200;
/// Latencies recorded per transaction per core per interval: 100 k requests/s per core spread
/// over 200 transactions.
const SAMPLES: u64 = 500;

/// A core's interval: its transactions with their histograms still in them.
fn core_interval(core: usize) -> Vec<(Arc<str>, TxnStats)> {
    let mut seed = core as u64 * 7919 + 1;
    let mut next = move || {
        // xorshift, then log-uniform over 500 µs .. 50 ms, with one in a hundred up to 5 s.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let unit = (seed >> 11) as f64 / (1u64 << 53) as f64;
        let high = if seed.is_multiple_of(100) { 5_000_000f64 } else { 50_000f64 };
        (500f64 * (high / 500f64).powf(unit)) as u64
    };
    (0..TRANSACTIONS)
        .map(|t| {
            let mut stats = TxnStats::default();
            for _ in 0..SAMPLES {
                record_latency(&mut stats.txn_us, next());
                record_latency(&mut stats.req_us, next());
            }
            stats.txn_ok = SAMPLES;
            stats.req_ok = SAMPLES;
            (Arc::from(format!("journey :: transaction {t}")), stats)
        })
        .collect()
}

/// What one core sends for one interval, kept to build its snapshot again each iteration.
struct CoreSends {
    core: usize,
    txns: Vec<(Arc<str>, [RecordedValues; TxnStats::HISTOGRAMS])>,
}

impl CoreSends {
    /// Takes the interval as a core does (`TxnStats::take_interval`).
    fn of(core: usize) -> CoreSends {
        let txns = core_interval(core).into_iter().map(|(name, mut stats)| (name, stats.take_interval().1)).collect();
        CoreSends { core, txns }
    }

    /// The snapshot that closes interval `tick`.
    fn snapshot(&self, tick: u64) -> Snapshot {
        let counters = || TxnStats { txn_ok: SAMPLES, req_ok: SAMPLES, ..TxnStats::counters_only() };
        Snapshot {
            core: self.core,
            elapsed_s: tick as f64,
            tick,
            txns: self.txns.iter().map(|(name, _)| (name.clone(), counters())).collect(),
            recorded: self.txns.iter().map(|(_, values)| values.clone()).collect(),
            ..Snapshot::default()
        }
    }
}

/// The stats thread as the run's collector drives it: snapshots merged into their interval
/// (and dropped), the complete interval folded into the run's totals and into one total; the
/// interval before is handed back for its histograms.
struct StatsThread {
    intervals: Intervals,
    run_total: Merged,
    previous: Option<Merged>,
    /// Hand the interval before back (false: each interval's histograms are new, as before).
    recycle: bool,
}

impl StatsThread {
    fn interval(&mut self, snapshots: Vec<Snapshot>) -> u64 {
        for snapshot in snapshots {
            self.intervals.add(snapshot);
        }
        let (interval, _) = self.intervals.pop_complete().expect("every core reported");
        self.run_total.merge(&interval);
        let requests = interval.total().requests();
        if let Some(before) = self.previous.replace(interval)
            && self.recycle
        {
            self.intervals.recycle(before);
        }
        requests
    }
}

fn merge_interval(c: &mut Criterion) {
    let cores: Vec<CoreSends> = (0..CORES).map(CoreSends::of).collect();
    let mut tick = 0;
    let mut next_interval = || {
        tick += 1;
        cores.iter().map(|core| core.snapshot(tick)).collect::<Vec<_>>()
    };
    let new_thread = |recycle| StatsThread {
        intervals: Intervals::new(CORES),
        run_total: Merged::default(),
        previous: None,
        recycle,
    };
    let (mut thread, mut without_recycling) = (new_thread(true), new_thread(false));
    // The run's totals already hold every transaction after the first interval, and the
    // intervals have transactions to hand on.
    for _ in 0..3 {
        thread.interval(next_interval());
        without_recycling.interval(next_interval());
    }
    let mut group = c.benchmark_group("stats_thread");
    group.sample_size(20);
    group.bench_function("one_interval_64_cores_200_transactions", |b| {
        b.iter_batched(&mut next_interval, |snapshots| black_box(thread.interval(snapshots)), BatchSize::LargeInput)
    });
    group.bench_function("before_added_together_into_new_histograms", |b| {
        b.iter_batched(
            &mut next_interval,
            |snapshots| black_box(without_recycling.interval(snapshots)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("before_new_histograms_each_interval", |b| {
        b.iter_batched(
            &mut next_interval,
            |snapshots| {
                let mut interval = Merged::default();
                for snapshot in snapshots {
                    interval.add(&snapshot);
                }
                thread.run_total.merge(&interval);
                black_box(interval.total().requests())
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn core_snapshot(c: &mut Criterion) {
    let txns = core_interval(0);
    let mut group = c.benchmark_group("stats_thread");
    group.sample_size(20);
    group.bench_function("core_takes_its_snapshot", |b| {
        b.iter_batched(
            || txns.clone(),
            |mut txns| {
                let taken: Vec<_> = txns.iter_mut().map(|(_, stats)| stats.take_interval()).collect();
                black_box((taken, txns))
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("before_core_takes_its_snapshot_with_new_histograms", |b| {
        b.iter_batched(
            || txns.clone(),
            |mut txns| {
                let taken: Vec<_> = txns
                    .iter_mut()
                    .map(|(_, stats)| {
                        let mut taken = std::mem::take(stats);
                        let values = taken.histograms_mut().map(LatencyHistogram::take_values);
                        (taken, values)
                    })
                    .collect();
                black_box((taken, txns))
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, merge_interval, core_snapshot);
criterion_main!(benches);
