//! The targets' WebSocket endpoints, with their own counters: `/ws/echo` (every message sent
//! back), `/ws/broadcast?rate=N&count=M[&ping=1]` (the server pushes M text messages at N per
//! second, each after a ping when asked, then closes), and hostile ones under `/ws/bad/`:
//! `wrong-accept`, `masked`, `oversized`, `invalid-utf8`, `close-mid-fragment`,
//! `no-close-reply`, `silent` (never answers the handshake), `hangup` (ends the stream after
//! the handshake), `cut-frame` (ends it in the middle of a frame; both then read what the
//! client sends until it closes, so the end is never a reset), and what real servers
//! and proxies do that a client must take: `early-hints` (a 103 before the 101), `eager` (a
//! frame in the 101's own write), `empty-protocol` (an empty `Sec-WebSocket-Protocol`, read as
//! none), `fragments` (a character cut across fragments, control frames
//! between them), `sizes` (lengths at the 16/64-bit edges); and must refuse: `status?code=N`,
//! `protocol` (an unoffered subprotocol), `deflate` (an unoffered extension), `rsv1`,
//! `huge-length`, `wide-length-16` and `wide-length-64` (a length in a longer form than it
//! needs), `close-one-byte`, `close-1005`, `close-reason`, `ping-flood[?hangup=1]`
//! (pings without end, never a reply; with `hangup`, gone once the close is answered), `close-while-sending` (a 1001 close after three messages, then gone),
//! `cut-handshake` (half a 101, then the end of the stream), `going-away` (not hostile: a 1001
//! close with the reason `restarting` right after the 101), `tls-alert` (a TLS fatal alert
//! record, as a TLS port answers a plain upgrade, then the end of the stream); and `many-fields?count=N` (a 101
//! with N header fields of its own, then echo), `big-head?bytes=N` (a 101 of N bytes at
//! least, then echo), `trickle` (the 101 and a first frame a byte at a time, then echo).
//!
//! Deliberately a separate, small implementation of RFC 6455's server side: the target checks
//! the engine's codec rather than sharing its bugs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use bytes::{Buf, BytesMut};

/// What the WebSocket endpoints counted, across connections.
#[derive(Debug, Default)]
pub struct WsCounters {
    /// Handshakes answered (any endpoint, hostile ones included).
    pub handshakes: AtomicU64,
    /// Data messages (text or binary) received from clients.
    pub messages_received: AtomicU64,
    /// Data messages sent to clients (echoes and broadcasts).
    pub messages_sent: AtomicU64,
    /// Payload bytes of the data messages received.
    pub bytes_received: AtomicU64,
    /// Payload bytes of the data messages sent.
    pub bytes_sent: AtomicU64,
    /// Close frames received from clients.
    pub closes_received: AtomicU64,
    /// Pings received (answered with pongs except by hostile endpoints).
    pub pings_received: AtomicU64,
    /// Pings sent (by the broadcast endpoint with `ping=1`).
    pub pings_sent: AtomicU64,
    /// Pongs received.
    pub pongs_received: AtomicU64,
    /// Close frames with code 1002 (protocol error) received by the hostile endpoints that
    /// hold their connection after what they sent: the client failing the connection.
    pub protocol_error_closes: AtomicU64,
}

/// A snapshot of [`WsCounters`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WsCounts {
    /// See [`WsCounters::handshakes`].
    pub handshakes: u64,
    /// See [`WsCounters::messages_received`].
    pub messages_received: u64,
    /// See [`WsCounters::messages_sent`].
    pub messages_sent: u64,
    /// See [`WsCounters::bytes_received`].
    pub bytes_received: u64,
    /// See [`WsCounters::bytes_sent`].
    pub bytes_sent: u64,
    /// See [`WsCounters::closes_received`].
    pub closes_received: u64,
    /// See [`WsCounters::pings_received`].
    pub pings_received: u64,
    /// See [`WsCounters::pings_sent`].
    pub pings_sent: u64,
    /// See [`WsCounters::pongs_received`].
    pub pongs_received: u64,
    /// See [`WsCounters::protocol_error_closes`].
    pub protocol_error_closes: u64,
}

impl WsCounters {
    /// The counts now.
    pub fn counts(&self) -> WsCounts {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        WsCounts {
            handshakes: get(&self.handshakes),
            messages_received: get(&self.messages_received),
            messages_sent: get(&self.messages_sent),
            bytes_received: get(&self.bytes_received),
            bytes_sent: get(&self.bytes_sent),
            closes_received: get(&self.closes_received),
            pings_received: get(&self.pings_received),
            pings_sent: get(&self.pings_sent),
            pongs_received: get(&self.pongs_received),
            protocol_error_closes: get(&self.protocol_error_closes),
        }
    }

    fn sent(&self, payload_len: usize) {
        self.messages_sent.fetch_add(1, Ordering::Relaxed);
        self.bytes_sent.fetch_add(payload_len as u64, Ordering::Relaxed);
    }
}

/// The upgrade part of a request: its key and the subprotocols offered.
#[derive(Debug, Clone)]
pub struct Upgrade {
    /// `Sec-WebSocket-Key`.
    pub key: String,
    /// `Sec-WebSocket-Protocol` values offered, in order.
    pub protocols: Vec<String>,
    /// The `Cookie` header, if any.
    pub cookie: Option<String>,
}

/// What a WebSocket path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Send every data message back; answer pings and closes.
    Echo,
    /// Set a cookie (`ws_seen=yes`) in the handshake answer, send the request's `Cookie` header
    /// as the first message, then echo.
    Cookie,
    /// Send the request target as the upgrade carried it (path and query, bytes as received)
    /// as the first message, then echo.
    Target,
    /// Push `count` text messages at `rate` per second (each after a ping when `ping`), then
    /// close with 1000.
    Broadcast { rate: u32, count: u32, ping: bool },
    /// Answer the handshake with a wrong `Sec-WebSocket-Accept`.
    WrongAccept,
    /// Send a masked frame (servers must not).
    Masked,
    /// Announce a 1 GiB frame.
    Oversized,
    /// Send text that is not UTF-8.
    InvalidUtf8,
    /// Start a fragmented message, then close in its middle.
    CloseMidFragment,
    /// Echo, but never answer the client's close.
    NoCloseReply,
    /// Never answer the handshake.
    Silent,
    /// Answer the handshake, then end the stream without a close frame.
    Hangup,
    /// Send the first 10 bytes of a 100-byte text frame, then end the stream.
    CutFrame,
    /// A `103 Early Hints` (with a `Set-Cookie`, which a client ignores) before the 101 (which
    /// sets `ws_seen=yes`), as a CDN in front of the server sends; then echo.
    EarlyHints,
    /// The 101 and a text frame (`early`) in one write, then echo.
    Eager,
    /// `€uro` as three text fragments cut inside the `€`, a ping and a pong between them; then
    /// echo.
    Fragments,
    /// Binary messages of 125, 126, 65535 and 65536 bytes (each byte its index mod 251), then
    /// echo.
    Sizes,
    /// Answer the upgrade with this final status (and a `Location` for a 3xx).
    Status { code: u16 },
    /// A 101 that chooses subprotocol `evil`, whatever was offered.
    UnofferedProtocol,
    /// A 101 that chooses `permessage-deflate`, never offered.
    Deflate,
    /// A text frame with RSV1 set (compressed, as if deflate had been agreed).
    Rsv1,
    /// A 64-bit length with its top bit set.
    HugeLength,
    /// A 2-byte text in the 16-bit length form (RFC 6455 section 5.2: the shortest form only).
    WideLength16,
    /// A 300-byte binary frame in the 64-bit length form.
    WideLength64,
    /// A 101 with an empty `Sec-WebSocket-Protocol` field (some servers' "none"); then echo.
    EmptyProtocol,
    /// A close frame with a one-byte payload.
    CloseOneByte,
    /// A close frame with code 1005, which may not be sent.
    Close1005,
    /// A close frame whose reason is not UTF-8.
    CloseReason,
    /// Pings without end (until the client's close, at most `PING_FLOOD_MAX`), never a data
    /// message; pongs counted until the client hangs up, or (`hang_up`) the connection dropped
    /// as soon as the client's close is answered.
    PingFlood { hang_up: bool },
    /// Read three data messages, then send `bye`, a ping and a close with 1001, and drop the
    /// connection while the client is still sending.
    CloseWhileSending,
    /// A 101 with `count` header fields of its own (`X-Field-N: 1`) besides the handshake's
    /// three; then echo.
    ManyFields { count: u32 },
    /// A 101 whose head is `bytes` long at least (padding fields of up to 1,000 bytes each,
    /// `X-Padding-N`); then echo.
    BigHead { bytes: u32 },
    /// The 101 and a text frame (`early`) written a byte at a time, a pause between bytes (each
    /// its own packet: the client reads the answer cut at every byte); then echo.
    Trickle,
    /// The first half of a 101, then the connection closed.
    CutHandshake,
    /// A normal close, 1001 with the reason `restarting`, right after the 101 (a server going
    /// down for a deploy); then what the client sends is read until it closes.
    GoingAway,
    /// A TLS fatal alert record (`decode_error`) instead of an answer, as a TLS port answers a
    /// plain-text upgrade (`ws://` for a `wss://` server), then the connection closed.
    TlsAlert,
}

/// A TLS 1.2 record holding a fatal `decode_error` alert: what a TLS server writes to a client
/// that spoke plain HTTP to it.
pub const TLS_ALERT_RECORD: [u8; 7] = [21, 3, 3, 0, 2, 2, 50];

/// The endpoint for `path` (with its query), or why there is none.
pub fn endpoint(path: &str) -> Result<Endpoint, &'static str> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let param = |name: &str, default: u32| -> Result<u32, &'static str> {
        match query.split('&').find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('='))) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| "rate, count and code must be whole numbers"),
        }
    };
    Ok(match path {
        "/ws/echo" => Endpoint::Echo,
        "/ws/cookie" => Endpoint::Cookie,
        "/ws/target" => Endpoint::Target,
        "/ws/broadcast" => {
            let rate = param("rate", 10)?;
            let count = param("count", 10)?;
            if !(1..=100_000).contains(&rate) || count > 10_000_000 {
                return Err("rate must be 1..=100000 and count at most 10000000");
            }
            Endpoint::Broadcast { rate, count, ping: param("ping", 0)? == 1 }
        }
        "/ws/bad/wrong-accept" => Endpoint::WrongAccept,
        "/ws/bad/masked" => Endpoint::Masked,
        "/ws/bad/oversized" => Endpoint::Oversized,
        "/ws/bad/invalid-utf8" => Endpoint::InvalidUtf8,
        "/ws/bad/close-mid-fragment" => Endpoint::CloseMidFragment,
        "/ws/bad/no-close-reply" => Endpoint::NoCloseReply,
        "/ws/bad/silent" => Endpoint::Silent,
        "/ws/bad/hangup" => Endpoint::Hangup,
        "/ws/bad/cut-frame" => Endpoint::CutFrame,
        "/ws/bad/early-hints" => Endpoint::EarlyHints,
        "/ws/eager" => Endpoint::Eager,
        "/ws/trickle" => Endpoint::Trickle,
        "/ws/bad/cut-handshake" => Endpoint::CutHandshake,
        "/ws/bad/tls-alert" => Endpoint::TlsAlert,
        "/ws/going-away" => Endpoint::GoingAway,
        "/ws/fragments" => Endpoint::Fragments,
        "/ws/sizes" => Endpoint::Sizes,
        "/ws/bad/status" => match param("code", 200)? {
            code @ 200..=599 => Endpoint::Status { code: code as u16 },
            _ => return Err("code must be a final status, 200..=599"),
        },
        "/ws/bad/protocol" => Endpoint::UnofferedProtocol,
        "/ws/bad/deflate" => Endpoint::Deflate,
        "/ws/bad/rsv1" => Endpoint::Rsv1,
        "/ws/bad/huge-length" => Endpoint::HugeLength,
        "/ws/bad/wide-length-16" => Endpoint::WideLength16,
        "/ws/bad/wide-length-64" => Endpoint::WideLength64,
        "/ws/bad/empty-protocol" => Endpoint::EmptyProtocol,
        "/ws/bad/close-one-byte" => Endpoint::CloseOneByte,
        "/ws/bad/close-1005" => Endpoint::Close1005,
        "/ws/bad/close-reason" => Endpoint::CloseReason,
        "/ws/bad/ping-flood" => Endpoint::PingFlood { hang_up: param("hangup", 0)? == 1 },
        "/ws/bad/close-while-sending" => Endpoint::CloseWhileSending,
        "/ws/many-fields" => match param("count", 300)? {
            count @ 0..=2000 => Endpoint::ManyFields { count },
            _ => return Err("count must be at most 2000"),
        },
        "/ws/big-head" => match param("bytes", 32 * 1024)? {
            bytes @ 0..=1_048_576 => Endpoint::BigHead { bytes },
            _ => return Err("bytes must be at most 1048576"),
        },
        _ => return Err("unknown WebSocket endpoint"),
    })
}

/// `Sec-WebSocket-Accept` for `key` (RFC 6455 section 4.2.2).
pub fn accept(key: &str) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes())
}

/// The 101 answer; the first offered subprotocol is chosen. (A `status` endpoint's is its
/// refusal instead, and an `early-hints` one's has a 103 before it.)
pub fn handshake_answer(upgrade: &Upgrade, endpoint: Endpoint) -> Vec<u8> {
    if let Endpoint::Status { code } = endpoint {
        return refusal(code);
    }
    let accept =
        if endpoint == Endpoint::WrongAccept { "dGhpcyBpcyBub3QgaXQ=".to_string() } else { accept(&upgrade.key) };
    let mut protocol = match endpoint {
        Endpoint::UnofferedProtocol => "Sec-WebSocket-Protocol: evil\r\n".to_string(),
        Endpoint::EmptyProtocol => "Sec-WebSocket-Protocol:\r\n".to_string(),
        _ => upgrade.protocols.first().map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n")).unwrap_or_default(),
    };
    match endpoint {
        Endpoint::Cookie | Endpoint::EarlyHints => protocol.push_str("Set-Cookie: ws_seen=yes; Path=/\r\n"),
        Endpoint::Deflate => protocol.push_str("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
        Endpoint::ManyFields { count } => (0..count).for_each(|i| protocol.push_str(&format!("X-Field-{i}: 1\r\n"))),
        Endpoint::BigHead { bytes } => protocol.push_str(&padding(bytes as usize)),
        _ => {}
    }
    let early = match endpoint {
        Endpoint::EarlyHints => {
            "HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\nSet-Cookie: ws_early=1; Path=/\r\n\r\n"
        }
        _ => "",
    };
    format!(
        "{early}HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{protocol}\r\n"
    )
    .into_bytes()
}

/// Header fields of `bytes` bytes at least in all, each at most 1,000 bytes long.
fn padding(bytes: usize) -> String {
    let mut fields = String::with_capacity(bytes + 1000);
    while fields.len() < bytes {
        let value = (bytes - fields.len()).clamp(1, 980);
        fields.push_str(&format!("X-Padding-{}: {}\r\n", fields.len(), "a".repeat(value)));
    }
    fields
}

/// A final answer to an upgrade, with what a server sends with such a status.
fn refusal(code: u16) -> Vec<u8> {
    let (reason, extra) = match code {
        200 => ("OK", ""),
        301 => ("Moved Permanently", "Location: /ws/echo\r\n"),
        302 => ("Found", "Location: /ws/echo\r\n"),
        401 => ("Unauthorized", "WWW-Authenticate: Bearer\r\n"),
        _ => ("Refused", ""),
    };
    let body = format!("{code} {reason}: no WebSocket here");
    format!(
        "HTTP/1.1 {code} {reason}\r\n{extra}Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// An unmasked server frame.
pub fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first_byte];
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

/// One frame from a client, unmasked.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientFrame {
    /// Final fragment.
    pub fin: bool,
    /// Opcode bits.
    pub opcode: u8,
    /// Payload, unmasked.
    pub payload: Vec<u8>,
}

/// Largest client frame the target accepts.
const CLIENT_FRAME_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// Takes one complete client frame from the front of `buf`. Clients must mask.
pub fn client_frame(buf: &mut BytesMut) -> Result<Option<ClientFrame>, &'static str> {
    let [b0, b1, ..] = buf[..] else { return Ok(None) };
    if b1 & 0x80 == 0 {
        return Err("client frame not masked");
    }
    let (len, at) = match b1 & 0x7F {
        126 if buf.len() >= 4 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().expect("eight bytes")), 10),
        126 | 127 => return Ok(None),
        len => (u64::from(len), 2),
    };
    if len > CLIENT_FRAME_BYTES_MAX {
        return Err("client frame too large");
    }
    if (buf.len() as u64) < at as u64 + 4 + len {
        return Ok(None);
    }
    let key = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
    buf.advance(at + 4);
    let mut payload = buf.split_to(len as usize).to_vec();
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
    Ok(Some(ClientFrame { fin: b0 & 0x80 != 0, opcode: b0 & 0x0F, payload }))
}

/// What the echo logic does with one client frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Write these bytes (possibly none) and go on.
    Write(Vec<u8>),
    /// Write these bytes, then close the connection.
    WriteThenClose(Vec<u8>),
}

/// The echo endpoint's state: the fragmented message being received.
#[derive(Default)]
pub struct Echo {
    partial: Option<(u8, Vec<u8>)>,
    /// Never answer a close (the `no-close-reply` endpoint).
    pub ignore_close: bool,
}

impl Echo {
    /// Handles one frame, counting what arrives and what is sent back.
    pub fn on_frame(&mut self, frame_in: ClientFrame, counters: &WsCounters) -> Step {
        match frame_in.opcode {
            0x8 => {
                counters.closes_received.fetch_add(1, Ordering::Relaxed);
                if self.ignore_close {
                    return Step::Write(Vec::new());
                }
                let code = frame_in.payload.get(..2).unwrap_or(&[0x03, 0xE8]).to_vec();
                Step::WriteThenClose(frame(0x88, &code))
            }
            0x9 => {
                counters.pings_received.fetch_add(1, Ordering::Relaxed);
                Step::Write(frame(0x8A, &frame_in.payload))
            }
            0xA => {
                counters.pongs_received.fetch_add(1, Ordering::Relaxed);
                Step::Write(Vec::new())
            }
            0x1 | 0x2 if frame_in.fin => self.echo(frame_in.opcode, &frame_in.payload, counters),
            0x1 | 0x2 => {
                self.partial = Some((frame_in.opcode, frame_in.payload));
                Step::Write(Vec::new())
            }
            0x0 => match self.partial.as_mut() {
                Some((_, message)) => {
                    message.extend_from_slice(&frame_in.payload);
                    if !frame_in.fin {
                        return Step::Write(Vec::new());
                    }
                    let (opcode, message) = self.partial.take().expect("checked above");
                    self.echo(opcode, &message, counters)
                }
                None => Step::WriteThenClose(frame(0x88, &1002u16.to_be_bytes())),
            },
            _ => Step::WriteThenClose(frame(0x88, &1002u16.to_be_bytes())),
        }
    }

    fn echo(&self, opcode: u8, message: &[u8], counters: &WsCounters) -> Step {
        counters.messages_received.fetch_add(1, Ordering::Relaxed);
        counters.bytes_received.fetch_add(message.len() as u64, Ordering::Relaxed);
        counters.sent(message.len());
        Step::Write(frame(0x80 | opcode, message))
    }
}

/// The bytes a hostile endpoint sends right after its handshake (none for the others).
pub fn hostile_opening(endpoint: Endpoint) -> Vec<u8> {
    match endpoint {
        Endpoint::Masked => vec![0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2],
        // A 1 GiB binary frame header, then a little of it.
        Endpoint::Oversized => {
            let mut out = vec![0x82, 127];
            out.extend((1u64 << 30).to_be_bytes());
            out.extend_from_slice(&[0; 64]);
            out
        }
        Endpoint::InvalidUtf8 => frame(0x81, b"caf\xc3"),
        Endpoint::CloseMidFragment => {
            let mut out = frame(0x01, b"the first half of a mess");
            out.extend(frame(0x88, &1001u16.to_be_bytes()));
            out
        }
        Endpoint::CutFrame => {
            let mut out = vec![0x81, 100];
            out.extend_from_slice(b"the first ");
            out
        }
        Endpoint::Rsv1 => frame(0xC1, b"\xf2\x48\xcd\xc9\xc9\x07\x00"),
        Endpoint::HugeLength => vec![0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5],
        Endpoint::WideLength16 => vec![0x81, 126, 0, 2, b'h', b'i'],
        Endpoint::WideLength64 => [&[0x82, 127, 0, 0, 0, 0, 0, 0, 0x01, 0x2C][..], &[7; 300]].concat(),
        Endpoint::CloseOneByte => frame(0x88, &[0x03]),
        Endpoint::Close1005 => frame(0x88, &1005u16.to_be_bytes()),
        Endpoint::GoingAway => frame(0x88, &[&1001u16.to_be_bytes()[..], b"restarting"].concat()),
        Endpoint::CloseReason => frame(0x88, b"\x03\xe8caf\xc3"),
        _ => Vec::new(),
    }
}

/// The data messages a friendly endpoint sends right after its handshake, counted as sent, and
/// their frames (with control frames between fragments).
pub fn friendly_opening(endpoint: Endpoint, counters: &WsCounters) -> Vec<u8> {
    match endpoint {
        Endpoint::Eager | Endpoint::Trickle => {
            counters.sent(5);
            frame(0x81, b"early")
        }
        Endpoint::Fragments => {
            let text = "€uro".as_bytes();
            counters.sent(text.len());
            counters.pings_sent.fetch_add(1, Ordering::Relaxed);
            [
                frame(0x01, &text[..1]),
                frame(0x89, b"between"),
                frame(0x00, &text[1..4]),
                frame(0x8A, b""),
                frame(0x80, &text[4..]),
            ]
            .concat()
        }
        Endpoint::Sizes => SIZES
            .iter()
            .flat_map(|&len| {
                counters.sent(len);
                frame(0x82, &sized_payload(len))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The lengths `/ws/sizes` sends: each side of the 7/16-bit and the 16/64-bit edges.
pub const SIZES: [usize; 4] = [125, 126, 65535, 65536];

/// `/ws/sizes`'s message of `len` bytes: byte i is i mod 251 (a shift shows).
pub fn sized_payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Most pings `/ws/bad/ping-flood` sends (a client that never closes still ends it).
pub const PING_FLOOD_MAX: u64 = 5_000_000;

/// The broadcast endpoint's n-th message.
pub fn broadcast_message(seq: u32) -> Vec<u8> {
    format!("{{\"seq\":{seq}}}").into_bytes()
}

/// Time between broadcast messages at `rate` per second.
pub fn broadcast_interval(rate: u32) -> Duration {
    Duration::from_secs(1) / rate.max(1)
}

/// Counts a broadcast message as sent and returns its frame.
pub fn broadcast_frame(seq: u32, counters: &WsCounters) -> Vec<u8> {
    let message = broadcast_message(seq);
    counters.sent(message.len());
    frame(0x81, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(first: u8, payload: &[u8]) -> BytesMut {
        let key = [9, 8, 7, 6];
        let mut out = vec![first, 0x80 | payload.len() as u8];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        BytesMut::from(&out[..])
    }

    #[test]
    fn accept_matches_the_rfc() {
        assert_eq!(accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn echo_counts_and_answers() {
        let counters = WsCounters::default();
        let mut echo = Echo::default();
        let mut buf = masked(0x81, b"hi");
        let got = client_frame(&mut buf).unwrap().unwrap();
        assert_eq!(echo.on_frame(got, &counters), Step::Write(frame(0x81, b"hi")));
        let mut buf = masked(0x88, &[0x03, 0xE8]);
        let got = client_frame(&mut buf).unwrap().unwrap();
        assert_eq!(echo.on_frame(got, &counters), Step::WriteThenClose(frame(0x88, &[0x03, 0xE8])));
        let counts = counters.counts();
        assert_eq!((counts.messages_received, counts.messages_sent, counts.closes_received), (1, 1, 1));
    }

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            endpoint("/ws/broadcast?rate=5&count=7"),
            Ok(Endpoint::Broadcast { rate: 5, count: 7, ping: false })
        );
        assert_eq!(endpoint("/ws/broadcast?ping=1"), Ok(Endpoint::Broadcast { rate: 10, count: 10, ping: true }));
        assert!(endpoint("/ws/broadcast?rate=0").is_err());
        assert!(endpoint("/ws/nope").is_err());
    }
}

/// How long an endpoint waits for a client that has nothing more to say before closing.
const IDLE_WAIT: Duration = Duration::from_secs(60);

pub(crate) mod serve {
    //! The WebSocket endpoints on the plain target's monoio threads.

    use std::cell::Cell;
    use std::rc::Rc;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Instant;

    use bytes::BytesMut;
    use monoio::buf::IoBufMut;
    use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, Splitable};
    use monoio::net::TcpStream;

    use super::*;

    async fn write(stream: &mut TcpStream, bytes: Vec<u8>) -> bool {
        if bytes.is_empty() {
            return true;
        }
        stream.write_all(bytes).await.0.is_ok()
    }

    /// Writes `bytes` one at a time, 2 ms apart; false when a write fails.
    async fn trickle(stream: &mut TcpStream, bytes: &[u8]) -> bool {
        let _ = stream.set_nodelay(true);
        for &byte in bytes {
            if !write(stream, vec![byte]).await {
                return false;
            }
            monoio::time::sleep(Duration::from_millis(2)).await;
        }
        true
    }

    /// Reads more into `buf`; false at end of file, on error, or after `IDLE_WAIT` of silence.
    async fn read_more(stream: &mut impl AsyncReadRent, buf: &mut BytesMut) -> bool {
        buf.reserve(16 * 1024);
        let len = buf.len();
        let end = buf.capacity();
        let read = monoio::time::timeout(IDLE_WAIT, stream.read(std::mem::take(buf).slice_mut(len..end))).await;
        match read {
            Ok((result, slice)) => {
                *buf = slice.into_inner();
                matches!(result, Ok(n) if n > 0)
            }
            Err(_) => false,
        }
    }

    /// Serves one upgraded connection; `buf` holds whatever followed the upgrade request.
    pub async fn serve(
        mut stream: TcpStream,
        mut buf: BytesMut,
        path: &str,
        upgrade: Upgrade,
        counters: Arc<WsCounters>,
    ) {
        let endpoint = match endpoint(path) {
            Ok(endpoint) => endpoint,
            Err(why) => {
                write(&mut stream, crate::request::bad_request(why)).await;
                return;
            }
        };
        counters.handshakes.fetch_add(1, Ordering::Relaxed);
        if endpoint == Endpoint::Hangup {
            if write(&mut stream, handshake_answer(&upgrade, endpoint)).await {
                hang_up(stream, buf).await;
            }
            return;
        }
        let mut answer = handshake_answer(&upgrade, endpoint);
        if let Endpoint::Status { .. } = endpoint {
            write(&mut stream, answer).await;
            return;
        }
        if endpoint == Endpoint::TlsAlert {
            if write(&mut stream, TLS_ALERT_RECORD.to_vec()).await {
                hang_up(stream, buf).await;
            }
            return;
        }
        if endpoint == Endpoint::CutHandshake {
            answer.truncate(answer.len() / 2);
            if write(&mut stream, answer).await {
                hang_up(stream, buf).await;
            }
            return;
        }
        if endpoint == Endpoint::Trickle {
            answer.extend(friendly_opening(endpoint, &counters));
            if trickle(&mut stream, &answer).await {
                echo_loop(stream, buf, Echo::default(), &counters).await;
            }
            return;
        }
        // One write: the first frames arrive in the same packet as the 101.
        answer.extend(friendly_opening(endpoint, &counters));
        if endpoint != Endpoint::Silent && !write(&mut stream, answer).await {
            return;
        }
        match endpoint {
            Endpoint::EarlyHints
            | Endpoint::ManyFields { .. }
            | Endpoint::BigHead { .. }
            | Endpoint::Eager
            | Endpoint::Fragments
            | Endpoint::Sizes
            | Endpoint::EmptyProtocol => {
                echo_loop(stream, buf, Echo::default(), &counters).await;
            }
            Endpoint::PingFlood { hang_up } => ping_flood(stream, buf, counters, hang_up).await,
            Endpoint::CloseWhileSending => close_while_sending(stream, buf, &counters).await,
            Endpoint::Cookie | Endpoint::Target => {
                let first = if endpoint == Endpoint::Cookie {
                    upgrade.cookie.clone().unwrap_or_default()
                } else {
                    path.to_string()
                };
                counters.sent(first.len());
                if write(&mut stream, frame(0x81, first.as_bytes())).await {
                    echo_loop(stream, buf, Echo::default(), &counters).await;
                }
            }
            Endpoint::Echo | Endpoint::NoCloseReply => {
                let echo = Echo { ignore_close: endpoint == Endpoint::NoCloseReply, ..Echo::default() };
                echo_loop(stream, buf, echo, &counters).await;
            }
            Endpoint::Broadcast { rate, count, ping } => broadcast(stream, buf, (rate, count, ping), &counters).await,
            Endpoint::CutFrame => {
                if write(&mut stream, hostile_opening(endpoint)).await {
                    hang_up(stream, buf).await;
                }
            }
            _ => {
                if write(&mut stream, hostile_opening(endpoint)).await {
                    // Hold the connection until the client gives up on it, counting the
                    // protocol-error closes it fails the connection with.
                    while read_more(&mut stream, &mut buf).await {
                        while let Ok(Some(frame_in)) = client_frame(&mut buf) {
                            if frame_in.opcode == 0x8 && frame_in.payload.starts_with(&1002u16.to_be_bytes()) {
                                counters.protocol_error_closes.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        if buf.len() > 64 * 1024 {
                            buf.clear();
                        }
                    }
                }
            }
        }
    }

    /// Hangs up without a close frame: the end of the stream after what was written, then what
    /// the client sends is read and dropped until it closes (or goes quiet), so that the
    /// connection never closes on unread bytes. (Closed at once, a message the client sent
    /// meanwhile made the close a reset, and the client saw a reset or the end of the stream
    /// as the two sides' timing fell: under load, a reset.)
    async fn hang_up(mut stream: TcpStream, mut buf: BytesMut) {
        let _ = stream.shutdown().await;
        buf.clear();
        while read_more(&mut stream, &mut buf).await {
            buf.clear();
        }
    }

    async fn echo_loop(mut stream: TcpStream, mut buf: BytesMut, mut echo: Echo, counters: &WsCounters) {
        loop {
            loop {
                match client_frame(&mut buf) {
                    Ok(Some(frame_in)) => match echo.on_frame(frame_in, counters) {
                        Step::Write(bytes) => {
                            if !write(&mut stream, bytes).await {
                                return;
                            }
                        }
                        Step::WriteThenClose(bytes) => {
                            write(&mut stream, bytes).await;
                            return;
                        }
                    },
                    Ok(None) => break,
                    Err(_) => {
                        write(&mut stream, frame(0x88, &1002u16.to_be_bytes())).await;
                        return;
                    }
                }
            }
            if !read_more(&mut stream, &mut buf).await {
                return;
            }
        }
    }

    /// Pings in bursts until the client's close (answered) or `PING_FLOOD_MAX`, reading the
    /// client's pongs meanwhile, and after the close until the client hangs up.
    async fn ping_flood(stream: TcpStream, mut buf: BytesMut, counters: Arc<WsCounters>, hang_up: bool) {
        let (mut reader, mut writer) = stream.into_split();
        let closed = Rc::new(Cell::new(false));
        let (done, read_counters) = (closed.clone(), counters.clone());
        let pongs = monoio::spawn(async move {
            loop {
                while let Ok(Some(frame_in)) = client_frame(&mut buf) {
                    match frame_in.opcode {
                        0xA => {
                            read_counters.pongs_received.fetch_add(1, Ordering::Relaxed);
                        }
                        0x8 => {
                            read_counters.closes_received.fetch_add(1, Ordering::Relaxed);
                            done.set(true);
                            if hang_up {
                                return;
                            }
                        }
                        _ => {}
                    }
                }
                if !read_more(&mut reader, &mut buf).await {
                    done.set(true);
                    return;
                }
            }
        });
        let mut sent = 0u64;
        while !closed.get() && sent < PING_FLOOD_MAX {
            let burst: Vec<u8> = (0..16u32).flat_map(|i| frame(0x89, &i.to_be_bytes())).collect();
            if writer.write_all(burst).await.0.is_err() {
                break;
            }
            sent += 16;
            counters.pings_sent.fetch_add(16, Ordering::Relaxed);
            monoio::time::sleep(Duration::ZERO).await;
        }
        let _ = writer.write_all(frame(0x88, &1000u16.to_be_bytes())).await;
        // The pongs the client wrote before it read this close still count (with `hang_up`
        // the reader has ended at the close: the connection goes, unread pongs and all, and
        // the client's next write meets a reset).
        pongs.await;
    }

    /// Counts three data messages, then sends `bye`, a ping and a close with 1001 (going away)
    /// and drops the connection after a moment, unread bytes and all, while the client may
    /// still be sending.
    async fn close_while_sending(mut stream: TcpStream, mut buf: BytesMut, counters: &WsCounters) {
        let mut seen = 0;
        while seen < 3 {
            while let Ok(Some(frame_in)) = client_frame(&mut buf) {
                if matches!(frame_in.opcode, 0x1 | 0x2) {
                    counters.messages_received.fetch_add(1, Ordering::Relaxed);
                    counters.bytes_received.fetch_add(frame_in.payload.len() as u64, Ordering::Relaxed);
                    seen += 1;
                }
            }
            if seen < 3 && !read_more(&mut stream, &mut buf).await {
                return;
            }
        }
        counters.sent(3);
        counters.pings_sent.fetch_add(1, Ordering::Relaxed);
        let last = [frame(0x81, b"bye"), frame(0x89, b""), frame(0x88, &1001u16.to_be_bytes())].concat();
        write(&mut stream, last).await;
        monoio::time::sleep(Duration::from_millis(50)).await;
    }

    async fn broadcast(mut stream: TcpStream, mut buf: BytesMut, shape: (u32, u32, bool), counters: &WsCounters) {
        let (rate, count, ping) = shape;
        let started = Instant::now();
        let interval = broadcast_interval(rate);
        for seq in 0..count {
            let due = started + interval * seq;
            let now = Instant::now();
            if due > now {
                monoio::time::sleep(due - now).await;
            }
            if ping {
                counters.pings_sent.fetch_add(1, Ordering::Relaxed);
                if !write(&mut stream, frame(0x89, &seq.to_be_bytes())).await {
                    return;
                }
            }
            if !write(&mut stream, broadcast_frame(seq, counters)).await {
                return;
            }
        }
        if !write(&mut stream, frame(0x88, &1000u16.to_be_bytes())).await {
            return;
        }
        // Wait for the client's close (or its hang-up), counting the messages it sent (read
        // only now: the broadcast does not listen while it pushes).
        loop {
            while let Ok(Some(frame_in)) = client_frame(&mut buf) {
                match frame_in.opcode {
                    0x8 => {
                        counters.closes_received.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    0xA => {
                        counters.pongs_received.fetch_add(1, Ordering::Relaxed);
                    }
                    0x0..=0x2 if frame_in.fin => {
                        counters.messages_received.fetch_add(1, Ordering::Relaxed);
                        counters.bytes_received.fetch_add(frame_in.payload.len() as u64, Ordering::Relaxed);
                    }
                    _ => {}
                }
            }
            if !read_more(&mut stream, &mut buf).await {
                return;
            }
        }
    }
}
