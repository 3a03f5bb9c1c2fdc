//! Durations as scenario files and CLI flags write them (`500ms`, `30s`, `5m`, `1h`).

use std::time::Duration;

use crate::limits::DURATION_WRITTEN_MAX;

/// Parses `500ms`, `30s`, `5m`, `2h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration; use e.g. 500ms, 30s, 5m, 1h"))?;
    let seconds = match unit.trim() {
        // A bare number is refused, as in thresholds: `5` could mean seconds or milliseconds.
        "" => return Err(format!("{text:?} has no unit; write {number}s, {number}ms or {number}m")),
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!("{text:?}: unknown unit {other:?}; use ms, s, m or h"));
        }
    };
    if !(0.0..=DURATION_WRITTEN_MAX.as_secs_f64()).contains(&seconds) {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_past_the_most_written_are_refused() {
        let days = DURATION_WRITTEN_MAX.as_secs() / 86_400;
        let hours = DURATION_WRITTEN_MAX.as_secs() / 3600;
        assert_eq!(parse_duration(&format!("{hours}h")), Ok(DURATION_WRITTEN_MAX));
        assert!(parse_duration(&format!("{}h", hours + 1)).unwrap_err().contains("out of range"));
        assert_eq!(days, 30);
    }
}
