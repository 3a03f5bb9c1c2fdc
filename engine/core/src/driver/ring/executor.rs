//! The own runtime's single-threaded executor: tasks on the heap with a plain (non-atomic)
//! reference count, a run queue, `spawn`, and the turn loop `block_on` runs between the tasks
//! and the ring.
//!
//! Wakers and threads: a `Waker` is `Send`, so safe code may move a clone of one to another
//! thread (a journey waiting for a thread's answer). Every entry of the waker's table first
//! checks whether it runs on the thread that made the task (a thread-local number, a few
//! instructions). On that thread it counts in the task's plain reference count and queues the
//! task itself. On any other it never touches those: a clone made there counts in the task's
//! atomic count (and is a waker of another table, [`SHARED_WAKER`], whatever thread it is used
//! on), and a wake or a drop of a plain reference is handed to the owning thread's
//! [`Remote`]: a locked list it carries out at its next turn, and an eventfd, written once a
//! batch, whose read the ring keeps in flight so that a core waiting in the kernel wakes for
//! it. The engine's own code never wakes across cores; this is for what a journey may do.

use std::cell::{Cell, OnceCell, RefCell, UnsafeCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// What every task starts with; the future follows it in the same allocation.
struct Header {
    /// Held on the making thread: its wakers, the run queue's entry and the executor's list
    /// each hold one.
    refs: Cell<usize>,
    /// Held on other threads (the [`SHARED_WAKER`]s and the remote list's entries), plus one
    /// for all of `refs` together (given up when `refs` reaches 0): the task is freed when
    /// this reaches 0, on whichever thread.
    shared: AtomicUsize,
    /// In the run queue now (a second wake before the poll queues nothing).
    queued: Cell<bool>,
    /// The executor's turn it was last polled in (a task runs once a turn).
    ran_in_turn: Cell<u64>,
    /// The future has returned or was dropped: wakes are ignored.
    done: Cell<bool>,
    /// Where this task sits in the executor's list of live tasks.
    index: Cell<usize>,
    /// The making thread's mark (see [`this_thread`]).
    owner: usize,
    /// Where other threads hand this task's wakes and drops.
    remote: Arc<Remote>,
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
        // Dropped where it is: it is pinned, and may point into itself (a journey's WebSocket
        // borrows the journey's context, which lives in the same future); moved out first,
        // its drop would read through stale pointers. Its drop may wake this task, which the
        // caller has marked done first.
        // SAFETY: nothing else holds a reference into the future now; assigning drops the old
        // value in place.
        unsafe { *task.future.get() = None };
    }

    /// SAFETY (callers): the last reference is gone, and the future was dropped (so that freeing
    /// runs no code of it, on whichever thread).
    unsafe fn free(header: NonNull<Header>) {
        // SAFETY: allocated by `spawn` as a `Box<Task<F>>`.
        drop(unsafe { Box::from_raw(header.cast::<Task<F>>().as_ptr()) });
    }
}

/// A thread's list of what other threads asked of its tasks, and its eventfd.
pub(super) struct Remote {
    /// The owning thread's mark.
    owner: usize,
    /// Something is in `asked` (set before the eventfd is written).
    pending: AtomicBool,
    asked: Mutex<Vec<Asked>>,
    /// Written once per batch; the ring keeps a read of it in flight. Unset before the
    /// thread's first runtime ([`prepare`]; the executor's own tests run without): the asks
    /// wait for the thread's next turn then.
    signal: OnceLock<OwnedFd>,
}

/// What another thread asked of a task (or of `block_on`'s future).
enum Asked {
    /// Wake it; the plain reference the waker held comes with the ask.
    WakePlain(TaskRef),
    /// Wake it; one shared reference comes with the ask.
    WakeShared(TaskRef),
    /// Drop a plain reference (a waker of this thread dropped on another).
    DropPlain(TaskRef),
    /// Wake `block_on`'s future.
    Main,
}

/// A task pointer handed to its owning thread through [`Remote`].
struct TaskRef(NonNull<Header>);

// SAFETY: the pointer is only dereferenced on the thread that made the task, once the owning
// thread takes the ask off its list; the reference it stands for keeps the task alive.
unsafe impl Send for TaskRef {}

impl Remote {
    fn new() -> Remote {
        Remote {
            owner: this_thread(),
            pending: AtomicBool::new(false),
            asked: Mutex::default(),
            signal: OnceLock::new(),
        }
    }

    /// Adds `ask` and, first in a batch, writes the eventfd.
    fn ask(&self, ask: Asked) {
        self.asked.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(ask);
        if !self.pending.swap(true, Ordering::AcqRel)
            && let Some(signal) = self.signal.get()
        {
            let one = 1u64;
            // SAFETY: an eventfd this `Remote` owns, open while it is; 8 valid bytes. A full
            // counter (EAGAIN) still leaves it readable: nothing to do then.
            let _ = unsafe { libc::write(signal.as_raw_fd(), (&raw const one).cast(), 8) };
        }
    }
}

/// The thread's executor state.
struct Executor {
    queue: RefCell<VecDeque<NonNull<Header>>>,
    /// Every task not yet done (each entry holds a reference).
    live: RefCell<Vec<NonNull<Header>>>,
    /// `block_on`'s own future was woken.
    main_woken: Cell<bool>,
    /// The turn `block_on` is in (counted from 1).
    turn: Cell<u64>,
    /// Tasks woken again after they ran this turn: queued again when the turn ends.
    later: RefCell<VecDeque<NonNull<Header>>>,
    /// This thread's list for other threads, made by [`prepare`] (or the first spawn).
    remote: OnceCell<Arc<Remote>>,
}

thread_local! {
    static EXECUTOR: Executor = const {
        Executor {
            queue: RefCell::new(VecDeque::new()),
            live: RefCell::new(Vec::new()),
            main_woken: Cell::new(false),
            turn: Cell::new(0),
            later: RefCell::new(VecDeque::new()),
            remote: OnceCell::new(),
        }
    };
    /// This thread's mark, taken from [`NEXT_MARK`] at its first use (0: not yet). Not the
    /// address of a thread-local: a thread started after another ended often gets its stack
    /// and thread-locals at the same address, and would take the ended thread's tasks (kept
    /// alive by a waker held elsewhere) for its own.
    static MARK: Cell<usize> = const { Cell::new(0) };
}

/// The next thread's mark: never reused in the process.
static NEXT_MARK: AtomicUsize = AtomicUsize::new(1);

/// This thread's mark, told apart from every other thread's, ended ones included.
#[inline(always)]
fn this_thread() -> usize {
    MARK.with(|mark| match mark.get() {
        0 => {
            let taken = NEXT_MARK.fetch_add(1, Ordering::Relaxed);
            mark.set(taken);
            taken
        }
        taken => taken,
    })
}

/// Makes this thread's list for other threads and its eventfd (once a thread); returns the
/// eventfd the ring is to keep a read of in flight.
pub(super) fn prepare() -> io::Result<RawFd> {
    let remote = remote();
    if let Some(signal) = remote.signal.get() {
        return Ok(signal.as_raw_fd());
    }
    // SAFETY: no pointers; a non-negative result is a new descriptor owned here alone.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: just made, owned by nothing else.
    let signal = unsafe { OwnedFd::from_raw_fd(fd) };
    // Only this thread sets it, and it was unset just above.
    let _ = remote.signal.set(signal);
    Ok(fd)
}

/// This thread's list for other threads (one without an eventfd when none was prepared).
fn remote() -> Arc<Remote> {
    EXECUTOR.with(|exec| exec.remote.get_or_init(|| Arc::new(Remote::new())).clone())
}

/// Whether other threads asked something of this thread's tasks since the last look.
#[inline]
fn asked() -> bool {
    EXECUTOR.with(|exec| exec.remote.get().is_some_and(|remote| remote.pending.load(Ordering::Acquire)))
}

/// Carries out what other threads asked of this thread's tasks.
pub(super) fn take_asked() {
    let Some(remote) = EXECUTOR.with(|exec| exec.remote.get().cloned()) else { return };
    remote.pending.store(false, Ordering::Release);
    let asked = std::mem::take(&mut *remote.asked.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    for ask in asked {
        // SAFETY (each arm): a task of this thread (the asker checked its owner), kept alive by
        // the reference that came with the ask.
        match ask {
            Asked::WakePlain(task) => unsafe { schedule(task.0, true) },
            Asked::WakeShared(task) => unsafe {
                schedule(task.0, false);
                release_shared(task.0);
            },
            Asked::DropPlain(task) => unsafe { release(task.0) },
            Asked::Main => EXECUTOR.with(|exec| exec.main_woken.set(true)),
        }
    }
}

/// Starts `future` on this thread's own executor; it runs until it returns (nothing joins it).
pub(crate) fn spawn<F: Future<Output = ()> + 'static>(future: F) {
    let task = Box::new(Task {
        header: Header {
            refs: Cell::new(2), // the live list's and the run queue's
            shared: AtomicUsize::new(1),
            queued: Cell::new(true),
            ran_in_turn: Cell::new(0),
            done: Cell::new(false),
            index: Cell::new(0),
            owner: this_thread(),
            remote: remote(),
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

/// Drops one plain reference; with the last, the one shared reference they held together.
///
/// SAFETY (callers): `header` is a live task of this thread and the caller owns one plain
/// reference.
unsafe fn release(header: NonNull<Header>) {
    // SAFETY: alive while the caller's reference is.
    let h = unsafe { header.as_ref() };
    let refs = h.refs.get() - 1;
    h.refs.set(refs);
    if refs == 0 {
        // SAFETY: the plain references' shared one, given up.
        unsafe { release_shared(header) };
    }
}

/// Drops one shared reference (on any thread); frees the task with the last.
///
/// SAFETY (callers): the caller owns one shared reference of a live task.
unsafe fn release_shared(header: NonNull<Header>) {
    // SAFETY: alive while the caller's reference is; `shared` is atomic.
    let h = unsafe { header.as_ref() };
    if h.shared.fetch_sub(1, Ordering::Release) == 1 {
        std::sync::atomic::fence(Ordering::Acquire);
        // SAFETY: the last reference: nothing can reach the task any more. The plain ones are
        // gone, so the task is done and its future dropped: freeing runs none of its code.
        unsafe { (h.vtable.free)(header) };
    }
}

/// Queues the task unless queued already or done; takes over one reference held by the caller
/// when `owned`.
///
/// SAFETY (callers): `header` is a live task of this thread.
#[inline(always)]
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

/// The task behind a waker's `data`, and whether this thread made it.
#[inline(always)]
fn task_of(data: *const ()) -> (NonNull<Header>, bool) {
    // SAFETY: a waker's data is the task's header, never null.
    let header = unsafe { NonNull::new_unchecked(data.cast_mut()) }.cast::<Header>();
    // SAFETY: `owner` is written once when the task is made and never changed; the task is
    // alive while this waker holds its reference. Reading it is no race on any thread.
    let home = unsafe { header.as_ref() }.owner == this_thread();
    (header, home)
}

/// Takes one shared reference (on any thread).
///
/// SAFETY (callers): the caller holds a reference of a live task.
unsafe fn share(header: NonNull<Header>) {
    // SAFETY: alive while the caller's reference is.
    unsafe { header.as_ref() }.shared.fetch_add(1, Ordering::Relaxed);
}

/// Hands `ask` to the task's thread.
///
/// SAFETY (callers): the caller holds a reference of a live task.
unsafe fn ask_home(header: NonNull<Header>, ask: Asked) {
    // Held here: once the ask is on the list, the owning thread may free the task (and its
    // count of the list) before `ask` has returned.
    // SAFETY: alive while the caller's reference is; `remote` never changes.
    let remote = unsafe { header.as_ref() }.remote.clone();
    remote.ask(ask);
}

/// A waker holding a plain reference: made and used on the task's thread.
const TASK_WAKER: RawWakerVTable = RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

fn waker_clone(data: *const ()) -> RawWaker {
    let (header, home) = task_of(data);
    if !home {
        // SAFETY: alive (this waker holds a reference); the clone's reference is a shared one.
        unsafe { share(header) };
        return RawWaker::new(data, &SHARED_WAKER);
    }
    // SAFETY: alive (this waker holds a reference); this thread owns it.
    let h = unsafe { header.as_ref() };
    h.refs.set(h.refs.get() + 1);
    RawWaker::new(data, &TASK_WAKER)
}

fn waker_wake(data: *const ()) {
    match task_of(data) {
        // SAFETY: this thread's live task; the waker's reference is handed on.
        (header, true) => unsafe { schedule(header, true) },
        // SAFETY: alive; the waker's plain reference goes home with the ask.
        (header, false) => unsafe { ask_home(header, Asked::WakePlain(TaskRef(header))) },
    }
}

fn waker_wake_by_ref(data: *const ()) {
    match task_of(data) {
        // SAFETY: this thread's live task.
        (header, true) => unsafe { schedule(header, false) },
        // SAFETY: alive (this waker holds a reference): a shared one goes home with the ask.
        (header, false) => unsafe {
            share(header);
            ask_home(header, Asked::WakeShared(TaskRef(header)));
        },
    }
}

fn waker_drop(data: *const ()) {
    match task_of(data) {
        // SAFETY: this thread's live task; the waker's reference is given up.
        (header, true) => unsafe { release(header) },
        // SAFETY: alive; the plain reference is given up at home.
        (header, false) => unsafe { ask_home(header, Asked::DropPlain(TaskRef(header))) },
    }
}

/// A waker holding a shared reference: one cloned on another thread, usable on any.
const SHARED_WAKER: RawWakerVTable = RawWakerVTable::new(shared_clone, shared_wake, shared_wake_by_ref, shared_drop);

fn shared_clone(data: *const ()) -> RawWaker {
    // SAFETY: alive (this waker holds a reference).
    unsafe { share(task_of(data).0) };
    RawWaker::new(data, &SHARED_WAKER)
}

fn shared_wake(data: *const ()) {
    match task_of(data) {
        // SAFETY: this thread's live task; then the waker's reference is given up.
        (header, true) => unsafe {
            schedule(header, false);
            release_shared(header);
        },
        // SAFETY: alive; the waker's shared reference goes home with the ask.
        (header, false) => unsafe { ask_home(header, Asked::WakeShared(TaskRef(header))) },
    }
}

fn shared_wake_by_ref(data: *const ()) {
    match task_of(data) {
        // SAFETY: this thread's live task.
        (header, true) => unsafe { schedule(header, false) },
        // SAFETY: alive (this waker holds a reference): a shared one goes home with the ask.
        (header, false) => unsafe {
            share(header);
            ask_home(header, Asked::WakeShared(TaskRef(header)));
        },
    }
}

fn shared_drop(data: *const ()) {
    // SAFETY: the waker's shared reference, given up (on any thread).
    unsafe { release_shared(task_of(data).0) }
}

/// `block_on`'s own future's waker: its data is the thread's [`Remote`] (an `Arc`'s count per
/// waker); on its thread it sets the executor's flag, elsewhere it asks through the list.
const MAIN_WAKER: RawWakerVTable = RawWakerVTable::new(main_clone, main_wake, main_wake_by_ref, main_drop);

fn main_clone(data: *const ()) -> RawWaker {
    // SAFETY: the data is an `Arc<Remote>`'s pointer, counted once per main waker.
    unsafe { Arc::increment_strong_count(data.cast::<Remote>()) };
    RawWaker::new(data, &MAIN_WAKER)
}

fn main_wake(data: *const ()) {
    main_wake_by_ref(data);
    main_drop(data);
}

fn main_wake_by_ref(data: *const ()) {
    // SAFETY: alive while this waker's count is held.
    let remote = unsafe { &*data.cast::<Remote>() };
    if remote.owner == this_thread() {
        EXECUTOR.with(|exec| exec.main_woken.set(true));
    } else {
        remote.ask(Asked::Main);
    }
}

fn main_drop(data: *const ()) {
    // SAFETY: this waker's count, given up.
    unsafe { Arc::decrement_strong_count(data.cast::<Remote>()) };
}

/// Starts a turn and polls one queued task in it, if any: false when the queue was empty.
#[cfg(test)]
fn run_one() -> bool {
    let turn = start_turn();
    let ran = run_one_in(turn);
    end_turn();
    ran
}

/// Polls the next queued task, unless it ran in `turn` already (it waits in the executor's
/// `later` list then, for the next turn): false when the queue was empty.
fn run_one_in(turn: u64) -> bool {
    let Some(header) = EXECUTOR.with(|exec| exec.queue.borrow_mut().pop_front()) else { return false };
    // SAFETY: the queue's entry holds a reference: alive; made on this thread.
    let h = unsafe { header.as_ref() };
    if h.ran_in_turn.get() == turn && !h.done.get() {
        // Still queued: the entry (and its reference) moves to the next turn's.
        EXECUTOR.with(|exec| exec.later.borrow_mut().push_back(header));
        return true;
    }
    h.ran_in_turn.set(turn);
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
/// (a dropped future may start another). What other threads ask later of these tasks is
/// carried out by the thread's next runtime, if any; else their memory stays (a few hundred
/// bytes a task a waker kept on another thread holds), never touched from two threads.
pub(super) fn drop_all_tasks() {
    take_asked();
    while let Some(header) = EXECUTOR.with(|exec| exec.live.borrow().last().copied()) {
        finish(header);
    }
    while let Some(header) = EXECUTOR.with(|exec| exec.queue.borrow_mut().pop_front()) {
        // SAFETY: the queue's reference, given up (the task is done).
        unsafe { release(header) };
    }
}

/// The number of the turn that starts now (each task runs once in it).
fn start_turn() -> u64 {
    EXECUTOR.with(|exec| exec.turn.replace(exec.turn.get() + 1) + 1)
}

/// Queues the tasks woken again after they ran this turn, for the next.
fn end_turn() {
    EXECUTOR.with(|exec| {
        let mut later = exec.later.borrow_mut();
        if !later.is_empty() {
            exec.queue.borrow_mut().extend(later.drain(..));
        }
    });
}

/// Tasks queued to run.
pub(super) fn has_queued() -> bool {
    EXECUTOR.with(|exec| !exec.queue.borrow().is_empty())
}

/// Runs `future` to completion on this thread: each turn polls the tasks queued and those
/// they wake, each task once (so that a task that keeps waking itself cannot starve the ring
/// or the others: it runs again next turn), then the future when woken, then hands the ring
/// what was pushed and takes its completions, waiting for one when nothing is ready.
pub(super) fn block_on<F: Future>(future: F, mut turn: impl FnMut(bool)) -> F::Output {
    let mut future = std::pin::pin!(future);
    // SAFETY: the data is an `Arc<Remote>` counted for this waker, as the table expects.
    let waker = unsafe { Waker::from_raw(RawWaker::new(Arc::into_raw(remote()).cast(), &MAIN_WAKER)) };
    let mut cx = Context::from_waker(&waker);
    EXECUTOR.with(|exec| exec.main_woken.set(true));
    loop {
        if asked() {
            take_asked();
        }
        // The tasks woken first, then the caller's future: a task woken with it (a timer due
        // at the same ring) runs before the future may return and end the runtime.
        // The tasks a task wakes (the timer task wakes those due, however many) run in the
        // same turn, once each.
        let turn_now = start_turn();
        while run_one_in(turn_now) {}
        end_turn();
        if EXECUTOR.with(|exec| exec.main_woken.replace(false))
            && let Poll::Ready(output) = future.as_mut().poll(&mut cx)
        {
            return output;
        }
        let idle = !has_queued() && !EXECUTOR.with(|exec| exec.main_woken.get()) && !asked();
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

    /// Threads started one after another, each after the last ended (their stacks and
    /// thread-locals often at the same address): no two share a mark.
    #[test]
    fn a_thread_that_ended_leaves_its_mark_to_no_later_thread() {
        let marks: Vec<usize> = (0..8).map(|_| std::thread::spawn(this_thread).join().unwrap()).collect();
        let mut distinct = marks.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), marks.len(), "marks {marks:?}");
    }

    /// The timer task, woken by the ring, wakes a task and the caller's future: that task too
    /// runs before the future is polled (a core's lag probe records the stall before the
    /// core's tick reports it).
    #[test]
    fn a_task_another_task_wakes_runs_before_the_callers_future() {
        assert_eq!(tasks_the_timer_wakes_that_run_before_the_caller_returns(1), 1);
    }

    /// The same after a stall, with several tasks due with the caller's future: every one of
    /// them runs before the future may return (a turn once ran only twice as many tasks as
    /// were queued when it began: the timer task and one more).
    #[test]
    fn every_task_woken_with_the_callers_future_runs_before_it_returns() {
        const DUE: usize = 5;
        assert_eq!(tasks_the_timer_wakes_that_run_before_the_caller_returns(DUE), DUE);
    }

    /// Spawns `due` tasks that wait once and a timer task that, woken by the ring's turn once
    /// all wait, wakes them and the caller's future: how many ran when that future returned.
    fn tasks_the_timer_wakes_that_run_before_the_caller_returns(due: usize) -> usize {
        type Slot = Rc<RefCell<Option<Waker>>>;
        let wakers: Vec<Slot> = (0..=due + 1).map(|_| Slot::default()).collect();
        let ran = Rc::new(Cell::new(0));
        let task = |keep: Slot, ran: Rc<Cell<usize>>| {
            let mut waited = false;
            std::future::poll_fn(move |cx| {
                if !std::mem::replace(&mut waited, true) {
                    *keep.borrow_mut() = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                ran.set(ran.get() + 1);
                Poll::Ready(())
            })
        };
        let (timer_keep, to_wake) = (wakers[due + 1].clone(), wakers[..=due].to_vec());
        let mut rang = false;
        let timer = std::future::poll_fn(move |cx| {
            if !std::mem::replace(&mut rang, true) {
                *timer_keep.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            to_wake.iter().for_each(|w| w.borrow_mut().take().unwrap().wake());
            Poll::Ready(())
        });
        let mut tasks = Some(((1..=due).map(|i| task(wakers[i].clone(), ran.clone())).collect::<Vec<_>>(), timer));
        let (main_keep, main_ran) = (wakers[0].clone(), ran.clone());
        let seen = block_on(
            std::future::poll_fn(move |cx| {
                if let Some((due, timer)) = tasks.take() {
                    due.into_iter().for_each(spawn);
                    spawn(timer);
                    *main_keep.borrow_mut() = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(main_ran.get())
            }),
            |_| {
                if wakers.iter().all(|w| w.borrow().is_some()) {
                    wakers[due + 1].borrow_mut().take().unwrap().wake();
                }
            },
        );
        drop_all_tasks();
        seen
    }

    /// A task that wakes itself at every poll runs once a turn: the turn ends, and the caller's
    /// future is polled between its polls.
    #[test]
    fn a_task_waking_itself_forever_runs_once_a_turn() {
        let polls = Rc::new(Cell::new(0u32));
        let counted = polls.clone();
        let mut main_polls = 0;
        block_on(
            std::future::poll_fn(move |cx| {
                main_polls += 1;
                if main_polls == 1 {
                    let counted = counted.clone();
                    spawn(std::future::poll_fn(move |cx| {
                        counted.set(counted.get() + 1);
                        cx.waker().wake_by_ref();
                        Poll::<()>::Pending
                    }));
                }
                if main_polls == 3 {
                    return Poll::Ready(());
                }
                cx.waker().wake_by_ref();
                Poll::Pending
            }),
            |_| {},
        );
        assert_eq!(polls.get(), 2, "the self-waking task ran once in each of the two turns after its spawn");
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

    /// A future that notes where it was polled, and says in its drop whether it is still there
    /// (a pinned future is dropped where it is: its own pointers into itself stay valid).
    struct StaysPut {
        polled_at: Cell<usize>,
        dropped_in_place: Rc<Cell<Option<bool>>>,
        _pinned: std::marker::PhantomPinned,
    }

    impl Future for StaysPut {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.polled_at.set(&raw const *self as usize);
            Poll::Pending
        }
    }

    impl Drop for StaysPut {
        fn drop(&mut self) {
            self.dropped_in_place.set(Some(self.polled_at.get() == &raw const *self as usize));
        }
    }

    #[test]
    fn a_pinned_task_is_dropped_where_it_was_polled() {
        let dropped_in_place = Rc::new(Cell::new(None));
        spawn(StaysPut {
            polled_at: Cell::new(0),
            dropped_in_place: dropped_in_place.clone(),
            _pinned: std::marker::PhantomPinned,
        });
        while run_one() {}
        drop_all_tasks();
        assert_eq!(dropped_in_place.get(), Some(true), "the future was moved before its drop");
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
