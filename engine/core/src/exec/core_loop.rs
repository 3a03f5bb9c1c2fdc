//! One core's run: build its state (HTTP client, TLS session cache, shard, entries), start the
//! arrival schedulers, tick the closed volume models (starting or retiring journey slots) and
//! send a stats snapshot every interval, then stop gracefully (the grace reported in pieces of
//! its own when journeys are in flight at the stop) and send the last one.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use crate::driver::{CoreRuntime, Driver, DriverChoice, pause, spawn};
use crate::exec::arrivals::instant_at;
use crate::exec::injector_load::{BusyPieces, LAG_PROBE_INTERVAL, Stamped, WakeStamp};
use crate::exec::run_stop::RunStop;
use crate::exec::scheduler::{Arrivals, schedule_arrivals};
use crate::http::{HttpClient, HttpSettings};
use crate::journey::shard::Shard;
use crate::journey::slot::{EntryState, Slot};
use crate::journey::{Journey, ScenarioEntry};
use crate::limits::{CORE_POLL_INTERVAL, GRACE_POLL_INTERVAL, JOURNEYS_PER_CORE_MAX, TLS_SESSIONS_PER_CORE};
use crate::model::config::Config;
use crate::model::datapool::{CoreShards, PoolShard};
use crate::model::split::segment_share;
use crate::model::volume::VolumeModel;
use crate::stats::{Phase, Snapshot};

/// What a core reports to the stats thread.
pub enum CoreEvent {
    /// The runtime started.
    Started {
        /// Core position in the run.
        core: usize,
        /// Driver in use.
        driver: Driver,
        /// Why io_uring was not used, when it fell back.
        fallback: Option<String>,
    },
    /// The core could not start.
    Failed {
        /// Core position in the run.
        core: usize,
        /// Why.
        error: String,
    },
    /// Interval statistics (boxed: one per core per interval, and far larger than the other
    /// events).
    Snapshot(Box<Snapshot>),
    /// The core's entries have all finished (sent before its last snapshot): those whose
    /// single-use datapool ran out, by index into the scenario's entries; the others' volume
    /// models ended.
    Completed {
        /// Core position in the run.
        core: usize,
        /// The entries that ended because their single-use datapool ran out.
        ran_out: Vec<usize>,
    },
}

/// Everything a core needs to run its share, shared read-only by all cores.
pub struct CorePlan {
    /// Resolved journeys, one per scenario entry.
    pub journeys: Vec<Arc<dyn Journey>>,
    /// Scenario entries.
    pub entries: Vec<ScenarioEntry>,
    /// Configuration for `ctx.config()`.
    pub config: Arc<Config>,
    /// HTTP client settings.
    pub http: Arc<HttpSettings>,
    /// TLS configuration, when built.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Volume-model tick and stats interval.
    pub tick: Duration,
    /// Run length limit.
    pub duration: Duration,
    /// Grace for journeys in flight at stop.
    pub grace: Duration,
    /// Driver choice.
    pub driver: DriverChoice,
    /// Cores in the run (for splitting).
    pub cores: usize,
    /// This injector's execution segment `(k, n)`.
    pub segment: (usize, usize),
}

/// Runs core `index` of the plan to completion on the current (already pinned) thread.
pub fn run_core(
    plan: Arc<CorePlan>,
    index: usize,
    started: Instant,
    stop: Arc<RunStop>,
    events: SyncSender<CoreEvent>,
) {
    let (mut runtime, fallback) = match CoreRuntime::build(plan.driver) {
        Ok(built) => built,
        Err(error) => {
            let _ = events.send(CoreEvent::Failed { core: index, error: error.to_string() });
            return;
        }
    };
    let _ = events.send(CoreEvent::Started { core: index, driver: runtime.driver(), fallback });
    runtime.block_on(async move {
        let core = Core::new(plan, index, (started, &stop), events);
        let tick = core.run_until_stop(&stop).await;
        core.stop_gracefully(tick, &stop).await;
        // The slots' tasks hold the core's state, which must not hold them.
        let wakers = core.shard.slot_wakers.borrow_mut().take_all();
        drop(wakers);
    });
}

/// One scenario entry on this core: the state its slots share, its arrivals (open model), and
/// a handle on its datapool shard (shared with the core's other entries naming the same
/// single-use pool).
struct CoreEntry {
    state: Rc<EntryState>,
    arrivals: Option<Rc<Arrivals>>,
    pool: PoolShard,
}

impl CoreEntry {
    /// Whether the entry has ended on this core. An entry with no journey running learns
    /// here that its single-use rows ran out (another entry drew the last one): no slot of
    /// its own would ever ask for a row and find none.
    fn finished(&self) -> bool {
        if self.state.running.get() == 0 && self.pool.is_exhausted() {
            self.state.exhausted.set(true);
        }
        self.state.finished()
    }
}

/// One core's run.
struct Core {
    plan: Arc<CorePlan>,
    index: usize,
    started: Instant,
    /// Where this core's intervals are counted from: its first tick (when its journeys start),
    /// a few ms after the run's start. Interval i ends (i + 1) ticks after it.
    ticks_from: Instant,
    shard: Rc<Shard>,
    entries: Vec<CoreEntry>,
    events: SyncSender<CoreEvent>,
    /// When this core last reported, seconds since the start.
    reported_s: Cell<f64>,
    /// How this core's busy peak is judged, piece by piece.
    busy_pieces: RefCell<BusyPieces>,
    /// The core left its run because every entry had finished (not the deadline or a stop).
    completed: Cell<bool>,
}

impl Core {
    /// Builds the core's state and starts its lag probe and arrival schedulers.
    fn new(plan: Arc<CorePlan>, index: usize, run: (Instant, &Arc<RunStop>), events: SyncSender<CoreEvent>) -> Core {
        let (started, stop) = run;
        // Each core keeps its own TLS session cache: resumption never takes a lock across cores.
        let tls = plan.tls.as_ref().map(|config| {
            let mut config = (**config).clone();
            config.resumption = rustls::client::Resumption::in_memory_sessions(TLS_SESSIONS_PER_CORE);
            Arc::new(config)
        });
        let http = HttpClient::new(plan.http.clone(), tls);
        let shard = Rc::new(Shard::new(index, plan.cores, plan.config.clone(), http, started));
        shard.stats.borrow_mut().mark_busy_start();
        spawn(probe_lag(shard.clone()));
        let mut pools = CoreShards::default();
        let entries = plan.entries.iter().map(|entry| core_entry(&plan, entry, index, &mut pools)).collect();
        let reported_s = Cell::new(0.0);
        let completed = Cell::new(false);
        let busy_pieces = RefCell::default();
        let core = Core {
            plan,
            index,
            started,
            ticks_from: started,
            shard,
            entries,
            events,
            reported_s,
            busy_pieces,
            completed,
        };
        for (entry, journey) in core.entries.iter().zip(&core.plan.journeys) {
            if let Some(arrivals) = &entry.arrivals {
                let run = (started, core.plan.duration, stop.clone());
                let (shard, state) = (core.shard.clone(), entry.state.clone());
                spawn(schedule_arrivals(shard, state, arrivals.clone(), journey.clone(), run));
            }
        }
        // Every core's intervals end on the run's own ticks from its start, as its deadline
        // does: a core whose intervals began after its setup (a few ms, more on a loaded
        // machine) ended its last interval just after the deadline, and a core that drained
        // its journeys before that boundary put its grace in another interval than one that
        // drained after it (two grace lines at the same time).
        core
    }

    /// Ticks the volume models and sends a snapshot per interval until the duration, the stop
    /// flag, or every entry is done. Returns the next interval's index.
    async fn run_until_stop(&self, stop: &RunStop) -> u64 {
        let deadline = self.started + self.plan.duration;
        let (mut last_tick_s, mut tick_index, mut first_tick) = (0.0f64, 0u64, true);
        let mut next_tick = Instant::now();
        loop {
            let now = Instant::now();
            // A core woken late finds both its tick and the deadline past: when the deadline
            // came first (or with the tick, as it does when the duration is whole ticks), the
            // stop ends the interval (one line to the stop, not a tick's line
            // and then a few ms cut short by the stop).
            if !first_tick && now >= deadline && next_tick >= deadline {
                break;
            }
            if now >= next_tick {
                let now_s = now.duration_since(self.started).as_secs_f64();
                for (entry, (scenario_entry, journey)) in
                    self.entries.iter().zip(self.plan.entries.iter().zip(&self.plan.journeys))
                {
                    self.tick_entry(&entry.state, &scenario_entry.volume, journey, (last_tick_s, now_s));
                }
                last_tick_s = now_s;
                let boundaries = self.boundaries_passed(now);
                // The first tick starts the journeys; every later one closes an interval.
                if !std::mem::take(&mut first_tick) {
                    // Intervals are the run's, by the clock: interval i ends at (i + 1) ticks. A
                    // core that reaches its tick late (its thread held by the kernel or by a
                    // journey that blocks) reports once, for the latest interval that has ended,
                    // rather than a burst of empty ones it would label with the wrong times.
                    let ended = boundaries.saturating_sub(1).max(tick_index);
                    self.send_snapshot(ended, Phase::Run, false);
                    tick_index = ended + 1;
                }
                next_tick = self.ticks_from + self.plan.tick.saturating_mul(clamp_u32(boundaries + 1));
            }
            if stop.is_raised() || Instant::now() >= deadline {
                break;
            }
            if self.entries.iter().all(CoreEntry::finished) {
                self.completed.set(true);
                // A pool that ran out as its model ended (`journey run` of a one-row pool) did
                // not end the entry: the model did.
                let ran_out = (self.entries.iter().enumerate())
                    .filter(|(_, entry)| {
                        let state = &entry.state;
                        let once = state.arrivals.is_none() && !state.restarts;
                        let model_ended = state.stopped.get() || (once && state.started.get() >= state.target.get());
                        state.exhausted.get() && !model_ended
                    })
                    .map(|(i, _)| i)
                    .collect();
                let _ = self.events.send(CoreEvent::Completed { core: self.index, ran_out });
                break;
            }
            let until_tick = next_tick.saturating_duration_since(Instant::now());
            let until_deadline = deadline.saturating_duration_since(Instant::now());
            let until_model_end = self.until_a_rate_model_ends().unwrap_or(CORE_POLL_INTERVAL);
            pause(until_tick.min(until_deadline).min(until_model_end).min(CORE_POLL_INTERVAL)).await;
        }
        tick_index
    }

    /// How long until the next open-model entry still going reaches its rate model's end (and
    /// a millisecond more, for its scheduler to stop it first): the run that ends with it is
    /// seen to end then, not up to a poll later.
    fn until_a_rate_model_ends(&self) -> Option<Duration> {
        let end_s = self
            .entries
            .iter()
            .filter(|e| !e.state.stopped.get())
            .filter_map(|e| e.arrivals.as_ref()?.end_s())
            .fold(None, |min: Option<f64>, end_s| Some(min.map_or(end_s, |m| m.min(end_s))))?;
        let at = instant_at(self.started, end_s) + MODEL_END_SETTLE;
        Some(at.saturating_duration_since(Instant::now()))
    }

    /// Closed model: takes this core's share of the volume model's target for `(from_s, to_s)`,
    /// starting slots up to it (slots above it leave by themselves).
    fn tick_entry(&self, state: &Rc<EntryState>, volume: &VolumeModel, journey: &Arc<dyn Journey>, at: (f64, f64)) {
        if state.stopped.get() || state.exhausted.get() || state.arrivals.is_some() {
            return;
        }
        let Some(total) = volume.target(at.0, at.1) else {
            state.stopped.set(true);
            state.wake_row_waiters(usize::MAX);
            return;
        };
        let mine = segment_share(total, self.plan.segment, self.index, self.plan.cores).min(JOURNEYS_PER_CORE_MAX);
        if mine < state.target.get() {
            // Slots waiting for a row beyond the new target leave.
            state.wake_row_waiters(usize::MAX);
        }
        state.target.set(mine);
        let mut wanted = mine.saturating_sub(state.running.get());
        if !state.restarts {
            wanted = wanted.min(mine.saturating_sub(state.started.get()));
        }
        for _ in 0..wanted {
            state.running.set(state.running.get() + 1);
            journey.spawn_slot(Slot::new(self.shard.clone(), state.clone()));
        }
    }

    /// Graceful stop: no journey starts again; those in flight get the grace to finish, the
    /// rest are counted as cancelled, arrivals that never started as missed (or as left by an
    /// exhausted datapool). With journeys in
    /// flight, the piece of interval up to the stop is reported at once and the grace in
    /// pieces of its own (one per interval end it passes, one at its end); without, the one
    /// last snapshot covers the interval the stop fell in.
    async fn stop_gracefully(&self, tick_index: u64, stop: &RunStop) {
        let deadline = self.started + self.plan.duration;
        let stopped_at = Instant::now();
        // Arrivals that came due up to the stop (an interrupt's: the instant every core shares)
        // are requested, whether or not the scheduler woke for them; those that cannot start
        // now are counted as missed when the queue closes.
        let stop_s =
            stop.scheduled_until(stopped_at).min(deadline).saturating_duration_since(self.started).as_secs_f64();
        for entry in &self.entries {
            if let Some(arrivals) = &entry.arrivals
                && !entry.state.stopped.get()
                && !entry.state.exhausted.get()
            {
                arrivals.queue_due(&self.shard, self.started, stop_s);
            }
        }
        self.shard.stopping.set(true);
        for entry in &self.entries {
            entry.state.wake_row_waiters(usize::MAX);
            if let Some(arrivals) = &entry.arrivals {
                arrivals.wake(usize::MAX);
            }
        }
        // The interval the stop fell in: the deadline's, for a stop at the deadline (a few ms
        // before the tick that would have ended it, or after it when the core woke late: every
        // core's figures to the deadline go in one line).
        let stop_index = self.interval_of(stopped_at.min(deadline)).max(tick_index);
        let draining = self.entries.iter().any(|e| e.state.active.get() > 0);
        if draining {
            self.send_snapshot(stop_index, Phase::Stop, false);
        }
        let grace_index = self.wait_for_the_grace(stop_index, draining, stop).await;
        if draining {
            // Every journey still in flight is polled once more (a zero pause: the runtime runs
            // them first), so that what it has done shows before it is counted: the bytes of a
            // request whose answer never came, written beside its read.
            self.shard.slot_wakers.borrow().wake_all();
            pause(Duration::ZERO).await;
        }
        let mut stats = self.shard.stats.borrow_mut();
        stats.cancel_in_flight();
        for entry in &self.entries {
            // Journeys still running are cancelled: started = ok + failed + cancelled.
            stats.journeys.cancelled += entry.state.active.get();
            if let Some(arrivals) = &entry.arrivals {
                // Arrivals that came due but never started are missed, counted once (left by
                // the datapool, when it ran out: no row would have started them).
                arrivals.close(&mut stats.journeys, entry.state.exhausted.get());
            }
        }
        drop(stats);
        self.shard.http.close_idle();
        if draining {
            self.send_snapshot(grace_index, Phase::Grace, true);
        } else {
            // The few ms the last journeys took go with the interval the stop fell in.
            self.send_snapshot(stop_index, Phase::Run, true);
        }
    }

    /// The grace: waits until no journey runs, or the grace has ended (or was cut short,
    /// `RunStop::grace_cut`), or every journey left thinks past its end. When `report` (journeys were in flight at the stop, its piece just
    /// sent), each interval end passed sends the grace's piece of that interval. Returns the
    /// index of the interval the grace's last piece belongs to.
    async fn wait_for_the_grace(&self, stop_index: u64, report: bool, stop: &RunStop) -> u64 {
        // The grace is for journeys that can finish in it: it ends early once every journey
        // left is in a think time that ends after the grace, with nothing in flight (one of 30
        // days held the run for the whole grace, and its rates were divided by the longer
        // time). A short think (a WebSocket conversation's pause) still gets the grace.
        let grace_end = Instant::now() + self.plan.grace;
        let mut thinks_end: Option<Instant> = None;
        let (mut index, mut reported_at) = (stop_index, Instant::now());
        loop {
            let now = Instant::now();
            let running: u64 = self.entries.iter().map(|e| e.state.running.get()).sum();
            if running == 0 || now >= grace_end || stop.grace_cut() {
                break;
            }
            let passed = self.boundaries_passed(now);
            if report && passed > index {
                // Interval `passed - 1` has ended: the grace's piece of it, unless the stop
                // came just before (at the deadline, a few ms before the tick): a piece
                // shorter than a tenth of a tick goes into the next one.
                if now.saturating_duration_since(reported_at) >= self.plan.tick.div_f64(SHORT_PIECE_TICKS) {
                    self.send_snapshot(passed - 1, Phase::Grace, false);
                    reported_at = now;
                }
                index = passed;
            }
            if running <= crate::driver::thinking() && self.shard.stats.borrow().in_flight() == 0 {
                // Scanned again only once the first think time known has ended.
                let ends = match thinks_end {
                    Some(ends) if ends > now => ends,
                    _ => *thinks_end.insert(crate::driver::first_think_ends().unwrap_or(now)),
                };
                if ends >= grace_end {
                    break;
                }
            }
            pause(GRACE_POLL_INTERVAL).await;
        }
        index.max(self.boundaries_passed(Instant::now()))
    }

    /// How many interval ends (whole ticks since `ticks_from`) lie at or before `now`.
    fn boundaries_passed(&self, now: Instant) -> u64 {
        let since_ns = now.saturating_duration_since(self.ticks_from).as_nanos();
        u64::try_from(since_ns / self.plan.tick.as_nanos().max(1)).unwrap_or(u64::MAX)
    }

    /// The interval `at` falls in, a time on an interval's end belonging to the interval it
    /// ends (a stop at the deadline ends the last interval; it does not begin the next).
    fn interval_of(&self, at: Instant) -> u64 {
        self.boundaries_passed(at.checked_sub(Duration::from_nanos(1)).unwrap_or(at))
    }

    fn send_snapshot(&self, tick: u64, phase: Phase, last: bool) {
        let elapsed_s = self.shard.started.elapsed().as_secs_f64();
        let mut snapshot = self.shard.stats.borrow_mut().take_snapshot(self.shard.index, elapsed_s, tick, last);
        snapshot.phase = phase;
        snapshot.completed = last && self.completed.get();
        // A piece shorter than a tenth of a tick (the stop a ms after a tick, a short grace) is
        // mostly the stop's own work: its busy share alone is no peak of the load (it read "cpu
        // 100% INJECTOR SATURATED" and warned of a saturated injector after a quiet run), so it
        // is judged joined to the piece before it (`BusyPieces`).
        let short = elapsed_s - self.reported_s.replace(elapsed_s) < self.plan.tick.as_secs_f64() / SHORT_PIECE_TICKS;
        let load = &mut snapshot.injector;
        load.busy_percent_max =
            self.busy_pieces.borrow_mut().peak_percent(load.busy_us, load.wall_us, load.busy_percent_max, short);
        // Slots waiting for an arrival or a datapool row are not journeys in flight.
        snapshot.journeys_in_flight = self.entries.iter().map(|e| e.state.active.get()).sum();
        snapshot.journeys_target = self
            .entries
            .iter()
            .map(|e| match (&e.arrivals, e.state.finished()) {
                // In the grace no journey starts.
                _ if phase.in_grace() => 0,
                (_, true) => 0,
                // Open model: the slots it may use.
                (Some(arrivals), false) => arrivals.slots_max,
                (None, false) => e.state.target.get(),
            })
            .sum();
        // A full queue makes this core wait for the stats thread rather than drop data.
        let _ = self.events.send(CoreEvent::Snapshot(Box::new(snapshot)));
    }
}

/// A piece of interval shorter than a tick divided by this is short: a few ms between a tick
/// and the stop (its busy share is the stop's own work, not the load's; a piece of grace that
/// short goes into the next).
const SHORT_PIECE_TICKS: f64 = 10.0;

/// How long after a rate model's end the core looks whether its entry has ended: its
/// scheduler, woken at the end, stops it first.
const MODEL_END_SETTLE: Duration = Duration::from_millis(1);

/// `n` as a `Duration` multiplier (saturating: a run is far shorter than `u32::MAX` ticks).
fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Scenario entry `entry` on core `index`: its share of the datapool (shared with the core's
/// other entries naming the same single-use pool), and for an arrival rate its share of the
/// rate and of `max_in_flight`.
fn core_entry(plan: &CorePlan, entry: &ScenarioEntry, index: usize, pools: &mut CoreShards) -> CoreEntry {
    let pool = match &entry.datapool {
        Some(pool) => pools.shard(pool, plan.segment, index, plan.cores),
        None => PoolShard::unlimited_empty(),
    };
    let arrivals = match &entry.volume {
        VolumeModel::Arrivals { max_in_flight, rate } => {
            let slots_max =
                segment_share(*max_in_flight, plan.segment, index, plan.cores).clamp(1, JOURNEYS_PER_CORE_MAX);
            let (part, parts) = (plan.segment.0 * plan.cores + index, plan.segment.1 * plan.cores);
            Some(Rc::new(Arrivals::new(rate.clone(), part, parts, slots_max)))
        }
        _ => None,
    };
    let source = arrivals.clone().map(|a| a as Rc<dyn crate::journey::slot::ArrivalSource>);
    let watched = pool.handle();
    let state = Rc::new(EntryState::new(&entry.journey, pool, entry.volume.restarts(), source));
    if never_draws_its_rows(plan, entry, index) {
        // Nothing here will ever draw these rows: waiting for them to run out would hold the
        // core (and the run) to its duration, measuring nothing.
        state.stopped.set(true);
    }
    CoreEntry { state, arrivals, pool: watched }
}

/// Whether entry `entry` draws from a single-use datapool but runs no journey on core `index`
/// at any point of its volume model (its peak's share here is none: `constant = 1` over 2
/// cores, or over 2 segments). Volumes are split so that a larger total never gives a part
/// less, so a share of the peak that is none means a share of every target that is none. A
/// custom model's peak cannot be told, nor an arrival rate's (every core keeps a slot).
fn never_draws_its_rows(plan: &CorePlan, entry: &ScenarioEntry, index: usize) -> bool {
    let single_use = entry.datapool.as_ref().is_some_and(|pool| !pool.is_recyclable());
    let peak = if entry.volume.is_open() { None } else { entry.volume.peak_journeys() };
    single_use && peak.is_some_and(|peak| segment_share(peak, plan.segment, index, plan.cores) == 0)
}

/// Samples this core's event-loop lag until the run stops: every `LAG_PROBE_INTERVAL`, how
/// long the probe, woken by its timer, waited in the run queue before the core polled it, or,
/// when the thread was held so long that the timer itself was late, how late it was.
async fn probe_lag(shard: Rc<Shard>) {
    let stamp = WakeStamp::new();
    while !shard.stopping.get() {
        let due = Instant::now() + LAG_PROBE_INTERVAL;
        let mut interval = std::pin::pin!(pause(LAG_PROBE_INTERVAL));
        let waited = Stamped::new(interval.as_mut(), &stamp).await;
        let late = Instant::now().saturating_duration_since(due);
        shard.stats.borrow_mut().injector.record_probe(waited, late, LAG_PROBE_INTERVAL);
    }
}
