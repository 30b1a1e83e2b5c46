-- network: threat lists and the client signals they raise.
TRUNCATE aiguard.alerts;

-- the Tor project's exit-addresses format (and plain addresses), bad lines reported
SELECT aiguard_load_tor_exits(E'ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\nPublished 2024-01-01 03:00:00\nLastStatus 2024-01-01 04:00:00\nExitAddress 185.220.101.1 2024-01-01 04:10:00\n2a0b:f4c2::1\nnot-an-ip\n');
-- CIDR lists, IPv4 and IPv6, with comments
SELECT aiguard_load_indicators('cidr', 'malicious_ip', 'blocklist-a', E'# botnet C2\n203.0.113.0/24   # range\n2001:db8:bad::/48\n10.0.0.1/33\n');
SELECT aiguard_load_indicators('domain', 'phishing', 'phish-a', E'Login-Example.COM.\nnot a domain\n');
SELECT kind, value, net, category, source FROM aiguard.indicators ORDER BY kind, value COLLATE "C";
-- domains match themselves and their subdomains through their suffixes
SELECT aiguard.domain_suffixes('secure.login-example.com');
SELECT value FROM aiguard.indicators WHERE kind = 'domain' AND value = ANY (aiguard.domain_suffixes('secure.login-example.com'));

-- reloading a source replaces its entries in one statement
SELECT aiguard_load_indicators('cidr', 'malicious_ip', 'blocklist-a', E'198.18.0.0/15\n');
SELECT value FROM aiguard.indicators WHERE source = 'blocklist-a';
SELECT aiguard_load_indicators('cidr', 'malicious_ip', 'blocklist-a', E'203.0.113.0/24\n2001:db8:bad::/48\n');

-- bad calls
SELECT aiguard_load_indicators('email', 'x', 'y', '');
SELECT aiguard_load_indicators('ip', '', 'y', '');
SELECT aiguard_parse_address('[2001:db8::1]:443'), aiguard_parse_address('192.0.2.7:8080'),
	   aiguard_parse_address('192.0.2.0/24'), aiguard_parse_address('999.1.1.1'), aiguard_parse_address('');

-- a protected table with client IP and user agent mapped
CREATE TABLE api_log (id int PRIMARY KEY, usr text, ip text, ua text, model text, prompt text);
SELECT aiguard_protect('api_log', prompt => 'prompt', user_id => 'usr', client_ip => 'ip',
					   user_agent => 'ua', resource => 'model');
INSERT INTO api_log VALUES
	(1, 'u1', '185.220.101.1', 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', 'gpt-4o', 'hello'),
	(2, 'u1', '185.220.101.1', 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', 'gpt-4o', 'hello again'),
	(3, 'u2', '203.0.113.77:51234', 'python-requests/2.31.0', 'gpt-4o', 'hi'),
	(4, 'u3', '198.51.100.1', '', 'gpt-4o', 'hi'),
	(5, 'u4', '2001:db8:bad::5', 'openai-python/1.30.1', 'gpt-4o', 'hi'),
	(6, 'u5', '198.51.100.2', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15', 'gpt-4o', 'hi'),
	(7, 'u6', '198.51.100.3', 'sqlmap/1.7.2#stable (https://sqlmap.org)', 'gpt-4o', 'hi'),
	(8, 'u7', '198.51.100.4', 'garak/0.9.0.16 (LLM vulnerability scanner https://garak.ai)', 'gpt-4o', 'hi'),
	(9, 'u8', '198.51.100.5', NULL, 'gpt-4o', 'the application logged no agent'),
	(10, 'u9', '198.51.100.6', '---', 'gpt-4o', 'hi');
-- one alert per signal, user, address and resource per hour: the Tor burst is one alert seen twice
SELECT alert_type, role, rule_ids, user_id, client_ip, left(user_agent, 20) AS agent, occurrences, source_key,
	   details->>'indicator' AS indicator, details->>'category' AS category
  FROM aiguard.alerts ORDER BY alert_id;
-- an address seen clean becomes listed: the next row raises the alert
SELECT aiguard_load_indicators('ip', 'malicious_ip', 'late-list', '198.51.100.2');
INSERT INTO api_log VALUES (11, 'u5', '198.51.100.2', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15', 'gpt-4o', 'hi');
SELECT alert_type, user_id, client_ip, source_key FROM aiguard.alerts WHERE client_ip = '198.51.100.2';
DROP TABLE api_log;
DELETE FROM aiguard.indicators;
