//! Pass/fail thresholds checked at the end of a run: `get_root:p99<250ms`, `errors<1%`,
//! `rps>10000`. One with nothing to judge (a latency with no sample, an error share or an
//! error count's ceiling with no attempt and no transaction, or a transaction the scenario file
//! defines that never ran) fails saying "no data", unless it is written as optional with a
//! trailing `?` (`get_root:p99<250ms?`). Counts and rates are always measured: a run that sent
//! nothing sent 0, which fails a floor such as `rps>0` even when it is optional. A transaction name that nothing
//! recorded nor defines is an error, never a pass; optional, it passes naming what ran and the
//! closest name. `errors` counts both failed requests and failed transactions ([`Failures`]): a
//! gate on a transaction that failed every time fails, whatever its requests.

use std::collections::BTreeSet;

use hdrhistogram::Histogram;

use crate::journey::closest;
use crate::output::outcome::RunResult;
use crate::output::units::grouped;
use crate::scenario::file::{LoadedScenario, ScenarioFileError};
use crate::stats::TxnStats;

/// What a threshold measures.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Metric {
    /// A latency quantile (0..=1), in µs.
    Quantile(f64),
    Max,
    Mean,
    /// The larger of the failed requests' share of attempts and the failed transactions'
    /// share of transactions, in percent ([`Failures`]).
    ErrorPercent,
    /// The larger of failed requests and failed transactions, as a count.
    Errors,
    /// Requests per second.
    Rps,
    /// Requests (or transactions) completed.
    Count,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

/// A parsed threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    text: String,
    transaction: Option<String>,
    metric: Metric,
    op: Op,
    /// In the metric's unit: µs for latencies, percent, count or per second.
    value: f64,
    /// Written with a trailing `?`: with no data it passes (saying so) instead of failing.
    optional: bool,
}

/// A threshold that does not parse, or names a transaction the run did not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    /// The text is not a threshold.
    #[error("threshold {text:?}: {problem}; {HELP}")]
    Syntax {
        /// The threshold as written.
        text: String,
        /// What is wrong with it.
        problem: Problem,
    },
    /// It names a transaction that is not in the results, nor defined by the scenario file.
    #[error("threshold {text:?}: no transaction named {name:?} in the results (known: {known}){suggestion}")]
    UnknownTransaction {
        /// The threshold as written.
        text: String,
        /// The transaction it names.
        name: String,
        /// The transactions the run had, comma-separated.
        known: String,
        /// `; did you mean "checkout"?`, or empty.
        suggestion: String,
    },
    /// A rate on a merge of parts that did not run together: over their whole window, gap
    /// included, it is the rate of no moment.
    #[error("threshold {text:?}: {apart}: a rate over them is no moment's rate, so it is not judged")]
    RateOverAGap {
        /// The threshold as written.
        text: String,
        /// Which parts ran how far apart.
        apart: String,
    },
}

impl ThresholdError {
    /// The threshold as written.
    pub fn text(&self) -> &str {
        match self {
            ThresholdError::Syntax { text, .. }
            | ThresholdError::UnknownTransaction { text, .. }
            | ThresholdError::RateOverAGap { text, .. } => text,
        }
    }

    /// What is wrong, without the threshold itself (for a caller that names it with its flag
    /// or its place in a file).
    pub fn why(&self) -> String {
        match self {
            ThresholdError::Syntax { problem, .. } => format!("{problem}; {HELP}"),
            ThresholdError::UnknownTransaction { name, known, suggestion, .. } => {
                format!("no transaction named {name:?} in the results (known: {known}){suggestion}")
            }
            ThresholdError::RateOverAGap { apart, .. } => {
                format!("{apart}: a rate over them is no moment's rate, so it is not judged")
            }
        }
    }
}

/// A scenario file's `thresholds`, each parsed; one that does not parse, or that names a
/// transaction the file cannot record (when the file defines every journey it runs:
/// [`file_transactions`] of its `text`), is refused at its `file:line: thresholds[i]`, before
/// anything runs (and by `scenario check`).
pub fn from_file(loaded: &LoadedScenario, text: &str) -> Result<Vec<Threshold>, ScenarioFileError> {
    let known = file_transactions(text).filter(|file| file.complete).map(|file| file.defined);
    let parse = |(i, text): (usize, &String)| {
        let threshold =
            Threshold::parse(text).map_err(|e| loaded.threshold_error(i, format!("{text:?}: {}", e.why())))?;
        match (&known, threshold.unknown_in(known.as_ref())) {
            (Some(known), Some(name)) => {
                Err(loaded.threshold_error(i, format!("{text:?}: {}", not_in_file(name, known))))
            }
            _ => Ok(threshold),
        }
    };
    loaded.thresholds.iter().enumerate().map(parse).collect()
}

/// `no transaction named "chekout" in this scenario file (its transactions: checkout, loop)`.
pub fn not_in_file(name: &str, known: &BTreeSet<String>) -> String {
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    format!(
        "no transaction named {name:?} in this scenario file (its transactions: {}){}; the threshold could never be checked",
        known.join(", "),
        did_you_mean(name, known.iter().copied()),
    )
}

/// The transactions a scenario file's declarative journeys can record, known before the run:
/// a threshold naming one of them that never ran has no data (it is not an unknown name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileTransactions {
    /// Each step's `transaction` (or `METHOD url` as written) of every HTTP journey the
    /// scenario runs, each such journey's own name (under which an error outside a step is
    /// counted), and each WebSocket journey's transaction and name.
    pub defined: BTreeSet<String>,
    /// Whether the file defines every journey it runs as HTTP steps: then no other name can be
    /// recorded, and a threshold naming another is refused before the run. False when one is a
    /// registered (Rust) or a WebSocket journey, whose transactions only a run can tell.
    pub complete: bool,
}

/// The transactions a scenario file's journeys can record ([`FileTransactions`]); `None` when
/// the text is not such a file.
pub fn file_transactions(text: &str) -> Option<FileTransactions> {
    let file: toml::Table = text.parse().ok()?;
    let no_table = toml::Table::new();
    let journeys = file.get("journeys").and_then(toml::Value::as_table).unwrap_or(&no_table);
    let websockets = file.get("websockets").and_then(toml::Value::as_table).unwrap_or(&no_table);
    let mut found = FileTransactions { defined: BTreeSet::new(), complete: true };
    for entry in file.get("scenario")?.as_array()? {
        let journey = entry.get("journey")?.as_str()?;
        if let Some(steps) = journeys.get(journey).and_then(|j| j.get("steps")).and_then(toml::Value::as_array) {
            found.defined.insert(journey.to_string());
            for step in steps {
                found.defined.insert(step_transaction(step)?);
            }
        } else if let Some(websocket) = websockets.get(journey) {
            found.complete = false;
            found.defined.insert(journey.to_string());
            let transaction = websocket.get("transaction").and_then(toml::Value::as_str).unwrap_or(journey);
            found.defined.insert(transaction.to_string());
        } else {
            found.complete = false;
        }
    }
    Some(found)
}

/// The transaction a declarative step records: its `transaction`, or `METHOD url` as written.
fn step_transaction(step: &toml::Value) -> Option<String> {
    match step.get("transaction") {
        Some(name) => Some(name.as_str()?.to_string()),
        None => {
            let method = step.get("method").map_or(Some("GET"), toml::Value::as_str)?;
            Some(format!("{} {}", method.to_ascii_uppercase(), step.get("url")?.as_str()?))
        }
    }
}

/// `; did you mean "checkout"?` for the closest of `names` (as the registry's "did you mean"
/// judges names: [`closest`]), or nothing when none is close.
fn did_you_mean<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> String {
    match closest(name, names, 1).first() {
        Some(close) => format!("; did you mean {close:?}?"),
        None => String::new(),
    }
}

/// The transactions that ran, for a message: `bytes, get_root`, the first
/// `NAMES_SHOWN_MAX` of them and how many there were, or `none`.
fn names_that_ran(result: &RunResult) -> String {
    const NAMES_SHOWN_MAX: usize = 12;
    let names: Vec<_> = result.merged.txns.keys().map(|k| crate::model::terminal::printable(k)).collect();
    match names.len() {
        0 => "none".into(),
        n if n <= NAMES_SHOWN_MAX => names.join(", "),
        n => format!("{}, ... ({n} in all)", names[..NAMES_SHOWN_MAX].join(", ")),
    }
}

/// What is wrong with a threshold's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// No `<`, `<=`, `>` or `>=`.
    #[error("no comparison (<, <=, >, >=)")]
    NoComparison,
    /// `:p99<1ms`.
    #[error("empty transaction name")]
    EmptyTransaction,
    /// A metric it does not know.
    #[error("unknown metric {0:?}")]
    UnknownMetric(String),
    /// `p99<250`: a latency without its unit.
    #[error("latency {0} has no unit; write {0}ms, {0}s or {0}us")]
    NoUnit(String),
    /// A latency that does not parse.
    #[error("{0:?} is not a latency (a plain number then ms, s or us)")]
    BadLatency(String),
    /// A percentage that does not parse (`1%%`, `one%`).
    #[error("{0:?} is not a percentage (a plain number then one %)")]
    BadPercentage(String),
    /// A percentage above 100 (`errors<150%`), which every run would pass.
    #[error("{0:?} is above 100%")]
    PercentAbove100(String),
    /// A number that is not plain decimal digits (`lots`, `1e3`, `inf`, `-1`).
    #[error("{0:?} is not a plain number (digits and at most one decimal point; no sign, no exponent)")]
    BadNumber(String),
    /// `errors<0%`, `count<0`: nothing measures below zero, so it could never pass.
    #[error("\"<{value}\" could never pass: nothing measured is below 0 (for none at all, write {instead})")]
    NeverPasses {
        /// The value as written (`0%`).
        value: String,
        /// The threshold to write instead (`errors<=0%`).
        instead: String,
    },
    /// A comparison every run with data decides alike, whatever it measured: `errors<=100%`,
    /// `count>=0` and `p99>0ms` always pass (a gate that cannot fail), `p99<=0ms` never does.
    #[error("\"{comparison}\" could never {}: {why}", if *passes { "fail" } else { "pass" })]
    AlwaysDecided {
        /// The comparison as written (`<=100%`).
        comparison: String,
        /// Whether it would always pass (else it would never).
        passes: bool,
        /// Why, in the metric's words.
        why: &'static str,
    },
}

/// A threshold checked: its outcome, or why it could not be checked (an error, never a pass).
pub type Checked = Result<Outcome, ThresholdError>;

/// The outcome of one threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The threshold as written.
    pub text: String,
    /// Whether it held.
    pub passed: bool,
    /// What was measured, readable (`no data` when there was nothing to measure).
    pub actual: String,
}

const HELP: &str = "expected [transaction:]metric<op>value[?], e.g. get_root:p99<250ms, errors<1%, rps>10000; \
                    metrics p50 p90 p95 p99 p999 max mean (ms, s or us), errors (% or count), rps, count; \
                    a trailing ? makes it optional (passes when there is no data)";

impl Threshold {
    /// Parses one threshold.
    pub fn parse(text: &str) -> Result<Threshold, ThresholdError> {
        let bad = |problem: Problem| ThresholdError::Syntax { text: text.to_string(), problem };
        let written = text;
        let (text, optional) = match text.trim_end().strip_suffix('?') {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        // The comparison is after the last `:` (no metric or value holds one), so a
        // transaction's name may hold `:`, `<` and `>` (`<script>:p99<1s`, `outer :: inner:max<2s`).
        let from = text.rfind(':').map_or(0, |colon| colon + 1);
        let (at, op, op_len) = ["<=", ">=", "<", ">"]
            .iter()
            .filter_map(|op| text[from..].find(op).map(|at| (from + at, *op, op.len())))
            .min_by_key(|(at, _, len)| (*at, usize::MAX - len))
            .ok_or_else(|| bad(Problem::NoComparison))?;
        let op = match op {
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            _ => Op::Ge,
        };
        let left = text[..at].trim();
        let right = text[at + op_len..].trim();
        let (transaction, metric_name) = match left.rfind(':') {
            Some(colon) => (Some(left[..colon].trim().to_string()), left[colon + 1..].trim()),
            None => (None, left),
        };
        if transaction.as_deref() == Some("") {
            return Err(bad(Problem::EmptyTransaction));
        }
        let metric = match metric_name {
            "p50" | "median" => Metric::Quantile(0.5),
            "p90" => Metric::Quantile(0.9),
            "p95" => Metric::Quantile(0.95),
            "p99" => Metric::Quantile(0.99),
            "p999" | "p99.9" => Metric::Quantile(0.999),
            "max" => Metric::Max,
            "mean" | "avg" => Metric::Mean,
            "errors" if right.ends_with('%') => Metric::ErrorPercent,
            "errors" => Metric::Errors,
            "rps" => Metric::Rps,
            "count" | "requests" => Metric::Count,
            other => return Err(bad(Problem::UnknownMetric(other.to_string()))),
        };
        let value = match metric {
            Metric::Quantile(_) | Metric::Max | Metric::Mean => parse_latency_us(right).ok_or_else(|| {
                if plain_number(right).is_some() {
                    bad(Problem::NoUnit(right.to_string()))
                } else {
                    bad(Problem::BadLatency(right.to_string()))
                }
            })?,
            Metric::ErrorPercent => {
                let percent = right.strip_suffix('%').and_then(|number| plain_number(number.trim()));
                match percent {
                    Some(percent) if percent > 100.0 => return Err(bad(Problem::PercentAbove100(right.to_string()))),
                    Some(percent) => percent,
                    None => return Err(bad(Problem::BadPercentage(right.to_string()))),
                }
            }
            _ => plain_number(right).ok_or_else(|| bad(Problem::BadNumber(right.to_string())))?,
        };
        if let Some(problem) = always_decided(metric, op, value, &text[at..], left) {
            return Err(bad(problem));
        }
        Ok(Threshold { text: written.to_string(), transaction, metric, op, value, optional })
    }

    /// The threshold as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The transaction it judges, or `None` for the totals.
    pub fn transaction(&self) -> Option<&str> {
        self.transaction.as_deref()
    }

    /// Whether it judges a count or a rate (`count`, `rps`, `errors` as a count), of which a
    /// segment of a distributed run has a share only: judged on the merged result, never on
    /// one segment's. Percentiles, means, maxima and error percentages are judged by each.
    pub fn is_share(&self) -> bool {
        matches!(self.metric, Metric::Count | Metric::Rps | Metric::Errors)
    }

    /// Whether it judges the same figure as `other` (one transaction's, or the totals', in one
    /// metric) from the same side (a ceiling, `<` or `<=`, or a floor, `>` or `>=`), whatever
    /// the limit: a threshold given to `merge` replaces a stored one so. A floor given to
    /// `merge` leaves the stored ceiling of the same figure judged, and the other way round.
    pub fn same_figure(&self, other: &Threshold) -> bool {
        self.transaction == other.transaction && self.metric == other.metric && self.is_ceiling() == other.is_ceiling()
    }

    /// Whether it limits its figure from above (`<`, `<=`).
    fn is_ceiling(&self) -> bool {
        matches!(self.op, Op::Lt | Op::Le)
    }

    /// Whether it judges a rate (`rps`): a count over the run's window.
    pub fn is_rate(&self) -> bool {
        self.metric == Metric::Rps
    }

    /// Whether it asks for something to have happened: a floor (`>`, `>=`) on a count or a
    /// rate (`count>0`, `rps>=100`, `errors>0`). Nothing happening is measured as 0, which fails
    /// it, optional or not: the `?` excuses a figure that cannot be judged, never a run that
    /// sent nothing.
    fn is_floor(&self) -> bool {
        !self.is_ceiling() && matches!(self.metric, Metric::Count | Metric::Rps | Metric::Errors)
    }

    /// Its figure when nothing happened, as [`measure`] reads it: `0.0/s` for a rate, else `0`.
    fn zero(&self) -> &'static str {
        if self.metric == Metric::Rps { "0.0/s" } else { "0" }
    }

    /// The transaction it names when that is not among `known` (`None` knows every name).
    pub fn unknown_in(&self, known: Option<&BTreeSet<String>>) -> Option<&str> {
        let name = self.transaction.as_deref()?;
        known.is_some_and(|known| !known.contains(name)).then_some(name)
    }

    /// A warning before the run for a threshold naming a transaction that a scenario file which
    /// does not define every journey it runs does not define either: only a registered (Rust)
    /// journey could record it, so it may be a typo (one the file defines every journey of is
    /// refused instead: [`Threshold::unknown_in`]).
    pub fn undefined_in(&self, file: &FileTransactions) -> Option<String> {
        let name = self.transaction.as_deref()?;
        if file.complete || file.defined.contains(name) {
            return None;
        }
        let defined: Vec<&str> = file.defined.iter().map(String::as_str).collect();
        let shown: Vec<_> = defined.iter().map(|name| crate::model::terminal::printable(name)).collect();
        let listed = if shown.is_empty() { "it defines none".to_string() } else { shown.join(", ") };
        Some(format!(
            "threshold {:?} names a transaction this scenario file does not define (its transactions: {listed}){}; \
             only a registered journey it runs could record {name:?}",
            self.text,
            did_you_mean(name, defined.iter().copied())
        ))
    }

    /// Checks the threshold against a result. `file` holds the transactions the scenario file
    /// defines (none for a registered scenario): one of them that never ran has no data. A
    /// transaction that is neither in the results nor defined is an error (a typo, or a
    /// transaction only a Rust journey records), except for an optional threshold, which passes
    /// saying which transactions ran and the closest name.
    pub fn check(&self, result: &RunResult, file: Option<&FileTransactions>) -> Result<Outcome, ThresholdError> {
        let total;
        let (stats, is_total) = match &self.transaction {
            Some(name) => match result.merged.txns.get(name.as_str()) {
                Some(stats) => (stats, false),
                None => return self.never_ran(name, result, file),
            },
            None => {
                total = result.merged.total();
                (&total, true)
            }
        };
        let Some((actual, shown)) = measure(self.metric, self.is_floor(), stats, is_total, result.duration_s) else {
            // Nothing to measure is never a pass, unless the threshold says it may be.
            let why = why_no_data(stats, is_total);
            let actual = match (self.optional, why.is_empty()) {
                (true, true) => "no data (optional)".to_string(),
                (true, false) => format!("no data (optional; {why})"),
                (false, true) => "no data".to_string(),
                (false, false) => format!("no data ({why})"),
            };
            return Ok(Outcome { text: self.text.clone(), passed: self.optional, actual });
        };
        let passed = match self.op {
            Op::Lt => actual < self.value,
            Op::Le => actual <= self.value,
            Op::Gt => actual > self.value,
            Op::Ge => actual >= self.value,
        };
        Ok(Outcome { text: self.text.clone(), passed, actual: shown })
    }

    /// The outcome for a transaction that is not in the results: no data when the scenario file
    /// defines it (a step never reached, or never completed), else an unknown name.
    fn never_ran(
        &self,
        name: &str,
        result: &RunResult,
        file: Option<&FileTransactions>,
    ) -> Result<Outcome, ThresholdError> {
        let text = self.text.clone();
        let defined = file.is_some_and(|file| file.defined.contains(name));
        if defined && self.is_floor() {
            let actual = format!("{} (no transaction {name:?} ran)", self.zero());
            return Ok(Outcome { text, passed: false, actual });
        }
        if defined {
            let actual = if self.optional {
                format!("no data (optional: no transaction {name:?} ran)")
            } else {
                format!("no data (no transaction {name:?} ran)")
            };
            return Ok(Outcome { text, passed: self.optional, actual });
        }
        let names: Vec<&str> = result.merged.txns.keys().map(|k| k.as_ref()).collect();
        let suggestion = did_you_mean(name, names.iter().copied());
        if self.optional {
            let defined = if file.is_some() { ", and the scenario file does not define it" } else { "" };
            let why = format!(
                "no transaction {name:?} ran{defined}{suggestion}; transactions that ran: {}",
                names_that_ran(result)
            );
            let (passed, actual) = match self.is_floor() {
                true => (false, format!("{} ({why})", self.zero())),
                false => (true, format!("no data (optional: {why})")),
            };
            return Ok(Outcome { text, passed, actual });
        }
        Err(ThresholdError::UnknownTransaction {
            text,
            name: name.to_string(),
            known: names_that_ran(result),
            suggestion,
        })
    }
}

/// Why a comparison could never fail or never pass whatever a run measures, if so: every
/// latency is at least 1 µs (`histogram::record_latency` clamps to 1), an error rate is within
/// 0..=100%, and every count or rate is at least 0. A gate that cannot fail would wave every
/// run through; one that cannot pass fails every run. `comparison` is the text from the
/// comparison on (`<=100%`), `left` the text before it.
fn always_decided(metric: Metric, op: Op, value: f64, comparison: &str, left: &str) -> Option<Problem> {
    let comparison = comparison.trim().to_string();
    let decided = |passes, why| Some(Problem::AlwaysDecided { comparison: comparison.clone(), passes, why });
    match metric {
        Metric::Quantile(_) | Metric::Max | Metric::Mean => {
            const WHY: &str = "every latency measured is at least 1us";
            let lowest_us = 1.0;
            match op {
                Op::Lt if value <= lowest_us => decided(false, WHY),
                Op::Le if value < lowest_us => decided(false, WHY),
                Op::Gt if value < lowest_us => decided(true, WHY),
                Op::Ge if value <= lowest_us => decided(true, WHY),
                _ => None,
            }
        }
        Metric::ErrorPercent if op == Op::Le && value >= 100.0 => {
            decided(true, "an error rate is at most 100% (for a gate on errors, write errors<100% or lower)")
        }
        _ if op == Op::Ge && value == 0.0 => decided(true, "nothing measured is below 0 (for at least one, write >0)"),
        _ if op == Op::Lt && value == 0.0 => {
            let value = comparison.trim_start_matches('<').trim().to_string();
            Some(Problem::NeverPasses { instead: format!("{left}<={value}"), value })
        }
        _ => None,
    }
}

/// What failed, as `errors` reads it (thresholds and `compare` alike): requests that failed
/// out of every attempt (sent or not), and transactions that failed out of those completed.
/// A journey that fails counts against the transaction it failed in (or the journey's own row),
/// so a transaction that failed every time shows here even when each of its requests
/// succeeded (a capture not found, an unexpected status it checked itself).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    /// Attempts that failed.
    pub requests_failed: u64,
    /// Every attempt (requests sent, and those that failed before a byte was written).
    pub attempts: u64,
    /// Transactions that failed.
    pub transactions_failed: u64,
    /// Transactions completed, ok or failed.
    pub transactions: u64,
}

impl Failures {
    /// One transaction's (or the totals') failures.
    pub fn of(stats: &TxnStats) -> Failures {
        Failures {
            requests_failed: stats.req_errors(),
            attempts: stats.attempts(),
            transactions_failed: stats.txn_err,
            transactions: stats.transactions(),
        }
    }

    /// The larger share, in percent: of failed requests, of failed transactions; `None` with
    /// neither an attempt nor a transaction.
    pub fn percent(&self) -> Option<f64> {
        let share = |failed: u64, of: u64| (of > 0).then(|| failed as f64 * 100.0 / of as f64);
        match (share(self.requests_failed, self.attempts), share(self.transactions_failed, self.transactions)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// The larger count: failed requests, failed transactions (the same failure is often both,
    /// so they are not added).
    pub fn count(&self) -> u64 {
        self.requests_failed.max(self.transactions_failed)
    }

    /// Both figures, in words: `requests 0 of 13,020 failed, transactions 13,020 of 13,020`.
    pub fn words(&self) -> String {
        format!(
            "requests {} of {} failed, transactions {} of {}",
            grouped(self.requests_failed),
            grouped(self.attempts),
            grouped(self.transactions_failed),
            grouped(self.transactions)
        )
    }
}

/// The histogram a latency threshold reads: corrected (open model) when there is one;
/// for totals, the times of requests answered (any status), as `totals.latency_us` (failed
/// requests have no response time: when none was answered there is no data, never the
/// transactions' durations instead); transaction durations for a named transaction, or for
/// totals of a run that made no request at all.
/// The second is whether it is the corrected one.
fn latency(stats: &TxnStats, is_total: bool) -> (&Histogram<u64>, bool) {
    let (corrected, plain) = if is_total && stats.attempts() > 0 {
        (&stats.req_us_corrected, &stats.req_us)
    } else {
        (&stats.txn_us_corrected, &stats.txn_us)
    };
    if corrected.is_empty() { (plain, false) } else { (corrected, true) }
}

/// What a latency's figure is followed by when it is the corrected one (an open model's: from
/// the time each journey was meant to start, its wait for a free slot included).
pub const CORRECTED_NOTE: &str = " (corrected: from the intended start)";

/// The measured value and how it reads, or `None` when there is nothing to judge ("no data"):
/// a latency with no sample; an error share with no attempt and no transaction; a ceiling on
/// the error count with no attempt and no transaction (nothing could fail). Counts and rates
/// are measured whatever happened (a run that sent nothing sent 0), and so is the error count
/// that a floor asks for: 0 fails a floor, and passes a ceiling, as any other figure would.
fn measure(metric: Metric, floor: bool, stats: &TxnStats, is_total: bool, seconds: f64) -> Option<(f64, String)> {
    let (h, corrected) = latency(stats, is_total);
    let note = if corrected { CORRECTED_NOTE } else { "" };
    let ms = |us: f64| Some((us, format!("{:.2}ms{note}", us / 1000.0)));
    let failures = Failures::of(stats);
    let nothing = failures.attempts == 0 && failures.transactions == 0;
    // Counts and rates are of requests sent, or of transactions when it made no request.
    let sent = if stats.attempts() > 0 { stats.requests() } else { stats.transactions() };
    match metric {
        Metric::Quantile(_) | Metric::Max | Metric::Mean if h.is_empty() => None,
        Metric::Quantile(q) => ms(h.value_at_quantile(q) as f64),
        Metric::Max => ms(h.max() as f64),
        Metric::Mean => ms(h.mean()),
        Metric::ErrorPercent => {
            let percent = failures.percent()?;
            Some((percent, format!("{percent:.3}%: {}", failures.words())))
        }
        Metric::Errors if nothing && !floor => None,
        Metric::Errors => {
            Some((failures.count() as f64, format!("{}: {}", grouped(failures.count()), failures.words())))
        }
        Metric::Rps => {
            let rps = if seconds > 0.0 { sent as f64 / seconds } else { 0.0 };
            Some((rps, format!("{rps:.1}/s{}", why_none(stats, sent))))
        }
        Metric::Count => Some((sent as f64, format!("{}{}", grouped(sent), why_none(stats, sent)))),
    }
}

/// Why a count of requests sent is 0, for a threshold's reading: every attempt failed before
/// a byte was written (a dead target), or nothing was attempted at all; empty when some were
/// sent, or when transactions (not requests) are counted.
fn why_none(stats: &TxnStats, sent: u64) -> String {
    match (sent, stats.attempts(), stats.transactions()) {
        (0, 0, 0) => " (nothing ran: no request made, no transaction completed)".into(),
        (0, attempts, _) if attempts > 0 => {
            format!(" (none sent: {} attempts failed before a byte was written)", grouped(attempts))
        }
        _ => String::new(),
    }
}

/// Why a threshold has no data, for its reading: nothing ran; every attempt failed before a
/// byte was written, or no request sent was answered (the run's latencies are of requests
/// answered); no transaction completed. Empty when none of these says it.
fn why_no_data(stats: &TxnStats, is_total: bool) -> String {
    let (attempts, sent) = (stats.attempts(), stats.requests());
    if attempts == 0 && stats.transactions() == 0 {
        return "nothing ran: no request made, no transaction completed".into();
    }
    if is_total && attempts > 0 && sent == 0 {
        return format!("no request answered: {} attempts failed before a byte was written", grouped(attempts));
    }
    if is_total && attempts > 0 {
        let requests = if sent == 1 { "request" } else { "requests" };
        return format!("no request answered: none of the {} {requests} sent", grouped(sent));
    }
    if stats.transactions() == 0 { "no transaction completed".into() } else { String::new() }
}

/// `250ms`, `1.5s`, `800us`, in µs. A bare number is refused, as for durations: `250` could
/// mean milliseconds or seconds.
fn parse_latency_us(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value = plain_number(number)?;
    Some(match unit.trim() {
        "ms" => value * 1000.0,
        "s" => value * 1_000_000.0,
        "us" | "µs" => value,
        _ => return None,
    })
}

/// A threshold's number: decimal digits with at most one decimal point between digits (`5`,
/// `0.5`, `250.75`). Every metric takes the same form, so `1e3`, `inf`, `+5` and `-1` are
/// refused everywhere alike, never accepted by one metric and refused by another (and
/// `compare --max-regression` takes the same).
pub fn plain_number(text: &str) -> Option<f64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    text.parse().ok().filter(|value: &f64| value.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let t = Threshold::parse("get_root:p99<250ms").unwrap();
        assert_eq!(
            (t.transaction.as_deref(), t.metric, t.op, t.value),
            (Some("get_root"), Metric::Quantile(0.99), Op::Lt, 250_000.0)
        );
        let t = Threshold::parse("errors<1%").unwrap();
        assert_eq!((t.metric, t.value), (Metric::ErrorPercent, 1.0));
        let t = Threshold::parse("rps>=10000").unwrap();
        assert_eq!((t.metric, t.op, t.value), (Metric::Rps, Op::Ge, 10000.0));
        let t = Threshold::parse("outer :: inner:max<=2s").unwrap();
        assert_eq!((t.transaction.as_deref(), t.value), (Some("outer :: inner"), 2_000_000.0));
        let t = Threshold::parse("http_example:journey:errors<5").unwrap();
        assert_eq!((t.transaction.as_deref(), t.metric), (Some("http_example:journey"), Metric::Errors));
    }

    /// A transaction named `<script>alert(1)</script>` could not be given a threshold: its
    /// first `<` was taken for the comparison (`unknown metric ""`). The comparison is after
    /// the name's last `:`, so names hold `<`, `>` and `:` as they are.
    #[test]
    fn a_name_may_hold_comparison_signs() {
        for (text, name, op) in [
            ("<script>alert(1)</script>:p99<1s", "<script>alert(1)</script>", Op::Lt),
            ("a>b:count>=1", "a>b", Op::Ge),
            ("GET /x?a=<1>:errors<1%", "GET /x?a=<1>", Op::Lt),
            ("ünïcödé 日本語 🚀:rps>0?", "ünïcödé 日本語 🚀", Op::Gt),
        ] {
            let t = Threshold::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((t.transaction.as_deref(), t.op), (Some(name), op), "{text}");
        }
        assert!(Threshold::parse("<script>:p99").is_err(), "no comparison after the name");
    }

    #[test]
    fn a_trailing_question_mark_is_optional() {
        let t = Threshold::parse("get_root:p99<250ms?").unwrap();
        assert!(t.optional);
        assert_eq!((t.transaction.as_deref(), t.value, t.text()), (Some("get_root"), 250_000.0, "get_root:p99<250ms?"));
        assert!(!Threshold::parse("p99<250ms").unwrap().optional);
    }

    fn empty_result(txns: &[&str]) -> RunResult {
        let mut merged = crate::stats::Merged::default();
        for name in txns {
            merged.txns.insert((*name).into(), TxnStats::default());
        }
        RunResult { started_at_unix_s: 0.0, ..RunResult::of("t", merged) }
    }

    /// Issue 11: a run that sent nothing passed `p99<10ms` and `errors<1%`.
    #[test]
    fn no_data_fails_unless_optional() {
        let result = empty_result(&["get_root"]);
        for text in ["p99<10ms", "errors<1%", "errors<5", "errors<=0", "get_root:p99<10ms", "get_root:mean<1s"] {
            let outcome = Threshold::parse(text).unwrap().check(&result, None).unwrap();
            assert!(!outcome.passed, "{text} passed with no data");
            assert_eq!(outcome.actual, "no data (nothing ran: no request made, no transaction completed)", "{text}");
            let optional = Threshold::parse(&format!("{text}?")).unwrap().check(&result, None).unwrap();
            assert!(optional.passed, "{text}? failed");
            assert_eq!(optional.actual, "no data (optional; nothing ran: no request made, no transaction completed)");
        }
        assert!(Threshold::parse("nope:p99<1ms").unwrap().check(&result, None).is_err(), "unknown names stay errors");
    }

    /// Outside try: against a dead target `p99<10ms` read `FAIL (actual no data)` beside a
    /// table whose row showed a p99 (the failed transactions' durations): the run's latency is
    /// of requests answered, and the reading now says none was, and why.
    #[test]
    fn no_data_says_why() {
        let mut result = empty_result(&[]);
        let mut refused = TxnStats { txn_err: 9_283, not_sent: 9_283, ..TxnStats::default() };
        refused.add_errors(crate::stats::ErrorKind::Refused, 9_283);
        result.merged.txns.insert("get_root".into(), refused);
        let outcome = Threshold::parse("p99<10ms").unwrap().check(&result, None).unwrap();
        assert_eq!(
            (outcome.passed, outcome.actual.as_str()),
            (false, "no data (no request answered: 9,283 attempts failed before a byte was written)")
        );
        let outcome = Threshold::parse("max<1s?").unwrap().check(&result, None).unwrap();
        assert_eq!(
            (outcome.passed, outcome.actual.as_str()),
            (true, "no data (optional; no request answered: 9,283 attempts failed before a byte was written)")
        );
    }

    /// A run that sent nothing passed `rps>0?` and `count>=1?` as "no data (optional)": a
    /// floor on a count or a rate asks for traffic, and none is 0, measured, which fails it,
    /// optional or not. A ceiling on a count or a rate is judged on the same 0 (and passes);
    /// the error count's floor reads 0 too.
    #[test]
    fn a_floor_on_a_count_or_rate_fails_when_nothing_was_sent() {
        let nothing = " (nothing ran: no request made, no transaction completed)";
        let result = empty_result(&["get_root"]);
        for (text, passed, actual) in [
            ("rps>0", false, format!("0.0/s{nothing}")),
            ("rps>0?", false, format!("0.0/s{nothing}")),
            ("count>=1?", false, format!("0{nothing}")),
            ("count>0", false, format!("0{nothing}")),
            ("errors>0?", false, "0: requests 0 of 0 failed, transactions 0 of 0".to_string()),
            ("rps<100", true, format!("0.0/s{nothing}")),
            ("count<=0", true, format!("0{nothing}")),
        ] {
            let outcome = Threshold::parse(text).unwrap().check(&result, None).unwrap();
            assert_eq!((outcome.passed, outcome.actual), (passed, actual), "{text}");
        }
        // A dead target: every attempt refused before a byte was written.
        let mut result = empty_result(&[]);
        let mut refused = TxnStats { txn_err: 9_283, not_sent: 9_283, ..TxnStats::default() };
        refused.add_errors(crate::stats::ErrorKind::Refused, 9_283);
        result.merged.txns.insert("get_root".into(), refused);
        for text in ["rps>0?", "get_root:rps>0", "count>0?", "get_root:count>=1"] {
            let outcome = Threshold::parse(text).unwrap().check(&result, None).unwrap();
            assert!(!outcome.passed, "{text}");
            assert!(
                outcome.actual.ends_with(" (none sent: 9,283 attempts failed before a byte was written)"),
                "{text}: {}",
                outcome.actual
            );
        }
        // An optional floor on a name nothing recorded fails too, saying what ran.
        let outcome = Threshold::parse("get_rot:count>0?").unwrap().check(&result, None).unwrap();
        assert_eq!(
            (outcome.passed, outcome.actual.as_str()),
            (false, "0 (no transaction \"get_rot\" ran; did you mean \"get_root\"?; transactions that ran: get_root)")
        );
    }

    /// Attempts that never reached a connection count in the error rate.
    #[test]
    fn error_rate_is_over_attempts() {
        let mut result = empty_result(&[]);
        let mut stats = TxnStats { req_ok: 1, ..TxnStats::default() };
        stats.add_errors(crate::stats::ErrorKind::Refused, 3);
        stats.not_sent = 3;
        crate::stats::record_latency(&mut stats.req_us, 100);
        result.merged.txns.insert("t".into(), stats);
        let outcome = Threshold::parse("errors<1%").unwrap().check(&result, None).unwrap();
        assert_eq!(
            (outcome.passed, outcome.actual.as_str()),
            (false, "75.000%: requests 3 of 4 failed, transactions 0 of 0")
        );
        assert_eq!(Threshold::parse("count>=1").unwrap().check(&result, None).unwrap().actual, "1");
    }

    /// A new user's: on an open model a latency threshold judges the times from the intended
    /// start, and its line read as the plain ones (`actual 0.40ms`, where the table's p50 was
    /// 0.21ms). It says which it judged: the corrected one when there is one, else nothing.
    #[test]
    fn a_corrected_latency_says_it_is_corrected() {
        let mut result = empty_result(&[]);
        let mut open = TxnStats { req_ok: 1, ..TxnStats::default() };
        crate::stats::record_latency(&mut open.req_us, 200);
        crate::stats::record_latency(&mut open.req_us_corrected, 400);
        crate::stats::record_latency(&mut open.txn_us, 210);
        crate::stats::record_latency(&mut open.txn_us_corrected, 410);
        let mut closed = open.clone();
        closed.req_us_corrected.reset();
        closed.txn_us_corrected.reset();
        result.merged.txns.insert("open".into(), open);
        result.merged.txns.insert("closed".into(), closed);
        let actual = |text: &str| Threshold::parse(text).unwrap().check(&result, None).unwrap().actual;
        assert_eq!(actual("open:p50<1s"), "0.41ms (corrected: from the intended start)");
        assert_eq!(actual("open:max<1s"), "0.41ms (corrected: from the intended start)");
        assert_eq!(actual("closed:p50<1s"), "0.21ms");
        assert_eq!(actual("closed:count>0"), "1");
        assert_eq!(actual("open:errors<1%"), "0.000%: requests 0 of 1 failed, transactions 0 of 0");
    }

    /// Outside try, finding 2: every `login` transaction failed (a capture not found) while
    /// each of its requests got a 200, and `login:errors<1%` passed with `actual 0.000%`.
    #[test]
    fn a_transaction_that_always_failed_fails_its_error_gates() {
        let mut result = empty_result(&[]);
        let mut login = TxnStats { req_ok: 13_020, txn_err: 13_020, ..TxnStats::default() };
        crate::stats::record_latency(&mut login.req_us, 100);
        crate::stats::record_latency(&mut login.txn_us, 120);
        result.merged.txns.insert("login".into(), login);
        for text in ["login:errors<1%", "errors<1%", "login:errors<5", "errors<=0"] {
            let outcome = Threshold::parse(text).unwrap().check(&result, None).unwrap();
            assert!(!outcome.passed, "{text} passed: {}", outcome.actual);
        }
        let outcome = Threshold::parse("login:errors<1%").unwrap().check(&result, None).unwrap();
        assert_eq!(outcome.actual, "100.000%: requests 0 of 13,020 failed, transactions 13,020 of 13,020");
        assert_eq!(
            Threshold::parse("errors<5").unwrap().check(&result, None).unwrap().actual.split(':').next(),
            Some("13,020")
        );
        // Counts are grouped as the table groups them.
        assert_eq!(Threshold::parse("login:count<5").unwrap().check(&result, None).unwrap().actual, "13,020");
    }

    /// Outside try, finding 2: a transaction that made no request (its step before failed)
    /// and one that made six (a redirect loop, the last hop failing) are judged alike: by the
    /// larger of the two shares, here the transactions'.
    #[test]
    fn errors_mean_the_same_with_or_without_requests() {
        let mut result = empty_result(&[]);
        result.merged.txns.insert("b".into(), TxnStats { txn_err: 4, ..TxnStats::default() });
        let mut redirected = TxnStats { req_ok: 5, txn_err: 1, ..TxnStats::default() };
        redirected.add_error(crate::stats::ErrorKind::Status);
        result.merged.txns.insert("loop".into(), redirected);
        for text in ["b:errors<1%", "loop:errors<1%"] {
            let outcome = Threshold::parse(text).unwrap().check(&result, None).unwrap();
            assert!(!outcome.passed && outcome.actual.starts_with("100.000%"), "{text}: {}", outcome.actual);
        }
        let failures = Failures { requests_failed: 1, attempts: 6, transactions_failed: 0, transactions: 1 };
        assert_eq!(failures.percent(), Some(100.0 / 6.0), "requests fail a gate on their own too");
        assert_eq!(Failures::default().percent(), None);
    }

    /// Outside try, finding 5: an optional threshold on a transaction that never ran (its step
    /// was never reached) was an error; it passes, saying why. A mandatory one stays an error.
    #[test]
    fn an_optional_threshold_on_a_transaction_that_never_ran_passes() {
        let result = empty_result(&["loop"]);
        let outcome = Threshold::parse("checkout:p99<500ms?").unwrap().check(&result, None).unwrap();
        assert!(outcome.passed);
        assert_eq!(outcome.actual, "no data (optional: no transaction \"checkout\" ran; transactions that ran: loop)");
        assert!(Threshold::parse("checkout:p99<500ms").unwrap().check(&result, None).is_err());
    }

    fn defined(names: &[&str], complete: bool) -> FileTransactions {
        FileTransactions { defined: names.iter().map(|n| n.to_string()).collect(), complete }
    }

    /// Outside try 4, case 3: a transaction the scenario file defines whose step was never
    /// reached (the step before it failed every time) was `no transaction named "after"`, an
    /// error (exit 1); it is known, so it has no data: a failed threshold, or an optional pass.
    #[test]
    fn a_transaction_the_file_defines_that_never_ran_has_no_data() {
        let result = empty_result(&["capfail", "ok"]);
        let file = defined(&["after", "capfail", "j", "ok"], true);
        let outcome = Threshold::parse("after:p99<1s").unwrap().check(&result, Some(&file)).unwrap();
        assert_eq!((outcome.passed, outcome.actual.as_str()), (false, "no data (no transaction \"after\" ran)"));
        let outcome = Threshold::parse("after:p99<1s?").unwrap().check(&result, Some(&file)).unwrap();
        assert_eq!(
            (outcome.passed, outcome.actual.as_str()),
            (true, "no data (optional: no transaction \"after\" ran)")
        );
        let outcome = Threshold::parse("after:errors<1%").unwrap().check(&result, Some(&file)).unwrap();
        assert!(!outcome.passed && outcome.actual.starts_with("no data"), "{outcome:?}");
        for (text, actual) in [
            ("after:count>=1", "0 (no transaction \"after\" ran)"),
            ("after:rps>1?", "0.0/s (no transaction \"after\" ran)"),
            ("after:errors>0?", "0 (no transaction \"after\" ran)"),
        ] {
            let outcome = Threshold::parse(text).unwrap().check(&result, Some(&file)).unwrap();
            assert_eq!((outcome.passed, outcome.actual.as_str()), (false, actual), "{text}");
        }
    }

    /// Outside try 4, case 3: with a Rust journey beside the file's own, a misspelt optional
    /// threshold passed as `no data (optional: no transaction "nosuch" ran)`: it now says that
    /// the file does not define it, which transactions ran, and the closest one.
    #[test]
    fn an_optional_name_nothing_defines_says_what_ran_and_the_closest() {
        let result = empty_result(&["bytes", "checkout", "get_root"]);
        let file = defined(&["by_id", "bytes"], false);
        let outcome = Threshold::parse("chekout:p99<1s?").unwrap().check(&result, Some(&file)).unwrap();
        assert!(outcome.passed);
        assert_eq!(
            outcome.actual,
            "no data (optional: no transaction \"chekout\" ran, and the scenario file does not define it; \
             did you mean \"checkout\"?; transactions that ran: bytes, checkout, get_root)"
        );
        let err = Threshold::parse("chekout:p99<1s").unwrap().check(&result, Some(&file)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "threshold \"chekout:p99<1s\": no transaction named \"chekout\" in the results (known: bytes, checkout, \
             get_root); did you mean \"checkout\"?"
        );
        let outcome = Threshold::parse("zzzzzzzzzzzz:p99<1s?").unwrap().check(&empty_result(&[]), None).unwrap();
        assert_eq!(
            outcome.actual,
            "no data (optional: no transaction \"zzzzzzzzzzzz\" ran; transactions that ran: none)"
        );
    }

    /// Beside a Rust journey, a name the file does not define is said before the run (with
    /// the closest one the file does define); a name it defines, or a file that defines every
    /// journey (which refuses the name instead), says nothing.
    #[test]
    fn a_name_the_file_does_not_define_is_said_before_the_run() {
        let file = defined(&["by_id", "bytes"], false);
        assert_eq!(
            Threshold::parse("byts:p99<1s?").unwrap().undefined_in(&file).as_deref(),
            Some(
                "threshold \"byts:p99<1s?\" names a transaction this scenario file does not define (its \
                 transactions: by_id, bytes); did you mean \"bytes\"?; only a registered journey it runs could \
                 record \"byts\""
            )
        );
        assert_eq!(Threshold::parse("bytes:p99<1s").unwrap().undefined_in(&file), None);
        assert_eq!(Threshold::parse("p99<1s").unwrap().undefined_in(&file), None);
        assert_eq!(Threshold::parse("byts:p99<1s").unwrap().undefined_in(&defined(&["bytes"], true)), None);
        let none = Threshold::parse("get_root:p99<1s").unwrap().undefined_in(&defined(&[], false)).unwrap();
        assert!(none.contains("(its transactions: it defines none)"), "{none}");
    }

    /// A segment has a share of the counts and rates (judged on the merge), the whole of its
    /// percentiles and error percentages (judged by each segment).
    #[test]
    fn counts_and_rates_are_shares() {
        let share = |t: &str| Threshold::parse(t).unwrap().is_share();
        for t in ["count>10", "rps>100", "get:rps>1", "errors<5", "requests>1"] {
            assert!(share(t), "{t}");
        }
        for t in ["p99<1s", "errors<1%", "max<2s", "mean<1ms", "get:p50<1ms"] {
            assert!(!share(t), "{t}");
        }
        let same = |a: &str, b: &str| Threshold::parse(a).unwrap().same_figure(&Threshold::parse(b).unwrap());
        assert!(same("p99<1s", "p99<=250ms"));
        assert!(same("get:rps>1", "get:rps>=1000"));
        // A floor does not replace a ceiling of the same figure: both are judged.
        assert!(!same("get:rps>1", "get:rps<1000"));
        assert!(!same("get:p99<1ms", "get:p99>1us"));
        assert!(!same("p99<1s", "get:p99<1s"));
        assert!(!same("p99<1s", "p95<1s"));
        assert!(!same("errors<1%", "errors<3"));
    }

    #[test]
    fn refuses_what_it_cannot_check() {
        for bad in ["p99", "p98<1ms", "p99<fast", "rps>lots", ":p99<1ms", "errors<-1", "p99<250"] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
    }

    /// Outside try, finding 14: `errors<150%` and `errors<1%%` were accepted; `rps>1e3` was
    /// accepted while `p99<1e3ms` was refused. Numbers are plain decimals for every metric.
    #[test]
    fn numbers_are_plain_decimals_for_every_metric() {
        for bad in [
            "errors<150%",
            "errors<1%%",
            "errors<%",
            "errors<1 %%",
            "rps>1e3",
            "p99<1e3ms",
            "count<1E3",
            "rps>inf",
            "rps>NaN",
            "count>+5",
            "errors<-1%",
            "rps>.5",
            "rps>5.",
            "p99<1..2ms",
            "errors<0x10",
        ] {
            let err = Threshold::parse(bad).unwrap_err();
            assert!(matches!(err, ThresholdError::Syntax { .. }), "{bad}: {err}");
        }
        let ThresholdError::Syntax { problem, .. } = Threshold::parse("errors<150%").unwrap_err() else { panic!() };
        assert_eq!(problem, Problem::PercentAbove100("150%".into()));
        let ThresholdError::Syntax { problem, .. } = Threshold::parse("rps>1e3").unwrap_err() else { panic!() };
        assert_eq!(
            problem.to_string(),
            "\"1e3\" is not a plain number (digits and at most one decimal point; no sign, no exponent)"
        );
        for good in ["errors<100%", "errors<0.5%", "errors < 1 %", "rps>1000.5", "p99<1.5ms", "count>=1", "errors<=0"] {
            assert!(Threshold::parse(good).is_ok(), "{good}");
        }
    }

    /// Outside try 4: `errors<0%` was accepted, a gate no run can pass (nothing measured is
    /// below 0); so were `errors<0`, `p99<0ms`. Each is refused, saying what to write instead.
    #[test]
    fn a_threshold_that_could_never_pass_is_refused() {
        for (bad, instead) in [
            ("errors<0%", "errors<=0%"),
            ("login:errors < 0", "login:errors<=0"),
            ("rps<0.0", "rps<=0.0"),
            ("count<0?", "count<=0"),
        ] {
            let err = Threshold::parse(bad).unwrap_err();
            let ThresholdError::Syntax { problem: Problem::NeverPasses { instead: said, .. }, .. } = &err else {
                panic!("{bad}: {err}")
            };
            assert_eq!(said, instead, "{bad}");
        }
        assert_eq!(
            Threshold::parse("errors<0%").unwrap_err().why().split("; expected").next(),
            Some("\"<0%\" could never pass: nothing measured is below 0 (for none at all, write errors<=0%)")
        );
        for good in ["errors<=0%", "errors<=0", "errors<0.1%", "p99<=1us", "count>0"] {
            assert!(Threshold::parse(good).is_ok(), "{good}");
        }
    }

    /// Outside try 5: `errors<=100%` was accepted, a gate no run can fail (an error rate is at
    /// most 100%), and so were `count>=0`, `p99>0ms` (every latency is at least 1 µs); `p99<=0ms`
    /// was accepted, and even suggested for `p99<0ms`, though no run can pass it. Each is
    /// refused saying why; the gates just inside the bounds are kept.
    #[test]
    fn a_threshold_every_run_decides_alike_is_refused() {
        for (bad, passes) in [
            ("errors<=100%", true),
            ("errors <= 100.0 %", true),
            ("login:errors<=100%?", true),
            ("errors>=0%", true),
            ("errors>=0", true),
            ("count>=0", true),
            ("rps>=0.0", true),
            ("p99>0ms", true),
            ("max>=1us", true),
            ("mean>0.5us", true),
            ("p99<=0ms", false),
            ("p99<0ms", false),
            ("p50<1us", false),
            ("max<=0.5us", false),
        ] {
            let err = Threshold::parse(bad).unwrap_err();
            let ThresholdError::Syntax { problem: Problem::AlwaysDecided { passes: said, .. }, .. } = &err else {
                panic!("{bad}: {err}")
            };
            assert_eq!(*said, passes, "{bad}");
        }
        assert_eq!(
            Threshold::parse("errors<=100%").unwrap_err().why().split("; expected").next(),
            Some(
                "\"<=100%\" could never fail: an error rate is at most 100% (for a gate on errors, write errors<100% or lower)"
            )
        );
        assert_eq!(
            Threshold::parse("p99<=0ms").unwrap_err().why().split("; expected").next(),
            Some("\"<=0ms\" could never pass: every latency measured is at least 1us")
        );
        assert!(
            Threshold::parse("count>=0").unwrap_err().why().starts_with("\">=0\" could never fail: nothing measured")
        );
        for good in [
            "errors<100%",
            "errors<=99.9%",
            "errors>=100%",
            "errors>0%",
            "errors>0",
            "count>=1",
            "count>0",
            "rps>0",
            "rps<=0",
            "p99>1us",
            "p99>=1.5us",
            "p99<1.5us",
            "p99<=1us",
            "count<=0",
        ] {
            assert!(Threshold::parse(good).is_ok(), "{good}: {:?}", Threshold::parse(good));
        }
    }

    /// Outside try, finding 5: `scenario check` accepted a threshold naming a transaction the
    /// file cannot record, though the file defines every journey it runs.
    #[test]
    fn a_file_that_defines_every_journey_knows_its_transactions() {
        let file = r#"
            [journeys.j]
            steps = [ { transaction = "loop", url = "{base}/loopa" }, { url = "{base}/ok", method = "post" } ]
            [journeys.unused]
            steps = [ { transaction = "never", url = "{base}/" } ]
            [[scenario]]
            journey = "j"
            volume = { constant = 1 }
        "#;
        let FileTransactions { defined: known, complete } = file_transactions(file).unwrap();
        assert!(complete);
        let names: Vec<&str> = known.iter().map(String::as_str).collect();
        assert_eq!(names, ["POST {base}/ok", "j", "loop"]);
        assert_eq!(Threshold::parse("chekout:p99<1ms?").unwrap().unknown_in(Some(&known)), Some("chekout"));
        assert_eq!(Threshold::parse("never:p99<1ms").unwrap().unknown_in(Some(&known)), Some("never"));
        assert_eq!(Threshold::parse("loop:p99<1ms").unwrap().unknown_in(Some(&known)), None);
        assert_eq!(Threshold::parse("POST {base}/ok:errors<1%").unwrap().unknown_in(Some(&known)), None);
        assert_eq!(Threshold::parse("p99<1ms").unwrap().unknown_in(Some(&known)), None);
        // A registered (Rust) journey or a WebSocket one: only a run can tell its transactions.
        let registered = "[[scenario]]\njourney = \"http_example:journey\"\nvolume = { constant = 1 }\n";
        assert_eq!(file_transactions(registered), Some(defined(&[], false)));
        let websocket = "[journeys.j]\nsteps = [ { url = \"/\" } ]\n[websockets.w]\nurl = \"ws://x/\"\nsteps = []\n\
                         [[scenario]]\njourney = \"j\"\nvolume = { constant = 1 }\n[[scenario]]\njourney = \"w\"\nvolume = { constant = 1 }\n";
        assert_eq!(file_transactions(websocket), Some(defined(&["GET /", "j", "w"], false)));
        let mixed = format!("{file}[[scenario]]\njourney = \"http_example:journey\"\nvolume = {{ constant = 1 }}\n");
        assert_eq!(file_transactions(&mixed), Some(defined(&["POST {base}/ok", "j", "loop"], false)));
        assert_eq!(Threshold::parse("x:p99<1ms").unwrap().unknown_in(None), None);
    }
}
