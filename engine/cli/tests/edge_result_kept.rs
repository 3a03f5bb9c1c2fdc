//! A run's result that `--json FILE` cannot hold (a full disk, its directory gone) is kept in
//! the temporary directory instead, and the error says where: the run's figures are not lost
//! with the file.

mod support;
use support::{Scratch, scenario, text};

use std::process::{Command, Stdio};
use std::time::Duration;

use mite_tools::{Target, TargetOptions};

/// The result's directory removed while the run ran: the write failed and the result was
/// gone (only the table was left). It is kept in `TMPDIR`, named by the run's id, said in the
/// error line; the exit code stays 1 (not written where asked).
#[test]
fn a_result_its_file_cannot_hold_is_kept_in_the_temporary_directory() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let gone = scratch.path().join("gone");
    std::fs::create_dir(&gone).unwrap();
    let kept_dir = scratch.path().join("tmp");
    std::fs::create_dir(&kept_dir).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "-q", "--duration", "1500ms", "--scenario", &scenario("get.toml")])
        .args(["--config", &format!("target_url={}", target.url("/")), "--json"])
        .arg(gone.join("r.json"))
        .env("TMPDIR", &kept_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::remove_dir(&gone).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    let kept: Vec<_> = std::fs::read_dir(&kept_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(kept.len(), 1, "{said}");
    let name = kept[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.starts_with("mite-result-") && name.ends_with(".json"), "{name}");
    assert!(
        said.contains(&format!(
            "the result was NOT written: No such file or directory (os error 2); the result is kept at {} instead \
             (move it where it belongs)",
            kept[0].display()
        )),
        "{said}"
    );
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&kept[0]).unwrap()).unwrap();
    let requests = result["totals"]["requests"].as_u64().unwrap();
    assert!(requests > 0 && result["run_id"].as_str().is_some_and(|id| name.contains(id)), "{result}");
}
