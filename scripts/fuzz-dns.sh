#!/usr/bin/env bash
# Fuzzes the DNS decoder with libFuzzer for a bounded time (default 60 s): the codec sources are
# compiled with -sanitize=fuzzer,address outside SwiftPM. A crash leaves crash-* in .build/fuzz-dns.
# Usage: scripts/fuzz-dns.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build/fuzz-dns
mkdir -p "$out/corpus"
# Seeds: a query and an answer with compression, EDNS and an Extended DNS Error.
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x03mcp\x06stripe\x03com\x00\x00\x01\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00' > "$out/corpus/query"
printf '\x12\x34\x81\x80\x00\x01\x00\x02\x00\x00\x00\x01\x03www\x07example\x03com\x00\x00\x01\x00\x01\xc0\x0c\x00\x05\x00\x01\x00\x00\x01\x2c\x00\x06\x03cdn\xc0\x10\xc0\x2d\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x06\x00\x0f\x00\x02\x00\x0f' > "$out/corpus/answer"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name MeshgateDNSFuzz \
  Sources/MeshgateDNS/Codec/*.swift scripts/fuzz/DNSDecoderFuzzer.swift -o "$out/fuzzer"
cd "$out"
./fuzzer -max_total_time="$seconds" -max_len=1024 -print_final_stats=1 corpus
