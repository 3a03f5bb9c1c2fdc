//! Heap allocations per request in steady state, counted by a global allocator. The target runs
//! in another process so that only the engine's allocations are counted.

use std::time::Duration;

use mite_core::VolumeModel;
use mite_tests::{CountingAllocator, TargetProcess, allocations, get, options};

/// Counts every allocation of this test binary (see `mite_tests::CountingAllocator`).
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn requests_and_allocations(seconds: u64, url: &str) -> (u64, u64) {
    let before = allocations();
    let result = get(url, VolumeModel::constant(16), options(1, Duration::from_secs(seconds)));
    let total = result.merged.total();
    assert_eq!(total.req_errors(), 0);
    (total.requests(), allocations() - before)
}

#[test]
fn plain_get_allocates_nothing_per_request_in_steady_state() {
    let target = TargetProcess::start(env!("CARGO_BIN_EXE_mite-test-target"), None);
    // Two runs of the same length, one against a route that answers after 20 ms: the per-run
    // and per-interval costs (threads, runtime, connections, stats snapshots) are the same in
    // both, so the difference is what the extra requests cost, however busy the machine is.
    let (short_requests, short_allocations) = requests_and_allocations(2, &target.url("/delay/20"));
    let (long_requests, long_allocations) = requests_and_allocations(2, &target.url("/"));
    assert_eq!(short_requests + long_requests, target.stop(), "the target's own count");
    let extra_requests = long_requests.saturating_sub(short_requests);
    assert!(extra_requests > 10_000, "too few requests to measure: {short_requests} then {long_requests}");
    let extra_allocations = long_allocations.saturating_sub(short_allocations);
    let per_request = extra_allocations as f64 / extra_requests as f64;
    println!(
        "steady state: {extra_allocations} allocations for {extra_requests} extra requests = {per_request:.5} per request \
         (runs: {short_requests} requests / {short_allocations} allocations, {long_requests} / {long_allocations})"
    );
    // Per-interval work (one snapshot a second) allocates; per-request work must not.
    assert!(per_request < 0.01, "{per_request:.4} allocations per request");
}
