#!/usr/bin/env bash
# CPU per request of two builds, A B B A interleaved (the order rotates: a run right after
# another is not always the same build's), against nginx (one worker, core 1), the injector on
# core 0, one declarative GET journey per connection (64), 3 s a run; user, system and both in
# µs a request from the run's own getrusage, medians and the range of both.
#   benches/ab_cpu.sh BIN_A BIN_B [ROUNDS]     # ROUNDS of A B B A (default 3: 6 runs each)
# On this project's VM one run's CPU a request moves by ±10 % between runs of one build, and a
# fixed order (A then B, every round) showed the second build 15-20 % worse where rotating showed
# them equal: only a rotated order is trusted here.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: benches/ab_cpu.sh BIN_A BIN_B [ROUNDS]" >&2; exit 2; }
a=$1 b=$2 rounds=${3:-3}
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is needed (apt-get install nginx-light)" >&2; exit 2; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
source benches/nginx_get.sh
for _ in $(seq "$rounds"); do
    for bin in "$a" "$b" "$b" "$a"; do
        /usr/bin/time -f "%U %S" -o "$work/time" taskset -c 0 "$bin" --cores 0-0 --scenario "$work/get.toml" \
            --config "target_url=http://127.0.0.1:$port/" --duration 3s --quiet --json "$work/r.json" >/dev/null 2>&1
        python3 - "$bin" "$work" >>"$work/runs" <<'PY'
import json, sys
bin, work = sys.argv[1:]
requests = json.load(open(f"{work}/r.json"))["totals"]["requests"]
user, system = map(float, open(f"{work}/time").read().split())
print(bin, requests, user * 1e6 / requests, system * 1e6 / requests)
PY
    done
done
python3 - "$work/runs" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    bin, requests, user, system = line.split()
    runs.setdefault(bin, []).append((float(user), float(system), int(requests)))
for bin, rows in runs.items():
    cpu = [u + s for u, s, _ in rows]
    print(f"{bin}: {len(rows)} runs, µs a request: user {statistics.median(u for u, _, _ in rows):.2f}, "
          f"system {statistics.median(s for _, s, _ in rows):.2f}, CPU {statistics.median(cpu):.2f} "
          f"({min(cpu):.2f}-{max(cpu):.2f}); requests a run {statistics.median(r for _, _, r in rows):,.0f}")
PY
