#!/usr/bin/env bash
# bench/bench_new_session.sh: what a new connection's first INSERT into a
# protected table costs, on a throwaway cluster with aiguard preloaded:
#   - unprotected table (the baseline, measured in the same run);
#   - protected, database with the rules as installed: the session scans
#     with the rule set the postmaster compiled at start (ag_preload.c);
#   - protected, database whose rules were edited: the session compiles
#     its own from aiguard.rules and aiguard.models, as every session does
#     without the preload.
# Each: ROUNDS new connections in turn (one psql each, \timing: the INSERT's
# time as the client sees it, connection set-up not included), median;
# and the backend's private dirty memory (/proc/PID/smaps_rollup) after it.
#
#   bench/bench_new_session.sh [rounds]
#
# Run as root (the server runs as postgres) after ./dev.sh start or test,
# which build and install the extension.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-15}
. bench/throwaway_cluster.sh
CLUSTER=/tmp/aiguard-session-cluster
start_throwaway_cluster "$CLUSTER" "${BENCH_PGPORT:-5521}" postgres
trap 'stop_throwaway_cluster "$CLUSTER"' EXIT
grep -o 'aiguard: compiled .*' "$CLUSTER/server.log" | head -1

for db in as_installed edited; do
	psql -qX -d postgres -c "CREATE DATABASE $db" >/dev/null
	psql -qX -d $db -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION aiguard;
CREATE TABLE chat_plain (id bigserial PRIMARY KEY, prompt text, response text);
CREATE TABLE chat (id bigserial PRIMARY KEY, prompt text, response text);
SELECT aiguard_protect('chat', prompt => 'prompt', response => 'response');
SQL
done
# a statement that changes nothing still counts as an edit
psql -qX -d edited -c "UPDATE aiguard.rules SET enabled = enabled WHERE false" >/dev/null

insert="INSERT INTO %s (prompt, response) VALUES ('Can you suggest a three-day itinerary for Lisbon, with one day trip?', 'Day 1: Alfama and the castle. Day 2: Belem. Day 3: Sintra.')"
work=$(mktemp -d)
trap 'rm -rf "$work"; stop_throwaway_cluster "$CLUSTER"' EXIT

# ROUNDS new connections, one INSERT each: prints the label, the median ms
# (also left in $work/median) and a held-open backend's private memory
measure() {
	local db=$1 table=$2 label=$3 pid kb
	: > "$work/times"
	for _ in $(seq "$ROUNDS"); do
		printf '\\timing on\n%s;\n' "$(printf "$insert" "$table")" |
			psql -qX -d "$db" -At | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' >> "$work/times"
	done
	# memory: a connection kept open after its first INSERT
	mkfifo "$work/in"
	psql -qX -d "$db" -At < "$work/in" > "$work/out" &
	exec 3> "$work/in"
	printf "$insert;\nSELECT pg_backend_pid();\n" "$table" >&3
	for _ in $(seq 100); do [ -s "$work/out" ] && break; sleep 0.05; done
	pid=$(head -1 "$work/out")
	kb=$(awk '/^Private_Dirty/ {print $2}' /proc/"$pid"/smaps_rollup)
	exec 3>&-
	wait
	rm -f "$work/in" "$work/out"
	sort -n "$work/times" | awk -v label="$label" -v kb="$kb" -v out="$work/median" '
		{ t[NR] = $1 } END { n = NR; m = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2;
		printf "%-44s median %7.2f ms  (min %6.2f, max %6.2f)  backend private memory %5.1f MiB\n",
			label, m, t[1], t[n], kb / 1024; print m > out }'
}
printf 'first INSERT of a new connection, %d connections each (one benign prompt and response)\n' "$ROUNDS"
measure as_installed chat_plain "unprotected table"; base=$(cat "$work/median")
measure as_installed chat "protected, rule set compiled at server start"; pre=$(cat "$work/median")
measure edited chat "protected, rule set compiled by the session"; own=$(cat "$work/median")
awk -v b="$base" -v p="$pre" -v o="$own" 'BEGIN {
	printf "scan cost of a first INSERT over the unprotected one: %.2f ms with the shared rule set, %.2f ms compiling its own (%.0fx)\n",
		p - b, o - b, (o - b) / (p - b > 0.01 ? p - b : 0.01) }'
