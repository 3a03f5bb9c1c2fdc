//! Results side by side: runs merged (counters add, histograms merge exactly), and two result
//! files compared transaction by transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::limits::MERGE_FILES_MAX;
use crate::output::outcome::RunResult;
use crate::output::report;
use crate::output::result_file::{ResultFile, Transaction};
use crate::output::threshold::Failures;
use crate::output::units::{grouped, per_second};
use crate::stats::Merged;

/// Results that cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// No result was given.
    #[error("nothing to merge")]
    Nothing,
    /// More results than `MERGE_FILES_MAX` (their counters could overflow).
    #[error("{given} results: at most {MERGE_FILES_MAX} merge at once (merge them in groups, then the groups)")]
    TooMany {
        /// How many were given.
        given: usize,
    },
}

/// Merges results of runs that happened side by side (segments, injectors): counters add,
/// histograms merge exactly; the duration is the runs' whole window, from the earliest start
/// to the latest end (the longest run's when a start is unknown: a file written before starts
/// were recorded); cores and drivers are listed in order. Per-interval progress is not merged.
pub fn merge(results: &[RunResult]) -> Result<RunResult, MergeError> {
    let mut merging = Merging::of(results.len())?;
    for result in results {
        merging.add(result);
    }
    merging.finish()
}

/// [`merge`] one result at a time, so that a caller reading them from files holds one input's
/// histograms beside the merge rather than every input's.
pub struct Merging {
    merged: Option<RunResult>,
    /// The latest end of a run, seconds since the Unix epoch.
    ends_at_unix_s: f64,
    /// Whether a run's start is unknown (0).
    start_unknown: bool,
}

impl Merging {
    /// A merge of `count` results (none, or more than `MERGE_FILES_MAX`, is an error).
    pub fn of(count: usize) -> Result<Merging, MergeError> {
        if count > MERGE_FILES_MAX {
            return Err(MergeError::TooMany { given: count });
        }
        if count == 0 {
            return Err(MergeError::Nothing);
        }
        Ok(Merging { merged: None, ends_at_unix_s: 0.0, start_unknown: false })
    }

    /// Adds one result (the first gives the scenario's name and how it stopped).
    pub fn add(&mut self, result: &RunResult) {
        let merged = self.merged.get_or_insert_with(|| RunResult {
            scenario: result.scenario.clone(),
            cores: Vec::new(),
            drivers: Vec::new(),
            fallbacks: Vec::new(),
            started_at_unix_s: f64::INFINITY,
            duration_s: 0.0,
            stopped_by: result.stopped_by,
            merged: Merged::default(),
            intervals: Vec::new(),
            segment: None,
            tls_verified: result.tls_verified,
            stopped_because: None,
        });
        // Unverified when any input was; unknown when one does not say and none was unverified.
        merged.tls_verified =
            crate::output::result_file::tls_verified_together([merged.tls_verified, result.tls_verified]);
        merged.merged.merge(&result.merged);
        merged.cores.extend(&result.cores);
        merged.drivers.extend(&result.drivers);
        merged.started_at_unix_s = merged.started_at_unix_s.min(result.started_at_unix_s);
        merged.duration_s = merged.duration_s.max(result.duration_s);
        self.ends_at_unix_s = self.ends_at_unix_s.max(result.started_at_unix_s + result.duration_s);
        self.start_unknown |= result.started_at_unix_s <= 0.0;
    }

    /// The merged result.
    pub fn finish(self) -> Result<RunResult, MergeError> {
        let mut merged = self.merged.ok_or(MergeError::Nothing)?;
        if !self.start_unknown {
            merged.duration_s = merged.duration_s.max(self.ends_at_unix_s - merged.started_at_unix_s);
        }
        Ok(merged)
    }
}

/// What a comparison of `base` with `new` (each named by its label) compares when their runs
/// ran different scenarios, or different texts of one scenario file (their digests differ):
/// none when they ran the same, or when a file does not say.
pub fn scenarios_differ(base: (&str, &ResultFile), new: (&str, &ResultFile)) -> Option<String> {
    let ((base_label, base), (new_label, new)) = (base, new);
    // Quoted as written by `printable`, not `{:?}`: Debug would write its escapes again.
    let shown = |file: &ResultFile| format!("\"{}\"", report::printable(&file.scenario));
    if base.scenario != new.scenario {
        let (a, b) = (shown(base), shown(new));
        return Some(format!(
            "{base_label} and {new_label} ran different scenarios: {base_label} {a}, {new_label} {b}"
        ));
    }
    match (&base.scenario_digest, &new.scenario_digest) {
        (Some(a), Some(b)) if a != b => Some(format!(
            "{base_label} and {new_label} ran different texts of scenario {} (scenario_digest {a}, {b}): the \
             scenario file was changed between them",
            shown(base)
        )),
        _ => None,
    }
}

/// One transaction's figures for comparison, all of the transaction itself: how many ran, how
/// many per second, its durations, and its failures as an `errors` threshold reads them.
/// A figure with nothing to measure is `None` (shown `no data`, compared with nothing).
#[derive(Clone, Copy, Debug, Default)]
struct Figures {
    /// Transactions completed (ok and failed).
    count: f64,
    /// Transactions per second of the run's duration.
    rate: f64,
    /// Durations, µs; `None` when no transaction completed (nothing was timed).
    p50: Option<f64>,
    p99: Option<f64>,
    p999: Option<f64>,
    /// The larger of the failed requests' share of attempts and the failed transactions' share
    /// of transactions (`threshold::Failures`), percent; `None` with neither an attempt nor a
    /// completed transaction.
    error_percent: Option<f64>,
}

/// `txn`'s figures over the run's `seconds`; its durations from the intended start when
/// `corrected` (both sides of the comparison have them) and it has them.
fn figures(txn: &Transaction, seconds: f64, corrected: bool) -> Figures {
    let requests = &txn.requests;
    // Results written before `attempts` existed counted every attempt as a request.
    let failures = Failures {
        requests_failed: requests.errors,
        attempts: requests.attempts.unwrap_or(requests.count),
        transactions_failed: txn.errors,
        transactions: txn.count,
    };
    let latency = txn.latency_us_corrected.as_ref().filter(|_| corrected).unwrap_or(&txn.latency_us);
    // Durations are of completed transactions: with none there is no time (null in the file;
    // a hand-edited figure left beside a count of 0 is not one either).
    let timed = |us: Option<u64>| us.filter(|_| txn.count > 0).map(|us| us as f64);
    Figures {
        count: txn.count as f64,
        rate: if seconds > 0.0 { txn.count as f64 / seconds } else { 0.0 },
        p50: timed(latency.p50),
        p99: timed(latency.p99),
        p999: timed(latency.p999),
        error_percent: failures.percent(),
    }
}

/// The transactions of `file` with latencies from the intended start (open model).
fn corrected_names(file: &ResultFile) -> BTreeSet<&str> {
    file.transactions.iter().filter(|t| t.latency_us_corrected.is_some()).map(|t| t.name.as_str()).collect()
}

/// What a column shows for a figure with nothing to measure.
pub(crate) const NO_DATA: &str = "no data";

pub(crate) fn delta(base: f64, new: f64) -> String {
    if base == 0.0 {
        return if new == 0.0 { "=".into() } else { "new".into() };
    }
    format!("{:+.1}%", (new - base) * 100.0 / base)
}

/// A latency's cell (ms) and its change, or `no data` and `-` when a side has none.
pub(crate) fn latency_cells(base: Option<f64>, new: Option<f64>) -> (String, String) {
    match (base, new) {
        (_, None) => (NO_DATA.into(), "-".into()),
        (None, Some(new)) => (format!("{:.2}", new / 1000.0), "-".into()),
        (Some(base), Some(new)) => (format!("{:.2}", new / 1000.0), delta(base, new)),
    }
}

/// How [`compare`]'s table reads, said above it: whose figures are shown, and what each change is.
pub const COMPARE_READING: &str = "figures: NEW's (count, txn/s, latencies, err %); each Δ: NEW's change from BASE, \
     in % of BASE's figure (NEW/BASE - 1), Δerr pp in percentage points";

/// Compares two result files. Returns the table and the regressions beyond `max_regression_pct`
/// (latency p50/p99/p99.9 up, rate down, by more than that percentage; error rate up by more
/// than that many percentage points; a transaction of BASE missing from NEW). Latencies are
/// the corrected ones when both have them. A figure one side has no data for (latencies of a
/// transaction that never completed; the error share of one with neither an attempt nor a
/// completion) is shown as `no data` and is neither a regression nor an improvement; the rate
/// is always measured (none completed is 0/s), so a transaction that stopped completing
/// regresses by its rate.
pub fn compare(base: &ResultFile, new: &ResultFile, max_regression_pct: f64) -> (String, Vec<String>) {
    // Corrected latencies compare only with corrected ones: a transaction's are used when both
    // sides have them (an open-model run against a closed one compares their own times).
    let (base_corrected, new_corrected) = (corrected_names(base), corrected_names(new));
    let by_name = |file: &ResultFile| -> BTreeMap<String, Figures> {
        let both = |name: &str| base_corrected.contains(name) && new_corrected.contains(name);
        file.transactions.iter().map(|t| (t.name.clone(), figures(t, file.duration_s, both(&t.name)))).collect()
    };
    let (old, now) = (by_name(base), by_name(new));
    let mut out = String::new();
    let mut regressions = Vec::new();
    let names: BTreeSet<&String> = old.keys().chain(now.keys()).collect();
    // In terminal columns, at least 30: a long name is cut in its middle, a wide one (CJK,
    // emoji) padded by the columns it takes, so the figures stay in line.
    let width = report::name_column(names.iter().map(|n| n.as_str())).max(30);
    let _ = writeln!(
        out,
        "{:<width$} {:>12} {:>12} {:>9} {:>10} {:>9} {:>10} {:>9} {:>10} {:>9} {:>8} {:>8}",
        "transaction",
        "count",
        "txn/s",
        "Δrate",
        "p50 ms",
        "Δp50",
        "p99 ms",
        "Δp99",
        "p99.9 ms",
        "Δp99.9",
        "err %",
        "Δerr pp"
    );
    for key in names {
        // Shown, not obeyed: a name's control characters written as escapes.
        let name = &*report::printable(key);
        let cell = report::name_cell(key, width);
        let (Some(a), Some(b)) = (old.get(key), now.get(key)) else {
            let _ = writeln!(out, "{cell} only in {}", if old.contains_key(key) { "BASE" } else { "NEW" });
            if old.contains_key(key) {
                // What BASE measured and NEW did not run at all is the worst regression.
                regressions.push(format!("{name}: in BASE, missing from NEW"));
            }
            continue;
        };
        compare_row(&mut out, &cell, a, b);
        regressions.extend(regressions_of(name, a, b, max_regression_pct));
    }
    out.push_str(&crate::output::websocket::compare(base, new));
    (out, regressions)
}

/// One transaction's row; `cell` is its name as the column shows it ([`report::name_cell`]).
fn compare_row(out: &mut String, cell: &str, a: &Figures, b: &Figures) {
    let (p50, d50) = latency_cells(a.p50, b.p50);
    let (p99, d99) = latency_cells(a.p99, b.p99);
    let (p999, d999) = latency_cells(a.p999, b.p999);
    let (errors, errors_delta) = match (a.error_percent, b.error_percent) {
        (_, None) => (NO_DATA.into(), "-".into()),
        (None, Some(new)) => (format!("{new:.3}"), "-".into()),
        (Some(base), Some(new)) => (format!("{new:.3}"), format!("{:+.3}", new - base)),
    };
    let _ = writeln!(
        out,
        "{} {:>12} {:>12} {:>9} {:>10} {:>9} {:>10} {:>9} {:>10} {:>9} {:>8} {:>8}",
        cell,
        grouped(b.count as u64),
        per_second(b.rate),
        delta(a.rate, b.rate),
        p50,
        d50,
        p99,
        d99,
        p999,
        d999,
        errors,
        errors_delta
    );
}

/// What got worse from `a` (BASE) to `b` (NEW) beyond `max_regression_pct`. A figure either
/// side has no data for is compared with nothing.
fn regressions_of(name: &str, a: &Figures, b: &Figures, max_regression_pct: f64) -> Vec<String> {
    let mut regressions = Vec::new();
    let worse = |base: f64, new: f64| base > 0.0 && (new - base) * 100.0 / base > max_regression_pct;
    for (label, base_value, new_value) in [("p50", a.p50, b.p50), ("p99", a.p99, b.p99), ("p99.9", a.p999, b.p999)] {
        let (Some(base_value), Some(new_value)) = (base_value, new_value) else { continue };
        if worse(base_value, new_value) {
            regressions.push(format!(
                "{name}: {label} {}ms -> {}ms ({})",
                base_value / 1000.0,
                new_value / 1000.0,
                delta(base_value, new_value)
            ));
        }
    }
    if a.rate > 0.0 && (a.rate - b.rate) * 100.0 / a.rate > max_regression_pct {
        let none = if b.count == 0.0 { ", none completed" } else { "" };
        let (from, to) = (per_second(a.rate), per_second(b.rate));
        regressions.push(format!("{name}: rate {from}/s -> {to}/s ({}{none})", delta(a.rate, b.rate)));
    }
    if let (Some(base), Some(new)) = (a.error_percent, b.error_percent)
        && new - base > max_regression_pct
    {
        regressions.push(format!("{name}: errors {base:.3}% -> {new:.3}%"));
    }
    regressions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::RESULT_COUNT_MAX;
    use crate::output::outcome::StopReason;
    use crate::output::result_file::{Latency, ResultFile};
    use crate::stats::{ErrorKind, TxnStats};

    /// Result files hold counters up to `RESULT_COUNT_MAX`; `MERGE_FILES_MAX` of them merge
    /// without overflow, one more is refused.
    #[test]
    fn the_largest_merge_allowed_does_not_overflow() {
        let max = RESULT_COUNT_MAX;
        let mut stats =
            TxnStats { txn_ok: max, req_ok: max, connects: max, first_byte_us_sum: max, ..TxnStats::default() };
        stats.add_errors(ErrorKind::Timeout, max);
        stats.add_errors(ErrorKind::Reset, max);
        let mut merged = Merged::default();
        merged.txns.insert("a".into(), stats);
        let run = RunResult {
            scenario: "s".into(),
            cores: vec![0],
            drivers: Vec::new(),
            fallbacks: Vec::new(),
            started_at_unix_s: 0.0,
            duration_s: 1.0,
            stopped_by: StopReason::Duration,
            merged,
            intervals: Vec::new(),
            segment: None,
            tls_verified: Some(true),
            stopped_because: None,
        };
        let runs = vec![run; MERGE_FILES_MAX];
        let total = merge(&runs).unwrap().merged.total();
        assert_eq!(total.attempts(), 3 * max * MERGE_FILES_MAX as u64);
        let one_more = vec![runs[0].clone(); MERGE_FILES_MAX + 1];
        assert_eq!(merge(&one_more).unwrap_err(), MergeError::TooMany { given: MERGE_FILES_MAX + 1 });
        assert_eq!(merge(&[]).unwrap_err(), MergeError::Nothing);
    }

    /// Outside try: the merged duration was the longest part's, not the window the parts ran
    /// in together, so a part started late made every merged rate too high.
    #[test]
    fn the_merged_duration_is_the_parts_whole_window() {
        let run = |started_at_unix_s: f64, duration_s: f64| RunResult {
            scenario: "s".into(),
            cores: vec![0],
            drivers: Vec::new(),
            fallbacks: Vec::new(),
            started_at_unix_s,
            duration_s,
            stopped_by: StopReason::Duration,
            merged: Merged::default(),
            intervals: Vec::new(),
            segment: None,
            tls_verified: Some(true),
            stopped_because: None,
        };
        let merged = merge(&[run(1000.0, 10.0), run(1002.5, 10.0)]).unwrap();
        assert_eq!((merged.started_at_unix_s, merged.duration_s), (1000.0, 12.5));
        let merged = merge(&[run(1000.0, 10.0), run(1001.0, 4.0)]).unwrap();
        assert_eq!(merged.duration_s, 10.0, "one inside the other");
        // A start unknown (an older file): the longest part's.
        let merged = merge(&[run(0.0, 10.0), run(1002.5, 11.0)]).unwrap();
        assert_eq!(merged.duration_s, 11.0);

        // Each error kind's first message, the first input's first (a merge dropped them all).
        let (mut first, mut second) = (run(1000.0, 10.0), run(1001.0, 10.0));
        first.merged.error_samples.insert("status", "GET / answered 503".into());
        second.merged.error_samples.insert("status", "GET /b answered 502".into());
        second.merged.error_samples.insert("reset", "connection reset".into());
        let merged = merge(&[first, second]).unwrap();
        let samples: Vec<_> = merged.merged.error_samples.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(samples, [("reset", "connection reset"), ("status", "GET / answered 503")]);
    }

    fn result_with(names: &[&str]) -> ResultFile {
        let txns: Vec<String> = names
            .iter()
            .map(|n| {
                format!(
                    r#"{{ "name": "{n}", "count": 10, "errors": 0, "latency_us": {{ "count": 10, "p50": 100, "p99": 200, "p999": 300 }},
                        "requests": {{ "count": 10, "errors": 0, "attempts": 10 }} }}"#
                )
            })
            .collect();
        let text = format!(
            r#"{{ "mite_engine_version": "0", "duration_s": 1.0, "totals": {{}}, "transactions": [{}] }}"#,
            txns.join(",")
        );
        ResultFile::read(&text, "test").unwrap()
    }

    /// The txn/s column read `123456.0` while every other table groups thousands: it reads
    /// as the terminal report's rates do (`123,456`, and one decimal below 10/s), and so do the
    /// regression lines.
    #[test]
    fn rates_are_grouped_as_in_the_terminal_report() {
        let base = result_with(&["fast", "slow"]);
        let mut new = base.clone();
        new.transactions[0].count = 123_456;
        new.transactions[1].count = 3;
        let (table, regressions) = compare(&base, &new, 5.0);
        assert_eq!(row(&table, "fast")[..3], ["123,456", "123,456", "+1234460.0%"], "{table}");
        assert_eq!(row(&table, "slow")[..3], ["3", "3.0", "-70.0%"], "{table}");
        assert_eq!(regressions, ["slow: rate 10/s -> 3.0/s (-70.0%)"]);
        let (_, regressions) = compare(&new, &base, 5.0);
        assert_eq!(regressions, ["fast: rate 123,456/s -> 10/s (-100.0%)"]);
    }

    /// Outside try 5: names are shown, not obeyed (an escape sequence in a name recoloured
    /// the terminal; a line break forged a row).
    #[test]
    fn compare_shows_control_characters_in_names_as_escapes() {
        let (table, regressions) =
            compare(&result_with(&["x\\u001b[2Jy", "gone"]), &result_with(&["x\\u001b[2Jy"]), 5.0);
        assert!(table.contains("x\\u{1b}[2Jy") && !table.contains('\u{1b}'), "{table}");
        assert_eq!(regressions, vec!["gone: in BASE, missing from NEW".to_string()]);
    }

    /// Outside try: a name longer than 30 characters, or one with wide characters, pushed its
    /// row's figures out of line; a 300-character name took the whole line.
    #[test]
    fn long_and_wide_names_keep_the_columns_in_line() {
        use unicode_width::UnicodeWidthStr;
        let long = "L".repeat(300);
        let names = ["ünïcödé 日本 🚀", long.as_str(), "a"];
        let (table, _) = compare(&result_with(&names), &result_with(&names), 5.0);
        let widths: Vec<usize> = table.lines().map(UnicodeWidthStr::width).collect();
        assert_eq!(widths.len(), 4, "{table}");
        assert!(widths.iter().all(|w| *w == widths[0]), "{widths:?}\n{table}");
        assert!(table.contains('…') && !table.contains(&long), "{table}");
    }

    /// Issue 11: a transaction in BASE and missing from NEW passed.
    #[test]
    fn a_transaction_missing_from_new_is_a_regression() {
        let (_, regressions) = compare(&result_with(&["a", "b"]), &result_with(&["a"]), 5.0);
        assert_eq!(regressions, vec!["b: in BASE, missing from NEW".to_string()]);
        let (_, regressions) = compare(&result_with(&["a"]), &result_with(&["a", "c"]), 5.0);
        assert!(regressions.is_empty(), "a new transaction is not a regression: {regressions:?}");
        assert!(compare(&result_with(&["a"]), &result_with(&["a"]), 5.0).1.is_empty());
    }

    #[test]
    fn slower_fewer_and_failing_are_regressions() {
        let base = result_with(&["a"]);
        let mut new = base.clone();
        new.transactions[0].latency_us.p99 = Some(400);
        new.transactions[0].count = 5;
        new.transactions[0].requests.errors = 3;
        let (table, regressions) = compare(&base, &new, 5.0);
        assert!(table.contains("+100.0%"), "{table}");
        assert_eq!(regressions.len(), 3, "{regressions:?}");
        assert!(regressions[0].starts_with("a: p99 0.2ms -> 0.4ms"), "{regressions:?}");
        assert!(regressions[1].starts_with("a: rate 10/s -> 5.0/s"), "{regressions:?}");
        assert!(regressions[2].starts_with("a: errors 0.000% -> 30.000%"), "{regressions:?}");
    }

    /// Latencies are the corrected ones only when both sides have them: BASE an open-model run
    /// (corrected p99 5 ms) and NEW a closed one compared BASE's corrected times with NEW's own
    /// (a -96 % "improvement" where both measured 0.2 ms); NEW the open one, a +2,400 % regression.
    #[test]
    fn corrected_latencies_are_compared_only_with_corrected_ones() {
        let closed = result_with(&["a"]);
        let mut open = closed.clone();
        open.transactions[0].latency_us_corrected =
            Some(Latency { count: 10, p50: Some(4_000), p99: Some(5_000), p999: Some(5_000), ..Latency::default() });
        for (base, new) in [(&open, &closed), (&closed, &open)] {
            let (table, regressions) = compare(base, new, 5.0);
            assert_eq!(row(&table, "a")[3..9], ["0.10", "+0.0%", "0.20", "+0.0%", "0.30", "+0.0%"], "{table}");
            assert!(regressions.is_empty(), "{regressions:?}");
        }
        let (table, _) = compare(&open, &open, 5.0);
        assert_eq!(row(&table, "a")[3..5], ["4.00", "+0.0%"], "both corrected: {table}");
    }

    /// The row of `name` in a comparison table, split into cells.
    fn row(table: &str, name: &str) -> Vec<String> {
        let line = table.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap();
        let cells = line[name.len()..].replace(NO_DATA, "no_data");
        cells.split_whitespace().map(|cell| cell.replace("no_data", NO_DATA)).collect()
    }

    /// Outside try 4: a transaction with no completions (its 50 requests cancelled at the stop)
    /// read `0.00 ms, -100.0%` in every latency column, an improvement. Its latencies are
    /// `no data`, compared with nothing; its rate fell to 0/s, which is the regression.
    #[test]
    fn a_transaction_with_no_completions_has_no_latencies() {
        let base = result_with(&["g"]);
        let mut new = base.clone();
        let g = &mut new.transactions[0];
        (g.count, g.latency_us) = (0, Latency::default());
        (g.requests.count, g.requests.errors, g.requests.attempts) = (50, 50, Some(50));
        let (table, regressions) = compare(&base, &new, 5.0);
        let cells = row(&table, "g");
        assert_eq!(
            cells,
            ["0", "0.0", "-100.0%", "no data", "-", "no data", "-", "no data", "-", "100.000", "+100.000"]
        );
        assert_eq!(
            regressions,
            ["g: rate 10/s -> 0.0/s (-100.0%, none completed)", "g: errors 0.000% -> 100.000%"],
            "{table}"
        );
        // The other way round: BASE had none, NEW's latencies are compared with nothing.
        let (table, regressions) = compare(&new, &base, 5.0);
        assert_eq!(row(&table, "g")[3..], ["0.10", "-", "0.20", "-", "0.30", "-", "0.000", "-100.000"], "{table}");
        assert!(regressions.is_empty(), "{regressions:?}");
        // Nothing at all on either side: no figure to compare, no regression, no improvement.
        let mut nothing = new.clone();
        (nothing.transactions[0].requests.count, nothing.transactions[0].requests.errors) = (0, 0);
        nothing.transactions[0].requests.attempts = Some(0);
        let (table, regressions) = compare(&nothing, &nothing, 5.0);
        assert_eq!(row(&table, "g")[3..], ["no data", "-", "no data", "-", "no data", "-", "no data", "-"], "{table}");
        assert!(regressions.is_empty(), "{regressions:?}");
        let (table, regressions) = compare(&nothing, &base, 5.0);
        assert_eq!(row(&table, "g")[9..], ["0.000", "-"], "{table}");
        assert!(regressions.is_empty(), "{regressions:?}");
    }

    /// Outside try, finding 2: every `login` of NEW failed (a capture not found) while its
    /// requests all got a 200, and compare said "no regression"; its count and rate were the
    /// requests' while its percentiles were the transaction's.
    #[test]
    fn failed_transactions_are_a_regression_and_every_column_is_the_transactions() {
        let base = result_with(&["login"]);
        let mut new = base.clone();
        new.transactions[0].errors = 10;
        let (table, regressions) = compare(&base, &new, 5.0);
        assert_eq!(regressions, vec!["login: errors 0.000% -> 100.000%".to_string()], "{table}");
        // Four requests per transaction: count and rate are still the transaction's (10, 10/s).
        let mut four = base.clone();
        four.transactions[0].requests.count = 40;
        four.transactions[0].requests.attempts = Some(40);
        let (table, regressions) = compare(&base, &four, 5.0);
        assert!(regressions.is_empty(), "{regressions:?}");
        let row = table.lines().nth(1).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(&cells[..4], ["login", "10", "10", "+0.0%"], "{table}");
    }
}
