//! The warning about a step URL with `//` in its path (`{base}/json` with a base ending in
//! `/` sends `GET //json`), or a WebSocket journey's URL with one (`ws://h//chat`): rendered
//! from the configuration, from the first rows of each datapool the journey runs with, and
//! with captures standing in, before the run.

use super::datapools::Pools;
use super::schema::FileSpec;
use crate::model::config::Config;
use crate::model::datapool::{DataPool, Row};
use crate::scenario::declarative::DeclarativeJourney;
use crate::scenario::template::Template;

/// Rows of each datapool rendered into the URLs to look for `//`: the first ones the pool
/// holds, enough for a column that is the same on every row, few enough for a pool of
/// millions.
pub(super) const DOUBLED_SLASH_ROWS_CHECKED: usize = 100;

/// What a capture stands in as: a value without `/`, so a `//` found is the template's or its
/// other values' (a capture's own value is the response's, unknown before the run).
pub(super) const CAPTURE_STAND_IN: &str = "capture";

/// A step whose URL has `//` in its path, and how it got it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DoubledSlash {
    /// The step, from 0.
    pub(super) step: usize,
    /// The URL as rendered.
    pub(super) url: String,
    /// The datapool row it was rendered with (the pool's name, the row from 1), if any.
    pub(super) row: Option<(String, usize)>,
    /// Whether captures stood in (`capture`) for values only the run can know.
    pub(super) with_captures: bool,
}

impl DoubledSlash {
    /// Where the URL came from, for the warning: `` (from the configuration alone), ` with
    /// row 3 of datapool users`, ` with captures standing in as "capture"`.
    pub(super) fn rendered_with(&self) -> String {
        let row = self.row.as_ref().map(|(pool, row)| format!(" with row {row} of datapool {pool}"));
        let captures = self.with_captures.then(|| format!(" with captures standing in as {CAPTURE_STAND_IN:?}"));
        let said: Vec<String> = row.into_iter().chain(captures).collect();
        said.join(",")
    }
}

/// The datapools `journey` runs with: those its `[[scenario]]` entries name; for a journey no
/// entry names (one `journey test` or `journey run` may take with any pool), every pool the
/// file defines. `None` stands for no pool (the configuration alone).
pub(super) fn pools_of<'p>(journey: &str, spec: &FileSpec, pools: &'p Pools) -> Vec<Option<(&'p str, &'p DataPool)>> {
    let entries: Vec<_> = spec.scenario.iter().filter(|entry| entry.get_ref().journey.get_ref() == journey).collect();
    let named = |name: &str| pools.get_key_value(name).map(|(name, (pool, _))| (name.as_str(), pool));
    if entries.is_empty() {
        return std::iter::once(None).chain(pools.keys().map(|name| named(name))).collect();
    }
    let mut found = Vec::new();
    for entry in entries {
        let pool = entry.get_ref().datapool.as_ref().and_then(|name| named(name.get_ref()));
        let key = pool.map(|(name, _)| name);
        if !found.iter().any(|seen: &Option<(&str, &DataPool)>| seen.map(|(name, _)| name) == key) {
            found.push(pool);
        }
    }
    found
}

/// Each step of each declarative journey whose URL, rendered with the final configuration, the
/// first [`DOUBLED_SLASH_ROWS_CHECKED`] rows of each datapool it runs with and captures
/// standing in, has an empty path segment: the first such rendering of each step.
pub(super) fn doubled_slashes(
    journey_name: &str,
    journey: &DeclarativeJourney,
    spec: &FileSpec,
    pools: &Pools,
    config: &Config,
) -> Vec<DoubledSlash> {
    let mut found: Vec<DoubledSlash> = Vec::new();
    for pool in pools_of(journey_name, spec, pools) {
        let rows = rows_of(pool);
        for (at, row) in &rows {
            let mut captured: Vec<&str> = Vec::new();
            for (i, step) in journey.steps.iter().enumerate() {
                let reads_capture = step.url.variables().any(|name| captured.contains(&name));
                let lookup = |name: &str| -> Option<&str> {
                    if captured.contains(&name) {
                        return Some(CAPTURE_STAND_IN);
                    }
                    row.by_name(name).or_else(|| config.get(name))
                };
                let mut url = String::new();
                let rendered = step.url.render_into(&mut url, lookup).is_ok();
                if rendered && has_empty_path_segment(&url) && !found.iter().any(|f| f.step == i) {
                    let reads_row =
                        step.url.variables().any(|name| !captured.contains(&name) && row.by_name(name).is_some());
                    let row = at.clone().filter(|_| reads_row);
                    found.push(DoubledSlash { step: i, url, row, with_captures: reads_capture });
                }
                captured.extend(step.captures.iter().map(|(name, _)| name.as_str()));
            }
        }
    }
    found.sort_by_key(|f| f.step);
    found
}

/// A WebSocket journey's URL (`ws://`, `wss://`) when, rendered with the final configuration
/// and the first [`DOUBLED_SLASH_ROWS_CHECKED`] rows of each datapool it runs with, its path
/// has an empty segment: the first such rendering (reported as step 0: the connection).
pub(super) fn ws_doubled_slash(
    journey_name: &str,
    url: &Template,
    spec: &FileSpec,
    pools: &Pools,
    config: &Config,
) -> Option<DoubledSlash> {
    for pool in pools_of(journey_name, spec, pools) {
        for (at, row) in rows_of(pool) {
            let lookup = |name: &str| row.by_name(name).or_else(|| config.get(name));
            let mut rendered = String::new();
            if url.render_into(&mut rendered, lookup).is_ok() && has_empty_path_segment(&rendered) {
                let reads_row = url.variables().any(|name| row.by_name(name).is_some());
                return Some(DoubledSlash {
                    step: 0,
                    url: rendered,
                    row: at.filter(|_| reads_row),
                    with_captures: false,
                });
            }
        }
    }
    None
}

/// The rows a URL is rendered with: the first [`DOUBLED_SLASH_ROWS_CHECKED`] of `pool`, each
/// with its pool's name and its number from 1; for no pool, one empty row.
pub(super) fn rows_of(pool: Option<(&str, &DataPool)>) -> Vec<(Option<(String, usize)>, Row)> {
    let mut rows = Vec::new();
    match pool {
        None => rows.push((None, Row::empty())),
        Some((name, pool)) => {
            let mut shard = pool.shard(0, 1);
            for at in 1..=DOUBLED_SLASH_ROWS_CHECKED {
                let Some(row) = shard.checkout() else { break };
                rows.push((Some((name.to_string(), at)), row));
            }
        }
    }
    rows
}

/// Whether `url`'s path (after the scheme's `//` and the authority, before `?` or `#`) holds
/// `//`. One after a `:` (`/go/https://example.com/x`, a URL carried in the path) is taken as
/// meant, as is a URL without a path.
pub(super) fn has_empty_path_segment(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |at| &after_scheme[at..]);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.match_indices("//").any(|(at, _)| !path[..at].ends_with(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_path_segment_is_found_in_the_path_alone() {
        assert!(has_empty_path_segment("http://127.0.0.1:8080//json"));
        assert!(has_empty_path_segment("http://h/a//b"));
        assert!(has_empty_path_segment("https://h/a/b//"));
        // The scheme's `//`, a query's or a fragment's, and a URL carried in the path are not.
        assert!(!has_empty_path_segment("http://127.0.0.1:8080/json"));
        assert!(!has_empty_path_segment("http://h"));
        assert!(!has_empty_path_segment("http://h/x?next=http://h//y"));
        assert!(!has_empty_path_segment("http://h/x#//y"));
        assert!(!has_empty_path_segment("http://h/go/https://example.com/x"));
        // A WebSocket URL the same: its scheme's `//` is not in its path.
        assert!(has_empty_path_segment("ws://127.0.0.1:8080//chat"));
        assert!(has_empty_path_segment("wss://h/a//b?x=1"));
        assert!(!has_empty_path_segment("ws://127.0.0.1:8080/ws/echo"));
        assert!(!has_empty_path_segment("wss://h"));
        // A capture standing in for the whole start of a URL leaves no scheme to skip.
        assert!(!has_empty_path_segment("capture/x"));
        assert!(has_empty_path_segment("capture//x"));
    }
}
