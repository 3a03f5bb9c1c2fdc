#!/usr/bin/env bash
# Waits for a mite-engine Indexed Job to finish, gathers each pod's result from its log (each
# pod prints its result framed on stdout with --json=-, among its other log lines), and merges
# them into one result with exact percentiles.
#
#   tools/k8s/collect.sh JOB_NAME [OUTPUT.json]
#
# Environment: NAMESPACE (default: kubectl's current), TIMEOUT_S (how long to wait for the Job,
# default 86400), POLL_S (default 5), UNSCHEDULABLE_S (how long a pod may stay unschedulable,
# default 300), KUBECTL and MITE_ENGINE (the commands to use).
#
# Fails fast, naming the pods and why, when the Job cannot finish (image not pulled, seccomp
# profile missing on the node, container config error, unschedulable) or when it failed.
# The thresholds the pods were given are stored in their results and judged by `merge` on the
# merged figures (a segment judges only its percentiles and error percentages: its counts and
# rates are a share); a pod that exited 3 (a threshold failed on its segment) wrote its result.
# Exit, merge's verdict: 0 every segment's result was merged and every threshold passed; 3 a
# threshold failed on the merged result; 1 an error: the Job could not finish, a pod failed
# otherwise or was interrupted, a result is missing (what was found is still merged, and each
# problem is named), or merging failed; 2 usage.
set -uo pipefail

job=${1:-}
if [[ -z "$job" || "$job" == -* ]]; then
    echo "usage: collect.sh JOB_NAME [OUTPUT.json]" >&2
    exit 2
fi
out=${2:-$job-merged.json}
kubectl=${KUBECTL:-kubectl}
engine=${MITE_ENGINE:-mite-engine}
timeout_s=${TIMEOUT_S:-86400}
poll_s=${POLL_S:-5}
unschedulable_s=${UNSCHEDULABLE_S:-300}
ns=()
[[ -n "${NAMESPACE:-}" ]] && ns=(--namespace "$NAMESPACE")

# Both commands are needed, the engine only at the end: a missing one is said before the wait.
for tool in "KUBECTL:$kubectl:kubectl pointed at the cluster" "MITE_ENGINE:$engine:the mite-engine binary, e.g. target/release/mite-engine"; do
    IFS=: read -r variable command what <<<"$tool"
    if ! command -v "$command" >/dev/null; then
        echo "collect: $command not found: put it on PATH or set $variable to $what" >&2
        exit 1
    fi
done

# One line per pod, fields separated by |: name, completion index, phase, waiting reason, exit code, terminated
# reason, scheduling condition reason, waiting message (last: it may hold spaces).
pods_jsonpath='{range .items[*]}{.metadata.name}{"|"}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}{"|"}{.status.phase}{"|"}{.status.containerStatuses[0].state.waiting.reason}{"|"}{.status.containerStatuses[0].state.terminated.exitCode}{"|"}{.status.containerStatuses[0].state.terminated.reason}{"|"}{.status.conditions[?(@.type=="PodScheduled")].reason}{"|"}{.status.containerStatuses[0].state.waiting.message}{"\n"}{end}'
job_jsonpath='{range .status.conditions[*]}{.type}={.status}{"\n"}{end}'

pods() {
    "$kubectl" "${ns[@]}" get pods -l "job-name=$job" -o "jsonpath=$pods_jsonpath"
}

# What a pod's exit code means (mite-engine's documented codes, and the kernel's).
meaning() {
    case "$1" in
        0) echo "finished" ;;
        1) echo "error: bad input, a run that could not start, or a run that ended without a core (a journey panicked or never yielded: its result is written, less that core's last figures; see its log)" ;;
        2) echo "command-line usage error" ;;
        3) echo "a threshold failed" ;;
        5) echo "interrupted (SIGTERM: pod deleted, node drained or deadline); its result is marked interrupted" ;;
        143) echo "killed by SIGTERM before it could write its result (an engine without graceful SIGTERM?)" ;;
        137) echo "killed (SIGKILL: out of memory, or terminationGracePeriodSeconds ran out)" ;;
        *) echo "exit $1" ;;
    esac
}

# Waiting reasons from which a container never starts by itself.
hopeless() {
    case "$1" in
        ErrImagePull | ImagePullBackOff | InvalidImageName | ErrImageNeverPull | CreateContainerConfigError | \
            CreateContainerError | RunContainerError | CrashLoopBackOff) return 0 ;;
        *) return 1 ;;
    esac
}

started=$SECONDS
state=""
declare -A announced=()
api_failures=0
while true; do
    if ! conditions=$("$kubectl" "${ns[@]}" get job "$job" -o "jsonpath=$job_jsonpath" 2>&1); then
        # A missing Job is final; an API server that does not answer gets a few more tries.
        api_failures=$((api_failures + 1))
        if grep -q NotFound <<<"$conditions" || ((api_failures >= 5)); then
            echo "collect: cannot read job/$job: $conditions" >&2
            exit 1
        fi
        sleep "$poll_s"
        continue
    fi
    api_failures=0
    if grep -qx 'Failed=True' <<<"$conditions"; then
        state=failed
        break
    fi
    if grep -qx 'Complete=True' <<<"$conditions"; then
        state=complete
        break
    fi
    stuck=0
    while IFS='|' read -r name index phase waiting code reason scheduled message; do
        [[ -z "$name" ]] && continue
        if [[ -n "$waiting" ]] && hopeless "$waiting"; then
            echo "collect: pod $name (index $index) cannot start: $waiting${message:+: $message}" >&2
            stuck=1
        elif [[ -n "$code" && "$code" != 0 && "$code" != 3 && -z "${announced[$name]:-}" ]]; then
            # Said as soon as seen; the others run on (backoffLimitPerIndex) and are collected.
            echo "collect: pod $name (index $index) failed: $(meaning "$code"); waiting for the others" >&2
            announced[$name]=1
        elif [[ "$phase" == Pending && "$scheduled" == Unschedulable && $((SECONDS - started)) -ge $unschedulable_s ]]; then
            echo "collect: pod $name (index $index) unschedulable for ${unschedulable_s}s (one injector per node: enough nodes with the CPU and memory asked?)" >&2
            stuck=1
        fi
    done < <(pods)
    if ((stuck)); then
        echo "collect: job/$job cannot finish; delete it with: $kubectl ${ns[*]} delete job $job" >&2
        exit 1
    fi
    if ((SECONDS - started >= timeout_s)); then
        echo "collect: job/$job still running after ${timeout_s}s" >&2
        exit 1
    fi
    sleep "$poll_s"
done

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
problems=0
logs=()
while IFS='|' read -r name index phase waiting code reason scheduled message; do
    [[ -z "$name" ]] && continue
    log="$dir/segment-$index.log"
    if ! "$kubectl" "${ns[@]}" logs "$name" >"$log" 2>"$dir/err"; then
        echo "collect: pod $name (index $index): no log: $(cat "$dir/err")" >&2
        problems=1
        continue
    fi
    if [[ "$code" == 3 ]]; then
        # Its result is written; the merged result is judged again below.
        echo "collect: pod $name (index $index): a threshold failed on its segment (judged on the merged result below)" >&2
    elif [[ -n "$code" && "$code" != 0 ]]; then
        echo "collect: pod $name (index $index) failed: $(meaning "$code")${reason:+ ($reason)}" >&2
        problems=1
    elif [[ -z "$code" && "$phase" == Failed ]]; then
        echo "collect: pod $name (index $index) failed before its container ran${reason:+: $reason}" >&2
        problems=1
    fi
    if grep -q '^\(.* \)\?mite-result begin ' "$log"; then
        # Each result read alone first: a damaged one is named and left out, not fatal to all.
        # merge exits 3 (a threshold failed) or 5 (interrupted) having read it whole.
        "$engine" merge --partial "$log" -o "$dir/alone-$index.json" >/dev/null 2>"$dir/err"
        alone=$?
        if [[ $alone == 0 || $alone == 3 || $alone == 5 ]]; then
            logs+=("$log")
        else
            echo "collect: pod $name (index $index): its result is unreadable: $(grep -v '^$' "$dir/err" | tail -n 1)" >&2
            problems=1
        fi
    else
        if [[ -s "$log" ]]; then
            echo "collect: pod $name (index $index): no result in its log; its last lines:" >&2
            tail -n 5 "$log" | sed 's/^/    /' >&2
        else
            echo "collect: pod $name (index $index): no result, its log is empty" >&2
        fi
        problems=1
    fi
done < <(pods)

if ((${#logs[@]} == 0)); then
    echo "collect: job/$job ($state): no result to merge" >&2
    exit 1
fi
# --partial: a missing segment is judged here (exit 1 below), with what was found still merged.
"$engine" merge --partial "${logs[@]}" -o "$out" 2>"$dir/merge.err"
verdict=$?
cat "$dir/merge.err" >&2
# A segment no pod's result holds (a pod that never ran) leaves the merge short.
grep -q '^warning: segments missing' "$dir/merge.err" && problems=1
# merge: 0 passed, 3 a threshold failed, 5 a part was interrupted (said above): all written.
if [[ $verdict != 0 && $verdict != 3 && $verdict != 5 ]]; then
    echo "collect: merging failed" >&2
    exit 1
fi
results=results
((${#logs[@]} == 1)) && results=result
echo "collect: job/$job $state; merged ${#logs[@]} $results into $out"
if ((problems)) || [[ $verdict == 5 ]]; then
    echo "collect: some segments failed or were interrupted (above): the merged result covers only what ran" >&2
    exit 1
fi
if [[ $verdict == 3 ]]; then
    echo "collect: a threshold failed on the merged result (above): exit 3" >&2
fi
exit "$verdict"
