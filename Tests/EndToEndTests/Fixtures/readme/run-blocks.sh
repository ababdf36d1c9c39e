#!/usr/bin/env bash
# Runs the README's runnable shell blocks the way a newcomer would: meshgate started on the repository's
# own meshgate.yaml (what scripts/serve.sh does after building), then the blocks in order in one shell,
# with `meshgate` on PATH. It all happens in a private network and mount namespace (as root), where
# api.openai.com and mcp.linear.app resolve to a local HTTPS origin whose CA is in the system trust
# store, so the blocks' real host names work verbatim and nothing leaves the machine.
#
#   run-blocks.sh WORK MESHGATE ORIGIN_CERT ORIGIN_KEY ORIGIN_CA
#
# WORK holds meshgate.yaml, rulesets/ and commands.sh (the blocks, joined by ReadmeCommandsTests).
# Output: WORK/.readme/{serve.log,origin.log,commands.log}; the exit code is commands.sh's.
set -euo pipefail
if [[ ${1:-} != --inside ]]; then
	# A PID namespace too: when this script ends, however it ends (a test timeout kills it), the
	# kernel kills everything it started, so no meshgate or origin outlives the test.
	exec unshare --net --mount --pid --mount-proc --fork --kill-child bash "$0" --inside "$@"
fi
shift
work=$1 meshgate=$2 cert=$3 key=$4 ca=$5
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
origin_address=10.88.0.2
out=$work/.readme
mkdir -p "$out/bin"

# shellcheck source=../private-world.sh
source "$here/../private-world.sh"
private_world "$out" "$origin_address" "$ca" api.openai.com mcp.linear.app
ln -sfn "$meshgate" "$out/bin/meshgate"
export PATH=$out/bin:$PATH
trap stop_started EXIT

python3 "$here/../origin_server.py" "$origin_address" 443 "$cert" "$key" >"$out/origin.log" 2>&1 &
origin_pid=$!
cd "$work"
meshgate serve --config meshgate.yaml >"$out/serve.log" 2>&1 &
serve_pid=$!
STOP_PIDS="$serve_pid $origin_pid"
for _ in $(seq 1 300); do
	grep -q "listening" "$out/origin.log" 2>/dev/null && grep -q "explicit proxy listening" "$out/serve.log" && grep -q "admin listener started" "$out/serve.log" && break
	kill -0 "$serve_pid" 2>/dev/null || { echo "run-blocks.sh: meshgate serve exited:" >&2; cat "$out/serve.log" >&2; exit 3; }
	sleep 0.1
done
grep -q "explicit proxy listening" "$out/serve.log" || { echo "run-blocks.sh: meshgate did not start in 30 s:" >&2; cat "$out/serve.log" >&2; exit 3; }

status=0
bash "$work/commands.sh" >"$out/commands.log" 2>&1 || status=$?
exit "$status"
