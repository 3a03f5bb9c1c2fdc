//! Issue 11, "every number right": arrivals under overload, requests sent against attempts
//! (a target killed half-way and restarted, a closed port), and small recyclable datapools,
//! each checked against the target's own counters.

use std::time::Duration;

use mite_core::volume::RateModel;
use mite_core::{RunResult, VolumeModel};
use mite_tests::{options, run, scenario};
use mite_tools::{Target, TargetOptions};

fn get(url: &str, volume: VolumeModel, opts: mite_core::RunOptions) -> RunResult {
    let registry = mite_journeys::registry();
    run(&registry, scenario("http_example:journey", volume), &[format!("target_url={url}")], opts)
}

/// Arrivals against a route that never answers: the queue fills, arrivals are missed, and
/// some are still queued at the stop. Before: requested = scheduled + missed counted those
/// twice, and arrivals taken after the stop vanished.
#[test]
fn arrivals_under_overload_add_up() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let volume = VolumeModel::Arrivals { rate: RateModel::Constant { per_s: 300.0, duration_s: None }, max_in_flight: 4 };
    let mut opts = options(2, Duration::from_secs(2));
    opts.http.request_timeout = Duration::from_millis(700);
    opts.grace = Duration::from_millis(300);
    let result = get(&target.url("/bad/silent"), volume, opts);
    let j = result.merged.journeys;
    assert_eq!(j.scheduled, j.arrivals_started + j.missed, "{j:?}");
    assert!((598..=602).contains(&j.scheduled), "requested {} for 300/s x 2s on 2 cores: {j:?}", j.scheduled);
    assert!(j.missed > 0 && j.arrivals_started > 0, "{j:?}");
    let json = mite_core::report::result_json(&result);
    assert_eq!(json["totals"]["arrivals"]["requested"].as_u64(), Some(j.scheduled));
}
