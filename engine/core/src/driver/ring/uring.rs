//! The own runtime's ring: one io_uring per core thread, the slots its operations wait in,
//! and the operation future. An operation owns what the kernel reads or writes (a buffer, an
//! address) until its completion arrives: dropped before then, it leaves that to its slot
//! (freed with the completion) and asks the kernel to cancel it.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use io_uring::{IoUring, squeue};

/// Completions whose result nobody waits for (cancels, closes).
const IGNORED: u64 = u64::MAX;
/// The read of the executor's eventfd (other threads' wakes), kept in flight.
const WOKEN_FROM_AFAR: u64 = u64::MAX - 1;
/// `io_uring_enter`'s flag to run completions (deferred task work included).
const ENTER_GETEVENTS: u32 = 1;

/// Where an operation stands.
enum Slot {
    /// Free; the next free slot's index.
    Free(u32),
    /// In flight; the waker of the task that waits for it.
    Waiting(Option<Waker>),
    /// Completed with this result; not yet taken.
    Done(i32),
    /// Its future was dropped in flight: what the kernel may still use, freed on completion.
    Orphan(#[allow(dead_code, reason = "held, never read: kept alive for the kernel")] Box<dyn Any>),
}

/// A core's ring and its operations' slots.
pub(super) struct Ring {
    ring: IoUring,
    slots: Vec<Slot>,
    free: u32,
    /// Operations pushed whose completion has not arrived (orphans, cancels and closes included).
    in_flight: usize,
    /// Wakers of completed operations, woken outside the ring's borrow (reused).
    woken: Vec<Waker>,
    /// The executor's eventfd, the 8 bytes its read takes, and whether that read is in flight.
    afar: Afar,
}

/// The eventfd other threads write to wake this core, and its read's state.
struct Afar {
    fd: RawFd,
    /// The kernel writes the count here (boxed: it does not move with the ring).
    count: Box<u64>,
    in_flight: bool,
    /// The read failed for good (not EAGAIN or EINTR): not pushed again.
    broken: bool,
}

thread_local! {
    static RING: RefCell<Option<Ring>> = const { RefCell::new(None) };
}

const NO_SLOT: u32 = u32::MAX;

/// Builds this thread's ring: SINGLE_ISSUER + DEFER_TASKRUN + COOP_TASKRUN when `deferred`;
/// it keeps a read of `afar` (the executor's eventfd) in flight, so that a wait in the kernel
/// ends when another thread wakes one of this core's tasks.
pub(super) fn install(entries: u32, deferred: bool, afar: RawFd) -> io::Result<()> {
    let mut builder = IoUring::builder();
    if deferred {
        builder.setup_single_issuer().setup_defer_taskrun().setup_coop_taskrun();
    }
    let ring = builder.build(entries)?;
    RING.with(|slot| {
        let afar = Afar { fd: afar, count: Box::new(0), in_flight: false, broken: false };
        let mut ring =
            Ring { ring, slots: Vec::new(), free: NO_SLOT, in_flight: 0, woken: Vec::with_capacity(64), afar };
        ring.listen_afar();
        *slot.borrow_mut() = Some(ring);
    });
    Ok(())
}

/// Whether this thread has a ring (its own runtime is running).
pub(super) fn installed() -> bool {
    RING.with(|slot| slot.borrow().is_some())
}

/// Cancels what is still in flight, waits for every completion (the kernel is done with every
/// buffer then), and drops the ring.
pub(super) fn uninstall() {
    let Some(mut ring) = RING.with(|slot| slot.borrow_mut().take()) else { return };
    let waiting: Vec<u64> = (0..ring.slots.len())
        .filter(|&i| matches!(ring.slots[i], Slot::Waiting(_) | Slot::Orphan(_)))
        .map(|i| i as u64)
        .collect();
    for user_data in waiting {
        ring.push(io_uring::opcode::AsyncCancel::new(user_data).build().user_data(IGNORED));
    }
    if ring.afar.in_flight {
        ring.push(io_uring::opcode::AsyncCancel::new(WOKEN_FROM_AFAR).build().user_data(IGNORED));
    }
    // Bounded: a completion that never comes (it cannot, after a cancel) would hold the thread.
    for _ in 0..1_000 {
        if ring.in_flight == 0 {
            break;
        }
        if ring.ring.submit_and_wait(1).is_err() {
            break;
        }
        ring.reap();
        ring.woken.clear();
    }
}

impl Ring {
    /// Pushes `entry`, handing the queue to the kernel first when it is full.
    fn push(&mut self, entry: squeue::Entry) {
        loop {
            // SAFETY: every entry's pointers stay valid until its completion: the caller's
            // operation (or its orphaned slot) owns what they point at.
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                self.in_flight += 1;
                return;
            }
            // Full: the kernel takes them now (it copies each entry as it takes it).
            let _ = self.ring.submit();
        }
    }

    fn take_slot(&mut self) -> u32 {
        if self.free == NO_SLOT {
            self.slots.push(Slot::Waiting(None));
            return (self.slots.len() - 1) as u32;
        }
        let index = self.free;
        let Slot::Free(next) = self.slots[index as usize] else { unreachable!("the free list holds free slots") };
        self.free = next;
        // A free slot owns nothing: no drop to run for it.
        std::mem::forget(std::mem::replace(&mut self.slots[index as usize], Slot::Waiting(None)));
        index
    }

    /// Frees a completed slot (`Done`: it owns nothing, so no drop runs for it).
    fn free_slot(&mut self, index: u32) {
        let done = std::mem::replace(&mut self.slots[index as usize], Slot::Free(self.free));
        debug_assert!(matches!(done, Slot::Done(_)), "only a completed slot is freed");
        std::mem::forget(done);
        self.free = index;
    }

    /// Pushes the read of the eventfd other threads write, unless in flight or broken.
    fn listen_afar(&mut self) {
        if self.afar.in_flight || self.afar.broken {
            return;
        }
        let count: *mut u64 = &mut *self.afar.count;
        let read = io_uring::opcode::Read::new(io_uring::types::Fd(self.afar.fd), count.cast(), 8).build();
        self.push(read.user_data(WOKEN_FROM_AFAR));
        self.afar.in_flight = true;
    }

    /// Takes the completions that have arrived: results into their slots, orphans freed, the
    /// waiting tasks' wakers into `woken`.
    fn reap(&mut self) {
        let mut completions = self.ring.completion();
        completions.sync();
        for cqe in &mut completions {
            self.in_flight -= 1;
            let user_data = cqe.user_data();
            if user_data == IGNORED {
                continue;
            }
            if user_data == WOKEN_FROM_AFAR {
                // The executor looks at its list every turn: the read only ends the wait.
                self.afar.in_flight = false;
                let result = cqe.result();
                self.afar.broken = result < 0 && ![-libc::EAGAIN, -libc::EINTR, -libc::ECANCELED].contains(&result);
                continue;
            }
            let index = user_data as u32;
            let slot = &mut self.slots[index as usize];
            match std::mem::replace(slot, Slot::Done(cqe.result())) {
                Slot::Waiting(waker) => self.woken.extend(waker),
                Slot::Orphan(owned) => {
                    drop(owned);
                    self.slots[index as usize] = Slot::Free(self.free);
                    self.free = index;
                }
                Slot::Free(_) | Slot::Done(_) => unreachable!("a completion for a slot not in flight"),
            }
        }
    }
}

/// One turn of the ring: hands it what was pushed and takes the completions, waiting for one
/// when `idle`; wakes the tasks they finished.
pub(super) fn turn(idle: bool) {
    let woken = RING.with(|slot| {
        let mut guard = slot.borrow_mut();
        let ring = guard.as_mut()?;
        let pending = ring.ring.submission().len();
        let result = if idle && ring.in_flight > 0 {
            ring.ring.submit_and_wait(1)
        } else {
            // SAFETY: enter with no signal mask and no pointers.
            unsafe { ring.ring.submitter().enter::<libc::sigset_t>(pending as u32, 0, ENTER_GETEVENTS, None) }
        };
        // EINTR or EBUSY (completions to take first): the turn goes on; the next one retries.
        let _ = result;
        ring.reap();
        ring.listen_afar();
        Some(std::mem::take(&mut ring.woken))
    });
    let Some(mut woken) = woken else { return };
    for waker in woken.drain(..) {
        waker.wake();
    }
    RING.with(|slot| {
        if let Some(ring) = slot.borrow_mut().as_mut() {
            ring.woken = woken;
        }
    });
}

/// Pushes an entry whose completion nobody waits for.
pub(super) fn push_ignored(entry: squeue::Entry) -> bool {
    RING.with(|slot| match slot.borrow_mut().as_mut() {
        Some(ring) => {
            ring.push(entry.user_data(IGNORED));
            true
        }
        None => false,
    })
}

/// An operation in flight, owning `T` (what its entry points into) until it completes. Not
/// `Send`: its slot is in this thread's ring.
pub(crate) struct Op<T: 'static> {
    /// `NO_SLOT`: never pushed (no ring on this thread); it ends at once with `ENXIO`.
    slot: u32,
    owned: Option<T>,
    _this_thread: std::marker::PhantomData<std::rc::Rc<()>>,
}

impl<T: 'static> Op<T> {
    /// Pushes the entry `make` builds from the owned value (its pointers point into the value's
    /// heap memory, which does not move with it).
    #[inline]
    pub(super) fn push(mut owned: T, make: impl FnOnce(&mut T) -> squeue::Entry) -> Op<T> {
        let entry = make(&mut owned);
        let slot = RING.with(|slot| {
            let mut guard = slot.borrow_mut();
            let Some(ring) = guard.as_mut() else { return NO_SLOT };
            let index = ring.take_slot();
            ring.push(entry.user_data(index as u64));
            index
        });
        Op { slot, owned: Some(owned), _this_thread: std::marker::PhantomData }
    }
}

impl<T: 'static> Op<T> {
    /// The slot it waits in (`NO_SLOT` when never pushed): what [`cancel`] names.
    #[inline]
    pub(super) fn slot(&self) -> u32 {
        self.slot
    }
}

/// Asks the kernel to end the operation waiting in `slot` early (IORING_OP_ASYNC_CANCEL on its
/// user data), when it is still in flight: one that completed first keeps its result, and a
/// slot not in flight (completed, freed, never pushed) is left alone.
pub(super) fn cancel(slot: u32) {
    RING.with(|ring| {
        let mut guard = ring.borrow_mut();
        let Some(ring) = guard.as_mut() else { return };
        if matches!(ring.slots.get(slot as usize), Some(Slot::Waiting(_))) {
            ring.push(io_uring::opcode::AsyncCancel::new(slot as u64).build().user_data(IGNORED));
        }
    });
}

impl<T: 'static + Unpin> Future for Op<T> {
    /// The kernel's result (a count or a negative errno), and the owned value back.
    type Output = (i32, T);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(i32, T)> {
        let this = self.get_mut();
        if this.slot == NO_SLOT {
            // No ring on this thread: the own runtime is not running here.
            let owned = this.owned.take().expect("an operation polled after its end");
            return Poll::Ready((-libc::ENXIO, owned));
        }
        let result = RING.with(|slot| {
            let mut guard = slot.borrow_mut();
            let ring = guard.as_mut().expect("an operation outlived its ring");
            match &mut ring.slots[this.slot as usize] {
                Slot::Done(result) => {
                    let result = *result;
                    ring.free_slot(this.slot);
                    Some(result)
                }
                Slot::Waiting(waker) => {
                    // A replaced waker is dropped inside the borrow: the ring's wakers belong
                    // to this runtime's tasks, whose drop never reaches the ring.
                    if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        *waker = Some(cx.waker().clone());
                    }
                    None
                }
                Slot::Free(_) | Slot::Orphan(_) => unreachable!("an operation polled after its end"),
            }
        });
        match result {
            Some(result) => Poll::Ready((result, this.owned.take().expect("an operation polled after its end"))),
            None => Poll::Pending,
        }
    }
}

impl<T: 'static> Drop for Op<T> {
    fn drop(&mut self) {
        if self.slot == NO_SLOT {
            return;
        }
        let Some(owned) = self.owned.take() else { return };
        let _ = RING.try_with(|slot| {
            let mut guard = slot.borrow_mut();
            let Some(ring) = guard.as_mut() else { return };
            match ring.slots[self.slot as usize] {
                Slot::Done(_) => ring.free_slot(self.slot),
                _ => {
                    // In flight: the slot keeps what the kernel may write into until the
                    // completion comes, and the kernel is asked to end it early.
                    ring.slots[self.slot as usize] = Slot::Orphan(Box::new(owned));
                    ring.push(io_uring::opcode::AsyncCancel::new(self.slot as u64).build().user_data(IGNORED));
                }
            }
        });
    }
}

/// The kernel's result as a count or an error.
pub(super) fn io_result(result: i32) -> io::Result<usize> {
    if result < 0 { Err(io::Error::from_raw_os_error(-result)) } else { Ok(result as usize) }
}
