//! A property of a socket's reads through its multishot receive: whatever the order of the
//! peer's writes and the reader's reads (plain, dropped while waiting, before or after the ring
//! turned, cancelled, the rest of a long answer, a send and the read of its answer on the
//! stream's block, awaited or dropped, before or after the ring turned), and
//! however few buffers the pool has, every byte is read once, in order, every buffer goes back to
//! the pool, and every send on the block reaches the peer.

use std::io::Write as _;
use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use proptest::prelude::*;

use super::tests::{connected_pair, turn_until};
use super::{Canceller, uring};

#[derive(Debug, Clone)]
enum Step {
    /// The peer writes this many bytes (of the running pattern).
    Write(usize),
    /// A read into a buffer with this much room, awaited (only while bytes are owed).
    Read(usize),
    /// The same as the rest of a long answer ([`super::TcpSocket::read_rest`]).
    Rest(usize),
    /// A read polled once, then dropped (its bytes kept if that poll returned them); `turned`:
    /// the ring turned between (what arrived was taken from the kernel while it waited).
    Dropped { turned: bool },
    /// A cancellable read polled once, cancelled, then awaited.
    Cancelled,
    /// A send and the read of its answer ([`super::TcpSocket::send_and_read`]) into a buffer
    /// with this much room, awaited (only while bytes are owed).
    SendRead(usize),
    /// The same polled once, then dropped (its bytes kept if that poll returned them); `turned`
    /// as for [`Step::Dropped`].
    SendReadDropped { turned: bool },
    /// The ring turns (what arrived is taken from the kernel).
    Turn,
}

/// What each send on the stream's block sends.
const PING: &[u8] = b"ping!";

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => prop_oneof![1usize..64, 1usize..40_000].prop_map(Step::Write),
        4 => prop_oneof![1usize..64, 1usize..20_000].prop_map(Step::Read),
        1 => (1usize..20_000).prop_map(Step::Rest),
        2 => any::<bool>().prop_map(|turned| Step::Dropped { turned }),
        2 => Just(Step::Cancelled),
        2 => (1usize..20_000).prop_map(Step::SendRead),
        2 => any::<bool>().prop_map(|turned| Step::SendReadDropped { turned }),
        2 => Just(Step::Turn),
    ]
}

/// The `n` bytes of the pattern from byte `at` on.
fn pattern(at: usize, n: usize) -> Vec<u8> {
    (at..at + n).map(|i| (i % 251) as u8).collect()
}

/// What a finished read gave: its bytes, appended to `got`.
fn took(got: &mut Vec<u8>, read: std::io::Result<usize>, buf: &BytesMut) {
    let n = read.expect("a read of owed bytes does not fail");
    assert_eq!(n, buf.len(), "a fresh buffer holds what the read says it read");
    got.extend_from_slice(buf);
}

/// Polls `read` (turning the ring between polls) until it returns, for 5 s at most: a read
/// that never returns is a lost byte, told as a failure rather than a hang.
fn within<T>(read: impl std::future::Future<Output = T>) -> Option<T> {
    let mut read = std::pin::pin!(read);
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(5) {
        if let Poll::Ready(done) = read.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            return Some(done);
        }
        uring::turn(false);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    None
}

/// Bytes owed at most: the peer's writes stay within what loopback buffers hold unread.
const OWED_BYTES_MAX: usize = 200_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_byte_is_read_once_and_in_order(
        // The default pool, pools of one to four buffers (that run out), and one of three,
        // which the kernel refuses (not a power of two): no streams, every read its own receive.
        pool in prop_oneof![Just(None), Just(Some(1u16)), Just(Some(2)), Just(Some(4)), Just(Some(3))],
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        super::bufs::POOL_BUFS.set(pool);
        let (mut rt, socket, mut peer) = connected_pair();
        super::bufs::POOL_BUFS.set(None);
        let (mut sent, mut got) = (0usize, Vec::new());
        // Sends pushed on the stream's block (each of `PING`), told by the peer at the end.
        let mut pings = 0usize;
        let on_written = |_: u64| {};
        for step in steps {
            let owed = sent - got.len();
            match step {
                Step::Write(n) if owed + n <= OWED_BYTES_MAX => {
                    peer.write_all(&pattern(sent, n)).unwrap();
                    sent += n;
                }
                Step::Read(room) if owed > 0 => {
                    let done = within(socket.read(BytesMut::with_capacity(room)));
                    prop_assert!(done.is_some(), "{} bytes owed, and the read never returned", owed);
                    let (read, buf) = done.unwrap();
                    took(&mut got, read, &buf);
                }
                Step::Rest(room) if owed > 0 => {
                    let done = within(socket.read_rest(BytesMut::with_capacity(room)));
                    prop_assert!(done.is_some(), "{} bytes owed, and the read of the rest never returned", owed);
                    let (read, buf) = done.unwrap();
                    took(&mut got, read, &buf);
                }
                Step::Dropped { turned } => rt.block_on(async {
                    let mut read = Box::pin(socket.read(BytesMut::with_capacity(64)));
                    if let Poll::Ready((read, buf)) = read.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                        took(&mut got, read, &buf);
                    } else if turned {
                        uring::turn(false);
                    }
                }),
                Step::Cancelled => rt.block_on(async {
                    let canceller = Canceller::new();
                    let handle = canceller.handle();
                    let mut read = Box::pin(socket.read_cancelable(BytesMut::with_capacity(64), &handle));
                    let first = read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                    let (read, buf) = match first {
                        Poll::Ready(done) => done,
                        Poll::Pending => {
                            uring::turn(false);
                            let _fresh = canceller.cancel();
                            read.await
                        }
                    };
                    match read {
                        Err(err) if err.raw_os_error() == Some(libc::ECANCELED) => assert!(buf.is_empty()),
                        read => took(&mut got, read, &buf),
                    }
                }),
                Step::SendRead(room) if owed > 0 => {
                    // Not on the block (no pool, a long answer's socket): nothing sent.
                    if let Ok(send_read) =
                        socket.send_and_read(BytesMut::from(PING), BytesMut::with_capacity(room), &on_written)
                    {
                        pings += 1;
                        let done = within(send_read);
                        prop_assert!(done.is_some(), "{} bytes owed, and the send and read never returned", owed);
                        let ((write, _), (read, buf)) = done.unwrap();
                        prop_assert_eq!(write.unwrap(), PING.len());
                        took(&mut got, read, &buf);
                    }
                }
                Step::SendReadDropped { turned } => {
                    if let Ok(send_read) =
                        socket.send_and_read(BytesMut::from(PING), BytesMut::with_capacity(64), &on_written)
                    {
                        pings += 1;
                        let mut send_read = Box::pin(send_read);
                        let mut polled = send_read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                        if polled.is_pending() && turned {
                            uring::turn(false);
                            polled = send_read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                        }
                        if let Poll::Ready(((write, _), (read, buf))) = polled {
                            prop_assert_eq!(write.unwrap(), PING.len());
                            took(&mut got, read, &buf);
                        }
                    }
                }
                Step::Turn => uring::turn(false),
                _ => {}
            }
            prop_assert!(got.len() <= sent);
        }
        // Every send on the block reached the peer, dropped or not.
        let mut pinged = vec![0u8; pings * PING.len()];
        let reader = {
            let mut peer = peer.try_clone().unwrap();
            std::thread::spawn(move || {
                peer.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
                std::io::Read::read_exact(&mut peer, &mut pinged).map(|()| pinged)
            })
        };
        prop_assert!(turn_until(|| reader.is_finished()), "the peer got every send in 5 s");
        let pinged = reader.join().unwrap();
        prop_assert!(pinged.is_ok_and(|pinged| pinged == PING.repeat(pings)), "the peer got every send, whole");
        drop(peer);
        loop {
            let done = within(socket.read(BytesMut::with_capacity(16 * 1024)));
            prop_assert!(done.is_some(), "{} bytes owed, and the read to the end never returned", sent - got.len());
            let (read, buf) = done.unwrap();
            if read.as_ref().is_ok_and(|&n| n == 0) {
                break;
            }
            took(&mut got, read, &buf);
        }
        prop_assert_eq!(got.len(), sent);
        prop_assert!(got == pattern(0, sent), "the bytes read are the bytes sent, in order");
        drop(socket);
        prop_assert!(turn_until(|| uring::bufs_out().0 == 0), "every buffer went back to the pool");
        drop(rt);
    }
}
