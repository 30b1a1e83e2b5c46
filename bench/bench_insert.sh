#!/usr/bin/env bash
# bench/bench_insert.sh: INSERT throughput of a chat table protected in
# detect mode, relative to the same table unprotected, measured in one run
# with pgbench (2 KiB benign prompts, 1 and 2 clients, runs alternated).
#
#   ./dev.sh start && bench/bench_insert.sh [seconds-per-run] [rounds]
#
# Uses the server that PGHOST/PGPORT point at (./dev.sh start's by default).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=${PGHOST:-/tmp} PGPORT=${PGPORT:-5499}
SECS=${1:-10}
ROUNDS=${2:-3}
DB=aiguard_bench
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
psql -qX -d $DB -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION aiguard;
CREATE TABLE chat_plain (id bigserial PRIMARY KEY, conv text, usr text, prompt text, response text,
                         created_at timestamptz DEFAULT now());
CREATE TABLE chat_protected (LIKE chat_plain INCLUDING ALL);
SELECT aiguard_protect('chat_protected', prompt => 'prompt', response => 'response',
                       conversation => 'conv', user_id => 'usr', created_at => 'created_at');
SQL

# a 2 KiB benign prompt: ordinary request text, as applications log it
prompt=""
while [ ${#prompt} -lt 2048 ]; do
	prompt+="Could you help me plan a three-day trip to Lisbon in early spring? I would like to visit museums, try local food and take a day trip to Sintra. Please suggest an itinerary with approximate costs and tips for public transport. "
done
prompt=${prompt:0:2048}
for t in plain protected; do
	printf "INSERT INTO chat_%s (conv, usr, prompt, response) VALUES ('c' || :client_id, 'u' || :client_id, '%s', 'Here is a suggested itinerary.');\n" "$t" "$prompt" > "$work/$t.sql"
done

run() {	# table clients -> tps
	"$PGBENCH" -n -f "$work/$1.sql" -c "$2" -j "$2" -T "$SECS" $DB 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "INSERT throughput, 2 KiB prompt rows, ${SECS}s runs, ${ROUNDS} rounds alternating (median tps)"
for clients in 1 2; do
	: > "$work/plain.tps"; : > "$work/protected.tps"
	for r in $(seq "$ROUNDS"); do
		run plain "$clients" >> "$work/plain.tps"
		run protected "$clients" >> "$work/protected.tps"
	done
	p=$(median < "$work/plain.tps"); q=$(median < "$work/protected.tps")
	awk -v c="$clients" -v p="$p" -v q="$q" 'BEGIN {printf "clients %d: unprotected %8.1f tps, detect mode %8.1f tps, ratio %.3f\n", c, p, q, q / p}'
done
psql -qX -d $DB -tAc "SELECT 'alerts raised during the run: ' || count(*) FROM aiguard.alerts"
