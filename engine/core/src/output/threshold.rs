//! Pass/fail thresholds checked at the end of a run: `get_root:p99<250ms`, `errors<1%`,
//! `rps>10000`. A threshold that names an unknown transaction is an error, never a pass; one
//! with nothing to measure (no requests, no transactions) fails saying "no data", unless it is
//! written as optional with a trailing `?` (`get_root:p99<250ms?`).

use hdrhistogram::Histogram;

use crate::output::outcome::RunResult;
use crate::scenario::file::{LoadedScenario, ScenarioFileError};
use crate::stats::TxnStats;

/// What a threshold measures.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Metric {
    /// A latency quantile (0..=1), in µs.
    Quantile(f64),
    Max,
    Mean,
    /// Errors as a percentage of requests (or of transactions, for a transaction without requests).
    ErrorPercent,
    /// Errors as a count.
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
    /// It names a transaction that is not in the results.
    #[error("threshold {text:?}: no transaction named {name:?} in the results (known: {known})")]
    UnknownTransaction {
        /// The threshold as written.
        text: String,
        /// The transaction it names.
        name: String,
        /// The transactions the run had, comma-separated.
        known: String,
    },
}

impl ThresholdError {
    /// What is wrong, without the threshold itself (for a caller that names it with its flag
    /// or its place in a file).
    pub fn why(&self) -> String {
        match self {
            ThresholdError::Syntax { problem, .. } => format!("{problem}; {HELP}"),
            ThresholdError::UnknownTransaction { name, known, .. } => {
                format!("no transaction named {name:?} in the results (known: {known})")
            }
        }
    }
}

/// A scenario file's `thresholds`, each parsed; one that does not parse is refused at its
/// `file:line: thresholds[i]`, before anything runs (and by `scenario check`).
pub fn from_file(loaded: &LoadedScenario) -> Result<Vec<Threshold>, ScenarioFileError> {
    let parse = |(i, text): (usize, &String)| {
        Threshold::parse(text).map_err(|e| loaded.threshold_error(i, format!("{text:?}: {}", e.why())))
    };
    loaded.thresholds.iter().enumerate().map(parse).collect()
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
    #[error("bad latency")]
    BadLatency,
    /// A percentage that does not parse.
    #[error("bad percentage")]
    BadPercentage,
    /// A number that does not parse.
    #[error("bad number")]
    BadNumber,
    /// Negative, infinite or NaN.
    #[error("value must be a non-negative number")]
    NotNonNegative,
}

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
        let (at, op, op_len) = ["<=", ">=", "<", ">"]
            .iter()
            .filter_map(|op| text.find(op).map(|at| (at, *op, op.len())))
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
                if right.parse::<f64>().is_ok() {
                    bad(Problem::NoUnit(right.to_string()))
                } else {
                    bad(Problem::BadLatency)
                }
            })?,
            Metric::ErrorPercent => {
                right.trim_end_matches('%').trim().parse().map_err(|_| bad(Problem::BadPercentage))?
            }
            _ => right.parse().map_err(|_| bad(Problem::BadNumber))?,
        };
        if !f64::is_finite(value) || value < 0.0 {
            return Err(bad(Problem::NotNonNegative));
        }
        Ok(Threshold { text: written.to_string(), transaction, metric, op, value, optional })
    }

    /// The threshold as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Checks the threshold against a result. Unknown transactions are an error.
    pub fn check(&self, result: &RunResult) -> Result<Outcome, ThresholdError> {
        let total;
        let (stats, is_total) = match &self.transaction {
            Some(name) => match result.merged.txns.get(name.as_str()) {
                Some(stats) => (stats, false),
                None => {
                    let known: Vec<&str> = result.merged.txns.keys().map(|k| k.as_ref()).collect();
                    return Err(ThresholdError::UnknownTransaction {
                        text: self.text.clone(),
                        name: name.clone(),
                        known: known.join(", "),
                    });
                }
            },
            None => {
                total = result.merged.total();
                (&total, true)
            }
        };
        let Some((actual, shown)) = measure(self.metric, stats, is_total, result.duration_s) else {
            // Nothing to measure is never a pass, unless the threshold says it may be.
            let actual = if self.optional { "no data (optional)" } else { "no data" };
            return Ok(Outcome { text: self.text.clone(), passed: self.optional, actual: actual.into() });
        };
        let passed = match self.op {
            Op::Lt => actual < self.value,
            Op::Le => actual <= self.value,
            Op::Gt => actual > self.value,
            Op::Ge => actual >= self.value,
        };
        Ok(Outcome { text: self.text.clone(), passed, actual: shown })
    }
}

/// The histogram a latency threshold reads: corrected (open model) when there is one;
/// for totals, the times of requests answered (any status), as `totals.latency_us` (failed
/// requests have no response time: when none was answered there is no data, never the
/// transactions' durations instead); transaction durations for a named transaction, or for
/// totals of a run that made no request at all.
fn latency(stats: &TxnStats, is_total: bool) -> &Histogram<u64> {
    let (corrected, plain) = if is_total && stats.attempts() > 0 {
        (&stats.req_us_corrected, &stats.req_us)
    } else {
        (&stats.txn_us_corrected, &stats.txn_us)
    };
    if corrected.is_empty() { plain } else { corrected }
}

/// The measured value and how it reads, or `None` when there is nothing to measure: no
/// latency recorded, or no attempt (request or transaction) to count.
fn measure(metric: Metric, stats: &TxnStats, is_total: bool, seconds: f64) -> Option<(f64, String)> {
    let h = latency(stats, is_total);
    let ms = |us: f64| Some((us, format!("{:.2}ms", us / 1000.0)));
    // Error rates are over every attempt (requests sent and those that failed before a byte
    // was written); counts and rates are of requests sent.
    let (attempts, sent, errors) = if stats.attempts() > 0 {
        (stats.attempts(), stats.requests(), stats.req_errors())
    } else {
        (stats.transactions(), stats.transactions(), stats.txn_err)
    };
    if attempts == 0 && !matches!(metric, Metric::Quantile(_) | Metric::Max | Metric::Mean) {
        return None;
    }
    match metric {
        Metric::Quantile(_) | Metric::Max | Metric::Mean if h.is_empty() => None,
        Metric::Quantile(q) => ms(h.value_at_quantile(q) as f64),
        Metric::Max => ms(h.max() as f64),
        Metric::Mean => ms(h.mean()),
        Metric::ErrorPercent => {
            let percent = errors as f64 * 100.0 / attempts as f64;
            Some((percent, format!("{percent:.3}%")))
        }
        Metric::Errors => Some((errors as f64, errors.to_string())),
        Metric::Rps => {
            let rps = if seconds > 0.0 { sent as f64 / seconds } else { 0.0 };
            Some((rps, format!("{rps:.1}/s")))
        }
        Metric::Count => Some((sent as f64, sent.to_string())),
    }
}

/// `250ms`, `1.5s`, `800us`, in µs. A bare number is refused, as for durations: `250` could
/// mean milliseconds or seconds.
fn parse_latency_us(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    Some(match unit.trim() {
        "ms" => value * 1000.0,
        "s" => value * 1_000_000.0,
        "us" | "µs" => value,
        _ => return None,
    })
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
        RunResult {
            scenario: "t".into(),
            cores: vec![0],
            drivers: Vec::new(),
            fallbacks: Vec::new(),
            started_at_unix_s: 0.0,
            duration_s: 1.0,
            stopped_by: crate::output::outcome::StopReason::Duration,
            merged,
            intervals: Vec::new(),
            segment: None,
        }
    }

    /// Issue 11: a run that sent nothing passed `p99<10ms` and `errors<1%`.
    #[test]
    fn no_data_fails_unless_optional() {
        let result = empty_result(&["get_root"]);
        for text in
            ["p99<10ms", "errors<1%", "errors<5", "get_root:p99<10ms", "get_root:mean<1s", "rps<100", "count<10"]
        {
            let outcome = Threshold::parse(text).unwrap().check(&result).unwrap();
            assert!(!outcome.passed, "{text} passed with no data");
            assert_eq!(outcome.actual, "no data", "{text}");
            let optional = Threshold::parse(&format!("{text}?")).unwrap().check(&result).unwrap();
            assert!(optional.passed, "{text}? failed");
            assert_eq!(optional.actual, "no data (optional)");
        }
        assert!(Threshold::parse("nope:p99<1ms?").unwrap().check(&result).is_err(), "unknown names stay errors");
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
        let outcome = Threshold::parse("errors<1%").unwrap().check(&result).unwrap();
        assert_eq!((outcome.passed, outcome.actual.as_str()), (false, "75.000%"));
        assert_eq!(Threshold::parse("count>=1").unwrap().check(&result).unwrap().actual, "1");
    }

    #[test]
    fn refuses_what_it_cannot_check() {
        for bad in ["p99", "p98<1ms", "p99<fast", "rps>lots", ":p99<1ms", "errors<-1", "p99<250"] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
    }
}
