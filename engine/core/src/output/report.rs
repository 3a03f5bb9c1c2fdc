//! Results for people: the end-of-run table and the `--phases` table.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use unicode_width::UnicodeWidthStr;

pub(crate) use crate::model::terminal::truncate;
pub use crate::model::terminal::{printable, printable_composed, printable_lines};
use crate::output::result_file::convert::request_p50;
use crate::output::result_file::{Latency, Transaction};
use crate::output::threshold::Failures;
use crate::output::units::{bytes, grouped, ms, per_second, percent, rate, short_us};
use crate::stats::histogram::quantile;
use crate::stats::{ErrorKind, InjectorLoad, Merged, TxnStats};

/// The `--phases` view: where each transaction's request time went, phase by phase.
pub fn phases_table(merged: &Merged) -> String {
    let mut out = String::new();
    let width = name_column(merged.txns.keys().map(|n| &**n));
    let _ = writeln!(
        out,
        "{:<width$} {:<10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "transaction", "phase", "count", "mean", "p50", "p90", "p99", "max"
    );
    for (name, stats) in &merged.txns {
        if stats.requests() == 0 {
            continue;
        }
        let mut first = true;
        let phases = stats.http.phases().into_iter().chain([("total", &*stats.req_us)]);
        for (phase, h) in phases.filter(|(_, h)| !h.is_empty()) {
            let _ = writeln!(
                out,
                "{} {:<10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
                name_cell(if first { name } else { "" }, width),
                phase,
                grouped(h.len()),
                ms(h.mean().round() as u64),
                ms(quantile(h, 0.5)),
                ms(quantile(h, 0.9)),
                ms(quantile(h, 0.99)),
                ms(h.max())
            );
            first = false;
        }
    }
    out.push_str(
        "(dns: name resolution, once per host per core; connect, tls: new connections only; first_byte: from \
         writing the request to the first response byte; total: from the start, connect included, to the last byte)\n",
    );
    out
}

/// The median the injector's lag is weighed against (`convert::request_p50`), and whose it is:
/// the requests', or the transactions' when no request was answered.
fn weighed_median(total: &TxnStats) -> (u64, &'static str) {
    let whose = if total.req_us.is_empty() { "transactions'" } else { "requests'" };
    (request_p50(total), whose)
}

/// The injector's own line in the table: its lag, how busy its cores were, and a warning when
/// it was saturated, the lag weighed against `median` (µs, and whose).
fn injector_line(out: &mut String, load: &InjectorLoad, median: (u64, &str)) {
    let (request_p50_us, whose) = median;
    if load.lag_us.is_empty() && load.wall_us == 0 {
        return;
    }
    // No probe came due (a run of a few ms): no lag to show, not a lag of 0.
    let lag = if load.lag_us.is_empty() {
        "not measured (the run ended before the first probe)".to_string()
    } else {
        format!(
            "p50 {} p99 {} max {}",
            short_us(load.lag_at(0.5)),
            short_us(load.lag_at(0.99)),
            short_us(load.lag_us.max())
        )
    };
    // No thread time measured: no share to show, not a share of 0.
    let busy = if load.wall_us == 0 {
        "cores busy not measured".to_string()
    } else {
        format!("cores busy mean {:.0}%, max {:.0}%", load.busy_percent_mean(), load.busy_percent_max)
    };
    let _ = writeln!(out, "injector: event-loop lag {lag}; {busy}");
    if load.saturated(request_p50_us) {
        // Say which of the two signs was seen: a busy core, or a lag large against the latencies.
        let why = if load.busy() {
            format!("a core was busy {:.0}% of an interval", load.busy_percent_max)
        } else if load.lag_significant(request_p50_us) {
            format!(
                "its event-loop lag p99 {} is a large share of the {whose} median {}",
                short_us(load.lag_at(0.99)),
                short_us(request_p50_us)
            )
        } else {
            format!(
                "a core's event loop was held for up to {}: its thread was blocked, in the kernel or by a journey",
                short_us(load.lag_us.max())
            )
        };
        let _ = writeln!(
            out,
            "WARNING: the injector was saturated ({why}): latencies above include its own delay; add cores, \
             lower the load, keep other work off its cores, or read them as an upper bound"
        );
    }
}

/// The end-of-run table: one row per transaction, then totals.
pub fn table(merged: &Merged, seconds: f64) -> String {
    let durations = |_: &str, stats: &TxnStats| Latency::of(&stats.txn_us);
    table_of(merged, seconds, &merged.total(), &durations)
}

/// [`table`] of a merge made name by name (`merge_by_name`), whose `merged` holds each
/// transaction's counters without its histograms: `total` is every transaction folded into
/// one, and `transactions` the merged file's, whose figures give each row's durations.
pub fn merged_table(merged: &Merged, seconds: f64, total: &TxnStats, transactions: &[Transaction]) -> String {
    let by_name: std::collections::BTreeMap<&str, &Latency> =
        transactions.iter().map(|t| (t.name.as_str(), &t.latency_us)).collect();
    let durations = |name: &str, _: &TxnStats| by_name.get(name).map(|l| (*l).clone()).unwrap_or_default();
    table_of(merged, seconds, total, &durations)
}

/// The table, each transaction's durations as `durations` gives them.
fn table_of(merged: &Merged, seconds: f64, total: &TxnStats, durations: &dyn Fn(&str, &TxnStats) -> Latency) -> String {
    let mut out = String::new();
    transaction_rows(&mut out, merged, seconds, durations);
    let _ = writeln!(
        out,
        "\nrequests {} in {:.2}s = {} req/s; ok {}, errors {}{}",
        grouped(total.requests()),
        seconds,
        per_second(rate(total.requests(), seconds)),
        grouped(total.req_ok),
        grouped(total.req_errors()),
        if total.not_sent > 0 {
            format!(
                "; not sent {} (failed before a byte was written; {} in all)",
                grouped(total.not_sent),
                crate::output::units::counted(total.attempts(), "attempt")
            )
        } else {
            String::new()
        }
    );
    status_line(&mut out, total);
    bytes_line(&mut out, total, seconds);
    errors_block(&mut out, total, merged);
    if !total.req_us.is_empty() {
        // Failed requests have no response time; transaction durations include failed ones.
        percentile_line(&mut out, "response time (requests answered, any status)", &total.req_us);
    }
    // Each line keeps one meaning: the requests' corrected times beside their own (as the
    // result file's `latency_us_corrected` and the thresholds read them), or, when no request
    // was answered, the transactions' (failed ones included), named as such.
    if !total.req_us_corrected.is_empty() {
        percentile_line(&mut out, "corrected (requests answered, from their intended start)", &total.req_us_corrected);
    } else if !total.txn_us_corrected.is_empty() {
        let label = "corrected transaction times (no request answered; failed ones included, from intended start)";
        percentile_line(&mut out, label, &total.txn_us_corrected);
    }
    journeys_lines(&mut out, merged, seconds);
    let _ = writeln!(out, "{}", connections_line(total));
    out.push_str(&crate::output::websocket::table(merged, seconds));
    injector_line(&mut out, &merged.injector, weighed_median(total));
    if let Some(text) = merged.error_samples.get("journey") {
        let _ = writeln!(out, "first journey error: {}", printable(text));
    }
    if let Some(text) = merged.error_samples.get(crate::journey::slot::PANIC_SAMPLE) {
        // Made printable where it was sampled, each part once (the journey's name in
        // journey::slot, the message where it was caught, journey::panics): its escapes are kept.
        let _ = writeln!(out, "first journey panic: {}", printable_composed(text));
    }
    cookies_line(&mut out, merged, total);
    if !merged.messages.is_empty() {
        let messages: Vec<String> =
            merged.messages.iter().map(|(k, v)| format!("{} {}", printable(k), grouped(*v))).collect();
        let _ = writeln!(out, "messages: {}", messages.join(", "));
    }
    out
}

/// Transactions a `cookies ignored` line names, at most; the rest are counted.
const COOKIE_TXNS_NAMED_MAX: usize = 5;

/// `Set-Cookie` fields the jars ignored, by reason and by transaction (absent when none was):
/// in a load run nothing else says a cookie the server meant to set was never kept.
fn cookies_line(out: &mut String, merged: &Merged, total: &TxnStats) {
    let ignored = total.cookies_ignored.total();
    if ignored == 0 {
        return;
    }
    let reasons: Vec<String> =
        total.cookies_ignored.nonzero().map(|(reason, n)| format!("{} {}", reason.name(), grouped(n))).collect();
    let txns: Vec<(&str, u64)> = merged
        .txns
        .iter()
        .map(|(name, stats)| (&**name, stats.cookies_ignored.total()))
        .filter(|&(_, n)| n > 0)
        .collect();
    let mut named: Vec<String> = txns
        .iter()
        .take(COOKIE_TXNS_NAMED_MAX)
        .map(|(name, n)| format!("{} {}", printable(name), grouped(*n)))
        .collect();
    if txns.len() > COOKIE_TXNS_NAMED_MAX {
        named.push(format!("{} more transactions", grouped((txns.len() - COOKIE_TXNS_NAMED_MAX) as u64)));
    }
    let _ = writeln!(
        out,
        "cookies ignored: {} Set-Cookie fields the jar did not keep ({}; in {}): `journey test` says why for each",
        grouped(ignored),
        reasons.join(", "),
        named.join(", ")
    );
}

/// The header and one row per transaction. `requests` are those sent, `not sent` the attempts
/// that failed before a byte was written, `req err` the failed attempts (sent or not) and
/// `err %` the `errors` threshold's figure: the larger of `req err` out of every attempt
/// (`requests + not sent`) and `errors` out of `count` (`threshold::Failures`).
fn transaction_rows(out: &mut String, merged: &Merged, seconds: f64, durations: &dyn Fn(&str, &TxnStats) -> Latency) {
    let width = name_column(merged.txns.keys().map(|n| &**n));
    let _ = writeln!(
        out,
        "{:<width$} {:>10} {:>7} {:>10} {:>8} {:>8} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "transaction",
        "count",
        "errors",
        "requests",
        "not sent",
        "req err",
        "err %",
        "req/s",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max"
    );
    for (name, stats) in &merged.txns {
        let latency = durations(name, stats);
        let shown = |us: Option<u64>| us.map_or_else(|| "-".into(), ms);
        let (p50, p90, p99, p999, max) =
            (shown(latency.p50), shown(latency.p90), shown(latency.p99), shown(latency.p999), shown(latency.max));
        let error_percent = Failures::of(stats).percent().map_or_else(|| "-".into(), |p| format!("{p:.1}%"));
        let _ = writeln!(
            out,
            "{} {:>10} {:>7} {:>10} {:>8} {:>8} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
            name_cell(name, width),
            grouped(stats.transactions()),
            grouped(stats.txn_err),
            grouped(stats.requests()),
            grouped(stats.not_sent),
            grouped(stats.req_errors()),
            error_percent,
            per_second(rate(stats.requests(), seconds)),
            p50,
            p90,
            p99,
            p999,
            max
        );
    }
}

/// Arrivals (open model) and journeys.
fn journeys_lines(out: &mut String, merged: &Merged, seconds: f64) {
    let journeys = &merged.journeys;
    if journeys.scheduled > 0 {
        // Over the time the arrivals were scheduled, not the grace after it (outside try, 7).
        let window_s = crate::output::result_file::arrivals_window_s(journeys, seconds);
        let requested = journeys.scheduled;
        let _ = writeln!(
            out,
            "arrivals over {window_s:.2}s: requested {} ({}/s), started {} ({}/s), {}missed {}{}",
            grouped(requested),
            per_second(rate(requested, window_s)),
            grouped(journeys.arrivals_started),
            per_second(rate(journeys.arrivals_started, window_s)),
            datapool_exhausted_words(journeys.datapool_exhausted),
            grouped(journeys.missed),
            missed_hint(merged)
        );
    }
    let panicked = match journeys.panicked {
        0 => String::new(),
        n => format!(" (panicked {})", grouped(n)),
    };
    let _ = writeln!(
        out,
        "journeys started {}, ok {}, failed {}{panicked}, cancelled at stop {}",
        grouped(journeys.started),
        grouped(journeys.ok),
        grouped(journeys.failed),
        grouped(journeys.cancelled),
    );
}

/// `not started 4 (datapool exhausted: ...), `: the arrivals a single-use datapool left, which
/// neither the injector nor the journey slots held up (empty when there were none).
fn datapool_exhausted_words(count: u64) -> String {
    if count == 0 {
        return String::new();
    }
    format!("not started {} (datapool exhausted: its single-use rows ran out, ending the entry), ", grouped(count))
}

/// Why arrivals were missed, as far as the result tells: the injector's cores saturated, or
/// (otherwise) every journey slot busy, most often waiting on a slow or silent target.
fn missed_hint(merged: &Merged) -> &'static str {
    if merged.journeys.missed == 0 {
        ""
    } else if merged.injector.saturated(request_p50(&merged.total())) {
        " -- the injector was saturated and could not keep up: add cores or lower the rate"
    } else if merged.journeys.failed * 2 >= merged.journeys.started.max(1) {
        // Journeys that fail at once pause their slot (1 ms, doubling to 100 ms) before the
        // next start, so a down target is not hammered: those pauses, not a slow target, keep
        // the slots busy.
        " -- most journeys failed, and a slot whose journey fails at once pauses (1 ms, doubling to 100 ms) \
         before its next start: see the errors above; the missed starts are not the target's slowness"
    } else {
        " -- every journey slot (max_in_flight) was busy: the journeys took longer than max_in_flight / rate \
         (a slow or silent target, or long journeys); raise max_in_flight if the target should take more at \
         once, or lower the rate"
    }
}

/// `connects 12 (failed 3), TLS handshakes 9 (failed 0), reconnects 2`: every attempt.
fn connections_line(total: &TxnStats) -> String {
    let mut line = format!("connects {} (failed {})", grouped(total.connects), grouped(total.connects_failed));
    if total.tls_handshakes > 0 {
        let _ =
            write!(line, ", TLS handshakes {} (failed {})", grouped(total.tls_handshakes), grouped(total.tls_failed));
    }
    let _ = write!(line, ", reconnects {}", grouped(total.reconnects));
    line
}

/// `status codes: 200 14,573 (99.9%), 503 12 (0.1%)`: responses by exact code (by class when
/// more codes were seen than are counted one by one).
fn status_line(out: &mut String, total: &TxnStats) {
    let responses: u64 = total.status_class.iter().sum();
    if responses == 0 {
        return;
    }
    if total.status_codes.iter().map(|(_, n)| n).sum::<u64>() == responses {
        let mut codes = total.status_codes.clone();
        codes.sort_unstable();
        let codes: Vec<String> =
            codes.iter().map(|(code, n)| format!("{code} {} ({})", grouped(*n), percent(*n, responses))).collect();
        let _ = writeln!(out, "status codes: {}", codes.join(", "));
        return;
    }
    let classes: Vec<String> = total
        .status_class
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(class, n)| {
            let name = if class == 0 { "other".to_string() } else { format!("{class}xx") };
            format!("{name} {} ({})", grouped(*n), percent(*n, responses))
        })
        .collect();
    let _ = writeln!(out, "status codes: {}", classes.join(", "));
}

/// Bytes received (bodies of the responses read) and sent (request bytes written, answered or
/// not), with rates.
fn bytes_line(out: &mut String, total: &TxnStats, seconds: f64) {
    if total.body_bytes == 0 && total.sent_bytes == 0 {
        return;
    }
    let per_s = |n: u64| if seconds > 0.0 { bytes((n as f64 / seconds) as u64) + "/s" } else { "-".into() };
    let _ = writeln!(
        out,
        "bytes: received {} ({}) of response bodies, sent {} ({}) of requests",
        bytes(total.body_bytes),
        per_s(total.body_bytes),
        bytes(total.sent_bytes),
        per_s(total.sent_bytes)
    );
}

/// Errors by kind, each with its share of every attempt (sent or not) and the first message seen.
fn errors_block(out: &mut String, total: &TxnStats, merged: &Merged) {
    if total.req_errors() == 0 {
        return;
    }
    let _ = writeln!(out, "errors by kind:");
    for kind in ErrorKind::ALL {
        let count = total.errors_of(kind);
        if count == 0 {
            continue;
        }
        let first = merged
            .error_samples
            .get(kind.name())
            .map(|t| format!("  first: {}", printable(t.strip_prefix(&format!("{}: ", kind.name())).unwrap_or(t))))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<16} {:>10} {:>7}{first}",
            kind.name(),
            grouped(count),
            percent(count, total.attempts())
        );
    }
}

fn percentile_line(out: &mut String, label: &str, h: &Histogram<u64>) {
    let _ = writeln!(
        out,
        "{label}: p50 {} p90 {} p99 {} p99.9 {} max {}",
        ms(quantile(h, 0.5)),
        ms(quantile(h, 0.9)),
        ms(quantile(h, 0.99)),
        ms(quantile(h, 0.999)),
        ms(h.max())
    );
}

/// The terminal columns a name takes as shown ([`printable`]): a CJK character or an emoji
/// takes two, a combining mark none (UAX #11), so columns line up whatever the names.
pub(crate) fn name_columns(name: &str) -> usize {
    printable(name).width()
}

/// The width of a table's name column, in terminal columns: the widest name, from 11 to 60.
pub(crate) fn name_column<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(name_columns).max().unwrap_or(11).clamp(11, 60)
}

/// A name as the terminal should show it in a column `width` terminal columns wide: see
/// [`printable`]; cut to the width ([`truncate`]), then padded with spaces to fill it exactly
/// (a format width counts characters, not columns: `日本` is two characters, four columns).
pub(crate) fn name_cell(name: &str, width: usize) -> String {
    let mut cell = truncate(name, width);
    let columns = cell.width();
    cell.extend(std::iter::repeat_n(' ', width.saturating_sub(columns)));
    cell
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An open model at 2.5/s read `= 3 req/s` in the table's summary and `3` in its column
    /// (2 requests over 3 s read `1 req/s`), beside `arrivals ... (2.5/s)`: below 10/s the
    /// request rate keeps one decimal, as the arrivals' does.
    #[test]
    fn a_request_rate_below_ten_keeps_one_decimal() {
        let stats = TxnStats { req_ok: 5, txn_ok: 5, ..TxnStats::default() };
        let merged = Merged { txns: [(std::sync::Arc::from("get"), stats)].into(), ..Merged::default() };
        let text = table(&merged, 2.0);
        assert!(text.contains("requests 5 in 2.00s = 2.5 req/s;"), "{text}");
        let row = text.lines().find(|l| l.starts_with("get")).unwrap();
        assert!(row.split_whitespace().any(|cell| cell == "2.5"), "{row}");
        assert!(table(&merged, 0.5).contains("= 10 req/s;"), "whole from 10/s");
    }

    /// Outside try: a name holding an escape sequence and a line break recoloured the terminal
    /// and forged a table row; two long names differing at their end read the same.
    #[test]
    fn names_are_shown_not_obeyed_and_keep_their_ends() {
        assert_eq!(printable("red\u{1b}[31mRED\r\nfake line"), "red\\u{1b}[31mRED\\r\\nfake line");
        assert_eq!(printable("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(printable("plain ünïcode"), "plain ünïcode");
        let long = |end: &str| format!("checkout_step_payment_provider_callback_with_3ds_challenge_{end}");
        let (ok, fail) = (truncate(&long("ok"), 30), truncate(&long("fail"), 30));
        assert_ne!(ok, fail);
        assert_eq!(ok.chars().count(), 30);
        assert!(ok.ends_with("challenge_ok") && ok.starts_with("checkout_step") && ok.contains('…'), "{ok}");
        assert_eq!(truncate("short", 30), "short");
        // Cut by terminal columns: a wide character counts two, and one that would straddle
        // the cut is left out.
        let wide = truncate(&"日本".repeat(20), 11);
        assert_eq!((wide.as_str(), wide.width()), ("日本…日本", 9), "5 columns each side do not fit a third");
        let mixed = format!("ab{}", "日".repeat(20));
        assert_eq!(truncate(&mixed, 12), "ab日…日日日", "5 columns before the cut fit ab日, 6 after it 日日日");
        assert_eq!(name_cell(&mixed, 12), "ab日…日日日 ", "padded to the column's 12");
    }

    /// Outside try: a run of 1 ms, over before the first lag probe, said `event-loop lag p50
    /// 0µs p99 0µs max 0µs`, a lag that looks measured.
    #[test]
    fn a_lag_never_probed_is_said_not_measured() {
        let load = InjectorLoad { busy_us: 600, wall_us: 6_000, busy_percent_max: 11.0, ..InjectorLoad::default() };
        let mut out = String::new();
        injector_line(&mut out, &load, (0, "requests'"));
        assert!(out.starts_with("injector: event-loop lag not measured (the run ended before the first probe); cores busy mean 10%, max 11%"), "{out}");
        let mut probed = load;
        crate::stats::record_latency(&mut probed.lag_us, 43);
        let mut out = String::new();
        injector_line(&mut out, &probed, (300, "requests'"));
        assert!(out.starts_with("injector: event-loop lag p50 43µs p99 43µs max 43µs;"), "{out}");
        // Probed, but no thread time measured: no share, not a share of 0.
        let unmeasured = InjectorLoad { busy_us: 0, wall_us: 0, busy_percent_max: 0.0, ..probed };
        let mut out = String::new();
        injector_line(&mut out, &unmeasured, (300, "requests'"));
        assert!(
            out.starts_with("injector: event-loop lag p50 43µs p99 43µs max 43µs; cores busy not measured\n"),
            "{out}"
        );
    }

    /// Outside try: a name with CJK characters or an emoji pushed its row's figures out of
    /// line (a format width counts characters; each of these takes two columns).
    #[test]
    fn wide_characters_keep_the_columns_in_line() {
        let mut merged = Merged::default();
        for name in ["ünïcödé 日本 🚀", "plain", "combining e\u{301}"] {
            merged.txns.insert(name.into(), TxnStats { req_ok: 3, txn_ok: 3, ..TxnStats::default() });
        }
        let mut out = String::new();
        transaction_rows(&mut out, &merged, 1.0, &|_, stats| Latency::of(&stats.txn_us));
        let widths: Vec<usize> = out.lines().map(UnicodeWidthStr::width).collect();
        assert_eq!(widths.len(), 4, "{out}");
        assert!(widths.iter().all(|w| *w == widths[0]), "{widths:?}\n{out}");
        let count_ends: Vec<usize> = out.lines().map(|line| line.split("  3 ").next().unwrap().width()).collect();
        assert!(count_ends[1..].iter().all(|w| *w == count_ends[1]), "{count_ends:?}\n{out}");
        assert!(!truncate("x\ny", 30).contains('\n'));
    }

    /// Outside try: an error sample (a server's reason phrase, an error detail holding a header
    /// value), a journey's error and a message type printed raw, so a server's answer could
    /// recolour the terminal or forge a line of the table.
    #[test]
    fn error_samples_and_messages_are_shown_not_obeyed() {
        let mut merged = Merged::default();
        let mut stats = TxnStats { req_ok: 1, txn_ok: 1, ..TxnStats::default() };
        stats.add_error(ErrorKind::Status);
        merged.txns.insert("t".into(), stats);
        merged.error_samples.insert("status", "status: GET http://x/ answered 503 \u{1b}[2J\r\nrequests 0".into());
        merged.error_samples.insert("journey", "capture \u{202e}tpircs\u{1b}]0;owned\u{7}".into());
        merged.messages.insert("evil\u{1b}[31m\ntype".into(), 2);
        let text = table(&merged, 1.0);
        assert!(!text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{202e}'), "{text}");
        assert!(text.contains("first: GET http://x/ answered 503 \\u{1b}[2J\\r\\nrequests 0\n"), "{text}");
        assert!(text.contains("first journey error: capture \\u{202e}tpircs\\u{1b}]0;owned\\u{7}\n"), "{text}");
        assert!(text.contains("messages: evil\\u{1b}[31m\\ntype 2\n"), "{text}");
        assert_eq!(printable_lines("a\u{1b}[1m\r\nb\n"), "a\\u{1b}[1m\\r\nb\n");
    }

    /// A core held 2 s in the kernel, every attempt failing at once (a median of 0): the
    /// warning says the event loop was held, not that the lag is a share of the median.
    #[test]
    fn a_held_core_is_named_in_the_warning() {
        let mut load = InjectorLoad::default();
        load.record_busy(400_000, 1_000_000);
        load.record_probe(
            std::time::Duration::from_micros(5),
            std::time::Duration::from_secs(2),
            std::time::Duration::from_millis(10),
        );
        let mut out = String::new();
        injector_line(&mut out, &load, (0, "requests'"));
        assert!(
            out.contains("WARNING: the injector was saturated (a core's event loop was held for up to 2001ms: its thread was blocked"),
            "{out}"
        );
    }

    /// A run with no request answered (every connect refused) said its lag was a share of
    /// "the requests' median": the median it is weighed against is then the transactions'.
    #[test]
    fn the_median_a_lag_is_weighed_against_is_named_for_what_it_is() {
        let mut merged = Merged::default();
        let mut failed = TxnStats { txn_err: 3, not_sent: 3, ..TxnStats::default() };
        for us in [10_000, 10_000, 10_000] {
            crate::stats::record_latency(&mut failed.txn_us, us);
        }
        failed.add_errors(ErrorKind::Refused, 3);
        merged.txns.insert("refused".into(), failed);
        for _ in 0..5 {
            crate::stats::record_latency(&mut merged.injector.lag_us, 5_000);
        }
        let out = table(&merged, 1.0);
        assert!(
            out.contains("its event-loop lag p99 5.00ms is a large share of the transactions' median 10.0ms"),
            "{out}"
        );
        assert!(!out.contains("requests' median"), "{out}");
    }

    #[test]
    fn summary_shows_status_codes_bytes_and_errors_with_their_first_message() {
        let mut merged = Merged::default();
        let mut stats = TxnStats { req_ok: 3, txn_ok: 3, body_bytes: 3 * 1024, sent_bytes: 600, ..TxnStats::default() };
        for status in [200, 200, 200, 503] {
            stats.add_status(status);
        }
        stats.add_error(ErrorKind::Status);
        stats.add_error(ErrorKind::Timeout);
        merged.txns.insert("t".into(), stats);
        merged.error_samples.insert("status", "GET http://x/ answered 503, expected 200-399".into());
        let text = table(&merged, 2.0);
        assert!(text.contains("status codes: 200 3 (75.0%), 503 1 (25.0%)"), "{text}");
        assert!(
            text.contains("bytes: received 3.0 KiB (1.5 KiB/s) of response bodies, sent 600 B (300 B/s)"),
            "{text}"
        );
        assert!(text.contains("first: GET http://x/ answered 503"), "{text}");
        let timeout = text.lines().find(|l| l.trim_start().starts_with("timeout")).unwrap();
        assert!(timeout.contains("20.0%") && !timeout.contains("first:"), "{timeout}");
    }

    /// Outside try 4: `req err` counted the attempts never sent while `requests` did not, so
    /// `req err` over `requests` read 300% (3 of 1). The row shows the attempts never sent
    /// beside those sent, and the `errors` figure over every attempt: 75.0% (3 of 4).
    #[test]
    fn the_error_columns_count_every_attempt() {
        let mut merged = Merged::default();
        let mut stats = TxnStats { req_ok: 1, txn_ok: 1, txn_err: 3, ..TxnStats::default() };
        stats.add_errors(ErrorKind::Refused, 3);
        stats.not_sent = 3;
        crate::stats::record_latency(&mut stats.txn_us, 100);
        merged.txns.insert("login".into(), stats);
        merged.txns.insert("never".into(), TxnStats::default());
        let text = table(&merged, 1.0);
        let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(header[..8], ["transaction", "count", "errors", "requests", "not", "sent", "req", "err"], "{text}");
        assert_eq!(header[8..11], ["err", "%", "req/s"], "{text}");
        let row: Vec<&str> = text.lines().find(|l| l.starts_with("login")).unwrap().split_whitespace().collect();
        // count 4, errors 3, requests 1, not sent 3, req err 3, err % 75.0%, req/s 1.0.
        assert_eq!(row[1..8], ["4", "3", "1", "3", "3", "75.0%", "1.0"], "{text}");
        let row: Vec<&str> = text.lines().find(|l| l.starts_with("never")).unwrap().split_whitespace().collect();
        assert_eq!(row[1..8], ["0", "0", "0", "0", "0", "-", "0.0"], "no attempt, no transaction: no share: {text}");
        // One attempt is one (`journey run` against a closed port said "1 attempts in all").
        let mut merged = Merged::default();
        let mut stats = TxnStats { txn_err: 1, not_sent: 1, ..TxnStats::default() };
        stats.add_errors(ErrorKind::Refused, 1);
        merged.txns.insert("once".into(), stats);
        let text = table(&merged, 1.0);
        assert!(text.contains("; not sent 1 (failed before a byte was written; 1 attempt in all)"), "{text}");
    }

    /// Outside try, finding 7: `rate = 50`, `--duration 2s --grace 1s` against a target taking
    /// 900 ms said `requested 100 (35/s)` and blamed the engine. The rates are over the time
    /// the arrivals were scheduled over; the engine is blamed only when it was saturated.
    #[test]
    fn arrivals_are_rated_over_their_window_and_missed_ones_blamed_rightly() {
        let journeys = crate::stats::JourneyCounts {
            scheduled: 100,
            arrivals_started: 30,
            missed: 70,
            arrivals_until_us: 2_000_000,
            ..Default::default()
        };
        let mut merged = Merged { journeys, ..Merged::default() };
        let table = table(&merged, 2.9);
        assert!(table.contains("arrivals over 2.00s: requested 100 (50/s), started 30 (15/s), missed 70"), "{table}");
        assert!(table.contains("every journey slot (max_in_flight) was busy"), "{table}");
        assert!(!table.contains("saturated"), "{table}");
        merged.injector.record_busy(2_871_000, 2_900_000);
        let table = super::table(&merged, 2.9);
        assert!(table.contains("the injector was saturated and could not keep up"), "{table}");
    }

    /// Arrivals a single-use datapool left (its rows ran out) were counted as missed and blamed
    /// on the journey slots or the injector. They are said apart, and blamed on neither.
    #[test]
    fn arrivals_left_by_an_exhausted_datapool_are_not_blamed_on_slots_or_the_injector() {
        let journeys = crate::stats::JourneyCounts {
            scheduled: 24,
            arrivals_started: 20,
            started: 20,
            ok: 20,
            datapool_exhausted: 4,
            arrivals_until_us: 100_000,
            ..Default::default()
        };
        let mut merged = Merged { journeys, ..Merged::default() };
        merged.injector.record_busy(99_000, 100_000);
        let text = table(&merged, 0.1);
        let line = text.lines().find(|l| l.starts_with("arrivals over")).unwrap();
        assert_eq!(
            line,
            "arrivals over 0.10s: requested 24 (240/s), started 20 (200/s), not started 4 (datapool exhausted: \
             its single-use rows ran out, ending the entry), missed 0"
        );
        // Missed ones beside them: the hint is about the missed ones alone.
        merged.journeys.missed = 3;
        merged.journeys.scheduled = 27;
        merged.injector = Default::default();
        let text = table(&merged, 0.1);
        assert!(text.contains("ending the entry), missed 3 -- every journey slot (max_in_flight) was busy"), "{text}");
    }

    /// Outside try: a refused target, rate 500/s, `max_in_flight = 2`: journeys failed in
    /// 0.1 ms, yet the missed starts were blamed on a slow target, and `corrected (from
    /// intended start)` showed the failed transactions' times where it otherwise shows the
    /// requests'. The pauses after failures are named, and each corrected line says what it is.
    #[test]
    fn missed_starts_after_failures_and_corrected_lines_say_what_they_are() {
        let journeys = crate::stats::JourneyCounts {
            scheduled: 1000,
            arrivals_started: 52,
            missed: 948,
            started: 52,
            failed: 52,
            arrivals_until_us: 2_000_000,
            ..Default::default()
        };
        let mut merged = Merged { journeys, ..Merged::default() };
        let mut txn = crate::stats::TxnStats::default();
        crate::stats::histogram::record_latency(&mut txn.txn_us_corrected, 599_000);
        merged.txns.insert("t".into(), txn);
        let text = table(&merged, 2.0);
        assert!(text.contains("most journeys failed, and a slot whose journey fails at once pauses"), "{text}");
        assert!(!text.contains("a slow or silent target"), "{text}");
        assert!(text.contains("corrected transaction times (no request answered; failed ones included"), "{text}");
        crate::stats::histogram::record_latency(&mut merged.txns.get_mut("t").unwrap().req_us_corrected, 1_000);
        let text = table(&merged, 2.0);
        assert!(text.contains("corrected (requests answered, from their intended start)"), "{text}");
        assert!(!text.contains("corrected transaction times"), "{text}");
    }
}
