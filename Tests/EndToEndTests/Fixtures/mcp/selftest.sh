#!/usr/bin/env bash
# Checks the MCP fixtures end to end WITHOUT meshgate: throwaway CA + leaf (openssl), mcp_server.py
# over TLS, connect_proxy.py as the HTTP proxy, mcp_client.py in both modes.
#   selftest.sh VENVDIR        (VENVDIR as made by setup_venvs.sh; uses VENVDIR/new, and VENVDIR/legacy if present)
# Prints one line per case and the server's request log (the wire facts) to WORK/server-*.log.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venvs="${1:?usage: selftest.sh VENVDIR}"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 1 -subj "/CN=MCP fixture CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=mcp.shadow.test" 2>/dev/null
printf 'subjectAltName=DNS:mcp.shadow.test,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 1 -extfile leaf.ext 2>/dev/null

# Each background process reads a FIFO that stays open until this script exits (= stdin closes).
# Not called in $(...): the FIFO writer and the pid must belong to this shell.
started_port=""
start() { # name, command...; sets started_port
    local name="$1"; shift
    mkfifo "$name.in"
    "$@" < "$name.in" > "$name.out" 2> "$name.log" &
    pids+=("$!")
    exec {fd}> "$name.in"
    for _ in $(seq 100); do [[ -s "$name.out" ]] && break; sleep 0.1; done
    started_port="$(head -1 "$name.out")"
}

start proxy python3 "$here/connect_proxy.py" --map mcp.shadow.test=127.0.0.1
proxy_port="$started_port"
status=0
for server_venv in new legacy; do
    [[ -x "$venvs/$server_venv/bin/python" ]] || continue
    start "server-$server_venv" "$venvs/$server_venv/bin/python" "$here/mcp_server.py" --name shadow --tools shadow_echo,shadow_search --cert leaf.pem --key leaf.key --log-requests
    port="$started_port"
    for client_venv in new legacy; do
        [[ -x "$venvs/$client_venv/bin/python" ]] || continue
        for protocol in stateless legacy; do
            [[ "$client_venv" == legacy && "$protocol" == stateless ]] && continue
            start_ns=$(date +%s%N)
            out="$("$venvs/$client_venv/bin/python" "$here/mcp_client.py" "https://mcp.shadow.test:$port/mcp" --proxy "http://127.0.0.1:$proxy_port" --cafile ca.pem --protocol "$protocol" --call shadow_echo --text "hi there")"
            ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
            echo "server=$server_venv client=$client_venv protocol=$protocol ${ms}ms: $out"
            [[ "$out" == *'"ok": true'* ]] || status=1
        done
    done
done
echo "request logs: $work/server-*.log"
exit $status
