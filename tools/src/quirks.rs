//! The third round of hostile routes: what real servers and middleboxes put on the wire that
//! RFC 9112 allows, tolerates or forbids (interim floods, bodies where none may be, odd framing
//! values, odd status lines, answers nobody asked for, closes and resets at awkward moments,
//! TLS ended without `close_notify` or cut by an injected alert).

use std::time::Duration;

use crate::route::Action;

const HELLO: &[u8] = b"Hello, World!";

/// Most interim responses `/bad/interim/<n>` sends.
pub const INTERIM_COUNT_MAX: u32 = 1000;

/// The pause before the late part of a `-later` route: long enough that the first part has
/// been read (and its connection pooled) before it comes.
pub const LATE_PAUSE: Duration = Duration::from_millis(30);

/// Bytes of the chunk extension of `chunked-long-extension` and of the trailer field of
/// `chunked-long-trailer`: more than a client keeps for a chunk line or the trailers (4 KiB).
pub const LONG_FRAMING_BYTES: usize = 8 * 1024;

/// A keep-alive `200` with the 13-byte hello, its head's first line `status_line`.
fn hello_after(status_line: &str) -> Vec<u8> {
    let mut out = format!("{status_line}\r\nContent-Length: 13\r\n\r\n").into_bytes();
    out.extend_from_slice(HELLO);
    out
}

/// The 13-byte hello with `fields` (each ending in CRLF) in its head, connection kept.
fn hello_with(fields: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 200 OK\r\n{fields}\r\n").into_bytes();
    out.extend_from_slice(HELLO);
    out
}

/// A chunked hello whose one chunk-size line is `size` (13 in some spelling).
fn chunked_hello(size: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\n").into_bytes();
    out.extend_from_slice(HELLO);
    out.extend_from_slice(b"\r\n0\r\n\r\n");
    out
}

/// The routes of this round, by the mode after `/bad/`; `None` for a mode not of this round.
///
/// - `interim/<n>`: `n` interim responses (`100 Continue` and `103 Early Hints` in turn), then
///   the hello.
/// - `no-content-body`, `not-modified-body`: a `204` / `304` with a 5-byte body (and a
///   `Content-Length` saying so) in the same write; `no-content-body-later`: the body comes
///   [`LATE_PAUSE`] after the head.
/// - `not-modified-body-later`: a `304` with `Content-Length: 13`, the hello's 13 bytes
///   [`LATE_PAUSE`] later (a body where none may be); `late-body`: the hello's head, its body
///   [`LATE_PAUSE`] later, whatever the method (after a `HEAD`: a body where none may be).
/// - `idle-408`: the keep-alive hello, then, [`LATE_PAUSE`] later with no request pending, a
///   `408 Request Timeout` and a close (what servers and balancers that time out idle
///   connections send).
/// - `idle-end`: the keep-alive hello, then, [`LATE_PAUSE`] later, the server's sending side
///   ended as a server that is done ends it (TLS: `close_notify`; then FIN), its reading side
///   left open (what is read is not counted).
/// - `chunked-upper` (`D`), `chunked-zeros` (`000…0d`, 24 digits), `chunked-overflow` (a size of
///   2^64), `chunked-bare-lf` (chunk lines ended by LF alone), `chunked-bare-lf-data` (a bare LF
///   after the chunk's data only), `chunked-bare-lf-end` (the body's last line ended by LF alone, a
///   second answer's head after it, which a reader that took the LF as a trailer line's end
///   would read as trailers), `chunked-cr-alone` (a CR without LF after the chunk's data),
///   `chunked-long-extension` and
///   `chunked-long-trailer` (a chunk extension, a trailer field, of [`LONG_FRAMING_BYTES`]).
/// - `length-twice` (`13` twice), `length-list` (`13, 13`), `length-list-conflict` (`13, 14`),
///   `length-plus` (`+13`), `length-inner-space` (`1 3`).
/// - `bare-lf`: the head's lines ended by LF alone; `no-reason`: `HTTP/1.1 200` with no reason;
///   `status-999`: a code outside 100..=599; `http12`: `HTTP/1.2`; `http2`: `HTTP/2.0`.
/// - `drop-next`: the keep-alive hello; the next request on the connection, as soon as its
///   first bytes arrive, reset unread and uncounted (a keep-alive time running out just as a
///   request comes).
/// - `reset-after`: the whole keep-alive hello, then a reset; `half-close`: a head promising 13
///   bytes, then the write side shut (the read side open); `half-close-until-close`: a head
///   with no length, then the write side shut (an empty body).
/// - `extra-response`: the hello and a second, unasked-for response in one write;
///   `extra-response-later`: the second [`LATE_PAUSE`] after the first.
/// - `trickle-mix`: a `100 Continue`, then a chunked hello with an extension and a trailer, a
///   byte per write with a millisecond's pause.
/// - `tls-key-update`: a head and 5 of 13 bytes, a TLS 1.3 `KeyUpdate`, the other 8 bytes
///   (plain HTTP: no update); the connection kept.
/// - `tls-cut`: the whole keep-alive hello, then the connection closed without a TLS
///   `close_notify`; `tls-cut-until-close`: a body delimited by the close, ended so; `tls-alert`:
///   a head and 5 of 13 bytes, then a fatal alert record written in plain text past the TLS
///   session (as a middlebox injects it), then a close. (Over plain HTTP: a plain close, and the
///   alert's bytes as they are.)
pub fn route(mode: &str) -> Option<Action> {
    framing(mode).or_else(|| connection(mode)).or_else(|| interim(mode))
}

/// The routes whose answer is framed or versioned oddly, in one write.
fn framing(mode: &str) -> Option<Action> {
    let action = match mode {
        "no-content-body" => Action::Write(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello".to_vec()),
        "not-modified-body" => Action::Write(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello".to_vec()),
        "chunked-upper" => Action::Write(chunked_hello("D")),
        "chunked-zeros" => Action::Write(chunked_hello("00000000000000000000000d")),
        "chunked-overflow" => Action::WriteThenClose(chunked_hello("10000000000000000")),
        "chunked-bare-lf" => Action::WriteThenClose(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nd\nHello, World!\n0\n\n".to_vec(),
        ),
        "chunked-bare-lf-data" => Action::WriteThenClose(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nd\r\nHello, World!\n0\r\n\r\n".to_vec(),
        ),
        "chunked-bare-lf-end" => Action::WriteThenClose(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nd\r\nHello, World!\r\n0\r\n\n\
              HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
        ),
        "chunked-cr-alone" => Action::WriteThenClose(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nd\r\nHello, World!\r0\r\n\r\n".to_vec(),
        ),
        "chunked-long-extension" => {
            Action::WriteThenClose(chunked_hello(&format!("d;ext={}", "x".repeat(LONG_FRAMING_BYTES))))
        }
        "chunked-long-trailer" => {
            let mut bytes = chunked_hello("d");
            bytes.truncate(bytes.len() - 2); // the blank line that ends the trailers
            bytes.extend_from_slice(format!("X-Long: {}\r\n\r\n", "x".repeat(LONG_FRAMING_BYTES)).as_bytes());
            Action::WriteThenClose(bytes)
        }
        "length-twice" => Action::Write(hello_with("Content-Length: 13\r\nContent-Length: 13\r\n")),
        "length-list" => Action::Write(hello_with("Content-Length: 13, 13\r\n")),
        "length-list-conflict" => Action::WriteThenClose(hello_with("Content-Length: 13, 14\r\n")),
        "length-plus" => Action::WriteThenClose(hello_with("Content-Length: +13\r\n")),
        "length-inner-space" => Action::WriteThenClose(hello_with("Content-Length: 1 3\r\n")),
        "bare-lf" => {
            Action::Write(b"HTTP/1.1 200 OK\nServer: mite-target\nContent-Length: 13\n\nHello, World!".to_vec())
        }
        "no-reason" => Action::Write(hello_after("HTTP/1.1 200")),
        "status-999" => Action::Write(hello_after("HTTP/1.1 999 Odd")),
        "http12" => Action::Write(hello_after("HTTP/1.2 200 OK")),
        "http2" => Action::WriteThenClose(hello_after("HTTP/2.0 200 OK")),
        _ => return None,
    };
    Some(action)
}

/// The routes that write at odd moments, end or reset the connection, or the TLS session.
fn connection(mode: &str) -> Option<Action> {
    let action = match mode {
        "no-content-body-later" => Action::Pieces(vec![
            (Duration::ZERO, b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n".to_vec()),
            (LATE_PAUSE, b"hello".to_vec()),
        ]),
        "not-modified-body-later" => Action::Pieces(vec![
            (Duration::ZERO, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 13\r\n\r\n".to_vec()),
            (LATE_PAUSE, HELLO.to_vec()),
        ]),
        "late-body" => Action::Pieces(vec![
            (Duration::ZERO, b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n".to_vec()),
            (LATE_PAUSE, HELLO.to_vec()),
        ]),
        "idle-408" => Action::PiecesThenClose(vec![
            (Duration::ZERO, hello_after("HTTP/1.1 200 OK")),
            (LATE_PAUSE, b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".to_vec()),
        ]),
        "idle-end" => Action::WriteThenEnd(hello_after("HTTP/1.1 200 OK"), LATE_PAUSE),
        "reset-after" => Action::WriteThenReset(hello_after("HTTP/1.1 200 OK")),
        "drop-next" => Action::WriteThenDropNext(hello_after("HTTP/1.1 200 OK")),
        "half-close" => Action::WriteThenHalfClose(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n".to_vec()),
        "half-close-until-close" => Action::WriteThenHalfClose(b"HTTP/1.1 200 OK\r\n\r\n".to_vec()),
        "extra-response" => Action::Write([hello_after("HTTP/1.1 200 OK"), hello_after("HTTP/1.1 200 OK")].concat()),
        "extra-response-later" => Action::Pieces(vec![
            (Duration::ZERO, hello_after("HTTP/1.1 200 OK")),
            (LATE_PAUSE, hello_after("HTTP/1.1 200 OK")),
        ]),
        // Interim heads, a chunked body with an extension and a trailer: every state of the
        // reader met at a read's end.
        "trickle-mix" => Action::Trickle(
            [
                &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
                b"5;a=b\r\nHello\r\n8\r\n, World!\r\n0\r\nX-T: 1\r\n\r\n",
            ]
            .concat(),
            Duration::from_millis(1),
        ),
        "tls-key-update" => Action::WriteRekeyWrite(
            b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello".to_vec(),
            b", World!".to_vec(),
        ),
        "tls-cut" => Action::WriteThenCut(hello_after("HTTP/1.1 200 OK")),
        "tls-cut-until-close" => Action::WriteThenCut(b"HTTP/1.1 200 OK\r\n\r\nHello, World!".to_vec()),
        // A fatal `internal_error` alert (level 2, description 80) as a TLS 1.2 record.
        "tls-alert" => Action::WriteThenInject(
            b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello".to_vec(),
            vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50],
        ),
        _ => return None,
    };
    Some(action)
}

/// `interim/<n>`.
fn interim(mode: &str) -> Option<Action> {
    let count = mode.strip_prefix("interim/")?.parse::<u32>().ok()?.min(INTERIM_COUNT_MAX);
    let mut out = Vec::new();
    for i in 0..count {
        let head: &[u8] = if i % 2 == 0 {
            b"HTTP/1.1 100 Continue\r\n\r\n"
        } else {
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        };
        out.extend_from_slice(head);
    }
    out.extend_from_slice(&hello_after("HTTP/1.1 200 OK"));
    Some(Action::Write(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interim_counts_are_as_asked_and_bounded() {
        let interim = |mode: &str| match route(mode) {
            Some(Action::Write(bytes)) => String::from_utf8(bytes).unwrap().matches("HTTP/1.1 1").count(),
            other => panic!("{mode}: {other:?}"),
        };
        assert_eq!(interim("interim/0"), 0);
        assert_eq!(interim("interim/17"), 17);
        assert_eq!(interim("interim/99999"), INTERIM_COUNT_MAX as usize);
        assert!(route("interim/x").is_none() && route("nothing-here").is_none());
    }

    #[test]
    fn chunk_sizes_are_spelled_as_named() {
        let Some(Action::Write(bytes)) = route("chunked-zeros") else { panic!() };
        assert!(bytes.windows(26).any(|w| w == b"00000000000000000000000d\r\n"));
    }
}
