//! What a new user met trying the command line from outside: the demo's flags against its
//! `--config`, `compare`'s figures said whose, a threshold's corrected latency said so, the
//! target's `--addr` in words.

mod support;
use support::{Scratch, engine, get_run, says, scenario, text};

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use mite_tools::{Target, TargetOptions};

/// Asserts that what a command printed starts with `words` (all of it shown when not).
fn begins_with(out: &std::process::Output, words: &str) {
    assert!(text(out).starts_with(words), "{}", text(out));
}

/// `demo --journeys 5 --config journeys=7` ran with 7, saying 5 in flight: refused now, naming
/// both (exit 2). `--config target_url=` would have sent the demo's load elsewhere: refused.
#[test]
fn the_demo_refuses_two_counts_of_journeys_and_another_target() {
    let out = engine(&["demo", "--journeys", "5", "--config", "journeys=7", "--duration", "100ms", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("--journeys 5 and --config \"journeys=7\" both say how many journeys"), "{said}");
    assert!(!said.contains("demo: embedded target"), "refused before the demo starts: {said}");
    let out = engine(&["demo", "--config", "target_url=http://127.0.0.1:1/", "--duration", "100ms", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    says(&out, "the demo sends its requests to its own embedded target");
}

/// `demo --journeys -1` said "unexpected argument '-1' found", `abc` "invalid digit found in
/// string", and 0 ran a demo of nothing: each a usage error in words now (exit 2).
#[test]
fn the_demo_says_what_journeys_it_takes() {
    for value in ["-1", "0", "abc", "1.5", ""] {
        let out = engine(&["demo", "--journeys", value, "--duration", "100ms", "-q"]);
        assert_eq!(out.status.code(), Some(2), "{value:?}: {}", text(&out));
        let said = text(&out);
        assert!(
            said.starts_with(&format!("error: --journeys {value:?}: must be a whole number from 1 to 102,400,000")),
            "{value:?}: {said}"
        );
        assert!(!said.contains("invalid digit") && !said.contains("unexpected argument"), "{said}");
    }
}

/// The demo warned about its own `target_url` (`--config target_url=http://127.0.0.1:…/ was
/// never read by the scenario`) when no journey ran to read it: a key the user never gave.
/// The user's own unread keys are still warned about; `--config journeys=N` is the count said.
#[test]
fn the_demo_warns_only_of_keys_the_user_gave() {
    let out = engine(&["demo", "--config", "journeys=0", "--config", "nope=1", "--duration", "100ms", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(!said.contains("target_url="), "{said}");
    assert!(said.contains("WARNING: --config nope=1 was never read by the scenario"), "{said}");
    assert!(said.contains(", 0 journeys in flight"), "{said}");
}

/// `compare` showed figures without saying whose: the header says they are NEW's, and what
/// each Δ is.
#[test]
fn compare_says_whose_figures_it_shows() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let (old, new) = (scratch.file("old.json"), scratch.file("new.json"));
    for file in [&old, &new] {
        get_run(&target, "200ms", file, &[]);
    }
    let out = engine(&["compare", &old.display().to_string(), &new.display().to_string(), "--max-regression", "1000%"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = shown.lines().collect();
    assert!(lines[0].starts_with("BASE ") && lines[1].starts_with("NEW  "), "{shown}");
    assert!(
        lines[2].starts_with("figures: NEW's (count, txn/s, latencies, err %); each Δ: NEW's change from BASE"),
        "{shown}"
    );
}

/// A threshold on an open model judges the latency from the intended start: its line says so
/// (`actual 0.40ms (corrected: from the intended start)`), where it read as the plain times.
#[test]
fn a_threshold_on_an_open_model_says_its_latency_is_corrected() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let file = one_step_scenario(&scratch, "open", "fast", &target.url("/"), "{ rate = 50, duration = \"200ms\" }");
    let out = engine(&[
        "--no-pin",
        "--scenario",
        &file.display().to_string(),
        "-q",
        "--threshold",
        "fast:p99<10s",
        "--threshold",
        "p50<10s",
        "--threshold",
        "errors<1%",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    for threshold in ["fast:p99<10s", "p50<10s"] {
        let line = said.lines().find(|l| l.starts_with(&format!("threshold {threshold}: pass"))).unwrap_or_default();
        assert!(line.ends_with("ms (corrected: from the intended start))"), "{threshold}: {said}");
    }
    assert!(!said.contains("errors<1%: pass (actual 0.000% (corrected"), "{said}");
}

/// `target --addr localhost:8081` was "invalid socket address syntax": localhost is
/// 127.0.0.1 now; another name is refused in words (exit 2).
#[test]
fn the_target_takes_localhost_and_says_what_else_to_write() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["target", "--addr", "localhost:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut banner).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(banner.starts_with("target listening on http://127.0.0.1:"), "{banner}");
    assert!(!banner.contains("WARNING"), "{banner}");
    let out = engine(&["target", "--addr", "example.invalid:8081"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    begins_with(
        &out,
        "error: --addr \"example.invalid:8081\" is not an IP address and port: write e.g. 127.0.0.1:8080",
    );
    let out = engine(&["target", "--addr", "localhost:http"]);
    begins_with(&out, "error: --addr \"localhost:http\": the port must be a whole number");
}

/// `--html users.toml` (the scenario file given to `--scenario`) overwrote the scenario with
/// the report after the run; `--json users.csv` would have overwritten its datapool. Refused
/// before the run now (exit 1), the files left as they were.
#[test]
fn no_output_overwrites_the_scenario_or_its_datapool() {
    let scratch = Scratch::new();
    let (toml, csv) = (scratch.file("users.toml"), scratch.file("users.csv"));
    std::fs::copy(scenario("users.toml"), &toml).unwrap();
    std::fs::copy(scenario("users.csv"), &csv).unwrap();
    let (toml_text, csv_text) = (std::fs::read(&toml).unwrap(), std::fs::read(&csv).unwrap());
    let dotted = scratch.path().join(".").join("users.csv");
    for (flag, path) in [("--html", &toml), ("--json", &csv), ("--hdr-log", &dotted)] {
        let path = path.display().to_string();
        let out = engine(&["--scenario", &toml.display().to_string(), "--duration", "100ms", "-q", flag, &path]);
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", text(&out));
        says(&out, &format!("error: {flag} {path}: is one of the inputs"));
        assert!(!text(&out).contains("running on cores"), "refused before the run: {}", text(&out));
    }
    assert_eq!((std::fs::read(&toml).unwrap(), std::fs::read(&csv).unwrap()), (toml_text, csv_text));
}

/// A 1 s run of a ramp from 0 (the volume model is read once a tick: none in the first)
/// started nothing and ended with exit 0 and an empty table, saying nothing: a warning says
/// so now, and the result file keeps it. A tick short enough starts journeys, unwarned.
#[test]
fn a_run_that_started_no_journey_says_so() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let volume = "{ ramp = { from = 0, to = 80, duration = \"5s\" } }";
    let file = one_step_scenario(&scratch, "ramp", "t", &target.url("/"), volume);
    let json = scratch.file("r.json").display().to_string();
    let run = |tick: &str| {
        let args =
            ["--no-pin", "--scenario", &file.display().to_string(), "--duration", "300ms", "-q", "--json", &json];
        engine(&[&args[..], &["--tick", tick]].concat())
    };
    let out = run("300ms");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = "WARNING: the run started no journey in its 0.30s: nothing was measured";
    says(&out, said);
    assert!(std::fs::read_to_string(&json).unwrap().contains("the run started no journey"));
    let out = run("50ms");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("started no journey"), "{}", text(&out));
}

/// `--config base=http://127.0.0.1:8080/` (README's `target_url` example ends in `/`) under a
/// step `url = "{base}/json"` sent `GET //json`, silently. Warned now, at the step's line;
/// a base without the `/` is not, nor a `//` in the query.
#[test]
fn a_url_with_an_empty_path_segment_is_warned_about() {
    let scratch = Scratch::new();
    let file = scratch.write(
        "s.toml",
        "name = \"s\"\n[journeys.j]\nsteps = [\n  { transaction = \"a\", url = \"{base}/json\" },\n  \
         { transaction = \"b\", url = \"http://127.0.0.1:1/x?next=http://h//y\" },\n]\n\
         [[scenario]]\njourney = \"j\"\nvolume = { oneshot = 1 }\n",
    );
    let check = |base: &str| engine(&["scenario", "check", &file, "--config", base]);
    let out = check("base=http://127.0.0.1:8080/");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("s.toml:4: journeys.j.steps[0].url: renders as http://127.0.0.1:8080//json, whose path has an empty segment (//)"),
        "{said}"
    );
    assert_eq!(said.matches("empty segment").count(), 1, "{said}");
    let out = check("base=http://127.0.0.1:8080");
    assert!(!text(&out).contains("empty segment"), "{}", text(&out));
}

/// `NAME.toml` in `scratch`: a scenario `NAME` of one journey `j`, one GET of `url` as
/// `transaction`, driven by `volume` (an inline TOML table).
fn one_step_scenario(scratch: &Scratch, name: &str, transaction: &str, url: &str, volume: &str) -> std::path::PathBuf {
    let file = scratch.file(&format!("{name}.toml"));
    let text = format!(
        "name = \"{name}\"\n[journeys.j]\nsteps = [ {{ transaction = \"{transaction}\", url = \"{url}\" }} ]\n\
         [[scenario]]\njourney = \"j\"\nvolume = {volume}\n"
    );
    std::fs::write(&file, text).unwrap();
    file
}

/// The `//` check rendered a URL from the configuration alone: one that read a datapool column
/// (`{host}/json` with a row's `host` ending in `/`) or a capture (`{base}/items/{id}` with a
/// base ending in `/`) was never looked at. Now the first rows of the entry's pool and the
/// captures (standing in as `capture`) are rendered too; a `//` in a query, in a URL carried
/// in the path, or a capture that is the whole URL, is not warned about.
#[test]
fn a_url_from_a_datapool_row_or_a_capture_is_checked_for_an_empty_path_segment() {
    let scratch = Scratch::new();
    scratch.write(
        "p.csv",
        "host,next\nhttp://127.0.0.1:8080,http://127.0.0.1:1/x\nhttp://127.0.0.1:8081/,http://127.0.0.1:1/y\n",
    );
    let file = scratch.write(
        "s.toml",
        "name = \"s\"\n[datapools.p]\ncsv = \"p.csv\"\n[journeys.j]\nsteps = [\n  \
         { transaction = \"a\", url = \"{host}/json\", capture = { id = { json = \"id\" } } },\n  \
         { transaction = \"b\", url = \"{root}/items/{id}\" },\n  \
         { transaction = \"c\", url = \"{base}/go/{+next}?u={next}\" },\n  \
         { transaction = \"d\", url = \"{id}\" },\n]\n\
         [[scenario]]\njourney = \"j\"\ndatapool = \"p\"\nvolume = { oneshot = 1 }\n",
    );
    let out = engine(&[
        "scenario",
        "check",
        &file,
        "--config",
        "base=http://127.0.0.1:8080",
        "--config",
        "root=http://127.0.0.1:8080/",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(
            "s.toml:6: journeys.j.steps[0].url: renders as http://127.0.0.1:8081//json with row 2 of datapool p, whose \
             path has an empty segment (//)"
        ),
        "{said}"
    );
    assert!(
        said.contains(
            "s.toml:7: journeys.j.steps[1].url: renders as http://127.0.0.1:8080//items/capture with captures \
             standing in as \"capture\", whose path has an empty segment (//)"
        ),
        "{said}"
    );
    assert_eq!(said.matches("empty segment").count(), 2, "{said}");
}

/// `--hdr-log` on a full disk refused the run (its header could not be written) and left an
/// empty log file behind, as if one had been written. A full disk stood in by a file size
/// limit of 0 (`ulimit -f 0`, SIGXFSZ ignored: a write fails with EFBIG): the run is refused,
/// exit 1, naming the flag, and the file it created is gone.
#[test]
fn an_hdr_log_whose_header_cannot_be_written_is_not_left_behind() {
    let scratch = Scratch::new();
    let log = scratch.file("r.hdr");
    let script = "trap '' XFSZ; ulimit -f 0; exec \"$0\" --scenario \"$1\" --duration 1s -q \
                  --config target_url=http://127.0.0.1:1/ --hdr-log \"$2\"";
    let out = Command::new("sh")
        .args(["-c", script, env!("CARGO_BIN_EXE_mite-engine"), &scenario("get.toml"), &log.display().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    says(&out, &format!("error: --hdr-log {}: ", log.display()));
    assert!(!log.exists(), "an empty log left behind: {}", text(&out));
}

/// `scenario test` of a file saying `duration = "300ms"` ran 10 s, its own default, over the
/// file's. The file's duration is taken when shorter than 10 s; `--duration` still wins.
#[test]
fn scenario_test_takes_the_files_shorter_duration() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let file = one_step_scenario(&scratch, "brief", "get", &target.url("/"), "{ constant = 1 }");
    let text_of = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("duration = \"300ms\"\n{text_of}")).unwrap();
    let path = file.display().to_string();
    let started = std::time::Instant::now();
    let out = engine(&["scenario", "test", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "ran {:?}: {}", started.elapsed(), text(&out));
    says(&out, "for up to 0.3s");
    let out = engine(&["scenario", "test", &path, "--duration", "200ms"]);
    says(&out, "for up to 0.2s");
}

/// `compare a.json b.json --html a.json` wrote the comparison page over the result a.json it
/// had just read: a result lost. Refused now before anything is read (exit 1), naming the
/// flag, as a run's and merge's outputs are; a page whose directory does not exist is refused
/// before the tables too, no longer after them.
#[test]
fn compare_does_not_write_its_page_over_a_result_it_compares() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let (old, new) = (scratch.file("old.json"), scratch.file("new.json"));
    for file in [&old, &new] {
        get_run(&target, "100ms", file, &[]);
    }
    let kept = std::fs::read(&old).unwrap();
    let (old_shown, new_shown) = (old.display().to_string(), new.display().to_string());
    let out = engine(&["compare", &old_shown, &new_shown, "--max-regression", "1000%", "--html", &old_shown]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    says(&out, &format!("error: --html {old_shown}: is one of the inputs"));
    assert_eq!(std::fs::read(&old).unwrap(), kept, "the result was overwritten");
    let missing = scratch.path().join("no/such/dir/page.html").display().to_string();
    let out = engine(&["compare", &old_shown, &new_shown, "--max-regression", "1000%", "--html", &missing]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(out.stdout.is_empty(), "tables shown before the refusal: {}", text(&out));
}

/// `har convert rec.har -o rec.har` wrote the scenario over the recording (exit 0): the
/// recording lost. Refused now (exit 1), the recording kept; a full disk (a file size limit
/// of 0 standing in) leaves no half-written scenario file and says it was not written.
#[test]
fn har_convert_does_not_write_over_its_recording() {
    let scratch = Scratch::new();
    let har = scratch.file("rec.har");
    let recording =
        r#"{"log": {"entries": [{"request": {"method": "GET", "url": "http://127.0.0.1:9/", "headers": []}}]}}"#;
    std::fs::write(&har, recording).unwrap();
    let shown = har.display().to_string();
    let out = engine(&["har", "convert", &shown, "-o", &shown]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    says(&out, &format!("error: -o {shown}: is one of the inputs"));
    assert_eq!(std::fs::read_to_string(&har).unwrap(), recording, "the recording was overwritten");
    let toml = scratch.file("rec.toml");
    let out = Command::new("sh")
        .args(["-c", "trap '' XFSZ; ulimit -f 0; exec \"$0\" har convert \"$1\" -o \"$2\""])
        .args([env!("CARGO_BIN_EXE_mite-engine"), &shown, &toml.display().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    says(&out, "the scenario file was NOT written");
    assert!(!toml.exists(), "a half-written scenario file: {}", text(&out));
}

/// `journey run J P --scenario s.toml --json s.toml` wrote the result over the scenario file
/// it had run (a load run refused that), and `--json users.csv` over its datapool: refused now
/// before the first request (exit 1), both files kept.
#[test]
fn journey_run_does_not_write_its_result_over_its_scenario_or_datapool() {
    let scratch = Scratch::new();
    let file = one_step_scenario(&scratch, "one", "get", "http://127.0.0.1:1/{id}", "{ oneshot = 1 }");
    let written = std::fs::read_to_string(&file)
        .unwrap()
        .replace("[[scenario]]", "[datapools.p]\ncsv = \"p.csv\"\n[[scenario]]")
        .replace("journey = \"j\"", "journey = \"j\"\ndatapool = \"p\"");
    std::fs::write(&file, &written).unwrap();
    let csv = scratch.file("p.csv");
    std::fs::write(&csv, "id\n1\n").unwrap();
    let path = file.display().to_string();
    for output in [path.clone(), csv.display().to_string()] {
        let out = engine(&["journey", "run", "j", "p", "--scenario", &path, "--json", &output]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        says(&out, &format!("error: --json {output}: is one of the inputs"));
        assert!(!text(&out).contains("requests"), "it ran: {}", text(&out));
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), written);
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "id\n1\n");
}

/// `har convert /dev/zero -o s.toml` read until memory ran out (`reading /dev/zero: out of
/// memory` under a limit, the OOM killer without one): a device is refused in words now, before
/// it is read (and a regular file is read up to a bound, `output::tests::reading_is_bounded`).
#[test]
fn har_convert_reads_a_bounded_recording() {
    let scratch = Scratch::new();
    let toml = scratch.file("s.toml").display().to_string();
    let out = Command::new("sh")
        .args(["-c", "ulimit -v 4000000; exec \"$0\" har convert /dev/zero -o \"$1\""])
        .args([env!("CARGO_BIN_EXE_mite-engine"), &toml])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    says(&out, "error: /dev/zero: is a device, not a HAR recording (reading it may never end)");
}

/// `journey test J P --rows 9` on a pool of 4 rows ran 4 without a word, as if 5 had gone
/// missing: it says the pool holds 4 and that every one runs.
#[test]
fn journey_test_says_when_the_pool_holds_fewer_rows_than_asked() {
    let scratch = Scratch::new();
    let target = Target::start(TargetOptions::default()).unwrap();
    let file = one_step_scenario(&scratch, "rows", "get", &target.url("/?id={id}"), "{ oneshot = 1 }");
    let written = std::fs::read_to_string(&file)
        .unwrap()
        .replace("[[scenario]]", "[datapools.ids]\nrange = { from = 1, to = 4 }\ncolumn = \"id\"\n[[scenario]]")
        .replace("journey = \"j\"", "journey = \"j\"\ndatapool = \"ids\"");
    std::fs::write(&file, written).unwrap();
    let path = file.display().to_string();
    let out = engine(&["journey", "test", "j", "ids", "--scenario", &path, "--rows", "9"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    says(&out, "ids holds 4 rows: running every one (--rows 9 asked for more)");
    says(&out, "journeys started 4, ok 4");
    // The table's heading names the driver (it read `(own)` alone).
    says(&out, "\njourney test of j on one core, with the ");
    assert!(!text(&out).lines().any(|line| line.starts_with('(') && line.ends_with(')')), "{}", text(&out));
    let out = engine(&["journey", "test", "j", "ids", "--scenario", &path, "--rows", "4"]);
    assert!(!text(&out).contains("holds"), "{}", text(&out));
}
