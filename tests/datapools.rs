//! Datapools end to end, counted by the target: a single-use pool named by several scenario
//! entries hands each row out once in all (across entries, cores and execution segments),
//! whether its rows are a range or a CSV file's; a core or segment that will never draw its
//! rows (none there, or no journey of the pool's entries there) ends at once, not at the
//! duration.

use std::collections::BTreeMap;
use std::time::Duration;

use mite_core::run::StopReason;
use mite_tests::{ScenarioDir, assert_target_saw_every_request, options, run_file};
use mite_tools::{Target, TargetOptions};

/// The outside tester's `shared.toml`: one single-use pool `p`, entries `j` and `k` both naming
/// it, with `journeys` in flight each; each journey sends its row's id in its path.
fn shared_pool_scenario(pool: &str, journeys: (u64, u64)) -> String {
    format!(
        r#"name = "shared"
[datapools.p]
{pool}
recyclable = false
[journeys.j]
steps = [ {{ transaction = "a", method = "POST", url = "{{base}}/echo/j/{{id}}", body = "{{id}}" }} ]
[journeys.k]
steps = [ {{ transaction = "b", method = "POST", url = "{{base}}/echo/k/{{id}}", body = "{{id}}" }} ]
[[scenario]]
journey = "j"
datapool = "p"
volume = {{ constant = {} }}
[[scenario]]
journey = "k"
datapool = "p"
volume = {{ constant = {} }}
"#,
        journeys.0, journeys.1
    )
}

/// The ids the target saw under `/echo/j/` and `/echo/k/`, with how many times each, and how
/// many requests each entry sent.
fn ids_seen(target: &Target) -> (BTreeMap<u64, u64>, u64, u64) {
    let mut ids = BTreeMap::new();
    let (mut j, mut k) = (0, 0);
    for (path, hits) in target.route_counts() {
        let Some((entry, id)) = path.strip_prefix("/echo/").and_then(|rest| rest.split_once('/')) else { continue };
        *ids.entry(id.parse::<u64>().expect("a numeric id")).or_default() += hits;
        match entry {
            "j" => j += hits,
            _ => k += hits,
        }
    }
    (ids, j, k)
}

/// Runs the file as segment `segment` on 2 cores until the pool runs out.
fn run_until_the_rows_run_out(path: &std::path::Path, target: &Target, segment: (usize, usize)) {
    let mut opts = options(2, Duration::from_secs(20));
    opts.duration = None;
    opts.segment = segment;
    let before = target.hits();
    let result = run_file(path, &[format!("base={}", target.url(""))], opts);
    assert_eq!(result.stopped_by, StopReason::Completed, "the pool ran out, so the run ended");
    let total = assert_target_saw_every_request(&result, target.hits() - before);
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
}

#[track_caller]
fn assert_each_id_once(target: &Target, ids: std::ops::RangeInclusive<u64>) {
    let (seen, j, k) = ids_seen(target);
    let twice: Vec<_> = seen.iter().filter(|(_, hits)| **hits != 1).take(5).collect();
    assert!(twice.is_empty(), "ids used more than once (id, times): {twice:?}");
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), ids.collect::<Vec<_>>(), "every id once");
    assert!(j > 0 && k > 0, "both entries drew rows: j {j}, k {k}");
}

/// Before: each entry took its own shard of the pool, so 2 cores sent 400 requests for 200
/// ids, every id twice, and nothing said so.
#[test]
fn a_single_use_range_shared_by_two_entries_uses_each_id_once() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let dir = ScenarioDir::new();
    let path =
        dir.write("shared.toml", &shared_pool_scenario("range = { from = 1, to = 200 }\ncolumn = \"id\"", (3, 2)));
    run_until_the_rows_run_out(&path, &target, (0, 1));
    assert_eq!(target.hits(), 200);
    assert_each_id_once(&target, 1..=200);
}

/// The same across three injectors (`--segment K/3`), each on two cores, from a CSV file (with
/// journeys on every core: a core that runs none of an entry's journeys never draws its rows).
#[test]
fn a_single_use_csv_shared_by_two_entries_uses_each_id_once_across_segments() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let dir = ScenarioDir::new();
    let csv: String =
        std::iter::once("id,name\n".to_string()).chain((1..=301).map(|i| format!("{i},user {i}\n"))).collect();
    dir.write("ids.csv", &csv);
    let path = dir.write("shared.toml", &shared_pool_scenario("csv = \"ids.csv\"", (12, 6)));
    for k in 0..3 {
        run_until_the_rows_run_out(&path, &target, (k, 3));
    }
    assert_eq!(target.hits(), 301);
    assert_each_id_once(&target, 1..=301);
}

/// Runs the file as segment `segment` on `cores` cores with a 20 s duration, which it must not
/// need: returns the result and the requests the target saw.
fn run_quick(
    path: &std::path::Path,
    target: &Target,
    segment: (usize, usize),
    cores: usize,
) -> (mite_core::RunResult, u64) {
    let mut opts = options(cores, Duration::from_secs(20));
    opts.segment = segment;
    let before = target.hits();
    let result = run_file(path, &[format!("base={}", target.url(""))], opts);
    let hits = target.hits() - before;
    assert_target_saw_every_request(&result, hits);
    assert_eq!(result.stopped_by, StopReason::Completed, "the rows ran out, so the run ended");
    assert!(
        result.duration_s < 10.0,
        "ended when the rows ran out, not at the 20 s duration: {:.1}s",
        result.duration_s
    );
    (result, hits)
}

/// Entry `k` of a shared single-use pool has no journey on core 1 (`constant = 1` over 2
/// cores): the pool ran out there (entry `j` drew every row) in well under a second, yet the
/// core waited for the 20 s duration, since `k` never drew a row and so never saw the pool end.
#[test]
fn an_entry_with_no_journey_on_a_core_ends_when_its_shared_pool_runs_out_there() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let dir = ScenarioDir::new();
    let path =
        dir.write("shared.toml", &shared_pool_scenario("range = { from = 1, to = 200 }\ncolumn = \"id\"", (3, 1)));
    let (_, hits) = run_quick(&path, &target, (0, 1), 2);
    assert_eq!(hits, 200);
    let (seen, j, k) = ids_seen(&target);
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), (1..=200).collect::<Vec<_>>(), "every id once");
    assert!(seen.values().all(|&n| n == 1) && j > 0 && k > 0, "j {j}, k {k}");
}

/// `constant = 1` over 2 segments with 3 single-use rows: segment 1/2 owns row 2 but runs no
/// journey of the entry, so nothing will ever draw it. It waited for the duration measuring
/// nothing; it ends at once. Segment 0/2 uses its two rows and ends. A segment given no row
/// at all (1 row over 2 segments) ends at once too.
#[test]
fn a_segment_that_can_never_draw_its_single_use_rows_ends_at_once() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let dir = ScenarioDir::new();
    let scenario = |rows: usize| {
        let csv: String = std::iter::once("id\n".to_string()).chain((1..=rows).map(|i| format!("{i}\n"))).collect();
        dir.write("ids.csv", &csv);
        let text = r#"name = "few"
[datapools.p]
csv = "ids.csv"
recyclable = false
[journeys.j]
steps = [ { transaction = "a", method = "POST", url = "{base}/echo/j/{id}", body = "{id}" } ]
[[scenario]]
journey = "j"
datapool = "p"
volume = { constant = 1 }
"#;
        dir.write("few.toml", text)
    };
    let path = scenario(3);
    let (result, hits) = run_quick(&path, &target, (1, 2), 1);
    assert_eq!((hits, result.merged.journeys.started), (0, 0));
    let (_, hits) = run_quick(&path, &target, (0, 2), 1);
    assert_eq!(hits, 2);
    let path = scenario(1);
    for (segment, cores) in [((1, 2), 1), ((1, 2), 2), ((0, 1), 2)] {
        run_quick(&path, &target, segment, cores);
    }
}

/// An open model: `rate` per second for 5 s, at most `max_in_flight` journeys, each a POST to
/// `url` with its row's id, drawing from a single-use pool of `rows` ids.
fn open_pool_scenario(url: &str, rows: u64, rate: u64, max_in_flight: u64) -> String {
    format!(
        r#"name = "open"
[datapools.p]
range = {{ from = 1, to = {rows} }}
column = "id"
recyclable = false
[journeys.j]
steps = [ {{ transaction = "a", method = "POST", url = "{url}", body = "{{id}}" }} ]
[[scenario]]
journey = "j"
datapool = "p"
volume = {{ rate = {rate}, duration = "5s", max_in_flight = {max_in_flight} }}
"#
    )
}

/// An open model whose single-use pool runs out: the arrivals that could not start for want of
/// a row were counted as `missed` and the end of the run blamed the journey slots (`every
/// journey slot (max_in_flight) was busy`) or the injector, neither of which held them up.
/// They are counted apart, as not started for the exhausted datapool, in the result file and
/// in the terminal's words, and `requested = started + missed + datapool exhausted`.
#[test]
fn arrivals_left_when_a_single_use_pool_runs_out_are_not_blamed_on_the_injector() {
    let target = Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap();
    let dir = ScenarioDir::new();
    let path = dir.write("open.toml", &open_pool_scenario("{base}/echo/j/{id}", 20, 200, 4));
    let (result, hits) = run_quick(&path, &target, (0, 1), 1);
    assert_eq!(hits, 20, "each row once");
    let j = result.merged.journeys;
    assert_eq!((j.arrivals_started, j.missed), (20, 0), "nothing was missed for busy slots: {j:?}");
    assert!(j.datapool_exhausted >= 1, "the arrival that found no row: {j:?}");
    assert_eq!(j.scheduled, j.arrivals_started + j.missed + j.datapool_exhausted, "{j:?}");
    let table = mite_core::output::report::table(&result.merged, result.duration_s);
    let line = table.lines().find(|l| l.starts_with("arrivals over")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("missed 0"), "{line}");
    assert!(line.contains(&format!("not started {} (datapool exhausted", j.datapool_exhausted)), "{line}");
    for blame in ["slot (max_in_flight) was busy", "saturated", "add cores", "most journeys failed"] {
        assert!(!table.contains(blame), "{blame:?} in {table}");
    }
    let json = mite_core::output::result_file::result_file(&result, true).to_value();
    let arrivals = &json["totals"]["arrivals"];
    assert_eq!(arrivals["missed"].as_u64(), Some(0), "{arrivals}");
    assert_eq!(arrivals["datapool_exhausted"].as_u64(), Some(j.datapool_exhausted), "{arrivals}");
    assert_eq!(json["totals"]["journeys"]["datapool_exhausted"].as_u64(), Some(j.datapool_exhausted));
}

/// A slow target (50 ms) and 2 slots for 200 arrivals a second: arrivals queue up behind the
/// busy slots, and when the 10 rows are used the ones still queued can never start. They were
/// counted as missed at the stop; they are left by the datapool, counted once.
#[test]
fn arrivals_queued_when_a_single_use_pool_runs_out_are_left_by_the_pool() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let dir = ScenarioDir::new();
    let path = dir.write("slow.toml", &open_pool_scenario("{base}/delay/50?id={id}", 10, 200, 2));
    let (result, hits) = run_quick(&path, &target, (0, 1), 1);
    assert_eq!(hits, 10, "each row once");
    let j = result.merged.journeys;
    assert_eq!((j.arrivals_started, j.missed), (10, 0), "the queue never filled: {j:?}");
    assert!(j.datapool_exhausted >= 10, "200/s for the 250 ms the rows lasted queued more: {j:?}");
    assert_eq!(j.scheduled, j.arrivals_started + j.datapool_exhausted, "{j:?}");
}

/// The arrivals a single-use pool left are counted when it runs out, in that interval, not at
/// the run's stop: here a closed-model entry beside it runs on for 2 s.
#[test]
fn arrivals_left_by_a_pool_are_counted_when_it_runs_out() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let dir = ScenarioDir::new();
    let beside = "[journeys.k]\nsteps = [ { transaction = \"b\", url = \"{base}/delay/20\" } ]\n\
                  [[scenario]]\njourney = \"k\"\nvolume = { constant = 1, duration = \"2s\" }\n";
    let text = open_pool_scenario("{base}/delay/50?id={id}", 10, 200, 2) + beside;
    let path = dir.write("beside.toml", &text);
    let mut opts = options(1, Duration::from_secs(20));
    opts.duration = None;
    let result = run_file(&path, &[format!("base={}", target.url(""))], opts);
    assert_eq!(result.stopped_by, StopReason::Completed);
    assert!(result.duration_s >= 1.9, "the closed entry ran its 2 s: {:.2}s", result.duration_s);
    let j = result.merged.journeys;
    assert!(j.datapool_exhausted >= 10 && j.missed == 0, "{j:?}");
    let early: u64 =
        result.intervals.iter().filter(|p| p.elapsed_s < 1.5).map(|p| p.detail.journeys.datapool_exhausted).sum();
    assert_eq!(early, j.datapool_exhausted, "counted when the 10 rows ran out (about 0.25 s), not at the stop");
}

/// A CSV value the reader would take other than as written (`1,"x"y` read as `xy`) is
/// refused when the scenario loads, naming the scenario's line, the file, its line and column,
/// and what to write instead; nothing is sent.
#[test]
fn a_csv_value_the_reader_would_change_is_refused_at_load() {
    let dir = ScenarioDir::new();
    dir.write("users.csv", "id,name\n1,ann\n2,\"x\"y\n");
    let path = dir.write(
        "s.toml",
        "[datapools.users]\ncsv = \"users.csv\"\n[journeys.j]\nsteps = [ { url = \"http://127.0.0.1:9/{name}\" } ]\n\
         [[scenario]]\njourney = \"j\"\ndatapool = \"users\"\nvolume = { constant = 1 }\n",
    );
    let err = match mite_core::scenario::file::load(&path, &mite_journeys::registry(), &[]) {
        Ok(_) => panic!("loaded a file whose value would be read as xy"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("s.toml:1: datapools.users.csv: "), "{err}");
    assert!(err.contains("users.csv:3:6: value 2, \"x\"y, has text after its closing quote"), "{err}");
    assert!(err.contains("(\"\"\"x\"\"y\")"), "{err}");
}
