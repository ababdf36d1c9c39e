#!/usr/bin/env python3
"""A ruleset publisher for tests: serves files from a directory over HTTP or HTTPS.

GET /truncated/NAME declares NAME's full Content-Length, sends half of it and closes the
connection (a download cut short). Prints "listening PORT" once ready.
usage: rules_server.py DIR [CERT KEY]
"""
import http.server
import os
import signal
import ssl
import sys

# The test runner starts its children with SIGTERM blocked; without this the publisher outlived
# every test that stopped it (they piled up across runs).
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

ROOT = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        truncated = path.startswith("/truncated/") and not path.endswith(".sig")
        name = os.path.basename(path)
        file = os.path.join(ROOT, name)
        if not os.path.isfile(file):
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with open(file, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/yaml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if truncated:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(data)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) == 4:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
