//! Issue 12: per-phase timings, checked against a target route that waits a known time before
//! its first byte.

use std::time::Duration;

use mite_core::{Ctx, JourneyResult, Registry, Row, VolumeModel};
use mite_tests::{options, run, scenario};
use mite_tools::{Target, TargetOptions};

const DELAY_MS: u64 = 20;

async fn delayed(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = format!("{}/delay/{DELAY_MS}", ctx.config().get("base").unwrap());
    ctx.transaction("delayed", async {
        for _ in 0..10 {
            ctx.http().get(&url).send().await?;
        }
        Ok(())
    })
    .await
}

#[test]
fn first_byte_time_matches_the_targets_delay_within_a_millisecond() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("t:delayed", delayed);
    let result = run(
        &registry,
        scenario("t:delayed", VolumeModel::Oneshot { journeys: 2 }),
        &[format!("base={}", target.url(""))],
        options(1, Duration::from_secs(10)),
    );
    let m = &result.merged;
    assert_eq!(m.journeys.ok, 2, "{:?}", m.error_samples);
    let stats = &m.txns["delayed"];
    let first_byte = &stats.http.first_byte_us;
    assert_eq!(first_byte.len(), 20);
    let delay_us = DELAY_MS * 1000;
    // Never before the server wrote; the median within 1 ms of the delay.
    assert!(first_byte.min() >= first_byte.lowest_equivalent(delay_us), "min {}", first_byte.min());
    let p50 = first_byte.value_at_quantile(0.5);
    assert!(p50.abs_diff(delay_us) <= 1000, "first byte p50 {p50} µs for a {delay_us} µs delay");
    // Two journeys on one core: one or two connections, one name resolution, no TLS.
    assert!((1..=2).contains(&stats.http.connect_us.len()), "{}", stats.http.connect_us.len());
    assert_eq!(stats.http.dns_us.len(), 1);
    assert!(stats.http.tls_us.is_empty());
    assert!(stats.req_us.min() >= first_byte.min(), "total includes the first byte");
    let json = mite_core::output::result_file::result_file(&result, true).to_value();
    let phases = &json["transactions"][0]["requests"]["phases_us"];
    for phase in ["dns", "connect", "tls", "first_byte", "total"] {
        assert!(phases[phase]["count"].as_u64().is_some(), "{phase} in {phases}");
    }
    assert_eq!(phases["first_byte"]["count"], 20);
    assert_eq!(json["transactions"][0]["requests"]["responses"][0]["response_code"], 200);
    let table = mite_core::output::report::phases_table(m);
    assert!(table.contains("first_byte") && table.contains("connect"), "{table}");
}
