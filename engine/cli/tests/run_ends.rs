//! Issue 10: a run always ends on time and never loses its result (signals, output paths,
//! the Prometheus linger, bad names and URLs, panics from input), at the command line.

mod support;
use support::{Scratch, engine, is_root, scenario, signal_when, text, wait_for_hits};

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mite_tools::{Target, TargetOptions};

const EXIT_INTERRUPTED: i32 = 5;

fn get_args(target: &Target) -> Vec<String> {
    ["--cores", "1", "--no-pin", "--scenario", &scenario("get.toml"), "-q", "--config"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("target_url={}", target.url("/"))])
        .collect()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// SIGTERM (Kubernetes) and SIGHUP stop the run like the first Ctrl-C: grace, table, JSON
/// with the stop reason, and the interrupted exit code.
#[test]
#[allow(unsafe_code)]
fn sigterm_and_sighup_stop_gracefully_and_write_the_result() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGHUP, "SIGHUP")] {
        let json = dir.join(format!("{name}.json"));
        let hits_before = target.hits();
        let child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
            .args(get_args(&target))
            .args(["--duration", "60s", "--json", json.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_hits(&target, hits_before, name);
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
        let sent = Instant::now();
        let out = child.wait_with_output().unwrap();
        assert!(sent.elapsed() < Duration::from_secs(10), "{name}: the stop took {:?}", sent.elapsed());
        assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{name}: {}", text(&out));
        assert!(text(&out).contains("stopped by an interrupt (SIGINT, SIGTERM or SIGHUP)"), "{name}: {}", text(&out));
        let result = read_json(&json);
        assert_eq!(result["stopped_by"], "interrupted", "{name}");
        let requests = result["totals"]["requests"].as_u64().unwrap();
        assert!(requests > 0, "{name}");
        assert_eq!(requests, target.hits() - hits_before, "{name}: every request accounted for");
    }
}

/// An unwritable `--json` or `--html` is found before the first request, not after the run.
#[test]
fn unwritable_outputs_fail_before_any_request() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    for flag in ["--json", "--html", "--hdr-log"] {
        let missing = dir.join("no-such-dir").join("out");
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
            .args(get_args(&target))
            .args(["--duration", "30s", flag, missing.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", text(&out));
        assert!(text(&out).contains(flag) && text(&out).contains("no-such-dir"), "{flag}: {}", text(&out));
        assert!(started.elapsed() < Duration::from_secs(10), "{flag}: exited only after the run");
        assert_eq!(target.hits(), 0, "{flag}: no request was sent");
    }
}

#[allow(unsafe_code)]
fn mknod_char(path: &Path, major: u32, minor: u32) -> bool {
    let _ = std::fs::remove_file(path);
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mknod reads a NUL-terminated path; the device numbers are plain integers.
    unsafe { libc::mknod(c_path.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(major, minor)) == 0 }
}

fn is_char_device(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

/// `--json` to a character device (made with mknod) writes in place, leaving it a device; a
/// failed write (a "full" device) is an error with a non-zero exit, never "result written".
#[test]
#[ignore = "needs root for mknod: .ci/run runs it with --ignored"]
fn json_to_a_device_stays_a_device_and_a_failed_write_fails() {
    assert!(is_root(), "needs root (mknod)");
    let target = Target::start(TargetOptions::default()).unwrap();
    let dir = Scratch::new();
    let (null, full) = (dir.file("null.json"), dir.file("full.json"));
    assert!(mknod_char(&null, 1, 3) && mknod_char(&full, 1, 7), "mknod failed");

    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(get_args(&target))
        .args(["--duration", "500ms", "--json", null.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(is_char_device(&null), "the null device was replaced");

    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(get_args(&target))
        .args(["--duration", "500ms", "--json", full.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains("result written"), "{}", text(&out));
    assert!(text(&out).contains("full.json"), "{}", text(&out));
    assert!(is_char_device(&full), "the full device was replaced by a regular file");
}

/// `--prometheus` keeps serving after the run, but that linger is not part of the run.
#[test]
fn prometheus_linger_is_outside_the_run() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let json = dir.join("r.json");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(get_args(&target))
        .args(["--duration", "1s", "--json", json.to_str().unwrap()])
        .args(["--prometheus", &addr, "--prometheus-linger", "3s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(started.elapsed() >= Duration::from_secs(3), "the linger happened");
    let result = read_json(&json);
    let duration_s = result["duration_s"].as_f64().unwrap();
    assert!(duration_s < 2.0, "duration_s {duration_s} includes the linger");
    let rps = result["totals"]["rps"].as_f64().unwrap();
    let requests = result["totals"]["requests"].as_f64().unwrap();
    let expected = requests / duration_s;
    assert!((rps - expected).abs() <= expected * 0.01 + 1.0, "rps {rps} is requests / duration_s ({expected})");
}

fn assert_clear_error(out: &Output, what: &str, expected: &str) {
    let shown = text(out);
    assert!(matches!(out.status.code(), Some(1 | 2)), "{what}: exit {:?}: {shown}", out.status.code());
    assert!(!shown.contains("panicked"), "{what}: {shown}");
    assert!(shown.contains(expected), "{what}: expected {expected:?} in: {shown}");
}

/// Huge, tiny, NaN, negative and overflowing numbers in flags are clear errors naming the flag.
#[test]
fn numeric_flags_never_panic() {
    let get = scenario("get.toml");
    let base = ["--cores", "1", "--no-pin", "-q", "--scenario", get.as_str(), "--duration", "1s"];
    let cases: &[(&[&str], &str)] = &[
        (&["--start-at", "1e30"], "--start-at"),
        (&["--start-at", "NaN"], "--start-at"),
        (&["--start-at=-5"], "--start-at"),
        (&["--start-at", "inf"], "--start-at"),
        (&["--start-at", "99999999999999-01-01T00:00:00Z"], "--start-at"),
        (&["--duration", "1e30"], "--duration"),
        (&["--duration", "NaN"], "--duration"),
        (&["--duration=-1s"], "--duration"),
        (&["--duration", "99999999999999999999999h"], "--duration"),
        (&["--duration", "0"], "duration"),
        (&["--grace", "1e30"], "--grace"),
        (&["--timeout", "0.000000001ms"], "--timeout"),
        (&["--tick", "1ns"], "--tick"),
        (&["--tick", "0.0001ms"], "--tick"),
        (&["--prometheus-linger=-1s"], "--prometheus-linger"),
        (&["--segment", "0/18446744073709551615"], "--segment"),
        (&["--segment", "0/99999999999999999999999"], "--segment"),
        (&["--cores", "99999999999999999999999"], "--cores"),
        (&["--cores", "0-18446744073709551615"], "--cores"),
        (&["--max-connections", "99999999999999999999999"], "--max-connections"),
        (&["--max-connections=-1"], "--max-connections"),
    ];
    for (extra, expected) in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        assert_clear_error(&engine(&args), &format!("{extra:?}"), expected);
    }
}

/// Numbers in scenario files that used to panic (or wrap) are errors naming file:line:field.
#[test]
fn numeric_scenario_fields_never_panic() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    let cases = [
        ("volume = { rate = 1e-20, duration = \"1s\" }", "scenario[0].volume"),
        ("volume = { rate = nan }", "scenario[0].volume"),
        ("volume = { rate = inf }", "scenario[0].volume"),
        ("volume = { rate = -1.0 }", "scenario[0].volume"),
        ("volume = { ramp_rate = { from = 1e-20, to = 5.0, duration = \"1s\" } }", "scenario[0].volume"),
        ("volume = { rate = 10.0, max_in_flight = 0 }", "scenario[0].volume"),
        ("volume = { constant = -1 }", "scenario[0].volume.constant: expected a whole number of journeys"),
        ("volume = { constant = 1e30 }", "scenario[0].volume.constant: expected a whole number of journeys"),
        ("volume = { constant = 1, duration = \"1e30\" }", "scenario[0].volume"),
    ];
    for (volume, expected) in cases {
        let path = dir.join("s.toml");
        std::fs::write(
            &path,
            format!(
                "[journeys.get]\nsteps = [{{ url = \"http://127.0.0.1:9/\" }}]\n[[scenario]]\njourney = \"get\"\n{volume}\n"
            ),
        )
        .unwrap();
        assert_clear_error(&engine(&["scenario", "check", path.to_str().unwrap()]), volume, expected);
        assert!(text(&engine(&["scenario", "check", path.to_str().unwrap()])).contains("s.toml:5"), "{volume}");
    }
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        "[datapools.ids]\nrange = { from = -9223372036854775808, to = 9223372036854775807 }\n\
         [journeys.get]\nsteps = [{ url = \"http://127.0.0.1:9/{value}\" }]\n\
         [[scenario]]\njourney = \"get\"\ndatapool = \"ids\"\nvolume = { constant = 1 }\n",
    )
    .unwrap();
    let out = engine(&["scenario", "check", path.to_str().unwrap()]);
    assert_clear_error(&out, "huge range", "datapools.ids.range");
    assert!(text(&out).contains("18446744073709551616 rows"), "{}", text(&out));
}

/// `scenario check` renders every URL with the first row and the final config: a scheme-less
/// base is refused, naming the step and the value; `--config` and `MITE_CONF_*` count.
#[test]
fn scenario_check_refuses_a_url_that_cannot_be_sent() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        "[config]\nbase = \"http://127.0.0.1:8080\"\n[journeys.get]\n\
         steps = [{ transaction = \"home\", url = \"{base}/\" }]\n[[scenario]]\njourney = \"get\"\nvolume = { constant = 1 }\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let out = engine(&["scenario", "check", file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = engine(&["scenario", "check", file, "--config", "base=127.0.0.1:8080"]);
    assert_clear_error(&out, "--config", "journeys.get.steps[0].url");
    assert!(text(&out).contains("127.0.0.1:8080"), "{}", text(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["scenario", "check", file])
        .env("MITE_CONF_base", "localhost:8080")
        .output()
        .unwrap();
    assert_clear_error(&out, "MITE_CONF_base", "localhost:8080");
}

/// SIGHUP is what a closed terminal sends: with its stdout and stderr gone (every write fails),
/// the run still stops gracefully and writes its result file.
#[test]
#[allow(unsafe_code)]
fn sighup_with_the_terminal_gone_still_writes_the_result() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("r.json");
    let _ = std::fs::remove_file(&json);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "--scenario", &scenario("get.toml"), "--config"])
        .arg(format!("target_url={}", target.url("/")))
        .args(["--duration", "60s", "--tick", "100ms", "--json", json.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The terminal goes away: nobody reads the engine's output any more.
    drop(child.stdout.take());
    drop(child.stderr.take());
    wait_for_hits(&target, 0, "SIGHUP without a terminal");
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGHUP);
    }
    let sent = Instant::now();
    let status = child.wait().unwrap();
    assert!(sent.elapsed() < Duration::from_secs(10), "the stop took {:?}", sent.elapsed());
    assert_eq!(status.code(), Some(EXIT_INTERRUPTED), "{status:?}");
    let result = read_json(&json);
    assert_eq!(result["stopped_by"], "interrupted");
    assert!(result["totals"]["requests"].as_u64().unwrap() > 0);
}

/// One SIGTERM delivered twice at once (to the process and to its process group, as `timeout`
/// and some supervisors do) is one interrupt, not "interrupt again to abort without results".
#[test]
#[allow(unsafe_code)]
fn a_signal_delivered_twice_at_once_is_one_interrupt() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("r.json");
    let child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(get_args(&target))
        .args(["--duration", "60s", "--json", json.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_hits(&target, 0, "SIGTERM twice");
    // SAFETY: sending signals to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    // A few milliseconds apart, so that the kernel delivers two signals rather than one.
    std::thread::sleep(Duration::from_millis(5));
    // SAFETY: as above.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{}", text(&out));
    assert_eq!(read_json(&json)["stopped_by"], "interrupted");
}

/// A second SIGTERM (or Ctrl-C) during a long grace ends it at once: the requests still
/// awaited are cancelled, counted, and the result is written (exit 5), where the second signal
/// exited at once without results. (The first does not shorten the grace: on Kubernetes,
/// `terminationGracePeriodSeconds` outlasts `--grace` + 10 s.)
#[test]
#[allow(unsafe_code)]
fn a_second_signal_ends_the_grace_and_the_result_is_written() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("r.json");
    let slow = format!("target_url={}", target.url("/delay/30000"));
    let args = ["--cores", "1", "--no-pin", "--scenario", &scenario("get.toml"), "-q", "--config", &slow];
    let mut child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(args)
        .args(["--duration", "60s", "--grace", "60s", "--json", json.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (said, reader) = support::collect_stderr(&mut child);
    wait_for_hits(&target, 0, "a second signal");
    let signal = || {
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
    };
    signal();
    let first = Instant::now();
    while !said.lock().unwrap().contains("interrupt again to end the grace at once") {
        assert!(first.elapsed() < Duration::from_secs(30), "{}", said.lock().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    // Well past the 100 ms within which a repeat is the same signal delivered twice.
    std::thread::sleep(Duration::from_millis(400));
    signal();
    let second = Instant::now();
    let out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    let said = said.lock().unwrap().clone();
    assert!(second.elapsed() < Duration::from_secs(15), "the grace went on: {:?}; {said}", second.elapsed());
    assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{said}");
    assert!(said.contains("second interrupt: ending the grace now"), "{said}");
    let result = read_json(&json);
    assert_eq!(result["stopped_by"], "interrupted");
    let totals = &result["totals"];
    let cancelled = totals["errors_by_kind"]["cancelled"].as_u64().unwrap_or(0);
    assert!(cancelled > 0, "the requests awaited were cancelled: {}", totals["errors_by_kind"]);
    assert_eq!(totals["requests"].as_u64(), Some(target.hits()), "every request accounted for");
    assert_eq!(totals["journeys"]["cancelled"].as_u64(), Some(cancelled), "{}", totals["journeys"]);
}

/// A FIFO nobody reads, as `--json` or `--hdr-log`, is refused before the run instead of
/// blocking it; one with a reader is written in place and stays a FIFO.
#[test]
#[allow(unsafe_code)]
fn fifo_outputs_never_block_and_stay_fifos() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let fifo = dir.join("out.fifo");
    let _ = std::fs::remove_file(&fifo);
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o666) }, 0);
    for flag in ["--json", "--hdr-log"] {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
            .args(get_args(&target))
            .args(["--duration", "500ms", flag, fifo.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(10), "{flag}: blocked");
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", text(&out));
        assert!(text(&out).contains(flag) && text(&out).contains("out.fifo"), "{flag}: {}", text(&out));
    }
    assert_eq!(target.hits(), 0);
    // With a reader, the result goes through the FIFO, which stays a FIFO.
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read_to_string(reader_path).unwrap());
    // The reader must be there (blocked in its open) before the engine checks the FIFO.
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(get_args(&target))
        .args(["--duration", "500ms", "--json", fifo.to_str().unwrap()])
        .output()
        .unwrap();
    let received = reader.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result: serde_json::Value = serde_json::from_str(&received).unwrap();
    assert!(result["totals"]["requests"].as_u64().unwrap() > 0);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

/// An interrupt while waiting for `--start-at` ends the wait: nothing sent, nothing written,
/// the interrupted exit code (it was 1, "error").
#[test]
fn an_interrupt_during_the_start_at_wait_exits_interrupted() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("r.json");
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
    // Not quiet: the wait is said on standard error.
    let mut args: Vec<String> = get_args(&target).into_iter().filter(|a| a != "-q").collect();
    args.extend(
        ["--duration", "2s", "--json", json.to_str().unwrap(), "--start-at", &start.to_string()].map(String::from),
    );
    let (out, took) = signal_when(&args, libc::SIGTERM, |said| said.contains("waiting"));
    assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{}", text(&out));
    assert!(took < Duration::from_secs(5), "the wait ended {took:?} after the signal");
    assert!(text(&out).contains("interrupted before the run started: nothing was sent"), "{}", text(&out));
    assert!(text(&out).contains("stopping before the first request"), "{}", text(&out));
    assert!(!text(&out).contains("the results are written"), "{}", text(&out));
    assert!(!json.exists(), "no result for a run that never started");
    assert_eq!(target.hits(), 0);
}

/// A signal during `--dashboard-linger` ends the linger; the run's own exit code stands.
#[test]
fn an_interrupt_ends_the_dashboard_linger() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("r.json");
    let mut args = get_args(&target);
    args.extend(
        [
            "--duration",
            "1s",
            "--json",
            json.to_str().unwrap(),
            "--dashboard",
            "127.0.0.1:0",
            "--dashboard-linger",
            "60s",
        ]
        .map(String::from),
    );
    let (out, took) = signal_when(&args, libc::SIGTERM, |said| said.contains("the final report stays"));
    assert_eq!(out.status.code(), Some(0), "the run itself finished: {}", text(&out));
    assert!(took < Duration::from_secs(5), "the linger ended {took:?} after the signal");
    assert_eq!(read_json(&json)["stopped_by"], "duration");
}

/// A signal while the scenario is still being read (a large CSV datapool) is handled, not the
/// default "killed by signal": nothing was sent, the interrupted exit code.
#[test]
fn an_interrupt_before_the_run_starts_is_not_a_kill() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let csv = scratch.file("users.csv");
    let mut rows = String::from("user\n");
    for i in 0..2_000_000 {
        rows.push_str(&format!("user-{i}\n"));
    }
    std::fs::write(&csv, rows).unwrap();
    let file = scratch.file("big.toml");
    std::fs::write(
        &file,
        format!(
            "[datapools.users]\ncsv = {csv:?}\n\n[journeys.get]\nsteps = [{{ url = \"{{target_url}}\" }}]\n\n\
             [[scenario]]\njourney = \"get\"\ndatapool = \"users\"\nvolume = {{ constant = 1 }}\n",
        ),
    )
    .unwrap();
    let args: Vec<String> =
        ["--cores", "1", "--no-pin", "--duration", "2s", "-q", "--scenario", file.to_str().unwrap()]
            .iter()
            .map(|s| s.to_string())
            .chain(["--config".to_string(), format!("target_url={}", target.url("/"))])
            .collect();
    // Past the handler's installation (the first thing `run` does), well within the reading.
    let spawned = Instant::now();
    let (out, _) = signal_when(&args, libc::SIGTERM, |_| spawned.elapsed() > Duration::from_millis(300));
    assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{}", text(&out));
    // `journey run` and `journey test` read the same file first, and say the same (`journey
    // test` was killed by the signal; `journey run` ran with the stop set and said nothing).
    let url = format!("target_url={}", target.url("/"));
    let file = file.to_str().unwrap();
    for command in [["journey", "run", "get", "users"], ["journey", "test", "get", "users"]] {
        let args: Vec<String> =
            command.iter().chain(&["--scenario", file, "--config", &url]).map(|s| s.to_string()).collect();
        let spawned = Instant::now();
        let (out, _) = signal_when(&args, libc::SIGINT, |_| spawned.elapsed() > Duration::from_millis(300));
        let said = text(&out);
        assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{command:?}: {said}");
        assert!(said.contains("interrupted before the run started: nothing was sent"), "{command:?}: {said}");
    }
    assert_eq!(target.hits(), 0);
}

/// A full disk under `--hdr-log` mid-run (here the file-size limit, `ulimit -f`, with SIGXFSZ
/// ignored as a shell with `ulimit` does) costs the log's tail, not the run: the error is said
/// even with `-q`, the result is written, and the exit code is 1 (the run used to abort and
/// lose its result).
#[test]
#[allow(unsafe_code)]
fn a_failed_hdr_log_write_mid_run_keeps_the_result() {
    use std::os::unix::process::CommandExt;
    const LOG_BYTES_MAX: libc::rlim_t = 2048;
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let log = scratch.file("r.hlog");
    let mut command = Command::new(env!("CARGO_BIN_EXE_mite-engine"));
    command.args(get_args(&target)).args(["--duration", "4s", "--json", "-", "--hdr-log", log.to_str().unwrap()]);
    // SAFETY: between fork and exec only async-signal-safe calls (signal, setrlimit) run.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit { rlim_cur: LOG_BYTES_MAX, rlim_max: LOG_BYTES_MAX };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("--hdr-log: writing failed"), "{said}");
    assert!(said.contains("the --hdr-log is incomplete"), "{said}");
    assert!(std::fs::metadata(&log).unwrap().len() <= LOG_BYTES_MAX);
    // Whole lines only: the write that failed is cut back (it used to leave half a line).
    let text = std::fs::read(&log).unwrap();
    assert!(
        text.ends_with(b"\n"),
        "the log ends mid-line: {:?}",
        String::from_utf8_lossy(&text[text.len().saturating_sub(80)..])
    );
    assert!(said.contains("the log holds "), "{said}");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = if stdout.contains(mite_core::output::result_frame::MARKER) {
        mite_core::output::result_frame::decode(&stdout).unwrap()
    } else {
        stdout
    };
    let result: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(result["stopped_by"], "duration");
    let requests = result["totals"]["requests"].as_u64().unwrap();
    assert!(requests > 0);
    assert_eq!(requests, target.hits(), "every request accounted for");
}

/// The result files are written before the Prometheus linger, not after it (a pod killed
/// during the linger used to lose them), and a signal ends the linger with the run's own code.
#[test]
fn the_result_is_written_before_the_prometheus_linger() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("r.json");
    let mut args: Vec<String> = get_args(&target).into_iter().filter(|a| a != "-q").collect();
    args.extend(
        [
            "--duration",
            "1s",
            "--json",
            json.to_str().unwrap(),
            "--prometheus",
            "127.0.0.1:0",
            "--prometheus-linger",
            "30s",
        ]
        .map(String::from),
    );
    let started = Instant::now();
    let (out, took) =
        signal_when(&args, libc::SIGTERM, |said| said.contains("serving the final metrics") && json.exists());
    assert!(started.elapsed() < Duration::from_secs(20), "the result was not there during the linger: {}", text(&out));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(took < Duration::from_secs(5), "the linger ended {took:?} after the signal");
    assert_eq!(read_json(&json)["stopped_by"], "duration");
}

/// An interrupted `journey run` exits 5 like an interrupted run (it exited 0).
#[test]
fn an_interrupted_journey_run_exits_interrupted() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let file = scratch.file("slow.toml");
    std::fs::write(&file, "[journeys.slow]\nsteps = [{ url = \"{base}/delay/3000\" }]\n\n[[scenario]]\njourney = \"slow\"\nvolume = { constant = 1 }\n").unwrap();
    let args: Vec<String> = ["journey", "run", "slow", "--scenario", file.to_str().unwrap(), "--config"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("base={}", target.url(""))])
        .collect();
    let spawned = Instant::now();
    let (out, took) = signal_when(&args, libc::SIGINT, |_| spawned.elapsed() > Duration::from_millis(1000));
    assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{}", text(&out));
    assert!(took < Duration::from_secs(10), "{took:?}");
}

/// `journey test` against a route that stalls: an interrupt cancels the journey in flight at
/// once and says what ran and what did not, with the interrupted exit code (it was killed by
/// the signal, no table, or waited for the route).
#[test]
fn an_interrupted_journey_test_stops_at_once_and_says_what_ran() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    std::fs::write(scratch.file("rows.csv"), "n\n1\n2\n3\n").unwrap();
    let file = scratch.file("slow.toml");
    std::fs::write(
        &file,
        "[datapools.rows]\ncsv = \"rows.csv\"\n\n[journeys.slow]\nsteps = [{ url = \"{base}/\" }, \
         { url = \"{base}/delay/20000\" }]\n\n[[scenario]]\njourney = \"slow\"\ndatapool = \"rows\"\n\
         volume = { constant = 1 }\n",
    )
    .unwrap();
    for (signal, name) in [(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")] {
        let before = target.hits();
        let args: Vec<String> = ["journey", "test", "slow", "rows", "--scenario", file.to_str().unwrap(), "--config"]
            .iter()
            .map(|s| s.to_string())
            .chain([format!("base={}", target.url(""))])
            .collect();
        // Once the first row's stalling request has reached the target.
        let (out, took) = signal_when(&args, signal, |_| target.hits() >= before + 2);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{name}: {said}");
        assert!(took < Duration::from_secs(5), "{name}: stopped {took:?} after the signal: {said}");
        assert!(said.contains("journey CANCELLED by the interrupt"), "{name}: {said}");
        assert!(
            said.contains(
                "journey test interrupted: 0 of 3 journeys ran (0 ok, 0 failed), 1 cancelled in flight, 2 not run"
            ),
            "{name}: {said}"
        );
        // Both requests the target saw are in the table, the stalled one as cancelled.
        assert_eq!(target.hits() - before, 2, "{name}");
        assert!(said.contains("requests 2 in") && said.contains("cancelled                 1"), "{name}: {said}");
        // Over the time the journeys took (the table said "requests 2 in 0.00s = 0 req/s").
        assert!(!said.contains("in 0.00s"), "{name}: {said}");
    }
}

/// Outside tester: SIGTERM at 1.5 s with journeys held by a silent route printed no line for
/// the piece before the stop nor for the grace: one line after the grace covered both. Now the
/// piece up to the stop is a partial line, and the grace has its own, saying it drains them.
#[test]
fn sigterm_with_journeys_in_flight_reports_the_stop_and_the_grace_apart() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let args = held_run(&target, &scratch, 3, "1s", "600ms");
    let (out, took) = signal_when(&args, libc::SIGTERM, |said| said.contains("[    1.0s]"));
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{said}");
    assert!(took < Duration::from_secs(3), "{took:?}: {said}");
    let lines: Vec<&str> = said.lines().filter(|line| line.starts_with('[')).collect();
    let stamps: Vec<f64> =
        lines.iter().map(|l| l[1..l.find(']').unwrap()].trim().trim_end_matches('s').parse().unwrap()).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "lines out of order:\n{said}");
    assert!(lines.len() >= 3 && lines[0].starts_with("[    1.0s] ok"), "{said}");
    let stop = lines[1];
    assert!(stop.contains("partial") && stop.contains("to the stop:") && stop.contains("in flight 3 of 3"), "{said}");
    let grace = &lines[2..];
    let (last, draining) = grace.split_last().unwrap();
    // What is left of the 600ms grace, counting down, and the journeys it waits for.
    let left: Vec<f64> = draining
        .iter()
        .map(|l| {
            let rest = l.split_once("] grace: ").unwrap_or_else(|| panic!("not a grace line: {l}\n{said}")).1;
            let (left, waits) = rest.split_once("s left, ").unwrap_or_else(|| panic!("no time left: {l}"));
            assert!(waits.starts_with("3 journeys in flight; in "), "{l}");
            left.parse().unwrap()
        })
        .collect();
    assert!(left.windows(2).all(|w| w[0] >= w[1]) && left.iter().all(|s| *s < 0.6), "{left:?}: {said}");
    let over = last.split_once("] grace: over after ").unwrap_or_else(|| panic!("not the grace's end: {said}")).1;
    let (spent, rest) = over.split_once("s, ").unwrap();
    assert!(spent.parse::<f64>().unwrap() >= 0.55 && rest.starts_with("3 journeys cancelled; in "), "{said}");
    assert!(stamps.last().unwrap() - stamps[1] >= 0.55, "the grace's lines span its 600ms: {said}");
}

/// A long grace after an interrupt said the core's thread was held (`core 0 has not reported
/// for 3.0s: its thread is held ...`): the core sent nothing from the stop to the grace's end.
/// It reports the grace as it goes, and is never taken for a silent core.
#[test]
fn a_long_grace_after_an_interrupt_is_not_a_silent_core() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let args = held_run(&target, &scratch, 2, "200ms", "2500ms");
    let (out, _) = signal_when(&args, libc::SIGTERM, |said| said.contains("[    0.2s]"));
    let said = text(&out);
    assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{said}");
    assert!(!said.contains("has not reported"), "{said}");
    let grace = said.lines().filter(|line| line.starts_with('[') && line.contains("] grace: ")).count();
    assert!(grace >= 10, "the grace's lines, one a tick: {said}");
}

/// The arguments of a 60 s run on one core of `users` journeys whose one request the target
/// never answers (`/bad/silent`): every journey is in flight at a stop, for the grace to drain.
fn held_run(target: &Target, scratch: &Scratch, users: u32, tick: &str, grace: &str) -> Vec<String> {
    let file = scratch.file("held.toml");
    let steps = format!("steps = [{{ url = \"{}\" }}]", target.url("/bad/silent"));
    let toml =
        format!("[journeys.held]\n{steps}\n\n[[scenario]]\njourney = \"held\"\nvolume = {{ constant = {users} }}\n");
    std::fs::write(&file, toml).unwrap();
    ["--cores", "1", "--no-pin", "--tick", tick, "--duration", "60s", "--grace", grace, "--scenario"]
        .iter()
        .map(|s| s.to_string())
        .chain([file.to_str().unwrap().to_string()])
        .collect()
}
