//! The progress lines at the command line: each interval printed once, the last one, cut
//! short by the end of the run or by an interrupt, printed and labelled as partial, and the
//! lines' transaction counts adding up to the result's.

mod support;
use support::{Scratch, engine, scenario, signal_when, text};

use std::path::Path;

use mite_tools::{Target, TargetOptions};

const EXIT_INTERRUPTED: i32 = 5;

/// One progress line: its time stamp as printed and its transaction count.
#[derive(Debug)]
struct Line {
    stamp: String,
    txn: u64,
    text: String,
    /// A line of the grace after the stop (journeys in flight finishing), not of an interval.
    grace: bool,
}

/// The progress lines among what the engine said on standard error.
fn progress_lines(stderr: &str) -> Vec<Line> {
    stderr
        .lines()
        .filter(|line| line.starts_with('['))
        .map(|line| {
            let (stamp, rest) = line.split_once(']').expect("a progress line has a stamp");
            let words: Vec<&str> = rest.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "txn").unwrap_or_else(|| panic!("no txn count: {line}"));
            let txn = words[at - 1].replace(',', "").parse().unwrap_or_else(|e| panic!("{e}: {line}"));
            let grace = rest.trim_start().starts_with("grace: ");
            Line { stamp: stamp.trim_start_matches('[').trim().to_string(), txn, text: line.to_string(), grace }
        })
        .collect()
}

fn transactions_in(json: &Path) -> u64 {
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    result["totals"]["transactions"].as_u64().unwrap()
}

/// Each interval once: no stamp twice (a grace line may share its stamp with the stop's), and
/// the lines' transactions add up to the result's.
fn assert_each_interval_once(lines: &[Line], json: &Path, said: &str) {
    assert!(lines.len() >= 2, "{said}");
    for (i, line) in lines.iter().enumerate() {
        assert!(
            lines[..i].iter().all(|earlier| (&earlier.stamp, earlier.grace) != (&line.stamp, line.grace)),
            "[{}] printed twice:\n{said}",
            line.stamp
        );
    }
    let sum: u64 = lines.iter().map(|l| l.txn).sum();
    assert_eq!(sum, transactions_in(json), "the progress lines' txn counts against the result's:\n{said}");
}

fn engine_args(target: &Target, file: &str, json: &Path, more: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--no-pin", "--tick", "1s", "--scenario", file, "--json", json.to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["--config".to_string(), format!("target_url={}", target.url("/"))]);
    args.extend(more.iter().map(|s| s.to_string()));
    args
}

/// A volume model that ends just before a tick: that tick's line, then the few milliseconds
/// of journeys finishing. Before, those milliseconds were folded into the tick's interval and
/// the line printed again (`[3.0s]` twice, the second counting the interval twice).
#[test]
fn a_volume_model_that_ends_prints_each_interval_once() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let file = scratch.file("ends.toml");
    std::fs::write(
        &file,
        "[journeys.get]\nsteps = [{ url = \"{target_url}\" }]\n\n[[scenario]]\njourney = \"get\"\n\
         volume = { constant = 8, duration = \"2500ms\" }\n",
    )
    .unwrap();
    let json = scratch.file("r.json");
    let args = engine_args(&target, file.to_str().unwrap(), &json, &["--cores", "1", "--duration", "10s"]);
    let out = engine(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let lines = progress_lines(&String::from_utf8_lossy(&out.stderr));
    assert_each_interval_once(&lines, &json, &said);
    let last = lines.last().unwrap();
    assert!(last.text.contains("partial") && last.text.contains("to the end"), "{said}");
    assert!(lines[..lines.len() - 1].iter().all(|l| !l.text.contains("partial")), "{said}");
}

/// The brief's case: `--duration 3s --tick 1s` on two cores (one core's tick at 3.0 s, the
/// other's last snapshot after it) printed `[3.0s]` twice in most runs.
#[test]
fn a_short_run_on_two_cores_prints_each_interval_once() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("r.json");
    let cores = if mite_core::model::cores::available().len() >= 2 { "2" } else { "1" };
    let args = engine_args(&target, &scenario("get.toml"), &json, &["--cores", cores, "--duration", "3s"]);
    let out = engine(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let lines = progress_lines(&String::from_utf8_lossy(&out.stderr));
    assert_each_interval_once(&lines, &json, &said);
    assert_eq!(transactions_in(&json), target.hits(), "every request the target saw is in the result");
}

/// After an interrupt, the piece of interval before the stop is a line of its own, labelled
/// partial, with counts (it was folded into the last whole interval, printed a second time).
#[test]
fn an_interrupt_prints_the_partial_interval_once_and_says_so() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("r.json");
    let args = engine_args(&target, &scenario("get.toml"), &json, &["--cores", "1", "--duration", "60s"]);
    // The interrupt comes right after the first line: a piece of the second interval. Any first
    // line: on a loaded machine a core's late report labels it `[    1.1s]`, and waiting for
    // `[    1.0s]` ran the whole 60 s.
    let first_line = |said: &str| said.lines().any(|line| line.starts_with('[') && line.contains("s] ok "));
    let (out, took) = signal_when(&args, libc::SIGINT, first_line);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{said}");
    assert!(took.as_secs() < 10, "{took:?}");
    let lines = progress_lines(&String::from_utf8_lossy(&out.stderr));
    assert_each_interval_once(&lines, &json, &said);
    // The piece up to the stop (the grace's lines, when journeys were in flight, follow it).
    let cut = lines.iter().rev().find(|line| !line.grace).unwrap();
    assert!(cut.text.contains("partial") && !cut.text.contains("/s"), "counts, not rates: {said}");
    assert_eq!(transactions_in(&json), target.hits(), "every request the target saw is in the result");
}

/// Outside try 5: the progress lines said `grace ...` and `partial ... to the stop`, while the
/// result file's `intervals[]` had no mark of its own: a reader took the grace's pieces (no
/// journey starting, rates falling) for the run's. Each interval now says its `phase`, in the
/// order they come (run, then stop, then grace), matching the lines.
#[test]
fn the_result_file_says_which_intervals_are_the_grace() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let file = scratch.file("slow.toml");
    std::fs::write(
        &file,
        "[journeys.slow]\nsteps = [{ url = \"{target_url}delay/700\" }]\n\n[[scenario]]\njourney = \"slow\"\n\
         volume = { constant = 2 }\n",
    )
    .unwrap();
    let json = scratch.file("r.json");
    let mut args = engine_args(&target, file.to_str().unwrap(), &json, &["--cores", "1", "--duration", "1100ms"]);
    let at = args.iter().position(|a| a == "1s").unwrap();
    args[at] = "200ms".into();
    args.extend(["--grace".to_string(), "5s".to_string()]);
    let out = engine(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let lines = progress_lines(&String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let phases: Vec<&str> = result["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["phase"].as_str().unwrap_or_else(|| panic!("no phase: {i}")))
        .collect();
    let rank = |phase: &str| ["run", "stop", "grace"].iter().position(|p| *p == phase).expect(phase);
    assert!(phases.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "{phases:?}\n{said}");
    assert_eq!(phases.first(), Some(&"run"), "{phases:?}");
    let grace_lines = lines.iter().filter(|l| l.grace).count();
    // Journeys started at 0.7 s end at 1.4 s: the grace runs 300 ms, one or two pieces (a piece
    // shorter than half a tick is folded into the one before, which lists it in `folded`).
    let folded_grace = result["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["folded"].as_array().cloned().unwrap_or_default())
        .filter(|piece| piece["phase"] == "grace")
        .count();
    let grace_intervals = phases.iter().filter(|p| **p == "grace").count() + folded_grace;
    assert!(grace_lines >= 1 && (1..=grace_lines).contains(&grace_intervals), "{phases:?}\n{said}");
    let whole_lines = lines.iter().filter(|l| !l.grace && !l.text.contains("partial")).count();
    assert!(phases.iter().filter(|p| **p == "run").count() <= whole_lines, "{phases:?}\n{said}");
}

/// A 1 s run's one interval read `phase: "grace"`: the few milliseconds of grace after the
/// stop, folded into it, gave it their phase. It is the run's interval (most of its time), and
/// says what was folded in: `folded: [{phase: "grace", seconds}]`, the grace's progress line.
#[test]
fn a_one_second_runs_interval_is_the_run_with_the_grace_folded_in() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("r.json");
    let args = engine_args(&target, &scenario("get.toml"), &json, &["--cores", "1", "--duration", "1s"]);
    let out = engine(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let intervals = result["intervals"].as_array().unwrap();
    assert_eq!(intervals.len(), 1, "{intervals:?}\n{said}");
    assert_eq!(intervals[0]["phase"], "run", "{intervals:?}\n{said}");
    let grace_line = progress_lines(&String::from_utf8_lossy(&out.stderr)).into_iter().find(|l| l.grace);
    match grace_line {
        // Journeys were in flight at the stop: the grace's piece is folded in, with its length.
        Some(line) => {
            let folded = intervals[0]["folded"].as_array().unwrap_or_else(|| panic!("{intervals:?}\n{said}"));
            assert_eq!(folded.len(), 1, "{folded:?}");
            assert_eq!(folded[0]["phase"], "grace", "{folded:?}");
            let seconds = folded[0]["seconds"].as_f64().unwrap();
            assert!(seconds > 0.0 && seconds < 0.5, "{folded:?}: {}", line.text);
        }
        None => assert!(intervals[0].get("folded").is_none(), "{intervals:?}\n{said}"),
    }
}
