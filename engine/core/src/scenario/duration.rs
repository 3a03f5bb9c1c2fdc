//! Durations as scenario files and CLI flags write them (`500ms`, `30s`, `5m`, `1h30m`),
//! read by `humantime`; a unit is required and errors are said in the writer's words.

use std::time::Duration;

use crate::limits::DURATION_WRITTEN_MAX;

/// A duration that cannot be used, with the text as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// A bare number: `5` could mean seconds or milliseconds (as in thresholds).
    #[error("{text:?} has no unit; write {text}s, {text}ms or {text}m")]
    NoUnit {
        /// The text.
        text: String,
    },
    /// A unit `humantime` does not know.
    #[error("{text:?}: unknown unit {unit:?}; use ms, s, m or h (e.g. 500ms, 30s, 5m, 1h30m)")]
    UnknownUnit {
        /// The text.
        text: String,
        /// The unit as written.
        unit: String,
    },
    /// Longer than `limits::DURATION_WRITTEN_MAX`.
    #[error(
        "{text:?} is out of range: at most {}h ({} days)",
        DURATION_WRITTEN_MAX.as_secs() / 3600,
        DURATION_WRITTEN_MAX.as_secs() / 86_400
    )]
    OutOfRange {
        /// The text.
        text: String,
    },
    /// A number too large for any duration, or a fraction finer than a nanosecond.
    #[error(
        "{text:?} is out of range: durations run from 1ns to {}h ({} days)",
        DURATION_WRITTEN_MAX.as_secs() / 3600,
        DURATION_WRITTEN_MAX.as_secs() / 86_400
    )]
    NotRepresentable {
        /// The text.
        text: String,
    },
    /// Anything else.
    #[error("{text:?} is not a duration; use e.g. 500ms, 30s, 5m, 1h30m")]
    NotADuration {
        /// The text.
        text: String,
    },
}

/// Parses `500ms`, `30s`, `1.5s`, `5m`, `2h`, `1h30m` (and the other forms `humantime`
/// reads: `2min`, `1h 30m`, `1d`); a bare number is refused.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let owned = || text.to_string();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') && text.parse::<f64>().is_ok() {
        return Err(DurationError::NoUnit { text: owned() });
    }
    // `.5s` was always read as half a second; humantime wants the leading zero.
    let written = if text.starts_with('.') { format!("0{text}") } else { text.to_string() };
    let value = humantime::parse_duration(&written).map_err(|e| match e {
        humantime::DurationError::UnknownUnit { unit, .. } if !unit.is_empty() => {
            DurationError::UnknownUnit { text: owned(), unit }
        }
        humantime::DurationError::NumberOverflow => DurationError::NotRepresentable { text: owned() },
        _ => DurationError::NotADuration { text: owned() },
    })?;
    if value > DURATION_WRITTEN_MAX {
        return Err(DurationError::OutOfRange { text: owned() });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_the_readme_shows() {
        for (text, ms) in [
            ("90s", 90_000),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("500ms", 500),
            ("1.5s", 1500),
            ("0s", 0),
            (" 2min ", 120_000),
            ("1h 30m", 5_400_000),
            (".5s", 500),
            ("1.5m", 90_000),
        ] {
            assert_eq!(parse_duration(text), Ok(Duration::from_millis(ms)), "{text}");
        }
    }

    #[test]
    fn errors_in_the_writers_words() {
        assert_eq!(parse_duration("5").unwrap_err().to_string(), "\"5\" has no unit; write 5s, 5ms or 5m");
        assert!(parse_duration("2.5").unwrap_err().to_string().contains("write 2.5s"));
        let unknown = parse_duration("10 parsecs").unwrap_err().to_string();
        assert!(unknown.contains("unknown unit \"parsecs\"") && unknown.contains("use ms, s, m or h"), "{unknown}");
        for bad in ["", "abc", "-1s", "s", "1..5s"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                matches!(err, DurationError::NotADuration { .. } | DurationError::UnknownUnit { .. }),
                "{bad}: {err}"
            );
        }
        assert!(parse_duration("99999999999999999999s").unwrap_err().to_string().contains("out of range"));
        let err = parse_duration("0.0000000001s").unwrap_err().to_string();
        assert!(err.contains("out of range: durations run from 1ns"), "{err}");
    }

    #[test]
    fn durations_past_the_most_written_are_refused() {
        let hours = DURATION_WRITTEN_MAX.as_secs() / 3600;
        assert_eq!(DURATION_WRITTEN_MAX.as_secs(), 30 * 86_400);
        assert_eq!(parse_duration(&format!("{hours}h")), Ok(DURATION_WRITTEN_MAX));
        assert_eq!(parse_duration("30d"), Ok(DURATION_WRITTEN_MAX));
        let err = parse_duration(&format!("{}h", hours + 1)).unwrap_err().to_string();
        assert!(err.ends_with("is out of range: at most 720h (30 days)"), "{err}");
        assert!(parse_duration(&format!("{hours}h1ms")).unwrap_err().to_string().contains("out of range"));
        assert!(parse_duration("1M").unwrap_err().to_string().contains("out of range"), "1M is a month");
    }
}
