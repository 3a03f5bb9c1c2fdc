//! Property tests holding the response-head parser to the plain implementation it replaced
//! (issue 15: fewer instructions, exactly the same answers and errors for every input).

use proptest::prelude::*;

use super::*;

/// The head parser as it was before issue 15, kept as the oracle: initialised header slots (32,
/// then all of them when those overflow) and every name compared with `eq_ignore_ascii_case`.
fn reference_step(buf: &[u8], limits: &Limits, request_was_head: bool) -> Result<Option<HeadStep>, CodecError> {
    let slots = limits.headers_count_max.min(HEADER_SLOTS);
    // A value with a control character, to the strict parser (folds not allowed): read through
    // the one function both use (a `Set-Cookie`'s read, another's named).
    let mut probe = vec![httparse::EMPTY_HEADER; slots];
    if httparse::Response::new(&mut probe).parse(buf) == Err(httparse::Error::HeaderValue) {
        return parse_control_step(buf, limits, request_was_head);
    }
    // The same with folds allowed (added since: a folded head's control character was named,
    // a `Set-Cookie`'s too).
    let mut folding = httparse::ParserConfig::default();
    folding.allow_obsolete_multiline_headers_in_responses(true);
    let mut probe = vec![httparse::EMPTY_HEADER; slots];
    if folding.parse_response(&mut httparse::Response::new(&mut probe), buf) == Err(httparse::Error::HeaderValue) {
        return parse_control_step(buf, limits, request_was_head);
    }
    let parsed = match reference_one::<32>(buf, slots.min(32)) {
        Err(CodecError::TooManyHeaders { .. }) if slots > 32 => reference_one::<HEADER_SLOTS>(buf, slots)?,
        Err(CodecError::Malformed { what: VERSION_ERROR }) => return reference_version(buf, limits, request_was_head),

        other => other?,
    };
    let Some((status, minor_version, used, fields, folded)) = parsed else {
        if buf.len() > limits.head_bytes_max {
            return Err(CodecError::HeadTooLarge { limit_bytes: limits.head_bytes_max });
        }
        return Ok(None);
    };
    if used > limits.head_bytes_max {
        return Err(CodecError::HeadTooLarge { limit_bytes: limits.head_bytes_max });
    }
    if status == 101 {
        return Err(CodecError::Malformed { what: "unexpected 101 Switching Protocols" });
    }
    if (100..200).contains(&status) {
        return Ok(Some(HeadStep::Interim { len: used }));
    }
    let framing = if request_was_head || status == 204 || status == 304 {
        BodyFraming::Empty
    } else if let Some(chunked) = fields.transfer_chunked {
        if chunked { BodyFraming::Chunked } else { BodyFraming::UntilClose }
    } else if let Some(length) = fields.content_length {
        BodyFraming::Length(length)
    } else {
        BodyFraming::UntilClose
    };
    // Framed both ways, or chunked in HTTP/1.0: never reused (RFC 9112 §6.1, §6.3; added since).
    let framed_twice = fields.transfer_chunked.is_some() && (fields.content_length.is_some() || minor_version == 0);
    // A 204 with a length above 0 or a transfer coding: never reused (RFC 9110 §8.6; added since).
    let framed_no_content =
        status == 204 && (fields.content_length.unwrap_or(0) != 0 || fields.transfer_chunked.is_some());
    let keep_alive = framing != BodyFraming::UntilClose
        && !framed_twice
        && !framed_no_content
        && if minor_version == 0 { fields.conn_keep_alive } else { !fields.conn_close };
    let head = ResponseHead {
        status,
        minor_version,
        head_len: used,
        interim_count: 0,
        framing,
        keep_alive,
        set_cookie: fields.set_cookie,
        folded,
    };
    Ok(Some(HeadStep::Final(head)))
}

/// A status line httparse refused at its version (added since, RFC 9110 §2.5): `HTTP/1.x` above
/// 1.1 read as 1.1, another `HTTP/x.y` named, a TLS record named, anything else malformed.
fn reference_version(buf: &[u8], limits: &Limits, request_was_head: bool) -> Result<Option<HeadStep>, CodecError> {
    match buf {
        [20..=23] => return Ok(None),
        [20..=23, 3, ..] => return Err(CodecError::TlsAnswer),
        _ => {}
    }
    let pattern = b"HTTP/#.# ";
    for (&byte, &want) in buf.iter().zip(pattern) {
        if !(byte == want || want == b'#' && byte.is_ascii_digit()) {
            return Err(CodecError::Malformed { what: VERSION_ERROR });
        }
    }
    if buf.len() < pattern.len() {
        return Ok(None);
    }
    if buf[5] != b'1' {
        return Err(CodecError::OtherVersion { major: buf[5] - b'0', minor: buf[7] - b'0' });
    }
    let mut copy = buf.to_vec();
    copy[7] = b'1';
    reference_step(&copy, limits, request_was_head)
}

/// Status, minor version, bytes used, fields, and whether a field was folded.
type ReferenceHead = (u16, u8, usize, FieldSummary, bool);

fn reference_one<const N: usize>(rest: &[u8], slots: usize) -> Result<Option<ReferenceHead>, CodecError> {
    let mut headers = [httparse::EMPTY_HEADER; N];
    let mut response = httparse::Response::new(&mut headers[..slots]);
    // Strict first; a line that starts with whitespace (an invalid name to the strict parser)
    // and the head is parsed again with folds allowed.
    let mut parsed = response.parse(rest);
    if parsed == Err(httparse::Error::HeaderName) {
        response = httparse::Response::new(&mut headers[..slots]);
        let mut parser = httparse::ParserConfig::default();
        parser.allow_obsolete_multiline_headers_in_responses(true);
        parsed = parser.parse_response(&mut response, rest);
    }
    match parsed {
        Ok(httparse::Status::Complete(used)) => {
            for header in response.headers.iter() {
                let name = header.name.to_ascii_lowercase();
                let framing = ["content-length", "transfer-encoding"].contains(&name.as_str());
                if framing && header.value.iter().any(|b| b"\r\n".contains(b)) {
                    let field = if name == "content-length" { "Content-Length" } else { "Transfer-Encoding" };
                    return Err(CodecError::FoldedFraming { field });
                }
            }
            let fields = reference_fields(response.headers)?;
            // A fold: a line break followed by a space or a tab, anywhere in the head.
            let folded = rest[..used].windows(2).any(|w| w[0] == b'\n' && (w[1] == b' ' || w[1] == b'\t'));
            Ok(Some((response.code.unwrap_or(0), response.version.unwrap_or(1), used, fields, folded)))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(CodecError::TooManyHeaders { limit: slots }),
        // Named by the field (the one function both use: it runs only on this error).
        Err(httparse::Error::HeaderValue) => Err(field_value_error(rest, false)),
        Err(err) => Err(CodecError::Malformed { what: parse_error_name(err) }),
    }
}

fn reference_fields(headers: &[httparse::Header<'_>]) -> Result<FieldSummary, CodecError> {
    let mut summary = FieldSummary::default();
    for header in headers {
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            for part in header.value.split(|&b| b == b',') {
                let length = parse_length(trim(part))?;
                match summary.content_length {
                    Some(seen) if seen != length => return Err(CodecError::ConflictingContentLength),
                    _ => summary.content_length = Some(length),
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = header.value.rsplit(|&b| b == b',').next().map(trim).unwrap_or(b"");
            summary.transfer_chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("set-cookie") {
            summary.set_cookie = true;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in header.value.split(|&b| b == b',').map(trim) {
                if token.eq_ignore_ascii_case(b"close") {
                    summary.conn_close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    summary.conn_keep_alive = true;
                }
            }
        }
    }
    Ok(summary)
}

/// Names near the four that matter: each in several cases, one letter off, one byte longer or
/// shorter, a hyphen replaced (`_`, CR's partner in bit 0x20 is the hyphen), and others.
const NAMES: &[&str] = &[
    "content-length",
    "Content-Length",
    "CONTENT-LENGTH",
    "content-lengtH",
    "content_length",
    "content-lengthx",
    "content-lengt",
    "contentmlength",
    "transfer-encoding",
    "Transfer-Encoding",
    "TRANSFER-ENCODINg",
    "transfer-encodinf",
    "transfer_encoding",
    "connection",
    "Connection",
    "CONNECTION",
    "connectioN",
    "connectiom",
    "set-cookie",
    "Set-Cookie",
    "SET-COOKIE",
    "set_cookie",
    "set-cookiE",
    "Server",
    "Date",
    "Content-Type",
    "X-Set-Cookie",
    "keep-alive",
    "{onnection",
    "@onnection",
    "`ontent-length",
];

const VALUES: &[&str] = &[
    "13",
    "0",
    "5, 5",
    "5,6",
    " 7 ",
    "7 ",
    "-1",
    "+5",
    "",
    "0x10",
    "18446744073709551615",
    "9999999999999999999",
    "99999999999999999999",
    "chunked",
    "CHUNKED",
    "Chunked ",
    "gzip, chunked",
    "chunked, gzip",
    "gzip",
    "keep-alive",
    "Keep-Alive",
    "KEEP-ALIVE",
    "keep_alive",
    "keep-alivE,close",
    "close",
    "Close",
    "keep-alive, close",
    "upgrade",
    "a=1; Path=/",
];

fn header_line() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        4 => proptest::sample::select(NAMES).prop_map(|n| n.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..20),
    ];
    let value = prop_oneof![
        4 => proptest::sample::select(VALUES).prop_map(|v| v.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..24),
    ];
    // Now and then a value folded over lines (obs-fold) somewhere in it, or after it.
    let fold = prop_oneof![
        6 => Just(None),
        1 => (proptest::sample::select(&["\r\n ", "\r\n\t", "\n ", "\r\n   "][..]), any::<prop::sample::Index>())
            .prop_map(Some),
    ];
    (name, value, prop_oneof![Just(": "), Just(":"), Just(" : ")], fold).prop_map(|(name, value, colon, fold)| {
        let mut line = name;
        line.extend_from_slice(colon.as_bytes());
        let mut value = value;
        if let Some((fold, at)) = fold {
            let at = at.index(value.len() + 1);
            value.splice(at..at, fold.bytes());
        }
        line.extend_from_slice(&value);
        line.extend_from_slice(b"\r\n");
        line
    })
}

fn head() -> impl Strategy<Value = Vec<u8>> {
    let status = proptest::sample::select(
        &[
            "HTTP/1.1 200 OK\r\n",
            "HTTP/1.0 200 OK\r\n",
            "HTTP/1.1 204 No Content\r\n",
            "HTTP/1.1 304 Not Modified\r\n",
            "HTTP/1.1 100 Continue\r\n",
            "HTTP/1.1 101 Switching Protocols\r\n",
            "HTTP/1.1 404\r\n",
            "HTTP/2 200 OK\r\n",
            "HTTP/2.0 200 OK\r\n",
            "HTTP/1.2 200 OK\r\n",
            "HTTP/1.9 204 No Content\r\n",
            "HTTP/1.3 100 Continue\r\n",
            "\x15\x03\x03\x00\x02\x02\x46",
            "\x16\x01",
            "\x17",
        ][..],
    );
    (status, proptest::collection::vec(header_line(), 0..40), any::<bool>()).prop_map(|(status, lines, end)| {
        let mut head = status.as_bytes().to_vec();
        lines.iter().for_each(|line| head.extend_from_slice(line));
        if end {
            head.extend_from_slice(b"\r\nHello");
        }
        head
    })
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        Just(Limits::DEFAULT),
        (1usize..48, 16usize..1200).prop_map(|(headers_count_max, head_bytes_max)| Limits {
            headers_count_max,
            head_bytes_max,
            ..Limits::DEFAULT
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Every head, whole and cut short anywhere, gets the reference's answer or error; asked
    /// again (from the memo when the first answer was a final head), the same answer.
    #[test]
    fn heads_parse_as_the_reference_parses_them(
        head in head(),
        cut in any::<prop::sample::Index>(),
        limits in limits(),
        request_was_head in any::<bool>(),
    ) {
        for buf in [&head[..], &head[..cut.index(head.len() + 1)]] {
            let reference = reference_step(buf, &limits, request_was_head);
            for _ in 0..2 {
                prop_assert_eq!(
                    &parse_head_step(buf, &limits, request_was_head),
                    &reference,
                    "{:?}", String::from_utf8_lossy(buf)
                );
            }
        }
    }

    /// The four fields read from any list of fields, whatever their values, as the reference
    /// reads them (the same error at the same field too).
    #[test]
    fn fields_are_summed_up_as_the_reference_does(
        fields in proptest::collection::vec((
            proptest::sample::select(NAMES),
            prop_oneof![
                4 => proptest::sample::select(VALUES).prop_map(|v| v.as_bytes().to_vec()),
                1 => proptest::collection::vec(any::<u8>(), 0..24),
            ],
        ), 0..8),
    ) {
        let headers: Vec<httparse::Header<'_>> =
            fields.iter().map(|(name, value)| httparse::Header { name, value }).collect();
        prop_assert_eq!(FieldSummary::of(&headers), reference_fields(&headers));
    }

    /// A folded name matches exactly the bytes `eq_ignore_ascii_case` matches.
    #[test]
    fn folded_names_match_as_eq_ignore_ascii_case(
        pick in 0usize..5,
        bytes in proptest::collection::vec(any::<u8>(), 0..20),
        flips in any::<u32>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let (folded, lower): (&FoldedName, &[u8]) = [
            (&CONTENT_LENGTH, &b"content-length"[..]),
            (&TRANSFER_ENCODING, b"transfer-encoding"),
            (&SET_COOKIE, b"set-cookie"),
            (&CONNECTION, b"connection"),
            (&KEEP_ALIVE, b"keep-alive"),
        ][pick];
        // The name with some bytes' bit 0x20 flipped (case, or `-` to CR), with one byte
        // replaced, and random bytes.
        let flipped: Vec<u8> =
            lower.iter().enumerate().map(|(i, b)| if flips >> (i % 32) & 1 == 1 { b ^ 0x20 } else { *b }).collect();
        let mut replaced = lower.to_vec();
        replaced[at.index(lower.len())] = byte;
        for candidate in [&flipped[..], &replaced[..], &bytes[..], lower] {
            prop_assert_eq!(folded.matches(candidate), candidate.eq_ignore_ascii_case(lower), "{:?}", candidate);
        }
    }
}
