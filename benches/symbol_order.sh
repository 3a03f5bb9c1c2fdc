#!/usr/bin/env bash
# A link-time function order for the request path: the functions the injector core runs per
# request, hottest first, as lld's `--symbol-ordering-file` takes them (mangled names).
#   benches/symbol_order.sh BIN OUT           # write OUT from a callgrind run of BIN
#                                             # (benches/instructions.sh's plain GET, 6,000
#                                             # requests against nginx)
#   benches/symbol_order.sh --check OUT BIN   # how many of OUT's names BIN defines; exit 1
#                                             # when any is missing (the order is stale)
# Then link with it (only the binary's crate is rebuilt):
#   cargo rustc --release -p mite-engine --bin mite-engine -- \
#       -C link-arg=-Wl,--symbol-ordering-file=$PWD/OUT
# A name is kept when the core ran at least MIN_IR (default 1) of its own instructions a request
# and BIN defines it (the C library's are not ours to place). Legacy-mangled names end in a hash
# of the crate's build settings and the item's types: a change of profile, of a dependency's
# version or of a generic's arguments renames them, and lld skips (and warns of) a name it does
# not find. See benches/README.md ("the release build's code layout").
set -euo pipefail
cd "$(dirname "$0")/.."

defined() { # defined BIN: the names BIN's symbol table defines (text symbols), one a line
    nm --defined-only "$1" | awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u
}

if [ "${1:-}" = --check ]; then
    [ $# -eq 3 ] || { echo "usage: $0 --check ORDER_FILE BIN" >&2; exit 2; }
    order=$2 bin=$3
    total=$(grep -c . "$order" || true)
    missing=$(comm -23 <(grep . "$order" | sort -u) <(defined "$bin") | wc -l)
    echo "$order: $((total - missing)) of $total names defined in $bin"
    if [ "$missing" -gt 0 ]; then
        echo "$order is stale for $bin ($missing names missing): regenerate it with $0 $bin $order" >&2
        exit 1
    fi
    exit 0
fi

[ $# -eq 2 ] || { echo "usage: $0 BIN ORDER_FILE | $0 --check ORDER_FILE BIN" >&2; exit 2; }
bin=$1 out=$2
requests=${REQUESTS:-6000}
log=$(MANGLED=1 KEEP=1 REQUESTS=$requests benches/instructions.sh "$bin")
echo "$log"
cg=$(sed -n "s/^the core thread's profile: //p" <<<"$log")
[ -f "$cg" ] || { echo "symbol_order.sh: no profile from benches/instructions.sh" >&2; exit 1; }
trap 'rm -rf "$(dirname "$cg")"' EXIT
python3 - "$cg" "$requests" "${MIN_IR:-1}" "$out" <(defined "$bin") <<'PY'
import re, subprocess, sys
cg, requests, min_ir, out, defined = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
names = set(open(defined).read().split())
text = subprocess.run(["callgrind_annotate", "--auto=no", "--inclusive=no", "--threshold=100", cg],
                      capture_output=True, text=True, check=True).stdout
own = {}
for m in re.finditer(r"^\s*([\d,]+) \([^)]*\)\s+(\S+?)(?: \[.*\])?$", text, re.M):
    name = m.group(2).rsplit(":", 1)[-1]
    if name in names:
        own[name] = own.get(name, 0) + int(m.group(1).replace(",", ""))
hot = sorted((n for n, ir in own.items() if ir >= min_ir * requests), key=lambda n: -own[n])
if not hot:
    sys.exit("symbol_order.sh: no function of the binary ran per request")
open(out, "w").write("".join(n + "\n" for n in hot))
print(f"{out}: {len(hot)} functions, {sum(own[n] for n in hot) / requests:,.0f} of their own instructions a request")
PY
