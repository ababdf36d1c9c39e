#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (with Swift) to a running meshgate on the default config.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --product meshgate
exec .build/release/meshgate serve --config meshgate.yaml "$@"
