//! Core selection: `--cores N` (the first N usable cores) or a list such as `0,2-5`.

use crate::limits::CORES_MAX;

/// A `--cores` value that cannot be used, with the reason (and what is available).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoresError {
    /// Neither a count nor a list.
    #[error("--cores {spec:?}: expected a count (e.g. 2) or a list (e.g. 0,2-5)")]
    NotACount {
        /// The value as given.
        spec: String,
    },
    /// `--cores 0`.
    #[error(
        "--cores 0: a bare number is a count of cores, and at least one is needed; for core 0 alone write --cores 0-0"
    )]
    NoCores,
    /// A count above the cores this process may use.
    #[error(
        "--cores {count}: only {} {} available to this process ({available:?})",
        super::counts::counted(available.len() as u64, "core"),
        if available.len() == 1 { "is" } else { "are" }
    )]
    TooFewAvailable {
        /// Cores asked for.
        count: usize,
        /// Core ids available.
        available: Vec<usize>,
    },
    /// A list item that is not an id or a range.
    #[error("--cores {spec:?}: {part:?} is not a core id or a range like 2-5")]
    NotACoreId {
        /// The value as given.
        spec: String,
        /// The item.
        part: String,
    },
    /// A range whose end is below its start.
    #[error("--cores {spec:?}: range {part:?} runs backwards")]
    Backwards {
        /// The value as given.
        spec: String,
        /// The range.
        part: String,
    },
    /// A core outside the affinity mask.
    #[error("--cores {spec:?}: core {id} is not available (available: {available:?})")]
    NotAvailable {
        /// The value as given.
        spec: String,
        /// The core.
        id: usize,
        /// Core ids available.
        available: Vec<usize>,
    },
    /// A core listed twice.
    #[error("--cores {spec:?}: core {id} is listed twice")]
    Twice {
        /// The value as given.
        spec: String,
        /// The core.
        id: usize,
    },
    /// A count or a core id too large to be a number of this machine's (`99999999999999999999`):
    /// it was said to be no count, or no core id, at all.
    #[error("--cores {spec:?}: {number} is past any core (available: {available:?})")]
    PastAnyCore {
        /// The value as given.
        spec: String,
        /// The number.
        number: String,
        /// Core ids available.
        available: Vec<usize>,
    },
    /// More than `limits::CORES_MAX`.
    #[error("--cores: {count} cores asked for, at most {CORES_MAX}")]
    TooMany {
        /// Cores asked for.
        count: usize,
    },
}

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
    if !spec.contains([',', '-']) {
        let count: usize = spec.parse().map_err(|_| match past_any_core(spec, spec, available) {
            Some(past) => past,
            None => CoresError::NotACount { spec: spec.to_string() },
        })?;
        if count == 0 {
            return Err(CoresError::NoCores);
        }
        if count > available.len() {
            return Err(CoresError::TooFewAvailable { count, available: available.to_vec() });
        }
        return within_max(available[..count].to_vec());
    }
    let mut cores = Vec::new();
    for part in spec.split(',') {
        let (first, last) = id_range(spec, part.trim(), available)?;
        for id in first..=last {
            if !available.contains(&id) {
                return Err(CoresError::NotAvailable { spec: spec.to_string(), id, available: available.to_vec() });
            }
            if cores.contains(&id) {
                return Err(CoresError::Twice { spec: spec.to_string(), id });
            }
            cores.push(id);
        }
    }
    within_max(cores)
}

/// One list item of `spec`: `3` or `2-5`, as first and last id.
fn id_range(spec: &str, part: &str, available: &[usize]) -> Result<(usize, usize), CoresError> {
    let bad = |text: &str| {
        past_any_core(spec, text.trim(), available)
            .unwrap_or_else(|| CoresError::NotACoreId { spec: spec.to_string(), part: part.to_string() })
    };
    let id = |text: &str| text.trim().parse::<usize>().map_err(|_| bad(text));
    let (first, last) = match part.split_once('-') {
        Some((a, b)) => (id(a)?, id(b)?),
        None => (id(part)?, id(part)?),
    };
    if first > last {
        return Err(CoresError::Backwards { spec: spec.to_string(), part: part.to_string() });
    }
    Ok((first, last))
}

/// The error for `number`, when it is digits too many for a number of cores (or a core id).
fn past_any_core(spec: &str, number: &str, available: &[usize]) -> Option<CoresError> {
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then(|| CoresError::PastAnyCore {
        spec: spec.to_string(),
        number: number.to_string(),
        available: available.to_vec(),
    })
}

/// `cores`, unless there are more than `limits::CORES_MAX`.
fn within_max(cores: Vec<usize>) -> Result<Vec<usize>, CoresError> {
    if cores.len() > CORES_MAX {
        return Err(CoresError::TooMany { count: cores.len() });
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
        assert!(parse("3", &all).unwrap_err().to_string().contains("only 2 cores are available"));
        let one = parse("2", &[0]).unwrap_err().to_string();
        assert!(one.contains("only 1 core is available"), "{one}");
        assert!(parse("0,7", &all).unwrap_err().to_string().contains("core 7 is not available"));
        assert!(parse("0", &all).unwrap_err().to_string().contains("at least one"));
        assert!(parse("1-0", &all).unwrap_err().to_string().contains("backwards"));
        assert!(parse("0,0", &all).unwrap_err().to_string().contains("twice"));
        assert!(parse("x", &all).is_err());
        // Digits past any number of cores were "not a count", "not a core id".
        let huge = "99999999999999999999";
        let past = format!("{huge} is past any core (available: [0, 1])");
        assert_eq!(parse(huge, &all).unwrap_err().to_string(), format!("--cores \"{huge}\": {past}"));
        let list = format!("0-{huge}");
        assert_eq!(parse(&list, &all).unwrap_err().to_string(), format!("--cores \"{list}\": {past}"));
        assert!(parse("0-1x", &all).unwrap_err().to_string().contains("\"0-1x\" is not a core id"));
    }

    #[test]
    fn more_than_the_most_cores_is_refused_as_a_count_or_a_list() {
        let all: Vec<usize> = (0..CORES_MAX + 8).collect();
        assert_eq!(parse(&CORES_MAX.to_string(), &all).unwrap().len(), CORES_MAX);
        assert_eq!(parse(&format!("0-{}", CORES_MAX - 1), &all).unwrap().len(), CORES_MAX);
        let over = format!("at most {CORES_MAX}");
        assert!(parse(&(CORES_MAX + 1).to_string(), &all).unwrap_err().to_string().contains(&over));
        assert!(parse(&format!("0-{CORES_MAX}"), &all).unwrap_err().to_string().contains(&over));
    }
}
