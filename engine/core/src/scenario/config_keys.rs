//! Which `--config` keys a scenario file reads, and what is said of one it does not: a key
//! no template reads is refused before the run when every journey of the file is declarative
//! (the keys it reads are then known: its templates' `{names}`; the engine itself reads no
//! configuration key), and warned about when a Rust journey runs and the file's `[config]`
//! does not set it either (what a Rust journey reads cannot be known), both with the closest
//! key the file knows.

use std::collections::{BTreeMap, BTreeSet};

use crate::journey::closest;
use crate::model::config::{Config, ENV_PREFIX};

/// After a run of Rust journeys (or `journey test` of one): a warning for each `--config` key
/// of `overrides`, and each `MITE_CONF_<key>` variable of `env` (as
/// `model::config::env_vars` gives them) that no `--config` sets too, that no lookup through
/// `configs` read (the scenario builder's configuration and the run's: clones share what was
/// read), naming the setting as the user wrote it ([`shell_word`]), what was read and the
/// closest of it. What a Rust journey reads is known only once it ran; a scenario file's
/// templates are checked before the run ([`ConfigKeys::check`]).
pub fn never_read(overrides: &[String], env: &[(String, String)], configs: &[&Config], reader: &str) -> Vec<String> {
    let read: BTreeSet<String> = configs.iter().flat_map(|config| config.keys_read()).collect();
    let listed = match read.is_empty() {
        true => "it read no key before it stopped".to_string(),
        false => format!("it read: {}", read.iter().map(|key| shell_word(key)).collect::<Vec<_>>().join(", ")),
    };
    let given =
        overrides.iter().filter_map(|o| Some((o.split_once('=')?.0.trim(), format!("--config {}", shell_word(o)))));
    let set = env.iter().filter_map(|(name, value)| {
        let key = name.strip_prefix(ENV_PREFIX)?.trim();
        Some((key, shell_word(&format!("{name}={value}")).into_owned()))
    });
    // The last setting of a key is the one used, a `--config` over a variable: named, once.
    let by_key: BTreeMap<&str, String> = set.chain(given).collect();
    let settings = env.iter().map(|(name, _)| name.strip_prefix(ENV_PREFIX).unwrap_or(name).trim());
    let mut order: Vec<&str> =
        settings.chain(overrides.iter().filter_map(|o| Some(o.split_once('=')?.0.trim()))).collect();
    let mut said = BTreeSet::new();
    order.retain(|key| by_key.contains_key(key) && said.insert(*key));
    let unread = order.into_iter().filter(|key| !configs.iter().any(|config| config.was_read(key)));
    unread
        .map(|key| {
            let near = closest(key, read.iter().map(String::as_str), 1);
            let hint = near.first().map(|near| format!("; did you mean {}?", quoted(near))).unwrap_or_default();
            format!("{} was never read by {reader} ({listed}){hint}", by_key[key])
        })
        .collect()
}

/// `text` as a shell would take it back: as it is when it holds only letters, digits and
/// `-_.,:/=@%+^`, else in double quotes ([`quoted`]).
///
/// ```
/// # use mite_core::scenario::config_keys::shell_word;
/// assert_eq!(shell_word("base=http://127.0.0.1:8080/"), "base=http://127.0.0.1:8080/");
/// assert_eq!(shell_word("sep= , "), r#""sep= , ""#);
/// assert_eq!(shell_word("name=Zoë \"Z\" $HOME"), r#""name=Zoë \"Z\" \$HOME""#);
/// ```
pub fn shell_word(text: &str) -> std::borrow::Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.,:/=@%+^".contains(c);
    match !text.is_empty() && text.chars().all(plain) {
        true => text.into(),
        false => quoted(text).into(),
    }
}

/// `text` in double quotes, a shell's way: `"`, `\`, `$` and `` ` `` after a backslash, other
/// characters as they are (non-ASCII letters too), except a control character, which would act
/// on the terminal: `\n`, `\r`, `\t`, else `\u{..}` (as Rust writes it).
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' | '$' | '`' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The keys a loaded scenario file reads or sets.
#[derive(Debug, Clone, Default)]
pub struct ConfigKeys {
    /// Every `{name}` its declarative journeys' templates read (captures and datapool
    /// columns among them: those names are read too, just not from the configuration).
    read: BTreeSet<String>,
    /// The keys its `[config]` table sets (read by its Rust journeys, or by nothing).
    set: BTreeSet<String>,
    /// Whether an entry runs a Rust journey, whose keys cannot be known.
    rust_journeys: bool,
    /// The one journey that runs (`journey test`, `journey run`); `None`: the scenario's.
    journey: Option<String>,
    /// What each declarative journey of the file reads, for a command that runs one of them.
    journeys: BTreeMap<String, BTreeSet<String>>,
}

/// A `--config` key a scenario of declarative journeys never reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--config {}: {why}", shell_word(key))]
pub struct UnknownConfigKey {
    /// The key as given.
    pub key: String,
    /// What the file reads instead, and the closest key.
    why: String,
}

/// What is said of one key given.
enum Judged {
    /// A template reads it, or a Rust journey may (`[config]` sets it).
    Read,
    /// No journey that runs reads it: why, and the closest key.
    Unread(String),
    /// Only a Rust journey could read it, and nothing in the file names it.
    Unchecked(String),
}

impl ConfigKeys {
    /// Keys read by templates (`read`) and set by the file's `[config]` (`set`); `rust_journeys`
    /// when an entry runs a journey the file does not declare.
    pub fn new<'a>(
        read: impl IntoIterator<Item = &'a str>,
        set: impl IntoIterator<Item = &'a str>,
        rust_journeys: bool,
    ) -> ConfigKeys {
        ConfigKeys {
            read: read.into_iter().map(str::to_string).collect(),
            set: set.into_iter().map(str::to_string).collect(),
            rust_journeys,
            journey: None,
            journeys: BTreeMap::new(),
        }
    }

    /// The same, knowing what each declarative journey of the file reads (`journeys`: a name
    /// and its templates' `{names}`), for [`ConfigKeys::of_journey`].
    pub fn with_journeys<'a>(mut self, journeys: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>) -> ConfigKeys {
        for (name, read) in journeys {
            self.journeys.insert(name.to_string(), read.into_iter().map(str::to_string).collect());
        }
        self
    }

    /// The keys journey `name` alone reads (`journey test`, `journey run` run one journey):
    /// its templates' when the file declares it, else those of a Rust journey (unknowable).
    pub fn of_journey(&self, name: &str) -> ConfigKeys {
        let read = self.journeys.get(name);
        ConfigKeys {
            read: read.cloned().unwrap_or_default(),
            set: self.set.clone(),
            rust_journeys: read.is_none(),
            journey: Some(name.to_string()),
            journeys: BTreeMap::new(),
        }
    }

    /// Checks each `--config key=value` of `overrides`: an error for the first key the file's
    /// declarative journeys never read; with Rust journeys, a warning for each key that no
    /// template reads and `[config]` does not set (only a Rust journey could read it).
    pub fn check(&self, overrides: &[String]) -> Result<Vec<String>, UnknownConfigKey> {
        let mut warnings = Vec::new();
        for key in overrides.iter().filter_map(|o| o.split_once('=')).map(|(key, _)| key.trim()) {
            match self.judge(key) {
                Judged::Read => {}
                Judged::Unread(why) => return Err(UnknownConfigKey { key: key.to_string(), why }),
                Judged::Unchecked(why) => warnings.push(format!("--config {}: {why}", shell_word(key))),
            }
        }
        Ok(warnings)
    }

    /// The same for the `MITE_CONF_<key>` variables of `vars` (as `model::config::env_vars`
    /// gives them), each named as set: a warning, never an error, for a key nothing reads (the
    /// environment is shared by every run started from it; a variable is not a typo on this
    /// command line).
    pub fn check_env(&self, vars: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
        let mut warnings = Vec::new();
        for (name, _) in vars {
            let Some(key) = name.strip_prefix(ENV_PREFIX).map(str::trim).filter(|key| !key.is_empty()) else {
                continue;
            };
            match self.judge(key) {
                Judged::Read => {}
                Judged::Unread(why) | Judged::Unchecked(why) => warnings.push(format!("{}: {why}", shell_word(&name))),
            }
        }
        warnings
    }

    fn judge(&self, key: &str) -> Judged {
        if self.read.contains(key) {
            Judged::Read
        } else if !self.rust_journeys {
            Judged::Unread(self.unread(key))
        } else if self.set.contains(key) {
            Judged::Read
        } else {
            let hint = self.nearest(key).map(|near| format!("; did you mean {}?", quoted(near))).unwrap_or_default();
            Judged::Unchecked(format!(
                "no template of the scenario file reads it and its [config] does not set it; only a Rust journey \
                 could read it (not checked){hint}"
            ))
        }
    }

    /// Why `key` is refused: what the templates read, and the closest of those.
    fn unread(&self, key: &str) -> String {
        let listed = if self.read.is_empty() {
            "its templates read no {name}".to_string()
        } else {
            format!(
                "its templates read {}",
                self.read.iter().map(|k| format!("{{{k}}}")).collect::<Vec<_>>().join(", ")
            )
        };
        let hint = match self.nearest(key) {
            Some(near) => format!("; did you mean {}?", quoted(near)),
            None if crate::scenario::template::is_variable_name(key) => {
                "; remove it, or use it in a template as {".to_string() + key + "}"
            }
            // `{my key}` is no variable: suggesting it sent the user to a template refused.
            None => "; remove it: no template can read it (variable names are letters, digits, _ . -)".to_string(),
        };
        let set = if self.set.contains(key) { "its [config] sets it, but " } else { "" };
        let reader = match &self.journey {
            Some(journey) => format!("journey {journey} does not read this key"),
            None => "no journey of the scenario file reads this key".to_string(),
        };
        format!("{set}{reader} ({listed}){hint}")
    }

    /// The known key closest to `key`, when one is close (never `key` itself).
    fn nearest(&self, key: &str) -> Option<&str> {
        let known = self.read.iter().chain(&self.set).map(String::as_str).filter(|known| *known != key);
        closest(key, known, 1).first().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|k| format!("{k}=v")).collect()
    }

    /// `--config "my key=1"` was told to "use it in a template as {my key}", a template the
    /// file would refuse: a key no variable can name is said so.
    #[test]
    fn a_key_no_variable_can_name_is_not_suggested_as_one() {
        let keys = ConfigKeys::new(["base"], ["base"], false);
        let err = keys.check(&overrides(&["my key"])).unwrap_err().to_string();
        assert!(
            err.ends_with("; remove it: no template can read it (variable names are letters, digits, _ . -)"),
            "{err}"
        );
        let err = keys.check(&overrides(&["prénom"])).unwrap_err().to_string();
        assert!(err.ends_with("; remove it, or use it in a template as {prénom}"), "{err}");
    }

    /// Outside testers: `--config taget_url=...` was ignored, the run went to the file's URL.
    #[test]
    fn a_key_declarative_journeys_never_read_is_refused_with_the_closest() {
        let keys = ConfigKeys::new(["target_url", "token"], ["target_url", "journeys"], false);
        assert_eq!(keys.check(&overrides(&["target_url", "token"])), Ok(vec![]));
        let err = keys.check(&overrides(&["target_url", "taget_url"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--config taget_url: no journey of the scenario file reads this key (its templates read {target_url}, \
             {token}); did you mean \"target_url\"?"
        );
        // Set by [config] but read by no template: still nothing reads it, said so, and never
        // "did you mean" the key itself.
        let err = keys.check(&overrides(&["journeys"])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--config journeys: its [config] sets it, but no journey of the scenario file reads"),
            "{err}"
        );
        assert!(!err.to_string().contains("did you mean \"journeys\""), "{err}");
        let err = keys.check(&overrides(&["zzzzzzzzzz"])).unwrap_err();
        assert!(err.to_string().ends_with("remove it, or use it in a template as {zzzzzzzzzz}"), "{err}");
        let none = ConfigKeys::new([], [], false);
        let err = none.check(&overrides(&["a"])).unwrap_err();
        assert!(err.to_string().contains("its templates read no {name}"), "{err}");
    }

    #[test]
    fn with_rust_journeys_a_key_nothing_in_the_file_names_is_a_warning() {
        let keys = ConfigKeys::new(["base"], ["target_url"], true);
        let warnings = keys.check(&overrides(&["base", "target_url", "taget_url", "zzzzzzzzzz"])).unwrap();
        assert_eq!(
            warnings,
            [
                "--config taget_url: no template of the scenario file reads it and its [config] does not set it; \
                 only a Rust journey could read it (not checked); did you mean \"target_url\"?",
                "--config zzzzzzzzzz: no template of the scenario file reads it and its [config] does not set it; \
                 only a Rust journey could read it (not checked)",
            ]
        );
    }

    /// `MITE_CONF_taget_url` was taken without a word, as `--config` keys were: each
    /// variable that nothing reads is a warning naming the variable, with the closest key.
    #[test]
    fn environment_keys_nothing_reads_are_warnings_naming_the_variable() {
        let vars = |names: &[&str]| names.iter().map(|n| (n.to_string(), "v".to_string())).collect::<Vec<_>>();
        let declarative = ConfigKeys::new(["target_url"], ["target_url"], false);
        let said = declarative.check_env(vars(&["MITE_CONF_target_url", "MITE_CONF_taget_url", "HOME", "MITE_CONF_"]));
        assert_eq!(
            said,
            ["MITE_CONF_taget_url: no journey of the scenario file reads this key (its templates read \
              {target_url}); did you mean \"target_url\"?"]
        );
        let rust = ConfigKeys::new([], ["users"], true);
        assert_eq!(
            rust.check_env(vars(&["MITE_CONF_users", "MITE_CONF_user"])),
            ["MITE_CONF_user: no template of the scenario file reads it and its [config] does not set it; only a \
              Rust journey could read it (not checked); did you mean \"users\"?"]
        );
    }

    /// `journey test` and `journey run` took any `--config` key: now they judge it by the one
    /// journey they run, its templates' keys when the file declares it.
    #[test]
    fn one_journey_is_judged_by_its_own_keys() {
        let keys = ConfigKeys::new(["base", "token"], ["base"], false)
            .with_journeys([("browse", vec!["base"]), ("login", vec!["base", "token"])]);
        assert_eq!(keys.of_journey("login").check(&overrides(&["token"])), Ok(vec![]));
        let err = keys.of_journey("browse").check(&overrides(&["tokn"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--config tokn: journey browse does not read this key (its templates read {base}); remove it, or use \
             it in a template as {tokn}"
        );
        let err = keys.of_journey("browse").check(&overrides(&["bse"])).unwrap_err();
        assert!(err.to_string().ends_with("did you mean \"base\"?"), "{err}");
        let warned = keys.of_journey("shop:checkout").check(&overrides(&["base", "bsae"])).unwrap();
        assert_eq!(warned.len(), 1, "a Rust journey's keys cannot be known: {warned:?}");
        assert!(warned[0].starts_with("--config bsae: ") && warned[0].ends_with("did you mean \"base\"?"));
    }

    /// `--config base=...` to a Rust scenario that reads `target_url` was ignored without a
    /// word: each key nothing looked up is named after the run, with what was read.
    #[test]
    fn a_key_a_rust_journey_never_read_is_named_with_what_was_read() {
        let given = ["base=http://127.0.0.1:1/".to_string(), "journeys=4".into(), "taget_url=x".into()];
        let mut builder = Config::default();
        builder.apply_overrides(&given).unwrap();
        let run = builder.clone();
        assert_eq!(builder.get_or("journeys", "16"), "4");
        run.get_or("target_url", "http://127.0.0.1:8080");
        let warned = never_read(&given, &[], &[&builder, &run], "the scenario");
        assert_eq!(
            warned,
            [
                "--config base=http://127.0.0.1:1/ was never read by the scenario (it read: journeys, target_url)",
                "--config taget_url=x was never read by the scenario (it read: journeys, target_url); did you mean \
                 \"target_url\"?",
            ]
        );
    }

    /// A journey that failed before its first look-up was said to have "read no key", which
    /// read as if it read none at all: it read none before it stopped.
    #[test]
    fn a_journey_that_read_nothing_is_said_to_have_read_nothing_before_it_stopped() {
        let nothing = Config::default();
        assert_eq!(
            never_read(&["a=1".to_string(), "a=2".into()], &[], &[&nothing], "journey shop:buy"),
            ["--config a=2 was never read by journey shop:buy (it read no key before it stopped)"]
        );
    }

    /// `MITE_CONF_taget_url` beside a Rust scenario was taken without a word (only `--config`
    /// keys were checked after the run): named as set, once, a `--config` of the same key
    /// named instead (it is the one used).
    #[test]
    fn an_environment_key_a_rust_journey_never_read_is_named_as_set() {
        let env = [("MITE_CONF_taget_url", "x"), ("MITE_CONF_ users ", "4"), ("MITE_CONF_journeys", "2")]
            .map(|(name, value)| (name.to_string(), value.to_string()));
        let given = ["users=8".to_string()];
        let mut config = Config::default();
        config.apply_env(env.clone());
        config.apply_overrides(&given).unwrap();
        config.get_or("target_url", "http://127.0.0.1:8080");
        config.get_or("journeys", "1");
        assert_eq!(
            never_read(&given, &env, &[&config], "the scenario"),
            [
                "MITE_CONF_taget_url=x was never read by the scenario (it read: journeys, target_url); did you mean \
                 \"target_url\"?",
                "--config users=8 was never read by the scenario (it read: journeys, target_url)",
            ]
        );
    }

    /// `--config "taget url=a b"` was said as `--config taget url=a b`, and a key with a quote or
    /// an accent as Rust's `{:?}` writes it: each is said in double quotes, as a shell takes it.
    #[test]
    fn a_setting_with_spaces_quotes_or_accents_is_said_in_double_quotes() {
        let given = [" taget url=a b".to_string(), "cl\u{e9}=\"x\"".into(), "esc=\u{1b}[2J\n".into()];
        let env = [("MITE_CONF_t\u{e9}".to_string(), "$HOME".to_string())];
        let config = Config::default();
        config.get("target url");
        assert_eq!(
            never_read(&given, &env, &[&config], "the scenario"),
            [
                "\"MITE_CONF_t\u{e9}=\\$HOME\" was never read by the scenario (it read: \"target url\")",
                "--config \" taget url=a b\" was never read by the scenario (it read: \"target url\"); did you mean \
                 \"target url\"?",
                "--config \"cl\u{e9}=\\\"x\\\"\" was never read by the scenario (it read: \"target url\")",
                "--config \"esc=\\u{1b}[2J\\n\" was never read by the scenario (it read: \"target url\")",
            ]
        );
        let keys = ConfigKeys::new(["a"], [], false);
        let err = keys.check(&["a b=1".to_string()]).unwrap_err();
        assert!(err.to_string().starts_with("--config \"a b\": no journey"), "{err}");
        let said = ConfigKeys::new([], [], true).check_env(env);
        assert!(said[0].starts_with("\"MITE_CONF_t\u{e9}\": no template"), "{said:?}");
    }

    #[test]
    fn an_override_without_a_value_is_the_parsers_to_refuse() {
        let keys = ConfigKeys::new(["a"], [], false);
        assert_eq!(keys.check(&["novalue".to_string()]), Ok(vec![]));
    }
}
