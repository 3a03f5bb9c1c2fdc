//! The engine's own accounting must match what the target saw, exactly.

use std::time::Duration;

use mite_core::{DataPool, Row, ScenarioEntry, VolumeModel};
use mite_tests::{assert_target_saw_every_request, get, options, run, scenario};
use mite_tools::{Target, TargetOptions};

#[test]
fn two_cores_request_count_equals_target_hits() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let result = get(&target.url("/"), VolumeModel::constant(16), options(2, Duration::from_secs(2)));
    let total = assert_target_saw_every_request(&result, target.hits());
    assert!(total.requests() > 100, "too few requests: {}", total.requests());
    assert_eq!(total.req_errors(), 0);
    assert_eq!(result.cores, vec![0, 1]);
    assert_eq!(result.drivers.len(), 2);
    // Every journey started either finished (ok or failed) — none lost.
    let journeys = result.merged.journeys;
    assert_eq!(journeys.started, journeys.ok + journeys.failed + journeys.cancelled);
}

#[test]
fn json_result_has_the_documented_fields() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let result = get(&target.url("/"), VolumeModel::constant(4), options(1, Duration::from_millis(600)));
    let json = mite_core::output::result_file::result_file(&result, true).to_value();
    assert_eq!(json["cores"], serde_json::json!([0]));
    assert!(json["driver"].as_str().is_some());
    assert!(json["duration_s"].as_f64().unwrap() > 0.5);
    assert_eq!(json["totals"]["requests"].as_u64().unwrap(), target.hits());
    assert_eq!(json["totals"]["errors"], 0);
    let txn = &json["transactions"][0];
    assert_eq!(txn["name"], "get_root");
    assert!(txn["count"].as_u64().unwrap() > 0);
    for field in ["p50", "p90", "p99", "p999", "max"] {
        assert!(txn["latency_us"][field].as_u64().is_some(), "{field}");
    }
    assert!(txn["latency_us"]["p99"].as_u64() <= txn["latency_us"]["max"].as_u64());
}

#[test]
fn single_use_datapool_runs_each_row_once_across_cores() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let registry = mite_journeys::registry();
    let rows: Vec<Row> = (0..101).map(|i| Row::new([format!("u{i}")])).collect();
    let mut s = scenario("http_example:user_journey", VolumeModel::constant(8));
    s.entries = vec![ScenarioEntry {
        journey: "http_example:user_journey".into(),
        datapool: Some(DataPool::single_use("users", rows)),
        volume: VolumeModel::constant(8),
    }];
    let result = run(&registry, s, &[format!("target_url={}", target.url("/"))], options(2, Duration::from_secs(20)));
    assert_eq!(result.stopped_by, mite_core::run::StopReason::Completed, "exhaustion should end the run");
    assert_eq!(result.merged.journeys.started, 101);
    assert_eq!(result.merged.journeys.ok, 101);
    assert_eq!(target.hits(), 101);
}

#[test]
fn oneshot_runs_exactly_n_journeys() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let result = get(&target.url("/"), VolumeModel::Oneshot { journeys: 5 }, options(2, Duration::from_secs(10)));
    assert_eq!(result.merged.journeys.started, 5);
    assert_eq!(target.hits(), 5);
    assert_eq!(result.stopped_by, mite_core::run::StopReason::Completed);
}

#[test]
fn stopping_volume_model_ends_the_run() {
    let registry = mite_journeys::registry();
    let result = run(
        &registry,
        scenario("mite_example:journey", VolumeModel::Nothing { duration_s: 0.3 }),
        &[],
        options(1, Duration::from_secs(10)),
    );
    assert_eq!(result.stopped_by, mite_core::run::StopReason::Completed);
    assert!(result.duration_s < 5.0);
}

#[test]
fn nested_transactions_join_names_and_errors_count_once() {
    use mite_core::{Ctx, JourneyError, JourneyResult, Registry};
    async fn nested(ctx: &Ctx, _row: Row) -> JourneyResult {
        ctx.transaction("outer", async {
            ctx.transaction("inner", async { Err::<(), _>(JourneyError::msg("boom")) }).await
        })
        .await
    }
    let mut registry = Registry::default();
    registry.journey("t:nested", nested);
    let result = run(
        &registry,
        scenario("t:nested", VolumeModel::Oneshot { journeys: 3 }),
        &[],
        options(1, Duration::from_secs(5)),
    );
    let inner = &result.merged.txns["outer :: inner"];
    let outer = &result.merged.txns["outer"];
    assert_eq!((inner.txn_err, inner.txn_ok), (3, 0));
    assert_eq!((outer.txn_err, outer.txn_ok), (3, 0));
    assert_eq!(result.merged.journeys.failed, 3);
    // The journey's own row counts nothing: the error was already counted by a transaction.
    assert!(result.merged.txns.get("t:nested").is_none_or(|j| j.txn_err == 0));
}

#[test]
fn requests_in_flight_at_stop_are_counted_as_cancelled() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut opts = options(1, Duration::from_millis(500));
    opts.grace = Duration::from_millis(200);
    let result = get(&target.url("/delay/3000"), VolumeModel::constant(3), opts);
    let total = assert_target_saw_every_request(&result, target.hits());
    assert_eq!(total.errors_of(mite_core::stats::ErrorKind::Cancelled), 3);
    assert_eq!(total.requests(), 3);
    let journeys = result.merged.journeys;
    assert_eq!((journeys.started, journeys.cancelled), (3, 3));
    assert_eq!(journeys.started, journeys.ok + journeys.failed + journeys.cancelled);
}
