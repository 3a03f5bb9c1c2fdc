//! Configuration as journeys see it (`ctx.config()`): scenario values, then `MITE_CONF_<key>`
//! environment variables, then `--config key=value` overrides, later layers winning.

use std::collections::BTreeMap;

/// Prefix of environment variables that set configuration keys.
pub const ENV_PREFIX: &str = "MITE_CONF_";

/// Read-only key/value configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    values: BTreeMap<String, String>,
}

/// A `--config` argument that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not `key=value` (or an empty key).
    #[error("--config {text:?}: expected key=value, e.g. --config target_url=http://127.0.0.1:8080/")]
    NotKeyValue {
        /// The argument as given.
        text: String,
    },
}

impl Config {
    /// Sets `key` (later calls win).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), value.into());
    }

    /// Adds every `MITE_CONF_<key>` variable from `vars` as `<key>`.
    pub fn apply_env<I: IntoIterator<Item = (String, String)>>(&mut self, vars: I) {
        for (name, value) in vars {
            if let Some(key) = name.strip_prefix(ENV_PREFIX)
                && !key.is_empty()
            {
                self.set(key, value);
            }
        }
    }

    /// Adds `key=value` overrides, refusing anything else with the offending text.
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
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The value of `key`, or `default`.
    pub fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// All keys and values, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
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

    #[test]
    fn bad_override_names_itself() {
        let err = Config::default().apply_overrides(&["novalue"]).unwrap_err();
        assert!(err.to_string().contains("novalue"));
    }
}
