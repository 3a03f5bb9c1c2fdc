//! An adversarial pass on WebSocket journeys: small hostile servers of this test's own
//! (127.0.0.1, ephemeral ports, raw bytes) that fragment a message around a ping, send a frame
//! of the full 16 MiB limit, lie about a frame's length, close without a status or with a
//! reason that is not UTF-8, flood pings, answer the upgrade with a 200, or reset mid-message.
//! Every run is bounded (a oneshot of a few journeys, a short run, a test deadline); each
//! ends with the counts of what the server did and the error under its kind, without a panic.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use mite_core::run::RunResult;
use mite_core::stats::ErrorKind;
use mite_core::{Ctx, JourneyResult, Registry, Row, VolumeModel};
use mite_tests::{options, run, scenario, ws_one_exchange as one_exchange};
use mite_tools::ws::{accept, frame};

const JOURNEYS: u64 = 3;

/// What one hostile server does after its 101 (or instead of it), on each connection.
type Act = fn(&mut TcpStream);

/// Reads the upgrade's head (up to its blank line) and returns its `Sec-WebSocket-Key`.
fn read_upgrade(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 || head.len() > 16 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key").then(|| value.trim().to_string())
    })
}

fn switch(stream: &mut TcpStream) {
    let key = read_upgrade(stream).unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept(&key)
    );
    let _ = stream.write_all(answer.as_bytes());
}

/// Reads what the client sends for up to `within` (its message, its close), so that a close
/// of ours is not a reset.
fn drain(stream: &mut TcpStream, within: Duration) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let until = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while Instant::now() < until {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// Answers a close of the client's with one of ours, then hangs up.
fn close_politely(stream: &mut TcpStream) {
    drain(stream, Duration::from_millis(300));
    let _ = stream.write_all(&frame(0x88, &1000u16.to_be_bytes()));
    drain(stream, Duration::from_millis(100));
}

/// Serves `JOURNEYS` connections (each by `act`), for at most 20 s, on an ephemeral port.
fn serve(act: Act) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/hostile", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let server = std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(20);
        let mut served = 0;
        let mut open = Vec::new();
        while served < JOURNEYS && Instant::now() < until {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    served += 1;
                    open.push(std::thread::spawn(move || act(&mut stream)));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        for one in open {
            let _ = one.join();
        }
    });
    (url, server)
}

/// Error counts by kind, the kinds seen only.
type Kinds = Vec<(ErrorKind, u64)>;

/// Runs `JOURNEYS` one-exchange journeys against a server doing `act`, bounded: the result,
/// its (request, WebSocket) error kinds.
fn against(act: Act) -> (RunResult, Kinds, Kinds) {
    let (result, requests, ws, _) = against_timed(act);
    (result, requests, ws)
}

/// [`against`], with how long the run took (before the server's threads are joined).
fn against_timed(act: Act) -> (RunResult, Kinds, Kinds, Duration) {
    let (url, server) = serve(act);
    let mut registry = Registry::default();
    registry.journey("test:one_exchange", one_exchange);
    let mut opts = options(1, Duration::from_secs(10));
    opts.http.request_timeout = Duration::from_secs(1);
    let started = Instant::now();
    let result = run(
        &registry,
        scenario("test:one_exchange", VolumeModel::Oneshot { journeys: JOURNEYS }),
        &[format!("ws_url={url}")],
        opts,
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(12), "took {took:?}");
    server.join().unwrap();
    let total = result.merged.total();
    assert_eq!(result.merged.journeys.started, JOURNEYS);
    let kinds = |counts: &dyn Fn(ErrorKind) -> u64| -> Kinds {
        ErrorKind::ALL.iter().filter(|k| counts(**k) > 0).map(|k| (*k, counts(*k))).collect()
    };
    let requests = kinds(&|k| total.errors_of(k));
    let ws = kinds(&|k| total.ws.errors_of(k));
    assert_eq!(result.merged.journeys.panicked, 0, "{:?}", result.merged.error_samples);
    (result, requests, ws, took)
}

fn sample(result: &RunResult) -> String {
    format!("{:?}", result.merged.error_samples)
}

/// A text message in two frames with a ping between them is one message: the ping answered,
/// the journey ok.
#[test]
fn a_fragmented_message_with_a_ping_between_its_frames_is_one_message() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let mut bytes = frame(0x01, b"hel");
        bytes.extend(frame(0x89, b"between"));
        bytes.extend(frame(0x00, b"l"));
        bytes.extend(frame(0x80, b"o"));
        let _ = s.write_all(&bytes);
        close_politely(s);
    });
    let total = result.merged.total();
    assert_eq!((requests, ws), (vec![], vec![]), "{}", sample(&result));
    assert_eq!(result.merged.journeys.failed, 0, "{}", sample(&result));
    assert_eq!(total.ws.messages_received, JOURNEYS, "one message of three frames each");
    assert_eq!(total.ws.bytes_received, 5 * JOURNEYS);
    assert_eq!(total.ws.pings_received, JOURNEYS);
    assert_eq!(total.ws.messages_sent, JOURNEYS);
}

/// A text frame of the whole 16 MiB limit is taken, counted once with its bytes.
#[test]
fn a_frame_of_the_full_16_mib_limit_is_one_message() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let _ = s.write_all(&frame(0x81, &vec![b'a'; 16 * 1024 * 1024]));
        close_politely(s);
    });
    let total = result.merged.total();
    assert_eq!((requests, ws), (vec![], vec![]), "{}", sample(&result));
    assert_eq!(total.ws.messages_received, JOURNEYS);
    assert_eq!(total.ws.bytes_received, 16 * 1024 * 1024 * JOURNEYS);
}

/// A frame that says 1000 bytes, sends 10, then hangs up: closed by the peer, no message.
#[test]
fn a_frame_whose_length_lies_then_a_close_is_closed_by_the_peer() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let mut bytes = frame(0x81, &[b'x'; 1000]);
        bytes.truncate(4 + 10);
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(std::net::Shutdown::Write);
        drain(s, Duration::from_millis(300));
    });
    assert_eq!((requests, ws), (vec![], vec![(ErrorKind::WsClosed, JOURNEYS)]), "{}", sample(&result));
    let said = "server closed the connection without a close frame, in the middle of a frame: 10 of its 1,000 \
                payload bytes came";
    assert!(sample(&result).contains(said), "what was cut short is said: {}", sample(&result));
    assert_eq!(result.merged.total().ws.messages_received, 0);
    assert_eq!(result.merged.journeys.failed, JOURNEYS);
}

/// A close frame without a status (an empty payload, allowed): the journey's receive is
/// closed by the peer.
#[test]
fn a_close_without_a_status_is_closed_by_the_peer() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let _ = s.write_all(&frame(0x88, &[]));
        drain(s, Duration::from_millis(300));
    });
    assert_eq!((requests, ws), (vec![], vec![(ErrorKind::WsClosed, JOURNEYS)]), "{}", sample(&result));
    assert!(sample(&result).contains("server closed the WebSocket while a message was expected"));
    assert_eq!(result.merged.total().ws.closes, JOURNEYS, "the close is counted");
    assert_eq!(result.merged.journeys.failed, JOURNEYS);
}

/// A close whose reason is not UTF-8 is a protocol error (RFC 6455 7.1.6: fail the
/// connection), not a clean close.
#[test]
fn a_close_with_a_reason_that_is_not_utf8_is_a_protocol_error() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let mut payload = 1000u16.to_be_bytes().to_vec();
        payload.extend([0xff, 0xfe, b'x']);
        let _ = s.write_all(&frame(0x88, &payload));
        drain(s, Duration::from_millis(300));
    });
    assert_eq!((requests, ws), (vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)]), "{}", sample(&result));
    assert!(sample(&result).contains("the close frame's reason is not valid UTF-8"), "{}", sample(&result));
    assert_eq!(result.merged.journeys.failed, JOURNEYS);
}

/// 2,000 pings, then the message: every ping counted, the message taken, the journey ok.
#[test]
fn a_ping_flood_before_the_message_is_counted_and_survived() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let mut bytes = Vec::new();
        for _ in 0..2000 {
            bytes.extend(frame(0x89, b"flood"));
        }
        bytes.extend(frame(0x81, b"after"));
        let _ = s.write_all(&bytes);
        close_politely(s);
    });
    let total = result.merged.total();
    assert_eq!((requests, ws), (vec![], vec![]), "{}", sample(&result));
    assert_eq!(total.ws.pings_received, 2000 * JOURNEYS);
    assert_eq!(total.ws.messages_received, JOURNEYS);
}

/// A 200 with a body where the 101 should be: a handshake error of the request, no
/// connection counted.
#[test]
fn a_200_instead_of_101_is_a_handshake_error() {
    let (result, requests, ws) = against(|s| {
        let _ = read_upgrade(s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        drain(s, Duration::from_millis(300));
    });
    assert_eq!((requests, ws), (vec![(ErrorKind::WsHandshake, JOURNEYS)], vec![]), "{}", sample(&result));
    assert_eq!(result.merged.total().ws.connects, 0);
    let said = sample(&result);
    assert!(said.contains("200"), "the status is named: {said}");
}

/// A reset (unread bytes in the server's socket when it closes) in the middle of a frame:
/// a reset, one per journey, no message.
#[test]
fn a_reset_in_the_middle_of_a_message_ends_the_journey() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        // The client's "hello" left unread: the close below is a reset.
        std::thread::sleep(Duration::from_millis(100));
        let mut bytes = frame(0x81, &[b'x'; 1000]);
        bytes.truncate(4 + 10);
        let _ = s.write_all(&bytes);
        std::thread::sleep(Duration::from_millis(50));
    });
    assert_eq!((requests, ws), (vec![], vec![(ErrorKind::Reset, JOURNEYS)]), "{}", sample(&result));
    assert!(sample(&result).contains("Connection reset by peer"), "{}", sample(&result));
    assert_eq!(result.merged.total().ws.messages_received, 0);
    assert_eq!(result.merged.journeys.failed, JOURNEYS);
}

/// A frame that says 1000 bytes, sends 10 and then a close frame (read as more of the
/// payload), and keeps the connection open: the receive times out, bounded by its timeout.
/// The WebSocket the failed journey dropped is mid-frame: it is released without a close
/// handshake, so its failure is counted once, as the `timeout` it was. (It was counted twice:
/// the dropped connection's close, sent in the background on a frame cut short, was still
/// waiting at the stop that follows a `oneshot`, one `cancelled` more per journey.)
#[test]
fn a_frame_whose_length_lies_then_a_close_frame_times_out() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let mut bytes = frame(0x81, &[b'x'; 1000]);
        bytes.truncate(4 + 10);
        bytes.extend(frame(0x88, &1000u16.to_be_bytes()));
        let _ = s.write_all(&bytes);
        drain(s, Duration::from_secs(3));
    });
    assert_eq!((requests, ws), (vec![], vec![(ErrorKind::Timeout, JOURNEYS)]), "{}", sample(&result));
    let total = result.merged.total();
    assert_eq!((total.ws.messages_received, total.ws.closes), (0, 0));
    assert_eq!(result.merged.journeys.failed, JOURNEYS);
    assert!(sample(&result).contains("no message within 1s"), "{}", sample(&result));
}

/// Receives one message, then drops the WebSocket unclosed: the (healthy) connection is
/// closed with 1000 in the background. The journey then waits 500 ms, so that the run does
/// not stop (a `oneshot`'s end) before that close is answered.
async fn receive_then_drop(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "");
    {
        let mut ws = ctx.websocket().connect(url).await?;
        ws.receive().await?;
    }
    mite_core::sleep(Duration::from_millis(500)).await;
    Ok(())
}

/// Waits 200 ms for a message in vain (a `timeout` it survives), then receives one, then
/// drops the WebSocket unclosed (and waits 500 ms, as [`receive_then_drop`]): the connection
/// answered after its timeout, so it is closed with 1000 in the background like any healthy
/// one.
async fn time_out_receive_then_drop(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "");
    {
        let mut ws = ctx.websocket().connect(url).await?;
        let waited = ws.receive_timeout(Duration::from_millis(200)).await;
        assert!(waited.is_err(), "nothing comes in the first 200 ms");
        ws.receive().await?;
    }
    mite_core::sleep(Duration::from_millis(500)).await;
    Ok(())
}

/// Runs `JOURNEYS` of the journey `registry` names `test:dropper` against a server that sends one text after `delay` and answers
/// a close with one of its own (noting that it got the close): the result, and how many closes
/// the server got.
fn dropped_against(registry: &Registry, delay: Duration) -> (RunResult, usize) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/polite", listener.local_addr().unwrap());
    let closes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = closes.clone();
    let server = std::thread::spawn(move || {
        let mut open = Vec::new();
        for _ in 0..JOURNEYS {
            let Ok((mut s, _)) = listener.accept() else { break };
            let counted = counted.clone();
            open.push(std::thread::spawn(move || {
                switch(&mut s);
                std::thread::sleep(delay);
                let _ = s.write_all(&frame(0x81, b"hello"));
                // The client's close: FIN, opcode 8, masked.
                let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
                let mut head = [0u8; 2];
                if s.read_exact(&mut head).is_ok() && head[0] == 0x88 {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ = s.write_all(&frame(0x88, &1000u16.to_be_bytes()));
                    drain(&mut s, Duration::from_millis(100));
                }
            }));
        }
        for one in open {
            let _ = one.join();
        }
    });
    let mut opts = options(1, Duration::from_secs(10));
    opts.http.request_timeout = Duration::from_secs(2);
    let result = run(
        registry,
        scenario("test:dropper", VolumeModel::Oneshot { journeys: JOURNEYS }),
        &[format!("ws_url={url}")],
        opts,
    );
    server.join().unwrap();
    let closes = closes.load(std::sync::atomic::Ordering::SeqCst);
    (result, closes)
}

/// A healthy WebSocket dropped at journey end still gets its close handshake: the server gets
/// the close and answers it, each counted as a close, nothing as an error.
#[test]
fn a_healthy_websocket_dropped_at_journey_end_is_closed_in_the_background() {
    let mut registry = Registry::default();
    registry.journey("test:dropper", receive_then_drop);
    let (result, closes) = dropped_against(&registry, Duration::ZERO);
    let total = result.merged.total();
    let ws: Vec<ErrorKind> = ErrorKind::ALL.iter().copied().filter(|k| total.ws.errors_of(*k) > 0).collect();
    assert_eq!(ws, vec![], "{}", sample(&result));
    assert_eq!(result.merged.journeys.ok, JOURNEYS, "{}", sample(&result));
    assert_eq!((closes as u64, total.ws.closes), (JOURNEYS, JOURNEYS), "{}", sample(&result));
}

/// A receive that timed out, then a message: the connection answered, so dropped at journey
/// end it is closed in the background as a healthy one; the timeout is its only error.
#[test]
fn a_websocket_that_answered_after_a_timeout_is_closed_in_the_background() {
    let mut registry = Registry::default();
    registry.journey("test:dropper", time_out_receive_then_drop);
    let (result, closes) = dropped_against(&registry, Duration::from_millis(500));
    let total = result.merged.total();
    assert_eq!(total.ws.errors_of(ErrorKind::Timeout), JOURNEYS, "{}", sample(&result));
    assert_eq!(total.ws.errors_of(ErrorKind::Cancelled), 0, "{}", sample(&result));
    assert_eq!(result.merged.journeys.ok, JOURNEYS, "{}", sample(&result));
    assert_eq!((closes as u64, total.ws.closes), (JOURNEYS, JOURNEYS), "{}", sample(&result));
}

/// A frame one byte over the 16 MiB limit is refused on its header alone: too large.
#[test]
fn a_frame_one_byte_over_the_limit_is_too_large_on_its_header() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let mut header = vec![0x81, 127];
        header.extend((16u64 * 1024 * 1024 + 1).to_be_bytes());
        let _ = s.write_all(&header);
        drain(s, Duration::from_millis(500));
    });
    assert_eq!((requests, ws), (vec![], vec![(ErrorKind::TooLarge, JOURNEYS)]), "{}", sample(&result));
    assert_eq!(result.merged.total().ws.bytes_received, 0);
}

/// A masked frame from the server (a client's shape): a protocol error; the same text
/// unmasked (every other test here) is taken.
#[test]
fn a_masked_frame_from_the_server_is_a_protocol_error() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let key = [1u8, 2, 3, 4];
        let mut bytes = vec![0x81, 0x80 | 5];
        bytes.extend(key);
        bytes.extend(b"hello".iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        let _ = s.write_all(&bytes);
        drain(s, Duration::from_millis(300));
    });
    assert_eq!((requests, ws), (vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)]), "{}", sample(&result));
    assert_eq!(result.merged.total().ws.messages_received, 0);
}

/// A server that reads the upgrade and never answers: the handshake times out (a request
/// error), bounded by the request timeout.
#[test]
fn an_upgrade_never_answered_times_out() {
    let (result, requests, ws) = against(|s| {
        let _ = read_upgrade(s);
        drain(s, Duration::from_secs(3));
    });
    assert_eq!((requests, ws), (vec![(ErrorKind::Timeout, JOURNEYS)], vec![]), "{}", sample(&result));
    assert_eq!(result.merged.total().ws.connects, 0);
}

/// Pings every 50 ms or so for 3 s and never the message: each ping is taken and answered, and the
/// receive's 1 s timeout still ends it (a frame that is no message does not start the wait
/// again).
#[test]
fn endless_pings_do_not_hold_a_receive_past_its_timeout() {
    let (result, requests, ws, took) = against_timed(|s| {
        switch(s);
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            if s.write_all(&frame(0x89, b"still here")).is_err() {
                return;
            }
            drain(s, Duration::from_millis(10));
        }
    });
    assert!(took < Duration::from_millis(2500), "the receive waited {took:?}: {}", sample(&result));
    assert_eq!(requests, vec![], "{}", sample(&result));
    assert_eq!(ws.first(), Some(&(ErrorKind::Timeout, JOURNEYS)), "{ws:?} {}", sample(&result));
    assert!(result.merged.total().ws.pings_received >= 10 * JOURNEYS, "{}", result.merged.total().ws.pings_received);
    assert_eq!(result.merged.total().ws.messages_received, 0);
}

/// A frame trickled a byte every 50 ms (a slow server, or a slowloris): the receive's 1 s
/// timeout ends it though bytes keep coming.
#[test]
fn a_frame_trickled_byte_by_byte_does_not_hold_a_receive_past_its_timeout() {
    let (result, requests, ws, took) = against_timed(|s| {
        switch(s);
        for byte in frame(0x81, &[b'x'; 100]) {
            if s.write_all(&[byte]).is_err() {
                return;
            }
            drain(s, Duration::from_millis(50));
        }
    });
    assert!(took < Duration::from_millis(2500), "the receive waited {took:?}: {}", sample(&result));
    assert_eq!(requests, vec![], "{}", sample(&result));
    assert_eq!(ws.first(), Some(&(ErrorKind::Timeout, JOURNEYS)), "{ws:?} {}", sample(&result));
    assert_eq!(result.merged.total().ws.messages_received, 0);
}

/// A character split across two fragments (`é` as C3 | A9) is text, checked whole: the
/// message is taken; text that is not UTF-8 once whole is a protocol error.
#[test]
fn utf8_is_checked_on_the_whole_message_not_each_fragment() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let mut bytes = frame(0x01, b"h\xc3");
        bytes.extend(frame(0x80, b"\xa9llo"));
        let _ = s.write_all(&bytes);
        close_politely(s);
    });
    assert_eq!((requests, ws), (vec![], vec![]), "{}", sample(&result));
    assert_eq!(result.merged.total().ws.messages_received, JOURNEYS);
    assert_eq!(result.merged.total().ws.bytes_received, 6 * JOURNEYS);
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let mut bytes = frame(0x01, b"h\xc3");
        bytes.extend(frame(0x80, b"llo"));
        let _ = s.write_all(&bytes);
        drain(s, Duration::from_millis(300));
    });
    assert_eq!((requests, ws), (vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)]), "{}", sample(&result));
    assert_eq!(result.merged.total().ws.messages_received, 0);
}

/// The first fragment of a message, then a hang-up: closed by the peer, saying the fragmented
/// message was cut short.
#[test]
fn a_hang_up_between_fragments_says_the_message_was_cut_short() {
    let (result, requests, ws) = against(|s| {
        switch(s);
        drain(s, Duration::from_millis(100));
        let _ = s.write_all(&frame(0x01, b"hel"));
        let _ = s.shutdown(std::net::Shutdown::Write);
        drain(s, Duration::from_millis(300));
    });
    assert_eq!((requests, ws), (vec![], vec![(ErrorKind::WsClosed, JOURNEYS)]), "{}", sample(&result));
    let said = "in the middle of a fragmented message (its last frame never came)";
    assert!(sample(&result).contains(said), "{}", sample(&result));
    assert_eq!(result.merged.total().ws.messages_received, 0);
}

/// A ping of 126 bytes (control frames carry at most 125) and a ping not marked final (control
/// frames are never fragmented): each a protocol error (RFC 6455 5.5).
#[test]
fn a_control_frame_too_long_or_fragmented_is_a_protocol_error() {
    for act in [
        (|s: &mut TcpStream| {
            switch(s);
            drain(s, Duration::from_millis(100));
            let _ = s.write_all(&frame(0x89, &[b'p'; 126]));
            drain(s, Duration::from_millis(300));
        }) as Act,
        |s: &mut TcpStream| {
            switch(s);
            drain(s, Duration::from_millis(100));
            let _ = s.write_all(&frame(0x09, b"half a ping"));
            drain(s, Duration::from_millis(300));
        },
    ] {
        let (result, requests, ws) = against(act);
        assert_eq!((requests, ws), (vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)]), "{}", sample(&result));
        assert_eq!(result.merged.total().ws.pings_received, 0);
    }
}
