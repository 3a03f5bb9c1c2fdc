//! `merge`'s timeline end to end: two segments of one run started together (`--start-at`)
//! merge into a timeline whose intervals add theirs, drawn on the merged page; segments
//! started apart are added where their intervals overlap, and the merge says what it left out.

mod support;
use support::{Scratch, text};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use mite_tools::{Target, TargetOptions};

fn get_toml() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../journeys/scenarios/get.toml")
}

fn read(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Segment `segment` of a 2 s run at `tick` started at `start_at` (Unix seconds), into `json`.
fn segment(target: &Target, segment: &str, start_at: u64, json: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "-q", "--duration", "2s", "--tick", "500ms", "--segment", segment])
        .args(["--start-at", &start_at.to_string(), "--config", &format!("target_url={}", target.url("/"))])
        .arg("--json")
        .arg(json)
        .arg("--scenario")
        .arg(get_toml())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A merged result had no timeline, and its page said only "no common timeline". Two
/// segments started together: each merged interval holds both parts' counts, its end from the
/// merge's start; no percentile is made up; the page draws it. Started a second apart: the
/// intervals at the same times are added, the others left out and named.
#[test]
fn segments_started_together_merge_into_one_timeline() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let (a, b) = (scratch.file("a.json"), scratch.file("b.json"));
    let start = now_s() + 2;
    let mut runs = [segment(&target, "0/2", start, &a), segment(&target, "1/2", start, &b)];
    for run in &mut runs {
        assert!(run.wait().unwrap().success());
    }
    let (merged, page) = (scratch.file("m.json"), scratch.file("m.html"));
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .arg("merge")
        .args([&a, &b])
        .arg("-o")
        .arg(&merged)
        .arg("--html")
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("do not line up"), "{}", text(&out));
    let (ra, rb, m) = (read(&a), read(&b), read(&merged));
    let intervals = |v: &serde_json::Value| v["intervals"].as_array().unwrap().clone();
    let (ia, ib, im) = (intervals(&ra), intervals(&rb), intervals(&m));
    assert!(ia.len() >= 4 && ia.len() == ib.len() && im.len() == ia.len(), "{} {} {}", ia.len(), ib.len(), im.len());
    for ((pa, pb), pm) in ia.iter().zip(&ib).zip(&im) {
        for field in ["requests", "errors", "transactions", "journeys_in_flight"] {
            assert_eq!(pm[field].as_u64(), Some(pa[field].as_u64().unwrap() + pb[field].as_u64().unwrap()), "{field}");
        }
        assert!(pm["p99_us"].is_null() && pm["latency"].is_null(), "{pm}");
    }
    let requests: u64 = im.iter().map(|p| p["requests"].as_u64().unwrap()).sum();
    assert_eq!(requests, m["totals"]["requests"].as_u64().unwrap(), "every request in one interval");
    let html = std::fs::read_to_string(&page).unwrap();
    // The page's data holds the merged timeline beside each segment's (it had the segments' only).
    assert_eq!(html.matches("\"elapsed_s\"").count(), 3 * im.len(), "the merged page draws the merged timeline");
    // Started apart: not added, and said.
    let (c, d) = (scratch.file("c.json"), scratch.file("d.json"));
    let start = now_s() + 2;
    let mut runs = [segment(&target, "0/2", start, &c), segment(&target, "1/2", start + 1, &d)];
    for run in &mut runs {
        assert!(run.wait().unwrap().success());
    }
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .arg("merge")
        .args([&c, &d])
        .arg("-o")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Their intervals that overlap in time (a tick is 500 ms: c's third and fourth, d's first
    // two) line up by their start and are added; the rest is left out, each named.
    let said = text(&out);
    assert!(said.contains("warning: the parts' intervals do not all line up"), "{said}");
    assert!(said.contains("c.json intervals[0] (run, 0.000 s to 0.5"), "{said}");
    assert!(
        said.contains("no interval of every other part starts then (") && said.contains("has no interval left by then"),
        "{said}"
    );
    let (rc, rm) = (read(&c), read(&merged));
    let im = rm["intervals"].as_array().unwrap();
    assert!(!im.is_empty() && im.len() < rc["intervals"].as_array().unwrap().len(), "{}", rm["intervals"]);
}
