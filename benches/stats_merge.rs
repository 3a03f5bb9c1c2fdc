//! The stats thread's work per interval on a big box: 64 cores each send one snapshot of 200
//! transactions; the thread merges each into the interval, folds the interval into the run's
//! totals, and folds it into one total for the progress line. It must take a small share of
//! the interval. Snapshots carry their histograms' recorded values (`RecordedValues`), taken
//! on each core; `core_takes_its_snapshot` is that cost on one core. The two `before_` benches
//! are the earlier ways (whole histograms in the snapshot, merged twice / once), kept to show
//! what each change bought.

use std::sync::Arc;

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use mite_core::stats::{Merged, RecordedValues, Snapshot, TxnStats, record_latency};

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

/// What the core sends: the values recorded moved out of the histograms, as `take_snapshot`
/// does (or, `sparse = false`, the whole histograms, as before).
fn snapshot(core: usize, mut txns: Vec<(Arc<str>, TxnStats)>, sparse: bool) -> Snapshot {
    let recorded = if sparse {
        txns.iter_mut().map(|(_, stats)| stats.histograms_mut().map(RecordedValues::take)).collect()
    } else {
        Vec::new()
    };
    Snapshot {
        core,
        elapsed_s: 1.0,
        tick: 0,
        txns,
        recorded,
        journeys: Default::default(),
        journeys_in_flight: 0,
        journeys_target: 0,
        messages: Vec::new(),
        error_samples: Vec::new(),
        last: false,
        injector: Default::default(),
    }
}

fn merge_interval(c: &mut Criterion) {
    let intervals: Vec<_> = (0..CORES).map(core_interval).collect();
    let snapshots: Vec<Snapshot> = intervals.iter().enumerate().map(|(i, t)| snapshot(i, t.clone(), true)).collect();
    let whole: Vec<Snapshot> = intervals.iter().enumerate().map(|(i, t)| snapshot(i, t.clone(), false)).collect();
    // The run's totals already hold every transaction after the first interval.
    let mut run_total = Merged::default();
    for s in &snapshots {
        run_total.add(s);
    }
    let mut group = c.benchmark_group("stats_thread");
    group.sample_size(20);
    group.bench_function("one_interval_64_cores_200_transactions", |b| {
        b.iter(|| {
            let mut interval = Merged::default();
            for s in &snapshots {
                interval.add(s);
            }
            run_total.merge(&interval);
            black_box(interval.total().requests())
        })
    });
    group.bench_function("core_takes_its_snapshot", |b| {
        b.iter_batched(
            || intervals[0].clone(),
            |txns| black_box(snapshot(0, txns, true).recorded.len()),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("before_whole_histograms_merged_once", |b| {
        b.iter(|| {
            let mut interval = Merged::default();
            for s in &whole {
                interval.add(s);
            }
            run_total.merge(&interval);
            black_box(interval.total().requests())
        })
    });
    group.bench_function("before_whole_histograms_merged_twice", |b| {
        b.iter(|| {
            let mut interval = Merged::default();
            for s in &whole {
                run_total.add(s);
                interval.add(s);
            }
            black_box(interval.total().requests())
        })
    });
    group.finish();
}

criterion_group!(benches, merge_interval);
criterion_main!(benches);
