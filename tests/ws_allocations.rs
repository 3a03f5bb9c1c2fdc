//! Heap allocations per WebSocket message in a load run, counted by a global allocator: a run
//! carries no journey-test recorder, so sending and receiving a message keeps nothing and
//! allocates nothing (issue 18: the record's WebSocket side costs load runs nothing). The
//! target runs in another process so that only the engine's allocations are counted.

use std::time::Duration;

use mite_core::{Ctx, JourneyResult, Registry, Row, RunOptions, VolumeModel};
use mite_tests::{CountingAllocator, TargetProcess, allocations, options, run, scenario};

/// Counts every allocation of this test binary (see `mite_tests::CountingAllocator`).
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Connects to `ws_url`, sends `n` text messages and receives each echo, and closes.
async fn echo(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = ctx.config().get_or("ws_url", "").to_string();
    let n: u32 = ctx.config().get_or("n", "0").parse().unwrap_or(0);
    let mut ws = ctx.websocket().connect(&url).await?;
    for _ in 0..n {
        ws.send_text("ping").await?;
        ws.receive().await?;
    }
    ws.close().await?;
    Ok(())
}

/// Runs one journey exchanging `n` messages each way; returns (messages, allocations).
fn messages_and_allocations(url: &str, n: u32) -> (u64, u64) {
    let mut registry = Registry::default();
    registry.journey("ws:echo", echo);
    let overrides = [format!("ws_url={url}"), format!("n={n}")];
    let before = allocations();
    let result = run(
        &registry,
        scenario("ws:echo", VolumeModel::Oneshot { journeys: 1 }),
        &overrides,
        // A long tick: the per-interval snapshots (which allocate) stay few however slow the
        // machine, so what is left is per message.
        RunOptions { tick: Duration::from_secs(10), ..options(1, Duration::from_secs(60)) },
    );
    let allocations = allocations() - before;
    let total = result.merged.total();
    assert_eq!((total.req_errors(), total.ws.error_count()), (0, 0), "{:?}", result.merged.error_samples);
    assert_eq!(total.ws.messages_sent, u64::from(n));
    (total.ws.messages_sent + total.ws.messages_received, allocations)
}

#[test]
fn websocket_messages_allocate_nothing_in_load_runs() {
    let target = TargetProcess::start(env!("CARGO_BIN_EXE_mite-test-target"), None);
    let url = target.url("/ws/echo").replacen("http://", "ws://", 1);
    // Two runs of one journey each: the per-run costs (threads, runtime, the connection, the
    // handshake, the snapshots) are alike, so the difference is what the extra messages cost.
    let (few, few_allocations) = messages_and_allocations(&url, 100);
    let (many, many_allocations) = messages_and_allocations(&url, 5_100);
    let extra = many - few;
    assert_eq!(extra, 10_000);
    let per_message = many_allocations.saturating_sub(few_allocations) as f64 / extra as f64;
    println!(
        "{per_message:.5} allocations per message ({few} messages: {few_allocations} allocations; \
         {many}: {many_allocations})"
    );
    assert!(per_message < 0.01, "{per_message:.4} allocations per message");
}
