//! Reads server frames into messages: reassembles fragments, validates text as UTF-8 as it
//! arrives (a bad byte fails at the fragment that carries it), checks close frames, and
//! enforces the frame and message size limits before buffering a payload.

use bytes::{Buf, Bytes, BytesMut};

use super::error::WsError;
use super::frame::{FrameHeader, Opcode, decode_header};
use super::limits::WsLimits;

/// One thing the server sent: a whole data message or a control frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message; the bytes are valid UTF-8.
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping; the client answers with a pong carrying the same payload.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The server's close frame: its code (none when the frame was empty) and reason.
    Close { code: Option<u16>, reason: String },
}

/// Turns the bytes of a server's frames into [`Message`]s.
#[derive(Debug)]
pub struct MessageReader {
    limits: WsLimits,
    /// The data message in progress (fragmented), and its kind.
    partial: Option<Opcode>,
    message: BytesMut,
    /// Bytes of `message` already known to be valid UTF-8 (text only).
    utf8_checked: usize,
}

impl MessageReader {
    /// A reader with these limits.
    pub fn new(limits: WsLimits) -> MessageReader {
        MessageReader { limits, partial: None, message: BytesMut::new(), utf8_checked: 0 }
    }

    /// True while a fragmented message has started but not ended.
    pub fn in_message(&self) -> bool {
        self.partial.is_some()
    }

    /// Takes complete frames from the front of `buf` until one completes a message (or is a
    /// control frame); `Ok(None)` when `buf` holds no complete frame more.
    pub fn read(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, WsError> {
        loop {
            let Some(header) = decode_header(buf)? else { return Ok(None) };
            self.check(&header)?;
            let total = header.header_len as u64 + header.payload_len;
            if (buf.len() as u64) < total {
                return Ok(None);
            }
            buf.advance(header.header_len);
            let payload = buf.split_to(header.payload_len as usize);
            if let Some(message) = self.frame(header, payload)? {
                return Ok(Some(message));
            }
        }
    }

    /// Checks a header against the message in progress and the limits, before its payload is
    /// buffered.
    fn check(&self, header: &FrameHeader) -> Result<(), WsError> {
        if header.payload_len > self.limits.frame_bytes_max {
            return Err(WsError::FrameTooLarge { limit_bytes: self.limits.frame_bytes_max });
        }
        match header.opcode {
            Opcode::Text | Opcode::Binary if self.partial.is_some() => {
                Err(WsError::Protocol { what: "a new message started before the fragmented one ended" })
            }
            Opcode::Continuation if self.partial.is_none() => {
                Err(WsError::Protocol { what: "continuation frame without a message in progress" })
            }
            Opcode::Continuation | Opcode::Text | Opcode::Binary
                if self.message.len() as u64 + header.payload_len > self.limits.message_bytes_max =>
            {
                Err(WsError::MessageTooLarge { limit_bytes: self.limits.message_bytes_max })
            }
            _ => Ok(()),
        }
    }

    fn frame(&mut self, header: FrameHeader, payload: BytesMut) -> Result<Option<Message>, WsError> {
        let payload = payload.freeze();
        match header.opcode {
            Opcode::Ping => Ok(Some(Message::Ping(payload))),
            Opcode::Pong => Ok(Some(Message::Pong(payload))),
            Opcode::Close => close_message(&payload).map(Some),
            Opcode::Text | Opcode::Binary if header.fin => {
                if header.opcode == Opcode::Text && std::str::from_utf8(&payload).is_err() {
                    return Err(WsError::InvalidUtf8);
                }
                Ok(Some(data_message(header.opcode, payload)))
            }
            opcode @ (Opcode::Text | Opcode::Binary) => {
                self.partial = Some(opcode);
                self.append(&payload, false)?;
                Ok(None)
            }
            Opcode::Continuation => {
                self.append(&payload, header.fin)?;
                if !header.fin {
                    return Ok(None);
                }
                let opcode = self.partial.take().expect("checked: a message is in progress");
                self.utf8_checked = 0;
                Ok(Some(data_message(opcode, self.message.split().freeze())))
            }
        }
    }

    /// Adds a fragment to the message in progress, validating text as far as it is complete.
    fn append(&mut self, fragment: &[u8], last: bool) -> Result<(), WsError> {
        self.message.extend_from_slice(fragment);
        if self.partial != Some(Opcode::Text) {
            return Ok(());
        }
        match std::str::from_utf8(&self.message[self.utf8_checked..]) {
            Ok(_) => self.utf8_checked = self.message.len(),
            // A character cut at the end of a fragment may be completed by the next one.
            Err(err) if err.error_len().is_none() && !last => self.utf8_checked += err.valid_up_to(),
            Err(_) => return Err(WsError::InvalidUtf8),
        }
        Ok(())
    }
}

fn data_message(opcode: Opcode, payload: Bytes) -> Message {
    if opcode == Opcode::Text { Message::Text(payload) } else { Message::Binary(payload) }
}

/// Parses a close frame's payload: empty, or a code and a UTF-8 reason (RFC 6455 5.5.1, 7.4).
fn close_message(payload: &[u8]) -> Result<Message, WsError> {
    match payload {
        [] => Ok(Message::Close { code: None, reason: String::new() }),
        [_] => Err(WsError::Protocol { what: "close frame with a one-byte payload" }),
        [high, low, reason @ ..] => {
            let code = u16::from_be_bytes([*high, *low]);
            if !close_code_allowed(code) {
                return Err(WsError::InvalidCloseCode { code });
            }
            let reason = std::str::from_utf8(reason).map_err(|_| WsError::InvalidCloseReason)?;
            Ok(Message::Close { code: Some(code), reason: reason.to_string() })
        }
    }
}

/// Codes a peer may put on the wire: the defined ones (not 1004-1006 or 1015, which are
/// reserved or only reported locally) and the registered and private ranges.
pub fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mut out = vec![first, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    fn read_all(bytes: &[u8], limits: WsLimits) -> Vec<Result<Message, WsError>> {
        let mut reader = MessageReader::new(limits);
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        loop {
            match reader.read(&mut buf) {
                Ok(Some(message)) => out.push(Ok(message)),
                Ok(None) => return out,
                Err(err) => {
                    out.push(Err(err));
                    return out;
                }
            }
        }
    }

    #[test]
    fn fragments_with_a_ping_between() {
        let mut bytes = frame(0x01, b"Hel");
        bytes.extend(frame(0x89, b"p"));
        bytes.extend(frame(0x80, b"lo"));
        let got = read_all(&bytes, WsLimits::DEFAULT);
        assert_eq!(
            got,
            vec![Ok(Message::Ping(Bytes::from_static(b"p"))), Ok(Message::Text(Bytes::from_static(b"Hello")))]
        );
    }

    #[test]
    fn utf8_split_across_fragments_is_fine_and_bad_bytes_fail_early() {
        let euro = "€".as_bytes();
        let mut bytes = frame(0x01, &euro[..1]);
        bytes.extend(frame(0x80, &euro[1..]));
        assert_eq!(read_all(&bytes, WsLimits::DEFAULT), vec![Ok(Message::Text(Bytes::from_static(euro)))]);
        // The first fragment already holds an invalid byte: fail without waiting for the rest.
        let got = read_all(&frame(0x01, b"ok\xff"), WsLimits::DEFAULT);
        assert_eq!(got, vec![Err(WsError::InvalidUtf8)]);
        // A character cut at the final fragment is invalid.
        let got = read_all(&frame(0x81, &euro[..2]), WsLimits::DEFAULT);
        assert_eq!(got, vec![Err(WsError::InvalidUtf8)]);
    }

    #[test]
    fn limits_apply_before_the_payload_arrives() {
        let limits = WsLimits { frame_bytes_max: 10, message_bytes_max: 15, ..WsLimits::DEFAULT };
        // Only the header of a 1 MiB frame: refused at once.
        let got = read_all(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0x10, 0, 0], limits);
        assert_eq!(got, vec![Err(WsError::FrameTooLarge { limit_bytes: 10 })]);
        let mut bytes = frame(0x02, &[0; 10]);
        bytes.extend(frame(0x80, &[0; 6]));
        assert_eq!(read_all(&bytes, limits), vec![Err(WsError::MessageTooLarge { limit_bytes: 15 })]);
    }

    #[test]
    fn close_frames() {
        let got = read_all(&frame(0x88, b"\x03\xe8bye"), WsLimits::DEFAULT);
        assert_eq!(got, vec![Ok(Message::Close { code: Some(1000), reason: "bye".into() })]);
        assert_eq!(
            read_all(&frame(0x88, b""), WsLimits::DEFAULT),
            vec![Ok(Message::Close { code: None, reason: String::new() })]
        );
        assert_eq!(
            read_all(&frame(0x88, b"\x03\xed"), WsLimits::DEFAULT),
            vec![Err(WsError::InvalidCloseCode { code: 1005 })]
        );
        assert!(matches!(read_all(&frame(0x88, b"\x03"), WsLimits::DEFAULT)[0], Err(WsError::Protocol { .. })));
        assert_eq!(read_all(&frame(0x88, b"\x03\xe8\xff"), WsLimits::DEFAULT), vec![Err(WsError::InvalidCloseReason)]);
    }

    #[test]
    fn sequence_errors() {
        let mut bytes = frame(0x01, b"a");
        bytes.extend(frame(0x81, b"b"));
        assert!(matches!(read_all(&bytes, WsLimits::DEFAULT)[0], Err(WsError::Protocol { .. })));
        assert!(matches!(read_all(&frame(0x80, b"x"), WsLimits::DEFAULT)[0], Err(WsError::Protocol { .. })));
    }

    #[test]
    fn allowed_close_codes() {
        for code in [1000, 1001, 1002, 1003, 1007, 1011, 3000, 4999] {
            assert!(close_code_allowed(code), "{code}");
        }
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            assert!(!close_code_allowed(code), "{code}");
        }
    }
}
