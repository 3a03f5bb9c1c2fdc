//! The Kubernetes manifests parse, and the fields that must agree do.

use std::path::Path;

use serde::Deserialize;
use serde_norway::Value;

fn documents() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/k8s/indexed-job.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_norway::Deserializer::from_str(&text).map(|d| Value::deserialize(d).unwrap()).collect()
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

/// Issue 17: the pod runs under the shipped Localhost seccomp profile (io_uring allowed), keeps
/// no capabilities (the profile's capability rules assume none), and a failed injector is never
/// retried (its segment would run twice) nor stops the others.
#[test]
fn pod_uses_the_shipped_seccomp_profile_and_no_retries() {
    let docs = documents();
    let job = docs.iter().find(|d| d["kind"] == "Job").expect("a Job");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let security = &container["securityContext"];
    assert_eq!(security["seccompProfile"]["type"], "Localhost");
    let profile = security["seccompProfile"]["localhostProfile"].as_str().unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/k8s").join(Path::new(profile).file_name().unwrap());
    let text =
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{profile} is shipped as {}: {e}", file.display()));
    let profile: serde_json::Value = serde_json::from_str(&text).unwrap();
    let allowed: Vec<&str> = profile["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "SCMP_ACT_ALLOW" && r["args"].is_null())
        .flat_map(|r| r["names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()))
        .collect();
    for name in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
        assert!(allowed.contains(&name), "{name}");
    }
    assert_eq!(security["capabilities"]["drop"][0], "ALL");
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(job["spec"]["backoffLimitPerIndex"].as_u64(), Some(0));
    assert!(
        job["spec"]["backoffLimit"].is_null(),
        "a global backoffLimit of 0 would stop every pod at the first failure"
    );
    assert!(!container["image"].as_str().unwrap().ends_with(":latest"), "a pinned image tag");
}

/// Issue 17: the image is built with the pinned toolchain and runs from a pinned minimal base
/// as a non-root user; the empty-root proof installs the binary where the image does.
#[test]
fn dockerfile_pins_its_toolchain_and_runs_unprivileged() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dockerfile = std::fs::read_to_string(dir.join("tools/k8s/Dockerfile")).unwrap();
    let toolchain = std::fs::read_to_string(dir.join("rust-toolchain.toml")).unwrap();
    let channel = toolchain.lines().find_map(|l| l.strip_prefix("channel = ")).unwrap().trim_matches('"');
    let froms: Vec<&str> = dockerfile.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "multi-stage: build, then run");
    assert!(
        froms[0].contains(&format!("rust:{channel}-")),
        "build with the toolchain rust-toolchain.toml names: {froms:?}"
    );
    assert!(froms[1].contains("distroless/") && froms[1].contains(":nonroot"), "{froms:?}");
    assert!(froms.iter().all(|f| !f.contains(":latest")), "{froms:?}");
    let user = dockerfile.lines().find_map(|l| l.strip_prefix("USER ")).expect("a USER line");
    assert!(!user.starts_with('0') && !user.starts_with("root"), "non-root: {user}");
    assert!(dockerfile.contains("--locked"), "the build uses Cargo.lock");
    let script = std::fs::read_to_string(dir.join("tools/k8s/empty-root.sh")).unwrap();
    let entry = "/usr/local/bin/mite-engine";
    assert!(dockerfile.contains(&format!("ENTRYPOINT [\"{entry}\"]")) && script.contains(entry));
    let docs = documents();
    let job = docs.iter().find(|d| d["kind"] == "Job").unwrap();
    let uid = job["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"].as_u64().unwrap();
    assert_eq!(user.split(':').next().unwrap().parse::<u64>().unwrap(), uid, "the Job runs the image's user");
}

/// Issue 15: the image is built with a profile Cargo.toml defines (the peak one, the release
/// profile with thin LTO and one code unit per crate) and installs the binary from that
/// profile's folder, not a stale `target/release` one.
#[test]
fn dockerfile_builds_a_defined_profile_and_installs_its_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dockerfile = std::fs::read_to_string(dir.join("tools/k8s/Dockerfile")).unwrap();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let profile = dockerfile
        .split_whitespace()
        .skip_while(|word| *word != "--profile")
        .nth(1)
        .expect("the image's cargo build names its profile (--profile NAME)");
    let section: Vec<&str> = manifest
        .lines()
        .skip_while(|line| line.trim() != format!("[profile.{profile}]"))
        .skip(1)
        .take_while(|line| !line.starts_with('['))
        .collect();
    assert!(!section.is_empty(), "Cargo.toml defines no [profile.{profile}] for the image");
    assert!(section.contains(&"inherits = \"release\""), "[profile.{profile}] inherits release: {section:?}");
    let binary = format!("target/{profile}/mite-engine");
    assert!(dockerfile.contains(&binary), "the image installs {binary}");
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
        .map(|g| mite_core::scenario::file::parse_duration(g).unwrap().as_secs_f64())
        .unwrap_or(5.0);
    let termination_s = pod["terminationGracePeriodSeconds"].as_f64().expect("terminationGracePeriodSeconds is set");
    // After SIGTERM: the grace, then at most CORE_HELD_MAX for a core that never yields,
    // then the result written (a few seconds of margin).
    let held_s = mite_core::limits::CORE_HELD_MAX.as_secs_f64();
    assert!(
        termination_s >= grace_s + held_s + 10.0,
        "terminationGracePeriodSeconds {termination_s} vs --grace {grace_s}s + {held_s}s for a held core"
    );
}

#[test]
fn embedded_scenario_is_valid() {
    let docs = documents();
    let config_map = docs.iter().find(|d| d["kind"] == "ConfigMap").expect("a ConfigMap");
    let scenario = config_map["data"]["peak.toml"].as_str().unwrap();
    let dir = mite_tests::ScenarioDir::new();
    let path = dir.write("peak.toml", scenario);
    let loaded = mite_core::scenario::file::load(&path, &mite_journeys::registry(), &[]).unwrap();
    assert!(loaded.scenario.entries[0].volume.is_open());
}

/// Issue 17: every metric and label README's PromQL names is one the engine serves (the pods'
/// scrape labels `pod` and `namespace` aside), read from a real run's exposition.
#[test]
fn readme_promql_names_what_the_engine_serves() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let start = readme.find("```promql\n").expect("a promql block in README") + "```promql\n".len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let target = mite_tools::Target::start(mite_tools::TargetOptions::default()).unwrap();
    let scenario = mite_tests::scenario("http_example:journey", mite_core::VolumeModel::constant(2));
    // A status the journey does not expect, so that the error series (and its `kind`) exist.
    let overrides = [format!("target_url={}", target.url("/status/503"))];
    let result = mite_tests::run(
        &mite_journeys::registry(),
        scenario,
        &overrides,
        mite_tests::options(1, std::time::Duration::from_millis(500)),
    );
    let served = mite_core::output::exposition::render(&result.merged, &[], 0, 0);
    let queries: Vec<&str> =
        block.lines().filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty()).collect();
    assert!(queries.len() >= 6, "{block}");
    for word in block.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("mite_") {
            assert!(
                served.contains(&format!("{word}{{")) || served.contains(&format!("{word} ")),
                "{word} is not served"
            );
        }
    }
    // The error ratio's denominator (responses plus failures without a response) is the
    // engine's own request count.
    let sum = |prefix: &str, keep: &dyn Fn(&str) -> bool| -> u64 {
        served
            .lines()
            .filter(|l| l.starts_with(prefix) && keep(l))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    };
    let responses = sum("mite_http_response_total{", &|_| true);
    let failed_unanswered = sum("mite_http_request_error_total{", &|l| !l.contains("kind=\"status\""));
    let errors = sum("mite_http_request_error_total{", &|_| true);
    let total = result.merged.total();
    assert!(total.requests() > 0);
    assert_eq!(responses + failed_unanswered, total.requests(), "{served}");
    assert_eq!(errors, total.req_errors(), "{served}");
    // Every label the queries group by or select on (the scrape's `pod` and `namespace` aside).
    let mut labels = Vec::new();
    for (i, _) in block.match_indices("by (") {
        let inside = &block[i + 4..i + 4 + block[i + 4..].find(')').unwrap()];
        labels.extend(inside.split(',').map(str::trim));
    }
    for (i, _) in block.match_indices('{') {
        let inside = &block[i + 1..i + 1 + block[i + 1..].find('}').unwrap()];
        labels.extend(inside.split(',').filter_map(|m| m.split(['=', '!']).next()).map(str::trim));
    }
    labels.retain(|l| !["pod", "namespace", ""].contains(l));
    assert!(labels.contains(&"le") && labels.contains(&"kind"), "{labels:?}");
    for label in labels {
        assert!(served.contains(&format!("{label}=\"")), "label {label} is not served:\n{served}");
    }
}
