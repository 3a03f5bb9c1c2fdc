//! Journeys, datapools and scenarios by `module:name` (Mite's names), the scenario a
//! `ScenarioFn` builds, and "did you mean" for a name not found.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::journey::slot::{AsyncJourney, Journey};
use crate::journey::{Ctx, JourneyResult};
use crate::limits::UNKNOWN_NAME_LISTED_MAX;
use crate::model::config::Config;
use crate::model::datapool::{DataPool, Row};
use crate::model::volume::VolumeModel;

/// One line of a scenario: which journey, fed by which datapool, at what volume.
///
/// ```
/// # use mite_core::prelude::*;
/// let entry = ScenarioEntry {
///     journey: "shop:browse".into(),
///     datapool: Some(DataPool::recyclable("users", vec![Row::new(["ann"])])),
///     volume: VolumeModel::Ramp { from: 0, to: 50, duration_s: 60.0 },
/// };
/// assert_eq!(entry.volume.target(29.0, 30.0), Some(25)); // halfway up the ramp
/// ```
#[derive(Clone, Debug)]
pub struct ScenarioEntry {
    /// Registered journey name (`module:name`).
    pub journey: String,
    /// Rows of arguments; `None` runs the journey with the empty row.
    pub datapool: Option<DataPool>,
    /// How many journeys to keep in flight.
    pub volume: VolumeModel,
}

/// A scenario: what to run, plus configuration defaults it brings.
///
/// ```
/// # use mite_core::prelude::*;
/// fn scenario(_config: &Config) -> Result<Scenario, ScenarioError> {
///     let mut defaults = Config::default();
///     defaults.set("base", "http://127.0.0.1:8080"); // `--config base=...` overrides it
///     let browse = ScenarioEntry { journey: "shop:browse".into(), datapool: None, volume: VolumeModel::constant(8) };
///     let buy = ScenarioEntry { journey: "shop:buy".into(), datapool: None, volume: VolumeModel::constant(2) };
///     Ok(Scenario { name: "shop".into(), entries: vec![browse, buy], config: defaults })
/// }
///
/// let built = scenario(&Config::default()).unwrap();
/// assert_eq!(built.entries.len(), 2);
/// assert_eq!(built.config.get("base"), Some("http://127.0.0.1:8080"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Scenario {
    /// Name shown in results.
    pub name: String,
    /// The entries run side by side.
    pub entries: Vec<ScenarioEntry>,
    /// Configuration defaults (overridden by env and CLI).
    pub config: Config,
}

/// Builds a scenario from the configuration.
pub type ScenarioFn = fn(&Config) -> Result<Scenario, ScenarioError>;

/// A scenario function could not build its scenario. Built from a message with `?` or
/// `.into()` (`Err("no base URL")?`, `Err(format!(..).into())`), or for a configuration value
/// with [`ScenarioError::config`].
///
/// ```
/// # use mite_core::prelude::*;
/// fn scenario(config: &Config) -> Result<Scenario, ScenarioError> {
///     let base = config.get("base").ok_or("config base is missing: the shop's URL")?;
///     if !base.starts_with("http") {
///         return Err(ScenarioError::config("base", base, "expected an http:// or https:// URL"));
///     }
///     Ok(Scenario::default())
/// }
///
/// let err = scenario(&Config::default()).unwrap_err();
/// assert_eq!(err, ScenarioError::msg("config base is missing: the shop's URL"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// A configuration value the scenario needs cannot be used.
    #[error("config {key}={value:?}: {expected}")]
    Config {
        /// The configuration key (`journeys`).
        key: String,
        /// The value it has.
        value: String,
        /// What it should be, in the user's words (`expected a whole number`).
        expected: String,
    },
    /// Anything else, in the scenario author's words.
    #[error("{0}")]
    Message(String),
}

impl ScenarioError {
    /// An error with a message.
    ///
    /// ```
    /// # use mite_core::prelude::ScenarioError;
    /// let err = ScenarioError::msg(format!("{} is down", "http://shop"));
    /// assert_eq!(err.to_string(), "http://shop is down");
    /// ```
    pub fn msg(message: impl Into<String>) -> ScenarioError {
        ScenarioError::Message(message.into())
    }

    /// Configuration `key` has `value`, which is not what the scenario expects.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// fn scenario(config: &Config) -> Result<Scenario, ScenarioError> {
    ///     let text = config.get_or("journeys", "10");
    ///     let not_whole = |_| ScenarioError::config("journeys", text, "expected a whole number");
    ///     let journeys: u64 = text.parse().map_err(not_whole)?;
    ///     let volume = VolumeModel::constant(journeys);
    ///     let entry = ScenarioEntry { journey: "shop:browse".into(), datapool: None, volume };
    ///     Ok(Scenario { name: "shop".into(), entries: vec![entry], config: Config::default() })
    /// }
    ///
    /// let mut config = Config::default();
    /// config.set("journeys", "ten");
    /// assert_eq!(scenario(&config).unwrap_err().to_string(), r#"config journeys="ten": expected a whole number"#);
    /// ```
    pub fn config(key: &str, value: &str, expected: impl Into<String>) -> ScenarioError {
        ScenarioError::Config { key: key.to_string(), value: value.to_string(), expected: expected.into() }
    }
}

impl From<String> for ScenarioError {
    fn from(message: String) -> ScenarioError {
        ScenarioError::Message(message)
    }
}

impl From<&str> for ScenarioError {
    fn from(message: &str) -> ScenarioError {
        ScenarioError::Message(message.to_string())
    }
}

/// A name not found in the registry, with the closest registered names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}{}", hint(suggestions, known, *known_count))]
pub struct UnknownName {
    /// What was asked for.
    pub name: String,
    /// `journey`, `scenario` or `datapool`.
    pub what: &'static str,
    /// Close registered names.
    pub suggestions: Vec<String>,
    /// Registered names of its kind, sorted (at most [`UNKNOWN_NAME_LISTED_MAX`]), said when none
    /// is close: a user who misremembers a name completely still learns what there is.
    pub known: Vec<String>,
    /// How many registered names of its kind there are in all.
    pub known_count: usize,
}

impl UnknownName {
    /// `name` not among `names` (registered `what`s): the close ones, and the first few of all.
    fn among<'a>(name: &str, what: &'static str, names: impl Iterator<Item = &'a str> + Clone) -> UnknownName {
        let suggestions = closest(name, names.clone(), 3).into_iter().map(String::from).collect();
        let mut known: Vec<&str> = names.collect();
        known.sort_unstable();
        let known_count = known.len();
        let known = known.into_iter().take(UNKNOWN_NAME_LISTED_MAX).map(String::from).collect();
        UnknownName { name: name.to_string(), what, suggestions, known, known_count }
    }
}

/// `; did you mean a, b?`; without close names `; known: a, b and 3 more (mite-engine list)`;
/// nothing when nothing of its kind is known.
fn hint(suggestions: &[String], known: &[String], known_count: usize) -> String {
    let printable = |names: &[String]| -> Vec<String> {
        names.iter().map(|name| crate::model::terminal::printable(name).into_owned()).collect()
    };
    if !suggestions.is_empty() {
        return format!("; did you mean {}?", printable(suggestions).join(", "));
    }
    if known.is_empty() {
        return String::new();
    }
    let more = known_count.saturating_sub(known.len());
    let more = if more == 0 { String::new() } else { format!(" and {more} more (mite-engine list)") };
    format!("; known: {}{more}", printable(known).join(", "))
}

/// Builds a datapool (for `journey test JOURNEY DATAPOOL`).
pub type DataPoolFn = fn() -> DataPool;

/// A registered datapool: built on demand, or already built (scenario files).
#[derive(Clone)]
enum DataPoolSource {
    Build(DataPoolFn),
    Built(DataPool),
}

/// Journeys, datapools and scenarios by `module:name`.
///
/// ```
/// # use mite_core::prelude::*;
/// async fn browse(_ctx: &Ctx, _row: Row) -> JourneyResult {
///     Ok(())
/// }
///
/// let mut registry = Registry::default();
/// registry.journey("shop:browse", browse);
/// registry.datapool("shop:users", || DataPool::recyclable("users", vec![Row::new(["ann"])]));
/// registry.scenario("shop:soak", |_config| Ok(Scenario::default()));
/// assert_eq!(registry.journey_names().chain(registry.scenario_names()).count(), 2);
/// ```
#[derive(Default, Clone)]
pub struct Registry {
    journeys: BTreeMap<String, Arc<dyn Journey>>,
    scenarios: BTreeMap<String, ScenarioFn>,
    datapools: BTreeMap<String, DataPoolSource>,
    /// Names given to `journey`, `scenario` or `datapool` more than once, in words
    /// (`journey "shop:browse"`): [`Registry::registered_twice`].
    twice: Vec<String>,
}

impl Registry {
    /// Registers an `async fn(&Ctx, Row) -> JourneyResult` under `name` (`module:name`).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn browse(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     ctx.transaction("home", async { Ok(()) }).await
    /// }
    ///
    /// let mut registry = Registry::default();
    /// registry.journey("shop:browse", browse);
    /// let record = JourneyTest::new().run_registered(&registry, "shop:browse").unwrap();
    /// assert_eq!(record.transactions[0].name, "home");
    /// ```
    pub fn journey<F>(&mut self, name: &str, f: F)
    where
        F: AsyncFn(&Ctx, Row) -> JourneyResult + Copy + Send + Sync + 'static,
    {
        if self.journeys.insert(name.to_string(), Arc::new(AsyncJourney(f))).is_some() {
            self.twice.push(format!("journey {name:?}"));
        }
    }

    /// Registers a journey implemented directly (declarative journeys).
    #[doc(hidden)]
    pub fn journey_impl(&mut self, name: &str, journey: Arc<dyn Journey>) {
        self.journeys.insert(name.to_string(), journey);
    }

    /// Registers a scenario under `name`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// fn soak(config: &Config) -> Result<Scenario, ScenarioError> {
    ///     let journeys = config.get_or("journeys", "10").parse().map_err(|_| "journeys: not a number")?;
    ///     let volume = VolumeModel::constant(journeys);
    ///     let entry = ScenarioEntry { journey: "shop:browse".into(), datapool: None, volume };
    ///     Ok(Scenario { name: "soak".into(), entries: vec![entry], config: Config::default() })
    /// }
    ///
    /// let mut registry = Registry::default();
    /// registry.scenario("shop:soak", soak);
    /// let build = registry.find_scenario("shop:soak").unwrap();
    /// assert_eq!(build(&Config::default()).unwrap().entries[0].volume.target(0.0, 1.0), Some(10));
    /// ```
    pub fn scenario(&mut self, name: &str, f: ScenarioFn) {
        if self.scenarios.insert(name.to_string(), f).is_some() {
            self.twice.push(format!("scenario {name:?}"));
        }
    }

    /// Registers a datapool under `name`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// fn users() -> DataPool {
    ///     DataPool::recyclable("users", vec![Row::new(["ann"]), Row::new(["bob"])])
    /// }
    ///
    /// let mut registry = Registry::default();
    /// registry.datapool("shop:users", users); // `mite-engine journey test shop:browse shop:users`
    /// assert_eq!(registry.find_datapool("shop:users").unwrap().len(), 2);
    /// ```
    pub fn datapool(&mut self, name: &str, f: DataPoolFn) {
        if self.datapools.insert(name.to_string(), DataPoolSource::Build(f)).is_some() {
            self.twice.push(format!("datapool {name:?}"));
        }
    }

    /// The names registered more than once with [`Registry::journey`], [`Registry::scenario`]
    /// or [`Registry::datapool`], in words (`journey "shop:browse"`): the later registration
    /// replaced the earlier, so one of the two would never run. `mite_engine::main` refuses
    /// to start with any.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn browse(_ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     Ok(())
    /// }
    ///
    /// let mut registry = Registry::default();
    /// registry.journey("shop:browse", browse);
    /// assert!(registry.registered_twice().is_empty());
    /// registry.journey("shop:browse", browse);
    /// assert_eq!(registry.registered_twice(), [r#"journey "shop:browse""#]);
    /// ```
    pub fn registered_twice(&self) -> &[String] {
        &self.twice
    }

    /// Registers an already built datapool (scenario files).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// let mut registry = Registry::default();
    /// registry.datapool_impl("shop:skus", DataPool::single_use("skus", vec![Row::new(["tea-1"])]));
    /// assert!(!registry.find_datapool("shop:skus").unwrap().is_recyclable());
    /// ```
    pub fn datapool_impl(&mut self, name: &str, pool: DataPool) {
        self.datapools.insert(name.to_string(), DataPoolSource::Built(pool));
    }

    /// Looks a datapool up and builds it.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// let mut registry = Registry::default();
    /// registry.datapool("shop:users", || DataPool::recyclable("users", vec![Row::new(["ann"])]));
    /// assert_eq!(registry.find_datapool("shop:users").unwrap().name, "users");
    /// let err = registry.find_datapool("shop:user").unwrap_err();
    /// assert_eq!(err.to_string(), r#"unknown datapool "shop:user"; did you mean shop:users?"#);
    /// ```
    pub fn find_datapool(&self, name: &str) -> Result<DataPool, UnknownName> {
        let found = self.datapools.get(name).map(|source| match source {
            DataPoolSource::Build(f) => f(),
            DataPoolSource::Built(pool) => pool.clone(),
        });
        found.ok_or_else(|| UnknownName::among(name, "datapool", self.datapools.keys().map(String::as_str)))
    }

    /// Registered datapool names.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// let mut registry = Registry::default();
    /// registry.datapool("shop:users", || DataPool::recyclable("users", vec![]));
    /// registry.datapool("shop:skus", || DataPool::single_use("skus", vec![]));
    /// assert_eq!(registry.datapool_names().collect::<Vec<_>>(), ["shop:skus", "shop:users"]);
    /// ```
    pub fn datapool_names(&self) -> impl Iterator<Item = &str> {
        self.datapools.keys().map(String::as_str)
    }

    /// Looks a journey up.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn browse(_ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     Ok(())
    /// }
    ///
    /// let mut registry = Registry::default();
    /// registry.journey("shop:browse", browse);
    /// assert!(registry.find_journey("shop:browse").is_ok());
    /// let err = registry.find_journey("shop:brwse").err().unwrap();
    /// assert_eq!(err.to_string(), r#"unknown journey "shop:brwse"; did you mean shop:browse?"#);
    /// ```
    pub fn find_journey(&self, name: &str) -> Result<Arc<dyn Journey>, UnknownName> {
        self.journeys
            .get(name)
            .cloned()
            .ok_or_else(|| UnknownName::among(name, "journey", self.journeys.keys().map(String::as_str)))
    }

    /// Looks a scenario up.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// let mut registry = Registry::default();
    /// registry.scenario("shop:empty", |_config| Ok(Scenario { name: "empty".into(), ..Scenario::default() }));
    /// let build = registry.find_scenario("shop:empty").unwrap();
    /// assert_eq!(build(&Config::default()).unwrap().name, "empty");
    /// assert!(registry.find_scenario("shop:full").is_err());
    /// ```
    pub fn find_scenario(&self, name: &str) -> Result<ScenarioFn, UnknownName> {
        self.scenarios
            .get(name)
            .copied()
            .ok_or_else(|| UnknownName::among(name, "scenario", self.scenarios.keys().map(String::as_str)))
    }

    /// Registered journey names.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn browse(_ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     Ok(())
    /// }
    ///
    /// let mut registry = Registry::default();
    /// registry.journey("shop:browse", browse);
    /// registry.journey("shop:buy", browse);
    /// assert_eq!(registry.journey_names().collect::<Vec<_>>(), ["shop:browse", "shop:buy"]);
    /// ```
    pub fn journey_names(&self) -> impl Iterator<Item = &str> {
        self.journeys.keys().map(String::as_str)
    }

    /// Registered scenario names.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// let mut registry = Registry::default();
    /// registry.scenario("shop:soak", |_config| Ok(Scenario::default()));
    /// registry.scenario("shop:peak", |_config| Ok(Scenario::default()));
    /// assert_eq!(registry.scenario_names().collect::<Vec<_>>(), ["shop:peak", "shop:soak"]);
    /// ```
    pub fn scenario_names(&self) -> impl Iterator<Item = &str> {
        self.scenarios.keys().map(String::as_str)
    }
}

/// "Did you mean": up to `count` of `names` within a small edit distance (Levenshtein, in
/// characters) of `name`, closest first (then by name): at most half the name's length, and
/// never fewer than 3 edits. The one judge of closeness in the crate: registry names here,
/// thresholds' transaction names (`output::threshold`) alike.
pub(crate) fn closest<'a>(name: &str, names: impl Iterator<Item = &'a str>, count: usize) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = names.map(|n| (strsim::levenshtein(name, n), n)).collect();
    scored.sort_unstable();
    let limit = (name.chars().count() / 2).max(3);
    scored.into_iter().filter(|(d, _)| *d <= limit).take(count).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_names() {
        let names = ["mite_example:journey", "http_example:journey", "other:x"];
        let got = closest("mite_exmple:journey", names.into_iter(), 3);
        assert_eq!(got.first().copied(), Some("mite_example:journey"));
        assert!(closest("zzzzzzzzzzzzzzzzzzzzzz", names.into_iter(), 3).is_empty());
        assert_eq!(closest("mite_exmple:journey", names.into_iter(), 1), ["mite_example:journey"]);
    }

    /// The limit is in characters, as the distance is: `ünïcödé` (7 characters, 11 bytes)
    /// allows 3 edits, not 5; the registry counted bytes while thresholds counted characters.
    #[test]
    fn closeness_is_judged_in_characters() {
        assert_eq!(closest("ünïcödé", ["unicode"].into_iter(), 3), Vec::<&str>::new(), "5 edits away");
        assert_eq!(closest("ünïcode", ["unicode"].into_iter(), 3), ["unicode"]);
    }

    #[test]
    fn a_scenario_error_is_built_from_a_message_or_a_config_value() {
        fn needs_base(config: &Config) -> Result<Scenario, ScenarioError> {
            let base = config.get("base").ok_or("config base is missing: the target's URL")?;
            if !base.starts_with("http") {
                return Err(ScenarioError::config("base", base, "expected an http:// or https:// URL"));
            }
            Err(format!("{base} is down").into())
        }
        let mut config = Config::default();
        assert_eq!(needs_base(&config).unwrap_err(), ScenarioError::msg("config base is missing: the target's URL"));
        config.set("base", "ftp://x");
        assert_eq!(
            needs_base(&config).unwrap_err().to_string(),
            "config base=\"ftp://x\": expected an http:// or https:// URL"
        );
        config.set("base", "http://x");
        assert_eq!(needs_base(&config).unwrap_err().to_string(), "http://x is down");
    }

    #[test]
    fn an_unknown_name_says_what_was_meant() {
        let mut registry = Registry::default();
        registry.scenario("mite_example:scenario", |_| Ok(Scenario::default()));
        registry.scenario("mite_example:other", |_| Ok(Scenario::default()));
        let err = registry.find_scenario("mite_exampel:scenario").unwrap_err();
        assert_eq!(err.suggestions[0], "mite_example:scenario");
        assert!(
            err.to_string()
                .starts_with("unknown scenario \"mite_exampel:scenario\"; did you mean mite_example:scenario"),
            "{err}"
        );
        let far = registry.find_scenario("zz").unwrap_err();
        assert_eq!(far.to_string(), "unknown scenario \"zz\"; known: mite_example:other, mite_example:scenario");
        assert_eq!(Registry::default().find_scenario("zz").unwrap_err().to_string(), "unknown scenario \"zz\"");
    }

    /// A name far from every registered one (nothing to suggest) still learns what there is: the
    /// first names in order, and how many more `mite-engine list` shows.
    #[test]
    fn an_unknown_name_with_nothing_close_lists_the_known_ones() {
        let mut registry = Registry::default();
        for i in (0..UNKNOWN_NAME_LISTED_MAX + 3).rev() {
            registry.scenario(&format!("shop:s{i:02}"), |_| Ok(Scenario::default()));
        }
        let err = registry.find_scenario("zzzzzzzz").unwrap_err();
        assert!(err.suggestions.is_empty());
        let listed: Vec<String> = (0..UNKNOWN_NAME_LISTED_MAX).map(|i| format!("shop:s{i:02}")).collect();
        assert_eq!(err.known, listed);
        assert_eq!(
            err.to_string(),
            format!("unknown scenario \"zzzzzzzz\"; known: {} and 3 more (mite-engine list)", listed.join(", "))
        );
    }
}
