#!/usr/bin/env bash
# A three-namespace world for transparent-egress tests, built the way a node gateway is set up:
#
#   mg-ID-client  mgc0 10.77.1.2/24 ──veth── mgc1 10.77.1.1/24  mg-ID-gw  mgo1 10.77.2.1/24 ──veth── mgo0 10.77.2.2/24  mg-ID-origin
#   default via 10.77.1.1                     ip_forward=1, contrib/egress.sh up               route 10.77.1.0/24 via 10.77.2.1
#                                             --interfaces mgc1
#
#   world.sh up ID                 # (re)create the world; runs `down ID` first
#   world.sh down ID               # remove everything `up` made; safe to run twice
#   world.sh exec ID ROLE CMD…     # run CMD in mg-ID-ROLE (ROLE: client, gw, origin)
#   world.sh info ID               # print the world's names and addresses as KEY=VALUE lines
#
# Every world has the same addresses, but inside its own namespaces, so worlds with different IDs can
# exist side by side. In client and gw, /etc/hosts maps allowed.test, shadow.test, mcp.linear.app,
# spliced.test and origin.test to the origin (10.77.2.2), and /etc/resolv.conf names the origin as the
# resolver (the gw's rules redirect the client's queries to the DNS listener); `ip netns exec` mounts
# /etc/netns/NAME/* over /etc/*. Nothing leaves the world: no interface is connected to the host.
# The gw loads contrib/egress.sh with the transparent port $TRANSPARENT_PORT (3129), DNS port
# $DNS_PORT (5353) and mark $MESHGATE_MARK (0x4d47); meshgate in the gw must listen on 0.0.0.0 (or
# 10.77.1.1) for the client's redirected traffic to reach it.
set -euo pipefail

TRANSPARENT_PORT=${TRANSPARENT_PORT:-3129}
DNS_PORT=${DNS_PORT:-5353}
MESHGATE_MARK=${MESHGATE_MARK:-0x4d47}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EGRESS=${MESHGATE_EGRESS:-$HERE/../../../../contrib/egress.sh}
ROLES=(client gw origin)
TEST_NAMES="allowed.test shadow.test mcp.linear.app spliced.test origin.test"

CLIENT_IP=10.77.1.2 GW_CLIENT_IP=10.77.1.1 GW_ORIGIN_IP=10.77.2.1 ORIGIN_IP=10.77.2.2

die() { echo "world.sh: $*" >&2; exit 1; }
usage() { sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 2; }

cmd=${1:-}
id=${2:-}
[[ -n $cmd && -n $id ]] || usage
[[ $id =~ ^[A-Za-z0-9_-]{1,24}$ ]] || die "ID must be 1-24 letters, digits, _ or -, got '$id'"
ns() { echo "mg-$id-$1"; }
in_ns() { local role=$1; shift; ip netns exec "$(ns "$role")" "$@"; }
ns_exists() { [[ -e /run/netns/$(ns "$1") ]]; }

down() {
	for role in "${ROLES[@]}"; do
		ns_exists "$role" || continue
		if [[ $role == gw ]]; then in_ns gw "$EGRESS" down >/dev/null 2>&1 || true; fi
		# Processes a test started in the world (servers, meshgate) keep a namespace alive after
		# `ip netns del`; they belong to the world, so they end with it.
		mapfile -t pids < <(ip netns pids "$(ns "$role")" 2>/dev/null)
		if ((${#pids[@]})); then
			kill "${pids[@]}" 2>/dev/null || true
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				mapfile -t pids < <(ip netns pids "$(ns "$role")" 2>/dev/null)
				((${#pids[@]})) || break
				sleep 0.2
			done
			if ((${#pids[@]})); then kill -9 "${pids[@]}" 2>/dev/null || true; fi
		fi
		ip netns del "$(ns "$role")" 2>/dev/null || true
	done
	for role in "${ROLES[@]}"; do rm -rf "/etc/netns/$(ns "$role")"; done
	[[ -d /etc/netns ]] && rmdir --ignore-fail-on-non-empty /etc/netns
	return 0
}

write_etc() {
	local dir
	dir=/etc/netns/$(ns "$1")
	mkdir -p "$dir"
	{
		echo "127.0.0.1 localhost"
		echo "::1 localhost ip6-localhost ip6-loopback"
		echo "$ORIGIN_IP $TEST_NAMES"
		echo "fd77:2::2 v6.test"
		echo "$GW_CLIENT_IP gateway.test"
	} >"$dir/hosts"
	# Names that are not in hosts are asked of a resolver inside the world, never the host's.
	printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$ORIGIN_IP" >"$dir/resolv.conf"
}

up() {
	(( EUID == 0 )) || die "cannot create network namespaces here: must run as root"
	command -v ip >/dev/null || die "cannot create network namespaces here: the ip command (iproute2) is missing"
	down
	local err
	if ! err=$(ip netns add "$(ns client)" 2>&1); then
		down
		die "cannot create network namespaces here: ${err:-ip netns add failed}"
	fi
	trap 'echo "world.sh: setting up world $id failed; removing it" >&2; down' ERR
	ip netns add "$(ns gw)"
	ip netns add "$(ns origin)"
	for role in "${ROLES[@]}"; do in_ns "$role" ip link set lo up; done

	# Each end is created directly inside its namespace, so nothing touches the host's interfaces.
	ip link add mgc0 netns "$(ns client)" type veth peer name mgc1 netns "$(ns gw)"
	ip link add mgo1 netns "$(ns gw)" type veth peer name mgo0 netns "$(ns origin)"
	in_ns client ip addr add "$CLIENT_IP/24" dev mgc0
	in_ns gw ip addr add "$GW_CLIENT_IP/24" dev mgc1
	in_ns gw ip addr add "$GW_ORIGIN_IP/24" dev mgo1
	in_ns origin ip addr add "$ORIGIN_IP/24" dev mgo0
	in_ns client ip link set mgc0 up
	in_ns gw ip link set mgc1 up
	in_ns gw ip link set mgo1 up
	in_ns origin ip link set mgo0 up
	# IPv6 alongside (fd77:1::/64 client side, fd77:2::/64 origin side), for IP6T_SO_ORIGINAL_DST.
	in_ns client ip addr add fd77:1::2/64 dev mgc0 nodad
	in_ns gw ip addr add fd77:1::1/64 dev mgc1 nodad
	in_ns gw ip addr add fd77:2::1/64 dev mgo1 nodad
	in_ns origin ip addr add fd77:2::2/64 dev mgo0 nodad
	in_ns client ip -6 route add default via fd77:1::1
	in_ns origin ip -6 route add fd77:1::/64 via fd77:2::1
	in_ns gw sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ns client ip route add default via "$GW_CLIENT_IP"
	in_ns origin ip route add 10.77.1.0/24 via "$GW_ORIGIN_IP"
	in_ns gw sysctl -qw net.ipv4.ip_forward=1

	write_etc client
	write_etc gw

	in_ns gw "$EGRESS" up --interfaces mgc1 --transparent-port "$TRANSPARENT_PORT" --dns-port "$DNS_PORT" \
		--mark "$MESHGATE_MARK" --user '' >/dev/null
	trap - ERR
	echo "world $id up: $(ns client) $CLIENT_IP -> $(ns gw) $GW_CLIENT_IP/$GW_ORIGIN_IP -> $(ns origin) $ORIGIN_IP"
}

case $cmd in
up) up ;;
down)
	(( EUID == 0 )) || die "must run as root"
	down
	;;
exec)
	role=${3:-}
	[[ " ${ROLES[*]} " == *" $role "* ]] || die "ROLE must be one of ${ROLES[*]}, got '$role'"
	shift 3
	(( $# )) || die "exec needs a command"
	ns_exists "$role" || die "world $id is not up (no namespace $(ns "$role"))"
	exec ip netns exec "$(ns "$role")" "$@"
	;;
info)
	cat <<EOF
CLIENT_NS=$(ns client)
GW_NS=$(ns gw)
ORIGIN_NS=$(ns origin)
CLIENT_IP=$CLIENT_IP
GW_CLIENT_IP=$GW_CLIENT_IP
GW_ORIGIN_IP=$GW_ORIGIN_IP
ORIGIN_IP=$ORIGIN_IP
GW_CLIENT_IF=mgc1
TRANSPARENT_PORT=$TRANSPARENT_PORT
DNS_PORT=$DNS_PORT
MESHGATE_MARK=$MESHGATE_MARK
EOF
	;;
*) usage ;;
esac
