//! Every bound the engine enforces, in one place, with units in the names.

use std::time::Duration;

/// Most executor threads (cores) one process runs (`--cores`).
pub const CORES_MAX: usize = 1024;
/// Interval between volume-model ticks and stats snapshots.
pub const TICK_DEFAULT: Duration = Duration::from_secs(1);
/// Shortest tick accepted: every tick sends a snapshot per core and prints a progress line.
pub const TICK_MIN: Duration = Duration::from_millis(10);
/// The grid io_uring cores' timers ring on: a deadline fires at the first grid time at or
/// after it (the epoll driver's timers on the first millisecond tick). Deadlines within one
/// step share one wake: at most 20,000 a second per core, whatever the arrival rate.
pub const TIMER_RESOLUTION: Duration = Duration::from_micros(50);
/// Snapshots queued to the stats thread before a core waits (per core).
pub const STATS_QUEUE_PER_CORE: usize = 64;
/// Histogram values (8-byte bucket and count pairs) an interval keeps in the snapshots it has
/// received before adding them: adding many cores' values together, a transaction at a time,
/// keeps its histograms in cache (see `stats::interval`). Bounds what an interval waiting on a
/// late core holds (128 MiB).
pub const STATS_WAITING_VALUES_MAX: usize = 1 << 24;
/// Journeys in flight per core per scenario entry: a model asking for more is refused before
/// the run. Each journey keeps its task and, between requests, its connection (about 12 KiB
/// idle, see benches/README.md), so 100,000 is about 1.2 GiB per core.
pub const JOURNEYS_PER_CORE_MAX: u64 = 100_000;
/// Submission-queue entries of each core's io_uring ring.
pub const URING_ENTRIES: u32 = 1024;
/// Open model: intended start times one core queues for an entry at least, before more are
/// counted as missed.
pub const ARRIVAL_QUEUE_PER_CORE_MIN: usize = 1024;
/// Open model: intended start times queued per journey slot the entry may use on a core (when
/// that is more than `ARRIVAL_QUEUE_PER_CORE_MIN`).
pub const ARRIVAL_QUEUE_PER_SLOT: usize = 16;
/// How often a core (and an arrival scheduler) looks at the stop flag and whether its entries
/// are done, at least.
pub const CORE_POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How often a stopping core looks whether its journeys in flight have finished.
pub const GRACE_POLL_INTERVAL: Duration = Duration::from_millis(5);
/// A core this long past when its report was due (an interval's end, or the end of the grace)
/// is named in a progress note: its thread is held, and the progress waits for it.
pub const CORE_SILENT_NOTE_AFTER: Duration = Duration::from_secs(2);
/// How long past when its report was due (an interval's end, or the end of the grace) a run
/// waits for a silent core (a journey that never yields, a thread blocked): then the run ends
/// without it, with an error naming it, and the result holds what every core reported.
pub const CORE_HELD_MAX: Duration = Duration::from_secs(10);
/// The longest a run waits, after its last core stopped, for the core threads to drop their
/// tasks, connections and rings (the results are complete by then).
pub const CORE_TEARDOWN_MAX: Duration = Duration::from_secs(2);
/// TLS sessions one core keeps for resumption (each core has its own cache: no lock).
pub const TLS_SESSIONS_PER_CORE: usize = 256;
/// Connections one core keeps open to one host, at most (`--max-connections` above it is refused).
pub const CONNECTIONS_PER_HOST_PER_CORE_MAX: usize = 65_536;
/// Header fields one response head may have, at most (`--max-headers` or `[client]
/// max_headers` above it is refused): the codec's parser slots.
pub const RESPONSE_HEADERS_MAX: usize = mite_codec::limits::HEADERS_COUNT_CEILING;
/// Largest response head (a WebSocket 101's too) the client may be allowed, in bytes
/// (`--max-head-bytes` above it is refused): what one connection's read buffer may grow to.
pub const RESPONSE_HEAD_BYTES_MAX: usize = mite_codec::limits::HEAD_BYTES_CEILING;
/// The response parser's limits and their one rule ([`mite_codec::Limits::check`]), which the
/// flags that set them are checked through.
pub use mite_codec::limits::{Limits as ResponseLimits, LimitsError as ResponseLimitsError};
/// Connections one core keeps open to one host unless `--max-connections` says otherwise.
pub const CONNECTIONS_PER_HOST_PER_CORE_DEFAULT: usize = 10_000;
/// Read buffer lent to a connection for one exchange; it grows for large heads.
pub const READ_BUFFER_BYTES: usize = 16 * 1024;
/// A read buffer grown past this (a large response head) is freed after its exchange instead
/// of going back to the core's spare buffers.
pub const READ_BUFFER_KEPT_BYTES_MAX: usize = 4 * READ_BUFFER_BYTES;
/// Request buffer lent to a connection for one exchange; it grows for large requests.
pub const WRITE_BUFFER_BYTES: usize = 1024;
/// A plain request up to this size is written and its answer's first read made together on
/// io_uring (one wake of the journey per request, not two): far below the smallest send buffer
/// a socket has (4.6 KiB), so that a socket with nothing queued takes it whole.
pub const REQUEST_READ_TOGETHER_BYTES_MAX: usize = 2 * 1024;
/// Spare buffer sets (read, write, body) one core keeps for the next exchanges; idle
/// keep-alive connections hold none. Bounds the spare memory at about 68 MiB per core.
pub const CONN_BUFFERS_POOLED_PER_CORE_MAX: usize = 4096;
/// How long a graceful stop waits for journeys in flight before counting them as cancelled.
pub const STOP_GRACE_DEFAULT: Duration = Duration::from_secs(5);
/// Default connect timeout.
pub const CONNECT_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
/// Times one request goes on another connection after a pooled one it was written to turned
/// out let go by the server: closed or reset with nothing answered (idempotent requests), or
/// holding a `408 Request Timeout` for the idle connection and its close (any request). A
/// server that lets its keep-alive connections go as requests come does it to each pooled one
/// a request takes; a new connection ends the tries.
pub const POOLED_RETRIES_MAX: u8 = 8;
/// Default timeout for one request: from writing it to reading the last body byte.
pub const REQUEST_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// A keep-alive connection idle this long is peeked at (a non-blocking `recv`, nothing taken)
/// before a request reuses it, and replaced if the server closed it or sent bytes nobody asked
/// for meanwhile (a late body after a `HEAD` or `304` head, a second answer): read as the
/// request's answer, they would be wrong. Connections reused sooner (a load test without
/// pauses) skip the system call.
pub const IDLE_PEEK_AFTER: Duration = Duration::from_millis(10);
/// Idle keep-alive connections older than this are closed rather than reused.
pub const IDLE_TIMEOUT_DEFAULT: Duration = Duration::from_secs(60);
/// Run length when neither the CLI nor the volume models give one.
pub const DURATION_DEFAULT: Duration = Duration::from_secs(30);
/// Longest run accepted.
pub const DURATION_MAX: Duration = Duration::from_secs(7 * 24 * 3600);
/// Result JSON carried by one line of a `--json=-` frame: well under the 16 KiB at which
/// container runtimes split a log line into partial entries (which another stream can split).
pub const RESULT_FRAME_CHUNK_BYTES: usize = 4 * 1024;
/// Lines one result frame may have when read back (1 GiB of result at most).
pub const RESULT_FRAME_LINES_MAX: usize = 256 * 1024;
/// Highest latency a histogram records (larger values are clamped to it), in microseconds.
pub const LATENCY_US_MAX: u64 = 3_600_000_000;
/// Significant digits kept by every latency histogram.
pub const LATENCY_SIGFIGS: u8 = 3;
/// Distinct transaction names per core (bounds the stats tables).
pub const TRANSACTIONS_MAX: usize = 10_000;
/// How long a WebSocket close waits for the server's close frame before giving up (and
/// counting a `timeout`).
pub const WS_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Frame, message and handshake size limits of WebSocket connections.
pub const WS_LIMITS: mite_codec::ws::WsLimits = mite_codec::ws::WsLimits::DEFAULT;
/// WebSocket messages a journey test's record keeps per connection; later ones are only
/// counted (`RecordedWebSocket::messages_left_out`).
pub const WS_RECORDED_MESSAGES_PER_CONNECTION_MAX: usize = 1_000;
/// Widest captured or datapool value a journey test's trace shows whole, in terminal columns
/// (its quotes and escapes counted); a wider one loses its middle.
pub const TRACE_VALUE_COLUMNS_MAX: usize = 72;
/// Bytes of a request's body a journey test's trace shows (escaped, after its size); the rest
/// is only counted.
pub const TRACE_BODY_BYTES_MAX: usize = 200;
/// Registered names an "unknown journey/datapool/scenario" error lists when none is close.
pub const UNKNOWN_NAME_LISTED_MAX: usize = 8;
/// Longest text message whose text a journey test's record (and trace) keeps, in bytes;
/// longer ones keep their length only.
pub const WS_RECORDED_TEXT_BYTES_MAX: usize = 256;
/// Messages from `ctx.send` kept for the journey-test trace.
pub const MESSAGE_TYPES_MAX: usize = 1_000;
/// Redirects one request follows unless it says otherwise (Mite's `max_redirects`).
pub const REDIRECTS_DEFAULT: u8 = 5;
/// Most redirects a request may be allowed to follow.
pub const REDIRECTS_MAX: u8 = 50;
/// Cookies one journey run's jar keeps (the oldest go first).
pub const COOKIES_PER_JAR_MAX: usize = 300;
/// Largest cookie name plus value kept, in bytes (RFC 6265bis: 4096).
pub const COOKIE_BYTES_MAX: usize = 4096;
/// Longest `Set-Cookie` field a journey test's trace quotes whole, in bytes; a longer one is cut
/// there and its length said.
pub const COOKIE_TRACED_BYTES_MAX: usize = 256;
/// Names and values one journey run's jar keeps in all, in bytes (bounds the `Cookie` field,
/// and with it every connection's write buffer, whatever a server sets).
pub const COOKIE_JAR_BYTES_MAX: usize = 64 * 1024;
/// Transactions whose percentiles the reports keep per interval (the first names in order).
pub const TIMELINE_TRANSACTIONS_MAX: usize = 50;
/// Bytes of an HTTP request the live views (dashboard, metrics) read (they only serve `GET`s).
pub const LIVE_REQUEST_BYTES_MAX: usize = 4096;
/// Connections each live view (dashboard, metrics) serves at once, a thread each; past it a
/// connection is answered `503` at once and closed.
pub const LIVE_CONNECTIONS_MAX: usize = 64;
/// How long a live view waits for a request's head; a client silent that long is closed.
pub const LIVE_REQUEST_WAIT: Duration = Duration::from_secs(2);
/// How long a live view gives a client to take its answer, however slowly it reads.
pub const LIVE_ANSWER_WAIT: Duration = Duration::from_secs(5);
/// How long a live view keeps a connection it refused (answered `503`) open before closing it,
/// so that the client's request, arriving after the answer, does not reset the connection.
pub const LIVE_REFUSED_HELD: Duration = Duration::from_secs(1);
/// Per-transaction interval percentiles a run keeps for its report, all intervals together;
/// past it every other interval's are dropped (the over-time charts get coarser, not longer).
pub const TIMELINE_TXN_POINTS_MAX: usize = 200_000;
/// Intervals the live dashboard sends each update (the most recent); the final report has all.
pub const DASHBOARD_INTERVALS_MAX: usize = 3_600;
/// Distinct status codes counted one by one per transaction (more are still counted by class).
pub const STATUS_CODES_MAX: usize = 64;
/// Resolver threads per process (name lookups never run on a core thread).
pub const DNS_RESOLVER_THREADS: usize = 4;
/// Lookups queued to the resolver threads at most; more fail at once as `dns` errors.
pub const DNS_QUEUE_MAX: usize = 1024;
/// How long a core keeps a resolved host's addresses before looking it up again.
pub const DNS_TTL: Duration = Duration::from_secs(60);
/// How long an address of a host that refused a connect is tried after the host's other
/// addresses, by every new connection of that core (it goes back in turn sooner if it takes
/// one): a name whose first address has no listener costs a refused connect once a minute,
/// not once per connection.
pub const REFUSED_ADDRESS_LAST_FOR: Duration = Duration::from_secs(60);
/// How long a core remembers a failed lookup (requests to the host fail at once meanwhile).
pub const DNS_NEGATIVE_TTL: Duration = Duration::from_secs(5);
/// Longest pause between two looks at a lookup's mailbox (the first is 1 ms, then doubling).
pub const DNS_POLL_MAX: Duration = Duration::from_millis(10);
/// A journey that fails within this time of starting, with nothing reaching a server (a
/// refused connect, a cached DNS failure, a URL that does not parse) or without waiting on
/// anything, "failed at once": its slot backs off before the next one.
pub const IMMEDIATE_FAILURE: Duration = Duration::from_millis(1);
/// Bytes of a journey's panic message kept for the run's figures (where it was raised is
/// added); longer ones are cut.
pub const PANIC_MESSAGE_BYTES_MAX: usize = 240;
/// First pause of a journey slot after a journey failed at once; it doubles with every further
/// immediate failure, and goes back to none after any other outcome.
pub const FAILURE_BACKOFF_MIN: Duration = Duration::from_millis(1);
/// Longest pause of a journey slot after journeys that fail at once.
pub const FAILURE_BACKOFF_MAX: Duration = Duration::from_millis(100);
/// Largest counter (a count, a sum of µs or bytes) a result file may hold: 2^49, about 5.6e14,
/// far beyond any run, and small enough that adding `MERGE_FILES_MAX` files' counters, and a
/// transaction's counters together, cannot overflow. A file holding more was not written by a run.
pub const RESULT_COUNT_MAX: u64 = 1 << 49;
/// Result files `merge` takes at most.
pub const MERGE_FILES_MAX: usize = 1024;
/// Largest result file (or log holding one) `merge` and `compare` read: far above any run's
/// (a histogram is a few KiB), and a bound on what `merge /dev/zero` can take.
pub const RESULT_FILE_BYTES_MAX: u64 = 1 << 30;
/// Journey starts per second one core is asked to schedule at most (arrival-rate models:
/// the peak rate over cores × segments above it is refused).
pub const ARRIVALS_PER_S_PER_CORE_MAX: f64 = 2_000_000.0;
/// The smallest arrival rate above zero, per second (one start every ~11.6 days): below it the
/// gap between two starts would not fit a timer.
pub const ARRIVALS_PER_S_MIN: f64 = 1e-6;
/// Journeys in flight at most, all cores together, for an arrival-rate model that does not
/// give `max_in_flight`.
pub const ARRIVALS_IN_FLIGHT_DEFAULT: u64 = 1000;
/// Rows a datapool may hold, from a CSV file or a `range` (bounds memory: a pool is loaded
/// once and partitioned).
pub const DATAPOOL_ROWS_MAX: usize = 50_000_000;
/// Bytes one line of a CSV datapool file may hold: the reader keeps a record whole, so a file
/// that is not CSV (one without line breaks, `/dev/zero`) would otherwise fill the memory.
pub const CSV_LINE_BYTES_MAX: u64 = 1024 * 1024;
/// Longest duration a scenario file or a duration flag may write (`think`, `pace`, volume
/// durations, timeouts): 30 days.
pub const DURATION_WRITTEN_MAX: Duration = Duration::from_secs(30 * 24 * 3600);
/// Most repetitions of a declarative WebSocket journey's steps on one connection (`repeat`).
pub const WS_REPEATS_MAX: u32 = 1_000_000;
/// Most messages one `receive = N` step of a declarative WebSocket journey waits for.
pub const WS_RECEIVE_MESSAGES_MAX: u32 = 1_000_000;
/// Most execution segments (`--segment K/N`, `--segments N`).
pub const SEGMENTS_MAX: usize = 100_000;
/// How far ahead `--start-at` may be (a later time is a typo more often than a plan).
pub const START_AT_AHEAD_MAX: Duration = Duration::from_secs(24 * 3600);
/// How far in the past `--start-at` may be: a start passed by less starts at once, late (a pod
/// scheduled late); one older is a typo (a year, a digit), refused.
pub const START_AT_BEHIND_MAX: Duration = Duration::from_secs(24 * 3600);
/// The latest `--start-at` accepted: 9999-12-31T23:59:59Z, in Unix seconds.
pub const START_AT_UNIX_S_MAX: u64 = 253_402_300_799;

/// URLs a core keeps parsed (the last ones it sent to), so that sending one again costs a
/// compare of its bytes rather than a parse (see `http::url`).
pub const URLS_PARSED_KEPT: usize = 4;
/// Longest URL a core keeps parsed, bytes (longer ones are parsed every time).
pub const URL_PARSED_KEPT_BYTES_MAX: usize = 256;

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn rust_files(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("limits.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // The code, not its tests or comments: a limit only they name bounds nothing.
                let code = &text[..text.find("#[cfg(test)]").unwrap_or(text.len())];
                out.extend(code.lines().filter(|l| !l.trim_start().starts_with("//")).map(str::to_string));
            }
        }
    }

    /// Every limit bounds something: the library's or the CLI's code names it.
    #[test]
    fn every_limit_is_used_by_code() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut code = Vec::new();
        rust_files(&root.join("src"), &mut code);
        rust_files(&root.join("../cli/src"), &mut code);
        let names: Vec<&str> = include_str!("limits.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("pub const "))
            .filter_map(|rest| rest.split(':').next())
            .collect();
        assert!(names.len() > 40, "{names:?}");
        for name in names {
            let used = code.iter().any(|text| {
                text.match_indices(name).any(|(at, _)| {
                    let after = text[at + name.len()..].chars().next().unwrap_or(' ');
                    let before = text[..at].chars().next_back().unwrap_or(' ');
                    !(after.is_alphanumeric() || after == '_' || before.is_alphanumeric() || before == '_')
                })
            });
            assert!(used, "limits::{name} bounds nothing: no code outside tests names it");
        }
    }
}
