# The systems under test for contrib/bench/run.sh: how each one is configured, started and stopped.
# Each proxy is configured to do the same job: forward absolute-form HTTP, tunnel CONNECT to
# ORIGIN_HTTPS (18443), intercept TLS with its own CA (except tinyproxy, which cannot), splice
# tunnel.bench.test without decrypting it, verify origin certificates against the bench origin CA, resolve names
# through the bench resolver, write one log line per request, and never cache responses.
# shellcheck shell=bash

# Each port below (and ORIGIN_HTTP, ORIGIN_HTTPS, DNS_UPSTREAM_PORT in lib.sh) may be set in the
# environment; the defaults are unchanged.
MG_PORT=${MG_PORT:-13128}                  # meshgate, interception on, no rulesets (inspection off)
MG_INSPECT_PORT=${MG_INSPECT_PORT:-13129}  # meshgate with rulesets/shadow-mcp.yaml (inspection on: the issue's target)
MG_DLP_PORT=${MG_DLP_PORT:-13130}          # meshgate with rulesets/shadow-mcp.yaml + dlp-secrets.yaml (11 body regexes)
MG_ADMIN_PORT=${MG_ADMIN_PORT:-19090}      # the admin listeners of those three and of meshgate-dns
MG_INSPECT_ADMIN_PORT=${MG_INSPECT_ADMIN_PORT:-19091}
MG_DLP_ADMIN_PORT=${MG_DLP_ADMIN_PORT:-19093}
MG_DNS_ADMIN_PORT=${MG_DNS_ADMIN_PORT:-19092}
MG_DNS_PORT=${MG_DNS_PORT:-15303}
SQUID_PORT=${SQUID_PORT:-13131}
TINY_PORT=${TINY_PORT:-13132}
MITM_PORT=${MITM_PORT:-13133}
DNSMASQ_PORT=${DNSMASQ_PORT:-15301}
UNBOUND_PORT=${UNBOUND_PORT:-15302}
MG_MCP_PORT=${MG_MCP_PORT:-13134}              # meshgate with an `mcp: any` log rule (scenario 9's baseline)
MG_MCP_TOOLS_PORT=${MG_MCP_TOOLS_PORT:-13135}  # the same plus a registry and mcp_server / mcp_tool rules
MG_MCP_ADMIN_PORT=${MG_MCP_ADMIN_PORT:-19094}
MG_MCP_TOOLS_ADMIN_PORT=${MG_MCP_TOOLS_ADMIN_PORT:-19095}
bench_check_ports MG_PORT MG_INSPECT_PORT MG_DLP_PORT MG_ADMIN_PORT MG_INSPECT_ADMIN_PORT MG_DLP_ADMIN_PORT \
  MG_DNS_ADMIN_PORT MG_DNS_PORT SQUID_PORT TINY_PORT MITM_PORT DNSMASQ_PORT UNBOUND_PORT
TUNNEL_HOST=tunnel.bench.test
BUMP_HOST=www.bench.test

# proxy_port SYSTEM — the listening port of a proxy system.
proxy_port() {
  case $1 in
    meshgate | meshgate-live) echo "$MG_PORT" ;; meshgate-inspect | meshgate-near) echo "$MG_INSPECT_PORT" ;; meshgate-dlp) echo "$MG_DLP_PORT" ;; squid) echo "$SQUID_PORT" ;;
    meshgate-mcp) echo "$MG_MCP_PORT" ;; meshgate-mcp-tools) echo "$MG_MCP_TOOLS_PORT" ;;
    tinyproxy) echo "$TINY_PORT" ;; mitmproxy) echo "$MITM_PORT" ;;
  esac
}

# proxy_ca SYSTEM — the CA certificate a client must trust to accept the system's minted leaves.
proxy_ca() {
  case $1 in
    meshgate | meshgate-live | meshgate-inspect | meshgate-near | meshgate-dlp | meshgate-mcp | meshgate-mcp-tools) echo "$BENCH_W/meshgate-ca.pem" ;;
    squid) echo "$BENCH_W/squid-ca.pem" ;;
    mitmproxy) echo "$BENCH_W/mitm/mitmproxy-ca-cert.pem" ;;
  esac
}

# system_pid SYSTEM — the process whose RSS is reported (meshgate-near is meshgate-inspect sent
# the near-miss body).
# meshgate-live is meshgate with a dashboard subscriber attached.
system_pid() { local s=$1; [[ $s == meshgate-near ]] && s=meshgate-inspect; [[ $s == meshgate-live ]] && s=meshgate; echo "${BENCH_PID[$s]:-}"; }

# mg_config NAME PORT ADMIN_PORT [RULESET...] — a meshgate config in $BENCH_W/mg/NAME.yaml; all
# instances share one state directory, so one CA.
mg_config() {
  local name=$1 port=$2 admin=$3 W=$BENCH_W; shift 3
  {
    echo "state_dir: $W/mg/state"
    echo "listeners: { explicit: 127.0.0.1:$port, admin: 127.0.0.1:$admin }"
    # The benchmark origins listen on loopback, which clients may not reach by default.
    echo "access: { connect_ports: [443, $ORIGIN_HTTPS], allow_destinations: [127.0.0.0/8] }"
    echo "tls: { upstream_ca: $W/origin-ca.pem, do_not_inspect: [\"$TUNNEL_HOST\"] }"
    echo "audit: { path: $W/mg/audit-$name.jsonl }"
    if (($#)); then
      echo "portal: https://portal.example.com/mcp"
      local list; list=$(printf '%s, ' "$@"); echo "rulesets: [${list%, }]"
    else
      # Inspection off means no policy: without the key, meshgate runs the shipped rulesets
      # (shadow-mcp and dlp-secrets, built in, since 0b9493e), which made "off" a second "dlp".
      echo "rulesets: []"
    fi
  } >"$W/mg/$name.yaml"
}

start_meshgate() {
  local W=$BENCH_W name
  mkdir -p "$W/mg"
  mg_config meshgate "$MG_PORT" "$MG_ADMIN_PORT"
  mg_config meshgate-inspect "$MG_INSPECT_PORT" "$MG_INSPECT_ADMIN_PORT" "$REPO/rulesets/shadow-mcp.yaml"
  mg_config meshgate-dlp "$MG_DLP_PORT" "$MG_DLP_ADMIN_PORT" "$REPO/rulesets/shadow-mcp.yaml" "$REPO/rulesets/dlp-secrets.yaml"
  local names=(meshgate meshgate-inspect meshgate-dlp)
  if want_scenario 9; then
    # Scenario 9: the same MCP tools/call seen as MCP and logged, with and without tool-level policy.
    printf '%s\n' 'ruleset: bench-mcp' 'version: "1"' 'rules:' \
      '  - { id: mcp-seen, match: { mcp: any }, action: log }' >"$W/mg/mcp-base.yaml"
    printf '%s\n' 'ruleset: bench-mcp-tools' 'version: "1"' 'mcp_servers:' \
      "  - { name: bench, urls: [\"https://$BUMP_HOST:$ORIGIN_HTTPS/post\"] }" 'rules:' \
      '  - { id: no-deletes, match: { mcp_server: bench, mcp_tool: ["delete_*", "drop_*"] }, action: block }' \
      '  - { id: shadow, match: { mcp_server: unregistered }, action: block }' \
      '  - { id: mcp-seen, match: { mcp: any }, action: log }' >"$W/mg/mcp-tools.yaml"
    mg_config meshgate-mcp "$MG_MCP_PORT" "$MG_MCP_ADMIN_PORT" "$W/mg/mcp-base.yaml"
    mg_config meshgate-mcp-tools "$MG_MCP_TOOLS_PORT" "$MG_MCP_TOOLS_ADMIN_PORT" "$W/mg/mcp-tools.yaml"
    names+=(meshgate-mcp meshgate-mcp-tools)
  fi
  [[ -f $W/mg/state/ca.pem ]] || "$MESHGATE" ca init --config "$W/mg/meshgate.yaml" >/dev/null
  "$MESHGATE" ca export --config "$W/mg/meshgate.yaml" >"$W/meshgate-ca.pem"
  for name in "${names[@]}"; do
    bench_start $name bench_with_resolver "$MESHGATE" serve --config "$W/mg/$name.yaml" --log-level warning
  done
  bench_wait_tcp "$MG_PORT" && bench_wait_tcp "$MG_INSPECT_PORT" && bench_wait_tcp "$MG_DLP_PORT" || return 1
  if want_scenario 9; then bench_wait_tcp "$MG_MCP_PORT" && bench_wait_tcp "$MG_MCP_TOOLS_PORT"; fi
}
stop_meshgate() { bench_stop meshgate; bench_stop meshgate-inspect; bench_stop meshgate-dlp; bench_stop meshgate-mcp; bench_stop meshgate-mcp-tools; }

start_squid() {
  local W=$BENCH_W
  if [[ ! -f $W/squid-ca.pem ]]; then
    bench_ca "$W" squid-ca
    chmod 644 "$W/squid-ca.key"  # a throwaway CA; Squid reads it after dropping to the proxy user
  fi
  rm -rf "$W/squid" && mkdir -p "$W/squid"
  /usr/lib/squid/security_file_certgen -c -s "$W/squid/ssl_db" -M 64MB >/dev/null
  chown -R proxy:proxy "$W/squid"
  cat >"$W/squid/squid.conf" <<CONF
http_port 127.0.0.1:$SQUID_PORT ssl-bump tls-cert=$W/squid-ca.pem tls-key=$W/squid-ca.key generate-host-certificates=on dynamic_cert_mem_cache_size=64MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s $W/squid/ssl_db -M 64MB
sslcrtd_children 8 startup=2 idle=1
acl step1 at_step SslBump1
acl nobump ssl::server_name $TUNNEL_HOST
ssl_bump peek step1
ssl_bump splice nobump
ssl_bump bump all
tls_outgoing_options cafile=$W/origin-ca.pem
acl bench_ports port $ORIGIN_HTTP $ORIGIN_HTTPS 443 80
http_access deny !bench_ports
http_access allow localhost
http_access deny all
cache deny all
cache_mem 8 MB
dns_nameservers $RESOLVER_ADDR
max_filedescriptors 20000
access_log stdio:$W/squid/access.log
cache_store_log none
cache_log $W/squid/cache.log
pid_filename $W/squid/squid.pid
coredump_dir $W/squid
shutdown_lifetime 1 seconds
CONF
  bench_start squid squid -N -f "$W/squid/squid.conf"
  bench_wait_tcp "$SQUID_PORT" 30
}
stop_squid() { bench_stop squid; }

start_tinyproxy() {
  local W=$BENCH_W
  mkdir -p "$W/tinyproxy"
  cat >"$W/tinyproxy/tinyproxy.conf" <<CONF
User nobody
Group nogroup
Port $TINY_PORT
Listen 127.0.0.1
Timeout 600
MaxClients 20000
Allow 127.0.0.1
ConnectPort $ORIGIN_HTTPS
ConnectPort 443
LogLevel Critical
LogFile "$W/tinyproxy/tinyproxy.log"
CONF
  chmod 777 "$W/tinyproxy"
  bench_start tinyproxy bench_with_resolver tinyproxy -d -c "$W/tinyproxy/tinyproxy.conf"
  bench_wait_tcp "$TINY_PORT"
}
stop_tinyproxy() { bench_stop tinyproxy; }

start_mitmproxy() {
  local W=$BENCH_W
  mkdir -p "$W/mitm"
  # The addon runs the shadow-mcp ruleset's four MCP regexes over every request body (scenario 6).
  bench_start mitmproxy bench_with_resolver mitmdump --listen-host 127.0.0.1 --listen-port "$MITM_PORT" \
    --set confdir="$W/mitm" --set ssl_verify_upstream_trusted_ca="$W/origin-ca.pem" \
    --ignore-hosts "^${TUNNEL_HOST//./\\.}(:|$)" -s "$BENCH_DIR/mcp_addon.py"
  bench_wait_tcp "$MITM_PORT" 30
  local i
  for i in $(seq 50); do [[ -f $W/mitm/mitmproxy-ca-cert.pem ]] && break; sleep 0.1; done
}
stop_mitmproxy() { bench_stop mitmproxy; }

start_direct() { :; }
stop_direct() { :; }

# ---- DNS servers (scenario 7) ----------------------------------------------------------------

# dns_blocklist — the same 10,000 names for every server, in each one's format.
dns_blocklist() {
  local W=$BENCH_W
  [[ -f $W/blocklist.txt ]] && return 0
  seq 1 10000 | awk '{printf "blk%d.test\n", $1}' >"$W/blocklist.txt"
  awk '{printf "address=/%s/0.0.0.0\naddress=/%s/::\n", $1, $1}' "$W/blocklist.txt" >"$W/dnsmasq-block.conf"
  awk '{printf "  local-zone: \"%s.\" always_null\n", $1}' "$W/blocklist.txt" >"$W/unbound-block.conf"
  {
    echo 'ruleset: bench-blocklist'
    echo 'version: "1"'
    echo 'rules:'
    echo '  - id: blocklist'
    echo '    match:'
    echo '      host:'
    awk '{printf "        - \"%s\"\n", $1}' "$W/blocklist.txt"
    echo '    action: block'
  } >"$W/blocklist.yaml"
}

start_dnsmasq() {
  dns_blocklist
  bench_start dnsmasq dnsmasq -k --conf-file=/dev/null --listen-address=127.0.0.1 --bind-interfaces \
    --port="$DNSMASQ_PORT" --no-resolv --no-hosts --server="127.0.0.1#$DNS_UPSTREAM_PORT" --cache-size=10000 \
    --user=root --pid-file="$BENCH_W/dnsmasq.pid" --conf-file="$BENCH_W/dnsmasq-block.conf"
}
stop_dnsmasq() { bench_stop dnsmasq; }

start_unbound() {
  dns_blocklist
  cat >"$BENCH_W/unbound.conf" <<UNB
server:
  interface: 127.0.0.1@$UNBOUND_PORT
  port: $UNBOUND_PORT
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$BENCH_W"
  pidfile: "$BENCH_W/unbound.pid"
  use-syslog: no
  verbosity: 0
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "iterator"
  # unbound answers the RFC 6761 name test. itself (NXDOMAIN) unless told not to.
  local-zone: "test." nodefault
$(cat "$BENCH_W/unbound-block.conf")
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@$DNS_UPSTREAM_PORT
UNB
  bench_start unbound unbound -d -c "$BENCH_W/unbound.conf"
}
stop_unbound() { bench_stop unbound; }

# start_meshgate-dns — meshgate's DNS listener with the block list as a ruleset. Returns 1 (with a
# reason in $BENCH_W/meshgate-dns.skip) when this meshgate build does not accept `listeners.dns`
# or does not answer on it.
start_meshgate-dns() {
  dns_blocklist
  local W=$BENCH_W
  mkdir -p "$W/mgdns"
  cat >"$W/mgdns/meshgate.yaml" <<YML
state_dir: $W/mgdns/state
listeners: { explicit: off, dns: 127.0.0.1:$MG_DNS_PORT, admin: 127.0.0.1:$MG_DNS_ADMIN_PORT }
dns: { upstreams: ["127.0.0.1:$DNS_UPSTREAM_PORT"], block_answer: zero }
audit: { path: $W/mgdns/audit.jsonl }
rulesets: [$W/blocklist.yaml]
YML
  bench_start meshgate-dns "$MESHGATE" serve --config "$W/mgdns/meshgate.yaml" --log-level warning
  local i
  for i in $(seq 100); do
    if ! bench_alive meshgate-dns || grep -q 'listener=dns.*not available' "$W/meshgate-dns.log"; then
      echo "this meshgate build has no DNS listener: $(grep -m1 'listener=dns' "$W/meshgate-dns.log" | sed 's/.*\] //' || tail -n 1 "$W/meshgate-dns.log")" >"$W/meshgate-dns.skip"
      bench_stop meshgate-dns; return 1
    fi
    python3 "$BENCH_DIR/dnsq.py" 127.0.0.1 "$MG_DNS_PORT" c1.ok.test 0.2 >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "meshgate accepted listeners.dns but did not answer DNS queries on it within 10 s" >"$W/meshgate-dns.skip"
  bench_stop meshgate-dns
  return 1
}
stop_meshgate-dns() { bench_stop meshgate-dns; }
