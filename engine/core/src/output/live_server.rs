//! The small HTTP server behind the live views (`--dashboard`, `--prometheus`): each connection
//! served on a thread of its own, at most `limits::LIVE_CONNECTIONS_MAX` at once, each with a
//! deadline for its request and one for its answer, so an idle or slow client never holds up
//! another; a connection past the bound is answered `503` at once and closed.
//!
//! It serves `GET`s only, one per connection (`Connection: close`); what each path answers is
//! the caller's [`Route`]. Bounded in every way a flood of clients could push: threads and
//! sockets (the connection bound), memory (a request is read into a fixed buffer of
//! `limits::LIVE_REQUEST_BYTES_MAX`), and time (`limits::LIVE_REQUEST_WAIT` to send the request
//! head, `limits::LIVE_ANSWER_WAIT` to take the answer, whatever the client's pace).

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::limits::{
    LIVE_ANSWER_WAIT, LIVE_CONNECTIONS_MAX, LIVE_REFUSED_HELD, LIVE_REQUEST_BYTES_MAX, LIVE_REQUEST_WAIT,
};

/// What a path answers.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status line's code and phrase, e.g. `200 OK`.
    pub status: &'static str,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// More header lines, each ending in `\r\n` (or none).
    pub extra_headers: &'static str,
    /// The body (shared: the latest published text is handed out without a copy).
    pub body: Arc<String>,
}

/// The caller's routing: the path of a `GET` (query cut off), or `None` for any other request
/// (another method, or a request line that does not parse), to its answer.
pub type Route = Arc<dyn Fn(Option<&str>) -> Answer + Send + Sync>;

/// The connections being served: a handle on each socket (to cut it at the stop) and the
/// threads serving them.
#[derive(Default)]
struct Serving {
    next_id: u64,
    sockets: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

/// What the accepting thread, the connection threads and the owner share.
#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    serving: Mutex<Serving>,
}

impl Shared {
    fn serving(&self) -> MutexGuard<'_, Serving> {
        // A thread that panicked while holding the lock left only bookkeeping behind.
        self.serving.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A live view's server: serves until dropped.
pub struct LiveServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accepting: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LiveServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LiveServer({})", self.addr)
    }
}

impl LiveServer {
    /// Binds `addr` and serves each `GET` with `route`; `name` names its threads.
    pub fn start(addr: SocketAddr, name: &str, route: Route) -> io::Result<LiveServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let (thread_shared, thread_name) = (shared.clone(), format!("{name}-client"));
        let accepting = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || accept_loop(&listener, &thread_shared, &route, &thread_name))?;
        Ok(LiveServer { addr, shared, accepting: Some(accepting) })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections being served now (not counting those refused past the bound).
    pub fn connections(&self) -> usize {
        self.shared.serving().sockets.len()
    }
}

impl Drop for LiveServer {
    /// Stops at once: every connection being served is cut (its thread's read or write
    /// returns), the accepting thread is woken, and every thread is joined.
    fn drop(&mut self) {
        let threads = {
            let mut serving = self.shared.serving();
            self.shared.stop.store(true, Ordering::SeqCst);
            for socket in serving.sockets.values() {
                let _ = socket.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut serving.threads)
        };
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
        // No thread starts after the take: admission checks the stop flag under the same lock.
        for thread in threads {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, route: &Route, thread_name: &str) {
    let mut refused = Refused::default();
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        refused.close_old();
        match stream {
            Ok(stream) => {
                if let Some(stream) = admit(stream, shared, route, thread_name) {
                    refused.hold(stream);
                }
            }
            // Out of descriptors (EMFILE) and the like: the error repeats until a socket is
            // closed, so wait a little rather than spin.
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Serves `stream` on a thread of its own; returns it, refused, when `LIVE_CONNECTIONS_MAX`
/// are being served (or no thread can be started).
fn admit(stream: TcpStream, shared: &Arc<Shared>, route: &Route, thread_name: &str) -> Option<TcpStream> {
    let mut serving = shared.serving();
    serving.threads.retain(|thread| !thread.is_finished());
    if shared.stop.load(Ordering::SeqCst) {
        return None;
    }
    if serving.sockets.len() >= LIVE_CONNECTIONS_MAX {
        return Some(stream);
    }
    let Ok(handle) = stream.try_clone() else { return Some(stream) };
    let id = serving.next_id;
    serving.next_id += 1;
    serving.sockets.insert(id, handle);
    let (thread_shared, thread_route) = (shared.clone(), route.clone());
    let spawned = std::thread::Builder::new().name(thread_name.to_string()).spawn(move || {
        let _done = Done { shared: &thread_shared, id };
        serve(stream, &thread_route);
    });
    match spawned {
        Ok(thread) => serving.threads.push(thread),
        // The closure (and the stream) were dropped with the error: forget the socket.
        Err(_) => drop(serving.sockets.remove(&id)),
    }
    None
}

/// Takes a connection out of the ones being served when its thread ends, however it ends.
struct Done<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.shared.serving().sockets.remove(&self.id);
    }
}

/// Connections refused past the bound: each answered `503` with `Retry-After` at once, then
/// its reading side held open until the first connection after `LIVE_REFUSED_HELD` (or the
/// stop), at most `LIVE_CONNECTIONS_MAX` of them (past that the oldest is closed): a socket
/// closed before the client's request arrived would be reset by it, and a reset can lose the
/// answer on the client's side.
#[derive(Default)]
struct Refused {
    held: std::collections::VecDeque<(Instant, TcpStream)>,
}

impl Refused {
    /// Answers `stream` without waiting (a fresh socket's send buffer holds the answer) and
    /// holds it.
    fn hold(&mut self, mut stream: TcpStream) {
        let _ = stream.set_nonblocking(true);
        let body = format!("busy: {LIVE_CONNECTIONS_MAX} connections are being served; try again\n");
        let _ = write!(
            stream,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.shutdown(Shutdown::Write);
        if self.held.len() >= LIVE_CONNECTIONS_MAX {
            self.held.pop_front();
        }
        self.held.push_back((Instant::now(), stream));
    }

    /// Closes those held long enough.
    fn close_old(&mut self) {
        while self.held.front().is_some_and(|(at, _)| at.elapsed() >= LIVE_REFUSED_HELD) {
            self.held.pop_front();
        }
    }
}

/// One connection: the request head within `LIVE_REQUEST_WAIT`, the answer within
/// `LIVE_ANSWER_WAIT`. A client that sends nothing in time is closed without an answer.
fn serve(mut stream: TcpStream, route: &Route) {
    let mut request = [0u8; LIVE_REQUEST_BYTES_MAX];
    let read = read_head(&mut stream, &mut request, Instant::now() + LIVE_REQUEST_WAIT);
    if read == 0 {
        return;
    }
    let answer = route(request_path(&request[..read]));
    let head = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nCache-Control: no-store\r\n{}Content-Length: {}\r\n\
         Connection: close\r\n\r\n",
        answer.status,
        answer.content_type,
        answer.extra_headers,
        answer.body.len()
    );
    let deadline = Instant::now() + LIVE_ANSWER_WAIT;
    if write_by(&mut stream, head.as_bytes(), deadline).is_ok() {
        let _ = write_by(&mut stream, answer.body.as_bytes(), deadline);
    }
}

/// Reads into `request` until the blank line that ends a head (`\r\n\r\n`, or a bare
/// `\n\n`), the buffer is full, the client closes, or `deadline`; returns the bytes read.
fn read_head(stream: &mut TcpStream, request: &mut [u8], deadline: Instant) -> usize {
    let mut read = 0;
    let ended = |head: &[u8]| head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n");
    while read < request.len() && !ended(&request[..read]) {
        let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else {
            break;
        };
        if stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut request[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    read
}

/// Writes all of `bytes` by `deadline`, however slowly the client reads.
fn write_by(stream: &mut TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| io::Error::from(ErrorKind::TimedOut))?;
        stream.set_write_timeout(Some(left))?;
        match stream.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The path of a `GET` request (its query cut off), or `None` for anything else.
fn request_path(request: &[u8]) -> Option<&str> {
    let line = request.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    if parts.next()? != "GET" {
        return None;
    }
    let target = parts.next()?;
    Some(target.split('?').next().unwrap_or(target))
}

/// One `GET` to a live view in a test: the whole answer, read to the server's close (at most
/// 20 s of silence).
#[cfg(test)]
pub(crate) fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo_path() -> Route {
        Arc::new(|path: Option<&str>| Answer {
            status: "200 OK",
            content_type: "text/plain",
            extra_headers: "",
            body: Arc::new(format!("{path:?}")),
        })
    }

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The outside tester's finding: with one connection served at a time, each idle client
    /// held the next request for its 2 s read timeout (4 idle: 8 s). Now idle clients beside a
    /// `GET` cost it nothing.
    #[test]
    fn idle_clients_do_not_hold_up_a_request() {
        let server = LiveServer::start("127.0.0.1:0".parse().unwrap(), "test-live", echo_path()).unwrap();
        let idle: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(server.addr()).unwrap()).collect();
        wait_for("the idle clients to be served", || server.connections() == idle.len());
        let started = Instant::now();
        let answer = get(server.addr(), "/x?y=1");
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("Some(\"/x\")"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(1), "answered after {:?}", started.elapsed());
        drop(idle);
    }

    /// Past the bound a connection is refused at once (`503`, `Retry-After`), never queued
    /// behind the idle ones, however many come; once the idle ones go, requests are served
    /// again.
    #[test]
    fn past_the_bound_a_client_is_refused_at_once() {
        let server = LiveServer::start("127.0.0.1:0".parse().unwrap(), "test-live", echo_path()).unwrap();
        let idle: Vec<TcpStream> =
            (0..LIVE_CONNECTIONS_MAX).map(|_| TcpStream::connect(server.addr()).unwrap()).collect();
        wait_for("the bound to be reached", || server.connections() == LIVE_CONNECTIONS_MAX);
        let started = Instant::now();
        for _ in 0..3 * LIVE_CONNECTIONS_MAX {
            let answer = get(server.addr(), "/");
            assert!(answer.starts_with("HTTP/1.1 503") && answer.contains("Retry-After: 1"), "{answer}");
        }
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{} refusals took {took:?}", 3 * LIVE_CONNECTIONS_MAX);
        assert_eq!(server.connections(), LIVE_CONNECTIONS_MAX, "a refused client takes no slot");
        drop(idle);
        wait_for("the idle clients to be gone", || server.connections() == 0);
        assert!(get(server.addr(), "/").starts_with("HTTP/1.1 200 OK"));
    }

    /// A client that sends nothing is closed at `LIVE_REQUEST_WAIT`; one that sends a byte at
    /// a time is read until then and no longer; one that reads nothing of a large answer is
    /// cut at `LIVE_ANSWER_WAIT`.
    #[test]
    fn slow_clients_are_cut_at_their_deadlines() {
        let body = Arc::new("x".repeat(64 << 20));
        let big: Route = Arc::new(move |_| Answer {
            status: "200 OK",
            content_type: "text/plain",
            extra_headers: "",
            body: body.clone(),
        });
        let server = LiveServer::start("127.0.0.1:0".parse().unwrap(), "test-live", big).unwrap();
        let started = Instant::now();
        let mut silent = TcpStream::connect(server.addr()).unwrap();
        let mut stalled = TcpStream::connect(server.addr()).unwrap();
        stalled.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        let mut trickle = TcpStream::connect(server.addr()).unwrap();
        let trickling = std::thread::spawn(move || {
            for byte in b"GET / HTTP/1.1" {
                if trickle.write_all(&[*byte]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
            trickle
        });
        silent.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        assert_eq!(silent.read(&mut [0u8; 16]).unwrap(), 0, "closed without an answer");
        let closed = started.elapsed();
        assert!(closed >= LIVE_REQUEST_WAIT - Duration::from_millis(50), "{closed:?}");
        assert!(closed < LIVE_REQUEST_WAIT + Duration::from_secs(1), "{closed:?}");
        wait_for("every client to be cut", || server.connections() == 0);
        let took = started.elapsed();
        assert!(took < LIVE_REQUEST_WAIT + LIVE_ANSWER_WAIT + Duration::from_secs(1), "took {took:?}");
        let mut answer = Vec::new();
        let _ = stalled.read_to_end(&mut answer);
        assert!(answer.starts_with(b"HTTP/1.1 200 OK"), "the stalled client had its answer begun");
        assert!(answer.len() < 64 << 20, "and cut: it could not have taken it all");
        drop(trickling.join().unwrap());
    }

    /// Dropping the server cuts the connections it serves and joins every thread at once.
    #[test]
    fn stopping_does_not_wait_for_clients() {
        let server = LiveServer::start("127.0.0.1:0".parse().unwrap(), "test-live", echo_path()).unwrap();
        let idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(server.addr()).unwrap()).collect();
        wait_for("the idle clients", || server.connections() == 4);
        let stopping = Instant::now();
        drop(server);
        assert!(stopping.elapsed() < Duration::from_millis(500), "{:?}", stopping.elapsed());
        drop(idle);
    }

    /// A head ended by bare line feeds is answered at once, not at the request deadline.
    #[test]
    fn a_head_with_bare_line_feeds_is_answered_at_once() {
        let server = LiveServer::start("127.0.0.1:0".parse().unwrap(), "test-live", echo_path()).unwrap();
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        let started = Instant::now();
        stream.write_all(b"GET /bare HTTP/1.0\n\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.ends_with("Some(\"/bare\")"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    }

    #[test]
    fn only_gets_have_paths() {
        assert_eq!(request_path(b"GET /data.json?x=1 HTTP/1.1\r\n"), Some("/data.json"));
        assert_eq!(request_path(b"POST / HTTP/1.1\r\n"), None);
        assert_eq!(request_path(b"\xff\xfe"), None);
    }
}
