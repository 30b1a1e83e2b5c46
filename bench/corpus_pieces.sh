# bench/corpus_pieces.sh, sourced by the INSERT benchmarks: their two
# workloads, so that every script measures the same ones.
#
# fixed_prompt prints the fixed 2 KiB request (ordinary request text, as
# applications log it).
fixed_prompt() {
	local prompt=""
	while [ ${#prompt} -lt 2048 ]; do
		prompt+="Could you help me plan a three-day trip to Lisbon in early spring? I would like to visit museums, try local food and take a day trip to Sintra. Please suggest an itinerary with approximate costs and tips for public transport. "
	done
	printf '%s' "${prompt:0:2048}"
}

# load_corpus_pieces DB CORPUS loads the benign prompts of CORPUS/benign/
# into table corpus_piece (id, prompt) of DB as 2 KiB pieces of their text
# (one after another, joined by line breaks) and prints how many; 0 when
# there is no corpus.  It also keeps each prompt whole, as one user message
# of a chat, in table corpus_message (id, prompt), ids from 1 in file
# order (see count_corpus_messages).  Uses psql with the caller's
# connection settings.
load_corpus_pieces() {
	local db=$1 corpus=$2 f
	if ! ls "$corpus"/benign/*.jsonl >/dev/null 2>&1; then
		echo 0
		return
	fi
	psql -qX -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE corpus_line (n bigserial, line text);
CREATE TABLE corpus_piece (id int PRIMARY KEY, prompt text);
-- stored inline and uncompressed: an INSERT ... SELECT from here then
-- hands the chat table its text as an application does (a bind parameter
-- or a literal), not a value compressed (or stored out of line) already,
-- which the chat table would store as it is and a scan would have to
-- decompress (or fetch)
ALTER TABLE corpus_piece ALTER COLUMN prompt SET STORAGE PLAIN;
SQL
	for f in "$corpus"/benign/*.jsonl; do
		psql -qX -d "$db" -v ON_ERROR_STOP=1 -c "\\copy corpus_line (line) FROM '$f' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')" >/dev/null
	done
	psql -qX -d "$db" -v ON_ERROR_STOP=1 -tA <<'SQL'
WITH t AS (SELECT string_agg(line::jsonb->>'text', E'\n' ORDER BY n) AS s FROM corpus_line)
INSERT INTO corpus_piece
SELECT row_number() OVER (ORDER BY k), p
  FROM (SELECT k, substr(s, 2048 * k + 1, 2048) AS p
		  FROM t, generate_series(0, length(s) / 2048 - 1) k) pieces
 WHERE octet_length(p) <= 6000;	-- (stored inline: it must fit a page)
CREATE TABLE corpus_message AS
SELECT row_number() OVER (ORDER BY n)::int AS id, line::jsonb->>'text' AS prompt FROM corpus_line;
ALTER TABLE corpus_message ADD PRIMARY KEY (id);
SELECT count(*) FROM corpus_piece;
SQL
}

# count_corpus_messages DB prints how many rows corpus_message holds.
count_corpus_messages() {
	psql -qX -d "$1" -tAc "SELECT count(*) FROM corpus_message"
}
