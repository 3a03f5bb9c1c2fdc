//! Command-line flags (clap), and the value parsers that turn each flag's text into its type
//! (durations, `--cores`, `--driver`, `--segment`, `--start-at`, percentages) with errors that
//! name the flag and the value.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use mite_core::DriverChoice;
use mite_core::limits::{
    CONNECTIONS_PER_HOST_PER_CORE_MAX, CORES_MAX, JOURNEYS_PER_CORE_MAX, RESPONSE_HEADERS_MAX, ResponseLimits,
    SEGMENTS_MAX,
};
use mite_core::scenario::file::DurationRange;

/// Thread-per-core HTTP load injection with Mite's journeys, datapools and volume models.
#[derive(Parser, Debug)]
#[command(name = "mite-engine", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

impl Cli {
    /// Parses the command line, and what depends on two flags or a flag and the environment
    /// (`--segments N` with `JOB_COMPLETION_INDEX`, a linger with its server): every flag value
    /// that cannot be used is a usage error, exit code 2, saying the flag (or the environment
    /// variable it came from) and the value.
    pub fn parse_checked() -> Cli {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let matches = Cli::command().try_get_matches_from(&args).unwrap_or_else(|e| match misplaced_flag(&e, &args) {
            Some(said) => clap::Error::raw(e.kind(), format!("{said}\n")).with_cmd(&Cli::command()).exit(),
            None => e.exit(),
        });
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        let checked = cli
            .read_environment(std::env::var_os(SEGMENT_VARIABLE).as_deref())
            .and_then(|()| cli.check_driver_variable(std::env::var_os(DRIVER_VARIABLE).as_deref()))
            .and_then(|()| cli.check(&matches, std::env::var("JOB_COMPLETION_INDEX").ok()));
        if let Err(why) = checked {
            clap::Error::raw(ErrorKind::ValueValidation, format!("{why}\n")).with_cmd(&Cli::command()).exit();
        }
        cli
    }

    /// Takes what the environment stands for, for the command that uses it and no other:
    /// `MITE_SEGMENT` (`segment`, the variable's value) stands for `--segment` in a load run
    /// (both given and disagreeing are refused by [`RunArgs::check_segment`]). Read by clap for every command, a bad `MITE_SEGMENT` failed `list`,
    /// `compare` and every other command that takes no segment.
    pub fn read_environment(&mut self, segment: Option<&OsStr>) -> Result<(), String> {
        if self.command.is_some() {
            return Ok(());
        }
        let Some(value) = segment else { return Ok(()) };
        let blamed = |said: &str| {
            let rest = said.strip_prefix("--segment").unwrap_or(said);
            format!("{SEGMENT_VARIABLE}{rest} (the environment variable {SEGMENT_VARIABLE} stands for --segment)")
        };
        let text = value.to_str().ok_or_else(|| blamed(&format!("--segment {value:?}: not valid UTF-8")))?;
        self.run.segment_env = Some(parse_segment(text).map_err(|why| blamed(&why))?);
        Ok(())
    }

    /// What [`Cli::parse_checked`] checks past each flag's own value: the segment, and a linger
    /// given without what it keeps serving.
    pub fn check(&self, matches: &ArgMatches, completion_index: Option<String>) -> Result<(), String> {
        check_config_repeats(self.config_overrides())?;
        match (&self.command, matches.subcommand()) {
            (None, _) => {
                self.run.check_segment(completion_index).map_err(|e| e.to_string())?;
                self.run.outputs.check_lingers(matches)?;
                match self.run.scenario {
                    Some(_) => Ok(()),
                    None => Err(SCENARIO_REQUIRED.to_string()),
                }
            }
            (Some(Command::Demo(demo)), Some((_, demo_matches))) => {
                demo.check_config()?;
                demo.outputs.check_lingers(demo_matches)
            }
            _ => Ok(()),
        }
    }
}

/// A load run without `--scenario` (`mite-engine` alone, `mite-engine --duration 5s`): a usage
/// error (exit 2), as every other flag missing or wrong; it was an error of the run (exit 1).
pub const SCENARIO_REQUIRED: &str = "--scenario is required, e.g. `mite-engine --cores 2 --scenario \
     http_example:scenario` or a TOML file (`mite-engine list` shows what is registered; `mite-engine demo` needs \
     no setup; `mite-engine --help` lists every command and flag)";

impl Cli {
    /// `MITE_DRIVER` for a command that would take it (one that sends requests, with `--driver`
    /// left at `auto`): a value that names no driver is refused as `--driver`'s would be. It was
    /// ignored: `MITE_DRIVER=eppoll` ran the own runtime without a word. Other commands, and a
    /// `--driver` given, ignore it.
    pub fn check_driver_variable(&self, value: Option<&OsStr>) -> Result<(), String> {
        let Some(value) = value else { return Ok(()) };
        let common = match &self.command {
            None => &self.run.common,
            Some(Command::Journey {
                action: JourneyAction::Test { common, .. } | JourneyAction::Run { common, .. },
            })
            | Some(Command::Scenario { action: ScenarioAction::Test { common, .. } }) => common,
            Some(Command::Demo(demo)) => &demo.common,
            Some(_) => return Ok(()),
        };
        if common.driver != DriverChoice::Auto {
            return Ok(());
        }
        let blamed = |why: String| {
            let rest = why.strip_prefix("--driver").unwrap_or(&why).to_string();
            format!("{DRIVER_VARIABLE}{rest} (the environment variable {DRIVER_VARIABLE} stands in for --driver auto)")
        };
        let text = value.to_str().ok_or_else(|| blamed(format!("--driver {value:?}: not valid UTF-8")))?;
        parse_driver(text).map(drop).map_err(blamed)
    }

    /// The command's `--config` values, as given (none for a command that takes none).
    fn config_overrides(&self) -> &[String] {
        match &self.command {
            None => &self.run.common.config,
            Some(Command::Journey {
                action: JourneyAction::Test { common, .. } | JourneyAction::Run { common, .. },
            })
            | Some(Command::Scenario { action: ScenarioAction::Test { common, .. } }) => &common.config,
            Some(Command::Scenario { action: ScenarioAction::Check { config, .. } }) => config,
            Some(Command::Demo(demo)) => &demo.common.config,
            Some(_) => &[],
        }
    }
}

/// A flag clap refused because it was given to a command that does not take it (`compare -q`,
/// `merge --cores 2`, `-q compare`), said in words: which commands take it and where it goes,
/// instead of clap's tip to pass it as a value (`use '-- -q'`). `None` for any other error,
/// and for a flag no command takes (clap's own words, with its suggestion, stand).
pub fn misplaced_flag(err: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    if !matches!(err.kind(), ErrorKind::UnknownArgument | ErrorKind::ArgumentConflict) {
        return None;
    }
    // An unknown flag is the invalid argument; a flag before a subcommand, the prior one.
    let flags = [ContextKind::InvalidArg, ContextKind::PriorArg].into_iter().filter_map(|kind| match err.get(kind) {
        Some(ContextValue::String(text)) => Some(text.clone()),
        Some(ContextValue::Strings(texts)) => texts.first().cloned(),
        _ => None,
    });
    let written = flags.into_iter().find(|text| text.starts_with('-'))?;
    // `--cores=2` as written, `--cores <CORES>` as clap names a prior flag: the flag alone.
    let flag = written.split(['=', ' ']).next().unwrap_or_default().to_string();
    let written = if written.contains(' ') { flag.clone() } else { written };
    if !flag.starts_with('-') {
        return None;
    }
    let root = Cli::command();
    let takes = |cmd: &clap::Command| {
        cmd.get_arguments().any(|arg| {
            flag.strip_prefix("--").is_some_and(|long| arg.get_long() == Some(long))
                || flag
                    .strip_prefix('-')
                    .and_then(|s| s.parse::<char>().ok())
                    .is_some_and(|c| arg.get_short() == Some(c))
        })
    };
    // The command the flag was given to: the subcommands named on the line, in order.
    let mut path: Vec<&clap::Command> = Vec::new();
    let mut at = &root;
    for arg in args.iter().skip(1).filter_map(|a| a.to_str()) {
        if let Some(sub) = at.get_subcommands().find(|sub| sub.get_name() == arg) {
            path.push(sub);
            at = sub;
        }
    }
    if path.is_empty() {
        return None;
    }
    let command = path.iter().map(|c| c.get_name()).collect::<Vec<_>>().join(" ");
    // Every command that takes it, as it would be written: a load run first, then the others.
    let mut taken_by: Vec<String> = Vec::new();
    let mut stack: Vec<(String, &clap::Command)> =
        root.get_subcommands().map(|sub| (sub.get_name().to_string(), sub)).collect();
    let mut command_takes_it = false;
    while let Some((name, cmd)) = stack.pop() {
        if takes(cmd) && name == command {
            command_takes_it = true;
        } else if takes(cmd) {
            taken_by.push(format!("`mite-engine {name} {flag}`"));
        }
        stack.extend(cmd.get_subcommands().map(|sub| (format!("{name} {}", sub.get_name()), sub)));
    }
    taken_by.sort();
    if takes(&root) {
        let example = if flag == "--scenario" { String::new() } else { format!(" {flag}") };
        taken_by.insert(0, format!("a load run (`mite-engine --scenario S{example} ...`, no command)"));
    }
    // `--cores 2 demo`: the command takes it, given after its name.
    if command_takes_it {
        return Some(format!(
            "{written}: given before `{command}`, it is a load run's flag, and a load run takes no command; \
             `{command}` takes it after its name: `mite-engine {command} {flag} ...`"
        ));
    }
    let places = match taken_by.split_last() {
        None => return None,
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    };
    let how = if err.kind() == ErrorKind::ArgumentConflict && takes(&root) {
        format!("given before `{command}`, it is a load run's flag, and a load run takes no command")
    } else {
        format!("`mite-engine {command}` does not take it")
    };
    Some(format!(
        "{written}: {how}; {flag} belongs to {places}. Leave it out here (`mite-engine {command} --help` lists \
         what `{command}` takes)"
    ))
}

/// One key given twice by `--config` with different values is refused, naming the key and
/// both values: no value can be taken for the one meant (the last silently won). The same
/// value twice is taken once: nothing was left to choose.
pub fn check_config_repeats(overrides: &[String]) -> Result<(), String> {
    let mut given: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for text in overrides {
        // The form was checked by each value's parser (`parse_config`).
        let Some((key, value)) = text.split_once('=') else { continue };
        let key = key.trim();
        match given.get(key) {
            Some(first) if *first != value => {
                return Err(format!(
                    "--config {key:?} given twice with different values, {first:?} and {value:?}: give it once, \
                     with the value meant"
                ));
            }
            Some(_) => {}
            None => {
                given.insert(key, value);
            }
        }
    }
    Ok(())
}

impl OutputArgs {
    /// A linger given on the command line without what it keeps serving (`--dashboard-linger`
    /// without `--dashboard`, `--prometheus-linger` without `--prometheus`) is refused: it
    /// would be silently ignored, and is most likely a sign the server's flag went missing.
    fn check_lingers(&self, matches: &ArgMatches) -> Result<(), String> {
        let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        for (linger, flag, served, example) in [
            ("dashboard_linger", "--dashboard", self.dashboard.is_some(), "127.0.0.1:8089"),
            ("prometheus_linger", "--prometheus", self.prometheus.is_some(), "127.0.0.1:9100"),
        ] {
            if given(linger) && !served {
                let value = matches.get_raw(linger).and_then(|mut v| v.next()).unwrap_or_default();
                return Err(format!(
                    "{flag}-linger {:?}: there is nothing to keep serving without {flag}; add {flag} ADDR \
                     (e.g. {example}) or leave {flag}-linger out",
                    value.to_string_lossy()
                ));
            }
        }
        if let (Some(dashboard), Some(prometheus)) = (self.dashboard, self.prometheus)
            && dashboard == prometheus
            && dashboard.port() != 0
        {
            return Err(format!(
                "--dashboard and --prometheus both ask for {dashboard}: one address serves one of them; give \
                 them different ports"
            ));
        }
        Ok(())
    }
}

/// A live view's address: an IP address and a port (`127.0.0.1:9100`, `0.0.0.0:8089`,
/// `[::1]:9100`). Names are not resolved: a listening address is where this host answers.
fn listen_address(text: &str) -> Result<std::net::SocketAddr, String> {
    text.parse().map_err(|_| {
        if bad_port(text) {
            return format!("{text:?}: the port must be a whole number from 0 to 65535");
        }
        format!("{text:?} is not an IP address and port: write e.g. 127.0.0.1:9100 (this host only) or 0.0.0.0:9100 (every interface); names such as localhost are not resolved")
    })
}

impl RunArgs {
    /// Whether this injector's segment can be resolved (`--segment`, else `--segments` with
    /// `completion_index`).
    pub fn check_segment(&self, completion_index: Option<String>) -> Result<(usize, usize), crate::Error> {
        crate::schedule::segment(self.segment, self.segment_env, self.segments, completion_index)
    }
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
        #[arg(long, default_value = "5%", allow_hyphen_values = true, value_parser = Worded(parse_percent))]
        max_regression: f64,
        /// Write a comparison page (overlaid percentile spectra, the table with differences).
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Merge result files of side-by-side runs (segments, injectors) losslessly.
    Merge {
        /// Result files (--json output), or logs holding results framed by `--json -` (a pod's
        /// log: each injector's result in it).
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// Where to write the merged result.
        #[arg(short, long)]
        output: PathBuf,
        /// Write a page of the merged result with each input's (segment's) figures beside it.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Merge results of different scenarios (other names, or other scenario files under one
        /// name), which is refused without it: their figures describe no one run.
        #[arg(long)]
        mixed_scenarios: bool,
        /// A threshold judged on the merged result (repeatable), besides those the runs were
        /// given (stored in their results); one on the same figure from the same side (a
        /// ceiling or a floor) replaces the stored one. A failed threshold exits with 3.
        #[arg(long = "threshold", value_name = "EXPR", value_parser = Worded(parse_threshold))]
        thresholds: Vec<String>,
        /// Merge part of a distributed run: segments missing or given twice are warned about,
        /// where without it they are an error (exit 1; the merged result is still written).
        #[arg(long)]
        partial: bool,
    },
    /// Write a new crate for your own journeys (Cargo.toml, src/main.rs, a journey, a datapool,
    /// a scenario, a scenario file, a test) into DIR, which must be empty or absent.
    New {
        /// Directory to create the crate in.
        dir: PathBuf,
        /// Depend on the engine checkout at PATH (its root or its engine/cli; a path dependency,
        /// with its Cargo.lock). Without it the dependency is written commented out, to be set.
        #[arg(long, value_name = "PATH")]
        engine_path: Option<PathBuf>,
    },
    /// Start the local target server from tools/ (the one the demo and the tests use), until
    /// Ctrl-C.
    Target {
        /// Address to listen on: an IP address and a port, or localhost:PORT (127.0.0.1). An
        /// address other than loopback is served with a warning: the target answers anyone who
        /// can reach it.
        #[arg(long, default_value = "127.0.0.1:8080", value_parser = Worded(parse_target_addr))]
        addr: std::net::SocketAddr,
        /// Server threads (1 to 1024).
        #[arg(long, default_value = "1", allow_hyphen_values = true, value_parser = Worded(parse_threads))]
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
        /// Rows to run (0 = every row) [default: 10]
        #[arg(long, allow_hyphen_values = true, value_parser = Worded(parse_rows))]
        rows: Option<usize>,
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
        /// Where to write the scenario file (an existing file is replaced, and said to be).
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
    /// Run a scenario briefly on one core and print its results, with a dry run's verdict on its thresholds.
    Test {
        /// Scenario: a registered name (mite_example:scenario) or a TOML file.
        scenario: String,
        /// How long to run (1ms to 7 days) [default: 10s, or the scenario file's `duration` when
        /// shorter]
        #[arg(long, allow_hyphen_values = true, value_parser = Bounded(DurationRange::RUN))]
        duration: Option<Duration>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Validate a scenario file (or registered scenario) without running it.
    Check {
        /// Scenario file or registered name.
        scenario: String,
        /// Configuration override key=value (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE", value_parser = Worded(parse_config))]
        config: Vec<String>,
        /// Check as for a run on this many cores (all segments together): what such a run
        /// refuses is refused, and rows and journeys per core are compared for it. Any count up
        /// to the engine's limit, not only this machine's. Without it: warnings as on one core.
        #[arg(long, allow_hyphen_values = true, value_parser = Worded(parse_core_count))]
        cores: Option<usize>,
    },
}

/// Flags shared by every command that sends requests.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Configuration override key=value (repeatable); wins over MITE_CONF_<key>.
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = Worded(parse_config))]
    pub config: Vec<String>,
    /// I/O driver: auto (the engine's own io_uring runtime, falling back to epoll with the
    /// reason), own (the own runtime or fail), io_uring (monoio's io_uring runtime or fail), or
    /// epoll (monoio's epoll runtime). Each carries HTTP, TLS and WebSockets.
    #[arg(long, default_value = "auto", value_parser = Worded(parse_driver))]
    pub driver: DriverChoice,
    /// TCP connect (and TLS handshake) timeout [default: 10s, or the scenario file's].
    #[arg(long, allow_hyphen_values = true, value_parser = Bounded(DurationRange::TIMEOUT))]
    pub connect_timeout: Option<Duration>,
    /// Timeout for one request, from sending it to the last byte of the response
    /// [default: 30s, or the scenario file's].
    #[arg(long, allow_hyphen_values = true, value_parser = Bounded(DurationRange::TIMEOUT))]
    pub timeout: Option<Duration>,
    /// Connections one core may open to one host, 1 to 65536 [default: 10000, or the scenario
    /// file's].
    #[arg(long, allow_hyphen_values = true, value_parser = Worded(parse_max_connections))]
    pub max_connections: Option<usize>,
    /// Header fields one response may have, 1 to 1024 [default: 256, or the scenario file's];
    /// a response with more is a `too_large` error.
    #[arg(long, allow_hyphen_values = true, value_parser = Worded(parse_max_headers))]
    pub max_headers: Option<usize>,
    /// Bytes one response head (status line and header fields; a WebSocket 101's too) may
    /// have, 1 byte to 16MiB, in bytes or with a unit in any case (KiB, MiB: 1,024-based; kB,
    /// MB: 1,000-based): 65536, 64KiB, 1MiB [default: 64KiB]; a larger head is a `too_large` error (a WebSocket's, `ws_handshake`).
    #[arg(long, allow_hyphen_values = true, value_parser = Worded(parse_max_head_bytes))]
    pub max_head_bytes: Option<usize>,
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

/// The environment variable that stands for `--segment` in a load run (only there: see
/// [`Cli::read_environment`]).
pub const SEGMENT_VARIABLE: &str = "MITE_SEGMENT";
/// The environment variable that stands in for `--driver auto` (read by the runtime; checked
/// here, [`Cli::check_driver_variable`]).
pub const DRIVER_VARIABLE: &str = "MITE_DRIVER";

/// The main job: `mite-engine --cores N --scenario S`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Cores: a count (first N usable cores) or a list such as 0,2-5.
    #[arg(long, default_value = "1", allow_hyphen_values = true, value_parser = Worded(parse_cores))]
    pub cores: CoreList,
    /// Scenario to run: a registered module:name, or a TOML scenario file.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Run length (e.g. 30s, 5m); default: the scenario file's, else the volume models' own
    /// length, else 30s (1ms to 7 days).
    #[arg(long, allow_hyphen_values = true, value_parser = Bounded(DurationRange::RUN))]
    pub duration: Option<Duration>,
    #[command(flatten)]
    pub outputs: OutputArgs,
    /// This injector's execution segment K/N (also MITE_SEGMENT); runs share K of N.
    #[arg(long, value_name = "K/N", allow_hyphen_values = true, value_parser = Worded(parse_segment))]
    pub segment: Option<(usize, usize)>,
    /// `MITE_SEGMENT`, read by [`Cli::read_environment`] (set apart so that a flag and the
    /// variable that disagree are refused, not one silently taken).
    #[arg(skip)]
    pub segment_env: Option<(usize, usize)>,
    /// Number of segments when K comes from Kubernetes' JOB_COMPLETION_INDEX (1 to 100000).
    #[arg(long, allow_hyphen_values = true, value_parser = Worded(parse_segments))]
    pub segments: Option<usize>,
    /// Start at this time (RFC 3339 UTC like 2026-11-24T22:00:00Z, or Unix seconds).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = Worded(parse_start_at))]
    pub start_at: Option<SystemTime>,
    /// Volume-model tick and progress interval (10ms to 30 days).
    #[arg(long, default_value = "1s", allow_hyphen_values = true, value_parser = Bounded(DurationRange::TICK))]
    pub tick: Duration,
    /// How long journeys in flight may finish after the stop; then they count as cancelled.
    #[arg(long, default_value = "5s", allow_hyphen_values = true, value_parser = Bounded(DurationRange::WAIT))]
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
    #[arg(long = "threshold", value_name = "EXPR", value_parser = Worded(parse_threshold))]
    pub thresholds: Vec<String>,
    /// Write an HDR interval log (one tag per transaction).
    #[arg(long)]
    pub hdr_log: Option<PathBuf>,
    /// Write a self-contained HTML report.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9100).
    #[arg(long, value_parser = listen_address)]
    pub prometheus: Option<std::net::SocketAddr>,
    /// Keep serving the final metrics this long after the run.
    #[arg(long, default_value = "5s", allow_hyphen_values = true, value_parser = Bounded(DurationRange::WAIT))]
    pub prometheus_linger: Duration,
    /// Serve a live dashboard on this address (e.g. 127.0.0.1:8089), updated every interval.
    #[arg(long, value_parser = listen_address)]
    pub dashboard: Option<std::net::SocketAddr>,
    /// Keep serving the final report on the dashboard this long after the run.
    #[arg(long, default_value = "10s", allow_hyphen_values = true, value_parser = Bounded(DurationRange::WAIT))]
    pub dashboard_linger: Duration,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run length (1ms to 7 days).
    #[arg(long, default_value = "5s", allow_hyphen_values = true, value_parser = Bounded(DurationRange::RUN))]
    pub duration: Duration,
    #[command(flatten)]
    pub outputs: OutputArgs,
    /// Injector cores (the target runs on a core outside them when there is one).
    #[arg(long, default_value = "1", allow_hyphen_values = true, value_parser = Worded(parse_cores))]
    pub cores: CoreList,
    /// Journeys (connections) in flight, 1 to 100,000 per injector core [default: 64, or
    /// --config journeys=N's].
    #[arg(long, allow_hyphen_values = true, value_parser = Worded(parse_journeys))]
    pub journeys: Option<u64>,
    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

impl DemoArgs {
    /// The keys the demo sets itself: `target_url` (its embedded target's address) is the
    /// demo's alone, and `journeys` is `--journeys` or `--config journeys=N`, not both (which
    /// of two different counts was meant cannot be known; the `--config` one silently won).
    fn check_config(&self) -> Result<(), String> {
        for text in &self.common.config {
            let Some((key, value)) = text.split_once('=') else { continue };
            match (key.trim(), self.journeys) {
                ("journeys", Some(flag)) => {
                    return Err(format!(
                        "--journeys {flag} and --config {text:?} both say how many journeys are in flight: give \
                         one of them"
                    ));
                }
                ("target_url", _) => {
                    return Err(format!(
                        "--config target_url={value}: the demo sends its requests to its own embedded target \
                         and sets target_url itself; to load another target, run a scenario (mite-engine \
                         --scenario http_example:scenario --config target_url=...)"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Journeys in flight: `--journeys`, else `--config journeys=N`, else 64 (the example
    /// scenario's own default). `None` when the configured value is not a count: the scenario
    /// says so, in its words.
    pub fn journeys_in_flight(&self) -> Option<u64> {
        let configured = self.common.config.iter().rev().find_map(|text| {
            let (key, value) = text.split_once('=')?;
            (key.trim() == "journeys").then(|| value.trim().parse::<u64>().ok())
        });
        match (self.journeys, configured) {
            (Some(flag), _) => Some(flag),
            (None, Some(configured)) => configured,
            (None, None) => Some(DEMO_JOURNEYS_DEFAULT),
        }
    }
}

/// Journeys in flight in the demo when neither `--journeys` nor `--config journeys=N` says.
pub const DEMO_JOURNEYS_DEFAULT: u64 = 64;

/// Core ids from `--cores`, checked against this process's affinity mask (a newtype: clap
/// would take a bare `Vec` for a repeatable flag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreList(pub Vec<usize>);

/// A clap value parser whose error is the parser's own sentence, which names the flag and the
/// value (clap's "invalid value ... for ..." would say both twice); exit code 2 as for any
/// other usage error.
#[derive(Clone, Copy)]
pub struct Worded<T>(pub fn(&str) -> Result<T, String>);

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Worded<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        parse_worded(self.0, cmd, arg, value, |_flag, why| why)
    }
}

/// A duration flag held to its own range (`--duration` 1ms to 7 days, `--tick` 10ms to 30
/// days, ...): `--duration "0s": must be between 1ms and 7 days`, the value as written and the
/// bounds in a person's units; a usage error (exit code 2).
#[derive(Clone, Copy)]
pub struct Bounded(pub DurationRange);

impl TypedValueParser for Bounded {
    type Value = Duration;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<Duration, clap::Error> {
        let range = self.0;
        let parse = |text: &str| range.parse(text).map_err(|e| e.to_string());
        parse_worded(parse, cmd, arg, value, |flag, why| format!("{flag} {why}"))
    }
}

/// Parses a flag's value with `parse`, whose error `say` turns into the sentence shown. No
/// flag reads the environment through clap (which would read it for every command): a
/// variable that stands for a flag is read by the command that uses it
/// ([`Cli::read_environment`]).
fn parse_worded<T>(
    parse: impl Fn(&str) -> Result<T, String>,
    cmd: &clap::Command,
    arg: Option<&clap::Arg>,
    value: &OsStr,
    say: impl Fn(&str, String) -> String,
) -> Result<T, clap::Error> {
    let flag = match arg {
        Some(arg) => arg.get_long().map_or_else(|| arg.get_id().to_string(), |long| format!("--{long}")),
        None => "a value".to_string(),
    };
    let text = value.to_str().ok_or_else(|| {
        clap::Error::raw(ErrorKind::InvalidUtf8, format!("{flag} {value:?}: not valid UTF-8\n")).with_cmd(cmd)
    })?;
    parse(text).map_err(|why| {
        // A flag's value forgotten (`--grace -q`): the next flag was taken as the value (these
        // flags take `-` values, to say a negative one is out of range), and was said to be a
        // negative duration or not a number.
        let said = match text.strip_prefix('-') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '-') => {
                format!("{flag} needs a value: {text} is a flag (give {flag} its value before the next flag)")
            }
            _ => say(&flag, why),
        };
        clap::Error::raw(ErrorKind::ValueValidation, format!("{said}\n")).with_cmd(cmd)
    })
}

/// `--cores`: a count or a list, against the cores this process may run on.
pub fn parse_cores(text: &str) -> Result<CoreList, String> {
    mite_core::model::cores::parse(text, &mite_core::model::cores::available()).map(CoreList).map_err(|e| e.to_string())
}

/// `scenario check --cores N`: a count of cores, 1 to `CORES_MAX` (the machine that will run it
/// may have more than this one).
pub fn parse_core_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=CORES_MAX).contains(&n) => Ok(n),
        _ => Err(format!("--cores {text:?}: must be a whole number from 1 to {}", grouped(CORES_MAX))),
    }
}

/// `--driver`: auto, io_uring, epoll or own.
pub fn parse_driver(text: &str) -> Result<DriverChoice, String> {
    text.parse().map_err(|why: mite_core::driver::UnknownDriver| format!("--driver {text:?}: {why}"))
}

/// `--start-at`: RFC 3339 UTC or Unix seconds, at most a day ahead.
pub fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    crate::schedule::start_at_from(text, SystemTime::now()).map_err(|e| e.to_string())
}

/// `--segment K/N` (also `MITE_SEGMENT`).
pub fn parse_segment(text: &str) -> Result<(usize, usize), String> {
    crate::schedule::parse_segment(text).map_err(|e| e.to_string())
}

/// `--max-connections`: connections per host per core, 1 to 65,536.
pub fn parse_max_connections(text: &str) -> Result<usize, String> {
    let most = CONNECTIONS_PER_HOST_PER_CORE_MAX;
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=most).contains(&n) => Ok(n),
        _ => Err(format!(
            "--max-connections {text:?}: must be a whole number from 1 to {} (connections per host per core)",
            grouped(most)
        )),
    }
}

/// `--max-headers`: header fields per response, as the response parser's rule allows
/// (`Limits::check`: 1 to `RESPONSE_HEADERS_MAX`).
pub fn parse_max_headers(text: &str) -> Result<usize, String> {
    let checked = |n: usize| ResponseLimits { headers_count_max: n, ..ResponseLimits::DEFAULT }.check().is_ok();
    match text.trim().parse::<usize>() {
        Ok(n) if checked(n) => Ok(n),
        _ => Err(format!(
            "--max-headers {text:?}: must be a whole number from 1 to {RESPONSE_HEADERS_MAX} (header fields per response)"
        )),
    }
}

/// `--max-head-bytes`: bytes per response head, as `[client] max_head_bytes` takes it
/// ([`mite_core::scenario::file::head_bytes_max`]: bytes, `KiB`, `MiB`, `kB` or `MB` in any case,
/// within the parser's rule).
pub fn parse_max_head_bytes(text: &str) -> Result<usize, String> {
    mite_core::scenario::file::head_bytes_max(text).map_err(|rule| format!("--max-head-bytes {text:?}: {rule}"))
}

/// `target --threads`: server threads, 1 to `CORES_MAX`.
pub fn parse_threads(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=CORES_MAX).contains(&n) => Ok(n),
        _ => Err(format!("--threads {text:?}: must be a whole number from 1 to {}", grouped(CORES_MAX))),
    }
}

/// `journey test --rows N`: a whole number of rows, 0 for every row. Said in words: `-1` was
/// "unexpected argument '-1' found" (with a tip to write `-- -1`), `abc` and `1.5` "invalid
/// digit found in string".
pub fn parse_rows(text: &str) -> Result<usize, String> {
    text.trim().parse::<usize>().map_err(|_| {
        format!(
            "--rows {text:?}: must be a whole number of rows from 0 (0: every row of the datapool), e.g. --rows 100"
        )
    })
}

/// `--segments N`: how many segments share the load when K comes from `JOB_COMPLETION_INDEX`.
pub fn parse_segments(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=SEGMENTS_MAX).contains(&n) => Ok(n),
        _ => Err(format!("--segments {text:?}: must be a whole number from 1 to {}", grouped(SEGMENTS_MAX))),
    }
}

/// `demo --journeys`: journeys in flight, 1 to the engine's limit for the most cores.
pub fn parse_journeys(text: &str) -> Result<u64, String> {
    let most = JOURNEYS_PER_CORE_MAX * CORES_MAX as u64;
    match text.trim().parse::<u64>() {
        Ok(n) if (1..=most).contains(&n) => Ok(n),
        _ => Err(format!(
            "--journeys {text:?}: must be a whole number from 1 to {} (journeys in flight; at most {} per core)",
            mite_core::output::units::grouped(most),
            mite_core::output::units::grouped(JOURNEYS_PER_CORE_MAX)
        )),
    }
}

/// Whether `text` is an IP address (`127.0.0.1`, `[::1]`) and a port that is not one
/// (`127.0.0.1:99999` was said to be "not an IP address and port", the address being fine).
fn bad_port(text: &str) -> bool {
    let Some((host, port)) = text.rsplit_once(':') else { return false };
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.parse::<std::net::IpAddr>().is_ok() && port.parse::<u16>().is_err()
}

/// `target --addr`: an IP address and a port, or `localhost:PORT`, taken as `127.0.0.1:PORT`
/// (no resolver is asked: `localhost` could name another address in `/etc/hosts`). Any other
/// name is refused, saying what to write.
pub fn parse_target_addr(text: &str) -> Result<std::net::SocketAddr, String> {
    let trimmed = text.trim();
    if let Ok(addr) = trimmed.parse() {
        return Ok(addr);
    }
    if bad_port(trimmed) {
        return Err(format!("--addr {text:?}: the port must be a whole number from 0 to 65535"));
    }
    let port = trimmed.rsplit_once(':').filter(|(host, _)| host.eq_ignore_ascii_case("localhost")).map(|(_, p)| p);
    match port.map(str::parse::<u16>) {
        Some(Ok(port)) => Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port))),
        Some(Err(_)) => Err(format!("--addr {text:?}: the port must be a whole number from 0 to 65535")),
        None => Err(format!(
            "--addr {text:?} is not an IP address and port: write e.g. 127.0.0.1:8080 (this host only) or \
             localhost:8080 (the same); other names are not resolved"
        )),
    }
}

/// `--config key=value`: the form is checked here, the key's use by the scenario.
pub fn parse_config(text: &str) -> Result<String, String> {
    mite_core::Config::default().apply_overrides(&[text]).map(|()| text.to_string()).map_err(|e| e.to_string())
}

/// `--threshold EXPR`: parsed now so that a typo is a usage error before anything runs; kept
/// as written (the run parses it again with the scenario file's).
pub fn parse_threshold(text: &str) -> Result<String, String> {
    match mite_core::output::threshold::Threshold::parse(text) {
        Ok(_) => Ok(text.to_string()),
        Err(e) => Err(format!("--threshold {text:?}: {}", e.why())),
    }
}

fn grouped(n: usize) -> String {
    mite_core::output::units::grouped(n as u64)
}

/// `--max-regression`: a percentage written with its `%`, `5%` or `0.5%`, its number plain
/// decimal digits as in thresholds (no sign, no exponent: `1e2%` is refused, as `errors<1e2%`
/// is). A bare `5` is refused: it reads as 5 % to one user and as a factor to another.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().strip_suffix('%').map(str::trim);
    match number.and_then(mite_core::output::threshold::plain_number) {
        Some(percent) => Ok(percent),
        None => Err(format!(
            "--max-regression {text:?}: expected a percentage of zero or more written with %, like 5% or 0.5% \
             (plain digits: no sign, no exponent)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--max-head-bytes` takes bytes, KiB or MiB, kB or MB, checked by the response parser's
    /// rule. Outside try: `64kib` was refused where `64KiB` was taken; units are taken in any
    /// case, `kB` as 1,000 bytes, and `K` alone (1,000 or 1,024?) refused.
    #[test]
    fn a_head_size_is_bytes_or_kib_or_mib_within_the_parsers_rule() {
        for (text, bytes) in [
            ("65536", 65536),
            ("64KiB", 65536),
            ("64kib", 65536),
            ("64KIB", 65536),
            (" 1 MiB ", 1 << 20),
            ("1mib", 1 << 20),
            ("16MiB", 16 << 20),
            ("1B", 1),
            ("1b", 1),
            ("64kB", 64_000),
            ("64kb", 64_000),
            ("64 KB", 64_000),
            ("2MB", 2_000_000),
            ("16mb", 16_000_000),
        ] {
            assert_eq!(parse_max_head_bytes(text), Ok(bytes), "{text}");
        }
        for text in [
            "0",
            "0KiB",
            "16777217",
            "17MiB",
            "17mb",
            "64k",
            "64K",
            "1M",
            "64kibi",
            "1.5MiB",
            "",
            "-1",
            "MiB",
            "18446744073709551615MiB",
        ] {
            let err = parse_max_head_bytes(text).unwrap_err();
            assert!(
                err.starts_with(&format!("--max-head-bytes {text:?}: must be from 1 to 16,777,216 bytes")),
                "{err}"
            );
            assert!(err.contains("KiB or MiB (1,024 and 1,048,576 bytes), or kB or MB (1,000 and 1,000,000 bytes)"));
            assert!(err.contains("the unit in any case (65536, 64KiB, 64kib, 1MiB;"), "{err}");
        }
    }

    fn parse_duration(text: &str) -> Result<Duration, String> {
        DurationRange::WAIT.parse(text).map_err(|e| e.to_string())
    }

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

    #[test]
    fn drivers_and_percentages() {
        assert_eq!(parse_driver("epoll"), Ok(DriverChoice::Epoll));
        assert_eq!(parse_driver("io_uring"), Ok(DriverChoice::IoUring));
        assert_eq!(parse_driver("own"), Ok(DriverChoice::Own));
        assert!(parse_driver("kqueue").unwrap_err().starts_with("--driver \"kqueue\": unknown driver"));
        assert_eq!(parse_percent("5%"), Ok(5.0));
        assert_eq!(parse_percent(" 2.5 % "), Ok(2.5));
        assert_eq!(parse_percent("0%"), Ok(0.0));
        // Outside try 4: `5` (no %) and `1e2%` were taken; a percentage is written as thresholds
        // write one.
        for bad in ["", "%", "five%", "-1%", "NaN", "inf%", "5", " 2.5 ", "1e2%", "+5%", "5%%", ".5%", "0x10%"] {
            assert!(parse_percent(bad).unwrap_err().starts_with("--max-regression"), "{bad:?}");
        }
    }

    /// The flags parse into their types through clap, and a bad value is clap's usage error
    /// (exit 2) with the parser's own words, once.
    #[test]
    fn typed_flags_through_clap() {
        let cli =
            Cli::try_parse_from(["mite-engine", "--scenario", "s", "--driver", "epoll", "--segment", "1/3"]).unwrap();
        assert_eq!((cli.run.common.driver, cli.run.segment), (DriverChoice::Epoll, Some((1, 3))));
        assert_eq!(cli.run.cores.0.len(), 1, "the default: one core");
        let err = Cli::try_parse_from(["mite-engine", "--segment", "3/2"]).unwrap_err();
        assert_eq!((err.kind(), err.exit_code()), (ErrorKind::ValueValidation, 2));
        let text = err.to_string();
        assert!(text.starts_with("error: --segment \"3/2\": need 0 <= K < N"), "{text}");
        assert_eq!(text.matches("3/2").count(), 1, "{text}");
        let err = Cli::try_parse_from(["mite-engine", "--duration", "5"]).unwrap_err();
        assert!(err.to_string().starts_with("error: --duration \"5\" has no unit; write 5s"), "{err}");
        let err = Cli::try_parse_from(["mite-engine", "--cores", "0"]).unwrap_err();
        assert!(err.to_string().contains("--cores 0-0"), "{err}");
        let err = Cli::try_parse_from(["mite-engine", "compare", "a", "b", "--max-regression", "lots"]).unwrap_err();
        assert!(err.to_string().contains("--max-regression \"lots\""), "{err}");
    }

    /// Negative values reach the flag's parser (not clap's "unexpected argument '-5'" with its
    /// `-- -5` tip), and each flag says its own bound: a usage error naming flag and value.
    #[test]
    fn negative_and_out_of_range_values_name_the_flag() {
        for (args, said) in [
            (&["--duration", "-5s"][..], "error: --duration \"-5s\": a duration cannot be negative"),
            (&["--duration", "0s"], "error: --duration \"0s\": must be between 1ms and 7 days"),
            (&["--tick", "0s"], "error: --tick \"0s\": must be between 10ms and 30 days"),
            (&["--grace", "-1s"], "error: --grace \"-1s\": a duration cannot be negative"),
            (&["--max-connections", "-3"], "error: --max-connections \"-3\": must be a whole number from 1"),
            (&["--segments", "-1"], "error: --segments \"-1\": must be a whole number from 1"),
            (&["--config", "novalue"], "error: --config \"novalue\": expected key=value"),
            (&["--threshold", "p99<5"], "error: --threshold \"p99<5\": latency 5 has no unit"),
            (&["target", "--threads", "0"], "error: --threads \"0\": must be a whole number from 1 to 1,024"),
        ] {
            let err = Cli::try_parse_from(["mite-engine"].iter().chain(args)).unwrap_err();
            assert_eq!((err.kind(), err.exit_code()), (ErrorKind::ValueValidation, 2), "{args:?}");
            assert!(err.to_string().starts_with(said), "{args:?}: {err}");
        }
        // A value forgotten: the next flag is not said to be a negative duration or number.
        for (args, said) in [
            (&["--grace", "-q"][..], "error: --grace needs a value: -q is a flag (give --grace its value"),
            (&["--duration", "--no-pin"], "error: --duration needs a value: --no-pin is a flag"),
            (&["--cores", "--no-pin"], "error: --cores needs a value: --no-pin is a flag"),
            (&["compare", "a", "b", "--max-regression", "--html", "c.html"], "error: --max-regression needs a value"),
        ] {
            let err = Cli::try_parse_from(["mite-engine"].iter().chain(args)).unwrap_err();
            assert_eq!((err.kind(), err.exit_code()), (ErrorKind::ValueValidation, 2), "{args:?}");
            assert!(err.to_string().starts_with(said), "{args:?}: {err}");
        }
        let cli = Cli::try_parse_from(["mite-engine", "--grace", "0s", "--segments", "3"]).unwrap();
        assert_eq!(cli.run.grace, Duration::ZERO);
        assert!(cli.run.check_segment(None).unwrap_err().to_string().contains("needs JOB_COMPLETION_INDEX"));
        assert_eq!(cli.run.check_segment(Some("2".into())).unwrap(), (2, 3));
    }

    /// Outside try: `--config users=8 --config users=16` ran with 16, saying nothing. A key
    /// given twice with different values is refused for every command that takes `--config`,
    /// naming the key and both values; the same value twice is taken.
    #[test]
    fn a_config_key_given_twice_with_different_values_is_refused() {
        let said = "--config \"users\" given twice with different values, \"8\" and \"16\": give it once, with the value meant";
        for command in [
            &["mite-engine", "--scenario", "s"][..],
            &["mite-engine", "scenario", "test", "s"],
            &["mite-engine", "scenario", "check", "s"],
            &["mite-engine", "journey", "test", "j"],
            &["mite-engine", "journey", "run", "j"],
            &["mite-engine", "demo"],
        ] {
            let args = [command, &["--config", "users=8", "--config", "base=x", "--config", " users =16"]].concat();
            assert_eq!(checked(&args).err().as_deref(), Some(said), "{command:?}");
            let same = [command, &["--config", "users=8", "--config", "users=8", "--config", "q=a=b"]].concat();
            assert!(checked(&same).is_ok(), "{command:?}");
        }
    }

    /// A new user's `demo --journeys -1` met clap's "unexpected argument", `abc` "invalid digit
    /// found in string", 0 a demo of nothing; `--journeys 5 --config journeys=7` ran with 7,
    /// saying 5. Each is refused in words; either way of giving the count alone is the count.
    #[test]
    fn the_demo_takes_one_count_of_journeys_in_words() {
        for bad in ["-1", "0", "abc", "1.5", "", "102400001"] {
            let err = checked(&["mite-engine", "demo", "--journeys", bad]).unwrap_err();
            assert!(
                err.starts_with(&format!("error: --journeys {bad:?}: must be a whole number from 1 to 102,400,000")),
                "{err}"
            );
        }
        let count = |args: &[&str]| {
            checked(&[&["mite-engine", "demo"][..], args].concat()).map(|cli| match cli.command {
                Some(Command::Demo(demo)) => demo.journeys_in_flight(),
                _ => unreachable!(),
            })
        };
        assert_eq!(count(&[]), Ok(Some(DEMO_JOURNEYS_DEFAULT)));
        assert_eq!(count(&["--journeys", "102400000"]), Ok(Some(102_400_000)));
        assert_eq!(count(&["--config", "journeys=7"]), Ok(Some(7)));
        assert_eq!(count(&["--config", "journeys=x"]), Ok(None), "the scenario says what is wrong");
        let err = count(&["--journeys", "5", "--config", "journeys=7"]).unwrap_err();
        assert_eq!(
            err,
            "--journeys 5 and --config \"journeys=7\" both say how many journeys are in flight: give one of them"
        );
        let err = count(&["--config", "target_url=http://127.0.0.1:1/"]).unwrap_err();
        assert!(
            err.starts_with("--config target_url=http://127.0.0.1:1/: the demo sends its requests to its own"),
            "{err}"
        );
    }

    /// `target --addr localhost:8081` was "invalid socket address syntax": localhost is taken as
    /// 127.0.0.1 (never resolved), any other name refused saying what to write.
    #[test]
    fn the_target_address_may_be_localhost() {
        assert_eq!(parse_target_addr("localhost:8081"), Ok("127.0.0.1:8081".parse().unwrap()));
        assert_eq!(parse_target_addr("LocalHost:0"), Ok("127.0.0.1:0".parse().unwrap()));
        assert_eq!(parse_target_addr("[::1]:8080"), Ok("[::1]:8080".parse().unwrap()));
        assert_eq!(parse_target_addr("0.0.0.0:8080"), Ok("0.0.0.0:8080".parse().unwrap()));
        for bad in ["example.com:80", "localhost", "127.0.0.1", ":8080", "local host:1"] {
            let err = parse_target_addr(bad).unwrap_err();
            assert!(err.starts_with(&format!("--addr {bad:?} is not an IP address and port")), "{err}");
        }
        for bad in ["localhost:65536", "localhost:http", "localhost:-1", "127.0.0.1:99999", "[::1]:x", "127.0.0.1:"] {
            assert!(parse_target_addr(bad).unwrap_err().contains("the port must be a whole number from 0 to 65535"));
        }
    }

    /// Outside tester: `mite-engine` alone, or `mite-engine --duration 5s`, ended with exit 1
    /// (an error of the run) where every other missing or wrong flag is a usage error (2):
    /// refused now as the other flags are, before anything starts.
    #[test]
    fn a_load_run_without_a_scenario_is_a_usage_error() {
        for args in [&["mite-engine"][..], &["mite-engine", "--duration", "5s", "-q"]] {
            assert_eq!(checked(args).err().as_deref(), Some(SCENARIO_REQUIRED), "{args:?}");
        }
        assert!(checked(&["mite-engine", "--scenario", "s.toml"]).is_ok());
        assert!(checked(&["mite-engine", "list"]).is_ok(), "a command needs no --scenario");
    }

    /// Outside tester: `journey test J --rows -1` got clap's tip to write `-- -1`, `abc` and
    /// `1.5` "invalid digit found in string": each a usage error in words now.
    #[test]
    fn journey_test_says_what_rows_it_takes() {
        for bad in ["-1", "abc", "1.5", "", "99999999999999999999999"] {
            let err = Cli::try_parse_from(["mite-engine", "journey", "test", "j", "--rows", bad]).unwrap_err();
            assert_eq!((err.kind(), err.exit_code()), (ErrorKind::ValueValidation, 2), "{bad:?}");
            let said = err.to_string();
            assert!(
                said.starts_with(&format!("error: --rows {bad:?}: must be a whole number of rows from 0")),
                "{bad:?}: {said}"
            );
        }
        for (good, rows) in [("0", 0), ("10", 10), (" 7", 7)] {
            let cli = Cli::try_parse_from(["mite-engine", "journey", "test", "j", "--rows", good]).unwrap();
            let Some(Command::Journey { action: JourneyAction::Test { rows: got, .. } }) = cli.command else {
                panic!("{good:?}: not a journey test")
            };
            assert_eq!(got, Some(rows), "{good:?}");
        }
    }

    /// Outside tester: `MITE_DRIVER=eppoll` ran the own runtime without a word. Refused for a
    /// command that would use it, blamed on the variable; ignored by `compare`, and under a
    /// `--driver` given.
    #[test]
    fn a_driver_variable_that_names_no_driver_is_refused() {
        let cli = |args: &[&str]| Cli::try_parse_from(args).unwrap();
        let bogus = Some(OsStr::new("eppoll"));
        for args in [
            &["mite-engine", "--scenario", "s"][..],
            &["mite-engine", "demo"],
            &["mite-engine", "journey", "test", "j"],
        ] {
            let err = cli(args).check_driver_variable(bogus).unwrap_err();
            assert!(
                err.starts_with(
                    "MITE_DRIVER \"eppoll\": unknown driver \"eppoll\": expected auto, io_uring, epoll or own"
                ),
                "{args:?}: {err}"
            );
            assert!(err.ends_with("(the environment variable MITE_DRIVER stands in for --driver auto)"), "{err}");
            assert_eq!(cli(args).check_driver_variable(Some(OsStr::new("epoll"))), Ok(()));
        }
        assert_eq!(cli(&["mite-engine", "compare", "a", "b"]).check_driver_variable(bogus), Ok(()));
        assert_eq!(cli(&["mite-engine", "--scenario", "s", "--driver", "own"]).check_driver_variable(bogus), Ok(()));
    }

    /// What a refused command line says: [`misplaced_flag`]'s words, else clap's.
    fn refused(args: &[&str]) -> String {
        let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        let err = Cli::command().try_get_matches_from(&args).unwrap_err();
        misplaced_flag(&err, &args).unwrap_or_else(|| err.to_string())
    }

    /// Outside tester: `compare -q a b` (and `merge`, `journey test`) got clap's "unexpected
    /// argument '-q' found ... tip: to pass '-q' as a value, use '-- -q'", and `-q compare`
    /// "the subcommand 'compare' cannot be used with '--quiet'": neither said where `-q` goes.
    #[test]
    fn a_flag_given_to_a_command_that_does_not_take_it_says_where_it_goes() {
        let said = refused(&["mite-engine", "compare", "-q", "a.json", "b.json"]);
        assert_eq!(
            said,
            "-q: `mite-engine compare` does not take it; -q belongs to a load run (`mite-engine --scenario S -q \
             ...`, no command) and `mite-engine demo -q`. Leave it out here (`mite-engine compare --help` lists \
             what `compare` takes)"
        );
        let said = refused(&["mite-engine", "merge", "a.json", "--cores=2", "-o", "m.json"]);
        assert!(
            said.starts_with("--cores: `mite-engine merge` does not take it; --cores belongs to a load run"),
            "{said}"
        );
        let said = refused(&["mite-engine", "journey", "test", "--no-pin", "j"]);
        assert!(
            said.starts_with("--no-pin: `mite-engine journey test` does not take it; --no-pin belongs to"),
            "{said}"
        );
        // A flag with a value before the command (clap names it `--scenario <SCENARIO>`).
        let said = refused(&["mite-engine", "--scenario", "s.toml", "compare", "a.json", "b.json"]);
        assert!(said.starts_with("--scenario: given before `compare`, it is a load run's flag"), "{said}");
        assert!(said.contains("a load run (`mite-engine --scenario S ...`, no command)"), "{said}");
        // Before a command that takes it: said to go after the command's name.
        let said = refused(&["mite-engine", "--cores", "2", "demo"]);
        assert_eq!(
            said,
            "--cores: given before `demo`, it is a load run's flag, and a load run takes no command; `demo` takes \
             it after its name: `mite-engine demo --cores ...`"
        );
        let said = refused(&["mite-engine", "-q", "compare", "a.json", "b.json"]);
        assert!(said.starts_with("--quiet: given before `compare`, it is a load run's flag, and a load run takes no command; --quiet belongs to a load run"), "{said}");
        // A flag no command takes keeps clap's words (and its suggestion).
        let said = refused(&["mite-engine", "compare", "--quiett", "a.json", "b.json"]);
        assert!(said.contains("unexpected argument '--quiett'"), "{said}");
    }

    fn checked(args: &[&str]) -> Result<Cli, String> {
        let matches = Cli::command().try_get_matches_from(args).map_err(|e| e.to_string())?;
        let cli = Cli::from_arg_matches(&matches).map_err(|e| e.to_string())?;
        cli.check(&matches, None).map(|()| cli)
    }

    /// Outside tester: `--dashboard-linger 5s` without `--dashboard` (and the same for
    /// `--prometheus-linger`) was accepted and did nothing. Refused now, naming both flags; the
    /// defaults alone are not a linger given.
    #[test]
    fn a_linger_without_its_server_is_refused() {
        for (args, said) in [
            (
                &["--scenario", "s", "--dashboard-linger", "5s"][..],
                "--dashboard-linger \"5s\": there is nothing to keep serving without --dashboard",
            ),
            (
                &["--scenario", "s", "--prometheus-linger", "0s"],
                "--prometheus-linger \"0s\": there is nothing to keep serving without --prometheus",
            ),
            (&["demo", "--dashboard-linger", "1m"], "--dashboard-linger \"1m\": there is nothing"),
        ] {
            let err = checked(&[&["mite-engine"][..], args].concat()).err().unwrap_or_default();
            assert!(err.starts_with(said), "{args:?}: {err}");
            assert!(err.contains("add --") && err.contains(" ADDR"), "{err}");
        }
        assert!(checked(&["mite-engine", "--scenario", "s"]).is_ok(), "the defaults alone");
        assert!(checked(&["mite-engine", "demo"]).is_ok(), "the defaults alone");
        let both =
            ["mite-engine", "--dashboard", "127.0.0.1:0", "--dashboard-linger", "5s", "--prometheus-linger", "1s"];
        assert!(checked(&both).unwrap_err().contains("without --prometheus"));
        // Outside try 6: one address for both ended the run with "Address already in use"
        // after the first of them had started; a name got "invalid socket address syntax".
        let clash =
            ["mite-engine", "--dashboard", "127.0.0.1:9100", "--prometheus", "127.0.0.1:9100", "--scenario", "s"];
        let err = checked(&clash).unwrap_err();
        assert!(err.contains("--dashboard and --prometheus both ask for 127.0.0.1:9100"), "{err}");
        let ephemeral = ["mite-engine", "--dashboard", "127.0.0.1:0", "--prometheus", "127.0.0.1:0", "--scenario", "s"];
        assert!(checked(&ephemeral).is_ok(), "port 0 picks a free port for each");
        let name = checked(&["mite-engine", "--prometheus", "localhost:9100", "--scenario", "s"]).unwrap_err();
        assert!(
            name.contains("\"localhost:9100\" is not an IP address and port") && name.contains("127.0.0.1:9100"),
            "{name}"
        );
        // `127.0.0.1:99999` was "not an IP address and port": its port is what is wrong.
        let port = checked(&["mite-engine", "--dashboard", "127.0.0.1:99999", "--scenario", "s"]).unwrap_err();
        assert!(port.contains("\"127.0.0.1:99999\": the port must be a whole number from 0 to 65535"), "{port}");
        let cli = checked(&[&both[..5], &["--scenario", "s"][..]].concat()).unwrap();
        assert_eq!(cli.run.outputs.dashboard_linger, Duration::from_secs(5));
    }

    /// A value from `MITE_SEGMENT` is blamed on the variable (the outside tester saw
    /// `MITE_SEGMENT=x` reported as `--segment "x"`, a flag never typed); the flag and the
    /// variable both given must agree (the flag silently won). And the variable matters to a
    /// load run only: read by clap for every command, `MITE_SEGMENT=x mite-engine list` failed.
    #[test]
    fn mite_segment_matters_to_a_load_run_only() {
        let read = |args: &[&str], value: &str| {
            let mut cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
            cli.read_environment(Some(OsStr::new(value))).map(|()| cli)
        };
        let err = read(&["mite-engine", "--scenario", "s"], "x").err().unwrap_or_default();
        assert!(err.starts_with("MITE_SEGMENT \"x\": expected K/N"), "{err}");
        assert!(err.contains("the environment variable MITE_SEGMENT stands for --segment"), "{err}");
        let env = read(&["mite-engine", "--scenario", "s"], "1/3").unwrap();
        assert_eq!(env.run.check_segment(None).unwrap(), (1, 3));
        let err = read(&["mite-engine", "--scenario", "s", "--segment", "0/2"], "x").err().unwrap_or_default();
        assert!(err.starts_with("MITE_SEGMENT \"x\": expected K/N"), "a bad variable beside the flag: {err}");
        let both = read(&["mite-engine", "--scenario", "s", "--segment", "0/2"], "1/2").unwrap();
        let err = both.run.check_segment(None).unwrap_err().to_string();
        assert!(err.starts_with("--segment 0/2 and MITE_SEGMENT 1/2 name different segments"), "{err}");
        let agree = read(&["mite-engine", "--scenario", "s", "--segment", "0/2"], "0/2").unwrap();
        assert_eq!(agree.run.check_segment(None).unwrap(), (0, 2));
        for args in [
            &["mite-engine", "list"][..],
            &["mite-engine", "demo"],
            &["mite-engine", "scenario", "check", "s.toml"],
            &["mite-engine", "scenario", "test", "s.toml"],
            &["mite-engine", "journey", "test", "j"],
            &["mite-engine", "journey", "run", "j"],
            &["mite-engine", "compare", "a.json", "b.json"],
            &["mite-engine", "merge", "a.json", "-o", "m.json"],
            &["mite-engine", "har", "convert", "a.har", "-o", "a.toml"],
            &["mite-engine", "target"],
            &["mite-engine", "new", "d"],
        ] {
            let cli = read(args, "x").unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_eq!(cli.run.segment, None, "{args:?}");
        }
        // No flag reads the environment through clap, which reads it for every command.
        let cmd = Cli::command();
        let mut commands = vec![&cmd];
        while let Some(command) = commands.pop() {
            for arg in command.get_arguments() {
                assert!(arg.get_env().is_none(), "{} reads {:?} through clap", command.get_name(), arg.get_env());
            }
            commands.extend(command.get_subcommands());
        }
    }
}
