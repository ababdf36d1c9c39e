"""MCP client for meshgate's end-to-end tests, built on the official MCP Python SDK (`mcp` on PyPI).

    python3 mcp_client.py URL --proxy http://127.0.0.1:PORT --cafile CA.pem [--protocol stateless|legacy]
                          [--call TOOL [--text TEXT]] [--trace]

Connects to URL with the SDK's Streamable HTTP client through the HTTP proxy (CONNECT), trusting only
CA.pem, lists the tools (and with --call, calls one) and prints one JSON line:

    {"ok": true, "tools": ["portal_echo"], "protocol": "2026-07-28", "mode": "stateless", "sdk": "2.3.0"}
    {"ok": true, "tools": ["portal_echo"], "result": "portal:portal_echo:hello", "is_error": false, "protocol": ...}
    {"ok": false, "error": "...", "status": 403, "jsonrpc_error": {"code": ..., "message": ...},
     "meshgate": {"rule": "...", "action": "..."}, "location": "...", "mode": "...", "sdk": "..."}

`status`, `jsonrpc_error`, `meshgate` and `location` appear only when known. Exits 0 either way.

--protocol stateless: the SDK default (mcp 2.x `mode="auto"`): a `server/discover` probe at 2026-07-28
    with `MCP-Protocol-Version` / `Mcp-Method` headers, falling back to `initialize` if the server
    is not modern. `protocol` in the output tells which era was negotiated.
--protocol legacy: the `initialize` handshake (mcp 2.x `mode="legacy"`; the only thing mcp 1.x does).
--trace: one JSON line per HTTP request/response on stderr.

The proxy and CA are passed to the HTTP client explicitly; HTTP(S)_PROXY and SSL_CERT_FILE in the
environment are ignored (trust_env=False).
"""
import argparse
import asyncio
import json
import re
import ssl
import sys
from importlib.metadata import version as dist_version

SDK_VERSION = dist_version("mcp")
SDK_MAJOR = int(SDK_VERSION.split(".")[0])

if SDK_MAJOR >= 2:
    import httpx2 as httpx
else:
    import httpx


class Observations:
    """What the HTTP layer saw; the SDK turns HTTP failures into synthesized JSON-RPC errors."""

    def __init__(self, trace):
        self.trace = trace
        self.error_status = None
        self.error_body = None
        self.meshgate = None
        self.location = None

    async def on_request(self, request):
        if self.trace:
            try:
                body = request.content
            except httpx.RequestNotRead:
                body = b"<streamed>"
            emit_trace({
                "dir": "request",
                "method": request.method,
                "url": str(request.url),
                "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
                "body": body.decode("utf-8", "replace"),
            })

    async def on_response(self, response):
        # Only POSTs count, and only the latest: in stateless mode a failed server/discover
        # probe is followed by an initialize fallback whose outcome is what the caller sees,
        # and the session's GET stream and closing DELETE say nothing about the failure.
        if response.request.method != "POST":
            return await self.trace_response(response)
        rule = response.headers.get("x-meshgate-rule")
        action = response.headers.get("x-meshgate-action")
        self.meshgate = {"rule": rule, "action": action} if rule is not None or action is not None else None
        self.error_status = self.error_body = self.location = None
        if response.status_code >= 300:
            self.error_status = response.status_code
            self.location = response.headers.get("location")
            # Read now: the SDK discards non-JSON error bodies, and aread() caches the content.
            try:
                self.error_body = (await response.aread()).decode("utf-8", "replace")[:2000]
            except Exception:
                self.error_body = None
        await self.trace_response(response)

    async def trace_response(self, response):
        if self.trace:
            emit_trace({
                "dir": "response",
                "status": response.status_code,
                "url": str(response.request.url),
                "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in response.headers.raw],
            })


def emit_trace(record):
    print(json.dumps(record), file=sys.stderr, flush=True)


def make_http_client(proxy, cafile, observations):
    return httpx.AsyncClient(
        proxy=proxy,
        verify=ssl.create_default_context(cafile=cafile),
        trust_env=False,
        timeout=httpx.Timeout(20.0),
        event_hooks={"request": [observations.on_request], "response": [observations.on_response]},
    )


def call_output(result):
    text = "".join(getattr(block, "text", "") for block in result.content)
    is_error = getattr(result, "is_error", getattr(result, "isError", None))
    return {"result": text, "is_error": bool(is_error)}


async def session_v2(url, http_client, protocol, call, call_text):
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    transport = streamable_http_client(url, http_client=http_client, terminate_on_close=True)
    mode = "auto" if protocol == "stateless" else "legacy"
    async with Client(transport, mode=mode, cache=None, read_timeout_seconds=20) as client:
        listed = (await client.list_tools()).tools
        out = {"tools": [tool.name for tool in listed]}
        if DUMP_TOOLS:
            out["definitions"] = [tool_definition(tool) for tool in listed]
        if call:
            out.update(call_output(await client.call_tool(call, {"text": call_text})))
        out["protocol"] = client.protocol_version
        return out


async def session_v1(url, http_client, protocol, call, call_text):
    if protocol != "legacy":
        raise UnsupportedMode(f"mcp {SDK_VERSION} only speaks the initialize handshake; use --protocol legacy")
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url, http_client=http_client) as (read, write, _):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out = {"tools": [tool.name for tool in (await session.list_tools()).tools]}
            if call:
                out.update(call_output(await session.call_tool(call, {"text": call_text})))
            out["protocol"] = init.protocolVersion
            return out


DUMP_TOOLS = False


def tool_definition(tool):
    """The members a registry pin covers, as the server sent them (wire names)."""
    wire = tool.model_dump(by_alias=True, exclude_none=True, mode="json")
    return {k: wire[k] for k in ("name", "description", "inputSchema", "annotations") if k in wire}


class UnsupportedMode(Exception):
    pass


def leaf_exceptions(exc):
    """Flattens anyio/asyncio exception groups to the errors that caused them."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from leaf_exceptions(inner)
    else:
        yield exc


def jsonrpc_error_in(body):
    """The `error` member of a JSON-RPC error response body, or None."""
    if not body:
        return None
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if isinstance(message, dict) and message.get("jsonrpc") == "2.0" and isinstance(message.get("error"), dict):
        return message["error"]
    return None


def describe_failure(exc, observations):
    leaves = list(leaf_exceptions(exc)) or [exc]
    # Prefer an MCP error (it carries the JSON-RPC error) over transport noise.
    chosen = next((e for e in leaves if hasattr(e, "error") and hasattr(getattr(e, "error"), "code")), leaves[0])
    out = {"ok": False, "error": f"{type(chosen).__name__}: {chosen}"}
    status = observations.error_status
    if isinstance(chosen, httpx.ProxyError):
        match = re.match(r"(\d{3})\b", str(chosen))
        if match:
            status = int(match.group(1))
    if status is not None:
        out["status"] = status
    wire_error = jsonrpc_error_in(observations.error_body)
    error_data = getattr(chosen, "error", None)
    if wire_error is not None:
        out["jsonrpc_error"] = wire_error
    elif observations.error_status is None and error_data is not None and hasattr(error_data, "code"):
        # No HTTP error was seen, so this error came back in a JSON-RPC response (an
        # HTTP error without a JSON-RPC body makes the SDK synthesize one: not reported).
        jsonrpc_error = {"code": error_data.code, "message": error_data.message}
        if getattr(error_data, "data", None) is not None:
            jsonrpc_error["data"] = error_data.data
        out["jsonrpc_error"] = jsonrpc_error
    if observations.error_body:
        out["body"] = observations.error_body
    if observations.meshgate is not None:
        out["meshgate"] = observations.meshgate
    if observations.location is not None:
        out["location"] = observations.location
    return out


async def run(args):
    observations = Observations(args.trace)
    http_client = make_http_client(args.proxy, args.cafile, observations)
    try:
        async with http_client:
            fn = session_v2 if SDK_MAJOR >= 2 else session_v1
            result = await asyncio.wait_for(fn(args.url, http_client, args.protocol, args.call, args.text), args.timeout)
        out = {"ok": True, **result}
        if observations.meshgate is not None:
            out["meshgate"] = observations.meshgate
    except asyncio.TimeoutError:
        out = {"ok": False, "error": f"timed out after {args.timeout}s"}
        if observations.error_status is not None:
            out["status"] = observations.error_status
    except BaseException as exc:  # noqa: BLE001 - the test asserts on the JSON, never on a traceback
        if isinstance(exc, KeyboardInterrupt):
            raise
        out = describe_failure(exc, observations)
    out["mode"] = args.protocol
    out["sdk"] = SDK_VERSION
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--proxy", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--cafile", required=True, help="the only CA trusted for the origin (meshgate's CA)")
    parser.add_argument("--protocol", choices=["stateless", "legacy"], default="stateless")
    parser.add_argument("--call", metavar="TOOL", help="also call TOOL (tools/call) with {\"text\": TEXT}")
    parser.add_argument("--text", default="hello", help="the text argument for --call")
    parser.add_argument("--timeout", type=float, default=25.0)
    parser.add_argument("--trace", action="store_true", help="log HTTP requests/responses to stderr")
    parser.add_argument("--dump-tools", action="store_true", help="also print the listed tools' definitions (name, description, inputSchema, annotations)")
    args = parser.parse_args()
    global DUMP_TOOLS
    DUMP_TOOLS = args.dump_tools
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
