//! Issue 12: per-phase timings, checked against a target route that waits a known time before
//! its first byte, and against the journey's own clock around each request (so that a busy
//! machine, which makes both longer, is no reason to fail).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use mite_core::{Ctx, JourneyResult, Registry, Row, VolumeModel};
use mite_tests::{options, run, scenario};
use mite_tools::{Target, TargetOptions};

const DELAY_MS: u64 = 20;

/// Each request's time as the journey saw it: from just before `send` to its answer, in µs.
static SEND_US: Mutex<Vec<u64>> = Mutex::new(Vec::new());

async fn delayed(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = format!("{}/delay/{DELAY_MS}", ctx.config().get("base").unwrap());
    ctx.transaction("delayed", async {
        for _ in 0..10 {
            let request = ctx.http().get(&url);
            let sent = Instant::now();
            request.send().await?;
            let send_us = u64::try_from(sent.elapsed().as_micros()).unwrap();
            SEND_US.lock().unwrap().push(send_us);
        }
        Ok(())
    })
    .await
}

#[test]
fn first_byte_time_lies_between_the_targets_delay_and_the_journeys_own_clock() {
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
    // Never before the server wrote.
    assert!(first_byte.min() >= first_byte.lowest_equivalent(delay_us), "min {}", first_byte.min());
    // Never longer than the journey saw the request take (both clocks are the monotonic one):
    // each first-byte time is within its own send, so the k-th shortest first byte is at most
    // the k-th shortest send, at every k.
    let mut sends = SEND_US.lock().unwrap().clone();
    sends.sort_unstable();
    assert_eq!(sends.len(), 20);
    for (k, &send_us) in sends.iter().enumerate() {
        let within = first_byte.count_between(0, first_byte.highest_equivalent(send_us));
        assert!(
            within > k as u64,
            "only {within} first-byte times up to the {}th send, {send_us} µs: {sends:?}",
            k + 1
        );
    }
    // And the median first byte is the bulk of the median send: within 1 ms of it.
    let (p50, send_p50) = (first_byte.value_at_quantile(0.5), sends[9]);
    assert!(
        send_p50.saturating_sub(p50) <= 1000,
        "first byte p50 {p50} µs against the journey's send p50 {send_p50} µs ({delay_us} µs delay)"
    );
    println!("first byte p50 {p50} µs, send p50 {send_p50} µs, delay {delay_us} µs");
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
