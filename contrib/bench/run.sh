#!/usr/bin/env bash
# Side-by-side benchmark of meshgate against Squid (ssl-bump), tinyproxy, mitmproxy, dnsmasq and
# unbound on this machine (issue 7). Writes contrib/bench/RESULTS.md.
#
#   contrib/bench/run.sh [--quick] [--only SCENARIO,...] [--systems SYSTEM,...] [--perf] [--out FILE] [--json FILE]
#
# Scenarios (names or numbers): 1 plain, 2 large, 3 tunnel, 4 intercept, 5 handshake, 6 post, 7 dns, 8 idle,
# 9 mcp (meshgate only: an intercepted MCP tools/call with and without tool-level policy),
# 10 live (meshgate only: scenario 1's load with and without a dashboard subscriber on the decision stream).
# Systems: direct meshgate squid tinyproxy mitmproxy (proxies); dnsmasq unbound meshgate-dns (DNS).
# --quick: 1 run of 3 s per measurement (under 5 minutes); default: median of 3 runs of 10 s.
# --keep FILE: merge the raw measurements of the scenarios not selected by --only from an earlier
#          run's .jsonl (to redo one scenario without redoing the rest).
# --json:  where to keep the raw measurements (JSON lines); default: beside --out, as .jsonl.
# --perf:  record `perf record -g` of meshgate during scenarios 1, 3 and 4, of meshgate with inspection off
#          and with shadow-mcp in 6 (6-off, 6-inspect), of the DNS listener in 7 (cached queries) and of
#          both MCP instances in 9 (9-mcp, 9-tools), run 1,
#          into contrib/bench/profiles/.
# MESHGATE=path uses that binary instead of building `swift build -c release --product meshgate`.
# Ports come from the environment when set, else these defaults. TCP: ORIGIN_HTTP=18080
# ORIGIN_HTTPS=18443 MG_PORT=13128 MG_INSPECT_PORT=13129 MG_DLP_PORT=13130 MG_ADMIN_PORT=19090
# MG_INSPECT_ADMIN_PORT=19091 MG_DLP_ADMIN_PORT=19093 MG_DNS_ADMIN_PORT=19092 SQUID_PORT=13131
# TINY_PORT=13132 MITM_PORT=13133. UDP and TCP: DNS_UPSTREAM_PORT=15300 DNSMASQ_PORT=15301
# UNBOUND_PORT=15302 MG_DNS_PORT=15303. The resolver is RESOLVER_ADDR (127.0.0.153) port 53.
# Needs: contrib/bench/install.sh. Everything binds loopback, is started here, stopped by PID on
# exit, and every measurement is bounded in time.
set -euo pipefail

QUICK=0 ONLY="" SYSTEMS="" PERF=0 OUT="" JSON="" KEEP=""
CMDLINE="contrib/bench/run.sh $*"
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=1 ;;
    --only) ONLY=$2; shift ;;
    --systems) SYSTEMS=$2; shift ;;
    --perf) PERF=1 ;;
    --out) OUT=$2; shift ;;
    --json) JSON=$2; shift ;;
    --keep) KEEP=$2; shift ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/systems.sh"
OUT=${OUT:-$BENCH_DIR/RESULTS.md}
JSON=${JSON:-${OUT%.md}.jsonl}  # the raw measurements, one JSON object per line, beside the report

if [[ $QUICK == 1 ]]; then DUR=${DUR:-3}; RUNS=${RUNS:-1}; WARM=1; HOLD=${HOLD:-2000}; DNSDUR=${DNSDUR:-3}
else DUR=${DUR:-10}; RUNS=${RUNS:-3}; WARM=2; HOLD=${HOLD:-10000}; DNSDUR=${DNSDUR:-10}; fi
COLD_HOSTS=${COLD_HOSTS:-1000}
# A proxy holds two descriptors per tunnel and this machine's hard limit may be below 20,000 + spare.
MAX_HOLD=$(( ($(ulimit -Hn) - 300) / 2 ))
[[ $HOLD -le $MAX_HOLD ]] || { bench_log "holding $MAX_HOLD tunnels, not $HOLD: ulimit -Hn is $(ulimit -Hn)"; HOLD=$MAX_HOLD; }
RES=$BENCH_W/results.jsonl
: >"$RES"

declare -A SCEN_NAME=([1]=plain [2]=large [3]=tunnel [4]=intercept [5]=handshake [6]=post [7]=dns [8]=idle [9]=mcp [10]=live)
want_scenario() { # $1 = number
  [[ -z $ONLY ]] && return 0
  local s
  for s in ${ONLY//,/ }; do [[ $s == "$1" || $s == "${SCEN_NAME[$1]}" ]] && return 0; done
  return 1
}
want_system() {
  [[ -z $SYSTEMS ]] && return 0
  local s
  for s in ${SYSTEMS//,/ }; do [[ $s == "$1" ]] && return 0; done
  return 1
}

# record SCENARIO SYSTEM RUN METRIC VALUE — a value that is not a number becomes a skip with the reason.
record() {
  if [[ ! $5 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then skip "$1" "$2" "no number for $4 (got '${5:0:80}')"; return 0; fi
  printf '{"s":"%s","sys":"%s","run":%s,"m":"%s","v":%s}\n' "$@" >>"$RES"
}
# skip SCENARIO SYSTEM REASON
skip() { python3 -c 'import json,sys; print(json.dumps({"s":sys.argv[1],"sys":sys.argv[2],"skip":sys.argv[3]}))' "$@" >>"$RES"; bench_log "skip $1/$2: $3"; }

# contrib/bench/install.sh puts mitmproxy in a virtualenv; last in PATH, so its python3 is not used.
PATH=$PATH:$REPO/.build/bench-venv/bin
tools=(nginx wrk unbound unshare curl openssl python3)
want_scenario 7 && tools+=(dnsperf)
declare -A TOOL_OF=([squid]=squid [tinyproxy]=tinyproxy [mitmproxy]=mitmdump [dnsmasq]=dnsmasq)
for sys in "${!TOOL_OF[@]}"; do want_system "$sys" && tools+=("${TOOL_OF[$sys]}"); done
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run contrib/bench/install.sh" >&2; exit 1; }
done
ulimit -n "$(ulimit -Hn)"

# A taken TCP port would otherwise show up later as a system that "did not start": fail now and name
# the variable that moves it. (DNS ports are mostly UDP, which this cannot probe; unbound and meshgate
# report a taken one themselves.)
port_vars=(ORIGIN_HTTP ORIGIN_HTTPS)
for n in 1 2 3 4 5 6 8; do
  want_scenario $n || continue
  want_system meshgate && port_vars+=(MG_PORT MG_INSPECT_PORT MG_DLP_PORT MG_ADMIN_PORT MG_INSPECT_ADMIN_PORT MG_DLP_ADMIN_PORT)
  want_system squid && port_vars+=(SQUID_PORT)
  want_system tinyproxy && port_vars+=(TINY_PORT)
  want_system mitmproxy && port_vars+=(MITM_PORT)
  break
done
for v in "${port_vars[@]}"; do
  bench_port_free "${!v}" || { echo "port ${!v} ($v) is in use on 127.0.0.1: stop what holds it or set $v to a free port" >&2; exit 1; }
done

# ---- meshgate binary -------------------------------------------------------------------------
if [[ -z ${MESHGATE:-} ]]; then
  bench_log "building meshgate (swift build -c release --product meshgate)"
  (cd "$REPO" && swift build -c release --product meshgate >"$BENCH_W/build.log" 2>&1) || { tail -20 "$BENCH_W/build.log"; exit 1; }
  MESHGATE=$REPO/.build/release/meshgate
fi
bench_build_loadgen
L=$BENCH_W/loadgen

bench_log "work directory $BENCH_W; $RUNS run(s) of ${DUR}s per measurement"
bench_origin
bench_resolver

# Shared inputs: the wrk script for absolute-form URLs and the 64 KiB JSON body.
for f in 1k 1m; do
  printf 'wrk.path = "http://127.0.0.1:%s/%s"\nwrk.headers["Host"] = "127.0.0.1:%s"\n' $ORIGIN_HTTP $f $ORIGIN_HTTP >"$BENCH_W/abs-$f.lua"
done
python3 - "$BENCH_W/body.json" "$BENCH_W/body-near.json" <<'PY'
import json, random, sys
random.seed(7)
words = "the of and to in is for on that with as by at from this be or are an it agent build tool test".split()
doc = {"model": "bench", "messages": []}
while len(json.dumps(doc)) < 65536 - 300:
    doc["messages"].append({"role": "user", "content": " ".join(random.choice(words) for _ in range(40))})
def write(path, doc):
    text = json.dumps(doc)
    text = text[:-2] + "]" + " " * (65536 - len(text)) + "}"  # pad to exactly 64 KiB, still valid JSON
    assert len(text) == 65536
    json.loads(text)
    open(path, "w").write(text)
write(sys.argv[1], doc)
# The near miss: a "protocolVersion" member (not a 202x date, no initialize) puts a literal of the
# shadow-mcp patterns in the body, so it is canonicalised and scanned by PCRE2 in full.
near = {"protocolVersion": "draft", **doc}
near["messages"] = doc["messages"][:-1]
write(sys.argv[2], near)
PY

# ---- measurements ----------------------------------------------------------------------------

# wrk_run SCEN SYSTEM RUN PATH CONNS — plain HTTP through SYSTEM (or direct) with wrk.
wrk_run() {
  local scen=$1 sys=$2 run=$3 file=$4 conns=$5 out port
  local args=(-t2 -c"$conns" --latency --timeout 5s)
  if [[ $sys == direct ]]; then set -- "http://127.0.0.1:$ORIGIN_HTTP/$file"
  else port=$(proxy_port "$sys"); args+=(-s "$BENCH_W/abs-$file.lua"); set -- "http://127.0.0.1:$port"; fi
  [[ $WARM -gt 0 ]] && timeout $((WARM + 10)) wrk "${args[@]}" -d"${WARM}s" "$1" >/dev/null 2>&1
  local pid t0=""; pid=$(system_pid "$sys"); [[ -n $pid ]] && t0=$(bench_tree_ticks "$pid")
  out=$(timeout $((DUR + 20)) wrk "${args[@]}" -d"${DUR}s" "$1" 2>&1) || true
  echo "$out" >>"$BENCH_W/wrk-$scen-$sys.log"
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  [[ -n $rps ]] || { skip "$scen" "$sys" "wrk produced no result: $(tail -n 1 <<<"$out")"; return; }
  p50=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms); p99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
  errs=$(awk '/Non-2xx/ {n+=$NF} /Socket errors/ {gsub(",",""); n+=$4+$6+$8+$10} END {print n+0}' <<<"$out")
  if [[ $file == 1m ]]; then record "$scen" "$sys" "$run" mibps "$(awk "BEGIN{print $rps}")"
  else record "$scen" "$sys" "$run" rps "$rps"; record "$scen" "$sys" "$run" p50_ms "$p50"; record "$scen" "$sys" "$run" p99_ms "$p99"; fi
  record "$scen" "$sys" "$run" errors "$errs"
  [[ -n $t0 && $file == 1k ]] && record "$scen" "$sys" "$run" cpu_us_per_req \
    "$(awk -v d="$(($(bench_tree_ticks "$pid") - t0))" -v hz="$(getconf CLK_TCK)" -v r="$rps" -v s="$DUR" 'BEGIN{printf "%.1f", d / hz * 1e6 / (r * s)}')"
  return 0
}
to_ms() { awk '{v=$1; u=v; gsub(/[0-9.]/,"",u); gsub(/[a-z]/,"",v); if (u=="us") v/=1000; else if (u=="s") v*=1000; print v+0}'; }

# lg_run SCEN SYSTEM RUN LOADGEN_ARGS... — run the load generator through SYSTEM (or direct) and
# record rps, p50/p99 and the error count. Prints the JSON line.
lg_cmd() { # SYSTEM -> connection arguments
  if [[ $1 == direct ]]; then echo "--connect 127.0.0.1:$ORIGIN_HTTPS"
  else echo "--connect 127.0.0.1:$(proxy_port "$1") --proxy"; fi
}
lg_json() { # KEY < json
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]])' "$1"
}
lg_run() {
  local scen=$1 sys=$2 run=$3; shift 3
  local out pid ticks_file=$BENCH_W/ticks-$scen-$sys warm=0 dur=0 a
  pid=$(system_pid "$sys")
  # The system's CPU over the measured window only: sampled once the warm-up is over and again
  # at the end, so CPU per request does not depend on how busy the machine was.
  for ((a = 1; a <= $#; a++)); do
    [[ ${!a} == --warmup ]] && { a=$((a + 1)); warm=${!a}; }
    [[ ${!a} == --duration ]] && { a=$((a + 1)); dur=${!a}; }
  done
  rm -f "$ticks_file"
  local sampler=""
  [[ -n $pid && $dur != 0 && $dur -lt 100 ]] && { (sleep "$warm"; bench_tree_ticks "$pid" >"$ticks_file") & sampler=$!; }
  # shellcheck disable=SC2046
  out=$(timeout 120 "$L" $(lg_cmd "$sys") "$@") || true
  echo "$out" >>"$BENCH_W/lg-$scen-$sys.log"
  [[ $out == \{* ]] || { skip "$scen" "$sys" "load generator failed"; return 1; }
  local requests errors
  requests=$(lg_json requests <<<"$out"); errors=$(lg_json errors <<<"$out")
  if [[ $requests == 0 ]]; then skip "$scen" "$sys" "no request succeeded: $(lg_json first_error <<<"$out")"; return 1; fi
  LG_OUT=$out
  record "$scen" "$sys" "$run" errors "$errors"
  [[ -n $sampler ]] && wait "$sampler"
  if [[ -s $ticks_file ]]; then
    local t0 t1; t0=$(cat "$ticks_file"); t1=$(bench_tree_ticks "$pid")
    record "$scen" "$sys" "$run" cpu_us_per_req "$(awk -v d="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v r="$requests" 'BEGIN{printf "%.1f", d / hz * 1e6 / r}')"
  fi
}

# check_https SYSTEM HOST — one request through SYSTEM with curl, verifying the certificate against
# the system's CA (so interception is really happening) or the origin's (tunnel / direct).
check_https() {
  local sys=$1 host=$2 ca=$BENCH_W/origin-ca.pem args=()
  if [[ $sys != direct ]]; then
    args=(-x "http://127.0.0.1:$(proxy_port "$sys")")
    [[ $host == "$TUNNEL_HOST" || $sys == tinyproxy ]] || ca=$(proxy_ca "$sys")
  fi
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${args[@]}" --cacert "$ca" \
    --resolve "$host:$ORIGIN_HTTPS:127.0.0.1" "https://$host:$ORIGIN_HTTPS/1k" 2>/dev/null | grep -q 200
}

peak_begin() { local p; p=$(system_pid "$1"); [[ -n $p ]] && bench_reset_peak "$p"; return 0; }
peak_end() { # SCEN SYSTEM RUN
  local p; p=$(system_pid "$2"); [[ -n $p ]] || return 0
  record "$1" "$2" "$3" rss_peak_mib "$(awk "BEGIN{print $(bench_hwm_kib "$p")/1024}")"
}

perf_begin() { # SCEN SYSTEM RUN
  PERF_PID=""
  [[ $PERF == 1 && $3 == 1 ]] || return 0
  [[ ($2 == meshgate && ($1 == 1 || $1 == 3 || $1 == 4 || $1 == 6)) || ($2 == meshgate-inspect && $1 == 6) || ($2 == meshgate-dns && $1 == 7) \
     || ($1 == 9 && ($2 == meshgate-mcp || $2 == meshgate-mcp-tools)) || $1 == 10 ]] || return 0
  command -v perf >/dev/null || return 0
  PERF_NAME=$1
  [[ $1 == 6 ]] && { [[ $2 == meshgate ]] && PERF_NAME=6-off || PERF_NAME=6-inspect; }
  [[ $1 == 9 ]] && { [[ $2 == meshgate-mcp ]] && PERF_NAME=9-mcp || PERF_NAME=9-tools; }
  [[ $1 == 10 ]] && { [[ $2 == meshgate-live ]] && PERF_NAME=10-live || PERF_NAME=10-base; }
  perf record -F 999 -e cpu-clock -g -p "$(system_pid "$2")" -o "$BENCH_W/perf-$PERF_NAME.data" >/dev/null 2>&1 &
  PERF_PID=$!
  sleep 0.3
}
perf_end() {
  [[ -n ${PERF_PID:-} ]] || return 0
  kill -INT "$PERF_PID" 2>/dev/null || true; wait "$PERF_PID" 2>/dev/null || true
  mkdir -p "$BENCH_DIR/profiles"
  local dem=cat f=$BENCH_DIR/profiles/meshgate-scenario$PERF_NAME.txt
  command -v swift-demangle >/dev/null && dem="swift-demangle --simplified"
  {
    echo "# perf record -F 999 -e cpu-clock -g -p <meshgate> during scenario $PERF_NAME (${SCEN_NAME[$1]}), $(date -u +%F)"
    echo "## self time by symbol (top 40)"
    perf report -i "$BENCH_W/perf-$PERF_NAME.data" --stdio --no-children --sort dso,symbol -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
    echo "## inclusive time by symbol (top ${PERF_TOP:-60}; PERF_TOP=N for more)"
    perf report -i "$BENCH_W/perf-$PERF_NAME.data" --stdio --children --sort symbol -g none 2>/dev/null | grep -v "^#" | grep -v "^$" | head -"${PERF_TOP:-60}"
  } | $dem | sed 's/ *$//' | cut -c1-200 >"$f" || true
  PERF_PID=""
}

# scenario_N SYSTEM RUN — one measurement of scenario N against a running SYSTEM.
scenario_1() { perf_begin 1 "$1" "$2"; peak_begin "$1"; wrk_run 1 "$1" "$2" 1k 64; peak_end 1 "$1" "$2"; perf_end 1; }
scenario_2() { peak_begin "$1"; wrk_run 2 "$1" "$2" 1m 16; peak_end 2 "$1" "$2"; }
keepalive() { # SCEN SYSTEM RUN HOST
  local scen=$1 sys=$2 run=$3 host=$4
  check_https "$sys" "$host" || { skip "$scen" "$sys" "HTTPS check through $sys failed (curl)"; return; }
  perf_begin "$scen" "$sys" "$run"; peak_begin "$sys"
  if lg_run "$scen" "$sys" "$run" --target "$host:$ORIGIN_HTTPS" --path /1k --conns 64 --threads 2 --warmup "$WARM" --duration "$DUR"; then
    record "$scen" "$sys" "$run" rps "$(lg_json rps <<<"$LG_OUT")"
    record "$scen" "$sys" "$run" p50_ms "$(lg_json p50_ms <<<"$LG_OUT")"
    record "$scen" "$sys" "$run" p99_ms "$(lg_json p99_ms <<<"$LG_OUT")"
  fi
  peak_end "$scen" "$sys" "$run"; perf_end "$scen"
}
scenario_3() { keepalive 3 "$1" "$2" "$TUNNEL_HOST"; }
scenario_4() { [[ $1 == tinyproxy ]] && { skip 4 tinyproxy "cannot intercept TLS"; return; }; keepalive 4 "$1" "$2" "$BUMP_HOST"; }
scenario_5() {
  local sys=$1 run=$2
  [[ $sys == tinyproxy ]] && { skip 5 tinyproxy "cannot intercept TLS"; return; }
  check_https "$sys" "check.bench.test" || { skip 5 "$sys" "HTTPS check through $sys failed (curl)"; return; }
  local common=(--target "x:$ORIGIN_HTTPS" --path /1k --new-conn --threads 2 --conns 16 --hosts $COLD_HOSTS --host-prefix "r${run}h" --domain bench.test)
  peak_begin "$sys"
  # Cold: each of the 1,000 names once, never seen before by this process (fresh prefix per run).
  if lg_run 5 "$sys" "$run" "${common[@]}" --requests $COLD_HOSTS --duration 100; then
    record 5 "$sys" "$run" cold_hps "$(lg_json rps <<<"$LG_OUT")"
  fi
  # Warm: the same names again, for DUR seconds.
  if lg_run 5 "$sys" "$run" "${common[@]}" --duration "$DUR"; then
    record 5 "$sys" "$run" warm_hps "$(lg_json rps <<<"$LG_OUT")"
    record 5 "$sys" "$run" p99_ms "$(lg_json p99_ms <<<"$LG_OUT")"
  fi
  peak_end 5 "$sys" "$run"
}
scenario_6() {
  local sys=$1 run=$2
  [[ $sys == tinyproxy ]] && { skip 6 tinyproxy "cannot intercept TLS, so cannot inspect bodies"; return; }
  check_https "$sys" "$BUMP_HOST" || { skip 6 "$sys" "HTTPS check through $sys failed (curl)"; return; }
  local body=$BENCH_W/body.json
  [[ $sys == meshgate-near ]] && body=$BENCH_W/body-near.json
  local args=(--target "$BUMP_HOST:$ORIGIN_HTTPS" --path /post --post "$body" --conns 16 --threads 2)
  peak_begin "$sys"; perf_begin 6 "$sys" "$run"
  if lg_run 6 "$sys" "$run" "${args[@]}" --warmup "$WARM" --duration "$DUR"; then
    local rps; rps=$(lg_json rps <<<"$LG_OUT")
    record 6 "$sys" "$run" rps "$rps"
    record 6 "$sys" "$run" mibps "$(awk "BEGIN{print $rps*65536/1048576}")"
    record 6 "$sys" "$run" p99_ms "$(lg_json p99_ms <<<"$LG_OUT")"
  fi
  peak_end 6 "$sys" "$run"; perf_end 6
  # The inspecting instances (shadow-mcp, also sent the near-miss body; shadow-mcp + dlp-secrets)
  # start together with meshgate.
  [[ $sys == meshgate ]] && { scenario_6 meshgate-inspect "$run"; scenario_6 meshgate-near "$run"; scenario_6 meshgate-dlp "$run"; }
  return 0
}

# ---- MCP tool policy (scenario 9) ------------------------------------------------------------
# The same small MCP tools/call, intercepted: meshgate-mcp recognises it as MCP and logs it;
# meshgate-mcp-tools also finds the registry entry and judges the tool (mcp_server, mcp_tool rules)
# and watches the answer for a tool list. The two alternate which goes first from run to run.
scenario_9() {
  local sys=$1 run=$2
  if [[ $sys != meshgate ]]; then
    [[ $run == 1 && $sys != direct ]] && skip 9 "$sys" "no MCP tool policy to compare"
    return 0
  fi
  local body=$BENCH_W/mcp-call.json order=(meshgate-mcp meshgate-mcp-tools) s
  printf '%s' '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_issues","arguments":{"repo":"acme/widgets","state":"open"}}}' >"$body"
  ((run % 2 == 0)) && order=(meshgate-mcp-tools meshgate-mcp)
  for s in "${order[@]}"; do
    check_https "$s" "$BUMP_HOST" || { skip 9 "$s" "HTTPS check through $s failed (curl)"; continue; }
    peak_begin "$s"; perf_begin 9 "$s" "$run"
    if lg_run 9 "$s" "$run" --target "$BUMP_HOST:$ORIGIN_HTTPS" --path /post --post "$body" --conns 16 --threads 2 --warmup "$WARM" --duration "$DUR"; then
      record 9 "$s" "$run" rps "$(lg_json rps <<<"$LG_OUT")"
      record 9 "$s" "$run" p99_ms "$(lg_json p99_ms <<<"$LG_OUT")"
    fi
    perf_end 9; peak_end 9 "$s" "$run"
  done
}

# ---- Live page subscriber (scenario 10) ------------------------------------------------------
# Scenario 1's load through meshgate without and with a subscriber reading the dashboard's decision
# stream (/admin/api/decisions/stream, as the Live page does, unfiltered: every decision is sent, up
# to 1,000/s); the two alternate which goes first from run to run.
scenario_10() {
  local sys=$1 run=$2
  if [[ $sys != meshgate ]]; then
    [[ $run == 1 && $sys != direct ]] && skip 10 "$sys" "no dashboard"
    return 0
  fi
  local order=(meshgate meshgate-live) s sub events token; token=$(cat "$BENCH_W/mg/state/admin.token")
  ((run % 2 == 0)) && order=(meshgate-live meshgate)
  for s in "${order[@]}"; do
    sub="" events=$BENCH_W/live-events.txt
    if [[ $s == meshgate-live ]]; then
      curl -sN --noproxy '*' -H "Authorization: Bearer $token" "http://127.0.0.1:$MG_ADMIN_PORT/admin/api/decisions/stream" >"$events" &
      sub=$!
    fi
    peak_begin "$s"; perf_begin 10 "$s" "$run"
    wrk_run 10 "$s" "$run" 1k 64
    perf_end 10; peak_end 10 "$s" "$run"
    if [[ -n $sub ]]; then
      # The subscriber's own CPU (it shares the machine with wrk, nginx and meshgate).
      record 10 meshgate-live "$run" subscriber_cpu_pct "$(awk -v hz="$(getconf CLK_TCK)" -v s="$((WARM + DUR))" '{printf "%.1f", ($14 + $15) / hz / s * 100}' "/proc/$sub/stat")"
      # SIGKILL: a harness started by a test runner may have inherited SIGTERM blocked.
      kill -KILL "$sub" 2>/dev/null; wait "$sub" 2>/dev/null || true
      record 10 meshgate-live "$run" events_per_s "$(awk -v n="$(grep -c '^event: decision' "$events")" -v s="$((WARM + DUR))" 'BEGIN{printf "%.0f", n / s}')"
    fi
  done
}

# ---- DNS (scenario 7) ------------------------------------------------------------------------
dns_port() { case $1 in direct) echo $DNS_UPSTREAM_PORT ;; dnsmasq) echo $DNSMASQ_PORT ;; unbound) echo $UNBOUND_PORT ;; meshgate-dns) echo $MG_DNS_PORT ;; esac; }
dnsperf_qps() { awk '/Queries per second:/ {print $4}'; }
scenario_7() {
  local sys=$1 run=$2 port; port=$(dns_port "$sys")
  local i
  for i in $(seq 50); do python3 "$BENCH_DIR/dnsq.py" 127.0.0.1 "$port" c1.ok.test 0.2 >/dev/null 2>&1 && break; sleep 0.1; done
  # Cached, half blocked: 1,000 blocked names from the list and 1,000 allowed names, warmed first.
  if [[ ! -f $BENCH_W/dns-cached.txt ]]; then
    { seq 1 1000 | awk '{printf "blk%d.test A\n", $1*7}'; seq 1 1000 | awk '{printf "c%d.ok.test A\n", $1}'; } | shuf --random-source=<(yes) >"$BENCH_W/dns-cached.txt"
  fi
  dnsperf -s 127.0.0.1 -p "$port" -d "$BENCH_W/dns-cached.txt" -n 1 -t 2 >/dev/null 2>&1 || true
  peak_begin "$sys"
  local out
  perf_begin 7 "$sys" "$run"
  out=$(timeout $((DNSDUR + 15)) dnsperf -s 127.0.0.1 -p "$port" -d "$BENCH_W/dns-cached.txt" -l "$DNSDUR" -c 4 -q 200 -t 2 2>&1) || true
  perf_end 7
  echo "$out" >>"$BENCH_W/dnsperf-$sys.log"
  record 7 "$sys" "$run" cached_qps "$(dnsperf_qps <<<"$out")"
  # All-miss: names never asked before (a fresh prefix per system and run), all forwarded.
  awk -v p="r$run$sys" 'BEGIN{for(i=0;i<1500000;i++) printf "u%d.%s.miss.test A\n", i, p}' >"$BENCH_W/dns-miss.txt"
  out=$(timeout $((DNSDUR + 15)) dnsperf -s 127.0.0.1 -p "$port" -d "$BENCH_W/dns-miss.txt" -l "$DNSDUR" -c 4 -q 200 -t 2 2>&1) || true
  echo "$out" >>"$BENCH_W/dnsperf-$sys.log"
  record 7 "$sys" "$run" miss_qps "$(dnsperf_qps <<<"$out")"
  record 7 "$sys" "$run" miss_noerror_pct "$(awk '/Response codes:/ {for (i=3;i<=NF;i++) if ($i=="NOERROR") {v=$(i+2); gsub(/[()%,]/,"",v); print v+0; f=1}} END {if (!f) print 0}' <<<"$out")"
  record 7 "$sys" "$run" miss_lost_pct "$(awk '/Queries lost:/ {gsub(/[()%]/,"",$4); print $4+0}' <<<"$out")"
  # Latency at a fixed 2,000 q/s over the cached mix: p50/p99 from dnsperf's per-query lines.
  out=$(timeout $((DNSDUR + 15)) dnsperf -s 127.0.0.1 -p "$port" -d "$BENCH_W/dns-cached.txt" -l "$DNSDUR" -Q 2000 -t 2 -v 2>&1) || true
  python3 - "$sys" "$run" >>"$RES" <<PY
import json, sys
lat = sorted(float(l.split()[-1]) * 1000 for l in """$out""".splitlines() if l.startswith(">") and l.split()[-1].replace(".", "", 1).isdigit())
if lat:
    for q, m in ((0.5, "p50_ms"), (0.99, "p99_ms")):
        print(json.dumps({"s": "7", "sys": sys.argv[1], "run": int(sys.argv[2]), "m": m, "v": lat[min(len(lat) - 1, int(q * len(lat)))]}))
PY
  peak_end 7 "$sys" "$run"
}

# ---- idle tunnels (scenario 8) ---------------------------------------------------------------
scenario_8() {
  local sys=$1 pid; pid=$(system_pid "$sys")
  local before; before=$(bench_rss_kib "$pid")
  rm -f "$BENCH_W/hold.ready"
  bench_start holder "$L" --connect "127.0.0.1:$(proxy_port "$sys")" --target "$TUNNEL_HOST:$ORIGIN_HTTPS" --hold "$HOLD" --ready-file "$BENCH_W/hold.ready" --duration 90
  local i
  for i in $(seq 900); do [[ -f $BENCH_W/hold.ready ]] && break; sleep 0.1; done
  local got; got=$(cat "$BENCH_W/hold.ready" 2>/dev/null || echo 0)
  sleep 2
  local rss; rss=$(bench_rss_kib "$pid")
  record 8 "$sys" 1 tunnels "$got"
  record 8 "$sys" 1 rss_mib "$(awk "BEGIN{print $rss/1024}")"
  record 8 "$sys" 1 rss_before_mib "$(awk "BEGIN{print $before/1024}")"
  record 8 "$sys" 1 kib_per_tunnel "$(awk "BEGIN{ if ($got > 0) print ($rss-$before)/$got; else print 0 }")"
  bench_stop holder
  [[ $got -ge $HOLD ]] || skip 8 "$sys" "only $got of $HOLD tunnels opened: $(tail -c 300 "$BENCH_W/holder.log")"
}

# ---- main loop -------------------------------------------------------------------------------
PROXY_SYSTEMS=(direct meshgate squid tinyproxy mitmproxy)
DNS_SYSTEMS=(direct dnsmasq unbound meshgate-dns)
T0=$(date +%s)

with_system() { # SYSTEM FUNCTION... — start SYSTEM, run each function with (SYSTEM), stop it
  local sys=$1; shift
  if ! "start_$sys"; then skip all "$sys" "did not start: $(tail -n 3 "$BENCH_W/$sys.log" 2>/dev/null | tr '\n' ' ')"; "stop_$sys"; return; fi
  local f
  for f in "$@"; do
    bench_log "  $f $sys"
    "$f" "$sys" || bench_log "  $f $sys failed"
    if [[ $sys != direct ]] && ! bench_alive "$sys"; then skip all "$sys" "exited during $f: $(tail -n 3 "$BENCH_W/$sys.log" | tr '\n' ' ')"; break; fi
  done
  "stop_$sys"
}

for run in $(seq "$RUNS"); do
  scen_fns=()
  for n in 1 2 3 4 5 6 9 10; do want_scenario $n && scen_fns+=("run_scenario_$n"); done
  [[ ${#scen_fns[@]} -gt 0 ]] || break
  for n in 1 2 3 4 5 6 9 10; do eval "run_scenario_$n() { scenario_$n \"\$1\" $run; }"; done
  for sys in "${PROXY_SYSTEMS[@]}"; do
    want_system "$sys" || continue
    bench_log "run $run/$RUNS: $sys"
    with_system "$sys" "${scen_fns[@]}"
  done
done

if want_scenario 7; then
  for run in $(seq "$RUNS"); do
    for sys in "${DNS_SYSTEMS[@]}"; do
      want_system "$sys" || { [[ $sys == direct ]] || continue; }
      bench_log "run $run/$RUNS: DNS $sys"
      if [[ $sys == direct ]]; then scenario_7 direct "$run"; continue; fi
      if ! "start_$sys"; then
        reason=$(cat "$BENCH_W/$sys.skip" 2>/dev/null || echo "did not start")
        [[ $run == 1 ]] && skip 7 "$sys" "$reason"
        continue
      fi
      scenario_7 "$sys" "$run"
      "stop_$sys"
    done
  done
fi

if want_scenario 8; then
  for sys in meshgate squid tinyproxy mitmproxy; do
    want_system "$sys" || continue
    bench_log "idle tunnels: $sys"
    "start_$sys" && scenario_8 "$sys"
    "stop_$sys"
  done
fi

T1=$(date +%s)
if [[ -n $KEEP ]]; then
  python3 - "$KEEP" "$RES" "${ONLY:-}" <<'PY'
import json, sys
names = {"plain": "1", "large": "2", "tunnel": "3", "intercept": "4", "handshake": "5", "post": "6", "dns": "7", "idle": "8", "mcp": "9", "live": "10"}
redone = {names.get(s, s) for s in sys.argv[3].split(",") if s}
with open(sys.argv[2], "a") as out:
    for line in open(sys.argv[1]):
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue
        if d.get("s") not in redone:
            out.write(line if line.endswith("\n") else line + "\n")
PY
fi
python3 "$BENCH_DIR/report.py" "$RES" "$OUT" \
  --command "$CMDLINE" --runs "$RUNS" --duration "$DUR" --elapsed $((T1 - T0)) --hold "$HOLD" \
  --meshgate "$("$MESHGATE" --version 2>/dev/null || echo unknown) ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
[[ -z $JSON ]] || cp "$RES" "$JSON"
bench_log "wrote $OUT in $((T1 - T0)) s"
