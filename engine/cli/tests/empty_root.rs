//! The container image's runtime without an image: the binary in an empty, read-only root
//! holding only what tools/k8s/Dockerfile's image holds (tools/k8s/empty-root.sh), run as the
//! image's non-root user, starts, resolves the target's name, runs a scenario from a mounted
//! file, prints its result framed on stdout and writes a report to a mounted directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use mite_tools::{Target, TargetOptions};

#[test]
fn binary_runs_in_an_empty_root_as_the_image_would() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let tools = ["/usr/bin/unshare", "/usr/sbin/chroot"].iter().all(|p| Path::new(p).exists());
    if !root || !tools {
        eprintln!("skipped: needs root, unshare and chroot to build the empty root (CI has them)");
        return;
    }
    let target = Target::start(TargetOptions::default()).unwrap();
    let work = std::env::temp_dir().join(format!("mite-empty-root-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
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
