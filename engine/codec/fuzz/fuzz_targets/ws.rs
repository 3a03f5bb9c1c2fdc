//! Fuzzes the WebSocket codec: any bytes after a valid handshake answer, fed in pieces at a
//! fuzzer-chosen split, must give messages or an error — never a panic — and the same outcome as
//! feeding them whole.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mite_codec::ws::{Message, MessageReader, WsLimits, check_handshake};

const LIMITS: WsLimits =
    WsLimits { handshake_bytes_max: 2048, frame_bytes_max: 4096, message_bytes_max: 8192, headers_count_max: 64 };

fn read(pieces: &[&[u8]], handshake_first: bool) -> (Vec<Message>, Option<String>) {
    let mut buf = BytesMut::new();
    let mut reader = MessageReader::new(LIMITS);
    let mut upgraded = !handshake_first;
    let mut messages = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        if !upgraded {
            match check_handshake(&buf, "dGhlIHNhbXBsZSBub25jZQ==", &["chat"], &LIMITS) {
                Ok(None) => continue,
                Ok(Some(done)) => {
                    let _ = buf.split_to(done.head_len);
                    upgraded = true;
                }
                Err(err) => return (messages, Some(err.to_string())),
            }
        }
        loop {
            match reader.read(&mut buf) {
                Ok(Some(message)) => messages.push(message),
                Ok(None) => break,
                Err(err) => return (messages, Some(err.to_string())),
            }
        }
    }
    (messages, None)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let handshake_first = data[0] & 1 == 1;
    let split = usize::from(data[1]).min(data.len() - 2);
    let rest = &data[2..];
    let whole = read(&[rest], handshake_first);
    let split_up = read(&[&rest[..split], &rest[split..]], handshake_first);
    assert_eq!(whole, split_up);
});
