#!/usr/bin/env bash
# Intercepted HTTPS keep-alive through the transparent listener vs through the explicit proxy (CONNECT),
# in the same run, on the network-namespace world of the end-to-end test (client -> gateway running
# meshgate behind contrib/egress.sh -> origin running nginx). Issue 6's performance check.
#   contrib/bench/transparent.sh [path/to/release/meshgate]     (as root; DUR=10 CONNS=32 RUNS=3)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MESHGATE=$(realpath "${1:-$REPO/.build/release/meshgate}")
DUR=${DUR:-10} CONNS=${CONNS:-32} RUNS=${RUNS:-3}
WORLD="$REPO/Tests/EndToEndTests/Fixtures/netns/world.sh"
ID=bench$$
W=$BENCH_W
# The world goes after every process in it (lib.sh's trap stops the children first).
trap 'bench_cleanup; bash "$WORLD" down "$ID" >/dev/null 2>&1 || true' EXIT
command -v nginx >/dev/null || { echo "needs nginx (apt-get install -y nginx-light)"; exit 1; }
bench_build_loadgen
bash "$WORLD" up "$ID" >/dev/null
ex() { local role=$1; shift; bash "$WORLD" exec "$ID" "$role" "$@"; }

# Origin: nginx on the origin side with a certificate for allowed.test from a throwaway CA.
bench_ca "$W" origin-ca
bench_leaf "$W" origin-ca allowed.test "DNS:allowed.test"
head -c 1024 /dev/urandom > "$W/1k"
cat > "$W/nginx.conf" <<NGX
worker_processes 1; pid $W/nginx.pid; error_log $W/nginx.err; daemon off;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 10.77.2.2:443 ssl; server_name _; ssl_certificate $W/allowed.test.pem; ssl_certificate_key $W/allowed.test.key; root $W; } }
NGX
bench_start origin bash "$WORLD" exec "$ID" origin nginx -c "$W/nginx.conf"

cat > "$W/meshgate.yaml" <<YML
state_dir: $W/state
listeners:
  explicit: 10.77.1.1:3128
  transparent: 0.0.0.0:3129
  admin: 127.0.0.1:19099
access:
  allow_clients: [10.77.0.0/16, 127.0.0.0/8]
tls:
  upstream_ca: $W/origin-ca.pem
audit:
  path: $W/audit.jsonl
YML
bench_start meshgate bash "$WORLD" exec "$ID" gw "$MESHGATE" serve --config "$W/meshgate.yaml"
for _ in $(seq 100); do grep -q "transparent proxy listening" "$W/meshgate.log" 2>/dev/null && break; sleep 0.1; done

run() { # $1 = label, rest = loadgen arguments
  local label=$1; shift
  local rates=()
  for _ in $(seq "$RUNS"); do
    rates+=("$(ex client "$W/loadgen" "$@" --conns "$CONNS" --duration "$DUR" --warmup 1 --path /1k | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["rps"]))')")
  done
  printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p" > "$W/$label"
  echo "$label: runs ${rates[*]} req/s, median $(cat "$W/$label")"
}
# Warm both paths once (leaf minted, upstream pool filled).
ex client "$W/loadgen" --connect 10.77.2.2:443 --target allowed.test:443 --conns 4 --duration 1 --path /1k >/dev/null
run transparent --connect 10.77.2.2:443 --target allowed.test:443
run explicit --connect 10.77.1.1:3128 --proxy --target allowed.test:443
python3 -c "print(f'transparent / explicit = {int(open(\"$W/transparent\").read()) / int(open(\"$W/explicit\").read()):.2f}x')"
