//! The targets' WebSocket endpoints, with their own counters: `/ws/echo` (every message sent
//! back), `/ws/broadcast?rate=N&count=M[&ping=1]` (the server pushes M text messages at N per
//! second, each after a ping when asked, then closes), and hostile ones under `/ws/bad/`:
//! `wrong-accept`, `masked`, `oversized`, `invalid-utf8`, `close-mid-fragment`,
//! `no-close-reply`, `silent` (never answers the handshake), `hangup` (drops the connection
//! after the handshake), `cut-frame` (drops it in the middle of a frame).
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
    /// Answer the handshake, then drop the connection without a close frame.
    Hangup,
    /// Send the first 10 bytes of a 100-byte text frame, then drop the connection.
    CutFrame,
}

/// The endpoint for `path` (with its query), or why there is none.
pub fn endpoint(path: &str) -> Result<Endpoint, &'static str> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let param = |name: &str, default: u32| -> Result<u32, &'static str> {
        match query.split('&').find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('='))) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| "rate and count must be whole numbers"),
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

/// The 101 answer; the first offered subprotocol is chosen.
pub fn handshake_answer(upgrade: &Upgrade, endpoint: Endpoint) -> Vec<u8> {
    let accept =
        if endpoint == Endpoint::WrongAccept { "dGhpcyBpcyBub3QgaXQ=".to_string() } else { accept(&upgrade.key) };
    let mut protocol =
        upgrade.protocols.first().map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n")).unwrap_or_default();
    if endpoint == Endpoint::Cookie {
        protocol.push_str("Set-Cookie: ws_seen=yes; Path=/\r\n");
    }
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{protocol}\r\n"
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
        _ => Vec::new(),
    }
}

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

    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Instant;

    use bytes::BytesMut;
    use monoio::buf::IoBufMut;
    use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
    use monoio::net::TcpStream;

    use super::*;

    async fn write(stream: &mut TcpStream, bytes: Vec<u8>) -> bool {
        if bytes.is_empty() {
            return true;
        }
        stream.write_all(bytes).await.0.is_ok()
    }

    /// Reads more into `buf`; false at end of file, on error, or after `IDLE_WAIT` of silence.
    async fn read_more(stream: &mut TcpStream, buf: &mut BytesMut) -> bool {
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
            write(&mut stream, handshake_answer(&upgrade, endpoint)).await;
            return;
        }
        if endpoint != Endpoint::Silent && !write(&mut stream, handshake_answer(&upgrade, endpoint)).await {
            return;
        }
        match endpoint {
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
                write(&mut stream, hostile_opening(endpoint)).await;
            }
            _ => {
                if write(&mut stream, hostile_opening(endpoint)).await {
                    // Hold the connection until the client gives up on it.
                    while read_more(&mut stream, &mut buf).await {
                        buf.clear();
                    }
                }
            }
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
