//! The live dashboard (`--dashboard ADDR`): the report page served during the run, its data
//! replaced by the stats thread once per interval (nothing per request), and at the end the
//! final report, which the page offers to save as a self-contained file.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::exec::runtime::Driver;
use crate::limits::{DASHBOARD_INTERVALS_MAX, DASHBOARD_REQUEST_BYTES_MAX};
use crate::output::outcome::{IntervalPoint, RunResult, StopReason};
use crate::output::threshold::Outcome;
use crate::stats::Merged;

/// What the server hands out: the page data as JSON text, and the scenario's name.
#[derive(Default)]
struct Published {
    data: Arc<String>,
    title: String,
}

/// What the stats thread keeps between intervals so an update costs one interval's work.
#[derive(Default)]
struct Cache {
    /// The most recent intervals as JSON (at most `DASHBOARD_INTERVALS_MAX`).
    intervals: std::collections::VecDeque<Value>,
    /// Intervals converted so far (the next to convert).
    seen: usize,
}

/// What the dashboard shows of a run in progress besides its figures.
#[derive(Clone, Copy, Debug)]
pub struct LiveRun<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Core ids.
    pub cores: &'a [usize],
    /// Execution segment `k/n`, when one of several injectors.
    pub segment: Option<&'a str>,
    /// The interval length.
    pub tick: Duration,
    /// The longest the run may take.
    pub duration: Duration,
}

/// The dashboard server and its latest data.
pub struct Dashboard {
    published: Arc<Mutex<Published>>,
    cache: Mutex<Cache>,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    started_at_unix_s: f64,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dashboard({})", self.addr)
    }
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl Dashboard {
    /// Binds `addr` and starts serving (a waiting page until the first interval).
    pub fn start(addr: SocketAddr) -> io::Result<Dashboard> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let waiting = json!({ "mode": "run", "runs": [], "live": { "finished": false, "tick_s": 1.0 } });
        let published =
            Arc::new(Mutex::new(Published { data: Arc::new(waiting.to_string()), title: "mite-engine".into() }));
        let stop = Arc::new(AtomicBool::new(false));
        let (served, thread_stop) = (published.clone(), stop.clone());
        let thread = std::thread::Builder::new().name("mite-dashboard".into()).spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(stream) = stream {
                    serve(stream, &served);
                }
            }
        })?;
        Ok(Dashboard {
            published,
            cache: Mutex::new(Cache::default()),
            stop,
            addr,
            started_at_unix_s: unix_now(),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn publish(&self, title: &str, data: Value) {
        if let Ok(mut published) = self.published.lock() {
            *published = Published { data: Arc::new(data.to_string()), title: title.to_string() };
        }
    }

    /// Called by the stats thread once per completed interval: the totals so far and the
    /// intervals so far (only the newest is converted; the others are cached).
    pub fn publish_interval(
        &self,
        run: &LiveRun<'_>,
        drivers: &[Driver],
        merged: &Merged,
        intervals: &[IntervalPoint],
    ) {
        let Ok(mut cache) = self.cache.lock() else { return };
        let elapsed_s = intervals.last().map_or(0.0, |p| p.elapsed_s);
        let mut result = RunResult {
            scenario: run.scenario.to_string(),
            cores: run.cores.to_vec(),
            drivers: drivers.to_vec(),
            fallbacks: Vec::new(),
            started_at_unix_s: self.started_at_unix_s,
            duration_s: elapsed_s,
            stopped_by: StopReason::Duration,
            merged: merged.clone(),
            intervals: intervals[cache.seen.min(intervals.len())..].to_vec(),
            segment: run.segment.map(str::to_string),
        };
        let mut json = crate::output::report::result_json_with(&result, false);
        cache.seen = intervals.len();
        if let Some(new) = json.get_mut("intervals").and_then(Value::as_array_mut) {
            cache.intervals.extend(new.drain(..));
        }
        while cache.intervals.len() > DASHBOARD_INTERVALS_MAX {
            cache.intervals.pop_front();
        }
        json["intervals"] = Value::Array(cache.intervals.iter().cloned().collect());
        result.intervals.clear();
        let mut page = super::run_page_data(&result, &[], json);
        page["live"] = json!({
            "finished": false,
            "tick_s": run.tick.as_secs_f64(),
            "elapsed_s": elapsed_s,
            "duration_s": run.duration.as_secs_f64(),
        });
        self.publish(run.scenario, page);
    }

    /// The run's final report, with its threshold outcomes; the page stops polling and offers
    /// to save it.
    pub fn publish_final(&self, result: &RunResult, thresholds: &[Outcome]) {
        let mut page = super::run_page_data(result, thresholds, crate::output::report::result_json_with(result, false));
        page["live"] = json!({ "finished": true, "elapsed_s": result.duration_s, "duration_s": result.duration_s });
        self.publish(&result.scenario, page);
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

/// The path of a `GET` request, or `None` for anything else.
fn request_path(request: &[u8]) -> Option<&str> {
    let line = request.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    if parts.next()? != "GET" {
        return None;
    }
    let target = parts.next()?;
    Some(target.split('?').next().unwrap_or(target))
}

fn serve(mut stream: TcpStream, published: &Mutex<Published>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut request = [0u8; DASHBOARD_REQUEST_BYTES_MAX];
    let mut read = 0;
    while read < request.len() && !request[..read].windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut request[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    let (data, title) = match published.lock() {
        Ok(p) => (p.data.clone(), p.title.clone()),
        Err(_) => return,
    };
    let (status, kind, extra, body) = match request_path(&request[..read]) {
        Some("/") | Some("/index.html") => {
            let value: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
            ("200 OK", "text/html; charset=utf-8", "", super::document(&format!("{title} (live)"), &value, true))
        }
        Some("/data.json") => ("200 OK", "application/json", "", data.to_string()),
        Some("/report.html") => {
            let mut value: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
            value["live"] = Value::Null;
            let extra = "Content-Disposition: attachment; filename=\"mite-report.html\"\r\n";
            ("200 OK", "text/html; charset=utf-8", extra, super::document(&title, &value, false))
        }
        _ => ("404 Not Found", "text/plain", "", "the dashboard serves /, /data.json and /report.html\n".into()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nCache-Control: no-store\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(body.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn serves_the_page_its_data_and_the_saved_report() {
        let dashboard = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let live = LiveRun {
            scenario: "demo",
            cores: &[0],
            segment: None,
            tick: Duration::from_secs(1),
            duration: Duration::from_secs(5),
        };
        let point = IntervalPoint {
            elapsed_s: 1.0,
            requests: 3,
            errors: 0,
            transactions: 3,
            rps: 3.0,
            p50_us: 10,
            p99_us: 20,
            journeys_in_flight: 1,
            detail: Default::default(),
            ..IntervalPoint::default()
        };
        let mut points = vec![point.clone()];
        dashboard.publish_interval(&live, &[Driver::Epoll], &Merged::default(), &points);
        points.push(IntervalPoint { elapsed_s: 2.0, ..point });
        dashboard.publish_interval(&live, &[Driver::Epoll], &Merged::default(), &points);
        let data = get(dashboard.addr(), "/data.json");
        let body: Value = serde_json::from_str(data.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        let intervals = body["runs"][0]["intervals"].as_array().unwrap();
        assert_eq!(intervals.len(), 2, "each interval once, in order");
        assert_eq!(intervals[1]["elapsed_s"], 2.0);
        assert_eq!(body["live"]["finished"], false);
        assert_eq!(body["runs"][0]["driver"], "epoll");
        let page = get(dashboard.addr(), "/");
        assert!(page.starts_with("HTTP/1.1 200") && page.contains("connect-src 'self'"));
        let saved = get(dashboard.addr(), "/report.html");
        assert!(saved.contains("attachment") && saved.contains("connect-src 'none'"));
        assert!(get(dashboard.addr(), "/nope").starts_with("HTTP/1.1 404"));
    }

    #[test]
    fn hostile_clients_neither_hang_it_nor_keep_it_alive() {
        let dashboard = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = dashboard.addr();
        // A client that connects and says nothing holds the server for its read timeout only.
        let silent = TcpStream::connect(addr).unwrap();
        let started = std::time::Instant::now();
        assert!(get(addr, "/data.json").starts_with("HTTP/1.1 200"));
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        // A request far past the bound is cut at it and answered, not read for ever.
        let flooding = std::time::Instant::now();
        let mut flood = TcpStream::connect(addr).unwrap();
        flood.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = flood.write_all(&vec![b'A'; 8 * DASHBOARD_REQUEST_BYTES_MAX]);
        let mut answer = String::new();
        let _ = flood.read_to_string(&mut answer);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 404"), "{answer:.80}");
        assert!(flooding.elapsed() < Duration::from_secs(5), "answered (or closed) at once: {:?}", flooding.elapsed());
        // Stopping it with a silent client still connected takes at most the read timeout.
        let silent_again = TcpStream::connect(addr).unwrap();
        let stopping = std::time::Instant::now();
        drop(dashboard);
        assert!(stopping.elapsed() < Duration::from_secs(5), "{:?}", stopping.elapsed());
        drop((silent, silent_again));
    }

    #[test]
    fn a_busy_address_is_an_error() {
        let first = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        assert!(Dashboard::start(first.addr()).is_err());
    }

    #[test]
    fn only_gets_have_paths() {
        assert_eq!(request_path(b"GET /data.json?x=1 HTTP/1.1\r\n"), Some("/data.json"));
        assert_eq!(request_path(b"POST / HTTP/1.1\r\n"), None);
        assert_eq!(request_path(b"\xff\xfe"), None);
    }
}
