-- credentials: every credential format, shown with one real-looking
-- positive (masked, as evidence stores it) and its near-miss.
TRUNCATE aiguard.alerts;
SELECT count(*) >= 45 AS at_least_45_formats, count(DISTINCT data_type) AS data_types
  FROM aiguard.rules WHERE alert_type = 'credential_theft';

SELECT r.rule_id,
	   r.data_type,
	   (SELECT s.evidence FROM aiguard_scan(r.match_examples[1], 'response') s
		 WHERE s.rule_id = r.rule_id LIMIT 1)::varchar(64) AS positive_masked,
	   (SELECT count(*) FROM aiguard_scan(r.nomatch_examples[1], 'response') s
		 WHERE s.rule_id = r.rule_id) AS near_miss_hits
  FROM aiguard.rules r
 WHERE r.alert_type = 'credential_theft'
 ORDER BY r.rule_id COLLATE "C";

-- documentation examples and placeholders are not credentials
SELECT t, count(s.*) AS findings
  FROM unnest(ARRAY['AKIAIOSFODNN7EXAMPLE',
					'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
					'OPENAI_API_KEY=your-api-key-here',
					'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
					'password = "changeme"',
					'postgres://user:${DB_PASSWORD}@db:5432/app']) AS t
  LEFT JOIN LATERAL aiguard_scan(t, 'response') s ON s.alert_type = 'credential_theft'
 GROUP BY t ORDER BY t COLLATE "C";

-- a shell command continued over lines (backslash, PowerShell backtick, cmd caret)
SELECT t, string_agg(s.rule_id, ', ') AS rules
  FROM unnest(ARRAY[E'curl https://api.dropbox.com/oauth2/token \\\n  --user c7wlsosanujy2z:qgsnai0xokrw4j1 \\\n  --data grant_type=authorization_code',
					E'curl.exe https://api.acme.io/v1/jobs `\r\n  -u deploy:h7Kq2xLm9Wz',
					E'curl https://api.acme.io/v1/jobs ^\n  -u deploy:h7Kq2xLm9Wz',
					E'curl https://api.acme.io/v1/jobs\n# then log in with -u deploy:h7Kq2xLm9Wz']) AS t
  LEFT JOIN LATERAL aiguard_scan(t, 'response') s ON s.alert_type = 'credential_theft'
 GROUP BY t ORDER BY t COLLATE "C";

-- a keyword spelt with the long s or the Kelvin sign, which the pattern's
-- caseless match takes for s and k, is found as the plain one is
SELECT t, string_agg(s.rule_id, ', ') AS rules
  FROM unnest(ARRAY['db password = "Hunter2Secret!x9"',
					E'db pa\u017F\u017Fword = "Hunter2Secret!x9"',
					E'api_\u212Aey: 8f3a9c2e7d1b4a6f9e2c5d8b1a4f7e3c']) AS t
  LEFT JOIN LATERAL aiguard_scan(t, 'response') s ON s.alert_type = 'credential_theft'
 GROUP BY t ORDER BY t COLLATE "C";

-- credentials are looked for in responses and tool output, not in prompts
SELECT role, count(s.*) AS findings
  FROM unnest(ARRAY['prompt', 'response', 'tool']) AS role
  LEFT JOIN LATERAL aiguard_scan('Use this key: AKIA2OGYBAH6QXYZ4JKW and secret "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"', role) s
	ON s.alert_type = 'credential_theft'
 GROUP BY role ORDER BY role COLLATE "C";

-- in an alert: evidence masked, the value only as a keyed hash
CREATE TABLE bot_log (id int PRIMARY KEY, prompt text, response text);
SELECT aiguard_protect('bot_log', prompt => 'prompt', response => 'response');
SET aiguard.include_evidence = on;
INSERT INTO bot_log VALUES
	(1, 'what is the deploy token?', 'Sure, the token is ghp_2Xo9ZyQm4RkPv8NwLs3TbJ6cHd1FeA7uGi0K for the CI.'),
	(2, 'and again?', 'It is ghp_2Xo9ZyQm4RkPv8NwLs3TbJ6cHd1FeA7uGi0K.');
SELECT source_key, alert_type, role, evidence,
	   evidence !~ 'ghp_2Xo9ZyQm4RkPv8NwLs3TbJ6cHd1FeA7uGi0K' AS secret_not_stored,
	   details::text !~ 'ghp_2Xo9ZyQm4RkPv8NwLs3TbJ6cHd1FeA7uGi0K' AS details_clean,
	   details->'leaked'->0->>'data_type' AS data_type
  FROM aiguard.alerts ORDER BY alert_id;
-- the same secret twice: the same keyed hash
SELECT count(DISTINCT details->'leaked'->0->>'value_hash') AS distinct_hashes,
	   min(length(details->'leaked'->0->>'value_hash')) AS hash_hex_digits
  FROM aiguard.alerts WHERE alert_type = 'credential_theft';
RESET aiguard.include_evidence;
-- with evidence off, no content at all
INSERT INTO bot_log VALUES (3, 'x', 'token: ghp_2Xo9ZyQm4RkPv8NwLs3TbJ6cHd1FeA7uGi0K');
SELECT evidence IS NULL AS no_evidence FROM aiguard.alerts WHERE source_key = '{"id": 3}';
DROP TABLE bot_log;
