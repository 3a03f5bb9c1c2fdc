//! The Kubernetes Indexed Job path on one machine: results framed in a log that interleaves
//! stdout and stderr are found and merged; collect.sh fails fast when the Job cannot finish or
//! failed, naming the pods and why; and the whole path rehearsed with a SIGTERM mid-run
//! (tools/k8s/rehearsal/rehearse.py).

mod support;
use support::{Scratch, text};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mite_tools::{Target, TargetOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// One injector as a pod runs it: stdout and stderr into one log, `--json=-`.
fn pod_log(target: &Target, dir: &Path, segment: &str) -> PathBuf {
    let log = dir.join(format!("pod-{}.log", segment.replace('/', "-")));
    let file = std::fs::File::create(&log).unwrap();
    let url = format!("target_url={}", target.url("/"));
    let get = root().join("journeys/scenarios/get.toml");
    let status = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "--duration", "1s", "--config", &url, "--json=-", "--segment", segment])
        .args(["--threshold", "count<1", "--scenario"])
        .arg(&get)
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .status()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(3),
        "a threshold every run that sends fails (count<1), and the result is still written"
    );
    log
}

#[test]
fn results_framed_in_interleaved_logs_merge_to_the_targets_count() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let logs = [pod_log(&target, dir, "0/2"), pod_log(&target, dir, "1/2")];
    let log = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(log.contains("threshold count<1: FAIL"), "other lines share the log: {log}");
    assert!(log.lines().all(|l| l.len() < 16 * 1024), "no line long enough for the runtime to split");
    let merged = dir.join("merged.json");
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .arg("merge")
        .args(&logs)
        .arg("-o")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result = read(&merged);
    assert_eq!(result["totals"]["requests"].as_u64(), Some(target.hits()), "every request the target saw");
    assert_eq!(result["segments"]["missing"], serde_json::json!([]));
    assert_eq!(result["parts"].as_array().unwrap().len(), 2);

    // A log cut short (the pod killed while writing) is named, not merged half.
    let cut = dir.join("cut.log");
    let lines: Vec<&str> = log.lines().collect();
    let begin = lines.iter().position(|l| l.starts_with("mite-result begin")).unwrap();
    std::fs::write(&cut, lines[..begin + 2].join("\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .arg("merge")
        .arg(&cut)
        .args(["-o", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("cut.log: the result begun at line"), "{}", text(&out));
    assert!(text(&out).contains("incomplete"), "{}", text(&out));
}

/// A fake cluster for collect.sh: the stand-in kubectl reads these files.
fn fake_cluster(conditions: Option<&str>, pods: &str) -> Scratch {
    let dir = Scratch::new();
    std::fs::create_dir_all(dir.file("logs")).unwrap();
    if let Some(conditions) = conditions {
        std::fs::write(dir.file("job-conditions"), conditions).unwrap();
    }
    std::fs::write(dir.file("pods"), pods).unwrap();
    dir
}

fn collect(cluster: &Path, out: &Path) -> Output {
    Command::new("bash")
        .arg(root().join("tools/k8s/collect.sh"))
        .args(["mite-peak", out.to_str().unwrap()])
        .env("KUBECTL", root().join("tools/k8s/rehearsal/kubectl"))
        .env("FAKE_CLUSTER", cluster)
        .env("MITE_ENGINE", env!("CARGO_BIN_EXE_mite-engine"))
        .env("POLL_S", "1")
        .env("TIMEOUT_S", "60")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn collect_fails_fast_when_a_pod_cannot_start() {
    let pods = "mite-peak-0-abc|0|Running|||||\n\
                mite-peak-1-def|1|Pending|CreateContainerError||||cannot load seccomp profile \"/var/lib/kubelet/seccomp/mite-engine/seccomp-io-uring.json\": no such file\n\
                mite-peak-2-ghi|2|Pending|ImagePullBackOff||||Back-off pulling image \"registry.example/mite-engine:0.1.0\"\n";
    let fake = fake_cluster(Some(""), pods);
    let cluster = fake.path();
    let started = Instant::now();
    let out = collect(cluster, &cluster.join("merged.json"));
    assert!(started.elapsed() < Duration::from_secs(20), "fails fast, not after the timeout");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("pod mite-peak-1-def (index 1) cannot start: CreateContainerError: cannot load seccomp profile"),
        "{said}"
    );
    assert!(said.contains("pod mite-peak-2-ghi (index 2) cannot start: ImagePullBackOff"), "{said}");
    assert!(said.contains("delete job mite-peak"), "{said}");
    assert!(!said.contains("mite-peak-0-abc"), "the running pod is not blamed: {said}");
}

#[test]
fn collect_gives_up_on_an_unschedulable_pod() {
    let pods = "mite-peak-0-abc|0|Running||||Scheduled|\nmite-peak-1-def|1|Pending||||Unschedulable|\n";
    let fake = fake_cluster(Some(""), pods);
    let cluster = fake.path();
    let out = Command::new("bash")
        .arg(root().join("tools/k8s/collect.sh"))
        .arg("mite-peak")
        .env("KUBECTL", root().join("tools/k8s/rehearsal/kubectl"))
        .env("FAKE_CLUSTER", cluster)
        .env("POLL_S", "1")
        .env("UNSCHEDULABLE_S", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("pod mite-peak-1-def (index 1) unschedulable for 1s"), "{}", text(&out));
}

#[test]
fn collect_merges_what_a_failed_job_left_and_names_the_rest() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let pods = "mite-peak-0-abc|0|Failed||3|Error|Scheduled|\n\
                mite-peak-1-def|1|Failed||137|OOMKilled|Scheduled|\n\
                mite-peak-2-ghi|2|Failed||5|Error|Scheduled|\n";
    let fake = fake_cluster(Some("Failed=True\n"), pods);
    let cluster = fake.path();
    let log = pod_log(&target, cluster, "0/3");
    std::fs::rename(&log, cluster.join("logs/mite-peak-0-abc.log")).unwrap();
    // Index 2's result lost a line on the way (log rotation, a killed writer).
    let damaged = pod_log(&target, cluster, "2/3");
    let text_2 = std::fs::read_to_string(&damaged).unwrap();
    let kept: Vec<&str> = text_2.lines().filter(|l| !l.starts_with("mite-result 1/")).collect();
    std::fs::write(cluster.join("logs/mite-peak-2-ghi.log"), kept.join("\n")).unwrap();
    let hits_0 = read_frame(&cluster.join("logs/mite-peak-0-abc.log"));
    std::fs::write(cluster.join("logs/mite-peak-1-def.log"), "starting\nio_uring unavailable (...); using epoll\n")
        .unwrap();
    let merged = cluster.join("merged.json");
    let out = collect(cluster, &merged);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("collect: job/mite-peak failed; merged 1 results"), "{said}");
    assert!(said.contains("pod mite-peak-0-abc (index 0) failed: a threshold failed"), "{said}");
    assert!(said.contains("pod mite-peak-1-def (index 1) failed: killed (SIGKILL: out of memory"), "{said}");
    assert!(said.contains("pod mite-peak-1-def (index 1): no result in its log; its last lines:"), "{said}");
    assert!(said.contains("pod mite-peak-2-ghi (index 2) failed: interrupted"), "{said}");
    assert!(said.contains("pod mite-peak-2-ghi (index 2): its result is unreadable:"), "{said}");
    assert!(said.contains("incomplete: 1 of"), "{said}");
    assert!(said.contains("segments missing: 1/3, 2/3"), "{said}");
    assert_eq!(read(&merged)["totals"]["requests"].as_u64(), Some(hits_0), "index 0's result alone");
}

fn read_frame(log: &Path) -> u64 {
    let json = mite_core::output::result_frame::decode(&std::fs::read_to_string(log).unwrap()).unwrap();
    serde_json::from_str::<serde_json::Value>(&json).unwrap()["totals"]["requests"].as_u64().unwrap()
}

#[test]
fn collect_says_when_the_job_does_not_exist() {
    let fake = fake_cluster(None, "");
    let cluster = fake.path();
    let out = collect(cluster, &cluster.join("merged.json"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("cannot read job/mite-peak: Error from server (NotFound)"), "{}", text(&out));
}

/// The whole path: N injectors started as the Job starts them, one SIGTERMed mid-run, collected
/// and merged; totals equal the target's count, the interrupted segment is marked, and no row
/// of the single-use datapool is used twice (the script checks each and says which failed).
#[test]
fn rehearsal_of_the_indexed_job_with_a_sigterm() {
    let scratch = Scratch::new();
    let work = scratch.path();
    let out = Command::new("python3")
        .arg(root().join("tools/k8s/rehearsal/rehearse.py"))
        .args(["--engine", env!("CARGO_BIN_EXE_mite-engine"), "--segments", "3", "--duration", "6"])
        .arg("--workdir")
        .arg(work)
        .output()
        .expect("python3 runs the rehearsal");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("every check held"), "{}", text(&out));
}
