//! The stats thread's work per interval on a big box: 64 cores each send one snapshot of 200
//! transactions; the thread merges each into the interval, folds the interval into the run's
//! totals, and folds it into one total for the progress line. It must take a small share of
//! the interval. `before_single_merge` is the earlier way (each snapshot merged twice, into
//! the interval and into the run), kept to show what the change bought.

use std::sync::Arc;

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use mite_core::stats::{Merged, Snapshot, TxnStats, record_latency};

const CORES: usize = 64;
const TRANSACTIONS: usize = 200;
/// Latencies recorded per transaction per core per interval: 100 k requests/s per core spread
/// over 200 transactions.
const SAMPLES: u64 = 500;

fn snapshot(core: usize) -> Snapshot {
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
    let txns = (0..TRANSACTIONS)
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
        .collect();
    Snapshot {
        core,
        elapsed_s: 1.0,
        tick: 0,
        txns,
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
    let snapshots: Vec<Snapshot> = (0..CORES).map(snapshot).collect();
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
    group.bench_function("before_single_merge", |b| {
        b.iter(|| {
            let mut interval = Merged::default();
            for s in &snapshots {
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
