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

use super::addresses::AddrChoice;
use super::buffers::{BufferPool, ConnBuffers};
use super::resolver::{Addrs, Resolver};
use super::timings::{ConnWork, ExchangeTimings};
use super::transport::{TlsStream, Transport, WriteAndRead, WriteEnd, connect_tcp, is_tls_failure};
use super::url::Url;
use crate::driver::Moment;
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
    timings: ExchangeTimings,
}

impl HttpError {
    /// A request that was written to a connection and then failed.
    #[cold]
    pub(crate) fn failed(kind: ErrorKind, detail: impl Into<String>) -> HttpError {
        HttpError {
            kind: Some(kind),
            status: None,
            detail: detail.into().into_boxed_str(),
            sent: true,
            timings: ExchangeTimings::default(),
        }
    }

    /// A request that failed before any byte of it was written (resolve, connect, TLS
    /// handshake, no connection free, a write the connection refused).
    #[cold]
    pub(crate) fn not_sent(kind: ErrorKind, detail: impl Into<String>) -> HttpError {
        HttpError { sent: false, ..HttpError::failed(kind, detail) }
    }

    pub(crate) fn with_timings(self, timings: Timings) -> HttpError {
        self.with_exchange_timings(timings.into())
    }

    pub(crate) fn with_exchange_timings(mut self, timings: ExchangeTimings) -> HttpError {
        self.timings = timings;
        self
    }

    /// What the exchange measured, as held (the connection work boxed, `None` when none).
    pub(crate) fn exchange_timings(&self) -> &ExchangeTimings {
        &self.timings
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
        self.timings.get()
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
    pub(crate) status: u16,
    pub(crate) head: Bytes,
    pub(crate) body: Bytes,
    pub(crate) body_bytes: u64,
    /// Compact: a response is moved several times on its way to the journey.
    pub(crate) timings: ExchangeTimings,
    pub(crate) set_cookie: bool,
}

impl Response {
    /// What the exchange measured, as held (the connection work boxed, `None` when none): what
    /// the core records, with no [`Timings`] made for it.
    #[inline]
    pub(crate) fn exchange_timings(&self) -> &ExchangeTimings {
        &self.timings
    }

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
        self.timings.get()
    }
}

/// Where an exchange tells what it has done as it does it (cumulative for the exchange), so that
/// an exchange dropped half-way (a run's stop) has counted it still.
pub(crate) trait Progress {
    /// The connection work done (connects, handshakes, reconnects) as an attempt begins:
    /// `timings.request_bytes` is 0 (each attempt writes the request anew).
    fn work(&self, timings: &Timings);
    /// The attempt wrote `bytes` of the request, with no connection work since it began.
    fn written(&self, bytes: u64);
    /// The response came whole at `at` (the clock read as the read that brought its last byte
    /// returned), and the exchange returns it now, with no wait between: a caller that ends
    /// its own timing in the same turn may share this read of the clock.
    fn ended(&self, _at: Moment) {}
}

/// What the connection layer needs to know about one request.
pub(crate) struct Exchange<'a> {
    pub method: &'a http::Method,
    pub url: Url<'a>,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    /// The request's head as `encode_request` writes it from the fields above, encoded once
    /// already (a declarative step's plain request: `KeptRequest`); `None`: encoded here.
    pub head: Option<&'a EncodedHead>,
    pub keep_body: bool,
    /// Whether the response's raw head is kept for its fields (`Response::header`); `false`
    /// (a declarative step that captures no header): only a head with `Set-Cookie` or a
    /// redirect's is (see `ResponseReader::with_head_kept`).
    pub keep_head: bool,
    /// When the exchange started, read already by the caller in the same turn (`None`: the
    /// exchange reads the clock itself).
    pub started: Option<Moment>,
}

/// The pool of a kept URL's host in its core's client, once found (pools are never removed,
/// and a kept URL stays on its core: an id once found stays its host's): its requests take an
/// idle connection with no look-up of the host by its authority.
pub(crate) struct HostHint(Cell<HostId>);

impl Default for HostHint {
    fn default() -> HostHint {
        HostHint(Cell::new(HostId::MAX))
    }
}

/// A request head encoded once, behind a thin pointer: the exchange, held in every request's
/// future, grows by one word for it, not two. With it, the pool of its URL's host once found
/// (the exchange's requests with this head take an idle connection with no look-up of the
/// host by its authority; in the head's place, not the exchange's: no word more there).
pub(crate) struct EncodedHead(pub Box<[u8]>, pub HostHint);

/// A connection in use, with the core's buffers lent to it while its exchange is in flight,
/// and its host's pool (an index into [`Hosts::pools`]: no lookup by name to give it back).
/// The socket and the buffers are boxed (each box made once, when the connection or the
/// buffer set is): a connection moves in and out of its pool as three words, not some 200
/// bytes copied at each take and each return.
pub(crate) struct Conn {
    pub(crate) io: Box<Transport>,
    pub(crate) host: HostId,
    pub(crate) buf: Box<ConnBuffers>,
}

/// A keep-alive connection waiting in its host's pool: the socket and since when it has been
/// idle (a reuse compares the time since with the idle timeout and `limits::IDLE_PEEK_AFTER`,
/// their nanoseconds worked out once per client: no deadline added up as it is put back), no
/// buffers (16 bytes here, and the socket's box).
struct IdleConn {
    io: Box<Transport>,
    since: Moment,
}

/// One host's connections on this core (a host is a scheme's authority: `http://a` and
/// `https://a` are two).
struct HostPool {
    tls: bool,
    authority: Box<str>,
    /// Which address each new connection tries first, and which refused lately.
    addrs: AddrChoice,
    idle: Vec<IdleConn>,
    open: usize,
    server_name: Option<ServerName<'static>>,
}

/// A host's pool: its index in [`Hosts::pools`] (pools are never removed).
type HostId = usize;

/// The core's host pools, found by name through `by_name`, or without hashing when a request
/// goes to the same host as the one before (`last`: a journey mostly talks to one host).
#[derive(Default)]
struct Hosts {
    pools: Vec<HostPool>,
    /// Cleartext hosts and TLS hosts by authority.
    plain: HashMap<Box<str>, HostId>,
    secure: HashMap<Box<str>, HostId>,
    last: HostId,
}

impl Hosts {
    /// The pool of `url`'s host, when it has one.
    #[inline]
    fn find(&mut self, url: &Url<'_>) -> Option<HostId> {
        if let Some(pool) = self.pools.get(self.last)
            && pool.tls == url.tls
            && same_text(&pool.authority, url.authority)
        {
            return Some(self.last);
        }
        self.find_by_name(url)
    }

    /// [`Hosts::find`] when the request goes to another host than the one before.
    #[inline(never)]
    fn find_by_name(&mut self, url: &Url<'_>) -> Option<HostId> {
        let names = if url.tls { &self.secure } else { &self.plain };
        let id = *names.get(url.authority)?;
        self.last = id;
        Some(id)
    }

    /// The pool of `url`'s host, made when it has none (`server_name` is asked for then).
    fn find_or_add(
        &mut self,
        url: &Url<'_>,
        server_name: impl FnOnce() -> Result<Option<ServerName<'static>>, TripError>,
    ) -> Result<HostId, TripError> {
        if let Some(id) = self.find(url) {
            return Ok(id);
        }
        let pool = HostPool {
            tls: url.tls,
            authority: url.authority.into(),
            addrs: AddrChoice::default(),
            idle: Vec::new(),
            open: 0,
            server_name: server_name()?,
        };
        let id = self.pools.len();
        self.pools.push(pool);
        let names = if url.tls { &mut self.secure } else { &mut self.plain };
        names.insert(url.authority.into(), id);
        self.last = id;
        Ok(id)
    }
}

/// Whether `a` and `b` hold the same bytes: an authority (`127.0.0.1:8080`, 8 to 32 bytes) is
/// compared a word at a time in line, not by a call to the C library's `memcmp` (some 30
/// instructions a request fewer, where a request goes to the host of the one before).
#[inline(always)]
fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if !(8..=32).contains(&n) {
        return a == b;
    }
    let word = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let mut at = 0;
    while at + 8 < n {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    // The last word, overlapping the one before when `n` is not a multiple of 8.
    word(a, n - 8) == word(b, n - 8)
}

/// Whether a request with `method` may be sent again on a new connection when a pooled one the
/// server had let go took it: GET, HEAD, OPTIONS, PUT, DELETE, TRACE (RFC 9110 §9.2.2). Read from
/// the method itself, not compared as text.
#[inline(always)]
pub(crate) fn idempotent(method: &http::Method) -> bool {
    method.is_idempotent() && *method != http::Method::QUERY
}

/// `limits::IDLE_PEEK_AFTER` as nanoseconds (see [`IdleConn`]).
const IDLE_PEEK_AFTER_NANOS: u64 = Moment::span_nanos(limits::IDLE_PEEK_AFTER);

/// A connection slot reserved in a host's pool, and the addresses to try it on, in order.
struct Reservation {
    host: HostId,
    addrs: Vec<SocketAddr>,
    server_name: Option<ServerName<'static>>,
}

/// A connection slot reserved in a host's pool, and the address to connect it to.
struct Reserved {
    host: HostId,
    addr: SocketAddr,
    server_name: Option<ServerName<'static>>,
}

/// A completed round trip on one connection.
pub(crate) struct Trip {
    pub(crate) status: u16,
    pub(crate) head: Bytes,
    pub(crate) body: Bytes,
    pub(crate) body_bytes: u64,
    pub(crate) request_bytes: u64,
    /// When the response's first byte arrived (`None`: a close-delimited response that was
    /// empty).
    pub(crate) first_byte: Option<Moment>,
    /// When the response's last byte arrived.
    pub(crate) ended: Moment,
    pub(crate) keep_alive: bool,
    pub(crate) set_cookie: bool,
}

/// A failed round trip, with whether any response byte had arrived (for safe retries) and
/// whether the request was written at all.
pub(crate) struct TripError {
    pub(crate) kind: ErrorKind,
    pub(crate) detail: String,
    pub(crate) nothing_received: bool,
    pub(crate) sent: bool,
}

/// The body of [`HttpClient::exchange`] (`$client`: `&HttpClient`, `$request`: `&Exchange`,
/// `$progress`: `&impl Progress`), written out in the async block that awaits it:
/// `Result<Response, HttpError>`. The plain request's send and a declarative step's await the
/// round trip so, with no future of the exchange's between (none built, polled through and
/// dropped a request, and the response not copied out of one).
///
/// `exchange_in_place!(client, request, progress, transaction)`: each await polled through
/// `transaction.polled(..)` (a caller's open transaction, as a transaction polls its body).
macro_rules! exchange_in_place {
    (@await $future:expr,) => {
        $future.await
    };
    (@await $future:expr, $transaction:ident) => {
        $transaction.polled($future).await
    };
    ($client:expr, $request:expr, $progress:expr $(, $transaction:ident)?) => {
        'exchange: {
            let client: &$crate::http::HttpClient = $client;
            let request: &$crate::http::client::Exchange<'_> = $request;
            let progress = $progress;
            // Two clock reads on a reused connection whose response comes in one read: the start
            // (also the idle check's and the timeout's reference; a declarative step's is its
            // transaction's start, read already) and the read's return (the first byte, the end,
            // the idle mark).
            let started = request.started.unwrap_or_else($crate::driver::Moment::now);
            let mut attempt_started = started;
            // Connection work (boxed when some is done: never on a pooled connection's request,
            // and every request's future holds this).
            let mut work: $crate::http::timings::ConnWork = None;
            // Bytes the attempt before wrote (retried on a new connection), told when connecting
            // for the next one fails.
            let mut retried_bytes = 0;
            let idempotent = $crate::http::client::idempotent(request.method);
            // Tries that ended on a pooled connection the server had let go (see below).
            let mut pooled_retries = 0u8;
            'attempts: loop {
                let (mut conn, reused) = match client.take_idle(request, attempt_started) {
                    // A non-idempotent request cannot be retried once written: check first that the
                    // server has not closed the pooled connection (or sent bytes nobody asked for), and
                    // replace it if it has. So does a retry (the pooled connections are as old as the
                    // one that failed), and any request on a connection idle for a while: a late body
                    // after a bodiless head, or an answer nobody asked for, would be read as its own.
                    Some((io, host, idle_long))
                        if (!idempotent || idle_long || work.as_ref().is_some_and(|w| w.reconnects > 0))
                            && io.peer_closed() =>
                    {
                        ::std::hint::cold_path();
                        client.closed(host);
                        $crate::http::timings::work_mut(&mut work).reconnects += 1;
                        attempt_started = $crate::driver::Moment::now();
                        continue 'attempts;
                    }
                    Some((io, host, _)) => ($crate::http::client::Conn { io, host, buf: client.buffers.borrow_mut().lend() }, true),
                    // Connecting is rare and its future is large (TLS handshake state): boxing it
                    // keeps every request's future small, so polling it moves less memory.
                    None => match $crate::http::client::exchange_in_place!(@await ::std::boxed::Box::pin(client.connect(&request.url, $crate::http::timings::work_mut(&mut work))), $($transaction)?) {
                        Ok(conn) => {
                            // Once a connection (its first request): out of the pooled request's way.
                            ::std::hint::cold_path();
                            (conn, false)
                        }
                        // Nothing of the request was written: a server never saw it.
                        Err(err) => {
                            let timings = $crate::http::timings::ExchangeTimings::unanswered(retried_bytes, work);
                            break 'exchange Err($crate::http::HttpError::not_sent(err.kind, err.detail).with_exchange_timings(timings));
                        }
                    },
                };
                // Each attempt writes the request anew: its bytes count from 0 (the work's are 0). A
                // first attempt on a pooled connection has nothing to tell yet.
                if let Some(work) = &work {
                    ::std::hint::cold_path();
                    $crate::http::client::Progress::work(progress, work);
                }
                let trip_started = if reused { attempt_started } else { $crate::driver::Moment::now() };
                let written = ::std::cell::Cell::new(0u64);
                let on_written = |bytes: u64| {
                    written.set(bytes);
                    $crate::http::client::Progress::written(progress, bytes);
                };
                // No timer per request: once the deadline has passed, the core's sweep shuts the
                // socket down, which ends the read or write waiting on it (see
                // `driver::IoDeadline`). Registered after the connection, so let go of first.
                let sweep = trip_started
                    .checked_add_nanos(client.request_timeout_nanos)
                    .map(|deadline| $crate::driver::IoDeadline::register(deadline, conn.io.raw_fd()));
                // The round trip, awaited here rather than in a future of its own (one level fewer
                // to resume when the answer comes): the write and the first read of the answer
                // together, and when that read brought the whole response (nearly every request
                // under load) nothing more to wait for.
                let outcome = 'trip: {
                    // (Each value in a block of its own that ends before the next await: a value
                    // still in scope at an await is kept in the future, moved from or not.)
                    let rest = {
                        let (wbuf, rbuf) = $crate::http::client::encode_request_into(&mut conn, request);
                        // The own ring's send and read on the socket's block (a future whose poll
                        // is inlined here), else the two apart.
                        let sent = 'sent: {
                            let (wbuf, rbuf) = match conn.io.together(wbuf, rbuf, &on_written) {
                                Ok(together) => break 'sent $crate::http::client::exchange_in_place!(@await together, $($transaction)?),
                                Err(bufs) => bufs,
                            };
                            $crate::http::client::exchange_in_place!(
                                @await conn.io.write_request_and_read_apart(wbuf, rbuf, &on_written), $($transaction)?
                            )
                        };
                        let mut more = None;
                        if let Some(outcome) = client.answered(&mut conn, request, sent, &on_written, &mut more) {
                            break 'trip outcome;
                        }
                        let Some(more) = more else { unreachable!("a trip not over has more to do") };
                        // Polled out of line: its code (the rest of the read, a write the
                        // server answered during) is not among the exchange's hot blocks.
                        $crate::http::out_of_line::out_of_line(client.rest_of_trip(&mut conn, request, more, &on_written))
                    };
                    $crate::http::client::exchange_in_place!(@await rest, $($transaction)?)
                };
                let swept = sweep.is_some_and($crate::driver::IoDeadline::end);
                match outcome {
                    // Whatever the shut-down socket made of the exchange (an end of stream, a broken
                    // pipe), it is a timeout. What was written counts as sent.
                    Err(_) if swept => {
                        ::std::hint::cold_path();
                        client.closed(conn.host);
                        break 'exchange Err($crate::http::client::timed_out(client, request, $crate::http::timings::ExchangeTimings::unanswered(written.get(), work)));
                    }
                    // A `408` closing a pooled connection was sent before this request, by a server
                    // timing the idle connection out: not this request's answer. The request goes on
                    // another connection, whatever its method (RFC 9110 §15.5.9: the server did not
                    // take it, and the client may repeat it on a new connection); a few times, for a
                    // 408 may cross the request on the next pooled connection too.
                    Ok(trip)
                        if trip.status == 408
                            && reused
                            && !trip.keep_alive
                            && !swept
                            && pooled_retries < $crate::limits::POOLED_RETRIES_MAX =>
                    {
                        ::std::hint::cold_path();
                        pooled_retries += 1;
                        client.recycle(conn);
                        $crate::http::timings::work_mut(&mut work).reconnects += 1;
                        retried_bytes = written.get();
                        attempt_started = $crate::driver::Moment::now();
                        continue 'attempts;
                    }
                    Ok(trip) => {
                        let ended = trip.ended;
                        // The sweep runs on the timers' grid: a response completed after the limit
                        // but before the sweep is still too late (and one the sweep ended, a
                        // close-delimited body, is one too). (Its deadline worked out again from the
                        // trip's start, not kept across the await.)
                        let late = swept || ended.after(trip_started, client.request_timeout_nanos);
                        // A shut-down socket carries nothing more.
                        if trip.keep_alive && conn.buf.read.is_empty() && !swept {
                            client.keep(conn, ended);
                        } else {
                            // The server's close (nginx: after 1,000 requests), or a response cut
                            // short by the sweep: once in many requests.
                            ::std::hint::cold_path();
                            client.recycle(conn);
                        }
                        let first_byte_us = trip.first_byte.map_or(0, |at| at.micros_since(trip_started));
                        // The same figure when the response came whole in its first read on a pooled
                        // connection's first attempt (nearly every request under load): one
                        // subtraction of instants, not two.
                        let total_us = if trip.first_byte == Some(ended) && trip_started == started {
                            first_byte_us
                        } else {
                            ended.micros_since(started)
                        };
                        let timings =
                            $crate::http::timings::ExchangeTimings { first_byte_us, total_us, request_bytes: trip.request_bytes, work };
                        if late {
                            ::std::hint::cold_path();
                            break 'exchange Err($crate::http::client::timed_out(client, request, timings));
                        }
                        $crate::http::client::Progress::ended(progress, ended);
                        let $crate::http::client::Trip { status, head, body, body_bytes, set_cookie, .. } = trip;
                        break 'exchange Ok($crate::http::Response { status, head, body, body_bytes, timings, set_cookie });
                    }
                    Err(err) => {
                        ::std::hint::cold_path();
                        client.closed(conn.host);
                        // Again while the tries end on pooled connections: the server may let each
                        // go as the request comes, which no peek sees.
                        if reused && err.nothing_received && idempotent && pooled_retries < $crate::limits::POOLED_RETRIES_MAX {
                            pooled_retries += 1;
                            $crate::http::timings::work_mut(&mut work).reconnects += 1;
                            retried_bytes = written.get();
                            attempt_started = $crate::driver::Moment::now();
                            continue 'attempts;
                        }
                        // What was written counts as sent, whatever came of the request.
                        break 'exchange Err($crate::http::client::trip_failed(err, written.get(), work));
                    }
                }
            }
        }
    };
}
pub(crate) use exchange_in_place;

/// One core's client. Not shared across threads; the pool is borrowed only between awaits.
pub struct HttpClient {
    settings: Arc<HttpSettings>,
    /// The settings' request and idle timeouts as nanoseconds (`Moment::span_nanos`), worked
    /// out once rather than at every request.
    pub(crate) request_timeout_nanos: u64,
    idle_timeout_nanos: u64,
    tls: Option<Arc<ClientConfig>>,
    hosts: RefCell<Hosts>,
    pub(crate) buffers: RefCell<BufferPool>,
    resolver: Resolver,
}

impl HttpClient {
    /// A client with no connections yet. `tls` is needed for `https://` URLs.
    pub fn new(settings: Arc<HttpSettings>, tls: Option<Arc<ClientConfig>>) -> HttpClient {
        HttpClient {
            request_timeout_nanos: Moment::span_nanos(settings.request_timeout),
            idle_timeout_nanos: Moment::span_nanos(settings.idle_timeout),
            settings,
            tls,
            hosts: RefCell::default(),
            buffers: RefCell::new(BufferPool::new()),
            resolver: Resolver::default(),
        }
    }

    /// Settings in force.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Connections currently open (idle or in use), all hosts.
    pub fn open_connections(&self) -> usize {
        self.hosts.borrow().pools.iter().map(|pool| pool.open).sum()
    }

    /// Closes idle connections (used when a run stops).
    pub fn close_idle(&self) {
        for pool in &mut self.hosts.borrow_mut().pools {
            pool.open -= pool.idle.len();
            pool.idle.clear();
        }
    }

    /// A pooled connection of `request`'s host that has been idle for less than the idle timeout
    /// at `now`, its host's pool (the caller lends it buffers), and whether it has been idle
    /// long enough to be peeked at before it is used (`limits::IDLE_PEEK_AFTER`).
    #[inline(always)]
    pub(crate) fn take_idle(&self, request: &Exchange<'_>, now: Moment) -> Option<(Box<Transport>, HostId, bool)> {
        let mut hosts = self.hosts.borrow_mut();
        // A kept request's head knows its host's pool once it has been found (`EncodedHead`).
        let hint = request.head.map(|head| &head.1);
        let host = match hint.map(|hint| hint.0.get()) {
            Some(host) if host != HostId::MAX => host,
            _ => {
                let host = hosts.find(&request.url)?;
                if let Some(hint) = hint {
                    hint.0.set(host);
                }
                host
            }
        };
        let pool = &mut hosts.pools[host];
        while let Some(idle) = pool.idle.pop() {
            // Idle for less than the idle timeout (never too old: a timeout beyond the clock's
            // range).
            if !now.passed(idle.since, self.idle_timeout_nanos) {
                return Some((idle.io, host, now.passed(idle.since, IDLE_PEEK_AFTER_NANOS)));
            }
            pool.open -= 1;
        }
        None
    }

    /// Puts a reusable connection back in its host's pool, idle since `now`.
    #[inline(always)]
    pub(crate) fn keep(&self, conn: Conn, now: Moment) {
        let Conn { io, host, buf } = conn;
        self.buffers.borrow_mut().give_back(buf);
        self.hosts.borrow_mut().pools[host].idle.push(IdleConn { io, since: now });
    }

    /// Counts a connection of pool `host` as closed (its slot is free for a new one).
    pub(crate) fn closed(&self, host: HostId) {
        self.hosts.borrow_mut().pools[host].open -= 1;
    }

    /// Closes a connection that cannot be reused, keeping its buffers for the next exchange,
    /// and frees its slot.
    pub(crate) fn recycle(&self, conn: Conn) {
        self.closed(conn.host);
        self.buffers.borrow_mut().give_back(conn.buf);
    }

    /// Reserves a connection slot and says which of the host's addresses (resolved by the
    /// caller) to try it on, in order: `AddrChoice::order`, the one place that picks.
    fn reserve(&self, url: &Url<'_>, addrs: &Addrs) -> Result<Reservation, TripError> {
        let mut hosts = self.hosts.borrow_mut();
        let host = hosts.find_or_add(url, || {
            if !url.tls {
                return Ok(None);
            }
            super::tls::server_name(url.host).map(Some).map_err(|e| trip(ErrorKind::Tls, e.to_string()))
        })?;
        let pool = &mut hosts.pools[host];
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
        let addrs = pool.addrs.order(addrs, Instant::now());
        Ok(Reservation { host, addrs, server_name: pool.server_name.clone() })
    }

    /// Opens a connection outside the keep-alive pool (a WebSocket's). It counts against the
    /// host's connection limit until [`HttpClient::release_dedicated`].
    pub(crate) async fn connect_dedicated(&self, url: &Url<'_>) -> Result<(Transport, Timings), HttpError> {
        let mut timings = Timings::default();
        match Box::pin(self.connect(url, &mut timings)).await {
            Ok(conn) => Ok((*conn.io, timings)),
            // Nothing was written: the upgrade request never reached a server.
            Err(err) => Err(HttpError::not_sent(err.kind, err.detail).with_timings(timings)),
        }
    }

    /// Gives back the slot of a connection opened by [`HttpClient::connect_dedicated`].
    pub(crate) fn release_dedicated(&self, url: &Url<'_>) {
        let host = self.hosts.borrow_mut().find(url);
        if let Some(host) = host {
            self.closed(host);
        }
    }

    pub(crate) async fn connect(&self, url: &Url<'_>, timings: &mut Timings) -> Result<Conn, TripError> {
        // Resolved off the core (a resolver thread), cached per core; the connect timeout
        // covers the lookup too.
        let (addrs, lookup) = self
            .resolver
            .resolve(url.host, url.port, self.settings.connect_timeout)
            .await
            .map_err(|message| trip(ErrorKind::Dns, message.to_string()))?;
        timings.dns_us = lookup.map(micros);
        let Reservation { host, addrs, server_name } = self.reserve(url, &addrs)?;
        // A refused address (a name's `::1` while the server listens on 127.0.0.1 only) goes on
        // to the next, each tried once, on the one slot; the pool remembers the refusal, so its
        // next connections try that address last.
        let mut last = None;
        for &addr in &addrs {
            let reserved = Reserved { host, addr, server_name: server_name.clone() };
            match self.connect_reserved(url, reserved, timings).await {
                Ok(conn) => {
                    self.hosts.borrow_mut().pools[host].addrs.accepted(addr);
                    return Ok(conn);
                }
                Err(err) if err.kind == ErrorKind::Refused => {
                    self.hosts.borrow_mut().pools[host].addrs.refused(addr, Instant::now());
                    last = Some(err);
                }
                Err(err) => {
                    self.closed(host);
                    return Err(err);
                }
            }
        }
        self.closed(host);
        Err(match (last, addrs.len()) {
            (Some(last), 1) => last,
            (Some(_), _) => trip(ErrorKind::Refused, every_address_refused(url, &addrs)),
            (None, _) => trip(ErrorKind::Dns, format!("resolve {}: no addresses", url.host)),
        })
    }

    async fn connect_reserved(
        &self,
        url: &Url<'_>,
        reserved: Reserved,
        timings: &mut Timings,
    ) -> Result<Conn, TripError> {
        let Reserved { host, addr, server_name } = reserved;
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
            None => Transport::plain(tcp),
            Some(name) => {
                timings.tls_handshakes += 1;
                let Some(config) = self.tls.clone() else {
                    timings.tls_failed += 1;
                    return Err(trip(ErrorKind::Tls, "https URL but TLS is not configured".into()));
                };
                let tls_started = Instant::now();
                let remaining = timeout.saturating_sub(started.elapsed());
                let heard = Cell::new(false);
                let handshake = TlsStream::handshake(tcp, config, name, &heard);
                let stream = match crate::driver::timeout(remaining, handshake).await {
                    Err(_) => {
                        timings.tls_failed += 1;
                        return Err(trip(ErrorKind::Timeout, handshake_timed_out(url.authority, timeout, heard.get())));
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
        Ok(Conn { io: Box::new(io), host, buf: self.buffers.borrow_mut().lend() })
    }

    /// Sends one request and reads its response, reusing a keep-alive connection when one is
    /// idle. A reused connection that the server had closed (nothing came back) is replaced
    /// and counted as a reconnect, for idempotent methods only (again while the tries end so,
    /// up to `limits::POOLED_RETRIES_MAX`).
    ///
    /// `progress` is told the connection work done and the request bytes written as they
    /// happen (cumulative for the exchange), so that an exchange dropped half-way (a run's
    /// stop) has counted them still.
    /// (An async block, not an `async fn`: an `async fn` keeps its arguments twice in its
    /// future, and every request's future holds this one.)
    /// (An async block, not an `async fn`: an `async fn` keeps its arguments twice in its
    /// future. The plain request's send and a declarative step write the same body out in
    /// their own futures: [`exchange_in_place!`].)
    #[expect(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice in its future")]
    pub(crate) fn exchange<'a>(
        &'a self,
        request: &'a Exchange<'a>,
        progress: &'a impl Progress,
    ) -> impl Future<Output = Result<Response, HttpError>> + 'a {
        async move { crate::http::client::exchange_in_place!(self, request, progress) }
    }

    /// What the write of a request and the read made beside it brought: the trip, when it is
    /// over (that read brought the whole response, or something failed); else `None`, and what
    /// is left to do in `more`. (Not a future: the exchange awaits the write itself, and only
    /// the rare rest is one. The trip returned as it is, not in an enum beside what is left:
    /// one copy of it fewer.)
    #[inline(always)]
    pub(crate) fn answered(
        &self,
        conn: &mut Conn,
        request: &Exchange<'_>,
        sent: WriteAndRead,
        on_written: &dyn Fn(u64),
        more: &mut Option<More>,
    ) -> Option<Result<Trip, TripError>> {
        let mut written = match after_write(conn, sent) {
            Ok(Wrote::Done(written)) => written,
            Ok(Wrote::PeerSpoke { written, read }) => {
                std::hint::cold_path();
                *more = Some(More::PeerSpoke { written, read });
                return None;
            }
            Err(err) => {
                std::hint::cold_path();
                return Some(Err(err));
            }
        };
        on_written(written.bytes);
        let mut reader = self.reader_for(request);
        let mut first_byte = None;
        let read = match (written.read.take(), &written.failed) {
            (Some(read), None) => read,
            // Not read beside the write (TLS, a large request), or the write failed part way.
            (read, _) => {
                std::hint::cold_path();
                *more = Some(More::Reading { written: Written { read, ..written }, reader, first_byte });
                return None;
            }
        };
        match took_in(conn, &mut reader, read, &mut first_byte) {
            Ok(Some(ended)) => {
                Some(Ok(finish_trip(conn, request, &mut reader, first_byte, ended, (written.bytes, written.whole))))
            }
            Ok(None) => {
                *more = Some(More::Reading { written, reader, first_byte });
                None
            }
            Err(err) => {
                std::hint::cold_path();
                Some(Err(err))
            }
        }
    }

    /// A reader for the response to `request`.
    #[inline(always)]
    fn reader_for(&self, request: &Exchange<'_>) -> ResponseReader {
        ResponseReader::new(self.settings.limits, *request.method == http::Method::HEAD, request.keep_body)
            .with_head_kept(request.keep_head)
    }

    /// The rest of a round trip whose response did not come whole with its write: the rest of
    /// the response read, or the write continued while the server answers. (An async block,
    /// not an `async fn`: an `async fn` keeps its arguments twice in its future.)
    #[expect(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice in its future")]
    pub(crate) fn rest_of_trip<'a>(
        &'a self,
        conn: &'a mut Conn,
        request: &'a Exchange<'a>,
        mut more: More,
        on_written: &'a dyn Fn(u64),
    ) -> impl Future<Output = Result<Trip, TripError>> + 'a {
        async move {
            // `more` is worked on in place (bound by reference): a value moved out of it into a
            // local of this block would be kept in its future twice.
            if let More::PeerSpoke { written, read } = more {
                // Rare (a large body): boxed, so that every request's future stays small.
                let mut first_byte = None;
                let reader = Box::new(self.reader_for(request));
                let mut written = Box::pin(write_while_answered(conn, reader, &mut first_byte, written, read)).await?;
                on_written(written.bytes);
                // A reader that has begun the response during the write goes on with it.
                let reader = written.reader.take().map_or_else(|| self.reader_for(request), |reader| *reader);
                more = More::Reading { written, reader, first_byte };
            }
            let More::Reading { written, reader, first_byte } = &mut more else {
                unreachable!("a trip's write has ended")
            };
            // A request written in part reached the server, which may have answered before reading
            // the rest (a 413 for a body too large): its answer, when one can be read, is the
            // response; else the write's error stands, the request counted as sent.
            let ended = match (written.ended, written.failed.take()) {
                (Some(ended), _) => ended,
                // The server's answer during the write was cut short or did not parse.
                (None, Some(error)) if written.answer_failed => return Err(*error),
                (None, failed) => match (read_response(conn, reader, first_byte, written.read.take()).await, failed) {
                    (Ok(ended), _) => ended,
                    (Err(_), Some(error)) => return Err(TripError { sent: true, ..*error }),
                    (Err(err), None) => return Err(err),
                },
            };
            Ok(finish_trip(conn, request, reader, *first_byte, ended, (written.bytes, written.whole)))
        }
    }
}

/// What a round trip still has to do after its write.
pub(crate) enum More {
    /// The response is still to read (or the rest of it), with the reader that began it.
    Reading { written: Written, reader: ResponseReader, first_byte: Option<Moment> },
    /// The server spoke before the request was written whole (`written` bytes of it so far):
    /// see [`write_while_answered`]. `read`: the read made beside the write.
    PeerSpoke { written: usize, read: Option<io::Result<usize>> },
}

/// The trip of a response read whole (its last byte at `ended`) by `reader`, after `request_bytes`
/// of the request were written (`whole`: all of them): its head, its body split off the
/// connection's buffer when kept.
#[inline(always)]
fn finish_trip(
    conn: &mut Conn,
    request: &Exchange<'_>,
    reader: &mut ResponseReader,
    first_byte: Option<Moment>,
    ended: Moment,
    (request_bytes, whole): (u64, bool),
) -> Trip {
    let body_bytes = reader.body_bytes();
    let (head, raw_head) = reader.take_head().expect("a complete response has a head");
    // A discarded or empty body (most responses under load) needs no split of the buffer.
    let body = if conn.buf.body.is_empty() { Bytes::new() } else { conn.buf.body.split().freeze() };
    Trip {
        status: head.status,
        head: raw_head,
        body,
        body_bytes,
        request_bytes,
        first_byte,
        ended,
        // A request that said `Connection: close` ends its connection, whatever the answer.
        keep_alive: head.keep_alive && whole && !mite_codec::asks_close(request.headers),
        set_cookie: head.set_cookie,
    }
}

/// The error of a request with no complete response within `client`'s request timeout (read
/// here, not kept in every request's future for this rare end).
#[cold]
pub(crate) fn timed_out(client: &HttpClient, request: &Exchange<'_>, timings: ExchangeTimings) -> HttpError {
    let timeout = client.settings.request_timeout;
    HttpError::failed(
        ErrorKind::Timeout,
        format!("no complete response from {} within {timeout:?}", request.url.authority),
    )
    .with_exchange_timings(timings)
}

/// The error of a round trip that failed after `written` bytes of the request (counted as sent,
/// whatever came of it) and `work` on the connection.
#[cold]
pub(crate) fn trip_failed(err: TripError, written: u64, work: ConnWork) -> HttpError {
    let error = HttpError::failed(err.kind, err.detail);
    let error = if err.sent { error } else { HttpError { sent: false, ..error } };
    error.with_exchange_timings(ExchangeTimings::unanswered(written, work))
}

/// How the write of a request ended, when some of it was written.
pub(crate) struct Written {
    /// Bytes of the request written.
    bytes: u64,
    /// All of them: the connection can carry another request once the response is read.
    whole: bool,
    /// Why the write stopped short, when it failed (an answer may still be read), or why the
    /// answer read during it failed (`answer_failed`). Boxed: rare.
    failed: Option<Box<TripError>>,
    answer_failed: bool,
    /// When the response's last byte arrived, when it came whole before the write ended.
    ended: Option<Moment>,
    /// The reader of a response that began to arrive before the write ended. Boxed: rare.
    reader: Option<Box<ResponseReader>>,
    /// The answer's first read, made beside the write and not taken in yet (see
    /// [`Transport::write_request_and_read`]).
    read: Option<io::Result<usize>>,
}

impl Written {
    #[inline]
    fn whole(bytes: usize, read: Option<io::Result<usize>>) -> Written {
        Written {
            bytes: bytes as u64,
            whole: true,
            failed: None,
            answer_failed: false,
            ended: None,
            reader: None,
            read,
        }
    }
}

/// Encodes the request into the connection's write buffer (its body buffer emptied for the
/// response), and takes the write and read buffers out for [`Transport::write_request_and_read`].
#[inline(always)]
pub(crate) fn encode_request_into(conn: &mut Conn, request: &Exchange<'_>) -> (BytesMut, BytesMut) {
    conn.buf.body.clear();
    conn.buf.write.clear();
    match request.head {
        Some(head) => conn.buf.write.extend_from_slice(&head.0),
        None => {
            let head = RequestHead {
                method: request.method.as_str(),
                target: request.url.target,
                host: request.url.authority,
                headers: request.headers,
            };
            encode_request(&mut conn.buf.write, &head, request.body);
        }
    }
    (std::mem::take(&mut conn.buf.write), std::mem::take(&mut conn.buf.read))
}

/// How the write of a request went, as far as it went.
enum Wrote {
    /// Written whole, or in part and then failed (an answer may still be read).
    Done(Written),
    /// The server spoke before the request was written whole (`written` bytes of it so far):
    /// see [`write_while_answered`]. `read`: the read made beside the write.
    PeerSpoke { written: usize, read: Option<io::Result<usize>> },
}

/// Puts the buffers back and judges the write: a request of which nothing was written is an
/// error (not sent).
#[inline(always)]
fn after_write(conn: &mut Conn, sent: WriteAndRead) -> Result<Wrote, TripError> {
    let WriteAndRead { write: result, written, wbuf, read, rbuf } = sent;
    // What `encode_request_into` left in their place is empty (nothing to free): not dropped.
    std::mem::forget(std::mem::replace(&mut conn.buf.write, wbuf));
    std::mem::forget(std::mem::replace(&mut conn.buf.read, rbuf));
    match result {
        Ok(WriteEnd::Whole) => Ok(Wrote::Done(Written::whole(written, read))),
        Ok(WriteEnd::PeerSpoke) => Ok(Wrote::PeerSpoke { written, read }),
        // Not sent: a server never saw it.
        Err(err) if written == 0 => Err(send_failed(&err)),
        Err(err) => {
            let failed = Some(Box::new(send_failed(&err)));
            let (answer_failed, ended, reader, read) = (false, None, None, None);
            Ok(Wrote::Done(Written { bytes: written as u64, whole: false, failed, answer_failed, ended, reader, read }))
        }
    }
}

/// The server spoke before the request was written whole (`written` bytes of it so far): reads
/// what it said, and writes on while that is only an interim response (`100 Continue`) or part
/// of a head. A final head, a close or an error ends the upload there: a client that sees a
/// response before it has sent the whole body stops sending it (RFC 9112 §9.5), so the rest
/// is never sent, the connection is half closed and not used again, and the
/// request counts as sent with the bytes actually written. `first`: a read already made
/// beside the write, taken in before any other.
async fn write_while_answered(
    conn: &mut Conn,
    mut reader: Box<ResponseReader>,
    first_byte: &mut Option<Moment>,
    mut written: usize,
    mut first: Option<io::Result<usize>>,
) -> Result<Written, TripError> {
    loop {
        let read = match first.take() {
            Some(read) => read,
            None => {
                let buf = std::mem::take(&mut conn.buf.read);
                let (read, buf) = conn.io.read_some(buf).await;
                conn.buf.read = buf;
                read
            }
        };
        let stopped = Written {
            bytes: written as u64,
            whole: false,
            failed: None,
            answer_failed: false,
            ended: None,
            reader: None,
            read: None,
        };
        let ended = match took_in(conn, &mut reader, read, first_byte) {
            Ok(ended) => ended,
            // The bytes written still count (the caller tells them before the error).
            Err(err) => return Ok(Written { failed: Some(Box::new(err)), answer_failed: true, ..stopped }),
        };
        if ended.is_some() || reader.head().is_some() {
            conn.io.stop_sending();
            return Ok(Written { ended, reader: Some(reader), ..stopped });
        }
        let buf = std::mem::take(&mut conn.buf.write);
        let (result, now) = conn.io.write_listening(&buf, written).await;
        conn.buf.write = buf;
        written = now;
        match result {
            Ok(WriteEnd::Whole) => return Ok(Written { reader: Some(reader), ..Written::whole(written, None) }),
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
                    read: None,
                });
            }
        }
    }
}

/// A write that failed (not sent, unless some bytes were: the caller says).
#[cold]
fn send_failed(err: &io::Error) -> TripError {
    TripError { kind: io_kind(err), detail: format!("send: {err}"), nothing_received: true, sent: false }
}

/// Reads until `reader` has the whole response (the body into the connection's body buffer).
/// Returns when its last byte arrived, and sets `first_byte` to when its
/// first did (unset: a close-delimited response that was empty): the clock is read as each
/// read returns, so parsing the bytes is not counted in the response's time (nor read again).
/// `first`: a read already made beside the write, taken in first. (An async block, not an
/// `async fn`: an `async fn` keeps its arguments twice in its future.)
#[expect(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice in its future")]
fn read_response<'a>(
    conn: &'a mut Conn,
    reader: &'a mut ResponseReader,
    first_byte: &'a mut Option<Moment>,
    first: Option<io::Result<usize>>,
) -> impl Future<Output = Result<Moment, TripError>> + 'a {
    async move {
        if let Some(read) = first {
            if let Some(ended) = took_in(conn, reader, read, first_byte)? {
                return Ok(ended);
            }
        } else if !conn.buf.read.is_empty() {
            // Bytes already in the buffer (normally none: an exchange starts with an empty buffer).
            let at = Moment::now();
            first_byte.get_or_insert(at);
            if feed(conn, reader)? == ReadProgress::Complete {
                return Ok(at);
            }
        }
        loop {
            let buf = std::mem::take(&mut conn.buf.read);
            let (read, buf) = conn.io.read_some(buf).await;
            conn.buf.read = buf;
            if let Some(ended) = took_in(conn, reader, read, first_byte)? {
                return Ok(ended);
            }
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
    first_byte: &mut Option<Moment>,
) -> Result<Option<Moment>, TripError> {
    let at = Moment::now();
    match read {
        Ok(0) => {
            std::hint::cold_path();
            return end_of_stream(reader, first_byte.is_none()).map(|()| Some(at));
        }
        Ok(_) => {}
        Err(err) => {
            std::hint::cold_path();
            let kind = if is_tls_failure(&err) { ErrorKind::Tls } else { io_kind(&err) };
            return Err(TripError {
                kind,
                detail: super::tls::receive_failure(&err, reader),
                nothing_received: first_byte.is_none() && kind != ErrorKind::Tls,
                sent: true,
            });
        }
    }
    first_byte.get_or_insert(at);
    Ok((feed(conn, reader)? == ReadProgress::Complete).then_some(at))
}

/// Feeds the read buffer to `reader`.
#[inline(always)]
fn feed(conn: &mut Conn, reader: &mut ResponseReader) -> Result<ReadProgress, TripError> {
    reader.feed(&mut conn.buf.read, &mut conn.buf.body).map_err(|err| codec_trip(&err))
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

/// The error detail of a connect refused at each of a name's addresses.
#[cold]
fn every_address_refused(url: &Url<'_>, addrs: &[SocketAddr]) -> String {
    let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    let n = addrs.len();
    format!("connect to {}: each of its {n} addresses refused the connection ({})", url.authority, list.join(", "))
}

/// A failure before the request was written (resolve, connect, handshake).
#[cold]
fn trip(kind: ErrorKind, detail: String) -> TripError {
    TripError { kind, detail, nothing_received: false, sent: false }
}

/// The error of a TLS handshake that `timeout` (the connect's) ran out on; `heard`: whether the
/// server sent a byte. A server that sent nothing is most often a plain-HTTP one, waiting for
/// a request that a TLS client never sends: said, with what to try.
#[cold]
fn handshake_timed_out(authority: &str, timeout: Duration, heard: bool) -> String {
    let silent = if heard {
        ""
    } else {
        "; the server sent nothing back: is this port plain HTTP? try http:// (ws:// for a WebSocket)"
    };
    format!(
        "TLS handshake with {authority} not done within {timeout:?} of the connect (--connect-timeout bounds the TCP \
         connect and the TLS handshake together){silent}"
    )
}

/// A response that does not parse: the request was sent.
#[cold]
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

/// Whole microseconds in `d`, saturating (in 64 bits: `as_micros` divides in 128).
pub(crate) fn micros(d: Duration) -> u64 {
    d.as_secs().checked_mul(1_000_000).and_then(|us| us.checked_add(u64::from(d.subsec_micros()))).unwrap_or(u64::MAX)
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

    #[test]
    fn texts_are_the_same_only_byte_for_byte() {
        let text = "abcdefghijklmnopqrstuvwxyz0123456789";
        for n in 0..=text.len() {
            let a = &text[..n];
            assert!(same_text(a, String::from(a).as_str()), "{a:?}");
            // One byte changed at each place (the first, the last, those between words).
            for at in 0..n {
                let mut b = a.as_bytes().to_vec();
                b[at] = b'#';
                assert!(!same_text(a, std::str::from_utf8(&b).unwrap()), "{a:?} at {at}");
            }
            assert!(!same_text(a, &text[..n.saturating_sub(1)]) || n == 0, "{a:?} against a shorter");
        }
    }

    #[test]
    fn idempotent_methods_are_those_of_rfc_9110() {
        use http::Method;
        let names = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "POST", "PATCH", "CONNECT", "QUERY", "PURGE"];
        let idempotents: Vec<&str> =
            names.into_iter().filter(|name| idempotent(&name.parse::<Method>().unwrap())).collect();
        assert_eq!(idempotents, ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
    }

    #[test]
    fn hosts_are_told_apart_by_scheme_and_authority() {
        let mut hosts = Hosts::default();
        let urls = ["http://a:1/", "https://a:1/", "http://b:1/x"].map(|url| Url::parse(url).unwrap());
        let ids: Vec<HostId> = urls.iter().map(|url| hosts.find_or_add(url, || Ok(None)).ok().unwrap()).collect();
        assert_eq!(ids, [0, 1, 2]);
        // Found again in any order, the last host's shortcut included.
        for (url, id) in urls.iter().zip(&ids).chain(urls.iter().zip(&ids).rev()).chain([(&urls[0], &0)]) {
            assert_eq!(hosts.find(url), Some(*id), "{url:?}");
            assert_eq!(hosts.find(url), Some(*id), "{url:?} again");
        }
        assert_eq!(hosts.find(&Url::parse("http://a:2/").unwrap()), None);
        assert_eq!(hosts.find(&Url::parse("https://b:1/").unwrap()), None);
    }

    /// Tells nothing: the exchange's result is all a test reads.
    struct Quiet;

    impl Progress for Quiet {
        fn work(&self, _: &Timings) {}
        fn written(&self, _: u64) {}
    }

    async fn get(client: &HttpClient, url: &str) -> Timings {
        let exchange = Exchange {
            method: &http::Method::GET,
            url: Url::parse(url).unwrap(),
            headers: &[],
            body: b"",
            head: None,
            keep_body: false,
            keep_head: true,
            started: None,
        };
        client.exchange(&exchange, &Quiet).await.map_err(|err| err.to_string()).unwrap().timings()
    }

    /// A kept URL's host hint is set to its own host's pool when a request first finds that
    /// pool (not to the pool of the request before, another host's), and the requests after it
    /// take that pool's idle connection: none connects again.
    #[test]
    fn a_host_hint_names_its_own_hosts_pool() {
        let (a, b) = (
            mite_tools::Target::start(Default::default()).unwrap(),
            mite_tools::Target::start(Default::default()).unwrap(),
        );
        let (mut runtime, _) = crate::driver::CoreRuntime::build(crate::DriverChoice::Epoll).unwrap();
        let client = HttpClient::new(Arc::new(HttpSettings::default()), None);
        let (url_a, url_b) = (a.url("/"), b.url("/"));
        let url = Url::parse(&url_a).unwrap();
        let mut head = bytes::BytesMut::new();
        let request = RequestHead { method: "GET", target: url.target, host: url.authority, headers: &[] };
        encode_request(&mut head, &request, b"");
        let head = EncodedHead(head[..].into(), HostHint::default());
        let hint = &head.1;
        let get_a = || async {
            let exchange = Exchange {
                method: &http::Method::GET,
                url: Url::parse(&url_a).unwrap(),
                headers: &[],
                body: b"",
                head: Some(&head),
                keep_body: false,
                keep_head: true,
                started: None,
            };
            client.exchange(&exchange, &Quiet).await.map_err(|err| err.to_string()).unwrap().timings()
        };
        runtime.block_on(async {
            // b's pool first: a's is not the first pool made.
            assert_eq!(get(&client, &url_b).await.connects, 1);
            assert_eq!(get_a().await.connects, 1);
            assert_eq!(hint.0.get(), HostId::MAX, "no pool found yet: none to name");
            assert_eq!(get(&client, &url_b).await.connects, 0);
            for _ in 0..3 {
                assert_eq!(get_a().await.connects, 0, "the idle connection of a's pool");
                let named = client.hosts.borrow().pools[hint.0.get()].authority.clone();
                assert_eq!(&*named, Url::parse(&url_a).unwrap().authority, "the hint names a's pool");
                assert_eq!(get(&client, &url_b).await.connects, 0);
            }
            assert_eq!(client.open_connections(), 2);
        });
    }

    /// The request timeout needs nothing but the core's runtime (no run's core loop: a
    /// `journey test`, a unit test): the sweep starts with the first request, shuts a silent
    /// server's socket down past the limit, and the request is a timeout, its connection
    /// closed, on every driver; a request in time after it is untouched.
    #[test]
    fn a_request_past_its_timeout_is_a_timeout_on_any_runtime() {
        let target = mite_tools::Target::start(mite_tools::TargetOptions::default()).unwrap();
        for choice in [crate::DriverChoice::Epoll, crate::DriverChoice::Auto, crate::DriverChoice::IoUring] {
            let Ok((mut runtime, _)) = crate::driver::CoreRuntime::build(choice) else {
                assert_eq!(choice, crate::DriverChoice::IoUring, "only io_uring may be missing (no io_uring here)");
                continue;
            };
            let timeout = Duration::from_millis(100);
            let settings = HttpSettings { request_timeout: timeout, ..HttpSettings::default() };
            let client = HttpClient::new(Arc::new(settings), None);
            let silent_url = target.url("/bad/silent");
            runtime.block_on(async {
                let silent = Exchange {
                    method: &http::Method::GET,
                    url: Url::parse(&silent_url).unwrap(),
                    headers: &[],
                    body: b"",
                    head: None,
                    keep_body: false,
                    keep_head: true,
                    started: None,
                };
                let started = Instant::now();
                let err = client.exchange(&silent, &Quiet).await.unwrap_err();
                let took = started.elapsed();
                assert_eq!(err.kind(), Some(ErrorKind::Timeout), "{choice:?}: {err}");
                assert!(err.to_string().ends_with("within 100ms"), "{err}");
                assert!(took >= timeout && took < timeout * 5, "{choice:?}: {took:?}");
                assert_eq!(client.open_connections(), 0, "{choice:?}: the connection closed");
                assert_eq!(get(&client, &target.url("/")).await.connects, 1);
            });
        }
    }

    /// Opens and gives back `n` connections to `url` one after the other: each one's connects
    /// and failed connects, or its error.
    fn connect_times(client: &HttpClient, url: &str, n: usize) -> Vec<Result<(u32, u32), HttpError>> {
        let (mut runtime, _) = crate::driver::CoreRuntime::build(crate::DriverChoice::Epoll).unwrap();
        let url = Url::parse(url).unwrap();
        runtime.block_on(async {
            let mut seen = Vec::new();
            for _ in 0..n {
                let opened = client.connect_dedicated(&url).await;
                if opened.is_ok() {
                    client.release_dedicated(&url);
                }
                seen.push(opened.map(|(_, t)| (t.connects, t.connects_failed)));
            }
            seen
        })
    }

    /// A name that resolves to `::1` and 127.0.0.1 with a server on 127.0.0.1 only (as
    /// `localhost` does on many hosts), in either order: the connection whose turn is `::1` is
    /// refused there and goes on to 127.0.0.1; every later one goes to 127.0.0.1 at once.
    /// Before: connections kept taking `::1` first in their turn (every one of them, for
    /// `::1` listed first: the retry's pick moved the turn on twice), each costing a refused
    /// connect counted as failed.
    #[test]
    fn a_refused_address_of_a_name_costs_one_refusal_not_one_per_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let v6 = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port));
        let v4 = listener.local_addr().unwrap();
        assert!(std::net::TcpStream::connect(v6).is_err(), "nothing listens on {v6}");
        for addrs in [vec![v6, v4], vec![v4, v6]] {
            let client = HttpClient::new(Arc::new(HttpSettings::default()), None);
            client.resolver.answer("dual.test", port, addrs.clone());
            let url = format!("http://dual.test:{port}/");
            let seen: Vec<(u32, u32)> = connect_times(&client, &url, 6).into_iter().map(Result::unwrap).collect();
            // The connection whose turn falls on `::1` first (the first or the second) is
            // refused there once; from then on every connection goes to 127.0.0.1 at once.
            let refused_at = if addrs[0] == v6 { 0 } else { 1 };
            let mut expected = vec![(1, 0); 6];
            expected[refused_at] = (2, 1);
            assert_eq!(seen, expected, "{addrs:?}");
            assert_eq!(client.open_connections(), 0, "every slot given back");
        }
    }

    /// Every address refusing: one error, of kind `refused`, naming each address, each tried
    /// once per connection (and again by the next: a server may have started); nothing
    /// listening on a lone address keeps its plain message.
    #[test]
    fn a_name_refused_at_each_address_says_so_once() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let v6 = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port));
        let v4 = SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port));
        let client = HttpClient::new(Arc::new(HttpSettings::default()), None);
        client.resolver.answer("dual.test", port, vec![v6, v4]);
        let started = Instant::now();
        for err in connect_times(&client, &format!("http://dual.test:{port}/"), 3) {
            let err = err.unwrap_err();
            assert_eq!(err.kind(), Some(ErrorKind::Refused), "{err}");
            assert!(!err.was_sent());
            assert_eq!((err.timings().connects, err.timings().connects_failed), (2, 2), "{err}");
            let said = err.to_string();
            let names = format!(
                "connect to dual.test:{port}: each of its 2 addresses refused the connection ([::1]:{port}, \
                 127.0.0.1:{port})"
            );
            assert!(said.contains(&names), "{said}");
        }
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert_eq!(client.open_connections(), 0);
        let lone = connect_times(&client, &format!("http://127.0.0.1:{port}/"), 1).remove(0).unwrap_err();
        assert!(lone.to_string().contains(&format!("connect to 127.0.0.1:{port}: ")), "{lone}");
        assert_eq!((lone.timings().connects, lone.timings().connects_failed), (1, 1));
    }

    #[test]
    fn an_idle_connection_is_reused_within_the_idle_timeout_only() {
        let target = mite_tools::Target::start(mite_tools::TargetOptions::default()).unwrap();
        let url = target.url("/");
        let settings = HttpSettings { idle_timeout: Duration::from_millis(500), ..HttpSettings::default() };
        let client = HttpClient::new(Arc::new(settings), None);
        let (mut runtime, _) = crate::driver::CoreRuntime::build(crate::DriverChoice::Epoll).unwrap();
        runtime.block_on(async {
            let first = get(&client, &url).await;
            let again = get(&client, &url).await;
            crate::driver::sleep(Duration::from_millis(700)).await;
            let later = get(&client, &url).await;
            assert_eq!((first.connects, again.connects, later.connects), (1, 0, 1), "connects");
            // The connection too old to reuse was closed and counted so.
            assert_eq!(client.open_connections(), 1);
        });
        assert_eq!(target.hits(), 3);
    }
}
