//! The result file (`--json`) as types: written and read by the same serde-derived structs, so
//! what `merge`, `compare` and the HTML pages read is what the run wrote. It carries a
//! `format_version`; a newer major version is refused, unknown fields are ignored, and a missing
//! or mistyped field is an error naming the field and the file.

use std::collections::BTreeMap;
use std::sync::Arc;

use hdrhistogram::Histogram;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::output::outcome::{RunResult, StopReason};
use crate::output::timeline::Percentiles;
use crate::stats::histogram::{self, quantile};
use crate::stats::http_metrics::HttpMetrics;
use crate::stats::{ErrorKind, InjectorLoad, JourneyCounts, LatencyHistogram, Merged, TxnStats, WsStats};

/// The result file's format: bumped when a reader of the previous version would misread a
/// new file (a field removed, renamed or changed in meaning). Adding a field does not bump it.
/// Version 2: a figure with nothing behind it (a latency of no value, a mean over none) is
/// null, where version 1 wrote 0; version 1 files are read as version 2 ([`ResultFile::read`]).
pub const FORMAT_VERSION: u32 = 2;

/// Files written before `format_version` existed are version 1.
fn first_version() -> u32 {
    1
}

/// A result file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultFileError {
    /// Not JSON of a result's shape: a field missing or of the wrong type, or not an object.
    #[error("{file} is not a mite-engine result: {at}{why}")]
    Shape {
        /// The file (or label) read.
        file: String,
        /// Where in it: `transactions[0].raw.txn_ok: `, or nothing at the top.
        at: String,
        /// What serde said (`missing field \`duration_s\``, `invalid type: ...`).
        why: String,
    },
    /// Written by a newer mite-engine whose format this one cannot read.
    #[error(
        "{file}: result format version {found} is newer than this mite-engine reads ({FORMAT_VERSION}); upgrade mite-engine"
    )]
    NewerVersion {
        /// The file read.
        file: String,
        /// Its `format_version`.
        found: u32,
    },
    /// A transaction without the `raw` histograms (hand-made, or written by an older engine).
    #[error(
        "{file}: transactions[{index}] ({name}): no raw histograms (written by an older mite-engine?); cannot merge losslessly"
    )]
    NoRaw {
        /// The file read.
        file: String,
        /// Position in `transactions`.
        index: usize,
        /// Transaction name.
        name: String,
    },
    /// Two transactions of one name (a file put together by hand).
    #[error("{file}: transactions[{index}]: a second transaction named {name:?}")]
    DuplicateTransaction {
        /// The file read.
        file: String,
        /// Position of the second.
        index: usize,
        /// The name.
        name: String,
    },
    /// A figure of the file that its own raw counters contradict: edited by hand. `merge` adds
    /// up the raw counters, so the parts' figures would not add up to the merged ones.
    #[error(
        "{file}: {at}: {stated} where its raw counters hold {counted} (a figure edited by hand?): its figures \
         and its raw counters must agree to be merged"
    )]
    Disagrees {
        /// The file read.
        file: String,
        /// The field (`transactions[0].count`, `totals.requests`).
        at: String,
        /// Its value.
        stated: u64,
        /// What the raw counters say.
        counted: u64,
    },
    /// An error kind this engine does not know.
    #[error("{file}: {at}: unknown error kind {kind:?}")]
    UnknownErrorKind {
        /// The file read.
        file: String,
        /// Which counter.
        at: String,
        /// The kind named.
        kind: String,
    },
}

/// A histogram as it travels in a result file: base64 of its compressed HDR V2 encoding, kept
/// as that text (some hundred bytes where a histogram in memory is 16 KiB and more). Reading
/// a file decodes nothing; each histogram is decoded once, where its values are wanted: by
/// [`ResultFile::read`]'s check (which keeps its count), by `merge` as it merges (a file read
/// with [`ResultFile::read_unchecked`]), or by a page's drawing as the file is checked. A file
/// read holds no histogram.
#[derive(Clone, Debug)]
pub struct Encoded {
    text: String,
    /// Values recorded: known once it was made or decoded.
    count: std::sync::OnceLock<u64>,
}

impl Encoded {
    /// `h`, encoded.
    pub fn of(h: &Histogram<u64>) -> Encoded {
        Encoded { text: histogram::encode(h), count: std::sync::OnceLock::from(h.len()) }
    }

    /// The histogram, decoded (an empty one is not made). Only for one already checked.
    pub fn histogram(&self) -> LatencyHistogram {
        LatencyHistogram::from(self.decoded())
    }

    /// The histogram, decoded. Only for one already checked ([`ResultFile::read`]).
    pub fn decoded(&self) -> Histogram<u64> {
        self.decode().expect("an encoded histogram was checked when it was read or made")
    }

    /// The histogram decoded, its count kept; an error when its text does not decode.
    pub fn decode(&self) -> Result<Histogram<u64>, histogram::HistogramError> {
        let h = histogram::decode(&self.text)?;
        let _ = self.count.set(h.len());
        Ok(h)
    }

    /// How many values it holds: known (nothing decoded) once it was made or decoded, as
    /// [`ResultFile::read`] decodes every histogram of a file; `None` before.
    pub fn count(&self) -> Option<u64> {
        self.count.get().copied()
    }
}

/// Two are equal when their texts are: the count is what the text holds, known or not.
impl PartialEq for Encoded {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Default for Encoded {
    fn default() -> Self {
        Encoded::of(&crate::stats::new_latency_histogram())
    }
}

impl Serialize for Encoded {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Encoded {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Encoded { text: String::deserialize(deserializer)?, count: std::sync::OnceLock::new() })
    }
}

/// The four histograms a page draws of one transaction, as [`ResultFile::check_histograms`]
/// decoded them.
pub struct Drawn {
    /// Transaction durations.
    pub txn_us: Histogram<u64>,
    /// Request times.
    pub req_us: Histogram<u64>,
    /// Transaction durations from the intended start.
    pub txn_us_corrected: Histogram<u64>,
    /// Request times from the intended start.
    pub req_us_corrected: Histogram<u64>,
}

/// Latency figures of one histogram, µs. With nothing recorded (`count` 0) every figure is
/// `None` (null in the file): no time was measured, which is not a time of 0. A file of format
/// 1 wrote zeros there; they read back as `None` too.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "LatencyAsRead")]
pub struct Latency {
    /// Values recorded.
    pub count: u64,
    /// Smallest.
    pub min: Option<u64>,
    /// Mean, to 0.1 µs.
    pub mean: Option<f64>,
    /// Median.
    pub p50: Option<u64>,
    /// 90th percentile.
    pub p90: Option<u64>,
    /// 99th percentile.
    pub p99: Option<u64>,
    /// 99.9th percentile.
    pub p999: Option<u64>,
    /// Largest.
    pub max: Option<u64>,
}

/// [`Latency`] as a file has it: any field may be absent or null.
#[derive(Default, Deserialize)]
#[serde(default)]
struct LatencyAsRead {
    count: Option<u64>,
    min: Option<u64>,
    mean: Option<f64>,
    p50: Option<u64>,
    p90: Option<u64>,
    p99: Option<u64>,
    p999: Option<u64>,
    max: Option<u64>,
}

impl From<LatencyAsRead> for Latency {
    fn from(read: LatencyAsRead) -> Latency {
        // Nothing recorded: the figures (zeros in format 1) are none. A count left out (a file
        // made by hand) leaves the figures as written.
        let recorded = read.count != Some(0);
        let figure = |value: Option<u64>| value.filter(|_| recorded);
        Latency {
            count: read.count.unwrap_or(0),
            min: figure(read.min),
            mean: read.mean.filter(|_| recorded),
            p50: figure(read.p50),
            p90: figure(read.p90),
            p99: figure(read.p99),
            p999: figure(read.p999),
            max: figure(read.max),
        }
    }
}

impl Latency {
    /// The figures of `h` (none when it is empty).
    pub fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            count: h.len(),
            min: Some(h.min()),
            mean: Some((h.mean() * 10.0).round() / 10.0),
            p50: Some(quantile(h, 0.5)),
            p90: Some(quantile(h, 0.9)),
            p99: Some(quantile(h, 0.99)),
            p999: Some(quantile(h, 0.999)),
            max: Some(h.max()),
        }
    }

    /// The figures of `h`, or none when it is empty (corrected latencies exist only for
    /// open-model runs).
    pub fn of_nonempty(h: &Histogram<u64>) -> Option<Latency> {
        (!h.is_empty()).then(|| Latency::of(h))
    }
}

/// Connects tried and failed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Connects {
    /// Tried.
    pub attempted: u64,
    /// Failed.
    pub failed: u64,
}

/// TLS handshakes tried, failed and resumed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Handshakes {
    /// Tried.
    pub attempted: u64,
    /// Failed.
    pub failed: u64,
    /// Resumed from an earlier session.
    pub resumed: u64,
}

/// Responses by method and exact status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseCount {
    /// HTTP method (`OTHER` for the unusual).
    pub method: String,
    /// Status code.
    pub response_code: u16,
    /// Responses.
    pub count: u64,
}

/// A transaction's (or the run's) requests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Requests {
    /// Requests written to a connection.
    pub count: u64,
    /// Attempts that succeeded.
    pub ok: u64,
    /// Attempts that failed, sent or not.
    pub errors: u64,
    /// Attempts that failed before a byte was written.
    pub not_sent: u64,
    /// Every attempt (`count + not_sent`); absent from files written before it was counted.
    pub attempts: Option<u64>,
    /// Failed attempts by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Requests per second.
    pub rps: f64,
    /// Responses by class (`2xx`, `other`).
    pub status: BTreeMap<String, u64>,
    /// Responses by exact code, for the first `limits::STATUS_CODES_MAX` distinct codes.
    pub status_codes: BTreeMap<u16, u64>,
    /// Responses whose code is past those (kept apart, not lost): the codes and this add up
    /// to the responses (absent from older files).
    #[serde(default)]
    pub status_codes_other: u64,
    /// Times of requests answered.
    pub latency_us: Latency,
    /// Open model: the same from the intended start.
    pub latency_us_corrected: Option<Latency>,
    /// Keep-alive connections found closed and replaced.
    pub reconnects: u64,
    /// TCP connects.
    pub connects: Connects,
    /// Mean successful connect time, µs; `None` with no successful connect.
    pub connect_us_mean: Option<f64>,
    /// TLS handshakes.
    pub tls_handshakes: Handshakes,
    /// Mean successful handshake time, µs; `None` with no successful handshake.
    pub tls_us_mean: Option<f64>,
    /// Handshakes resumed.
    pub tls_resumed: u64,
    /// Mean time to the first response byte, µs; `None` with no response.
    pub first_byte_us_mean: Option<f64>,
    /// Response body bytes.
    pub body_bytes: u64,
    /// Request phases (`dns`, `connect`, `tls`, `first_byte`, `total`).
    pub phases_us: BTreeMap<String, Latency>,
    /// Responses by method and code.
    pub responses: Vec<ResponseCount>,
    /// Request bytes sent.
    pub sent_bytes: u64,
}

/// A transaction's WebSocket counters; absent when it used none.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebSocketFigures {
    /// Handshakes completed.
    pub connects: u64,
    /// Data messages sent.
    pub messages_sent: u64,
    /// Data messages received.
    pub messages_received: u64,
    /// Messages sent and received together per second: both ways summed (the terminal's table
    /// shows each way apart, `sent/s` and `recv/s`: `messages_sent` and `messages_received`
    /// over `duration_s`).
    pub messages_per_s: f64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Pings answered.
    pub pings_received: u64,
    /// Close handshakes completed.
    pub closes: u64,
    /// Failures on upgraded connections.
    pub errors: u64,
    /// Those by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Request/reply times.
    pub reply_us: Option<Latency>,
}

/// One transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// Its name (`outer :: inner` when nested).
    pub name: String,
    /// Transactions completed.
    #[serde(default)]
    pub count: u64,
    /// Those that succeeded.
    #[serde(default)]
    pub ok: u64,
    /// Those that failed.
    #[serde(default)]
    pub errors: u64,
    /// Transactions per second.
    #[serde(default)]
    pub rate: f64,
    /// Transaction durations.
    #[serde(default)]
    pub latency_us: Latency,
    /// Open model: from the intended start.
    #[serde(default)]
    pub latency_us_corrected: Option<Latency>,
    /// Its requests.
    pub requests: Requests,
    /// Its WebSockets.
    #[serde(default)]
    pub websocket: Option<WebSocketFigures>,
    /// `Set-Cookie` fields of its responses the journey's jar ignored, by reason (absent when
    /// none was; read back by `merge`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cookies_ignored: BTreeMap<String, u64>,
    /// Every counter and histogram, for `merge` (left out of the live dashboard's data).
    #[serde(default)]
    pub raw: Option<RawStats>,
    /// Its distribution as a page draws it, drawn as its histograms were decoded for another
    /// reason (a check, a merge) so that the page decodes none again; not in the file.
    #[serde(skip)]
    pub drawn: Option<serde_json::Value>,
}

/// Every counter and histogram of one transaction: what `merge` adds up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawStats {
    /// Transaction durations.
    pub txn_us: Encoded,
    /// Request times.
    pub req_us: Encoded,
    /// Transaction durations from the intended start.
    pub txn_us_corrected: Encoded,
    /// Request times from the intended start.
    pub req_us_corrected: Encoded,
    /// Transactions that succeeded.
    pub txn_ok: u64,
    /// Transactions that failed.
    pub txn_err: u64,
    /// Requests that succeeded.
    pub req_ok: u64,
    /// Failed attempts by kind.
    #[serde(default)]
    pub req_err: BTreeMap<String, u64>,
    /// Attempts that failed before a byte was written (absent from older files: none then).
    #[serde(default)]
    pub not_sent: u64,
    /// Responses by class: other, 1xx..5xx.
    pub status_class: [u64; 6],
    /// Responses by exact code (absent from older files).
    #[serde(default)]
    pub status_codes: BTreeMap<u16, u64>,
    /// Keep-alive connections replaced.
    pub reconnects: u64,
    /// TCP connects tried.
    pub connects: u64,
    /// TCP connects failed (absent from older files).
    #[serde(default)]
    pub connects_failed: u64,
    /// Sum of successful connect times, µs.
    pub connect_us_sum: u64,
    /// TLS handshakes tried.
    pub tls_handshakes: u64,
    /// TLS handshakes failed (absent from older files).
    #[serde(default)]
    pub tls_failed: u64,
    /// Sum of successful handshake times, µs.
    pub tls_us_sum: u64,
    /// Handshakes resumed.
    pub tls_resumed: u64,
    /// Sum of times to first byte, µs.
    pub first_byte_us_sum: u64,
    /// Response body bytes.
    pub body_bytes: u64,
    /// Request phases and responses by method and code (absent from older files).
    #[serde(default)]
    pub http: Option<RawHttp>,
    /// WebSocket counters; null when unused.
    #[serde(default)]
    pub ws: Option<RawWs>,
    /// Request bytes sent (absent from older files).
    #[serde(default)]
    pub sent_bytes: u64,
}

/// A transaction's request phases and responses, for `merge`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawHttp {
    /// Name resolution.
    pub dns: Encoded,
    /// TCP connect.
    pub connect: Encoded,
    /// TLS handshake.
    pub tls: Encoded,
    /// To the first response byte.
    pub first_byte: Encoded,
    /// `[method, status, count]`.
    pub responses: Vec<(String, u16, u64)>,
}

/// A transaction's WebSocket counters and reply histogram, for `merge`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawWs {
    /// Handshakes completed.
    pub connects: u64,
    /// Data messages sent.
    pub messages_sent: u64,
    /// Data messages received.
    pub messages_received: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Pings answered.
    pub pings_received: u64,
    /// Close handshakes completed.
    pub closes: u64,
    /// Failures by kind.
    #[serde(default)]
    pub errors: BTreeMap<String, u64>,
    /// Request/reply times.
    pub reply_us: Encoded,
}

/// Journey counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Journeys {
    /// Started.
    pub started: u64,
    /// Ended without error.
    pub ok: u64,
    /// Ended with an error, or panicked.
    pub failed: u64,
    /// Panicked (also in `failed`; absent from older files: 0).
    pub panicked: u64,
    /// Cancelled at the stop.
    pub cancelled: u64,
    /// Open model: arrivals that came due.
    pub scheduled: u64,
    /// Open model: arrivals started.
    pub arrivals_started: u64,
    /// Open model: arrivals missed (the queue for slots full, or still queued at the stop).
    pub missed: u64,
    /// Open model: arrivals not started because their single-use datapool ran out (absent
    /// from older files: 0).
    pub datapool_exhausted: u64,
}

/// Open model: arrivals requested, started and not: `requested = started + missed +
/// datapool_exhausted`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Arrivals {
    /// Arrivals that came due.
    pub requested: u64,
    /// Those started.
    pub started: u64,
    /// Those missed: the queue for slots was full, or they still waited at the stop (the
    /// injector or the journey slots could not keep up).
    pub missed: u64,
    /// Those not started because the entry's single-use datapool ran out (absent from older
    /// files: 0).
    pub datapool_exhausted: u64,
    /// The time the arrivals were scheduled over, seconds from the start: to the stop (the
    /// duration's end, or an interrupt: the instant the stop was taken, the same on every
    /// core) or the rate model's own end, never the grace after it
    /// (absent from older files, whose rates are over `duration_s`).
    #[serde(default)]
    pub window_s: Option<f64>,
    /// Requested per second of `window_s`.
    pub requested_per_s: f64,
    /// Started per second of `window_s`.
    pub achieved_per_s: f64,
}

/// The run's totals over every transaction.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Totals {
    /// Requests written to a connection.
    pub requests: u64,
    /// Attempts that succeeded.
    pub ok: u64,
    /// Attempts that failed.
    pub errors: u64,
    /// Attempts that failed before a byte was written.
    pub not_sent: u64,
    /// Every attempt.
    pub attempts: Option<u64>,
    /// Failed attempts by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Requests per second.
    pub rps: f64,
    /// Responses by class.
    pub status: BTreeMap<String, u64>,
    /// Responses by exact code, for the first `limits::STATUS_CODES_MAX` distinct codes.
    pub status_codes: BTreeMap<u16, u64>,
    /// Responses whose code is past those (kept apart, not lost): the codes and this add up
    /// to the responses (absent from older files).
    #[serde(default)]
    pub status_codes_other: u64,
    /// Transactions completed.
    pub transactions: u64,
    /// Transactions failed.
    pub transaction_errors: u64,
    /// Keep-alive connections replaced.
    pub reconnects: u64,
    /// TCP connects.
    pub connects: Connects,
    /// TLS handshakes.
    pub tls_handshakes: Handshakes,
    /// Response body bytes.
    pub body_bytes: u64,
    /// Request bytes sent.
    pub sent_bytes: u64,
    /// Times of requests answered.
    pub latency_us: Latency,
    /// Open model: from the intended start.
    pub latency_us_corrected: Option<Latency>,
    /// Journey counters.
    pub journeys: Journeys,
    /// Open model: arrivals.
    pub arrivals: Option<Arrivals>,
    /// WebSocket counters of every transaction.
    pub websocket: Option<WebSocketFigures>,
    /// `Set-Cookie` fields every transaction's jar ignored, by reason (absent when none was).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cookies_ignored: BTreeMap<String, u64>,
}

/// The injector's own delay and load.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Injector {
    /// Event-loop lag.
    pub lag_us: Latency,
    /// Mean busy share of the cores, percent; `None` when no time was measured.
    pub busy_percent_mean: Option<f64>,
    /// Busiest core in any interval, percent; `None` when no time was measured.
    pub busy_percent_max: Option<f64>,
    /// Whether the reported latencies include the injector's own delay.
    pub saturated: bool,
    /// The lag histogram and busy times, for `merge`.
    pub raw: Option<InjectorRaw>,
}

/// The injector's figures as `merge` adds them up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InjectorRaw {
    /// Event-loop lag.
    pub lag_us: Encoded,
    /// CPU time of the core threads, µs.
    pub busy_us: u64,
    /// Wall time they were measured over, µs.
    pub wall_us: u64,
    /// Busiest core in any interval, percent.
    #[serde(default)]
    pub busy_percent_max: f64,
}

/// One progress interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Interval {
    /// Seconds since the start at its end.
    pub elapsed_s: f64,
    /// Requests completed.
    pub requests: u64,
    /// Attempts failed.
    pub errors: u64,
    /// Attempts failed before a byte was written.
    pub not_sent: u64,
    /// Transactions completed.
    pub transactions: u64,
    /// Requests per second, over `seconds`.
    pub rps: f64,
    /// The time its figures cover, seconds, which its rates (`rps`, the pages' charts per
    /// second) are over (`outcome::IntervalPoint::seconds`); absent in files written before it
    /// was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Median latency, µs (of requests answered, or of transactions when none was); `None`
    /// when nothing was timed in the interval.
    pub p50_us: Option<u64>,
    /// 99th percentile, µs; `None` as `p50_us`.
    pub p99_us: Option<u64>,
    /// Journeys in flight at its end.
    pub journeys_in_flight: u64,
    /// Event-loop lag at p99, µs; `None` when no probe ran in the interval.
    pub injector_lag_p99_us: Option<u64>,
    /// Busiest core, percent.
    pub injector_busy_percent_max: f64,
    /// Whether the injector was saturated.
    pub injector_saturated: bool,
    /// The part of the run it belongs to: `run`, `stop` or `grace` (`outcome::IntervalPhase`);
    /// absent in files written before it was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<crate::output::outcome::IntervalPhase>,
    /// The pieces shorter than half a tick folded into it (`outcome::FoldedPiece`: the piece up
    /// to the stop, the grace's): its figures and its rate include theirs; absent when none was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub folded: Vec<crate::output::outcome::FoldedPiece>,
    /// What the over-time charts draw (`output::timeline::IntervalDetail`).
    #[serde(flatten)]
    pub detail: IntervalFigures,
}

/// An interval's figures for the over-time charts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntervalFigures {
    /// Attempts that succeeded.
    pub ok: u64,
    /// Failed attempts by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Responses by class.
    pub status: BTreeMap<String, u64>,
    /// TCP connects tried.
    pub connects: u64,
    /// TCP connects failed.
    pub connects_failed: u64,
    /// Keep-alive connections replaced.
    pub reconnects: u64,
    /// Response body bytes.
    pub body_bytes: u64,
    /// Request bytes sent.
    pub sent_bytes: u64,
    /// Journeys the volume models asked for at its end.
    pub journeys_target: u64,
    /// Journeys that panicked in it (absent when none did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journeys_panicked: Option<u64>,
    /// Open model: arrivals (absent in the closed model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<IntervalArrivals>,
    /// All requests (transaction durations when no request was timed).
    pub latency: Option<Percentiles>,
    /// Open model: the same from the intended start.
    pub corrected: Option<Percentiles>,
    /// Per transaction, the first `TIMELINE_TRANSACTIONS_MAX` names.
    pub by_transaction: Vec<TxnFigures>,
    /// Transactions left out by that bound (absent when none were).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions_left_out: Option<usize>,
    /// Every transaction's WebSockets in it (absent when they counted nothing in it, and in
    /// files written before it was recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket: Option<IntervalWebSocket>,
}

/// One interval's WebSocket figures: each count is the interval's share of the run's total
/// (`totals.websocket`), which the intervals add up to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntervalWebSocket {
    /// Handshakes completed.
    pub connects: u64,
    /// Data messages sent.
    pub messages_sent: u64,
    /// Data messages received.
    pub messages_received: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Pings answered.
    pub pings_received: u64,
    /// Close handshakes completed.
    pub closes: u64,
    /// Failures on upgraded connections.
    pub errors: u64,
    /// Request/reply times of the replies that came in it (absent when none did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<Percentiles>,
}

/// Open model: one interval's arrivals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntervalArrivals {
    /// Came due.
    pub requested: u64,
    /// Started.
    pub started: u64,
    /// Missed.
    pub missed: u64,
    /// Not started: the single-use datapool ran out.
    pub datapool_exhausted: u64,
}

/// One transaction during one interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TxnFigures {
    /// Its name.
    pub name: String,
    /// How many values `latency` is of: transactions completed in the interval (requests
    /// answered for a name that has completed none: `timeline::IntervalDetail::of_in_run`).
    pub count: u64,
    /// Its percentiles.
    pub latency: Percentiles,
    /// Open model: from the intended start.
    pub corrected: Option<Percentiles>,
}

/// How a merged result covers the segments of `N`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Coverage {
    /// `N`.
    pub of: usize,
    /// Distinct segments present.
    pub present: usize,
    /// `K/N` absent.
    pub missing: Vec<String>,
    /// `K/N` given more than once.
    pub repeated: Vec<String>,
}

/// One run's share that a result stands for: the run (its `run_id`) and its segment (`K/N`,
/// none for a run without segments). A merged result lists those of every run it was merged
/// from, so that `merge` refuses an input already counted in another.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(default)]
pub struct PartId {
    /// The run.
    pub run_id: String,
    /// Its segment.
    pub segment: Option<String>,
}

/// One input of a merged result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Part {
    /// The file it came from.
    pub source: String,
    /// Its segment.
    pub segment: Option<String>,
    /// How it ended.
    pub stopped_by: Option<StopReason>,
    /// Its run (absent from files written before runs had one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Its wall-clock start, seconds since the Unix epoch.
    pub started_at_unix_s: f64,
    /// Its length, s.
    pub duration_s: f64,
    /// Its requests.
    pub requests: u64,
    /// Its failed attempts.
    pub errors: u64,
    /// Its driver.
    pub driver: String,
    /// Its core ids (a merged input's: all of its parts'); absent from files written before
    /// they were recorded. The merged `cores` lists every part's in turn, so one id can be in it
    /// once per injector: these say whose each is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cores: Option<Vec<usize>>,
    /// Its cores that could not use io_uring.
    pub driver_fallbacks: Vec<String>,
}

/// A result file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultFile {
    /// The engine that wrote it.
    pub mite_engine_version: String,
    /// The file's format ([`FORMAT_VERSION`] when written by this engine).
    #[serde(default = "first_version")]
    pub format_version: u32,
    /// Scenario name.
    #[serde(default)]
    pub scenario: String,
    /// When the scenario was a file: its path as given (`--scenario`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_file: Option<String>,
    /// When the scenario was a file: [`scenario_digest`] of its text. Two results under one
    /// name with different digests ran different files, which `merge` refuses to add up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_digest: Option<String>,
    /// This run's identity, made afresh by each run (absent from merged results, which list
    /// their runs in `covers`, and from files written before runs had one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The thresholds the run was given, as written: `merge` judges them on the merged figures
    /// (rates and counts of a segment are a share of the whole).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<String>,
    /// Wall-clock start, seconds since the Unix epoch.
    #[serde(default)]
    pub started_at_unix_s: f64,
    /// Measured length, s.
    pub duration_s: f64,
    /// Why it ended.
    #[serde(default = "stopped_by_duration")]
    pub stopped_by: StopReason,
    /// Why a `completed` run completed, in words: `every volume model ended`, `single-use
    /// datapool users ran out of rows`. A merge's: its parts' when they all say the same, else
    /// each part's by its segment or file (`segment 0/2: ...; segment 1/2: ...`), also when some
    /// parts ran their duration and others completed (the merge is then `duration`). Absent
    /// for another stop and older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_because: Option<String>,
    /// Core ids.
    #[serde(default)]
    pub cores: Vec<usize>,
    /// `K/N` when one of several injectors.
    #[serde(default)]
    pub segment: Option<String>,
    /// The driver, or `mixed`.
    #[serde(default)]
    pub driver: String,
    /// The driver per core.
    #[serde(default)]
    pub drivers: Vec<String>,
    /// Why io_uring was not used, per core that fell back.
    #[serde(default)]
    pub driver_fallbacks: Vec<String>,
    /// Whether TLS certificates were verified: `false` when the run skipped verification
    /// (`--insecure`, or `insecure = true` in the scenario file), or, merged, when any input
    /// did; `None` (absent) when unknown: a file written before it was recorded, or a result
    /// the writer did not say it of (see [`tls_verified_together`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verified: Option<bool>,
    /// Totals over every transaction.
    pub totals: Totals,
    /// The injector's own delay and load.
    #[serde(default)]
    pub injector: Injector,
    /// Per transaction, by name.
    pub transactions: Vec<Transaction>,
    /// `ctx.send` counts by type.
    #[serde(default)]
    pub messages: BTreeMap<String, u64>,
    /// The first message of each error kind.
    #[serde(default)]
    pub error_samples: BTreeMap<String, String>,
    /// Progress over time.
    #[serde(default)]
    pub intervals: Vec<Interval>,
    /// The run ended without one or more of its cores (a panic outside any journey's run, a
    /// journey holding its core past the grace): the error's words; its figures lack each lost
    /// core's since its last report, and it exited 1. A merge keeps every part's, each named by
    /// its segment or file, and exits 1 as the run did. Absent when no core was lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores_lost: Option<String>,
    /// Every warning the run said on the terminal (`WARNING: ...`), in the order said, without
    /// the `WARNING: `: of its configuration (a `--config` key or `MITE_CONF_*` variable that
    /// nothing read), of the scenario against the cores (a datapool too small, an entry that
    /// runs nothing), `--insecure`, a late start, a core slow to tear down. A merge keeps each
    /// input's, once: one that not every input has is named by the segments or files that have
    /// it ([`warnings_together`]); then its own (`warning: ...` on its terminal). Absent when
    /// there was none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Merged results: the segments covered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Coverage>,
    /// Merged results: the segments that were interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted_segments: Option<Vec<String>>,
    /// Merged results: each input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<Part>>,
    /// Merged results: every run's share it stands for, its inputs' own and those they were
    /// merged from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers: Option<Vec<PartId>>,
    /// Every transaction's requests' distribution as a page draws it, drawn with the
    /// transactions' (see [`Transaction::drawn`]); not in the file.
    #[serde(skip)]
    pub drawn: Option<serde_json::Value>,
}

/// A scenario file's fingerprint: `fnv1a64:` and the 64-bit FNV-1a hash of its text in hex.
/// Not a defence against forgery, only a way to tell two files apart (the same text, byte
/// for byte, gives the same digest on every machine and every version of the engine).
pub fn scenario_digest(text: &str) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let hash = text.bytes().fold(OFFSET_BASIS, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME));
    format!("fnv1a64:{hash:016x}")
}

/// A new run's identity: 128 bits in hex, from the process's randomly keyed hasher (seeded by
/// the operating system) over the time and the process id, so that injectors started at one
/// instant in containers (each its process 1) still differ.
pub fn new_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let half = |salt: u8| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        hasher.write_u8(salt);
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(0), half(1))
}

fn stopped_by_duration() -> StopReason {
    StopReason::Duration
}

/// Reads `T` from JSON text, naming the path of a field that is missing or wrong.
fn parse<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> Result<T, ResultFileError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { String::new() } else { format!("{path}: ") };
        ResultFileError::Shape { file: file.to_string(), at, why: in_words(&e.inner().to_string()) }
    })
}

/// serde's words for what it expected (Rust types: `u64`, `struct ResultFile with 20
/// elements`), said as JSON values.
fn in_words(why: &str) -> String {
    let expected = |rest: &str| {
        if rest.starts_with("struct ") || rest.starts_with("a map") {
            "a JSON object".to_string()
        } else if ["u8", "u16", "u32", "u64", "usize"].iter().any(|t| rest.starts_with(t)) {
            "a whole number of 0 or more".to_string()
        } else if rest.starts_with("i64") || rest.starts_with("i32") {
            "a whole number".to_string()
        } else if rest.starts_with("f64") || rest.starts_with("f32") {
            "a number".to_string()
        } else {
            rest.to_string()
        }
    };
    match why.split_once("expected ") {
        Some((before, rest)) => {
            let (what, after) = rest.split_once(" at line ").map_or((rest, ""), |(w, a)| (w, a));
            let located = if after.is_empty() { String::new() } else { format!(" at line {after}") };
            format!("{before}expected {}{located}", expected(what))
        }
        None => why.to_string(),
    }
}

/// Whether a result file says so: every result of `--json` begins with it.
#[derive(Deserialize)]
struct Signed {
    mite_engine_version: Option<serde::de::IgnoredAny>,
}

/// Why `text`, JSON, is no result file at all, in the user's words (a list, a number, an
/// object without `mite_engine_version`: `[]`, `{}`, another tool's JSON), where serde would
/// say `invalid length 0, expected a JSON object` or ``missing field `mite_engine_version` ``;
/// `None` for an object that says it is one (its fields are read next).
fn not_a_result_at_all(text: &str, file: &str) -> Result<Option<String>, ResultFileError> {
    const WHAT_A_RESULT_IS: &str = "a result file of --json is a JSON object beginning with mite_engine_version";
    let first = text.trim_start().chars().next();
    if first != Some('{') {
        let what = match first {
            Some('[') => "a JSON list",
            Some('"') => "a JSON string",
            Some('t' | 'f') => "a JSON true or false",
            Some('n') => "a JSON null",
            Some('-' | '0'..='9') => "a JSON number",
            _ => return Ok(None),
        };
        // Text that is not JSON at all is said so by the parse that follows.
        if json_text::not_json(text).is_some() {
            return Ok(None);
        }
        return Ok(Some(format!("it holds {what}, where {WHAT_A_RESULT_IS}")));
    }
    match parse::<Signed>(text, file) {
        Ok(Signed { mite_engine_version: None }) => {
            Ok(Some(format!("it has no mite_engine_version (it is not a result file of --json: {WHAT_A_RESULT_IS})")))
        }
        Ok(Signed { mite_engine_version: Some(_) }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The version of a file, read before the rest so that a newer file is refused as such.
#[derive(Deserialize)]
struct Version {
    #[serde(default = "first_version")]
    format_version: u32,
}

impl ResultFile {
    /// Reads a result file's text, every histogram checked (decoded once, its count kept);
    /// `file` names it in errors.
    pub fn read(text: &str, file: &str) -> Result<ResultFile, ResultFileError> {
        let read = ResultFile::read_unchecked(text, file)?;
        read.check_histograms(file, |_, _| ())?;
        Ok(read)
    }

    /// [`ResultFile::read`] without decoding its histograms: for a reader that decodes each
    /// itself with [`Encoded::decode`], saying where one does not (`merge`, as it merges), or
    /// that checks them with [`ResultFile::check_histograms`] (a page drawing as it checks).
    pub fn read_unchecked(text: &str, file: &str) -> Result<ResultFile, ResultFileError> {
        if let Some(why) = not_a_result_at_all(text, file)? {
            return Err(ResultFileError::Shape { file: file.to_string(), at: String::new(), why });
        }
        let version: Version = parse(text, file)?;
        if version.format_version > FORMAT_VERSION {
            return Err(ResultFileError::NewerVersion { file: file.to_string(), found: version.format_version });
        }
        let shape = |at: String, why: String| ResultFileError::Shape { file: file.to_string(), at, why };
        if version.format_version == 0 {
            return Err(shape("format_version: ".into(), "0 is not a version (they start at 1)".into()));
        }
        let mut read: ResultFile = parse(text, file)?;
        if read.format_version == 1 {
            read.upgrade_from_first_version();
        }
        // A run lasts at least a millisecond (`--duration` 1ms, rounded to ms here): every rate
        // of a file with no length would be infinite or zero.
        let seconds_max = crate::limits::START_AT_UNIX_S_MAX as f64;
        if read.duration_s < 0.001 || !read.duration_s.is_finite() || read.duration_s > seconds_max {
            let why = format!("{} is not a run's length (at least 0.001 s)", seconds_shown(read.duration_s));
            return Err(shape("duration_s: ".into(), why));
        }
        // 0: a start not known (older files); else a time between 1970 and the year 9999.
        if !(0.0..=seconds_max).contains(&read.started_at_unix_s) {
            let why = format!("{} is not a start time (seconds since 1970)", seconds_shown(read.started_at_unix_s));
            return Err(shape("started_at_unix_s: ".into(), why));
        }
        if let Some((at, segment)) = segments(&read).find(|(_, s)| !is_segment(s)) {
            let why = format!("{segment:?} is not a segment (K/N, K below N)");
            return Err(shape(format!("{at}: "), why));
        }
        // `compare` and `merge` both match transactions by name.
        let mut names = std::collections::BTreeSet::new();
        if let Some((index, txn)) = read.transactions.iter().enumerate().find(|(_, t)| !names.insert(t.name.as_str())) {
            let name = txn.name.clone();
            return Err(ResultFileError::DuplicateTransaction { file: file.to_string(), index, name });
        }
        consistency::check_transactions(&read, file)?;
        consistency::check_intervals(&read, file)?;
        Ok(read)
    }

    /// Decodes every histogram once (its count kept), an error naming the first that does not
    /// decode; each transaction's four that a page draws are handed to `each` with its index,
    /// then dropped: no two transactions' histograms are held at once.
    pub fn check_histograms(&self, file: &str, mut each: impl FnMut(usize, Drawn)) -> Result<(), ResultFileError> {
        let decode = |h: &Encoded, at: &dyn std::fmt::Display| {
            h.decode().map_err(|e| ResultFileError::Shape {
                file: file.to_string(),
                at: format!("{at}: "),
                why: e.to_string(),
            })
        };
        for (index, txn) in self.transactions.iter().enumerate() {
            let Some(raw) = &txn.raw else { continue };
            let at = |field: &'static str| format!("transactions[{index}].raw.{field}");
            let drawn = Drawn {
                txn_us: decode(&raw.txn_us, &at("txn_us"))?,
                req_us: decode(&raw.req_us, &at("req_us"))?,
                txn_us_corrected: decode(&raw.txn_us_corrected, &at("txn_us_corrected"))?,
                req_us_corrected: decode(&raw.req_us_corrected, &at("req_us_corrected"))?,
            };
            if let Some(http) = &raw.http {
                let phases = [(&http.dns, "http.dns"), (&http.connect, "http.connect"), (&http.tls, "http.tls")];
                for (h, field) in phases.into_iter().chain([(&http.first_byte, "http.first_byte")]) {
                    decode(h, &at(field))?;
                }
            }
            if let Some(ws) = &raw.ws {
                decode(&ws.reply_us, &at("ws.reply_us"))?;
            }
            each(index, drawn);
        }
        if let Some(raw) = &self.injector.raw {
            decode(&raw.lag_us, &"injector.raw.lag_us")?;
        }
        Ok(())
    }

    /// The file as pretty JSON (what `--json FILE` writes).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a result file always serializes")
    }

    /// The file as one line of JSON (what a log frame carries).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a result file always serializes")
    }

    /// As a JSON value (for the pages' data).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a result file always serializes")
    }
}

pub use convert::{
    arrivals_window_s, read_run, read_run_untimed, result_file, result_file_of, transaction, transaction_counts,
    transaction_stats,
};

/// The warnings of each input (a label, such as `segment 1/2` or its file, and its warnings)
/// for a merged result: each once, in the order first met, a warning that not every input
/// has preceded by the labels of those that have it (`segment 1/2, segment 2/2: ...`).
pub fn warnings_together<'a>(inputs: impl IntoIterator<Item = (String, &'a [String])>) -> Vec<String> {
    let mut had: Vec<(&str, Vec<String>)> = Vec::new();
    let mut count = 0;
    for (label, warnings) in inputs {
        count += 1;
        for warning in warnings {
            match had.iter_mut().find(|(said, _)| *said == warning.as_str()) {
                Some((_, labels)) if labels.last() != Some(&label) => labels.push(label.clone()),
                Some(_) => {}
                None => had.push((warning, vec![label.clone()])),
            }
        }
    }
    had.into_iter()
        .map(|(warning, labels)| match labels.len() == count {
            true => warning.to_string(),
            false => format!("{}: {warning}", labels.join(", ")),
        })
        .collect()
}

/// What merged results say of TLS verification: `false` when any input skipped it, `true` when
/// every input verified, unknown (`None`) otherwise.
pub fn tls_verified_together(inputs: impl IntoIterator<Item = Option<bool>>) -> Option<bool> {
    let mut together = Some(true);
    for input in inputs {
        match input {
            Some(false) => return Some(false),
            Some(true) => {}
            None => together = None,
        }
    }
    together
}

/// Seconds as read, in exponent form when too long to read in digits (`1e308`, not 309 digits).
fn seconds_shown(seconds: f64) -> String {
    if seconds.abs() < 1e12 { format!("{seconds}") } else { format!("{seconds:e}") }
}

/// Every segment a file names, with where: its own, and a merged file's parts', runs'
/// (`covers`) and interrupted ones (each counts in `merge`'s coverage).
fn segments(read: &ResultFile) -> impl Iterator<Item = (String, &str)> {
    let own = read.segment.as_deref().map(|s| ("segment".to_string(), s));
    let parts = read.parts.iter().flatten().enumerate();
    let parts = parts.filter_map(|(i, p)| Some((format!("parts[{i}].segment"), p.segment.as_deref()?)));
    let covers = read.covers.iter().flatten().enumerate();
    let covers = covers.filter_map(|(i, p)| Some((format!("covers[{i}].segment"), p.segment.as_deref()?)));
    let interrupted = read.interrupted_segments.iter().flatten().enumerate();
    let interrupted = interrupted.map(|(i, s)| (format!("interrupted_segments[{i}]"), s.as_str()));
    own.into_iter().chain(parts).chain(covers).chain(interrupted)
}

/// Whether `text` is a segment `K/N` with `K` below `N`, written as the engine writes it
/// (`01/2` or `+1/2` would be another part's name for segment 1/2).
fn is_segment(text: &str) -> bool {
    let Some((k, n)) = text.split_once('/') else { return false };
    matches!((k.parse::<u64>(), n.parse::<u64>()), (Ok(k), Ok(n)) if k < n && text == format!("{k}/{n}"))
}

#[cfg(test)]
mod words {
    use super::*;

    #[test]
    fn serde_types_are_said_as_json_values() {
        let err = ResultFile::read(r#"{"mite_engine_version": "0", "format_version": "x"}"#, "a.json")
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("expected a whole number of 0 or more at line 1 column 50"), "{err}");
        assert_eq!(
            in_words("invalid type: string \"x\", expected f64"),
            "invalid type: string \"x\", expected a number"
        );
        assert_eq!(in_words("missing field `duration_s`"), "missing field `duration_s`");
    }

    /// `[]`, `{}`, another tool's JSON: said as what the file is and lacks, naming it (serde
    /// said `invalid length 0, expected a JSON object`, ``missing field `mite_engine_version` ``).
    #[test]
    fn json_that_is_no_result_is_said_in_words() {
        let said = |text: &str| ResultFile::read(text, "a.json").unwrap_err().to_string();
        let object = "a result file of --json is a JSON object beginning with mite_engine_version";
        let no_version = format!(
            "a.json is not a mite-engine result: it has no mite_engine_version (it is not a result file of --json: \
             {object})"
        );
        assert_eq!(said("{}"), no_version);
        assert_eq!(said(r#" {"hello": 1, "totals": {}}"#), no_version);
        assert_eq!(said("[]"), format!("a.json is not a mite-engine result: it holds a JSON list, where {object}"));
        assert_eq!(said("[{}]"), format!("a.json is not a mite-engine result: it holds a JSON list, where {object}"));
        assert_eq!(said("12"), format!("a.json is not a mite-engine result: it holds a JSON number, where {object}"));
        assert_eq!(said("null"), format!("a.json is not a mite-engine result: it holds a JSON null, where {object}"));
        assert!(!said("[").contains("it holds"), "text that is not JSON is said as such: {}", said("["));
        let err = said(r#"{"mite_engine_version": "0"}"#);
        assert!(err.contains("missing field `duration_s`"), "a result's own fields are still named: {err}");
    }

    #[test]
    fn run_ids_differ() {
        let (a, b) = (new_run_id(), new_run_id());
        assert_ne!(a, b);
        assert!(a.len() == 32 && a.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
    }
}

mod consistency;
pub(crate) mod convert;
mod json_text;

pub use json_text::not_json;
mod upgrade;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod no_data_tests;
