//! I/O-free HTTP/1.1 client codec: this crate owns the bytes on the wire, never a socket.
//!
//! The split follows hyper's `proto/h1`: [`encode`] writes a request into a reusable buffer,
//! [`head`] parses a response head (skipping `1xx` interim responses) and decides how the body is
//! framed, and [`body`] decodes that body (`Content-Length`, chunked with extensions and trailers,
//! or delimited by the server closing). Every function takes bytes and returns how many it used,
//! so the codec is tested by feeding fixtures split at every byte position. [`ws`] is the
//! WebSocket (RFC 6455) client codec, built the same way.
#![forbid(unsafe_code)] // nothing here needs it: the workspace denies it, this crate refuses it outright

pub mod body;
pub mod encode;
pub mod error;
pub mod head;
pub mod limits;
pub mod response;
pub mod ws;

pub use body::{BodyDecoder, BodyStep};
pub use encode::{RequestHead, asks_close, decimal, encode_request};
pub use error::CodecError;
pub use head::{BodyFraming, ResponseHead, parse_response_head};
pub use limits::Limits;
pub use response::{ReadProgress, ResponseReader};
