#!/usr/bin/env bash
# RSS over a long run: mite-engine against the tools/ target for DURATION, RSS sampled every
# INTERVAL seconds from /proc. Not run in CI.
#   benches/soak.sh 600 30 256    # 10 minutes, every 30 s, 256 journeys in flight
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-600}
every=${2:-30}
journeys=${3:-256}
cargo build --release -q -p mite-engine -p mite-tools
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c 1 target/release/mite-target --addr "127.0.0.1:$port" >/dev/null 2>&1 &
target=$!
trap 'kill $target 2>/dev/null || true' EXIT
sleep 0.5
target/release/mite-engine --cores 0-0 --scenario http_example:scenario --config "target_url=http://127.0.0.1:$port/" \
    --config "journeys=$journeys" --duration "${duration}s" --json target/soak.json -q &
engine=$!
echo "elapsed_s rss_kib"
start=$(date +%s)
while kill -0 $engine 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$engine/status 2>/dev/null || true)
    [ -n "$rss" ] && echo "$(( $(date +%s) - start )) $rss"
    sleep "$every"
done
wait $engine
python3 -c 'import json; t=json.load(open("target/soak.json"))["totals"]; print("requests", t["requests"], "errors", t["errors"], "rps", t["rps"])'
