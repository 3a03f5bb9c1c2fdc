//! The engine's sleeps and timeouts: one set of deadline queues per core thread (`deadlines`:
//! a timer is appended to its duration's queue and unlinked in O(1); request timeouts use no
//! timer of their own, see `io_deadlines`), driven by a
//! single runtime timer per core that sleeps until the earliest deadline. A `Sleep` is 32 bytes, where
//! the runtime's own is 640 bytes aligned to 128 (cache-padded for threads the engine does not
//! have): every journey future that can wait holds one, so a journey idle between requests
//! costs a few KiB less. Precision: on io_uring the driver waits on a timerfd through the ring
//! (`alarm`), and deadlines fire on the first `TIMER_RESOLUTION` (50 µs) grid time at or after
//! them; on epoll it sleeps on the runtime's timer, and they fire on the first millisecond tick.

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::alarm::Alarm;
use super::deadlines::Deadlines;

/// The core thread's timers.
struct Timers {
    deadlines: Deadlines,
    /// Bumped when the timers are forgotten with their runtime: a `Sleep` of an older epoch
    /// holds no slot any more.
    epoch: u32,
    /// Whether this runtime's `TimerDriver` task is running.
    driver_running: bool,
    /// The deadline the driver sleeps until; `None` while it waits for a first timer.
    armed: Option<Instant>,
    /// io_uring: the alarm the driver waits on, set here to each earlier deadline.
    alarm: Option<Alarm>,
    driver: Option<Waker>,
    /// Wakers of fired timers, kept for reuse (no allocation per firing).
    fired: Vec<Waker>,
    /// The own runtime's alarm and the descriptor its driver reads, made when the runtime is
    /// built (a timerfd refused there fails the start, not a first sleep).
    own_alarm: Option<(Alarm, OwnedFd)>,
}

impl Timers {
    const fn new() -> Self {
        Timers {
            deadlines: Deadlines::new(),
            epoch: 0,
            driver_running: false,
            armed: None,
            alarm: None,
            driver: None,
            fired: Vec::new(),
            own_alarm: None,
        }
    }
}

thread_local! {
    // `const`: every access skips the lazy start's check.
    static TIMERS: RefCell<Timers> = const { RefCell::new(Timers::new()) };
}

/// Waits until `deadline` (a think time, a timeout's limit) without blocking the core.
#[must_use = "a sleep does nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    /// `(slot, epoch)` while armed.
    armed: Option<(u32, u32)>,
    done: bool,
    /// A journey's think time (counted by [`thinking`] while armed).
    think: bool,
    /// Its slot is in this thread's timers: it cannot move to another thread.
    _this_thread: PhantomData<Rc<()>>,
}

/// A sleep ending `duration` from now (a duration past the clock's range never ends).
pub fn sleep_for(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

/// `duration` from now, or a year past the longest a run lasts when that is further than the
/// clock can count.
fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration).unwrap_or_else(|| now + FAR_FUTURE)
}

/// Later than any run ends (runs last at most 7 days).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365);

/// A journey's think time of `duration`: while it waits, the journey has nothing in flight, and
/// a run's stop need not wait for it (see [`thinking`]).
pub fn think_for(duration: Duration) -> Sleep {
    Sleep { think: true, ..sleep_for(duration) }
}

/// A journey's think time ending at `deadline`.
pub fn think_until(deadline: Instant) -> Sleep {
    Sleep { think: true, ..sleep_until(deadline) }
}

/// Think times waiting on this core now.
pub fn thinking() -> u64 {
    TIMERS.with(|timers| timers.borrow().deadlines.thinking())
}

/// When the first think time waiting on this core ends (`None`: none is waiting).
pub fn first_think_ends() -> Option<Instant> {
    TIMERS.with(|timers| timers.borrow().deadlines.earliest_think())
}

/// A sleep ending at `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline, armed: None, done: false, think: false, _this_thread: PhantomData }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        // A replaced waker is dropped after the borrow ends: dropping it may drop a task whose
        // own sleeps would borrow the timers again.
        let (ready, _replaced) = TIMERS.with(|timers| {
            let timers = &mut *timers.borrow_mut();
            match this.armed {
                Some((slot, epoch)) if epoch == timers.epoch => {
                    if !timers.deadlines.has_fired(slot) {
                        return (false, timers.deadlines.set_waker(slot, cx.waker()));
                    }
                    (true, timers.deadlines.release(slot))
                }
                // Forgotten with an earlier runtime: nothing will wake it; end it.
                Some(_) => (true, None),
                None => {
                    let slot = timers.deadlines.insert(this.deadline, cx.waker().clone(), this.think);
                    this.armed = Some((slot, timers.epoch));
                    wake_driver_for(timers, this.deadline);
                    (false, None)
                }
            }
        });
        if ready {
            this.armed = None;
            this.done = true;
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((slot, epoch)) = self.armed {
            // The waker is dropped after the borrow ends: dropping it may drop a task.
            let waker = TIMERS
                .try_with(|timers| {
                    let timers = &mut *timers.borrow_mut();
                    (timers.epoch == epoch).then(|| timers.deadlines.release(slot)).flatten()
                })
                .ok()
                .flatten();
            drop(waker);
        }
    }
}

/// Starts the driver on the current runtime, or wakes it when `deadline` comes before the one
/// it sleeps until.
fn wake_driver_for(timers: &mut Timers, deadline: Instant) {
    if !timers.driver_running {
        timers.driver_running = true;
        if let Some((alarm, file)) = alarm_on_the_ring(timers) {
            let at = alarm.rings_for(deadline);
            alarm.set(at);
            timers.armed = Some(at);
            timers.alarm = Some(alarm);
            super::spawn(ring_alarm(file, timers.epoch));
            return;
        }
        if super::ring::running() {
            // The own runtime has no timer of its own: without an alarm (out of descriptors)
            // the next sleep tries again.
            timers.driver_running = false;
            return;
        }
        timers.armed = Some(deadline);
        super::spawn(TimerDriver { sleep: None, armed: None, epoch: timers.epoch });
    } else if let Some(alarm) = &timers.alarm {
        // A deadline at or after the armed grid time rounds to it or later: nothing to do, and
        // the usual case (a request's timeout far behind the next ring) costs one comparison.
        if timers.armed.is_none_or(|armed| deadline < armed) {
            let at = alarm.rings_for(deadline);
            if timers.armed.is_none_or(|armed| at < armed) {
                alarm.set(at);
                timers.armed = Some(at);
            }
        }
    } else if timers.armed.is_none_or(|armed| deadline < armed) {
        timers.armed = Some(deadline);
        if let Some(driver) = &timers.driver {
            driver.wake_by_ref();
        }
    }
}

/// The descriptor the timer task reads the alarm's expiries from: a file of monoio's ring, or
/// a descriptor read through the own runtime's ring (closed through it too: a close of its own
/// could come before the read's entry reaches the kernel, see `ring::RingFd`).
enum AlarmFile {
    Monoio(monoio::fs::File),
    Own(super::ring::RingFd),
}

impl AlarmFile {
    async fn read(&self, buf: Vec<u8>) -> (std::io::Result<usize>, Vec<u8>) {
        match self {
            AlarmFile::Monoio(file) => file.read_at(buf, 0).await,
            AlarmFile::Own(fd) => super::ring::read(fd, buf).await,
        }
    }
}

/// Makes the own runtime's alarm now, for its first timer to take.
pub(super) fn prepare_own_alarm() -> std::io::Result<()> {
    let alarm = Alarm::new()?;
    let duplicate = alarm.fd().try_clone()?;
    TIMERS.with(|timers| timers.borrow_mut().own_alarm = Some((alarm, duplicate)));
    Ok(())
}

/// On an io_uring runtime: an alarm, and its descriptor as the runtime's file for the driver to
/// read (the same timer: a duplicate descriptor). `None` on epoll (a read there would block
/// the core) or when the kernel refuses a timerfd.
fn alarm_on_the_ring(timers: &mut Timers) -> Option<(Alarm, AlarmFile)> {
    if super::ring::running() {
        if let Some((alarm, fd)) = timers.own_alarm.take() {
            return Some((alarm, AlarmFile::Own(fd.into())));
        }
        let alarm = Alarm::new().ok()?;
        let duplicate = alarm.fd().try_clone().ok()?;
        return Some((alarm, AlarmFile::Own(duplicate.into())));
    }
    if monoio::utils::is_legacy() {
        return None;
    }
    let alarm = Alarm::new().ok()?;
    let duplicate = alarm.fd().try_clone().ok()?;
    let file = monoio::fs::File::from_std(std::fs::File::from(duplicate)).ok()?;
    Some((alarm, AlarmFile::Monoio(file)))
}

/// The io_uring core's one timer task: waits for the alarm to ring, fires what is due, and
/// sets the alarm to the next deadline (or clears it). Never ends (dropped with its runtime).
async fn ring_alarm(file: AlarmFile, epoch: u32) {
    // Declared after the file, so dropped before it: the timers forget the alarm first.
    let _running = DriverRunning { epoch };
    let mut expirations = vec![0u8; 8];
    loop {
        let (read, buf) = file.read(expirations).await;
        expirations = buf;
        if read.is_err() {
            if matches!(file, AlarmFile::Own(_)) {
                // No runtime timer to fall back on: this task ends, and the next sleep starts
                // a driver on a new alarm.
                return;
            }
            // A read the ring refuses cannot be waited on again; the runtime's timer takes over.
            return fall_back_to_the_runtime_timer(epoch).await;
        }
        fire_due_and_rearm(epoch);
    }
}

/// Fires what is due and sets the alarm to the next deadline's grid time, or clears it.
fn fire_due_and_rearm(epoch: u32) {
    let now = Instant::now();
    let fired = TIMERS.with(|timers| {
        let timers = &mut *timers.borrow_mut();
        if timers.epoch != epoch {
            return None;
        }
        let (fired, next) = take_due(timers, now);
        if let Some(alarm) = &timers.alarm {
            timers.armed = next.map(|next| alarm.rings_for(next));
            match timers.armed {
                Some(at) => alarm.set(at),
                None => alarm.clear(),
            }
        }
        Some(fired)
    });
    if let Some(fired) = fired {
        wake_fired(fired);
    }
}

/// The wakers of the deadlines due at `now` (in the timers' reused list), and the earliest
/// deadline left.
fn take_due(timers: &mut Timers, now: Instant) -> (Vec<Waker>, Option<Instant>) {
    let mut fired = std::mem::take(&mut timers.fired);
    timers.deadlines.fire_due(now, &mut fired);
    (fired, timers.deadlines.earliest())
}

/// Wakes the fired timers' tasks outside the timers' borrow (a woken task may sleep again),
/// then hands the emptied list back for reuse (no allocation per firing).
fn wake_fired(mut fired: Vec<Waker>) {
    for waker in fired.drain(..) {
        waker.wake();
    }
    TIMERS.with(|timers| timers.borrow_mut().fired = fired);
}

/// The alarm could not be read: the runtime's timer drives this core's timers from now on.
async fn fall_back_to_the_runtime_timer(epoch: u32) {
    let ours = TIMERS.with(|timers| {
        let timers = &mut *timers.borrow_mut();
        let ours = timers.epoch == epoch;
        if ours {
            timers.alarm = None;
            timers.armed = timers.deadlines.earliest();
        }
        ours
    });
    if ours {
        TimerDriver { sleep: None, armed: None, epoch }.await;
    }
}

/// While alive, this runtime's driver runs; dropped with it, the timers forget it.
struct DriverRunning {
    epoch: u32,
}

impl Drop for DriverRunning {
    fn drop(&mut self) {
        forget_driver(self.epoch);
    }
}

fn forget_driver(epoch: u32) {
    let _ = TIMERS.try_with(|timers| {
        let timers = &mut *timers.borrow_mut();
        if timers.epoch == epoch {
            timers.driver_running = false;
            timers.armed = None;
            timers.alarm = None;
            timers.driver = None;
        }
    });
}

/// The core's one runtime timer: sleeps until the earliest deadline, fires what is due, and
/// sleeps again. A task that never ends (it is dropped with its runtime).
struct TimerDriver {
    /// Boxed: the runtime's sleep is pinned and large; one per core.
    sleep: Option<Pin<Box<monoio::time::Sleep>>>,
    armed: Option<Instant>,
    epoch: u32,
}

impl Future for TimerDriver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let now = Instant::now();
            let (fired, next) = TIMERS.with(|timers| {
                let timers = &mut *timers.borrow_mut();
                let (fired, next) = take_due(timers, now);
                timers.armed = next;
                // The driver's own waker: replacing it never drops the last reference to a task.
                if !timers.driver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    timers.driver = Some(cx.waker().clone());
                }
                (fired, next)
            });
            wake_fired(fired);
            let Some(next) = next else { return Poll::Pending };
            let sleep = this.sleep.get_or_insert_with(|| Box::pin(monoio::time::sleep_until(next.into())));
            if this.armed != Some(next) {
                sleep.as_mut().reset(next.into());
                this.armed = Some(next);
            }
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

impl Drop for TimerDriver {
    fn drop(&mut self) {
        forget_driver(self.epoch);
    }
}

/// Forgets this thread's timers (their runtime is being dropped): returns the wakers of the
/// tasks still sleeping, for the caller to drop inside the runtime, and makes the next
/// runtime on this thread start its own driver.
pub(super) fn forget_all() -> Vec<Waker> {
    TIMERS
        .try_with(|timers| {
            let timers = &mut *timers.borrow_mut();
            timers.epoch = timers.epoch.wrapping_add(1);
            timers.driver_running = false;
            timers.armed = None;
            timers.alarm = None;
            timers.own_alarm = None;
            let mut wakers = timers.deadlines.take_all();
            wakers.extend(timers.driver.take());
            wakers
        })
        .unwrap_or_default()
}

/// `future` did not finish within its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

pin_project_lite::pin_project! {
    /// A future with a time limit: its output, or `TimedOut` once the deadline passes first.
    #[must_use = "a timeout does nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

/// Runs `future` for at most `limit`.
pub fn timeout<F: Future>(limit: Duration, future: F) -> Timeout<F> {
    Timeout { future, sleep: sleep_until(deadline_after(limit)) }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, TimedOut>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        Pin::new(this.sleep).poll(cx).map(|()| Err(TimedOut))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::DriverChoice;
    use crate::driver::CoreRuntime;

    fn each_driver(test: impl Fn(&mut CoreRuntime)) {
        for choice in [DriverChoice::Epoll, DriverChoice::Auto, DriverChoice::IoUring, DriverChoice::Own] {
            // io_uring and the own runtime need io_uring: where it cannot start, the others are
            // tested (the default, `Auto`, is then epoll).
            let Ok((mut runtime, _)) = CoreRuntime::build(choice) else { continue };
            test(&mut runtime);
        }
    }

    #[test]
    fn a_sleep_is_small() {
        assert!(std::mem::size_of::<Sleep>() <= 32, "{}", std::mem::size_of::<Sleep>());
        assert_eq!(std::mem::align_of::<Sleep>(), 8);
    }

    /// Outside try: an open model at 200/s against a 50 µs target read corrected p50 1–1.5 ms
    /// with no queueing: each arrival's timer rang on the runtime's next millisecond tick. On
    /// io_uring a sleep now ends on the 50 µs grid: the median of 41 sleeps of 200 µs is well
    /// under the millisecond every one of them took before (a median, so that a busy machine's
    /// odd late wake does not decide it). On epoll the millisecond tick stays.
    #[test]
    fn on_io_uring_a_short_sleep_ends_within_the_grid_not_on_the_next_millisecond() {
        let Ok((mut runtime, None)) = CoreRuntime::build(DriverChoice::IoUring) else { return };
        let mut took: Vec<Duration> = runtime.block_on(async {
            let mut took = Vec::new();
            for _ in 0..41 {
                let started = Instant::now();
                sleep_for(Duration::from_micros(200)).await;
                took.push(started.elapsed());
            }
            took
        });
        took.sort();
        assert!(took[0] >= Duration::from_micros(200), "a sleep ended early: {:?}", took[0]);
        assert!(took[20] < Duration::from_micros(700), "median {:?} of {took:?}", took[20]);
    }

    #[test]
    fn sleeps_end_at_their_deadline_in_order() {
        each_driver(|runtime| {
            let order = Rc::new(RefCell::new(Vec::new()));
            let started = Instant::now();
            runtime.block_on(async {
                for ms in [30u64, 10, 20] {
                    let order = order.clone();
                    super::super::spawn(async move {
                        sleep_for(Duration::from_millis(ms)).await;
                        order.borrow_mut().push((ms, started.elapsed()));
                    });
                }
                sleep_for(Duration::from_millis(50)).await;
            });
            let order = order.borrow();
            assert_eq!(order.iter().map(|o| o.0).collect::<Vec<_>>(), [10, 20, 30]);
            for &(ms, took) in order.iter() {
                assert!(took >= Duration::from_millis(ms), "{ms} ms ended after {took:?}");
            }
        });
    }

    #[test]
    fn an_earlier_deadline_wakes_the_driver_sleeping_for_a_later_one() {
        each_driver(|runtime| {
            let took = runtime.block_on(async {
                super::super::spawn(async { sleep_for(Duration::from_secs(5)).await });
                sleep_for(Duration::from_millis(1)).await; // the driver now sleeps until +5 s
                let started = Instant::now();
                sleep_for(Duration::from_millis(10)).await;
                started.elapsed()
            });
            assert!(took >= Duration::from_millis(10) && took < Duration::from_secs(1), "{took:?}");
        });
    }

    #[test]
    fn a_timeout_gives_the_output_or_times_out_and_leaves_no_timer() {
        each_driver(|runtime| {
            runtime.block_on(async {
                assert_eq!(timeout(Duration::from_secs(1), async { 7 }).await, Ok(7));
                let slow = timeout(Duration::from_millis(5), sleep_for(Duration::from_secs(5)));
                assert_eq!(slow.await, Err(TimedOut));
                let fast = timeout(Duration::from_secs(5), sleep_for(Duration::from_millis(2)));
                assert_eq!(fast.await, Ok(()));
                assert_eq!(TIMERS.with(|t| t.borrow().deadlines.armed()), 0, "every timer released");
            });
        });
    }

    #[test]
    fn endless_sleeps_neither_panic_nor_stop_other_timers() {
        each_driver(|runtime| {
            runtime.block_on(async {
                for forever in [Duration::MAX, Duration::from_secs(86_400 * 365 * 30)] {
                    super::super::spawn(async move { sleep_for(forever).await });
                    assert_eq!(timeout(forever, sleep_for(Duration::from_millis(2))).await, Ok(()));
                }
                let started = Instant::now();
                sleep_for(Duration::from_millis(5)).await;
                assert!(started.elapsed() < Duration::from_secs(1));
            });
        });
    }

    #[test]
    fn a_replaced_waker_is_dropped_outside_the_timers_borrow() {
        // A waker whose drop (the last reference to its task) touches the timers, as a task
        // holding sleeps of its own does.
        struct TouchesTimersOnDrop;
        impl Drop for TouchesTimersOnDrop {
            fn drop(&mut self) {
                TIMERS.with(|timers| drop(timers.borrow_mut()));
            }
        }
        struct Task(#[allow(dead_code)] TouchesTimersOnDrop);
        impl std::task::Wake for Task {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        each_driver(|runtime| {
            runtime.block_on(async {
                let mut sleep = std::pin::pin!(sleep_for(Duration::from_secs(5)));
                let last = Waker::from(std::sync::Arc::new(Task(TouchesTimersOnDrop)));
                assert!(sleep.as_mut().poll(&mut Context::from_waker(&last)).is_pending());
                drop(last); // the timer's slot now holds the only reference
                assert!(sleep.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
            });
        });
    }

    #[test]
    fn think_times_are_counted_while_they_wait_and_only_they() {
        each_driver(|runtime| {
            runtime.block_on(async {
                super::super::spawn(async { sleep_for(Duration::from_secs(60)).await }); // the engine's
                // Long enough that a loaded machine's 1 ms sleep below does not outlast it.
                super::super::spawn(async { think_for(Duration::from_millis(300)).await });
                let mut dropped = Box::pin(think_for(Duration::from_secs(60)));
                assert!(dropped.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
                sleep_for(Duration::from_millis(1)).await;
                assert_eq!(thinking(), 2, "the spawned think time and the one polled");
                drop(dropped);
                assert_eq!(thinking(), 1, "a dropped think time leaves the count");
                sleep_for(Duration::from_millis(400)).await;
                assert_eq!(thinking(), 0, "an ended think time leaves the count");
            });
        });
    }

    #[test]
    fn a_zero_sleep_yields_to_other_tasks() {
        each_driver(|runtime| {
            let ran = runtime.block_on(async {
                let ran = Rc::new(Cell::new(false));
                let set = ran.clone();
                super::super::spawn(async move { set.set(true) });
                sleep_for(Duration::ZERO).await;
                ran.get()
            });
            assert!(ran);
        });
    }

    #[test]
    fn a_new_runtime_on_the_same_thread_has_working_timers() {
        for _ in 0..3 {
            let (mut runtime, _) = CoreRuntime::build(DriverChoice::Auto).unwrap();
            runtime.block_on(async {
                // Left sleeping when the runtime goes: forgotten, not fired into the next one.
                super::super::spawn(async { sleep_for(Duration::from_secs(60)).await });
                let started = Instant::now();
                sleep_for(Duration::from_millis(3)).await;
                assert!(started.elapsed() < Duration::from_secs(1));
            });
        }
    }
}
