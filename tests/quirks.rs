//! The client against what real servers and middleboxes send (the routes of
//! `mite_tools::quirks`): for each, the run ends, every request is counted once (against the
//! target's own count), an error lands in its kind with words that say what was wrong, and a
//! connection whose next bytes cannot be trusted is not used again (against the connections
//! the target accepted).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mite_core::stats::{ErrorKind, TxnStats};
use mite_core::{Ctx, DriverChoice, JourneyResult, Registry, Row, VolumeModel};
use mite_tests::{Server, assert_target_saw_every_request, run, scenario};

const JOURNEYS: u64 = 4;

/// What a run of [`requests_in_a_row`] came to.
struct Seen {
    total: TxnStats,
    /// Connections the target accepted.
    accepted: u64,
    samples: BTreeMap<&'static str, String>,
}

impl Seen {
    /// (ok, errors by kind).
    fn outcome(&self) -> (u64, Vec<(ErrorKind, u64)>) {
        let kinds = ErrorKind::ALL.iter().filter(|k| self.total.errors_of(**k) > 0);
        (self.total.req_ok, kinds.map(|k| (*k, self.total.errors_of(*k))).collect())
    }

    /// The error sample of `kind`.
    fn sample(&self, kind: &str) -> &str {
        self.samples.get(kind).map_or("", String::as_str)
    }
}

async fn requests(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get_or("url", "").to_string();
    let count: u64 = ctx.config().get_or("count", "1").parse().unwrap_or(1);
    let head = ctx.config().get_or("method", "GET") == "HEAD";
    for _ in 0..count {
        let request = if head { ctx.http().head(&url) } else { ctx.http().get(&url) };
        request.send().await?;
    }
    Ok(())
}

/// Runs `JOURNEYS` journeys of `count` requests of `path` each (`method`: `GET` or `HEAD`; a
/// journey ends at its first error), and checks the requests the engine says it wrote against
/// the target's own count: in all, and on that path.
fn requests_in_a_row(server: &Server, method: &str, path: &str, count: u64, timeout: Duration) -> Seen {
    requests_on(server, DriverChoice::Auto, method, path, count, timeout)
}

/// [`requests_in_a_row`] on `driver`.
fn requests_on(server: &Server, driver: DriverChoice, method: &str, path: &str, count: u64, timeout: Duration) -> Seen {
    let route = path.split('?').next().unwrap_or(path);
    let (hits_before, accepted_before, route_before) = (server.hits(), server.connections(), server.route_hits(route));
    let mut registry = Registry::default();
    registry.journey("quirks:requests", requests);
    let config = [format!("url={}", server.url(path)), format!("count={count}"), format!("method={method}")];
    let mut opts = server.options(driver);
    opts.http.request_timeout = timeout;
    let result =
        run(&registry, scenario("quirks:requests", VolumeModel::Oneshot { journeys: JOURNEYS }), &config, opts);
    settle(server, hits_before + result.merged.total().requests());
    let total = assert_target_saw_every_request(&result, server.hits() - hits_before);
    let on_route = server.route_hits(route) - route_before;
    assert_eq!(on_route, total.requests(), "{path}: every request on its route");
    assert_eq!(result.merged.journeys.started, JOURNEYS, "{path}: every journey ran");
    Seen { total, accepted: server.connections() - accepted_before, samples: result.merged.error_samples.clone() }
}

/// Waits (up to 2 s) for the target's count to reach `hits`: a request answered by an answer
/// nobody asked for (`/bad/extra-response-later`) may still wait, unread, behind the server's
/// pause when the run ends. A count that never gets there fails the check after this.
fn settle(server: &Server, hits: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while server.hits() < hits && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The request timeout when no timeout is expected: it only bounds a hang.
const NO_HANG: Duration = Duration::from_secs(10);

/// The drivers each check runs on: the default (the own io_uring runtime where it starts) and
/// epoll.
const DRIVERS: [DriverChoice; 2] = [DriverChoice::Auto, DriverChoice::Epoll];

/// `count` GETs per journey of `path` on `driver`, every one answered whole.
#[track_caller]
fn all_ok_on(server: &Server, driver: DriverChoice, path: &str, count: u64) -> Seen {
    let seen = requests_on(server, driver, "GET", path, count, NO_HANG);
    let url = server.url("");
    assert_eq!(seen.outcome(), (JOURNEYS * count, vec![]), "{url} {path} {driver:?}: {:?}", seen.samples);
    seen
}

/// One GET per journey of `path`, on each driver, every one failing as `kind` with `words` in
/// its sample; what the last run saw.
#[track_caller]
fn all_fail(server: &Server, path: &str, kind: ErrorKind, words: &str) -> Seen {
    let mut last = None;
    for driver in DRIVERS {
        let seen = requests_on(server, driver, "GET", path, 1, NO_HANG);
        let url = server.url("");
        assert_eq!(seen.outcome(), (0, vec![(kind, JOURNEYS)]), "{url} {path} {driver:?}: {:?}", seen.samples);
        let sample = seen.sample(kind.name());
        assert!(sample.contains(words), "{path} {driver:?}: the error says {words:?}: {sample}");
        last = Some(seen);
    }
    last.expect("a driver")
}

/// Every response read whole, and the connection never used again: one per request (each
/// driver).
#[track_caller]
fn ok_on_fresh_connections(server: &Server, path: &str) {
    for driver in DRIVERS {
        let seen = all_ok_on(server, driver, path, 3);
        assert_eq!(seen.accepted, JOURNEYS * 3, "{path} {driver:?}: a connection per request, none reused");
        assert_eq!(
            seen.total.connects_ok(),
            seen.accepted,
            "{path} {driver:?}: the engine's connects are the target's"
        );
    }
}

/// Every response read whole on connections that are used again (each driver).
#[track_caller]
fn ok_on_kept_connections(server: &Server, path: &str) {
    for driver in DRIVERS {
        let seen = all_ok_on(server, driver, path, 3);
        let accepted = seen.accepted;
        assert!(accepted < JOURNEYS * 3, "{path} {driver:?}: connections reused: {accepted} for {}", JOURNEYS * 3);
    }
}

#[test]
fn interim_responses_up_to_the_limit_are_skipped_and_a_flood_is_too_large() {
    for server in [Server::plain(), Server::tls()] {
        ok_on_kept_connections(&server, "/bad/interim/16");
        all_fail(&server, "/bad/interim/17", ErrorKind::TooLarge, "more than 16 interim (1xx) responses");
        all_fail(&server, "/bad/interim/1000", ErrorKind::TooLarge, "more than 16 interim (1xx) responses");
    }
}

/// RFC 9112 §6.3: a `204` or `304` has no body, whatever its fields say; bytes after its head
/// are not the next response, so the connection is not used again.
#[test]
fn a_body_after_a_no_content_or_not_modified_head_ends_its_connection() {
    let server = Server::plain();
    for path in ["/bad/no-content-body", "/bad/not-modified-body"] {
        ok_on_fresh_connections(&server, path);
    }
}

/// Three requests 200 ms apart: HEADs (config `method`), or GETs.
async fn three_apart(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get_or("url", "").to_string();
    let head = ctx.config().get_or("method", "GET") == "HEAD";
    for round in 0..3 {
        if round > 0 {
            mite_core::prelude::sleep(Duration::from_millis(200)).await;
        }
        let request = if head { ctx.http().head(&url) } else { ctx.http().get(&url) };
        request.expect_status(200..=304).send().await?;
    }
    Ok(())
}

/// A body sent late after a head that may have none (a `304` with its `Content-Length`, a
/// `HEAD`'s answer): it arrives while the connection sits in the pool, and was read as the
/// next request's answer (`malformed`). A connection idle for a while is peeked at before it
/// is used again, and one with bytes nobody asked for is replaced. (One journey: with more, one
/// may take another's connection while the late body is still on its way, which nothing can
/// tell from its own answer.)
#[test]
fn a_late_body_after_a_bodiless_head_is_not_the_next_answer() {
    for (method, path) in [("GET", "/bad/not-modified-body-later"), ("HEAD", "/bad/late-body")] {
        for driver in DRIVERS {
            for server in [Server::plain(), Server::tls()] {
                let hits_before = server.hits();
                let mut registry = Registry::default();
                registry.journey("quirks:three-apart", three_apart);
                let config = [format!("url={}", server.url(path)), format!("method={method}")];
                let volume = VolumeModel::Oneshot { journeys: 1 };
                let result = run(&registry, scenario("quirks:three-apart", volume), &config, server.options(driver));
                let total = assert_target_saw_every_request(&result, server.hits() - hits_before);
                let what = format!("{method} {}{path} {driver:?}", server.url(""));
                let samples = &result.merged.error_samples;
                assert_eq!((total.req_ok, total.req_errors()), (3, 0), "{what}: {samples:?}");
                assert_eq!(total.reconnects, 2, "{what}: each spoiled connection replaced");
            }
        }
    }
}

/// RFC 9110 §8.6: a server must not send `Content-Length` in a `204`. One that does may send
/// that many bytes after the head, later than the head: read as the next response's start,
/// they made the next request on the connection `malformed`. Such a `204` ends its connection.
#[test]
fn a_no_content_answer_with_a_length_ends_its_connection_before_its_late_body() {
    ok_on_fresh_connections(&Server::plain(), "/bad/no-content-body-later");
}

/// RFC 9112 §6.3: a response to HEAD has no body, whatever its fields say. The target answers
/// HEAD as it answers GET, body and all (as some servers do): each answer is read, and the
/// connection with bytes after it is not used again.
#[test]
fn a_head_answered_with_a_body_ends_its_connection() {
    for server in [Server::plain(), Server::tls()] {
        let seen = requests_in_a_row(&server, "HEAD", "/", 3, NO_HANG);
        assert_eq!(seen.outcome(), (JOURNEYS * 3, vec![]), "{}: {:?}", server.url(""), seen.samples);
        assert_eq!((seen.accepted, seen.total.body_bytes), (JOURNEYS * 3, 0), "{}", server.url(""));
    }
}

#[test]
fn chunk_sizes_in_upper_case_or_with_leading_zeros_are_read() {
    let server = Server::plain();
    ok_on_kept_connections(&server, "/bad/chunked-upper");
    ok_on_kept_connections(&server, "/bad/chunked-zeros");
}

#[test]
fn a_chunk_size_past_64_bits_or_a_chunk_line_ended_by_lf_alone_is_malformed() {
    let server = Server::plain();
    all_fail(&server, "/bad/chunked-overflow", ErrorKind::Malformed, "chunk size too large");
    all_fail(&server, "/bad/chunked-bare-lf", ErrorKind::Malformed, "chunk-size line ended by a bare LF");
}

/// RFC 9112 §7.1: chunked framing takes CRLF only (errata 7633, asking for §2.2's bare LF there,
/// was rejected), anywhere in it, and a CR without its LF is no line end either. Before: a
/// bare LF ending the body was read as the start of a trailer line, and the second answer's
/// head after it as trailers (the response `ok`).
#[test]
fn a_bare_lf_or_a_lone_cr_anywhere_in_chunked_framing_is_malformed_and_named() {
    let server = Server::plain();
    let data = "chunk data ended by a bare LF (chunked framing takes CRLF only, RFC 9112 section 7.1)";
    all_fail(&server, "/bad/chunked-bare-lf-data", ErrorKind::Malformed, data);
    all_fail(&server, "/bad/chunked-bare-lf-end", ErrorKind::Malformed, "trailer line ended by a bare LF");
    all_fail(&server, "/bad/chunked-cr-alone", ErrorKind::Malformed, "CR without LF after chunk data");
}

/// A chunk line or a trailer section past the client's limit (4 KiB): the response is too
/// large for the client, not malformed, and the error names the limit.
#[test]
fn a_chunk_line_or_trailers_past_the_limit_are_too_large() {
    let server = Server::plain();
    let words = "chunk-size line larger than 4096 bytes";
    all_fail(&server, "/bad/chunked-long-extension", ErrorKind::TooLarge, words);
    all_fail(&server, "/bad/chunked-long-trailer", ErrorKind::TooLarge, "trailer section larger than 4096 bytes");
}

#[test]
fn content_lengths_that_agree_are_one_and_others_are_malformed() {
    let server = Server::plain();
    ok_on_kept_connections(&server, "/bad/length-twice");
    ok_on_kept_connections(&server, "/bad/length-list");
    all_fail(&server, "/bad/length-list-conflict", ErrorKind::Malformed, "conflicting Content-Length");
    all_fail(&server, "/bad/length-plus", ErrorKind::Malformed, "invalid Content-Length");
    all_fail(&server, "/bad/length-inner-space", ErrorKind::Malformed, "invalid Content-Length");
}

/// RFC 9112 §2.2: a recipient may take a bare LF as a line's end; §4: the reason may be empty.
#[test]
fn a_head_with_bare_lf_lines_or_no_reason_is_read() {
    let server = Server::plain();
    ok_on_kept_connections(&server, "/bad/bare-lf");
    ok_on_kept_connections(&server, "/bad/no-reason");
}

/// RFC 9110 §15: a code outside 100..=599 is treated as a `5xx`: a status error, its code
/// counted as it came, the response read whole.
#[test]
fn a_status_code_past_599_is_a_status_error() {
    let server = Server::plain();
    let seen = all_fail(&server, "/bad/status-999", ErrorKind::Status, "999");
    assert_eq!(seen.total.status_codes, [(999, JOURNEYS)]);
}

/// RFC 9112 §2.3: a higher minor version of HTTP/1 is read as HTTP/1.1; another major version
/// is not HTTP/1 at all, and the error says which it was.
#[test]
fn http_1_2_is_read_as_1_1_and_http_2_is_named() {
    let server = Server::plain();
    ok_on_kept_connections(&server, "/bad/http12");
    all_fail(&server, "/bad/http2", ErrorKind::Malformed, "HTTP/2.0");
}

/// A reset right after a whole response: the response stands, and the next request on that
/// connection is written on a new one, counted once.
#[test]
fn a_reset_after_a_whole_response_is_a_reconnect() {
    for server in [Server::plain(), Server::tls()] {
        for driver in DRIVERS {
            let seen = all_ok_on(&server, driver, "/bad/reset-after", 3);
            let url = server.url("");
            assert!(seen.total.reconnects > 0, "{url} {driver:?}: the reset connections were replaced");
            assert_eq!(seen.total.connects_ok(), seen.accepted, "{url} {driver:?}");
        }
    }
}

/// Journeys of [`pool_then_gets`] that have come to their second round: GETs, POSTs (two tests
/// that may run at once).
static SECOND_ROUND: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// One GET (or POST: config `method`); a pause (every journey's connection back in the pool,
/// and reset by then); then, for the first journey to get there only, three more.
async fn pool_then_gets(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get_or("url", "").to_string();
    let post = ctx.config().get_or("method", "GET") == "POST";
    let send = || async {
        if post { ctx.http().post(&url).body(b"x").send().await } else { ctx.http().get(&url).send().await }
    };
    send().await?;
    mite_core::prelude::sleep(Duration::from_millis(200)).await;
    if SECOND_ROUND[usize::from(post)].fetch_add(1, Ordering::SeqCst) == 0 {
        for _ in 0..3 {
            send().await?;
            if post {
                // The reset of the connection just answered on its way: a POST written into it
                // meanwhile cannot be told from one the server read (README: "Three limits").
                mite_core::prelude::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    Ok(())
}

/// A GET that found its pooled connection reset was retried on the next pooled one, reset too
/// (as every connection a restarting server had is), and failed as `reset`, though the server
/// never saw it fail. The retry now checks the pooled connection it takes, as a non-idempotent
/// request does, and replaces each that the server closed.
#[test]
fn a_retry_after_a_reset_pooled_connection_does_not_take_another_reset_one() {
    pooled_connections_all_reset("GET");
}

/// A server that resets each pooled connection as the next request on it arrives (its
/// keep-alive time running out just then): no peek can see it coming. A GET that met it was
/// retried once, on the next pooled connection, which did the same: a `reset` for a request
/// the server never read. It goes on another connection while its tries end so, on pooled
/// ones, up to `limits::POOLED_RETRIES_MAX`.
#[test]
fn a_get_meeting_pooled_connections_reset_as_it_comes_goes_on_another() {
    for driver in DRIVERS {
        for server in [Server::plain(), Server::tls()] {
            SECOND_ROUND[0].store(0, Ordering::SeqCst);
            let mut registry = Registry::default();
            registry.journey("quirks:pool-then-gets", pool_then_gets);
            let config = [format!("url={}", server.url("/bad/drop-next"))];
            let volume = VolumeModel::Oneshot { journeys: JOURNEYS };
            let scenario = scenario("quirks:pool-then-gets", volume);
            let result = run(&registry, scenario, &config, server.options(driver));
            let total = assert_target_saw_every_request(&result, server.hits());
            let (url, samples) = (server.url(""), &result.merged.error_samples);
            assert_eq!((total.req_ok, total.req_errors()), (JOURNEYS + 3, 0), "{url} {driver:?}: {samples:?}");
            assert!(total.reconnects >= JOURNEYS, "{url} {driver:?}: {}", total.reconnects);
        }
    }
}

/// A POST is never retried once written: before it reuses a pooled connection, a peek finds
/// each that the server reset and replaces it; none fails.
#[test]
fn a_post_does_not_go_on_a_pooled_connection_the_server_reset() {
    pooled_connections_all_reset("POST");
}

/// Every journey's connection pooled, then reset by the server; then one journey sends three
/// `method` requests: each answered, on new connections.
fn pooled_connections_all_reset(method: &str) {
    for driver in DRIVERS {
        for server in [Server::plain(), Server::tls()] {
            SECOND_ROUND[usize::from(method == "POST")].store(0, Ordering::SeqCst);
            let mut registry = Registry::default();
            registry.journey("quirks:pool-then-gets", pool_then_gets);
            let config = [format!("url={}", server.url("/bad/reset-after")), format!("method={method}")];
            let volume = VolumeModel::Oneshot { journeys: JOURNEYS };
            let scenario = scenario("quirks:pool-then-gets", volume);
            let result = run(&registry, scenario, &config, server.options(driver));
            let total = assert_target_saw_every_request(&result, server.hits());
            let (url, samples) = (server.url(""), &result.merged.error_samples);
            assert_eq!((total.req_ok, total.req_errors()), (JOURNEYS + 3, 0), "{method} {url} {driver:?}: {samples:?}");
            let reconnects = total.reconnects;
            assert!(reconnects >= 3, "{method} {url} {driver:?}: each reset connection replaced: {reconnects}");
        }
    }
}

/// A GET, a pause (the server's `408` or end on the idle connection comes meanwhile), then a GET
/// or a POST (config `method`).
async fn request_pause_request(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get_or("url", "").to_string();
    ctx.http().get(&url).send().await?;
    // Long past the server's 30 ms, on a loaded machine too.
    mite_core::prelude::sleep(Duration::from_millis(400)).await;
    if ctx.config().get_or("method", "GET") == "POST" {
        ctx.http().post(&url).body(b"x").send().await?;
    } else {
        ctx.http().get(&url).send().await?;
    }
    Ok(())
}

/// [`request_pause_request`] on `path` for each method, driver and server: every request
/// answered `200` and counted once, each idle connection the server let go replaced. POSTs come
/// from one journey: among several, one may take another's connection in the instant the
/// server lets it go, and a POST written then cannot be told from one the server read
/// (README, "Three limits"), unless the server says so with a `408`.
fn idle_connections_let_go(path: &str) {
    for (method, journeys) in [("GET", JOURNEYS), ("POST", 1)] {
        for driver in DRIVERS {
            for server in [Server::plain(), Server::tls()] {
                let hits_before = server.hits();
                let mut registry = Registry::default();
                registry.journey("quirks:request-pause-request", request_pause_request);
                let config = [format!("url={}", server.url(path)), format!("method={method}")];
                let volume = VolumeModel::Oneshot { journeys };
                let scenario = scenario("quirks:request-pause-request", volume);
                let result = run(&registry, scenario, &config, server.options(driver));
                let total = assert_target_saw_every_request(&result, server.hits() - hits_before);
                let (url, samples) = (server.url(""), &result.merged.error_samples);
                let what = format!("{method} {url}{path} {driver:?}");
                assert_eq!((total.req_ok, total.req_errors()), (2 * journeys, 0), "{what}: {samples:?}");
                assert_eq!(total.status_codes, [(200, 2 * journeys)], "{what}");
                assert!(total.reconnects >= journeys, "{what}: {}", total.reconnects);
            }
        }
    }
}

/// A server that times out an idle keep-alive connection with a `408 Request Timeout` and a
/// close, before any next request: the next request on that connection is not answered by that
/// `408` (no request of the client's timed out); it goes on a new connection, a reconnect (a
/// GET after the `408` was read as its answer; a POST is checked by the peek before reuse).
#[test]
fn a_408_on_an_idle_connection_is_a_reconnect_not_an_answer() {
    idle_connections_let_go("/bad/idle-408");
}

/// A server that ends its side of an idle keep-alive connection (TLS: `close_notify`, then FIN)
/// and leaves its reading side open: the next request on that connection, written into a
/// session the server has ended, goes on a new connection, counted once.
#[test]
fn an_idle_connection_the_server_ended_is_a_reconnect() {
    idle_connections_let_go("/bad/idle-end");
}

/// A server that shuts its write side after the head (its read side open): a body it promised
/// never comes (the close is unexpected); a body delimited by the close is empty.
#[test]
fn a_half_close_after_the_head() {
    let plain = Server::plain();
    all_fail(&plain, "/bad/half-close", ErrorKind::UnexpectedClose, "server closed the connection during body");
    ok_on_fresh_connections(&plain, "/bad/half-close-until-close");
    // Over TLS, the half close is a close without `close_notify`: said so, and a body delimited
    // by it may be cut short (an error, as `a_tls_close_without_close_notify` holds).
    let tls = Server::tls();
    all_fail(&tls, "/bad/half-close", ErrorKind::UnexpectedClose, "during body, without a TLS close_notify");
    all_fail(&tls, "/bad/half-close-until-close", ErrorKind::UnexpectedClose, "without a TLS close_notify");
}

/// Two responses to one request in one write: the second is nobody's, and the connection is
/// not used again.
#[test]
fn an_answer_nobody_asked_for_ends_its_connection() {
    for server in [Server::plain(), Server::tls()] {
        ok_on_fresh_connections(&server, "/bad/extra-response");
    }
}

/// The same, the second answer coming while the next request is on its way: no client can tell
/// it from that request's answer (HTTP/1.1 pairs answers with requests by order alone; the last
/// request may even be taken as answered before the server has read it), but every request is
/// still counted once, and the run ends.
#[test]
fn a_late_answer_nobody_asked_for_leaves_the_counts_right() {
    for server in [Server::plain(), Server::tls()] {
        for driver in DRIVERS {
            let seen = requests_on(&server, driver, "GET", "/bad/extra-response-later", 3, NO_HANG);
            assert_eq!(seen.total.req_errors(), 0, "{} {driver:?}: {:?}", server.url(""), seen.samples);
        }
    }
}

/// TLS ended without `close_notify` after a whole response: the response stands, the next
/// request goes on a new connection; a body delimited by that close may have been cut short,
/// and the error says so.
#[test]
fn a_tls_close_without_close_notify() {
    let server = Server::tls();
    for driver in DRIVERS {
        let seen = all_ok_on(&server, driver, "/bad/tls-cut", 3);
        assert_eq!(seen.total.connects_ok(), seen.accepted, "{driver:?}");
    }
    all_fail(&server, "/bad/tls-cut-until-close", ErrorKind::UnexpectedClose, "close_notify");
}

/// A fatal alert written past the TLS session in the middle of a body (a middlebox's): a TLS
/// error, the request counted once.
#[test]
fn a_tls_alert_mid_body_is_a_tls_error() {
    all_fail(&Server::tls(), "/bad/tls-alert", ErrorKind::Tls, "a TLS record that does not decrypt");
}

/// A server that takes the connection and never answers the TLS handshake: a timeout after the
/// connect timeout (which bounds the connect and the handshake together) that names the
/// handshake, no request sent.
#[test]
fn a_stalled_tls_handshake_times_out_with_nothing_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        // Holds each connection open, unanswered, until the test's own last connect.
        for stream in listener.incoming().flatten().take(JOURNEYS as usize + 1) {
            held.push(stream);
        }
    });
    let mut opts = mite_tests::options(1, Duration::from_secs(20));
    opts.http.connect_timeout = Duration::from_millis(300);
    opts.tls.ca_file = Some(mite_tools::tls_server::CA_PATH.into());
    let result = mite_tests::get(&format!("https://{addr}/"), VolumeModel::Oneshot { journeys: JOURNEYS }, opts);
    let _ = std::net::TcpStream::connect(addr);
    holder.join().unwrap();
    let total = result.merged.total();
    assert_eq!(total.errors_of(ErrorKind::Timeout), JOURNEYS, "{:?}", result.merged.error_samples);
    assert_eq!((total.requests(), total.not_sent), (0, JOURNEYS), "no request was written");
    let sample = &result.merged.error_samples["timeout"];
    assert!(
        sample.contains("TLS handshake with") && sample.contains("--connect-timeout"),
        "the error names the handshake and the setting that bounds it: {sample}"
    );
    assert!(result.duration_s < 5.0, "each handshake given up after 300 ms: {} s", result.duration_s);
}

/// A certificate the client cannot trust, and one for another name: `tls` errors, not sent,
/// each in words that say what is wrong and what to do. The words were written, but a run
/// never showed them (rustls's error is wrapped once more on its way): it said `invalid peer
/// certificate: UnknownIssuer`.
#[test]
fn certificates_refused_say_why_in_words() {
    let target = mite_tools::TlsTarget::start().unwrap();
    let mut opts = mite_tests::options(1, Duration::from_secs(20));
    let volume = VolumeModel::Oneshot { journeys: 2 };
    let result = mite_tests::get(&target.url("/"), volume.clone(), opts.clone());
    let sample = &result.merged.error_samples["tls"];
    assert!(sample.contains("not signed by a trusted CA") && sample.contains("--ca FILE"), "{sample}");
    // The certificate names localhost, 127.0.0.1 and ::1 (Linux's loopback answers on all of
    // 127.0.0.0/8).
    let other = mite_tools::TlsTarget::start_on("127.0.0.2:0".parse().unwrap()).unwrap();
    opts.tls.ca_file = Some(mite_tools::tls_server::CA_PATH.into());
    let result = mite_tests::get(&other.url("/"), volume, opts);
    let total = result.merged.total();
    assert_eq!((total.errors_of(ErrorKind::Tls), total.not_sent, other.hits()), (2, 2, 0));
    let sample = &result.merged.error_samples["tls"];
    assert!(
        sample.contains("127.0.0.2") && sample.contains("localhost"),
        "names the name asked for and those the certificate has: {sample}"
    );
}

/// A response a byte per write (each its own TLS record over TLS), through interim heads, chunk
/// extensions and trailers: read whole, on kept connections, on either driver.
#[test]
fn a_response_a_byte_at_a_time_through_every_state_is_read() {
    for driver in [DriverChoice::Auto, DriverChoice::Epoll] {
        for server in [Server::plain(), Server::tls()] {
            let seen = requests_on(&server, driver, "GET", "/bad/trickle-mix", 2, Duration::from_secs(20));
            assert_eq!(seen.outcome(), (JOURNEYS * 2, vec![]), "{} {driver:?}: {:?}", server.url(""), seen.samples);
            assert_eq!(seen.total.body_bytes, JOURNEYS * 2 * 13, "{} {driver:?}", server.url(""));
        }
    }
}

/// A TLS 1.3 `KeyUpdate` in the middle of a body (a long-lived connection's keys renewed): the
/// body read whole across it, and the connection kept.
#[test]
fn a_tls_key_update_mid_body_is_read_through() {
    let server = Server::tls();
    ok_on_kept_connections(&server, "/bad/tls-key-update");
}

/// The wrong scheme for a port: https to a plain-HTTP server, http to a TLS one. Each error
/// says what the server spoke and which scheme to use.
#[test]
fn the_wrong_scheme_for_a_port_says_which_to_use() {
    let plain = mite_tools::Target::start(mite_tools::TargetOptions::default()).unwrap();
    let mut opts = mite_tests::options(1, Duration::from_secs(20));
    opts.tls.ca_file = Some(mite_tools::tls_server::CA_PATH.into());
    let url = format!("https://{}/", plain.addr());
    let result = mite_tests::get(&url, VolumeModel::Oneshot { journeys: 2 }, opts.clone());
    let total = result.merged.total();
    assert_eq!((total.errors_of(ErrorKind::Tls), total.not_sent), (2, 2), "{:?}", result.merged.error_samples);
    let sample = &result.merged.error_samples["tls"];
    assert!(sample.contains("did not answer in TLS") && sample.contains("http://"), "{sample}");

    let tls = mite_tools::TlsTarget::start().unwrap();
    let url = format!("http://{}/", tls.addr());
    let result = mite_tests::get(&url, VolumeModel::Oneshot { journeys: 2 }, opts);
    let total = result.merged.total();
    assert_eq!(total.errors_of(ErrorKind::Malformed), 2, "{:?}", result.merged.error_samples);
    let sample = &result.merged.error_samples["malformed"];
    assert!(sample.contains("answered in TLS") && sample.contains("https://"), "{sample}");
    assert_eq!(tls.hits(), 0);
}
