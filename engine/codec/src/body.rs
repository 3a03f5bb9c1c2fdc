//! Body decoding: Content-Length, chunked (extensions and trailers skipped), or until close.

use std::ops::Range;

use crate::{BodyFraming, CodecError, Limits};

/// A chunk-size line ended by LF alone. RFC 9112 section 7.1 frames chunks with CRLF; section
/// 2.2's leave to take a bare LF covers the start line and the head's fields only (errata 7633,
/// asking for it in chunked framing, was rejected), and two readers that disagree on where a
/// chunk line ends disagree on where the message ends.
pub const BARE_LF_SIZE: &str =
    "chunk-size line ended by a bare LF (chunked framing takes CRLF only, RFC 9112 section 7.1)";
/// A chunk's data followed by LF alone.
pub const BARE_LF_DATA: &str = "chunk data ended by a bare LF (chunked framing takes CRLF only, RFC 9112 section 7.1)";
/// A trailer line (or the empty line that ends the body) ended by LF alone.
pub const BARE_LF_TRAILER: &str =
    "trailer line ended by a bare LF (chunked framing takes CRLF only, RFC 9112 section 7.1)";

/// One call's worth of progress through a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyStep {
    /// Bytes of the input used by this step; the caller drops them from its buffer.
    pub consumed: usize,
    /// Body bytes found in this step, as a range of the input (always within `..consumed`).
    pub data: Option<Range<usize>>,
    /// The body is complete; bytes after `consumed` belong to the next response.
    pub done: bool,
}

/// Decodes one response body incrementally. Feed it whatever bytes arrived; it never looks
/// past the end of the body.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    state: State,
    body_bytes: u64,
    body_bytes_max: u64,
    line_bytes_max: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Done,
    Length {
        remaining: u64,
    },
    UntilClose,
    /// Hex digits of a chunk size (`digits` of them, at most 255 counted); `line` counts bytes
    /// of the size line so far.
    Size {
        size: u64,
        digits: u8,
        line: usize,
    },
    /// After the size: whitespace and `;extension` up to CR.
    SizeExt {
        size: u64,
        line: usize,
    },
    /// CR of the size line seen, LF expected.
    SizeLf {
        size: u64,
    },
    Data {
        remaining: u64,
    },
    DataCr,
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart {
        total: usize,
    },
    TrailerLine {
        total: usize,
    },
    TrailerLf {
        total: usize,
        empty: bool,
    },
}

impl State {
    /// A state of the chunked framing outside chunk data, stepped a byte at a time.
    fn is_framing(self) -> bool {
        !matches!(self, State::Done | State::Length { .. } | State::UntilClose | State::Data { .. })
    }
}

impl BodyDecoder {
    /// A decoder for a body framed as `framing`.
    pub fn new(framing: BodyFraming, limits: &Limits) -> BodyDecoder {
        let state = match framing {
            BodyFraming::Empty | BodyFraming::Length(0) => State::Done,
            BodyFraming::Length(n) => State::Length { remaining: n },
            BodyFraming::Chunked => State::Size { size: 0, digits: 0, line: 0 },
            BodyFraming::UntilClose => State::UntilClose,
        };
        BodyDecoder {
            state,
            body_bytes: 0,
            body_bytes_max: limits.body_bytes_max,
            line_bytes_max: limits.chunk_line_bytes_max,
        }
    }

    /// True once the whole body has been seen.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Body bytes delivered so far.
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes
    }

    /// Checks a declared length against the body limit before reading it.
    pub fn check_declared(&self) -> Result<(), CodecError> {
        if let State::Length { remaining } = self.state
            && remaining > self.body_bytes_max
        {
            return Err(CodecError::BodyTooLarge { limit_bytes: self.body_bytes_max });
        }
        Ok(())
    }

    /// The server closed the connection: fine for a close-delimited body, an error otherwise.
    pub fn finish_at_eof(&mut self) -> Result<(), CodecError> {
        match self.state {
            State::Done => Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                Ok(())
            }
            State::Length { .. } => Err(CodecError::UnexpectedEof { during: "body" }),
            _ => Err(CodecError::UnexpectedEof { during: "chunked body" }),
        }
    }

    /// The rest of the body at once when the next `available` bytes of input hold all of it
    /// and it is plain bytes (the common case: one read brought the whole response): how many
    /// bytes it is (0 once done), and the decoder is done. `None`, nothing changed, for a body
    /// not all there yet, chunked, delimited by the close, or over the limit: [`Self::decode`]
    /// then. The same outcome as `decode` over those bytes, in a few instructions.
    #[inline]
    pub fn take_whole(&mut self, available: usize) -> Option<usize> {
        match self.state {
            State::Done => Some(0),
            State::Length { remaining }
                if remaining <= available as u64 && self.body_bytes + remaining <= self.body_bytes_max =>
            {
                self.body_bytes += remaining;
                self.state = State::Done;
                Some(remaining as usize)
            }
            _ => None,
        }
    }

    fn take_data(&mut self, available: usize, limit: u64) -> Result<usize, CodecError> {
        let take = (available as u64).min(limit) as usize;
        self.body_bytes += take as u64;
        if self.body_bytes > self.body_bytes_max {
            return Err(CodecError::BodyTooLarge { limit_bytes: self.body_bytes_max });
        }
        Ok(take)
    }

    /// Decodes from `input`, stopping after the first run of body bytes so that the caller can
    /// copy them out. Call again with the rest until `consumed` is 0 or `done` is set.
    pub fn decode(&mut self, input: &[u8]) -> Result<BodyStep, CodecError> {
        let mut at = 0usize;
        loop {
            if self.state == State::Done {
                return Ok(BodyStep { consumed: at, data: None, done: true });
            }
            if at == input.len() {
                return Ok(BodyStep { consumed: at, data: None, done: false });
            }
            match self.state {
                State::Done => unreachable!("handled above"),
                State::Length { remaining } => {
                    let take = self.take_data(input.len() - at, remaining)?;
                    let left = remaining - take as u64;
                    self.state = if left == 0 { State::Done } else { State::Length { remaining: left } };
                    return Ok(BodyStep { consumed: at + take, data: Some(at..at + take), done: left == 0 });
                }
                State::UntilClose => {
                    let take = self.take_data(input.len() - at, u64::MAX)?;
                    return Ok(BodyStep { consumed: at + take, data: Some(at..at + take), done: false });
                }
                State::Data { remaining } => {
                    let take = self.take_data(input.len() - at, remaining)?;
                    let left = remaining - take as u64;
                    self.state = if left == 0 { State::DataCr } else { State::Data { remaining: left } };
                    return Ok(BodyStep { consumed: at + take, data: Some(at..at + take), done: false });
                }
                // A run of framing bytes (a chunk-size line, the CRLF after a chunk, trailers)
                // stepped through in a local state, written back once at its end.
                framing => {
                    let mut state = framing;
                    loop {
                        let (next, used) = self.framing_step(state, &input[at..]);
                        match next {
                            Ok(next) => state = next,
                            Err(err) => {
                                self.state = state;
                                return Err(err);
                            }
                        }
                        at += used;
                        if at == input.len() || !state.is_framing() {
                            break;
                        }
                    }
                    self.state = state;
                }
            }
        }
    }

    /// Advances the chunked framing over the start of `rest` (not empty): the state after it
    /// and the bytes it used. The common lines are taken whole (a chunk-size line of plain hex
    /// digits, the CRLF after a chunk's data), ending in the state the bytes one at a time
    /// would reach; anything else goes a byte at a time.
    #[inline(always)]
    fn framing_step(&self, state: State, rest: &[u8]) -> (Result<State, CodecError>, usize) {
        match state {
            State::Size { size: 0, digits: 0, line: 0 } => {
                if let Some((size, used)) = plain_size_line(rest, self.line_bytes_max) {
                    // The line's LF, as the byte machine takes it (the size's limit checked).
                    return (self.framing_byte(State::SizeLf { size }, b'\n'), used);
                }
            }
            State::DataCr if rest.starts_with(b"\r\n") => return (Ok(State::Size { size: 0, digits: 0, line: 0 }), 2),
            _ => {}
        }
        (self.framing_byte(state, rest[0]), 1)
    }

    /// Advances the chunked framing by one byte outside chunk data.
    #[inline(always)]
    fn framing_byte(&self, state: State, byte: u8) -> Result<State, CodecError> {
        let line_max = self.line_bytes_max;
        let too_long = |line: usize| {
            let what = "chunk-size line";
            if line >= line_max {
                Err(CodecError::ChunkFramingTooLarge { what, limit_bytes: line_max })
            } else {
                Ok(())
            }
        };
        Ok(match state {
            State::Size { size, digits, line } => {
                too_long(line)?;
                if let Some(value) = hex_value(byte) {
                    // Leading zeros are any number of digits (bounded by the line's limit); a
                    // size that needs more than 64 bits is refused.
                    if size > u64::MAX >> 4 {
                        return Err(CodecError::BadChunk { what: "chunk size too large" });
                    }
                    State::Size { size: size * 16 + u64::from(value), digits: digits.saturating_add(1), line: line + 1 }
                } else if digits == 0 {
                    return Err(CodecError::BadChunk { what: "chunk size is not hexadecimal" });
                } else if byte == b'\n' {
                    return Err(CodecError::BadChunk { what: BARE_LF_SIZE });
                } else if byte == b'\r' {
                    State::SizeLf { size }
                } else if byte == b';' || byte == b' ' || byte == b'\t' {
                    State::SizeExt { size, line: line + 1 }
                } else {
                    return Err(CodecError::BadChunk { what: "invalid byte after chunk size" });
                }
            }
            State::SizeExt { size, line } => {
                too_long(line)?;
                match byte {
                    b'\r' => State::SizeLf { size },
                    b'\n' => return Err(CodecError::BadChunk { what: BARE_LF_SIZE }),
                    _ => State::SizeExt { size, line: line + 1 },
                }
            }
            State::SizeLf { size } => {
                if byte != b'\n' {
                    return Err(CodecError::BadChunk { what: "CR without LF in chunk-size line" });
                }
                if size == 0 {
                    State::TrailerStart { total: 0 }
                } else {
                    if self.body_bytes.saturating_add(size) > self.body_bytes_max {
                        return Err(CodecError::BodyTooLarge { limit_bytes: self.body_bytes_max });
                    }
                    State::Data { remaining: size }
                }
            }
            State::DataCr => match byte {
                b'\r' => State::DataLf,
                b'\n' => return Err(CodecError::BadChunk { what: BARE_LF_DATA }),
                _ => return Err(CodecError::BadChunk { what: "chunk data longer than its size (CRLF expected)" }),
            },
            State::DataLf => {
                if byte != b'\n' {
                    return Err(CodecError::BadChunk { what: "CR without LF after chunk data" });
                }
                State::Size { size: 0, digits: 0, line: 0 }
            }
            State::TrailerStart { total } => match byte {
                b'\r' => State::TrailerLf { total: total + 1, empty: true },
                b'\n' => return Err(CodecError::BadChunk { what: BARE_LF_TRAILER }),
                _ => State::TrailerLine { total: total + 1 },
            },
            State::TrailerLine { total } => {
                if total >= line_max {
                    return Err(CodecError::ChunkFramingTooLarge { what: "trailer section", limit_bytes: line_max });
                }
                match byte {
                    b'\r' => State::TrailerLf { total: total + 1, empty: false },
                    b'\n' => return Err(CodecError::BadChunk { what: BARE_LF_TRAILER }),
                    _ => State::TrailerLine { total: total + 1 },
                }
            }
            State::TrailerLf { total, empty } => {
                if byte != b'\n' {
                    return Err(CodecError::BadChunk { what: "CR without LF in trailer section" });
                }
                if empty { State::Done } else { State::TrailerStart { total: total + 1 } }
            }
            State::Done | State::Length { .. } | State::UntilClose | State::Data { .. } => {
                unreachable!("not a framing state")
            }
        })
    }
}

/// A chunk-size line of 1 to 15 hex digits and CRLF (no extension) at the start of `rest`,
/// shorter than `line_max`: the size and the line's length; `None` for any other line, or one
/// not all there (the byte machine reads it then, and says what is wrong with it).
fn plain_size_line(rest: &[u8], line_max: usize) -> Option<(u64, usize)> {
    let digits = rest.iter().take(16).take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 15 || digits >= line_max || rest.get(digits..digits + 2) != Some(b"\r\n") {
        return None;
    }
    let size = rest[..digits].iter().fold(0u64, |size, &b| size * 16 + u64::from(hex_value(b).unwrap_or(0)));
    Some((size, digits + 2))
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes a whole body from `input` in one go (tests and tools): returns the body bytes and
/// how much of `input` the body used, or `Ok(None)` if the input ends before the body does.
pub fn decode_all(framing: BodyFraming, limits: &Limits, input: &[u8]) -> Result<Option<(Vec<u8>, usize)>, CodecError> {
    let mut decoder = BodyDecoder::new(framing, limits);
    decoder.check_declared()?;
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let step = decoder.decode(&input[at..])?;
        if let Some(range) = step.data {
            body.extend_from_slice(&input[at + range.start..at + range.end]);
        }
        at += step.consumed;
        if step.done {
            return Ok(Some((body, at)));
        }
        if step.consumed == 0 || at == input.len() {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(input: &[u8]) -> Result<Option<(Vec<u8>, usize)>, CodecError> {
        decode_all(BodyFraming::Chunked, &Limits::DEFAULT, input)
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let input = b"5;name=value\r\nhello\r\n6 ; x\r\n world\r\n0\r\nExpires: never\r\nX: y\r\n\r\nNEXT";
        let (body, used) = chunked(input).unwrap().unwrap();
        assert_eq!(body, b"hello world");
        assert_eq!(&input[used..], b"NEXT");
    }

    #[test]
    fn chunked_rejects_bad_framing() {
        assert!(chunked(b"zz\r\n").is_err());
        assert!(chunked(b"5\r\nhelloXX").is_err());
        assert!(chunked(b"5\nhello").is_err());
        assert!(chunked(b"fffffffffffffffff\r\n").is_err());
    }

    /// Outside testers: a chunk size with leading zeros past 15 digits (`000…0d`) was "chunk size
    /// too large". RFC 9112 §7.1: `chunk-size = 1*HEXDIG`; only a size past 64 bits is refused.
    #[test]
    fn chunk_sizes_with_leading_zeros_are_read_and_past_64_bits_refused() {
        let zeros = "0".repeat(300);
        let cases = [
            ("D\r\nHello, World!\r\n0\r\n\r\nNEXT".to_string(), &b"Hello, World!"[..]),
            (format!("0000000000000000d\r\nHello, World!\r\n{zeros}\r\n\r\nNEXT"), b"Hello, World!"),
            (format!("{zeros}\r\n\r\nNEXT"), b""),
        ];
        for (input, want) in cases {
            for (body, used) in [chunked(input.as_bytes()), byte_by_byte(&Limits::DEFAULT, input.as_bytes())]
                .map(|read| read.unwrap().unwrap())
            {
                assert_eq!((&body[..], &input.as_bytes()[used..]), (want, &b"NEXT"[..]), "{input:?}");
            }
        }
        let max = decode_all(
            BodyFraming::Chunked,
            &Limits { body_bytes_max: u64::MAX, ..Limits::DEFAULT },
            b"0ffffffffffffffff\r\n",
        );
        assert_eq!(max, Ok(None), "u64::MAX bytes: a size, but the data is not there");
        for over in ["10000000000000000", "00000000000000000000ffffffffffffffff0"] {
            let err = chunked(format!("{over}\r\n").as_bytes());
            assert_eq!(err, Err(CodecError::BadChunk { what: "chunk size too large" }), "{over}");
        }
        assert_eq!(chunked(b"d\nHello, World!\n0\n\n"), Err(CodecError::BadChunk { what: BARE_LF_SIZE }));
    }

    /// RFC 9112 section 7.1: chunked framing's lines end in CRLF; section 2.2's leave to take a
    /// bare LF is for the start line and the head's fields (errata 7633, asking for the same in
    /// chunked framing, was rejected: "supposed to be less forgiving"). A bare LF anywhere in
    /// the framing, or a CR without its LF, is refused and named, whole and a byte at a time.
    /// Before: a bare LF in the trailer section was taken as part of a trailer line, so
    /// `0\r\n\n` read a next answer's head as trailers.
    #[test]
    fn a_bare_lf_or_a_cr_without_lf_anywhere_in_the_framing_is_named() {
        for (input, what) in [
            (&b"5\nhello\r\n0\r\n\r\n"[..], BARE_LF_SIZE),
            (b"5;x=y\nhello\r\n0\r\n\r\n", BARE_LF_SIZE),
            (b"5\r\nhello\n0\r\n\r\n", BARE_LF_DATA),
            (b"5\r\nhello\r\n0\r\nX: 1\n\r\n", BARE_LF_TRAILER),
            (b"5\r\nhello\r\n0\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", BARE_LF_TRAILER),
            (b"5\rhello\r\n0\r\n\r\n", "CR without LF in chunk-size line"),
            (b"5\r\nhello\rX0\r\n\r\n", "CR without LF after chunk data"),
            (b"5\r\nhello\r\n0\r\nX: 1\rY: 2\r\n\r\n", "CR without LF in trailer section"),
            (b"5\r\nhello\r\n0\r\n\rX", "CR without LF in trailer section"),
        ] {
            let want = Err(CodecError::BadChunk { what });
            assert_eq!(chunked(input), want, "{:?}", String::from_utf8_lossy(input));
            assert_eq!(byte_by_byte(&Limits::DEFAULT, input), want, "{:?}", String::from_utf8_lossy(input));
        }
        let said = CodecError::BadChunk { what: BARE_LF_TRAILER }.to_string();
        assert_eq!(
            said,
            "bad chunked encoding: trailer line ended by a bare LF (chunked framing takes CRLF only, RFC 9112 section 7.1)"
        );
    }

    /// A chunk line or trailers past the limit were "bad chunked encoding" (malformed): valid
    /// HTTP, larger than the client keeps, so too large, with the limit named.
    #[test]
    fn chunk_lines_and_trailers_past_the_limit_are_too_large() {
        let limits = Limits { chunk_line_bytes_max: 8, ..Limits::DEFAULT };
        for (input, what) in
            [(&b"5;abcdefgh\r\n"[..], "chunk-size line"), (b"0\r\nX: abcdefgh\r\n\r\n", "trailer section")]
        {
            let err = decode_all(BodyFraming::Chunked, &limits, input).unwrap_err();
            assert_eq!(err, CodecError::ChunkFramingTooLarge { what, limit_bytes: 8 });
            assert!(err.is_too_large() && err.to_string().ends_with(&format!("{what} larger than 8 bytes")), "{err}");
        }
    }

    #[test]
    fn chunk_larger_than_limit_is_refused_before_reading() {
        let limits = Limits { body_bytes_max: 4, ..Limits::DEFAULT };
        assert_eq!(
            decode_all(BodyFraming::Chunked, &limits, b"5\r\n"),
            Err(CodecError::BodyTooLarge { limit_bytes: 4 })
        );
        assert_eq!(decode_all(BodyFraming::Length(5), &limits, b""), Err(CodecError::BodyTooLarge { limit_bytes: 4 }));
    }

    #[test]
    fn length_stops_at_the_end() {
        let (body, used) = decode_all(BodyFraming::Length(3), &Limits::DEFAULT, b"abcdef").unwrap().unwrap();
        assert_eq!((body.as_slice(), used), (&b"abc"[..], 3));
    }

    /// The chunked body in `input` fed to a decoder one byte at a time: the byte machine
    /// alone, none of the whole-line steps (they need more than one byte).
    fn byte_by_byte(limits: &Limits, input: &[u8]) -> Result<Option<(Vec<u8>, usize)>, CodecError> {
        let mut decoder = BodyDecoder::new(BodyFraming::Chunked, limits);
        let mut body = Vec::new();
        for at in 0..input.len() {
            let step = decoder.decode(&input[at..at + 1])?;
            if let Some(range) = step.data {
                body.extend_from_slice(&input[at + range.start..at + range.end]);
            }
            if step.done {
                return Ok(Some((body, at + step.consumed)));
            }
        }
        Ok(None)
    }

    /// Pieces of chunked bodies, right and wrong, to be strung together.
    fn chunked_piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        prop_oneof![
            // A size line: 0 to 17 hex digits (any case), maybe an extension, an ending.
            (
                proptest::collection::vec(proptest::sample::select(&b"0123456789abcdefABCDEFg"[..]), 0..18),
                proptest::sample::select(&["", ";x=y", " ", "\t;a"][..]),
                proptest::sample::select(&["\r\n", "\n", "\r", "\rx", ""][..]),
            )
                .prop_map(|(digits, ext, end)| [&digits[..], ext.as_bytes(), end.as_bytes()].concat()),
            // Data, and what follows a chunk's data.
            proptest::collection::vec(any::<u8>(), 0..20),
            proptest::sample::select(&["\r\n", "\r", "\n", "x\n", "0\r\n\r\n", "0\r\nT: 1\r\n\r\n"][..])
                .prop_map(|s| s.as_bytes().to_vec()),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Issue 15's whole-line steps (a plain chunk-size line, a chunk's CRLF) read any
        /// chunked body as the byte machine does: the same body, end and error.
        #[test]
        fn whole_lines_read_as_byte_by_byte(
            pieces in proptest::collection::vec(chunked_piece(), 0..12),
            line_max in 1usize..24,
            body_max in 0u64..80,
        ) {
            let input = pieces.concat();
            let limits = Limits { chunk_line_bytes_max: line_max, body_bytes_max: body_max, ..Limits::DEFAULT };
            proptest::prop_assert_eq!(
                decode_all(BodyFraming::Chunked, &limits, &input),
                byte_by_byte(&limits, &input),
                "{:?}", String::from_utf8_lossy(&input)
            );
        }

        /// Generated bodies that are right: sizes that match their data, at every limit.
        #[test]
        fn valid_chunked_bodies_read_as_byte_by_byte(
            chunks in proptest::collection::vec((proptest::collection::vec(proptest::prelude::any::<u8>(), 1..40), proptest::prelude::any::<bool>()), 0..6),
            line_max in 1usize..8,
            body_max in 0u64..200,
        ) {
            let mut input = Vec::new();
            for (data, upper) in &chunks {
                let size = if *upper { format!("{:X}", data.len()) } else { format!("{:x}", data.len()) };
                input.extend_from_slice(format!("{size}\r\n").as_bytes());
                input.extend_from_slice(data);
                input.extend_from_slice(b"\r\n");
            }
            input.extend_from_slice(b"0\r\n\r\nNEXT");
            let limits = Limits { chunk_line_bytes_max: line_max, body_bytes_max: body_max, ..Limits::DEFAULT };
            proptest::prop_assert_eq!(decode_all(BodyFraming::Chunked, &limits, &input), byte_by_byte(&limits, &input));
        }

        /// `take_whole` (issue 15's straight path) ends where `decode` ends, with the same body
        /// count, or declines and leaves the decoder as it was: any length, limit and input,
        /// part of the body already read or not.
        #[test]
        fn take_whole_agrees_with_decode(
            length in 0u64..40,
            limit in 0u64..40,
            read_first in 0usize..40,
            available in 0usize..60,
        ) {
            let limits = Limits { body_bytes_max: limit, ..Limits::DEFAULT };
            let input = vec![b'x'; available];
            let mut whole = BodyDecoder::new(BodyFraming::Length(length), &limits);
            // Part of the body read by earlier steps.
            let first = whole.decode(&vec![b'x'; read_first]);
            let mut stepped = whole.clone();
            match whole.take_whole(available) {
                Some(len) => {
                    proptest::prop_assert!(first.is_ok());
                    let step = stepped.decode(&input).unwrap();
                    proptest::prop_assert_eq!((step.consumed, step.done), (len, true));
                    proptest::prop_assert_eq!(step.data.map_or(0, |range| range.len()), len);
                    proptest::prop_assert_eq!(whole.body_bytes(), stepped.body_bytes());
                    proptest::prop_assert!(whole.is_done());
                }
                None => {
                    proptest::prop_assert_eq!(whole.state, stepped.state);
                    proptest::prop_assert_eq!(whole.body_bytes(), stepped.body_bytes());
                    // Declined: the body is not all there (or is over the limit), so decode
                    // does not end it either.
                    let ended = stepped.decode(&input).is_ok_and(|step| step.done);
                    proptest::prop_assert!(!ended);
                }
            }
        }
    }

    #[test]
    fn eof_handling() {
        let mut until_close = BodyDecoder::new(BodyFraming::UntilClose, &Limits::DEFAULT);
        assert!(until_close.finish_at_eof().is_ok());
        let mut short = BodyDecoder::new(BodyFraming::Length(3), &Limits::DEFAULT);
        assert_eq!(short.finish_at_eof(), Err(CodecError::UnexpectedEof { during: "body" }));
        let mut chunk = BodyDecoder::new(BodyFraming::Chunked, &Limits::DEFAULT);
        assert!(chunk.finish_at_eof().is_err());
    }
}
