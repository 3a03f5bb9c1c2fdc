//! Scale-out flags: execution segments (`--segment K/N`, `MITE_SEGMENT`, Kubernetes'
//! `JOB_COMPLETION_INDEX` with `--segments N`) and synchronised starts (`--start-at`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;

/// Parses `--segment K/N` (also `MITE_SEGMENT`): `0 <= K < N <= SEGMENTS_MAX`.
pub fn parse_segment(text: &str) -> Result<(usize, usize), Error> {
    let bad = |why: &str| Error::BadValue { name: "--segment", value: text.to_string(), why: why.to_string() };
    let (k, n) = text.split_once('/').ok_or_else(|| bad("expected K/N, e.g. 0/4"))?;
    let k: usize = k.trim().parse().map_err(|_| bad("K is not a number"))?;
    let n: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
    if n == 0 || k >= n {
        return Err(bad("need 0 <= K < N"));
    }
    if n > SEGMENTS_MAX {
        return Err(bad(&format!("at most {SEGMENTS_MAX} segments")));
    }
    Ok((k, n))
}

/// Resolves this injector's segment `(k, n)`: `--segment` (already parsed), else
/// `JOB_COMPLETION_INDEX` of `--segments N`; `(0, 1)` when none is given.
pub fn segment(
    flag: Option<(usize, usize)>,
    segments: Option<usize>,
    completion_index: Option<String>,
) -> Result<(usize, usize), Error> {
    if let Some(segment) = flag {
        return Ok(segment);
    }
    match (segments, completion_index) {
        (Some(n), Some(index)) => {
            let bad = |why: String| Error::BadValue { name: "JOB_COMPLETION_INDEX", value: index.clone(), why };
            let k: usize = index.trim().parse().map_err(|_| bad("is not a number".into()))?;
            if n == 0 || k >= n {
                return Err(bad(format!("with --segments {n}: need 0 <= index < N")));
            }
            if n > SEGMENTS_MAX {
                let why = format!("at most {SEGMENTS_MAX} segments");
                return Err(Error::BadValue { name: "--segments", value: n.to_string(), why });
            }
            Ok((k, n))
        }
        (Some(n), None) => Err(Error::Needs {
            flag: format!("--segments {n}"),
            needs: "JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job) or --segment K/N",
        }),
        (None, _) => Ok((0, 1)),
    }
}

/// The latest start accepted: 9999-12-31T23:59:59Z, in Unix seconds.
const START_AT_MAX_UNIX_S: u64 = 253_402_300_799;

/// Most execution segments (`--segment K/N`, `--segments N`).
pub const SEGMENTS_MAX: usize = 100_000;

/// Parses `--start-at`: RFC 3339 in UTC (`2026-11-24T22:00:00Z`, fractions allowed, `+00:00`
/// accepted) or Unix seconds.
pub fn start_at(text: &str) -> Result<SystemTime, Error> {
    let text = text.trim();
    let refused = |why: String| Error::BadValue { name: "--start-at", value: text.to_string(), why };
    if let Ok(seconds) = text.parse::<f64>() {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(refused("Unix seconds must be positive".into()));
        }
        if seconds > START_AT_MAX_UNIX_S as f64 {
            return Err(refused(format!("Unix seconds after year 9999 ({START_AT_MAX_UNIX_S}) are refused")));
        }
        return Ok(UNIX_EPOCH + Duration::from_secs_f64(seconds));
    }
    let bad = || refused("expected RFC 3339 UTC like 2026-11-24T22:00:00Z, or Unix seconds".into());
    let body = text.strip_suffix('Z').or_else(|| text.strip_suffix("+00:00")).ok_or_else(bad)?;
    let (date, time) = body.split_once(['T', ' ']).ok_or_else(bad)?;
    let mut date_parts = date.split('-').map(|p| p.parse::<i64>());
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day)), None) =
        (date_parts.next(), date_parts.next(), date_parts.next(), date_parts.next())
    else {
        return Err(bad());
    };
    let (hms, fraction) = match time.split_once('.') {
        Some((hms, fraction)) => (hms, format!("0.{fraction}").parse::<f64>().map_err(|_| bad())?),
        None => (time, 0.0),
    };
    let mut time_parts = hms.split(':').map(|p| p.parse::<i64>());
    let (Some(Ok(hour)), Some(Ok(minute)), Some(Ok(second)), None) =
        (time_parts.next(), time_parts.next(), time_parts.next(), time_parts.next())
    else {
        return Err(bad());
    };
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..=23).contains(&hour)
        || !(0..=59).contains(&minute)
        || !(0..=60).contains(&second)
    {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    if seconds < 0 {
        return Err(bad());
    }
    Ok(UNIX_EPOCH + Duration::from_secs(seconds as u64) + Duration::from_secs_f64(fraction))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(parse_segment("1/4").unwrap(), (1, 4));
        assert_eq!(segment(None, Some(3), Some("2".into())).unwrap(), (2, 3));
        assert_eq!(segment(None, None, Some("2".into())).unwrap(), (0, 1));
        assert!(parse_segment("4/4").is_err());
        assert!(parse_segment("x").is_err());
        assert!(segment(None, Some(3), None).is_err());
        assert!(segment(None, Some(3), Some("3".into())).is_err());
        assert!(parse_segment("0/18446744073709551615").unwrap_err().to_string().contains("at most"));
        assert!(parse_segment("0/99999999999999999999999").is_err());
        assert!(segment(None, Some(usize::MAX), Some("0".into())).is_err());
        // Each message names the flag or variable and the value it refuses.
        let err = segment(None, Some(3), Some("x".into())).unwrap_err().to_string();
        assert_eq!(err, "JOB_COMPLETION_INDEX \"x\": is not a number");
        let err = segment(None, Some(3), None).unwrap_err().to_string();
        assert!(err.starts_with("--segments 3 needs JOB_COMPLETION_INDEX"), "{err}");
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
        assert!(start_at("253402300799").is_ok());
    }
}
