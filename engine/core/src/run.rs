//! A run from start to finish: resolve the scenario, start one pinned thread per core, and act
//! as the one stats thread: merge interval snapshots, report progress, collect the result.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::driver::{CoreRuntime, Driver, DriverChoice, DriverError};
use crate::exec::core_loop::{CoreEvent, CorePlan, run_core};
use crate::exec::run_stop::RunStop;
use crate::http::tls::TlsSetupError;
use crate::http::{HttpClient, HttpSettings, TlsOptions};
use crate::journey::shard::Shard;
use crate::journey::slot::record_journey;
use crate::journey::trace::TraceBuffer;
use crate::journey::{Ctx, Journey, Registry, Scenario, UnknownName};
use crate::limits::{DURATION_DEFAULT, DURATION_MAX, STATS_QUEUE_PER_CORE, STOP_GRACE_DEFAULT, TICK_DEFAULT};
use crate::model::config::{Config, ConfigError};
use crate::model::datapool::Row;
use crate::model::volume::VolumeError;
use crate::output::events::{Cut, Piece, Progress, Reporter, RunEvent};
use crate::output::exposition::Exporter;
use crate::output::hdr_log::HdrLog;
use crate::output::html::dashboard::LiveRun;
use crate::output::outcome::FoldedPiece;
pub use crate::output::outcome::{Completion, IntervalPoint, RunResult, StopReason};
use crate::output::timeline::IntervalDetail;
use crate::stats::{IntervalKey, Intervals, Merged, Phase};

/// How a run is carried out (not what it runs).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Core ids to pin one executor each to.
    pub cores: Vec<usize>,
    /// Run length; `None` takes the volume models' own length, or the default.
    pub duration: Option<Duration>,
    /// Volume-model tick and stats interval.
    pub tick: Duration,
    /// How long journeys in flight may finish after the stop.
    pub grace: Duration,
    /// Raised (a second interrupt, say), it ends the grace at once: the journeys still in
    /// flight are cancelled and counted as the grace's end would, and the result is made.
    pub grace_cut: Arc<AtomicBool>,
    /// Which I/O driver.
    pub driver: DriverChoice,
    /// HTTP client settings.
    pub http: HttpSettings,
    /// TLS verification settings.
    pub tls: TlsOptions,
    /// Pin threads to their cores (off only for tests that share a machine).
    pub pin: bool,
    /// This injector's execution segment `(k, n)`: it runs share k of n of every volume model
    /// and datapool. `(0, 1)` when alone.
    pub segment: (usize, usize),
    /// Wall-clock time to start at (synchronised start of several injectors).
    pub start_at: Option<SystemTime>,
    /// Write an HDR interval log here.
    pub hdr_log: Option<PathBuf>,
    /// Serves the Prometheus exposition, updated once per interval and with the final totals
    /// at the end (started by the caller, which keeps it serving after the run as it likes).
    pub prometheus: Option<Arc<Exporter>>,
    /// The live dashboard, updated once per interval.
    pub dashboard: Option<Arc<crate::output::html::dashboard::Dashboard>>,
    /// How long past when its report was due (an interval's end, or the end of the grace) the
    /// run waits for a silent core before it ends without it (`limits::CORE_HELD_MAX`).
    pub core_held_max: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            cores: vec![0],
            duration: None,
            tick: TICK_DEFAULT,
            grace: STOP_GRACE_DEFAULT,
            grace_cut: Arc::default(),
            driver: DriverChoice::Auto,
            http: HttpSettings::default(),
            tls: TlsOptions::default(),
            pin: true,
            segment: (0, 1),
            start_at: None,
            hdr_log: None,
            prometheus: None,
            dashboard: None,
            core_held_max: crate::limits::CORE_HELD_MAX,
        }
    }
}

/// A run that could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A `--config` override (or `MITE_CONF_*` variable) is malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The scenario has nothing to run.
    #[error("scenario {0:?} has no entries")]
    NoEntries(String),
    /// A scenario entry names a journey that is not registered.
    #[error("scenario entry {entry}: {source}")]
    UnknownJourney {
        /// 1-based entry number.
        entry: usize,
        /// What the registry said.
        source: UnknownName,
    },
    /// A scenario entry's volume model is invalid, or cannot be split across the cores.
    #[error("scenario entry {entry} ({journey}): volume model: {source}")]
    Volume {
        /// 1-based entry number.
        entry: usize,
        /// The entry's journey.
        journey: String,
        /// What is wrong with the volume model.
        source: VolumeError,
    },
    /// `--cores` selected none.
    #[error("no cores selected")]
    NoCores,
    /// `--tick` is below the least the engine accepts.
    #[error("tick {tick:?}: must be at least {min:?}")]
    TickTooShort {
        /// The tick asked for.
        tick: Duration,
        /// The least allowed.
        min: Duration,
    },
    /// The run's duration is zero or too long.
    #[error(
        "the run's length, {} (--duration, the scenario file's duration, else the volume models' own \
         length), must be between 1ms and {}",
        crate::scenario::duration::words(*duration),
        crate::scenario::duration::words(*max)
    )]
    Duration {
        /// The duration asked for (or taken from the volume models).
        duration: Duration,
        /// The longest allowed.
        max: Duration,
    },
    /// Other limits the response parser cannot apply as given (`Limits::check`).
    #[error("RunOptions::http.limits: {0}")]
    Limits(mite_codec::limits::LimitsError),
    /// The TLS client configuration could not be built (`--ca`, `--cert`, `--key`).
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// `RunOptions::http.limits.headers_count_max` is outside what the response parser has
    /// slots for (the bound `--max-headers` and `[client] max_headers` have too): refused, not
    /// capped.
    #[error(
        "the header-field limit ({asked}, RunOptions::http.limits.headers_count_max) must be from 1 to {max} \
         header fields per response"
    )]
    HeadersCount {
        /// The limit asked for.
        asked: usize,
        /// The most allowed: `limits::RESPONSE_HEADERS_MAX`.
        max: usize,
    },
    /// The execution segment is not `K/N` with `0 <= K < N`.
    #[error("segment {k}/{n}: expected K/N with 0 <= K < N")]
    Segment {
        /// Share index.
        k: usize,
        /// Shares.
        n: usize,
    },
    /// The `--hdr-log` file could not be created.
    #[error("--hdr-log {}: {source}", path.display())]
    HdrLogCreate {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The synchronised start is more than a day away.
    #[error("start time is {seconds:.0}s away; more than a day is refused")]
    StartTooFar {
        /// How far away it is, s.
        seconds: f64,
    },
    /// The synchronised start passed more than a day ago.
    #[error("start time passed {seconds:.0}s ago; more than a day ago is refused")]
    StartLongPast {
        /// How long ago it was, s.
        seconds: f64,
    },
    /// An interrupt came while waiting for the synchronised start.
    #[error("interrupted before the start")]
    InterruptedBeforeStart,
    /// The operating system would not start a core's thread.
    #[error("starting core thread {core}: {source}")]
    SpawnCore {
        /// Core id.
        core: usize,
        /// Why.
        source: std::io::Error,
    },
    /// A core could not start its runtime or pin itself.
    #[error("core {core}: {error}")]
    CoreFailed {
        /// Core id.
        core: usize,
        /// What the core said.
        error: String,
    },
    /// A core thread ended without its last snapshot (it panicked).
    #[error("a core thread ended without reporting its results")]
    CoreLost,
    /// The run ended without one or more of its cores (a panic outside any journey's run ended
    /// its thread, or a journey held it past the grace); `result` holds every figure the cores reported.
    #[error("{}", lost_words(lost))]
    CoresLost {
        /// Each core lost, and why.
        lost: Vec<LostCore>,
        /// What the run measured, less each lost core's figures since its last report.
        result: Box<RunResult>,
    },
    /// `journey test`: the journey panicked.
    #[error("journey {journey} panicked: {message} (the test stopped there)")]
    JourneyPanicked {
        /// The journey's name.
        journey: String,
        /// The panic's message.
        message: String,
    },
    /// `journey test` names a journey that is not registered.
    #[error(transparent)]
    Journey(#[from] UnknownName),
    /// `journey test`: the runtime could not be built.
    #[error(transparent)]
    Driver(#[from] DriverError),
}

/// A core the run ended without.
#[derive(Clone, Debug, PartialEq)]
pub struct LostCore {
    /// Core id.
    pub core: usize,
    /// What happened to it.
    pub why: LostWhy,
    /// Its last report, seconds since the start (0 when it never reported).
    pub last_report_s: f64,
}

/// Why a run ended without a core.
#[derive(Clone, Debug, PartialEq)]
pub enum LostWhy {
    /// A panic outside any journey's run (the engine's, or one in dropping a journey's future)
    /// ended its thread. (A journey's own panic ends only that run of it.)
    Panicked {
        /// The journeys it ran: `journey NAME` when one, else the names.
        journey: String,
        /// The panic's message.
        message: String,
    },
    /// Its thread was held: no report for `silent`, `past_due` past when one was due.
    Held {
        /// Since its last report (or the start).
        silent: Duration,
        /// Since the report was due (an interval's end, or the end of the grace).
        past_due: Duration,
    },
}

fn lost_words(lost: &[LostCore]) -> String {
    let words: Vec<String> = lost
        .iter()
        .map(|l| {
            let what = match &l.why {
                LostWhy::Panicked { journey, message } => format!(
                    "core {}: a panic outside any journey's run, in the engine or in dropping a journey ({journey} \
                     ran there): {message}; the run was stopped",
                    l.core
                ),
                LostWhy::Held { silent, past_due } => format!(
                    "core {}: no report for {:.1}s, {:.1}s past when one was due: a journey on it never yields \
                     (a loop with no I/O, sleep or other wait that is pending) or blocks its thread; the run ended \
                     without it",
                    l.core,
                    silent.as_secs_f64(),
                    past_due.as_secs_f64()
                ),
            };
            format!("{what}, and its figures since its last report at {:.1}s are not in the result", l.last_report_s)
        })
        .collect();
    words.join("; ")
}

/// The text a panic carried.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    crate::journey::panics::message(payload)
}

/// Layers configuration: scenario defaults, then `MITE_CONF_*`, then `--config` overrides.
pub fn layered_config(scenario: &Config, overrides: &[String]) -> Result<Config, RunError> {
    let mut config = scenario.clone();
    config.apply_env(crate::model::config::env_vars()?);
    config.apply_overrides(overrides)?;
    Ok(config)
}

fn run_duration(scenario: &Scenario, options: &RunOptions) -> Result<Duration, RunError> {
    let duration = match options.duration {
        Some(d) => d,
        None => {
            let lengths: Option<Vec<f64>> = scenario.entries.iter().map(|e| e.volume.duration_s()).collect();
            match lengths {
                Some(lengths) if !lengths.is_empty() => {
                    Duration::from_secs_f64(lengths.into_iter().fold(0.0, f64::max))
                }
                _ => DURATION_DEFAULT,
            }
        }
    };
    if duration.is_zero() || duration > DURATION_MAX {
        return Err(RunError::Duration { duration, max: DURATION_MAX });
    }
    Ok(duration)
}

/// Each entry's journey, found in `registry` (what a run refuses first, and `scenario check`
/// with it).
pub fn entry_journeys(registry: &Registry, scenario: &Scenario) -> Result<Vec<Arc<dyn Journey>>, RunError> {
    let found = scenario.entries.iter().enumerate().map(|(i, entry)| {
        registry.find_journey(&entry.journey).map_err(|source| RunError::UnknownJourney { entry: i + 1, source })
    });
    found.collect()
}

/// Each entry's journey, once every entry, the cores, the tick and the duration are checked.
fn check_scenario(
    registry: &Registry,
    scenario: &Scenario,
    options: &RunOptions,
) -> Result<(Vec<Arc<dyn Journey>>, Duration), RunError> {
    if scenario.entries.is_empty() {
        return Err(RunError::NoEntries(scenario.name.clone()));
    }
    let journeys = entry_journeys(registry, scenario)?;
    for (i, entry) in scenario.entries.iter().enumerate() {
        entry
            .volume
            .validate()
            .and_then(|()| entry.volume.validate_split(options.cores.len() * options.segment.1))
            .map_err(|source| RunError::Volume { entry: i + 1, journey: entry.journey.clone(), source })?;
    }
    if options.cores.is_empty() {
        return Err(RunError::NoCores);
    }
    if options.tick < crate::limits::TICK_MIN {
        return Err(RunError::TickTooShort { tick: options.tick, min: crate::limits::TICK_MIN });
    }
    check_http(&options.http)?;
    Ok((journeys, run_duration(scenario, options)?))
}

/// Refuses HTTP settings the client would otherwise refuse at every response: limits the
/// parser cannot apply (`Limits::check`, the codec's one rule: a header-field limit of 0, or
/// above the parser's slots).
fn check_http(http: &HttpSettings) -> Result<(), RunError> {
    http.limits.check().map_err(|err| match err {
        mite_codec::limits::LimitsError::HeadersCount { asked } => {
            RunError::HeadersCount { asked, max: crate::limits::RESPONSE_HEADERS_MAX }
        }
        other => RunError::Limits(other),
    })
}

/// Runs `scenario` (already built, with `config` layered) and returns its results. `report`
/// receives a progress line per interval and notices (driver, fallbacks, warnings).
pub fn run_scenario(
    registry: &Registry,
    scenario: Scenario,
    config: Config,
    options: &RunOptions,
    stop: Arc<AtomicBool>,
    report: &mut Reporter<'_>,
) -> Result<RunResult, RunError> {
    let plan = Arc::new(plan(registry, &scenario, config, options, report)?);
    // A journey's panic is counted, not printed: a journey panicking on every run would
    // otherwise write a line per run from its core's thread.
    crate::journey::panics::install_hook();
    let duration = plan.duration;
    let mut hdr_log = open_hdr_log(options)?;
    let exporter = options.prometheus.clone();
    if let Some(at) = options.start_at {
        wait_until(at, &stop, report)?;
    }
    let (events_tx, events) = sync_channel::<CoreEvent>(STATS_QUEUE_PER_CORE * options.cores.len());
    let started = Instant::now();
    let started_at_unix_s = unix_now();
    let threads = spawn_cores(&plan, options, started, &stop, events_tx)?;
    let segment = (options.segment.1 > 1).then(|| format!("{}/{}", options.segment.0, options.segment.1));
    let live = LiveRun {
        scenario: &scenario.name,
        cores: &options.cores,
        segment: segment.as_deref(),
        tick: options.tick,
        duration,
        tls_verified: !options.tls.insecure,
    };
    let sinks = Sinks { hdr_log: hdr_log.as_mut(), exporter: exporter.as_deref(), live };
    let mut collector = Collector::new(options, (started, duration), &stop, report, sinks);
    collector.journeys = journeys_named(&scenario);
    let outcome = collector.run(&events);
    if outcome.is_err() {
        stop.store(true, Ordering::Relaxed);
    }
    let lost: Vec<usize> = outcome.as_ref().map(|c| c.lost.iter().map(|l| l.core).collect()).unwrap_or_default();
    join_cores(threads, &options.cores, &lost, report);
    let mut collected = outcome?;
    if let Some(exporter) = &exporter {
        // The last exposition holds the final totals, for the caller's last scrape.
        exporter.publish_stats(&collected.merged, 0, 0);
    }
    let lost = std::mem::take(&mut collected.lost);
    let result = outcome_of(&scenario, options, started_at_unix_s, segment, collected);
    if lost.is_empty() { Ok(result) } else { Err(RunError::CoresLost { lost, result: Box::new(result) }) }
}

/// What every core runs: the scenario checked, the TLS configuration built, the warnings said.
/// Said by every command that talks TLS with verification off (`--insecure`, or `insecure`
/// in the scenario's `[client]`).
const INSECURE_WARNING: &str = "--insecure: TLS certificates are NOT verified";

fn plan(
    registry: &Registry,
    scenario: &Scenario,
    config: Config,
    options: &RunOptions,
    report: &mut Reporter<'_>,
) -> Result<CorePlan, RunError> {
    let (journeys, duration) = check_scenario(registry, scenario, options)?;
    let split = crate::scenario::preflight::Split { cores: options.cores.len(), segment: options.segment };
    for warning in crate::scenario::preflight::warnings(scenario, split) {
        report(&RunEvent::Warning(&warning));
    }
    let tls = crate::http::tls::client_config(&options.tls)?;
    if options.tls.insecure {
        report(&RunEvent::Warning(INSECURE_WARNING));
    }
    let (k, n) = options.segment;
    if n == 0 || k >= n {
        return Err(RunError::Segment { k, n });
    }
    Ok(CorePlan {
        journeys,
        entries: scenario.entries.clone(),
        config: Arc::new(config),
        http: Arc::new(options.http.clone()),
        tls: Some(tls),
        tick: options.tick,
        duration,
        grace: options.grace,
        driver: options.driver,
        cores: options.cores.len(),
        segment: options.segment,
    })
}

/// The run's result from what the stats thread collected.
fn outcome_of(
    scenario: &Scenario,
    options: &RunOptions,
    started_at_unix_s: f64,
    segment: Option<String>,
    collected: Collected,
) -> RunResult {
    let stopped_by = if collected.interrupted {
        StopReason::Interrupted
    } else if collected.completed {
        // Every core said why it stopped: its entries had all finished before the deadline
        // (a time test would call a run that used up its data 100 ms before the end
        // "stopped by its duration").
        StopReason::Completed
    } else {
        StopReason::Duration
    };
    let stopped_because =
        (stopped_by == StopReason::Completed).then(|| completion(scenario, &collected.ran_out).words());
    RunResult {
        scenario: scenario.name.clone(),
        cores: options.cores.clone(),
        drivers: collected.drivers,
        fallbacks: collected.fallbacks,
        started_at_unix_s,
        // From the start to the moment the last core stopped (its last snapshot), never cut
        // to the duration and grace: a core held past them made the run that long, and every
        // rate is over it. The threads' teardown after that is not in it.
        duration_s: collected.stopped_s,
        stopped_by,
        merged: collected.merged,
        intervals: collected.intervals,
        segment,
        tls_verified: Some(!options.tls.insecure),
        stopped_because,
    }
}

/// Why a completed run's entries finished: `ran_out` the entries (by index) whose single-use
/// datapool ran out on some core; every other entry's volume model ended. A recyclable pool
/// never runs out (a core it gave no row ends its entry at once, the others run on).
fn completion(scenario: &Scenario, ran_out: &BTreeSet<usize>) -> Completion {
    let mut completion = Completion::default();
    for (i, entry) in scenario.entries.iter().enumerate() {
        match entry.datapool.as_ref().filter(|pool| ran_out.contains(&i) && !pool.is_recyclable()) {
            Some(pool) => {
                completion.datapools_ran_out.insert(pool.name().to_string());
            }
            None => completion.volume_models_ended = true,
        }
    }
    completion
}

fn open_hdr_log(options: &RunOptions) -> Result<Option<HdrLog>, RunError> {
    let Some(path) = &options.hdr_log else { return Ok(None) };
    let log =
        HdrLog::create(path, unix_now()).map_err(|source| RunError::HdrLogCreate { path: path.clone(), source })?;
    Ok(Some(log))
}

/// Starts one thread per core, each pinned (when asked) before its runtime is built. When one
/// cannot start, those already started are stopped and joined before the error returns.
fn spawn_cores(
    plan: &Arc<CorePlan>,
    options: &RunOptions,
    started: Instant,
    stop: &Arc<AtomicBool>,
    events_tx: SyncSender<CoreEvent>,
) -> Result<Vec<JoinHandle<()>>, RunError> {
    let mut threads = Vec::new();
    // One stop for every core: the flag, and the instant the stop was taken, shared.
    let run_stop = Arc::new(RunStop::new(stop.clone(), started).with_grace_cut(options.grace_cut.clone()));
    for (index, &core_id) in options.cores.iter().enumerate() {
        let (core_plan, core_stop, core_tx, pin) = (plan.clone(), run_stop.clone(), events_tx.clone(), options.pin);
        let spawned = std::thread::Builder::new().name(format!("mite-core-{core_id}")).spawn(move || {
            // Pin before the runtime (and its ring) is built, so its memory is local.
            if pin && !core_affinity::set_for_current(core_affinity::CoreId { id: core_id }) {
                let error = format!("could not pin to core {core_id}");
                let _ = core_tx.send(CoreEvent::Failed { core: index, error });
                return;
            }
            // A journey's panic is caught where its run is polled (`journey::slot`): the run
            // goes on. Any other panic on the core's thread (the engine's, or one in dropping
            // a journey) takes its runtime down with it: the stats thread is told, and ends the
            // run without this core (the panic hook has printed where).
            let panic_tx = core_tx.clone();
            let run = std::panic::AssertUnwindSafe(|| run_core(core_plan, index, started, core_stop, core_tx));
            if let Err(payload) = std::panic::catch_unwind(run) {
                let _ = panic_tx.send(CoreEvent::Failed { core: index, error: panic_message(payload.as_ref()) });
            }
        });
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(source) => {
                stop.store(true, Ordering::Relaxed);
                drop(events_tx);
                for thread in threads {
                    let _ = thread.join();
                }
                return Err(RunError::SpawnCore { core: core_id, source });
            }
        }
    }
    Ok(threads)
}

/// Waits for the core threads to end, up to `CORE_TEARDOWN_MAX` in all. Once every core has
/// sent its last snapshot the results are complete; what a thread does after it is teardown:
/// its tasks, connections and ring are dropped (tens of thousands of sockets take the kernel
/// seconds). A thread still at it after the bound is left to finish on its own, and said.
/// The threads of cores the run ended without (`lost`) are left as they are: the error said so.
fn join_cores(threads: Vec<JoinHandle<()>>, cores: &[usize], lost: &[usize], report: &mut Reporter<'_>) {
    let deadline = Instant::now() + crate::limits::CORE_TEARDOWN_MAX;
    for (thread, core) in threads.into_iter().zip(cores).filter(|(_, core)| !lost.contains(core)) {
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(crate::limits::GRACE_POLL_INTERVAL);
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else {
            let text = format!(
                "core {core} is still tearing down (dropping its journeys, connections and ring) {} after the \
                 run stopped: the results are complete; not waiting for it",
                crate::scenario::duration::words(crate::limits::CORE_TEARDOWN_MAX)
            );
            report(&RunEvent::Warning(&text));
        }
    }
}

/// What the stats thread gathered by the end of the run.
struct Collected {
    merged: Merged,
    intervals: Vec<IntervalPoint>,
    drivers: Vec<Driver>,
    fallbacks: Vec<String>,
    interrupted: bool,
    /// Every core stopped because its entries had all finished (none at the duration's end).
    completed: bool,
    /// The entries (by index) whose single-use datapool ran out on some core that completed.
    ran_out: BTreeSet<usize>,
    /// When the last core stopped (its last snapshot), seconds since the start.
    stopped_s: f64,
    /// The cores the run ended without.
    lost: Vec<LostCore>,
}

/// Where interval data goes besides the progress line.
struct Sinks<'a> {
    hdr_log: Option<&'a mut HdrLog>,
    exporter: Option<&'a Exporter>,
    live: LiveRun<'a>,
}

/// The stats thread's state: snapshots merge into their interval; an interval is complete (and
/// reported) once every core has reported it, so that a late snapshot from a busy core does not
/// make one interval look empty and the next one doubled.
struct Collector<'a, 'r> {
    options: &'a RunOptions,
    duration: Duration,
    stop: &'a AtomicBool,
    report: &'a mut Reporter<'r>,
    sinks: Sinks<'a>,
    drivers: Vec<Option<Driver>>,
    fallbacks: Vec<String>,
    merged: Merged,
    /// Per core: journeys in flight and the target, as of the last interval reported.
    in_flight: Vec<u64>,
    targets: Vec<u64>,
    /// Snapshots merged into their intervals.
    pending: Intervals,
    intervals: Vec<IntervalPoint>,
    last_elapsed_s: f64,
    /// When the grace began (the stop: the end of the line before its first piece), for what
    /// is left of it.
    grace_from_s: Option<f64>,
    /// The last interval and where it started, kept so that a short final one can be folded in.
    previous: Option<(Merged, f64)>,
    announced: bool,
    interrupted: bool,
    /// What each core has reported, for late and silent cores.
    cores: CoreReports,
    /// When the run started, and the last time the stop flag was seen down: a signal first seen
    /// after that moment came after it, and one that came after the duration ended cut nothing
    /// short (the run stopped by its duration; the grace goes on as it would have).
    started: Instant,
    flag_down_at: Instant,
    /// The cores the run ended without.
    lost: Vec<LostCore>,
    /// The entries (by index) whose single-use datapool ran out on a core that completed.
    ran_out: BTreeSet<usize>,
    /// The scenario's journeys in words, for a panic: `journey NAME`, or which it may be.
    journeys: String,
}

/// The journeys a panic may have come from, in words: `journey NAME` when the scenario runs
/// one, else `a journey (one of A, B)`.
fn journeys_named(scenario: &Scenario) -> String {
    let names: BTreeSet<&str> = scenario.entries.iter().map(|e| e.journey.as_str()).collect();
    match names.len() {
        1 => format!("journey {}", names.into_iter().next().unwrap_or_default()),
        _ => format!("a journey (one of {})", names.into_iter().collect::<Vec<_>>().join(", ")),
    }
}

/// One core's snapshot in an interval: the time it spans (from that core's report before).
struct Span {
    core: usize,
    seconds: f64,
    /// The core's last snapshot (it stopped).
    last: bool,
    /// The part of the core's run it covers.
    phase: Phase,
    /// The core's journeys in flight, and its target, when it took the snapshot (0 at its stop).
    in_flight: u64,
    target: u64,
}

/// Per core: when it last reported and which interval, and per pending interval the time each
/// core's snapshot in it spans.
struct CoreReports {
    started: Instant,
    reported_s: Vec<f64>,
    last_index: Vec<Option<u64>>,
    finished: Vec<bool>,
    silent_noted: Vec<bool>,
    spans: std::collections::BTreeMap<IntervalKey, Vec<Span>>,
    stopped_s: f64,
    /// Every core that has stopped so far stopped because its entries had all finished.
    completed: bool,
}

impl CoreReports {
    fn new(cores: usize, started: Instant) -> CoreReports {
        CoreReports {
            started,
            reported_s: vec![0.0; cores],
            last_index: vec![None; cores],
            finished: vec![false; cores],
            silent_noted: vec![false; cores],
            spans: std::collections::BTreeMap::new(),
            stopped_s: 0.0,
            completed: true,
        }
    }

    fn add(&mut self, snapshot: &crate::stats::Snapshot) {
        let core = snapshot.core;
        let seconds = snapshot.elapsed_s - self.reported_s[core];
        let (in_flight, target) =
            if snapshot.last { (0, 0) } else { (snapshot.journeys_in_flight, snapshot.journeys_target) };
        let span = Span { core, seconds, last: snapshot.last, phase: snapshot.phase, in_flight, target };
        self.spans.entry(snapshot.key()).or_default().push(span);
        self.reported_s[core] = snapshot.elapsed_s;
        self.last_index[core] = Some(snapshot.tick);
        self.silent_noted[core] = false;
        if snapshot.last {
            self.finished[core] = true;
            self.stopped_s = self.stopped_s.max(snapshot.elapsed_s);
            self.completed &= snapshot.completed;
        }
    }

    /// The run ends without `core`: it counts as stopped now, and not as completed.
    fn lose(&mut self, core: usize) {
        self.finished[core] = true;
        self.completed = false;
        self.stopped_s = self.stopped_s.max(self.started.elapsed().as_secs_f64());
    }

    /// The oldest pending interval's spans (it is the one just completed).
    fn take_oldest(&mut self) -> Vec<Span> {
        self.spans.pop_first().map(|(_, spans)| spans).unwrap_or_default()
    }

    /// Cores that have not reported for `CORE_SILENT_NOTE_AFTER` past when their report was
    /// due: (core, seconds since its last report, seconds past the grace's end when it was
    /// the stop that was due); each silence is named once.
    fn newly_silent(&mut self, tick: Duration, duration: Duration, grace: Duration) -> Vec<(usize, f64, Option<f64>)> {
        let now_s = self.started.elapsed().as_secs_f64();
        let mut silent = Vec::new();
        for core in 0..self.finished.len() {
            if self.finished[core] || self.silent_noted[core] {
                continue;
            }
            let (due_s, stop_due) = self.due_s(core, tick, duration, grace);
            if now_s - due_s >= crate::limits::CORE_SILENT_NOTE_AFTER.as_secs_f64() {
                self.silent_noted[core] = true;
                silent.push((core, now_s - self.reported_s[core], stop_due.then_some(now_s - due_s)));
            }
        }
        silent
    }

    /// When `core`'s next report is due, seconds since the start, and whether it is its stop:
    /// interval i ends at (i + 1) ticks; after the run's length a core reports once, at its
    /// stop, within the grace.
    fn due_s(&self, core: usize, tick: Duration, duration: Duration, grace: Duration) -> (f64, bool) {
        let (tick_s, duration_s) = (tick.as_secs_f64(), duration.as_secs_f64());
        let next_end_s = self.last_index[core].map_or(1.0, |i| i as f64 + 2.0) * tick_s;
        let stop_due = next_end_s >= duration_s;
        (if stop_due { duration_s + grace.as_secs_f64() } else { next_end_s }, stop_due)
    }
}

impl<'a, 'r> Collector<'a, 'r> {
    fn new(
        options: &'a RunOptions,
        (started, duration): (Instant, Duration),
        stop: &'a AtomicBool,
        report: &'a mut Reporter<'r>,
        sinks: Sinks<'a>,
    ) -> Self {
        let cores = options.cores.len();
        Collector {
            options,
            duration,
            stop,
            report,
            sinks,
            drivers: vec![None; cores],
            fallbacks: Vec::new(),
            merged: Merged::default(),
            in_flight: vec![0; cores],
            targets: vec![0; cores],
            pending: Intervals::new(cores),
            intervals: Vec::new(),
            last_elapsed_s: 0.0,
            grace_from_s: None,
            previous: None,
            announced: false,
            interrupted: false,
            cores: CoreReports::new(cores, started),
            started,
            flag_down_at: started,
            lost: Vec::new(),
            ran_out: BTreeSet::new(),
            journeys: "a journey".to_string(),
        }
    }

    /// Merges snapshots and reports intervals until every core has sent its last snapshot.
    fn run(mut self, events: &Receiver<CoreEvent>) -> Result<Collected, RunError> {
        // What the cores sent while this thread was busy (a reporter slow to print, a page to
        // publish) is taken before any core is judged silent or given up: its report may be
        // in the queue.
        let backlog_max = self.options.cores.len() * crate::limits::STATS_QUEUE_PER_CORE;
        while !self.pending.all_finished() || !self.pending.none_pending() {
            let mut next = events.recv_timeout(self.options.tick);
            for _ in 0..backlog_max {
                self.take(next)?;
                match events.try_recv() {
                    Ok(event) => next = Ok(event),
                    Err(_) => break,
                }
            }
            self.note_the_stop_flag();
            self.give_up_held_cores();
            for (core, silent_s, past_grace_s) in
                self.cores.newly_silent(self.options.tick, self.duration, self.options.grace)
            {
                (self.report)(&RunEvent::CoreSilent { core: self.options.cores[core], silent_s, past_grace_s });
            }
            // Last: the reporter may take its time over what closes here.
            self.close_complete_intervals()?;
        }
        Ok(Collected {
            merged: self.merged,
            intervals: self.intervals,
            drivers: self.drivers.into_iter().map(|d| d.unwrap_or(Driver::Epoll)).collect(),
            fallbacks: self.fallbacks,
            interrupted: self.interrupted,
            completed: self.cores.completed && self.cores.finished.iter().all(|&f| f),
            ran_out: self.ran_out,
            stopped_s: self.cores.stopped_s,
            lost: self.lost,
        })
    }

    /// One event from the cores, or the tick's wait for one ending.
    fn take(&mut self, event: Result<CoreEvent, RecvTimeoutError>) -> Result<(), RunError> {
        match event {
            Ok(CoreEvent::Started { core, driver, fallback }) => self.started(core, driver, fallback),
            Ok(CoreEvent::Failed { core, error }) if self.drivers[core].is_some() => {
                self.panicked(core, error);
            }
            Ok(CoreEvent::Failed { core, error }) => {
                return Err(RunError::CoreFailed { core: self.options.cores[core], error });
            }
            Ok(CoreEvent::Snapshot(snapshot)) => self.snapshot(*snapshot),
            Ok(CoreEvent::Completed { ran_out, .. }) => self.ran_out.extend(ran_out),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) if !self.pending.all_finished() => {
                return Err(RunError::CoreLost);
            }
            Err(RecvTimeoutError::Disconnected) => {}
        }
        Ok(())
    }

    /// A panic outside a journey's run ended a running core's thread: the run stops (the
    /// other cores' journeys get the grace) and ends without it. A panic after its last report
    /// (while its thread tore down) lost nothing.
    fn panicked(&mut self, core: usize, message: String) {
        if self.cores.finished[core] {
            let text = format!("core {}: a panic after its last report: {message}", self.options.cores[core]);
            (self.report)(&RunEvent::Warning(&text));
            return;
        }
        self.lose(core, LostWhy::Panicked { journey: self.journeys.clone(), message });
        self.stop_the_run();
    }

    /// Raises the stop flag, as a signal would, and notes it at once (the run may have no
    /// other core left to wait for).
    fn stop_the_run(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.note_the_stop_flag();
    }

    /// Cores silent `core_held_max` past when their report was due (an interval's end, or the
    /// end of the grace): the run ends without them, and one held before the stop stops it.
    fn give_up_held_cores(&mut self) {
        let (tick, grace, now_s) = (self.options.tick, self.options.grace, self.started.elapsed().as_secs_f64());
        for core in 0..self.cores.finished.len() {
            if self.cores.finished[core] {
                continue;
            }
            let (due_s, stop_due) = self.cores.due_s(core, tick, self.duration, grace);
            let past_s = now_s - due_s;
            if past_s >= self.options.core_held_max.as_secs_f64() {
                let silent = Duration::from_secs_f64(now_s - self.cores.reported_s[core]);
                self.lose(core, LostWhy::Held { silent, past_due: Duration::from_secs_f64(past_s) });
                if !stop_due {
                    self.stop_the_run();
                }
            }
        }
    }

    fn lose(&mut self, core: usize, why: LostWhy) {
        let last_report_s = self.cores.reported_s[core];
        self.cores.lose(core);
        self.pending.lost(core);
        self.lost.push(LostCore { core: self.options.cores[core], why, last_report_s });
    }

    /// A run is interrupted when the signal may have come before its duration ended; one that
    /// surely came after (the flag was still down once the duration had ended) is not.
    fn note_the_stop_flag(&mut self) {
        if !self.stop.load(Ordering::Relaxed) {
            self.flag_down_at = Instant::now();
        } else if self.flag_down_at < self.started + self.duration {
            self.interrupted = true;
        }
    }

    fn started(&mut self, core: usize, driver: Driver, fallback: Option<String>) {
        self.drivers[core] = Some(driver);
        let core_id = self.options.cores[core];
        if let Some(reason) = fallback {
            (self.report)(&RunEvent::DriverFallback { core: Some(core_id), reason: &reason });
            self.fallbacks.push(format!("core {core_id}: {reason}"));
        }
        if !self.announced && self.drivers.iter().all(Option::is_some) {
            self.announced = true;
            let names: BTreeSet<&str> = self.drivers.iter().flatten().map(|d| d.name()).collect();
            let drivers = names.into_iter().collect::<Vec<_>>().join("+");
            let cores = &self.options.cores;
            (self.report)(&RunEvent::Started { cores, drivers: &drivers, duration: self.duration });
        }
    }

    fn snapshot(&mut self, snapshot: crate::stats::Snapshot) {
        self.cores.add(&snapshot);
        self.pending.add(snapshot);
    }

    /// Closes, in order, every pending interval that all cores have reported.
    fn close_complete_intervals(&mut self) -> Result<(), RunError> {
        while let Some((interval, elapsed_s)) = self.pending.pop_complete() {
            self.close_interval(interval, elapsed_s)?;
        }
        Ok(())
    }

    /// One interval joins the run: merged once, logged, exported, reported, drawn.
    fn close_interval(&mut self, interval: Merged, elapsed_s: f64) -> Result<(), RunError> {
        self.merged.merge(&interval);
        // Lines go in time order: an interval whose only report came early (a core that
        // stopped) is labelled no earlier than the line before it.
        let elapsed_s = elapsed_s.max(self.last_elapsed_s);
        let gap_s = elapsed_s - self.last_elapsed_s;
        // A core that reported late brings figures from further back than the line before:
        // a report cannot be split by time, so the rates are over the longest span in it.
        let tick_s = self.options.tick.as_secs_f64();
        let spans = self.cores.take_oldest();
        // The journeys in flight as of this interval: each core's figure in it, or its last one
        // before it (a gauge from a later snapshot, already received, would show the grace's
        // 0 target on the line up to the stop).
        for span in &spans {
            (self.in_flight[span.core], self.targets[span.core]) = (span.in_flight, span.target);
        }
        // Late: a tick's report covering more than one interval, or any report reaching back
        // past the line before (a stop after the grace covers the grace, and is not late).
        let late: Vec<usize> = spans
            .iter()
            .filter(|span| (!span.last && span.seconds > tick_s * 1.5) || span.seconds > gap_s + tick_s / 2.0)
            .map(|span| self.options.cores[span.core])
            .collect();
        let longest_s = spans.iter().map(|span| span.seconds).fold(0.0, f64::max);
        let seconds = if late.is_empty() { gap_s } else { longest_s }.max(1e-3);
        if let Some(log) = self.sinks.hdr_log.as_deref_mut()
            && let Err(err) = log.write_interval(&interval, (elapsed_s - seconds).max(0.0), seconds)
        {
            // The run's results matter more than its interval log: say so, and go on without it.
            (self.report)(&RunEvent::HdrLogFailed(&err));
            self.sinks.hdr_log = None;
        }
        let in_flight = self.in_flight.iter().sum();
        let target = self.targets.iter().sum();
        if let Some(exporter) = self.sinks.exporter {
            exporter.publish_stats(&self.merged, in_flight, target);
        }
        let last = self.pending.all_finished() && self.pending.none_pending();
        // Each interval is reported once, as it is; one cut short by the stop, and the grace
        // after it, say so.
        let piece = self.piece(&spans, seconds, last, elapsed_s);
        let point = interval_point((&interval, &self.merged), elapsed_s, seconds, (in_flight, target), piece.phase());
        let progress = Progress { point: &point, target, seconds, piece, late: &late };
        (self.report)(&RunEvent::Interval(&progress));
        match self.previous.as_mut() {
            // In the timeline (the result file, the charts), a piece shorter than half a tick
            // (the piece up to the stop, a piece of the grace, the run's last) would show a
            // rate from a handful of requests over a few milliseconds: it is folded into the
            // one before.
            Some((before, started_s))
                if (last || piece != Piece::Whole) && seconds < self.options.tick.as_secs_f64() / 2.0 =>
            {
                before.merge(&interval);
                let span = (elapsed_s - *started_s).max(1e-3);
                // It keeps the phase of the interval it joins, and says what was folded in.
                let joins = self.intervals.pop();
                // A piece of the grace drains the journeys (none starts, the target is 0): the
                // interval it joins keeps its journeys as of the stop, not the grace's end, or
                // its chart would fall to 0 over a whole interval that ran at full load.
                let gauges = match &joins {
                    Some(p) if point.phase == crate::output::outcome::IntervalPhase::Grace => {
                        (p.journeys_in_flight, p.detail.journeys_target)
                    }
                    _ => (in_flight, target),
                };
                let (phase, mut folded) = joins.map_or((point.phase, Vec::new()), |p| (p.phase, p.folded));
                FoldedPiece::add(&mut folded, point.phase, seconds);
                let joined = interval_point((before, &self.merged), elapsed_s, span, gauges, phase);
                self.intervals.push(IntervalPoint { folded, ..joined });
            }
            _ => {
                self.intervals.push(point);
                // The interval before is no longer needed: its histograms serve the next ones.
                if let Some((before, _)) = self.previous.replace((interval, self.last_elapsed_s)) {
                    self.pending.recycle(before);
                }
            }
        }
        crate::output::outcome::keep_bounded(&mut self.intervals);
        self.last_elapsed_s = elapsed_s;
        if let Some(dashboard) = &self.options.dashboard {
            let known: Vec<Driver> = self.drivers.iter().flatten().copied().collect();
            dashboard.publish_interval(&self.sinks.live, &known, &self.merged, &self.intervals);
        }
        Ok(())
    }
}

impl Collector<'_, '_> {
    /// What part of the run an interval's line describes, from its cores' spans: the grace, a
    /// piece cut short by the stop (the run's, or one core's), or a whole interval.
    fn piece(&mut self, spans: &[Span], seconds: f64, last: bool, elapsed_s: f64) -> Piece {
        if spans.iter().any(|span| span.phase.in_grace()) {
            let from_s = *self.grace_from_s.get_or_insert(self.last_elapsed_s);
            let spent = Duration::from_secs_f64((elapsed_s - from_s).max(0.0));
            return Piece::Grace { last, spent, length: self.options.grace };
        }
        let stop = spans.iter().any(|span| span.phase == Phase::Stop);
        let ends_a_core = stop || spans.iter().any(|span| span.last);
        if !Progress::is_partial(seconds, self.options.tick, ends_a_core) {
            return Piece::Whole;
        }
        Piece::Partial(match (stop, last) {
            (true, _) => Cut::Stop,
            (false, true) => Cut::End,
            (false, false) => Cut::CoreStop,
        })
    }
}

/// One interval's point, `run` the run's figures so far (the interval's included).
fn interval_point(
    (interval, run): (&Merged, &Merged),
    elapsed_s: f64,
    seconds: f64,
    (journeys_in_flight, target): (u64, u64),
    phase: crate::output::outcome::IntervalPhase,
) -> IntervalPoint {
    let total = interval.total();
    // The interval's percentiles are its detail's: requests answered once the run has answered
    // one (none, and no figure, in an interval where every request failed).
    let detail = IntervalDetail::of_in_run(interval, run, target);
    let (p50_us, p99_us) = detail.all.map_or((0, 0), |all| (all.p50_us, all.p99_us));
    IntervalPoint {
        elapsed_s,
        requests: total.requests(),
        errors: total.req_errors(),
        not_sent: total.not_sent,
        transactions: total.transactions(),
        rps: total.requests() as f64 / seconds,
        seconds,
        p50_us,
        p99_us,
        journeys_in_flight,
        detail,
        lag_p99_us: interval.injector.lag_at(0.99),
        busy_percent_max: interval.injector.busy_percent_max,
        saturated: interval.injector.saturated(p50_us),
        phase,
        folded: Vec::new(),
    }
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Waits for a synchronised start, saying so, and giving up on Ctrl-C.
fn wait_until(at: SystemTime, stop: &AtomicBool, report: &mut Reporter<'_>) -> Result<(), RunError> {
    let wait = match at.duration_since(SystemTime::now()) {
        Ok(wait) => wait,
        Err(passed) if passed.duration() > crate::limits::START_AT_BEHIND_MAX => {
            return Err(RunError::StartLongPast { seconds: passed.duration().as_secs_f64() });
        }
        Err(passed) => {
            report(&RunEvent::StartTimePassed(passed.duration()));
            return Ok(());
        }
    };
    if wait > crate::limits::START_AT_AHEAD_MAX {
        return Err(RunError::StartTooFar { seconds: wait.as_secs_f64() });
    }
    report(&RunEvent::WaitingForStart(wait));
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if stop.load(Ordering::Relaxed) {
            return Err(RunError::InterruptedBeforeStart);
        }
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(50)));
    }
    Ok(())
}

/// Runs one journey once per row (or once when `rows` gives none) on the current thread, reporting
/// each journey's start and end (and the trace its transactions, messages and requests print).
/// Returns the merged stats. Of `options`, the HTTP and TLS settings and the driver are used.
/// Once `stop` is set, the journey in flight is cancelled (counted as cancelled, its requests
/// in flight as `cancelled` errors) and the rows left are not run. Rows are taken one at a time
/// as the journeys start (a datapool's range is never built ahead).
pub fn journey_test(
    registry: &Registry,
    journey_name: &str,
    rows: impl IntoIterator<Item = Row>,
    config: Config,
    options: &RunOptions,
    stop: &AtomicBool,
    report: &mut Reporter<'_>,
) -> Result<(Merged, Driver), RunError> {
    let journey = registry.find_journey(journey_name)?;
    check_http(&options.http)?;
    let tls = crate::http::tls::client_config(&options.tls)?;
    if options.tls.insecure {
        report(&RunEvent::Warning(INSECURE_WARNING));
    }
    let (mut runtime, fallback) = CoreRuntime::build(options.driver)?;
    let http = options.http.clone();
    if let Some(reason) = fallback {
        report(&RunEvent::DriverFallback { core: None, reason: &reason });
    }
    let driver = runtime.driver();
    let test = std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async move {
            let client = HttpClient::new(Arc::new(http), Some(tls));
            let trace = TraceBuffer::default();
            let shard = Rc::new(Shard::new(0, 1, Arc::new(config), client, Instant::now()).with_trace(trace.sink()));
            let mut rows = rows.into_iter().peekable();
            let once = rows.peek().is_none().then(Row::empty);
            let numbered = once.is_none();
            for (i, row) in once.into_iter().chain(rows).enumerate() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                report(&RunEvent::JourneyStarted { journey: journey_name, row: numbered.then_some(i + 1), args: &row });
                let ctx = Ctx::new(shard.clone(), journey_name);
                shard.stats.borrow_mut().journeys.started += 1;
                let started = Instant::now();
                let mut emit = |depth, line: &str| report(&RunEvent::Trace { depth, line });
                let result = until_stopped(trace.run(journey.run_once(&ctx, row), &mut emit), stop).await;
                let took = started.elapsed();
                let Some(result) = result else {
                    let mut stats = shard.stats.borrow_mut();
                    stats.cancel_in_flight();
                    stats.journeys.cancelled += 1;
                    drop(stats);
                    report(&RunEvent::JourneyInterrupted { took });
                    break;
                };
                report(&RunEvent::JourneyEnded {
                    took,
                    error: result.as_ref().err().map(|e| e as &dyn std::fmt::Display),
                });
                record_journey(&shard, journey_name, &result);
            }
            let snapshot = shard.stats.borrow_mut().take_snapshot(0, 0.0, 0, true);
            let mut merged = Merged::default();
            merged.add(&snapshot);
            merged
        })
    });
    // A panic in the journey ends the test there, said in a line (the hook printed where).
    let merged = std::panic::catch_unwind(test).map_err(|payload| RunError::JourneyPanicked {
        journey: journey_name.to_string(),
        message: panic_message(payload.as_ref()),
    })?;
    Ok((merged, driver))
}

/// `work`'s output, or `None` once `stop` is set (looked at every `CORE_POLL_INTERVAL`):
/// `work` is then dropped unfinished.
async fn until_stopped<T>(work: impl std::future::Future<Output = T>, stop: &AtomicBool) -> Option<T> {
    use std::task::Poll;
    let mut work = std::pin::pin!(work);
    let mut watch = std::pin::pin!(async {
        while !stop.load(Ordering::Relaxed) {
            crate::driver::pause(crate::limits::CORE_POLL_INTERVAL).await;
        }
    });
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        watch.as_mut().poll(cx).map(|()| None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Snapshot;

    /// A synchronised start more than a day ago is refused, not run "late" by decades; one
    /// passed by less starts at once, said; one more than a day ahead is refused.
    #[test]
    fn a_start_long_past_or_far_ahead_is_refused() {
        let (stop, mut said) = (AtomicBool::new(false), Vec::new());
        let mut report = |event: &RunEvent<'_>| said.push(event.to_string());
        let day = crate::limits::START_AT_BEHIND_MAX;
        let long_ago = SystemTime::now() - day - Duration::from_secs(60);
        let err = wait_until(long_ago, &stop, &mut report).unwrap_err();
        assert!(matches!(err, RunError::StartLongPast { seconds } if seconds > 86_400.0), "{err}");
        assert!(err.to_string().ends_with("ago; more than a day ago is refused"), "{err}");
        let lately = SystemTime::now() - Duration::from_secs(5);
        assert!(wait_until(lately, &stop, &mut report).is_ok());
        assert!(matches!(
            wait_until(SystemTime::now() + day * 2, &stop, &mut report),
            Err(RunError::StartTooFar { .. })
        ));
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].starts_with("WARNING: the start time (--start-at) passed 5"), "{said:?}");
    }

    /// A header-field limit the parser has no slots for is refused by a run and by a journey
    /// test, before anything starts, never capped in silence.
    #[test]
    fn a_header_field_limit_past_the_parser_s_slots_is_refused() {
        async fn idle(_ctx: &Ctx, _row: Row) -> crate::journey::JourneyResult {
            Ok(())
        }
        let mut registry = Registry::default();
        registry.journey("t:idle", idle);
        let max = crate::limits::RESPONSE_HEADERS_MAX;
        for asked in [0, max + 1, usize::MAX] {
            let mut options = RunOptions { duration: Some(Duration::from_millis(50)), ..RunOptions::default() };
            options.http.limits.headers_count_max = asked;
            let entry = crate::journey::ScenarioEntry {
                journey: "t:idle".into(),
                datapool: None,
                volume: crate::model::volume::VolumeModel::constant(1),
            };
            let scenario = Scenario { name: "s".into(), entries: vec![entry], config: Config::default() };
            let err = run_scenario(&registry, scenario, Config::default(), &options, Arc::default(), &mut |_| {})
                .unwrap_err();
            assert!(matches!(err, RunError::HeadersCount { asked: a, max: m } if a == asked && m == max), "{err}");
            assert_eq!(
                err.to_string(),
                format!(
                    "the header-field limit ({asked}, RunOptions::http.limits.headers_count_max) must be from 1 to \
                     {max} header fields per response"
                )
            );
            let stop = AtomicBool::new(false);
            let err = journey_test(&registry, "t:idle", [], Config::default(), &options, &stop, &mut |_| {})
                .map(|_| ())
                .unwrap_err();
            assert!(matches!(err, RunError::HeadersCount { .. }), "{err}");
        }
    }

    /// `RunOptions::grace_cut` raised during a long grace ends it at once: the journey still in
    /// flight is cancelled and counted, and the run returns its result (it waited the
    /// journey's 20 s, inside the grace of 30 s).
    #[test]
    fn a_cut_grace_ends_at_once_and_the_result_is_made() {
        async fn long_think(_ctx: &Ctx, _row: Row) -> crate::journey::JourneyResult {
            crate::driver::sleep(Duration::from_secs(20)).await;
            Ok(())
        }
        let mut registry = Registry::default();
        registry.journey("t:long", long_think);
        let options = RunOptions {
            duration: Some(Duration::from_millis(200)),
            grace: Duration::from_secs(30),
            pin: false,
            ..RunOptions::default()
        };
        let entry = crate::journey::ScenarioEntry {
            journey: "t:long".into(),
            datapool: None,
            volume: crate::model::volume::VolumeModel::constant(1),
        };
        let scenario = Scenario { name: "s".into(), entries: vec![entry], config: Config::default() };
        let cut = options.grace_cut.clone();
        let started = Instant::now();
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(600));
                cut.store(true, Ordering::SeqCst);
            });
            run_scenario(&registry, scenario, Config::default(), &options, Arc::default(), &mut |_| {}).unwrap()
        });
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "the grace was not cut: {took:?}");
        assert!(took >= Duration::from_millis(600), "ended before the cut: {took:?}");
        assert_eq!((result.merged.journeys.started, result.merged.journeys.cancelled), (1, 1));
    }

    /// What the stats thread prints for `snapshots` from two cores (1 s tick), in order.
    fn lines_of(snapshots: Vec<Snapshot>) -> Vec<String> {
        collected(snapshots).0
    }

    /// What the stats thread prints and keeps in its timeline for `snapshots` from two cores
    /// (1 s tick).
    fn collected(snapshots: Vec<Snapshot>) -> (Vec<String>, Vec<IntervalPoint>) {
        let options = RunOptions { cores: vec![0, 1], tick: Duration::from_secs(1), ..RunOptions::default() };
        let (stop, mut lines) = (AtomicBool::new(false), Vec::new());
        let mut report = |event: &RunEvent<'_>| {
            if let RunEvent::Interval(progress) = event {
                lines.push(progress.to_string());
            }
        };
        let live = LiveRun {
            scenario: "s",
            cores: &options.cores,
            segment: None,
            tick: options.tick,
            duration: options.tick,
            tls_verified: true,
        };
        let sinks = Sinks { hdr_log: None, exporter: None, live };
        let mut collector =
            Collector::new(&options, (Instant::now(), Duration::from_secs(60)), &stop, &mut report, sinks);
        for snapshot in snapshots {
            collector.snapshot(snapshot);
            collector.close_complete_intervals().unwrap();
        }
        let intervals = std::mem::take(&mut collector.intervals);
        drop(collector);
        (lines, intervals)
    }

    /// The grace's few milliseconds, folded into the run's last interval, gave it the grace's
    /// end as its journeys: 0 in flight of a target of 0, a chart falling from 16 to 0 over a
    /// second that ran 16 journeys throughout. A folded grace keeps the interval's figures as
    /// of the stop; a piece up to the stop, folded in, brings its own (the load ran to it).
    #[test]
    fn a_folded_grace_keeps_the_journeys_in_flight_at_the_stop() {
        let piece = |core, tick, phase, elapsed_s, (journeys_in_flight, journeys_target), last| Snapshot {
            core,
            tick,
            phase,
            elapsed_s,
            journeys_in_flight,
            journeys_target,
            last,
            ..Snapshot::default()
        };
        let (_, intervals) = collected(vec![
            piece(0, 0, Phase::Run, 1.0, (16, 16), false),
            piece(1, 0, Phase::Run, 1.0, (16, 16), false),
            piece(0, 1, Phase::Run, 2.0, (16, 16), false),
            piece(1, 1, Phase::Run, 2.0, (16, 16), false),
            piece(0, 2, Phase::Stop, 2.3, (15, 16), false),
            piece(1, 2, Phase::Stop, 2.3, (14, 16), false),
            piece(0, 2, Phase::Grace, 2.35, (0, 0), true),
            piece(1, 2, Phase::Grace, 2.36, (0, 0), true),
        ]);
        let gauges: Vec<_> =
            intervals.iter().map(|p| (p.elapsed_s, p.journeys_in_flight, p.detail.journeys_target)).collect();
        assert_eq!(gauges, [(1.0, 32, 32), (2.36, 29, 32)], "{intervals:#?}");
        let folded: Vec<_> = intervals[1].folded.iter().map(|f| f.phase).collect();
        use crate::output::outcome::IntervalPhase;
        assert_eq!(folded, [IntervalPhase::Stop, IntervalPhase::Grace]);
    }

    /// An interrupt seen by core 1 just before the tick at 5 s and by core 0 just after it: core
    /// 1's first piece of grace (target 0) came before core 0's piece up to its stop, and that
    /// line read `in flight 6 of 3`, core 1's gauge taken from its later snapshot.
    #[test]
    fn a_line_s_journeys_in_flight_are_the_cores_at_that_interval() {
        let piece = |core, tick, phase, elapsed_s, journeys_target| Snapshot {
            core,
            tick,
            phase,
            elapsed_s,
            journeys_in_flight: 3,
            journeys_target,
            ..Snapshot::default()
        };
        let lines = lines_of(vec![
            piece(0, 4, Phase::Run, 5.0, 3),
            piece(1, 4, Phase::Stop, 4.99, 3),
            piece(1, 4, Phase::Grace, 5.6, 0),
            piece(0, 5, Phase::Stop, 5.01, 3),
        ]);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines[0].contains("in flight 6 of 6"), "{lines:#?}");
        assert!(lines[1].contains("partial") && lines[1].contains("to the stop"), "{lines:#?}");
        assert!(lines[1].contains("in flight 6 of 6"), "{lines:#?}");
    }
}
