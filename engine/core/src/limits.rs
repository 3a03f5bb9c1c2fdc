//! Every bound the engine enforces, in one place, with units in the names.

use std::time::Duration;

/// Most executor threads (cores) one process runs.
pub const CORES_MAX: usize = 1024;
/// Interval between volume-model ticks and stats snapshots.
pub const TICK_DEFAULT: Duration = Duration::from_secs(1);
/// Snapshots queued to the stats thread before a core waits (per core).
pub const STATS_QUEUE_PER_CORE: usize = 64;
/// Journeys in flight per core per scenario entry.
pub const JOURNEYS_PER_CORE_MAX: u64 = 1_000_000;
/// Connections one core keeps open to one host.
pub const CONNECTIONS_PER_HOST_PER_CORE_MAX: usize = 65_536;
/// Read buffer lent to a connection for one exchange; it grows for large heads.
pub const READ_BUFFER_BYTES: usize = 16 * 1024;
/// A read buffer grown past this (a large response head) is freed after its exchange instead
/// of going back to the core's spare buffers.
pub const READ_BUFFER_KEPT_BYTES_MAX: usize = 4 * READ_BUFFER_BYTES;
/// Request buffer lent to a connection for one exchange; it grows for large requests.
pub const WRITE_BUFFER_BYTES: usize = 1024;
/// Spare buffer sets (read, write, body) one core keeps for the next exchanges; idle
/// keep-alive connections hold none. Bounds the spare memory at about 68 MiB per core.
pub const CONN_BUFFERS_POOLED_PER_CORE_MAX: usize = 4096;
/// How long a graceful stop waits for journeys in flight before counting them as cancelled.
pub const STOP_GRACE_DEFAULT: Duration = Duration::from_secs(5);
/// Default connect timeout.
pub const CONNECT_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
/// Default timeout for one request: from writing it to reading the last body byte.
pub const REQUEST_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// Idle keep-alive connections older than this are closed rather than reused.
pub const IDLE_TIMEOUT_DEFAULT: Duration = Duration::from_secs(60);
/// Run length when neither the CLI nor the volume models give one.
pub const DURATION_DEFAULT: Duration = Duration::from_secs(30);
/// Longest run accepted.
pub const DURATION_MAX: Duration = Duration::from_secs(7 * 24 * 3600);
/// Highest latency a histogram records (larger values are clamped to it), in microseconds.
pub const LATENCY_US_MAX: u64 = 3_600_000_000;
/// Significant digits kept by every latency histogram.
pub const LATENCY_SIGFIGS: u8 = 3;
/// Distinct transaction names per core (bounds the stats tables).
pub const TRANSACTIONS_MAX: usize = 10_000;
/// Messages from `ctx.send` kept for the journey-test trace.
pub const MESSAGE_TYPES_MAX: usize = 1_000;
