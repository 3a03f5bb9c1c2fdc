//! What the command-line tests share: run the built binary, read what it printed, find the
//! shipped scenario files. Each test file uses some of these, not all.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Runs `mite-engine` with `args` and waits for it.
pub fn engine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mite-engine")).args(args).output().expect("run mite-engine")
}

/// Runs `mite-engine` with `args`, killed after `limit`: a hang is then a failed test, not a
/// test run that never ends.
pub fn engine_within(args: &[&str], limit: Duration) -> Output {
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

/// Asserts that what a command printed holds `words` (all of it shown when not).
pub fn says(out: &Output, words: &str) {
    assert!(text(out).contains(words), "{}", text(out));
}

/// A quiet run of the shipped `get.toml` on one core against `target` for `duration`, its
/// result written to `json`, with `extra` flags: it must exit 0 (what it said shown if not).
pub fn get_run(target: &mite_tools::Target, duration: &str, json: &std::path::Path, extra: &[&str]) {
    let (get, url, json) =
        (scenario("get.toml"), format!("target_url={}", target.url("/")), json.display().to_string());
    let args = ["--cores", "1", "--no-pin", "-q", "--scenario", &get, "--duration", duration, "--config", &url];
    let out = engine(&[&args[..], &["--json", &json], extra].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// Standard output then standard error, as text.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The path of a scenario file in `journeys/scenarios`.
pub fn scenario(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../journeys/scenarios").join(name).display().to_string()
}

/// A temporary directory for one test's files, removed when dropped (kept when the test
/// fails: call [`Scratch::keep`] first to look at them).
pub struct Scratch(tempfile::TempDir);

impl Scratch {
    /// A new, empty directory.
    pub fn new() -> Scratch {
        Scratch(tempfile::Builder::new().prefix("mite-test-").tempdir().expect("a temporary directory"))
    }

    /// `name` inside the directory (not created).
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        self.0.path()
    }

    /// Writes `text` as `name` inside the directory, and returns its path as a command line
    /// takes it (a scenario file, a CSV datapool).
    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> String {
        let path = self.file(name);
        std::fs::write(&path, text).expect("write a test's file");
        path.display().to_string()
    }

    /// Leaves the directory in place when dropped, and returns its path.
    pub fn keep(self) -> PathBuf {
        self.0.keep()
    }
}

/// Whether this process runs as root (the tests that need it are `#[ignore]`d, and CI, which
/// runs as root, runs them with `--ignored`).
#[allow(unsafe_code)]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Spawns the engine with `args`, sends `signal` once `ready` is true of what it has said on
/// standard error so far (or after `LIMIT`), and returns its output and how long it took to
/// exit after the signal.
#[allow(unsafe_code)]
pub fn signal_when(args: &[String], signal: i32, ready: impl Fn(&str) -> bool) -> (Output, Duration) {
    const LIMIT: Duration = Duration::from_secs(60);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (said, reader) = collect_stderr(&mut child);
    let started = Instant::now();
    while !ready(&said.lock().unwrap()) && started.elapsed() < LIMIT {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, signal);
    }
    let sent = Instant::now();
    let mut out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    reader.join().unwrap();
    out.stderr = said.lock().unwrap().clone().into_bytes();
    (out, took)
}

/// What a spawned engine says on standard error, gathered as it comes by a thread (join it
/// after the child exits, then read the whole text).
pub fn collect_stderr(child: &mut Child) -> (Arc<Mutex<String>>, std::thread::JoinHandle<()>) {
    use std::io::Read;
    let mut stderr = child.stderr.take().expect("the child's standard error is piped");
    let said = Arc::new(Mutex::new(String::new()));
    let reader = {
        let said = said.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buf) {
                said.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    (said, reader)
}

/// One `GET` to a live view of a running engine (`--dashboard`, `--prometheus`): the whole
/// answer, its head included, read to the server's close (at most 10 s of silence).
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the live view");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read the answer");
    text
}

/// A copy of the result file `from` at `to` standing for another run (another `run_id`,
/// started a millisecond later, so that the two ran together), as a second injector's result
/// with the same figures: `merge` refuses one run given twice, and a copy of one measurement
/// under any labels is the same part, so its core threads' CPU time is another injector's (a
/// µs more; no figure shown reads it).
pub fn as_another_run(from: &std::path::Path, to: &std::path::Path) -> PathBuf {
    let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(from).unwrap()).unwrap();
    another_injector(&mut value);
    value["started_at_unix_s"] = (value["started_at_unix_s"].as_f64().unwrap() + 0.001).into();
    std::fs::write(to, value.to_string()).unwrap();
    to.to_path_buf()
}

/// Makes the result `value` another injector's measurement of the same figures: another
/// `run_id`, and its core threads' CPU time a µs more (which two injectors never share).
pub fn another_injector(value: &mut serde_json::Value) {
    value["run_id"] = format!("another-{}", value["run_id"].as_str().unwrap_or("run")).into();
    let busy = &mut value["injector"]["raw"]["busy_us"];
    *busy = (busy.as_u64().expect("a run's result keeps its injector's raw busy time") + 1).into();
}

/// Waits until `target` has received more than `above` requests: the engine's run is going
/// (its signal handling set up, its journeys started), however long a busy machine took to get
/// there. Panics, naming `what`, when it has not after a minute.
pub fn wait_for_hits(target: &mite_tools::Target, above: u64, what: &str) {
    const LIMIT: Duration = Duration::from_secs(60);
    let started = Instant::now();
    while target.hits() <= above {
        assert!(started.elapsed() < LIMIT, "{what}: the target saw no request from the run in {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
