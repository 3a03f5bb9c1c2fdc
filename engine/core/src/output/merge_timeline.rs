//! A merge's timeline: the parts' intervals added up where they line up (parts of one run,
//! started together, ticking together), so that the merged result and its page show the whole
//! load over time. What is added is what adds: counts (and the rates of counts), journeys in
//! flight and their target, arrivals, WebSocket counts; the busiest core and the event-loop
//! lag are the worst part's. A percentile is not added: one of the parts' percentiles is none
//! of the whole's, so a merged interval has none (each part's page shows its own). The parts'
//! intervals are lined up by their start in wall-clock time: an interval that no interval of
//! every other part lines up with (starts and ends within `LINE_UP_SHARE` of an interval, of
//! the same phase) is left out, and the merge says which and why.

use std::collections::BTreeMap;

use crate::output::outcome::FoldedPiece;
use crate::output::result_file::{Interval, IntervalArrivals, IntervalFigures, IntervalWebSocket, ResultFile};

/// How far apart (in wall-clock time) the parts' ends of one interval may be, as a share of
/// the interval's length, for them to be one interval of the whole: parts started by
/// `--start-at` begin within milliseconds of each other.
pub const LINE_UP_SHARE: f64 = 0.1;

/// A merge's timeline: the intervals of the whole, and the parts' intervals left out of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MergedTimeline {
    /// The intervals every part has at one time, added.
    pub intervals: Vec<Interval>,
    /// Each part's interval that no interval of every other part lines up with, in words
    /// (`b.json intervals[10] (grace, 10.010 s to 10.500 s): ...`), in time order.
    pub left_out: Vec<String>,
}

impl MergedTimeline {
    /// What the merge says of the intervals left out (`None`: none was): how many, the first
    /// `LEFT_OUT_SAID_MAX` of them and why, and where they are.
    pub fn left_out_words(&self) -> Option<String> {
        if self.left_out.is_empty() {
            return None;
        }
        let said: Vec<&str> = self.left_out.iter().take(LEFT_OUT_SAID_MAX).map(String::as_str).collect();
        let more = self.left_out.len() - said.len();
        let more = if more > 0 { format!("; and {more} more") } else { String::new() };
        let whole = if self.intervals.is_empty() {
            "none lines up: the merged result has no timeline, and leaves out".to_string()
        } else {
            format!(
                "the merged timeline has the {} where every part has one, and leaves out",
                crate::output::units::counted(self.intervals.len() as u64, "interval")
            )
        };
        Some(format!(
            "the parts' intervals do not all line up (each part's intervals lined up by their start in wall-clock \
             time): {whole} {} of the parts' ({}{more}); each part's own timeline is on the merged page",
            crate::output::units::counted(self.left_out.len() as u64, "interval"),
            said.join("; ")
        ))
    }
}

/// How many left-out intervals the merge names (it counts the rest).
pub const LEFT_OUT_SAID_MAX: usize = 5;

/// The merged timeline of `inputs` (`(source name, result file)`), its `elapsed_s` from
/// `started_at_unix_s` (the merge's start, the earliest part's): `Ok(None)` when no part has
/// intervals; an error in words when a part's start is not known. The parts' intervals are
/// lined up by where they start in wall-clock time: those that start within `LINE_UP_SHARE`
/// of an interval of each other in every part, end so too, and are of one phase of the run are
/// added; any other is left out, and said (a grace interval one part has and another has not,
/// a part that ran longer, parts not started together).
pub fn merged_intervals(
    inputs: &[(String, ResultFile)],
    started_at_unix_s: f64,
) -> Result<Option<MergedTimeline>, String> {
    if inputs.is_empty() || inputs.iter().all(|(_, r)| r.intervals.is_empty()) {
        return Ok(None);
    }
    if inputs.iter().any(|(_, r)| r.started_at_unix_s <= 0.0) {
        return Err("a part's start is not known (a file written before it was recorded)".to_string());
    }
    // Per part, each interval's start and end in wall-clock time, and its length.
    let spans: Vec<Vec<(f64, f64, f64)>> = inputs
        .iter()
        .map(|(_, r)| {
            (0..r.intervals.len())
                .map(|i| {
                    let length = at(r, i).seconds.unwrap_or(at(r, i).elapsed_s - before_of(r, i)).max(1e-3);
                    let end = r.started_at_unix_s + at(r, i).elapsed_s;
                    (end - length, end, length)
                })
                .collect()
        })
        .collect();
    // A start a hair before the merge's (rounding) reads 0.000 s, not -0.000 s.
    let from_start = |wall_s: f64| {
        let s = wall_s - started_at_unix_s;
        if s.abs() < 5e-4 { 0.0 } else { s }
    };
    let said = |part: usize, index: usize| {
        let (start, end, _) = spans[part][index];
        let phase = at(&inputs[part].1, index).phase.map(|p| format!("{}, ", phase_word(p))).unwrap_or_default();
        format!("{} intervals[{index}] ({phase}{:.3} s to {:.3} s)", inputs[part].0, from_start(start), from_start(end))
    };
    let mut timeline = MergedTimeline::default();
    let mut next = vec![0usize; inputs.len()];
    let mut before_s = 0.0;
    loop {
        let current: Vec<usize> = (0..inputs.len()).filter(|&p| next[p] < spans[p].len()).collect();
        if current.is_empty() {
            break;
        }
        if current.len() < inputs.len() {
            // A part has no interval left: the others' from here are theirs alone.
            let ended: Vec<&str> =
                (0..inputs.len()).filter(|p| !current.contains(p)).map(|p| inputs[p].0.as_str()).collect();
            leave_out(
                &mut timeline,
                &mut next,
                &current,
                &said,
                &format!("{} has no interval left by then", ended.join(", ")),
            );
            continue;
        }
        let start_of = |p: usize| spans[p][next[p]].0;
        let shortest_s = current.iter().map(|&p| spans[p][next[p]].2).fold(f64::INFINITY, f64::min);
        let tolerance_s = LINE_UP_SHARE * shortest_s;
        let earliest = current.iter().map(|&p| start_of(p)).fold(f64::INFINITY, f64::min);
        let (together, later): (Vec<usize>, Vec<usize>) =
            current.iter().partition(|&&p| start_of(p) - earliest <= tolerance_s);
        if !later.is_empty() {
            let others: Vec<String> = later
                .iter()
                .map(|&p| format!("{}'s next starts at {:.3} s", inputs[p].0, from_start(start_of(p))))
                .collect();
            let why = format!("no interval of every other part starts then ({})", others.join(", "));
            leave_out(&mut timeline, &mut next, &together, &said, &why);
            continue;
        }
        let ends: Vec<f64> = current.iter().map(|&p| spans[p][next[p]].1).collect();
        let (first_end, last_end) =
            ends.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &e| (lo.min(e), hi.max(e)));
        let phase = at(&inputs[0].1, next[0]).phase;
        let why = if last_end - first_end > tolerance_s {
            Some(format!(
                "the parts' intervals that start then end {:.3} s apart, more than a tenth of the shortest ({shortest_s:.3} s)",
                last_end - first_end
            ))
        } else if current.iter().any(|&p| at(&inputs[p].1, next[p]).phase != phase) {
            Some("the parts' intervals that start then are of different phases of the run".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            leave_out(&mut timeline, &mut next, &current, &said, &why);
            continue;
        }
        let mut sum = add(current.iter().map(|&p| at(&inputs[p].1, next[p])));
        // Where the parts' ends are, from the merge's start; never before the one before.
        sum.elapsed_s = round_ms(from_start(last_end).max(before_s));
        before_s = sum.elapsed_s;
        let seconds = current.iter().map(|&p| spans[p][next[p]].2).sum::<f64>() / current.len() as f64;
        sum.seconds = Some(round_ms(seconds));
        sum.rps = sum.requests as f64 / seconds;
        timeline.intervals.push(sum);
        for &p in &current {
            next[p] += 1;
        }
    }
    Ok(Some(timeline))
}

/// A phase of the run in the words of the left-out list.
fn phase_word(phase: crate::output::outcome::IntervalPhase) -> &'static str {
    match phase {
        crate::output::outcome::IntervalPhase::Run => "run",
        crate::output::outcome::IntervalPhase::Stop => "stop",
        crate::output::outcome::IntervalPhase::Grace => "grace",
    }
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

/// Leaves each of `parts`' next interval out of the merged timeline, saying `why` (after where
/// it is, `said`), and moves those parts on to their following interval.
fn leave_out(
    timeline: &mut MergedTimeline,
    next: &mut [usize],
    parts: &[usize],
    said: &dyn Fn(usize, usize) -> String,
    why: &str,
) {
    for &p in parts {
        timeline.left_out.push(format!("{}: {why}", said(p, next[p])));
        next[p] += 1;
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
        let timeline = merged_intervals(&inputs, 1000.0).unwrap().unwrap();
        assert_eq!(timeline.left_out, Vec::<String>::new());
        let merged = timeline.intervals;
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
        let alone = merged_intervals(&inputs[..1], 1000.0).unwrap().unwrap().intervals;
        assert_eq!(alone.iter().map(|i| i.requests).collect::<Vec<_>>(), [10, 10, 10]);
    }

    /// Parts that do not tick together are said, not added; the intervals that do line up
    /// are. Before: any difference in the count of intervals (one segment with a grace
    /// interval, another without) cost the merged result its whole timeline.
    #[test]
    fn parts_are_lined_up_by_start_and_what_is_left_out_is_said() {
        let a = part("a.json", 1000.0, &[1.0, 2.0], 10);
        // b ran a grace interval after its run; a did not.
        let mut b = part("b.json", 1000.0, &[1.0, 2.0, 2.5], 1);
        b.1.intervals[2].seconds = Some(0.5);
        b.1.intervals[2].phase = Some(IntervalPhase::Grace);
        let timeline = merged_intervals(&[a.clone(), b], 1000.0).unwrap().unwrap();
        assert_eq!(
            timeline.intervals.iter().map(|i| (i.elapsed_s, i.requests)).collect::<Vec<_>>(),
            [(1.0, 11), (2.0, 11)]
        );
        assert_eq!(
            timeline.left_out,
            ["b.json intervals[2] (grace, 2.000 s to 2.500 s): a.json has no interval left by then"]
        );
        let words = timeline.left_out_words().unwrap();
        assert!(words.contains("the merged timeline has the 2 intervals where every part has one, and leaves out 1 interval of the parts' (b.json intervals[2] (grace, 2.000 s to 2.500 s): a.json has no interval left by then)"), "{words}");
        // b started a second later: its first interval lines up with a's second; the rest is
        // each part's alone.
        let late = part("b.json", 1001.0, &[1.0, 2.0], 1);
        let timeline = merged_intervals(&[a.clone(), late], 1000.0).unwrap().unwrap();
        assert_eq!(timeline.intervals.iter().map(|i| (i.elapsed_s, i.requests)).collect::<Vec<_>>(), [(2.0, 11)]);
        assert_eq!(
            timeline.left_out,
            [
                "a.json intervals[0] (run, 0.000 s to 1.000 s): no interval of every other part starts then (b.json's next starts at 1.000 s)",
                "b.json intervals[1] (run, 2.000 s to 3.000 s): a.json has no interval left by then",
            ]
        );
        // Half a second apart: nothing lines up, and the merged result has no timeline.
        let timeline = merged_intervals(&[a.clone(), part("b.json", 1000.5, &[1.0, 2.0], 1)], 1000.0).unwrap().unwrap();
        assert!(timeline.intervals.is_empty());
        assert_eq!(timeline.left_out.len(), 4);
        let words = timeline.left_out_words().unwrap();
        assert!(words.contains("none lines up: the merged result has no timeline, and leaves out 4 intervals of the parts' (a.json intervals[0]"), "{words}");
        // Same times, another phase: both left out.
        let mut grace = part("b.json", 1000.0, &[1.0, 2.0], 1);
        grace.1.intervals[1].phase = Some(IntervalPhase::Grace);
        let timeline = merged_intervals(&[a.clone(), grace], 1000.0).unwrap().unwrap();
        assert_eq!(timeline.intervals.len(), 1);
        assert_eq!(
            timeline.left_out[1],
            "b.json intervals[1] (grace, 1.000 s to 2.000 s): the parts' intervals that start then are of different phases of the run"
        );
        // Same start, ends apart (one part's stop piece folded in, 0.3 s): left out.
        let mut long = part("b.json", 1000.0, &[1.0, 2.3], 1);
        long.1.intervals[1].seconds = Some(1.3);
        let timeline = merged_intervals(&[a.clone(), long], 1000.0).unwrap().unwrap();
        assert_eq!(timeline.intervals.len(), 1);
        assert!(
            timeline.left_out[0].ends_with("end 0.300 s apart, more than a tenth of the shortest (1.000 s)"),
            "{:?}",
            timeline.left_out
        );
        let said = merged_intervals(&[a.clone(), part("b.json", 0.0, &[1.0, 2.0], 1)], 1000.0).unwrap_err();
        assert!(said.contains("start is not known"), "{said}");
        let none = [part("a.json", 1000.0, &[], 1), part("b.json", 1000.0, &[], 1)];
        assert_eq!(merged_intervals(&none, 1000.0), Ok(None));
    }

    /// A long list of intervals left out is said by its first few and a count.
    #[test]
    fn many_left_out_are_counted() {
        let a = part("a.json", 1000.0, &[1.0], 10);
        let b = part("b.json", 1000.0, &(1..=20).map(f64::from).collect::<Vec<_>>(), 1);
        let timeline = merged_intervals(&[a, b], 1000.0).unwrap().unwrap();
        assert_eq!(timeline.left_out.len(), 19);
        let words = timeline.left_out_words().unwrap();
        assert!(words.contains("leaves out 19 intervals of the parts'"), "{words}");
        assert!(words.contains("; and 14 more)"), "{words}");
    }
}
