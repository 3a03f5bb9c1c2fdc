//! The Kubernetes manifests parse, and the fields that must agree do.

use std::path::Path;

use serde::Deserialize;
use serde_yaml::Value;

fn documents() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/k8s/indexed-job.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml::Deserializer::from_str(&text).map(|d| Value::deserialize(d).unwrap()).collect()
}

#[test]
fn indexed_job_is_consistent() {
    let docs = documents();
    let job = docs.iter().find(|d| d["kind"] == "Job").expect("a Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let completions = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(completions));
    let pod = &spec["template"];
    assert_eq!(pod["metadata"]["annotations"]["prometheus.io/scrape"], "true");
    let container = &pod["spec"]["containers"][0];
    let args: Vec<&str> = container["args"].as_sequence().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(args.contains(&format!("--segments={completions}").as_str()), "{args:?}");
    assert!(args.contains(&"--json=-"));
    assert!(args.iter().any(|a| a.starts_with("--start-at=")));
    let port = pod["metadata"]["annotations"]["prometheus.io/port"].as_str().unwrap();
    assert!(args.contains(&format!("--prometheus=0.0.0.0:{port}").as_str()));
}

/// Issue 10: SIGTERM stops the engine gracefully; the pod's termination grace period must
/// outlast the engine's own grace (`--grace`, 5 s by default) plus time to write the result.
#[test]
fn termination_grace_outlasts_the_engines_grace() {
    let docs = documents();
    let pod = &docs.iter().find(|d| d["kind"] == "Job").expect("a Job")["spec"]["template"]["spec"];
    let args: Vec<&str> =
        pod["containers"][0]["args"].as_sequence().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let grace_s = args
        .iter()
        .find_map(|a| a.strip_prefix("--grace="))
        .map(|g| mite_core::scenario_file::parse_duration(g).unwrap().as_secs_f64())
        .unwrap_or(5.0);
    let termination_s = pod["terminationGracePeriodSeconds"].as_f64().expect("terminationGracePeriodSeconds is set");
    assert!(termination_s >= grace_s + 10.0, "terminationGracePeriodSeconds {termination_s} vs --grace {grace_s}s");
}

#[test]
fn embedded_scenario_is_valid() {
    let docs = documents();
    let config_map = docs.iter().find(|d| d["kind"] == "ConfigMap").expect("a ConfigMap");
    let scenario = config_map["data"]["peak.toml"].as_str().unwrap();
    let dir = std::env::temp_dir().join(format!("mite-k8s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("peak.toml");
    std::fs::write(&path, scenario).unwrap();
    let loaded = mite_core::scenario_file::load(&path, &mite_journeys::registry(), &[]).unwrap();
    assert!(loaded.scenario.entries[0].volume.is_open());
}
