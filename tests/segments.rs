//! Scale-out by execution segments: N injectors each run their share; merged, they equal one
//! run. Shares add up exactly and no datapool row is used twice.

use std::time::Duration;

use mite_core::{DataPool, Row, RunResult, ScenarioEntry, VolumeModel};
use mite_tests::{options, run, scenario};
use mite_tools::{Target, TargetOptions};

fn users(rows: usize) -> DataPool {
    DataPool::single_use("users", (0..rows).map(|i| Row::new([format!("user-{i}")])).collect())
}

fn recycled() -> DataPool {
    DataPool::recyclable("ids", (0..50).map(|i| Row::new([format!("id-{i}")])).collect())
}

fn run_segment(target: &Target, segment: (usize, usize), volume: VolumeModel, pool: Option<DataPool>) -> RunResult {
    let registry = mite_journeys::registry();
    let mut s = scenario("http_example:user_journey", volume.clone());
    s.entries = vec![ScenarioEntry { journey: "http_example:user_journey".into(), datapool: pool, volume }];
    let mut opts = options(2, Duration::from_secs(20));
    opts.segment = segment;
    run(&registry, s, &[format!("target_url={}", target.url("/"))], opts)
}

#[test]
fn segments_merge_to_the_same_totals_as_one_run() {
    const ROWS: usize = 301;
    let one = Target::start(TargetOptions::default()).unwrap();
    let single = run_segment(&one, (0, 1), VolumeModel::constant(6), Some(users(ROWS)));
    assert_eq!(single.merged.total().req_ok as usize, ROWS);

    let many = Target::start(TargetOptions::default()).unwrap();
    let parts: Vec<RunResult> =
        (0..3).map(|k| run_segment(&many, (k, 3), VolumeModel::constant(6), Some(users(ROWS)))).collect();
    // Each segment used only its own rows: 101 + 100 + 100.
    let per_segment: Vec<u64> = parts.iter().map(|r| r.merged.total().req_ok).collect();
    assert_eq!(per_segment, vec![101, 100, 100]);
    let merged = mite_core::output::results::merge(&parts).unwrap();
    assert_eq!(merged.merged.total().requests(), single.merged.total().requests());
    assert_eq!(merged.merged.journeys.ok, single.merged.journeys.ok);
    assert_eq!(many.hits() as usize, ROWS, "no row used twice across injectors");
    assert_eq!(merged.cores.len(), 6);
}

#[test]
fn oneshot_shares_add_up_across_segments_and_cores() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let started: Vec<u64> = (0..3)
        .map(|k| {
            run_segment(&target, (k, 3), VolumeModel::Oneshot { journeys: 10 }, Some(recycled()))
                .merged
                .journeys
                .started
        })
        .collect();
    assert_eq!(started, vec![4, 3, 3]);
    assert_eq!(target.hits(), 10);
}

#[test]
fn merged_result_file_round_trips_through_json() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let parts: Vec<RunResult> =
        (0..2).map(|k| run_segment(&target, (k, 2), VolumeModel::Oneshot { journeys: 8 }, Some(recycled()))).collect();
    let files: Vec<RunResult> = parts
        .iter()
        .map(|r| {
            use mite_core::output::result_file::{ResultFile, read_run, result_file};
            let text = result_file(r, true).to_json_pretty();
            read_run(&ResultFile::read(&text, "part").unwrap(), "part").unwrap()
        })
        .collect();
    let merged = mite_core::output::results::merge(&files).unwrap();
    let direct = mite_core::output::results::merge(&parts).unwrap();
    let (a, b) = (merged.merged.total(), direct.merged.total());
    assert_eq!(a.requests(), 8);
    assert_eq!(a.requests(), b.requests());
    for q in [0.5, 0.99, 1.0] {
        assert_eq!(a.req_us.value_at_quantile(q), b.req_us.value_at_quantile(q));
    }
    assert_eq!(parts[1].segment.as_deref(), Some("1/2"));
}
