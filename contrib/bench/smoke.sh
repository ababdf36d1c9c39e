#!/usr/bin/env bash
# Rough throughput check of the explicit proxy against nginx on this machine (issue 2's numbers).
# The full side-by-side harness with the peers (Squid, mitmproxy, tinyproxy) is contrib/bench/run.sh
# (issue 7). Everything binds 127.0.0.1, is started here and stopped by PID; each run is time-bounded.
#   contrib/bench/smoke.sh [path/to/meshgate]
set -euo pipefail
MESHGATE=${1:-.build/release/meshgate}
DUR=${DUR:-10}
W=$(mktemp -d /tmp/meshgate-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
command -v nginx >/dev/null && command -v wrk >/dev/null || { echo "needs nginx-light and wrk (apt-get install -y nginx-light wrk)"; exit 1; }

# Origin: nginx with HTTP on 18080 and HTTPS on 18443 (certificate from a throwaway CA for localhost and bench names).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench origin CA" \
  -keyout "$W/ca.key" -out "$W/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" -keyout "$W/o.key" -out "$W/o.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,DNS:*.bench.test\n' > "$W/ext"
openssl x509 -req -in "$W/o.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial -days 2 -extfile "$W/ext" -out "$W/o.pem" 2>/dev/null
head -c 1024 /dev/urandom > "$W/1k"
cat > "$W/nginx.conf" <<NGX
worker_processes 1; pid $W/nginx.pid; error_log $W/nginx.err; daemon off;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:18080; listen 127.0.0.1:18443 ssl; server_name _;
    ssl_certificate $W/o.pem; ssl_certificate_key $W/o.key; root $W;
    client_max_body_size 4m; location = /post { return 200 "ok"; } } }
NGX
nginx -c "$W/nginx.conf" & PIDS+=($!)

cat > "$W/meshgate.yaml" <<YML
state_dir: $W/state
listeners: { explicit: 127.0.0.1:13128, admin: 127.0.0.1:19090 }
access: { connect_ports: [443, 18443] }
tls: { upstream_ca: $W/ca.pem }
audit: { path: $W/audit.jsonl }
YML
"$MESHGATE" serve --config "$W/meshgate.yaml" --log-level warning & PIDS+=($!)
# A second instance with the shipped rulesets, so bodies are held and inspected.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cat > "$W/meshgate-inspect.yaml" <<YML
state_dir: $W/state
listeners: { explicit: 127.0.0.1:13129, admin: 127.0.0.1:19091 }
access: { connect_ports: [443, 18443] }
tls: { upstream_ca: $W/ca.pem }
audit: { path: $W/audit-inspect.jsonl }
portal: https://portal.example.com/mcp
rulesets: [$REPO/rulesets/shadow-mcp.yaml, $REPO/rulesets/dlp-secrets.yaml]
YML
sleep 1
"$MESHGATE" serve --config "$W/meshgate-inspect.yaml" --log-level warning & PIDS+=($!)
sleep 2
"$MESHGATE" ca export --config "$W/meshgate.yaml" > "$W/mg-ca.pem"

cat > "$W/abs.lua" <<'LUA'
wrk.path = "http://127.0.0.1:18080/1k"
LUA
rps() { awk '/Requests\/sec/ {print int($2)}'; }
echo "== plain HTTP 1 KiB, 64 connections, ${DUR}s (wrk)"
direct=$(wrk -t2 -c64 -d"${DUR}s" http://127.0.0.1:18080/1k | rps)
proxied=$(wrk -t2 -c64 -d"${DUR}s" -s "$W/abs.lua" http://127.0.0.1:13128 | rps)
echo "direct:  $direct req/s"; echo "meshgate: $proxied req/s ($(awk "BEGIN{printf \"%.2f\", $proxied/$direct}")x of direct)"

# Intercepted HTTPS keep-alive: 4 curl processes, each 1,500 requests on one proxied connection.
N=1500; P=4
urls() { for _ in $(seq $N); do printf 'url = "%s"\noutput = "/dev/null"\n' "$1"; done; }
urls https://localhost:18443/1k > "$W/https.cfg"
run_parallel() { # $@ = curl args; prints elapsed seconds
  local s e; s=$(date +%s.%N)
  for _ in $(seq $P); do curl -s "$@" & done; wait
  e=$(date +%s.%N); awk "BEGIN{print $e-$s}"
}
echo "== HTTPS 1 KiB keep-alive, $P clients x $N requests (curl)"
t_direct=$(run_parallel --cacert "$W/ca.pem" -K "$W/https.cfg")
t_mg=$(run_parallel -x http://127.0.0.1:13128 --cacert "$W/mg-ca.pem" -K "$W/https.cfg")
echo "direct:  $(awk "BEGIN{printf \"%d\", $N*$P/$t_direct}") req/s"
echo "meshgate (intercepted): $(awk "BEGIN{printf \"%d\", $N*$P/$t_mg}") req/s ($(awk "BEGIN{printf \"%.2f\", $t_direct/$t_mg}")x of direct)"

# 64 KiB JSON POSTs over intercepted keep-alive connections, inspection off vs on.
python3 - "$W/body.json" <<'PY'
import json, sys, random
random.seed(7)
doc = {"model": "m", "messages": [{"role": "user", "content": "".join(random.choice("abcdefghij klmnop") for _ in range(200))} for _ in range(300)]}
text = json.dumps(doc)
while len(text) < 65536:
    doc["messages"].append({"role": "user", "content": "x" * 100}); text = json.dumps(doc)
open(sys.argv[1], "w").write(text)
PY
NP=300
post_cfg() { # $1 = proxy port; `next` resets options, so each transfer repeats them
  for i in $(seq $NP); do
    [[ $i -gt 1 ]] && echo "next"
    printf 'url = "https://localhost:18443/post"\nproxy = "http://127.0.0.1:%s"\ncacert = "%s"\ndata-binary = "@%s"\nheader = "Content-Type: application/json"\noutput = "/dev/null"\n' "$1" "$W/mg-ca.pem" "$W/body.json"
  done
}
post_cfg 13128 > "$W/post-off.cfg"; post_cfg 13129 > "$W/post-on.cfg"
echo "== intercepted 64 KiB JSON POSTs, $P clients x $NP requests (curl)"
t_off=$(run_parallel -K "$W/post-off.cfg")
t_on=$(run_parallel -K "$W/post-on.cfg")
echo "inspection off: $(awk "BEGIN{printf \"%d\", $NP*$P/$t_off}") req/s"
echo "inspection on:  $(awk "BEGIN{printf \"%d\", $NP*$P/$t_on}") req/s ($(awk "BEGIN{printf \"%.0f\", 100*(1-$t_off/$t_on)}")% slower)"
grep -c '"action":"allow"' "$W/audit-inspect.jsonl" | sed 's/^/inspected requests audited as allow: /'

# New TLS connection per request to distinct hostnames: cold leaf cache, then warm.
if [[ -w /etc/hosts ]]; then
  H=500
  cp /etc/hosts "$W/hosts.bak"; trap 'cp "$W/hosts.bak" /etc/hosts; cleanup' EXIT
  for i in $(seq $H); do echo "127.0.0.1 h$i.bench.test"; done >> /etc/hosts
  for i in $(seq $H); do printf 'url = "https://h%d.bench.test:18443/1k"\noutput = "/dev/null"\n' "$i"; done > "$W/hosts.cfg"
  echo "== new TLS connection per request, $H distinct hostnames (curl, sequential)"
  s=$(date +%s.%N); curl -s -x http://127.0.0.1:13128 --cacert "$W/mg-ca.pem" -K "$W/hosts.cfg"; e=$(date +%s.%N)
  echo "meshgate cold cache: $(awk "BEGIN{printf \"%d\", $H/($e-$s)}") handshakes/s"
  s=$(date +%s.%N); curl -s -x http://127.0.0.1:13128 --cacert "$W/mg-ca.pem" -K "$W/hosts.cfg"; e=$(date +%s.%N)
  echo "meshgate warm cache: $(awk "BEGIN{printf \"%d\", $H/($e-$s)}") handshakes/s"
  s=$(date +%s.%N); curl -s --cacert "$W/ca.pem" -K "$W/hosts.cfg"; e=$(date +%s.%N)
  echo "direct:              $(awk "BEGIN{printf \"%d\", $H/($e-$s)}") handshakes/s"
fi
echo "peak RSS of meshgate: $(grep VmHWM /proc/${PIDS[1]}/status | awk '{print $2 " " $3}')"
