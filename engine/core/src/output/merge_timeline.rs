//! A merge's timeline: the parts' intervals added up where they line up (parts of one run,
//! started together, ticking together), so that the merged result and its page show the whole
//! load over time. What is added is what adds: counts (and the rates of counts), journeys in
//! flight and their target, arrivals, WebSocket counts; the busiest core and the event-loop
//! lag are the worst part's. A percentile is not added: one of the parts' percentiles is none
//! of the whole's, so a merged interval has none (each part's page shows its own). Parts whose
//! intervals do not line up (a different count, a different phase, ends further apart than
//! `LINE_UP_SHARE` of an interval) give no merged timeline, and the merge says why.

use std::collections::BTreeMap;

use crate::output::outcome::FoldedPiece;
use crate::output::result_file::{Interval, IntervalArrivals, IntervalFigures, IntervalWebSocket, ResultFile};

/// How far apart (in wall-clock time) the parts' ends of one interval may be, as a share of
/// the interval's length, for them to be one interval of the whole: parts started by
/// `--start-at` begin within milliseconds of each other.
pub const LINE_UP_SHARE: f64 = 0.1;

/// The merged timeline of `inputs` (`(source name, result file)`), its `elapsed_s` from
/// `started_at_unix_s` (the merge's start, the earliest part's): `Ok(None)` when no part has
/// intervals; an error in words naming the parts when their intervals do not line up.
pub fn merged_intervals(
    inputs: &[(String, ResultFile)],
    started_at_unix_s: f64,
) -> Result<Option<Vec<Interval>>, String> {
    let Some((first, first_file)) = inputs.first() else { return Ok(None) };
    if inputs.iter().all(|(_, r)| r.intervals.is_empty()) {
        return Ok(None);
    }
    let count = first_file.intervals.len();
    if let Some((other, r)) = inputs.iter().find(|(_, r)| r.intervals.len() != count) {
        return Err(format!(
            "{first} has {} and {other} {}",
            crate::output::units::counted(count as u64, "interval"),
            crate::output::units::counted(r.intervals.len() as u64, "interval")
        ));
    }
    if inputs.iter().any(|(_, r)| r.started_at_unix_s <= 0.0) {
        return Err("a part's start is not known (a file written before it was recorded)".to_string());
    }
    let mut merged = Vec::with_capacity(count);
    let mut before_s = 0.0;
    for index in 0..count {
        let end = |r: &ResultFile| r.started_at_unix_s + at(r, index).elapsed_s;
        let length =
            |r: &ResultFile| at(r, index).seconds.unwrap_or(at(r, index).elapsed_s - before_of(r, index)).max(1e-3);
        let shortest_s = inputs.iter().map(|(_, r)| length(r)).fold(f64::INFINITY, f64::min);
        let (earliest, latest) = inputs
            .iter()
            .map(|(_, r)| end(r))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), e| (lo.min(e), hi.max(e)));
        if latest - earliest > LINE_UP_SHARE * shortest_s {
            let (late, _) = inputs.iter().find(|(_, r)| end(r) == latest).expect("the latest end is a part's");
            let (early, _) = inputs.iter().find(|(_, r)| end(r) == earliest).expect("the earliest end is a part's");
            return Err(format!(
                "intervals[{index}] ends {:.3} s later in {late} than in {early}, more than a tenth of its {:.3} s",
                latest - earliest,
                shortest_s
            ));
        }
        if let Some((other, _)) = inputs.iter().find(|(_, r)| at(r, index).phase != at(first_file, index).phase) {
            return Err(format!("intervals[{index}] is of another part of the run in {other} than in {first}"));
        }
        let mut sum = add(inputs.iter().map(|(_, r)| at(r, index)));
        // Where the parts' ends are, from the merge's start; never before the one before.
        sum.elapsed_s = round_ms((latest - started_at_unix_s).max(before_s));
        before_s = sum.elapsed_s;
        let seconds = inputs.iter().map(|(_, r)| length(r)).sum::<f64>() / inputs.len() as f64;
        sum.seconds = Some(round_ms(seconds));
        sum.rps = sum.requests as f64 / seconds;
        merged.push(sum);
    }
    Ok(Some(merged))
}

/// `r`'s interval `index`.
fn at(r: &ResultFile, index: usize) -> &Interval {
    &r.intervals[index]
}

/// The end of the interval before `index` in `r` (0 for the first).
fn before_of(r: &ResultFile, index: usize) -> f64 {
    index.checked_sub(1).map_or(0.0, |i| r.intervals[i].elapsed_s)
}

fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// One interval of the whole from the parts' (`elapsed_s`, `seconds` and `rps` set by the
/// caller): counts added, the worst injector's load, no percentile.
fn add<'a>(parts: impl Iterator<Item = &'a Interval>) -> Interval {
    let mut sum = Interval {
        phase: None,
        detail: IntervalFigures { latency: None, corrected: None, ..IntervalFigures::default() },
        ..Interval::default()
    };
    let mut lag_p99_us: Option<u64> = None;
    for (i, part) in parts.enumerate() {
        if i == 0 {
            sum.phase = part.phase;
        }
        sum.requests += part.requests;
        sum.errors += part.errors;
        sum.not_sent += part.not_sent;
        sum.transactions += part.transactions;
        sum.journeys_in_flight += part.journeys_in_flight;
        lag_p99_us = lag_p99_us.max(part.injector_lag_p99_us);
        sum.injector_busy_percent_max = sum.injector_busy_percent_max.max(part.injector_busy_percent_max);
        sum.injector_saturated |= part.injector_saturated;
        for piece in &part.folded {
            match sum.folded.iter_mut().find(|p| p.phase == piece.phase) {
                // The parts' pieces of one phase are at the same time: as long as the longest.
                Some(kept) => kept.seconds = kept.seconds.max(piece.seconds),
                None => sum.folded.push(*piece),
            }
        }
        add_figures(&mut sum.detail, &part.detail);
    }
    sum.folded.sort_by_key(|p: &FoldedPiece| p.phase);
    sum.injector_lag_p99_us = lag_p99_us;
    sum
}

fn add_figures(sum: &mut IntervalFigures, part: &IntervalFigures) {
    sum.ok += part.ok;
    add_map(&mut sum.errors_by_kind, &part.errors_by_kind);
    add_map(&mut sum.status, &part.status);
    sum.connects += part.connects;
    sum.connects_failed += part.connects_failed;
    sum.reconnects += part.reconnects;
    sum.body_bytes += part.body_bytes;
    sum.sent_bytes += part.sent_bytes;
    sum.journeys_target += part.journeys_target;
    if let Some(panicked) = part.journeys_panicked {
        *sum.journeys_panicked.get_or_insert(0) += panicked;
    }
    if let Some(a) = &part.arrivals {
        let s = sum.arrivals.get_or_insert_with(IntervalArrivals::default);
        s.requested += a.requested;
        s.started += a.started;
        s.missed += a.missed;
        s.datapool_exhausted += a.datapool_exhausted;
    }
    if let Some(w) = &part.websocket {
        let s = sum.websocket.get_or_insert_with(IntervalWebSocket::default);
        s.connects += w.connects;
        s.messages_sent += w.messages_sent;
        s.messages_received += w.messages_received;
        s.bytes_sent += w.bytes_sent;
        s.bytes_received += w.bytes_received;
        s.pings_received += w.pings_received;
        s.closes += w.closes;
        s.errors += w.errors;
    }
}

fn add_map(sum: &mut BTreeMap<String, u64>, part: &BTreeMap<String, u64>) {
    for (key, n) in part {
        *sum.entry(key.clone()).or_default() += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::outcome::IntervalPhase;

    /// A part started at `start` with one interval a second ending at `ends` (from its start),
    /// each of `requests` requests, one of them an error.
    fn part(source: &str, start: f64, ends: &[f64], requests: u64) -> (String, ResultFile) {
        let mut file = crate::output::result_file::result_file(
            &crate::output::outcome::RunResult::of("s", crate::stats::Merged::default()),
            true,
        );
        file.started_at_unix_s = start;
        file.intervals = ends
            .iter()
            .map(|&elapsed_s| Interval {
                elapsed_s,
                requests,
                errors: 1,
                transactions: requests,
                rps: requests as f64,
                seconds: Some(1.0),
                p50_us: Some(100),
                p99_us: Some(900),
                journeys_in_flight: 3,
                injector_lag_p99_us: Some(requests),
                injector_busy_percent_max: requests as f64,
                phase: Some(IntervalPhase::Run),
                detail: IntervalFigures {
                    ok: requests - 1,
                    errors_by_kind: BTreeMap::from([("timeout".to_string(), 1)]),
                    status: BTreeMap::from([("2xx".to_string(), requests - 1)]),
                    journeys_target: 3,
                    latency: Some(crate::output::timeline::Percentiles {
                        p50_us: 100,
                        p90_us: 500,
                        p99_us: 900,
                        max_us: 1000,
                    }),
                    ..IntervalFigures::default()
                },
                ..Interval::default()
            })
            .collect();
        (source.to_string(), file)
    }

    /// Two segments of one run, started 20 ms apart: each interval is the two added, at the
    /// later end from the earlier start; counts and rates add, the load is the worst part's,
    /// and no percentile is made up.
    #[test]
    fn parts_that_tick_together_add_up_interval_by_interval() {
        let inputs = [part("a.json", 1000.0, &[1.0, 2.0, 3.0], 10), part("b.json", 1000.02, &[1.0, 2.0, 3.0], 30)];
        let merged = merged_intervals(&inputs, 1000.0).unwrap().unwrap();
        assert_eq!(merged.len(), 3);
        let first = &merged[0];
        assert_eq!((first.elapsed_s, first.seconds), (1.02, Some(1.0)));
        assert_eq!((first.requests, first.errors, first.transactions, first.rps), (40, 2, 40, 40.0));
        assert_eq!((first.journeys_in_flight, first.detail.journeys_target, first.detail.ok), (6, 6, 38));
        assert_eq!(first.detail.errors_by_kind["timeout"], 2);
        assert_eq!(first.detail.status["2xx"], 38);
        assert_eq!((first.injector_lag_p99_us, first.injector_busy_percent_max), (Some(30), 30.0));
        assert_eq!((first.p50_us, first.p99_us, first.detail.latency.as_ref()), (None, None, None));
        assert_eq!(merged[2].elapsed_s, 3.02);
        // Alone, a part is its own timeline (its percentiles aside).
        let alone = merged_intervals(&inputs[..1], 1000.0).unwrap().unwrap();
        assert_eq!(alone.iter().map(|i| i.requests).collect::<Vec<_>>(), [10, 10, 10]);
    }

    /// Parts that do not tick together are said, not added: a different count of intervals,
    /// starts half a second apart, another phase, an unknown start; parts without intervals
    /// have no timeline, and nothing is said.
    #[test]
    fn parts_that_do_not_line_up_are_said() {
        let a = part("a.json", 1000.0, &[1.0, 2.0], 10);
        let said = merged_intervals(&[a.clone(), part("b.json", 1000.0, &[1.0, 2.0, 3.0], 1)], 1000.0).unwrap_err();
        assert_eq!(said, "a.json has 2 intervals and b.json 3 intervals");
        let said = merged_intervals(&[a.clone(), part("b.json", 1000.5, &[1.0, 2.0], 1)], 1000.0).unwrap_err();
        assert_eq!(said, "intervals[0] ends 0.500 s later in b.json than in a.json, more than a tenth of its 1.000 s");
        let mut grace = part("b.json", 1000.0, &[1.0, 2.0], 1);
        grace.1.intervals[1].phase = Some(IntervalPhase::Grace);
        let said = merged_intervals(&[a.clone(), grace], 1000.0).unwrap_err();
        assert_eq!(said, "intervals[1] is of another part of the run in b.json than in a.json");
        let said = merged_intervals(&[a.clone(), part("b.json", 0.0, &[1.0, 2.0], 1)], 1000.0).unwrap_err();
        assert!(said.contains("start is not known"), "{said}");
        let none = [part("a.json", 1000.0, &[], 1), part("b.json", 1000.0, &[], 1)];
        assert_eq!(merged_intervals(&none, 1000.0), Ok(None));
    }
}
