//! WebSocket examples (Mite's `@mite_websocket`): an echo journey that times each request and
//! its echoed reply, and a listener that takes everything a broadcast endpoint pushes.

use mite_core::{Ctx, JourneyError, JourneyResult, Row};

/// Where the examples connect unless `ws_url` is configured.
pub const WS_URL_DEFAULT: &str = "ws://127.0.0.1:8080/ws/echo";

/// `websocket_example:echo`: in transaction `ws_echo`, connects to `ws_url`, sends
/// `ws_messages` (default 10) text messages one at a time, each answered by its echo (timed as a
/// reply), then closes. Every iteration sends exactly `ws_messages` messages and expects as many
/// back.
pub async fn echo(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", WS_URL_DEFAULT);
    let count: u32 = parse(ctx, "ws_messages", "10")?;
    ctx.transaction("ws_echo", async {
        let mut ws = ctx.websocket().connect(url).await?;
        for i in 0..count {
            let text = format!("message {i}");
            ws.request_reply(&text, |reply| reply.text() == Some(text.as_str())).await?;
        }
        ws.close().await?;
        Ok(())
    })
    .await
}

/// `websocket_example:listen`: in transaction `ws_listen`, connects to `ws_url` and receives
/// until the server closes normally; `ws_expect` (when set) is the number of messages it must
/// have pushed.
pub async fn listen(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "ws://127.0.0.1:8080/ws/broadcast?rate=10&count=10");
    let expect: Option<u64> = match ctx.config().get("ws_expect") {
        Some(_) => Some(parse(ctx, "ws_expect", "0")?),
        None => None,
    };
    let wait = std::time::Duration::from_secs(parse(ctx, "ws_wait_s", "30")?);
    ctx.transaction("ws_listen", async {
        let mut ws = ctx.websocket().connect(url).await?;
        let mut received = 0u64;
        while ws.receive_or_close(wait).await?.is_some() {
            received += 1;
        }
        match expect {
            Some(expect) if expect != received => {
                Err(JourneyError::msg(format!("received {received} messages, expected {expect}")))
            }
            _ => Ok(()),
        }
    })
    .await
}

fn parse<T: std::str::FromStr>(ctx: &Ctx, key: &str, default: &str) -> Result<T, JourneyError> {
    let text = ctx.config().get_or(key, default);
    text.parse().map_err(|_| JourneyError::msg(format!("config {key}={text:?}: expected a whole number")))
}
