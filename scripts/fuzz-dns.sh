#!/usr/bin/env bash
# Fuzzes the DNS decoder with libFuzzer for a bounded time (default 60 s). Kept for habit and old
# notes: scripts/fuzz.sh fuzzes it together with the other parsers; this runs only its DNS target.
# Usage: scripts/fuzz-dns.sh [SECONDS]
set -euo pipefail
exec "$(dirname "$0")/fuzz.sh" --only dns "${1:-60}"
