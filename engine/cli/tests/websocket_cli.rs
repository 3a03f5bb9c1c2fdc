//! The README's WebSocket command at the command line: `websocket.toml` against an echo server
//! given with `--config ws_url=...`, its counts in the table and the JSON equal to the server's,
//! and its result files merged losslessly.

mod support;
use support::{Scratch, engine};

use std::path::PathBuf;

use mite_tools::{Target, TargetOptions};

#[test]
fn websocket_toml_from_the_command_line() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let (json, merged) = (scratch.file("ws.json"), scratch.file("merged.json"));
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../journeys/scenarios/websocket.toml");
    let url = format!("ws_url={}", target.ws_url("/ws/echo"));
    let out = engine(&[
        "--cores",
        "1",
        "--no-pin",
        "--scenario",
        file.to_str().unwrap(),
        "--duration",
        "1s",
        "--config",
        &url,
        "-q",
        "--json",
        json.to_str().unwrap(),
    ]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("websocket") && text.contains("ws_ping_pong"), "{text}");
    let result: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let ws = &result["totals"]["websocket"];
    let counts = target.ws_counts();
    let connects = ws["connects"].as_u64().unwrap();
    assert!(connects >= 16, "{ws}");
    assert_eq!(ws["errors"], 0, "{ws}");
    assert_eq!(ws["messages_sent"].as_u64(), Some(10 * connects), "{ws}");
    assert_eq!(ws["messages_received"].as_u64(), Some(10 * connects), "{ws}");
    assert_eq!(ws["messages_sent"].as_u64(), Some(counts.messages_received));
    assert_eq!(ws["messages_received"].as_u64(), Some(counts.messages_sent));
    assert_eq!(result["totals"]["errors"], 0);

    let out = engine(&["merge", json.to_str().unwrap(), json.to_str().unwrap(), "-o", merged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let both: serde_json::Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    assert_eq!(both["totals"]["websocket"]["messages_sent"].as_u64(), Some(20 * connects));
    assert_eq!(
        both["transactions"][0]["websocket"]["reply_us"]["count"].as_u64(),
        Some(20 * connects),
        "reply latencies merge as histograms"
    );
}
