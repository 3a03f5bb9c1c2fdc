//! What a merged result was made of: one line per input (its segment, how it stopped, its
//! counts, its driver), the segments of `K/N` that are missing or given twice, and the merged
//! `stopped_by` made `interrupted` when any part was. Works on result JSON, I/O-free.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Adds `parts`, `segments` and the worst `stopped_by` to `merged` (a result's JSON) from the
/// results it was merged from (`(source name, result JSON)`). Returns the warnings to print.
pub fn annotate(merged: &mut Value, inputs: &[(String, Value)]) -> Vec<String> {
    let parts: Vec<Value> = inputs
        .iter()
        .map(|(source, result)| {
            json!({
                "source": source,
                "segment": result["segment"],
                "stopped_by": result["stopped_by"],
                "duration_s": result["duration_s"],
                "requests": result["totals"]["requests"],
                "errors": result["totals"]["errors"],
                "driver": result["driver"],
                "driver_fallbacks": result["driver_fallbacks"],
            })
        })
        .collect();
    let mut warnings = Vec::new();
    let interrupted: Vec<String> = inputs
        .iter()
        .filter(|(_, r)| r["stopped_by"] == "interrupted")
        .map(|(source, r)| r["segment"].as_str().map_or_else(|| source.clone(), str::to_owned))
        .collect();
    if !interrupted.is_empty() {
        merged["stopped_by"] = json!("interrupted");
        warnings
            .push(format!("interrupted, so the merged result covers less than planned: {}", interrupted.join(", ")));
    }
    let segments = coverage(inputs, &mut warnings);
    let fallbacks: Vec<Value> = inputs
        .iter()
        .flat_map(|(source, r)| {
            let label = r["segment"].as_str().map_or_else(|| source.clone(), |s| format!("segment {s}"));
            r["driver_fallbacks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(move |f| json!(format!("{label}: {f}")))
        })
        .collect();
    merged["driver_fallbacks"] = Value::Array(fallbacks);
    merged["segments"] = segments;
    merged["interrupted_segments"] = json!(interrupted);
    merged["parts"] = Value::Array(parts);
    warnings
}

/// Which segments of `N` are present, missing and repeated.
fn coverage(inputs: &[(String, Value)], warnings: &mut Vec<String>) -> Value {
    let mut seen: BTreeMap<usize, BTreeMap<usize, usize>> = BTreeMap::new();
    for (_, result) in inputs {
        let Some((k, n)) = result["segment"].as_str().and_then(|s| s.split_once('/')) else { continue };
        if let (Ok(k), Ok(n)) = (k.parse::<usize>(), n.parse::<usize>()) {
            *seen.entry(n).or_default().entry(k).or_default() += 1;
        }
    }
    if seen.len() > 1 {
        let counts: Vec<String> = seen.keys().map(|n| format!("of {n}")).collect();
        warnings.push(format!("segments of different splits were merged ({})", counts.join(", ")));
    }
    let Some((&n, present)) = seen.iter().next() else { return Value::Null };
    let missing: Vec<String> = (0..n).filter(|k| !present.contains_key(k)).map(|k| format!("{k}/{n}")).collect();
    let repeated: Vec<String> = present.iter().filter(|(_, c)| **c > 1).map(|(k, _)| format!("{k}/{n}")).collect();
    if !missing.is_empty() {
        warnings.push(format!("segments missing: {}", missing.join(", ")));
    }
    if !repeated.is_empty() {
        warnings.push(format!("segments given more than once (counted twice): {}", repeated.join(", ")));
    }
    json!({ "of": n, "present": present.len(), "missing": missing, "repeated": repeated })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(segment: &str, stopped_by: &str, requests: u64) -> (String, Value) {
        let result = json!({"segment": segment, "stopped_by": stopped_by, "totals": {"requests": requests, "errors": 0},
            "driver": "io_uring", "driver_fallbacks": []});
        (format!("seg-{segment}.log"), result)
    }

    #[test]
    fn an_interrupted_segment_marks_the_merge() {
        let mut merged = json!({"stopped_by": "duration"});
        let inputs = [part("0/3", "duration", 10), part("1/3", "interrupted", 4), part("2/3", "duration", 10)];
        let warnings = annotate(&mut merged, &inputs);
        assert_eq!(merged["stopped_by"], "interrupted");
        assert_eq!(merged["interrupted_segments"], json!(["1/3"]));
        assert_eq!(merged["parts"][1]["stopped_by"], "interrupted");
        assert_eq!(merged["parts"][1]["requests"], 4);
        assert_eq!(merged["segments"], json!({"of": 3, "present": 3, "missing": [], "repeated": []}));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn missing_and_repeated_segments_are_named() {
        let mut merged = json!({"stopped_by": "duration"});
        let inputs = [part("0/4", "duration", 1), part("0/4", "duration", 1), part("3/4", "duration", 1)];
        let warnings = annotate(&mut merged, &inputs);
        assert_eq!(merged["stopped_by"], "duration");
        assert_eq!(merged["segments"]["missing"], json!(["1/4", "2/4"]));
        assert_eq!(merged["segments"]["repeated"], json!(["0/4"]));
        assert!(warnings.iter().any(|w| w == "segments missing: 1/4, 2/4"), "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("counted twice")), "{warnings:?}");
    }

    #[test]
    fn fallbacks_are_kept_per_segment() {
        let mut merged = json!({});
        let (source, mut result) = part("1/2", "duration", 1);
        result["driver_fallbacks"] = json!(["core 0: io_uring unavailable (seccomp); using epoll"]);
        annotate(&mut merged, &[part("0/2", "duration", 1), (source, result)]);
        assert_eq!(
            merged["driver_fallbacks"],
            json!(["segment 1/2: core 0: io_uring unavailable (seccomp); using epoll"])
        );
    }
}
