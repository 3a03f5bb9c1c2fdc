//! A core whose thread is held (in the kernel, by a journey that blocks it): every time figure
//! still means what its name says. Found with a closed model of 150,000 journeys, where one
//! core spent seconds in the kernel's ephemeral-port search; made deterministic here with a
//! test-only journey that blocks its core's thread with `std::thread::sleep`.
//!
//! Before: no word for the seconds the core was silent; progress lines labelled 3.0s, 3.0s,
//! then 0.6s, ... (a core's k-th report was merged with the others' k-th, whenever it came);
//! the run's `duration_s` cut to duration + grace while the run took longer, so every rate was
//! over a time shorter than the run; lag a few µs and "not saturated" for a core held seconds.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mite_core::output::events::RunEvent;
use mite_core::{Ctx, JourneyResult, Registry, Row, VolumeModel};
use mite_tests::{assert_target_saw_every_request, options, scenario};
use mite_tools::{Target, TargetOptions};

/// How long the held core's thread is blocked.
const HOLD: Duration = Duration::from_secs(3);

/// The core (id) whose thread was held; `usize::MAX` until one is.
static HELD_CORE: AtomicUsize = AtomicUsize::new(usize::MAX);
static HELD: AtomicBool = AtomicBool::new(false);

/// A GET of `target_url`; the first journey of the run first blocks its core's thread for
/// `HOLD` (what a core stuck in the kernel looks like to the engine).
async fn hold_once(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get_or("target_url", "http://127.0.0.1:1/");
    ctx.transaction("get", async {
        if !HELD.swap(true, Ordering::SeqCst) {
            let name = std::thread::current().name().unwrap_or_default().to_string();
            let core = name.trim_start_matches("mite-core-").parse().expect("a core thread's name");
            HELD_CORE.store(core, Ordering::SeqCst);
            std::thread::sleep(HOLD);
        }
        ctx.http().get(url).discard_body().send().await?;
        mite_core::sleep(Duration::from_millis(20)).await;
        Ok(())
    })
    .await
}

/// What the run said, in order, with when.
#[derive(Debug)]
enum Said {
    Silent { core: usize, silent_s: f64, at_s: f64 },
    Line { elapsed_s: f64, seconds: f64, late: Vec<usize>, saturated: bool, text: String },
}

#[test]
fn a_held_core_is_named_and_every_time_figure_stays_true() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("stall:hold_once", hold_once);
    let scenario = scenario("stall:hold_once", VolumeModel::constant(4));
    let config =
        mite_core::run::layered_config(&scenario.config, &[format!("target_url={}", target.url("/"))]).unwrap();
    // The core is held past the run's length and its grace: 1 s + 0.5 s < 3 s.
    let mut opts = options(2, Duration::from_secs(1));
    opts.grace = Duration::from_millis(500);
    let said = Mutex::new(Vec::new());
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let result = mite_core::run_scenario(&registry, scenario, config, &opts, stop, &mut |event| {
        let at_s = started.elapsed().as_secs_f64();
        let mut said = said.lock().unwrap();
        match *event {
            RunEvent::CoreSilent { core, silent_s, .. } => said.push(Said::Silent { core, silent_s, at_s }),
            RunEvent::Interval(progress) => said.push(Said::Line {
                elapsed_s: progress.point.elapsed_s,
                seconds: progress.seconds,
                late: progress.late.to_vec(),
                saturated: progress.point.saturated,
                text: progress.to_string(),
            }),
            _ => {}
        }
    })
    .unwrap();
    let took_s = started.elapsed().as_secs_f64();
    let said = said.into_inner().unwrap();
    let held = HELD_CORE.load(Ordering::SeqCst);
    assert!(held < 2, "a journey held a core: {said:#?}");

    // Silence is named: before the held core's first figures (every line waits for them), a
    // note says which core has not reported, and for how long.
    let first_line = said.iter().position(|s| matches!(s, Said::Line { .. })).expect("progress lines");
    let note = said[..first_line].iter().find_map(|s| match *s {
        Said::Silent { core, silent_s, at_s } => Some((core, silent_s, at_s)),
        _ => None,
    });
    let (core, silent_s, at_s) = note.unwrap_or_else(|| panic!("no note of the silent core: {said:#?}"));
    assert_eq!(core, held, "{said:#?}");
    assert!(silent_s >= 2.0 && at_s < HOLD.as_secs_f64(), "noted after {silent_s}s, at {at_s}s: {said:#?}");

    // Lines are in time order, each labelled with the end of the interval it describes.
    let lines: Vec<(f64, f64, &[usize], bool, &str)> = said
        .iter()
        .filter_map(|s| match s {
            Said::Line { elapsed_s, seconds, late, saturated, text } => {
                Some((*elapsed_s, *seconds, late.as_slice(), *saturated, text.as_str()))
            }
            Said::Silent { .. } => None,
        })
        .collect();
    let texts: Vec<&str> = lines.iter().map(|l| l.4).collect();
    for pair in lines.windows(2) {
        assert!(pair[0].0 <= pair[1].0, "lines out of order: {texts:#?}");
    }
    // The other core's intervals of the first second are labelled at their ends (0.2, 0.4,
    // ..., or a little after on a busy machine), their rates over about a tick, not at the
    // time the held core finally reported (3 s) nor over the time it was held.
    let tick_s = opts.tick.as_secs_f64();
    for (i, line) in lines.iter().take(4).enumerate() {
        let end_s = (i + 1) as f64 * tick_s;
        assert!(line.0 >= end_s && line.0 < end_s + 1.0, "line {i} labelled {}: {texts:#?}", line.0);
        assert!(line.1 > 0.0 && line.1 < 1.0 && line.2.is_empty(), "line {i} over {}s: {texts:#?}", line.1);
    }
    // The held core's report covers the whole hold: its line says so and its rates are over
    // that time, and it says the injector was saturated.
    let late = lines.iter().find(|l| l.2 == [held]).unwrap_or_else(|| panic!("no late line: {texts:#?}"));
    assert!(late.0 >= HOLD.as_secs_f64() && late.1 >= HOLD.as_secs_f64() - 0.1, "{texts:#?}");
    assert!(late.4.contains(&format!("late report from core {held}: figures since 0.")), "{}", late.4);
    assert!(late.3, "a core held for {HOLD:?} was saturated: {}", late.4);

    // The run's time is the time it took, to its last core's stop, and rates are over it.
    assert!(result.duration_s >= HOLD.as_secs_f64(), "duration_s {} cut short of the hold", result.duration_s);
    assert!(result.duration_s <= took_s, "duration_s {} beyond the run's {took_s}s", result.duration_s);
    let table = mite_core::output::report::table(&result.merged, result.duration_s);
    assert!(table.contains(&format!("in {:.2}s", result.duration_s)), "{table}");
    assert!(table.contains("WARNING: the injector was saturated"), "{table}");
    assert!(result.merged.injector.stalled(), "lag p99 {}µs", result.merged.injector.lag_at(0.99));

    // Nothing lost: every request the target saw is counted once, every journey ends once.
    let total = assert_target_saw_every_request(&result, target.hits());
    assert!(total.requests() > 0);
    let journeys = &result.merged.journeys;
    assert_eq!(journeys.started, journeys.ok + journeys.failed + journeys.cancelled, "{journeys:?}");
}

/// Holds its thread for `TEARDOWN_HOLD` when dropped: a journey cancelled at the stop is
/// dropped in its core's teardown, after the results are complete.
struct SlowDrop;

const TEARDOWN_HOLD: Duration = Duration::from_secs(5);

impl Drop for SlowDrop {
    fn drop(&mut self) {
        std::thread::sleep(TEARDOWN_HOLD);
    }
}

/// Thinks for a minute, holding a `SlowDrop`: cancelled at the stop (its think outlasts the
/// grace), and slow to drop.
async fn slow_to_drop(ctx: &Ctx, _row: Row) -> JourneyResult {
    let _guard = SlowDrop;
    ctx.transaction("think", async {
        mite_core::sleep(Duration::from_secs(60)).await;
        Ok(())
    })
    .await
}

/// A core's teardown after its stop (dropping tens of thousands of connections took the
/// kernel seconds) is bounded: the run returns its result at most `CORE_TEARDOWN_MAX` after
/// the last core stopped, and says which core it did not wait for. Before, it waited for
/// every thread to end: the run took 1 s + 5 s of teardown.
#[test]
fn a_slow_teardown_is_bounded_and_said() {
    let mut registry = Registry::default();
    registry.journey("stall:slow_to_drop", slow_to_drop);
    let scenario = scenario("stall:slow_to_drop", VolumeModel::constant(1));
    let config = mite_core::run::layered_config(&scenario.config, &[]).unwrap();
    let opts = options(1, Duration::from_secs(1));
    let warnings = Mutex::new(Vec::new());
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let result = mite_core::run_scenario(&registry, scenario, config, &opts, stop, &mut |event| {
        if let RunEvent::Warning(text) = event {
            warnings.lock().unwrap().push(text.to_string());
        }
    })
    .unwrap();
    let took = started.elapsed();
    let warnings = warnings.into_inner().unwrap();
    let bound = Duration::from_secs(1) + mite_core::limits::CORE_TEARDOWN_MAX + Duration::from_millis(800);
    assert!(took < bound, "the run took {took:?}: it waited for the teardown");
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("core 0 is still tearing down") && w.contains("the results are complete")),
        "{warnings:?}"
    );
    assert!(result.duration_s < 1.5, "duration_s {} counts the teardown", result.duration_s);
    assert_eq!(result.merged.journeys.started, 1);
    assert_eq!(result.merged.journeys.cancelled, 1, "{:?}", result.merged.journeys);
}

/// When the run whose core is held past its deadline (`hold_across_the_stop`) began.
static ACROSS_STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
static ACROSS_HELD: AtomicBool = AtomicBool::new(false);

/// A GET of `target_url` and a short think; the first journey 0.9 s into the run first blocks
/// its core's thread for 750 ms, across the run's end at 1 s and the tick after it.
async fn hold_across_the_stop(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get_or("target_url", "http://127.0.0.1:1/");
    ctx.transaction("get", async {
        let late = ACROSS_STARTED.get().is_some_and(|at| at.elapsed() >= Duration::from_millis(900));
        if late && !ACROSS_HELD.swap(true, Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(750));
        }
        ctx.http().get(url).discard_body().send().await?;
        mite_core::sleep(Duration::from_millis(20)).await;
        Ok(())
    })
    .await
}

/// Outside tester's run on a loaded machine: one core stopped at the deadline (3.0 s), the
/// other woke after it and its tick, and its figures went in a line of their own, so the
/// interval ending at 3 s was printed twice (`[3.0s]`, `[3.0s]`). The deadline's interval is
/// one line with every core's figures; the grace's lines follow it.
#[test]
fn a_core_woken_after_the_deadline_reports_the_deadline_interval_once() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("stall:hold_across_the_stop", hold_across_the_stop);
    let scenario = scenario("stall:hold_across_the_stop", VolumeModel::constant(4));
    let config =
        mite_core::run::layered_config(&scenario.config, &[format!("target_url={}", target.url("/"))]).unwrap();
    let mut opts = options(2, Duration::from_secs(1));
    // A tick of 500 ms: the one before the deadline has half a second to spare on a busy box.
    (opts.grace, opts.tick) = (Duration::from_millis(500), Duration::from_millis(500));
    let lines = Mutex::new(Vec::new());
    let stop = Arc::new(AtomicBool::new(false));
    ACROSS_STARTED.set(Instant::now()).unwrap();
    let result = mite_core::run_scenario(&registry, scenario, config, &opts, stop, &mut |event| {
        if let RunEvent::Interval(progress) = event {
            let grace = matches!(progress.piece, mite_core::output::events::Piece::Grace { .. });
            lines.lock().unwrap().push((progress.point.elapsed_s, grace, progress.to_string()));
        }
    })
    .unwrap();
    assert!(ACROSS_HELD.load(Ordering::SeqCst), "no journey held its core");
    let lines = lines.into_inner().unwrap();
    let texts: Vec<&str> = lines.iter().map(|l| l.2.as_str()).collect();
    assert!(lines.windows(2).all(|w| w[0].0 <= w[1].0), "lines out of order: {texts:#?}");
    // The run's lines from the deadline on: the deadline's interval, once.
    let at_the_stop = lines.iter().filter(|l| !l.1 && l.0 >= 1.0).count();
    assert_eq!(at_the_stop, 1, "{texts:#?}");
    let first_grace = lines.iter().position(|l| l.1).unwrap_or(lines.len());
    assert!(lines[first_grace..].iter().all(|l| l.1), "a run line after the grace's: {texts:#?}");
    let total = assert_target_saw_every_request(&result, target.hits());
    assert_eq!(total.transactions(), lines.iter().map(|l| txn_count(&l.2)).sum::<u64>(), "{texts:#?}");
}

/// The transaction count a progress line shows.
fn txn_count(line: &str) -> u64 {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "txn").expect("a txn count");
    words[at - 1].replace(',', "").parse().expect("a number")
}

/// A GET of `target_url` and a short think: cores that report every tick.
async fn get_and_think(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get_or("target_url", "http://127.0.0.1:1/");
    ctx.transaction("get", async {
        ctx.http().get(url).discard_body().send().await?;
        mite_core::sleep(Duration::from_millis(20)).await;
        Ok(())
    })
    .await
}

/// How long the reporter takes over the run's first progress line.
const REPORTER_HOLD: Duration = Duration::from_millis(2_600);

/// A stats thread held (a reporter slow to print its first line) while every core went on
/// reporting: no core is named silent, and none is given up. Before, the thread judged each
/// core by the last report it had taken, not by those waiting in its queue: it named both cores
/// silent after the hold, and with `core_held_max` under the hold ended the run without them.
#[test]
fn a_slow_stats_thread_does_not_take_cores_for_silent() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("stall:get_and_think", get_and_think);
    let scenario = scenario("stall:get_and_think", VolumeModel::constant(2));
    let config =
        mite_core::run::layered_config(&scenario.config, &[format!("target_url={}", target.url("/"))]).unwrap();
    let mut opts = options(2, Duration::from_secs(4));
    opts.core_held_max = Duration::from_secs(2);
    let said = Mutex::new(Vec::new());
    let stop = Arc::new(AtomicBool::new(false));
    let mut held = false;
    let result = mite_core::run_scenario(&registry, scenario, config, &opts, stop, &mut |event| match event {
        RunEvent::Interval(_) if !held => {
            held = true;
            std::thread::sleep(REPORTER_HOLD);
        }
        RunEvent::CoreSilent { core, .. } => said.lock().unwrap().push(format!("core {core} silent")),
        RunEvent::Warning(text) => said.lock().unwrap().push(text.to_string()),
        _ => {}
    });
    let said = said.into_inner().unwrap();
    let result = result.unwrap_or_else(|err| panic!("the run ended without its cores: {err}; said {said:#?}"));
    assert!(said.iter().all(|s| !s.contains("silent")), "{said:#?}");
    assert_target_saw_every_request(&result, target.hits());
}
