#!/usr/bin/env bash
# Creates the virtualenvs that run the Python SDK fixtures (official SDKs from PyPI):
#   setup_venvs.sh DIR            -> DIR/new     mcp==2.3.0 (both modes: 2026-07-28 stateless and initialize)
#                                    DIR/llm     openai==3.57.0 + anthropic==2.14.0 (../llm/llm_client.py)
#                                    DIR/ws      websockets (../ws_echo.py, WebSocketTests.swift)
#                                    DIR/browser selenium (../dashboard/dashboard_browser.py, with Debian's
#                                                chromium and chromium-driver)
#   setup_venvs.sh DIR --legacy   -> also DIR/legacy  mcp==1.30.0 (initialize only; a cross-check, not required)
# The LLM SDKs get their own venv so their pins can move without touching the MCP one.
# Versions are pinned in requirements-*.txt beside this script, except ws's single package, pinned
# below (websockets has no dependencies; 15 is the first release that connects through a proxy).
# Safe to run again: a venv whose installed packages already match its pins is left alone (~0.5 s).
# Needs python3 with the venv module (Debian: python3-venv) and PyPI. ~11 s for new, ~14 s for legacy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: setup_venvs.sh DIR [--legacy]}"
kinds=(new llm ws browser)
[[ "${2:-}" == "--legacy" ]] && kinds+=(legacy)
python="${PYTHON:-python3}"
mkdir -p "$dir"
ws_pin="websockets==17.4"
# requirements KIND — the venv's pinned packages, in `pip freeze` form.
requirements() { if [[ $1 == ws ]]; then echo "$ws_pin"; else cat "$here/requirements-$1.txt"; fi; }
for kind in "${kinds[@]}"; do
    venv="$dir/$kind"
    if [[ -x "$venv/bin/python" ]] \
        && diff -q <("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null | sort -f) <(requirements "$kind" | sort -f) >/dev/null; then
        echo "$venv: up to date"
        continue
    fi
    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
        echo "error: '$python -m venv' failed; on Debian install python3-venv (apt-get install python3-venv)" >&2
        exit 1
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input -r <(requirements "$kind")
    case "$kind" in
        llm) packages=(openai anthropic) ;;
        ws) packages=(websockets) ;;
        browser) packages=(selenium) ;;
        *) packages=(mcp) ;;
    esac
    echo "$venv: installed $("$venv/bin/python" -c 'import sys; from importlib.metadata import version; print(" ".join(p + " " + version(p) for p in sys.argv[1:]))' "${packages[@]}")"
done
