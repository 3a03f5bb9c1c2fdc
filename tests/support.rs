//! Helpers for the end-to-end tests: start a target, run a scenario against it, quietly.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use mite_core::run::layered_config;
use mite_core::{Config, Registry, RunOptions, RunResult, Scenario, ScenarioEntry, VolumeModel};

/// Runs `scenario` with `config` overrides and returns the result.
pub fn run(registry: &Registry, scenario: Scenario, overrides: &[String], options: RunOptions) -> RunResult {
    let config = layered_config(&scenario.config, overrides).expect("config");
    let stop = Arc::new(AtomicBool::new(false));
    mite_core::run_scenario(registry, scenario, config, &options, stop, &mut |_| {}).expect("run")
}

/// Options for tests: unpinned (tests share the machine), short tick.
pub fn options(cores: usize, duration: Duration) -> RunOptions {
    RunOptions {
        cores: (0..cores).collect(),
        duration: Some(duration),
        tick: Duration::from_millis(200),
        grace: Duration::from_secs(2),
        pin: false,
        ..RunOptions::default()
    }
}

/// A one-entry scenario.
pub fn scenario(journey: &str, volume: VolumeModel) -> Scenario {
    Scenario {
        name: format!("test:{journey}"),
        entries: vec![ScenarioEntry { journey: journey.into(), datapool: None, volume }],
        config: Config::default(),
    }
}
