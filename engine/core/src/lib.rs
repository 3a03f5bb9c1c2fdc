//! mite-engine's core: thread-per-core executors running Mite-style journeys, fed by
//! datapools and driven by volume models, with a hand-rolled HTTP/1.1 client and per-core
//! HDR statistics merged by one stats thread. See `engine/ARCHITECTURE.md`.
//!
//! A journey author's surface is the [`prelude`] (re-exported by the `mite-engine` crate, which
//! a user crate depends on) and the crate's [`Error`]. The other modules are public only so the
//! engine's own crates (the command line, its tests and benchmarks) can reach them: they are
//! hidden from these docs and may change in any release.

#[doc(hidden)]
pub mod driver;
mod error;
#[doc(hidden)]
pub mod exec;
#[doc(hidden)]
pub mod http;
#[doc(hidden)]
pub mod journey;
#[cfg(test)]
mod layers;
#[doc(hidden)]
pub mod limits;
#[doc(hidden)]
pub mod model;
#[doc(hidden)]
pub mod output;
pub mod prelude;
#[doc(hidden)]
pub mod run;
#[doc(hidden)]
pub mod scenario;
#[doc(hidden)]
pub mod stats;
#[doc(hidden)]
pub mod ws;

#[doc(hidden)]
pub use driver::{Driver, DriverChoice, sleep};
pub use error::{Error, Result};
#[doc(hidden)]
pub use journey::{Ctx, JourneyError, JourneyResult, Registry, Scenario, ScenarioEntry};
#[doc(hidden)]
pub use model::config::Config;
#[doc(hidden)]
pub use model::datapool::{DataPool, Row};
#[doc(hidden)]
pub use model::volume::VolumeModel;
#[doc(hidden)]
pub use run::{RunOptions, RunResult, journey_test, run_scenario};
