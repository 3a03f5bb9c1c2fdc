//! The own runtime's single-threaded executor: tasks on the heap with a plain (non-atomic)
//! reference count, a run queue, `spawn`, and the turn loop `block_on` runs between the tasks
//! and the ring.
//!
//! Wakers and threads: a `Waker` is `Send`, so safe code may move a clone of one to another
//! thread. Every entry of the waker's table first checks that it runs on the thread that made
//! the task (a thread-local's address, a few instructions); on any other thread it aborts the
//! process with a message before touching the task. A cross-thread wake is thus made
//! impossible (a defined stop, never a data race), not supported: the engine's tasks never wake
//! one another across cores.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// What every task starts with; the future follows it in the same allocation.
struct Header {
    /// Wakers, the run queue's entry and the executor's list each hold one.
    refs: Cell<usize>,
    /// In the run queue now (a second wake before the poll queues nothing).
    queued: Cell<bool>,
    /// The future has returned or was dropped: wakes are ignored.
    done: Cell<bool>,
    /// Where this task sits in the executor's list of live tasks.
    index: Cell<usize>,
    /// The making thread's mark (see [`this_thread`]).
    owner: *const u8,
    vtable: &'static TaskVtable,
}

struct TaskVtable {
    /// Polls the future once; true when it has returned.
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> bool,
    /// Drops the future (returned or not).
    drop_future: unsafe fn(NonNull<Header>),
    /// Frees the allocation.
    free: unsafe fn(NonNull<Header>),
}

#[repr(C)]
struct Task<F> {
    header: Header,
    future: UnsafeCell<Option<F>>,
}

impl<F: Future<Output = ()> + 'static> Task<F> {
    const VTABLE: TaskVtable = TaskVtable { poll: Self::poll, drop_future: Self::drop_future, free: Self::free };

    /// SAFETY (callers): `header` is a live `Task<F>` of this thread, not polled already.
    unsafe fn poll(header: NonNull<Header>, cx: &mut Context<'_>) -> bool {
        // SAFETY: the header is the first field of a `#[repr(C)]` `Task<F>`, alive (the caller
        // holds a reference); the future is pinned in its allocation, which never moves.
        let task = unsafe { header.cast::<Task<F>>().as_ref() };
        // SAFETY: only the executor's turn touches the future, one poll at a time.
        let slot = unsafe { &mut *task.future.get() };
        let Some(future) = slot.as_mut() else { return true };
        // SAFETY: the future stays in place until dropped there.
        let future = unsafe { Pin::new_unchecked(future) };
        future.poll(cx).is_ready()
    }

    /// SAFETY (callers): as for `poll`, and the future is not being polled.
    unsafe fn drop_future(header: NonNull<Header>) {
        // SAFETY: as in `poll`.
        let task = unsafe { header.cast::<Task<F>>().as_ref() };
        // Taken out first: its drop may wake this task, which then finds it done.
        // SAFETY: nothing else holds a reference into the future now.
        let future = unsafe { (*task.future.get()).take() };
        drop(future);
    }

    /// SAFETY (callers): the last reference is gone.
    unsafe fn free(header: NonNull<Header>) {
        // SAFETY: allocated by `spawn` as a `Box<Task<F>>`.
        drop(unsafe { Box::from_raw(header.cast::<Task<F>>().as_ptr()) });
    }
}

/// The thread's executor state.
struct Executor {
    queue: RefCell<VecDeque<NonNull<Header>>>,
    /// Every task not yet done (each entry holds a reference).
    live: RefCell<Vec<NonNull<Header>>>,
    /// `block_on`'s own future was woken.
    main_woken: Cell<bool>,
}

thread_local! {
    static EXECUTOR: Executor = const {
        Executor { queue: RefCell::new(VecDeque::new()), live: RefCell::new(Vec::new()), main_woken: Cell::new(false) }
    };
    /// Its address tells this thread from the others.
    static MARK: u8 = const { 0 };
}

/// This thread's mark: the address of its `MARK`.
#[inline(always)]
fn this_thread() -> *const u8 {
    MARK.with(|mark| mark as *const u8)
}

/// Stops the process: a waker was used on a thread that does not own its task.
#[cold]
fn foreign_thread() -> ! {
    eprintln!("mite-engine: a task's waker of the own runtime (--driver own) was used on another thread; aborting");
    std::process::abort()
}

/// Starts `future` on this thread's own executor; it runs until it returns (nothing joins it).
pub(crate) fn spawn<F: Future<Output = ()> + 'static>(future: F) {
    let task = Box::new(Task {
        header: Header {
            refs: Cell::new(2), // the live list's and the run queue's
            queued: Cell::new(true),
            done: Cell::new(false),
            index: Cell::new(0),
            owner: this_thread(),
            vtable: &Task::<F>::VTABLE,
        },
        future: UnsafeCell::new(Some(future)),
    });
    let header = NonNull::from(Box::leak(task)).cast::<Header>();
    EXECUTOR.with(|exec| {
        let mut live = exec.live.borrow_mut();
        // SAFETY: just made, alive.
        unsafe { header.as_ref() }.index.set(live.len());
        live.push(header);
        exec.queue.borrow_mut().push_back(header);
    });
}

/// Drops one reference; frees the task with the last.
///
/// SAFETY (callers): `header` is a live task of this thread and the caller owns one reference.
unsafe fn release(header: NonNull<Header>) {
    // SAFETY: alive while the caller's reference is.
    let h = unsafe { header.as_ref() };
    let refs = h.refs.get() - 1;
    h.refs.set(refs);
    if refs == 0 {
        // SAFETY: the last reference: nothing can reach the task any more.
        unsafe { (h.vtable.free)(header) };
    }
}

/// Queues the task unless queued already or done; takes over one reference held by the caller
/// when `owned`.
///
/// SAFETY (callers): `header` is a live task of this thread.
unsafe fn schedule(header: NonNull<Header>, owned: bool) {
    // SAFETY: alive (the caller holds a reference).
    let h = unsafe { header.as_ref() };
    if h.queued.get() || h.done.get() {
        if owned {
            // SAFETY: the caller's reference, given up.
            unsafe { release(header) };
        }
        return;
    }
    h.queued.set(true);
    if !owned {
        h.refs.set(h.refs.get() + 1);
    }
    EXECUTOR.with(|exec| exec.queue.borrow_mut().push_back(header));
}

/// Checks the calling thread before anything touches the task behind `data`.
#[inline(always)]
fn checked(data: *const ()) -> NonNull<Header> {
    let header = NonNull::new(data.cast_mut()).unwrap_or_else(|| foreign_thread()).cast::<Header>();
    // SAFETY: `owner` is written once when the task is made and never changed; the task is
    // alive while this waker holds its reference. Reading it is no race on any thread.
    if unsafe { header.as_ref() }.owner != this_thread() {
        foreign_thread();
    }
    header
}

const TASK_WAKER: RawWakerVTable = RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

fn waker_clone(data: *const ()) -> RawWaker {
    let header = checked(data);
    // SAFETY: alive (this waker holds a reference); this thread owns it.
    let h = unsafe { header.as_ref() };
    h.refs.set(h.refs.get() + 1);
    RawWaker::new(data, &TASK_WAKER)
}

fn waker_wake(data: *const ()) {
    // SAFETY: this thread's live task; the waker's reference is handed on.
    unsafe { schedule(checked(data), true) }
}

fn waker_wake_by_ref(data: *const ()) {
    // SAFETY: this thread's live task.
    unsafe { schedule(checked(data), false) }
}

fn waker_drop(data: *const ()) {
    // SAFETY: this thread's live task; the waker's reference is given up.
    unsafe { release(checked(data)) }
}

/// `block_on`'s own future's waker: sets a flag of the thread's executor (no task behind it).
const MAIN_WAKER: RawWakerVTable = RawWakerVTable::new(main_clone, main_wake, main_wake, main_drop);

fn main_clone(data: *const ()) -> RawWaker {
    if data.cast::<u8>() != this_thread() {
        foreign_thread();
    }
    RawWaker::new(data, &MAIN_WAKER)
}

fn main_wake(data: *const ()) {
    if data.cast::<u8>() != this_thread() {
        foreign_thread();
    }
    EXECUTOR.with(|exec| exec.main_woken.set(true));
}

fn main_drop(data: *const ()) {
    if data.cast::<u8>() != this_thread() {
        foreign_thread();
    }
}

/// Polls one queued task, if any: false when the queue was empty.
fn run_one() -> bool {
    let Some(header) = EXECUTOR.with(|exec| exec.queue.borrow_mut().pop_front()) else { return false };
    // SAFETY: the queue's entry holds a reference: alive; made on this thread.
    let h = unsafe { header.as_ref() };
    h.queued.set(false);
    if !h.done.get() {
        // A waker borrowing the queue's reference (not dropped: `ManuallyDrop`).
        // SAFETY: the data and table are a task waker's, valid while the reference is held.
        let waker =
            std::mem::ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(header.as_ptr().cast(), &TASK_WAKER)) });
        let mut cx = Context::from_waker(&waker);
        // SAFETY: a live task of this thread, polled by no one else now.
        if unsafe { (h.vtable.poll)(header, &mut cx) } {
            finish(header);
        }
    }
    // SAFETY: the queue's reference, given up.
    unsafe { release(header) };
    true
}

/// Marks the task done, drops its future and its place in the live list.
fn finish(header: NonNull<Header>) {
    // SAFETY: alive (the caller holds a reference).
    let h = unsafe { header.as_ref() };
    if h.done.replace(true) {
        return;
    }
    // SAFETY: not being polled now.
    unsafe { (h.vtable.drop_future)(header) };
    EXECUTOR.with(|exec| {
        let mut live = exec.live.borrow_mut();
        let index = h.index.get();
        live.swap_remove(index);
        if let Some(moved) = live.get(index) {
            // SAFETY: every entry of the list is alive.
            unsafe { moved.as_ref() }.index.set(index);
        }
    });
    // SAFETY: the live list's reference, given up.
    unsafe { release(header) };
}

/// Drops every task still running on this thread (their runtime ends), until none is left
/// (a dropped future may start another).
pub(super) fn drop_all_tasks() {
    while let Some(header) = EXECUTOR.with(|exec| exec.live.borrow().last().copied()) {
        finish(header);
    }
    while let Some(header) = EXECUTOR.with(|exec| exec.queue.borrow_mut().pop_front()) {
        // SAFETY: the queue's reference, given up (the task is done).
        unsafe { release(header) };
    }
}

/// Tasks queued to run.
pub(super) fn has_queued() -> bool {
    EXECUTOR.with(|exec| !exec.queue.borrow().is_empty())
}

/// Runs `future` to completion on this thread: each turn polls the tasks queued (and those
/// they wake, up to twice as many as were queued when the turn began, so that a task that
/// keeps waking itself cannot starve the ring), then the future when woken, then hands the
/// ring what was pushed and takes its completions, waiting for one when nothing is ready.
pub(super) fn block_on<F: Future>(future: F, mut turn: impl FnMut(bool)) -> F::Output {
    let mut future = std::pin::pin!(future);
    // SAFETY: the main waker's table reads only the thread mark it carries.
    let waker = unsafe { Waker::from_raw(RawWaker::new(this_thread().cast(), &MAIN_WAKER)) };
    let mut cx = Context::from_waker(&waker);
    EXECUTOR.with(|exec| exec.main_woken.set(true));
    loop {
        // The tasks woken first, then the caller's future: a task woken with it (a timer due
        // at the same ring) runs before the future may return and end the runtime.
        // The tasks a task wakes (the timer task wakes those due) run in the same turn, up to
        // twice the queue's length when the turn began.
        let mut budget = 2 * EXECUTOR.with(|exec| exec.queue.borrow().len());
        while budget > 0 && run_one() {
            budget -= 1;
        }
        if EXECUTOR.with(|exec| exec.main_woken.replace(false))
            && let Poll::Ready(output) = future.as_mut().poll(&mut cx)
        {
            return output;
        }
        let idle = !has_queued() && !EXECUTOR.with(|exec| exec.main_woken.get());
        turn(idle);
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    /// A future that wakes itself `times` times through clones of its waker, and counts polls.
    struct WakeTwice {
        polls: Rc<Cell<u32>>,
    }

    impl Future for WakeTwice {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.set(self.polls.get() + 1);
            if self.polls.get() == 1 {
                cx.waker().wake_by_ref();
                // A clone woken by value (the reference it holds handed to the queue).
                #[allow(clippy::waker_clone_wake, reason = "the by-value wake is what is tested")]
                cx.waker().clone().wake();
                return Poll::Pending;
            }
            Poll::Ready(())
        }
    }

    #[test]
    fn a_task_woken_twice_is_polled_once_more() {
        let polls = Rc::new(Cell::new(0));
        let task_polls = polls.clone();
        block_on(
            async move {
                spawn(WakeTwice { polls: task_polls });
            },
            |_| {},
        );
        // The main future returned at once; run the queue as the runtime's next turns would.
        while run_one() {}
        assert_eq!(polls.get(), 2, "the first poll, and one for the two wakes");
        assert!(EXECUTOR.with(|exec| exec.live.borrow().is_empty()), "a returned task leaves the list");
    }

    /// A timer due for a task and for the caller's future at the same ring wakes both: the
    /// task runs before the future may return (and end the runtime, dropping the task).
    #[test]
    fn a_task_woken_with_the_callers_future_runs_first() {
        type Slot = Rc<RefCell<Option<Waker>>>;
        let (main_waker, task_waker): (Slot, Slot) = (Rc::default(), Rc::default());
        let ran = Rc::new(Cell::new(false));
        let (main_keep, task_keep, task_ran, main_ran) =
            (main_waker.clone(), task_waker.clone(), ran.clone(), ran.clone());
        let mut task = Some(std::future::poll_fn(move |cx| {
            if task_keep.borrow().is_none() {
                *task_keep.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            task_ran.set(true);
            Poll::Ready(())
        }));
        let seen = block_on(
            std::future::poll_fn(move |cx| {
                if let Some(task) = task.take() {
                    spawn(task);
                    *main_keep.borrow_mut() = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(main_ran.get())
            }),
            // The ring's turn: once both wait, a timer rings for both.
            |_| {
                if main_waker.borrow().is_some() && task_waker.borrow().is_some() {
                    task_waker.borrow().as_ref().unwrap().wake_by_ref();
                    main_waker.borrow_mut().take().unwrap().wake();
                }
            },
        );
        assert!(seen, "the task woken with the caller's future ran before it returned");
        drop_all_tasks();
    }

    /// The timer task, woken by the ring, wakes a task and the caller's future: that task too
    /// runs before the future is polled (a core's lag probe records the stall before the
    /// core's tick reports it).
    #[test]
    fn a_task_another_task_wakes_runs_before_the_callers_future() {
        type Slot = Rc<RefCell<Option<Waker>>>;
        let (main_waker, probe_waker, timer_waker): (Slot, Slot, Slot) = Default::default();
        let ran = Rc::new(Cell::new(false));
        let (probe_keep, probe_ran) = (probe_waker.clone(), ran.clone());
        let mut waited = false;
        let probe = std::future::poll_fn(move |cx| {
            if !std::mem::replace(&mut waited, true) {
                *probe_keep.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            probe_ran.set(true);
            Poll::Ready(())
        });
        let (timer_keep, to_wake) = (timer_waker.clone(), [main_waker.clone(), probe_waker.clone()]);
        let mut rang = false;
        let timer = std::future::poll_fn(move |cx| {
            if !std::mem::replace(&mut rang, true) {
                *timer_keep.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            to_wake.iter().for_each(|w| w.borrow_mut().take().unwrap().wake());
            Poll::Ready(())
        });
        let mut tasks = Some((probe, timer));
        let (main_keep, main_ran) = (main_waker.clone(), ran.clone());
        let seen = block_on(
            std::future::poll_fn(move |cx| {
                if let Some((probe, timer)) = tasks.take() {
                    spawn(probe);
                    spawn(timer);
                    *main_keep.borrow_mut() = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(main_ran.get())
            }),
            // The ring's turn: once all wait, the alarm's completion wakes the timer task.
            |_| {
                let all = [&main_waker, &probe_waker, &timer_waker].iter().all(|w| w.borrow().is_some());
                if all {
                    timer_waker.borrow_mut().take().unwrap().wake();
                }
            },
        );
        assert!(seen, "the task the timer woke ran before the caller's future");
        drop_all_tasks();
    }

    #[test]
    fn a_waker_kept_after_its_task_returned_is_harmless() {
        let kept: Rc<RefCell<Option<Waker>>> = Rc::default();
        let keep = kept.clone();
        spawn(std::future::poll_fn(move |cx| {
            *keep.borrow_mut() = Some(cx.waker().clone());
            Poll::Ready(())
        }));
        while run_one() {}
        let waker = kept.borrow_mut().take().unwrap();
        waker.wake_by_ref();
        assert!(!has_queued(), "a done task is not queued again");
        drop(waker); // the last reference: frees the task
    }

    #[test]
    fn unfinished_tasks_are_dropped_with_the_runtime() {
        struct Flag(Rc<Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = Rc::new(Cell::new(false));
        let flag = Flag(dropped.clone());
        spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        while run_one() {}
        assert!(!dropped.get());
        drop_all_tasks();
        assert!(dropped.get(), "the pending task's future was dropped");
    }
}
