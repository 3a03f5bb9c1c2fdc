//! What the last adversarial passes left in the request path, each seen as `journey test`
//! shows it against a small server on 127.0.0.1: a `Set-Cookie` with a control character
//! ignored, the response read, and another field's control character named with its field
//! (before: both failed the response as `invalid header value`), a URL outside ASCII shown as
//! it went on the wire (before: as written, `/café`, while the server logged `/caf%C3%A9`),
//! and an `https://` request to a plain port whose server says nothing told so (before: only
//! that the handshake was not done).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use mite_core::output::events::RunEvent;
use mite_core::{Ctx, JourneyResult, Registry, Row};
use mite_tests::options;

/// A server on 127.0.0.1 that answers each of `connections` connections' first request with
/// `answer` (or, for `None`, reads and never answers, holding the connection for a while),
/// sending each request's line on the channel.
fn server(answer: Option<&'static [u8]>, connections: usize) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (lines, seen) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { return };
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_string();
            let _ = lines.send(line);
            match answer {
                Some(answer) => {
                    let _ = stream.write_all(answer);
                }
                // Read what the client sends (a TLS ClientHello) and say nothing until it goes.
                None => while stream.read(&mut [0u8; 512]).is_ok_and(|n| n > 0) {},
            }
        }
    });
    (base, seen)
}

async fn get_url(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get("url").unwrap().to_string();
    ctx.http().get(&url).send().await?;
    Ok(())
}

/// `journey test` of one GET of `url`, with `connect_timeout`: its trace lines.
fn journey_test_of(url: &str, connect_timeout: Duration) -> Vec<String> {
    let mut registry = Registry::default();
    registry.journey("left:get", get_url);
    let config = mite_core::run::layered_config(&Default::default(), &[format!("url={url}")]).unwrap();
    let mut opts = options(1, Duration::from_secs(10));
    opts.http.connect_timeout = connect_timeout;
    let stop = AtomicBool::new(false);
    let mut lines = Vec::new();
    let mut report = |event: &RunEvent<'_>| {
        if let RunEvent::Trace { line, .. } = event {
            lines.push(line.to_string());
        }
    };
    mite_core::journey_test(&registry, "left:get", [], config, &opts, &stop, &mut report).unwrap();
    lines
}

/// `Set-Cookie: ctl=a\x01b` failed the response as `malformed response head: invalid header
/// value`, naming nothing: the response is read, the cookie ignored with a word (as browsers
/// ignore it, RFC 6265bis), the next cookie kept; a control character in another field fails
/// the response, naming the field and the byte.
#[test]
fn a_set_cookie_with_a_control_character_is_ignored_and_another_field_named() {
    let (base, _seen) = server(
        Some(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nSet-Cookie: ctl=a\x01b\r\nSet-Cookie: ok=1\r\nConnection: close\r\n\r\n"),
        1,
    );
    let lines = journey_test_of(&format!("http://{base}/c"), Duration::from_secs(2));
    assert!(lines.iter().any(|line| line.starts_with(&format!("GET http://{base}/c -> 200"))), "{lines:#?}");
    let ignored = lines.iter().find(|line| line.contains("ctl=")).unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(ignored.contains("control character in the name or value"), "{lines:#?}");
    assert!(lines.iter().any(|line| line.contains("ok=1")), "{lines:#?}");

    let (base, _seen) = server(Some(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Ctl: a\x01b\r\n\r\n"), 1);
    let lines = journey_test_of(&format!("http://{base}/c"), Duration::from_secs(2));
    let said = "malformed response head: the X-Ctl field's value has a control character (byte 0x01), \
                which RFC 9110 §5.5 makes invalid";
    assert!(lines.iter().any(|line| line.contains(said)), "{lines:#?}");
}

/// A path outside ASCII goes as UTF-8 percent-encoded; the trace and the `status` error showed
/// it as written (`/café`), which no server log holds: they show what was sent, then what was
/// written.
#[test]
fn a_url_outside_ascii_is_shown_as_it_was_sent() {
    let (base, seen) = server(Some(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), 1);
    let lines = journey_test_of(&format!("http://{base}/café?q=ü"), Duration::from_secs(2));
    assert_eq!(seen.recv_timeout(Duration::from_secs(5)).unwrap(), "GET /caf%C3%A9?q=%C3%BC HTTP/1.1");
    let shown = format!("http://{base}/caf%C3%A9?q=%C3%BC (written http://{base}/café?q=ü)");
    let line = lines.iter().find(|line| line.starts_with("GET ")).unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(
        line,
        &format!("GET {shown} -> FAILED: status: GET {shown} answered 404, expected 200-399"),
        "{lines:#?}"
    );
}

/// An `https://` request to a port whose server waits for a plain request (and so sends
/// nothing) ran out the connect timeout saying only that the handshake was not done: it says
/// the server sent nothing, and what to try.
#[test]
fn a_tls_handshake_met_with_silence_suggests_plain_http() {
    let (base, _seen) = server(None, 1);
    let lines = journey_test_of(&format!("https://{base}/"), Duration::from_millis(500));
    let said = "the server sent nothing back: is this port plain HTTP? try http:// (ws:// for a WebSocket)";
    assert!(lines.iter().any(|line| line.contains(said) && line.contains("TLS handshake with")), "{lines:#?}");
}
