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
# Coverage-guided fuzzing of the DNS decoder (libFuzzer + AddressSanitizer), bounded in time.
./scripts/fuzz-dns.sh "${FUZZ_SECONDS:-20}" > .build/fuzz-dns.log 2>&1 || { tail -40 .build/fuzz-dns.log; exit 1; }
