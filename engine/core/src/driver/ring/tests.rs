//! The own runtime's tests: operations dropped in flight, tasks, sleeps, TCP.

use std::cell::Cell;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::uring::{Op, installed};
use super::*;
use crate::limits::URING_ENTRIES;

fn runtime() -> OwnRuntime {
    OwnRuntime::build(URING_ENTRIES, true).or_else(|_| OwnRuntime::build(URING_ENTRIES, false)).unwrap()
}

/// A buffer that says when it is dropped.
struct Tracked {
    bytes: Vec<u8>,
    dropped: Rc<Cell<bool>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.dropped.set(true);
    }
}

/// A receive dropped while in flight: the kernel may still write into its buffer, so the
/// buffer stays alive (in the operation's slot) until the completion of its cancel arrives.
#[test]
fn an_operation_dropped_in_flight_keeps_its_buffer_until_its_completion() {
    let (mut rt, socket, peer) = connected_pair();
    let dropped = Rc::new(Cell::new(false));
    let flag = dropped.clone();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&socket);
    rt.block_on(async move {
        let tracked = Tracked { bytes: vec![0; 64], dropped: flag };
        let mut op = Box::pin(Op::push(tracked, |t| {
            io_uring::opcode::Recv::new(io_uring::types::Fd(fd), t.bytes.as_mut_ptr(), 64).build()
        }));
        assert!(op.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
        // Handed to the kernel, waiting for bytes that never come.
        uring::turn(false);
        drop(op);
    });
    assert!(!dropped.get(), "the buffer was freed while the kernel could still write into it");
    let started = Instant::now();
    while !dropped.get() && started.elapsed() < Duration::from_secs(5) {
        uring::turn(true);
    }
    assert!(dropped.get(), "the cancelled receive's completion freed its buffer");
    drop((socket, peer, rt));
    assert!(!installed(), "the ring goes with its runtime");
}

#[test]
fn spawned_tasks_run_and_sleeps_end_on_the_grid() {
    let mut rt = runtime();
    let ran = rt.block_on(async {
        let flag = Rc::new(Cell::new(false));
        let set = flag.clone();
        spawn(async move { set.set(true) });
        crate::driver::sleep(Duration::from_millis(1)).await;
        flag.get()
    });
    assert!(ran);
    // As on monoio's io_uring: a 200 µs sleep ends on the 50 µs grid, not a millisecond late
    // (the median, so that a busy machine's odd late wake does not decide it).
    let mut took: Vec<Duration> = rt.block_on(async {
        let mut took = Vec::new();
        for _ in 0..41 {
            let started = Instant::now();
            crate::driver::pause(Duration::from_micros(200)).await;
            took.push(started.elapsed());
        }
        took
    });
    took.sort();
    assert!(took[0] >= Duration::from_micros(200), "a sleep ended early: {:?}", took[0]);
    assert!(took[20] < Duration::from_micros(700), "median {:?} of {took:?}", took[20]);
}

/// Connect, send, receive and the end of the stream through the ring.
#[test]
fn tcp_sends_and_receives_through_the_ring() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut request = [0; 5];
        socket.read_exact(&mut request).unwrap();
        socket.write_all(b"world").unwrap();
        request
    });
    let mut rt = runtime();
    let (sent, got, end) = rt.block_on(async move {
        let socket = TcpSocket::connect(addr).await.unwrap();
        let (sent, _) = socket.send(BytesMut::from(&b"hello"[..]), 0).await;
        let mut got = BytesMut::with_capacity(64);
        got.extend_from_slice(b">");
        let (read, mut got) = socket.recv(got).await;
        assert_eq!(read.unwrap(), got.len() - 1);
        while got.len() < 6 {
            let read;
            (read, got) = socket.recv(got).await;
            assert!(read.unwrap() > 0);
        }
        let (end, _) = socket.recv(BytesMut::with_capacity(8)).await;
        (sent.unwrap(), got, end.unwrap())
    });
    assert_eq!(&server.join().unwrap(), b"hello");
    assert_eq!((sent, &got[..], end), (5, &b">world"[..], 0));
}

#[test]
fn a_refused_connect_is_an_error_not_a_hang() {
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // closed at once
    let mut rt = runtime();
    let err = rt.block_on(TcpSocket::connect(addr)).err().unwrap();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}

#[test]
fn a_second_runtime_on_one_thread_is_refused_and_a_later_one_builds() {
    let rt = runtime();
    assert!(OwnRuntime::build(URING_ENTRIES, false).is_err());
    drop(rt);
    let mut rt = runtime();
    assert_eq!(rt.block_on(std::future::poll_fn(|_| Poll::Ready(3))), 3);
}

/// A wake from `at` on: the waker a future leaves, taken and used by another thread.
type Parked = std::sync::Arc<std::sync::Mutex<Option<Waker>>>;

/// Waits until `fired`, leaving its waker in `parked` each poll.
fn parked_until(
    fired: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    parked: &Parked,
) -> impl std::future::Future<Output = ()> + 'static {
    let (fired, parked) = (fired.clone(), parked.clone());
    std::future::poll_fn(move |cx| {
        if fired.load(std::sync::atomic::Ordering::Acquire) {
            return Poll::Ready(());
        }
        *parked.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    })
}

/// Another thread that waits until a waker is parked, then `after`, and wakes it as `wake` does.
fn wake_from_afar(
    fired: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    parked: &Parked,
    after: Duration,
    wake: impl FnOnce(Waker) + std::marker::Send + 'static,
) -> std::thread::JoinHandle<()> {
    let (fired, parked) = (fired.clone(), parked.clone());
    std::thread::spawn(move || {
        let started = Instant::now();
        while parked.lock().unwrap().is_none() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(after);
        let waker = parked.lock().unwrap().take().expect("a waker was parked");
        fired.store(true, std::sync::atomic::Ordering::Release);
        wake(waker);
    })
}

/// A spawned task woken from another thread (its waker cloned there, woken by reference and
/// by value, and dropped there) is polled on its own thread, and the runtime's caller, woken
/// from another thread too, returns: no abort, no lost wake.
#[test]
fn tasks_woken_from_another_thread_are_polled_on_their_own() {
    let mut rt = runtime();
    let (fired, parked): (std::sync::Arc<std::sync::atomic::AtomicBool>, Parked) = Default::default();
    let (main_fired, main_parked): (std::sync::Arc<std::sync::atomic::AtomicBool>, Parked) = Default::default();
    let task_done = Rc::new(Cell::new(false));
    let waiting = parked_until(&fired, &parked);
    let done = task_done.clone();
    // The task's waker: cloned on the other thread (a clone that counts atomically), woken by
    // reference through the clone, then the original woken by value there.
    let task_waker = wake_from_afar(&fired, &parked, Duration::from_millis(20), |waker| {
        let clone = waker.clone();
        clone.wake_by_ref();
        drop(clone);
        waker.wake();
    });
    // The caller's waker, woken a while after the task's (by value, on the other thread).
    let main_waker = wake_from_afar(&main_fired, &main_parked, Duration::from_millis(200), Waker::wake);
    let main_waiting = parked_until(&main_fired, &main_parked);
    let ran = rt.block_on(async move {
        spawn(async move {
            waiting.await;
            done.set(true);
        });
        main_waiting.await;
        task_done.get()
    });
    task_waker.join().unwrap();
    main_waker.join().unwrap();
    assert!(ran, "the task woken from afar ran before the caller, woken later, returned");
}

/// A waker of this thread's task dropped on another thread, unwoken: the drop is handed home
/// (the task's plain count is never touched there) and the task still runs to its end.
#[test]
fn a_waker_dropped_on_another_thread_is_released_at_home() {
    let mut rt = runtime();
    let kept: Parked = Default::default();
    let keep = kept.clone();
    let ran = rt.block_on(async move {
        let polls = Rc::new(Cell::new(0));
        let counted = polls.clone();
        spawn(std::future::poll_fn(move |cx| {
            counted.set(counted.get() + 1);
            if counted.get() == 1 {
                *keep.lock().unwrap() = Some(cx.waker().clone());
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(())
        }));
        crate::driver::sleep(Duration::from_millis(5)).await;
        let waker = kept.lock().unwrap().take().unwrap();
        std::thread::spawn(move || drop(waker)).join().unwrap();
        crate::driver::sleep(Duration::from_millis(5)).await;
        polls.get()
    });
    assert_eq!(ran, 2);
}

/// The core's CPU time over `wait` of waiting for a wake from another thread, with nothing
/// else in flight (no timer, no socket): the ring waits in the kernel, it does not spin.
fn cpu_while_waiting_from_afar(wait: Duration) -> Duration {
    let mut rt = runtime();
    let (fired, parked): (std::sync::Arc<std::sync::atomic::AtomicBool>, Parked) = Default::default();
    let waker = wake_from_afar(&fired, &parked, wait, Waker::wake);
    let waiting = parked_until(&fired, &parked);
    let before = crate::driver::thread_cpu_us();
    rt.block_on(waiting);
    let used = crate::driver::thread_cpu_us() - before;
    waker.join().unwrap();
    Duration::from_micros(used)
}

/// Idle a second, waiting on another thread or on a timer (a journey's think time): the core
/// uses next to no CPU (a spinning turn would use most of the second).
#[test]
fn an_idle_second_costs_next_to_no_cpu() {
    let afar = cpu_while_waiting_from_afar(Duration::from_secs(1));
    assert!(afar < Duration::from_millis(100), "waiting for another thread's wake: {afar:?} of CPU in a second");
    let mut rt = runtime();
    let before = crate::driver::thread_cpu_us();
    rt.block_on(crate::driver::sleep(Duration::from_secs(1)));
    let thinking = Duration::from_micros(crate::driver::thread_cpu_us() - before);
    assert!(thinking < Duration::from_millis(100), "a second of think time: {thinking:?} of CPU");
}

/// A read pushed this turn and dropped with its descriptor before the ring hands it to the
/// kernel: the kernel looks the number up only then. Closed directly, the number would be free
/// at once, the next socket would take it, and the read would take that socket's bytes (a
/// run's timer alarm once read 8 bytes of a target's connection this way); closed through the
/// ring, the close comes after the read.
#[test]
fn a_read_dropped_with_its_descriptor_before_the_kernel_saw_it_reads_no_other_socket() {
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;
    let mut rt = runtime();
    let got = rt.block_on(async {
        let (old, _old_peer) = UnixStream::pair().unwrap();
        let old = RingFd::from(OwnedFd::from(old));
        let mut pending = Box::pin(read(&old, vec![0; 8]));
        assert!(pending.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
        // Pushed, not handed to the kernel: no turn has run since.
        drop(pending);
        drop(old);
        let (new, mut new_peer) = UnixStream::pair().unwrap();
        new_peer.write_all(b"8 bytes!").unwrap();
        for _ in 0..10 {
            uring::turn(false);
        }
        new.set_nonblocking(true).unwrap();
        let mut got = [0u8; 16];
        let n = (&new).read(&mut got).unwrap_or(0);
        got[..n].to_vec()
    });
    assert_eq!(got, b"8 bytes!", "another operation took the new socket's bytes");
}

/// A read of `fd` into 8 bytes, pushed on this thread's ring.
fn read_op(fd: std::os::fd::RawFd) -> std::pin::Pin<Box<Op<Vec<u8>>>> {
    Box::pin(Op::push(vec![0u8; 8], |buf| {
        io_uring::opcode::Read::new(io_uring::types::Fd(fd), buf.as_mut_ptr(), 8).build()
    }))
}

/// Polls `op` between turns of the ring (not waiting in the kernel) until it ends, up to 5 s.
fn finish<T: Unpin + 'static>(op: &mut std::pin::Pin<Box<Op<T>>>) -> Option<(i32, T)> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if let Poll::Ready(ended) = op.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            return Some(ended);
        }
        uring::turn(false);
    }
    None
}

/// An operation left alive when its runtime ended, then polled and dropped while the next
/// runtime on the thread runs an operation in the same slot: it reads, frees and wakes nothing
/// of the new ring (it ends with ECANCELED), and the new operation completes normally.
#[test]
fn an_operation_of_an_ended_runtime_leaves_the_next_runtimes_slots_alone() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    let (old_socket, _old_peer) = UnixStream::pair().unwrap();
    let rt = runtime();
    let mut old = read_op(old_socket.as_raw_fd());
    assert!(old.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    drop(rt); // cancels the old read and waits for its completion
    let _rt = runtime();
    let (new_socket, mut new_peer) = UnixStream::pair().unwrap();
    let mut new = read_op(new_socket.as_raw_fd());
    assert!(new.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    uring::turn(false); // the new read waits in the kernel
    let Poll::Ready((result, _)) = old.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("an operation of an ended runtime waited in the next runtime's slot");
    };
    assert_eq!(result, -libc::ECANCELED);
    drop(old);
    let mut dropped = read_op(old_socket.as_raw_fd());
    drop(std::mem::replace(&mut dropped, read_op(old_socket.as_raw_fd())));
    new_peer.write_all(b"new ring").unwrap();
    let (result, bytes) = finish(&mut new).expect("the new runtime's read completed");
    assert_eq!((result, &bytes[..]), (8, &b"new ring"[..]));
}

/// A second runtime's operation in the slot of the ended runtime's, dropped (not polled) while
/// the new one waits: the new one is not cancelled, nor its result taken.
#[test]
fn an_operation_of_an_ended_runtime_dropped_cancels_nothing_of_the_next() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    let (old_socket, _old_peer) = UnixStream::pair().unwrap();
    let rt = runtime();
    let old = read_op(old_socket.as_raw_fd());
    drop(rt);
    let _rt = runtime();
    let (new_socket, mut new_peer) = UnixStream::pair().unwrap();
    let mut new = read_op(new_socket.as_raw_fd());
    assert!(new.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    drop(old);
    new_peer.write_all(b"new ring").unwrap();
    let (result, bytes) = finish(&mut new).expect("the new runtime's read completed");
    assert_eq!((result, &bytes[..]), (8, &b"new ring"[..]), "the old operation's drop cancelled the new one");
}

/// More operations in flight than the submission queue (and the completion queue) holds: each
/// completes once, with its own bytes, none lost.
#[test]
fn more_operations_than_the_queue_holds_each_complete_once() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    const ENTRIES: u32 = 4;
    const OPERATIONS: usize = 64;
    let _rt = OwnRuntime::build(ENTRIES, true).or_else(|_| OwnRuntime::build(ENTRIES, false)).unwrap();
    let pairs: Vec<(UnixStream, UnixStream)> = (0..OPERATIONS).map(|_| UnixStream::pair().unwrap()).collect();
    let mut ops: Vec<_> = pairs.iter().map(|(socket, _)| read_op(socket.as_raw_fd())).collect();
    let baseline = uring::in_flight() - OPERATIONS;
    for (i, (_, peer)) in pairs.iter().enumerate() {
        (&*peer).write_all(format!("op {i:05}").as_bytes()).unwrap();
    }
    let mut results = vec![None; OPERATIONS];
    let started = Instant::now();
    while results.iter().any(Option::is_none) && started.elapsed() < Duration::from_secs(5) {
        uring::turn(false);
        for (i, op) in ops.iter_mut().enumerate() {
            if results[i].is_none()
                && let Poll::Ready((n, bytes)) = op.as_mut().poll(&mut Context::from_waker(Waker::noop()))
            {
                results[i] = Some((n, String::from_utf8(bytes).unwrap()));
            }
        }
    }
    for (i, result) in results.into_iter().enumerate() {
        assert_eq!(result, Some((8, format!("op {i:05}"))), "operation {i}");
    }
    for _ in 0..10 {
        uring::turn(false);
    }
    assert_eq!(uring::in_flight(), baseline, "a completion was counted twice or lost");
}

/// The submission queue full and the kernel refusing every submission: a push gives up after
/// a bounded number of tries (it does not spin the core), and the operation ends with an error
/// that says what happened, in words.
#[test]
fn a_push_on_a_stuck_queue_gives_up_with_an_error_in_words() {
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _rt = OwnRuntime::build(4, false).unwrap();
        uring::REFUSED_SUBMITS.set(u32::MAX);
        let mut ended = None;
        for _ in 0..16 {
            let mut op = Box::pin(Op::push((), |()| io_uring::opcode::Nop::new().build()));
            if let Poll::Ready((result, ())) = op.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                ended = Some(uring::io_result(result).map(|_| ()));
                break;
            }
            std::mem::forget(op); // its entry stays queued, the queue fills
        }
        uring::REFUSED_SUBMITS.set(0);
        let _ = done.send(ended.map(|ended| ended.map_err(|err| (err.kind(), err.to_string()))));
    });
    let ended = outcome.recv_timeout(Duration::from_secs(10)).expect("a push on a stuck queue spun");
    let (kind, text) = ended.expect("an operation ended at once").expect_err("an error");
    assert_eq!(kind, io::ErrorKind::ResourceBusy);
    assert!(text.contains("submission queue") && text.contains("stayed full"), "{text}");
}

/// A ring whose every enter fails for good (the kernel no longer takes it): the core gives up
/// with the error, in words, instead of spinning for ever waiting on what cannot complete.
/// Passing enters (signals) do not count.
#[test]
fn a_ring_the_kernel_no_longer_enters_ends_the_core_with_the_error() {
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut rt = OwnRuntime::build(4, false).unwrap();
        uring::REFUSED_ENTERS.set((500, libc::EINTR));
        let mut turns = 0;
        let interrupted = rt.block_on(std::future::poll_fn(move |cx| {
            turns += 1;
            if turns <= 600 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready("ended")
        }));
        uring::REFUSED_ENTERS.set((u32::MAX, libc::EBADF));
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(std::future::pending::<()>());
        }));
        uring::REFUSED_ENTERS.set((0, 0));
        let text = match refused {
            Ok(()) => String::from("returned"),
            Err(panic) => panic.downcast_ref::<String>().cloned().unwrap_or_default(),
        };
        let _ = done.send((interrupted, text));
    });
    let (interrupted, text) = outcome.recv_timeout(Duration::from_secs(10)).expect("a ring refused by the kernel spun");
    assert_eq!(interrupted, "ended", "interrupted enters are retried");
    assert!(text.contains("io_uring_enter failed") && text.contains("--driver epoll"), "{text}");
}

/// A runtime ending while a receive is in flight (dropped: its buffer held by the ring), its
/// waits for the completion cut short by signals: it waits again, and frees the buffer only
/// after the kernel's completion of the cancelled receive came.
#[test]
fn an_ending_runtime_interrupted_frees_a_buffer_only_after_its_completion() {
    let (rt, socket, peer, dropped) = receive_dropped_in_flight();
    uring::END_WAIT_ERRORS.with(|errors| errors.borrow_mut().extend([libc::EINTR, libc::EINTR]));
    let reaped_before = uring::REAPED.get();
    let reaped_when_freed = Rc::new(Cell::new(None));
    let seen = reaped_when_freed.clone();
    *dropped.borrow_mut() = Some(Box::new(move || seen.set(Some(uring::REAPED.get()))));
    drop(rt);
    let reaped = reaped_when_freed.get().expect("the buffer was freed once the ring ended");
    assert!(reaped > reaped_before, "the buffer was freed before the kernel's completion");
    drop((socket, peer));
}

/// A runtime that gives up waiting for a receive in flight (its ring refuses to wait): the
/// kernel may still write into the receive's buffer, so it is leaked, not freed.
#[test]
fn an_ending_runtime_that_gives_up_leaks_what_the_kernel_may_write_into() {
    let (rt, socket, peer, dropped) = receive_dropped_in_flight();
    uring::END_WAIT_ERRORS.with(|errors| errors.borrow_mut().push(libc::EBADF));
    let freed = Rc::new(Cell::new(false));
    let seen = freed.clone();
    *dropped.borrow_mut() = Some(Box::new(move || seen.set(true)));
    drop(rt);
    assert!(!freed.get(), "a buffer the kernel may still write into was freed");
    drop((socket, peer));
}

/// What a buffer does when dropped (set by the test).
type OnDrop = Rc<std::cell::RefCell<Option<Box<dyn FnOnce()>>>>;

/// A buffer that runs its test's check when dropped.
struct Watched {
    bytes: Vec<u8>,
    on_drop: OnDrop,
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(check) = self.on_drop.borrow_mut().take() {
            check();
        }
    }
}

/// A runtime and a socket on its ring connected to a loopback listener, with the peer's end.
pub(super) fn connected_pair() -> (OwnRuntime, TcpSocket, std::net::TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut rt = runtime();
    let (socket, peer) = rt.block_on(async move {
        let socket = TcpSocket::connect(addr).await.unwrap();
        (socket, listener.accept().unwrap().0)
    });
    (rt, socket, peer)
}

/// A runtime with a receive dropped in flight (its buffer, watched, held by the ring's slot).
fn receive_dropped_in_flight() -> (OwnRuntime, TcpSocket, std::net::TcpStream, OnDrop) {
    let (rt, socket, peer) = connected_pair();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&socket);
    let on_drop: OnDrop = Rc::default();
    let watched = Watched { bytes: vec![0; 64], on_drop: on_drop.clone() };
    let mut op = Box::pin(Op::push(watched, |w| {
        io_uring::opcode::Recv::new(io_uring::types::Fd(fd), w.bytes.as_mut_ptr(), 64).build()
    }));
    assert!(op.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    uring::turn(false);
    drop(op);
    (rt, socket, peer, on_drop)
}

/// An operation polled again after it returned its result, while another operation has taken
/// its slot: it panics at once, touching nothing of the other's (its waker, its result).
#[test]
fn an_operation_polled_after_its_result_touches_no_other_operation() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    let _rt = runtime();
    let mut first = Box::pin(Op::push((), |()| io_uring::opcode::Nop::new().build()));
    assert_eq!(finish(&mut first).map(|(result, ())| result), Some(0));
    let (socket, mut peer) = UnixStream::pair().unwrap();
    let mut second = read_op(socket.as_raw_fd()); // the first's slot, freed
    let (woken, waker) = counting_waker();
    assert!(second.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        first.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_ready()
    }));
    assert!(again.is_err(), "a poll after the result went on");
    peer.write_all(b"8 bytes!").unwrap();
    let started = Instant::now();
    while woken.load(std::sync::atomic::Ordering::Relaxed) == 0 && started.elapsed() < Duration::from_secs(5) {
        uring::turn(false);
    }
    assert_eq!(woken.load(std::sync::atomic::Ordering::Relaxed), 1, "the second operation's task was woken");
    let (result, bytes) = finish(&mut second).unwrap();
    assert_eq!((result, &bytes[..]), (8, &b"8 bytes!"[..]));
}

/// A waker that counts its wakes.
fn counting_waker() -> (std::sync::Arc<std::sync::atomic::AtomicUsize>, Waker) {
    struct Count(std::sync::Arc<std::sync::atomic::AtomicUsize>);
    impl std::task::Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    (count.clone(), Waker::from(std::sync::Arc::new(Count(count))))
}

/// A canceller whose receive was left waiting when its runtime ended, cancelled while the next
/// runtime's operation waits in the same slot: that operation is not cancelled.
#[test]
fn a_cancel_of_an_ended_runtimes_receive_leaves_the_next_runtimes_operation_alone() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    let (rt, socket, peer) = connected_pair();
    let canceller = Canceller::new();
    let handle = canceller.handle();
    let mut old = Box::pin(socket.recv_cancelable(BytesMut::with_capacity(8), &handle));
    assert!(old.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    drop(rt);
    let _rt = runtime();
    let (new_socket, mut new_peer) = UnixStream::pair().unwrap();
    let mut new = read_op(new_socket.as_raw_fd());
    assert!(new.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    uring::turn(false);
    let _fresh = canceller.cancel();
    for _ in 0..10 {
        uring::turn(false);
    }
    new_peer.write_all(b"new ring").unwrap();
    let (result, bytes) = finish(&mut new).expect("the new runtime's read completed");
    assert_eq!((result, &bytes[..]), (8, &b"new ring"[..]), "the old receive's cancel ended the new read");
    drop(old);
    drop((socket, peer));
}

/// Reads of a socket, each pushed and waiting in the ring's queue.
type QueuedReads = Vec<std::pin::Pin<Box<Op<Vec<u8>>>>>;

/// A socket (one end of a pair) with reads of it filling the ring's queue, which the kernel is
/// made to refuse, then dropped: its close waits behind them. The reads, and the other end.
fn reads_queued_then_closed() -> (QueuedReads, std::os::unix::net::UnixStream) {
    use std::os::fd::{AsRawFd, OwnedFd};
    let (socket, peer) = std::os::unix::net::UnixStream::pair().unwrap();
    peer.set_nonblocking(true).unwrap();
    let socket = RingFd::from(OwnedFd::from(socket));
    uring::REFUSED_SUBMITS.set(u32::MAX);
    let mut queued = Vec::new();
    loop {
        let mut op = read_op(socket.as_raw_fd());
        if op.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_ready() {
            break; // the queue is full and stuck
        }
        queued.push(op);
    }
    drop(socket);
    (queued, peer)
}

/// A descriptor dropped while the submission queue is stuck, with an operation naming it still
/// queued: it is not closed directly (its number could be reused before the kernel takes that
/// operation), but through the ring once the queue moves again.
#[test]
fn a_close_that_finds_the_queue_stuck_goes_through_the_ring_later() {
    use std::io::Read as _;
    let _rt = OwnRuntime::build(4, false).unwrap();
    let (queued, mut peer) = reads_queued_then_closed();
    let mut byte = [0u8; 1];
    let still_open = matches!(peer.read(&mut byte), Err(err) if err.kind() == io::ErrorKind::WouldBlock);
    assert!(still_open, "closed directly while a read naming it was queued");
    uring::REFUSED_SUBMITS.set(0);
    drop(queued);
    let started = Instant::now();
    let mut closed = false;
    while !closed && started.elapsed() < Duration::from_secs(5) {
        uring::turn(false);
        closed = matches!(peer.read(&mut byte), Ok(0));
    }
    assert!(closed, "the deferred close went through the ring");
}

/// A close still waiting for a stuck queue when its runtime ends (the kernel never took the
/// queue again): the descriptor is closed directly then, not leaked.
#[test]
fn a_close_still_deferred_when_its_runtime_ends_is_made_directly() {
    use std::io::Read as _;
    let rt = OwnRuntime::build(4, false).unwrap();
    let (queued, mut peer) = reads_queued_then_closed();
    // The end's first wait fails for good: it gives up at once, the queue still stuck.
    uring::END_WAIT_ERRORS.with(|errors| errors.borrow_mut().push(libc::EBADF));
    drop(rt);
    uring::REFUSED_SUBMITS.set(0);
    let mut byte = [0u8; 1];
    assert!(matches!(peer.read(&mut byte), Ok(0)), "the descriptor whose close never reached the ring was closed");
    drop(queued);
}

/// The entry's 64 bytes, as the kernel reads them.
fn entry_bytes(entry: &io_uring::squeue::Entry) -> [u8; 64] {
    assert_eq!(std::mem::size_of::<io_uring::squeue::Entry>(), 64);
    // SAFETY: an entry is the kernel's 64-byte `io_uring_sqe`, plain bytes.
    unsafe { std::ptr::read((&raw const *entry).cast::<[u8; 64]>()) }
}

#[test]
fn a_receives_flags_go_in_the_entrys_ioprio_and_nowhere_else() {
    let mut room = [0u8; 16];
    let room = room.as_mut_ptr();
    let recv = || io_uring::opcode::Recv::new(io_uring::types::Fd(7), room, 16).build().user_data(9);
    let plain = entry_bytes(&recv());
    let first = entry_bytes(&uring::set_ioprio(recv(), uring::IORING_RECVSEND_POLL_FIRST));
    let differ: Vec<usize> = (0..64).filter(|&at| plain[at] != first[at]).collect();
    assert_eq!(differ, [2], "only the low byte of ioprio (bytes 2 and 3) changes");
    assert_eq!(u16::from_ne_bytes([first[2], first[3]]), 1, "IORING_RECVSEND_POLL_FIRST");
}

#[test]
fn a_receive_that_waits_for_its_answer_gets_bytes_already_there_and_bytes_sent_later() {
    let (mut rt, socket, mut peer) = connected_pair();
    peer.write_all(b"early").unwrap();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        peer.write_all(b"later").unwrap();
        peer
    });
    let (early, later) = rt.block_on(async {
        let (read, early) = socket.recv_answer(BytesMut::with_capacity(16)).await;
        assert_eq!(read.unwrap(), 5);
        let (read, later) = socket.recv_answer(BytesMut::with_capacity(16)).await;
        assert_eq!(read.unwrap(), 5);
        (early, later)
    });
    assert_eq!((&early[..], &later[..]), (&b"early"[..], &b"later"[..]));
    drop((writer.join().unwrap(), socket, rt));
}

#[test]
fn an_entry_made_to_name_a_registered_file_is_the_entry_built_on_its_place() {
    use io_uring::opcode;
    use io_uring::types::{Fd, Fixed};
    let mut room = [0u8; 16];
    let room = room.as_mut_ptr();
    let addr = std::ptr::null();
    let pairs = [
        (
            opcode::Send::new(Fd(7), room, 16).flags(libc::MSG_NOSIGNAL).build(),
            opcode::Send::new(Fixed(5), room, 16).flags(libc::MSG_NOSIGNAL).build(),
        ),
        (opcode::Recv::new(Fd(7), room, 16).build(), opcode::Recv::new(Fixed(5), room, 16).build()),
        (
            uring::set_ioprio(opcode::Recv::new(Fd(7), room, 16).build(), 1),
            uring::set_ioprio(opcode::Recv::new(Fixed(5), room, 16).build(), 1),
        ),
        (opcode::Connect::new(Fd(7), addr, 16).build(), opcode::Connect::new(Fixed(5), addr, 16).build()),
        (opcode::PollAdd::new(Fd(7), 1).build(), opcode::PollAdd::new(Fixed(5), 1).build()),
    ];
    for (on_fd, on_place) in pairs {
        let made = uring::on_fixed(on_fd.user_data(9), 5);
        assert_eq!(entry_bytes(&made), entry_bytes(&on_place.user_data(9)));
    }
}

/// A socket registered in the ring's table is sent and received on through its place; closed,
/// its place is free again only once the kernel has answered the place's close, and the peer
/// sees the end of the stream (the table holds no reference to it any more).
#[test]
fn a_socket_takes_a_place_and_gives_it_back_once_closed() {
    let (mut rt, socket, mut peer) = connected_pair();
    let (taken, table) = uring::files_taken();
    if uring::deferred() {
        assert!(table, "a kernel that defers task work (6.1) has sparse file tables (5.19)");
    }
    if !table {
        assert_eq!((socket.fixed(), taken), (None, 0));
        return;
    }
    assert_eq!((socket.fixed().map(|file| file.index), taken), (Some(0), 1));
    let got = rt.block_on(async {
        let (sent, _) = socket.send(BytesMut::from(&b"ping"[..]), 0).await;
        assert_eq!(sent.unwrap(), 4);
        let mut request = [0; 4];
        peer.read_exact(&mut request).unwrap();
        assert_eq!(&request, b"ping");
        peer.write_all(b"pong").unwrap();
        let (read, got) = socket.recv_answer(BytesMut::with_capacity(16)).await;
        assert_eq!(read.unwrap(), 4);
        drop(socket);
        assert_eq!(uring::files_taken().0, 1, "the place is held until its close is answered");
        got
    });
    assert_eq!(&got[..], b"pong");
    let started = Instant::now();
    while uring::files_taken().0 > 0 && started.elapsed() < Duration::from_secs(5) {
        uring::turn(false);
    }
    assert_eq!(uring::files_taken().0, 0, "the place's close was answered");
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let end = std::iter::repeat_with(|| peer.read(&mut [0; 8])).find(|read| !is_interrupted(read)).unwrap();
    assert_eq!(end.unwrap(), 0, "the socket is closed, not held open by the table");
    drop(rt);
}

/// Registers a fresh socket (one end of a pair) on this thread's ring; the other end back.
fn registered_pair() -> (RingFd, std::os::unix::net::UnixStream) {
    use std::os::fd::IntoRawFd;
    let (ours, peer) = std::os::unix::net::UnixStream::pair().unwrap();
    // SAFETY: a new descriptor, owned here alone.
    (unsafe { RingFd::registered(ours.into_raw_fd()) }, peer)
}

/// A table of one place: the second socket is named by its descriptor; a place closed is not
/// handed out again before the kernel has answered its close (an entry still queued may name it).
#[test]
fn a_full_table_names_sockets_by_descriptor_and_a_closing_place_waits_for_its_answer() {
    uring::FILE_TABLE_SIZE.set(Some(1));
    let rt = runtime();
    uring::FILE_TABLE_SIZE.set(None);
    if !uring::files_taken().1 {
        return; // a kernel without sparse tables: every socket is named by its descriptor
    }
    let (first, _first_peer) = registered_pair();
    let (second, _second_peer) = registered_pair();
    assert_eq!((first.fixed().map(|file| file.index), second.fixed()), (Some(0), None));
    drop(first);
    let (third, _third_peer) = registered_pair();
    assert_eq!(third.fixed(), None, "the place was handed out before its close was answered");
    let started = Instant::now();
    while uring::files_taken().0 > 0 && started.elapsed() < Duration::from_secs(5) {
        uring::turn(false);
    }
    let (fourth, _fourth_peer) = registered_pair();
    assert_eq!(fourth.fixed().map(|file| file.index), Some(0));
    drop((second, third, fourth, rt));
}

/// A socket kept from an ended runtime, used on the next one, is named by its descriptor: its
/// old place is another socket's in the new ring's table.
#[test]
fn a_socket_of_an_ended_ring_is_not_named_by_its_old_place_on_the_next() {
    let (rt, socket, mut peer) = connected_pair();
    let had_place = socket.fixed().is_some();
    drop(rt);
    let mut rt = runtime();
    let (other, mut other_peer) = registered_pair();
    if had_place {
        assert_eq!(other.fixed().map(|file| file.index), socket.fixed().map(|file| file.index));
    }
    other_peer.write_all(b"not this").unwrap();
    peer.write_all(b"this").unwrap();
    let (read, got) = rt.block_on(socket.recv(BytesMut::with_capacity(16)));
    assert_eq!((read.unwrap(), &got[..]), (4, &b"this"[..]));
    drop((socket, other, rt));
}

/// A ring is registered with its thread (its enters name it by index), and the registration is
/// taken back with its runtime: a thread holds 16 at most, and one never taken back would keep
/// the ended ring, and the sockets in its table, open.
#[test]
fn a_ring_registered_with_its_thread_is_let_go_with_its_runtime() {
    for round in 0..20 {
        let (mut rt, socket, mut peer) = connected_pair();
        if uring::deferred() {
            assert!(uring::ring_registered(), "round {round}: a kernel of 6.1 registers rings (5.18)");
        }
        peer.write_all(b"hi").unwrap();
        let (read, _) = rt.block_on(socket.recv(BytesMut::with_capacity(8)));
        assert_eq!(read.unwrap(), 2, "round {round}");
        drop(rt);
        drop(socket);
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // The ended ring's task work can interrupt this thread's blocking read (EINTR).
        let end = std::iter::repeat_with(|| peer.read(&mut [0; 8])).find(|read| !is_interrupted(read)).unwrap();
        assert_eq!(end.unwrap(), 0, "round {round}: the socket closed, not held by an ended ring");
    }
}

fn is_interrupted(read: &io::Result<usize>) -> bool {
    matches!(read, Err(err) if err.kind() == io::ErrorKind::Interrupted)
}

/// Turns the ring until `done` or 5 s.
pub(super) fn turn_until(mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while !done() && started.elapsed() < Duration::from_secs(5) {
        uring::turn(false);
        std::thread::sleep(Duration::from_millis(1));
    }
    done()
}

/// Reads through the socket's multishot receive: what was sent before the first read, what is
/// sent while a read waits, in order, and the end of the stream; every buffer back in the pool.
#[test]
fn reads_take_what_arrives_through_one_multishot_receive() {
    let (mut rt, socket, mut peer) = connected_pair();
    peer.write_all(b"early ").unwrap();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        peer.write_all(b"later").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        drop(peer);
    });
    let (got, end) = rt.block_on(async {
        let mut got = BytesMut::with_capacity(64);
        while got.len() < 11 {
            let read;
            (read, got) = socket.read(got).await;
            assert!(read.unwrap() > 0);
        }
        let (end, _) = socket.read(BytesMut::with_capacity(8)).await;
        (got, end.unwrap())
    });
    writer.join().unwrap();
    assert_eq!((&got[..], end), (&b"early later"[..], 0));
    let (out, pool) = uring::bufs_out();
    assert_eq!(out, 0, "every buffer a completion named went back to the pool");
    assert!(!socket.streaming(), "the stream ended with the end of the stream");
    if uring::deferred() {
        assert!(pool, "a kernel of 6.1 has buffer rings (5.19)");
    }
    drop((socket, rt));
}

/// Bytes that arrive while nobody reads wait in the stream (and say so for the pool's check)
/// until a read takes them; a read dropped while it waits loses nothing.
#[test]
fn what_arrives_between_reads_waits_for_the_next_and_a_dropped_read_loses_nothing() {
    let (mut rt, socket, mut peer) = connected_pair();
    if !uring::bufs_out().1 {
        return; // no pool: reads receive into their own buffers (the other tests hold those)
    }
    rt.block_on(async {
        let mut read = Box::pin(socket.read(BytesMut::with_capacity(64)));
        assert!(read.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
        drop(read); // the stream keeps running
    });
    assert!(!socket.arrived());
    peer.write_all(b"unasked").unwrap();
    assert!(turn_until(|| socket.arrived()), "the bytes arrived in the stream");
    let (read, got) = rt.block_on(socket.read(BytesMut::with_capacity(64)));
    assert_eq!((read.unwrap(), &got[..]), (7, &b"unasked"[..]));
    assert!(!socket.arrived());
    drop(peer);
    assert!(turn_until(|| socket.arrived()), "the end of the stream arrived (a peek would no longer see it)");
    let (read, _) = rt.block_on(socket.read(BytesMut::with_capacity(64)));
    assert_eq!(read.unwrap(), 0);
    drop((socket, rt));
}

/// Two reads waiting at once on one socket (which its users never make, but safe code can):
/// what arrives is read once, whole, by the one that polls first, and never seen as the
/// other's.
#[test]
fn two_reads_waiting_at_once_read_each_byte_once() {
    let (_rt, socket, mut peer) = connected_pair();
    if !uring::bufs_out().1 {
        return; // no pool: reads receive into their own buffers
    }
    let poll =
        |read: &mut std::pin::Pin<Box<super::Read<'_>>>| read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    let mut first = Box::pin(socket.read(BytesMut::with_capacity(64)));
    let mut second = Box::pin(socket.read(BytesMut::with_capacity(64)));
    assert!(poll(&mut first).is_pending());
    assert!(poll(&mut second).is_pending());
    peer.write_all(b"once").unwrap();
    assert!(turn_until(|| socket.arrived()), "the bytes arrived");
    let Poll::Ready((n, got)) = poll(&mut first) else { panic!("the bytes copied are read by the first poll") };
    assert_eq!((n.unwrap(), &got[..]), (4, &b"once"[..]));
    assert!(poll(&mut second).is_pending(), "the other read has nothing");
    drop(second);
    assert!(!socket.arrived());
}

/// A wait for the stream's next arrival (what a write that listens to the peer waits on
/// beside the socket's readiness) is woken by bytes the stream takes, and ends at once while
/// they wait; it takes nothing: the next read has them. With no stream running it never ends.
#[test]
fn a_wait_for_the_stream_is_woken_by_what_it_takes_and_takes_nothing() {
    let (mut rt, socket, mut peer) = connected_pair();
    {
        let mut arrival = Box::pin(socket.arrival());
        assert!(arrival.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending(), "no stream yet");
    }
    if !uring::bufs_out().1 {
        return; // no pool: no streams
    }
    rt.block_on(async {
        let mut read = Box::pin(socket.read(BytesMut::with_capacity(64)));
        assert!(read.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    });
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        peer.write_all(b"spoke").unwrap();
        peer
    });
    rt.block_on(socket.arrival());
    let peer = writer.join().unwrap();
    assert!(socket.arrived());
    rt.block_on(socket.arrival()); // at once: the bytes still wait
    let (read, got) = rt.block_on(socket.read(BytesMut::with_capacity(64)));
    assert_eq!((read.unwrap(), &got[..]), (5, &b"spoke"[..]));
    drop((socket, peer, rt));
}

/// A cancellable read cancelled before bytes came ends with ECANCELED and takes nothing: the
/// bytes sent after are the next read's.
#[test]
fn a_cancelled_read_of_the_stream_takes_nothing() {
    let (mut rt, socket, mut peer) = connected_pair();
    let canceller = Canceller::new();
    let handle = canceller.handle();
    let (first, second) = rt.block_on(async {
        let mut read = Box::pin(socket.read_cancelable(BytesMut::with_capacity(64), &handle));
        assert!(read.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
        uring::turn(false);
        let _fresh = canceller.cancel();
        let (first, _) = read.await;
        peer.write_all(b"after").unwrap();
        let (second, got) = socket.read(BytesMut::with_capacity(64)).await;
        (first, (second.unwrap(), got))
    });
    assert_eq!(first.unwrap_err().raw_os_error(), Some(libc::ECANCELED));
    assert_eq!((second.0, &second.1[..]), (5, &b"after"[..]));
    drop((socket, peer, rt));
}

/// Many times a buffer's size, sent at once: read whole and in order, across completions.
#[test]
fn a_long_answer_is_read_whole_and_in_order_across_buffers() {
    let (mut rt, socket, mut peer) = connected_pair();
    let sent: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let expected = sent.clone();
    let writer = std::thread::spawn(move || {
        peer.write_all(&sent).unwrap();
        peer
    });
    let got = rt.block_on(async {
        let mut got = BytesMut::with_capacity(64 * 1024);
        while got.len() < expected.len() {
            if got.capacity() - got.len() < 16 * 1024 {
                got.reserve(64 * 1024);
            }
            let read;
            (read, got) = socket.read(got).await;
            assert!(read.unwrap() > 0);
        }
        got
    });
    assert!(got[..] == expected[..], "the bytes read are the bytes sent, in order");
    assert_eq!(uring::bufs_out().0, 0);
    drop((writer.join().unwrap(), socket, rt));
}

/// A pool of two buffers and three sockets whose bytes nobody reads: the third socket's
/// stream finds the pool empty and ends; its read receives into its own buffer instead, and
/// every socket's bytes are read.
#[test]
fn a_stream_that_finds_the_pool_empty_reads_into_its_own_buffer() {
    crate::driver::ring::bufs::POOL_BUFS.set(Some(2));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut rt = runtime();
    crate::driver::ring::bufs::POOL_BUFS.set(None);
    if !uring::bufs_out().1 {
        return;
    }
    let pairs: Vec<_> = rt.block_on(async {
        let mut pairs = Vec::new();
        for _ in 0..3 {
            let socket = TcpSocket::connect(addr).await.unwrap();
            pairs.push((socket, listener.accept().unwrap().0));
        }
        pairs
    });
    for (socket, _) in &pairs {
        let mut read = Box::pin(socket.read(BytesMut::with_capacity(64)));
        let _ = read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    }
    for (at, (_, peer)) in pairs.iter().enumerate() {
        (&*peer).write_all(format!("socket {at}").as_bytes()).unwrap();
    }
    assert!(turn_until(|| uring::bufs_out().0 == 2), "two buffers filled: the pool is empty");
    for (at, (socket, _)) in pairs.iter().enumerate() {
        let (read, got) = rt.block_on(socket.read(BytesMut::with_capacity(64)));
        assert_eq!((read.unwrap(), &got[..]), (8, format!("socket {at}").as_bytes()));
    }
    assert_eq!(uring::bufs_out().0, 0);
    drop((pairs, rt));
}

/// A socket dropped with bytes waiting in its stream and its receive still running: the
/// buffers go back to the pool, the receive is cancelled and its slot freed, the socket closed.
#[test]
fn a_socket_dropped_with_its_stream_running_gives_its_buffers_back() {
    let (mut rt, socket, mut peer) = connected_pair();
    if !uring::bufs_out().1 {
        return;
    }
    rt.block_on(async {
        let mut read = Box::pin(socket.read(BytesMut::with_capacity(64)));
        let _ = read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    });
    peer.write_all(b"never read").unwrap();
    assert!(turn_until(|| uring::bufs_out().0 == 1));
    drop(socket);
    assert_eq!(uring::bufs_out().0, 0, "the waiting bytes' buffer went back at once");
    assert!(turn_until(|| uring::in_flight() <= 1), "the stream's cancel was answered");
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let end = std::iter::repeat_with(|| peer.read(&mut [0; 8])).find(|read| !is_interrupted(read)).unwrap();
    assert_eq!(end.unwrap(), 0, "the socket is closed");
    drop(rt);
}

/// The rest of a long answer: the stream stopped, what it took first, then receives into the
/// reader's own buffer, every byte in order; the socket's later reads receive into their own
/// buffers too.
#[test]
fn the_rest_of_a_long_answer_stops_the_stream_and_loses_no_byte() {
    let (mut rt, socket, mut peer) = connected_pair();
    peer.write_all(b"head").unwrap();
    let sent: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    let expected = sent.clone();
    let (head, rest, next) = rt.block_on(async {
        let (read, head) = socket.read(BytesMut::with_capacity(64)).await;
        assert_eq!(read.unwrap(), 4);
        let writer = std::thread::spawn(move || {
            peer.write_all(&sent).unwrap();
            peer
        });
        let mut rest = BytesMut::with_capacity(64 * 1024);
        while rest.len() < expected.len() {
            if rest.capacity() - rest.len() < 16 * 1024 {
                rest.reserve(64 * 1024);
            }
            let read;
            (read, rest) = socket.read_rest(rest).await;
            assert!(read.unwrap() > 0);
        }
        let mut peer = writer.join().unwrap();
        peer.write_all(b"next").unwrap();
        let (read, next) = socket.read(BytesMut::with_capacity(64)).await;
        assert_eq!(read.unwrap(), 4);
        assert!(!socket.streaming(), "after a long answer, reads receive into their own buffers");
        (head, rest, next)
    });
    assert_eq!((&head[..], &next[..]), (&b"head"[..], &b"next"[..]));
    assert!(rest[..] == expected[..], "the rest read is the rest sent, in order");
    assert_eq!(uring::bufs_out().0, 0);
    drop((socket, rt));
}

/// A send written on the socket's stream's block and the read of its answer: the send's
/// completion wakes no one (its count is taken when the future is looked at, and told), the
/// answer wakes the task once, and the block serves every request of the connection with no
/// slot of its own; it goes with the socket.
#[test]
fn a_send_on_the_streams_block_wakes_no_one_and_its_answer_once() {
    let (mut rt, socket, mut peer) = connected_pair();
    if !uring::bufs_out().1 {
        return; // no pool: no streams, the send is made apart (other tests hold that)
    }
    rt.block_on(async {
        for round in 0..3u8 {
            let (wakes, waker) = counting_waker();
            let mut cx = Context::from_waker(&waker);
            let written = Cell::new(0);
            let on_written = |n| written.set(n);
            let send_read = socket.send_and_read(BytesMut::from(&b"ask"[..]), BytesMut::with_capacity(64), &on_written);
            let mut send_read = Box::pin(send_read.expect("a socket's block takes its send"));
            assert!(send_read.as_mut().poll(&mut cx).is_pending());
            uring::turn(false);
            let mut asked = [0u8; 3];
            peer.read_exact(&mut asked).unwrap();
            assert_eq!(&asked, b"ask");
            assert!(
                turn_until(|| send_read.as_mut().poll(&mut cx).is_pending() && written.get() == 3),
                "the send's count is told when the future is looked at before the answer"
            );
            assert_eq!(wakes.load(std::sync::atomic::Ordering::Relaxed), 0, "the send woke the task");
            peer.write_all(&[b'0' + round; 5]).unwrap();
            assert!(turn_until(|| wakes.load(std::sync::atomic::Ordering::Relaxed) > 0), "the answer wakes the task");
            let Poll::Ready(((write, wbuf), (read, rbuf))) = send_read.as_mut().poll(&mut cx) else {
                panic!("woken by its answer, the read returns")
            };
            assert_eq!(
                (write.unwrap(), &wbuf[..], read.unwrap(), &rbuf[..]),
                (3, &b"ask"[..], 5, &[b'0' + round; 5][..])
            );
            assert_eq!(wakes.load(std::sync::atomic::Ordering::Relaxed), 1, "one wake a request");
            assert_eq!(uring::slots_in_use(), 1, "the stream's block, and no slot for the send");
        }
    });
    drop(socket);
    assert!(turn_until(|| uring::slots_in_use() == 0), "the block goes with its socket");
    assert_eq!(uring::bufs_out().0, 0);
    drop((peer, rt));
}

/// Fills the socket's send buffer (non-blocking sends until it takes no more): the bytes sent.
fn fill_send_buffer(socket: &TcpSocket) -> usize {
    let chunk = [0u8; 64 * 1024];
    let mut sent = 0;
    loop {
        // SAFETY: an open socket and a valid buffer; MSG_DONTWAIT never blocks.
        let n = unsafe {
            libc::send(
                std::os::fd::AsRawFd::as_raw_fd(socket),
                chunk.as_ptr().cast(),
                chunk.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if n <= 0 {
            return sent;
        }
        sent += n as usize;
    }
}

/// A send on the stream's block dropped while it waits for room (the peer reads nothing) leaves
/// its buffer to the block: the kernel sends from it once the peer reads, and only its completion
/// frees the block, after the socket has gone.
#[test]
fn a_send_on_the_block_dropped_in_flight_is_left_to_it_until_its_completion() {
    let (mut rt, socket, peer) = connected_pair();
    if !uring::bufs_out().1 {
        return;
    }
    rt.block_on(async {
        // The stream runs first, so that the send alone is held up.
        let mut read = Box::pin(socket.read(BytesMut::with_capacity(64)));
        assert!(read.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    });
    let filled = fill_send_buffer(&socket);
    let body = BytesMut::from(&vec![b'x'; 256 * 1024][..]);
    rt.block_on(async {
        let send_read = socket.send_and_read(body, BytesMut::with_capacity(64), &|_| {});
        let mut send_read = Box::pin(send_read.expect("a socket's block takes its send"));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(send_read.as_mut().poll(&mut cx).is_pending());
        uring::turn(false);
        assert!(send_read.as_mut().poll(&mut cx).is_pending(), "the send waits for room");
    });
    assert_eq!(uring::slots_in_use(), 1, "the block holds the send's buffer");
    let next = socket.send_and_read(BytesMut::from(&b"next"[..]), BytesMut::new(), &|_| {}).is_err();
    assert!(next, "no second send on a block whose send is in flight");
    drop(socket);
    uring::turn(false);
    assert_eq!(uring::slots_in_use(), 1, "the socket gone, the block waits for its send");
    let reader = std::thread::spawn(move || {
        let mut peer = peer;
        let mut got = Vec::new();
        peer.read_to_end(&mut got).map(|_| got)
    });
    assert!(turn_until(|| uring::slots_in_use() == 0), "the send's completion frees the block");
    let got = reader.join().unwrap().unwrap();
    assert!(got.len() > filled, "the send, left to the block, sent from its buffer");
    assert!(got[filled..].iter().all(|&b| b == b'x'), "its bytes are the buffer's");
    drop(rt);
}

/// A runtime that ends with a send on a stream's block waiting (the peer reads nothing) cancels
/// it and waits for its completion, rather than giving up on it.
#[test]
fn a_runtime_ending_with_a_send_on_a_block_in_flight_cancels_it() {
    let (mut rt, socket, peer) = connected_pair();
    if !uring::bufs_out().1 {
        return;
    }
    rt.block_on(async {
        let mut read = Box::pin(socket.read(BytesMut::with_capacity(64)));
        assert!(read.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    });
    fill_send_buffer(&socket);
    rt.block_on(async {
        let send_read = socket.send_and_read(BytesMut::from(&[1u8; 4096][..]), BytesMut::with_capacity(64), &|_| {});
        let mut send_read = Box::pin(send_read.expect("a socket's block takes its send"));
        assert!(send_read.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
        uring::turn(false);
    });
    let started = Instant::now();
    drop(rt);
    assert!(started.elapsed() < Duration::from_secs(1), "the ring waited for a send it could cancel");
    drop((socket, peer));
}
