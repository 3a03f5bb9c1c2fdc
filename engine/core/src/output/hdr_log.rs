//! HDR interval logs (the HdrHistogram log format read by HistogramLogProcessor and
//! HdrHistogram plotters), written by hdrhistogram's own interval log writer: one line per
//! transaction per interval, tagged with its name. An interval's lines are built in memory and
//! written whole: a write that fails (a full disk) is cut back to the last whole interval, so
//! that a reader never meets half a line.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
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

/// Where a log is written: a file, which a failed write is cut back on.
pub trait LogFile: Write {
    /// Cuts the file to its first `bytes` bytes.
    fn cut_to(&mut self, bytes: u64) -> io::Result<()>;
}

impl LogFile for File {
    fn cut_to(&mut self, bytes: u64) -> io::Result<()> {
        self.set_len(bytes)?;
        io::Seek::seek(self, io::SeekFrom::Start(bytes)).map(|_| ())
    }
}

/// A write of the log that failed: what the log holds and what it lost.
#[derive(Debug)]
pub struct LogCut {
    /// Why the write failed.
    pub source: io::Error,
    /// Where the log's last whole interval ends, seconds after the start (`None`: it holds
    /// none, only its header).
    pub whole_until_s: Option<f64>,
    /// Where the interval that could not be written starts, seconds after the start.
    pub lost_from_s: f64,
    /// Whether the part of a line written was cut back off (else the file may end mid-line).
    pub cut_back: Result<(), String>,
}

impl fmt::Display for LogCut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "writing failed ({}); ", self.source)?;
        match &self.cut_back {
            Ok(()) => {
                let holds = match self.whole_until_s {
                    Some(s) => format!("whole lines up to the interval ending at {s:.3} s"),
                    None => "its header only".to_string(),
                };
                write!(f, "the log holds {holds}; the run's intervals from {:.3} s on are not in it", self.lost_from_s)
            }
            Err(why) => write!(
                f,
                "cutting its last line back failed too ({why}): the log may end mid-line (drop its last line), and \
                 the run's intervals from {:.3} s on are not in it",
                self.lost_from_s
            ),
        }
    }
}

/// An open interval log.
pub struct HdrLog<F: LogFile = File> {
    out: F,
    /// Bytes of whole lines written so far (the header and whole intervals).
    whole_bytes: u64,
    /// Where the last whole interval ends, seconds after the start.
    whole_until_s: Option<f64>,
    /// One interval's lines, built before they are written.
    lines: Vec<u8>,
    serializer: V2DeflateSerializer,
    /// The transactions that have made a request (sent or not): their tags hold request times
    /// from then on, never their durations (at most `limits::TRANSACTIONS_MAX` names).
    requesting: BTreeSet<Arc<str>>,
}

/// The log's tag for a transaction: its name with the characters a tag cannot hold (space,
/// comma) and those a reader should not get raw (control characters: an escape sequence, a
/// line break; format characters, Unicode's Cf: a bidirectional override U+202E that would
/// reverse the line a reader prints, a zero-width space) percent-encoded, and `%` itself, so
/// two names never share a tag (`a b` is `a%20b`, `a_b` stays `a_b`).
pub fn tag_for(name: &str) -> String {
    let mut tag = String::with_capacity(name.len());
    for c in name.chars() {
        if c == ' ' || c == ',' || c == '%' || c.is_control() || crate::model::terminal::is_format(c) {
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
}

impl<F: LogFile> HdrLog<F> {
    /// The log on `file`, its header written.
    fn begin(file: F, started_at_unix_s: f64) -> io::Result<HdrLog<F>> {
        let mut log = HdrLog {
            out: file,
            whole_bytes: 0,
            whole_until_s: None,
            lines: Vec::new(),
            serializer: V2DeflateSerializer::new(),
            requesting: BTreeSet::new(),
        };
        let started = UNIX_EPOCH + Duration::from_secs_f64(started_at_unix_s.max(0.0));
        let mut header = Vec::new();
        IntervalLogWriterBuilder::new()
            .add_comment("[Histograms of mite-engine transaction latencies in microseconds]")
            .add_comment(
                "[Tag = transaction name, spaces, commas, % and control characters percent-encoded; request times where the transaction sent requests; \
                 open model: TAG%corrected, the same from the intended start]",
            )
            .with_start_time(started)
            .with_base_time(started)
            .begin_log_with(&mut header, &mut log.serializer)?;
        writeln!(header, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"")?;
        log.out.write_all(&header)?;
        log.out.flush()?;
        log.whole_bytes = header.len() as u64;
        Ok(log)
    }

    /// Writes one interval: a line per transaction active in it (`start_s` after the start,
    /// `length_s` long). A transaction that has made a request, in this interval or before, has
    /// its answered requests' times (no line in an interval where none was answered: its
    /// requests failed, or its transactions made none); one that has made none so far, its
    /// durations.
    pub fn write_interval(&mut self, interval: &Merged, start_s: f64, length_s: f64) -> Result<(), LogCut> {
        let start = Duration::from_secs_f64(start_s.max(0.0));
        let length = Duration::from_secs_f64(length_s.max(0.0));
        let mut lines = std::mem::take(&mut self.lines);
        lines.clear();
        let built = self.build_lines(&mut lines, interval, start, length);
        let written = built.and_then(|()| {
            self.out.write_all(&lines)?;
            self.out.flush()
        });
        let bytes = lines.len() as u64;
        self.lines = lines;
        match written {
            Ok(()) => {
                self.whole_bytes += bytes;
                self.whole_until_s = Some(start_s.max(0.0) + length_s.max(0.0));
                Ok(())
            }
            Err(source) => {
                // Whatever part of the interval reached the file goes: a reader meets whole
                // lines only.
                let cut_back = self.out.cut_to(self.whole_bytes).map_err(|e| e.to_string());
                Err(LogCut { source, whole_until_s: self.whole_until_s, lost_from_s: start_s.max(0.0), cut_back })
            }
        }
    }

    /// One interval's lines, into `lines`.
    fn build_lines(
        &mut self,
        lines: &mut Vec<u8>,
        interval: &Merged,
        start: Duration,
        length: Duration,
    ) -> io::Result<()> {
        // Starting a log with no header lines writes nothing: it only lends the writer.
        let mut log = IntervalLogWriterBuilder::new().begin_log_with(lines, &mut self.serializer)?;
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
        Ok(())
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
        // Format characters (Cf) too: a bidi override, a zero-width space, a BOM, a tag char.
        assert_eq!(tag_for("a\u{202e}b"), "a%E2%80%AEb");
        assert_eq!(tag_for("\u{200b}\u{feff}\u{ad}"), "%E2%80%8B%EF%BB%BF%C2%AD");
        assert_eq!(tag_for("\u{e0041}"), "%F3%A0%81%81");
        assert_eq!(tag_for("日本\u{200d}"), "日本%E2%80%8D");
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

    impl LogFile for Vec<u8> {
        fn cut_to(&mut self, bytes: u64) -> io::Result<()> {
            self.truncate(bytes as usize);
            Ok(())
        }
    }

    /// A file that takes `room` bytes, then takes part of a write and fails (a full disk).
    struct Filling {
        bytes: Vec<u8>,
        room: usize,
        cut_fails: bool,
    }

    impl Write for Filling {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let room = self.room.saturating_sub(self.bytes.len());
            if room == 0 {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let n = buf.len().min(room);
            self.bytes.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl LogFile for Filling {
        fn cut_to(&mut self, bytes: u64) -> io::Result<()> {
            if self.cut_fails {
                return Err(io::Error::from_raw_os_error(libc::EIO));
            }
            self.bytes.truncate(bytes as usize);
            Ok(())
        }
    }

    /// A full disk mid-interval: the log used to end with half a line (its last histogram
    /// cut mid-base64), which a reader chokes on. The log now ends with the last whole
    /// interval, and what was lost is said; a cut that fails too says the log may end mid-line.
    #[test]
    fn a_full_disk_leaves_whole_lines_and_says_what_was_lost() {
        let busy = interval(&[("home page", &[100, 200, 300]), ("login", &[5_000, 7_000])]);
        // Room for the header and a whole interval and a half.
        let mut probe = HdrLog::begin(Vec::<u8>::new(), 1_700_000_000.0).unwrap();
        let header = probe.whole_bytes as usize;
        probe.write_interval(&busy, 0.0, 1.0).unwrap();
        let one = probe.out.len() - header;
        let mut log = HdrLog::begin(
            Filling { bytes: Vec::new(), room: header + one + one / 2, cut_fails: false },
            1_700_000_000.0,
        )
        .unwrap();
        log.write_interval(&busy, 0.0, 1.0).unwrap();
        let cut = log.write_interval(&busy, 1.0, 1.0).unwrap_err();
        assert_eq!(log.out.bytes.len(), header + one, "cut back to the last whole interval");
        assert!(log.out.bytes.ends_with(b"\n"));
        assert_eq!(lines(&log.out.bytes).len(), 2, "the first interval's two lines, each whole");
        assert_eq!(
            cut.to_string(),
            "writing failed (No space left on device (os error 28)); the log holds whole lines up to the interval \
             ending at 1.000 s; the run's intervals from 1.000 s on are not in it"
        );
        // A full disk before any interval: the header alone.
        let mut log =
            HdrLog::begin(Filling { bytes: Vec::new(), room: header + 10, cut_fails: false }, 1_700_000_000.0).unwrap();
        let cut = log.write_interval(&busy, 0.0, 1.0).unwrap_err();
        assert_eq!(log.out.bytes.len(), header);
        assert!(
            cut.to_string().contains("the log holds its header only; the run's intervals from 0.000 s on"),
            "{cut}"
        );
        // A cut that fails too is said.
        let mut log =
            HdrLog::begin(Filling { bytes: Vec::new(), room: header + 10, cut_fails: true }, 1_700_000_000.0).unwrap();
        let cut = log.write_interval(&busy, 0.0, 1.0).unwrap_err();
        assert!(cut.to_string().contains("cutting its last line back failed too"), "{cut}");
    }
}
