//! The request timeout without a timer per request: a core's sockets in use register their
//! deadline and descriptor here (O(1), into reused slots), and one sweep task per core shuts
//! down (`shutdown(2)`, both directions) the socket of every deadline that has passed. The
//! kernel then ends the read or write pending on it (io_uring and epoll alike), and the
//! exchange, seeing that end, asks its [`IoDeadline`] whether it passed: a timeout, not a
//! close. Every request on a core has the same timeout, so deadlines arrive in order: a new
//! one is appended to the list's end (walking back past later ones when it is not, so any mix
//! stays sorted), and the sweep only ever looks at the list's first. The sweep sleeps on one
//! engine timer until the first deadline it knows; a deadline registered behind it wakes
//! nothing (when the sweep finds its deadline gone, it sleeps until the new first), so a core
//! under load pays about one sweep wake per request timeout, not a timer per request.
//! Precision: a socket is shut down on the sweep's timer, within the timers' precision (see
//! `timer`: the 50 µs grid on io_uring, the millisecond tick on epoll) of its deadline.

use super::clock::Moment;
use super::timer::{Sleep, sleep_until};
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// No slot: a link's end.
const NONE: u32 = u32::MAX;

/// Where a registered deadline stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Free for the next registration (linked through `next` in the free list).
    Free,
    /// In the sorted list, its socket open.
    Waiting,
    /// Passed: its socket was shut down, and it left the list (the slot is freed when its
    /// exchange lets go of it).
    Passed,
}

/// One registered socket: its deadline and descriptor, and its neighbours in the list.
struct Entry {
    deadline: Moment,
    fd: RawFd,
    state: State,
    prev: u32,
    next: u32,
}

/// A core's registered deadlines, first to last, and its sweep task.
struct Sweep {
    entries: Vec<Entry>,
    first: u32,
    last: u32,
    free: u32,
    /// Bumped when a runtime goes: a sweep task of an older runtime leaves the state alone.
    generation: u32,
    /// Whether this runtime's sweep task has been started.
    running: bool,
    /// The deadline the sweep task sleeps until (`None`: it waits for a first registration).
    armed: Option<Moment>,
    waker: Option<Waker>,
}

impl Sweep {
    const fn new() -> Self {
        Sweep {
            entries: Vec::new(),
            first: NONE,
            last: NONE,
            free: NONE,
            generation: 0,
            running: false,
            armed: None,
            waker: None,
        }
    }

    /// Takes a slot and links it in deadline order (at the end, unless later deadlines are
    /// there already). Returns the slot and whether it became the list's first.
    #[inline]
    fn insert(&mut self, deadline: Moment, fd: RawFd) -> (u32, bool) {
        let slot = match self.free {
            NONE => {
                self.entries.push(Entry { deadline, fd, state: State::Free, prev: NONE, next: NONE });
                u32::try_from(self.entries.len() - 1).expect("fewer than 4 billion sockets")
            }
            free => {
                self.free = self.entries[free as usize].next;
                free
            }
        };
        // The one it follows: the last whose deadline is at or before this one.
        let mut after = self.last;
        while after != NONE && self.entries[after as usize].deadline > deadline {
            after = self.entries[after as usize].prev;
        }
        let before = if after == NONE { self.first } else { self.entries[after as usize].next };
        self.entries[slot as usize] = Entry { deadline, fd, state: State::Waiting, prev: after, next: before };
        match after {
            NONE => self.first = slot,
            after => self.entries[after as usize].next = slot,
        }
        match before {
            NONE => self.last = slot,
            before => self.entries[before as usize].prev = slot,
        }
        (slot, after == NONE)
    }

    /// Takes `slot` out of the list (it must be waiting there).
    #[inline]
    fn unlink(&mut self, slot: u32) {
        let Entry { prev, next, .. } = self.entries[slot as usize];
        match prev {
            NONE => self.first = next,
            prev => self.entries[prev as usize].next = next,
        }
        match next {
            NONE => self.last = prev,
            next => self.entries[next as usize].prev = prev,
        }
    }

    /// Lets go of `slot`: out of the list if it still waits there, and free. Returns whether
    /// its deadline had passed.
    #[inline]
    fn release(&mut self, slot: u32) -> bool {
        let state = self.entries[slot as usize].state;
        if state == State::Waiting {
            self.unlink(slot);
        }
        let entry = &mut self.entries[slot as usize];
        entry.state = State::Free;
        entry.next = self.free;
        self.free = slot;
        state == State::Passed
    }

    /// Shuts down the socket of every deadline before `now`, taking them out of the list.
    /// Returns the first deadline left.
    fn shut_passed(&mut self, now: Moment) -> Option<Moment> {
        while self.first != NONE {
            let slot = self.first;
            let entry = &self.entries[slot as usize];
            // Strictly before: a response whose last byte came at the deadline is in time
            // (the exchange's own check is `ended > deadline`).
            if entry.deadline >= now {
                return Some(entry.deadline);
            }
            shut_down(entry.fd);
            self.unlink(slot);
            self.entries[slot as usize].state = State::Passed;
        }
        None
    }
}

thread_local! {
    static SWEEP: RefCell<Sweep> = const { RefCell::new(Sweep::new()) };
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
/// Drop it before the socket is closed: the sweep would shut down the descriptor.
#[must_use = "a deadline is swept only while registered"]
pub struct IoDeadline {
    slot: u32,
    /// Its slot is in this thread's sweep: it cannot move to another thread.
    _this_thread: PhantomData<Rc<()>>,
}

impl IoDeadline {
    /// Registers `fd` (an open socket) to be shut down once `deadline` has passed. Starts the
    /// core's sweep task the first time; wakes it only when this deadline comes before the
    /// one it sleeps until.
    #[inline]
    pub fn register(deadline: Moment, fd: RawFd) -> IoDeadline {
        let slot = SWEEP.with(|sweep| {
            let sweep = &mut *sweep.borrow_mut();
            let (slot, first) = sweep.insert(deadline, fd);
            if first && sweep.armed.is_none_or(|armed| deadline < armed) {
                start_or_wake(sweep, deadline);
            }
            slot
        });
        IoDeadline { slot, _this_thread: PhantomData }
    }

    /// Whether the deadline passed (the socket was shut down).
    pub fn passed(&self) -> bool {
        SWEEP.with(|sweep| sweep.borrow().entries[self.slot as usize].state == State::Passed)
    }

    /// Lets go of the registration; returns whether the deadline passed (the socket was shut
    /// down). One look at the core's sweep, where `passed` and the drop would be two.
    #[inline]
    pub fn end(self) -> bool {
        let this = std::mem::ManuallyDrop::new(self);
        SWEEP.with(|sweep| sweep.borrow_mut().release(this.slot))
    }
}

impl Drop for IoDeadline {
    fn drop(&mut self) {
        let _ = SWEEP.try_with(|sweep| sweep.borrow_mut().release(self.slot));
    }
}

/// Starts the sweep task on the current runtime, or wakes it to sleep until `deadline`.
fn start_or_wake(sweep: &mut Sweep, deadline: Moment) {
    sweep.armed = Some(deadline);
    if !sweep.running {
        sweep.running = true;
        super::spawn(Sweeper { sleep: None, generation: sweep.generation });
    } else if let Some(waker) = &sweep.waker {
        waker.wake_by_ref();
    }
}

/// The core's sweep task: shuts down the sockets whose deadlines passed, sleeps until the
/// first deadline left (or until one is registered), and again. Never ends (dropped with its
/// runtime).
struct Sweeper {
    /// The engine timer it sleeps on, and until when.
    sleep: Option<(Sleep, Moment)>,
    generation: u32,
}

impl Future for Sweeper {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let now = Moment::now();
            let next = SWEEP.with(|sweep| {
                let sweep = &mut *sweep.borrow_mut();
                if sweep.generation != this.generation {
                    return Err(());
                }
                // Its own waker: replacing it never drops the last reference to a task.
                if !sweep.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    sweep.waker = Some(cx.waker().clone());
                }
                let next = sweep.shut_passed(now);
                sweep.armed = next;
                Ok(next)
            });
            let Ok(next) = next else { return Poll::Ready(()) };
            let Some(next) = next else {
                this.sleep = None;
                return Poll::Pending;
            };
            if this.sleep.as_ref().is_none_or(|(_, until)| *until != next) {
                this.sleep = Some((sleep_until(next.to_instant()), next));
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
        let _ = SWEEP.try_with(|sweep| {
            let sweep = &mut *sweep.borrow_mut();
            if sweep.generation == generation {
                sweep.running = false;
                sweep.armed = None;
                sweep.waker = None;
            }
        });
    }
}

/// Forgets this thread's sweep task (its runtime is being dropped): returns its waker for the
/// caller to drop inside the runtime, and makes the next runtime on this thread start its own.
/// The registrations stay: each is let go of by its exchange.
pub(super) fn forget_sweeper() -> Option<Waker> {
    SWEEP
        .try_with(|sweep| {
            let sweep = &mut *sweep.borrow_mut();
            sweep.generation = sweep.generation.wrapping_add(1);
            sweep.running = false;
            sweep.armed = None;
            sweep.waker.take()
        })
        .ok()
        .flatten()
}

/// Deadlines registered on this thread and not yet let go of (for tests).
#[cfg(test)]
fn registered() -> usize {
    SWEEP.with(|sweep| sweep.borrow().entries.iter().filter(|entry| entry.state != State::Free).count())
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::time::Duration;

    use super::*;
    use crate::DriverChoice;
    use crate::driver::CoreRuntime;

    fn after(duration: Duration) -> Moment {
        Moment::now().checked_add(duration).unwrap()
    }

    fn order(sweep: &Sweep) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = sweep.first;
        while at != NONE {
            out.push(at);
            at = sweep.entries[at as usize].next;
        }
        out
    }

    #[test]
    fn deadlines_stay_sorted_whatever_order_they_come_in_and_slots_are_reused() {
        let base = Moment::now();
        let at = |ms: u64| base.checked_add(Duration::from_millis(ms)).unwrap();
        let mut sweep = Sweep::new();
        let (a, first_a) = sweep.insert(at(10), -1);
        let (b, first_b) = sweep.insert(at(30), -1);
        let (c, first_c) = sweep.insert(at(20), -1); // between
        let (d, first_d) = sweep.insert(at(5), -1); // before all
        assert_eq!((first_a, first_b, first_c, first_d), (true, false, false, true));
        assert_eq!(order(&sweep), [d, a, c, b]);
        assert!(!sweep.release(c));
        assert_eq!(order(&sweep), [d, a, b]);
        let (e, _) = sweep.insert(at(40), -1);
        assert_eq!(e, c, "the freed slot is reused");
        assert_eq!(sweep.entries.len(), 4, "no slot more than the most held at once");
        // Passed: out of the list, the slot held until its exchange lets go.
        assert_eq!(sweep.shut_passed(at(11)), Some(at(30)));
        assert_eq!(order(&sweep), [b, e]);
        assert!(sweep.release(d) && sweep.release(a));
        assert!(!sweep.release(b) && !sweep.release(e));
        assert_eq!((sweep.first, sweep.last), (NONE, NONE));
    }

    #[test]
    fn a_deadline_at_the_sweep_time_is_not_yet_passed() {
        let now = Moment::now();
        let mut sweep = Sweep::new();
        let (slot, _) = sweep.insert(now, -1);
        assert_eq!(sweep.shut_passed(now), Some(now));
        assert!(!sweep.release(slot));
    }

    /// A read waiting on a silent peer ends (end of stream) when its deadline passes, on both
    /// drivers, within the timers' precision; one that completes first never sees it.
    #[test]
    fn a_passed_deadline_ends_the_read_waiting_on_its_socket() {
        for choice in [DriverChoice::Epoll, DriverChoice::Auto] {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let (mut runtime, _) = CoreRuntime::build(choice).unwrap();
            let (took, passed, quick) = runtime.block_on(async {
                let mut tcp = monoio::net::TcpStream::connect_addr(addr).await.unwrap();
                let (mut peer, _) = listener.accept().unwrap();
                // In time: the peer answers at once.
                peer.write_all(b"x").unwrap();
                let deadline = IoDeadline::register(after(Duration::from_secs(5)), tcp.as_raw_fd());
                let (read, _) = monoio::io::AsyncReadRent::read(&mut tcp, vec![0u8; 8]).await;
                assert_eq!(read.unwrap(), 1);
                let quick = deadline.end();
                // Too late: the peer says nothing.
                let started = Moment::now();
                let limit = started.checked_add(Duration::from_millis(50)).unwrap();
                let deadline = IoDeadline::register(limit, tcp.as_raw_fd());
                let (read, _) = monoio::io::AsyncReadRent::read(&mut tcp, vec![0u8; 8]).await;
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

    #[test]
    fn a_new_runtime_on_the_same_thread_sweeps_again() {
        for _ in 0..3 {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let (mut runtime, _) = CoreRuntime::build(DriverChoice::Auto).unwrap();
            let passed = runtime.block_on(async {
                let mut tcp = monoio::net::TcpStream::connect_addr(listener.local_addr().unwrap()).await.unwrap();
                let _peer = listener.accept().unwrap();
                let deadline = IoDeadline::register(after(Duration::from_millis(10)), tcp.as_raw_fd());
                let (read, _) = monoio::io::AsyncReadRent::read(&mut tcp, vec![0u8; 8]).await;
                assert_eq!(read.unwrap(), 0);
                deadline.end()
            });
            assert!(passed);
        }
    }
}
