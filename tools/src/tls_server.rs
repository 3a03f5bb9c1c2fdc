//! The TLS target: blocking threads (one per connection, bounded) serving the same routes over
//! rustls with the test certificates in `tools/certs` (a self-made CA; the server certificate
//! names localhost, 127.0.0.1 and ::1). Built for correctness tests, not speed.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::request::{Parsed, bad_request, parse};
use crate::route::Action;
use crate::ws::{Echo, Endpoint, Step, Upgrade, WsCounters, WsCounts, client_frame, handshake_answer};

/// The test CA certificate (PEM): pass its path as `--ca`.
pub const CA_PEM: &[u8] = include_bytes!("../certs/ca.pem");
const SERVER_PEM: &[u8] = include_bytes!("../certs/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("../certs/server.key");
/// Path of the test CA file in the source tree.
pub const CA_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/certs/ca.pem");
/// The CA that signs client certificates (mutual TLS), PEM.
const CLIENT_CA_PEM: &[u8] = include_bytes!("../certs/client-ca.pem");
/// A client certificate the mTLS target accepts, and its key (paths in the source tree).
pub const CLIENT_CERT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/certs/client.pem");
/// See `CLIENT_CERT_PATH`.
pub const CLIENT_KEY_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/certs/client.key");
/// A self-signed client certificate the mTLS target refuses, and its key.
pub const ROGUE_CERT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/certs/rogue.pem");
/// See `ROGUE_CERT_PATH`.
pub const ROGUE_KEY_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/certs/rogue.key");

/// Concurrent connections the TLS target serves; more are closed at once.
const CONNECTIONS_MAX: usize = 512;

/// A running TLS target. Stops when dropped.
pub struct TlsTarget {
    addr: SocketAddr,
    hits: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    ws: Arc<WsCounters>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn server_config(client_auth: bool) -> io::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(e.to_string()))?;
    let builder = if client_auth {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(CLIENT_CA_PEM) {
            roots.add(cert.map_err(|e| io::Error::other(format!("client CA: {e}")))?).map_err(io::Error::other)?;
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| io::Error::other(format!("client verifier: {e}")))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(SERVER_PEM)
        .collect::<Result<_, _>>()
        .map_err(|e| io::Error::other(format!("server certificate: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).map_err(|e| io::Error::other(format!("server key: {e}")))?;
    let mut config = builder.with_single_cert(certs, key).map_err(|e| io::Error::other(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

impl TlsTarget {
    /// Starts on an ephemeral port of 127.0.0.1.
    pub fn start() -> io::Result<TlsTarget> {
        TlsTarget::start_on(SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Starts on an ephemeral port of 127.0.0.1, refusing clients without a certificate signed
    /// by the test client CA (`certs/client-ca.pem`): mutual TLS.
    pub fn start_requiring_client_cert() -> io::Result<TlsTarget> {
        TlsTarget::start_with(SocketAddr::from(([127, 0, 0, 1], 0)), server_config(true)?)
    }

    /// Starts on `addr` (a loopback address; port 0 for an ephemeral port).
    pub fn start_on(addr: SocketAddr) -> io::Result<TlsTarget> {
        TlsTarget::start_with(addr, server_config(false)?)
    }

    fn start_with(addr: SocketAddr, config: Arc<ServerConfig>) -> io::Result<TlsTarget> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let hits = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let ws = Arc::new(WsCounters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_hits, thread_ws, thread_stop) = (hits.clone(), ws.clone(), stop.clone());
        let accepted = connections.clone();
        let thread = std::thread::Builder::new().name("mite-tls-target".into()).spawn(move || {
            let open = Arc::new(AtomicUsize::new(0));
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                accepted.fetch_add(1, Ordering::Relaxed);
                if open.load(Ordering::SeqCst) >= CONNECTIONS_MAX {
                    continue;
                }
                open.fetch_add(1, Ordering::SeqCst);
                let (config, hits, open) = (config.clone(), thread_hits.clone(), open.clone());
                let ws = thread_ws.clone();
                let _ = std::thread::Builder::new().name("mite-tls-conn".into()).spawn(move || {
                    let _ = serve(stream, config, &hits, &ws);
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        })?;
        Ok(TlsTarget { addr, hits, connections, ws, stop, thread: Some(thread) })
    }

    /// `https://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Complete requests received.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }

    /// TCP connections accepted (those over the connection limit, closed at once, too).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// What the WebSocket echo endpoint counted (the TLS target serves `/ws/echo` only).
    pub fn ws_counts(&self) -> WsCounts {
        self.ws.counts()
    }

    /// `wss://127.0.0.1:port{path}`.
    pub fn wss_url(&self, path: &str) -> String {
        format!("wss://{}{path}", self.addr)
    }
}

impl Drop for TlsTarget {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(tcp: TcpStream, config: Arc<ServerConfig>, hits: &AtomicU64, ws: &WsCounters) -> io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    tcp.set_nodelay(true)?;
    let session = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut stream = StreamOwned::new(session, tcp);
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    // Whether the request being read was sent its `100 Continue`.
    let mut continued = false;
    loop {
        loop {
            let (action, used) = match parse(&buf) {
                Parsed::Partial => break,
                Parsed::ContinueThenPartial => {
                    if !continued {
                        stream.write_all(crate::server::CONTINUE)?;
                        stream.flush()?;
                    }
                    continued = true;
                    break;
                }
                Parsed::AnswerEarly { path, hold } => {
                    hits.fetch_add(1, Ordering::Relaxed);
                    stream.write_all(&crate::route::early_answer_to(path))?;
                    stream.flush()?;
                    std::thread::sleep(hold);
                    return Ok(());
                }
                Parsed::Invalid(why) => {
                    stream.write_all(&bad_request(why))?;
                    return Ok(());
                }
                Parsed::Complete(request) => {
                    continued = false;
                    hits.fetch_add(1, Ordering::Relaxed);
                    if let Some(upgrade) = request.upgrade.clone() {
                        let rest = bytes::BytesMut::from(&buf[request.len..]);
                        return serve_ws_echo(stream, request.path == "/ws/echo", rest, &upgrade, ws);
                    }
                    (request.route(&buf), request.len)
                }
            };
            buf.drain(..used);
            match act(&mut stream, action, &mut chunk) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(err) => return Err(count_the_rest(&mut stream, buf, hits, err)),
            }
        }
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(err) => return Err(count_the_rest(&mut stream, buf, hits, err)),
        };
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A connection that failed (its client reset it, or left while an answer was being written):
/// the requests that had already arrived whole are still counted, as the plain target counts
/// them. rustls reads and writes in one call, so a write refused after a reset would otherwise
/// hide a request queued before it. Reads records one at a time, briefly; returns `err`.
fn count_the_rest(
    stream: &mut StreamOwned<ServerConnection, TcpStream>,
    mut buf: Vec<u8>,
    hits: &AtomicU64,
    err: io::Error,
) -> io::Error {
    let _ = stream.sock.set_read_timeout(Some(Duration::from_millis(100)));
    let mut chunk = [0u8; 16 * 1024];
    loop {
        loop {
            match stream.conn.reader().read(&mut chunk) {
                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => break,
            }
        }
        let read = stream.conn.read_tls(&mut stream.sock);
        if !matches!(read, Ok(n) if n > 0) || stream.conn.process_new_packets().is_err() {
            break;
        }
    }
    while let Parsed::Complete(request) = parse(&buf) {
        hits.fetch_add(1, Ordering::Relaxed);
        buf.drain(..request.len);
    }
    err
}

/// Does what a route said; false when the connection is done with.
fn act(stream: &mut StreamOwned<ServerConnection, TcpStream>, action: Action, chunk: &mut [u8]) -> io::Result<bool> {
    match action {
        Action::Write(bytes) => stream.write_all(&bytes)?,
        Action::DelayThenWrite(delay, bytes) => {
            std::thread::sleep(delay);
            stream.write_all(&bytes)?;
        }
        Action::WriteThenClose(bytes) => {
            stream.write_all(&bytes)?;
            stream.conn.send_close_notify();
            stream.flush()?;
            return Ok(false);
        }
        // The TCP connection closed under the TLS session, which never says it ended.
        Action::WriteThenCut(bytes) => {
            stream.write_all(&bytes)?;
            stream.flush()?;
            return Ok(false);
        }
        Action::WriteRekeyWrite(first, second) => {
            stream.write_all(&first)?;
            stream.flush()?;
            stream.conn.refresh_traffic_keys().map_err(io::Error::other)?;
            stream.write_all(&second)?;
        }
        Action::WriteThenInject(first, second) => {
            stream.write_all(&first)?;
            stream.flush()?;
            stream.sock.write_all(&second)?;
            return Ok(false);
        }
        Action::Trickle(bytes, pause) => {
            for byte in bytes {
                stream.write_all(&[byte])?;
                std::thread::sleep(pause);
            }
        }
        Action::Pieces(pieces) => write_pieces(stream, pieces)?,
        Action::PiecesThenClose(pieces) => {
            write_pieces(stream, pieces)?;
            stream.conn.send_close_notify();
            stream.flush()?;
            return Ok(false);
        }
        Action::WriteThenReset(bytes) => {
            stream.write_all(&bytes)?;
            let _ = socket2::SockRef::from(&stream.sock).set_linger(Some(Duration::ZERO));
            return Ok(false);
        }
        Action::WriteThenEnd(bytes, pause) => {
            stream.write_all(&bytes)?;
            stream.flush()?;
            std::thread::sleep(pause);
            stream.conn.send_close_notify();
            stream.flush()?;
            stream.sock.shutdown(std::net::Shutdown::Write)?;
            while stream.read(chunk)? > 0 {}
            return Ok(false);
        }
        Action::WriteThenDropNext(bytes) => {
            stream.write_all(&bytes)?;
            stream.flush()?;
            // Nothing of the next request is read: closing with its bytes unread resets.
            let _ = stream.sock.peek(&mut [0u8; 1]);
            return Ok(false);
        }
        Action::WriteThenHalfClose(bytes) => {
            stream.write_all(&bytes)?;
            stream.flush()?;
            stream.sock.shutdown(std::net::Shutdown::Write)?;
            while stream.read(chunk)? > 0 {}
            return Ok(false);
        }
        Action::Silent => {
            while stream.read(chunk)? > 0 {}
            return Ok(false);
        }
    }
    Ok(true)
}

/// Writes each piece after its pause.
fn write_pieces(
    stream: &mut StreamOwned<ServerConnection, TcpStream>,
    pieces: Vec<(Duration, Vec<u8>)>,
) -> io::Result<()> {
    for (pause, bytes) in pieces {
        std::thread::sleep(pause);
        stream.write_all(&bytes)?;
        stream.flush()?;
    }
    Ok(())
}

/// The WebSocket echo endpoint over TLS (blocking); other WebSocket paths get a 404.
fn serve_ws_echo(
    mut stream: StreamOwned<ServerConnection, TcpStream>,
    is_echo: bool,
    mut buf: bytes::BytesMut,
    upgrade: &Upgrade,
    counters: &WsCounters,
) -> io::Result<()> {
    if !is_echo {
        stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return Ok(());
    }
    counters.handshakes.fetch_add(1, Ordering::Relaxed);
    stream.write_all(&handshake_answer(upgrade, Endpoint::Echo))?;
    let mut echo = Echo::default();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        while let Some(frame_in) = client_frame(&mut buf).map_err(io::Error::other)? {
            match echo.on_frame(frame_in, counters) {
                Step::Write(bytes) => stream.write_all(&bytes)?,
                Step::WriteThenClose(bytes) => {
                    stream.write_all(&bytes)?;
                    stream.conn.send_close_notify();
                    return stream.flush();
                }
            }
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
