//! A run keeps its result where its user put it: `nohup` keeps a run going past a closed
//! terminal, and a result table that could not be written is an error, not a silent pass.

mod support;
use support::{Scratch, scenario, text, wait_for_hits};

use std::fs::File;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mite_tools::{Target, TargetOptions};

const EXIT_ERROR: i32 = 1;

fn get_args(target: &Target, duration: &str) -> Vec<String> {
    ["--cores", "1", "--no-pin", "--scenario", &scenario("get.toml"), "-q", "--duration", duration, "--config"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("target_url={}", target.url("/"))])
        .collect()
}

/// `nohup mite-engine ... &`, then the terminal closes (SIGHUP): the run goes on to its
/// duration, as `nohup` asks (the run used to stop, interrupted, at the SIGHUP).
#[test]
#[allow(unsafe_code)]
fn a_run_under_nohup_goes_on_past_sighup() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("nohup.json");
    let child = Command::new("nohup")
        .arg(env!("CARGO_BIN_EXE_mite-engine"))
        .args(get_args(&target, "3s"))
        .args(["--json", json.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_hits(&target, 0, "under nohup");
    // SAFETY: sending a signal to our own child process (nohup has exec'd the engine).
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGHUP);
    }
    let sent = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(sent.elapsed() < Duration::from_secs(30), "the run took {:?}", sent.elapsed());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(result["stopped_by"], "duration", "{}", text(&out));
}

/// Standard output a full device, and no result file: the table was the result and nobody got
/// it. Said on standard error, exit code 1 (it was 0, said nowhere).
/// With a result file written, the table is only a view of it: exit 0.
#[test]
fn a_result_table_that_could_not_be_written_is_an_error() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let run = |stdout: Stdio, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mite-engine"))
            .args(get_args(&target, "300ms"))
            .args(extra)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    let full = || Stdio::from(File::options().write(true).open("/dev/full").unwrap());
    let out = run(full(), &[]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(EXIT_ERROR), "{said}");
    assert!(said.contains("the result table could not be written to standard output"), "{said}");
    assert!(said.contains("No space left on device"), "{said}");

    // A pipe whose reader is gone (`| head -0` that already exited): the reader chose to stop,
    // as one that left after the table fit the pipe's buffer did; the run's own exit code,
    // with a note (`cli.rs`, `a_run_whose_standard_output_is_closed_exits_with_its_own_status`).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = run(Stdio::from(writer), &[]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("the result table was cut off; no --json or --html holds the result"), "{said}");

    let json = scratch.file("kept.json");
    let out = run(full(), &["--json", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(json.exists());
}

/// `localhost` in `/etc/hosts` as `::1` then `127.0.0.1` (common), and a target listening on
/// 127.0.0.1 only: each connect that took `::1` was a `refused` error; it now goes on to the
/// name's next address, so the run sees no error and every request reaches the target. The
/// hosts file is this test's own, bound over `/etc/hosts` in a private mount namespace.
#[test]
#[ignore = "needs root with CAP_SYS_ADMIN for a private /etc/hosts (unshare -m): .ci/run runs it with --ignored"]
fn a_refused_address_of_a_name_goes_on_to_its_next() {
    assert!(support::is_root(), "needs root (unshare -m, mount --bind)");
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let hosts = scratch.file("hosts");
    std::fs::write(&hosts, "::1 localhost\n127.0.0.1 localhost\n").unwrap();
    let json = scratch.file("localhost.json");
    let url = target.url("/").replace("127.0.0.1", "localhost");
    let script =
        format!("mount --bind {} /etc/hosts && exec {} \"$@\"", hosts.display(), env!("CARGO_BIN_EXE_mite-engine"));
    let mut args = get_args(&target, "500ms");
    *args.last_mut().unwrap() = format!("target_url={url}");
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script, "sh"])
        .args(args)
        .args(["--json", json.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(result["totals"]["errors"], 0, "{}", text(&out));
    let requests = result["totals"]["requests"].as_u64().unwrap();
    assert!(requests > 0, "{}", text(&out));
    assert_eq!(requests, target.hits(), "every request reached the target");
}

/// `--html` to a FIFO whose reader holds it open but does not read: the run has ended and the
/// page waits for room in the pipe. A SIGTERM then says so (it said "journeys in flight get
/// the grace period", long past the grace); when the reader goes, the write fails, said, exit 1.
#[test]
#[allow(unsafe_code)]
fn a_signal_while_the_results_are_written_says_so() {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let fifo = scratch.file("report.fifo");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path; mkfifo only creates the file.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
    let reader = File::options().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo).unwrap();
    // SAFETY: F_SETPIPE_SZ on a FIFO this test owns; a failure leaves it 64 KiB, still less
    // than the page.
    unsafe {
        libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&reader), libc::F_SETPIPE_SZ, 4096);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(get_args(&target, "300ms"))
        .args(["--html", fifo.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let said = std::thread::spawn(move || {
        let mut said = String::new();
        let _ = stderr.read_to_string(&mut said);
        said
    });
    // The page (over 64 KiB) fills the FIFO: the engine waits in the write.
    wait_for_hits(&target, 0, "a report to a FIFO");
    std::thread::sleep(Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "the engine should be waiting for the FIFO's reader");
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    std::thread::sleep(Duration::from_millis(500));
    drop(reader);
    let status = child.wait().unwrap();
    let said = said.join().unwrap();
    assert_eq!(status.code(), Some(EXIT_ERROR), "{said}");
    assert!(said.contains("the run has ended and its results are being written"), "{said}");
    assert!(!said.contains("grace period"), "{said}");
    assert!(said.contains("error: --html"), "{said}");
}

/// Standard error a pipe nobody reads (a stuck log shipper, a paused pager): once it is full
/// the progress lines wait, and so did the interrupt's own message, holding the handler: a
/// second SIGTERM went unheard and only SIGKILL ended the process. Now the second ends the
/// grace and the third exits (130).
#[test]
#[allow(unsafe_code)]
fn a_second_signal_ends_a_run_whose_stderr_nobody_reads() {
    use std::os::fd::AsRawFd;
    let target = Target::start(TargetOptions::default()).unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    // SAFETY: F_SETPIPE_SZ on a pipe this test owns; a failure only leaves it larger.
    unsafe {
        libc::fcntl(writer.as_raw_fd(), libc::F_SETPIPE_SZ, 4096);
    }
    let mut args = get_args(&target, "60s");
    args.retain(|a| a != "-q");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(args)
        .args(["--tick", "10ms"])
        .stdout(Stdio::null())
        .stderr(Stdio::from(writer))
        .spawn()
        .unwrap();
    wait_for_hits(&target, 0, "stderr nobody reads");
    std::thread::sleep(Duration::from_secs(3));
    for _ in 0..3 {
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        std::thread::sleep(Duration::from_millis(400));
    }
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(reader);
    assert_eq!(status.and_then(|s| s.code()), Some(130), "three SIGTERMs did not end the engine");
}

/// The result file `child` writes while nobody reads its standard error (`reader`, dropped
/// once the file is there or 20 s have passed, so the child can end either way).
fn result_while_stderr_unread(
    mut child: std::process::Child,
    json: &std::path::Path,
    reader: std::io::PipeReader,
    what: &str,
) -> serde_json::Value {
    let started = Instant::now();
    while !json.exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let written = json.exists();
    drop(reader);
    let status = child.wait().unwrap();
    assert!(written, "no result file 20 s into {what} whose standard error nobody reads ({status:?})");
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

/// Standard error a full pipe nobody reads: the progress lines no longer hold the run, which
/// ends on time and writes its result file (it waited in a progress line until someone read
/// the pipe, or forever).
#[test]
#[allow(unsafe_code)]
fn a_run_whose_stderr_nobody_reads_still_writes_its_result() {
    use std::os::fd::AsRawFd;
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("unread.json");
    let (reader, writer) = std::io::pipe().unwrap();
    // SAFETY: F_SETPIPE_SZ on a pipe this test owns; a failure only leaves it larger.
    unsafe {
        libc::fcntl(writer.as_raw_fd(), libc::F_SETPIPE_SZ, 4096);
    }
    let mut args = get_args(&target, "2s");
    args.retain(|a| a != "-q");
    let child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(args)
        .args(["--tick", "10ms", "--json", json.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::from(writer))
        .spawn()
        .unwrap();
    let result = result_while_stderr_unread(child, &json, reader, "a 2 s run");
    assert_eq!(result["stopped_by"], "duration");
    assert!(result["totals"]["requests"].as_u64().unwrap() > 0);
}

/// `journey run` wrote its lines (a warning, here `--insecure`'s) straight to standard error:
/// a full pipe nobody reads held it in its first line, before its journey ran, and no result
/// was written. Its lines now go through the same bounded queue as a run's: the journey runs
/// and the result file is written.
#[test]
#[allow(unsafe_code)]
fn a_journey_run_whose_stderr_nobody_reads_still_runs_and_writes_its_result() {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let json = scratch.file("journey.json");
    let (reader, mut writer) = std::io::pipe().unwrap();
    let fd = writer.as_raw_fd();
    // SAFETY: fcntl on a pipe this test owns: its size shrunk (a failure leaves it larger, and
    // it is filled whatever its size), then non-blocking while this test fills it, then
    // blocking again, as the engine gets it.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, 4096);
        libc::fcntl(fd, libc::F_SETFL, libc::fcntl(fd, libc::F_GETFL) | libc::O_NONBLOCK);
    }
    while writer.write(&[b'.'; 512]).is_ok() {}
    // SAFETY: as above.
    unsafe {
        libc::fcntl(fd, libc::F_SETFL, libc::fcntl(fd, libc::F_GETFL) & !libc::O_NONBLOCK);
    }
    let child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["journey", "run", "http_example:journey", "--insecure", "--json", json.to_str().unwrap()])
        .args(["--config", &format!("target_url={}", target.url("/"))])
        .stdout(Stdio::null())
        .stderr(Stdio::from(writer))
        .spawn()
        .unwrap();
    let result = result_while_stderr_unread(child, &json, reader, "a journey run");
    assert_eq!(result["totals"]["requests"], 1, "{result}");
    assert_eq!(target.hits(), 1);
}
