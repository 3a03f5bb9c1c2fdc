//! The warnings about a step header that a datapool row gives a line break (a CSV field quoted
//! across lines, `"a\r\nb"`): every request rendered with such a row fails (`invalid_request`)
//! before it is sent, where `scenario check` said the file was ok (rendered with the first
//! rows of each datapool the journey runs with, captures standing in, before the run); and
//! about a header value that is not ASCII, as written, from the configuration, or from a
//! datapool column (every row looked at): it is sent as its UTF-8 bytes.

use super::datapools::Pools;
use super::schema::FileSpec;
use super::slashes::{CAPTURE_STAND_IN, pools_of, rows_of};
use crate::model::config::Config;
use crate::model::datapool::DataPool;
use crate::scenario::declarative::DeclarativeJourney;
use crate::scenario::template::Template;

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

/// Where a step header's text that is not ASCII comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NonAsciiFrom {
    /// The value as the file writes it (the text around its variables).
    Written(String),
    /// A configuration key's value (`[config]`, `--config`, `MITE_CONF_*`).
    Config { key: String, value: String },
    /// A datapool column: the first row (from 1) whose value is not ASCII, and that value.
    Column { pool: String, column: String, row: usize, value: String },
}

/// A step header whose value holds text that is not ASCII.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NonAsciiHeader {
    /// The step, from 0.
    pub(super) step: usize,
    /// The header's name, as written.
    pub(super) header: String,
    /// Where the text comes from.
    pub(super) from: NonAsciiFrom,
}

impl NonAsciiHeader {
    /// The warning's words after the field: what holds the text, and what is sent.
    pub(super) fn words(&self) -> String {
        self.from.words()
    }
}

impl NonAsciiFrom {
    /// The warning's words after the field: what holds the text, and what is sent.
    pub(super) fn words(&self) -> String {
        use crate::http::fields::{NON_ASCII_SENT_AS, non_ascii_characters};
        let (whose, text) = match self {
            NonAsciiFrom::Written(text) => (format!("the value as written ({text:?})"), text),
            NonAsciiFrom::Config { key, value } => (format!("config {key} ({value:?})"), value),
            NonAsciiFrom::Column { pool, column, row, value } => {
                (format!("column {column} of datapool {pool} (first at row {row}: {value:?}; each such row)"), value)
            }
        };
        format!("{whose} holds text that is not ASCII ({}): {NON_ASCII_SENT_AS}", non_ascii_characters(text, 4))
    }
}

/// Each header of each step of `journey` whose text is not ASCII: as written, from a
/// configuration key, or from a column of a datapool it runs with (every row looked at);
/// each source once per header. A variable a capture sets (its value the response's) is the
/// run's, not looked at.
pub(super) fn non_ascii_headers(
    journey_name: &str,
    journey: &DeclarativeJourney,
    spec: &FileSpec,
    pools: &Pools,
    config: &Config,
) -> Vec<NonAsciiHeader> {
    let pools = journey_pools(journey_name, spec, pools);
    let mut found = Vec::new();
    let mut captured: Vec<&str> = Vec::new();
    for (step, s) in journey.steps.iter().enumerate() {
        for (header, template) in &s.headers {
            for from in non_ascii_sources(template, &pools, config, &captured) {
                found.push(NonAsciiHeader { step, header: header.clone(), from });
            }
        }
        captured.extend(s.captures.iter().map(|(name, _)| name.as_str()));
    }
    found
}

/// The datapools `journey` runs with, by name.
pub(super) fn journey_pools<'p>(journey: &str, spec: &FileSpec, pools: &'p Pools) -> Vec<(&'p str, &'p DataPool)> {
    pools_of(journey, spec, pools).into_iter().flatten().collect()
}

/// Where `template`'s text that is not ASCII comes from: as written, a configuration key, a
/// column of one of `pools` (every row looked at); each once. A variable in `captured` (a
/// capture's, the response's) is the run's, not looked at.
pub(super) fn non_ascii_sources(
    template: &Template,
    pools: &[(&str, &DataPool)],
    config: &Config,
    captured: &[&str],
) -> Vec<NonAsciiFrom> {
    let mut found = Vec::new();
    let written = template.literal_text();
    if !written.is_ascii() {
        found.push(NonAsciiFrom::Written(written));
    }
    let mut seen: Vec<&str> = Vec::new();
    for name in template.variables().filter(|name| !captured.contains(name)) {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let mut from_rows = false;
        for (pool, data) in pools {
            if let Some((row, value)) = data.first_non_ascii(name) {
                found.push(NonAsciiFrom::Column { pool: pool.to_string(), column: name.to_string(), row, value });
            }
            from_rows |= data.has_column(name);
        }
        // A row's column wins over the configuration's key of the same name (not looked up
        // then: a lookup counts as a read of the key).
        if let Some(value) = (!from_rows).then(|| config.get(name)).flatten().filter(|v| !v.is_ascii()) {
            found.push(NonAsciiFrom::Config { key: name.to_string(), value: value.to_string() });
        }
    }
    found
}
