#!/usr/bin/env bash
# A profile-guided (PGO) release build of mite-engine for peak runs:
#   benches/pgo.sh                                  # writes target/release/mite-engine-pgo
#   benches/pgo.sh target/release/mite-engine-pgo   # the same, named
#   CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 benches/pgo.sh /tmp/pgo-lto
#                      # with fat LTO in both builds (see benches/README.md)
#
# 1. Builds an instrumented release binary (`-Cprofile-generate`) in its own target folder,
#    target/pgo/generate (kept, so a second run rebuilds only what changed; target/release is
#    left alone).
# 2. Trains it: bounded runs (3-4 s each, one injector core, the target on another) of what peak
#    runs send, each checked to have sent requests and failed fewer than 1 % of them:
#      - a declarative GET, 64 journeys in flight (closed model), keep-alive;
#      - the same GET as a Rust journey (`http_example:scenario`);
#      - a declarative POST with a JSON body and a capture, the captured value sent on in a
#        GET's query string (a datapool feeding the body);
#      - the login flow (`journeys/scenarios/login.toml`: a form, redirects, cookies, basic auth);
#      - the declarative GET in the open model (`volume = { rate = ... }`);
#      - the declarative GET over TLS (nginx with tools/certs; every 100th request reconnects, so
#        handshakes are trained too).
#    The GETs run against nginx (one worker) when it is installed, else against the tools/
#    target (`mite-target`, started here on an ephemeral port); the POST and the login flow
#    against the tools/ target; TLS needs nginx and is left out, saying so, without it.
# 3. Merges the profiles (rustc's own llvm-profdata: `rustup component add llvm-tools`).
# 4. Builds the optimised binary (`-Cprofile-use`) in target/pgo/use, copies it to OUT_BINARY
#    and removes that folder (every dependency is rebuilt with each new profile anyway).
#
# Cost: two release builds of every crate, dependencies included, plus ~30 s of training; on a
# 2-core VM with CARGO_BUILD_JOBS=1 about 6 minutes each when the machine is otherwise idle,
# ~20 while other builds share it. A profile fits only a build with the same codegen units and
# LTO settings: set them (CARGO_PROFILE_RELEASE_*) for the whole script, as above, never for
# one half. `cargo build --release` and CI do not use it.
# It stops by itself; its temporary files (profiles, scenario files, nginx's) go with it. A step
# that fails, or a training run that sends no request or fails more than 1 % of them, stops it
# with a non-zero status naming the step.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/release/mite-engine-pgo}
step="setup"
trap 'echo "pgo.sh: FAILED at step: $step" >&2' ERR
say() { echo "pgo.sh: $*" >&2; }
fail() { say "FAILED at step: $step: $*"; exit 1; }

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
[ -x "$profdata" ] || fail "$profdata is missing: rustup component add llvm-tools"
# Profiles are written to a temporary folder at run time (LLVM_PROFILE_FILE); the path built
# into the binary stays the same, so the instrumented build is reused from one run to the next.
default_profiles="$PWD/target/pgo/profraw"
work=$(mktemp -d)
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work" target/pgo/use "$default_profiles"
}
trap cleanup EXIT
# --target: RUSTFLAGS then reach the binary's crates but not build scripts and proc macros.
build() { # build TARGET_DIR EXTRA_RUSTFLAGS
    RUSTFLAGS="${RUSTFLAGS:-} $2" cargo build --release -q -p mite-engine --target "$host" --target-dir "$1"
}

step="build the instrumented binary (target/pgo/generate)"
started=$(date +%s)
say "$step"
build target/pgo/generate "-Cprofile-generate=$default_profiles"
gen=target/pgo/generate/$host/release/mite-engine
say "instrumented build: $(($(date +%s) - started)) s"

step="build the tools/ target"
cargo build --release -q -p mite-tools
ulimit -n 20000 2>/dev/null || true
pin_target=() pin_engine=(--cores 1)
if [ "$(nproc)" -ge 2 ]; then pin_target=(taskset -c 1) pin_engine=(--cores 0-0); fi

step="start the tools/ target"
"${pin_target[@]}" target/release/mite-target --addr 127.0.0.1:0 --threads 1 >"$work/target.out" 2>&1 &
for _ in $(seq 100); do grep -q listening "$work/target.out" 2>/dev/null && break; sleep 0.1; done
tools_url=$(sed -n 's/.*listening on //p' "$work/target.out")/
[ "$tools_url" != / ] || fail "the tools/ target did not start: $(cat "$work/target.out")"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
    fail "nothing listening on port $1"
}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
get_url=$tools_url tls_url=
if [ -x "$nginx" ]; then
    step="start nginx"
    plain=$(free_port) tls=$(free_port)
    cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/error.log error;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_timeout 120s;
    client_body_temp_path $work;
    proxy_temp_path $work;
    fastcgi_temp_path $work;
    uwsgi_temp_path $work;
    scgi_temp_path $work;
    server {
        listen 127.0.0.1:$plain backlog=4096;
        keepalive_requests 10000000;
        location / { default_type text/plain; return 200 "Hello, World!"; }
    }
    server {
        listen 127.0.0.1:$tls ssl backlog=4096;
        ssl_certificate $PWD/tools/certs/server.pem;
        ssl_certificate_key $PWD/tools/certs/server.key;
        keepalive_requests 100;
        location / { default_type text/plain; return 200 "Hello, World!"; }
    }
}
EOF
    "${pin_target[@]}" "$nginx" -c "$work/nginx.conf" -p "$work" >"$work/nginx.out" 2>&1 &
    wait_port "$plain"
    wait_port "$tls"
    get_url=http://127.0.0.1:$plain/ tls_url=https://127.0.0.1:$tls/
else
    say "nginx is not installed: the GETs train against the tools/ target, and TLS is not trained"
fi

get_scenario() { # get_scenario NAME VOLUME: the declarative GET under a volume model
    printf '%s\n' "name = \"$1\"" "[journeys.get]" \
        'steps = [{ transaction = "get_root", url = "{target_url}" }]' \
        "[[scenario]]" 'journey = "get"' "volume = $2"
}
get_scenario pgo-get "{ constant = 64 }" >"$work/get.toml"
get_scenario pgo-open "{ rate = 5000, max_in_flight = 256 }" >"$work/open.toml"
cat >"$work/post.toml" <<'EOF'
name = "pgo-post-capture"
[datapools.users]
range = { from = 1, to = 1000 }
column = "id"
[journeys.post]
steps = [
  { transaction = "post_json", method = "POST", url = "{target_url}json/echo",
    json = { user = "user{id}", items = [1, 2, 3] }, capture = { echoed = { json = "user" } } },
  { transaction = "get_query", url = "{target_url}", query = { by = "{echoed}" } },
]
[[scenario]]
journey = "post"
datapool = "users"
volume = { constant = 64 }
EOF

# train NAME SECONDS ENGINE_ARGS...: one bounded run of the instrumented binary; fails unless it
# exits cleanly, sent requests, failed fewer than 1 % of them (a profile of error paths would
# teach the build the wrong code), and wrote its profile.
train() {
    local name=$1 seconds=$2
    shift 2
    step="training run '$name'"
    LLVM_PROFILE_FILE="$work/profraw/$name-%p-%m.profraw" timeout $((seconds + 30)) "$gen" "${pin_engine[@]}" \
        --duration "${seconds}s" --grace 2s --quiet --json "$work/$name.json" "$@" >"$work/$name.out" 2>&1 ||
        fail "mite-engine exited with $?: $(tail -5 "$work/$name.out")"
    local requests errors
    read -r requests errors < <(python3 -c 'import json, sys; t = json.load(open(sys.argv[1]))["totals"]
print(t["requests"], t["errors"])' "$work/$name.json") || fail "no result file: $(tail -5 "$work/$name.out")"
    [ "$requests" -gt 0 ] || fail "it sent no request: $(tail -5 "$work/$name.out")"
    [ $((errors * 100)) -lt "$requests" ] || fail "$errors of its $requests requests failed: $(tail -5 "$work/$name.out")"
    compgen -G "$work/profraw/$name-*.profraw" >/dev/null || fail "it wrote no profile"
    say "trained on $name: $requests requests ($errors failed) in ${seconds} s"
}
train get 4 --scenario "$work/get.toml" --config "target_url=$get_url"
train rust-journey 4 --scenario http_example:scenario --config "target_url=$get_url" --config journeys=64
train post-capture 3 --scenario "$work/post.toml" --config "target_url=$tools_url"
train login 3 --scenario journeys/scenarios/login.toml --config "base=${tools_url%/}"
train open-model 3 --scenario "$work/open.toml" --config "target_url=$get_url"
if [ -n "$tls_url" ]; then
    train tls 3 --scenario "$work/get.toml" --config "target_url=$tls_url" --ca tools/certs/ca.pem
fi

step="merge the profiles"
"$profdata" merge -o "$work/merged.profdata" "$work"/profraw/*.profraw

step="build the optimised binary (target/pgo/use)"
started=$(date +%s)
say "$step"
build target/pgo/use "-Cprofile-use=$work/merged.profdata"
say "optimised build: $(($(date +%s) - started)) s"

step="copy it to $out"
mkdir -p "$(dirname "$out")"
cp "target/pgo/use/$host/release/mite-engine" "$out"
say "wrote $out"
