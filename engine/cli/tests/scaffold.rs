//! `mite-engine new` end to end (issue 18): a crate scaffolded into a temporary directory,
//! depending on this checkout, passes its own tests and runs `journey test` of its journey
//! against the embedded target, from nothing but the scaffold's files.

mod support;
use support::{Scratch, engine, text};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mite_tools::{Target, TargetOptions};

/// Longest a cargo command in the scaffold may take (a build of the engine on a busy CI box).
const CARGO_LIMIT: Duration = Duration::from_secs(900);

fn checkout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Runs cargo in `dir` with the workspace's build cache, offline (the engine's lock file was
/// copied, every crate is already downloaded); killed past `CARGO_LIMIT`.
fn cargo(dir: &Path, args: &[&str]) -> Output {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| checkout().join("target"), PathBuf::from);
    let mut child = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_INCREMENTAL", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cargo");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > CARGO_LIMIT {
            let _ = child.kill();
            panic!("cargo {args:?} in {} ran past {CARGO_LIMIT:?}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn scaffold_passes_its_tests_and_journey_test_against_the_target() {
    let scratch = Scratch::new();
    let dir = scratch.file("shop-load");
    let checkout = checkout();
    let new = engine(&["new", dir.to_str().unwrap(), "--engine-path", checkout.to_str().unwrap()]);
    assert!(new.status.success(), "{}", text(&new));
    for file in ["Cargo.toml", "rust-toolchain.toml", "README.md", "src/main.rs", "src/shop.rs", "scenarios/shop.toml"]
    {
        assert!(dir.join(file).is_file(), "{file} missing");
    }

    let tests = cargo(&dir, &["test", "--offline"]);
    let out = text(&tests);
    assert!(tests.status.success(), "{out}");
    assert!(out.contains("test browse_opens_home_then_product ... ok"), "{out}");
    assert!(out.contains("test result: ok. 2 passed"), "{out}");

    let target = Target::start(TargetOptions::default()).unwrap();
    let base = format!("base={}", target.url(""));
    let args = ["run", "--offline", "-q", "--", "journey", "test", "shop:browse", "shop:users", "--rows", "2"];
    let run = cargo(&dir, &[&args[..], &["--config", &base]].concat());
    let out = text(&run);
    assert!(run.status.success(), "{out}");
    assert!(out.contains("journey shop:browse args [\"ann\"]") && out.contains("journey shop:browse args [\"bob\"]"));
    assert!(out.contains("send product_seen user=bob"), "{out}");
    assert_eq!(target.hits(), 4, "two rows, two requests each: {out}");

    let listed = cargo(&dir, &["run", "--offline", "-q", "--", "list"]);
    let out = text(&listed);
    assert!(out.contains("shop:browse") && out.contains("shop:users") && out.contains("shop:scenario"), "{out}");
    assert!(!out.contains("http_example"), "the shipped examples are not the user's: {out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn new_refuses_a_directory_that_is_not_empty() {
    let scratch = Scratch::new();
    let dir = scratch.file("taken");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out = engine(&["new", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("is not empty"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "nothing written beside it");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn new_without_engine_path_writes_the_released_dependency() {
    let scratch = Scratch::new();
    let dir = scratch.file("released");
    let out = engine(&["new", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("mite-engine = \"0.1\""), "{manifest}");
    assert!(!dir.join("Cargo.lock").exists());
    let bad = engine(&["new", scratch.file("bad").to_str().unwrap(), "--engine-path", "/nonexistent/engine"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad).contains("--engine-path /nonexistent/engine"), "{}", text(&bad));
    let _ = std::fs::remove_dir_all(&dir);
}
