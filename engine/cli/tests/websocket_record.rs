//! What `JourneyTest` records of a journey's WebSocket traffic (issue 18, the testing API): each
//! connection's handshake, every data message sent and received and the close, each under the
//! transaction current when it happened, against the embedded target's own WebSocket endpoints
//! and counters; refused handshakes, servers that close or break the protocol mid-journey, and
//! bounds on what is kept (huge, binary and many messages).

use std::time::Duration;

use mite_engine::prelude::*;
use mite_engine::testing::{self, JourneyRecord, RecordedWsClose, WsCloser, WsDirection};

mod support;

fn run(journey: impl AsyncFn(&Ctx, Row) -> JourneyResult + Copy + Send + Sync + 'static, url: &str) -> JourneyRecord {
    JourneyTest::new().config("ws", url).timeout(Duration::from_secs(5)).run(journey).unwrap()
}

fn ws_url(ctx: &Ctx) -> String {
    ctx.config().get_or("ws", "").to_string()
}

/// (direction, text, length, transaction) of every message of the first connection.
fn messages(record: &JourneyRecord) -> Vec<(WsDirection, Option<&str>, usize, &str)> {
    record.websockets[0]
        .messages
        .iter()
        .map(|m| (m.direction, m.text.as_deref(), m.len, m.transaction.as_str()))
        .collect()
}

async fn echo_two(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ws_url(ctx);
    ctx.transaction("chat", async {
        let mut ws = ctx.websocket().connect(&url).await?;
        ws.send_text("one").await?;
        ws.send_text("two").await?;
        ctx.transaction("replies", async {
            ws.receive().await?;
            ws.receive().await?;
            Ok(())
        })
        .await?;
        ws.close().await?;
        Ok(())
    })
    .await
}

#[test]
fn an_echo_exchange_is_recorded_exactly_in_order() {
    let target = testing::target();
    let url = target.ws_url("/ws/echo");
    let record = run(echo_two, &url);
    assert!(record.is_ok() && record.errors.is_empty(), "{record:#?}");
    assert_eq!(record.websockets.len(), 1, "{record:#?}");
    let ws = &record.websockets[0];
    assert_eq!(
        (ws.url.as_str(), ws.status, ws.error.as_deref(), ws.transaction.as_str()),
        (url.as_str(), Some(101), None, "chat")
    );
    use WsDirection::{Received, Sent};
    assert_eq!(
        messages(&record),
        [
            (Sent, Some("one"), 3, "chat"),
            (Sent, Some("two"), 3, "chat"),
            (Received, Some("one"), 3, "chat :: replies"),
            (Received, Some("two"), 3, "chat :: replies"),
        ]
    );
    assert!(ws.messages.iter().all(|m| m.is_text));
    assert_eq!(ws.messages_left_out, 0);
    let close = RecordedWsClose { by: WsCloser::Client, code: Some(1000), error: None, transaction: "chat".into() };
    assert_eq!(ws.close, Some(close));
    // The handshake is a request too, as the engine counts it.
    let requests: Vec<_> =
        record.requests.iter().map(|r| (r.method.as_str(), r.url.as_str(), r.status, r.transaction.as_str())).collect();
    assert_eq!(requests, [("GET", url.as_str(), Some(101), "chat")]);
    // The target's own counts.
    let counts = target.ws_counts();
    assert_eq!(
        (counts.handshakes, counts.messages_received, counts.messages_sent, counts.closes_received),
        (1, 2, 2, 1)
    );
}

async fn connect_only(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ws_url(ctx);
    ctx.transaction("open", async {
        ctx.websocket().connect(&url).await?;
        Ok(())
    })
    .await
}

#[test]
fn a_refused_handshake_is_recorded_with_the_servers_status() {
    let target = testing::target();
    let url = target.ws_url("/ws/no-such-endpoint");
    let record = run(connect_only, &url);
    let ws = &record.websockets[..];
    assert_eq!(ws.len(), 1, "{record:#?}");
    assert_eq!((ws[0].status, ws[0].close.as_ref(), ws[0].messages.len()), (Some(400), None, 0), "{record:#?}");
    let error = ws[0].error.as_deref().unwrap();
    assert!(error.starts_with("ws_handshake: ") && error.contains("400"), "{error}");
    assert_eq!(record.statuses(), [Some(400)]);
    assert_eq!(record.requests[0].error.as_deref(), Some(error));
    assert_eq!(record.errors.len(), 2, "the handshake, then the journey's error: {:?}", record.errors);
    assert_eq!(record.errors[0], error);
    assert_eq!(record.result.as_ref().unwrap_err().kind.map(|k| k.name()), Some("ws_handshake"));
    assert_eq!(target.ws_counts().handshakes, 0, "the target refused it");
}

#[test]
fn a_refused_connection_is_a_handshake_without_status() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}/ws/echo");
    let record = run(connect_only, &url);
    let ws = &record.websockets[0];
    assert_eq!((ws.status, ws.close.as_ref()), (None, None), "{record:#?}");
    assert!(ws.error.as_deref().unwrap().starts_with("refused: "), "{record:#?}");
    assert_eq!(record.statuses(), [None]);
}

async fn receive_three(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ws_url(ctx);
    ctx.transaction("listen", async {
        let mut ws = ctx.websocket().connect(&url).await?;
        for _ in 0..3 {
            ws.receive().await?;
        }
        Ok(())
    })
    .await
}

#[test]
fn a_server_closing_mid_journey_is_recorded_as_its_close() {
    let target = testing::target();
    let record = run(receive_three, &target.ws_url("/ws/broadcast?rate=1000&count=2"));
    use WsDirection::Received;
    assert_eq!(
        messages(&record),
        [(Received, Some(r#"{"seq":0}"#), 9, "listen"), (Received, Some(r#"{"seq":1}"#), 9, "listen")]
    );
    let close = RecordedWsClose { by: WsCloser::Server, code: Some(1000), error: None, transaction: "listen".into() };
    assert_eq!(record.websockets[0].close, Some(close), "{record:#?}");
    let expected = "ws_closed: server closed the WebSocket while a message was expected";
    assert_eq!(record.errors.first().map(String::as_str), Some(expected), "{record:#?}");
    assert_eq!(record.result.as_ref().unwrap_err().kind.map(|k| k.name()), Some("ws_closed"));
}

#[test]
fn a_server_hanging_up_is_a_close_without_code() {
    let target = testing::target();
    let record = run(receive_three, &target.ws_url("/ws/bad/hangup"));
    let close = record.websockets[0].close.clone().unwrap();
    assert_eq!((close.by, close.code), (WsCloser::Server, None), "{record:#?}");
    assert_eq!(close.error.as_deref(), Some("ws_closed: server closed the connection without a close frame"));
    assert_eq!(record.errors.first(), close.error.as_ref(), "counted once, then the journey's error");
    assert_eq!(record.errors.len(), 2, "{:?}", record.errors);
}

#[test]
fn a_protocol_violation_is_closed_by_the_client_with_its_code() {
    let target = testing::target();
    let record = run(receive_three, &target.ws_url("/ws/bad/invalid-utf8"));
    let close = record.websockets[0].close.clone().unwrap();
    assert_eq!((close.by, close.code), (WsCloser::Client, Some(1007)), "{record:#?}");
    assert!(close.error.as_deref().unwrap().starts_with("ws_protocol: "), "{close:?}");
    assert!(record.websockets[0].messages.is_empty(), "the invalid message is not a message");
}

async fn huge_and_binary(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ws_url(ctx);
    let mut ws = ctx.websocket().connect(&url).await?;
    ws.send_text(&"x".repeat(100_000)).await?;
    ws.receive().await?;
    ws.send_binary(&[0xff, 0xfe, 0x00, 0xc3]).await?;
    ws.receive().await?;
    ws.send_text(&"é".repeat(128)).await?; // 256 bytes: kept
    ws.receive().await?;
    ws.close().await?;
    Ok(())
}

#[test]
fn huge_and_binary_messages_keep_their_length_not_their_bytes() {
    let target = testing::target();
    let record = run(huge_and_binary, &target.ws_url("/ws/echo"));
    assert!(record.is_ok(), "{record:#?}");
    let long = "é".repeat(128);
    use WsDirection::{Received, Sent};
    assert_eq!(
        messages(&record),
        [
            (Sent, None, 100_000, "journey"),
            (Received, None, 100_000, "journey"),
            (Sent, None, 4, "journey"),
            (Received, None, 4, "journey"),
            (Sent, Some(long.as_str()), 256, "journey"),
            (Received, Some(long.as_str()), 256, "journey"),
        ]
    );
    let kinds: Vec<bool> = record.websockets[0].messages.iter().map(|m| m.is_text).collect();
    assert_eq!(kinds, [true, true, false, false, true, true]);
    assert_eq!(target.ws_counts().bytes_received, 100_000 + 4 + 256);
}

async fn listen_until_closed(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ws_url(ctx);
    let mut ws = ctx.websocket().connect(&url).await?;
    while ws.receive_or_close(Duration::from_secs(5)).await?.is_some() {}
    Ok(())
}

#[test]
fn many_messages_are_kept_up_to_the_limit_and_the_rest_counted() {
    let target = testing::target();
    let record = run(listen_until_closed, &target.ws_url("/ws/broadcast?rate=100000&count=1234"));
    assert!(record.is_ok(), "{record:#?}");
    let ws = &record.websockets[0];
    assert_eq!((ws.messages.len(), ws.messages_left_out), (1000, 234));
    assert_eq!(ws.messages[999].text.as_deref(), Some(r#"{"seq":999}"#), "the first ones are kept, in order");
    assert_eq!(ws.close.as_ref().map(|c| (c.by, c.code)), Some((WsCloser::Server, Some(1000))));
    assert_eq!(target.ws_counts().messages_sent, 1234);
}

async fn left_open(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ws_url(ctx);
    let mut ws = ctx.websocket().connect(&url).await?;
    ws.send_text("bye").await?;
    Ok(())
}

#[test]
fn a_socket_left_open_is_closed_at_journey_end() {
    let target = testing::target();
    let record = run(left_open, &target.ws_url("/ws/echo"));
    let close = record.websockets[0].close.clone().unwrap();
    assert_eq!((close.by, close.code, close.error), (WsCloser::Dropped, Some(1000), None), "{record:#?}");
}

/// `journey test` prints the WebSocket traffic in its trace, with short texts.
#[test]
fn journey_test_traces_messages_and_the_close() {
    let target = testing::target();
    let url = format!("ws_url={}", target.ws_url("/ws/echo"));
    let out =
        support::engine(&["journey", "test", "websocket_example:echo", "--config", &url, "--config", "ws_messages=2"]);
    let text = support::text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for line in [
        "-> 101",
        r#"websocket sent text "message 0" (9 bytes)"#,
        r#"websocket received text "message 1" (9 bytes)"#,
        "websocket closed (1000)",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
}

async fn impatient(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ws_url(ctx);
    let mut ws = ctx.websocket().connect(&url).await?;
    ws.receive().await?; // the first message comes at once, then one every 500 ms
    for _ in 0..2 {
        let early = ws.receive_timeout(Duration::from_millis(20)).await;
        ctx.send("early", &[("timed_out", &early.is_err())]);
        ws.receive().await?;
    }
    ws.close().await?;
    Ok(())
}

#[test]
fn a_receive_that_times_out_is_an_error_not_a_close() {
    let target = testing::target();
    let record = run(impatient, &target.ws_url("/ws/broadcast?rate=2&count=3"));
    assert!(record.is_ok(), "{record:#?}");
    let timed_out: Vec<_> = record.messages.iter().map(|m| m.fields[0].1.as_str()).collect();
    assert_eq!(timed_out, ["true", "true"], "{record:#?}");
    assert_eq!(record.errors, ["timeout: no message within 20ms", "timeout: no message within 20ms"]);
    let ws = &record.websockets[0];
    let texts = [Some(r#"{"seq":0}"#), Some(r#"{"seq":1}"#), Some(r#"{"seq":2}"#)];
    assert_eq!(ws.texts(WsDirection::Received), texts, "nothing lost");
    assert_eq!(ws.close.as_ref().map(|c| (c.by, c.code)), Some((WsCloser::Client, Some(1000))), "{record:#?}");
}

async fn close_before_the_echo(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ws_url(ctx);
    let mut ws = ctx.websocket().connect(&url).await?;
    ws.send_text("late").await?;
    ctx.transaction("leave", async { Ok(ws.close().await?) }).await?;
    Ok(())
}

/// A message that arrives while the journey closes is counted as received, so it is recorded
/// too (under the transaction of the close).
#[test]
fn a_message_arriving_during_the_close_is_recorded() {
    let target = testing::target();
    let record = run(close_before_the_echo, &target.ws_url("/ws/echo"));
    assert!(record.is_ok(), "{record:#?}");
    use WsDirection::{Received, Sent};
    assert_eq!(messages(&record), [(Sent, Some("late"), 4, "journey"), (Received, Some("late"), 4, "leave")]);
    let close = record.websockets[0].close.as_ref().unwrap();
    assert_eq!((close.by, close.code, close.transaction.as_str()), (WsCloser::Client, Some(1000), "leave"));
    assert_eq!(target.ws_counts().messages_sent, 1);
}

/// A WebSocket step's captures show in `journey test`'s trace as they are taken, after the
/// message they came from; one that takes nothing says why.
#[test]
fn journey_test_traces_websocket_captures() {
    let target = testing::target();
    let scratch = support::Scratch::new();
    let file = scratch.file("listen.toml");
    let steps = "{ receive = 1, capture = { seq = { json = \"seq\" } } }, \
                 { receive = 1, capture = { nope = { json = \"user\" } } }";
    std::fs::write(
        &file,
        format!(
            "[websockets.listen]\nurl = \"{}\"\nsteps = [ {steps} ]\n[[scenario]]\njourney = \"listen\"\n\
             volume = {{ constant = 1 }}\n",
            target.ws_url("/ws/broadcast?rate=50&count=3")
        ),
    )
    .unwrap();
    let out = support::engine(&["journey", "test", "listen", "--scenario", file.to_str().unwrap()]);
    let text = support::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let first = lines.iter().position(|l| *l == r#"websocket received text "{\"seq\":0}" (9 bytes)"#);
    let first = first.unwrap_or_else(|| panic!("{text}"));
    assert_eq!(lines[first + 1], r#"capture seq = "0""#, "{text}");
    assert!(lines[first + 2].starts_with("websocket received text"), "{text}");
    let missed = r#"capture nope = { json = "user" } FAILED: not found in text "{\"seq\":1}" (9 bytes)"#;
    assert_eq!(lines[first + 3], missed, "{text}");
}

/// `receive = "until-close"` against a server that never closes: `journey test` ends by itself
/// at the step's timeout, and its trace says so where it happened, before the close (the
/// timeout was counted but not traced: the trace showed only the close failing).
#[test]
fn journey_test_traces_an_until_close_that_outlasts_its_timeout() {
    let target = testing::target();
    let scratch = support::Scratch::new();
    let file = scratch.file("endless.toml");
    std::fs::write(
        &file,
        format!(
            "[websockets.listen]\nurl = \"{}\"\nsteps = [ {{ receive = \"until-close\", timeout = \"300ms\" }} ]\n\
             [[scenario]]\njourney = \"listen\"\nvolume = {{ constant = 1 }}\n",
            target.ws_url("/ws/broadcast?rate=50&count=10000000")
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = support::engine(&["journey", "test", "listen", "--scenario", file.to_str().unwrap()]);
    let text = support::text(&out);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(1), "{text}");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let timed_out = lines.iter().position(|l| {
        l.starts_with("websocket FAILED: timeout: the server sent ")
            && l.ends_with(
                "did not close within 300ms: a receive = \"until-close\" step waits at most its timeout for the close",
            )
    });
    let timed_out = timed_out.unwrap_or_else(|| panic!("{text}"));
    assert!(lines[timed_out + 1].starts_with("websocket close FAILED: server did not answer the close"), "{text}");
}
