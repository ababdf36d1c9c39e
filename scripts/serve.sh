#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (with Swift) to a running meshgate on the default config.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --product meshgate
# Every other command in the README is `meshgate …`: put this build on PATH (a symlink, so the next
# build is picked up too). Skipped without root, or when another meshgate is installed there.
link=/usr/local/bin/meshgate
if [[ -w /usr/local/bin ]] && { [[ ! -e $link ]] || [[ -L $link ]]; }; then
  ln -sfn "$PWD/.build/release/meshgate" "$link"
  echo "meshgate is on PATH: $link -> $PWD/.build/release/meshgate"
elif ! command -v meshgate >/dev/null; then
  echo "note: meshgate is not on PATH; run it as $PWD/.build/release/meshgate (or: sudo ln -s $PWD/.build/release/meshgate $link)"
fi
exec .build/release/meshgate serve --config meshgate.yaml "$@"
