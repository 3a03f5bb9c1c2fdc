//! What a run measured, as the outputs read it: the merged statistics, the intervals, why the
//! run stopped and where it ran.

use std::collections::BTreeSet;

use crate::driver::Driver;
use crate::limits::TIMELINE_TXN_POINTS_MAX;
use crate::stats::Merged;

/// Why a run ended (named in result files as `duration`, `completed`, `interrupted`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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

    /// How the run stopped, in words for people (`stopped by an interrupt ...`); the result
    /// file keeps [`StopReason::name`]. A merge's reason is its parts': one interrupted part
    /// makes it interrupted. A completed run says why with [`RunResult::stopped_words`].
    pub fn words(self) -> &'static str {
        match self {
            StopReason::Duration => "stopped at the end of its duration",
            StopReason::Completed => {
                "stopped when its journeys were done (every volume model ended or every datapool ran out)"
            }
            StopReason::Interrupted => "stopped by an interrupt (SIGINT, SIGTERM or SIGHUP)",
        }
    }
}

/// Which part of the run an interval belongs to (a result file's `intervals[].phase`), as its
/// progress line says: `run` (a whole interval), `stop` (a piece cut short by a stop: the
/// run's, or one core's while the others go on) or `grace` (the grace after the stop, when
/// journeys in flight finish and none starts). Ordered as they come. An interval that short
/// pieces were folded into keeps its own phase (a piece is folded only when shorter than half
/// a tick, into an interval at least that long) and lists the pieces, with their lengths, in
/// [`IntervalPoint::folded`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntervalPhase {
    /// A whole interval of the run.
    #[default]
    Run,
    /// A piece cut short by a stop.
    Stop,
    /// A piece of the grace.
    Grace,
}

/// A piece shorter than half a tick (the piece up to the stop, a piece of the grace, the run's
/// last) folded into the interval before it in the timeline, so that it does not show a rate
/// from a few milliseconds: what it was, and how long.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FoldedPiece {
    /// The piece's own phase, as its progress line said.
    pub phase: IntervalPhase,
    /// Its length, seconds.
    pub seconds: f64,
}

impl FoldedPiece {
    /// Adds a piece to those folded into one interval: to the last one when of the same phase
    /// (several cores' stops), so that there is at most one per phase, in the phases' order.
    pub fn add(folded: &mut Vec<FoldedPiece>, phase: IntervalPhase, seconds: f64) {
        match folded.last_mut() {
            Some(last) if last.phase == phase => last.seconds += seconds,
            _ => folded.push(FoldedPiece { phase, seconds }),
        }
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
    /// Requests per second over the interval: over `seconds`.
    pub rps: f64,
    /// The time the interval's figures cover, seconds, which every rate of it is over: the
    /// time since the line before, or, when a core reported late (its report reaching back
    /// further), the longest span one core's report in it covered.
    pub seconds: f64,
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
    /// The part of the run it belongs to.
    pub phase: IntervalPhase,
    /// The short pieces folded into it, in order, one per phase ([`FoldedPiece::add`]).
    pub folded: Vec<FoldedPiece>,
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
    /// Whether TLS certificates were verified (false: `--insecure`); `None` when unknown (a
    /// result file written before it was recorded, or a merge of such files).
    pub tls_verified: Option<bool>,
    /// Why a completed run completed, in words ([`Completion::words`]); a merge's, each part's
    /// when they differ (see `merge_parts`); `None` for another stop, or a result file written
    /// before it was recorded.
    pub stopped_because: Option<String>,
}

/// Why a run's entries all finished: the single-use datapools that ran out of rows, and
/// whether other entries ended with their volume models.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// The single-use datapools that ran out (their entries ended for want of rows), by name.
    pub datapools_ran_out: BTreeSet<String>,
    /// Some entry ended because its volume model did.
    pub volume_models_ended: bool,
}

impl Completion {
    /// In the user's words: `every volume model ended`, `single-use datapool users ran out of
    /// rows`, or both (`...; every other entry's volume model ended`).
    pub fn words(&self) -> String {
        let pools: Vec<&str> = self.datapools_ran_out.iter().map(String::as_str).collect();
        let ran_out = match &pools[..] {
            [] => return "every volume model ended".into(),
            [pool] => format!("single-use datapool {pool} ran out of rows"),
            more => format!("single-use datapools {} ran out of rows", more.join(", ")),
        };
        if self.volume_models_ended { format!("{ran_out}; every other entry's volume model ended") } else { ran_out }
    }
}

#[cfg(test)]
impl RunResult {
    /// A unit test's run of `scenario` on core 0 for 1 s from the epoch's first second, ended by
    /// its duration, with `merged`'s figures and nothing else: a test sets what it is about with
    /// `RunResult { field, ..RunResult::of(...) }`.
    pub(crate) fn of(scenario: &str, merged: Merged) -> RunResult {
        RunResult {
            scenario: scenario.into(),
            cores: vec![0],
            drivers: Vec::new(),
            fallbacks: Vec::new(),
            started_at_unix_s: 1.0,
            duration_s: 1.0,
            stopped_by: StopReason::Duration,
            merged,
            intervals: Vec::new(),
            segment: None,
            tls_verified: None,
            stopped_because: None,
        }
    }
}

impl RunResult {
    /// How the run stopped, in words: a completed run says why when it is known (`stopped
    /// when its journeys were done: single-use datapool users ran out of rows`).
    pub fn stopped_words(&self) -> String {
        match (&self.stopped_by, &self.stopped_because) {
            (StopReason::Completed, Some(why)) => format!("stopped when its journeys were done: {why}"),
            // A merge of parts that stopped differently: each part's, in words.
            (StopReason::Duration, Some(each)) => format!("its parts stopped differently: {each}"),
            (reason, _) => reason.words().to_string(),
        }
    }

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

/// Keeps the per-transaction points of all intervals under `TIMELINE_TXN_POINTS_MAX`: when
/// they pass it, every other interval that still has them loses them (resolution halves; the
/// interval's own counts stay).
pub fn keep_bounded(intervals: &mut [IntervalPoint]) {
    let total: usize = intervals.iter().map(|p| p.detail.txns.len()).sum();
    if total <= TIMELINE_TXN_POINTS_MAX {
        return;
    }
    let mut keep = true;
    for point in intervals.iter_mut().filter(|p| !p.detail.txns.is_empty()) {
        if !keep {
            point.detail.txns = Vec::new();
        }
        keep = !keep;
    }
}

#[cfg(test)]
mod tests {

    /// Why a run completed, in the user's words: the models, one pool, several, or a pool
    /// beside models that ended.
    #[test]
    fn a_completion_says_what_ended_the_run() {
        let pools = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<String>>();
        let of =
            |names: &[&str], models: bool| Completion { datapools_ran_out: pools(names), volume_models_ended: models };
        assert_eq!(of(&[], true).words(), "every volume model ended");
        assert_eq!(of(&["ids"], false).words(), "single-use datapool ids ran out of rows");
        assert_eq!(of(&["a", "b"], false).words(), "single-use datapools a, b ran out of rows");
        assert_eq!(
            of(&["ids"], true).words(),
            "single-use datapool ids ran out of rows; every other entry's volume model ended"
        );
    }
    use std::sync::Arc;

    use super::*;
    use crate::limits::TIMELINE_TRANSACTIONS_MAX;
    use crate::output::timeline::IntervalDetail;
    use crate::stats::{TxnStats, record_latency};

    /// Outside try: the table's first line said `stopped by interrupted` and `stopped by
    /// completed`, the result file's names after words they do not follow.
    #[test]
    fn every_stop_reason_reads_as_english() {
        let said: Vec<&str> = StopReason::ALL.iter().map(|r| r.words()).collect();
        assert_eq!(
            said,
            [
                "stopped at the end of its duration",
                "stopped when its journeys were done (every volume model ended or every datapool ran out)",
                "stopped by an interrupt (SIGINT, SIGTERM or SIGHUP)",
            ]
        );
    }

    #[test]
    fn kept_points_stay_bounded_by_thinning() {
        let mut merged = Merged::default();
        for i in 0..TIMELINE_TRANSACTIONS_MAX {
            let mut stats = TxnStats { txn_ok: 1, ..TxnStats::default() };
            record_latency(&mut stats.txn_us, 10);
            merged.txns.insert(Arc::from(format!("t{i:04}")), stats);
        }
        let detail = IntervalDetail::of(&merged, 0);
        let point = IntervalPoint {
            elapsed_s: 0.0,
            requests: 1,
            errors: 0,
            transactions: 1,
            rps: 1.0,
            p50_us: 1,
            p99_us: 1,
            journeys_in_flight: 0,
            detail,
            ..IntervalPoint::default()
        };
        let mut intervals = Vec::new();
        for i in 0..3 * TIMELINE_TXN_POINTS_MAX / TIMELINE_TRANSACTIONS_MAX {
            intervals.push(IntervalPoint { elapsed_s: i as f64, ..point.clone() });
            keep_bounded(&mut intervals);
            let kept: usize = intervals.iter().map(|p| p.detail.txns.len()).sum();
            assert!(kept <= TIMELINE_TXN_POINTS_MAX, "{kept} points kept after {i} intervals");
        }
        assert!(intervals.iter().all(|p| p.requests == 1), "the intervals themselves are all kept");
        assert!(!intervals.last().unwrap().detail.txns.is_empty() || !intervals[0].detail.txns.is_empty());
    }
}
