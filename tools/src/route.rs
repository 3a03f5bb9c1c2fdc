//! The target's routes as a pure function: request in, what to do on the wire out.

use std::time::Duration;

/// What the server does in answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes and keep the connection for the next request.
    Write(Vec<u8>),
    /// Wait, then write, then keep the connection.
    DelayThenWrite(Duration, Vec<u8>),
    /// Write these bytes, then close the connection.
    WriteThenClose(Vec<u8>),
    /// Write these bytes one at a time, with a pause between them, then keep the connection.
    Trickle(Vec<u8>, Duration),
    /// Write these bytes, then reset the connection (RST, not FIN).
    WriteThenReset(Vec<u8>),
    /// Never answer; hold the connection until the client goes away.
    Silent,
    /// Write each piece after its pause, then keep the connection.
    Pieces(Vec<(Duration, Vec<u8>)>),
    /// Write each piece after its pause, then close the connection.
    PiecesThenClose(Vec<(Duration, Vec<u8>)>),
    /// Write these bytes, shut the write side (FIN), and read until the client goes away.
    WriteThenHalfClose(Vec<u8>),
    /// Write these bytes, wait, then end the sending side as a server that is done does (TLS:
    /// `close_notify`, then FIN; plain: FIN), and read until the client goes away.
    WriteThenEnd(Vec<u8>, Duration),
    /// Write these bytes, keep the connection, and when the next request's first bytes arrive,
    /// close it unread and unanswered (a reset: what a server whose keep-alive time ran out as
    /// the request came does); that request is never counted.
    WriteThenDropNext(Vec<u8>),
    /// Write these bytes, then close without a TLS `close_notify` (plain HTTP: a plain close).
    WriteThenCut(Vec<u8>),
    /// Write the first bytes, update the TLS traffic keys (a TLS 1.3 `KeyUpdate`), write the
    /// second, and keep the connection (plain HTTP: both written).
    WriteRekeyWrite(Vec<u8>, Vec<u8>),
    /// Write the first bytes, then the second past the TLS session, straight on the socket (plain
    /// HTTP: after the first), then close without a `close_notify`.
    WriteThenInject(Vec<u8>, Vec<u8>),
}

/// The parts of a request the routes look at.
#[derive(Default)]
pub struct Request<'a> {
    /// Method.
    pub method: &'a str,
    /// Path and query.
    pub path: &'a str,
    /// Body bytes.
    pub body: &'a [u8],
    /// Whether the client asked to close.
    pub close: bool,
    /// `Host`.
    pub host: Option<&'a str>,
    /// `Cookie`.
    pub cookie: Option<&'a str>,
    /// `Authorization`.
    pub authorization: Option<&'a str>,
    /// `Content-Type`.
    pub content_type: Option<&'a str>,
}

const HELLO: &[u8] = b"Hello, World!";

fn response(status: u16, reason: &str, extra_headers: &str, body: &[u8], close: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: mite-target\r\nContent-Length: {}\r\n{}{extra_headers}\r\n",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Routes one request.
///
/// Well-behaved: `/` (13-byte hello), `/delay/<ms>`, `/split/<ms>` (the head at once, the body
/// `<ms>` later), `/status/<code>`, `/bytes/<n>`, `/echo`,
/// `/json` (a small JSON document with a token), and the user-flow routes of
/// `crate::session_routes` (login, redirects, basic auth, JSON echo). Hostile, under `/bad/`: `reset`, `trickle`,
/// `short`, `conflicting-length`, `invalid-length`, `huge-headers`, `many-headers`, `silent`,
/// `garbage`, `http10`, `continue`, `no-content`, `chunked`, `close`, `hangup`, `drop-after`,
/// `early-413` (answered 413 as soon as the head is in, the body unread, then closed: see
/// `crate::request::EARLY_ANSWER_PATH`), `early-hold/<ms>` (the same, the connection then held
/// open `<ms>` before the close: `crate::request::EARLY_HOLD_PREFIX`), `continue-upload` (`100
/// Continue` as soon as the head is in, then `200` with the body's length once it is all in:
/// `crate::request::CONTINUE_UPLOAD_PATH`), `folded` (a field folded over two lines, obs-fold),
/// `folded-length` (a `Content-Length` folded inside its value), `both-framings` (`Content-Length:
/// 5` and a chunked 13-byte body, the connection kept as if nothing were wrong), and the routes
/// of `crate::quirks` (odd but real server behaviour: see there).
pub fn route(request: &Request<'_>) -> Action {
    let close = request.close;
    let ok = |body: &[u8]| {
        let bytes = response(200, "OK", "", body, close);
        if close { Action::WriteThenClose(bytes) } else { Action::Write(bytes) }
    };
    let path = request.path.split('?').next().unwrap_or("/");
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let first = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("");
    match (first, rest) {
        ("", _) => ok(HELLO),
        ("delay", ms) => match ms.parse::<u64>() {
            Ok(ms) if ms <= 60_000 => {
                Action::DelayThenWrite(Duration::from_millis(ms), response(200, "OK", "", b"ok", close))
            }
            _ => Action::Write(response(400, "Bad Request", "", b"delay must be 0..=60000 ms", close)),
        },
        // The head at once, its 2-byte body after <ms>: a first byte long before the last.
        ("split", ms) => match ms.parse::<u64>() {
            Ok(ms) if ms <= 60_000 => {
                let whole = response(200, "OK", "", b"ok", close);
                let (head, body) = whole.split_at(whole.len() - 2);
                Action::Pieces(vec![(Duration::ZERO, head.to_vec()), (Duration::from_millis(ms), body.to_vec())])
            }
            _ => Action::Write(response(400, "Bad Request", "", b"split must be 0..=60000 ms", close)),
        },
        ("status", code) => match code.parse::<u16>() {
            Ok(code) if (200..=599).contains(&code) => {
                let body: &[u8] = if code == 204 || code == 304 { b"" } else { b"status" };
                let mut bytes = response(code, reason(code), "", body, close);
                if code == 204 || code == 304 {
                    bytes = format!("HTTP/1.1 {code} {}\r\nServer: mite-target\r\n\r\n", reason(code)).into_bytes();
                }
                Action::Write(bytes)
            }
            _ => Action::Write(response(400, "Bad Request", "", b"status must be 200..=599", close)),
        },
        ("bytes", n) => match n.parse::<usize>() {
            Ok(n) if n <= 64 * 1024 * 1024 => ok(&vec![b'x'; n]),
            _ => Action::Write(response(400, "Bad Request", "", b"bytes must be <= 64 MiB", close)),
        },
        ("echo", _) => ok(request.body),
        ("json", "echo") => crate::session_routes::route(request, first, rest).expect("a session route"),
        ("json", _) => {
            let body = br#"{"token":"abc123","user":{"id":42,"name":"mite"},"items":[1,2,3]}"#;
            let bytes = response(200, "OK", "Content-Type: application/json\r\nX-Token: abc123\r\n", body, close);
            Action::Write(bytes)
        }
        ("bad", "continue-upload") => ok(format!("{} bytes", request.body.len()).as_bytes()),
        ("bad", mode) => hostile(mode),
        _ => crate::session_routes::route(request, first, rest)
            .unwrap_or_else(|| Action::Write(response(404, "Not Found", "", b"not found", close))),
    }
}

fn hostile(mode: &str) -> Action {
    match mode {
        "reset" => Action::WriteThenReset(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial".to_vec()),
        "trickle" => Action::Trickle(response(200, "OK", "", HELLO, false), Duration::from_millis(1)),
        "short" => Action::WriteThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort".to_vec()),
        "conflicting-length" => Action::WriteThenClose(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".to_vec(),
        ),
        "invalid-length" => Action::WriteThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello".to_vec()),
        "huge-headers" => {
            let mut bytes = b"HTTP/1.1 200 OK\r\nX-Huge: ".to_vec();
            bytes.extend(std::iter::repeat_n(b'a', 200 * 1024));
            bytes.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
            Action::WriteThenClose(bytes)
        }
        "many-headers" => {
            let mut text = String::from("HTTP/1.1 200 OK\r\n");
            for i in 0..500 {
                text.push_str(&format!("X-H{i}: v\r\n"));
            }
            text.push_str("Content-Length: 0\r\n\r\n");
            Action::WriteThenClose(text.into_bytes())
        }
        "silent" => Action::Silent,
        "garbage" => Action::WriteThenClose(b"SSH-2.0-OpenSSH_9.2p1\r\n\x00\x01\x02\x03".to_vec()),
        "http10" => Action::WriteThenClose(b"HTTP/1.0 200 OK\r\nServer: mite-target\r\n\r\nbody until close".to_vec()),
        "continue" => Action::Write(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        ),
        "no-content" => Action::Write(b"HTTP/1.1 204 No Content\r\nServer: mite-target\r\n\r\n".to_vec()),
        "chunked" => Action::Write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nHello\r\n8\r\n, World!\r\n0\r\nX-Trailer: t\r\n\r\n"
                .to_vec(),
        ),
        "close" => Action::WriteThenClose(response(200, "OK", "", HELLO, true)),
        "hangup" => Action::WriteThenClose(Vec::new()),
        // A keep-alive response, then a silent close: the next request on this connection
        // finds it closed (what idle timeouts and request caps look like to a client).
        "drop-after" => Action::WriteThenClose(response(200, "OK", "", HELLO, false)),
        // The whole body came with the head (a small one): the same answer.
        // A field folded over lines (obs-fold, RFC 9112 §5.2), and a folded Content-Length.
        "folded" => Action::Write(
            b"HTTP/1.1 200 OK\r\nX-Folded: hello\r\n  there\r\nContent-Length: 13\r\n\r\nHello, World!".to_vec(),
        ),
        "folded-length" => {
            Action::WriteThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 3\r\n\r\nHello, World!".to_vec())
        }
        // Framed both ways: read by its length, the body would be `d\r\nHe` and the rest of it the
        // next response's start. Chunked wins, and the connection must not be used again.
        "both-framings" => Action::Write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nd\r\nHello, World!\r\n0\r\n\r\n"
                .to_vec(),
        ),
        "early-413" => Action::WriteThenClose(early_answer()),
        hold if hold.starts_with("early-hold/") => Action::WriteThenClose(early_answer()),
        other => crate::quirks::route(other)
            .unwrap_or_else(|| Action::Write(response(404, "Not Found", "", b"unknown hostile mode", false))),
    }
}

/// The answer to a request for `/bad/early-413`, whether or not its body has arrived.
pub fn early_answer() -> Vec<u8> {
    response(413, "Content Too Large", "", b"too large", true)
}

/// The early answer to a request for `path`: [`early_answer`], or bytes that are not HTTP for
/// `/bad/early-hold/<ms>?garbage`.
pub fn early_answer_to(path: &str) -> Vec<u8> {
    if path.ends_with("?garbage") { b"SSH-2.0-OpenSSH_9.2p1\r\n\r\n".to_vec() } else { early_answer() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Action {
        route(&Request { method: "GET", path, ..Request::default() })
    }

    #[test]
    fn hello_is_13_bytes() {
        let Action::Write(bytes) = get("/") else { panic!("expected a write") };
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("Content-Length: 13\r\n"));
        assert!(text.ends_with("\r\n\r\nHello, World!"));
    }

    #[test]
    fn routes() {
        assert!(matches!(get("/delay/20"), Action::DelayThenWrite(d, _) if d == Duration::from_millis(20)));
        let Action::Pieces(pieces) = get("/split/30") else { panic!("expected pieces") };
        assert_eq!(pieces[1], (Duration::from_millis(30), b"ok".to_vec()));
        assert!(pieces[0].1.ends_with(b"Content-Length: 2\r\n\r\n") && pieces[0].0.is_zero());
        assert!(matches!(get("/bad/silent"), Action::Silent));
        assert!(matches!(get("/bad/reset"), Action::WriteThenReset(_)));
        let Action::Write(bytes) = get("/status/503") else { panic!() };
        assert!(bytes.starts_with(b"HTTP/1.1 503 "));
        let Action::Write(bytes) = get("/nope") else { panic!() };
        assert!(bytes.starts_with(b"HTTP/1.1 404 "));
    }
}
