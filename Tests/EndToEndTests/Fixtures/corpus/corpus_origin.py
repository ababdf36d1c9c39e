#!/usr/bin/env python3
"""The origin behind every host of the detection corpus (HTTPS and HTTP), including the portal.

usage: corpus_origin.py ADDRESS CERT KEY ENDPOINT_HOSTS    (prints "listening" once both ports are up)

Logs one JSON line per request on stdout: case (X-Corpus-Case), host, method, path and the body
(first 16 KiB), so the test can tell what reached which host. An event-stream GET is answered with
the legacy MCP handshake (`event: endpoint`) when its host is in ENDPOINT_HOSTS (comma-separated),
else with three ordinary events (a ticker). Everything else gets a small JSON answer.
"""
import http.server
import json
import signal
import socket
import ssl
import sys
import threading
import time

# The test runner starts children with SIGTERM blocked.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
address, cert, key, endpoint_hosts = sys.argv[1], sys.argv[2], sys.argv[3], set(filter(None, sys.argv[4].split(",")))
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self):
        body = self.read_body()
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0] if not (self.headers.get("Host") or "").startswith("[") else self.headers.get("Host")
        record = {"case": self.headers.get("X-Corpus-Case"), "host": host, "method": self.command, "path": self.path,
                  "body": body[:16384].decode("utf-8", "replace")}
        with lock:
            print(json.dumps(record), flush=True)
        if self.command == "GET" and "text/event-stream" in (self.headers.get("Accept") or ""):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            if host in endpoint_hosts:
                self.wfile.write(b"event: endpoint\ndata: /messages?sessionId=4f1c2e\n\n")
                self.wfile.flush()
                time.sleep(0.3)
            else:
                for i in range(3):
                    self.wfile.write(f"event: quote\ndata: {{\"symbol\":\"AAPL\",\"price\":{190 + i}}}\n\n".encode())
                    self.wfile.flush()
            self.close_connection = True
            return
        reply = b'{"ok":true}\n'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET


tls = Server((address, 443), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
tls.socket = context.wrap_socket(tls.socket, server_side=True)
plain = Server((address, 80), Handler)
threading.Thread(target=plain.serve_forever, daemon=True).start()
print("listening", flush=True)
tls.serve_forever()
