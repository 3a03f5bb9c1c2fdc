//! The header fields a journey sets itself, as a server sees them: the body's framing is the
//! engine's (a journey's `Content-Length` or `Transfer-Encoding` is refused, counted once, and a
//! scenario file's before the run), a journey's `Host` replaces the engine's, and
//! `Connection: close` ends the connection after its response. The server here records every
//! request head raw and counts the connections it accepts, and never closes one itself.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mite_core::stats::{ErrorKind, TxnStats};
use mite_core::{Ctx, JourneyResult, Registry, Row, RunResult, VolumeModel};
use mite_tests::{ScenarioDir, assert_target_saw_every_request, options, run, run_file, scenario};

const JOURNEYS: u64 = 3;

/// A server that answers every request `200 ok` (or, when made with `redirect`, a `302` to it)
/// and keeps every connection open: what it received, head by head, and how many connections
/// it accepted.
struct Recorder {
    addr: std::net::SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicU64>,
}

impl Recorder {
    fn start() -> Recorder {
        Recorder::redirecting(None)
    }

    fn redirecting(redirect: Option<String>) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicU64::new(0));
        let (heads_, connections_) = (heads.clone(), connections.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                connections_.fetch_add(1, Ordering::SeqCst);
                let (heads, redirect) = (heads_.clone(), redirect.clone());
                std::thread::spawn(move || serve(stream, &heads, redirect.as_deref()));
            }
        });
        Recorder { addr, heads, connections }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Reads request heads (the requests here carry no body) and answers each.
fn serve(mut stream: TcpStream, heads: &Mutex<Vec<String>>, redirect: Option<&str>) {
    let answer = match redirect {
        Some(to) => format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n"),
        None => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_string(),
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            heads.lock().unwrap().push(String::from_utf8_lossy(&buf[..end + 4]).into_owned());
            buf.drain(..end + 4);
            if stream.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The lines of `head` naming field `name` (any case).
fn fields<'h>(head: &'h str, name: &str) -> Vec<&'h str> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    head.lines().filter(|line| line.to_ascii_lowercase().starts_with(&prefix)).collect()
}

/// Runs `JOURNEYS` journeys of `journey` against the first of `servers` (config `url`, `name`,
/// `value`), holding the requests written to what all of them received.
fn run_journey<F>(journey: F, servers: &[&Recorder], name: &str, value: &str) -> (RunResult, TxnStats)
where
    F: AsyncFn(&Ctx, Row) -> JourneyResult + Copy + Send + Sync + 'static,
{
    let mut registry = Registry::default();
    registry.journey("fields:journey", journey);
    let config = [format!("url={}", servers[0].url()), format!("name={name}"), format!("value={value}")];
    let volume = VolumeModel::Oneshot { journeys: JOURNEYS };
    let result = run(&registry, scenario("fields:journey", volume), &config, options(1, Duration::from_secs(20)));
    let received = servers.iter().map(|server| server.heads().len() as u64).sum();
    let total = assert_target_saw_every_request(&result, received);
    (result, total)
}

async fn post_with_field(ctx: &Ctx, _row: Row) -> JourneyResult {
    let config = ctx.config();
    let (url, name, value) = (config.get_or("url", ""), config.get_or("name", ""), config.get_or("value", ""));
    ctx.http().post(url).header(name, value).body(b"abc").send().await?;
    Ok(())
}

async fn gets_with_field(ctx: &Ctx, _row: Row) -> JourneyResult {
    let config = ctx.config();
    let (url, name, value) = (config.get_or("url", ""), config.get_or("name", ""), config.get_or("value", ""));
    for _ in 0..3 {
        ctx.http().get(url).header(name, value).send().await?;
    }
    Ok(())
}

/// Outside testers: a journey's `Content-Length` or `Transfer-Encoding` went out beside the
/// engine's own framing (a server could read two lengths, or a chunked body that was not).
/// Each is now an `invalid_request`, never sent, counted once.
#[test]
fn a_journeys_framing_fields_are_refused_and_counted_once() {
    for (name, value) in [("Content-Length", "3"), ("content-length", "99"), ("Transfer-Encoding", "chunked")] {
        let recorder = Recorder::start();
        let (result, total) = run_journey(post_with_field, &[&recorder], name, value);
        assert_eq!(recorder.connections(), 0, "{name}: nothing reached the server");
        assert_eq!(
            (total.attempts(), total.errors_of(ErrorKind::InvalidRequest), total.not_sent, total.requests()),
            (JOURNEYS, JOURNEYS, JOURNEYS, 0),
            "{name}: {:?}",
            result.merged.error_samples
        );
        assert_eq!(result.merged.journeys.failed, JOURNEYS);
        let samples = format!("{:?}", result.merged.error_samples);
        assert!(samples.contains("the engine frames the body itself"), "{samples}");
    }
}

/// The same fields in a scenario file's step: refused when the file is read, at its line and
/// field, with what to do.
#[test]
fn a_scenario_files_framing_fields_are_refused_before_the_run() {
    let dir = ScenarioDir::new();
    for name in ["Content-Length", "Transfer-Encoding"] {
        let text = format!(
            "[journeys.up]\nsteps = [\n  {{ url = \"http://127.0.0.1:1/\", method = \"POST\", body = \"abc\", \
             headers = {{ \"{name}\" = \"3\" }} }},\n]\n[[scenario]]\njourney = \"up\"\nvolume = {{ constant = 1 }}\n"
        );
        let path = dir.write("framing.toml", &text);
        let err = match mite_core::scenario::file::load(&path, &mite_journeys::registry(), &[]) {
            Ok(_) => panic!("{name}: the file was accepted"),
            Err(err) => err.to_string(),
        };
        let expected = format!(
            "{}:3: journeys.up.steps[0].headers.{name}: header {name} cannot be set: the engine frames the body \
             itself (Content-Length from the body); remove the {name} header",
            path.display()
        );
        assert!(err.starts_with(&expected), "expected {expected:?}, got {err:?}");
    }
}

/// Outside testers: `"Host" = "a"` and `"host" = "b"` in one step sent `Host: b` alone, and
/// `transaction = ""` made a blank table row; both are refused at their line and field.
#[test]
fn a_scenario_files_doubled_header_and_empty_transaction_are_refused() {
    let dir = ScenarioDir::new();
    let cases = [
        ("headers = { \"Host\" = \"a\", \"host\" = \"b\" }", "headers.host: header host is also given as Host"),
        ("transaction = \" \"", "transaction: a transaction name cannot be empty"),
    ];
    for (field, expected) in cases {
        let text = format!(
            "[journeys.up]\nsteps = [\n  {{ url = \"http://127.0.0.1:1/\", {field} }},\n]\n[[scenario]]\n\
             journey = \"up\"\nvolume = {{ constant = 1 }}\n"
        );
        let path = dir.write("fields.toml", &text);
        let err = match mite_core::scenario::file::load(&path, &mite_journeys::registry(), &[]) {
            Ok(_) => panic!("{field}: the file was accepted"),
            Err(err) => err.to_string(),
        };
        let expected = format!("{}:3: journeys.up.steps[0].{expected}", path.display());
        assert!(err.starts_with(&expected), "expected {expected:?}, got {err:?}");
    }
}

/// Outside testers: a journey's `Host` was sent after the engine's, so a server saw two. It now
/// replaces the engine's (a virtual host on a server reached by address), sent once.
#[test]
fn a_journeys_host_replaces_the_engines() {
    let recorder = Recorder::start();
    let (result, total) = run_journey(gets_with_field, &[&recorder], "host", "shop.example.test");
    assert_eq!(total.req_ok, JOURNEYS * 3, "{:?}", result.merged.error_samples);
    let heads = recorder.heads();
    assert_eq!(heads.len() as u64, JOURNEYS * 3);
    for head in &heads {
        assert_eq!(fields(head, "host"), ["Host: shop.example.test"], "{head}");
    }

    // A scenario file's step the same way.
    let recorder = Recorder::start();
    let dir = ScenarioDir::new();
    let text = format!(
        "[journeys.vhost]\nsteps = [{{ url = \"{}\", headers = {{ Host = \"api.example.test\" }} }}]\n\
         [[scenario]]\njourney = \"vhost\"\nvolume = {{ oneshot = {JOURNEYS} }}\n",
        recorder.url()
    );
    let result = run_file(&dir.write("host.toml", &text), &[], options(1, Duration::from_secs(20)));
    let total = assert_target_saw_every_request(&result, recorder.heads().len() as u64);
    assert_eq!(total.req_ok, JOURNEYS, "{:?}", result.merged.error_samples);
    for head in recorder.heads() {
        assert_eq!(fields(&head, "host"), ["Host: api.example.test"], "{head}");
    }
}

/// A scenario file's plain steps (a URL read from configuration, no header, no body) are sent
/// as a head their journey slot encoded once: the same bytes, run after run, as every other
/// request's head is encoded (`Content-Length: 0` for a bodiless `POST`), and a step with a
/// header of its own or a body is encoded with it. The server sees each head whole.
#[test]
fn a_scenario_files_plain_steps_send_the_head_encoded_once_as_any_other() {
    let recorder = Recorder::start();
    let dir = ScenarioDir::new();
    let text = "[journeys.plain]\nsteps = [\n  { url = \"{base}\" },\n  { url = \"{base}a?b=1\", method = \"POST\" },\n  \
                { url = \"{base}\", method = \"DELETE\", headers = { X-A = \"1\" } },\n  { url = \"{base}\" },\n]\n\
                [[scenario]]\njourney = \"plain\"\nvolume = { constant = 2 }\n";
    let overrides = [format!("base={}", recorder.url())];
    let result = run_file(&dir.write("plain.toml", text), &overrides, options(1, Duration::from_millis(600)));
    let heads = recorder.heads();
    let total = assert_target_saw_every_request(&result, heads.len() as u64);
    assert!(total.req_ok >= 8 && total.req_errors() == 0, "{} ok: {:?}", total.req_ok, result.merged.error_samples);
    let (host, agent) =
        (format!("Host: {}", recorder.addr), concat!("User-Agent: mite-engine/", env!("CARGO_PKG_VERSION")));
    let get = format!("GET / HTTP/1.1\r\n{host}\r\n{agent}\r\n\r\n");
    let post = format!("POST /a?b=1 HTTP/1.1\r\n{host}\r\n{agent}\r\nContent-Length: 0\r\n\r\n");
    let delete = format!("DELETE / HTTP/1.1\r\n{host}\r\n{agent}\r\nX-A: 1\r\n\r\n");
    let counts = |want: &str| heads.iter().filter(|head| *head == want).count();
    let (gets, posts, deletes) = (counts(&get), counts(&post), counts(&delete));
    assert_eq!(gets + posts + deletes, heads.len(), "every head one of the three: {heads:?}");
    // Steps in order, two journeys at a time: each step's heads at most two fewer than the one's before.
    assert!(deletes >= 2 && posts >= deletes && gets >= posts, "{gets} GET, {posts} POST, {deletes} DELETE");
}

/// A journey's `Host` names its first origin: a redirect to another origin sends that one's own.
#[test]
fn a_journeys_host_stays_with_its_origin_across_a_redirect() {
    let second = Recorder::start();
    let first = Recorder::redirecting(Some(second.url()));
    let (result, total) = run_journey(gets_with_field, &[&first, &second], "Host", "shop.example.test");
    assert_eq!((total.req_ok, total.req_errors()), (JOURNEYS * 6, 0), "{:?}", result.merged.error_samples);
    assert_eq!(first.heads().len() as u64, JOURNEYS * 3);
    assert!(first.heads().iter().all(|head| fields(head, "host") == ["Host: shop.example.test"]));
    let own = format!("Host: {}", second.addr);
    assert_eq!(second.heads().len() as u64, JOURNEYS * 3);
    for head in second.heads() {
        assert_eq!(fields(&head, "host"), [own.as_str()], "{head}");
    }
}

/// Outside testers: a journey's `Connection: close` was sent, but the connection went back to
/// the pool when the server answered without closing (this one never closes). Each request now
/// has its own connection, counted alike by the engine and the server; without the field the
/// journey's requests share one.
#[test]
fn a_journeys_connection_close_ends_the_connection() {
    let requests = JOURNEYS * 3;
    let recorder = Recorder::start();
    let (result, total) = run_journey(gets_with_field, &[&recorder], "Connection", "close");
    assert_eq!(total.req_ok, requests, "{:?}", result.merged.error_samples);
    assert_eq!(recorder.connections(), requests, "a connection per request");
    assert_eq!(total.connects_ok(), requests);
    assert!(recorder.heads().iter().all(|head| fields(head, "connection") == ["Connection: close"]));

    let recorder = Recorder::start();
    let (_, total) = run_journey(gets_with_field, &[&recorder], "X-Other", "close");
    assert_eq!(total.req_ok, requests);
    assert!(recorder.connections() < requests, "kept alive: {} connections", recorder.connections());
    assert_eq!(total.connects_ok(), recorder.connections());
}
