#!/usr/bin/env bash
# bench/bench_insert_instr.sh: what detect-mode protection costs per INSERT
# of a 2 KiB prompt row, counted in CPU instructions (valgrind's callgrind)
# instead of timed.  This machine's timings move by a third from one run to
# the next, about as much as one round of speed work changes; instruction
# counts do not move at all, so two builds can be compared in one run.
#
#   bench/bench_insert_instr.sh                 the installed aiguard
#   bench/bench_insert_instr.sh A.so B.so ...   detect mode with each build
#                                               (installed in turn, then the
#                                               original put back)
#   WORKLOADS="corpus conversation" bench/...   only those workloads
#   PROFILE_DIR=/tmp/prof bench/...              keep callgrind's profiles
#                                               there (callgrind_annotate)
#   EXTRA_CONF="default_toast_compression = lz4" bench/...
#                                               a setting for the cluster
#   PRELOAD=0 bench/...                         without shared_preload_libraries
#
# It makes a throw-away cluster (as the postgres user when run as root),
# a table protected in detect mode and the same table unprotected, and the
# same two workloads as bench_insert.sh: one fixed 2 KiB request, and 2 KiB
# pieces of the corpus's benign prompts (CORPUS=..., a different one per
# row).  postgres then runs in single-user mode under callgrind, once with
# 50 INSERTs and once with 550; the difference over the 500 extra rows is
# the cost of one INSERT, without start-up and without compiling the rule
# set (once per backend).  The cluster preloads aiguard (as one running the
# worker does), so the rule set is compiled and JIT-compiled whole before
# the first INSERT.  Without the preload (PRELOAD=0) a backend compiles the
# set at its first scan and JIT-compiles each rule the first time a text
# wakes it, and the rows after the first 50 wake rules the first 50 did not:
# on the corpus workload those late JIT compilations (about 0.9M
# instructions each) added some 32k to the figure per INSERT, a start-up
# cost that a long-lived backend does not pay per row.  A third workload is
# a gateway's log (LiteLLM's shape): each row one request of a ten-turn
# chat, its messages jsonb the
# conversation so far (turn k: k user messages, ten consecutive benign
# prompts of the corpus), mapped by jsonpath, so a protected row has k
# messages to scan.  It counts the whole backend: executor, heap,
# index, WAL, the trigger.  Time also goes where no instruction is counted
# (cache misses, the disk, the commit), so the ratio of instructions is not
# the ratio of throughputs that bench_insert.sh measures: it tells where
# the CPU work goes and whether a change removed some.
set -euo pipefail
shopt -s inherit_errexit
builds=()
for so in "$@"; do
	[ -f "$so" ] || { echo "bench_insert_instr.sh: no file $so" >&2; exit 1; }
	builds+=("$(realpath "$so")")
done
cd "$(dirname "$0")/.."
. bench/corpus_pieces.sh
CORPUS=${CORPUS:-$(pwd)/../shared/corpus}
PG_CONFIG=${PG_CONFIG:-pg_config}
PGBIN=$($PG_CONFIG --bindir)
LIBDIR=$($PG_CONFIG --pkglibdir)
export PATH=$PGBIN:$PATH
PORT=${PORT:-5496}
command -v valgrind >/dev/null || { echo "bench_insert_instr.sh: valgrind is needed" >&2; exit 1; }

work=$(mktemp -d /tmp/aiguard-instr.XXXXXX)
as_postgres() {
	if [ "$(id -u)" != 0 ]; then "$@"; else su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; fi
}
cleanup() {
	as_postgres "$PGBIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
	if [ -f "$work/original.so" ]; then
		install -m 755 "$work/original.so" "$LIBDIR/aiguard.so" ||
			echo "bench_insert_instr.sh: could not put back $LIBDIR/aiguard.so (a copy is in $work)" >&2
	fi
	[ -f "$work/original.so" ] && ! cmp -s "$work/original.so" "$LIBDIR/aiguard.so" || rm -rf "$work"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres "$work"
i=0
for so in "${builds[@]}"; do i=$((i + 1)); cp "$so" "$work/build$i.so"; done
[ ${#builds[@]} -gt 0 ] && cp "$LIBDIR/aiguard.so" "$work/original.so"

as_postgres "$PGBIN/initdb" -D "$work/data" -U postgres -E UTF8 --locale=C.UTF-8 -A trust >/dev/null
preload="shared_preload_libraries = 'aiguard'"
[ "${PRELOAD:-1}" = 0 ] && preload=
printf "port = %s\nunix_socket_directories = '%s'\nlisten_addresses = ''\nfsync = off\n%s\n%s\n" \
	"$PORT" "$work" "$preload" "${EXTRA_CONF:-}" | as_postgres tee -a "$work/data/postgresql.conf" >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
export PGHOST=$work PGPORT=$PORT PGUSER=postgres
psql -qX -d postgres -c "CREATE DATABASE bench" >/dev/null
psql -qX -d bench -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION aiguard;
CREATE TABLE chat_plain (id bigserial PRIMARY KEY, conv text, usr text, prompt text, response text,
                         created_at timestamptz DEFAULT now());
CREATE INDEX ON chat_plain (created_at);
CREATE TABLE chat_detect (LIKE chat_plain INCLUDING ALL);
SELECT aiguard_protect('chat_detect', prompt => 'prompt', response => 'response',
                       conversation => 'conv', user_id => 'usr', created_at => 'created_at',
                       mode => 'detect');
CREATE TABLE gateway_plain (id bigserial PRIMARY KEY, session_id text, messages jsonb,
                            created_at timestamptz DEFAULT now());
CREATE TABLE gateway_detect (LIKE gateway_plain INCLUDING ALL);
SELECT aiguard_protect('gateway_detect', prompt => 'messages:$[*] ? (@.role == "user").content',
                       conversation => 'session_id', created_at => 'created_at', mode => 'detect');
SQL
npieces=$(load_corpus_pieces bench "$CORPUS")
nmessages=0
[ "$npieces" -gt 0 ] && nmessages=$(count_corpus_messages bench)
as_postgres "$PGBIN/pg_ctl" -D "$work/data" -w stop >/dev/null

prompt=$(fixed_prompt)

statements() {	# workload table rows -> one INSERT per line, on an empty table
	if [ "$1" = conversation ]; then
		echo "TRUNCATE gateway_$2, aiguard.alerts;"
		for k in $(seq "$3"); do
			# request k: turn t of chat c, holding the chat's messages 1..t
			local c=$(( (k - 1) / 10 )) t=$(( (k - 1) % 10 + 1 ))
			local base=$(( (c * 370) % (nmessages - 10) ))
			echo "INSERT INTO gateway_$2 (session_id, messages) SELECT 'chat-$c', jsonb_agg(jsonb_build_object('role', 'user', 'content', prompt) ORDER BY id) FROM corpus_message WHERE id BETWEEN $((base + 1)) AND $((base + t));"
		done
		return
	fi
	echo "TRUNCATE chat_$2, aiguard.alerts;"
	for k in $(seq "$3"); do
		if [ "$1" = fixed ]; then
			echo "INSERT INTO chat_$2 (conv, usr, prompt, response) VALUES ('c1', 'u1', '$prompt', 'Here is a suggested itinerary.');"
		else
			echo "INSERT INTO chat_$2 (conv, usr, prompt, response) SELECT 'c1', 'u1', prompt, 'Here is a suggested itinerary.' FROM corpus_piece WHERE id = $(( (k - 1) % npieces + 1 ));"
		fi
	done
}
count() {	# workload table rows -> instructions of a single-user run
	statements "$1" "$2" "$3" > "$work/run.sql"
	local out=/dev/null
	if [ -n "${PROFILE_DIR:-}" ]; then
		out=$PROFILE_DIR/callgrind.$1.$2.$3
		touch "$out" && chmod 666 "$out"
	fi
	as_postgres valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$PGBIN/postgres" --single -D "$work/data" bench < "$work/run.sql" > "$work/run.out" 2>&1
	if grep -q "ERROR" "$work/run.out"; then
		grep -m 3 ERROR "$work/run.out" >&2
		exit 1
	fi
	local n
	n=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/run.out")
	if [ -z "$n" ]; then
		echo "bench_insert_instr.sh: no instruction count from valgrind:" >&2
		tail -5 "$work/run.out" >&2
		exit 1
	fi
	echo "$n"
}
per_insert() {	# workload table -> instructions per INSERT
	local a b
	a=$(count "$1" "$2" 50)
	b=$(count "$1" "$2" 550)
	echo $(( (b - a) / 500 ))
}

workloads="fixed"
[ "$npieces" -gt 0 ] && workloads="fixed corpus conversation"
workloads=${WORKLOADS:-$workloads}	# e.g. WORKLOADS=conversation
echo "Instructions per INSERT of a 2 KiB prompt row (callgrind, postgres --single,"
echo "500 rows after 50; the trigger's share is detect minus unprotected)"
for w in $workloads; do
	case $w in
		fixed) echo "prompts: one fixed 2 KiB request" ;;
		corpus) echo "prompts: $npieces different 2 KiB pieces of the corpus's benign prompts" ;;
		conversation) echo "a gateway's log: ten-turn chats, each request with the chat so far (turn k: k benign prompts of the corpus)" ;;
	esac
	plain=$(per_insert "$w" plain)
	printf "  unprotected %10d\n" "$plain"
	if [ ${#builds[@]} -eq 0 ]; then
		detect=$(per_insert "$w" detect)
		awk -v p="$plain" -v d="$detect" 'BEGIN {printf "  detect mode %10d   trigger %9d   unprotected / detect %.3f\n", d, d - p, p / d}'
	fi
	i=0
	for so in "${builds[@]}"; do
		i=$((i + 1))
		install -m 755 "$work/build$i.so" "$LIBDIR/aiguard.so"
		detect=$(per_insert "$w" detect)
		awk -v p="$plain" -v d="$detect" -v n="$so" 'BEGIN {printf "  detect mode %10d   trigger %9d   unprotected / detect %.3f   (%s)\n", d, d - p, p / d, n}'
	done
done
