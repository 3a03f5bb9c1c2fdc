//! The container image's runtime without an image: the binary in an empty, read-only root
//! holding only what tools/k8s/Dockerfile's image holds (tools/k8s/empty-root.sh), run as the
//! image's non-root user, starts, resolves the target's name, runs a scenario from a mounted
//! file, prints its result framed on stdout and writes a report to a mounted directory.

mod support;
use support::{Scratch, is_root};

use std::path::{Path, PathBuf};
use std::process::Command;

use mite_tools::{Target, TargetOptions};

#[test]
#[ignore = "needs root, unshare and chroot to build the empty root: .ci/run runs it with --ignored"]
fn binary_runs_in_an_empty_root_as_the_image_would() {
    assert!(is_root(), "needs root (to build the empty root)");
    for tool in ["/usr/bin/unshare", "/usr/sbin/chroot"] {
        assert!(Path::new(tool).exists(), "needs {tool}");
    }
    let target = Target::start(TargetOptions::default()).unwrap();
    // Kept when the test fails, to look at; removed at the end when it passes.
    let work = Scratch::new().keep();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/k8s/empty-root.sh");
    // "localhost": the name is resolved inside the root, through its /etc/hosts.
    let url = format!("http://localhost:{}/", target.addr().port());
    let out = Command::new("bash")
        .arg(&script)
        .args([env!("CARGO_BIN_EXE_mite-engine"), &url, work.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    // Nothing in the root but the binary, its libraries and the base image's few files.
    let files: Vec<&str> = stderr.lines().filter(|l| l.starts_with("    /")).collect();
    assert!(files.iter().any(|f| f.ends_with("/usr/local/bin/mite-engine")), "{stderr}");
    assert!(files.len() <= 16, "an empty root: {files:?}");
    let json = mite_core::output::result_frame::decode(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let result: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(result["scenario"], "empty-root");
    assert_eq!(result["totals"]["errors"], 0, "{}", result["totals"]);
    assert!(result["totals"]["requests"].as_u64().unwrap() > 0);
    assert_eq!(result["totals"]["requests"].as_u64(), Some(target.hits()), "the target's own count");
    let report = std::fs::read_to_string(work.join("results/report.html")).expect("report in the mounted directory");
    assert!(report.contains("get_root"));
    // The root holds a copy of the binary (tens of MiB): kept only when the test fails.
    let _ = std::fs::remove_dir_all(&work);
}
