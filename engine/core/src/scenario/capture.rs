//! Captures: where a declarative journey takes a value from a response (a header, a JSON
//! field), how a scenario file writes one, and the JSON path lookup HTTP and WebSocket steps share.

use std::fmt;

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

/// The value at `path` (object keys, or array indexes) in `document`: a string as it is,
/// anything else as JSON text. Shared by HTTP and WebSocket captures.
pub(crate) fn json_path(document: &serde_json::Value, path: &[String]) -> Option<String> {
    let mut at = document;
    for key in path.iter().filter(|k| !k.is_empty()) {
        at = match at {
            serde_json::Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            other => other.get(key)?,
        };
    }
    Some(match at {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_read_as_they_are_written() {
        assert_eq!(
            CaptureWords(&Capture::Json(vec!["user".into(), "id".into()])).to_string(),
            "{ json = \"user.id\" }"
        );
        assert_eq!(CaptureWords(&Capture::Header("X-Token".into())).to_string(), "{ header = \"X-Token\" }");
    }
}
