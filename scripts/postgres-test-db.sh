#!/usr/bin/env bash
# Starts a local PostgreSQL for the ledger tests and prints its URL (the only line on stdout).
# Installs the Debian package when missing, starts the first cluster, creates role and database
# meshgate_test. Safe to run again. Run as root. Use: export MESHGATE_TEST_POSTGRES_URL=$(scripts/postgres-test-db.sh)
set -euo pipefail
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "installing postgresql" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n 1)
if [[ -z "${version:-}" ]]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  pg_createcluster "$version" main >&2
  read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n 1)
fi
if [[ "$status" != online* ]]; then pg_ctlcluster "$version" "$cluster" start >&2; fi
for _ in $(seq 1 50); do
  runuser -u postgres -- pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.2
done
psql_admin() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt -p "$port" "$@"; }
if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'meshgate_test'")" != 1 ]]; then
  psql_admin -c "CREATE ROLE meshgate_test LOGIN PASSWORD 'meshgate_test'" >&2
fi
if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'meshgate_test'")" != 1 ]]; then
  psql_admin -c "CREATE DATABASE meshgate_test OWNER meshgate_test" >&2
fi
echo "postgres://meshgate_test:meshgate_test@127.0.0.1:${port}/meshgate_test?sslmode=disable"
