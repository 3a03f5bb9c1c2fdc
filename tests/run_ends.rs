//! Issue 10: every run reaches its stop on time, whatever its names, URLs and journeys do:
//! an unresolvable host, a URL that only goes bad at run time, a journey that fails at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mite_core::run::{StopReason, layered_config};
use mite_core::stats::ErrorKind;
use mite_core::{
    Ctx, JourneyError, JourneyResult, Registry, Row, RunResult, VolumeModel, scenario::file as scenario_file,
};
use mite_tests::{ScenarioDir, assert_target_saw_every_request, options, scenario};
use mite_tools::{Target, TargetOptions};

/// Writes the scenario (and its `rows.csv`) into a new temporary directory.
fn write_scenario(toml: &str, csv: Option<&str>) -> (ScenarioDir, PathBuf) {
    let dir = ScenarioDir::new();
    if let Some(csv) = csv {
        dir.write("rows.csv", csv);
    }
    let path = dir.write("s.toml", toml);
    (dir, path)
}

/// Runs a scenario file for `duration` with `grace`, returning the result and how long it took.
fn run_file(path: &Path, overrides: &[String], duration: Duration, grace: Duration) -> (RunResult, Duration) {
    let loaded = scenario_file::load(path, &mite_journeys::registry(), overrides).unwrap();
    let config = layered_config(&loaded.scenario.config, overrides).unwrap();
    let mut opts = options(1, duration);
    opts.grace = grace;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let result = mite_core::run_scenario(&loaded.registry, loaded.scenario, config, &opts, stop, &mut |_| {}).unwrap();
    (result, started.elapsed())
}

fn sample(result: &RunResult, kind: &str) -> String {
    result.merged.error_samples.get(kind).cloned().unwrap_or_default()
}

/// A host that does not resolve: the core is never blocked in the lookup, the run stops within
/// duration + grace + 2 s, and every request is a `dns` error, with the first message kept.
#[test]
fn unresolvable_host_stops_on_time_with_dns_errors() {
    let (_dir, path) = write_scenario(
        r#"
        [journeys.get]
        steps = [{ transaction = "get", url = "http://no-such-host.invalid/" }]
        [[scenario]]
        journey = "get"
        volume = { constant = 8 }
        "#,
        None,
    );
    let (duration, grace) = (Duration::from_secs(2), Duration::from_secs(2));
    let (result, took) = run_file(&path, &[], duration, grace);
    assert!(took < duration + grace + Duration::from_secs(2), "took {took:?}");
    let total = result.merged.total();
    let dns = total.errors_of(ErrorKind::Dns);
    assert!(dns > 0, "{:?}", result.merged.error_samples);
    assert_eq!(total.req_errors(), dns + total.errors_of(ErrorKind::Cancelled), "only dns errors");
    // Nothing reached a server: every dns failure is an attempt that was never sent.
    // (A lookup still waiting at the stop is counted as cancelled.)
    assert_eq!(total.requests(), total.errors_of(ErrorKind::Cancelled));
    assert_eq!(total.not_sent, dns);
    assert!(sample(&result, "dns").contains("no-such-host.invalid"), "{:?}", result.merged.error_samples);
    assert!(result.intervals.len() >= 2, "progress went on: {} intervals", result.intervals.len());
    // The negative cache and the backoff keep the attempts bounded (8 slots, 2 s).
    assert!(dns < 2_000, "{dns} attempts: the broken name was hammered");
}

/// A datapool value with a space, substituted into a URL's query, is percent-encoded and runs.
#[test]
fn datapool_value_with_a_space_runs() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let (_dir, path) = write_scenario(
        r#"
        [datapools.people]
        csv = "rows.csv"
        [journeys.greet]
        steps = [{ transaction = "greet", url = "{base}/?name={name}" }]
        [[scenario]]
        journey = "greet"
        datapool = "people"
        volume = { constant = 2 }
        "#,
        Some("name\nMary Ann\nJosé & Co/2\n"),
    );
    let overrides = vec![format!("base={}", target.url("").trim_end_matches('/'))];
    let (result, took) = run_file(&path, &overrides, Duration::from_secs(1), Duration::from_secs(2));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let total = assert_target_saw_every_request(&result, target.hits());
    assert!(total.req_ok > 0);
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
}

/// A scheme-less base URL is refused before the run (naming the step and the value); a URL
/// that goes bad only at run time is an `invalid_url` error of its step, and the run stops.
#[test]
fn invalid_urls_are_refused_before_or_counted_during_the_run() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let toml = r#"
        [datapools.paths]
        csv = "rows.csv"
        [journeys.get]
        steps = [{ transaction = "get", url = "{base}/{+path}" }]
        [[scenario]]
        journey = "get"
        datapool = "paths"
        volume = { constant = 2 }
        "#;
    let (_dir, path) = write_scenario(toml, Some("path\n?name=ok\nMary Ann\n"));
    let authority = target.url("").trim_start_matches("http://").trim_end_matches('/').to_string();
    let err = scenario_file::load(&path, &mite_journeys::registry(), &[format!("base={authority}")]).unwrap_err();
    let err = err.to_string();
    assert!(err.contains("journeys.get.steps[0].url") && err.contains(&authority), "{err}");
    assert!(err.contains("http://"), "says what is missing: {err}");

    // Row 1 renders a good URL, row 2 (raw, with a space) a bad one: counted, never a hang.
    let overrides = vec![format!("base={}", target.url("").trim_end_matches('/'))];
    let (result, took) = run_file(&path, &overrides, Duration::from_secs(1), Duration::from_secs(2));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let get = &result.merged.txns["get"];
    assert!(get.errors_of(ErrorKind::InvalidUrl) > 0, "{:?}", result.merged.error_samples);
    assert!(get.req_ok > 0);
    assert!(sample(&result, "invalid_url").contains("Mary Ann"), "{:?}", result.merged.error_samples);
    assert_eq!(get.not_sent, get.errors_of(ErrorKind::InvalidUrl), "an invalid URL is never sent");
    let total = assert_target_saw_every_request(&result, target.hits());
    assert_eq!(total.req_ok, target.hits(), "every good URL was answered, every bad one never sent");
}

/// A header value that goes bad at run time (a datapool value with a line break, which would
/// split the request) is an `invalid_request` error of its step, counted once as an attempt
/// never sent: a gate on errors sees it (it used to be counted nowhere but the journey).
#[test]
fn a_header_value_with_a_line_break_is_counted_and_never_sent() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let toml = r#"
        [datapools.tokens]
        csv = "rows.csv"
        [journeys.api]
        steps = [{ transaction = "api", url = "{base}/", headers = { Authorization = "Bearer {token}" } }]
        [[scenario]]
        journey = "api"
        datapool = "tokens"
        volume = { constant = 2 }
        "#;
    let (_dir, path) = write_scenario(toml, Some("token\ngood\n\"multi\nline\"\n"));
    let overrides = vec![format!("base={}", target.url("").trim_end_matches('/'))];
    let (result, took) = run_file(&path, &overrides, Duration::from_secs(1), Duration::from_secs(2));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let api = &result.merged.txns["api"];
    let invalid = api.errors_of(ErrorKind::InvalidRequest);
    assert!(invalid > 0 && api.req_ok > 0, "{:?}", result.merged.error_samples);
    assert!(sample(&result, "invalid_request").contains("CR, LF or NUL"), "{:?}", result.merged.error_samples);
    assert_eq!(api.not_sent, invalid, "an invalid request is never sent");
    assert_eq!(api.req_errors(), invalid, "and it is a request error a gate sees");
    let total = assert_target_saw_every_request(&result, target.hits());
    assert_eq!(total.req_ok, target.hits(), "every good request was answered, every bad one never sent");
}

async fn fails_at_once(_ctx: &Ctx, _row: Row) -> JourneyResult {
    Err(JourneyError::msg("broken"))
}

async fn ok_at_once(ctx: &Ctx, _row: Row) -> JourneyResult {
    ctx.send("spin", &[]);
    Ok(())
}

/// A journey that fails (or succeeds) at once, forever, never awaiting anything: the run still
/// reaches its stop, reports progress, and honours an interrupt; failures back off.
#[test]
fn journeys_that_never_wait_do_not_starve_the_core() {
    let mut registry = Registry::default();
    registry.journey("t:fails", fails_at_once);
    registry.journey("t:ok", ok_at_once);
    for journey in ["t:fails", "t:ok"] {
        let stop = Arc::new(AtomicBool::new(false));
        let opts = options(1, Duration::from_secs(1));
        let started = Instant::now();
        let result = mite_core::run_scenario(
            &registry,
            scenario(journey, VolumeModel::constant(16)),
            Default::default(),
            &opts,
            stop,
            &mut |_| {},
        )
        .unwrap();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(4), "{journey}: took {took:?}");
        assert_eq!(result.stopped_by, StopReason::Duration, "{journey}");
        assert!(result.intervals.len() >= 3, "{journey}: {} progress intervals", result.intervals.len());
        assert!(result.merged.journeys.started > 0, "{journey}");
        if journey == "t:fails" {
            let failed = result.merged.journeys.failed;
            // 16 slots backing off 1, 2, 4 ... 100 ms for 1 s: about 16 * 17 attempts.
            assert!(failed < 2_000, "{failed} immediate failures in 1 s: no backoff");
        }
    }

    // An interrupt (the stop flag) is honoured within the grace too.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        flag.store(true, Ordering::SeqCst);
        Instant::now()
    });
    let result = mite_core::run_scenario(
        &registry,
        scenario("t:ok", VolumeModel::constant(16)),
        Default::default(),
        &options(1, Duration::from_secs(60)),
        stop,
        &mut |_| {},
    )
    .unwrap();
    // Timed from the interrupt, not from the start: a busy machine's slow start is not the
    // interrupt's. Within the grace (2 s), and a margin.
    let took = interrupter.join().unwrap().elapsed();
    assert!(took < Duration::from_millis(3_500), "the interrupt took {took:?}");
    assert_eq!(result.stopped_by, StopReason::Interrupted);
}

/// A target that refuses every connection is backed off from (not hammered at tens of
/// thousands of attempts per second); one that answers, even 503, is not slowed down.
#[test]
fn refused_connections_back_off_but_error_statuses_do_not() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let registry = mite_journeys::registry();
    let attempts = |url: String| {
        let started = Instant::now();
        let result = mite_tests::run(
            &registry,
            scenario("http_example:journey", VolumeModel::constant(8)),
            &[format!("target_url={url}")],
            options(1, Duration::from_secs(1)),
        );
        assert!(started.elapsed() < Duration::from_secs(4), "{url}: took {:?}", started.elapsed());
        result.merged.total()
    };
    let refused = attempts(format!("http://127.0.0.1:{closed}/"));
    assert_eq!(refused.attempts(), refused.errors_of(ErrorKind::Refused) + refused.errors_of(ErrorKind::Cancelled));
    // 8 slots backing off 1, 2, 4 ... 100 ms for 1 s: about 8 * 17 attempts.
    assert!(refused.attempts() < 1_000, "{} refused attempts in 1 s", refused.attempts());
    let unavailable = attempts(target.url("/status/503"));
    assert!(unavailable.errors_of(ErrorKind::Status) > 0);
    assert!(
        unavailable.attempts() > 5 * refused.attempts(),
        "503 answers were slowed down: {} attempts against {} refused",
        unavailable.attempts(),
        refused.attempts()
    );
    assert_eq!(unavailable.requests(), target.hits());
}

/// Journeys thinking between steps at the stop have nothing in flight: the grace ends at once,
/// they are cancelled, and the run's time (and so its rates) is its duration, not duration +
/// grace. Before: a 30-day think held a 1 s run for the whole 5 s grace. (Journeys between
/// steps or mid-conversation on a WebSocket still get the grace: `websocket_cli`.)
#[test]
fn journeys_only_thinking_do_not_hold_the_grace() {
    let target = mite_tools::Target::start(Default::default()).unwrap();
    let (_dir, path) = write_scenario(
        &format!(
            r#"
            [journeys.think]
            steps = [{{ transaction = "get", url = "{}", think = "30d" }}]
            [[scenario]]
            journey = "think"
            volume = {{ constant = 3 }}
            "#,
            target.url("/")
        ),
        None,
    );
    let (duration, grace) = (Duration::from_secs(1), Duration::from_secs(5));
    let (result, took) = run_file(&path, &[], duration, grace);
    assert!(took < duration + Duration::from_secs(1), "took {took:?} for a 1 s run with nothing in flight at the stop");
    assert!(result.duration_s < 1.5, "the run's time {} s", result.duration_s);
    assert_eq!(result.merged.journeys.cancelled, 3);
    assert_eq!(result.merged.total().requests(), 3);
    assert_eq!(target.hits(), 3, "the target's own count");
}
