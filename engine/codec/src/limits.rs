//! Limits on what a response may make the client buffer; one place, units in the names.

/// Bounds applied while parsing a response. Exceeding any of them is an error, never a hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest response head (status line + headers + blank line) accepted, in bytes.
    pub head_bytes_max: usize,
    /// Most header fields accepted in one response head, at most [`HEADERS_COUNT_CEILING`].
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
}

/// Most header fields any head may be allowed (the parser's slots on the stack, 32 bytes each).
pub const HEADERS_COUNT_CEILING: usize = 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
