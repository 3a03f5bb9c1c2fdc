# Shared by the memory benches: builds the release binaries, picks the engine (MITE_ENGINE=other/binary
# for an A/B), makes a work folder removed on exit, and starts the tools/ target on core 1.
# After `source benches/lib.sh`: $engine, $work, $url (the target's base URL, no trailing slash).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release -q -p mite-engine -p mite-tools
engine=${MITE_ENGINE:-target/release/mite-engine}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
ulimit -n 20000
taskset -c 1 target/release/mite-target --addr 127.0.0.1:0 --threads 1 >"$work/target.out" &
for _ in $(seq 50); do grep -q listening "$work/target.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*listening on //p' "$work/target.out")
[ -n "$url" ] || { echo "the tools/ target did not start: $(cat "$work/target.out")" >&2; exit 1; }
