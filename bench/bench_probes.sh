#!/usr/bin/env bash
# bench/bench_probes.sh: the jailbreak probes of bench/probes, each line
# scanned as a prompt with the shipped model and rules; prints how many
# lines of each file raise an alert (attacks: detected; benign: false
# alarms); files named tool_*.txt hold tool output (fetched pages, emails,
# documents), scanned with role tool; unicode_*.txt hold text disguised
# with deceptive Unicode and its look-alikes (alerts of any type count, a
# jailbreak finding on a benign line too).  A backslash-n in a line stands for
# a line break (--newlines: a multi-line document is written on one line;
# tools/ag_train reads the sets it trains on the same way).  VERBOSE=1
# lists the lines too.  urls_*.txt hold URLs, one a line, scored by the
# lexical phishing score (bench_quality --url-lines).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s tools/ag_scan bench/bench_quality
for f in bench/probes/*.txt; do
	case $(basename "$f") in urls_*) continue ;; esac
	role=prompt
	case $(basename "$f") in tool_*) role=tool ;; esac
	out=$(tools/ag_scan --lines --newlines --role "$role" rules/jailbreak.model rules/*.rules < "$f" 2>/dev/null)
	total=$(printf '%s\n' "$out" | wc -l)
	# (tool output: lines with an injection finding; its e-mail addresses
	# and phone numbers raise sensitive_data_exposure, which is no false alarm)
	if [ "$role" = tool ]; then
		hits=$(printf '%s\n' "$out" | awk -F'\t' '$2 ~ /(^|,)(jb|recon|suffix|model)\./' | wc -l)
	else
		hits=$(printf '%s\n' "$out" | awk -F'\t' '$1 > 0' | wc -l)
	fi
	rules=$(printf '%s\n' "$out" | awk -F'\t' '$2 ~ /(^|,)(jb|recon)\./' | wc -l)
	printf '%-28s %4d of %4d lines raise an alert (%d by a rule)\n' "$(basename "$f")" "$hits" "$total" "$rules"
	if [ "${VERBOSE:-0}" = 1 ]; then printf '%s\n' "$out" | sed 's/^/    /'; fi
done
# URL probes: the lexical phishing score (no list) of each URL
for f in bench/probes/urls_*.txt; do
	[ -e "$f" ] || continue
	printf '%-28s %s\n' "$(basename "$f")" "$(bench/bench_quality --url-lines "$f")"
done
