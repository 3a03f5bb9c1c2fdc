#!/usr/bin/env bash
# A profile-guided (PGO) build of mite-engine for peak runs, on a cargo profile (default `peak`,
# the profile README advises for peak runs: thin LTO, one code unit per crate):
#   benches/pgo.sh                                  # writes target/peak/mite-engine-pgo
#   benches/pgo.sh /tmp/mite-engine-pgo-peak        # the same, named
#   PROFILE=release benches/pgo.sh                  # on the release profile: target/release/mite-engine-pgo
#   PROFILE=release CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
#       benches/pgo.sh /tmp/pgo-lto                 # the release profile with fat LTO (benches/README.md)
#   NGINX=none benches/pgo.sh                       # train on the tools/ target even where nginx is
#
# 1. Builds an instrumented binary (`-Cprofile-generate`) on PROFILE in its own target folder,
#    target/pgo/generate (kept, so a second run rebuilds only what changed; target/PROFILE is
#    left alone).
# 2. Trains it: bounded runs (3-4 s each, one injector core, the target on another) of what peak
#    runs send, each checked to have sent requests, failed fewer than 1 % of them and run on
#    the default driver, the engine's own io_uring runtime (`own`):
#      - a declarative GET, 64 journeys in flight (closed model), keep-alive;
#      - the same GET as a Rust journey (`http_example:scenario`);
#      - a declarative POST with a JSON body and a capture, the captured value sent on in a
#        GET's query string (a datapool feeding the body);
#      - the login flow (`journeys/scenarios/login.toml`: a form, redirects, cookies, basic auth);
#      - the declarative GET in the open model (`volume = { rate = ... }`);
#      - the declarative GET over TLS (nginx with tools/certs; every 100th request reconnects, so
#        handshakes are trained too).
#    The GETs run against nginx (one worker) when it is installed (NGINX names it; NGINX=none
#    leaves it out), else against the tools/ target (`mite-target`, started here on an ephemeral
#    port); the POST and the login flow against the tools/ target; TLS needs nginx and is left
#    out, saying so, without it. The script ends by listing what it trained on: each run's
#    target, driver, requests and errors.
#    The own runtime only: where io_uring cannot start (a container's seccomp profile, as in a plain
#    `docker build`; io_uring_disabled) the engine falls back to epoll, and a profile of that
#    path would lay out the wrong code for a peak run: the script stops, naming the reason.
# 3. Merges the profiles (rustc's own llvm-profdata: `rustup component add llvm-tools`).
# 4. Builds the optimised binary (`-Cprofile-use`) on the same profile in target/pgo/use, copies
#    it to OUT_BINARY and removes that folder (every dependency is rebuilt with each new profile
#    anyway).
#
# Cost: two builds of every crate on PROFILE, dependencies included, plus ~30 s of training (the
# figures for each profile are in benches/README.md). A profile fits only a build with the same
# codegen units and LTO settings: both halves run in this one script on the same PROFILE, and an
# override (CARGO_PROFILE_<PROFILE>_LTO, ...) is set for the whole script, as above, never for
# one half. `cargo build --profile peak`, `--release` and CI do not use it.
# It stops by itself; its temporary files (profiles, scenario files, nginx's) go with it. A step
# that fails, or a training run that sends no request, fails more than 1 % of them or runs on
# epoll, stops it with a non-zero status naming the step.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-peak}
case $profile in dev | test) profile_dir=debug ;; bench) profile_dir=release ;; *) profile_dir=$profile ;; esac
out=${1:-target/$profile_dir/mite-engine-pgo}
step="setup"
trap 'echo "pgo.sh: FAILED at step: $step" >&2' ERR
say() { echo "pgo.sh: $*" >&2; }
fail() { say "FAILED at step: $step: $*"; exit 1; }

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
[ -x "$profdata" ] || fail "$profdata is missing: rustup component add llvm-tools"
overrides=$(env | grep "^CARGO_PROFILE_" | sort | tr '\n' ' ' || true)
say "profile $profile${overrides:+, with $overrides}"
upper=$(echo "$profile" | tr 'a-z-' 'A-Z_')
if [ "$upper" != RELEASE ] && env | grep -q "^CARGO_PROFILE_RELEASE_"; then
    say "warning: CARGO_PROFILE_RELEASE_* reach the $profile profile only where Cargo.toml's" \
        "[profile.$profile] does not set the same key; set CARGO_PROFILE_${upper}_* instead"
fi
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
    RUSTFLAGS="${RUSTFLAGS:-} $2" cargo build --profile "$profile" -q -p mite-engine --target "$host" --target-dir "$1"
}

step="build the instrumented binary (target/pgo/generate)"
started=$(date +%s) all_started=$(date +%s)
say "$step"
build target/pgo/generate "-Cprofile-generate=$default_profiles"
gen=target/pgo/generate/$host/$profile_dir/mite-engine
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
nginx=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
get_url=$tools_url get_on="the tools/ target" tls_url=
if [ "$nginx" != none ] && [ -x "$nginx" ]; then
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
    get_url=http://127.0.0.1:$plain/ get_on="nginx" tls_url=https://127.0.0.1:$tls/
else
    say "nginx ($nginx) is not there: the GETs train against the tools/ target, and TLS is not trained"
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

# train NAME ON SECONDS ENGINE_ARGS...: one bounded run of the instrumented binary against ON (a
# name for the summary); fails unless it exits cleanly, sent requests, failed fewer than 1 % of
# them (a profile of error paths would teach the build the wrong code), ran on the default, the
# own io_uring runtime (a profile of the epoll fallback, or of monoio's io_uring asked for with
# MITE_DRIVER, would lay out the wrong driver's code) and wrote its profile.
trained=()
train() {
    local name=$1 on=$2 seconds=$3
    shift 3
    step="training run '$name'"
    LLVM_PROFILE_FILE="$work/profraw/$name-%p-%m.profraw" timeout $((seconds + 30)) "$gen" "${pin_engine[@]}" \
        --duration "${seconds}s" --grace 2s --quiet --json "$work/$name.json" "$@" >"$work/$name.out" 2>&1 ||
        fail "mite-engine exited with $?: $(tail -5 "$work/$name.out")"
    local requests errors driver fallback
    read -r requests errors driver fallback < <(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))
t = r["totals"]
print(t["requests"], t["errors"], r["driver"], "; ".join(r["driver_fallbacks"]) or "-")' "$work/$name.json") ||
        fail "no result file: $(tail -5 "$work/$name.out")"
    [ "$requests" -gt 0 ] || fail "it sent no request: $(tail -5 "$work/$name.out")"
    [ $((errors * 100)) -lt "$requests" ] || fail "$errors of its $requests requests failed: $(tail -5 "$work/$name.out")"
    [ "$driver" = own ] || fail "it ran on $driver, not the own io_uring runtime ($fallback): a profile of" \
        "that path would lay out the wrong code for a peak run; train where io_uring is allowed"
    compgen -G "$work/profraw/$name-*.profraw" >/dev/null || fail "it wrote no profile"
    trained+=("$name on $on ($driver): $requests requests, $errors failed, ${seconds} s")
    say "trained on ${trained[-1]}"
}
train get "$get_on" 4 --scenario "$work/get.toml" --config "target_url=$get_url"
train rust-journey "$get_on" 4 --scenario http_example:scenario --config "target_url=$get_url" --config journeys=64
train post-capture "the tools/ target" 3 --scenario "$work/post.toml" --config "target_url=$tools_url"
train login "the tools/ target" 3 --scenario journeys/scenarios/login.toml --config "base=${tools_url%/}"
train open-model "$get_on" 3 --scenario "$work/open.toml" --config "target_url=$get_url"
if [ -n "$tls_url" ]; then
    train tls "nginx (TLS)" 3 --scenario "$work/get.toml" --config "target_url=$tls_url" --ca tools/certs/ca.pem
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
cp "target/pgo/use/$host/$profile_dir/mite-engine" "$out"
say "wrote $out: profile $profile${overrides:+ ($overrides)}, $(($(date +%s) - all_started)) s in all, trained on:"
printf '  %s\n' "${trained[@]}" >&2
