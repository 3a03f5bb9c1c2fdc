//! Numbers users can trust: latencies against a known delay, the open model's achieved rate,
//! coordinated-omission correction through a server stall, percentiles never above max.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use mite_core::model::volume::RateModel;
use mite_core::run::layered_config;
use mite_core::{RunOptions, VolumeModel};
use mite_tests::{
    GET_JOURNEY, TargetProcess, assert_target_saw_every_request, get, options, scenario, two_quiet_cores,
};
use mite_tools::{Target, TargetOptions};

/// Timing tests run one at a time so that they do not disturb each other's measurements.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn get_at(target: &Target, path: &str, volume: VolumeModel, opts: RunOptions) -> mite_core::RunResult {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    get(&target.url(path), volume, opts)
}

/// The target runs in its own process, its thread pinned to another core than the injector's
/// when two cores are idle, so that neither's work (the target spins the last 2 ms of each
/// delay) shows in the other's latencies: it failed once at 20,591 us on a quiet CI machine when
/// both shared the test process and its cores.
#[test]
fn fixed_20ms_delay_reports_p50_within_half_a_millisecond() {
    let cores = two_quiet_cores();
    // A loaded machine's delays drift within seconds: a try whose p50 the machine held past
    // its floor measured around it (by 1 to 3 ms at load 8, the engine's threads waiting for a
    // CPU the plain client had) is run again, up to three in all, each with its own floor. An
    // engine that adds to every request fails every try.
    let mut tries = Vec::new();
    while tries.len() < 3 {
        match twenty_ms_try(cores) {
            Ok(()) => return,
            Err(why) => tries.push(why),
        }
    }
    panic!("in each of three tries: {tries:#?}");
}

/// One try of [`fixed_20ms_delay_reports_p50_within_half_a_millisecond`] against a target
/// process of its own: the counts and the percentiles' order asserted, the p50s' bounds
/// returned as `Err` when missed.
fn twenty_ms_try(cores: Option<(usize, usize)>) -> Result<(), String> {
    let target = TargetProcess::start(env!("CARGO_BIN_EXE_mite-test-target"), cores.map(|(_, target)| target));
    let mut opts = options(1, Duration::from_secs(2));
    if let Some((injector, _)) = cores {
        (opts.cores, opts.pin) = (vec![injector], true);
    }
    // What this machine adds to the 20 ms by itself (loopback, scheduling, a busy VM's wake-up
    // delays): the same route timed by a plain blocking client just before and just after the
    // run. A busy machine's delays drift within seconds, so the larger of the two is its floor
    // during the run.
    let result;
    let floor_us = {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let before = plain_client_p50_us(&target.url("/delay/20"), PLAIN_REQUESTS);
        // One journey: the target spins the last 2 ms of each delay on one thread, so concurrent
        // requests would wait for each other there, and that is not what is measured here.
        result = get(&target.url("/delay/20"), VolumeModel::constant(1), opts);
        before.max(plain_client_p50_us(&target.url("/delay/20"), PLAIN_REQUESTS))
    };
    assert_eq!(result.merged.total().requests() + 2 * PLAIN_REQUESTS as u64, target.stop(), "the target's own count");
    let txn = &result.merged.txns["get_root"];
    let json = mite_core::output::result_file::result_file(&result, true).to_value();
    let latency = &json["transactions"][0]["latency_us"];
    let values: Vec<u64> = ["p50", "p90", "p99", "p999", "max"].iter().map(|k| latency[k].as_u64().unwrap()).collect();
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "percentiles out of order or above max: {values:?}");
    let p50 = txn.txn_us.value_at_quantile(0.5);
    println!("p50 {p50} us, a plain client's {floor_us} us; cores {cores:?} (None: unpinned, the machine is busy)");
    // Within half a millisecond of 20 ms, or (on a machine that is itself slower than that)
    // within a quarter of a millisecond of a plain client's time; half a millisecond when the
    // machine is busy and nothing is pinned: the engine's threads (a core's and the stats
    // thread), running a debug build's tens of µs per request, then wait for a CPU in turns
    // that the single-threaded plain client does not take (release builds of main and of
    // earlier commits measure the same p50 there, within the noise of ±150 µs).
    let slack_us = if cores.is_some() { 250 } else { 500 };
    let upper = 20_500.max(floor_us + slack_us);
    let request_p50 = txn.req_us.value_at_quantile(0.5);
    for (what, p50) in [("p50", p50), ("request p50", request_p50)] {
        if !(19_500..=upper).contains(&p50) {
            return Err(format!("{what} {p50} us, plain client {floor_us} us, at most {upper} us"));
        }
    }
    Ok(())
}

/// Requests the plain client sends to time the machine's own floor.
const PLAIN_REQUESTS: usize = 25;

/// The median time a blocking `std` client takes for `url` (`http://host:port/path`), µs: one
/// keep-alive connection, one request at a time, the response read to its last byte.
fn plain_client_p50_us(url: &str, requests: usize) -> u64 {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).expect("a path");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream.set_nodelay(true).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests {
        let started = std::time::Instant::now();
        stream.write_all(request.as_bytes()).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the target closed the connection");
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            let Some(head_end) = text.find("\r\n\r\n") else { continue };
            let length: usize = text[..head_end]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            if got.len() >= head_end + 4 + length {
                break;
            }
        }
        times.push(started.elapsed().as_micros() as u64);
    }
    times.sort_unstable();
    times[times.len() / 2]
}

#[test]
fn open_model_achieves_the_requested_rate() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let volume =
        VolumeModel::Arrivals { rate: RateModel::Constant { per_s: 400.0, duration_s: Some(3.0) }, max_in_flight: 64 };
    let mut opts = options(2, Duration::from_secs(10));
    opts.duration = None;
    let result = get_at(&target, "/", volume, opts);
    let journeys = result.merged.journeys;
    let requested = journeys.scheduled;
    assert!((1198..=1202).contains(&requested), "requested {requested}, expected 1200 +- 1 per core");
    assert_eq!(journeys.missed, 0);
    assert_eq!(journeys.arrivals_started, requested);
    let total = assert_target_saw_every_request(&result, target.hits());
    assert_eq!(total.req_errors(), 0);
    // Corrected latencies exist for the open model, and are never below the uncorrected.
    assert_eq!(total.req_us_corrected.len(), total.req_us.len());
    assert!(total.req_us_corrected.value_at_quantile(0.5) >= total.req_us.value_at_quantile(0.5));
}

#[test]
fn corrected_p99_shows_a_server_stall_that_uncorrected_hides() {
    let target = Target::start(TargetOptions {
        stall: Some((Duration::from_millis(1500), Duration::from_secs(1))),
        ..TargetOptions::default()
    })
    .unwrap();
    let volume =
        VolumeModel::Arrivals { rate: RateModel::Constant { per_s: 100.0, duration_s: Some(4.0) }, max_in_flight: 1 };
    let mut opts = options(1, Duration::from_secs(10));
    opts.duration = None;
    let result = get_at(&target, "/", volume, opts);
    let total = result.merged.total();
    let corrected_p99 = total.req_us_corrected.value_at_quantile(0.99);
    let uncorrected_p99 = total.req_us.value_at_quantile(0.99);
    assert!(corrected_p99 >= 500_000, "corrected p99 {corrected_p99} us should show the 1 s stall");
    assert!(uncorrected_p99 < 100_000, "uncorrected p99 {uncorrected_p99} us should not");
    assert_eq!(total.req_errors(), 0);
}

#[test]
fn max_in_flight_below_core_count_is_refused_with_the_reason() {
    let registry = mite_journeys::registry();
    let volume =
        VolumeModel::Arrivals { rate: RateModel::Constant { per_s: 10.0, duration_s: Some(1.0) }, max_in_flight: 1 };
    let s = scenario(GET_JOURNEY, volume);
    let config = layered_config(&s.config, &[]).unwrap();
    let err = mite_core::run_scenario(
        &registry,
        s,
        config,
        &options(2, Duration::from_secs(1)),
        Arc::new(AtomicBool::new(false)),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("max_in_flight 1 is below the 2 cores"), "{err}");
}
