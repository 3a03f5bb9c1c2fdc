//! Prometheus exposition (`--prometheus ADDR`): the stats thread renders Mite's metric names from
//! the merged totals every interval; a small thread serves the latest text on `/metrics`.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::stats::{ErrorKind, Merged};

/// Histogram bucket bounds for `mite_http_response_time_seconds`, in seconds.
const BUCKETS_S: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Renders the exposition text from cumulative stats and the journey gauges.
pub fn render(merged: &Merged, journeys_in_flight: u64, journeys_target: u64) -> String {
    let mut out = String::new();
    transaction_counters(&mut out, merged);
    response_counters(&mut out, merged);
    connection_counters(&mut out, merged);
    response_times(&mut out, merged);
    phase_histograms(&mut out, merged);
    crate::output::websocket::exposition(&mut out, merged, label);
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
fn transaction_counters(out: &mut String, merged: &Merged) {
    let _ =
        writeln!(out, "# HELP mite_transaction_total Transactions completed.\n# TYPE mite_transaction_total counter");
    for (name, stats) in &merged.txns {
        let _ = writeln!(out, "mite_transaction_total{{transaction=\"{}\"}} {}", label(name), stats.transactions());
    }
    let _ = writeln!(
        out,
        "# HELP mite_journey_error_total Transactions that ended with an error.\n# TYPE mite_journey_error_total counter"
    );
    for (name, stats) in &merged.txns {
        let _ = writeln!(out, "mite_journey_error_total{{transaction=\"{}\"}} {}", label(name), stats.txn_err);
    }
}

/// Responses by method and code, and failed requests by kind, per transaction.
fn response_counters(out: &mut String, merged: &Merged) {
    let _ = writeln!(
        out,
        "# HELP mite_http_response_total Responses (redirect hops included) by method and status code.\n\
         # TYPE mite_http_response_total counter"
    );
    for (name, stats) in &merged.txns {
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
    for (name, stats) in &merged.txns {
        for kind in ErrorKind::ALL {
            let count = stats.errors_of(kind);
            if count > 0 {
                let _ = writeln!(
                    out,
                    "mite_http_request_error_total{{transaction=\"{}\",kind=\"{}\"}} {count}",
                    label(name),
                    kind.name()
                );
            }
        }
    }
}

/// `mite_http_response_time_seconds`: request times as a Prometheus histogram.
fn response_times(out: &mut String, merged: &Merged) {
    let _ = writeln!(
        out,
        "# HELP mite_http_response_time_seconds Request times.\n# TYPE mite_http_response_time_seconds histogram"
    );
    for (name, stats) in &merged.txns {
        let h = &stats.req_us;
        if h.is_empty() {
            continue;
        }
        let name = label(name);
        for bound in BUCKETS_S {
            let below = h.count_between(0, (bound * 1e6) as u64);
            let _ = writeln!(
                out,
                "mite_http_response_time_seconds_bucket{{transaction=\"{name}\",le=\"{bound}\"}} {below}"
            );
        }
        let _ =
            writeln!(out, "mite_http_response_time_seconds_bucket{{transaction=\"{name}\",le=\"+Inf\"}} {}", h.len());
        let sum_s: f64 =
            h.iter_recorded().map(|v| v.value_iterated_to() as f64 * v.count_at_value() as f64).sum::<f64>() / 1e6;
        let _ = writeln!(out, "mite_http_response_time_seconds_sum{{transaction=\"{name}\"}} {sum_s}");
        let _ = writeln!(out, "mite_http_response_time_seconds_count{{transaction=\"{name}\"}} {}", h.len());
    }
}

/// Requests sent against attempts that never reached a connection, and every connection
/// attempt, per transaction.
fn connection_counters(out: &mut String, merged: &Merged) {
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
        for (name, stats) in &merged.txns {
            let _ = writeln!(out, "{family}{{transaction=\"{}\"}} {}", label(name), count(stats));
        }
    }
}

/// `mite_http_phase_seconds{transaction,phase}`: dns, connect, tls and first-byte times.
fn phase_histograms(out: &mut String, merged: &Merged) {
    let _ = writeln!(
        out,
        "# HELP mite_http_phase_seconds Request phases: dns, connect, tls, first_byte.\n\
         # TYPE mite_http_phase_seconds histogram"
    );
    for (name, stats) in &merged.txns {
        let name = label(name);
        for (phase, h) in stats.http.phases() {
            if h.is_empty() {
                continue;
            }
            let labels = format!("transaction=\"{name}\",phase=\"{phase}\"");
            for bound in BUCKETS_S {
                let below = h.count_between(0, (bound * 1e6) as u64);
                let _ = writeln!(out, "mite_http_phase_seconds_bucket{{{labels},le=\"{bound}\"}} {below}");
            }
            let _ = writeln!(out, "mite_http_phase_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.len());
            let sum_s: f64 =
                h.iter_recorded().map(|v| v.value_iterated_to() as f64 * v.count_at_value() as f64).sum::<f64>() / 1e6;
            let _ = writeln!(out, "mite_http_phase_seconds_sum{{{labels}}} {sum_s}");
            let _ = writeln!(out, "mite_http_phase_seconds_count{{{labels}}} {}", h.len());
        }
    }
}

/// Serves the latest exposition on `/metrics` until dropped.
#[derive(Debug)]
pub struct Exporter {
    text: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    /// Binds `addr` and starts serving.
    pub fn start(addr: SocketAddr) -> io::Result<Exporter> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let text = Arc::new(Mutex::new(String::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_text, thread_stop) = (text.clone(), stop.clone());
        let thread = std::thread::Builder::new().name("mite-prometheus".into()).spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut request = [0u8; 2048];
                let n = stream.read(&mut request).unwrap_or(0);
                let wants_metrics = request[..n].starts_with(b"GET /metrics");
                let body = if wants_metrics {
                    thread_text.lock().map(|t| t.clone()).unwrap_or_default()
                } else {
                    "see /metrics\n".to_string()
                };
                let status = if wants_metrics { "200 OK" } else { "404 Not Found" };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        })?;
        Ok(Exporter { text, stop, addr, thread: Some(thread) })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the served text.
    pub fn publish(&self, text: String) {
        if let Ok(mut current) = self.text.lock() {
            *current = text;
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{TxnStats, record_latency};

    /// Issue 11: requests sent, attempts not sent and failed connects are exposed apart.
    #[test]
    fn exposes_requests_sent_apart_from_attempts() {
        let mut merged = Merged::default();
        let mut stats = TxnStats { req_ok: 2, connects: 5, connects_failed: 3, not_sent: 3, ..TxnStats::default() };
        stats.add_errors(ErrorKind::Refused, 3);
        merged.txns.insert("t".into(), stats);
        let text = render(&merged, 0, 0);
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
        let text = render(&merged, 5, 10);
        assert!(text.contains("mite_transaction_total{transaction=\"get \\\"x\\\"\"} 3"), "{text}");
        assert!(text.contains("mite_http_request_error_total{transaction=\"get \\\"x\\\"\",kind=\"timeout\"} 1"));
        assert!(text.contains("le=\"0.001\"} 1"));
        assert!(text.contains("le=\"0.025\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
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
}
