//! Scale-out flags: execution segments (`--segment K/N`, `MITE_SEGMENT`, Kubernetes'
//! `JOB_COMPLETION_INDEX` with `--segments N`) and synchronised starts (`--start-at`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mite_core::limits::{SEGMENTS_MAX, START_AT_AHEAD_MAX, START_AT_BEHIND_MAX, START_AT_UNIX_S_MAX};
use mite_core::model::civil::Civil;
use mite_core::scenario::duration::words;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::Error;

/// Parses `--segment K/N` (also `MITE_SEGMENT`): `0 <= K < N <= SEGMENTS_MAX`.
pub fn parse_segment(text: &str) -> Result<(usize, usize), Error> {
    let bad = |why: &str| Error::BadValue { name: "--segment", value: text.to_string(), why: why.to_string() };
    let (k, n) = text.split_once('/').ok_or_else(|| bad("expected K/N, e.g. 0/4"))?;
    let k: usize = k.trim().parse().map_err(|_| bad("K is not a number"))?;
    let n: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
    // `2/2` said "need 0 <= K < N": segments count from 0, so the last of N is N-1.
    if n == 0 {
        return Err(bad("N, the number of segments, is at least 1"));
    }
    if k >= n {
        return Err(bad(&format!(
            "need 0 <= K < N: segments count from 0, so those of {n} are 0/{n} to {}/{n}",
            n - 1
        )));
    }
    if n > SEGMENTS_MAX {
        return Err(bad(&format!("at most {SEGMENTS_MAX} segments")));
    }
    Ok((k, n))
}

/// Resolves this injector's segment `(k, n)` from what gives it: `--segment` (`flag`, already
/// parsed), `MITE_SEGMENT` (`env`, already parsed) and `JOB_COMPLETION_INDEX` of `--segments
/// N`; `(0, 1)` when none is given. Sources that disagree (another K, or another N than
/// `--segments`) are an error naming both: the run would take one silently, and its share
/// would be counted twice or not at all.
pub fn segment(
    flag: Option<(usize, usize)>,
    env: Option<(usize, usize)>,
    segments: Option<usize>,
    completion_index: Option<String>,
) -> Result<(usize, usize), Error> {
    let shown = |(k, n): (usize, usize)| format!("{k}/{n}");
    let mut given: Vec<(String, (usize, usize))> = Vec::new();
    if let Some(segment) = flag {
        given.push((format!("--segment {}", shown(segment)), segment));
    }
    if let Some(segment) = env {
        given.push((format!("{} {}", crate::args::SEGMENT_VARIABLE, shown(segment)), segment));
    }
    match (segments, completion_index) {
        (Some(n), Some(index)) => {
            let k = indexed(n, &index)?;
            given.push((format!("JOB_COMPLETION_INDEX {index} (with --segments {n})"), (k, n)));
        }
        (Some(n), None) => {
            if let Some((said, _)) = given.iter().find(|(_, (_, of))| *of != n) {
                return Err(Error::SegmentConflict { first: said.clone(), second: format!("--segments {n}") });
            }
            if given.is_empty() {
                return Err(Error::Needs {
                    flag: format!("--segments {n}"),
                    needs: "JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job) or --segment K/N",
                });
            }
        }
        (None, _) => {}
    }
    let Some((first, segment)) = given.first() else { return Ok((0, 1)) };
    if let Some((second, _)) = given[1..].iter().find(|(_, other)| other != segment) {
        return Err(Error::SegmentConflict { first: first.clone(), second: second.clone() });
    }
    Ok(*segment)
}

/// `JOB_COMPLETION_INDEX` as K of `--segments n`.
fn indexed(n: usize, index: &str) -> Result<usize, Error> {
    let bad = |why: String| Error::BadValue { name: "JOB_COMPLETION_INDEX", value: index.to_string(), why };
    let k: usize = index.trim().parse().map_err(|_| bad("is not a number".into()))?;
    if n == 0 || k >= n {
        return Err(bad(format!("with --segments {n}: need 0 <= index < N")));
    }
    if n > SEGMENTS_MAX {
        let why = format!("at most {SEGMENTS_MAX} segments");
        return Err(Error::BadValue { name: "--segments", value: n.to_string(), why });
    }
    Ok(k)
}

/// Parses `--start-at` as [`start_at`] does, and refuses a time more than
/// `limits::START_AT_AHEAD_MAX` after `now` (a typo in the year must not make a pod wait) or
/// more than `limits::START_AT_BEHIND_MAX` before it (nor start a run measured against a start
/// decades ago); one passed by less starts at once, late, with a warning.
pub fn start_at_from(text: &str, now: SystemTime) -> Result<SystemTime, Error> {
    let at = start_at(text)?;
    let refused = |why: String| Error::BadValue { name: "--start-at", value: text.trim().to_string(), why };
    match at.duration_since(now) {
        Ok(ahead) if ahead > START_AT_AHEAD_MAX => Err(refused(format!(
            "is {} away; at most {} ahead is accepted (it is UTC; check the date)",
            away(ahead),
            words(START_AT_AHEAD_MAX)
        ))),
        Err(passed) if passed.duration() > START_AT_BEHIND_MAX => Err(refused(format!(
            "passed {} ago; at most {} ago is accepted (it is UTC; check the date: to start in a minute, write {})",
            away(passed.duration()),
            words(START_AT_BEHIND_MAX),
            utc_seconds(now + Duration::from_secs(60))
        ))),
        _ => Ok(at),
    }
}

/// `at` as `--start-at` reads it, to the second: `2026-11-24T22:01:00Z`.
fn utc_seconds(at: SystemTime) -> String {
    let seconds = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Civil::of_unix_s(seconds).map_or_else(|| seconds.to_string(), |at| at.text("T", "Z"))
}

/// How far ahead (or behind) a start is, roughly, in days or hours.
fn away(ahead: Duration) -> String {
    match ahead.as_secs() {
        s if s >= 2 * 86_400 => format!("about {} days", s / 86_400),
        // To the second: `about 24h` for a second past the day read as within it.
        s => format!("{}h {}min {}s", s / 3600, s % 3600 / 60, s % 60),
    }
}

/// Parses `--start-at`: RFC 3339 in UTC (`2026-11-24T22:00:00Z`, fractions allowed, `+00:00`
/// accepted, a space for the `T` too) or Unix seconds; from 1970 to the end of year 9999.
pub fn start_at(text: &str) -> Result<SystemTime, Error> {
    let text = text.trim();
    let refused = |why: String| Error::BadValue { name: "--start-at", value: text.to_string(), why };
    if let Ok(seconds) = text.parse::<f64>() {
        // `nan` and `inf` parse as numbers; neither is a time (`nan` was "must be positive").
        if !seconds.is_finite() {
            return Err(refused("is not a number of Unix seconds".into()));
        }
        if seconds < 0.0 {
            return Err(refused("Unix seconds must be positive".into()));
        }
        if seconds > START_AT_UNIX_S_MAX as f64 {
            return Err(refused(format!("Unix seconds after year 9999 ({START_AT_UNIX_S_MAX}) are refused")));
        }
        return Ok(UNIX_EPOCH + Duration::from_secs_f64(seconds));
    }
    let bad = || refused("expected RFC 3339 UTC like 2026-11-24T22:00:00Z, or Unix seconds".into());
    // RFC 3339 (5.6, NOTE) lets a space stand for the `T`; the parser wants the `T`.
    let written = match text.as_bytes().get(10) {
        Some(b' ') => format!("{}T{}", &text[..10], &text[11..]),
        _ => text.to_string(),
    };
    let at = OffsetDateTime::parse(&written, &Rfc3339).map_err(|_| bad())?;
    if !at.offset().is_utc() {
        return Err(refused("give the time in UTC (ending in Z or +00:00), like 2026-11-24T22:00:00Z".into()));
    }
    let since_epoch = at - OffsetDateTime::UNIX_EPOCH;
    let since_epoch =
        Duration::try_from(since_epoch).map_err(|_| refused("times before 1970-01-01T00:00:00Z are refused".into()))?;
    Ok(UNIX_EPOCH + since_epoch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(parse_segment("1/4").unwrap(), (1, 4));
        assert_eq!(segment(None, None, Some(3), Some("2".into())).unwrap(), (2, 3));
        assert_eq!(segment(None, None, None, Some("2".into())).unwrap(), (0, 1));
        assert!(parse_segment("4/4").is_err());
        // The last of N is N-1: `2/2` is said so, and N of 0 is no count of segments.
        let err = parse_segment("2/2").unwrap_err().to_string();
        assert!(err.ends_with("need 0 <= K < N: segments count from 0, so those of 2 are 0/2 to 1/2"), "{err}");
        assert!(parse_segment("0/0").unwrap_err().to_string().ends_with("N, the number of segments, is at least 1"));
        assert!(parse_segment("x").is_err());
        assert!(segment(None, None, Some(3), None).is_err());
        assert!(segment(None, None, Some(3), Some("3".into())).is_err());
        assert!(parse_segment("0/18446744073709551615").unwrap_err().to_string().contains("at most"));
        assert!(parse_segment("0/99999999999999999999999").is_err());
        assert!(segment(None, None, Some(usize::MAX), Some("0".into())).is_err());
        assert_eq!(parse_segment(&format!("0/{SEGMENTS_MAX}")).unwrap(), (0, SEGMENTS_MAX));
        let over = parse_segment(&format!("0/{}", SEGMENTS_MAX + 1)).unwrap_err().to_string();
        assert!(over.contains(&format!("at most {SEGMENTS_MAX}")), "{over}");
        let over = segment(None, None, Some(SEGMENTS_MAX + 1), Some("0".into())).unwrap_err().to_string();
        assert!(over.contains(&format!("at most {SEGMENTS_MAX}")), "{over}");
        // Each message names the flag or variable and the value it refuses.
        let err = segment(None, None, Some(3), Some("x".into())).unwrap_err().to_string();
        assert_eq!(err, "JOB_COMPLETION_INDEX \"x\": is not a number");
        let err = segment(None, None, Some(3), None).unwrap_err().to_string();
        assert!(err.starts_with("--segments 3 needs JOB_COMPLETION_INDEX"), "{err}");
    }

    /// Outside try: `--segment` silently won over `MITE_SEGMENT` and over a pod's
    /// `JOB_COMPLETION_INDEX`, so two pods could run one share and none the other. Sources that
    /// disagree are refused naming both; sources that agree are one segment.
    #[test]
    fn sources_of_the_segment_that_disagree_are_refused() {
        let err = segment(Some((0, 2)), Some((1, 2)), None, None).unwrap_err().to_string();
        assert_eq!(
            err,
            "--segment 0/2 and MITE_SEGMENT 1/2 name different segments; give this injector's segment one way"
        );
        let err = segment(Some((0, 2)), None, Some(2), Some("1".into())).unwrap_err().to_string();
        assert!(
            err.starts_with("--segment 0/2 and JOB_COMPLETION_INDEX 1 (with --segments 2) name different"),
            "{err}"
        );
        let err = segment(None, Some((0, 4)), Some(2), None).unwrap_err().to_string();
        assert!(err.starts_with("MITE_SEGMENT 0/4 and --segments 2 name different"), "{err}");
        assert_eq!(segment(Some((1, 2)), Some((1, 2)), Some(2), Some("1".into())).unwrap(), (1, 2));
        assert_eq!(segment(None, Some((1, 3)), None, Some("0".into())).unwrap(), (1, 3), "no --segments: no index");
        assert_eq!(segment(Some((1, 2)), None, Some(2), None).unwrap(), (1, 2));
    }

    #[test]
    fn start_times() {
        let epoch = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        assert_eq!(epoch(start_at("1970-01-01T00:00:00Z").unwrap()), 0.0);
        assert_eq!(epoch(start_at("2000-03-01T00:00:00Z").unwrap()), 951_868_800.0);
        assert_eq!(epoch(start_at("2026-11-24T22:00:00.5+00:00").unwrap()), 1_795_557_600.5);
        assert_eq!(epoch(start_at("1795557600").unwrap()), 1_795_557_600.0);
        assert!(start_at("2026-13-01T00:00:00Z").is_err());
        assert!(start_at("2026-11-24T22:00:00+02:00").is_err());
        assert!(start_at("tomorrow").is_err());
        // Issue 10: huge, NaN, negative and overflowing values are errors, not panics.
        for bad in ["1e30", "1e300", "inf", "NaN", "-1", "99999999999999-01-01T00:00:00Z", "2026-01-01T99:00:00Z"] {
            let err = start_at(bad).unwrap_err().to_string();
            assert!(err.contains("--start-at"), "{bad}: {err}");
        }
        assert!(start_at(&START_AT_UNIX_S_MAX.to_string()).is_ok());
        let err = start_at(&(START_AT_UNIX_S_MAX + 1).to_string()).unwrap_err().to_string();
        assert!(err.contains("after year 9999"), "{err}");
        assert!(start_at("9999-12-31T23:59:59Z").is_ok());
        assert_eq!(epoch(start_at("9999-12-31T23:59:59Z").unwrap()), START_AT_UNIX_S_MAX as f64);
        assert_eq!(epoch(start_at("2026-11-24 22:00:00Z").unwrap()), 1_795_557_600.0);
    }

    /// A start more than a day ahead is a typo (a year, a digit): refused when parsed, saying
    /// how far it is; one passed by up to a day starts at once (late).
    #[test]
    fn starts_more_than_a_day_ahead_are_refused() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_557_600);
        assert!(start_at_from("1795644000", now).is_ok(), "a day ahead");
        assert!(start_at_from("1795471200", now).is_ok(), "a day ago");
        let err = start_at_from("1795644001", now).unwrap_err().to_string();
        assert_eq!(
            err,
            "--start-at \"1795644001\": is 24h 0min 1s away; at most 1 day ahead is accepted (it is UTC; check the date)"
        );
        let err = start_at_from("1795700000", now).unwrap_err().to_string();
        assert!(err.contains("is 39h 33min 20s away"), "under 2 days, to the second: {err}");
        for text in ["nan", "inf", "-inf", "NaN"] {
            let err = start_at(text).unwrap_err().to_string();
            assert_eq!(err, format!("--start-at {text:?}: is not a number of Unix seconds"));
        }
        let err = start_at_from("2027-12-29T22:00:00Z", now).unwrap_err().to_string();
        assert!(err.contains("is about 400 days away"), "{err}");
    }

    /// Outside try: `--start-at 1000` (or a year's typo in the past) only warned, and ran
    /// "late" by decades. More than a day ago is refused, as written, saying what to write.
    #[test]
    fn starts_more_than_a_day_ago_are_refused() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_557_600);
        let err = start_at_from("1795471199", now).unwrap_err().to_string();
        assert_eq!(
            err,
            "--start-at \"1795471199\": passed 24h 0min 1s ago; at most 1 day ago is accepted (it is UTC; check the \
             date: to start in a minute, write 2026-11-24T22:01:00Z)"
        );
        let err = start_at_from(" 2025-11-24T22:00:00Z", now).unwrap_err().to_string();
        assert!(err.starts_with("--start-at \"2025-11-24T22:00:00Z\": passed about 365 days ago"), "{err}");
        assert!(start_at_from("1000", now).unwrap_err().to_string().contains("passed about 20781 days ago"));
        assert!(start_at(&utc_seconds(now)).is_ok_and(|at| at == now), "what it says to write is read back");
    }

    #[test]
    fn start_dates_at_the_calendar_boundaries() {
        let epoch = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(epoch(start_at("2024-02-29T00:00:00Z").unwrap()), 1_709_164_800);
        assert_eq!(epoch(start_at("2000-02-29T12:00:00Z").unwrap()), 951_825_600);
        for bad in ["2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-00-10T00:00:00Z"] {
            assert!(start_at(bad).unwrap_err().to_string().contains("expected RFC 3339"), "{bad}");
        }
        let err = start_at("1969-12-31T23:59:59Z").unwrap_err().to_string();
        assert!(err.contains("before 1970"), "{err}");
        let err = start_at("2026-11-24T22:00:00-05:00").unwrap_err().to_string();
        assert!(err.contains("in UTC"), "{err}");
        assert!(start_at("10000-01-01T00:00:00Z").is_err());
    }
}
