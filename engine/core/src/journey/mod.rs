//! The journey API, as in Mite: `async fn journey(ctx, args)`, with `ctx.transaction`,
//! `ctx.send`, `ctx.config()` and `ctx.http()`, the registry that names journeys and
//! scenarios by `module:name` strings, and what runs them on a core: the shard (one core's
//! state a `Ctx` works against) and the journey slots.

mod ctx;
mod error;
mod exchange;
pub mod journey_test;
pub mod pacing;
pub(crate) mod panics;
pub mod record;
mod registry;
mod request;
pub mod session;
pub mod shard;
pub mod slot;
pub mod trace;

pub use ctx::{Ctx, Transaction};
pub use error::{JourneyError, JourneyResult};
pub(crate) use exchange::count_connections;
pub(crate) use registry::closest;
pub use registry::{DataPoolFn, Registry, Scenario, ScenarioEntry, ScenarioError, ScenarioFn, UnknownName};
pub use request::{BasicAuthProblem, Http, RequestBuilder};
pub(crate) use request::{KeptRequest, send_in_place};
pub use slot::Journey;
