//! The per-core HTTP/1.1 client: keep-alive pools per host, timeouts, classification of every
//! failure into one error kind, and timings for every exchange.

use rustc_hash::FxHashMap as HashMap;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mite_codec::{CodecError, Limits, ReadProgress, RequestHead, ResponseReader, encode_request};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::buffers::{BufferPool, ConnBuffers};
use super::resolver::{Addrs, Resolver};
use super::transport::{TlsStream, Transport, WriteEnd, connect_tcp, is_tls_failure};
use super::url::Url;
use crate::limits;
use crate::stats::ErrorKind;

/// Client settings shared by every core.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Longest wait for a TCP connect (and TLS handshake).
    pub connect_timeout: Duration,
    /// Longest wait from writing a request to reading the last byte of its response.
    pub request_timeout: Duration,
    /// Idle keep-alive connections older than this are not reused.
    pub idle_timeout: Duration,
    /// Response size limits.
    pub limits: Limits,
    /// Connections one core may hold open to one host.
    pub connections_per_host_max: usize,
    /// Follow redirects unless a request says otherwise.
    pub follow_redirects: bool,
    /// Redirects one request follows unless it says otherwise.
    pub max_redirects: u8,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: limits::CONNECT_TIMEOUT_DEFAULT,
            request_timeout: limits::REQUEST_TIMEOUT_DEFAULT,
            idle_timeout: limits::IDLE_TIMEOUT_DEFAULT,
            limits: Limits::DEFAULT,
            connections_per_host_max: limits::CONNECTIONS_PER_HOST_PER_CORE_DEFAULT,
            follow_redirects: true,
            max_redirects: limits::REDIRECTS_DEFAULT,
        }
    }
}

/// A request that failed. `kind` is `None` when the request was invalid and never sent. With
/// `?` in a journey it becomes a `JourneyError` counted under its kind.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = format!("{}/status/500", ctx.config().get_or("base", ""));
///     let err: HttpError = ctx.http().get(&url).send().await.unwrap_err();
///     assert_eq!((err.status(), err.was_sent()), (Some(500), true));
///     Err(err)?
/// }
/// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
/// let failure = record.result.unwrap_err();
/// assert_eq!(failure.kind.map(|kind| kind.name()), Some("status"));
/// ```
#[derive(Clone, Debug)]
pub struct HttpError {
    kind: Option<ErrorKind>,
    status: Option<u16>,
    detail: Box<str>,
    /// Whether the request was written to a connection (a server could have seen it).
    sent: bool,
    /// Connection work done before the failure (connects, handshakes, reconnects).
    timings: Timings,
}

impl HttpError {
    /// A request that was written to a connection and then failed.
    pub(crate) fn failed(kind: ErrorKind, detail: impl Into<String>) -> HttpError {
        HttpError {
            kind: Some(kind),
            status: None,
            detail: detail.into().into_boxed_str(),
            sent: true,
            timings: Timings::default(),
        }
    }

    /// A request that failed before any byte of it was written (resolve, connect, TLS
    /// handshake, no connection free, a write the connection refused).
    pub(crate) fn not_sent(kind: ErrorKind, detail: impl Into<String>) -> HttpError {
        HttpError { sent: false, ..HttpError::failed(kind, detail) }
    }

    pub(crate) fn with_timings(mut self, timings: Timings) -> HttpError {
        self.timings = timings;
        self
    }

    /// How the request failed. A request that cannot be sent as given (a header name that is
    /// not a token, a value with a line break, a URL that does not parse) is an
    /// `invalid_request` or `invalid_url` error, counted under its transaction as an attempt
    /// never sent. (`None` is kept for errors of other origins; the client gives every error
    /// a kind.)
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let err = ctx.http().get(&format!("{base}/status/500")).send().await.unwrap_err();
    ///     assert_eq!(err.kind().map(|kind| kind.name()), Some("status"));
    ///     let invalid = ctx.http().get(&format!("{base}/")).header("bad name", "x").send().await.unwrap_err();
    ///     assert_eq!(invalid.kind(), Some(ErrorKind::InvalidRequest));
    ///     assert!(!invalid.was_sent());
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn kind(&self) -> Option<ErrorKind> {
        self.kind
    }

    /// Whether the request was written to a connection before it failed.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// # let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // bound, then freed
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let (base, closed) = (ctx.config().get_or("base", ""), ctx.config().get_or("closed", ""));
    ///     let refused = ctx.http().get(closed).send().await.unwrap_err();
    ///     assert!(!refused.was_sent()); // the server never saw it: counted as `not sent`
    ///     let answered = ctx.http().get(&format!("{base}/status/500")).send().await.unwrap_err();
    ///     assert!(answered.was_sent());
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).config("closed", format!("http://{closed}/"));
    /// # let record = record.run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn was_sent(&self) -> bool {
        self.sent
    }

    /// Connection work done for the request before it failed.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// # let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // bound, then freed
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let refused = ctx.http().get(ctx.config().get_or("closed", "")).send().await.unwrap_err();
    ///     let timings = refused.timings();
    ///     assert!(timings.connects >= 1 && timings.connects_failed == timings.connects);
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).config("closed", format!("http://{closed}/"));
    /// # let record = record.run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// The status, when the failure is an unexpected status.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let err = ctx.http().get(&format!("{base}/status/503")).send().await.unwrap_err();
    ///     assert_eq!(err.status(), Some(503));
    ///     assert!(err.to_string().ends_with("/status/503 answered 503, expected 200-399"), "{err}");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn status(&self) -> Option<u16> {
        self.status
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Some(kind) => write!(f, "{}: {}", kind.name(), self.detail),
            None => write!(f, "invalid request: {}", self.detail),
        }
    }
}

impl std::error::Error for HttpError {}

pub use crate::stats::Timings;

/// A complete response: status, head and body, with where the time went.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = format!("{}/json", ctx.config().get_or("base", ""));
///     let response: Response = ctx.http().get(&url).send().await?;
///     assert_eq!(response.status(), 200);
///     assert_eq!(response.header("Content-Type"), Some("application/json"));
///     assert_eq!(response.body_len(), response.text()?.len() as u64);
///     Ok(())
/// }
/// # assert!(JourneyTest::new().config("base", target.url("")).run(journey).unwrap().is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct Response {
    status: u16,
    head: Bytes,
    body: Bytes,
    body_bytes: u64,
    timings: Timings,
    set_cookie: bool,
}

impl Response {
    /// Whether the response carries `Set-Cookie` (found while parsing the head).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let url = format!("{base}/login");
    ///     let login = ctx.http().post(&url).form(&[("user", "ann"), ("password", "secret")]);
    ///     let response = login.follow_redirects(false).send().await?;
    ///     assert!(response.has_set_cookie());
    ///     assert_eq!(response.header("Set-Cookie"), Some("session=tok-ann; Path=/; HttpOnly"));
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn has_set_cookie(&self) -> bool {
        self.set_cookie
    }

    /// Status code.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().get(&format!("{base}/status/201")).send().await?;
    ///     assert_eq!(response.status(), 201);
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// A header value (first match, case-insensitive), when it is valid UTF-8.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().get(&format!("{base}/json")).send().await?;
    ///     assert_eq!(response.header("x-token"), Some("abc123"));
    ///     assert_eq!(response.header("X-Missing"), None);
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        mite_codec::head::find_header(&self.head, name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The raw head bytes.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().get(&format!("{base}/")).send().await?;
    ///     assert!(response.head_bytes().starts_with(b"HTTP/1.1 200 OK\r\n"));
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn head_bytes(&self) -> &[u8] {
        &self.head
    }

    /// The body (empty when the request discarded it).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().get(&format!("{base}/")).send().await?;
    ///     assert_eq!(response.body().as_ref(), b"Hello, World!");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body as UTF-8 text.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().get(&format!("{base}/json")).send().await?;
    ///     assert!(response.text()?.starts_with(r#"{"token":"abc123""#));
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.body)
    }

    /// Body bytes received (also counted when discarded).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let kept = ctx.http().get(&format!("{base}/bytes/64")).send().await?;
    ///     let discarded = ctx.http().get(&format!("{base}/bytes/64")).discard_body().send().await?;
    ///     assert_eq!((kept.body_len(), discarded.body_len(), discarded.body().len()), (64, 64, 0));
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn body_len(&self) -> u64 {
        self.body_bytes
    }

    /// Where the time went.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let first = ctx.http().get(&format!("{base}/")).send().await?.timings();
    ///     assert!(first.connects == 1 && first.total_us >= first.first_byte_us);
    ///     let again = ctx.http().get(&format!("{base}/")).send().await?.timings();
    ///     assert_eq!(again.connects, 0); // the keep-alive connection was reused
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn timings(&self) -> Timings {
        self.timings
    }
}

/// What the connection layer needs to know about one request.
pub(crate) struct Exchange<'a> {
    pub method: &'a str,
    pub url: Url<'a>,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub keep_body: bool,
}

/// A connection in use, with the core's buffers lent to it while its exchange is in flight.
struct Conn {
    io: Transport,
    read_buf: BytesMut,
    write_buf: BytesMut,
    body_buf: BytesMut,
}

impl Conn {
    fn new(io: Transport, buffers: ConnBuffers) -> Conn {
        Conn { io, read_buf: buffers.read, write_buf: buffers.write, body_buf: buffers.body }
    }

    /// The socket, and the buffers to give back.
    fn into_parts(self) -> (Transport, ConnBuffers) {
        (self.io, ConnBuffers { read: self.read_buf, write: self.write_buf, body: self.body_buf })
    }
}

/// A keep-alive connection waiting in its host's pool: the socket and since when, no buffers
/// (96 bytes, where a connection in use is 192).
struct IdleConn {
    io: Transport,
    since: Instant,
}

#[derive(Default)]
struct HostPool {
    next_addr: usize,
    idle: Vec<IdleConn>,
    open: usize,
    server_name: Option<ServerName<'static>>,
}

/// A completed round trip on one connection.
struct Trip {
    status: u16,
    head: Bytes,
    body: Bytes,
    body_bytes: u64,
    request_bytes: u64,
    first_byte_us: u64,
    /// When the response's last byte arrived.
    ended: Instant,
    keep_alive: bool,
    set_cookie: bool,
}

/// A failed round trip, with whether any response byte had arrived (for safe retries) and
/// whether the request was written at all.
struct TripError {
    kind: ErrorKind,
    detail: String,
    nothing_received: bool,
    sent: bool,
}

/// One core's client. Not shared across threads; the pool is borrowed only between awaits.
pub struct HttpClient {
    settings: Arc<HttpSettings>,
    tls: Option<Arc<ClientConfig>>,
    plain: RefCell<HashMap<Box<str>, HostPool>>,
    secure: RefCell<HashMap<Box<str>, HostPool>>,
    buffers: RefCell<BufferPool>,
    resolver: Resolver,
}

impl HttpClient {
    /// A client with no connections yet. `tls` is needed for `https://` URLs.
    pub fn new(settings: Arc<HttpSettings>, tls: Option<Arc<ClientConfig>>) -> HttpClient {
        HttpClient {
            settings,
            tls,
            plain: RefCell::default(),
            secure: RefCell::default(),
            buffers: RefCell::new(BufferPool::new()),
            resolver: Resolver::default(),
        }
    }

    /// Settings in force.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    fn pools(&self, tls: bool) -> &RefCell<HashMap<Box<str>, HostPool>> {
        if tls { &self.secure } else { &self.plain }
    }

    /// Connections currently open (idle or in use), all hosts.
    pub fn open_connections(&self) -> usize {
        let count =
            |pools: &RefCell<HashMap<Box<str>, HostPool>>| pools.borrow().values().map(|p| p.open).sum::<usize>();
        count(&self.plain) + count(&self.secure)
    }

    /// Closes idle connections (used when a run stops).
    pub fn close_idle(&self) {
        for pools in [&self.plain, &self.secure] {
            for pool in pools.borrow_mut().values_mut() {
                pool.open -= pool.idle.len();
                pool.idle.clear();
            }
        }
    }

    /// A pooled connection of `url`'s host that has been idle for less than the idle timeout
    /// at `now`, with buffers lent to it.
    fn take_idle(&self, url: &Url<'_>, now: Instant) -> Option<Conn> {
        let mut pools = self.pools(url.tls).borrow_mut();
        let pool = pools.get_mut(url.authority)?;
        while let Some(idle) = pool.idle.pop() {
            if now.saturating_duration_since(idle.since) < self.settings.idle_timeout {
                return Some(Conn::new(idle.io, self.buffers.borrow_mut().lend()));
            }
            pool.open -= 1;
        }
        None
    }

    /// Puts a reusable connection back in its host's pool, idle since `now`.
    fn keep(&self, url: &Url<'_>, conn: Conn, now: Instant) {
        let (io, buffers) = conn.into_parts();
        self.buffers.borrow_mut().give_back(buffers);
        if let Some(pool) = self.pools(url.tls).borrow_mut().get_mut(url.authority) {
            pool.idle.push(IdleConn { io, since: now });
        }
    }

    /// Counts a connection of `url`'s host as closed (its slot is free for a new one).
    fn closed(&self, url: &Url<'_>) {
        if let Some(pool) = self.pools(url.tls).borrow_mut().get_mut(url.authority) {
            pool.open -= 1;
        }
    }

    /// Closes a connection that cannot be reused, keeping its buffers for the next exchange.
    fn recycle(&self, conn: Conn) {
        self.buffers.borrow_mut().give_back(conn.into_parts().1);
    }

    /// Reserves a connection slot and picks one of the host's addresses (resolved by the caller).
    fn reserve(&self, url: &Url<'_>, addrs: &Addrs) -> Result<(SocketAddr, Option<ServerName<'static>>), TripError> {
        let mut pools = self.pools(url.tls).borrow_mut();
        if !pools.contains_key(url.authority) {
            let server_name = if url.tls {
                Some(super::tls::server_name(url.host).map_err(|e| trip(ErrorKind::Tls, e.to_string()))?)
            } else {
                None
            };
            pools.insert(url.authority.into(), HostPool { server_name, ..HostPool::default() });
        }
        let pool = pools.get_mut(url.authority).expect("inserted above");
        if pool.open >= self.settings.connections_per_host_max {
            return Err(trip(
                ErrorKind::NoConnection,
                format!(
                    "{} connections open to {} on this core (limit {}); raise --max-connections",
                    pool.open, url.authority, self.settings.connections_per_host_max
                ),
            ));
        }
        pool.open += 1;
        let addr = addrs[pool.next_addr % addrs.len()];
        pool.next_addr = pool.next_addr.wrapping_add(1);
        Ok((addr, pool.server_name.clone()))
    }

    /// Opens a connection outside the keep-alive pool (a WebSocket's). It counts against the
    /// host's connection limit until [`HttpClient::release_dedicated`].
    pub(crate) async fn connect_dedicated(&self, url: &Url<'_>) -> Result<(Transport, Timings), HttpError> {
        let mut timings = Timings::default();
        match Box::pin(self.connect(url, &mut timings)).await {
            Ok(conn) => Ok((conn.io, timings)),
            // Nothing was written: the upgrade request never reached a server.
            Err(err) => Err(HttpError::not_sent(err.kind, err.detail).with_timings(timings)),
        }
    }

    /// Gives back the slot of a connection opened by [`HttpClient::connect_dedicated`].
    pub(crate) fn release_dedicated(&self, url: &Url<'_>) {
        self.closed(url);
    }

    async fn connect(&self, url: &Url<'_>, timings: &mut Timings) -> Result<Conn, TripError> {
        // Resolved off the core (a resolver thread), cached per core; the connect timeout
        // covers the lookup too.
        let (addrs, lookup) = self
            .resolver
            .resolve(url.host, url.port, self.settings.connect_timeout)
            .await
            .map_err(|message| trip(ErrorKind::Dns, message.to_string()))?;
        timings.dns_us = lookup.map(micros);
        let (addr, server_name) = self.reserve(url, &addrs)?;
        let result = self.connect_reserved(url, addr, server_name, timings).await;
        if result.is_err() {
            self.closed(url);
        }
        result
    }

    async fn connect_reserved(
        &self,
        url: &Url<'_>,
        addr: SocketAddr,
        server_name: Option<ServerName<'static>>,
        timings: &mut Timings,
    ) -> Result<Conn, TripError> {
        let timeout = self.settings.connect_timeout;
        let started = Instant::now();
        timings.connects += 1;
        let tcp = match crate::driver::timeout(timeout, connect_tcp(addr)).await {
            Err(_) => {
                timings.connects_failed += 1;
                return Err(trip(
                    ErrorKind::Timeout,
                    format!("connect to {addr} took longer than {timeout:?} (--connect-timeout)"),
                ));
            }
            Ok(Err(err)) => {
                timings.connects_failed += 1;
                let kind = match err.kind() {
                    io::ErrorKind::ConnectionRefused => ErrorKind::Refused,
                    io::ErrorKind::TimedOut => ErrorKind::Timeout,
                    _ => ErrorKind::Connect,
                };
                // Out of descriptors: say which limit, and what to change.
                let why = super::open_files::limit_hint(&err).unwrap_or_else(|| err.to_string());
                return Err(trip(kind, format!("connect to {addr}: {why}")));
            }
            Ok(Ok(tcp)) => tcp,
        };
        timings.connect_us = Some(timings.connect_us.unwrap_or(0) + micros(started.elapsed()));
        let io = match server_name {
            None => Transport::Plain(tcp),
            Some(name) => {
                timings.tls_handshakes += 1;
                let Some(config) = self.tls.clone() else {
                    timings.tls_failed += 1;
                    return Err(trip(ErrorKind::Tls, "https URL but TLS is not configured".into()));
                };
                let tls_started = Instant::now();
                let remaining = timeout.saturating_sub(started.elapsed());
                let stream = match crate::driver::timeout(remaining, TlsStream::handshake(tcp, config, name)).await {
                    Err(_) => {
                        timings.tls_failed += 1;
                        return Err(trip(
                            ErrorKind::Timeout,
                            format!(
                                "TLS handshake with {} not done within {timeout:?} of the connect (--connect-timeout \
                                 bounds the TCP connect and the TLS handshake together)",
                                url.authority
                            ),
                        ));
                    }
                    Ok(Err(err)) => {
                        timings.tls_failed += 1;
                        let kind = if is_tls_failure(&err) { ErrorKind::Tls } else { io_kind(&err) };
                        let why = super::tls::handshake_refusal(&err);
                        return Err(trip(kind, format!("TLS handshake with {}: {why}", url.authority)));
                    }
                    Ok(Ok(stream)) => stream,
                };
                timings.tls_us = Some(timings.tls_us.unwrap_or(0) + micros(tls_started.elapsed()));
                timings.tls_resumed = stream.resumed();
                Transport::Tls(Box::new(stream))
            }
        };
        Ok(Conn::new(io, self.buffers.borrow_mut().lend()))
    }

    /// Sends one request and reads its response, reusing a keep-alive connection when one is
    /// idle. A reused connection that the server had closed (nothing came back) is replaced
    /// once and counted as a reconnect, for idempotent methods only.
    ///
    /// `progress` is told the connection work done and the request bytes written as they
    /// happen (cumulative for the exchange), so that an exchange dropped half-way (a run's
    /// stop) has counted them still.
    pub(crate) async fn exchange(
        &self,
        request: &Exchange<'_>,
        progress: &dyn Fn(Timings),
    ) -> Result<Response, HttpError> {
        // Two clock reads on a reused connection whose response comes in one read: the start
        // (also the idle check's and the timeout's reference) and the read's return (the first
        // byte, the end, the idle mark).
        let started = Instant::now();
        let mut attempt_started = started;
        let mut timings = Timings::default();
        let idempotent = matches!(request.method, "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" | "TRACE");
        loop {
            let (mut conn, reused) = match self.take_idle(&request.url, attempt_started) {
                // A non-idempotent request cannot be retried once written: check first that the
                // server has not closed the pooled connection, and replace it if it has.
                Some(conn) if !idempotent && conn.io.peer_closed() => {
                    self.closed(&request.url);
                    timings.reconnects += 1;
                    attempt_started = Instant::now();
                    continue;
                }
                Some(conn) => (conn, true),
                // Connecting is rare and its future is large (TLS handshake state): boxing it
                // keeps every request's future small, so polling it moves less memory.
                None => match Box::pin(self.connect(&request.url, &mut timings)).await {
                    Ok(conn) => (conn, false),
                    // Nothing of the request was written: a server never saw it.
                    Err(err) => return Err(HttpError::not_sent(err.kind, err.detail).with_timings(timings)),
                },
            };
            // Each attempt writes the request anew: its bytes count from 0. A first attempt on a
            // pooled connection has nothing to tell yet.
            timings.request_bytes = 0;
            if timings != Timings::default() {
                progress(timings);
            }
            let trip_started = if reused { attempt_started } else { Instant::now() };
            let written = Cell::new(0u64);
            let told = timings;
            let on_written = |bytes: u64| {
                written.set(bytes);
                progress(Timings { request_bytes: bytes, ..told });
            };
            let timeout = self.settings.request_timeout;
            let outcome = crate::driver::timeout_at(
                trip_started + timeout,
                self.round_trip(&mut conn, request, trip_started, &on_written),
            )
            .await;
            // What was written counts as sent, whatever comes of the request.
            timings.request_bytes = written.get();
            match outcome {
                Err(_) => {
                    self.closed(&request.url);
                    return Err(timed_out(request, timeout, timings));
                }
                Ok(Ok(trip)) => {
                    let ended = trip.ended;
                    // The timer fires on a millisecond tick: a response completed after the
                    // limit but before the tick is still too late.
                    let late = ended > trip_started + timeout;
                    if trip.keep_alive && conn.read_buf.is_empty() {
                        self.keep(&request.url, conn, ended);
                    } else {
                        self.recycle(conn);
                        self.closed(&request.url);
                    }
                    timings.first_byte_us = trip.first_byte_us;
                    timings.request_bytes = trip.request_bytes;
                    timings.total_us = micros(ended - started);
                    if late {
                        return Err(timed_out(request, timeout, timings));
                    }
                    let Trip { status, head, body, body_bytes, set_cookie, .. } = trip;
                    return Ok(Response { status, head, body, body_bytes, timings, set_cookie });
                }
                Ok(Err(err)) => {
                    self.closed(&request.url);
                    if reused && err.nothing_received && idempotent && timings.reconnects == 0 {
                        timings.reconnects += 1;
                        attempt_started = Instant::now();
                        continue;
                    }
                    let error = HttpError::failed(err.kind, err.detail);
                    let error = if err.sent { error } else { HttpError { sent: false, ..error } };
                    return Err(error.with_timings(timings));
                }
            }
        }
    }

    async fn round_trip(
        &self,
        conn: &mut Conn,
        request: &Exchange<'_>,
        started: Instant,
        on_written: &dyn Fn(u64),
    ) -> Result<Trip, TripError> {
        conn.body_buf.clear();
        let mut first_byte_us = None;
        let limits = &self.settings.limits;
        let Written { bytes: request_bytes, whole, failed, answer_failed, ended, reader } =
            write_request(conn, request, limits, started, &mut first_byte_us).await?;
        on_written(request_bytes);
        // Made after the write (not held across it: every request's future stays smaller),
        // unless the server answered during the write and a reader has begun its response.
        let mut reader = match reader {
            Some(reader) => *reader,
            None => ResponseReader::new(*limits, request.method == "HEAD", request.keep_body),
        };
        // A request written in part reached the server, which may have answered before reading
        // the rest (a 413 for a body too large): its answer, when one can be read, is the
        // response; else the write's error stands, the request counted as sent.
        let ended = match (ended, failed) {
            (Some(ended), _) => ended,
            // The server's answer during the write was cut short or did not parse.
            (None, Some(error)) if answer_failed => return Err(*error),
            (None, failed) => match (read_response(conn, &mut reader, started, &mut first_byte_us).await, failed) {
                (Ok(ended), _) => ended,
                (Err(_), Some(error)) => return Err(TripError { sent: true, ..*error }),
                (Err(err), None) => return Err(err),
            },
        };
        let body_bytes = reader.body_bytes();
        let (head, raw_head) = reader.take_head().expect("a complete response has a head");
        // A discarded or empty body (most responses under load) needs no split of the buffer.
        let body = if conn.body_buf.is_empty() { Bytes::new() } else { conn.body_buf.split().freeze() };
        Ok(Trip {
            status: head.status,
            head: raw_head,
            body,
            body_bytes,
            request_bytes,
            first_byte_us: first_byte_us.unwrap_or(0),
            ended,
            keep_alive: head.keep_alive && whole,
            set_cookie: head.set_cookie,
        })
    }
}

/// The error of a request with no complete response within its time.
fn timed_out(request: &Exchange<'_>, timeout: Duration, timings: Timings) -> HttpError {
    HttpError::failed(
        ErrorKind::Timeout,
        format!("no complete response from {} within {timeout:?}", request.url.authority),
    )
    .with_timings(timings)
}

/// How the write of a request ended, when some of it was written.
struct Written {
    /// Bytes of the request written.
    bytes: u64,
    /// All of them: the connection can carry another request once the response is read.
    whole: bool,
    /// Why the write stopped short, when it failed (an answer may still be read), or why the
    /// answer read during it failed (`answer_failed`). Boxed: rare.
    failed: Option<Box<TripError>>,
    answer_failed: bool,
    /// When the response's last byte arrived, when it came whole before the write ended.
    ended: Option<Instant>,
    /// The reader of a response that began to arrive before the write ended. Boxed: rare.
    reader: Option<Box<ResponseReader>>,
}

impl Written {
    #[inline]
    fn whole(bytes: usize) -> Written {
        Written { bytes: bytes as u64, whole: true, failed: None, answer_failed: false, ended: None, reader: None }
    }
}

/// Encodes the request into the connection's write buffer and writes it. A request of which
/// nothing was written is an error (not sent); one the server answered while it was being
/// written (the socket took only part of it at once) is read while it is written, see
/// [`write_while_answered`].
async fn write_request(
    conn: &mut Conn,
    request: &Exchange<'_>,
    limits: &Limits,
    started: Instant,
    first_byte_us: &mut Option<u64>,
) -> Result<Written, TripError> {
    conn.write_buf.clear();
    let head = RequestHead {
        method: request.method,
        target: request.url.target,
        host: request.url.authority,
        headers: request.headers,
    };
    encode_request(&mut conn.write_buf, &head, request.body);
    let buf = std::mem::take(&mut conn.write_buf);
    let (result, written, buf) = conn.io.write_request(buf).await;
    conn.write_buf = buf;
    match result {
        Ok(WriteEnd::Whole) => Ok(Written::whole(written)),
        // Rare (a large body): boxed, so that every request's future stays small.
        Ok(WriteEnd::PeerSpoke) => {
            let reader = Box::new(ResponseReader::new(*limits, request.method == "HEAD", request.keep_body));
            Box::pin(write_while_answered(conn, reader, started, first_byte_us, written)).await
        }
        // Not sent: a server never saw it.
        Err(err) if written == 0 => Err(send_failed(&err)),
        Err(err) => {
            let failed = Some(Box::new(send_failed(&err)));
            Ok(Written { bytes: written as u64, whole: false, failed, answer_failed: false, ended: None, reader: None })
        }
    }
}

/// The server spoke before the request was written whole (`written` bytes of it so far): reads
/// what it said, and writes on while that is only an interim response (`100 Continue`) or part
/// of a head. A final head, a close or an error ends the upload there: a client that sees a
/// response before it has sent the whole body stops sending it (RFC 9112 §9.5), so the rest
/// is never sent, the connection is half closed and not used again, and the
/// request counts as sent with the bytes actually written.
async fn write_while_answered(
    conn: &mut Conn,
    mut reader: Box<ResponseReader>,
    started: Instant,
    first_byte_us: &mut Option<u64>,
    mut written: usize,
) -> Result<Written, TripError> {
    loop {
        let buf = std::mem::take(&mut conn.read_buf);
        let (read, buf) = conn.io.read_some(buf).await;
        conn.read_buf = buf;
        let stopped = Written {
            bytes: written as u64,
            whole: false,
            failed: None,
            answer_failed: false,
            ended: None,
            reader: None,
        };
        let ended = match took_in(conn, &mut reader, read, started, first_byte_us) {
            Ok(ended) => ended,
            // The bytes written still count (the caller tells them before the error).
            Err(err) => return Ok(Written { failed: Some(Box::new(err)), answer_failed: true, ..stopped }),
        };
        if ended.is_some() || reader.head().is_some() {
            conn.io.stop_sending();
            return Ok(Written { ended, reader: Some(reader), ..stopped });
        }
        let buf = std::mem::take(&mut conn.write_buf);
        let (result, now) = conn.io.write_listening(&buf, written).await;
        conn.write_buf = buf;
        written = now;
        match result {
            Ok(WriteEnd::Whole) => return Ok(Written { reader: Some(reader), ..Written::whole(written) }),
            Ok(WriteEnd::PeerSpoke) => {}
            Err(err) => {
                let failed = Some(Box::new(send_failed(&err)));
                return Ok(Written {
                    bytes: written as u64,
                    whole: false,
                    failed,
                    answer_failed: false,
                    ended: None,
                    reader: Some(reader),
                });
            }
        }
    }
}

/// A write that failed (not sent, unless some bytes were: the caller says).
fn send_failed(err: &io::Error) -> TripError {
    TripError { kind: io_kind(err), detail: format!("send: {err}"), nothing_received: true, sent: false }
}

/// Reads until `reader` has the whole response (the body into the connection's body buffer).
/// Returns when its last byte arrived, and sets `first_byte_us` (µs after `started`) when its
/// first did (unset: a close-delimited response that was empty): the clock is read as each
/// read returns, so parsing the bytes is not counted in the response's time (nor read again).
async fn read_response(
    conn: &mut Conn,
    reader: &mut ResponseReader,
    started: Instant,
    first_byte_us: &mut Option<u64>,
) -> Result<Instant, TripError> {
    // Bytes already in the buffer (normally none: an exchange starts with an empty buffer).
    if !conn.read_buf.is_empty() {
        let at = Instant::now();
        first_byte_us.get_or_insert_with(|| micros(at.saturating_duration_since(started)));
        if feed(conn, reader)? == ReadProgress::Complete {
            return Ok(at);
        }
    }
    loop {
        let buf = std::mem::take(&mut conn.read_buf);
        let (read, buf) = conn.io.read_some(buf).await;
        conn.read_buf = buf;
        if let Some(ended) = took_in(conn, reader, read, started, first_byte_us)? {
            return Ok(ended);
        }
    }
}

/// Takes in what a read brought (the clock read as it returned), feeding it to `reader`: when
/// the response's last byte came (or the server closed after a close-delimited body), then.
/// (Not an `async fn` around the read: the read's await stays in its caller's future, one state
/// machine per exchange, as cheap as a loop written out; and inlined into both callers.)
#[inline(always)]
fn took_in(
    conn: &mut Conn,
    reader: &mut ResponseReader,
    read: io::Result<usize>,
    started: Instant,
    first_byte_us: &mut Option<u64>,
) -> Result<Option<Instant>, TripError> {
    let at = Instant::now();
    match read {
        Ok(0) => return end_of_stream(reader, first_byte_us.is_none()).map(|()| Some(at)),
        Ok(_) => {}
        Err(err) => {
            let kind = if is_tls_failure(&err) { ErrorKind::Tls } else { io_kind(&err) };
            return Err(TripError {
                kind,
                detail: format!("receive: {err}"),
                nothing_received: first_byte_us.is_none() && kind != ErrorKind::Tls,
                sent: true,
            });
        }
    }
    first_byte_us.get_or_insert_with(|| micros(at.saturating_duration_since(started)));
    Ok((feed(conn, reader)? == ReadProgress::Complete).then_some(at))
}

/// Feeds the read buffer to `reader`.
#[inline(always)]
fn feed(conn: &mut Conn, reader: &mut ResponseReader) -> Result<ReadProgress, TripError> {
    reader.feed(&mut conn.read_buf, &mut conn.body_buf).map_err(|err| codec_trip(&err))
}

/// The server closed the connection: the end of a close-delimited body, or a response cut
/// short (`unexpected_close` when nothing at all came back).
fn end_of_stream(reader: &mut ResponseReader, nothing_received: bool) -> Result<(), TripError> {
    match reader.finish_at_eof() {
        Ok(()) => Ok(()),
        Err(_) if nothing_received => Err(TripError {
            kind: ErrorKind::UnexpectedClose,
            detail: "server closed the connection without responding".into(),
            nothing_received,
            sent: true,
        }),
        Err(err) => Err(codec_trip(&err)),
    }
}

/// A failure before the request was written (resolve, connect, handshake).
fn trip(kind: ErrorKind, detail: String) -> TripError {
    TripError { kind, detail, nothing_received: false, sent: false }
}

/// A response that does not parse: the request was sent.
fn codec_trip(err: &CodecError) -> TripError {
    let kind = match err {
        CodecError::UnexpectedEof { .. } => ErrorKind::UnexpectedClose,
        err if err.is_too_large() => ErrorKind::TooLarge,
        _ => ErrorKind::Malformed,
    };
    TripError { sent: true, ..trip(kind, err.to_string()) }
}

pub(crate) fn io_kind(err: &io::Error) -> ErrorKind {
    match err.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionAborted => {
            ErrorKind::Reset
        }
        io::ErrorKind::ConnectionRefused => ErrorKind::Refused,
        io::ErrorKind::TimedOut => ErrorKind::Timeout,
        io::ErrorKind::UnexpectedEof => ErrorKind::UnexpectedClose,
        _ => ErrorKind::Io,
    }
}

/// Whole microseconds in `d`, saturating.
pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl HttpError {
    pub(crate) fn with_status(mut self, status: u16) -> HttpError {
        self.status = Some(status);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_connection_holds_its_socket_and_a_time_only() {
        // Tens of thousands wait in the pools while their journeys think: no buffers in them.
        assert!(std::mem::size_of::<IdleConn>() <= std::mem::size_of::<Transport>() + 16);
    }
}
