//! `merge` as a performance engineer who distrusts it tries it: the merged file, table and page
//! agree with each other and with the parts' sums; a part edited by hand (a count, a
//! percentile above the max) is refused naming the file and the field, and nothing is written.

mod support;
use support::{Scratch, text};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mite_core::output::units::grouped;
use mite_tools::{Target, TargetOptions};
use serde_json::Value;

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// One segment of a run of two transactions, one of them answered 500 (a failure, counted).
fn segment(target: &Target, dir: &Path, segment: &str) -> PathBuf {
    let scenario = dir.join("two.toml");
    let toml = format!(
        "name = \"two\"\n[journeys.j]\nsteps = [ {{ transaction = \"get\", url = \"{}\" }}, \
         {{ transaction = \"fails\", url = \"{}\" }} ]\n[[scenario]]\njourney = \"j\"\nvolume = {{ constant = 2 }}\n",
        target.url("/"),
        target.url("/status/500")
    );
    std::fs::write(&scenario, toml).unwrap();
    let json = dir.join(format!("seg-{}.json", segment.replace('/', "-")));
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "--duration", "1s", "-q", "--segment", segment, "--scenario"])
        .arg(&scenario)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    json
}

fn merge(inputs: &[&Path], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mite-engine")).arg("merge").args(inputs).args(extra).output().unwrap()
}

fn u(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("a count: {value}"))
}

#[test]
fn the_merged_file_table_and_page_agree_with_the_parts() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let (a, b) = (segment(&target, dir, "0/2"), segment(&target, dir, "1/2"));
    let (merged, page) = (dir.join("merged.json"), dir.join("merged.html"));
    let out = merge(
        &[&a, &b],
        &["-o", merged.to_str().unwrap(), "--html", page.to_str().unwrap(), "--threshold", "get:p99<60s"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (m, parts) = (read(&merged), [read(&a), read(&b)]);
    let sum = |field: &str| parts.iter().map(|p| u(&p["totals"][field])).sum::<u64>();
    for field in ["requests", "ok", "errors", "not_sent", "transactions", "transaction_errors"] {
        assert_eq!(u(&m["totals"][field]), sum(field), "totals.{field}");
    }
    assert!(u(&m["totals"]["errors"]) > 0, "the 500s are failures: {}", m["totals"]);
    let listed = |field: &str| m["parts"].as_array().unwrap().iter().map(|p| u(&p[field])).sum::<u64>();
    assert_eq!((listed("requests"), listed("errors")), (sum("requests"), sum("errors")), "parts[] add up");
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let requests = u(&m["totals"]["requests"]);
    assert!(table.contains(&format!("requests {} in ", grouped(requests))), "{table}");
    for txn in m["transactions"].as_array().unwrap() {
        let name = txn["name"].as_str().unwrap();
        let of_parts: u64 = parts
            .iter()
            .flat_map(|p| p["transactions"].as_array().unwrap().iter().filter(|t| t["name"] == name))
            .map(|t| u(&t["count"]))
            .sum();
        assert_eq!(u(&txn["count"]), of_parts, "{name}");
        let row = table.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{table}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[1], grouped(of_parts), "{row}");
        // The row's p99 is the merged file's, in ms.
        let p99_ms = u(&txn["latency_us"]["p99"]) as f64 / 1000.0;
        assert!(row.contains(&mite_core::output::units::ms(u(&txn["latency_us"]["p99"]))), "{row} vs {p99_ms}");
    }
    let threshold_line = text(&out).lines().find(|l| l.starts_with("threshold get:p99<60s")).unwrap().to_string();
    let get = m["transactions"].as_array().unwrap().iter().find(|t| t["name"] == "get").unwrap();
    let shown = format!("{:.2}ms", u(&get["latency_us"]["p99"]) as f64 / 1000.0);
    assert!(threshold_line.ends_with(&format!("pass (actual {shown})")), "{threshold_line}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains(&format!("\"requests\":{requests}")), "the page's merged totals");
    target.stop();
}

#[test]
fn a_part_edited_by_hand_is_refused_and_nothing_is_written() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let (a, b) = (segment(&target, dir, "0/2"), segment(&target, dir, "1/2"));
    let edited = dir.join("edited.json");
    let merged = dir.join("merged.json");
    // `b` edited, merged beside `a` (and beside `b` itself when `again`).
    let refused_beside = |again: bool, edit: &dyn Fn(&mut Value)| {
        let mut file = read(&b);
        edit(&mut file);
        std::fs::write(&edited, serde_json::to_string(&file).unwrap()).unwrap();
        let inputs: &[&Path] = if again { &[&a, &b, &edited] } else { &[&a, &edited] };
        let out = merge(inputs, &["-o", merged.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(!merged.exists(), "nothing written");
        text(&out)
    };
    let refused = |edit: &dyn Fn(&mut Value)| refused_beside(false, edit);
    let said = refused(&|f| f["totals"]["requests"] = Value::from(u(&f["totals"]["requests"]) + 1));
    assert!(said.contains("edited.json: totals.requests: ") && said.contains("where its raw counters hold"), "{said}");
    let said = refused(&|f| f["transactions"][0]["count"] = Value::from(1_000_000));
    assert!(said.contains("edited.json: transactions[0].count: 1000000 where"), "{said}");
    let said = refused(&|f| {
        let max = u(&f["transactions"][0]["latency_us"]["max"]);
        f["transactions"][0]["latency_us"]["p99"] = Value::from(max + 1_000);
    });
    assert!(said.contains("edited.json is not a mite-engine result: transactions[0].latency_us.p99: "), "{said}");
    let said =
        refused(&|f| f["transactions"][0]["raw"]["txn_us"] = Value::from("HISTFAAAACx4nJNpmSzMwMDAxAABzFCaEUzOmNZg"));
    assert!(said.contains("transactions[0].raw.txn_us: histogram does not decode"), "{said}");
    let said = refused(&|f| f["format_version"] = Value::from(99));
    assert!(said.contains("edited.json: result format version 99 is newer"), "{said}");
    // The same part again: under another name, with its run id forged, or its segment
    // written another way, it is still one part.
    let refused = |edit: &dyn Fn(&mut Value)| refused_beside(true, edit);
    let said = refused(&|_| {});
    assert!(said.contains("seg-1-2.json and ") && said.contains("edited.json both hold run "), "{said}");
    let said = refused(&|f| f["run_id"] = Value::from("forged"));
    assert!(
        said.contains("edited.json (run id forged, segment 1/2, started at ") && said.contains(" are one part: "),
        "{said}"
    );
    assert!(said.ends_with("would be counted twice; nothing written (give each part once)\n"), "{said}");
    // Its start moved too, or its id removed and its start moved: the start is a label as well.
    let later = |f: &mut Value| f["started_at_unix_s"] = Value::from(f["started_at_unix_s"].as_f64().unwrap() + 0.05);
    let said = refused(&|f| {
        f["run_id"] = Value::from("forged");
        later(f);
    });
    assert!(
        said.contains("seg-1-2.json (run id ") && said.contains("edited.json (run id forged, segment 1/2, "),
        "{said}"
    );
    assert!(said.contains(" are one part: "), "{said}");
    let said = refused(&|f| {
        f.as_object_mut().unwrap().remove("run_id");
        later(f);
    });
    assert!(
        said.contains("edited.json (run id none, segment 1/2, started at ") && said.contains(" are one part: "),
        "{said}"
    );
    let said = refused(&|f| f["segment"] = Value::from("01/2"));
    assert!(said.contains("segment: \"01/2\" is not a segment (K/N, K below N)"), "{said}");
    target.stop();
}

/// Parts that did not run together (a `--start-at` missed, a segment run again later) merge:
/// their counts and percentiles are still every part's. Their merged rate is over both windows
/// and the gap between them, the rate of no moment, so a gate on a rate is not judged (exit 1,
/// naming the parts and the gap) rather than passed or failed on it.
#[test]
fn parts_apart_in_time_merge_but_a_rate_over_their_gap_is_not_judged() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let (a, b) = (segment(&target, dir, "0/2"), segment(&target, dir, "1/2"));
    let late = dir.join("late.json");
    let mut file = read(&b);
    file["started_at_unix_s"] = Value::from(file["started_at_unix_s"].as_f64().unwrap() + 100.0);
    std::fs::write(&late, serde_json::to_string(&file).unwrap()).unwrap();
    let merged = dir.join("merged.json");
    let o = ["-o", merged.to_str().unwrap()];
    let out = merge(&[&a, &late], &[&o[..], &["--threshold", "get:p99<60s"]].concat());
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("late.json ran ") && said.contains("(a threshold on a rate is not judged)"), "{said}");
    let out = merge(&[&a, &late], &[&o[..], &["--threshold", "rps>0"]].concat());
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("apart (their run windows did not overlap): a rate over them is no moment's rate"), "{said}");
    assert_eq!(read(&merged)["thresholds"], serde_json::json!(["rps>0"]), "the merge is written all the same");
    // The same parts as if started together (the test runs them one after the other).
    file["started_at_unix_s"] = Value::from(read(&a)["started_at_unix_s"].as_f64().unwrap() + 0.1);
    std::fs::write(&late, serde_json::to_string(&file).unwrap()).unwrap();
    let out = merge(&[&a, &late], &[&o[..], &["--threshold", "rps>0"]].concat());
    assert_eq!(out.status.code(), Some(0), "parts that ran together: {}", text(&out));
    target.stop();
}

/// Outside try: result files edited by hand or broken (negative counts, percentiles out of
/// order, missing fields, huge numbers, a truncated file, a directory) given to `merge` and to
/// `compare`: each is refused with exit 1, naming the file and the field, never a panic, and
/// nothing is written. A name in any script (a transaction renamed, bidirectional control
/// included) merges and compares like any other.
#[test]
fn broken_and_hand_edited_files_are_refused_naming_the_file_and_the_field() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let dir = scratch.path();
    let (a, b) = (segment(&target, dir, "0/2"), segment(&target, dir, "1/2"));
    target.stop();
    let (merged, page) = (dir.join("merged.json"), dir.join("page.html"));
    let edited = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut file = read(&b);
        edit(&mut file);
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
        path
    };
    let max = |f: &Value| u(&f["totals"]["latency_us"]["max"]);
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            edited("negative.json", &|f| f["totals"]["requests"] = Value::from(-5)),
            "totals.requests: invalid value: integer `-5`",
        ),
        (
            edited("negative-count.json", &|f| f["transactions"][0]["count"] = Value::from(-1)),
            "transactions[0].count: invalid value",
        ),
        (
            edited("order.json", &|f| f["totals"]["latency_us"]["p50"] = Value::from(max(f) + 10)),
            "totals.latency_us.p50: ",
        ),
        (
            edited("interval-order.json", &|f| {
                f["intervals"][0]["latency"] =
                    serde_json::json!({"p50_us": 900, "p90_us": 10, "p99_us": 5, "max_us": 1});
            }),
            "intervals[0].latency.p50_us: 900 is above p90_us 10",
        ),
        (
            edited("interval-early.json", &|f| f["intervals"][0]["elapsed_s"] = Value::from(-3)),
            "intervals[0].elapsed_s: -3 is before the run's start",
        ),
        (edited("no-totals.json", &|f| drop(f.as_object_mut().unwrap().remove("totals"))), "missing field `totals`"),
        (
            edited("nameless.json", &|f| drop(f["transactions"][0].as_object_mut().unwrap().remove("name"))),
            "transactions[0]: missing field `name`",
        ),
        (
            edited("huge.json", &|f| f["totals"]["requests"] = Value::from(u64::MAX)),
            "totals.requests: 18446744073709551615 where its raw counters hold",
        ),
        (
            edited("huge-float.json", &|f| f["totals"]["requests"] = Value::from(1e300)),
            "totals.requests: invalid type: floating point",
        ),
        (
            edited("huge-raw.json", &|f| f["transactions"][0]["raw"]["txn_ok"] = Value::from(u64::MAX)),
            "transactions[0].raw.txn_ok: 18446744073709551615 is beyond any run",
        ),
        (edited("long.json", &|f| f["duration_s"] = Value::from(1e308)), "duration_s: 1e308 is not a run's length"),
    ];
    let whole = std::fs::read_to_string(&b).unwrap();
    let truncated = dir.join("truncated.json");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let directory = dir.join("directory.json");
    std::fs::create_dir(&directory).unwrap();
    let empty = dir.join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let broken = [
        (truncated, "the file is cut short (a copy or a write that did not finish?)"),
        (directory, "is a directory, not a result file: give a file's path"),
        (empty, "is not a mite-engine result (JSON) nor a log holding one: it is empty"),
    ];
    for (path, field) in cases.iter().map(|(p, f)| (p, *f)).chain(broken.iter().map(|(p, f)| (p, *f))) {
        let name = path.file_name().unwrap().to_str().unwrap();
        let out = merge(&[&a, path], &["-o", merged.to_str().unwrap(), "--html", page.to_str().unwrap()]);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "merge {name}: {said}");
        assert!(said.contains(name) && said.contains(field) && !said.contains("panicked"), "merge {name}: {said}");
        assert!(!merged.exists() && !page.exists(), "merge {name}: nothing written");
        let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
            .args(["compare", a.to_str().unwrap(), path.to_str().unwrap(), "--html", page.to_str().unwrap()])
            .output()
            .unwrap();
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "compare {name}: {said}");
        assert!(said.contains(name) && said.contains(field) && !said.contains("panicked"), "compare {name}: {said}");
        assert!(!page.exists(), "compare {name}: nothing written");
    }
    // A name in any script merges and compares as any other, kept as it was written.
    let renamed = "Ünïcødé ✓ 名前 \u{202e}rtl";
    let unicode = edited("unicode.json", &|f| f["transactions"][0]["name"] = Value::from(renamed));
    let out = merge(&[&a, &unicode], &["-o", merged.to_str().unwrap(), "--html", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(read(&merged)["transactions"].as_array().unwrap().iter().any(|t| t["name"] == renamed));
    let out = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["compare", a.to_str().unwrap(), unicode.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 4)) && !text(&out).contains("panicked"), "{}", text(&out));
}
