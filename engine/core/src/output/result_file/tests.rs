use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::output::outcome::IntervalPoint;
use crate::stats::record_latency;

fn histogram(values: &[u64]) -> Histogram<u64> {
    let mut h = crate::stats::new_latency_histogram();
    for &v in values {
        record_latency(&mut h, v);
    }
    h
}

/// One transaction's stats from drawn figures, consistent as an engine counts them.
fn txn_stats(values: &[u64], counts: &[u64; 8], statuses: &[u16], kinds: &[(usize, u64)]) -> TxnStats {
    let mut stats = TxnStats {
        txn_us: histogram(values).into(),
        req_us: histogram(&values[values.len() / 2..]).into(),
        req_us_corrected: histogram(&values[..values.len() / 3]).into(),
        txn_ok: counts[0],
        txn_err: counts[1],
        req_ok: counts[2],
        connects: counts[3] + counts[4],
        connects_failed: counts[4],
        connect_us_sum: counts[5],
        tls_handshakes: counts[6],
        tls_failed: counts[6] / 2,
        body_bytes: counts[7],
        sent_bytes: counts[7] / 3,
        ..TxnStats::default()
    };
    for &(kind, n) in kinds {
        stats.add_errors(ErrorKind::ALL[kind % ErrorKind::COUNT], n);
    }
    stats.not_sent = stats.req_errors() / 2;
    for &status in statuses {
        stats.add_status(status);
    }
    record_latency(&mut stats.http.first_byte_us, counts[5].max(1));
    stats.http.add_responses("GET", statuses.first().copied().unwrap_or(200), counts[2]);
    if counts[3] % 2 == 1 {
        stats.ws.connects = counts[3];
        stats.ws.messages_sent = counts[0];
        stats.ws.add_error(ErrorKind::WsClosed);
        stats.ws.reply_us = histogram(values).into();
    }
    stats
}

fn run_result(merged: Merged, started_at_unix_s: f64, duration_s: f64) -> RunResult {
    RunResult {
        scenario: "drawn".into(),
        cores: vec![0, 3],
        drivers: vec![Driver::Epoll, Driver::IoUring],
        fallbacks: Vec::new(),
        started_at_unix_s,
        duration_s,
        stopped_by: StopReason::Completed,
        merged,
        intervals: vec![IntervalPoint { elapsed_s: 1.0, requests: 3, ..IntervalPoint::default() }],
        segment: Some("1/4".into()),
        tls_verified: None,
        stopped_because: None,
    }
}

use crate::driver::Driver;

proptest! {
    // Each case writes and reads up to five transactions of histograms: 64 keep it quick.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A result written and read back is the same result: every figure, every histogram.
    #[test]
    fn result_to_json_to_result_is_lossless(
        txns in proptest::collection::vec(
            (
                "[a-z :]{1,12}",
                proptest::collection::vec(1u64..60_000_000, 1..200),
                proptest::array::uniform8(0u64..1_000_000),
                proptest::collection::vec(100u16..600, 0..20),
                proptest::collection::vec((0usize..32, 0u64..1_000), 0..5),
            ),
            0..5,
        ),
        lags in proptest::collection::vec(1u64..100_000, 0..50),
        journeys in proptest::array::uniform8(0u64..1_000_000),
        started_at_unix_s in 0.0f64..2e9,
        duration_ms in 1u64..10_000_000,
    ) {
        let mut merged = Merged::default();
        for (name, values, counts, statuses, kinds) in &txns {
            merged.txns.insert(Arc::from(name.as_str()), txn_stats(values, counts, statuses, kinds));
        }
        let [started, ok, failed, cancelled, scheduled, arrivals_started, missed, datapool_exhausted] = journeys;
        // Arrivals scheduled over 1.5 s, written as `arrivals.window_s` (none without arrivals).
        let arrivals_until_us = if scheduled > 0 { 1_500_000 } else { 0 };
        merged.journeys = JourneyCounts {
            started,
            ok,
            failed,
            // Some of the failed panicked (never more: a file saying so is refused).
            panicked: failed / 3,
            cancelled,
            scheduled,
            arrivals_started,
            missed,
            datapool_exhausted,
            arrivals_until_us,
        };
        merged.messages.insert(Arc::from("kind"), journeys[0]);
        merged.injector = InjectorLoad { lag_us: histogram(&lags), busy_us: 5, wall_us: 10, busy_percent_max: 61.25 };
        merged.error_samples.insert("status", format!("GET http://x/ answered 503 ({started})"));
        merged.error_samples.insert("journey", "capture \"tökén\" not found\n\u{1b}[31m".into());
        merged.error_samples.insert("panic", "journey j panicked: boom (at src/j.rs:1:2)".into());
        let result = run_result(merged, started_at_unix_s, duration_ms as f64 / 1000.0);

        let written = result_file(&result, true);
        let back = ResultFile::read(&written.to_json_pretty(), "drawn.json").unwrap();
        prop_assert_eq!(&back, &written);
        let framed = ResultFile::read(&written.to_json(), "drawn.json").unwrap();
        prop_assert_eq!(&framed, &written);

        let run = read_run(&back, "drawn.json").unwrap();
        for (name, stats) in &result.merged.txns {
            let read = &run.merged.txns[name];
            prop_assert_eq!(&read.txn_us, &stats.txn_us);
            prop_assert_eq!(&read.req_us, &stats.req_us);
            prop_assert_eq!(&read.req_us_corrected, &stats.req_us_corrected);
            prop_assert_eq!(&read.http.first_byte_us, &stats.http.first_byte_us);
            prop_assert_eq!(&read.ws.reply_us, &stats.ws.reply_us);
            prop_assert_eq!(read.req_err, stats.req_err);
            prop_assert_eq!((read.requests(), read.attempts(), read.not_sent), (stats.requests(), stats.attempts(), stats.not_sent));
        }
        prop_assert_eq!(&run.merged.injector.lag_us, &result.merged.injector.lag_us);
        prop_assert_eq!(run.merged.journeys, result.merged.journeys);
        // What is read back writes the same file (less what a file does not carry back: the
        // intervals; the error samples come back, so a merge keeps each kind's first message).
        let mut again = result_file(&run, true);
        let mut expected = written.clone();
        expected.intervals.clear();
        again.driver_fallbacks = expected.driver_fallbacks.clone();
        prop_assert_eq!(again, expected);
    }
}

fn small_file() -> Value {
    let mut stats = TxnStats { req_ok: 2, txn_ok: 2, connects: 1, ..TxnStats::default() };
    record_latency(&mut stats.req_us, 900);
    stats.add_status(200);
    let mut merged = Merged::default();
    merged.txns.insert("home".into(), stats);
    result_file(&run_result(merged, 1.0, 2.0), true).to_value()
}

fn read(value: &Value) -> Result<ResultFile, ResultFileError> {
    ResultFile::read(&value.to_string(), "run.json")
}

#[test]
fn a_missing_or_renamed_field_is_an_error_naming_it_and_the_file() {
    let mut file = small_file();
    file.as_object_mut().unwrap().remove("duration_s");
    let err = read(&file).unwrap_err().to_string();
    assert!(err.contains("run.json") && err.contains("duration_s"), "{err}");

    let mut file = small_file();
    let raw = file["transactions"][0]["raw"].as_object_mut().unwrap();
    let value = raw.remove("txn_ok").unwrap();
    raw.insert("txn_okay".into(), value);
    let err = read(&file).unwrap_err().to_string();
    assert!(err.contains("run.json") && err.contains("transactions[0].raw") && err.contains("`txn_ok`"), "{err}");

    let mut file = small_file();
    file["transactions"][0]["requests"]["count"] = json!("many");
    let err = read(&file).unwrap_err().to_string();
    assert!(err.contains("transactions[0].requests.count"), "{err}");
}

#[test]
fn extra_fields_are_accepted() {
    let mut file = small_file();
    file["added_later"] = json!({"anything": [1, 2]});
    file["transactions"][0]["new_figure"] = json!(3);
    file["transactions"][0]["raw"]["new_counter"] = json!(4);
    let read_back = read(&file).unwrap();
    assert_eq!(read_back, read(&small_file()).unwrap());
}

#[test]
fn a_newer_format_is_refused_and_an_unversioned_one_is_the_first() {
    let mut file = small_file();
    assert_eq!(file["format_version"], FORMAT_VERSION);
    file["format_version"] = json!(FORMAT_VERSION + 1);
    // Even with a field a version-1 reader would miss: the version is what is reported.
    file.as_object_mut().unwrap().remove("totals");
    let err = read(&file).unwrap_err();
    assert!(matches!(err, ResultFileError::NewerVersion { found: 3, .. }), "{err}");
    assert!(err.to_string().contains("run.json: result format version 3 is newer"), "{err}");

    let mut old = small_file();
    old.as_object_mut().unwrap().remove("format_version");
    assert_eq!(read(&old).unwrap().format_version, 1);
}

/// Issue 11: `compare` of `{"hello":1}` or `[]` said "no regression".
#[test]
fn what_is_not_a_result_is_refused() {
    for bad in [
        json!({"hello": 1}),
        json!([]),
        json!({"mite_engine_version": "0", "duration_s": 1, "totals": {}, "transactions": {}}),
        json!({"mite_engine_version": "0", "duration_s": 1, "totals": {}, "transactions": [{"name": "a"}]}),
    ] {
        let err = read(&bad).unwrap_err().to_string();
        assert!(err.starts_with("run.json is not a mite-engine result"), "{err}");
    }
}

#[test]
fn damaged_figures_are_errors_naming_where() {
    let mut file = small_file();
    file["transactions"][0]["raw"]["req_us"] = json!("not base64!");
    let err = read(&file).unwrap_err().to_string();
    assert!(err.contains("transactions[0].raw.req_us") && err.contains("not base64"), "{err}");

    let mut file = small_file();
    file["transactions"][0]["raw"]["req_err"] = json!({"gremlins": 1});
    let err = read_run(&read(&file).unwrap(), "run.json").unwrap_err().to_string();
    assert!(err.contains("transactions[0].raw.req_err") && err.contains("gremlins"), "{err}");

    let mut file = small_file();
    file["transactions"][0]["raw"]["not_sent"] = json!(5);
    let err = read_run(&read(&file).unwrap(), "run.json").unwrap_err().to_string();
    assert!(err.contains("transactions[0].raw.not_sent") && err.contains("5 > 2"), "{err}");

    let mut file = small_file();
    file["transactions"][0]["raw"]["status_class"] = json!([1, 2]);
    assert!(read(&file).unwrap_err().to_string().contains("transactions[0].raw.status_class"));

    let mut file = small_file();
    file["stopped_by"] = json!("boredom");
    assert!(read(&file).unwrap_err().to_string().contains("stopped_by"));
}

#[test]
fn a_file_without_raw_histograms_reads_but_does_not_merge() {
    let mut file = small_file();
    file["transactions"][0].as_object_mut().unwrap().remove("raw");
    let read_back = read(&file).unwrap();
    let err = read_run(&read_back, "run.json").unwrap_err().to_string();
    assert!(err.contains("transactions[0] (home): no raw histograms"), "{err}");
}

/// A hand-edited file with counts no run could make would overflow `merge` (a panic in a
/// debug build, wrapped figures in a release one): it is refused, naming the counter.
#[test]
fn counts_beyond_any_run_are_refused() {
    let mut file = small_file();
    file["transactions"][0]["raw"]["req_err"] = json!({"timeout": u64::MAX});
    let err = read_run(&read(&file).unwrap(), "run.json").unwrap_err().to_string();
    assert!(err.contains("transactions[0].raw.req_err.timeout") && err.contains("beyond any run"), "{err}");
    let mut file = small_file();
    file["totals"]["journeys"]["missed"] = json!(u64::MAX);
    let err = read_run(&read(&file).unwrap(), "run.json").unwrap_err().to_string();
    assert!(err.contains("totals.journeys.missed"), "{err}");

    let mut file = small_file();
    let max = crate::limits::RESULT_COUNT_MAX;
    file["transactions"][0]["raw"]["req_ok"] = json!(max);
    assert_eq!(read_run(&read(&file).unwrap(), "run.json").unwrap().merged.total().req_ok, max);
}

/// A transaction given twice would silently replace the first in a merge; a negative length
/// would make every rate negative.
#[test]
fn a_transaction_twice_or_a_negative_duration_is_refused() {
    let mut file = small_file();
    let txn = file["transactions"][0].clone();
    file["transactions"].as_array_mut().unwrap().push(txn);
    // Refused on reading (outside try, finding 15: `compare` took it, `merge` refused it).
    let err = read(&file).unwrap_err().to_string();
    assert!(err.contains("transactions[1]: a second transaction named \"home\""), "{err}");
    let mut file = small_file();
    file["duration_s"] = json!(-3.5);
    let err = read(&file).unwrap_err().to_string();
    assert!(err.contains("run.json is not a mite-engine result: duration_s: -3.5"), "{err}");
}

/// Outside try, finding 15: `duration_s: 0` was read (then compared as a -100 % rate) and
/// `format_version: 0` was taken for a version.
#[test]
fn a_zero_duration_or_version_is_refused() {
    let mut file = small_file();
    file["duration_s"] = json!(0);
    let err = read(&file).unwrap_err().to_string();
    assert!(err.contains("duration_s: 0 is not a run's length (at least 0.001 s)"), "{err}");
    let mut file = small_file();
    file["format_version"] = json!(0);
    let err = read(&file).unwrap_err().to_string();
    assert!(err.contains("format_version: 0 is not a version (they start at 1)"), "{err}");
}

/// Outside try: a segment 5/2 or 0/0, a length of 1e308 s, a start in the year 10^292 or
/// before 1970 were merged without a word (a 300-digit duration, `of: 0`).
#[test]
fn a_segment_length_or_start_out_of_range_is_refused() {
    let cases = [
        ("segment", json!("5/2"), "segment: \"5/2\" is not a segment (K/N, K below N)"),
        ("segment", json!("0/0"), "segment: \"0/0\" is not a segment"),
        ("segment", json!("one"), "segment: \"one\" is not a segment"),
        // Another spelling of 1/2 would name a second part of it (`merge` tells parts by it).
        ("segment", json!("01/2"), "segment: \"01/2\" is not a segment"),
        ("segment", json!("+1/2"), "segment: \"+1/2\" is not a segment"),
        ("duration_s", json!(1e308), "duration_s: 1e308 is not a run's length"),
        ("started_at_unix_s", json!(1e300), "started_at_unix_s: 1e300 is not a start time"),
        ("started_at_unix_s", json!(-5e9), "started_at_unix_s: -5000000000 is not a start time"),
    ];
    for (field, value, expected) in cases {
        let mut file = small_file();
        file[field] = value;
        let err = read(&file).unwrap_err().to_string();
        assert!(err.contains(expected), "{field}: {err}");
    }
    let mut file = small_file();
    file["segment"] = json!("1/2");
    file["started_at_unix_s"] = json!(0);
    assert!(read(&file).is_ok(), "a segment and an unknown start (0) are read");
}

/// A run that ended at once (a segment with nothing to run: 0.3 ms) was written with
/// `duration_s: 0`, which no reader takes (`merge` refused the segment's file). Its length is
/// written as the file's unit, 1 ms.
#[test]
fn a_run_shorter_than_a_millisecond_is_written_as_one() {
    let file = result_file(&run_result(Merged::default(), 1.0, 0.0003), true);
    assert_eq!(file.duration_s, 0.001);
    assert!(ResultFile::read(&file.to_json(), "run.json").is_ok());
    assert_eq!(result_file(&run_result(Merged::default(), 1.0, 2.0004), true).duration_s, 2.0);
}

/// A merged file's segments (its parts', its runs' in `covers`, its interrupted ones) are
/// checked as its own is: a hand-edited `5/2` in `covers` counted in `merge`'s coverage.
#[test]
fn a_merged_files_segments_out_of_range_are_refused() {
    let part =
        |segment: &str| json!({"source": "a.json", "segment": segment, "started_at_unix_s": 1.0, "duration_s": 1.0});
    let cases = [
        (
            "covers",
            json!([{"run_id": "r", "segment": "0/2"}, {"run_id": "r", "segment": "5/2"}]),
            "covers[1].segment: \"5/2\" is not a segment (K/N, K below N)",
        ),
        ("parts", json!([part("0/2"), part("2/2")]), "parts[1].segment: \"2/2\" is not a segment"),
        ("interrupted_segments", json!(["1/0"]), "interrupted_segments[0]: \"1/0\" is not a segment"),
    ];
    for (field, value, expected) in cases {
        let mut file = small_file();
        file[field] = value;
        let err = read(&file).unwrap_err().to_string();
        assert!(err.contains("run.json") && err.contains(expected), "{field}: {err}");
    }
    let mut file = small_file();
    file["covers"] = json!([{"run_id": "r", "segment": "0/2"}, {"run_id": "r", "segment": "1/2"}, {"run_id": "s"}]);
    assert!(read(&file).is_ok(), "segments in range, and a run without one");
}

/// An interval's chart figures as the pages read them: kinds and classes by name, no
/// `arrivals` in the closed model, each transaction's percentiles.
#[test]
fn an_intervals_figures_in_the_file() {
    let mut stats = TxnStats { req_ok: 3, txn_ok: 2, ..TxnStats::default() };
    stats.add_error(ErrorKind::Timeout);
    stats.add_status(503);
    record_latency(&mut stats.txn_us, 2_000);
    let mut merged = Merged::default();
    merged.txns.insert("a".into(), stats);
    let detail = crate::output::timeline::IntervalDetail::of(&merged, 7);
    let point = IntervalPoint { elapsed_s: 1.0, detail, ..IntervalPoint::default() };
    let mut result = run_result(Merged::default(), 0.0, 1.0);
    result.intervals = vec![point];
    let fields = &result_file(&result, false).to_value()["intervals"][0];
    assert_eq!(fields["errors_by_kind"]["timeout"], 1);
    assert_eq!(fields["status"]["5xx"], 1);
    assert_eq!(fields["journeys_target"], 7);
    assert!(fields.get("arrivals").is_none() && fields.get("transactions_left_out").is_none(), "{fields}");
    assert_eq!(fields["by_transaction"][0]["latency"]["max_us"], fields["latency"]["max_us"]);
    assert!(fields["corrected"].is_null());
}

/// Outside try, finding 13: with more distinct codes than are kept, `status_codes` silently
/// summed to fewer than the responses; what is past the limit is `status_codes_other`.
#[test]
fn status_codes_and_the_other_count_add_up_to_the_responses() {
    let codes = crate::limits::STATUS_CODES_MAX as u16 + 10;
    let statuses: Vec<u16> = (200..200 + codes).collect();
    let mut merged = Merged::default();
    merged.txns.insert("t".into(), txn_stats(&[100], &[1, 0, codes as u64, 1, 0, 1, 0, 1], &statuses, &[]));
    let file = result_file(&run_result(merged, 0.0, 1.0), true);
    let responses = u64::from(codes);
    for (codes, other) in [
        (&file.totals.status_codes, file.totals.status_codes_other),
        (&file.transactions[0].requests.status_codes, file.transactions[0].requests.status_codes_other),
    ] {
        assert_eq!(codes.len(), crate::limits::STATUS_CODES_MAX);
        assert_eq!(other, 10);
        assert_eq!(codes.values().sum::<u64>() + other, responses);
    }
    let back = read(&serde_json::to_value(&file).unwrap()).unwrap();
    assert_eq!(back.totals.status_codes_other, 10);
}

/// The scenario file's digest is FNV-1a 64 (its published test vectors), the same everywhere.
#[test]
fn the_scenario_digest_is_fnv1a_64_of_the_text() {
    assert_eq!(scenario_digest(""), "fnv1a64:cbf29ce484222325");
    assert_eq!(scenario_digest("a"), "fnv1a64:af63dc4c8601ec8c");
    assert_eq!(scenario_digest("foobar"), "fnv1a64:85944171f73967e8");
    assert_ne!(scenario_digest("name = \"t1\"\n"), scenario_digest("name = \"t1\" \n"));
}

/// Outside tester: `--insecure` was said only on the terminal (and not at all under `-q`); the
/// result file keeps it as `tls_verified`, written as set, read back, absent when unknown, and
/// merged as false when any input was false.
#[test]
fn tls_verification_is_kept_read_back_and_merged() {
    let mut file = small_file();
    assert_eq!(read(&file).unwrap().tls_verified, None, "unknown in a file written before it was recorded");
    file["tls_verified"] = json!(false);
    let read_back = read(&file).unwrap();
    assert_eq!(read_back.tls_verified, Some(false));
    assert_eq!(read_back.to_value()["tls_verified"], false, "written as read");
    file["tls_verified"] = json!("no");
    assert!(read(&file).unwrap_err().to_string().contains("tls_verified"));
    use super::tls_verified_together as together;
    assert_eq!(together([Some(true), Some(true)]), Some(true));
    assert_eq!(together([Some(true), Some(false), None]), Some(false));
    assert_eq!(together([None, Some(false)]), Some(false));
    assert_eq!(together([Some(true), None]), None);
}

/// Outside try 5: the grace's intervals had no mark of their own in the file. Each says its
/// `phase`; one read back is written as read; a file from before reads with none (never a
/// guess), and a phase the engine does not know is an error naming the field.
#[test]
fn an_intervals_phase_is_written_and_read_back() {
    use crate::output::outcome::IntervalPhase;
    let mut result = run_result(Merged::default(), 0.0, 3.0);
    result.intervals = [(1.0, IntervalPhase::Run), (1.5, IntervalPhase::Stop), (2.0, IntervalPhase::Grace)]
        .into_iter()
        .map(|(elapsed_s, phase)| IntervalPoint { elapsed_s, phase, ..IntervalPoint::default() })
        .collect();
    let mut file = result_file(&result, true).to_value();
    let phases: Vec<&Value> = file["intervals"].as_array().unwrap().iter().map(|i| &i["phase"]).collect();
    assert_eq!(phases, [&json!("run"), &json!("stop"), &json!("grace")]);
    let read_back = read(&file).unwrap();
    assert_eq!(read_back.intervals[2].phase, Some(IntervalPhase::Grace));
    assert_eq!(read_back.to_value()["intervals"], file["intervals"], "written as read");
    file["intervals"][0].as_object_mut().unwrap().remove("phase");
    let old = read(&file).unwrap();
    assert_eq!(old.intervals[0].phase, None);
    assert!(old.to_value()["intervals"][0].get("phase").is_none(), "{}", old.to_value()["intervals"][0]);
    file["intervals"][1]["phase"] = json!("drain");
    let err = read(&file).unwrap_err().to_string();
    assert!(err.contains("phase"), "{err}");
}

/// A 1 s run's one interval read `grace`: the grace's few milliseconds folded into it gave it
/// their phase. It keeps its own, and lists the pieces folded in, one per phase, written and
/// read back; an interval with none has no `folded`.
#[test]
fn the_pieces_folded_into_an_interval_are_listed() {
    use crate::output::outcome::{FoldedPiece, IntervalPhase};
    let mut folded = Vec::new();
    FoldedPiece::add(&mut folded, IntervalPhase::Stop, 0.25);
    FoldedPiece::add(&mut folded, IntervalPhase::Stop, 0.125);
    FoldedPiece::add(&mut folded, IntervalPhase::Grace, 0.00596);
    assert_eq!(
        folded,
        [
            FoldedPiece { phase: IntervalPhase::Stop, seconds: 0.375 },
            FoldedPiece { phase: IntervalPhase::Grace, seconds: 0.00596 }
        ],
        "several cores' stops are one piece"
    );
    let mut result = run_result(Merged::default(), 0.0, 2.0);
    let whole = IntervalPoint { elapsed_s: 1.0, ..IntervalPoint::default() };
    result.intervals = vec![whole.clone(), IntervalPoint { elapsed_s: 2.38, folded, ..whole }];
    let file = result_file(&result, true).to_value();
    assert!(file["intervals"][0].get("folded").is_none(), "{}", file["intervals"][0]);
    assert_eq!(file["intervals"][1]["phase"], json!("run"));
    assert_eq!(
        file["intervals"][1]["folded"],
        json!([{ "phase": "stop", "seconds": 0.375 }, { "phase": "grace", "seconds": 0.006 }])
    );
    let read_back = read(&file).unwrap();
    assert_eq!(read_back.to_value()["intervals"], file["intervals"], "written as read");
}

/// The intervals had no WebSocket figures: a WebSocket run's file could not be drawn over
/// time. An interval with WebSockets writes its counts and reply times, read back as written;
/// one without has no `websocket`, and a file written before it was recorded reads as none.
#[test]
fn an_intervals_websocket_figures_are_written_and_read_back() {
    let mut merged = Merged::default();
    let mut stats = TxnStats::default();
    stats.ws.connects = 2;
    stats.ws.messages_sent = 20;
    stats.ws.messages_received = 19;
    stats.ws.bytes_sent = 280;
    stats.ws.closes = 1;
    stats.ws.add_error(ErrorKind::WsClosed);
    stats.ws.reply_us = histogram(&[1_000, 3_000]).into();
    merged.txns.insert("chat".into(), stats);
    let mut result = run_result(Merged::default(), 0.0, 2.0);
    let detail = crate::output::timeline::IntervalDetail::of(&merged, 0);
    let with_ws = IntervalPoint { elapsed_s: 1.0, detail, ..IntervalPoint::default() };
    result.intervals = vec![with_ws, IntervalPoint { elapsed_s: 2.0, ..IntervalPoint::default() }];
    let mut file = result_file(&result, true).to_value();
    let ws = &file["intervals"][0]["websocket"];
    let counts =
        ["connects", "messages_sent", "messages_received", "bytes_sent", "closes", "errors"].map(|f| ws[f].as_u64());
    assert_eq!(counts, [2, 20, 19, 280, 1, 1].map(Some), "{ws}");
    assert_eq!(ws["reply"]["p50_us"], json!(1_000), "{ws}");
    assert!(file["intervals"][1].get("websocket").is_none(), "{}", file["intervals"][1]);
    let read_back = read(&file).unwrap();
    assert_eq!(read_back.to_value()["intervals"], file["intervals"], "written as read");
    assert_eq!(read_back.intervals[0].detail.websocket.as_ref().map(|ws| ws.messages_sent), Some(20));
    file["intervals"][0].as_object_mut().unwrap().remove("websocket");
    assert_eq!(read(&file).unwrap().intervals[0].detail.websocket, None, "an older file");
}
