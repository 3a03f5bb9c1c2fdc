//! Configuration as journeys see it (`ctx.config()`): scenario values, then `MITE_CONF_<key>`
//! environment variables, then `--config key=value` overrides, later layers winning.

use std::collections::BTreeMap;
use std::fmt;

/// Prefix of environment variables that set configuration keys.
pub const ENV_PREFIX: &str = "MITE_CONF_";

/// Read-only key/value configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    values: BTreeMap<String, String>,
}

/// A `--config` argument that is not `key=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

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
                _ => {
                    return Err(ConfigError(format!(
                        "--config {text:?}: expected key=value, e.g. --config target_url=http://127.0.0.1:8080/"
                    )));
                }
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
        assert!(err.0.contains("novalue"));
    }
}
