#!/usr/bin/env bash
# Installs what meshgate needs to build (and, with --test, to run its tests) on Debian 12.
# Run as root. Safe to run again: it installs only what is missing.
# Python packages go into virtualenvs under .build/mcp-venv, never into the system Python.
# Everything --test installs is listed in the README's "Test it" paragraph: keep the two in step.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
need=()
pkgs=(libpcre2-dev zlib1g-dev libbrotli-dev libzstd-dev libsqlite3-dev curl openssl ca-certificates)
# dig (bind9-dnsutils) for the DNS filter test; nftables, iproute2 and util-linux (setpriv) for the
# transparent proxy test, which builds network namespaces; PostgreSQL for the shared-ledger tests;
# logrotate for the audit-rotation test (it runs contrib/logrotate/meshgate).
# golang-go (Go 1.19, builds Tests/EndToEndTests/Fixtures/go) and hey for the Go client tests.
# python3-venv for the virtualenvs (it brings pip into each venv; python3-pip is not needed).
# patchelf, binutils (readelf, strip) and dpkg-dev (dpkg-shlibdeps) for scripts/test-deb.sh, which
# builds the Debian package with scripts/package-deb.sh.
# chromium and chromium-driver for the dashboard's browser test (Selenium drives Debian's own build).
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(python3 python3-venv bind9-dnsutils nftables iproute2 util-linux postgresql logrotate golang-go hey
    patchelf binutils dpkg-dev chromium chromium-driver)
fi
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [[ "${1:-}" == "--test" ]]; then
  # Pinned PyPI packages in virtualenvs under .build/mcp-venv: new (the official MCP SDK), llm (OpenAI
  # and Anthropic SDKs) and ws (websockets, for the WebSocket test's client and origin: Debian's
  # python3-websockets is older than 15, the first release that connects through an HTTP proxy).
  "$repo/Tests/EndToEndTests/Fixtures/mcp/setup_venvs.sh" "$repo/.build/mcp-venv"
  # The benchmark harness's smoke test (nginx, wrk, unbound, dnsperf, a C compiler for its load generator).
  bash "$repo/contrib/bench/install.sh" --minimal >/dev/null
fi
