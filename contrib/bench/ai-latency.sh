#!/usr/bin/env bash
# The latency the AI gateway adds: non-streaming chat completions sent straight to a provider vs
# through meshgate's `ai` listener, which authenticates the caller, reserves tokens in the ledger
# before forwarding, meters the response and settles the reservation afterwards (issue 8); and a
# streamed chat completion that meshgate translates from an Anthropic provider's event stream,
# time to first token and total, vs the same stream in OpenAI form straight from the provider (issue 9).
# The "provider" is nginx over TLS answering a fixed OpenAI chat completion (so the difference is
# meshgate's, not a slow fake's). wrk sends the same POST with one connection (unloaded latency,
# p50/p99 from wrk --latency) and with 16 (throughput, which bounds ledger writes per second).
#   contrib/bench/ai-latency.sh [path/to/meshgate] [sqlite|postgres://…]
# Build first: swift build -c release --product meshgate. DUR (default 10) is seconds per run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MESHGATE=${1:-$REPO/.build/release/meshgate}
LEDGER=${2:-sqlite}
DUR=${DUR:-10}
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

token=bench-token
ledger_line="ledger: sqlite:$W/state/ledger.db"
[[ $LEDGER == postgres* ]] && ledger_line="ledger: $LEDGER"
cat >"$W/meshgate.yaml" <<YAML
state_dir: $W/state
listeners: { ai: 127.0.0.1:$AI_PORT, admin: 127.0.0.1:$ADMIN_PORT }
audit: { path: $W/state/audit.jsonl }
tls: { upstream_ca: $W/origin-ca.pem }
identities:
  - { name: bench-agent, team: bench, token_sha256: "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" }
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
cat >"$W/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${token}"
LUA

# run NAME URL CONNECTIONS — prints "req/s p50_ms p99_ms" from wrk --latency.
run() {
  wrk -t1 -c"$3" -d"${DUR}s" --latency -s "$W/post.lua" "$2" >"$W/$1.wrk" 2>&1 || true
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    END { printf "%s %.3f %.3f\n", rps, p50, p99 }' "$W/$1.wrk"
}

bench_log "warming up"
run warm-direct "https://localhost:$LLM_PORT/v1/chat/completions" 1 >/dev/null
run warm-ai "http://127.0.0.1:$AI_PORT/v1/chat/completions" 1 >/dev/null
read -r d1_rps d1_p50 d1_p99 < <(run direct-1 "https://localhost:$LLM_PORT/v1/chat/completions" 1)
read -r a1_rps a1_p50 a1_p99 < <(run ai-1 "http://127.0.0.1:$AI_PORT/v1/chat/completions" 1)
read -r d16_rps d16_p50 d16_p99 < <(run direct-16 "https://localhost:$LLM_PORT/v1/chat/completions" 16)
read -r a16_rps a16_p50 a16_p99 < <(run ai-16 "http://127.0.0.1:$AI_PORT/v1/chat/completions" 16)
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

# Streaming, one connection, sequential: time to first token and total per call.
[[ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ]] || { echo "streaming part skipped: needs nginx's echo module (libnginx-mod-http-echo)"; exit 0; }
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
