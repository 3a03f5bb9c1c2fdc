//! Every figure means what its name says, held against truth the test controls: a route that
//! answers after a known delay, a rate against a target too slow for it (whose queueing delay
//! the test computes), the target's own counts of requests, connections and bytes, and error
//! kinds each made once per journey. Lower bounds are strict (what the server did sets them);
//! upper bounds are generous, for a loaded 2-core machine, and say so.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mite_core::model::volume::RateModel;
use mite_core::stats::LatencyHistogram;
use mite_core::{Ctx, JourneyError, JourneyResult, Registry, Row, RunOptions, RunResult, VolumeModel};
use mite_tests::{options, run, scenario};
use mite_tools::{Target, TargetOptions};
use serde_json::Value;

/// Timing tests run one at a time so that they do not disturb each other's measurements.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn counting_target() -> Target {
    Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap()
}

/// Runs registered journey `journey` with `base` (and `extra` config) against `target`.
fn run_journey(
    registry: &Registry,
    journey: &str,
    target: &Target,
    extra: &[String],
    volume: VolumeModel,
    opts: RunOptions,
) -> RunResult {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut overrides = vec![format!("base={}", target.url(""))];
    overrides.extend_from_slice(extra);
    run(registry, scenario(journey, volume), &overrides, opts)
}

fn json(result: &RunResult) -> Value {
    mite_core::output::result_file::result_file(result, true).to_value()
}

fn u(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("not a count: {value}"))
}

fn f(value: &Value) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"))
}

fn base(ctx: &Ctx) -> String {
    ctx.config().get("base").expect("base").to_string()
}

/// The delay of the fixed-delay route, ms: 21,000 µs falls inside a histogram bucket (20,992 to
/// 21,007 µs), so `min` (its bucket's lowest) may read up to 8 µs below it and `mean` (values
/// read as their bucket's middle) not at all, while percentiles and `max` (their bucket's
/// highest) never read below it.
const DELAY_MS: u64 = 21;

async fn delayed(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = format!("{}/delay/{DELAY_MS}", base(ctx));
    ctx.transaction("delayed", async {
        ctx.http().get(&url).send().await?;
        Ok(())
    })
    .await
}

/// Two journeys on one core ask `/delay/21` over and over: every latency figure of requests,
/// transactions and the first byte is at least 21 ms (the server slept that long after reading
/// the request, before its first byte; `min` at least its histogram bucket's lowest value), and the connects counted are the connections the
/// target accepted. Upper bounds: p50 within 5 ms, p99 within 200 ms, the mean within 20 ms
/// (a loaded machine's stalls).
#[test]
fn a_fixed_delay_reads_as_that_delay_and_never_below_its_bucket() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:delayed", delayed);
    let result = run_journey(
        &registry,
        "t:delayed",
        &target,
        &[],
        VolumeModel::constant(2),
        options(1, Duration::from_millis(1500)),
    );
    let hits = target.hits();
    let file = json(&result);
    let totals = &file["totals"];
    assert_eq!(u(&totals["requests"]), hits, "the target's count");
    assert_eq!(u(&totals["errors"]), 0, "{}", file["error_samples"]);
    assert!(hits >= 20, "{hits} requests of 21 ms in 1.5 s on two journeys");
    let delay_us = DELAY_MS * 1000;
    let txn = &file["transactions"][0];
    let phases = &txn["requests"]["phases_us"];
    let figures = [
        ("totals.latency_us", &totals["latency_us"]),
        ("transactions[0].latency_us", &txn["latency_us"]),
        ("phases_us.first_byte", &phases["first_byte"]),
        ("phases_us.total", &phases["total"]),
    ];
    for (name, latency) in figures {
        assert_reads_the_delay(name, latency, delay_us);
    }
    // Every request answered: the first byte and the total are timed once each per request.
    assert_eq!(u(&phases["first_byte"]["count"]), hits);
    assert_eq!(u(&phases["total"]["count"]), hits);
    assert_eq!(u(&totals["latency_us"]["count"]), hits);
    // The first byte is a part of the request's time: never later, at any percentile.
    for figure in ["min", "p50", "p90", "p99", "max"] {
        assert!(
            f(&phases["first_byte"][figure]) <= f(&phases["total"][figure]),
            "first_byte.{figure} > total.{figure}"
        );
    }
    // `connect`: new connections only, each one the target accepted; one name resolution.
    let connections = target.connections();
    assert_eq!(u(&totals["connects"]["attempted"]), connections, "connects against the target's accepts");
    assert_eq!(u(&phases["connect"]["count"]), connections, "connect phase against the target's accepts");
    assert!(connections <= 2, "two journeys on one core keep their connections: {connections}");
    assert_eq!(u(&phases["dns"]["count"]), 1, "one host on one core");
    assert_eq!(u(&phases["tls"]["count"]), 0, "plain HTTP");
    assert!(txn["requests"]["tls_us_mean"].is_null());
    let first_byte_mean = f(&txn["requests"]["first_byte_us_mean"]);
    assert!(first_byte_mean >= delay_us as f64, "first_byte_us_mean {first_byte_mean}");
    // The injector waited on the server all along: its own lag is near 0 (within 2 ms at p50 on
    // a loaded machine), and it is not called saturated.
    let lag = &file["injector"]["lag_us"];
    assert!(u(&lag["count"]) >= 10, "the lag was sampled: {lag}");
    assert!(u(&lag["p50"]) <= 2_000, "an idle injector's lag p50 {} µs", lag["p50"]);
    assert_eq!(file["injector"]["saturated"], false, "{}", file["injector"]);
}

/// Every figure of `latency` (named `name`) against a server delay of `delay_us` (inside a
/// histogram bucket): percentiles, `max` and `mean` at least the delay, `min` at least its
/// bucket's lowest value; p50 within 5 ms over, p99 within 200 ms, the mean within 20 ms (a
/// loaded 2-core machine stalls the injector 50 to 90 ms at times: p99 of some 70 requests
/// is one of the slowest few).
fn assert_reads_the_delay(name: &str, latency: &Value, delay_us: u64) {
    for figure in ["p50", "p90", "p99", "p999", "max"] {
        let value = f(&latency[figure]);
        assert!(value >= delay_us as f64, "{name}.{figure} {value} µs is below the server's {delay_us} µs delay");
    }
    let (min, mean) = (f(&latency["min"]), f(&latency["mean"]));
    assert!(min >= (delay_us - 8) as f64, "{name}.min {min} µs: below the bucket of the {delay_us} µs delay");
    assert!(mean >= delay_us as f64, "{name}.mean {mean} µs is below the server's {delay_us} µs delay");
    let (p50, p99, mean) = (f(&latency["p50"]), f(&latency["p99"]), f(&latency["mean"]));
    assert!(p50 <= (delay_us + 5_000) as f64, "{name}.p50 {p50} µs: more than 5 ms over {delay_us} µs");
    assert!(p99 <= (delay_us + 200_000) as f64, "{name}.p99 {p99} µs: more than 200 ms over {delay_us} µs");
    assert!(mean <= (delay_us + 20_000) as f64, "{name}.mean {mean} µs: more than 20 ms over {delay_us} µs");
}

/// How many of its requests the mixed journey sends to the slow route: one in this many.
const SLOW_EVERY: u64 = 20;
const SLOW_MS: u64 = 40;
static MIXED_REQUESTS: AtomicU64 = AtomicU64::new(0);

async fn mixed(ctx: &Ctx, _row: Row) -> JourneyResult {
    let n = MIXED_REQUESTS.fetch_add(1, Ordering::Relaxed);
    let url = if n % SLOW_EVERY == SLOW_EVERY - 1 { format!("{}/delay/{SLOW_MS}", base(ctx)) } else { base(ctx) + "/" };
    ctx.transaction("mixed", async {
        ctx.http().get(&url).discard_body().send().await?;
        Ok(())
    })
    .await
}

/// One request in 20 waits 40 ms, the others are answered at once: p99 and max see the slow
/// ones (5 % of the requests), p50 does not, and the histogram holds at least as many requests
/// of 40 ms or more as the target served slowly (and at most 1 % more: a fast one delayed that
/// long by the machine).
#[test]
fn slow_answers_among_fast_ones_show_in_p99_and_max() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:mixed", mixed);
    let result = run_journey(
        &registry,
        "t:mixed",
        &target,
        &[],
        VolumeModel::constant(1),
        options(1, Duration::from_millis(1500)),
    );
    let slow = target.route_hits(&format!("/delay/{SLOW_MS}"));
    let hits = target.hits();
    let total = result.merged.total();
    assert_eq!(total.requests(), hits);
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
    assert!(slow >= 5, "{slow} slow of {hits}");
    let slow_us = SLOW_MS * 1000;
    let h = &total.req_us;
    let at_least_slow = h.count_between(slow_us, h.max().max(slow_us));
    assert!(at_least_slow >= slow, "{at_least_slow} requests of {slow_us} µs or more, the target served {slow} slowly");
    assert!(
        at_least_slow <= slow + hits / 100,
        "{at_least_slow} requests of {slow_us} µs or more, {slow} slow of {hits}"
    );
    let file = json(&result);
    let latency = &file["totals"]["latency_us"];
    for figure in ["p99", "p999", "max"] {
        assert!(u(&latency[figure]) >= slow_us, "{figure} {} µs misses the 5 % slow answers", latency[figure]);
    }
    assert!(u(&latency["p50"]) < slow_us, "p50 {} µs", latency["p50"]);
    // The mean weighs them as what they are: at least 5 % (less one, the last request may be
    // the run's end) of 40 ms.
    let mean_floor = (slow * slow_us) as f64 / hits as f64;
    assert!(f(&latency["mean"]) >= mean_floor, "mean {} below {mean_floor}", latency["mean"]);
}

/// The open model against a target too slow for the rate: 200 arrivals a second for 2 s, one
/// journey slot, each request taking at least 10 ms (the server's delay), so the slot serves at
/// most 100 a second and the queue grows. The test knows the queueing delay: arrival k (0, 1,
/// ...) was due at k × 5 ms and cannot start before k × 10 ms (the k requests before it each
/// took 10 ms or more), so its corrected latency is at least k × 5 ms + 10 ms, and the j-th
/// smallest corrected latency is at least j × 5 ms + 10 ms. Upper bound: three times that (a
/// machine whose requests take 20 ms instead of 10); and by the target's clock, within a few ms
/// of the wait it saw each request make.
#[test]
fn an_overloaded_open_model_counts_its_missed_arrivals_and_their_queueing_delay() {
    let target = counting_target();
    let (rate, seconds, delay_ms) = (200.0, 2.0, 10u64);
    let volume = VolumeModel::Arrivals {
        rate: RateModel::Constant { per_s: rate, duration_s: Some(seconds) },
        max_in_flight: 1,
    };
    let mut opts = options(1, Duration::from_secs(10));
    opts.duration = None;
    let result = {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        mite_tests::get(&target.url(&format!("/delay/{delay_ms}")), volume, opts)
    };
    let journeys = result.merged.journeys;
    let requested = journeys.scheduled;
    assert!((399..=401).contains(&requested), "requested {requested}, expected 400 within one");
    assert_eq!(journeys.arrivals_started + journeys.missed + journeys.datapool_exhausted, requested, "{journeys:?}");
    // One slot, each journey at least 10 ms: at most 200 start in 2 s (and one at the stop).
    let started = journeys.arrivals_started;
    assert!(started <= 201, "{started} started, more than one slot of 10 ms requests could start in 2 s");
    assert!(started >= 50, "{started} started");
    assert_eq!(journeys.missed, requested - started);
    let total = result.merged.total();
    assert_eq!(total.requests(), target.hits(), "the target's count");
    assert_eq!(total.requests(), started, "one request per journey started");
    let (corrected, plain) = (&total.req_us_corrected, &total.req_us);
    assert_eq!(corrected.len(), plain.len());
    let gap_us = delay_ms * 1000 - (1_000_000.0 / rate) as u64;
    // The first arrival's own lateness (a stall of a loaded machine as the run starts) is in
    // every corrected latency: allowed for above the bound, never below.
    let first_late_us = corrected.min().saturating_sub(delay_ms * 1000);
    for q in [0.1, 0.5, 0.9, 0.99, 1.0] {
        let rank = ((q * started as f64).ceil() as u64).max(1) - 1;
        let floor = rank * gap_us + delay_ms * 1000;
        let (c, p) = (corrected.value_at_quantile(q), plain.value_at_quantile(q));
        assert!(c >= floor, "corrected p{} {c} µs below the queueing delay's {floor} µs", q * 100.0);
        assert!(
            c <= 3 * floor + first_late_us,
            "corrected p{} {c} µs: more than three times the queueing delay's {floor} µs (and the first's {first_late_us} µs)",
            q * 100.0
        );
        assert!(c >= p, "corrected p{} {c} µs below the uncorrected {p} µs", q * 100.0);
        assert!(p >= delay_ms * 1000, "uncorrected p{} {p} µs below the server's delay", q * 100.0);
    }
    assert!(corrected.max() <= (result.duration_s * 1e6) as u64, "a corrected latency longer than the run");
    assert_corrected_is_the_wait_the_target_saw(&target, corrected, rate, delay_ms);
    // The result file says the same, and its intervals add up to it.
    let file = json(&result);
    let arrivals = &file["totals"]["arrivals"];
    assert_eq!(u(&arrivals["requested"]), requested);
    assert_eq!(u(&arrivals["started"]), started);
    assert_eq!(u(&arrivals["missed"]), journeys.missed);
    assert!((f(&arrivals["window_s"]) - seconds).abs() < 0.01, "window {}", arrivals["window_s"]);
    assert!((f(&arrivals["requested_per_s"]) - rate).abs() <= 1.0, "{}", arrivals["requested_per_s"]);
    let intervals = file["intervals"].as_array().expect("intervals");
    for key in ["requested", "started", "missed"] {
        let sum: u64 = intervals.iter().map(|i| u(&i["arrivals"][key])).sum();
        assert_eq!(sum, u(&arrivals[key]), "intervals' arrivals.{key}");
    }
}

/// By the target's own clock: arrival k reached it at t_k, so it waited about
/// (t_k - t_0) - k / rate to start (t_0: the first, which waited for nothing), and took the
/// server's `delay_ms` and a little: the `corrected` latencies are those, give or take 3 ms
/// below and 20 ms above (a loaded machine's slower requests) besides the first arrival's own
/// lateness.
fn assert_corrected_is_the_wait_the_target_saw(
    target: &Target,
    corrected: &LatencyHistogram,
    rate: f64,
    delay_ms: u64,
) {
    let times = target.request_times();
    let started = times.len() as u64;
    assert_eq!(started, corrected.len());
    let mut expected_us: Vec<u64> = times
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let waited_s = t.duration_since(times[0]).as_secs_f64() - k as f64 / rate;
            (waited_s.max(0.0) * 1e6) as u64 + delay_ms * 1000
        })
        .collect();
    expected_us.sort_unstable();
    // The first arrival's own lateness (its connect, a stall of a loaded machine) is in every
    // corrected latency but not in the target's differences: the least corrected latency, the
    // first's, less the server's delay.
    let first_late_us = corrected.min().saturating_sub(delay_ms * 1000);
    for q in [0.1, 0.5, 0.9, 0.99] {
        let expected = expected_us[((q * started as f64).ceil() as usize).max(1) - 1];
        let measured = corrected.value_at_quantile(q);
        assert!(
            measured + 3_000 >= expected && measured <= expected + first_late_us + 20_000,
            "corrected p{} {measured} µs, by the target's clock {expected} µs",
            q * 100.0
        );
    }
}

async fn bytes_then_wait(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = base(ctx);
    ctx.transaction("bytes", async {
        ctx.http().get(&format!("{base}/bytes/1000")).discard_body().send().await?;
        ctx.http().post(&format!("{base}/echo")).body(&b"0123456789"[..]).send().await?;
        // 100 KiB up and back: more than one write and one read each way.
        ctx.http().post(&format!("{base}/echo")).body(&[b'u'; 100 * 1024][..]).discard_body().send().await?;
        Ok(())
    })
    .await?;
    ctx.transaction("wait", async {
        ctx.http().get(&format!("{base}/delay/30")).send().await?;
        Ok(())
    })
    .await
}

/// Closed model on two cores, journeys in flight at the stop (so the grace has pieces of its
/// own): the intervals add up to the totals, each interval's rate is its requests over its own
/// length, the run's rates are over the duration the result states, and the bytes are the
/// target's: the bodies it wrote, the requests it read.
#[test]
fn intervals_rates_and_bytes_add_up_to_the_totals_and_the_targets_counts() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:bytes", bytes_then_wait);
    let result = run_journey(
        &registry,
        "t:bytes",
        &target,
        &[],
        VolumeModel::constant(4),
        options(2, Duration::from_millis(1100)),
    );
    let file = json(&result);
    let totals = &file["totals"];
    assert_eq!(u(&totals["requests"]), target.hits());
    assert_eq!(u(&totals["errors"]), 0, "{}", file["error_samples"]);
    assert_eq!(u(&totals["body_bytes"]), target.response_body_bytes(), "body bytes against the target's");
    assert_eq!(u(&totals["sent_bytes"]), target.request_bytes(), "request bytes against the target's");
    let intervals = file["intervals"].as_array().expect("intervals");
    assert!(intervals.len() >= 5, "{} intervals of 200 ms in 1.1 s", intervals.len());
    for key in ["requests", "errors", "not_sent", "transactions", "body_bytes", "sent_bytes", "connects", "reconnects"]
    {
        let sum: u64 = intervals.iter().map(|i| u(&i[key])).sum();
        let total = match key {
            "transactions" => u(&totals["transactions"]),
            "connects" => u(&totals["connects"]["attempted"]),
            _ => u(&totals[key]),
        };
        assert_eq!(sum, total, "intervals' {key} against the totals");
    }
    // Each transaction's points over time are of its completed transactions, not its requests.
    for txn in file["transactions"].as_array().unwrap() {
        let points: u64 = intervals
            .iter()
            .flat_map(|i| i["by_transaction"].as_array().unwrap())
            .filter(|t| t["name"] == txn["name"])
            .map(|t| u(&t["count"]))
            .sum();
        assert_eq!(points, u(&txn["count"]), "{}: the intervals' by_transaction counts", txn["name"]);
    }
    assert_rates_over_their_lengths(&file);
}

/// Each interval's rate is over its own length, from the end of the one before; the run's
/// rates (of requests, and each transaction's) are over `duration_s`, which holds the grace
/// (journeys in flight at the stop finished in it), and the last interval ends there. The
/// file's times are rounded to the millisecond, its rates to 0.1/s.
fn assert_rates_over_their_lengths(file: &Value) {
    let totals = &file["totals"];
    let intervals = file["intervals"].as_array().expect("intervals");
    let mut start_s = 0.0;
    for point in intervals {
        let (end_s, requests, rps) = (f(&point["elapsed_s"]), u(&point["requests"]), f(&point["rps"]));
        let length_s = end_s - start_s;
        // No core reported late: the time its figures cover is its own length.
        assert!((f(&point["seconds"]) - length_s).abs() <= 0.001, "interval to {end_s}: {point}");
        let (low, high) = (requests as f64 / (length_s + 0.001) - 0.05, requests as f64 / (length_s - 0.001) + 0.05);
        assert!((low..=high).contains(&rps), "interval to {end_s}: rps {rps}, {requests} over {length_s} s");
        start_s = end_s;
    }
    let duration_s = f(&file["duration_s"]);
    assert!(duration_s >= 1.1, "duration_s {duration_s}");
    assert!((start_s - duration_s).abs() <= 0.01, "the last interval ends at {start_s}, duration_s {duration_s}");
    let rps = f(&totals["rps"]);
    let expected = u(&totals["requests"]) as f64 / duration_s;
    assert!((rps - expected).abs() <= 0.05 + expected * 0.002, "rps {rps}, requests over duration_s {expected}");
    for txn in file["transactions"].as_array().unwrap() {
        let (count, rate) = (u(&txn["count"]), f(&txn["rate"]));
        assert!(
            (rate - count as f64 / duration_s).abs() <= 0.05 + rate * 0.002,
            "{}: rate {rate}, count {count}",
            txn["name"]
        );
        let (requests, rps) = (u(&txn["requests"]["count"]), f(&txn["requests"]["rps"]));
        assert!((rps - requests as f64 / duration_s).abs() <= 0.05 + rps * 0.002, "{}: rps {rps}", txn["name"]);
    }
}

/// How long the late core's thread is held.
const LATE_HOLD: Duration = Duration::from_millis(700);
static LATE_RUNS: AtomicU64 = AtomicU64::new(0);

/// A GET and a 20 ms wait; the tenth run on core 1 first holds its thread for `LATE_HOLD`
/// (what a core in the kernel looks like to the engine): its next report is late.
async fn late_core(ctx: &Ctx, _row: Row) -> JourneyResult {
    if std::thread::current().name() == Some("mite-core-1") && LATE_RUNS.fetch_add(1, Ordering::SeqCst) == 10 {
        std::thread::sleep(LATE_HOLD);
    }
    ctx.http().get(&format!("{}/", base(ctx))).discard_body().send().await?;
    mite_core::sleep(Duration::from_millis(20)).await;
    Ok(())
}

/// With a core whose report comes late (its thread held 0.7 s), an interval's figures reach
/// back further than the line before: the result file says over how long (`seconds`, at least
/// the time the core was held), its `rps` is over that, and the report page's rates are the
/// same figures (its script, run in Chromium, divides by `seconds`, not by the gap between
/// the intervals' times).
#[test]
fn an_intervals_rates_are_over_the_time_its_figures_cover_in_the_file_and_the_page() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:late", late_core);
    let opts = options(2, Duration::from_millis(1600));
    let result = run_journey(&registry, "t:late", &target, &[], VolumeModel::constant(4), opts);
    let file = json(&result);
    assert_eq!(u(&file["totals"]["requests"]), target.hits());
    let intervals = file["intervals"].as_array().expect("intervals");
    let mut before_s = 0.0;
    let mut late = Vec::new();
    for point in intervals {
        let (end_s, requests, rps) = (f(&point["elapsed_s"]), u(&point["requests"]), f(&point["rps"]));
        let seconds = f(&point["seconds"]);
        assert!(seconds > 0.0, "interval to {end_s}: over {seconds} s");
        // `rps` is rounded to 0.1/s, `seconds` to 0.1 ms.
        let exact = requests as f64 / seconds;
        assert!(
            (rps - exact).abs() <= 0.05 + exact * 1e-3,
            "interval to {end_s}: rps {rps}, {requests} over {seconds} s"
        );
        if seconds > end_s - before_s + 0.01 {
            late.push(seconds);
        }
        before_s = end_s;
    }
    assert!(
        late.iter().any(|&seconds| seconds >= LATE_HOLD.as_secs_f64()),
        "no interval reaching back over the held core's {LATE_HOLD:?}: {late:?} in {intervals:#?}"
    );
    let page = page_rates(&file);
    for (point, page_rps) in intervals.iter().zip(&page) {
        let exact = u(&point["requests"]) as f64 / f(&point["seconds"]);
        // The same division: rounding aside, the same figure (the late interval read 121 to
        // 135/s on the page, over the 0.24 s since the line before, and 34.5/s in the file).
        assert!(
            (page_rps - exact).abs() <= 0.05 + exact * 1e-3,
            "the page's {page_rps}/s against {exact}/s in the interval to {}",
            point["elapsed_s"]
        );
    }
    assert_eq!(page.len(), intervals.len());
}

/// The report page's requests per second for each of `file`'s intervals, as its script
/// (`app.js`'s `timeline`) computes them, run in headless Chromium (as the report-page tests
/// run the pages: Debian's `chromium`, or `MITE_CHROMIUM`).
fn page_rates(file: &Value) -> Vec<f64> {
    let script = include_str!("../engine/core/src/output/html/assets/app.js");
    let start = script.find("  function num(v)").expect("app.js has num()");
    let num = &script[start..start + script[start..].find('\n').unwrap()];
    let start = script.find("  function timeline(run) {").expect("app.js has timeline()");
    let end = start + script[start..].find("\n  }\n").expect("the end of timeline()") + 4;
    // `</` cannot end the script early: the JSON's slashes are escaped.
    let data = file.to_string().replace("</", "<\\/");
    let page = format!(
        "<!doctype html><html><body><pre id=\"rates\"></pre><script>'use strict';\n{num}\n{}\n\
         var run = {data};\ndocument.getElementById('rates').textContent = \
         JSON.stringify(timeline(run).rate(function (p) {{ return p.requests; }}));</script></body></html>",
        &script[start..end]
    );
    let dir = mite_tests::ScenarioDir::new();
    let html = dir.write("rates.html", &page);
    let chromium = std::env::var("MITE_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let out = std::process::Command::new(&chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap_or_else(|e| panic!("{chromium}, to run the report page's script ({e}): install Debian's chromium"));
    let dom = String::from_utf8_lossy(&out.stdout);
    let rates = dom.split_once("<pre id=\"rates\">").and_then(|(_, rest)| rest.split_once("</pre>"));
    let rates = rates.unwrap_or_else(|| panic!("no rates in\n{dom}\n{}", String::from_utf8_lossy(&out.stderr))).0;
    serde_json::from_str(rates).unwrap_or_else(|e| panic!("rates {rates}: {e}"))
}

async fn one_of_each(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = base(ctx);
    let closed = ctx.config().get("closed").expect("closed").to_string();
    ctx.transaction("mixed", async {
        ctx.http().get(&format!("{base}/")).send().await?;
        let _ = ctx.http().get(&format!("{base}/status/503")).send().await;
        let _ = ctx.http().get(&format!("{base}/bad/reset")).send().await;
        let _ = ctx.http().get(&closed).send().await;
        let _ = ctx.http().get(&format!("{base}/delay/{TIMED_OUT_MS}")).send().await;
        Ok(())
    })
    .await?;
    ctx.transaction("fails", async {
        ctx.http().get(&format!("{base}/")).send().await?;
        Err(JourneyError::msg("checked and found wrong"))
    })
    .await
}

/// The request timeout of the errors test, and the delay of the route it times out on, ms.
const TIMEOUT_MS: u64 = 100;
const TIMED_OUT_MS: u64 = 500;

/// Twenty journeys, each one answered request, a 503, a reset, a refused connect and a
/// timeout in one transaction, then one answered request in a transaction that fails: every
/// error kind is
/// counted once per journey, the shares are over the right denominators (kinds over every
/// attempt; `err %` the larger of the failed attempts over the attempts and the failed
/// transactions over the transactions), and the requests and bytes the target read are what
/// the result says was sent.
#[test]
fn each_error_is_counted_once_under_its_kind_and_shares_use_the_right_denominator() {
    let target = counting_target();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    };
    let mut registry = Registry::default();
    registry.journey("t:errors", one_of_each);
    let n = 20u64;
    let result = run_journey(
        &registry,
        "t:errors",
        &target,
        &[format!("closed={closed}")],
        VolumeModel::Oneshot { journeys: n },
        RunOptions {
            http: mite_core::http::HttpSettings {
                request_timeout: Duration::from_millis(TIMEOUT_MS),
                ..RunOptions::default().http
            },
            ..options(1, Duration::from_secs(10))
        },
    );
    let file = json(&result);
    let totals = &file["totals"];
    assert_eq!(u(&totals["attempts"]), 6 * n);
    assert_eq!(u(&totals["ok"]), 2 * n);
    assert_eq!(u(&totals["errors"]), 4 * n, "{}", totals["errors_by_kind"]);
    assert_eq!(u(&totals["not_sent"]), n, "the refused connects");
    assert_eq!(u(&totals["requests"]), 5 * n);
    assert_eq!(target.hits(), 5 * n, "the target's count");
    let kinds = totals["errors_by_kind"].as_object().expect("errors_by_kind");
    let by_kind: Vec<(&str, u64)> = kinds.iter().map(|(k, v)| (k.as_str(), u(v))).filter(|(_, v)| *v > 0).collect();
    assert_eq!(by_kind, [("refused", n), ("reset", n), ("status", n), ("timeout", n)], "{kinds:?}");
    // A failed request has no response time; its transaction's time holds the timeout's wait.
    assert_eq!(u(&totals["latency_us"]["count"]), 3 * n, "the answered requests");
    let mixed = file["transactions"].as_array().unwrap().iter().find(|t| t["name"] == "mixed").expect("mixed");
    assert!(u(&mixed["latency_us"]["min"]) >= TIMEOUT_MS * 1000, "{}", mixed["latency_us"]);
    assert_eq!(u(&totals["transactions"]), 2 * n);
    assert_eq!(u(&totals["transaction_errors"]), n);
    assert_eq!(u(&totals["status_codes"]["503"]), n);
    assert_eq!(u(&totals["status_codes"]["200"]), 2 * n);
    assert_means_and_connects(&file, &target, n);
    assert_error_shares(&mite_core::output::report::table(&result.merged, result.duration_s), n);
    // Bytes: every request written counts, answered or not (the reset and the timed-out ones
    // too), as the target read them; bodies of the responses read (not the reset's cut short,
    // nor the 2 bytes the target wrote after the client gave up on the timed-out request).
    assert_eq!(u(&totals["sent_bytes"]), target.request_bytes(), "request bytes against the target's");
    assert_eq!(u(&totals["body_bytes"]), target.response_body_bytes() - 2 * n, "body bytes against the target's");
    assert_eq!(u(&totals["body_bytes"]), n * (2 * 13 + 6), "two hellos and a 503's `status` per journey");
}

/// The errors test's means and connects: each mean over what it says (`first_byte_us_mean`
/// over the responses, a 503 being one and the reset, the timeout and the refused connect not,
/// as the first-byte histogram holds them; `connect_us_mean` over the connects that
/// succeeded), and the connects that succeeded are the connections the target accepted, each
/// timed; the refused ones failed, one per journey.
fn assert_means_and_connects(file: &Value, target: &Target, n: u64) {
    for txn in file["transactions"].as_array().unwrap() {
        let requests = &txn["requests"];
        for (mean, phase) in [("first_byte_us_mean", "first_byte"), ("connect_us_mean", "connect")] {
            let (exact, histogram) = (f(&requests[mean]), f(&requests["phases_us"][phase]["mean"]));
            assert!(
                (exact - histogram).abs() <= 1.0 + exact * 0.001,
                "{}: {mean} {exact}, phases_us.{phase}.mean {histogram}",
                txn["name"]
            );
        }
    }
    let connects = &file["totals"]["connects"];
    assert_eq!(u(&connects["failed"]), n, "{connects}");
    assert_eq!(u(&connects["attempted"]) - u(&connects["failed"]), target.connections(), "{connects}");
    let timed: u64 = file["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| u(&t["requests"]["phases_us"]["connect"]["count"]))
        .sum();
    assert_eq!(timed, target.connections(), "a connect time per connection, answered or not");
}

/// The errors test's table: each kind a share of every attempt (6 per journey), 16.7 % each;
/// `err %` of `mixed` 4 of 5 attempts failed, its transactions none: 80.0 %; of `fails` no
/// attempt failed, every transaction: 100.0 %.
fn assert_error_shares(table: &str, n: u64) {
    for kind in ["refused", "reset", "status", "timeout"] {
        let line = table
            .lines()
            .skip_while(|l| !l.starts_with("errors by kind:"))
            .find(|l| l.split_whitespace().next() == Some(kind))
            .unwrap_or_else(|| panic!("{kind}: {table}"));
        assert!(line.contains(&format!("{n} ")) && line.contains("16.7%"), "{line}");
    }
    let row = |name: &str| table.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}: {table}"));
    assert!(row("mixed").contains("80.0%"), "{}", row("mixed"));
    assert!(row("fails").contains("100.0%"), "{}", row("fails"));
}

/// The open model against a fast target at 150 arrivals a second over 2 s, split over two
/// cores (75 each): 300 requested (within one per core), each started and sent once, and the
/// target, by its own clock, saw them paced at the rate: request k came k / 150 s after the
/// first (give or take a common offset, the first request's connect), none of them more than
/// 2 ms earlier than the earliest tenth and 75 % within 20 ms after them (the stalls of a
/// loaded machine): not in bursts. The corrected latencies are never below the plain ones, and with nothing
/// queued their medians are within 2 ms (the injector's lateness in starting an arrival).
#[test]
fn an_open_model_paces_its_arrivals_at_the_rate_as_the_target_sees_them() {
    // On a loaded machine a core held past the rate's end finds its last arrival still queued
    // at the stop (rightly missed), or a stall holds more than a quarter of the requests past
    // 20 ms: such a try is run again, up to three in all. An engine that sends in bursts, or
    // ahead of time, fails every try.
    let mut tries = Vec::new();
    while tries.len() < 3 {
        match pacing_try() {
            Ok(()) => return,
            Err(why) => tries.push(why),
        }
    }
    panic!("in each of three tries: {tries:#?}");
}

/// One try of [`an_open_model_paces_its_arrivals_at_the_rate_as_the_target_sees_them`] against
/// a target of its own: the counts asserted, what a loaded machine's stalls can break
/// returned as `Err`.
fn pacing_try() -> Result<(), String> {
    let target = counting_target();
    let (rate, seconds) = (150.0, 2.0);
    let volume = VolumeModel::Arrivals {
        rate: RateModel::Constant { per_s: rate, duration_s: Some(seconds) },
        max_in_flight: 32,
    };
    let mut opts = options(2, Duration::from_secs(10));
    opts.duration = None;
    let result = {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        mite_tests::get(&target.url("/"), volume, opts)
    };
    let journeys = result.merged.journeys;
    assert!(
        (299..=301).contains(&journeys.scheduled),
        "requested {}, expected 300 within one per core",
        journeys.scheduled
    );
    assert_eq!(journeys.arrivals_started + journeys.missed, journeys.scheduled, "{journeys:?}");
    if journeys.missed > 0 {
        return Err(format!("{} arrivals missed: {journeys:?}", journeys.missed));
    }
    let total = result.merged.total();
    assert_eq!(total.requests(), journeys.arrivals_started);
    let times = target.request_times();
    assert_eq!(times.len() as u64, total.requests(), "the target's count");
    let (corrected, plain) = (&total.req_us_corrected, &total.req_us);
    for q in [0.5, 0.9, 0.99, 1.0] {
        let (c, p) = (corrected.value_at_quantile(q), plain.value_at_quantile(q));
        assert!(c >= p, "corrected p{} {c} µs below the uncorrected {p} µs", q * 100.0);
    }
    let step_s = 1.0 / rate;
    let offsets_ms: Vec<f64> = times
        .iter()
        .enumerate()
        .map(|(k, t)| (t.duration_since(times[0]).as_secs_f64() - k as f64 * step_s) * 1000.0)
        .collect();
    // Lateness is one-sided (a request is never sent before its time; a busy machine delays
    // some, in bursts that catch up), so the requests nearest to on time are the earliest: the
    // offset of the earliest tenth is the reference. None may be early by more than 2 ms from
    // it (a burst sends them early), and 75 % must be within 20 ms late (a loaded 2-core machine
    // held the injector 50 to 90 ms at times, and the arrivals due meanwhile caught up). (From
    // the median offset, a loaded machine's typical lateness made the requests that were on time
    // look early: by up to 7 ms at load 8, where the earliest tenth were within 1 ms of each
    // other; on a quiet machine the two references are within a tenth of a millisecond.)
    let mut sorted = offsets_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let on_time_ms = sorted[sorted.len() / 10];
    let from_on_time: Vec<f64> = offsets_ms.iter().map(|o| o - on_time_ms).collect();
    let early: Vec<(usize, &f64)> = from_on_time.iter().enumerate().filter(|(_, o)| **o < -2.0).collect();
    if !early.is_empty() {
        return Err(format!(
            "requests sent before their paced time (ms from the earliest tenth's offset): {early:.1?}"
        ));
    }
    let late = from_on_time.iter().filter(|o| **o <= 20.0).count();
    if late * 100 < from_on_time.len() * 75 {
        return Err(format!(
            "{late} of {} requests within 20 ms of their paced time (ms from the earliest tenth's offset \
             {on_time_ms:.2}): {from_on_time:.1?}",
            from_on_time.len()
        ));
    }
    // The correction is the arrivals' lateness in starting: with nothing queued, their median is
    // the lateness the target saw (the median request's, from the earliest tenth's), within
    // 2 ms. (Held to 2 ms whatever the machine's load, a loaded machine's own lateness, 2 to
    // 13 ms at load 11, failed it; on a quiet machine the target sees none.)
    let (c50, p50) = (corrected.value_at_quantile(0.5), plain.value_at_quantile(0.5));
    let seen_late_us = (sorted[sorted.len() / 2] - on_time_ms).max(0.0) * 1000.0;
    if (c50 - p50) as f64 > seen_late_us + 2_000.0 {
        return Err(format!(
            "corrected p50 {c50} µs, uncorrected {p50} µs: arrivals started later than the {seen_late_us:.0} µs the \
             target saw"
        ));
    }
    Ok(())
}

/// The split route's wait between its head and its body, ms: long enough that a loaded
/// machine's stalls (16 to 44 ms seen at load 7) rarely reach half of it.
const SPLIT_MS: u64 = 100;

async fn split_and_chunked(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = base(ctx);
    ctx.transaction("split", async {
        ctx.http().get(&format!("{base}/split/{SPLIT_MS}")).send().await?;
        Ok(())
    })
    .await?;
    ctx.transaction("chunked", async {
        ctx.http().get(&format!("{base}/bad/chunked")).send().await?;
        Ok(())
    })
    .await
}

/// A response whose head comes at once and whose body comes 100 ms later: `first_byte` is the
/// head's (well under the 100 ms: within 50 ms on a loaded machine), the request's time the
/// body's end (never under 100 ms). A chunked body counts its 13 bytes of content, not its
/// framing.
#[test]
fn the_first_byte_is_the_heads_and_the_total_ends_with_the_body() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:split", split_and_chunked);
    let split_us = SPLIT_MS * 1000;
    // On a loaded machine the core can be held past the 50 ms between the head's arrival and
    // its read (then the head and the body come in one read, as they would if the first byte
    // were the body's): such a try is run again, up to three in all. A first byte timed at the
    // body fails every try.
    let mut held_us = Vec::new();
    while held_us.len() < 3 {
        let result = run_journey(
            &registry,
            "t:split",
            &target,
            &[],
            VolumeModel::constant(1),
            options(1, Duration::from_millis(1000)),
        );
        let stats = &result.merged.txns["split"];
        assert_eq!(stats.req_errors(), 0, "{:?}", result.merged.error_samples);
        assert!(stats.req_us.len() >= 5, "{} requests", stats.req_us.len());
        assert!(
            stats.req_us.min() >= split_us,
            "total min {} µs, the body came {split_us} µs after the head",
            stats.req_us.min()
        );
        let first_byte = &stats.http.first_byte_us;
        assert_eq!(first_byte.len(), stats.req_us.len());
        let chunked = &result.merged.txns["chunked"];
        assert_eq!(chunked.req_errors(), 0, "{:?}", result.merged.error_samples);
        assert_eq!(chunked.body_bytes, 13 * chunked.req_ok, "the chunked body's content, 13 bytes a response");
        assert_eq!(stats.body_bytes, 2 * stats.req_ok);
        if first_byte.max() < split_us / 2 {
            return;
        }
        held_us.push(first_byte.max());
    }
    panic!("first byte max {held_us:?} µs in three tries, {split_us} µs between the head and the body");
}

/// Over TLS, to a route that closes after each response (so every request makes its own
/// connection and handshake): `connect` and `tls` are timed once per new connection (the
/// connections the target accepted), their means agree with `connect_us_mean` and
/// `tls_us_mean`, and a request's time holds its connect, its handshake and its first byte
/// (so its mean is at least their means' sum).
#[test]
fn tls_and_connect_phases_are_each_new_connections_and_part_of_the_requests_time() {
    let target = mite_tools::TlsTarget::start().unwrap();
    let mut opts = options(1, Duration::from_millis(800));
    opts.tls.ca_file = Some(mite_tools::tls_server::CA_PATH.into());
    let result = {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        mite_tests::get(&target.url("/bad/close"), VolumeModel::constant(1), opts)
    };
    let file = json(&result);
    let totals = &file["totals"];
    assert_eq!(u(&totals["errors"]), 0, "{}", file["error_samples"]);
    let requests = u(&totals["requests"]);
    assert_eq!(requests, target.hits(), "the target's count");
    assert!(requests >= 3, "{requests} requests");
    let connections = target.connections();
    let txn = &file["transactions"][0]["requests"];
    let phases = &txn["phases_us"];
    assert_eq!(u(&totals["connects"]["attempted"]), connections, "connects against the target's accepts");
    assert_eq!(u(&totals["tls_handshakes"]["attempted"]), connections, "handshakes against the target's accepts");
    assert_eq!(u(&phases["connect"]["count"]), connections);
    assert_eq!(u(&phases["tls"]["count"]), connections);
    assert_eq!(connections, requests, "a connection per request");
    // The exact means (sums over counts) and the histograms' (to half a bucket: 0.1 %).
    for (phase, mean) in [("connect", "connect_us_mean"), ("tls", "tls_us_mean")] {
        let (exact, histogram) = (f(&txn[mean]), f(&phases[phase]["mean"]));
        assert!(
            (exact - histogram).abs() <= 1.0 + exact * 0.001,
            "{mean} {exact} against phases_us.{phase}.mean {histogram}"
        );
    }
    let parts = ["connect", "tls", "first_byte"].map(|p| f(&phases[p]["mean"])).iter().sum::<f64>();
    let total_mean = f(&phases["total"]["mean"]);
    assert!(total_mean * 1.001 >= parts, "total mean {total_mean} µs below connect + tls + first byte {parts} µs");
    let handshake_min = f(&phases["tls"]["min"]);
    assert!(u(&totals["latency_us"]["min"]) as f64 >= handshake_min, "a request shorter than any handshake");
}

/// An open-model run interrupted after 0.8 s of its 5, on one core and on two: the arrivals'
/// window runs to the instant the stop was taken (after the interrupt, within the cores'
/// poll), every core schedules up to that same instant, so what was requested is the rate over
/// the window to the arrival (none due after it scheduled, none started), every arrival ends
/// once, and the intervals (the piece up to the stop included) add up to the totals.
#[test]
fn an_interrupted_open_model_requests_the_rate_over_its_window() {
    for cores in [1, 2] {
        interrupted_open_model(cores);
    }
}

fn interrupted_open_model(cores: usize) {
    let target = counting_target();
    // Fast enough that cores noticing the interrupt a millisecond apart would differ by one.
    let rate = 1000.0;
    let volume =
        VolumeModel::Arrivals { rate: RateModel::Constant { per_s: rate, duration_s: Some(5.0) }, max_in_flight: 16 };
    let mut opts = options(cores, Duration::from_secs(10));
    opts.duration = None;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (result, interrupted_at) = {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let s = scenario(mite_tests::GET_JOURNEY, volume);
        let config = mite_core::run::layered_config(&s.config, &[format!("target_url={}", target.url("/"))]).unwrap();
        let interrupt = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(800));
                let at = std::time::SystemTime::now();
                stop.store(true, Ordering::SeqCst);
                at
            })
        };
        let result = mite_core::run_scenario(&mite_journeys::registry(), s, config, &opts, stop, &mut |_| {}).unwrap();
        (result, interrupt.join().unwrap())
    };
    assert_eq!(result.stopped_by, mite_core::output::outcome::StopReason::Interrupted);
    let interrupted_s =
        interrupted_at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() - result.started_at_unix_s;
    let file = json(&result);
    let arrivals = &file["totals"]["arrivals"];
    let window_s = f(&arrivals["window_s"]);
    // The stop is taken once the flag is seen up: not before the interrupt (2 ms for the wall
    // clock's reads against the run's), and within the cores' 50 ms poll of it (0.5 s here, for
    // a loaded machine).
    assert!(
        (interrupted_s - 0.002..interrupted_s + 0.5).contains(&window_s),
        "{cores} cores: window {window_s} s, interrupt at {interrupted_s} s"
    );
    let requested = u(&arrivals["requested"]);
    // The arrivals of [0, window): the n-th at n / rate. `window_s` is to the µs, truncated:
    // requested is rate × window_s plus less than one, and a µs of the rate.
    let over = requested as f64 - rate * window_s;
    assert!(
        (-1e-6..=1.0 + rate * 1e-6).contains(&over),
        "{cores} cores: requested {requested} over {window_s} s at {rate}/s"
    );
    assert_eq!(u(&arrivals["started"]) + u(&arrivals["missed"]) + u(&arrivals["datapool_exhausted"]), requested);
    assert_eq!(u(&file["totals"]["requests"]), target.hits(), "the target's count");
    assert_eq!(u(&arrivals["started"]), target.hits(), "one request per arrival started");
    let intervals = file["intervals"].as_array().expect("intervals");
    for key in ["requests", "errors", "transactions", "body_bytes", "sent_bytes"] {
        let sum: u64 = intervals.iter().map(|i| u(&i[key])).sum();
        assert_eq!(sum, u(&file["totals"][key]), "intervals' {key}");
    }
    for key in ["requested", "started", "missed"] {
        let sum: u64 = intervals.iter().map(|i| u(&i["arrivals"][key])).sum();
        assert_eq!(sum, u(&arrivals[key]), "intervals' arrivals.{key}");
    }
}

/// Requests still in flight when the grace ends are cancelled: each counted once, as a request
/// sent (the target read it) and a `cancelled` error, in the last interval, whose end is the
/// run's `duration_s`: the duration plus the grace, not the 2 s the answers would have taken.
#[test]
fn requests_cancelled_at_the_end_of_the_grace_are_counted_once_in_the_intervals() {
    let target = counting_target();
    let mut opts = options(1, Duration::from_millis(500));
    opts.grace = Duration::from_millis(300);
    let result = {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        mite_tests::get(&target.url("/delay/2000"), VolumeModel::constant(2), opts)
    };
    let file = json(&result);
    let totals = &file["totals"];
    assert_eq!(u(&totals["requests"]), 2);
    assert_eq!(target.hits(), 2, "the target's count");
    assert_eq!(u(&totals["errors_by_kind"]["cancelled"]), 2, "{}", totals["errors_by_kind"]);
    assert_eq!(u(&totals["errors"]), 2);
    assert_eq!(u(&totals["journeys"]["cancelled"]), 2, "{}", totals["journeys"]);
    let duration_s = f(&file["duration_s"]);
    assert!((0.8..1.5).contains(&duration_s), "duration_s {duration_s}: 0.5 s and a grace of 0.3 s");
    let intervals = file["intervals"].as_array().expect("intervals");
    for key in ["requests", "errors", "transactions"] {
        let sum: u64 = intervals.iter().map(|i| u(&i[key])).sum();
        assert_eq!(sum, u(&totals[key]), "intervals' {key}");
    }
    let cancelled: u64 = intervals.iter().map(|i| i["errors_by_kind"]["cancelled"].as_u64().unwrap_or(0)).sum();
    assert_eq!(cancelled, 2, "the intervals' cancelled errors");
    let last = f(&intervals.last().unwrap()["elapsed_s"]);
    assert!((last - duration_s).abs() <= 0.01, "the last interval ends at {last}, duration_s {duration_s}");
    // Their connections were made before the answers were awaited: each connect is counted
    // and timed, as an answered request's is (`connect`'s count is the connects that
    // succeeded, its mean `connect_us_mean`).
    let connects = &totals["connects"];
    assert_eq!(u(&connects["attempted"]) - u(&connects["failed"]), target.connections(), "{connects}");
    assert_eq!(target.connections(), 2, "a connection per journey");
    let txns = file["transactions"].as_array().unwrap();
    let timed: u64 = txns.iter().map(|t| t["requests"]["phases_us"]["connect"]["count"].as_u64().unwrap_or(0)).sum();
    assert_eq!(timed, target.connections(), "a connect time per connection, its request cancelled or not");
    for txn in txns.iter().map(|t| &t["requests"]).filter(|r| u(&r["connects"]["attempted"]) > 0) {
        let (exact, histogram) = (f(&txn["connect_us_mean"]), f(&txn["phases_us"]["connect"]["mean"]));
        assert!((exact - histogram).abs() <= 1.0 + exact * 0.001, "connect_us_mean {exact}, phases_us {histogram}");
    }
}

/// Over TLS, the same: each request cancelled at the grace's end made its connection and its
/// handshake before its answer was awaited, and both are counted and timed, once per
/// connection the target accepted.
#[test]
fn a_cancelled_requests_connect_and_handshake_are_timed_as_they_are_counted() {
    let target = mite_tools::TlsTarget::start().unwrap();
    let mut opts = options(1, Duration::from_millis(500));
    opts.grace = Duration::from_millis(300);
    opts.tls.ca_file = Some(mite_tools::tls_server::CA_PATH.into());
    let result = {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        mite_tests::get(&target.url("/delay/2000"), VolumeModel::constant(2), opts)
    };
    let file = json(&result);
    let totals = &file["totals"];
    assert_eq!(u(&totals["errors_by_kind"]["cancelled"]), 2, "{}", totals["errors_by_kind"]);
    assert_eq!(target.connections(), 2, "a connection per journey");
    assert_eq!(u(&totals["connects"]["attempted"]), 2, "{}", totals["connects"]);
    assert_eq!(u(&totals["tls_handshakes"]["attempted"]), 2, "{}", totals["tls_handshakes"]);
    let txn = &file["transactions"][0]["requests"];
    for (phase, mean) in [("connect", "connect_us_mean"), ("tls", "tls_us_mean")] {
        let timed = &txn["phases_us"][phase];
        assert_eq!(timed["count"].as_u64(), Some(2), "{phase}: {timed}");
        let (exact, histogram) = (f(&txn[mean]), f(&timed["mean"]));
        assert!((exact - histogram).abs() <= 1.0 + exact * 0.001, "{mean} {exact}, phases_us.{phase} {histogram}");
    }
}

/// The progress lines cover each interval once: the `txn` counts they print add up to the
/// result's transactions, and each whole line's `ok` and `err` rates are its attempts over its
/// own length (the piece up to the stop and the grace's pieces print counts).
#[test]
fn the_progress_lines_add_up_to_the_result() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:bytes", bytes_then_wait);
    let mut lines = Vec::new();
    let mut attempts = 0;
    let result = {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let s = scenario("t:bytes", VolumeModel::constant(3));
        let config = mite_core::run::layered_config(&s.config, &[format!("base={}", target.url(""))]).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let opts = options(1, Duration::from_millis(900));
        mite_core::run_scenario(&registry, s, config, &opts, stop, &mut |event| {
            if let mite_core::output::events::RunEvent::Interval(progress) = event {
                let line = progress.to_string();
                let point = progress.point;
                attempts += point.requests + point.not_sent;
                if line.contains("/s") {
                    // `ok N/s  err N/s`: this line's attempts, over its length.
                    let ok = (point.requests + point.not_sent - point.errors) as f64 / progress.seconds;
                    let err = point.errors as f64 / progress.seconds;
                    let words: Vec<&str> = line.split_whitespace().collect();
                    let rate = |name: &str| {
                        let at = words.iter().position(|w| *w == name).unwrap();
                        words[at + 1].trim_end_matches("/s").replace(',', "").parse::<f64>().unwrap()
                    };
                    assert!(
                        (rate("ok") - ok).abs() <= 0.5 && (rate("err") - err).abs() <= 0.5,
                        "{line}: ok {ok}/s, err {err}/s"
                    );
                }
                lines.push(line);
            }
        })
        .unwrap()
    };
    let total = result.merged.total();
    assert_eq!(attempts, total.attempts(), "the lines' attempts");
    let txns: u64 = lines
        .iter()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "txn").unwrap_or_else(|| panic!("no txn in {line}"));
            words[at - 1].replace(',', "").parse::<u64>().unwrap()
        })
        .sum();
    assert_eq!(txns, total.transactions(), "{lines:#?}");
    assert!(lines.len() >= 4, "{lines:#?}");
}

async fn spin(ctx: &Ctx, _row: Row) -> JourneyResult {
    ctx.transaction("spin", async {
        let until = std::time::Instant::now() + Duration::from_millis(2);
        while std::time::Instant::now() < until {
            std::hint::spin_loop();
        }
        mite_core::sleep(Duration::from_micros(100)).await;
        Ok(())
    })
    .await
}

/// One journey burning CPU on the first of two cores (the other has none): the busiest core's
/// share is the spinning one's, and the mean is over the cores, about half of it (within 10
/// points; a loaded machine gives the spinning thread less than a whole CPU, not the idle one
/// more), not their sum.
#[test]
fn busy_percent_mean_is_over_the_cores_and_max_is_the_busiest() {
    let mut registry = Registry::default();
    registry.journey("t:spin", spin);
    let result = {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        run(&registry, scenario("t:spin", VolumeModel::constant(1)), &[], options(2, Duration::from_millis(1000)))
    };
    let injector = &json(&result)["injector"];
    let (mean, max) = (f(&injector["busy_percent_mean"]), f(&injector["busy_percent_max"]));
    assert!(max >= 25.0, "the spinning core was busy {max}% at most: {injector}");
    assert!(mean <= max / 2.0 + 10.0, "mean {mean}% of two cores, one of them idle, the busiest {max}%");
    assert!(mean >= max / 4.0, "mean {mean}%, the busiest {max}%");
}

static OUTAGE_REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Five answered requests, then every one times out.
async fn then_outage(ctx: &Ctx, _row: Row) -> JourneyResult {
    let n = OUTAGE_REQUESTS.fetch_add(1, Ordering::Relaxed);
    let url = if n < 5 { base(ctx) + "/" } else { format!("{}/delay/{TIMED_OUT_MS}", base(ctx)) };
    ctx.transaction("get", async {
        ctx.http().get(&url).send().await?;
        Ok(())
    })
    .await
}

/// A target that answers, then times out every request: the intervals of the outage have no
/// request percentiles (null), not the failed transactions' durations under the requests'
/// name (which read 100 ms, the timeout, beside sub-millisecond answers).
#[test]
fn an_outage_has_no_request_percentiles_rather_than_transaction_durations() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:outage", then_outage);
    let opts = RunOptions {
        http: mite_core::http::HttpSettings {
            request_timeout: Duration::from_millis(TIMEOUT_MS),
            ..RunOptions::default().http
        },
        ..options(1, Duration::from_millis(1200))
    };
    let result = run_journey(&registry, "t:outage", &target, &[], VolumeModel::constant(1), opts);
    let file = json(&result);
    assert_eq!(u(&file["totals"]["ok"]), 5, "{}", file["totals"]);
    assert!(u(&file["totals"]["errors_by_kind"]["timeout"]) >= 5, "{}", file["totals"]["errors_by_kind"]);
    let intervals = file["intervals"].as_array().expect("intervals");
    let outage: Vec<&Value> = intervals.iter().filter(|i| u(&i["ok"]) == 0).collect();
    assert!(outage.len() >= 3, "{intervals:#?}");
    for interval in outage {
        for key in ["p50_us", "p99_us", "latency"] {
            assert!(interval[key].is_null(), "{key} in an interval with no request answered: {interval}");
        }
    }
}

async fn redirected(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = format!("{}/redirect/307/3", base(ctx));
    ctx.transaction("redirected", async {
        ctx.http().post(&url).body(&[b'r'; 1000][..]).send().await?;
        Ok(())
    })
    .await
}

/// A POST redirected three times with 307 (each hop resends its 1,000-byte body): each hop is a
/// request of its own in the counts, the status codes and the phases, its bytes are what the
/// target read and wrote, and the transaction is one per journey, spanning the hops.
#[test]
fn each_redirect_hop_is_a_request_with_its_bytes() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:redirected", redirected);
    let n = 10;
    let result = run_journey(
        &registry,
        "t:redirected",
        &target,
        &[],
        VolumeModel::Oneshot { journeys: n },
        options(1, Duration::from_secs(10)),
    );
    let file = json(&result);
    let totals = &file["totals"];
    assert_eq!(u(&totals["errors"]), 0, "{}", file["error_samples"]);
    assert_eq!(u(&totals["requests"]), 4 * n);
    assert_eq!(target.hits(), 4 * n, "the target's count");
    assert_eq!((u(&totals["status_codes"]["307"]), u(&totals["status_codes"]["200"])), (3 * n, n));
    assert_eq!(u(&totals["transactions"]), n);
    assert_eq!(u(&totals["latency_us"]["count"]), 4 * n, "a time per hop");
    assert_eq!(u(&file["transactions"][0]["requests"]["phases_us"]["first_byte"]["count"]), 4 * n);
    assert_eq!(u(&totals["sent_bytes"]), target.request_bytes(), "request bytes against the target's");
    assert!(u(&totals["sent_bytes"]) >= 4 * n * 1000, "every hop resent the body");
    assert_eq!(u(&totals["body_bytes"]), target.response_body_bytes(), "body bytes against the target's");
    // The transaction spans its hops, one after another: its fastest is at least four of the
    // fastest request (less the histograms' 0.1 %).
    let (txn_min, request_min) = (u(&file["transactions"][0]["latency_us"]["min"]), u(&totals["latency_us"]["min"]));
    assert!(
        txn_min as f64 >= 4.0 * request_min as f64 * 0.999,
        "transaction min {txn_min} µs, request min {request_min} µs"
    );
}

async fn ws_exchange(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = format!("{}/ws/echo", base(ctx).replacen("http://", "ws://", 1));
    ctx.transaction("ws", async {
        let mut ws = ctx.websocket().connect(&url).await?;
        ws.send_text("hello").await?;
        ws.receive().await?;
        ws.close().await?;
        Ok(())
    })
    .await
}

/// A WebSocket handshake is a request like any other in the phases and the responses: its
/// connect is timed (one per connection the target accepted), its first byte too (so that
/// `first_byte_us_mean` and the phase agree), and its `101` is in `responses` as in
/// `status_codes`.
#[test]
fn a_websocket_handshake_has_its_phases_and_its_response() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:ws", ws_exchange);
    let n = 5;
    let result = run_journey(
        &registry,
        "t:ws",
        &target,
        &[],
        VolumeModel::Oneshot { journeys: n },
        options(1, Duration::from_secs(10)),
    );
    let file = json(&result);
    assert_eq!(u(&file["totals"]["errors"]), 0, "{}", file["error_samples"]);
    let requests = &file["transactions"][0]["requests"];
    assert_eq!(u(&requests["status_codes"]["101"]), n);
    let phases = &requests["phases_us"];
    assert_eq!(u(&phases["connect"]["count"]), target.connections(), "{phases}");
    assert_eq!(u(&phases["first_byte"]["count"]), n, "{phases}");
    let (exact, histogram) = (f(&requests["first_byte_us_mean"]), f(&phases["first_byte"]["mean"]));
    assert!((exact - histogram).abs() <= 1.0 + exact * 0.001, "first_byte_us_mean {exact}, phase mean {histogram}");
    let responses = requests["responses"].as_array().expect("responses");
    let upgrades: u64 =
        responses.iter().filter(|r| r["method"] == "GET" && r["response_code"] == 101).map(|r| u(&r["count"])).sum();
    assert_eq!(upgrades, n, "{responses:?}");
    assert_eq!(
        u(&file["totals"]["sent_bytes"]),
        target.request_bytes(),
        "the handshakes' bytes, as the target read them"
    );
}
