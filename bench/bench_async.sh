#!/usr/bin/env bash
# bench/bench_async.sh: bench_insert.sh for detect and async modes, on a
# throwaway cluster of its own with aiguard preloaded and the worker
# serving the benchmark database (same settings as ./dev.sh's cluster).
#
#   bench/bench_async.sh [seconds-per-run] [rounds]
#
# Run as root (the server runs as postgres) after ./dev.sh start or test,
# which build and install the extension.
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
CLUSTER=/tmp/aiguard-bench-cluster
export PGHOST=/tmp PGPORT=${BENCH_PGPORT:-5520}
as_postgres() { su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; }

as_postgres $PGBIN/pg_ctl -D "$CLUSTER" -m immediate stop >/dev/null 2>&1 || true
rm -rf "$CLUSTER"
mkdir -p "$CLUSTER" && chown postgres "$CLUSTER"
as_postgres $PGBIN/initdb -D "$CLUSTER" -E UTF8 --locale=C.UTF-8 -A trust >/dev/null
cat >> "$CLUSTER/postgresql.conf" <<CONF
port = $PGPORT
unix_socket_directories = '/tmp'
listen_addresses = ''
fsync = off
shared_preload_libraries = 'aiguard'
aiguard.database = 'aiguard_bench'
CONF
as_postgres $PGBIN/pg_ctl -D "$CLUSTER" -l "$CLUSTER/server.log" -w start >/dev/null
trap 'as_postgres $PGBIN/pg_ctl -D "$CLUSTER" -m fast stop >/dev/null 2>&1 || true' EXIT
psql -U postgres -d postgres -qc "CREATE ROLE \"$(id -un)\" SUPERUSER LOGIN" 2>/dev/null || true

MODES="detect async" PGBENCH=$PGBIN/pgbench bench/bench_insert.sh "$@"
