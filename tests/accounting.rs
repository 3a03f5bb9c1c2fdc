//! Issue 11, "every number right": arrivals under overload, requests sent against attempts
//! (a target killed half-way and restarted, a closed port), and small recyclable datapools,
//! each checked against the target's own counters.

use std::time::Duration;

use mite_core::volume::RateModel;
use mite_core::{RunResult, VolumeModel};
use mite_tests::{options, run, scenario};
use mite_tools::{Target, TargetOptions};

fn get(url: &str, volume: VolumeModel, opts: mite_core::RunOptions) -> RunResult {
    let registry = mite_journeys::registry();
    run(&registry, scenario("http_example:journey", volume), &[format!("target_url={url}")], opts)
}

/// Arrivals against a route that never answers: the queue fills, arrivals are missed, and
/// some are still queued at the stop. Before: requested = scheduled + missed counted those
/// twice, and arrivals taken after the stop vanished.
#[test]
fn arrivals_under_overload_add_up() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let volume =
        VolumeModel::Arrivals { rate: RateModel::Constant { per_s: 300.0, duration_s: None }, max_in_flight: 4 };
    let mut opts = options(2, Duration::from_secs(2));
    opts.http.request_timeout = Duration::from_millis(700);
    opts.grace = Duration::from_millis(300);
    let result = get(&target.url("/bad/silent"), volume, opts);
    let j = result.merged.journeys;
    assert_eq!(j.scheduled, j.arrivals_started + j.missed, "{j:?}");
    assert!((598..=602).contains(&j.scheduled), "requested {} for 300/s x 2s on 2 cores: {j:?}", j.scheduled);
    assert!(j.missed > 0 && j.arrivals_started > 0, "{j:?}");
    let json = mite_core::report::result_json(&result);
    assert_eq!(json["totals"]["arrivals"]["requested"].as_u64(), Some(j.scheduled));
}

/// A closed port: nothing is sent, every attempt is counted apart, and every failed connect
/// is counted. Before: the refused attempts were counted as requests sent and `connects` 0.
#[test]
fn closed_port_sends_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let result =
        get(&format!("http://127.0.0.1:{port}/"), VolumeModel::constant(2), options(1, Duration::from_secs(1)));
    let total = result.merged.total();
    assert_eq!(total.requests(), 0, "nothing reached a server");
    assert!(total.not_sent > 0, "{total:?}");
    assert_eq!(total.attempts(), total.not_sent);
    assert_eq!(total.errors_of(mite_core::stats::ErrorKind::Refused), total.not_sent);
    assert!(total.connects_failed > 0 && total.connects_failed == total.connects, "{total:?}");
    let json = mite_core::report::result_json(&result);
    assert_eq!(json["totals"]["requests"], 0);
    assert_eq!(json["totals"]["not_sent"].as_u64(), Some(total.not_sent));
    assert_eq!(json["totals"]["connects"]["failed"].as_u64(), Some(total.connects_failed));
    let table = mite_core::report::table(&result.merged, result.duration_s);
    assert!(table.contains("requests 0 in"), "{table}");
    assert!(table.contains("not sent"), "{table}");
}

/// Servers that answer garbage or reset: every connection opened is counted, though every
/// request failed. Before: `connects` moved on success only and read 0.
#[test]
fn failed_exchanges_still_count_their_connects() {
    let target = Target::start(TargetOptions::default()).unwrap();
    for path in ["/bad/garbage", "/bad/reset", "/bad/hangup"] {
        let result = get(&target.url(path), VolumeModel::Oneshot { journeys: 4 }, options(1, Duration::from_secs(10)));
        let total = result.merged.total();
        assert_eq!(total.req_ok, 0, "{path}");
        assert_eq!(total.requests(), 4, "{path}: every request was written");
        assert!(total.connects >= 4, "{path}: {} connects counted for 4 closed connections", total.connects);
        assert_eq!(total.connects_failed, 0, "{path}");
    }
}

/// The target is killed half-way through the run and restarted: the engine's requests equal
/// what the two servers parsed, give or take the requests in flight at the kill; the attempts
/// during the outage are `not_sent`, not requests. Before: they were counted as requests.
#[test]
fn target_killed_and_restarted_requests_match_the_servers() {
    const JOURNEYS: u64 = 4;
    let first = Target::start(TargetOptions::default()).unwrap();
    let addr = first.addr();
    let url = first.url("/delay/1");
    let restart = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        let hits_first = first.hits();
        first.stop();
        std::thread::sleep(Duration::from_millis(700));
        let second = Target::start(TargetOptions { addr, ..TargetOptions::default() }).unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        (hits_first, second)
    });
    let mut opts = options(1, Duration::from_secs(3));
    opts.http.connect_timeout = Duration::from_millis(200);
    let result = get(&url, VolumeModel::constant(JOURNEYS), opts);
    let (hits_first, second) = restart.join().unwrap();
    let hits = hits_first + second.hits();
    let total = result.merged.total();
    eprintln!(
        "engine: requests {}, not sent {}, connects {} (failed {}); servers parsed {hits}",
        total.requests(),
        total.not_sent,
        total.connects,
        total.connects_failed
    );
    assert!(total.not_sent > 0, "the outage should show as attempts not sent: {total:?}");
    assert!(total.connects_failed > 0, "{total:?}");
    assert!(
        total.requests().abs_diff(hits) <= JOURNEYS,
        "engine requests {} vs servers' {hits} (in flight at the kill at most {JOURNEYS}); not sent {}",
        total.requests(),
        total.not_sent
    );
    assert!(second.hits() > 0, "the restarted target was used again");
}

fn with_pool(volume: VolumeModel, rows: usize) -> mite_core::Scenario {
    let rows = (0..rows).map(|i| mite_core::Row::new([i.to_string()])).collect();
    mite_core::Scenario {
        name: "pool".into(),
        entries: vec![mite_core::ScenarioEntry {
            journey: "http_example:journey".into(),
            datapool: Some(mite_core::DataPool::recyclable("three", rows)),
            volume,
        }],
        config: mite_core::Config::default(),
    }
}

/// A 3-row recyclable pool feeding more journeys than rows: the slots wait for a check-in and
/// the run follows its volume model to the end. Before: the first moment all rows were out
/// ended the entry for good (the closed model stopped, the open model stopped scheduling).
#[test]
fn a_small_recyclable_pool_waits_for_rows_instead_of_ending() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let registry = mite_journeys::registry();
    let config = [format!("target_url={}", target.url("/delay/5"))];
    let closed =
        run(&registry, with_pool(VolumeModel::constant(6), 3), &config, options(1, Duration::from_millis(1500)));
    assert_eq!(closed.stopped_by, mite_core::run::StopReason::Duration, "the entry ended early");
    assert!(closed.merged.journeys.started > 100, "journeys started {}", closed.merged.journeys.started);
    assert!(closed.intervals.iter().all(|p| p.journeys_in_flight <= 3), "{:?}", closed.intervals);

    let rate = RateModel::Constant { per_s: 100.0, duration_s: None };
    let open = VolumeModel::Arrivals { rate, max_in_flight: 6 };
    let open = run(&registry, with_pool(open, 3), &config, options(1, Duration::from_millis(1500)));
    let j = open.merged.journeys;
    assert_eq!(j.scheduled, j.arrivals_started + j.missed, "{j:?}");
    assert!((149..=151).contains(&j.scheduled), "{j:?}");
    assert!(j.arrivals_started >= 140, "the open model kept scheduling: {j:?}");
    assert_eq!(closed.merged.total().requests() + open.merged.total().requests(), target.hits());
}

/// A capture that finds nothing fails its step's transaction. Before: it was counted under a
/// pseudo-transaction named after the journey.
#[test]
fn a_failed_capture_is_counted_under_its_step() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("mite-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("capture.toml");
    std::fs::write(
        &path,
        r#"name = "capture"
[journeys.login]
steps = [{ transaction = "token", url = "{base}/json", capture = { token = { json = "no.such.field" } } },
         { transaction = "use", url = "{base}/?t={token}" }]
[[scenario]]
journey = "login"
volume = { oneshot = 2 }
"#,
    )
    .unwrap();
    let overrides = vec![format!("base={}", target.url("").trim_end_matches('/'))];
    let loaded = mite_core::scenario_file::load(&path, &mite_journeys::registry(), &overrides).unwrap();
    let result = run(&loaded.registry, loaded.scenario, &overrides, options(1, Duration::from_secs(5)));
    let token = &result.merged.txns["token"];
    assert_eq!((token.txn_err, token.req_ok), (2, 2), "{:?}", result.merged.txns.keys().collect::<Vec<_>>());
    assert_eq!(result.merged.txns.get("login").map_or(0, |t| t.txn_err), 0, "counted under the journey's name");
    assert_eq!(result.merged.journeys.failed, 2);
    assert_eq!(target.hits(), 2, "the step after the failed capture did not run");
}
