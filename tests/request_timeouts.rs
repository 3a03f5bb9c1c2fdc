//! The request timeout against servers that stall in each phase of an exchange, in clear and
//! over TLS, on the default (the own io_uring runtime, or the epoll fallback), on epoll and on
//! monoio's io_uring: each request is counted once, as a timeout,
//! its connection closed and the bytes written counted, the error surfacing within the limit
//! and the sweep's precision (plus slack for a loaded machine), and the run ends on time.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mite_core::stats::ErrorKind;
use mite_core::{Ctx, DriverChoice, JourneyResult, Registry, Row, VolumeModel};
use mite_tests::{options, run, scenario};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

const JOURNEYS: u64 = 4;
const REQUEST_TIMEOUT: Duration = Duration::from_millis(800);
/// How much later than the limit an error may surface here (measured from the request's start,
/// its connection's setup taken off): the sweep's precision (50 µs on io_uring, a millisecond on
/// epoll) and the time for the kernel and the core to turn, with room for a machine loaded by
/// parallel builds (3-25 ms seen there, once over 300 ms). Less than the limit: a sweep a
/// period late fails.
const LATE_MAX: Duration = Duration::from_millis(600);
/// Longest a stalling server holds a connection the client does not close.
const HOLD_MAX: Duration = Duration::from_secs(10);
/// Large enough that the unread receive buffer fills long before it is all written.
const UPLOAD_BYTES: usize = 16 << 20;
/// The upload (zeros: no journey spends its time filling a body of its own).
static UPLOAD: [u8; UPLOAD_BYTES] = [0; UPLOAD_BYTES];

/// Where the server stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stall {
    /// Never reads the request (a large POST body fills the kernel's buffers).
    NeverRead,
    /// Reads the request, sends no head.
    NoHead,
    /// Sends half a head.
    HalfHead,
    /// Sends the head and half the body its Content-Length declares.
    HalfBody,
}

impl Stall {
    const ALL: [Stall; 4] = [Stall::NeverRead, Stall::NoHead, Stall::HalfHead, Stall::HalfBody];

    /// What it sends once it has read the request.
    fn answer(self) -> &'static [u8] {
        match self {
            Stall::NeverRead | Stall::NoHead => b"",
            Stall::HalfHead => b"HTTP/1.1 200 OK\r\nContent-Le",
            Stall::HalfBody => {
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789012345678901234567890123456789"
            }
        }
    }
}

/// A server that stalls every connection at `stall`, counting connections and the ones the
/// client closed while held.
struct StallServer {
    addr: SocketAddr,
    tls: bool,
    connections: Arc<AtomicU64>,
    closed_by_client: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl StallServer {
    fn start(stall: Stall, tls: bool) -> StallServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = StallServer {
            addr,
            tls,
            connections: Arc::default(),
            closed_by_client: Arc::default(),
            stop: Arc::default(),
        };
        let config = tls.then(server_config);
        let (connections, closed, stop) =
            (server.connections.clone(), server.closed_by_client.clone(), server.stop.clone());
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(tcp) = tcp else { continue };
                connections.fetch_add(1, Ordering::Relaxed);
                let (config, closed, stop) = (config.clone(), closed.clone(), stop.clone());
                std::thread::spawn(move || {
                    let held = match config {
                        None => serve(tcp, stall, &stop),
                        Some(config) => serve_tls(tcp, config, stall, &stop),
                    };
                    if held.unwrap_or(true) {
                        closed.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        server
    }

    fn url(&self) -> String {
        format!("{}://{}/stall", if self.tls { "https" } else { "http" }, self.addr)
    }
}

impl Drop for StallServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
    }
}

fn server_config() -> Arc<ServerConfig> {
    let certs = concat!(env!("CARGO_MANIFEST_DIR"), "/../tools/certs/");
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(format!("{certs}server.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(format!("{certs}server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    Arc::new(config)
}

/// Serves one clear connection; `Ok(true)` when the client closed it while held.
fn serve(mut tcp: TcpStream, stall: Stall, stop: &AtomicBool) -> io::Result<bool> {
    tcp.set_read_timeout(Some(Duration::from_millis(50)))?;
    stall_on(&mut tcp, stall, stop)
}

fn serve_tls(tcp: TcpStream, config: Arc<ServerConfig>, stall: Stall, stop: &AtomicBool) -> io::Result<bool> {
    let conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    stream.sock.set_read_timeout(Some(Duration::from_millis(50)))?;
    stall_on(&mut stream, stall, stop)
}

/// Reads the request's head (unless told never to read), sends what `stall` sends, and holds
/// the connection until the client closes it, the server stops, or `HOLD_MAX`.
fn stall_on(stream: &mut impl ReadWrite, stall: Stall, stop: &AtomicBool) -> io::Result<bool> {
    let held_since = Instant::now();
    if stall == Stall::NeverRead {
        while !stop.load(Ordering::Relaxed) && held_since.elapsed() < HOLD_MAX {
            std::thread::sleep(Duration::from_millis(20));
        }
        return Ok(false);
    }
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(true),
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(err) if is_wait(&err) && held_since.elapsed() < HOLD_MAX => {}
            Err(err) => return Err(err),
        }
    }
    stream.write_all(stall.answer())?;
    stream.flush()?;
    while !stop.load(Ordering::Relaxed) && held_since.elapsed() < HOLD_MAX {
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(err) if is_wait(&err) => {}
            // A reset, or a TLS stream cut without close_notify: the client went away.
            Err(_) => return Ok(true),
        }
    }
    Ok(false)
}

fn is_wait(err: &io::Error) -> bool {
    matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Each journey's outcome: its URL, its error kind, and how long its request took.
static OUTCOMES: Mutex<Vec<(String, Option<ErrorKind>, Duration)>> = Mutex::new(Vec::new());

async fn stalled(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get_or("url", "").to_string();
    let upload = ctx.config().get_or("upload", "") == "yes";
    let started = Instant::now();
    let sent =
        if upload { ctx.http().post(&url).body(&UPLOAD).send().await } else { ctx.http().get(&url).send().await };
    let took = started.elapsed();
    let kind = sent.as_ref().err().and_then(|err| err.kind());
    // The request's own time: less the connection's setup (its connect, its TLS handshake).
    let setup_us = sent.as_ref().err().map_or(0, |err| {
        let timings = err.timings();
        timings.dns_us.unwrap_or(0) + timings.connect_us.unwrap_or(0) + timings.tls_us.unwrap_or(0)
    });
    OUTCOMES.lock().unwrap().push((url, kind, took.saturating_sub(Duration::from_micros(setup_us))));
    sent?;
    Ok(())
}

/// Runs `JOURNEYS` requests against a server stalling at `stall` and checks how each ended.
/// Returns the latest error's lateness past the limit.
fn times_out(stall: Stall, tls: bool, driver: DriverChoice) -> Duration {
    let server = StallServer::start(stall, tls);
    let url = server.url();
    let mut registry = Registry::default();
    registry.journey("timeouts:stalled", stalled);
    let upload = if stall == Stall::NeverRead { "yes" } else { "no" };
    let config = [format!("url={url}"), format!("upload={upload}")];
    let mut opts = options(1, Duration::from_secs(20));
    opts.driver = driver;
    opts.http.request_timeout = REQUEST_TIMEOUT;
    if tls {
        opts.tls.ca_file = Some(mite_tools::tls_server::CA_PATH.into());
    }
    let started = Instant::now();
    let result =
        run(&registry, scenario("timeouts:stalled", VolumeModel::Oneshot { journeys: JOURNEYS }), &config, opts);
    let took = started.elapsed();
    let what = format!("{stall:?} tls={tls} {driver:?} (ran on {:?})", result.drivers);
    let total = result.merged.total();
    assert_eq!(
        (total.requests(), total.req_ok, total.errors_of(ErrorKind::Timeout), total.req_errors(), total.not_sent),
        (JOURNEYS, 0, JOURNEYS, JOURNEYS, 0),
        "{what}: each request once, a timeout: {:?}",
        result.merged.error_samples
    );
    assert_eq!(server.connections.load(Ordering::Relaxed), JOURNEYS, "{what}: one connection each, no retry");
    assert!(total.sent_bytes > 0, "{what}: the bytes written count");
    if stall == Stall::NeverRead {
        assert!(total.sent_bytes < JOURNEYS * UPLOAD_BYTES as u64, "{what}: part of each body: {}", total.sent_bytes);
    } else {
        // The client closed every connection it gave up on (the server sees it go).
        let closed = Instant::now();
        while server.closed_by_client.load(Ordering::Relaxed) < JOURNEYS && closed.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(server.closed_by_client.load(Ordering::Relaxed), JOURNEYS, "{what}: connections closed");
    }
    let outcomes: Vec<_> = OUTCOMES.lock().unwrap().iter().filter(|o| o.0 == url).cloned().collect();
    assert_eq!(outcomes.len() as u64, JOURNEYS, "{what}");
    let (mut earliest, mut latest) = (Duration::MAX, Duration::ZERO);
    for (_, kind, took) in &outcomes {
        assert_eq!(*kind, Some(ErrorKind::Timeout), "{what}");
        assert!(*took >= REQUEST_TIMEOUT, "{what}: a timeout before the limit: {took:?}");
        earliest = earliest.min(took.saturating_sub(REQUEST_TIMEOUT));
        latest = latest.max(took.saturating_sub(REQUEST_TIMEOUT));
    }
    println!("{what}: timeouts {earliest:?} to {latest:?} past the limit; run took {took:?}");
    assert!(latest < LATE_MAX, "{what}: surfaced {earliest:?} to {latest:?} after the limit");
    // The run ends once its journeys have: no wait for the server's hold.
    assert!(took < Duration::from_secs(5), "{what}: the run took {took:?}");
    latest
}

fn each_stall(tls: bool, driver: DriverChoice) {
    let latest: Vec<Duration> = Stall::ALL.iter().map(|&stall| times_out(stall, tls, driver)).collect();
    println!("tls={tls} {driver:?}: lateness per stall {latest:?}");
}

#[test]
fn a_stalled_exchange_times_out_once_by_default() {
    each_stall(false, DriverChoice::Auto);
}

#[test]
fn a_stalled_exchange_times_out_once_on_monoio_io_uring() {
    if io_uring_here() {
        each_stall(false, DriverChoice::IoUring);
    }
}

#[test]
fn a_stalled_exchange_times_out_once_on_epoll() {
    each_stall(false, DriverChoice::Epoll);
}

#[test]
fn a_stalled_tls_exchange_times_out_once_by_default() {
    each_stall(true, DriverChoice::Auto);
}

#[test]
fn a_stalled_tls_exchange_times_out_once_on_monoio_io_uring() {
    if io_uring_here() {
        each_stall(true, DriverChoice::IoUring);
    }
}

/// Whether monoio's io_uring runtime starts here (where it does not, its tests have nothing to run).
fn io_uring_here() -> bool {
    mite_core::driver::CoreRuntime::build(DriverChoice::IoUring).is_ok()
}

#[test]
fn a_stalled_tls_exchange_times_out_once_on_epoll() {
    each_stall(true, DriverChoice::Epoll);
}
