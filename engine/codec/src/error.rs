//! The codec's error enum: each variant says what was wrong with the bytes the server sent.

use std::fmt;

/// A response the codec refuses. Each maps to one error kind in the engine's results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The head did not parse as HTTP/1.x (`what` is httparse's reason or ours).
    Malformed { what: &'static str },
    /// The head grew past `Limits::head_bytes_max` without ending.
    HeadTooLarge { limit_bytes: usize },
    /// More header fields than `Limits::headers_count_max`.
    TooManyHeaders { limit: usize },
    /// More `1xx` interim responses than `INTERIM_RESPONSES_MAX` before the final one.
    TooManyInterim { limit: u16 },
    /// A `Content-Length` value that is not a decimal number.
    InvalidContentLength,
    /// Two `Content-Length` headers with different values.
    ConflictingContentLength,
    /// The body is larger than `Limits::body_bytes_max`.
    BodyTooLarge { limit_bytes: u64 },
    /// A chunk-size line, chunk terminator or trailer was not valid.
    BadChunk { what: &'static str },
    /// A chunk-size line (with its extensions) or the trailer section grew past
    /// `Limits::chunk_line_bytes_max`: valid HTTP, larger than the client keeps.
    ChunkFramingTooLarge { what: &'static str, limit_bytes: usize },
    /// The server closed the connection before the response was complete.
    UnexpectedEof { during: &'static str },
    /// The server answered in TLS (a TLS record where a status line should be): an https port.
    TlsAnswer,
    /// A status line in another major version of HTTP (`HTTP/2.0`): not HTTP/1.x at all.
    OtherVersion { major: u8, minor: u8 },
    /// The limits the parse was asked under cannot be applied as given (`Limits::check`): a
    /// caller's mistake, said at the first parse rather than capped.
    Limits(crate::limits::LimitsError),
    /// A field that frames the body (`Content-Length`, `Transfer-Encoding`) folded over lines
    /// inside its value (obs-fold): where the body ends would be a guess.
    FoldedFraming { field: &'static str },
    /// A field value with a control character (RFC 9110 §5.5: invalid; CR, LF and NUL
    /// dangerous): the field is named (its first bytes) with the byte.
    ControlInValue { field: crate::head::FieldNameShort, byte: u8 },
}

impl CodecError {
    /// True when the error is about size limits rather than syntax.
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            CodecError::HeadTooLarge { .. }
                | CodecError::TooManyHeaders { .. }
                | CodecError::TooManyInterim { .. }
                | CodecError::BodyTooLarge { .. }
                | CodecError::ChunkFramingTooLarge { .. }
        )
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::Malformed { what } => write!(f, "malformed response head: {what}"),
            CodecError::HeadTooLarge { limit_bytes } => {
                write!(
                    f,
                    "response head larger than {limit_bytes} {} (the client's limit: raise it with --max-head-bytes or [client] max_head_bytes, up to 16MiB)",
                    crate::limits::bytes_word(*limit_bytes)
                )
            }
            CodecError::TooManyHeaders { limit } => write!(
                f,
                "response has more than {} (the client's limit: raise it with \
                 --max-headers or [client] max_headers, up to {})",
                crate::limits::HeaderFields(*limit),
                crate::limits::HEADERS_COUNT_CEILING
            ),
            CodecError::TooManyInterim { limit } => {
                write!(f, "more than {limit} interim (1xx) responses before the final one")
            }
            CodecError::InvalidContentLength => write!(f, "invalid Content-Length value"),
            CodecError::ConflictingContentLength => {
                write!(f, "conflicting Content-Length headers")
            }
            CodecError::BodyTooLarge { limit_bytes } => {
                write!(f, "response body larger than {limit_bytes} bytes")
            }
            CodecError::BadChunk { what } => write!(f, "bad chunked encoding: {what}"),
            CodecError::ChunkFramingTooLarge { what, limit_bytes } => {
                write!(f, "chunked response's {what} larger than {limit_bytes} bytes")
            }
            CodecError::UnexpectedEof { during } => {
                write!(f, "server closed the connection during {during}")
            }
            CodecError::TlsAnswer => {
                write!(f, "malformed response head: the server answered in TLS (an https port? use https:// for it)")
            }
            CodecError::OtherVersion { major, minor } => write!(
                f,
                "malformed response head: the server answered in HTTP/{major}.{minor}, and this client speaks HTTP/1.1"
            ),
            CodecError::Limits(err) => write!(f, "response not parsed: {err}"),
            CodecError::FoldedFraming { field } => write!(
                f,
                "malformed response head: the {field} value is folded over two lines (obs-fold), so where the body ends is ambiguous"
            ),
            CodecError::ControlInValue { field, byte } => write!(
                f,
                "malformed response head: the {field} field's value has a control character (byte 0x{byte:02X}), which RFC 9110 §5.5 makes invalid"
            ),
        }
    }
}

impl std::error::Error for CodecError {}
