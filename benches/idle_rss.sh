#!/usr/bin/env bash
# Memory per idle keep-alive connection: N journeys, each a GET then 5 s of think time, so the
# connections sit idle almost all the time. The engine (core 0) runs against the tools/ target
# (core 1); RSS is read from /proc after the ramp, while the connections are idle.
#   benches/idle_rss.sh 1000 10000 19000
source "$(dirname "$0")/lib.sh"  # $engine (MITE_ENGINE=other/binary for an A/B), $work, $url
echo "| connections | RSS after the ramp | RSS at 0 connections | per connection |"
echo "|---:|---:|---:|---:|"
rss_of() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
for n in 0 "$@"; do
    cat >"$work/idle.toml" <<TOML
name = "idle"
[journeys.idle]
steps = [{ transaction = "get", url = "$url/", think = "5s" }]
[[scenario]]
journey = "idle"
volume = { stages = [{ ramp = { from = 0, to = $n, duration = "8s" } }, { constant = $n, duration = "30s" }] }
TOML
    taskset -c 0 "$engine" --scenario "$work/idle.toml" --duration 14s --tick 100ms --quiet >/dev/null 2>&1 &
    pid=$!
    sleep 12
    rss=$(rss_of $pid)
    wait $pid || true
    if [ "$n" = 0 ]; then base=$rss; continue; fi
    echo "| $n | $((rss / 1024)) MiB | $((base / 1024)) MiB | $(( (rss - base) * 1024 / n )) bytes |"
done
