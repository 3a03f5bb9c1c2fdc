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
