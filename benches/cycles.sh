#!/usr/bin/env bash
# Where the injector core's user-space time goes, beside where its instructions go: the same
# declarative GET as benches/instructions.sh (64 connections, nginx one worker on core 1, the
# injector's core on core 0), run twice: once under `perf record` (cycles:u where the PMU offers
# them; else cpu-clock:u, a timer's samples of user-space time, which is what a VM without a
# PMU gives), once under callgrind (instructions, and with SIM=1 its cache and branch
# simulation). Prints, per function (self, not inclusive), its share of the core thread's
# samples and of its instructions, and both per request.
#   benches/cycles.sh                      # target/release/mite-engine
#   benches/cycles.sh /tmp/other-build     # another build
#   DURATION=8s TOP=40 KEEP=1 SIM=1 benches/cycles.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p mite-engine
engine=${1:-target/release/mite-engine}
duration=${DURATION:-6s}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
command -v perf >/dev/null || { echo "perf is not installed" >&2; exit 1; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx is not installed (apt-get install nginx-light)" >&2; exit 1; }
source benches/nginx_get.sh
run=("$engine" --cores 0-0 --scenario "$work/get.toml" --config "target_url=http://127.0.0.1:$port/" --quiet)
# cycles:u where the PMU counts them; on a VM without one, cpu-clock:u (every 50 µs of CPU time).
if perf stat -x, -e cycles:u true 2>&1 | grep -q "not supported"; then
    event=(-e cpu-clock:u -c 50000); period_ns=50000
else
    event=(-e cycles:u -F 20000); period_ns=0
fi
perf record -q "${event[@]}" -o "$work/perf.data" -- "${run[@]}" --duration "$duration" --json "$work/perf.json" >/dev/null 2>&1
perf report -i "$work/perf.data" --no-children --comm mite-core-0 --sort symbol -F overhead,sample,sym \
    --stdio -q 2>/dev/null >"$work/perf.txt"
sim=()
[ -z "${SIM:-}" ] || sim=(--cache-sim=yes --branch-sim=yes)
valgrind --tool=callgrind "${sim[@]}" --toggle-collect=*core_loop::run_core* --callgrind-out-file="$work/cg.out" "${run[@]}" --duration 4s \
    --json "$work/cg.json" >/dev/null 2>&1
callgrind_annotate --auto=no --threshold=100 "$work/cg.out" >"$work/cg.txt"
python3 - "$work" "$engine" "${event[1]}" "$period_ns" "${TOP:-30}" <<'PY'
import collections, json, re, sys
work, engine, event, period_ns, top = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
requests = lambda f: json.load(open(f"{work}/{f}"))["totals"]["requests"]
perf_requests, cg_requests = requests("perf.json"), requests("cg.json")
def short(name):
    # Both tools' names for one function: no crate hash, no `[binary]` suffix.
    return re.sub(r"::h[0-9a-f]{16}$", "", name.strip().split(" [")[0].strip())
samples = collections.Counter()
for line in open(f"{work}/perf.txt"):
    m = re.match(r"\s*([\d.]+)%\s+(\d+)\s+\[\.\]\s+(.*?)(?:\s+-\s+-)?\s*$", line)
    if m:
        samples[short(m.group(3))] += int(m.group(2))
# callgrind_annotate's self counts are per file:function (a function's inlined parts under their
# files): summed per function. Events: Ir, then with SIM=1 the cache and branch columns.
text = open(f"{work}/cg.txt").read()
events = re.search(r"^Events shown:\s+(.*)$", text, re.M).group(1).split()
counts = collections.defaultdict(lambda: [0] * len(events))
value = re.compile(r"\s*(?:([\d,]+)(?: \(\s*[\d.]+%\))?|(\.))(?=\s)")
for line in text.split("Auto-annotation")[-1].splitlines():
    values, at = [], 0
    while len(values) < len(events) and (m := value.match(line, at)):
        values.append(int(m.group(1).replace(",", "")) if m.group(1) else 0)
        at = m.end()
    rest = line[at:].strip()
    if len(values) != len(events) or ":" not in rest or "PROGRAM TOTALS" in rest:
        continue
    name = short(rest.split(":", 1)[1])
    for i, v in enumerate(values):
        counts[name][i] += v
core_samples = sum(samples.values())
core_ir = sum(c[0] for c in counts.values())
print(f"{engine}: {event} {core_samples} samples on mite-core-0, {perf_requests} requests; "
      f"callgrind {core_ir / cg_requests:,.0f} instructions a request (run_core), {cg_requests} requests")
cols = "| function | time % | instr % | time/instr | ns/req | instr/req |"
extra = [e for e in ("I1mr", "D1mr", "D1mw", "DLmr", "Bcm", "Bim") if e in events]
print(cols + "".join(f" {e}/req |" for e in extra))
print("|---|---:|---:|---:|---:|---:|" + "---:|" * len(extra))
names = sorted(set(samples) | set(counts), key=lambda n: -samples.get(n, 0))
for name in names[:top]:
    s, c = samples.get(name, 0), counts.get(name, [0] * len(events))
    ts, ins = 100 * s / core_samples, 100 * c[0] / core_ir
    ns = f"{s * period_ns / perf_requests:,.0f}" if period_ns else "-"
    ratio = f"{ts / ins:.2f}" if ins else "-"
    row = f"| `{name[:140]}` | {ts:.1f} | {ins:.1f} | {ratio} | {ns} | {c[0] / cg_requests:,.0f} |"
    print(row + "".join(f" {c[events.index(e)] / cg_requests:.1f} |" for e in extra))
PY
