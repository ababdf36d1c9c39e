#!/usr/bin/env bash
# Installs what meshgate needs to build (and, with --test, to run its tests) on Debian 12.
# Run as root. Safe to run again: it installs only what is missing.
set -euo pipefail
need=()
pkgs=(libpcre2-dev zlib1g-dev libbrotli-dev libzstd-dev libsqlite3-dev curl openssl ca-certificates)
# dig (bind9-dnsutils) for the DNS filter test; nftables, iproute2 and util-linux (setpriv) for the
# transparent proxy test, which builds network namespaces; PostgreSQL for the shared-ledger tests;
# logrotate for the audit-rotation test (it runs contrib/logrotate/meshgate).
# golang-go (Go 1.19, builds Tests/EndToEndTests/Fixtures/go) and hey for the Go client tests.
if [[ "${1:-}" == "--test" ]]; then pkgs+=(python3 python3-pip python3-venv bind9-dnsutils nftables iproute2 util-linux postgresql logrotate golang-go hey); fi
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [[ "${1:-}" == "--test" ]]; then
  # The WebSocket end-to-end test drives a real client; Debian's python3-websockets is too old for proxies.
  python3 -c 'import websockets, sys; sys.exit(int(websockets.__version__.split(".")[0]) < 15)' 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check 'websockets>=15' \
    || python3 -m pip install -q --break-system-packages 'websockets>=15'
  # The official MCP, OpenAI and Anthropic Python SDKs, pinned, in virtualenvs under .build/mcp-venv
  # (new: MCP; llm: openai + anthropic) for the MCP and AI gateway end-to-end tests.
  "$(dirname "$0")/../Tests/EndToEndTests/Fixtures/mcp/setup_venvs.sh" "$(dirname "$0")/../.build/mcp-venv"
  # The benchmark harness's smoke test (nginx, wrk, unbound, dnsperf, a C compiler for its load generator).
  bash "$(dirname "$0")/../contrib/bench/install.sh" --minimal >/dev/null
fi
