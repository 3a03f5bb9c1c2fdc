//! Declarative WebSocket journeys from scenario files (`[websockets.NAME]`): connect to a
//! templated URL, then steps (send, request/reply, receive with expected content or a JSON
//! capture, think), repeated `repeat` times on the one connection, then close. The whole
//! connection is timed as one transaction.

use indexmap::IndexMap;
use std::future::Future;
use std::ops::Range;
use std::time::{Duration, Instant};

use serde::Deserialize;
use toml::Spanned;

use crate::driver::sleep;
use crate::journey::{Ctx, JourneyError, JourneyResult};
use crate::limits::{WS_RECEIVE_MESSAGES_MAX, WS_REPEATS_MAX};
use crate::model::config::Config;
use crate::model::datapool::Row;
use crate::scenario::capture::{json_path, trace_missed, trace_taken};
use crate::scenario::declarative::DescribedJourney;
use crate::scenario::duration::DurationRange;
use crate::scenario::header_words::header_problem;
use crate::scenario::template::Template;
use crate::ws::{WebSocket, WsMessage};

/// A `[websockets.NAME]` table as written, each field with its place in the file (an error
/// names the line of the field that is wrong).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct WsJourneySpec {
    url: Spanned<String>,
    transaction: Option<Spanned<String>>,
    #[serde(default)]
    protocols: Vec<String>,
    #[serde(default)]
    headers: IndexMap<String, Spanned<String>>,
    repeat: Option<Spanned<u32>>,
    steps: Spanned<Vec<Spanned<WsStepSpec>>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct WsStepSpec {
    send: Option<Spanned<String>>,
    request: Option<Spanned<String>>,
    receive: Option<Spanned<ReceiveSpec>>,
    think: Option<Spanned<String>>,
    expect: Option<Spanned<String>>,
    contains: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    capture: IndexMap<String, CaptureSpec>,
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum ReceiveSpec {
    Count(u32),
    Until(String),
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct CaptureSpec {
    json: String,
}

/// What a received message must be.
#[derive(Clone, Debug, Default)]
struct Matcher {
    expect: Option<Template>,
    contains: Option<Template>,
}

#[derive(Clone, Debug)]
enum Action {
    Send(Template),
    /// Send, then wait for the first matching message (timed as a reply).
    Request(Template),
    /// Receive `count` messages, each checked; `None`: until the server closes normally.
    Receive(Option<u32>),
    Think(Duration),
}

#[derive(Clone, Debug)]
struct WsStep {
    action: Action,
    matcher: Matcher,
    timeout: Option<Duration>,
    captures: Vec<(String, Vec<String>)>,
}

/// A declarative WebSocket journey.
#[derive(Clone, Debug)]
pub struct WsJourney {
    name: String,
    url: Template,
    transaction: String,
    protocols: Vec<String>,
    headers: Vec<(String, Template)>,
    repeat: u32,
    steps: Vec<WsStep>,
    places: Places,
}

/// Where a journey's templates are written in the file (byte ranges of its text), for the
/// checks made once its scenario entry is known (variables, the URL rendered).
#[derive(Clone, Debug, Default)]
struct Places {
    url: Range<usize>,
    /// One per header, in order.
    headers: Vec<Range<usize>>,
    /// Per step, its templates' fields (`send`, `request`, `expect`, `contains`).
    steps: Vec<StepPlaces>,
}

/// A step's templates' fields and where each is written, in the order they are parsed.
type StepPlaces = Vec<(&'static str, Range<usize>)>;

/// A template of a journey, where it is read.
struct Read<'a> {
    /// Its field under `websockets.NAME` (`url`, `headers.NAME`, `steps[1].expect`).
    field: String,
    /// Where it is written in the file.
    span: Range<usize>,
    /// The step it belongs to; `None`: the connection's URL or a header.
    step: Option<usize>,
    template: &'a Template,
}

/// A `[websockets.NAME]` table that cannot be used: the field (under `websockets.NAME`), where
/// it is written, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    /// Dotted path of the field (`websockets.chat.steps[0].receive`).
    pub field: String,
    /// What is wrong, and how to fix it.
    pub message: String,
    /// The field's place in the file's text (a byte range), when known.
    pub span: Option<Range<usize>>,
}

impl SpecError {
    fn at(span: Range<usize>, field: String, message: impl Into<String>) -> SpecError {
        SpecError { field, message: message.into(), span: Some(span) }
    }
}

impl WsJourneySpec {
    /// Checks the spec and builds the journey `name`.
    pub fn build(&self, name: &str) -> Result<WsJourney, SpecError> {
        let at = format!("websockets.{name}");
        let template = |text: &Spanned<String>, field: String| {
            Template::parse(text.get_ref()).map_err(|e| SpecError::at(text.span(), field, e.to_string()))
        };
        // Values that land in the URL's path or query are percent-encoded, as in HTTP steps.
        let url_at = |message: String| SpecError::at(self.url.span(), format!("{at}.url"), message);
        let url = Template::parse_url(self.url.get_ref()).map_err(|e| url_at(e.to_string()))?;
        if let Some(literal) = url.as_literal() {
            let lower = literal.to_ascii_lowercase();
            if !lower.starts_with("ws://") && !lower.starts_with("wss://") {
                let (scheme, rest) = match literal.split_once("://") {
                    Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => ("wss", rest),
                    Some((_, rest)) => ("ws", rest),
                    None => ("ws", literal),
                };
                return Err(url_at(format!(
                    "WebSocket URLs start with ws:// or wss://, got {literal:?}; write \"{scheme}://{rest}\""
                )));
            }
        }
        if let Some(transaction) = self.transaction.as_ref().filter(|t| t.get_ref().trim().is_empty()) {
            let message = "a transaction name cannot be empty; remove `transaction` to name it after the journey";
            return Err(SpecError::at(transaction.span(), format!("{at}.transaction"), message));
        }
        let repeat = self.repeat.as_ref().map_or(1, |r| *r.get_ref());
        if !(1..=WS_REPEATS_MAX).contains(&repeat) {
            let span = self.repeat.as_ref().map(Spanned::span).unwrap_or_default();
            return Err(SpecError::at(span, format!("{at}.repeat"), format!("repeat must be 1..={WS_REPEATS_MAX}")));
        }
        if self.steps.get_ref().is_empty() {
            let message = "a WebSocket journey needs at least one step, e.g. steps = [ { send = \"hello\" } ]";
            return Err(SpecError::at(self.steps.span(), format!("{at}.steps"), message));
        }
        let mut headers = Vec::new();
        let mut places = Places { url: self.url.span(), ..Places::default() };
        for (header, value) in &self.headers {
            let field = format!("{at}.headers.{header}");
            if let Some(problem) = header_problem(header, value.get_ref()) {
                return Err(SpecError::at(value.span(), field, problem));
            }
            headers.push((header.clone(), template(value, field)?));
            places.headers.push(value.span());
        }
        let mut steps = Vec::new();
        for (i, step) in self.steps.get_ref().iter().enumerate() {
            let (built, parts) = build_step(step, &format!("{at}.steps[{i}]"))?;
            steps.push(built);
            places.steps.push(parts);
        }
        Ok(WsJourney {
            name: name.to_string(),
            url,
            transaction: self.transaction.as_ref().map_or_else(|| name.to_string(), |t| t.get_ref().clone()),
            protocols: self.protocols.clone(),
            headers,
            repeat,
            steps,
            places,
        })
    }
}

/// Step `at` built, with the places of its templates.
fn build_step(spec: &Spanned<WsStepSpec>, at: &str) -> Result<(WsStep, StepPlaces), SpecError> {
    let step = spec.get_ref();
    let field = |part: &str| format!("{at}.{part}");
    let mut parts = Vec::new();
    let mut template = |text: &Spanned<String>, part: &'static str| {
        parts.push((part, text.span()));
        Template::parse(text.get_ref()).map_err(|e| SpecError::at(text.span(), field(part), e.to_string()))
    };
    // A think may be none; a timeout may not (every wait would fail at once).
    let duration = |text: &Spanned<String>, part: &str| {
        let range = if part == "timeout" { DurationRange::TIMEOUT } else { DurationRange::WAIT };
        range.parse(text.get_ref()).map_err(|e| SpecError::at(text.span(), field(part), e.to_string()))
    };
    let action = match (&step.send, &step.request, &step.receive, &step.think) {
        (Some(text), None, None, None) => Action::Send(template(text, "send")?),
        (None, Some(text), None, None) => Action::Request(template(text, "request")?),
        (None, None, Some(receive), None) => match receive.get_ref() {
            ReceiveSpec::Count(n) if (1..=WS_RECEIVE_MESSAGES_MAX).contains(n) => Action::Receive(Some(*n)),
            ReceiveSpec::Until(text) if text == "until-close" => Action::Receive(None),
            _ => {
                return Err(SpecError::at(
                    receive.span(),
                    field("receive"),
                    format!("receive is a count of messages (1..={WS_RECEIVE_MESSAGES_MAX}) or \"until-close\""),
                ));
            }
        },
        (None, None, None, Some(think)) => Action::Think(duration(think, "think")?),
        _ => {
            return Err(SpecError::at(
                spec.span(),
                at.to_string(),
                "a step is exactly one of send = \"text\", request = \"text\", receive = N (or \"until-close\"), think = \"1s\"",
            ));
        }
    };
    let checks = [&step.expect, &step.contains, &step.timeout].into_iter().flatten().next();
    let check = checks.map(Spanned::span).or_else(|| (!step.capture.is_empty()).then(|| spec.span()));
    if let Some(span) = check
        && matches!(action, Action::Send(_) | Action::Think(_))
    {
        let message = "expect, contains, capture and timeout apply to request and receive steps";
        return Err(SpecError::at(span, at.to_string(), message));
    }
    let matcher = Matcher {
        expect: step.expect.as_ref().map(|t| template(t, "expect")).transpose()?,
        contains: step.contains.as_ref().map(|t| template(t, "contains")).transpose()?,
    };
    let timeout = step.timeout.as_ref().map(|t| duration(t, "timeout")).transpose()?;
    let captures =
        step.capture.iter().map(|(var, c)| (var.clone(), c.json.split('.').map(str::to_string).collect())).collect();
    Ok((WsStep { action, matcher, timeout, captures }, parts))
}

impl WsJourney {
    /// The journey's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The connection's URL as written (a template).
    pub fn url(&self) -> &Template {
        &self.url
    }

    /// Where the URL is written in the file (a byte range of its text).
    pub fn url_span(&self) -> Range<usize> {
        self.places.url.clone()
    }

    /// The handshake's headers, each with where its value is written in the file.
    pub fn headers_written(&self) -> impl Iterator<Item = (&str, &Template, Range<usize>)> {
        self.headers.iter().zip(&self.places.headers).map(|((name, value), span)| (name.as_str(), value, span.clone()))
    }

    /// Renders the URL as the first journey would (a datapool row, the final configuration)
    /// and checks that the handshake can be sent to it; why not otherwise, with the values.
    pub fn check_url(&self, row: Option<&Row>, config: &Config) -> Result<(), String> {
        let lookup = |name: &str| row.and_then(|row| row.by_name(name)).or_else(|| config.get(name));
        let mut url = String::new();
        self.url.render_into(&mut url, lookup).map_err(|e| e.to_string())?;
        match crate::ws::client::url_problem(&url) {
            Some(problem) => Err(format!("{problem}{}", self.url.rendered_from(lookup))),
            None => Ok(()),
        }
    }

    /// Every `{name}` its templates read (URL, headers, what it sends, what it expects).
    pub fn variables(&self) -> Vec<&str> {
        self.templates().into_iter().flat_map(|read| read.template.variables()).collect()
    }

    /// Every template, in the order they are rendered: the connection's URL and headers, then
    /// each step's.
    fn templates(&self) -> Vec<Read<'_>> {
        let mut out =
            vec![Read { field: "url".to_string(), span: self.places.url.clone(), step: None, template: &self.url }];
        for ((name, template), span) in self.headers.iter().zip(&self.places.headers) {
            out.push(Read { field: format!("headers.{name}"), span: span.clone(), step: None, template });
        }
        for (i, (step, parts)) in self.steps.iter().zip(&self.places.steps).enumerate() {
            let text = match &step.action {
                Action::Send(t) | Action::Request(t) => Some(t),
                Action::Receive(_) | Action::Think(_) => None,
            };
            // `parts` lists them in this order, as `build_step` parsed them.
            let templates = text.into_iter().chain(&step.matcher.expect).chain(&step.matcher.contains);
            for ((part, span), template) in parts.iter().zip(templates) {
                out.push(Read { field: format!("steps[{i}].{part}"), span: span.clone(), step: Some(i), template });
            }
        }
        out
    }

    /// Every template variable must resolve: an earlier capture, a datapool column, or a
    /// config key. Otherwise the field that reads it, where it is written, and what
    /// `unknown(variable, the captures before it, the step capturing it later, and whether
    /// that is the step reading it)` says of it (the URL and headers: read before any step).
    pub fn check_variables(
        &self,
        known: impl Fn(&str) -> bool,
        unknown: impl Fn(&str, &[&str], Option<(usize, bool)>) -> String,
    ) -> Result<(), SpecError> {
        for read in self.templates() {
            // A step reads what the steps before it captured.
            let before = read.step.unwrap_or(0);
            let captured: Vec<&str> =
                self.steps[..before].iter().flat_map(|s| s.captures.iter().map(|(name, _)| name.as_str())).collect();
            if let Some(variable) = read.template.variables().find(|v| !captured.contains(v) && !known(v)) {
                let field = format!("websockets.{}.{}", self.name, read.field);
                // The URL and headers are read before any step: no capture is ever theirs.
                let later = read
                    .step
                    .and_then(|i| self.steps[i..].iter().position(|s| s.captures.iter().any(|(n, _)| n == variable)));
                return Err(SpecError::at(
                    read.span,
                    field,
                    unknown(variable, &captured, later.map(|j| (before + j, j == 0))),
                ));
            }
        }
        Ok(())
    }

    /// Runs the journey once.
    pub async fn run(&self, ctx: &Ctx, row: Row) -> JourneyResult {
        let mut captured: Vec<(String, String)> = Vec::new();
        ctx.transaction(&self.transaction, async {
            let url = render(&self.url, &captured, &row, ctx)?;
            let mut headers = Vec::with_capacity(self.headers.len());
            for (name, value) in &self.headers {
                headers.push((name.as_str(), render(value, &captured, &row, ctx)?));
            }
            let mut connect = ctx.websocket().connect(&url);
            for (name, value) in &headers {
                connect = connect.header(name, value);
            }
            for protocol in &self.protocols {
                connect = connect.protocol(protocol);
            }
            let mut ws = connect.await?;
            for _ in 0..self.repeat {
                for (i, step) in self.steps.iter().enumerate() {
                    match self.step(ctx, &row, &mut ws, step, &mut captured).await {
                        Ok(true) => {}
                        Ok(false) => return Ok(()),
                        Err(err) => {
                            // Closed here, not at the journey's end in the background: what
                            // arrives meanwhile is counted, and the close is not cut short by
                            // a stop that comes next (a `oneshot` journey's). Its own failure
                            // is counted by itself; the step's is the journey's.
                            let _ = ws.close().await;
                            return Err(in_step(err, &self.name, i));
                        }
                    }
                }
            }
            ws.close().await?;
            Ok(())
        })
        .await
    }

    /// Runs one step; false when the server closed (after `receive = "until-close"`).
    async fn step(
        &self,
        ctx: &Ctx,
        row: &Row,
        ws: &mut WebSocket<'_>,
        step: &WsStep,
        captured: &mut Vec<(String, String)>,
    ) -> Result<bool, JourneyError> {
        let timeout = step.timeout.unwrap_or_else(|| ctx.shard().http.settings().request_timeout);
        let expect = step.matcher.expect.as_ref().map(|t| render(t, captured, row, ctx)).transpose()?;
        let contains = step.matcher.contains.as_ref().map(|t| render(t, captured, row, ctx)).transpose()?;
        let matches = |m: &WsMessage| {
            let text = m.text().map(str::to_string).unwrap_or_else(|| String::from_utf8_lossy(m.bytes()).into_owned());
            expect.as_ref().is_none_or(|e| *e == text) && contains.as_ref().is_none_or(|c| text.contains(c.as_str()))
        };
        let check = |m: &WsMessage| -> Result<(), JourneyError> {
            if matches(m) {
                return Ok(());
            }
            Err(JourneyError::msg(format!("received {m}, expected {}", wanted(expect.as_deref(), contains.as_deref()))))
        };
        match &step.action {
            Action::Send(text) => ws.send_text(&render(text, captured, row, ctx)?).await?,
            Action::Think(pause) => sleep(*pause).await,
            Action::Request(text) => {
                let message = ws.request_reply_within(&render(text, captured, row, ctx)?, timeout, matches).await?;
                capture(ctx, step, &message, captured)?;
            }
            Action::Receive(Some(count)) => {
                for _ in 0..*count {
                    let message = ws.receive_timeout(timeout).await?;
                    check(&message)?;
                    capture(ctx, step, &message, captured)?;
                }
            }
            Action::Receive(None) => {
                until_close(ws, timeout, |message| {
                    check(message)?;
                    capture(ctx, step, message, captured)
                })
                .await?;
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// `receive = "until-close"`: takes each message (`take` checks and captures it) until the
/// server closes. The timeout bounds the whole step, not each message: a server that keeps
/// sending and never closes would hold it until the run's stop (and `journey test`, which has
/// none, for ever); past it, one `timeout` error saying so.
async fn until_close(
    ws: &mut WebSocket<'_>,
    timeout: Duration,
    mut take: impl FnMut(&WsMessage) -> Result<(), JourneyError>,
) -> Result<(), JourneyError> {
    let deadline = Instant::now() + timeout;
    let mut received = 0u64;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let timed_out = || {
            format!(
                "the server sent {received} message(s) and did not close within {timeout:?}: a receive = \
                 \"until-close\" step waits at most its timeout for the close"
            )
        };
        let Some(message) = ws.receive_within(left, timed_out).await? else { return Ok(()) };
        received += 1;
        take(&message)?;
    }
}

fn render(template: &Template, captured: &[(String, String)], row: &Row, ctx: &Ctx) -> Result<String, JourneyError> {
    if let Some(text) = template.as_literal() {
        return Ok(text.to_string());
    }
    let lookup = |name: &str| -> Option<&str> {
        captured
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .or_else(|| row.by_name(name))
            .or_else(|| ctx.config().get(name))
    };
    let mut out = String::new();
    template.render_into(&mut out, lookup).map_err(|e| JourneyError::msg(e.to_string()))?;
    Ok(out)
}

/// A step's own failure (a message that did not match, a capture) names the step; errors of
/// the connection keep their kind and say what failed themselves.
fn in_step(err: JourneyError, journey: &str, step: usize) -> JourneyError {
    if err.kind().is_some() {
        return err;
    }
    err.field("step", &format_args!("websockets.{journey}.steps[{step}]"))
}

fn capture(
    ctx: &Ctx,
    step: &WsStep,
    message: &WsMessage,
    captured: &mut Vec<(String, String)>,
) -> Result<(), JourneyError> {
    if step.captures.is_empty() {
        return Ok(());
    }
    let document: serde_json::Value = serde_json::from_slice(message.bytes()).map_err(|e| {
        let why = format!("message {message} is not JSON: {e}");
        for (name, path) in &step.captures {
            trace_missed(ctx, name, &format_args!("{{ json = {:?} }}", path.join(".")), &why);
        }
        JourneyError::msg(format!("capture: {why}"))
    })?;
    for (name, path) in &step.captures {
        let value = json_path(&document, path).map_err(|miss| {
            let why = miss.said(&message.to_string());
            trace_missed(ctx, name, &format_args!("{{ json = {:?} }}", path.join(".")), &why);
            JourneyError::msg(format!("capture {name}: {} {why}", path.join(".")))
        })?;
        trace_taken(ctx, name, &value);
        captured.push((name.clone(), value));
    }
    Ok(())
}

impl DescribedJourney for WsJourney {
    type Kept = ();

    fn run_described<'a>(
        &'a self,
        ctx: &'a Ctx,
        row: &'a Row,
        _kept: &'a (),
    ) -> impl Future<Output = JourneyResult> + 'a {
        self.run(ctx, row.clone())
    }
}

/// What a request or receive step waits for, as its error says it: `"ok"`, `text containing
/// "seq"`, or both when the step gives both (a message equal to `expect` may still lack
/// `contains`).
fn wanted(expect: Option<&str>, contains: Option<&str>) -> String {
    match (expect, contains) {
        (Some(e), Some(c)) => format!("{e:?} containing {c:?}"),
        (Some(e), None) => format!("{e:?}"),
        (None, Some(c)) => format!("text containing {c:?}"),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<WsJourney, SpecError> {
        let spec: WsJourneySpec =
            toml::from_str(text).map_err(|e| SpecError { field: String::new(), message: e.to_string(), span: None })?;
        spec.build("chat")
    }

    #[test]
    fn builds_and_checks_variables() {
        let journey = spec(
            r#"url = "{ws_url}"
            repeat = 3
            steps = [
              { send = "subscribe {topic}" },
              { receive = 2, contains = "{topic}", capture = { seq = { json = "seq" } } },
              { request = "ack {seq}", expect = "ok {seq}", timeout = "1s" },
              { think = "10ms" },
            ]"#,
        )
        .unwrap();
        assert_eq!((journey.repeat, journey.steps.len(), journey.transaction.as_str()), (3, 4, "chat"));
        let unknown =
            |v: &str, captured: &[&str], _: Option<(usize, bool)>| format!("{{{v}}} unknown; captured {captured:?}");
        assert!(journey.check_variables(|v| v == "ws_url" || v == "topic", unknown).is_ok());
        let SpecError { field, message, .. } = journey.check_variables(|v| v == "ws_url", unknown).unwrap_err();
        assert_eq!(field, "websockets.chat.steps[0].send");
        assert!(message.contains("{topic}"), "{message}");
    }

    #[test]
    fn bad_steps_name_the_field() {
        for (text, field, what) in [
            (
                r#"url = "http://x/"
                steps = [{ send = "a" }]"#,
                "websockets.chat.url",
                "ws://",
            ),
            (
                r#"url = "ws://x/"
                steps = [{ send = "a", receive = 1 }]"#,
                "websockets.chat.steps[0]",
                "exactly one",
            ),
            (
                r#"url = "ws://x/"
                steps = [{ receive = "forever" }]"#,
                "websockets.chat.steps[0].receive",
                "until-close",
            ),
            (
                r#"url = "ws://x/"
                steps = [{ send = "a", expect = "b" }]"#,
                "websockets.chat.steps[0]",
                "apply to request",
            ),
            (
                r#"url = "ws://x/"
                steps = [{ think = "soon" }]"#,
                "websockets.chat.steps[0].think",
                "",
            ),
            // A zero timeout failed every wait at once (an `until-close` too, having read nothing).
            (
                r#"url = "ws://x/"
                steps = [{ receive = "until-close", timeout = "0s" }]"#,
                "websockets.chat.steps[0].timeout",
                "must be above zero",
            ),
            (
                r#"url = "ws://x/"
                steps = [{ think = "400d" }]"#,
                "websockets.chat.steps[0].think",
                "must be at most",
            ),
            (
                r#"url = "ws://x/"
                repeat = 0
                steps = [{ send = "a" }]"#,
                "websockets.chat.repeat",
                "1..=",
            ),
            (
                r#"url = "ws://x/"
                steps = []"#,
                "websockets.chat.steps",
                "at least one",
            ),
        ] {
            let SpecError { field: got_field, message, .. } = spec(text).unwrap_err();
            assert_eq!(got_field, field, "{message}");
            assert!(message.contains(what), "{message}");
        }
    }

    #[test]
    fn repeats_and_receive_counts_past_their_bounds_are_refused() {
        let repeat = |n: u64| format!("url = \"ws://x/\"\nrepeat = {n}\nsteps = [{{ send = \"a\" }}]");
        assert!(spec(&repeat(u64::from(WS_REPEATS_MAX))).is_ok());
        let SpecError { field, message, .. } = spec(&repeat(u64::from(WS_REPEATS_MAX) + 1)).unwrap_err();
        assert_eq!(field, "websockets.chat.repeat");
        assert!(message.contains(&format!("1..={WS_REPEATS_MAX}")), "{message}");
        let receive = |n: u64| format!("url = \"ws://x/\"\nsteps = [{{ receive = {n} }}]");
        assert!(spec(&receive(u64::from(WS_RECEIVE_MESSAGES_MAX))).is_ok());
        let SpecError { field, message, .. } = spec(&receive(u64::from(WS_RECEIVE_MESSAGES_MAX) + 1)).unwrap_err();
        assert_eq!(field, "websockets.chat.steps[0].receive");
        assert!(message.contains(&format!("1..={WS_RECEIVE_MESSAGES_MAX}")), "{message}");
    }

    /// The line of the text a span starts on (1-based).
    fn line(text: &str, span: Option<Range<usize>>) -> usize {
        text[..span.expect("a span").start].matches('\n').count() + 1
    }

    /// Every error named the journey's first line, however far below it the field was
    /// written; each now names the line of the field that is wrong.
    #[test]
    fn each_error_names_the_line_of_its_field() {
        let journey = |lines: &[&str]| lines.join("\n");
        let cases: &[(&[&str], usize, &str)] = &[
            (&["transaction = \"t\"", "url = \"http://x/\"", "steps = [{ send = \"a\" }]"], 2, "url"),
            (&["url = \"ws://x/{\"", "steps = [{ send = \"a\" }]"], 1, "url"),
            (&["url = \"ws://x/\"", "transaction = \" \"", "steps = [{ send = \"a\" }]"], 2, "transaction"),
            (&["url = \"ws://x/\"", "", "repeat = 0", "steps = [{ send = \"a\" }]"], 3, "repeat"),
            (&["url = \"ws://x/\"", "headers = { a = \"1\" }", "steps = []"], 3, "steps"),
            (
                &["url = \"ws://x/\"", "headers = { \"X Bad\" = \"1\" }", "steps = [{ send = \"a\" }]"],
                2,
                "headers.X Bad",
            ),
            (
                &["url = \"ws://x/\"", "steps = [", "  { send = \"a\" },", "  { send = \"b\", think = \"1s\" },", "]"],
                4,
                "steps[1]",
            ),
            (
                &["url = \"ws://x/\"", "steps = [", "  { send = \"a\" },", "  { send = \"{b\" },", "]"],
                4,
                "steps[1].send",
            ),
            (
                &["url = \"ws://x/\"", "steps = [", "  { send = \"a\" },", "  { receive = \"forever\" },", "]"],
                4,
                "steps[1].receive",
            ),
            (&["url = \"ws://x/\"", "steps = [", "  { think = \"soon\" },", "]"], 3, "steps[0].think"),
            (
                &[
                    "url = \"ws://x/\"",
                    "steps = [",
                    "  { send = \"a\" },",
                    "  { send = \"b\",",
                    "    expect = \"c\" },",
                    "]",
                ],
                5,
                "steps[1]",
            ),
            (
                &["url = \"ws://x/\"", "steps = [", "  { receive = 1,", "    timeout = \"never\" },", "]"],
                4,
                "steps[0].timeout",
            ),
            (
                &["url = \"ws://x/\"", "steps = [", "  { receive = 1,", "    expect = \"{x\" },", "]"],
                4,
                "steps[0].expect",
            ),
        ];
        for (lines, at, field) in cases {
            let text = journey(lines);
            let err = spec(&text).unwrap_err();
            assert_eq!(
                (line(&text, err.span.clone()), err.field.as_str()),
                (*at, &*format!("websockets.chat.{field}")),
                "{text}\n{err}"
            );
        }
        let err = spec("url = \"http://x/a\"\nsteps = [{ send = \"a\" }]").unwrap_err();
        assert!(err.message.ends_with("got \"http://x/a\"; write \"ws://x/a\""), "{err}");
    }

    /// A variable nothing sets names the field that reads it, on its line: the URL, a header,
    /// or the step's `send`, `request`, `expect` or `contains`; a capture is known to the
    /// steps after it only.
    #[test]
    fn an_unknown_variable_names_the_line_of_the_field_that_reads_it() {
        let text = [
            "url = \"ws://x/{room}\"",
            "headers = { token = \"{token}\" }",
            "steps = [",
            "  { request = \"join\", capture = { seq = { json = \"seq\" } } },",
            "  { receive = 1,",
            "    contains = \"{seq} {topic}\" },",
            "  { send = \"{late}\" },",
            "]",
        ]
        .join("\n");
        let journey = spec(&text).unwrap();
        let unknown = |v: &str, captured: &[&str], later: Option<(usize, bool)>| {
            format!("{{{v}}} unknown; captured {captured:?}; later {later:?}")
        };
        let mut known = vec!["room", "token", "topic", "late"];
        assert!(journey.check_variables(|v| known.contains(&v), unknown).is_ok());
        for (missing, at, field, captured) in [
            ("room", 1, "url", "[]"),
            ("token", 2, "headers.token", "[]"),
            ("topic", 6, "steps[1].contains", "[\"seq\"]"),
            ("late", 7, "steps[2].send", "[\"seq\"]"),
        ] {
            known.retain(|v| *v != missing);
            let err = journey.check_variables(|v| known.contains(&v), unknown).unwrap_err();
            assert_eq!((line(&text, err.span.clone()), err.field.as_str()), (at, &*format!("websockets.chat.{field}")));
            assert_eq!(err.message, format!("{{{missing}}} unknown; captured {captured}; later None"));
            known.push(missing);
        }
        let early = text.replace("{seq} {topic}", "{topic}").replace("\"join\"", "\"{seq}\"");
        let err = spec(&early).unwrap().check_variables(|v| known.contains(&v), unknown).unwrap_err();
        assert_eq!(
            (line(&early, err.span), err.field.as_str()),
            (4, "websockets.chat.steps[0].request"),
            "{}",
            err.message
        );
        // Captured by the step that reads it, once its message is in: too late for it.
        assert_eq!(err.message, "{seq} unknown; captured []; later Some((0, true))");
        let late =
            "url = \"ws://x/\"\nsteps = [{ send = \"{v}\" }, { receive = 1, capture = { v = { json = \"v\" } } }]";
        let err = spec(late).unwrap().check_variables(|_| false, unknown).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.message.as_str()),
            ("websockets.chat.steps[0].send", "{v} unknown; captured []; later Some((1, false))")
        );
        // The URL is read before any step: a capture is never its.
        let url = text.replace("{room}", "{seq}");
        let err = spec(&url).unwrap().check_variables(|v| known.contains(&v), unknown).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.message.as_str()),
            ("websockets.chat.url", "{seq} unknown; captured []; later None")
        );
    }

    #[test]
    fn json_paths() {
        let doc: serde_json::Value = serde_json::from_str(r#"{"a":{"b":[1,{"c":"x"}]}}"#).unwrap();
        let path = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(json_path(&doc, &path("a.b.1.c")).as_deref(), Ok("x"));
        assert_eq!(json_path(&doc, &path("a.b.0")).as_deref(), Ok("1"));
        assert_eq!(json_path(&doc, &path("a.z")), Err(crate::scenario::capture::JsonMiss::NotFound));
    }

    /// A step that gives both `expect` and `contains` says both when a message fails it (it
    /// named only `expect`, which the message may have equalled).
    #[test]
    fn a_failed_match_says_everything_the_step_asked_for() {
        assert_eq!(wanted(Some("ok"), None), "\"ok\"");
        assert_eq!(wanted(None, Some("seq")), "text containing \"seq\"");
        assert_eq!(wanted(Some("ok 1"), Some("2")), "\"ok 1\" containing \"2\"");
    }
}
