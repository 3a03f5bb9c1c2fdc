//! The live views of a real run (`--dashboard`, `--prometheus`) with idle clients connected:
//! the outside tester found each idle connection held every other request for 2 s (4 idle
//! sockets: a dashboard poll or a scrape answered after 8 s; 5: past Prometheus's 10 s scrape
//! timeout).

mod support;
use support::{Scratch, collect_stderr, http_get, scenario};

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mite_tools::{Target, TargetOptions};

/// Idle connections opened to each view before the timed requests.
const IDLE: usize = 8;

/// The address a line of standard error gives after `prefix` (`live dashboard on http://A/`).
fn address_after(said: &str, prefix: &str) -> Option<SocketAddr> {
    let line = said.lines().find_map(|line| line.strip_prefix(prefix))?;
    line.split('/').next()?.parse().ok()
}

/// The value of `series` (its name and labels, as written) in a `/metrics` scrape.
fn sample(scrape: &str, series: &str) -> Option<u64> {
    scrape.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// A scrape of `metrics` once `series` counts more than 0, polled for up to 20 s: a busy
/// machine makes the run's first answered requests late, never absent.
fn scrape_once_counted(metrics: SocketAddr, series: &str) -> String {
    let started = Instant::now();
    loop {
        // The exporter goes with the run (no linger): gone, the run ended before it counted.
        let serving = TcpStream::connect(metrics).is_ok();
        assert!(serving, "the run ended before {series} counted more than 0");
        let scrape = http_get(&metrics.to_string(), "/metrics");
        if sample(&scrape, series).is_some_and(|n| n > 0) {
            return scrape;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{series} still 0 or absent after 20 s:\n{scrape}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `/metrics` address a run says on its standard error (`said`), waited for up to 20 s.
fn metrics_address(said: &Mutex<String>) -> SocketAddr {
    let started = Instant::now();
    loop {
        if let Some(metrics) = address_after(&said.lock().unwrap(), "Prometheus metrics on http://") {
            return metrics;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no address said:\n{}", said.lock().unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn idle_clients_hold_up_neither_the_dashboard_nor_a_scrape() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let url = format!("target_url={}", target.url("/"));
    let get_toml = scenario("get.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "-q", "--scenario", &get_toml, "--config", &url])
        .args(["--duration", "4s", "--tick", "200ms"])
        .args(["--dashboard", "127.0.0.1:0", "--dashboard-linger", "0s"])
        .args(["--prometheus", "127.0.0.1:0", "--prometheus-linger", "0s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (said, reader) = collect_stderr(&mut child);
    let started = Instant::now();
    let (dashboard, metrics) = loop {
        let text = said.lock().unwrap().clone();
        let found =
            (address_after(&text, "live dashboard on http://"), address_after(&text, "Prometheus metrics on http://"));
        if let (Some(dashboard), Some(metrics)) = found {
            break (dashboard, metrics);
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no addresses said:\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Past the first intervals, so that the metrics are there to scrape (however late they come).
    while !http_get(&metrics.to_string(), "/metrics").contains("mite_actual_count") {
        assert!(started.elapsed() < Duration::from_secs(20), "no metrics after 20 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let idle: Vec<TcpStream> = [dashboard, metrics]
        .iter()
        .flat_map(|addr| (0..IDLE).map(move |_| TcpStream::connect(addr).unwrap()))
        .collect();
    // Let the views take the idle ones in before the timed requests.
    std::thread::sleep(Duration::from_millis(200));
    for (addr, path, expected) in
        [(dashboard, "/data.json", "\"live\""), (dashboard, "/", "<html"), (metrics, "/metrics", "mite_actual_count")]
    {
        let asked = Instant::now();
        let answer = http_get(&addr.to_string(), path);
        let took = asked.elapsed();
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.contains(expected), "{path}: {answer:.300}");
        assert!(took < Duration::from_secs(1), "{path} answered after {took:?} beside {IDLE} idle connections");
    }
    drop(idle);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{}", said.lock().unwrap());
}

/// A scenario file's transactions and their error counters are on `/metrics` at 0 from the
/// start: on a run without errors, `mite_http_request_error_total` was absent, so the README's
/// error ratio had no data and a dashboard showed "no data".
#[test]
fn a_scenario_files_transactions_and_error_counters_are_scraped_at_zero_from_the_start() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let path = scratch.file("known.toml");
    let text = format!(
        r#"[journeys.browse]
steps = [{{ transaction = "home", url = "{url}", think = "20ms" }}]
[journeys.idle]
steps = [{{ transaction = "never", url = "{url}" }}]
[[scenario]]
journey = "browse"
volume = {{ constant = 2 }}
[[scenario]]
journey = "idle"
volume = {{ constant = 0 }}
"#,
        url = target.url("/")
    );
    std::fs::write(&path, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "-q", "--scenario", path.to_str().unwrap()])
        .args(["--duration", "2s", "--tick", "200ms", "--prometheus", "127.0.0.1:0", "--prometheus-linger", "0s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (said, reader) = collect_stderr(&mut child);
    let metrics = metrics_address(&said);
    let first = http_get(&metrics.to_string(), "/metrics");
    let zero_errors = "mite_http_request_error_total{transaction=\"home\",kind=\"refused\"} 0";
    for series in [zero_errors, "mite_transaction_total{transaction=\"never\"} 0"] {
        assert!(first.contains(series), "{series} not in the first scrape:\n{first}");
    }
    // Mid-run, after requests were answered: still no error, and still its series at 0.
    let during = scrape_once_counted(metrics, "mite_transaction_total{transaction=\"home\"}");
    assert!(during.contains(zero_errors), "{during}");
    assert!(during.contains("mite_transaction_total{transaction=\"never\"} 0"), "{during}");
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{}", said.lock().unwrap());
}

/// A registered scenario's Rust journeys: the transactions they time are named as they run,
/// so none can be known before the run; each entry's journey name (the row of failures
/// outside any transaction) is, and is served at 0 from the first scrape, like a scenario
/// file's transactions. It was absent until that journey failed outside a transaction.
#[test]
fn a_registered_journeys_own_row_is_scraped_at_zero_from_the_start() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let url = format!("target_url={}", target.url("/"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_mite-engine"))
        .args(["--cores", "1", "--no-pin", "-q", "--scenario", "http_example:scenario", "--config", &url])
        .args(["--config", "journeys=2", "--duration", "1500ms", "--tick", "200ms"])
        .args(["--prometheus", "127.0.0.1:0", "--prometheus-linger", "0s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (said, reader) = collect_stderr(&mut child);
    let metrics = metrics_address(&said);
    let journey_row = [
        "mite_transaction_total{transaction=\"http_example:journey\"} 0",
        "mite_journey_error_total{transaction=\"http_example:journey\"} 0",
        "mite_http_request_error_total{transaction=\"http_example:journey\",kind=\"refused\"} 0",
    ];
    let first = http_get(&metrics.to_string(), "/metrics");
    for series in journey_row {
        assert!(first.contains(series), "{series} not in the first scrape:\n{first}");
    }
    // Mid-run: the journey's own transaction recorded, the journey's row still at 0.
    let during = scrape_once_counted(metrics, "mite_transaction_total{transaction=\"get_root\"}");
    for series in journey_row {
        assert!(during.contains(series), "{series} not served mid-run:\n{during}");
    }
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{}", said.lock().unwrap());
}
