# Sourced by the request-path benches: writes nginx's configuration (one worker, core 1) and the
# declarative GET scenario (64 connections) into "$work", starts nginx on a free port (in $port)
# and waits until it listens. Needs $work and $nginx set; nginx runs as a job of the caller, so
# the caller's `kill $(jobs -p)` stops it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$work" "$port" <<'PY'
import sys
sys.path.insert(0, "benches")
import harness
work, port = sys.argv[1], int(sys.argv[2])
open(f"{work}/nginx.conf", "w").write(harness.NGINX_CONF.format(mask="10", dir=work, port=port))
open(f"{work}/get.toml", "w").write(harness.DECLARATIVE.format(conns=64))
PY
taskset -c 1 "$nginx" -c "$work/nginx.conf" -p "$work" >/dev/null 2>&1 &
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
