//! Captures: where a declarative journey takes a value from a response (a header, a JSON
//! field), how a scenario file writes one, and the JSON path lookup HTTP and WebSocket steps share.

use std::fmt;

use crate::journey::Ctx;
use crate::model::terminal::{printable, traced_value};

/// Where a captured value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capture {
    /// A response header (case-insensitive).
    Header(String),
    /// A JSON body field by dotted path (`user.id`, `items.0`).
    Json(Vec<String>),
}

/// A capture as a scenario file writes it.
pub struct CaptureWords<'a>(pub &'a Capture);

impl fmt::Display for CaptureWords<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Capture::Header(name) => write!(f, "{{ header = {name:?} }}"),
            Capture::Json(path) => write!(f, "{{ json = {:?} }}", path.join(".")),
        }
    }
}

/// Why a JSON capture took no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JsonMiss {
    /// Nothing is at the path.
    NotFound,
    /// `null` is: no value to capture (sent on as the text `null`, it would reach the server
    /// as if it were one).
    Null,
}

impl JsonMiss {
    /// What the capture found in `place` (`the response`), in words that follow the capture's
    /// name.
    pub(crate) fn said(self, place: &str) -> String {
        match self {
            JsonMiss::NotFound => format!("not found in {place}"),
            JsonMiss::Null => {
                format!("is null in {place}: null is no value to capture, so the step fails as for a missing one")
            }
        }
    }
}

/// The value at `path` (object keys, or array indexes) in `document`: a string as it is,
/// anything else but `null` as JSON text (`42`, `true`, `[1,2]`). A `null` is no value, like
/// a missing field, and is said apart. Shared by HTTP and WebSocket captures.
pub(crate) fn json_path(document: &serde_json::Value, path: &[String]) -> Result<String, JsonMiss> {
    let mut at = document;
    for key in path.iter().filter(|k| !k.is_empty()) {
        let next = match at {
            serde_json::Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            other => other.get(key),
        };
        at = next.ok_or(JsonMiss::NotFound)?;
    }
    match at {
        serde_json::Value::Null => Err(JsonMiss::Null),
        serde_json::Value::String(text) => Ok(text.clone()),
        other => Ok(other.to_string()),
    }
}

/// Says in the journey-test trace that capture `name` took `value` (nothing when not tracing:
/// the value is shown only when a line is written).
pub(crate) fn trace_taken(ctx: &Ctx, name: &str, value: &str) {
    ctx.trace_line(format_args!("capture {} = {}", printable(name), traced_value(value)));
}

/// Says in the journey-test trace that capture `name` (`from`, as the file writes it) took no
/// value, and why.
pub(crate) fn trace_missed(ctx: &Ctx, name: &str, from: &dyn fmt::Display, why: &str) {
    ctx.trace_line(format_args!("capture {} = {from} FAILED: {why}", printable(name)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::TRACE_VALUE_COLUMNS_MAX;

    #[test]
    fn captures_read_as_they_are_written() {
        assert_eq!(
            CaptureWords(&Capture::Json(vec!["user".into(), "id".into()])).to_string(),
            "{ json = \"user.id\" }"
        );
        assert_eq!(CaptureWords(&Capture::Header("X-Token".into())).to_string(), "{ header = \"X-Token\" }");
    }

    /// A `null` was captured as the text "null" and sent on as if it were a value. It takes no
    /// value, as a missing field does, and is said apart; `false`, `0` and `""` are values.
    #[test]
    fn a_null_is_no_value() {
        let doc = serde_json::json!({"token": null, "n": 0, "f": false, "e": "", "a": [null, 1], "o": {"k": null}});
        let at = |p: &str| json_path(&doc, &p.split('.').map(str::to_string).collect::<Vec<_>>());
        assert_eq!(at("token"), Err(JsonMiss::Null));
        assert_eq!(at("a.0"), Err(JsonMiss::Null));
        assert_eq!(at("o.k"), Err(JsonMiss::Null));
        assert_eq!(at("o.k.deeper"), Err(JsonMiss::NotFound));
        assert_eq!(at("nope"), Err(JsonMiss::NotFound));
        assert_eq!(at("a.x"), Err(JsonMiss::NotFound));
        assert_eq!(
            (at("n"), at("f"), at("e"), at("a.1")),
            (Ok("0".into()), Ok("false".into()), Ok("".into()), Ok("1".into()))
        );
        assert_eq!(at("a"), Ok("[null,1]".into()), "an array holding a null is a value");
    }

    /// A value is shown quoted, what would act on a terminal written out, and a long one keeps
    /// both its ends.
    #[test]
    fn traced_values_are_escaped_and_cut_in_the_middle() {
        assert_eq!(traced_value("abc123"), "\"abc123\"");
        assert_eq!(traced_value("a\u{1b}[2J\r\n\"b"), "\"a\\u{1b}[2J\\r\\n\\\"b\"");
        let long = format!("head{}tail", "x".repeat(500));
        let shown = traced_value(&long);
        assert_eq!(shown.chars().count(), TRACE_VALUE_COLUMNS_MAX, "{shown}");
        assert!(shown.starts_with("\"headx") && shown.ends_with("xtail\"") && shown.contains('…'), "{shown}");
        assert_eq!(traced_value(&"x".repeat(70)).chars().count(), 72, "short enough: whole");
    }
}
