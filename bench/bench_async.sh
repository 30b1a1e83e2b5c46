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
. bench/throwaway_cluster.sh
CLUSTER=/tmp/aiguard-bench-cluster
start_throwaway_cluster "$CLUSTER" "${BENCH_PGPORT:-5520}" aiguard_bench
trap 'stop_throwaway_cluster "$CLUSTER"' EXIT

MODES="detect async" PGBENCH=$PGBIN/pgbench bench/bench_insert.sh "$@"
