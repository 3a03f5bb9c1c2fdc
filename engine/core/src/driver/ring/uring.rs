//! The own runtime's ring: one io_uring per core thread, the slots its operations wait in,
//! and the operation future. An operation owns what the kernel reads or writes (a buffer, an
//! address) until its completion arrives: dropped before then, it leaves that to its slot
//! (freed with the completion) and asks the kernel to cancel it.
//!
//! An operation's user data names its slot and that use of the slot (a tag, never reused on
//! the thread), and the operation keeps its ring's generation: an operation of a runtime that
//! has ended never reads, frees or wakes the slots of the next ring built on its thread, and a
//! cancel that reaches the kernel late never ends the slot's next operation.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use io_uring::{IoUring, cqueue, squeue, types};

use super::bufs::{BUF_GROUP, ProvidedBufs};
use super::files::{FIXED_FILES_PER_CORE_MAX, FileTable, FixedFile};

/// The tag of the ring's own operations' user data (an operation's tag is never this): the
/// three below, and the close of a registered file's place (its index as the slot).
const RING_TAG: u32 = u32::MAX;
/// Completions whose result nobody waits for (cancels, closes).
const IGNORED: u64 = u64::MAX;
/// The read of the executor's eventfd (other threads' wakes), kept in flight.
const WOKEN_FROM_AFAR: u64 = u64::MAX - 1;
/// `io_uring_enter`'s flag to run completions (deferred task work included).
const ENTER_GETEVENTS: u32 = 1;
/// `io_uring_enter`'s flag: the ring is named by its registered index, not its descriptor.
const ENTER_REGISTERED_RING: u32 = 1 << 4;
/// `io_uring_register`'s opcodes that register and unregister a ring's own descriptor with
/// the calling thread (Linux 5.18; io-uring 0.6 has no call for them).
const IORING_REGISTER_RING_FDS: libc::c_uint = 20;
const IORING_UNREGISTER_RING_FDS: libc::c_uint = 21;
/// Submissions a push tries when the submission queue is full (taking the completions that
/// arrived between them) before it gives up: the kernel takes a full queue at the first
/// submission unless something is wrong with the ring.
const SUBMIT_TRIES_WHEN_FULL: u32 = 32;
/// Turns in a row whose `io_uring_enter` failed for good (not EINTR, EAGAIN, EBUSY or ETIME)
/// before the core gives up on its ring: without the kernel nothing completes, no timer rings,
/// and the run would spin for ever instead of ending.
const ENTERS_FAILED_MAX: u32 = 1_000;
/// How long the end of a runtime waits for the kernel to finish the operations it cancelled
/// before it gives up on them (and leaks what they may still write into).
const END_WAIT: Duration = Duration::from_secs(2);
/// One wait in the kernel while the runtime ends (the deadline is looked at between them).
const END_WAIT_SLICE_NS: u32 = 20_000_000;
/// A send's or a receive's flag (in its entry's `ioprio`): wait for the socket to be ready
/// before the first try (Linux's `io_uring.h`; io-uring 0.6 keeps its copy private).
pub(super) const IORING_RECVSEND_POLL_FIRST: u16 = 1;
/// A receive's flag (in `ioprio`): multishot (io-uring 0.6 keeps its copy private).
const IORING_RECV_MULTISHOT: u16 = 2;
/// The result of an operation the ring could not take (its queue stayed full): below every
/// errno, told apart by [`io_result`].
pub(super) const QUEUE_STUCK: i32 = i32::MIN;

/// The kernel took no entry of a full submission queue in [`SUBMIT_TRIES_WHEN_FULL`] tries.
#[derive(Debug)]
pub(super) struct QueueStuck;

impl std::fmt::Display for QueueStuck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the own driver's io_uring submission queue on this core stayed full: the kernel took \
             no entry in {SUBMIT_TRIES_WHEN_FULL} submissions"
        )
    }
}

impl std::error::Error for QueueStuck {}

/// Where an operation stands.
enum Slot {
    /// Free; the next free slot's index.
    Free(u32),
    /// In flight (this use of the slot is `tag`); the waker of the task that waits for it.
    Waiting { tag: u32, waker: Option<Waker> },
    /// Completed with this result; not yet taken.
    Done(i32),
    /// Its future was dropped in flight: what the kernel may still use, freed on completion.
    Orphan {
        tag: u32,
        #[allow(dead_code, reason = "held, never read: kept alive for the kernel")]
        owned: Box<dyn Any>,
    },
    /// A socket's multishot receive: many completions, until one without IORING_CQE_F_MORE.
    Stream(Box<Stream>),
}

/// A multishot receive's completions, into the ring's provided buffers, and the socket's send
/// written in place beside them (see [`push_stream_send`]): a connection's I/O in one block.
struct Stream {
    tag: u32,
    /// The reader waiting for the next completion (and the sender, once its read returned).
    waker: Option<Waker>,
    /// Completions arrived and not yet taken: result and flags (the buffer's id in them).
    arrived: VecDeque<(i32, u32)>,
    /// Its socket was dropped: the completions still to come give their buffers back, the last
    /// one frees the slot.
    orphan: bool,
    /// Its last completion was taken (or given back, orphaned): the slot stays only for the
    /// send in flight, and is freed with that send's result.
    over: bool,
    /// The socket's send on this block.
    send: StreamSend,
}

/// Where a socket's send written on its stream's block stands.
enum StreamSend {
    /// None in flight.
    Idle,
    /// In flight; `wake`: its completion wakes the stream's waker (its sender waits for it,
    /// the read beside it having returned), else it wakes no one.
    InFlight { wake: bool },
    /// Completed with this result, not yet taken.
    Done(i32),
    /// Its future was dropped in flight: the buffer the kernel may still read, freed with its
    /// completion.
    Orphan(#[allow(dead_code, reason = "held, never read: kept alive for the kernel")] Box<dyn Any>),
}

impl Stream {
    /// Whether its last completion has arrived (it is among those not yet taken).
    fn ended(&self) -> bool {
        self.arrived.back().is_some_and(|&(_, flags)| !cqueue::more(flags))
    }

    /// The result of the send on the block, taken, when it has come.
    #[inline(always)]
    fn take_sent(&mut self) -> Option<i32> {
        match self.send {
            StreamSend::Done(result) => {
                self.send = StreamSend::Idle;
                Some(result)
            }
            _ => None,
        }
    }
}

/// A socket's multishot receive, from the socket's side: the ring it runs on, and its user data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct StreamHandle {
    generation: u32,
    user_data: u64,
}

impl StreamHandle {
    /// Its user data (what a cancel names).
    pub(super) fn user_data(self) -> u64 {
        self.user_data
    }
}

/// What a reader found in its socket's stream.
pub(super) enum Taken {
    /// Bytes appended to its buffer; `ended`: the stream's last completion was among them.
    Bytes { n: usize, ended: bool },
    /// The peer closed (0): the stream has ended.
    Closed,
    /// The pool had no buffer for what arrived: the stream has ended, the bytes wait in the
    /// socket for a receive into the reader's own buffer.
    NoBuffers,
    /// The receive failed with this errno: the stream has ended.
    Failed(i32),
    /// Nothing yet: the reader's waker is kept.
    Pending,
    /// The stream's ring has ended (its runtime cancelled it).
    RingEnded,
}

/// A core's ring and its operations' slots.
pub(super) struct Ring {
    ring: IoUring,
    /// Told apart from the thread's earlier and later rings (see [`NEXT`]).
    generation: u32,
    /// The tag of the next use of a slot.
    next_tag: u32,
    slots: Vec<Slot>,
    free: u32,
    /// Operations pushed whose completion has not arrived (orphans, cancels and closes included).
    in_flight: usize,
    /// Wakers of completed operations, woken outside the ring's borrow (reused).
    woken: Vec<Waker>,
    /// The executor's eventfd, the 8 bytes its read takes, and whether that read is in flight.
    afar: Afar,
    /// Entries nobody waits for (cancels, closes) that found the queue stuck: pushed first at
    /// the next turn, in order (a close pushed late still comes after the operations naming
    /// its descriptor, which were pushed before it).
    deferred: Vec<squeue::Entry>,
    /// Turns in a row whose enter failed for good (see [`ENTERS_FAILED_MAX`]).
    enters_failed: u32,
    /// The places of the ring's table of registered files.
    files: FileTable,
    /// The ring's own descriptor's index among this thread's registered rings, when it has one:
    /// an enter naming it takes no reference to the ring's file.
    registered: Option<u32>,
    /// The buffers the kernel fills for the sockets' multishot receives, when it has them.
    bufs: Option<ProvidedBufs>,
}

/// The kernel's `io_uring_rsrc_update`: a registered ring's index and descriptor.
#[repr(C)]
struct RsrcUpdate {
    offset: u32,
    resv: u32,
    data: u64,
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
    /// The generation of this thread's next ring, and the tag its first slot use takes: both
    /// go on from ring to ring, so that no operation of an ended ring matches one of the next
    /// (until 2^32 rings, or slot uses, on one thread).
    static NEXT: Cell<(u32, u32)> = const { Cell::new((0, 0)) };
    /// Generations of this thread's rings that ended with operations the kernel had not
    /// finished: what those operations own is leaked, never freed.
    static ABANDONED: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    /// Whether this thread's ring takes IORING_RECVSEND_POLL_FIRST on a receive: a deferred
    /// ring (DEFER_TASKRUN, Linux 6.1) is on a kernel that knows it (5.19).
    static RECV_POLL_FIRST: Cell<bool> = const { Cell::new(false) };
}

#[cfg(test)]
thread_local! {
    /// Errors the next submissions of a full queue get instead of the kernel's answer (tests).
    pub(super) static REFUSED_SUBMITS: Cell<u32> = const { Cell::new(0) };
    /// Errnos the next waits of an ending ring get instead of waiting (tests).
    pub(super) static END_WAIT_ERRORS: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
    /// Errnos the next enters of a turn get instead of the kernel's answer (tests).
    pub(super) static REFUSED_ENTERS: Cell<(u32, i32)> = const { Cell::new((0, 0)) };
    /// Completions reaped on this thread (tests).
    pub(super) static REAPED: Cell<u64> = const { Cell::new(0) };
    /// The size of the table of files the next ring on this thread registers (tests).
    pub(super) static FILE_TABLE_SIZE: Cell<Option<u32>> = const { Cell::new(None) };
}

/// An operation's user data: the use of the slot, then the slot.
#[inline(always)]
fn user_data(tag: u32, index: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(index)
}

/// The slot a user data names.
#[inline(always)]
fn index_of(user_data: u64) -> usize {
    (user_data as u32 & !SEND_OF_STREAM) as usize
}

/// The bit of a user data's slot half that says the entry is the send on a stream's block
/// (the slot named is the stream's; slots never number 2^31).
const SEND_OF_STREAM: u32 = 1 << 31;

/// Whether a user data names the send on a stream's block.
#[inline(always)]
fn is_stream_send(user_data: u64) -> bool {
    user_data as u32 & SEND_OF_STREAM != 0
}

/// The use of the slot a user data names.
#[inline(always)]
fn tag_of(user_data: u64) -> u32 {
    (user_data >> 32) as u32
}

/// Whether an `io_uring_enter` failed only for now (a signal, completions to take first, a
/// timed wait's end): it is entered again, where any other error means the ring is refused.
fn cut_short(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EINTR | libc::EAGAIN | libc::EBUSY | libc::ETIME))
}

/// Whether the thread's ring of `generation` ended with operations the kernel had not finished
/// (or that cannot be known any more: the thread is ending).
fn abandoned(generation: u32) -> bool {
    ABANDONED.try_with(|abandoned| abandoned.borrow().contains(&generation)).unwrap_or(true)
}

/// Builds this thread's ring: SINGLE_ISSUER + DEFER_TASKRUN + COOP_TASKRUN when `deferred`;
/// it keeps a read of `afar` (the executor's eventfd) in flight, so that a wait in the kernel
/// ends when another thread wakes one of this core's tasks.
pub(super) fn install(entries: u32, deferred: bool, afar: RawFd) -> io::Result<()> {
    let mut builder = IoUring::builder();
    if deferred {
        builder.setup_single_issuer().setup_defer_taskrun().setup_coop_taskrun();
    }
    let ring = builder.build(entries)?;
    let files = file_table(&ring);
    let registered = register_ring(&ring);
    let bufs = ProvidedBufs::register(&ring);
    RECV_POLL_FIRST.set(deferred);
    let (generation, next_tag) = NEXT.get();
    NEXT.set((generation.wrapping_add(1), next_tag));
    RING.with(|slot| {
        let afar = Afar { fd: afar, count: Box::new(0), in_flight: false, broken: false };
        let mut ring = Ring {
            ring,
            generation,
            next_tag,
            slots: Vec::new(),
            free: NO_SLOT,
            in_flight: 0,
            woken: Vec::with_capacity(64),
            afar,
            deferred: Vec::new(),
            enters_failed: 0,
            files,
            registered,
            bufs,
        };
        ring.listen_afar();
        *slot.borrow_mut() = Some(ring);
    });
    Ok(())
}

/// Registers a sparse table of files on `ring`: as many places as the process may open files,
/// up to [`FIXED_FILES_PER_CORE_MAX`]. A kernel without sparse tables (before 5.19), or one
/// that refuses the size, leaves the ring without one: its sockets are named by descriptor.
fn file_table(ring: &IoUring) -> FileTable {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limit` is a valid rlimit for the call to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } != 0 {
        return FileTable::new(0);
    }
    let size = limit.rlim_cur.min(u64::from(FIXED_FILES_PER_CORE_MAX)) as u32;
    #[cfg(test)]
    let size = FILE_TABLE_SIZE.get().unwrap_or(size);
    match ring.submitter().register_files_sparse(size) {
        Ok(()) => FileTable::new(size),
        Err(_) => FileTable::new(0),
    }
}

/// Registers the ring's own descriptor with this thread (`IORING_REGISTER_RING_FDS`): its
/// index, or `None` on a kernel before 5.18 (its enters name the descriptor).
fn register_ring(ring: &IoUring) -> Option<u32> {
    use std::os::fd::AsRawFd;
    let mut update = RsrcUpdate { offset: u32::MAX, resv: 0, data: ring.as_raw_fd() as u64 };
    // SAFETY: one valid `io_uring_rsrc_update` for the kernel to read (offset -1: any free
    // index) and fill with the index it chose.
    let registered = unsafe {
        libc::syscall(libc::SYS_io_uring_register, ring.as_raw_fd(), IORING_REGISTER_RING_FDS, &raw mut update, 1)
    };
    (registered == 1).then_some(update.offset)
}

/// Registers `fd` in this thread's ring's table of files: its place, or `None` (no ring, no
/// table, every place taken, or the kernel refused it: the socket is named by descriptor).
pub(super) fn register_file(fd: RawFd) -> Option<FixedFile> {
    RING.with(|slot| {
        let mut guard = slot.borrow_mut();
        let ring = guard.as_mut()?;
        let index = ring.files.take()?;
        match ring.ring.submitter().register_files_update(index, &[fd]) {
            Ok(1) => Some(FixedFile { index, generation: ring.generation }),
            _ => {
                ring.files.give_back(index);
                None
            }
        }
    })
}

/// Closes `file`'s place in its ring's table, after every entry pushed before (the place is
/// free again when the kernel has answered). Nothing to do once that ring has ended: its table
/// went with it.
pub(super) fn close_fixed(file: FixedFile) {
    let _ = RING.try_with(|slot| {
        let mut guard = slot.borrow_mut();
        let Some(ring) = guard.as_mut().filter(|ring| ring.generation == file.generation) else { return };
        let close = io_uring::opcode::Close::new(types::Fixed(file.index)).build();
        ring.push_unwatched(close.user_data(user_data(RING_TAG, file.index)));
    });
}

/// An entry built on a socket's descriptor, made to name the socket's place in the ring's
/// table of files instead (as the entry built on `types::Fixed(index)` would).
#[inline(always)]
pub(super) fn on_fixed(mut entry: squeue::Entry, index: u32) -> squeue::Entry {
    // SAFETY: `squeue::Entry` is `repr(C)` around the kernel's `io_uring_sqe`, whose fourth
    // field, after two `u8`s and a `u16`, is the `i32` fd (the kernel's ABI): bytes 4 to 7.
    unsafe { (&raw mut entry).cast::<u8>().add(4).cast::<i32>().write_unaligned(index as i32) };
    entry.flags(squeue::Flags::FIXED_FILE)
}

/// Places taken in this thread's ring's table of files, and whether it has a table (tests).
#[cfg(test)]
pub(super) fn files_taken() -> (u32, bool) {
    RING.with(|slot| slot.borrow().as_ref().map_or((0, false), |ring| (ring.files.taken(), ring.files.has_places())))
}

/// Buffers of this thread's ring's pool that completions named and that were not given back,
/// and whether it has a pool (tests).
#[cfg(test)]
pub(super) fn bufs_out() -> (u32, bool) {
    RING.with(|slot| {
        slot.borrow().as_ref().and_then(|ring| ring.bufs.as_ref()).map_or((0, false), |bufs| (bufs.out, true))
    })
}

/// Whether this thread's ring is registered with it (its enters name it by index) (tests).
#[cfg(test)]
pub(super) fn ring_registered() -> bool {
    RING.with(|slot| slot.borrow().as_ref().is_some_and(|ring| ring.registered.is_some()))
}

/// Whether this thread's ring defers its task work (a kernel of 6.1 or later) (tests).
#[cfg(test)]
pub(super) fn deferred() -> bool {
    RECV_POLL_FIRST.get()
}

/// A receive's entry that skips its first attempt when the ring allows it
/// (IORING_RECVSEND_POLL_FIRST): the kernel waits for the socket to be readable before it
/// receives, instead of trying at once, finding nothing and then waiting. For a receive pushed
/// beside the request it answers, which can find nothing at once.
pub(super) fn poll_first(entry: squeue::Entry) -> squeue::Entry {
    if !RECV_POLL_FIRST.get() {
        return entry;
    }
    set_ioprio(entry, IORING_RECVSEND_POLL_FIRST)
}

/// Sets an entry's `ioprio` field, where a send or a receive takes its own flags (io-uring
/// 0.6's `Recv` has no setter for it).
#[inline(always)]
pub(super) fn set_ioprio(mut entry: squeue::Entry, ioprio: u16) -> squeue::Entry {
    // SAFETY: `squeue::Entry` is `repr(C)` around the kernel's `io_uring_sqe`, whose third
    // field, after two `u8`s, is the `u16` ioprio (the kernel's ABI): bytes 2 and 3.
    unsafe { (&raw mut entry).cast::<u8>().add(2).cast::<u16>().write_unaligned(ioprio) };
    entry
}

/// Whether this thread has a ring (its own runtime is running).
pub(super) fn installed() -> bool {
    RING.with(|slot| slot.borrow().is_some())
}

/// Ends this thread's ring (see [`Ring::end`]).
pub(super) fn uninstall() {
    let ring = RING.with(|slot| slot.borrow_mut().take());
    drop(ring);
}

/// Slots of this thread's ring in use: operations, streams' blocks (tests).
#[cfg(test)]
pub(super) fn slots_in_use() -> usize {
    RING.with(|slot| {
        slot.borrow().as_ref().map_or(0, |ring| ring.slots.iter().filter(|slot| !matches!(slot, Slot::Free(_))).count())
    })
}

/// Operations in flight on this thread's ring (tests).
#[cfg(test)]
pub(super) fn in_flight() -> usize {
    RING.with(|slot| slot.borrow().as_ref().map_or(0, |ring| ring.in_flight))
}

impl Drop for Ring {
    fn drop(&mut self) {
        self.end();
        if let Some(index) = self.registered {
            // The thread's registration holds the ring open (and with it the sockets in its
            // table) until it is taken back or the thread ends.
            let mut update = RsrcUpdate { offset: index, resv: 0, data: 0 };
            // SAFETY: one valid `io_uring_rsrc_update` for the kernel to read.
            let _ = unsafe {
                libc::syscall(
                    libc::SYS_io_uring_register,
                    std::os::fd::AsRawFd::as_raw_fd(&self.ring),
                    IORING_UNREGISTER_RING_FDS,
                    &raw mut update,
                    1,
                )
            };
        }
        let next_tag = self.next_tag;
        let _ = NEXT.try_with(|next| next.set((next.get().0, next_tag)));
    }
}

impl Ring {
    /// Pushes what was deferred, cancels what is in flight and waits for every completion (the
    /// kernel is done with every buffer then), up to [`END_WAIT`]. A wait cut short by a signal
    /// is waited again: freed while the kernel may still write into them, the buffers of the
    /// operations in flight would be a use after free. When it gives up (the deadline, or a
    /// ring that refuses to wait), it leaks what those operations own instead of freeing it.
    fn end(&mut self) {
        self.push_deferred();
        let mut in_flight = Vec::new();
        for (index, slot) in self.slots.iter().enumerate() {
            match slot {
                Slot::Waiting { tag, .. } | Slot::Orphan { tag, .. } => in_flight.push(user_data(*tag, index as u32)),
                Slot::Stream(stream) => {
                    if !stream.over {
                        in_flight.push(user_data(stream.tag, index as u32));
                    }
                    // Its send still in flight (a socket the peer takes nothing from).
                    if matches!(stream.send, StreamSend::InFlight { .. } | StreamSend::Orphan(_)) {
                        in_flight.push(user_data(stream.tag, index as u32 | SEND_OF_STREAM));
                    }
                }
                Slot::Free(_) | Slot::Done(_) => {}
            }
        }
        for target in in_flight {
            self.push_ignored(io_uring::opcode::AsyncCancel::new(target).build());
        }
        if self.afar.in_flight {
            self.push_ignored(io_uring::opcode::AsyncCancel::new(WOKEN_FROM_AFAR).build());
        }
        self.push_deferred();
        let deadline = Instant::now() + END_WAIT;
        let slice = types::Timespec::new().nsec(END_WAIT_SLICE_NS);
        let timed = self.ring.params().is_feature_ext_arg();
        while self.in_flight > 0 && Instant::now() < deadline {
            // Cancels and closes that found the queue stuck: the wait before handed it over.
            self.push_deferred();
            let waited = self.wait_to_end(timed, &slice);
            if let Err(err) = waited
                && !cut_short(&err)
            {
                break;
            }
            self.reap();
            self.woken.clear();
        }
        if self.in_flight > 0 {
            self.abandon();
        }
        self.close_deferred();
    }

    /// Closes directly the descriptors whose close through the ring never left
    /// [`Ring::deferred`] (the queue stayed stuck to the end): safe now, as the kernel takes
    /// entries only when this thread enters, and it does not again. Other deferred entries
    /// (cancels, closes of places in the table, which goes with the ring) are dropped.
    fn close_deferred(&mut self) {
        for entry in self.deferred.drain(..) {
            if let Some(fd) = descriptor_closed(&entry) {
                // SAFETY: the descriptor's owner gave it to this close, its only one.
                unsafe { libc::close(fd) };
            }
        }
    }

    /// One wait of [`Ring::end`]: for a completion, up to `slice` (polled every millisecond on
    /// a kernel without timed waits).
    fn wait_to_end(&mut self, timed: bool, slice: &types::Timespec) -> io::Result<usize> {
        #[cfg(test)]
        if let Some(errno) = END_WAIT_ERRORS.with(|errors| errors.borrow_mut().pop()) {
            return Err(io::Error::from_raw_os_error(errno));
        }
        if timed {
            return self.ring.submitter().submit_with_args(1, &types::SubmitArgs::new().timespec(slice));
        }
        let submitted = self.ring.submit();
        std::thread::sleep(Duration::from_millis(1));
        submitted
    }

    /// Gives up on the operations still in flight: the kernel may still write into what they
    /// own, so it is leaked, never freed (the orphans' memory, the eventfd read's count; the
    /// operations still held leak theirs when dropped, see [`abandoned`]). Rare: an operation
    /// the kernel neither finished nor cancelled in [`END_WAIT`].
    fn abandon(&mut self) {
        let generation = self.generation;
        let _ = ABANDONED.try_with(|abandoned| abandoned.borrow_mut().push(generation));
        std::mem::forget(std::mem::take(&mut self.slots));
        std::mem::forget(self.bufs.take());
        if self.afar.in_flight {
            Box::leak(std::mem::replace(&mut self.afar.count, Box::new(0)));
        }
    }

    /// Pushes `entry`; when the queue is full, hands it to the kernel first (it copies each
    /// entry as it takes it) and takes the completions that arrived (a full completion queue
    /// can keep the kernel from taking more). Bounded: a ring whose submissions keep failing
    /// would otherwise spin this core forever.
    #[inline(always)]
    fn push(&mut self, entry: &squeue::Entry) -> Result<(), QueueStuck> {
        // SAFETY: every entry's pointers stay valid until its completion: the caller's
        // operation (or its orphaned slot) owns what they point at.
        if unsafe { self.ring.submission().push(entry) }.is_ok() {
            self.in_flight += 1;
            return Ok(());
        }
        self.push_when_full(entry)
    }

    /// [`Ring::push`] when the queue was full at its first try: out of the request's line.
    #[cold]
    #[inline(never)]
    fn push_when_full(&mut self, entry: &squeue::Entry) -> Result<(), QueueStuck> {
        for _ in 0..SUBMIT_TRIES_WHEN_FULL {
            let _ = self.submit_full();
            self.reap();
            // SAFETY: every entry's pointers stay valid until its completion: the caller's
            // operation (or its orphaned slot) owns what they point at.
            if unsafe { self.ring.submission().push(entry) }.is_ok() {
                self.in_flight += 1;
                return Ok(());
            }
        }
        let _ = self.submit_full();
        self.reap();
        Err(QueueStuck)
    }

    /// A turn's `io_uring_enter`: hands the kernel `pending` entries, takes completions, and
    /// waits for one when `idle` with something in flight.
    fn enter(&mut self, idle: bool, pending: usize) -> io::Result<usize> {
        #[cfg(test)]
        if let (left @ 1.., errno) = REFUSED_ENTERS.get() {
            REFUSED_ENTERS.set((left - 1, errno));
            return Err(io::Error::from_raw_os_error(errno));
        }
        let wait_for = u32::from(idle && self.in_flight > 0);
        let Some(index) = self.registered else {
            // SAFETY: enter with no signal mask and no pointers.
            return unsafe {
                self.ring.submitter().enter::<libc::sigset_t>(pending as u32, wait_for, ENTER_GETEVENTS, None)
            };
        };
        let flags = ENTER_GETEVENTS | ENTER_REGISTERED_RING;
        // SAFETY: enter with no signal mask and no pointers, naming this thread's registered ring.
        let entered = unsafe {
            libc::syscall(
                libc::SYS_io_uring_enter,
                index,
                pending as u32,
                wait_for,
                flags,
                std::ptr::null::<u8>(),
                0usize,
            )
        };
        if entered < 0 { Err(io::Error::last_os_error()) } else { Ok(entered as usize) }
    }

    /// Counts a turn's enter: one that failed for good [`ENTERS_FAILED_MAX`] times in a row
    /// ends the core with its error (a panic outside any journey: the run stops and says so).
    fn count_enter(&mut self, result: io::Result<usize>) {
        let err = match result {
            Ok(_) => return self.enters_failed = 0,
            Err(err) => err,
        };
        if cut_short(&err) {
            return;
        }
        self.enters_failed += 1;
        if self.enters_failed >= ENTERS_FAILED_MAX {
            panic!(
                "the own driver's io_uring on this core stopped working: io_uring_enter failed \
                 {ENTERS_FAILED_MAX} times in a row ({err}); run with --driver epoll"
            );
        }
    }

    /// Hands a full queue to the kernel.
    fn submit_full(&mut self) -> io::Result<usize> {
        #[cfg(test)]
        if REFUSED_SUBMITS.get() > 0 {
            REFUSED_SUBMITS.set(REFUSED_SUBMITS.get() - 1);
            return Err(io::Error::from_raw_os_error(libc::EBUSY));
        }
        self.ring.submit()
    }

    /// Pushes an entry whose completion nobody waits for; when the queue is stuck, it waits in
    /// [`Ring::deferred`] for the next turn.
    fn push_ignored(&mut self, entry: squeue::Entry) {
        self.push_unwatched(entry.user_data(IGNORED));
    }

    /// Pushes an entry no operation waits for (its user data one of the ring's own); when the
    /// queue is stuck, it waits in [`Ring::deferred`] for the next turn.
    fn push_unwatched(&mut self, entry: squeue::Entry) {
        if !self.deferred.is_empty() || self.push(&entry).is_err() {
            self.deferred.push(entry);
        }
    }

    /// Pushes the entries deferred, in order, while the queue takes them.
    fn push_deferred(&mut self) {
        while let Some(entry) = self.deferred.first().cloned() {
            if self.push(&entry).is_err() {
                return;
            }
            self.deferred.remove(0);
        }
    }

    /// A slot for an operation, and the tag of this use of it.
    #[inline(always)]
    fn take_slot(&mut self) -> (u32, u32) {
        let tag = self.next_tag;
        // Never `RING_TAG`: a user data with it reads as one of the ring's own entries.
        self.next_tag = if tag >= u32::MAX - 1 { 0 } else { tag + 1 };
        if self.free == NO_SLOT {
            self.slots.push(Slot::Waiting { tag, waker: None });
            return ((self.slots.len() - 1) as u32, tag);
        }
        let index = self.free;
        let Slot::Free(next) = self.slots[index as usize] else { unreachable!("the free list holds free slots") };
        self.free = next;
        // A free slot owns nothing: no drop to run for it.
        std::mem::forget(std::mem::replace(&mut self.slots[index as usize], Slot::Waiting { tag, waker: None }));
        (index, tag)
    }

    /// Frees a slot that owns nothing (`Done`, or taken and never pushed: no drop runs for it).
    fn free_slot(&mut self, index: u32) {
        let done = std::mem::replace(&mut self.slots[index as usize], Slot::Free(self.free));
        debug_assert!(
            matches!(done, Slot::Done(_) | Slot::Waiting { waker: None, .. }),
            "only a slot that owns nothing is freed"
        );
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
        // A stuck queue: the next turn tries again.
        self.afar.in_flight = self.push(&read.user_data(WOKEN_FROM_AFAR)).is_ok();
    }

    /// Takes the completions that have arrived: results into their slots, orphans freed, the
    /// waiting tasks' wakers into `woken`.
    fn reap(&mut self) {
        let mut completions = self.ring.completion();
        completions.sync();
        for cqe in &mut completions {
            let flags = cqe.flags();
            // A multishot receive's completions but its last leave it in flight.
            if !cqueue::more(flags) {
                self.in_flight -= 1;
            }
            if let (Some(bid), Some(bufs)) = (cqueue::buffer_select(flags), self.bufs.as_mut()) {
                bufs.filled(bid);
            }
            #[cfg(test)]
            REAPED.set(REAPED.get() + 1);
            let user_data = cqe.user_data();
            if tag_of(user_data) == RING_TAG {
                reap_own(&mut self.afar, &mut self.files, user_data, cqe.result());
                continue;
            }
            let index = index_of(user_data);
            if is_stream_send(user_data) {
                reap_stream_send(&mut self.slots, &mut self.free, &mut self.woken, index, cqe.result());
                continue;
            }
            let slot = &mut self.slots[index];
            match slot {
                Slot::Waiting { tag, waker } => {
                    debug_assert_eq!(*tag, tag_of(user_data), "a completion for the slot's operation");
                    if let Some(waker) = waker.take() {
                        self.woken.push(waker);
                    }
                    // Its waker taken, the slot owns nothing: no drop to run for it.
                    std::mem::forget(std::mem::replace(slot, Slot::Done(cqe.result())));
                }
                Slot::Orphan { .. } => {
                    // What the kernel used is freed with the slot's old value.
                    release_slot(&mut self.slots, &mut self.free, index);
                }
                Slot::Stream(stream) if !stream.orphan => {
                    stream.arrived.push_back((cqe.result(), flags));
                    if let Some(waker) = stream.waker.take() {
                        self.woken.push(waker);
                    }
                }
                Slot::Stream(stream) => {
                    if let (Some(bid), Some(bufs)) = (cqueue::buffer_select(flags), self.bufs.as_mut()) {
                        bufs.give_back(bid);
                    }
                    if !cqueue::more(flags) {
                        stream.over = true;
                        settle_stream(&mut self.slots, &mut self.free, index);
                    }
                }
                Slot::Free(_) | Slot::Done(_) => unreachable!("a completion for a slot not in flight"),
            }
        }
    }
}

/// Takes the completion of the send on the stream's block in slot `index`: its result written
/// in place (its sender woken only when it waits for it), or an orphan's buffer freed.
#[inline(always)]
fn reap_stream_send(slots: &mut [Slot], free: &mut u32, woken: &mut Vec<Waker>, index: usize, result: i32) {
    let Slot::Stream(stream) = &mut slots[index] else {
        unreachable!("a stream's block stays until its send's completion")
    };
    match std::mem::replace(&mut stream.send, StreamSend::Done(result)) {
        StreamSend::InFlight { wake } => {
            if wake && let Some(waker) = stream.waker.take() {
                woken.push(waker);
            }
        }
        StreamSend::Orphan(owned) => {
            stream.send = StreamSend::Idle;
            drop(owned);
            settle_stream(slots, free, index);
        }
        StreamSend::Idle | StreamSend::Done(_) => unreachable!("a send's completion for a block with none in flight"),
    }
}

/// Frees the stream's block in slot `index` once nothing needs it: its last completion taken and
/// no send on it in flight or not taken.
#[inline(always)]
fn settle_stream(slots: &mut [Slot], free: &mut u32, index: usize) {
    if matches!(&slots[index], Slot::Stream(stream) if stream.over && matches!(stream.send, StreamSend::Idle)) {
        release_slot(slots, free, index);
    }
}

/// Keeps `waker` in `kept`, to be woken by the next completion, unless the one kept already
/// wakes the same task (no clone then).
#[inline(always)]
fn keep_waker(kept: &mut Option<Waker>, waker: &Waker) {
    if !kept.as_ref().is_some_and(|w| w.will_wake(waker)) {
        *kept = Some(waker.clone());
    }
}

/// Frees slot `index` with what it owns (an orphan's buffer, a stream's state): dropped here,
/// the slot put on the free list headed by `free`.
fn release_slot(slots: &mut [Slot], free: &mut u32, index: usize) {
    drop(std::mem::replace(&mut slots[index], Slot::Free(*free)));
    *free = index as u32;
}

/// Takes the completion of one of the ring's own entries (see [`RING_TAG`]).
fn reap_own(afar: &mut Afar, files: &mut FileTable, user_data: u64, result: i32) {
    match user_data {
        IGNORED => {}
        WOKEN_FROM_AFAR => {
            // The executor looks at its list every turn: the read only ends the wait.
            afar.in_flight = false;
            afar.broken = result < 0 && ![-libc::EAGAIN, -libc::EINTR, -libc::ECANCELED].contains(&result);
        }
        // A place's close, answered: the place is free (a failed close leaves it empty too).
        _ => files.give_back(index_of(user_data) as u32),
    }
}

/// The descriptor an entry closes, when it is the close of a descriptor (not of a place in the
/// table of files).
fn descriptor_closed(entry: &squeue::Entry) -> Option<RawFd> {
    // SAFETY: `squeue::Entry` is `repr(C)` around the kernel's 64-byte `io_uring_sqe`: the
    // opcode in byte 0, the flags in byte 1, the fd in bytes 4 to 7.
    let sqe = unsafe { std::ptr::read((&raw const *entry).cast::<[u8; 64]>()) };
    let fixed = sqe[1] & squeue::Flags::FIXED_FILE.bits() != 0;
    (sqe[0] == io_uring::opcode::Close::CODE && !fixed).then(|| i32::from_ne_bytes([sqe[4], sqe[5], sqe[6], sqe[7]]))
}

/// One turn of the ring: hands it what was pushed and takes the completions, waiting for one
/// when `idle`; wakes the tasks they finished.
pub(super) fn turn(idle: bool) {
    let woken = RING.with(|slot| {
        let mut guard = slot.borrow_mut();
        let ring = guard.as_mut()?;
        ring.push_deferred();
        let pending = ring.ring.submission().len();
        let result = ring.enter(idle, pending);
        // EINTR or EBUSY (completions to take first): the turn goes on; the next one retries.
        ring.count_enter(result);
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

/// Pushes an entry whose completion nobody waits for (later, when the queue is stuck now);
/// false when this thread has no ring.
pub(super) fn push_ignored(entry: squeue::Entry) -> bool {
    RING.with(|slot| match slot.borrow_mut().as_mut() {
        Some(ring) => {
            ring.push_ignored(entry);
            true
        }
        None => false,
    })
}

const NO_SLOT: u32 = u32::MAX;

/// Where an operation stands, from its side.
#[derive(Clone, Copy)]
enum Place {
    /// Pushed on the ring of `generation` with `user_data`.
    Pushed { generation: u32, user_data: u64 },
    /// Never pushed (no ring on this thread: `ENXIO`; its queue stuck: [`QUEUE_STUCK`]); it
    /// ends at once with this result.
    Unpushed(i32),
    /// It has returned its result.
    Ended,
}

/// An operation in flight, owning `T` (what its entry points into) until it completes. Not
/// `Send`: its slot is in this thread's ring.
pub(crate) struct Op<T: 'static> {
    place: Place,
    owned: Option<T>,
    _this_thread: std::marker::PhantomData<std::rc::Rc<()>>,
}

impl<T: 'static> Op<T> {
    /// Pushes the entry `make` builds from the owned value (its pointers point into the value's
    /// heap memory, which does not move with it).
    #[inline]
    pub(super) fn push(owned: T, make: impl FnOnce(&mut T) -> squeue::Entry) -> Op<T> {
        Op::push_on(owned, None, make)
    }

    /// Pushes as [`Op::push`] does an entry `make` builds on a socket's descriptor, made to name
    /// the socket's place in the ring's table of files instead when it has one there (`file`,
    /// of this thread's ring).
    #[inline]
    pub(super) fn push_on(mut owned: T, file: Option<FixedFile>, make: impl FnOnce(&mut T) -> squeue::Entry) -> Op<T> {
        let mut entry = make(&mut owned);
        let place = RING.with(|slot| {
            let mut guard = slot.borrow_mut();
            let Some(ring) = guard.as_mut() else { return Place::Unpushed(-libc::ENXIO) };
            if let Some(file) = file
                && file.generation == ring.generation
            {
                entry = on_fixed(entry, file.index);
            }
            let (index, tag) = ring.take_slot();
            let user_data = user_data(tag, index);
            match ring.push(&entry.user_data(user_data)) {
                Ok(()) => Place::Pushed { generation: ring.generation, user_data },
                Err(QueueStuck) => {
                    ring.free_slot(index);
                    Place::Unpushed(QUEUE_STUCK)
                }
            }
        });
        Op { place, owned: Some(owned), _this_thread: std::marker::PhantomData }
    }

    /// Its user data while pushed (what [`cancel`] names); `None` when never pushed.
    #[inline]
    pub(super) fn user_data(&self) -> Option<u64> {
        match self.place {
            Place::Pushed { user_data, .. } => Some(user_data),
            Place::Unpushed(_) | Place::Ended => None,
        }
    }
}

/// Asks the kernel to end the operation of `user_data` early (IORING_OP_ASYNC_CANCEL), when it
/// is still in flight on this thread's ring: one that completed first keeps its result, and a
/// slot not in flight (completed, freed), or in flight with another operation since (another
/// use of the slot, another runtime's ring), is left alone.
pub(super) fn cancel(user_data: u64) {
    RING.with(|ring| {
        let mut guard = ring.borrow_mut();
        let Some(ring) = guard.as_mut() else { return };
        match ring.slots.get_mut(index_of(user_data)) {
            Some(Slot::Waiting { tag, .. }) if *tag == tag_of(user_data) => {
                ring.push_ignored(io_uring::opcode::AsyncCancel::new(user_data).build());
            }
            // A stream goes on (its completions wait for the next reader): its reader is woken
            // to find its handle cancelled.
            Some(Slot::Stream(stream)) if stream.tag == tag_of(user_data) => {
                if let Some(waker) = stream.waker.take() {
                    ring.woken.push(waker);
                }
            }
            _ => {}
        }
    });
}

/// Starts a multishot receive on a socket (its descriptor `fd`, its place `file`) into the
/// ring's provided buffers; `None` when the ring has none (the socket receives into its own
/// buffers) or its queue is stuck.
pub(super) fn arm_stream(fd: RawFd, file: Option<FixedFile>) -> Option<StreamHandle> {
    RING.with(|slot| {
        let mut guard = slot.borrow_mut();
        let ring = guard.as_mut()?;
        ring.bufs.as_ref()?;
        let mut entry = io_uring::opcode::RecvMulti::new(types::Fd(fd), BUF_GROUP).build();
        if let Some(file) = file.filter(|file| file.generation == ring.generation) {
            entry = on_fixed(entry, file.index);
        }
        if RECV_POLL_FIRST.get() {
            // The first receive waits for the socket to be readable (armed beside a request).
            entry = set_ioprio(entry, IORING_RECV_MULTISHOT | IORING_RECVSEND_POLL_FIRST);
        }
        let (index, tag) = ring.take_slot();
        let stream =
            Stream { tag, waker: None, arrived: VecDeque::new(), orphan: false, over: false, send: StreamSend::Idle };
        ring.slots[index as usize] = Slot::Stream(Box::new(stream));
        let user_data = user_data(tag, index);
        if ring.push(&entry.user_data(user_data)).is_err() {
            release_slot(&mut ring.slots, &mut ring.free, index as usize);
            return None;
        }
        Some(StreamHandle { generation: ring.generation, user_data })
    })
}

/// Takes what arrived in a socket's stream into `buf`: the bytes of the completions in order
/// (as many as its room holds, at least one), or the stream's end; the reader's waker is kept
/// when nothing has arrived.
///
/// `sent`: the reader's send on the same block (see [`push_stream_send`]): its result is taken
/// into it in the same look when it has come, and nothing is taken before it.
pub(super) fn take_stream(
    handle: StreamHandle,
    buf: &mut bytes::BytesMut,
    waker: &Waker,
    sent: Option<&mut Option<i32>>,
) -> Taken {
    RING.with(|slot| {
        let mut guard = slot.borrow_mut();
        let Some(ring) = guard.as_mut().filter(|ring| ring.generation == handle.generation) else {
            return Taken::RingEnded;
        };
        let index = index_of(handle.user_data);
        let Slot::Stream(stream) = &mut ring.slots[index] else {
            unreachable!("a stream's slot is its own until it ends")
        };
        if let Some(sent) = sent {
            // Nothing is taken before the send's result (the answer to a request comes after
            // it): both return together, and a future dropped between loses no byte. Bytes
            // there already (the peer spoke first) are taken once the send's completion, which
            // then wakes the reader, has come. Taken by an earlier look, or on a later stream:
            // nothing to wait for.
            if matches!(stream.send, StreamSend::InFlight { .. }) {
                let arrived = !stream.arrived.is_empty();
                if let StreamSend::InFlight { ref mut wake } = stream.send {
                    *wake |= arrived;
                }
                keep_waker(&mut stream.waker, waker);
                return Taken::Pending;
            }
            if let Some(result) = stream.take_sent() {
                *sent = Some(result);
            }
        }
        let bufs = ring.bufs.as_mut().expect("a ring with streams has its buffers");
        let mut n = 0;
        let mut taken = None;
        while let Some(&(result, flags)) = stream.arrived.front() {
            let ended = !cqueue::more(flags);
            if result <= 0 {
                if n > 0 {
                    break; // told to the next read
                }
                stream.arrived.pop_front();
                taken = Some(match -result {
                    0 => Taken::Closed,
                    libc::ENOBUFS => Taken::NoBuffers,
                    errno => Taken::Failed(errno),
                });
                break;
            }
            let len = result as usize;
            if n > 0 && buf.capacity() - buf.len() < len {
                break;
            }
            let bid = cqueue::buffer_select(flags).expect("a receive's bytes are in a provided buffer");
            buf.extend_from_slice(bufs.bytes(bid, len));
            bufs.give_back(bid);
            stream.arrived.pop_front();
            n += len;
            if ended {
                taken = Some(Taken::Bytes { n, ended: true });
                break;
            }
        }
        let taken = match taken {
            Some(taken) => taken,
            None if n > 0 => return Taken::Bytes { n, ended: false },
            None => {
                keep_waker(&mut stream.waker, waker);
                return Taken::Pending;
            }
        };
        // Its last completion taken: the slot is free (once its send, if one is in flight, has
        // come and been taken).
        stream.over = true;
        settle_stream(&mut ring.slots, &mut ring.free, index);
        taken
    })
}

/// Pushes a send of `bytes` on a socket's stream's block (the socket's descriptor `fd`, its place
/// `file`), and keeps `waker`
/// as the block's reader's: the send's completion writes its result there, wakes no one unless
/// bytes already wait in the stream (the answer wakes the reader), and takes no slot of its own.
/// Nothing pushed, the result the send ends with instead: ECANCELED (the stream's ring has
/// ended), EBUSY (a send is already on the block), or [`QUEUE_STUCK`].
pub(super) fn push_stream_send(
    handle: StreamHandle,
    fd: RawFd,
    file: Option<FixedFile>,
    bytes: &[u8],
    waker: &Waker,
) -> Result<(), i32> {
    RING.with(|slot| {
        let mut guard = slot.borrow_mut();
        let Some(ring) = guard.as_mut().filter(|ring| ring.generation == handle.generation) else {
            return Err(-libc::ECANCELED);
        };
        let index = index_of(handle.user_data);
        let Slot::Stream(stream) = &mut ring.slots[index] else {
            unreachable!("a stream's slot is its own until it ends")
        };
        if !matches!(stream.send, StreamSend::Idle) {
            return Err(-libc::EBUSY);
        }
        let (at, len) = (bytes.as_ptr(), bytes.len().min(u32::MAX as usize) as u32);
        let entry = match file.filter(|file| file.generation == ring.generation) {
            Some(file) => io_uring::opcode::Send::new(types::Fixed(file.index), at, len),
            None => io_uring::opcode::Send::new(types::Fd(fd), at, len),
        };
        let entry = entry.flags(libc::MSG_NOSIGNAL).build();
        if ring.push(&entry.user_data(handle.user_data | u64::from(SEND_OF_STREAM))).is_err() {
            return Err(QUEUE_STUCK);
        }
        let Slot::Stream(stream) = &mut ring.slots[index] else { unreachable!("looked at above") };
        stream.send = StreamSend::InFlight { wake: !stream.arrived.is_empty() };
        keep_waker(&mut stream.waker, waker);
        Ok(())
    })
}

/// Whether no send is on a stream's block (one left there by a dropped future has completed).
pub(super) fn stream_send_idle(handle: StreamHandle) -> bool {
    RING.with(|slot| {
        let guard = slot.borrow();
        let Some(ring) = guard.as_ref().filter(|ring| ring.generation == handle.generation) else { return false };
        matches!(&ring.slots[index_of(handle.user_data)], Slot::Stream(stream) if matches!(stream.send, StreamSend::Idle))
    })
}

/// The result of the send on a stream's block, taken (the block freed when the stream is over
/// too); when it has not come, `waker` is woken by it.
pub(super) fn poll_stream_send(handle: StreamHandle, waker: &Waker) -> Poll<i32> {
    RING.with(|slot| {
        let mut guard = slot.borrow_mut();
        let Some(ring) = guard.as_mut().filter(|ring| ring.generation == handle.generation) else {
            return Poll::Ready(ring_ended(handle.generation));
        };
        let index = index_of(handle.user_data);
        let Slot::Stream(stream) = &mut ring.slots[index] else {
            unreachable!("a stream's block stays until its send's result is taken")
        };
        if let StreamSend::InFlight { ref mut wake } = stream.send {
            *wake = true;
            keep_waker(&mut stream.waker, waker);
            return Poll::Pending;
        }
        let result = stream.take_sent().expect("a send polled before it returned");
        settle_stream(&mut ring.slots, &mut ring.free, index);
        Poll::Ready(result)
    })
}

/// Lets go of the send on a stream's block whose future is dropped before its result was taken:
/// the result when it has come (taken), else `owned` (what the kernel reads) is left to the
/// block until the completion comes. An ended ring that gave up on its operations leaks
/// `owned`.
pub(super) fn leave_stream_send<T: 'static>(handle: StreamHandle, owned: T) -> Option<i32> {
    let mut owned = Some(owned);
    let left = RING
        .try_with(|slot| {
            let mut guard = slot.borrow_mut();
            let ring = guard.as_mut().filter(|ring| ring.generation == handle.generation)?;
            let index = index_of(handle.user_data);
            let Slot::Stream(stream) = &mut ring.slots[index] else {
                unreachable!("a stream's block stays until its send's result is taken")
            };
            if let StreamSend::InFlight { .. } = stream.send {
                stream.send = StreamSend::Orphan(Box::new(owned.take().expect("held until here")));
                return Some(None);
            }
            let result = stream.take_sent().expect("a send dropped before it returned");
            settle_stream(&mut ring.slots, &mut ring.free, index);
            Some(Some(result))
        })
        .ok()
        .flatten();
    match left {
        Some(result) => result,
        None => {
            if abandoned(handle.generation) {
                // The kernel may still read it: leaked, never freed.
                std::mem::forget(owned);
            }
            None
        }
    }
}

/// Whether a socket's stream holds completions not yet taken (bytes, or its end).
pub(super) fn stream_arrived(handle: StreamHandle) -> bool {
    RING.with(|slot| {
        let guard = slot.borrow();
        let Some(ring) = guard.as_ref().filter(|ring| ring.generation == handle.generation) else { return false };
        matches!(&ring.slots[index_of(handle.user_data)], Slot::Stream(stream) if !stream.arrived.is_empty())
    })
}

/// Whether a socket's stream holds completions not yet taken (bytes, or its end), or its ring
/// has ended; if not, `waker` is woken when one arrives (it takes the place of a reader's).
pub(super) fn watch_stream(handle: StreamHandle, waker: &Waker) -> bool {
    RING.with(|slot| {
        let mut guard = slot.borrow_mut();
        let Some(ring) = guard.as_mut().filter(|ring| ring.generation == handle.generation) else { return true };
        let Slot::Stream(stream) = &mut ring.slots[index_of(handle.user_data)] else {
            unreachable!("a stream's slot is its own until it ends")
        };
        if !stream.arrived.is_empty() {
            return true;
        }
        keep_waker(&mut stream.waker, waker);
        false
    })
}

/// Asks the kernel to end a socket's stream (its last completion then says ECANCELED, after
/// the bytes it took before), unless its last completion has arrived.
pub(super) fn stop_stream(handle: StreamHandle) {
    RING.with(|slot| {
        let mut guard = slot.borrow_mut();
        let Some(ring) = guard.as_mut().filter(|ring| ring.generation == handle.generation) else { return };
        if matches!(&ring.slots[index_of(handle.user_data)], Slot::Stream(stream) if !stream.ended()) {
            ring.push_ignored(io_uring::opcode::AsyncCancel::new(handle.user_data).build());
        }
    });
}

/// Ends a dropped socket's stream: the buffers of what arrived go back to the kernel; one
/// still in flight is cancelled, its slot freed with its last completion.
pub(super) fn drop_stream(handle: StreamHandle) {
    let _ = RING.try_with(|slot| {
        let mut guard = slot.borrow_mut();
        let Some(ring) = guard.as_mut().filter(|ring| ring.generation == handle.generation) else { return };
        let index = index_of(handle.user_data);
        let Slot::Stream(stream) = &mut ring.slots[index] else {
            unreachable!("a stream's slot is its own until it ends")
        };
        let ended = stream.ended();
        if let Some(bufs) = ring.bufs.as_mut() {
            for (_, flags) in stream.arrived.drain(..) {
                if let Some(bid) = cqueue::buffer_select(flags) {
                    bufs.give_back(bid);
                }
            }
        }
        stream.orphan = true;
        if ended {
            stream.over = true;
            settle_stream(&mut ring.slots, &mut ring.free, index);
        } else {
            ring.push_ignored(io_uring::opcode::AsyncCancel::new(handle.user_data).build());
        }
    });
}

/// What a poll found in the operation's slot.
enum Polled {
    Waiting,
    Done(i32),
    /// The operation's ring has ended (the thread's ring is another one, or none).
    RingEnded,
}

impl<T: 'static + Unpin> Future for Op<T> {
    /// The kernel's result (a count or a negative errno), and the owned value back. An operation
    /// of a runtime that has ended ends with ECANCELED (its runtime cancelled it).
    type Output = (i32, T);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(i32, T)> {
        let this = self.get_mut();
        let Place::Pushed { generation, user_data } = this.place else { return this.poll_unpushed() };
        let polled = RING.with(|slot| {
            let mut guard = slot.borrow_mut();
            let Some(ring) = guard.as_mut().filter(|ring| ring.generation == generation) else {
                return Polled::RingEnded;
            };
            let index = index_of(user_data);
            match &mut ring.slots[index] {
                Slot::Done(result) => {
                    let result = *result;
                    ring.free_slot(index as u32);
                    Polled::Done(result)
                }
                Slot::Waiting { waker, .. } => {
                    // A replaced waker is dropped inside the borrow: the ring's wakers belong
                    // to this runtime's tasks, whose drop never reaches the ring.
                    keep_waker(waker, cx.waker());
                    Polled::Waiting
                }
                Slot::Free(_) | Slot::Orphan { .. } | Slot::Stream(_) => {
                    unreachable!("an operation's slot is its own until it ends")
                }
            }
        });
        let result = match polled {
            Polled::Waiting => return Poll::Pending,
            Polled::Done(result) => result,
            Polled::RingEnded => ring_ended(generation),
        };
        this.place = Place::Ended;
        Poll::Ready((result, this.owned.take().expect("an operation owns its value until it ends")))
    }
}

impl<T: 'static> Op<T> {
    /// A poll of an operation that was never pushed (it ends with its result) or has ended.
    #[cold]
    #[inline(never)]
    fn poll_unpushed(&mut self) -> Poll<(i32, T)> {
        match self.place {
            Place::Unpushed(result) => {
                self.place = Place::Ended;
                Poll::Ready((result, self.owned.take().expect("an unpushed operation owns its value")))
            }
            // Its slot may be another operation's now: never looked at again.
            Place::Ended => panic!("an io_uring operation polled after it returned its result"),
            Place::Pushed { .. } => unreachable!("a pushed operation is polled through its slot"),
        }
    }
}

/// The result of an operation whose ring ended before its completion was taken: its runtime
/// cancelled it (it stays `Pushed`: dropped, it leaks what it owns).
#[cold]
#[inline(never)]
fn ring_ended(generation: u32) -> i32 {
    assert!(
        !abandoned(generation),
        "an io_uring operation of a runtime that ended before the kernel finished it was polled: \
         what it owns cannot be handed back"
    );
    -libc::ECANCELED
}

impl<T: 'static> Drop for Op<T> {
    /// Nothing to do for an operation that has ended (the common case: its drop is inlined
    /// where the future is dropped); one dropped in flight goes to [`Op::drop_in_flight`].
    #[inline(always)]
    fn drop(&mut self) {
        if let Place::Pushed { generation, user_data } = self.place {
            self.drop_in_flight(generation, user_data);
        }
    }
}

impl<T: 'static> Op<T> {
    /// Drops an operation that has not returned its result: a completed one frees its slot; one
    /// in flight leaves what it owns to its slot and asks the kernel to cancel it.
    #[inline(never)]
    fn drop_in_flight(&mut self, generation: u32, user_data: u64) {
        let mut owned = self.owned.take();
        let ring_ended = RING
            .try_with(|slot| {
                let mut guard = slot.borrow_mut();
                let Some(ring) = guard.as_mut().filter(|ring| ring.generation == generation) else { return true };
                let index = index_of(user_data);
                match ring.slots[index] {
                    Slot::Done(_) => ring.free_slot(index as u32),
                    _ => {
                        // In flight: the slot keeps what the kernel may write into until the
                        // completion comes, and the kernel is asked to end it early.
                        let owned = Box::new(owned.take().expect("an operation owns its value until it ends"));
                        ring.slots[index] = Slot::Orphan { tag: tag_of(user_data), owned };
                        ring.push_ignored(io_uring::opcode::AsyncCancel::new(user_data).build());
                    }
                }
                false
            })
            .unwrap_or(true);
        if ring_ended && abandoned(generation) {
            // The kernel may still write into it: leaked, never freed.
            std::mem::forget(owned);
        }
    }
}

/// The kernel's result as a count or an error.
pub(super) fn io_result(result: i32) -> io::Result<usize> {
    match result {
        0.. => Ok(result as usize),
        QUEUE_STUCK => Err(io::Error::new(io::ErrorKind::ResourceBusy, QueueStuck)),
        _ => Err(io::Error::from_raw_os_error(-result)),
    }
}
