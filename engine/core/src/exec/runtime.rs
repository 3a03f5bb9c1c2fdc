//! Executors: one pinned OS thread per chosen core, each with its own monoio runtime (io_uring,
//! or epoll when io_uring cannot start), running its share of every scenario entry.
//! This module and `http::transport` are the only ones that name the executor.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::exec::arrivals::{ArrivalClock, ArrivalQueue, instant_at};
use crate::exec::injector_load::{LAG_PROBE_INTERVAL, Stamped, WakeStamp};
use crate::exec::shard::Shard;
use crate::exec::uring_diagnosis;
use crate::http::client::micros;
use crate::http::{HttpClient, HttpSettings};
use crate::journey::{Ctx, Journey, JourneyResult, ScenarioEntry};
use crate::limits::{FAILURE_BACKOFF_MAX, FAILURE_BACKOFF_MIN, IMMEDIATE_FAILURE, JOURNEYS_PER_CORE_MAX};
use crate::model::config::Config;
use crate::model::datapool::{PoolShard, Row};
use crate::model::split::segment_share;
use crate::model::volume::VolumeModel;
use crate::stats::{ErrorKind, Snapshot};

/// Which I/O driver to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DriverChoice {
    /// io_uring when it starts, epoll otherwise.
    #[default]
    Auto,
    /// io_uring or fail.
    IoUring,
    /// epoll only.
    Epoll,
}

impl std::str::FromStr for DriverChoice {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(DriverChoice::Auto),
            "io_uring" | "io-uring" | "uring" => Ok(DriverChoice::IoUring),
            "epoll" | "legacy" => Ok(DriverChoice::Epoll),
            other => Err(format!("unknown driver {other:?}: expected auto, io_uring or epoll")),
        }
    }
}

/// The driver a core actually runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// Linux io_uring.
    IoUring,
    /// epoll (monoio's legacy driver).
    Epoll,
}

impl Driver {
    /// Name used in output and results.
    pub fn name(self) -> &'static str {
        match self {
            Driver::IoUring => "io_uring",
            Driver::Epoll => "epoll",
        }
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

type UringRuntime = monoio::Runtime<monoio::time::TimeDriver<monoio::IoUringDriver>>;
type EpollRuntime = monoio::Runtime<monoio::time::TimeDriver<monoio::LegacyDriver>>;

/// A built runtime of either kind.
pub enum CoreRuntime {
    /// io_uring.
    Uring(Box<UringRuntime>),
    /// epoll.
    Epoll(Box<EpollRuntime>),
}

/// Submission-queue entries per ring.
pub const RING_ENTRIES: u32 = 1024;

impl CoreRuntime {
    /// Builds a runtime on the current thread. With `Auto`, a failed io_uring start falls back
    /// to epoll and the reason is returned alongside.
    pub fn build(choice: DriverChoice) -> Result<(CoreRuntime, Option<String>), String> {
        let uring_with = |deferred: bool| {
            let mut ring = io_uring::IoUring::builder();
            if deferred {
                // One thread submits to each ring, and completions are processed only when the
                // core asks for them: no inter-processor interrupts, batched task work.
                ring.setup_single_issuer().setup_defer_taskrun().setup_coop_taskrun();
            }
            monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
                .with_entries(RING_ENTRIES)
                .uring_builder(ring)
                .enable_timer()
                .build()
                .map(|rt| CoreRuntime::Uring(Box::new(rt)))
        };
        // Kernels before 6.1 lack DEFER_TASKRUN: fall back to a plain ring before epoll.
        let uring = || {
            if std::env::var_os("MITE_URING_PLAIN").is_some() {
                return uring_with(false);
            }
            uring_with(true).or_else(|_| uring_with(false))
        };
        let epoll = || {
            monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
                .enable_timer()
                .build()
                .map(|rt| CoreRuntime::Epoll(Box::new(rt)))
        };
        let diagnosis = |e: &std::io::Error| {
            uring_diagnosis::diagnose(e.raw_os_error(), &e.to_string(), uring_diagnosis::Facts::of_this_process())
        };
        match choice {
            DriverChoice::Epoll => epoll().map(|rt| (rt, None)).map_err(|e| format!("epoll runtime: {e}")),
            DriverChoice::IoUring => uring()
                .map(|rt| (rt, None))
                .map_err(|e| format!("io_uring runtime: {} (or use --driver epoll)", diagnosis(&e))),
            DriverChoice::Auto => match uring() {
                Ok(rt) => Ok((rt, None)),
                Err(uring_err) => {
                    let reason = format!("io_uring unavailable ({}); using epoll", diagnosis(&uring_err));
                    epoll().map(|rt| (rt, Some(reason))).map_err(|e| format!("epoll runtime: {e}"))
                }
            },
        }
    }

    /// The driver this runtime uses.
    pub fn driver(&self) -> Driver {
        match self {
            CoreRuntime::Uring(_) => Driver::IoUring,
            CoreRuntime::Epoll(_) => Driver::Epoll,
        }
    }

    /// Runs `future` to completion on this runtime.
    pub fn block_on<F: std::future::Future>(&mut self, future: F) -> F::Output {
        match self {
            CoreRuntime::Uring(rt) => rt.block_on(future),
            CoreRuntime::Epoll(rt) => rt.block_on(future),
        }
    }
}

/// Sleeps on the current core's runtime.
pub async fn sleep(duration: Duration) {
    monoio::time::sleep(duration).await;
}

/// One scenario entry's state on one core.
pub struct EntryState {
    name: Arc<str>,
    target: Cell<u64>,
    running: Cell<u64>,
    started: Cell<u64>,
    restarts: bool,
    stopped: Cell<bool>,
    exhausted: Cell<bool>,
    pool: RefCell<PoolShard>,
    /// Slots waiting for a row of a recyclable pool to be checked in.
    row_waiters: RefCell<Vec<Waker>>,
    /// Journeys running now (slots waiting for an arrival or a row are not).
    active: Cell<u64>,
    /// Open model: the queue of intended start times.
    arrivals: Option<Arrivals>,
}

impl EntryState {
    fn finished(&self) -> bool {
        let done = self.stopped.get() || self.exhausted.get();
        self.running.get() == 0
            && if self.arrivals.is_some() {
                done
            } else {
                done || (!self.restarts && self.started.get() >= self.target.get())
            }
    }
}

/// Open model: intended start times waiting for a journey slot.
pub struct Arrivals {
    /// This core's share of the rate, as intended start times.
    clock: RefCell<ArrivalClock>,
    /// Arrivals waiting for a slot (bounded; more are counted as missed).
    queue: RefCell<ArrivalQueue>,
    /// Journey slots this core may run for the entry.
    slots_max: u64,
    /// Slots waiting for an arrival.
    idle: Cell<u64>,
    waiters: RefCell<Vec<Waker>>,
}

impl Arrivals {
    /// Queues every arrival that came due before `until_s` (seconds since `started`);
    /// `false` once the rate model has ended.
    fn queue_due(&self, shard: &Shard, started: Instant, until_s: f64) -> bool {
        let mut stats = shard.stats.borrow_mut();
        let mut queue = self.queue.borrow_mut();
        self.clock.borrow_mut().due(until_s, |t| queue.arrive(instant_at(started, t), &mut stats.journeys))
    }

    fn wake(&self, count: usize) {
        let mut waiters = self.waiters.borrow_mut();
        let keep = waiters.len().saturating_sub(count);
        for waker in waiters.drain(keep..) {
            waker.wake();
        }
    }
}

/// Waits for the next intended start time, or `None` when the entry or the run stops.
struct NextArrival<'a> {
    shard: &'a Shard,
    entry: &'a EntryState,
    waiting: bool,
}

impl Future for NextArrival<'_> {
    type Output = Option<Instant>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        let arrivals = self.entry.arrivals.as_ref().expect("open entries have arrivals");
        // After the stop nothing is taken: what still waits is counted as missed, once, by
        // the queue's close.
        let next = if self.shard.stopping.get() { None } else { arrivals.queue.borrow_mut().take() };
        let ended = self.shard.stopping.get() || self.entry.stopped.get() || self.entry.exhausted.get();
        if next.is_some() || ended {
            if self.waiting {
                arrivals.idle.set(arrivals.idle.get() - 1);
                self.waiting = false;
            }
            return Poll::Ready(next);
        }
        if !self.waiting {
            arrivals.idle.set(arrivals.idle.get() + 1);
            self.waiting = true;
        }
        arrivals.waiters.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for NextArrival<'_> {
    fn drop(&mut self) {
        if self.waiting
            && let Some(arrivals) = &self.entry.arrivals
        {
            arrivals.idle.set(arrivals.idle.get() - 1);
        }
    }
}

/// Turns this core's share of the rate into intended start times, queues them, and keeps
/// enough journey slots running (up to the entry's limit) to serve the queue.
async fn schedule_arrivals(
    shard: Rc<Shard>,
    entry: Rc<EntryState>,
    journey: Arc<dyn Journey>,
    started: Instant,
    duration: Duration,
) {
    let arrivals = entry.arrivals.as_ref().expect("open entries have arrivals");
    loop {
        if shard.stopping.get() || entry.stopped.get() || entry.exhausted.get() {
            break;
        }
        // A scheduler that wakes late (a busy core) never queues arrivals past the run's end.
        let until_s = started.elapsed().min(duration).as_secs_f64();
        if !arrivals.queue_due(&shard, started, until_s) {
            entry.stopped.set(true);
        }
        let backlog = arrivals.queue.borrow().len() as u64;
        let spawnable = arrivals.slots_max.saturating_sub(entry.running.get());
        let wanted = backlog.saturating_sub(arrivals.idle.get()).min(spawnable);
        for _ in 0..wanted {
            entry.running.set(entry.running.get() + 1);
            journey.spawn_slot(Slot { shard: shard.clone(), entry: entry.clone() });
        }
        arrivals.wake(backlog as usize);
        if entry.stopped.get() {
            break;
        }
        let next = instant_at(started, arrivals.clock.borrow().next_s());
        sleep(next.saturating_duration_since(Instant::now()).min(POLL)).await;
    }
    arrivals.wake(usize::MAX);
}

/// Waits for a row: a recyclable pool whose rows are all checked out makes the slot wait for
/// a check-in (never ends the entry). `None` when the pool is exhausted or the run stops.
struct NextRow<'a> {
    shard: &'a Shard,
    entry: &'a EntryState,
}

impl Future for NextRow<'_> {
    type Output = Option<Row>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Row>> {
        let entry = self.entry;
        let row = entry.pool.borrow_mut().checkout();
        // Closed model: a slot the volume model no longer wants leaves. Open model: an arrival
        // already taken still starts after the rate model ended, when a row comes back.
        let unwanted = entry.arrivals.is_none() && (entry.stopped.get() || entry.running.get() > entry.target.get());
        let ended = entry.pool.borrow().is_exhausted() || self.shard.stopping.get() || unwanted;
        if row.is_some() || ended {
            return Poll::Ready(row);
        }
        self.entry.row_waiters.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

impl EntryState {
    /// Wakes up to `count` slots waiting for a row.
    fn wake_row_waiters(&self, count: usize) {
        let mut waiters = self.row_waiters.borrow_mut();
        let keep = waiters.len().saturating_sub(count);
        for waker in waiters.drain(keep..) {
            waker.wake();
        }
    }
}

/// What a journey slot needs: its core, its entry, and the journey's name.
pub struct Slot {
    shard: Rc<Shard>,
    entry: Rc<EntryState>,
}

/// Starts a journey slot as a task on the current core.
pub fn spawn_slot<F>(slot: Slot, journey: F)
where
    F: AsyncFn(&Ctx, Row) -> JourneyResult + 'static,
{
    monoio::spawn(slot_loop(slot, journey));
}

/// Runs journeys one after another while the entry's target allows, then leaves.
async fn slot_loop<F>(slot: Slot, journey: F)
where
    F: AsyncFn(&Ctx, Row) -> JourneyResult,
{
    let Slot { shard, entry } = slot;
    let ctx = Ctx::new(shard.clone(), &entry.name);
    let mut backoff = Backoff::default();
    loop {
        let intended = if entry.arrivals.is_some() {
            match (NextArrival { shard: &shard, entry: &entry, waiting: false }).await {
                Some(intended) => Some(intended),
                None => break,
            }
        } else {
            if shard.stopping.get() || entry.stopped.get() || entry.running.get() > entry.target.get() {
                break;
            }
            if !entry.restarts && entry.started.get() >= entry.target.get() {
                break;
            }
            None
        };
        let Some(row) = (NextRow { shard: &shard, entry: &entry }).await else {
            if entry.pool.borrow().is_exhausted() {
                entry.exhausted.set(true);
            }
            if intended.is_some() {
                // The arrival taken from the queue never started.
                ArrivalQueue::missed(&mut shard.stats.borrow_mut().journeys);
            }
            break;
        };
        ctx.set_start_delay_us(intended.map(|t| micros(t.elapsed())));
        ctx.begin_run();
        entry.started.set(entry.started.get() + 1);
        {
            let mut stats = shard.stats.borrow_mut();
            stats.journeys.started += 1;
            if intended.is_some() {
                ArrivalQueue::started(&mut stats.journeys);
            }
        }
        entry.active.set(entry.active.get() + 1);
        let began = Instant::now();
        // Whether the journey ever waited: one that never does would keep the core to itself.
        let mut waited = false;
        let mut run = std::pin::pin!(journey(&ctx, row.clone()));
        let result = std::future::poll_fn(|cx| {
            let poll = run.as_mut().poll(cx);
            waited |= poll.is_pending();
            poll
        })
        .await;
        entry.active.set(entry.active.get() - 1);
        record_journey(&shard, &entry.name, &result);
        entry.pool.borrow_mut().checkin(row);
        entry.wake_row_waiters(1);
        if !entry.restarts && entry.arrivals.is_none() {
            break;
        }
        backoff.after(failed_at_once(&result, began.elapsed(), waited), waited).await;
    }
    entry.running.set(entry.running.get() - 1);
}

/// A journey slot's pause after journeys that fail at once, so that a broken target (or URL,
/// or name) is not hammered and the core's other tasks (the stop, the progress) still run.
#[derive(Default)]
struct Backoff {
    next: Option<Duration>,
}

impl Backoff {
    /// After a journey: an immediate failure sleeps (1 ms, doubling to 100 ms); any other
    /// outcome resets the pause, and a journey that never waited lets the runtime turn once, so
    /// that no journey, however quick, can keep the core from its other tasks.
    async fn after(&mut self, failed_at_once: bool, waited: bool) {
        if failed_at_once {
            let pause = self.next.unwrap_or(FAILURE_BACKOFF_MIN);
            self.next = Some((pause * 2).min(FAILURE_BACKOFF_MAX));
            sleep(pause).await;
            return;
        }
        self.next = None;
        if !waited {
            // A timer, not a mere yield: the runtime fires timers (the core's tick, its stop)
            // only when no task is ready to run, so a task that re-queues itself is not enough.
            sleep(Duration::ZERO).await;
        }
    }
}

/// Whether a journey "failed at once": within `IMMEDIATE_FAILURE`, either without a request
/// reaching a server (no such name, a URL that cannot be sent, refused, no route, a TLS
/// failure, no connection free) or without waiting on anything at all. A target that answers,
/// even with an error status, is never backed off from: its answers are what is measured.
fn failed_at_once(result: &JourneyResult, took: Duration, waited: bool) -> bool {
    let Err(err) = result else { return false };
    let nothing_reached_a_server = matches!(
        err.kind(),
        Some(
            ErrorKind::Dns
                | ErrorKind::InvalidUrl
                | ErrorKind::Refused
                | ErrorKind::Connect
                | ErrorKind::Tls
                | ErrorKind::NoConnection
        )
    );
    took < IMMEDIATE_FAILURE && (nothing_reached_a_server || (err.kind().is_none() && !waited))
}

/// Counts a finished journey; an error no transaction counted is counted against the
/// journey's own row.
pub(crate) fn record_journey(shard: &Shard, journey: &str, result: &JourneyResult) {
    let mut stats = shard.stats.borrow_mut();
    match result {
        Ok(()) => stats.journeys.ok += 1,
        Err(err) => {
            stats.journeys.failed += 1;
            stats.sample_error("journey", || err.to_string());
            if !err.is_recorded() {
                let id = stats.root(journey);
                stats.txn(id).txn_err += 1;
            }
        }
    }
}

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

/// Open model: arrivals queued per core at least, before more are counted as missed.
const ARRIVAL_QUEUE_MIN: usize = 1024;

/// How often a core checks the stop flag and whether its entries are done.
const POLL: Duration = Duration::from_millis(50);

/// Runs core `index` of the plan to completion on the current (already pinned) thread.
pub fn run_core(
    plan: Arc<CorePlan>,
    index: usize,
    started: Instant,
    stop: Arc<AtomicBool>,
    events: SyncSender<CoreEvent>,
) {
    let (mut runtime, fallback) = match CoreRuntime::build(plan.driver) {
        Ok(built) => built,
        Err(error) => {
            let _ = events.send(CoreEvent::Failed { core: index, error });
            return;
        }
    };
    let _ = events.send(CoreEvent::Started { core: index, driver: runtime.driver(), fallback });
    runtime.block_on(core_main(plan, index, started, stop, events));
}

async fn core_main(
    plan: Arc<CorePlan>,
    index: usize,
    started: Instant,
    stop: Arc<AtomicBool>,
    events: SyncSender<CoreEvent>,
) {
    // Each core keeps its own TLS session cache: resumption never takes a lock across cores.
    let tls = plan.tls.as_ref().map(|config| {
        let mut config = (**config).clone();
        config.resumption = rustls::client::Resumption::in_memory_sessions(256);
        Arc::new(config)
    });
    let http = HttpClient::new(plan.http.clone(), tls);
    let shard = Rc::new(Shard::new(index, plan.cores, plan.config.clone(), http, false, started));
    shard.stats.borrow_mut().mark_busy_start();
    monoio::spawn(probe_lag(shard.clone()));
    let entries: Vec<Rc<EntryState>> = plan
        .entries
        .iter()
        .map(|entry| {
            let pool = match &entry.datapool {
                Some(pool) => pool.shard_for(plan.segment, index, plan.cores),
                None => PoolShard::unlimited_empty(),
            };
            let exhausted = pool.is_exhausted();
            let arrivals = match &entry.volume {
                VolumeModel::Arrivals { max_in_flight, rate } => {
                    let slots_max =
                        segment_share(*max_in_flight, plan.segment, index, plan.cores).clamp(1, JOURNEYS_PER_CORE_MAX);
                    Some(Arrivals {
                        clock: RefCell::new(ArrivalClock::new(
                            rate.clone(),
                            plan.segment.0 * plan.cores + index,
                            plan.segment.1 * plan.cores,
                        )),
                        queue: RefCell::new(ArrivalQueue::new(ARRIVAL_QUEUE_MIN.max(slots_max as usize * 16))),
                        slots_max,
                        idle: Cell::new(0),
                        waiters: RefCell::new(Vec::new()),
                    })
                }
                _ => None,
            };
            Rc::new(EntryState {
                name: Arc::from(entry.journey.as_str()),
                target: Cell::new(0),
                running: Cell::new(0),
                started: Cell::new(0),
                restarts: entry.volume.restarts(),
                stopped: Cell::new(false),
                exhausted: Cell::new(exhausted),
                pool: RefCell::new(pool),
                row_waiters: RefCell::new(Vec::new()),
                active: Cell::new(0),
                arrivals,
            })
        })
        .collect();
    for ((state, entry), journey) in entries.iter().zip(&plan.entries).zip(&plan.journeys) {
        if entry.volume.is_open() {
            monoio::spawn(schedule_arrivals(shard.clone(), state.clone(), journey.clone(), started, plan.duration));
        }
    }
    let deadline = started + plan.duration;
    let mut last_tick_s = 0.0f64;
    let mut tick_index = 0u64;
    let mut first_tick = true;
    let mut next_tick = Instant::now();
    loop {
        let now = Instant::now();
        if now >= next_tick {
            let now_s = now.duration_since(started).as_secs_f64();
            for ((state, entry), journey) in entries.iter().zip(&plan.entries).zip(&plan.journeys) {
                if state.stopped.get() || state.exhausted.get() || state.arrivals.is_some() {
                    continue;
                }
                match entry.volume.target(last_tick_s, now_s) {
                    None => {
                        state.stopped.set(true);
                        state.wake_row_waiters(usize::MAX);
                    }
                    Some(total) => {
                        let mine = segment_share(total, plan.segment, index, plan.cores).min(JOURNEYS_PER_CORE_MAX);
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
                            journey.spawn_slot(Slot { shard: shard.clone(), entry: state.clone() });
                        }
                    }
                }
            }
            last_tick_s = now_s;
            // The first tick starts the journeys; every later one closes an interval.
            if first_tick {
                first_tick = false;
            } else {
                send_snapshot(&shard, &entries, &events, tick_index, false);
                tick_index += 1;
            }
            next_tick += plan.tick;
        }
        if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
            break;
        }
        if entries.iter().all(|e| e.finished()) {
            break;
        }
        let until_tick = next_tick.saturating_duration_since(Instant::now());
        let until_deadline = deadline.saturating_duration_since(Instant::now());
        sleep(until_tick.min(until_deadline).min(POLL)).await;
    }
    // Arrivals that came due up to the stop are requested, whether or not the scheduler woke
    // for them; those that cannot start now are counted as missed when the queue closes.
    let stop_s = Instant::now().min(deadline).saturating_duration_since(started).as_secs_f64();
    for entry in &entries {
        if let Some(arrivals) = &entry.arrivals
            && !entry.stopped.get()
            && !entry.exhausted.get()
        {
            arrivals.queue_due(&shard, started, stop_s);
        }
    }
    // Graceful stop: no journey starts again; those in flight get `grace` to finish.
    shard.stopping.set(true);
    for entry in &entries {
        entry.wake_row_waiters(usize::MAX);
        if let Some(arrivals) = &entry.arrivals {
            arrivals.wake(usize::MAX);
        }
    }
    let grace_end = Instant::now() + plan.grace;
    while entries.iter().any(|e| e.running.get() > 0) && Instant::now() < grace_end {
        sleep(Duration::from_millis(5)).await;
    }
    shard.stats.borrow_mut().cancel_in_flight();
    for entry in &entries {
        // Journeys still running are cancelled: started = ok + failed + cancelled.
        shard.stats.borrow_mut().journeys.cancelled += entry.active.get();
        if let Some(arrivals) = &entry.arrivals {
            // Arrivals that came due but never started are missed, counted once.
            arrivals.queue.borrow_mut().close(&mut shard.stats.borrow_mut().journeys);
        }
    }
    shard.http.close_idle();
    send_snapshot(&shard, &entries, &events, tick_index, true);
}

/// Samples this core's event-loop lag until the run stops: every `LAG_PROBE_INTERVAL`, how
/// long the probe, woken by its timer, waited in the run queue before the core polled it.
async fn probe_lag(shard: Rc<Shard>) {
    let stamp = WakeStamp::new();
    while !shard.stopping.get() {
        let mut pause = std::pin::pin!(sleep(LAG_PROBE_INTERVAL));
        let waited = Stamped::new(pause.as_mut(), &stamp).await;
        shard.stats.borrow_mut().injector.record_lag(waited);
    }
}

fn send_snapshot(shard: &Shard, entries: &[Rc<EntryState>], events: &SyncSender<CoreEvent>, tick: u64, last: bool) {
    let mut snapshot =
        shard.stats.borrow_mut().take_snapshot(shard.index, shard.started.elapsed().as_secs_f64(), tick, last);
    // Slots waiting for an arrival or a datapool row are not journeys in flight.
    snapshot.journeys_in_flight = entries.iter().map(|e| e.active.get()).sum();
    snapshot.journeys_target = entries
        .iter()
        .map(|e| match (&e.arrivals, e.finished()) {
            (_, true) => 0,
            // Open model: the slots it may use.
            (Some(arrivals), false) => arrivals.slots_max,
            (None, false) => e.target.get(),
        })
        .sum();
    // A full queue makes this core wait for the stats thread rather than drop data.
    let _ = events.send(CoreEvent::Snapshot(Box::new(snapshot)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_choice_parses() {
        assert_eq!("auto".parse::<DriverChoice>(), Ok(DriverChoice::Auto));
        assert_eq!("epoll".parse::<DriverChoice>(), Ok(DriverChoice::Epoll));
        assert!("kqueue".parse::<DriverChoice>().unwrap_err().contains("kqueue"));
    }

    /// Issue 10: only failures where nothing reached a server (or nothing was waited on) back
    /// off; an answer, even an error status, never slows the load down.
    #[test]
    fn immediate_failures_are_told_apart() {
        use crate::journey::JourneyError;
        let quick = Duration::from_micros(50);
        let http =
            |kind: ErrorKind| -> JourneyResult { Err(JourneyError::from(crate::http::HttpError::failed(kind, "x"))) };
        assert!(!failed_at_once(&Ok(()), quick, false));
        for kind in [ErrorKind::Dns, ErrorKind::InvalidUrl, ErrorKind::Refused, ErrorKind::Connect, ErrorKind::Tls] {
            assert!(failed_at_once(&http(kind), quick, true), "{kind:?}");
            assert!(!failed_at_once(&http(kind), Duration::from_millis(5), true), "{kind:?}: not immediate");
        }
        for kind in [ErrorKind::Status, ErrorKind::Reset, ErrorKind::Malformed, ErrorKind::Timeout] {
            assert!(!failed_at_once(&http(kind), quick, true), "{kind:?}: the target answered");
        }
        let own = || -> JourneyResult { Err(JourneyError::msg("check failed")) };
        assert!(failed_at_once(&own(), quick, false), "failed without waiting on anything");
        assert!(!failed_at_once(&own(), quick, true), "failed after a response arrived");
    }

    #[test]
    fn epoll_runtime_always_builds() {
        let (mut rt, fallback) = CoreRuntime::build(DriverChoice::Epoll).unwrap();
        assert_eq!(rt.driver(), Driver::Epoll);
        assert!(fallback.is_none());
        assert_eq!(rt.block_on(async { 2 + 2 }), 4);
    }
}
