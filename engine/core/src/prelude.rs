//! What journey authors use, in one import: `use mite_engine::prelude::*;` (or
//! `mite_core::prelude::*`). Everything else in the engine's crates is its own business.
//!
//! A journey, its datapool and its scenario, registered by `module:name` as Mite names them:
//!
//! ```
//! use mite_core::prelude::*;
//!
//! async fn browse(ctx: &Ctx, row: Row) -> JourneyResult {
//!     let base = ctx.config().get_or("base", "http://127.0.0.1:8080").to_string();
//!     let user = row.by_name("user").unwrap_or("anonymous").to_string();
//!     ctx.transaction("home", async {
//!         ctx.http().get(&base).send().await?;
//!         ctx.send("visited", &[("user", &user)]);
//!         Ok(())
//!     })
//!     .await
//! }
//!
//! fn users() -> DataPool {
//!     let columns: std::sync::Arc<[String]> = vec!["user".to_string()].into();
//!     let rows = ["ann", "bob"].iter().map(|u| Row::with_columns(vec![u.to_string()], columns.clone()));
//!     DataPool::recyclable("users", rows.collect())
//! }
//!
//! fn scenario(_config: &Config) -> Result<Scenario, ScenarioError> {
//!     Ok(Scenario {
//!         name: "shop".into(),
//!         entries: vec![ScenarioEntry {
//!             journey: "shop:browse".into(),
//!             datapool: Some(users()),
//!             volume: VolumeModel::constant(4),
//!         }],
//!         config: Config::default(),
//!     })
//! }
//!
//! let mut registry = Registry::default();
//! registry.journey("shop:browse", browse);
//! registry.datapool("shop:users", users);
//! registry.scenario("shop:scenario", scenario);
//! assert_eq!(registry.journey_names().collect::<Vec<_>>(), ["shop:browse"]);
//! assert_eq!(registry.find_datapool("shop:users").unwrap().len(), 2);
//! ```

pub use crate::driver::sleep;
pub use crate::http::{HttpError, Response};
pub use crate::journey::journey_test::JourneyTest;
/// What a [`JourneyTest`] saw the journey do: its result, requests, transactions, messages and
/// errors, in order.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// // `target`: the embedded target server, `mite_engine::testing::target()` in a user crate
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let base = ctx.config().get_or("base", "");
///     ctx.transaction("buy", async { Ok(ctx.http().get(&format!("{base}/status/503")).send().await?) }).await?;
///     Ok(())
/// }
///
/// let record: JourneyRecord = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
/// assert!(!record.is_ok());
/// assert_eq!((record.requests[0].method.as_str(), record.requests[0].status), ("GET", Some(503)));
/// assert!(record.transaction("buy").unwrap().error.as_ref().unwrap().contains("answered 503"));
/// assert_eq!(record.errors.len(), 2); // the failed request, then the journey's own error
/// ```
pub use crate::journey::record::JourneyRecord;
pub use crate::journey::{
    Ctx, Http, JourneyError, JourneyResult, Registry, RequestBuilder, Scenario, ScenarioEntry, ScenarioError,
    Transaction,
};
pub use crate::model::config::Config;
pub use crate::model::datapool::{DataPool, Row};
pub use crate::model::volume::VolumeModel;
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn chat(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = ctx.config().get_or("ws", "").to_string();
///     let mut socket: WebSocket<'_> = ctx.websocket().connect(&url).await?;
///     socket.send_text("hello").await?;
///     assert_eq!(socket.receive().await?.text(), Some("hello"));
///     Ok(socket.close().await?)
/// }
/// # let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(chat).unwrap();
/// # assert!(record.is_ok(), "{:?}", record.result);
/// ```
pub use crate::ws::WebSocket;
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = ctx.config().get_or("ws", "").to_string();
///     let sockets: WebSockets<'_> = ctx.websocket();
///     let (mut a, mut b) = (sockets.connect(&url).await?, sockets.connect(&url).await?);
///     a.send_text("a").await?;
///     b.send_text("b").await?;
///     assert_eq!((a.receive().await?.text(), b.receive().await?.text()), (Some("a"), Some("b")));
///     Ok(())
/// }
/// # let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(journey).unwrap();
/// # assert!(record.is_ok(), "{:?}", record.result);
/// ```
pub use crate::ws::WebSockets;
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = ctx.config().get_or("ws", "").to_string();
///     let connect: WsConnect<'_> = ctx.websocket().connect(&url).header("Cookie", "seen=no");
///     let mut socket = connect.await?; // this endpoint sends the Cookie header it got first
///     assert_eq!(socket.receive().await?.text(), Some("seen=no"));
///     Ok(())
/// }
/// # let record = JourneyTest::new().config("ws", target.ws_url("/ws/cookie")).run(journey).unwrap();
/// # assert!(record.is_ok(), "{:?}", record.result);
/// ```
pub use crate::ws::WsConnect;
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let mut socket = ctx.websocket().connect(ctx.config().get_or("ws", "")).await?;
///     socket.send_binary(&[1, 2, 3]).await?;
///     let message: WsMessage = socket.receive().await?;
///     assert!(!message.is_text() && message.text().is_none());
///     assert_eq!(message.bytes().as_ref(), [1, 2, 3]);
///     Ok(())
/// }
/// # let record = JourneyTest::new().config("ws", target.ws_url("/ws/echo")).run(journey).unwrap();
/// # assert!(record.is_ok(), "{:?}", record.result);
/// ```
pub use crate::ws::WsMessage;
