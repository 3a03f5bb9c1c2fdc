//! What a merged result was made of: one line per input (its segment, how it stopped, its
//! counts, its driver), the runs' shares it stands for (`covers`: an input counted twice is
//! refused), the segments of `K/N` that are missing or given twice (naming the inputs that
//! hold one twice), segments of different splits, runs whose windows did not overlap, and the
//! merged `stopped_by` made `interrupted` when any part was. Works on result files, I/O-free.

use std::collections::{BTreeMap, BTreeSet};

use crate::output::outcome::StopReason;
use crate::output::result_file::{Coverage, Part, PartId, ResultFile};

/// The runs' shares `result` stands for: a merged result's `covers`, else its own run and
/// segment. A file written before runs had an id is known by its start time instead.
pub fn covers(result: &ResultFile) -> Vec<PartId> {
    if let Some(covers) = &result.covers {
        return covers.clone();
    }
    let run_id = result.run_id.clone().unwrap_or_else(|| format!("started-at-{}", result.started_at_unix_s));
    vec![PartId { run_id, segment: result.segment.clone() }]
}

/// What two results compared both stand for, when they are the same runs' shares ([`covers`]):
/// one run given twice (or a copy of it), or a run beside a merge of it alone (`the same run
/// (run_id 1f2e...; NEW is a merge of it alone)`). `None` when they stand for different shares, or overlap only
/// in part (a merge beside one of several of its parts).
pub fn same_runs(base: &ResultFile, new: &ResultFile) -> Option<String> {
    // A file without a run id (made by hand, or by an older engine) is known by its start
    // alone, which two files made by hand may share.
    if [base, new].iter().any(|r| r.run_id.is_none() && r.covers.is_none()) {
        return None;
    }
    let (mut a, mut b) = (covers(base), covers(new));
    for ids in [&mut a, &mut b] {
        ids.sort();
        ids.dedup();
    }
    if a != b {
        return None;
    }
    let shares: Vec<String> = a
        .iter()
        .map(|id| {
            format!("{}{}", id.run_id, id.segment.as_deref().map(|s| format!(" segment {s}")).unwrap_or_default())
        })
        .collect();
    let runs = if shares.len() == 1 {
        format!("run (run_id {}", shares[0])
    } else {
        format!("runs (run_ids {}", shares.join(", "))
    };
    let merged = match (base.covers.is_some(), new.covers.is_some()) {
        (false, true) if shares.len() == 1 => "; NEW is a merge of it alone",
        (true, false) if shares.len() == 1 => "; BASE is a merge of it alone",
        (false, true) | (true, false) => "; one is a merge of the other's",
        _ => "",
    };
    Some(format!("the same {runs}{merged})"))
}

/// `a.json and b.json both hold run 1f2e... segment 0/2: its requests would be counted twice`
/// when two inputs stand for a share of one run (the same file twice, a merged result and one
/// of its parts); `None` when no share is in two inputs.
pub fn overlap(inputs: &[(String, ResultFile)]) -> Option<String> {
    let mut seen: BTreeMap<PartId, &str> = BTreeMap::new();
    for (source, result) in inputs {
        for id in covers(result) {
            if let Some(earlier) = seen.get(&id) {
                let segment = id.segment.as_deref().map(|s| format!(" segment {s}")).unwrap_or_default();
                return Some(format!(
                    "{earlier} and {source} both hold run {}{segment}: its requests would be counted twice",
                    id.run_id
                ));
            }
            seen.insert(id, source);
        }
    }
    None
}

/// `a.json and c.json are one part: ...` when two inputs hold the same measurement under
/// different labels (a copy whose `run_id`, `segment` or start was edited, or which an older
/// engine wrote without an id): the same totals, transactions (raw histograms included), interval
/// series (each interval's counts and percentiles, at the same seconds from its own start) and
/// injector figures (the lag histogram, the core threads' CPU and wall time to the µs). Two
/// injectors of one run may send the same totals, but not the same histograms of every latency,
/// interval by interval, on threads that used the same CPU time to the µs. Neither the start,
/// the duration, the run id nor the segment is weighed: each is a label a copy can change. A part
/// that measured nothing (no attempt, no transaction) adds nothing twice, so it is never one.
/// `None` when no two inputs are alike.
pub fn same_measurement(inputs: &[(String, ResultFile)]) -> Option<String> {
    let measured = |r: &ResultFile| r.totals.attempts.unwrap_or(r.totals.requests) > 0 || r.totals.transactions > 0;
    let alike = |a: &ResultFile, b: &ResultFile| {
        a.totals == b.totals
            && a.transactions == b.transactions
            && a.intervals == b.intervals
            && a.injector == b.injector
    };
    let label = |r: &ResultFile| {
        let id = r.run_id.as_deref().unwrap_or("none");
        let segment = r.segment.as_deref().map(|s| format!(", segment {s}")).unwrap_or_default();
        format!("run id {id}{segment}, started at {}", r.started_at_unix_s)
    };
    for (i, (a, ra)) in inputs.iter().enumerate() {
        for (b, rb) in &inputs[i + 1..] {
            if measured(ra) && alike(ra, rb) {
                return Some(format!(
                    "{a} ({}) and {b} ({}) are one part: the same counts, histograms, intervals and injector \
                     figures to the digit, which no two injectors measure, whatever their labels say; its requests \
                     would be counted twice",
                    label(ra),
                    label(rb)
                ));
            }
        }
    }
    None
}

/// Adds `parts`, `segments` and the worst `stopped_by` to `merged` from the results it was
/// merged from (`(source name, result file)`). Returns the warnings to print.
pub fn annotate(merged: &mut ResultFile, inputs: &[(String, ResultFile)]) -> Vec<String> {
    let parts: Vec<Part> = inputs
        .iter()
        .map(|(source, result)| Part {
            source: source.clone(),
            segment: result.segment.clone(),
            stopped_by: Some(result.stopped_by),
            run_id: result.run_id.clone(),
            started_at_unix_s: result.started_at_unix_s,
            duration_s: result.duration_s,
            requests: result.totals.requests,
            errors: result.totals.errors,
            driver: result.driver.clone(),
            cores: Some(result.cores.clone()),
            driver_fallbacks: result.driver_fallbacks.clone(),
        })
        .collect();
    let mut warnings = Vec::new();
    let interrupted: Vec<String> = inputs
        .iter()
        .filter(|(_, r)| r.stopped_by == StopReason::Interrupted)
        .map(|(source, r)| r.segment.clone().unwrap_or_else(|| source.clone()))
        .collect();
    if !interrupted.is_empty() {
        warnings
            .push(format!("interrupted, so the merged result covers less than planned: {}", interrupted.join(", ")));
    }
    (merged.stopped_by, merged.stopped_because) = merged_stop(inputs);
    merged.segments = coverage(inputs, &mut warnings);
    warn_of_mixed_inputs(inputs, &mut warnings);
    warnings.extend(differing("engine versions", inputs, |r| format!("{:?}", r.mite_engine_version)));
    warnings.extend(
        differing("thresholds", inputs, |r| format!("[{}]", r.thresholds.join(", ")))
            .map(|said| format!("{said}: every one of them is judged on the merge")),
    );
    warnings.extend(idle_parts(inputs));
    warnings.extend(transactions_not_in_every_part(inputs));
    merged_scenario(merged, inputs);
    merged.driver_fallbacks = inputs
        .iter()
        .flat_map(|(source, r)| {
            let label = r.segment.as_ref().map_or_else(|| source.clone(), |s| format!("segment {s}"));
            r.driver_fallbacks.iter().map(move |f| format!("{label}: {f}"))
        })
        .collect();
    merged.interrupted_segments = Some(interrupted);
    merged.cores_lost = cores_lost(inputs);
    merged.warnings = crate::output::result_file::warnings_together(inputs.iter().map(|(source, r)| {
        (r.segment.as_ref().map_or_else(|| source.clone(), |s| format!("segment {s}")), r.warnings.as_slice())
    }));
    if let Some(lost) = &merged.cores_lost {
        warnings.push(format!("a part ended without a core, so the merged result lacks its figures since: {lost}"));
    }
    merged.parts = Some(parts);
    let mut covered: Vec<PartId> = inputs.iter().flat_map(|(_, r)| covers(r)).collect();
    covered.sort();
    covered.dedup();
    merged.covers = Some(covered);
    // The parts' timelines added where they line up; else said, and none made up.
    match crate::output::merge_timeline::merged_intervals(inputs, merged.started_at_unix_s) {
        Ok(Some(timeline)) => {
            warnings.extend(timeline.left_out_words());
            merged.intervals = timeline.intervals;
        }
        Ok(None) => {}
        Err(why) => warnings.push(format!(
            "the parts' intervals cannot be lined up ({why}): the merged result has no timeline (each part's own \
             is on the merged page)"
        )),
    }
    if let Some(apart) = apart_in_time(inputs) {
        warnings.push(format!(
            "{apart}: the merged rates are over both windows and the gap between them (a threshold on a rate is \
             not judged)"
        ));
    }
    warnings
}

/// How a merge of `inputs` stopped, and why in words (`stopped_because`): interrupted when
/// any part was (the warning names them); else the parts' own reason when they all stopped
/// alike (a completed one's words when every part says the same); else each part's, named by
/// its segment or file: `segment 0/2: every volume model ended; segment 1/2: single-use
/// datapool users ran out of rows`, or, when some ran their duration and some completed (the
/// merge then `duration`), `segment 0/2 at the end of its duration; segment 1/2 when its
/// journeys were done: every volume model ended`.
fn merged_stop(inputs: &[(String, ResultFile)]) -> (StopReason, Option<String>) {
    let label = |(source, r): &(String, ResultFile)| {
        r.segment.as_ref().map_or_else(|| source.clone(), |s| format!("segment {s}"))
    };
    let stopped_by = inputs.first().map_or(StopReason::Duration, |(_, r)| r.stopped_by);
    if inputs.iter().any(|(_, r)| r.stopped_by == StopReason::Interrupted) {
        return (StopReason::Interrupted, None);
    }
    if inputs.iter().all(|(_, r)| r.stopped_by == stopped_by) {
        if stopped_by != StopReason::Completed {
            return (stopped_by, None);
        }
        let reasons: BTreeSet<Option<&String>> = inputs.iter().map(|(_, r)| r.stopped_because.as_ref()).collect();
        if reasons.len() == 1 {
            return (stopped_by, reasons.into_iter().next().flatten().cloned());
        }
        let each: Vec<String> = inputs
            .iter()
            .map(|input| format!("{}: {}", label(input), input.1.stopped_because.as_deref().unwrap_or("not recorded")))
            .collect();
        return (stopped_by, Some(each.join("; ")));
    }
    let each: Vec<String> = inputs
        .iter()
        .map(|input| {
            let words = match (&input.1.stopped_by, &input.1.stopped_because) {
                (StopReason::Completed, Some(why)) => format!("when its journeys were done: {why}"),
                (StopReason::Completed, None) => "when its journeys were done".to_string(),
                _ => "at the end of its duration".to_string(),
            };
            format!("{} {words}", label(input))
        })
        .collect();
    (StopReason::Duration, Some(each.join("; ")))
}

/// Each input's lost cores, named by its segment or file (`segment 1/2: core 3 ...; b.json:
/// ...`); `None` when no input lost one.
fn cores_lost(inputs: &[(String, ResultFile)]) -> Option<String> {
    let lost: Vec<String> = inputs
        .iter()
        .filter_map(|(source, r)| {
            let label = r.segment.as_ref().map_or_else(|| source.clone(), |s| format!("segment {s}"));
            Some(format!("{label}: {}", r.cores_lost.as_deref()?))
        })
        .collect();
    (!lost.is_empty()).then(|| lost.join("; "))
}

/// Inputs that attempted no request and completed no transaction (an injector that never
/// reached its work, or a segment its volume gave nothing): the merged figures are the other
/// inputs' alone. `None` when each input ran something.
fn idle_parts(inputs: &[(String, ResultFile)]) -> Option<String> {
    let idle: Vec<String> = inputs
        .iter()
        .filter(|(_, r)| r.totals.attempts.unwrap_or(r.totals.requests) == 0 && r.totals.transactions == 0)
        .map(|(source, r)| r.segment.as_ref().map_or_else(|| source.clone(), |s| format!("{source} (segment {s})")))
        .collect();
    (!idle.is_empty()).then(|| {
        format!(
            "{} made no request and completed no transaction: the merged figures are the other parts' alone",
            idle.join(", ")
        )
    })
}

/// Transactions that some inputs ran and others, which ran transactions of their own, did not
/// (a step never reached on one injector): each named with the inputs without it, the first
/// few of them; their figures are of the inputs that ran them. `None` when every input that ran
/// a transaction ran the same ones.
fn transactions_not_in_every_part(inputs: &[(String, ResultFile)]) -> Option<String> {
    const NAMES_SHOWN_MAX: usize = 5;
    let running: Vec<&(String, ResultFile)> = inputs.iter().filter(|(_, r)| !r.transactions.is_empty()).collect();
    let names: BTreeSet<&str> =
        running.iter().flat_map(|(_, r)| r.transactions.iter().map(|t| t.name.as_str())).collect();
    let uneven: Vec<String> = names
        .into_iter()
        .filter_map(|name| {
            let without: Vec<&str> = running
                .iter()
                .filter(|(_, r)| !r.transactions.iter().any(|t| t.name == name))
                .map(|(source, _)| source.as_str())
                .collect();
            let shown = crate::model::terminal::printable(name);
            // Quoted as written by `printable`, not `{:?}`: Debug would write its escapes again.
            (!without.is_empty()).then(|| format!("\"{shown}\" (not in {})", without.join(", ")))
        })
        .collect();
    if uneven.is_empty() {
        return None;
    }
    let more = uneven.len().saturating_sub(NAMES_SHOWN_MAX);
    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
    let shown = uneven.into_iter().take(NAMES_SHOWN_MAX).collect::<Vec<_>>().join(", ");
    Some(format!(
        "transactions not in every part: {shown}{more}: their figures (and thresholds on them) are of the parts \
         that ran them"
    ))
}

/// Two inputs whose runs did not overlap in time (one ended before the other started): their
/// load never met at the target, so the merged figures describe no moment of either. `None`
/// when every pair overlapped, or a start is unknown (a file written before it was recorded).
pub fn apart_in_time(inputs: &[(String, ResultFile)]) -> Option<String> {
    let known = |r: &ResultFile| r.started_at_unix_s > 0.0;
    if !inputs.iter().all(|(_, r)| known(r)) {
        return None;
    }
    let window = |r: &ResultFile| (r.started_at_unix_s, r.started_at_unix_s + r.duration_s);
    for (i, (a, ra)) in inputs.iter().enumerate() {
        for (b, rb) in &inputs[i + 1..] {
            let ((a_start, a_end), (b_start, b_end)) = (window(ra), window(rb));
            if a_end < b_start || b_end < a_start {
                let gap_s = (b_start - a_end).max(a_start - b_end);
                // Below a second in µs or ms: two runs one after the other read `0.0s apart`.
                let gap = if gap_s < 1.0 {
                    crate::output::units::short_us((gap_s * 1e6) as u64)
                } else {
                    format!("{gap_s:.1}s")
                };
                return Some(format!("{a} and {b} ran {gap} apart (their run windows did not overlap)"));
            }
        }
    }
    None
}

/// `parts of different engine versions: a.json "0.1.0", b.json "0.2.0"` (the first input of
/// each value named) when the inputs differ in `what` (each as `of` shows it); `None` when
/// they all agree.
fn differing(what: &str, inputs: &[(String, ResultFile)], of: impl Fn(&ResultFile) -> String) -> Option<String> {
    let mut seen: Vec<(&str, String)> = Vec::new();
    for (source, result) in inputs {
        let value = of(result);
        if !seen.iter().any(|(_, v)| *v == value) {
            seen.push((source, value));
        }
    }
    (seen.len() > 1).then(|| {
        let named: Vec<String> = seen.iter().map(|(source, value)| format!("{source} {value}")).collect();
        format!("parts of different {what}: {}", named.join(", "))
    })
}

/// Runs of different scenarios (which `merge` refuses unless `--mixed-scenarios` asks for it)
/// merge, and are not what a user means.
fn warn_of_mixed_inputs(inputs: &[(String, ResultFile)], warnings: &mut Vec<String>) {
    if let Some(different) = different_scenarios(inputs) {
        warnings.push(format!("{different}: merged as asked (--mixed-scenarios)"));
    }
}

/// The different scenarios among the inputs, each as its first input with the most it says:
/// `(source, scenario name, scenario file digest)`. Two results ran different scenarios when
/// their names differ, or when both have a digest (a scenario file's) and those differ; a
/// result without one (a registered scenario, or an older engine's) goes with any of its name.
fn distinct_scenarios(inputs: &[(String, ResultFile)]) -> Vec<(&str, &str, Option<&str>)> {
    let mut seen: Vec<(&str, &str, Option<&str>)> = Vec::new();
    for (source, result) in inputs {
        let (name, digest) = (result.scenario.as_str(), result.scenario_digest.as_deref());
        let same = |(_, n, d): &&mut (&str, &str, Option<&str>)| {
            *n == name && (d.is_none() || digest.is_none() || *d == digest)
        };
        match seen.iter_mut().find(same) {
            // The first result of this scenario that has a digest names it best.
            Some(entry) if entry.2.is_none() && digest.is_some() => *entry = (source.as_str(), name, digest),
            Some(_) => {}
            None => seen.push((source.as_str(), name, digest)),
        }
    }
    seen
}

/// `results of different scenarios: a.json ran "t1" (scenario file t0.toml, fnv1a64:...),
/// b.json ran "t1" (scenario file t1.toml, fnv1a64:...)` when the inputs ran different
/// scenarios (one input named per scenario), else `None`. Their counts would add up, and their
/// histograms merge into figures of no one run.
pub fn different_scenarios(inputs: &[(String, ResultFile)]) -> Option<String> {
    let seen = distinct_scenarios(inputs);
    if seen.len() < 2 {
        return None;
    }
    let file_of = |source: &str| {
        let result = inputs.iter().find(|(s, _)| s == source).map(|(_, r)| r);
        result.and_then(|r| r.scenario_file.as_deref()).map_or_else(String::new, |file| format!("{file}, "))
    };
    let named: Vec<String> = seen
        .iter()
        .map(|(source, name, digest)| match digest {
            Some(digest) => format!("{source} ran {name:?} (scenario file {}{digest})", file_of(source)),
            None => format!("{source} ran {name:?}"),
        })
        .collect();
    Some(format!("results of different scenarios: {}", named.join(", ")))
}

/// The merged result's scenario: the inputs' own (with its file and digest) when they all ran
/// one, else their names joined with ` + ` and neither file nor digest.
fn merged_scenario(merged: &mut ResultFile, inputs: &[(String, ResultFile)]) {
    let seen = distinct_scenarios(inputs);
    if let [(source, name, digest)] = seen[..] {
        merged.scenario = name.to_string();
        merged.scenario_digest = digest.map(str::to_string);
        let file = inputs.iter().find(|(s, _)| s == source).and_then(|(_, r)| r.scenario_file.clone());
        merged.scenario_file = file;
        return;
    }
    // A merged input of mixed scenarios is named `a + b`: its names count one by one.
    let names: BTreeSet<&str> =
        seen.iter().flat_map(|(_, name, _)| name.split(" + ")).filter(|n| !n.is_empty()).collect();
    merged.scenario = names.into_iter().collect::<Vec<_>>().join(" + ");
    merged.scenario_digest = None;
    merged.scenario_file = None;
}

/// Each split's (`N`'s) segments (`K`) with the inputs that hold each: a merged input counts
/// for every segment it stands for (`covers`), not as one part.
fn segments_by_split(inputs: &[(String, ResultFile)]) -> BTreeMap<usize, BTreeMap<usize, Vec<&str>>> {
    let mut seen: BTreeMap<usize, BTreeMap<usize, Vec<&str>>> = BTreeMap::new();
    for (source, result) in inputs {
        for id in covers(result) {
            let Some((k, n)) = id.segment.as_deref().and_then(|s| s.split_once('/')) else { continue };
            if let (Ok(k), Ok(n)) = (k.parse::<usize>(), n.parse::<usize>()) {
                seen.entry(n).or_default().entry(k).or_default().push(source.as_str());
            }
        }
    }
    seen
}

/// `segments of different splits: a.json holds segment 0/3, b.json segment 1/2` (the first
/// input of each split named) when the inputs' segments are of different `N`: they are shares
/// of different runs, so no segment of either is missing nor complete. `None` when one split.
pub fn different_splits(inputs: &[(String, ResultFile)]) -> Option<String> {
    let seen = segments_by_split(inputs);
    if seen.len() < 2 {
        return None;
    }
    let named: Vec<String> = seen
        .iter()
        .filter_map(|(n, present)| {
            present.iter().next().map(|(k, sources)| format!("{} holds segment {k}/{n}", sources[0]))
        })
        .collect();
    Some(format!("segments of different splits: {}", named.join(", ")))
}

/// Which segments of `N` are present, missing and repeated (none when no input had a segment,
/// or when they are of different splits: said, and no `N` to count against).
fn coverage(inputs: &[(String, ResultFile)], warnings: &mut Vec<String>) -> Option<Coverage> {
    if let Some(different) = different_splits(inputs) {
        warnings.push(format!("{different}: no segment is counted missing or given twice"));
        return None;
    }
    let seen = segments_by_split(inputs);
    let (&n, present) = seen.iter().next()?;
    let missing: Vec<String> = (0..n).filter(|k| !present.contains_key(k)).map(|k| format!("{k}/{n}")).collect();
    let twice: Vec<(String, &Vec<&str>)> =
        present.iter().filter(|(_, s)| s.len() > 1).map(|(k, s)| (format!("{k}/{n}"), s)).collect();
    if !missing.is_empty() {
        warnings.push(format!("segments missing: {}", missing.join(", ")));
    }
    if !twice.is_empty() {
        let named: Vec<String> = twice.iter().map(|(segment, s)| format!("{segment} in {}", s.join(" and "))).collect();
        warnings.push(format!("segments given more than once (counted twice): {}", named.join("; ")));
    }
    let repeated = twice.into_iter().map(|(segment, _)| segment).collect();
    Some(Coverage { of: n, present: present.len(), missing, repeated })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(stopped_by: &str) -> ResultFile {
        let text = format!(
            r#"{{"mite_engine_version": "0", "duration_s": 1, "stopped_by": "{stopped_by}", "totals": {{"requests": 1}},
                "transactions": [], "driver": "io_uring"}}"#
        );
        ResultFile::read(&text, "part").unwrap()
    }

    fn part(segment: &str, stopped_by: &str, requests: u64) -> (String, ResultFile) {
        let mut result = file(stopped_by);
        result.segment = Some(segment.into());
        result.totals.requests = requests;
        (format!("seg-{segment}.log"), result)
    }

    /// Outside try: merging a merged result with one of its own parts, or one part twice,
    /// counted its requests twice. Each input stands for runs' shares; a share in two inputs
    /// is refused, naming both.
    #[test]
    fn an_input_counted_twice_is_refused() {
        let run = |id: &str, segment: &str| {
            let (source, mut result) = part(segment, "duration", 5);
            result.run_id = Some(id.into());
            (source, result)
        };
        let (a, b) = (run("r1", "0/2"), run("r2", "1/2"));
        assert_eq!(overlap(&[a.clone(), b.clone()]), None);
        assert_eq!(
            overlap(&[a.clone(), a.clone()]).as_deref(),
            Some("seg-0/2.log and seg-0/2.log both hold run r1 segment 0/2: its requests would be counted twice")
        );
        let mut merged = file("duration");
        annotate(&mut merged, &[a.clone(), b.clone()]);
        let ids: Vec<(&str, Option<&str>)> =
            merged.covers.iter().flatten().map(|p| (p.run_id.as_str(), p.segment.as_deref())).collect();
        assert_eq!(ids, [("r1", Some("0/2")), ("r2", Some("1/2"))]);
        let said = overlap(&[("m.json".into(), merged.clone()), b.clone()]).unwrap();
        assert!(said.starts_with("m.json and seg-1/2.log both hold run r2 segment 1/2"), "{said}");
        // A merge of merges is fine when they share no run.
        let mut other = file("duration");
        annotate(&mut other, &[run("r3", "0/2"), run("r3", "1/2")]);
        assert_eq!(overlap(&[("m.json".into(), merged), ("n.json".into(), other)]), None);
        // Files without a run id are told apart by their start.
        let (mut old, mut older) = (file("duration"), file("duration"));
        (old.started_at_unix_s, older.started_at_unix_s) = (7.5, 9.0);
        assert_eq!(overlap(&[("o.json".into(), old.clone()), ("p.json".into(), older)]), None);
        let said = overlap(&[("o.json".into(), old.clone()), ("q.json".into(), old)]).unwrap();
        assert!(said.contains("both hold run started-at-7.5"), "{said}");
    }

    /// A part as an injector measures it: its intervals' counts and medians, and its core
    /// thread's CPU time, µs.
    fn measured(segment: &str, counts: &[u64], busy_us: u64) -> (String, ResultFile) {
        let (source, mut result) = part(segment, "duration", counts.iter().sum());
        result.intervals = counts
            .iter()
            .enumerate()
            .map(|(i, &requests)| crate::output::result_file::Interval {
                elapsed_s: i as f64 + 1.0,
                requests,
                p50_us: Some(100 + requests),
                ..Default::default()
            })
            .collect();
        let lag_us = crate::output::result_file::Encoded::default();
        let raw =
            crate::output::result_file::InjectorRaw { lag_us, busy_us, wall_us: 2_000_000, busy_percent_max: 3.0 };
        result.injector.raw = Some(raw);
        (source, result)
    }

    /// Outside try: a part copied under another name with its `run_id` edited (or its
    /// segment) merged as a second injector, doubling its requests. The same measurement is
    /// one part whatever it is called: refused, naming both files.
    #[test]
    fn a_copy_under_another_id_is_one_part() {
        let (source, mut a) = measured("0/2", &[3, 2], 41_372);
        (a.run_id, a.started_at_unix_s) = (Some("r1".into()), 1_700_000_000.5);
        let mut copy = a.clone();
        copy.run_id = Some("forged".into());
        // The other injector of the run: the same totals, its own intervals and CPU time.
        let (_, mut b) = measured("1/2", &[2, 3], 40_118);
        (b.run_id, b.started_at_unix_s) = (Some("r1".into()), 1_700_000_000.5);
        assert_eq!(a.totals, b.totals, "the same totals");
        let inputs = [(source.clone(), a.clone()), ("b.json".to_string(), b.clone())];
        assert_eq!(same_measurement(&inputs), None, "two segments of one run");
        let inputs = [(source.clone(), a.clone()), ("b.json".to_string(), b), ("copy.json".to_string(), copy.clone())];
        assert_eq!(overlap(&inputs), None, "another id: no share is in both");
        assert_eq!(
            same_measurement(&inputs).as_deref(),
            Some(
                "seg-0/2.log (run id r1, segment 0/2, started at 1700000000.5) and copy.json (run id forged, segment \
                 0/2, started at 1700000000.5) are one part: the same counts, histograms, intervals and injector \
                 figures to the digit, which no two injectors measure, whatever their labels say; its requests \
                 would be counted twice"
            )
        );
        // Its segment edited too, or its id removed: still the same measurement.
        let mut resegmented = copy.clone();
        (resegmented.segment, resegmented.run_id) = (Some("1/2".into()), None);
        let said = same_measurement(&[(source.clone(), a.clone()), ("r.json".into(), resegmented)]).unwrap();
        assert!(said.contains("and r.json (run id none, segment 1/2, started at 1700000000.5) are one part"), "{said}");
        // One count apart is another measurement.
        copy.totals.requests += 1;
        assert_eq!(same_measurement(&[(source.clone(), a.clone()), ("c.json".into(), copy)]), None);
        // Parts that measured nothing add nothing twice.
        let mut idle = a.clone();
        idle.totals.requests = 0;
        let mut other_idle = idle.clone();
        other_idle.run_id = Some("r2".into());
        assert_eq!(same_measurement(&[(source, idle), ("i.json".into(), other_idle)]), None);
    }

    /// Outside try: a copy with its start time edited (and its run id, or its duration) merged
    /// as a second injector and doubled every count: the start was weighed as if it were
    /// measured. It is a label; the copy's intervals, histograms and CPU time are the part's.
    #[test]
    fn a_copy_started_at_another_time_is_one_part() {
        let (source, mut a) = measured("0/2", &[3, 2], 41_372);
        (a.run_id, a.started_at_unix_s) = (Some("r1".into()), 1_700_000_000.5);
        let mut later = a.clone();
        later.started_at_unix_s += 0.05;
        let said = same_measurement(&[(source.clone(), a.clone()), ("later.json".into(), later.clone())]).unwrap();
        assert!(
            said.starts_with("seg-0/2.log (run id r1, segment 0/2, started at 1700000000.5) and later.json"),
            "{said}"
        );
        (later.run_id, later.duration_s, later.started_at_unix_s) = (Some("r9".into()), 1.25, 1_800_000_000.0);
        let said = same_measurement(&[(source.clone(), a.clone()), ("later.json".into(), later)]).unwrap();
        assert!(said.contains("and later.json (run id r9, segment 0/2, started at 1800000000) are one part"), "{said}");
        // Another injector that sent the same totals, interval by interval, on a thread of
        // another CPU time: two parts.
        let (_, mut twin) = measured("0/2", &[3, 2], 41_373);
        twin.run_id = Some("r2".into());
        assert_eq!((a.totals == twin.totals, a.intervals == twin.intervals), (true, true));
        assert_eq!(same_measurement(&[(source, a), ("twin.json".into(), twin)]), None);
    }

    #[test]
    fn runs_apart_in_time_are_said_and_different_scenarios_too() {
        let mut merged = file("duration");
        let mut other = file("duration");
        other.scenario = "users".into();
        let (mut a, mut b) = (file("duration"), file("duration"));
        (a.started_at_unix_s, b.started_at_unix_s, other.started_at_unix_s) = (100.0, 100.5, 100.2);
        let inputs =
            [("a.json".to_string(), a.clone()), ("b.json".to_string(), b.clone()), ("c.json".to_string(), other)];
        let warnings = annotate(&mut merged, &inputs);
        assert!(warnings.iter().any(|w| w.starts_with("results of different scenarios")), "{warnings:?}");
        assert_eq!(warnings.len(), 1, "the windows overlap: {warnings:?}");
        assert_eq!(merged.scenario, "users", "the names of both (the first one has none)");
        b.started_at_unix_s = 103.0;
        let warnings = annotate(&mut file("duration"), &[("a.json".to_string(), a), ("b.json".to_string(), b)]);
        assert_eq!(
            warnings,
            ["a.json and b.json ran 2.0s apart (their run windows did not overlap): the merged rates are over both \
              windows and the gap between them (a threshold on a rate is not judged)"]
        );
        // One run just after the other (segments run in turn): the gap in ms, not `0.0s`.
        let (mut a, mut b) = (file("duration"), file("duration"));
        (a.started_at_unix_s, b.started_at_unix_s) = (100.0, 100.0 + a.duration_s + 0.0125);
        let warnings = annotate(&mut file("duration"), &[("a.json".to_string(), a), ("b.json".to_string(), b)]);
        assert!(warnings[0].starts_with("a.json and b.json ran 12.5ms apart ("), "{warnings:?}");
    }

    /// Outside try: parts written by different engine versions, or given different thresholds
    /// (one pod started with `p99<250ms`, another with `p99<300ms`), merged without a word.
    #[test]
    fn parts_of_different_versions_or_thresholds_are_said() {
        let (mut a, mut b) = (part("0/2", "duration", 1), part("1/2", "duration", 1));
        (a.1.mite_engine_version, b.1.mite_engine_version) = ("0.1.0".into(), "0.2.0".into());
        (a.1.thresholds, b.1.thresholds) = (vec!["p99<250ms".into()], vec!["p99<300ms".into()]);
        let warnings = annotate(&mut file("duration"), &[a.clone(), b.clone()]);
        assert!(
            warnings
                .contains(&"parts of different engine versions: seg-0/2.log \"0.1.0\", seg-1/2.log \"0.2.0\"".into()),
            "{warnings:?}"
        );
        assert!(
            warnings.contains(
                &"parts of different thresholds: seg-0/2.log [p99<250ms], seg-1/2.log [p99<300ms]: every one of \
                  them is judged on the merge"
                    .into()
            ),
            "{warnings:?}"
        );
        b.1.mite_engine_version = "0.1.0".into();
        b.1.thresholds = a.1.thresholds.clone();
        assert!(annotate(&mut file("duration"), &[a, b]).is_empty());
    }

    /// Outside try 4: two results of one scenario name from two different scenario files (one
    /// with a step the other lacks) merged without a word. Their digests tell them apart.
    #[test]
    fn one_name_from_two_files_is_two_scenarios() {
        let with = |name: &str, digest: Option<&str>| {
            let mut result = file("duration");
            result.scenario = name.into();
            result.scenario_digest = digest.map(str::to_string);
            result
        };
        let mut t0 = with("t1", Some("fnv1a64:0000000000000001"));
        t0.scenario_file = Some("t0.toml".into());
        let inputs = [
            ("t0.json".to_string(), t0),
            ("t1.json".to_string(), with("t1", Some("fnv1a64:0000000000000002"))),
            ("again.json".to_string(), with("t1", Some("fnv1a64:0000000000000002"))),
        ];
        assert_eq!(
            different_scenarios(&inputs).as_deref(),
            Some(
                "results of different scenarios: t0.json ran \"t1\" (scenario file t0.toml, fnv1a64:0000000000000001), \
                 t1.json ran \"t1\" (scenario file fnv1a64:0000000000000002)"
            )
        );
        let mut merged = file("duration");
        let warnings = annotate(&mut merged, &inputs);
        assert!(warnings.iter().any(|w| w.ends_with("merged as asked (--mixed-scenarios)")), "{warnings:?}");
        assert_eq!((merged.scenario.as_str(), merged.scenario_digest.as_deref()), ("t1", None));
        // Segments of one file agree; one without a digest (an older engine's, or a registered
        // scenario) is judged by its name alone.
        // In any order: one without a digest first goes with either file, not with both.
        let reordered = [("old.json".to_string(), with("t1", None)), inputs[0].clone(), inputs[1].clone()];
        let said = different_scenarios(&reordered).unwrap();
        assert!(said.contains("t0.json ran") && said.contains("t1.json ran") && !said.contains("old.json"), "{said}");
        let same = [inputs[1].clone(), inputs[2].clone(), ("old.json".to_string(), with("t1", None))];
        assert_eq!(different_scenarios(&same), None);
        let mut merged = file("duration");
        annotate(&mut merged, &same);
        assert_eq!(merged.scenario_digest.as_deref(), Some("fnv1a64:0000000000000002"));
        let named = [inputs[0].clone(), ("r3.json".to_string(), with("r3", None))];
        assert_eq!(
            different_scenarios(&named).as_deref(),
            Some(
                "results of different scenarios: t0.json ran \"t1\" (scenario file t0.toml, fnv1a64:0000000000000001), \
                 r3.json ran \"r3\""
            )
        );
    }

    #[test]
    fn an_interrupted_segment_marks_the_merge() {
        let mut merged = file("duration");
        let inputs = [part("0/3", "duration", 10), part("1/3", "interrupted", 4), part("2/3", "duration", 10)];
        let warnings = annotate(&mut merged, &inputs);
        assert_eq!(merged.stopped_by, StopReason::Interrupted);
        assert_eq!(merged.interrupted_segments, Some(vec!["1/3".to_string()]));
        let parts = merged.parts.as_ref().unwrap();
        assert_eq!((parts[1].stopped_by, parts[1].requests), (Some(StopReason::Interrupted), 4));
        let coverage = Coverage { of: 3, present: 3, missing: vec![], repeated: vec![] };
        assert_eq!(merged.segments, Some(coverage));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let json = merged.to_value();
        assert_eq!(json["parts"][1]["stopped_by"], "interrupted");
        assert_eq!(json["segments"], serde_json::json!({"of": 3, "present": 3, "missing": [], "repeated": []}));
    }

    /// A merge had no `stopped_because`: its parts' when they say the same, each part's by its
    /// segment when they differ, and each part's way of stopping when some ran their duration.
    #[test]
    fn a_merge_says_why_its_parts_stopped() {
        let completed = |segment: &str, why: &str| {
            let mut part = part(segment, "completed", 1);
            part.1.stopped_because = Some(why.into());
            part
        };
        let models = "every volume model ended";
        let pool = "single-use datapool users ran out of rows";
        let merge = |inputs: &[(String, ResultFile)]| {
            let mut merged = file("duration");
            annotate(&mut merged, inputs);
            let run = crate::output::result_file::read_run_untimed(&merged, "m").unwrap();
            (merged.stopped_by, merged.stopped_because, run.stopped_words())
        };
        let (by, because, words) = merge(&[completed("0/2", models), completed("1/2", models)]);
        assert_eq!((by, because.as_deref()), (StopReason::Completed, Some(models)));
        assert_eq!(words, format!("stopped when its journeys were done: {models}"));
        let (by, because, _) = merge(&[completed("0/2", models), completed("1/2", pool)]);
        assert_eq!(by, StopReason::Completed);
        assert_eq!(because.unwrap(), format!("segment 0/2: {models}; segment 1/2: {pool}"));
        let (by, because, words) = merge(&[part("0/2", "duration", 1), completed("1/2", pool)]);
        assert_eq!(by, StopReason::Duration);
        let each = format!("segment 0/2 at the end of its duration; segment 1/2 when its journeys were done: {pool}");
        assert_eq!(because.as_deref(), Some(each.as_str()));
        assert_eq!(words, format!("its parts stopped differently: {each}"));
        let (by, because, _) = merge(&[part("0/2", "duration", 1), part("1/2", "duration", 1)]);
        assert_eq!((by, because), (StopReason::Duration, None));
        let (by, because, _) = merge(&[completed("0/2", models), part("1/2", "interrupted", 1)]);
        assert_eq!((by, because), (StopReason::Interrupted, None));
    }

    /// `compare` of a run against a merge of it alone did not see they were the same run:
    /// they stand for the same share; a merge beside one of two of its parts, or two runs, do not.
    #[test]
    fn a_run_and_a_merge_of_it_alone_are_the_same_runs() {
        let run = |id: &str, segment: &str| {
            let (_, mut result) = part(segment, "duration", 5);
            result.run_id = Some(id.into());
            result
        };
        let merge_of = |parts: &[ResultFile]| {
            let mut merged = file("duration");
            let inputs: Vec<(String, ResultFile)> = parts.iter().map(|p| ("p.json".to_string(), p.clone())).collect();
            annotate(&mut merged, &inputs);
            merged
        };
        let (a, b) = (run("r1", "0/2"), run("r2", "1/2"));
        assert_eq!(same_runs(&a, &a).as_deref(), Some("the same run (run_id r1 segment 0/2)"));
        let alone = merge_of(std::slice::from_ref(&a));
        let said = Some("the same run (run_id r1 segment 0/2; NEW is a merge of it alone)");
        assert_eq!(same_runs(&a, &alone).as_deref(), said);
        let said = Some("the same run (run_id r1 segment 0/2; BASE is a merge of it alone)");
        assert_eq!(same_runs(&alone, &a).as_deref(), said);
        let both = merge_of(&[a.clone(), b.clone()]);
        assert_eq!(same_runs(&a, &both), None);
        assert_eq!(same_runs(&a, &b), None);
        let said = Some("the same runs (run_ids r1 segment 0/2, r2 segment 1/2)");
        assert_eq!(same_runs(&both, &merge_of(&[b.clone(), a.clone()])).as_deref(), said);
        let (mut unnamed, mut other) = (a.clone(), b.clone());
        (unnamed.run_id, other.run_id) = (None, None);
        assert_eq!(same_runs(&unnamed, &other), None, "files without run ids are not judged by their starts");
    }

    #[test]
    fn missing_and_repeated_segments_are_named() {
        let mut merged = file("duration");
        let inputs = [part("0/4", "duration", 1), part("0/4", "duration", 1), part("3/4", "duration", 1)];
        let warnings = annotate(&mut merged, &inputs);
        assert_eq!(merged.stopped_by, StopReason::Duration);
        let segments = merged.segments.unwrap();
        assert_eq!(segments.missing, ["1/4", "2/4"]);
        assert_eq!(segments.repeated, ["0/4"]);
        assert!(warnings.iter().any(|w| w == "segments missing: 1/4, 2/4"), "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("counted twice")), "{warnings:?}");
    }

    /// Segments of different splits (0/3 beside 1/2) were said, then counted against the first
    /// split as if it were the only one (`of: 2, missing: [0/2]`). They are shares of
    /// different runs: named, one input of each, and no coverage is made up.
    #[test]
    fn segments_of_different_splits_are_named_not_counted() {
        let inputs = [part("0/3", "duration", 1), part("1/2", "duration", 1)];
        let said = different_splits(&inputs).unwrap();
        assert_eq!(said, "segments of different splits: seg-1/2.log holds segment 1/2, seg-0/3.log holds segment 0/3");
        let mut merged = file("duration");
        let warnings = annotate(&mut merged, &inputs);
        assert_eq!(merged.segments, None, "no one N to count against");
        assert!(warnings.iter().any(|w| w.starts_with(&said)), "{warnings:?}");
        assert!(!warnings.iter().any(|w| w.contains("missing:") || w.contains("counted twice")), "{warnings:?}");
        assert_eq!(different_splits(&[part("0/2", "duration", 1), part("1/2", "duration", 1)]), None);
    }

    /// A segment given by two different runs (other run ids: no share is in both) was said as
    /// `0/2` alone: which inputs hold it is named.
    #[test]
    fn a_segment_given_by_two_runs_names_both_inputs() {
        let run = |source: &str, id: &str, segment: &str| {
            let (_, mut result) = part(segment, "duration", 1);
            result.run_id = Some(id.into());
            (source.to_string(), result)
        };
        let inputs = [run("a.json", "r1", "0/2"), run("b.json", "r2", "0/2"), run("c.json", "r2", "1/2")];
        assert_eq!(overlap(&inputs), None, "two runs' shares");
        let mut merged = file("duration");
        let warnings = annotate(&mut merged, &inputs);
        assert_eq!(warnings, ["segments given more than once (counted twice): 0/2 in a.json and b.json"]);
        assert_eq!(merged.segments.unwrap().repeated, ["0/2"]);
    }

    /// Outside try: a merged input counted as one part, whatever it covered: another run's
    /// two segments beside it were not "given more than once", a merge of 0/2 alone was not
    /// "missing 1/2", and beside 1/2 it was said to miss 0/2.
    #[test]
    fn a_merged_input_counts_for_the_segments_it_covers() {
        let id = |run: &str, segment: &str| PartId { run_id: run.into(), segment: Some(segment.into()) };
        let merged_of = |ids: Vec<PartId>| {
            let (source, mut result) = part("0/2", "duration", 1);
            result.segment = None;
            result.covers = Some(ids);
            (format!("merged-{source}"), result)
        };
        let segments = |inputs: &[(String, ResultFile)]| {
            let mut merged = file("duration");
            let warnings = annotate(&mut merged, inputs);
            (merged.segments.unwrap(), warnings)
        };
        let whole = merged_of(vec![id("a", "0/2"), id("a", "1/2")]);
        let (coverage, warnings) = segments(&[whole, part("0/2", "duration", 1), part("1/2", "duration", 1)]);
        assert_eq!((coverage.missing.len(), coverage.repeated), (0, vec!["0/2".to_string(), "1/2".to_string()]));
        assert!(warnings.iter().any(|w| w.contains("counted twice")), "{warnings:?}");
        let (coverage, _) = segments(&[merged_of(vec![id("a", "0/2")])]);
        assert_eq!((coverage.present, coverage.missing), (1, vec!["1/2".to_string()]));
        let (coverage, warnings) = segments(&[merged_of(vec![id("a", "0/2")]), part("1/2", "duration", 1)]);
        assert_eq!((coverage.present, coverage.missing.len(), coverage.repeated.len()), (2, 0, 0), "{warnings:?}");
    }

    /// Outside try: a merge of mixed scenarios merged again with one of them was named
    /// `er + er + s`.
    #[test]
    fn a_mixed_merges_name_counts_each_scenario_once() {
        let named = |scenario: &str, source: &str| {
            let mut result = file("duration");
            result.scenario = scenario.into();
            (source.to_string(), result)
        };
        let mut merged = file("duration");
        annotate(&mut merged, &[named("er + s", "m.json"), named("er", "c.json")]);
        assert_eq!(merged.scenario, "er + s");
    }

    /// The merged page listed cores as `0, 0`: two segments, each on its core 0, and nothing
    /// said whose each was. Each part keeps its own core ids.
    #[test]
    fn each_part_keeps_its_cores() {
        let mut merged = file("duration");
        let (mut a, mut b) = (part("0/2", "duration", 1), part("1/2", "duration", 1));
        (a.1.cores, b.1.cores) = (vec![0], vec![0, 2]);
        annotate(&mut merged, &[a, b]);
        let json = merged.to_value();
        assert_eq!(json["parts"][0]["cores"], serde_json::json!([0]));
        assert_eq!(json["parts"][1]["cores"], serde_json::json!([0, 2]));
        let old = ResultFile::read(
            r#"{"mite_engine_version": "0", "duration_s": 1, "stopped_by": "duration", "totals": {},
                "transactions": [], "driver": "io_uring", "parts": [{"source": "a.json", "driver": "epoll"}]}"#,
            "old.json",
        )
        .unwrap();
        assert_eq!(old.parts.as_ref().unwrap()[0].cores, None, "not recorded: never guessed");
        assert!(old.to_value()["parts"][0].get("cores").is_none());
    }

    fn with_transactions(segment: &str, names: &[&str]) -> (String, ResultFile) {
        let (source, mut result) = part(segment, "duration", 1);
        let txns: Vec<String> = names
            .iter()
            .map(|n| format!(r#"{{"name": {}, "count": 1, "requests": {{}}}}"#, serde_json::json!(n)))
            .collect();
        let text = format!(
            r#"{{"mite_engine_version": "0", "duration_s": 1, "totals": {{}}, "transactions": [{}]}}"#,
            txns.join(",")
        );
        result.transactions = ResultFile::read(&text, "t").unwrap().transactions;
        (result.totals.transactions, result.totals.requests) = (names.len() as u64, names.len() as u64);
        (source, result)
    }

    /// Outside try: a part that ran nothing (its injector never reached the target's work) and
    /// a transaction one part never ran merged without a word, and a gate on the merge passed
    /// on the other parts' figures. Both are said.
    #[test]
    fn idle_parts_and_uneven_transactions_are_said() {
        let warnings = annotate(
            &mut file("duration"),
            &[
                with_transactions("0/3", &["get", "put"]),
                with_transactions("1/3", &["get"]),
                with_transactions("2/3", &[]),
            ],
        );
        assert!(
            warnings.contains(
                &"seg-2/3.log (segment 2/3) made no request and completed no transaction: the merged \
                                figures are the other parts' alone"
                    .to_string()
            ),
            "{warnings:?}"
        );
        assert!(
            warnings.contains(
                &"transactions not in every part: \"put\" (not in seg-1/3.log): their figures (and \
                                thresholds on them) are of the parts that ran them"
                    .to_string()
            ),
            "{warnings:?}"
        );
        let even =
            annotate(&mut file("duration"), &[with_transactions("0/2", &["get"]), with_transactions("1/2", &["get"])]);
        assert!(even.is_empty(), "{even:?}");
        // A name's escapes are written once (`{:?}` wrote `"new\\\\nline"` for a name holding backslash-n).
        let odd = annotate(
            &mut file("duration"),
            &[with_transactions("0/2", &["get", "new\\nline", "new\nline"]), with_transactions("1/2", &["get"])],
        );
        let said = odd.join("\n");
        assert!(
            said.contains(r#"transactions not in every part: "new\nline" (not in seg-1/2.log), "new\\nline""#),
            "{said}"
        );
    }

    /// Outside try: a part whose run ended without a core exited 1, but its result did not say
    /// so, and the merge of it passed. The part's file says so, and the merge keeps it.
    #[test]
    fn a_part_that_lost_a_core_is_kept_and_said() {
        let (source, mut result) = part("1/2", "duration", 1);
        result.cores_lost = Some("core 3 was held past the grace".into());
        let mut merged = file("duration");
        let warnings = annotate(&mut merged, &[part("0/2", "duration", 1), (source, result)]);
        assert_eq!(merged.cores_lost.as_deref(), Some("segment 1/2: core 3 was held past the grace"));
        assert!(
            warnings.iter().any(|w| w.ends_with("since: segment 1/2: core 3 was held past the grace")),
            "{warnings:?}"
        );
        let read = ResultFile::read(&merged.to_json(), "m.json").unwrap();
        assert_eq!(read.cores_lost, merged.cores_lost, "a merge of merges keeps it");
        let mut whole = file("duration");
        annotate(&mut whole, &[part("0/2", "duration", 1), part("1/2", "duration", 1)]);
        assert_eq!(whole.cores_lost, None);
        assert_eq!(whole.to_value().get("cores_lost"), None);
    }

    #[test]
    fn fallbacks_are_kept_per_segment() {
        let mut merged = file("duration");
        let (source, mut result) = part("1/2", "duration", 1);
        result.driver_fallbacks = vec!["core 0: io_uring unavailable (seccomp); using epoll".into()];
        annotate(&mut merged, &[part("0/2", "duration", 1), (source, result)]);
        assert_eq!(merged.driver_fallbacks, ["segment 1/2: core 0: io_uring unavailable (seccomp); using epoll"]);
    }
}
