#!/usr/bin/env bash
# The latency the AI gateway adds: non-streaming chat completions sent straight to a provider vs
# through meshgate's `ai` listener, which authenticates the caller, reserves tokens in the ledger
# before forwarding, meters the response and settles the reservation afterwards (issue 8); and a
# streamed chat completion that meshgate translates from an Anthropic provider's event stream,
# time to first token and total, vs the same stream in OpenAI form straight from the provider (issue 9).
# The "provider" is nginx over TLS answering a fixed OpenAI chat completion (so the difference is
# meshgate's, not a slow fake's). wrk sends the same POST with one connection (unloaded latency,
# p50/p99 from wrk --latency) and with 16 (throughput, which bounds ledger writes per second).
# The budget-cost part (issue 18) sends 32 connections as an identity whose team has a budget (a
# reservation, then a settlement per call) and as one whose team has none (one usage record per
# call), alternating in one meshgate process ROUNDS times, prints the median req/s of each and what
# the budget costs, and checks that the ledger holds every answered call of both (its tokens equal the
# audit log's), so a ledger that drops or defers writes can't look fast (the script then exits 1).
#   contrib/bench/ai-latency.sh [path/to/meshgate] [sqlite|postgres://…]
# Build first: swift build -c release --product meshgate. DUR (default 10) is seconds per run;
# ROUNDS (default 3) budget/no-budget pairs; PARTS (default "latency budget stream") picks the parts.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MESHGATE=${1:-$REPO/.build/release/meshgate}
LEDGER=${2:-sqlite}
DUR=${DUR:-10}
ROUNDS=${ROUNDS:-3}
PARTS=" ${PARTS:-latency budget stream} "
LLM_PORT=${LLM_PORT:-18445} AI_PORT=${AI_PORT:-18088} ADMIN_PORT=${ADMIN_PORT:-19099}
[[ -x "$MESHGATE" ]] || { echo "no meshgate binary at $MESHGATE (swift build -c release --product meshgate)" >&2; exit 1; }
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx (contrib/bench/install.sh)" >&2; exit 1; }
W=$BENCH_W

bench_ca "$W" origin-ca
bench_leaf "$W" origin-ca llm "DNS:localhost,IP:127.0.0.1"
response='{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"gpt-bench","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":9,"total_tokens":28}}'
# The same 20-token answer as an OpenAI and as an Anthropic event stream.
python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
words = ["tok"] * 20
with open(f"{w}/openai.sse", "w") as f:
    base = {"id": "chatcmpl-b", "object": "chat.completion.chunk", "created": 0, "model": "gpt-bench"}
    f.write("data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}) + "\n\n")
    for word in words:
        f.write("data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}) + "\n\n")
    f.write("data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) + "\n\n")
    f.write("data: " + json.dumps({**base, "choices": [], "usage": {"prompt_tokens": 19, "completion_tokens": 20, "total_tokens": 39}}) + "\n\ndata: [DONE]\n\n")
with open(f"{w}/anthropic.sse", "w") as f:
    def event(name, data):
        f.write(f"event: {name}\ndata: {json.dumps(data)}\n\n")
    event("message_start", {"type": "message_start", "message": {"id": "msg_b", "type": "message", "role": "assistant", "content": [], "model": "claude-bench", "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 19, "output_tokens": 1}}})
    event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    for word in words:
        event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word + " "}})
    event("content_block_stop", {"type": "content_block_stop", "index": 0})
    event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 20}})
    event("message_stop", {"type": "message_stop"})
PY
# sse_answer FILE — nginx directives answering a POST with $W/FILE (a GET subrequest of the static
# file, which needs the echo module; without it the streaming part is skipped).
sse_answer() { printf 'echo_read_request_body; echo_location /static/%s;' "$1"; }
load_echo="" answer="return 200 '$response';"
if [[ ! -f /usr/lib/nginx/modules/ngx_http_echo_module.so ]]; then
  sse_answer() { printf 'return 404;'; }
fi
if [[ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ]]; then
  load_echo="load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;"
  answer="echo_read_request_body; echo -n '$response';"
fi
cat >"$W/llm.conf" <<NGX
$load_echo
worker_processes 1; pid $W/llm.pid; error_log $W/llm.err; daemon off;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 120s;
  server { listen 127.0.0.1:$LLM_PORT ssl; ssl_certificate $W/llm.pem; ssl_certificate_key $W/llm.key;
    location = /v1/chat/completions { default_type application/json; $answer }
    location /static/ { internal; alias $W/; }
    location = /openai-stream/v1/chat/completions { default_type text/event-stream; $(sse_answer openai.sse) }
    location = /v1/messages { default_type text/event-stream; $(sse_answer anthropic.sse) } } }
NGX
bench_start llm nginx -c "$W/llm.conf"
bench_wait_tcp "$LLM_PORT" || { cat "$W/llm.err" >&2; exit 1; }

token=bench-token budget_token=bench-budget-token free_token=bench-free-token
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
ledger_line="ledger: sqlite:$W/state/ledger.db"
[[ $LEDGER == postgres* ]] && ledger_line="ledger: $LEDGER"
cat >"$W/meshgate.yaml" <<YAML
state_dir: $W/state
listeners: { ai: 127.0.0.1:$AI_PORT, admin: 127.0.0.1:$ADMIN_PORT }
audit: { path: $W/state/audit.jsonl }
tls: { upstream_ca: $W/origin-ca.pem }
identities:
  - { name: bench-agent, team: bench, token_sha256: "$(sha "$token")" }
  - { name: bench-budget, team: bench, token_sha256: "$(sha "$budget_token")" }
  - { name: bench-free, team: free, token_sha256: "$(sha "$free_token")" }
ai:
  $ledger_line
  providers:
    llm: { format: openai, base_url: "https://localhost:$LLM_PORT/v1", api_key_env: BENCH_PROVIDER_KEY }
    llm-anthropic: { format: anthropic, base_url: "https://localhost:$LLM_PORT", api_key_env: BENCH_PROVIDER_KEY }
  models:
    gpt-bench: { provider: llm }
    claude-bench: { provider: llm-anthropic }
  budgets:
    - { team: bench, tokens: 100000000000, window: 30d }
YAML
BENCH_PROVIDER_KEY=sk-bench bench_start meshgate "$MESHGATE" serve --config "$W/meshgate.yaml"
bench_wait_tcp "$AI_PORT" || { cat "$W/meshgate.log" >&2; exit 1; }

body='{"model":"gpt-bench","max_tokens":64,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello!"}]}'
# post.lua (bench-agent), post-budget.lua and post-free.lua: the same POST with each identity's token.
for script in post:$token post-budget:$budget_token post-free:$free_token; do
  cat >"$W/${script%%:*}.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${script#*:}"
LUA
done

# run NAME URL CONNECTIONS [SCRIPT] — prints "req/s p50_ms p99_ms requests errors" from wrk --latency
# (SCRIPT.lua in the work directory, default post; errors: non-2xx answers plus socket errors).
run() {
  wrk -t1 -c"$3" -d"${DUR}s" --latency -s "$W/${4:-post}.lua" "$2" >"$W/$1.wrk" 2>&1 || true
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    / requests in / { n = $1 } /Non-2xx or 3xx responses:/ { bad += $NF }
    /Socket errors:/ { for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) bad += $i + 0 }
    END { printf "%s %.3f %.3f %d %d\n", rps, p50, p99, n, bad }' "$W/$1.wrk"
}

# ai_audit IDENTITY — "calls tokens": IDENTITY's answered calls (status 200) in the audit log, and the
# tokens (input + output) of all its ai lines (a call the client left may still have been charged).
ai_audit() {
  python3 - "$W/state/audit.jsonl" "$1" <<'PY'
import json, sys
calls = tokens = 0
with open(sys.argv[1]) as f:
    for line in f:
        entry = json.loads(line)
        if entry.get("event") == "ai" and entry.get("identity") == sys.argv[2]:
            calls += entry.get("status") == 200
            tokens += (entry.get("input_tokens") or 0) + (entry.get("output_tokens") or 0)
print(calls, tokens)
PY
}
# ledger_used IDENTITY — the tokens `meshgate usage --json` reports for IDENTITY (0 when absent).
ledger_used() {
  "$MESHGATE" usage --json --config "$W/meshgate.yaml" 2>>"$W/usage.err" | python3 -c '
import json, sys
report = json.load(sys.stdin)
print(sum(row["used"] for row in report["identities"] if row["identity"] == sys.argv[1]))' "$1"
}

AI_URL="http://127.0.0.1:$AI_PORT/v1/chat/completions"
bench_log "warming up"
run warm-direct "https://localhost:$LLM_PORT/v1/chat/completions" 1 >/dev/null
run warm-ai "$AI_URL" 1 >/dev/null

if [[ $PARTS == *" latency "* ]]; then
read -r d1_rps d1_p50 d1_p99 _ < <(run direct-1 "https://localhost:$LLM_PORT/v1/chat/completions" 1)
read -r a1_rps a1_p50 a1_p99 _ < <(run ai-1 "$AI_URL" 1)
read -r d16_rps d16_p50 d16_p99 _ < <(run direct-16 "https://localhost:$LLM_PORT/v1/chat/completions" 16)
read -r a16_rps a16_p50 a16_p99 _ < <(run ai-16 "$AI_URL" 16)
calls=$(grep -c '"event":"ai"' "$W/state/audit.jsonl" || true)
errors=$(grep '"event":"ai"' "$W/state/audit.jsonl" | grep -vc '"status":200' || true)

printf '\nAI gateway latency, non-streaming chat completions, ledger %s, %ss per run\n\n' "${LEDGER%%://*}" "$DUR"
printf '| path | connections | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|\n'
printf '| direct to provider (TLS) | 1 | %s | %s | %s |\n' "$d1_rps" "$d1_p50" "$d1_p99"
printf '| via meshgate ai listener | 1 | %s | %s | %s |\n' "$a1_rps" "$a1_p50" "$a1_p99"
printf '| direct to provider (TLS) | 16 | %s | %s | %s |\n' "$d16_rps" "$d16_p50" "$d16_p99"
printf '| via meshgate ai listener | 16 | %s | %s | %s |\n' "$a16_rps" "$a16_p50" "$a16_p99"
awk -v a="$a1_p50" -v d="$d1_p50" -v a9="$a1_p99" -v d9="$d1_p99" \
  'BEGIN { printf "\nadded latency, one connection: p50 %+.3f ms, p99 %+.3f ms\n", a - d, a9 - d9 }'
printf 'metered calls in the audit log: %s (%s not 200)\n' "$calls" "$errors"
fi

# What a budget costs: 32 connections, the same calls as an identity whose team has a budget
# (reserve + settle in the ledger) and as one whose team has none (one usage record), alternating.
if [[ $PARTS == *" budget "* ]]; then
  bench_log "budget vs no budget, $ROUNDS rounds of ${DUR}s each"
  run warm-free "$AI_URL" 32 post-free >/dev/null
  run warm-budget "$AI_URL" 32 post-budget >/dev/null
  sleep 1
  # snapshot — "ledger_tokens audit_calls audit_tokens" of bench-free, then of bench-budget.
  snapshot() { local id; for id in bench-free bench-budget; do printf '%s %s ' "$(ledger_used $id)" "$(ai_audit $id)"; done; echo; }
  read -r f_used0 f_calls0 f_tok0 b_used0 b_calls0 b_tok0 < <(snapshot)
  rows="" free_rps=() budget_rps=() free_ok=0 budget_ok=0 bad_total=0
  for round in $(seq "$ROUNDS"); do
    for kind in free budget; do
      ticks=$(bench_tree_ticks "${BENCH_PID[meshgate]}")
      read -r rps p50 p99 requests bad < <(run "$kind-32-$round" "$AI_URL" 32 "post-$kind")
      ticks=$(($(bench_tree_ticks "${BENCH_PID[meshgate]}") - ticks))
      label="no budget (team free)"; [[ $kind == budget ]] && label="budget (team bench)"
      # meshgate's CPU: share of one core over the run, and microseconds per answered call.
      cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v d="$DUR" -v n="$requests" \
        'BEGIN { printf "%.0f%% | %.0f", t / hz / d * 100, n ? t / hz * 1e6 / n : 0 }')
      rows+=$(printf '| %s | %s | %s | %s | %s | %s | %s |' "$round" "$label" "$rps" "$p50" "$p99" "$cpu" "$bad")$'\n'
      bad_total=$((bad_total + bad))
      if [[ $kind == free ]]; then free_rps+=("$rps") free_ok=$((free_ok + requests - bad)); else budget_rps+=("$rps") budget_ok=$((budget_ok + requests - bad)); fi
    done
  done
  # Usage is written after the answer: give the ledger up to 30 s to catch up with the audit log.
  for _ in $(seq 30); do
    read -r f_used1 f_calls1 f_tok1 b_used1 b_calls1 b_tok1 < <(snapshot)
    ((f_used1 - f_used0 == f_tok1 - f_tok0 && b_used1 - b_used0 == b_tok1 - b_tok0)) && break
    sleep 1
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  free_median=$(median "${free_rps[@]}") budget_median=$(median "${budget_rps[@]}")
  printf '\nWhat a budget costs: 32 connections, ledger %s, %ss per run, alternating in one meshgate process\n\n' "${LEDGER%%://*}" "$DUR"
  printf '| round | identity | req/s | p50 ms | p99 ms | meshgate CPU | CPU µs/call | errors |\n|---|---|---|---|---|---|---|---|\n%s' "$rows"
  printf '\nmedian req/s: no budget %s, budget %s\n' "$free_median" "$budget_median"
  # Every call wrk saw answered with 2xx must be in the ledger (28 tokens each: 19 in, 9 out), and the
  # ledger must hold exactly the tokens the audit log shows. Calls in flight when a wrk run stops are
  # answered to nobody: the audit log has them as 200 (finished) or 499 (cancelled, nothing charged).
  ledger_ok=1
  for line in "no budget:$free_ok:$((f_calls1 - f_calls0)):$((f_tok1 - f_tok0)):$((f_used1 - f_used0))" \
              "budget:$budget_ok:$((b_calls1 - b_calls0)):$((b_tok1 - b_tok0)):$((b_used1 - b_used0))"; do
    IFS=: read -r label ok audited audited_tokens ledger_tokens <<<"$line"
    printf 'calls, %s: %s answered 2xx to wrk, %s answered in the audit log (%s tokens), %s in the ledger (%s tokens)\n' \
      "$label" "$ok" "$audited" "$audited_tokens" "$((ledger_tokens / 28))" "$ledger_tokens"
    ((ledger_tokens == audited_tokens && ledger_tokens / 28 >= ok)) || ledger_ok=0
  done
  if ((bad_total > 0)); then
    echo "answers other than 200 in the audit log (identity, status, error: count):"
    python3 - "$W/state/audit.jsonl" <<'PY'
import collections, json, sys
counts = collections.Counter()
with open(sys.argv[1]) as f:
    for line in f:
        e = json.loads(line)
        if e.get("event") == "ai" and e.get("identity") in ("bench-free", "bench-budget") and e.get("status") != 200:
            counts[(e["identity"], e.get("status"), e.get("error"))] += 1
for (identity, status, error), n in counts.most_common(6):
    print(f"  {identity}, {status}, {error}: {n}")
PY
  fi
  invalid=""
  if ((bad_total > 0 || !ledger_ok)); then
    echo "LEDGER CHECK FAILED: errors, or the ledger does not hold every answered call" >&2
    budget_check_failed=1 invalid=" (NOT VALID: the ledger check failed)"
  fi
  awk -v f="$free_median" -v b="$budget_median" -v x="$invalid" \
    'BEGIN { printf "budget costs %.1f%% of throughput%s\n", (1 - b / f) * 100, x }'
fi

# Streaming, one connection, sequential: time to first token and total per call.
[[ $PARTS == *" stream "* ]] || exit "${budget_check_failed:-0}"
[[ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ]] || { echo "streaming part skipped: needs nginx's echo module (libnginx-mod-http-echo)"; exit "${budget_check_failed:-0}"; }
python3 - "$W" "$LLM_PORT" "$AI_PORT" "$token" "${STREAM_CALLS:-500}" <<'PY'
import http.client, json, ssl, sys, time
w, llm_port, ai_port, token, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
def run(connect, path, model, headers):
    conn = connect()
    body = json.dumps({"model": model, "stream": True, "max_tokens": 64, "messages": [{"role": "user", "content": "Hello!"}]})
    ttft, total, texts = [], [], 0
    for i in range(calls + 20):
        start = time.perf_counter()
        conn.request("POST", path, body=body, headers={"content-type": "application/json", **headers})
        response = conn.getresponse()
        first = None
        buffered = b""
        while chunk := response.read1(65536):
            if first is None and b'"content": "tok' in chunk.replace(b'":"', b'": "'):
                first = time.perf_counter()
            buffered += chunk
        end = time.perf_counter()
        if response.status != 200 or first is None:
            raise SystemExit(f"{path}: status {response.status}: {buffered[:300]!r}")
        if i >= 20:
            ttft.append((first - start) * 1000)
            total.append((end - start) * 1000)
            texts += buffered.count(b"tok ")
    def pct(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, int(len(values) * p))]
    return pct(ttft, 0.5), pct(ttft, 0.99), pct(total, 0.5), pct(total, 0.99), texts // calls
context = ssl.create_default_context(cafile=f"{w}/origin-ca.pem")
direct = run(lambda: http.client.HTTPSConnection("localhost", llm_port, context=context), "/openai-stream/v1/chat/completions", "gpt-bench", {})
translated = run(lambda: http.client.HTTPConnection("127.0.0.1", ai_port), "/v1/chat/completions", "claude-bench", {"authorization": f"Bearer {token}"})
print(f"\nStreamed chat completion, 20 tokens, {calls} sequential calls on one connection\n")
print("| path | TTFT p50 ms | TTFT p99 ms | total p50 ms | total p99 ms | tokens seen |\n|---|---|---|---|---|---|")
print("| direct: OpenAI stream from the provider | %.3f | %.3f | %.3f | %.3f | %d |" % direct)
print("| via meshgate: Anthropic stream translated to OpenAI | %.3f | %.3f | %.3f | %.3f | %d |" % translated)
print("\nadded by translation + metering: TTFT p50 %+.3f ms, p99 %+.3f ms; total p50 %+.3f ms, p99 %+.3f ms" % (
    translated[0] - direct[0], translated[1] - direct[1], translated[2] - direct[2], translated[3] - direct[3]))
PY
exit "${budget_check_failed:-0}"
