//! A Unix time as a civil date and time of day in UTC, in one place: a certificate's dates
//! (`2021-01-01 00:00:00 UTC`), `--start-at`'s (`2026-11-24T22:01:00Z`) and a cookie's expiry
//! each say it in their own words from the one [`Civil`].

use time::OffsetDateTime;

use crate::limits::START_AT_UNIX_S_MAX;

/// A moment to the second in UTC, from year 1970 to 9999.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// The year, 1970 to 9999.
    pub year: i32,
    /// The month, 1 to 12.
    pub month: u8,
    /// The day of the month, 1 to 31.
    pub day: u8,
    /// The hour, 0 to 23.
    pub hour: u8,
    /// The minute, 0 to 59.
    pub minute: u8,
    /// The second, 0 to 59 (a leap second is not a Unix time).
    pub second: u8,
}

impl Civil {
    /// `unix_s` as a date and time in UTC; `None` before 1970 or after 9999-12-31T23:59:59Z
    /// (`limits::START_AT_UNIX_S_MAX`).
    pub fn of_unix_s(unix_s: u64) -> Option<Civil> {
        if unix_s > START_AT_UNIX_S_MAX {
            return None;
        }
        let at = OffsetDateTime::from_unix_timestamp(i64::try_from(unix_s).ok()?).ok()?;
        let (date, time) = (at.date(), at.time());
        Some(Civil {
            year: date.year(),
            month: u8::from(date.month()),
            day: date.day(),
            hour: time.hour(),
            minute: time.minute(),
            second: time.second(),
        })
    }

    /// `YYYY-MM-DD{between}hh:mm:ss{after}`: `between` " " and `after` " UTC" for a
    /// certificate's date, `T` and `Z` for RFC 3339.
    pub fn text(&self, between: &str, after: &str) -> String {
        let Civil { year, month, day, hour, minute, second } = *self;
        format!("{year:04}-{month:02}-{day:02}{between}{hour:02}:{minute:02}:{second:02}{after}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first and last moments, a leap day, and one past the last.
    #[test]
    fn unix_seconds_to_the_calendar_at_the_edges() {
        let text = |s| Civil::of_unix_s(s).map(|c| c.text("T", "Z"));
        assert_eq!(text(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(text(1_609_459_200).as_deref(), Some("2021-01-01T00:00:00Z"));
        assert_eq!(text(951_825_599).as_deref(), Some("2000-02-29T11:59:59Z"));
        assert_eq!(text(START_AT_UNIX_S_MAX).as_deref(), Some("9999-12-31T23:59:59Z"));
        assert_eq!(text(START_AT_UNIX_S_MAX + 1), None);
        assert_eq!(text(u64::MAX), None);
        assert_eq!(Civil::of_unix_s(1_609_459_200).unwrap().text(" ", " UTC"), "2021-01-01 00:00:00 UTC");
    }
}
