//! What a new user still met after the last pass: inputs that are named pipes (compare, merge
//! and har convert waited for ever), `har convert -o` over an existing file, a completed run
//! that did not say why it completed, and `scenario test`'s silence on the file's thresholds.

mod support;
use support::{Scratch, engine, engine_within, says, text};

use std::process::Command;
use std::time::Duration;

/// `compare`, `merge` and `har convert` given a named pipe waited for ever for a writer: each
/// refuses it at once now, naming the path, as a scenario file or a datapool is refused.
#[test]
fn a_named_pipe_as_an_input_is_refused_at_once() {
    let scratch = Scratch::new();
    let fifo = scratch.file("r.json");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let fifo = fifo.display().to_string();
    let merged = scratch.file("m.json").display().to_string();
    let toml = scratch.file("s.toml").display().to_string();
    let runs: [&[&str]; 4] = [
        &["compare", &fifo, &fifo],
        &["merge", "-o", &merged, &fifo],
        &["har", "convert", &fifo, "-o", &toml],
        &["compare", "/dev/zero", &fifo],
    ];
    for args in runs {
        let out = engine_within(args, Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        let said = text(&out);
        let (path, kind) =
            if args.contains(&"/dev/zero") { ("/dev/zero", "a device") } else { (&fifo[..], "a named pipe") };
        assert!(said.contains(&format!("{path}: is {kind}, not a")), "{args:?}: {said}");
        assert!(said.contains("save it to a file and name that"), "{args:?}: {said}");
    }
    assert!(!scratch.file("m.json").exists() && !scratch.file("s.toml").exists(), "nothing written");
}

/// A run that ended `completed` did not say why: its volume models ended, or a single-use
/// datapool ran out of rows. The summary line and the result file say which now.
#[test]
fn a_completed_run_says_why_it_completed() {
    let scratch = Scratch::new();
    let target = mite_tools::Target::start(mite_tools::TargetOptions::default()).unwrap();
    let url = target.url("/");
    let cases = [
        (
            "[datapools.ids]\nrows = [[1], [2], [3]]\ncolumns = [\"id\"]\nrecyclable = false\n\
             [[scenario]]\njourney = \"get\"\ndatapool = \"ids\"\nvolume = { constant = 2 }\n",
            "single-use datapool ids ran out of rows",
        ),
        ("[[scenario]]\njourney = \"get\"\nvolume = { oneshot = 2 }\n", "every volume model ended"),
    ];
    for (i, (entries, why)) in cases.into_iter().enumerate() {
        let file =
            scratch.write(&format!("s{i}.toml"), format!("[journeys.get]\nsteps = [{{ url = \"{url}\" }}]\n{entries}"));
        let json = scratch.file(&format!("r{i}.json"));
        let json_path = json.display().to_string();
        let out = engine(&["--no-pin", "--scenario", &file, "--duration", "20s", "-q", "--json", &json_path]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let said = text(&out);
        assert!(said.contains(&format!("stopped when its journeys were done: {why}")), "{said}");
        let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(result["stopped_by"], "completed");
        assert_eq!(result["stopped_because"], why);
    }
}

/// `scenario test` ran a file with thresholds and said nothing of them: it gives a dry run's
/// verdict now, each threshold met or not, a rate's not judged, labelled as a dry run's, and
/// the exit code (0) counts none of them.
#[test]
fn scenario_test_gives_a_dry_run_verdict_on_the_files_thresholds() {
    let scratch = Scratch::new();
    let target = mite_tools::Target::start(mite_tools::TargetOptions::default()).unwrap();
    let toml = format!(
        "thresholds = [\"get_root:p99<30s\", \"get_root:p50<2us\", \"rps>1000000\"]\n\
         [journeys.get]\nsteps = [{{ transaction = \"get_root\", url = \"{}\" }}]\n\
         [[scenario]]\njourney = \"get\"\nvolume = {{ constant = 2 }}\n",
        target.url("/")
    );
    let file = scratch.write("s.toml", toml);
    let out = engine(&["scenario", "test", &file, "--duration", "300ms"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    // After the run's table, as a run's thresholds are.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (table, verdict) = (stdout.find("get_root").unwrap_or(usize::MAX), stdout.find("dry run's verdict"));
    assert!(verdict.is_some_and(|at| table < at), "{said}");
    assert!(said.contains("dry run's verdict on the thresholds (one core for"), "{said}");
    assert!(said.contains("threshold get_root:p99<30s: met by the dry run (actual "), "{said}");
    assert!(said.contains("threshold get_root:p50<2us: NOT met by the dry run (actual "), "{said}");
    assert!(said.contains("threshold rps>1000000: not judged by a dry run"), "{said}");
}

/// `har convert -o FILE` over an existing file: replaced, as a run's `--json` and `merge -o`
/// are (no command refuses an existing output, nor has a `--force`), its mode kept, and said;
/// `-o` naming the recording itself is refused (it would lose the recording).
#[test]
fn har_convert_over_an_existing_file_replaces_it_and_says_so() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new();
    let har = scratch.file("r.har");
    std::fs::write(
        &har,
        r#"{"log":{"version":"1.2","entries":[{"request":{"method":"GET","url":"http://127.0.0.1:8080/caf%C3%A9?q=x%20y",
        "headers":[{"name":"X-Name","value":"José Ünïcode"}]},"response":{"status":200,"headers":[],"content":{"mimeType":"text/html"}}}]}}"#,
    )
    .unwrap();
    let toml = scratch.file("s.toml");
    std::fs::write(&toml, "edited by hand\n").unwrap();
    std::fs::set_permissions(&toml, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (har_path, toml_path) = (har.display().to_string(), toml.display().to_string());
    let out = engine(&["har", "convert", &har_path, "-o", &toml_path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&format!("-> {toml_path} (the file there replaced)")), "{}", text(&out));
    let written = std::fs::read_to_string(&toml).unwrap();
    assert!(written.contains("X-Name = \"José Ünïcode\"") && written.contains("caf%C3%A9?q=x%20y"), "{written}");
    assert_eq!(std::fs::metadata(&toml).unwrap().permissions().mode() & 0o777, 0o640);
    // A new file is not said to replace anything; the recording itself is refused.
    let fresh = scratch.file("new.toml").display().to_string();
    let out = engine(&["har", "convert", &har_path, "-o", &fresh]);
    assert!(!text(&out).contains("replaced"), "{}", text(&out));
    let out = engine(&["har", "convert", &har_path, "-o", &har_path]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(std::fs::read_to_string(&har).unwrap().starts_with("{\"log\""));
}

/// `journey test J POOL` on a pool of 3 rows said "--rows 10 asked for more" of a flag never
/// given (10 is the default): said only when `--rows` is.
#[test]
fn journey_test_blames_no_rows_flag_it_was_not_given() {
    let scratch = Scratch::new();
    let file = scratch.write(
        "s.toml",
        "[datapools.ids]\nrows = [[1], [2], [3]]\ncolumns = [\"id\"]\n\
         [journeys.j]\nsteps = [{ url = \"http://127.0.0.1:1/{id}\" }]\n",
    );
    let out = engine(&["journey", "test", "j", "ids", "--scenario", &file]);
    assert!(text(&out).contains("journey j row 3:") && !text(&out).contains("asked for more"), "{}", text(&out));
    let out = engine(&["journey", "test", "j", "ids", "--scenario", &file, "--rows", "10"]);
    assert!(text(&out).contains("ids holds 3 rows: running every one (--rows 10 asked for more)"), "{}", text(&out));
}

/// `compare r.json r.json` (or a copy of it) said "no regression" as of two runs: it says
/// the run is compared with itself.
#[test]
fn compare_says_when_a_run_is_compared_with_itself() {
    let scratch = Scratch::new();
    let target = mite_tools::Target::start(mite_tools::TargetOptions::default()).unwrap();
    let toml = format!(
        "[journeys.get]\nsteps = [{{ url = \"{}\" }}]\n[[scenario]]\njourney = \"get\"\nvolume = {{ oneshot = 3 }}\n",
        target.url("/")
    );
    let file = scratch.write("s.toml", toml);
    let (json, copy) = (scratch.file("r.json"), scratch.file("copy.json"));
    let json_path = json.display().to_string();
    let out = engine(&["--no-pin", "--scenario", &file, "--duration", "10s", "-q", "--json", &json_path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::copy(&json, &copy).unwrap();
    let out = engine(&["compare", &json_path, &copy.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    says(&out, "note: BASE and NEW are the same run (run_id ");
    says(&out, "): it is compared with itself");
    // A merge of that run alone is that run: said so, whichever side it is on.
    let merged = scratch.file("m.json").display().to_string();
    let out = engine(&["merge", "-o", &merged, &json_path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for (base, new, merge) in [(&json_path, &merged, "NEW"), (&merged, &json_path, "BASE")] {
        let out = engine(&["compare", base, new]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        says(&out, &format!("; {merge} is a merge of it alone): it is compared with itself"));
    }
}

/// `journey run J ONE` of a single-use pool of one row ran its one journey, and said the pool
/// had run out: the run ended because its one journey was done, as with a larger pool.
#[test]
fn a_journey_run_of_a_one_row_pool_ended_with_its_model() {
    let scratch = Scratch::new();
    let file = scratch.write(
        "s.toml",
        "[datapools.one]\nrows = [[1]]\ncolumns = [\"id\"]\nrecyclable = false\n\
         [journeys.j]\nsteps = [{ url = \"http://127.0.0.1:1/{id}\" }]\n",
    );
    let out = engine(&["journey", "run", "j", "one", "--scenario", &file]);
    assert!(text(&out).contains("stopped when its journeys were done: every volume model ended"), "{}", text(&out));
}

/// A recyclable pool of one row on two cores: the core it gives no row ends its entry at
/// once, which read as "single-use datapool one ran out of rows" of a pool that is not
/// single-use; the run ended with its volume model.
#[test]
fn a_recyclable_pool_is_never_said_to_have_run_out() {
    let scratch = Scratch::new();
    let target = mite_tools::Target::start(mite_tools::TargetOptions::default()).unwrap();
    let toml = format!(
        "[datapools.one]\nrows = [[1]]\ncolumns = [\"id\"]\n[journeys.j]\nsteps = [{{ url = \"{}\" }}]\n\
         [[scenario]]\njourney = \"j\"\ndatapool = \"one\"\nvolume = {{ constant = 2, duration = \"300ms\" }}\n",
        target.url("/{id}")
    );
    let file = scratch.write("s.toml", toml);
    let out = engine(&["--cores", "2", "--no-pin", "--scenario", &file, "--duration", "10s", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("stopped when its journeys were done: every volume model ended"), "{}", text(&out));
}
