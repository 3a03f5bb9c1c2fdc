//! One exchange (one hop of a request) sent through the core's HTTP client and recorded under
//! the journey's current transaction: latency (and its open-model corrected twin), status,
//! phases, bytes, connection work, the verdict against the expected statuses, error samples,
//! the journey test's record and trace.

use std::cell::Cell;

use crate::driver::Moment;
use crate::http::client::{Exchange, Progress, Timings};
use crate::http::fields::{NON_ASCII_SENT_AS, check_headers, non_ascii_characters};
use crate::http::timings::{ConnWork, ExchangeTimings, work_mut};
use crate::http::{HttpError, Response, Url};
use crate::journey::Ctx;
use crate::journey::ctx::Millis;
use crate::journey::request::RequestBuilder;
use crate::journey::session::{self, Hop};
use crate::journey::shard::{ShardStats, TxnId};
use crate::stats::{ErrorKind, Latencies, Latency, TxnStats};

impl Ctx {
    /// One exchange (one hop of a request), recorded under the current transaction. (An async
    /// block, not an `async fn`: an `async fn` keeps its arguments twice in its future, and
    /// every request's future holds this one.) The plain request (`RequestBuilder::send`)
    /// writes the client's exchange out between the same two halves itself, two levels fewer.
    #[expect(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice in its future")]
    pub(crate) fn execute<'a>(
        &'a self,
        request: &'a RequestBuilder<'_>,
    ) -> impl Future<Output = Result<Response, HttpError>> + 'a {
        async move {
            let mut encoded = None;
            let (exchange, progress) = self.open_exchange(request, &mut encoded)?;
            let mut result = self.shard.http.exchange(&exchange, &progress).await;
            self.close_exchange(request, &progress, &mut result);
            result
        }
    }

    /// What the client needs to send `request` and count it as it goes, the request counted as
    /// started; or, when it cannot be sent as given, its error, counted. `encoded` keeps a
    /// non-ASCII URL percent-encoded (a copy, only then) while the exchange borrows it.
    #[inline(always)]
    pub(crate) fn open_exchange<'r>(
        &'r self,
        request: &'r RequestBuilder<'_>,
        encoded: &'r mut Option<String>,
    ) -> Result<(Exchange<'r>, Counting<'r>), HttpError> {
        let (url, head) = match request.kept {
            // Parsed once already, from this very text (the same bytes, not a copy of them);
            // its head encoded once too, when nothing was added to the request.
            Some(kept) if std::ptr::eq(kept.url.as_str(), request.url) => (kept.url.url(), kept.head_for(request)),
            _ => (self.parse_url(request, encoded)?, None),
        };
        // (No headers, a declarative step's plain request: nothing to check, no call.)
        if !request.headers.is_empty()
            && let Err(err) = check_headers(&request.headers)
        {
            return Err(self.not_sendable(request.method.as_str(), request.url, err));
        }
        let txn = self.current.get();
        self.shard.stats.borrow_mut().request_started(txn);
        let exchange = Exchange {
            method: &request.method,
            url,
            headers: &request.headers,
            body: request.body,
            head,
            keep_body: request.keep_body,
            keep_head: request.keep_head,
            started: if request.timed_from_transaction { self.txn_began.take() } else { None },
        };
        // Connection work and bytes written are counted as they happen: a request cancelled
        // at the stop (its future dropped after the last snapshot) has counted them already.
        Ok((exchange, Counting { ctx: self, txn, work: Cell::new(None), bytes: Cell::new(0) }))
    }

    /// `request`'s URL parsed (percent-encoded first when it is not ASCII, into `encoded`), or
    /// its error, counted. Out of line: a declarative step's URL is mostly parsed once already,
    /// and the step loop's code keeps to that path.
    #[inline(never)]
    fn parse_url<'r>(
        &self,
        request: &'r RequestBuilder<'_>,
        encoded: &'r mut Option<String>,
    ) -> Result<Url<'r>, HttpError> {
        *encoded = crate::http::url::encode_non_ascii(request.url);
        Url::parse(encoded.as_deref().unwrap_or(request.url)).map_err(|err| {
            let err = HttpError::not_sent(ErrorKind::InvalidUrl, err.to_string());
            self.not_sendable(request.method.as_str(), request.url, err)
        })
    }

    /// Records the exchange's `result` (judged in place: a response is some 180 bytes, not
    /// moved about), and lets the session take in its cookies.
    #[inline(always)]
    pub(crate) fn close_exchange(
        &self,
        request: &RequestBuilder<'_>,
        progress: &Counting<'_>,
        result: &mut Result<Response, HttpError>,
    ) {
        if let Ok(response) = &*result {
            session::absorb(self, request.url, response);
        }
        self.record_exchange(request, progress, result);
        if self.shard.trace.is_some() {
            std::hint::cold_path();
            self.trace_exchange(request, result);
            session::trace_cookies(self);
        }
    }

    /// Counts the exchange's outcome under its transaction; a response outside the expected
    /// statuses (or a redirect that cannot be followed) becomes a `status` error here.
    #[inline]
    fn record_exchange(
        &self,
        request: &RequestBuilder<'_>,
        progress: &Counting<'_>,
        result: &mut Result<Response, HttpError>,
    ) {
        let txn = progress.txn;
        let mut stats = self.shard.stats.borrow_mut();
        stats.request_finished(txn);
        let timings = match &*result {
            Ok(response) => response.exchange_timings(),
            Err(err) => err.exchange_timings(),
        };
        progress.count_rest(stats.txn_latencies(txn), timings);
        match result {
            Ok(response) => {
                record_answer(stats.txn_latencies(txn), request, response, self.start_delay_us.get());
                if let Some(err) = judge(&mut stats, txn, request, response) {
                    *result = Err(err);
                }
            }
            Err(err) => {
                std::hint::cold_path();
                record_failure(&mut stats, txn, err);
            }
        }
        let result = &*result;
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
    }

    /// A request that cannot be sent as given (a URL that does not parse, a header value with
    /// a line break: typically rendered from data at run time): `err` (an `invalid_url` or
    /// `invalid_request` error) of the current transaction, counted once, as an attempt never
    /// sent. `what` is the method, or `websocket`.
    #[cold]
    pub(crate) fn not_sendable(&self, what: &str, url: &str, err: HttpError) -> HttpError {
        let kind = err.kind().unwrap_or(ErrorKind::InvalidRequest);
        let mut stats = self.shard.stats.borrow_mut();
        let entry = stats.txn(self.current.get());
        entry.add_error(kind);
        entry.not_sent += 1;
        stats.sample_error(kind.name(), || err.to_string());
        drop(stats);
        self.trace(format_args!("{what} {} -> FAILED: {err}", shown_url(url)));
        err
    }

    /// The journey test's line for one exchange.
    #[cold]
    fn trace_exchange(&self, request: &RequestBuilder<'_>, result: &Result<Response, HttpError>) {
        match result {
            Ok(response) => {
                let t = response.timings();
                self.trace(format_args!(
                    "{} {} -> {} ({}) in {}{}{}",
                    request.method,
                    shown_url(request.url),
                    response.status(),
                    crate::journey::trace::counted(response.body_len(), "body byte"),
                    Millis(t.total_us),
                    t.connect_us.map(|us| format!(", connect {}", Millis(us))).unwrap_or_default(),
                    t.tls_us.map(|us| format!(", TLS {}", Millis(us))).unwrap_or_default(),
                ));
            }
            Err(err) => self.trace(format_args!("{} {} -> FAILED: {err}", request.method, shown_url(request.url))),
        }
        let body = request.extras.as_ref().and_then(|e| e.body.as_deref()).unwrap_or(request.body);
        if !body.is_empty() {
            self.trace(format_args!("body sent: {}", crate::journey::trace::traced_body(body)));
        }
        // A scenario file's headers are told before the run; a journey's own, and values
        // captured at run time, only here.
        for (name, value) in request.headers.iter().filter(|(_, value)| !value.is_ascii()) {
            self.trace(format_args!(
                "header {name} holds text that is not ASCII ({}): {NON_ASCII_SENT_AS}",
                non_ascii_characters(value, 4)
            ));
        }
    }
}

/// An exchange's progress, counted under its transaction as it is told: what has been counted
/// so far (the connection work, and the bytes of the current attempt), for the next report's
/// difference.
pub(crate) struct Counting<'a> {
    ctx: &'a Ctx,
    txn: TxnId,
    /// The connection work counted (boxed on the first report of some: a request on a pooled
    /// connection does none, and every request's future holds this).
    work: Cell<ConnWork>,
    bytes: Cell<u64>,
}

impl Counting<'_> {
    /// Counts what the progress reports have not: the exchange's connection work and request
    /// bytes, as its result tells them, beyond what was counted so far.
    #[inline]
    fn count_rest(&self, (entry, latencies): (&mut TxnStats, &mut Latencies), now: &ExchangeTimings) {
        let work = self.work.take();
        // No connection work told nor done (a pooled connection's request): nothing to count
        // but bytes, and no `Timings` made of nothing to tell it.
        if work.is_some() || now.work.is_some() {
            std::hint::cold_path();
            let none = Timings::default();
            let (before, now) = (work.as_deref().unwrap_or(&none), now.work.as_deref().unwrap_or(&none));
            count_connection_work(entry, before, now);
            // Connection work is timed as it is counted (a request cancelled later has it too).
            latencies.record_connection_phases_since(before, now);
        }
        self.work.set(work);
        entry.sent_bytes += bytes_since(self.bytes.get(), now.request_bytes);
    }

    /// All that has been counted.
    fn counted(&self) -> Timings {
        let work = self.work.take();
        let counted = Timings { request_bytes: self.bytes.get(), ..work.as_deref().copied().unwrap_or_default() };
        self.work.set(work);
        counted
    }
}

impl Progress for Counting<'_> {
    fn work(&self, now: &Timings) {
        let before = self.counted();
        let mut work = self.work.take();
        *work_mut(&mut work) = *now;
        self.work.set(work);
        self.bytes.set(now.request_bytes);
        let mut stats = self.ctx.shard.stats.borrow_mut();
        count_progress(stats.txn(self.txn), &before, now);
        stats.txn_latencies(self.txn).1.record_connection_phases_since(&before, now);
    }

    fn written(&self, bytes: u64) {
        let before = self.bytes.replace(bytes);
        self.ctx.shard.stats.borrow_mut().txn(self.txn).sent_bytes += bytes_since(before, bytes);
    }

    #[inline]
    fn ended(&self, at: Moment) {
        self.ctx.shard.last_response_end.set(Some(at));
    }
}

/// Records what a response tells whatever its verdict: latency (corrected by the journey's
/// start delay in the open model), status, phases, bytes, connection work.
#[inline]
fn record_answer(
    (entry, latencies): (&mut TxnStats, &mut Latencies),
    request: &RequestBuilder<'_>,
    response: &Response,
    delay_us: Option<u64>,
) {
    let timings = response.exchange_timings();
    latencies.record(Latency::Req, timings.total_us);
    if let Some(delay_us) = delay_us {
        latencies.record(Latency::ReqCorrected, timings.total_us.saturating_add(delay_us));
    }
    entry.add_status(response.status());
    latencies.record(Latency::FirstByte, timings.first_byte_us);
    entry.http.count_response(&request.method, response.status());
    entry.first_byte_us_sum += timings.first_byte_us;
    entry.body_bytes += response.body_len();
}

/// The response's verdict: accepted (`None`: a final status the request expects, or a
/// redirect that will be followed), or a `status` error counted and sampled once. (Inline:
/// the accepted response's few tests go where the exchange is recorded.)
#[inline]
fn judge(stats: &mut ShardStats, txn: TxnId, request: &RequestBuilder<'_>, response: &Response) -> Option<HttpError> {
    let verdict = session::hop_verdict(request, response);
    let accepted = match verdict {
        Hop::Final => request.expect.contains(&response.status()),
        Hop::Followed => true,
        Hop::Broken(_) => false,
    };
    if accepted {
        stats.txn(txn).req_ok += 1;
        return None;
    }
    Some(rejected(stats, txn, request, response, verdict))
}

/// A URL as the trace and the errors show it: as it went on the wire (its path and query
/// percent-encoded when they are not ASCII, `/caf%C3%A9`), so that it matches the server's log,
/// then as written when that differs (`(written /café)`). For the cold paths only.
pub(crate) fn shown_url(url: &str) -> std::borrow::Cow<'_, str> {
    match crate::http::url::encode_non_ascii(url) {
        Some(sent) => format!("{sent} (written {url})").into(),
        None => url.into(),
    }
}

/// A response the request does not accept: its `status` error, counted and sampled once. (Out
/// of line and cold: the accepted response's path stays short.)
#[cold]
#[inline(never)]
fn rejected(
    stats: &mut ShardStats,
    txn: TxnId,
    request: &RequestBuilder<'_>,
    response: &Response,
    verdict: Hop,
) -> HttpError {
    stats.txn(txn).add_error(ErrorKind::Status);
    let why = match verdict {
        Hop::Broken(why) => why,
        _ => format!("expected {}-{}", request.expect.start(), request.expect.end()),
    };
    let err = HttpError::failed(
        ErrorKind::Status,
        format!("{} {} answered {}, {why}", request.method, shown_url(request.url), response.status()),
    )
    .with_status(response.status());
    stats.sample_error(ErrorKind::Status.name(), || err.to_string());
    err
}

/// Counts a failed exchange under its kind; one that failed before a byte was written is an
/// attempt, not a request a server saw.
#[cold]
fn record_failure(stats: &mut ShardStats, txn: TxnId, err: &HttpError) {
    let entry = stats.txn(txn);
    if let Some(kind) = err.kind() {
        entry.add_error(kind);
        entry.not_sent += u64::from(!err.was_sent());
        stats.sample_error(kind.name(), || err.to_string());
    }
}

/// Counts what an exchange did between two of its progress reports (`before` and `now`,
/// cumulative): connection work, and request bytes written (an attempt's bytes start again
/// from 0 when a request is retried on a new connection: both attempts' bytes were sent).
fn count_progress(entry: &mut TxnStats, before: &Timings, now: &Timings) {
    count_connection_work(entry, before, now);
    entry.sent_bytes += bytes_since(before.request_bytes, now.request_bytes);
}

/// Request bytes written since a report of `before` bytes, now that `now` are: all of them when
/// fewer (a new attempt, counting from 0 again).
fn bytes_since(before: u64, now: u64) -> u64 {
    if now >= before { now - before } else { now }
}

/// Counts the connection work of one request, whether it succeeded or not.
pub(crate) fn count_connections(entry: &mut TxnStats, timings: &Timings) {
    count_connection_work(entry, &Timings::default(), timings);
}

/// Counts the connection work done between two cumulative reports of one request.
fn count_connection_work(entry: &mut TxnStats, before: &Timings, now: &Timings) {
    entry.reconnects += u64::from(now.reconnects.saturating_sub(before.reconnects));
    entry.connects += u64::from(now.connects.saturating_sub(before.connects));
    entry.connects_failed += u64::from(now.connects_failed.saturating_sub(before.connects_failed));
    entry.connect_us_sum += now.connect_us.unwrap_or(0).saturating_sub(before.connect_us.unwrap_or(0));
    entry.tls_handshakes += u64::from(now.tls_handshakes.saturating_sub(before.tls_handshakes));
    entry.tls_failed += u64::from(now.tls_failed.saturating_sub(before.tls_failed));
    entry.tls_us_sum += now.tls_us.unwrap_or(0).saturating_sub(before.tls_us.unwrap_or(0));
    entry.tls_resumed += u64::from(now.tls_resumed && !before.tls_resumed);
}
