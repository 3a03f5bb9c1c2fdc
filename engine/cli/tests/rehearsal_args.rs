//! The rehearsal script (tools/k8s/rehearsal/rehearse.py) given a binary that is not there:
//! it says which flag, which path and how to build it, before starting anything (it raised a
//! Python traceback from deep in `subprocess`, after making its work directory).

use std::path::PathBuf;
use std::process::Command;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/k8s/rehearsal/rehearse.py")
}

fn rehearse(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("python3").arg(script()).args(args).output().expect("python3 runs the rehearsal");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
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
