//! A journey that panics, or that never yields its core (a loop over nothing but ready
//! futures, a call that blocks the thread): the run still ends. A journey's panic ends that
//! run of it only, counted as an error; a held core, or a panic outside any journey's run,
//! ends the run with an error naming the core and why, and the result of everything the cores
//! reported is kept.
//!
//! Before: a panic took its core's thread down; the run ended after the duration with "a core
//! thread ended without reporting its results" and no result at all (one core alone: at once,
//! with nothing). A journey that never yielded held the run forever, deaf to SIGTERM.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mite_core::journey::Journey;
use mite_core::journey::slot::Slot;
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

/// Runs `registry`'s journey `name` against `target` (its URL as `target_url`): `volume` on
/// `cores` cores for `duration`.
fn run_against(
    registry: &Registry,
    name: &str,
    volume: VolumeModel,
    target: &Target,
    cores: usize,
    duration: Duration,
) -> Result<RunResult, RunError> {
    let scenario = scenario(name, volume);
    let config =
        mite_core::run::layered_config(&scenario.config, &[format!("target_url={}", target.url("/"))]).unwrap();
    let opts = options(cores, duration);
    mite_core::run_scenario(registry, scenario, config, &opts, Arc::new(AtomicBool::new(false)), &mut |_| {})
}

/// Panics counted by the journeys themselves, as they raise them: in a transaction, and
/// outside any.
static PANICS_IN_TXN: AtomicU64 = AtomicU64::new(0);
static PANICS_OUTSIDE: AtomicU64 = AtomicU64::new(0);
static RUNS: AtomicU64 = AtomicU64::new(0);

fn target_url(ctx: &Ctx) -> String {
    ctx.config().get_or("target_url", "http://127.0.0.1:1/").to_string()
}

/// A GET in `get`; then, in `outer :: inner`, a GET and, one run in four, a panic; then a
/// GET outside any transaction and, another run in four, a panic there.
async fn panics_now_and_then(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = target_url(ctx);
    ctx.transaction("get", async {
        ctx.http().get(&url).discard_body().send().await?;
        mite_core::sleep(Duration::from_millis(5)).await;
        Ok(())
    })
    .await?;
    let run = RUNS.fetch_add(1, Ordering::SeqCst);
    ctx.transaction("outer", async {
        ctx.transaction("inner", async {
            ctx.http().get(&url).discard_body().send().await?;
            if run % 4 == 1 {
                PANICS_IN_TXN.fetch_add(1, Ordering::SeqCst);
                panic!("journey exploded on run {run}");
            }
            Ok(())
        })
        .await
    })
    .await?;
    ctx.http().get(&url).discard_body().send().await?;
    if run % 4 == 3 {
        PANICS_OUTSIDE.fetch_add(1, Ordering::SeqCst);
        panic!("journey exploded outside, on run {run}");
    }
    Ok(())
}

/// A journey's panic ends that run of it only: the run goes on to its duration, every
/// request sent is counted once (the target's own count), and each panic is counted once as
/// an error of the transaction it was in (the journey's row when in none), with its message
/// and place. Before: the panic took its core down, and its figures since its last report.
#[test]
fn a_journey_that_panics_loses_nothing_and_the_run_goes_on() {
    let _one = one_run();
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("faults:panics_now_and_then", panics_now_and_then);
    let run = run_against(
        &registry,
        "faults:panics_now_and_then",
        VolumeModel::constant(4),
        &target,
        2,
        Duration::from_millis(1500),
    );
    let result = run.unwrap_or_else(|e| panic!("the run ended with {e}"));
    assert_eq!(result.stopped_by, StopReason::Duration);
    let total = assert_target_saw_every_request(&result, target.hits());
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
    let (in_txn, outside) = (PANICS_IN_TXN.load(Ordering::SeqCst), PANICS_OUTSIDE.load(Ordering::SeqCst));
    assert!(in_txn > 2 && outside > 2, "{in_txn} and {outside} panics: the journeys did not run on");
    let journeys = &result.merged.journeys;
    assert_eq!(journeys.panicked, in_txn + outside);
    assert_eq!(journeys.failed, journeys.panicked, "no other failure");
    assert_eq!(journeys.started, journeys.ok + journeys.failed + journeys.cancelled);
    let txn = |name: &str| {
        result.merged.txns.get(name).unwrap_or_else(|| panic!("no {name}: {:?}", result.merged.txns.keys()))
    };
    assert_eq!(txn("outer :: inner").txn_err, in_txn, "a panic is an error of the transaction it was in");
    assert_eq!(txn("outer").txn_err, 0, "counted once, in the innermost");
    assert_eq!(txn("faults:panics_now_and_then").txn_err, outside, "outside any: the journey's own row");
    // After a panic in `outer :: inner`, the next run's transactions are not nested under it.
    let names: Vec<&str> = result.merged.txns.keys().map(|k| &**k).collect();
    assert!(names.iter().all(|n| !n.starts_with("outer :: inner ::")), "{names:?}");
    let sample = &result.merged.error_samples["panic"];
    assert!(sample.starts_with("journey faults:panics_now_and_then panicked: journey exploded"), "{sample}");
    assert!(sample.contains("(at tests/journey_faults.rs:"), "{sample}");
    let table = mite_core::output::report::table(&result.merged, result.duration_s);
    assert!(table.contains(&format!("(panicked {})", journeys.panicked)), "{table}");
    assert!(table.contains("first journey panic: journey faults:panics_now_and_then panicked"), "{table}");
    // Each interval says how many panicked in it.
    let per_interval: u64 = result.intervals.iter().map(|p| p.detail.journeys.panicked).sum();
    assert_eq!(per_interval, journeys.panicked);
}

static PANICS_IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

/// A slow GET raced against a 50 ms timer (a hand-written `select`): the timer wins, and the
/// journey panics with the request written and unanswered, its future still alive.
async fn panics_with_a_request_in_flight(ctx: &Ctx, _row: Row) -> JourneyResult {
    let slow = format!("{}delay/500", target_url(ctx));
    ctx.transaction("slow", async {
        let mut request = std::pin::pin!(ctx.http().get(&slow).discard_body().send());
        let mut timer = std::pin::pin!(mite_core::sleep(Duration::from_millis(50)));
        let answered = std::future::poll_fn(|cx| {
            if request.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(true);
            }
            timer.as_mut().poll(cx).map(|()| false)
        })
        .await;
        if !answered {
            PANICS_IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
            panic!("gave up on the slow answer");
        }
        Ok(())
    })
    .await
}

/// A journey that panics with a request in flight: that request is still counted once (a
/// `cancelled` error, as any request a journey drops unanswered), and the engine's requests
/// are the target's own count.
#[test]
fn a_request_in_flight_at_a_panic_is_counted_once() {
    let _one = one_run();
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("faults:panics_in_flight", panics_with_a_request_in_flight);
    let run =
        run_against(&registry, "faults:panics_in_flight", VolumeModel::constant(2), &target, 1, Duration::from_secs(1));
    let result = run.unwrap_or_else(|e| panic!("the run ended with {e}"));
    let total = assert_target_saw_every_request(&result, target.hits());
    let panics = PANICS_IN_FLIGHT.load(Ordering::SeqCst);
    assert!(panics >= 10, "{panics} panics");
    assert_eq!(result.merged.journeys.panicked, panics);
    assert_eq!(result.merged.txns["slow"].txn_err, panics);
    // Each panic left one request unanswered; the grace may end with more in flight.
    let cancelled = total.errors_of(mite_core::stats::ErrorKind::Cancelled);
    assert!(cancelled >= panics && cancelled <= panics + 2, "{cancelled} cancelled for {panics} panics");
    assert_eq!(total.attempts(), total.req_ok + total.req_errors());
    assert_eq!(total.attempts(), panics + result.merged.journeys.cancelled, "one request per journey");
}

/// A GET in `get`; then `outer :: inner` (a slow GET) raced against a 50 ms timer, which
/// wins: both transactions are dropped unfinished, the outer one first.
async fn drops_nested_transactions(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = target_url(ctx);
    let slow = format!("{url}delay/500");
    ctx.transaction("get", async {
        ctx.http().get(&url).discard_body().send().await?;
        Ok(())
    })
    .await?;
    let nested = ctx.transaction("outer", async {
        ctx.transaction("inner", async {
            ctx.http().get(&slow).discard_body().send().await?;
            Ok(())
        })
        .await
    });
    let mut nested = std::pin::pin!(nested);
    let mut timer = std::pin::pin!(mite_core::sleep(Duration::from_millis(50)));
    std::future::poll_fn(|cx| {
        if nested.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(());
        }
        timer.as_mut().poll(cx)
    })
    .await;
    Ok(())
}

/// Transactions dropped unfinished, nested (a timeout around them), gave the current
/// transaction back in the wrong order (the outer one's drop runs before its body's), leaving
/// `outer` current: the next run of the journey counted its `get` as `outer :: get`. Each run
/// now starts outside any transaction.
#[test]
fn nested_transactions_dropped_leave_nothing_current_for_the_next_run() {
    let _one = one_run();
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("faults:drops_nested", drops_nested_transactions);
    let scenario = scenario("faults:drops_nested", VolumeModel::constant(1));
    let config =
        mite_core::run::layered_config(&scenario.config, &[format!("target_url={}", target.url("/"))]).unwrap();
    let run = mite_core::run_scenario(
        &registry,
        scenario,
        config,
        &options(1, Duration::from_millis(500)),
        Arc::new(AtomicBool::new(false)),
        &mut |_| {},
    );
    let result = run.unwrap_or_else(|e| panic!("the run ended with {e}"));
    assert_target_saw_every_request(&result, target.hits());
    let names: Vec<&str> = result.merged.txns.keys().map(|k| &**k).collect();
    assert!(names.iter().all(|n| !n.starts_with("outer ::") || *n == "outer :: inner"), "{names:?}");
    assert!(result.merged.txns["get"].txn_ok >= 3, "{names:?}");
}

static PANICS_AT_ONCE: AtomicU64 = AtomicU64::new(0);

async fn panics_every_run(_ctx: &Ctx, _row: Row) -> JourneyResult {
    PANICS_AT_ONCE.fetch_add(1, Ordering::Relaxed);
    panic!("no such product");
}

/// A journey that panics at once on every run is backed off as any panic is (1 ms,
/// doubling to 100 ms) rather than restarted at once: 50 slots for a second panic some
/// hundreds of times, not millions, and the core still reports and stops on time.
#[test]
fn a_journey_that_panics_on_every_run_is_backed_off() {
    let _one = one_run();
    let mut registry = Registry::default();
    registry.journey("faults:panics_every_run", panics_every_run);
    let scenario = scenario("faults:panics_every_run", VolumeModel::constant(50));
    let opts = options(1, Duration::from_secs(1));
    let started = Instant::now();
    let run = mite_core::run_scenario(
        &registry,
        scenario,
        Default::default(),
        &opts,
        Arc::new(AtomicBool::new(false)),
        &mut |_| {},
    );
    let took = started.elapsed();
    let result = run.unwrap_or_else(|e| panic!("the run ended with {e}"));
    let panicked = result.merged.journeys.panicked;
    assert_eq!(panicked, PANICS_AT_ONCE.load(Ordering::Relaxed));
    // Per slot: 1 + 2 + 4 + ... + 64 ms, then every 100 ms: about 16 in a second.
    let busy = result.merged.injector.busy_percent_max;
    println!("{panicked} panics in a second over 50 slots, the core {busy:.1}% busy at most");
    assert!(busy < 50.0, "the core was {busy:.1}% busy: it spun on the panics");
    assert!((50..=50 * 30).contains(&panicked), "{panicked} panics in a second");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(result.merged.txns["faults:panics_every_run"].txn_err, panicked);
}

static PANICS_AFTER_AN_ANSWER: AtomicU64 = AtomicU64::new(0);

/// One GET answered after 2 ms (so the run waited, and took longer than a failure "at once"),
/// then a panic: on every run.
async fn panics_after_an_answer(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = format!("{}delay/2", target_url(ctx));
    ctx.http().get(&url).discard_body().send().await?;
    PANICS_AFTER_AN_ANSWER.fetch_add(1, Ordering::Relaxed);
    panic!("no such product in the answer");
}

/// A journey that panics on every run after a request is backed off as one that panics at
/// once is: a panic is a fault of the journey, not an answer to measure, and a quick target
/// would otherwise see a slot's request and panic repeated hundreds of times a second.
/// Before: only a panic within 1 ms of its run's start was backed off; 4 slots here panicked
/// 137 and 206 times in the second in two runs on a busy 2-core machine (56 after).
#[test]
fn a_journey_that_panics_after_a_request_on_every_run_is_backed_off() {
    let _one = one_run();
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("faults:panics_after_an_answer", panics_after_an_answer);
    let run = run_against(
        &registry,
        "faults:panics_after_an_answer",
        VolumeModel::constant(4),
        &target,
        1,
        Duration::from_secs(1),
    );
    let result = run.unwrap_or_else(|e| panic!("the run ended with {e}"));
    let total = assert_target_saw_every_request(&result, target.hits());
    let panicked = result.merged.journeys.panicked;
    assert_eq!(panicked, PANICS_AFTER_AN_ANSWER.load(Ordering::Relaxed));
    // Per slot: a 2 ms request, then pauses of 1, 2, 4 ... 64 ms, then 100 ms each: about 16
    // runs in a second at most (plus one request the stop may find in flight).
    println!("{panicked} panics and {} requests in a second over 4 slots", total.attempts());
    assert!((4..=4 * 20).contains(&panicked), "{panicked} panics in a second: not backed off");
    assert!(total.attempts() <= panicked + 4, "{} requests for {panicked} panics", total.attempts());
}

static ENGINE_PANICKED: AtomicBool = AtomicBool::new(false);

/// A journey whose slots are started by hand: on core 1, from half a second into the run,
/// starting one panics (outside any journey's run, as a fault of the engine would).
struct SpawnPanicsLate {
    started: Instant,
}

async fn get_once(ctx: &Ctx, _row: Row) -> JourneyResult {
    get(ctx).await
}

impl Journey for SpawnPanicsLate {
    fn run_once<'a>(&'a self, ctx: &'a Ctx, row: Row) -> Pin<Box<dyn Future<Output = JourneyResult> + 'a>> {
        Box::pin(get_once(ctx, row))
    }

    fn spawn_slot(&self, slot: Slot) {
        if on_core(1)
            && self.started.elapsed() >= Duration::from_millis(500)
            && !ENGINE_PANICKED.swap(true, Ordering::SeqCst)
        {
            panic!("the engine exploded");
        }
        mite_core::journey::slot::spawn_slot(slot, get_once);
    }
}

/// A panic outside any journey's run still ends its core's thread: the per-core catch, the
/// last line, stops the run and keeps the result of what every core reported.
#[test]
fn a_panic_outside_a_journey_stops_the_run_and_its_result_is_kept() {
    let _one = one_run();
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey_impl("faults:spawn_panics", Arc::new(SpawnPanicsLate { started: Instant::now() }));
    let started = Instant::now();
    let run = run_against(
        &registry,
        "faults:spawn_panics",
        VolumeModel::Ramp { from: 2, to: 40, duration_s: 2.0 },
        &target,
        2,
        Duration::from_secs(20),
    );
    let took = started.elapsed();
    let (text, result) = lost(run);
    assert!(ENGINE_PANICKED.load(Ordering::SeqCst));
    assert!(took < Duration::from_secs(6), "took {took:?}: the run went on after the panic");
    assert!(text.contains("core 1: a panic outside any journey's run"), "{text}");
    assert!(text.contains("the engine exploded") && text.contains("since its last report"), "{text}");
    assert_eq!(result.stopped_by, StopReason::Interrupted, "the run was cut short");
    let total = result.merged.total();
    assert!(total.requests() > 0, "the result kept what was reported");
    assert!(total.requests() <= target.hits(), "{} > {}", total.requests(), target.hits());
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

static SCRAPED_RUNS: AtomicU64 = AtomicU64::new(0);
static SCRAPED_PANICS: AtomicU64 = AtomicU64::new(0);

/// A GET, then a panic one run in three, each counted by the journey as it happens.
async fn panics_every_third_run(ctx: &Ctx, _row: Row) -> JourneyResult {
    let run = SCRAPED_RUNS.fetch_add(1, Ordering::SeqCst);
    ctx.http().get(&target_url(ctx)).discard_body().send().await?;
    mite_core::sleep(Duration::from_millis(5)).await;
    if run % 3 == 2 {
        SCRAPED_PANICS.fetch_add(1, Ordering::SeqCst);
        panic!("journey exploded on run {run}");
    }
    Ok(())
}

/// `/metrics`' value of `family` (an unlabelled series).
fn scraped(text: &str, family: &str) -> u64 {
    let value = text.lines().find_map(|line| line.strip_prefix(family)?.strip_prefix(' '));
    value.unwrap_or_else(|| panic!("no {family} in\n{text}")).parse().unwrap_or_else(|e| panic!("{family}: {e}"))
}

fn scrape(addr: std::net::SocketAddr) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default()
}

const JOURNEY_FAMILIES: [&str; 5] = [
    "mite_journey_started_total",
    "mite_journey_ok_total",
    "mite_journey_failed_total",
    "mite_journey_panicked_total",
    "mite_journey_cancelled_total",
];

/// The journeys' counters in the Prometheus exposition, scraped at every interval of a run
/// whose journey panics one run in three: counters that never go down, a panic seen before
/// the run's end, and at the end the journeys' own counts of their runs and panics, with
/// `started = ok + failed + cancelled`.
#[test]
fn journeys_started_ok_failed_and_panicked_are_exposed_during_the_run() {
    let _one = one_run();
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("faults:panics_every_third_run", panics_every_third_run);
    let scenario = scenario("faults:panics_every_third_run", VolumeModel::constant(2));
    let config =
        mite_core::run::layered_config(&scenario.config, &[format!("target_url={}", target.url("/"))]).unwrap();
    let exporter = Arc::new(mite_core::output::exposition::Exporter::start("127.0.0.1:0".parse().unwrap()).unwrap());
    let mut opts = options(1, Duration::from_millis(1200));
    opts.prometheus = Some(exporter.clone());
    let mut scrapes: Vec<[u64; 5]> = Vec::new();
    let stop = Arc::new(AtomicBool::new(false));
    let run = mite_core::run_scenario(&registry, scenario, config, &opts, stop, &mut |event| {
        if let mite_core::output::events::RunEvent::Interval(_) = event {
            let text = scrape(exporter.addr());
            scrapes.push(JOURNEY_FAMILIES.map(|family| scraped(&text, family)));
        }
    });
    let result = run.unwrap_or_else(|e| panic!("the run ended with {e}"));
    assert!(scrapes.len() >= 4, "{scrapes:?}");
    for pair in scrapes.windows(2) {
        assert!(pair[0].iter().zip(&pair[1]).all(|(a, b)| a <= b), "a counter went down: {scrapes:?}");
    }
    let before_the_end = &scrapes[scrapes.len() - 2];
    assert!(before_the_end[3] > 0, "no panic exposed before the run's end: {scrapes:?}");
    let [started, ok, failed, panicked, cancelled] =
        JOURNEY_FAMILIES.map(|family| scraped(&scrape(exporter.addr()), family));
    let (runs, panics) = (SCRAPED_RUNS.load(Ordering::SeqCst), SCRAPED_PANICS.load(Ordering::SeqCst));
    assert_eq!((started, panicked), (runs, panics), "the journeys' own counts");
    assert_eq!(failed, panicked, "no other failure");
    assert_eq!(started, ok + failed + cancelled);
    let journeys = &result.merged.journeys;
    assert_eq!(
        [started, ok, failed, panicked, cancelled],
        [journeys.started, journeys.ok, journeys.failed, journeys.panicked, journeys.cancelled]
    );
}
