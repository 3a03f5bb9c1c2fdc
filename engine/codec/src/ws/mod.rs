//! I/O-free WebSocket (RFC 6455) client codec: the opening handshake, frame encoding with
//! client masking, and a message reader that reassembles fragments, validates UTF-8 and
//! enforces the protocol's rules and the size limits.
//!
//! Like the HTTP codec, every function takes bytes and says how many it used, so it is tested by
//! feeding fixtures split at every byte position and fuzzed. The engine's WebSocket client
//! (`mite_core::ws`) moves the bytes.

pub mod error;
pub mod frame;
pub mod handshake;
pub mod limits;
pub mod reader;

pub use error::WsError;
pub use frame::{Opcode, apply_mask, encode_close, encode_frame};
pub use handshake::{Handshake, HandshakeRequest, accept_for, check_handshake, encode_handshake, key_from_nonce};
pub use limits::WsLimits;
pub use reader::{Message, MessageReader};
