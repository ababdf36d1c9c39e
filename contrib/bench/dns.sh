#!/usr/bin/env bash
# meshgate's DNS filter against dnsmasq as a forwarding filter, side by side in one run (issue 5).
# Both filter the same 10,000-name block list and forward to the same local upstream (a third
# dnsmasq that answers every name itself). Measured with dnsperf over UDP:
#   cached   1,000 allowed names, answered from each filter's cache (after a warm-up pass)
#   blocked  1,000 names from the block list (answered by the filter without forwarding)
#   miss     names never asked before, so every query is forwarded
#   cached@R the cached set at a fixed R queries/s (RATE, default 20000): latency without saturation
# The first three run flat out (each dnsperf client keeps OUTSTANDING queries in flight), so their
# latencies are mostly queueing. p50/p99 come from dnsperf -v (one line per response). Everything binds 127.0.0.1 and is
# started here and stopped by PID; each measurement runs DUR seconds.
# TESTS picks among them (e.g. TESTS="cached@5000"); DUR, CLIENTS, OUTSTANDING and RATE tune them.
#   contrib/bench/dns.sh [path/to/meshgate]          (build first: swift build -c release --product meshgate)
set -euo pipefail
MESHGATE=${1:-.build/release/meshgate}
DUR=${DUR:-10}
CLIENTS=${CLIENTS:-10}
OUTSTANDING=${OUTSTANDING:-100}
RATE=${RATE:-20000}
TESTS=${TESTS:-cached blocked miss cached@$RATE}
UP_PORT=${UP_PORT:-25353} DNSMASQ_PORT=${DNSMASQ_PORT:-25354} MESHGATE_PORT=${MESHGATE_PORT:-25355}
command -v dnsperf >/dev/null && command -v dnsmasq >/dev/null || { echo "needs dnsperf and dnsmasq (apt-get install -y dnsperf dnsmasq-base)"; exit 1; }
[[ -x "$MESHGATE" ]] || { echo "no meshgate binary at $MESHGATE (swift build -c release --product meshgate)"; exit 1; }
W=$(mktemp -d /tmp/meshgate-dnsbench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

# The block list, in both formats.
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "blocked-%05d.ads.bench.test\n", i }' > "$W/blocked.txt"
{ printf 'ruleset: bench-block\nversion: "1"\nrules:\n  - id: bench-block\n    action: block\n    match:\n      host:\n'
  sed 's/.*/        - "&"/' "$W/blocked.txt"; } > "$W/block.yaml"
sed 's|.*|address=/&/0.0.0.0|' "$W/blocked.txt" > "$W/dnsmasq-block.conf"

# Query files.
awk 'BEGIN { for (i = 0; i < 1000; i++) printf "allowed-%04d.bench.test A\n", i }' > "$W/cached.txt"
awk 'BEGIN { for (i = 0; i < 1000; i++) printf "blocked-%05d.ads.bench.test A\n", i * 10 }' > "$W/blocked-q.txt"
for who in meshgate dnsmasq; do
  awk -v w="$who" 'BEGIN { for (i = 0; i < 2000000; i++) printf "miss-%s-%07d.bench.test A\n", w, i }' > "$W/miss-$who.txt"
done

# The upstream: answers every A query with 203.0.113.7, TTL 300, no cache of its own.
dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 --port=$UP_PORT \
  --address=/#/203.0.113.7 --local-ttl=300 --cache-size=0 --user="$(id -un)" --pid-file="$W/up.pid" --log-facility="$W/up.log" & PIDS+=($!)
# dnsmasq as the filter: the block list as address=/name/0.0.0.0, its largest cache, forwarding to the upstream.
dnsmasq -k --conf-file="$W/dnsmasq-block.conf" --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 --port=$DNSMASQ_PORT \
  --server=127.0.0.1#$UP_PORT --cache-size=10000 --dns-forward-max=1000 --user="$(id -un)" --pid-file="$W/filter.pid" \
  --log-facility="$W/filter.log" & PIDS+=($!)
# meshgate with the same list, the audit log on (it always is) in the work directory.
cat > "$W/meshgate.yaml" <<YML
state_dir: $W/state
listeners: { explicit: off, admin: off, dns: 127.0.0.1:$MESHGATE_PORT }
rulesets: [$W/block.yaml]
audit: { path: $W/audit.jsonl }
dns: { upstreams: [127.0.0.1:$UP_PORT] }
YML
"$MESHGATE" serve --config "$W/meshgate.yaml" --log-level warning 2> "$W/meshgate.log" & PIDS+=($!)

for _ in $(seq 50); do dig +short +tries=1 +time=1 -p $UP_PORT @127.0.0.1 probe.bench.test 2>/dev/null | grep -q 203.0.113.7 && break; sleep 0.2; done
[[ "$(dig +short -p $UP_PORT @127.0.0.1 probe.bench.test)" == 203.0.113.7 ]] || { echo "the upstream dnsmasq is not answering on $UP_PORT (port taken? set UP_PORT)"; exit 1; }
for _ in $(seq 100); do
  dig +short +tries=1 +time=1 -p $MESHGATE_PORT @127.0.0.1 probe.bench.test >/dev/null 2>&1 \
    && dig +short +tries=1 +time=1 -p $DNSMASQ_PORT @127.0.0.1 probe.bench.test >/dev/null 2>&1 && break
  sleep 0.2
done
[[ "$(dig +short -p $MESHGATE_PORT @127.0.0.1 blocked-00001.ads.bench.test)" == 0.0.0.0 ]] || { echo "meshgate does not block"; exit 1; }
[[ "$(dig +short -p $DNSMASQ_PORT @127.0.0.1 blocked-00001.ads.bench.test)" == 0.0.0.0 ]] || { echo "dnsmasq does not block"; exit 1; }

# run NAME PORT FILE [dnsperf options] -> "qps p50_ms p99_ms lost"
run() {
  local port=$2 file=$3
  shift 3
  dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$DUR" -c "$CLIENTS" -q "$OUTSTANDING" -t 2 -v "$@" > "$W/out" 2>&1 || true
  local qps lost
  qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$W/out")
  lost=$(awk '/Queries lost:/ { print $3 }' "$W/out")
  # Verbose lines: "> NOERROR name A 0.000123" — the last field is the latency in seconds.
  grep '^> ' "$W/out" | awk '{ print $NF }' | sort -g > "$W/lat"
  local n p50 p99
  n=$(wc -l < "$W/lat")
  p50=$(awk -v n="$n" 'NR == int(n * 0.50) + 1 { printf "%.3f", $1 * 1000; exit }' "$W/lat")
  p99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1 { printf "%.3f", $1 * 1000; exit }' "$W/lat")
  echo "$qps $p50 $p99 $lost"
}

# Warm both caches with the cached set (twice: dnsmasq's forwards are asynchronous).
for port in $MESHGATE_PORT $DNSMASQ_PORT; do
  for _ in 1 2; do dnsperf -s 127.0.0.1 -p $port -d "$W/cached.txt" -n 1 -c 10 -q 50 >/dev/null 2>&1 || true; done
done

printf '%-8s %-9s %10s %9s %9s %s\n' test server qps p50_ms p99_ms lost
declare -A QPS
for test in $TESTS; do
  for who in meshgate dnsmasq; do
    port=$MESHGATE_PORT; [[ $who == dnsmasq ]] && port=$DNSMASQ_PORT
    file="$W/cached.txt"; [[ $test == blocked ]] && file="$W/blocked-q.txt"; [[ $test == miss ]] && file="$W/miss-$who.txt"
    extra=(); [[ $test == cached@* ]] && extra=(-Q "${test#cached@}")
    read -r qps p50 p99 lost < <(run "$who" "$port" "$file" "${extra[@]}")
    QPS[$test-$who]=$qps
    printf '%-8s %-9s %10s %9s %9s %s\n' "$test" "$who" "$qps" "$p50" "$p99" "$lost"
  done
done
for test in $TESTS; do
  [[ $test == cached@* ]] && continue
  awk -v t="$test" -v m="${QPS[$test-meshgate]}" -v d="${QPS[$test-dnsmasq]}" 'BEGIN { if (d > 0) printf "%-8s meshgate/dnsmasq qps ratio %.2f\n", t, m / d }'
done
echo "audit lines written by meshgate: $(wc -l < "$W/audit.jsonl")"
grep -q "audit event dropped" "$W/meshgate.log" && echo "meshgate dropped audit events under this load (see meshgate_audit_dropped_total)" || true
