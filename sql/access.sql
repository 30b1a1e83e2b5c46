-- access: a known user seen from an IP range (/16, /48) or a user-agent
-- family not in their baseline (aiguard.access_baseline, 30 days).
TRUNCATE aiguard.alerts;

-- user-agent families
SELECT ua, aiguard.user_agent_family(ua) FROM (VALUES
	('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'),
	('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67'),
	('Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0'),
	('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15'),
	('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1'),
	('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0'),
	('Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36'),
	('Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko'),
	('curl/8.5.0'),
	('python-requests/2.31.0'),
	('okhttp/4.12.0'),
	('OpenAI/Python 1.30.1'),
	('Go-http-client/2.0'),
	('PostmanRuntime/7.37.3'),
	(''),
	('   ')) AS v(ua)
 ORDER BY ua COLLATE "C";

CREATE TABLE a_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL, user_name text,
					ip text, agent text, prompt text);
SELECT aiguard_protect('a_log', prompt => 'prompt', created_at => 'at', user_id => 'user_name',
					   client_ip => 'ip', user_agent => 'agent');

-- alice: two requests a day for a month, from 10.1.x.x with Chrome
INSERT INTO a_log (at, user_name, ip, agent, prompt)
SELECT now() - d * interval '1 day' - h * interval '2 hours', 'alice', format('10.1.%s.%s', d, h + 10),
	   format('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%s.0.0.0 Safari/537.36', 100 + d),
	   'hello'
  FROM generate_series(1, 30) d, generate_series(1, 2) h;
-- carol: 40 requests, but all yesterday at once: no baseline yet
INSERT INTO a_log (at, user_name, ip, agent, prompt)
SELECT now() - interval '1 day', 'carol', '10.7.0.1', 'curl/8.0', 'hi'
  FROM generate_series(1, 40) i;
-- nothing recent yet (a first run looks at the last aiguard.wallet_window)
SELECT aiguard_detect_access_anomalies() AS raised;
SELECT detector, last_run_at <= now() AS recorded FROM aiguard.detector_runs WHERE relid = 'a_log'::regclass;

-- alice from 203.0.113.5, still with Chrome: one alert, for the new range
INSERT INTO a_log (at, user_name, ip, agent, prompt) VALUES
	(now() - interval '1 min', 'alice', '203.0.113.5', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'hello');
SELECT aiguard_detect_access_anomalies() AS raised;
SELECT alert_type, severity, tactics, action, occurrences, confidence, rule_ids, source_table, user_id, client_ip, user_agent, source_key
  FROM aiguard.alerts ORDER BY alert_id;
SELECT details->>'user_id' AS user_id, details->>'kind' AS kind, details->>'ip_range' AS ip_range,
	   details->'known_ip_ranges' AS known, details->'baseline_rows' AS baseline_rows,
	   (details->>'baseline_days')::int >= 29 AS baseline_days_ok, details->'rows' AS rows,
	   details->'baseline_seconds' AS baseline_seconds,
	   (details->>'first_seen')::timestamptz > (details->>'baseline_end')::timestamptz AS first_seen_after_baseline
  FROM aiguard.alerts;

-- again: nothing new
SELECT aiguard_detect_access_anomalies() AS raised;
-- a longer look back finds the same thing: still one alert
SELECT aiguard_detect_access_anomalies(since => '1 hour') AS raised;
SELECT count(*), sum(occurrences) FROM aiguard.alerts;

-- alice from another address of her usual /16: nothing
INSERT INTO a_log (at, user_name, ip, agent, prompt) VALUES
	(now() - interval '1 min', 'alice', '10.1.99.7', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36', 'hello');
SELECT aiguard_detect_access_anomalies() AS raised;

-- bob is new: two rows are no baseline; carol's 40 rows are all on one day
INSERT INTO a_log (at, user_name, ip, agent, prompt) VALUES
	(now() - interval '2 min', 'bob', '192.0.2.1', 'curl/8.0', 'hi'),
	(now() - interval '1 min', 'bob', '198.51.100.1', 'python-requests/2.31', 'hi'),
	(now() - interval '1 min', 'carol', '192.0.2.77', 'python-requests/2.31', 'hi');
SELECT aiguard_detect_access_anomalies() AS raised;

-- alice with curl from her usual range: a new user-agent family
INSERT INTO a_log (at, user_name, ip, agent, prompt) VALUES
	(now() - interval '1 min', 'alice', '10.1.3.3', 'curl/8.5.0', 'hello'),
	(now() - interval '30 s', 'alice', '10.1.3.3', 'curl/8.6.0', 'hello');
SELECT aiguard_detect_access_anomalies() AS raised;
SELECT user_id, client_ip, user_agent, rule_ids, details->>'kind' AS kind, details->>'user_agent_family' AS family,
	   details->'known_user_agent_families' AS known, details->'rows' AS rows
  FROM aiguard.alerts ORDER BY alert_id;

-- the same user in another table is another alert
CREATE TABLE a_log2 (LIKE a_log INCLUDING ALL);
SELECT aiguard_protect('a_log2', prompt => 'prompt', created_at => 'at', user_id => 'user_name',
					   client_ip => 'ip', user_agent => 'agent');
INSERT INTO a_log2 SELECT * FROM a_log WHERE user_name = 'alice' AND ip LIKE '10.1.%' AND agent LIKE '%Chrome%';
INSERT INTO a_log2 (id, at, user_name, ip, agent, prompt) VALUES
	(-1, now() - interval '1 min', 'alice', '203.0.113.5', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36', 'hi');
SELECT aiguard_detect_access_anomalies() AS raised;
SELECT source_table, user_id, details->>'ip_range' AS ip_range FROM aiguard.alerts
 WHERE details->>'kind' = 'ip_range' ORDER BY alert_id;
DROP TABLE a_log, a_log2;
-- (only the preset table of the protect test is left)
SELECT relid FROM aiguard.detector_runs ORDER BY relid::text COLLATE "C";
TRUNCATE aiguard.alerts;

-- IPv6 (/48), an inet column, and a jsonpath user id
CREATE TABLE a_v6 (id bigserial PRIMARY KEY, at timestamp, addr inet, meta jsonb, prompt text);
SELECT aiguard_protect('a_v6', prompt => 'prompt', created_at => 'at', client_ip => 'addr',
					   user_id => 'meta:$.user.name');
INSERT INTO a_v6 (at, addr, meta, prompt)
SELECT (now() - d * interval '1 day')::timestamp, format('2001:db8:1:%s::%s', to_hex(d), h)::inet,
	   '{"user": {"name": "dave"}}', 'hi'
  FROM generate_series(1, 25) d, generate_series(1, 2) h;
INSERT INTO a_v6 (at, addr, meta, prompt) VALUES
	((now() - interval '2 min')::timestamp, '2001:db8:1:ffff::9', '{"user": {"name": "dave"}}', 'hi'),
	((now() - interval '1 min')::timestamp, '2001:db8:2::1', '{"user": {"name": "dave"}}', 'hi'),
	((now() - interval '1 min')::timestamp, '2001:db8:2::2', '{"user": {"name": "dave"}}', 'hi');
SELECT aiguard_detect_access_anomalies() AS raised;
SELECT source_table, user_id, client_ip, details->>'ip_range' AS ip_range, details->'known_ip_ranges' AS known,
	   details->'rows' AS rows, details->'baseline_days' AS days
  FROM aiguard.alerts ORDER BY alert_id;
DROP TABLE a_v6;

-- a shorter baseline setting: erin's history, 10 to 40 days old, no longer counts
CREATE TABLE a_short (id bigserial PRIMARY KEY, at timestamptz, usr text, ip text, prompt text);
SELECT aiguard_protect('a_short', prompt => 'prompt', created_at => 'at', user_id => 'usr', client_ip => 'ip');
INSERT INTO a_short (at, usr, ip, prompt)
SELECT now() - d * interval '1 day', 'erin', '10.9.0.1', 'hi' FROM generate_series(10, 40) d;
INSERT INTO a_short (at, usr, ip, prompt) VALUES (now() - interval '1 min', 'erin', '172.16.0.1', 'hi');
SET aiguard.access_baseline = '7d';
SELECT aiguard_detect_access_anomalies() AS raised;
RESET aiguard.access_baseline;
SELECT aiguard_detect_access_anomalies(since => '1 hour') AS raised;
DROP TABLE a_short;

SELECT aiguard_detect_access_anomalies(since => '-1 hour');
TRUNCATE aiguard.alerts;
