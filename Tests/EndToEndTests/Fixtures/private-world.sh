# Sourced by the runners that need a private copy of the world (readme/run-blocks.sh,
# corpus/run-corpus.sh), inside `unshare --net --mount --pid`: loopback up, ADDRESS on lo as a
# non-loopback origin address (no kernel module needed; meshgate refuses loopback destinations by
# address, not by interface), /etc/hosts naming HOSTS… at ADDRESS, and CA added to the system trust
# store, all by bind mounts that stay in this namespace.
#
#   private_world SCRATCH ADDRESS CA HOST…
private_world() {
	local scratch=$1 address=$2 ca=$3 host
	shift 3
	mount --make-rprivate /
	ip link set lo up
	ip addr add "$address/32" dev lo
	{
		echo "127.0.0.1 localhost"
		for host in "$@"; do echo "$address $host"; done
	} >"$scratch/etc-hosts"
	mount --bind "$scratch/etc-hosts" /etc/hosts
	local bundle=/etc/ssl/certs/ca-certificates.crt
	[[ -f $bundle ]] || { echo "private-world.sh: $bundle is missing (apt-get install ca-certificates)" >&2; return 2; }
	cat "$bundle" "$ca" >"$scratch/ca-certificates.crt"
	mount --bind "$scratch/ca-certificates.crt" "$bundle"
}

# Stops the PIDs in STOP_PIDS (TERM, then waits), for an EXIT trap.
stop_started() {
	local pid
	for pid in ${STOP_PIDS:-}; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
