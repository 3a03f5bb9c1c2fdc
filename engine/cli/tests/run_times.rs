//! A run's time figures at its end, found by an outside tester: the open model's arrivals
//! window (it ended at the last arrival, not at the rate model's end) and the progress lines
//! at the stop with journeys in flight (the piece before the stop and the grace were one line).

mod support;
use support::{Scratch, engine, text};

use std::path::{Path, PathBuf};
use std::process::Output;

use mite_tools::{Target, TargetOptions};

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs `volume` against `path` on the target, on one core, with a 1 s tick (unless `more` says
/// another) and `more`.
fn run(target: &Target, scratch: &Scratch, path: &str, volume: &str, more: &[&str]) -> (Output, PathBuf) {
    let file = scratch.file("s.toml");
    let toml = format!(
        "[journeys.g]\nsteps = [{{ transaction = \"g\", url = \"{}\" }}]\n\n[[scenario]]\njourney = \"g\"\nvolume = {volume}\n",
        target.url(path)
    );
    std::fs::write(&file, toml).unwrap();
    let json = scratch.file("r.json");
    let mut args = vec!["--cores", "1", "--no-pin", "--scenario", file.to_str().unwrap()];
    if !more.contains(&"--tick") {
        args.extend(["--tick", "1s"]);
    }
    args.extend(["--json", json.to_str().unwrap()]);
    args.extend(more);
    (engine(&args), json)
}

/// `rate_stages` of 100/s for 500 ms then 2/s for 1 s: 52 arrivals, the last at 1.0 s. The run
/// ended there (`completed` after 1.0 s, `arrivals over 1.00s: requested 52 (52/s)`), the last
/// stage's time dropped. It runs to the model's end, 1.5 s, and the rates are over 1.5 s.
#[test]
fn the_open_model_runs_to_its_end_and_its_window_is_its_span() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let volume =
        r#"{ rate_stages = [{ rate = 100, duration = "500ms" }, { rate = 2, duration = "1s" }], max_in_flight = 10 }"#;
    let (out, json) = run(&target, &scratch, "/", volume, &["--duration", "10s", "--grace", "200ms"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let result = read_json(&json);
    let arrivals = &result["totals"]["arrivals"];
    assert_eq!(arrivals["requested"], 52, "{said}");
    assert_eq!(arrivals["window_s"], 1.5, "the model's span, not its last arrival: {said}");
    assert_eq!(result["stopped_by"], "completed", "{said}");
    let duration_s = result["duration_s"].as_f64().unwrap();
    assert!((1.5..2.5).contains(&duration_s), "ran {duration_s} s: {said}");
    assert!(said.contains("arrivals over 1.50s: requested 52 (35/s), started 52"), "{said}");
    assert_eq!(result["totals"]["requests"], target.hits(), "every request the target saw is in the result");
}

/// `rate = 50` for 1 s with a 500 ms tick: the model ends on a tick, and the run's last piece
/// is the millisecond after it. Before, the scheduler ended at the last arrival (0.98 s,
/// `arrivals over 0.98s`), and the last piece's busy share of the stop's own work read `cpu
/// 100%  INJECTOR SATURATED`, with a warning that the injector was saturated.
#[test]
fn a_model_ending_on_a_tick_reads_its_rate_and_no_saturation() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let volume = r#"{ rate = 50, duration = "1s", max_in_flight = 10 }"#;
    let (out, json) = run(&target, &scratch, "/", volume, &["--duration", "10s", "--tick", "500ms"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("arrivals over 1.00s: requested 50 (50/s), started 50 (50/s), missed 0"), "{said}");
    let result = read_json(&json);
    let busy_max = result["injector"]["busy_percent_max"].as_f64().unwrap();
    assert!(busy_max < 50.0, "a core busy {busy_max}% in a run of 50 requests: {said}");
    assert!(!said.contains("busy 100%"), "{said}");
}

/// The stop's piece and the grace's lines among what the engine said.
fn progress_lines(said: &str) -> Vec<&str> {
    said.lines().filter(|line| line.starts_with('[')).collect()
}

/// The time a progress line is labelled with.
fn stamp_s(line: &str) -> f64 {
    line[1..line.find(']').unwrap()].trim().trim_end_matches('s').parse().unwrap()
}

/// Four journeys held by a silent route at the stop (1.3 s), with a 1 s grace: the piece of
/// interval from 1 s to the stop, then the grace (to 2 s, and to its end at 2.3 s). Before, one
/// `[2.3s]` line covered 1.0 to 2.3 s with rates, not labelled partial, and the grace had none.
#[test]
fn the_grace_after_the_stop_has_lines_of_its_own() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let more = ["--duration", "1300ms", "--grace", "1s"];
    let (out, json) = run(&target, &scratch, "/bad/silent", "{ constant = 4 }", &more);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let lines = progress_lines(&said);
    let stamps: Vec<f64> = lines.iter().map(|line| stamp_s(line)).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "lines out of order:\n{said}");
    assert!(lines.len() >= 3 && lines[0].starts_with("[    1.0s] ok "), "{said}");
    let stop = lines[1];
    assert!(stop.contains("partial") && stop.contains("to the stop:") && stop.contains("in flight 4 of 4"), "{said}");
    assert!((1.25..1.7).contains(&stamps[1]), "{said}");
    // The grace: a line at the tick it passes (2 s, unless a busy box was late to the stop),
    // and one at its end, each saying what it drains; the end cancels the four.
    let grace = &lines[2..];
    assert!(grace.len() <= 2, "{said}");
    let last = grace.last().unwrap();
    assert!(last.contains("] grace: over after ") && last.contains("s, 4 journeys cancelled; in "), "{said}");
    assert!(last.contains(": ok 0  err "), "{said}");
    if grace.len() == 2 {
        assert!(grace[0].contains("s left, 4 journeys in flight; in ") && grace[0].contains(": ok 0  err 0"), "{said}");
        assert!((1.95..2.3).contains(&stamps[2]), "{said}");
    }
    assert!(stamps.last().unwrap() - stamps[1] >= 0.95, "the grace's lines span its second: {said}");
    let result = read_json(&json);
    assert_eq!(result["totals"]["journeys"]["cancelled"], 4, "{said}");
    assert_eq!(result["totals"]["requests"], target.hits(), "every request the target saw is in the result");
}

/// A single-use datapool used up well before the duration ends: the run completed. Before, the
/// reason was guessed from the time (a core that stopped within 100 ms of the duration's end
/// was "stopped by its duration"), so a 100 ms run whose 5 rows were sent in a few ms said
/// `stopped_by: duration`; the cores now say why they stopped.
#[test]
fn a_run_that_used_up_its_data_just_before_the_end_completed() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let file = scratch.file("pool.toml");
    let toml = format!(
        "[datapools.ids]\nrows = [[1], [2], [3], [4], [5]]\ncolumns = [\"id\"]\nrecyclable = false\n\n\
         [journeys.g]\nsteps = [{{ transaction = \"g\", url = \"{}\" }}]\n\n\
         [[scenario]]\njourney = \"g\"\ndatapool = \"ids\"\nvolume = {{ constant = 2 }}\n",
        target.url("/{id}")
    );
    std::fs::write(&file, toml).unwrap();
    let json = scratch.file("r.json");
    let args = ["--cores", "1", "--no-pin", "--scenario", file.to_str().unwrap(), "--duration", "100ms"];
    // On a loaded machine one answer can stall past the 100 ms (the run is then rightly stopped
    // by its duration): such a try is run again, up to three in all.
    let mut stalled = Vec::new();
    for _ in 0..3 {
        let out = engine(&[&args[..], &["--json", json.to_str().unwrap()]].concat());
        let said = text(&out);
        assert_eq!(out.status.code(), Some(0), "{said}");
        let result = read_json(&json);
        let duration_s = result["duration_s"].as_f64().unwrap();
        if duration_s >= 0.1 {
            stalled.push(duration_s);
            continue;
        }
        assert_eq!(result["totals"]["requests"], 5, "{said}");
        assert_eq!(result["stopped_by"], "completed", "{said}");
        // In words on the terminal (it said `stopped by completed`).
        assert!(
            said.contains("s, stopped when its journeys were done: single-use datapool ids ran out of rows"),
            "{said}"
        );
        return;
    }
    panic!("5 requests took the whole 100 ms in each of three tries ({stalled:?} s)");
}

/// The same scenario with more rows than the duration lets it send: stopped by its duration.
#[test]
fn a_run_cut_by_its_duration_says_so() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let volume = r#"{ constant = 2 }"#;
    let (out, json) = run(&target, &scratch, "/", volume, &["--duration", "300ms"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert_eq!(read_json(&json)["stopped_by"], "duration", "{said}");
}
