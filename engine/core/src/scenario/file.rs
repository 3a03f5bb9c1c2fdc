//! TOML scenario files: configuration, client options, datapools (inline, range, CSV),
//! declarative HTTP journeys, and scenario entries with volume models. Every error names the
//! file, the line and the field, and suggests a fix where it can.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::journey::{Registry, Scenario, ScenarioEntry};
use crate::model::config::Config;
use crate::model::datapool::{DataPool, Row};
use crate::model::volume::{RateModel, VolumeModel};
use crate::scenario::declarative::{Capture, DeclarativeJourney, Declared, Pace, Step};
use crate::scenario::step_options::{JsonTemplate, StepOptions};
use crate::scenario::template::Template;

/// Rows a CSV datapool may hold (bounds memory; the file is loaded once and partitioned).
pub const CSV_ROWS_MAX: usize = 50_000_000;

/// A scenario file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioFileError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Dotted path of the field (`scenario[1].journey`).
    pub field: String,
    /// What is wrong, and how to fix it.
    pub message: String,
}

impl fmt::Display for ScenarioFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioFileError {}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    name: Option<String>,
    duration: Option<Spanned<String>>,
    #[serde(default)]
    config: BTreeMap<String, toml::Value>,
    #[serde(default)]
    client: ClientSpec,
    #[serde(default)]
    thresholds: Vec<Spanned<String>>,
    #[serde(default)]
    datapools: BTreeMap<String, Spanned<DataPoolSpec>>,
    #[serde(default)]
    journeys: BTreeMap<String, Spanned<JourneySpec>>,
    /// Declarative WebSocket journeys (`crate::ws::steps`).
    #[serde(default)]
    websockets: BTreeMap<String, Spanned<crate::ws::steps::WsJourneySpec>>,
    #[serde(default)]
    scenario: Vec<Spanned<EntrySpec>>,
}

/// HTTP client options a scenario file may set (CLI flags win).
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    max_connections: Option<usize>,
    insecure: Option<bool>,
    ca: Option<String>,
    follow_redirects: Option<bool>,
    max_redirects: Option<u32>,
    cert: Option<String>,
    key: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct DataPoolSpec {
    csv: Option<String>,
    rows: Option<Vec<Vec<toml::Value>>>,
    columns: Option<Vec<String>>,
    range: Option<RangeSpec>,
    column: Option<String>,
    recyclable: Option<bool>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RangeSpec {
    from: i64,
    to: i64,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct JourneySpec {
    steps: Vec<Spanned<StepSpec>>,
    /// `pace = "2s"`, or `pace = { mean = "2s", plus_minus = "500ms" }`.
    pace: Option<toml::Value>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct StepSpec {
    transaction: Option<String>,
    method: Option<String>,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    expect_status: Option<StatusSpec>,
    #[serde(default)]
    capture: BTreeMap<String, CaptureSpec>,
    think: Option<String>,
    #[serde(default)]
    cookies: BTreeMap<String, String>,
    follow_redirects: Option<bool>,
    max_redirects: Option<u32>,
    auth: Option<AuthSpec>,
    json: Option<toml::Value>,
    #[serde(default)]
    form: BTreeMap<String, String>,
    #[serde(default)]
    query: BTreeMap<String, String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct AuthSpec {
    user: String,
    password: String,
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum StatusSpec {
    One(u16),
    Range([u16; 2]),
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct CaptureSpec {
    header: Option<String>,
    json: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct EntrySpec {
    journey: Spanned<String>,
    datapool: Option<Spanned<String>>,
    volume: Spanned<VolumeSpec>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct VolumeSpec {
    constant: Option<u64>,
    duration: Option<String>,
    ramp: Option<RampSpec>,
    stages: Option<Vec<VolumeSpec>>,
    oneshot: Option<u64>,
    nothing: Option<String>,
    rate: Option<f64>,
    ramp_rate: Option<RampRateSpec>,
    rate_stages: Option<Vec<VolumeSpec>>,
    max_in_flight: Option<u64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RampRateSpec {
    from: f64,
    to: f64,
    duration: String,
}

/// Journeys in flight at most for an arrival-rate model that does not say.
pub const MAX_IN_FLIGHT_DEFAULT: u64 = 1000;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RampSpec {
    from: u64,
    to: u64,
    duration: String,
}

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
}

impl fmt::Debug for LoadedScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedScenario").field("scenario", &self.scenario.name).finish_non_exhaustive()
    }
}

/// Client options from a file, resolved.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ClientOptions {
    /// Request timeout.
    pub timeout: Option<Duration>,
    /// Connect timeout.
    pub connect_timeout: Option<Duration>,
    /// Connections per host per core.
    pub max_connections: Option<usize>,
    /// Skip TLS verification.
    pub insecure: Option<bool>,
    /// Extra CA file (relative paths are relative to the scenario file).
    pub ca: Option<PathBuf>,
    /// Follow redirects (default true).
    pub follow_redirects: Option<bool>,
    /// Redirects one request follows (default 5).
    pub max_redirects: Option<u8>,
    /// Client certificate chain (PEM) for mutual TLS, relative to the scenario file.
    pub cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub key: Option<PathBuf>,
}

/// Whether `name` looks like a scenario file rather than a registered name.
pub fn is_scenario_file(name: &str) -> bool {
    name.ends_with(".toml") || Path::new(name).is_file()
}

struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].bytes().filter(|&b| b == b'\n').count() + 1
    }

    fn error(
        &self,
        span: Option<std::ops::Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioFileError {
        ScenarioFileError {
            file: self.file.to_path_buf(),
            line: span.map(|s| self.line_of(s.start)),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses `500ms`, `30s`, `5m`, `2h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration; use e.g. 500ms, 30s, 5m, 1h"))?;
    let seconds = match unit.trim() {
        // A bare number is refused, as in thresholds: `5` could mean seconds or milliseconds.
        "" => return Err(format!("{text:?} has no unit; write {number}s, {number}ms or {number}m")),
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!("{text:?}: unknown unit {other:?}; use ms, s, m or h"));
        }
    };
    if !(0.0..=30.0 * 24.0 * 3600.0).contains(&seconds) {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Loads and validates a scenario file. `overrides` are the `--config` values (they, and
/// `MITE_CONF_*`, count when checking that template variables resolve).
pub fn load(path: &Path, base: &Registry, overrides: &[String]) -> Result<LoadedScenario, ScenarioFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioFileError {
        file: path.to_path_buf(),
        line: None,
        field: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    let cx = Ctx { file: path, text: &text };
    let spec: FileSpec = toml::from_str(&text)
        .map_err(|e| cx.error(e.span(), "", crate::scenario::file_words::plain_message(e.message().trim())))?;
    let dir = path.parent().unwrap_or(Path::new("."));

    let mut config = Config::default();
    for (key, value) in &spec.config {
        config.set(key.clone(), value_text(value));
    }
    let mut layered = config.clone();
    layered.apply_env(std::env::vars());
    layered.apply_overrides(overrides).map_err(|e| cx.error(None, "--config", e.0))?;

    let duration = match &spec.duration {
        None => None,
        Some(d) => Some(parse_duration(d.get_ref()).map_err(|e| cx.error(Some(d.span()), "duration", e))?),
    };
    let client = client_options(&cx, &spec.client, dir)?;

    let mut pools: BTreeMap<String, (DataPool, Option<Vec<String>>)> = BTreeMap::new();
    for (name, pool) in &spec.datapools {
        let built = datapool(&cx, name, pool, dir)?;
        pools.insert(name.clone(), built);
    }

    let mut registry = base.clone();
    for (name, (pool, _)) in &pools {
        registry.datapool_impl(name, pool.clone());
    }
    let mut declared: BTreeMap<String, Arc<DeclarativeJourney>> = BTreeMap::new();
    for (name, journey) in &spec.journeys {
        if base.find_journey(name).is_ok() {
            return Err(cx.error(
                Some(journey.span()),
                format!("journeys.{name}"),
                "this name is already a registered journey; pick another",
            ));
        }
        let built = Arc::new(declarative_journey(&cx, name, journey)?);
        registry.journey_impl(name, Arc::new(Declared(built.clone())));
        declared.insert(name.clone(), built);
    }

    let ws_declared = websocket_journeys(&cx, &spec, base, &mut registry)?;

    if spec.scenario.is_empty() {
        return Err(cx.error(None, "scenario", "no [[scenario]] entries; add one with journey, volume (and datapool)"));
    }
    let mut entries = Vec::new();
    for (i, entry) in spec.scenario.iter().enumerate() {
        let field = format!("scenario[{i}]");
        let entry_ref = entry.get_ref();
        let journey_name = entry_ref.journey.get_ref();
        if let Err(unknown) = registry.find_journey(journey_name) {
            let mut names: Vec<String> = spec.journeys.keys().chain(spec.websockets.keys()).cloned().collect();
            names.extend(base.journey_names().map(str::to_string));
            return Err(cx.error(
                Some(entry_ref.journey.span()),
                format!("{field}.journey"),
                format!("{unknown}; defined here: {}", names.join(", ")),
            ));
        }
        let (datapool, columns) = match &entry_ref.datapool {
            None => (None, None),
            Some(name) => match pools.get(name.get_ref()) {
                Some((pool, columns)) => (Some(pool.clone()), columns.clone()),
                None => {
                    return Err(cx.error(
                        Some(name.span()),
                        format!("{field}.datapool"),
                        format!(
                            "unknown datapool {:?}; defined here: {}",
                            name.get_ref(),
                            pools.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
            },
        };
        if let Some(journey) = declared.get(journey_name) {
            check_variables(&cx, entry, journey, columns.as_deref(), &layered)?;
            let first_row = datapool.as_ref().and_then(|pool| pool.shard(0, 1).checkout());
            journey.check_urls(first_row.as_ref(), &layered).map_err(|(step, message)| {
                cx.error(
                    Some(entry.span()),
                    format!("journeys.{journey_name}.steps[{step}].url"),
                    format!("with the first datapool row and the final config: {message}"),
                )
            })?;
        }
        if let Some(journey) = ws_declared.get(journey_name) {
            let known =
                |v: &str| columns.as_deref().is_some_and(|c| c.iter().any(|c| c == v)) || layered.get(v).is_some();
            journey.check_variables(known).map_err(|(field, message)| cx.error(Some(entry.span()), field, message))?;
        }
        let volume = volume(&cx, &format!("{field}.volume"), entry_ref.volume.get_ref(), entry_ref.volume.span())?;
        entries.push(ScenarioEntry { journey: journey_name.clone(), datapool, volume });
    }
    let name = spec.name.clone().unwrap_or_else(|| path.display().to_string());
    Ok(LoadedScenario {
        scenario: Scenario { name, entries, config },
        registry,
        duration,
        client,
        thresholds: spec.thresholds.iter().map(|t| t.get_ref().clone()).collect(),
    })
}

fn client_options(cx: &Ctx<'_>, spec: &ClientSpec, dir: &Path) -> Result<ClientOptions, ScenarioFileError> {
    let duration = |d: &Option<Spanned<String>>, field: &str| -> Result<Option<Duration>, ScenarioFileError> {
        match d {
            None => Ok(None),
            Some(d) => {
                let value = parse_duration(d.get_ref()).map_err(|e| cx.error(Some(d.span()), field, e))?;
                if value.is_zero() {
                    return Err(cx.error(Some(d.span()), field, "must be above zero"));
                }
                Ok(Some(value))
            }
        }
    };
    if spec.max_connections == Some(0) {
        return Err(cx.error(None, "client.max_connections", "must be at least 1"));
    }
    if spec.cert.is_some() != spec.key.is_some() {
        return Err(cx.error(None, "client", "give both cert = \"client.pem\" and key = \"client.key\" (or neither)"));
    }
    Ok(ClientOptions {
        cert: spec.cert.as_ref().map(|p| dir.join(p)),
        key: spec.key.as_ref().map(|p| dir.join(p)),
        follow_redirects: spec.follow_redirects,
        max_redirects: spec.max_redirects.map(|n| redirects(cx, n, "client.max_redirects")).transpose()?,
        timeout: duration(&spec.timeout, "client.timeout")?,
        connect_timeout: duration(&spec.connect_timeout, "client.connect_timeout")?,
        max_connections: spec.max_connections,
        insecure: spec.insecure,
        ca: spec.ca.as_ref().map(|ca| dir.join(ca)),
    })
}

/// A redirect count within `limits::REDIRECTS_MAX`.
fn redirects(cx: &Ctx<'_>, n: u32, field: &str) -> Result<u8, ScenarioFileError> {
    let max = crate::limits::REDIRECTS_MAX;
    u8::try_from(n)
        .ok()
        .filter(|&n| n <= max)
        .ok_or_else(|| cx.error(None, field, format!("{n} redirects is more than the {max} allowed")))
}

fn datapool(
    cx: &Ctx<'_>,
    name: &str,
    spec: &Spanned<DataPoolSpec>,
    dir: &Path,
) -> Result<(DataPool, Option<Vec<String>>), ScenarioFileError> {
    let field = format!("datapools.{name}");
    let span = Some(spec.span());
    let pool = spec.get_ref();
    let recyclable = pool.recyclable.unwrap_or(true);
    let kinds = usize::from(pool.csv.is_some()) + usize::from(pool.rows.is_some()) + usize::from(pool.range.is_some());
    if kinds != 1 {
        return Err(cx.error(
            span,
            field,
            "give exactly one of csv = \"file.csv\", rows = [[...]], or range = { from, to }",
        ));
    }
    let (rows, columns): (Vec<Row>, Option<Vec<String>>) = if let Some(csv_path) = &pool.csv {
        let (rows, columns) =
            read_csv(&dir.join(csv_path)).map_err(|e| cx.error(span.clone(), format!("{field}.csv"), e))?;
        (rows, Some(columns))
    } else if let Some(rows) = &pool.rows {
        let columns = pool.columns.clone();
        let shared: Option<Arc<[String]>> = columns.clone().map(Arc::from);
        let mut built = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            if let Some(columns) = &columns
                && row.len() != columns.len()
            {
                return Err(cx.error(
                    span.clone(),
                    format!("{field}.rows[{i}]"),
                    format!("{} values, but {} columns ({})", row.len(), columns.len(), columns.join(", ")),
                ));
            }
            let values: Vec<String> = row.iter().map(value_text).collect();
            built.push(match &shared {
                Some(columns) => Row::with_columns(values, columns.clone()),
                None => Row::new(values),
            });
        }
        (built, columns)
    } else {
        let range = pool.range.as_ref().expect("counted above");
        if range.to < range.from {
            return Err(cx.error(
                span,
                format!("{field}.range"),
                format!("to ({}) is below from ({})", range.to, range.from),
            ));
        }
        // In i128: `to - from` of two i64 can overflow i64 (from = i64::MIN, to = i64::MAX).
        let count = (i128::from(range.to) - i128::from(range.from) + 1) as u128;
        if count > CSV_ROWS_MAX as u128 {
            return Err(cx.error(span, format!("{field}.range"), format!("{count} rows is more than {CSV_ROWS_MAX}")));
        }
        let column = pool.column.clone().unwrap_or_else(|| "value".to_string());
        let columns: Arc<[String]> = Arc::from(vec![column.clone()]);
        let rows = (range.from..=range.to).map(|v| Row::with_columns(vec![v.to_string()], columns.clone())).collect();
        (rows, Some(vec![column]))
    };
    if rows.is_empty() {
        return Err(cx.error(span, field, "the datapool has no rows"));
    }
    let pool = if recyclable { DataPool::recyclable(name, rows) } else { DataPool::single_use(name, rows) };
    Ok((pool, columns))
}

/// Reads a CSV file whose header row names the columns. Errors name the file and line.
pub fn read_csv(path: &Path) -> Result<(Vec<Row>, Vec<String>), String> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{}: header row: {e}", path.display()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if columns.is_empty() || columns.iter().any(String::is_empty) {
        return Err(format!("{}:1: the header row must name every column", path.display()));
    }
    let shared: Arc<[String]> = Arc::from(columns.clone());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.position() {
            Some(pos) => format!("{}:{}: {e}", path.display(), pos.line()),
            None => format!("{}: {e}", path.display()),
        })?;
        if rows.len() >= CSV_ROWS_MAX {
            return Err(format!("{}: more than {CSV_ROWS_MAX} rows", path.display()));
        }
        rows.push(Row::with_columns(record.iter().map(str::to_string).collect(), shared.clone()));
    }
    Ok((rows, columns))
}

fn declarative_journey(
    cx: &Ctx<'_>,
    name: &str,
    spec: &Spanned<JourneySpec>,
) -> Result<DeclarativeJourney, ScenarioFileError> {
    let mut steps = Vec::new();
    if spec.get_ref().steps.is_empty() {
        return Err(cx.error(Some(spec.span()), format!("journeys.{name}.steps"), "a journey needs at least one step"));
    }
    for (i, step) in spec.get_ref().steps.iter().enumerate() {
        let field = format!("journeys.{name}.steps[{i}]");
        let span = Some(step.span());
        let s = step.get_ref();
        let template = |text: &str, part: &str| {
            Template::parse(text).map_err(|e| cx.error(span.clone(), format!("{field}.{part}"), e.0))
        };
        let url = Template::parse_url(&s.url).map_err(|e| cx.error(span.clone(), format!("{field}.url"), e.0))?;
        if let Some(literal) = url.as_literal() {
            crate::http::Url::parse(literal)
                .map_err(|e| cx.error(span.clone(), format!("{field}.url"), e.to_string()))?;
        } else if !s.url.starts_with('{') && !s.url.to_ascii_lowercase().starts_with("http") {
            return Err(cx.error(
                span,
                format!("{field}.url"),
                "URLs must start with http:// or https:// (or a variable holding that)",
            ));
        }
        let method_text = s.method.clone().unwrap_or_else(|| "GET".to_string()).to_ascii_uppercase();
        let method = http::Method::from_bytes(method_text.as_bytes()).map_err(|_| {
            cx.error(span.clone(), format!("{field}.method"), format!("{method_text:?} is not an HTTP method"))
        })?;
        let mut headers = Vec::new();
        for (header, value) in &s.headers {
            headers.push((header.clone(), template(value, &format!("headers.{header}"))?));
        }
        let body = s.body.as_deref().map(|b| template(b, "body")).transpose()?;
        let expect = match s.expect_status {
            None => 200..=399,
            Some(StatusSpec::One(code)) => code..=code,
            Some(StatusSpec::Range([low, high])) if low <= high => low..=high,
            Some(StatusSpec::Range([low, high])) => {
                return Err(cx.error(
                    span,
                    format!("{field}.expect_status"),
                    format!("[{low}, {high}] runs backwards"),
                ));
            }
        };
        let mut captures = Vec::new();
        for (var, capture) in &s.capture {
            let capture = match (&capture.header, &capture.json) {
                (Some(header), None) => Capture::Header(header.clone()),
                (None, Some(path)) => Capture::Json(path.split('.').map(str::to_string).collect()),
                _ => {
                    return Err(cx.error(
                        span,
                        format!("{field}.capture.{var}"),
                        "give exactly one of header = \"Name\" or json = \"path.to.field\"",
                    ));
                }
            };
            captures.push((var.clone(), capture));
        }
        let think = s
            .think
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(|e| cx.error(span.clone(), format!("{field}.think"), e))?;
        let transaction = s.transaction.clone().unwrap_or_else(|| format!("{method_text} {}", s.url));
        let options = step_options(cx, s, &field, span)?;
        steps.push(Step { transaction, method, url, headers, body, expect, captures, think, options });
    }
    let pace = spec.get_ref().pace.as_ref().map(|pace| journey_pace(cx, name, pace, spec.span())).transpose()?;
    Ok(DeclarativeJourney { name: name.to_string(), steps, pace })
}

/// `pace = "2s"` (fixed), or `pace = { mean = "2s", plus_minus = "500ms" }` (`plus_minus`
/// defaults to a quarter of the mean, as in Mite).
fn journey_pace(
    cx: &Ctx<'_>,
    name: &str,
    pace: &toml::Value,
    span: std::ops::Range<usize>,
) -> Result<Pace, ScenarioFileError> {
    let field = format!("journeys.{name}.pace");
    let err = |message: String| cx.error(Some(span.clone()), field.clone(), message);
    let usage = "write pace = \"2s\" or pace = { mean = \"2s\", plus_minus = \"500ms\" }";
    let duration = |value: &toml::Value| match value.as_str() {
        Some(text) => parse_duration(text).map_err(&err),
        None => Err(err(format!("{value} is not a duration; {usage}"))),
    };
    match pace {
        toml::Value::String(_) => Ok(Pace { every: duration(pace)?, plus_minus: None }),
        toml::Value::Table(table) => {
            if let Some(key) = table.keys().find(|k| *k != "mean" && *k != "plus_minus") {
                return Err(err(format!("unknown key {key:?}; {usage}")));
            }
            let mean = duration(table.get("mean").ok_or_else(|| err(format!("mean is missing; {usage}")))?)?;
            let plus_minus = table.get("plus_minus").map(duration).transpose()?.unwrap_or(mean / 4);
            Ok(Pace { every: mean, plus_minus: Some(plus_minus) })
        }
        other => Err(err(format!("{other} is not a pace; {usage}"))),
    }
}

/// A step's cookies, redirects, auth, JSON, form and query fields.
fn step_options(
    cx: &Ctx<'_>,
    s: &StepSpec,
    field: &str,
    span: Option<std::ops::Range<usize>>,
) -> Result<StepOptions, ScenarioFileError> {
    let err = |part: &str, message: String| cx.error(span.clone(), format!("{field}.{part}"), message);
    let bodies = usize::from(s.body.is_some()) + usize::from(s.json.is_some()) + usize::from(!s.form.is_empty());
    if bodies > 1 {
        return Err(err("body", "give at most one of body, json and form".into()));
    }
    let pairs = |map: &BTreeMap<String, String>, part: &str| -> Result<Vec<(String, Template)>, ScenarioFileError> {
        map.iter()
            .map(|(name, value)| {
                Template::parse(value).map(|t| (name.clone(), t)).map_err(|e| err(&format!("{part}.{name}"), e.0))
            })
            .collect()
    };
    for name in s.cookies.keys() {
        if name.is_empty() || name.contains(['=', ';', ' ']) {
            return Err(err("cookies", format!("{name:?} is not a cookie name")));
        }
    }
    let auth = match &s.auth {
        None => None,
        Some(auth) => Some((
            Template::parse(&auth.user).map_err(|e| err("auth.user", e.0))?,
            Template::parse(&auth.password).map_err(|e| err("auth.password", e.0))?,
        )),
    };
    Ok(StepOptions {
        cookies: pairs(&s.cookies, "cookies")?,
        follow_redirects: s.follow_redirects,
        max_redirects: s.max_redirects.map(|n| redirects(cx, n, &format!("{field}.max_redirects"))).transpose()?,
        auth,
        json: s.json.as_ref().map(JsonTemplate::from_toml).transpose().map_err(|e| err("json", e.0))?,
        form: pairs(&s.form, "form")?,
        query: pairs(&s.query, "query")?,
    })
}

/// Builds and registers the file's `[websockets.NAME]` journeys.
fn websocket_journeys(
    cx: &Ctx<'_>,
    spec: &FileSpec,
    base: &Registry,
    registry: &mut Registry,
) -> Result<BTreeMap<String, Arc<crate::ws::steps::WsJourney>>, ScenarioFileError> {
    let mut built = BTreeMap::new();
    for (name, journey) in &spec.websockets {
        if base.find_journey(name).is_ok() || spec.journeys.contains_key(name) {
            return Err(cx.error(
                Some(journey.span()),
                format!("websockets.{name}"),
                "this name is already a journey; pick another",
            ));
        }
        let journey =
            journey.get_ref().build(name).map_err(|(field, message)| cx.error(Some(journey.span()), field, message))?;
        let journey = Arc::new(journey);
        registry.journey_impl(name, Arc::new(Declared(journey.clone())));
        built.insert(name.clone(), journey);
    }
    Ok(built)
}

/// Every template variable must resolve: an earlier capture, a datapool column, or config.
fn check_variables(
    cx: &Ctx<'_>,
    entry: &Spanned<EntrySpec>,
    journey: &DeclarativeJourney,
    columns: Option<&[String]>,
    config: &Config,
) -> Result<(), ScenarioFileError> {
    let mut captured: Vec<&str> = Vec::new();
    for (i, step) in journey.steps.iter().enumerate() {
        let mut templates: Vec<&Template> = vec![&step.url];
        templates.extend(step.headers.iter().map(|(_, t)| t));
        templates.extend(step.body.iter());
        let mut variables: Vec<&str> = templates.iter().flat_map(|t| t.variables()).collect();
        variables.extend(step.options.variables());
        for variable in variables {
            let known = captured.contains(&variable)
                || columns.is_some_and(|c| c.iter().any(|c| c == variable))
                || config.get(variable).is_some();
            if !known {
                let mut hint = String::new();
                if let Some(columns) = columns {
                    hint.push_str(&format!(" datapool columns: {};", columns.join(", ")));
                }
                if !captured.is_empty() {
                    hint.push_str(&format!(" captured so far: {};", captured.join(", ")));
                }
                return Err(cx.error(
                    Some(entry.span()),
                    format!("journeys.{}.steps[{i}]", journey.name),
                    format!(
                        "{{{variable}}} is not a datapool column, an earlier capture or a config key;{hint} \
                         set it with [config] {variable} = \"...\", MITE_CONF_{variable} or --config {variable}=..."
                    ),
                ));
            }
        }
        captured.extend(step.captures.iter().map(|(name, _)| name.as_str()));
    }
    Ok(())
}

fn rate_model(
    cx: &Ctx<'_>,
    field: &str,
    spec: &VolumeSpec,
    span: std::ops::Range<usize>,
) -> Result<RateModel, ScenarioFileError> {
    let err = |message: String| cx.error(Some(span.clone()), field, message);
    let duration = |text: &str| parse_duration(text).map(|d| d.as_secs_f64()).map_err(&err);
    if let Some(per_s) = spec.rate {
        Ok(RateModel::Constant { per_s, duration_s: spec.duration.as_deref().map(duration).transpose()? })
    } else if let Some(ramp) = &spec.ramp_rate {
        Ok(RateModel::Ramp { from: ramp.from, to: ramp.to, duration_s: duration(&ramp.duration)? })
    } else if let Some(stages) = &spec.rate_stages {
        let mut built = Vec::new();
        for (i, stage) in stages.iter().enumerate() {
            if stage.rate.is_none() && stage.ramp_rate.is_none() {
                return Err(err(format!(
                    "rate_stages[{i}]: each stage is {{ rate = R, duration = \"..\" }} or {{ ramp_rate = {{ from, to, duration }} }}"
                )));
            }
            built.push(rate_model(cx, &format!("{field}.rate_stages[{i}]"), stage, span.clone())?);
        }
        Ok(RateModel::Stages(built))
    } else {
        Err(err("not an arrival-rate model".into()))
    }
}

fn volume(
    cx: &Ctx<'_>,
    field: &str,
    spec: &VolumeSpec,
    span: std::ops::Range<usize>,
) -> Result<VolumeModel, ScenarioFileError> {
    let err = |message: String| cx.error(Some(span.clone()), field, message);
    let kinds = [
        spec.constant.is_some(),
        spec.ramp.is_some(),
        spec.stages.is_some(),
        spec.oneshot.is_some(),
        spec.nothing.is_some(),
        spec.rate.is_some(),
        spec.ramp_rate.is_some(),
        spec.rate_stages.is_some(),
    ]
    .into_iter()
    .filter(|k| *k)
    .count();
    if kinds != 1 {
        return Err(err("give exactly one of constant = N (with optional duration), ramp = { from, to, duration }, \
             stages = [...], oneshot = N, nothing = \"10s\", or an arrival rate: rate = R (with optional \
             duration), ramp_rate = { from, to, duration }, rate_stages = [...] (with max_in_flight)"
            .into()));
    }
    let duration = |text: &str| parse_duration(text).map(|d| d.as_secs_f64()).map_err(&err);
    let open = spec.rate.is_some() || spec.ramp_rate.is_some() || spec.rate_stages.is_some();
    if spec.max_in_flight.is_some() && !open {
        return Err(err("max_in_flight applies to arrival-rate models (rate, ramp_rate, rate_stages) only".into()));
    }
    let model = if open {
        VolumeModel::Arrivals {
            rate: rate_model(cx, field, spec, span.clone())?,
            max_in_flight: spec.max_in_flight.unwrap_or(MAX_IN_FLIGHT_DEFAULT),
        }
    } else if let Some(journeys) = spec.constant {
        VolumeModel::Constant { journeys, duration_s: spec.duration.as_deref().map(duration).transpose()? }
    } else if let Some(ramp) = &spec.ramp {
        VolumeModel::Ramp { from: ramp.from, to: ramp.to, duration_s: duration(&ramp.duration)? }
    } else if let Some(stages) = &spec.stages {
        let mut built = Vec::new();
        for (i, stage) in stages.iter().enumerate() {
            built.push(volume(cx, &format!("{field}.stages[{i}]"), stage, span.clone())?);
        }
        VolumeModel::Stages(built)
    } else if let Some(journeys) = spec.oneshot {
        VolumeModel::Oneshot { journeys }
    } else {
        VolumeModel::Nothing { duration_s: duration(spec.nothing.as_deref().unwrap_or_default())? }
    };
    model.validate().map_err(|e| err(e.0))?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<LoadedScenario, ScenarioFileError> {
        let dir = std::env::temp_dir().join(format!("mite-scenario-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.toml");
        std::fs::write(&path, text).unwrap();
        load(&path, &Registry::default(), &[])
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
        assert!(load_text(&bad).unwrap_err().message.contains("unknown datapool \"usrs\""));

        let bad = GOOD.replace("[\"bob\", 2]", "[\"bob\"]");
        assert!(load_text(&bad).unwrap_err().message.contains("1 values, but 2 columns"));
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
        let dir = std::env::temp_dir().join(format!("mite-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("u.csv");
        std::fs::write(&path, "id,name\n1,a\n2,b,extra\n").unwrap();
        let err = read_csv(&path).unwrap_err();
        assert!(err.contains("u.csv:3"), "{err}");
        std::fs::write(&path, "id,name\n1,a\n2,b\n").unwrap();
        let (rows, columns) = read_csv(&path).unwrap();
        assert_eq!((rows.len(), columns), (2, vec!["id".to_string(), "name".to_string()]));
        assert_eq!(rows[1].by_name("name"), Some("b"));
    }
}
