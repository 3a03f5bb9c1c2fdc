//! Every bound the engine enforces, in one place, with units in the names.

use std::time::Duration;

/// Most executor threads (cores) one process runs.
pub const CORES_MAX: usize = 1024;
/// Interval between volume-model ticks and stats snapshots.
pub const TICK_DEFAULT: Duration = Duration::from_secs(1);
/// Shortest tick accepted: every tick sends a snapshot per core and prints a progress line.
pub const TICK_MIN: Duration = Duration::from_millis(10);
/// Snapshots queued to the stats thread before a core waits (per core).
pub const STATS_QUEUE_PER_CORE: usize = 64;
/// Journeys in flight per core per scenario entry.
pub const JOURNEYS_PER_CORE_MAX: u64 = 1_000_000;
/// Connections one core keeps open to one host, at most (`--max-connections` above it is refused).
pub const CONNECTIONS_PER_HOST_PER_CORE_MAX: usize = 65_536;
/// Connections one core keeps open to one host unless `--max-connections` says otherwise.
pub const CONNECTIONS_PER_HOST_PER_CORE_DEFAULT: usize = 10_000;
/// Read buffer kept per connection; it grows for large heads and shrinks back.
pub const READ_BUFFER_BYTES: usize = 16 * 1024;
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
/// Resolver threads per process (name lookups never run on a core thread).
pub const DNS_RESOLVER_THREADS: usize = 4;
/// Lookups queued to the resolver threads at most; more fail at once as `dns` errors.
pub const DNS_QUEUE_MAX: usize = 1024;
/// How long a core keeps a resolved host's addresses before looking it up again.
pub const DNS_TTL: Duration = Duration::from_secs(60);
/// How long a core remembers a failed lookup (requests to the host fail at once meanwhile).
pub const DNS_NEGATIVE_TTL: Duration = Duration::from_secs(5);
/// Longest pause between two looks at a lookup's mailbox (the first is 1 ms, then doubling).
pub const DNS_POLL_MAX: Duration = Duration::from_millis(10);
/// A journey that fails within this time of starting, with nothing reaching a server (a
/// refused connect, a cached DNS failure, a URL that does not parse) or without waiting on
/// anything, "failed at once": its slot backs off before the next one.
pub const IMMEDIATE_FAILURE: Duration = Duration::from_millis(1);
/// First pause of a journey slot after a journey failed at once; it doubles with every further
/// immediate failure, and goes back to none after any other outcome.
pub const FAILURE_BACKOFF_MIN: Duration = Duration::from_millis(1);
/// Longest pause of a journey slot after journeys that fail at once.
pub const FAILURE_BACKOFF_MAX: Duration = Duration::from_millis(100);
