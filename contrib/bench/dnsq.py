#!/usr/bin/env python3
"""Send one DNS A query over UDP and print the answer addresses (or the rcode); exit 1 on no reply.

Used by contrib/bench to check that a DNS server answers before loading it.
    dnsq.py SERVER PORT NAME [TIMEOUT]
"""
import random
import socket
import struct
import sys


def query(server: str, port: int, name: str, timeout: float) -> str:
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(q, (server, port))
        data, _ = s.recvfrom(4096)
    rid, flags, _qd, an = struct.unpack(">HHHH", data[:8])
    if rid != qid:
        raise RuntimeError("id mismatch")
    rcode = flags & 0xF
    if rcode:
        return {3: "NXDOMAIN", 2: "SERVFAIL", 5: "REFUSED"}.get(rcode, f"rcode {rcode}")
    # Skip the question, then read A records.
    i = 12
    while data[i]:
        i += data[i] + 1
    i += 5
    out = []
    for _ in range(an):
        if data[i] & 0xC0 == 0xC0:
            i += 2
        else:
            while data[i]:
                i += data[i] + 1
            i += 1
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", data[i:i + 10])
        i += 10
        if rtype == 1 and rdlen == 4:
            out.append(socket.inet_ntoa(data[i:i + 4]))
        i += rdlen
    return " ".join(out) or "NODATA"


def main() -> int:
    server, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    try:
        print(query(server, port, name, timeout))
    except (OSError, RuntimeError, IndexError, struct.error) as e:
        print(f"no answer: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
