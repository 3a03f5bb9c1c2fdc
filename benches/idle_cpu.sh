#!/usr/bin/env bash
# The injector core's CPU while its journeys think: N journeys (closed model), each a GET then
# $THINK (default 5s) of think time, against the tools/ target (core 1); the engine on core 0.
# Prints the core thread's user + system CPU time over 10 s once every journey has started
# (from /proc/PID/task/TID/stat), and the whole process's. A core that spun while idle would
# use most of the 10 s. The driver: MITE_DRIVER=own (or io_uring, epoll) stands in for `auto`.
#   MITE_DRIVER=own benches/idle_cpu.sh 1 1000
source "$(dirname "$0")/lib.sh"  # $engine (MITE_ENGINE=other/binary for an A/B), $work, $url
think=${THINK:-5s}
tick=$(getconf CLK_TCK)
cpu_of() { awk -v tick="$tick" '{ print ($14 + $15) * 1000 / tick }' "$1"; }
echo "| journeys | think | core thread CPU over 10 s | process CPU over 10 s |"
echo "|---:|---:|---:|---:|"
for n in "$@"; do
    cat >"$work/think.toml" <<TOML
name = "think"
[journeys.think]
steps = [{ transaction = "get", url = "$url/", think = "$think" }]
[[scenario]]
journey = "think"
volume = { stages = [{ ramp = { from = 0, to = $n, duration = "1s" } }, { constant = $n, duration = "30s" }] }
TOML
    taskset -c 0 "$engine" --scenario "$work/think.toml" --duration 16s --tick 100ms --quiet >/dev/null 2>&1 &
    pid=$!
    sleep 4
    core=$(grep -l '^mite-core-0$' /proc/$pid/task/*/comm | head -1)
    core=$(dirname "$core")
    c0=$(cpu_of "$core/stat"); p0=$(cpu_of "/proc/$pid/stat")
    sleep 10
    c1=$(cpu_of "$core/stat"); p1=$(cpu_of "/proc/$pid/stat")
    wait $pid || true
    echo "| $n | $think | $((c1 - c0)) ms | $((p1 - p0)) ms |"
done
