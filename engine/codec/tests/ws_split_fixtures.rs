//! Every WebSocket fixture (a handshake answer followed by server frames) fed to the codec split
//! at every byte position, in two and three pieces, must give the same messages and the same
//! error as feeding it whole.

use bytes::BytesMut;
use mite_codec::ws::{Message, MessageReader, WsError, WsLimits, accept_for, check_handshake};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// What one run of the codec over a fixture produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    protocol: Option<String>,
    messages: Vec<Message>,
    error: Option<WsError>,
}

fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    match payload.len() {
        len @ 0..=125 => out.push(len as u8),
        len @ 126..=0xFFFF => {
            out.push(126);
            out.extend((len as u16).to_be_bytes());
        }
        len => {
            out.push(127);
            out.extend((len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

fn answer() -> Vec<u8> {
    answer_with("Sec-WebSocket-Protocol: chat\r\n")
}

/// A 101 answer with these extra fields.
fn answer_with(extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        accept_for(KEY)
    )
    .into_bytes()
}

fn fixture(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = answer();
    for f in frames {
        bytes.extend_from_slice(f);
    }
    bytes
}

fn limits() -> WsLimits {
    WsLimits { handshake_bytes_max: 1024, frame_bytes_max: 300, message_bytes_max: 400, ..WsLimits::DEFAULT }
}

/// Feeds `pieces` one after another, as reads from a socket would arrive.
fn run(pieces: &[&[u8]]) -> Outcome {
    let mut buf = BytesMut::new();
    let mut handshake = None;
    let mut reader = MessageReader::new(limits());
    let mut outcome = Outcome { protocol: None, messages: Vec::new(), error: None };
    for piece in pieces {
        buf.extend_from_slice(piece);
        if handshake.is_none() {
            match check_handshake(&buf, KEY, &["chat", "superchat"], &limits()) {
                Ok(None) => continue,
                Ok(Some(done)) => {
                    let _ = buf.split_to(done.head_len);
                    outcome.protocol = done.protocol.clone();
                    handshake = Some(done);
                }
                Err(err) => {
                    outcome.error = Some(err);
                    return outcome;
                }
            }
        }
        loop {
            match reader.read(&mut buf) {
                Ok(Some(message)) => outcome.messages.push(message),
                Ok(None) => break,
                Err(err) => {
                    outcome.error = Some(err);
                    return outcome;
                }
            }
        }
    }
    outcome
}

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let euro = "€".as_bytes();
    let long: Vec<u8> = (0..=255u8).cycle().take(290).collect();
    vec![
        ("text and binary", fixture(&[frame(0x81, b"Hello"), frame(0x82, &[0, 1, 2])])),
        ("16-bit length", fixture(&[frame(0x82, &long)])),
        (
            "fragments with control frames between",
            fixture(&[
                frame(0x01, b"He"),
                frame(0x89, b"ping"),
                frame(0x00, b"ll"),
                frame(0x8A, b""),
                frame(0x80, b"o"),
            ]),
        ),
        (
            "utf-8 split across fragments",
            fixture(&[frame(0x01, &euro[..1]), frame(0x00, &euro[1..2]), frame(0x80, &euro[2..])]),
        ),
        ("close with code and reason", fixture(&[frame(0x81, b"last"), frame(0x88, b"\x03\xe8done")])),
        ("empty close", fixture(&[frame(0x88, b"")])),
        ("invalid utf-8", fixture(&[frame(0x81, b"ok"), frame(0x81, b"\xc3\x28")])),
        ("invalid utf-8 in first fragment", fixture(&[frame(0x01, b"\xff"), frame(0x80, b"x")])),
        ("masked server frame", fixture(&[[0x81, 0x81, 1, 2, 3, 4, b'x' ^ 1].to_vec()])),
        ("frame too large", fixture(&[frame(0x82, &[0; 301])])),
        ("message too large", fixture(&[frame(0x02, &[0; 300]), frame(0x80, &[0; 101])])),
        ("close mid fragment", fixture(&[frame(0x01, b"par"), frame(0x88, b"\x03\xe9")])),
        ("new message mid fragment", fixture(&[frame(0x01, b"par"), frame(0x81, b"x")])),
        ("reserved bits", fixture(&[frame(0xC1, b"x")])),
        ("bad close code", fixture(&[frame(0x88, b"\x03\xee")])),
        (
            "wrong accept",
            b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n".to_vec(),
        ),
        ("not upgraded", b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec()),
        (
            "early hints before the 101",
            [b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n".to_vec(), fixture(&[frame(0x81, b"hi")])].concat(),
        ),
        ("lengths 125 and 126", fixture(&[frame(0x82, &long[..125]), frame(0x82, &long[..126])])),
        ("close with a one-byte payload", fixture(&[frame(0x88, b"\x03")])),
        ("close 1005 on the wire", fixture(&[frame(0x88, b"\x03\xed")])),
        ("close reason not utf-8", fixture(&[frame(0x88, b"\x03\xe8caf\xc3")])),
        ("64-bit length with the top bit set", fixture(&[[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 5].to_vec()])),
        (
            "pings between every fragment",
            fixture(&[frame(0x01, &euro[..2]), frame(0x89, b"1"), frame(0x89, b"2"), frame(0x88, b"")]),
        ),
        ("16-bit length under 126", fixture(&[frame(0x81, b"ok"), [0x81, 0x7E, 0, 2, b'h', b'i'].to_vec()])),
        ("64-bit length under 65536", fixture(&[[&[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x2A][..], &long[..42]].concat()])),
        ("an empty subprotocol field", [answer_with("Sec-WebSocket-Protocol:\r\n"), frame(0x81, b"hi")].concat()),
        ("subprotocol not offered", answer_with("Sec-WebSocket-Protocol: evil\r\n")),
        ("extension not offered", answer_with("Sec-WebSocket-Extensions: permessage-deflate\r\n")),
    ]
}

#[test]
fn every_split_gives_the_whole_outcome() {
    for (name, bytes) in fixtures() {
        let whole = run(&[&bytes]);
        for i in 0..=bytes.len() {
            assert_eq!(run(&[&bytes[..i], &bytes[i..]]), whole, "{name}: split at {i}");
        }
        for i in (0..=bytes.len()).step_by(3) {
            for j in (i..=bytes.len()).step_by(5) {
                assert_eq!(run(&[&bytes[..i], &bytes[i..j], &bytes[j..]]), whole, "{name}: split at {i}, {j}");
            }
        }
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(run(&bytewise), whole, "{name}: byte by byte");
    }
}

#[test]
fn fixtures_give_what_they_say() {
    let outcomes: Vec<(&str, Outcome)> = fixtures().into_iter().map(|(name, bytes)| (name, run(&[&bytes]))).collect();
    let get = |name: &str| &outcomes.iter().find(|(n, _)| *n == name).expect("fixture exists").1;
    assert_eq!(get("text and binary").protocol.as_deref(), Some("chat"));
    assert_eq!(get("text and binary").messages.len(), 2);
    assert_eq!(get("fragments with control frames between").messages.last(), Some(&Message::Text("Hello".into())));
    assert_eq!(get("utf-8 split across fragments").messages, vec![Message::Text("€".into())]);
    assert_eq!(
        get("close with code and reason").messages[1],
        Message::Close { code: Some(1000), reason: "done".into() }
    );
    for (name, error) in [
        ("invalid utf-8", WsError::InvalidUtf8),
        ("invalid utf-8 in first fragment", WsError::InvalidUtf8),
        ("frame too large", WsError::FrameTooLarge { limit_bytes: 300 }),
        ("message too large", WsError::MessageTooLarge { limit_bytes: 400 }),
        ("bad close code", WsError::InvalidCloseCode { code: 1006 }),
        ("not upgraded", WsError::HandshakeStatus { status: 403, reason: "Forbidden".into(), location: None }),
    ] {
        assert_eq!(get(name).error.as_ref(), Some(&error), "{name}");
    }
    for name in ["masked server frame", "reserved bits", "new message mid fragment"] {
        assert!(matches!(get(name).error, Some(WsError::Protocol { .. })), "{name}: {:?}", get(name));
    }
    assert!(matches!(get("wrong accept").error, Some(WsError::HandshakeHeader { .. })));
    let not_minimal = Some(WsError::Protocol { what: mite_codec::ws::frame::NOT_MINIMAL_LENGTH });
    assert_eq!(get("16-bit length under 126").messages, vec![Message::Text("ok".into())]);
    assert_eq!(get("16-bit length under 126").error, not_minimal);
    assert_eq!(
        (get("64-bit length under 65536").messages.len(), &get("64-bit length under 65536").error),
        (0, &not_minimal)
    );
    let empty = get("an empty subprotocol field");
    assert_eq!(
        (empty.protocol.as_deref(), &empty.messages[..], &empty.error),
        (None, &[Message::Text("hi".into())][..], &None)
    );
    assert_eq!(get("early hints before the 101").messages, vec![Message::Text("hi".into())]);
    assert_eq!(get("early hints before the 101").protocol.as_deref(), Some("chat"));
    let lengths: Vec<usize> = get("lengths 125 and 126")
        .messages
        .iter()
        .map(|m| match m {
            Message::Binary(b) => b.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(lengths, [125, 126]);
    for (name, error) in [
        ("close 1005 on the wire", WsError::InvalidCloseCode { code: 1005 }),
        ("close reason not utf-8", WsError::InvalidCloseReason),
        ("subprotocol not offered", WsError::UnofferedProtocol { chosen: "evil".into() }),
        ("extension not offered", WsError::UnofferedExtension { extensions: "permessage-deflate".into() }),
    ] {
        assert_eq!(get(name).error.as_ref(), Some(&error), "{name}");
    }
    for name in ["close with a one-byte payload", "64-bit length with the top bit set"] {
        assert!(matches!(get(name).error, Some(WsError::Protocol { .. })), "{name}: {:?}", get(name));
    }
    // Control frames between fragments are delivered; the message in progress stays open.
    let pings = &get("pings between every fragment").messages;
    assert_eq!(pings[..2], [Message::Ping("1".into()), Message::Ping("2".into())]);
    // A close in the middle of a fragmented message is a control frame: it is delivered, and
    // the client sees that the message never ended.
    assert_eq!(get("close mid fragment").messages, vec![Message::Close { code: Some(1001), reason: String::new() }]);
}

/// Reads `bytes` (frames only) cut at `cuts`, with these limits.
fn read_cut(bytes: &[u8], cuts: &[usize], limits: WsLimits) -> Result<Vec<Message>, WsError> {
    let mut reader = MessageReader::new(limits);
    let (mut buf, mut messages, mut from) = (BytesMut::new(), Vec::new(), 0);
    for &to in cuts.iter().chain([bytes.len()].iter()) {
        buf.extend_from_slice(&bytes[from..to]);
        from = to;
        while let Some(message) = reader.read(&mut buf)? {
            messages.push(message);
        }
    }
    Ok(messages)
}

/// The 16-bit and 64-bit length forms at their edges (65535 the largest 16-bit one, 65536 the
/// smallest 64-bit one), cut at every byte of their headers and around them, and the frame
/// limit at its edge: a frame of exactly the limit is read, one byte more is refused from its
/// header alone.
#[test]
fn extended_lengths_at_their_edges() {
    let mut bytes = Vec::new();
    for len in [65535usize, 65536] {
        bytes.extend(frame(0x82, &vec![7; len]));
    }
    let second = 4 + 65535;
    let cuts: Vec<usize> = (0..=12).chain(second - 2..=second + 12).chain([bytes.len() - 1]).collect();
    for cut in cuts {
        let lengths: Vec<usize> = read_cut(&bytes, &[cut], WsLimits::DEFAULT)
            .unwrap()
            .iter()
            .map(|m| match m {
                Message::Binary(b) => b.len(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(lengths, [65535, 65536], "cut at {cut}");
    }
    let limits = WsLimits { frame_bytes_max: 65536, message_bytes_max: 65536, ..WsLimits::DEFAULT };
    let exact = frame(0x82, &vec![1; 65536]);
    assert_eq!(read_cut(&exact, &[5], limits).unwrap().len(), 1);
    let over = frame(0x82, &vec![1; 65537]);
    assert_eq!(read_cut(&over[..10], &[], limits), Err(WsError::FrameTooLarge { limit_bytes: 65536 }));
}
