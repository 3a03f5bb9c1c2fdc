#!/usr/bin/env bash
# System calls and io_uring work per request, counted by the kernel's tracepoints (perf stat):
# the injector on core 0 (one declarative GET journey per connection, 64), or wrk on core 0 with
# the same connections, against nginx (one worker, core 1), for a few seconds.
#   benches/syscalls.sh                         # target/release/mite-engine
#   benches/syscalls.sh /tmp/other-build        # A/B: run it for each binary
#   benches/syscalls.sh wrk                     # wrk's figures, for comparison
#   DRIVER=epoll benches/syscalls.sh BIN        # the epoll driver
#   KERNEL=1 benches/syscalls.sh BIN            # also where the kernel time goes: a second run
#                                               # under perf record -g, the kernel functions'
#                                               # inclusive shares of all the run's samples
# Counts (not times), so the machine's load matters little; the per-request figures include the
# run's start and stop, spread over the run's requests.
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${1:-target/release/mite-engine}
seconds=${SECONDS_RUN:-4}
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is needed (apt-get install nginx-light)" >&2; exit 2; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
source benches/nginx_get.sh
events=task-clock,raw_syscalls:sys_enter,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_writev
events+=,io_uring:io_uring_submit_req,io_uring:io_uring_complete,io_uring:io_uring_poll_arm,io_uring:io_uring_local_work_run,io_uring:io_uring_cqring_wait,io_uring:io_uring_task_add,io_uring:io_uring_queue_async_work,sock:sock_recv_length,sock:sock_send_length
# The load under `perf "$@"`, its request count in $requests.
load() {
    if [ "$engine" = wrk ]; then
        perf "$@" -- taskset -c 0 wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$port/" >"$work/out" 2>&1
        requests=$(grep -oE '^ *[0-9]+ requests in' "$work/out" | grep -oE '[0-9]+')
    else
        perf "$@" -- "$engine" --cores 0-0 --scenario "$work/get.toml" --driver "${DRIVER:-auto}" \
            --config "target_url=http://127.0.0.1:$port/" --duration "${seconds}s" --quiet --json "$work/r.json" >"$work/out" 2>&1
        requests=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["requests"])' "$work/r.json")
    fi
}
if [ -n "${KERNEL:-}" ]; then
    load record -q -g -o "$work/perf.data"
    echo "$engine under perf record: $requests requests; kernel functions by inclusive share of the run's samples:"
    perf report -i "$work/perf.data" --children --sort sym -q -g none 2>/dev/null | awk -v n="${TOP:-40}" '/\[k\]/ && c++ < n'
fi
load stat -x, -o "$work/stat" -e "$events"
python3 - "$work/stat" "$requests" "$engine" <<'PY'
import sys
stat, requests, engine = sys.argv[1], int(sys.argv[2]), sys.argv[3]
counts = {}
for line in open(stat):
    parts = line.strip().split(",")
    if len(parts) > 2 and parts[0].replace(".", "").isdigit():
        counts[parts[2]] = int(float(parts[0]))
print(f"{engine}: {requests} requests; per request:")
for name, n in counts.items():
    if name == "task-clock":
        print(f"  {n * 1000 / requests:8.3f}  µs of CPU (task-clock, user and kernel; the machine's load and the tracepoints add to it)")
    elif n:
        print(f"  {n / requests:8.3f}  {name}")
enters = counts.get("syscalls:sys_enter_io_uring_enter", 0)
if enters:
    print(f"  per io_uring_enter: {counts.get('io_uring:io_uring_submit_req', 0) / enters:.2f} SQEs submitted, "
          f"{counts.get('io_uring:io_uring_complete', 0) / enters:.2f} completions")
PY
