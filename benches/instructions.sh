#!/usr/bin/env bash
# User-space instructions per request, counted by callgrind: the injector core's thread, one
# declarative GET journey per connection (64), 4 s against nginx (one worker, core 1) when it is
# installed, else the tools/ target. Instruction counts do not depend on what else the machine
# does, so an A/B of two builds is meaningful on a busy machine where CPU times are not.
#   benches/instructions.sh                      # target/release/mite-engine
#   benches/instructions.sh /tmp/other-build     # A/B: run it for each binary
#   REQUESTS=6000 benches/instructions.sh BIN    # exactly 6,000 requests (a single-use pool of
#                                                # that many rows): every build's start-up and
#                                                # stop work is spread over the same count
#   SIM=1 KEEP=1 benches/instructions.sh BIN     # with callgrind's cache and branch model (the
#                                                # core loop's work only), cg.out kept
#   CALLGRIND_ARGS=--dump-instr=yes …            # also per instruction (for benches/hot_lines.py)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p mite-engine -p mite-tools
engine=${1:-target/release/mite-engine}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    python3 - "$work" "$port" <<'PY'
import sys
sys.path.insert(0, "benches")
import harness
work, port = sys.argv[1], int(sys.argv[2])
open(f"{work}/nginx.conf", "w").write(harness.NGINX_CONF.format(mask="10", dir=work, port=port))
PY
    taskset -c 1 "$nginx" -c "$work/nginx.conf" -p "$work" >/dev/null 2>&1 &
    target=nginx
else
    taskset -c 1 target/release/mite-target --addr "127.0.0.1:$port" --threads 1 >/dev/null 2>&1 &
    target=mite-target
fi
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
python3 - "$work" <<'PY'
import sys
sys.path.insert(0, "benches")
import harness
open(f"{sys.argv[1]}/get.toml", "w").write(harness.DECLARATIVE.format(conns=64))
PY
duration=4s
if [ -n "${REQUESTS:-}" ]; then
    # The same journey, each run taking a row of a single-use pool: the run ends with the pool.
    sed -i "s/^\[journeys.get\]/[datapools.n]\nrange = { from = 1, to = $REQUESTS }\ncolumn = \"n\"\nrecyclable = false\n&/; s/^journey = \"get\"/&\ndatapool = \"n\"/" "$work/get.toml"
    duration=600s
fi
sim=()
# With the cache model, the core loop's thread only (its functions' counts per request, as
# benches/cycles.sh collects them).
[ -z "${SIM:-}" ] || sim=(--cache-sim=yes --branch-sim=yes "--toggle-collect=*core_loop::run_core*")
valgrind --tool=callgrind "${sim[@]}" ${CALLGRIND_ARGS:-} --callgrind-out-file="$work/cg.out" "$engine" --cores 0-0 --scenario "$work/get.toml" \
    --config "target_url=http://127.0.0.1:$port/" --duration "$duration" --quiet --json "$work/r.json" >/dev/null 2>&1
python3 - "$work" "$engine" "$target" <<'PY'
import json, re, subprocess, sys
work, engine, target = sys.argv[1:]
requests = json.load(open(f"{work}/r.json"))["totals"]["requests"]
text = subprocess.run(["callgrind_annotate", "--inclusive=yes", f"{work}/cg.out"], capture_output=True, text=True).stdout
# The core thread's whole work: the largest inclusive count of a line naming run_core itself.
core = max(int(m.group(1).replace(",", ""))
           for m in re.finditer(r"^\s*([\d,]+) .*core_loop::run_core( \[.*)?$", text, re.M))
print(f"{engine} against {target}: {requests} requests, {core / requests:,.0f} instructions per request on the injector's core")
PY
