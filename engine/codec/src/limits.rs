//! Limits on what a response may make the client buffer; one place, units in the names.

use std::fmt;

/// Bounds applied while parsing a response. Exceeding any of them is an error, never a hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest response head (status line + headers + blank line) accepted, in bytes: 1 to
    /// [`HEAD_BYTES_CEILING`]; a parse under any other size is refused ([`Limits::check`]).
    pub head_bytes_max: usize,
    /// Most header fields accepted in one response head: 1 to [`HEADERS_COUNT_CEILING`]; a
    /// parse under any other number is refused ([`Limits::check`]), never capped.
    pub headers_count_max: usize,
    /// Largest response body accepted, in bytes (after de-chunking).
    pub body_bytes_max: u64,
    /// Largest chunk-size line (size, extensions, CRLF) or trailer section, in bytes.
    pub chunk_line_bytes_max: usize,
}

impl Limits {
    /// Defaults sized for load testing ordinary web services.
    pub const DEFAULT: Limits = Limits {
        head_bytes_max: 64 * 1024,
        headers_count_max: 256,
        body_bytes_max: 64 * 1024 * 1024,
        chunk_line_bytes_max: 4 * 1024,
    };

    /// Whether the parser can apply these limits as given: the one rule, which every parse
    /// (an HTTP head's, a WebSocket handshake's) and the engine's run and journey test apply.
    pub const fn check(&self) -> Result<(), LimitsError> {
        let asked = self.headers_count_max;
        if asked == 0 || asked > HEADERS_COUNT_CEILING {
            return Err(LimitsError::HeadersCount { asked });
        }
        let asked = self.head_bytes_max;
        if asked == 0 || asked > HEAD_BYTES_CEILING {
            return Err(LimitsError::HeadBytes { asked });
        }
        Ok(())
    }
}

/// Limits the parser cannot apply as given (see [`Limits::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitsError {
    /// `Limits::headers_count_max` is 0, or more than the parser has slots for
    /// ([`HEADERS_COUNT_CEILING`]).
    HeadersCount {
        /// The limit asked for.
        asked: usize,
    },
    /// `Limits::head_bytes_max` is 0, or more than [`HEAD_BYTES_CEILING`].
    HeadBytes {
        /// The limit asked for, in bytes.
        asked: usize,
    },
}

impl fmt::Display for LimitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitsError::HeadersCount { asked } => write!(
                f,
                "the header-field limit ({asked}, Limits::headers_count_max) must be from 1 to \
                 {HEADERS_COUNT_CEILING} header fields per response"
            ),
            LimitsError::HeadBytes { asked } => write!(
                f,
                "the response-head limit ({asked} bytes, Limits::head_bytes_max) must be from 1 to \
                 {HEAD_BYTES_CEILING} bytes (16 MiB) per response head"
            ),
        }
    }
}

impl std::error::Error for LimitsError {}

/// Most header fields any head may be allowed (the parser's slots on the stack, 32 bytes each).
pub const HEADERS_COUNT_CEILING: usize = 1024;

/// Largest response head any parse may be allowed, in bytes: a connection's read buffer grows
/// to hold the head it reads, so this bounds one connection's buffer for a head.
pub const HEAD_BYTES_CEILING: usize = 16 * 1024 * 1024;

/// "byte" for 1, else "bytes": a limit a user sets may be 1 byte (`--max-head-bytes 1`).
pub fn bytes_word(n: usize) -> &'static str {
    if n == 1 { "byte" } else { "bytes" }
}

/// A header-field count as a user reads it: `one header field` for 1 (`--max-headers 1`), else
/// `N header fields`.
pub struct HeaderFields(pub usize);

impl std::fmt::Display for HeaderFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            1 => f.write_str("one header field"),
            n => write!(f, "{n} header fields"),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header-field limit of 0, or past the parser's slots, is refused with the number asked
    /// and the range, never capped in silence (1,025 read as 1,024 before).
    #[test]
    fn check_refuses_a_header_field_limit_out_of_range() {
        for asked in [1, 256, HEADERS_COUNT_CEILING] {
            assert_eq!(Limits { headers_count_max: asked, ..Limits::DEFAULT }.check(), Ok(()), "{asked}");
        }
        for asked in [0, HEADERS_COUNT_CEILING + 1, usize::MAX] {
            let err = Limits { headers_count_max: asked, ..Limits::DEFAULT }.check().unwrap_err();
            assert_eq!(err, LimitsError::HeadersCount { asked });
            assert_eq!(
                err.to_string(),
                format!(
                    "the header-field limit ({asked}, Limits::headers_count_max) must be from 1 to 1024 header \
                     fields per response"
                )
            );
        }
        assert_eq!(Limits::DEFAULT.check(), Ok(()));
    }

    /// Outside try: `--max-headers 1` said "more than 1 header fields"; a limit of one header
    /// field is said in words, in the singular.
    #[test]
    fn a_one_header_field_limit_is_said_in_words() {
        let said = crate::CodecError::TooManyHeaders { limit: 1 }.to_string();
        assert!(said.starts_with("response has more than one header field (the client's limit"), "{said}");
        let said = crate::ws::WsError::HandshakeTooManyHeaders { limit: 1 }.to_string();
        assert!(said.starts_with("WebSocket handshake response has more than one header field (the"), "{said}");
        let said = crate::CodecError::TooManyHeaders { limit: 2 }.to_string();
        assert!(said.starts_with("response has more than 2 header fields (the client's limit"), "{said}");
    }

    /// A head limit of 1 byte (`--max-head-bytes 1`) is said in the singular.
    #[test]
    fn a_one_byte_head_limit_is_singular() {
        let said = crate::CodecError::HeadTooLarge { limit_bytes: 1 }.to_string();
        assert!(said.starts_with("response head larger than 1 byte (the client's limit"), "{said}");
        let said = crate::ws::WsError::HandshakeTooLarge { limit_bytes: 1 }.to_string();
        assert!(said.starts_with("WebSocket handshake response head larger than 1 byte (the client's"), "{said}");
    }

    /// A response-head limit of 0 bytes, or past 16 MiB, is refused with the size asked and the
    /// range (it could not be raised past 64 KiB, nor was any size checked).
    #[test]
    fn check_refuses_a_head_limit_out_of_range() {
        for asked in [1, 64 * 1024, HEAD_BYTES_CEILING] {
            assert_eq!(Limits { head_bytes_max: asked, ..Limits::DEFAULT }.check(), Ok(()), "{asked}");
        }
        for asked in [0, HEAD_BYTES_CEILING + 1, usize::MAX] {
            let err = Limits { head_bytes_max: asked, ..Limits::DEFAULT }.check().unwrap_err();
            assert_eq!(err, LimitsError::HeadBytes { asked });
            assert_eq!(
                err.to_string(),
                format!(
                    "the response-head limit ({asked} bytes, Limits::head_bytes_max) must be from 1 to 16777216 \
                     bytes (16 MiB) per response head"
                )
            );
        }
    }
}
