//! `mite-engine merge`: result files and pod logs (every result framed in each) merged into one
//! result; an input counted twice, segments of different splits, or an output naming an input,
//! refused; the thresholds the runs were given (and `--threshold`) judged on the merged
//! figures, with a run's exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use mite_core::output::merge_by_name::{self, MergedFiles};
use mite_core::output::result_file::ResultFile;
use mite_core::output::threshold::{Checked, Threshold, ThresholdError};
use mite_core::output::{merge_parts, report};

use crate::commands::tell;
use crate::exit_reason::ExitReason;
use crate::output;

/// What `merge` was asked.
pub struct MergeRequest<'a> {
    /// The result files and logs.
    pub paths: &'a [PathBuf],
    /// `-o`.
    pub output: &'a Path,
    /// `--html`.
    pub html: Option<&'a Path>,
    /// `--mixed-scenarios`.
    pub mixed: bool,
    /// `--threshold`: added to the runs' own, or replacing one of the same figure.
    pub thresholds: &'a [String],
    /// `--partial`: segments missing or given twice are warned about, not an error.
    pub partial: bool,
}

/// Merges, writes, and judges the thresholds: exit 0, 3 when one failed, 5 when a part was
/// interrupted, 1 on an error (a threshold that could not be checked included, and segments
/// missing or given twice without `--partial`).
pub fn merge(request: &MergeRequest<'_>) -> anyhow::Result<ExitCode> {
    let MergeRequest { paths, output, html, mixed, .. } = *request;
    // Before anything is read: writing the merge over an input would lose it.
    for (flag, path) in [("-o", Some(output)), ("--html", html)] {
        if let Some(path) = path {
            output::not_an_input(flag, path, paths)?;
        }
    }
    output::distinct(&[("-o", Some(output)), ("--html", html)])?;
    let mut inputs: Vec<(String, ResultFile)> = Vec::new();
    let mut labels = Vec::new();
    // What was said of the logs read (a frame left out), kept in the merged file.
    let mut read_warnings = Vec::new();
    for (path, label) in paths.iter().zip(crate::commands::labels(paths)) {
        // Unchecked: each histogram is checked as the merge decodes it, once.
        let read = ResultFile::read_unchecked;
        let parts = crate::commands::read_result_parts(path, &path.display().to_string(), &mut read_warnings, read)?;
        let several = parts.len() > 1;
        for (i, file) in parts.into_iter().enumerate() {
            let name = part_name(path, &file, i, several);
            labels.push(if several { part_name(Path::new(&label), &file, i, true) } else { label.clone() });
            inputs.push((name, file));
        }
    }
    refuse_overlaps(&inputs, mixed)?;
    let thresholds = thresholds(&inputs, request.thresholds)?;
    // Name by name: one transaction's histograms decoded at a time, not every name's.
    // With a page, every input's distributions are drawn as they are decoded to be merged.
    let mut merged = merge_by_name::merge_files(&mut inputs, &thresholds, html.is_some())?;
    // Which segments went in, and how each ended (an interrupted one marks the whole).
    let warnings = merge_parts::annotate(&mut merged.file, &inputs);
    // Kept in the merged file after its inputs' warnings, as said: those said reading the logs,
    // then the merge's own (said below).
    merged.file.warnings.extend(read_warnings);
    merged.file.warnings.extend(warnings.iter().cloned());
    merged.file.thresholds = thresholds.iter().map(|t| t.text().to_string()).collect();
    merged.run.stopped_by = merged.file.stopped_by;
    merged.run.stopped_because.clone_from(&merged.file.stopped_because);
    merged.run.scenario.clone_from(&merged.file.scenario);
    // Both outputs are checked before either is written: a bad --html must not leave a
    // merged file behind an exit code of 1.
    let sink = output::check("-o", output)?;
    let html = html.map(|path| Ok::<_, anyhow::Error>((path, output::check("--html", path)?))).transpose()?;
    crate::commands::write_file(&sink, &merged.file)
        .map_err(|e| output::not_written("-o", "the merged result", &sink, &e))?;
    // Judged before the page is drawn: it shows the verdicts the exit code comes from.
    let apart = merge_parts::apart_in_time(&inputs);
    let checked: Vec<_> = thresholds.iter().map(|t| judge(&merged, t, apart.as_deref())).collect();
    let table =
        report::merged_table(&merged.run.merged, merged.run.duration_s, &merged.total, &merged.file.transactions);
    let incomplete = !request.partial
        && merged.file.segments.as_ref().is_some_and(|c| !c.missing.is_empty() || !c.repeated.is_empty());
    let lost = merged.file.cores_lost.is_some();
    let parts_count = inputs.len();
    let merged_count = mite_core::output::units::counted(parts_count as u64, "result");
    let MergedFiles { run, file, .. } = merged;
    if let Some((path, html)) = html {
        // The files are used up as the page is written (a page of 10,000 names held them twice).
        let files: Vec<(String, ResultFile)> = labels.into_iter().zip(inputs.into_iter().map(|(_, f)| f)).collect();
        let page =
            |out: &mut dyn std::io::Write| mite_core::output::html::write_merged(out, &run, file, files, &checked);
        output::write_with(&html, page).map_err(|e| {
            let why = output::not_written("--html", "the merged report", &html, &e);
            anyhow!("{why} (the merged result was written to {})", sink.describe())
        })?;
        tell(format_args!("merged report written to {}", path.display()));
    }
    let _ = crate::commands::print_table(&run, &table, output == Path::new("-"), Some(parts_count));
    for warning in &warnings {
        tell(format_args!("warning: {warning}"));
    }
    let verdict = crate::commands::threshold_verdict(checked);
    tell(format_args!("merged {merged_count} into {}", output.display()));
    let interrupted = run.stopped_by == mite_core::run::StopReason::Interrupted;
    Ok(exit_code(verdict, interrupted, incomplete, run.merged.journeys.panicked, lost))
}

/// An input counted twice (the same part twice, a merge and one of its parts), segments of
/// different splits, or inputs of different scenarios without `--mixed-scenarios`: refused,
/// naming both.
fn refuse_overlaps(inputs: &[(String, ResultFile)], mixed: bool) -> anyhow::Result<()> {
    if let Some(overlap) = merge_parts::overlap(inputs) {
        bail!("{overlap}; nothing written (give each run's share once)");
    }
    // A copy under another run id or segment is detectably the same part.
    if let Some(same) = merge_parts::same_measurement(inputs) {
        bail!("{same}; nothing written (give each part once)");
    }
    // Segments of different splits are shares of different runs: no whole to count them against.
    if let Some(different) = merge_parts::different_splits(inputs) {
        bail!("{different}; nothing written (merge the segments of one split)");
    }
    // Different scenarios' counts would add up into figures of no one run: refused, unless asked.
    if let Some(different) = merge_parts::different_scenarios(inputs)
        && !mixed
    {
        bail!("{different}; nothing written (merge them anyway with --mixed-scenarios)");
    }
    Ok(())
}

/// `threshold` judged on the merge, except a rate when the parts did not run together
/// (`apart` says which ran how far apart): over their gap it is the rate of no moment, so it
/// cannot be checked (exit 1), whichever way it would read.
fn judge(merged: &MergedFiles, threshold: &Threshold, apart: Option<&str>) -> Checked {
    match apart {
        Some(apart) if threshold.is_rate() => {
            Err(ThresholdError::RateOverAGap { text: threshold.text().to_string(), apart: apart.to_string() })
        }
        _ => merged.check(threshold),
    }
}

/// How a part is named in warnings and errors: the path, and the part's segment (or its place)
/// when the file holds several (pods' logs one after another).
fn part_name(path: &Path, file: &ResultFile, index: usize, several: bool) -> String {
    if !several {
        return path.display().to_string();
    }
    match &file.segment {
        Some(segment) => format!("{} (segment {segment})", path.display()),
        None => format!("{} (result {})", path.display(), index + 1),
    }
}

/// The thresholds to judge: every input's (each once), with `extra` added, each replacing a
/// stored one of the same figure. A stored one that does not parse names its file.
fn thresholds(inputs: &[(String, ResultFile)], extra: &[String]) -> anyhow::Result<Vec<Threshold>> {
    let mut judged: Vec<Threshold> = Vec::new();
    for (name, file) in inputs {
        for text in &file.thresholds {
            let threshold = Threshold::parse(text).map_err(|e| anyhow!("{name}: thresholds: {e}"))?;
            if !judged.iter().any(|t| t.text() == threshold.text()) {
                judged.push(threshold);
            }
        }
    }
    for text in extra {
        let threshold = Threshold::parse(text).map_err(|e| anyhow!("--threshold {text:?}: {}", e.why()))?;
        judged.retain(|stored| !stored.same_figure(&threshold));
        judged.push(threshold);
    }
    Ok(judged)
}

/// As a run's: an error (a threshold that could not be checked, an incomplete set of
/// segments, journeys that panicked in a part, a part that ended without a core) 1, an interrupted part 5, a failed threshold 3;
/// the line names every reason, a failed threshold's too.
fn exit_code(
    verdict: crate::commands::Thresholds,
    interrupted: bool,
    incomplete: bool,
    panicked: u64,
    cores_lost: bool,
) -> ExitCode {
    let reasons: Vec<ExitReason<'_>> = [
        cores_lost.then_some(ExitReason::CoresLost),
        incomplete.then_some(ExitReason::SegmentsIncomplete),
        (panicked > 0).then_some(ExitReason::JourneysPanicked(panicked)),
        (verdict.unchecked > 0).then_some(ExitReason::ThresholdUnchecked),
        interrupted.then_some(ExitReason::PartInterrupted),
        (verdict.failed > 0).then_some(ExitReason::ThresholdFailed),
    ]
    .into_iter()
    .flatten()
    .collect();
    crate::exit_reason::exit_with(&reasons, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{EXIT_ERROR, EXIT_INTERRUPTED, EXIT_THRESHOLD, Thresholds};

    /// As a run's: journeys that panicked in a part are an error (1), as is an incomplete set
    /// of segments; an interrupted part 5; a failed threshold 3.
    #[test]
    fn a_merge_exits_as_a_run_would() {
        let none = || Thresholds { failed: 0, unchecked: 0 };
        let failed = || Thresholds { failed: 1, unchecked: 0 };
        assert_eq!(exit_code(none(), false, false, 0, false), ExitCode::SUCCESS);
        assert_eq!(exit_code(failed(), false, false, 0, false), ExitCode::from(EXIT_THRESHOLD));
        assert_eq!(exit_code(failed(), true, false, 0, false), ExitCode::from(EXIT_INTERRUPTED));
        assert_eq!(exit_code(failed(), true, false, 3, false), ExitCode::from(EXIT_ERROR));
        assert_eq!(exit_code(none(), false, true, 0, false), ExitCode::from(EXIT_ERROR));
        assert_eq!(exit_code(failed(), true, false, 0, true), ExitCode::from(EXIT_ERROR), "a part lost a core");
    }
}
