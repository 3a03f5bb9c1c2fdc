//! `[journeys.NAME]` and `[websockets.NAME]`: declarative journeys checked step by step
//! (URL, method, headers, body, expected status, captures, think, pace, step options) and
//! registered under their names.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use std::ops::{Range, RangeInclusive};
use std::sync::Arc;

use toml::Spanned;

use super::client::redirects;
use super::error::{ScenarioFileError, Source};
use super::schema::{CaptureSpec, FileSpec, JourneySpec, StatusSpec, StepSpec};
use crate::journey::{Registry, ScenarioEntry};
use crate::model::config::Config;
use crate::scenario::capture::Capture;
use crate::scenario::config_keys::ConfigKeys;
use crate::scenario::declarative::{DeclarativeJourney, Declared, Pace, Step, header_problem};
use crate::scenario::duration::parse_duration;
use crate::scenario::step_options::{JsonTemplate, StepOptions};
use crate::scenario::template::Template;
use crate::scenario::ws_steps::WsJourney;

/// The file's journeys, by name, as built.
#[derive(Default)]
pub(super) struct Declarations {
    /// `[journeys.NAME]`: HTTP steps.
    pub(super) http: BTreeMap<String, Arc<DeclarativeJourney>>,
    /// `[websockets.NAME]`: WebSocket steps.
    pub(super) ws: BTreeMap<String, Arc<WsJourney>>,
}

impl Declarations {
    /// The keys the journeys `entries` run read from the configuration (`config`: the file's
    /// `[config]`), for checking `--config` keys: unknowable when one of them is not declared
    /// here (a Rust journey).
    pub(super) fn config_keys(&self, entries: &[ScenarioEntry], config: &Config) -> ConfigKeys {
        let mut read: Vec<&str> = Vec::new();
        let mut rust_journeys = false;
        for entry in entries {
            match (self.http.get(&entry.journey), self.ws.get(&entry.journey)) {
                (Some(journey), _) => read.extend(journey.variables()),
                (None, Some(journey)) => read.extend(journey.variables()),
                (None, None) => rust_journeys = true,
            }
        }
        let http = self.http.iter().map(|(name, journey)| (name.as_str(), journey.variables()));
        let ws = self.ws.iter().map(|(name, journey)| (name.as_str(), journey.variables()));
        ConfigKeys::new(read, config.iter().map(|(key, _)| key), rust_journeys).with_journeys(http.chain(ws))
    }
}

/// Builds the file's journeys and adds them to `registry`; a name `base` already has, or
/// that both tables use, is refused.
pub(super) fn register(
    src: &Source<'_>,
    spec: &FileSpec,
    base: &Registry,
    registry: &mut Registry,
) -> Result<Declarations, ScenarioFileError> {
    let mut built = Declarations::default();
    for (name, journey) in &spec.journeys {
        if base.find_journey(name).is_ok() {
            let message = "this name is already a registered journey; pick another";
            return Err(src.error(Some(journey.span()), format!("journeys.{name}"), message));
        }
        let journey = Arc::new(declarative_journey(src, name, journey)?);
        registry.journey_impl(name, Arc::new(Declared(journey.clone())));
        built.http.insert(name.clone(), journey);
    }
    for (name, journey) in &spec.websockets {
        if base.find_journey(name).is_ok() || spec.journeys.contains_key(name) {
            let message = "this name is already a journey; pick another";
            return Err(src.error(Some(journey.span()), format!("websockets.{name}"), message));
        }
        let journey = journey
            .get_ref()
            .build(name)
            .map_err(|e| src.error(e.span.or(Some(journey.span())), e.field, e.message))?;
        let journey = Arc::new(journey);
        registry.journey_impl(name, Arc::new(Declared(journey.clone())));
        built.ws.insert(name.clone(), journey);
    }
    Ok(built)
}

fn declarative_journey(
    src: &Source<'_>,
    name: &str,
    spec: &Spanned<JourneySpec>,
) -> Result<DeclarativeJourney, ScenarioFileError> {
    if spec.get_ref().steps.is_empty() {
        return Err(src.error(
            Some(spec.span()),
            format!("journeys.{name}.steps"),
            "a journey needs at least one step",
        ));
    }
    let mut steps = Vec::new();
    for (i, step) in spec.get_ref().steps.iter().enumerate() {
        steps.push(declarative_step(src, &format!("journeys.{name}.steps[{i}]"), step)?);
    }
    let pace = spec.get_ref().pace.as_ref().map(|pace| journey_pace(src, name, pace, spec.span())).transpose()?;
    Ok(DeclarativeJourney { name: name.to_string(), steps, pace })
}

/// One `{ url = ..., ... }` step of a journey, at `field`.
fn declarative_step(src: &Source<'_>, field: &str, step: &Spanned<StepSpec>) -> Result<Step, ScenarioFileError> {
    let span = Some(step.span());
    let s = step.get_ref();
    let err = |part: &str, message: String| src.error(span.clone(), format!("{field}.{part}"), message);
    let template = |text: &str, part: &str| Template::parse(text).map_err(|e| err(part, e.to_string()));
    let url = step_url(&s.url).map_err(|e| err("url", e))?;
    let method_text = s.method.clone().unwrap_or_else(|| "GET".to_string()).to_ascii_uppercase();
    let method = http::Method::from_bytes(method_text.as_bytes())
        .map_err(|_| err("method", format!("{method_text:?} is not an HTTP method")))?;
    let mut headers: Vec<(String, Template)> = Vec::new();
    for (header, value) in &s.headers {
        if let Some(problem) = header_problem(header, value) {
            return Err(err(&format!("headers.{header}"), problem));
        }
        // Field names are case-insensitive: `Host` and `host` in one table would send one of
        // them only, silently.
        if let Some((earlier, _)) = headers.iter().find(|(h, _)| h.eq_ignore_ascii_case(header)) {
            return Err(err(
                &format!("headers.{header}"),
                format!("header {header} is also given as {earlier} (names are case-insensitive); keep one"),
            ));
        }
        headers.push((header.clone(), template(value, &format!("headers.{header}"))?));
    }
    let body = s.body.as_deref().map(|b| template(b, "body")).transpose()?;
    let expect = expected_status(s.expect_status.as_ref()).map_err(|e| err("expect_status", e))?;
    let captures = captures(&s.capture).map_err(|(var, e)| err(&format!("capture.{var}"), e))?;
    let think = s.think.as_deref().map(parse_duration).transpose().map_err(|e| err("think", e.to_string()))?;
    if s.transaction.as_deref().is_some_and(|name| name.trim().is_empty()) {
        return Err(err(
            "transaction",
            "a transaction name cannot be empty; remove `transaction` to name it after the request (\"GET URL\")"
                .to_string(),
        ));
    }
    let transaction = s.transaction.clone().unwrap_or_else(|| format!("{method_text} {}", s.url));
    let options = step_options(src, s, field, span)?;
    Ok(Step { transaction, method, url, headers, body, expect, captures, think, options })
}

/// A step's URL template: a literal URL must parse; a templated one must start with
/// `http` or a variable.
fn step_url(text: &str) -> Result<Template, String> {
    let url = Template::parse_url(text).map_err(|e| e.to_string())?;
    if let Some(literal) = url.as_literal() {
        crate::http::Url::parse(literal).map_err(|e| e.to_string())?;
    } else if !text.starts_with('{') && !text.to_ascii_lowercase().starts_with("http") {
        return Err("URLs must start with http:// or https:// (or a variable holding that)".into());
    }
    Ok(url)
}

/// `expect_status = 200` or `[low, high]`, codes from 100 to 999 (RFC 9110 15: three
/// digits); 200..=399 when not given.
fn expected_status(spec: Option<&StatusSpec>) -> Result<RangeInclusive<u16>, String> {
    let (low, high) = match spec {
        None => return Ok(200..=399),
        Some(StatusSpec::One(code)) => (*code, *code),
        Some(StatusSpec::Range([low, high])) => (*low, *high),
    };
    if let Some(code) = [low, high].into_iter().find(|code| !(100..=999).contains(code)) {
        return Err(format!("{code} is not a status: status codes run from 100 to 999; write e.g. 200 or [200, 299]"));
    }
    if low > high {
        return Err(format!("[{low}, {high}] runs backwards; write [{high}, {low}]"));
    }
    Ok(low..=high)
}

/// `capture = { var = { header = ".." } | { json = "a.b" } }`; the error names the variable.
fn captures(specs: &IndexMap<String, CaptureSpec>) -> Result<Vec<(String, Capture)>, (String, String)> {
    let mut captures = Vec::new();
    for (var, capture) in specs {
        let capture = match (&capture.header, &capture.json) {
            (Some(header), None) => Capture::Header(header.clone()),
            (None, Some(path)) => Capture::Json(path.split('.').map(str::to_string).collect()),
            _ => {
                let message = "give exactly one of header = \"Name\" or json = \"path.to.field\"";
                return Err((var.clone(), message.into()));
            }
        };
        captures.push((var.clone(), capture));
    }
    Ok(captures)
}

/// `pace = "2s"` (fixed), or `pace = { mean = "2s", plus_minus = "500ms" }` (`plus_minus`
/// defaults to a quarter of the mean, as in Mite).
fn journey_pace(
    src: &Source<'_>,
    name: &str,
    pace: &toml::Value,
    span: Range<usize>,
) -> Result<Pace, ScenarioFileError> {
    let field = format!("journeys.{name}.pace");
    let err = |message: String| src.error(Some(span.clone()), field.clone(), message);
    let usage = "write pace = \"2s\" or pace = { mean = \"2s\", plus_minus = \"500ms\" }";
    let duration = |value: &toml::Value| match value.as_str() {
        Some(text) => parse_duration(text).map_err(|e| err(e.to_string())),
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
            if plus_minus > mean {
                // Separations below zero would be zero: the journey would not keep its mean.
                return Err(err(format!(
                    "plus_minus ({}) is more than mean ({}): a separation cannot be below zero, so the \
                     journey would not keep its mean; make plus_minus at most the mean",
                    crate::scenario::duration::words(plus_minus),
                    crate::scenario::duration::words(mean)
                )));
            }
            Ok(Pace { every: mean, plus_minus: Some(plus_minus) })
        }
        other => Err(err(format!("{other} is not a pace; {usage}"))),
    }
}

/// A step's cookies, redirects, auth, JSON, form and query fields.
fn step_options(
    src: &Source<'_>,
    s: &StepSpec,
    field: &str,
    span: Option<Range<usize>>,
) -> Result<StepOptions, ScenarioFileError> {
    let err = |part: &str, message: String| src.error(span.clone(), format!("{field}.{part}"), message);
    let bodies = usize::from(s.body.is_some()) + usize::from(s.json.is_some()) + usize::from(!s.form.is_empty());
    if bodies > 1 {
        return Err(err("body", "give at most one of body, json and form".into()));
    }
    let pairs = |map: &IndexMap<String, String>, part: &str| -> Result<Vec<(String, Template)>, ScenarioFileError> {
        map.iter()
            .map(|(name, value)| {
                Template::parse(value)
                    .map(|t| (name.clone(), t))
                    .map_err(|e| err(&format!("{part}.{name}"), e.to_string()))
            })
            .collect()
    };
    if let Some(name) = s.cookies.keys().find(|name| name.is_empty() || name.contains(['=', ';', ' '])) {
        return Err(err("cookies", format!("{name:?} is not a cookie name")));
    }
    let auth = match &s.auth {
        None => None,
        Some(auth) => Some((
            Template::parse(&auth.user).map_err(|e| err("auth.user", e.to_string()))?,
            Template::parse(&auth.password).map_err(|e| err("auth.password", e.to_string()))?,
        )),
    };
    Ok(StepOptions {
        cookies: pairs(&s.cookies, "cookies")?,
        follow_redirects: s.follow_redirects,
        max_redirects: s
            .max_redirects
            .map(|n| redirects(src, n, &format!("{field}.max_redirects"), span.clone()))
            .transpose()?,
        auth,
        json: s.json.as_ref().map(JsonTemplate::from_toml).transpose().map_err(|e| err("json", e.to_string()))?,
        form: pairs(&s.form, "form")?,
        query: pairs(&s.query, "query")?,
    })
}
