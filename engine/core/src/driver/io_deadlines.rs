//! The request timeout without a timer per request: a core's sockets in use write their
//! deadline into their descriptor's slot of the core's table (one store: no list, no slot to
//! find), and one sweep task per core looks over the table and shuts down (`shutdown(2)`, both
//! directions) the socket of every deadline that has passed. The kernel then ends the read or
//! write pending on it (io_uring and epoll alike), and the exchange, seeing that end, asks its
//! [`IoDeadline`] whether it passed: a timeout, not a close. A socket with no request in flight
//! (an idle pooled connection, a closed descriptor's number) holds `IDLE`: nothing to do.
//!
//! When the sweep looks: at the earliest deadline in flight it saw, but never sooner than
//! [`SWEEP_SPACING_MIN`] after its last look. A registration earlier than the look planned
//! (only when no earlier deadline is in flight: the first after an idle spell, or a shorter
//! timeout beside a longer one) wakes the sweep to look then; any other registration is the
//! store and one comparison. A core's requests share one timeout, so their deadlines come in
//! the order they started: under load the sweep looks about once per timeout (the oldest
//! request in flight holds the next deadline), not once per request. A look reads one word per
//! descriptor number up to the highest registered (152 KB at 19,000 connections); the spacing
//! bounds how often it can, whatever the responses' times. A core that sends no HTTP request registers
//! nothing and never starts the sweep.
//!
//! Precision: a socket is shut down between its deadline and `SWEEP_SPACING_MIN` after it,
//! plus the timers' precision (see `timer`: the 50 µs grid on io_uring, the millisecond tick on
//! epoll); the spacing matters only for a deadline that falls within it of the sweep's last look.
//!
//! Descriptor numbers are reused: a registration must be let go of (dropped, or
//! [`IoDeadline::end`]) before its socket is closed, so a later socket that gets the same
//! number never finds a deadline it did not register; and a runtime's going forgets its
//! registrations.

use super::clock::Moment;
use super::timer::{Sleep, sleep_until};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The least time between two looks of the sweep: bounds what the looks cost (at most 1,000 a
/// second, each a read of the core's table) when deadlines follow each other closely, at the
/// price of a timeout that much late when its deadline came just after a look.
const SWEEP_SPACING_MIN: Duration = Duration::from_millis(1);

/// A slot with no request in flight (and the sweep with nothing to look for).
const IDLE: u64 = u64::MAX;
/// A slot whose deadline passed: its socket was shut down; the exchange has yet to let go.
const PASSED: u64 = u64::MAX - 1;

/// A core's table of deadlines, one slot per descriptor number, and when its sweep looks next.
/// A slot holds a deadline (a `Moment`'s nanoseconds, always below `PASSED`), `PASSED` or `IDLE`.
/// Nothing in it needs dropping, so the thread-local reaching it is a plain load, not a check
/// of whether it was torn down.
struct Table {
    /// Never freed: a core's table lives as long as its thread, and when it grows (a
    /// descriptor number beyond it) the smaller one is left behind, so a thread holds less than
    /// twice its largest table (256 KB at 19,000 connections: 32,768 slots).
    slots: Cell<&'static [Cell<u64>]>,
    /// When the sweep looks next (`IDLE`: it waits for a registration). Every deadline in the
    /// table is at or after it, or within `SWEEP_SPACING_MIN` after the last look.
    armed: Cell<u64>,
}

/// A core's sweep task's state.
struct Sweeping {
    /// Bumped when a runtime goes: a sweep task of an older runtime leaves the state alone.
    generation: Cell<u32>,
    /// Whether this runtime's sweep task has been started.
    running: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Table {
    const fn new() -> Self {
        Table { slots: Cell::new(&[]), armed: Cell::new(IDLE) }
    }

    /// Writes `deadline` into `fd`'s slot. Returns whether it comes before the sweep's next
    /// look (the sweep must be told).
    #[inline]
    fn register(&self, deadline: u64, fd: RawFd) -> bool {
        match self.slots.get().get(fd as usize) {
            Some(slot) => {
                debug_assert_eq!(slot.get(), IDLE, "descriptor {fd} registered twice");
                slot.set(deadline);
            }
            None => self.grow_and_register(deadline, fd),
        }
        deadline < self.armed.get()
    }

    /// A descriptor number above the table's (a core's first sockets, or more of them open).
    #[cold]
    #[inline(never)]
    fn grow_and_register(&self, deadline: u64, fd: RawFd) {
        // An open socket's descriptor is never negative.
        let Ok(index) = usize::try_from(fd) else {
            debug_assert!(false, "negative descriptor {fd}");
            return;
        };
        let mut slots: Vec<Cell<u64>> = self.slots.get().iter().map(|slot| Cell::new(slot.get())).collect();
        slots.resize_with((index + 1).next_power_of_two().max(64), || Cell::new(IDLE));
        slots[index].set(deadline);
        self.slots.set(Box::leak(slots.into_boxed_slice()));
    }

    /// Lets go of `fd`'s slot; returns whether its deadline passed (its socket was shut down).
    #[inline]
    fn release(&self, fd: RawFd) -> bool {
        self.slots.get().get(fd as usize).is_some_and(|slot| slot.replace(IDLE) == PASSED)
    }

    /// Shuts down (with `shut`) the socket of every deadline before `now`, its slot then
    /// `PASSED`. Returns the earliest deadline left (`IDLE`: none).
    fn shut_passed(&self, now: u64, mut shut: impl FnMut(RawFd)) -> u64 {
        let mut next = IDLE;
        for (fd, slot) in self.slots.get().iter().enumerate() {
            let deadline = slot.get();
            // Strictly before: a response whose last byte came at the deadline is in time
            // (the exchange's own check is `ended > deadline`). `PASSED` and `IDLE` never are.
            if deadline < now {
                std::hint::cold_path();
                shut(fd as RawFd);
                slot.set(PASSED);
            } else {
                next = next.min(deadline);
            }
        }
        if next >= PASSED { IDLE } else { next }
    }

    /// When to look after a look at `now` that left `next` the earliest deadline.
    fn next_look(now: u64, next: u64) -> u64 {
        let spacing = u64::try_from(SWEEP_SPACING_MIN.as_nanos()).unwrap_or(u64::MAX);
        if next == IDLE { IDLE } else { next.max(now.saturating_add(spacing)) }
    }
}

thread_local! {
    static TABLE: Table = const { Table::new() };
    static SWEEPING: Sweeping = const {
        Sweeping { generation: Cell::new(0), running: Cell::new(false), waker: RefCell::new(None) }
    };
}

/// Shuts the socket down both ways: a read pending on it ends (end of stream), and so does a
/// write (broken pipe), on io_uring and epoll alike; the descriptor stays open (its owner
/// closes it).
fn shut_down(fd: RawFd) {
    // SAFETY: `fd` is the descriptor of a socket whose connection registered it and has not
    // let go of its registration (it does before the socket is closed), so it is still that
    // socket's. shutdown(2) reads and writes no memory; its failure (the peer already gone)
    // leaves nothing to do.
    #[allow(unsafe_code)]
    let _ = unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
}

/// A socket's deadline, registered with this core's sweep until dropped (or [`IoDeadline::end`]).
/// One at a time per socket. Drop it before the socket is closed: the sweep would shut down
/// the descriptor, whichever socket has its number by then.
#[must_use = "a deadline is swept only while registered"]
pub struct IoDeadline {
    fd: RawFd,
    /// Its slot is in this thread's sweep: it cannot move to another thread.
    _this_thread: PhantomData<Rc<()>>,
}

impl IoDeadline {
    /// Registers `fd` (an open socket) to be shut down once `deadline` has passed: a store
    /// into its slot. Starts the core's sweep task the first time; wakes it only when this
    /// deadline comes before its next look.
    #[inline]
    pub fn register(deadline: Moment, fd: RawFd) -> IoDeadline {
        let deadline = deadline.nanos();
        TABLE.with(|table| {
            if table.register(deadline, fd) {
                start_or_wake(table, deadline);
            }
        });
        IoDeadline { fd, _this_thread: PhantomData }
    }

    /// Whether the deadline passed (the socket was shut down).
    pub fn passed(&self) -> bool {
        TABLE.with(|table| table.slots.get().get(self.fd as usize).is_some_and(|slot| slot.get() == PASSED))
    }

    /// Lets go of the registration; returns whether the deadline passed (the socket was shut
    /// down). One look at the core's table, where `passed` and the drop would be two.
    #[inline]
    pub fn end(self) -> bool {
        let fd = std::mem::ManuallyDrop::new(self).fd;
        TABLE.with(|table| table.release(fd))
    }
}

impl Drop for IoDeadline {
    fn drop(&mut self) {
        let _ = TABLE.try_with(|table| table.release(self.fd));
    }
}

/// Starts the sweep task on the current runtime, or wakes it to look at `deadline`.
#[cold]
#[inline(never)]
fn start_or_wake(table: &Table, deadline: u64) {
    table.armed.set(deadline);
    SWEEPING.with(|sweeping| {
        if !sweeping.running.get() {
            sweeping.running.set(true);
            super::spawn(Sweeper { sleep: None, generation: sweeping.generation.get() });
        } else if let Some(waker) = &*sweeping.waker.borrow() {
            waker.wake_by_ref();
        }
    });
}

/// The core's sweep task: at each planned look, shuts down the sockets whose deadlines passed
/// and plans the next look; sleeps until it (or until a registration, when nothing is in
/// flight). Never ends (dropped with its runtime).
struct Sweeper {
    /// The engine timer it sleeps on, and until when.
    sleep: Option<(Sleep, u64)>,
    generation: u32,
}

impl Sweeper {
    /// Looks if its time has come; returns when to look next (`IDLE`: at the next
    /// registration), or `None` when its runtime is gone.
    fn look(&self, table: &Table, sweeping: &Sweeping, waker: &Waker) -> Option<u64> {
        if sweeping.generation.get() != self.generation {
            return None;
        }
        // Its own waker: replacing it never drops the last reference to a task.
        let mut kept = sweeping.waker.borrow_mut();
        if !kept.as_ref().is_some_and(|kept| kept.will_wake(waker)) {
            *kept = Some(waker.clone());
        }
        let now = Moment::now().nanos();
        let armed = table.armed.get();
        // Woken for a registration before the planned look: sleep until it.
        if armed != IDLE && now < armed {
            return Some(armed);
        }
        let next = Table::next_look(now, table.shut_passed(now, shut_down));
        table.armed.set(next);
        Some(next)
    }
}

impl Future for Sweeper {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let Some(next) = TABLE.with(|table| SWEEPING.with(|sweeping| this.look(table, sweeping, cx.waker())))
            else {
                return Poll::Ready(());
            };
            if next == IDLE {
                this.sleep = None;
                return Poll::Pending;
            }
            if this.sleep.as_ref().is_none_or(|(_, until)| *until != next) {
                this.sleep = Some((sleep_until(Moment::from_nanos(next).to_instant()), next));
            }
            let (sleep, _) = this.sleep.as_mut().expect("set above");
            if Pin::new(sleep).poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
        }
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        let generation = self.generation;
        let _ = SWEEPING.try_with(|sweeping| {
            if sweeping.generation.get() == generation {
                sweeping.running.set(false);
                sweeping.waker.borrow_mut().take();
                let _ = TABLE.try_with(|table| table.armed.set(IDLE));
            }
        });
    }
}

/// Forgets this thread's sweep task (its runtime is being dropped): returns its waker for the
/// caller to drop inside the runtime, and makes the next runtime on this thread start its own.
/// Every slot is let go of: the runtime's sockets close with it, and their descriptor numbers
/// go to the next runtime's.
pub(super) fn forget_sweeper() -> Option<Waker> {
    let _ = TABLE.try_with(|table| {
        table.armed.set(IDLE);
        table.slots.get().iter().for_each(|slot| slot.set(IDLE));
    });
    SWEEPING
        .try_with(|sweeping| {
            sweeping.generation.set(sweeping.generation.get().wrapping_add(1));
            sweeping.running.set(false);
            sweeping.waker.borrow_mut().take()
        })
        .ok()
        .flatten()
}

/// Deadlines registered on this thread and not yet let go of (for tests).
#[cfg(test)]
fn registered() -> usize {
    TABLE.with(|table| table.slots.get().iter().filter(|slot| slot.get() != IDLE).count())
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};

    use super::*;
    use crate::DriverChoice;
    use crate::driver::CoreRuntime;
    use crate::http::transport::{Transport, connect_tcp};

    fn after(duration: Duration) -> Moment {
        Moment::now().checked_add(duration).unwrap()
    }

    fn ms(base: u64, ms: u64) -> u64 {
        base + ms * 1_000_000
    }

    /// Looks at `now`, recording the descriptors it shuts down instead of shutting them.
    fn look(sweep: &Table, now: u64) -> (Vec<RawFd>, u64) {
        let mut shut = Vec::new();
        let next = sweep.shut_passed(now, |fd| shut.push(fd));
        (shut, next)
    }

    #[test]
    fn a_slot_reused_across_requests_on_one_socket_keeps_each_requests_deadline() {
        let base = Moment::now().nanos();
        let sweep = Table::new();
        assert!(sweep.register(ms(base, 10), 3), "the first registration tells the sweep");
        assert!(!sweep.release(3), "let go of in time");
        sweep.register(ms(base, 30), 3);
        assert_eq!(look(&sweep, ms(base, 20)), (vec![], ms(base, 30)), "the earlier request's deadline is gone");
        assert_eq!(look(&sweep, ms(base, 31)), (vec![3], IDLE));
        assert_eq!(look(&sweep, ms(base, 40)), (vec![], IDLE), "shut down once");
        assert!(sweep.release(3), "passed");
        // The next request on the socket starts afresh: not passed, its own deadline.
        sweep.register(ms(base, 100), 3);
        assert_eq!(look(&sweep, ms(base, 50)), (vec![], ms(base, 100)));
        assert!(!sweep.release(3));
        assert_eq!(look(&sweep, ms(base, 200)), (vec![], IDLE), "nothing left in flight");
    }

    #[test]
    fn a_look_passes_over_idle_slots_and_finds_the_earliest_deadline_in_flight() {
        let base = Moment::now().nanos();
        let sweep = Table::new();
        sweep.register(ms(base, 500), 19_999);
        sweep.register(ms(base, 40), 7);
        sweep.register(ms(base, 10), 12);
        assert!(!sweep.release(12));
        sweep.register(ms(base, 5), 900);
        assert!(sweep.slots.get().len() >= 20_000);
        assert_eq!(look(&sweep, ms(base, 6)), (vec![900], ms(base, 40)));
        assert_eq!(look(&sweep, ms(base, 41)), (vec![7], ms(base, 500)));
        assert_eq!(sweep.slots.get().iter().filter(|slot| slot.get() != IDLE).count(), 3);
    }

    #[test]
    fn a_deadline_at_the_look_is_not_yet_passed() {
        let now = Moment::now().nanos();
        let sweep = Table::new();
        sweep.register(now, 4);
        assert_eq!(look(&sweep, now), (vec![], now));
        assert!(!sweep.release(4));
    }

    #[test]
    fn only_a_deadline_before_the_planned_look_tells_the_sweep() {
        let base = Moment::now().nanos();
        let sweep = Table::new();
        sweep.armed.set(ms(base, 20));
        assert!(!sweep.register(ms(base, 30), 1), "behind the planned look: a store, nothing more");
        assert!(sweep.register(ms(base, 10), 2), "before it: the sweep must look sooner");
    }

    #[test]
    fn looks_are_spaced_by_at_least_the_minimum() {
        let now = Moment::now().nanos();
        let spacing = u64::try_from(SWEEP_SPACING_MIN.as_nanos()).unwrap();
        assert_eq!(Table::next_look(now, now + 1_000), now + spacing);
        assert_eq!(Table::next_look(now, ms(now, 5_000)), ms(now, 5_000));
        assert_eq!(Table::next_look(now, IDLE), IDLE, "nothing in flight: no look planned");
    }

    /// A read waiting on a silent peer ends (end of stream) when its deadline passes, on every
    /// driver (the two io_uring ones where io_uring runs), within the timers' precision and the spacing;
    /// one that completes first never sees it. (Through the transport, which is the core's
    /// runtime's whatever `MITE_DRIVER` makes of `Auto`.)
    #[test]
    fn a_passed_deadline_ends_the_read_waiting_on_its_socket() {
        for choice in [DriverChoice::Epoll, DriverChoice::Auto, DriverChoice::IoUring, DriverChoice::Own] {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let Ok((mut runtime, _)) = CoreRuntime::build(choice) else {
                assert!(
                    matches!(choice, DriverChoice::IoUring | DriverChoice::Own),
                    "only the io_uring runtimes may be missing (no io_uring here)"
                );
                continue;
            };
            let (took, passed, quick) = runtime.block_on(async {
                let mut tcp = Transport::plain(connect_tcp(addr).await.unwrap());
                let (mut peer, _) = listener.accept().unwrap();
                // In time: the peer answers at once.
                peer.write_all(b"x").unwrap();
                let deadline = IoDeadline::register(after(Duration::from_secs(5)), tcp.raw_fd());
                let (read, _) = tcp.read_some(BytesMut::new()).await;
                assert_eq!(read.unwrap(), 1);
                let quick = deadline.end();
                // Too late: the peer says nothing.
                let started = Moment::now();
                let limit = started.checked_add(Duration::from_millis(50)).unwrap();
                let deadline = IoDeadline::register(limit, tcp.raw_fd());
                let (read, _) = tcp.read_some(BytesMut::new()).await;
                assert_eq!(read.unwrap(), 0, "end of stream");
                let took = started.elapsed();
                assert!(deadline.passed());
                let passed = deadline.end();
                drop(peer.read(&mut [0u8; 8]));
                (took, passed, quick)
            });
            assert!(passed && !quick, "{choice:?}");
            assert!(took >= Duration::from_millis(50) && took < Duration::from_millis(500), "{choice:?}: {took:?}");
            assert_eq!(registered(), 0, "{choice:?}: every registration let go of");
        }
    }

    #[test]
    fn a_dropped_registration_leaves_the_sweep_and_its_socket_alone() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let (mut runtime, _) = CoreRuntime::build(DriverChoice::Auto).unwrap();
        runtime.block_on(async {
            let tcp = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (mut peer, _) = listener.accept().unwrap();
            drop(IoDeadline::register(after(Duration::from_millis(5)), tcp.as_raw_fd()));
            assert_eq!(registered(), 0);
            crate::driver::pause(Duration::from_millis(30)).await;
            (&tcp).write_all(b"still open").unwrap();
            let mut got = [0u8; 10];
            peer.read_exact(&mut got).unwrap();
            assert_eq!(&got, b"still open");
        });
    }

    /// Descriptor reuse: a connection closed while registered (its exchange dropped, the
    /// registration with it, then the socket) leaves nothing that shuts down the next socket
    /// given its number. `dup2` hands the number over at once, as the kernel would to the next
    /// socket opened, without another test's thread taking it in between.
    #[test]
    fn a_later_socket_with_a_closed_ones_descriptor_number_is_left_alone() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (mut runtime, _) = CoreRuntime::build(DriverChoice::Auto).unwrap();
        runtime.block_on(async {
            let first = TcpStream::connect(addr).unwrap();
            let _first_peer = listener.accept().unwrap();
            let number = first.as_raw_fd();
            // A request in flight on it, then a later one holding the sweep's timer.
            let closed = IoDeadline::register(after(Duration::from_millis(10)), number);
            let later = TcpStream::connect(addr).unwrap();
            let (mut later_peer, _) = listener.accept().unwrap();
            let later_deadline = IoDeadline::register(after(Duration::from_secs(5)), later.as_raw_fd());
            drop(closed);
            // The first socket closes, and the next one takes its number.
            let next = TcpStream::connect(addr).unwrap();
            let (mut next_peer, _) = listener.accept().unwrap();
            let number_taken = first.into_raw_fd();
            // SAFETY: both descriptors are open and this test's own; dup2 closes the first
            // socket and puts the next one under its number, which `next` then owns.
            #[allow(unsafe_code)]
            let next = unsafe {
                assert_eq!(libc::dup2(next.as_raw_fd(), number_taken), number_taken);
                drop(next);
                TcpStream::from_raw_fd(number_taken)
            };
            crate::driver::pause(Duration::from_millis(40)).await;
            (&next).write_all(b"still open").unwrap();
            let mut got = [0u8; 10];
            next_peer.read_exact(&mut got).unwrap();
            assert_eq!(&got, b"still open");
            assert!(!later_deadline.end());
            (&later).write_all(b"open too").unwrap();
            let mut got = [0u8; 8];
            later_peer.read_exact(&mut got).unwrap();
        });
    }

    /// A registration never let go of (its exchange leaked) goes with its runtime: the next
    /// runtime on the thread, whose sockets may get its descriptor number, finds none.
    #[test]
    fn a_runtimes_registrations_go_with_it() {
        let (mut runtime, _) = CoreRuntime::build(DriverChoice::Auto).unwrap();
        runtime.block_on(async { std::mem::forget(IoDeadline::register(after(Duration::from_secs(5)), 3)) });
        assert_eq!(registered(), 1);
        drop(runtime);
        assert_eq!(registered(), 0);
    }

    #[test]
    fn a_new_runtime_on_the_same_thread_sweeps_again() {
        for _ in 0..3 {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let (mut runtime, _) = CoreRuntime::build(DriverChoice::Auto).unwrap();
            let passed = runtime.block_on(async {
                let mut tcp = Transport::plain(connect_tcp(listener.local_addr().unwrap()).await.unwrap());
                let _peer = listener.accept().unwrap();
                let deadline = IoDeadline::register(after(Duration::from_millis(10)), tcp.raw_fd());
                let (read, _) = tcp.read_some(BytesMut::new()).await;
                assert_eq!(read.unwrap(), 0);
                deadline.end()
            });
            assert!(passed);
        }
    }
}
