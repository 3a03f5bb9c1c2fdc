//! Configuration as journeys see it (`ctx.config()`): scenario values, then `MITE_CONF_<key>`
//! environment variables, then `--config key=value` overrides, later layers winning.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Prefix of environment variables that set configuration keys.
pub const ENV_PREFIX: &str = "MITE_CONF_";

/// Key/value configuration, read-only to a journey (`ctx.config()`).
///
/// ```
/// # use mite_core::prelude::*;
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let config: &Config = ctx.config();
///     ctx.send("config", &[("base", &config.get_or("base", "none")), ("keys", &config.iter().count())]);
///     Ok(())
/// }
///
/// let record = JourneyTest::new().config("base", "http://shop").run(journey).unwrap();
/// assert_eq!(record.messages[0].fields[0], ("base".to_string(), "http://shop".to_string()));
/// assert_eq!(record.messages[0].fields[1].1, "1");
/// ```
///
/// Which keys were looked up ([`Config::get`], [`Config::get_or`]) is noted, shared by the
/// clones of a configuration, so that a `--config` key nothing read can be named after the run
/// ([`Config::was_read`], [`Config::keys_read`]). A key that is set carries its own flag (one
/// relaxed load once it is set); one looked up but not set is noted once, in a list that a
/// look-up walks without a lock or an allocation once its name is in it.
#[derive(Clone, Debug, Default)]
pub struct Config {
    values: BTreeMap<String, Value>,
    /// The keys looked up that were not set, shared by clones.
    unset_read: Arc<UnsetRead>,
}

/// A key's value and whether it was looked up (shared by the clones of the configuration).
#[derive(Clone, Debug)]
struct Value {
    text: String,
    read: Arc<AtomicBool>,
}

/// The names of keys looked up while not set: an append-only list shared by the clones (and
/// so by every core of a run). A look-up of a name already noted walks the list, one string
/// comparison per name noted, with no lock and no allocation; only the first look-up of each
/// name allocates its node, and only a look-up that finds the tail taken by another core's
/// new name waits, while that node is set. Exact: every name noted is listed once.
#[derive(Debug, Default)]
struct UnsetRead {
    first: OnceLock<Box<UnsetName>>,
}

/// One name of [`UnsetRead`] and the next.
#[derive(Debug)]
struct UnsetName {
    name: String,
    next: OnceLock<Box<UnsetName>>,
}

impl UnsetRead {
    fn note(&self, key: &str) {
        let mut tail = &self.first;
        loop {
            let node = match tail.get() {
                Some(node) => node,
                // Another core may set this tail first: then its name is compared like any other.
                None => match tail.set(Box::new(UnsetName { name: key.to_string(), next: OnceLock::new() })) {
                    Ok(()) => return,
                    Err(_) => continue,
                },
            };
            if node.name == key {
                return;
            }
            tail = &node.next;
        }
    }

    /// The names noted, in the order first looked up.
    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::successors(self.first.get(), |node| node.next.get()).map(|node| node.name.as_str())
    }

    fn contains(&self, key: &str) -> bool {
        self.names().any(|name| name == key)
    }
}

impl Drop for UnsetRead {
    /// Unlinks the list node by node: dropping a long list recursively could overflow the stack.
    fn drop(&mut self) {
        let mut next = self.first.take();
        while let Some(mut node) = next {
            next = node.next.take();
        }
    }
}

impl PartialEq for Config {
    fn eq(&self, other: &Config) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Config {}

/// A `--config` argument or `MITE_CONF_*` variable that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not `key=value` (or an empty key).
    #[error(
        "--config {text:?}: expected key=value, e.g. --config target_url=http://127.0.0.1:8080/ (spaces around \
         the key are dropped; the value is kept as written, spaces and all)"
    )]
    NotKeyValue {
        /// The argument as given.
        text: String,
    },
    /// A `MITE_CONF_*` variable whose name or value is not UTF-8 text.
    #[error("environment variable {name}: its name or value is not UTF-8 text; set it as text, or unset it")]
    NotText {
        /// The variable's name, its bytes that are not text shown as \u{fffd}.
        name: String,
    },
    /// A variable named `MITE_CONF_` alone (or with only spaces after it): no key to set.
    #[error("environment variable {name:?}: no key after {ENV_PREFIX}; name it {ENV_PREFIX}<key>, or unset it")]
    NoKey {
        /// The variable's name.
        name: String,
    },
}

/// The `MITE_CONF_*` variables of this process's environment, as [`Config::apply_env`] takes
/// them. Other variables are not looked at, whatever their bytes (`std::env::vars` panicked on
/// any variable that was not UTF-8 text, ours or not); one of ours that is not text, or that
/// names no key (`MITE_CONF_=x`), is refused, naming it.
pub fn env_vars() -> Result<Vec<(String, String)>, ConfigError> {
    ours(std::env::vars_os())
}

/// The variables of `vars` that are ours, as [`env_vars`] takes them.
fn ours(vars: impl Iterator<Item = (OsString, OsString)>) -> Result<Vec<(String, String)>, ConfigError> {
    let ours = vars.filter(|(name, _)| name.as_encoded_bytes().starts_with(ENV_PREFIX.as_bytes()));
    ours.map(|(name, value)| match (name.to_str(), value.to_str()) {
        (Some(name), _) if name[ENV_PREFIX.len()..].trim().is_empty() => Err(ConfigError::NoKey { name: name.into() }),
        (Some(name), Some(value)) => Ok((name.to_string(), value.to_string())),
        _ => Err(ConfigError::NotText { name: name.to_string_lossy().into_owned() }),
    })
    .collect()
}

impl Config {
    /// Sets `key` (later calls win).
    ///
    /// ```
    /// # use mite_core::prelude::Config;
    /// let mut config = Config::default();
    /// config.set("base", "http://127.0.0.1:8080");
    /// config.set("base", "http://127.0.0.1:9090");
    /// assert_eq!(config.get("base"), Some("http://127.0.0.1:9090"));
    /// ```
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), Value { text: value.into(), read: Arc::default() });
    }

    /// Adds every `MITE_CONF_<key>` variable from `vars` as `<key>`, spaces around the key
    /// dropped (as a `--config` key's are) and the value kept as written; one with no key
    /// ([`env_vars`] refuses it) is skipped.
    ///
    /// ```
    /// # use mite_core::prelude::Config;
    /// let mut config = Config::default();
    /// let vars = [("MITE_CONF_base", "http://shop"), ("HOME", "/root")]; // as `std::env::vars()` gives
    /// config.apply_env(vars.map(|(name, value)| (name.to_string(), value.to_string())));
    /// assert_eq!(config.iter().collect::<Vec<_>>(), [("base", "http://shop")]);
    /// ```
    pub fn apply_env<I: IntoIterator<Item = (String, String)>>(&mut self, vars: I) {
        for (name, value) in vars {
            if let Some(key) = name.strip_prefix(ENV_PREFIX).map(str::trim)
                && !key.is_empty()
            {
                self.set(key, value);
            }
        }
    }

    /// Adds `key=value` overrides, refusing anything else with the offending text. Spaces
    /// around the key are dropped (`--config " base =x"` sets `base`); the value is the user's
    /// data, kept as written (`--config "sep= , "` sets `sep` to `" , "`).
    ///
    /// ```
    /// # use mite_core::prelude::Config;
    /// let mut config = Config::default();
    /// config.apply_overrides(&["journeys=8", "query=a=b"]).unwrap();
    /// assert_eq!((config.get("journeys"), config.get("query")), (Some("8"), Some("a=b")));
    /// let err = config.apply_overrides(&["journeys"]).unwrap_err();
    /// assert!(err.to_string().starts_with(r#"--config "journeys": expected key=value"#), "{err}");
    /// ```
    pub fn apply_overrides<S: AsRef<str>>(&mut self, overrides: &[S]) -> Result<(), ConfigError> {
        for text in overrides {
            let text = text.as_ref();
            match text.split_once('=') {
                Some((key, value)) if !key.trim().is_empty() => self.set(key.trim(), value),
                _ => return Err(ConfigError::NotKeyValue { text: text.to_string() }),
            }
        }
        Ok(())
    }

    /// The value of `key`.
    ///
    /// ```
    /// # use mite_core::prelude::Config;
    /// let mut config = Config::default();
    /// config.set("journeys", "8");
    /// assert_eq!(config.get("journeys"), Some("8"));
    /// assert_eq!(config.get("Journeys"), None); // keys are case-sensitive
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        match self.values.get(key) {
            Some(value) => {
                if !value.read.load(Ordering::Relaxed) {
                    value.read.store(true, Ordering::Relaxed);
                }
                Some(&value.text)
            }
            None => {
                self.unset_read.note(key);
                None
            }
        }
    }

    /// Whether `key` was looked up ([`Config::get`], [`Config::get_or`]) through this
    /// configuration or a clone of it; [`Config::iter`] reads no key.
    ///
    /// ```
    /// # use mite_core::prelude::Config;
    /// let mut config = Config::default();
    /// config.apply_overrides(&["base=http://shop", "users=8"]).unwrap();
    /// let run = config.clone();
    /// run.get_or("base", "http://127.0.0.1:8080");
    /// run.get_or("target_url", "http://127.0.0.1:8080");
    /// assert!(config.was_read("base") && !config.was_read("users"));
    /// assert_eq!(config.keys_read(), ["base", "target_url"]);
    /// ```
    pub fn was_read(&self, key: &str) -> bool {
        match self.values.get(key) {
            Some(value) => value.read.load(Ordering::Relaxed),
            None => self.unset_read.contains(key),
        }
    }

    /// The keys looked up, set or not, sorted.
    ///
    /// ```
    /// # use mite_core::prelude::Config;
    /// let mut config = Config::default();
    /// config.set("users", "8");
    /// config.get_or("base", "http://127.0.0.1:8080");
    /// assert_eq!(config.keys_read(), ["base"]);
    /// config.get("users");
    /// assert_eq!(config.keys_read(), ["base", "users"]);
    /// ```
    pub fn keys_read(&self) -> Vec<String> {
        let set = self.values.iter().filter(|(_, value)| value.read.load(Ordering::Relaxed)).map(|(key, _)| key);
        let mut read: BTreeSet<String> = set.cloned().collect();
        read.extend(self.unset_read.names().map(str::to_string));
        read.into_iter().collect()
    }

    /// The value of `key`, or `default`.
    ///
    /// ```
    /// # use mite_core::prelude::Config;
    /// let mut config = Config::default();
    /// assert_eq!(config.get_or("base", "http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    /// config.set("base", "http://shop");
    /// assert_eq!(config.get_or("base", "http://127.0.0.1:8080"), "http://shop");
    /// ```
    pub fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// All keys and values, sorted by key.
    ///
    /// ```
    /// # use mite_core::prelude::Config;
    /// let mut config = Config::default();
    /// config.set("users", "10");
    /// config.set("base", "http://shop");
    /// assert_eq!(config.iter().collect::<Vec<_>>(), [("base", "http://shop"), ("users", "10")]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.text.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_layers_win() {
        let mut config = Config::default();
        config.set("a", "scenario");
        config.set("b", "scenario");
        config.apply_env([("MITE_CONF_a".to_string(), "env".to_string()), ("OTHER".into(), "x".into())]);
        config.apply_overrides(&["b=cli", "c=x=y"]).unwrap();
        assert_eq!(config.get("a"), Some("env"));
        assert_eq!(config.get("b"), Some("cli"));
        assert_eq!(config.get("c"), Some("x=y"));
        assert_eq!(config.get("OTHER"), None);
    }

    /// `MITE_CONF_=x` was ignored without a word; it is refused, naming the variable. A key
    /// of the environment is trimmed as a `--config` key is, its value kept as written.
    #[test]
    fn an_environment_variable_with_no_key_is_refused() {
        let vars = |pairs: &[(&str, &str)]| {
            ours(pairs.iter().map(|&(n, v)| (n.into(), v.into())).collect::<Vec<_>>().into_iter())
        };
        for name in ["MITE_CONF_", "MITE_CONF_  "] {
            let err = vars(&[("HOME", "/"), (name, "x")]).unwrap_err();
            assert_eq!(err, ConfigError::NoKey { name: name.into() });
            assert!(
                err.to_string().starts_with(&format!("environment variable {name:?}: no key after MITE_CONF_")),
                "{err}"
            );
        }
        let found = vars(&[("HOME", "/"), ("MITE_CONF_ base ", " a b ")]).unwrap();
        let mut config = Config::default();
        config.apply_env(found);
        assert_eq!(config.iter().collect::<Vec<_>>(), [("base", " a b ")]);
    }

    /// A `--config` key's spaces are dropped, its value's kept: the error says so.
    #[test]
    fn an_override_key_is_trimmed_and_its_value_kept() {
        let mut config = Config::default();
        config.apply_overrides(&[" sep = , "]).unwrap();
        assert_eq!(config.get("sep"), Some(" , "));
        let err = config.apply_overrides(&[" =x"]).unwrap_err();
        assert!(err.to_string().contains("spaces around the key are dropped; the value is kept as written"), "{err}");
    }

    /// Keys looked up but not set were noted behind a 64-bit filter: `delay`, whose bit `base`
    /// had set, was missing from what was read (and from its did-you-mean). Both are listed.
    #[test]
    fn unset_keys_whose_filter_bits_collided_are_both_listed() {
        let config = Config::default();
        for key in ["base", "delay", "user", "mode", "base"] {
            assert_eq!(config.clone().get(key), None);
        }
        assert_eq!(config.keys_read(), ["base", "delay", "mode", "user"]);
        assert!(["base", "delay", "user", "mode"].iter().all(|key| config.was_read(key)));
        assert!(!config.was_read("token"));
    }

    /// Cores looking up the same and different unset keys at once: each is listed, once.
    #[test]
    fn unset_keys_looked_up_on_many_threads_are_each_listed_once() {
        let config = Config::default();
        std::thread::scope(|scope| {
            for core in 0..8 {
                let config = config.clone();
                scope.spawn(move || {
                    for round in 0..200 {
                        config.get(&format!("k{}", (core + round) % 20));
                    }
                });
            }
        });
        let expected: BTreeSet<String> = (0..20).map(|k| format!("k{k}")).collect();
        assert_eq!(config.unset_read.names().count(), 20);
        assert_eq!(config.keys_read(), expected.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn bad_override_names_itself() {
        let err = Config::default().apply_overrides(&["novalue"]).unwrap_err();
        assert!(err.to_string().contains("novalue"));
    }
}
