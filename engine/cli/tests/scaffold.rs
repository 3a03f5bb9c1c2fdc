//! `mite-engine new` end to end (issue 18): a crate scaffolded into a temporary directory,
//! depending on this checkout, passes its own tests and runs `journey test` of its journey
//! against the embedded target, from nothing but the scaffold's files.

mod support;
use support::{Scratch, engine, text};

use std::io::Read;
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
/// copied, every crate is already downloaded); killed past `CARGO_LIMIT`. Its output is
/// drained while it runs, so a long one never blocks it on a full pipe.
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
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CARGO_LIMIT {
            let _ = child.kill();
            panic!("cargo {args:?} in {} ran past {CARGO_LIMIT:?}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
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
    assert!(
        out.contains("journey shop:browse row 1: user=\"ann\"")
            && out.contains("journey shop:browse row 2: user=\"bob\"")
    );
    // The product's name read from its JSON with serde_json, a dependency of every scaffold.
    assert!(out.contains("send product_seen user=bob bytes=65 name=mite"), "{out}");
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
fn new_without_engine_path_writes_the_dependency_commented_out_and_says_so() {
    // The engine is not on crates.io: a `mite-engine = "0.1"` line would not resolve.
    let scratch = Scratch::new();
    let dir = scratch.file("unset");
    let out = engine(&["new", dir.to_str().unwrap()]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("not published on crates.io") && said.contains("commented out"), "{said}");
    assert!(said.contains("--engine-path"), "{said}");
    assert!(!said.contains("released"), "{said}");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let live: Vec<_> =
        manifest.lines().filter(|l| !l.trim_start().starts_with('#') && l.contains("mite-engine")).collect();
    assert!(live.is_empty(), "a dependency line that cannot resolve: {live:?}\n{manifest}");
    assert!(manifest.contains("# mite-engine = { path = \"/path/to/mite-engine/engine/cli\" }"), "{manifest}");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("Before the first build") && !readme.contains("released"), "{readme}");
    assert!(!dir.join("Cargo.lock").exists());

    // What the README says to do makes a crate cargo resolves (offline, from the copied lock).
    let cli = checkout().join("engine/cli");
    let set = manifest.replace(
        "# mite-engine = { path = \"/path/to/mite-engine/engine/cli\" }",
        &format!("mite-engine = {{ path = {:?} }}", cli.display().to_string()),
    );
    std::fs::write(dir.join("Cargo.toml"), set).unwrap();
    std::fs::copy(checkout().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    // (cargo's own output is read when it ends: keep it short.)
    let tree = cargo(&dir, &["tree", "--offline", "--depth", "1", "--edges", "normal"]);
    assert!(tree.status.success(), "{}", text(&tree));
    assert!(text(&tree).contains(&format!("mite-engine v0.1.0 ({})", cli.display())), "{}", text(&tree));
}

#[test]
fn new_with_a_bad_engine_path_names_it() {
    let scratch = Scratch::new();
    let bad = engine(&["new", scratch.file("bad").to_str().unwrap(), "--engine-path", "/nonexistent/engine"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad).contains("--engine-path /nonexistent/engine"), "{}", text(&bad));
    assert!(!scratch.file("bad").exists(), "nothing written");
}

#[test]
fn engine_path_at_the_checkout_or_its_engine_cli_copies_the_lock_file() {
    let checkout = checkout();
    let lock = std::fs::read(checkout.join("Cargo.lock")).unwrap();
    let scratch = Scratch::new();
    for (name, path) in [("cli", checkout.join("engine/cli")), ("root", checkout.clone())] {
        let dir = scratch.file(name);
        let out = engine(&["new", dir.to_str().unwrap(), "--engine-path", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
        let copied = std::fs::read(dir.join("Cargo.lock")).unwrap_or_default();
        assert!(copied == lock, "--engine-path {}: the engine's Cargo.lock not copied", path.display());
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let line = format!("mite-engine = {{ path = {:?} }}", checkout.join("engine/cli").display().to_string());
        assert!(manifest.lines().any(|l| l == line), "{manifest}");
        assert!(text(&out).contains("Cargo.lock copied"), "{}", text(&out));
    }
}

#[test]
fn names_the_crate_cannot_build_under_are_refused() {
    let scratch = Scratch::new();
    let names = ["mite-engine", "self", "crate", "super", "std", "core", "alloc", "proc_macro", "test", "fn", "gen"];
    for name in names.into_iter().chain(["build", "mite-core", "mite_engine"]) {
        let dir = scratch.file(name);
        let out = engine(&["new", dir.to_str().unwrap()]);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "new {name}: {said}");
        assert!(said.contains(&format!("{:?}", dir.display().to_string())), "{said}");
        assert!(said.contains(&format!("e.g. mite-engine new {}-load", dir.display())), "{said}");
        assert!(!dir.exists(), "new {name} wrote something");
    }
}

#[test]
fn a_name_that_is_not_ascii_is_refused() {
    let scratch = Scratch::new();
    let dir = scratch.file("ünï");
    let out = engine(&["new", dir.to_str().unwrap()]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("ü, ï are not") && said.contains("ASCII"), "{said}");
    assert!(!dir.exists());
}

#[test]
fn the_next_commands_quote_a_path_with_a_space() {
    let scratch = Scratch::new();
    let dir = scratch.file("with space");
    let out = engine(&["new", dir.to_str().unwrap(), "--engine-path", checkout().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("next: cd '{}' && cargo test", dir.display())), "{}", text(&out));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(manifest.starts_with("[package]\nname = \"with-space\"\n"), "{manifest}");
}

#[test]
fn a_file_is_refused_as_a_file() {
    let scratch = Scratch::new();
    let file = scratch.file("afile");
    std::fs::write(&file, "mine").unwrap();
    for dir in [file.clone(), file.join("sub")] {
        let out = engine(&["new", dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let expected = format!("error: new: {} is a file, not a directory (nothing was written)\n", file.display());
        assert_eq!(text(&out), expected);
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");

    let link = scratch.file("link");
    std::os::unix::fs::symlink(scratch.file("nowhere"), &link).unwrap();
    let out = engine(&["new", link.to_str().unwrap()]);
    let expected = format!(
        "error: new: {} is a link to a path that does not exist, not a directory (nothing was written)\n",
        link.display()
    );
    assert_eq!(text(&out), expected);
    assert!(link.symlink_metadata().is_ok() && !scratch.file("nowhere").exists(), "the link is as it was");
}

#[test]
fn the_readme_says_what_main_is() {
    let scratch = Scratch::new();
    let dir = scratch.file("shop-load");
    assert!(engine(&["new", dir.to_str().unwrap()]).status.success());
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
    assert!(readme.contains("`src/main.rs` is one call, `mite_engine::main(shop_load::register)`"), "{readme}");
    let code: Vec<_> = main.lines().filter(|l| !l.starts_with("//") && !l.trim().is_empty()).collect();
    assert_eq!(
        code,
        ["use std::process::ExitCode;", "fn main() -> ExitCode {", "    mite_engine::main(shop_load::register)", "}"]
    );
}

#[test]
#[allow(unsafe_code)]
fn a_write_that_fails_leaves_nothing_behind() {
    use std::os::unix::process::CommandExt;
    let scratch = Scratch::new();
    let (fresh, empty) = (scratch.file("fresh"), scratch.file("empty"));
    std::fs::create_dir(&empty).unwrap();
    for dir in [&fresh, &empty] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mite-engine"));
        command.args(["new", dir.to_str().unwrap()]);
        // Files of at most 1 KiB (root too): the first template longer than that fails to write.
        // SAFETY: signal and setrlimit are async-signal-safe, and nothing else runs before exec.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let limit = libc::rlimit { rlim_cur: 1024, rlim_max: 1024 };
                match libc::setrlimit(libc::RLIMIT_FSIZE, &limit) {
                    0 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                }
            });
        }
        let out = command.output().unwrap();
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{said}");
        assert!(said.starts_with(&format!("error: new: writing {}/", dir.display())), "{said}");
        assert!(said.contains("(the crate's files written before it were removed): File too large"), "{said}");
        if dir == &fresh {
            assert!(!dir.exists(), "the directory new made is left");
        } else {
            let left: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert!(left.is_empty(), "left behind: {left:?}");
        }
    }
}
