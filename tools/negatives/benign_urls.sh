#!/usr/bin/env bash
# tools/negatives/benign_urls.sh: benign URLs for the phishing URL model
# (tools/ag_train_url), taken from the documentation, licences, change logs
# and library sources of a Debian machine: links that real programs and
# manuals print, which the corpus's benign URLs (one 2016 crawl, never a
# bare host) do not cover.  Up to three URLs per host, picked by a hash of
# the URL; sites (registrable domains) split in two halves by a hash of
# the domain, so the "sanity" half (never trained on) holds only sites the
# "train" half has not.  Template and markup left-overs (%s, $bug, {x},
# &amp;) are left out.  Writes tools/negatives/benign_urls_train.txt and _sanity.txt; the
# files are committed, so training does not depend on this machine.
set -euo pipefail
cd "$(dirname "$0")"
find /usr/share/doc /usr/share/perl /usr/share/perl5 /usr/lib/python3 -type f \
	\( -name '*.html' -o -name 'README*' -o -name copyright -o -name '*.py' \
	   -o -name '*.pm' -o -name 'changelog*' -o -name '*.md' -o -name '*.txt' \) 2>/dev/null |
	LC_ALL=C sort | xargs grep -ohaE "https?://[A-Za-z0-9._~:/?#@!\$&'()*+,;=%-]+" 2>/dev/null |
	sed -E "s/[.,;:)'\"]+\$//" | LC_ALL=C sort -u |
	awk '
		BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
		function hash(s,   h, i) { h = 0; for (i = 1; i <= length(s); i++) h = (h * 31 + ord[substr(s, i, 1)]) % 1000003; return h }
		# a site: the registrable domain, as tools/ag_train_url.c folds them
		function site(host,   l, k) {
			k = split(host, l, ".")
			if (k >= 3 && length(l[k]) == 2 && l[k - 1] ~ /^(co|com|ac|or|ne|go|gov|edu|net|org|gob|nic)$/)
				return l[k - 2] "." l[k - 1] "." l[k]
			return l[k - 1] "." l[k]
		}
		{
			# template and markup left-overs are no URLs: %s, $var, {x}, &amp;
			if ($0 ~ /[%][a-z]|[$]|[{}]|&amp;/) next
			split($0, p, "/"); host = tolower(p[3]); sub(/:.*/, "", host)
			if (host !~ /[a-z]\.[a-z]/) next
			key = hash($0) "\t" $0
			n[host]++; url[host, n[host]] = key
		}
		END {
			for (h in n) {
				file = (hash(site(h)) % 2) ? "benign_urls_sanity.txt" : "benign_urls_train.txt"
				# the three URLs of the host with the smallest hashes
				for (k = 1; k <= 3 && k <= n[h]; k++) {
					best = 0
					for (i = 1; i <= n[h]; i++)
						if (!(h SUBSEP i in taken) && (best == 0 || url[h, i] + 0 < url[h, best] + 0)) best = i
					taken[h, best] = 1
					s = url[h, best]; sub(/^[0-9]+\t/, "", s)
					print s > file
				}
			}
		}'
for f in benign_urls_train.txt benign_urls_sanity.txt; do LC_ALL=C sort -o "$f" "$f"; done
wc -l benign_urls_train.txt benign_urls_sanity.txt
