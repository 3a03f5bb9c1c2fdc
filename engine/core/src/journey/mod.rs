//! The journey API, as in Mite: `async fn journey(ctx, args)`, with `ctx.transaction`,
//! `ctx.send`, `ctx.config()` and `ctx.http()`, and the registry that names journeys and
//! scenarios by `module:name` strings.

pub mod pacing;
pub mod record;
pub mod session;

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use crate::exec::shard::{Shard, TxnId};
use crate::http::client::{Exchange, Timings, micros};
use crate::http::{HttpError, Response, Url};
use crate::journey::session::{Hop, Session};
use crate::model::config::Config;
use crate::model::datapool::{DataPool, Row};
use crate::model::volume::VolumeModel;
use crate::stats::{ErrorKind, TxnStats, record_latency};

/// What a journey returns.
pub type JourneyResult<T = ()> = Result<T, JourneyError>;

/// A journey failed. Counted against the innermost transaction it passed through (once), and
/// against the journey; it never stops the run.
pub struct JourneyError {
    message: Box<str>,
    kind: Option<ErrorKind>,
    recorded: bool,
    /// Named values that travel with the error (Mite's `MiteError(message, **fields)`).
    fields: Vec<(Box<str>, Box<str>)>,
}

impl JourneyError {
    /// An error with a message.
    pub fn msg(message: impl Into<String>) -> JourneyError {
        JourneyError { message: message.into().into_boxed_str(), kind: None, recorded: false, fields: Vec::new() }
    }

    /// Adds a named value (`JourneyError::msg("bad basket").field("user", &user)`): shown with
    /// the message in traces and in the result's error samples.
    pub fn field(mut self, name: &str, value: &dyn fmt::Display) -> JourneyError {
        self.fields.push((name.into(), value.to_string().into_boxed_str()));
        self
    }

    /// The named values, in the order they were added.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(name, value)| (&**name, &**value))
    }

    /// The request error kind, when the journey failed on a request.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True once a transaction has counted this error.
    pub fn is_recorded(&self) -> bool {
        self.recorded
    }
}

impl<E: std::error::Error + 'static> From<E> for JourneyError {
    fn from(err: E) -> JourneyError {
        let kind = (&err as &dyn Any).downcast_ref::<HttpError>().and_then(HttpError::kind);
        JourneyError { message: err.to_string().into_boxed_str(), kind, recorded: false, fields: Vec::new() }
    }
}

impl fmt::Display for JourneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for (i, (name, value)) in self.fields.iter().enumerate() {
            write!(f, "{}{name}={value}", if i == 0 { " (" } else { ", " })?;
        }
        if !self.fields.is_empty() {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Debug for JourneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JourneyError({:?})", self.message)
    }
}

/// A journey's view of its core: transactions, messages, configuration and HTTP.
pub struct Ctx {
    shard: Rc<Shard>,
    journey: TxnId,
    current: Cell<TxnId>,
    depth: Cell<usize>,
    /// Open model: how late this journey started against its intended start, µs.
    start_delay_us: Cell<Option<u64>>,
    /// This journey run's cookies (reset by `begin_run`).
    pub(crate) session: RefCell<Session>,
}

impl Ctx {
    /// A context for journey `journey_name` on `shard`.
    pub fn new(shard: Rc<Shard>, journey_name: &str) -> Ctx {
        let journey = shard.stats.borrow_mut().root(journey_name);
        Ctx {
            shard,
            journey,
            current: Cell::new(journey),
            depth: Cell::new(1),
            start_delay_us: Cell::new(None),
            session: RefCell::default(),
        }
    }

    /// A new journey run starts on this context: its session (cookies) starts empty.
    pub(crate) fn begin_run(&self) {
        self.session.borrow_mut().reset();
    }

    /// Open model: sets how late the current journey started against its intended start;
    /// latencies are then also recorded corrected by it (coordinated omission).
    pub(crate) fn set_start_delay_us(&self, delay_us: Option<u64>) {
        self.start_delay_us.set(delay_us);
    }

    /// The core this journey runs on.
    pub fn shard(&self) -> &Shard {
        &self.shard
    }

    /// Configuration (scenario values, `MITE_CONF_*` variables, `--config` overrides).
    pub fn config(&self) -> &Config {
        &self.shard.config
    }

    /// The transaction requests and messages are recorded under now.
    pub(crate) fn current_txn(&self) -> TxnId {
        self.current.get()
    }

    /// The core's state, shared (a WebSocket closing after its journey keeps it).
    pub(crate) fn shard_rc(&self) -> &Rc<Shard> {
        &self.shard
    }

    /// Open model: how late this journey started, µs.
    pub(crate) fn start_delay_us(&self) -> Option<u64> {
        self.start_delay_us.get()
    }

    /// WebSockets (Mite's `ctx.websocket`): `ctx.websocket().connect(url).await?`.
    pub fn websocket(&self) -> crate::ws::WebSockets<'_> {
        crate::ws::WebSockets::new(self)
    }

    fn trace(&self, line: fmt::Arguments<'_>) {
        if self.shard.trace {
            println!("{:indent$}{line}", "", indent = self.depth.get() * 2);
        }
    }

    /// A line of the journey-test trace (nothing when not tracing).
    pub(crate) fn trace_line(&self, line: fmt::Arguments<'_>) {
        self.trace(line);
    }

    /// Times `body` as transaction `name` (nested names join as `outer :: inner`). An error
    /// from `body` is counted against this transaction, unless an inner one already counted
    /// it, and returned.
    ///
    /// A hand-written future rather than an `async fn`: an async fn would keep `body` twice in
    /// its state (as the argument and as the awaited value), doubling the size of every
    /// journey's future, which is copied whenever a journey starts.
    pub fn transaction<'a, T, F>(&'a self, name: &'a str, body: F) -> Transaction<'a, F>
    where
        F: Future<Output = JourneyResult<T>>,
    {
        Transaction { ctx: self, name, body, open: None }
    }

    /// Starts transaction `name` under the current one; returns (parent, id, start).
    fn begin_transaction(&self, name: &str) -> (TxnId, TxnId, Instant) {
        let parent = self.current.get();
        let id = {
            let mut stats = self.shard.stats.borrow_mut();
            if parent == self.journey { stats.root(name) } else { stats.child(parent, name) }
        };
        self.trace(format_args!("> transaction {name}"));
        self.depth.set(self.depth.get() + 1);
        self.current.set(id);
        (parent, id, Instant::now())
    }

    /// Ends a transaction: records its time and outcome, restores the parent.
    fn end_transaction<T>(
        &self,
        name: &str,
        open: (TxnId, TxnId, Instant),
        result: JourneyResult<T>,
    ) -> JourneyResult<T> {
        let (parent, id, started) = open;
        let took_us = micros(started.elapsed());
        self.current.set(parent);
        self.depth.set(self.depth.get() - 1);
        let mut stats = self.shard.stats.borrow_mut();
        self.shard.record(|record| {
            record.transactions.push(crate::journey::record::RecordedTransaction {
                name: stats.name(id).to_string(),
                error: result.as_ref().err().map(ToString::to_string),
                duration: std::time::Duration::from_micros(took_us),
            })
        });
        let txn = stats.txn(id);
        record_latency(&mut txn.txn_us, took_us);
        if let Some(delay_us) = self.start_delay_us.get() {
            record_latency(&mut txn.txn_us_corrected, took_us.saturating_add(delay_us));
        }
        match result {
            Ok(value) => {
                txn.txn_ok += 1;
                drop(stats);
                self.trace(format_args!("< transaction {name} ok in {}", Millis(took_us)));
                Ok(value)
            }
            Err(mut err) => {
                txn.txn_err += 1;
                drop(stats);
                self.trace(format_args!("< transaction {name} FAILED in {}: {err}", Millis(took_us)));
                err.recorded = true;
                Err(err)
            }
        }
    }

    /// Emits a message (Mite's `ctx.send`): counted by type in the results, printed by
    /// `journey test`.
    pub fn send(&self, kind: &str, fields: &[(&str, &dyn fmt::Display)]) {
        self.shard.stats.borrow_mut().message(kind);
        self.shard.record(|record| {
            let fields = fields.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
            record.messages.push(crate::journey::record::RecordedMessage { kind: kind.to_string(), fields });
        });
        if self.shard.trace {
            let mut line = format!("send {kind}");
            for (name, value) in fields {
                line.push_str(&format!(" {name}={value}"));
            }
            self.trace(format_args!("{line}"));
        }
    }

    /// The HTTP client, as a request builder.
    pub fn http(&self) -> Http<'_> {
        Http { ctx: self }
    }

    /// One exchange (one hop of a request), recorded under the current transaction.
    pub(crate) async fn execute(&self, request: &RequestBuilder<'_>) -> Result<Response, HttpError> {
        let url = match Url::parse(request.url) {
            Ok(url) => url,
            Err(err) => return Err(self.invalid_url(request, &err)),
        };
        for (name, value) in &request.headers {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(HttpError::invalid(format!("header name {name:?} is not a valid token")));
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(HttpError::invalid(format!("header {name} value contains CR, LF or NUL")));
            }
        }
        let txn = self.current.get();
        self.shard.stats.borrow_mut().request_started(txn);
        let exchange = Exchange {
            method: request.method.as_str(),
            url,
            headers: &request.headers,
            body: request.body,
            keep_body: request.keep_body,
        };
        let result = self.shard.http.exchange(&exchange).await;
        if let Ok(response) = &result {
            crate::journey::session::absorb(self, request.url, response);
        }
        let mut stats = self.shard.stats.borrow_mut();
        stats.request_finished(txn);
        let entry = stats.txn(txn);
        let result = match result {
            Ok(response) => {
                let timings = response.timings();
                record_latency(&mut entry.req_us, timings.total_us);
                if let Some(delay_us) = self.start_delay_us.get() {
                    record_latency(&mut entry.req_us_corrected, timings.total_us.saturating_add(delay_us));
                }
                entry.add_status(response.status());
                entry.http.record(&request.method, response.status(), &timings);
                entry.first_byte_us_sum += timings.first_byte_us;
                entry.body_bytes += response.body_len();
                entry.sent_bytes += timings.request_bytes;
                count_connections(entry, &timings);
                let verdict = crate::journey::session::hop_verdict(request, &response);
                let accepted = match verdict {
                    Hop::Final => request.expect.contains(&response.status()),
                    Hop::Followed => true,
                    Hop::Broken(_) => false,
                };
                if accepted {
                    entry.req_ok += 1;
                    Ok(response)
                } else {
                    entry.add_error(ErrorKind::Status);
                    let why = match verdict {
                        Hop::Broken(why) => why,
                        _ => format!("expected {}-{}", request.expect.start(), request.expect.end()),
                    };
                    let err = HttpError::failed(
                        ErrorKind::Status,
                        format!("{} {} answered {}, {why}", request.method, request.url, response.status()),
                    )
                    .with_status(response.status());
                    stats.sample_error(ErrorKind::Status.name(), || err.to_string());
                    Err(err)
                }
            }
            Err(err) => {
                count_connections(entry, &err.timings());
                if let Some(kind) = err.kind() {
                    entry.add_error(kind);
                    // Failed before a byte was written: an attempt, not a request a server saw.
                    entry.not_sent += u64::from(!err.was_sent());
                    stats.sample_error(kind.name(), || err.to_string());
                }
                Err(err)
            }
        };
        self.shard.record(|record| {
            let error = result.as_ref().err().filter(|e| e.kind().is_some()).map(ToString::to_string);
            record.errors.extend(error.clone());
            record.requests.push(crate::journey::record::RecordedRequest {
                method: request.method.to_string(),
                url: request.url.to_string(),
                status: result.as_ref().map(Response::status).ok().or_else(|| result.as_ref().err()?.status()),
                error,
                transaction: stats.name(txn).to_string(),
            });
        });
        drop(stats);
        if self.shard.trace {
            match &result {
                Ok(response) => {
                    let t = response.timings();
                    self.trace(format_args!(
                        "{} {} -> {} ({} body bytes) in {}{}{}",
                        request.method,
                        request.url,
                        response.status(),
                        response.body_len(),
                        Millis(t.total_us),
                        t.connect_us.map(|us| format!(", connect {}", Millis(us))).unwrap_or_default(),
                        t.tls_us.map(|us| format!(", TLS {}", Millis(us))).unwrap_or_default(),
                    ));
                }
                Err(err) => self.trace(format_args!("{} {} -> FAILED: {err}", request.method, request.url)),
            }
        }
        result
    }
}

impl Ctx {
    /// A URL that does not parse (typically rendered from a template at run time) is an
    /// `invalid_url` error of the current transaction, counted once, as an attempt never sent.
    fn invalid_url(&self, request: &RequestBuilder<'_>, err: &crate::http::UrlError) -> HttpError {
        let err = HttpError::not_sent(ErrorKind::InvalidUrl, err.to_string());
        let mut stats = self.shard.stats.borrow_mut();
        let entry = stats.txn(self.current.get());
        entry.add_error(ErrorKind::InvalidUrl);
        entry.not_sent += 1;
        stats.sample_error(ErrorKind::InvalidUrl.name(), || err.to_string());
        drop(stats);
        self.trace(format_args!("{} {} -> FAILED: {err}", request.method, request.url));
        err
    }
}

/// Counts the connection work of one request, whether it succeeded or not.
pub(crate) fn count_connections(entry: &mut TxnStats, timings: &Timings) {
    entry.reconnects += u64::from(timings.reconnects);
    entry.connects += u64::from(timings.connects);
    entry.connects_failed += u64::from(timings.connects_failed);
    entry.connect_us_sum += timings.connect_us.unwrap_or(0);
    entry.tls_handshakes += u64::from(timings.tls_handshakes);
    entry.tls_failed += u64::from(timings.tls_failed);
    entry.tls_us_sum += timings.tls_us.unwrap_or(0);
    entry.tls_resumed += u64::from(timings.tls_resumed);
}

/// The future of [`Ctx::transaction`].
pub struct Transaction<'a, F> {
    ctx: &'a Ctx,
    name: &'a str,
    body: F,
    /// Set at the first poll: (parent, id, start).
    open: Option<(TxnId, TxnId, Instant)>,
}

impl<T, F: Future<Output = JourneyResult<T>>> Future for Transaction<'_, F> {
    type Output = JourneyResult<T>;

    #[allow(unsafe_code)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<JourneyResult<T>> {
        // SAFETY: `body` is structurally pinned: it is never moved out of `self`, and the other
        // fields are plain data that are never pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let open = *this.open.get_or_insert_with(|| this.ctx.begin_transaction(this.name));
        // SAFETY: see above; `this` stays where it is for as long as the pin lasts.
        let body = unsafe { Pin::new_unchecked(&mut this.body) };
        match body.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                this.open = None;
                Poll::Ready(this.ctx.end_transaction(this.name, open, result))
            }
        }
    }
}

impl<F> Drop for Transaction<'_, F> {
    /// A transaction dropped before it finished (a timeout or `select` around it, the run's
    /// stop) gives the current transaction back to its parent, so what the journey does next
    /// is not counted under it. It records nothing: it never completed.
    fn drop(&mut self) {
        if let Some((parent, _, _)) = self.open.take() {
            self.ctx.current.set(parent);
            self.ctx.depth.set(self.ctx.depth.get() - 1);
        }
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Microseconds shown as milliseconds.
struct Millis(u64);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} ms", self.0 as f64 / 1000.0)
    }
}

/// `ctx.http()`: starts a request.
pub struct Http<'c> {
    ctx: &'c Ctx,
}

impl<'c> Http<'c> {
    /// A request with any method.
    pub fn request(&self, method: http::Method, url: &'c str) -> RequestBuilder<'c> {
        RequestBuilder {
            ctx: self.ctx,
            method,
            url,
            headers: Vec::new(),
            body: b"",
            expect: 200..=399,
            keep_body: true,
            follow: None,
            max_redirects: None,
            redirects_left: None,
            extras: None,
        }
    }

    /// `GET url`.
    pub fn get(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::GET, url)
    }

    /// `POST url`.
    pub fn post(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::POST, url)
    }

    /// `PUT url`.
    pub fn put(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::PUT, url)
    }

    /// `DELETE url`.
    pub fn delete(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::DELETE, url)
    }

    /// `HEAD url`.
    pub fn head(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::HEAD, url)
    }

    /// `PATCH url`.
    pub fn patch(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::PATCH, url)
    }

    /// `OPTIONS url`.
    pub fn options(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::OPTIONS, url)
    }
}

/// A request being built; `send().await` runs it in the journey's session (cookies, redirects)
/// and records each exchange under the current transaction.
pub struct RequestBuilder<'c> {
    pub(crate) ctx: &'c Ctx,
    pub(crate) method: http::Method,
    pub(crate) url: &'c str,
    pub(crate) headers: Vec<(&'c str, &'c str)>,
    pub(crate) body: &'c [u8],
    expect: RangeInclusive<u16>,
    keep_body: bool,
    /// Follow redirects (`None`: the client's setting).
    follow: Option<bool>,
    /// Redirects allowed (`None`: the client's setting).
    max_redirects: Option<u8>,
    /// Set by the session for each hop: `Some(n)` when redirects are followed, `n` left.
    pub(crate) redirects_left: Option<u8>,
    /// What only some requests need (cookies, auth, generated bodies): boxed, so the plain
    /// request stays small and allocates nothing.
    pub(crate) extras: Option<Box<RequestExtras<'c>>>,
}

/// The less common parts of a request.
#[derive(Default)]
pub(crate) struct RequestExtras<'c> {
    /// Cookies for this request only (`name`, `value`), besides the jar's.
    pub cookies: Vec<(&'c str, &'c str)>,
    /// `Authorization` value (basic auth); sent within the request's origin only.
    pub authorization: Option<String>,
    /// A generated body (JSON, form), in place of `body`.
    pub body: Option<Vec<u8>>,
    /// `Content-Type` of the generated body.
    pub content_type: Option<&'static str>,
    /// The URL with query parameters added, in place of `url`.
    pub url: Option<String>,
    /// Why the request cannot be sent (a body that could not be written).
    pub invalid: Option<String>,
}

impl<'c> RequestBuilder<'c> {
    /// Adds a header field.
    pub fn header(mut self, name: &'c str, value: &'c str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Sets the body (`Content-Length` is added).
    pub fn body(mut self, body: &'c [u8]) -> Self {
        self.body = body;
        self
    }

    /// Statuses counted as success (default 200-399); others are `status` errors.
    pub fn expect_status(mut self, statuses: RangeInclusive<u16>) -> Self {
        self.expect = statuses;
        self
    }

    /// Counts the body bytes but does not keep them (saves a copy on the hot path).
    pub fn discard_body(mut self) -> Self {
        self.keep_body = false;
        self
    }

    /// Follows redirects (301, 302, 303, 307, 308) or not; when not, a 3xx is the response
    /// (judged by `expect_status`). Default: the scenario's `[client] follow_redirects`, true.
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow = Some(follow);
        self
    }

    /// Redirects followed at most (Mite's `max_redirects`, default 5; at most
    /// `limits::REDIRECTS_MAX`); one more is a `status` error.
    pub fn max_redirects(mut self, redirects: u8) -> Self {
        self.max_redirects = Some(redirects.min(crate::limits::REDIRECTS_MAX));
        self
    }

    /// Sends a cookie with this request (and its redirects within the same origin), besides
    /// the session's.
    pub fn cookie(mut self, name: &'c str, value: &'c str) -> Self {
        self.extras().cookies.push((name, value));
        self
    }

    /// Basic authentication (`Authorization: Basic base64(user:password)`), sent within the
    /// request's origin only (not to another host it redirects to).
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.extras().authorization = Some(format!("Basic {token}"));
        self
    }

    /// A JSON body (serde), with `Content-Type: application/json`. A value serde cannot
    /// write (a map with non-string keys) fails the request when it is sent.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        let extras = self.extras();
        match serde_json::to_vec(value) {
            Ok(body) => {
                extras.body = Some(body);
                extras.content_type = Some("application/json");
            }
            Err(err) => extras.invalid = Some(format!("json body: {err}")),
        }
        self
    }

    /// A form body (`application/x-www-form-urlencoded`), as a browser posts a form.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, fields: &[(K, V)]) -> Self {
        let mut body = String::new();
        crate::http::form::encode_pairs(&mut body, fields);
        let extras = self.extras();
        extras.body = Some(body.into_bytes());
        extras.content_type = Some("application/x-www-form-urlencoded");
        self
    }

    /// Adds query parameters to the URL, encoded (`?a=1&b=x+y`).
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, params: &[(K, V)]) -> Self {
        let url = crate::http::form::with_query(
            self.extras.as_ref().and_then(|e| e.url.as_deref()).unwrap_or(self.url),
            params,
        );
        self.extras().url = Some(url);
        self
    }

    pub(crate) fn extras(&mut self) -> &mut RequestExtras<'c> {
        self.extras.get_or_insert_with(Box::default)
    }

    pub(crate) fn follows_redirects(&self) -> bool {
        self.follow.unwrap_or(self.ctx.shard.http.settings().follow_redirects)
    }

    pub(crate) fn max_redirects_allowed(&self) -> u8 {
        self.max_redirects.unwrap_or(self.ctx.shard.http.settings().max_redirects)
    }

    /// One hop of this request: another method, URL, headers and body, the same expectations.
    pub(crate) fn hop<'h>(
        &'h self,
        method: http::Method,
        url: &'h str,
        headers: Vec<(&'h str, &'h str)>,
        body: &'h [u8],
        redirects_left: Option<u8>,
    ) -> RequestBuilder<'h> {
        RequestBuilder {
            ctx: self.ctx,
            method,
            url,
            headers,
            body,
            expect: self.expect.clone(),
            keep_body: self.keep_body,
            follow: self.follow,
            max_redirects: self.max_redirects,
            redirects_left,
            extras: None,
        }
    }

    /// Sends the request in the journey's session (cookies, redirects) and waits for the
    /// whole response. Every hop is recorded as a request under the current transaction.
    pub async fn send(mut self) -> Result<Response, HttpError> {
        // The plain request is one exchange, inline; anything more is the session's loop.
        if !crate::journey::session::prepare(&mut self) {
            return Box::pin(crate::journey::session::chain(self, None)).await;
        }
        let result = self.ctx.execute(&self).await;
        match result {
            Ok(response) if crate::journey::session::follows(&self, &response) => {
                Box::pin(crate::journey::session::chain(self, Some(response))).await
            }
            result => result,
        }
    }
}

/// A journey the engine can run: once (journey test) or in a loop per slot (load).
pub trait Journey: Send + Sync + 'static {
    /// Runs the journey once.
    fn run_once<'a>(&'a self, ctx: &'a Ctx, row: Row) -> Pin<Box<dyn Future<Output = JourneyResult> + 'a>>;

    /// Starts one journey slot on the current core's runtime (see `runtime::Slot`).
    fn spawn_slot(&self, slot: crate::exec::runtime::Slot);
}

/// A journey written as `async fn(&Ctx, Row) -> JourneyResult`.
struct AsyncJourney<F>(F);

impl<F> Journey for AsyncJourney<F>
where
    F: AsyncFn(&Ctx, Row) -> JourneyResult + Copy + Send + Sync + 'static,
{
    fn run_once<'a>(&'a self, ctx: &'a Ctx, row: Row) -> Pin<Box<dyn Future<Output = JourneyResult> + 'a>> {
        Box::pin((self.0)(ctx, row))
    }

    fn spawn_slot(&self, slot: crate::exec::runtime::Slot) {
        let f = self.0;
        // The loop is generic over `F`: the journey's future lives inside the slot's task, so
        // running a journey again allocates nothing.
        crate::exec::runtime::spawn_slot(slot, f);
    }
}

/// One line of a scenario: which journey, fed by which datapool, at what volume.
#[derive(Clone, Debug)]
pub struct ScenarioEntry {
    /// Registered journey name (`module:name`).
    pub journey: String,
    /// Rows of arguments; `None` runs the journey with the empty row.
    pub datapool: Option<DataPool>,
    /// How many journeys to keep in flight.
    pub volume: VolumeModel,
}

/// A scenario: what to run, plus configuration defaults it brings.
#[derive(Clone, Debug, Default)]
pub struct Scenario {
    /// Name shown in results.
    pub name: String,
    /// The entries run side by side.
    pub entries: Vec<ScenarioEntry>,
    /// Configuration defaults (overridden by env and CLI).
    pub config: Config,
}

/// Builds a scenario from the configuration.
pub type ScenarioFn = fn(&Config) -> Result<Scenario, String>;

/// A name not found in the registry, with the closest registered names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What was asked for.
    pub name: String,
    /// `journey` or `scenario`.
    pub what: &'static str,
    /// Close registered names.
    pub suggestions: Vec<String>,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.what, self.name)?;
        if !self.suggestions.is_empty() {
            write!(f, "; did you mean {}?", self.suggestions.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownName {}

/// Builds a datapool (for `journey test JOURNEY DATAPOOL`).
pub type DataPoolFn = fn() -> DataPool;

/// A registered datapool: built on demand, or already built (scenario files).
#[derive(Clone)]
enum DataPoolSource {
    Build(DataPoolFn),
    Built(DataPool),
}

/// Journeys, datapools and scenarios by `module:name`.
#[derive(Default, Clone)]
pub struct Registry {
    journeys: BTreeMap<String, Arc<dyn Journey>>,
    scenarios: BTreeMap<String, ScenarioFn>,
    datapools: BTreeMap<String, DataPoolSource>,
}

impl Registry {
    /// Registers an `async fn(&Ctx, Row) -> JourneyResult` under `name` (`module:name`).
    pub fn journey<F>(&mut self, name: &str, f: F)
    where
        F: AsyncFn(&Ctx, Row) -> JourneyResult + Copy + Send + Sync + 'static,
    {
        self.journeys.insert(name.to_string(), Arc::new(AsyncJourney(f)));
    }

    /// Registers a journey implemented directly (declarative journeys).
    pub fn journey_impl(&mut self, name: &str, journey: Arc<dyn Journey>) {
        self.journeys.insert(name.to_string(), journey);
    }

    /// Registers a scenario under `name`.
    pub fn scenario(&mut self, name: &str, f: ScenarioFn) {
        self.scenarios.insert(name.to_string(), f);
    }

    /// Registers a datapool under `name`.
    pub fn datapool(&mut self, name: &str, f: DataPoolFn) {
        self.datapools.insert(name.to_string(), DataPoolSource::Build(f));
    }

    /// Registers an already built datapool (scenario files).
    pub fn datapool_impl(&mut self, name: &str, pool: DataPool) {
        self.datapools.insert(name.to_string(), DataPoolSource::Built(pool));
    }

    /// Looks a datapool up and builds it.
    pub fn find_datapool(&self, name: &str) -> Result<DataPool, UnknownName> {
        let found = self.datapools.get(name).map(|source| match source {
            DataPoolSource::Build(f) => f(),
            DataPoolSource::Built(pool) => pool.clone(),
        });
        found.ok_or_else(|| UnknownName {
            name: name.to_string(),
            what: "datapool",
            suggestions: closest(name, self.datapools.keys()),
        })
    }

    /// Registered datapool names.
    pub fn datapool_names(&self) -> impl Iterator<Item = &str> {
        self.datapools.keys().map(String::as_str)
    }

    /// Looks a journey up.
    pub fn find_journey(&self, name: &str) -> Result<Arc<dyn Journey>, UnknownName> {
        self.journeys.get(name).cloned().ok_or_else(|| UnknownName {
            name: name.to_string(),
            what: "journey",
            suggestions: closest(name, self.journeys.keys()),
        })
    }

    /// Looks a scenario up.
    pub fn find_scenario(&self, name: &str) -> Result<ScenarioFn, UnknownName> {
        self.scenarios.get(name).copied().ok_or_else(|| UnknownName {
            name: name.to_string(),
            what: "scenario",
            suggestions: closest(name, self.scenarios.keys()),
        })
    }

    /// Registered journey names.
    pub fn journey_names(&self) -> impl Iterator<Item = &str> {
        self.journeys.keys().map(String::as_str)
    }

    /// Registered scenario names.
    pub fn scenario_names(&self) -> impl Iterator<Item = &str> {
        self.scenarios.keys().map(String::as_str)
    }
}

/// Up to three names within a small edit distance of `name` (or sharing its module).
fn closest<'a>(name: &str, names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut scored: Vec<(usize, &String)> = names.map(|n| (edit_distance(name, n), n)).collect();
    scored.sort();
    let limit = (name.len() / 2).max(3);
    scored.into_iter().filter(|(d, _)| *d <= limit).take(3).map(|(_, n)| n.clone()).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11: a transaction dropped before it finished left `ctx.current` pointing at it,
    /// so the next transaction was named `cancelled :: next`.
    #[test]
    fn a_cancelled_transaction_gives_the_current_one_back() {
        use std::task::{Context, Poll, Waker};
        let http = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
        let shard = Rc::new(Shard::new(0, 1, Arc::new(Config::default()), http, false, Instant::now()));
        let ctx = Ctx::new(shard.clone(), "journey");
        let mut cx = Context::from_waker(Waker::noop());
        {
            let mut cancelled = std::pin::pin!(ctx.transaction("cancelled", std::future::pending::<JourneyResult>()));
            assert!(cancelled.as_mut().poll(&mut cx).is_pending());
        }
        let next = std::pin::pin!(ctx.transaction("next", async { Ok(()) }));
        assert!(matches!(next.poll(&mut cx), Poll::Ready(Ok(()))));
        let snapshot = shard.stats.borrow_mut().take_snapshot(0, 0.0, 0, true);
        let names: Vec<&str> = snapshot.txns.iter().map(|(name, _)| name.as_ref()).collect();
        assert_eq!(names, vec!["next"]);
        assert_eq!(ctx.depth.get(), 1);
    }

    #[test]
    fn suggestions_are_close_names() {
        let names: Vec<String> = vec!["mite_example:journey".into(), "http_example:journey".into(), "other:x".into()];
        let got = closest("mite_exmple:journey", names.iter());
        assert_eq!(got.first().map(String::as_str), Some("mite_example:journey"));
        assert!(closest("zzzzzzzzzzzzzzzzzzzzzz", names.iter()).is_empty());
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
