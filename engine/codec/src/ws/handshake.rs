//! The opening handshake (RFC 6455 section 4): the client's upgrade request and the checks on
//! the server's answer (101, `Upgrade`, `Connection`, `Sec-WebSocket-Accept`, subprotocol,
//! no unrequested extension).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::{BufMut, BytesMut};

use super::error::WsError;
use super::limits::WsLimits;

/// The GUID the server appends to the key before hashing (RFC 6455 section 1.3).
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Header slots of a handshake answer's parse: `WsLimits::headers_count_max` of them are used
/// (a 101 may set as many cookies as any answer).
const HEADER_SLOTS: usize = crate::limits::HEADERS_COUNT_CEILING;

/// What the upgrade request says.
pub struct HandshakeRequest<'a> {
    /// Origin-form target (`/path?query`).
    pub target: &'a str,
    /// `Host` header value.
    pub host: &'a str,
    /// `Sec-WebSocket-Key` (see [`key_from_nonce`]).
    pub key: &'a str,
    /// Subprotocols offered, in order of preference (none: no `Sec-WebSocket-Protocol`).
    pub protocols: &'a [&'a str],
    /// Extra header fields (cookies, authorisation, origin), already checked for CR/LF.
    pub headers: &'a [(&'a str, &'a str)],
}

/// A completed handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Bytes of the buffer the answer used, interim (1xx) answers before it included; frames
    /// may follow at once.
    pub head_len: usize,
    /// Where the 101 answer's own head starts (after the interim answers; 0 without any).
    pub head_start: usize,
    /// The subprotocol the server chose, if any.
    pub protocol: Option<String>,
}

/// The `Sec-WebSocket-Key` for 16 random bytes: their base64.
pub fn key_from_nonce(nonce: [u8; 16]) -> String {
    STANDARD.encode(nonce)
}

/// The `Sec-WebSocket-Accept` a server must answer `key` with.
pub fn accept_for(key: &str) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(ACCEPT_GUID.as_bytes());
    STANDARD.encode(sha.digest().bytes())
}

/// Appends the upgrade request to `out`.
pub fn encode_handshake(out: &mut BytesMut, request: &HandshakeRequest<'_>) {
    let mut put = |parts: &[&str]| {
        for part in parts {
            out.put_slice(part.as_bytes());
        }
    };
    put(&["GET ", request.target, " HTTP/1.1\r\nHost: ", request.host, "\r\n"]);
    put(&["Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"]);
    put(&["Sec-WebSocket-Key: ", request.key, "\r\n"]);
    for (i, protocol) in request.protocols.iter().enumerate() {
        put(&[if i == 0 { "Sec-WebSocket-Protocol: " } else { ", " }, protocol]);
    }
    if !request.protocols.is_empty() {
        put(&["\r\n"]);
    }
    for (name, value) in request.headers {
        put(&[name, ": ", value, "\r\n"]);
    }
    put(&["\r\n"]);
}

/// Checks the server's answer at the start of `buf`; `Ok(None)` when more bytes are needed.
/// Interim answers (`100 Continue`, `103 Early Hints`: any 1xx but 101) before the 101 are
/// passed over (RFC 9110 section 15.2), their bytes counted against the head limit.
pub fn check_handshake(
    buf: &[u8],
    key: &str,
    protocols: &[&str],
    limits: &WsLimits,
) -> Result<Option<Handshake>, WsError> {
    let slots = limits.headers_count_max;
    let head_bytes_max = limits.handshake_bytes_max;
    let rule = crate::limits::Limits { headers_count_max: slots, head_bytes_max, ..crate::limits::Limits::DEFAULT };
    rule.check().map_err(WsError::Limits)?;
    let mut head_start = 0;
    loop {
        let mut headers = [httparse::EMPTY_HEADER; HEADER_SLOTS];
        let mut response = httparse::Response::new(&mut headers[..slots]);
        let head_len = match response.parse(&buf[head_start..]) {
            Ok(httparse::Status::Complete(len)) => head_start + len,
            Ok(httparse::Status::Partial) if buf.len() > limits.handshake_bytes_max => {
                return Err(WsError::HandshakeTooLarge { limit_bytes: limits.handshake_bytes_max });
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(WsError::HandshakeTooManyHeaders { limit: slots }),
            Err(_) => return Err(WsError::HandshakeMalformed { what: "not an HTTP/1.1 response" }),
        };
        if head_len > limits.handshake_bytes_max {
            return Err(WsError::HandshakeTooLarge { limit_bytes: limits.handshake_bytes_max });
        }
        match response.code.unwrap_or(0) {
            101 => {
                let protocol = check_upgrade(response.headers, key, protocols)?;
                return Ok(Some(Handshake { head_len, head_start, protocol }));
            }
            100..=199 => head_start = head_len,
            status => return Err(refused(status, &response)),
        }
    }
}

/// Most bytes of a refusal's reason phrase or `Location` an error quotes.
const QUOTED_BYTES_MAX: usize = 256;

/// The error for an upgrade answered with a final status.
fn refused(status: u16, response: &httparse::Response<'_, '_>) -> WsError {
    let location = (300..400).contains(&status).then(|| {
        let value = response.headers.iter().find(|h| h.name.eq_ignore_ascii_case("location")).map(|h| h.value);
        quoted(value.unwrap_or_default())
    });
    let reason = quoted(response.reason.unwrap_or_default().as_bytes());
    WsError::HandshakeStatus { status, reason, location: location.filter(|l| !l.is_empty()) }
}

/// Text of a field as an error quotes it: lossy UTF-8, cut to `QUOTED_BYTES_MAX` bytes.
fn quoted(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes.trim_ascii());
    let mut cut = text.len().min(QUOTED_BYTES_MAX);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_string()
}

/// Checks a 101 answer's fields; returns the subprotocol it chose, if any.
fn check_upgrade(headers: &[httparse::Header<'_>], key: &str, protocols: &[&str]) -> Result<Option<String>, WsError> {
    let all = |name: &'static str| headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value);
    let find = |name: &'static str| all(name).next();
    let upgrade = find("upgrade").ok_or(WsError::HandshakeHeader { what: "no Upgrade header" })?;
    if !upgrade.trim_ascii().eq_ignore_ascii_case(b"websocket") {
        return Err(WsError::HandshakeHeader { what: "Upgrade is not websocket" });
    }
    let connection = find("connection").ok_or(WsError::HandshakeHeader { what: "no Connection header" })?;
    if !connection.split(|&b| b == b',').any(|token| token.trim_ascii().eq_ignore_ascii_case(b"upgrade")) {
        return Err(WsError::HandshakeHeader { what: "Connection does not include Upgrade" });
    }
    let accept = find("sec-websocket-accept").ok_or(WsError::HandshakeHeader { what: "no Sec-WebSocket-Accept" })?;
    if accept.trim_ascii() != accept_for(key).as_bytes() {
        return Err(WsError::HandshakeHeader { what: "Sec-WebSocket-Accept does not match the key" });
    }
    // Every field counts: an empty one first does not hide a second that names an extension.
    if let Some(chosen) = all("sec-websocket-extensions").find(|v| !v.trim_ascii().is_empty()) {
        return Err(WsError::UnofferedExtension { extensions: quoted(chosen) });
    }
    // RFC 6455 section 4.1 fails the connection for a field that names a subprotocol the client
    // did not offer; an empty one names none (section 11.3.4: the server's value is one token,
    // and an empty value is not one), so it reads as the field absent: no subprotocol, which
    // the client takes whatever it offered. Some servers send it empty to say "none".
    let mut chosen = all("sec-websocket-protocol").filter(|v| !v.trim_ascii().is_empty());
    let Some(first) = chosen.next() else { return Ok(None) };
    if let Some(second) = chosen.next() {
        return Err(WsError::UnofferedProtocol { chosen: format!("{}, {}", quoted(first), quoted(second)) });
    }
    match protocols.iter().find(|offered| offered.as_bytes() == first.trim_ascii()) {
        Some(offered) => Ok(Some(offered.to_string())),
        None => Err(WsError::UnofferedProtocol { chosen: quoted(first) }),
    }
}

/// Calls `each` with the value of every `name` header of a handshake answer head (which
/// `head::for_each_header` would skip: 101 is an interim status to the HTTP codec).
pub fn for_each_answer_header<'b>(head: &'b [u8], name: &str, mut each: impl FnMut(&'b [u8])) {
    let mut headers = [httparse::EMPTY_HEADER; HEADER_SLOTS];
    let mut response = httparse::Response::new(&mut headers);
    if let Ok(httparse::Status::Complete(_)) = response.parse(head) {
        response.headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).for_each(|h| each(h.value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    #[test]
    fn rfc_accept_example() {
        // RFC 6455 section 1.3.
        assert_eq!(accept_for(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(key_from_nonce(*b"the sample nonce"), KEY);
    }

    fn answer(extra: &str) -> String {
        format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{extra}\r\n")
    }

    #[test]
    fn request_has_the_upgrade_fields() {
        let mut out = BytesMut::new();
        let request = HandshakeRequest {
            target: "/chat",
            host: "h:1",
            key: KEY,
            protocols: &["a", "b"],
            headers: &[("Cookie", "x=1")],
        };
        encode_handshake(&mut out, &request);
        let text = std::str::from_utf8(&out).unwrap();
        assert!(text.starts_with("GET /chat HTTP/1.1\r\nHost: h:1\r\n"));
        for line in ["Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: a, b", "Cookie: x=1"] {
            assert!(text.contains(&format!("{line}\r\n")), "{line}");
        }
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn good_answer_with_protocol_and_trailing_frame() {
        let mut bytes =
            answer("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: b\r\n").into_bytes();
        let head_len = bytes.len();
        bytes.extend_from_slice(&[0x81, 0x00]);
        let done = check_handshake(&bytes, KEY, &["a", "b"], &WsLimits::DEFAULT).unwrap().unwrap();
        assert_eq!(done, Handshake { head_len, head_start: 0, protocol: Some("b".into()) });
        assert_eq!(check_handshake(&bytes[..20], KEY, &[], &WsLimits::DEFAULT).unwrap(), None);
        let with_cookies = answer("Set-Cookie: a=1\r\nset-cookie: b=2\r\n");
        let mut seen = Vec::new();
        for_each_answer_header(with_cookies.as_bytes(), "Set-Cookie", |v| seen.push(v.to_vec()));
        assert_eq!(seen, vec![b"a=1".to_vec(), b"b=2".to_vec()]);
    }

    #[test]
    fn bad_answers_name_what_is_wrong() {
        let accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        let cases = [
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_string(), "answered 200"),
            (answer("Sec-WebSocket-Accept: AAAA\r\n"), "does not match"),
            (answer(""), "no Sec-WebSocket-Accept"),
            (answer(&format!("{accept}Sec-WebSocket-Protocol: c\r\n")), "subprotocol"),
            (answer(&format!("{accept}Sec-WebSocket-Extensions: permessage-deflate\r\n")), "extension"),
            (format!("HTTP/1.1 101 S\r\nConnection: Upgrade\r\n{accept}\r\n"), "no Upgrade"),
            (format!("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: close\r\n{accept}\r\n"), "Connection"),
            ("SSH-2.0-OpenSSH\r\n\r\n".to_string(), "malformed"),
        ];
        for (text, what) in cases {
            let err = check_handshake(text.as_bytes(), KEY, &["a"], &WsLimits::DEFAULT).unwrap_err();
            assert!(err.to_string().contains(what), "{err} / {what}");
            assert!(err.is_handshake());
        }
        let endless = format!("HTTP/1.1 101 S\r\nX: {}", "a".repeat(70_000));
        let err = check_handshake(endless.as_bytes(), KEY, &[], &WsLimits::DEFAULT).unwrap_err();
        assert_eq!(err, WsError::HandshakeTooLarge { limit_bytes: 64 * 1024 });
    }

    /// Outside try: a `103 Early Hints` (or `100 Continue`) before the 101, as a CDN in front
    /// of the server sends, failed the upgrade as "answered 103".
    #[test]
    fn interim_answers_before_the_101_are_passed_over() {
        let accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        let interim = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n";
        let bytes = format!("{interim}{}", answer(accept));
        let done = check_handshake(bytes.as_bytes(), KEY, &[], &WsLimits::DEFAULT).unwrap().unwrap();
        assert_eq!(done, Handshake { head_len: bytes.len(), head_start: interim.len(), protocol: None });
        for cut in 0..bytes.len() {
            assert_eq!(check_handshake(&bytes.as_bytes()[..cut], KEY, &[], &WsLimits::DEFAULT), Ok(None), "{cut}");
        }
        // Interim answers count against the head limit: an endless stream of them ends.
        let endless = "HTTP/1.1 100 Continue\r\n\r\n".repeat(3000);
        let err = check_handshake(endless.as_bytes(), KEY, &[], &WsLimits::DEFAULT).unwrap_err();
        assert_eq!(err, WsError::HandshakeTooLarge { limit_bytes: 64 * 1024 });
    }

    /// A 101 that sets as many cookies as any answer may (more than 64 fields) is read; past
    /// the client's header-field limit (256 unless raised, up to 1,024) it is refused, said
    /// with the number and how to raise it. Before: 256 fields whatever the limit.
    #[test]
    fn a_101_with_many_fields_is_read_up_to_the_limit() {
        let accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        let cookies = |n: usize| (0..n).map(|i| format!("Set-Cookie: c{i}=1\r\n")).collect::<String>();
        let big = WsLimits { handshake_bytes_max: 64 * 1024, ..WsLimits::DEFAULT };
        let ok = answer(&format!("{accept}{}", cookies(200)));
        assert!(check_handshake(ok.as_bytes(), KEY, &[], &big).unwrap().is_some());
        let over = answer(&format!("{accept}{}", cookies(300)));
        let err = check_handshake(over.as_bytes(), KEY, &[], &big).unwrap_err();
        assert_eq!(
            err.to_string(),
            "WebSocket handshake response has more than 256 header fields (the client's limit: raise it with \
             --max-headers or [client] max_headers, up to 1024)"
        );
        let raised = WsLimits { headers_count_max: 1024, ..big };
        assert!(check_handshake(over.as_bytes(), KEY, &[], &raised).unwrap().is_some());
        let most = answer(&format!("{accept}{}", cookies(1024 - 3)));
        assert!(check_handshake(most.as_bytes(), KEY, &[], &raised).unwrap().is_some(), "1,024 fields in all");
        let past = answer(&format!("{accept}{}", cookies(1024 - 2)));
        assert_eq!(
            check_handshake(past.as_bytes(), KEY, &[], &raised),
            Err(WsError::HandshakeTooManyHeaders { limit: 1024 })
        );
        let few = WsLimits { headers_count_max: 3, ..big };
        assert_eq!(check_handshake(ok.as_bytes(), KEY, &[], &few), Err(WsError::HandshakeTooManyHeaders { limit: 3 }));
        // A limit past the parser's slots, or 0, is refused whatever the answer (before: 5,000
        // was 1,024 in silence), by the rule every parse applies.
        for asked in [0, 1025, 5000] {
            let beyond = WsLimits { headers_count_max: asked, ..big };
            let err = check_handshake(ok.as_bytes(), KEY, &[], &beyond).unwrap_err();
            assert_eq!(err, WsError::Limits(crate::limits::LimitsError::HeadersCount { asked }));
            assert!(err.to_string().starts_with(&format!(
                "WebSocket handshake answer not read: the header-field limit ({asked}, Limits::headers_count_max) \
                 must be from 1 to 1024"
            )));
        }
    }

    /// A 101 is read under the same head limit as any response head (64 KiB unless changed),
    /// and refused past it with where to raise it. Before: 16 KiB whatever the client's limit.
    #[test]
    fn a_101_takes_the_response_head_limit() {
        let accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        let padding = (0..40).map(|i| format!("X-Padding-{i}: {}\r\n", "a".repeat(900))).collect::<String>();
        let big = answer(&format!("{accept}{padding}"));
        assert!((32 * 1024..64 * 1024).contains(&big.len()), "{}", big.len());
        assert_eq!(WsLimits::DEFAULT.handshake_bytes_max, crate::Limits::DEFAULT.head_bytes_max);
        assert!(check_handshake(big.as_bytes(), KEY, &[], &WsLimits::DEFAULT).unwrap().is_some());
        let small = WsLimits { handshake_bytes_max: 16 * 1024, ..WsLimits::DEFAULT };
        let err = check_handshake(big.as_bytes(), KEY, &[], &small).unwrap_err();
        assert_eq!(
            err.to_string(),
            "WebSocket handshake response head larger than 16384 bytes (the client's limit on any response head: \
             raise it with --max-head-bytes or [client] max_head_bytes, up to 16MiB)"
        );
    }

    /// A final status is said with its reason phrase, and a redirect with where it led.
    #[test]
    fn a_final_status_is_said_in_words() {
        let said = |head: &str| check_handshake(head.as_bytes(), KEY, &[], &WsLimits::DEFAULT).unwrap_err().to_string();
        assert_eq!(
            said("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n"),
            "WebSocket handshake answered 401 Unauthorized, expected 101 Switching Protocols"
        );
        assert_eq!(
            said("HTTP/1.1 301 Moved Permanently\r\nLocation: wss://elsewhere/ws\r\n\r\n"),
            "WebSocket handshake answered 301 Moved Permanently, expected 101 Switching Protocols \
             (a redirect to \"wss://elsewhere/ws\": a WebSocket upgrade is not redirected)"
        );
        assert_eq!(said("HTTP/1.1 200 \r\n\r\n"), "WebSocket handshake answered 200, expected 101 Switching Protocols");
        let long = said(&format!("HTTP/1.1 302 Found\r\nLocation: /{}\r\n\r\n", "é".repeat(1000)));
        assert!(long.len() < 400, "{long}");
    }

    /// Every extensions and subprotocol field counts, not only the first.
    #[test]
    fn unoffered_extensions_and_subprotocols_are_named() {
        let accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        let check = |extra: &str, offered: &[&str]| {
            check_handshake(answer(&format!("{accept}{extra}")).as_bytes(), KEY, offered, &WsLimits::DEFAULT)
        };
        let deflate = "Sec-WebSocket-Extensions:\r\nSec-WebSocket-Extensions: permessage-deflate\r\n";
        assert_eq!(check(deflate, &[]), Err(WsError::UnofferedExtension { extensions: "permessage-deflate".into() }));
        let chat = "Sec-WebSocket-Protocol: chat\r\n";
        assert_eq!(check(chat, &[]), Err(WsError::UnofferedProtocol { chosen: "chat".into() }));
        assert_eq!(check(chat, &["chat"]).unwrap().unwrap().protocol.as_deref(), Some("chat"));
        let two = "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat\r\n";
        assert_eq!(
            check(two, &["chat", "superchat"]),
            Err(WsError::UnofferedProtocol { chosen: "chat, superchat".into() })
        );
        // An empty field names no subprotocol: read as none, offered or not, and beside a
        // field that names one, that one. Before: refused as the unoffered subprotocol "".
        for empty in ["Sec-WebSocket-Protocol:\r\n", "Sec-WebSocket-Protocol:  \r\n"] {
            for offered in [&[][..], &["chat"]] {
                assert_eq!(check(empty, offered).unwrap().unwrap().protocol, None, "{empty:?} {offered:?}");
            }
            let beside = format!("{empty}{chat}");
            assert_eq!(check(&beside, &["chat"]).unwrap().unwrap().protocol.as_deref(), Some("chat"));
            assert_eq!(check(&beside, &[]), Err(WsError::UnofferedProtocol { chosen: "chat".into() }));
        }
        let said = check(chat, &[]).unwrap_err().to_string();
        assert!(said.contains("the server chose subprotocol \"chat\", which the client did not offer"), "{said}");
    }
}
