//! mite-engine's core: thread-per-core executors running Mite-style journeys, fed by
//! datapools and driven by volume models, with a hand-rolled HTTP/1.1 client and per-core
//! HDR statistics merged by one stats thread. See `engine/ARCHITECTURE.md`.

pub mod driver;
mod error;
pub mod exec;
pub mod http;
pub mod journey;
#[cfg(test)]
mod layers;
pub mod limits;
pub mod model;
pub mod output;
pub mod prelude;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod ws;

pub use driver::{Driver, DriverChoice, sleep};
pub use error::{Error, Result};
pub use journey::{Ctx, JourneyError, JourneyResult, Registry, Scenario, ScenarioEntry};
pub use model::config::Config;
pub use model::datapool::{DataPool, Row};
pub use model::volume::VolumeModel;
pub use run::{RunOptions, RunResult, journey_test, run_scenario};
