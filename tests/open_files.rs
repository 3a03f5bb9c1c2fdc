//! Outside testers: running out of open files ("too many open files", EMFILE) on connect gave
//! no hint. The error now names the limit (`ulimit -n`) and the fix. The test runs itself again
//! in a child process whose open-file limit a shell lowers first (the target stays in this
//! process, so its descriptors do not count against the child's).

use std::process::Command;
use std::time::Duration;

use mite_core::VolumeModel;
use mite_core::stats::ErrorKind;
use mite_tests::{get, options};
use mite_tools::Target;

/// Open files the child may have: a few dozen (the harness, the core's ring), far below the
/// journeys that each want a connection at once.
const FILES_MAX: u64 = 64;
const JOURNEYS: u64 = 200;
/// Set in the child: the target's URL.
const CHILD_URL: &str = "MITE_TEST_OPEN_FILES_URL";

#[test]
fn running_out_of_open_files_names_the_limit_and_the_fix() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        return out_of_files(&url);
    }
    let target = Target::start(Default::default()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {FILES_MAX} && exec \"$0\" --exact {} --nocapture", test_name()))
        .arg(exe)
        .env(CHILD_URL, target.url("/"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the child failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran the test:\n{text}");
    println!("{text}");
}

fn test_name() -> &'static str {
    "running_out_of_open_files_names_the_limit_and_the_fix"
}

/// In the child: every journey wants its own connection at once, and most cannot have one.
fn out_of_files(url: &str) {
    let mut opts = options(1, Duration::from_secs(20));
    opts.http.request_timeout = Duration::from_secs(5);
    let result = get(url, VolumeModel::Oneshot { journeys: JOURNEYS }, opts);
    let total = result.merged.total();
    let failed = total.errors_of(ErrorKind::Connect);
    assert!(failed > 0, "no connect failed under {FILES_MAX} open files: {:?}", result.merged.error_samples);
    assert_eq!(total.req_ok + total.req_errors(), JOURNEYS, "every attempt accounted for once");
    assert_eq!(total.not_sent, failed, "a connect that failed sent nothing");
    let sample = &result.merged.error_samples["connect"];
    assert!(
        sample.contains(&format!("too many open files: this process may have at most {FILES_MAX} open (ulimit -n)"))
            && sample.contains("raise that limit, or run fewer journeys per core"),
        "{sample}"
    );
    println!("{failed} of {JOURNEYS} connects failed: {sample}");
}
