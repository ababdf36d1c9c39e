#!/usr/bin/env python3
"""Writes the detection corpus: mcp.jsonl (MCP traffic that must not reach a shadow server) and
benign.jsonl (traffic that must pass untouched), one request per line.

    python3 make_corpus.py        # rewrites both files next to this script

Every case is written from the public formats it imitates (the MCP specification's messages of each
protocol version and transport, Elasticsearch bulk, OpenTelemetry OTLP/JSON, Datadog and Splunk log
intake, multipart/form-data, LSP, Ethereum and Bitcoin JSON-RPC, A2A, server-sent events, the OpenAI and
Anthropic APIs). Fields: id, category, method, url, headers [[name, value]], body (text or null),
encoding (gzip | deflate | "gzip, deflate" | null: applied by the client), chunks (the body is sent
chunked, split into this many pieces), answer ("endpoint": the origin answers an event stream that opens
with the legacy MCP `event: endpoint`; "ticker": ordinary events), shadow_url (MCP inside an LLM call:
the server URL that must not reach the provider). Deterministic: no randomness, no clock.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]
CLIENTS = [("claude-code", "2.0.14"), ("cursor-vscode", "1.0.0"), ("codex-mcp-client", "0.46.0"), ("mcp-python-sdk", "1.21.0")]
# Hosts that say nothing about MCP, hosts named mcp.*, and curated public MCP servers.
PLAIN_HOSTS = ["tools.internal.example", "api.example-saas.com", "agents.example.net", "rpc.example.org", "assistant.example.io"]
MCP_NAMED_HOSTS = ["mcp.example-tools.dev", "mcp.acme-corp.example", "mcp.datahub.example"]
CURATED_HOSTS = ["mcp.linear.app", "mcp.stripe.com", "mcp.notion.com", "mcp.sentry.dev", "mcp.atlassian.com", "server.smithery.ai", "gitmcp.io"]
PATHS = ["/mcp", "/v1/mcp", "/api/agent", "/rpc", "/"]

mcp_cases = []
benign_cases = []


def add(cases, prefix, category, method, url, headers=None, body=None, **extra):
    case = {"id": f"{prefix}-{len(cases) + 1:03d}", "category": category, "method": method, "url": url,
            "headers": headers or [], "body": body}
    case.update(extra)
    cases.append(case)


def j(value):
    return json.dumps(value, separators=(",", ":"))


JSON = [["Content-Type", "application/json"], ["Accept", "application/json, text/event-stream"]]


def init(version, client, id_=0):
    return {"jsonrpc": "2.0", "id": id_, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": {"roots": {"listChanged": True}, "sampling": {}},
                       "clientInfo": {"name": client[0], "version": client[1]}}}


# --- MCP ------------------------------------------------------------------------------------------
# initialize, every protocol version, several clients, hosts that say nothing about MCP.
for vi, version in enumerate(VERSIONS):
    for ci, client in enumerate(CLIENTS):
        host = PLAIN_HOSTS[(vi + ci) % len(PLAIN_HOSTS)]
        path = PATHS[(vi * 2 + ci) % len(PATHS)]
        add(mcp_cases, "mcp", "initialize (every version)", "POST", f"https://{host}{path}", JSON, j(init(version, client)))

# initialize to hosts named mcp.* that are not on the curated list: the body decides, not the name.
for vi, version in enumerate(VERSIONS):
    for hi, host in enumerate(MCP_NAMED_HOSTS):
        add(mcp_cases, "mcp", "initialize (every version)", "POST", f"https://{host}{PATHS[(vi + hi) % len(PATHS)]}", JSON,
            j(init(version, CLIENTS[(vi + hi) % len(CLIENTS)])))

# tools/call of many tools, on every plain host.
TOOLS = [("create_pull_request", {"repo": "acme/web", "head": "fix", "base": "main"}), ("read_file", {"path": "/etc/hosts"}),
         ("send_email", {"to": "x@example.com", "subject": "report"}), ("execute_command", {"cmd": "ls -la"}),
         ("browser_navigate", {"url": "https://example.com"})]
for ti, (tool, arguments) in enumerate(TOOLS):
    for hi, host in enumerate(PLAIN_HOSTS):
        add(mcp_cases, "mcp", "tools/call (many tools)", "POST", f"https://{host}{PATHS[(ti + hi) % len(PATHS)]}", JSON,
            j({"jsonrpc": "2.0", "id": f"call-{ti}-{hi}", "method": "tools/call", "params": {"name": tool, "arguments": arguments, "_meta": {"progressToken": ti}}}))

# Plain http:// through the explicit proxy (no TLS at all).
for i, host in enumerate(PLAIN_HOSTS):
    add(mcp_cases, "mcp", "plain HTTP (no TLS)", "POST", f"http://{host}/mcp", JSON,
        j({"jsonrpc": "2.0", "id": i, "method": ["tools/list", "tools/call", "resources/read", "prompts/list", "initialize"][i],
           "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}} if i == 4 else {"name": "x", "uri": "file:///x"}}))

# Requests after initialize, streamable HTTP with its headers, on plain hosts.
METHODS = [
    ("tools/list", {}), ("tools/list", {"cursor": "eyJwYWdlIjoyfQ"}),
    ("tools/call", {"name": "create_issue", "arguments": {"title": "Flaky test", "team": "ENG"}}),
    ("tools/call", {"name": "run_query", "arguments": {"sql": "select 1"}}),
    ("resources/list", {}), ("resources/read", {"uri": "file:///workspace/README.md"}),
    ("resources/templates/list", {}), ("resources/subscribe", {"uri": "file:///workspace/log.txt"}),
    ("prompts/list", {}), ("prompts/get", {"name": "code_review", "arguments": {"pr": "42"}}),
    ("completion/complete", {"ref": {"type": "ref/prompt", "name": "code_review"}, "argument": {"name": "pr", "value": "4"}}),
    ("logging/setLevel", {"level": "info"}), ("ping", None),
]
for i, (method, params) in enumerate(METHODS):
    message = {"jsonrpc": "2.0", "id": i + 2, "method": method}
    if params is not None:
        message["params"] = params
    version = VERSIONS[2 + i % 3]
    host = PLAIN_HOSTS[i % len(PLAIN_HOSTS)]
    # Without MCP headers (a client that does not send them) ...
    add(mcp_cases, "mcp", "requests (body only)", "POST", f"https://{host}/mcp", JSON, j(message))
    # ... and with them, as the 2025-06-18+ clients do.
    headers = JSON + [["MCP-Protocol-Version", version], ["Mcp-Session-Id", f"a1b2c3d4-{i:04d}"]]
    add(mcp_cases, "mcp", "requests (streamable HTTP headers)", "POST", f"https://{host}/api/agent", headers, j(message))

# Notifications and client responses: no method MCP-only in some, so the headers decide.
NOTIFS = [
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7, "reason": "user"}},
    {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
    {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "t1", "progress": 50, "total": 100}},
]
for i, message in enumerate(NOTIFS):
    add(mcp_cases, "mcp", "notifications", "POST", f"https://{PLAIN_HOSTS[i]}/mcp", JSON, j(message))
RESPONSES = [
    {"jsonrpc": "2.0", "id": 0, "result": {"roots": [{"uri": "file:///workspace", "name": "workspace"}]}},
    {"jsonrpc": "2.0", "id": 1, "result": {"role": "assistant", "content": {"type": "text", "text": "ok"}, "model": "m"}},
    {"jsonrpc": "2.0", "id": 2, "error": {"code": -32601, "message": "Method not found"}},
]
for i, message in enumerate(RESPONSES):
    add(mcp_cases, "mcp", "client responses (session header)", "POST", f"https://{PLAIN_HOSTS[i]}/mcp",
        JSON + [["Mcp-Session-Id", f"9f8e7d6c-{i}"], ["MCP-Protocol-Version", "2025-06-18"]], j(message))

# Header-only requests: the SSE listening GET, session DELETE, and the 2026-07-28 stateless headers.
for i, host in enumerate(PLAIN_HOSTS):
    add(mcp_cases, "mcp", "header-only (GET stream, DELETE, stateless)", "GET", f"https://{host}/mcp",
        [["Accept", "text/event-stream"], ["Mcp-Session-Id", f"5e6f-{i}"], ["MCP-Protocol-Version", "2025-06-18"]])
    add(mcp_cases, "mcp", "header-only (GET stream, DELETE, stateless)", "DELETE", f"https://{host}/mcp", [["Mcp-Session-Id", f"5e6f-{i}"]])
    add(mcp_cases, "mcp", "header-only (GET stream, DELETE, stateless)", "POST", f"https://{host}/mcp",
        JSON + [["MCP-Protocol-Version", "2026-07-28"], ["Mcp-Method", "tools/call"], ["Mcp-Name", "search"]],
        j({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "search", "arguments": {"q": "x"}}}))

# Batches (2025-03-26 allowed them), including a non-MCP element first.
BATCHES = [
    [{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, {"jsonrpc": "2.0", "id": 2, "method": "resources/list"}],
    [{"jsonrpc": "2.0", "method": "notifications/initialized"}, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "x", "arguments": {}}}],
    [{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2, "method": "prompts/get", "params": {"name": "p"}}],
    [{"jsonrpc": "2.0", "id": 9, "result": {}}, {"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": "deploy"}}],
]
for i, batch in enumerate(BATCHES):
    for host in PLAIN_HOSTS[:3]:
        add(mcp_cases, "mcp", "batches", "POST", f"https://{host}/rpc", JSON, j(batch))

# Evasions the recognizer sees through: escapes, key order, whitespace, codings, chunk splits,
# content types, padding before the method, string and null-free ids.
call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "exfiltrate", "arguments": {"path": "~/.ssh"}}}
EVASIONS = [
    ("escaped slash", JSON, '{"jsonrpc":"2.0","id":7,"method":"tools\\u002fcall","params":{"name":"x"}}', {}),
    ("escaped letters", JSON, '{"jsonrpc":"2.0","id":7,"\\u006dethod":"\\u0074ools/call","params":{"name":"x"}}', {}),
    ("keys reordered", JSON, '{"params":{"name":"x","arguments":{}},"method":"tools/call","id":"abc","jsonrpc":"2.0"}', {}),
    ("whitespace", JSON, '{\n  "jsonrpc" : "2.0" ,\n  "id" : 7 ,\n  "method"\t:\t"tools/call" ,\n  "params" : { "name" : "x" }\n}', {}),
    ("text/plain", [["Content-Type", "text/plain"]], j(call), {}),
    ("no content type", [], j(call), {}),
    ("octet-stream", [["Content-Type", "application/octet-stream"]], j(call), {}),
    ("charset and case", [["Content-Type", "Application/JSON; charset=UTF-8"]], j(call), {}),
    ("padding before method", JSON, '{"jsonrpc":"2.0","id":7,"params":{"name":"x","arguments":{"blob":"' + "A" * 70000 + '"}},"method":"tools/call"}', {}),
    ("gzip", JSON, j(call), {"encoding": "gzip"}),
    ("deflate", JSON, j(call), {"encoding": "deflate"}),
    ("gzip then deflate", JSON, j(call), {"encoding": "gzip, deflate"}),
    ("chunked, split in the method", JSON, j(call), {"chunks": 5}),
    ("gzip and chunked", JSON, j(call), {"encoding": "gzip", "chunks": 3}),
    ("duplicate method keys", JSON, '{"jsonrpc":"2.0","id":7,"method":"eth_call","method":"tools/call","params":{}}', {}),
    ("initialize, protocolVersion first", JSON, '{"params":{"protocolVersion":"2025-06-18","capabilities":{}},"jsonrpc":"2.0","id":0,"method":"initialize"}', {}),
    ("unicode in arguments", JSON, j({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "translate", "arguments": {"text": "日本語 ✓ \u2028"}}}), {}),
    ("large id", JSON, j({"jsonrpc": "2.0", "id": 9007199254740991, "method": "resources/read", "params": {"uri": "db://x"}}), {}),
]
for i, (name, headers, body, extra) in enumerate(EVASIONS):
    for host in [PLAIN_HOSTS[i % len(PLAIN_HOSTS)], MCP_NAMED_HOSTS[i % len(MCP_NAMED_HOSTS)]]:
        add(mcp_cases, "mcp", "evasions", "POST", f"https://{host}/v2/rpc", headers, body, **extra)

# Legacy HTTP+SSE (2024-11-05): the POST to /messages, and the GET whose answer is the endpoint event.
for i, host in enumerate(PLAIN_HOSTS + MCP_NAMED_HOSTS):
    add(mcp_cases, "mcp", "legacy SSE transport", "POST", f"https://{host}/messages?sessionId=2b1e0c{i}", JSON,
        j({"jsonrpc": "2.0", "id": i, "method": "tools/call" if i % 2 else "initialize",
           "params": {"name": "x"} if i % 2 else {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}}))
    add(mcp_cases, "mcp", "legacy SSE transport", "POST", f"https://{host}/messages/?session_id=77aa{i}", JSON,
        j({"jsonrpc": "2.0", "id": i, "method": "ping"}))
for i, host in enumerate(["legacy-a.example.net", "legacy-b.example.org", "mcp.legacy-c.example"]):
    add(mcp_cases, "mcp", "legacy SSE handshake (decided on the answer)", "GET", f"https://{host}/sse",
        [["Accept", "text/event-stream"], ["Cache-Control", "no-cache"]], None, answer="endpoint")

# WebSocket with the mcp subprotocol.
for host in PLAIN_HOSTS[:3]:
    add(mcp_cases, "mcp", "WebSocket subprotocol", "GET", f"https://{host}/ws",
        [["Connection", "Upgrade"], ["Upgrade", "websocket"], ["Sec-WebSocket-Version", "13"],
         ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="], ["Sec-WebSocket-Protocol", "mcp"]])

# Curated public MCP servers: the host decides, whatever the request.
for host in CURATED_HOSTS:
    add(mcp_cases, "mcp", "curated MCP hosts", "POST", f"https://{host}/mcp", JSON, j(init("2025-06-18", CLIENTS[0])))
    add(mcp_cases, "mcp", "curated MCP hosts", "GET", f"https://{host}/sse", [["Accept", "text/event-stream"]])

# MCP servers inside LLM calls: the provider would connect to them.
SHADOW_SERVERS = ["https://tools.example-shadow.com/mcp", "https://mcp.example-tools.dev/sse", "https://agents.example.net/mcp"]
for i, server in enumerate(SHADOW_SERVERS):
    add(mcp_cases, "mcp", "MCP servers inside LLM calls", "POST", "https://api.anthropic.com/v1/messages",
        [["Content-Type", "application/json"], ["anthropic-version", "2023-06-01"], ["anthropic-beta", "mcp-client-2025-04-04"]],
        j({"model": "claude-sonnet-4-20250514", "max_tokens": 256, "messages": [{"role": "user", "content": "List my open issues"}],
           "mcp_servers": [{"type": "url", "url": server, "name": f"shadow{i}", "authorization_token": "tok"}]}), shadow_url=server)
    add(mcp_cases, "mcp", "MCP servers inside LLM calls", "POST", "https://api.openai.com/v1/responses", [["Content-Type", "application/json"]],
        j({"model": "gpt-4.1", "input": "List my open issues",
           "tools": [{"type": "mcp", "server_label": f"shadow{i}", "server_url": server, "require_approval": "never"}]}), shadow_url=server)
# Provider-run connectors: no URL to swap, only a connector id.
for connector in ["connector_dropbox", "connector_gmail", "connector_googledrive"]:
    add(mcp_cases, "mcp", "MCP connectors inside LLM calls (no URL)", "POST", "https://api.openai.com/v1/responses", [["Content-Type", "application/json"]],
        j({"model": "gpt-4.1", "input": "Summarise my latest files",
           "tools": [{"type": "mcp", "server_label": connector.split("_")[1].title(), "connector_id": connector,
                      "authorization": "ya29.token", "require_approval": "never"}]}), connector=connector)

# --- Benign ---------------------------------------------------------------------------------------
MCP_TEXT_CALL = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "search", "arguments": {"q": "x"}}}
MCP_TEXT_INIT = init("2025-06-18", CLIENTS[1])

# Log shipping: Elasticsearch / OpenSearch bulk bodies with captured MCP traffic (NDJSON).
for i in range(12):
    lines = []
    for k in range(1 + i % 3):
        lines.append(j({"index": {"_index": f"agent-traffic-2026.12.0{1 + k}"}}))
        payload = [MCP_TEXT_CALL, MCP_TEXT_INIT, {"jsonrpc": "2.0", "id": 5, "method": "resources/read", "params": {"uri": "s3://b/k"}}][(i + k) % 3]
        doc = {"@timestamp": f"2026-12-0{1 + k}T10:0{k}:00Z", "host": {"name": f"node-{i}"}, "direction": "request"}
        if i % 2:
            doc["payload"] = payload
        else:
            doc["message"] = j(payload)
        lines.append(j(doc))
    host = ["search.example.com", "es-logs.internal.example", "opensearch.example.org"][i % 3]
    add(benign_cases, "benign", "log shipping (Elasticsearch bulk)", "POST", f"https://{host}/_bulk",
        [["Content-Type", "application/x-ndjson"]], "\n".join(lines) + "\n", **({"encoding": "gzip"} if i % 4 == 3 else {}))

# Observability events: OTLP/JSON logs and traces, Datadog and Splunk HEC, Loki.
for i in range(10):
    captured = [MCP_TEXT_CALL, MCP_TEXT_INIT][i % 2]
    otlp = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "mcp-gateway"}}]},
            "scopeLogs": [{"scope": {"name": "mcp.tracing"}, "logRecords": [
                {"timeUnixNano": "1764583200000000000", "severityText": "INFO",
                 "body": {"stringValue": j(captured)} if i % 2 else {"kvlistValue": {"values": [{"key": k, "value": {"stringValue": str(v)}} for k, v in captured.items()]}},
                 "attributes": [{"key": "rpc.method", "value": {"stringValue": captured["method"]}}, {"key": "rpc.system", "value": {"stringValue": "jsonrpc"}}]}]}]}]}
    add(benign_cases, "benign", "observability events", "POST", f"https://otel-collector{i % 2}.example.com/v1/logs", [["Content-Type", "application/json"]], j(otlp))
    spans = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [
        {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": f"mcp {captured['method']}",
         "kind": 3, "attributes": [{"key": "mcp.method.name", "value": {"stringValue": captured["method"]}},
                                   {"key": "mcp.request", "value": {"stringValue": j(captured)}}]}]}]}]}
    add(benign_cases, "benign", "observability events", "POST", "https://otel.example.com/v1/traces", [["Content-Type", "application/json"]], j(spans))
for i in range(8):
    captured = [MCP_TEXT_CALL, MCP_TEXT_INIT][i % 2]
    events = [{"ddsource": "mcp-proxy", "service": "agent", "hostname": f"node-{i}", "message": "forwarded request",
               "mcp": captured}, {"ddsource": "mcp-proxy", "message": j(captured), "status": "info"}]
    add(benign_cases, "benign", "observability events", "POST", "https://http-intake.logs.datadoghq.com/api/v2/logs",
        [["Content-Type", "application/json"], ["DD-API-KEY", "0123456789abcdef"]], j(events))
    hec = {"time": 1764583200 + i, "sourcetype": "_json", "event": captured if i % 2 else {"raw": j(captured)}}
    add(benign_cases, "benign", "observability events", "POST", "https://splunk-hec.example.com/services/collector/event",
        [["Authorization", "Splunk 1234-5678"], ["Content-Type", "application/json"]], j(hec))
for i in range(4):
    loki = {"streams": [{"stream": {"app": "mcp-gateway"}, "values": [["1764583200000000000", j([MCP_TEXT_CALL, MCP_TEXT_INIT][i % 2])]]}]}
    add(benign_cases, "benign", "observability events", "POST", "https://loki.example.com/loki/api/v1/push", [["Content-Type", "application/json"]], j(loki))

# Multipart uploads of fixtures that are MCP messages.
for i in range(10):
    boundary = f"----formdata-{i:04d}"
    fixture = j([MCP_TEXT_CALL, MCP_TEXT_INIT, [MCP_TEXT_CALL, MCP_TEXT_INIT]][i % 3])
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nfixture {i}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fixture-{i}.json\"\r\n"
            f"Content-Type: application/json\r\n\r\n{fixture}\r\n--{boundary}--\r\n")
    host = ["ci.example.com", "uploads.example.org", "gitlab.example.com"][i % 3]
    add(benign_cases, "benign", "multipart uploads", "POST", f"https://{host}/api/v4/projects/7/uploads",
        [["Content-Type", f"multipart/form-data; boundary={boundary}"]], body)

# Gateway admin APIs saving policies that list MCP method names.
for i in range(10):
    policy = [{"name": "mcp-guard", "rules": [{"match": {"method": "tools/call", "tool": "delete_*"}, "action": "deny"},
                                              {"match": {"method": "resources/read"}, "action": "audit"}]},
              {"plugin": "ai-mcp-guard", "config": {"allowed_methods": ["initialize", "tools/list", "tools/call"], "protocolVersion": "2025-06-18"}},
              {"policy": {"id": f"p{i}", "conditions": [{"field": "jsonrpc.method", "operator": "eq", "value": "tools/call"}], "method": "initialize-policy"}}][i % 3]
    host = ["gateway.example.com", "kong-admin.internal.example", "envoy-config.example.org"][i % 3]
    add(benign_cases, "benign", "admin APIs naming MCP methods", ["PUT", "POST", "PATCH"][i % 3], f"https://{host}/admin/policies/p{i}",
        [["Content-Type", "application/json"]], j(policy))

# REST bodies whose protocolVersion starts with a year.
for i in range(8):
    body = {"device": f"gw-{i}", "firmware": {"version": f"5.{i}.1", "protocolVersion": f"202{4 + i % 4}.{1 + i % 3}", "build": "2026-10-01"}}
    if i % 2:
        body = {"protocolVersion": f"202{5 + i % 3}-0{1 + i % 9}-01", "schema": "telemetry", "readings": [1, 2, 3]}
    add(benign_cases, "benign", "protocolVersion in REST bodies", "POST", f"https://devices{i % 2}.example.com/api/v1/firmware", [["Content-Type", "application/json"]], j(body))

# Other JSON-RPC: LSP, Ethereum, Bitcoin, Solana, A2A, Odoo, Kodi.
LSP = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": 4242, "rootUri": "file:///src", "capabilities": {"textDocument": {}}}},
    {"jsonrpc": "2.0", "method": "initialized", "params": {}},
    {"jsonrpc": "2.0", "id": 2, "method": "textDocument/completion", "params": {"textDocument": {"uri": "file:///src/a.py"}, "position": {"line": 3, "character": 7}}},
    {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///src/a.py", "languageId": "python", "version": 1, "text": "x"}}},
    {"jsonrpc": "2.0", "id": 3, "method": "shutdown"},
]
for i, message in enumerate(LSP):
    add(benign_cases, "benign", "other JSON-RPC (LSP, Ethereum, Bitcoin, A2A, …)", "POST", f"https://lsp{i % 2}.example.com/lsp", [["Content-Type", "application/vscode-jsonrpc; charset=utf-8"]], j(message))
ETH = ["eth_blockNumber", "eth_call", "eth_getBalance", "eth_sendRawTransaction", "eth_getLogs", "net_version", "web3_clientVersion", "eth_chainId"]
for i, method in enumerate(ETH):
    params = [] if method in ("eth_blockNumber", "net_version", "web3_clientVersion", "eth_chainId") else [{"to": "0x00000000219ab540356cbb839cbe05303d7705fa", "data": "0x"}, "latest"]
    add(benign_cases, "benign", "other JSON-RPC (LSP, Ethereum, Bitcoin, A2A, …)", "POST", ["https://mainnet.infura.example/v3/abc", "https://eth.example.com/", "https://rpc.ankr.example/eth"][i % 3],
        [["Content-Type", "application/json"]], j({"jsonrpc": "2.0", "id": i + 1, "method": method, "params": params}))
add(benign_cases, "benign", "other JSON-RPC (LSP, Ethereum, Bitcoin, A2A, …)", "POST", "https://eth.example.com/", [["Content-Type", "application/json"]],
    j([{"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}, {"jsonrpc": "2.0", "id": 2, "method": "eth_chainId", "params": []}]))
for i, method in enumerate(["getblockchaininfo", "getbalance", "sendrawtransaction"]):
    add(benign_cases, "benign", "other JSON-RPC (LSP, Ethereum, Bitcoin, A2A, …)", "POST", "https://btc-node.example.com/", [["Content-Type", "text/plain"]],
        j({"jsonrpc": "1.0", "id": "curltest", "method": method, "params": []}))
for i, method in enumerate(["getBalance", "getAccountInfo", "getLatestBlockhash"]):
    add(benign_cases, "benign", "other JSON-RPC (LSP, Ethereum, Bitcoin, A2A, …)", "POST", "https://api.mainnet-beta.solana.example/", [["Content-Type", "application/json"]],
        j({"jsonrpc": "2.0", "id": i + 1, "method": method, "params": ["83astBRguLMdt2h5U1Tpdq5tjFoJ6noeGwaY3mDLVcri"]}))
A2A = [
    {"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": {"role": "user", "parts": [{"kind": "text", "text": "hi"}], "messageId": "m1"}}},
    {"jsonrpc": "2.0", "id": 2, "method": "tasks/get", "params": {"id": "task-123"}},
    {"jsonrpc": "2.0", "id": 3, "method": "tasks/cancel", "params": {"id": "task-123"}},
    {"jsonrpc": "2.0", "id": 4, "method": "tasks/send", "params": {"id": "task-9", "message": {"role": "user", "parts": [{"type": "text", "text": "x"}]}}},
]
for i, message in enumerate(A2A):
    add(benign_cases, "benign", "other JSON-RPC (LSP, Ethereum, Bitcoin, A2A, …)", "POST", f"https://agent{i % 2}.example-a2a.com/a2a", [["Content-Type", "application/json"]], j(message))
for i, message in enumerate([
    {"jsonrpc": "2.0", "method": "call", "params": {"service": "object", "method": "execute_kw", "args": ["db", 2, "pw", "res.partner", "search", []]}, "id": 1},
    {"jsonrpc": "2.0", "method": "Player.GetActivePlayers", "id": 1},
    {"jsonrpc": "2.0", "method": "initialize", "params": {"rootPath": "/", "capabilities": {}}, "id": 0},
    {"jsonrpc": "2.0", "method": "tools.call", "params": {"name": "x"}, "id": 1},
    {"jsonrpc": "2.0", "method": "tools/run", "params": {"name": "x"}, "id": 1},
]):
    add(benign_cases, "benign", "other JSON-RPC (LSP, Ethereum, Bitcoin, A2A, …)", "POST", f"https://jsonrpc{i}.example.net/jsonrpc", [["Content-Type", "application/json"]], j(message))

# Event streams at /sse and friends that are not MCP.
for i, host in enumerate(["ticker.example-exchange.com", "prices.example-markets.net", "live.example-news.org", "notify.example-app.io"]):
    for path in ["/sse", "/sse/quotes", "/events"]:
        add(benign_cases, "benign", "event streams at /sse", "GET", f"https://{host}{path}?symbols=AAPL,MSFT",
            [["Accept", "text/event-stream"], ["Cache-Control", "no-cache"]], None, answer="ticker")

# Hosts whose first label is mcp but that are not MCP servers.
for i, host in enumerate(["mcp.example-university.edu", "mcp.health-service.example", "mcp.example-county.gov", "mcp.example-manufacturing.com", "mcp.example-physics.org"]):
    add(benign_cases, "benign", "mcp.* hosts that are not MCP", "GET", f"https://{host}/", [["Accept", "text/html"]])
    add(benign_cases, "benign", "mcp.* hosts that are not MCP", "GET", f"https://{host}/patients/portal/login", [["Accept", "text/html"]])
    add(benign_cases, "benign", "mcp.* hosts that are not MCP", "POST", f"https://{host}/api/v1/appointments", [["Content-Type", "application/json"]],
        j({"patient": f"p-{i}", "slot": "2026-12-08T09:30:00Z", "method": "in-person"}))
    add(benign_cases, "benign", "mcp.* hosts that are not MCP", "POST", f"https://{host}/login", [["Content-Type", "application/x-www-form-urlencoded"]], f"user=u{i}&password=secret")

# /mcp, /sse and /messages paths on sites unrelated to MCP.
for i, (host, path) in enumerate([
    ("www.example-program.org", "/mcp"), ("www.example-program.org", "/mcp/apply"), ("mods.example-game.net", "/mcp/mappings/1.12.2.csv"),
    ("files.example-game.net", "/mcp/stable/39-1.12.zip"), ("www.example-bank.com", "/mcp/"), ("docs.example.com", "/mcp/overview.html"),
    ("chat.example-social.com", "/messages"), ("chat.example-social.com", "/messages/inbox"), ("api.example-sms.com", "/messages"),
    ("www.example-school.edu", "/sse/"), ("stats.example.com", "/sse/report.pdf"), ("www.example-mcp-consulting.com", "/mcp/team"),
]):
    add(benign_cases, "benign", "/mcp, /sse, /messages on unrelated sites", "GET", f"https://{host}{path}", [["Accept", "text/html,*/*"]])
    add(benign_cases, "benign", "/mcp, /sse, /messages on unrelated sites", "POST", f"https://{host}{path}", [["Content-Type", "application/json"]],
        j({"to": "bob", "text": f"hello {i}", "method": "email"}))

# LLM calls that quote MCP in prompts or name tools like MCP methods.
QUOTES = [j(MCP_TEXT_CALL), j(MCP_TEXT_INIT), "Why does my server answer -32601 to tools/call?", '{"method":"initialize","params":{"protocolVersion":"2025-06-18"}}']
for i, text in enumerate(QUOTES):
    add(benign_cases, "benign", "LLM calls quoting MCP", "POST", "https://api.openai.com/v1/chat/completions", [["Content-Type", "application/json"]],
        j({"model": "gpt-4o", "messages": [{"role": "system", "content": "You debug MCP servers."}, {"role": "user", "content": f"Explain this: {text}"}]}))
    add(benign_cases, "benign", "LLM calls quoting MCP", "POST", "https://api.anthropic.com/v1/messages", [["Content-Type", "application/json"], ["anthropic-version", "2023-06-01"]],
        j({"model": "claude-sonnet-4-20250514", "max_tokens": 512, "messages": [{"role": "user", "content": f"Review: {text}"}]}))
    add(benign_cases, "benign", "LLM calls quoting MCP", "POST", "https://api.openai.com/v1/responses", [["Content-Type", "application/json"]],
        j({"model": "gpt-4.1", "input": f"What is wrong with {text}", "tools": [{"type": "function", "name": "tools_call", "parameters": {"type": "object", "properties": {}}}]}))

# Issue trackers, chat and docs that carry MCP JSON as text.
for i in range(6):
    text = f"Steps to reproduce:\n```json\n{j([MCP_TEXT_CALL, MCP_TEXT_INIT][i % 2])}\n```"
    add(benign_cases, "benign", "MCP quoted in issues, chat and docs", "POST", "https://api.github.com/repos/example/agent/issues",
        [["Content-Type", "application/json"], ["Accept", "application/vnd.github+json"]], j({"title": f"tools/call fails ({i})", "body": text}))
    add(benign_cases, "benign", "MCP quoted in issues, chat and docs", "POST", "https://slack.com/api/chat.postMessage",
        [["Content-Type", "application/json; charset=utf-8"]], j({"channel": "C024BE91L", "text": text}))
    add(benign_cases, "benign", "MCP quoted in issues, chat and docs", "GET", f"https://modelcontextprotocol.io/specification/{VERSIONS[i % 5]}/basic/lifecycle", [["Accept", "text/html"]])

# Look-alike hosts and ordinary API traffic.
for i, (method, url, body) in enumerate([
    ("GET", "https://mcpherson.edu/admissions", None), ("GET", "https://www.mcpmag.example/articles/42", None),
    ("GET", "https://mcp-hosting.example.com/pricing", None), ("POST", "https://api.example-shop.com/v1/orders", j({"order_id": 42, "items": [{"sku": "A-1", "qty": 2}], "note": "ship tools/call kit"})),
    ("POST", "https://hooks.example.com/webhook", j({"event": "push", "ref": "refs/heads/main", "commits": [{"message": "add tools/call handler"}]})),
    ("POST", "https://api.example-graphql.com/graphql", j({"query": "query { tools { name } }", "operationName": "initialize"})),
    ("GET", "https://registry.npmjs.org/@modelcontextprotocol%2fsdk", None), ("GET", "https://pypi.org/pypi/mcp/json", None),
    ("GET", "https://github.com/modelcontextprotocol/servers", None), ("POST", "https://api.example-crm.com/v2/contacts", j({"name": "MCP Ltd", "jsonrpc": "no"})),
]):
    add(benign_cases, "benign", "look-alikes and ordinary APIs", method, url, [["Content-Type", "application/json"]] if body else [["Accept", "*/*"]], body)

for name, cases in (("mcp.jsonl", mcp_cases), ("benign.jsonl", benign_cases)):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as out:
        for case in cases:
            out.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
print(f"mcp.jsonl: {len(mcp_cases)} cases, benign.jsonl: {len(benign_cases)} cases")
