//! The plain-HTTP target: a small monoio server, one thread per core (optionally pinned),
//! counting every complete request it receives and every connection it accepts.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::{TcpListener, TcpStream};

use crate::request::{Parsed, bad_request, parse};
use crate::route::Action;
use crate::ws::{WsCounters, WsCounts};

/// How to start a target.
#[derive(Clone, Debug)]
pub struct TargetOptions {
    /// Address to listen on (port 0 for an ephemeral port).
    pub addr: SocketAddr,
    /// Server threads.
    pub threads: usize,
    /// Core ids to pin the threads to, round-robin (none: not pinned).
    pub pin: Vec<usize>,
    /// Stall every server thread once: `(after, for)` since start. The stall blocks the thread,
    /// as a garbage-collection pause or a saturated server would.
    pub stall: Option<(Duration, Duration)>,
    /// Count requests per path (without the query) too, for `Target::route_hits`, and keep
    /// when each request came, for `Target::request_times` (a lock per request: off for
    /// benchmarks).
    pub count_routes: bool,
}

/// When to stall, and whether each thread has.
struct Stall {
    at: std::time::Instant,
    length: Duration,
    done: AtomicBool,
}

impl Stall {
    /// Blocks the calling thread once, when the stall time has come.
    fn maybe(&self) {
        if std::time::Instant::now() >= self.at && !self.done.swap(true, Ordering::SeqCst) {
            std::thread::sleep(self.length);
        }
    }
}

impl Default for TargetOptions {
    fn default() -> Self {
        TargetOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            threads: 1,
            pin: Vec::new(),
            stall: None,
            count_routes: false,
        }
    }
}

/// A running target. Stops when dropped.
pub struct Target {
    addr: SocketAddr,
    hits: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    bytes: Arc<ByteCounts>,
    routes: Option<RouteHits>,
    ws: Arc<WsCounters>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Requests per path, and when each request came (the first `REQUEST_TIMES_MAX`), when counted.
type RouteHits = Arc<Mutex<Routes>>;

/// Requests counted per path, and the times they came.
#[derive(Default)]
struct Routes {
    hits: BTreeMap<String, u64>,
    times: Vec<std::time::Instant>,
}

/// Request times kept at most (16 MiB of them).
const REQUEST_TIMES_MAX: usize = 1 << 20;

impl Target {
    /// Binds and starts serving.
    pub fn start(options: TargetOptions) -> io::Result<Target> {
        let listener = std::net::TcpListener::bind(options.addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let hits = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(ByteCounts::default());
        let routes: Option<RouteHits> = options.count_routes.then(RouteHits::default);
        let ws = Arc::new(WsCounters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for i in 0..options.threads.max(1) {
            let listener = listener.try_clone()?;
            let hits = hits.clone();
            let connections = connections.clone();
            let bytes = bytes.clone();
            let routes = routes.clone();
            let ws = ws.clone();
            let stop = stop.clone();
            let pin = (!options.pin.is_empty()).then(|| options.pin[i % options.pin.len()]);
            let stall = options.stall.map(|(after, length)| {
                Arc::new(Stall { at: std::time::Instant::now() + after, length, done: AtomicBool::new(false) })
            });
            threads.push(std::thread::Builder::new().name(format!("mite-target-{i}")).spawn(move || {
                if let Some(id) = pin {
                    core_affinity::set_for_current(core_affinity::CoreId { id });
                }
                let mut runtime = match monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build() {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        eprintln!("mite-target: runtime: {err}");
                        return;
                    }
                };
                let counters = Counters { hits, connections, bytes, routes, ws };
                runtime.block_on(accept_loop(listener, counters, stop, stall));
            })?);
        }
        Ok(Target { addr, hits, connections, bytes, routes, ws, stop, threads })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Complete requests received so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// Bytes of the complete requests received so far (head and body, as the client wrote
    /// them).
    pub fn request_bytes(&self) -> u64 {
        self.bytes.request.load(Ordering::SeqCst)
    }

    /// Body bytes of the responses handed to the socket so far, counted for the routes that
    /// answer with one whole response (the well-behaved ones: `/`, `/bytes/N`, `/delay/MS`,
    /// `/split/MS`, `/status/CODE`, `/echo`, `/json`, ...): the bytes after the head's blank
    /// line, as written (a chunked body's framing too).
    pub fn response_body_bytes(&self) -> u64 {
        self.bytes.response_body.load(Ordering::SeqCst)
    }

    /// Requests received for `path` (without the query); needs `count_routes`.
    pub fn route_hits(&self, path: &str) -> u64 {
        let routes = self.routes.as_ref().expect("start the target with count_routes: true");
        routes.lock().expect("route counts").hits.get(path).copied().unwrap_or(0)
    }

    /// Requests received per path (without the query); needs `count_routes`.
    pub fn route_counts(&self) -> BTreeMap<String, u64> {
        let routes = self.routes.as_ref().expect("start the target with count_routes: true");
        routes.lock().expect("route counts").hits.clone()
    }

    /// When each complete request came, in order (the first 1,048,576); needs `count_routes`.
    /// The server's own clock: what a client's pacing looked like from the other end.
    pub fn request_times(&self) -> Vec<std::time::Instant> {
        let routes = self.routes.as_ref().expect("start the target with count_routes: true");
        routes.lock().expect("route counts").times.clone()
    }

    /// What the WebSocket endpoints counted so far.
    pub fn ws_counts(&self) -> WsCounts {
        self.ws.counts()
    }

    /// `ws://addr{path}`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Stops serving and waits for the threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for _ in 0..self.threads.len() {
            // Wake each accept loop so that it sees the flag.
            let _ = std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Bytes the server threads counted: what the engine's `sent_bytes` and `body_bytes` are held
/// against.
#[derive(Default)]
struct ByteCounts {
    /// Bytes of complete requests read (head and body).
    request: AtomicU64,
    /// Body bytes of whole responses handed to the socket.
    response_body: AtomicU64,
}

/// What a server thread counts.
#[derive(Clone)]
struct Counters {
    hits: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    bytes: Arc<ByteCounts>,
    routes: Option<RouteHits>,
    ws: Arc<WsCounters>,
}

impl Counters {
    /// Counts the body of a whole response about to be written: the bytes after its head's
    /// blank line (none for a response without one), as they go on the wire (a chunked body
    /// with its framing).
    fn count_response(&self, action: &Action) {
        let joined;
        let bytes = match action {
            Action::Write(bytes) | Action::DelayThenWrite(_, bytes) | Action::WriteThenClose(bytes) => bytes,
            Action::Pieces(pieces) => {
                joined = pieces.iter().flat_map(|(_, bytes)| bytes.iter().copied()).collect::<Vec<u8>>();
                &joined
            }
            _ => return,
        };
        if let Some(head_end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            self.bytes.response_body.fetch_add((bytes.len() - head_end - 4) as u64, Ordering::Relaxed);
        }
    }

    fn count(&self, path: &str) {
        self.hits.fetch_add(1, Ordering::Relaxed);
        if let Some(routes) = &self.routes {
            let path = path.split('?').next().unwrap_or(path);
            let now = std::time::Instant::now();
            let mut routes = routes.lock().expect("route counts");
            if routes.times.len() < REQUEST_TIMES_MAX {
                routes.times.push(now);
            }
            match routes.hits.get_mut(path) {
                Some(count) => *count += 1,
                None => {
                    routes.hits.insert(path.to_string(), 1);
                }
            }
        }
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    hits: Counters,
    stop: Arc<AtomicBool>,
    stall: Option<Arc<Stall>>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("mite-target: listener: {err}");
            return;
        }
    };
    loop {
        let accepted = listener.accept().await;
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match accepted {
            Ok((stream, _)) => {
                hits.connections.fetch_add(1, Ordering::Relaxed);
                let _ = stream.set_nodelay(true);
                monoio::spawn(serve(stream, hits.clone(), stall.clone()));
            }
            // Out of descriptors or similar: back off instead of spinning.
            Err(_) => monoio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// The interim answer of `/bad/continue-upload`.
pub(crate) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

async fn write(stream: &mut TcpStream, bytes: Vec<u8>) -> bool {
    let (result, _) = stream.write_all(bytes).await;
    result.is_ok()
}

/// Sleeps `delay` to within a few microseconds: the timer wheel for most of it (1 ms
/// granularity), then yielding until the deadline.
async fn sleep_precise(delay: Duration) {
    let deadline = std::time::Instant::now() + delay;
    if delay > Duration::from_millis(2) {
        monoio::time::sleep(delay - Duration::from_millis(2)).await;
    }
    while std::time::Instant::now() < deadline {
        YieldNow(false).await;
    }
}

/// Returns `Pending` once, waking itself, so other tasks run.
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

async fn serve(mut stream: TcpStream, hits: Counters, stall: Option<Arc<Stall>>) {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    // Whether the request being read was sent its `100 Continue`.
    let mut continued = false;
    loop {
        loop {
            let (action, used) = match parse(&buf) {
                Parsed::Partial => break,
                Parsed::ContinueThenPartial => {
                    if !continued && !write(&mut stream, CONTINUE.to_vec()).await {
                        return;
                    }
                    continued = true;
                    break;
                }
                Parsed::AnswerEarly { path, hold } => {
                    hits.count(path);
                    // Closing with the body unread resets the connection: the client's write
                    // of the rest fails, and the answer is already on its way. Held first, the
                    // client's write of the rest waits (nothing is read) until then.
                    write(&mut stream, crate::route::early_answer_to(path)).await;
                    if !hold.is_zero() {
                        monoio::time::sleep(hold).await;
                    }
                    return;
                }
                Parsed::Invalid(why) => {
                    write(&mut stream, bad_request(why)).await;
                    return;
                }
                Parsed::Complete(request) => {
                    continued = false;
                    hits.count(request.path);
                    hits.bytes.request.fetch_add(request.len as u64, Ordering::Relaxed);
                    if let Some(stall) = &stall {
                        stall.maybe();
                    }
                    if let Some(upgrade) = request.upgrade.clone() {
                        let (path, len) = (request.path.to_string(), request.len);
                        buf.advance(len);
                        crate::ws::serve::serve(stream, buf, &path, upgrade, hits.ws.clone()).await;
                        return;
                    }
                    (request.route(&buf), request.len)
                }
            };
            buf.advance(used);
            hits.count_response(&action);
            if !act(&mut stream, &mut buf, action).await {
                return;
            }
        }
        buf.reserve(16 * 1024);
        let len = buf.len();
        let end = buf.capacity();
        let (result, slice) = stream.read(buf.slice_mut(len..end)).await;
        buf = slice.into_inner();
        if !matches!(result, Ok(n) if n > 0) {
            return;
        }
    }
}

/// Does what a route said; false when the connection is done with.
async fn act(stream: &mut TcpStream, buf: &mut BytesMut, action: Action) -> bool {
    match action {
        Action::Write(bytes) => write(stream, bytes).await,
        Action::DelayThenWrite(delay, bytes) => {
            sleep_precise(delay).await;
            write(stream, bytes).await
        }
        // A plain connection has no TLS session to end or to write past.
        Action::WriteThenClose(bytes) | Action::WriteThenCut(bytes) => {
            write(stream, bytes).await;
            false
        }
        Action::WriteRekeyWrite(first, second) => write(stream, first).await && write(stream, second).await,
        Action::WriteThenInject(first, second) => {
            let _ = write(stream, first).await && write(stream, second).await;
            false
        }
        Action::Trickle(bytes, pause) => {
            for byte in bytes {
                if !write(stream, vec![byte]).await {
                    return false;
                }
                monoio::time::sleep(pause).await;
            }
            true
        }
        Action::Pieces(pieces) => write_pieces(stream, pieces).await,
        Action::PiecesThenClose(pieces) => {
            write_pieces(stream, pieces).await;
            false
        }
        Action::WriteThenReset(bytes) => {
            write(stream, bytes).await;
            let _ = with_socket(stream, |socket| socket.set_linger(Some(Duration::ZERO)));
            false
        }
        Action::WriteThenEnd(bytes, pause) => {
            if write(stream, bytes).await {
                monoio::time::sleep(pause).await;
                if with_socket(stream, |socket| socket.shutdown(std::net::Shutdown::Write)).is_ok() {
                    read_until_gone(stream, buf).await;
                }
            }
            false
        }
        Action::WriteThenDropNext(bytes) => {
            // Nothing of the next request is read: closing with its bytes unread resets.
            if write(stream, bytes).await && buf.is_empty() {
                let _ = stream.readable(false).await;
            }
            false
        }
        Action::WriteThenHalfClose(bytes) => {
            if write(stream, bytes).await
                && with_socket(stream, |socket| socket.shutdown(std::net::Shutdown::Write)).is_ok()
            {
                read_until_gone(stream, buf).await;
            }
            false
        }
        Action::Silent => {
            read_until_gone(stream, buf).await;
            false
        }
    }
}

/// Writes each piece after its pause; false when a write failed.
async fn write_pieces(stream: &mut TcpStream, pieces: Vec<(Duration, Vec<u8>)>) -> bool {
    for (pause, bytes) in pieces {
        if !pause.is_zero() {
            monoio::time::sleep(pause).await;
        }
        if !write(stream, bytes).await {
            return false;
        }
    }
    true
}

/// Reads and discards until the client goes away.
async fn read_until_gone(stream: &mut TcpStream, buf: &mut BytesMut) {
    loop {
        let (result, b) = stream.read(std::mem::take(buf)).await;
        *buf = b;
        buf.clear();
        if !matches!(result, Ok(n) if n > 0) {
            return;
        }
    }
}

/// Calls `f` with the socket under `stream` (for options monoio does not offer).
fn with_socket<T>(stream: &TcpStream, f: impl FnOnce(socket2::SockRef<'_>) -> T) -> T {
    use std::os::fd::{AsRawFd, BorrowedFd};
    // SAFETY: the descriptor belongs to `stream`, which outlives this borrow.
    #[allow(unsafe_code)]
    let fd = unsafe { BorrowedFd::borrow_raw(stream.as_raw_fd()) };
    f(socket2::SockRef::from(&fd))
}
