//! Request framing for the target servers: find one complete request at the start of a buffer.

/// Largest request head the targets accept.
pub const HEAD_BYTES_MAX: usize = 64 * 1024;
/// Largest request body the targets accept.
pub const BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

/// One complete request found in a buffer.
pub struct Framed<'a> {
    /// Method.
    pub method: &'a str,
    /// Path and query.
    pub path: &'a str,
    /// Whether the client asked to close (or spoke HTTP/1.0 without keep-alive).
    pub close: bool,
    /// `Host`, `Cookie`, `Authorization` and `Content-Type`, when sent (and UTF-8).
    pub host: Option<&'a str>,
    /// See `host`.
    pub cookie: Option<&'a str>,
    /// See `host`.
    pub authorization: Option<&'a str>,
    /// See `host`.
    pub content_type: Option<&'a str>,
    /// Byte range of the body within the buffer.
    pub body: std::ops::Range<usize>,
    /// Bytes the whole request used.
    pub len: usize,
    /// A WebSocket upgrade request (`Upgrade: websocket` with a key): its key and subprotocols.
    pub upgrade: Option<crate::ws::Upgrade>,
}

impl Framed<'_> {
    /// Routes this request; `buf` is the buffer it was found in.
    pub fn route(&self, buf: &[u8]) -> crate::route::Action {
        crate::route::route(&crate::route::Request {
            method: self.method,
            path: self.path,
            body: &buf[self.body.clone()],
            close: self.close,
            host: self.host,
            cookie: self.cookie,
            authorization: self.authorization,
            content_type: self.content_type,
        })
    }
}

/// What the buffer holds.
pub enum Parsed<'a> {
    /// A whole request.
    Complete(Framed<'a>),
    /// Not yet; read more.
    Partial,
    /// The head of a request to [`CONTINUE_UPLOAD_PATH`], its body not all in: send `100
    /// Continue` (once per request), then read more.
    ContinueThenPartial,
    /// Not a request the target can serve; answer 400 and close.
    Invalid(&'static str),
    /// The head of a request to [`EARLY_ANSWER_PATH`] or [`EARLY_HOLD_PREFIX`], its body not all
    /// in: answer at once ([`crate::route::early_answer`]), hold the connection open for `hold`
    /// reading nothing, then close with the body unread.
    AnswerEarly {
        /// The request's path (what the target counts it under).
        path: &'a str,
        /// How long the connection stays open after the answer (zero: closed at once).
        hold: std::time::Duration,
    },
}

/// A route answered before its request body is read (413, then a close that resets the
/// connection, the body unread): what a server does with a body it will not take.
pub const EARLY_ANSWER_PATH: &str = "/bad/early-413";

/// A route that answers `100 Continue` as soon as a request's head is in (unasked: no
/// `Expect`), reads the whole body, then answers `200` with the body's length: an interim answer
/// during an upload is no reason to stop sending it.
pub const CONTINUE_UPLOAD_PATH: &str = "/bad/continue-upload";

/// `/bad/early-hold/<ms>`: answered as [`EARLY_ANSWER_PATH`] is, but the connection is then held
/// open for `<ms>` milliseconds (at most [`EARLY_HOLD_MS_MAX`]), nothing read and nothing sent,
/// before it is closed: a client that only reads once its write of the body ends never sees
/// the answer in time. With `?garbage`, the answer is not HTTP ([`crate::route::early_answer_to`]).
pub const EARLY_HOLD_PREFIX: &str = "/bad/early-hold/";

/// Longest hold `/bad/early-hold/<ms>` accepts, in milliseconds.
pub const EARLY_HOLD_MS_MAX: u64 = 60_000;

/// How long a request to `path` holds its connection after an early answer; `None` when the
/// path is not answered early.
pub fn early_hold(path: &str) -> Option<std::time::Duration> {
    if path == EARLY_ANSWER_PATH {
        return Some(std::time::Duration::ZERO);
    }
    let rest = path.strip_prefix(EARLY_HOLD_PREFIX)?;
    let ms = rest.split_once('?').map_or(rest, |(ms, _)| ms).parse::<u64>().ok()?;
    Some(std::time::Duration::from_millis(ms.min(EARLY_HOLD_MS_MAX)))
}

/// Looks for one complete request at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > HEAD_BYTES_MAX => {
            return Parsed::Invalid("request head too large");
        }
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Invalid("malformed request"),
    };
    let mut body_len = 0usize;
    let mut close = request.version == Some(0);
    let (mut host, mut cookie, mut authorization, mut content_type) = (None, None, None, None);
    let mut websocket = false;
    let mut key = None;
    let mut protocols = Vec::new();
    for header in request.headers.iter() {
        let text = || std::str::from_utf8(header.value).ok();
        if header.name.eq_ignore_ascii_case("host") {
            host = text();
        } else if header.name.eq_ignore_ascii_case("cookie") {
            cookie = text();
        } else if header.name.eq_ignore_ascii_case("authorization") {
            authorization = text();
        } else if header.name.eq_ignore_ascii_case("content-type") {
            content_type = text();
        } else if header.name.eq_ignore_ascii_case("upgrade") {
            websocket = header.value.eq_ignore_ascii_case(b"websocket");
        } else if header.name.eq_ignore_ascii_case("sec-websocket-key") {
            key = text().map(str::to_string);
        } else if header.name.eq_ignore_ascii_case("sec-websocket-protocol") {
            let value = String::from_utf8_lossy(header.value);
            protocols.extend(value.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()));
        } else if header.name.eq_ignore_ascii_case("content-length") {
            match std::str::from_utf8(header.value).ok().and_then(|v| v.trim().parse().ok()) {
                Some(n) if n <= BODY_BYTES_MAX => body_len = n,
                _ => return Parsed::Invalid("bad content-length"),
            }
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Invalid("chunked requests are not supported by the target");
        } else if header.name.eq_ignore_ascii_case("connection") {
            let value = String::from_utf8_lossy(header.value).to_ascii_lowercase();
            if value.contains("close") {
                close = true;
            } else if value.contains("keep-alive") {
                close = false;
            }
        }
    }
    if buf.len() < head_len + body_len {
        let path = request.path.unwrap_or("/");
        if let Some(hold) = early_hold(path) {
            return Parsed::AnswerEarly { path, hold };
        }
        if path == CONTINUE_UPLOAD_PATH {
            return Parsed::ContinueThenPartial;
        }
        return Parsed::Partial;
    }
    Parsed::Complete(Framed {
        method: request.method.unwrap_or("GET"),
        path: request.path.unwrap_or("/"),
        close,
        host,
        cookie,
        authorization,
        content_type,
        body: head_len..head_len + body_len,
        len: head_len + body_len,
        upgrade: key.filter(|_| websocket).map(|key| crate::ws::Upgrade {
            key,
            protocols,
            cookie: cookie.map(str::to_string),
        }),
    })
}

/// The answer to an invalid request.
pub fn bad_request(why: &str) -> Vec<u8> {
    format!("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{why}", why.len()).into_bytes()
}
