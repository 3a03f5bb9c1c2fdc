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

/// Appends the request head and body to `out`.
///
/// `Host` always comes first. `Content-Length` is added when there is a body, or for methods
/// that normally carry one (`POST`, `PUT`, `PATCH`), unless the caller already set it or set
/// `Transfer-Encoding`. A `User-Agent` is added unless the caller set one.
pub fn encode_request(out: &mut BytesMut, head: &RequestHead<'_>, body: &[u8]) {
    let mut has_length = false;
    let mut has_agent = false;
    for (name, _) in head.headers {
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding") {
            has_length = true;
        } else if name.eq_ignore_ascii_case("user-agent") {
            has_agent = true;
        }
    }
    out.reserve(64 + head.target.len() + head.host.len() + body.len());
    out.put_slice(head.method.as_bytes());
    out.put_u8(b' ');
    out.put_slice(head.target.as_bytes());
    out.put_slice(b" HTTP/1.1\r\nHost: ");
    out.put_slice(head.host.as_bytes());
    out.put_slice(b"\r\n");
    if !has_agent {
        out.put_slice(b"User-Agent: mite-engine/");
        out.put_slice(env!("CARGO_PKG_VERSION").as_bytes());
        out.put_slice(b"\r\n");
    }
    for (name, value) in head.headers {
        out.put_slice(name.as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    let method_has_body = matches!(head.method, "POST" | "PUT" | "PATCH");
    if !has_length && (!body.is_empty() || method_has_body) {
        out.put_slice(b"Content-Length: ");
        put_decimal(out, body.len() as u64);
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"\r\n");
    out.put_slice(body);
}

/// Writes `n` in decimal without going through `fmt` (which would be slower on the hot path).
fn put_decimal(out: &mut BytesMut, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[at..]);
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

    #[test]
    fn decimal_edges() {
        for n in [0u64, 9, 10, 12345, u64::MAX] {
            let mut out = BytesMut::new();
            put_decimal(&mut out, n);
            assert_eq!(std::str::from_utf8(&out).unwrap(), n.to_string());
        }
    }
}
