//! The [`Journey`] trait and its executor side: a journey slot on one
//! core runs its journey again and again while its scenario entry wants it. The loop is generic
//! over the journey function, so the journey's future lives inside the slot's task: running a
//! journey again allocates nothing. What decides how many slots run (volume models, arrival
//! rates) is the executor's (`exec`); this module only reads the entry's state.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::driver::{Moment, sleep, spawn};
use crate::http::client::micros;
use crate::journey::panics;
use crate::journey::shard::{Shard, TxnId};
use crate::journey::{Ctx, JourneyError, JourneyResult};
use crate::limits::{FAILURE_BACKOFF_MAX, FAILURE_BACKOFF_MIN, IMMEDIATE_FAILURE};
use crate::model::datapool::{PoolShard, Row};
use crate::stats::{ErrorKind, JourneyCounts};

/// A journey the engine can run: once (journey test) or in a loop per slot (load).
pub trait Journey: Send + Sync + 'static {
    /// Runs the journey once.
    fn run_once<'a>(&'a self, ctx: &'a Ctx, row: Row) -> Pin<Box<dyn Future<Output = JourneyResult> + 'a>>;

    /// Starts one journey slot on the current core's runtime (see [`Slot`]).
    fn spawn_slot(&self, slot: Slot);
}

/// A journey written as `async fn(&Ctx, Row) -> JourneyResult`.
pub(crate) struct AsyncJourney<F>(pub(crate) F);

impl<F> Journey for AsyncJourney<F>
where
    F: AsyncFn(&Ctx, Row) -> JourneyResult + Copy + Send + Sync + 'static,
{
    fn run_once<'a>(&'a self, ctx: &'a Ctx, row: Row) -> Pin<Box<dyn Future<Output = JourneyResult> + 'a>> {
        Box::pin((self.0)(ctx, row))
    }

    fn spawn_slot(&self, slot: Slot) {
        let f = self.0;
        // The loop is generic over `F`: the journey's future lives inside the slot's task, so
        // running a journey again allocates nothing.
        spawn_slot(slot, f);
    }
}

/// Open model: where a slot takes its intended start times from (the executor's arrival
/// scheduler, which owns the queue and its counting).
pub trait ArrivalSource {
    /// The oldest waiting arrival, or `Ready(None)` when `ended` (the entry or the run stopped).
    /// When none waits, `cx` is woken when one does; `waiting` tracks whether this slot is
    /// counted among the idle ones (set and cleared here).
    fn poll_take(&self, stopping: bool, ended: bool, waiting: &mut bool, cx: &mut Context<'_>)
    -> Poll<Option<Instant>>;
    /// A waiting slot left before it got an arrival.
    fn forget_waiter(&self);
    /// A taken arrival started its journey.
    fn started(&self, counts: &mut JourneyCounts);
    /// A taken arrival never started: the run stopped.
    fn missed(&self, counts: &mut JourneyCounts);
    /// A taken arrival never started: its single-use datapool ran out.
    fn datapool_exhausted(&self, counts: &mut JourneyCounts);
}

/// One scenario entry's state on one core, shared by its slots and the executor.
pub struct EntryState {
    pub(crate) name: Arc<str>,
    /// Closed model: slots this core should run now.
    pub(crate) target: Cell<u64>,
    /// Slots alive (running a journey, or waiting for an arrival or a row).
    pub(crate) running: Cell<u64>,
    /// Journeys started.
    pub(crate) started: Cell<u64>,
    /// The volume model runs journeys again (false: each slot runs once).
    pub(crate) restarts: bool,
    /// The volume or rate model has ended.
    pub(crate) stopped: Cell<bool>,
    /// A single-use datapool ran out.
    pub(crate) exhausted: Cell<bool>,
    pool: RefCell<PoolShard>,
    /// Slots waiting for a row of a recyclable pool to be checked in.
    row_waiters: RefCell<Vec<Waker>>,
    /// Journeys running now (slots waiting for an arrival or a row are not).
    pub(crate) active: Cell<u64>,
    /// Open model: the scheduler's queue of intended start times.
    pub(crate) arrivals: Option<Rc<dyn ArrivalSource>>,
}

impl EntryState {
    /// An entry named `name` with its core's share of the datapool; `arrivals` for open models.
    pub(crate) fn new(
        name: &str,
        pool: PoolShard,
        restarts: bool,
        arrivals: Option<Rc<dyn ArrivalSource>>,
    ) -> EntryState {
        EntryState {
            name: Arc::from(name),
            target: Cell::new(0),
            running: Cell::new(0),
            started: Cell::new(0),
            restarts,
            stopped: Cell::new(false),
            exhausted: Cell::new(pool.is_exhausted()),
            pool: RefCell::new(pool),
            row_waiters: RefCell::new(Vec::new()),
            active: Cell::new(0),
            arrivals,
        }
    }

    /// Nothing runs and nothing more will start.
    pub(crate) fn finished(&self) -> bool {
        let done = self.stopped.get() || self.exhausted.get();
        self.running.get() == 0
            && if self.arrivals.is_some() {
                done
            } else {
                done || (!self.restarts && self.started.get() >= self.target.get())
            }
    }

    /// Wakes up to `count` slots waiting for a row.
    #[inline]
    pub(crate) fn wake_row_waiters(&self, count: usize) {
        let mut waiters = self.row_waiters.borrow_mut();
        if waiters.is_empty() {
            // The usual case, after every journey: no slot waits for a row.
            return;
        }
        let keep = waiters.len().saturating_sub(count);
        for waker in waiters.drain(keep..) {
            waker.wake();
        }
    }
}

/// What the next journey of a slot starts with: its intended start (open model) and its row;
/// `None` when the slot should leave. Open model: waits for an arrival first; then (both
/// models) for a row, when a recyclable pool has all its rows out. One small hand-written
/// future, not an `async fn` awaiting two others: a closed model's journey with a row free
/// (the usual one) is decided in one poll.
struct NextStart<'a> {
    shard: &'a Shard,
    entry: &'a EntryState,
    /// Open model: the arrival taken (its intended start).
    intended: Option<Instant>,
    /// Closed model: whether the slot was found still wanted (checked once, before a row).
    wanted: bool,
    /// Open model: counted among the slots waiting for an arrival (set and cleared by the
    /// source).
    waiting: bool,
    /// When the journey before's last response came whole, if in this poll: forgotten when
    /// this waits (returns `Pending`).
    ended_before: &'a mut Option<Moment>,
}

impl<'a> NextStart<'a> {
    fn new(shard: &'a Shard, entry: &'a EntryState, ended_before: &'a mut Option<Moment>) -> NextStart<'a> {
        NextStart { shard, entry, intended: None, wanted: false, waiting: false, ended_before }
    }
}

/// A journey's intended start and row, or `None`: the slot leaves.
type Start = Option<(Option<Instant>, Row)>;

impl Future for NextStart<'_> {
    type Output = Start;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Start> {
        let this = self.get_mut();
        let poll = this.poll_start(cx);
        if poll.is_pending() {
            *this.ended_before = None;
        }
        poll
    }
}

impl NextStart<'_> {
    /// The start, or `Pending` (waiting for an arrival or a row).
    fn poll_start(&mut self, cx: &mut Context<'_>) -> Poll<Start> {
        let (shard, entry) = (self.shard, self.entry);
        match &entry.arrivals {
            Some(source) if self.intended.is_none() => {
                let stopping = shard.stopping.get();
                let ended = stopping || entry.stopped.get() || entry.exhausted.get();
                match source.poll_take(stopping, ended, &mut self.waiting, cx) {
                    Poll::Ready(Some(intended)) => self.intended = Some(intended),
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => return Poll::Pending,
                }
            }
            Some(_) => {}
            None if !self.wanted => {
                if closed_slot_leaves(shard, entry) {
                    return Poll::Ready(None);
                }
                self.wanted = true;
            }
            None => {}
        }
        match take_row(shard, entry) {
            Some(Some(row)) => Poll::Ready(Some((self.intended, row))),
            Some(None) => {
                no_row(shard, entry, self.intended);
                Poll::Ready(None)
            }
            None => {
                entry.row_waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for NextStart<'_> {
    fn drop(&mut self) {
        if let (true, Some(source)) = (self.waiting, &self.entry.arrivals) {
            // A waiting slot left before it got an arrival.
            source.forget_waiter();
        }
    }
}

/// A row now (`Some(Some(row))`), the end of the slot (`Some(None)`: the pool is exhausted,
/// the run stops, or a closed model's slot is no longer wanted), or `None`: wait for a check-in.
fn take_row(shard: &Shard, entry: &EntryState) -> Option<Option<Row>> {
    let row = entry.pool.borrow_mut().checkout();
    if row.is_some() {
        return Some(row);
    }
    // Closed model: a slot the volume model no longer wants leaves. Open model: an arrival
    // already taken still starts after the rate model ended, when a row comes back.
    let unwanted = entry.arrivals.is_none() && (entry.stopped.get() || entry.running.get() > entry.target.get());
    let ended = entry.pool.borrow().is_exhausted() || shard.stopping.get() || unwanted;
    ended.then_some(None)
}

/// Closed model: the slot leaves (the run stops, the model ended or wants fewer slots, or a
/// one-shot model started its journeys).
fn closed_slot_leaves(shard: &Shard, entry: &EntryState) -> bool {
    let unwanted = shard.stopping.get() || entry.stopped.get() || entry.running.get() > entry.target.get();
    unwanted || (!entry.restarts && entry.started.get() >= entry.target.get())
}

/// The slot leaves without a row: an exhausted pool ends the entry; an arrival taken from the
/// queue (`intended`) never started, for want of a row (the pool ran out) or because the run
/// stopped (missed).
fn no_row(shard: &Shard, entry: &EntryState, intended: Option<Instant>) {
    let exhausted = entry.pool.borrow().is_exhausted();
    if exhausted {
        entry.exhausted.set(true);
    }
    if let (Some(source), Some(_)) = (&entry.arrivals, intended) {
        let counts = &mut shard.stats.borrow_mut().journeys;
        if exhausted { source.datapool_exhausted(counts) } else { source.missed(counts) }
    }
}

/// The wakers of a core's journey slots, so that the run's stop can have every journey polled
/// once more before it counts: some of what a journey has done shows only when it is polled (a
/// request's write, see `Transport::write_request_and_read`). One per slot, added when the slot
/// starts and removed when it ends: nothing per journey or request.
#[derive(Default)]
pub(crate) struct SlotWakers {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl SlotWakers {
    fn add(&mut self, waker: Waker) -> usize {
        match self.free.pop() {
            Some(at) => {
                self.wakers[at] = Some(waker);
                at
            }
            None => {
                self.wakers.push(Some(waker));
                self.wakers.len() - 1
            }
        }
    }

    /// The waker at `at`, taken out (none once [`SlotWakers::take_all`] has run).
    fn remove(&mut self, at: usize) -> Option<Waker> {
        let waker = self.wakers.get_mut(at).and_then(Option::take);
        if waker.is_some() {
            self.free.push(at);
        }
        waker
    }

    /// Has every slot's journey polled once more (in the core's next turn).
    pub(crate) fn wake_all(&self) {
        for waker in self.wakers.iter().flatten() {
            waker.wake_by_ref();
        }
    }

    /// Every waker, taken out (the core is done: the slots' tasks must not be kept alive by
    /// their own core's state).
    pub(crate) fn take_all(&mut self) -> Vec<Waker> {
        self.free.clear();
        self.wakers.drain(..).flatten().collect()
    }
}

/// A slot's waker among its core's while the slot runs.
struct SlotWaker<'a> {
    shard: &'a Shard,
    at: usize,
}

impl Drop for SlotWaker<'_> {
    fn drop(&mut self) {
        // Dropped after the borrow ends: dropping a waker may drop a task.
        let waker = self.shard.slot_wakers.borrow_mut().remove(self.at);
        drop(waker);
    }
}

/// What a journey slot needs: its core and its entry.
pub struct Slot {
    shard: Rc<Shard>,
    entry: Rc<EntryState>,
}

impl Slot {
    /// A slot of `entry` on `shard` (the caller has counted it in `entry.running`).
    pub(crate) fn new(shard: Rc<Shard>, entry: Rc<EntryState>) -> Slot {
        Slot { shard, entry }
    }
}

/// Starts a journey slot as a task on the current core.
pub fn spawn_slot<F>(slot: Slot, journey: F)
where
    F: AsyncFn(&Ctx, Row) -> JourneyResult + 'static,
{
    spawn(slot_loop(slot, RunsAsync(journey)));
}

/// Starts a journey slot running `runs` as a task on the current core.
pub(crate) fn spawn_slot_runs<R: Runs + 'static>(slot: Slot, runs: R) {
    spawn(slot_loop(slot, runs));
}

/// What a journey slot runs again and again: each run's future, made where the slot keeps it.
/// (A journey behind an `async` closure would be made inside the closure's future and then
/// copied into it at every start: some 1,300 bytes a journey.) The row is lent: the slot holds
/// it for the run and checks it back in after, so a journey that only reads it (a described
/// one) takes no copy of its own to make and drop at every run.
pub(crate) trait Runs {
    /// One run of the journey with `row`.
    fn run<'a>(&'a self, ctx: &'a Ctx, row: &'a Row) -> impl Future<Output = JourneyResult> + 'a;
}

/// A journey written as `async fn(&Ctx, Row) -> JourneyResult`, as a slot runs it.
struct RunsAsync<F>(F);

impl<F: AsyncFn(&Ctx, Row) -> JourneyResult> Runs for RunsAsync<F> {
    #[inline]
    fn run<'a>(&'a self, ctx: &'a Ctx, row: &'a Row) -> impl Future<Output = JourneyResult> + 'a {
        // The journey's own copy: `async fn(&Ctx, Row)` takes its row.
        (self.0)(ctx, row.clone())
    }
}

/// Runs journeys one after another while the entry's target allows, then leaves.
async fn slot_loop<R: Runs>(slot: Slot, journey: R) {
    let Slot { shard, entry } = slot;
    let waker = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
    let at = shard.slot_wakers.borrow_mut().add(waker);
    let _waker = SlotWaker { shard: &shard, at };
    let ctx = Ctx::new(shard.clone(), &entry.name);
    let mut backoff = Backoff::default();
    // When the journey before's last response came whole, if that was in this task's poll
    // and nothing was waited for since (the next journey starts in that poll: its start).
    let mut ended_here: Option<Moment> = None;
    // `let … else`, not `while let`: the matched value would stay in the future beside its
    // parts for the whole journey.
    loop {
        let Some((intended, row)) = NextStart::new(&shard, &entry, &mut ended_here).await else { break };
        ctx.set_start_delay_us(intended.map(|t| micros(t.elapsed())));
        ctx.begin_run();
        count_start(&shard, &entry, intended.is_some());
        // Only a failed journey reads it (`failed_at_once`); a journey started in the poll the
        // one before ended in takes that end, read already, rather than the clock.
        let began = ended_here.take().unwrap_or_else(Moment::now);
        // Whether the journey ever waited: one that never does would keep the core to itself.
        let mut waited = false;
        let ran = {
            let mut run = std::pin::pin!(journey.run(&ctx, &row));
            std::future::poll_fn(|cx| {
                // Set during this poll only: a response that came whole in it (other tasks'
                // polls set it too).
                shard.last_response_end.set(None);
                // A panic ends this run (its future is not polled again) and nothing else:
                // what the core counted stays, the slot goes on.
                let poll = match panics::catch(|| run.as_mut().poll(cx)) {
                    Ok(poll) => poll.map(Ran::Returned),
                    Err(message) => Poll::Ready(Ran::Panicked { txn: ctx.current_txn(), message: message.into() }),
                };
                waited |= poll.is_pending();
                poll
            })
            .await
        };
        ended_here = shard.last_response_end.get();
        let backs_off = count_run(&shard, &entry, &ctx, ran, || began.elapsed(), waited);
        entry.pool.borrow_mut().checkin(row);
        entry.wake_row_waiters(1);
        if !entry.restarts && entry.arrivals.is_none() {
            break;
        }
        let pause = backoff.pause_after(backs_off, waited);
        if let Some(pause) = pause {
            ended_here = None;
            sleep(pause).await;
        }
    }
    entry.running.set(entry.running.get() - 1);
}

/// Counts how a run of the journey ended, and leaves no transaction current for the next;
/// returns whether the slot backs off before the next run: after a failure at once, and after
/// every panic, however long its run took (a panic is a fault of the journey, not an answer to
/// measure: one after a 1 ms answer on every run would otherwise repeat a thousand times a
/// second per slot). `took` reads the clock, for returned failures only.
fn count_run(
    shard: &Shard,
    entry: &EntryState,
    ctx: &Ctx,
    ran: Ran,
    took: impl FnOnce() -> Duration,
    waited: bool,
) -> bool {
    entry.active.set(entry.active.get() - 1);
    let backs_off = match &ran {
        Ran::Returned(result) => {
            record_journey(shard, &entry.name, result);
            failed_at_once(result, took, waited)
        }
        Ran::Panicked { txn, message } => {
            record_panic(shard, &entry.name, *txn, message);
            true
        }
    };
    ctx.leave_transactions();
    backs_off
}

/// How one run of a journey ended.
enum Ran {
    /// It returned.
    Returned(JourneyResult),
    /// It panicked in transaction `txn` (the journey's own row when in none), saying `message`
    /// (bounded, printable; boxed: every slot's future holds this).
    Panicked { txn: TxnId, message: Box<str> },
}

impl Ctx {
    /// After a run: no transaction is current, whatever the run left. (After a panic, the open
    /// ones, dropped as it unwound, left the one it was in current: see `Transaction`'s drop;
    /// transactions dropped unfinished and nested, by a timeout around them, are dropped
    /// outermost first, and the innermost gives the current one back to its parent.)
    fn leave_transactions(&self) {
        self.current.set(self.journey);
        self.depth.set(1);
    }
}

/// Counts a journey that panicked: once, as failed, and as an error of transaction `txn`; the
/// first panic's message is kept (one per core) for the result.
fn record_panic(shard: &Shard, journey: &str, txn: TxnId, message: &str) {
    let mut stats = shard.stats.borrow_mut();
    stats.journeys.failed += 1;
    stats.journeys.panicked += 1;
    stats.txn(txn).txn_err += 1;
    stats.sample_error(PANIC_SAMPLE, || panic_sample(journey, message));
}

/// The panic's sample: the journey's name made printable here (it may hold a line break or a
/// backslash), the message as `journey::panics` made it (printable already: not escaped again,
/// which would write its backslashes twice). Each part escaped once, so the line tells a name's
/// backslash-n from its line break.
fn panic_sample(journey: &str, message: &str) -> String {
    format!("journey {} panicked: {message}", crate::model::terminal::printable(journey))
}

/// The name a journey's panic is sampled under (beside `journey` for a journey's error).
pub(crate) const PANIC_SAMPLE: &str = "panic";

/// Counts a journey starting (and the arrival it serves, open model).
fn count_start(shard: &Shard, entry: &EntryState, open: bool) {
    entry.started.set(entry.started.get() + 1);
    let mut stats = shard.stats.borrow_mut();
    stats.journeys.started += 1;
    if let (true, Some(source)) = (open, &entry.arrivals) {
        source.started(&mut stats.journeys);
    }
    entry.active.set(entry.active.get() + 1);
}

/// A journey slot's pause after journeys that fail at once or panic, so that a broken target
/// (or URL, or name, or journey) is not hammered and the core's other tasks (the stop, the progress) still run.
#[derive(Default)]
struct Backoff {
    /// The next pause in microseconds; 0: the next failure pauses `FAILURE_BACKOFF_MIN`. (Not an
    /// `Option<Duration>`: every idle journey's future holds one, 4 bytes rather than 16.)
    next_us: u32,
}

impl Backoff {
    /// The sleep after a journey, if any: an immediate failure or a panic sleeps (1 ms,
    /// doubling to 100 ms); any other outcome resets the pause, and a journey that never waited lets the
    /// runtime turn once (a zero sleep), so that no journey, however quick, can keep the core
    /// from its other tasks. A journey that waited and did not fail at once (the usual one)
    /// goes on without a sleep. A plain function: no `async fn` state per journey.
    fn pause_after(&mut self, backs_off: bool, waited: bool) -> Option<Duration> {
        if backs_off {
            let pause = match self.next_us {
                0 => FAILURE_BACKOFF_MIN,
                us => Duration::from_micros(u64::from(us)),
            };
            let next = (pause * 2).min(FAILURE_BACKOFF_MAX);
            self.next_us = u32::try_from(next.as_micros()).unwrap_or(u32::MAX).max(1);
            return Some(pause);
        }
        self.next_us = 0;
        // A timer, not a mere yield: the runtime fires timers (the core's tick, its stop) only
        // when no task is ready to run, so a task that re-queues itself is not enough.
        (!waited).then_some(Duration::ZERO)
    }
}

/// Whether a journey "failed at once": within `IMMEDIATE_FAILURE`, either without a request
/// reaching a server (no such name, a URL or request that cannot be sent, refused, no route, a TLS
/// failure, no connection free) or without waiting on anything at all. A target that answers,
/// even with an error status, is never backed off from: its answers are what is measured.
/// `took` reads the clock, for failures only.
fn failed_at_once(result: &JourneyResult, took: impl FnOnce() -> Duration, waited: bool) -> bool {
    let Err(err) = result else { return false };
    let nothing_reached_a_server = matches!(
        err.kind(),
        Some(
            ErrorKind::Dns
                | ErrorKind::InvalidUrl
                | ErrorKind::InvalidRequest
                | ErrorKind::Refused
                | ErrorKind::Connect
                | ErrorKind::Tls
                | ErrorKind::NoConnection
        )
    );
    (nothing_reached_a_server || (err.kind().is_none() && !waited)) && took() < IMMEDIATE_FAILURE
}

/// Counts a finished journey; an error no transaction counted is counted against the
/// journey's own row.
#[inline]
pub(crate) fn record_journey(shard: &Shard, journey: &str, result: &JourneyResult) {
    match result {
        Ok(()) => shard.stats.borrow_mut().journeys.ok += 1,
        Err(err) => record_journey_failure(shard, journey, err),
    }
}

/// Counts a failed journey (out of line and cold: the journey that ends well stays short).
#[cold]
#[inline(never)]
fn record_journey_failure(shard: &Shard, journey: &str, err: &JourneyError) {
    let mut stats = shard.stats.borrow_mut();
    stats.journeys.failed += 1;
    stats.sample_error("journey", || err.to_string());
    if !err.is_recorded() {
        let id = stats.root(journey);
        stats.txn(id).txn_err += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10: only failures where nothing reached a server (or nothing was waited on) back
    /// off; an answer, even an error status, never slows the load down.
    #[test]
    fn immediate_failures_are_told_apart() {
        use crate::journey::JourneyError;
        let quick = Duration::from_micros(50);
        let http =
            |kind: ErrorKind| -> JourneyResult { Err(JourneyError::from(crate::http::HttpError::failed(kind, "x"))) };
        assert!(!failed_at_once(&Ok(()), || quick, false));
        for kind in [ErrorKind::Dns, ErrorKind::InvalidUrl, ErrorKind::Refused, ErrorKind::Connect, ErrorKind::Tls] {
            assert!(failed_at_once(&http(kind), || quick, true), "{kind:?}");
            assert!(!failed_at_once(&http(kind), || Duration::from_millis(5), true), "{kind:?}: not immediate");
        }
        for kind in [ErrorKind::Status, ErrorKind::Reset, ErrorKind::Malformed, ErrorKind::Timeout] {
            assert!(!failed_at_once(&http(kind), || quick, true), "{kind:?}: the target answered");
        }
        let own = || -> JourneyResult { Err(JourneyError::msg("check failed")) };
        assert!(failed_at_once(&own(), || quick, false), "failed without waiting on anything");
        assert!(!failed_at_once(&own(), || quick, true), "failed after a response arrived");
    }

    /// What a slot's future holds besides its journey's: every idle journey holds it. The
    /// loop's own state (its core and entry, the context, the row, the intended start, the
    /// backoff, the next start or the pause awaited) stays under the bound.
    #[test]
    fn the_slot_adds_little_to_its_journey() {
        async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
            ctx.http().get("http://127.0.0.1:1/").send().await?;
            Ok(())
        }
        let (mut runtime, _) = crate::driver::CoreRuntime::build(crate::DriverChoice::Epoll).unwrap();
        runtime.block_on(async {
            let client = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
            let shard = Rc::new(Shard::new(0, 1, Arc::default(), client, Instant::now()));
            let entry = Rc::new(EntryState::new("j", PoolShard::unlimited_empty(), true, None));
            let ctx = Ctx::new(shard.clone(), "j");
            let journey_bytes = std::mem::size_of_val(&journey(&ctx, Row::empty()));
            let slot_bytes = std::mem::size_of_val(&slot_loop(Slot::new(shard, entry), RunsAsync(journey)));
            println!("slot {slot_bytes} bytes, journey {journey_bytes} bytes");
            // 1,528 bytes for a 1,256-byte journey in a test build with a panic caught per
            // poll (its run's end counted in a function of its own: 1,576 inline); 1,960 bytes
            // for a 1,624-byte journey before (the journey before's end,
            // kept as the next one's start: 8 bytes); 1,984 for a 1,656-byte one before (the
            // slot's waker among its core's: 24 bytes); 1,752 for a 1,448-byte one before (2,144 for a 1,856-byte one
            // before the exchange's future shrank, the difference is layout; 2,200 with an
            // `async fn` awaiting the next start; a `match` awaiting in one arm made it 2,312).
            assert!(slot_bytes <= journey_bytes + 344, "slot {slot_bytes} bytes for a journey of {journey_bytes}");
        });
    }

    /// The journey before's end stands for the next one's start only while nothing was waited
    /// for between them: a start that waits (for a row, here: the only one is out) forgets it,
    /// so a failed journey's time is never taken from before the wait.
    #[test]
    fn a_start_that_waits_forgets_the_end_before() {
        use crate::model::datapool::DataPool;
        let client = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
        let shard = Shard::new(0, 1, Arc::default(), client, Instant::now());
        let pool = DataPool::recyclable("p", vec![Row::new(["only"])]).shard(0, 1);
        let entry = EntryState::new("j", pool, true, None);
        entry.target.set(1);
        entry.running.set(1);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let end = Some(Moment::now());
        // A row free: ready at once, the end kept.
        let mut ended = end;
        let start = Pin::new(&mut NextStart::new(&shard, &entry, &mut ended)).poll(&mut cx);
        let Poll::Ready(Some((None, row))) = start else { panic!("a row was free") };
        assert_eq!(ended, end);
        // Its row out: the next start waits, and forgets the end.
        let mut next = NextStart::new(&shard, &entry, &mut ended);
        assert!(Pin::new(&mut next).poll(&mut cx).is_pending());
        entry.pool.borrow_mut().checkin(row);
        assert!(matches!(Pin::new(&mut next).poll(&mut cx), Poll::Ready(Some(_))));
        drop(next);
        assert_eq!(ended, None, "an end from before the wait");
    }

    /// Each part of a panic's sample is escaped once: a journey named with a backslash-n and
    /// one named with a line break are told apart, as are the same in the message. (The name
    /// went in raw and the report kept backslashes: both names printed as `a\nb`.)
    #[test]
    fn a_panic_sample_escapes_the_name_and_the_message_once() {
        let caught = |text: &'static str| {
            crate::journey::panics::install_hook();
            crate::journey::panics::catch(|| -> u32 { std::panic::panic_any(text) }).unwrap_err()
        };
        let backslash_n = panic_sample("a\\nb", &caught("x\\ny"));
        let line_break = panic_sample("a\nb", &caught("x\ny"));
        assert!(backslash_n.starts_with(r"journey a\\nb panicked: x\\ny (at "), "{backslash_n}");
        assert!(line_break.starts_with(r"journey a\nb panicked: x\ny (at "), "{line_break}");
        // As the report prints it: escapes kept, nothing written twice.
        let shown = crate::model::terminal::printable_composed(&line_break);
        assert_eq!(shown, line_break);
        // Counted once, sampled as said.
        let client = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
        let shard = Shard::new(0, 1, Arc::default(), client, Instant::now());
        let txn = shard.stats.borrow_mut().root("a\nb");
        record_panic(&shard, "a\nb", txn, "x\\ny");
        let snapshot = shard.stats.borrow_mut().take_snapshot(0, 1.0, 0, true);
        assert_eq!(snapshot.journeys.panicked, 1);
        assert_eq!(snapshot.error_samples, [(PANIC_SAMPLE, r"journey a\nb panicked: x\ny".to_string())]);
    }

    /// Immediate failures back off 1, 2, 4 … 100 ms; anything else resets the pause; a journey
    /// that never waited still lets the runtime turn (a zero sleep); the usual journey (it
    /// waited, it did not fail at once) goes on with no sleep at all.
    #[test]
    fn the_pause_after_a_journey() {
        let mut backoff = Backoff::default();
        assert_eq!(backoff.pause_after(false, true), None, "a journey that waited goes on");
        assert_eq!(backoff.pause_after(false, false), Some(Duration::ZERO), "one that never waited yields");
        let pauses: Vec<_> = (0..9).map(|_| backoff.pause_after(true, true).unwrap()).collect();
        assert_eq!(pauses[..3], [FAILURE_BACKOFF_MIN, FAILURE_BACKOFF_MIN * 2, FAILURE_BACKOFF_MIN * 4]);
        assert_eq!(pauses[8], FAILURE_BACKOFF_MAX, "{pauses:?}");
        assert_eq!(backoff.pause_after(false, true), None);
        assert_eq!(backoff.pause_after(true, true), Some(FAILURE_BACKOFF_MIN), "reset by a journey that did not fail");
    }
}
