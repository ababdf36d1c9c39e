#!/usr/bin/env python3
"""A tiny upstream DNS server for meshgate's end-to-end tests (loopback only, no dependencies).

Answers every A query with 203.0.113.7 and every AAAA query with 2001:db8::7 (TTL 60), other
types with an empty NOERROR, over UDP and TCP on one port. Prints "listening on PORT" once ready.
Usage: dns_upstream.py [--port N] [--bind ADDRESS] [--a IPV4]
  (port 0, the default, picks a free port; --bind defaults to 127.0.0.1; --a replaces 203.0.113.7)
"""
import signal
import socket
import struct
import sys
import threading

A = socket.inet_pton(socket.AF_INET, "203.0.113.7")
AAAA = socket.inet_pton(socket.AF_INET6, "2001:db8::7")


def answer(query):
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    i = 12
    while i < len(query) and query[i] != 0:
        i += 1 + query[i]
    if i + 5 > len(query):
        return None
    question = query[12:i + 5]
    qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
    rdata = {1: A, 28: AAAA}.get(qtype)
    header = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100), 1, 1 if rdata else 0, 0, 0)
    reply = header + question
    if rdata:
        reply += struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata
    return reply


def serve_udp(sock):
    while True:
        data, peer = sock.recvfrom(4096)
        reply = answer(data)
        if reply:
            sock.sendto(reply, peer)


def serve_tcp_client(conn):
    with conn:
        buf = b""
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                n = struct.unpack("!H", buf[:2])[0]
                reply = answer(buf[2:2 + n])
                buf = buf[2 + n:]
                if reply:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)


def serve_tcp(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_client, args=(conn,), daemon=True).start()


def main():
    # Children inherit the spawning thread's signal mask, and the test runner's threads block
    # SIGTERM: unblock it, or terminate() at the end of a test would leave this process behind.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    global A
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
    bind = sys.argv[sys.argv.index("--bind") + 1] if "--bind" in sys.argv else "127.0.0.1"
    if "--a" in sys.argv:
        A = socket.inet_pton(socket.AF_INET, sys.argv[sys.argv.index("--a") + 1])
    # A free UDP port may be taken for TCP (by some client's connection): then pick another.
    for attempt in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((bind, port))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((bind, udp.getsockname()[1]))
            break
        except OSError:
            udp.close()
            tcp.close()
            if port != 0 or attempt == 49:
                raise
    port = udp.getsockname()[1]
    tcp.listen(64)
    threading.Thread(target=serve_tcp, args=(tcp,), daemon=True).start()
    print(f"listening on {port}", flush=True)
    serve_udp(udp)


if __name__ == "__main__":
    main()
