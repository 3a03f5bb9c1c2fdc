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

    // The table shows messages a second each way apart (one msg/s summed both ways before).
    assert!(text.contains(" msgs sent  msgs recv   sent/s   recv/s ") && !text.contains("msg/s"), "{text}");

    let again = support::as_another_run(&json, &json.with_file_name("again.json"));
    // `compare` shows the WebSocket figures of the runs (it showed none).
    let out = engine(&["compare", json.to_str().unwrap(), again.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let mut lines = said.lines().skip_while(|l| !l.starts_with("websocket "));
    let header = lines.next().unwrap_or_else(|| panic!("no table: {said}"));
    assert!(header.contains("reply p50") && header.contains("Δrecv/s"), "{said}");
    let row: Vec<&str> = lines.next().unwrap().strip_prefix("ws_ping_pong ").unwrap().split_whitespace().collect();
    let count = |cell: &str| cell.replace(',', "").parse::<u64>().unwrap();
    assert_eq!((count(row[0]), count(row[1])), (10 * connects, 10 * connects), "{said}");
    assert_eq!((row[3], row[5]), ("+0.0%", "+0.0%"), "{said}");
    let out = engine(&["merge", json.to_str().unwrap(), again.to_str().unwrap(), "-o", merged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let both: serde_json::Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    assert_eq!(both["totals"]["websocket"]["messages_sent"].as_u64(), Some(20 * connects));
    assert_eq!(
        both["transactions"][0]["websocket"]["reply_us"]["count"].as_u64(),
        Some(20 * connects),
        "reply latencies merge as histograms"
    );
}

/// Outside try: a datapool value in a WebSocket URL went out raw (`x&evil=1/y` added a path
/// segment and a query parameter; `ü` went out as raw UTF-8), where an HTTP step's URL encodes
/// it. The target's `/ws/target` sends back the request target exactly as it arrived.
#[test]
fn websocket_url_values_are_percent_encoded_like_http_steps() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let scratch = Scratch::new();
    let file = scratch.file("enc.toml");
    let arrived = "/ws/target?v=x%26evil%3D1%2Fy&raw=%C3%BC";
    let toml = format!(
        "name = \"wsenc\"\n[config]\nws = \"ws://127.0.0.1:1\"\n[datapools.u]\nrows = [[\"x&evil=1/y\"]]\n\
         columns = [\"name\"]\n[websockets.q]\nurl = \"{{ws}}/ws/target?v={{name}}&raw=ü\"\n\
         steps = [{{ receive = 1, expect = \"{arrived}\" }}]\n[[scenario]]\njourney = \"q\"\ndatapool = \"u\"\n\
         volume = {{ constant = 1 }}\n"
    );
    std::fs::write(&file, toml).unwrap();
    let ws = format!("ws={}", target.ws_url(""));
    let out = engine(&["journey", "test", "q", "u", "--scenario", file.to_str().unwrap(), "--config", &ws]);
    let text = support::text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("received text \"{arrived}\"")), "{text}");
}

/// Outside try: `scenario check` passed a WebSocket journey whose URL could never be sent (a
/// space in it, or an `http://` one from the config), and the run failed every journey. The
/// error names the `url` line (it named the scenario entry's).
#[test]
fn websocket_urls_are_checked_before_the_run() {
    let scratch = Scratch::new();
    let file = scratch.file("bad.toml");
    let toml = "name = \"wsbad\"\n[config]\nws = \"ws://127.0.0.1:1\"\n[websockets.q]\nurl = \"{ws}/echo\"\n\
                steps = [{ receive = 1 }]\n[[scenario]]\njourney = \"q\"\nvolume = { constant = 1 }\n";
    std::fs::write(&file, toml).unwrap();
    let check = |config: &str| engine(&["scenario", "check", file.to_str().unwrap(), "--config", config]);
    assert_eq!(check("ws=ws://127.0.0.1:1").status.code(), Some(0), "a sendable URL passes");
    let out = check("ws=http://127.0.0.1:1");
    let text = support::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("bad.toml:5: websockets.q.url") && text.contains("only ws:// and wss://"), "{text}");
    assert!(text.contains("(from {ws} = \"http://127.0.0.1:1\")"), "{text}");
    let out = check("ws=ws://127.0.0.1:1/a b");
    let text = support::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("must be percent-encoded"), "{text}");
}

/// A WebSocket 101 of 70,000 bytes: past the default 64 KiB every connect is a `ws_handshake`
/// error naming the flag that raises the limit; `--max-head-bytes 128KiB` reads it, and the
/// ping-pong runs clean. The 101's head size could not be raised from the command line before.
#[test]
fn max_head_bytes_raises_the_websocket_handshake_limit() {
    let target = Target::start(TargetOptions::default()).unwrap();
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../journeys/scenarios/websocket.toml");
    let url = format!("ws_url={}", target.ws_url("/ws/big-head?bytes=70000"));
    let run = |extra: &[&str]| {
        let file = file.to_str().unwrap();
        let mut args = vec!["--cores", "1", "--no-pin", "--scenario", file, "--duration", "500ms", "--config", &url];
        args.extend_from_slice(&["-q", "--threshold", "errors<1%"]);
        args.extend_from_slice(extra);
        engine(&args)
    };
    let said = |out: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", said(&out));
    assert!(
        said(&out).contains(
            "larger than 65536 bytes (the client's limit on any response head: raise it with --max-head-bytes or \
             [client] max_head_bytes, up to 16MiB)"
        ),
        "{}",
        said(&out)
    );
    let out = run(&["--max-head-bytes", "128KiB"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
}
