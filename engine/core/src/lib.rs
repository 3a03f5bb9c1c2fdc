//! mite-engine's core: thread-per-core executors running Mite-style journeys, fed by
//! datapools and driven by volume models, with a hand-rolled HTTP/1.1 client and per-core
//! HDR statistics merged by one stats thread. See `engine/ARCHITECTURE.md`.

pub mod arrivals;
pub mod config;
pub mod cores;
pub mod datapool;
pub mod declarative;
pub mod exposition;
pub mod file_words;
pub mod har;
pub mod hdr_log;
pub mod html;
pub mod http;
pub mod http_metrics;
pub mod injector_load;
pub mod journey;
pub mod limits;
pub mod merge_parts;
pub mod pacing;
pub mod preflight;
pub mod report;
pub mod result_frame;
pub mod results;
pub mod run;
pub mod runtime;
pub mod scenario_file;
pub mod session;
pub mod shard;
pub mod split;
pub mod stats;
pub mod step_options;
pub mod template;
pub mod threshold;
pub mod timeline;
pub mod uring_diagnosis;
pub mod volume;
pub mod ws;

pub use config::Config;
pub use datapool::{DataPool, Row};
pub use journey::{Ctx, JourneyError, JourneyResult, Registry, Scenario, ScenarioEntry};
pub use run::{RunOptions, RunResult, journey_test, run_scenario};
pub use runtime::{Driver, DriverChoice, sleep};
pub use volume::VolumeModel;
