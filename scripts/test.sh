#!/usr/bin/env bash
# The whole test suite: unit, in-memory TLS, and end-to-end tests with real clients (curl, openssl, python, go),
# the unprivileged and lifecycle lanes (EndToEndTests), and libFuzzer on every parser.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
# The token ledger's PostgreSQL tests run against a local server (skipped when this is unset).
MESHGATE_TEST_POSTGRES_URL="${MESHGATE_TEST_POSTGRES_URL:-$(./scripts/postgres-test-db.sh)}"
export MESHGATE_TEST_POSTGRES_URL
swift build --build-tests
# Coverage-guided fuzzing (libFuzzer + AddressSanitizer) of every parser that reads client, origin
# or file input, FUZZ_SECONDS (20) per target; a crash prints its input (docs/fuzzing.md). It runs
# before the tests so that the test runner's summary is the last thing printed.
./scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
swift test --skip-build "$@"
