#!/usr/bin/env bash
# bench/bench_offcorpus.sh: false alarms of the jailbreak detectors on
# benign text unlike the corpus (code, markup, configuration, SQL) from
# files a Debian machine has: the half of tools/negatives/debian_code.sh's
# files that the model is never trained on ("check"), and packages' README
# and NEWS files (English prose, never trained on), up to 3 pieces of
# 2 KiB per file, each scanned as a prompt and as a tool output
# (bench/bench_offcorpus.c).
#
#   make bench/bench_offcorpus && bench/bench_offcorpus.sh [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-rules/jailbreak.model}
list=$(mktemp)
trap 'rm -f "$list"' EXIT
tools/negatives/debian_code.sh check > "$list"
# and English prose no training set draws on: packages' README, NEWS, FAQ
find /usr/share/doc -maxdepth 2 -type f \( -name 'README*' -o -name '*.txt' -o -name NEWS -o -name FAQ \) \
	! -name '*.gz' -size +1k 2>/dev/null | LC_ALL=C sort |
	awk '{a[NR] = $0} END {n = NR < 150 ? NR : 150; for (i = 0; i < n; i++) print "doc_text\t" a[int(i * NR / n) + 1]}' >> "$list"
echo "files per kind (held aside from training):"
cut -f1 "$list" | sort | uniq -c
bench/bench_offcorpus "$model" rules/*.rules < "$list"
