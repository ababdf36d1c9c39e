#!/usr/bin/env bash
# Intercepted HTTPS keep-alive through the transparent listener vs through the explicit proxy (CONNECT),
# in the same run, on the network-namespace world of the end-to-end test (client -> gateway running
# meshgate behind contrib/egress.sh -> origin running nginx). Issue 6's performance check.
#   contrib/bench/transparent.sh [path/to/release/meshgate]     (as root; DUR=10 CONNS=32 RUNS=3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MESHGATE=$(realpath "${1:-$ROOT/.build/release/meshgate}")
DUR=${DUR:-10} CONNS=${CONNS:-32} RUNS=${RUNS:-3}
WORLD="$ROOT/Tests/EndToEndTests/Fixtures/netns/world.sh"
ID=bench$$
W=$(mktemp -d /tmp/meshgate-tbench.XXXXXX)
chmod 755 "$W"   # nginx workers run as nobody
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  bash "$WORLD" down "$ID" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
for tool in nginx gcc openssl; do command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install -y nginx-light gcc libssl-dev)"; exit 1; }; done
gcc -O2 -o "$W/loadgen" "$ROOT/contrib/bench/loadgen.c" -lssl -lcrypto -lpthread
bash "$WORLD" up "$ID" >/dev/null
ex() { local role=$1; shift; bash "$WORLD" exec "$ID" "$role" "$@"; }

# Origin: nginx with a certificate from a throwaway CA for allowed.test.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench origin CA" \
  -keyout "$W/ca.key" -out "$W/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=allowed.test" -keyout "$W/o.key" -out "$W/o.csr" 2>/dev/null
printf 'subjectAltName=DNS:allowed.test\n' > "$W/ext"
openssl x509 -req -in "$W/o.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial -days 2 -extfile "$W/ext" -out "$W/o.pem" 2>/dev/null
head -c 1024 /dev/urandom > "$W/1k"
cat > "$W/nginx.conf" <<NGX
worker_processes 1; pid $W/nginx.pid; error_log $W/nginx.err; daemon off;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 10.77.2.2:443 ssl; server_name _; ssl_certificate $W/o.pem; ssl_certificate_key $W/o.key; root $W; } }
NGX
ex origin nginx -c "$W/nginx.conf" & PIDS+=($!)

cat > "$W/meshgate.yaml" <<YML
state_dir: $W/state
listeners:
  explicit: 10.77.1.1:3128
  transparent: 0.0.0.0:3129
  admin: 127.0.0.1:19099
access:
  allow_clients: [10.77.0.0/16, 127.0.0.0/8]
tls:
  upstream_ca: $W/ca.pem
audit:
  path: $W/audit.jsonl
YML
ex gw "$MESHGATE" serve --config "$W/meshgate.yaml" 2>"$W/meshgate.log" & PIDS+=($!)
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
