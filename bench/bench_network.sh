#!/usr/bin/env bash
# bench/bench_network.sh: threat-list and URL figures measured through the
# SQL path the protection trigger uses (indicator loaders, GiST containment
# for addresses, URL extraction + list lookup + lexical score in
# aiguard_scan), on ../shared/corpus.
#
#   ./dev.sh start && bench/bench_network.sh [corpus-dir]
#
# Prints: Tor recall and not_tor false positives with the dev Tor list
# loaded; phishing recall and benign-URL false positives with the dev
# phishing lists loaded; the same with no list (lexical score alone).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=${PGHOST:-/tmp} PGPORT=${PGPORT:-5499}
CORPUS=$(cd "${1:-../shared/corpus}" && pwd)
DB=aiguard_bench_network

psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
# JSONL read as single-column CSV with quote and delimiter bytes that never occur
load() {	# table file
	psql -qX -d $DB -c "\\copy $1 (line) FROM '$2' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
}
psql -qX -d $DB -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION aiguard;
CREATE TABLE raw_ips (line text, file text);
CREATE TABLE raw_urls (line text, file text);
SQL
for f in "$CORPUS"/ips/*.jsonl; do
	load raw_ips "$f"; psql -qX -d $DB -c "UPDATE raw_ips SET file = '$(basename "$f" .jsonl)' WHERE file IS NULL"
done
for f in "$CORPUS"/urls/*.jsonl; do
	load raw_urls "$f"; psql -qX -d $DB -c "UPDATE raw_urls SET file = '$(basename "$f" .jsonl)' WHERE file IS NULL"
done

psql -qX -d $DB -v ON_ERROR_STOP=1 <<'SQL'
\pset footer off
CREATE TABLE ips AS SELECT file, line::jsonb->>'text' AS ip, line::jsonb->>'label' AS label FROM raw_ips;
CREATE TABLE urls AS SELECT file, line::jsonb->>'text' AS url, line::jsonb->>'label' AS label FROM raw_urls;

\echo '== Tor exits: dev list loaded with aiguard_load_tor_exits(), looked up by containment'
SELECT aiguard_load_tor_exits(string_agg(ip, E'\n'), 'bench-tor') AS tor_entries_loaded
  FROM ips WHERE label = 'tor_exit' \gset
SELECT label, count(*) AS addresses,
       round(avg((EXISTS (SELECT 1 FROM aiguard.indicators i
                           WHERE i.net >>= aiguard_parse_address(ips.ip)
                             AND i.category = 'tor_exit'))::int), 4) AS flagged
  FROM ips GROUP BY label ORDER BY label;

\echo '== Phishing URLs, no list loaded: the lexical score alone (aiguard_scan, role prompt)'
CREATE TABLE lexical AS
SELECT u.file, u.label,
       EXISTS (SELECT 1 FROM aiguard_scan('Please check ' || u.url || ' today.')
                WHERE alert_type LIKE 'phishing%') AS flagged
  FROM urls u;
SELECT file, label, count(*) AS urls, round(avg(flagged::int), 4) AS flagged
  FROM lexical GROUP BY file, label ORDER BY file;

\echo '== Phishing URLs, dev lists loaded as url indicators (aiguard_scan, role prompt)'
SELECT aiguard_load_indicators('url', 'phishing', 'bench-' || file, string_agg(url, E'\n')) AS loaded
  FROM urls WHERE label <> 'benign' GROUP BY file;
CREATE TABLE listed AS
SELECT u.file, u.label,
       EXISTS (SELECT 1 FROM aiguard_scan('Please check ' || u.url || ' today.')
                WHERE rule_id LIKE 'url.list%') AS by_list,
       EXISTS (SELECT 1 FROM aiguard_scan('Please check ' || u.url || ' today.')
                WHERE alert_type LIKE 'phishing%') AS flagged
  FROM urls u;
SELECT file, label, count(*) AS urls, round(avg(by_list::int), 4) AS matched_by_list,
       round(avg(flagged::int), 4) AS flagged_list_or_lexical
  FROM listed GROUP BY file, label ORDER BY file;
SQL
psql -qX -d postgres -c "DROP DATABASE $DB" >/dev/null
