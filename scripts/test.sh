#!/usr/bin/env bash
# The whole test suite: unit, in-memory TLS, and end-to-end tests with real clients (curl, openssl, python, go),
# the unprivileged and lifecycle lanes (EndToEndTests), libFuzzer on every parser, and, as root, the
# Debian package test (scripts/test-deb.sh: builds, installs, runs and purges the package).
# Arguments go to `swift test` (e.g. --filter NAME).
#   MESHGATE_TEST_POSTGRES_URL=URL  use that PostgreSQL for the ledger tests; nothing is started or stopped
#   MESHGATE_KEEP_POSTGRES=1        leave running the PostgreSQL cluster this script started
#   MESHGATE_SKIP_DEB_TEST=1        do not run the Debian package test
#   FUZZ_SECONDS=N                  fuzzing time per parser (20)
set -euo pipefail
cd "$(dirname "$0")/.."

# The PostgreSQL cluster to stop at exit: one this script started (or the package install below started),
# never one that was running before, nor one named by the caller's MESHGATE_TEST_POSTGRES_URL.
pg_stop_port=""
swift_rc="" deb_result="not run"
finish() {
  local rc=$?
  if [[ -n $pg_stop_port ]]; then
    ./scripts/postgres-test-db.sh --stop "$pg_stop_port" ||
      echo "test.sh: could not stop the PostgreSQL cluster on port $pg_stop_port" >&2
  fi
  # One line at the very end: the runner's summary may be above the Debian package test's output.
  if [[ -z $swift_rc ]]; then
    ((rc == 0)) || echo "test.sh: FAILED (exit $rc) before swift test finished"
  else
    local swift_result="passed"
    ((swift_rc == 0)) || swift_result="FAILED (exit $swift_rc; its summary is above)"
    echo "test.sh: swift test $swift_result; Debian package test $deb_result"
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# Ports of the clusters running before anything here. A cluster that the postgresql package starts when
# install-deps.sh installs it counts as started by this script. If they cannot be listed, none is stopped.
pg_online_before=""
if [[ -z ${MESHGATE_TEST_POSTGRES_URL:-} ]]; then
  pg_online_before=$(./scripts/postgres-test-db.sh --online) || pg_online_before=unknown
fi

./scripts/install-deps.sh --test
# The token ledger's PostgreSQL tests run against a local server (skipped when this is unset).
if [[ -z ${MESHGATE_TEST_POSTGRES_URL:-} ]]; then
  MESHGATE_TEST_POSTGRES_URL=$(./scripts/postgres-test-db.sh)
  pg_port=${MESHGATE_TEST_POSTGRES_URL##*@127.0.0.1:}
  pg_port=${pg_port%%/*}
  if [[ ${MESHGATE_KEEP_POSTGRES:-} != 1 && $pg_online_before != unknown ]] && ! grep -qx -- "$pg_port" <<<"$pg_online_before"; then
    pg_stop_port=$pg_port
  fi
fi
export MESHGATE_TEST_POSTGRES_URL
swift build --build-tests
# Coverage-guided fuzzing (libFuzzer + AddressSanitizer) of every parser that reads client, origin
# or file input, FUZZ_SECONDS (20) per target; a crash prints its input (docs/fuzzing.md). It runs
# before the tests so that the test runner's summary stays at the end (only test.sh's lines follow it).
./scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
rc=0
swift test --skip-build "$@" || rc=$?
swift_rc=$rc

# The Debian package, built from the debug binary the tests just used. Its output goes to a log,
# shown in full only when it fails, so that the test runner's summary stays on screen.
deb_rc=0
if [[ -n ${MESHGATE_SKIP_DEB_TEST:-} ]]; then
  deb_result="skipped (MESHGATE_SKIP_DEB_TEST is set)"
elif ((EUID != 0)); then
  deb_result="skipped (needs root)"
else
  deb_result="did not finish"
  deb_log=$(mktemp /tmp/meshgate-test-deb.XXXXXX.log)
  ./scripts/test-deb.sh .build/debug/meshgate >"$deb_log" 2>&1 || deb_rc=$?
  case $deb_rc in
    0) deb_result="passed ($(sed -n 's/^PASS: //p' "$deb_log" | head -n 1))"; rm -f "$deb_log" ;;
    77) deb_rc=0; deb_result="skipped ($(sed -n 's/^.*SKIP: //p' "$deb_log" | head -n 1))"; rm -f "$deb_log" ;;
    *) cat "$deb_log"; deb_result="FAILED (exit $deb_rc; output above and in $deb_log)" ;;
  esac
fi
((swift_rc == 0)) || exit "$swift_rc"
((deb_rc == 0)) || exit "$deb_rc"
