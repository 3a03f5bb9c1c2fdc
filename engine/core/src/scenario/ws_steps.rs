//! Declarative WebSocket journeys from scenario files (`[websockets.NAME]`): connect to a
//! templated URL, then steps (send, request/reply, receive with expected content or a JSON
//! capture, think), repeated `repeat` times on the one connection, then close. The whole
//! connection is timed as one transaction.

use indexmap::IndexMap;
use std::future::Future;
use std::time::Duration;

use serde::Deserialize;

use crate::driver::sleep;
use crate::journey::{Ctx, JourneyError, JourneyResult};
use crate::limits::{WS_RECEIVE_MESSAGES_MAX, WS_REPEATS_MAX};
use crate::model::config::Config;
use crate::model::datapool::Row;
use crate::scenario::capture::json_path;
use crate::scenario::declarative::{DescribedJourney, header_problem};
use crate::scenario::duration::parse_duration;
use crate::scenario::template::Template;
use crate::ws::{WebSocket, WsMessage};

/// A `[websockets.NAME]` table as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct WsJourneySpec {
    url: String,
    transaction: Option<String>,
    #[serde(default)]
    protocols: Vec<String>,
    #[serde(default)]
    headers: IndexMap<String, String>,
    repeat: Option<u32>,
    steps: Vec<WsStepSpec>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct WsStepSpec {
    send: Option<String>,
    request: Option<String>,
    receive: Option<ReceiveSpec>,
    think: Option<String>,
    expect: Option<String>,
    contains: Option<String>,
    timeout: Option<String>,
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
}

/// A `[websockets.NAME]` table that cannot be used: the field (under `websockets.NAME`) and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    /// Dotted path of the field (`websockets.chat.steps[0].receive`).
    pub field: String,
    /// What is wrong, and how to fix it.
    pub message: String,
}

impl From<(String, String)> for SpecError {
    fn from((field, message): (String, String)) -> SpecError {
        SpecError { field, message }
    }
}

impl WsJourneySpec {
    /// Checks the spec and builds the journey `name`.
    pub fn build(&self, name: &str) -> Result<WsJourney, SpecError> {
        let at = format!("websockets.{name}");
        let template = |text: &str, field: String| Template::parse(text).map_err(|e| (field, e.to_string()));
        // Values that land in the URL's path or query are percent-encoded, as in HTTP steps.
        let url = Template::parse_url(&self.url).map_err(|e| (format!("{at}.url"), e.to_string()))?;
        if let Some(literal) = url.as_literal() {
            let lower = literal.to_ascii_lowercase();
            if !lower.starts_with("ws://") && !lower.starts_with("wss://") {
                return Err(SpecError::from((format!("{at}.url"), "WebSocket URLs start with ws:// or wss://".into())));
            }
        }
        let repeat = self.repeat.unwrap_or(1);
        if !(1..=WS_REPEATS_MAX).contains(&repeat) {
            return Err(SpecError::from((format!("{at}.repeat"), format!("repeat must be 1..={WS_REPEATS_MAX}"))));
        }
        if self.steps.is_empty() {
            return Err(SpecError::from((format!("{at}.steps"), "a WebSocket journey needs at least one step".into())));
        }
        let mut headers = Vec::new();
        for (header, value) in &self.headers {
            if let Some(problem) = header_problem(header, value) {
                return Err(SpecError::from((format!("{at}.headers.{header}"), problem)));
            }
            headers.push((header.clone(), template(value, format!("{at}.headers.{header}"))?));
        }
        let mut steps = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            steps.push(step.build(&format!("{at}.steps[{i}]"))?);
        }
        Ok(WsJourney {
            name: name.to_string(),
            url,
            transaction: self.transaction.clone().unwrap_or_else(|| name.to_string()),
            protocols: self.protocols.clone(),
            headers,
            repeat,
            steps,
        })
    }
}

impl WsStepSpec {
    fn build(&self, at: &str) -> Result<WsStep, SpecError> {
        let template =
            |text: &str, part: &str| Template::parse(text).map_err(|e| (format!("{at}.{part}"), e.to_string()));
        let duration =
            |text: &str, part: &str| parse_duration(text).map_err(|e| (format!("{at}.{part}"), e.to_string()));
        let kinds = [self.send.is_some(), self.request.is_some(), self.receive.is_some(), self.think.is_some()];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(SpecError::from((
                at.to_string(),
                "a step is exactly one of send = \"text\", request = \"text\", receive = N (or \"until-close\"), think = \"1s\""
                    .into(),
            )));
        }
        let action = if let Some(text) = &self.send {
            Action::Send(template(text, "send")?)
        } else if let Some(text) = &self.request {
            Action::Request(template(text, "request")?)
        } else if let Some(receive) = &self.receive {
            match receive {
                ReceiveSpec::Count(n) if (1..=WS_RECEIVE_MESSAGES_MAX).contains(n) => Action::Receive(Some(*n)),
                ReceiveSpec::Until(text) if text == "until-close" => Action::Receive(None),
                _ => {
                    return Err(SpecError::from((
                        format!("{at}.receive"),
                        format!("receive is a count of messages (1..={WS_RECEIVE_MESSAGES_MAX}) or \"until-close\""),
                    )));
                }
            }
        } else {
            Action::Think(duration(self.think.as_deref().unwrap_or(""), "think")?)
        };
        let checks =
            self.expect.is_some() || self.contains.is_some() || !self.capture.is_empty() || self.timeout.is_some();
        if checks && matches!(action, Action::Send(_) | Action::Think(_)) {
            return Err(SpecError::from((
                at.to_string(),
                "expect, contains, capture and timeout apply to request and receive steps".into(),
            )));
        }
        let matcher = Matcher {
            expect: self.expect.as_deref().map(|t| template(t, "expect")).transpose()?,
            contains: self.contains.as_deref().map(|t| template(t, "contains")).transpose()?,
        };
        let timeout = self.timeout.as_deref().map(|t| duration(t, "timeout")).transpose()?;
        let captures = self
            .capture
            .iter()
            .map(|(var, c)| (var.clone(), c.json.split('.').map(str::to_string).collect()))
            .collect();
        Ok(WsStep { action, matcher, timeout, captures })
    }
}

impl WsJourney {
    /// The journey's name.
    pub fn name(&self) -> &str {
        &self.name
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
        let mut templates: Vec<&Template> = vec![&self.url];
        templates.extend(self.headers.iter().map(|(_, t)| t));
        for step in &self.steps {
            if let Action::Send(t) | Action::Request(t) = &step.action {
                templates.push(t);
            }
            templates.extend(step.matcher.expect.iter().chain(step.matcher.contains.iter()));
        }
        templates.into_iter().flat_map(Template::variables).collect()
    }

    /// Every template variable must resolve: an earlier capture, a datapool column, or a
    /// config key. Returns the step field and the message otherwise.
    pub fn check_variables(&self, known: impl Fn(&str) -> bool) -> Result<(), SpecError> {
        let at = format!("websockets.{}", self.name);
        let mut captured: Vec<&str> = Vec::new();
        let check = |templates: Vec<&Template>, field: String, captured: &[&str]| {
            for variable in templates.iter().flat_map(|t| t.variables()) {
                if !captured.contains(&variable) && !known(variable) {
                    return Err(SpecError::from((
                        field.clone(),
                        format!(
                            "{{{variable}}} is not a datapool column, an earlier capture or a config key; set it \
                             with [config] {variable} = \"...\", MITE_CONF_{variable} or --config {variable}=..."
                        ),
                    )));
                }
            }
            Ok(())
        };
        let mut head = vec![&self.url];
        head.extend(self.headers.iter().map(|(_, t)| t));
        check(head, format!("{at}.url"), &captured)?;
        for (i, step) in self.steps.iter().enumerate() {
            let mut templates: Vec<&Template> = Vec::new();
            if let Action::Send(t) | Action::Request(t) = &step.action {
                templates.push(t);
            }
            templates.extend(step.matcher.expect.iter().chain(step.matcher.contains.iter()));
            check(templates, format!("{at}.steps[{i}]"), &captured)?;
            captured.extend(step.captures.iter().map(|(name, _)| name.as_str()));
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
                    let done = self.step(ctx, &row, &mut ws, step, &mut captured).await;
                    if !done.map_err(|e| in_step(e, &self.name, i))? {
                        return Ok(());
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
            Err(JourneyError::msg(format!(
                "received {m}, expected {}",
                expect
                    .as_ref()
                    .map(|e| format!("{e:?}"))
                    .or(contains.as_ref().map(|c| format!("text containing {c:?}")))
                    .unwrap_or_default()
            )))
        };
        match &step.action {
            Action::Send(text) => ws.send_text(&render(text, captured, row, ctx)?).await?,
            Action::Think(pause) => sleep(*pause).await,
            Action::Request(text) => {
                let message = ws.request_reply_within(&render(text, captured, row, ctx)?, timeout, matches).await?;
                capture(step, &message, captured)?;
            }
            Action::Receive(Some(count)) => {
                for _ in 0..*count {
                    let message = ws.receive_timeout(timeout).await?;
                    check(&message)?;
                    capture(step, &message, captured)?;
                }
            }
            Action::Receive(None) => {
                while let Some(message) = ws.receive_or_close(timeout).await? {
                    check(&message)?;
                    capture(step, &message, captured)?;
                }
                return Ok(false);
            }
        }
        Ok(true)
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

fn capture(step: &WsStep, message: &WsMessage, captured: &mut Vec<(String, String)>) -> Result<(), JourneyError> {
    if step.captures.is_empty() {
        return Ok(());
    }
    let document: serde_json::Value = serde_json::from_slice(message.bytes())
        .map_err(|e| JourneyError::msg(format!("capture: message {message} is not JSON: {e}")))?;
    for (name, path) in &step.captures {
        let value = json_path(&document, path)
            .ok_or_else(|| JourneyError::msg(format!("capture {name}: {} not found in {message}", path.join("."))))?;
        captured.push((name.clone(), value));
    }
    Ok(())
}

impl DescribedJourney for WsJourney {
    type Kept = ();

    fn run_described<'a>(&'a self, ctx: &'a Ctx, row: Row, _kept: &'a ()) -> impl Future<Output = JourneyResult> + 'a {
        self.run(ctx, row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<WsJourney, SpecError> {
        let spec: WsJourneySpec = toml::from_str(text).map_err(|e| (String::new(), e.to_string()))?;
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
        assert!(journey.check_variables(|v| v == "ws_url" || v == "topic").is_ok());
        let SpecError { field, message } = journey.check_variables(|v| v == "ws_url").unwrap_err();
        assert_eq!(field, "websockets.chat.steps[0]");
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
            let SpecError { field: got_field, message } = spec(text).unwrap_err();
            assert_eq!(got_field, field, "{message}");
            assert!(message.contains(what), "{message}");
        }
    }

    #[test]
    fn repeats_and_receive_counts_past_their_bounds_are_refused() {
        let repeat = |n: u64| format!("url = \"ws://x/\"\nrepeat = {n}\nsteps = [{{ send = \"a\" }}]");
        assert!(spec(&repeat(u64::from(WS_REPEATS_MAX))).is_ok());
        let SpecError { field, message } = spec(&repeat(u64::from(WS_REPEATS_MAX) + 1)).unwrap_err();
        assert_eq!(field, "websockets.chat.repeat");
        assert!(message.contains(&format!("1..={WS_REPEATS_MAX}")), "{message}");
        let receive = |n: u64| format!("url = \"ws://x/\"\nsteps = [{{ receive = {n} }}]");
        assert!(spec(&receive(u64::from(WS_RECEIVE_MESSAGES_MAX))).is_ok());
        let SpecError { field, message } = spec(&receive(u64::from(WS_RECEIVE_MESSAGES_MAX) + 1)).unwrap_err();
        assert_eq!(field, "websockets.chat.steps[0].receive");
        assert!(message.contains(&format!("1..={WS_RECEIVE_MESSAGES_MAX}")), "{message}");
    }

    #[test]
    fn json_paths() {
        let doc: serde_json::Value = serde_json::from_str(r#"{"a":{"b":[1,{"c":"x"}]}}"#).unwrap();
        let path = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(json_path(&doc, &path("a.b.1.c")).as_deref(), Some("x"));
        assert_eq!(json_path(&doc, &path("a.b.0")).as_deref(), Some("1"));
        assert_eq!(json_path(&doc, &path("a.z")), None);
    }
}
