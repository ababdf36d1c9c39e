#!/usr/bin/env bash
# Starts a local PostgreSQL for the ledger tests and prints its URL (the only line on stdout).
# Installs the Debian package when missing, starts the first cluster, creates role and database
# meshgate_test. Safe to run again. Run as root. Use: export MESHGATE_TEST_POSTGRES_URL=$(scripts/postgres-test-db.sh)
# scripts/test.sh also uses:
#   postgres-test-db.sh --online                  the ports of the clusters running now, one a line
#                                                 (installs nothing; nothing when PostgreSQL is absent)
#   postgres-test-db.sh --stop PORT [--dry-run]   stops the cluster on PORT if it is running
#                                                 (--dry-run: prints the pg_ctlcluster command instead)
set -euo pipefail
case "${1:-}" in
  --online)
    command -v pg_lsclusters >/dev/null 2>&1 || exit 0
    pg_lsclusters --no-header | awk '$4 ~ /^online/ {print $3}'
    exit 0 ;;
  --stop)
    port=${2:?usage: postgres-test-db.sh --stop PORT [--dry-run]}
    version="" cluster="" status=""
    read -r version cluster status < <(pg_lsclusters --no-header | awk -v p="$port" '$3 == p {print $1, $2, $4; exit}') || true
    [[ -n $version ]] || { echo "postgres-test-db.sh: no PostgreSQL cluster on port $port" >&2; exit 1; }
    [[ $status == online* ]] || exit 0
    if [[ "${3:-}" == --dry-run ]]; then echo "pg_ctlcluster $version $cluster stop"; exit 0; fi
    echo "stopping PostgreSQL $version/$cluster (port $port)" >&2
    pg_ctlcluster "$version" "$cluster" stop >&2
    exit 0 ;;
esac
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "installing postgresql" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
# read fails on empty input (no cluster yet): `|| true` keeps set -e from ending the script there.
version=""
read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n 1) || true
if [[ -z "${version:-}" ]]; then
  version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
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
