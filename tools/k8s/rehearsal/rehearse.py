#!/usr/bin/env python3
"""Rehearses the Kubernetes Indexed Job path on one machine.

Starts N injector processes exactly as tools/k8s/indexed-job.yaml would (its container args,
JOB_COMPLETION_INDEX, --segments N, --start-at a few seconds ahead, stdout and stderr
interleaved into one log per pod as `kubectl logs` shows them), sends SIGTERM to one of them
mid-run (what pod deletion, a node drain or activeDeadlineSeconds do), runs tools/k8s/collect.sh
against a stand-in kubectl that reads this rehearsal's pods and logs, and checks:

  * the merged total equals the target's own count of requests,
  * the SIGTERMed segment is marked interrupted in the merged result, the others are not,
  * every row of the single-use datapool was used at most once across all segments,
  * collect named the interrupted pod and exited non-zero.

The target is a small HTTP server in this script that records every path it serves.

  python3 tools/k8s/rehearsal/rehearse.py --engine target/debug/mite-engine [--segments 3]

Exit 0 when every check holds; 1 (with the failed checks) otherwise.
"""

import argparse
import http.server
import json
import os
import re
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
K8S = os.path.dirname(HERE)
ROWS = 100_000


class Target(http.server.BaseHTTPRequestHandler):
    """Answers every GET with 200 and counts each path."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    hits = Counter()
    lock = threading.Lock()

    def do_GET(self):  # noqa: N802 (the standard library's name)
        with Target.lock:
            Target.hits[self.path] += 1
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def manifest_args(path):
    """The container args of the Job in the manifest (a list of `--flag=value` strings)."""
    args, inside = [], False
    for line in open(path, encoding="utf-8"):
        stripped = line.strip()
        if stripped == "args:":
            inside = True
            continue
        if inside:
            if stripped.startswith("- "):
                args.append(stripped[2:].strip().strip('"'))
            else:
                break
    if not args:
        sys.exit(f"rehearse: no container args found in {path}")
    return args


def manifest_profile(path):
    """The file name of the Localhost seccomp profile the manifest names."""
    match = re.search(r"localhostProfile:\s*(\S+)", open(path, encoding="utf-8").read())
    if not match:
        sys.exit(f"rehearse: {path} names no Localhost seccomp profile")
    return os.path.basename(match.group(1))


def job_count(path):
    text = open(path, encoding="utf-8").read()
    return int(re.search(r"^\s*completions:\s*(\d+)", text, re.M).group(1))


def local_args(args, scenario, start_at, segments):
    """The manifest's args, with what must differ on one machine (each change said)."""
    changes = {
        "--cores": ("1", "one core each: N injectors share this machine"),
        "--scenario": (scenario, "the scenario file written by this rehearsal"),
        "--start-at": (start_at, "a few seconds ahead, as the manifest's __START_AT__"),
        "--prometheus": ("127.0.0.1:0", "an ephemeral port each (one node per pod in the cluster)"),
        "--prometheus-linger": ("1s", "no scraper here"),
        "--segments": (str(segments), "as many as injectors"),
    }
    out = []
    for arg in args:
        flag, _, value = arg.partition("=")
        if flag in changes:
            new, why = changes.pop(flag)
            if new != value:
                print(f"rehearse:   {flag}={value} -> {new} ({why})")
            out.append(f"{flag}={new}")
        else:
            out.append(arg)
    for flag, (new, why) in changes.items():
        if flag not in ("--prometheus", "--prometheus-linger"):
            sys.exit(f"rehearse: the manifest's args lack {flag}")
    out.append("--no-pin")
    print("rehearse:   + --no-pin (cores are shared here)")
    return out


SCENARIO = """name = "rehearsal"
duration = "{duration}"
[config]
base = "{base}"
[datapools.rows]
range = {{ from = 1, to = {rows} }}
column = "id"
recyclable = false
[journeys.get]
steps = [{{ transaction = "get_row", url = "{{base}}/row/{{id}}", think = "5ms" }}]
[[scenario]]
journey = "get"
datapool = "rows"
volume = {{ constant = {journeys} }}
"""


def write_pods(cluster, procs, job):
    """The pods as collect.sh's jsonpath prints them, and the Job's conditions."""
    lines, done, failed = [], 0, 0
    for index, proc in enumerate(procs):
        code = proc.poll()
        if code is None:
            phase, exit_code, reason = "Running", "", ""
        else:
            done += 1
            # A process killed by signal S exits 128 + S in a container.
            code = 128 - code if code < 0 else code
            phase, exit_code = ("Succeeded", "0") if code == 0 else ("Failed", str(code))
            reason = "Completed" if code == 0 else "Error"
            failed += code != 0
        lines.append(f"{job}-{index}-pod|{index}|{phase}||{exit_code}|{reason}|Scheduled|\n")
    with open(os.path.join(cluster, "pods.tmp"), "w") as f:
        f.writelines(lines)
    os.replace(os.path.join(cluster, "pods.tmp"), os.path.join(cluster, "pods"))
    # backoffLimitPerIndex: 0 -- the Job fails only once every index has finished.
    conditions = ""
    if done == len(procs):
        conditions = "Failed=True\n" if failed else "Complete=True\n"
    with open(os.path.join(cluster, "job-conditions.tmp"), "w") as f:
        f.write(conditions)
    os.replace(os.path.join(cluster, "job-conditions.tmp"), os.path.join(cluster, "job-conditions"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", required=True, help="the mite-engine binary")
    parser.add_argument("--manifest", default=os.path.join(K8S, "indexed-job.yaml"))
    parser.add_argument("--segments", type=int, help="injectors (default: the manifest's completions)")
    parser.add_argument("--terminate", type=int, default=1, help="index to SIGTERM mid-run")
    parser.add_argument("--duration", type=float, default=6.0, help="run length, seconds")
    parser.add_argument("--workdir", help="where logs go (default: a new temporary directory)")
    parser.add_argument(
        "--seccomp",
        metavar="MITE_SECCOMP",
        help="run each injector under the manifest's Localhost profile, installed by this mite-seccomp binary",
    )
    opts = parser.parse_args()
    for flag, path, package in (("--engine", opts.engine, "mite-engine"), ("--seccomp", opts.seccomp, "mite-seccomp")):
        if path is not None and not (os.path.isfile(path) and os.access(path, os.X_OK)):
            sys.exit(f"rehearse: {flag} {path}: not an executable file (build it: cargo build -p {package})")
    segments = opts.segments or job_count(opts.manifest)
    if not 0 <= opts.terminate < segments:
        sys.exit(f"rehearse: --terminate {opts.terminate} is not an index of {segments} segments")
    work = opts.workdir or tempfile.mkdtemp(prefix="mite-rehearsal-")
    cluster = os.path.join(work, "cluster")
    os.makedirs(os.path.join(cluster, "logs"), exist_ok=True)
    job = "mite-rehearsal"

    server = Server(("127.0.0.1", 0), Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    scenario = os.path.join(work, "rehearsal.toml")
    with open(scenario, "w") as f:
        f.write(SCENARIO.format(duration=f"{opts.duration}s", base=base, rows=ROWS, journeys=2 * segments))
    start = time.time() + 3
    start_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(start) + 1))
    print(f"rehearse: {segments} injectors from {opts.manifest}, start at {start_at}, target {base}")
    args = local_args(manifest_args(opts.manifest), scenario, start_at, segments)
    print("rehearse: args " + " ".join(args))

    wrap = []
    if opts.seccomp:
        profile = os.path.join(K8S, manifest_profile(opts.manifest))
        wrap = [opts.seccomp, profile, "--"]
        print(f"rehearse: each injector under the seccomp profile {profile}")
    procs = []
    for index in range(segments):
        log = open(os.path.join(cluster, "logs", f"{job}-{index}-pod.log"), "wb")
        env = dict(os.environ, JOB_COMPLETION_INDEX=str(index))
        env.pop("MITE_DRIVER", None)  # the manifest's args decide, as in the pod: the default driver
        procs.append(subprocess.Popen([*wrap, opts.engine, *args], env=env, stdout=log, stderr=subprocess.STDOUT))
    write_pods(cluster, procs, job)
    collect_env = dict(
        os.environ,
        KUBECTL=os.path.join(HERE, "kubectl"),
        FAKE_CLUSTER=cluster,
        MITE_ENGINE=opts.engine,
        POLL_S="1",
        TIMEOUT_S=str(int(opts.duration + 60)),
    )
    merged_path = os.path.join(work, "merged.json")
    collect = subprocess.Popen(
        ["bash", os.path.join(K8S, "collect.sh"), job, merged_path],
        env=collect_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # SIGTERM one injector half-way through its run.
    time.sleep(max(0.0, int(start) + 1 - time.time()) + opts.duration / 2)
    procs[opts.terminate].send_signal(signal.SIGTERM)
    print(f"rehearse: SIGTERM to index {opts.terminate} at {opts.duration / 2:.1f}s into the run")
    deadline = time.time() + opts.duration + 60
    while any(p.poll() is None for p in procs) and time.time() < deadline:
        write_pods(cluster, procs, job)
        time.sleep(0.2)
    for p in procs:
        if p.poll() is None:
            p.kill()
    write_pods(cluster, procs, job)
    collect_out, _ = collect.communicate(timeout=120)
    server.shutdown()
    print("rehearse: exit codes " + ", ".join(f"{i}: {p.returncode}" for i, p in enumerate(procs)))
    print("rehearse: collect.sh said:\n" + "\n".join("    " + l for l in collect_out.splitlines()))
    return check(work, job, opts.terminate, collect.returncode, collect_out, merged_path, segments, opts.seccomp)


def check(work, job, terminated, collect_code, collect_out, merged_path, segments, seccomp):
    failures = []

    def expect(ok, what):
        print(f"rehearse: {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    expect(collect_code == 1, f"collect exits 1 when a segment was interrupted (got {collect_code})")
    expect(f"{job}-{terminated}-pod (index {terminated}) failed: interrupted" in collect_out,
           "collect names the interrupted pod and why")
    expect("waiting for the others" in collect_out, "collect said so while the others still ran")
    merged = json.load(open(merged_path)) if os.path.exists(merged_path) else None
    expect(merged is not None, "collect wrote the merged result")
    hits = sum(Target.hits.values())
    rows = Counter()
    for path, count in Target.hits.items():
        rows[path] += count
    if merged:
        requests = merged["totals"]["requests"]
        expect(requests == hits, f"merged requests {requests} == the target's count {hits}")
        expect(merged["totals"]["errors"] == merged["totals"]["errors_by_kind"].get("cancelled", 0),
               f"no errors but requests cancelled by the stop ({merged['totals']['errors_by_kind']})")
        interrupted = f"{terminated}/{segments}"
        expect(merged["stopped_by"] == "interrupted", "the merged result is marked interrupted")
        expect(merged.get("interrupted_segments") == [interrupted],
               f"the interrupted segment is {interrupted} (got {merged.get('interrupted_segments')})")
        parts = {p["segment"]: p for p in merged.get("parts", [])}
        expect(sorted(parts) == [f"{k}/{segments}" for k in range(segments)], f"all {segments} segments merged")
        for k in range(segments):
            part = parts.get(f"{k}/{segments}", {})
            want = "interrupted" if k == terminated else "duration"
            expect(part.get("stopped_by") == want, f"segment {k}/{segments} stopped by {want} ({part.get('stopped_by')})")
            expect((part.get("requests") or 0) > 0, f"segment {k}/{segments} sent requests")
    if merged and seccomp:
        drivers = {p.get("driver") for p in merged.get("parts", [])}
        expect(drivers == {"own"}, f"every injector ran the own io_uring runtime under the profile ({drivers})")
    reused = {p: c for p, c in rows.items() if c > 1}
    expect(hits > 0 and not reused, f"each of {len(rows)} rows used at most once across segments (reused: {list(reused)[:5]})")
    expect(all(p.startswith("/row/") for p in rows), "every request named a row")
    print(f"rehearse: logs and results in {work}")
    if failures:
        print(f"rehearse: {len(failures)} checks failed")
        return 1
    print("rehearse: every check held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
