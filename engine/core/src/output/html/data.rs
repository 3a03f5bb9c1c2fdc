//! The data a report page draws, as JSON: the result file's own fields, plus what a browser
//! cannot compute from them (percentile spectra and latency histograms from the HDR histograms).

use std::io::{self, Write};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::output::result_file::{Drawn, RawStats, ResultFile, ResultFileError};
use crate::output::threshold::Checked;
use crate::stats::{Merged, TxnStats, new_latency_histogram};

/// Points of the percentile spectrum per decade ("nine"): x = log10(1 / (1 - q)).
const SPECTRUM_POINTS_PER_NINE: u32 = 20;
/// Nines the spectrum reaches at most (99.9999%).
const SPECTRUM_NINES_MAX: u32 = 6;
/// Buckets of the latency histogram (log-spaced from the smallest to the largest value).
const HISTOGRAM_BUCKETS: usize = 40;

fn ms(us: u64) -> f64 {
    (us as f64 / 1000.0 * 1000.0).round() / 1000.0
}

/// The percentile spectrum on the fixed "nines" grid shared by every spectrum (so runs and
/// transactions overlay point for point): `null` past the point where the histogram runs out of
/// samples, whose value is the maximum.
pub fn spectrum(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return Value::Null;
    }
    let mut points = Vec::new();
    let mut ended = false;
    for i in 0..=SPECTRUM_NINES_MAX * SPECTRUM_POINTS_PER_NINE {
        let nines = f64::from(i) / f64::from(SPECTRUM_POINTS_PER_NINE);
        let tail = 10f64.powf(-nines);
        if ended {
            points.push(Value::Null);
        } else if tail * (h.len() as f64) < 1.0 {
            points.push(json!(ms(h.max())));
            ended = true;
        } else {
            points.push(json!(ms(h.value_at_quantile(1.0 - tail))));
        }
    }
    Value::Array(points)
}

/// The x values of the spectrum grid, in nines.
pub fn spectrum_grid() -> Value {
    (0..=SPECTRUM_NINES_MAX * SPECTRUM_POINTS_PER_NINE)
        .map(|i| json!(f64::from(i) / f64::from(SPECTRUM_POINTS_PER_NINE)))
        .collect()
}

/// A latency histogram: `HISTOGRAM_BUCKETS` log-spaced buckets from the smallest to the largest
/// value; each recorded value counts in exactly one bucket.
pub fn histogram(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return Value::Null;
    }
    let low = h.min().max(1) as f64;
    let high = (h.max() as f64).max(low * 1.001);
    let ratio = (high / low).ln();
    let mut counts = vec![0u64; HISTOGRAM_BUCKETS];
    for v in h.iter_recorded() {
        let value = (v.value_iterated_to() as f64).clamp(low, high);
        let at = ((value / low).ln() / ratio * HISTOGRAM_BUCKETS as f64) as usize;
        counts[at.min(HISTOGRAM_BUCKETS - 1)] += v.count_at_value();
    }
    let from_ms: Vec<f64> = (0..HISTOGRAM_BUCKETS)
        .map(|i| ms((low * (ratio * i as f64 / HISTOGRAM_BUCKETS as f64).exp()).round() as u64))
        .collect();
    json!({ "from_ms": from_ms, "count": counts })
}

/// The histograms a transaction's charts read: transaction durations, or request times when
/// the name only timed requests.
fn timed(stats: &TxnStats) -> (&Histogram<u64>, &Histogram<u64>) {
    if stats.txn_us.is_empty() {
        (&stats.req_us, &stats.req_us_corrected)
    } else {
        (&stats.txn_us, &stats.txn_us_corrected)
    }
}

fn distributions(latency: &Histogram<u64>, corrected: &Histogram<u64>) -> Value {
    json!({
        "spectrum": spectrum(latency),
        "spectrum_corrected": spectrum(corrected),
        "histogram": histogram(latency),
    })
}

/// One run's page data: its result file (`result`, without the `raw` histograms) with the
/// distributions of every transaction and of all requests added from `merged`.
pub fn run_data(label: &str, mut result: Value, merged: &Merged) -> Value {
    if let Some(txns) = result.get_mut("transactions").and_then(Value::as_array_mut) {
        for txn in txns {
            let Some(object) = txn.as_object_mut() else { continue };
            object.remove("raw");
            let name = object.get("name").and_then(Value::as_str).unwrap_or_default();
            if let Some(stats) = merged.txns.get(name) {
                let (latency, corrected) = timed(stats);
                object.insert("distribution".into(), distributions(latency, corrected));
            }
        }
    }
    let total = merged.total();
    if let Some(object) = result.as_object_mut() {
        object.insert("label".into(), json!(label));
        object.insert("distribution".into(), distributions(&total.req_us, &total.req_us_corrected));
    }
    result
}

/// One result file's page data, as [`run_data`] makes a run's, its distributions drawn from its
/// `raw` histograms one transaction at a time: a file of 10,000 names holds four decoded
/// histograms at a time beside the totals', not every histogram of every name (some GiB). An
/// error when a transaction has no `raw` histograms (a file made by hand).
pub fn file_data(label: &str, file: &ResultFile) -> Result<Value, ResultFileError> {
    if let Some(missing) = without_raw(label, file) {
        return Err(missing);
    }
    let mut result = file.to_value();
    let mut totals = Drawing::default();
    let shown = result.get_mut("transactions").and_then(Value::as_array_mut).into_iter().flatten();
    for (txn, object) in file.transactions.iter().zip(shown) {
        let (Some(raw), Some(object)) = (&txn.raw, object.as_object_mut()) else { continue };
        object.remove("raw");
        let drawn = txn.drawn.clone().unwrap_or_else(|| totals.add_raw(raw));
        object.insert("distribution".into(), drawn);
    }
    if let Some(object) = result.as_object_mut() {
        object.insert("label".into(), json!(label));
        object.insert("distribution".into(), file.drawn.clone().unwrap_or_else(|| totals.distributions()));
    }
    Ok(result)
}

/// The error [`file_data`] gives for a transaction without `raw` histograms (a file made by
/// hand), if `file` has one.
pub fn without_raw(label: &str, file: &ResultFile) -> Option<ResultFileError> {
    let (index, txn) = file.transactions.iter().enumerate().find(|(_, t)| t.raw.is_none())?;
    Some(ResultFileError::NoRaw { file: label.to_string(), index, name: txn.name.clone() })
}

/// Writes [`file_data`] to `out` as the JSON text a page embeds (`embeddable`), one
/// transaction at a time as `file` is used up: each transaction's figures, its encoded
/// histograms and its drawing are dropped once its text is written, so a file of 10,000 names
/// is never beside a tree of its JSON values (hundreds of MB), nor beside its own whole text.
/// The transactions come first, the file's other fields (and its totals' distribution, folded
/// from every transaction's) after them. `file` must have every `raw` ([`without_raw`]): one
/// without is drawn without a distribution.
pub fn write_file_data(out: &mut dyn Write, label: &str, mut file: ResultFile) -> io::Result<()> {
    let transactions = std::mem::take(&mut file.transactions);
    let drawn = file.drawn.take();
    let mut head = file.to_value();
    drop(file);
    let mut totals = Drawing::default();
    out.write_all(b"{\"transactions\":[")?;
    for (i, mut txn) in transactions.into_iter().enumerate() {
        let raw = txn.raw.take();
        let drawn = txn.drawn.take();
        let mut object = serde_json::to_value(&txn).expect("a transaction always serializes");
        drop(txn);
        if let Some(object) = object.as_object_mut() {
            object.remove("raw");
            // Drawn as it was checked or merged, else from its histograms here.
            if let Some(drawn) = drawn.or_else(|| raw.map(|raw| totals.add_raw(&raw))) {
                object.insert("distribution".into(), drawn);
            }
        }
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(super::embeddable(&object).as_bytes())?;
    }
    out.write_all(b"],")?;
    if let Some(object) = head.as_object_mut() {
        object.remove("transactions");
        object.insert("label".into(), json!(label));
        object.insert("distribution".into(), drawn.unwrap_or_else(|| totals.distributions()));
    }
    // The other fields' object, its `{` left out: it follows the transactions.
    let text = super::embeddable(&head);
    out.write_all(text.strip_prefix('{').expect("an object's text starts with {").as_bytes())
}

/// A file's distributions drawn one transaction at a time, the request times of every
/// transaction folded for the file's own: as a page draws them, or as they are decoded for
/// another reason (a check, a merge), so that the page decodes none again.
#[derive(Default)]
pub struct Drawing {
    requests: Option<(Histogram<u64>, Histogram<u64>)>,
}

impl Drawing {
    /// Folds one transaction's request times in, and gives its distribution: as `timed` picks,
    /// its transaction durations, or its request times when the name only timed requests.
    pub fn add(&mut self, drawn: &Drawn) -> Value {
        self.add_histograms(&drawn.txn_us, &drawn.txn_us_corrected, &drawn.req_us, &drawn.req_us_corrected)
    }

    /// [`Drawing::add`] of one transaction's stats (a merge's, decoded as it merges).
    pub fn add_stats(&mut self, stats: &TxnStats) -> Value {
        self.add_histograms(&stats.txn_us, &stats.txn_us_corrected, &stats.req_us, &stats.req_us_corrected)
    }

    fn add_histograms(
        &mut self,
        durations: &Histogram<u64>,
        durations_corrected: &Histogram<u64>,
        requests: &Histogram<u64>,
        requests_corrected: &Histogram<u64>,
    ) -> Value {
        let (total, total_corrected) =
            self.requests.get_or_insert_with(|| (new_latency_histogram(), new_latency_histogram()));
        total.add(requests).expect("auto-resizing histograms always merge");
        total_corrected.add(requests_corrected).expect("auto-resizing histograms always merge");
        if durations.is_empty() {
            distributions(requests, requests_corrected)
        } else {
            distributions(durations, durations_corrected)
        }
    }

    /// One transaction's distribution from its `raw` histograms, each decoded once here (a
    /// file drawn without having been drawn as it was checked).
    fn add_raw(&mut self, raw: &RawStats) -> Value {
        let drawn = Drawn {
            txn_us: raw.txn_us.decoded(),
            req_us: raw.req_us.decoded(),
            txn_us_corrected: raw.txn_us_corrected.decoded(),
            req_us_corrected: raw.req_us_corrected.decoded(),
        };
        self.add(&drawn)
    }

    /// The distribution of every request folded in.
    pub fn distributions(self) -> Value {
        let (total, corrected) = self.requests.unwrap_or_else(|| (new_latency_histogram(), new_latency_histogram()));
        distributions(&total, &corrected)
    }
}

/// Reads a result file (as [`ResultFile::read`]) for a page: each transaction's distribution
/// drawn as its histograms are checked, so that drawing the page decodes none again.
pub fn read_drawn(text: &str, file: &str) -> Result<ResultFile, ResultFileError> {
    let mut read = ResultFile::read_unchecked(text, file)?;
    let mut drawing = Drawing::default();
    let mut drawn = Vec::with_capacity(read.transactions.len());
    read.check_histograms(file, |index, histograms| drawn.push((index, drawing.add(&histograms))))?;
    for (index, value) in drawn {
        read.transactions[index].drawn = Some(value);
    }
    // A file with a transaction without `raw` is drawn from its figures alone (no totals).
    if read.transactions.iter().all(|t| t.drawn.is_some()) {
        read.drawn = Some(drawing.distributions());
    }
    Ok(read)
}

/// Thresholds a segment leaves to `merge` (its counts and rates are a share of the whole), as
/// the summary shows them after the ones it judged: neither passed nor failed.
pub fn left_to_merge(texts: &[String]) -> Vec<Value> {
    texts
        .iter()
        .map(|text| {
            json!({ "text": text, "passed": Value::Null, "left": true,
                    "actual": "a segment's counts and rates are a share of the whole: judged by merge" })
        })
        .collect()
}

/// Thresholds as the summary shows them: each outcome, and each one that could not be checked
/// (`error`: it failed the run with exit code 1) with why.
pub fn thresholds(checked: &[Checked]) -> Value {
    checked
        .iter()
        .map(|check| match check {
            Ok(o) => json!({ "text": o.text, "passed": o.passed, "actual": o.actual }),
            Err(e) => json!({ "text": e.text(), "passed": false, "error": true, "actual": e.why() }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{new_latency_histogram, record_latency};

    #[test]
    fn spectrum_ends_at_the_maximum_where_samples_run_out() {
        let mut h = new_latency_histogram();
        for us in 1..=1000u64 {
            record_latency(&mut h, us * 10);
        }
        let points = spectrum(&h);
        let points = points.as_array().unwrap();
        assert_eq!(points.len(), spectrum_grid().as_array().unwrap().len());
        // 1,000 samples: the spectrum ends just past three nines (the first point with less
        // than one sample beyond it), and that last point is the maximum.
        let last = points.iter().rposition(|p| !p.is_null()).unwrap();
        let three_nines = 3 * SPECTRUM_POINTS_PER_NINE as usize;
        assert!((three_nines..=three_nines + 1).contains(&last), "{last}");
        assert_eq!(points[last].as_f64().unwrap(), ms(h.max()));
        assert!((points[0].as_f64().unwrap() - 0.01).abs() < 1e-9, "0th percentile is the minimum");
        let values: Vec<f64> = points.iter().filter_map(Value::as_f64).collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "a spectrum never falls");
        assert!(spectrum(&new_latency_histogram()).is_null());
    }

    /// A threshold that could not be checked fails the run (exit 1): the page says so, and why,
    /// beside the outcomes of the others.
    #[test]
    fn thresholds_that_could_not_be_checked_are_shown_as_errors() {
        use crate::output::threshold::{Outcome, ThresholdError};
        let passed = Outcome { text: "p99<1s".into(), passed: true, actual: "2.00ms".into() };
        let unknown = ThresholdError::UnknownTransaction {
            text: "nope:p99<1s".into(),
            name: "nope".into(),
            known: "get".into(),
            suggestion: String::new(),
        };
        let shown = thresholds(&[Ok(passed), Err(unknown)]);
        assert_eq!(shown[0], json!({ "text": "p99<1s", "passed": true, "actual": "2.00ms" }));
        assert_eq!(shown[1]["text"], "nope:p99<1s");
        assert_eq!((shown[1]["passed"].as_bool(), shown[1]["error"].as_bool()), (Some(false), Some(true)));
        assert!(shown[1]["actual"].as_str().unwrap().starts_with("no transaction named \"nope\""), "{shown}");
    }

    /// A file's page data, drawn one transaction at a time, is what the run read back from it
    /// draws (a comparison of two files of 10,000 names each took 3 GB, every histogram of
    /// every name decoded at once).
    #[test]
    fn a_files_distributions_are_those_of_its_run_read_back() {
        use crate::output::result_file::{read_run, result_file};
        use crate::stats::TxnStats;
        let mut merged = Merged::default();
        for (i, name) in ["both", "requests only", "open"].into_iter().enumerate() {
            let mut stats = TxnStats { req_ok: 3, ..TxnStats::default() };
            for us in [100, 2_000, 30_000 * (i as u64 + 1)] {
                record_latency(&mut stats.req_us, us);
                if i != 1 {
                    record_latency(&mut stats.txn_us, us * 2);
                }
                if i == 2 {
                    record_latency(&mut stats.req_us_corrected, us * 3);
                    record_latency(&mut stats.txn_us_corrected, us * 4);
                }
            }
            merged.txns.insert(name.into(), stats);
        }
        let run = crate::output::outcome::RunResult {
            scenario: "s".into(),
            cores: vec![0],
            drivers: Vec::new(),
            fallbacks: Vec::new(),
            started_at_unix_s: 1.0,
            duration_s: 1.0,
            stopped_by: crate::output::outcome::StopReason::Duration,
            merged,
            intervals: Vec::new(),
            segment: None,
            tls_verified: None,
            stopped_because: None,
        };
        let file = result_file(&run, true);
        let read = read_run(&file, "f").unwrap();
        let expected = run_data("f", file.to_value(), &read.merged);
        let drawn = file_data("f", &file).unwrap();
        assert_eq!(drawn, expected);
        assert!(drawn["transactions"][1]["distribution"]["spectrum_corrected"].is_array(), "{drawn}");
        assert!(drawn["transactions"][0].get("raw").is_none());

        let mut bare = file.clone();
        bare.transactions[1].raw = None;
        let err = file_data("bare.json", &bare).unwrap_err().to_string();
        assert!(err.contains("transactions[1] (open): no raw histograms"), "{err}");
    }

    #[test]
    fn histogram_counts_every_sample_once() {
        let mut h = new_latency_histogram();
        for us in [5, 5, 80, 1_000, 1_000, 1_000, 90_000] {
            record_latency(&mut h, us);
        }
        let buckets = histogram(&h);
        let counts: Vec<u64> = buckets["count"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
        assert_eq!(counts.len(), HISTOGRAM_BUCKETS);
        assert_eq!(counts.iter().sum::<u64>(), 7);
        assert_eq!(counts[0], 2);
        assert_eq!(*counts.last().unwrap(), 1);
        let mut one = new_latency_histogram();
        record_latency(&mut one, 42);
        assert_eq!(histogram(&one)["count"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).sum::<u64>(), 1);
    }
}
