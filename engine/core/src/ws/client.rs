//! The WebSocket client: the upgrade handshake over the HTTP client's connection setup (TCP or
//! rustls, the same verification, counted against `--max-connections`), then masked frames
//! over the runtime's owned-buffer I/O. Pings are answered, closes are handshaken both ways,
//! and every failure is counted once under its kind. A journey test's record and trace get each
//! handshake, data message and close (nothing is kept in load runs). Like `http::client`, this
//! module names the executor (for timeouts and the close at journey end).

use std::cell::Cell;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mite_codec::ws::{
    HandshakeRequest, Message, MessageReader, Opcode, WsError, WsLimits, check_handshake, encode_close, encode_frame,
    encode_handshake, key_from_nonce,
};

use crate::http::client::{io_kind, micros};
use crate::http::transport::{Canceller, Transport, is_cancelled, is_tls_failure};
use crate::http::{HttpError, Url};
use crate::journey::Ctx;
use crate::journey::record::{RecordedRequest, RecordedWebSocket, RecordedWsClose, WsCloser, WsDirection};
use crate::journey::shard::{Shard, TxnId};
use crate::limits::{READ_BUFFER_BYTES, WS_CLOSE_TIMEOUT, WS_LIMITS, WS_RECORDED_TEXT_BYTES_MAX};
use crate::stats::{ErrorKind, Latency};

/// `ctx.websocket()`: opens WebSockets.
pub struct WebSockets<'c> {
    ctx: &'c Ctx,
}

impl Ctx {
    /// WebSockets (Mite's `ctx.websocket`): `ctx.websocket().connect(url).await?`.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn chat(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     ws.send_text("hello").await?;
    ///     let echo = ws.receive().await?;
    ///     ctx.send("echo", &[("text", &echo.text().unwrap_or(""))]);
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(chat).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields, [("text".to_string(), "hello".to_string())]);
    /// ```
    pub fn websocket(&self) -> WebSockets<'_> {
        WebSockets { ctx: self }
    }
}

impl<'c> WebSockets<'c> {
    /// A connection to `url` (`ws://` or `wss://`); `.await` it, or add headers and
    /// subprotocols first.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn open(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     // The URL is borrowed only while connecting: one built in place will do.
    ///     let mut ws = ctx.websocket().connect(&format!("{}", ctx.config().get_or("ws", ""))).await?;
    ///     ws.send_text("hello").await?;
    ///     ctx.send("opened", &[("open", &ws.is_open())]);
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(open).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields[0].1, "true");
    /// assert_eq!(record.statuses(), [Some(101)]); // the handshake is a request
    /// ```
    pub fn connect<'u>(&self, url: &'u str) -> WsConnect<'c, 'u> {
        WsConnect { ctx: self.ctx, url, headers: Vec::new(), protocols: Vec::new() }
    }
}

/// A WebSocket connection being set up. Its URL, headers and subprotocols are borrowed only
/// until it is open (`'u`); the open [`WebSocket`] borrows the journey's context alone.
pub struct WsConnect<'c, 'u> {
    ctx: &'c Ctx,
    url: &'u str,
    headers: Vec<(&'u str, &'u str)>,
    protocols: Vec<&'u str>,
}

impl<'c, 'u> WsConnect<'c, 'u> {
    /// Adds a header to the upgrade request (cookies, authorisation, origin).
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// // The target's /ws/cookie sends back the Cookie header of the upgrade request.
    /// async fn with_cookie(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).header("Cookie", "session=abc").await?;
    ///     let first = ws.receive().await?;
    ///     ctx.send("cookie", &[("seen", &first.text().unwrap_or(""))]);
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/cookie")).run(with_cookie).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields[0].1, "session=abc");
    /// ```
    pub fn header(mut self, name: &'u str, value: &'u str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Offers a subprotocol (in order of preference); the server's choice is
    /// [`WebSocket::protocol`].
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn negotiate(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let url = ctx.config().get_or("ws", "");
    ///     let ws = ctx.websocket().connect(url).protocol("chat.v2").protocol("chat.v1").await?;
    ///     ctx.send("chosen", &[("protocol", &ws.protocol().unwrap_or("none"))]);
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// // The target chooses the first subprotocol offered.
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(negotiate).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields[0].1, "chat.v2");
    /// ```
    pub fn protocol(mut self, protocol: &'u str) -> Self {
        self.protocols.push(protocol);
        self
    }
}

impl<'c: 'u, 'u> IntoFuture for WsConnect<'c, 'u> {
    type Output = Result<WebSocket<'c>, HttpError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + 'u>>;

    fn into_future(self) -> Self::IntoFuture {
        // Boxed: connecting is rare and its future (TLS handshake included) is large.
        Box::pin(open(self))
    }
}

/// A data message from the server.
#[derive(Clone, PartialEq, Eq)]
pub struct WsMessage {
    data: Bytes,
    text: bool,
}

impl WsMessage {
    /// The text, for a text message (validated UTF-8).
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn texts(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     ws.send_text("héllo").await?;
    ///     let echo = ws.receive().await?;
    ///     ctx.send("echo", &[("text", &echo.text().unwrap_or("not text"))]);
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(texts).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields[0].1, "héllo");
    /// ```
    pub fn text(&self) -> Option<&str> {
        if self.text { std::str::from_utf8(&self.data).ok() } else { None }
    }

    /// The payload bytes (text or binary).
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn binary(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     ws.send_binary(&[0, 159, 255]).await?;
    ///     let echo = ws.receive().await?;
    ///     ctx.send("echo", &[("bytes", &format!("{:?}", &echo.bytes()[..])), ("text", &echo.text().is_some())]);
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(binary).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields[0].1, "[0, 159, 255]");
    /// assert_eq!(record.messages[0].fields[1].1, "false"); // not UTF-8 text
    /// ```
    pub fn bytes(&self) -> &Bytes {
        &self.data
    }

    /// True for a text message.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn kinds(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     ws.send_text("a").await?;
    ///     ws.send_binary(b"b").await?;
    ///     let (first, second) = (ws.receive().await?, ws.receive().await?);
    ///     ctx.send("kinds", &[("first", &first.is_text()), ("second", &second.is_text())]);
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(kinds).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// let fields = &record.messages[0].fields;
    /// assert_eq!((fields[0].1.as_str(), fields[1].1.as_str()), ("true", "false"));
    /// ```
    pub fn is_text(&self) -> bool {
        self.text
    }
}

impl fmt::Debug for WsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.text() {
            Some(text) => write!(f, "Text({text:?})"),
            None => write!(f, "Binary({} bytes)", self.data.len()),
        }
    }
}

/// As errors quote it: its kind and length, and its text when short.
impl fmt::Display for WsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Shown { is_text: self.text, payload: &self.data }.fmt(f)
    }
}

/// An open connection's transport, buffers and frame reader.
struct Conn {
    io: Transport,
    read_buf: BytesMut,
    write_buf: BytesMut,
    reader: MessageReader,
    close_sent: bool,
    /// A receive on it timed out and no message came since: the server's state is unknown (a
    /// frame cut short, whose payload our close's answer would be read as; a server that
    /// stopped answering). The journey may go on with it, but dropped unclosed it is released
    /// without a close handshake: that wait would count the failure already counted (the
    /// `timeout`) again, as a second `timeout` or as `cancelled` at the stop.
    timed_out: bool,
    /// Cancels a receive at its deadline; kept from one receive to the next, so that a receive
    /// allocates nothing (a canceller that has cancelled is replaced by the one it returns).
    canceller: Option<Canceller>,
}

/// A failure on an open connection, before it is counted.
struct Failure {
    kind: ErrorKind,
    detail: String,
    /// The close code to send the server before dropping the connection, if any.
    close_code: Option<u16>,
    /// The connection is still sound (a receive that timed out without losing a byte).
    recoverable: bool,
    /// The status the server refused the handshake with.
    status: Option<u16>,
}

fn failure(kind: ErrorKind, detail: impl Into<String>) -> Failure {
    Failure { kind, detail: detail.into(), close_code: None, recoverable: false, status: None }
}

/// What a server that hung up without a close frame cut short, in words: a frame whose header
/// promised more than came (`in the middle of a frame: 10 of its 1,000 payload bytes came`), a
/// fragmented message not ended, or nothing.
fn hung_up(unread: &[u8], reader: &mite_codec::ws::MessageReader) -> String {
    use crate::model::counts::grouped;
    let said = "server closed the connection without a close frame";
    match mite_codec::ws::frame::decode_header(unread) {
        Ok(Some(header)) => {
            let came = (unread.len() - header.header_len) as u64;
            format!(
                "{said}, in the middle of a frame: {} of its {} payload bytes came",
                grouped(came),
                grouped(header.payload_len)
            )
        }
        _ if !unread.is_empty() => {
            format!("{said}, in the middle of a frame's header ({} bytes of it came)", unread.len())
        }
        _ if reader.in_message() => {
            format!("{said}, in the middle of a fragmented message (its last frame never came)")
        }
        _ => said.to_string(),
    }
}

fn codec_failure(err: &WsError) -> Failure {
    let kind = if err.is_too_large() { ErrorKind::TooLarge } else { ErrorKind::WsProtocol };
    Failure { close_code: Some(err.close_code()), ..failure(kind, err.to_string()) }
}

impl Failure {
    /// What the journey's error (an `HttpError`) shows for it.
    fn shown(&self) -> String {
        format!("{}: {}", self.kind.name(), self.detail)
    }
}

fn io_failure(err: &std::io::Error, doing: &str) -> Failure {
    let kind = if is_tls_failure(err) { ErrorKind::Tls } else { io_kind(err) };
    failure(kind, format!("{doing}: {err}"))
}

/// An open WebSocket. Closed with [`WebSocket::close`], or automatically (a close handshake in
/// the background, bounded by `limits::WS_CLOSE_TIMEOUT`) when it is dropped at journey end.
pub struct WebSocket<'c> {
    ctx: &'c Ctx,
    /// `None` once closed or failed.
    conn: Option<Box<Conn>>,
    /// The URL in `http(s)://` form, for giving back the connection slot.
    http_url: String,
    protocol: Option<String>,
    /// Where this connection is in the journey test's record; `None` in load runs.
    recorded_at: Option<usize>,
}

/// The URL the handshake is sent to: `ws://` → `http://`, `wss://` → `https://` (other schemes
/// are refused), non-ASCII in the path or query percent-encoded, as for HTTP requests.
fn http_form(url: &str) -> Result<String, HttpError> {
    handshake_url(url).map_err(|why| HttpError::not_sent(ErrorKind::InvalidUrl, why))
}

fn handshake_url(url: &str) -> Result<String, String> {
    let lower = url.get(..6).map(str::to_ascii_lowercase).unwrap_or_default();
    let http_url = if lower.starts_with("ws://") {
        format!("http://{}", &url[5..])
    } else if lower.starts_with("wss://") {
        format!("https://{}", &url[6..])
    } else {
        return Err(format!("invalid WebSocket URL {url:?}: only ws:// and wss:// URLs are supported"));
    };
    Ok(crate::http::url::encode_non_ascii(&http_url).unwrap_or(http_url))
}

/// A URL parse error about the handshake's `http(s)://` form, told of the `ws(s)://` one.
fn in_ws_words(err: impl fmt::Display) -> String {
    err.to_string().replacen("http", "ws", 1)
}

/// Why a WebSocket URL cannot be sent (its scheme, or a URL the handshake cannot carry), as
/// the run would say it; `None` when it can. For checks before a run.
pub(crate) fn url_problem(url: &str) -> Option<String> {
    match handshake_url(url) {
        Ok(http_url) => Url::parse(&http_url).err().map(in_ws_words),
        Err(why) => Some(why),
    }
}

fn check_headers(headers: &[(&str, &str)], protocols: &[&str]) -> Result<(), HttpError> {
    crate::http::fields::check_headers(headers)?;
    for protocol in protocols {
        if protocol.is_empty() || protocol.bytes().any(|b| b.is_ascii_whitespace() || b == b',' || b.is_ascii_control())
        {
            let why = format!("subprotocol {protocol:?} is not a valid token");
            return Err(HttpError::not_sent(ErrorKind::InvalidRequest, why));
        }
    }
    Ok(())
}

thread_local! {
    /// Per-core generator for masking keys and handshake nonces (xorshift64*). RFC 6455 asks
    /// for unpredictable masks to protect proxies from cache poisoning by scripts; a load
    /// injector is not a browser running untrusted code, so a fast generator seeded per thread
    /// from the clock is enough.
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    let here = &nanos as *const u64 as u64;
    (nanos ^ here.rotate_left(32)) | 1
}

fn random_u64() -> u64 {
    RNG.with(|rng| {
        let mut x = rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        rng.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

fn mask_key() -> [u8; 4] {
    (random_u64() as u32).to_ne_bytes()
}

/// Connects, upgrades, and records the handshake as a request of the current transaction.
async fn open<'c>(request: WsConnect<'c, '_>) -> Result<WebSocket<'c>, HttpError> {
    let ctx = request.ctx;
    // A URL or header that cannot be sent (typically rendered at run time) is counted once, as
    // an attempt never sent.
    let not_sendable = |err| ctx.not_sendable("websocket", request.url, err);
    let http_url = http_form(request.url).map_err(not_sendable)?;
    let url =
        Url::parse(&http_url).map_err(|e| not_sendable(HttpError::not_sent(ErrorKind::InvalidUrl, in_ws_words(e))))?;
    check_headers(&request.headers, &request.protocols).map_err(not_sendable)?;
    let cookie = crate::journey::session::handshake_cookie(ctx, &url, &request.headers);
    let mut headers: Vec<(&str, &str)> =
        request.headers.iter().filter(|(name, _)| !name.eq_ignore_ascii_case("cookie")).copied().collect();
    if !cookie.is_empty() {
        headers.push(("Cookie", &cookie));
    }
    let shard = ctx.shard_rc();
    let txn = ctx.current_txn();
    shard.stats.borrow_mut().request_started(txn);
    let started = Instant::now();
    let result = handshake(ctx, txn, &url, &headers, &request.protocols).await;
    let mut stats = shard.stats.borrow_mut();
    stats.request_finished(txn);
    let (entry, latencies) = stats.txn_latencies(txn);
    match result {
        Ok((conn, protocol, timings)) => {
            let total_us = micros(started.elapsed());
            latencies.record(Latency::Req, total_us);
            if let Some(delay_us) = ctx.start_delay_us() {
                latencies.record(Latency::ReqCorrected, total_us.saturating_add(delay_us));
            }
            entry.req_ok += 1;
            entry.add_status(101);
            // A response like any other: its first byte and its (method, code); its connection
            // work and bytes were counted as they were done (`handshake`, `upgrade`).
            latencies.record(Latency::FirstByte, timings.first_byte_us);
            entry.http.count_response(&http::Method::GET, 101);
            entry.first_byte_us_sum += timings.first_byte_us;
            entry.ws.connects += 1;
            drop(stats);
            ctx.trace_line(format_args!(
                "websocket {} -> 101{} in {:.2} ms",
                request.url,
                protocol.as_deref().map(|p| format!(" (subprotocol {p})")).unwrap_or_default(),
                total_us as f64 / 1000.0
            ));
            crate::journey::session::trace_cookies(ctx);
            let recorded_at = record_handshake(ctx, request.url, txn, Ok(protocol.as_deref()));
            Ok(WebSocket { ctx, conn: Some(conn), http_url, protocol, recorded_at })
        }
        Err(err) => {
            // A final status instead of 101 is a response: the status table shows it.
            if let Some(status) = err.status() {
                entry.add_status(status);
            }
            if let Some(kind) = err.kind() {
                entry.add_error(kind);
                // Refused or failed before the upgrade was written: an attempt, not a request.
                entry.not_sent += u64::from(!err.was_sent());
                stats.sample_error(kind.name(), || format!("websocket {}: {err}", request.url));
            }
            drop(stats);
            ctx.trace_line(format_args!("websocket {} -> FAILED: {err}", request.url));
            record_handshake(ctx, request.url, txn, Err(&err));
            Err(err)
        }
    }
}

/// Records a finished handshake in the journey test's record, as a request and as a
/// connection; returns where the connection is kept (`None` in load runs: nothing is kept).
fn record_handshake(ctx: &Ctx, url: &str, txn: TxnId, outcome: Result<Option<&str>, &HttpError>) -> Option<usize> {
    let shard = ctx.shard_rc();
    let mut at = None;
    shard.record(|record| {
        let transaction = shard.stats.borrow().name(txn).to_string();
        let error = outcome.err().filter(|e| e.kind().is_some()).map(ToString::to_string);
        let status = match outcome {
            Ok(_) => Some(101),
            Err(err) => err.status(),
        };
        record.errors.extend(error.clone());
        record.requests.push(RecordedRequest {
            method: "GET".to_string(),
            url: url.to_string(),
            status,
            error: error.clone(),
            transaction: transaction.clone(),
        });
        at = Some(record.websockets.len());
        record.websockets.push(RecordedWebSocket {
            url: url.to_string(),
            transaction,
            status,
            protocol: outcome.ok().flatten().map(str::to_string),
            error,
            messages: Vec::new(),
            messages_left_out: 0,
            close: None,
        });
    });
    at.filter(|_| outcome.is_ok())
}

/// Adds to connection `at`'s entry in the journey test's record, with the name of transaction
/// `txn` (nothing when `at` is `None`: load runs keep nothing).
fn record_on(shard: &Shard, at: Option<usize>, txn: TxnId, add: impl FnOnce(&mut RecordedWebSocket, &str)) {
    let Some(at) = at else { return };
    shard.record(|record| {
        let stats = shard.stats.borrow();
        if let Some(ws) = record.websockets.get_mut(at) {
            add(ws, stats.name(txn));
        }
    });
}

/// Records how connection `at` closed.
fn record_close(
    shard: &Shard,
    at: Option<usize>,
    txn: TxnId,
    by: WsCloser,
    code: Option<u16>,
    error: Option<&Failure>,
) {
    record_on(shard, at, txn, |ws, transaction| {
        let error = error.map(Failure::shown);
        ws.close = Some(RecordedWsClose { by, code, error, transaction: transaction.to_string() });
    });
}

/// A data message as the journey-test trace shows it: its kind, length and short text.
struct Shown<'a> {
    is_text: bool,
    payload: &'a [u8],
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.payload.len();
        let bytes = crate::journey::trace::counted(len as u64, "byte");
        match std::str::from_utf8(self.payload) {
            Ok(text) if self.is_text && len <= WS_RECORDED_TEXT_BYTES_MAX => write!(f, "text {text:?} ({bytes})"),
            _ if self.is_text => write!(f, "text ({bytes})"),
            _ => write!(f, "binary ({bytes})"),
        }
    }
}

type Opened = (Box<Conn>, Option<String>, crate::http::Timings);

/// Counts the connection work of a handshake of transaction `txn` as soon as it is done, and
/// times it as it is counted: a handshake cancelled later (the grace's end) has it too, as an
/// HTTP request has (`journey::exchange`'s progress reports).
fn count_work(ctx: &Ctx, txn: TxnId, timings: &crate::http::Timings) {
    let mut stats = ctx.shard().stats.borrow_mut();
    let (entry, latencies) = stats.txn_latencies(txn);
    crate::journey::count_connections(entry, timings);
    latencies.record_connection_phases(timings);
}

/// Opens the connection and runs the upgrade within the connect and request timeouts. The
/// connection work and the upgrade's bytes are counted under `txn` as they are done.
async fn handshake(
    ctx: &Ctx,
    txn: TxnId,
    url: &Url<'_>,
    headers: &[(&str, &str)],
    protocols: &[&str],
) -> Result<Opened, HttpError> {
    let http = &ctx.shard().http;
    let (io, mut timings) = match http.connect_dedicated(url).await {
        Ok(connected) => connected,
        Err(err) => {
            count_work(ctx, txn, &err.timings());
            return Err(err);
        }
    };
    count_work(ctx, txn, &timings);
    // The connection slot is given back however the handshake ends: failed, or dropped.
    let mut slot = DedicatedSlot { http, url, kept: false };
    let timeout = http.settings().request_timeout;
    let upgrade = upgrade(ctx, txn, io, url, (headers, protocols), &mut timings);
    let upgraded = crate::driver::timeout(timeout, upgrade).await;
    let result = match upgraded {
        Err(_) => Err(HttpError::failed(
            ErrorKind::Timeout,
            format!("no WebSocket handshake answer from {} within {timeout:?}", url.authority),
        )),
        Ok(Err(fail)) => {
            let err = HttpError::failed(fail.kind, fail.detail);
            Err(match fail.status {
                Some(status) => err.with_status(status),
                None => err,
            })
        }
        Ok(Ok(opened)) => Ok(opened),
    };
    // The connection work goes with the error (counted already).
    let result = result.map_err(|err| err.with_timings(timings));
    slot.kept = result.is_ok();
    drop(slot);
    result.map(|(conn, protocol)| (conn, protocol, timings))
}

/// A handshake's connection slot (`HttpClient::connect_dedicated`'s), given back when the
/// handshake fails or is dropped unfinished; kept by the `WebSocket` it opened.
struct DedicatedSlot<'h, 'u> {
    http: &'h crate::http::HttpClient,
    url: &'h Url<'u>,
    kept: bool,
}

impl Drop for DedicatedSlot<'_, '_> {
    fn drop(&mut self) {
        if !self.kept {
            self.http.release_dedicated(self.url);
        }
    }
}

async fn upgrade(
    ctx: &Ctx,
    txn: TxnId,
    io: Transport,
    url: &Url<'_>,
    (headers, protocols): (&[(&str, &str)], &[&str]),
    timings: &mut crate::http::Timings,
) -> Result<(Box<Conn>, Option<String>), Failure> {
    let nonce_high = random_u64().to_ne_bytes();
    let nonce_low = random_u64().to_ne_bytes();
    let mut nonce = [0u8; 16];
    nonce[..8].copy_from_slice(&nonce_high);
    nonce[8..].copy_from_slice(&nonce_low);
    let key = key_from_nonce(nonce);
    let mut conn = Box::new(Conn {
        io,
        read_buf: BytesMut::with_capacity(READ_BUFFER_BYTES),
        write_buf: BytesMut::with_capacity(1024),
        reader: MessageReader::new(WS_LIMITS),
        close_sent: false,
        timed_out: false,
        canceller: None,
    });
    let head = HandshakeRequest { target: url.target, host: url.authority, key: &key, protocols, headers };
    encode_handshake(&mut conn.write_buf, &head);
    let request_bytes = conn.write_buf.len() as u64;
    conn.write().await.map_err(|e| io_failure(&e, "send the upgrade"))?;
    timings.request_bytes = request_bytes;
    ctx.shard().stats.borrow_mut().txn(txn).sent_bytes += request_bytes;
    let started = Instant::now();
    // The 101 takes as many header fields (`--max-headers`, `[client] max_headers`) and as many
    // bytes as any response head.
    let http = ctx.shard().http.settings().limits;
    let limits =
        WsLimits { headers_count_max: http.headers_count_max, handshake_bytes_max: http.head_bytes_max, ..WS_LIMITS };
    loop {
        if !conn.read_buf.is_empty() {
            match check_handshake(&conn.read_buf, &key, protocols, &limits) {
                Ok(Some(done)) => {
                    crate::journey::session::absorb_head(ctx, url, &conn.read_buf[done.head_start..done.head_len]);
                    let _ = conn.read_buf.split_to(done.head_len);
                    timings.first_byte_us = micros(started.elapsed());
                    return Ok((conn, done.protocol));
                }
                Ok(None) => {}
                Err(err) => {
                    // A 101 whose headers do not complete the upgrade is still the server's
                    // answer: the status table shows it.
                    let status = match err {
                        WsError::HandshakeStatus { status, .. } => Some(status),
                        WsError::HandshakeHeader { .. }
                        | WsError::UnofferedProtocol { .. }
                        | WsError::UnofferedExtension { .. } => Some(101),
                        _ => None,
                    };
                    let detail = match err {
                        WsError::HandshakeMalformed { .. } if answered_in_tls(&conn.read_buf) => {
                            "the server answered in TLS, not HTTP (a wss:// port? use wss:// for it)".to_string()
                        }
                        _ => err.to_string(),
                    };
                    return Err(Failure { status, ..failure(ErrorKind::WsHandshake, detail) });
                }
            }
        }
        match conn.read_more().await {
            Ok(0) => {
                return Err(failure(
                    ErrorKind::UnexpectedClose,
                    "server closed the connection during the WebSocket handshake",
                ));
            }
            Ok(_) => {}
            Err(err) => return Err(io_failure(&err, "receive the upgrade answer")),
        }
    }
}

/// Whether an answer that is not HTTP opens with a TLS record (content type 20 to 23, then major
/// version 3): a TLS port's alert to a plain-text upgrade, as the HTTP client names it too.
fn answered_in_tls(answer: &[u8]) -> bool {
    matches!(answer, [20..=23, 3, ..])
}

impl Conn {
    /// Writes `write_buf` whole.
    async fn write(&mut self) -> std::io::Result<()> {
        let buf = std::mem::take(&mut self.write_buf);
        let (result, _, mut buf) = self.io.write_all(buf).await;
        buf.clear();
        self.write_buf = buf;
        result
    }

    async fn read_more(&mut self) -> std::io::Result<usize> {
        let buf = std::mem::take(&mut self.read_buf);
        let (result, buf) = self.io.read_some(buf).await;
        self.read_buf = buf;
        result
    }

    /// Reads more, giving up at `deadline` without losing a byte: the read is cancelled and
    /// waited for, so bytes the kernel delivered meanwhile are kept (`is_cancelled` otherwise).
    async fn read_more_by(&mut self, deadline: Option<Instant>) -> std::io::Result<usize> {
        let Some(deadline) = deadline else { return self.read_more().await };
        let handle = self.canceller.get_or_insert_with(Canceller::new).handle();
        let buf = std::mem::take(&mut self.read_buf);
        let mut read = std::pin::pin!(self.io.read_some_cancelable(buf, handle));
        let (result, buf) = monoio::select! {
            done = &mut read => done,
            _ = crate::driver::sleep_until(deadline) => {
                self.canceller = self.canceller.take().map(Canceller::cancel);
                read.await
            }
        };
        self.read_buf = buf;
        result
    }

    /// Sends one frame.
    async fn send(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), Failure> {
        encode_frame(&mut self.write_buf, opcode, true, payload, mask_key());
        self.write().await.map_err(|e| io_failure(&e, "send"))
    }

    /// Sends a close frame once.
    async fn send_close(&mut self, code: u16) -> Result<(), Failure> {
        if self.close_sent {
            return Ok(());
        }
        self.close_sent = true;
        encode_close(&mut self.write_buf, code, "", mask_key());
        self.write().await.map_err(|e| io_failure(&e, "send the close"))
    }

    /// The close frame the server sent before the transport failed, with its code and reason,
    /// if what is left to read holds one (read up to `WS_CLOSE_TIMEOUT`; a reset connection
    /// answers at once). `on_frame` sees the data messages before it (and `None` for each
    /// ping, left unanswered: the connection is gone).
    async fn server_close(&mut self, mut on_frame: impl FnMut(Option<&Bytes>)) -> Option<(Option<u16>, String)> {
        let deadline = Instant::now() + WS_CLOSE_TIMEOUT;
        loop {
            match self.next(Some(deadline)).await.ok()? {
                Message::Close { code, reason } => return Some((code, reason)),
                Message::Text(data) | Message::Binary(data) => on_frame(Some(&data)),
                Message::Ping(_) => on_frame(None),
                Message::Pong(_) => {}
            }
        }
    }

    /// The next frame the server completes (reading as needed, until `deadline`).
    async fn next(&mut self, deadline: Option<Instant>) -> Result<Message, Failure> {
        loop {
            match self.reader.read(&mut self.read_buf) {
                Ok(Some(message)) => return Ok(message),
                Ok(None) => {}
                Err(err) => return Err(codec_failure(&err)),
            }
            match self.read_more_by(deadline).await {
                Ok(0) => return Err(failure(ErrorKind::WsClosed, hung_up(&self.read_buf, &self.reader))),
                Ok(_) => {}
                Err(err) if is_cancelled(&err) => {
                    return Err(Failure { recoverable: true, ..failure(ErrorKind::Timeout, "no message in time") });
                }
                Err(err) => return Err(io_failure(&err, "receive")),
            }
        }
    }
}

/// What reading the connection produced, after pings were answered.
enum Event {
    Data(WsMessage),
    /// The server's close (with its code and reason), already answered; `Err` when it was not a
    /// normal close.
    Closed {
        code: Option<u16>,
        reason: String,
        outcome: Result<(), Failure>,
    },
}

/// A normal close from the server (1000, 1001 or no code) where a message was awaited.
struct NormalClose {
    code: Option<u16>,
    reason: String,
}

impl NormalClose {
    /// What an error adds about it: its code unless plain 1000 (or none), and its reason when it
    /// gave one (`(close code 1001, reason "restarting")`), so that a server's words reach the
    /// journey's error; nothing for a bare 1000.
    fn said(&self) -> String {
        match (self.code, self.reason.is_empty()) {
            (None | Some(1000), true) => String::new(),
            (code, true) => format!(" (close code {})", code.unwrap_or(1005)),
            (code, false) => format!(" (close code {}, reason {:?})", code.unwrap_or(1005), self.reason),
        }
    }
}

/// Reads until a data message or the server's close (or `deadline`), answering pings (counted
/// in `pings`; each pong must be written within `write_timeout`).
async fn next_event(
    conn: &mut Conn,
    pings: &mut u64,
    deadline: Option<Instant>,
    write_timeout: Duration,
) -> Result<Event, Failure> {
    loop {
        match conn.next(deadline).await? {
            Message::Text(data) => return Ok(Event::Data(WsMessage { data, text: true })),
            Message::Binary(data) => return Ok(Event::Data(WsMessage { data, text: false })),
            Message::Ping(payload) => {
                *pings += 1;
                let sent = crate::driver::timeout(write_timeout, conn.send(Opcode::Pong, &payload)).await;
                match sent {
                    // After our close, a server may hang up as soon as it answers: a pong it no
                    // longer reads is no failure, its close (already on its way) is awaited.
                    _ if conn.close_sent => {}
                    Ok(sent) => sent?,
                    Err(_) => return Err(failure(ErrorKind::Timeout, "the pong could not be written in time")),
                }
                past_deadline(deadline)?;
            }
            Message::Pong(_) => past_deadline(deadline)?,
            Message::Close { code, reason } => {
                let reply = code.unwrap_or(1000);
                let _ = conn.send_close(reply).await;
                let outcome = if conn.reader.in_message() {
                    Err(failure(ErrorKind::WsClosed, "server closed in the middle of a fragmented message"))
                } else if matches!(code, None | Some(1000) | Some(1001)) {
                    Ok(())
                } else {
                    Err(failure(
                        ErrorKind::WsClosed,
                        format!(
                            "server closed the WebSocket with {}{}",
                            reply,
                            if reason.is_empty() { String::new() } else { format!(" ({reason})") }
                        ),
                    ))
                };
                return Ok(Event::Closed { code, reason, outcome });
            }
        }
    }
}

/// A recoverable `timeout` once `deadline` has passed: control frames that keep coming (a
/// ping flood) do not hold a receive past it, however fast they are read.
fn past_deadline(deadline: Option<Instant>) -> Result<(), Failure> {
    match deadline {
        Some(deadline) if Instant::now() >= deadline => {
            Err(Failure { recoverable: true, ..failure(ErrorKind::Timeout, "no message in time") })
        }
        _ => Ok(()),
    }
}

impl<'c> WebSocket<'c> {
    /// The subprotocol the server chose, if any.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn plain(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     ctx.send("chosen", &[("protocol", &ws.protocol().is_none())]);
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// // None offered, none chosen.
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(plain).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields[0].1, "true");
    /// ```
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// True until the connection is closed (by either side) or fails.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// use std::time::Duration;
    ///
    /// // The target's /ws/broadcast sends `count` messages, then closes.
    /// async fn until_closed(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     ws.receive().await?;
    ///     let open_before = ws.is_open();
    ///     let closed = ws.receive_or_close(Duration::from_secs(5)).await?.is_none();
    ///     ctx.send("state", &[("before", &open_before), ("closed", &closed), ("after", &ws.is_open())]);
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/broadcast?rate=100&count=1")).run(until_closed).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// let said: Vec<&str> = record.messages[0].fields.iter().map(|(_, v)| v.as_str()).collect();
    /// assert_eq!(said, ["true", "true", "false"]);
    /// ```
    pub fn is_open(&self) -> bool {
        self.conn.is_some()
    }

    fn timeout(&self) -> Duration {
        self.ctx.shard().http.settings().request_timeout
    }

    fn closed_error(&self) -> HttpError {
        HttpError::failed(ErrorKind::WsClosed, "the WebSocket is already closed")
    }

    /// Keeps a data message in the journey test's record (nothing in load runs).
    fn record_message(&self, direction: WsDirection, is_text: bool, payload: &[u8]) {
        record_on(self.ctx.shard_rc(), self.recorded_at, self.ctx.current_txn(), |ws, transaction| {
            ws.message(direction, is_text, payload, transaction);
        });
    }

    /// Counts into the current transaction's WebSocket stats.
    fn count(&self, update: impl FnOnce(&mut crate::stats::WsStats)) {
        let txn = self.ctx.current_txn();
        update(&mut self.ctx.shard_rc().stats.borrow_mut().txn(txn).ws);
    }

    /// Counts a failure once, tells the server why when the protocol allows, and drops the
    /// connection.
    async fn fail(&mut self, fail: Failure) -> HttpError {
        if let Some(mut conn) = self.conn.take() {
            if let Some(code) = fail.close_code {
                let _ = crate::driver::timeout(Duration::from_secs(1), conn.send_close(code)).await;
            }
            self.release();
            let by = match (fail.close_code, fail.kind) {
                (Some(_), _) => WsCloser::Client,
                (None, ErrorKind::WsClosed) => WsCloser::Server,
                (None, _) => WsCloser::Lost,
            };
            let shard = self.ctx.shard_rc();
            record_close(shard, self.recorded_at, self.ctx.current_txn(), by, fail.close_code, Some(&fail));
        }
        record_failure(self.ctx.shard_rc(), self.ctx.current_txn(), fail.kind, &fail.detail);
        self.ctx.trace_line(format_args!("websocket FAILED: {}: {}", fail.kind.name(), fail.detail));
        HttpError::failed(fail.kind, fail.detail)
    }

    fn release(&self) {
        if let Ok(url) = Url::parse(&self.http_url) {
            self.ctx.shard().http.release_dedicated(&url);
        }
    }

    /// Sends a text message.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn say(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     ws.send_text("order 42").await?;
    ///     ws.receive().await?;
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(say).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.websockets[0].messages[0].text.as_deref(), Some("order 42"));
    /// ```
    pub async fn send_text(&mut self, text: &str) -> Result<(), HttpError> {
        self.send(Opcode::Text, text.as_bytes()).await
    }

    /// Sends a binary message.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn upload(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     ws.send_binary(&[1, 2, 3, 4]).await?;
    ///     ws.receive().await?;
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(upload).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// let sent = &record.websockets[0].messages[0];
    /// assert_eq!((sent.is_text, sent.len), (false, 4));
    /// ```
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), HttpError> {
        self.send(Opcode::Binary, data).await
    }

    async fn send(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), HttpError> {
        let timeout = self.timeout();
        let Some(conn) = self.conn.as_mut() else { return Err(self.closed_error()) };
        let sent = match crate::driver::timeout(timeout, conn.send(opcode, payload)).await {
            Ok(sent) => sent,
            Err(_) => Err(failure(ErrorKind::Timeout, format!("send did not complete within {timeout:?}"))),
        };
        match sent {
            Ok(()) => {
                self.count(|ws| {
                    ws.messages_sent += 1;
                    ws.bytes_sent += payload.len() as u64;
                });
                let is_text = opcode == Opcode::Text;
                self.record_message(WsDirection::Sent, is_text, payload);
                self.ctx.trace_line(format_args!("websocket sent {}", Shown { is_text, payload }));
                Ok(())
            }
            Err(fail) if fail.kind == ErrorKind::Timeout => Err(self.fail(fail).await),
            Err(fail) => {
                let fail = self.closed_meanwhile(fail).await;
                Err(self.fail(fail).await)
            }
        }
    }

    /// A send that failed on the transport: if the server had closed the WebSocket before it
    /// went (a close frame the journey had not read yet, then the connection reset by our
    /// write), the failure is that close, with its code. Data messages and pings read on the
    /// way to it are counted as received.
    async fn closed_meanwhile(&mut self, fail: Failure) -> Failure {
        let Some(conn) = self.conn.as_mut() else { return fail };
        let (mut messages, mut bytes, mut pings) = (0u64, 0u64, 0u64);
        let closed = conn
            .server_close(|frame| match frame {
                Some(data) => {
                    messages += 1;
                    bytes += data.len() as u64;
                }
                None => pings += 1,
            })
            .await;
        self.count(|ws| {
            ws.messages_received += messages;
            ws.bytes_received += bytes;
            ws.pings_received += pings;
        });
        match closed {
            None => fail,
            Some((code, reason)) => failure(
                ErrorKind::WsClosed,
                format!(
                    "the server closed the WebSocket with {}{} while a message was being sent ({})",
                    code.unwrap_or(1005),
                    if reason.is_empty() { String::new() } else { format!(" ({reason})") },
                    fail.detail
                ),
            ),
        }
    }

    /// The next message, waiting up to the request timeout (`--timeout`). A close from the
    /// server is a `ws_closed` error (the journey expected a message).
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn echo(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     ws.send_text("ping").await?;
    ///     let reply = ws.receive().await?;
    ///     ctx.send("reply", &[("text", &reply.text().unwrap_or(""))]);
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(echo).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields[0].1, "ping");
    /// ```
    pub async fn receive(&mut self) -> Result<WsMessage, HttpError> {
        self.receive_timeout(self.timeout()).await
    }

    /// The next message, waiting up to `timeout` (a `timeout` error after it).
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// use std::time::Duration;
    ///
    /// // The echo endpoint says nothing until spoken to: the wait ends in a `timeout` error.
    /// async fn quiet(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     let waited = ws.receive_timeout(Duration::from_millis(50)).await;
    ///     let kind = waited.err().and_then(|e| e.kind()).map_or("none", |k| k.name());
    ///     ctx.send("waited", &[("kind", &kind)]);
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(quiet).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields[0].1, "timeout");
    /// ```
    pub async fn receive_timeout(&mut self, timeout: Duration) -> Result<WsMessage, HttpError> {
        match self.receive_or_closed(timeout, || format!("no message within {timeout:?}")).await? {
            Ok(message) => Ok(message),
            Err(close) => {
                let said = close.said();
                let err = failure(
                    ErrorKind::WsClosed,
                    format!("server closed the WebSocket while a message was expected{said}"),
                );
                record_failure(self.ctx.shard_rc(), self.ctx.current_txn(), err.kind, &err.detail);
                Err(HttpError::failed(err.kind, err.detail))
            }
        }
    }

    /// The next message, or `None` when the server closed normally (1000, 1001 or no code);
    /// the close handshake is then complete. Waits up to `timeout`.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// use std::time::Duration;
    ///
    /// // The target's /ws/broadcast sends `count` messages, then closes normally.
    /// async fn listen(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     let mut received = 0;
    ///     while ws.receive_or_close(Duration::from_secs(5)).await?.is_some() {
    ///         received += 1;
    ///     }
    ///     ctx.send("listened", &[("received", &received)]);
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/broadcast?rate=1000&count=3")).run(listen).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields[0].1, "3");
    /// ```
    pub async fn receive_or_close(&mut self, timeout: Duration) -> Result<Option<WsMessage>, HttpError> {
        self.receive_within(timeout, || format!("no message within {timeout:?}")).await
    }

    /// `receive_or_close`, with the words of its timeout error.
    pub(crate) async fn receive_within(
        &mut self,
        timeout: Duration,
        timed_out: impl FnOnce() -> String,
    ) -> Result<Option<WsMessage>, HttpError> {
        Ok(self.receive_or_closed(timeout, timed_out).await?.ok())
    }

    /// `receive_within`, with the server's normal close (its code and reason) in place of `None`.
    async fn receive_or_closed(
        &mut self,
        timeout: Duration,
        timed_out: impl FnOnce() -> String,
    ) -> Result<Result<WsMessage, NormalClose>, HttpError> {
        let write_timeout = self.timeout();
        let Some(conn) = self.conn.as_mut() else { return Err(self.closed_error()) };
        let mut pings = 0;
        let deadline = Instant::now() + timeout;
        let event = next_event(conn, &mut pings, Some(deadline), write_timeout).await;
        match &event {
            Err(fail) if fail.recoverable => conn.timed_out = true,
            Ok(Event::Data(_)) => conn.timed_out = false,
            _ => {}
        }
        if pings > 0 {
            self.count(|ws| ws.pings_received += pings);
        }
        match event {
            Err(fail) if fail.recoverable => {
                // The read was cancelled without losing a byte: the connection is still usable
                // (a slow server is not a broken one), but not closed in the background unless
                // a message comes first (`Conn::timed_out`).
                let detail = timed_out();
                record_failure(self.ctx.shard_rc(), self.ctx.current_txn(), fail.kind, &detail);
                self.ctx.trace_line(format_args!("websocket FAILED: {}: {detail}", fail.kind.name()));
                Err(HttpError::failed(fail.kind, detail))
            }
            Err(fail) => Err(self.fail(fail).await),
            Ok(Event::Data(message)) => {
                self.count(|ws| {
                    ws.messages_received += 1;
                    ws.bytes_received += message.data.len() as u64;
                });
                let (is_text, payload) = (message.text, &message.data[..]);
                self.record_message(WsDirection::Received, is_text, payload);
                self.ctx.trace_line(format_args!("websocket received {}", Shown { is_text, payload }));
                Ok(Ok(message))
            }
            Ok(Event::Closed { code, reason, outcome }) => {
                self.conn = None;
                self.release();
                let (shard, txn) = (self.ctx.shard_rc(), self.ctx.current_txn());
                record_close(shard, self.recorded_at, txn, WsCloser::Server, code, outcome.as_ref().err());
                match outcome {
                    Ok(()) => {
                        self.count(|ws| ws.closes += 1);
                        let said = if reason.is_empty() { String::new() } else { format!(", reason {reason:?}") };
                        self.ctx.trace_line(format_args!(
                            "websocket closed by the server ({}{said})",
                            code.unwrap_or(1005)
                        ));
                        Ok(Err(NormalClose { code, reason }))
                    }
                    Err(fail) => Err(self.fail(fail).await),
                }
            }
        }
    }

    /// Sends `text`, then waits (up to the request timeout) for the first message `matches`
    /// accepts; the time from sending to that reply is recorded as a reply latency. Messages
    /// that do not match are counted as received and skipped. An exchange still waiting when
    /// the run stops is counted as `cancelled`.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn quote(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     ctx.transaction("quote", async {
    ///         let reply = ws.request_reply("quote 7", |m| m.text() == Some("quote 7")).await?;
    ///         ctx.send("reply", &[("len", &reply.bytes().len())]);
    ///         Ok(())
    ///     })
    ///     .await?;
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(quote).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// assert_eq!(record.messages[0].fields[0].1, "7");
    /// assert!(record.transaction("quote").is_some());
    /// ```
    pub async fn request_reply(
        &mut self,
        text: &str,
        matches: impl Fn(&WsMessage) -> bool,
    ) -> Result<WsMessage, HttpError> {
        self.request_reply_within(text, self.timeout(), matches).await
    }

    /// `request_reply`, waiting up to `timeout` (a scenario file's step `timeout`).
    pub(crate) async fn request_reply_within(
        &mut self,
        text: &str,
        timeout: Duration,
        matches: impl Fn(&WsMessage) -> bool,
    ) -> Result<WsMessage, HttpError> {
        let txn = self.ctx.current_txn();
        self.ctx.shard_rc().stats.borrow_mut().ws_wait_started(txn);
        let result = self.exchange(text, timeout, matches).await;
        self.ctx.shard_rc().stats.borrow_mut().ws_wait_finished(txn);
        result
    }

    async fn exchange(
        &mut self,
        text: &str,
        timeout: Duration,
        matches: impl Fn(&WsMessage) -> bool,
    ) -> Result<WsMessage, HttpError> {
        let started = Instant::now();
        let deadline = started + timeout;
        self.send_text(text).await?;
        // Messages that did not match, and the last of them, for the timeout's words.
        let (mut unmatched, mut last) = (0usize, None::<WsMessage>);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let timed_out = || match &last {
                None => format!("no reply within {timeout:?}"),
                Some(m) => format!(
                    "no matching reply within {timeout:?}: {unmatched} message(s) did not match, the last {}",
                    Shown { is_text: m.text, payload: &m.data }
                ),
            };
            let message = match self.receive_or_closed(left, timed_out).await? {
                Ok(message) => message,
                Err(close) => {
                    let said = close.said();
                    let err = failure(
                        ErrorKind::WsClosed,
                        format!("server closed the WebSocket while a reply was expected{said}"),
                    );
                    record_failure(self.ctx.shard_rc(), self.ctx.current_txn(), err.kind, &err.detail);
                    return Err(HttpError::failed(err.kind, err.detail));
                }
            };
            if matches(&message) {
                let took_us = micros(started.elapsed());
                let txn = self.ctx.current_txn();
                self.ctx.shard_rc().stats.borrow_mut().txn_latencies(txn).1.record(Latency::WsReply, took_us);
                return Ok(message);
            }
            unmatched += 1;
            last = Some(message);
        }
    }

    /// Closes with 1000 and waits (up to `limits::WS_CLOSE_TIMEOUT`) for the server's close.
    /// Messages that arrive meanwhile are counted and dropped. A server that never answers is
    /// a `timeout` error.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn bye(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
    ///     Ok(ws.close().await?)
    /// }
    ///
    /// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(bye).unwrap();
    /// assert!(record.is_ok(), "{:?}", record.result);
    /// let close = record.websockets[0].close.as_ref().unwrap();
    /// assert_eq!(close.code, Some(1000)); // closed by the journey, answered by the server
    /// ```
    pub async fn close(mut self) -> Result<(), HttpError> {
        let Some(mut conn) = self.conn.take() else { return Ok(()) };
        let shard = self.ctx.shard_rc().clone();
        let (txn, at) = (self.ctx.current_txn(), self.recorded_at);
        let outcome = close_handshake(&mut conn, &shard, txn, at).await;
        self.release();
        record_close(&shard, at, txn, WsCloser::Client, Some(1000), outcome.as_ref().err());
        match outcome {
            Ok(()) => {
                self.ctx.trace_line(format_args!("websocket closed (1000)"));
                Ok(())
            }
            Err(fail) => {
                record_failure(&shard, self.ctx.current_txn(), fail.kind, &fail.detail);
                self.ctx.trace_line(format_args!("websocket close FAILED: {}", fail.detail));
                Err(HttpError::failed(fail.kind, fail.detail))
            }
        }
    }
}

/// Counts one failure on an open connection and keeps a sample of its message.
fn record_failure(shard: &Shard, txn: TxnId, kind: ErrorKind, detail: &str) {
    let mut stats = shard.stats.borrow_mut();
    stats.txn(txn).ws.add_error(kind);
    // Counted with the WebSocket errors, not the requests': its sample is kept apart, so that a
    // request error kind's sample is one of its own.
    stats.sample_error("websocket", || format!("{}: {detail}", kind.name()));
    shard.record(|record| record.errors.push(format!("{}: {detail}", kind.name())));
}

/// Sends a close (if not yet sent) and reads until the server's close, counting data messages
/// that arrive meanwhile (and keeping them in connection `at`'s record); counts the completed
/// close. A close still waiting when the run stops is counted as `cancelled`.
async fn close_handshake(conn: &mut Conn, shard: &Shard, txn: TxnId, at: Option<usize>) -> Result<(), Failure> {
    shard.stats.borrow_mut().ws_wait_started(txn);
    let outcome = close_waiting(conn, shard, txn, at).await;
    shard.stats.borrow_mut().ws_wait_finished(txn);
    outcome
}

async fn close_waiting(conn: &mut Conn, shard: &Shard, txn: TxnId, at: Option<usize>) -> Result<(), Failure> {
    let waited = crate::driver::timeout(WS_CLOSE_TIMEOUT, async {
        conn.send_close(1000).await?;
        let mut pings = 0;
        loop {
            let event = next_event(conn, &mut pings, None, WS_CLOSE_TIMEOUT).await;
            let message = {
                let mut stats = shard.stats.borrow_mut();
                let ws = &mut stats.txn(txn).ws;
                ws.pings_received += std::mem::take(&mut pings);
                match event? {
                    Event::Data(message) => {
                        ws.messages_received += 1;
                        ws.bytes_received += message.data.len() as u64;
                        message
                    }
                    Event::Closed { outcome, .. } => {
                        ws.closes += 1;
                        return outcome;
                    }
                }
            };
            record_on(shard, at, txn, |ws, transaction| {
                ws.message(WsDirection::Received, message.text, &message.data, transaction);
            });
        }
    })
    .await;
    match waited {
        Ok(outcome) => outcome,
        Err(_) => {
            Err(failure(ErrorKind::Timeout, format!("server did not answer the close within {WS_CLOSE_TIMEOUT:?}")))
        }
    }
}

impl Drop for WebSocket<'_> {
    /// Mite closes a journey's WebSockets when it ends: the close handshake runs in the
    /// background on this core, bounded by `WS_CLOSE_TIMEOUT`. When the run is stopping, or the
    /// connection's last receive timed out (`Conn::timed_out`: its failure is counted already),
    /// the connection is simply released.
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else { return };
        let shard: Rc<Shard> = self.ctx.shard_rc().clone();
        let txn = self.ctx.current_txn();
        let release = shard.stopping.get() || conn.timed_out;
        let code = (!release).then_some(1000);
        record_close(&shard, self.recorded_at, txn, WsCloser::Dropped, code, None);
        if release {
            self.release();
            return;
        }
        let http_url = std::mem::take(&mut self.http_url);
        crate::driver::spawn(async move {
            // Not recorded: the journey (and a journey test's record) has ended.
            if let Err(fail) = close_handshake(&mut conn, &shard, txn, None).await {
                record_failure(&shard, txn, fail.kind, &fail.detail);
            }
            drop(conn);
            if let Ok(url) = Url::parse(&http_url) {
                shard.http.release_dedicated(&url);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trace shows a short text whole, and of a long text, binary data (or text that is
    /// not UTF-8) only the length.
    #[test]
    fn the_trace_shows_short_texts_and_lengths() {
        let shown = |is_text, payload: &[u8]| Shown { is_text, payload }.to_string();
        assert_eq!(shown(true, b"hi \"there\""), r#"text "hi \"there\"" (10 bytes)"#);
        let long = "x".repeat(WS_RECORDED_TEXT_BYTES_MAX + 1);
        assert_eq!(shown(true, long.as_bytes()), "text (257 bytes)");
        assert_eq!(shown(true, "x".repeat(WS_RECORDED_TEXT_BYTES_MAX).as_bytes()).len(), 256 + 19);
        assert_eq!(shown(false, b"hi"), "binary (2 bytes)");
        assert_eq!(shown(true, b"caf\xc3"), "text (4 bytes)");
        assert_eq!(shown(false, b"h"), "binary (1 byte)");
    }

    /// Outside try: a step's `contains` that failed on a 1 MiB message copied the whole message
    /// into the error (three 1 MiB lines in `journey test`, 1 MiB in the result file).
    #[test]
    fn errors_quote_a_message_as_the_trace_does() {
        let long = WsMessage { data: Bytes::from("y".repeat(1 << 20)), text: true };
        assert_eq!(long.to_string(), "text (1,048,576 bytes)");
        let short = WsMessage { data: Bytes::from_static(b"abc"), text: true };
        assert_eq!(short.to_string(), r#"text "abc" (3 bytes)"#);
    }
}
