#!/usr/bin/env python3
"""A plain-HTTP MCP origin that pages its tools/list answer, for meshgate's drift tests.

usage: tool_pages_origin.py [--handshake-only]   (prints the port on the first line; runs until stdin closes)

POST /mcp with a JSON-RPC tools/list: without params.cursor the answer is page 1 (tool `alpha`,
nextCursor "p2"); with cursor "p2" it is page 2 (tool `beta`, no nextCursor). A request whose Accept
asks only for text/event-stream gets the answer as an event stream, preceded by a
notifications/tools/list_changed event, with CRLF line ends.

A request with `X-Compress: gzip` gets its answer gzip-compressed (Content-Encoding: gzip); with
`X-Compress: broken`, labelled gzip but not. With `X-Stall: 1` it sends half the answer and waits
(up to 10 s) for the proxy to close the connection, then prints whether it did.

--handshake-only: an older server. A request declaring MCP-Protocol-Version 2026-07-28 gets 400;
`initialize` answers 2025-06-18 with an Mcp-Session-Id, and tools/list without that session gets 404.
Every request line is printed to stdout (`POST <method> session=<id>`), so a test sees the sequence.
"""
import gzip
import http.server
import json
import select
import signal
import socket
import sys
import threading

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})


def tool(name):
    return {"name": name, "description": f"{name} tool", "inputSchema": {"type": "object"}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, kind="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_DELETE(self):
        print(f"DELETE session={self.headers.get('Mcp-Session-Id')}", flush=True)
        self.reply(200, b"")

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if HANDSHAKE_ONLY:
            print(f"POST {request.get('method')} session={self.headers.get('Mcp-Session-Id')}", flush=True)
            if self.headers.get("MCP-Protocol-Version") == "2026-07-28":
                return self.reply(400, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"unsupported protocol version"}}')
            if request.get("method") == "initialize":
                result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "old", "version": "1"}}
                body = json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "result": result}, separators=(",", ":")).encode()
                return self.reply(200, body, extra=[("Mcp-Session-Id", "sess-1")])
            if request.get("method") == "notifications/initialized":
                return self.reply(202, b"")
            if self.headers.get("Mcp-Session-Id") != "sess-1":
                return self.reply(404, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"session not found"}}')
        cursor = (request.get("params") or {}).get("cursor")
        if cursor == "p2":
            result = {"tools": [tool("beta")]}
        else:
            result = {"tools": [tool("alpha")], "nextCursor": "p2"}
        answer = json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "result": result}, separators=(",", ":"))
        if self.headers.get("Accept", "").strip() == "text/event-stream":
            changed = json.dumps({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}, separators=(",", ":"))
            body = f"event: message\r\ndata: {changed}\r\n\r\nevent: message\r\nid: 2\r\ndata: {answer}\r\n\r\n".encode()
            kind = "text/event-stream"
        else:
            body = answer.encode()
            kind = "application/json"
        compressed = self.headers.get("X-Compress") in ("gzip", "broken")
        if compressed:
            body = gzip.compress(body) if self.headers.get("X-Compress") == "gzip" else b"not gzip at all" + body
        self.send_response(200)
        self.send_header("Content-Type", kind)
        if compressed:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.headers.get("X-Stall") == "1":
            # Half the answer, then wait for the proxy to give up on it (the client left).
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            readable, _, _ = select.select([self.connection], [], [], 10)
            gone = bool(readable) and self.connection.recv(1) == b""
            print("upstream closed by the proxy" if gone else "still open after 10 s", flush=True)
            self.close_connection = True
            return
        self.wfile.write(body)


HANDSHAKE_ONLY = "--handshake-only" in sys.argv


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
