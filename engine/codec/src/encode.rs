//! Request encoding into a caller-owned, reusable buffer (no allocation once it has grown).

use bytes::{BufMut, BytesMut};

/// What goes on the request line and in the headers. Borrowed: nothing is copied until encoding.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    /// Method token, e.g. `GET`.
    pub method: &'a str,
    /// Origin-form target: path and query, starting with `/`.
    pub target: &'a str,
    /// `Host` header value (authority as written in the URL).
    pub host: &'a str,
    /// Extra header fields, written in order after `Host`.
    pub headers: &'a [(&'a str, &'a str)],
}

/// The `Host` line's end and the `User-Agent` line, sent unless the caller sets one.
const AGENT_LINE: &[u8] = concat!("\r\nUser-Agent: mite-engine/", env!("CARGO_PKG_VERSION"), "\r\n").as_bytes();

/// [`AGENT_LINE`] and the blank line that ends a head: the whole end of a request with no
/// fields of the caller's and no body (a plain GET), in one copy.
const AGENT_LINE_END: &[u8] = concat!("\r\nUser-Agent: mite-engine/", env!("CARGO_PKG_VERSION"), "\r\n\r\n").as_bytes();

/// The request line's method and the space after it, for the common methods (one copy).
fn method_and_space(method: &str) -> Option<&'static [u8]> {
    Some(match method {
        "GET" => b"GET ",
        "POST" => b"POST ",
        "PUT" => b"PUT ",
        "HEAD" => b"HEAD ",
        "DELETE" => b"DELETE ",
        "PATCH" => b"PATCH ",
        "OPTIONS" => b"OPTIONS ",
        _ => return None,
    })
}

/// What the caller set itself among the fields the encoder would otherwise write.
#[derive(Default)]
struct CallerSet<'a> {
    /// `Content-Length` or `Transfer-Encoding` (the client refuses these before encoding:
    /// the body's framing is the encoder's; kept here so that one is never sent twice).
    framing: bool,
    agent: bool,
    /// The caller's `Host` value, sent in place of the URL's authority.
    host: Option<&'a str>,
}

fn caller_set<'a>(head: &RequestHead<'a>) -> CallerSet<'a> {
    let mut set = CallerSet::default();
    for (name, value) in head.headers {
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding") {
            set.framing = true;
        } else if name.eq_ignore_ascii_case("user-agent") {
            set.agent = true;
        } else if name.eq_ignore_ascii_case("host") {
            set.host = Some(value);
        }
    }
    set
}

/// Whether `headers` ask the server to close the connection after its response (a
/// `Connection` field listing `close`): the connection is then not pooled, whatever the
/// response says. (Inline: called for every response, most often with no header at all.)
#[inline]
pub fn asks_close(headers: &[(&str, &str)]) -> bool {
    !headers.is_empty() && asks_close_in(headers)
}

/// [`asks_close`] for headers that are there.
#[inline(never)]
fn asks_close_in(headers: &[(&str, &str)]) -> bool {
    headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("connection")
            && value.split(',').any(|token| token.trim().eq_ignore_ascii_case("close"))
    })
}

/// Appends the request head and body to `out`.
///
/// `Host` always comes first, once: the caller's `Host` when it set one (the last, when it set
/// several), else the URL's authority. `Content-Length` is added when there is a body, or for
/// methods that normally carry one (`POST`, `PUT`, `PATCH`), unless the caller already set it
/// or set `Transfer-Encoding`. A `User-Agent` is added unless the caller set one.
///
/// Every request is encoded: the fixed text is a few constants, so a plain GET is five copies.
pub fn encode_request(out: &mut BytesMut, head: &RequestHead<'_>, body: &[u8]) {
    let set = caller_set(head);
    let host = set.host.unwrap_or(head.host);
    out.reserve(64 + head.method.len() + head.target.len() + host.len() + body.len());
    match method_and_space(head.method) {
        Some(method_and_space) => out.put_slice(method_and_space),
        None => {
            out.put_slice(head.method.as_bytes());
            out.put_u8(b' ');
        }
    }
    out.put_slice(head.target.as_bytes());
    out.put_slice(b" HTTP/1.1\r\nHost: ");
    out.put_slice(host.as_bytes());
    let method_has_body = matches!(head.method, "POST" | "PUT" | "PATCH");
    // No fields of the caller's (so no framing of its own) and no body: the head ends here.
    if head.headers.is_empty() && body.is_empty() && !method_has_body {
        out.put_slice(AGENT_LINE_END);
        return;
    }
    out.put_slice(if set.agent { b"\r\n" } else { AGENT_LINE });
    for (name, value) in head.headers {
        if set.host.is_some() && name.eq_ignore_ascii_case("host") {
            continue;
        }
        out.put_slice(name.as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    if !set.framing && (!body.is_empty() || method_has_body) {
        let mut digits = [0u8; 20];
        out.put_slice(b"Content-Length: ");
        out.put_slice(decimal(&mut digits, body.len() as u64));
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"\r\n");
    if !body.is_empty() {
        out.put_slice(body);
    }
}

/// The two-digit pairs `00` to `99`, pair `n` at `2 * n`.
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut n = 0;
    while n < 100 {
        pairs[2 * n] = b'0' + (n / 10) as u8;
        pairs[2 * n + 1] = b'0' + (n % 10) as u8;
        n += 1;
    }
    pairs
};

/// `n` in decimal, written at the end of `digits`, without going through `fmt` (which would
/// be slower on the hot path): a request's `Content-Length`, a range datapool's row. Two
/// digits a step (one division by 100 and a copy of its pair, not two divisions by 10): a
/// four-digit row number is two steps.
#[inline]
pub fn decimal(digits: &mut [u8; 20], mut n: u64) -> &[u8] {
    let mut at = digits.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        digits[at] = b'0' + n as u8;
    }
    &digits[at..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(head: &RequestHead<'_>, body: &[u8]) -> String {
        let mut out = BytesMut::new();
        encode_request(&mut out, head, body);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn get_has_host_and_agent_and_no_length() {
        let text = encode(&RequestHead { method: "GET", target: "/a?b=1", host: "127.0.0.1:8080", headers: &[] }, b"");
        assert!(text.starts_with("GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
        assert!(text.contains("User-Agent: mite-engine/"));
        assert!(!text.contains("Content-Length"));
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn post_gets_content_length_even_when_empty() {
        let text = encode(&RequestHead { method: "POST", target: "/", host: "h", headers: &[] }, b"");
        assert!(text.contains("Content-Length: 0\r\n"));
        let text = encode(&RequestHead { method: "POST", target: "/", host: "h", headers: &[] }, b"hello world");
        assert!(text.ends_with("Content-Length: 11\r\n\r\nhello world"));
    }

    #[test]
    fn caller_headers_win() {
        let text = encode(
            &RequestHead {
                method: "PUT",
                target: "/",
                host: "h",
                headers: &[("user-agent", "x"), ("content-length", "3")],
            },
            b"abc",
        );
        assert!(!text.contains("mite-engine"));
        assert_eq!(text.matches("ength").count(), 1);
    }

    /// Outside testers: a caller's `Host` was sent after the engine's, so a server saw two.
    #[test]
    fn a_callers_host_replaces_the_urls_and_is_sent_once() {
        let headers = [("Accept", "*/*"), ("host", "api.example.test"), ("X-A", "1")];
        let text = encode(&RequestHead { method: "GET", target: "/", host: "127.0.0.1:80", headers: &headers }, b"");
        assert!(text.starts_with("GET / HTTP/1.1\r\nHost: api.example.test\r\n"), "{text}");
        assert_eq!(text.to_ascii_lowercase().matches("host:").count(), 1, "{text}");
        assert!(!text.contains("127.0.0.1"), "{text}");
        assert!(text.contains("Accept: */*\r\nX-A: 1\r\n"), "{text}");
    }

    #[test]
    fn connection_close_is_read_as_a_list() {
        assert!(asks_close(&[("Connection", "close")]));
        assert!(asks_close(&[("X", "close"), ("connection", "TE, Close ")]));
        assert!(!asks_close(&[("Connection", "keep-alive"), ("X-Connection", "close")]));
        assert!(!asks_close(&[("Connection", "closed")]));
        assert!(!asks_close(&[]));
    }

    #[test]
    fn decimal_edges() {
        let powers = (0..20).map(|e| 10u64.pow(e)).flat_map(|p| [p - 1, p, p + 1]);
        for n in [0u64, 9, 10, 99, 100, 101, 12345, u64::MAX - 1, u64::MAX].into_iter().chain(powers) {
            let mut digits = [0u8; 20];
            assert_eq!(std::str::from_utf8(decimal(&mut digits, n)).unwrap(), n.to_string());
        }
    }

    /// The encoder as it was before it counted the length first: the reference it is held to.
    fn reference_encode(out: &mut BytesMut, head: &RequestHead<'_>, body: &[u8]) {
        let set = super::caller_set(head);
        out.put_slice(head.method.as_bytes());
        out.put_u8(b' ');
        out.put_slice(head.target.as_bytes());
        out.put_slice(b" HTTP/1.1\r\nHost: ");
        out.put_slice(set.host.unwrap_or(head.host).as_bytes());
        out.put_slice(b"\r\n");
        if !set.agent {
            out.put_slice(b"User-Agent: mite-engine/");
            out.put_slice(env!("CARGO_PKG_VERSION").as_bytes());
            out.put_slice(b"\r\n");
        }
        for (name, value) in head.headers.iter().filter(|(name, _)| !name.eq_ignore_ascii_case("host")) {
            out.put_slice(name.as_bytes());
            out.put_slice(b": ");
            out.put_slice(value.as_bytes());
            out.put_slice(b"\r\n");
        }
        if !set.framing && (!body.is_empty() || matches!(head.method, "POST" | "PUT" | "PATCH")) {
            out.put_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        out.put_slice(b"\r\n");
        out.put_slice(body);
    }

    /// A plain request's head ends in one copy; the other methods' heads still carry a
    /// `Content-Length: 0` (POST, PUT, PATCH).
    #[test]
    fn a_request_with_no_fields_and_no_body_encodes_as_the_reference() {
        for method in ["GET", "HEAD", "DELETE", "OPTIONS", "POST", "PUT", "PATCH", "PURGE"] {
            let head = RequestHead { method, target: "/x", host: "h:1", headers: &[] };
            let (mut out, mut reference) = (BytesMut::from(&b"before"[..]), BytesMut::from(&b"before"[..]));
            encode_request(&mut out, &head, b"");
            reference_encode(&mut reference, &head, b"");
            assert_eq!(out, reference, "{method}");
        }
    }

    /// Every number below a million, each digit count and pair: as `fmt` writes it.
    #[test]
    fn decimal_writes_every_small_number_as_fmt_does() {
        let mut digits = [0u8; 20];
        for n in 0..1_000_000u64 {
            assert_eq!(decimal(&mut digits, n), n.to_string().as_bytes(), "{n}");
        }
    }

    proptest::proptest! {
        /// Any number: as `fmt` writes it.
        #[test]
        fn decimal_writes_any_number_as_fmt_does(n in proptest::num::u64::ANY) {
            let (mut digits, text) = ([0u8; 20], n.to_string());
            proptest::prop_assert_eq!(decimal(&mut digits, n), text.as_bytes());
        }

        /// Any head, any body, after what the buffer already holds: the same bytes as before.
        #[test]
        fn encodes_as_the_reference(
            method in proptest::sample::select(vec!["GET", "POST", "PUT", "PATCH", "HEAD", "DELETE", "OPTIONS", "PURGE", "GETX"]),
            target in "/[a-z0-9?=&%]{0,40}",
            host in "[a-z0-9.:]{1,30}",
            headers in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "Accept", "content-length", "Content-Length", "user-agent", "User-Agent",
                        "Transfer-Encoding", "X-Token", "Cookie", "Host", "host",
                    ]),
                    "[ -~]{0,30}",
                ),
                0..5,
            ),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            before in proptest::collection::vec(proptest::num::u8::ANY, 0..100),
        ) {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let head = RequestHead { method, target: &target, host: &host, headers: &headers };
            let mut out = BytesMut::from(&before[..]);
            let mut reference = out.clone();
            encode_request(&mut out, &head, &body);
            reference_encode(&mut reference, &head, &body);
            proptest::prop_assert_eq!(&out[..], &reference[..]);
        }
    }
}
