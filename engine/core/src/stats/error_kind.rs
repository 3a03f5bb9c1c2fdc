//! Why a request (or a journey) failed: one kind per failure, with the names result files,
//! tables and Prometheus use.

/// Why a request (or a journey) failed. Every failed request lands in exactly one kind; a
/// journey reads it from `HttpError::kind`.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let base = ctx.config().get_or("base", "");
///     match ctx.http().get(&format!("{base}/status/503")).send().await {
///         // A server that is down for maintenance: say so, and end this journey quietly.
///         Err(err) if err.kind() == Some(ErrorKind::Status) => {
///             ctx.send("unavailable", &[("status", &err.status().unwrap_or(0))]);
///             Ok(())
///         }
///         other => other.map(|_| ()).map_err(JourneyError::from),
///     }
/// }
/// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
/// # assert!(record.is_ok(), "{:?}", record.result);
/// # assert_eq!(record.messages[0].fields[0].1, "503");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The target refused the connection.
    Refused,
    /// The connection was reset (or the pipe broke) mid-exchange.
    Reset,
    /// Connect or request timeout.
    Timeout,
    /// TLS handshake or record failure.
    Tls,
    /// Connect failed for another reason (unreachable, address in use, ...).
    Connect,
    /// The response was not valid HTTP/1.x.
    Malformed,
    /// A head, header count or body above the configured limits.
    TooLarge,
    /// The server closed the connection before the response was complete.
    UnexpectedClose,
    /// The response status was not one the request expected.
    Status,
    /// No connection could be had: the per-host connection limit was reached.
    NoConnection,
    /// Other I/O errors.
    Io,
    /// The host name could not be resolved (no such name, no answer, or the lookup timed out).
    Dns,
    /// The URL could not be used (rendered from a template at run time, or given by a journey).
    InvalidUrl,
    /// The request could not be sent as given: a header name that is not a token, a header
    /// value with CR, LF or NUL (typically rendered from data at run time), a JSON body that
    /// does not serialise.
    InvalidRequest,
    /// The request was still in flight when the run stopped.
    Cancelled,
    /// A WebSocket upgrade the server refused or answered wrongly (status, `Accept`, ...).
    WsHandshake,
    /// A WebSocket frame that broke RFC 6455 (masked, reserved bits, bad close code, bad UTF-8).
    WsProtocol,
    /// The server closed the WebSocket (or the connection) while the journey expected more.
    WsClosed,
}

impl ErrorKind {
    /// Every kind, in report order.
    pub const ALL: [ErrorKind; 18] = [
        ErrorKind::Refused,
        ErrorKind::Reset,
        ErrorKind::Timeout,
        ErrorKind::Tls,
        ErrorKind::Connect,
        ErrorKind::Malformed,
        ErrorKind::TooLarge,
        ErrorKind::UnexpectedClose,
        ErrorKind::Status,
        ErrorKind::NoConnection,
        ErrorKind::Io,
        ErrorKind::Dns,
        ErrorKind::InvalidUrl,
        ErrorKind::InvalidRequest,
        ErrorKind::Cancelled,
        ErrorKind::WsHandshake,
        ErrorKind::WsProtocol,
        ErrorKind::WsClosed,
    ];
    /// Number of kinds.
    pub const COUNT: usize = ErrorKind::ALL.len();

    /// Stable name used in results and Prometheus labels.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// assert_eq!(ErrorKind::Timeout.name(), "timeout");
    /// assert_eq!(ErrorKind::WsClosed.name(), "ws_closed"); // as `errors_by_kind` says it
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Refused => "refused",
            ErrorKind::Reset => "reset",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Tls => "tls",
            ErrorKind::Connect => "connect",
            ErrorKind::Malformed => "malformed",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::UnexpectedClose => "unexpected_close",
            ErrorKind::Status => "status",
            ErrorKind::NoConnection => "no_connection",
            ErrorKind::Io => "io",
            ErrorKind::Dns => "dns",
            ErrorKind::InvalidUrl => "invalid_url",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::WsHandshake => "ws_handshake",
            ErrorKind::WsProtocol => "ws_protocol",
            ErrorKind::WsClosed => "ws_closed",
        }
    }

    /// The kind with this name.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// assert_eq!(ErrorKind::from_name("refused"), Some(ErrorKind::Refused));
    /// assert_eq!(ErrorKind::from_name("Refused"), None); // names are lower case
    /// ```
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Position in [`ErrorKind::ALL`] (and in per-kind counter arrays).
    #[doc(hidden)]
    pub fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(kind.name()), Some(kind));
            assert_eq!(ErrorKind::ALL[kind.index()], kind);
        }
    }
}
