#!/usr/bin/env bash
# Build a Debian package of meshgate from an already built binary (no debhelper, no rebuild).
#
#   scripts/package-deb.sh [--binary PATH] [--out DIR] [--version V]
#
#   --binary   the meshgate executable (default .build/release/meshgate)
#   --out      where meshgate_VERSION_ARCH.deb is written (default dist/)
#   --version  the package version (default: `meshgate --version`, else `git describe`)
#
# Environment: MESHGATE_DEB_MAINTAINER overrides the Maintainer field.
#
# What goes where (the maintainer scripts are in contrib/debian/):
#   /usr/bin/meshgate                       stripped, RUNPATH /usr/lib/meshgate/swift
#   /usr/lib/meshgate/swift/                the Swift runtime libraries the binary links (Debian has none)
#   /usr/lib/meshgate/egress.sh, meshgate-egress.nft    contrib/egress.sh and its nftables rules
#   /etc/meshgate/meshgate.yaml             conffile: meshgate.yaml with system paths
#   /usr/share/meshgate/rulesets/*.yaml     rulesets/*.yaml
#   /lib/systemd/system/meshgate.service    contrib/systemd/meshgate.service with packaged paths
#   /usr/lib/sysusers.d/meshgate.conf       contrib/systemd/meshgate.sysusers
#   /etc/logrotate.d/meshgate               conffile: contrib/logrotate/meshgate for /var/log/meshgate
#   /usr/share/doc/meshgate/                copyright, and third-party/: the dependencies' and runtime's licences
# The files derived from the repository's are made by small sed edits, each checked, so a change to
# the originals either carries over or stops the build here rather than shipping a half-edited file.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=$repo/.build/release/meshgate
out=$repo/dist
version=""
maintainer=${MESHGATE_DEB_MAINTAINER:-"meshgate maintainers <maintainers@users.noreply.b-seed-f45da31b.example>"}

die() { echo "package-deb.sh: $*" >&2; exit 1; }
usage() { sed -n '2,11s/^# \{0,1\}//p' "$0"; exit "${1:-0}"; }

while (($#)); do
	case $1 in
	--binary) binary=${2?--binary needs a path}; shift 2 ;;
	--out) out=${2?--out needs a folder}; shift 2 ;;
	--version) version=${2?--version needs a value}; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "package-deb.sh: unknown option '$1'" >&2; usage 2 >&2 ;;
	esac
done

if [[ ! -x $binary ]]; then
	echo "package-deb.sh: no meshgate binary at $binary" >&2
	echo "  build it with: swift build -c release --product meshgate   (or pass --binary PATH)" >&2
	exit 1
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
for tool in dpkg-deb patchelf ldd readelf dpkg-query; do
	command -v "$tool" >/dev/null || die "$tool not found (patchelf: apt-get install -y patchelf)"
done

# Debian versions: digits first, then [A-Za-z0-9.+~]; '-' would start a Debian revision.
valid_version() { [[ $1 =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; }
if [[ -n $version ]]; then
	valid_version "$version" || die "--version '$version' is not a Debian version (digits first, then A-Z a-z 0-9 . + ~)"
else
	reported=$("$binary" --version 2>/dev/null | head -n 1 | tr -d '[:space:]' || true)
	if valid_version "$reported"; then
		version=$reported
	else
		# v1.2.3-4-gabcdef[-dirty] -> 1.2.3+4.gabcdef[+dirty]; a bare commit id -> 0~git.abcdef.
		described=$(git -C "$repo" describe --tags --always --dirty 2>/dev/null) ||
			die "cannot tell the version: '$binary --version' printed none and git describe failed; pass --version"
		described=${described#v}
		described=${described/-dirty/+dirty}
		if [[ $described =~ ^([0-9][^-]*)-([0-9]+)-g([0-9a-f]+)(.*)$ ]]; then
			described="${BASH_REMATCH[1]}+${BASH_REMATCH[2]}.g${BASH_REMATCH[3]}${BASH_REMATCH[4]}"
		elif [[ ! $described =~ ^[0-9] ]]; then
			described="0~git.$described"
		fi
		version=$(tr -c 'A-Za-z0-9.+~\n' '.' <<<"$described")
		valid_version "$version" || die "cannot make a Debian version out of '$described'; pass --version"
	fi
fi

machine=$(readelf -h "$binary" | sed -n 's/^ *Machine: *//p')
case $machine in
*X86-64*) arch=amd64 ;;
*AArch64*) arch=arm64 ;;
*) die "$binary is for '$machine', which this script does not know the Debian architecture of" ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/meshgate_${version}_$arch
umask 022
mkdir -p "$root/DEBIAN"

# --- binary and the Swift runtime -----------------------------------------------------------------
# The Swift toolchain's shared runtime (libswiftCore, Foundation, libdispatch, ICU data, ...) is not in
# Debian. Every library ldd resolves from the folder libswiftCore.so comes from is copied to
# /usr/lib/meshgate/swift and the binary's RUNPATH is pointed there (the libraries themselves carry
# RUNPATH $ORIGIN, so they find each other). Everything else must belong to a Debian package, which
# then becomes a dependency.
ldd_out=$(ldd "$binary") || die "ldd $binary failed"
if grep -q 'not found' <<<"$ldd_out"; then
	die "$binary links libraries this machine does not have: $(grep 'not found' <<<"$ldd_out" | tr -s ' \t' ' ')"
fi
core=$(awk '$1 == "libswiftCore.so" { print $3 }' <<<"$ldd_out")
[[ -n $core ]] || die "$binary does not link libswiftCore.so dynamically; nothing to bundle (update this script)"
swift_dir=$(dirname "$(readlink -f "$core")")
mkdir -p "$root/usr/bin" "$root/usr/lib/meshgate/swift"
bundled=()
while read -r path; do
	[[ -n $path ]] || continue
	if [[ $(dirname "$(readlink -f "$path")") == "$swift_dir" ]]; then
		install -m 0644 "$(readlink -f "$path")" "$root/usr/lib/meshgate/swift/$(basename "$path")"
		bundled+=("$(basename "$path")")
	else
		dpkg-query -S "$(readlink -f "$path")" >/dev/null 2>&1 || dpkg-query -S "$path" >/dev/null 2>&1 ||
			die "$binary links $path, which is neither in $swift_dir nor in any Debian package"
	fi
done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' <<<"$ldd_out")

install -m 0755 "$binary" "$root/usr/bin/meshgate"
if command -v strip >/dev/null; then
	strip "$root/usr/bin/meshgate"
else
	echo "package-deb.sh: note: strip not found; the binary keeps its symbols" >&2
fi
# After strip: patchelf rewrites the dynamic section, strip would rewrite the file again.
patchelf --set-rpath /usr/lib/meshgate/swift "$root/usr/bin/meshgate"
runpath=$(readelf -d "$root/usr/bin/meshgate" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
[[ $runpath == /usr/lib/meshgate/swift ]] || die "RUNPATH is '$runpath' after patchelf, expected /usr/lib/meshgate/swift"

# --- licences --------------------------------------------------------------------------------------
# The binary contains the Swift packages it was built from, and the package bundles the Swift runtime.
# Their licences (Apache-2.0, MIT) require their texts and NOTICE files to travel with the binary:
# /usr/share/doc/meshgate/third-party/NAME/, summarised in the Debian copyright file.
checkouts=""
dir=$(dirname "$(readlink -f "$binary")")
while [[ $dir != / ]]; do
	if [[ -d $dir/checkouts ]]; then checkouts=$dir/checkouts; break; fi
	dir=$(dirname "$dir")
done
[[ -n $checkouts || ! -d $repo/.build/checkouts ]] || checkouts=$repo/.build/checkouts
[[ -n $checkouts ]] || die "no checkouts/ folder above $binary or in $repo/.build: cannot collect the dependencies' licences (build with swift build first)"
runtime_licence=$(cd "$swift_dir/../../.." && pwd)/share/swift/LICENSE.txt
[[ -f $runtime_licence ]] || die "the Swift runtime's licence is not at $runtime_licence (expected beside the toolchain the runtime came from)"
doc=$root/usr/share/doc/meshgate
mkdir -p "$doc/third-party/swift"
install -m 0644 "$runtime_licence" "$doc/third-party/swift/LICENSE.txt"
licence_kind() {
	if grep -q 'Apache License' "$1"; then
		echo Apache-2.0
	elif grep -q 'Permission is hereby granted, free of charge' "$1"; then
		echo MIT
	else
		echo "see $(basename "$1")"
	fi
}
stanzas=""
for package in "$checkouts"/*/; do
	name=$(basename "$package")
	licence=""
	for candidate in LICENSE.txt LICENSE LICENSE.md COPYING; do
		if [[ -f $package$candidate ]]; then licence=$package$candidate; break; fi
	done
	[[ -n $licence ]] || die "the dependency $name has no LICENSE file in $package; its licence must be shipped (update this script)"
	mkdir -p "$doc/third-party/$name"
	install -m 0644 "$licence" "$doc/third-party/$name/$(basename "$licence")"
	if [[ -f ${package}NOTICE.txt ]]; then install -m 0644 "${package}NOTICE.txt" "$doc/third-party/$name/NOTICE.txt"; fi
	stanzas+="
Files: usr/bin/meshgate (the Swift package $name)
Copyright: see /usr/share/doc/meshgate/third-party/$name/
License: $(licence_kind "$licence")
 The full text is in /usr/share/doc/meshgate/third-party/$name/$(basename "$licence").
"
done
{
	cat <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: meshgate
Comment: meshgate's own licence has not been chosen yet; until it is, its authors reserve all rights to
 meshgate's own code. The binary is built from the Swift packages listed below and bundles the Swift
 runtime; their licence texts and NOTICE files are in /usr/share/doc/meshgate/third-party/.

Files: *
Copyright: the meshgate authors
License: none chosen yet (all rights reserved)

Files: usr/lib/meshgate/swift/*
Copyright: Apple Inc. and the Swift project authors
License: Apache-2.0 with Runtime Library Exception
 The full text is in /usr/share/doc/meshgate/third-party/swift/LICENSE.txt.
EOF
	printf '%s' "$stanzas"
} >"$doc/copyright"
chmod 0644 "$doc/copyright"

# --- configuration ---------------------------------------------------------------------------------
# meshgate.yaml with the system layout: state in /var/lib/meshgate, the audit log in /var/log/meshgate
# (rotated by /etc/logrotate.d/meshgate), rulesets from /usr/share/meshgate/rulesets. Whether rulesets
# are enabled is left as the repository's file has it.
mkdir -p "$root/etc/meshgate"
config=$root/etc/meshgate/meshgate.yaml
{
	cat <<'EOF'
# /etc/meshgate/meshgate.yaml, installed by the meshgate Debian package (a conffile: your changes are
# kept on upgrade). It is the repository's meshgate.yaml with the system paths: state_dir
# /var/lib/meshgate, the CA in it, the audit log in /var/log/meshgate (rotated by
# /etc/logrotate.d/meshgate), rulesets shipped in /usr/share/meshgate/rulesets/.
# Check it with: meshgate rules check --config /etc/meshgate/meshgate.yaml /usr/share/meshgate/rulesets/*.yaml
#
EOF
	sed -E \
		-e 's|^state_dir:[[:space:]]*[^[:space:]#]+|state_dir: /var/lib/meshgate|' \
		-e 's|^([[:space:]]+ca_cert:[[:space:]]*)[^[:space:]#]+|\1/var/lib/meshgate/ca.pem|' \
		-e 's|^([[:space:]]+ca_key:[[:space:]]*)[^[:space:]#]+|\1/var/lib/meshgate/ca.key|' \
		-e '/^audit:/,/^[^[:space:]#]/s|^([[:space:]]+path:[[:space:]]*)[^[:space:]#]+|\1/var/log/meshgate/audit.jsonl|' \
		-e 's|(ledger:[[:space:]]*sqlite:)state/|\1/var/lib/meshgate/|' \
		-e '/^#?[[:space:]]*rulesets:/s#([[ ,])rulesets/#\1/usr/share/meshgate/rulesets/#g' \
		"$repo/meshgate.yaml"
} >"$config"
chmod 0644 "$config"
for want in '^state_dir: /var/lib/meshgate' '^[[:space:]]+ca_cert: +/var/lib/meshgate/ca\.pem' \
	'^[[:space:]]+ca_key: +/var/lib/meshgate/ca\.key' '^[[:space:]]+path: +/var/log/meshgate/audit\.jsonl'; do
	grep -Eq "$want" "$config" || die "meshgate.yaml changed shape: no line matching '$want' after the edit; update this script"
done
if grep -nE '^[^#]*(\./state|[[:space:]:]state/)|rulesets:.*[[ ,]rulesets/' "$config" >&2; then
	die "the packaged meshgate.yaml still has repository-relative paths (above); update this script"
fi
# Parse the result as meshgate does (unknown keys, types, addresses) and check the shipped rulesets.
# There is no config-only check command; `rules check --config` loads the whole configuration.
# The original binary is used: the packaged one's RUNPATH only resolves once installed.
if ! check=$("$binary" rules check --config "$config" "$repo"/rulesets/*.yaml 2>&1); then
	echo "$check" >&2
	die "the packaged meshgate.yaml or the rulesets do not pass 'meshgate rules check'"
fi

mkdir -p "$root/usr/share/meshgate/rulesets"
install -m 0644 "$repo"/rulesets/*.yaml "$root/usr/share/meshgate/rulesets/"

# --- egress, systemd, sysusers, logrotate ----------------------------------------------------------
install -D -m 0755 "$repo/contrib/egress.sh" "$root/usr/lib/meshgate/egress.sh"
install -m 0644 "$repo/contrib/nftables/meshgate-egress.nft" "$root/usr/lib/meshgate/meshgate-egress.nft"

unit=$root/lib/systemd/system/meshgate.service
mkdir -p "$(dirname "$unit")"
# The manual install steps in the header become a pointer to the package's files; the audit log,
# outside state_dir now, needs LogsDirectory= to be writable under ProtectSystem=strict.
sed -e '/^# Install (see README/,/^#   systemctl enable --now meshgate$/c\
# Installed by the meshgate Debian package, which also creates the meshgate user, /var/lib/meshgate\
# and /var/log/meshgate. Configuration: /etc/meshgate/meshgate.yaml. Start with:\
#   systemctl enable --now meshgate' \
	-e 's|/usr/local/bin/meshgate|/usr/bin/meshgate|g' \
	-e 's|/usr/local/lib/meshgate/|/usr/lib/meshgate/|g' \
	-e 's|^# /var/lib/meshgate (CA, ledger, installed rulesets, audit log) and /etc/meshgate (read-only config).$|# /var/lib/meshgate (CA, ledger, installed rulesets), /var/log/meshgate (audit log) and /etc/meshgate\n# (read-only config).|' \
	-e '/^StateDirectoryMode=/a\
LogsDirectory=meshgate\
LogsDirectoryMode=0750' \
	"$repo/contrib/systemd/meshgate.service" >"$unit"
chmod 0644 "$unit"
grep -q /usr/local "$unit" && die "meshgate.service still mentions /usr/local after the edit; update this script"
for want in '^ExecStart=/usr/bin/meshgate serve --config /etc/meshgate/meshgate.yaml$' \
	'^ExecStartPre=\+/usr/lib/meshgate/egress.sh up ' '^LogsDirectory=meshgate$' '^#   systemctl enable --now meshgate$'; do
	grep -Eq "$want" "$unit" || die "meshgate.service changed shape: no line matching '$want' after the edit; update this script"
done

install -D -m 0644 "$repo/contrib/systemd/meshgate.sysusers" "$root/usr/lib/sysusers.d/meshgate.conf"

logrotate=$root/etc/logrotate.d/meshgate
mkdir -p "$(dirname "$logrotate")"
sed -e 's|^# Install: install -m 0644 contrib/logrotate/meshgate /etc/logrotate.d/meshgate$|# Installed by the meshgate Debian package (a conffile).|' \
	-e 's|^# The paths are those of contrib/systemd/meshgate.service (state_dir: /var/lib/meshgate, audit.path$|# The paths are those of the packaged /etc/meshgate/meshgate.yaml (state_dir: /var/lib/meshgate, which|' \
	-e 's|^# left at its default state_dir/audit.jsonl); change both lines if yours differ.$|# holds meshgate.pid, and audit.path /var/log/meshgate/audit.jsonl); change both lines if yours differ.|' \
	-e 's|^/var/lib/meshgate/audit.jsonl {|/var/log/meshgate/audit.jsonl {|' \
	"$repo/contrib/logrotate/meshgate" >"$logrotate"
chmod 0644 "$logrotate"
grep -q '^/var/log/meshgate/audit.jsonl {' "$logrotate" ||
	die "contrib/logrotate/meshgate changed shape: its log path was not rewritten; update this script"
grep -q '/var/lib/meshgate/meshgate.pid' "$logrotate" ||
	die "contrib/logrotate/meshgate no longer reads /var/lib/meshgate/meshgate.pid; check it still matches state_dir"

# --- control ---------------------------------------------------------------------------------------
for f in postinst prerm postrm; do install -m 0755 "$repo/contrib/debian/$f" "$root/DEBIAN/$f"; done
install -m 0644 "$repo/contrib/debian/conffiles" "$root/DEBIAN/conffiles"
while read -r f; do
	[[ -f $root$f ]] || die "contrib/debian/conffiles lists $f, which is not in the package"
done <"$root/DEBIAN/conffiles"

# Dependencies from the ELF files' symbol versions, as dpkg-shlibdeps works them out for debhelper
# (it needs a debian/control to run; a minimal one is made next to the tree). The bundled Swift
# libraries are found through -l and contribute only their own system dependencies.
if command -v dpkg-shlibdeps >/dev/null; then
	mkdir -p "$work/debian"
	printf 'Source: meshgate\n\nPackage: meshgate\nArchitecture: %s\n' "$arch" >"$work/debian/control"
	(cd "$work" && dpkg-shlibdeps -O -l"$root/usr/lib/meshgate/swift" \
		"$root/usr/bin/meshgate" "$root"/usr/lib/meshgate/swift/*.so) >"$work/shlibdeps.out" 2>"$work/shlibdeps.err" || {
		cat "$work/shlibdeps.err" >&2
		die "dpkg-shlibdeps failed"
	}
	depends=$(sed -n 's/^shlibs:Depends=//p' "$work/shlibdeps.out")
	rm -rf "$work/debian"
else
	# Without dpkg-shlibdeps: the packages owning the system libraries ldd resolves, unversioned.
	echo "package-deb.sh: note: dpkg-shlibdeps not found (package dpkg-dev); dependencies are unversioned" >&2
	depends=$( (ldd "$binary"; for l in "$root"/usr/lib/meshgate/swift/*.so; do LD_LIBRARY_PATH=$root/usr/lib/meshgate/swift ldd "$l"; done) |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u |
		while read -r path; do
			[[ $(dirname "$(readlink -f "$path")") == "$swift_dir" || $path == "$root"/* ]] && continue
			dpkg-query -S "$(readlink -f "$path")" 2>/dev/null || dpkg-query -S "$path"
		done | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')
fi
[[ -n $depends ]] || die "found no library dependencies, which cannot be right"
# The maintainer scripts create and delete the service user.
depends="$depends, adduser | passwd"

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
# Bash substitution, not sed: the values contain '|' and '/'.
control=$(<"$repo/contrib/debian/control.in")
control=${control//@VERSION@/$version}
control=${control//@ARCH@/$arch}
control=${control//@MAINTAINER@/$maintainer}
control=${control//@INSTALLED_SIZE@/$installed_size}
control=${control//@DEPENDS@/$depends}
printf '%s\n' "$control" >"$root/DEBIAN/control"
if grep -n '@[A-Z_]*@' "$root/DEBIAN/control" >&2; then die "unfilled placeholder in contrib/debian/control.in"; fi

mkdir -p "$out"
deb=$out/meshgate_${version}_$arch.deb
dpkg-deb --build --root-owner-group "$root" "$deb" >/dev/null
echo "built $deb ($(du -h "$deb" | cut -f1), installed $((installed_size / 1024)) MiB)"
echo "  Version: $version"
echo "  Depends: $depends"
echo "  bundled Swift runtime (${#bundled[@]} libraries from $swift_dir): ${bundled[*]}"
