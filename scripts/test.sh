#!/usr/bin/env bash
# The whole test suite: unit, in-memory TLS, and end-to-end tests with real clients (curl, openssl, python).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
# The token ledger's PostgreSQL tests run against a local server (skipped when this is unset).
MESHGATE_TEST_POSTGRES_URL="${MESHGATE_TEST_POSTGRES_URL:-$(./scripts/postgres-test-db.sh)}"
export MESHGATE_TEST_POSTGRES_URL
swift build --build-tests
swift test --skip-build "$@"
