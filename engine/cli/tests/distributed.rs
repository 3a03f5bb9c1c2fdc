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

/// One injector as a pod runs it: stdout and stderr into one log, `--json=-`, with a count
/// threshold every merge of runs that sent fails (`count<1`): left to the merge by a segment.
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
    assert_eq!(status.code(), Some(0), "a segment's count is a share: judged by the merge");
    log
}

fn merge(inputs: &[&Path], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mite-engine")).arg("merge").args(inputs).args(extra).output().unwrap()
}

#[test]
fn results_framed_in_interleaved_logs_merge_to_the_targets_count() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let logs = [pod_log(&target, dir, "0/2"), pod_log(&target, dir, "1/2")];
    let log = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(log.contains("threshold count<1: left to merge"), "other lines share the log: {log}");
    assert!(log.lines().all(|l| l.len() < 16 * 1024), "no line long enough for the runtime to split");
    let merged = dir.join("merged.json");
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .arg("merge")
        .args(&logs)
        .arg("-o")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "count<1, stored, fails on the merged figures: {}", text(&out));
    assert!(text(&out).contains("threshold count<1: FAIL"), "{}", text(&out));
    let result = read(&merged);
    assert_eq!(result["totals"]["requests"].as_u64(), Some(target.hits()), "every request the target saw");
    assert_eq!(result["thresholds"], serde_json::json!(["count<1"]));
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
        .env("MITE_ENGINE", env!("CARGO_BIN_EXE_mite-engine"))
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
    let first_line = |l: &&str| l.split_whitespace().nth(2).is_some_and(|at| at.starts_with("1/"));
    let kept: Vec<&str> = text_2.lines().filter(|l| !(l.starts_with("mite-result ") && first_line(l))).collect();
    std::fs::write(cluster.join("logs/mite-peak-2-ghi.log"), kept.join("\n")).unwrap();
    let hits_0 = read_frame(&cluster.join("logs/mite-peak-0-abc.log"));
    std::fs::write(cluster.join("logs/mite-peak-1-def.log"), "starting\nio_uring unavailable (...); using epoll\n")
        .unwrap();
    let merged = cluster.join("merged.json");
    let out = collect(cluster, &merged);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("collect: job/mite-peak failed; merged 1 result into"), "{said}");
    assert!(
        said.contains("pod mite-peak-0-abc (index 0): a threshold failed on its segment (judged on the merged result"),
        "{said}"
    );
    assert!(said.contains("pod mite-peak-1-def (index 1) failed: killed (SIGKILL: out of memory"), "{said}");
    assert!(said.contains("pod mite-peak-1-def (index 1): no result in its log; its last lines:"), "{said}");
    assert!(said.contains("pod mite-peak-2-ghi (index 2) failed: interrupted"), "{said}");
    assert!(said.contains("pod mite-peak-2-ghi (index 2): its result is unreadable:"), "{said}");
    assert!(said.contains("incomplete: 1 of"), "{said}");
    assert!(said.contains("segments missing: 1/3, 2/3"), "{said}");
    assert_eq!(read(&merged)["totals"]["requests"].as_u64(), Some(hits_0), "index 0's result alone");
}

/// Item 3: collect exits with merge's verdict: 3 when a threshold the pods were given fails on
/// the merged figures (every pod finished), 0 when it holds.
#[test]
fn collect_exits_with_the_merged_thresholds_verdict() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let pods = "mite-peak-0-abc|0|Succeeded||0||Scheduled|\nmite-peak-1-def|1|Succeeded||0||Scheduled|\n";
    let fake = fake_cluster(Some("Complete=True\n"), pods);
    let cluster = fake.path();
    for (segment, pod) in [("0/2", "mite-peak-0-abc"), ("1/2", "mite-peak-1-def")] {
        let log = pod_log(&target, cluster, segment);
        std::fs::rename(&log, cluster.join(format!("logs/{pod}.log"))).unwrap();
    }
    let merged = cluster.join("merged.json");
    let out = collect(cluster, &merged);
    assert_eq!(out.status.code(), Some(3), "count<1 fails on the merged result: {}", text(&out));
    let said = text(&out);
    assert!(said.contains("threshold count<1: FAIL") && said.contains("collect: a threshold failed"), "{said}");
    assert!(said.contains("merged 2 results into"), "{said}");
    assert_eq!(read(&merged)["totals"]["requests"].as_u64(), Some(target.hits()));
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

/// Outside try, items 1, 2 and 4: several pods' logs in one file (`kubectl logs -l ... >
/// all.log`) gave one segment only; a merged result merged again with one of its parts, or one
/// part twice, counted its requests twice; `-o` naming an input overwrote it; the merged
/// duration was one part's, not the parts' whole window.
#[test]
fn concatenated_logs_merge_whole_and_nothing_is_counted_twice() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let logs = [pod_log(&target, dir, "0/2"), pod_log(&target, dir, "1/2")];
    let all = dir.join("all.log");
    let both: String = logs.iter().map(|l| std::fs::read_to_string(l).unwrap()).collect();
    std::fs::write(&all, both).unwrap();
    let merged = dir.join("merged.json");
    // A floor leaves the stored ceiling count<1 judged (and failing); a ceiling replaces it.
    let floor_only = dir.join("floor.json");
    let out = merge(&[&all], &["-o", floor_only.to_str().unwrap(), "--threshold", "count>=1"]);
    assert_eq!(out.status.code(), Some(3), "count>=1 is judged beside the stored count<1: {}", text(&out));
    let out = merge(&[&all], &["-o", merged.to_str().unwrap(), "--threshold", "count<=1000000"]);
    assert_eq!(out.status.code(), Some(0), "--threshold replaces the stored count<1: {}", text(&out));
    let result = read(&merged);
    assert_eq!(result["totals"]["requests"].as_u64(), Some(target.hits()), "both segments: {}", text(&out));
    assert_eq!(result["segments"]["missing"], serde_json::json!([]));
    assert_eq!(result["thresholds"], serde_json::json!(["count<=1000000"]));
    assert!(text(&out).contains("scenario get merged from 2 results on 2 cores in all ("), "{}", text(&out));
    // The two pods ran one after the other: said, and the merged duration is their window.
    assert!(text(&out).contains("(their run windows did not overlap)"), "{}", text(&out));
    let parts = result["parts"].as_array().unwrap();
    let (first, last) = (&parts[0], &parts[1]);
    let window = last["started_at_unix_s"].as_f64().unwrap() + last["duration_s"].as_f64().unwrap()
        - first["started_at_unix_s"].as_f64().unwrap();
    let duration = result["duration_s"].as_f64().unwrap();
    assert!((duration - window).abs() < 0.01 && duration > 2.0, "{duration} vs {window}");
    let covers = result["covers"].as_array().unwrap();
    assert_eq!(covers.len(), 2, "{covers:?}");

    // compare takes one run: a file of several is refused, saying so.
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine")).arg("compare").args([&all, &logs[0]]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("all.log: holds 2 results (segments 0/2, 1/2); compare takes one"), "{}", text(&out));

    // A merged result with one of its parts, or a part twice: refused, naming both, nothing written.
    let again = dir.join("again.json");
    let merged_name = merged.display().to_string();
    for (inputs, first, second) in [
        ([merged.as_path(), logs[1].as_path()], merged_name.clone(), logs[1].display().to_string()),
        ([logs[0].as_path(), logs[0].as_path()], logs[0].display().to_string(), logs[0].display().to_string()),
    ] {
        let out = merge(&inputs, &["-o", again.to_str().unwrap()]);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{said}");
        assert!(said.contains(&format!("error: {first} and {second} both hold run ")), "{said}");
        assert!(said.contains("its requests would be counted twice; nothing written"), "{said}");
        assert!(!again.exists());
    }
    let out = merge(&[&all, &logs[0]], &["-o", again.to_str().unwrap()]);
    assert!(text(&out).contains("all.log (segment 0/2) and ") && !again.exists(), "{}", text(&out));

    // -o or --html naming an input: refused before anything is read or written.
    let before = std::fs::read(&logs[0]).unwrap();
    let out = merge(&[&logs[0], &logs[1]], &["-o", logs[0].to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("is one of the inputs"), "{}", text(&out));
    let out = merge(&[&logs[0], &logs[1]], &["-o", again.to_str().unwrap(), "--html", logs[1].to_str().unwrap()]);
    assert!(text(&out).contains("--html ") && text(&out).contains("is one of the inputs"), "{}", text(&out));
    assert_eq!(std::fs::read(&logs[0]).unwrap(), before, "the input is untouched");
    assert!(!again.exists());
}

/// Outside try, item 3: a percentile threshold is judged by each segment (its exit code 3),
/// a count is left to the merge; an interrupted part makes the merge exit 5, as a run does.
#[test]
fn segments_judge_their_percentiles_and_the_merge_judges_the_rest() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let url = format!("target_url={}", target.url("/"));
    let json = scratch.file("seg.json");
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "-q", "--duration", "300ms", "--config", &url, "--segment", "0/2"])
        .args(["--threshold", "p50<2us", "--threshold", "rps>0", "--json"])
        .arg(&json)
        .arg("--scenario")
        .arg(root().join("journeys/scenarios/get.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("threshold p50<2us: FAIL"), "{}", text(&out));
    assert!(text(&out).contains("threshold rps>0: left to merge"), "{}", text(&out));
    let merged = scratch.file("m.json");
    // One segment of two: an error (a CI gate on half the load must not pass) unless --partial.
    let out = merge(&[&json], &["-o", merged.to_str().unwrap(), "--threshold", "p50<60s"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("warning: segments missing: 1/2"), "{}", text(&out));
    assert!(text(&out).contains("segments are missing or given twice"), "{}", text(&out));
    let out = merge(&[&json], &["--partial", "-o", merged.to_str().unwrap(), "--threshold", "p50<60s"]);
    assert_eq!(out.status.code(), Some(0), "p50<60s replaces p50<2us; rps>0 holds: {}", text(&out));
    assert!(text(&out).contains("threshold rps>0: pass"), "{}", text(&out));
    let out = merge(&[&json], &["--partial", "-o", merged.to_str().unwrap(), "--threshold", "rps>1000000000"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let mut value = read(&json);
    value["stopped_by"] = "interrupted".into();
    std::fs::write(&json, value.to_string()).unwrap();
    let out = merge(&[&json], &["--partial", "-o", merged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "an interrupted part wins over a failed threshold: {}", text(&out));
    assert!(text(&out).contains("a part was interrupted"), "{}", text(&out));
}

/// Segments of different splits (0/2 beside 1/3) were said, then counted as if the split were
/// 2 (`missing: [1/2]`); a segment given by two runs named no file. The first is refused naming
/// one input of each split, nothing written; the second names both inputs.
#[test]
fn different_splits_are_refused_and_a_segment_twice_names_its_inputs() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let url = format!("target_url={}", target.url("/"));
    let json = scratch.file("seg.json");
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "-q", "--duration", "200ms", "--config", &url, "--segment", "0/2"])
        .arg("--json")
        .arg(&json)
        .arg("--scenario")
        .arg(root().join("journeys/scenarios/get.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let other_run = |name: &str, segment: &str| {
        let mut value = read(&json);
        value["segment"] = segment.into();
        support::another_injector(&mut value);
        value["run_id"] = format!("another-run-{name}").into();
        value["started_at_unix_s"] = (value["started_at_unix_s"].as_f64().unwrap() + 0.05).into();
        let path = scratch.file(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path
    };
    let (thirds, again) = (other_run("thirds.json", "1/3"), other_run("again.json", "0/2"));
    let merged = scratch.file("m.json");
    for partial in [&[][..], &["--partial"][..]] {
        let out = merge(&[&json, &thirds], &[partial, &["-o", merged.to_str().unwrap()]].concat());
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{said}");
        let named = format!("{} holds segment 0/2, {} holds segment 1/3", json.display(), thirds.display());
        assert!(said.contains(&format!("error: segments of different splits: {named}; nothing written")), "{said}");
        assert!(!said.contains("missing") && !merged.exists(), "{said}");
    }
    let out = merge(&[&json, &again], &["--partial", "-o", merged.to_str().unwrap()]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let twice = format!("0/2 in {} and {}", json.display(), again.display());
    assert!(said.contains(&format!("warning: segments given more than once (counted twice): {twice}")), "{said}");
    assert_eq!(read(&merged)["segments"]["repeated"], serde_json::json!(["0/2"]));
}

/// Outside try, items 4 and 5: a late start said by how much; sources of the segment that
/// disagree refused naming both; a segment the volume leaves nothing to warned about.
#[test]
fn late_starts_conflicting_segments_and_empty_shares_are_said() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let url = format!("target_url={}", target.url("/"));
    let get = root().join("journeys/scenarios/get.toml");
    let run_file = |scenario: &Path, extra: &[&str], env: &[(&str, &str)]| {
        Command::new(env!("CARGO_BIN_EXE_mite-engine"))
            .args(["--cores", "1", "--no-pin", "-q", "--duration", "200ms", "--config", &url, "--scenario"])
            .arg(scenario)
            .args(extra)
            .env_remove("MITE_SEGMENT")
            .env_remove("JOB_COMPLETION_INDEX")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let run = |extra: &[&str], env: &[(&str, &str)]| run_file(&get, extra, env);
    let past = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 30;
    let out = run(&["--start-at", &past.to_string()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("WARNING: the start time (--start-at) passed 3"), "{said}");
    assert!(said.contains("s late"), "{said}");
    let out = run(&["--segment", "0/2"], &[("MITE_SEGMENT", "1/2")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--segment 0/2 and MITE_SEGMENT 1/2 name different segments"), "{}", text(&out));
    let out = run(&["--segment", "1/2", "--segments", "2"], &[("JOB_COMPLETION_INDEX", "0")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--segment 1/2 and JOB_COMPLETION_INDEX 0 (with --segments 2)"), "{}", text(&out));
    let out = run(&["--segment", "1/2"], &[("MITE_SEGMENT", "1/2")]);
    assert_eq!(out.status.code(), Some(0), "agreeing sources are one segment: {}", text(&out));
    let scratch = Scratch::new();
    let one = scratch.file("one.toml");
    let text_of_get = std::fs::read_to_string(&get).unwrap();
    std::fs::write(&one, text_of_get.replace("volume = { constant = 64 }", "volume = { constant = 1 }")).unwrap();
    let out = run_file(&one, &["--segment", "1/2"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("WARNING: scenario entry 1 (get): its volume peaks at 1 journey"), "{}", text(&out));
}

/// `kubectl logs -f` of two pods interleaves their lines (each prefixed with its pod), and a
/// log collected twice holds one pod's frame twice: the interleaved frames were one frame cut
/// by the other's header ("incomplete"), and the repeated one a restarted container's. Each
/// segment's result is read whole, once: the merge holds exactly the target's count.
#[test]
fn interleaved_pods_and_a_repeated_frame_merge_to_the_targets_count() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let logs: Vec<Vec<String>> = ["0/2", "1/2"]
        .iter()
        .enumerate()
        .map(|(pod, segment)| {
            let text = std::fs::read_to_string(pod_log(&target, dir, segment)).unwrap();
            text.lines().map(|line| format!("[pod/mite-peak-{pod}-abc/mite] {line}")).collect()
        })
        .collect();
    let mut stream = String::new();
    for row in 0..logs[0].len().max(logs[1].len()) {
        for log in &logs {
            if let Some(line) = log.get(row) {
                stream.push_str(line);
                stream.push('\n');
            }
        }
    }
    // The first pod's log again, as a second collection of it appended to the file.
    stream.push_str(&logs[0].join("\n"));
    let all = dir.join("all.log");
    std::fs::write(&all, stream).unwrap();
    let merged = dir.join("merged.json");
    let out = merge(&[&all], &["-o", merged.to_str().unwrap()]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(3), "count<1 fails on the merged figures, nothing else: {said}");
    assert!(!said.contains("incomplete") && !said.contains("left out"), "{said}");
    assert!(
        said.contains("all.log: the result of segment 0/2 is in it 2 times (the same result read again): counted once"),
        "{said}"
    );
    let result = read(&merged);
    assert_eq!(result["totals"]["requests"].as_u64(), Some(target.hits()), "every request the target saw, once");
    assert_eq!(result["segments"]["missing"], serde_json::json!([]));
    assert_eq!(result["segments"]["repeated"], serde_json::json!([]));
}

/// Two injectors run without segments, their logs one after another: their frames cannot be
/// told from a restarted container's runs, so the last one stands, and the one left out is
/// said, never dropped silently.
#[test]
fn results_without_segments_in_one_log_say_what_was_left_out() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let url = format!("target_url={}", target.url("/"));
    let mut log = String::new();
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
            .args(["--cores", "1", "--no-pin", "-q", "--duration", "200ms", "--config", &url, "--json=-"])
            .arg("--scenario")
            .arg(root().join("journeys/scenarios/get.toml"))
            .env_remove("MITE_SEGMENT")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        log.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let all = scratch.file("all.log");
    std::fs::write(&all, log).unwrap();
    let merged = scratch.file("m.json");
    let out = merge(&[&all], &["-o", merged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("all.log: 1 whole result of segment none before its last left out"), "{}", text(&out));
    // Kept in the merged file as said, a result read later saying what was left out.
    let warnings: Vec<String> = serde_json::from_value(read(&merged)["warnings"].clone()).unwrap();
    let said = text(&out);
    // The inputs' own warnings (e.g. a saturated injector on a loaded machine) may come first.
    let left_out = said
        .lines()
        .filter_map(|l| l.strip_prefix("WARNING: "))
        .find(|w| w.contains("left out"))
        .expect("the warning said");
    assert!(warnings.iter().any(|w| w == left_out), "{warnings:?}");
}

/// Outside try: one byte that is not UTF-8 anywhere in a log (a pod's binary output, a
/// Latin-1 line) made merge refuse the whole log, naming a byte index. Such a line is skipped
/// as any other line that is not a frame's; a result file (JSON) with one is refused at its line.
#[test]
fn a_line_that_is_not_utf8_in_a_log_is_skipped() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let log = pod_log(&target, dir, "0/2");
    let mut bytes = b"caf\xe9 au lait\n".to_vec();
    bytes.extend(std::fs::read(&log).unwrap());
    bytes.extend(b"\xff\xfe trailing\n");
    let latin = dir.join("latin.log");
    std::fs::write(&latin, bytes).unwrap();
    let merged = dir.join("merged.json");
    let out = merge(&[&latin], &["--partial", "-o", merged.to_str().unwrap(), "--threshold", "count<=1000000"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(read(&merged)["totals"]["requests"].as_u64(), Some(target.hits()));

    let json = dir.join("bad.json");
    std::fs::write(&json, b"{\n\"scenario\": \"caf\xe9\"\n}").unwrap();
    let out = merge(&[&json], &["-o", dir.join("m2.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("bad.json is not text (UTF-8): a byte that is not UTF-8 at line 2"), "{}", text(&out));
}

/// A single-use CSV of one row over 2 segments: segment 1/2 gets no row. It says so before
/// the run, and it and segment 0/2 end at once (the one row used), never at the 20 s duration;
/// merged, the one request.
#[test]
fn a_segment_a_single_use_pool_gives_no_row_says_so_and_ends_at_once() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    std::fs::write(scratch.file("one.csv"), "id\n1\n").unwrap();
    let file = scratch.file("one.toml");
    std::fs::write(
        &file,
        "[datapools.p]\ncsv = \"one.csv\"\nrecyclable = false\n[journeys.j]\n\
         steps = [{ transaction = \"a\", url = \"{base}/echo/{id}\" }]\n\
         [[scenario]]\njourney = \"j\"\ndatapool = \"p\"\nvolume = { constant = 2 }\n",
    )
    .unwrap();
    let base = format!("base={}", target.url(""));
    let mut results = Vec::new();
    for segment in ["0/2", "1/2"] {
        let json = scratch.file(&format!("seg-{}.json", segment.replace('/', "-")));
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
            .args(["--cores", "1", "--no-pin", "-q", "--duration", "20s", "--config", &base, "--segment", segment])
            .arg("--json")
            .arg(&json)
            .arg("--scenario")
            .arg(&file)
            .output()
            .unwrap();
        let said = text(&out);
        assert_eq!(out.status.code(), Some(0), "{segment}: {said}");
        assert!(started.elapsed() < Duration::from_secs(10), "{segment}: {:?}: {said}", started.elapsed());
        assert_eq!(read(&json)["stopped_by"], "completed", "{segment}: {said}");
        let warned = "datapool \"p\" has 1 row, split across 2 segments: segment 1/2 gets none";
        assert_eq!(said.contains(warned), segment == "1/2", "{segment}: {said}");
        // One warning about the entry on the segment without a row, not a second for the run's cores.
        let about_the_entry = said.matches("scenario entry 1 (j)").count();
        assert_eq!(about_the_entry, 1, "{segment}: {said}");
        results.push(json);
    }
    assert_eq!(target.hits(), 1);
    let merged = scratch.file("merged.json");
    let out = merge(&[&results[0], &results[1]], &["-o", merged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}
