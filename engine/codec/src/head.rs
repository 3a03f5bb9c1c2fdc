//! Response head parsing with httparse: status, framing of the body, connection reuse.

use std::mem::MaybeUninit;

use crate::{CodecError, Limits};

/// Header slots parsed on the stack (uninitialised: free to set up); a `Limits::headers_count_max`
/// above this is refused (`Limits::check`).
const HEADER_SLOTS: usize = crate::limits::HEADERS_COUNT_CEILING;
/// Header slots of the first parse (8 KiB of stack); a head with more fields, when the limit
/// allows them, is parsed again with `HEADER_SLOTS` in a cold call, off the usual path.
const HEADER_SLOTS_FIRST: usize = 256;

/// How the body that follows a head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body: responses to HEAD, 204 and 304.
    Empty,
    /// Exactly this many bytes follow.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// The body runs until the server closes the connection (HTTP/1.0 style).
    UntilClose,
}

/// A parsed final (non-1xx) response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHead {
    /// Status code of the final response.
    pub status: u16,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Bytes used by the head, including any `1xx` interim heads before it.
    pub head_len: usize,
    /// How many `1xx` interim responses were skipped.
    pub interim_count: u16,
    /// How the body is delimited.
    pub framing: BodyFraming,
    /// Whether the connection may carry another request after this response.
    pub keep_alive: bool,
    /// Whether the final head has a `Set-Cookie` field (the client's cookie jar looks only then).
    pub set_cookie: bool,
    /// Whether a field of the head was folded over lines (obs-fold, RFC 9112 §5.2): a
    /// [`crate::ResponseReader`] replaces each fold with spaces in the head it hands on.
    pub folded: bool,
}

/// Parses the response head at the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed. `1xx` interim responses (100 Continue, 103
/// Early Hints) are skipped; `101 Switching Protocols` is refused because the client never asks
/// to upgrade. `request_was_head` makes the body empty whatever the headers say.
pub fn parse_response_head(
    buf: &[u8],
    limits: &Limits,
    request_was_head: bool,
) -> Result<Option<ResponseHead>, CodecError> {
    let mut offset = 0usize;
    let mut interim_count = 0u16;
    loop {
        match parse_head_step(&buf[offset..], limits, request_was_head)? {
            None => return Ok(None),
            Some(HeadStep::Interim { len }) => {
                offset += len;
                interim_count += 1;
                if interim_count > INTERIM_RESPONSES_MAX {
                    return Err(CodecError::TooManyInterim { limit: INTERIM_RESPONSES_MAX });
                }
            }
            Some(HeadStep::Final(head)) => {
                return Ok(Some(ResponseHead { head_len: offset + head.head_len, interim_count, ..head }));
            }
        }
    }
}

/// `1xx` interim responses accepted before the final one; a flood of `100 Continue` beyond
/// this is an error rather than a buffer growing until the timeout.
pub const INTERIM_RESPONSES_MAX: u16 = 16;

/// One head parsed off the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadStep {
    /// A `1xx` interim response of `len` bytes, to be skipped.
    Interim {
        /// Bytes of the interim head.
        len: usize,
    },
    /// The final head (`head_len` covers this head only, `interim_count` is 0).
    Final(ResponseHead),
}

/// Parses the one head at the start of `buf`, interim or final; `Ok(None)` when more bytes are
/// needed. A reader consumes interim heads as they complete, so that each byte is parsed once
/// and the buffer never holds more than one head.
///
/// A buffer that starts with the last final head answered on this thread, byte for byte, asked
/// under the same limits and method, gets that answer again without being parsed (`head::memo`:
/// servers repeat their heads).
#[inline]
pub fn parse_head_step(buf: &[u8], limits: &Limits, request_was_head: bool) -> Result<Option<HeadStep>, CodecError> {
    if let Some(head) = memo::recall(buf, limits, request_was_head) {
        return Ok(Some(HeadStep::Final(head)));
    }
    parse_new_head(buf, limits, request_was_head)
}

/// [`parse_head_step`] for a head the memo does not hold: out of line, so that a recalled head
/// sets up none of its frame (the header slots).
#[inline(never)]
fn parse_new_head(buf: &[u8], limits: &Limits, request_was_head: bool) -> Result<Option<HeadStep>, CodecError> {
    // Refused, not capped; the memo holds only heads parsed under limits that passed.
    if let Err(err) = limits.check() {
        return Err(CodecError::Limits(err));
    }
    let slots = limits.headers_count_max;
    let parsed = match parse_one::<HEADER_SLOTS_FIRST>(buf, slots.min(HEADER_SLOTS_FIRST)) {
        Err(CodecError::TooManyHeaders { .. }) if slots > HEADER_SLOTS_FIRST => parse_many(buf, slots),
        parsed => parsed,
    };
    let parsed = match parsed {
        // A line that starts with a space or a tab (obs-fold) is an invalid header name to
        // httparse's strict defaults: only then is the head parsed again, allowing folds.
        Err(CodecError::Malformed { what: HEADER_NAME_ERROR }) => {
            return parse_folded_step(buf, limits, request_was_head);
        }
        // Off the usual path: a `Set-Cookie` with a control character is dropped by the jar,
        // any other field's is named (httparse says only that some value was invalid).
        Err(CodecError::Malformed { what: HEADER_VALUE_ERROR }) => {
            return parse_control_step(buf, limits, request_was_head);
        }
        // httparse knows HTTP/1.0 and HTTP/1.1 only.
        Err(CodecError::Malformed { what: VERSION_ERROR }) => {
            return parse_other_version(buf, limits, request_was_head);
        }
        parsed => parsed?,
    };
    let Some((status, minor_version, used, fields)) = parsed else {
        if buf.len() > limits.head_bytes_max {
            return Err(CodecError::HeadTooLarge { limit_bytes: limits.head_bytes_max });
        }
        return Ok(None);
    };
    if used > limits.head_bytes_max {
        return Err(CodecError::HeadTooLarge { limit_bytes: limits.head_bytes_max });
    }
    if status < 100 {
        // Three digits, but not a status (RFC 9110 §15: 100 to 599): "099" reads as 99.
        return Err(CodecError::Malformed { what: "status code below 100" });
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
    // A head framed both ways (or chunked in HTTP/1.0) is read as chunked, and its connection
    // is not used again (RFC 9112 §6.1, §6.3): the servers before this one may have read
    // the body by the other length, and what follows on the connection is then anyone's guess.
    let framed_twice = fields.transfer_chunked.is_some() && (fields.content_length.is_some() || minor_version == 0);
    // A `204` may carry neither field (RFC 9110 §8.6, RFC 9112 §6.1): one that does may send a
    // body after all, later than its head, and that body would be read as the next response.
    let framed_no_content =
        status == 204 && (fields.content_length.is_some_and(|n| n > 0) || fields.transfer_chunked.is_some());
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
        folded: false,
    };
    memo::remember(&buf[..used], limits, request_was_head, &head);
    Ok(Some(HeadStep::Final(head)))
}

/// [`parse_one`] with every slot, for a head with more fields than the first parse holds.
#[cold]
#[inline(never)]
fn parse_many(rest: &[u8], slots: usize) -> Result<Option<(u16, u8, usize, FieldSummary)>, CodecError> {
    parse_one::<HEADER_SLOTS>(rest, slots)
}

/// Parses one head with up to `slots` (at most `N`) header fields: `(status, minor version,
/// bytes used, framing fields)`, or `None` when incomplete.
///
/// The header slots are left uninitialised (httparse writes each one before it hands it back):
/// setting up 256 initialised slots, or even 32, costs more than parsing a short head's fields.
fn parse_one<const N: usize>(rest: &[u8], slots: usize) -> Result<Option<(u16, u8, usize, FieldSummary)>, CodecError> {
    let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; N];
    let mut response = httparse::Response::new(&mut []);
    let parser = httparse::ParserConfig::default(); // httparse's strict defaults, as `Response::parse`
    match parser.parse_response_with_uninit_headers(&mut response, rest, &mut headers[..slots]) {
        Ok(httparse::Status::Complete(used)) => {
            let fields = FieldSummary::of(response.headers)?;
            Ok(Some((response.code.unwrap_or(0), response.version.unwrap_or(1), used, fields)))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(CodecError::TooManyHeaders { limit: slots }),
        Err(err) => Err(CodecError::Malformed { what: parse_error_name(err) }),
    }
}

/// What httparse's strict defaults say of a line that starts with a space or a tab.
const HEADER_NAME_ERROR: &str = "invalid header name";
/// What httparse's strict defaults say of a value with a byte they refuse (a control character).
const HEADER_VALUE_ERROR: &str = "invalid header value";
/// What httparse says of a status line that does not start with `HTTP/1.0` or `HTTP/1.1`.
const VERSION_ERROR: &str = "not an HTTP/1.x response";

/// [`parse_head_step`] for a status line httparse refused at its version. RFC 9110 §2.5: a
/// minor version of HTTP/1 above 1 (`HTTP/1.2`) is read as HTTP/1.1 (a copy of the head with
/// the version rewritten goes through the strict parser); another major version (`HTTP/2.0`)
/// is named in the error, as is a TLS record; anything else is not HTTP/1.x.
#[cold]
#[inline(never)]
fn parse_other_version(buf: &[u8], limits: &Limits, request_was_head: bool) -> Result<Option<HeadStep>, CodecError> {
    // A TLS record (content type 20 to 23, then major version 3): a plain request to a TLS port,
    // answered with an alert.
    if (20..=23).contains(&buf[0]) {
        return match buf.get(1) {
            None => Ok(None),
            Some(3) => Err(CodecError::TlsAnswer),
            Some(_) => Err(CodecError::Malformed { what: VERSION_ERROR }),
        };
    }
    // `HTTP/` DIGIT `.` DIGIT, then a space: what each of the first nine bytes may be.
    let shape = |at: usize, byte: u8| match at {
        0..5 => byte == b"HTTP/"[at],
        5 | 7 => byte.is_ascii_digit(),
        6 => byte == b'.',
        _ => byte == b' ',
    };
    if !buf.iter().take(9).enumerate().all(|(at, &byte)| shape(at, byte)) {
        return Err(CodecError::Malformed { what: VERSION_ERROR });
    }
    if buf.len() < 9 {
        return Ok(None); // a version so far, but is it one digit each?
    }
    let (major, minor) = (buf[5], buf[7]);
    if major != b'1' {
        return Err(CodecError::OtherVersion { major: major - b'0', minor: minor - b'0' });
    }
    // All of it (what follows the head too, bounded by the reads): the same errors, in the same
    // order, as the head would have met as HTTP/1.1.
    let mut copy = buf.to_vec();
    copy[7] = b'1';
    parse_head_step(&copy, limits, request_was_head)
}

/// [`parse_head_step`] for a head the strict parser refused with an invalid header name: parsed
/// again with obs-fold allowed (RFC 9112 §5.2: a user agent replaces each fold with spaces
/// before it interprets the value), then, when it is complete, its copy with every fold
/// replaced (same length) goes through the strict parser, so that the fields are read by the
/// one reader the plain heads use (which stays inlined: a second caller would cost every head).
/// A fold inside a `Content-Length` or `Transfer-Encoding` value is refused: `1` folded over `2`
/// could be read as 1, 12 or `1 2`, and a client and the servers before it disagreeing on
/// where a body ends is how responses are smuggled. (`Connection` is read as a list, a fold
/// being more spaces.) A head with no fold is refused as the strict parser refused it.
#[cold]
#[inline(never)]
fn parse_folded_step(buf: &[u8], limits: &Limits, request_was_head: bool) -> Result<Option<HeadStep>, CodecError> {
    let slots = limits.headers_count_max.min(HEADER_SLOTS);
    let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; HEADER_SLOTS];
    let mut response = httparse::Response::new(&mut []);
    let mut parser = httparse::ParserConfig::default();
    parser.allow_obsolete_multiline_headers_in_responses(true);
    let used = match parser.parse_response_with_uninit_headers(&mut response, buf, &mut headers[..slots]) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) if buf.len() > limits.head_bytes_max => {
            return Err(CodecError::HeadTooLarge { limit_bytes: limits.head_bytes_max });
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(CodecError::TooManyHeaders { limit: slots }),
        // A folded head with a control character: read as a strict head's is (the jar's
        // `Set-Cookie` fields blanked in a copy, which is then parsed again, folds and all).
        Err(httparse::Error::HeaderValue) => return parse_control_step(buf, limits, request_was_head),
        Err(err) => return Err(CodecError::Malformed { what: parse_error_name(err) }),
    };
    for header in response.headers.iter() {
        let name = header.name.as_bytes();
        let field = if CONTENT_LENGTH.matches(name) {
            "Content-Length"
        } else if TRANSFER_ENCODING.matches(name) {
            "Transfer-Encoding"
        } else {
            continue;
        };
        // httparse leaves the line breaks of a fold in the value (trimmed at its ends).
        if header.value.iter().any(|&b| b == b'\n' || b == b'\r') {
            return Err(CodecError::FoldedFraming { field });
        }
    }
    let mut unfolded = buf[..used].to_vec();
    unfold(&mut unfolded);
    Ok(match parse_head_step(&unfolded, limits, request_was_head)? {
        Some(HeadStep::Final(head)) => Some(HeadStep::Final(ResponseHead { folded: true, ..head })),
        step => step,
    })
}

/// Replaces every obs-fold in `head` (one complete head: a line break followed by spaces or
/// tabs, with the spaces or tabs before it) with spaces, in place: the head keeps its length,
/// and parsed again (strictly) gives the same fields with each fold read as spaces, as RFC 9112
/// §5.2 asks of a user agent.
pub fn unfold(head: &mut [u8]) {
    let blank = |b: u8| b == b' ' || b == b'\t';
    for at in 1..head.len() {
        if head[at - 1] != b'\n' || !blank(head[at]) {
            continue;
        }
        // The line break (CR LF or a bare LF), the whitespace before it and after it.
        let mut start = at - 1;
        if start > 0 && head[start - 1] == b'\r' {
            start -= 1;
        }
        while start > 0 && blank(head[start - 1]) {
            start -= 1;
        }
        let end = at + head[at..].iter().take_while(|&&b| blank(b)).count();
        head[start..end].fill(b' ');
    }
}

/// [`parse_head_step`] for a head httparse refused at a header value. When every value with a
/// control character is a `Set-Cookie` field's (and none is a CR, a line ending's half), the
/// head is read: its copy with those bytes as `?` (same length) goes through the strict
/// parser, and the head handed on keeps them, for the cookie jar to ignore the field as
/// browsers do (RFC 6265bis: a cookie with a control character is ignored whole; it is counted
/// as `control_character`, and `journey test` says so). Another field's control character
/// fails the response, named (`field_value_error`): RFC 9110 §5.5 makes it invalid, and its field
/// may be one the client reads.
#[cold]
#[inline(never)]
fn parse_control_step(buf: &[u8], limits: &Limits, request_was_head: bool) -> Result<Option<HeadStep>, CodecError> {
    let Some(bad) = set_cookie_controls(buf) else {
        return Err(field_value_error(buf, true));
    };
    let Some(head_end) = bad.head_end else {
        if buf.len() > limits.head_bytes_max {
            return Err(CodecError::HeadTooLarge { limit_bytes: limits.head_bytes_max });
        }
        return Ok(None);
    };
    let mut copy = buf[..head_end].to_vec();
    // Nothing blanked: the control character the parser refused is not where the jar's fields
    // are looked for (a folded line's), and parsing the same bytes again would refuse it again.
    if !blank_set_cookie_controls(&mut copy) {
        return Err(field_value_error(buf, true));
    }
    parse_head_step(&copy, limits, request_was_head)
}

/// What a look over one head's fields for control characters in values finds.
struct SetCookieControls {
    /// Where the head ends (after its empty line); `None` when it has not all come.
    head_end: Option<usize>,
}

/// Whether every control character in the values of the head at the start of `buf` (so far)
/// lies in a `Set-Cookie` field and is not a CR: `None` when one does not.
fn set_cookie_controls(buf: &[u8]) -> Option<SetCookieControls> {
    if !buf.contains(&b'\n') {
        return None; // the status line has not ended
    }
    for line in field_lines(buf) {
        let Some(next) = line.next else { break };
        if line.bytes.is_empty() {
            return Some(SetCookieControls { head_end: Some(next) });
        }
        match line.name_value() {
            Some((name, value)) if value.iter().any(is_value_control) && !jar_ignores(name, value) => return None,
            // A folded line's control character: no field the jar reads is known to hold it.
            None if line.bytes.iter().any(is_value_control) => return None,
            _ => {}
        }
    }
    Some(SetCookieControls { head_end: None })
}

/// Replaces with `CONTROL_STAND_IN` the control characters in the `Set-Cookie` values of `head`
/// (a head [`set_cookie_controls`] passed, or any head: other fields are left as they are).
/// Whether it replaced any.
fn blank_set_cookie_controls(head: &mut [u8]) -> bool {
    let mut controls = Vec::new();
    for line in field_lines(head) {
        if let Some((name, value)) = line.name_value()
            && name.eq_ignore_ascii_case(b"set-cookie")
        {
            let value_at = line.start + line.bytes.len() - value.len();
            let at = value.iter().enumerate().filter(|(_, b)| is_value_control(b)).map(|(i, _)| value_at + i);
            controls.extend(at);
        }
    }
    for &at in &controls {
        head[at] = CONTROL_STAND_IN;
    }
    !controls.is_empty()
}

/// Whether the cookie jar ignores a field with a control character in its value, so that the
/// response can be read: a `Set-Cookie` field with no CR in it (a CR is half a line ending).
fn jar_ignores(name: &[u8], value: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"set-cookie") && !value.contains(&b'\r')
}

/// A line of a head after its status line: where its bytes start in the head, its bytes
/// without the line ending, and where the next line starts (`None`: it has not ended yet).
struct FieldLine<'a> {
    start: usize,
    bytes: &'a [u8],
    next: Option<usize>,
}

impl<'a> FieldLine<'a> {
    /// Its name and value, either side of its first colon (`None`: it has none).
    fn name_value(&self) -> Option<(&'a [u8], &'a [u8])> {
        let colon = self.bytes.iter().position(|&b| b == b':')?;
        Some((&self.bytes[..colon], &self.bytes[colon + 1..]))
    }
}

/// The lines after the status line of the head at the start of `buf`: the empty line that ends
/// the head included, and whatever lines `buf` holds after it (callers stop at the empty line);
/// a last line with no line ending too. None when the status line has not ended.
fn field_lines(buf: &[u8]) -> impl Iterator<Item = FieldLine<'_>> {
    let mut at = buf.iter().position(|&b| b == b'\n').map_or(buf.len(), |i| i + 1);
    std::iter::from_fn(move || {
        if at >= buf.len() {
            return None;
        }
        let start = at;
        let ended = buf[at..].iter().position(|&b| b == b'\n');
        let len = ended.unwrap_or(buf.len() - at);
        at += len + 1;
        let raw = &buf[start..start + len];
        Some(FieldLine { start, bytes: raw.strip_suffix(b"\r").unwrap_or(raw), next: ended.map(|_| at) })
    })
}

/// What a control character of a `Set-Cookie` value is in the copy the strict parser reads: a
/// visible byte, so that the value keeps its ends (a space would be trimmed off them, and the
/// field handed on would lose the byte that makes the jar refuse it).
const CONTROL_STAND_IN: u8 = b'?';

/// A byte httparse refuses in a field value: a control character but a tab, or DEL.
fn is_value_control(b: &u8) -> bool {
    (*b < 0x20 && *b != b'\t') || *b == 0x7f
}

/// The error for a head httparse refused at a header value: the first field whose value has a
/// control character (any byte below 0x20 but a tab, a CR that does not end the line, or 0x7F:
/// the bytes httparse refuses), named with that byte; httparse's own word when none is found.
/// With `set_cookie_read`, the `Set-Cookie` fields the jar would ignore (no CR in them) are
/// passed over: the field named is the one the response fails for.
#[cold]
#[inline(never)]
fn field_value_error(buf: &[u8], set_cookie_read: bool) -> CodecError {
    for line in field_lines(buf) {
        if line.bytes.is_empty() {
            break;
        }
        let Some((name, value)) = line.name_value() else { continue };
        if set_cookie_read && jar_ignores(name, value) {
            continue;
        }
        if let Some(&byte) = value.iter().find(|b| is_value_control(b)) {
            return CodecError::ControlInValue { field: FieldNameShort::new(name), byte };
        }
    }
    CodecError::Malformed { what: HEADER_VALUE_ERROR }
}

/// A field's name as an error shows it: its first `FieldNameShort::BYTES_MAX` bytes, kept inline
/// (the error stays as small as the others, with nothing to free).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldNameShort {
    bytes: [u8; FieldNameShort::BYTES_MAX],
    len: u8,
    /// The name was longer than `BYTES_MAX`.
    cut: bool,
}

impl FieldNameShort {
    /// Bytes of a name kept; a longer name is shown cut, with `...`.
    pub const BYTES_MAX: usize = 20;

    fn new(name: &[u8]) -> FieldNameShort {
        let len = name.len().min(Self::BYTES_MAX);
        let mut bytes = [0u8; Self::BYTES_MAX];
        bytes[..len].copy_from_slice(&name[..len]);
        FieldNameShort { bytes, len: len as u8, cut: name.len() > Self::BYTES_MAX }
    }
}

impl std::fmt::Display for FieldNameShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.bytes[..usize::from(self.len)].escape_ascii())?;
        if self.cut { write!(f, "...") } else { Ok(()) }
    }
}

/// What the framing decision needs from the header fields.
#[derive(Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
struct FieldSummary {
    content_length: Option<u64>,
    /// `Some(true)` when the last transfer coding is `chunked`.
    transfer_chunked: Option<bool>,
    conn_close: bool,
    conn_keep_alive: bool,
    set_cookie: bool,
}

impl FieldSummary {
    /// Looks at the four fields that matter. A name is compared only when its length is one of
    /// theirs, and then a word at a time; the common plain values (`13`, `keep-alive`, `chunked`)
    /// are taken whole before the general list parsing.
    fn of(headers: &[httparse::Header<'_>]) -> Result<FieldSummary, CodecError> {
        let mut summary = FieldSummary::default();
        for header in headers {
            let (name, value) = (header.name.as_bytes(), header.value);
            match name.len() {
                14 if CONTENT_LENGTH.matches(name) => summary.content_length(value)?,
                17 if TRANSFER_ENCODING.matches(name) => summary.transfer_encoding(value),
                10 if SET_COOKIE.matches(name) => summary.set_cookie = true,
                10 if CONNECTION.matches(name) => summary.connection(value),
                _ => {}
            }
        }
        Ok(summary)
    }

    /// A list ("5, 5") is allowed when every member agrees (RFC 9110 §8.6).
    fn content_length(&mut self, value: &[u8]) -> Result<(), CodecError> {
        if let Some(length) = digits_value(value) {
            return self.one_content_length(length);
        }
        for part in value.split(|&b| b == b',') {
            self.one_content_length(parse_length(trim(part))?)?;
        }
        Ok(())
    }

    fn one_content_length(&mut self, length: u64) -> Result<(), CodecError> {
        match self.content_length {
            Some(seen) if seen != length => Err(CodecError::ConflictingContentLength),
            _ => {
                self.content_length = Some(length);
                Ok(())
            }
        }
    }

    /// Chunked when the last coding is `chunked`.
    fn transfer_encoding(&mut self, value: &[u8]) {
        let last = if value.eq_ignore_ascii_case(b"chunked") {
            value
        } else {
            value.rsplit(|&b| b == b',').next().map(trim).unwrap_or(b"")
        };
        self.transfer_chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
    }

    fn connection(&mut self, value: &[u8]) {
        if KEEP_ALIVE.matches(value) {
            self.conn_keep_alive = true;
            return;
        }
        for token in value.split(|&b| b == b',').map(trim) {
            if token.eq_ignore_ascii_case(b"close") {
                self.conn_close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                self.conn_keep_alive = true;
            }
        }
    }
}

const CONTENT_LENGTH: FoldedName = FoldedName::new(b"content-length");
const TRANSFER_ENCODING: FoldedName = FoldedName::new(b"transfer-encoding");
const SET_COOKIE: FoldedName = FoldedName::new(b"set-cookie");
const CONNECTION: FoldedName = FoldedName::new(b"connection");
/// A whole `Connection` value of `keep-alive` (nginx's), before splitting the value as a list.
const KEEP_ALIVE: FoldedName = FoldedName::new(b"keep-alive");

/// A lowercase name of 8 to 24 letters and hyphens, compared with bytes ignoring ASCII case a
/// word at a time: three eight-byte words, at the start, the middle and the end (they overlap
/// below 24 bytes). In each word, letters are folded by setting bit 0x20, which turns only
/// `A`..`Z` and `a`..`z` into `a`..`z`; other bytes (the hyphen) are compared exactly. The same
/// answer as `eq_ignore_ascii_case` for any bytes, in a few instructions.
struct FoldedName {
    len: usize,
    /// Where each word starts.
    at: [usize; 3],
    words: [u64; 3],
    /// 0x20 in the bytes that are letters.
    folds: [u64; 3],
}

impl FoldedName {
    const fn new(lower: &[u8]) -> FoldedName {
        assert!(lower.len() >= 8 && lower.len() <= 24, "a folded name is 8 to 24 bytes");
        let mut fold = [0u8; 24];
        let mut i = 0;
        while i < lower.len() {
            assert!(lower[i].is_ascii_lowercase() || lower[i] == b'-', "lowercase letters and hyphens");
            if lower[i].is_ascii_lowercase() {
                fold[i] = 0x20;
            }
            i += 1;
        }
        let at = [0, lower.len() / 2 - 4, lower.len() - 8];
        FoldedName {
            len: lower.len(),
            at,
            words: [word_at(lower, at[0]), word_at(lower, at[1]), word_at(lower, at[2])],
            folds: [word_at(&fold, at[0]), word_at(&fold, at[1]), word_at(&fold, at[2])],
        }
    }

    #[inline]
    fn matches(&self, bytes: &[u8]) -> bool {
        bytes.len() == self.len
            && (0..3).all(|i| {
                // Eight bytes loaded at once (never out of bounds once the lengths are equal).
                let eight = bytes.get(self.at[i]..).and_then(<[u8]>::first_chunk::<8>);
                eight.is_some_and(|eight| u64::from_le_bytes(*eight) | self.folds[i] == self.words[i])
            })
    }
}

/// Eight bytes of `bytes` from `at` as one little-endian word (for the constants).
const fn word_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        word[i] = bytes[at + i];
        i += 1;
    }
    u64::from_le_bytes(word)
}

/// A plain decimal number of 1 to 19 digits (below `u64::MAX`), else `None`.
fn digits_value(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

fn parse_length(digits: &[u8]) -> Result<u64, CodecError> {
    digits_value(digits).ok_or(CodecError::InvalidContentLength)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn parse_error_name(err: httparse::Error) -> &'static str {
    match err {
        httparse::Error::HeaderName => HEADER_NAME_ERROR,
        httparse::Error::HeaderValue => HEADER_VALUE_ERROR,
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status code",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => VERSION_ERROR,
    }
}

/// Finds a header value in a complete head (used for captures and journeys, not the hot path).
pub fn find_header<'b>(head: &'b [u8], name: &str) -> Option<&'b [u8]> {
    let mut found = None;
    with_final_fields(head, |fields| {
        found = fields.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
    });
    found
}

/// Calls `each` with every value of header `name` in a complete head, in order (for fields
/// that repeat, such as `Set-Cookie`; not the hot path).
pub fn for_each_header<'b>(head: &'b [u8], name: &str, mut each: impl FnMut(&'b [u8])) {
    with_final_fields(head, |fields| {
        fields.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).for_each(|h| each(h.value));
    });
}

/// Calls `each` with the fields of the final head in a complete head, interim heads skipped as
/// the parser skips them; not at all when the head does not parse (or has more than
/// `HEADER_SLOTS` fields). The slots are uninitialised, as in `parse_one`.
fn with_final_fields<'b>(head: &'b [u8], each: impl FnOnce(&[httparse::Header<'b>])) {
    let mut offset = 0;
    loop {
        let mut headers = [const { MaybeUninit::<httparse::Header<'b>>::uninit() }; HEADER_SLOTS];
        let mut parsed = httparse::Response::new(&mut []);
        let parser = httparse::ParserConfig::default();
        let used = match parser.parse_response_with_uninit_headers(&mut parsed, &head[offset..], &mut headers) {
            Ok(httparse::Status::Complete(used)) => used,
            Err(httparse::Error::HeaderValue) => return with_controls_fields(&head[offset..], each),
            _ => return,
        };
        if matches!(parsed.code, Some(100..=199)) {
            offset += used;
            continue;
        }
        return each(parsed.headers);
    }
}

/// [`with_final_fields`] for a head (at the start of `head`) whose `Set-Cookie` values hold
/// control characters (`parse_control_step` read it): parsed as its copy with those bytes as
/// `?`, each field handed on as the head holds it (control characters and all, for the jar
/// to refuse). Interim heads have none (they were parsed strictly).
#[cold]
#[inline(never)]
fn with_controls_fields<'b>(head: &'b [u8], each: impl FnOnce(&[httparse::Header<'b>])) {
    let mut copy = head.to_vec();
    blank_set_cookie_controls(&mut copy);
    let mut headers = vec![httparse::EMPTY_HEADER; HEADER_SLOTS];
    let mut parsed = httparse::Response::new(&mut headers);
    if !matches!(parsed.parse(&copy), Ok(httparse::Status::Complete(_))) {
        return;
    }
    // The same bytes at the same places in `head`: names unchanged, values as sent.
    let at = |bytes: &[u8]| bytes.as_ptr() as usize - copy.as_ptr() as usize;
    let fields: Vec<httparse::Header<'b>> = parsed
        .headers
        .iter()
        .filter_map(|field| {
            let name = std::str::from_utf8(&head[at(field.name.as_bytes())..][..field.name.len()]).ok()?;
            let value = &head[at(field.value)..][..field.value.len()];
            Some(httparse::Header { name, value })
        })
        .collect();
    each(&fields);
}

mod memo;

#[cfg(test)]
mod equivalence;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<ResponseHead>, CodecError> {
        parse_response_head(text.as_bytes(), &Limits::DEFAULT, false)
    }

    /// `Set-Cookie: ctl=a\x01b` failed the whole response (`invalid header value`): the head
    /// is read, the field handed on as sent (for the jar to ignore); a bare CR in it, or a
    /// control character in another field, fails the response, naming the field.
    #[test]
    fn a_set_cookie_with_a_control_character_is_read_for_the_jar_to_drop() {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: ctl=a\x01b\x00\r\nset-cookie: ok=1\r\n\r\nhi";
        let head = parse(text).unwrap().unwrap();
        assert_eq!((head.status, head.framing, head.set_cookie), (200, BodyFraming::Length(2), true));
        assert_eq!(head.head_len, text.len() - 2);
        let mut values = Vec::new();
        for_each_header(text.as_bytes(), "set-cookie", |v| values.push(v));
        assert_eq!(values, [&b"ctl=a\x01b\x00"[..], b"ok=1"]);
        assert_eq!(find_header(text.as_bytes(), "content-length"), Some(&b"2"[..]));
        // Not all come: more is asked for; behind a 100 Continue, read the same.
        assert_eq!(parse("HTTP/1.1 200 OK\r\nSet-Cookie: a=\x01\r\n"), Ok(None));
        let interim = format!("HTTP/1.1 100 Continue\r\n\r\n{text}");
        assert_eq!(parse(&interim).unwrap().unwrap().interim_count, 1);
        for_each_header(interim.as_bytes(), "set-cookie", |v| assert!(v.starts_with(b"ctl=") || v == b"ok=1"));
        let err = parse("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\rb\r\n\r\n").unwrap_err();
        assert!(err.to_string().contains("the Set-Cookie field's value has a control character (byte 0x0D)"), "{err}");
        let err = parse("HTTP/1.1 200 OK\r\nSet-Cookie: a=\x01\r\nX-A: \x01\r\n\r\n").unwrap_err();
        assert!(err.to_string().contains("the X-A field's value"), "{err}");
    }

    /// A head both folded and with a control character in a `Set-Cookie` failed the response
    /// (`the Set-Cookie field's value has a control character`) when the fold came first: the
    /// folding parse named the value instead of reading it as the strict parse does. Each order
    /// is read, the fold as spaces and the field handed on as sent; a control character inside
    /// a fold's line is still named, not parsed again and again.
    #[test]
    fn a_folded_head_with_a_control_character_in_a_set_cookie_is_read() {
        for text in [
            "HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\nSet-Cookie: s=a\x01b\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nSet-Cookie: s=a\x01b\r\nX-Long: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nSet-Cookie: s=a\x01b;\r\n Path=/\r\nContent-Length: 2\r\n\r\nok",
        ] {
            let head = parse(text).unwrap().unwrap();
            assert_eq!(
                (head.status, head.framing, head.set_cookie, head.folded),
                (200, BodyFraming::Length(2), true, true)
            );
            assert_eq!(head.head_len, text.len() - 2, "{text:?}");
            let mut unfolded = text.as_bytes()[..head.head_len].to_vec();
            unfold(&mut unfolded);
            let mut values = Vec::new();
            for_each_header(&unfolded, "set-cookie", |v| values.push(v.to_vec()));
            assert_eq!(values.len(), 1, "{text:?}");
            assert!(values[0].starts_with(b"s=a\x01b"), "{text:?}: {values:?}");
            for cut in 0..head.head_len {
                assert_eq!(parse(&text[..cut]), Ok(None), "{text:?} cut at {cut}");
            }
        }
        let err = parse("HTTP/1.1 200 OK\r\nSet-Cookie: s=a;\r\n Path=/\x01\r\nX-L: a\r\n b\r\n\r\n").unwrap_err();
        assert!(matches!(err, CodecError::ControlInValue { .. } | CodecError::Malformed { .. }), "{err}");
        let err = parse("HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\nX-G: \x02\r\nSet-Cookie: s=\x01\r\n\r\n").unwrap_err();
        assert!(err.to_string().contains("the X-G field's value"), "{err}");
    }

    #[test]
    fn a_control_character_in_a_value_names_the_field_and_the_byte() {
        // A bare CR inside a value, DEL, and a folded head: each named.
        let err = parse("HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: a\rb\r\n\r\n").unwrap_err();
        assert!(err.to_string().contains("the X-B field's value has a control character (byte 0x0D)"), "{err}");
        let err = parse("HTTP/1.1 200 OK\r\nX-Del: a\x7fb\r\n\r\n").unwrap_err();
        assert!(err.to_string().contains("the X-Del field's value has a control character (byte 0x7F)"), "{err}");
        let err = parse("HTTP/1.1 200 OK\r\nX-F: a\r\n b\r\nX-G: \x02\r\n\r\n").unwrap_err();
        assert!(err.to_string().contains("the X-G field's value"), "{err}");
        let long = format!("HTTP/1.1 200 OK\r\n{}: \x03\r\n\r\n", "N".repeat(30));
        let err = parse(&long).unwrap_err();
        assert!(err.to_string().contains(&format!("the {}... field's", "N".repeat(20))), "{err}");
    }

    #[test]
    fn content_length_keep_alive() {
        let head = parse("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello").unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.framing, BodyFraming::Length(13));
        assert!(head.keep_alive);
        assert_eq!(head.head_len, 39);
    }

    #[test]
    fn set_cookie_is_noticed_in_the_final_head_only() {
        assert!(!parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap().unwrap().set_cookie);
        assert!(!parse("HTTP/1.1 200 OK\r\nX-Set-Cookie: a\r\nContent-Length: 0\r\n\r\n").unwrap().unwrap().set_cookie);
        assert!(
            parse("HTTP/1.1 302 Found\r\nSET-COOKIE: a=1\r\nContent-Length: 0\r\n\r\n").unwrap().unwrap().set_cookie
        );
        let interim = "HTTP/1.1 103 Early Hints\r\nSet-Cookie: a=1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        assert!(!parse(interim).unwrap().unwrap().set_cookie);
    }

    #[test]
    fn partial_head_needs_more() {
        assert_eq!(parse("HTTP/1.1 200 OK\r\nContent-Le").unwrap(), None);
    }

    #[test]
    fn interim_responses_are_skipped() {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                    HTTP/1.1 204 No Content\r\n\r\n";
        let head = parse(text).unwrap().unwrap();
        assert_eq!(head.status, 204);
        assert_eq!(head.interim_count, 2);
        assert_eq!(head.framing, BodyFraming::Empty);
        assert_eq!(head.head_len, text.len());
    }

    #[test]
    fn http10_is_close_delimited_unless_keep_alive() {
        let head = parse("HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing, BodyFraming::UntilClose);
        assert!(!head.keep_alive);
        let head = parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n").unwrap().unwrap();
        assert!(head.keep_alive);
    }

    #[test]
    fn connection_close_is_honoured() {
        let head =
            parse("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, close\r\nContent-Length: 0\r\n\r\n").unwrap().unwrap();
        assert!(!head.keep_alive);
    }

    #[test]
    fn chunked_wins_over_length_and_other_codings_read_to_close() {
        let head =
            parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing, BodyFraming::Chunked);
        assert!(!head.keep_alive, "framed both ways: the connection is not used again");
        let head = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing, BodyFraming::UntilClose);
    }

    /// Outside testers: a response with `Content-Length` and `Transfer-Encoding: chunked` was read
    /// as chunked but its connection pooled. RFC 9112 §6.3: chunked wins and the connection closes;
    /// §6.1: so does one chunked in HTTP/1.0, even with keep-alive.
    #[test]
    fn a_head_framed_both_ways_is_chunked_and_ends_its_connection() {
        for (text, chunked) in [
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", true),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n", false),
        ] {
            let head = parse(text).unwrap().unwrap();
            let framing = if chunked { BodyFraming::Chunked } else { BodyFraming::UntilClose };
            assert_eq!((head.framing, head.keep_alive), (framing, false), "{text:?}");
        }
        let plain = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap().unwrap();
        assert!(plain.keep_alive, "chunked alone keeps the connection");
    }

    #[test]
    fn bad_content_lengths() {
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            Err(CodecError::ConflictingContentLength)
        );
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n").unwrap().unwrap().framing,
            BodyFraming::Length(5)
        );
        assert_eq!(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), Err(CodecError::InvalidContentLength));
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            Err(CodecError::InvalidContentLength)
        );
    }

    #[test]
    fn head_and_304_have_no_body() {
        let head = parse_response_head(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", &Limits::DEFAULT, true)
            .unwrap()
            .unwrap();
        assert_eq!(head.framing, BodyFraming::Empty);
        let head = parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing, BodyFraming::Empty);
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits { head_bytes_max: 64, headers_count_max: 2, ..Limits::DEFAULT };
        let long = format!("HTTP/1.1 200 OK\r\nX: {}\r\n", "a".repeat(100));
        assert_eq!(
            parse_response_head(long.as_bytes(), &limits, false),
            Err(CodecError::HeadTooLarge { limit_bytes: 64 })
        );
        let many = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert_eq!(parse_response_head(many.as_bytes(), &limits, false), Err(CodecError::TooManyHeaders { limit: 2 }));
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(parse("SSH-2.0-OpenSSH_9.2\r\n\r\n"), Err(CodecError::Malformed { .. })));
        assert!(matches!(parse("HTTP/1.1 101 Switching Protocols\r\n\r\n"), Err(CodecError::Malformed { .. })));
        for below in ["HTTP/1.1 099 Odd\r\n\r\n", "HTTP/1.1 000\r\n\r\n"] {
            let err = parse(below).err();
            assert_eq!(err, Some(CodecError::Malformed { what: "status code below 100" }), "{below:?}");
        }
    }

    #[test]
    fn for_each_header_sees_every_value_of_the_final_head_only() {
        let head = b"HTTP/1.1 103 Early Hints\r\nSet-Cookie: early=1\r\n\r\n\
                     HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX: y\r\nset-cookie: b=2\r\n\r\nbody";
        let mut seen = Vec::new();
        for_each_header(head, "Set-Cookie", |value| seen.push(value));
        assert_eq!(seen, [&b"a=1"[..], b"b=2"]);
        let mut none = 0;
        for_each_header(b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\n", "set-cookie", |_| none += 1);
        assert_eq!(none, 0, "an incomplete head has no fields");
    }

    /// A head with more fields than the first parse's slots is read (a second, cold parse with
    /// every slot) when the limit allows them, its framing field found past the 256th, and
    /// refused past the limit with the limit named.
    #[test]
    fn heads_past_the_first_parses_slots_are_read_up_to_the_limit() {
        let head = |n: usize| {
            let fields: String = (0..n).map(|i| format!("X-{i}: {i}\r\n")).collect();
            format!("HTTP/1.1 200 OK\r\n{fields}Content-Length: 2\r\n\r\n")
        };
        for max in [HEADER_SLOTS_FIRST, 300, HEADER_SLOTS] {
            let limits = Limits { headers_count_max: max, ..Limits::DEFAULT };
            let read = parse_response_head(head(max - 1).as_bytes(), &limits, false).unwrap().unwrap();
            assert_eq!(read.framing, BodyFraming::Length(2), "{max}");
            let refused = parse_response_head(head(max).as_bytes(), &limits, false);
            assert_eq!(refused, Err(CodecError::TooManyHeaders { limit: max }), "{max}");
        }
    }

    /// A header-field limit out of range is refused at the first parse, the number asked
    /// named, whatever the head: before, 5,000 was 1,024 in silence, and 0 refused every field.
    #[test]
    fn a_header_field_limit_out_of_range_is_refused_not_capped() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        for asked in [0, HEADER_SLOTS + 1, 5000] {
            let limits = Limits { headers_count_max: asked, ..Limits::DEFAULT };
            let err = parse_response_head(head, &limits, false).unwrap_err();
            assert_eq!(err, CodecError::Limits(crate::limits::LimitsError::HeadersCount { asked }));
            assert_eq!(
                err.to_string(),
                format!(
                    "response not parsed: the header-field limit ({asked}, Limits::headers_count_max) must be from \
                     1 to 1024 header fields per response"
                )
            );
            assert!(!err.is_too_large());
        }
        let most = Limits { headers_count_max: HEADER_SLOTS, ..Limits::DEFAULT };
        assert!(parse_response_head(head, &most, false).unwrap().is_some());
    }

    #[test]
    fn find_header_reads_up_to_the_slots_and_no_further() {
        let fields = |n: usize| (0..n).map(|i| format!("X-{i}: {i}\r\n")).collect::<String>();
        let head = format!("HTTP/1.1 200 OK\r\n{}\r\n", fields(HEADER_SLOTS));
        assert_eq!(find_header(head.as_bytes(), "x-255"), Some(&b"255"[..]));
        let head = format!("HTTP/1.1 200 OK\r\n{}\r\n", fields(HEADER_SLOTS + 1));
        assert_eq!(find_header(head.as_bytes(), "x-0"), None, "more fields than slots: not parsed");
    }

    #[test]
    fn unfold_replaces_each_fold_with_spaces_and_keeps_the_length() {
        let mut head = b"HTTP/1.1 200 OK\r\nA: x \t\r\n \ty\nB: z\n\tw\r\nC: c\r\n\r\n".to_vec();
        let len = head.len();
        unfold(&mut head);
        assert_eq!(head.len(), len);
        assert_eq!(&head[..], b"HTTP/1.1 200 OK\r\nA: x      y\nB: z  w\r\nC: c\r\n\r\n");
        assert_eq!(find_header(&head, "a"), Some(&b"x      y"[..]));
        assert_eq!(find_header(&head, "b"), Some(&b"z  w"[..]));
        let mut plain = b"HTTP/1.1 200 OK\r\nA: x\r\n\r\n body".to_vec();
        unfold(&mut plain[..25]); // the head only: the body may start with a space
        assert_eq!(&plain[..], b"HTTP/1.1 200 OK\r\nA: x\r\n\r\n body", "no fold, nothing changed");
    }

    #[test]
    fn folds_are_read_and_folded_framing_is_refused() {
        let head = parse("HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 3\r\n\r\n").unwrap().unwrap();
        assert_eq!((head.framing, head.folded), (BodyFraming::Length(3), true));
        assert!(!parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n").unwrap().unwrap().folded);
        for (text, field) in [
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 2\r\n\r\n", "Content-Length"),
            ("HTTP/1.1 200 OK\r\ncontent-length: 1,\r\n\t1\r\n\r\n", "Content-Length"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n", "Transfer-Encoding"),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err, CodecError::FoldedFraming { field }, "{text:?}");
            assert!(err.to_string().contains(&format!("the {field} value is folded")), "{err}");
        }
        // Folded before or after the value: one value, unambiguous.
        let head = parse("HTTP/1.1 200 OK\r\nContent-Length:\r\n 12\r\n \r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing, BodyFraming::Length(12));
        let head = parse("HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\nContent-Length: 0\r\n\r\n");
        assert!(!head.unwrap().unwrap().keep_alive);
        // Incomplete with a fold: more is needed, not an error.
        assert_eq!(parse("HTTP/1.1 200 OK\r\nX-A: a\r\n b"), Ok(None));
        assert_eq!(parse("HTTP/1.1 200 OK\r\nX-A: a\r\n"), Ok(None));
    }

    /// RFC 9110 §2.5: `HTTP/1.2` was "not an HTTP/1.x response"; it is read as HTTP/1.1. Another
    /// major version is named; a version of two digits is no version.
    #[test]
    fn a_later_minor_version_is_read_as_1_1_and_another_major_is_named() {
        let head = parse("HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap().unwrap();
        assert_eq!(
            (head.status, head.minor_version, head.framing, head.keep_alive),
            (200, 1, BodyFraming::Length(2), true)
        );
        assert_eq!(parse("HTTP/1.9 204\r\n\r\n").unwrap().unwrap().status, 204);
        for partial in ["HTTP/1.2", "HTTP/1.2 ", "HTTP/1.2 200 OK\r\n", "HTTP/2.0"] {
            assert_eq!(parse(partial), Ok(None), "{partial:?}: more is needed");
        }
        let err = parse("HTTP/2.0 200 OK\r\n\r\n").unwrap_err();
        assert_eq!(err, CodecError::OtherVersion { major: 2, minor: 0 });
        assert!(err.to_string().contains("the server answered in HTTP/2.0"), "{err}");
        let tls_alert = b"\x15\x03\x03\x00\x02\x02\x46";
        assert_eq!(parse_response_head(tls_alert, &Limits::DEFAULT, false), Err(CodecError::TlsAnswer));
        assert_eq!(parse_response_head(b"\x15", &Limits::DEFAULT, false), Ok(None), "more is needed");
        assert!(CodecError::TlsAnswer.to_string().contains("use https://"));
        for bad in ["HTTP/1.10 200 OK\r\n\r\n", "HTTP/2 200 OK\r\n\r\n", "HTTP/x.1 200\r\n\r\n", "HTTP/1.1x200\r\n\r\n"]
        {
            assert!(matches!(parse(bad), Err(CodecError::Malformed { .. })), "{bad:?}: {:?}", parse(bad));
        }
    }

    /// RFC 9110 §8.6: a `204` carries no `Content-Length` (nor a transfer coding, RFC 9112 §6.1):
    /// one that does may send a body after all, so its connection is not used again.
    #[test]
    fn a_no_content_head_that_frames_a_body_ends_its_connection() {
        for (fields, keep_alive) in [
            ("", true),
            ("Content-Length: 0\r\n", true),
            ("Content-Length: 5\r\n", false),
            ("Transfer-Encoding: chunked\r\n", false),
        ] {
            let head = parse(&format!("HTTP/1.1 204 No Content\r\n{fields}\r\n")).unwrap().unwrap();
            assert_eq!((head.framing, head.keep_alive), (BodyFraming::Empty, keep_alive), "{fields:?}");
        }
        let head = parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n").unwrap().unwrap();
        assert!(head.keep_alive, "a 304's length is the 200's: no body is implied");
    }

    #[test]
    fn find_header_skips_interim() {
        let head = b"HTTP/1.1 100 Continue\r\nX-A: no\r\n\r\nHTTP/1.1 200 OK\r\nX-A: yes\r\n\r\n";
        assert_eq!(find_header(head, "x-a"), Some(&b"yes"[..]));
        assert_eq!(find_header(head, "x-b"), None);
    }
}
