//! The Kubernetes scripts given a command that is not there say so before anything starts:
//! the rehearsal (tools/k8s/rehearsal/rehearse.py) names the flag, the path and how to build it
//! (it raised a Python traceback from deep in `subprocess`, after making its work directory);
//! collect.sh names the command and its variable (without mite-engine on PATH it waited for the
//! whole Job, then could not merge).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn k8s(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/k8s").join(path)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn rehearse(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("python3")
        .arg(k8s("rehearsal/rehearse.py"))
        .args(args)
        .output()
        .expect("python3 runs the rehearsal");
    (out.status.code(), text(&out))
}

#[test]
fn a_missing_engine_binary_is_named_with_how_to_build_it() {
    let missing = "target/debug/no-such-mite-engine";
    let (code, text) = rehearse(&["--engine", missing]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("--engine {missing}: not an executable file")), "{text}");
    assert!(text.contains("cargo build -p mite-engine"), "{text}");
    assert!(!text.contains("Traceback"), "{text}");
}

#[test]
fn a_missing_seccomp_binary_is_named_with_how_to_build_it() {
    let missing = "target/debug/no-such-mite-seccomp";
    let (code, text) = rehearse(&["--engine", env!("CARGO_BIN_EXE_mite-engine"), "--seccomp", missing]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("--seccomp {missing}: not an executable file")), "{text}");
    assert!(text.contains("cargo build -p mite-seccomp"), "{text}");
    assert!(!text.contains("Traceback"), "{text}");
}

/// collect.sh against the rehearsal's stand-in kubectl (or `kubectl`), its cluster a Job still
/// running with no pod yet, and `MITE_ENGINE` as given (`None`: not set, and not on `PATH`).
fn collect(engine: Option<&str>, kubectl: &str) -> (Option<i32>, String, Duration) {
    let cluster = std::env::temp_dir().join(format!("mite-k8s-scripts-{}-{}", std::process::id(), kubectl.len()));
    std::fs::create_dir_all(cluster.join("logs")).unwrap();
    std::fs::write(cluster.join("job-conditions"), "").unwrap();
    std::fs::write(cluster.join("pods"), "").unwrap();
    let mut command = Command::new("bash");
    command.arg(k8s("collect.sh")).args(["mite-peak", "/dev/null"]);
    command.env("KUBECTL", kubectl).env("FAKE_CLUSTER", &cluster).env("POLL_S", "1").env("TIMEOUT_S", "20");
    match engine {
        Some(engine) => command.env("MITE_ENGINE", engine),
        // mite-engine on no PATH: only the system's directories.
        None => command.env_remove("MITE_ENGINE").env("PATH", "/usr/bin:/bin"),
    };
    let started = Instant::now();
    let out = command.stdin(Stdio::null()).output().expect("bash runs collect.sh");
    let _ = std::fs::remove_dir_all(&cluster);
    (out.status.code(), text(&out), started.elapsed())
}

#[test]
fn collect_names_a_missing_engine_before_it_waits() {
    let kubectl = k8s("rehearsal/kubectl");
    let kubectl = kubectl.to_str().unwrap();
    let mut cases = vec![(Some("/no/such/mite-engine"), "/no/such/mite-engine")];
    // The default, `mite-engine` on a PATH of the system's directories (unless one is installed there).
    if !["/usr/bin/mite-engine", "/bin/mite-engine"].iter().any(|path| std::path::Path::new(path).exists()) {
        cases.push((None, "mite-engine"));
    }
    for (engine, named) in cases {
        let (code, text, took) = collect(engine, kubectl);
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains(&format!("collect: {named} not found: put it on PATH or set MITE_ENGINE")), "{text}");
        assert!(took < Duration::from_secs(5), "it waited {took:?}: {text}");
    }
}

#[test]
fn collect_names_a_missing_kubectl() {
    let (code, text, _) = collect(Some(env!("CARGO_BIN_EXE_mite-engine")), "no-such-kubectl");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("collect: no-such-kubectl not found: put it on PATH or set KUBECTL"), "{text}");
}
