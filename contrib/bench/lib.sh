# Shared helpers for contrib/bench/*.sh: a work directory, child processes tracked and stopped by PID,
# the nginx origin with a throwaway CA, and a tiny resolver for the *.bench.test names.
# Source it; it sets BENCH_W (work directory) and installs an EXIT trap that stops every child.
# shellcheck shell=bash

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
# Every port the harness listens on can be set from the environment (the defaults are what the
# published results used); BenchHarnessTests passes free ones so that it runs beside anything else.
ORIGIN_HTTP=${ORIGIN_HTTP:-18080}
ORIGIN_HTTPS=${ORIGIN_HTTPS:-18443}
# bench_resolver's second interface: the upstream of the DNS scenario's servers.
DNS_UPSTREAM_PORT=${DNS_UPSTREAM_PORT:-15300}

# bench_check_ports VAR... — exit unless each variable holds a port number (they may come from the
# environment, and they go unquoted into configuration files).
bench_check_ports() {
  local v
  for v in "$@"; do
    if [[ ! ${!v} =~ ^[0-9]{1,5}$ ]] || ((10#${!v} == 0 || 10#${!v} > 65535)); then
      echo "$v=${!v} is not a port number" >&2
      exit 2
    fi
  done
}
bench_check_ports ORIGIN_HTTP ORIGIN_HTTPS DNS_UPSTREAM_PORT  # before anything is made that would need cleaning up

BENCH_W=${BENCH_W:-$(mktemp -d /tmp/meshgate-bench.XXXXXX)}
chmod 755 "$BENCH_W"   # Squid and tinyproxy drop privileges and must read their config here.
declare -A BENCH_PID=()  # name -> pid of every child started by bench_start

# The resolver the proxies use for *.bench.test. It must be port 53 (resolv.conf has no port), so it
# takes a loopback address nothing else is likely to use rather than 127.0.0.1:53.
RESOLVER_ADDR=${RESOLVER_ADDR:-127.0.0.153}

bench_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

bench_cleanup() {
  local name
  for name in "${!BENCH_PID[@]}"; do bench_stop "$name"; done
  [[ -n ${BENCH_KEEP:-} ]] || rm -rf "$BENCH_W"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# bench_start NAME CMD... — run CMD in the background with output in $BENCH_W/NAME.log.
bench_start() {
  local name=$1; shift
  "$@" >"$BENCH_W/$name.log" 2>&1 &
  BENCH_PID[$name]=$!
}

# bench_stop NAME — SIGTERM by PID, then SIGKILL after 5 s.
bench_stop() {
  local name=$1 pid=${BENCH_PID[$1]:-} i
  [[ -n $pid ]] || return 0
  unset "BENCH_PID[$name]"
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

bench_alive() { local pid=${BENCH_PID[$1]:-}; [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; }

# bench_wait_tcp PORT [SECONDS] — wait until something accepts on 127.0.0.1:PORT.
bench_wait_tcp() {
  local port=$1 limit=${2:-20} i
  for i in $(seq $((limit * 10))); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# bench_port_free PORT — true when nothing listens on 127.0.0.1:PORT (TCP).
bench_port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

# Peak and current resident set of a PID in KiB; bench_reset_peak makes the next peak per-scenario.
bench_hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
bench_rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
bench_reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
# CPU time (user + system, clock ticks) of a PID and all its descendants: Squid's work happens in
# its kid and certificate helpers, not in the master process the harness started.
bench_tree_ticks() {
  local pids=($1) i=0 p
  while ((i < ${#pids[@]})); do
    for p in $(cat /proc/"${pids[i]}"/task/*/children 2>/dev/null); do pids+=("$p"); done
    i=$((i + 1))
  done
  for p in "${pids[@]}"; do sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null; done | awk '{t += $12 + $13} END {print t + 0}'
}

# bench_ca DIR NAME — a throwaway EC CA in DIR/NAME.pem + DIR/NAME.key.
bench_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$1/$2.key" -out "$1/$2.pem" 2>/dev/null
}

# bench_leaf DIR CA NAME SAN — a server certificate DIR/NAME.pem + DIR/NAME.key signed by DIR/CA,
# with subjectAltName SAN (e.g. "DNS:localhost,IP:127.0.0.1").
bench_leaf() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$3" \
    -keyout "$1/$3.key" -out "$1/$3.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "$4" >"$1/$3.ext"
  openssl x509 -req -in "$1/$3.csr" -CA "$1/$2.pem" -CAkey "$1/$2.key" -CAcreateserial \
    -days 2 -extfile "$1/$3.ext" -out "$1/$3.pem" 2>/dev/null
}

# bench_origin — nginx on ORIGIN_HTTP / ORIGIN_HTTPS serving /1k, /1m and POST /post (reads the body,
# answers "ok"), with a
# certificate for localhost and *.bench.test from the "origin-ca" CA ($BENCH_W/origin-ca.pem).
bench_origin() {
  local W=$BENCH_W
  bench_ca "$W" origin-ca
  bench_leaf "$W" origin-ca origin "DNS:localhost,DNS:bench.test,DNS:*.bench.test,IP:127.0.0.1"
  # POST /post must read the whole body before answering: nginx's `return` answers first and discards
  # the rest, which makes a proxy that is still sending the body close the client connection.
  local load_echo="" post='return 200 "ok";'
  if [[ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ]]; then
    load_echo="load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;"
    post='echo_read_request_body; echo -n "ok";'
  fi
  mkdir -p "$W/www"
  head -c 1024 /dev/urandom >"$W/www/1k"
  head -c 1048576 /dev/urandom >"$W/www/1m"
  cat >"$W/nginx.conf" <<NGX
$load_echo
worker_processes 1; pid $W/nginx.pid; error_log $W/nginx.err; daemon off;
worker_rlimit_nofile 19000;
events { worker_connections 18000; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 120s; client_header_timeout 120s;
  server { listen 127.0.0.1:$ORIGIN_HTTP backlog=4096; listen 127.0.0.1:$ORIGIN_HTTPS ssl backlog=4096; server_name _;
    ssl_certificate $W/origin.pem; ssl_certificate_key $W/origin.key; ssl_session_tickets off; ssl_session_cache off;
    root $W/www; client_max_body_size 4m; client_body_buffer_size 128k;
    location = /post { $post } } }
NGX
  bench_start origin nginx -c "$W/nginx.conf"
  bench_wait_tcp "$ORIGIN_HTTP" && bench_wait_tcp "$ORIGIN_HTTPS" || { cat "$W/nginx.err" "$W/origin.log" >&2; return 1; }
}

# bench_resolver [EXTRA_UNBOUND_LINES] — unbound on RESOLVER_ADDR:53 (and 127.0.0.1:DNS_UPSTREAM_PORT, the DNS
# scenario's upstream) answering every *.bench.test name with 127.0.0.1 and every *.miss.test /
# *.ok.test name with a fixed address, like an authoritative server that is always right there.
# Proxies that use the system resolver run under bench_with_resolver, which bind-mounts a
# resolv.conf naming it into a private mount namespace (the real /etc/resolv.conf is untouched).
bench_resolver() {
  local W=$BENCH_W
  cat >"$W/resolver.conf" <<UNB
server:
  interface: $RESOLVER_ADDR@53
  interface: 127.0.0.1@$DNS_UPSTREAM_PORT
  port: 53
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$W"
  pidfile: "$W/resolver.pid"
  use-syslog: no
  logfile: "$W/resolver.err"
  verbosity: 0
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "bench.test." redirect
  local-data: "bench.test. 3600 IN A 127.0.0.1"
  local-zone: "test." redirect
  local-data: "test. 3600 IN A 192.0.2.3"
  local-zone: "miss.test." redirect
  local-data: "miss.test. 60 IN A 192.0.2.1"
  local-zone: "ok.test." redirect
  local-data: "ok.test. 3600 IN A 192.0.2.2"
UNB
  printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$RESOLVER_ADDR" >"$W/resolv.conf"
  bench_start resolver unbound -d -c "$W/resolver.conf"
  local i
  for i in $(seq 50); do
    bench_alive resolver || break
    [[ $(python3 "$BENCH_DIR/dnsq.py" "$RESOLVER_ADDR" 53 www.bench.test 2>/dev/null) == 127.0.0.1 ]] && return 0
    sleep 0.1
  done
  echo "the bench resolver did not start on $RESOLVER_ADDR:53 (taken? set RESOLVER_ADDR=127.0.0.x)" >&2
  cat "$W/resolver.log" "$W/resolver.err" >&2 2>/dev/null
  return 1
}

# bench_with_resolver CMD... — exec CMD with /etc/resolv.conf replaced (in a private mount namespace
# only) by one naming bench_resolver. The PID stays CMD's: unshare and sh both exec.
bench_with_resolver() {
  exec unshare -m --propagation private sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$BENCH_W/resolv.conf" "$@"
}

# bench_build_loadgen — the load generator, compiled once into the work directory.
bench_build_loadgen() {
  [[ -x $BENCH_W/loadgen ]] && return 0
  local cc=${CC:-}
  [[ -n $cc ]] || cc=$(command -v cc || command -v gcc || command -v clang) || { echo "needs a C compiler (apt-get install gcc libssl-dev)" >&2; return 1; }
  "$cc" -O2 -o "$BENCH_W/loadgen" "$BENCH_DIR/loadgen.c" -lssl -lcrypto -lpthread
}
