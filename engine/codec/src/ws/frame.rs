//! WebSocket frame headers (RFC 6455 section 5.2): decoding a server frame's header and encoding
//! client frames, which are always masked.

use bytes::{BufMut, BytesMut};

use super::error::WsError;

/// A frame's opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// A further fragment of the message in progress.
    Continuation,
    /// The first (or only) frame of a UTF-8 text message.
    Text,
    /// The first (or only) frame of a binary message.
    Binary,
    /// Close, with an optional code and reason.
    Close,
    /// Ping; answered by a pong with the same payload.
    Ping,
    /// Pong.
    Pong,
}

impl Opcode {
    /// The opcode's 4-bit value.
    pub fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    fn from_bits(bits: u8) -> Result<Opcode, WsError> {
        Ok(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return Err(WsError::Protocol { what: "reserved opcode" }),
        })
    }

    /// Close, ping and pong are control frames.
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// Largest payload of a control frame.
pub const CONTROL_PAYLOAD_BYTES_MAX: usize = 125;

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Last fragment of its message.
    pub fin: bool,
    /// What the frame carries.
    pub opcode: Opcode,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// Header length in bytes (2 to 10; servers never mask).
    pub header_len: usize,
}

/// What a frame whose length takes more bytes than it needs is refused as.
pub const NOT_MINIMAL_LENGTH: &str =
    "payload length in a longer form than it needs (RFC 6455 section 5.2 requires the shortest)";

/// Decodes the header of a server frame at the start of `buf`; `Ok(None)` when more bytes are
/// needed. Masked frames, reserved bits and opcodes, fragmented or oversized control frames,
/// 64-bit lengths with the top bit set and lengths in a longer form than they need are
/// protocol errors.
pub fn decode_header(buf: &[u8]) -> Result<Option<FrameHeader>, WsError> {
    let [b0, b1, ..] = *buf else { return Ok(None) };
    if b0 & 0x70 != 0 {
        return Err(WsError::Protocol { what: "reserved bits set without a negotiated extension" });
    }
    let fin = b0 & 0x80 != 0;
    let opcode = Opcode::from_bits(b0 & 0x0F)?;
    if b1 & 0x80 != 0 {
        return Err(WsError::Protocol { what: "the server masked a frame" });
    }
    // Known from the second byte: no need to wait for an extended length a control frame may
    // not have.
    if opcode.is_control() && b1 & 0x7F > CONTROL_PAYLOAD_BYTES_MAX as u8 {
        return Err(WsError::Protocol { what: "control frame payload longer than 125 bytes" });
    }
    let (payload_len, header_len) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(len) => (u64::from(u16::from_be_bytes([len[0], len[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(len) => {
                let len = u64::from_be_bytes(len.try_into().expect("eight bytes"));
                if len >> 63 != 0 {
                    return Err(WsError::Protocol { what: "64-bit payload length with the top bit set" });
                }
                (len, 10)
            }
            None => return Ok(None),
        },
        len => (u64::from(len), 2),
    };
    // RFC 6455 section 5.2: "the minimal number of bytes MUST be used to encode the length".
    // A longer form than the length needs is another reading of the same bytes for any peer
    // that takes it: refused, as the top bit is.
    let shortest_form_max = if header_len == 4 { 125 } else { 0xFFFF };
    if header_len > 2 && payload_len <= shortest_form_max {
        return Err(WsError::Protocol { what: NOT_MINIMAL_LENGTH });
    }
    if opcode.is_control() {
        if !fin {
            return Err(WsError::Protocol { what: "fragmented control frame" });
        }
        if payload_len > CONTROL_PAYLOAD_BYTES_MAX as u64 {
            return Err(WsError::Protocol { what: "control frame payload longer than 125 bytes" });
        }
    }
    Ok(Some(FrameHeader { fin, opcode, payload_len, header_len }))
}

/// XORs `data` with the masking key, as if `data` started `offset` bytes into the payload.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let key =
        u32::from_ne_bytes([key[offset % 4], key[(offset + 1) % 4], key[(offset + 2) % 4], key[(offset + 3) % 4]]);
    let mut chunks = data.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let word = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ key;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    let key = key.to_ne_bytes();
    for (byte, k) in chunks.into_remainder().iter_mut().zip(key) {
        *byte ^= k;
    }
}

/// Appends one masked client frame carrying `payload` to `out`.
pub fn encode_frame(out: &mut BytesMut, opcode: Opcode, fin: bool, payload: &[u8], mask: [u8; 4]) {
    out.reserve(payload.len() + 14);
    out.put_u8(if fin { 0x80 } else { 0 } | opcode.bits());
    match payload.len() {
        len @ 0..=125 => out.put_u8(0x80 | len as u8),
        len @ 126..=0xFFFF => {
            out.put_u8(0x80 | 126);
            out.put_u16(len as u16);
        }
        len => {
            out.put_u8(0x80 | 127);
            out.put_u64(len as u64);
        }
    }
    out.put_slice(&mask);
    let start = out.len();
    out.put_slice(payload);
    apply_mask(&mut out[start..], mask, 0);
}

/// Appends a masked close frame with `code` and `reason` (cut to fit a control frame).
pub fn encode_close(out: &mut BytesMut, code: u16, reason: &str, mask: [u8; 4]) {
    let mut cut = reason.len().min(CONTROL_PAYLOAD_BYTES_MAX - 2);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut payload = [0u8; CONTROL_PAYLOAD_BYTES_MAX];
    payload[..2].copy_from_slice(&code.to_be_bytes());
    payload[2..2 + cut].copy_from_slice(&reason.as_bytes()[..cut]);
    encode_frame(out, Opcode::Close, true, &payload[..2 + cut], mask);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_examples_decode() {
        // RFC 6455 section 5.7: an unmasked "Hello", and 256 / 65536 byte binary headers.
        let hello = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let header = decode_header(&hello).unwrap().unwrap();
        assert_eq!((header.fin, header.opcode, header.payload_len, header.header_len), (true, Opcode::Text, 5, 2));
        let header = decode_header(&[0x82, 0x7E, 0x01, 0x00]).unwrap().unwrap();
        assert_eq!((header.payload_len, header.header_len), (256, 4));
        let header = decode_header(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap().unwrap();
        assert_eq!((header.payload_len, header.header_len), (65536, 10));
        assert_eq!(decode_header(&[0x82, 0x7F, 0, 0]).unwrap(), None);
    }

    #[test]
    fn rfc_masked_hello_encodes() {
        // RFC 6455 section 5.7: a masked "Hello" with key 37 fa 21 3d.
        let mut out = BytesMut::new();
        encode_frame(&mut out, Opcode::Text, true, b"Hello", [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(&out[..], &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }

    #[test]
    fn lengths_use_the_right_form() {
        for (len, header) in [(125usize, 6usize), (126, 8), (65535, 8), (65536, 14)] {
            let mut out = BytesMut::new();
            encode_frame(&mut out, Opcode::Binary, true, &vec![7; len], [1, 2, 3, 4]);
            assert_eq!(out.len(), len + header, "{len}");
        }
    }

    #[test]
    fn mask_at_any_offset_matches_bytewise() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        for offset in 0..8 {
            for len in 0..13 {
                let mut data: Vec<u8> = (0..len as u8).collect();
                let expected: Vec<u8> = data.iter().enumerate().map(|(i, b)| b ^ key[(i + offset) % 4]).collect();
                apply_mask(&mut data, key, offset);
                assert_eq!(data, expected, "offset {offset} len {len}");
            }
        }
    }

    #[test]
    fn close_reason_is_cut_on_a_char_boundary() {
        let mut out = BytesMut::new();
        encode_close(&mut out, 1000, &"é".repeat(100), [0; 4]);
        let header = decode_header(&[out[0], out[1] & 0x7F]).unwrap().unwrap();
        assert!(header.payload_len <= 125);
        assert!(std::str::from_utf8(&out[8..]).is_ok());
    }

    /// RFC 6455 section 5.2: a length in a longer form than it needs (a 16-bit length under
    /// 126, a 64-bit one under 65536) fails the connection with 1002; the shortest forms at
    /// each edge are read. Before: every form was read whatever the length.
    #[test]
    fn lengths_in_a_longer_form_than_needed_are_refused() {
        for bytes in [
            &[0x81, 0x7E, 0x00, 0x05][..],
            &[0x82, 0x7E, 0x00, 0x00],
            &[0x82, 0x7E, 0x00, 0x7D],
            &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0x00, 0x05],
            &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0x00, 0x7E],
            &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF],
        ] {
            let err = decode_header(bytes).unwrap_err();
            assert_eq!(err, WsError::Protocol { what: NOT_MINIMAL_LENGTH }, "{bytes:x?}");
            assert_eq!(err.close_code(), 1002);
            assert!(
                err.to_string().starts_with("WebSocket protocol error: payload length in a longer form than it needs")
            );
        }
        for (bytes, len) in [
            (&[0x82, 0x7D][..], 125),
            (&[0x82, 0x7E, 0x00, 0x7E], 126),
            (&[0x82, 0x7E, 0xFF, 0xFF], 65535),
            (&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0], 65536),
        ] {
            assert_eq!(decode_header(bytes).unwrap().unwrap().payload_len, len);
        }
    }

    #[test]
    fn bad_headers_are_protocol_errors() {
        for (bytes, what) in [
            (&[0x91u8, 0x00][..], "reserved bits"),
            (&[0x83, 0x00][..], "reserved opcode"),
            (&[0x81, 0x80, 0, 0, 0, 0][..], "masked"),
            (&[0x09, 0x00][..], "fragmented control"),
            (&[0x89, 0x7E, 0x00, 0x7E][..], "longer than 125"),
            (&[0x8A, 0x7F][..], "longer than 125"),
            (&[0x88, 0x7E][..], "longer than 125"),
            (&[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0][..], "top bit"),
        ] {
            let err = decode_header(bytes).unwrap_err();
            assert!(err.to_string().contains(what), "{err} / {what}");
        }
    }
}
