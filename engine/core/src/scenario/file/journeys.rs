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
use super::schema::{AuthSpec, CaptureSpec, FileSpec, JourneySpec, StatusSpec, StepSpec};
use crate::journey::{BasicAuthProblem, Registry, ScenarioEntry};
use crate::model::config::Config;
use crate::scenario::capture::Capture;
use crate::scenario::config_keys::ConfigKeys;
use crate::scenario::declarative::{DeclarativeJourney, Declared, Pace, Step};
use crate::scenario::duration::parse_duration;
use crate::scenario::header_words::header_problem;
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
    /// `[journeys.NAME]`: where each step's templates are written, step by step.
    pub(super) http_places: BTreeMap<String, Vec<StepPlaces>>,
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
        let (journey, places) = declarative_journey(src, name, journey)?;
        let journey = Arc::new(journey);
        registry.journey_impl(name, Arc::new(Declared(journey.clone())));
        built.http.insert(name.clone(), journey);
        built.http_places.insert(name.clone(), places);
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

/// The journey `name` and where its steps' templates are written.
fn declarative_journey(
    src: &Source<'_>,
    name: &str,
    spec: &Spanned<JourneySpec>,
) -> Result<(DeclarativeJourney, Vec<StepPlaces>), ScenarioFileError> {
    let steps_spec = &spec.get_ref().steps;
    if steps_spec.get_ref().is_empty() {
        return Err(src.error(
            Some(steps_spec.span()),
            format!("journeys.{name}.steps"),
            "a journey needs at least one step",
        ));
    }
    let (mut steps, mut places) = (Vec::new(), Vec::new());
    for (i, step) in steps_spec.get_ref().iter().enumerate() {
        let mut step_places = StepPlaces::default();
        steps.push(declarative_step(src, &format!("journeys.{name}.steps[{i}]"), step, &mut step_places)?);
        places.push(step_places);
    }
    let pace =
        spec.get_ref().pace.as_ref().map(|pace| journey_pace(src, name, pace.get_ref(), pace.span())).transpose()?;
    Ok((DeclarativeJourney { name: name.to_string(), steps, pace }, places))
}

/// One `{ url = ..., ... }` step of a journey, at `field`; its templates' places are added to
/// `places`. An error names the line of the field that is wrong.
fn declarative_step(
    src: &Source<'_>,
    field: &str,
    step: &Spanned<StepSpec>,
    places: &mut StepPlaces,
) -> Result<Step, ScenarioFileError> {
    let s = step.get_ref();
    let err =
        |part: &str, span: Range<usize>, message: String| src.error(Some(span), format!("{field}.{part}"), message);
    let url = step_url(s.url.get_ref()).map_err(|e| err("url", s.url.span(), e))?;
    places.add("url", s.url.span(), url.variables());
    let method_text = s.method.as_ref().map_or("GET", |m| m.get_ref()).to_ascii_uppercase();
    let method = http::Method::from_bytes(method_text.as_bytes()).map_err(|_| {
        let span = s.method.as_ref().map(Spanned::span).unwrap_or_default();
        err("method", span, format!("{method_text:?} is not an HTTP method"))
    })?;
    let mut headers: Vec<(String, Template)> = Vec::new();
    for (header, value) in &s.headers {
        let part = format!("headers.{header}");
        if let Some(problem) = header_problem(header, value.get_ref()) {
            return Err(err(&part, value.span(), problem));
        }
        // Field names are case-insensitive: `Host` and `host` in one table would send one of
        // them only, silently.
        if let Some((earlier, _)) = headers.iter().find(|(h, _)| h.eq_ignore_ascii_case(header)) {
            let message = format!("header {header} is also given as {earlier} (names are case-insensitive); keep one");
            return Err(err(&part, value.span(), message));
        }
        headers.push((header.clone(), step_template(src, field, &part, value, places)?));
    }
    let body = s.body.as_ref().map(|b| step_template(src, field, "body", b, places)).transpose()?;
    let expect = match &s.expect_status {
        None => 200..=399,
        Some(status) => expected_status(status.get_ref()).map_err(|e| err("expect_status", status.span(), e))?,
    };
    let captures = captures(src, field, &s.capture)?;
    let think = s
        .think
        .as_ref()
        .map(|t| parse_duration(t.get_ref()).map_err(|e| err("think", t.span(), e.to_string())))
        .transpose()?;
    if let Some(name) = s.transaction.as_ref().filter(|name| name.get_ref().trim().is_empty()) {
        return Err(err(
            "transaction",
            name.span(),
            "a transaction name cannot be empty; remove `transaction` to name it after the request (\"GET URL\")"
                .to_string(),
        ));
    }
    let transaction =
        s.transaction.as_ref().map_or_else(|| format!("{method_text} {}", s.url.get_ref()), |t| t.get_ref().clone());
    let options = step_options(src, s, field, places)?;
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
fn expected_status(spec: &StatusSpec) -> Result<RangeInclusive<u16>, String> {
    let (low, high) = match spec {
        StatusSpec::One(code) => (*code, *code),
        StatusSpec::Range([low, high]) => (*low, *high),
    };
    if let Some(code) = [low, high].into_iter().find(|code| !(100..=999).contains(code)) {
        return Err(format!("{code} is not a status: status codes run from 100 to 999; write e.g. 200 or [200, 299]"));
    }
    if low > high {
        return Err(format!("[{low}, {high}] runs backwards; write [{high}, {low}]"));
    }
    Ok(low..=high)
}

/// `capture = { var = { header = ".." } | { json = "a.b" } }`; the error names the variable
/// at its line (`field`: the step's).
fn captures(
    src: &Source<'_>,
    field: &str,
    specs: &IndexMap<String, Spanned<CaptureSpec>>,
) -> Result<Vec<(String, Capture)>, ScenarioFileError> {
    let mut captures = Vec::new();
    for (var, capture) in specs {
        let parsed = match (&capture.get_ref().header, &capture.get_ref().json) {
            (Some(header), None) => Capture::Header(header.clone()),
            (None, Some(path)) => Capture::Json(path.split('.').map(str::to_string).collect()),
            _ => {
                let message = "give exactly one of header = \"Name\" or json = \"path.to.field\"";
                return Err(src.error(Some(capture.span()), format!("{field}.capture.{var}"), message));
            }
        };
        captures.push((var.clone(), parsed));
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

/// A step's cookies, redirects, auth, JSON, form and query fields; their templates' places
/// are added to `places`.
fn step_options(
    src: &Source<'_>,
    s: &StepSpec,
    field: &str,
    places: &mut StepPlaces,
) -> Result<StepOptions, ScenarioFileError> {
    let err =
        |part: &str, span: Range<usize>, message: String| src.error(Some(span), format!("{field}.{part}"), message);
    // The second body given is the one to take out.
    let bodies = [
        s.body.as_ref().map(|b| ("body", b.span())),
        s.json.as_ref().map(|j| ("json", j.span())),
        s.form.values().next().map(|v| ("form", v.span())),
    ];
    if let Some((part, span)) = bodies.into_iter().flatten().nth(1) {
        return Err(err(part, span, "give at most one of body, json and form".into()));
    }
    let mut pairs =
        |map: &IndexMap<String, Spanned<String>>, part: &str| -> Result<Vec<(String, Template)>, ScenarioFileError> {
            let mut parsed = Vec::new();
            for (name, value) in map {
                parsed.push((name.clone(), step_template(src, field, &format!("{part}.{name}"), value, places)?));
            }
            Ok(parsed)
        };
    if let Some((name, value)) = s.cookies.iter().find(|(name, _)| name.is_empty() || name.contains(['=', ';', ' '])) {
        return Err(err("cookies", value.span(), format!("{name:?} is not a cookie name")));
    }
    let cookies = pairs(&s.cookies, "cookies")?;
    // The text written around a value's variables is in every value sent: a `;` or a control
    // character there would fail each request unsent (`check_pair`, the rule each request is
    // held to).
    for ((name, template), value) in cookies.iter().zip(s.cookies.values()) {
        if let Err(bad) = crate::http::cookie::check_pair(name, &template.literal_text()) {
            let message = format!("{bad}: every request of this step would fail unsent");
            return Err(err(&format!("cookies.{name}"), value.span(), message));
        }
    }
    let form = pairs(&s.form, "form")?;
    let query = pairs(&s.query, "query")?;
    let auth = s.auth.as_ref().map(|auth| step_auth(src, auth, field, places)).transpose()?;
    let json = match &s.json {
        None => None,
        Some(json) => {
            let parsed =
                JsonTemplate::from_toml(json.get_ref()).map_err(|e| err("json", json.span(), e.to_string()))?;
            places.add("json", json.span(), parsed.variables());
            Some(parsed)
        }
    };
    Ok(StepOptions {
        cookies,
        follow_redirects: s.follow_redirects,
        max_redirects: s
            .max_redirects
            .as_ref()
            .map(|n| redirects(src, *n.get_ref(), &format!("{field}.max_redirects"), Some(n.span())))
            .transpose()?,
        auth,
        json,
        form,
        query,
    })
}

/// `text`, the step's `field.part`, parsed as a template, its variables noted at its place;
/// an error names the part's own line.
fn step_template(
    src: &Source<'_>,
    field: &str,
    part: &str,
    text: &Spanned<String>,
    places: &mut StepPlaces,
) -> Result<Template, ScenarioFileError> {
    let parsed = Template::parse(text.get_ref())
        .map_err(|e| src.error(Some(text.span()), format!("{field}.{part}"), e.to_string()))?;
    places.add(part, text.span(), parsed.variables());
    Ok(parsed)
}

/// `auth = { user = "..", password = ".." }`: two templates, each checked at its own line.
/// What the text written holds (all of a literal, the text around a template's variables) must
/// be sendable as basic auth (`BasicAuthProblem`, the rule each request is held to): a user
/// `"a:b"` would fail every request unsent. What a variable brings is checked per request.
fn step_auth(
    src: &Source<'_>,
    auth: &AuthSpec,
    field: &str,
    places: &mut StepPlaces,
) -> Result<(Template, Template), ScenarioFileError> {
    let user = step_template(src, field, "auth.user", &auth.user, places)?;
    let password = step_template(src, field, "auth.password", &auth.password, places)?;
    if let Some(problem) = BasicAuthProblem::of(&user.literal_text(), &password.literal_text()) {
        let (part, span, what) = if problem.in_password() {
            ("password", auth.password.span(), "the password".to_string())
        } else {
            ("user", auth.user.span(), format!("user {:?}", auth.user.get_ref()))
        };
        let message = format!("{what} {}: every request of this step would fail unsent", problem.words());
        return Err(src.error(Some(span), format!("{field}.auth.{part}"), message));
    }
    Ok((user, password))
}

/// Where a step's templates are written: each field under the step (`url`, `headers.NAME`,
/// `body`, `cookies.NAME`, `form.NAME`, `query.NAME`, `auth.user`, `auth.password`, `json`),
/// its place in the file and the variables it reads, `url` first. For the checks made once the
/// step's scenario entry is known (variables, the URL rendered), which name the field's line.
#[derive(Debug, Default)]
pub(super) struct StepPlaces(Vec<TemplatePlace>);

/// One template of a step, where it is written.
#[derive(Debug)]
pub(super) struct TemplatePlace {
    /// The field under the step (`headers.X-Token`).
    pub(super) field: String,
    /// Its place in the file's text.
    pub(super) span: Range<usize>,
    /// The variables it reads, in order.
    pub(super) variables: Vec<String>,
}

impl StepPlaces {
    fn add<'a>(&mut self, field: &str, span: Range<usize>, variables: impl Iterator<Item = &'a str>) {
        self.0.push(TemplatePlace {
            field: field.to_string(),
            span,
            variables: variables.map(str::to_string).collect(),
        });
    }

    /// The step's templates, `url` first.
    pub(super) fn templates(&self) -> &[TemplatePlace] {
        &self.0
    }

    /// Where the step's URL is written.
    pub(super) fn url(&self) -> Option<Range<usize>> {
        self.0.first().map(|place| place.span.clone())
    }
}
