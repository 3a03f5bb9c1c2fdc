//! Byte transport under the HTTP client: plain TCP or rustls driven by hand over the runtime's
//! owned-buffer I/O, on monoio or on the engine's own ring (`--driver own`). This module and
//! `runtime` are the only ones that name the executor.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use bytes::BytesMut;
use monoio::buf::IoBuf;
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, CancelableAsyncReadRent};
use monoio::net::TcpStream;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

use crate::driver::ring::{self, TcpSocket};
use crate::limits::REQUEST_READ_TOGETHER_BYTES_MAX;

/// Bytes made room for when a plain read finds less than `READ_ROOM_MIN_BYTES` free at the end
/// of its buffer (the buffer grows by this much when full).
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// Free bytes at the end of the read buffer that a plain read makes do with: see [`read_room`].
const READ_ROOM_MIN_BYTES: usize = 4 * 1024;
/// Ciphertext read per TLS read.
const TLS_READ_BYTES: usize = 18 * 1024;

/// A connected TCP socket of the core's runtime.
pub enum Socket {
    /// On monoio (io_uring or epoll).
    Monoio(TcpStream),
    /// On the engine's own ring.
    Own(TcpSocket),
}

impl Socket {
    fn raw_fd(&self) -> RawFd {
        match self {
            Socket::Monoio(tcp) => tcp.as_raw_fd(),
            Socket::Own(socket) => socket.as_raw_fd(),
        }
    }

    /// One write of `buf` (TLS records); the buffer comes back.
    async fn write(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        match self {
            Socket::Monoio(tcp) => tcp.write(buf).await,
            Socket::Own(socket) => socket.send(buf, 0).await,
        }
    }

    /// Writes all of `buf[from..]` (TLS records); the buffer comes back.
    async fn write_all(&mut self, buf: Vec<u8>, from: usize) -> (io::Result<()>, Vec<u8>) {
        match self {
            Socket::Monoio(tcp) => {
                let (result, out) = tcp.write_all(buf.slice(from..)).await;
                (result.map(|_| ()), out.into_inner())
            }
            Socket::Own(socket) => {
                let (mut buf, mut written) = (buf, from);
                while written < buf.len() {
                    let result;
                    (result, buf) = socket.send(buf, written).await;
                    match result {
                        Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), buf),
                        Ok(n) => written += n,
                        Err(err) => return (Err(err), buf),
                    }
                }
                (Ok(()), buf)
            }
        }
    }

    /// Reads into the room of `buf` (TLS records).
    async fn read(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        match self {
            Socket::Monoio(tcp) => tcp.read(buf).await,
            Socket::Own(socket) => socket.recv(buf).await,
        }
    }

    /// Reads as [`Socket::read`] does, cancellable through `cancel` (WebSockets only).
    async fn cancelable_read(&mut self, buf: Vec<u8>, cancel: CancelHandle) -> (io::Result<usize>, Vec<u8>) {
        match (self, cancel) {
            (Socket::Monoio(tcp), CancelHandle::Monoio(cancel)) => tcp.cancelable_read(buf, cancel).await,
            (Socket::Own(socket), CancelHandle::Own(cancel)) => socket.recv_cancelable(buf, &cancel).await,
            _ => (Err(other_runtimes_handle()), buf),
        }
    }

    /// [`write_listening`] on either runtime.
    async fn write_listening(&self, buf: &[u8], from: usize) -> (io::Result<WriteEnd>, usize) {
        match self {
            Socket::Monoio(tcp) => write_listening(tcp, buf, from).await,
            Socket::Own(socket) => write_listening_own(socket, buf, from).await,
        }
    }
}

/// Opens a TCP connection with Nagle off (requests are written whole), on the core's runtime.
pub async fn connect_tcp(addr: SocketAddr) -> io::Result<Socket> {
    if crate::driver::ring::running() {
        return TcpSocket::connect(addr).await.map(Socket::Own);
    }
    let stream = TcpStream::connect_addr(addr).await?;
    stream.set_nodelay(true)?;
    Ok(Socket::Monoio(stream))
}

/// A connected byte stream.
pub enum Transport {
    /// Cleartext.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream>),
    /// Cleartext on the engine's own ring.
    Own(TcpSocket),
}

/// Cancels a read made with [`Transport::read_some_cancelable`], on the core's runtime: monoio's
/// canceller, or the own ring's (IORING_OP_ASYNC_CANCEL on the read's user data). Either keeps
/// the contract that method states.
pub enum Canceller {
    /// monoio's (io_uring or epoll).
    Monoio(monoio::io::Canceller),
    /// The engine's own ring's.
    Own(ring::Canceller),
}

/// What a cancellable read is given: a handle of a [`Canceller`].
#[derive(Clone)]
pub enum CancelHandle {
    /// monoio's.
    Monoio(monoio::io::CancelHandle),
    /// The own ring's.
    Own(ring::CancelHandle),
}

impl Canceller {
    /// A canceller for the runtime running on this thread.
    pub fn new() -> Canceller {
        match ring::running() {
            true => Canceller::Own(ring::Canceller::new()),
            false => Canceller::Monoio(monoio::io::Canceller::new()),
        }
    }

    /// A handle for one read.
    pub fn handle(&self) -> CancelHandle {
        match self {
            Canceller::Monoio(canceller) => CancelHandle::Monoio(canceller.handle()),
            Canceller::Own(canceller) => CancelHandle::Own(canceller.handle()),
        }
    }

    /// Cancels the read waiting with one of its handles (and any later one made with them);
    /// returns a fresh canceller for the reads after.
    pub fn cancel(self) -> Canceller {
        match self {
            Canceller::Monoio(canceller) => Canceller::Monoio(canceller.cancel()),
            Canceller::Own(canceller) => Canceller::Own(canceller.cancel()),
        }
    }
}

impl Default for Canceller {
    fn default() -> Self {
        Canceller::new()
    }
}

/// A cancellable read given a handle of the other runtime's canceller (made before the
/// runtime changed on this thread): refused, never left uncancellable.
fn other_runtimes_handle() -> io::Error {
    io::Error::other("a cancellable read was given another runtime's cancel handle")
}

/// How a request's write ended when no error stopped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteEnd {
    /// Every byte was written.
    Whole,
    /// The peer had something to say (response bytes, a close, a reset) before every byte was
    /// written: the caller reads it, then writes on ([`Transport::write_listening`]) or stops.
    PeerSpoke,
}

impl Transport {
    /// A cleartext transport on `socket`.
    pub fn plain(socket: Socket) -> Transport {
        match socket {
            Socket::Monoio(tcp) => Transport::Plain(tcp),
            Socket::Own(socket) => Transport::Own(socket),
        }
    }

    /// Writes all of `buf`, returning it for reuse, with how many of its bytes reached the
    /// socket: all on success; on an error, those written before it (a server may have read
    /// them, and answered early).
    pub async fn write_all(&mut self, buf: BytesMut) -> (io::Result<()>, usize, BytesMut) {
        match self {
            Transport::Plain(tcp) => {
                let (mut buf, mut written) = (buf, 0);
                while written < buf.len() {
                    let result;
                    (result, buf) = write_once(tcp, buf, written).await;
                    match result {
                        Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), written, buf),
                        Ok(n) => written += n,
                        Err(err) => return (Err(err), written, buf),
                    }
                }
                (Ok(()), written, buf)
            }
            Transport::Tls(tls) => {
                let (result, written) = Box::pin(tls.write_all(&buf)).await;
                (result, written, buf)
            }
            Transport::Own(socket) => {
                let (mut buf, mut written) = (buf, 0);
                while written < buf.len() {
                    let result;
                    (result, buf) = socket.send(buf, written).await;
                    match result {
                        Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), written, buf),
                        Ok(n) => written += n,
                        Err(err) => return (Err(err), written, buf),
                    }
                }
                (Ok(()), written, buf)
            }
        }
    }

    /// Writes a request: one write, as [`Transport::write_all`] does, for a request the socket
    /// takes at once (nearly all of them). When it takes only part (a large body, a server not
    /// reading), the rest is written while listening to the peer, which may answer before it
    /// has read the body (a 413) and then read nothing more: `PeerSpoke` comes back as soon as
    /// the peer has bytes to read (or closed), with what was written by then. Over TLS, the
    /// same with records (the bytes counted are the plaintext sent whole).
    pub async fn write_request(&mut self, buf: BytesMut) -> (io::Result<WriteEnd>, usize, BytesMut) {
        match self {
            Transport::Plain(tcp) => {
                let (result, buf) = write_once(tcp, buf, 0).await;
                match result {
                    Ok(n) if n == buf.len() => (Ok(WriteEnd::Whole), n, buf),
                    Ok(0) => (Err(io::ErrorKind::WriteZero.into()), 0, buf),
                    // Rare (the socket's send buffer is full): boxed, so that every request's
                    // future stays as small as a one-write request needs.
                    Ok(n) => {
                        let (result, written) = Box::pin(write_listening(tcp, &buf, n)).await;
                        (result, written, buf)
                    }
                    Err(err) => (Err(err), 0, buf),
                }
            }
            Transport::Tls(tls) => {
                let (result, written) = Box::pin(tls.write_request(&buf)).await;
                (result, written, buf)
            }
            Transport::Own(socket) => {
                let (result, buf) = socket.send(buf, 0).await;
                match result {
                    Ok(n) if n == buf.len() => (Ok(WriteEnd::Whole), n, buf),
                    Ok(0) => (Err(io::ErrorKind::WriteZero.into()), 0, buf),
                    Ok(n) => {
                        let (result, written) = Box::pin(write_listening_own(socket, &buf, n)).await;
                        (result, written, buf)
                    }
                    Err(err) => (Err(err), 0, buf),
                }
            }
        }
    }

    /// Writes a request as [`Transport::write_request`] does and, on io_uring for a plain
    /// request of at most `REQUEST_READ_TOGETHER_BYTES_MAX`, makes the first read of its answer
    /// in the same turn: the write is handed to the ring, then the read, and only the read is
    /// waited on. The write, not polled before it has completed, wakes no one: the journey is
    /// woken once per request, by the read, not first by the write. The write is looked at once
    /// the read has returned: taken whole (nearly always: a socket has nothing queued when a
    /// request starts, and takes one this small whole), or in part (the peer spoke or closed
    /// first: `PeerSpoke`, the read's bytes with it), or failed; one still in flight then (the
    /// peer answered before taking it) is waited for. A write the socket took only in part
    /// while the peer stays silent would leave the read waiting: the request's deadline ends it
    /// (the sweep shuts the socket down), a timeout. Elsewhere (epoll, TLS, a larger request)
    /// no read is made: `read` is `None` and the caller reads. While the read waits, the bytes
    /// the write has written are told to `on_written` when this is polled (a run's stop polls
    /// every journey once more before it counts) or dropped (a journey test interrupted), once
    /// the write has completed: the caller counts them as sent, as it does those returned.
    /// (A request awaits its two parts apart, [`Transport::together`] and then where that
    /// cannot be used [`Transport::write_request_and_read_apart`], so that the own ring's
    /// future is polled in place.)
    pub async fn write_request_and_read(
        &mut self,
        wbuf: BytesMut,
        rbuf: BytesMut,
        on_written: &dyn Fn(u64),
    ) -> WriteAndRead {
        let (wbuf, rbuf) = match self.together(wbuf, rbuf, on_written) {
            Ok(together) => return together.await,
            Err(bufs) => bufs,
        };
        self.write_request_and_read_apart(wbuf, rbuf, on_written).await
    }

    /// The own ring's way of [`Transport::write_request_and_read`] for a plain request of at
    /// most `REQUEST_READ_TOGETHER_BYTES_MAX`: the send written in place on the connection's
    /// receive's block, taken in the same look as the answer's bytes
    /// ([`TcpSocket::send_and_read`]). A future of its own, its poll inlined where it is
    /// awaited (the request's hot path). The buffers come back (`Err`) where it cannot be
    /// used (another transport, a larger request, a socket whose block cannot take it): then
    /// [`Transport::write_request_and_read_apart`].
    #[inline(always)]
    pub fn together<'a>(
        &'a mut self,
        wbuf: BytesMut,
        mut rbuf: BytesMut,
        on_written: &'a dyn Fn(u64),
    ) -> Result<Together<'a>, (BytesMut, BytesMut)> {
        match self {
            Transport::Own(socket) if wbuf.len() <= REQUEST_READ_TOGETHER_BYTES_MAX => {
                read_room(&mut rbuf);
                socket.send_and_read(wbuf, rbuf, on_written).map(Together)
            }
            _ => Err((wbuf, rbuf)),
        }
    }

    /// [`Transport::write_request_and_read`] where [`Transport::together`] gave the buffers
    /// back: the write and the read as two operations on the rings that make them, else the
    /// write alone.
    #[expect(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice in its future")]
    pub fn write_request_and_read_apart<'a>(
        &'a mut self,
        wbuf: BytesMut,
        mut rbuf: BytesMut,
        on_written: &'a dyn Fn(u64),
    ) -> impl Future<Output = WriteAndRead> + 'a {
        async move {
            let tcp = match self {
                Transport::Own(socket) if wbuf.len() <= REQUEST_READ_TOGETHER_BYTES_MAX => {
                    read_room(&mut rbuf);
                    // Pushed to the ring in this order, handed to the kernel together.
                    let send = std::pin::pin!(socket.send(wbuf, 0));
                    let recv = std::pin::pin!(socket.read(rbuf));
                    let ((write, wbuf), (read, rbuf)) = read_then_write(send, recv, on_written).await;
                    let (write, written) = write_end(write, wbuf.len());
                    return WriteAndRead { write, written, wbuf, read: Some(read), rbuf };
                }
                Transport::Plain(tcp)
                    if wbuf.len() <= REQUEST_READ_TOGETHER_BYTES_MAX && !monoio::utils::is_legacy() =>
                {
                    tcp
                }
                _ => {
                    let (write, written, wbuf) = self.write_request(wbuf).await;
                    return WriteAndRead { write, written, wbuf, read: None, rbuf };
                }
            };
            read_room(&mut rbuf);
            let (len, end) = (rbuf.len(), rbuf.capacity());
            let tcp: *mut TcpStream = tcp;
            // SAFETY: monoio's `TcpStream` is `Split`: a read and a write may be in flight on it
            // at once (its own split halves alias it the same way). Neither op's future keeps
            // the reference: each holds its own handle of the descriptor, and the stream
            // outlives both. Each future is pinned where it is made and polled in place.
            #[allow(unsafe_code)]
            let send = std::pin::pin!(unsafe { (*tcp).write(wbuf) });
            #[allow(unsafe_code)]
            let recv = std::pin::pin!(unsafe { (*tcp).read(rbuf.slice_mut(len..end)) });
            let ((write, wbuf), (read, rbuf)) = read_then_write(send, recv, on_written).await;
            let (write, written) = write_end(write, wbuf.len());
            WriteAndRead { write, written, wbuf, read: Some(read), rbuf: rbuf.into_inner() }
        }
    }

    /// Writes on from byte `from` of `buf` (the request [`Transport::write_request`] began)
    /// after the peer spoke (its bytes read and found to be no final answer, a `100
    /// Continue`), listening again.
    pub async fn write_listening(&mut self, buf: &BytesMut, from: usize) -> (io::Result<WriteEnd>, usize) {
        match self {
            Transport::Plain(tcp) => Box::pin(write_listening(tcp, buf, from)).await,
            // The session knows where the request's write stands.
            Transport::Tls(tls) => Box::pin(tls.write_listening(buf)).await,
            Transport::Own(socket) => Box::pin(write_listening_own(socket, buf, from)).await,
        }
    }

    /// Stops sending on this connection (a half close: the peer reads the end of the stream
    /// after the bytes already written). Used when a server answered before the request was
    /// written whole: the rest is never sent, and the connection is not used again.
    pub fn stop_sending(&self) {
        // SAFETY: the descriptor is the open socket owned by `self`, alive for this call.
        // Nothing to do if it fails: the connection is closed after this exchange anyway.
        #[allow(unsafe_code)]
        let _ = unsafe { libc::shutdown(self.raw_fd(), libc::SHUT_WR) };
    }

    /// The TCP socket's descriptor (under TLS too): what a request's deadline shuts down.
    #[inline]
    pub fn raw_fd(&self) -> RawFd {
        match self {
            Transport::Plain(tcp) => tcp.as_raw_fd(),
            Transport::Tls(tls) => tls.tcp.raw_fd(),
            Transport::Own(socket) => socket.as_raw_fd(),
        }
    }

    /// True when the peer has closed (or reset) this idle connection, or sent bytes nobody
    /// asked for: a non-blocking peek at the socket, no wait and nothing consumed. Used before
    /// a non-idempotent request reuses a pooled connection, which could not be retried.
    pub fn peer_closed(&self) -> bool {
        // On the own ring, what the socket's multishot receive has taken is no longer there
        // for the peek.
        matches!(self, Transport::Own(socket) if socket.arrived()) || peer_spoke(self.raw_fd())
    }

    /// Appends whatever plaintext arrives next to `buf`; `Ok(0)` means the peer closed.
    pub async fn read_some(&mut self, buf: BytesMut) -> (io::Result<usize>, BytesMut) {
        match self {
            Transport::Plain(tcp) => {
                let mut buf = buf;
                read_room(&mut buf);
                let len = buf.len();
                let end = buf.capacity();
                let (result, slice) = tcp.read(buf.slice_mut(len..end)).await;
                (result, slice.into_inner())
            }
            // Boxed: the TLS read state is large and would otherwise size (and be copied with)
            // every request's future, plain ones included.
            Transport::Tls(tls) => Box::pin(tls.read_some(buf, None)).await,
            Transport::Own(socket) => {
                let mut buf = buf;
                read_room(&mut buf);
                socket.read_rest(buf).await
            }
        }
    }

    /// Like [`Transport::read_some`], but cancellable through `cancel` without losing bytes: a
    /// read cancelled before data came ends with the OS error ECANCELED and consumes nothing;
    /// one that completed first returns its bytes. (Dropping a read future instead can lose
    /// what the kernel had already delivered for it under io_uring.)
    pub async fn read_some_cancelable(&mut self, buf: BytesMut, cancel: CancelHandle) -> (io::Result<usize>, BytesMut) {
        match self {
            Transport::Plain(tcp) => {
                let CancelHandle::Monoio(cancel) = cancel else { return (Err(other_runtimes_handle()), buf) };
                let mut buf = buf;
                read_room(&mut buf);
                let len = buf.len();
                let end = buf.capacity();
                let (result, slice) = tcp.cancelable_read(buf.slice_mut(len..end), cancel).await;
                (result, slice.into_inner())
            }
            Transport::Tls(tls) => Box::pin(tls.read_some(buf, Some(cancel))).await,
            Transport::Own(socket) => {
                let CancelHandle::Own(cancel) = cancel else { return (Err(other_runtimes_handle()), buf) };
                let mut buf = buf;
                read_room(&mut buf);
                socket.read_cancelable(buf, &cancel).await
            }
        }
    }
}

/// How a request's one write ended, from the count the socket took of its `len` bytes.
#[inline(always)]
fn write_end(write: io::Result<usize>, len: usize) -> (io::Result<WriteEnd>, usize) {
    match write {
        Ok(n) if n == len => (Ok(WriteEnd::Whole), n),
        Ok(0) => (Err(io::ErrorKind::WriteZero.into()), 0),
        Ok(n) => (Ok(WriteEnd::PeerSpoke), n),
        Err(err) => (Err(err), 0),
    }
}

/// Waits for a request's write and the first read of its answer, both in flight, as
/// [`Transport::write_request_and_read`] says: one wait for both (two would keep both futures
/// in every state of this one), the read first, then the write, polled with the journey's
/// waker only now. Polled again before the answer (a run's stop has every journey polled once
/// more before it counts), the write is looked at, so that the bytes it wrote are counted.
/// (A `poll_fn` made here, not an `async fn`: an `async fn` keeps its arguments twice in its
/// future, and every request's future holds this one.)
#[inline(always)]
fn read_then_write<'a, S, R, B: 'a>(
    send: Pin<&'a mut S>,
    mut recv: Pin<&'a mut R>,
    on_written: &'a dyn Fn(u64),
) -> impl Future<Output = ((io::Result<usize>, BytesMut), (io::Result<usize>, B))> + 'a
where
    S: Future<Output = (io::Result<usize>, BytesMut)> + 'a,
    R: Future<Output = (io::Result<usize>, B)> + 'a,
{
    let mut send = UnseenWrite { send, seen: None, done: false, on_written };
    let (mut read, mut first) = (None, true);
    std::future::poll_fn(move |cx| {
        if read.is_none() {
            match recv.as_mut().poll(cx) {
                Poll::Ready(done) => read = Some(done),
                Poll::Pending => {
                    // (Not on the first poll: the write is not even handed to the kernel
                    // before the core's next turn.)
                    if !std::mem::take(&mut first) {
                        send.look();
                    }
                    return Poll::Pending;
                }
            }
        }
        let write = std::task::ready!(send.poll(cx));
        Poll::Ready((write, read.take().expect("the read has returned")))
    })
}

/// What [`Transport::write_request_and_read`] came to.
pub struct WriteAndRead {
    /// How the write ended, as [`Transport::write_request`] says it.
    pub write: io::Result<WriteEnd>,
    /// Bytes of the request written.
    pub written: usize,
    /// The request's buffer, back for reuse.
    pub wbuf: BytesMut,
    /// The first read of the answer, made beside the write (its bytes appended to `rbuf`);
    /// `None`: none was made, the caller reads.
    pub read: Option<io::Result<usize>>,
    /// The read buffer, back.
    pub rbuf: BytesMut,
}

/// [`Transport::together`]'s future: the send and the read on the socket's block, as a
/// [`WriteAndRead`].
pub struct Together<'a>(ring::SendRead<'a>);

impl Future for Together<'_> {
    type Output = WriteAndRead;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<WriteAndRead> {
        let ((write, wbuf), (read, rbuf)) = std::task::ready!(Pin::new(&mut self.0).poll(cx));
        let (write, written) = write_end(write, wbuf.len());
        Poll::Ready(WriteAndRead { write, written, wbuf, read: Some(read), rbuf })
    }
}

/// The write of [`Transport::write_request_and_read`], polled with the journey's waker only
/// once the read has returned. Before then it is only looked at (with a waker that wakes no
/// one: when the journey is polled for something else, and when it is dropped), and the bytes
/// it wrote, once it has completed, are told to `on_written`.
struct UnseenWrite<'a, F: Future<Output = monoio::BufResult<usize, BytesMut>>> {
    send: Pin<&'a mut F>,
    /// What a look found, for the poll that takes it.
    seen: Option<monoio::BufResult<usize, BytesMut>>,
    /// Its result was taken (the future must not be polled again).
    done: bool,
    on_written: &'a dyn Fn(u64),
}

impl<F: Future<Output = monoio::BufResult<usize, BytesMut>>> UnseenWrite<'_, F> {
    /// Whether the write has completed, asked without being woken by it; its bytes told when
    /// it has.
    fn look(&mut self) {
        if self.done || self.seen.is_some() {
            return;
        }
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if let Poll::Ready(result) = self.send.as_mut().poll(&mut cx) {
            if let Ok(written) = result.0 {
                (self.on_written)(written as u64);
            }
            self.seen = Some(result);
        }
    }

    /// The write's result, woken by it when it is still in flight.
    fn poll(&mut self, cx: &mut std::task::Context<'_>) -> Poll<monoio::BufResult<usize, BytesMut>> {
        let result = match self.seen.take() {
            Some(result) => result,
            None => std::task::ready!(self.send.as_mut().poll(cx)),
        };
        self.done = true;
        Poll::Ready(result)
    }
}

impl<F: Future<Output = monoio::BufResult<usize, BytesMut>>> Drop for UnseenWrite<'_, F> {
    /// Dropped before the read returned (a journey test interrupted): a last look. Inlined: the
    /// usual drop, once its result was taken, is a test of `done`, not a call.
    #[inline(always)]
    fn drop(&mut self) {
        if !self.done {
            self.last_look();
        }
    }
}

impl<F: Future<Output = monoio::BufResult<usize, BytesMut>>> UnseenWrite<'_, F> {
    /// [`UnseenWrite::look`] for a write dropped before its result was taken: out of line.
    #[cold]
    #[inline(never)]
    fn last_look(&mut self) {
        self.look();
    }
}

/// Makes room for a plain read at the end of `buf`: `READ_CHUNK_BYTES` when less than
/// `READ_ROOM_MIN_BYTES` is free, else the room there is. The response reader takes each head
/// and body off the front of the buffer, which moves its start on and leaves less room at its
/// end; asking for the whole chunk before every read moved the start back (a call into
/// `BytesMut::reserve_inner`, some 60 instructions) on every request. Now that happens once
/// the reads have used up all but `READ_ROOM_MIN_BYTES` of the buffer (every 12 KiB of
/// responses), and no read is made into less room than that.
#[inline(always)]
fn read_room(buf: &mut BytesMut) {
    if buf.capacity() - buf.len() < READ_ROOM_MIN_BYTES {
        buf.reserve(READ_CHUNK_BYTES);
    }
}

/// True for the error a cancelled read ends with.
pub fn is_cancelled(err: &io::Error) -> bool {
    err.raw_os_error() == Some(125)
}

/// One write of `buf[from..]`: the one place a plain write is made, so that the write op's
/// future has one caller and is inlined into it (two callers cost a request about 150
/// instructions more, measured with `benches/instructions.sh`).
async fn write_once(tcp: &mut TcpStream, buf: BytesMut, from: usize) -> (io::Result<usize>, BytesMut) {
    let (result, slice) = tcp.write(buf.slice(from..)).await;
    (result, slice.into_inner())
}

/// True when `tcp` has bytes to read, has reached the end of its stream or has an error
/// pending: a non-blocking peek, no wait and nothing consumed.
fn peer_spoke(fd: RawFd) -> bool {
    let mut byte = 0u8;
    // SAFETY: the descriptor is the open socket owned by `tcp` (alive for this call); `byte` is
    // a valid one-byte buffer; MSG_PEEK | MSG_DONTWAIT neither consumes data nor blocks.
    #[allow(unsafe_code)]
    let read =
        unsafe { libc::recv(fd, (&raw mut byte).cast::<libc::c_void>(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    match read {
        // Nothing to read yet: EAGAIN is the quiet answer.
        -1 => io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock,
        // 0: end of stream; more: bytes.
        _ => true,
    }
}

/// Writes `buf[from..]` to `tcp` while listening to the peer: each round checks that the peer
/// has not spoken, writes what the socket takes without waiting, then waits for the socket to
/// take more or for the peer to speak, whichever comes first. Returns how far the write got.
/// (Readiness waits and non-blocking sends rather than a write op, so that nothing holds the
/// stream mutably while the read side is watched, on io_uring and epoll alike.)
async fn write_listening(tcp: &TcpStream, buf: &[u8], from: usize) -> (io::Result<WriteEnd>, usize) {
    let mut written = from;
    // One wait for the peer for the whole write (under io_uring a wait dropped before it ends
    // stays in the ring until the socket is ready: one, not one per round).
    let mut peer = std::pin::pin!(tcp.readable(false));
    loop {
        if let Some(end) = write_round(tcp.as_raw_fd(), buf, &mut written, false) {
            return (end, written);
        }
        // `false`: the epoll driver checks with poll(2) that the readiness is current (the
        // sends above bypass its bookkeeping). Either way the loop looks again.
        monoio::select! {
            spoke = &mut peer => return (spoke.map(|()| WriteEnd::PeerSpoke), written),
            writable = tcp.writable(false) => if let Err(err) = writable {
                return (Err(err), written);
            },
        }
    }
}

/// [`write_listening`] on the own ring: the same rounds, each waiting for the socket to be
/// writable or readable (the next round tells which). A connection that has answered before
/// has its reads' receive running, which takes what the peer says as it comes: a peek, or a
/// wait for the socket to be readable, no longer sees it, so the receive is asked too.
async fn write_listening_own(socket: &TcpSocket, buf: &[u8], from: usize) -> (io::Result<WriteEnd>, usize) {
    let mut written = from;
    loop {
        if let Some(end) = write_round(socket.as_raw_fd(), buf, &mut written, socket.arrived()) {
            return (end, written);
        }
        let mut ready = std::pin::pin!(socket.ready());
        let mut arrival = std::pin::pin!(socket.arrival());
        let waited = std::future::poll_fn(|cx| match arrival.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Ok(())),
            Poll::Pending => ready.as_mut().poll(cx),
        });
        if let Err(err) = waited.await {
            return (Err(err), written);
        }
    }
}

/// One round of a write that listens to the peer: while the peer has not spoken (`spoke`:
/// what the caller knows it said), sends what the socket takes of `buf[*written..]` without
/// waiting, counting it in `written`. `Some`: the write is over (whole, the peer spoke, or an
/// error); `None`: the socket takes no more now, wait for it (or for the peer) and go on.
fn write_round(fd: RawFd, buf: &[u8], written: &mut usize, spoke: bool) -> Option<io::Result<WriteEnd>> {
    if spoke {
        return Some(Ok(WriteEnd::PeerSpoke));
    }
    loop {
        if peer_spoke(fd) {
            return Some(Ok(WriteEnd::PeerSpoke));
        }
        match send_now(fd, &buf[*written..]) {
            Ok(n) => {
                *written += n;
                if *written == buf.len() {
                    return Some(Ok(WriteEnd::Whole));
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return None,
            Err(err) => return Some(Err(err)),
        }
    }
}

/// One non-blocking send of as much of `bytes` as the socket takes (`WouldBlock` when none).
fn send_now(fd: RawFd, bytes: &[u8]) -> io::Result<usize> {
    // SAFETY: the descriptor is the open socket owned by `tcp`; `bytes` is a valid buffer of
    // `bytes.len()` bytes for the call. MSG_DONTWAIT: never blocks; MSG_NOSIGNAL: a closed
    // peer is an EPIPE error, not a SIGPIPE.
    #[allow(unsafe_code)]
    let sent = unsafe {
        libc::send(fd, bytes.as_ptr().cast::<libc::c_void>(), bytes.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
    };
    match sent {
        -1 => Err(io::Error::last_os_error()),
        0 => Err(io::ErrorKind::WriteZero.into()),
        n => Ok(n.unsigned_abs()),
    }
}

/// A rustls client session over a TCP stream, driven directly: ciphertext moves between the
/// socket and the session through two owned buffers.
pub struct TlsStream {
    tcp: Socket,
    session: ClientConnection,
    net_in: Vec<u8>,
    net_in_at: usize,
    net_out: Vec<u8>,
    /// How much of `net_out` has been written: all of it, but while a request is written
    /// listening to the peer, which spoke first.
    net_out_at: usize,
    /// Of the request being written, the plaintext the session has taken, and the plaintext
    /// whose records have all been written.
    plain_taken: usize,
    plain_sent: usize,
}

impl TlsStream {
    /// Runs the handshake to completion. Errors name their cause (certificate, protocol, I/O).
    /// `heard` is set once a byte comes back from the server: a caller whose timeout drops the
    /// handshake can tell a silent server (a plain-HTTP port waiting for a request) from a slow one.
    pub async fn handshake(
        tcp: Socket,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        heard: &std::cell::Cell<bool>,
    ) -> io::Result<TlsStream> {
        let session = ClientConnection::new(config, name).map_err(|e| io::Error::other(format!("TLS setup: {e}")))?;
        let mut stream = TlsStream {
            tcp,
            session,
            net_in: Vec::with_capacity(TLS_READ_BYTES),
            net_in_at: 0,
            net_out: Vec::with_capacity(4096),
            net_out_at: 0,
            plain_taken: 0,
            plain_sent: 0,
        };
        while stream.session.is_handshaking() {
            stream.flush().await?;
            if stream.session.is_handshaking() && stream.session.wants_read() {
                if stream.pump(None).await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "server closed the connection during the TLS handshake",
                    ));
                }
                heard.set(true);
            }
        }
        stream.flush().await?;
        Ok(stream)
    }

    /// Whether the handshake resumed an earlier session.
    pub fn resumed(&self) -> bool {
        self.session.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    /// Encrypts and sends all of `data`. rustls buffers at most 64 KiB of plaintext before a
    /// flush, so a larger request body goes in pieces, each flushed before the next. Returns
    /// how much plaintext was sent whole before an error (all of it on success).
    async fn write_all(&mut self, mut data: &[u8]) -> (io::Result<()>, usize) {
        let mut sent = 0;
        while !data.is_empty() {
            let taken = match self.session.writer().write(data) {
                Ok(taken) => taken,
                Err(err) => return (Err(err), sent),
            };
            data = &data[taken..];
            if taken == 0 && !self.session.wants_write() {
                return (Err(io::Error::new(io::ErrorKind::WriteZero, "TLS session accepts no more data")), sent);
            }
            if let Err(err) = self.flush().await {
                return (Err(err), sent);
            }
            sent += taken;
        }
        (self.flush().await, sent)
    }

    /// Sends whatever records rustls has queued (after what is left of `net_out`).
    async fn flush(&mut self) -> io::Result<()> {
        loop {
            if self.net_out_at < self.net_out.len() {
                let out = std::mem::take(&mut self.net_out);
                let (result, out) = self.tcp.write_all(out, self.net_out_at).await;
                self.net_out = out;
                result?;
                self.net_out_at = self.net_out.len();
            }
            if !self.session.wants_write() {
                return Ok(());
            }
            self.net_out.clear();
            self.net_out_at = 0;
            self.session.write_tls(&mut self.net_out)?;
        }
    }

    /// Encrypts and sends a request, `data`: as [`Transport::write_request`] does in plain, one
    /// write when the socket takes it at once (every request up to the session's 64 KiB of
    /// plaintext at a time, nearly all of them), else the rest written while listening to the
    /// peer ([`TlsStream::write_listening`]). Returns the plaintext sent whole.
    async fn write_request(&mut self, data: &[u8]) -> (io::Result<WriteEnd>, usize) {
        (self.plain_taken, self.plain_sent) = (0, 0);
        match self.session.writer().write(data) {
            Ok(taken) => self.plain_taken = taken,
            Err(err) => return (Err(err), 0),
        }
        self.net_out.clear();
        self.net_out_at = 0;
        if let Err(err) = self.session.write_tls(&mut self.net_out) {
            return (Err(err), 0);
        }
        let out = std::mem::take(&mut self.net_out);
        let (result, out) = self.tcp.write(out).await;
        self.net_out = out;
        match result {
            Ok(0) if !self.net_out.is_empty() => return (Err(io::ErrorKind::WriteZero.into()), 0),
            Ok(written) => self.net_out_at = written,
            Err(err) => return (Err(err), 0),
        }
        if self.net_out_at == self.net_out.len() && self.plain_taken == data.len() && !self.session.wants_write() {
            self.plain_sent = data.len();
            return (Ok(WriteEnd::Whole), data.len());
        }
        // Rare (a large body, a server not reading): boxed, so that every request's future
        // stays small.
        Box::pin(self.write_listening(data)).await
    }

    /// Writes on the request `data` that [`TlsStream::write_request`] began, listening to the
    /// peer: the records left, then the plaintext left, 64 KiB at a time. Returns `PeerSpoke`
    /// once the peer has sent plaintext (or closed): records with nothing for the caller (a
    /// TLS 1.3 session ticket) are taken in and the write goes on. Returns the plaintext sent
    /// whole (a piece whose records were cut short is not counted).
    async fn write_listening(&mut self, data: &[u8]) -> (io::Result<WriteEnd>, usize) {
        loop {
            if self.net_out_at < self.net_out.len() {
                let (result, at) = self.tcp.write_listening(&self.net_out, self.net_out_at).await;
                self.net_out_at = at;
                match result {
                    Ok(WriteEnd::Whole) => {}
                    Ok(WriteEnd::PeerSpoke) => match self.answer_ready().await {
                        Ok(true) => return (Ok(WriteEnd::PeerSpoke), self.plain_sent),
                        Ok(false) => {}
                        Err(err) => return (Err(err), self.plain_sent),
                    },
                    Err(err) => return (Err(err), self.plain_sent),
                }
                continue;
            }
            if self.session.wants_write() {
                self.net_out.clear();
                self.net_out_at = 0;
                if let Err(err) = self.session.write_tls(&mut self.net_out) {
                    return (Err(err), self.plain_sent);
                }
                continue;
            }
            self.plain_sent = self.plain_taken;
            if self.plain_taken == data.len() {
                return (Ok(WriteEnd::Whole), self.plain_sent);
            }
            match self.session.writer().write(&data[self.plain_taken..]) {
                Ok(0) => {
                    let stuck = io::Error::new(io::ErrorKind::WriteZero, "TLS session accepts no more data");
                    return (Err(stuck), self.plain_sent);
                }
                Ok(taken) => self.plain_taken += taken,
                Err(err) => return (Err(err), self.plain_sent),
            }
        }
    }

    /// The peer sent something while a request was being written: takes in what has arrived,
    /// never waiting for more (the socket has bytes, an end or an error to give), and says
    /// whether the caller has something to read: plaintext, or the end of the stream.
    async fn answer_ready(&mut self) -> io::Result<bool> {
        loop {
            if self.pump(None).await? == 0 {
                return Ok(true);
            }
            let state = self.session.process_new_packets().map_err(tls_error)?;
            if state.plaintext_bytes_to_read() > 0 || state.peer_has_closed() {
                return Ok(true);
            }
            if self.net_in_at >= self.net_in.len() {
                return Ok(false);
            }
        }
    }

    /// Feeds rustls more ciphertext, reading from the socket when none is pending. Returns the
    /// ciphertext bytes consumed; 0 means the socket reached end of file.
    async fn pump(&mut self, cancel: Option<CancelHandle>) -> io::Result<usize> {
        if self.net_in_at >= self.net_in.len() {
            let mut buf = std::mem::take(&mut self.net_in);
            buf.clear();
            let (result, buf) = match cancel {
                None => self.tcp.read(buf).await,
                Some(cancel) => self.tcp.cancelable_read(buf, cancel).await,
            };
            self.net_in = buf;
            self.net_in_at = 0;
            if result? == 0 {
                // Tell rustls about the end of the stream so that it can tell a clean close
                // (close_notify) from a truncation.
                self.session.read_tls(&mut &[][..])?;
                self.session.process_new_packets().map_err(tls_error)?;
                return Ok(0);
            }
        }
        let mut pending = &self.net_in[self.net_in_at..];
        let before = pending.len();
        let read = self.session.read_tls(&mut pending);
        self.net_in_at += before - pending.len();
        read?;
        if let Err(err) = self.session.process_new_packets() {
            // Send the alert rustls prepared before giving up, so the server sees why.
            let _ = self.flush().await;
            return Err(tls_error(err));
        }
        Ok(before - pending.len())
    }

    async fn read_some(&mut self, mut buf: BytesMut, cancel: Option<CancelHandle>) -> (io::Result<usize>, BytesMut) {
        loop {
            let len = buf.len();
            buf.resize(len + READ_CHUNK_BYTES, 0);
            let read = self.session.reader().read(&mut buf[len..]);
            match read {
                Ok(n) => {
                    buf.truncate(len + n);
                    return (Ok(n), buf);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => buf.truncate(len),
                Err(err) => {
                    buf.truncate(len);
                    return (Err(err), buf);
                }
            }
            match self.pump(cancel.clone()).await {
                Ok(_) => {}
                Err(err) => return (Err(err), buf),
            }
            // Not while a request's records wait to be written (the server answered before
            // reading them, and may never): this read must not wait on that write.
            if self.net_out_at < self.net_out.len() {
                continue;
            }
            if let Err(err) = self.flush().await {
                return (Err(err), buf);
            }
        }
    }
}

/// rustls errors become I/O errors of kind `InvalidData`, whose message names the TLS cause.
fn tls_error(err: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, TlsFailure(err))
}

/// Marks an I/O error as a TLS failure for classification; it reads as rustls' own error.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct TlsFailure(pub rustls::Error);

/// True when an I/O error came from the TLS layer.
pub fn is_tls_failure(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|inner| inner.is::<TlsFailure>())
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::time::Duration;

    use super::*;
    use crate::DriverChoice;
    use crate::driver::{CoreRuntime, Driver};

    const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

    #[test]
    fn a_read_makes_do_with_the_room_left_and_makes_room_only_when_little_is() {
        use bytes::Buf as _;
        let mut buf = BytesMut::with_capacity(READ_CHUNK_BYTES);
        let start = buf.as_ptr();
        // A response taken off the front, as the reader does (its head kept by the response):
        // the start moves on.
        buf.resize(200, 0);
        let head = buf.split_to(100).freeze();
        buf.advance(100);
        let (at, room) = (buf.as_ptr(), buf.capacity());
        read_room(&mut buf);
        assert_eq!((buf.as_ptr(), buf.capacity()), (at, room), "room enough: the buffer is left as it is");
        // Less than the minimum left: the whole chunk made room for, in the same memory once
        // nothing else holds it.
        let used = room - READ_ROOM_MIN_BYTES + 1;
        buf.resize(used, 0);
        buf.advance(used);
        drop(head);
        read_room(&mut buf);
        assert!(buf.capacity() >= READ_CHUNK_BYTES, "{}", buf.capacity());
        assert_eq!(buf.as_ptr(), start, "the buffer's memory is reused");
    }

    /// A server on loopback that reads one request of `request_bytes`, waits `pause` (so that
    /// the write's completion and the answer come apart), answers, and closes.
    fn answer_once(request_bytes: usize, pause: Duration) -> (SocketAddr, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut request = vec![0; request_bytes];
            socket.read_exact(&mut request).unwrap();
            std::thread::sleep(pause);
            socket.write_all(ANSWER).unwrap();
        });
        (addr, server)
    }

    /// Writes a request of `request_bytes` with `write_request_and_read`, counting how often
    /// its future is polled (1 + the wakes it had).
    fn exchange(runtime: &mut CoreRuntime, request_bytes: usize) -> (WriteAndRead, usize) {
        let (addr, server) = answer_once(request_bytes, Duration::from_millis(30));
        let outcome = runtime.block_on(async move {
            let mut transport = Transport::plain(connect_tcp(addr).await.unwrap());
            let mut request = BytesMut::new();
            request.extend_from_slice(&vec![b'x'; request_bytes]);
            let mut polls = 0;
            let mut together = std::pin::pin!(transport.write_request_and_read(request, BytesMut::new(), &|_| {}));
            let outcome = std::future::poll_fn(|cx| {
                polls += 1;
                together.as_mut().poll(cx)
            })
            .await;
            (outcome, polls)
        });
        server.join().unwrap();
        outcome
    }

    /// On io_uring a small request is written and its answer read together, and the journey is
    /// woken once, by the answer (the write's completion wakes nothing); on epoll, or for a
    /// request larger than `REQUEST_READ_TOGETHER_BYTES_MAX`, no read is made.
    #[test]
    fn a_small_request_and_its_answer_are_one_wake_on_io_uring() {
        for choice in [DriverChoice::Auto, DriverChoice::Epoll, DriverChoice::IoUring, DriverChoice::Own] {
            let Ok((mut runtime, _)) = CoreRuntime::build(choice) else {
                assert!(
                    matches!(choice, DriverChoice::IoUring | DriverChoice::Own),
                    "only the io_uring runtimes may be missing (no io_uring here)"
                );
                continue;
            };
            let driver = runtime.driver();
            let (small, polls) = exchange(&mut runtime, 100);
            assert!(matches!(small.write, Ok(WriteEnd::Whole)) && small.written == 100, "{driver}");
            if driver == Driver::IoUring || driver == Driver::Own {
                assert!(matches!(small.read, Some(Ok(n)) if n == ANSWER.len()), "{:?}", small.read);
                assert_eq!(&small.rbuf[..], ANSWER);
                assert_eq!(polls, 2, "the first poll and the answer's wake, none for the write");
            } else {
                assert!(small.read.is_none() && small.rbuf.is_empty(), "{driver}: no read made");
            }
            let large_bytes = REQUEST_READ_TOGETHER_BYTES_MAX + 1;
            let (large, _) = exchange(&mut runtime, large_bytes);
            assert!(matches!(large.write, Ok(WriteEnd::Whole)) && large.written == large_bytes, "{driver}");
            assert!(large.read.is_none() && large.rbuf.is_empty(), "{driver}: no read made for a large request");
        }
    }

    /// A server that accepts one connection and writes each message it is handed.
    /// A server that writes what it is cued to, and says when each cue's bytes are written.
    fn writer_on_cue()
    -> (SocketAddr, std::sync::mpsc::Sender<&'static [u8]>, std::sync::mpsc::Receiver<()>, std::thread::JoinHandle<()>)
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (cue, cues) = std::sync::mpsc::channel::<&'static [u8]>();
        let (wrote, written) = std::sync::mpsc::channel();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            for bytes in cues {
                socket.write_all(bytes).unwrap();
                let _ = wrote.send(());
            }
        });
        (addr, cue, written, server)
    }

    /// Each driver this machine runs (the own runtime and monoio's io_uring need io_uring), and
    /// the default, built in turn (one runtime on the thread at a time: the own one, while
    /// built, takes its sockets).
    fn runtimes_here() -> impl Iterator<Item = CoreRuntime> {
        [DriverChoice::Auto, DriverChoice::Epoll, DriverChoice::IoUring, DriverChoice::Own]
            .into_iter()
            .filter_map(|choice| CoreRuntime::build(choice).ok().map(|(runtime, _)| runtime))
    }

    /// A cancellable read cancelled before data came ends with ECANCELED, consumes nothing and
    /// hands the buffer back as it was; the bytes sent after are read whole; a read given the
    /// cancelled canceller's handle again ends at once. On every driver, the own one included.
    #[test]
    fn a_read_cancelled_before_data_came_consumes_nothing() {
        for mut runtime in runtimes_here() {
            let driver = runtime.driver();
            let (addr, cue, _written, server) = writer_on_cue();
            let (cancelled, again, after) = runtime.block_on(async move {
                let mut transport = Transport::plain(connect_tcp(addr).await.unwrap());
                let canceller = Canceller::new();
                assert_eq!(matches!(canceller, Canceller::Own(_)), driver == Driver::Own, "{driver}");
                let handle = canceller.handle();
                let (cancelled, buf) = {
                    let kept = BytesMut::from(&b"kept"[..]);
                    let mut read = std::pin::pin!(transport.read_some_cancelable(kept, handle.clone()));
                    let pending = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx).is_pending())).await;
                    assert!(pending, "{driver}: nothing sent yet");
                    crate::driver::sleep(Duration::from_millis(20)).await;
                    let _fresh = canceller.cancel();
                    read.await
                };
                let cancelled = (cancelled, buf.clone());
                let again = transport.read_some_cancelable(BytesMut::new(), handle).await.0;
                cue.send(b"late").unwrap();
                let after = transport.read_some(buf).await;
                (cancelled, again, after)
            });
            server.join().unwrap();
            assert!(is_cancelled(cancelled.0.as_ref().unwrap_err()), "{driver}: {:?}", cancelled.0);
            assert_eq!(&cancelled.1[..], b"kept", "{driver}");
            assert!(is_cancelled(&again.unwrap_err()), "{driver}: a cancelled handle ends a read at once");
            assert_eq!(after.0.unwrap(), 4, "{driver}");
            assert_eq!(&after.1[..], b"keptlate", "{driver}: nothing was lost to the cancel");
        }
    }

    /// A cancellable read that completed before its cancel returns its bytes (on epoll a read
    /// is made when polled, so the cancel comes first there: nothing is consumed, and the
    /// next read has the bytes).
    #[test]
    fn a_read_that_completed_before_its_cancel_returns_its_bytes() {
        for mut runtime in runtimes_here() {
            let driver = runtime.driver();
            let (addr, cue, written, server) = writer_on_cue();
            let (read, buf) = runtime.block_on(async move {
                let mut transport = Transport::plain(connect_tcp(addr).await.unwrap());
                let fd = transport.raw_fd();
                let canceller = Canceller::new();
                let (read, buf) = {
                    let mut read = std::pin::pin!(transport.read_some_cancelable(BytesMut::new(), canceller.handle()));
                    let pending = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx).is_pending())).await;
                    assert!(pending, "{driver}: nothing sent yet");
                    cue.send(b"early").unwrap();
                    written.recv().unwrap();
                    // The core turns until the read in flight has taken the bytes from the
                    // socket (it completes, not yet polled), and once more to take its
                    // completion; epoll's read is made only when polled: the bytes wait.
                    let taking = std::time::Instant::now();
                    while driver != Driver::Epoll && peer_spoke(fd) {
                        assert!(taking.elapsed() < Duration::from_secs(10), "{driver}: the read never took the bytes");
                        crate::driver::sleep(Duration::from_millis(1)).await;
                    }
                    crate::driver::sleep(Duration::from_millis(1)).await;
                    let _fresh = canceller.cancel();
                    read.await
                };
                match read {
                    Err(err) if is_cancelled(&err) && driver == Driver::Epoll => transport.read_some(buf).await,
                    read => (read, buf),
                }
            });
            server.join().unwrap();
            assert_eq!(read.unwrap(), 5, "{driver}");
            assert_eq!(&buf[..], b"early", "{driver}");
        }
    }

    /// A server that never answers: the write's bytes are told when the journey is polled for
    /// something else (as the run's stop has it), and when it is dropped (a journey test
    /// interrupted), once the write has completed; not before.
    #[test]
    fn the_write_is_told_while_the_answer_never_comes() {
        for choice in [DriverChoice::Auto, DriverChoice::IoUring, DriverChoice::Own] {
            if let Ok((mut runtime, _)) = CoreRuntime::build(choice) {
                the_write_is_told_on(&mut runtime);
            }
        }
    }

    fn the_write_is_told_on(runtime: &mut CoreRuntime) {
        if runtime.driver() == Driver::Epoll {
            return;
        }
        for drop_it in [false, true] {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            // Reads the request, answers nothing, and closes a while after (which ends the
            // read the client left in flight, and with it the socket).
            let server = std::thread::spawn(move || {
                let (mut socket, _) = listener.accept().unwrap();
                let mut request = [0; 100];
                socket.read_exact(&mut request).unwrap();
                std::thread::sleep(Duration::from_millis(200));
                request.len()
            });
            runtime.block_on(async move {
                let mut transport = Transport::plain(connect_tcp(addr).await.unwrap());
                let told = std::cell::Cell::new(None);
                let on_written = |bytes| told.set(Some(bytes));
                let request = BytesMut::from(&[b'x'; 100][..]);
                let mut together = Box::pin(transport.write_request_and_read(request, BytesMut::new(), &on_written));
                let pending = std::future::poll_fn(|cx| Poll::Ready(together.as_mut().poll(cx).is_pending())).await;
                assert!(pending, "no answer");
                crate::driver::sleep(Duration::from_millis(20)).await;
                assert_eq!(told.get(), None, "not looked at yet");
                if drop_it {
                    drop(together);
                } else {
                    let pending = std::future::poll_fn(|cx| Poll::Ready(together.as_mut().poll(cx).is_pending())).await;
                    assert!(pending, "still no answer");
                }
                assert_eq!(told.get(), Some(100), "dropped: {drop_it}");
            });
            assert_eq!(server.join().unwrap(), 100);
        }
    }
}
