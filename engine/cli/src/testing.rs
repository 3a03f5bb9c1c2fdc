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
