//! The WebSocket codec's error enum: each variant says what the server did wrong, and maps to
//! the close code the client sends before giving up (RFC 6455 section 7.4.1).

use std::fmt;

/// A handshake answer or a frame the client refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsError {
    /// The handshake response was not HTTP/1.1 (`what`: httparse's reason or ours).
    HandshakeMalformed { what: &'static str },
    /// The handshake response head grew past `WsLimits::handshake_bytes_max`.
    HandshakeTooLarge { limit_bytes: usize },
    /// The handshake response has more header fields than `WsLimits::headers_count_max`.
    HandshakeTooManyHeaders { limit: usize },
    /// The server answered the upgrade with a final status, not 101: its status, reason phrase
    /// and (a redirect's) `Location`, each cut to a few hundred bytes.
    HandshakeStatus { status: u16, reason: String, location: Option<String> },
    /// A 101 answer whose headers do not complete the upgrade (`what` names the header).
    HandshakeHeader { what: &'static str },
    /// The 101 answer chose a subprotocol the client did not offer (or more than one).
    UnofferedProtocol { chosen: String },
    /// The 101 answer chose an extension (`permessage-deflate`...); the client offers none.
    UnofferedExtension { extensions: String },
    /// The limits the handshake was read under cannot be applied as given (`Limits::check`'s
    /// rule on the header-field limit): the client's mistake, not the server's.
    Limits(crate::limits::LimitsError),
    /// A frame broke the framing rules (`what` names the rule).
    Protocol { what: &'static str },
    /// A close frame carried a code that may not be sent on the wire.
    InvalidCloseCode { code: u16 },
    /// A text message was not valid UTF-8.
    InvalidUtf8,
    /// A close frame's reason was not valid UTF-8.
    InvalidCloseReason,
    /// One frame's payload is larger than `WsLimits::frame_bytes_max`.
    FrameTooLarge { limit_bytes: u64 },
    /// A message's fragments add up to more than `WsLimits::message_bytes_max`.
    MessageTooLarge { limit_bytes: u64 },
}

impl WsError {
    /// The close code the client sends when it fails the connection for this error.
    pub fn close_code(&self) -> u16 {
        match self {
            WsError::InvalidUtf8 | WsError::InvalidCloseReason => 1007,
            WsError::FrameTooLarge { .. } | WsError::MessageTooLarge { .. } => 1009,
            _ => 1002,
        }
    }

    /// True for errors of the opening handshake (before any frame).
    pub fn is_handshake(&self) -> bool {
        matches!(
            self,
            WsError::HandshakeMalformed { .. }
                | WsError::HandshakeTooLarge { .. }
                | WsError::HandshakeTooManyHeaders { .. }
                | WsError::HandshakeStatus { .. }
                | WsError::HandshakeHeader { .. }
                | WsError::UnofferedProtocol { .. }
                | WsError::UnofferedExtension { .. }
                | WsError::Limits(_)
        )
    }

    /// True for size-limit errors.
    pub fn is_too_large(&self) -> bool {
        matches!(self, WsError::FrameTooLarge { .. } | WsError::MessageTooLarge { .. })
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WsError::HandshakeMalformed { what } => write!(f, "malformed WebSocket handshake response: {what}"),
            WsError::HandshakeTooLarge { limit_bytes } => {
                write!(
                    f,
                    "WebSocket handshake response head larger than {limit_bytes} {} (the client's limit on any \
                     response head: raise it with --max-head-bytes or [client] max_head_bytes, up to 16MiB)",
                    crate::limits::bytes_word(*limit_bytes)
                )
            }
            WsError::HandshakeTooManyHeaders { limit } => write!(
                f,
                "WebSocket handshake response has more than {} (the client's limit: raise it \
                 with --max-headers or [client] max_headers, up to {})",
                crate::limits::HeaderFields(*limit),
                crate::limits::HEADERS_COUNT_CEILING
            ),
            WsError::HandshakeStatus { status, reason, location } => {
                write!(f, "WebSocket handshake answered {status}")?;
                if !reason.is_empty() {
                    write!(f, " {reason}")?;
                }
                write!(f, ", expected 101 Switching Protocols")?;
                match location {
                    Some(location) => write!(f, " (a redirect to {location:?}: a WebSocket upgrade is not redirected)"),
                    None => Ok(()),
                }
            }
            WsError::HandshakeHeader { what } => write!(f, "WebSocket handshake refused: {what}"),
            WsError::UnofferedProtocol { chosen } => {
                write!(
                    f,
                    "WebSocket handshake refused: the server chose subprotocol {chosen:?}, which the client did not offer"
                )
            }
            WsError::UnofferedExtension { extensions } => write!(
                f,
                "WebSocket handshake refused: the server chose extension {extensions:?}, which the client did not offer"
            ),
            WsError::Limits(err) => write!(f, "WebSocket handshake answer not read: {err}"),
            WsError::Protocol { what } => write!(f, "WebSocket protocol error: {what}"),
            WsError::InvalidCloseCode { code } => {
                write!(f, "WebSocket protocol error: close code {code} is not allowed")
            }
            WsError::InvalidUtf8 => write!(f, "WebSocket text is not valid UTF-8"),
            WsError::InvalidCloseReason => {
                write!(f, "WebSocket protocol error: the close frame's reason is not valid UTF-8")
            }
            WsError::FrameTooLarge { limit_bytes } => write!(f, "WebSocket frame larger than {limit_bytes} bytes"),
            WsError::MessageTooLarge { limit_bytes } => write!(f, "WebSocket message larger than {limit_bytes} bytes"),
        }
    }
}

impl std::error::Error for WsError {}
