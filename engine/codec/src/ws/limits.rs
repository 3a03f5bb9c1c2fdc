//! Bounds on what a WebSocket server may make the client buffer; units in the names.

/// Limits applied while reading a WebSocket connection. Exceeding one is an error, never a hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsLimits {
    /// Largest handshake response head accepted (interim answers before the 101 included), in
    /// bytes: the client passes its `Limits::head_bytes_max`, the limit of any response head.
    pub handshake_bytes_max: usize,
    /// Largest payload of one frame accepted, in bytes.
    pub frame_bytes_max: u64,
    /// Largest message (all fragments together) accepted, in bytes.
    pub message_bytes_max: u64,
    /// Most header fields accepted in one handshake answer head, 1 to
    /// [`crate::limits::HEADERS_COUNT_CEILING`] as `Limits::check` says (any other number is
    /// refused, never capped); the client passes its `headers_count_max`.
    pub headers_count_max: usize,
}

impl WsLimits {
    /// Defaults: as large a handshake head and as many header fields as a response's default
    /// limits (64 KiB, 256), 16 MiB per frame and per message.
    pub const DEFAULT: WsLimits = WsLimits {
        handshake_bytes_max: crate::limits::Limits::DEFAULT.head_bytes_max,
        frame_bytes_max: 16 * 1024 * 1024,
        message_bytes_max: 16 * 1024 * 1024,
        headers_count_max: crate::limits::Limits::DEFAULT.headers_count_max,
    };
}

impl Default for WsLimits {
    fn default() -> Self {
        WsLimits::DEFAULT
    }
}
