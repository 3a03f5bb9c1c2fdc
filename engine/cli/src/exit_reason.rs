//! Why a run exits other than 0, each reason in its words (one place), and the exit code it
//! asks for. When several apply, an error (1) wins over an interrupt (5), which wins over a
//! failed threshold (3); the line that says the code names every reason.

use std::fmt;
use std::io::Write;
use std::process::ExitCode;

use crate::commands::{EXIT_ERROR, EXIT_INTERRUPTED, EXIT_THRESHOLD};

/// One reason a run does not exit 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExitReason<'a> {
    /// The run ended without a core (its error is said above).
    CoresLost,
    /// Journeys panicked, this many times (each ended that run only; the run went on).
    JourneysPanicked(u64),
    /// A threshold could not be checked.
    ThresholdUnchecked,
    /// These outputs (`result`, `HTML report`) were not written.
    NotWritten(&'a [&'a str]),
    /// Writing the `--hdr-log` failed mid-run.
    HdrLogIncomplete,
    /// A signal stopped the run.
    Interrupted,
    /// `merge`: segments are missing or given twice (without `--partial`).
    SegmentsIncomplete,
    /// `merge`: a part was interrupted.
    PartInterrupted,
    /// A threshold failed.
    ThresholdFailed,
}

impl ExitReason<'_> {
    /// The exit code this reason asks for.
    pub(crate) fn code(self) -> u8 {
        match self {
            ExitReason::Interrupted | ExitReason::PartInterrupted => EXIT_INTERRUPTED,
            ExitReason::ThresholdFailed => EXIT_THRESHOLD,
            _ => EXIT_ERROR,
        }
    }

    /// The code of the run with these reasons (`None`: it exits 0).
    pub(crate) fn code_of(reasons: &[ExitReason<'_>]) -> Option<u8> {
        let rank = |code: u8| [EXIT_ERROR, EXIT_INTERRUPTED, EXIT_THRESHOLD].iter().position(|&c| c == code);
        reasons.iter().map(|r| r.code()).min_by_key(|&code| rank(code))
    }
}

/// The exit code of a command with `reasons` (each applied), saying it on standard error with
/// every reason, except for a failed threshold alone when `threshold_said` (its own lines said
/// it).
pub(crate) fn exit_with(reasons: &[ExitReason<'_>], threshold_said: bool) -> ExitCode {
    let Some(code) = ExitReason::code_of(reasons) else { return ExitCode::SUCCESS };
    if !(threshold_said && code == EXIT_THRESHOLD) {
        let words: Vec<String> = reasons.iter().map(ToString::to_string).collect();
        let _ = writeln!(std::io::stderr(), "{}: exit code {code}", words.join("; "));
    }
    ExitCode::from(code)
}

impl fmt::Display for ExitReason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ExitReason::CoresLost => f.write_str("the run ended without a core (above)"),
            ExitReason::JourneysPanicked(1) => f.write_str("a journey panicked (its first panic is in the table)"),
            ExitReason::JourneysPanicked(n) => write!(
                f,
                "journeys panicked {} times (the first panic is in the table)",
                mite_core::output::units::grouped(n)
            ),
            ExitReason::ThresholdUnchecked => f.write_str("a threshold could not be checked"),
            ExitReason::NotWritten([one]) => write!(f, "the {one} was not written"),
            ExitReason::NotWritten(several) => write!(f, "the {} were not written", several.join(" and the ")),
            ExitReason::HdrLogIncomplete => f.write_str("the --hdr-log is incomplete (writing it failed mid-run)"),
            ExitReason::Interrupted => f.write_str("the run was interrupted"),
            ExitReason::SegmentsIncomplete => {
                f.write_str("segments are missing or given twice (see the warnings; --partial merges part of a run)")
            }
            ExitReason::PartInterrupted => {
                f.write_str("a part was interrupted (the merged result covers less than planned)")
            }
            ExitReason::ThresholdFailed => f.write_str("a threshold failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error wins over an interrupt, which wins over a failed threshold; none: exit 0.
    #[test]
    fn the_code_of_several_reasons() {
        use ExitReason::*;
        assert_eq!(ExitReason::code_of(&[]), None);
        assert_eq!(ExitReason::code_of(&[ThresholdFailed]), Some(EXIT_THRESHOLD));
        assert_eq!(ExitReason::code_of(&[Interrupted, ThresholdFailed]), Some(EXIT_INTERRUPTED));
        assert_eq!(ExitReason::code_of(&[ThresholdFailed, Interrupted, JourneysPanicked(2)]), Some(EXIT_ERROR));
        assert_eq!(ExitReason::code_of(&[HdrLogIncomplete]), Some(EXIT_ERROR));
        assert_eq!(ExitReason::code_of(&[PartInterrupted, ThresholdFailed]), Some(EXIT_INTERRUPTED));
        assert_eq!(ExitReason::code_of(&[PartInterrupted, SegmentsIncomplete]), Some(EXIT_ERROR));
    }

    #[test]
    fn each_reason_in_its_words() {
        assert_eq!(ExitReason::NotWritten(&["result"]).to_string(), "the result was not written");
        assert_eq!(
            ExitReason::NotWritten(&["result", "HTML report"]).to_string(),
            "the result and the HTML report were not written"
        );
        assert_eq!(ExitReason::JourneysPanicked(1).to_string(), "a journey panicked (its first panic is in the table)");
        assert_eq!(
            ExitReason::JourneysPanicked(12_000).to_string(),
            "journeys panicked 12,000 times (the first panic is in the table)"
        );
    }
}
