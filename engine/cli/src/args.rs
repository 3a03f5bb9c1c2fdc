//! Command-line flags (clap), and the parsers for durations and `--cores`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Thread-per-core HTTP load injection with Mite's journeys, datapools and volume models.
#[derive(Parser, Debug)]
#[command(name = "mite-engine", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a journey once per datapool row, printing every transaction and request.
    Journey {
        #[command(subcommand)]
        action: JourneyAction,
    },
    /// Scenario tools.
    Scenario {
        #[command(subcommand)]
        action: ScenarioAction,
    },
    /// Convert a browser recording (HAR) into a scenario file.
    Har {
        #[command(subcommand)]
        action: HarAction,
    },
    /// Start the embedded local target and run the HTTP example against it.
    Demo(DemoArgs),
    /// List registered journeys, datapools and scenarios.
    List,
    /// Compare result files transaction by transaction against the first; exit 4 on a regression.
    Compare {
        /// The baseline result (--json output), then one or more results to compare with it.
        #[arg(required = true, num_args = 2.., value_name = "RESULT")]
        results: Vec<PathBuf>,
        /// Largest tolerated regression, percent: latency p50/p99/p99.9 up, rate down (and error
        /// rate up, in percentage points).
        #[arg(long, default_value = "5%")]
        max_regression: String,
        /// Write a comparison page (overlaid percentile spectra, the table with differences).
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Merge result files of side-by-side runs (segments, injectors) losslessly.
    Merge {
        /// Result files (--json output).
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// Where to write the merged result.
        #[arg(short, long)]
        output: PathBuf,
        /// Write a page of the merged result with each input's (segment's) figures beside it.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Write a new crate for your own journeys (Cargo.toml, src/main.rs, a journey, a datapool,
    /// a scenario, a scenario file, a test) into DIR, which must be empty or absent.
    New {
        /// Directory to create the crate in.
        dir: PathBuf,
        /// Depend on the engine checkout at PATH (a path dependency) instead of its released
        /// version.
        #[arg(long, value_name = "PATH")]
        engine_path: Option<PathBuf>,
    },
    /// Start the local target server from tools/ (the one the demo and the tests use), until
    /// Ctrl-C.
    Target {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Server threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum JourneyAction {
    /// Run JOURNEY once per row of DATAPOOL (or once, without one).
    Test {
        /// Journey name, e.g. mite_example:journey.
        journey: String,
        /// Datapool name, e.g. mite_example:datapool.
        datapool: Option<String>,
        /// Rows to run (0 = every row).
        #[arg(long, default_value_t = 10)]
        rows: usize,
        /// Take journeys and datapools (and config) from this scenario file too.
        #[arg(long)]
        scenario: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Run JOURNEY once (with the first row of DATAPOOL) through the engine, as a load run does
    /// (results, JSON, phases), then stop: Mite's `journey run`.
    Run {
        /// Journey name, e.g. login_example:journey.
        journey: String,
        /// Datapool name, e.g. login_example:users.
        datapool: Option<String>,
        /// Take journeys and datapools (and config) from this scenario file too.
        #[arg(long)]
        scenario: Option<String>,
        /// Write the result file.
        #[arg(long)]
        json: Option<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum HarAction {
    /// Write a scenario file with one declarative journey from FILE.har.
    Convert {
        /// The HAR file.
        har: PathBuf,
        /// Where to write the scenario file.
        #[arg(short, long)]
        output: PathBuf,
        /// Keep only requests to this host (repeatable; default all).
        #[arg(long)]
        host: Vec<String>,
        /// Keep stylesheets, scripts, images and fonts.
        #[arg(long)]
        keep_static: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ScenarioAction {
    /// Run a scenario briefly on one core and print its results.
    Test {
        /// Scenario: a registered name (mite_example:scenario) or a TOML file.
        scenario: String,
        /// How long to run.
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        duration: Duration,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Validate a scenario file (or registered scenario) without running it.
    Check {
        /// Scenario file or registered name.
        scenario: String,
        /// Configuration override key=value (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
    },
}

/// Flags shared by every command that sends requests.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Configuration override key=value (repeatable); wins over MITE_CONF_<key>.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// I/O driver: auto (io_uring, falling back to epoll), io_uring, or epoll.
    #[arg(long, default_value = "auto")]
    pub driver: String,
    /// TCP connect (and TLS handshake) timeout [default: 10s, or the scenario file's].
    #[arg(long, value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// Timeout for one request, from sending it to the last byte of the response
    /// [default: 30s, or the scenario file's].
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Connections one core may open to one host [default: 10000, or the scenario file's].
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// PEM file of extra CA certificates to trust.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Do not verify TLS certificates (prints a warning).
    #[arg(long)]
    pub insecure: bool,
    /// Client certificate chain (PEM) for mutual TLS [default: the scenario file's].
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// Also print where request time went, per transaction: dns, connect, tls, first byte, total.
    #[arg(long)]
    pub phases: bool,
}

/// The main job: `mite-engine --cores N --scenario S`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Cores: a count (first N usable cores) or a list such as 0,2-5.
    #[arg(long, default_value = "1")]
    pub cores: String,
    /// Scenario to run: a registered module:name, or a TOML scenario file.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Run length (e.g. 30s, 5m); default: the scenario file's, else the volume models' own
    /// length, else 30s.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    #[command(flatten)]
    pub outputs: OutputArgs,
    /// This injector's execution segment K/N (also MITE_SEGMENT); runs share K of N.
    #[arg(long, env = "MITE_SEGMENT")]
    pub segment: Option<String>,
    /// Number of segments when K comes from Kubernetes' JOB_COMPLETION_INDEX.
    #[arg(long)]
    pub segments: Option<usize>,
    /// Start at this time (RFC 3339 UTC like 2026-11-24T22:00:00Z, or Unix seconds).
    #[arg(long)]
    pub start_at: Option<String>,
    /// Volume-model tick and progress interval.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub tick: Duration,
    /// How long journeys in flight may finish after the stop; then they count as cancelled.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub grace: Duration,
    /// Do not pin executor threads to cores.
    #[arg(long)]
    pub no_pin: bool,
    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Where a run's results go and how they are judged (a run and the demo take the same).
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Write the result as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Pass/fail check at the end, repeatable: 'get_root:p99<250ms', 'errors<1%', 'rps>10000'.
    /// A failed threshold exits with 3.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// Write an HDR interval log (one tag per transaction).
    #[arg(long)]
    pub hdr_log: Option<PathBuf>,
    /// Write a self-contained HTML report.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9100).
    #[arg(long)]
    pub prometheus: Option<std::net::SocketAddr>,
    /// Keep serving the final metrics this long after the run.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub prometheus_linger: Duration,
    /// Serve a live dashboard on this address (e.g. 127.0.0.1:8089), updated every interval.
    #[arg(long)]
    pub dashboard: Option<std::net::SocketAddr>,
    /// Keep serving the final report on the dashboard this long after the run.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub dashboard_linger: Duration,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run length.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub duration: Duration,
    #[command(flatten)]
    pub outputs: OutputArgs,
    /// Injector cores (the target runs on a core outside them when there is one).
    #[arg(long, default_value = "1")]
    pub cores: String,
    /// Journeys (connections) in flight.
    #[arg(long, default_value_t = 64)]
    pub journeys: u64,
    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Parses `500ms`, `30s`, `5m`, `2h` (a unit is required).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    mite_core::scenario::file::parse_duration(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        // A bare number means nothing certain (seconds? milliseconds?): it is refused, with the
        // forms to write instead, as thresholds refuse it.
        assert!(parse_duration("5").unwrap_err().contains("write 5s, 5ms or 5m"));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("5 parsecs").unwrap_err().contains("unknown unit"));
    }
}
