#!/usr/bin/env python3
"""An origin for the transparent-proxy test: answers every request with who it is, the Host and the path.

usage: origin_server.py ADDRESS PORT [CERT KEY]   (prints "listening PORT" once ready)
"""
import http.server
import signal
import socket
import ssl
import sys

# The test runner starts its children with SIGTERM blocked; without this terminate() left the
# origin running after its test.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        # One line per request, so a test can prove what did (and did not) reach the origin.
        print(f"request {self.command} host={self.headers.get('Host')} path={self.path}", flush=True)
        body = f"origin host={self.headers.get('Host')} path={self.path}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = answer
    do_POST = answer


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET


server = Server((sys.argv[1], int(sys.argv[2])), Handler)
if len(sys.argv) == 5:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
