//! HDR interval logs (the HdrHistogram log format read by HistogramLogProcessor and
//! HdrHistogram plotters), written by hdrhistogram's own interval log writer: one line per
//! transaction per interval, tagged with its name.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, IntervalLogWriterError, Tag};

use crate::stats::Merged;

/// What marks the tag of a transaction's corrected latencies (open model: from the intended
/// start), after its own tag: `get_root%corrected`. A name's tag never holds a `%` that is not
/// followed by two hex digits ([`tag_for`]), so no transaction's own tag can read the same.
pub const CORRECTED_TAG_SUFFIX: &str = "%corrected";

/// An open interval log.
pub struct HdrLog {
    out: BufWriter<File>,
    serializer: V2DeflateSerializer,
    /// The transactions that have made a request (sent or not): their tags hold request times
    /// from then on, never their durations (at most `limits::TRANSACTIONS_MAX` names).
    requesting: BTreeSet<Arc<str>>,
}

/// The log's tag for a transaction: its name with the characters a tag cannot hold (space,
/// comma) and those a reader should not get raw (control characters: an escape sequence, a
/// line break) percent-encoded, and `%` itself, so two names never share a tag (`a b` is
/// `a%20b`, `a_b` stays `a_b`).
pub fn tag_for(name: &str) -> String {
    let mut tag = String::with_capacity(name.len());
    for c in name.chars() {
        if c == ' ' || c == ',' || c == '%' || c.is_control() {
            let mut utf8 = [0u8; 4];
            for byte in c.encode_utf8(&mut utf8).bytes() {
                tag.push_str(&format!("%{byte:02X}"));
            }
        } else {
            tag.push(c);
        }
    }
    tag
}

impl HdrLog {
    /// Creates the file and writes the header. Times in the log are seconds since the start.
    /// A file this call created is removed when its header cannot be written (a full disk):
    /// the run is refused, and leaves no empty log behind.
    pub fn create(path: &Path, started_at_unix_s: f64) -> io::Result<HdrLog> {
        let existed = path.symlink_metadata().is_ok();
        HdrLog::begin(File::create(path)?, started_at_unix_s).inspect_err(|_| {
            if !existed {
                let _ = std::fs::remove_file(path);
            }
        })
    }

    /// The log on `file`, its header written.
    fn begin(file: File, started_at_unix_s: f64) -> io::Result<HdrLog> {
        let mut log =
            HdrLog { out: BufWriter::new(file), serializer: V2DeflateSerializer::new(), requesting: BTreeSet::new() };
        let started = UNIX_EPOCH + Duration::from_secs_f64(started_at_unix_s.max(0.0));
        IntervalLogWriterBuilder::new()
            .add_comment("[Histograms of mite-engine transaction latencies in microseconds]")
            .add_comment(
                "[Tag = transaction name, spaces, commas, % and control characters percent-encoded; request times where the transaction sent requests; \
                 open model: TAG%corrected, the same from the intended start]",
            )
            .with_start_time(started)
            .with_base_time(started)
            .begin_log_with(&mut log.out, &mut log.serializer)?;
        writeln!(log.out, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"")?;
        log.out.flush()?;
        Ok(log)
    }

    /// Writes one interval: a line per transaction active in it (`start_s` after the start,
    /// `length_s` long). A transaction that has made a request, in this interval or before, has
    /// its answered requests' times (no line in an interval where none was answered: its
    /// requests failed, or its transactions made none); one that has made none so far, its
    /// durations.
    pub fn write_interval(&mut self, interval: &Merged, start_s: f64, length_s: f64) -> io::Result<()> {
        let start = Duration::from_secs_f64(start_s.max(0.0));
        let length = Duration::from_secs_f64(length_s.max(0.0));
        // Starting a log with no header lines writes nothing: it only lends the writer.
        let mut log = IntervalLogWriterBuilder::new().begin_log_with(&mut self.out, &mut self.serializer)?;
        for (name, stats) in &interval.txns {
            if (stats.attempts() > 0 || !stats.req_us.is_empty()) && !self.requesting.contains(name) {
                self.requesting.insert(name.clone());
            }
            let (h, corrected) = if self.requesting.contains(name) {
                (&stats.req_us, &stats.req_us_corrected)
            } else {
                (&stats.txn_us, &stats.txn_us_corrected)
            };
            let tag = tag_for(name);
            for (h, tag) in [(h, tag.clone()), (corrected, format!("{tag}{CORRECTED_TAG_SUFFIX}"))] {
                if h.is_empty() {
                    continue;
                }
                log.write_histogram(h, start, length, Tag::new(&tag)).map_err(|e| match e {
                    IntervalLogWriterError::IoError(e) => e,
                    IntervalLogWriterError::SerializeError(e) => {
                        io::Error::other(format!("histogram of {name}: {e:?}"))
                    }
                })?;
            }
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    use crate::stats::{TxnStats, record_latency};

    #[test]
    fn tags_have_no_spaces_or_commas() {
        assert_eq!(tag_for("outer :: inner,x"), "outer%20::%20inner%2Cx");
        // Two names never share a tag; nothing acts on a terminal.
        assert_ne!(tag_for("a b"), tag_for("a_b"));
        assert_ne!(tag_for("a b"), tag_for("a%20b"));
        assert_eq!(tag_for("x\u{1b}[31m\u{85}é"), "x%1B[31m%C2%85é");
    }

    fn interval(txns: &[(&str, &[u64])]) -> Merged {
        let mut merged = Merged::default();
        for (name, values) in txns {
            let mut stats = TxnStats::default();
            for &v in *values {
                record_latency(&mut stats.req_us, v);
            }
            merged.txns.insert((*name).into(), stats);
        }
        merged.txns.insert("idle".into(), TxnStats::default());
        merged
    }

    /// The log reads back with hdrhistogram's own interval log iterator: its start time, every
    /// interval's tag, start, length and histogram.
    #[test]
    fn the_log_reads_back_with_the_crates_iterator() {
        let path = std::env::temp_dir().join(format!("mite-hdr-log-{}.hlog", std::process::id()));
        let first = interval(&[("home page", &[100, 200, 300]), ("login,post", &[5_000])]);
        let second = interval(&[("home page", &[150])]);
        let mut log = HdrLog::create(&path, 1_700_000_000.25).unwrap();
        log.write_interval(&first, 0.0, 1.0).unwrap();
        log.write_interval(&second, 1.0, 0.5).unwrap();
        drop(log);
        let text = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let entries: Vec<LogEntry<'_>> = IntervalLogIterator::new(&text).collect::<Result<_, _>>().unwrap();
        let mut seen = Vec::new();
        for entry in &entries {
            match entry {
                LogEntry::StartTime(t) | LogEntry::BaseTime(t) => assert_eq!(t.as_millis(), 1_700_000_000_250),
                LogEntry::Interval(i) => {
                    let bytes =
                        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, i.encoded_histogram())
                            .unwrap();
                    let h: Histogram<u64> = Deserializer::new().deserialize(&mut bytes.as_slice()).unwrap();
                    let tag = i.tag().map(|t| t.as_str().to_string()).unwrap_or_default();
                    seen.push((tag, i.start_timestamp().as_millis(), i.duration().as_millis(), h.len(), i.max()));
                }
            }
        }
        let max = |v: u64| Histogram::<u64>::new(3).unwrap().highest_equivalent(v) as f64;
        assert_eq!(
            seen,
            vec![
                ("home%20page".to_string(), 0, 1000, 3, max(300)),
                ("login%2Cpost".to_string(), 0, 1000, 1, max(5_000)),
                ("home%20page".to_string(), 1000, 500, 1, max(150)),
            ]
        );
        assert_eq!(entries.len(), 5, "start time, base time and three intervals; the idle transaction has none");
    }

    /// Outside try: an open-model run's log held only the uncorrected latencies, those that
    /// hide the queueing (coordinated omission); the corrected ones, which the thresholds
    /// judge, were nowhere in it. Each now has its own tag beside the transaction's.
    #[test]
    fn corrected_latencies_have_their_own_tag() {
        let path = std::env::temp_dir().join(format!("mite-hdr-corrected-{}.hlog", std::process::id()));
        let mut open = interval(&[("get root", &[100, 200])]);
        let stats = open.txns.get_mut("get root").unwrap();
        for us in [900, 1_800] {
            record_latency(&mut stats.req_us_corrected, us);
        }
        let mut log = HdrLog::create(&path, 1_700_000_000.0).unwrap();
        log.write_interval(&open, 0.0, 1.0).unwrap();
        drop(log);
        let text = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let tags: Vec<(String, f64)> = IntervalLogIterator::new(&text)
            .filter_map(|entry| match entry.unwrap() {
                LogEntry::Interval(i) => Some((i.tag().unwrap().as_str().to_string(), i.max())),
                _ => None,
            })
            .collect();
        let max = |v: u64| Histogram::<u64>::new(3).unwrap().highest_equivalent(v) as f64;
        assert_eq!(tags, vec![("get%20root".to_string(), max(200)), ("get%20root%corrected".to_string(), max(1_800))]);
        assert_ne!(tag_for("get root%corrected"), "get%20root%corrected", "no name's tag reads as a corrected one");
    }

    /// Every line of the log, as (tag, start ms, count, max).
    fn lines(text: &[u8]) -> Vec<(String, u128, u64, f64)> {
        IntervalLogIterator::new(text)
            .filter_map(|entry| match entry.unwrap() {
                LogEntry::Interval(i) => {
                    let bytes =
                        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, i.encoded_histogram())
                            .unwrap();
                    let h: Histogram<u64> = Deserializer::new().deserialize(&mut bytes.as_slice()).unwrap();
                    Some((i.tag().unwrap().as_str().to_string(), i.start_timestamp().as_millis(), h.len(), i.max()))
                }
                _ => None,
            })
            .collect()
    }

    /// A transaction's tag keeps one meaning for the whole log. Before: an interval in which
    /// its requests all failed (a timeout) had no request time, so its line held the
    /// transaction's durations instead (30 s under a tag of request times of 100 µs), though it
    /// had sent requests. A transaction that makes no request logs its durations throughout.
    #[test]
    fn a_tag_of_request_times_never_holds_transaction_durations() {
        let path = std::env::temp_dir().join(format!("mite-hdr-meaning-{}.hlog", std::process::id()));
        let mut answered = TxnStats { req_ok: 1, txn_ok: 1, ..TxnStats::default() };
        record_latency(&mut answered.req_us, 100);
        record_latency(&mut answered.txn_us, 150);
        let mut timed_out = TxnStats { txn_err: 1, ..TxnStats::default() };
        timed_out.add_error(crate::stats::ErrorKind::Timeout);
        record_latency(&mut timed_out.txn_us, 30_000_000);
        let mut thinking = TxnStats { txn_ok: 1, ..TxnStats::default() };
        record_latency(&mut thinking.txn_us, 2_000);
        let mut log = HdrLog::create(&path, 1_700_000_000.0).unwrap();
        for (i, stats) in [answered, timed_out].into_iter().enumerate() {
            let mut merged = Merged::default();
            merged.txns.insert("get".into(), stats);
            merged.txns.insert("think".into(), thinking.clone());
            log.write_interval(&merged, i as f64, 1.0).unwrap();
        }
        drop(log);
        let text = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let max = |v: u64| Histogram::<u64>::new(3).unwrap().highest_equivalent(v) as f64;
        assert_eq!(
            lines(&text),
            vec![
                ("get".to_string(), 0, 1, max(100)),
                ("think".to_string(), 0, 1, max(2_000)),
                ("think".to_string(), 1000, 1, max(2_000)),
            ]
        );
    }
}
