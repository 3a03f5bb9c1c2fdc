//! What a new user still met after the last pass: inputs that are named pipes (compare, merge
//! and har convert waited for ever), `har convert -o` over an existing file, a completed run
//! that did not say why it completed, and `scenario test`'s silence on the file's thresholds.

mod support;
use support::{Scratch, engine, text};

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `mite-engine` with `args`, killed after `limit` (a hang is then a failed test, not a
/// test run that never ends).
fn engine_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mite-engine");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            child.kill().expect("kill");
            let out = child.wait_with_output().expect("output");
            panic!("mite-engine {args:?} still ran after {limit:?}: {}", text(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

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

