//! A run from start to finish: resolve the scenario, start one pinned thread per core, and act
//! as the one stats thread: merge interval snapshots, report progress, collect the result.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::exec::runtime::{CoreEvent, CorePlan, CoreRuntime, Driver, DriverChoice, record_journey, run_core};
use crate::exec::shard::Shard;
use crate::http::{HttpClient, HttpSettings, TlsOptions};
use crate::journey::{Ctx, Registry, Scenario};
use crate::limits::{DURATION_DEFAULT, DURATION_MAX, STATS_QUEUE_PER_CORE, STOP_GRACE_DEFAULT, TICK_DEFAULT};
use crate::model::config::Config;
use crate::model::datapool::Row;
use crate::output::exposition::Exporter;
use crate::output::hdr_log::HdrLog;
use crate::stats::Merged;

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
    /// Serve Prometheus exposition on this address.
    pub prometheus: Option<SocketAddr>,
    /// Keep serving the final exposition this long after the run, for a last scrape.
    pub prometheus_linger: Duration,
    /// The live dashboard, updated once per interval.
    pub dashboard: Option<Arc<crate::output::html::dashboard::Dashboard>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            cores: vec![0],
            duration: None,
            tick: TICK_DEFAULT,
            grace: STOP_GRACE_DEFAULT,
            driver: DriverChoice::Auto,
            http: HttpSettings::default(),
            tls: TlsOptions::default(),
            pin: true,
            segment: (0, 1),
            start_at: None,
            hdr_log: None,
            prometheus: None,
            prometheus_linger: Duration::from_secs(5),
            dashboard: None,
        }
    }
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The duration elapsed.
    Duration,
    /// Every volume model stopped or every datapool ran out.
    Completed,
    /// Ctrl-C (or the stop flag).
    Interrupted,
}

impl StopReason {
    /// Name used in results.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Duration => "duration",
            StopReason::Completed => "completed",
            StopReason::Interrupted => "interrupted",
        }
    }
}

/// One progress interval, merged across cores.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct IntervalPoint {
    /// Seconds since start at the end of the interval.
    pub elapsed_s: f64,
    /// Requests completed in the interval.
    pub requests: u64,
    /// Attempts failed in the interval (sent or not).
    pub errors: u64,
    /// Attempts that failed before a byte was written, in the interval (not in `requests`).
    pub not_sent: u64,
    /// Transactions completed in the interval.
    pub transactions: u64,
    /// Requests per second over the interval.
    pub rps: f64,
    /// Median latency of the interval (requests, or transactions when there were none), µs.
    pub p50_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Journeys in flight at the end of the interval, all cores.
    pub journeys_in_flight: u64,
    /// What the report draws over time (errors by kind, percentiles per transaction, ...).
    pub detail: crate::output::timeline::IntervalDetail,
    /// The injector's own event-loop lag at p99 over the interval, µs (0: not measured).
    pub lag_p99_us: u64,
    /// The busiest core's CPU share over the interval, percent.
    pub busy_percent_max: f64,
    /// The injector was saturated: a core busy at least 95 %, or its lag a significant share
    /// of the latencies it reports (`injector_load::InjectorLoad::saturated`).
    pub saturated: bool,
}

/// Everything a run measured.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Scenario name.
    pub scenario: String,
    /// Core ids used.
    pub cores: Vec<usize>,
    /// Driver per core.
    pub drivers: Vec<Driver>,
    /// Why io_uring was not used, per core that fell back.
    pub fallbacks: Vec<String>,
    /// Wall-clock start, seconds since the Unix epoch.
    pub started_at_unix_s: f64,
    /// Measured length of the run.
    pub duration_s: f64,
    /// Why it ended.
    pub stopped_by: StopReason,
    /// All statistics merged.
    pub merged: Merged,
    /// Progress over time.
    pub intervals: Vec<IntervalPoint>,
    /// Execution segment `k/n` when the run was one of several injectors.
    pub segment: Option<String>,
}

impl RunResult {
    /// The driver, or `mixed` when cores differ.
    pub fn driver_name(&self) -> &'static str {
        let kinds: BTreeSet<&str> = self.drivers.iter().map(|d| d.name()).collect();
        match kinds.len() {
            1 => kinds.into_iter().next().unwrap_or("none"),
            0 => "none",
            _ => "mixed",
        }
    }
}

/// A run that could not start or finish.
#[derive(Debug)]
pub struct RunError(pub String);

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunError {}

/// Layers configuration: scenario defaults, then `MITE_CONF_*`, then `--config` overrides.
pub fn layered_config(scenario: &Config, overrides: &[String]) -> Result<Config, RunError> {
    let mut config = scenario.clone();
    config.apply_env(std::env::vars());
    config.apply_overrides(overrides).map_err(|e| RunError(e.to_string()))?;
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
        return Err(RunError(format!("duration {duration:?} must be between 1ms and {DURATION_MAX:?}")));
    }
    Ok(duration)
}

/// Runs `scenario` (already built, with `config` layered) and returns its results. `progress`
/// receives one line per interval and notices (driver, fallbacks).
pub fn run_scenario(
    registry: &Registry,
    scenario: Scenario,
    config: Config,
    options: &RunOptions,
    stop: Arc<AtomicBool>,
    progress: &mut dyn FnMut(&str),
) -> Result<RunResult, RunError> {
    if scenario.entries.is_empty() {
        return Err(RunError(format!("scenario {:?} has no entries", scenario.name)));
    }
    let mut journeys = Vec::new();
    for (i, entry) in scenario.entries.iter().enumerate() {
        journeys.push(
            registry.find_journey(&entry.journey).map_err(|e| RunError(format!("scenario entry {}: {e}", i + 1)))?,
        );
        entry
            .volume
            .validate()
            .and_then(|()| entry.volume.validate_split(options.cores.len() * options.segment.1))
            .map_err(|e| RunError(format!("scenario entry {} ({}): volume model: {e}", i + 1, entry.journey)))?;
    }
    if options.cores.is_empty() {
        return Err(RunError("no cores selected".into()));
    }
    if options.tick < crate::limits::TICK_MIN {
        return Err(RunError(format!("tick {:?}: must be at least {:?}", options.tick, crate::limits::TICK_MIN)));
    }
    let duration = run_duration(&scenario, options)?;
    for warning in crate::scenario::preflight::warnings(&scenario, options.cores.len() * options.segment.1) {
        progress(&format!("WARNING: {warning}"));
    }
    let tls = crate::http::tls::client_config(&options.tls).map_err(|e| RunError(e.0))?;
    if options.tls.insecure {
        progress("WARNING: --insecure: TLS certificates are NOT verified");
    }
    let (k, n) = options.segment;
    if n == 0 || k >= n {
        return Err(RunError(format!("segment {k}/{n}: expected K/N with 0 <= K < N")));
    }
    let mut hdr_log = match &options.hdr_log {
        Some(path) => {
            Some(HdrLog::create(path, unix_now()).map_err(|e| RunError(format!("--hdr-log {}: {e}", path.display())))?)
        }
        None => None,
    };
    let exporter = match options.prometheus {
        Some(addr) => {
            let exporter = Exporter::start(addr).map_err(|e| RunError(format!("--prometheus {addr}: {e}")))?;
            progress(&format!("Prometheus metrics on http://{}/metrics", exporter.addr()));
            Some(exporter)
        }
        None => None,
    };
    if let Some(at) = options.start_at {
        wait_until(at, &stop, progress)?;
    }
    let cores = options.cores.len();
    let plan = Arc::new(CorePlan {
        journeys,
        entries: scenario.entries.clone(),
        config: Arc::new(config),
        http: Arc::new(options.http.clone()),
        tls: Some(tls),
        tick: options.tick,
        duration,
        grace: options.grace,
        driver: options.driver,
        cores,
        segment: options.segment,
    });
    let (events_tx, events) = sync_channel::<CoreEvent>(STATS_QUEUE_PER_CORE * cores);
    let started = Instant::now();
    let started_at_unix_s = unix_now();
    let mut threads = Vec::new();
    for (index, &core_id) in options.cores.iter().enumerate() {
        let plan = plan.clone();
        let stop = stop.clone();
        let events_tx = events_tx.clone();
        let pin = options.pin;
        let thread = std::thread::Builder::new()
            .name(format!("mite-core-{core_id}"))
            .spawn(move || {
                // Pin before the runtime (and its ring) is built, so its memory is local.
                if pin && !core_affinity::set_for_current(core_affinity::CoreId { id: core_id }) {
                    let _ = events_tx
                        .send(CoreEvent::Failed { core: index, error: format!("could not pin to core {core_id}") });
                    return;
                }
                run_core(plan, index, started, stop, events_tx);
            })
            .map_err(|e| RunError(format!("starting core thread {core_id}: {e}")))?;
        threads.push(thread);
    }
    drop(events_tx);
    let sinks = Sinks { hdr_log: hdr_log.as_mut(), exporter: exporter.as_ref(), scenario: &scenario.name, duration };
    let outcome = collect(&events, cores, options, duration, &stop, progress, sinks);
    if outcome.is_err() {
        stop.store(true, Ordering::Relaxed);
    }
    for thread in threads {
        let _ = thread.join();
    }
    let (merged, intervals, drivers, fallbacks, interrupted) = outcome?;
    // The run's length is the load's: waits after the stop (the linger below) are not in it.
    let elapsed = started.elapsed();
    if let Some(exporter) = &exporter {
        // The last interval's exposition holds the final totals; give scrapers a chance at it.
        exporter.publish(crate::output::exposition::render(&merged, 0, 0));
        linger(options.prometheus_linger, &stop, progress);
    }
    let stopped_by = if interrupted {
        StopReason::Interrupted
    } else if elapsed + Duration::from_millis(100) >= duration {
        StopReason::Duration
    } else {
        StopReason::Completed
    };
    Ok(RunResult {
        scenario: scenario.name,
        cores: options.cores.clone(),
        drivers,
        fallbacks,
        started_at_unix_s,
        duration_s: elapsed.as_secs_f64().min(duration.as_secs_f64() + options.grace.as_secs_f64()),
        stopped_by,
        merged,
        intervals,
        segment: (options.segment.1 > 1).then(|| format!("{}/{}", options.segment.0, options.segment.1)),
    })
}

type Collected = (Merged, Vec<IntervalPoint>, Vec<Driver>, Vec<String>, bool);

/// The stats thread's loop: merge snapshots, print a line per interval, until every core has
/// sent its last snapshot.
#[allow(clippy::too_many_arguments)]
fn collect(
    events: &std::sync::mpsc::Receiver<CoreEvent>,
    cores: usize,
    options: &RunOptions,
    duration: Duration,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&str),
    mut sinks: Sinks<'_>,
) -> Result<Collected, RunError> {
    let mut drivers = vec![None; cores];
    let mut fallbacks = Vec::new();
    let mut merged = Merged::default();
    let mut in_flight = vec![0u64; cores];
    let mut targets = vec![0u64; cores];
    let mut finished = vec![false; cores];
    let mut last_tick: Vec<Option<u64>> = vec![None; cores];
    // Intervals wait here until every core has reported them, so that a core whose snapshot
    // is late (a busy core) does not make one interval look empty and the next one doubled.
    let mut pending: BTreeMap<u64, (Merged, f64)> = BTreeMap::new();
    let mut intervals = Vec::new();
    let mut last_elapsed_s = 0.0f64;
    // The last interval and where it started, kept so that a short final one can be folded in.
    let mut previous: Option<(Merged, f64)> = None;
    let mut announced = false;
    let mut interrupted = false;
    while finished.iter().any(|f| !f) || !pending.is_empty() {
        match events.recv_timeout(options.tick) {
            Ok(CoreEvent::Started { core, driver, fallback }) => {
                drivers[core] = Some(driver);
                if let Some(reason) = fallback {
                    progress(&format!("core {}: {reason}", options.cores[core]));
                    fallbacks.push(format!("core {}: {reason}", options.cores[core]));
                }
                if !announced && drivers.iter().all(Option::is_some) {
                    announced = true;
                    let names: BTreeSet<&str> = drivers.iter().flatten().map(|d| d.name()).collect();
                    progress(&format!(
                        "running on cores {:?} with {} for up to {:.1}s",
                        options.cores,
                        names.into_iter().collect::<Vec<_>>().join("+"),
                        duration.as_secs_f64()
                    ));
                }
            }
            Ok(CoreEvent::Failed { core, error }) => {
                return Err(RunError(format!("core {}: {error}", options.cores[core])));
            }
            Ok(CoreEvent::Snapshot(snapshot)) => {
                let core = snapshot.core;
                in_flight[core] = if snapshot.last { 0 } else { snapshot.journeys_in_flight };
                targets[core] = if snapshot.last { 0 } else { snapshot.journeys_target };
                let (interval, elapsed_s) = pending.entry(snapshot.tick).or_default();
                interval.add(&snapshot);
                *elapsed_s = elapsed_s.max(snapshot.elapsed_s);
                last_tick[core] = Some(snapshot.tick);
                if snapshot.last {
                    finished[core] = true;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                if finished.iter().any(|f| !f) {
                    return Err(RunError("a core thread ended without reporting its results".into()));
                }
            }
        }
        if stop.load(Ordering::Relaxed) {
            interrupted = true;
        }
        while let Some((&tick, _)) = pending.first_key_value() {
            let complete = (0..cores).all(|c| finished[c] || last_tick[c].is_some_and(|t| t >= tick));
            if !complete {
                break;
            }
            let (interval, elapsed_s) = pending.pop_first().map(|(_, v)| v).expect("checked above");
            // Each snapshot is merged once, into its interval; the interval then joins the run.
            merged.merge(&interval);
            let seconds = (elapsed_s - last_elapsed_s).max(1e-3);
            if let Some(log) = sinks.hdr_log.as_deref_mut() {
                log.write_interval(&interval, last_elapsed_s, seconds)
                    .map_err(|e| RunError(format!("--hdr-log: {e}")))?;
            }
            if let Some(exporter) = sinks.exporter {
                exporter.publish(crate::output::exposition::render(
                    &merged,
                    in_flight.iter().sum(),
                    targets.iter().sum(),
                ));
            }
            let last = finished.iter().all(|f| *f) && pending.is_empty();
            let target = targets.iter().sum();
            match previous.as_mut() {
                // A final interval shorter than half a tick would show a rate from a handful of
                // requests over a few milliseconds: it is folded into the one before.
                Some((before, started_s)) if last && seconds < options.tick.as_secs_f64() / 2.0 => {
                    before.merge(&interval);
                    let span = (elapsed_s - *started_s).max(1e-3);
                    let mut point = interval_point(before, elapsed_s, span, in_flight.iter().sum());
                    point.detail = crate::output::timeline::IntervalDetail::of(before, target);
                    progress(&format!("{} (last {seconds:.2}s folded in)", progress_line(&point, target, span)));
                    intervals.pop();
                    intervals.push(point);
                }
                _ => {
                    let mut point = interval_point(&interval, elapsed_s, seconds, in_flight.iter().sum());
                    point.detail = crate::output::timeline::IntervalDetail::of(&interval, target);
                    progress(&progress_line(&point, target, seconds));
                    intervals.push(point);
                    previous = Some((interval, last_elapsed_s));
                }
            }
            crate::output::timeline::keep_bounded(&mut intervals);
            last_elapsed_s = elapsed_s;
            if let Some(dashboard) = &options.dashboard {
                let known: Vec<Driver> = drivers.iter().flatten().copied().collect();
                dashboard.publish_interval(sinks.scenario, options, sinks.duration, &known, &merged, &intervals);
            }
        }
    }
    let drivers = drivers.into_iter().map(|d| d.unwrap_or(Driver::Epoll)).collect();
    Ok((merged, intervals, drivers, fallbacks, interrupted))
}

fn interval_point(interval: &Merged, elapsed_s: f64, seconds: f64, journeys_in_flight: u64) -> IntervalPoint {
    let total = interval.total();
    let histogram = if total.req_us.is_empty() { &total.txn_us } else { &total.req_us };
    IntervalPoint {
        elapsed_s,
        requests: total.requests(),
        errors: total.req_errors(),
        not_sent: total.not_sent,
        transactions: total.transactions(),
        rps: total.requests() as f64 / seconds,
        p50_us: histogram.value_at_quantile(0.5),
        p99_us: histogram.value_at_quantile(0.99),
        journeys_in_flight,
        detail: Default::default(),
        lag_p99_us: interval.injector.lag_at(0.99),
        busy_percent_max: interval.injector.busy_percent_max,
        saturated: interval.injector.saturated(histogram.value_at_quantile(0.5)),
    }
}

fn progress_line(point: &IntervalPoint, target: u64, seconds: f64) -> String {
    let per_s = |n: u64| crate::output::report::grouped((n as f64 / seconds).round() as u64);
    format!(
        "[{:>7.1}s] ok {:>9}/s  err {:>7}/s  {:>8} txn  p50 {:>8}  p99 {:>8}  in flight {} of {}{}  lag {} cpu {:.0}%{}",
        point.elapsed_s,
        // attempts = requests + not_sent = ok + errors; `err` counts every failed attempt, as
        // `errors` does in the result file, and those never sent are also shown apart.
        per_s((point.requests + point.not_sent).saturating_sub(point.errors)),
        per_s(point.errors),
        crate::output::report::grouped(point.transactions),
        crate::output::report::ms(point.p50_us),
        crate::output::report::ms(point.p99_us),
        point.journeys_in_flight,
        target,
        // Failures before a byte was written are not requests: shown apart, not in req/s.
        if point.not_sent > 0 {
            format!("  not sent {}", crate::output::report::grouped(point.not_sent))
        } else {
            String::new()
        },
        crate::output::report::short_us(point.lag_p99_us),
        point.busy_percent_max,
        if point.saturated { "  INJECTOR SATURATED" } else { "" }
    )
}

/// Where interval data goes besides the progress line.
struct Sinks<'a> {
    hdr_log: Option<&'a mut HdrLog>,
    exporter: Option<&'a Exporter>,
    scenario: &'a str,
    duration: Duration,
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Keeps the final metrics served for `linger`, cut short by an interrupt (a pod being
/// terminated should not spend its grace period here).
fn linger(linger: Duration, stop: &AtomicBool, progress: &mut dyn FnMut(&str)) {
    if linger.is_zero() || stop.load(Ordering::Relaxed) {
        return;
    }
    progress(&format!("serving final metrics for {linger:?}"));
    let deadline = Instant::now() + linger;
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(50)));
    }
}

/// Waits for a synchronised start, saying so, and giving up on Ctrl-C.
fn wait_until(at: SystemTime, stop: &AtomicBool, progress: &mut dyn FnMut(&str)) -> Result<(), RunError> {
    let Ok(wait) = at.duration_since(SystemTime::now()) else {
        progress("start time is in the past: starting now");
        return Ok(());
    };
    if wait > Duration::from_secs(24 * 3600) {
        return Err(RunError(format!("start time is {:.0}s away; more than a day is refused", wait.as_secs_f64())));
    }
    progress(&format!("waiting {:.1}s for the synchronised start", wait.as_secs_f64()));
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if stop.load(Ordering::Relaxed) {
            return Err(RunError("interrupted before the start".into()));
        }
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(50)));
    }
    Ok(())
}

/// Runs one journey once per row (or once without a datapool) on the current thread, printing
/// a readable trace of every transaction, message and request. Returns the merged stats.
pub fn journey_test(
    registry: &Registry,
    journey_name: &str,
    rows: Vec<Row>,
    config: Config,
    http: HttpSettings,
    tls: &TlsOptions,
    driver: DriverChoice,
) -> Result<(Merged, Driver), RunError> {
    let journey = registry.find_journey(journey_name).map_err(|e| RunError(e.to_string()))?;
    let tls = crate::http::tls::client_config(tls).map_err(|e| RunError(e.0))?;
    let (mut runtime, fallback) = CoreRuntime::build(driver).map_err(RunError)?;
    if let Some(reason) = fallback {
        println!("{reason}");
    }
    let driver = runtime.driver();
    let merged = runtime.block_on(async move {
        let client = HttpClient::new(Arc::new(http), Some(tls));
        let shard = Rc::new(Shard::new(0, 1, Arc::new(config), client, true, Instant::now()));
        let rows = if rows.is_empty() { vec![Row::empty()] } else { rows };
        for row in rows {
            println!("journey {journey_name} args {row:?}");
            let ctx = Ctx::new(shard.clone(), journey_name);
            shard.stats.borrow_mut().journeys.started += 1;
            let started = Instant::now();
            let result = journey.run_once(&ctx, row).await;
            let took = started.elapsed();
            match &result {
                Ok(()) => println!("journey ok in {:.2} ms", took.as_secs_f64() * 1e3),
                Err(err) => println!("journey FAILED in {:.2} ms: {err}", took.as_secs_f64() * 1e3),
            }
            record_journey(&shard, journey_name, &result);
        }
        let snapshot = shard.stats.borrow_mut().take_snapshot(0, 0.0, 0, true);
        let mut merged = Merged::default();
        merged.add(&snapshot);
        merged
    });
    Ok((merged, driver))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11: during an outage the progress line showed tens of thousands of "req/s" that
    /// no server saw; attempts that were never sent are now shown apart.
    #[test]
    fn progress_line_shows_attempts_not_sent_apart() {
        let point = IntervalPoint {
            elapsed_s: 1.0,
            requests: 10,
            errors: 6_004,
            not_sent: 6_000,
            transactions: 6_010,
            journeys_in_flight: 2,
            ..IntervalPoint::default()
        };
        // Before, `ok` was `requests - errors`: an overflow when attempts were not sent.
        let line = progress_line(&point, 2, 1.0);
        // `err` counts every failed attempt, as `errors` does in the result file.
        assert!(line.contains("ok         6/s") && line.contains("err   6,004/s"), "{line}");
        assert!(line.contains("in flight 2 of 2  not sent 6,000"), "{line}");
        let quiet = progress_line(&IntervalPoint { not_sent: 0, errors: 4, ..point }, 2, 1.0);
        assert!(!quiet.contains("not sent"), "{quiet}");
    }

    /// Issue 16: an interval whose only failures were never sent (a refused port) has more
    /// errors than requests; the progress line must say so, not underflow.
    #[test]
    fn progress_line_with_failures_that_were_never_sent() {
        let point = IntervalPoint {
            elapsed_s: 1.0,
            requests: 0,
            errors: 5,
            not_sent: 5,
            transactions: 5,
            journeys_in_flight: 2,
            ..IntervalPoint::default()
        };
        let line = progress_line(&point, 4, 1.0);
        assert!(line.contains("ok         0/s") && line.contains("err       5/s"), "{line}");
        assert!(line.contains("in flight 2 of 4") && line.contains("not sent 5"), "{line}");
        let sent = IntervalPoint { requests: 10, errors: 3, not_sent: 1, ..point };
        let line = progress_line(&sent, 4, 2.0);
        assert!(line.contains("ok         4/s") && line.contains("err       2/s"), "{line}");
    }
}
