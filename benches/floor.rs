//! The io_uring floor: the least a keep-alive GET client can cost per request on this kernel,
//! with no executor, no futures, no journey and no timers — a ring, a fixed request, and just
//! enough parsing to find each response's end. It is the yardstick for issue 15's goal 1: what
//! the engine's user space could come down to with a driver of its own, and what the kernel
//! costs whatever the client does.
//!
//! ```text
//! uring-floor --addr 127.0.0.1:8080 --connections 64 --seconds 8 --core 0 --mode multishot
//! ```
//!
//! Modes: `single` (one send and one receive per request into each connection's own buffer,
//! as the engine does today) and `multishot` (one multishot receive per connection into a
//! per-core ring of provided buffers, sends whose success posts no completion). Prints one JSON
//! line: requests, wall, user and system seconds of this process.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use io_uring::{IoUring, cqueue, opcode, squeue, types};

/// Bytes of each connection's receive buffer in `single` mode (the engine's read chunk).
const SINGLE_BUFFER_BYTES: usize = 16 * 1024;
/// Bytes of each provided buffer in `multishot` mode.
const PROVIDED_BUFFER_BYTES: usize = 4096;
/// Provided buffers in the ring (a power of two).
const PROVIDED_BUFFERS: u16 = 512;
/// The provided-buffer group id.
const GROUP: u16 = 7;
/// Ring entries.
const RING_ENTRIES: u32 = 1024;
/// user_data tag of a send's completion (the low bit; the rest is the connection index).
const SEND_TAG: u64 = 1;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Single,
    Multishot,
}

struct Args {
    addr: SocketAddr,
    connections: usize,
    seconds: f64,
    core: Option<usize>,
    mode: Mode,
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("uring-floor: {msg}");
            std::process::exit(2);
        }
    };
    if let Err(err) = run(&args) {
        eprintln!("uring-floor: {err}");
        std::process::exit(1);
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args =
        Args { addr: "127.0.0.1:8080".parse().unwrap(), connections: 64, seconds: 8.0, core: None, mode: Mode::Single };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |what: &str| format!("{flag} {value:?}: {what}");
        match flag.as_str() {
            "--addr" => args.addr = value.parse().map_err(|_| bad("expected host:port, e.g. 127.0.0.1:8080"))?,
            "--connections" => args.connections = value.parse().map_err(|_| bad("expected a count"))?,
            "--seconds" => args.seconds = value.parse().map_err(|_| bad("expected seconds, e.g. 8"))?,
            "--core" => args.core = Some(value.parse().map_err(|_| bad("expected a core index"))?),
            "--mode" => {
                args.mode = match value.as_str() {
                    "single" => Mode::Single,
                    "multishot" => Mode::Multishot,
                    _ => return Err(bad("expected single or multishot")),
                }
            }
            _ => return Err(format!("unknown flag {flag} (flags: --addr --connections --seconds --core --mode)")),
        }
    }
    if !args.addr.ip().is_loopback() {
        return Err(format!("--addr {}: loopback targets only", args.addr));
    }
    Ok(args)
}

/// One connection: its socket, its receive buffer (`single` mode) and its response framing.
struct Conn {
    stream: TcpStream,
    framing: Framing,
    buf: Vec<u8>,
}

/// Finds where each response ends: the head is gathered until its blank line, then its
/// `Content-Length` counts the body down.
#[derive(Default)]
struct Framing {
    head: Vec<u8>,
    /// Bytes still owed by the current response once its head is known.
    body_left: Option<usize>,
}

impl Framing {
    /// Feeds received bytes; true when they end the current response.
    fn feed(&mut self, bytes: &[u8]) -> io::Result<bool> {
        let Some(left) = self.body_left.as_mut() else { return self.feed_head(bytes) };
        let take = (*left).min(bytes.len());
        *left -= take;
        if *left > 0 {
            return Ok(false);
        }
        self.body_left = None;
        if take < bytes.len() {
            return Err(io::Error::other("bytes past the response (the floor client never pipelines)"));
        }
        Ok(true)
    }

    fn feed_head(&mut self, bytes: &[u8]) -> io::Result<bool> {
        let start = self.head.len().saturating_sub(3);
        self.head.extend_from_slice(bytes);
        let Some(end) = self.head[start..].windows(4).position(|w| w == b"\r\n\r\n") else { return Ok(false) };
        let end = start + end + 4;
        self.body_left = Some(content_length(&self.head[..end])?);
        let rest = self.head.split_off(end);
        self.head.clear();
        self.feed(&rest)
    }
}

fn content_length(head: &[u8]) -> io::Result<usize> {
    let text = std::str::from_utf8(head).map_err(|_| io::Error::other("response head is not UTF-8"))?;
    for line in text.split("\r\n") {
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            return value.trim().parse().map_err(|_| io::Error::other(format!("bad Content-Length {value:?}")));
        }
    }
    Err(io::Error::other("response without Content-Length (the floor client reads only those)"))
}

fn run(args: &Args) -> io::Result<()> {
    if let Some(core) = args.core {
        core_affinity::set_for_current(core_affinity::CoreId { id: core });
    }
    let request = format!("GET / HTTP/1.1\r\nHost: {}\r\n\r\n", args.addr).into_bytes();
    let mut conns = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let stream = TcpStream::connect(args.addr)?;
        stream.set_nodelay(true)?;
        let buf = if args.mode == Mode::Single { vec![0; SINGLE_BUFFER_BYTES] } else { Vec::new() };
        conns.push(Conn { stream, framing: Framing::default(), buf });
    }
    let mut ring: IoUring = IoUring::builder().setup_single_issuer().setup_defer_taskrun().build(RING_ENTRIES)?;
    let provided = match args.mode {
        Mode::Multishot => Some(ProvidedBuffers::register(&ring)?),
        Mode::Single => None,
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let requests = drive(&mut ring, &mut conns, &request, provided.as_ref(), deadline)?;
    let wall = started.elapsed().as_secs_f64();
    let (user, sys) = cpu_seconds();
    let mode = if args.mode == Mode::Single { "single" } else { "multishot" };
    writeln!(
        io::stdout(),
        "{{\"mode\":\"{mode}\",\"requests\":{requests},\"wall_s\":{wall:.3},\"user_s\":{user:.3},\"sys_s\":{sys:.3}}}"
    )
}

/// Sends each connection's first request, then turns completions into requests until the
/// deadline; returns the responses completed.
fn drive(
    ring: &mut IoUring,
    conns: &mut [Conn],
    request: &[u8],
    provided: Option<&ProvidedBuffers>,
    deadline: Instant,
) -> io::Result<u64> {
    for index in 0..conns.len() {
        if provided.is_some() {
            push(ring, multishot_recv(&conns[index], index))?;
        }
        start_request(ring, conns, index, request, provided.is_some())?;
    }
    let mut done = 0u64;
    let mut checked = 0u32;
    let mut completions: Vec<(u64, i32, u32)> = Vec::with_capacity(RING_ENTRIES as usize);
    loop {
        ring.submit_and_wait(1)?;
        completions.clear();
        completions.extend(ring.completion().map(|c| (c.user_data(), c.result(), c.flags())));
        for &(user_data, result, flags) in &completions {
            let index = (user_data >> 1) as usize;
            if result < 0 {
                return Err(io::Error::from_raw_os_error(-result));
            }
            if user_data & SEND_TAG != 0 {
                if result as usize != request.len() {
                    return Err(io::Error::other("short send (the floor client sends requests whole)"));
                }
                continue;
            }
            let ended = match provided {
                Some(provided) => on_multishot(ring, conns, index, provided, result, flags)?,
                None => on_single(ring, conns, index, result)?,
            };
            if ended {
                done += 1;
                start_request(ring, conns, index, request, provided.is_some())?;
            }
        }
        checked += 1;
        if checked.is_multiple_of(64) && Instant::now() >= deadline {
            return Ok(done);
        }
    }
}

fn start_request(ring: &mut IoUring, conns: &[Conn], index: usize, request: &[u8], multishot: bool) -> io::Result<()> {
    let fd = types::Fd(conns[index].stream.as_raw_fd());
    let send = opcode::Send::new(fd, request.as_ptr(), request.len() as u32).build();
    if multishot {
        // A whole send posts nothing; a failed or short one still does.
        push(ring, send.flags(squeue::Flags::SKIP_SUCCESS).user_data((index as u64) << 1 | SEND_TAG))
    } else {
        push(ring, send.user_data((index as u64) << 1 | SEND_TAG))?;
        push(ring, single_recv(&conns[index], index))
    }
}

fn single_recv(conn: &Conn, index: usize) -> squeue::Entry {
    let buf = conn.buf.as_ptr().cast_mut();
    opcode::Recv::new(types::Fd(conn.stream.as_raw_fd()), buf, conn.buf.len() as u32)
        .build()
        .user_data((index as u64) << 1)
}

fn multishot_recv(conn: &Conn, index: usize) -> squeue::Entry {
    opcode::RecvMulti::new(types::Fd(conn.stream.as_raw_fd()), GROUP).build().user_data((index as u64) << 1)
}

fn on_single(ring: &mut IoUring, conns: &mut [Conn], index: usize, read: i32) -> io::Result<bool> {
    if read == 0 {
        return Err(io::Error::other("the target closed a keep-alive connection"));
    }
    let conn = &mut conns[index];
    let bytes = std::mem::take(&mut conn.buf);
    let ended = conn.framing.feed(&bytes[..read as usize]);
    conn.buf = bytes;
    let ended = ended?;
    if !ended {
        push(ring, single_recv(&conns[index], index))?;
    }
    Ok(ended)
}

fn on_multishot(
    ring: &mut IoUring,
    conns: &mut [Conn],
    index: usize,
    provided: &ProvidedBuffers,
    read: i32,
    flags: u32,
) -> io::Result<bool> {
    if read == 0 {
        return Err(io::Error::other("the target closed a keep-alive connection"));
    }
    let bid = cqueue::buffer_select(flags).ok_or_else(|| io::Error::other("a receive without a provided buffer"))?;
    let ended = conns[index].framing.feed(provided.bytes(bid, read as usize));
    provided.give_back(bid);
    if !cqueue::more(flags) {
        // The kernel ended the multishot receive (e.g. it ran out of buffers): arm it again.
        push(ring, multishot_recv(&conns[index], index))?;
    }
    ended
}

fn push(ring: &mut IoUring, entry: squeue::Entry) -> io::Result<()> {
    // SAFETY: every buffer an entry points at (the request, a connection's receive buffer, the
    // provided buffers) lives until `run` returns, after the last completion is taken.
    #[allow(unsafe_code)]
    let pushed = unsafe { ring.submission().push(&entry) };
    if pushed.is_err() {
        ring.submit()?;
        // SAFETY: as above.
        #[allow(unsafe_code)]
        unsafe { ring.submission().push(&entry) }.map_err(|_| io::Error::other("submission queue full"))?;
    }
    Ok(())
}

/// A ring of provided buffers the kernel receives into: one page-aligned array of entries and
/// one slab of buffers, registered as group `GROUP`.
struct ProvidedBuffers {
    entries: *mut types::BufRingEntry,
    slab: Vec<u8>,
    tail: std::cell::Cell<u16>,
}

impl ProvidedBuffers {
    fn register(ring: &IoUring) -> io::Result<ProvidedBuffers> {
        let bytes = usize::from(PROVIDED_BUFFERS) * std::mem::size_of::<types::BufRingEntry>();
        // SAFETY: an anonymous private mapping (page aligned, as the kernel asks); checked below.
        #[allow(unsafe_code)]
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let provided = ProvidedBuffers {
            entries: base.cast(),
            slab: vec![0; usize::from(PROVIDED_BUFFERS) * PROVIDED_BUFFER_BYTES],
            tail: std::cell::Cell::new(0),
        };
        // SAFETY: `base` is a mapping of `PROVIDED_BUFFERS` entries that outlives the ring (it
        // is never unmapped; the process ends with the run).
        #[allow(unsafe_code)]
        unsafe { ring.submitter().register_buf_ring(base as u64, PROVIDED_BUFFERS, GROUP) }?;
        for bid in 0..PROVIDED_BUFFERS {
            provided.give_back(bid);
        }
        Ok(provided)
    }

    fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        let start = usize::from(bid) * PROVIDED_BUFFER_BYTES;
        &self.slab[start..start + len]
    }

    /// Puts buffer `bid` back at the ring's tail, for the kernel to fill again.
    fn give_back(&self, bid: u16) {
        let tail = self.tail.get();
        let slot = usize::from(tail & (PROVIDED_BUFFERS - 1));
        // SAFETY: `slot` is below the mapping's entry count; the kernel reads an entry only
        // after the tail store below publishes it, and this thread is the ring's only writer.
        #[allow(unsafe_code)]
        unsafe {
            let entry = &mut *self.entries.add(slot);
            entry.set_addr(self.slab.as_ptr().add(usize::from(bid) * PROVIDED_BUFFER_BYTES) as u64);
            entry.set_len(PROVIDED_BUFFER_BYTES as u32);
            entry.set_bid(bid);
            let tail_field = types::BufRingEntry::tail(self.entries).cast_mut();
            std::sync::atomic::AtomicU16::from_ptr(tail_field)
                .store(tail.wrapping_add(1), std::sync::atomic::Ordering::Release);
        }
        self.tail.set(tail.wrapping_add(1));
    }
}

/// User and system CPU seconds of this process so far.
fn cpu_seconds() -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct it is given.
    #[allow(unsafe_code)]
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (secs(usage.ru_utime), secs(usage.ru_stime))
}

#[cfg(test)]
mod tests {
    use super::Framing;

    const RESPONSES: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";

    #[test]
    fn each_response_ends_once_at_every_split() {
        let first = RESPONSES.len() - b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n".len();
        for cut in 0..=RESPONSES.len() {
            let mut framing = Framing::default();
            let mut ends = Vec::new();
            for (offset, piece) in
                [(0, &RESPONSES[..cut.min(first)]), (cut.min(first), &RESPONSES[cut.min(first)..first])]
            {
                if framing.feed(piece).unwrap() {
                    ends.push(offset + piece.len());
                }
            }
            for (offset, piece) in
                [(first, &RESPONSES[first..cut.max(first)]), (cut.max(first), &RESPONSES[cut.max(first)..])]
            {
                if framing.feed(piece).unwrap() {
                    ends.push(offset + piece.len());
                }
            }
            assert_eq!(ends, [first, RESPONSES.len()], "cut at {cut}");
        }
    }

    #[test]
    fn a_response_without_content_length_is_refused() {
        let err = Framing::default().feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap_err();
        assert!(err.to_string().contains("without Content-Length"), "{err}");
    }
}
