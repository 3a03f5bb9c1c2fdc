//! Open-model arrival scheduling on one core: a task per arrival-rate entry turns the core's
//! share of the rate into intended start times, queues them (bounded), and keeps up to its
//! share of `max_in_flight` journey slots serving the queue. The counting itself
//! (`requested = started + missed + datapool exhausted`) is `exec::arrivals`'.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::driver::pause;
use crate::exec::arrivals::{ArrivalClock, ArrivalQueue, instant_at};
use crate::exec::run_stop::RunStop;
use crate::journey::Journey;
use crate::journey::shard::Shard;
use crate::journey::slot::{ArrivalSource, EntryState, Slot};
use crate::limits::{ARRIVAL_QUEUE_PER_CORE_MIN, ARRIVAL_QUEUE_PER_SLOT, CORE_POLL_INTERVAL};
use crate::model::volume::RateModel;
use crate::stats::JourneyCounts;

/// Open model: one entry's intended start times on one core, waiting for a journey slot.
pub struct Arrivals {
    /// This core's share of the rate, as intended start times.
    clock: RefCell<ArrivalClock>,
    /// Arrivals waiting for a slot (bounded; more are counted as missed).
    queue: RefCell<ArrivalQueue>,
    /// Journey slots this core may run for the entry.
    pub(crate) slots_max: u64,
    /// Slots waiting for an arrival.
    idle: Cell<u64>,
    waiters: RefCell<Vec<Waker>>,
}

impl Arrivals {
    /// Part `part` of `parts` (cores × segments) of `rate`, served by at most `slots_max` slots.
    pub(crate) fn new(rate: RateModel, part: usize, parts: usize, slots_max: u64) -> Arrivals {
        let capacity = ARRIVAL_QUEUE_PER_CORE_MIN.max(slots_max as usize * ARRIVAL_QUEUE_PER_SLOT);
        Arrivals {
            clock: RefCell::new(ArrivalClock::new(rate, part, parts)),
            queue: RefCell::new(ArrivalQueue::new(capacity)),
            slots_max,
            idle: Cell::new(0),
            waiters: RefCell::new(Vec::new()),
        }
    }

    /// Queues every arrival that came due before `until_s` (seconds since `started`);
    /// `false` once the rate model has ended.
    pub(crate) fn queue_due(&self, shard: &Shard, started: Instant, until_s: f64) -> bool {
        let mut stats = shard.stats.borrow_mut();
        let mut queue = self.queue.borrow_mut();
        let mut clock = self.clock.borrow_mut();
        let going = clock.due(until_s, |t| queue.arrive(instant_at(started, t), &mut stats.journeys));
        let until_us = (clock.scheduled_until_s(until_s) * 1e6) as u64;
        stats.journeys.arrivals_until_us = stats.journeys.arrivals_until_us.max(until_us);
        going
    }

    /// When the rate model ends, seconds since the start (`None`: it goes on until the run's
    /// end).
    pub(crate) fn end_s(&self) -> Option<f64> {
        self.clock.borrow().end_s()
    }

    /// Wakes up to `count` slots waiting for an arrival.
    pub(crate) fn wake(&self, count: usize) {
        let mut waiters = self.waiters.borrow_mut();
        let keep = waiters.len().saturating_sub(count);
        for waker in waiters.drain(keep..) {
            waker.wake();
        }
    }

    /// The run stopped: arrivals still waiting never start, counted once: as missed, or, when
    /// the entry's single-use datapool ran out (`exhausted`), as left by it.
    pub(crate) fn close(&self, counts: &mut JourneyCounts, exhausted: bool) {
        self.queue.borrow_mut().close(counts, exhausted);
    }
}

impl ArrivalSource for Arrivals {
    fn poll_take(
        &self,
        stopping: bool,
        ended: bool,
        waiting: &mut bool,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Instant>> {
        // After the stop nothing is taken: what still waits is counted as missed, once, by
        // the queue's close.
        let next = if stopping { None } else { self.queue.borrow_mut().take() };
        if next.is_some() || ended {
            if *waiting {
                self.idle.set(self.idle.get() - 1);
                *waiting = false;
            }
            return Poll::Ready(next);
        }
        if !*waiting {
            self.idle.set(self.idle.get() + 1);
            *waiting = true;
        }
        self.waiters.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }

    fn forget_waiter(&self) {
        self.idle.set(self.idle.get() - 1);
    }

    fn started(&self, counts: &mut JourneyCounts) {
        ArrivalQueue::started(counts);
    }

    fn missed(&self, counts: &mut JourneyCounts) {
        ArrivalQueue::missed(counts);
    }

    fn datapool_exhausted(&self, counts: &mut JourneyCounts) {
        ArrivalQueue::datapool_exhausted(counts);
    }
}

/// Turns this core's share of the rate into intended start times, queues them, and keeps
/// enough journey slots running (up to the entry's limit) to serve the queue. `run`: when the
/// run started, its duration, and its stop.
pub(crate) async fn schedule_arrivals(
    shard: Rc<Shard>,
    entry: Rc<EntryState>,
    arrivals: Rc<Arrivals>,
    journey: Arc<dyn Journey>,
    run: (Instant, Duration, Arc<RunStop>),
) {
    let (started, duration, stop) = run;
    loop {
        if shard.stopping.get() || entry.stopped.get() || entry.exhausted.get() {
            break;
        }
        // A scheduler that wakes late (a busy core) never queues arrivals past the run's end,
        // nor past the instant the stop was taken (by whichever core saw the flag first): its
        // core may notice the stop later, but schedules no arrival due after it.
        let until = stop.scheduled_until(Instant::now());
        let until_s = until.saturating_duration_since(started).min(duration).as_secs_f64();
        if !arrivals.queue_due(&shard, started, until_s) {
            entry.stopped.set(true);
        }
        let backlog = arrivals.queue.borrow().len() as u64;
        let spawnable = arrivals.slots_max.saturating_sub(entry.running.get());
        let wanted = backlog.saturating_sub(arrivals.idle.get()).min(spawnable);
        for _ in 0..wanted {
            entry.running.set(entry.running.get() + 1);
            journey.spawn_slot(Slot::new(shard.clone(), entry.clone()));
        }
        arrivals.wake(backlog as usize);
        if entry.stopped.get() {
            break;
        }
        // The next arrival, or the model's end: the entry runs to its end, not to its last
        // arrival (a low last stage, a quiet stretch, are part of the model's time).
        let wait = match arrivals.clock.borrow().wake_s() {
            Some(at_s) => instant_at(started, at_s).saturating_duration_since(Instant::now()),
            None => CORE_POLL_INTERVAL,
        };
        pause(wait.min(CORE_POLL_INTERVAL)).await;
    }
    if entry.exhausted.get() {
        // The single-use pool ran out: what still waits will never start, and is counted now,
        // in this interval, not at the run's stop (another entry may run on long after).
        arrivals.close(&mut shard.stats.borrow_mut().journeys, true);
    }
    arrivals.wake(usize::MAX);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::Waker;

    use super::*;
    use crate::http::{HttpClient, HttpSettings};
    use crate::model::config::Config;

    fn shard() -> Shard {
        let http = HttpClient::new(Arc::new(HttpSettings::default()), None);
        Shard::new(0, 1, Arc::new(Config::default()), http, Instant::now())
    }

    /// The scheduler starts only as many slots as the backlog needs beyond the idle ones, so
    /// `idle` must count each waiting slot exactly once: a slot that waits counts, one that
    /// takes an arrival, sees the end, or is dropped while waiting stops counting.
    #[test]
    fn a_waiting_slot_counts_as_idle_exactly_once() {
        let arrivals = Arrivals::new(RateModel::Constant { per_s: 1000.0, duration_s: None }, 0, 1, 4);
        let mut cx = Context::from_waker(Waker::noop());
        let (mut first, mut second) = (false, false);
        assert!(arrivals.poll_take(false, false, &mut first, &mut cx).is_pending());
        assert!(arrivals.poll_take(false, false, &mut first, &mut cx).is_pending(), "polled again");
        assert!(arrivals.poll_take(false, false, &mut second, &mut cx).is_pending());
        assert_eq!(arrivals.idle.get(), 2, "two slots wait, each counted once");
        let shard = shard();
        let started = Instant::now();
        assert!(arrivals.queue_due(&shard, started, 0.0015), "the rate goes on");
        assert_eq!(shard.stats.borrow().journeys.scheduled, 2, "arrivals at 0 and 1 ms");
        assert!(matches!(arrivals.poll_take(false, false, &mut first, &mut cx), Poll::Ready(Some(_))));
        assert!(!first);
        assert_eq!(arrivals.idle.get(), 1);
        // A slot dropped while waiting (the run stops) gives its place back.
        assert!(second);
        arrivals.forget_waiter();
        assert_eq!(arrivals.idle.get(), 0);
        // After the stop nothing is taken: what waits is missed once, at the queue's close.
        let mut third = false;
        assert!(matches!(arrivals.poll_take(true, true, &mut third, &mut cx), Poll::Ready(None)));
        assert_eq!(arrivals.idle.get(), 0);
        arrivals.close(&mut shard.stats.borrow_mut().journeys, false);
        let journeys = &shard.stats.borrow().journeys;
        assert_eq!((journeys.scheduled, journeys.missed), (2, 1), "one taken, one missed at the stop");
    }

    /// Outside try, finding 7: `rate = 50` over `--duration 2s --grace 1s` said `requested
    /// 100 (35/s)`, divided by the run with its grace. The cores record how far they scheduled
    /// (the stop, or the rate model's own end) and the rates are over that.
    #[test]
    fn the_time_arrivals_were_scheduled_over_is_recorded() {
        let shard = shard();
        let started = Instant::now();
        let arrivals = Arrivals::new(RateModel::Constant { per_s: 50.0, duration_s: None }, 0, 1, 10);
        arrivals.queue_due(&shard, started, 1.0);
        arrivals.queue_due(&shard, started, 2.0);
        let journeys = shard.stats.borrow().journeys;
        assert_eq!((journeys.scheduled, journeys.arrivals_until_us), (100, 2_000_000));
        let seconds = crate::output::result_file::arrivals_window_s(&journeys, 2.9);
        assert_eq!(journeys.scheduled as f64 / seconds, 50.0, "the rate asked, not 100 / 2.9 s");
        // A rate model of 1 s in a longer run: its arrivals span its own second.
        let shard = self::shard();
        let short = Arrivals::new(RateModel::Constant { per_s: 50.0, duration_s: Some(1.0) }, 0, 1, 10);
        assert!(!short.queue_due(&shard, started, 1.3), "the model ended");
        let journeys = shard.stats.borrow().journeys;
        assert_eq!((journeys.scheduled, journeys.arrivals_until_us), (50, 1_000_000));
        let mut merged = crate::stats::JourneyCounts { arrivals_until_us: 400, ..Default::default() };
        merged.merge(&journeys);
        assert_eq!(merged.arrivals_until_us, 1_000_000, "cores and segments: the latest");
    }

    /// Outside tester: `rate = 50, duration = "2s"` read `arrivals over 1.98s: requested 100
    /// (51/s)`: the scheduler stopped (its entry done) at the last arrival, 1.98 s, and recorded
    /// that as the window. It goes on to the model's end, and the window is the model's span.
    #[test]
    fn the_scheduler_goes_on_to_the_model_end() {
        let shard = shard();
        let started = Instant::now();
        let arrivals = Arrivals::new(RateModel::Constant { per_s: 50.0, duration_s: Some(2.0) }, 0, 1, 10);
        assert!(arrivals.queue_due(&shard, started, 1.985), "the entry stopped at its last arrival");
        assert_eq!(arrivals.clock.borrow().wake_s(), Some(2.0), "the scheduler wakes for the model's end");
        assert!(!arrivals.queue_due(&shard, started, 2.0004), "the model ended at 2 s");
        let journeys = shard.stats.borrow().journeys;
        assert_eq!((journeys.scheduled, journeys.arrivals_until_us), (100, 2_000_000));
        let seconds = crate::output::result_file::arrivals_window_s(&journeys, 2.3);
        assert_eq!(journeys.scheduled as f64 / seconds, 50.0, "requested 100 over 2.00 s: 50/s");
    }
}
