//! WebSocket journeys against the target's own WebSocket endpoints: the engine's message counts
//! equal the target's counters (echo, broadcast, `wss://` with the self-made CA), and every
//! hostile endpoint lands under its error kind without a panic or a hang.

use std::future::IntoFuture;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mite_core::http::TlsOptions;
use mite_core::run::RunResult;
use mite_core::stats::{ErrorKind, TxnStats};
use mite_core::{Ctx, JourneyResult, Registry, Row, VolumeModel};
use mite_tests::{
    ScenarioDir, assert_target_saw_every_request, options, run, scenario, shipped_scenario as scenario_path,
    ws_one_exchange as one_exchange,
};
use mite_tools::tls_server::CA_PATH;
use mite_tools::{Target, TargetOptions, TlsTarget};

fn ws_run(
    registry: &Registry,
    journey: &str,
    volume: VolumeModel,
    config: &[String],
    tls: Option<TlsOptions>,
) -> RunResult {
    let mut opts = options(1, Duration::from_millis(1500));
    opts.http.request_timeout = Duration::from_secs(2);
    if let Some(tls) = tls {
        opts.tls = tls;
    }
    run(registry, scenario(journey, volume), config, opts)
}

/// Error counts by kind, the kinds seen only.
type Kinds = Vec<(ErrorKind, u64)>;

fn kinds(counts: impl Fn(ErrorKind) -> u64) -> Kinds {
    ErrorKind::ALL.iter().filter(|k| counts(**k) > 0).map(|k| (*k, counts(*k))).collect()
}

fn assert_clean(total: &TxnStats, result: &RunResult) {
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
    assert_eq!(total.ws.error_count(), 0, "{:?}", result.merged.error_samples);
    assert_eq!(total.txn_err, 0, "{:?}", result.merged.error_samples);
}

#[test]
fn echo_counts_equal_the_targets() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let registry = mite_journeys::registry();
    let config = [format!("ws_url={}", target.ws_url("/ws/echo")), "ws_messages=7".to_string()];
    let result = ws_run(&registry, "websocket_example:echo", VolumeModel::constant(4), &config, None);
    let total = result.merged.total();
    let counts = target.ws_counts();
    assert_clean(&total, &result);
    let ws = &total.ws;
    assert!(ws.connects >= 4, "connects {}", ws.connects);
    assert_eq!(ws.connects, counts.handshakes);
    assert_eq!(ws.messages_sent, 7 * ws.connects, "a fixed number of messages per iteration");
    assert_eq!(ws.messages_sent, counts.messages_received);
    assert_eq!(ws.messages_received, counts.messages_sent);
    assert_eq!(ws.bytes_sent, counts.bytes_received);
    assert_eq!(ws.bytes_received, counts.bytes_sent);
    assert_eq!(ws.closes, counts.closes_received, "every journey closed before it ended");
    assert_eq!(ws.reply_us.len(), ws.messages_sent, "one reply latency per message");
    // The handshake is a request: counted once, as the target saw it.
    assert_target_saw_every_request(&result, target.hits());
    assert_eq!(total.status_class[1], ws.connects);
}

#[test]
fn broadcast_counts_equal_the_targets() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let registry = mite_journeys::registry();
    let config = [format!("ws_url={}", target.ws_url("/ws/broadcast?rate=200&count=40")), "ws_expect=40".to_string()];
    let result = ws_run(&registry, "websocket_example:listen", VolumeModel::constant(3), &config, None);
    let total = result.merged.total();
    let counts = target.ws_counts();
    assert_clean(&total, &result);
    assert!(total.ws.connects >= 3);
    assert_eq!(total.ws.messages_received, 40 * total.ws.connects);
    assert_eq!(total.ws.messages_received, counts.messages_sent);
    assert_eq!(total.ws.bytes_received, counts.bytes_sent);
    assert_eq!(total.ws.closes, total.ws.connects, "the server's close was answered every time");
}

#[test]
fn wss_echo_with_the_private_ca() {
    let target = TlsTarget::start().unwrap();
    let registry = mite_journeys::registry();
    let config = [format!("ws_url={}", target.wss_url("/ws/echo")), "ws_messages=5".to_string()];
    let tls = TlsOptions { ca_file: Some(PathBuf::from(CA_PATH)), ..TlsOptions::default() };
    let result = ws_run(&registry, "websocket_example:echo", VolumeModel::constant(2), &config, Some(tls));
    let total = result.merged.total();
    let counts = target.ws_counts();
    assert_clean(&total, &result);
    assert!(total.ws.connects >= 2);
    assert_eq!(total.tls_handshakes, total.ws.connects);
    assert_eq!(total.ws.messages_sent, counts.messages_received);
    assert_eq!(total.ws.messages_received, counts.messages_sent);
}

#[test]
fn wss_without_the_ca_is_a_tls_error() {
    let target = TlsTarget::start().unwrap();
    let registry = mite_journeys::registry();
    let config = [format!("ws_url={}", target.wss_url("/ws/echo"))];
    let result = ws_run(&registry, "websocket_example:echo", VolumeModel::Oneshot { journeys: 2 }, &config, None);
    let total = result.merged.total();
    assert_eq!(kinds(|k| total.errors_of(k)), vec![(ErrorKind::Tls, 2)]);
    assert_eq!(target.ws_counts().handshakes, 0);
}

const JOURNEYS: u64 = 3;

/// Runs `JOURNEYS` one-exchange journeys against `path`: (request errors, WebSocket errors).
fn hostile(path: &str) -> (Kinds, Kinds) {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:one_exchange", one_exchange);
    let started = Instant::now();
    let result = ws_run(
        &registry,
        "test:one_exchange",
        VolumeModel::Oneshot { journeys: JOURNEYS },
        &[format!("ws_url={}", target.ws_url(path))],
        None,
    );
    assert!(started.elapsed() < Duration::from_secs(15), "{path}: took {:?}", started.elapsed());
    let total = result.merged.total();
    assert_eq!(result.merged.journeys.started, JOURNEYS, "{path}");
    assert_eq!(result.merged.journeys.failed, JOURNEYS, "{path}: {:?}", result.merged.error_samples);
    assert_eq!(total.txn_err, JOURNEYS, "{path}");
    assert_eq!(total.requests(), target.hits(), "{path}: every handshake counted once");
    assert_eq!(target.ws_counts().handshakes, JOURNEYS, "{path}");
    // Outside try: the close's timeout (a WebSocket error) was quoted as the first `timeout`
    // of the requests. A request error kind's sample is one of its own.
    for kind in ErrorKind::ALL {
        let sampled = result.merged.error_samples.contains_key(kind.name());
        assert_eq!(sampled, total.errors_of(kind) > 0, "{path}: {kind:?} {:?}", result.merged.error_samples);
    }
    assert_eq!(result.merged.error_samples.contains_key("websocket"), total.ws.error_count() > 0, "{path}");
    (kinds(|k| total.errors_of(k)), kinds(|k| total.ws.errors_of(k)))
}

#[test]
fn wrong_accept_is_a_handshake_error() {
    assert_eq!(hostile("/ws/bad/wrong-accept"), (vec![(ErrorKind::WsHandshake, JOURNEYS)], vec![]));
}

#[test]
fn masked_server_frame_is_a_protocol_error() {
    assert_eq!(hostile("/ws/bad/masked"), (vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)]));
}

#[test]
fn oversized_frame_is_too_large_at_once() {
    assert_eq!(hostile("/ws/bad/oversized"), (vec![], vec![(ErrorKind::TooLarge, JOURNEYS)]));
}

#[test]
fn invalid_utf8_is_a_protocol_error() {
    assert_eq!(hostile("/ws/bad/invalid-utf8"), (vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)]));
}

#[test]
fn close_mid_fragment_is_closed_by_peer() {
    assert_eq!(hostile("/ws/bad/close-mid-fragment"), (vec![], vec![(ErrorKind::WsClosed, JOURNEYS)]));
}

#[test]
fn unanswered_close_times_out() {
    assert_eq!(hostile("/ws/bad/no-close-reply"), (vec![], vec![(ErrorKind::Timeout, JOURNEYS)]));
}

/// A 101 with 300 header fields of its own: past the default limit of 256 it is a handshake
/// error that says how to raise the limit; with the client's limit raised (`--max-headers`,
/// `[client] max_headers`) the same answer opens the connection. (It was read with 256 slots
/// whatever the limit.)
#[test]
fn a_101_takes_the_clients_header_field_limit() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:one_exchange", one_exchange);
    let config = [format!("ws_url={}", target.ws_url("/ws/many-fields?count=300"))];
    let journeys = VolumeModel::Oneshot { journeys: 2 };
    let result = ws_run(&registry, "test:one_exchange", journeys.clone(), &config, None);
    let total = result.merged.total();
    assert_eq!(kinds(|k| total.errors_of(k)), vec![(ErrorKind::WsHandshake, 2)]);
    let sample = &result.merged.error_samples["ws_handshake"];
    assert!(
        sample.contains("more than 256 header fields (the client's limit: raise it with --max-headers"),
        "{sample}"
    );
    let mut opts = options(1, Duration::from_millis(1500));
    opts.http.limits.headers_count_max = 400;
    let raised = run(&registry, scenario("test:one_exchange", journeys), &config, opts);
    let total = raised.merged.total();
    assert_clean(&total, &raised);
    assert_eq!((total.ws.connects, raised.merged.journeys.ok), (2, 2), "{:?}", raised.merged.error_samples);
    assert_eq!(target.ws_counts().handshakes, 4, "every upgrade was answered");
}

/// A 101 whose head is 32 KiB (large cookies, a proxy's fields) opens the connection under the
/// default head limit of 64 KiB, as a response head of that size would; with the client's
/// head limit lowered to 16 KiB, or a 101 past 64 KiB, it is a handshake error that names the
/// limit and where to raise it. (It was read under 16 KiB whatever the client's limit.)
#[test]
fn a_101_takes_the_clients_head_size_limit() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:one_exchange", one_exchange);
    let journeys = VolumeModel::Oneshot { journeys: 2 };
    let config = [format!("ws_url={}", target.ws_url("/ws/big-head?bytes=32768"))];
    let result = ws_run(&registry, "test:one_exchange", journeys.clone(), &config, None);
    let total = result.merged.total();
    assert_clean(&total, &result);
    assert_eq!((total.ws.connects, result.merged.journeys.ok), (2, 2), "{:?}", result.merged.error_samples);
    let mut opts = options(1, Duration::from_millis(1500));
    opts.http.limits.head_bytes_max = 16 * 1024;
    let lowered = run(&registry, scenario("test:one_exchange", journeys.clone()), &config, opts);
    let total = lowered.merged.total();
    assert_eq!(kinds(|k| total.errors_of(k)), vec![(ErrorKind::WsHandshake, 2)]);
    let sample = &lowered.merged.error_samples["ws_handshake"];
    assert!(
        sample.ends_with(
            ": ws_handshake: WebSocket handshake response head larger than 16384 bytes (the client's limit on any \
             response head: raise it with --max-head-bytes or [client] max_head_bytes, up to 16MiB)"
        ),
        "{sample}"
    );
    let past = [format!("ws_url={}", target.ws_url("/ws/big-head?bytes=70000"))];
    let result = ws_run(&registry, "test:one_exchange", journeys, &past, None);
    let total = result.merged.total();
    assert_eq!(kinds(|k| total.errors_of(k)), vec![(ErrorKind::WsHandshake, 2)]);
    assert!(result.merged.error_samples["ws_handshake"].contains("larger than 65536 bytes"));
    assert_eq!(target.ws_counts().handshakes, 6, "every upgrade was answered");
}

#[test]
fn unknown_endpoint_is_a_handshake_error() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:one_exchange", one_exchange);
    let config = [format!("ws_url={}", target.ws_url("/ws/nope"))];
    let result = ws_run(&registry, "test:one_exchange", VolumeModel::Oneshot { journeys: 2 }, &config, None);
    let total = result.merged.total();
    assert_eq!(kinds(|k| total.errors_of(k)), vec![(ErrorKind::WsHandshake, 2)]);
    assert!(result.merged.error_samples["ws_handshake"].contains("answered 400"), "{:?}", result.merged.error_samples);
}

#[test]
fn websocket_toml_sends_ten_and_gets_ten_back_per_iteration() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let overrides = vec![format!("ws_url={}", target.ws_url("/ws/echo"))];
    let loaded =
        mite_core::scenario::file::load(&scenario_path("websocket.toml"), &mite_journeys::registry(), &overrides)
            .unwrap();
    let result = run(&loaded.registry, loaded.scenario, &overrides, options(1, Duration::from_secs(1)));
    let total = result.merged.total();
    let counts = target.ws_counts();
    assert_clean(&total, &result);
    let ws = &total.ws;
    assert!(ws.connects >= 16, "connects {}", ws.connects);
    assert_eq!(ws.messages_sent, 10 * ws.connects);
    assert_eq!(ws.messages_received, 10 * ws.connects);
    assert_eq!(ws.reply_us.len(), 10 * ws.connects);
    assert_eq!((ws.messages_sent, ws.messages_received), (counts.messages_received, counts.messages_sent));
    assert_eq!(result.merged.txns["ws_ping_pong"].txn_ok, ws.connects);
}

#[test]
fn websocket_listen_toml_takes_every_broadcast() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let overrides = vec![format!("ws_url={}", target.ws_url("/ws/broadcast?rate=100&count=20"))];
    let loaded = mite_core::scenario::file::load(
        &scenario_path("websocket_listen.toml"),
        &mite_journeys::registry(),
        &overrides,
    )
    .unwrap();
    let mut scenario = loaded.scenario;
    scenario.entries[0].volume = VolumeModel::constant(5);
    let result = run(&loaded.registry, scenario, &overrides, options(1, Duration::from_millis(500)));
    let total = result.merged.total();
    let counts = target.ws_counts();
    assert_clean(&total, &result);
    assert!(total.ws.connects >= 5);
    assert_eq!(total.ws.messages_received, 20 * total.ws.connects);
    assert_eq!(total.ws.messages_received, counts.messages_sent);
    assert_eq!(total.ws.messages_sent, counts.messages_received, "the subscribe messages");
}

#[test]
fn declarative_expect_mismatch_fails_the_journey_not_the_run() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let dir = ScenarioDir::new();
    let file = dir.write(
        "mismatch.toml",
        r#"
[websockets.wrong]
url = "{ws_url}"
steps = [{ send = "a" }, { receive = 1, expect = "b" }]

[[scenario]]
journey = "wrong"
volume = { oneshot = 2 }
"#,
    );
    let overrides = vec![format!("ws_url={}", target.ws_url("/ws/echo"))];
    let loaded = mite_core::scenario::file::load(&file, &mite_journeys::registry(), &overrides).unwrap();
    let result = run(&loaded.registry, loaded.scenario, &overrides, options(1, Duration::from_secs(5)));
    assert_eq!(result.merged.journeys.failed, 2);
    assert_eq!(result.merged.txns["wrong"].txn_err, 2);
    assert!(result.merged.error_samples["journey"].contains("expected \"b\""), "{:?}", result.merged.error_samples);
    let missing = dir.write("missing.toml", "[websockets.w]\nurl = \"{nowhere}\"\nsteps = [{ send = \"a\" }]\n[[scenario]]\njourney = \"w\"\nvolume = { oneshot = 1 }\n");
    let err = mite_core::scenario::file::load(&missing, &mite_journeys::registry(), &[]).err().unwrap().to_string();
    assert!(err.contains("websockets.w.url") && err.contains("{nowhere}"), "{err}");
}

/// A request step's `timeout` is its own (it was accepted and ignored: the step waited for the
/// run's request timeout), and its error says that replies came but none matched.
#[test]
fn a_request_steps_timeout_is_honoured_and_says_what_did_not_match() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let dir = ScenarioDir::new();
    let file = dir.write(
        "reply.toml",
        r#"
[websockets.wrong]
url = "{ws_url}"
steps = [{ request = "hello ü", expect = "hello", timeout = "300ms" }]

[[scenario]]
journey = "wrong"
volume = { oneshot = 1 }
"#,
    );
    let overrides = vec![format!("ws_url={}", target.ws_url("/ws/echo"))];
    let loaded = mite_core::scenario::file::load(&file, &mite_journeys::registry(), &overrides).unwrap();
    let mut opts = options(1, Duration::from_secs(20));
    opts.http.request_timeout = Duration::from_secs(10);
    let started = Instant::now();
    let result = run(&loaded.registry, loaded.scenario, &overrides, opts);
    assert!(started.elapsed() < Duration::from_secs(5), "the step waited {:?}", started.elapsed());
    let total = result.merged.total();
    assert_eq!((result.merged.journeys.failed, total.ws.errors_of(ErrorKind::Timeout)), (1, 1));
    let sample = &result.merged.error_samples["websocket"];
    assert!(
        sample.contains("no matching reply within 300ms: 1 message(s) did not match, the last text \"hello ü\""),
        "{sample}"
    );
}

#[test]
fn silent_handshake_is_a_request_timeout() {
    let (requests, ws) = hostile_with_short_timeout("/ws/bad/silent");
    assert_eq!((requests, ws), (vec![(ErrorKind::Timeout, JOURNEYS)], vec![]));
}

#[test]
fn hangup_after_handshake_is_closed_by_peer() {
    assert_eq!(hostile("/ws/bad/hangup"), (vec![], vec![(ErrorKind::WsClosed, JOURNEYS)]));
}

/// A connection dropped in the middle of a frame (10 of its 100 payload bytes sent) is the
/// server closing while a message was expected: one `ws_closed` per journey, no hang.
#[test]
fn a_connection_cut_in_the_middle_of_a_frame_is_closed_by_peer() {
    assert_eq!(hostile("/ws/bad/cut-frame"), (vec![], vec![(ErrorKind::WsClosed, JOURNEYS)]));
}

/// Like [`hostile`], with the request timeout lowered (for endpoints that never answer).
fn hostile_with_short_timeout(path: &str) -> (Kinds, Kinds) {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:one_exchange", one_exchange);
    let mut opts = options(1, Duration::from_secs(10));
    opts.http.request_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let result = run(
        &registry,
        scenario("test:one_exchange", VolumeModel::Oneshot { journeys: JOURNEYS }),
        &[format!("ws_url={}", target.ws_url(path))],
        opts,
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{path}: took {:?}", started.elapsed());
    let total = result.merged.total();
    assert_eq!(result.merged.journeys.failed, JOURNEYS, "{path}");
    assert_eq!(total.requests(), target.hits(), "{path}");
    (kinds(|k| total.errors_of(k)), kinds(|k| total.ws.errors_of(k)))
}

#[test]
fn pings_are_answered_with_pongs() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let registry = mite_journeys::registry();
    let config =
        [format!("ws_url={}", target.ws_url("/ws/broadcast?rate=500&count=10&ping=1")), "ws_expect=10".to_string()];
    let result = ws_run(&registry, "websocket_example:listen", VolumeModel::constant(2), &config, None);
    let total = result.merged.total();
    let counts = target.ws_counts();
    assert_clean(&total, &result);
    assert_eq!(total.ws.pings_received, 10 * total.ws.connects);
    assert_eq!(total.ws.pings_received, counts.pings_sent);
    assert_eq!(counts.pongs_received, counts.pings_sent, "every ping answered");
}

/// Receives with a short timeout from an echo endpoint that has nothing to say, then closes.
async fn wait_for_nothing(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "");
    ctx.transaction("quiet", async {
        let mut ws = ctx.websocket().connect(url).await?;
        let waited = ws.receive_timeout(Duration::from_millis(50)).await;
        assert!(waited.is_err(), "nothing was sent, nothing can arrive");
        // The connection survives a receive timeout.
        ws.send_text("still here").await?;
        ws.receive().await?;
        ws.close().await?;
        Ok(())
    })
    .await
}

#[test]
fn receive_timeout_is_counted_and_the_connection_survives() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:quiet", wait_for_nothing);
    let config = [format!("ws_url={}", target.ws_url("/ws/echo"))];
    let result = ws_run(&registry, "test:quiet", VolumeModel::Oneshot { journeys: 2 }, &config, None);
    let total = result.merged.total();
    assert_eq!(kinds(|k| total.ws.errors_of(k)), vec![(ErrorKind::Timeout, 2)]);
    assert_eq!(result.merged.journeys.ok, 2, "{:?}", result.merged.error_samples);
    assert_eq!(target.ws_counts().messages_received, 2);
    assert_eq!(total.ws.closes, 2);
}

/// Opens a WebSocket, exchanges one message and returns without closing it.
async fn forget_to_close(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "");
    ctx.transaction("forgetful", async {
        let mut ws = ctx.websocket().connect(url).await?;
        ws.request_reply("hi", |_| true).await?;
        Ok(())
    })
    .await
}

#[test]
fn websockets_close_when_the_journey_ends() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:forgetful", forget_to_close);
    let config = [format!("ws_url={}", target.ws_url("/ws/echo"))];
    let result = ws_run(&registry, "test:forgetful", VolumeModel::constant(2), &config, None);
    let total = result.merged.total();
    assert_clean(&total, &result);
    let closes = target.ws_counts().closes_received;
    // Journeys that ended while the run went on closed in the background; the last ones, ending
    // during the stop, are dropped without a close.
    assert!(closes + 2 >= total.ws.connects && closes > 10, "closes {closes} of {}", total.ws.connects);
    assert!(total.ws.closes <= closes && total.ws.closes > 10, "engine closes {} of {closes}", total.ws.closes);
}

/// Sends messages one at a time and polls for each echo with zero receive timeouts, so that
/// reads are cancelled again and again while the echo is arriving.
/// Echoes each impatient journey waits for, polling with a zero timeout.
const ECHOES_PER_JOURNEY: u64 = 1000;

async fn impatient(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "");
    ctx.transaction("impatient", async {
        let mut ws = ctx.websocket().connect(url).await?;
        for i in 0..ECHOES_PER_JOURNEY {
            let text = format!("m{i}");
            ws.send_text(&text).await?;
            let started = Instant::now();
            loop {
                match ws.receive_timeout(Duration::ZERO).await {
                    Ok(message) if message.text() == Some(text.as_str()) => break,
                    Ok(other) => return Err(mite_core::JourneyError::msg(format!("got {other:?}, sent {text}"))),
                    Err(err)
                        if err.kind() == Some(ErrorKind::Timeout) && started.elapsed() < Duration::from_secs(1) => {}
                    Err(err) => return Err(err.into()),
                }
            }
        }
        ws.close().await?;
        Ok(())
    })
    .await
}

#[test]
fn receive_timeouts_never_lose_a_message() {
    impatient_run(mite_core::DriverChoice::Auto);
}

#[test]
fn receive_timeouts_never_lose_a_message_on_epoll() {
    impatient_run(mite_core::DriverChoice::Epoll);
}

/// On the engine's own ring a timed-out receive is cancelled by IORING_OP_ASYNC_CANCEL on its
/// operation and waited for, as on monoio's (where io_uring is missing, there is nothing to run).
#[test]
fn receive_timeouts_never_lose_a_message_on_the_own_driver() {
    if mite_core::driver::CoreRuntime::build(mite_core::DriverChoice::Own).is_ok() {
        impatient_run(mite_core::DriverChoice::Own);
    }
}

/// The same on monoio's io_uring runtime (`--driver io_uring`), no longer the default.
#[test]
fn receive_timeouts_never_lose_a_message_on_monoio_io_uring() {
    if mite_core::driver::CoreRuntime::build(mite_core::DriverChoice::IoUring).is_ok() {
        impatient_run(mite_core::DriverChoice::IoUring);
    }
}

fn impatient_run(driver: mite_core::DriverChoice) {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:impatient", impatient);
    let config = [format!("ws_url={}", target.ws_url("/ws/echo"))];
    let mut opts = options(1, Duration::from_secs(20));
    opts.driver = driver;
    opts.http.request_timeout = Duration::from_secs(2);
    let result = run(&registry, scenario("test:impatient", VolumeModel::Oneshot { journeys: 4 }), &config, opts);
    let total = result.merged.total();
    assert_eq!(result.merged.journeys.ok, 4, "{:?}", result.merged.error_samples);
    assert_eq!(total.ws.messages_received, 4 * ECHOES_PER_JOURNEY);
    assert_eq!(target.ws_counts().messages_sent, 4 * ECHOES_PER_JOURNEY);
    let timeouts = total.ws.errors_of(ErrorKind::Timeout);
    eprintln!("{timeouts} receive timeouts raced the echoes ({:?})", result.drivers);
    match driver {
        mite_core::DriverChoice::Own => assert_eq!(result.drivers, [mite_core::driver::Driver::Own], "ran as asked"),
        mite_core::DriverChoice::IoUring => {
            assert_eq!(result.drivers, [mite_core::driver::Driver::IoUring], "ran as asked")
        }
        _ => {}
    }
    // Every poll that finds nothing yet times out: a handful on a quiet machine, hundreds on a
    // busy one. Under io_uring a dropped read instead of a cancelled one loses an echo within a
    // few of them; the test means something only if at least one raced.
    assert!(timeouts > 0, "the timeouts must really race the echoes: {timeouts}");
    assert_eq!(total.ws.error_count(), timeouts);
}

/// Waits for a reply that never comes.
async fn hopeful(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "");
    ctx.transaction("hopeful", async {
        let mut ws = ctx.websocket().connect(url).await?;
        ws.request_reply("anyone?", |m| m.text() == Some("never")).await?;
        Ok(())
    })
    .await
}

#[test]
fn replies_awaited_at_the_stop_are_cancelled() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:hopeful", hopeful);
    let config = [format!("ws_url={}", target.ws_url("/ws/broadcast?rate=20&count=1000"))];
    let mut opts = options(1, Duration::from_millis(500));
    opts.grace = Duration::from_millis(200);
    opts.http.request_timeout = Duration::from_secs(30);
    let result = run(&registry, scenario("test:hopeful", VolumeModel::constant(2)), &config, opts);
    let total = result.merged.total();
    assert_eq!(result.merged.journeys.cancelled, 2);
    assert_eq!(kinds(|k| total.ws.errors_of(k)), vec![(ErrorKind::Cancelled, 2)]);
    assert_eq!(total.ws.messages_sent, 2);
    assert!(total.ws.messages_received > 0, "the broadcasts were counted while waiting");
}

/// A handshake still awaiting its 101 when the grace ends (a server that never answers) is a
/// request cancelled like an HTTP one: its connect, made before the wait, is counted and timed
/// (a phase timing per connect counted), and its upgrade's bytes are counted as sent. (Its
/// connection work was counted only when the handshake ended: never, for one cancelled.)
#[test]
fn a_handshake_cancelled_at_the_stop_has_its_connect_timed_as_counted() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:one_exchange", one_exchange);
    let config = [format!("ws_url={}", target.ws_url("/ws/bad/silent"))];
    let mut opts = options(1, Duration::from_millis(500));
    opts.grace = Duration::from_millis(300);
    opts.http.request_timeout = Duration::from_secs(30);
    let result = run(&registry, scenario("test:one_exchange", VolumeModel::constant(2)), &config, opts);
    let total = result.merged.total();
    assert_eq!(result.merged.journeys.cancelled, 2, "{:?}", result.merged.journeys);
    assert_eq!(kinds(|k| total.errors_of(k)), vec![(ErrorKind::Cancelled, 2)]);
    assert_eq!(target.hits(), 2, "two upgrades reached the server");
    assert_eq!(total.requests(), 2, "both were requests a server saw");
    assert_eq!(total.connects, 2, "a connection per journey");
    assert_eq!(total.http.connect_us.len(), 2, "each connect timed as it was counted");
    let mean_us = total.connect_us_sum as f64 / 2.0;
    let timed_us = total.http.connect_us.mean();
    assert!((mean_us - timed_us).abs() <= 1.0 + mean_us * 0.001, "connect_us_sum mean {mean_us}, timed {timed_us}");
    assert!(total.sent_bytes > 2 * 100, "both upgrades' bytes counted: {}", total.sent_bytes);
    assert_eq!(total.ws.connects, 0, "no connection was opened");
}

/// Gives up on a handshake to a silent server after 100 ms (its future dropped), then opens
/// one to the echo endpoint on the same host and port.
async fn give_up_then_echo(ctx: &Ctx, _args: Row) -> JourneyResult {
    let (silent, echo) = (ctx.config().get_or("silent", ""), ctx.config().get_or("echo", ""));
    ctx.transaction("retry", async {
        let gave_up =
            mite_core::driver::timeout(Duration::from_millis(100), ctx.websocket().connect(silent).into_future()).await;
        if gave_up.is_ok() {
            return Err(mite_core::JourneyError::msg("the silent server answered"));
        }
        let ws = ctx.websocket().connect(echo).await?;
        ws.close().await?;
        Ok(())
    })
    .await
}

/// A handshake dropped unfinished (a journey's own timeout around it) gives back its
/// connection slot: with one connection per host allowed, the next connect to that host
/// opens. (The slot was given back only by a handshake that failed.)
#[test]
fn a_handshake_dropped_unfinished_gives_back_its_connection() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:give_up", give_up_then_echo);
    let config = [format!("silent={}", target.ws_url("/ws/bad/silent")), format!("echo={}", target.ws_url("/ws/echo"))];
    let mut opts = options(1, Duration::from_secs(5));
    opts.http.connections_per_host_max = 1;
    let result = run(&registry, scenario("test:give_up", VolumeModel::Oneshot { journeys: 1 }), &config, opts);
    assert_eq!(result.merged.journeys.ok, 1, "{:?}", result.merged.error_samples);
    assert_eq!(result.merged.total().ws.connects, 1);
}

/// Sets a cookie, connects, and checks the server saw it and set one back.
async fn cookies(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "");
    let http_url = url.replacen("ws://", "http://", 1);
    ctx.set_cookie(&http_url, "session=abc; Path=/")?;
    ctx.transaction("cookies", async {
        let mut ws = ctx.websocket().connect(url).await?;
        let seen = ws.receive().await?;
        if seen.text() != Some("session=abc") {
            return Err(mite_core::JourneyError::msg(format!("server saw cookies {seen:?}")));
        }
        ws.close().await?;
        Ok(())
    })
    .await?;
    match ctx.cookie("ws_seen").as_deref() {
        Some("yes") => Ok(()),
        other => Err(mite_core::JourneyError::msg(format!("handshake cookie not stored: {other:?}"))),
    }
}

/// The journey's own `Cookie` header and its jar's cookies go together, in one field, as a
/// request's do (before: its own header replaced the jar's).
async fn own_and_jar_cookies(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "");
    ctx.set_cookie(&url.replacen("ws://", "http://", 1), "session=abc; Path=/")?;
    let mut ws = ctx.websocket().connect(url).header("cookie", "mine=1").await?;
    let seen = ws.receive().await?;
    ws.close().await?;
    match seen.text() {
        Some("mine=1; session=abc") => Ok(()),
        other => Err(mite_core::JourneyError::msg(format!("server saw cookies {other:?}"))),
    }
}

#[test]
fn a_journeys_own_cookie_header_goes_with_its_jars_cookies() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:own_and_jar", own_and_jar_cookies);
    let config = [format!("ws_url={}", target.ws_url("/ws/cookie"))];
    let result = ws_run(&registry, "test:own_and_jar", VolumeModel::Oneshot { journeys: 1 }, &config, None);
    assert_eq!(result.merged.journeys.ok, 1, "{:?}", result.merged.error_samples);
}

#[test]
fn handshake_carries_and_stores_the_journeys_cookies() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:cookies", cookies);
    let config = [format!("ws_url={}", target.ws_url("/ws/cookie"))];
    let result = ws_run(&registry, "test:cookies", VolumeModel::Oneshot { journeys: 2 }, &config, None);
    assert_eq!(result.merged.journeys.ok, 2, "{:?}", result.merged.error_samples);
}

#[test]
fn background_closes_unanswered_at_the_stop_are_cancelled() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:forgetful", forget_to_close);
    let config = [format!("ws_url={}", target.ws_url("/ws/bad/no-close-reply"))];
    let mut opts = options(1, Duration::from_millis(500));
    opts.grace = Duration::from_millis(200);
    let result = run(&registry, scenario("test:forgetful", VolumeModel::constant(1)), &config, opts);
    let total = result.merged.total();
    // Every journey ends at once; its close waits up to 2 s for an answer that never comes, so
    // every close the server received is still waiting when the run stops, and is counted as
    // cancelled, not forgotten. (The journey running at the stop drops its WebSocket without a
    // close.)
    let sent_closes = target.ws_counts().closes_received;
    assert!(sent_closes > 3 && sent_closes + 1 >= total.ws.connects, "{sent_closes} of {}", total.ws.connects);
    assert_eq!(kinds(|k| total.ws.errors_of(k)), vec![(ErrorKind::Cancelled, sent_closes)]);
    assert_eq!(total.ws.closes, 0);
}

/// A file whose journey `talk` listens with `receive = "until-close"` (with `step_timeout`
/// when given) to the target's broadcast of `count` messages at 200 a second (it reads
/// nothing, a close included, until it has sent them all).
fn listen_file(target: &Target, step_timeout: Option<&str>, count: u32) -> (ScenarioDir, Vec<String>, PathBuf) {
    let dir = ScenarioDir::new();
    let timeout = step_timeout.map(|t| format!(", timeout = \"{t}\"")).unwrap_or_default();
    let file = dir.write(
        "endless.toml",
        &format!(
            "[websockets.talk]\nurl = \"{{ws_url}}\"\nsteps = [{{ receive = \"until-close\"{timeout} }}]\n\
             [[scenario]]\njourney = \"talk\"\nvolume = {{ oneshot = 1 }}\n"
        ),
    );
    let overrides = vec![format!("ws_url={}", target.ws_url(&format!("/ws/broadcast?rate=200&count={count}")))];
    (dir, overrides, file)
}

/// `receive = "until-close"` against a server that keeps sending and never closes read until
/// the run's stop, and `journey test` (no stop of its own) until interrupted. The step's
/// `timeout` now bounds the whole step: it fails, once, as a `timeout` saying so; the
/// connection is then closed (this server answers no close: a `timeout` of its own, 2 s on).
#[test]
fn until_close_against_a_server_that_never_closes_ends_at_the_steps_timeout() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let (_dir, overrides, file) = listen_file(&target, None, 10_000_000);
    let loaded = mite_core::scenario::file::load(&file, &mite_journeys::registry(), &overrides).unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let test = mite_core::journey::journey_test::JourneyTest::new().timeout(Duration::from_millis(400));
        let _ = done.send(
            test.config("ws_url", overrides[0].split_once('=').unwrap().1).run_registered(&loaded.registry, "talk"),
        );
    });
    let record = finished.recv_timeout(Duration::from_secs(10)).expect("journey test did not end").unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let failure = record.result.as_ref().unwrap_err();
    assert!(failure.message.contains("did not close within 400ms"), "{failure:?}");
    let received = failure.message.split("sent ").nth(1).and_then(|m| m.split(' ').next()).unwrap();
    assert!(received.parse::<usize>().unwrap() > 10, "{failure:?}");
    // Counted once as a WebSocket error (the journey's own error is that one), then the close.
    assert_eq!(record.errors.len(), 3, "{:?}", record.errors);
    assert_eq!(record.errors[0], record.errors[2]);
    assert!(record.errors[1].contains("server did not answer the close within 2s"), "{:?}", record.errors);
}

/// In a run, the step fails at its own `timeout` (not at the run's stop), counted once; the
/// connection is closed in the journey, so every message the target sent (300 in 1.5 s: it
/// answers the close once they are out) is counted received, and the close completed.
#[test]
fn until_close_that_outlasts_its_timeout_is_one_timeout_in_a_run() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let (_dir, overrides, file) = listen_file(&target, Some("300ms"), 300);
    let loaded = mite_core::scenario::file::load(&file, &mite_journeys::registry(), &overrides).unwrap();
    let mut opts = options(1, Duration::from_secs(20));
    opts.http.request_timeout = Duration::from_secs(10);
    let started = Instant::now();
    let result = run(&loaded.registry, loaded.scenario, &overrides, opts);
    assert!(started.elapsed() < Duration::from_secs(5), "the step waited {:?}", started.elapsed());
    let total = result.merged.total();
    assert_eq!(result.merged.journeys.failed, 1, "{:?}", result.merged.error_samples);
    assert_eq!(kinds(|k| total.ws.errors_of(k)), vec![(ErrorKind::Timeout, 1)]);
    assert_eq!(result.merged.txns["talk"].txn_err, 1);
    let sample = &result.merged.error_samples["websocket"];
    assert!(sample.contains("did not close within 300ms"), "{sample}");
    assert_eq!((total.ws.messages_received, target.ws_counts().messages_sent), (300, 300));
    assert_eq!((total.ws.connects, total.ws.closes, target.ws_counts().closes_received), (1, 1, 1));
}

/// Runs `JOURNEYS` of `journey` against `path` with a 2 s request timeout; returns the run, the
/// target (for its counts) and how long the run took.
fn against(path: &str, name: &str, journey: fn(&Ctx, Row) -> JourneyFuture<'_>) -> (RunResult, Target, Duration) {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey(name, journey);
    let started = Instant::now();
    let config = [format!("ws_url={}", target.ws_url(path))];
    let result = ws_run(&registry, name, VolumeModel::Oneshot { journeys: JOURNEYS }, &config, None);
    (result, target, started.elapsed())
}

type JourneyFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = JourneyResult> + 'a>>;

fn said(what: &str, ok: bool) -> JourneyResult {
    if ok { Ok(()) } else { Err(mite_core::JourneyError::msg(what.to_string())) }
}

/// Takes the messages a friendly endpoint opens with, then one echo, then closes.
fn opening_then_echo(ctx: &Ctx, _args: Row) -> JourneyFuture<'_> {
    Box::pin(async move {
        let url = ctx.config().get_or("ws_url", "");
        let mut ws = ctx.websocket().connect(url).await?;
        let expected: Vec<Vec<u8>> = if url.ends_with("/ws/eager") {
            vec![b"early".to_vec()]
        } else if url.ends_with("/ws/fragments") {
            vec!["€uro".as_bytes().to_vec()]
        } else if url.ends_with("/ws/sizes") {
            mite_tools::ws::SIZES.iter().map(|&len| mite_tools::ws::sized_payload(len)).collect()
        } else {
            Vec::new()
        };
        for want in expected {
            let got = ws.receive().await?;
            said(&format!("got {got}, expected {} bytes", want.len()), got.bytes()[..] == want[..])?;
        }
        let echo = ws.request_reply("hello", |m| m.text() == Some("hello")).await?;
        said("the echo", echo.text() == Some("hello"))?;
        if url.ends_with("/ws/bad/early-hints") {
            let cookies = (ctx.cookie("ws_seen"), ctx.cookie("ws_early"));
            said(&format!("cookies {cookies:?}: the 101's only"), cookies == (Some("yes".into()), None))?;
        }
        ws.close().await?;
        Ok(())
    })
}

/// What a server may send that the client must take: every journey succeeds, and the counts
/// are the target's.
fn friendly(path: &str) -> (TxnStats, mite_tools::ws::WsCounts) {
    let (result, target, took) = against(path, "test:opening", opening_then_echo);
    assert!(took < Duration::from_secs(10), "{path}: took {took:?}");
    let total = result.merged.total();
    assert_clean(&total, &result);
    assert_eq!(result.merged.journeys.ok, JOURNEYS, "{path}");
    let counts = target.ws_counts();
    assert_eq!(total.ws.connects, JOURNEYS, "{path}");
    assert_eq!(total.status_class[1], JOURNEYS, "{path}: one 101 each, the interim answers not counted");
    assert_eq!((total.ws.messages_received, total.ws.bytes_received), (counts.messages_sent, counts.bytes_sent));
    assert_eq!((total.ws.messages_sent, total.ws.closes), (counts.messages_received, counts.closes_received));
    assert_target_saw_every_request(&result, target.hits());
    (total, counts)
}

/// Outside try: a `103 Early Hints` before the 101 (a CDN's) failed every upgrade as
/// "answered 103". The 101's `Set-Cookie` is stored, the 103's is not.
#[test]
fn early_hints_before_the_101_are_passed_over() {
    let (total, _) = friendly("/ws/bad/early-hints");
    assert_eq!(total.ws.messages_received, JOURNEYS);
}

/// An empty `Sec-WebSocket-Protocol` in the 101 names no subprotocol (RFC 6455 section 11.3.4:
/// the server's value is a token): read as none, and the connection goes on. Before: refused
/// as the unoffered subprotocol "".
#[test]
fn an_empty_subprotocol_field_is_read_as_none() {
    let (total, counts) = friendly("/ws/bad/empty-protocol");
    assert_eq!(total.ws.messages_received, JOURNEYS);
    assert_eq!(counts.handshakes, JOURNEYS);
}

#[test]
fn frames_in_the_101s_own_packet_are_read() {
    let (total, _) = friendly("/ws/eager");
    assert_eq!(total.ws.messages_received, 2 * JOURNEYS);
}

/// The 101 and a first frame arriving a byte at a time, each byte its own packet: read whole,
/// the frame a message, every count the target's.
#[test]
fn a_101_cut_at_every_byte_is_read() {
    let (total, _) = friendly("/ws/trickle");
    assert_eq!(total.ws.messages_received, 2 * JOURNEYS);
}

/// Half a 101, then the stream's end: one `unexpected_close` per journey, as the request's
/// error (no WebSocket was opened), at once.
#[test]
fn a_connection_closed_in_the_middle_of_the_101_is_one_unexpected_close() {
    assert_eq!(hostile("/ws/bad/cut-handshake"), (vec![(ErrorKind::UnexpectedClose, JOURNEYS)], vec![]));
}

/// A TLS alert record instead of the 101, as a TLS port answers a plain upgrade (`ws://` to a
/// `wss://` server): a handshake error per journey that says the server spoke TLS and to use
/// `wss://`, as the HTTP client says `use https://`. (It said `malformed WebSocket handshake
/// response: not an HTTP/1.1 response`.)
#[test]
fn a_tls_answer_to_the_upgrade_says_use_wss() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:one_exchange", one_exchange);
    let config = [format!("ws_url={}", target.ws_url("/ws/bad/tls-alert"))];
    let result = ws_run(&registry, "test:one_exchange", VolumeModel::Oneshot { journeys: 2 }, &config, None);
    let total = result.merged.total();
    assert_eq!(kinds(|k| total.errors_of(k)), vec![(ErrorKind::WsHandshake, 2)]);
    assert_eq!(total.ws.error_count(), 0);
    let sample = &result.merged.error_samples["ws_handshake"];
    assert!(sample.contains("the server answered in TLS") && sample.contains("use wss://"), "{sample}");
    assert_eq!(target.ws_counts().handshakes, 2);
}

/// A server that closes normally (1001 `restarting`) where a message or a reply is awaited:
/// one `ws_closed` per journey whose words carry the server's code and reason. (They said only
/// `server closed the WebSocket while a message was expected`: the reason was dropped.)
#[test]
fn a_normal_close_where_a_message_is_awaited_says_its_code_and_reason() {
    let said = "(close code 1001, reason \"restarting\")";
    assert_eq!(hostile("/ws/going-away"), (vec![], vec![(ErrorKind::WsClosed, JOURNEYS)]));
    let target = Target::start(TargetOptions::default()).unwrap();
    let record = mite_core::prelude::JourneyTest::new()
        .config("ws_url", target.ws_url("/ws/going-away"))
        .run(one_exchange)
        .unwrap();
    let error = record.result.unwrap_err().message;
    assert!(error.contains(&format!("server closed the WebSocket while a message was expected {said}")), "{error}");
    let reply = mite_core::prelude::JourneyTest::new()
        .config("ws_url", target.ws_url("/ws/going-away"))
        .run(one_reply)
        .unwrap();
    let error = reply.result.unwrap_err().message;
    assert!(error.contains(&format!("server closed the WebSocket while a reply was expected {said}")), "{error}");
}

async fn one_reply(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "");
    let mut ws = ctx.websocket().connect(url).await?;
    ws.request_reply("hello", |_| true).await?;
    Ok(())
}

/// An upgrade that never reaches a server (nothing listens on the port; a name that resolves
/// to nothing): one error of its kind per journey, counted once as an attempt never sent, no
/// WebSocket error beside it, at once, with the reason in its sample.
#[test]
fn an_upgrade_that_reaches_no_server_is_one_error_not_sent() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for (url, kind, words) in [
        (format!("ws://127.0.0.1:{closed}/ws/echo"), ErrorKind::Refused, format!("connect to 127.0.0.1:{closed}: ")),
        ("ws://no-such-host.invalid:9/ws/echo".to_string(), ErrorKind::Dns, "resolve no-such-host.invalid: ".into()),
    ] {
        let mut registry = Registry::default();
        registry.journey("test:one_exchange", one_exchange);
        let started = Instant::now();
        let journeys = VolumeModel::Oneshot { journeys: JOURNEYS };
        let result = ws_run(&registry, "test:one_exchange", journeys, &[format!("ws_url={url}")], None);
        assert!(started.elapsed() < Duration::from_secs(10), "{url}: took {:?}", started.elapsed());
        let total = result.merged.total();
        assert_eq!(kinds(|k| total.errors_of(k)), vec![(kind, JOURNEYS)], "{url}");
        assert_eq!((total.not_sent, total.requests(), total.ws.error_count()), (JOURNEYS, 0, 0), "{url}");
        assert_eq!((total.ws.connects, result.merged.journeys.failed), (0, JOURNEYS), "{url}");
        let sample = &result.merged.error_samples[kind.name()];
        assert!(sample.contains(&words), "{url}: {sample}");
    }
}

/// `€uro` cut inside the `€` across three fragments, a ping and a pong between them.
#[test]
fn a_character_cut_across_fragments_with_control_frames_between_is_one_text() {
    let (total, counts) = friendly("/ws/fragments");
    assert_eq!(total.ws.messages_received, 2 * JOURNEYS);
    assert_eq!((total.ws.pings_received, counts.pongs_received), (JOURNEYS, JOURNEYS));
}

#[test]
fn lengths_at_the_16_and_64_bit_edges_are_read_whole() {
    let (total, _) = friendly("/ws/sizes");
    let sizes: u64 = mite_tools::ws::SIZES.iter().map(|&len| len as u64).sum();
    assert_eq!(total.ws.bytes_received, JOURNEYS * (sizes + 5));
}

/// A final status instead of 101 is one `ws_handshake` error per journey, in the status
/// table as what the server answered, and said with its reason (and a redirect's target).
#[test]
fn a_final_status_instead_of_101_is_said_and_counted_once() {
    for (code, words) in [
        (200, "answered 200 OK, expected 101"),
        (301, "answered 301 Moved Permanently, expected 101 Switching Protocols (a redirect to \"/ws/echo\""),
        (401, "answered 401 Unauthorized, expected 101"),
    ] {
        let path = format!("/ws/bad/status?code={code}");
        let (result, target, took) = against(&path, "test:one_exchange", |ctx, row| Box::pin(one_exchange(ctx, row)));
        assert!(took < Duration::from_secs(10), "{path}: took {took:?}");
        let total = result.merged.total();
        assert_eq!(kinds(|k| total.errors_of(k)), vec![(ErrorKind::WsHandshake, JOURNEYS)], "{path}");
        assert_eq!(total.ws.error_count(), 0, "{path}: counted once, as the request's error");
        assert_eq!(total.status_codes, vec![(code, JOURNEYS)], "{path}: the answers are in the status table");
        assert_eq!(result.merged.journeys.failed, JOURNEYS, "{path}");
        assert_target_saw_every_request(&result, target.hits());
        let sample = &result.merged.error_samples["ws_handshake"];
        assert!(sample.contains(words), "{path}: {sample}");
    }
}

/// Each refused with its kind, once per journey, saying what the server did.
#[test]
fn what_the_client_did_not_ask_for_is_refused_by_name() {
    for (path, request_errors, ws_errors, words) in [
        ("/ws/bad/protocol", vec![(ErrorKind::WsHandshake, JOURNEYS)], vec![], "subprotocol \"evil\""),
        ("/ws/bad/deflate", vec![(ErrorKind::WsHandshake, JOURNEYS)], vec![], "extension \"permessage-deflate\""),
        ("/ws/bad/rsv1", vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)], "reserved bits"),
        ("/ws/bad/huge-length", vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)], "top bit"),
        // RFC 6455 section 5.2: the shortest length form only. Before: read as "hi" and as
        // a 300-byte message.
        ("/ws/bad/wide-length-16", vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)], "longer form than it needs"),
        ("/ws/bad/wide-length-64", vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)], "longer form than it needs"),
        ("/ws/bad/close-one-byte", vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)], "one-byte payload"),
        ("/ws/bad/close-1005", vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)], "close code 1005"),
        ("/ws/bad/close-reason", vec![], vec![(ErrorKind::WsProtocol, JOURNEYS)], "reason is not valid UTF-8"),
    ] {
        let target = Target::start(TargetOptions::default()).unwrap();
        let mut registry = Registry::default();
        registry.journey("test:one_exchange", one_exchange);
        let config = [format!("ws_url={}", target.ws_url(path))];
        let result = ws_run(&registry, "test:one_exchange", VolumeModel::Oneshot { journeys: JOURNEYS }, &config, None);
        let total = result.merged.total();
        assert_eq!(kinds(|k| total.errors_of(k)), request_errors, "{path}");
        assert_eq!(kinds(|k| total.ws.errors_of(k)), ws_errors, "{path}");
        assert_eq!(result.merged.journeys.failed, JOURNEYS, "{path}");
        // Each server answered 101, refused after it or not: the status table shows it.
        assert_eq!(total.status_codes, vec![(101, JOURNEYS)], "{path}");
        if path.contains("wide-length") {
            // RFC 6455 section 7.1.7: the client fails the connection with 1002, which the
            // target received (its thread may still be reading it: waited for, 2 s at most).
            let until = Instant::now() + Duration::from_secs(2);
            while target.ws_counts().protocol_error_closes < JOURNEYS && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert_eq!(target.ws_counts().protocol_error_closes, JOURNEYS, "{path}");
        }
        let key = if ws_errors.is_empty() { "ws_handshake" } else { "websocket" };
        let sample = &result.merged.error_samples[key];
        assert!(sample.contains(words), "{path}: {sample}");
    }
}

/// Sends one message and waits up to 300 ms for a reply that never comes, then closes.
fn flooded(ctx: &Ctx, _args: Row) -> JourneyFuture<'_> {
    Box::pin(async move {
        let url = ctx.config().get_or("ws_url", "");
        let mut ws = ctx.websocket().connect(url).await?;
        ws.send_text("anyone?").await?;
        let started = Instant::now();
        let waited = ws.receive_timeout(Duration::from_millis(300)).await;
        let took = started.elapsed();
        said(&format!("a receive under a ping flood took {took:?}"), took < Duration::from_millis(1200))?;
        said("nothing but pings came", waited.is_err_and(|e| e.kind() == Some(ErrorKind::Timeout)))?;
        ws.close().await?;
        Ok(())
    })
}

/// Pings as fast as the target can write them while a reply is awaited: the receive ends at
/// its timeout, every ping is counted once and answered (the target counts the pongs until the
/// client hangs up), and the close completes.
#[test]
fn a_ping_flood_does_not_hold_a_receive_past_its_timeout() {
    let (result, target, took) = against("/ws/bad/ping-flood", "test:flooded", flooded);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let total = result.merged.total();
    let counts = target.ws_counts();
    assert_eq!(result.merged.journeys.ok, JOURNEYS, "{:?}", result.merged.error_samples);
    assert_eq!(kinds(|k| total.ws.errors_of(k)), vec![(ErrorKind::Timeout, JOURNEYS)]);
    assert!(total.ws.pings_received > 100 * JOURNEYS, "pings {}", total.ws.pings_received);
    assert_eq!(total.ws.pings_received, counts.pongs_received, "each ping counted and answered once");
    assert_eq!((total.ws.closes, counts.closes_received), (JOURNEYS, JOURNEYS));
}

/// Outside try: a server that answered the journey's close in the middle of a ping flood and
/// hung up at once failed the close with "reset: send: Broken pipe": the client was still
/// answering the pings that came before the server's close. After its own close the client
/// no longer fails on a pong the server does not read; the close completes.
#[test]
fn a_close_under_a_ping_flood_completes_when_the_server_hangs_up() {
    let (result, target, took) = against("/ws/bad/ping-flood?hangup=1", "test:flooded", flooded);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let total = result.merged.total();
    let counts = target.ws_counts();
    assert_eq!(result.merged.journeys.ok, JOURNEYS, "{:?}", result.merged.error_samples);
    assert_eq!(kinds(|k| total.ws.errors_of(k)), vec![(ErrorKind::Timeout, JOURNEYS)]);
    assert!(counts.pongs_received <= total.ws.pings_received, "{} pongs", counts.pongs_received);
    assert_eq!((total.ws.closes, counts.closes_received), (JOURNEYS, JOURNEYS));
}

/// Sends 200 messages of 1 KiB without reading; the server closes (1001) after three.
fn sender(ctx: &Ctx, _args: Row) -> JourneyFuture<'_> {
    Box::pin(async move {
        let url = ctx.config().get_or("ws_url", "");
        let mut ws = ctx.websocket().connect(url).await?;
        let payload = vec![b'x'; 1024];
        for _ in 0..200 {
            ws.send_binary(&payload).await?;
            mite_core::sleep(Duration::from_millis(1)).await;
        }
        ws.close().await?;
        Ok(())
    })
}

/// Outside try: a server that closed with 1001 (going away) while the journey was sending,
/// then dropped the connection, was a `reset` ("send: Connection reset by peer"): the close
/// frame it had sent first was never looked at. Now it is one `ws_closed` per journey naming
/// the server's code.
#[test]
fn a_server_close_while_the_client_sends_is_that_close() {
    let (result, target, took) = against("/ws/bad/close-while-sending", "test:sender", sender);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let total = result.merged.total();
    assert_eq!(kinds(|k| total.errors_of(k)), vec![]);
    assert_eq!(
        kinds(|k| total.ws.errors_of(k)),
        vec![(ErrorKind::WsClosed, JOURNEYS)],
        "{:?}",
        result.merged.error_samples
    );
    assert_eq!(result.merged.journeys.failed, JOURNEYS);
    let sample = &result.merged.error_samples["websocket"];
    assert!(sample.contains("the server closed the WebSocket with 1001 while a message was being sent"), "{sample}");
    let counts = target.ws_counts();
    assert!(counts.messages_received >= 3 * JOURNEYS);
    assert!(total.ws.messages_sent >= counts.messages_received);
    // What the server sent before its close was read on the way to it, and counted.
    assert_eq!((total.ws.messages_received, total.ws.bytes_received), (counts.messages_sent, counts.bytes_sent));
    assert_eq!(total.ws.pings_received, counts.pings_sent);
}

/// Connects to `ws_url` and closes.
async fn connect_and_close(ctx: &Ctx, _args: Row) -> JourneyResult {
    let ws = ctx.websocket().connect(ctx.config().get_or("ws_url", "")).await?;
    Ok(ws.close().await?)
}

/// `journey test` says what became of a handshake answer's `Set-Cookie`, after the handshake's
/// line, as it does for any response (before: the cookie was stored without a word).
#[test]
fn journey_test_traces_the_cookies_a_handshake_sets() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let mut registry = Registry::default();
    registry.journey("test:connect", connect_and_close);
    let config =
        mite_core::run::layered_config(&Default::default(), &[format!("ws_url={}", target.ws_url("/ws/cookie"))])
            .unwrap();
    let (opts, stop) = (options(1, Duration::from_secs(1)), std::sync::atomic::AtomicBool::new(false));
    let mut lines = Vec::new();
    let mut report = |event: &mite_core::output::events::RunEvent<'_>| {
        if let mite_core::output::events::RunEvent::Trace { line, .. } = event {
            lines.push(line.to_string());
        }
    };
    let (merged, _) =
        mite_core::journey_test(&registry, "test:connect", [], config, &opts, &stop, &mut report).unwrap();
    assert_eq!(merged.journeys.ok, 1, "{lines:?}");
    let handshake = lines.iter().position(|l| l.contains("/ws/cookie -> 101")).expect("the handshake's line");
    assert_eq!(
        lines.get(handshake + 1).map(String::as_str),
        Some(
            "cookie stored: ws_seen=yes; domain=127.0.0.1 (this host only); path=/; no expiry (kept for the journey run)"
        ),
        "{lines:?}"
    );
}
