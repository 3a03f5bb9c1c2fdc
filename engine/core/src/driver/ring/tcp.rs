//! TCP on the own ring: connect, send, receive, wait for readiness, and close. The socket is a
//! plain descriptor; shutdown (a request's deadline, a half close) stays a direct system call
//! on it, as on the other drivers.

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use io_uring::{opcode, squeue, types};

use super::cancel::{CancelHandle, NOT_WAITING};
use super::fd::RingFd;
use super::uring::{self, Op, StreamHandle, Taken, io_result, poll_first};

/// A buffer the ring sends from or receives into: its bytes, and the room after them. Its
/// memory does not move when the value does (it lives on the heap).
pub trait RingBuf: Unpin + 'static {
    /// The bytes held.
    fn bytes(&self) -> &[u8];
    /// The free room after them.
    fn room(&mut self) -> &mut [std::mem::MaybeUninit<u8>];
    /// Counts `n` bytes of the room as held.
    ///
    /// # Safety
    /// The first `n` bytes of the room have been written.
    unsafe fn grow(&mut self, n: usize);
}

impl RingBuf for BytesMut {
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        self
    }
    #[inline(always)]
    fn room(&mut self) -> &mut [std::mem::MaybeUninit<u8>] {
        self.spare_capacity_mut()
    }
    #[inline(always)]
    unsafe fn grow(&mut self, n: usize) {
        // SAFETY: the caller says the bytes were written.
        unsafe { self.set_len(self.len() + n) }
    }
}

impl RingBuf for Vec<u8> {
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        self
    }
    #[inline(always)]
    fn room(&mut self) -> &mut [std::mem::MaybeUninit<u8>] {
        self.spare_capacity_mut()
    }
    #[inline(always)]
    unsafe fn grow(&mut self, n: usize) {
        // SAFETY: the caller says the bytes were written.
        unsafe { self.set_len(self.len() + n) }
    }
}

/// A TCP socket whose I/O goes through this core's own ring. Closed through the ring when
/// dropped (after every operation pushed before it, so that none reaches a reused descriptor).
/// Its reads ([`TcpSocket::read`]) go through one multishot receive into the ring's provided
/// buffers, started by the first and kept while the socket lives (where the ring has them).
pub struct TcpSocket {
    /// The receive of a read dropped while it waited (see [`Read`]'s drop): the next read
    /// takes what it brings. Before `fd`: dropped first, its cancel is pushed before the close.
    parked: Cell<Option<Box<Recv<BytesMut>>>>,
    fd: RingFd,
    /// Its multishot receive, while one runs.
    stream: Cell<Option<StreamHandle>>,
    /// An answer on it was long (it needed [`TcpSocket::read_rest`]): its reads receive into
    /// their own buffers from then on, as the bytes of long bodies are best received where
    /// they go (through the pool they would be copied).
    long_answers: Cell<bool>,
    /// A send on its stream's block was left there in flight (its future dropped): the next
    /// asks the ring whether it has completed before it sends on the block.
    send_left: Cell<bool>,
}

impl Drop for TcpSocket {
    fn drop(&mut self) {
        // Before the close (pushed when `fd` drops): the stream's cancel names the socket.
        if let Some(stream) = self.stream.take() {
            uring::drop_stream(stream);
        }
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A socket address in the kernel's layout, boxed: the connect operation's entry points at it.
struct RawAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

fn raw_addr(addr: SocketAddr) -> Box<RawAddr> {
    // SAFETY: an all-zero sockaddr_storage is a valid value (family AF_UNSPEC).
    let mut raw = Box::new(RawAddr { storage: unsafe { std::mem::zeroed() }, len: 0 });
    match addr {
        SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(v4.ip().octets()) },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&raw mut raw.storage).cast::<libc::sockaddr_in>(), sin) };
            raw.len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        }
        SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr { s6_addr: v6.ip().octets() },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&raw mut raw.storage).cast::<libc::sockaddr_in6>(), sin6) };
            raw.len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        }
    }
    raw
}

impl TcpSocket {
    /// Opens a socket and connects it to `addr` through the ring, Nagle off.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpSocket> {
        let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
        // SAFETY: no pointers; a non-negative result is a new descriptor owned here alone.
        let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new descriptor, owned here alone.
        let socket = TcpSocket {
            parked: Cell::new(None),
            fd: unsafe { RingFd::registered(fd) },
            stream: Cell::new(None),
            long_answers: Cell::new(false),
            send_left: Cell::new(false),
        };
        let one: libc::c_int = 1;
        // SAFETY: `one` is a valid c_int for the call.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&raw const one).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        let op = Op::push_on(raw_addr(addr), socket.fd.fixed(), |raw| {
            opcode::Connect::new(types::Fd(fd), (&raw const raw.storage).cast(), raw.len).build()
        });
        let (result, _) = op.await;
        io_result(result)?;
        Ok(socket)
    }

    /// Sends `buf[from..]` once (as much as the socket takes); the buffer comes back.
    pub fn send<B: RingBuf>(&self, buf: B, from: usize) -> Send<B> {
        let fd = self.fd.as_raw_fd();
        let op = Op::push_on(buf, self.fd.fixed(), |buf| {
            let bytes = &buf.bytes()[from.min(buf.bytes().len())..];
            opcode::Send::new(types::Fd(fd), bytes.as_ptr(), bytes.len().min(u32::MAX as usize) as u32)
                .flags(libc::MSG_NOSIGNAL)
                .build()
        });
        Send { op }
    }

    /// Receives into the free room at the end of `buf` (its length grows by what came; 0 is the
    /// end of the stream).
    pub fn recv<B: RingBuf>(&self, buf: B) -> Recv<B> {
        self.recv_entry(buf, |entry| entry)
    }

    /// Receives the answer to what was just sent, as [`TcpSocket::recv`] does, but waits for the
    /// socket to be readable before the first try (pushed beside the send, the receive would
    /// otherwise find nothing at once on every request, and then wait).
    pub fn recv_answer<B: RingBuf>(&self, buf: B) -> Recv<B> {
        self.recv_entry(buf, poll_first)
    }

    /// A receive into the room at the end of `buf`, its entry finished by `finish`.
    #[inline(always)]
    fn recv_entry<B: RingBuf>(&self, buf: B, finish: fn(squeue::Entry) -> squeue::Entry) -> Recv<B> {
        let fd = self.fd.as_raw_fd();
        let op = Op::push_on(buf, self.fd.fixed(), |buf| {
            let room = buf.room();
            let len = room.len().min(u32::MAX as usize) as u32;
            finish(opcode::Recv::new(types::Fd(fd), room.as_mut_ptr().cast(), len).build())
        });
        Recv { op }
    }

    /// Receives as [`TcpSocket::recv`] does, cancellable through `cancel`: cancelled before
    /// data came, it ends with ECANCELED and consumes nothing; completed first, it returns its
    /// bytes. A handle already cancelled ends it at once (nothing is pushed).
    pub async fn recv_cancelable<B: RingBuf>(&self, buf: B, cancel: &CancelHandle) -> (io::Result<usize>, B) {
        if cancel.cancelled() {
            return (Err(io::Error::from_raw_os_error(libc::ECANCELED)), buf);
        }
        let recv = self.recv(buf);
        let _registered = recv.op.user_data().map(|user_data| cancel.register(user_data));
        recv.await
    }

    /// Reads what arrives next into `buf` (appended; 0 is the end of the stream): taken from
    /// the socket's multishot receive, started if none runs; where the ring has no provided
    /// buffers, or they ran out, a receive into the room at the end of `buf` as
    /// [`TcpSocket::recv_answer`] makes. Dropped, it loses nothing: what arrived, or what its
    /// receive brings, is the next read's. Use either these reads or [`TcpSocket::recv`] on a
    /// socket, not both.
    pub fn read(&self, buf: BytesMut) -> Read<'_> {
        Read::new(self, buf, None, false)
    }

    /// Reads the rest of a long answer: the socket's stream is stopped (IORING_OP_ASYNC_CANCEL)
    /// and what it took before the stop came is read first, in order; then a receive into the
    /// room at the end of `buf`. The bytes of a long body are received where
    /// they go instead of into the pool and copied out; the socket's later reads do the same.
    pub fn read_rest(&self, buf: BytesMut) -> Read<'_> {
        Read::new(self, buf, None, true)
    }

    /// Reads as [`TcpSocket::read`] does, cancellable through `cancel` as
    /// [`TcpSocket::recv_cancelable`] is: cancelled before bytes came, it ends with ECANCELED
    /// and takes nothing.
    pub fn read_cancelable<'a>(&'a self, buf: BytesMut, cancel: &'a CancelHandle) -> Read<'a> {
        Read::new(self, buf, Some(cancel), false)
    }

    /// Sends `wbuf` once (as [`TcpSocket::send`]) and reads its answer into `rbuf` (as
    /// [`TcpSocket::read`]), the send written in place on the socket's stream's block: no slot
    /// and no operation of its own, its completion's result written there and taken in the same
    /// look as the answer's bytes (none are taken before it: a future dropped loses none), and
    /// its completion wakes no one unless bytes wait for it (the answer wakes the task).
    /// The stream is started here when none runs; the send is pushed by the first poll, which
    /// keeps the task's waker on the block in the same look (a send the ring cannot take, its
    /// queue stuck, ends the future with that error). The buffers come back (`Err`) where the
    /// block cannot be used: no provided buffers, a socket whose reads receive into their own
    /// buffers, a parked receive, a send left on the block still in flight; the caller sends and
    /// reads apart. The send's count, once it has come, is told to `on_written` when the future
    /// is polled before the answer or dropped.
    /// (Inlined: built in place in the caller's future; the stream's start, once a
    /// connection, out of line.)
    #[inline(always)]
    pub fn send_and_read<'a>(
        &'a self,
        wbuf: BytesMut,
        rbuf: BytesMut,
        on_written: &'a dyn Fn(u64),
    ) -> Result<SendRead<'a>, (BytesMut, BytesMut)> {
        let stream = match self.stream.get() {
            Some(stream) => stream,
            None => match self.start_stream() {
                Some(stream) => stream,
                None => return Err((wbuf, rbuf)),
            },
        };
        if self.send_left.get() && !self.send_left_idle(stream) {
            return Err((wbuf, rbuf));
        }
        Ok(SendRead {
            read: Read::new(self, rbuf, None, false),
            stream,
            wbuf: Some(wbuf),
            pushed: false,
            sent: None,
            read_done: None,
            on_written,
        })
    }

    /// Starts the socket's multishot receive for [`TcpSocket::send_and_read`] where it can run
    /// (none parked, answers not long): once a connection.
    #[cold]
    #[inline(never)]
    fn start_stream(&self) -> Option<StreamHandle> {
        let parked = self.parked.take();
        let can_stream = parked.is_none() && !self.long_answers.get();
        self.parked.set(parked);
        let stream = can_stream.then(|| uring::arm_stream(self.fd.as_raw_fd(), self.fd.fixed())).flatten()?;
        self.stream.set(Some(stream));
        Some(stream)
    }

    /// Whether the send a dropped [`SendRead`] left on the stream's block has completed (its
    /// mark then cleared): the block is free for the next.
    #[cold]
    #[inline(never)]
    fn send_left_idle(&self, stream: StreamHandle) -> bool {
        let idle = uring::stream_send_idle(stream);
        if idle {
            self.send_left.set(false);
        }
        idle
    }

    /// Whether bytes, or the end of the stream, have arrived and wait for a read (what a peek
    /// at the socket no longer sees once the multishot receive has taken it).
    pub fn arrived(&self) -> bool {
        self.stream.get().is_some_and(uring::stream_arrived)
    }

    /// Ends when bytes, or the end of the stream, arrive in the socket's multishot receive
    /// (see [`TcpSocket::arrived`]); never while none runs (a wait for readiness sees what
    /// arrives then). Polled, it takes the place of a read's wait: not while a read waits.
    pub fn arrival(&self) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| match self.stream.get() {
            Some(stream) if uring::watch_stream(stream, cx.waker()) => Poll::Ready(()),
            _ => Poll::Pending,
        })
    }

    /// Whether a multishot receive runs on it (tests).
    #[cfg(test)]
    pub(super) fn streaming(&self) -> bool {
        self.stream.get().is_some()
    }

    /// Its place in the ring's table of files, if it has one (tests).
    #[cfg(test)]
    pub(super) fn fixed(&self) -> Option<super::files::FixedFile> {
        self.fd.fixed()
    }

    /// Waits until the socket is readable or writable (or has an error or hung up).
    pub async fn ready(&self) -> io::Result<()> {
        let events = (libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP) as u32;
        let op =
            Op::push_on((), self.fd.fixed(), |()| opcode::PollAdd::new(types::Fd(self.fd.as_raw_fd()), events).build());
        let (result, ()) = op.await;
        io_result(result).map(|_| ())
    }
}

/// A send in flight: the count sent, and the buffer back.
pub struct Send<B: RingBuf> {
    op: Op<B>,
}

impl<B: RingBuf> std::future::Future for Send<B> {
    type Output = (io::Result<usize>, B);

    #[inline]
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.get_mut().op).poll(cx).map(|(result, buf)| (io_result(result), buf))
    }
}

/// A receive in flight: the count received, and the buffer back with them appended.
pub struct Recv<B: RingBuf> {
    op: Op<B>,
}

impl<B: RingBuf> std::future::Future for Recv<B> {
    type Output = (io::Result<usize>, B);

    #[inline]
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.get_mut().op).poll(cx).map(|(result, mut buf)| {
            let read = io_result(result);
            if let Ok(n) = read {
                // SAFETY: the kernel wrote `n` bytes at the start of the room.
                unsafe { buf.grow(n) };
            }
            (read, buf)
        })
    }
}

/// A read of what arrives next on a socket ([`TcpSocket::read`]). Kept small: every request's
/// future holds one.
pub struct Read<'a> {
    socket: &'a TcpSocket,
    state: ReadState,
    cancel: Option<&'a CancelHandle>,
    /// The user data of the wait registered with `cancel` (`cancel::NOT_WAITING`: none).
    registered: u64,
    /// The rest of a long answer ([`TcpSocket::read_rest`]): the stream is stopped, what it
    /// took is read, and then the read receives into its own buffer.
    rest: bool,
    /// The stream's stop was asked for.
    stopping: bool,
}

/// Where a read's buffer is.
enum ReadState {
    /// With the reader, while the read takes from the stream.
    Stream(BytesMut),
    /// In a receive into the reader's own buffer (no provided buffers, or they ran out).
    Own(Recv<BytesMut>),
    /// Taking the bytes of the receive a dropped read left (see [`Read`]'s drop): they are
    /// copied to the reader's buffer, the second.
    Parked(Box<Recv<BytesMut>>, BytesMut),
    /// Given back with the result.
    Returned,
}

impl<'a> Read<'a> {
    fn new(socket: &'a TcpSocket, buf: BytesMut, cancel: Option<&'a CancelHandle>, rest: bool) -> Read<'a> {
        Read { socket, state: ReadState::Stream(buf), cancel, registered: NOT_WAITING, rest, stopping: false }
    }

    /// Registers the wait of `user_data` with the read's canceller (once).
    fn register(&mut self, user_data: u64) {
        if let Some(cancel) = self.cancel
            && self.registered == NOT_WAITING
        {
            cancel.set_waiting(user_data);
            self.registered = user_data;
        }
    }

    fn unregister(&mut self) {
        if let Some(cancel) = self.cancel
            && self.registered != NOT_WAITING
        {
            cancel.unset_waiting(std::mem::replace(&mut self.registered, NOT_WAITING));
        }
    }

    /// Receives into the reader's own buffer instead of taking from the stream.
    fn receive_own(&mut self, cx: &mut Context<'_>) -> Poll<(io::Result<usize>, BytesMut)> {
        self.unregister();
        let ReadState::Stream(mut buf) = std::mem::replace(&mut self.state, ReadState::Returned) else {
            panic!("a read polled after it returned")
        };
        if buf.capacity() - buf.len() < super::bufs::PROVIDED_BUF_BYTES / 4 {
            buf.reserve(super::bufs::PROVIDED_BUF_BYTES);
        }
        if self.cancel.is_some_and(CancelHandle::cancelled) {
            return Poll::Ready((Err(io::Error::from_raw_os_error(libc::ECANCELED)), buf));
        }
        let recv = if self.rest { self.socket.recv(buf) } else { self.socket.recv_answer(buf) };
        if let Some(user_data) = recv.op.user_data() {
            self.register(user_data);
        }
        self.state = ReadState::Own(recv);
        self.poll_own(cx)
    }

    fn poll_own(&mut self, cx: &mut Context<'_>) -> Poll<(io::Result<usize>, BytesMut)> {
        let ReadState::Own(own) = &mut self.state else { panic!("a read polled after it returned") };
        let done = std::task::ready!(Pin::new(own).poll(cx));
        self.state = ReadState::Returned;
        self.unregister();
        Poll::Ready(done)
    }

    /// The buffer back with the read's result.
    fn give(&mut self, result: io::Result<usize>) -> Poll<(io::Result<usize>, BytesMut)> {
        self.unregister();
        let ReadState::Stream(buf) = std::mem::replace(&mut self.state, ReadState::Returned) else {
            panic!("a read polled after it returned")
        };
        Poll::Ready((result, buf))
    }
}

/// A read dropped while its own receive waits leaves that receive to its socket instead of
/// cancelling it (a receive cancelled after it took bytes would lose them): the socket's next
/// read takes what it brings. A read of the stream loses nothing either: what arrives waits
/// in the stream.
impl Drop for Read<'_> {
    #[inline]
    fn drop(&mut self) {
        self.unregister();
        if matches!(self.state, ReadState::Own(_) | ReadState::Parked(..)) {
            self.park();
        }
    }
}

impl Read<'_> {
    /// Leaves the read's receive, still waiting, to its socket.
    #[cold]
    fn park(&mut self) {
        match std::mem::replace(&mut self.state, ReadState::Returned) {
            ReadState::Own(recv) => self.socket.parked.set(Some(Box::new(recv))),
            ReadState::Parked(recv, _) => self.socket.parked.set(Some(recv)),
            ReadState::Stream(_) | ReadState::Returned => {}
        }
    }

    /// Takes on the receive a dropped read left on the socket, if there is one (`None`: there
    /// is not): its bytes are this read's. Cancelled already, the read ends with ECANCELED and
    /// leaves it parked.
    fn resume_parked(&mut self, cx: &mut Context<'_>) -> Option<Poll<(io::Result<usize>, BytesMut)>> {
        let recv = self.socket.parked.take()?;
        if self.cancel.is_some_and(CancelHandle::cancelled) {
            self.socket.parked.set(Some(recv));
            return Some(self.give(Err(io::Error::from_raw_os_error(libc::ECANCELED))));
        }
        let ReadState::Stream(buf) = std::mem::replace(&mut self.state, ReadState::Returned) else {
            panic!("a read polled after it returned")
        };
        if let Some(user_data) = recv.op.user_data() {
            self.register(user_data);
        }
        self.state = ReadState::Parked(recv, buf);
        Some(self.poll_parked(cx))
    }

    /// Polls a read waiting for a receive of its own or a parked one.
    #[cold]
    #[inline(never)]
    fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<(io::Result<usize>, BytesMut)> {
        match self.state {
            ReadState::Parked(..) => self.poll_parked(cx),
            _ => self.poll_own(cx),
        }
    }

    /// Waits for the parked receive; its bytes are appended to the reader's buffer.
    fn poll_parked(&mut self, cx: &mut Context<'_>) -> Poll<(io::Result<usize>, BytesMut)> {
        let ReadState::Parked(recv, _) = &mut self.state else { panic!("a read polled after it returned") };
        let (read, taken) = std::task::ready!(Pin::new(&mut **recv).poll(cx));
        let ReadState::Parked(_, mut buf) = std::mem::replace(&mut self.state, ReadState::Returned) else {
            unreachable!("parked")
        };
        self.unregister();
        if let Ok(n) = read {
            buf.extend_from_slice(&taken[taken.len() - n..]);
        }
        Poll::Ready((read, buf))
    }
}

impl std::future::Future for Read<'_> {
    type Output = (io::Result<usize>, BytesMut);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().poll_read(cx, None)
    }
}

impl Read<'_> {
    /// Polls the read; `sent`: the result of the send on the socket's stream's block beside it
    /// ([`TcpSocket::send_and_read`]), taken into it in the same look at the stream when it has
    /// come; nothing is taken from the stream before it.
    #[inline(always)]
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        mut sent: Option<&mut Option<i32>>,
    ) -> Poll<(io::Result<usize>, BytesMut)> {
        let this = self;
        if !matches!(this.state, ReadState::Stream(_)) {
            return this.poll_receive(cx);
        }
        loop {
            if this.rest {
                this.socket.long_answers.set(true);
            }
            let stream = match this.socket.stream.get() {
                Some(stream) => stream,
                None => {
                    // Before a stream is started: one receive at a time on a socket.
                    if let Some(done) = this.resume_parked(cx) {
                        return done;
                    }
                    if this.socket.long_answers.get() {
                        return this.receive_own(cx);
                    }
                    match uring::arm_stream(this.socket.as_raw_fd(), this.socket.fd.fixed()) {
                        Some(stream) => {
                            this.socket.stream.set(Some(stream));
                            stream
                        }
                        None => return this.receive_own(cx),
                    }
                }
            };
            if this.rest && !std::mem::replace(&mut this.stopping, true) {
                // At once: what comes while the reader takes what the stream took first goes
                // to the pool (and is copied) until the stop is taken.
                uring::stop_stream(stream);
            }
            let ReadState::Stream(buf) = &mut this.state else { panic!("a read polled after it returned") };
            let taken = uring::take_stream(stream, buf, cx.waker(), sent.as_deref_mut());
            if !matches!(taken, Taken::Pending | Taken::Bytes { ended: false, .. }) {
                this.socket.stream.set(None);
            }
            return match taken {
                Taken::Bytes { n, .. } => this.give(Ok(n)),
                Taken::Closed => this.give(Ok(0)),
                // Stopped (see `rest`), or a stop of a read dropped before it saw it: the
                // bytes after it wait in the socket.
                Taken::Failed(libc::ECANCELED) => continue,
                Taken::Failed(errno) => this.give(Err(io::Error::from_raw_os_error(errno))),
                Taken::RingEnded => this.give(Err(io::Error::from_raw_os_error(libc::ECANCELED))),
                Taken::NoBuffers => this.receive_own(cx),
                Taken::Pending if this.rest => Poll::Pending,
                Taken::Pending if this.cancel.is_some_and(CancelHandle::cancelled) => {
                    this.give(Err(io::Error::from_raw_os_error(libc::ECANCELED)))
                }
                Taken::Pending => {
                    this.register(stream.user_data());
                    Poll::Pending
                }
            };
        }
    }
}

/// A send and the read of its answer on one socket's stream's block
/// ([`TcpSocket::send_and_read`]): the send's count and buffer, then the read's.
pub struct SendRead<'a> {
    read: Read<'a>,
    /// The stream whose block the send is written on.
    stream: StreamHandle,
    /// The send's buffer, until it is returned (the kernel reads it until the send's result).
    wbuf: Option<BytesMut>,
    /// The send was pushed (by the first poll, which keeps the waker in the same look).
    pushed: bool,
    /// The send's result, once taken from the block.
    sent: Option<i32>,
    /// The read's, when it returned before the send's result (rare: a read that receives into
    /// its own buffer, an ended ring), boxed so that every request's future stays small.
    read_done: Option<Box<(io::Result<usize>, BytesMut)>>,
    on_written: &'a dyn Fn(u64),
}

impl std::future::Future for SendRead<'_> {
    type Output = ((io::Result<usize>, BytesMut), (io::Result<usize>, BytesMut));

    /// (Inlined: polled in one place on a request's path, `Transport::together`'s future.)
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if !this.pushed {
            return this.push(cx);
        }
        let read = match this.read_done.take() {
            Some(read) => *read,
            None => match this.read.poll_read(cx, Some(&mut this.sent)) {
                Poll::Ready(read) => read,
                Poll::Pending => {
                    // Polled before its answer (a run's stop polls every journey once more):
                    // what the send wrote is told.
                    if let Some(Ok(written)) = this.sent.map(io_result) {
                        (this.on_written)(written as u64);
                    }
                    return Poll::Pending;
                }
            },
        };
        let sent = match this.sent.take() {
            Some(sent) => sent,
            None => match uring::poll_stream_send(this.stream, cx.waker()) {
                Poll::Ready(sent) => sent,
                Poll::Pending => return this.keep_read(read),
            },
        };
        let wbuf = this.wbuf.take().expect("a send returns its buffer once");
        Poll::Ready(((io_result(sent), wbuf), read))
    }
}

/// Dropped before its send's result was taken (a journey test interrupted), the send's buffer
/// is left to the block until its completion, or its count, come already, is told.
impl Drop for SendRead<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(wbuf) = self.wbuf.take() {
            self.leave(wbuf);
        }
    }
}

impl SendRead<'_> {
    /// The first poll: pushes the send, keeping the waker as the stream's reader's in the same
    /// look (nothing can have come for the send yet). A send the ring could not take ends the
    /// future at once with its error, the read with it (nothing was asked).
    #[inline(always)]
    fn push(&mut self, cx: &mut Context<'_>) -> Poll<<Self as std::future::Future>::Output> {
        self.pushed = true;
        let socket = self.read.socket;
        let bytes = self.wbuf.as_ref().expect("a send holds its buffer until it returns").bytes();
        match uring::push_stream_send(self.stream, socket.fd.as_raw_fd(), socket.fd.fixed(), bytes, cx.waker()) {
            Ok(()) => Poll::Pending,
            Err(result) => self.unpushed(result),
        }
    }

    /// Keeps the read's result while the send's is awaited.
    #[cold]
    #[inline(never)]
    fn keep_read(&mut self, read: (io::Result<usize>, BytesMut)) -> Poll<<Self as std::future::Future>::Output> {
        self.read_done = Some(Box::new(read));
        Poll::Pending
    }

    /// A send the ring did not take: its error, and the read's.
    #[cold]
    #[inline(never)]
    fn unpushed(&mut self, result: i32) -> Poll<<Self as std::future::Future>::Output> {
        let wbuf = self.wbuf.take().expect("a send holds its buffer until it returns");
        let rbuf = match std::mem::replace(&mut self.read.state, ReadState::Returned) {
            ReadState::Stream(rbuf) => rbuf,
            _ => unreachable!("a read not yet polled takes from the stream"),
        };
        Poll::Ready(((io_result(result), wbuf), (io_result(result), rbuf)))
    }

    #[cold]
    #[inline(never)]
    fn leave(&mut self, wbuf: BytesMut) {
        if !self.pushed {
            return;
        }
        let sent = match self.sent.take() {
            Some(sent) => Some(sent),
            None => {
                let sent = uring::leave_stream_send(self.stream, wbuf);
                if sent.is_none() {
                    self.read.socket.send_left.set(true);
                }
                sent
            }
        };
        if let Some(Ok(written)) = sent.map(io_result) {
            (self.on_written)(written as u64);
        }
    }
}
