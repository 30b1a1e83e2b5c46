#!/usr/bin/env bash
# tools/negatives/debian_code.sh train|check: lists benign code, markup,
# configuration and SQL files of a Debian machine with this project's
# packages, as "KIND<TAB>PATH" lines, for the jailbreak model.
#
# The corpus' benign prompts are English requests; a model trained on them
# alone took a page of Perl, HTML or XML for an attack (37%, 57% and 81% of
# such pieces flagged), while users paste code into prompts and tools
# return markup every day.  Files are split in two by a hash of their path:
# "train" lists one half (tools/ag_train --code-negatives, make
# train-model), "check" the other, which is never trained on
# (bench/bench_offcorpus.sh).  Up to 150 files per kind and half, picked
# evenly from the sorted list, so a machine with the same package versions
# gives the same lists.  Kinds whose files are missing are left out.
set -eu	# no pipefail: a kind whose directory is missing gives no lines, not an error
half=${1:-}
case $half in
	train) want=0 ;;
	check) want=1 ;;
	*) echo "usage: $0 train|check" >&2; exit 2 ;;
esac

pick() {	# kind, then paths on stdin -> up to 150 "KIND<TAB>PATH" of this half
	LC_ALL=C sort | awk -v kind="$1" -v want="$want" '
		BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
		{
			h = 0	# a hash of the path decides its half
			for (i = 1; i <= length($0); i++) h = (h * 31 + ord[substr($0, i, 1)]) % 1000003
			if (h % 2 == want) a[++m] = $0
		}
		END { n = m < 150 ? m : 150; for (i = 0; i < n; i++) print kind "\t" a[int(i * m / n) + 1] }'
}
find /usr/include -name '*.h' -size +1k 2>/dev/null | pick c_header
find /usr/share/perl /usr/share/perl5 -name '*.pm' -size +1k 2>/dev/null | pick perl
find /usr/lib/python3* -name '*.py' -size +1k 2>/dev/null | pick python
find /usr/share/postgresql -name '*.sql' -size +1k 2>/dev/null | pick sql
find /usr/bin /usr/sbin /usr/lib/postgresql -type f -size +1k 2>/dev/null |
	while read -r f; do
		if head -c 32 "$f" 2>/dev/null | grep -qaE '^#! ?/(usr/)?bin/(env )?(ba|da)?sh'; then echo "$f"; fi
	done | pick shell
find /usr/lib/postgresql /usr/share -name '*.mk' -size +1k 2>/dev/null | pick makefile
find /etc -name '*.conf' -size +1k -readable 2>/dev/null | pick config
find /usr/share/doc -name '*.html' -size +1k 2>/dev/null | pick html
find /usr/share -name '*.json' -size +1k 2>/dev/null | pick json
find /usr/share -name '*.xml' -size +1k 2>/dev/null | pick xml
