//! Heap allocations per request in steady state, counted by a global allocator. The target runs
//! in another process so that only the engine's allocations are counted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use mite_core::run::layered_config;
use mite_core::{Ctx, JourneyResult, Registry, Row, RunOptions, VolumeModel};
use mite_tests::{CountingAllocator, TargetProcess, allocations, options, scenario};

/// Counts every allocation of this test binary (see `mite_tests::CountingAllocator`).
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Journeys started in the current run, how many it may start, and its stop flag: the run is
/// bounded by a count of requests, not by time, so a slow machine makes it longer, not smaller.
static STARTED: AtomicU64 = AtomicU64::new(0);
static LIMIT: AtomicU64 = AtomicU64::new(0);
static STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// The example GET journey, counted: the journey that reaches the limit stops the run.
async fn counted_get(ctx: &Ctx, row: Row) -> JourneyResult {
    if STARTED.fetch_add(1, Ordering::Relaxed) + 1 >= LIMIT.load(Ordering::Relaxed) {
        STOP.store(true, Ordering::Relaxed);
    }
    mite_journeys::http_example::journey(ctx, row).await
}

/// Runs about `journeys` journeys (16 in flight) of one GET each; returns (requests, allocations).
fn requests_and_allocations(journeys: u64, url: &str) -> (u64, u64) {
    let mut registry = Registry::default();
    registry.journey("t:counted_get", counted_get);
    let scenario = scenario("t:counted_get", VolumeModel::constant(16));
    let config = layered_config(&scenario.config, &[format!("target_url={url}")]).expect("config");
    // A tick longer than the deadline: the per-interval snapshots (which allocate) are the final
    // ones only, alike in both runs however long each takes; the deadline only bounds a hang.
    let options = RunOptions { tick: Duration::from_secs(300), ..options(1, Duration::from_secs(240)) };
    STARTED.store(0, Ordering::Relaxed);
    LIMIT.store(journeys, Ordering::Relaxed);
    STOP.store(false, Ordering::Relaxed);
    let before = allocations();
    let result =
        mite_core::run_scenario(&registry, scenario, config, &options, STOP.clone(), &mut |_| {}).expect("run");
    let allocations = allocations() - before;
    let total = result.merged.total();
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
    assert!(
        STOP.load(Ordering::Relaxed),
        "the run ended before its {journeys} journeys: {} requests",
        total.requests()
    );
    (total.requests(), allocations)
}

#[test]
fn plain_get_allocates_nothing_per_request_in_steady_state() {
    let target = TargetProcess::start(env!("CARGO_BIN_EXE_mite-test-target"), None);
    // Two runs that differ only in their count of requests: the per-run and per-interval costs
    // (threads, runtime, connections, the stats snapshots) are the same in both, so the
    // difference is what the extra requests cost, however busy the machine is.
    let (short_requests, short_allocations) = requests_and_allocations(2_000, &target.url("/"));
    // The runs stop once a core sees its count reached (within its poll interval: a quick core
    // may run a thousand or two past it), so the long run asks for enough that the extra
    // requests clear the bound below whatever the short one ran past.
    let (long_requests, long_allocations) = requests_and_allocations(24_000, &target.url("/"));
    assert_eq!(short_requests + long_requests, target.stop(), "the target's own count");
    let extra_requests = long_requests.saturating_sub(short_requests);
    assert!(extra_requests >= 19_000, "the runs' counts: {short_requests} then {long_requests}");
    let extra_allocations = long_allocations.saturating_sub(short_allocations);
    let per_request = extra_allocations as f64 / extra_requests as f64;
    println!(
        "steady state: {extra_allocations} allocations for {extra_requests} extra requests = {per_request:.5} per request \
         (runs: {short_requests} requests / {short_allocations} allocations, {long_requests} / {long_allocations})"
    );
    // Per-run work allocates; per-request work must not.
    assert!(per_request < 0.01, "{per_request:.4} allocations per request");
}
