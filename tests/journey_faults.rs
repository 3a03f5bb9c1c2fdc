//! A journey that panics, or that never yields its core (a loop over nothing but ready
//! futures, a call that blocks the thread): the run still ends, with an error naming the core
//! and why, and the result of everything the cores reported is kept.
//!
//! Before: a panic took its core's thread down; the run ended after the duration with "a core
//! thread ended without reporting its results" and no result at all (one core alone: at once,
//! with nothing). A journey that never yielded held the run forever, deaf to SIGTERM.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mite_core::run::{RunError, RunResult, StopReason};
use mite_core::{Ctx, JourneyResult, Registry, Row, VolumeModel};
use mite_tests::{assert_target_saw_every_request, options, scenario};
use mite_tools::{Target, TargetOptions};

/// The core (its position in the run, as its thread is named) whose journeys misbehave.
fn on_core(id: usize) -> bool {
    std::thread::current().name() == Some(format!("mite-core-{id}").as_str())
}

/// One run at a time: a held core spins, and two spinning at once on a small machine would
/// slow the other runs past their bounds.
static ONE_RUN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_run() -> std::sync::MutexGuard<'static, ()> {
    ONE_RUN.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

static PANICKED: AtomicBool = AtomicBool::new(false);

/// A GET and a pause; on core 1, the first journey half a second into the run panics.
async fn panics_once(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get_or("target_url", "http://127.0.0.1:1/").to_string();
    ctx.transaction("get", async {
        ctx.http().get(&url).discard_body().send().await?;
        mite_core::sleep(Duration::from_millis(10)).await;
        Ok(())
    })
    .await?;
    let late = ctx.config().get("started").and_then(|s| s.parse::<u64>().ok()).is_some_and(|at| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        now >= at + 500
    });
    if on_core(1) && late && !PANICKED.swap(true, Ordering::SeqCst) {
        panic!("journey exploded");
    }
    Ok(())
}

fn lost(run: Result<RunResult, RunError>) -> (String, RunResult) {
    match run {
        Err(error @ RunError::CoresLost { .. }) => {
            let text = error.to_string();
            let RunError::CoresLost { result, .. } = error else { unreachable!() };
            (text, *result)
        }
        Err(other) => panic!("expected the run to end without a core, got the error {other}"),
        Ok(result) => panic!("expected the run to end without a core, got a result stopped by {:?}", result.stopped_by),
    }
}

#[test]
fn a_journey_that_panics_stops_the_run_and_its_result_is_kept() {
    let _one = one_run();
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("faults:panics_once", panics_once);
    let scenario = scenario("faults:panics_once", VolumeModel::constant(4));
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let overrides = [format!("target_url={}", target.url("/")), format!("started={now_ms}")];
    let config = mite_core::run::layered_config(&scenario.config, &overrides).unwrap();
    let opts = options(2, Duration::from_secs(20));
    let started = Instant::now();
    let run =
        mite_core::run_scenario(&registry, scenario, config, &opts, Arc::new(AtomicBool::new(false)), &mut |_| {});
    let took = started.elapsed();
    let (text, result) = lost(run);
    assert!(PANICKED.load(Ordering::SeqCst));
    // Stopped at the panic (half a second in), with the grace for the other core's journeys.
    assert!(took < Duration::from_secs(6), "took {took:?}: the run went on after the panic");
    assert!(text.contains("core 1: journey faults:panics_once panicked (journey exploded)"), "{text}");
    assert!(text.contains("since its last report"), "says what the result lacks: {text}");
    assert_eq!(result.stopped_by, StopReason::Interrupted, "the run was cut short");
    // Core 0's requests are all there; core 1's since its last report are not.
    let total = result.merged.total();
    assert!(total.requests() > 0, "the result kept what was reported");
    assert!(total.requests() <= target.hits(), "{} > {}", total.requests(), target.hits());
}

/// Released by each test once its run has ended, so that the held thread can finish.
static RELEASE_EARLY: AtomicBool = AtomicBool::new(false);
static RELEASE_LATE: AtomicBool = AtomicBool::new(false);

fn spin_until(release: &AtomicBool) {
    while !release.load(Ordering::Relaxed) {
        std::hint::spin_loop();
    }
}

/// A GET and a pause.
async fn get(ctx: &Ctx) -> JourneyResult {
    let url = ctx.config().get_or("target_url", "http://127.0.0.1:1/").to_string();
    ctx.transaction("get", async {
        ctx.http().get(&url).discard_body().send().await?;
        mite_core::sleep(Duration::from_millis(20)).await;
        Ok(())
    })
    .await
}

/// On core 0, never yields (until the test releases it); elsewhere, a GET and a pause.
async fn never_yields_on_core_0(ctx: &Ctx, _row: Row) -> JourneyResult {
    if on_core(0) {
        spin_until(&RELEASE_EARLY);
        return Ok(());
    }
    get(ctx).await
}

/// A GET and a pause; on core 0, from 1 s into the run (its stop, in a 1 s run), never
/// yields (until released).
async fn never_yields_late_on_core_0(ctx: &Ctx, _row: Row) -> JourneyResult {
    get(ctx).await?;
    let at = ctx.config().get("started").and_then(|s| s.parse::<u128>().ok()).unwrap_or(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    if on_core(0) && now >= at + 1000 {
        spin_until(&RELEASE_LATE);
    }
    Ok(())
}

static RELEASE_ALONE: AtomicBool = AtomicBool::new(false);

/// Never yields (until the test releases it).
async fn never_yields(_ctx: &Ctx, _row: Row) -> JourneyResult {
    spin_until(&RELEASE_ALONE);
    Ok(())
}

/// The run's only core, held from the start: the run stops, marked interrupted (before: it
/// said `stopped_by: duration` for a 20 s run given up at 1.2 s, no core being left to notice
/// the stop).
#[test]
fn a_run_whose_only_core_is_held_stops_and_says_it_was_cut_short() {
    let _one = one_run();
    let mut registry = Registry::default();
    registry.journey("faults:never_yields_alone", never_yields);
    let scenario = scenario("faults:never_yields_alone", VolumeModel::constant(1));
    let mut opts = options(1, Duration::from_secs(20));
    opts.core_held_max = Duration::from_secs(1);
    let stop = Arc::new(AtomicBool::new(false));
    let run = mite_core::run_scenario(&registry, scenario, Default::default(), &opts, stop, &mut |_| {});
    RELEASE_ALONE.store(true, Ordering::Relaxed);
    let (text, result) = lost(run);
    assert!(text.contains("core 0") && text.contains("never yields"), "{text}");
    assert_eq!(result.stopped_by, StopReason::Interrupted);
    assert!(result.duration_s < 5.0, "{}", result.duration_s);
}

fn run_two_cores(journey: &str, target: &Target, duration: Duration) -> (Result<RunResult, RunError>, Duration) {
    let mut registry = Registry::default();
    registry.journey("faults:never_yields", never_yields_on_core_0);
    registry.journey("faults:never_yields_late", never_yields_late_on_core_0);
    let scenario = scenario(journey, VolumeModel::constant(4));
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let overrides = [format!("target_url={}", target.url("/")), format!("started={now_ms}")];
    let config = mite_core::run::layered_config(&scenario.config, &overrides).unwrap();
    let mut opts = options(2, duration);
    opts.grace = Duration::from_millis(500);
    opts.core_held_max = Duration::from_secs(1);
    let started = Instant::now();
    let run =
        mite_core::run_scenario(&registry, scenario, config, &opts, Arc::new(AtomicBool::new(false)), &mut |_| {});
    (run, started.elapsed())
}

/// Held from its first journey, in a long run: given up 1 s after its first report was due
/// (0.2 s), and the run stops then rather than at its 20 s.
#[test]
fn a_core_held_mid_run_is_given_up_and_stops_the_run() {
    let _one = one_run();
    let target = Target::start(TargetOptions::default()).unwrap();
    let (run, took) = run_two_cores("faults:never_yields", &target, Duration::from_secs(20));
    RELEASE_EARLY.store(true, Ordering::Relaxed);
    let (text, result) = lost(run);
    assert!(took < Duration::from_secs(4), "took {took:?}: the run waited for its duration");
    assert!(took >= Duration::from_millis(1200), "gave up before the bound: {took:?}");
    assert!(
        text.contains("core 0") && text.contains("never yields") && text.contains("past when one was due"),
        "{text}"
    );
    assert_eq!(result.stopped_by, StopReason::Interrupted, "the run was cut short");
    // Core 0 sent nothing; core 1's every request is in the result.
    let total = assert_target_saw_every_request(&result, target.hits());
    assert!(total.requests() > 0);
}

/// Held in the grace of a 1 s run: its stop was due at the grace's end (1.5 s), it is given
/// up at 2.5 s, and the others' results are kept.
#[test]
fn a_core_held_past_the_grace_is_given_up_and_the_results_are_kept() {
    let _one = one_run();
    let target = Target::start(TargetOptions::default()).unwrap();
    let (run, took) = run_two_cores("faults:never_yields_late", &target, Duration::from_secs(1));
    RELEASE_LATE.store(true, Ordering::Relaxed);
    let (text, result) = lost(run);
    assert!(took < Duration::from_millis(3500), "took {took:?}");
    assert!(took >= Duration::from_millis(2500), "gave up before the bound: {took:?}");
    assert!(text.contains("core 0") && text.contains("never yields"), "{text}");
    assert_eq!(result.stopped_by, StopReason::Duration);
    let total = result.merged.total();
    assert!(total.requests() > 0 && total.requests() <= target.hits());
    assert!(result.duration_s >= 2.5, "the run lasted until it gave up: {}", result.duration_s);
}

async fn panics_at_once(_ctx: &Ctx, _row: Row) -> JourneyResult {
    panic!("no such product");
}

/// `journey test` stops at a panic with an error naming the journey and its message (before:
/// the panic ended the whole command, exit 101).
#[test]
fn journey_test_stops_at_a_panic_with_an_error() {
    let _one = one_run();
    let mut registry = Registry::default();
    registry.journey("faults:panics_at_once", panics_at_once);
    let (opts, stop) = (options(1, Duration::from_secs(1)), AtomicBool::new(false));
    let rows = [Row::new(["a"]), Row::new(["b"])];
    let run = mite_core::journey_test(
        &registry,
        "faults:panics_at_once",
        rows,
        Default::default(),
        &opts,
        &stop,
        &mut |_| {},
    );
    match run {
        Err(error @ RunError::JourneyPanicked { .. }) => {
            assert_eq!(
                error.to_string(),
                "journey faults:panics_at_once panicked: no such product (the test stopped there)"
            );
        }
        Err(other) => panic!("expected JourneyPanicked, got {other}"),
        Ok(_) => panic!("expected JourneyPanicked, got a result"),
    }
}
