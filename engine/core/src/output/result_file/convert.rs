//! A run's result as a result file, and a result file back as a run's result (for `merge` and
//! the pages' histograms).

use super::*;
use crate::driver::Driver;
use crate::limits::RESULT_COUNT_MAX;
use crate::output::outcome::{FoldedPiece, IntervalPoint};
use crate::output::timeline::IntervalDetail;
use crate::output::units::{mean, rate};
use crate::stats::{CookieIgnored, CookiesIgnored};

/// The result file of `result`; `raw` keeps every transaction's histograms (the live
/// dashboard leaves them out: it draws from the histograms directly).
pub fn result_file(result: &RunResult, raw: bool) -> ResultFile {
    let seconds = result.duration_s;
    let transactions = result.merged.txns.iter().map(|(name, stats)| transaction(name, stats, seconds, raw)).collect();
    result_file_of(result, &result.merged.total(), transactions)
}

/// The result file of `result` with `transactions` made already and `total` every
/// transaction's stats folded into one (a merge made name by name, whose `result` holds no
/// transaction's histograms).
pub fn result_file_of(result: &RunResult, total: &TxnStats, transactions: Vec<Transaction>) -> ResultFile {
    let seconds = result.duration_s;
    let merged = &result.merged;
    ResultFile {
        mite_engine_version: env!("CARGO_PKG_VERSION").to_string(),
        format_version: FORMAT_VERSION,
        scenario: result.scenario.clone(),
        // The caller that read the scenario file sets them.
        scenario_file: None,
        scenario_digest: None,
        // The run sets its own; a merge lists its runs in `covers`.
        run_id: None,
        thresholds: Vec::new(),
        started_at_unix_s: result.started_at_unix_s,
        // To the millisecond, the file's unit, and at least one: a run that ended at once (a
        // segment with nothing to run) took less, and a length of 0 is no run's.
        duration_s: ((seconds * 1000.0).round() / 1000.0).max(0.001),
        stopped_by: result.stopped_by,
        stopped_because: result.stopped_because.clone(),
        cores: result.cores.clone(),
        segment: result.segment.clone(),
        driver: result.driver_name().to_string(),
        drivers: result.drivers.iter().map(|d| d.name().to_string()).collect(),
        driver_fallbacks: result.fallbacks.clone(),
        tls_verified: result.tls_verified,
        totals: totals(merged, total, seconds),
        injector: injector(&merged.injector, request_p50(total)),
        transactions,
        messages: merged.messages.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        error_samples: merged.error_samples.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        // An open-model run's intervals all say their arrivals, none that came due included.
        intervals: result.intervals.iter().map(|point| interval(point, merged.journeys.scheduled > 0)).collect(),
        cores_lost: None,
        warnings: Vec::new(),
        segments: None,
        interrupted_segments: None,
        parts: None,
        covers: None,
        drawn: None,
    }
}

/// The median the injector's lag is weighed against: requests', or transactions' when the
/// journeys made no request.
pub(crate) fn request_p50(total: &TxnStats) -> u64 {
    if total.req_us.is_empty() { quantile(&total.txn_us, 0.5) } else { quantile(&total.req_us, 0.5) }
}

fn kinds(count: impl Fn(ErrorKind) -> u64) -> BTreeMap<String, u64> {
    ErrorKind::ALL.into_iter().filter(|k| count(*k) > 0).map(|k| (k.name().to_string(), count(k))).collect()
}

fn status(stats: &TxnStats) -> BTreeMap<String, u64> {
    let name = |class: usize| if class == 0 { "other".to_string() } else { format!("{class}xx") };
    stats.status_class.iter().enumerate().filter(|(_, n)| **n > 0).map(|(class, n)| (name(class), *n)).collect()
}

fn connects(stats: &TxnStats) -> (Connects, Handshakes) {
    (
        Connects { attempted: stats.connects, failed: stats.connects_failed },
        Handshakes { attempted: stats.tls_handshakes, failed: stats.tls_failed, resumed: stats.tls_resumed },
    )
}

fn requests(stats: &TxnStats, seconds: f64) -> Requests {
    let (connects, tls_handshakes) = connects(stats);
    let mut phases_us: BTreeMap<String, Latency> =
        stats.http.phases().into_iter().map(|(name, h)| (name.to_string(), Latency::of(h))).collect();
    phases_us.insert("total".into(), Latency::of(&stats.req_us));
    Requests {
        count: stats.requests(),
        ok: stats.req_ok,
        errors: stats.req_errors(),
        not_sent: stats.not_sent,
        attempts: Some(stats.attempts()),
        errors_by_kind: kinds(|k| stats.errors_of(k)),
        rps: rate(stats.requests(), seconds),
        status: status(stats),
        status_codes: stats.status_codes.iter().copied().collect(),
        status_codes_other: codes_past_the_limit(stats),
        latency_us: Latency::of(&stats.req_us),
        latency_us_corrected: Latency::of_nonempty(&stats.req_us_corrected),
        reconnects: stats.reconnects,
        connects,
        connect_us_mean: mean_of_some(stats.connect_us_sum, stats.connects_ok()),
        tls_handshakes,
        tls_us_mean: mean_of_some(stats.tls_us_sum, stats.tls_ok()),
        tls_resumed: stats.tls_resumed,
        // Every response that came back (ok, or an unexpected status) has a first byte.
        first_byte_us_mean: mean_of_some(stats.first_byte_us_sum, stats.req_ok + stats.errors_of(ErrorKind::Status)),
        body_bytes: stats.body_bytes,
        phases_us,
        responses: stats
            .http
            .responses()
            .into_iter()
            .map(|(method, response_code, count)| ResponseCount { method: method.into(), response_code, count })
            .collect(),
        sent_bytes: stats.sent_bytes,
    }
}

fn websocket(ws: &WsStats, seconds: f64) -> Option<WebSocketFigures> {
    (!ws.is_empty()).then(|| WebSocketFigures {
        connects: ws.connects,
        messages_sent: ws.messages_sent,
        messages_received: ws.messages_received,
        messages_per_s: rate(ws.messages_sent + ws.messages_received, seconds),
        bytes_sent: ws.bytes_sent,
        bytes_received: ws.bytes_received,
        pings_received: ws.pings_received,
        closes: ws.closes,
        errors: ws.error_count(),
        errors_by_kind: kinds(|k| ws.errors_of(k)),
        reply_us: Latency::of_nonempty(&ws.reply_us),
    })
}

/// One transaction's figures over `seconds`, with its `raw` counters and histograms when asked.
pub fn transaction(name: &str, stats: &TxnStats, seconds: f64, raw: bool) -> Transaction {
    Transaction {
        name: name.to_string(),
        count: stats.transactions(),
        ok: stats.txn_ok,
        errors: stats.txn_err,
        rate: rate(stats.transactions(), seconds),
        latency_us: Latency::of(&stats.txn_us),
        latency_us_corrected: Latency::of_nonempty(&stats.txn_us_corrected),
        requests: requests(stats, seconds),
        websocket: websocket(&stats.ws, seconds),
        cookies_ignored: cookies_ignored(&stats.cookies_ignored),
        raw: raw.then(|| raw_stats(stats)),
        drawn: None,
    }
}

fn raw_stats(stats: &TxnStats) -> RawStats {
    let http = &stats.http;
    RawStats {
        txn_us: Encoded::of(&stats.txn_us),
        req_us: Encoded::of(&stats.req_us),
        txn_us_corrected: Encoded::of(&stats.txn_us_corrected),
        req_us_corrected: Encoded::of(&stats.req_us_corrected),
        txn_ok: stats.txn_ok,
        txn_err: stats.txn_err,
        req_ok: stats.req_ok,
        req_err: kinds(|k| stats.errors_of(k)),
        not_sent: stats.not_sent,
        status_class: stats.status_class,
        status_codes: stats.status_codes.iter().copied().collect(),
        reconnects: stats.reconnects,
        connects: stats.connects,
        connects_failed: stats.connects_failed,
        connect_us_sum: stats.connect_us_sum,
        tls_handshakes: stats.tls_handshakes,
        tls_failed: stats.tls_failed,
        tls_us_sum: stats.tls_us_sum,
        tls_resumed: stats.tls_resumed,
        first_byte_us_sum: stats.first_byte_us_sum,
        body_bytes: stats.body_bytes,
        http: Some(RawHttp {
            dns: Encoded::of(&http.dns_us),
            connect: Encoded::of(&http.connect_us),
            tls: Encoded::of(&http.tls_us),
            first_byte: Encoded::of(&http.first_byte_us),
            responses: http.responses().into_iter().map(|(m, s, n)| (m.to_string(), s, n)).collect(),
        }),
        ws: (!stats.ws.is_empty()).then(|| raw_ws(&stats.ws)),
        sent_bytes: stats.sent_bytes,
    }
}

fn raw_ws(ws: &WsStats) -> RawWs {
    RawWs {
        connects: ws.connects,
        messages_sent: ws.messages_sent,
        messages_received: ws.messages_received,
        bytes_sent: ws.bytes_sent,
        bytes_received: ws.bytes_received,
        pings_received: ws.pings_received,
        closes: ws.closes,
        errors: kinds(|k| ws.errors_of(k)),
        reply_us: Encoded::of(&ws.reply_us),
    }
}

fn totals(merged: &Merged, total: &TxnStats, seconds: f64) -> Totals {
    let (connects, tls_handshakes) = connects(total);
    let j = &merged.journeys;
    Totals {
        requests: total.requests(),
        ok: total.req_ok,
        errors: total.req_errors(),
        not_sent: total.not_sent,
        attempts: Some(total.attempts()),
        errors_by_kind: kinds(|k| total.errors_of(k)),
        rps: rate(total.requests(), seconds),
        status: status(total),
        status_codes: total.status_codes.iter().copied().collect(),
        status_codes_other: codes_past_the_limit(total),
        transactions: total.transactions(),
        transaction_errors: total.txn_err,
        reconnects: total.reconnects,
        connects,
        tls_handshakes,
        body_bytes: total.body_bytes,
        sent_bytes: total.sent_bytes,
        latency_us: Latency::of(&total.req_us),
        latency_us_corrected: Latency::of_nonempty(&total.req_us_corrected),
        journeys: Journeys {
            started: j.started,
            ok: j.ok,
            failed: j.failed,
            panicked: j.panicked,
            cancelled: j.cancelled,
            scheduled: j.scheduled,
            arrivals_started: j.arrivals_started,
            missed: j.missed,
            datapool_exhausted: j.datapool_exhausted,
        },
        // Every arrival that came due is counted once in `scheduled`, and ends as started,
        // missed, or left by an exhausted datapool.
        arrivals: (j.scheduled > 0).then(|| {
            let window_s = arrivals_window_s(j, seconds);
            Arrivals {
                requested: j.scheduled,
                started: j.arrivals_started,
                missed: j.missed,
                datapool_exhausted: j.datapool_exhausted,
                window_s: Some(window_s),
                requested_per_s: rate(j.scheduled, window_s),
                achieved_per_s: rate(j.arrivals_started, window_s),
            }
        }),
        websocket: websocket(&total.ws, seconds),
        cookies_ignored: cookies_ignored(&total.cookies_ignored),
    }
}

/// Ignored `Set-Cookie` fields by reason name, the reasons with a count only.
fn cookies_ignored(ignored: &CookiesIgnored) -> BTreeMap<String, u64> {
    ignored.nonzero().map(|(reason, n)| (reason.name().to_string(), n)).collect()
}

/// A transaction's ignored `Set-Cookie` counts read back, refusing a reason this engine does not
/// know and a count no run writes.
fn read_cookies_ignored(
    counts: &BTreeMap<String, u64>,
    file: &str,
    at: &str,
) -> Result<CookiesIgnored, ResultFileError> {
    check_bounded(counts.iter().map(|(k, v)| (k.clone(), *v)), file, at)?;
    let mut ignored = CookiesIgnored::default();
    for (name, &count) in counts {
        let Some(reason) = CookieIgnored::from_name(name) else {
            let why = format!("{name:?} is not a reason a cookie is ignored for");
            return Err(ResultFileError::Shape { file: file.into(), at: format!("{at}.{name}: "), why });
        };
        ignored.add(reason, count);
    }
    Ok(ignored)
}

/// `sum / count` to 0.1, or none over no count (a mean of nothing is not 0).
fn mean_of_some(sum: u64, count: u64) -> Option<f64> {
    (count > 0).then(|| mean(sum, count))
}

fn injector(load: &InjectorLoad, request_p50_us: u64) -> Injector {
    // CPU shares of no measured time are none.
    let measured = |percent: f64| (load.wall_us > 0).then_some((percent * 10.0).round() / 10.0);
    Injector {
        lag_us: Latency::of(&load.lag_us),
        busy_percent_mean: measured(load.busy_percent_mean()),
        busy_percent_max: measured(load.busy_percent_max),
        saturated: load.saturated(request_p50_us),
        raw: Some(InjectorRaw {
            lag_us: Encoded::of(&load.lag_us),
            busy_us: load.busy_us,
            wall_us: load.wall_us,
            busy_percent_max: load.busy_percent_max,
        }),
    }
}

/// One progress interval as the file has it (the timeline's detail flattened in).
pub(crate) fn interval(p: &IntervalPoint, open_model: bool) -> Interval {
    Interval {
        elapsed_s: (p.elapsed_s * 1000.0).round() / 1000.0,
        requests: p.requests,
        errors: p.errors,
        not_sent: p.not_sent,
        transactions: p.transactions,
        rps: (p.rps * 10.0).round() / 10.0,
        seconds: Some((p.seconds * 1e4).round() / 1e4),
        // Every latency recorded is at least 1 µs: 0 is an interval with nothing timed.
        p50_us: Some(p.p50_us).filter(|us| *us > 0),
        p99_us: Some(p.p99_us).filter(|us| *us > 0),
        journeys_in_flight: p.journeys_in_flight,
        injector_lag_p99_us: Some(p.lag_p99_us).filter(|us| *us > 0),
        injector_busy_percent_max: (p.busy_percent_max * 10.0).round() / 10.0,
        injector_saturated: p.saturated,
        phase: Some(p.phase),
        folded: p
            .folded
            .iter()
            .map(|piece| FoldedPiece { seconds: (piece.seconds * 1e4).round() / 1e4, ..*piece })
            .collect(),
        detail: interval_figures(&p.detail, open_model),
    }
}

/// What an interval's detail adds to its `intervals[]` entry.
fn interval_figures(detail: &IntervalDetail, open_model: bool) -> IntervalFigures {
    let j = &detail.journeys;
    IntervalFigures {
        ok: detail.ok,
        errors_by_kind: ErrorKind::ALL
            .iter()
            .zip(detail.errors_by_kind)
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k.name().to_string(), n))
            .collect(),
        status: detail
            .status_class
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(class, n)| (if class == 0 { "other".into() } else { format!("{class}xx") }, *n))
            .collect(),
        connects: detail.connects,
        connects_failed: detail.connects_failed,
        reconnects: detail.reconnects,
        body_bytes: detail.body_bytes,
        sent_bytes: detail.sent_bytes,
        journeys_target: detail.journeys_target,
        journeys_panicked: (j.panicked > 0).then_some(j.panicked),
        // As in the totals: every arrival that came due is counted once in `scheduled`.
        arrivals: (open_model || j.scheduled > 0).then_some(IntervalArrivals {
            requested: j.scheduled,
            started: j.arrivals_started,
            missed: j.missed,
            datapool_exhausted: j.datapool_exhausted,
        }),
        latency: detail.all,
        corrected: detail.all_corrected,
        by_transaction: detail
            .txns
            .iter()
            .map(|t| TxnFigures {
                name: t.name.to_string(),
                count: t.count,
                latency: t.latency,
                corrected: t.corrected,
            })
            .collect(),
        transactions_left_out: (detail.txns_left_out > 0).then_some(detail.txns_left_out),
        websocket: detail.ws.map(|ws| IntervalWebSocket {
            connects: ws.connects,
            messages_sent: ws.messages_sent,
            messages_received: ws.messages_received,
            bytes_sent: ws.bytes_sent,
            bytes_received: ws.bytes_received,
            pings_received: ws.pings_received,
            closes: ws.closes,
            errors: ws.errors,
            reply: ws.reply,
        }),
    }
}

/// Reads a result file back into a run's result, every transaction with its histograms (so
/// that results merge losslessly). `file` names it in errors. Per-interval progress is not
/// read back.
pub fn read_run(file: &ResultFile, name: &str) -> Result<RunResult, ResultFileError> {
    let mut run = read_run_untimed(file, name)?;
    for (index, txn) in file.transactions.iter().enumerate() {
        let stats = transaction_stats(txn, index, name)?;
        if run.merged.txns.insert(Arc::from(txn.name.as_str()), stats).is_some() {
            return Err(ResultFileError::DuplicateTransaction { file: name.into(), index, name: txn.name.clone() });
        }
    }
    Ok(run)
}

/// `transactions[index]` of the file `file` names, with its histograms decoded from its `raw`
/// (an error when it has none: a file made by hand), every counter checked.
pub fn transaction_stats(txn: &Transaction, index: usize, file: &str) -> Result<TxnStats, ResultFileError> {
    counted_stats(txn, index, file, Histograms::Decoded)
}

/// [`transaction_stats`] without its histograms (none decoded; each left empty): the counters
/// alone, every one checked, for a check of a file's figures (`compare`'s).
pub fn transaction_counts(txn: &Transaction, index: usize, file: &str) -> Result<TxnStats, ResultFileError> {
    counted_stats(txn, index, file, Histograms::Empty)
}

/// [`transaction_stats`], its histograms decoded or left empty as `histograms` says.
fn counted_stats(
    txn: &Transaction,
    index: usize,
    file: &str,
    histograms: Histograms,
) -> Result<TxnStats, ResultFileError> {
    let at = format!("transactions[{index}].raw");
    let raw = txn.raw.as_ref().ok_or_else(|| ResultFileError::NoRaw {
        file: file.to_string(),
        index,
        name: txn.name.clone(),
    })?;
    let mut stats = txn_stats(raw, file, &at, histograms)?;
    let at = format!("transactions[{index}].cookies_ignored");
    stats.cookies_ignored = read_cookies_ignored(&txn.cookies_ignored, file, &at)?;
    Ok(stats)
}

/// Whether [`txn_stats`] decodes a transaction's histograms or leaves them empty.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Histograms {
    Decoded,
    Empty,
}

/// [`read_run`] without the transactions: the journeys, messages, error samples and the
/// injector's load, each checked.
pub fn read_run_untimed(file: &ResultFile, name: &str) -> Result<RunResult, ResultFileError> {
    let mut merged = Merged::default();
    let j = &file.totals.journeys;
    let journeys = [
        ("started", j.started),
        ("ok", j.ok),
        ("failed", j.failed),
        ("panicked", j.panicked),
        ("cancelled", j.cancelled),
        ("scheduled", j.scheduled),
        ("arrivals_started", j.arrivals_started),
        ("missed", j.missed),
        ("datapool_exhausted", j.datapool_exhausted),
    ];
    check_bounded(journeys.map(|(k, n)| (k.to_string(), n)), name, "totals.journeys")?;
    at_most(j.panicked, j.failed, name, "totals.journeys.panicked: ".into(), "more panicked than failed")?;
    check_bounded(file.messages.iter().map(|(k, v)| (k.clone(), *v)), name, "messages")?;
    if let Some(raw) = &file.injector.raw {
        check_bounded([("busy_us".into(), raw.busy_us), ("wall_us".into(), raw.wall_us)], name, "injector.raw")?;
    }
    merged.journeys = JourneyCounts {
        started: j.started,
        ok: j.ok,
        failed: j.failed,
        panicked: j.panicked,
        cancelled: j.cancelled,
        scheduled: j.scheduled,
        arrivals_started: j.arrivals_started,
        missed: j.missed,
        datapool_exhausted: j.datapool_exhausted,
        arrivals_until_us: file
            .totals
            .arrivals
            .as_ref()
            .and_then(|a| a.window_s)
            .map_or(0, |s| (s * 1e6).round() as u64),
    };
    merged.messages = file.messages.iter().map(|(k, v)| (Arc::from(k.as_str()), *v)).collect();
    for (kind, text) in &file.error_samples {
        let unknown =
            || ResultFileError::UnknownErrorKind { file: name.into(), at: "error_samples".into(), kind: kind.clone() };
        merged.error_samples.insert(sample_kind(kind).ok_or_else(unknown)?, text.clone());
    }
    if let Some(raw) = &file.injector.raw {
        let lag_us = raw.lag_us.decode().map_err(|e| ResultFileError::Shape {
            file: name.into(),
            at: "injector.raw.lag_us: ".into(),
            why: e.to_string(),
        })?;
        merged.injector =
            InjectorLoad { lag_us, busy_us: raw.busy_us, wall_us: raw.wall_us, busy_percent_max: raw.busy_percent_max };
    }
    Ok(RunResult {
        scenario: file.scenario.clone(),
        cores: file.cores.clone(),
        drivers: file
            .drivers
            .iter()
            .map(|d| match d.as_str() {
                "io_uring" => Driver::IoUring,
                "own" => Driver::Own,
                _ => Driver::Epoll,
            })
            .collect(),
        fallbacks: Vec::new(),
        started_at_unix_s: file.started_at_unix_s,
        duration_s: file.duration_s,
        stopped_by: file.stopped_by,
        merged,
        intervals: Vec::new(),
        segment: file.segment.clone(),
        tls_verified: file.tls_verified,
        stopped_because: file.stopped_because.clone(),
    })
}

/// The name an error sample is kept under: an error kind's, or a failed journey's or a
/// WebSocket's (as the cores name them).
fn sample_kind(name: &str) -> Option<&'static str> {
    match name {
        "journey" => Some("journey"),
        crate::journey::slot::PANIC_SAMPLE => Some(crate::journey::slot::PANIC_SAMPLE),
        "websocket" => Some("websocket"),
        _ => ErrorKind::from_name(name).map(ErrorKind::name),
    }
}

/// Adds `counts` (kind name → count) through `add`, refusing a kind this engine does not know.
fn add_kinds(
    counts: &BTreeMap<String, u64>,
    file: &str,
    at: &str,
    mut add: impl FnMut(ErrorKind, u64),
) -> Result<(), ResultFileError> {
    for (kind, count) in counts {
        let unknown = || ResultFileError::UnknownErrorKind { file: file.into(), at: at.into(), kind: kind.clone() };
        add(ErrorKind::from_name(kind).ok_or_else(unknown)?, *count);
    }
    Ok(())
}

/// A field whose value contradicts another (more failed than tried): the file was edited.
fn at_most(part: u64, whole: u64, file: &str, at: String, what: &str) -> Result<(), ResultFileError> {
    if part <= whole {
        return Ok(());
    }
    Err(ResultFileError::Shape { file: file.into(), at, why: format!("{what} ({part} > {whole})") })
}

/// Every counter of `raw`, named, for the bound check.
fn counters(raw: &RawStats) -> impl Iterator<Item = (String, u64)> + '_ {
    let named = [
        ("txn_ok", raw.txn_ok),
        ("txn_err", raw.txn_err),
        ("req_ok", raw.req_ok),
        ("not_sent", raw.not_sent),
        ("reconnects", raw.reconnects),
        ("connects", raw.connects),
        ("connects_failed", raw.connects_failed),
        ("connect_us_sum", raw.connect_us_sum),
        ("tls_handshakes", raw.tls_handshakes),
        ("tls_failed", raw.tls_failed),
        ("tls_us_sum", raw.tls_us_sum),
        ("tls_resumed", raw.tls_resumed),
        ("first_byte_us_sum", raw.first_byte_us_sum),
        ("body_bytes", raw.body_bytes),
        ("sent_bytes", raw.sent_bytes),
    ];
    let named = named.into_iter().map(|(k, v)| (k.to_string(), v));
    let kinds = raw.req_err.iter().map(|(k, v)| (format!("req_err.{k}"), *v));
    let classes = raw.status_class.iter().enumerate().map(|(i, v)| (format!("status_class[{i}]"), *v));
    let codes = raw.status_codes.iter().map(|(k, v)| (format!("status_codes.{k}"), *v));
    let responses = raw.http.iter().flat_map(|h| h.responses.iter().enumerate());
    let responses = responses.map(|(i, r)| (format!("http.responses[{i}]"), r.2));
    let ws = raw.ws.iter().flat_map(|ws| {
        let counts = ws_counts(ws).counters();
        let names = crate::stats::ws::COUNTERS.iter().map(|n| format!("ws.{n}"));
        names.zip(counts).chain(ws.errors.iter().map(|(k, v)| (format!("ws.errors.{k}"), *v)))
    });
    named.chain(kinds).chain(classes).chain(codes).chain(responses).chain(ws)
}

/// A counter beyond `RESULT_COUNT_MAX` was not written by a run, and could overflow a merge.
fn check_bounded(counts: impl IntoIterator<Item = (String, u64)>, file: &str, at: &str) -> Result<(), ResultFileError> {
    for (name, value) in counts {
        if value > RESULT_COUNT_MAX {
            let why = format!("{value} is beyond any run (at most {RESULT_COUNT_MAX})");
            return Err(ResultFileError::Shape { file: file.into(), at: format!("{at}.{name}: "), why });
        }
    }
    Ok(())
}

fn txn_stats(raw: &RawStats, file: &str, at: &str, histograms: Histograms) -> Result<TxnStats, ResultFileError> {
    check_bounded(counters(raw), file, at)?;
    // A file read unchecked (`merge`'s) has its histograms checked here, each decoded once.
    let decoded = |h: &Encoded, field: &str| match histograms {
        Histograms::Decoded => h.decode().map(LatencyHistogram::from).map_err(|e| ResultFileError::Shape {
            file: file.into(),
            at: format!("{at}.{field}: "),
            why: e.to_string(),
        }),
        Histograms::Empty => Ok(LatencyHistogram::new()),
    };
    let mut stats = TxnStats {
        txn_us: decoded(&raw.txn_us, "txn_us")?,
        req_us: decoded(&raw.req_us, "req_us")?,
        txn_us_corrected: decoded(&raw.txn_us_corrected, "txn_us_corrected")?,
        req_us_corrected: decoded(&raw.req_us_corrected, "req_us_corrected")?,
        txn_ok: raw.txn_ok,
        txn_err: raw.txn_err,
        req_ok: raw.req_ok,
        not_sent: raw.not_sent,
        status_class: raw.status_class,
        reconnects: raw.reconnects,
        connects: raw.connects,
        connects_failed: raw.connects_failed,
        connect_us_sum: raw.connect_us_sum,
        tls_handshakes: raw.tls_handshakes,
        tls_failed: raw.tls_failed,
        tls_us_sum: raw.tls_us_sum,
        tls_resumed: raw.tls_resumed,
        first_byte_us_sum: raw.first_byte_us_sum,
        body_bytes: raw.body_bytes,
        sent_bytes: raw.sent_bytes,
        ..TxnStats::default()
    };
    add_kinds(&raw.req_err, file, &format!("{at}.req_err"), |kind, n| stats.add_errors(kind, n))?;
    for (&code, &count) in &raw.status_codes {
        stats.add_status_code(code, count);
    }
    at_most(stats.not_sent, stats.attempts(), file, format!("{at}.not_sent: "), "more not sent than attempts")?;
    at_most(stats.connects_failed, stats.connects, file, format!("{at}.connects_failed: "), "more failed than tried")?;
    at_most(stats.tls_failed, stats.tls_handshakes, file, format!("{at}.tls_failed: "), "more failed than tried")?;
    if let Some(http) = &raw.http {
        stats.http = http_metrics(http, &decoded)?;
    }
    if let Some(ws) = &raw.ws {
        stats.ws = ws_stats(ws, file, &format!("{at}.ws.errors"), &decoded)?;
    }
    Ok(stats)
}

/// A histogram of a file decoded, or left empty, as [`txn_stats`] asks; `field` names it.
type Decode<'a> = dyn Fn(&Encoded, &str) -> Result<LatencyHistogram, ResultFileError> + 'a;

fn http_metrics(raw: &RawHttp, decoded: &Decode<'_>) -> Result<HttpMetrics, ResultFileError> {
    let mut metrics = HttpMetrics::default();
    metrics.dns_us = decoded(&raw.dns, "http.dns")?;
    metrics.connect_us = decoded(&raw.connect, "http.connect")?;
    metrics.tls_us = decoded(&raw.tls, "http.tls")?;
    metrics.first_byte_us = decoded(&raw.first_byte, "http.first_byte")?;
    for (method, status, count) in &raw.responses {
        metrics.add_responses(method, *status, *count);
    }
    Ok(metrics)
}

/// The counters of `raw` (its errors left out).
fn ws_counts(raw: &RawWs) -> WsStats {
    WsStats {
        connects: raw.connects,
        messages_sent: raw.messages_sent,
        messages_received: raw.messages_received,
        bytes_sent: raw.bytes_sent,
        bytes_received: raw.bytes_received,
        pings_received: raw.pings_received,
        closes: raw.closes,
        ..WsStats::default()
    }
}

fn ws_stats(raw: &RawWs, file: &str, at: &str, decoded: &Decode<'_>) -> Result<WsStats, ResultFileError> {
    let mut ws = WsStats { reply_us: decoded(&raw.reply_us, "ws.reply_us")?, ..ws_counts(raw) };
    add_kinds(&raw.errors, file, at, |kind, n| ws.errors[kind as usize] += n)?;
    Ok(ws)
}

/// Responses not in `status_codes` (past `limits::STATUS_CODES_MAX` distinct codes): the
/// classes count every response.
fn codes_past_the_limit(stats: &TxnStats) -> u64 {
    let coded: u64 = stats.status_codes.iter().map(|(_, n)| n).sum();
    stats.status_class.iter().sum::<u64>().saturating_sub(coded)
}

/// The time an open model's arrivals were scheduled over, seconds: what the cores recorded, or
/// the run's duration for a result that has none (read from a file written before it existed).
pub fn arrivals_window_s(journeys: &JourneyCounts, run_s: f64) -> f64 {
    if journeys.arrivals_until_us > 0 { journeys.arrivals_until_us as f64 / 1e6 } else { run_s }
}
