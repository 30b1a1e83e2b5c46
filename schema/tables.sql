-- schema/tables.sql
--	  Tables and types of the aiguard extension.  Concatenated with the other
--	  schema/*.sql files and the generated rule data into aiguard--<ver>.sql.

\echo Use "CREATE EXTENSION aiguard" to load this file. \quit

CREATE SCHEMA IF NOT EXISTS aiguard;
REVOKE ALL ON SCHEMA aiguard FROM PUBLIC;

CREATE TYPE aiguard.severity AS ENUM ('low', 'medium', 'high');

CREATE TABLE aiguard.alert_types (
	code			 text PRIMARY KEY,
	title			 text NOT NULL,
	description		 text NOT NULL,
	severity		 aiguard.severity NOT NULL,
	tactics			 text[] NOT NULL,
	tactic_ids		 text[] NOT NULL,
	atlas_techniques text[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE aiguard.alert_types IS 'Catalog of alert types with severity, MITRE ATT&CK tactics and MITRE ATLAS techniques';

CREATE TABLE aiguard.alerts (
	alert_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	detected_at		timestamptz NOT NULL DEFAULT now(),
	last_seen_at	timestamptz NOT NULL DEFAULT now(),
	occurrences		integer NOT NULL DEFAULT 1,
	alert_type		text NOT NULL REFERENCES aiguard.alert_types (code),
	severity		aiguard.severity NOT NULL,
	tactics			text[] NOT NULL,
	status			text NOT NULL DEFAULT 'new'
		CHECK (status IN ('new', 'in_progress', 'resolved', 'dismissed')),
	action			text NOT NULL DEFAULT 'detected'
		CHECK (action IN ('detected', 'blocked')),
	confidence		real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
	rule_ids		text[] NOT NULL DEFAULT '{}',
	source_table	text,
	source_key		jsonb,
	role			text CHECK (role IN ('prompt', 'response', 'tool', 'user_agent', 'network')),
	conversation_id text,
	user_id			text,
	client_ip		inet,
	user_agent		text,
	resource		text,
	evidence		text,
	details			jsonb NOT NULL DEFAULT '{}',
	fingerprint		text NOT NULL UNIQUE
);
CREATE INDEX alerts_detected_at_idx ON aiguard.alerts (detected_at);
CREATE INDEX alerts_conversation_idx ON aiguard.alerts (conversation_id)
	WHERE conversation_id IS NOT NULL;
CREATE INDEX alerts_open_idx ON aiguard.alerts (alert_type, detected_at)
	WHERE status IN ('new', 'in_progress');
COMMENT ON TABLE aiguard.alerts IS 'Security alerts raised by aiguard; one row per distinct finding (see fingerprint), repeated sightings counted in occurrences';

CREATE TABLE aiguard.rules (
	rule_id			text PRIMARY KEY CHECK (rule_id ~ '^[a-z0-9_.-]+$'),
	alert_type		text NOT NULL REFERENCES aiguard.alert_types (code),
	description		text NOT NULL DEFAULT '',
	pattern			text NOT NULL,
	keywords		text[] NOT NULL DEFAULT '{}',
	confidence		real NOT NULL DEFAULT 0.8
		CHECK (confidence > 0 AND confidence <= 1),
	roles			text[] NOT NULL DEFAULT '{prompt,tool}'
		CHECK (roles <@ '{prompt,response,tool,user_agent}'::text[] AND cardinality(roles) > 0),
	match_on		text NOT NULL DEFAULT 'normalized'
		CHECK (match_on IN ('normalized', 'raw')),
	validate		text,
	secret_group	integer NOT NULL DEFAULT 0 CHECK (secret_group >= 0),
	data_type		text,
	enabled			boolean NOT NULL DEFAULT true,
	builtin			boolean NOT NULL DEFAULT false,
	match_examples	text[] NOT NULL DEFAULT '{}',
	nomatch_examples text[] NOT NULL DEFAULT '{}',
	updated_at		timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE aiguard.rules IS 'Detection rules (PCRE2 over normalised text, gated by keywords); edits take effect in every session at once';

CREATE TABLE aiguard.models (
	name			text PRIMARY KEY,
	body			text NOT NULL,
	enabled			boolean NOT NULL DEFAULT true,
	builtin			boolean NOT NULL DEFAULT false,
	updated_at		timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE aiguard.models IS 'Learned detection models (text format of tools/ag_train)';

CREATE TABLE aiguard.rule_set_origin (
	singleton		boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	fingerprint		text
);
COMMENT ON TABLE aiguard.rule_set_origin IS
	'Fingerprint of the rule files and model that aiguard.rules and aiguard.models were installed from, NULL once either is edited: while it equals that of the files the postmaster compiled at start (aiguard in shared_preload_libraries), sessions use that compiled rule set instead of compiling their own';

CREATE TABLE aiguard.protected_tables (
	relid			regclass PRIMARY KEY,
	mode			text NOT NULL DEFAULT 'detect'
		CHECK (mode IN ('detect', 'block', 'async')),
	mapping			jsonb NOT NULL,
	protected_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE aiguard.protected_tables IS 'Chat-log tables protected by aiguard and how their columns map to prompt, response, user, ...';

CREATE TABLE aiguard.scan_errors (
	error_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	occurred_at		timestamptz NOT NULL DEFAULT now(),
	source_table	text,
	source_key		jsonb,
	sqlstate		text,
	message			text NOT NULL
);
COMMENT ON TABLE aiguard.scan_errors IS 'Scans that failed; the scanned row was kept';

REVOKE ALL ON ALL TABLES IN SCHEMA aiguard FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('aiguard.alerts', '');
-- rules of the owner's, and built-in rules the owner switched off (their
-- restore only switches the installed rule off: settle_rule_insert in functions.sql)
SELECT pg_catalog.pg_extension_config_dump('aiguard.rules', 'WHERE NOT builtin OR NOT enabled');
SELECT pg_catalog.pg_extension_config_dump('aiguard.models', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('aiguard.protected_tables', '');
SELECT pg_catalog.pg_extension_config_dump('aiguard.scan_errors', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aiguard.alerts', 'alert_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aiguard.scan_errors', 'error_id'), '');

CREATE TABLE aiguard.canaries (
	canary_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	value			text NOT NULL UNIQUE CHECK (length(value) >= 4),
	description		text NOT NULL DEFAULT '',
	enabled			boolean NOT NULL DEFAULT true,
	created_at		timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE aiguard.canaries IS 'Secrets and canary tokens whose appearance in a response raises instruction_leakage';

-- Key for the keyed hashes of leaked values in alert details: analysts can
-- see that the same secret leaked twice without the alert storing it.
CREATE TABLE aiguard.hash_key (
	only_one		boolean PRIMARY KEY DEFAULT true CHECK (only_one),
	key				text NOT NULL
);
INSERT INTO aiguard.hash_key (key)
	VALUES (replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', ''));
COMMENT ON TABLE aiguard.hash_key IS 'Per-installation key of the HMAC-SHA256 value hashes in alert details';

REVOKE ALL ON aiguard.canaries, aiguard.hash_key FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aiguard.canaries', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aiguard.canaries', 'canary_id'), '');
SELECT pg_catalog.pg_extension_config_dump('aiguard.hash_key', '');

CREATE TABLE aiguard.indicators (
	indicator_id	bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind			text NOT NULL CHECK (kind IN ('ip', 'cidr', 'domain', 'url', 'user_agent')),
	value			text NOT NULL,
	net				inet,		-- the address or network of ip / cidr entries
	category		text NOT NULL,	-- tor_exit, malicious_ip, phishing, scanner, ...
	source			text NOT NULL,
	first_seen		timestamptz NOT NULL DEFAULT now(),
	last_seen		timestamptz NOT NULL DEFAULT now(),
	expires_at		timestamptz,
	UNIQUE (source, kind, value),
	CHECK ((kind IN ('ip', 'cidr')) = (net IS NOT NULL))
);
-- IP lookups are containment queries (net >>= address), IPv4 and IPv6 alike
CREATE INDEX indicators_net_idx ON aiguard.indicators USING gist (net inet_ops)
	WHERE net IS NOT NULL;
-- domains match themselves and their subdomains: lookups by the suffixes of a host
CREATE INDEX indicators_value_idx ON aiguard.indicators (kind, value);
COMMENT ON TABLE aiguard.indicators IS 'Threat indicators (Tor exits, threat-listed IPs and networks, phishing domains and URLs, user agents), loaded by source';
REVOKE ALL ON aiguard.indicators FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aiguard.indicators', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aiguard.indicators', 'indicator_id'), '');
