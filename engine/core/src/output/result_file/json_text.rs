//! Whether a file's text is JSON at all, asked before what it holds, and if not, where it
//! stopped: the field (`totals.requests: expected value at line 1 column 25` for a `NaN`, which
//! JSON has no word for) as well as the line and column. Nothing is built from the text: a file
//! of 10,000 names read into a tree of values would take some hundred MB.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Why `text` is not JSON, with the field it stopped in; `None` when it is JSON.
pub fn not_json(text: &str) -> Option<String> {
    // The usual case, a whole file, read once at full speed; only text that is not JSON is read
    // again, keeping the path to where it stopped.
    serde_json::from_str::<serde::de::IgnoredAny>(text).err()?;
    if text.trim().is_empty() {
        return Some("it is empty (a run that never wrote it, or a copy that failed?)".into());
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, Skimmed>(&mut deserializer) {
        Ok(Skimmed) => deserializer.end().err().map(|e| e.to_string()),
        Err(error) => {
            let path = error.path().to_string();
            // `?` is a key not read yet (the text stopped in it).
            let path = path.strip_suffix(".?").unwrap_or(&path);
            let at = if path == "." || path == "?" { String::new() } else { format!("{path}: ") };
            let inner = error.inner();
            if inner.is_eof() {
                // serde's `EOF while parsing a string at line 142 column 13`, in words.
                return Some(format!(
                    "{at}the text ends (line {}) before its JSON does: the file is cut short (a copy or a write \
                     that did not finish?)",
                    inner.line()
                ));
            }
            // Text that is not JSON from its first character (a report, a log without a result,
            // the HTML page given for the JSON): what it begins with, not serde's words alone.
            let first = text.trim_start().chars().next();
            if at.is_empty()
                && inner.is_syntax()
                && !matches!(first, Some('{' | '[' | '"' | '-' | '0'..='9' | 't' | 'f' | 'n'))
            {
                let begins: String = text.trim_start().chars().take(BEGINS_SHOWN_CHARS).collect();
                let more = if text.trim_start().chars().nth(BEGINS_SHOWN_CHARS).is_some() { "…" } else { "" };
                return Some(format!(
                    "it is not JSON: it begins \"{}\"{more}, where a result begins with {{ (the file of --json, \
                     not of --html or the console's report)",
                    crate::model::terminal::printable(&begins)
                ));
            }
            Some(format!("{at}{inner}"))
        }
    }
}

/// How much of a file that is not JSON its error shows.
const BEGINS_SHOWN_CHARS: usize = 24;

/// Any JSON value, read and dropped; an object's keys are read as text, so that the path to an
/// error names them.
struct Skimmed;

impl<'de> Deserialize<'de> for Skimmed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Skimmed, D::Error> {
        deserializer.deserialize_any(SkimVisitor)
    }
}

struct SkimVisitor;

impl<'de> Visitor<'de> for SkimVisitor {
    type Value = Skimmed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skimmed, E> {
        Ok(Skimmed)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skimmed, E> {
        Ok(Skimmed)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skimmed, E> {
        Ok(Skimmed)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skimmed, E> {
        Ok(Skimmed)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skimmed, E> {
        Ok(Skimmed)
    }

    fn visit_unit<E>(self) -> Result<Skimmed, E> {
        Ok(Skimmed)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skimmed, A::Error> {
        while seq.next_element::<Skimmed>()?.is_some() {}
        Ok(Skimmed)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skimmed, A::Error> {
        while map.next_key::<String>()?.is_some() {
            map.next_value::<Skimmed>()?;
        }
        Ok(Skimmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outside try: a `NaN` (or a number out of range) in a file was said as `expected value at
    /// line 1 column 288`, without the field.
    #[test]
    fn text_that_is_not_json_names_the_field() {
        assert_eq!(not_json(r#"{"totals": {"requests": 1, "a": [1, -2, 0.5, null, true, "x"]}}"#), None);
        assert_eq!(
            not_json(r#"{"totals": {"requests": NaN}}"#).as_deref(),
            Some("totals.requests: expected value at line 1 column 25")
        );
        let cut = not_json(r#"{"transactions": [{"name": "a"}, {"na"#).unwrap();
        // A file cut short or empty said serde's `EOF while parsing a string at line 1 column 38`.
        assert_eq!(
            cut,
            "transactions[1]: the text ends (line 1) before its JSON does: the file is cut short (a copy or a write \
             that did not finish?)"
        );
        assert_eq!(not_json("{} x").as_deref(), Some("trailing characters at line 1 column 4"));
        // Not JSON at all: `expected value at line 1 column 1` said nothing of what it was.
        assert_eq!(
            not_json("<!DOCTYPE html><html><head><title>x").as_deref(),
            Some(
                "it is not JSON: it begins \"<!DOCTYPE html><html><he\"…, where a result begins with { (the file of \
                 --json, not of --html or the console's report)"
            )
        );
        assert!(
            not_json("\n\u{1b}[31mhello").unwrap().starts_with("it is not JSON: it begins \"\\u{1b}[31mhello\", where")
        );
        for empty in ["", " \n"] {
            assert_eq!(
                not_json(empty).as_deref(),
                Some("it is empty (a run that never wrote it, or a copy that failed?)")
            );
        }
    }
}
