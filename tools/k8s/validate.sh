#!/usr/bin/env bash
# Validates the Kubernetes manifests in tools/k8s against the Kubernetes API schemas (strict:
# unknown fields are errors) with kubernetes-validate from PyPI, which carries the schemas and
# needs no cluster or network once installed. Versions: the oldest the Job supports
# (backoffLimitPerIndex: 1.29) and the newest the validator knows.
#   tools/k8s/validate.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")"
venv=${1:-../../target/k8s-validate-venv}
if [[ ! -x "$venv/bin/kubernetes-validate" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "kubernetes-validate==1.37.0"
fi
for version in 1.29.0 1.37.0; do
    "$venv/bin/kubernetes-validate" --strict --kubernetes-version "$version" indexed-job.yaml seccomp-installer.yaml
done
