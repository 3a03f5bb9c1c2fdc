//! The injector's own delay is measured and shown: a core kept busy by its journeys is reported
//! as saturated (in the result, the table and every interval), an idle one is not.

use std::time::{Duration, Instant};

use mite_core::{Ctx, JourneyResult, Registry, Row, VolumeModel};
use mite_tests::{options, run, scenario};

/// Burns 2 ms of CPU without yielding, then sleeps 1 ms: eight of these keep one core busy,
/// and each waits for the others before it runs again.
async fn spin(ctx: &Ctx, _row: Row) -> JourneyResult {
    ctx.transaction("spin", async {
        let until = Instant::now() + Duration::from_millis(2);
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        mite_core::sleep(Duration::from_millis(1)).await;
        Ok(())
    })
    .await
}

/// Waits 20 ms and does nothing else.
async fn idle(ctx: &Ctx, _row: Row) -> JourneyResult {
    ctx.transaction("idle", async {
        mite_core::sleep(Duration::from_millis(20)).await;
        Ok(())
    })
    .await
}

fn registry() -> Registry {
    let mut registry = Registry::default();
    registry.journey("load:spin", spin);
    registry.journey("load:idle", idle);
    registry
}

#[test]
fn a_saturated_injector_is_reported_as_saturated() {
    let result =
        run(&registry(), scenario("load:spin", VolumeModel::constant(8)), &[], options(1, Duration::from_secs(2)));
    let load = &result.merged.injector;
    assert!(load.lag_us.len() > 10, "the lag was sampled: {} samples", load.lag_us.len());
    assert!(
        load.lag_at(0.99) >= 2_000,
        "a woken journey waits for others' 2 ms spins: lag p99 {} µs",
        load.lag_at(0.99)
    );
    let json = mite_core::output::result_file::result_file(&result, true).to_value();
    assert_eq!(json["injector"]["saturated"], true, "{}", json["injector"]);
    assert!(json["intervals"].as_array().unwrap().iter().any(|p| p["injector_saturated"] == true));
    let table = mite_core::output::report::table(&result.merged, result.duration_s);
    // Which sign is said depends on the machine: a busy core, or (when other work takes the
    // CPU from the spins) the lag; one of the two always is.
    assert!(
        table.contains("the injector was saturated (a core was busy")
            || table.contains("the injector was saturated (its event-loop lag p99"),
        "{table}"
    );
}

#[test]
fn an_idle_injector_is_not_saturated() {
    let result =
        run(&registry(), scenario("load:idle", VolumeModel::constant(4)), &[], options(1, Duration::from_secs(2)));
    let load = &result.merged.injector;
    assert!(load.lag_us.len() > 10, "the lag was sampled: {} samples", load.lag_us.len());
    assert!(load.busy_percent_max < 50.0, "a core that sleeps is not busy: {}%", load.busy_percent_max);
    let json = mite_core::output::result_file::result_file(&result, true).to_value();
    assert_eq!(json["injector"]["saturated"], false, "{}", json["injector"]);
    let table = mite_core::output::report::table(&result.merged, result.duration_s);
    assert!(table.contains("injector: event-loop lag") && !table.contains("saturated"), "{table}");
}
