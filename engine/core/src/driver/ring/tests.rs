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
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut rt = runtime();
    let dropped = Rc::new(Cell::new(false));
    let flag = dropped.clone();
    let (socket, peer) = rt.block_on(async move {
        let socket = TcpSocket::connect(addr).await.unwrap();
        (socket, listener.accept().unwrap().0)
    });
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
