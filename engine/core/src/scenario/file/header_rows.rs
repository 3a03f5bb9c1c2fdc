//! The warning about a step header that a datapool row gives a line break (a CSV field quoted
//! across lines, `"a\r\nb"`): every request rendered with such a row fails (`invalid_request`)
//! before it is sent, where `scenario check` said the file was ok. Rendered with the first
//! rows of each datapool the journey runs with, captures standing in, before the run.

use super::datapools::Pools;
use super::schema::FileSpec;
use super::slashes::{CAPTURE_STAND_IN, pools_of, rows_of};
use crate::model::config::Config;
use crate::scenario::declarative::DeclarativeJourney;

/// A step header whose value, rendered with a datapool row, is not one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BrokenHeader {
    /// The step, from 0.
    pub(super) step: usize,
    /// The header's name, as written.
    pub(super) header: String,
    /// The value as rendered.
    pub(super) value: String,
    /// The datapool and the row (from 1) it was rendered with.
    pub(super) row: (String, usize),
}

/// Each header of each step of `journey` that a row of a datapool it runs with (of the first
/// [`super::slashes::DOUBLED_SLASH_ROWS_CHECKED`]) renders with a CR, LF or NUL: the first
/// such row of each header.
pub(super) fn broken_headers(
    journey_name: &str,
    journey: &DeclarativeJourney,
    spec: &FileSpec,
    pools: &Pools,
    config: &Config,
) -> Vec<BrokenHeader> {
    let mut found: Vec<BrokenHeader> = Vec::new();
    for pool in pools_of(journey_name, spec, pools).into_iter().flatten() {
        for (at, row) in rows_of(Some(pool)) {
            let Some(at) = at else { continue };
            let mut captured: Vec<&str> = Vec::new();
            for (i, step) in journey.steps.iter().enumerate() {
                let lookup = |name: &str| -> Option<&str> {
                    if captured.contains(&name) {
                        return Some(CAPTURE_STAND_IN);
                    }
                    row.by_name(name).or_else(|| config.get(name))
                };
                for (header, template) in &step.headers {
                    let reads_row =
                        template.variables().any(|name| !captured.contains(&name) && row.by_name(name).is_some());
                    let mut value = String::new();
                    if !reads_row || template.render_into(&mut value, lookup).is_err() {
                        continue;
                    }
                    let broken = value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0));
                    if broken && !found.iter().any(|f| f.step == i && &f.header == header) {
                        found.push(BrokenHeader { step: i, header: header.clone(), value, row: at.clone() });
                    }
                }
                captured.extend(step.captures.iter().map(|(name, _)| name.as_str()));
            }
        }
    }
    found.sort_by_key(|f| f.step);
    found
}
