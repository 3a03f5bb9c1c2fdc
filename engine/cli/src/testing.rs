//! The testing API for journey authors (Mite's `test_context`, `run_single_journey`,
//! `http_spy`): run one journey with one row and a configuration from a plain `#[test]` and
//! read what it did, against the embedded target or any URL.
//!
//! ```
//! use mite_engine::prelude::*;
//! use mite_engine::testing;
//!
//! async fn home(ctx: &Ctx, _row: Row) -> JourneyResult {
//!     let url = format!("{}/json", ctx.config().get_or("base", "http://127.0.0.1:8080"));
//!     ctx.transaction("home", async {
//!         ctx.http().get(&url).send().await?;
//!         ctx.send("seen", &[("page", &"home")]);
//!         Ok(())
//!     })
//!     .await
//! }
//!
//! let target = testing::target();
//! let record = JourneyTest::new().config("base", target.url("")).run(home).unwrap();
//! assert!(record.is_ok(), "{:?}", record.result);
//! assert_eq!(record.requests[0].method, "GET");
//! assert_eq!(record.statuses(), [Some(200)]);
//! assert_eq!(record.transactions[0].name, "home");
//! assert_eq!(record.messages[0].kind, "seen");
//! assert_eq!(target.hits(), 1);
//! ```
//!
//! A journey's WebSocket traffic is recorded too: each connection in `record.websockets`, with
//! its handshake, the data messages sent and received (the first 1,000 per connection, then
//! only counted; texts up to 256 bytes) and its close, each under its transaction:
//!
//! ```
//! use mite_engine::prelude::*;
//! use mite_engine::testing::{self, WsCloser, WsDirection};
//!
//! async fn chat(ctx: &Ctx, _row: Row) -> JourneyResult {
//!     let url = ctx.config().get_or("ws", "ws://127.0.0.1:8080/ws/echo").to_string();
//!     ctx.transaction("chat", async {
//!         let mut ws = ctx.websocket().connect(&url).await?;
//!         ws.send_text("hello").await?;
//!         ws.receive().await?;
//!         ws.close().await?;
//!         Ok(())
//!     })
//!     .await
//! }
//!
//! let target = testing::target();
//! let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(chat).unwrap();
//! let ws = &record.websockets[0]; // url, transaction, status, protocol, error, messages, close
//! assert_eq!((ws.status, ws.error.as_deref()), (Some(101), None));
//! assert_eq!(ws.texts(WsDirection::Sent), [Some("hello")]);
//! let echo = &ws.messages[1]; // direction, is_text, len, text (when short), transaction
//! assert_eq!((echo.direction, echo.len, echo.transaction.as_str()), (WsDirection::Received, 5, "chat"));
//! let close = ws.close.as_ref().unwrap(); // by, code, error, transaction
//! assert_eq!((close.by, close.code), (WsCloser::Client, Some(1000)));
//! assert_eq!(record.statuses(), [Some(101)]); // the handshake is a request too
//! assert_eq!(target.ws_counts().messages_received, 1); // the target's own count
//! ```

pub use mite_core::journey::journey_test::{JourneyTest, JourneyTestError};
pub use mite_core::journey::record::{
    JourneyFailure, JourneyRecord, RecordedMessage, RecordedRequest, RecordedTransaction, RecordedWebSocket,
    RecordedWsClose, RecordedWsMessage, WsCloser, WsDirection,
};
pub use mite_tools::{Target, TargetOptions};

/// Starts the embedded target (the one `mite-engine demo` and `mite-engine target` run) on an
/// ephemeral loopback port; it stops when dropped. Routes: `/`, `/json`, `/echo`, `/bytes/N`,
/// `/status/CODE`, `/delay/MS`, the login flow (`POST /login`, `/account`) and the hostile
/// `/bad/...` ones; `target.url("/json")` names one, `target.hits()` counts what it served.
///
/// # Panics
/// When no loopback port can be bound (a test cannot go on without its target).
pub fn target() -> Target {
    Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() })
        .unwrap_or_else(|err| panic!("starting the embedded target on 127.0.0.1: {err}"))
}
