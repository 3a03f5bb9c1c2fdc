#!/usr/bin/env python3
"""WebSocket benchmarks on loopback: echo throughput and CPU per message on one injector core,
and the injector's RSS while holding N idle WebSocket connections.

The tools/ target (mite-target) is pinned to core 1 and mite-engine to core 0. CPU is the
injector process's user + system time from the kernel (wait4); RSS is its peak resident set
(ru_maxrss). Message counts come from the engine's result file and are checked against the
target's handshake count printed by nothing else: the echo journey sends a fixed number of
messages per connection, so sent = received is checked here.

    cargo build --release -p mite-engine -p mite-tools
    python3 benches/websocket.py echo --duration 8 --connections 64 --rounds 3
    python3 benches/websocket.py idle --connections 1000,10000
"""

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "target", "release", "mite-engine")
TARGET = os.path.join(ROOT, "target", "release", "mite-target")

ECHO_TOML = """
name = "ws-echo-bench"
[websockets.echo]
url = "{{ws_url}}"
transaction = "ws_echo"
repeat = 1000
steps = [{{ request = "{payload}", expect = "{payload}" }}]
[[scenario]]
journey = "echo"
volume = {{ constant = {connections} }}
"""

GET_TOML = """
name = "http-get-reference"
[journeys.get]
steps = [{{ transaction = "get_root", url = "{{target_url}}" }}]
[[scenario]]
journey = "get"
volume = {{ constant = {connections} }}
"""

IDLE_TOML = """
name = "ws-idle-bench"
[websockets.idle]
url = "{{ws_url}}"
transaction = "ws_idle"
steps = [{{ receive = 1, timeout = "1h" }}]
[[scenario]]
journey = "idle"
volume = {{ constant = {connections} }}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_target():
    port = free_port()
    target = subprocess.Popen(
        [TARGET, "--addr", f"127.0.0.1:{port}", "--pin", "1"],
        stdout=subprocess.DEVNULL,
        preexec_fn=raise_nofile,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return target, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mite-target did not start")


def run_engine(toml_text, ws_url, duration_s, extra=()):
    with tempfile.TemporaryDirectory() as tmp:
        scenario = os.path.join(tmp, "ws.toml")
        result = os.path.join(tmp, "r.json")
        with open(scenario, "w") as f:
            f.write(toml_text)
        command = [ENGINE, "--cores", "0-0", "--scenario", scenario, "--duration", f"{duration_s}s", "-q",
                   "--config", f"ws_url={ws_url}", "--json", result, *extra]
        engine = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(engine.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"mite-engine failed: {engine.stderr.read().decode()}")
        with open(result) as f:
            return json.load(f), usage


def echo(args):
    rows = []
    for _ in range(args.rounds):
        target, port = start_target()
        try:
            text = ECHO_TOML.format(payload="x" * args.payload, connections=args.connections)
            result, usage = run_engine(text, f"ws://127.0.0.1:{port}/ws/echo", args.duration)
            # The same connections doing HTTP GETs on the same target, interleaved: the
            # reference for this machine's state at the time.
            http, http_usage = run_engine(GET_TOML.format(connections=args.connections), "", args.duration,
                                          ["--config", f"target_url=http://127.0.0.1:{port}/"])
        finally:
            target.kill()
            target.wait()
        ws = result["totals"]["websocket"]
        # Replies still awaited when the run stopped are counted as cancelled.
        cancelled = ws["errors_by_kind"].get("cancelled", 0)
        assert ws["messages_sent"] == ws["messages_received"] + cancelled, ws
        assert ws["errors"] == cancelled and result["totals"]["errors"] == 0, ws
        seconds = result["duration_s"]
        cpu_s = usage.ru_utime + usage.ru_stime
        echoed = ws["messages_sent"]
        http_requests = http["totals"]["requests"]
        http_cpu_s = http_usage.ru_utime + http_usage.ru_stime
        rows.append((echoed / seconds, cpu_s / echoed * 1e6, cpu_s / (2 * echoed) * 1e6,
                     result["transactions"][0]["websocket"]["reply_us"]["p50"],
                     result["transactions"][0]["websocket"]["reply_us"]["p99"],
                     http_requests / http["duration_s"], http_cpu_s / http_requests * 1e6))
        print(f"round: {rows[-1][0]:,.0f} echoes/s, {rows[-1][1]:.2f} CPU us per echo; "
              f"HTTP {rows[-1][5]:,.0f} req/s, {rows[-1][6]:.2f} CPU us per request", file=sys.stderr)
    med = [statistics.median(col) for col in zip(*rows)]
    print("| connections | payload | echoes/s | CPU µs per echo | CPU µs per message | reply p50 µs | reply p99 µs "
          "| HTTP GET req/s | CPU µs per GET |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.connections} | {args.payload} B | {med[0]:,.0f} | {med[1]:.2f} | {med[2]:.2f} | {med[3]:.0f} "
          f"| {med[4]:.0f} | {med[5]:,.0f} | {med[6]:.2f} |")


def idle(args):
    print("| idle WebSocket connections | injector max RSS | handshakes ok |")
    print("|---:|---:|---:|")
    for n in [int(c) for c in args.connections.split(",")]:
        target, port = start_target()
        try:
            text = IDLE_TOML.format(connections=n)
            result, usage = run_engine(text, f"ws://127.0.0.1:{port}/ws/echo", args.duration, ["--grace", "1s"])
        finally:
            target.kill()
            target.wait()
        ws = result["totals"]["websocket"] or {}
        print(f"| {n:,} | {usage.ru_maxrss / 1024:.1f} MiB | {ws.get('connects', 0):,} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    e = sub.add_parser("echo")
    e.add_argument("--duration", type=int, default=8)
    e.add_argument("--connections", type=int, default=64)
    e.add_argument("--payload", type=int, default=32)
    e.add_argument("--rounds", type=int, default=3)
    i = sub.add_parser("idle")
    i.add_argument("--connections", default="1000,10000")
    i.add_argument("--duration", type=int, default=15)
    args = parser.parse_args()
    for binary in (ENGINE, TARGET):
        if not os.path.exists(binary):
            raise SystemExit(f"{binary} missing: cargo build --release -p mite-engine -p mite-tools")
    echo(args) if args.what == "echo" else idle(args)


if __name__ == "__main__":
    main()
