#!/usr/bin/env bash
# The image's runtime, proven without building an image: runs a mite-engine binary in an empty
# root holding only what tools/k8s/Dockerfile puts in the image (the binary) and what its base,
# gcr.io/distroless/cc-debian13:nonroot, holds that the binary uses (the C library and libgcc it
# links, CA roots, passwd/group with the nonroot user, nsswitch.conf), plus what Kubernetes
# mounts into every container (/proc, /dev/null, /etc/hosts, /etc/resolv.conf, the scenario
# ConfigMap). The root is read-only (readOnlyRootFilesystem) and the engine runs as 65532.
#
#   tools/k8s/empty-root.sh BINARY TARGET_URL WORKDIR
#
# Runs a short scenario from the mounted file against TARGET_URL, with the result framed on
# stdout (--json=-, as the Job runs it) and a report written to a mounted writable directory
# (WORKDIR/results/report.html).
# Needs root (mount namespace, chroot). Exit status is the engine's.
set -euo pipefail
binary=${1:?usage: empty-root.sh BINARY TARGET_URL WORKDIR}
url=${2:?usage: empty-root.sh BINARY TARGET_URL WORKDIR}
work=${3:?usage: empty-root.sh BINARY TARGET_URL WORKDIR}
root="$work/root"
rm -rf "$root"
mkdir -p "$root"/{usr/local/bin,etc/ssl/certs,proc,dev,tmp,scenarios,results} "$work/scenarios" "$work/results"

# The image's own layer: the binary.
install -m 0755 "$binary" "$root/usr/local/bin/mite-engine"
# The base image's files the binary uses: its shared libraries (as ldd resolves them here), CA
# roots, users, name-service switch.
{ ldd "$binary" || true; } | awk '/=>/ { print $3 } /^[ \t]*\// { print $1 }' | while read -r lib; do
    [[ -f "$lib" ]] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/" 2>/dev/null || true
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
touch "$root/etc/hosts" "$root/etc/resolv.conf" "$root/dev/null"
chmod 1777 "$root/tmp"
chmod 0777 "$work/results"

# The ConfigMap's file: a short closed-model run of one GET.
cat >"$work/scenarios/rehearsal.toml" <<EOF
name = "empty-root"
duration = "2s"
[config]
target_url = "$url"
[journeys.get]
steps = [{ transaction = "get_root", url = "{target_url}" }]
[[scenario]]
journey = "get"
volume = { constant = 4 }
EOF

echo "empty-root: $(find "$root" -type f | wc -l) files in the root:" >&2
(cd "$root" && find . -type f | sort | sed 's/^\./    /') >&2

# In a new mount namespace: what the kubelet mounts, the root made read-only, then chroot as
# the image's user.
exec unshare --mount --pid --fork bash -c '
    set -euo pipefail
    root=$1 work=$2
    mount --make-rprivate /
    mount --bind "$root" "$root"
    mount --bind "$work/scenarios" "$root/scenarios"
    mount --bind "$work/results" "$root/results"
    mount --bind /dev/null "$root/dev/null"
    mount --bind /etc/hosts "$root/etc/hosts"
    mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
    mount -t proc proc "$root/proc"
    mount -o remount,bind,ro "$root"
    exec chroot --userspec=65532:65532 "$root" /usr/local/bin/mite-engine \
        --cores 1 --no-pin --scenario /scenarios/rehearsal.toml --json=- --quiet --html /results/report.html
' empty-root "$root" "$work"
