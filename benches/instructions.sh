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
#   SIM=1 KEEP=1 benches/instructions.sh BIN     # with callgrind's cache and branch model; the
#                                                # core thread's cg.out kept (path printed)
#   MANGLED=1 KEEP=1 benches/instructions.sh BIN  # symbols left mangled in cg.out, as the
#                                                # linker names them (benches/symbol_order.sh)
# What is counted: the work of the injector core's thread inside its entry function (std's
# `__rust_begin_short_backtrace`, never inlined): pinning, building the runtime and ring, and
# `run_core`, in any build. `run_core` itself is inlined into that entry by LTO and PGO builds,
# so it cannot be the toggle. Each thread is written to its own file (`--separate-threads`);
# the core's is the one thread that ran monoio's code. Where `run_core` is still a function,
# its own inclusive count is printed beside (a few thousand instructions less in all: the
# thread's start and the pinning).
# `--tick 30s`: the core's per-tick work happens per second of the clock, and under callgrind
# on a loaded machine a second holds few requests, so with the default 1 s tick the count per
# request would grow with the load; and there a core starved of the CPU for 10 s past a 1 s
# tick's report was dropped from the run (exit 1).
#   CALLGRIND_ARGS=--dump-instr=yes …            # also per instruction (for benches/hot_lines.py)
#   DRIVER=own benches/instructions.sh BIN       # with `--driver own` (any --driver value)
set -euo pipefail
cd "$(dirname "$0")/.."
# Built only when used: the default binary, and the tools/ target where nginx is missing.
engine=${1:-target/release/mite-engine}
[ -n "${1:-}" ] || cargo build --release -q -p mite-engine
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
    cargo build --release -q -p mite-tools
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
[ -z "${SIM:-}" ] || sim=(--cache-sim=yes --branch-sim=yes)
[ -z "${MANGLED:-}" ] || sim+=(--demangle=no)
valgrind --tool=callgrind "${sim[@]}" ${CALLGRIND_ARGS:-} --separate-threads=yes "--toggle-collect=*__rust_begin_short_backtrace*" \
    --callgrind-out-file="$work/cg.out" "$engine" --cores 0-0 --tick 30s --scenario "$work/get.toml" \
    --config "target_url=http://127.0.0.1:$port/" --duration "$duration" ${DRIVER:+--driver "$DRIVER"} --quiet --json "$work/r.json" >/dev/null 2>&1
python3 - "$work" "$engine" "$target" "${KEEP:-}" <<'PY'
import glob, json, os, re, shutil, subprocess, sys
work, engine, target, keep = sys.argv[1:]
requests = json.load(open(f"{work}/r.json"))["totals"]["requests"]
# The core's thread: the one whose functions include monoio's or the own runtime's (a runtime
# runs on core threads only; --cores 0-0 starts one).
cores = []
for path in sorted(glob.glob(f"{work}/cg.out-*")):
    text = subprocess.run(["callgrind_annotate", "--auto=no", "--inclusive=yes", path], capture_output=True, text=True).stdout
    if re.search(r"^\s*[\d,]+ .*(monoio::|6monoio|driver::ring::|6driver4ring)", text, re.M):
        cores.append((path, text))
if len(cores) != 1:
    sys.exit(f"instructions.sh: expected one thread running the runtime (the injector core), found {len(cores)}")
path, text = cores[0]
total = int(re.search(r"^\s*([\d,]+) .*PROGRAM TOTALS", text, re.M).group(1).replace(",", ""))
run_core = [int(m.group(1).replace(",", ""))
            for m in re.finditer(r"^\s*([\d,]+) .*(core_loop::run_core|9core_loop8run_core17h\w+E)( \[.*)?$", text, re.M)]
beside = f" (run_core alone: {max(run_core) / requests:,.0f})" if run_core else " (run_core inlined)"
print(f"{engine} against {target}: {requests} requests, {total / requests:,.0f} instructions per request on the injector's core{beside}")
if keep:
    shutil.copy(path, f"{work}/cg.out")
    print(f"the core thread's profile: {work}/cg.out")
PY
