//! Core selection: `--cores N` (the first N usable cores) or a list such as `0,2-5`.

use std::fmt;

use crate::limits::CORES_MAX;

/// A `--cores` value that cannot be used, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoresError(pub String);

impl fmt::Display for CoresError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CoresError {}

/// Core ids this process may run on (its affinity mask), ascending.
pub fn available() -> Vec<usize> {
    let mut ids: Vec<usize> = core_affinity::get_core_ids().unwrap_or_default().into_iter().map(|c| c.id).collect();
    ids.sort_unstable();
    if ids.is_empty() {
        ids.push(0);
    }
    ids
}

/// Parses `spec` against the `available` core ids.
///
/// A plain number N takes the first N available cores; anything with `,` or `-` is a list of
/// core ids and ranges. Asking for more cores than exist, or for a core outside the affinity
/// mask, is an error that lists what is available.
pub fn parse(spec: &str, available: &[usize]) -> Result<Vec<usize>, CoresError> {
    let spec = spec.trim();
    let shown = || format!("{available:?}");
    if !spec.contains([',', '-']) {
        let count: usize = spec
            .parse()
            .map_err(|_| CoresError(format!("--cores {spec:?}: expected a count (e.g. 2) or a list (e.g. 0,2-5)")))?;
        if count == 0 {
            return Err(CoresError(
                "--cores 0: a bare number is a count of cores, and at least one is needed; \
                 for core 0 alone write --cores 0-0"
                    .into(),
            ));
        }
        if count > available.len() {
            return Err(CoresError(format!(
                "--cores {count}: only {} cores are available to this process ({})",
                available.len(),
                shown()
            )));
        }
        return within_max(available[..count].to_vec());
    }
    let mut cores = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        let bad = || CoresError(format!("--cores {spec:?}: {part:?} is not a core id or a range like 2-5"));
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => {
                (a.trim().parse::<usize>().map_err(|_| bad())?, b.trim().parse::<usize>().map_err(|_| bad())?)
            }
            None => {
                let id = part.parse::<usize>().map_err(|_| bad())?;
                (id, id)
            }
        };
        if first > last {
            return Err(CoresError(format!("--cores {spec:?}: range {part:?} runs backwards")));
        }
        for id in first..=last {
            if !available.contains(&id) {
                return Err(CoresError(format!(
                    "--cores {spec:?}: core {id} is not available (available: {})",
                    shown()
                )));
            }
            if cores.contains(&id) {
                return Err(CoresError(format!("--cores {spec:?}: core {id} is listed twice")));
            }
            cores.push(id);
        }
    }
    within_max(cores)
}

/// `cores`, unless there are more than `limits::CORES_MAX`.
fn within_max(cores: Vec<usize>) -> Result<Vec<usize>, CoresError> {
    if cores.len() > CORES_MAX {
        return Err(CoresError(format!("--cores: {} cores asked for, at most {CORES_MAX}", cores.len())));
    }
    Ok(cores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_lists() {
        let all = [0, 1, 2, 3, 4, 5];
        assert_eq!(parse("2", &all), Ok(vec![0, 1]));
        assert_eq!(parse("0,2-4", &all), Ok(vec![0, 2, 3, 4]));
        assert_eq!(parse(" 5 ", &all), Ok(vec![0, 1, 2, 3, 4]));
    }

    #[test]
    fn errors_say_what_is_available() {
        let all = [0, 1];
        assert!(parse("3", &all).unwrap_err().0.contains("only 2 cores"));
        assert!(parse("0,7", &all).unwrap_err().0.contains("core 7 is not available"));
        assert!(parse("0", &all).unwrap_err().0.contains("at least one"));
        assert!(parse("1-0", &all).unwrap_err().0.contains("backwards"));
        assert!(parse("0,0", &all).unwrap_err().0.contains("twice"));
        assert!(parse("x", &all).is_err());
    }

    #[test]
    fn more_than_the_most_cores_is_refused_as_a_count_or_a_list() {
        let all: Vec<usize> = (0..CORES_MAX + 8).collect();
        assert_eq!(parse(&CORES_MAX.to_string(), &all).unwrap().len(), CORES_MAX);
        assert_eq!(parse(&format!("0-{}", CORES_MAX - 1), &all).unwrap().len(), CORES_MAX);
        let over = format!("at most {CORES_MAX}");
        assert!(parse(&(CORES_MAX + 1).to_string(), &all).unwrap_err().0.contains(&over));
        assert!(parse(&format!("0-{CORES_MAX}"), &all).unwrap_err().0.contains(&over));
    }
}
