//! Scenario-file things said back to the user in the file's own words: the TOML reader's type
//! errors rewritten (never `expected struct VolumeSpec` or `expected u64`), and volume models
//! shown as they are written in a file (never `Constant { per_s: 500.0, .. }`).

use std::fmt;

use crate::limits::{
    ARRIVALS_PER_S_MIN, CONNECTIONS_PER_HOST_PER_CORE_MAX, JOURNEYS_PER_CORE_MAX, REDIRECTS_MAX, RESPONSE_HEADERS_MAX,
    WS_RECEIVE_MESSAGES_MAX, WS_REPEATS_MAX,
};
use crate::model::volume::{RateModel, VolumeModel};

/// What each internal type name means, as the file spells it.
const EXPECTED: &[(&str, &str)] = &[
    (
        "struct VolumeSpec",
        "a volume model, one of: { constant = 8 }, { ramp = { from = 1, to = 50, duration = \"1m\" } }, \
         { stages = [ ... ] }, { oneshot = 10 }, { nothing = \"10s\" }, \
         { rate = 500, duration = \"1m\", max_in_flight = 200 }, { ramp_rate = { from = 10, to = 500, duration = \"1m\" } }, \
         { rate_stages = [ ... ] }",
    ),
    ("struct RampSpec", "{ from = 1, to = 50, duration = \"1m\" } (journeys in flight)"),
    ("struct RampRateSpec", "{ from = 10, to = 500, duration = \"1m\" } (journeys started per second)"),
    ("struct CaptureSpec", "{ header = \"X-Token\" } or { json = \"user.id\" }"),
    ("struct StepSpec", "a step like { transaction = \"home\", url = \"{base}/\" }"),
    ("struct JourneySpec", "a journey table with steps = [ { ... }, ... ]"),
    ("struct EntrySpec", "a [[scenario]] entry with journey = \"name\" and volume = { ... }"),
    (
        "struct DataPoolSpec",
        "a datapool: csv = \"users.csv\", rows = [[...]] with columns, or range = { from = 1, to = 100 }",
    ),
    ("struct RangeSpec", "{ from = 1, to = 1000 }"),
    (
        "struct ClientSpec",
        "a [client] table (timeout, connect_timeout, max_connections, max_headers, max_head_bytes, ca, insecure)",
    ),
    ("untagged enum StatusSpec", "a status like 200 or a range like [200, 299]"),
    ("untagged enum SizeSpec", "a size like 65536 or \"256KiB\""),
    ("struct AuthSpec", "{ user = \"name\", password = \"secret\" }"),
    ("struct WsJourneySpec", "a WebSocket journey table with url = \"ws://...\" and steps = [ { ... }, ... ]"),
    (
        "struct WsStepSpec",
        "a WebSocket step like { send = \"text\" }, { request = \"text\" }, { receive = 1 } or { think = \"1s\" }",
    ),
    ("untagged enum ReceiveSpec", "a count of messages like 1, or \"until-close\""),
    (
        "struct FileSpec",
        "a scenario file (name, duration, [config], [client], thresholds, [datapools.*], [journeys.*], [[scenario]])",
    ),
];

/// Numbers as the file writes them.
const NUMBERS: [(&str, &str); 8] = [
    ("expected u64", "expected a whole number of 0 or more"),
    ("expected u32", "expected a whole number of 0 or more"),
    ("expected u16", "expected a whole number of 0 or more"),
    ("expected usize", "expected a whole number of 0 or more"),
    ("expected i64", "expected a whole number"),
    ("expected f64", "expected a number"),
    ("expected a boolean", "expected true or false"),
    ("expected a sequence", "expected a list [ ... ]"),
];

/// Said after "expected a string" when a number was written where the field is unknown (a
/// duration is the likely one).
const DURATION_HINT: &str = " in quotes (durations need a unit: \"10s\", \"500ms\", \"2m\")";

/// Rewrites a TOML reader's message so it names no Rust type.
pub fn plain_message(message: &str) -> String {
    // `integer `99999999999999999999` as i128`: the reader's own width, not the file's words.
    let mut text = message.replace(" as i128", "");
    for (internal, words) in EXPECTED {
        text = text.replace(&format!("expected {internal}"), &format!("expected {words}"));
        text = text.replace(&format!("data did not match any variant of {internal}"), &format!("expected {words}"));
    }
    for (internal, words) in NUMBERS {
        text = text.replace(internal, words);
    }
    let number = text.starts_with("invalid type: integer") || text.starts_with("invalid type: floating point");
    if number && text.ends_with("expected a string") {
        text.push_str(DURATION_HINT);
    }
    text
}

/// What a field takes, in words, by its name in the file (the last part of its dotted path,
/// and the part before for the names used twice).
fn field_words(field: &str) -> Option<String> {
    let mut parts = field.rsplit('.').map(|p| p.split('[').next().unwrap_or(p));
    let (last, parent) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    Some(match (parent, last) {
        ("volume" | "stages", "constant" | "oneshot") | ("ramp", "from" | "to") => format!(
            "a whole number of journeys in flight, 0 or more without quotes (one core holds at most \
             {JOURNEYS_PER_CORE_MAX})"
        ),
        (_, "max_in_flight") => format!(
            "a whole number of journeys, 1 or more without quotes (one core holds at most {JOURNEYS_PER_CORE_MAX})"
        ),
        (_, "rate") | ("ramp_rate", "from" | "to") => {
            format!("a number of journeys started per second: 0, or from {ARRIVALS_PER_S_MIN} up (without quotes)")
        }
        ("client", "max_connections") => {
            format!("a whole number from 1 to {CONNECTIONS_PER_HOST_PER_CORE_MAX} (connections per host per core)")
        }
        ("client", "max_headers") => {
            format!("a whole number from 1 to {RESPONSE_HEADERS_MAX} (header fields per response)")
        }
        (_, "max_redirects") => format!("a whole number of redirects from 0 to {REDIRECTS_MAX}"),
        (_, "expect_status") => "a status from 100 to 999 like 200, or a range like [200, 299]".into(),
        // The list itself (`thresholds = "errors<1%"`), then one of its items.
        ("", "thresholds") if field == "thresholds" => {
            "a list of thresholds in brackets, like [\"p99<250ms\", \"errors<1%\"]".into()
        }
        (_, "thresholds") => "a threshold in quotes, like \"p99<250ms\" or \"errors<1%\"".into(),
        ("range", "from" | "to") => "a whole number (without quotes)".into(),
        (_, "repeat") => format!("a whole number of repetitions from 1 to {WS_REPEATS_MAX}"),
        (_, "receive") => format!("a count of messages from 1 to {WS_RECEIVE_MESSAGES_MAX}, or \"until-close\""),
        (_, "duration" | "nothing" | "think" | "timeout" | "connect_timeout" | "pace" | "mean" | "plus_minus") => {
            "a duration in quotes with its unit, like \"10s\", \"500ms\" or \"2m\"".into()
        }
        _ => return None,
    })
}

/// A type or range error of `field` (the TOML reader's `message`, about the value `written`),
/// said as what the field takes and what the file gives.
pub fn field_message(field: &str, message: &str, written: &str) -> String {
    let type_error = message.starts_with("invalid type") || message.starts_with("invalid value");
    match field_words(field) {
        Some(words) if type_error || message.starts_with("data did not match") => match written.trim() {
            "" => format!("expected {words}"),
            written => format!("expected {words}, got {written}"),
        },
        // Durations have their words above: a number where another string goes needs quotes.
        _ => plain_message(message).replace(DURATION_HINT, " in quotes"),
    }
}

/// A rate per second as a person reads it: `2500`, `0.5`, or `1e300` for one too long to read.
pub fn rate(per_s: f64) -> String {
    if per_s.abs() >= 1e15 { format!("{per_s:e}") } else { format!("{per_s}") }
}

fn seconds(value_s: f64) -> String {
    if value_s >= 60.0 && (value_s / 60.0).fract() == 0.0 {
        format!("\"{}m\"", value_s / 60.0)
    } else if value_s < 1.0 {
        format!("\"{}ms\"", (value_s * 1000.0).round())
    } else {
        format!("\"{value_s}s\"")
    }
}

fn duration_field(duration_s: Option<f64>) -> String {
    duration_s.map(|d| format!(", duration = {}", seconds(d))).unwrap_or_default()
}

/// A volume model as a scenario file writes it.
pub struct VolumeWords<'a>(pub &'a VolumeModel);

impl fmt::Display for VolumeWords<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            VolumeModel::Nothing { duration_s } => write!(f, "{{ nothing = {} }}", seconds(*duration_s)),
            VolumeModel::Constant { journeys, duration_s } => {
                write!(f, "{{ constant = {journeys}{} }}", duration_field(*duration_s))
            }
            VolumeModel::Ramp { from, to, duration_s } => {
                write!(f, "{{ ramp = {{ from = {from}, to = {to}, duration = {} }} }}", seconds(*duration_s))
            }
            VolumeModel::Stages(stages) => {
                let parts: Vec<String> = stages.iter().map(|s| VolumeWords(s).to_string()).collect();
                write!(f, "{{ stages = [{}] }}", parts.join(", "))
            }
            VolumeModel::Oneshot { journeys } => write!(f, "{{ oneshot = {journeys} }}"),
            VolumeModel::Custom(_) => write!(f, "a volume model written in Rust"),
            VolumeModel::Arrivals { rate, max_in_flight } => {
                write!(f, "{{ {}, max_in_flight = {max_in_flight} }}", RateWords(rate))
            }
        }
    }
}

/// An arrival-rate model as a scenario file writes it (inside the volume table).
struct RateWords<'a>(&'a RateModel);

impl fmt::Display for RateWords<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            RateModel::Constant { per_s, duration_s } => {
                write!(f, "rate = {}{}", rate(*per_s), duration_field(*duration_s))
            }
            RateModel::Ramp { from, to, duration_s } => {
                write!(f, "ramp_rate = {{ from = {from}, to = {to}, duration = {} }}", seconds(*duration_s))
            }
            RateModel::Stages(stages) => {
                let parts: Vec<String> = stages.iter().map(|s| format!("{{ {} }}", RateWords(s))).collect();
                write!(f, "rate_stages = [{}]", parts.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_name_no_rust_type() {
        let text = plain_message("invalid type: integer `5`, expected struct VolumeSpec");
        assert!(text.contains("{ constant = 8 }") && !text.contains("VolumeSpec"), "{text}");
        assert_eq!(
            plain_message("invalid type: string \"x\", expected u64"),
            "invalid type: string \"x\", expected a whole number of 0 or more"
        );
        assert!(
            plain_message("invalid type: integer `5`, expected struct CaptureSpec").contains("{ json = \"user.id\" }")
        );
        assert!(plain_message("invalid type: integer `10`, expected a string").contains("need a unit"));
        assert!(!plain_message("data did not match any variant of untagged enum StatusSpec").contains("StatusSpec"));
    }

    /// Each table type a scenario file is read into has its words here, so that no reader
    /// error names it.
    #[test]
    fn every_table_type_has_words() {
        for source in [include_str!("file/schema.rs"), include_str!("ws_steps.rs")] {
            for line in source.lines() {
                let Some(name) = line.split_whitespace().skip_while(|w| *w != "struct" && *w != "enum").nth(1) else {
                    continue;
                };
                if name.ends_with("Spec") && name != "SpecError" {
                    let known = EXPECTED.iter().any(|(internal, _)| internal.ends_with(&format!(" {name}")));
                    assert!(known, "{name} has no words in file_words::EXPECTED");
                }
            }
        }
    }

    #[test]
    fn models_read_as_they_are_written() {
        let open = VolumeModel::Arrivals {
            rate: RateModel::Constant { per_s: 500.0, duration_s: Some(60.0) },
            max_in_flight: 100,
        };
        assert_eq!(VolumeWords(&open).to_string(), "{ rate = 500, duration = \"1m\", max_in_flight = 100 }");
        let stages = VolumeModel::Stages(vec![
            VolumeModel::Constant { journeys: 5, duration_s: Some(2.0) },
            VolumeModel::Ramp { from: 1, to: 5, duration_s: 0.5 },
        ]);
        assert_eq!(
            VolumeWords(&stages).to_string(),
            "{ stages = [{ constant = 5, duration = \"2s\" }, { ramp = { from = 1, to = 5, duration = \"500ms\" } }] }"
        );
    }
}
