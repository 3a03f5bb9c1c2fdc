//! `[[scenario]]` entries: each names a journey the registry has, a datapool the file
//! defines, and a volume model; every template variable of its journey must resolve (an
//! earlier capture, a datapool column, or configuration) and every URL must render.

use toml::Spanned;

use super::datapools::Pools;
use super::error::{ScenarioFileError, Source};
use super::journeys::{Declarations, StepPlaces};
use super::schema::{EntrySpec, FileSpec};
use super::volumes::volume;
use crate::journey::{Registry, Scenario, ScenarioEntry};
use crate::model::config::Config;
use crate::model::datapool::DataPool;
use crate::scenario::declarative::DeclarativeJourney;

/// What an entry is checked against.
pub(super) struct Entries<'a> {
    pub(super) src: &'a Source<'a>,
    pub(super) spec: &'a FileSpec,
    /// The registry the file was loaded over (its journeys are listed in errors).
    pub(super) base: &'a Registry,
    /// `base` plus the file's journeys and datapools.
    pub(super) registry: &'a Registry,
    pub(super) pools: &'a Pools,
    pub(super) declared: &'a Declarations,
    /// The configuration as journeys will see it: the file's, then the environment's, then
    /// `--config`.
    pub(super) config: &'a Config,
    /// Whether a file without a `[[scenario]]` entry is refused (not when one of its
    /// journeys is run alone).
    pub(super) needs_an_entry: bool,
}

impl Entries<'_> {
    /// Every `[[scenario]]` entry, checked; at least one is needed when `needs_an_entry`.
    pub(super) fn resolve(&self) -> Result<Vec<ScenarioEntry>, ScenarioFileError> {
        if self.spec.scenario.is_empty() && self.needs_an_entry {
            let message = "no [[scenario]] entries; add one with journey, volume (and datapool) (`journey test` \
                           and `journey run` run one of the file's journeys without one)";
            return Err(self.src.error(None, "scenario", message));
        }
        self.spec.scenario.iter().enumerate().map(|(i, entry)| self.entry(&format!("scenario[{i}]"), entry)).collect()
    }

    fn entry(&self, field: &str, entry: &Spanned<EntrySpec>) -> Result<ScenarioEntry, ScenarioFileError> {
        let spec = entry.get_ref();
        let journey = spec.journey.get_ref();
        if let Err(unknown) = self.registry.find_journey(journey) {
            return Err(self.src.error(
                Some(spec.journey.span()),
                format!("{field}.journey"),
                self.unknown(journey, &unknown),
            ));
        }
        let (datapool, columns) = self.datapool(field, spec.datapool.as_ref())?;
        self.check_journey(entry.span(), journey, datapool.as_ref(), columns)?;
        let volume = volume(self.src, &format!("{field}.volume"), spec.volume.get_ref(), spec.volume.span())?;
        Ok(ScenarioEntry { journey: journey.clone(), datapool, volume })
    }

    /// Why an entry's `journey` is refused: the registry's words (the close names, or those it
    /// knows), the journeys this file defines, and for a `module:name` that this binary does
    /// not register, where such a journey comes from. The registered names were said twice
    /// (`known: a, b; defined here: a, b`), and a new crate's `shop:browse` checked with the
    /// engine's own binary got no word of why it was unknown.
    fn unknown(&self, journey: &str, unknown: &crate::journey::UnknownName) -> String {
        let own: Vec<&str> = self.spec.journeys.keys().chain(self.spec.websockets.keys()).map(String::as_str).collect();
        let mut message = unknown.to_string();
        if !own.is_empty() {
            message += &format!("; this file defines {}", own.join(", "));
        }
        if journey.contains(':')
            && !self.base.journey_names().any(|name| name.split(':').next() == journey.split(':').next())
        {
            message += "; a module:name journey is Rust code, known only to the binary built with it: run the \
                        crate that registers it (`cargo run -- scenario check FILE` in that crate)";
        }
        message
    }

    /// The entry's datapool (and its columns), when it names one the file defines.
    fn datapool(
        &self,
        field: &str,
        name: Option<&Spanned<String>>,
    ) -> Result<(Option<DataPool>, Option<&[String]>), ScenarioFileError> {
        let Some(name) = name else { return Ok((None, None)) };
        match self.pools.get(name.get_ref()) {
            Some((pool, columns)) => Ok((Some(pool.clone()), columns.as_deref())),
            None => {
                Err(self.src.error(Some(name.span()), format!("{field}.datapool"), self.unknown_pool(name.get_ref())))
            }
        }
    }

    /// An entry's datapool the file does not define: what it does define (or that it defines
    /// none), and that a registered datapool of that name is not one an entry may name.
    fn unknown_pool(&self, name: &str) -> String {
        let defined = match self.pools.keys().map(String::as_str).collect::<Vec<_>>().join(", ") {
            defined if defined.is_empty() => "this file defines none (a [datapools.NAME] table)".to_string(),
            defined => format!("defined here: {defined}"),
        };
        let registered = if self.base.find_datapool(name).is_ok() {
            "; a registered datapool is for `journey test` and `journey run` only: define it in this file"
        } else {
            ""
        };
        format!("unknown datapool {name:?}; {defined}{registered}")
    }

    /// What `journey test` and `journey run` would meet running each declarative journey of
    /// the file alone, with each datapool the file defines and with none: the check a
    /// `[[scenario]]` entry of that pair would get (`None` for a pair that passes it), so that
    /// such a command refuses before its first request what every row would fail on.
    pub(super) fn journey_runs(&self) -> JourneyRuns {
        let mut runs = JourneyRuns::default();
        let journeys = self.spec.journeys.iter().map(|(name, j)| (name, j.span()));
        for (name, span) in journeys.chain(self.spec.websockets.iter().map(|(name, j)| (name, j.span()))) {
            let pools = self.pools.iter().map(|(pool, (p, columns))| (Some(pool.clone()), Some(p), columns.as_deref()));
            for (pool, datapool, columns) in std::iter::once((None, None, None)).chain(pools) {
                let error = self.check_journey(span.clone(), name, datapool, columns).err();
                runs.0.insert((name.clone(), pool), error);
            }
        }
        runs
    }

    /// A declarative journey's variables and URLs, with this entry's datapool; `span`: where
    /// to point when the fault has no place of its own (the entry).
    fn check_journey(
        &self,
        span: std::ops::Range<usize>,
        name: &str,
        datapool: Option<&DataPool>,
        columns: Option<&[String]>,
    ) -> Result<(), ScenarioFileError> {
        // URLs are rendered as the first journey would render them.
        let first_row = || datapool.and_then(|pool| pool.shard(0, 1).checkout());
        if let Some(journey) = self.declared.http.get(name) {
            let places = self.declared.http_places.get(name).map_or(&[][..], Vec::as_slice);
            check_variables(self.src, journey, places, columns, self.config)?;
            journey.check_urls(first_row().as_ref(), self.config).map_err(|e| {
                let span = places.get(e.step).and_then(StepPlaces::url).unwrap_or(span.clone());
                let message = format!("with the first datapool row and the final config: {}", e.reason);
                self.src.error(Some(span), format!("journeys.{name}.steps[{}].url", e.step), message)
            })?;
        }
        if let Some(journey) = self.declared.ws.get(name) {
            let known = |v: &str| columns.is_some_and(|c| c.iter().any(|c| c == v)) || self.config.get(v).is_some();
            let unknown = |variable: &str, captured: &[&str], later: Option<(usize, bool)>| {
                unknown_variable(variable, columns, captured, later)
            };
            journey
                .check_variables(known, unknown)
                .map_err(|e| self.src.error(e.span.or(Some(span.clone())), e.field, e.message))?;
            journey.check_url(first_row().as_ref(), self.config).map_err(|reason| {
                let message = format!("with the first datapool row and the final config: {reason}");
                self.src.error(Some(journey.url_span()), format!("websockets.{name}.url"), message)
            })?;
        }
        Ok(())
    }
}

/// For each declarative journey of a file and each datapool it could be run with (or none),
/// the error a `[[scenario]]` entry of that pair would be refused with, if any.
#[derive(Debug, Clone, Default)]
pub struct JourneyRuns(std::collections::BTreeMap<(String, Option<String>), Option<ScenarioFileError>>);

impl JourneyRuns {
    /// The error running `journey` alone with `datapool` would meet before its first request;
    /// `Ok` for a pair that passes, and for a journey or datapool the file does not declare
    /// (a registered one: its own code reads what it needs).
    pub fn check(&self, journey: &str, datapool: Option<&str>) -> Result<(), ScenarioFileError> {
        match self.0.get(&(journey.to_string(), datapool.map(str::to_string))) {
            Some(Some(error)) => Err(error.clone()),
            _ => Ok(()),
        }
    }
}

/// Where each `[[scenario]]` entry's volume model is written (`s.toml:12: scenario[0].volume`),
/// for what is checked once the run's cores are known: the run and `scenario check` name the
/// place as every other error in the file does.
#[derive(Debug, Clone, Default)]
pub struct EntryPlaces(Vec<ScenarioFileError>);

impl EntryPlaces {
    pub(super) fn of(src: &Source<'_>, spec: &FileSpec) -> EntryPlaces {
        let place = |(i, entry): (usize, &Spanned<EntrySpec>)| {
            src.error(Some(entry.get_ref().volume.span()), format!("scenario[{i}].volume"), "")
        };
        EntryPlaces(spec.scenario.iter().enumerate().map(place).collect())
    }

    /// An error about entry `index` (0-based) at its volume model's line.
    pub fn at(&self, index: usize, message: impl Into<String>) -> ScenarioFileError {
        let mut error = self.0.get(index).cloned().unwrap_or_else(|| ScenarioFileError {
            file: std::path::PathBuf::new(),
            line: None,
            field: format!("scenario[{index}].volume"),
            message: String::new(),
        });
        error.message = message.into();
        error
    }

    /// Each entry's volume model split over `parts` (cores × segments), as the run checks it
    /// (`VolumeModel::validate_split`): too many journeys or too high a rate for the cores,
    /// or fewer `max_in_flight` slots than cores, named at the entry's line.
    pub fn check_split(&self, scenario: &Scenario, parts: usize) -> Result<(), ScenarioFileError> {
        for (i, entry) in scenario.entries.iter().enumerate() {
            entry.volume.validate_split(parts).map_err(|e| self.at(i, e.to_string()))?;
        }
        Ok(())
    }
}

/// Every template variable must resolve: an earlier capture, a datapool column, or config. An
/// unknown one is named at the line of the field that reads it (`places`: where each step's
/// templates are written).
fn check_variables(
    src: &Source<'_>,
    journey: &DeclarativeJourney,
    places: &[StepPlaces],
    columns: Option<&[String]>,
    config: &Config,
) -> Result<(), ScenarioFileError> {
    let mut captured: Vec<&str> = Vec::new();
    for (i, (step, places)) in journey.steps.iter().zip(places).enumerate() {
        for place in places.templates() {
            for variable in &place.variables {
                let known = captured.contains(&variable.as_str())
                    || columns.is_some_and(|c| c.contains(variable))
                    || config.get(variable).is_some();
                if !known {
                    let field = format!("journeys.{}.steps[{i}].{}", journey.name, place.field);
                    let later = journey.steps[i..].iter().position(|s| s.captures.iter().any(|(n, _)| n == variable));
                    let message = unknown_variable(variable, columns, &captured, later.map(|j| (i + j, j == 0)));
                    return Err(src.error(Some(place.span.clone()), field, message));
                }
            }
        }
        captured.extend(step.captures.iter().map(|(name, _)| name.as_str()));
    }
    Ok(())
}

/// What to say about `{variable}` that nothing sets: what is known, and how to set it; or,
/// when step `later` (this step, `true`, or one after it) captures it, that it is read too
/// early.
fn unknown_variable(
    variable: &str,
    columns: Option<&[String]>,
    captured: &[&str],
    later: Option<(usize, bool)>,
) -> String {
    if let Some((_, true)) = later {
        return format!(
            "{{{variable}}} is captured by this step, from what it receives: a capture can be read only by \
             the steps after the one that takes it: read it in a later step"
        );
    }
    if let Some((later, _)) = later {
        return format!(
            "{{{variable}}} is captured by steps[{later}], not before this step: a capture can be read only by \
             the steps after the one that takes it: move this step after steps[{later}] (or set {variable} \
             in [config] to have a value before it)"
        );
    }
    let mut hint = String::new();
    if let Some(columns) = columns {
        hint.push_str(&format!(" datapool columns: {};", columns.join(", ")));
    }
    if !captured.is_empty() {
        hint.push_str(&format!(" captured so far: {};", captured.join(", ")));
    }
    format!(
        "{{{variable}}} is not a datapool column, an earlier capture or a config key;{hint} \
         set it with [config] {variable} = \"...\", MITE_CONF_{variable} or --config {variable}=..."
    )
}
