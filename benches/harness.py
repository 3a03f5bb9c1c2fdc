#!/usr/bin/env python3
"""Side-by-side loopback benchmark: mite-engine against wrk (and oha with --oha), same target,
same connection count and duration, interleaved A B A B over several rounds.

The target (nginx with one worker, and the tools/ target) is pinned to one core and the
injector to another. Client CPU comes from the kernel's accounting of the injector process
(user + system time, from wait4), so CPU per request = (user + sys) / requests.

    python3 benches/harness.py --rounds 5 --duration 10 --connections 64
    python3 benches/harness.py --smoke          # CI: one short round, tools/ target only

The first row is mite-engine on `--driver` (auto: the engine's own io_uring runtime, or epoll
where it cannot start); `--variants io_uring` adds monoio's io_uring runtime beside it. The
table's driver column is what each row's runs reported.

Writes a markdown table to stdout and to benches/results/latest.md.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "target", "release", "mite-engine")
TARGET = os.path.join(ROOT, "target", "release", "mite-target")

NGINX_CONF = """
worker_processes 1;
worker_cpu_affinity {mask};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 20000; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_temp_path {dir};
    proxy_temp_path {dir};
    fastcgi_temp_path {dir};
    uwsgi_temp_path {dir};
    scgi_temp_path {dir};
    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096;
        location / {{ default_type text/plain; return 200 "Hello, World!"; }}
    }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def measured(cmd, timeout, env=None):
    """Runs cmd and returns (output, returncode, (cpu seconds, user-space cpu seconds)) using wait4's
    rusage: user + system time of all its threads; the rest of cpu is the kernel's share."""
    with tempfile.TemporaryFile(mode="w+") as out:
        full_env = dict(os.environ, **(env or {}))
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env)
        deadline = time.time() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid != 0:
                break
            if time.time() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return out.read(), proc.returncode, (usage.ru_utime + usage.ru_stime, usage.ru_utime)


DRIVER = "auto"


DECLARATIVE = """name = "declarative-get"
[journeys.get]
steps = [{{ transaction = "get_root", url = "{{target_url}}" }}]
[[scenario]]
journey = "get"
volume = {{ constant = {conns} }}
"""


def run_mite(url, core, conns, duration, driver=None, env=None, declarative=False, engine=None, extra=()):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    scenario = "http_example:scenario"
    if declarative:
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(DECLARATIVE.format(conns=conns))
            scenario = f.name
    # The declarative file's journeys in flight are written in it; only the registered
    # scenario reads `journeys` (a key no template reads is refused).
    config = ["--config", f"target_url={url}"] + ([] if declarative else ["--config", f"journeys={conns}"])
    cmd = [engine or ENGINE, "--cores", f"{core}-{core}", "--scenario", scenario, *config,
           "--duration", f"{duration}s", "--json", path, "--quiet", "--grace", "2s", "--driver", driver or DRIVER,
           *extra]
    out, rc, (cpu, user) = measured(cmd, duration + 30, env)
    if rc != 0:
        raise RuntimeError(f"mite-engine failed ({rc}): {out[-2000:]}")
    result = json.load(open(path))
    os.unlink(path)
    if declarative:
        os.unlink(scenario)
    t = result["totals"]
    return {"requests": t["requests"], "errors": t["errors"], "seconds": result["duration_s"], "cpu": cpu, "user": user,
            "p50_us": t["latency_us"]["p50"], "p99_us": t["latency_us"]["p99"], "driver": result["driver"]}


def run_wrk(url, core, conns, duration):
    cmd = ["taskset", "-c", str(core), "wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", url]
    out, rc, (cpu, user) = measured(cmd, duration + 30)
    if rc != 0:
        raise RuntimeError(f"wrk failed ({rc}): {out[-2000:]}")
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    requests = int(m.group(1))
    seconds = float(m.group(2)) / (1000.0 if m.group(3) == "ms" else 1.0)
    errors = 0
    for pat in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"):
        e = re.search(pat, out)
        if e:
            errors += sum(int(x) for x in e.groups())

    def pct(p):
        e = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        if not e:
            return 0
        scale = {"us": 1, "ms": 1000, "s": 1_000_000}[e.group(2)]
        return int(float(e.group(1)) * scale)

    return {"requests": requests, "errors": errors, "seconds": seconds, "cpu": cpu, "user": user,
            "p50_us": pct(50), "p99_us": pct(99)}


def run_oha(url, core, conns, duration):
    cmd = ["taskset", "-c", str(core), "oha", "--no-tui", "--output-format", "json", "-c", str(conns), "-z", f"{duration}s", url]
    out, rc, (cpu, user) = measured(cmd, duration + 30)
    if rc != 0:
        raise RuntimeError(f"oha failed ({rc}): {out[-2000:]}")
    data = json.loads(out[out.index("{"):])
    s = data["summary"]
    # Responses, not requests started: oha counts the requests in flight when its duration
    # ends as "aborted due to deadline" (in its rate too); they are neither answered nor errors.
    codes = data.get("statusCodeDistribution", {})
    requests = sum(codes.values())
    ok = sum(v for k, v in codes.items() if k.startswith("2"))
    failed = sum(v for k, v in data.get("errorDistribution", {}).items() if k != "aborted due to deadline")
    return {"requests": requests, "errors": requests - ok + failed, "seconds": s["total"], "cpu": cpu, "user": user,
            "p50_us": int(data["latencyPercentiles"]["p50"] * 1e6), "p99_us": int(data["latencyPercentiles"]["p99"] * 1e6)}


FLOOR = os.path.join(ROOT, "target", "release", "uring-floor")


def run_floor(url, core, conns, duration, mode):
    """The io_uring floor client (benches/floor.rs): no executor, no journey, no timers."""
    addr = url.split("//", 1)[1].rstrip("/")
    cmd = [FLOOR, "--addr", addr, "--connections", str(conns), "--seconds", str(duration), "--core", str(core),
           "--mode", mode]
    out, rc, (cpu, user) = measured(cmd, duration + 30)
    if rc != 0:
        raise RuntimeError(f"uring-floor failed ({rc}): {out[-2000:]}")
    data = json.loads(out[out.index("{"):])
    return {"requests": data["requests"], "errors": 0, "seconds": data["wall_s"], "cpu": cpu, "user": user,
            "p50_us": 0, "p99_us": 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10, help="seconds per run")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--injector-core", type=int, default=0)
    ap.add_argument("--target-core", type=int, default=1)
    ap.add_argument("--oha", action="store_true", help="also run oha (cargo install oha first)")
    ap.add_argument("--no-nginx", action="store_true")
    ap.add_argument("--floor", action="store_true",
                    help="also run the io_uring floor client (benches/floor.rs), single and multishot receives")
    ap.add_argument("--driver", default="auto", help="mite-engine --driver")
    ap.add_argument("--smoke", action="store_true", help="one 1 s round against the tools/ target (CI)")
    ap.add_argument("--engine-binary", help="a prebuilt mite-engine binary to measure instead of building "
                    "target/release/mite-engine (e.g. benches/pgo.sh's)")
    ap.add_argument("--baseline-engine", help="another mite-engine binary to interleave (A/B of a change); with "
                    "--variants declarative its declarative GET is interleaved too")
    ap.add_argument("--variants", default="", help="extra mite-engine variants, comma-separated: "
                    "io_uring (monoio's io_uring runtime, --driver io_uring), "
                    "io_uring-declarative (the declarative journey on it), "
                    "own (the declarative journey on --driver own), epoll, "
                    "uring-plain (monoio's io_uring without SINGLE_ISSUER/DEFER_TASKRUN), "
                    "declarative (the same GET as a scenario-file journey), "
                    "dashboard (with the live dashboard on, updated every interval); "
                    "--smoke adds io_uring")
    ap.add_argument("--out", default=os.path.join(ROOT, "benches", "results", "latest.md"))
    args = ap.parse_args()
    if args.smoke:
        args.rounds, args.duration, args.no_nginx = 1, 1, True
        # The default and monoio's io_uring side by side, as the comparison is made.
        if "io_uring" not in args.variants.split(","):
            args.variants = ",".join(filter(None, [args.variants, "io_uring"]))
    global DRIVER, ENGINE
    DRIVER = args.driver
    if args.engine_binary:
        ENGINE = os.path.abspath(args.engine_binary)
        if not os.access(ENGINE, os.X_OK):
            ap.error(f"--engine-binary {args.engine_binary}: not an executable file")

    packages = ["-p", "mite-tools"] + ([] if args.engine_binary else ["-p", "mite-engine"])
    subprocess.run(["cargo", "build", "--release", "-q", *packages], cwd=ROOT, check=True)
    if args.floor:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "mite-benches", "--bin", "uring-floor"], cwd=ROOT,
                       check=True)

    tools = [(f"mite ({DRIVER})", run_mite)]
    for variant in filter(None, args.variants.split(",")):
        if variant == "io_uring":
            tools.append(("mite (io_uring)", lambda u, c, n, d: run_mite(u, c, n, d, driver="io_uring")))
        elif variant == "io_uring-declarative":
            tools.append(("mite (io_uring, declarative)", lambda u, c, n, d: run_mite(
                u, c, n, d, declarative=True, driver="io_uring")))
        elif variant == "epoll":
            tools.append(("mite (epoll)", lambda u, c, n, d: run_mite(u, c, n, d, driver="epoll")))
        elif variant == "declarative":
            tools.append(("mite (declarative)", lambda u, c, n, d: run_mite(u, c, n, d, declarative=True)))
        elif variant == "dashboard":
            tools.append(("mite (dashboard)", lambda u, c, n, d: run_mite(
                u, c, n, d, extra=("--dashboard", "127.0.0.1:0", "--dashboard-linger", "0s"))))
        elif variant == "own":
            tools.append(("mite (own, declarative)", lambda u, c, n, d: run_mite(
                u, c, n, d, declarative=True, driver="own")))
        elif variant == "uring-plain":
            tools.append(("mite (io_uring plain)", lambda u, c, n, d: run_mite(u, c, n, d, driver="io_uring",
                                                                          env={"MITE_URING_PLAIN": "1"})))
        else:
            ap.error(f"unknown variant {variant}")
    if args.baseline_engine:
        tools.append((f"mite (baseline, {DRIVER})", lambda u, c, n, d: run_mite(u, c, n, d, engine=args.baseline_engine)))
        if "declarative" in args.variants.split(","):
            tools.append(("mite (baseline, declarative)", lambda u, c, n, d: run_mite(
                u, c, n, d, declarative=True, engine=args.baseline_engine)))
    if args.floor:
        tools.append(("floor (single)", lambda u, c, n, d: run_floor(u, c, n, d, "single")))
        tools.append(("floor (multishot)", lambda u, c, n, d: run_floor(u, c, n, d, "multishot")))
    if shutil.which("wrk"):
        tools.append(("wrk", run_wrk))
    else:
        print("wrk not installed (apt-get install wrk): skipping it", file=sys.stderr)
    if args.oha:
        if shutil.which("oha"):
            tools.append(("oha", run_oha))
        else:
            print("oha not installed (cargo install oha): skipping it", file=sys.stderr)

    procs = []
    targets = []
    tmp = tempfile.mkdtemp(prefix="mite-bench-")
    try:
        port = free_port()
        procs.append(subprocess.Popen(["taskset", "-c", str(args.target_core), TARGET, "--addr", f"127.0.0.1:{port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_listening(port)
        targets.append(("mite-target", f"http://127.0.0.1:{port}/"))
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if not args.no_nginx and nginx:
            nport = free_port()
            conf = os.path.join(tmp, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(mask="1" + "0" * args.target_core, dir=tmp, port=nport))
            procs.append(subprocess.Popen([nginx, "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_listening(nport)
            targets.insert(0, ("nginx", f"http://127.0.0.1:{nport}/"))
        elif not args.no_nginx:
            print("nginx not installed (apt-get install nginx-light): tools/ target only", file=sys.stderr)

        runs = {}
        for rnd in range(args.rounds):
            for tname, url in targets:
                # Rotate the order every round: the first run after a change of target is
                # measurably slower, so no client may always go first.
                shift = rnd % len(tools)
                for tool, fn in tools[shift:] + tools[:shift]:
                    r = fn(url, args.injector_core, args.connections, args.duration)
                    r["rps"] = r["requests"] / r["seconds"]
                    r["cpu_us"] = r["cpu"] / max(r["requests"], 1) * 1e6
                    r["user_us"] = r["user"] / max(r["requests"], 1) * 1e6
                    runs.setdefault((tname, tool), []).append(r)
                    print(f"round {rnd + 1} {tname:11} {tool:16} {r['rps']:>10.0f} req/s  {r['cpu_us']:.2f} us CPU/req  "
                          f"errors {r['errors']}", file=sys.stderr)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [f"Run {datetime.date.today()}: {args.rounds} rounds x {args.duration}s, {args.connections} connections, "
             f"injector on core {args.injector_core}, target on core {args.target_core}; medians.",
             "", "| target | client | driver | req/s | CPU µs/req | user µs/req | kernel µs/req | req/s vs wrk "
             "| CPU/req vs wrk | p50 µs | p99 µs | errors |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for tname, _ in targets:
        base = runs.get((tname, "wrk"))
        base_rps = statistics.median(r["rps"] for r in base) if base else None
        base_cpu = statistics.median(r["cpu_us"] for r in base) if base else None
        for tool, _ in tools:
            rs = runs[(tname, tool)]
            rps = statistics.median(r["rps"] for r in rs)
            cpu = statistics.median(r["cpu_us"] for r in rs)
            ratio_rps = f"{rps / base_rps:.2f}x" if base_rps else "-"
            ratio_cpu = f"{cpu / base_cpu:.2f}x" if base_cpu else "-"
            user = statistics.median(r["user_us"] for r in rs)
            kernel = statistics.median(r["cpu_us"] - r["user_us"] for r in rs)
            driver = "/".join(sorted({r["driver"] for r in rs if r.get("driver")})) or "-"
            lines.append(f"| {tname} | {tool} | {driver} | {rps:,.0f} | {cpu:.2f} | {user:.2f} | {kernel:.2f} | {ratio_rps} | {ratio_cpu} | "
                         f"{statistics.median(r['p50_us'] for r in rs):,.0f} | {statistics.median(r['p99_us'] for r in rs):,.0f} | "
                         f"{sum(r['errors'] for r in rs)} |")
    table = "\n".join(lines) + "\n"
    print(table)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(table)
    bad = [k for k, rs in runs.items() if k[1].startswith("mite") and any(r["errors"] for r in rs)]
    # A row labelled with a driver ran on it (monoio's io_uring asked for cannot fall back).
    bad += [k for k, rs in runs.items() if k[1].startswith("mite (io_uring") and any(r["driver"] != "io_uring" for r in rs)]
    if bad:
        print(f"mite-engine reported errors, or ran on another driver than its label, in {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
