#!/usr/bin/env bash
# Turn transparent egress through meshgate on or off on this node (in this network namespace).
#
#   contrib/egress.sh up     [--transparent-port 3129] [--dns-port 5353|off] [--mark 0x4d47]
#                            [--user meshgate|''] [--interfaces eth1,eth2] [--rules FILE]
#   contrib/egress.sh down
#   contrib/egress.sh status
#
# `up` loads contrib/nftables/meshgate-egress.nft (table inet meshgate) with the values given here;
# running it again replaces the table in one transaction, so `up` twice gives the same ruleset.
# `down` deletes only that table. `status` prints whether it is loaded and its counters, and exits 3
# when it is not (like `systemctl status`), so scripts can test it.
set -euo pipefail

TABLE=(inet meshgate)
# Where the sysctl values we changed are remembered, per network namespace, so `down` can put them back.
STATE_DIR=/run/meshgate-egress

die() { echo "egress.sh: $*" >&2; exit 1; }

usage() {
	sed -n '2,12s/^# \{0,1\}//p' "$0"
	exit "${1:-0}"
}

find_rules() {
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	# Repository layout first, then installed side by side (e.g. /usr/local/lib/meshgate/).
	for f in "$here/nftables/meshgate-egress.nft" "$here/meshgate-egress.nft"; do
		[[ -f $f ]] && { echo "$f"; return; }
	done
	die "cannot find meshgate-egress.nft next to $0 (pass --rules FILE)"
}

valid_port() { [[ $1 =~ ^[0-9]{1,5}$ ]] && (( 10#$1 >= 1 && 10#$1 <= 65535 )); }

netns_key() {
	# The inode of this process's network namespace: /run is shared between namespaces, the rules are not.
	local link
	link=$(readlink /proc/self/ns/net)
	link=${link#net:[}
	echo "net-${link%]}"
}

table_loaded() { nft list table "${TABLE[@]}" >/dev/null 2>&1; }

cmd=${1:-}
[[ $cmd == -h || $cmd == --help ]] && usage 0
[[ $cmd == up || $cmd == down || $cmd == status ]] || { echo "egress.sh: expected up, down or status" >&2; usage 2 >&2; }
shift

transparent_port=3129
dns_port=5353
mark=0x4d47
user=meshgate
user_given=no
interfaces=""
rules=""
while (( $# )); do
	case $1 in
	--transparent-port) transparent_port=${2?--transparent-port needs a value}; shift 2 ;;
	--dns-port) dns_port=${2?--dns-port needs a value}; shift 2 ;;
	--mark) mark=${2?--mark needs a value}; shift 2 ;;
	--user) user=${2?--user needs a value}; user_given=yes; shift 2 ;;
	--interfaces) interfaces=${2?--interfaces needs a value}; shift 2 ;;
	--rules) rules=${2?--rules needs a value}; shift 2 ;;
	-h | --help) usage 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

(( EUID == 0 )) || die "must run as root (nftables and sysctl changes need it)"
command -v nft >/dev/null || die "nft not found; install nftables (apt-get install -y nftables)"

state_file="$STATE_DIR/$(netns_key)"

case $cmd in
up)
	valid_port "$transparent_port" || die "--transparent-port must be a port number, got '$transparent_port'"
	[[ $dns_port == off ]] || valid_port "$dns_port" || die "--dns-port must be a port number or 'off', got '$dns_port'"
	if ! [[ $mark =~ ^(0x[0-9a-fA-F]{1,8}|[0-9]{1,10})$ ]] || (( mark == 0 )); then
		die "--mark must be a non-zero number like 0x4d47, got '$mark'"
	fi
	[[ -n $rules ]] || rules=$(find_rules)
	[[ -r $rules ]] || die "cannot read rules file $rules"

	exempt_uid=""
	if [[ -n $user ]]; then
		if exempt_uid=$(id -u "$user" 2>/dev/null); then
			:
		elif [[ $user_given == yes ]]; then
			die "--user $user: no such user (pass --user '' to rely on the socket mark alone)"
		else
			echo "egress.sh: note: user '$user' does not exist; only the socket mark $mark exempts meshgate's own connections"
		fi
	fi

	ifaces=()
	if [[ -n $interfaces ]]; then
		IFS=, read -r -a ifaces <<<"$interfaces"
		for i in "${ifaces[@]}"; do
			[[ $i =~ ^[A-Za-z0-9_.@:-]{1,15}$ ]] || die "--interfaces: '$i' is not an interface name"
			ip link show dev "$i" >/dev/null 2>&1 ||
				echo "egress.sh: note: interface $i does not exist (yet); its traffic is redirected once it does"
		done
	fi

	dns_ports_port=${dns_port/off/$transparent_port} # any valid port: the define must parse even when unused
	script=$(mktemp /tmp/meshgate-egress.XXXXXX.nft)
	trap 'rm -f "$script"' EXIT
	sed -e "s/^define TRANSPARENT_PORT = .*/define TRANSPARENT_PORT = $transparent_port/" \
		-e "s/^define DNS_PORT = .*/define DNS_PORT = $dns_ports_port/" \
		-e "s/^define MESHGATE_MARK = .*/define MESHGATE_MARK = $mark/" \
		"$rules" >"$script"
	for d in "TRANSPARENT_PORT = $transparent_port" "DNS_PORT = $dns_ports_port" "MESHGATE_MARK = $mark"; do
		grep -q "^define $d\$" "$script" || die "$rules has no 'define ${d%% =*} = …' line to set"
	done
	{
		# Appended to the same file so the whole change is one nft transaction.
		if ((${#ifaces[@]})); then
			printf 'add element %s client_ifaces { %s }\n' "${TABLE[*]}" "$(printf '"%s", ' "${ifaces[@]}" | sed 's/, $//')"
		fi
		[[ -n $exempt_uid ]] && echo "add element ${TABLE[*]} exempt_uids { $exempt_uid }"
		[[ $dns_port == off ]] && echo "flush set ${TABLE[*]} dns_ports"
		true
	} >>"$script"
	nft -f "$script" || die "nft refused the rules generated from $rules (see above)"

	if ((${#ifaces[@]})); then
		# Gateway mode: clients route through this node. Redirected 80/443/53 ends up local and does not
		# need forwarding, but everything else the clients send (other ports, ICMP, the replies' path)
		# does. We record the old value so `down` restores it. We do NOT set route_localnet: `redirect`
		# sends forwarded packets to the incoming interface's own address, never to 127.0.0.1, so the
		# listeners bind 0.0.0.0 (or that address) instead of opening 127/8 to the network.
		old=$(sysctl -n net.ipv4.ip_forward)
		if [[ $old != 1 ]]; then
			mkdir -p "$STATE_DIR"
			[[ -f $state_file ]] || echo "net.ipv4.ip_forward=$old" >"$state_file"
			sysctl -qw net.ipv4.ip_forward=1
		fi
	fi

	dns_desc="DNS 53 -> :$dns_port"
	[[ $dns_port == off ]] && dns_desc="DNS not redirected"
	echo "meshgate egress: up (TCP 80,443 -> :$transparent_port; $dns_desc; UDP 443 dropped;" \
		"mark $mark exempt${exempt_uid:+; user $user exempt}${interfaces:+; clients on $interfaces})"
	;;
down)
	if table_loaded; then
		nft delete table "${TABLE[@]}"
		echo "meshgate egress: down (table ${TABLE[*]} removed)"
	else
		echo "meshgate egress: not loaded; nothing to remove"
	fi
	if [[ -f $state_file ]]; then
		# Put back only what `up` changed.
		while IFS= read -r kv; do sysctl -qw "$kv"; done <"$state_file"
		echo "meshgate egress: restored $(paste -sd' ' "$state_file")"
		rm -f "$state_file"
	fi
	;;
status)
	if ! table_loaded; then
		echo "meshgate egress: not loaded"
		exit 3
	fi
	listing=$(nft list table "${TABLE[@]}")
	set_elements() { # "a,b" or the fallback text when the set is empty
		local v
		v=$(nft list set "${TABLE[@]}" "$1" | tr -d '\n\t "' | sed -n 's/.*elements={\([^}]*\)}.*/\1/p')
		echo "${v:-$2}"
	}
	rule_port() { sed -n "s/.*name \"$1\" redirect to :\([0-9]*\).*/\1/p" <<<"$listing"; }
	dns_ports=$(set_elements dns_ports "")
	echo "meshgate egress: loaded (table ${TABLE[*]})"
	dns_desc="not redirected"
	[[ -n $dns_ports ]] && dns_desc="$dns_ports -> :$(rule_port local_dns)"
	echo "  TCP 80,443 -> :$(rule_port local_web); DNS $dns_desc;" \
		"exempt mark $(sed -n 's/.*meta mark \(0x[0-9a-f]*\) counter name "exempt_mark".*/\1/p' <<<"$listing")"
	echo "  client interfaces: $(set_elements client_ifaces '(none: local traffic only)')"
	echo "  exempt uids: $(set_elements exempt_uids '(none)')"
	echo "  net.ipv4.ip_forward = $(sysctl -n net.ipv4.ip_forward)"
	echo "counters:"
	nft list counters table "${TABLE[@]}" |
		awk '/counter [a-z_]+ \{/ { name = $2 } /packets/ { printf "  %-24s %10s packets %12s bytes\n", name, $2, $4 }'
	;;
esac
