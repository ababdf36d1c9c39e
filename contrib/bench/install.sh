#!/usr/bin/env bash
# Installs what contrib/bench/run.sh needs on Debian 12: the peers (Squid with OpenSSL, tinyproxy,
# dnsmasq, unbound, mitmproxy), the origin (nginx), the load tools (wrk, dnsperf, a C compiler and
# libssl-dev for contrib/bench/loadgen.c) and perf for profiles. Run as root; safe to run again.
#   contrib/bench/install.sh [--minimal]   # --minimal: only what a meshgate-only run needs
# mitmproxy comes from PyPI into a virtualenv, .build/bench-venv (run.sh looks there for mitmdump),
# never into the system Python.
set -euo pipefail
pkgs=(nginx-light wrk unbound dnsperf gcc libc6-dev libssl-dev curl openssl python3 util-linux)
[[ ${1:-} == --minimal ]] || pkgs+=(squid-openssl tinyproxy dnsmasq linux-perf python3-venv)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  # The packaged services (squid, tinyproxy, dnsmasq, unbound, nginx) must not start and take ports:
  # the harness starts its own copies on 127.0.0.1 with its own configuration.
  created_policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  [[ -z $created_policy ]] || rm -f /usr/sbin/policy-rc.d
fi
venv=$(cd "$(dirname "$0")/../.." && pwd)/.build/bench-venv
if [[ ${1:-} != --minimal ]] && ! command -v mitmdump >/dev/null && [[ ! -x $venv/bin/mitmdump ]]; then
  # Debian's mitmproxy (8.x) is old; PyPI's is what users run.
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check mitmproxy
fi
echo "bench tools ready"
