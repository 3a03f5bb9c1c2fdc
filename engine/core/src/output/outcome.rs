//! What a run measured, as the outputs read it: the merged statistics, the intervals, why the
//! run stopped and where it ran.

use std::collections::BTreeSet;

use crate::exec::runtime::Driver;
use crate::stats::Merged;

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The duration elapsed.
    Duration,
    /// Every volume model stopped or every datapool ran out.
    Completed,
    /// Ctrl-C (or the stop flag).
    Interrupted,
}

impl StopReason {
    /// Every reason, in the order results name them.
    pub const ALL: [StopReason; 3] = [StopReason::Duration, StopReason::Completed, StopReason::Interrupted];

    /// Name used in results.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Duration => "duration",
            StopReason::Completed => "completed",
            StopReason::Interrupted => "interrupted",
        }
    }

    /// The reason a result file names, if it is one.
    pub fn from_name(name: &str) -> Option<StopReason> {
        StopReason::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// One progress interval, merged across cores.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct IntervalPoint {
    /// Seconds since start at the end of the interval.
    pub elapsed_s: f64,
    /// Requests completed in the interval.
    pub requests: u64,
    /// Attempts failed in the interval (sent or not).
    pub errors: u64,
    /// Attempts that failed before a byte was written, in the interval (not in `requests`).
    pub not_sent: u64,
    /// Transactions completed in the interval.
    pub transactions: u64,
    /// Requests per second over the interval.
    pub rps: f64,
    /// Median latency of the interval (requests, or transactions when there were none), µs.
    pub p50_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Journeys in flight at the end of the interval, all cores.
    pub journeys_in_flight: u64,
    /// What the report draws over time (errors by kind, percentiles per transaction, ...).
    pub detail: crate::output::timeline::IntervalDetail,
    /// The injector's own event-loop lag at p99 over the interval, µs (0: not measured).
    pub lag_p99_us: u64,
    /// The busiest core's CPU share over the interval, percent.
    pub busy_percent_max: f64,
    /// The injector was saturated: a core busy at least 95 %, or its lag a significant share
    /// of the latencies it reports (`stats::injector_load::InjectorLoad::saturated`).
    pub saturated: bool,
}

/// Everything a run measured.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Scenario name.
    pub scenario: String,
    /// Core ids used.
    pub cores: Vec<usize>,
    /// Driver per core.
    pub drivers: Vec<Driver>,
    /// Why io_uring was not used, per core that fell back.
    pub fallbacks: Vec<String>,
    /// Wall-clock start, seconds since the Unix epoch.
    pub started_at_unix_s: f64,
    /// Measured length of the run.
    pub duration_s: f64,
    /// Why it ended.
    pub stopped_by: StopReason,
    /// All statistics merged.
    pub merged: Merged,
    /// Progress over time.
    pub intervals: Vec<IntervalPoint>,
    /// Execution segment `k/n` when the run was one of several injectors.
    pub segment: Option<String>,
}

impl RunResult {
    /// The driver, or `mixed` when cores differ.
    pub fn driver_name(&self) -> &'static str {
        let kinds: BTreeSet<&str> = self.drivers.iter().map(|d| d.name()).collect();
        match kinds.len() {
            1 => kinds.into_iter().next().unwrap_or("none"),
            0 => "none",
            _ => "mixed",
        }
    }
}
