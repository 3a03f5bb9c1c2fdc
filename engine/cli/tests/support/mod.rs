//! What the command-line tests share: run the built binary, read what it printed, find the
//! shipped scenario files. Each test file uses some of these, not all.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `mite-engine` with `args` and waits for it.
pub fn engine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mite-engine")).args(args).output().expect("run mite-engine")
}

/// Standard output then standard error, as text.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The path of a scenario file in `journeys/scenarios`.
pub fn scenario(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../journeys/scenarios").join(name).display().to_string()
}
