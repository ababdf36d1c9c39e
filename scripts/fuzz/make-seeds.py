#!/usr/bin/env python3
"""Writes the seed corpora of scripts/fuzz.sh into DIR/<target>/: a few valid inputs per target
(in the layout its harness reads: control bytes first, see scripts/fuzz/*Fuzzer.swift), so
libFuzzer starts from real structure instead of discovering JSON or gzip headers by chance.

  make-seeds.py DIR
"""
import os
import shutil
import subprocess
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def tool(command, data):
    """Compresses with a command-line encoder (brotli, zstd) when it is installed."""
    if shutil.which(command[0]) is None:
        return None
    try:
        return subprocess.run(command, input=data, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


TOOLS_CALL = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query","arguments":{"sql":"select 1"}}}'
INITIALIZE = b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}'


def main():
    out = sys.argv[1]

    dns = os.path.join(out, "dns")
    write(dns, "query", bytes.fromhex(
        "123401000001000000000001036d63700673747269706503636f6d000001000100002904d0000000000000"))
    # An answer with a CNAME, name compression, EDNS and an Extended DNS Error.
    write(dns, "answer", bytes.fromhex(
        "12348180000100020000000103777777076578616d706c6503636f6d0000010001c00c000500010000012c0006"
        "0363646ec010c02d000100010000003c0004c000020100002904d0000000000006000f0002000f"))

    hostport = os.path.join(out, "hostport")
    for i, text in enumerate(["example.com:443", "[2001:db8::1]:8443", "127.0.0.1", "API.Example.COM.:80",
                              "[fe80::1%25eth0]:80", "xn--bcher-kva.example:65535"]):
        write(hostport, f"seed{i}", bytes([i % 4]) + text.encode())

    url = os.path.join(out, "url")
    for i, text in enumerate(["http://example.com/path?q=1#frag", "https://user:pw@[::1]:8443/a/b",
                              "HTTP://Example.COM", "https://host?x", "http://h:80/caf\u00e9"]):
        write(url, f"seed{i}", text)

    classifier = os.path.join(out, "classifier")
    heads = [(0, 0, "", "http://example.com/x?y"), (2, 0, "", "example.com:443"), (0, 1, "", "/v1/messages"),
             (0, 1, "", "https://api.example.com/v1"), (3, 1, "", "*"), (0, 2, "shop.example:8080", "/cart"),
             (1, 2, "", "http://other.example/x"), (2, 0, "", "127.0.0.1:3128")]
    for i, (method, mode, host, uri) in enumerate(heads):
        write(classifier, f"seed{i}", bytes([method, mode]) + host.encode() + b"\0" + uri.encode())

    body = os.path.join(out, "body")
    payload = TOOLS_CALL * 3
    gzip = zlib.compressobj(6, zlib.DEFLATED, 31)
    gz = gzip.compress(payload) + gzip.flush()
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflate_raw = raw.compress(payload) + raw.flush()
    # Raw mode: mode 0, cap index, one chunk size, header index (2 gzip, 3 deflate, 4 br, 5 zstd), body.
    write(body, "gzip", bytes([0, 5, 1, 0x40, 2]) + gz)
    write(body, "gzip-twice", bytes([0, 5, 1, 0x07, 2]) + gz + gz)
    write(body, "deflate-zlib", bytes([0, 4, 1, 0x10, 3]) + zlib.compress(payload))
    write(body, "deflate-raw", bytes([0, 3, 0, 3]) + deflate_raw)
    br = tool(["brotli", "-c", "-q", "5"], payload)
    if br:
        write(body, "br", bytes([0, 5, 1, 0x20, 4]) + br)
    zst = tool(["zstd", "-c", "-q", "-3"], payload)
    if zst:
        write(body, "zstd", bytes([0, 5, 1, 0x20, 5]) + zst)
    # Round-trip mode: mode 1 (3: two layers), cap index, chunk sizes, codings, level, payload.
    write(body, "roundtrip", bytes([1, 6, 1, 0x11, 0, 5]) + payload)
    write(body, "roundtrip-stacked", bytes([3, 6, 2, 0x03, 0x40, 0, 1, 9]) + INITIALIZE)

    json_dir = os.path.join(out, "json")
    write(json_dir, "tools-call", b"\0" + TOOLS_CALL)
    write(json_dir, "escapes", b"\0" + rb'{"method" :  "tools\u002fcall", "s":"\ud83d\ude00\/\n", "n":[-0.5e+3,1E2,true,false,null]}')
    write(json_dir, "utf16", b"\0" + '{"a":"\u00e9"}'.encode("utf-16"))
    write(json_dir, "bom", b"\1" + b"\xef\xbb\xbf" + INITIALIZE)
    write(json_dir, "nested", b"\1" + b'[[[{"a":[{}]}]]]')

    mcp = os.path.join(out, "mcp")
    write(mcp, "post", b"\0\0/mcp\0\2\3application/json, text/event-stream\0\0" + TOOLS_CALL)
    write(mcp, "initialize", b"\0\0/\0\1\1" + b"2025-06-18\0" + INITIALIZE)
    write(mcp, "header", b"\0\1/mcp\0\1\2tools/call\0")
    write(mcp, "sse-get", b"\0\1/sse\0\0")
    write(mcp, "llm", b"\0\0/v1/messages\0\0" + b'{"model":"m","mcp_servers":[{"type":"url","url":"https://mcp.example/sse","name":"x"}],"messages":[]}')
    write(mcp, "endpoint", b"\1\0\0\x20" + b"event: endpoint\r\ndata: /messages?sessionId=abc\r\n\r\n")
    write(mcp, "endpoint-bom", b"\1\1\0\x08" + b"\xef\xbb\xbf: comment\nevent:endpoint\ndata:/m\n\n")

    sse = os.path.join(out, "sse")
    openai = (b'data: {"id":"c","model":"gpt-4.1","choices":[{"delta":{"content":"Hi"}}]}\n\n'
              b'data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":8}}}\n\n'
              b"data: [DONE]\n\n")
    anthropic = (b'event: message_start\r\ndata: {"type":"message_start","message":{"model":"claude","usage":{"input_tokens":25,"output_tokens":1}}}\r\n\r\n'
                 b'event: content_block_delta\r\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Hello"}}\r\n\r\n'
                 b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":15}}\n\n')
    write(sse, "openai", bytes([0, 0, 1, 0x10]) + openai)
    write(sse, "anthropic", bytes([1, 0, 2, 0x03, 0x40]) + anthropic)
    write(sse, "whole", bytes([0, 1, 0, 5]) + b'{"model":"gpt","usage":{"prompt_tokens":3,"completion_tokens":4},"choices":[{"message":{"content":"x"}}]}')
    write(sse, "multiline", bytes([0, 0, 0, 1]) + b"data: {\"a\":\ndata: 1}\r\r: comment\rid: 3\nretry: 9\n\n")

    for name in ("ruleset", "config"):
        os.makedirs(os.path.join(out, name), exist_ok=True)
    for file in sorted(os.listdir(os.path.join(ROOT, "rulesets"))):
        if file.endswith(".yaml"):
            shutil.copyfile(os.path.join(ROOT, "rulesets", file), os.path.join(out, "ruleset", file))
    shutil.copyfile(os.path.join(ROOT, "meshgate.yaml"), os.path.join(out, "config", "meshgate.yaml"))
    write(os.path.join(out, "config"), "small.yaml",
          "listeners:\n  explicit: 127.0.0.1:3128\naccess:\n  allow_clients: [10.0.0.0/8, '::1/128']\n"
          "identities:\n  - name: ci\n    cidrs: [192.0.2.0/24]\nlimits:\n  max_url_bytes: 8192\n")

    cidr = os.path.join(out, "cidr")
    for i, text in enumerate(["10.0.0.0/8\x002026.11.24\x002026.11.3", "::ffff:192.0.2.1/96\x001.10\x001.9",
                              "[fe80::1%eth0]\x002026.02.01-rc1\x002026.02.01", "*.example.com\x001.0\x001.0.1",
                              "2001:db8::/32\x00v2\x00v10"]):
        write(cidr, f"seed{i}", text)


if __name__ == "__main__":
    main()
