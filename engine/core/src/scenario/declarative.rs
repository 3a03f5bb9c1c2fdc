//! Declarative HTTP journeys from scenario files: ordered steps with templated requests,
//! expected statuses, captures and think times. They run in the same journey slots as Rust
//! journeys, through the same client.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::future::Future;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::driver::sleep;
use crate::http::url::KeptUrl;
use crate::http::{Response, Url};
use crate::journey::shard::TxnId;
use crate::journey::slot::{Runs, Slot, spawn_slot_runs};
use crate::journey::{Ctx, Journey, JourneyError, JourneyResult, KeptRequest, RequestBuilder};
use crate::model::config::Config;
use crate::model::datapool::Row;
use crate::scenario::capture::{Capture, CaptureWords, json_path, trace_missed, trace_taken};
use crate::scenario::step_options::{RenderedOptions, StepOptions};
use crate::scenario::template::Template;

/// `?` for the steps of [`DeclarativeJourney::run_steps`]: an error breaks out of the block
/// labelled `$steps` with it (the journey's pace, when it has one, still waited out).
macro_rules! or_end {
    ($steps:lifetime, $result:expr) => {
        match $result {
            Ok(value) => value,
            Err(err) => {
                std::hint::cold_path();
                break $steps Err(err);
            }
        }
    };
}

/// One request of a declarative journey.
#[derive(Clone, Debug)]
pub struct Step {
    /// Transaction the request is timed under.
    pub transaction: String,
    /// Method.
    pub method: http::Method,
    /// URL template.
    pub url: Template,
    /// Header templates.
    pub headers: Vec<(String, Template)>,
    /// Body template.
    pub body: Option<Template>,
    /// Statuses that count as success.
    pub expect: RangeInclusive<u16>,
    /// Values taken from the response into variables for later steps.
    pub captures: Vec<(String, Capture)>,
    /// Pause after the step.
    pub think: Option<Duration>,
    /// Cookies, redirects, auth, JSON and form bodies, query parameters.
    pub options: StepOptions,
}

/// A step whose URL does not render, or renders to something that cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step {step}: {reason}")]
pub struct StepUrlError {
    /// The step, from 0.
    pub step: usize,
    /// Why, with the values the URL was rendered from.
    pub reason: String,
}

/// A journey made of steps.
#[derive(Clone, Debug)]
pub struct DeclarativeJourney {
    /// Name (as the scenario refers to it).
    pub name: String,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// `pace`: a run takes at least this long (Mite's `ensure_fixed_separation` or, with
    /// `plus_minus`, `ensure_average_separation` around the journey).
    pub pace: Option<Pace>,
}

/// How long a declarative journey run takes at least.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace {
    /// The separation (the mean, when `plus_minus` is given).
    pub every: Duration,
    /// `Some`: drawn from `every ± plus_minus` for each run.
    pub plus_minus: Option<Duration>,
}

impl DeclarativeJourney {
    /// Every `{name}` its steps' templates read (URL, headers, body, step options).
    pub fn variables(&self) -> Vec<&str> {
        let mut names = Vec::new();
        for step in &self.steps {
            let templates = std::iter::once(&step.url).chain(step.headers.iter().map(|(_, t)| t)).chain(&step.body);
            names.extend(templates.flat_map(Template::variables));
            names.extend(step.options.variables());
        }
        names
    }

    /// Renders every step's URL as the first journey would (a datapool row, the final
    /// configuration, captures standing in as `capture`) and checks that each can be sent.
    /// The error names the step and the URL it rendered. A URL that reads a capture and does
    /// not parse with the stand-in is left to the run (`url = "{next}"`, a capture holding
    /// the whole URL or its start: only the response can say what it is), where a value that
    /// makes no URL fails its step.
    pub fn check_urls(&self, row: Option<&Row>, config: &Config) -> Result<(), StepUrlError> {
        let mut captured: Vec<&str> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let lookup = |name: &str| -> Option<&str> {
                if captured.contains(&name) {
                    return Some("capture");
                }
                row.and_then(|row| row.by_name(name)).or_else(|| config.get(name))
            };
            let mut url = String::new();
            step.url.render_into(&mut url, lookup).map_err(|e| StepUrlError { step: i, reason: e.to_string() })?;
            let reads_capture = || step.url.variables().any(|name| captured.contains(&name));
            if let Err(err) = Url::parse(&url)
                && !reads_capture()
            {
                return Err(StepUrlError { step: i, reason: format!("{err}{}", step.url.rendered_from(lookup)) });
            }
            captured.extend(step.captures.iter().map(|(name, _)| name.as_str()));
        }
        Ok(())
    }

    /// Runs the steps once, paced when the journey says so.
    pub async fn run(&self, ctx: &Ctx, row: Row) -> JourneyResult {
        self.run_kept(ctx, &row, None).await
    }

    /// [`DeclarativeJourney::run`] in a journey slot, with the URLs the slot rendered once.
    fn run_kept<'a>(
        &'a self,
        ctx: &'a Ctx,
        row: &'a Row,
        kept: Option<&'a KeptSteps>,
    ) -> impl Future<Output = JourneyResult> + 'a {
        let separation = match self.pace {
            None => Duration::ZERO,
            Some(Pace { every, plus_minus: None }) => every,
            Some(Pace { every, plus_minus }) => {
                crate::journey::pacing::average_separation(every, plus_minus, crate::journey::pacing::unit_random())
            }
        };
        self.run_steps(ctx, row, kept, separation)
    }

    /// The steps, then the rest of `separation` from the first poll (as
    /// [`crate::journey::pacing::ensure_fixed_separation`] paces a block, whether the steps
    /// failed or not). Paced here, not by a future around this one: an unpaced journey's every
    /// poll, and its start and end, go through one future fewer (27 instructions a request
    /// fewer on the plain GET).
    async fn run_steps(&self, ctx: &Ctx, row: &Row, kept: Option<&KeptSteps>, separation: Duration) -> JourneyResult {
        // Read at the first poll, as `ensure_fixed_separation` reads it (an unpaced journey
        // reads no clock).
        let began = (!separation.is_zero()).then(std::time::Instant::now);
        // The steps, in a block a failure breaks out of (not `return`: the pace still holds).
        let result = 'steps: {
            let mut captured: Vec<(String, String)> = Vec::new();
            let mut url_buf = String::new();
            let mut body_buf = String::new();
            let kept = kept.map(|kept| kept.steps.get_or_init(|| self.kept_steps(ctx.config())));
            for (i, step) in self.steps.iter().enumerate() {
                let lookup = |name: &str| -> Option<&str> {
                    captured
                        .iter()
                        .rev()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.as_str())
                        .or_else(|| row.by_name(name))
                        .or_else(|| ctx.config().get(name))
                };
                let kept_step = kept.map(|kept| &kept[i]);
                let kept_request =
                    kept_step.and_then(|kept| kept.request.as_ref().filter(|_| kept.unshadowed(step, row)));
                let (url, kept_request) = match kept_request {
                    // Rendered from configuration alone, and no column of this row shadows it.
                    Some(kept) => (kept.url.as_str(), Some(kept)),
                    _ => (or_end!('steps, render_url(step, &mut url_buf, lookup)), None),
                };
                // What a plain step does not have is rendered out of the step loop's code.
                let header_values =
                    if step.headers.is_empty() { Vec::new() } else { or_end!('steps, render_headers(step, lookup)) };
                let body = match &step.body {
                    None => "",
                    Some(template) => or_end!('steps, render_template(template, &mut body_buf, lookup)),
                };
                let rendered =
                    if step.options.is_plain() { None } else { or_end!('steps, render_options(step, lookup)) };
                // The body for a JSON capture, the raw head for a header capture (a head the
                // session reads, with `Set-Cookie` or a redirect's, is kept whatever this says).
                let keep = if step.captures.is_empty() { (false, false) } else { capture_needs(step) };
                // The step's transaction id, kept once a run began it at the top level: no look-up
                // of its name in the core's table.
                let txn = kept_step.filter(|_| ctx.at_top_level()).map(|kept| &kept.txn);
                match txn.map(Cell::get) {
                    Some(id) if id != TxnId::MAX => ctx.hint_root(&step.transaction, id),
                    _ => {}
                }
                // The step's transaction, written out here rather than a `Transaction` future
                // around an async block: no future built, moved in and dropped once a step.
                let transaction = ctx.open_transaction(&step.transaction);
                let values = 'txn: {
                    if let Some(txn) = txn
                        && txn.get() == TxnId::MAX
                    {
                        txn.set(ctx.current_txn());
                    }
                    // Built from parts rendered before the transaction: its start is the request's.
                    let mut request = RequestBuilder::for_step(
                        ctx,
                        step.method.clone(),
                        url,
                        step.expect.clone(),
                        kept_request,
                        keep,
                    );
                    if !header_values.is_empty() {
                        request = with_headers(request, &header_values);
                    }
                    if !body.is_empty() {
                        request = request.body(body.as_bytes());
                    }
                    if let Some(rendered) = &rendered {
                        request = with_options(step, request, rendered);
                    }
                    // (The failures' arms marked cold, here and below: their code, and the drops
                    // on the way out, laid out apart from the step's path.)
                    // The response looked at where the await left it (bound by reference: not
                    // moved again, some 120 bytes), `send`'s body written out here: the client's
                    // exchange awaited in this future, polled as the transaction's body.
                    let sent = crate::journey::send_in_place!(request, transaction);
                    let response = match sent {
                        Ok(ref response) => response,
                        Err(err) => {
                            std::hint::cold_path();
                            break 'txn Err(err.into());
                        }
                    };
                    // Inside the transaction: a capture that fails is counted under its step.
                    if step.captures.is_empty() {
                        Ok(Vec::new())
                    } else {
                        std::hint::cold_path();
                        captures(ctx, step, response)
                    }
                };
                let values = transaction.end(values);
                let values = match values {
                    Ok(values) => values,
                    Err(err) => {
                        std::hint::cold_path();
                        break 'steps Err(err);
                    }
                };
                if !values.is_empty() {
                    captured.extend(values);
                }
                if let Some(think) = step.think {
                    sleep(think).await;
                }
            }
            Ok(())
        };
        if let Some(began) = began {
            std::hint::cold_path();
            crate::driver::think_until(began + separation).await;
        }
        result
    }
}

impl DeclarativeJourney {
    /// Each step's URL rendered from configuration alone and parsed, where that is what every
    /// run renders while the row has no column of the same name: `None` for a URL with no
    /// variable, one that reads a name an earlier step captures (the capture shadows the
    /// configuration), one the configuration cannot render, and one that does not parse or is
    /// not ASCII (each request renders and parses those, as before).
    fn config_urls(&self, config: &Config) -> Vec<Option<KeptUrl>> {
        let mut captured: Vec<&str> = Vec::new();
        let mut urls = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let fixed = step.url.as_literal().is_none() && step.url.variables().all(|name| !captured.contains(&name));
            let mut url = String::new();
            let rendered = fixed && step.url.render_into(&mut url, |name| config.get(name)).is_ok();
            urls.push(if rendered { KeptUrl::parse(url) } else { None });
            captured.extend(step.captures.iter().map(|(name, _)| name.as_str()));
        }
        urls
    }

    /// What a slot keeps of each step: its URL from configuration alone (see
    /// [`DeclarativeJourney::config_urls`]) and its plain request's head, and its transaction's
    /// id, not known yet.
    fn kept_steps(&self, config: &Config) -> Vec<KeptStep> {
        let urls = self.config_urls(config);
        let requests =
            urls.into_iter().zip(&self.steps).map(|(url, step)| url.map(|url| KeptRequest::new(url, &step.method)));
        requests.map(|request| KeptStep { request, unshadowed: OnceCell::new(), txn: Cell::new(TxnId::MAX) }).collect()
    }
}

/// A step's URL rendered for this run (one the slot could not keep, or one a row's column
/// shadows). Out of line and cold, as the other parts a plain step does not render below: the
/// step loop's code holds the plain step's path only.
#[cold]
#[inline(never)]
fn render_url<'s, 'a: 's>(
    step: &'s Step,
    buf: &'s mut String,
    lookup: impl Fn(&str) -> Option<&'a str>,
) -> JourneyResult<&'s str> {
    render_template(&step.url, buf, lookup)
}

/// What a step's captures need of its response: (its body, its raw head).
#[inline(never)]
fn capture_needs(step: &Step) -> (bool, bool) {
    let needs = |json: bool| step.captures.iter().any(|(_, c)| matches!(c, Capture::Json(_)) == json);
    (needs(true), needs(false))
}

/// A step's header values: one with no variable as written (no copy), the others rendered.
#[inline(never)]
fn render_headers<'s, 'a>(
    step: &'s Step,
    lookup: impl Fn(&str) -> Option<&'a str>,
) -> JourneyResult<Vec<(&'s str, Cow<'s, str>)>> {
    let mut values = Vec::with_capacity(step.headers.len());
    for (name, value) in &step.headers {
        let value = match value.as_literal() {
            Some(text) => Cow::Borrowed(text),
            None => {
                let mut rendered = String::new();
                value.render_into(&mut rendered, &lookup).map_err(|e| JourneyError::msg(e.to_string()))?;
                Cow::Owned(rendered)
            }
        };
        values.push((name.as_str(), value));
    }
    Ok(values)
}

/// A step's template (its body, or a URL not kept) rendered.
#[inline(never)]
fn render_template<'s, 'a: 's>(
    template: &'s Template,
    buf: &'s mut String,
    lookup: impl Fn(&str) -> Option<&'a str>,
) -> JourneyResult<&'s str> {
    template.text(buf, lookup).map_err(|e| JourneyError::msg(e.to_string()))
}

/// A step's options (cookies, auth, JSON and form bodies, query) rendered, for a step that
/// has some.
#[inline(never)]
fn render_options<'a>(
    step: &Step,
    lookup: impl Fn(&str) -> Option<&'a str>,
) -> JourneyResult<Option<Box<RenderedOptions>>> {
    step.options.render(lookup).map_err(|e| JourneyError::msg(e.to_string()))
}

/// The request with the step's headers.
#[inline(never)]
fn with_headers<'c>(mut request: RequestBuilder<'c>, values: &'c [(&'c str, Cow<'c, str>)]) -> RequestBuilder<'c> {
    for (name, value) in values {
        request = request.header(name, value);
    }
    request
}

/// The request with the step's rendered options.
#[inline(never)]
fn with_options<'c>(step: &Step, request: RequestBuilder<'c>, rendered: &'c RenderedOptions) -> RequestBuilder<'c> {
    step.options.apply(request, rendered)
}

/// What a journey slot keeps from one run of a declarative journey to the next, for each step:
/// its URL when it reads configuration only (typically `{target_url}`), rendered and parsed on
/// the slot's first run rather than looked up, rendered and parsed for every request, with the
/// head of its request as it is sent when nothing is added to it (`KeptRequest`); and its
/// transaction's id in the core's table, once a run began it (at the top level), rather than
/// its name looked up at every step. A core's configuration does not change during a run, the
/// table keeps an id's name for the run, and a slot stays on its core.
#[derive(Default)]
pub(crate) struct KeptSteps {
    steps: OnceCell<Vec<KeptStep>>,
}

/// What a slot keeps of one step (see [`KeptSteps`]).
struct KeptStep {
    request: Option<KeptRequest>,
    /// The column names of rows found to name none of the URL's variables, held (the same
    /// `Arc`, the same names): a row of a pool that has them (every row of a file's or a
    /// range's pool shares its pool's) is not searched for each variable again.
    unshadowed: OnceCell<Arc<[String]>>,
    /// `TxnId::MAX`: not known yet.
    txn: Cell<TxnId>,
}

impl KeptStep {
    /// Whether no column of `row` is named as a variable of `step`'s URL (whose kept text then
    /// is what the URL renders to for this row).
    #[inline]
    fn unshadowed(&self, step: &Step, row: &Row) -> bool {
        let Some(columns) = row.column_names() else { return true };
        if self.unshadowed.get().is_some_and(|known| Arc::ptr_eq(known, columns)) {
            return true;
        }
        let unshadowed = step.url.variables().all(|name| !columns.iter().any(|column| column == name));
        if unshadowed {
            let _ = self.unshadowed.set(columns.clone());
        }
        unshadowed
    }
}

/// The step's captures from its response, or an error naming the one not found (and, for a
/// JSON capture, a body that is not JSON at all).
fn captures(ctx: &Ctx, step: &Step, response: &Response) -> JourneyResult<Vec<(String, String)>> {
    let mut values = Vec::new();
    for (name, capture) in &step.captures {
        let value = capture_value(response, capture).map_err(|why| {
            trace_missed(ctx, name, &CaptureWords(capture), &why);
            JourneyError::msg(format!("step {:?}: capture {name} = {} {why}", step.transaction, CaptureWords(capture)))
        })?;
        trace_taken(ctx, name, &value);
        values.push((name.clone(), value));
    }
    Ok(values)
}

fn capture_value(response: &Response, capture: &Capture) -> Result<String, String> {
    const MISSING: &str = "not found in the response";
    match capture {
        Capture::Header(name) => response.header(name).map(str::to_string).ok_or_else(|| MISSING.to_string()),
        Capture::Json(path) => {
            let document: serde_json::Value = serde_json::from_slice(response.body()).map_err(|err| {
                let bytes = crate::journey::trace::counted(response.body().len() as u64, "byte");
                format!("not found: the response body ({bytes}) is not JSON ({err})")
            })?;
            json_path(&document, path).map_err(|miss| miss.said("the response"))
        }
    }
}

/// A journey a scenario file describes (HTTP steps, WebSocket steps) and that runs itself.
pub(crate) trait DescribedJourney: Send + Sync + 'static {
    /// What a journey slot keeps from one run to the next.
    type Kept: Default + 'static;

    /// Runs the journey once with `row` (lent by its slot), with what its slot keeps.
    fn run_described<'a>(
        &'a self,
        ctx: &'a Ctx,
        row: &'a Row,
        kept: &'a Self::Kept,
    ) -> impl Future<Output = JourneyResult> + 'a;
}

impl DescribedJourney for DeclarativeJourney {
    type Kept = KeptSteps;

    fn run_described<'a>(
        &'a self,
        ctx: &'a Ctx,
        row: &'a Row,
        kept: &'a KeptSteps,
    ) -> impl Future<Output = JourneyResult> + 'a {
        self.run_kept(ctx, row, Some(kept))
    }
}

/// Registry adapter: a journey a scenario file describes, behind the `Journey` trait.
pub struct Declared<J>(pub Arc<J>);

impl<J: DescribedJourney> Journey for Declared<J> {
    fn run_once<'a>(&'a self, ctx: &'a Ctx, row: Row) -> Pin<Box<dyn Future<Output = JourneyResult> + 'a>> {
        Box::pin(async move { self.0.run_described(ctx, &row, &J::Kept::default()).await })
    }

    fn spawn_slot(&self, slot: Slot) {
        spawn_slot_runs(slot, DescribedRuns { journey: self.0.clone(), kept: J::Kept::default() });
    }
}

/// A described journey as its slot runs it, with what the slot keeps between runs: each run's
/// future made in the slot's task, not copied there from an `async` closure's.
struct DescribedRuns<J: DescribedJourney> {
    journey: Arc<J>,
    kept: J::Kept,
}

impl<J: DescribedJourney> Runs for DescribedRuns<J> {
    #[inline]
    fn run<'a>(&'a self, ctx: &'a Ctx, row: &'a Row) -> impl Future<Output = JourneyResult> + 'a {
        self.journey.run_described(ctx, row, &self.kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(url: &str) -> Step {
        Step {
            transaction: "t".into(),
            method: http::Method::GET,
            url: Template::parse_url(url).unwrap(),
            headers: Vec::new(),
            body: None,
            expect: 200..=399,
            captures: Vec::new(),
            think: None,
            options: StepOptions::default(),
        }
    }

    fn kept() -> KeptStep {
        KeptStep { request: None, unshadowed: OnceCell::new(), txn: Cell::new(TxnId::MAX) }
    }

    /// A paced journey whose step fails (here its URL does not render) still takes its pace,
    /// as `ensure_fixed_separation` paced it: the failure ends the steps, not the run.
    #[test]
    fn a_paced_journey_that_fails_still_takes_its_pace() {
        let pace = Duration::from_millis(150);
        let steps = vec![step("http://127.0.0.1:1/{missing}")];
        let journey =
            DeclarativeJourney { name: "paced".into(), steps, pace: Some(Pace { every: pace, plus_minus: None }) };
        let mut registry = crate::journey::Registry::default();
        registry.journey_impl("paced", Arc::new(Declared(Arc::new(journey))));
        let started = std::time::Instant::now();
        let record = crate::journey::journey_test::JourneyTest::new().run_registered(&registry, "paced").unwrap();
        let took = started.elapsed();
        assert!(record.result.is_err(), "the URL does not render");
        assert!(record.requests.is_empty());
        assert!(took >= pace, "{took:?}: the failed run did not wait out its pace");
    }

    /// A pool's column names found to shadow none of a URL's variables are known again by
    /// their `Arc`, not searched; names that shadow one are searched at every row, and other
    /// names (another pool's, equal or not) are searched too.
    #[test]
    fn a_pools_column_names_are_searched_once_per_step() {
        let (step, kept) = (step("{base}/a/{id}"), kept());
        let names: Arc<[String]> = vec!["user".to_string()].into();
        let row = |names: &Arc<[String]>| Row::with_columns(vec!["ann".into()], names.clone());
        assert!(kept.unshadowed(&step, &Row::new(["x"])), "no names: nothing shadows");
        assert!(kept.unshadowed.get().is_none());
        assert!(kept.unshadowed(&step, &row(&names)));
        assert!(kept.unshadowed.get().is_some_and(|known| Arc::ptr_eq(known, &names)), "kept");
        assert!(kept.unshadowed(&step, &row(&names)), "known again");
        let shadowing: Arc<[String]> = vec!["user".to_string(), "id".to_string()].into();
        let shadowing_row = Row::with_columns(vec!["ann".into(), "7".into()], shadowing.clone());
        assert!(!kept.unshadowed(&step, &shadowing_row));
        assert!(!kept.unshadowed(&step, &shadowing_row), "searched again: still shadowed");
        let other: Arc<[String]> = vec!["user".to_string()].into();
        assert!(kept.unshadowed(&step, &row(&other)), "equal names, another pool's: searched");
        assert!(kept.unshadowed.get().is_some_and(|known| Arc::ptr_eq(known, &names)), "the first kept");
    }
}
