//! Prometheus exposition (`--prometheus ADDR`): the stats thread renders Mite's metric names from
//! the merged totals every interval; `output::live_server` serves the latest text on `/metrics`.
//! The transactions known before the run (a scenario file's, and each entry's journey name:
//! the row of failures outside any transaction) are exposed at 0 from the start,
//! and every transaction's error counters at 0 until it fails, so that a query over them (an
//! error ratio) has data on a run without errors.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::output::live_server::{Answer, LiveServer, Route};
use crate::stats::{ErrorKind, JourneyCounts, Merged, TxnStats};

/// Histogram bucket bounds for `mite_http_response_time_seconds`, in seconds.
const BUCKETS_S: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// One transaction's series: its name and its cumulative stats.
type Row<'a> = (&'a str, &'a TxnStats);

/// Renders the exposition text from cumulative stats and the journey gauges; each of `known`
/// not recorded yet is exposed with its counters at 0.
pub fn render(merged: &Merged, known: &[String], journeys_in_flight: u64, journeys_target: u64) -> String {
    let zero = TxnStats::default();
    let mut rows: Vec<Row<'_>> = merged.txns.iter().map(|(name, stats)| (&**name, stats)).collect();
    rows.extend(
        known.iter().filter(|name| !merged.txns.contains_key(name.as_str())).map(|name| (name.as_str(), &zero)),
    );
    let mut out = String::new();
    transaction_counters(&mut out, &rows);
    response_counters(&mut out, &rows);
    connection_counters(&mut out, &rows);
    response_times(&mut out, &rows);
    phase_histograms(&mut out, &rows);
    crate::output::websocket::exposition(&mut out, merged, label);
    journey_counters(&mut out, &merged.journeys);
    let _ = writeln!(out, "# HELP mite_actual_count Journeys in flight.\n# TYPE mite_actual_count gauge");
    let _ = writeln!(out, "mite_actual_count {journeys_in_flight}");
    let _ = writeln!(
        out,
        "# HELP mite_required_count Journeys the volume models ask for.\n# TYPE mite_required_count gauge"
    );
    let _ = writeln!(out, "mite_required_count {journeys_target}");
    out
}

/// Transactions completed and failed, per transaction.
fn transaction_counters(out: &mut String, rows: &[Row<'_>]) {
    let _ =
        writeln!(out, "# HELP mite_transaction_total Transactions completed.\n# TYPE mite_transaction_total counter");
    for (name, stats) in rows {
        let _ = writeln!(out, "mite_transaction_total{{transaction=\"{}\"}} {}", label(name), stats.transactions());
    }
    let _ = writeln!(
        out,
        "# HELP mite_journey_error_total Transactions that ended with an error.\n# TYPE mite_journey_error_total counter"
    );
    for (name, stats) in rows {
        let _ = writeln!(out, "mite_journey_error_total{{transaction=\"{}\"}} {}", label(name), stats.txn_err);
    }
}

/// Runs of journeys, the run's whole: started, and how each ended (`started = ok + failed +
/// cancelled`; the panicked are also failed).
fn journey_counters(out: &mut String, journeys: &JourneyCounts) {
    let families = [
        ("mite_journey_started_total", "Journey runs started.", journeys.started),
        ("mite_journey_ok_total", "Journey runs that ended without an error.", journeys.ok),
        ("mite_journey_failed_total", "Journey runs that ended with an error or a panic.", journeys.failed),
        ("mite_journey_panicked_total", "Journey runs that panicked (also failed).", journeys.panicked),
        ("mite_journey_cancelled_total", "Journey runs still going when the grace ended.", journeys.cancelled),
    ];
    for (family, help, count) in families {
        let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} counter\n{family} {count}");
    }
}

/// Responses by method and code, and failed requests by kind (every kind, 0 until it
/// happens), per transaction.
fn response_counters(out: &mut String, rows: &[Row<'_>]) {
    let _ = writeln!(
        out,
        "# HELP mite_http_response_total Responses (redirect hops included) by method and status code.\n\
         # TYPE mite_http_response_total counter"
    );
    for (name, stats) in rows {
        for (method, code, count) in stats.http.responses() {
            let _ = writeln!(
                out,
                "mite_http_response_total{{transaction=\"{}\",method=\"{method}\",response_code=\"{code}\"}} {count}",
                label(name)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP mite_http_request_error_total Failed requests by kind.\n# TYPE mite_http_request_error_total counter"
    );
    for (name, stats) in rows {
        for kind in ErrorKind::ALL {
            let _ = writeln!(
                out,
                "mite_http_request_error_total{{transaction=\"{}\",kind=\"{}\"}} {}",
                label(name),
                kind.name(),
                stats.errors_of(kind)
            );
        }
    }
}

/// `mite_http_response_time_seconds`: request times as a Prometheus histogram (all 0 for a
/// known transaction that has recorded none).
fn response_times(out: &mut String, rows: &[Row<'_>]) {
    let _ = writeln!(
        out,
        "# HELP mite_http_response_time_seconds Request times.\n# TYPE mite_http_response_time_seconds histogram"
    );
    for (name, stats) in rows {
        let h = &stats.req_us;
        let name = label(name);
        for (bound, below) in BUCKETS_S.iter().zip(counts_at_most(h)) {
            let _ = writeln!(
                out,
                "mite_http_response_time_seconds_bucket{{transaction=\"{name}\",le=\"{bound}\"}} {below}"
            );
        }
        let _ =
            writeln!(out, "mite_http_response_time_seconds_bucket{{transaction=\"{name}\",le=\"+Inf\"}} {}", h.len());
        let _ = writeln!(out, "mite_http_response_time_seconds_sum{{transaction=\"{name}\"}} {}", sum_s(h));
        let _ = writeln!(out, "mite_http_response_time_seconds_count{{transaction=\"{name}\"}} {}", h.len());
    }
}

/// The cumulative count at each of `BUCKETS_S`: the values whose whole histogram bucket lies at
/// or below the bound (its highest equivalent value is at most the bound). A `le` count so never
/// includes a value above its bound; a bucket straddling the bound (some 0.1 % wide) counts in
/// the next `le` up, with the values in it at or just below the bound.
fn counts_at_most(h: &hdrhistogram::Histogram<u64>) -> [u64; BUCKETS_S.len()] {
    let bounds_us = BUCKETS_S.map(|bound| (bound * 1e6).round() as u64);
    let mut counts = [0; BUCKETS_S.len()];
    for v in h.iter_recorded() {
        let highest_us = h.highest_equivalent(v.value_iterated_to());
        // Buckets come in order: the bounds this one is within get its count.
        let first = bounds_us.partition_point(|&bound_us| bound_us < highest_us);
        for count in &mut counts[first..] {
            *count += v.count_at_value();
        }
    }
    counts
}

/// A histogram's `_sum`: the sum of its values in seconds, each value read as its bucket's
/// middle (as the table's mean reads it). `0` for an empty one: a float sum of nothing is `-0`,
/// which was served as `-0` for every transaction not answered yet.
fn sum_s(h: &hdrhistogram::Histogram<u64>) -> f64 {
    let sum_us = h
        .iter_recorded()
        .fold(0.0, |sum, v| sum + h.median_equivalent(v.value_iterated_to()) as f64 * v.count_at_value() as f64);
    sum_us / 1e6
}

/// Requests sent against attempts that never reached a connection, and every connection
/// attempt, per transaction.
fn connection_counters(out: &mut String, rows: &[Row<'_>]) {
    type Count = fn(&crate::stats::TxnStats) -> u64;
    let families: [(&str, &str, Count); 7] = [
        ("mite_http_request_total", "Requests written to a connection (what a server could see).", |s| s.requests()),
        ("mite_http_request_not_sent_total", "Attempts that failed before a byte was written.", |s| s.not_sent),
        ("mite_http_connect_total", "TCP connects attempted.", |s| s.connects),
        ("mite_http_connect_failed_total", "TCP connects that failed.", |s| s.connects_failed),
        ("mite_http_tls_handshake_total", "TLS handshakes attempted.", |s| s.tls_handshakes),
        ("mite_http_tls_handshake_failed_total", "TLS handshakes that failed.", |s| s.tls_failed),
        ("mite_http_reconnect_total", "Keep-alive connections found closed and replaced.", |s| s.reconnects),
    ];
    for (family, help, count) in families {
        let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} counter");
        for (name, stats) in rows {
            let _ = writeln!(out, "{family}{{transaction=\"{}\"}} {}", label(name), count(stats));
        }
    }
}

/// `mite_http_phase_seconds{transaction,phase}`: dns, connect, tls and first-byte times.
fn phase_histograms(out: &mut String, rows: &[Row<'_>]) {
    let _ = writeln!(
        out,
        "# HELP mite_http_phase_seconds Request phases: dns, connect, tls, first_byte.\n\
         # TYPE mite_http_phase_seconds histogram"
    );
    for (name, stats) in rows {
        let name = label(name);
        for (phase, h) in stats.http.phases() {
            if h.is_empty() {
                continue;
            }
            let labels = format!("transaction=\"{name}\",phase=\"{phase}\"");
            for (bound, below) in BUCKETS_S.iter().zip(counts_at_most(h)) {
                let _ = writeln!(out, "mite_http_phase_seconds_bucket{{{labels},le=\"{bound}\"}} {below}");
            }
            let _ = writeln!(out, "mite_http_phase_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.len());
            let _ = writeln!(out, "mite_http_phase_seconds_sum{{{labels}}} {}", sum_s(h));
            let _ = writeln!(out, "mite_http_phase_seconds_count{{{labels}}} {}", h.len());
        }
    }
}

/// Serves the latest exposition on `/metrics` until dropped (each client on its own, as
/// `output::live_server` serves them: an idle one never holds up a scrape).
#[derive(Debug)]
pub struct Exporter {
    text: Arc<Mutex<Arc<String>>>,
    server: LiveServer,
    /// The transactions known before the run, exposed at 0 until they record.
    known: Mutex<Vec<String>>,
}

/// The exposition format's content type (text format 0.0.4).
const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

impl Exporter {
    /// Binds `addr` and starts serving.
    pub fn start(addr: SocketAddr) -> io::Result<Exporter> {
        let text = Arc::new(Mutex::new(Arc::new(String::new())));
        let served = text.clone();
        let route: Route = Arc::new(move |path| match path {
            Some("/metrics") => Answer {
                status: "200 OK",
                content_type: CONTENT_TYPE,
                extra_headers: "",
                body: served.lock().map(|t| t.clone()).unwrap_or_default(),
            },
            _ => Answer {
                status: "404 Not Found",
                content_type: CONTENT_TYPE,
                extra_headers: "",
                body: Arc::new("see /metrics\n".to_string()),
            },
        });
        let exporter =
            Exporter { text, server: LiveServer::start(addr, "mite-prometheus", route)?, known: Mutex::default() };
        exporter.publish_stats(&Merged::default(), 0, 0);
        Ok(exporter)
    }

    /// The transactions the run can record, known before it starts (a scenario file's steps
    /// and journeys, each entry's journey name): exposed at 0 from now on, until they record.
    pub fn know_transactions(&self, names: impl IntoIterator<Item = String>) {
        if let Ok(mut known) = self.known.lock() {
            *known = names.into_iter().collect();
        }
        self.publish_stats(&Merged::default(), 0, 0);
    }

    /// Renders `merged` (with the known transactions) and serves it.
    pub fn publish_stats(&self, merged: &Merged, journeys_in_flight: u64, journeys_target: u64) {
        let known = self.known.lock().map(|known| known.clone()).unwrap_or_default();
        self.publish(render(merged, &known, journeys_in_flight, journeys_target));
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Replaces the served text.
    pub fn publish(&self, text: String) {
        if let Ok(mut current) = self.text.lock() {
            *current = Arc::new(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{TxnStats, record_latency};

    /// The outside tester's finding: the endpoint served one connection at a time, each idle
    /// one holding the scrape for its 2 s read timeout (5 idle sockets: past Prometheus's 10 s
    /// scrape timeout). Now a scrape beside idle clients is answered at once.
    #[test]
    fn idle_connections_do_not_hold_up_a_scrape() {
        use std::io::{Read, Write};
        let exporter = Exporter::start("127.0.0.1:0".parse().unwrap()).unwrap();
        exporter.publish("mite_actual_count 7\n".into());
        let idle: Vec<_> = (0..8).map(|_| std::net::TcpStream::connect(exporter.addr()).unwrap()).collect();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while exporter.server.connections() < idle.len() {
            assert!(std::time::Instant::now() < deadline, "the idle connections were never taken in");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let started = std::time::Instant::now();
        let mut scrape = std::net::TcpStream::connect(exporter.addr()).unwrap();
        scrape.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut answer = String::new();
        scrape.read_to_string(&mut answer).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "answered after {:?}", started.elapsed());
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("\r\n\r\nmite_actual_count 7\n"));
        assert!(answer.contains("Content-Type: text/plain; version=0.0.4"), "{answer}");
        drop(idle);
    }

    /// Issue 11: requests sent, attempts not sent and failed connects are exposed apart.
    #[test]
    fn exposes_requests_sent_apart_from_attempts() {
        let mut merged = Merged::default();
        let mut stats = TxnStats { req_ok: 2, connects: 5, connects_failed: 3, not_sent: 3, ..TxnStats::default() };
        stats.add_errors(ErrorKind::Refused, 3);
        merged.txns.insert("t".into(), stats);
        let text = render(&merged, &[], 0, 0);
        for line in [
            "mite_http_request_total{transaction=\"t\"} 2",
            "mite_http_request_not_sent_total{transaction=\"t\"} 3",
            "mite_http_connect_total{transaction=\"t\"} 5",
            "mite_http_connect_failed_total{transaction=\"t\"} 3",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }

    #[test]
    fn renders_mite_metric_names_and_cumulative_buckets() {
        let mut merged = Merged::default();
        let mut stats = TxnStats { txn_ok: 3, ..TxnStats::default() };
        stats.add_status(200);
        let timings = crate::stats::Timings { connect_us: Some(300), first_byte_us: 700, ..Default::default() };
        stats.http.record(&http::Method::POST, 302, &timings);
        stats.add_error(ErrorKind::Timeout);
        record_latency(&mut stats.req_us, 800);
        record_latency(&mut stats.req_us, 20_000);
        merged.txns.insert("get \"x\"".into(), stats);
        let text = render(&merged, &[], 5, 10);
        assert!(text.contains("mite_transaction_total{transaction=\"get \\\"x\\\"\"} 3"), "{text}");
        assert!(text.contains("mite_http_request_error_total{transaction=\"get \\\"x\\\"\",kind=\"timeout\"} 1"));
        assert!(text.contains("le=\"0.001\"} 1"));
        assert!(text.contains("le=\"0.025\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        // 800 µs and 20 ms, each as its bucket's middle (20 ms lies in a 16 µs bucket).
        let sum = text
            .lines()
            .find_map(|l| l.strip_prefix("mite_http_response_time_seconds_sum{transaction=\"get \\\"x\\\"\"} "));
        let sum: f64 = sum.expect("the sum").parse().unwrap();
        assert!((sum - 0.0208).abs() < 1e-5, "{sum}");
        assert!(text.contains("mite_actual_count 5") && text.contains("mite_required_count 10"));
        assert!(
            text.contains(
                "mite_http_response_total{transaction=\"get \\\"x\\\"\",method=\"POST\",response_code=\"302\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains(
            "mite_http_phase_seconds_bucket{transaction=\"get \\\"x\\\"\",phase=\"connect\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains("phase=\"first_byte\",le=\"0.0005\"} 0"));
    }

    /// A `le` count never includes a value above its bound. Values recorded around three
    /// bounds (2.5 ms, 5 ms and 10 ms lie where buckets are 2, 4 and 8 µs wide): each is counted
    /// at or below a bound only when its whole bucket is, so a bucket straddling the bound
    /// (10,000 to 10,007 µs) counts above it. Before, `le="0.01"` counted 10,007 µs.
    #[test]
    fn a_le_bucket_never_counts_a_value_above_its_bound() {
        let mut stats = TxnStats::default();
        let values_us = [2_499, 2_500, 2_501, 4_997, 5_000, 5_003, 5_004, 9_999, 10_000, 10_007, 10_008];
        for us in values_us {
            record_latency(&mut stats.req_us, us);
        }
        let mut merged = Merged::default();
        merged.txns.insert("t".into(), stats);
        let text = render(&merged, &[], 0, 0);
        let count = |le: &str| -> u64 {
            let prefix = format!("mite_http_response_time_seconds_bucket{{transaction=\"t\",le=\"{le}\"}} ");
            let line = text.lines().find_map(|l| l.strip_prefix(prefix.as_str()));
            line.unwrap_or_else(|| panic!("no le={le} in\n{text}")).parse().unwrap()
        };
        for (le, bound_us) in [("0.0025", 2_500), ("0.005", 5_000), ("0.01", 10_000)] {
            let above = values_us.iter().filter(|&&us| us > bound_us).count() as u64;
            let at_most = values_us.len() as u64 - above;
            let counted = count(le);
            assert!(counted <= at_most, "le={le}: {counted} counted, {above} of the values are above it");
            // Rounding down: only the values sharing the bound's bucket are left out (0.1 %).
            let near = values_us.iter().filter(|&&us| us <= bound_us && us * 1000 >= bound_us * 999).count() as u64;
            assert!(counted + near >= at_most, "le={le}: {counted} counted of {at_most}");
        }
        assert_eq!((count("0.0025"), count("0.005"), count("0.01")), (1, 4, 8));
        assert_eq!(count("+Inf"), values_us.len() as u64);
    }

    /// README's metric table names every family served (the WebSocket ones are listed under
    /// "WebSockets"), with its type.
    #[test]
    fn readmes_metric_table_names_every_family_served() {
        let readme = include_str!("../../../../README.md");
        let table: Vec<&str> = readme.lines().filter(|l| l.trim_start().starts_with("| `mite_")).collect();
        let text = render(&Merged::default(), &["t".to_string()], 0, 0);
        let families = text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).filter(|l| !l.starts_with("mite_ws_"));
        for family in families {
            let (name, kind) = family.split_once(' ').unwrap();
            let named = |row: &&&str| row.contains(&format!("`{name}`")) || row.contains(&format!("`{name}{{"));
            let row = table.iter().find(named).unwrap_or_else(|| panic!("{name} is not in README's metric table"));
            assert!(row.contains(&format!("| {kind} |")), "{name} is a {kind}: {row}");
        }
    }

    /// A known transaction not recorded yet is exposed at 0, and a recorded one's error
    /// counters are at 0 until it fails: on an error-free run the error series were absent.
    #[test]
    fn known_transactions_and_error_counters_start_at_zero() {
        let mut merged = Merged::default();
        merged.txns.insert("ran".into(), TxnStats { req_ok: 4, txn_ok: 4, ..TxnStats::default() });
        let text = render(&merged, &["ran".to_string(), "later".to_string()], 0, 0);
        for line in [
            "mite_transaction_total{transaction=\"ran\"} 4",
            "mite_transaction_total{transaction=\"later\"} 0",
            "mite_journey_error_total{transaction=\"later\"} 0",
            "mite_http_request_error_total{transaction=\"ran\",kind=\"refused\"} 0",
            "mite_http_request_error_total{transaction=\"later\",kind=\"status\"} 0",
            "mite_http_request_total{transaction=\"later\"} 0",
            "mite_http_response_time_seconds_count{transaction=\"later\"} 0",
            "mite_http_response_time_seconds_sum{transaction=\"later\"} 0\n",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(!text.contains(" -0"), "a sum of nothing is 0, not -0:\n{text}");
        assert_eq!(text.matches("mite_transaction_total{transaction=\"ran\"}").count(), 1, "{text}");
    }
}
