#!/usr/bin/env bash
# Collects the result files of a finished mite-engine Indexed Job from its pods' logs (each pod
# prints its result JSON on stdout with --json=-) and merges them into one with exact
# percentiles.
#   tools/k8s/collect.sh JOB_NAME [OUTPUT.json]
set -euo pipefail
job=${1:?usage: collect.sh JOB_NAME [OUTPUT.json]}
out=${2:-$job-merged.json}
dir=$(mktemp -d)
kubectl wait --for=condition=complete "job/$job" --timeout=24h
for pod in $(kubectl get pods -l "job-name=$job" -o name); do
    index=$(kubectl get "$pod" -o jsonpath='{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}')
    kubectl logs "$pod" > "$dir/result-$index.json"
done
mite-engine merge "$dir"/result-*.json -o "$out"
echo "merged $(ls "$dir" | wc -l) results into $out"
