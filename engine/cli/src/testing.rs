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

pub use mite_core::journey::journey_test::JourneyTest;
/// Why a journey test could not start (an unknown journey, a TLS option, no I/O driver); a
/// journey that fails is not one of these.
///
/// ```
/// use mite_engine::testing::{JourneyTest, JourneyTestError};
/// # use mite_engine::prelude::*;
/// # async fn browse(_ctx: &Ctx, _row: Row) -> JourneyResult { Ok(()) }
///
/// let mut registry = Registry::default();
/// registry.journey("shop:browse", browse);
/// let err = JourneyTest::new().run_registered(&registry, "shop:brwse").unwrap_err();
/// assert!(matches!(err, JourneyTestError::UnknownJourney(_)));
/// assert_eq!(err.to_string(), r#"unknown journey "shop:brwse"; did you mean shop:browse?"#);
/// ```
pub use mite_core::journey::journey_test::JourneyTestError;
/// Why the journey under test failed, as data: the message, its fields and the request
/// error kind.
///
/// ```
/// use mite_engine::testing::{JourneyFailure, JourneyTest};
/// # use mite_engine::prelude::*;
///
/// async fn pay(_ctx: &Ctx, _row: Row) -> JourneyResult {
///     Err(JourneyError::msg("declined").field("card", &"visa"))
/// }
///
/// let failure: JourneyFailure = JourneyTest::new().run(pay).unwrap().result.unwrap_err();
/// assert_eq!((failure.message.as_str(), failure.kind), ("declined", None));
/// assert_eq!(failure.fields, [("card".to_string(), "visa".to_string())]);
/// assert_eq!(failure.to_string(), "declined (card=visa)");
/// ```
pub use mite_core::journey::record::JourneyFailure;
/// What the journey under test did: its result, requests, transactions, messages, errors.
///
/// ```
/// use mite_engine::testing::{JourneyRecord, JourneyTest};
/// # use mite_engine::prelude::*;
///
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     ctx.transaction("home", async { Ok(()) }).await
/// }
///
/// let record: JourneyRecord = JourneyTest::new().run(journey).unwrap();
/// assert!(record.is_ok() && record.requests.is_empty() && record.errors.is_empty());
/// assert!(record.transaction("home").is_some_and(|home| home.error.is_none()));
/// ```
pub use mite_core::journey::record::JourneyRecord;
/// One `ctx.send(kind, fields)` of the journey under test.
///
/// ```
/// use mite_engine::testing::{JourneyTest, RecordedMessage};
/// # use mite_engine::prelude::*;
///
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     ctx.send("basket", &[("items", &3)]);
///     Ok(())
/// }
///
/// let record = JourneyTest::new().run(journey).unwrap();
/// let expected = RecordedMessage { kind: "basket".into(), fields: vec![("items".into(), "3".into())] };
/// assert_eq!(record.messages, [expected]);
/// ```
pub use mite_core::journey::record::RecordedMessage;
/// One request of the journey under test (each redirect hop is one): method, URL, status,
/// error and transaction.
///
/// ```
/// use mite_engine::testing::{self, JourneyTest, RecordedRequest};
/// # use mite_engine::prelude::*;
///
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = format!("{}/status/404", ctx.config().get_or("base", ""));
///     ctx.transaction("lookup", async { Ok(ctx.http().get(&url).expect_status(404..=404).send().await?) }).await?;
///     Ok(())
/// }
///
/// let target = testing::target();
/// let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
/// let request: &RecordedRequest = &record.requests[0];
/// assert_eq!((request.method.as_str(), request.url.clone()), ("GET", target.url("/status/404")));
/// assert_eq!((request.status, request.error.as_deref(), request.transaction.as_str()), (Some(404), None, "lookup"));
/// ```
pub use mite_core::journey::record::RecordedRequest;
/// One transaction of the journey under test, recorded when it ended.
///
/// ```
/// use mite_engine::testing::{JourneyTest, RecordedTransaction};
/// # use mite_engine::prelude::*;
///
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     ctx.transaction("outer", async { ctx.transaction("inner", async { Ok(()) }).await }).await
/// }
///
/// let record = JourneyTest::new().run(journey).unwrap();
/// let inner: &RecordedTransaction = &record.transactions[0]; // inner ones end first
/// assert_eq!((inner.name.as_str(), inner.error.as_deref()), ("outer :: inner", None));
/// assert!(inner.duration <= record.transactions[1].duration);
/// ```
pub use mite_core::journey::record::RecordedTransaction;
/// The WebSocket side of a journey under test: each connection (`RecordedWebSocket`: its
/// URL, handshake, messages and close), each data message (`RecordedWsMessage`: direction,
/// text or binary, length, the text when short), and the close (`RecordedWsClose`: by whom,
/// the code).
///
/// ```
/// use mite_engine::testing::{self, JourneyTest, RecordedWebSocket, WsCloser, WsDirection};
/// # use mite_engine::prelude::*;
///
/// async fn hello(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let mut ws = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
///     ws.send_text("hi").await?;
///     ws.receive().await?;
///     Ok(ws.close().await?)
/// }
///
/// let target = testing::target();
/// let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(hello).unwrap();
/// let ws: &RecordedWebSocket = &record.websockets[0];
/// assert_eq!(ws.messages.iter().map(|m| m.direction).collect::<Vec<_>>(), [WsDirection::Sent, WsDirection::Received]);
/// assert_eq!(ws.close.as_ref().map(|c| c.by), Some(WsCloser::Client));
/// ```
pub use mite_core::journey::record::{RecordedWebSocket, RecordedWsClose, RecordedWsMessage, WsCloser, WsDirection};
/// The embedded target server, started by [`target`] (or [`Target::start`] with options):
/// routes for well-behaved and hostile answers, and its own request counts.
///
/// ```
/// use mite_engine::testing::{Target, TargetOptions};
///
/// let options = TargetOptions { count_routes: true, ..TargetOptions::default() }; // 127.0.0.1, any port
/// let target: Target = Target::start(options).unwrap();
/// assert!(target.url("/json").starts_with("http://127.0.0.1:"));
/// assert_eq!(target.hits(), 0);
/// assert_eq!(target.ws_url("/ws/echo"), format!("ws://{}/ws/echo", target.addr()));
/// ```
pub use mite_tools::Target;
/// How to start a [`Target`]: address, threads, per-route counting.
///
/// ```
/// use mite_engine::testing::{Target, TargetOptions};
///
/// let options = TargetOptions { addr: "[::1]:0".parse().unwrap(), ..TargetOptions::default() };
/// # if std::net::TcpListener::bind("[::1]:0").is_err() { return; } // no IPv6 loopback here
/// let target = Target::start(options).unwrap();
/// assert!(target.url("/").starts_with("http://[::1]:"));
/// ```
pub use mite_tools::TargetOptions;

/// Starts the embedded target (the one `mite-engine demo` and `mite-engine target` run) on an
/// ephemeral loopback port; it stops when dropped. Routes: `/`, `/json`, `/echo`, `/bytes/N`,
/// `/status/CODE`, `/delay/MS`, the login flow (`POST /login`, `/account`) and the hostile
/// `/bad/...` ones; `target.url("/json")` names one, `target.hits()` counts what it served.
///
/// # Panics
/// When no loopback port can be bound (a test cannot go on without its target).
///
/// ```
/// use mite_engine::prelude::*;
/// use mite_engine::testing;
///
/// async fn shop(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let base = ctx.config().get_or("base", "");
///     ctx.http().get(&format!("{base}/json")).send().await?;
///     ctx.http().get(&format!("{base}/")).send().await?;
///     Ok(())
/// }
///
/// let target = testing::target();
/// assert!(JourneyTest::new().config("base", target.url("")).run(shop).unwrap().is_ok());
/// assert_eq!((target.hits(), target.route_hits("/json")), (2, 1));
/// ```
pub fn target() -> Target {
    Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() })
        .unwrap_or_else(|err| panic!("starting the embedded target on 127.0.0.1: {err}"))
}

#[cfg(test)]
mod tests {
    /// Every item `mite_engine::testing` and the crate root show a journey author (`pub use`,
    /// `pub fn`) carries an example in its doc comment, as the prelude's do (a test in
    /// `mite_core::prelude` holds those). `JourneyTest`'s example is on its definition.
    #[test]
    fn every_public_item_has_an_example() {
        let mut missing = Vec::new();
        for (file, text) in [("testing.rs", include_str!("testing.rs")), ("lib.rs", include_str!("lib.rs"))] {
            let lines: Vec<&str> = text.split("#[cfg(test)]").next().unwrap().lines().collect();
            for (at, line) in lines.iter().enumerate() {
                let public = line.starts_with("pub use ") || line.starts_with("pub fn ");
                let module = *line == "pub use mite_core::prelude;" || line.ends_with("journey_test::JourneyTest;");
                let doc = lines[..at].iter().rev().take_while(|l| l.starts_with("///") || l.starts_with("#["));
                if public && !module && !doc.clone().any(|l| l.starts_with("/// ```")) {
                    missing.push(format!("{file}:{}: {line}", at + 1));
                }
            }
        }
        assert!(missing.is_empty(), "give each a short example that runs as a doc test:\n{}", missing.join("\n"));
    }
}
