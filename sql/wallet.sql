-- wallet: recurring identical requests and request/token volume far above a
-- resource's own baseline, over time windows of each protected table.
-- Timestamps are relative to now(), well inside their windows.
TRUNCATE aiguard.alerts;
SET aiguard.wallet_window = '10min';
SET aiguard.wallet_threshold = 100;

-- requests are counted by their key: white space of any kind trimmed and
-- collapsed, lower case; a blank request has an empty key (and is not counted)
SELECT aiguard.request_key(E'  Write a 5000\u00a0WORD essay\u2003 about\ttokens.\n') AS key,
	   aiguard.request_key(E' \t\n\u3000') = '' AS blank;

CREATE TABLE w_chat (id bigserial PRIMARY KEY, at timestamptz NOT NULL, model text,
					 user_name text, ip text, prompt text, response text);
-- protecting a table with created_at indexes that column (small table)
SELECT aiguard_protect('w_chat', prompt => 'prompt', response => 'response', created_at => 'at',
					   resource => 'model', user_id => 'user_name', client_ip => 'ip');
SELECT indexdef FROM pg_indexes WHERE tablename = 'w_chat' ORDER BY indexname;
-- an existing index on the column is enough: none added, nothing said
CREATE TABLE w_own_index (id int PRIMARY KEY, at timestamptz, prompt text);
CREATE INDEX w_own_index_at ON w_own_index (at);
SELECT aiguard_protect('w_own_index', prompt => 'prompt', created_at => 'at');
SELECT indexname FROM pg_indexes WHERE tablename = 'w_own_index' ORDER BY indexname;
SELECT aiguard_unprotect('w_own_index');
-- so is unprotecting: indexes stay
SELECT aiguard_unprotect('w_chat');
SELECT indexname FROM pg_indexes WHERE tablename = 'w_chat' ORDER BY indexname;
SELECT aiguard_protect('w_chat', prompt => 'prompt', response => 'response', created_at => 'at',
					   resource => 'model', user_id => 'user_name', client_ip => 'ip');

-- 500 identical prompts within one minute, with case and white space
-- variants, from 5 users and 7 addresses: one alert
INSERT INTO w_chat (at, model, user_name, ip, prompt, response)
SELECT now() - interval '3 min' + g * interval '100 ms', 'gpt-4o', 'user' || g % 5, '198.51.100.' || g % 7,
	   CASE g % 3 WHEN 0 THEN 'Write a 5000 word essay about tokens.'
				  WHEN 1 THEN '  write a 5000 WORD essay   about tokens. '
				  ELSE E'Write a 5000 word\tessay about\ntokens.' END, 'ok'
  FROM generate_series(1, 500) g;
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT alert_type, severity, tactics, action, occurrences, round(confidence::numeric, 2) AS confidence,
	   rule_ids, source_table, resource, source_key
  FROM aiguard.alerts ORDER BY alert_id;
SELECT details->'count' AS count, details->'distinct_users' AS users, details->'distinct_ips' AS ips,
	   details->'threshold' AS threshold, details->'window_seconds' AS window,
	   length(details->>'request_hash') AS hash_length,
	   (details->>'first_seen')::timestamptz < (details->>'last_seen')::timestamptz AS ordered,
	   (details->>'last_seen')::timestamptz - (details->>'first_seen')::timestamptz AS span,
	   details::text ~* 'essay' AS has_prompt_text
  FROM aiguard.alerts;

-- running again with nothing new changes nothing
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT count(*), sum(occurrences) FROM aiguard.alerts;

-- 100 more of the same: the same alert, continued
INSERT INTO w_chat (at, model, user_name, ip, prompt, response)
SELECT now() - interval '30 s' + g * interval '10 ms', 'gpt-4o', 'user9', '203.0.113.9',
	   'WRITE A 5000 WORD ESSAY ABOUT TOKENS.', 'ok'
  FROM generate_series(1, 100) g;
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT alert_type, occurrences, last_seen_at > detected_at AS seen_again,
	   details->'count' AS count, details->'peak_count' AS peak, details->'distinct_users' AS users
  FROM aiguard.alerts ORDER BY alert_id;

-- the same request to another resource is another alert; below the
-- threshold (or other requests) nothing
INSERT INTO w_chat (at, model, prompt)
SELECT now() - interval '2 min', 'gpt-4o-mini', 'Write a 5000 word essay about tokens.' FROM generate_series(1, 120);
INSERT INTO w_chat (at, model, prompt)
SELECT now() - interval '2 min', 'gpt-4o-mini', 'summarise this' FROM generate_series(1, 99);
INSERT INTO w_chat (at, model, prompt)
SELECT now() - interval '2 min', NULL, 'no model recorded' FROM generate_series(1, 150);
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT alert_type, resource, details->'count' AS count FROM aiguard.alerts
 WHERE alert_type = 'wallet_attack_duplicates' ORDER BY alert_id;
-- the request hash is the request's, whatever the resource
SELECT count(DISTINCT details->>'request_hash') FROM aiguard.alerts WHERE details->>'count' IN ('120', '600');
DROP TABLE w_chat, w_own_index;
TRUNCATE aiguard.alerts;

-- 500 distinct prompts in one minute: no duplicates alert
CREATE TABLE w_distinct (id bigserial PRIMARY KEY, at timestamptz, model text, prompt text);
SELECT aiguard_protect('w_distinct', prompt => 'prompt', created_at => 'at', resource => 'model');
INSERT INTO w_distinct (at, model, prompt)
SELECT now() - interval '1 min' + g * interval '100 ms', 'gpt-4o', 'question number ' || g
  FROM generate_series(1, 500) g;
SELECT aiguard_detect_wallet_attacks() AS raised;

-- the same 500 identical prompts spread over a day: none in a 10 minute window...
CREATE TABLE w_spread (id bigserial PRIMARY KEY, at timestamptz, model text, prompt text);
SELECT aiguard_protect('w_spread', prompt => 'prompt', created_at => 'at', resource => 'model');
INSERT INTO w_spread (at, model, prompt)
SELECT now() - g * interval '172 s', 'gpt-4o', 'What is the capital of France?'
  FROM generate_series(1, 500) g;
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT count(*) FROM aiguard.alerts;
-- ...but in longer windows, yes; the settings are the defaults
SET aiguard.wallet_window = '2d';
SET aiguard.wallet_threshold = 501;
SELECT aiguard_detect_wallet_attacks() AS raised;
SET aiguard.wallet_threshold = 450;
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT alert_type, source_table, details->'count' AS count, details->'window_seconds' AS window, details->'threshold' AS threshold
  FROM aiguard.alerts;
RESET aiguard.wallet_window;
RESET aiguard.wallet_threshold;
-- the same attack seen through a one-day window is the same alert, and
-- nothing new happened
SELECT aiguard_detect_wallet_attacks("window" => '1 day', threshold => 400) AS raised;
SELECT count(*), sum(occurrences) FROM aiguard.alerts;
DROP TABLE w_distinct, w_spread;
TRUNCATE aiguard.alerts;

-- jsonpath mappings: OpenAI-style message arrays (the prompt is the user's
-- messages; the system prompt does not make requests identical)
CREATE TABLE w_json (id bigserial PRIMARY KEY, created timestamp, model text, messages jsonb);
SELECT aiguard_protect('w_json', prompt => 'messages:$[*] ? (@.role == "user").content',
					   created_at => 'created', resource => 'model');
INSERT INTO w_json (created, model, messages)
SELECT (now() - interval '2 min')::timestamp, 'gpt-4o',
	   jsonb_build_array(jsonb_build_object('role', 'system', 'content', 'You are bot #' || g),
						 jsonb_build_object('role', 'user', 'content', CASE WHEN g % 2 = 0 THEN 'Tell me a joke' ELSE 'tell me a JOKE ' END))
  FROM generate_series(1, 150) g;
-- messages without a user turn are not requests
INSERT INTO w_json (created, model, messages)
SELECT (now() - interval '2 min')::timestamp, 'gpt-4o', '[{"role": "system", "content": "hello"}]'
  FROM generate_series(1, 150) g;
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT alert_type, source_table, resource, details->'count' AS count FROM aiguard.alerts;

-- one message per row (content + role): only the user's messages count
CREATE TABLE w_messages (id bigserial PRIMARY KEY, "Created At" timestamptz, role text, body text);
SELECT aiguard_protect('w_messages', content => 'body', role_column => 'role', created_at => 'Created At');
INSERT INTO w_messages ("Created At", role, body)
SELECT now() - interval '1 min', r, CASE r WHEN 'user' THEN 'ping' ELSE 'pong' END
  FROM generate_series(1, 110), unnest(ARRAY['user', 'assistant']) r;
INSERT INTO w_messages ("Created At", role, body)
SELECT now() - interval '1 min', 'assistant', 'pong pong' FROM generate_series(1, 300);
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT alert_type, source_table, resource, details->'count' AS count FROM aiguard.alerts ORDER BY alert_id;
DROP TABLE w_json, w_messages;
TRUNCATE aiguard.alerts;

-- volume: 10 distinct requests of 50 tokens in each of the 24 windows
-- before the current one, then a 20x spike in the current window
CREATE TABLE w_volume (id bigserial PRIMARY KEY, at timestamptz, model text, user_name text, prompt text, usage jsonb);
SELECT aiguard_protect('w_volume', prompt => 'prompt', created_at => 'at', resource => 'model',
					   user_id => 'user_name', tokens => 'usage:$.total_tokens');
INSERT INTO w_volume (at, model, user_name, prompt, usage)
SELECT now() - w * interval '10 min' - interval '5 min' + i * interval '10 s', m, 'steady',
	   format('question %s.%s', w, i), '{"total_tokens": 50}'
  FROM generate_series(1, 24) w, generate_series(1, 10) i, unnest(ARRAY['gpt-4o', 'claude']) m;
-- the current window, as usual
INSERT INTO w_volume (at, model, user_name, prompt, usage)
SELECT now() - interval '5 min' + i * interval '10 s', m, 'steady', format('now %s', i), '{"total_tokens": 50}'
  FROM generate_series(1, 10) i, unnest(ARRAY['gpt-4o', 'claude']) m;
SELECT aiguard_detect_wallet_attacks() AS raised;
-- 200 requests to gpt-4o in the current window
INSERT INTO w_volume (at, model, user_name, prompt, usage)
SELECT now() - interval '2 min' + i * interval '100 ms', 'gpt-4o', 'spender', format('spike %s', i), '{"total_tokens": 50}'
  FROM generate_series(1, 190) i;
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT alert_type, severity, round(confidence::numeric, 2) AS confidence, rule_ids, source_table, resource
  FROM aiguard.alerts ORDER BY alert_id;
SELECT details->'count' AS count, details->'tokens' AS tokens, details->'baseline_median' AS median,
	   details->'baseline_mad' AS mad, details->'z_score' AS z, details->'baseline_windows' AS windows,
	   details->'z_score_tokens' AS z_tokens,
	   (details->>'window_end')::timestamptz - (details->>'window_start')::timestamptz AS window_length,
	   (details->>'window_start')::timestamptz - (details->>'baseline_start')::timestamptz AS baseline_length
  FROM aiguard.alerts;
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT count(*), sum(occurrences) FROM aiguard.alerts;
-- the spike goes on: the same alert
INSERT INTO w_volume (at, model, user_name, prompt, usage)
SELECT now() - interval '1 min', 'gpt-4o', 'spender', format('more %s', i), '{"total_tokens": 50}'
  FROM generate_series(1, 50) i;
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT count(*), sum(occurrences), max((details->>'count')::int) AS count FROM aiguard.alerts;

-- tokens alone: claude's usual number of requests, 100 times the tokens
INSERT INTO w_volume (at, model, user_name, prompt, usage)
SELECT now() - interval '1 min', 'claude', 'steady', format('long %s', i), '{"total_tokens": 5000}'
  FROM generate_series(1, 3) i;
SELECT aiguard_detect_wallet_attacks() AS raised;
SELECT resource, rule_ids, details->'count' AS count, details->'tokens' AS tokens, details->'z_score_tokens' AS z_tokens
  FROM aiguard.alerts ORDER BY alert_id;
DROP TABLE w_volume;
TRUNCATE aiguard.alerts;

-- no baseline: a burst on a new resource, or one with traffic in only 5
-- earlier windows, is not judged on volume
CREATE TABLE w_new (id bigserial PRIMARY KEY, at timestamptz, model text, prompt text);
SELECT aiguard_protect('w_new', prompt => 'prompt', created_at => 'at', resource => 'model');
INSERT INTO w_new (at, model, prompt)
SELECT now() - interval '2 min', 'fresh', format('hello %s', i) FROM generate_series(1, 300) i;
INSERT INTO w_new (at, model, prompt)
SELECT now() - w * interval '10 min' - interval '5 min', 'sparse', format('q %s %s', w, i)
  FROM generate_series(1, 5) w, generate_series(1, 10) i;
INSERT INTO w_new (at, model, prompt)
SELECT now() - interval '2 min', 'sparse', format('burst %s', i) FROM generate_series(1, 300) i;
SELECT aiguard_detect_wallet_attacks() AS raised;
DROP TABLE w_new;

-- bad arguments
SELECT aiguard_detect_wallet_attacks("window" => '-1 min');
SELECT aiguard_detect_wallet_attacks(threshold => 1);

-- a table whose mapping no longer fits is skipped with a warning; the others run
CREATE TABLE w_broken (id int PRIMARY KEY, at timestamptz, prompt text);
SELECT aiguard_protect('w_broken', prompt => 'prompt', created_at => 'at');
ALTER TABLE w_broken RENAME COLUMN prompt TO renamed;
SELECT aiguard_detect_wallet_attacks() AS raised;
DROP TABLE w_broken;

-- the application role cannot run the detectors
CREATE ROLE aiguard_wallet_app;
CREATE TABLE w_app (id int PRIMARY KEY, at timestamptz, prompt text);
GRANT INSERT ON w_app TO aiguard_wallet_app;
SET ROLE aiguard_wallet_app;
INSERT INTO w_app VALUES (1, now(), 'hello');
SELECT aiguard_detect_wallet_attacks();
SELECT aiguard_detect_access_anomalies();
RESET ROLE;
SELECT p.proname, p.prosecdef, p.proconfig, has_function_privilege('aiguard_wallet_app', p.oid, 'EXECUTE') AS app_can_execute
  FROM pg_proc p WHERE p.proname IN ('aiguard_detect_wallet_attacks', 'aiguard_detect_access_anomalies')
 ORDER BY p.proname;
DROP TABLE w_app;
DROP ROLE aiguard_wallet_app;
TRUNCATE aiguard.alerts;
