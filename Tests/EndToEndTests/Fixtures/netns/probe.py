#!/usr/bin/env python3
"""Small network probes for the netns world's self-test (selftest.sh).

  probe.py tcp-listen HOST PORT        accept TCP; per connection print "tcp peer=IP:PORT orig=IP:PORT"
                                       (orig from SO_ORIGINAL_DST, what the transparent listener will read)
                                       and answer an HTTP 200 whose body is "probe orig=IP:PORT"
  probe.py udp-listen HOST PORT        print "udp peer=IP:PORT data=TEXT" per datagram and echo it back
  probe.py http HOST PORT [--mark M]   send GET / (socket mark M via SO_MARK when given), print the response body
  probe.py udp-send HOST PORT TEXT     send one datagram, print the reply if one comes within 2 s
Every line is flushed at once, so a caller can poll a file.
"""
import socket
import struct
import sys

SO_ORIGINAL_DST = 80  # linux/netfilter_ipv4.h
SO_MARK = getattr(socket, "SO_MARK", 36)


def say(line):
    print(line, flush=True)


def original_dst(sock):
    try:
        raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    except OSError as e:
        return f"none({e.errno})"
    port, addr = struct.unpack("!2xH4s8x", raw)
    return f"{socket.inet_ntoa(addr)}:{port}"


def tcp_listen(host, port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(port)))
    srv.listen(16)
    say(f"listening tcp {host}:{port}")
    while True:
        conn, peer = srv.accept()
        with conn:
            orig = original_dst(conn)
            say(f"tcp peer={peer[0]}:{peer[1]} orig={orig}")
            conn.settimeout(2)
            try:
                conn.recv(4096)
            except OSError:
                pass
            body = f"probe orig={orig}\n".encode()
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


def udp_listen(host, port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind((host, int(port)))
    say(f"listening udp {host}:{port}")
    while True:
        data, peer = srv.recvfrom(2048)
        say(f"udp peer={peer[0]}:{peer[1]} data={data.decode(errors='replace')}")
        srv.sendto(data, peer)


def http(host, port, mark=None):
    s = socket.socket()
    if mark is not None:
        s.setsockopt(socket.SOL_SOCKET, SO_MARK, int(mark, 0))
    s.settimeout(5)
    s.connect((host, int(port)))
    s.sendall(f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    chunks = []
    while True:
        b = s.recv(4096)
        if not b:
            break
        chunks.append(b)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    say(body.decode(errors="replace").strip())


def udp_send(host, port, text):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        s.sendto(text.encode(), (host, int(port)))
    except OSError as e:  # a local nftables drop fails the send itself (EPERM)
        say(f"no reply (send failed: {e.strerror})")
        return
    try:
        data, peer = s.recvfrom(2048)
        say(f"reply from {peer[0]}:{peer[1]} data={data.decode(errors='replace')}")
    except (socket.timeout, OSError) as e:
        say(f"no reply ({type(e).__name__})")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "tcp-listen":
        tcp_listen(*args)
    elif cmd == "udp-listen":
        udp_listen(*args)
    elif cmd == "http":
        mark = None
        if "--mark" in args:
            i = args.index("--mark")
            mark = args[i + 1]
            args = args[:i] + args[i + 2:]
        http(*args, mark=mark)
    elif cmd == "udp-send":
        udp_send(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
