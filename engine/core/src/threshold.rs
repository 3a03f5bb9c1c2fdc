//! Pass/fail thresholds checked at the end of a run: `get_root:p99<250ms`, `errors<1%`,
//! `rps>10000`. A threshold that names an unknown transaction is an error, never a pass.

use std::fmt;

use hdrhistogram::Histogram;

use crate::run::RunResult;
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
}

/// A threshold that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdError(pub String);

impl fmt::Display for ThresholdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ThresholdError {}

/// The outcome of one threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The threshold as written.
    pub text: String,
    /// Whether it held.
    pub passed: bool,
    /// What was measured, readable.
    pub actual: String,
}

const HELP: &str = "expected [transaction:]metric<op>value, e.g. get_root:p99<250ms, errors<1%, rps>10000; \
                    metrics p50 p90 p95 p99 p999 max mean (ms, s or us), errors (% or count), rps, count";

impl Threshold {
    /// Parses one threshold.
    pub fn parse(text: &str) -> Result<Threshold, ThresholdError> {
        let bad = |why: &str| ThresholdError(format!("threshold {text:?}: {why}; {HELP}"));
        let (at, op, op_len) = ["<=", ">=", "<", ">"]
            .iter()
            .filter_map(|op| text.find(op).map(|at| (at, *op, op.len())))
            .min_by_key(|(at, _, len)| (*at, usize::MAX - len))
            .ok_or_else(|| bad("no comparison (<, <=, >, >=)"))?;
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
            return Err(bad("empty transaction name"));
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
            other => return Err(bad(&format!("unknown metric {other:?}"))),
        };
        let value = match metric {
            Metric::Quantile(_) | Metric::Max | Metric::Mean => parse_latency_us(right).ok_or_else(|| {
                if right.parse::<f64>().is_ok() {
                    bad(&format!("latency {right} has no unit; write {right}ms, {right}s or {right}us"))
                } else {
                    bad("bad latency")
                }
            })?,
            Metric::ErrorPercent => right.trim_end_matches('%').trim().parse().map_err(|_| bad("bad percentage"))?,
            _ => right.parse().map_err(|_| bad("bad number"))?,
        };
        if !f64::is_finite(value) || value < 0.0 {
            return Err(bad("value must be a non-negative number"));
        }
        Ok(Threshold { text: text.to_string(), transaction, metric, op, value })
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
                    return Err(ThresholdError(format!(
                        "threshold {:?}: no transaction named {name:?} in the results (known: {})",
                        self.text,
                        known.join(", ")
                    )));
                }
            },
            None => {
                total = result.merged.total();
                (&total, true)
            }
        };
        let (actual, shown) = measure(self.metric, stats, is_total, result.duration_s);
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
/// request times for totals, transaction durations for a named transaction.
fn latency(stats: &TxnStats, is_total: bool) -> &Histogram<u64> {
    let (corrected, plain) = if is_total && !stats.req_us.is_empty() {
        (&stats.req_us_corrected, &stats.req_us)
    } else {
        (&stats.txn_us_corrected, &stats.txn_us)
    };
    if corrected.is_empty() { plain } else { corrected }
}

fn measure(metric: Metric, stats: &TxnStats, is_total: bool, seconds: f64) -> (f64, String) {
    let h = latency(stats, is_total);
    let ms = |us: f64| (us, format!("{:.2}ms", us / 1000.0));
    let (count, errors) = if stats.requests() > 0 || is_total {
        (stats.requests(), stats.req_errors())
    } else {
        (stats.transactions(), stats.txn_err)
    };
    match metric {
        Metric::Quantile(q) => ms(if h.is_empty() { 0.0 } else { h.value_at_quantile(q) as f64 }),
        Metric::Max => ms(if h.is_empty() { 0.0 } else { h.max() as f64 }),
        Metric::Mean => ms(if h.is_empty() { 0.0 } else { h.mean() }),
        Metric::ErrorPercent => {
            let percent = if count == 0 { 0.0 } else { errors as f64 * 100.0 / count as f64 };
            (percent, format!("{percent:.3}%"))
        }
        Metric::Errors => (errors as f64, errors.to_string()),
        Metric::Rps => {
            let rps = if seconds > 0.0 { count as f64 / seconds } else { 0.0 };
            (rps, format!("{rps:.1}/s"))
        }
        Metric::Count => (count as f64, count.to_string()),
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
    fn refuses_what_it_cannot_check() {
        for bad in ["p99", "p98<1ms", "p99<fast", "rps>lots", ":p99<1ms", "errors<-1", "p99<250"] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
    }
}
