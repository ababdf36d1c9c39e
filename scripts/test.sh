#!/usr/bin/env bash
# The whole test suite: unit, in-memory TLS, and end-to-end tests with real clients (curl, openssl, python).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
swift build --build-tests
swift test --skip-build "$@"
