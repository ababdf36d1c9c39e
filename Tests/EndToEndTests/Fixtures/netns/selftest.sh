#!/usr/bin/env bash
# Proves the netns world and contrib/egress.sh's rules do what meshgate's transparent mode relies on,
# with plain sockets standing in for meshgate (probe.py). Run as root; exits non-zero on any failure.
#   Tests/EndToEndTests/Fixtures/netns/selftest.sh [ID]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ID=${1:-selftest$$}
WORLD=$HERE/world.sh
EGRESS=$HERE/../../../../contrib/egress.sh
T=$(mktemp -d /tmp/meshgate-netns-selftest.XXXXXX)
PIDS=()
failures=0

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	"$WORLD" down "$ID" || true
	rm -rf "$T"
}
trap cleanup EXIT

in_world() { local role=$1; shift; "$WORLD" exec "$ID" "$role" "$@"; }
probe() { local role=$1; shift; in_world "$role" timeout 10 python3 "$HERE/probe.py" "$@" 2>&1; }
# Start a server in a role's namespace, its output in $T/NAME.log.
serve() {
	local name=$1 role=$2; shift 2
	in_world "$role" "$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
}
wait_for() { # FILE REGEX: poll until a line matches (10 s at most)
	for _ in $(seq 100); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "  (timed out waiting for /$2/ in $(basename "$1"): $(tr '\n' '|' <"$1" 2>/dev/null))"
	return 1
}
check() { # NAME CONDITION…
	local name=$1; shift
	if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}
quiet() { "$@" >/dev/null; }
contains() { grep -qE -- "$2" <<<"$1" || { echo "  (got: $(tr '\n' '|' <<<"$1"))"; return 1; }; }
lacks() { ! grep -qE -- "$2" "$1" || { echo "  (unexpected in $(basename "$1"): $(grep -E -- "$2" "$1" | head -1))"; return 1; }; }

"$WORLD" up "$ID" || exit 1

mkdir -p "$T/www" && echo "origin says hello" >"$T/www/index.html"
serve origin-http origin python3 -u -m http.server 80 --bind 10.77.2.2 --directory "$T/www"
serve origin-tls origin python3 -u "$HERE/probe.py" tcp-listen 10.77.2.2 443
serve origin-quic origin python3 -u "$HERE/probe.py" udp-listen 10.77.2.2 443
serve origin-udp origin python3 -u "$HERE/probe.py" udp-listen 10.77.2.2 4443
serve gw-transparent gw python3 -u "$HERE/probe.py" tcp-listen 0.0.0.0 3129
serve gw-dns-udp gw python3 -u "$HERE/probe.py" udp-listen 0.0.0.0 5353
serve gw-dns-tcp gw python3 -u "$HERE/probe.py" tcp-listen 0.0.0.0 5353
wait_for "$T/origin-http.log" "Serving HTTP" || exit 1
for f in origin-tls origin-quic origin-udp gw-transparent gw-dns-udp gw-dns-tcp; do
	wait_for "$T/$f.log" "^listening" || exit 1
done

echo "# forwarded traffic from the client namespace"
out=$(in_world client timeout 10 curl -sS --noproxy '*' http://origin.test/ 2>&1)
check "curl http://origin.test/ from client reaches the gw listener with original dst 10.77.2.2:80" \
	contains "$out" "^probe orig=10.77.2.2:80$"
check "  ... the gw listener saw the client's own address as peer" \
	wait_for "$T/gw-transparent.log" "tcp peer=10.77.1.2:[0-9]+ orig=10.77.2.2:80"
check "  ... and the origin never saw the request" lacks "$T/origin-http.log" "GET"
out=$(probe client http origin.test 443)
check "TCP 443 from client is redirected too (original dst 10.77.2.2:443)" contains "$out" "^probe orig=10.77.2.2:443$"
check "  ... and never reaches the origin's 443" lacks "$T/origin-tls.log" "^tcp "
out=$(probe client udp-send 10.77.2.2 4443 control)
check "UDP to another port passes the gw untouched (control for the QUIC check)" \
	contains "$out" "reply from 10.77.2.2:4443 data=control"
out=$(probe client udp-send 10.77.2.2 443 quic-from-client)
check "UDP 443 (QUIC) from client gets no answer" contains "$out" "no reply"
check "  ... and nothing arrived at the origin's UDP 443" lacks "$T/origin-quic.log" "quic-from-client"
out=$(probe client udp-send 10.77.2.2 53 dns-udp)
check "UDP 53 from client is answered by the gw DNS listener, from the address it asked" \
	contains "$out" "reply from 10.77.2.2:53 data=dns-udp"
check "  ... which saw the client as peer" wait_for "$T/gw-dns-udp.log" "peer=10.77.1.2:[0-9]+ data=dns-udp"
out=$(probe client http 10.77.2.2 53)
check "TCP 53 from client goes to the gw DNS listener (original dst 10.77.2.2:53)" \
	contains "$out" "^probe orig=10.77.2.2:53$"
out=$(probe client http 10.77.1.1 3129)
check "a client connecting straight to the listener is not redirected (original dst = the listener: a loop meshgate must refuse)" \
	contains "$out" "^probe orig=10.77.1.1:3129$"

echo "# traffic generated in the gw namespace (where meshgate runs)"
out=$(probe gw http 10.77.2.2 80 --mark 0x4d47)
check "a connection carrying mark 0x4d47 goes straight to the origin" contains "$out" "^origin says hello$"
check "  ... which logged the gw's address" wait_for "$T/origin-http.log" "^10.77.2.1 .*GET / "
out=$(probe gw http 10.77.2.2 80)
check "the same connection without the mark is redirected to the listener" contains "$out" "^probe orig=10.77.2.2:80$"
check "  ... and arrives from the gw's own address toward the origin, not from 127.0.0.1" \
	wait_for "$T/gw-transparent.log" "tcp peer=10.77.2.1:[0-9]+ orig=10.77.2.2:80"
out=$(probe gw http 127.0.0.1 3129)
check "loopback destinations are never redirected" contains "$out" "^probe orig=127.0.0.1:3129$"
out=$(probe gw udp-send 10.77.2.2 443 quic-from-gw)
check "UDP 443 generated on the gw is dropped (the send fails with EPERM)" contains "$out" "no reply \\(send failed: Operation not permitted\\)"
check "  ... before it reaches the origin" lacks "$T/origin-quic.log" "quic-from-gw"
out=$(probe gw udp-send 10.77.2.2 4443 control-from-gw)
check "other UDP from the gw passes" contains "$out" "reply from 10.77.2.2:4443"

echo "# egress.sh up / down / status"
status=$(in_world gw "$EGRESS" status)
check "status reports the table loaded" contains "$status" "^meshgate egress: loaded"
check "  ... with the client interface" contains "$status" "client interfaces: mgc1$"
check "  ... and non-zero forwarded_web / forwarded_quic_dropped counters" \
	contains "$status" "forwarded_web +[1-9][0-9]* packets"
check "  ... (forwarded_quic_dropped)" contains "$status" "forwarded_quic_dropped +[1-9][0-9]* packets"
before=$(in_world gw nft -s list table inet meshgate)
in_world gw "$EGRESS" up --interfaces mgc1 --user '' >/dev/null
after=$(in_world gw nft -s list table inet meshgate)
check "up twice gives the same ruleset" test "$before" == "$after"
check "down removes the table" quiet in_world gw "$EGRESS" down
check "down again is a no-op with exit 0" quiet in_world gw "$EGRESS" down
in_world gw "$EGRESS" status >/dev/null
check "status exits 3 when not loaded" test $? -eq 3
in_world gw nft add table inet other
in_world gw "$EGRESS" up --interfaces mgc1 --user '' >/dev/null
in_world gw "$EGRESS" down >/dev/null
check "down leaves other tables alone" contains "$(in_world gw nft list tables)" "^table inet other$"
out=$(probe client http origin.test 80)
check "with the rules down, the client reaches the origin directly" contains "$out" "^origin says hello$"

if ((failures)); then
	echo "selftest: $failures check(s) failed"
	exit 1
fi
echo "selftest: all checks passed"
