#!/usr/bin/env bash
# bench/bench_cache.sh: the scanning core's cache misses with its data out of
# cache, as on the INSERT path (bench/bench_cache.c: each benign 2 KiB piece
# scanned after 4 MiB of other reads), in valgrind's simulated caches: a
# 32 KiB first level and a 512 KiB last level (an EPYC core's L2), 64-byte
# lines.  The counts do not move from run to run, so two builds compare in
# one line each, where the timings of `make bench-speed` (its "caches cold"
# rows) move by a quarter.
#
#   make bench/bench_cache && bench/bench_cache.sh [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-rules/jailbreak.model}
CORPUS=${CORPUS:-$(pwd)/../shared/corpus}
command -v valgrind >/dev/null || { echo "bench_cache.sh: valgrind is needed" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
printf '%-9s %8s %16s %18s %18s %18s\n' role pieces "instructions" "D1 read misses" "LL read misses" "LL code misses"
for role in prompt response; do
	pieces=$(valgrind --tool=callgrind --cache-sim=yes --D1=32768,8,64 --LL=524288,8,64 \
		--toggle-collect=BenchCacheScan --callgrind-out-file="$out" \
		bench/bench_cache "$CORPUS" "$role" "$model" rules/*.rules 2>/dev/null | awk '{print $1}')
	# the events line names the columns of the totals line
	awk -v role="$role" -v n="$pieces" '
		/^events:/ { for (i = 2; i <= NF; i++) col[$i] = i - 1 }
		/^(totals|summary):/ { for (i = 2; i <= NF; i++) v[i - 1] = $i }
		END { printf "%-9s %8d %14.1fk %18.1f %18.1f %18.1f   (per piece)\n", role, n,
			  v[col["Ir"]] / n / 1000, v[col["D1mr"]] / n, v[col["DLmr"]] / n, v[col["ILmr"]] / n }' "$out"
done
