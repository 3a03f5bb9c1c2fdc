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
pub use crate::journey::record::JourneyRecord;
pub use crate::journey::{
    Ctx, Http, JourneyError, JourneyResult, Registry, RequestBuilder, Scenario, ScenarioEntry, ScenarioError,
    Transaction,
};
pub use crate::model::config::Config;
pub use crate::model::datapool::{DataPool, Row};
pub use crate::model::volume::VolumeModel;
pub use crate::ws::{WebSocket, WebSockets, WsConnect, WsMessage};
