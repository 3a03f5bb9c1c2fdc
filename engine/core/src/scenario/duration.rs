//! Durations as scenario files and CLI flags write them (`500ms`, `30s`, `5m`, `1h30m`),
//! read by `humantime`; a unit is required, each use has its own range ([`DurationRange`]), and
//! errors are said in the writer's words.

use std::fmt;
use std::time::Duration;

use crate::limits::{DURATION_MAX, DURATION_WRITTEN_MAX, TICK_MIN};

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
    #[error("{text:?}: unknown unit {unit:?}; use ms, s, m, h or d (also ns, us, w; e.g. 500ms, 30s, 5m, 1h30m)")]
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
        "{text:?} is out of range: durations are whole nanoseconds, up to {}h ({} days)",
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
    /// A minus sign: no duration is negative.
    #[error("{text:?}: a duration cannot be negative; write e.g. {}", range.example())]
    Negative {
        /// The text.
        text: String,
        /// What the flag or field accepts.
        range: DurationRange,
    },
    /// A duration outside what this flag or field accepts.
    #[error("{text:?}: {range}")]
    OutsideRange {
        /// The text.
        text: String,
        /// What the flag or field accepts.
        range: DurationRange,
    },
}

/// The durations one flag or field accepts, from `least` to `most` (both included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationRange {
    /// The shortest accepted (`Duration::ZERO`: zero is fine; 1ns: anything above zero).
    pub least: Duration,
    /// The longest accepted.
    pub most: Duration,
}

/// A bare number that is zero (`0`, `00`, `0.0`).
fn is_zero(text: &str) -> bool {
    text.trim().parse::<f64>().is_ok_and(|n| n == 0.0)
}

impl DurationRange {
    /// A run's length (`--duration`, a scenario file's `duration`): 1ms to 7 days.
    pub const RUN: DurationRange = DurationRange { least: Duration::from_millis(1), most: DURATION_MAX };
    /// The volume-model tick (`--tick`): 10ms to 30 days.
    pub const TICK: DurationRange = DurationRange { least: TICK_MIN, most: DURATION_WRITTEN_MAX };
    /// A timeout (`--timeout`, `--connect-timeout`, `[client] timeout`): above zero, to 30 days.
    pub const TIMEOUT: DurationRange = DurationRange { least: Duration::from_nanos(1), most: DURATION_WRITTEN_MAX };
    /// A wait that may be none (`--grace`, the lingers): 0 to 30 days.
    pub const WAIT: DurationRange = DurationRange { least: Duration::ZERO, most: DURATION_WRITTEN_MAX };

    /// Parses `text` as [`parse_duration`] does, then holds it to this range; a value too
    /// large for any duration is outside it too.
    pub fn parse(&self, text: &str) -> Result<Duration, DurationError> {
        let outside = || DurationError::OutsideRange { text: text.trim().to_string(), range: *self };
        if text.trim_start().starts_with('-') {
            return Err(DurationError::Negative { text: text.trim().to_string(), range: *self });
        }
        let value = parse_duration(text).map_err(|e| match e {
            DurationError::OutOfRange { .. } | DurationError::NotRepresentable { .. } => outside(),
            // A bare 0 is zero in any unit: where zero is refused, say the range rather than
            // ask for a unit that the range then refuses.
            DurationError::NoUnit { .. } if self.least > Duration::ZERO && is_zero(text) => outside(),
            other => other,
        })?;
        if value < self.least || value > self.most {
            return Err(outside());
        }
        Ok(value)
    }

    /// A duration this range accepts, to show in an error.
    fn example(&self) -> String {
        words(self.least.max(Duration::from_secs(5)).min(self.most))
    }
}

impl fmt::Display for DurationRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let most = words(self.most);
        match self.least {
            Duration::ZERO => write!(f, "must be at most {most}"),
            least if least == Duration::from_nanos(1) => write!(f, "must be above zero and at most {most}"),
            least => write!(f, "must be between {} and {most}", words(least)),
        }
    }
}

/// A bound as a person writes it: `1ms`, `10ms`, `5s`, `2m`, `3h`, `7 days`.
pub fn words(duration: Duration) -> String {
    let (secs, nanos) = (duration.as_secs(), duration.subsec_nanos());
    match (secs, nanos) {
        (0, 0) => "0s".into(),
        (s, 0) if s % 86_400 == 0 => format!("{} day{}", s / 86_400, if s == 86_400 { "" } else { "s" }),
        (s, 0) if s % 3600 == 0 => format!("{}h", s / 3600),
        (s, 0) if s % 60 == 0 => format!("{}m", s / 60),
        (s, 0) => format!("{s}s"),
        _ if nanos % 1_000_000 == 0 => format!("{}ms", duration.as_millis()),
        _ => format!("{duration:?}"),
    }
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
    fn a_bare_zero_where_zero_is_refused_names_the_range_not_a_unit() {
        // `--duration 0` used to ask for `0s`, which the range then refused: one error, the right one.
        for text in ["0", "00", "0.0", " 0 "] {
            let err = DurationRange::RUN.parse(text).unwrap_err().to_string();
            assert_eq!(err, format!("{:?}: must be between 1ms and 7 days", text.trim()), "{text:?}");
        }
        // Where zero is fine the unit is still asked for, and a bare non-zero number still is.
        assert!(DurationRange::WAIT.parse("0").unwrap_err().to_string().contains("has no unit"));
        assert!(DurationRange::RUN.parse("5").unwrap_err().to_string().contains("has no unit"));
    }

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
        assert!(unknown.contains("unknown unit \"parsecs\"") && unknown.contains("use ms, s, m, h or d"), "{unknown}");
        for bad in ["", "abc", "-1s", "s", "1..5s"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                matches!(err, DurationError::NotADuration { .. } | DurationError::UnknownUnit { .. }),
                "{bad}: {err}"
            );
        }
        assert!(parse_duration("99999999999999999999s").unwrap_err().to_string().contains("out of range"));
        let err = parse_duration("0.0000000001s").unwrap_err().to_string();
        assert!(err.contains("out of range: durations are whole nanoseconds"), "{err}");
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

    /// Each range says its own bounds in a person's units, echoing the text as written.
    #[test]
    fn ranges_say_their_own_bounds() {
        let run = DurationRange::RUN;
        assert_eq!(run.parse("0s").unwrap_err().to_string(), "\"0s\": must be between 1ms and 7 days");
        assert_eq!(run.parse("200h").unwrap_err().to_string(), "\"200h\": must be between 1ms and 7 days");
        let huge = run.parse("99999999999999999999s").unwrap_err().to_string();
        assert_eq!(huge, "\"99999999999999999999s\": must be between 1ms and 7 days");
        assert_eq!(run.parse("7d"), Ok(DURATION_MAX));
        assert_eq!(run.parse("1ms"), Ok(Duration::from_millis(1)));
        assert_eq!(run.parse("-5s").unwrap_err().to_string(), "\"-5s\": a duration cannot be negative; write e.g. 5s");
        assert_eq!(
            DurationRange::TICK.parse("0s").unwrap_err().to_string(),
            "\"0s\": must be between 10ms and 30 days"
        );
        assert_eq!(
            DurationRange::TIMEOUT.parse("0ms").unwrap_err().to_string(),
            "\"0ms\": must be above zero and at most 30 days"
        );
        assert_eq!(DurationRange::WAIT.parse("0s"), Ok(Duration::ZERO));
        assert_eq!(DurationRange::WAIT.parse("31d").unwrap_err().to_string(), "\"31d\": must be at most 30 days");
        assert!(DurationRange::WAIT.parse("5").unwrap_err().to_string().contains("has no unit"));
        assert_eq!(words(Duration::from_secs(86_400)), "1 day");
        assert_eq!(words(Duration::from_secs(90)), "90s");
        assert_eq!(words(Duration::from_secs(7200)), "2h");
    }
}
