#!/usr/bin/env bash
# Sends the detection corpus through `meshgate serve` once per tier, in a private network, mount and PID
# namespace (as root) where every corpus host resolves to one local origin (corpus_origin.py) whose CA
# is in the system trust store. So the requests carry their real host names, meshgate verifies the
# origin as it would any server, and nothing leaves the machine.
#
#   run-corpus.sh WORK MESHGATE CERT KEY ORIGIN_CA
#
# WORK holds hosts.txt (one name per line), endpoint-hosts.txt (hosts whose event streams open with
# the legacy MCP endpoint event) and one folder per tier with its meshgate.yaml (listening on
# 127.0.0.1:3128). Writes WORK/origin.log (what reached the origin) and, per tier,
# WORK/TIER/{serve.log,results-mcp.jsonl,results-benign.jsonl}; the default tier's results also hold
# `meshgate rules test`'s decision for each case.
set -euo pipefail
if [[ ${1:-} != --inside ]]; then
	exec unshare --net --mount --pid --mount-proc --fork --kill-child bash "$0" --inside "$@"
fi
shift
work=$1 meshgate=$2 cert=$3 key=$4 ca=$5
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
origin_address=10.88.0.2

# shellcheck source=../private-world.sh
source "$here/../private-world.sh"
mapfile -t hosts <"$work/hosts.txt"
private_world "$work" "$origin_address" "$ca" "${hosts[@]}"
STOP_PIDS=
trap stop_started EXIT

python3 "$here/corpus_origin.py" "$origin_address" "$cert" "$key" "$(paste -sd, "$work/endpoint-hosts.txt")" >"$work/origin.log" 2>"$work/origin.err" &
origin_pid=$!
STOP_PIDS=$origin_pid
for _ in $(seq 1 100); do grep -q listening "$work/origin.log" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/origin.log" || { echo "run-corpus.sh: the origin did not start:" >&2; cat "$work/origin.err" >&2; exit 3; }

for dir in "$work"/tier-*/; do
	tier=$(basename "$dir")
	(cd "$dir" && exec "$meshgate" serve --config meshgate.yaml) >"$dir/serve.log" 2>&1 &
	serve_pid=$!
	STOP_PIDS="$serve_pid $origin_pid"
	for _ in $(seq 1 300); do
		grep -q "explicit proxy listening" "$dir/serve.log" && break
		kill -0 "$serve_pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "explicit proxy listening" "$dir/serve.log" || { echo "run-corpus.sh: meshgate ($tier) did not start:" >&2; cat "$dir/serve.log" >&2; exit 3; }
	compare=()
	[[ $tier == tier-default ]] && compare=("$meshgate" "$dir/meshgate.yaml")
	for set in mcp benign; do
		python3 "$here/corpus_client.py" "$here/$set.jsonl" 3128 "$dir/state/ca.pem" "$tier" "${compare[@]}" >"$dir/results-$set.jsonl"
	done
	kill -TERM "$serve_pid"
	wait "$serve_pid" || true
	STOP_PIDS=$origin_pid
done
