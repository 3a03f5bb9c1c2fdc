//! Issue 10: a run always ends on time and never loses its result (signals, output paths,
//! the Prometheus linger, bad names and URLs, panics from input), at the command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mite_tools::{Target, TargetOptions};

const EXIT_INTERRUPTED: i32 = 5;

#[allow(dead_code)] // unused on main as merged (clippy -D warnings); kept for the issue-10 tests
fn engine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mite-engine")).args(args).output().expect("run mite-engine")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn scenario(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../journeys/scenarios").join(name).display().to_string()
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mite-run-ends-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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
fn sigterm_and_sighup_stop_gracefully_and_write_the_result() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let dir = tmp_dir("signals");
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
        std::thread::sleep(Duration::from_millis(1500));
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
        let sent = Instant::now();
        let out = child.wait_with_output().unwrap();
        assert!(sent.elapsed() < Duration::from_secs(10), "{name}: the stop took {:?}", sent.elapsed());
        assert_eq!(out.status.code(), Some(EXIT_INTERRUPTED), "{name}: {}", text(&out));
        assert!(text(&out).contains("stopped by interrupted"), "{name}: {}", text(&out));
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
    let dir = tmp_dir("missing");
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
fn json_to_a_device_stays_a_device_and_a_failed_write_fails() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mknod needs root (CI runs as root)");
        return;
    }
    let target = Target::start(TargetOptions::default()).unwrap();
    let dir = tmp_dir("devices");
    let (null, full) = (dir.join("null.json"), dir.join("full.json"));
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
    let dir = tmp_dir("linger");
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
