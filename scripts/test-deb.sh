#!/usr/bin/env bash
# Build the Debian package, install it, run meshgate from it as the meshgate user, proxy one request,
# then purge it and check nothing is left.
#
#   scripts/test-deb.sh [PATH-to-meshgate-binary]
#
# The binary defaults to .build/debug/meshgate if present, else .build/release/meshgate. Runs as root
# (exit 77, "skipped", when not root or without dpkg). It refuses to run where a meshgate package,
# user or folder already exists: the purge at the end would delete them. Whatever happens, the EXIT
# trap stops what the test started (by PID) and purges the package.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

skip() { echo "test-deb.sh: SKIP: $*" >&2; exit 77; }
((EUID == 0)) || skip "must run as root (installs and purges a package, creates a system user)"
if ! command -v dpkg >/dev/null || ! command -v dpkg-deb >/dev/null; then skip "dpkg not found (not a Debian system?)"; fi
command -v python3 >/dev/null || skip "python3 not found (needed for the test origin)"

binary=${1:-}
if [[ -z $binary ]]; then
	binary=$repo/.build/debug/meshgate
	[[ -x $binary ]] || binary=$repo/.build/release/meshgate
fi
[[ -x $binary ]] || { echo "test-deb.sh: no meshgate binary at $binary (build it: swift build -c release --product meshgate)" >&2; exit 1; }

passed=0
failed=()
ok() { echo "ok   - $*"; passed=$((passed + 1)); }
bad() { echo "FAIL - $*"; failed+=("$*"); }
check() { # check "description" command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
die() { bad "$*"; exit 1; }

# Do not touch a real installation: the purge below would remove it and its state.
if dpkg-query -W -f='${Status}' meshgate 2>/dev/null | grep -qv 'not-installed'; then
	echo "test-deb.sh: the meshgate package is already installed ($(dpkg-query -W -f='${Version} ${Status}' meshgate)); remove it first" >&2
	exit 1
fi
for thing in /etc/meshgate /var/lib/meshgate /var/log/meshgate /usr/bin/meshgate; do
	[[ -e $thing ]] && { echo "test-deb.sh: $thing exists; this test would delete it when it purges the package" >&2; exit 1; }
done
if getent passwd meshgate >/dev/null || getent group meshgate >/dev/null; then
	echo "test-deb.sh: a meshgate user or group exists; this test would delete it when it purges the package" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/meshgate-test-deb.XXXXXX)
chmod 0755 "$tmp"
meshgate_pid=""
origin_pid=""
installed=no
summary_done=no

summary() {
	[[ $summary_done == yes ]] && return
	summary_done=yes
	echo
	if ((${#failed[@]} == 0)); then
		echo "PASS: test-deb.sh, $passed checks"
	else
		echo "FAIL: test-deb.sh, ${#failed[@]} failed, $passed passed:"
		printf '  - %s\n' "${failed[@]}"
	fi
}

stop_pid() { # stop_pid PID NAME SECONDS: TERM, wait, then KILL
	local pid=$1 name=$2 limit=$3 i
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < limit * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	echo "test-deb.sh: $name (pid $pid) still running after ${limit}s; killing it" >&2
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 1
}

cleanup() {
	local rc=$?
	trap - EXIT
	stop_pid "$meshgate_pid" meshgate 35
	stop_pid "$origin_pid" "test origin" 5
	if [[ $installed == yes ]] && dpkg-query -W -f='${Status}' meshgate 2>/dev/null | grep -qv 'not-installed'; then
		echo "test-deb.sh: cleanup: purging the meshgate package"
		dpkg --purge meshgate >"$tmp/purge-cleanup.log" 2>&1 || { cat "$tmp/purge-cleanup.log" >&2; rc=1; }
	fi
	if ((${#failed[@]})) && [[ -s $tmp/meshgate.log ]]; then
		echo "--- meshgate's output (last 30 lines)"
		tail -n 30 "$tmp/meshgate.log"
	fi
	rm -rf "$tmp"
	((${#failed[@]})) && rc=1
	summary
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_ports() { # free_ports N: N distinct free TCP ports on 127.0.0.1
	python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# GET through a proxy (or directly with proxy ""); prints status and body.
http_get() { # http_get URL PROXY
	python3 - "$1" "$2" <<'EOF'
import sys, urllib.request, urllib.error
url, proxy = sys.argv[1], sys.argv[2]
handlers = [urllib.request.ProxyHandler({"http": proxy} if proxy else {})]
try:
    r = urllib.request.build_opener(*handlers).open(url, timeout=10)
    print(r.status, r.read().decode(errors="replace"))
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(errors="replace"))
except Exception as e:
    print("error", e)
    sys.exit(1)
EOF
}

wait_for() { # wait_for SECONDS command...: poll every 0.2 s
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

mode_owner() { stat -c '%a %U:%G' "$1" 2>/dev/null; }

echo "== build the package from $binary"
"$repo/scripts/package-deb.sh" --binary "$binary" --out "$tmp" || die "scripts/package-deb.sh failed"
debs=("$tmp"/meshgate_*.deb)
deb=${debs[0]}
[[ -f $deb ]] || die "no .deb in $tmp"
ok "package built: $(basename "$deb")"
deb_readable() { dpkg-deb --info "$deb" >/dev/null; }
check "dpkg-deb --info reads it" deb_readable

echo "== install"
installed=yes # from here on the trap purges, even if dpkg -i stops half-way
if ! dpkg -i "$deb" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "test-deb.sh: dpkg -i failed; trying apt-get install -f for missing dependencies"
	apt-get install -f -y >>"$tmp/install.log" 2>&1 || { tail -n 20 "$tmp/install.log"; die "dpkg -i $deb failed"; }
fi
cat "$tmp/install.log"
check "package is installed" bash -c "dpkg-query -W -f='\${Status}' meshgate | grep -q 'install ok installed'"

echo "== files and modes"
check "/usr/bin/meshgate is 755 root:root" test "$(mode_owner /usr/bin/meshgate)" = "755 root:root"
check "/etc/meshgate/meshgate.yaml is 644 root:root" test "$(mode_owner /etc/meshgate/meshgate.yaml)" = "644 root:root"
check "both conffiles registered with dpkg" bash -c \
	"dpkg-query -W -f='\${Conffiles}' meshgate | grep -q '/etc/meshgate/meshgate.yaml' && dpkg-query -W -f='\${Conffiles}' meshgate | grep -q '/etc/logrotate.d/meshgate'"
for f in /lib/systemd/system/meshgate.service /etc/logrotate.d/meshgate /usr/lib/sysusers.d/meshgate.conf \
	/usr/lib/meshgate/meshgate-egress.nft /usr/share/meshgate/rulesets/shadow-mcp.yaml /usr/share/meshgate/rulesets/dlp-secrets.yaml; do
	check "$f is 644 root:root" test "$(mode_owner "$f")" = "644 root:root"
done
check "/usr/share/doc/meshgate/copyright names the Swift runtime's and every dependency's licence" bash -c \
	"grep -q 'Apache-2.0 with Runtime Library Exception' /usr/share/doc/meshgate/copyright && grep -q 'the Swift package swift-nio)' /usr/share/doc/meshgate/copyright"
check "the licence texts and NOTICE files travel with the binary (swift-nio, swift-nio-ssl, the runtime)" test -s /usr/share/doc/meshgate/third-party/swift-nio/LICENSE.txt -a \
	-s /usr/share/doc/meshgate/third-party/swift-nio-ssl/NOTICE.txt -a -s /usr/share/doc/meshgate/third-party/swift/LICENSE.txt
check "/usr/lib/meshgate/egress.sh is 755 root:root" test "$(mode_owner /usr/lib/meshgate/egress.sh)" = "755 root:root"
# shellcheck disable=SC2016 # expanded by the inner bash
check "meshgate is a system user with group meshgate and no login shell" bash -c \
	'u=$(getent passwd meshgate) && [ "$(echo "$u" | cut -d: -f3)" -lt 1000 ] && [ "$(id -gn meshgate)" = meshgate ] && case $(echo "$u" | cut -d: -f7) in */nologin|/bin/false) true;; *) false;; esac'
check "/var/lib/meshgate is 750 meshgate:meshgate" test "$(mode_owner /var/lib/meshgate)" = "750 meshgate:meshgate"
check "/var/log/meshgate is 750 meshgate:meshgate" test "$(mode_owner /var/log/meshgate)" = "750 meshgate:meshgate"
check "the unit runs /usr/bin/meshgate and /usr/lib/meshgate/egress.sh, nothing from /usr/local" bash -c \
	'grep -q "^ExecStart=/usr/bin/meshgate serve --config /etc/meshgate/meshgate.yaml$" /lib/systemd/system/meshgate.service &&
	 grep -q "^ExecStartPre=+/usr/lib/meshgate/egress.sh up " /lib/systemd/system/meshgate.service &&
	 ! grep -q /usr/local /lib/systemd/system/meshgate.service'
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify meshgate.service" bash -c \
		"systemd-analyze verify /lib/systemd/system/meshgate.service >$tmp/verify.log 2>&1 || { cat $tmp/verify.log; false; }"
fi
check "egress.sh parses and prints its usage" bash -c '/usr/lib/meshgate/egress.sh --help | grep -q "egress.sh up"'

# The Swift runtime must come from the package, not from a toolchain that happens to be on this machine.
ldd /usr/bin/meshgate >"$tmp/ldd.txt" 2>&1
check "every library resolves (ldd)" bash -c "! grep -q 'not found' $tmp/ldd.txt"
check "libswiftCore and Foundation load from /usr/lib/meshgate/swift" bash -c \
	"grep -q 'libswiftCore.so => /usr/lib/meshgate/swift/libswiftCore.so' $tmp/ldd.txt && grep -q 'libFoundation.so => /usr/lib/meshgate/swift/libFoundation.so' $tmp/ldd.txt"
check "no library loads from outside /usr/lib/meshgate/swift and Debian packages" bash -c "
	awk '\$2 == \"=>\" && \$3 ~ /^\\// { print \$3 }' $tmp/ldd.txt | while read -r p; do
		case \$p in /usr/lib/meshgate/swift/*) continue;; esac
		dpkg-query -S \"\$(readlink -f \"\$p\")\" >/dev/null 2>&1 || dpkg-query -S \"\$p\" >/dev/null 2>&1 || { echo \"  not from a package: \$p\"; exit 1; }
	done"
version_out=$(setpriv --reuid meshgate --regid meshgate --init-groups -- /usr/bin/meshgate --version 2>&1)
check "meshgate --version runs as the meshgate user (printed '$version_out')" test -n "$version_out"
check "the packaged config and rulesets pass meshgate rules check" bash -c \
	"/usr/bin/meshgate rules check --config /etc/meshgate/meshgate.yaml /usr/share/meshgate/rulesets/*.yaml"

echo "== run meshgate from the package as the meshgate user"
read -r origin_port explicit_port admin_port <<<"$(free_ports 3)"
[[ -n $admin_port ]] || die "could not pick free ports"
mkdir -p "$tmp/www"
echo "hello from the test origin" >"$tmp/www/hello.txt"
echo "after rotation" >"$tmp/www/after-rotation.txt"
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$origin_port" >"$tmp/origin.log" 2>&1 &
origin_pid=$!
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$origin_port" 2>/dev/null || die "the test origin did not listen on 127.0.0.1:$origin_port"
ok "test origin (python3 -m http.server, pid $origin_pid) on 127.0.0.1:$origin_port"

# A copy of the packaged configuration with free ports, the loopback origin allowed (meshgate refuses
# loopback destinations unless listed) and the packaged rulesets enabled, so they load from
# /usr/share/meshgate (shadow-mcp refers to $portal, so a portal is set too). Under /etc/meshgate so
# the purge has to remove it.
config=/etc/meshgate/test-deb.yaml
sed -E -e "s|^([[:space:]]+explicit:[[:space:]]*)127\.0\.0\.1:3128|\1127.0.0.1:$explicit_port|" \
	-e "s|^([[:space:]]+admin:[[:space:]]*)127\.0\.0\.1:9090|\1127.0.0.1:$admin_port|" \
	/etc/meshgate/meshgate.yaml >"$config"
cat >>"$config" <<'EOF'

# Added by scripts/test-deb.sh.
access:
  allow_destinations: [127.0.0.1/32]
rulesets: [/usr/share/meshgate/rulesets/shadow-mcp.yaml, /usr/share/meshgate/rulesets/dlp-secrets.yaml]
portal: https://portal.example.com/mcp
EOF
chmod 0644 "$config"
if ! grep -q "127.0.0.1:$explicit_port" "$config" || ! grep -q "127.0.0.1:$admin_port" "$config"; then
	die "could not set the listener ports in $config (did the packaged meshgate.yaml change?)"
fi

# setpriv execs, so $! is meshgate itself. The environment and umask are the unit's.
(
	cd / && umask 0077 && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/meshgate \
		setpriv --reuid meshgate --regid meshgate --init-groups -- \
		/usr/bin/meshgate serve --config "$config"
) >"$tmp/meshgate.log" 2>&1 &
meshgate_pid=$!
echo "meshgate pid $meshgate_pid"
# Stops waiting as soon as meshgate exits (a configuration error, say) instead of after the timeout.
healthy() { ! kill -0 "$meshgate_pid" 2>/dev/null || http_get "http://127.0.0.1:$admin_port/healthz" "" 2>/dev/null | grep -q '^200'; }
wait_for 30 healthy
kill -0 "$meshgate_pid" 2>/dev/null || die "meshgate exited during startup (its output is below)"
http_get "http://127.0.0.1:$admin_port/healthz" "" | grep -q '^200' ||
	die "meshgate did not answer /healthz on 127.0.0.1:$admin_port within 30s"
ok "meshgate is up (admin /healthz 200)"
check "meshgate runs as the meshgate user" test "$(ps -o user= -p "$meshgate_pid" | tr -d ' ')" = meshgate
check "/var/lib/meshgate/meshgate.pid names it (logrotate signals that pid)" \
	test "$(cat /var/lib/meshgate/meshgate.pid 2>/dev/null)" = "$meshgate_pid"
check "CA key /var/lib/meshgate/ca.key is 600 meshgate:meshgate" test "$(mode_owner /var/lib/meshgate/ca.key)" = "600 meshgate:meshgate"
check "CA certificate /var/lib/meshgate/ca.pem exists" test -s /var/lib/meshgate/ca.pem
check "the packaged rulesets loaded" grep -q 'shadow-mcp' "$tmp/meshgate.log"

echo "== one request through the explicit proxy"
reply=$(http_get "http://127.0.0.1:$origin_port/hello.txt" "http://127.0.0.1:$explicit_port")
echo "reply: $reply"
check "proxied GET returns the origin's file" test "$reply" = "200 hello from the test origin"
audit=/var/log/meshgate/audit.jsonl
audit_has() { grep -q "$1" "$audit" 2>/dev/null; }
audit_key="\"port\":$origin_port,\"path\":\"/hello.txt"
check "the audit log got a line for it" wait_for 10 audit_has "$audit_key"
check "the audit line is JSON" python3 -c '
import json, sys
line = [l for l in open(sys.argv[1]) if sys.argv[2] in l][-1]
event = json.loads(line)
print("  audit:", {k: event.get(k) for k in ("event", "action", "method", "host", "port", "path", "status")})' "$audit" "$audit_key"
check "the audit log is owned by meshgate" test "$(stat -c %U "$audit" 2>/dev/null)" = meshgate

if command -v logrotate >/dev/null; then
	echo "== logrotate with the packaged /etc/logrotate.d/meshgate"
	check "logrotate -f rotates the audit log" logrotate -f -s "$tmp/logrotate.state" /etc/logrotate.d/meshgate
	check "audit.jsonl.1 holds the earlier line" grep -q "$audit_key" "$audit.1"
	# A path, not a query: the audit log redacts query values.
	reply=$(http_get "http://127.0.0.1:$origin_port/after-rotation.txt" "http://127.0.0.1:$explicit_port")
	check "a request after the rotation is answered ($reply)" test "$reply" = "200 after rotation"
	check "meshgate reopened a new audit.jsonl after SIGUSR1 and logs to it" wait_for 10 audit_has '"path":"/after-rotation.txt"'
	check "the new audit.jsonl is 600 meshgate (meshgate created it; logrotate has nocreate)" \
		test "$(mode_owner "$audit")" = "600 meshgate:meshgate"
fi

echo "== stop meshgate (SIGTERM to pid $meshgate_pid)"
kill -TERM "$meshgate_pid"
stopped() { ! kill -0 "$meshgate_pid" 2>/dev/null; }
if wait_for 35 stopped; then
	wait "$meshgate_pid"
	rc=$?
	check "meshgate exited with status 0 on SIGTERM (got $rc)" test "$rc" = 0
	meshgate_pid=""
else
	bad "meshgate still running 35s after SIGTERM"
	stop_pid "$meshgate_pid" meshgate 1
	meshgate_pid=""
fi
stop_pid "$origin_pid" "test origin" 5
origin_pid=""

echo "== purge"
if dpkg --purge meshgate >"$tmp/purge.log" 2>&1; then ok "dpkg --purge meshgate"; else cat "$tmp/purge.log"; bad "dpkg --purge meshgate"; fi
cat "$tmp/purge.log"
installed=no
check "package no longer known to dpkg" bash -c "! dpkg-query -W -f='\${Status}' meshgate 2>/dev/null | grep -qv not-installed"
for thing in /usr/bin/meshgate /etc/meshgate /var/lib/meshgate /var/log/meshgate /usr/lib/meshgate /usr/share/meshgate /usr/share/doc/meshgate \
	/lib/systemd/system/meshgate.service /etc/logrotate.d/meshgate /usr/lib/sysusers.d/meshgate.conf; do
	check "$thing is gone" test ! -e "$thing"
done
check "no meshgate user" bash -c '! getent passwd meshgate >/dev/null'
check "no meshgate group" bash -c '! getent group meshgate >/dev/null'
check "no meshgate process left" bash -c '! pgrep -f "^/usr/bin/meshgate" >/dev/null'
