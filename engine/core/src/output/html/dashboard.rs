//! The live dashboard (`--dashboard ADDR`): the report page served during the run, its data
//! replaced by the stats thread once per interval (nothing per request), and at the end the
//! final report, which the page offers to save as a self-contained file.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::driver::Driver;
use crate::limits::DASHBOARD_INTERVALS_MAX;
use crate::output::live_server::{Answer, LiveServer, Route};
use crate::output::outcome::{IntervalPoint, RunResult, StopReason};
use crate::output::result_file::{Interval, result_file};
use crate::output::threshold::Checked;
use crate::stats::Merged;

/// What the server hands out: the page data as JSON text, and the scenario's name; the two
/// pages made of them are rendered at the first request for each and kept until the next
/// update, so that many clients cost one rendering per interval, not one each.
#[derive(Default)]
struct Published {
    data: Arc<String>,
    title: String,
    live_page: OnceLock<Arc<String>>,
    saved_page: OnceLock<Arc<String>>,
}

impl Published {
    fn new(data: String, title: &str) -> Arc<Published> {
        Arc::new(Published { data: Arc::new(data), title: title.to_string(), ..Published::default() })
    }

    /// The live page (`live`: polls `/data.json`) or the one to save (`/report.html`).
    fn page(&self, live: bool) -> Arc<String> {
        let (cell, title) = if live {
            (&self.live_page, format!("{} (live)", self.title))
        } else {
            (&self.saved_page, self.title.clone())
        };
        cell.get_or_init(|| {
            let mut value: Value = serde_json::from_str(&self.data).unwrap_or(Value::Null);
            if !live {
                value["live"] = Value::Null;
            }
            Arc::new(super::document(&title, &value, live))
        })
        .clone()
    }
}

/// What the stats thread keeps between intervals so an update costs one interval's work.
#[derive(Default)]
struct Cache {
    /// The most recent intervals as the result file has them (at most `DASHBOARD_INTERVALS_MAX`).
    intervals: std::collections::VecDeque<Interval>,
    /// Intervals converted so far (the next to convert).
    seen: usize,
    /// The oldest intervals left out past `DASHBOARD_INTERVALS_MAX` (said on the page).
    left_out: usize,
    /// The run's time (`elapsed_s`) at the last update published.
    published_at_s: Option<f64>,
}

/// The shortest gap between two updates of the page's data, in the run's time: an update
/// converts the run's figures and serializes every interval kept (up to
/// `DASHBOARD_INTERVALS_MAX`), which at a `--tick` of 10 ms took the stats thread longer than
/// the tick (45 s at 10 ms: 1,483 of 4,500 intervals recorded, and 729 lines blaming the core
/// for figures the stats thread was late to take). The page polls at most twice a second.
const UPDATE_GAP_MIN_S: f64 = 0.25;

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
    /// Whether TLS certificates are verified (false: `--insecure`), shown on the page.
    pub tls_verified: bool,
}

/// The dashboard server and its latest data.
pub struct Dashboard {
    published: Arc<Mutex<Arc<Published>>>,
    cache: Mutex<Cache>,
    started_at_unix_s: f64,
    server: LiveServer,
}

impl fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dashboard({})", self.server.addr())
    }
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl Dashboard {
    /// Binds `addr` and starts serving (a waiting page until the first interval): each client
    /// on its own, as `output::live_server` serves them.
    pub fn start(addr: SocketAddr) -> io::Result<Dashboard> {
        let waiting = json!({ "mode": "run", "runs": [], "live": { "finished": false, "tick_s": 1.0 } });
        let published = Arc::new(Mutex::new(Published::new(waiting.to_string(), "mite-engine")));
        let served = published.clone();
        let route: Route = Arc::new(move |path| answer(path, &served));
        let server = LiveServer::start(addr, "mite-dashboard", route)?;
        Ok(Dashboard { published, cache: Mutex::new(Cache::default()), started_at_unix_s: unix_now(), server })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    fn publish(&self, title: &str, data: Value) {
        if let Ok(mut published) = self.published.lock() {
            *published = Published::new(data.to_string(), title);
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
        // A piece folded into the newest interval converted (the stop's, a grace's) replaces
        // it in place: no new interval, and the page must not keep the copy before the fold.
        let folded = intervals.len() == cache.seen;
        // The intervals not published yet are converted at the next update (`seen` stays); a
        // fold is published at once (it comes at most a few times a run, at its end).
        if !folded && cache.published_at_s.is_some_and(|at| elapsed_s - at < UPDATE_GAP_MIN_S) {
            return;
        }
        cache.published_at_s = Some(elapsed_s);
        // The newest interval converted is converted again: a fold may have changed it since.
        if cache.seen > 0 && cache.seen <= intervals.len() && cache.intervals.pop_back().is_some() {
            cache.seen -= 1;
        }
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
            tls_verified: Some(run.tls_verified),
            stopped_because: None,
        };
        let mut file = result_file(&result, false);
        cache.seen = intervals.len();
        cache.intervals.extend(file.intervals.drain(..));
        while cache.intervals.len() > DASHBOARD_INTERVALS_MAX {
            cache.intervals.pop_front();
            cache.left_out += 1;
        }
        file.intervals = cache.intervals.iter().cloned().collect();
        result.intervals.clear();
        let mut page = super::run_page_data(&result, &[], file.to_value());
        // The run has not stopped: neither its data nor a report saved now may say it has.
        let total_s = run.duration.as_secs_f64();
        page["runs"][0]["stopped_by"] = json!("not yet (in progress)");
        let mut notes =
            vec![format!("in progress: the first {elapsed_s:.1} s of a {total_s:.1} s run, not its final report")];
        // Past the bound the charts over time start late: said, not left to look like the run's start.
        if cache.left_out > 0 {
            let from_s = cache.intervals.front().map_or(0.0, |i| i.elapsed_s);
            notes.push(left_out_note(cache.left_out, from_s));
            page["runs"][0]["intervals_left_out"] = json!(cache.left_out);
        }
        page["runs"][0]["notes"] = json!(notes);
        page["live"] = json!({
            "finished": false,
            // How often the data changes: each tick, but not more often than the gap.
            "tick_s": run.tick.as_secs_f64().max(UPDATE_GAP_MIN_S),
            "elapsed_s": elapsed_s,
            "duration_s": run.duration.as_secs_f64(),
        });
        self.publish(run.scenario, page);
    }

    /// The run's final report, with its thresholds' outcomes (and those that could not be
    /// checked, then those a segment left to `merge`); the page stops polling and offers to
    /// save it.
    pub fn publish_final(&self, result: &RunResult, thresholds: &[Checked], left_to_merge: &[String]) {
        let mut page = super::run_page_data(result, thresholds, result_file(result, false).to_value());
        super::add_left_to_merge(&mut page, left_to_merge);
        page["live"] = json!({ "finished": true, "elapsed_s": result.duration_s, "duration_s": result.duration_s });
        self.publish(&result.scenario, page);
    }
}

/// What the live page says when its charts over time lack the run's first `left_out`
/// intervals (the last `DASHBOARD_INTERVALS_MAX`, the first ending at `from_s`, are sent).
fn left_out_note(left_out: usize, from_s: f64) -> String {
    format!(
        "over time: the live page shows the last {} intervals, from {from_s:.1} s; the first {} are left out \
         here and are in the final report (and the result file)",
        crate::output::units::grouped(DASHBOARD_INTERVALS_MAX as u64),
        crate::output::units::grouped(left_out as u64),
    )
}

/// What a path of the dashboard answers, from the latest published data.
fn answer(path: Option<&str>, published: &Mutex<Arc<Published>>) -> Answer {
    let published = match published.lock() {
        Ok(published) => published.clone(),
        Err(_) => Published::new("null".into(), "mite-engine"),
    };
    let html = "text/html; charset=utf-8";
    let ok = |content_type, extra_headers, body| Answer { status: "200 OK", content_type, extra_headers, body };
    match path {
        Some("/") | Some("/index.html") => ok(html, "", published.page(true)),
        Some("/data.json") => ok("application/json", "", published.data.clone()),
        Some("/report.html") => {
            let extra = "Content-Disposition: attachment; filename=\"mite-report.html\"\r\n";
            ok(html, extra, published.page(false))
        }
        _ => Answer {
            status: "404 Not Found",
            content_type: "text/plain",
            extra_headers: "",
            body: Arc::new("the dashboard serves /, /data.json and /report.html\n".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    use super::*;
    use crate::limits::LIVE_REQUEST_BYTES_MAX;
    use crate::output::live_server::get;

    /// A run on core 0 named `scenario`, ticking every `tick` for `duration`.
    fn live_run(scenario: &'static str, tick: Duration, duration: Duration) -> LiveRun<'static> {
        LiveRun { scenario, cores: &[0], segment: None, tick, duration, tls_verified: true }
    }

    #[test]
    fn serves_the_page_its_data_and_the_saved_report() {
        let dashboard = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let live = live_run("demo", Duration::from_secs(1), Duration::from_secs(5));
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
        // Outside try: data and a report saved mid-run said `stopped by duration` after 1 s.
        assert_eq!(body["runs"][0]["stopped_by"], "not yet (in progress)");
        let page = get(dashboard.addr(), "/");
        assert!(page.starts_with("HTTP/1.1 200") && page.contains("connect-src 'self'"));
        let saved = get(dashboard.addr(), "/report.html");
        assert!(saved.contains("attachment") && saved.contains("connect-src 'none'"));
        assert!(saved.contains("in progress: the first 2.0 s of a 5.0 s run, not its final report"), "{saved}");
        assert!(!saved.contains("\"stopped_by\":\"duration\""), "{saved}");
        assert!(get(dashboard.addr(), "/nope").starts_with("HTTP/1.1 404"));
    }

    /// The stop's piece (or a grace's) folded into the interval before it: the final report
    /// had the interval with the piece in it, the live page kept its copy from before the
    /// fold (its requests, its end) until the final report replaced it.
    #[test]
    fn a_piece_folded_into_the_last_interval_replaces_its_live_copy() {
        let dashboard = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let live = live_run("demo", Duration::from_secs(1), Duration::from_secs(2));
        let point = |elapsed_s, requests| IntervalPoint {
            elapsed_s,
            requests,
            transactions: requests,
            ..IntervalPoint::default()
        };
        let mut points = vec![point(1.0, 10), point(2.0, 10)];
        dashboard.publish_interval(&live, &[Driver::Epoll], &Merged::default(), &points[..1]);
        dashboard.publish_interval(&live, &[Driver::Epoll], &Merged::default(), &points);
        // The stop came 10 ms later: its piece joins the last interval, in place.
        points[1] = point(2.01, 12);
        dashboard.publish_interval(&live, &[Driver::Epoll], &Merged::default(), &points);
        let data = get(dashboard.addr(), "/data.json");
        let body: Value = serde_json::from_str(data.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        let intervals = body["runs"][0]["intervals"].as_array().unwrap();
        let shown: Vec<(f64, u64)> =
            intervals.iter().map(|i| (i["elapsed_s"].as_f64().unwrap(), i["requests"].as_u64().unwrap())).collect();
        assert_eq!(shown, [(1.0, 10), (2.01, 12)], "the final report's figures for the interval, each once");
        // Another interval after the fold is converted as before.
        points.push(point(3.0, 5));
        dashboard.publish_interval(&live, &[Driver::Epoll], &Merged::default(), &points);
        let data = get(dashboard.addr(), "/data.json");
        let body: Value = serde_json::from_str(data.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["runs"][0]["intervals"].as_array().unwrap().len(), 3);
    }

    /// A run longer than `DASHBOARD_INTERVALS_MAX` intervals (an hour at 1 s and more) showed
    /// its last hour over time, starting late, without a word: the page says how many of the
    /// first intervals it left out, from when it shows them, and where they are.
    #[test]
    fn a_run_longer_than_the_live_intervals_says_what_it_left_out() {
        let dashboard = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let live = live_run("long", Duration::from_secs(1), Duration::from_secs(7200));
        let point = |s: usize| IntervalPoint { elapsed_s: s as f64, requests: 1, ..IntervalPoint::default() };
        let data = |dashboard: &Dashboard| -> Value {
            let data = get(dashboard.addr(), "/data.json");
            serde_json::from_str(data.split("\r\n\r\n").nth(1).unwrap()).unwrap()
        };
        let mut points: Vec<IntervalPoint> = (1..=DASHBOARD_INTERVALS_MAX).map(point).collect();
        dashboard.publish_interval(&live, &[Driver::Epoll], &Merged::default(), &points);
        let body = data(&dashboard);
        assert_eq!(body["runs"][0]["notes"].as_array().unwrap().len(), 1, "nothing left out yet");
        assert!(body["runs"][0]["intervals_left_out"].is_null());
        points.extend((DASHBOARD_INTERVALS_MAX + 1..=DASHBOARD_INTERVALS_MAX + 10).map(point));
        dashboard.publish_interval(&live, &[Driver::Epoll], &Merged::default(), &points);
        let body = data(&dashboard);
        let run = &body["runs"][0];
        assert_eq!(run["intervals"].as_array().unwrap().len(), DASHBOARD_INTERVALS_MAX);
        assert_eq!(run["intervals"][0]["elapsed_s"], 11.0);
        assert_eq!(run["intervals_left_out"], 10);
        assert_eq!(
            run["notes"][1],
            "over time: the live page shows the last 3,600 intervals, from 11.0 s; the first 10 are left out here \
             and are in the final report (and the result file)"
        );
    }

    /// At a `--tick` of 10 ms each interval's update (every kept interval converted and
    /// serialized) outran the tick, and the stats thread fell behind the cores. Updates come at
    /// most every `UPDATE_GAP_MIN_S` of the run's time; the intervals between are in the next.
    #[test]
    fn updates_come_at_most_four_times_a_second_of_the_run() {
        let dashboard = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let live = live_run("fast", Duration::from_millis(10), Duration::from_secs(5));
        let mut points = Vec::new();
        let mut updates = 0;
        for i in 1..=100 {
            points.push(IntervalPoint { elapsed_s: f64::from(i) / 100.0, requests: 1, ..IntervalPoint::default() });
            let before = dashboard.published.lock().unwrap().clone();
            dashboard.publish_interval(&live, &[Driver::Epoll], &Merged::default(), &points);
            updates += usize::from(!Arc::ptr_eq(&before, &dashboard.published.lock().unwrap()));
        }
        assert_eq!(updates, 4, "at 0.01 s, 0.26 s, 0.51 s and 0.76 s of the run");
        let data = get(dashboard.addr(), "/data.json");
        let body: Value = serde_json::from_str(data.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["runs"][0]["intervals"].as_array().unwrap().len(), 76, "every interval to the last update");
        assert_eq!(body["live"]["tick_s"], 0.25, "the page is told how often its data changes");
    }

    /// The outside tester's finding: the dashboard served one connection at a time, each idle
    /// one holding the next for its 2 s read timeout (a browser's spare connection stalled the
    /// page; 4 idle sockets: 8 s). Now a `GET` beside idle clients is answered at once.
    #[test]
    fn idle_connections_do_not_hold_up_the_page() {
        let dashboard = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let idle: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(dashboard.addr()).unwrap()).collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        while dashboard.server.connections() < idle.len() {
            assert!(Instant::now() < deadline, "the idle connections were never taken in");
            std::thread::sleep(Duration::from_millis(5));
        }
        let started = Instant::now();
        for path in ["/data.json", "/"] {
            assert!(get(dashboard.addr(), path).starts_with("HTTP/1.1 200"), "{path}");
        }
        assert!(started.elapsed() < Duration::from_secs(1), "answered after {:?}", started.elapsed());
        drop(idle);
    }

    #[test]
    fn hostile_clients_neither_hang_it_nor_keep_it_alive() {
        let dashboard = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = dashboard.addr();
        // A client that connects and says nothing holds up no one.
        let silent = TcpStream::connect(addr).unwrap();
        let started = Instant::now();
        assert!(get(addr, "/data.json").starts_with("HTTP/1.1 200"));
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        // A request far past the bound is cut at it and answered, not read for ever.
        let flooding = Instant::now();
        let mut flood = TcpStream::connect(addr).unwrap();
        flood.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = flood.write_all(&vec![b'A'; 8 * LIVE_REQUEST_BYTES_MAX]);
        let mut answer = String::new();
        let _ = flood.read_to_string(&mut answer);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 404"), "{answer:.80}");
        assert!(flooding.elapsed() < Duration::from_secs(5), "answered (or closed) at once: {:?}", flooding.elapsed());
        // Stopping it with silent clients still connected does not wait for them.
        let silent_again = TcpStream::connect(addr).unwrap();
        let stopping = Instant::now();
        drop(dashboard);
        assert!(stopping.elapsed() < Duration::from_secs(1), "{:?}", stopping.elapsed());
        drop((silent, silent_again));
    }

    /// Many clients of one update cost one rendering of each page, not one each; the next
    /// update renders afresh.
    #[test]
    fn a_page_is_rendered_once_per_update() {
        let dashboard = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let current = || dashboard.published.lock().unwrap().clone();
        let first = current();
        assert!(Arc::ptr_eq(&first.page(true), &first.page(true)));
        assert!(!first.page(true).contains("connect-src 'none'") && first.page(false).contains("connect-src 'none'"));
        dashboard.publish("next", json!({ "mode": "run", "runs": [] }));
        let next = current();
        assert!(!Arc::ptr_eq(&first.page(true), &next.page(true)));
        assert!(next.page(true).contains("next (live)"), "the new title");
    }

    #[test]
    fn a_busy_address_is_an_error() {
        let first = Dashboard::start("127.0.0.1:0".parse().unwrap()).unwrap();
        assert!(Dashboard::start(first.addr()).is_err());
    }
}
