//! `merge` of result files name by name: one transaction's histograms are decoded from every
//! input that has it, merged, written into the merged file and dropped before the next name's,
//! so that a merge holds one name's histograms and the totals' at a time, not every name's
//! (some GiB at 10,000 names). On the way each input's own figures are checked against its
//! `raw` counters, which are what a merge adds up: a figure edited by hand (a transaction's
//! `count`, the totals' `requests`) is refused, naming the file and the field, so that the
//! parts' figures and the merged ones always add up.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::output::html::data::Drawing;
use crate::output::outcome::RunResult;
use crate::output::result_file::{self, ResultFile, ResultFileError, Transaction};
use crate::output::results::{MergeError, Merging};
use crate::output::threshold::{Checked, Threshold};
use crate::stats::{LatencyHistogram, Merged, TxnStats};

/// Result files that cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeFilesError {
    /// None, or too many.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// An input that does not read as a run, or whose figures disagree with its counters.
    #[error(transparent)]
    File(#[from] ResultFileError),
}

/// A merge of result files.
#[derive(Debug)]
pub struct MergedFiles {
    /// The merged run: its journeys, messages, injector load, and each transaction's counters
    /// (and WebSocket replies) without its latency histograms, which are in `file`'s `raw`.
    pub run: RunResult,
    /// Every transaction folded into one, histograms included: what the totals read.
    pub total: TxnStats,
    /// The transactions asked to be kept whole (those thresholds name), histograms included.
    pub kept: BTreeMap<Arc<str>, TxnStats>,
    /// The merged result file.
    pub file: ResultFile,
}

/// Merges `inputs` (each named as errors should name it), as [`crate::output::results::merge`]
/// merges runs: counters add, histograms merge exactly, the duration is the parts' whole window.
/// The transactions `thresholds` name are kept whole, for [`MergedFiles::check`]. Each input's
/// histograms are decoded once, here (an input may be read unchecked: one that does not decode
/// is an error naming it); with `draw`, each input's and the merge's distributions are drawn
/// as they are (`drawn`), for a page that then decodes none.
pub fn merge_files(
    inputs: &mut [(String, ResultFile)],
    thresholds: &[Threshold],
    draw: bool,
) -> Result<MergedFiles, MergeFilesError> {
    let mut merging = Merging::of(inputs.len())?;
    for (source, file) in inputs.iter() {
        merging.add(&result_file::read_run_untimed(file, source)?);
    }
    let mut run = merging.finish()?;
    // Where each name is: (input, index in its transactions).
    let mut places: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (input, (_, file)) in inputs.iter().enumerate() {
        for (index, txn) in file.transactions.iter().enumerate() {
            places.entry(txn.name.as_str()).or_default().push((input, index));
        }
    }
    // Each input's transactions added up (counters only), to check its totals against.
    let mut sums = vec![TxnStats::default(); inputs.len()];
    let mut total = TxnStats::default();
    let mut kept = BTreeMap::new();
    let mut transactions = Vec::with_capacity(places.len());
    // Each input's distributions, and where each goes: (input, index, drawn).
    let mut drawings: Vec<Drawing> = inputs.iter().map(|_| Drawing::default()).collect();
    let mut drawn = Vec::new();
    let mut merged_drawing = Drawing::default();
    for (name, places) in places {
        let mut stats = TxnStats::default();
        for (input, index) in places {
            let (source, file) = &inputs[input];
            let txn = &file.transactions[index];
            let one = result_file::transaction_stats(txn, index, source)?;
            summary_agrees(txn, &one, index, source)?;
            if draw {
                drawn.push((input, index, drawings[input].add_stats(&one)));
            }
            stats.merge(&one);
            sums[input].merge(&without_latencies(one, false));
        }
        total.merge(&stats);
        let mut transaction = result_file::transaction(name, &stats, run.duration_s, true);
        if draw {
            transaction.drawn = Some(merged_drawing.add_stats(&stats));
        }
        transactions.push(transaction);
        if thresholds.iter().any(|t| t.transaction() == Some(name)) {
            kept.insert(Arc::from(name), stats.clone());
        }
        run.merged.txns.insert(Arc::from(name), without_latencies(stats, true));
    }
    for ((source, file), sum) in inputs.iter().zip(&sums) {
        totals_agree(file, sum, source)?;
    }
    let mut file = result_file::result_file_of(&run, &total, transactions);
    if draw {
        file.drawn = Some(merged_drawing.distributions());
        for (input, index, value) in drawn {
            inputs[input].1.transactions[index].drawn = Some(value);
        }
        for ((_, input), drawing) in inputs.iter_mut().zip(drawings) {
            input.drawn = Some(drawing.distributions());
        }
    }
    Ok(MergedFiles { run, total, kept, file })
}

impl MergedFiles {
    /// `threshold` judged on the merged figures: a transaction's on its histograms (kept when
    /// it was one of the thresholds given to [`merge_files`]), the totals' on every
    /// transaction's.
    pub fn check(&self, threshold: &Threshold) -> Checked {
        let with = |txns: BTreeMap<Arc<str>, TxnStats>| RunResult {
            merged: Merged { txns, ..Merged::default() },
            intervals: Vec::new(),
            ..self.run_without_transactions()
        };
        match threshold.transaction() {
            None => threshold.check(&with(BTreeMap::from([(Arc::from("total"), self.total.clone())])), None),
            Some(name) => match self.kept.get_key_value(name) {
                Some((name, stats)) => threshold.check(&with(BTreeMap::from([(name.clone(), stats.clone())])), None),
                // Never ran (said with the names that did), or not kept: no threshold asked for it.
                None => threshold.check(&self.run, None),
            },
        }
    }

    /// The run's own fields, its statistics left out.
    fn run_without_transactions(&self) -> RunResult {
        let run = &self.run;
        RunResult {
            scenario: run.scenario.clone(),
            cores: run.cores.clone(),
            drivers: run.drivers.clone(),
            fallbacks: run.fallbacks.clone(),
            started_at_unix_s: run.started_at_unix_s,
            duration_s: run.duration_s,
            stopped_by: run.stopped_by,
            merged: Merged::default(),
            intervals: Vec::new(),
            segment: run.segment.clone(),
            tls_verified: run.tls_verified,
            stopped_because: None,
        }
    }
}

/// `stats` without its latency histograms; a WebSocket transaction's replies kept when asked
/// (the table shows them).
fn without_latencies(mut stats: TxnStats, keep_replies: bool) -> TxnStats {
    let [txn, txn_corrected, req, req_corrected, dns, connect, tls, first_byte, replies] = stats.histograms_mut();
    for histogram in [txn, txn_corrected, req, req_corrected, dns, connect, tls, first_byte] {
        *histogram = LatencyHistogram::new();
    }
    if !keep_replies {
        *replies = LatencyHistogram::new();
    }
    stats
}

/// A figure as stated, and as the raw counters have it.
fn agrees(file: &str, at: String, stated: u64, counted: u64) -> Result<(), ResultFileError> {
    if stated == counted {
        return Ok(());
    }
    Err(ResultFileError::Disagrees { file: file.to_string(), at, stated, counted })
}

/// `txn`'s own figures against its raw counters and histograms (`counted`).
fn summary_agrees(txn: &Transaction, counted: &TxnStats, index: usize, file: &str) -> Result<(), ResultFileError> {
    let at = |field: &str| format!("transactions[{index}].{field}");
    let requests = &txn.requests;
    // The histograms' counts as they were decoded (`counted` may be the counters alone): by
    // the file's check, or by the merge that made `counted`.
    let raw = txn.raw.as_ref();
    let count = |h: &crate::output::result_file::Encoded| h.count().expect("a histogram is counted as it is decoded");
    let figures = [
        ("count", txn.count, counted.transactions()),
        ("ok", txn.ok, counted.txn_ok),
        ("errors", txn.errors, counted.txn_err),
        ("latency_us.count", txn.latency_us.count, raw.map_or(0, |raw| count(&raw.txn_us))),
        ("requests.count", requests.count, counted.requests()),
        ("requests.ok", requests.ok, counted.req_ok),
        ("requests.errors", requests.errors, counted.req_errors()),
        ("requests.not_sent", requests.not_sent, counted.not_sent),
        ("requests.latency_us.count", requests.latency_us.count, raw.map_or(0, |raw| count(&raw.req_us))),
    ];
    for (field, stated, counted) in figures {
        agrees(file, at(field), stated, counted)?;
    }
    if let Some(attempts) = requests.attempts {
        agrees(file, at("requests.attempts"), attempts, counted.attempts())?;
    }
    Ok(())
}

/// `file`'s figures against its raw counters, as [`merge_files`] checks each input, for a
/// command that reads the figures themselves (`compare`): a count edited by hand is refused
/// naming the file (`source`) and the field, not compared. A file without `raw` counters (made
/// by hand, or by an older engine) has nothing to check them against.
pub fn figures_agree(file: &ResultFile, source: &str) -> Result<(), ResultFileError> {
    if file.transactions.iter().any(|t| t.raw.is_none()) {
        return Ok(());
    }
    let mut sum = TxnStats::default();
    for (index, txn) in file.transactions.iter().enumerate() {
        // Its counters alone: the histograms' counts were kept as the file was read, so
        // nothing is decoded again here.
        let one = result_file::transaction_counts(txn, index, source)?;
        summary_agrees(txn, &one, index, source)?;
        sum.merge(&without_latencies(one, false));
    }
    totals_agree(file, &sum, source)
}

/// `file`'s totals against its transactions' raw counters added up (`sum`).
fn totals_agree(file: &ResultFile, sum: &TxnStats, source: &str) -> Result<(), ResultFileError> {
    let totals = &file.totals;
    let figures = [
        ("requests", totals.requests, sum.requests()),
        ("ok", totals.ok, sum.req_ok),
        ("errors", totals.errors, sum.req_errors()),
        ("not_sent", totals.not_sent, sum.not_sent),
        ("transactions", totals.transactions, sum.transactions()),
        ("transaction_errors", totals.transaction_errors, sum.txn_err),
    ];
    for (field, stated, counted) in figures {
        agrees(source, format!("totals.{field}"), stated, counted)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::output::report;
    use crate::output::result_file::{read_run, result_file};
    use crate::output::results::merge;
    use crate::output::threshold::Failures;
    use crate::stats::{ErrorKind, record_latency};

    /// A transaction of `values` (µs), `failed` of its requests timed out.
    fn stats(values: &[u64], failed: u64) -> TxnStats {
        let mut stats = TxnStats { txn_ok: values.len() as u64, req_ok: values.len() as u64, ..TxnStats::default() };
        for &value in values {
            record_latency(&mut stats.txn_us, value);
            record_latency(&mut stats.req_us, value / 2 + 1);
            record_latency(&mut stats.http.first_byte_us, value / 3 + 1);
        }
        stats.add_errors(ErrorKind::Timeout, failed);
        stats
    }

    fn run(txns: Vec<(&str, TxnStats)>, started_at_unix_s: f64) -> RunResult {
        let txns = txns.into_iter().map(|(name, stats)| (Arc::from(name), stats)).collect();
        let mut merged = Merged { txns, ..Merged::default() };
        merged.journeys.started = 3;
        RunResult { started_at_unix_s, duration_s: 10.0, tls_verified: Some(true), ..RunResult::of("s", merged) }
    }

    /// `run`'s result file as `merge` reads it, named `source`.
    fn input(run: &RunResult, source: &str) -> (String, ResultFile) {
        let mut file = result_file(run, true);
        file.run_id = Some(source.into());
        (source.to_string(), ResultFile::read(&file.to_json(), source).expect("a written file reads back"))
    }

    /// Merged name by name, every figure is the one the merge of the whole runs gives: the
    /// file, the table, and each threshold's verdict and reading.
    #[test]
    fn a_merge_name_by_name_is_the_merge_of_the_runs() {
        let a = run(vec![("get", stats(&[100, 200, 5_000], 1)), ("only a", stats(&[7], 0))], 1_000.0);
        let b = run(vec![("get", stats(&[300, 90_000], 0)), ("only b", stats(&[40, 41], 2))], 1_000.5);
        let inputs = [input(&a, "a.json"), input(&b, "b.json")];
        let texts =
            ["get:p99<1ms", "p99<1ms", "only a:count>5", "errors<1%", "rps>1", "get:max<50ms", "only b:mean>1ms"];
        let more = ["gone:p99<1s", "gone:p99<1s?", "errors<2", "get:errors<1%"];
        let thresholds: Vec<Threshold> = texts.iter().chain(&more).map(|t| Threshold::parse(t).unwrap()).collect();
        let by_name = merge_files(&mut inputs.clone(), &thresholds, false).unwrap();
        let runs: Vec<RunResult> = inputs.iter().map(|(source, file)| read_run(file, source).unwrap()).collect();
        let whole = merge(&runs).unwrap();
        assert_eq!(by_name.file, result_file(&whole, true));
        let run = &by_name.run;
        assert!(run.merged.txns.values().all(|t| t.txn_us.is_empty() && t.req_us.is_empty()), "no name's histograms");
        assert_eq!(
            report::merged_table(&run.merged, run.duration_s, &by_name.total, &by_name.file.transactions),
            report::table(&whole.merged, whole.duration_s)
        );
        for text in texts.into_iter().chain(more) {
            let threshold = Threshold::parse(text).unwrap();
            assert_eq!(by_name.check(&threshold), threshold.check(&whole, None), "{text}");
        }
    }

    /// Outside try: a part's `count` or its totals' `requests` edited by hand merged without a
    /// word: the merge added up the raw counters, while the parts' table showed the edited
    /// figures, so the parts did not add up to the whole. Refused, naming the file and field.
    #[test]
    fn a_figure_that_disagrees_with_its_raw_counters_is_refused() {
        let a = input(&run(vec![("get", stats(&[100, 200], 0)), ("put", stats(&[5], 1))], 1_000.0), "a.json");
        let b = input(&run(vec![("get", stats(&[300], 1))], 1_000.0), "b.json");
        let refused = |edit: &dyn Fn(&mut ResultFile)| {
            let mut edited = b.clone();
            edit(&mut edited.1);
            merge_files(&mut [a.clone(), edited], &[], false).unwrap_err().to_string()
        };
        assert_eq!(
            refused(&|f| f.transactions[0].count = 99_999),
            "b.json: transactions[0].count: 99999 where its raw counters hold 1 (a figure edited by hand?): its \
             figures and its raw counters must agree to be merged"
        );
        assert!(
            refused(&|f| f.transactions[0].requests.errors = 0)
                .starts_with("b.json: transactions[0].requests.errors: 0 where")
        );
        assert!(
            refused(&|f| f.transactions[0].latency_us.count = 7).contains("transactions[0].latency_us.count: 7 where")
        );
        assert!(
            refused(&|f| f.totals.requests = 9).starts_with("b.json: totals.requests: 9 where its raw counters hold 2")
        );
        assert!(refused(&|f| f.totals.errors = 3).starts_with("b.json: totals.errors: 3 where"));
        assert!(refused(&|f| f.totals.transactions = 0).starts_with("b.json: totals.transactions: 0 where"));
        // A transaction dropped from a file (its totals still count it) is a figure that disagrees.
        let mut dropped = a.clone();
        dropped.1.transactions.pop();
        let said = merge_files(&mut [dropped, b.clone()], &[], false).unwrap_err().to_string();
        assert!(said.starts_with("a.json: totals.requests: 4 where its raw counters hold 2"), "{said}");
        assert!(merge_files(&mut [a, b], &[], false).is_ok());
    }

    /// A threshold on a name of a merge whose counters add up past what one result file holds
    /// (`RESULT_COUNT_MAX`, each part at it) is judged, not refused as a file beyond any run.
    /// `compare` decoded each result's histograms twice: as the file was read (its check) and
    /// again to check its figures against its counters. Counted (not timed): reading a file,
    /// checking its figures and comparing it decode each of its histograms once, as it is read.
    #[test]
    fn compare_decodes_each_histogram_once() {
        use crate::stats::histogram::DECODES;
        let a = run(vec![("get", stats(&[100, 200, 5_000], 1)), ("put", stats(&[7], 0))], 1_000.0);
        let text = serde_json::to_string(&result_file(&a, true)).unwrap();
        let histograms = text.matches("\"HISTFAA").count();
        let decodes = || DECODES.with(std::cell::Cell::get);
        let before = decodes();
        let (base, new) = (ResultFile::read(&text, "a.json").unwrap(), ResultFile::read(&text, "b.json").unwrap());
        assert_eq!(decodes() - before, 2 * histograms as u64, "each histogram decoded as it is read");
        assert!(histograms >= 2 * 8, "every transaction's histograms are in the file: {histograms}");
        figures_agree(&base, "a.json").unwrap();
        figures_agree(&new, "b.json").unwrap();
        let _ = crate::output::results::compare(&base, &new, 10.0);
        assert_eq!(decodes() - before, 2 * histograms as u64, "nothing decoded again to check or compare");
    }

    /// `merge` decoded each input's histograms twice (as the file was read, its check, and as
    /// it merged), and a third time for `--html` (each part's distributions). Counted: read as
    /// `merge` reads, merged and drawn, each input histogram is decoded once, and the page is
    /// the one drawn from histograms decoded afresh.
    #[test]
    fn merge_decodes_each_histogram_once_page_included() {
        use crate::output::html;
        use crate::stats::histogram::DECODES;
        let a = run(vec![("get", stats(&[100, 200, 5_000], 1)), ("put", stats(&[7], 0))], 1_000.0);
        let b = run(vec![("get", stats(&[300, 90_000], 0)), ("del", stats(&[40], 2))], 1_000.5);
        let texts: Vec<(String, String)> = [(a, "a.json"), (b, "b.json")]
            .iter()
            .map(|(run, source)| {
                let mut file = result_file(run, true);
                file.run_id = Some((*source).into());
                (source.to_string(), file.to_json())
            })
            .collect();
        let histograms: usize = texts.iter().map(|(_, text)| text.matches("\"HISTFAA").count()).sum();
        let decodes = || DECODES.with(std::cell::Cell::get);
        let before = decodes();
        let mut inputs: Vec<(String, ResultFile)> = texts
            .iter()
            .map(|(source, text)| (source.clone(), ResultFile::read_unchecked(text, source).unwrap()))
            .collect();
        assert_eq!(decodes() - before, 0, "nothing decoded as the files are read");
        let merged = merge_files(&mut inputs, &[], true).unwrap();
        assert_eq!(decodes() - before, histograms as u64, "each input histogram decoded once, as it is merged");
        let page = html::render_merged(&merged.run, merged.file.clone(), inputs.clone(), &[]);
        assert_eq!(decodes() - before, histograms as u64, "the page decodes none again");
        // The same page as drawn from the files checked and their histograms decoded again.
        let checked: Vec<(String, ResultFile)> =
            texts.iter().map(|(source, text)| (source.clone(), ResultFile::read(text, source).unwrap())).collect();
        let mut undrawn = merged.file.clone();
        undrawn.drawn = None;
        undrawn.transactions.iter_mut().for_each(|t| t.drawn = None);
        assert_eq!(page, html::render_merged(&merged.run, undrawn, checked, &[]));
    }

    /// `compare --html` decoded the histograms it draws twice: as the files were read (their
    /// check) and again to draw them. Read for a page, each is decoded once, and the page is
    /// the one drawn from histograms decoded afresh.
    #[test]
    fn compare_with_a_page_decodes_each_histogram_once() {
        use crate::output::html;
        use crate::stats::histogram::DECODES;
        let a = run(vec![("get", stats(&[100, 200, 5_000], 1)), ("put", stats(&[7], 0))], 1_000.0);
        let text = serde_json::to_string(&result_file(&a, true)).unwrap();
        let histograms = text.matches("\"HISTFAA").count();
        let decodes = || DECODES.with(std::cell::Cell::get);
        let before = decodes();
        let read = |source: &str| html::data::read_drawn(&text, source).unwrap();
        let files = vec![("BASE".to_string(), read("a.json")), ("NEW".to_string(), read("b.json"))];
        assert_eq!(decodes() - before, 2 * histograms as u64, "each histogram decoded as it is read");
        for (source, file) in &files {
            figures_agree(file, source).unwrap();
        }
        let _ = crate::output::results::compare(&files[0].1, &files[1].1, 10.0);
        let page = html::render_compare(files, 10.0, &[]);
        assert_eq!(decodes() - before, 2 * histograms as u64, "nothing decoded again to check, compare or draw");
        let checked = |source: &str| ResultFile::read(&text, source).unwrap();
        let files = vec![("BASE".to_string(), checked("a.json")), ("NEW".to_string(), checked("b.json"))];
        assert_eq!(page, html::render_compare(files, 10.0, &[]));
    }

    /// Read unchecked (as `merge` reads), a histogram that does not decode is named as the
    /// merge decodes it, not taken on trust.
    #[test]
    fn an_unchecked_input_whose_histogram_does_not_decode_is_named() {
        let a = run(vec![("get", stats(&[100], 0))], 1_000.0);
        let mut value = result_file(&a, true).to_value();
        value["transactions"][0]["raw"]["req_us"] = serde_json::json!("HISTFAAAnot-a-histogram");
        let mut inputs = [("a.json".to_string(), ResultFile::read_unchecked(&value.to_string(), "a.json").unwrap())];
        let said = merge_files(&mut inputs, &[], false).unwrap_err().to_string();
        assert!(
            said.starts_with("a.json is not a mite-engine result: transactions[0].raw.req_us: histogram "),
            "{said}"
        );
        let said = ResultFile::read(&value.to_string(), "a.json").unwrap_err().to_string();
        assert!(
            said.starts_with("a.json is not a mite-engine result: transactions[0].raw.req_us: histogram "),
            "{said}"
        );
    }

    #[test]
    fn a_threshold_on_a_name_is_judged_whatever_the_merged_counts() {
        let max = crate::limits::RESULT_COUNT_MAX;
        let big = TxnStats { req_ok: max, ..stats(&[100, 200], 0) };
        let inputs =
            [input(&run(vec![("get", big.clone())], 1.0), "a.json"), input(&run(vec![("get", big)], 1.0), "b.json")];
        let thresholds = [Threshold::parse("get:count>1").unwrap(), Threshold::parse("get:p99<1s").unwrap()];
        let merged = merge_files(&mut inputs.clone(), &thresholds, false).unwrap();
        assert!(thresholds.iter().all(|t| merged.check(t).unwrap().passed));
    }

    /// One transaction's counts: `(transactions ok, failed, requests ok, timed out, refused)`.
    type Counts = (u64, u64, u64, u64, u64);

    /// A transaction of these counts, each transaction and answered request with a latency.
    fn counted((txn_ok, txn_err, req_ok, timed_out, refused): Counts) -> TxnStats {
        let mut stats = TxnStats { txn_ok, txn_err, req_ok, ..TxnStats::default() };
        for i in 0..txn_ok + txn_err {
            record_latency(&mut stats.txn_us, 100 + i);
        }
        for i in 0..req_ok {
            record_latency(&mut stats.req_us, 50 + i);
        }
        stats.add_errors(ErrorKind::Timeout, timed_out);
        stats.add_errors(ErrorKind::Refused, refused);
        stats
    }

    fn counts() -> impl Strategy<Value = Counts> {
        (0u64..40, 0u64..40, 0u64..40, 0u64..40, 0u64..10)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A latency threshold that every part fails fails on their merge: a merged
        /// percentile is of every value (never an average of the parts'), so when each part
        /// has more than its share above a ceiling, so has the whole; the same for a floor, the
        /// mean and the max. Failed requests add up the same way, in count and in share.
        #[test]
        fn a_threshold_every_part_fails_fails_on_their_merge(
            parts in proptest::collection::vec(proptest::collection::vec(1u64..200_000, 1..80), 2..5),
            failed in proptest::collection::vec(0u64..50, 5),
            metric in 0usize..7,
            floor in any::<bool>(),
        ) {
            let (name, quantile) = [
                ("p50", Some(0.5)), ("p90", Some(0.9)), ("p95", Some(0.95)), ("p99", Some(0.99)),
                ("p999", Some(0.999)), ("max", None), ("mean", None),
            ][metric];
            let runs: Vec<RunResult> = parts
                .iter()
                .zip(&failed)
                .enumerate()
                .map(|(i, (values, failed))| run(vec![("get", stats(values, *failed))], 1_000.0 + i as f64))
                .collect();
            let measured = |r: &RunResult| {
                let h = &r.merged.txns["get"].txn_us;
                match (quantile, name) {
                    (Some(q), _) => h.value_at_quantile(q) as f64,
                    (None, "max") => h.max() as f64,
                    _ => h.mean(),
                }
            };
            // The limit every part fails: at or below each part's figure for a ceiling, at
            // or above it for a floor.
            let readings = runs.iter().map(measured);
            let (op, limit) = if floor {
                (">", readings.fold(0.0, f64::max).ceil())
            } else {
                ("<", readings.fold(f64::INFINITY, f64::min).floor())
            };
            let failed_min = failed.iter().take(runs.len()).min().copied().unwrap_or(0);
            let inputs: Vec<_> = runs.iter().enumerate().map(|(i, r)| input(r, &format!("part{i}.json"))).collect();
            // Failed requests' share, the lowest part's, cut to the threshold's three decimals.
            let share = |r: &RunResult| Failures::of(&r.merged.txns["get"]).percent().unwrap_or(0.0);
            let share_min = (runs.iter().map(share).fold(100.0, f64::min) * 1000.0).floor() / 1000.0;
            let texts = [format!("get:{name}{op}{limit}us"), format!("errors<{failed_min}"), format!("errors<{share_min:.3}%")];
            let thresholds: Vec<Threshold> = texts.iter().filter_map(|t| Threshold::parse(t).ok()).collect();
            let merged = merge_files(&mut inputs.clone(), &thresholds, false).unwrap();
            for threshold in &thresholds {
                let text = threshold.text();
                let each: Vec<bool> = runs.iter().map(|r| threshold.check(r, None).unwrap().passed).collect();
                prop_assert!(each.iter().all(|passed| !passed), "{text}: {each:?}");
                let outcome = merged.check(threshold).unwrap();
                prop_assert!(!outcome.passed, "{text} passed on the merge ({}) though every part failed it", outcome.actual);
            }
        }

        /// `errors` on a merge reads what one run of every part's load would: the failed
        /// requests' share of every attempt beside the failed transactions' share of every
        /// transaction, each added up over the parts (never a part's share, nor an average of
        /// shares). A part that failed only requests beside one that failed only transactions
        /// is one run that failed both.
        #[test]
        fn errors_on_a_merge_read_as_one_run_of_every_part(
            parts in proptest::collection::vec(proptest::collection::vec(proptest::option::of(counts()), 3), 2..5),
            percent_tenths in 0u64..1_000,
            count in 1u64..120,
        ) {
            let names = ["get", "put", "login"];
            let runs: Vec<RunResult> = parts
                .iter()
                .enumerate()
                .map(|(i, txns)| {
                    let txns = names.iter().zip(txns).filter_map(|(name, c)| Some((*name, counted((*c)?)))).collect();
                    run(txns, 1_000.0 + i as f64)
                })
                .collect();
            // One run of every part's load: each name's counters added, as one run's cores add.
            let mut one = run(Vec::new(), 1_000.0);
            for r in &runs {
                for (name, stats) in &r.merged.txns {
                    one.merged.txns.entry(name.clone()).or_default().merge(stats);
                }
            }
            let inputs: Vec<_> = runs.iter().enumerate().map(|(i, r)| input(r, &format!("part{i}.json"))).collect();
            let percent = format!("{}.{}%", percent_tenths / 10, percent_tenths % 10);
            let mut texts = vec![format!("errors<{percent}"), format!("errors<{count}"), format!("errors>={count}")];
            texts.extend(names.iter().map(|name| format!("{name}:errors<{percent}?")));
            let thresholds: Vec<Threshold> = texts.iter().filter_map(|t| Threshold::parse(t).ok()).collect();
            let merged = merge_files(&mut inputs.clone(), &thresholds, false).unwrap();
            for threshold in &thresholds {
                let single = threshold.check(&one, None).map_err(|e| e.to_string());
                let outcome = merged.check(threshold).map_err(|e| e.to_string());
                prop_assert_eq!(&outcome, &single, "{}", threshold.text());
            }
            // The file's totals say the same counts the gate read.
            let total = one.merged.total();
            let totals = &merged.file.totals;
            prop_assert_eq!((totals.errors, totals.transaction_errors), (total.req_errors(), total.txn_err));
        }
    }
}
