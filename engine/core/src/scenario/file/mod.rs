//! TOML scenario files: reading one and turning it into a runnable scenario (configuration,
//! client options, datapools, declarative HTTP and WebSocket journeys, scenario entries with
//! volume models). Each part of the file is checked in its own module; every error names the
//! file, the line and the field, and suggests a fix where it can.

mod client;
mod csv_file;
mod csv_shape;
mod datapools;
mod entries;
mod error;
mod header_rows;
mod journeys;
mod not_regular;
mod schema;
mod slashes;
mod volumes;

use std::fmt;
use std::path::Path;
use std::time::Duration;

pub use self::client::{ClientOptions, head_bytes_max};
pub use self::csv_file::{CsvError, read_csv};
pub use self::entries::{EntryPlaces, JourneyRuns};
pub use self::error::ScenarioFileError;
pub use self::not_regular::{NotRegular, not_regular};
pub use crate::scenario::duration::{DurationError, DurationRange, parse_duration};

use self::entries::Entries;
use self::error::Source;
use self::schema::{FileSpec, value_text};
use crate::journey::{Registry, Scenario};
use crate::model::config::Config;
use crate::scenario::config_keys::ConfigKeys;
use crate::scenario::file_words::{field_message, plain_message};

/// A loaded scenario file, ready to run.
pub struct LoadedScenario {
    /// What to run.
    pub scenario: Scenario,
    /// The base registry plus the file's declarative journeys.
    pub registry: Registry,
    /// `duration` from the file.
    pub duration: Option<Duration>,
    /// Client options from the file.
    pub client: ClientOptions,
    /// Threshold expressions from the file (checked at the end of the run).
    pub thresholds: Vec<String>,
    /// Where each threshold is written: the file and the line of `thresholds[i]`.
    threshold_places: Vec<ScenarioFileError>,
    /// Where each entry's volume model is written, for what is checked once the cores are known.
    pub entry_places: EntryPlaces,
    /// The configuration keys the file's journeys read, for checking `--config` keys.
    pub config_keys: ConfigKeys,
    /// What running one of its journeys alone with a datapool (or none) meets before the first
    /// request (`journey test`, `journey run`).
    pub journey_runs: JourneyRuns,
    /// The files it was read from: the scenario file and its datapools' CSV files (as found,
    /// relative to the file's directory), which no output of the run may overwrite.
    pub files_read: Vec<std::path::PathBuf>,
    /// What is likely a mistake but may be meant, each at its place (`s.toml:19:
    /// journeys.login.steps[0].url: ...`): a URL with `//` in its path, rendered from the
    /// configuration, its datapools' first rows and captures standing in.
    pub warnings: Vec<String>,
}

impl LoadedScenario {
    /// An error about the file's `thresholds[index]`, at its line: `s.toml:3: thresholds[0]:
    /// "p99<5": latency 5 has no unit ...` (the threshold parser lives with the outputs).
    pub fn threshold_error(&self, index: usize, message: impl Into<String>) -> ScenarioFileError {
        let mut error = self.threshold_places.get(index).cloned().unwrap_or_else(|| ScenarioFileError {
            file: std::path::PathBuf::new(),
            line: None,
            field: String::new(),
            message: String::new(),
        });
        error.field = format!("thresholds[{index}]");
        error.message = message.into();
        error
    }
}

impl fmt::Debug for LoadedScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedScenario").field("scenario", &self.scenario.name).finish_non_exhaustive()
    }
}

/// Whether `name` looks like a scenario file rather than a registered name (`module:name`,
/// never a `/`): it ends with `.toml`, holds a `/` (a path: `scenario test /tmp` or a
/// misspelt `journeys/scenarios/get` was "unknown scenario"), or names something that exists
/// other than a directory (a named pipe or a device is then refused by [`load_for`] in
/// words, a directory or a missing file named so too).
pub fn is_scenario_file(name: &str) -> bool {
    name.ends_with(".toml") || name.contains('/') || std::fs::metadata(name).is_ok_and(|meta| !meta.is_dir())
}

/// Refuses a scenario path that is not a regular file: reading a named pipe waits for a
/// writer (`mkfifo s.toml` held the command for ever), a device such as `/dev/zero` never
/// ends. A path that cannot be read at all is left to the read, which says why.
fn regular_file(path: &Path) -> Result<(), ScenarioFileError> {
    let Some(what) = not_regular(path) else { return Ok(()) };
    let why = match what {
        NotRegular::NamedPipe => format!(" ({})", what.why()),
        _ => String::new(),
    };
    Err(ScenarioFileError {
        file: path.to_path_buf(),
        line: None,
        field: String::new(),
        message: format!("is {what}{why}: a scenario file must be a regular file (a .toml file)"),
    })
}

/// What a scenario file is loaded for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Running its `[[scenario]]` entries (a run, `scenario check`, `scenario test`): a file
    /// without one is refused.
    Scenario,
    /// Running one of its journeys alone (`journey test`, `journey run`): its entries, when
    /// it has some, are checked all the same, but none is needed.
    Journey,
}

/// Loads and validates a scenario file to run its entries. `overrides` are the `--config`
/// values (they, and `MITE_CONF_*`, count when checking that template variables resolve).
pub fn load(path: &Path, base: &Registry, overrides: &[String]) -> Result<LoadedScenario, ScenarioFileError> {
    load_for(path, base, overrides, Purpose::Scenario)
}

/// Loads and validates a scenario file for `purpose` (see [`load`]).
pub fn load_for(
    path: &Path,
    base: &Registry,
    overrides: &[String],
    purpose: Purpose,
) -> Result<LoadedScenario, ScenarioFileError> {
    regular_file(path)?;
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioFileError {
        file: path.to_path_buf(),
        line: None,
        field: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    let src = Source { file: path, text: &text };
    let spec = read_spec(&src)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let (config, layered) = configs(&src, &spec, overrides)?;
    let duration = spec.duration.as_ref().map(|d| src.duration(d, "duration", DurationRange::RUN)).transpose()?;
    let client = client::client_options(&src, &spec.client, dir)?;
    let pools = datapools::datapools(&src, &spec.datapools, dir)?;
    let mut registry = base.clone();
    for (name, (pool, _)) in &pools {
        registry.datapool_impl(name, pool.clone());
    }
    let declared = journeys::register(&src, &spec, base, &mut registry)?;
    let checked = Entries {
        src: &src,
        spec: &spec,
        base,
        registry: &registry,
        pools: &pools,
        declared: &declared,
        config: &layered,
        needs_an_entry: purpose == Purpose::Scenario,
    };
    let entries = checked.resolve()?;
    let journey_runs = checked.journey_runs();
    let name = spec.name.clone().unwrap_or_else(|| path.display().to_string());
    let config_keys = declared.config_keys(&entries, &config);
    let csv_files = spec.datapools.values().filter_map(|pool| pool.get_ref().csv.as_ref()).map(|csv| dir.join(csv));
    let files_read = std::iter::once(path.to_path_buf()).chain(csv_files).collect();
    let mut warnings = Vec::new();
    for (journey_name, journey) in &declared.http {
        let places = declared.http_places.get(journey_name).map_or(&[][..], Vec::as_slice);
        for found in slashes::doubled_slashes(journey_name, journey, &spec, &pools, &layered) {
            let span = places.get(found.step).and_then(journeys::StepPlaces::url);
            let message = format!(
                "renders as {}{}, whose path has an empty segment (//): many servers answer such a path 404 \
                 (a variable ending in / before a / of the template?); drop one of the slashes",
                found.url,
                found.rendered_with(),
            );
            let field = format!("journeys.{journey_name}.steps[{}].url", found.step);
            warnings.push(src.error(span, field, message).to_string());
        }
    }
    for (journey_name, journey) in &declared.http {
        let places = declared.http_places.get(journey_name).map_or(&[][..], Vec::as_slice);
        // `journeys.J.steps[N].headers.NAME` at the header's line.
        let header_warning = |step: usize, header: &str, message: String| {
            let field = format!("headers.{header}");
            let span = places.get(step).and_then(|step| {
                step.templates().iter().find(|place| place.field == field).map(|place| place.span.clone())
            });
            src.error(span, format!("journeys.{journey_name}.steps[{step}].{field}"), message).to_string()
        };
        for found in header_rows::broken_headers(journey_name, journey, &spec, &pools, &layered) {
            let (pool, row) = &found.row;
            let message = format!(
                "renders as {:?} with row {row} of datapool {pool}, which holds a line break (CR or LF) or a NUL: \
                 every request with such a row fails (invalid_request) before it is sent; a header value is one line",
                found.value
            );
            warnings.push(header_warning(found.step, &found.header, message));
        }
        for found in header_rows::non_ascii_headers(journey_name, journey, &spec, &pools, &layered) {
            warnings.push(header_warning(found.step, &found.header, found.words()));
        }
    }
    for (journey_name, journey) in &declared.ws {
        let runs_with = header_rows::journey_pools(journey_name, &spec, &pools);
        for (header, value, span) in journey.headers_written() {
            for from in header_rows::non_ascii_sources(value, &runs_with, &layered, &[]) {
                let field = format!("websockets.{journey_name}.headers.{header}");
                warnings.push(src.error(Some(span.clone()), field, from.words()).to_string());
            }
        }
        if let Some(found) = slashes::ws_doubled_slash(journey_name, journey.url(), &spec, &pools, &layered) {
            let message = format!(
                "renders as {}{}, whose path has an empty segment (//): many servers refuse the handshake to such \
                 a path (404) (a variable ending in / before a / of the template?); drop one of the slashes",
                found.url,
                found.rendered_with(),
            );
            let field = format!("websockets.{journey_name}.url");
            warnings.push(src.error(Some(journey.url_span()), field, message).to_string());
        }
    }
    Ok(LoadedScenario {
        scenario: Scenario { name, entries, config },
        registry,
        duration,
        client,
        thresholds: spec.thresholds.iter().map(|t| t.get_ref().clone()).collect(),
        threshold_places: spec.thresholds.iter().map(|t| src.error(Some(t.span()), "", "")).collect(),
        entry_places: EntryPlaces::of(&src, &spec),
        config_keys,
        journey_runs,
        files_read,
        warnings,
    })
}

/// The file's tables as written; a value of the wrong type or out of its range is refused
/// naming its line, its dotted field and what the field takes, in words.
fn read_spec(src: &Source<'_>) -> Result<FileSpec, ScenarioFileError> {
    let toml_error = |e: toml::de::Error| {
        let message = match e.span() {
            Some(span) if e.message().trim() == "duplicate key" => duplicate_key(src, span),
            _ => plain_message(e.message().trim()),
        };
        src.error(e.span(), "", message)
    };
    let reader = toml::Deserializer::parse(src.text).map_err(toml_error)?;
    serde_path_to_error::deserialize(reader).map_err(|e| {
        let field = field_path(e.path());
        let inner = e.into_inner();
        let written = inner.span().and_then(|span| src.text.get(span)).unwrap_or_default();
        src.error(inner.span(), field.clone(), field_message(&field, inner.message().trim(), written))
    })
}

/// The reader's "duplicate key" at `span` (the key written the second time), naming the key,
/// and for a table written twice (`[datapools.p]`) the line of the first.
fn duplicate_key(src: &Source<'_>, span: std::ops::Range<usize>) -> String {
    let key = src.text.get(span.clone()).unwrap_or_default();
    let line_start = src.text[..span.start.min(src.text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = src.text[line_start..].lines().next().unwrap_or_default().trim();
    if !line.starts_with('[') {
        return format!("duplicate key {key:?}: it is set twice in the same table; keep one");
    }
    let header = line.split('#').next().unwrap_or(line).trim_end();
    let first = src.text[..line_start].lines().position(|l| l.split('#').next().unwrap_or(l).trim() == header);
    let first = first.map(|i| format!(" (first on line {})", i + 1)).unwrap_or_default();
    format!(
        "duplicate key {key:?}: the table {header} is written twice{first}; write it once, or give the second \
         its own name"
    )
}

/// A serde path as the file writes it (`scenario[0].volume.constant`), without the steps
/// `toml::Spanned` adds.
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut field = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => field.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } if !key.starts_with("$__") => {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(key);
            }
            _ => {}
        }
    }
    field
}

/// The file's `[config]`, and the same with `MITE_CONF_*` and `--config` laid over it (what
/// journeys will see, to check variables against).
fn configs(src: &Source<'_>, spec: &FileSpec, overrides: &[String]) -> Result<(Config, Config), ScenarioFileError> {
    let mut config = Config::default();
    for (key, value) in &spec.config {
        config.set(key.clone(), value_text(value));
    }
    let mut layered = config.clone();
    // The message names `--config` and the value itself, or the variable: said once, without
    // the field.
    let said = |e: crate::model::config::ConfigError| src.error(None, "", e.to_string());
    layered.apply_env(crate::model::config::env_vars().map_err(said)?);
    layered.apply_overrides(overrides).map_err(said)?;
    Ok((config, layered))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::volume::VolumeModel;

    /// `--scenario s.toml` on a named pipe waited for ever for a writer; `/dev/zero` (or a
    /// pipe without `.toml`) was "unknown scenario": each refused in words now, at once.
    #[test]
    fn a_scenario_path_that_is_not_a_regular_file_is_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("s.toml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let err = load(&fifo, &Registry::default(), &[]).err().unwrap().to_string();
        assert!(err.ends_with("is a named pipe (reading it would wait for a writer): a scenario file must be a regular file (a .toml file)"), "{err}");
        assert!(is_scenario_file("/dev/zero") && !is_scenario_file("http_example:scenario"));
        let err = load(Path::new("/dev/zero"), &Registry::default(), &[]).err().unwrap().to_string();
        assert_eq!(err, "/dev/zero: is a device: a scenario file must be a regular file (a .toml file)");
        // A path (it holds a `/`) is a file's, there or not: a directory was "unknown scenario".
        assert!(is_scenario_file("/tmp") && is_scenario_file("journeys/scenarios/get"));
        let err = load(dir.path(), &Registry::default(), &[]).err().unwrap().to_string();
        assert!(err.ends_with("is a directory: a scenario file must be a regular file (a .toml file)"), "{err}");
    }

    /// An entry naming a journey nobody registers listed the registered names twice (`known: api,
    /// ...; defined here: api, ...`), and a new crate's `shop:browse`, checked with the engine's
    /// own binary, got no word of where such a journey comes from.
    #[test]
    fn an_unknown_journey_is_said_once_with_where_a_rust_journey_comes_from() {
        let file = |journey: &str| {
            format!(
                "[journeys.api]\nsteps = [{{ url = \"http://127.0.0.1:1/\" }}]\n[[scenario]]\njourney = \"{journey}\"\n\
                 volume = {{ constant = 1 }}\n"
            )
        };
        let err = load_text(&file("shop:browse")).err().unwrap().to_string();
        assert!(err.contains("unknown journey \"shop:browse\"; known: api; this file defines api; a module:name journey is Rust code, known only to the binary built with it"), "{err}");
        let err = load_text(&file("apx")).err().unwrap().to_string();
        assert!(err.ends_with("unknown journey \"apx\"; did you mean api?; this file defines api"), "{err}");
    }

    /// A file that defines no datapool said `defined here: ` with nothing after it, and did not
    /// say that a registered datapool of that name cannot be named by an entry.
    #[test]
    fn an_unknown_datapool_in_a_file_that_defines_none_says_so() {
        let text = "[journeys.j]\nsteps = [{ url = \"http://127.0.0.1:1/\" }]\n\n\
                    [[scenario]]\njourney = \"j\"\ndatapool = \"mine:users\"\nvolume = { constant = 1 }\n";
        let err = load_text(text).unwrap_err();
        assert!(
            err.message.ends_with("unknown datapool \"mine:users\"; this file defines none (a [datapools.NAME] table)"),
            "{err}"
        );
        let mut registry = Registry::default();
        registry.datapool("mine:users", || crate::model::datapool::DataPool::recyclable("users", vec![]));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        let err = load(&path, &registry, &[]).unwrap_err();
        assert!(
            err.message.ends_with(
                "a registered datapool is for `journey test` and `journey run` only: define it in this file"
            ),
            "{err}"
        );
    }

    fn load_text(text: &str) -> Result<LoadedScenario, ScenarioFileError> {
        // One folder per call (tests run in parallel), removed when dropped.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        load(&path, &Registry::default(), &[])
    }

    /// A file of journeys without a `[[scenario]]` entry loads to run one of them alone, and
    /// is refused to run as a scenario.
    #[test]
    fn entries_are_needed_to_run_the_scenario_only() {
        let text = "[journeys.j]\nsteps = [ { url = \"http://127.0.0.1:9/\" } ]\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        let loaded = load_for(&path, &Registry::default(), &[], Purpose::Journey).unwrap();
        assert!(loaded.scenario.entries.is_empty());
        assert!(loaded.registry.find_journey("j").is_ok());
        let err = load(&path, &Registry::default(), &[]).err().unwrap().to_string();
        assert!(err.contains("scenario: no [[scenario]] entries"), "{err}");
    }

    const GOOD: &str = r#"
name = "shop"
duration = "10s"
[config]
base = "http://127.0.0.1:9/"
[datapools.users]
rows = [["alice", 1], ["bob", 2]]
columns = ["name", "id"]
[journeys.browse]
steps = [
  { transaction = "home", url = "{base}" },
  { transaction = "user", method = "post", url = "{base}echo", body = "{name}", capture = { token = { json = "token" } } },
  { url = "{base}t/{token}", expect_status = [200, 204], think = "10ms" },
]
[[scenario]]
journey = "browse"
datapool = "users"
volume = { stages = [{ ramp = { from = 0, to = 10, duration = "5s" } }, { constant = 10, duration = "5s" }] }
"#;

    /// A `[websockets.NAME]` journey's errors named the journey's first line (or the scenario
    /// entry's) whatever field was wrong; now the line of the field, as everywhere else.
    #[test]
    fn websocket_journey_errors_name_the_line_of_their_field() {
        let file = |url: &str, contains: &str| {
            format!(
                "{}\n[websockets.chat]\nurl = \"{url}\"\nsteps = [\n  {{ send = \"hello {{name}}\" }},\n  {{ receive = 1,\n    contains = \"{contains}\" }},\n]\n[[scenario]]\njourney = \"chat\"\ndatapool = \"users\"\nvolume = {{ constant = 1 }}\n",
                GOOD.trim_end()
            )
        };
        let line_of = |text: &str, needle: &str| text[..text.find(needle).unwrap()].matches('\n').count() + 1;
        assert!(load_text(&file("ws://127.0.0.1:9/", "{id}")).is_ok());
        let text = file("ws://127.0.0.1:9/", "{room}");
        let err = load_text(&text).unwrap_err();
        assert_eq!(
            (err.line, err.field.as_str()),
            (Some(line_of(&text, "contains")), "websockets.chat.steps[1].contains")
        );
        assert!(
            err.message.starts_with("{room} is not a datapool column") && err.message.contains("columns: name, id"),
            "{err}"
        );
        let text = file("{base}", "{id}");
        let err = load_text(&text).unwrap_err();
        assert_eq!(
            (err.line, err.field.as_str()),
            (Some(line_of(&text, "url = \"{base}\"\nsteps")), "websockets.chat.url"),
            "{err}"
        );
        assert!(err.message.contains("http://127.0.0.1:9/"), "{err}");
        let text = file("ws://x/", "{id").replace("send = \"hello {name}\" }", "send = \"a\", timeout = \"1s\" }");
        let err = load_text(&text).unwrap_err();
        assert_eq!(
            (err.line, err.field.as_str()),
            (Some(line_of(&text, "timeout")), "websockets.chat.steps[0]"),
            "{err}"
        );
    }

    /// Steps written as `[[journeys.NAME.steps]]`, one field a line.
    const STEPS: &str = r#"
[journeys.multi]
[[journeys.multi.steps]]
transaction = "home"
url = "{base}"
[[journeys.multi.steps]]
transaction = "post"
method = "POST"
url = "{base}echo"
headers = { "X-A" = "a", "X-B" = "{name}" }
body = "{id}"
expect_status = [200, 299]
think = "1ms"
capture = { tok = { json = "token" } }
cookies = { c = "v" }
query = { q = "{name}" }
auth = { user = "{name}", password = "pw" }
max_redirects = 3
[[scenario]]
journey = "multi"
datapool = "users"
volume = { constant = 1 }
"#;

    /// An HTTP step's errors named the step's first line (or, for a variable or a URL checked
    /// with the datapool, the scenario entry's), whatever field was wrong; a step written as
    /// `[[journeys.NAME.steps]]` spans many lines. Now the line of the field, as for WebSocket
    /// steps, whether the field is checked as the file is read or once its entry is known.
    #[test]
    fn http_step_errors_name_the_line_of_their_field() {
        let good = format!("{GOOD}{STEPS}");
        assert!(load_text(&good).is_ok(), "{:?}", load_text(&good).err());
        let at = "journeys.multi.steps[1]";
        for (line, replacement, field, says) in [
            ("url = \"{base}echo\"", "url = \"ftp://x/\"", "url", "http"),
            ("method = \"POST\"", "method = \"GE T\"", "method", "is not an HTTP method"),
            ("headers = {", "headers = { \"X A\" = \"a\" }", "headers.X A", "is not a header name"),
            ("headers = {", "headers = { \"X-A\" = \"a\\nb\" }", "headers.X-A", "line break"),
            ("headers = {", "headers = { \"X-A\" = \"a\", \"x-a\" = \"b\" }", "headers.x-a", "case-insensitive"),
            ("body = ", "body = \"{id\"", "body", "{id"),
            ("expect_status = ", "expect_status = [299, 200]", "expect_status", "runs backwards"),
            ("think = ", "think = \"1 parsec\"", "think", "parsec"),
            ("capture = ", "capture = { tok = { json = \"t\", header = \"X\" } }", "capture.tok", "exactly one of"),
            ("cookies = ", "cookies = { \"a b\" = \"v\" }", "cookies", "is not a cookie name"),
            ("cookies = ", "cookies = { a = \"x;y\" }", "cookies.a", "holds ';' (it would end the cookie"),
            ("cookies = ", "cookies = { a = \"{name};y\" }", "cookies.a", "every request of this step would fail"),
            ("cookies = ", "cookies = { a = \"x\\u0001\" }", "cookies.a", "a control character"),
            ("max_redirects = ", "max_redirects = 99", "max_redirects", "more than the"),
            ("transaction = \"post\"", "transaction = \" \"", "transaction", "cannot be empty"),
            ("think = ", "json = { a = 1 }", "json", "at most one of body, json and form"),
            ("body = ", "json = { d = 1979-05-27 }", "json", "date"),
            ("auth = ", "auth = { user = \"{name\", password = \"pw\" }", "auth.user", "{name"),
            // Checked once the entry's datapool and config are known.
            ("query = ", "query = { q = \"{nme}\" }", "query.q", "{nme} is not a datapool column"),
            ("headers = {", "headers = { \"X-B\" = \"{nme}\" }", "headers.X-B", "{nme} is not a datapool column"),
            ("auth = ", "auth = { user = \"u\", password = \"{nme}\" }", "auth.password", "{nme}"),
            ("url = \"{base}echo\"", "url = \"{nme}/echo\"", "url", "{nme} is not a datapool column"),
            ("url = \"{base}echo\"", "url = \"{name}/echo\"", "url", "with the first datapool row"),
            ("body = ", "body = \"{tok}\"", "body", "{tok} is captured by this step, from what it receives"),
        ] {
            let start = good.find(&format!("\n{line}")).unwrap_or_else(|| panic!("{line}")) + 1;
            let end = start + good[start..].find('\n').unwrap();
            let text = format!("{}{replacement}{}", &good[..start], &good[end..]);
            let err = load_text(&text).unwrap_err();
            let expected_line = good[..start].matches('\n').count() + 1;
            assert_eq!(
                (err.line, err.field.as_str()),
                (Some(expected_line), format!("{at}.{field}").as_str()),
                "{err}"
            );
            assert!(err.message.contains(says), "{says:?} in {err}");
        }
    }

    /// A capture read before the step that takes it was "not a datapool column, an earlier
    /// capture or a config key", with the advice to set it in config: now the step that
    /// captures it is named, and the fix.
    #[test]
    fn a_capture_read_before_its_step_names_the_step_that_takes_it() {
        let early = GOOD.replace(r#"url = "{base}" }"#, r#"url = "{base}?t={token}" }"#);
        let err = load_text(&early).unwrap_err();
        assert_eq!(err.field, "journeys.browse.steps[0].url", "{err}");
        assert!(err.message.starts_with("{token} is captured by steps[1], not before this step: a capture"), "{err}");
        assert!(err.message.contains("move this step after steps[1]"), "{err}");
        let err = load_text(&GOOD.replace(r#"body = "{name}","#, r#"body = "{token}","#)).unwrap_err();
        assert_eq!(err.field, "journeys.browse.steps[1].body", "{err}");
        assert!(err.message.starts_with("{token} is captured by this step, from what it receives"), "{err}");
    }

    /// A journey's own fields (`pace`, an empty `steps`) are named at their lines too (they
    /// named the journey's first line).
    #[test]
    fn journey_errors_name_the_line_of_their_field() {
        let line = |text: &str, needle: &str| text[..text.find(needle).unwrap()].matches('\n').count() + 1;
        let good = format!("{GOOD}{STEPS}");
        let text = good.replace("[journeys.multi]\n", "[journeys.multi]\n\npace = \"2 parsecs\"\n");
        let err = load_text(&text).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (Some(line(&text, "pace =")), "journeys.multi.pace"), "{err}");
        let text = format!("{GOOD}[journeys.empty]\npace = \"1s\"\nsteps = []\n");
        let err = load_text(&text).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (Some(line(&text, "steps = []")), "journeys.empty.steps"), "{err}");
    }

    /// A literal basic-auth user holding ':' (or either part a control character) was taken,
    /// and every request of the step then failed unsent, said per request at run time. It is
    /// refused at load, at the field's line, by the rule each request is held to; what a
    /// variable brings stays a check per request.
    #[test]
    fn basic_auth_no_request_could_send_is_refused_at_its_line() {
        let good = format!("{GOOD}{STEPS}");
        let auth = "auth = { user = \"{name}\", password = \"pw\" }";
        let line = good[..good.find(auth).unwrap()].matches('\n').count() + 1;
        for (user, password, field, says) in [
            ("a:b", "pw", "auth.user", "user \"a:b\" holds ':' (the server would read the password from it"),
            ("{first}:{name}", "pw", "auth.user", "user \"{first}:{name}\" holds ':'"),
            ("a\\u0007b", "pw", "auth.user", "holds a control character"),
            ("ann", "p\\tw", "auth.password", "the password holds a control character"),
            ("{name}", "x\\n{id}", "auth.password", "the password holds a control character"),
        ] {
            let text = good.replace(auth, &format!("auth = {{ user = \"{user}\", password = \"{password}\" }}"));
            let err = load_text(&text).unwrap_err();
            let expected = format!("journeys.multi.steps[1].{field}");
            assert_eq!((err.line, err.field.as_str()), (Some(line), expected.as_str()), "{err}");
            assert!(err.message.contains(says) && err.message.contains("would fail unsent"), "{err}");
            assert!(!err.message.contains("p\tw"), "the password is not shown: {err}");
        }
        // A password may hold colons; a variable's value is the request's to check.
        for (user, password) in [("ann", "a:b:c"), ("{name}", "{id}"), ("ann", "{id}:x")] {
            let text = good.replace(auth, &format!("auth = {{ user = \"{user}\", password = \"{password}\" }}"));
            assert!(load_text(&text).is_ok(), "{user} / {password}: {:?}", load_text(&text).err());
        }
    }

    #[test]
    fn loads_a_full_file() {
        let loaded = load_text(GOOD).unwrap();
        assert_eq!(loaded.scenario.name, "shop");
        assert_eq!(loaded.duration, Some(Duration::from_secs(10)));
        assert_eq!(loaded.scenario.entries.len(), 1);
        assert_eq!(loaded.scenario.entries[0].datapool.as_ref().unwrap().len(), 2);
        assert!(loaded.registry.find_journey("browse").is_ok());
        assert_eq!(loaded.scenario.entries[0].volume.duration_s(), Some(10.0));
    }

    /// What the run checks once the cores are known is named at the entry's volume line.
    #[test]
    fn a_split_the_cores_cannot_hold_is_named_at_the_volume() {
        let two = format!(
            "{GOOD}[[scenario]]\njourney = \"browse\"\ndatapool = \"users\"\nvolume = {{ rate = 10, max_in_flight = 2 }}\n"
        );
        let loaded = load_text(&two).unwrap();
        assert!(loaded.entry_places.check_split(&loaded.scenario, 2).is_ok());
        let err = loaded.entry_places.check_split(&loaded.scenario, 3).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (Some(22), "scenario[1].volume"), "{err}");
        assert!(err.message.contains("max_in_flight 2 is below the 3 cores"), "{err}");
        let wide = GOOD.replace("to = 10,", "to = 250000,");
        let loaded = load_text(&wide).unwrap();
        let err = loaded.entry_places.check_split(&loaded.scenario, 2).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (Some(18), "scenario[0].volume"), "{err}");
        assert!(err.to_string().contains("250000 journeys in flight over 2 cores"), "{err}");
    }

    #[test]
    fn errors_name_line_and_field() {
        let bad = GOOD.replace("journey = \"browse\"", "journey = \"brwse\"");
        let err = load_text(&bad).unwrap_err();
        assert_eq!(err.field, "scenario[0].journey");
        assert_eq!(err.line, Some(16));
        assert!(err.message.contains("did you mean browse"), "{err}");

        let bad = GOOD.replace("{base}t/{token}", "{base}t/{tokn}");
        let err = load_text(&bad).unwrap_err();
        assert!(err.message.contains("{tokn}") && err.message.contains("captured so far: token"), "{err}");

        let bad = GOOD.replace("duration = \"10s\"", "duration = \"10 parsecs\"");
        let err = load_text(&bad).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (Some(3), "duration"));

        let bad = GOOD.replace("name = \"shop\"", "nmae = \"shop\"");
        let err = load_text(&bad).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("nmae"), "{err}");

        let bad = GOOD.replace("datapool = \"users\"", "datapool = \"usrs\"");
        let err = load_text(&bad).unwrap_err();
        assert!(err.message.ends_with("unknown datapool \"usrs\"; defined here: users"), "{err}");

        let bad = GOOD.replace("[\"bob\", 2]", "[\"bob\"]");
        let err = load_text(&bad).unwrap_err();
        assert!(err.message.contains("1 value(s), but 2 column(s)"), "{err}");
        assert_eq!(err.field, "datapools.users.rows[1]");
    }

    /// The outside tester's `rows` findings: arrays and tables were sent as TOML text
    /// (`[1, 2]`, `{ a = 1 }`), a column named twice was taken, and `rows` without `columns`
    /// failed later as "{id} is not a datapool column".
    #[test]
    fn inline_rows_take_scalars_under_columns_named_once() {
        let rows = "rows = [[\"alice\", 1], [\"bob\", 2]]";
        for (value, kind) in [("[1, 2]", "an array"), ("{ a = 1 }", "a table")] {
            let bad = GOOD.replace(rows, &format!("rows = [[\"alice\", 1],\n  [\"bob\", {value}]]"));
            let err = load_text(&bad).unwrap_err();
            assert_eq!((err.line, err.field.as_str()), (Some(8), "datapools.users.rows[1][1]"), "{err}");
            assert!(err.message.starts_with(&format!("{kind} is not a datapool value")), "{err}");
        }
        let scalars = GOOD.replace(rows, "rows = [[\"alice\", 1], [\"bob\", 2.5], [\"cat\", true]]");
        let pool = load_text(&scalars).unwrap().scenario.entries[0].datapool.clone().unwrap();
        let mut shard = pool.shard(0, 1);
        let ids: Vec<String> =
            std::iter::from_fn(|| shard.checkout()).map(|r| r.by_name("id").unwrap().to_string()).collect();
        assert_eq!(ids, ["1", "2.5", "true"]);

        let err = load_text(&GOOD.replace("columns = [\"name\", \"id\"]", "columns = [\"id\", \"id\"]")).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (Some(8), "datapools.users.columns"), "{err}");
        assert!(err.message.contains("column \"id\" is named twice (columns 1 and 2)"), "{err}");

        let err = load_text(&GOOD.replace("columns = [\"name\", \"id\"]\n", "")).unwrap_err();
        assert_eq!(err.field, "datapools.users.columns", "{err}");
        assert!(err.message.starts_with("rows needs columns = ["), "{err}");
        let err = load_text(&GOOD.replace(rows, "rows = [[]]").replace("[\"name\", \"id\"]", "[]")).unwrap_err();
        assert!(err.message.starts_with("columns names no column"), "{err}");
    }

    /// `columns` beside a CSV file or a range, or `column` beside rows, named nothing.
    #[test]
    fn column_names_given_to_the_wrong_kind_of_pool_are_refused() {
        let pool = "rows = [[\"alice\", 1], [\"bob\", 2]]\ncolumns = [\"name\", \"id\"]";
        let range = "range = { from = 1, to = 2 }\ncolumns = [\"name\", \"id\"]";
        let err = load_text(&GOOD.replace(pool, range)).unwrap_err();
        assert!(err.message.starts_with("columns = [...] names the values of rows"), "{err}");
        let err = load_text(&GOOD.replace(pool, &format!("{pool}\ncolumn = \"id\""))).unwrap_err();
        assert!(err.message.starts_with("column = \"...\" names a range's numbers only"), "{err}");
        let err = load_text(&GOOD.replace(pool, "range = { from = 1, to = 2 }\ncolumn = \" \"")).unwrap_err();
        assert_eq!(err.field, "datapools.users.column", "{err}");
    }

    /// A table written twice was refused as "duplicate key", naming neither key nor table.
    #[test]
    fn a_table_written_twice_is_named_with_its_first_line() {
        let twice = format!("{GOOD}[datapools.users]\nrange = {{ from = 1, to = 2 }}\n");
        let err = load_text(&twice).unwrap_err();
        assert!(
            err.message
                .contains("duplicate key \"users\": the table [datapools.users] is written twice (first on line 6)"),
            "{err}"
        );
        let err = load_text(&GOOD.replace("duration = \"10s\"", "duration = \"10s\"\nduration = \"5s\"")).unwrap_err();
        assert_eq!(err.line, Some(4));
        assert!(err.message.contains("duplicate key \"duration\": it is set twice"), "{err}");
    }

    const ONE_RATE: &str = "volume = { stages = [{ ramp = { from = 0, to = 10, duration = \"5s\" } }, { constant = 10, duration = \"5s\" }] }";

    #[test]
    fn redirect_counts_past_the_most_are_refused() {
        let max = crate::limits::REDIRECTS_MAX;
        let step = |n: u32| {
            GOOD.replace("url = \"{base}\" }", &format!("url = \"{{base}}\", max_redirects = {n} }}"))
                .replace("[config]", &format!("[client]\nmax_redirects = {n}\n[config]"))
        };
        assert!(load_text(&step(u32::from(max))).is_ok());
        let err = load_text(&step(u32::from(max) + 1)).unwrap_err();
        assert_eq!((err.field.as_str(), err.line), ("client.max_redirects", Some(5)));
        assert!(err.message.contains(&format!("more than the {max} allowed")), "{err}");
        let err = load_text(
            &step(u32::from(max))
                .replacen(&format!("max_redirects = {max}\n"), "", 1)
                .replace(&format!("max_redirects = {max} }}"), &format!("max_redirects = {} }}", u32::from(max) + 1)),
        )
        .unwrap_err();
        assert_eq!((err.field.as_str(), err.line), ("journeys.browse.steps[0].max_redirects", Some(12)));
    }

    #[test]
    fn client_errors_name_their_line() {
        let err = load_text(&GOOD.replace("[config]", "[client]\nmax_connections = 0\n[config]")).unwrap_err();
        assert_eq!((err.field.as_str(), err.line), ("client.max_connections", Some(5)), "{err}");
        let err = load_text(&GOOD.replace("[config]", "[client]\ntimeout = \"0s\"\n[config]")).unwrap_err();
        assert_eq!((err.field.as_str(), err.line), ("client.timeout", Some(5)), "{err}");
        let loaded = load_text(&GOOD.replace("[config]", "[client]\nmax_connections = 3\n[config]")).unwrap();
        assert_eq!(loaded.client.max_connections, Some(3));
        for n in [0, 1025] {
            let err =
                load_text(&GOOD.replace("[config]", &format!("[client]\nmax_headers = {n}\n[config]"))).unwrap_err();
            assert_eq!((err.field.as_str(), err.line), ("client.max_headers", Some(5)), "{err}");
            assert!(err.to_string().contains("must be from 1 to 1024 (per response)"), "{err}");
        }
        let loaded = load_text(&GOOD.replace("[config]", "[client]\nmax_headers = 400\n[config]")).unwrap();
        assert_eq!(loaded.client.max_headers, Some(400));
    }

    /// The response-head limit could be raised by `--max-head-bytes` alone: `[client]
    /// max_head_bytes` takes the same sizes by the same rule, a bad one refused at its line
    /// with the flag's words and what to write instead.
    #[test]
    fn max_head_bytes_takes_the_flags_sizes_and_refuses_the_rest_at_its_line() {
        let client = |value: &str| GOOD.replace("[config]", &format!("[client]\nmax_head_bytes = {value}\n[config]"));
        for (value, bytes) in [
            ("\"256KiB\"", 256 * 1024),
            ("204800", 204_800),
            ("\"1 MiB\"", 1 << 20),
            ("\"16MiB\"", 16 << 20),
            ("\"64kib\"", 65536),
            ("\"64kB\"", 64_000),
        ] {
            assert_eq!(load_text(&client(value)).unwrap().client.max_head_bytes, Some(bytes), "{value}");
        }
        for (value, said) in [
            ("0", "0: must be from 1 to 16,777,216 bytes (16MiB), as a whole number of bytes (B), KiB or MiB"),
            ("-1", "-1: must be from 1 to 16,777,216 bytes"),
            ("\"64k\"", "\"64k\": must be from 1 to 16,777,216 bytes"),
            ("\"17MiB\"", "\"17MiB\": must be from 1"),
            ("\"1.5MiB\"", "\"1.5MiB\": must be from 1"),
        ] {
            let err = load_text(&client(value)).unwrap_err();
            assert_eq!((err.field.as_str(), err.line), ("client.max_head_bytes", Some(5)), "{err}");
            assert!(err.to_string().contains(said), "{value}: {err}");
        }
        let hint = |value: &str| load_text(&client(value)).unwrap_err().to_string();
        assert!(hint("\"64k\"").ends_with("; e.g. max_head_bytes = \"64KiB\""), "{}", hint("\"64k\""));
        assert!(hint("\"17mb\"").ends_with("; e.g. max_head_bytes = \"16MiB\""), "{}", hint("\"17mb\""));
        assert!(hint("0").ends_with("; e.g. max_head_bytes = \"1\""), "{}", hint("0"));
        assert!(hint("\"17MiB\"").ends_with("; e.g. max_head_bytes = \"16MiB\""), "{}", hint("\"17MiB\""));
        assert!(hint("\"lots\"").ends_with("; e.g. max_head_bytes = \"256KiB\""), "{}", hint("\"lots\""));
        assert_eq!(load_text(GOOD).unwrap().client.max_head_bytes, None);
    }

    #[test]
    fn an_arrival_rate_without_max_in_flight_gets_the_default() {
        let loaded = load_text(&GOOD.replace(ONE_RATE, "volume = { rate = 5, duration = \"5s\" }")).unwrap();
        match &loaded.scenario.entries[0].volume {
            VolumeModel::Arrivals { max_in_flight, .. } => {
                assert_eq!(*max_in_flight, crate::limits::ARRIVALS_IN_FLIGHT_DEFAULT);
            }
            other => panic!("{other:?}"),
        }
    }

    /// Every table a file can hold, written wrong, gets an answer that names no Rust type.
    #[test]
    fn type_errors_of_every_table_name_no_rust_type() {
        let ws = |tail: &str| format!("[websockets.chat]\nurl = \"ws://x/\"\n{tail}\n");
        for text in [
            GOOD.replace("url = \"{base}\" }", "url = \"{base}\", auth = 5 }"),
            GOOD.replace("url = \"{base}\" }", "url = \"{base}\", capture = { t = 5 } }"),
            GOOD.replace("url = \"{base}\" }", "url = \"{base}\", expect_status = \"ok\" }"),
            GOOD.replace("[config]", "client = 5\n[config]"),
            GOOD.replace("volume = { stages", "volume = { ramp = 5, stages"),
            format!("{GOOD}\n{}", ws("steps = [5]")),
            format!("{GOOD}\n{}", ws("steps = [{ receive = true }]")),
            format!("{GOOD}\n{}", ws("steps = [{ receive = 1, capture = { t = 5 } }]")),
            format!("websockets = {{ chat = 5 }}\n{GOOD}"),
            format!("datapools = {{ d = 5 }}\n{GOOD}"),
            format!("journeys = {{ j = 5 }}\n{GOOD}"),
            GOOD.replace("datapool = \"users\"", "datapool = \"users\"\nvolume = 5"),
            "scenario = [5]".to_string(),
        ] {
            let err = load_text(&text).unwrap_err().to_string();
            assert!(!err.contains("Spec") && !err.contains("struct") && !err.contains("enum"), "{err}");
        }
    }

    /// A value of the wrong type or range names its dotted field and what the field takes,
    /// with the value as written (before: the line alone, or `as i128`, `of 0 or more`).
    #[test]
    fn type_errors_name_the_field_and_what_it_takes() {
        for (from, to, field, takes) in [
            (ONE_RATE, "volume = { constant = 1.5 }", "scenario[0].volume.constant", "got 1.5"),
            (
                ONE_RATE,
                "volume = { constant = 99999999999999999999 }",
                "scenario[0].volume.constant",
                "0 or more without quotes (one core holds at most 100000), got 99999999999999999999",
            ),
            (
                "constant = 10, duration = \"5s\"",
                "constant = \"8\", duration = \"5s\"",
                "scenario[0].volume.stages[1].constant",
                "got \"8\"",
            ),
            (
                "duration = \"5s\" } }",
                "duration = 5 } }",
                "scenario[0].volume.stages[0].ramp.duration",
                "a duration in quotes",
            ),
            ("[config]", "[client]\nmax_connections = -1\n[config]", "client.max_connections", "from 1 to 65536"),
            (
                "expect_status = [200, 204]",
                "expect_status = [200, 99999]",
                "journeys.browse.steps[2].expect_status",
                "from 100 to 999",
            ),
            ("duration = \"10s\"", "thresholds = [5]", "thresholds[0]", "a threshold in quotes"),
            // Outside try, finding 14: a string where the list goes was said as a bad item.
            (
                "duration = \"10s\"",
                "thresholds = \"errors<1%\"",
                "thresholds",
                "expected a list of thresholds in brackets, like [\"p99<250ms\", \"errors<1%\"], got \"errors<1%\"",
            ),
            ("name = \"shop\"", "name = 5", "name", "expected a string in quotes"),
        ] {
            let err = load_text(&GOOD.replace(from, to)).unwrap_err();
            assert_eq!(err.field, field, "{err}");
            assert!(err.line.is_some() && err.message.contains(takes), "{err}");
            assert!(!err.message.contains("i128") && !err.message.contains("number of 0 or more"), "{err}");
        }
    }

    /// `scenario check` refuses what the run would: a run length outside 1ms to 7 days, a header
    /// that cannot be sent, a status that is not one, a rate no run can start.
    #[test]
    fn what_the_run_refuses_is_refused_at_its_line() {
        for (from, to, field, says) in [
            ("duration = \"10s\"", "duration = \"0s\"", "duration", "must be between 1ms and 7 days"),
            ("duration = \"10s\"", "duration = \"200h\"", "duration", "must be between 1ms and 7 days"),
            (
                "url = \"{base}\" }",
                "url = \"{base}\", headers = { \"X Bad\" = \"v\" } }",
                "journeys.browse.steps[0].headers.X Bad",
                "write e.g. \"X-Bad\"",
            ),
            (
                "url = \"{base}\" }",
                "url = \"{base}\", headers = { \"X\" = \"a\\nb\" } }",
                "journeys.browse.steps[0].headers.X",
                "line break",
            ),
            (
                "expect_status = [200, 204]",
                "expect_status = [204, 200]",
                "journeys.browse.steps[2].expect_status",
                "runs backwards",
            ),
            (ONE_RATE, "volume = { rate = 1e300 }", "scenario[0].volume", "more than any run can start"),
            (ONE_RATE, "volume = { constant = 20000000000000 }", "scenario[0].volume", "more than any run can hold"),
        ] {
            let err = load_text(&GOOD.replace(from, to)).unwrap_err();
            assert_eq!(err.field, field, "{err}");
            assert!(err.line.is_some() && err.message.contains(says), "{err}");
        }
        let at_the_most = crate::limits::ARRIVALS_PER_S_PER_CORE_MAX
            * crate::limits::CORES_MAX as f64
            * crate::limits::SEGMENTS_MAX as f64;
        assert!(load_text(&GOOD.replace(ONE_RATE, &format!("volume = {{ rate = {at_the_most:e} }}"))).is_ok());
    }

    #[test]
    fn volume_needs_exactly_one_kind() {
        let bad = GOOD.replace(
            "volume = { stages = [{ ramp = { from = 0, to = 10, duration = \"5s\" } }, { constant = 10, duration = \"5s\" }] }",
            "volume = { constant = 1, oneshot = 2 }",
        );
        assert!(load_text(&bad).unwrap_err().message.contains("exactly one of"));
    }

    #[test]
    fn csv_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("u.csv");
        std::fs::write(&path, "id,name\n1,a\n2,b,extra\n").unwrap();
        let err = read_csv(&path).unwrap_err().to_string();
        assert!(err.contains("u.csv:3"), "{err}");
        std::fs::write(&path, "id,name\n1,a\n2,b\n").unwrap();
        let table = read_csv(&path).unwrap();
        assert_eq!((table.rows(), &table.columns()[..]), (2, &["id".to_string(), "name".to_string()][..]));
        let mut shard = crate::model::datapool::DataPool::table("u", table, false).shard(1, 2);
        assert_eq!(shard.checkout().unwrap().by_name("name"), Some("b"));
    }

    /// The `//` check skipped WebSocket URLs: `ws://h//chat` (a base ending in `/` before the
    /// template's `/`) is said as an HTTP step's is; the scheme's own `//` is not.
    #[test]
    fn a_websocket_url_with_an_empty_path_segment_is_warned_about() {
        let file = |base: &str| {
            format!(
                "[config]\nbase = \"{base}\"\n[websockets.chat]\nurl = \"{{base}}/chat\"\nsteps = [{{ send = \"hi\" }}]\n\
                 [[scenario]]\njourney = \"chat\"\nvolume = {{ constant = 1 }}\n"
            )
        };
        let loaded = load_text(&file("ws://127.0.0.1:8080/")).unwrap();
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        let warning = &loaded.warnings[0];
        assert!(
            warning.contains(
                ":4: websockets.chat.url: renders as ws://127.0.0.1:8080//chat, whose path has an empty segment (//)"
            ),
            "{warning}"
        );
        for base in ["ws://127.0.0.1:8080", "wss://127.0.0.1:8443/app"] {
            assert!(load_text(&file(base)).unwrap().warnings.is_empty(), "{base}");
        }
    }

    /// A CSV value quoted across lines (`"a\r\nb"`) in a step header failed every request
    /// with its row (`invalid_request`) while `scenario check` said ok: warned about at the
    /// header's line, naming the row; a row that renders one line, or a body, is not.
    #[test]
    fn a_row_that_breaks_a_header_value_is_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("u.csv"), "name,note\nann,\"a\r\nb\"\n\"x\r\ny\",ok\n").unwrap();
        let path = dir.path().join("s.toml");
        let text = "[datapools.users]\ncsv = \"u.csv\"\n[journeys.j]\nsteps = [{ url = \"http://127.0.0.1:1/\",\n  \
                    headers = { \"X-Name\" = \"{name}\" }, body = \"{note}\" }]\n\
                    [[scenario]]\njourney = \"j\"\ndatapool = \"users\"\nvolume = { constant = 1 }\n";
        std::fs::write(&path, text).unwrap();
        let loaded = load(&path, &Registry::default(), &[]).unwrap();
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        let warning = &loaded.warnings[0];
        assert!(
            warning.contains(":5: journeys.j.steps[0].headers.X-Name: renders as \"x\\r\\ny\" with row 2 of datapool users, which holds a line break"),
            "{warning}"
        );
    }

    /// A header name `X-Ü` was told to write `X--`: refused now saying which character no
    /// header name can hold, with no mangled name to copy.
    #[test]
    fn a_header_name_outside_ascii_gets_no_mangled_suggestion() {
        let text = "[journeys.j]\nsteps = [{ url = \"http://127.0.0.1:1/\", headers = { \"X-Ü\" = \"v\" } }]\n";
        let said = load_text(text).expect_err("refused").to_string();
        assert!(said.contains("journeys.j.steps[0].headers.X-Ü: \"X-Ü\" is not a header name"), "{said}");
        assert!(said.contains("'Ü' is not ASCII and no header name can hold it"), "{said}");
        assert!(!said.contains("X--") && !said.contains("write e.g."), "{said}");
    }

    /// A header value that is not ASCII was sent as its UTF-8 bytes without a word: warned
    /// about before the run at the header's line, naming where the text comes from: as written,
    /// a config key, or a datapool column (every row looked at: here row 150, past the rows
    /// rendered for the other checks), each once; a capture's value (the response's) and ASCII
    /// values are not.
    #[test]
    fn a_header_value_that_is_not_ascii_is_warned_about_naming_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let mut csv = String::from("name,id\n");
        for i in 1..150 {
            csv.push_str(&format!("ann{i},{i}\n"));
        }
        csv.push_str("José,150\nÜrsula,151\n");
        std::fs::write(dir.path().join("u.csv"), csv).unwrap();
        let path = dir.path().join("s.toml");
        let text = "[config]\ncity = \"Zürich\"\nplain = \"x\"\n[datapools.users]\ncsv = \"u.csv\"\n\
                    [journeys.j]\nsteps = [\n  { url = \"http://127.0.0.1:1/\", capture = { tok = { header = \"X-T\" } },\n    \
                    headers = { \"X-Who\" = \"{name} {name}\", \"X-Id\" = \"{id} {plain}\" } },\n  \
                    { url = \"http://127.0.0.1:1/\", headers = { \"X-City\" = \"{city}\", \"X-Note\" = \"café {tok}\" } },\n]\n\
                    [[scenario]]\njourney = \"j\"\ndatapool = \"users\"\nvolume = { constant = 1 }\n";
        std::fs::write(&path, text).unwrap();
        let loaded = load(&path, &Registry::default(), &[]).unwrap();
        let warnings = &loaded.warnings;
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
        let expected = [
            ":9: journeys.j.steps[0].headers.X-Who: column name of datapool users (first at row 150: \"José\"; each \
             such row) holds text that is not ASCII (é): it is sent as its UTF-8 bytes",
            ":10: journeys.j.steps[1].headers.X-City: config city (\"Zürich\") holds text that is not ASCII (ü)",
            ":10: journeys.j.steps[1].headers.X-Note: the value as written (\"café \") holds text that is not ASCII (é)",
        ];
        for words in expected {
            assert!(warnings.iter().any(|w| w.contains(words)), "{words}\n{warnings:#?}");
        }
    }

    /// A WebSocket journey's handshake header that is not ASCII was sent as its UTF-8 bytes
    /// without a word, as a step's was: warned about at its line, naming where it comes from.
    #[test]
    fn a_websocket_header_that_is_not_ascii_is_warned_about() {
        let text = "[config]\ncity = \"Zürich\"\n[websockets.chat]\nurl = \"ws://127.0.0.1:1/chat\"\n\
                    headers = { \"X-City\" = \"{city}\", \"X-Note\" = \"héllo\", \"X-Ok\" = \"plain\" }\n\
                    steps = [{ send = \"hi\" }]\n[[scenario]]\njourney = \"chat\"\nvolume = { constant = 1 }\n";
        let warnings = load_text(text).unwrap().warnings;
        assert_eq!(warnings.len(), 2, "{warnings:#?}");
        let expected = [
            ":5: websockets.chat.headers.X-City: config city (\"Zürich\") holds text that is not ASCII (ü)",
            ":5: websockets.chat.headers.X-Note: the value as written (\"héllo\") holds text that is not ASCII (é)",
        ];
        for words in expected {
            assert!(warnings.iter().any(|w| w.contains(words)), "{words}\n{warnings:#?}");
        }
    }
}
