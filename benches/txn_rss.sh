#!/usr/bin/env bash
# Memory per transaction name: one journey of N GETs, each its own transaction (as a scenario
# converted from a HAR recording has), 4 journeys at a time on one core for 3 s against the
# tools/ target; then `merge` of its result file with a second run's (a copy of one run is one
# part, which merge refuses). Peak RSS from /usr/bin/time.
#   benches/txn_rss.sh 1 100 300 1000
source "$(dirname "$0")/lib.sh"  # $engine (MITE_ENGINE=other/binary for an A/B), $work, $url
echo "| transaction names | run: peak RSS | merge of 2 files: peak RSS | result file |"
echo "|---:|---:|---:|---:|"
for n in "$@"; do
    steps=$(seq -f "{ transaction = \"t%04g\", url = \"$url/\" }" 0 $((n - 1)) | paste -sd, -)
    printf 'name = "names"\n[journeys.j]\nsteps = [ %s ]\n[[scenario]]\njourney = "j"\nvolume = { constant = 4 }\n' \
        "$steps" >"$work/names.toml"
    /usr/bin/time -f %M -o "$work/run.kb" "$engine" --cores 0 --scenario "$work/names.toml" --duration 3s -q \
        --json "$work/r.json" >/dev/null 2>&1
    "$engine" --cores 0 --scenario "$work/names.toml" --duration 3s -q --json "$work/r2.json" >/dev/null 2>&1
    /usr/bin/time -f %M -o "$work/merge.kb" "$engine" merge "$work/r.json" "$work/r2.json" -o "$work/m.json" \
        >/dev/null 2>&1
    echo "| $n | $(($(cat "$work/run.kb") / 1024)) MB | $(($(cat "$work/merge.kb") / 1024)) MB | $(($(stat -c %s "$work/r.json") / 1024)) KiB |"
done
