//! io_uring under container seccomp: the engine run under a filter that denies io_uring_setup
//! (as Docker 25+ and containerd 2.0 default profiles do) says it is seccomp, with the fix, and
//! runs on epoll; under the shipped Localhost profile (tools/k8s/seccomp-io-uring.json) the
//! default runs on the own io_uring runtime, and monoio's io_uring starts when asked for. The
//! filters are installed by the same code as the `mite-seccomp` helper. `MITE_DRIVER` is cleared
//! for every run here: the default is what is tested.

mod support;
use support::{Scratch, text};

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use mite_tools::{Target, TargetOptions};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shipped_profile() -> String {
    std::fs::read_to_string(root().join("tools/k8s/seccomp-io-uring.json")).unwrap()
}

/// A profile that allows everything but answers io_uring_setup with `errno`.
fn deny_setup(errno: u32) -> String {
    format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["io_uring_setup"],"action":"SCMP_ACT_ERRNO","errnoRet":{errno}}}]}}"#
    )
}

/// Runs the get scenario against `target` under `profile` (no capabilities kept, as in the pod),
/// with `MITE_DRIVER` cleared so that no `--driver` means the default.
#[allow(unsafe_code)]
fn run_under(profile: &str, target: &Target, extra: &[&str]) -> (Output, Option<Value>) {
    let compiled = mite_seccomp::compile(profile, &[]).expect("profile compiles");
    let scratch = Scratch::new();
    let json = scratch.file("result.json");
    let url = format!("target_url={}", target.url("/"));
    let get = root().join("journeys/scenarios/get.toml");
    let mut command = Command::new(env!("CARGO_BIN_EXE_mite-engine"));
    command
        .args(["--cores", "1", "--no-pin", "--duration", "1s", "--config", &url, "--scenario"])
        .arg(&get)
        .arg("--json")
        .arg(&json)
        .args(extra)
        .env_remove("MITE_DRIVER");
    let programs = compiled.programs;
    // SAFETY: `install` only makes the prctl and seccomp system calls on memory compiled before
    // the fork; it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || mite_seccomp::install(&programs));
    }
    let out = command.output().expect("run mite-engine under seccomp");
    let result = std::fs::read_to_string(&json).ok().map(|t| serde_json::from_str(&t).unwrap());
    (out, result)
}

fn assert_counted(result: &Value, target: &Target) {
    let requests = result["totals"]["requests"].as_u64().unwrap();
    assert!(requests > 0);
    assert_eq!(result["totals"]["errors"], 0, "{}", result["totals"]);
    assert_eq!(requests, target.hits(), "engine and target agree");
}

#[test]
fn seccomp_denial_is_named_with_its_fix_and_falls_back_to_epoll() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let (out, result) = run_under(&deny_setup(1), &target, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result = result.expect("result written");
    assert_eq!(result["driver"], "epoll");
    let reason = result["driver_fallbacks"][0].as_str().unwrap();
    assert!(reason.contains("blocked by this process's seccomp filter"), "{reason}");
    assert!(reason.contains("seccomp-io-uring.json"), "the fix is named: {reason}");
    assert!(!reason.contains("RLIMIT_MEMLOCK"), "not a memlock problem: {reason}");
    assert!(text(&out).contains("seccomp filter"), "said on the terminal too: {}", text(&out));
    assert_counted(&result, &target);
}

#[test]
fn seccomp_enosys_is_not_taken_for_an_old_kernel() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let (out, result) = run_under(&deny_setup(38), &target, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result = result.expect("result written");
    assert_eq!(result["driver"], "epoll");
    let reason = result["driver_fallbacks"][0].as_str().unwrap();
    assert!(reason.contains("seccomp filter") && reason.contains("ENOSYS"), "{reason}");
    assert_counted(&result, &target);
}

#[test]
fn io_uring_asked_for_under_a_denying_filter_is_an_error_naming_seccomp() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let (out, result) = run_under(&deny_setup(1), &target, &["--driver", "io_uring"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("io_uring runtime: io_uring_setup is blocked by this process's seccomp filter"),
        "{}",
        text(&out)
    );
    assert!(result.is_none(), "no run, no result file");
    assert_eq!(target.hits(), 0);
}

/// Without any filter of ours: a machine (or a CI container) that has no io_uring at all, or
/// no timerfd, is said plainly rather than blamed on the profile.
fn assert_starts_unfiltered(driver: &str) {
    let target = Target::start(TargetOptions::default()).unwrap();
    let url = format!("target_url={}", target.url("/"));
    let get = root().join("journeys/scenarios/get.toml");
    let bare = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "--duration", "200ms", "-q", "--driver", driver, "--config", &url])
        .arg("--scenario")
        .arg(&get)
        .env_remove("MITE_DRIVER")
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(0), "--driver {driver} does not start here even unfiltered: {}", text(&bare));
}

/// The default under the shipped profile: the own io_uring runtime, its ring and its timerfd
/// alarm allowed, no fallback.
#[test]
fn shipped_profile_runs_the_default_on_the_own_runtime() {
    assert_starts_unfiltered("own");
    let target = Target::start(TargetOptions::default()).unwrap();
    let (out, result) = run_under(&shipped_profile(), &target, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result = result.expect("result written");
    assert_eq!(result["driver"], "own", "{}", text(&out));
    assert_eq!(result["driver_fallbacks"].as_array().map(Vec::len), Some(0), "{}", result["driver_fallbacks"]);
    assert_counted(&result, &target);
}

/// The shipped profile without timerfd_create: the own runtime's ring starts but its timers'
/// alarm does not, and the default says so and runs on epoll (which needs no timerfd).
#[test]
fn a_profile_without_timerfd_runs_the_default_on_epoll_naming_the_alarm() {
    assert_starts_unfiltered("own");
    let mut profile: Value = serde_json::from_str(&shipped_profile()).unwrap();
    let mut removed = 0;
    for rule in profile["syscalls"].as_array_mut().unwrap() {
        let names = rule["names"].as_array_mut().unwrap();
        let before = names.len();
        names.retain(|n| n != "timerfd_create");
        removed += before - names.len();
    }
    assert_eq!(removed, 1, "one rule allows timerfd_create");
    let target = Target::start(TargetOptions::default()).unwrap();
    let (out, result) = run_under(&profile.to_string(), &target, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result = result.expect("result written");
    assert_eq!(result["driver"], "epoll");
    let reason = result["driver_fallbacks"][0].as_str().unwrap();
    assert!(reason.starts_with("core 0: io_uring timer alarm unavailable (timerfd: "), "{reason}");
    assert!(!reason.contains("io_uring unavailable"), "the ring started: {reason}");
    assert!(reason.ends_with("; using epoll"), "{reason}");
    assert_counted(&result, &target);
}

/// `--driver io_uring` (monoio's runtime, no longer the default) starts under the shipped profile.
#[test]
fn shipped_profile_lets_io_uring_start() {
    assert_starts_unfiltered("io_uring");
    let target = Target::start(TargetOptions::default()).unwrap();
    let (out, result) = run_under(&shipped_profile(), &target, &["--driver", "io_uring"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result = result.expect("result written");
    assert_eq!(result["driver"], "io_uring");
    assert_eq!(result["driver_fallbacks"].as_array().map(Vec::len), Some(0), "{}", result["driver_fallbacks"]);
    assert_counted(&result, &target);
}

/// The shipped profile without its io_uring rule is the runtime default: io_uring is denied
/// there, so the profile is what makes the difference (and the filter is really installed).
#[test]
fn shipped_profile_without_its_io_uring_rule_denies_it() {
    let mut profile: Value = serde_json::from_str(&shipped_profile()).unwrap();
    let rules = profile["syscalls"].as_array_mut().unwrap();
    let before = rules.len();
    rules.retain(|r| !r["names"].as_array().unwrap().iter().any(|n| n == "io_uring_setup"));
    assert_eq!(rules.len(), before - 1, "one rule adds io_uring");
    let target = Target::start(TargetOptions::default()).unwrap();
    let (out, result) = run_under(&profile.to_string(), &target, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result = result.expect("result written");
    assert_eq!(result["driver"], "epoll");
    assert!(result["driver_fallbacks"][0].as_str().unwrap().contains("seccomp filter"));
    assert_counted(&result, &target);
}

/// The profile is the runtime default plus io_uring: it allows what a container normally runs
/// (threads, sockets, epoll, timers, the own runtime's timerfd alarm) and nothing that escapes it (mount, unshare, ptrace, bpf).
#[test]
fn shipped_profile_allows_io_uring_and_denies_escapes() {
    let compiled = mite_seccomp::compile(&shipped_profile(), &[]).unwrap();
    let needed = ["io_uring_setup", "io_uring_enter", "io_uring_register", "timerfd_create", "timerfd_settime"];
    for name in needed.into_iter().chain(["socket", "connect", "epoll_wait", "futex"]) {
        assert!(compiled.allowed.contains(name), "{name} allowed");
    }
    for name in ["mount", "unshare", "setns", "ptrace", "bpf", "keyctl", "kexec_load", "clone3"] {
        assert!(!compiled.allowed.contains(name), "{name} not allowed");
    }
}
