//! What each command does: build options from flags, run, print and write results.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use mite_core::http::{HttpSettings, TlsOptions};
use mite_core::output::events::RunEvent;
use mite_core::output::result_file::ResultFile;
use mite_core::run::layered_config;
use mite_core::run::{RunError, StopReason};
use mite_core::scenario::config_keys::ConfigKeys;
use mite_core::scenario::file::{self as scenario_file, ClientOptions};
use mite_core::{Config, Registry, RunOptions, RunResult, Scenario, model::cores, output::report};
use mite_tools::{Target, TargetOptions};

use crate::args::{Cli, Command, CommonArgs, DemoArgs, HarAction, JourneyAction, OutputArgs, RunArgs, ScenarioAction};
use crate::exit_reason::ExitReason;
use crate::output;
use crate::signals::Signals;

/// Exit code for errors (bad input, a run that could not start, a threshold naming an
/// unknown transaction).
pub const EXIT_ERROR: u8 = 1;
/// Exit code when a threshold failed.
pub const EXIT_THRESHOLD: u8 = 3;
/// Exit code when `compare` finds a regression beyond the limit.
pub const EXIT_REGRESSION: u8 = 4;
/// Exit code of a run stopped by SIGINT, SIGTERM or SIGHUP (its results are still written):
/// a CI gate must not take a cut-short run for a pass.
pub const EXIT_INTERRUPTED: u8 = 5;
/// Exit code of an interrupt that exits at once without results (128 + SIGINT): a run's third,
/// or a second before its first request, in `journey test` or while its results are written.
pub const EXIT_ABORTED: i32 = 130;

/// Where a run's results go besides the table.
#[derive(Default)]
struct Outputs<'a> {
    json: Option<&'a Path>,
    html: Option<&'a Path>,
    thresholds: Vec<String>,
    /// Print the `--phases` table.
    phases: bool,
    /// `scenario test`: the thresholds are a dry run's verdict, said as such; counts and rates
    /// (one core's, for a few seconds) are not judged, and the exit code counts none of them.
    dry_run: bool,
    dashboard_linger: Duration,
    prometheus_linger: Duration,
    /// Lines said once the outputs are checked, before the run (where the dashboard and the
    /// metrics are served, the demo's target), so that a refused output is not said after them.
    announce: Vec<String>,
}

/// Runs the command line.
pub fn dispatch(cli: Cli, registry: Registry) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => run_main(&registry, cli.run),
        Some(Command::Journey { action: JourneyAction::Test { journey, datapool, rows, scenario, common } }) => {
            // Before the scenario is read: a signal is never "killed".
            Signals::installed().cancel_at_once();
            match scenario {
                Some(file) => {
                    let mut resolved = resolve_for(&registry, &file, &common.config, scenario_file::Purpose::Journey)?;
                    resolved.registry.find_journey(&journey)?;
                    resolved.check_journey_config_keys(&journey, &common.config)?;
                    resolved.check_journey_run("journey test", &journey, datapool.as_deref())?;
                    // The file's [config] under MITE_CONF_* and --config, as in a run (it was
                    // taken as --config values, above the environment), and its [client].
                    let file = Some((&resolved.scenario.config, &resolved.client));
                    journey_test(&resolved.registry, &journey, datapool.as_deref(), rows, &common, file)
                }
                None => {
                    find_registered_journey(&registry, &journey)?;
                    journey_test(&registry, &journey, datapool.as_deref(), rows, &common, None)
                }
            }
        }
        Some(Command::Journey { action: JourneyAction::Run { journey, datapool, scenario, json, common } }) => {
            journey_run(&registry, &journey, datapool.as_deref(), scenario.as_deref(), json.as_deref(), &common)
        }
        Some(Command::Scenario { action: ScenarioAction::Test { scenario, duration, common } }) => {
            Signals::installed();
            let mut resolved = resolve(&registry, &scenario, &common.config)?;
            resolved.check_config_keys(&common.config)?;
            // Brief: 10 s, or the file's own duration when shorter (a file of `duration = "2s"`
            // ran 10 s).
            let brief = resolved.duration.map_or(SCENARIO_TEST_DURATION, |d| d.min(SCENARIO_TEST_DURATION));
            let options = RunOptions {
                cores: vec![cores::available()[0]],
                duration: Some(duration.unwrap_or(brief)),
                pin: false,
                ..run_options(&common, &resolved.client)
            };
            // The file's thresholds, judged as a dry run can (it judged none, saying nothing).
            let thresholds = resolved.thresholds.clone();
            execute(
                resolved,
                (&common.config, 0),
                &options,
                Outputs { phases: common.phases, thresholds, dry_run: true, ..Outputs::default() },
                false,
            )
        }
        Some(Command::Scenario { action: ScenarioAction::Check { scenario, config, cores } }) => {
            let mut resolved = resolve(&registry, &scenario, &config)?;
            resolved.check_config_keys(&config)?;
            // A registered scenario's entry naming no registered journey: refused as a run refuses it.
            mite_core::run::entry_journeys(&resolved.registry, &resolved.scenario)?;
            if let (Some(places), Some(cores)) = (&resolved.places, cores) {
                // What a run on that many cores refuses, refused here too, at its line.
                places.check_split(&resolved.scenario, cores)?;
            }
            check(&resolved, cores.unwrap_or(1));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Har { action: HarAction::Convert { har, output, host, keep_static } }) => {
            har_convert(&har, &output, &host, keep_static)
        }
        // The demo runs the shipped HTTP example, whatever the crate registered.
        Some(Command::Demo(args)) => demo(&mite_journeys::registry(), args),
        Some(Command::New { dir, engine_path }) => Ok(crate::scaffold::write(&dir, engine_path.as_deref())?),
        Some(Command::Compare { results, max_regression, html }) => compare(&results, max_regression, html.as_deref()),
        Some(Command::Merge { results, output, html, mixed_scenarios, thresholds, partial }) => {
            crate::merge::merge(&crate::merge::MergeRequest {
                paths: &results,
                output: &output,
                html: html.as_deref(),
                mixed: mixed_scenarios,
                thresholds: &thresholds,
                partial,
            })
        }
        Some(Command::Target { addr, threads }) => target(addr, threads),
        Some(Command::List) => {
            list(&registry);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `har convert HAR -o TOML`: a recording becomes a scenario file.
/// Largest HAR recording `har convert` reads: far above a browser session's (bodies included),
/// and a bound on what `har convert /dev/zero` can take.
const HAR_FILE_BYTES_MAX: u64 = 1 << 30;

fn har_convert(har: &Path, output: &Path, host: &[String], keep_static: bool) -> anyhow::Result<ExitCode> {
    // `-o rec.har` wrote the scenario over the recording; a full disk left half a file. The
    // output is checked as a run's are, and written whole or not at all.
    output::not_an_input("-o", output, &[har.to_path_buf()])?;
    let sink = output::check("-o", output)?;
    // Bounded: `har convert /dev/zero` read until memory ran out.
    let bytes = output::read_bounded_bytes(har, HAR_FILE_BYTES_MAX, "a HAR recording")?;
    let text = String::from_utf8(bytes).map_err(|e| output::not_text(har, e.as_bytes(), e.utf8_error()))?;
    let converted =
        mite_core::scenario::har::convert(&text, host, keep_static).map_err(|e| anyhow!("{}: {e}", har.display()))?;
    // Replaced as a run's --json or merge's -o are (no command refuses an existing output),
    // but said: a scenario file edited by hand is lost so.
    let replaced = if std::fs::metadata(output).is_ok_and(|m| m.is_file()) { " (the file there replaced)" } else { "" };
    output::write(&sink, converted.toml.as_bytes())
        .with_context(|| format!("-o {}: the scenario file was NOT written", output.display()))?;
    tell(format_args!(
        "{}: {} of {} requests kept ({} static assets dropped, {} other hosts dropped, {} redirect hops \
         left to the session) -> {}{replaced}",
        har.display(),
        converted.kept,
        converted.total,
        converted.dropped_static,
        converted.dropped_host,
        converted.dropped_redirect,
        output.display()
    ));
    if !converted.dropped_not_http.is_empty() {
        let schemes: Vec<String> = converted.dropped_not_http.iter().map(|(s, n)| format!("{n} {s}:")).collect();
        tell(format_args!(
            "note: dropped {} entries that are not HTTP requests ({}): a journey sends HTTP requests only; \
             a WebSocket is a [websockets.NAME] journey",
            converted.dropped_not_http.iter().map(|(_, n)| n).sum::<usize>(),
            schemes.join(", ")
        ));
    }
    for dropped in &converted.dropped_headers {
        tell(format_args!("note: recorded header {dropped}"));
    }
    if converted.multipart_as_form > 0 {
        tell(format_args!(
            "note: {} multipart posts written as URL-encoded forms (no multipart bodies are sent, and a HAR holds \
             no uploaded file's content): check them against what the target expects",
            converted.multipart_as_form
        ));
    }
    if !converted.unset_cookies.is_empty() {
        tell(format_args!(
            "note: the recording sent cookies no recorded response set (scripts, or an earlier session): {}; \
             add them to a step with cookies = {{ .. }} if the target needs them",
            converted.unset_cookies.join(", ")
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line on standard output; a closed one (`mite-engine list | head -3`) is not a panic.
/// Text from a scenario file or a server in it is shown, never obeyed by the terminal: control
/// characters and bidirectional overrides are written out (`report::printable_lines`).
fn say(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stdout(), "{}", report::printable_lines(&line.to_string()));
}

/// One line on standard error; a terminal gone (SIGHUP) is not a panic that would replace the
/// command's exit code. Escaped as [`say`] is.
pub(crate) fn tell(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "{}", report::printable_lines(&line.to_string()));
}

fn list(registry: &Registry) {
    say(format_args!("journeys:"));
    for name in registry.journey_names() {
        say(format_args!("  {name}"));
    }
    say(format_args!("datapools:"));
    for name in registry.datapool_names() {
        say(format_args!("  {name}"));
    }
    say(format_args!("scenarios:"));
    for name in registry.scenario_names() {
        say(format_args!("  {name}"));
    }
}

/// A scenario ready to run, from a registered name or a scenario file.
struct Resolved {
    registry: Registry,
    scenario: Scenario,
    duration: Option<Duration>,
    client: ClientOptions,
    thresholds: Vec<String>,
    /// The transactions a scenario file defines (`threshold::file_transactions`): one that never
    /// ran has no data; when the file defines every journey it runs, a threshold naming another
    /// is refused before the run.
    transactions: Option<mite_core::output::threshold::FileTransactions>,
    /// A scenario file's path and digest (`result_file::scenario_digest`), written in the
    /// result so that `merge` tells results of different files apart.
    source: Option<ScenarioSource>,
    /// A scenario file's entries' places, for errors and warnings that need the cores.
    places: Option<scenario_file::EntryPlaces>,
    /// The configuration keys a scenario file's journeys read.
    config_keys: Option<ConfigKeys>,
    /// The configuration a registered scenario was built from (what its builder read).
    built_from: Option<Config>,
    /// What running one of a scenario file's journeys alone meets before its first request.
    journey_runs: Option<scenario_file::JourneyRuns>,
    /// The warnings said of its `--config` keys and `MITE_CONF_*` variables before the run,
    /// kept in the result file.
    warnings: Vec<String>,
    /// The files a scenario file's run reads (itself, its CSV datapools): no output may name one.
    files_read: Vec<std::path::PathBuf>,
}

impl Resolved {
    /// The transactions known before the run, served on `/metrics` at 0 from the first scrape:
    /// a scenario file's (its steps' and journeys' names), and each entry's journey name, the
    /// row that counts a failure outside any transaction. The transactions a Rust journey
    /// times are named by its code as it runs (`ctx.transaction(name, ...)`): they cannot be
    /// known before, and appear once first recorded.
    fn known_transactions(&self) -> Vec<String> {
        let mut known: std::collections::BTreeSet<String> =
            self.scenario.entries.iter().map(|entry| entry.journey.clone()).collect();
        if let Some(file) = &self.transactions {
            known.extend(file.defined.iter().cloned());
        }
        known.into_iter().collect()
    }

    /// `--config` keys against the keys a scenario file reads (`ConfigKeys::check`): one its
    /// declarative journeys never read is refused, a likely typo beside Rust journeys warned
    /// about. A registered scenario's keys are its Rust code's: not checked.
    /// `MITE_CONF_*` variables are judged the same way, each a warning naming the variable.
    fn check_config_keys(&mut self, overrides: &[String]) -> anyhow::Result<()> {
        if let Some(keys) = &self.config_keys {
            self.warnings.extend(said_config_keys(keys, overrides)?);
        }
        Ok(())
    }

    /// The same for `journey test` and `journey run`, which run journey `journey` alone: the
    /// keys it reads, when the file declares it.
    fn check_journey_config_keys(&mut self, journey: &str, overrides: &[String]) -> anyhow::Result<()> {
        if let Some(keys) = &self.config_keys {
            self.warnings.extend(said_config_keys(&keys.of_journey(journey), overrides)?);
        }
        Ok(())
    }
}

impl Resolved {
    /// `journey test` and `journey run` (`command`) of a file's journey with `datapool` (or
    /// none): refused before the first request when every row would fail the same way (a
    /// `{column}` of a datapool not given), as a `[[scenario]]` entry of that pair would be.
    fn check_journey_run(&self, command: &str, journey: &str, datapool: Option<&str>) -> anyhow::Result<()> {
        let Some(runs) = &self.journey_runs else { return Ok(()) };
        runs.check(journey, datapool).map_err(|e| {
            let entry = self.scenario.entries.iter().find(|entry| entry.journey == journey);
            let pool = entry.and_then(|entry| entry.datapool.as_ref()).map(|pool| pool.name.clone());
            let hint = match (datapool, pool) {
                (Some(given), _) => format!(" (running {journey} with datapool {given})"),
                (None, Some(pool)) => {
                    format!(" (running {journey} without a datapool; the scenario runs it with {pool}: {command} {journey} {pool})")
                }
                (None, None) => format!(" (running {journey} without a datapool)"),
            };
            anyhow!("{e}{hint}")
        })
    }
}

/// One warning for each `--config` key and `MITE_CONF_*` variable that no lookup through
/// `configs` read, after a run of Rust journeys
/// ([`mite_core::scenario::config_keys::never_read`]): said, and returned for the result file.
fn warn_never_read(overrides: &[String], configs: &[&Config], reader: &str) -> Vec<String> {
    // The variables were read (and checked) when the configuration was layered, before the run.
    let env = mite_core::model::config::env_vars().unwrap_or_default();
    let warnings = mite_core::scenario::config_keys::never_read(overrides, &env, configs, reader);
    for warning in &warnings {
        tell(format_args!("WARNING: {warning}"));
    }
    warnings
}

/// `--config` keys and `MITE_CONF_*` variables against `keys`: the error for a `--config`
/// key nothing reads, else the warnings said (returned for the result file).
fn said_config_keys(keys: &ConfigKeys, overrides: &[String]) -> anyhow::Result<Vec<String>> {
    let mut warnings = keys.check(overrides)?;
    warnings.extend(keys.check_env(mite_core::model::config::env_vars()?));
    for warning in &warnings {
        tell(format_args!("WARNING: {warning}"));
    }
    Ok(warnings)
}

fn resolve(base: &Registry, name: &str, overrides: &[String]) -> anyhow::Result<Resolved> {
    resolve_for(base, name, overrides, scenario_file::Purpose::Scenario)
}

/// `resolve` for `purpose`: a scenario file loaded to run one of its journeys alone needs no
/// `[[scenario]]` entry.
fn resolve_for(
    base: &Registry,
    name: &str,
    overrides: &[String],
    purpose: scenario_file::Purpose,
) -> anyhow::Result<Resolved> {
    if scenario_file::is_scenario_file(name) {
        let loaded = scenario_file::load_for(Path::new(name), base, overrides, purpose)?;
        let text = std::fs::read_to_string(name).with_context(|| format!("reading {name}"))?;
        mite_core::output::threshold::from_file(&loaded, &text)?;
        return Ok(Resolved {
            registry: loaded.registry,
            scenario: loaded.scenario,
            duration: loaded.duration,
            client: loaded.client,
            thresholds: loaded.thresholds,
            transactions: mite_core::output::threshold::file_transactions(&text),
            source: Some(ScenarioSource {
                file: name.to_string(),
                digest: mite_core::output::result_file::scenario_digest(&text),
            }),
            places: Some(loaded.entry_places),
            config_keys: Some(loaded.config_keys),
            built_from: None,
            journey_runs: Some(loaded.journey_runs),
            warnings: {
                for warning in &loaded.warnings {
                    tell(format_args!("WARNING: {warning}"));
                }
                loaded.warnings
            },
            files_read: loaded.files_read,
        });
    }
    let build = base.find_scenario(name)?;
    let first = layered_config(&Config::default(), overrides)?;
    let mut scenario = build(&first).map_err(|e| anyhow!("scenario {name}: {e}"))?;
    // A scenario built without a name (`..Scenario::default()`) goes by the one it is
    // registered under, in what the run says and in its result.
    if scenario.name.trim().is_empty() {
        scenario.name = name.to_string();
    }
    Ok(Resolved {
        registry: base.clone(),
        scenario,
        duration: None,
        client: ClientOptions::default(),
        thresholds: Vec::new(),
        transactions: None,
        source: None,
        places: None,
        config_keys: None,
        built_from: Some(first),
        journey_runs: None,
        warnings: Vec::new(),
        files_read: Vec::new(),
    })
}

fn check(resolved: &Resolved, cores: usize) {
    let shown = |name: &str| report::printable(name).into_owned();
    say(format_args!("scenario {}: ok", shown(&resolved.scenario.name)));
    for (i, entry) in resolved.scenario.entries.iter().enumerate() {
        let pool = match &entry.datapool {
            Some(pool) => format!(
                "{} ({}, {}{})",
                shown(&pool.name),
                mite_core::output::units::counted(pool.len() as u64, "row"),
                if pool.is_recyclable() { "recyclable" } else { "single-use" },
                shared_pool_words(&resolved.scenario, i)
            ),
            None => "no datapool".into(),
        };
        say(format_args!(
            "  {} with {pool}, volume = {}",
            shown(&entry.journey),
            mite_core::scenario::file_words::VolumeWords(&entry.volume)
        ));
    }
    if let Some(duration) = resolved.duration {
        say(format_args!("  duration {duration:?}"));
    }
    for threshold in &resolved.thresholds {
        say(format_args!("  threshold {}", shown(threshold)));
    }
    // A name the file does not define, beside a registered journey: perhaps a typo.
    if let Some(file) = &resolved.transactions {
        for threshold in
            resolved.thresholds.iter().filter_map(|t| mite_core::output::threshold::Threshold::parse(t).ok())
        {
            if let Some(warning) = threshold.undefined_in(file) {
                say(format_args!("WARNING: {warning}"));
            }
        }
    }
    // Rows, journeys and rates per core, as on `--cores` cores (one when not given).
    let split = mite_core::scenario::preflight::Split::cores(cores);
    match &resolved.places {
        Some(places) => {
            for (i, warning) in mite_core::scenario::preflight::entry_warnings(&resolved.scenario, split) {
                say(format_args!("WARNING: {}", places.at(i, warning)));
            }
        }
        None => {
            for warning in mite_core::scenario::preflight::warnings(&resolved.scenario, split) {
                say(format_args!("WARNING: {warning}"));
            }
        }
    }
}

/// `, shared with entry 2 (checkout): each row is used once across these 2 entries` for an
/// entry whose single-use pool other entries name too (they share its rows), else nothing.
fn shared_pool_words(scenario: &Scenario, index: usize) -> String {
    let others = mite_core::scenario::preflight::sharing_single_use_pool(scenario, index);
    if others.is_empty() {
        return String::new();
    }
    let named: Vec<String> =
        others.iter().map(|&i| format!("{} ({})", i + 1, report::printable(&scenario.entries[i].journey))).collect();
    let (last, first) = named.split_last().expect("at least one other entry");
    let entries =
        if first.is_empty() { format!("entry {last}") } else { format!("entries {} and {last}", first.join(", ")) };
    format!(
        ", shared with {entries}: each row is used once across these {} entries, by whichever takes it first",
        others.len() + 1
    )
}

/// Client settings: CLI flags, then the scenario file, then the defaults.
fn run_options(common: &CommonArgs, file: &ClientOptions) -> RunOptions {
    let driver = common.driver;
    let defaults = HttpSettings::default();
    let max_connections = common.max_connections.or(file.max_connections).unwrap_or(defaults.connections_per_host_max);
    let timeout = common.timeout.or(file.timeout).unwrap_or(defaults.request_timeout);
    let connect_timeout = common.connect_timeout.or(file.connect_timeout).unwrap_or(defaults.connect_timeout);
    let headers_count_max = common.max_headers.or(file.max_headers).unwrap_or(defaults.limits.headers_count_max);
    // Each is in range already: the flags' value parsers and the scenario file's loader check them.
    RunOptions {
        driver,
        http: HttpSettings {
            connect_timeout,
            request_timeout: timeout,
            connections_per_host_max: max_connections,
            follow_redirects: file.follow_redirects.unwrap_or(defaults.follow_redirects),
            max_redirects: file.max_redirects.unwrap_or(defaults.max_redirects),
            limits: {
                let mut limits = defaults.limits;
                limits.headers_count_max = headers_count_max;
                limits.head_bytes_max = common.max_head_bytes.or(file.max_head_bytes).unwrap_or(limits.head_bytes_max);
                limits
            },
            ..defaults
        },
        tls: TlsOptions {
            ca_file: common.ca.clone().or_else(|| file.ca.clone()),
            insecure: common.insecure || file.insecure.unwrap_or(false),
            client_cert: common.cert.clone().or_else(|| file.cert.clone()),
            client_key: common.key.clone().or_else(|| file.key.clone()),
        },
        ..RunOptions::default()
    }
}

/// How long `scenario test` runs without `--duration`, at most (a scenario file's own
/// `duration`, when shorter, is taken instead).
const SCENARIO_TEST_DURATION: Duration = Duration::from_secs(10);

fn run_main(registry: &Registry, args: RunArgs) -> anyhow::Result<ExitCode> {
    // Before the scenario is read (a large CSV takes a while): a signal is never "killed".
    Signals::installed();
    let Some(scenario) = args.scenario.as_deref() else {
        // Refused by `Cli::check` (exit 2) when the command line is parsed; kept for a caller
        // that builds its `RunArgs` itself.
        bail!("{}", crate::args::SCENARIO_REQUIRED);
    };
    let mut resolved = resolve(registry, scenario, &args.common.config)?;
    resolved.check_config_keys(&args.common.config)?;
    let segment = args.check_segment(std::env::var("JOB_COMPLETION_INDEX").ok())?;
    let start_at = args.start_at;
    let mut options = RunOptions {
        cores: args.cores.0,
        duration: args.duration.or(resolved.duration),
        tick: args.tick,
        grace: args.grace,
        pin: !args.no_pin,
        segment,
        start_at,
        ..run_options(&args.common, &resolved.client)
    };
    let mut thresholds = resolved.thresholds.clone();
    thresholds.extend(args.outputs.thresholds.iter().cloned());
    let mut outputs = apply_outputs(&mut options, &args.outputs, thresholds, resolved.known_transactions())?;
    outputs.phases = args.common.phases;
    execute(resolved, (&args.common.config, 0), &options, outputs, args.quiet)
}

/// Sets the run's interval outputs from the flags (starting the dashboard, whose address is
/// said once the end-of-run outputs are checked) and returns the end-of-run ones. The transactions known before the run
/// (`Resolved::known_transactions`) are on `/metrics`, at 0, from the first scrape.
fn apply_outputs<'a>(
    options: &mut RunOptions,
    flags: &'a OutputArgs,
    thresholds: Vec<String>,
    known: Vec<String>,
) -> anyhow::Result<Outputs<'a>> {
    options.hdr_log = flags.hdr_log.clone();
    let mut announce = Vec::new();
    if let Some(addr) = flags.prometheus {
        let exporter =
            mite_core::output::exposition::Exporter::start(addr).with_context(|| format!("--prometheus {addr}"))?;
        exporter.know_transactions(known);
        announce.push(format!("Prometheus metrics on http://{}/metrics", exporter.addr()));
        options.prometheus = Some(Arc::new(exporter));
    }
    if let Some(addr) = flags.dashboard {
        let dashboard = mite_core::output::html::dashboard::Dashboard::start(addr)
            .with_context(|| format!("--dashboard {addr}"))?;
        announce.push(format!("live dashboard on http://{}/", dashboard.addr()));
        options.dashboard = Some(Arc::new(dashboard));
    }
    Ok(Outputs {
        json: flags.json.as_deref(),
        html: flags.html.as_deref(),
        thresholds,
        phases: false,
        dry_run: false,
        dashboard_linger: flags.dashboard_linger,
        prometheus_linger: flags.prometheus_linger,
        announce,
    })
}

/// Runs `resolved` with `overrides` (`--config` values) layered on its configuration. Of
/// `(overrides, set_by_command)`, the first `set_by_command` are set by the command itself
/// (the demo's `target_url`): layered like the rest, never warned about as unread.
fn execute(
    resolved: Resolved,
    (overrides, set_by_command): (&[String], usize),
    options: &RunOptions,
    outputs: Outputs<'_>,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    // A scenario file's volume models against the cores, named at their lines (the run
    // refuses the same, without the file's places).
    if let Some(places) = &resolved.places {
        places.check_split(&resolved.scenario, options.cores.len() * options.segment.1)?;
    }
    // Thresholds are parsed before the run so that a typo does not cost a whole test.
    let thresholds = outputs
        .thresholds
        .iter()
        .map(|t| mite_core::output::threshold::Threshold::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    // A name the scenario file cannot record could never be checked: a typo, said before the run.
    if let Some(known) = resolved.transactions.as_ref().filter(|file| file.complete).map(|file| &file.defined)
        && let Some(threshold) = thresholds.iter().find(|t| t.unknown_in(Some(known)).is_some())
    {
        let name = threshold.unknown_in(Some(known)).unwrap_or_default();
        bail!("threshold {:?}: {}", threshold.text(), mite_core::output::threshold::not_in_file(name, known));
    }
    let before_the_run = warn_before_the_run(&resolved, &thresholds, options.segment);
    // Output paths are checked before the first request, so that a typo does not cost the run.
    let named = [("--json", outputs.json), ("--html", outputs.html), ("--hdr-log", options.hdr_log.as_deref())];
    output::distinct(&named)?;
    // Outside try: `--html users.toml` overwrote the scenario file being run with the report.
    for (flag, path) in named.iter().filter_map(|&(flag, path)| Some((flag, path?))) {
        output::not_an_input(flag, path, &resolved.files_read)?;
    }
    let json = outputs.json.map(|path| output::check("--json", path)).transpose()?;
    let html = outputs.html.map(|path| output::check("--html", path)).transpose()?;
    // The interval log is opened by the run itself; checked here too, so that a FIFO is an
    // error rather than a wait before the first request.
    if let Some(path) = &options.hdr_log {
        output::check_log("--hdr-log", path)?;
    }
    for line in &outputs.announce {
        tell(format_args!("{line}"));
    }
    let Resolved { registry, scenario, transactions, source, built_from, mut warnings, .. } = resolved;
    // Every warning said is kept in the result file, in the order said.
    warnings.extend(before_the_run);
    let config = layered_config(&scenario.config, overrides)?;
    // A registered scenario's: what its builder and journeys read is known once they ran.
    let read_by = built_from.map(|built| (built, config.clone()));
    let signals = Signals::installed();
    if signals.interrupted() {
        return Ok(interrupted_before_the_start());
    }
    // Progress, notices and the table never panic on a closed terminal (SIGHUP): a failed
    // write to the terminal must not lose the run or its result files.
    let mut hdr_log_failed = false;
    let mut lines = crate::stderr_lines::StderrLines::start();
    // A second signal ends the grace at once (`signals`).
    let options = &RunOptions { grace_cut: signals.grace_cut_flag(), ..options.clone() };
    let run = mite_core::run_scenario(&registry, scenario, config, options, signals.stop_flag(), &mut |event| {
        hdr_log_failed |= matches!(event, RunEvent::HdrLogFailed(_));
        warnings.extend(warning_of(event));
        if matches!(event, RunEvent::Started { .. }) {
            signals.run_started();
        }
        if !(quiet && is_progress(event)) {
            lines.say(format!("{}\n", report::printable_lines(&event.to_string())));
        }
    });
    lines.finish();
    let (result, lost) = match run {
        Err(RunError::InterruptedBeforeStart) => return Ok(interrupted_before_the_start()),
        run => kept_result(run)?,
    };
    signals.run_ended();
    if let Some((built, run)) = &read_by {
        warnings.extend(warn_never_read(&overrides[set_by_command..], &[built, run], "the scenario"));
    }
    // Outside try: a 1 s run of a ramp from 0 (read at each tick: none in the first) started
    // nothing and ended with exit 0, an empty table and no word why.
    let said_before = warnings.iter().any(|w| w.contains("runs no journey at all"));
    if let Some(warning) = nothing_started(&result, options, said_before || lost.is_some()) {
        tell(format_args!("WARNING: {warning}"));
        warnings.push(warning);
    }
    // A segment has a share of the counts and rates: those are judged by `merge`, on the whole.
    let segmented = options.segment.1 > 1;
    let (judged, shares): (Vec<_>, Vec<_>) =
        thresholds.iter().partition(|t| !((segmented || outputs.dry_run) && t.is_share()));
    let mut checked: Vec<_> = judged.iter().map(|t| t.check(&result, transactions.as_ref())).collect();
    let left: Vec<String> = shares.iter().map(|t| t.text().to_string()).collect();
    let stored = Stored {
        source,
        run_id: mite_core::output::result_file::new_run_id(),
        thresholds: outputs.thresholds.clone(),
        cores_lost: lost.clone(),
        warnings,
    };
    let not_written =
        write_outputs(&result, &stored, (json.as_ref(), html.as_ref()), (&checked, &left), outputs.phases);
    signals.results_written();
    if let Some(dashboard) = &options.dashboard {
        dashboard.publish_final(&result, &checked, &left);
    }
    linger(options, &outputs, result.stopped_by == StopReason::Interrupted, signals);
    if outputs.dry_run {
        dry_run_verdict(std::mem::take(&mut checked), &shares, &result);
        return Ok(exit_code(checked, &result, &not_written, hdr_log_failed, lost.as_deref()));
    }
    for share in shares {
        let text = report::printable(share.text());
        let _ = writeln!(
            std::io::stdout(),
            "threshold {text}: left to merge (a segment's counts and rates are a share of the whole)"
        );
    }
    Ok(exit_code(checked, &result, &not_written, hdr_log_failed, lost.as_deref()))
}

/// `scenario test`'s word on the file's thresholds: each met or not by the dry run's figures,
/// those of counts and rates not judged, all said to be a dry run's (the exit code counts none).
fn dry_run_verdict(
    checked: Vec<mite_core::output::threshold::Checked>,
    shares: &[&mite_core::output::threshold::Threshold],
    result: &RunResult,
) {
    if checked.is_empty() && shares.is_empty() {
        return;
    }
    let mut said = format!(
        "\ndry run's verdict on the thresholds (one core for {:.2}s: a real run's figures differ; the exit code \
         counts none of these):\n",
        result.duration_s
    );
    for check in checked {
        match check {
            Ok(outcome) => {
                let verdict = if outcome.passed { "met" } else { "NOT met" };
                let (text, actual) = (report::printable(&outcome.text), report::printable(&outcome.actual));
                let _ = writeln!(said, "  threshold {text}: {verdict} by the dry run (actual {actual})");
            }
            Err(err) => {
                let _ = writeln!(said, "  threshold ERROR: {}", report::printable_composed(&err.to_string()));
            }
        }
    }
    for share in shares {
        let _ = writeln!(
            said,
            "  threshold {}: not judged by a dry run (a count or a rate of one core for a few seconds is not a \
             run's)",
            report::printable(share.text())
        );
    }
    let _ = std::io::stdout().write_all(said.as_bytes());
}

/// The run's result, also when it ended without a core (a journey panicked on it, or never
/// yielded it): then with the error's words, said after the result is written.
fn kept_result(run: Result<RunResult, RunError>) -> anyhow::Result<(RunResult, Option<String>)> {
    match run {
        Err(error @ RunError::CoresLost { .. }) => {
            let text = error.to_string();
            let RunError::CoresLost { result, .. } = error else { unreachable!("matched above") };
            Ok((*result, Some(text)))
        }
        run => Ok((run?, None)),
    }
}

/// Refuses a registry in which a name was registered twice (the later registration replaced
/// the earlier, which would never run), naming each.
pub(crate) fn registered_once(registry: &Registry) -> Result<(), String> {
    match registry.registered_twice() {
        [] => Ok(()),
        twice => Err(format!(
            "{} registered twice in the crate's register function: the later registration would replace \
             the earlier; give each its own module:name",
            twice.join(", ")
        )),
    }
}

/// The warning for a whole run that started no journey (a ramp from 0 read at a tick that never
/// came), unless it was interrupted or `explained` (said before the run, or a core was lost:
/// the journeys it started are in no report, and the volume models did ask for them).
fn nothing_started(result: &RunResult, options: &RunOptions, explained: bool) -> Option<String> {
    let silent = result.merged.journeys.started == 0
        && result.stopped_by != StopReason::Interrupted
        && options.segment.1 == 1
        && !explained;
    silent.then(|| {
        format!(
            "the run started no journey in its {:.2}s: nothing was measured; its volume models asked for none \
             in that time (they are read once a tick, {:?} here: a ramp from 0 asks for its first journeys a \
             tick or more after the start); give a longer --duration or a shorter --tick",
            result.duration_s, options.tick
        )
    })
}

/// What may be wrong, said before the run: beside a registered journey, a threshold naming a
/// transaction the scenario file does not define (a typo?); on a segment of a distributed run,
/// a volume that leaves this segment nothing (it would run to its end measuring nothing).
fn warn_before_the_run(
    resolved: &Resolved,
    thresholds: &[mite_core::output::threshold::Threshold],
    segment: (usize, usize),
) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(file) = &resolved.transactions {
        warnings.extend(thresholds.iter().filter_map(|t| t.undefined_in(file)));
    }
    if segment.1 > 1 {
        warnings.extend(mite_core::scenario::preflight::segment_warnings(&resolved.scenario, segment));
    }
    for warning in &warnings {
        // Composed with its names made printable (preflight, threshold): their escapes kept.
        tell(format_args!("WARNING: {}", report::printable_composed(warning)));
    }
    warnings
}

/// The warning a run's event says on the terminal (`WARNING: ...`), as the result file keeps
/// it (without the `WARNING: `); `None` for any other event.
fn warning_of(event: &RunEvent<'_>) -> Option<String> {
    match event {
        RunEvent::Warning(text) => Some(text.to_string()),
        RunEvent::StartTimePassed(_) => Some(event.to_string().trim_start_matches("WARNING: ").to_string()),
        _ => None,
    }
}

/// What `-q` hides: the progress lines, one per interval. Warnings, notes and errors (and the
/// line that says the run started) are said all the same.
fn is_progress(event: &RunEvent<'_>) -> bool {
    matches!(event, RunEvent::Interval(_))
}

/// After the results are written, the dashboard keeps serving the final report and the
/// metrics endpoint the final totals, each for its linger (side by side), or until a signal.
/// After an interrupt the metrics do not linger (a stopping pod), the dashboard does (a user
/// who pressed Ctrl-C to see the final report; Ctrl-C again leaves).
fn linger(options: &RunOptions, outputs: &Outputs<'_>, interrupted: bool, signals: &Signals) {
    let mut wait = Duration::ZERO;
    if let Some(dashboard) = options.dashboard.as_ref().filter(|_| !outputs.dashboard_linger.is_zero()) {
        let _ = writeln!(
            std::io::stderr(),
            "dashboard: the final report stays at http://{}/ for {:?} (save it from the page, or fetch /report.html)",
            dashboard.addr(),
            outputs.dashboard_linger
        );
        wait = wait.max(outputs.dashboard_linger);
    }
    if let Some(exporter) = options.prometheus.as_ref().filter(|_| !outputs.prometheus_linger.is_zero() && !interrupted)
    {
        let _ = writeln!(
            std::io::stderr(),
            "serving the final metrics on http://{}/metrics for {:?}",
            exporter.addr(),
            outputs.prometheus_linger
        );
        wait = wait.max(outputs.prometheus_linger);
    }
    if !wait.is_zero() {
        signals.wait(wait);
    }
}

/// The run's exit code (README's table): an error (1) wins over an interrupt (5), which wins
/// over a failed threshold (3). One line says the code and every reason that applied, so the
/// code a script sees is the one printed.
fn exit_code(
    checked: Vec<mite_core::output::threshold::Checked>,
    result: &RunResult,
    not_written: &[&str],
    hdr_log_failed: bool,
    lost: Option<&str>,
) -> ExitCode {
    let thresholds = threshold_verdict(checked);
    if let Some(lost) = lost {
        tell(format_args!("error: {}", report::printable(lost)));
    }
    let panicked = result.merged.journeys.panicked;
    let reasons: Vec<ExitReason<'_>> = [
        lost.is_some().then_some(ExitReason::CoresLost),
        (panicked > 0).then_some(ExitReason::JourneysPanicked(panicked)),
        (thresholds.unchecked > 0).then_some(ExitReason::ThresholdUnchecked),
        (!not_written.is_empty()).then_some(ExitReason::NotWritten(not_written)),
        hdr_log_failed.then_some(ExitReason::HdrLogIncomplete),
        (result.stopped_by == StopReason::Interrupted).then_some(ExitReason::Interrupted),
        (thresholds.failed > 0).then_some(ExitReason::ThresholdFailed),
    ]
    .into_iter()
    .flatten()
    .collect();
    // A failed threshold alone is said by its own lines; anything else gets the code's line.
    crate::exit_reason::exit_with(&reasons, true)
}

/// The interrupted exit code, said, when a signal stopped the run (`journey run`).
fn interrupted(result: &RunResult) -> Option<ExitCode> {
    (result.stopped_by == StopReason::Interrupted).then(|| {
        let _ = writeln!(std::io::stderr(), "{}: exit code {EXIT_INTERRUPTED}", ExitReason::Interrupted);
        ExitCode::from(EXIT_INTERRUPTED)
    })
}

/// An interrupt before the first request: nothing was sent, so there is nothing to write.
fn interrupted_before_the_start() -> ExitCode {
    let _ = writeln!(
        std::io::stderr(),
        "interrupted before the run started: nothing was sent and no results were written (exit code {EXIT_INTERRUPTED})"
    );
    ExitCode::from(EXIT_INTERRUPTED)
}

/// Writes the result files and prints the table. Every output is attempted even when one
/// fails; returns what was not written (`result`, `report`), each said in an error line. The
/// result files are written first; the result framed on standard output (`--json -`) comes
/// after the table.
fn write_outputs(
    result: &RunResult,
    stored: &Stored,
    (json, html): (Option<&output::Sink>, Option<&output::Sink>),
    (thresholds, left_to_merge): (&[mite_core::output::threshold::Checked], &[String]),
    phases: bool,
) -> Vec<&'static str> {
    let json_to_stdout = json.is_some_and(output::Sink::is_stdout);
    let mut written = Vec::new();
    if let Some(sink) = json
        && !sink.is_stdout()
    {
        written.push(("--json", "result", sink, write_json(sink, result, stored)));
    }
    if let Some(sink) = html {
        let page = mite_core::output::html::render_run(result, thresholds, left_to_merge);
        written.push(("--html", "report", sink, output::write(sink, page.as_bytes())));
    }
    let table = shown_or_cut_off(
        print_result(result, json_to_stdout, None),
        written.iter().any(|(.., outcome)| outcome.is_ok()),
    );
    if phases {
        let table = report::phases_table(&result.merged);
        if json_to_stdout {
            let _ = write!(std::io::stderr(), "\n{table}");
        } else {
            let _ = write!(std::io::stdout(), "\n{table}");
        }
    }
    if json_to_stdout {
        let framed = write_json(&output::Sink::Stdout, result, stored);
        written.push(("--json", "result", &output::Sink::Stdout, framed));
    }
    let mut not_written = Vec::new();
    // The table is only a view of a result file written; without one, it was the result.
    if let (false, Err(err)) = (written.iter().any(|(.., outcome)| outcome.is_ok()), table) {
        let to = if json_to_stdout { "standard error" } else { "standard output" };
        let _ = writeln!(
            std::io::stderr(),
            "error: the result table could not be written to {to}: {err}; no --json or --html holds the result"
        );
        not_written.push("result table");
    }
    for (flag, what, sink, outcome) in written {
        let _ = match outcome {
            Ok(()) => writeln!(std::io::stderr(), "{what} written to {}", sink.describe()),
            Err(err) => {
                not_written.push(what);
                let err = output::not_written(flag, &format!("the {what}"), sink, &err);
                let kept = match (flag, sink) {
                    ("--json", output::Sink::Regular(..)) => kept_instead(result, stored),
                    _ => String::new(),
                };
                writeln!(std::io::stderr(), "error: {}{kept}", report::printable_lines(&err.to_string()))
            }
        };
    }
    not_written
}

/// A result that `--json FILE` could not hold (a full disk, a directory gone): written to the
/// temporary directory instead, named by the run's id, so that the run's figures are not lost
/// with the file (an hour's run to a full disk kept only its table). What to add to the error
/// line: where it is, or that it could not be kept there either.
fn kept_instead(result: &RunResult, stored: &Stored) -> String {
    let path = std::env::temp_dir().join(format!("mite-result-{}.json", stored.run_id));
    let kept = output::check("--json", &path).and_then(|sink| write_json(&sink, result, stored));
    match kept {
        Ok(()) => format!("; the result is kept at {} instead (move it where it belongs)", path.display()),
        Err(err) => format!("; keeping it at {} failed too: {}", path.display(), err.root_cause()),
    }
}

/// The table's write, a standard output its reader closed (`| head -1`) taken as written: what
/// is shown there is cut off, said in a note, and the exit status stays the run's own, whether
/// or not the table fit the pipe's buffer before the reader left. `held`: a result file holds
/// the result.
fn shown_or_cut_off(table: std::io::Result<()>, held: bool) -> std::io::Result<()> {
    match table {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {
            let held = if held { "" } else { "; no --json or --html holds the result" };
            let _ = writeln!(
                std::io::stderr(),
                "note: standard output was closed by its reader: the result table was cut off{held}"
            );
            Ok(())
        }
        table => table,
    }
}

/// What the thresholds came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Thresholds {
    /// How many failed.
    pub failed: usize,
    /// How many could not be checked (an unknown transaction): an error, never a pass.
    pub unchecked: usize,
}

/// Prints every threshold's outcome, each one whatever the others came to, and what they
/// came to together.
pub(crate) fn threshold_verdict(checked: Vec<mite_core::output::threshold::Checked>) -> Thresholds {
    let total = checked.len();
    let (mut failed, mut unchecked) = (0, 0);
    for check in checked {
        match check {
            Ok(outcome) => {
                let verdict = if outcome.passed { "pass" } else { "FAIL" };
                // The threshold and its figure name transactions: shown, never obeyed.
                let (text, actual) = (report::printable(&outcome.text), report::printable(&outcome.actual));
                let _ = writeln!(std::io::stdout(), "threshold {text}: {verdict} (actual {actual})");
                failed += usize::from(!outcome.passed);
            }
            Err(err) => {
                let _ =
                    writeln!(std::io::stderr(), "threshold ERROR: {}", report::printable_composed(&err.to_string()));
                unchecked += 1;
            }
        }
    }
    if failed > 0 {
        let _ = writeln!(std::io::stderr(), "{failed} of {total} thresholds failed");
    }
    if unchecked > 0 {
        let _ = writeln!(std::io::stderr(), "{unchecked} of {total} thresholds could not be checked");
    }
    Thresholds { failed, unchecked }
}

/// Reads a result file, or a log (`kubectl logs` of a pod run with `--json=-`) holding one,
/// for `compare`: a log holding several pods' results is refused (compare takes one run).
fn read_result_file(path: &Path, name: &str, read: ReadResult) -> anyhow::Result<ResultFile> {
    let mut parts = read_result_parts(path, name, &mut Vec::new(), read)?;
    if parts.len() > 1 {
        let segments: Vec<String> = parts.iter().map(|p| p.segment.clone().unwrap_or_else(|| "-".into())).collect();
        bail!(
            "{}: holds {} results (segments {}); compare takes one: merge them first (mite-engine merge)",
            path.display(),
            parts.len(),
            segments.join(", ")
        );
    }
    Ok(parts.remove(0))
}

/// Reads a result file, or a log holding results framed (`kubectl logs` of pods run with
/// `--json=-`; several pods' logs one after another hold one each). Errors name it `name`
/// (`BASE`, `NEW`, or the path), followed by the path when that differs. The warnings said of
/// a log (a frame left out) are added to `warnings`, for a merged file to keep.
pub(crate) fn read_result_parts(
    path: &Path,
    name: &str,
    warnings: &mut Vec<String>,
    read: ReadResult,
) -> anyhow::Result<Vec<ResultFile>> {
    let shown = path.display().to_string();
    let bytes = output::read_bounded_bytes(path, mite_core::limits::RESULT_FILE_BYTES_MAX, "a result file")?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        // A log is read whatever else its lines hold: a line that is not UTF-8 is skipped as
        // any other line that is not a frame's, and a frame's line changed by it fails the
        // frame's checksum (a damaged frame, named by its line).
        Err(e) if holds_frame(e.as_bytes()) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        Err(e) => return Err(output::not_text(path, e.as_bytes(), e.utf8_error())),
    };
    // Only whether it is JSON at all is asked here; what it holds is ResultFile's to judge.
    if let Some(why) = mite_core::output::result_file::not_json(&text) {
        if text.contains(mite_core::output::result_frame::MARKER) {
            return framed_results(&text, &shown, name, warnings, read);
        }
        bail!("{shown} is not a mite-engine result (JSON) nor a log holding one: {why}");
    }
    Ok(vec![read(&text, name).map_err(|e| located(e, name, &shown))?])
}

/// How a command reads a result's text, naming it: [`ResultFile::read`] (every histogram
/// checked), `merge`'s [`ResultFile::read_unchecked`] (each decoded once as it merges), or a
/// page's `read_drawn` (each decoded once, drawn as it is checked).
pub(crate) type ReadResult = fn(&str, &str) -> Result<ResultFile, mite_core::output::result_file::ResultFileError>;

/// Whether `bytes` hold a frame's line marker (a log, not a result file).
fn holds_frame(bytes: &[u8]) -> bool {
    let marker = mite_core::output::result_frame::MARKER.as_bytes();
    bytes.windows(marker.len()).any(|w| w == marker)
}

/// A result file's error, followed by its path (`shown`) when `name` is not that.
fn located(e: mite_core::output::result_file::ResultFileError, name: &str, shown: &str) -> anyhow::Error {
    if name == shown { anyhow!(e) } else { anyhow!("{e} ({shown})") }
}

/// Every result framed in the log `text` (one per segment), saying what was left out: a broken
/// frame after a whole one, whole ones a later one of the same segment replaced, and the same
/// result found more than once (counted once).
fn framed_results(
    text: &str,
    shown: &str,
    name: &str,
    warnings: &mut Vec<String>,
    read: ReadResult,
) -> anyhow::Result<Vec<ResultFile>> {
    let frames = mite_core::output::result_frame::decode_parts(text).map_err(|e| anyhow!("{shown}: {e}"))?;
    let mut parts = Vec::with_capacity(frames.len());
    for frame in frames {
        let label = format!("{name} (the result framed in the log)");
        let part = read(&frame.json, &label).map_err(|e| located(e, name, shown))?;
        if let Some(broken) = &frame.broken_after {
            warnings.push(format!(
                "{shown}: {broken}; the whole result before it is used (an earlier run of this injector)"
            ));
            tell(format_args!("WARNING: {}", warnings[warnings.len() - 1]));
        }
        if frame.replaced > 0 {
            warnings.push(format!(
                "{shown}: {} of segment {} before its last left out (a restarted injector's earlier runs; \
                 several injectors' results in one log are each merged only with their own --segment K/N)",
                if frame.replaced == 1 {
                    "1 whole result".to_string()
                } else {
                    format!("{} whole results", frame.replaced)
                },
                part.segment.as_deref().unwrap_or("none"),
            ));
            tell(format_args!("WARNING: {}", warnings[warnings.len() - 1]));
        }
        if frame.repeats > 0 {
            tell(format_args!(
                "note: {shown}: the result of segment {} is in it {} times (the same result read again): counted once",
                part.segment.as_deref().unwrap_or("none"),
                frame.repeats + 1,
            ));
        }
        parts.push(part);
    }
    Ok(parts)
}

fn compare(paths: &[std::path::PathBuf], limit: f64, html: Option<&Path>) -> anyhow::Result<ExitCode> {
    // The page's path first, before anything is read or shown: `--html a.json` overwrote the
    // result a.json being compared with the page, and a directory that does not exist was said
    // only after the tables.
    let page = html
        .map(|path| {
            output::not_an_input("--html", path, paths)?;
            output::check("--html", path).map(|sink| (path, sink))
        })
        .transpose()?;
    let files = labels(paths)
        .into_iter()
        .zip(paths)
        .enumerate()
        .map(|(i, (label, p))| {
            // With a page, each histogram is drawn as it is checked: decoded once.
            let read: ReadResult =
                if page.is_some() { mite_core::output::html::data::read_drawn } else { ResultFile::read };
            let file = read_result_file(p, if i == 0 { "BASE" } else { "NEW" }, read)?;
            // A figure edited by hand is refused, as merge refuses it, not compared.
            mite_core::output::merge_by_name::figures_agree(&file, &p.display().to_string())?;
            Ok((label, file))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let base = &files[0].1;
    let mut regressions = Vec::new();
    // The comparison is this command's output: a failed write is said.
    let mut shown = String::new();
    for ((name, new), path) in files[1..].iter().zip(&paths[1..]) {
        let (table, found) = mite_core::output::results::compare(base, new, limit);
        let _ = writeln!(shown, "BASE {}\nNEW  {}", paths[0].display(), path.display());
        let _ = writeln!(shown, "{}\n", mite_core::output::results::COMPARE_READING);
        if let Some(note) = mite_core::output::results::scenarios_differ(("BASE", base), ("NEW", new)) {
            let _ = writeln!(shown, "note: {note}\n");
        }
        // `compare r.json r.json` (or a copy, or a merge of r.json alone) said "no regression"
        // as of two runs.
        if let Some(same) = mite_core::output::merge_parts::same_runs(base, new) {
            let _ = writeln!(shown, "note: BASE and NEW are {same}: it is compared with itself\n");
        }
        let _ = writeln!(shown, "{table}");
        regressions.extend(found.into_iter().map(|r| if files.len() > 2 { format!("{name}: {r}") } else { r }));
    }
    // The tables before the page is drawn (some seconds for thousands of names), the verdict after.
    shown_on_stdout("the comparison", &std::mem::take(&mut shown))?;
    if let Some((path, sink)) = page {
        // The files are used up as the page is written (a tree of their page data was 1.5 GB
        // at 10,000 names).
        output::write_with(&sink, |out| mite_core::output::html::write_compare(out, files, limit, &regressions))?;
        tell(format_args!("comparison page written to {}", path.display()));
    }
    if regressions.is_empty() {
        let _ = writeln!(shown, "\nno regression beyond {limit}%");
    } else {
        let _ = writeln!(shown, "\nregressions beyond {limit}%:");
        for regression in &regressions {
            let _ = writeln!(shown, "  {regression}");
        }
    }
    shown_on_stdout("the comparison", &shown)?;
    Ok(if regressions.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REGRESSION) })
}

/// Writes `text` (escaped as [`say`] escapes) to standard output: a reader that stopped early
/// (`| head`) cuts it off, any other failure (a full disk) is an error saying `what` was not
/// written.
fn shown_on_stdout(what: &str, text: &str) -> anyhow::Result<()> {
    match output::write(&output::Sink::Stdout, report::printable_lines(text).as_bytes()) {
        Err(e)
            if e.root_cause()
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() != std::io::ErrorKind::BrokenPipe) =>
        {
            bail!("{what} was NOT written to standard output: {}", e.root_cause())
        }
        _ => Ok(()),
    }
}

/// How pages name result files: their file names when those differ, else their paths.
pub(crate) fn labels(paths: &[std::path::PathBuf]) -> Vec<String> {
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into()))
        .collect();
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    if distinct.len() == names.len() { names } else { paths.iter().map(|p| p.display().to_string()).collect() }
}

/// Prints the result's table under a line saying what ran: a run's cores by id, a merge's
/// (`parts`: how many results it merged) as a count over all its injectors.
pub(crate) fn print_result(result: &RunResult, to_stderr: bool, parts: Option<usize>) -> std::io::Result<()> {
    print_table(result, &report::table(&result.merged, result.duration_s), to_stderr, parts)
}

/// [`print_result`] with the table made already (`table`).
pub(crate) fn print_table(
    result: &RunResult,
    table: &str,
    to_stderr: bool,
    parts: Option<usize>,
) -> std::io::Result<()> {
    use mite_core::output::units::counted;
    let cores = match parts {
        Some(parts) => format!(
            "merged from {} on {} in all",
            counted(parts as u64, "result"),
            counted(result.cores.len() as u64, "core")
        ),
        None => format!("on cores {:?}", result.cores),
    };
    let mut text = format!(
        "\nscenario {} {cores} ({}){}, {:.2}s, {}\n",
        report::printable(&result.scenario),
        result.driver_name(),
        result.segment.as_deref().map(|s| format!(", segment {s}")).unwrap_or_default(),
        result.duration_s,
        result.stopped_words()
    );
    text.push_str(table);
    let text = report::printable_lines(&text);
    // A closed terminal (after SIGHUP) or pipe must not panic here: the result files matter more.
    if to_stderr { std::io::stderr().write_all(text.as_bytes()) } else { std::io::stdout().write_all(text.as_bytes()) }
}

/// Writes the result file, saying whether TLS certificates were verified; `-` writes it to
/// standard output framed for a log stream (`mite_core::output::result_frame`, read back by
/// `merge` from `kubectl logs`). `stored` says what else the file keeps.
fn write_json(sink: &output::Sink, result: &RunResult, stored: &Stored) -> anyhow::Result<()> {
    let mut file = mite_core::output::result_file::result_file(result, true);
    file.scenario_file = stored.source.as_ref().map(|s| s.file.clone());
    file.scenario_digest = stored.source.as_ref().map(|s| s.digest.clone());
    file.run_id = Some(stored.run_id.clone());
    file.thresholds.clone_from(&stored.thresholds);
    file.cores_lost.clone_from(&stored.cores_lost);
    file.warnings.clone_from(&stored.warnings);
    write_file(sink, &file)
}

/// What a run's result file keeps besides its figures, the same in each file it writes.
struct Stored {
    /// The scenario file's path and digest, when the scenario was a file.
    source: Option<ScenarioSource>,
    /// The run's identity ([`mite_core::output::result_file::new_run_id`]).
    run_id: String,
    /// The thresholds as given, for `merge` to judge on the whole.
    thresholds: Vec<String>,
    /// Why the run ended without a core, when it did (`merge` exits 1 on such a part).
    cores_lost: Option<String>,
    /// The warnings said of the run's configuration keys, before and after it.
    warnings: Vec<String>,
}

/// The scenario file a run read: its path as given, and its text's digest.
struct ScenarioSource {
    file: String,
    digest: String,
}

pub(crate) fn write_file(sink: &output::Sink, file: &ResultFile) -> anyhow::Result<()> {
    if sink.is_stdout() {
        // Framed, so that a collector finds it among the log's other lines.
        let text = mite_core::output::result_frame::encode(&file.to_json(), file.segment.as_deref());
        return output::write(sink, text.as_bytes());
    }
    // Written as it is made: a merge of 10,000 names is some 60 MB of text, never held whole.
    output::write_with(sink, |out| {
        serde_json::to_writer_pretty(&mut *out, file)?;
        out.write_all(b"\n")
    })
}

/// `journey test`: JOURNEY once per row, traced. `file`: the scenario file's `[config]` (under
/// `MITE_CONF_*` and `--config`) and `[client]`, or `None`: a registered journey, the defaults.
fn journey_test(
    registry: &Registry,
    journey: &str,
    datapool: Option<&str>,
    rows: Option<usize>,
    common: &CommonArgs,
    file: Option<(&Config, &ClientOptions)>,
) -> anyhow::Result<ExitCode> {
    let (default_config, default_client) = (Config::default(), ClientOptions::default());
    let (file_config, client) = file.unwrap_or((&default_config, &default_client));
    let options = run_options(common, client);
    let (total, rows) = test_rows(registry, datapool, rows)?;
    let config = layered_config(file_config, &common.config)?;
    // A registered journey's keys are known once it ran (a scenario file's were checked).
    let read = file.is_none().then(|| config.clone());
    let signals = Signals::installed();
    if signals.interrupted() {
        return Ok(interrupted_before_the_start());
    }
    let total = total.max(1);
    // The trace goes to standard output, a closed one (SIGHUP) losing nothing but the trace.
    let mut trace = |event: &RunEvent<'_>| {
        if matches!(event, RunEvent::JourneyStarted { .. }) {
            signals.run_started();
        }
        let _ = writeln!(std::io::stdout(), "{}", report::printable_lines(&event.to_string()));
    };
    let stop = signals.stop_flag();
    let started = std::time::Instant::now();
    let tested = mite_core::journey_test(registry, journey, rows, config, &options, &stop, &mut trace);
    // An interrupt's watch for the journey in flight ends here (`signals`).
    signals.run_ended();
    let (merged, driver) = tested?;
    // The rates in the table are over the time the journeys took (they said "in 0.00s").
    let took_s = started.elapsed().as_secs_f64();
    // It read `(own)` alone above the table: the driver, unnamed.
    let _ = writeln!(std::io::stdout(), "\njourney test of {journey} on one core, with the {driver} I/O driver:");
    if let Some(read) = &read {
        warn_never_read(&common.config, &[read], &format!("journey {journey}"));
    }
    let _ = write!(std::io::stdout(), "{}", report::printable_lines(&report::table(&merged, took_s)));
    if common.phases {
        let _ = write!(std::io::stdout(), "\n{}", report::phases_table(&merged));
    }
    if signals.interrupted() {
        let j = merged.journeys;
        tell(format_args!(
            "journey test interrupted: {} of {total} journeys ran ({} ok, {} failed), {} cancelled in flight, \
             {} not run (exit code {EXIT_INTERRUPTED})",
            j.ok + j.failed,
            j.ok,
            j.failed,
            j.cancelled,
            (total as u64).saturating_sub(j.started),
        ));
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(if merged.journeys.failed > 0 { ExitCode::from(EXIT_ERROR) } else { ExitCode::SUCCESS })
}

/// How many rows `journey test` runs, and the rows: the first `rows` of `datapool` (all of
/// them for 0), or none. Each row is taken as its journey starts: `--rows 0` on a range of 50
/// million rows built them all first (34 s and 1.9 GiB before the first journey).
/// Rows `journey test` runs without `--rows`.
const JOURNEY_TEST_ROWS: usize = 10;

fn test_rows(
    registry: &Registry,
    datapool: Option<&str>,
    rows: Option<usize>,
) -> anyhow::Result<(usize, Box<dyn Iterator<Item = mite_core::Row>>)> {
    let Some(name) = datapool else { return Ok((0, Box::new(std::iter::empty()))) };
    let pool = registry.find_datapool(name)?;
    let mut shard = pool.shard(0, 1);
    // The note on a pool shorter than asked is for a --rows given: the default's 10 on a pool of
    // 3 said "--rows 10 asked for more" of a flag never written.
    let (asked, rows) = (rows.is_some(), rows.unwrap_or(JOURNEY_TEST_ROWS));
    let limit = if rows == 0 { pool.len() } else { rows.min(pool.len()) };
    if limit < pool.len() {
        say(format_args!("running the first {limit} of {} rows of {name} (--rows 0 for all)", pool.len()));
    } else if asked && rows > pool.len() {
        // `--rows 9` on a pool of 4 ran 4 without a word: the 5 missing looked like a fault.
        let held = pool.len();
        let held_rows = if held == 1 {
            "1 row".to_string()
        } else {
            format!("{} rows", mite_core::output::units::grouped(held as u64))
        };
        say(format_args!("{name} holds {held_rows}: running every one (--rows {rows} asked for more)"));
    }
    Ok((limit, Box::new((0..limit).map_while(move |_| shard.checkout()))))
}

/// A journey named without `--scenario`: a registered one. A name without `:` is none (registered
/// names are `module:name`) and likely a scenario file's journey, so its error says how to run
/// one.
fn find_registered_journey(registry: &Registry, journey: &str) -> anyhow::Result<()> {
    match registry.find_journey(journey) {
        Ok(_) => Ok(()),
        Err(unknown) if !journey.contains(':') => {
            Err(anyhow::anyhow!("{unknown}; a scenario file's journey is found with --scenario FILE"))
        }
        Err(unknown) => Err(unknown.into()),
    }
}

/// `journey run J [DATAPOOL]`: one journey, through the engine's run loop, then stop.
fn journey_run(
    registry: &Registry,
    journey: &str,
    datapool: Option<&str>,
    scenario_file: Option<&str>,
    json: Option<&Path>,
    common: &CommonArgs,
) -> anyhow::Result<ExitCode> {
    let signals = Signals::installed();
    let (registry, config, client, mut warnings, files_read) = match scenario_file {
        Some(file) => {
            let mut resolved = resolve_for(registry, file, &common.config, scenario_file::Purpose::Journey)?;
            resolved.registry.find_journey(journey)?;
            resolved.check_journey_config_keys(journey, &common.config)?;
            resolved.check_journey_run("journey run", journey, datapool)?;
            (resolved.registry, resolved.scenario.config, resolved.client, resolved.warnings, resolved.files_read)
        }
        None => {
            find_registered_journey(registry, journey)?;
            (registry.clone(), Config::default(), ClientOptions::default(), Vec::new(), Vec::new())
        }
    };
    registry.find_journey(journey)?;
    let datapool = datapool.map(|name| registry.find_datapool(name)).transpose()?;
    let scenario = Scenario {
        name: format!("journey run {journey}"),
        entries: vec![mite_core::ScenarioEntry {
            journey: journey.to_string(),
            datapool,
            volume: mite_core::VolumeModel::Oneshot { journeys: 1 },
        }],
        config,
    };
    let options = RunOptions {
        cores: vec![cores::available()[0]],
        pin: false,
        grace_cut: signals.grace_cut_flag(),
        ..run_options(common, &client)
    };
    let config = layered_config(&scenario.config, &common.config)?;
    // A registered journey's keys are known once it ran (a scenario file's were checked).
    let read = scenario_file.is_none().then(|| config.clone());
    // `--json s.toml` wrote the result over the scenario file it ran (a run refused it).
    if let Some(path) = json {
        output::not_an_input("--json", path, &files_read)?;
    }
    let json = json.map(|path| output::check("--json", path)).transpose()?;
    if signals.interrupted() {
        return Ok(interrupted_before_the_start());
    }
    // Through the bounded queue, as a run's: a standard error nobody reads holds the writing
    // thread, never the run.
    let mut lines = crate::stderr_lines::StderrLines::start();
    let run = mite_core::run_scenario(&registry, scenario, config, &options, signals.stop_flag(), &mut |event| {
        if matches!(event, RunEvent::Started { .. }) {
            signals.run_started();
        }
        // No progress lines for one journey; what to know before trusting it is said (a core
        // held past its report too: the run is waiting for it).
        if matches!(
            event,
            RunEvent::Warning(_)
                | RunEvent::DriverFallback { .. }
                | RunEvent::HdrLogFailed(_)
                | RunEvent::CoreSilent { .. }
        ) {
            lines.say(format!("{}\n", report::printable_lines(&event.to_string())));
            warnings.extend(warning_of(event));
        }
    });
    lines.finish();
    let (result, lost) = match run {
        Err(RunError::InterruptedBeforeStart) => return Ok(interrupted_before_the_start()),
        run => kept_result(run)?,
    };
    signals.run_ended();
    if let Some(read) = &read {
        warnings.extend(warn_never_read(&common.config, &[read], &format!("journey {journey}")));
    }
    let _ = print_result(&result, json.as_ref().is_some_and(output::Sink::is_stdout), None);
    if common.phases {
        let _ = write!(std::io::stdout(), "\n{}", report::phases_table(&result.merged));
    }
    if let Some(sink) = &json {
        let stored = Stored {
            source: None,
            run_id: mite_core::output::result_file::new_run_id(),
            thresholds: Vec::new(),
            cores_lost: lost.clone(),
            warnings,
        };
        write_json(sink, &result, &stored)?;
    }
    if let Some(lost) = lost {
        bail!("{lost}");
    }
    if let Some(interrupted) = interrupted(&result) {
        return Ok(interrupted);
    }
    let panicked = result.merged.journeys.panicked;
    if panicked > 0 {
        let _ = writeln!(std::io::stderr(), "{}: exit code {EXIT_ERROR}", ExitReason::JourneysPanicked(panicked));
    }
    Ok(if result.merged.journeys.ok == 1 { ExitCode::SUCCESS } else { ExitCode::from(EXIT_ERROR) })
}

fn demo(registry: &Registry, args: DemoArgs) -> anyhow::Result<ExitCode> {
    Signals::installed();
    let available = cores::available();
    let in_flight = args.journeys_in_flight();
    let injector = args.cores.0;
    // The target gets a core the injector does not use, when there is one.
    let spare: Vec<usize> = available.iter().copied().filter(|c| !injector.contains(c)).collect();
    let target =
        Target::start(TargetOptions { pin: spare.last().copied().into_iter().collect(), ..TargetOptions::default() })
            .context("starting the embedded target")?;
    // The keys the demo sets are its own: never warned about as configuration nobody read
    // (`execute` warns of the user's `--config` keys alone).
    let mut overrides = vec![format!("target_url={}", target.url("/"))];
    if let Some(flag) = args.journeys {
        overrides.push(format!("journeys={flag}"));
    }
    let set_by_demo = overrides.len();
    overrides.extend(args.common.config.iter().cloned());
    let mut options = RunOptions {
        cores: injector,
        duration: Some(args.duration),
        ..run_options(&args.common, &ClientOptions::default())
    };
    let resolved = resolve(registry, "http_example:scenario", &overrides)?;
    let known = resolved.known_transactions();
    // Said once its outputs are checked: `--json nodir/r.json` was refused after this line
    // had said the demo was on its way.
    let announce = format!(
        "demo: embedded target at {} (core {}), {} journeys in flight",
        target.url("/"),
        spare.last().map_or("unpinned".to_string(), |c| c.to_string()),
        in_flight.map_or_else(|| "the configured".to_string(), |n| n.to_string())
    );
    let mut outputs = Outputs {
        phases: args.common.phases,
        ..apply_outputs(&mut options, &args.outputs, args.outputs.thresholds.clone(), known)?
    };
    outputs.announce.insert(0, announce);
    let code = execute(resolved, (&overrides, set_by_demo), &options, outputs, args.quiet)?;
    // After the run: a closed terminal (SIGHUP) must not turn the run's exit code into a panic.
    let _ = writeln!(std::io::stderr(), "target counted {} requests", mite_core::output::units::grouped(target.hits()));
    target.stop();
    Ok(code)
}

/// The warning for a target listening off loopback (`0.0.0.0`, a LAN address): its routes
/// include hostile ones (`/bad/...`) and an echo, meant for this host's tests. `port`: the
/// port it got (the one asked, or the ephemeral one for 0). Loopback is 127.0.0.0/8 and
/// `::1`, and an IPv4-mapped `::ffff:127.x.y.z` (the same socket as 127.x.y.z).
fn off_loopback_warning(addr: std::net::SocketAddr, port: u16) -> Option<String> {
    if addr.ip().to_canonical().is_loopback() {
        return None;
    }
    Some(format!(
        "WARNING: the target listens on {addr}, not on loopback: anyone who can reach port {port} of this host \
         can use it; --addr 127.0.0.1:{port} keeps it to this host"
    ))
}

/// Runs the tools/ target server until Ctrl-C.
fn target(addr: std::net::SocketAddr, threads: usize) -> anyhow::Result<ExitCode> {
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    let target = Target::start(TargetOptions { addr, threads, ..TargetOptions::default() })
        .with_context(|| format!("starting the target on {addr}"))?;
    if let Some(warning) = off_loopback_warning(addr, target.addr().port()) {
        tell(format_args!("{warning}"));
    }
    tell(format_args!(
        "target listening on {} (routes: / /json /echo /bytes/N /status/CODE /delay/MS /split/MS /bad/MODE; Ctrl-C stops it)",
        target.url("/")
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let hits = target.hits();
    tell(format_args!(
        "target served {} request{}",
        mite_core::output::units::grouped(hits),
        if hits == 1 { "" } else { "s" }
    ));
    target.stop();
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The off-loopback warning had no test. Checked without binding: every loopback form is
    /// quiet (`::ffff:127.0.0.1`, the same socket as 127.0.0.1, was warned about), every other
    /// address warned, with the port the target got.
    #[test]
    fn a_target_off_loopback_is_warned_about() {
        let at = |text: &str| text.parse::<std::net::SocketAddr>().unwrap();
        for quiet in ["127.0.0.1:8080", "127.0.0.2:0", "127.255.255.254:1", "[::1]:8080", "[::ffff:127.0.0.1]:8080"] {
            assert_eq!(off_loopback_warning(at(quiet), 8080), None, "{quiet}");
        }
        for warned in
            ["0.0.0.0:0", "10.0.0.1:8080", "192.168.1.2:8080", "[::]:8080", "[fe80::1]:8080", "[::ffff:10.0.0.1]:80"]
        {
            let said = off_loopback_warning(at(warned), 40123).unwrap_or_default();
            assert!(
                said.starts_with(&format!("WARNING: the target listens on {warned}, not on loopback")),
                "{warned}: {said}"
            );
            assert!(said.ends_with("anyone who can reach port 40123 of this host can use it; --addr 127.0.0.1:40123 keeps it to this host"), "{said}");
        }
    }
    use mite_core::run::{LostCore, LostWhy};

    fn result(stopped_by: StopReason) -> RunResult {
        RunResult {
            scenario: "s".into(),
            cores: vec![0, 1],
            drivers: vec![],
            fallbacks: vec![],
            started_at_unix_s: 0.0,
            duration_s: 1.0,
            stopped_by,
            merged: Default::default(),
            intervals: vec![],
            segment: None,
            tls_verified: Some(true),
            stopped_because: None,
        }
    }

    /// A run that ended without a core keeps its result for the outputs, and exits 1 (an
    /// error wins over the interrupt its stop was).
    #[test]
    fn a_run_without_a_core_keeps_its_result_and_exits_with_an_error() {
        let lost = vec![LostCore {
            core: 1,
            why: LostWhy::Panicked { journey: "journey shop:buy".into(), message: "boom".into() },
            last_report_s: 2.0,
        }];
        let run = Err(RunError::CoresLost { lost, result: Box::new(result(StopReason::Interrupted)) });
        let (kept, text) = kept_result(run).unwrap();
        assert_eq!(kept.cores, [0, 1]);
        let text = text.unwrap();
        assert!(text.starts_with("core 1: a panic outside any journey's run") && text.contains("at 2.0s"), "{text}");
        assert!(text.contains("(journey shop:buy ran there): boom"), "{text}");
        let code = exit_code(Vec::new(), &kept, &[], false, Some(&text));
        assert_eq!(code, ExitCode::from(EXIT_ERROR));
        let (_, none) = kept_result(Ok(result(StopReason::Duration))).unwrap();
        assert!(none.is_none());
        assert!(kept_result(Err(RunError::NoCores)).is_err(), "other errors stay errors");
    }

    /// A name registered twice replaced the first registration without a word (a user's
    /// `register` listing `shop:browse` for two journeys ran only the second).
    #[test]
    fn a_name_registered_twice_is_refused_naming_it() {
        async fn browse(_ctx: &mite_core::Ctx, _row: mite_core::Row) -> mite_core::JourneyResult {
            Ok(())
        }
        let mut registry = Registry::default();
        registry.journey("shop:browse", browse);
        registry.scenario("shop:soak", |_config| Ok(Scenario::default()));
        assert_eq!(registered_once(&registry), Ok(()));
        registry.journey("shop:browse", browse);
        registry.scenario("shop:soak", |_config| Ok(Scenario::default()));
        let said = registered_once(&registry).unwrap_err();
        assert!(said.starts_with(r#"journey "shop:browse", scenario "shop:soak" registered twice"#), "{said}");
    }

    /// `scenario check` of a registered scenario whose entry names no registered journey said
    /// `ok` (exit 0) while the run refused it: refused, as the run refuses it.
    #[test]
    fn scenario_check_looks_a_registered_scenarios_journeys_up() {
        use clap::Parser;
        async fn browse(_ctx: &mite_core::Ctx, _row: mite_core::Row) -> mite_core::JourneyResult {
            Ok(())
        }
        fn entry(journey: &str) -> mite_core::ScenarioEntry {
            mite_core::ScenarioEntry {
                journey: journey.into(),
                datapool: None,
                volume: mite_core::VolumeModel::constant(1),
            }
        }
        let mut registry = Registry::default();
        registry.journey("shop:browse", browse);
        registry.scenario("shop:good", |_config| {
            Ok(Scenario { entries: vec![entry("shop:browse")], ..Scenario::default() })
        });
        registry.scenario("shop:typo", |_config| {
            Ok(Scenario { entries: vec![entry("shop:brwse")], ..Scenario::default() })
        });
        let check = |name: &str| {
            let cli = crate::args::Cli::try_parse_from(["mite-engine", "scenario", "check", name]).unwrap();
            dispatch(cli, registry.clone()).map_err(|err| err.to_string())
        };
        assert_eq!(check("shop:good").unwrap(), ExitCode::SUCCESS);
        let err = check("shop:typo").unwrap_err();
        assert!(err.contains(r#"unknown journey "shop:brwse"; did you mean shop:browse?"#), "{err}");
    }

    /// A run that lost its only core (a journey that never yields) was also told its volume
    /// models asked for no journey, which was untrue: the journeys it started are in no report.
    #[test]
    fn a_run_that_lost_a_core_is_not_told_it_started_nothing() {
        let (run, options) = (result(StopReason::Duration), RunOptions::default());
        let said = nothing_started(&run, &options, false).unwrap_or_default();
        assert!(said.starts_with("the run started no journey in its 1.00s"), "{said}");
        assert_eq!(nothing_started(&run, &options, true), None);
        assert_eq!(nothing_started(&result(StopReason::Interrupted), &options, false), None);
    }

    /// A run in which journeys panicked went on to its end and kept every figure, and exits 1
    /// so that CI notices (before an interrupt's 5 or a failed threshold's 3).
    #[test]
    fn a_run_in_which_journeys_panicked_exits_with_an_error() {
        let mut run = result(StopReason::Duration);
        assert_eq!(exit_code(Vec::new(), &run, &[], false, None), ExitCode::SUCCESS);
        run.merged.journeys.panicked = 2;
        assert_eq!(exit_code(Vec::new(), &run, &[], false, None), ExitCode::from(EXIT_ERROR));
        run.stopped_by = StopReason::Interrupted;
        assert_eq!(exit_code(Vec::new(), &run, &[], false, None), ExitCode::from(EXIT_ERROR));
    }

    /// `journey test login` without `--scenario` said `unknown journey "login"; known: ...`, a
    /// list of registered journeys without the one the user meant: a name without `:` is
    /// likely a scenario file's journey, and the error says how to run one.
    #[test]
    fn an_unknown_journey_without_a_module_says_a_scenario_files_needs_its_file() {
        let registry = Registry::default();
        let err = find_registered_journey(&registry, "login").unwrap_err().to_string();
        assert!(err.starts_with(r#"unknown journey "login""#), "{err}");
        assert!(err.ends_with("a scenario file's journey is found with --scenario FILE"), "{err}");
        let err = find_registered_journey(&registry, "shop:login").unwrap_err().to_string();
        assert!(!err.contains("--scenario"), "{err}");
    }

    /// Before: `error: scenario "" has no entries`, and a result file whose `scenario` is "".
    #[test]
    fn a_registered_scenario_without_a_name_goes_by_its_registered_one() {
        let mut registry = Registry::default();
        registry.scenario("shop:nameless", |_config| Ok(Scenario::default()));
        let resolved = resolve(&registry, "shop:nameless", &[]).map_err(|e| e.to_string()).unwrap();
        assert_eq!(resolved.scenario.name, "shop:nameless");
    }
}
