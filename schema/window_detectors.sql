-- schema/window_detectors.sql
--	  Detectors that look at a protected table's own history over time
--	  windows, in SQL: wallet attacks (recurring identical requests, and
--	  request/token volume far above a resource's baseline) and access
--	  anomalies (a known user seen from a new IP range or user-agent family).
--
--	  They run as the extension owner (SECURITY DEFINER) over every table in
--	  aiguard.protected_tables, building their queries from its mapping with
--	  every identifier quoted and every jsonpath passed as a literal; only
--	  administrators and the background worker may call them.

-- When each detector last looked at each table (access anomalies compare
-- "since the last run" with the baseline before it).
CREATE TABLE aiguard.detector_runs (
	relid			regclass NOT NULL,
	detector		text NOT NULL,
	last_run_at		timestamptz NOT NULL,
	PRIMARY KEY (relid, detector)
);
COMMENT ON TABLE aiguard.detector_runs IS 'When each time-window detector last ran over each protected table';
REVOKE ALL ON aiguard.detector_runs FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aiguard.detector_runs', '');

-- Wallet alerts are continued rather than repeated while an attack goes on:
-- the detectors look up the latest alert of the same kind for the same
-- table and request.  This keeps that look-up off a scan of all alerts.
CREATE INDEX alerts_wallet_idx ON aiguard.alerts
	(source_table, alert_type, (details->>'request_hash'), alert_id)
	WHERE alert_type IN ('wallet_attack_duplicates', 'wallet_attack_volume');

--
-- Settings.  The aiguard.* settings exist once the module is loaded; a
-- session that has not called any C function of aiguard yet has not loaded
-- it, so load it first (any C function does), then read the value.
--
CREATE FUNCTION aiguard.setting_text(name text) RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	PERFORM @extschema@.aiguard_parse_address('127.0.0.1');
	RETURN nullif(current_setting(name, true), '');
END
$$;

-- A time setting ('10min', '30d', or a bare number of seconds) as an interval.
CREATE FUNCTION aiguard.setting_interval(name text, fallback interval) RETURNS interval
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	v text := aiguard.setting_text(name);
BEGIN
	RETURN coalesce(v::interval, fallback);
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
	RAISE WARNING 'invalid value "%" for setting %, using %', v, name, fallback;
	RETURN fallback;
END
$$;

--
-- The SQL expression (over the table alias "t") for one mapped field, or
-- NULL when the field is not mapped.  kind is
--	 'text'		the value as text; jsonpath results joined by newlines, as the
--				protection trigger joins them
--	 'key'		a plain column as it is (so that an index on it can be used),
--				a jsonpath mapping as text
--	 'numeric'	a number, NULL when the value is not one
--	 'time'		timestamptz; only a plain timestamp/timestamptz/date column
-- Only columns of built-in types are accepted: these queries run as the
-- extension owner, and a user-defined type would run its owner's code.
--
CREATE FUNCTION aiguard.mapping_expr(tbl regclass, mapping jsonb, field text, kind text)
	RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	m jsonb := mapping -> field;
	col text;
	path text;
	typ oid;
	typname text;
	builtin boolean;
	ref text;
BEGIN
	IF m IS NULL OR jsonb_typeof(m) = 'null' THEN
		RETURN NULL;
	END IF;
	IF jsonb_typeof(m) = 'string' THEN
		col := m #>> '{}';
	ELSE
		col := m ->> 'column';
		path := m ->> 'path';
	END IF;

	SELECT a.atttypid, ty.typname, (ty.typnamespace = 'pg_catalog'::regnamespace)
	  INTO typ, typname, builtin
	  FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
	 WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
	IF typ IS NULL THEN
		RAISE EXCEPTION 'column "%" mapped as % does not exist in table %', col, field, tbl
			USING ERRCODE = 'undefined_column',
				  HINT = 'Call aiguard_protect() again with the current column names.';
	END IF;
	IF NOT builtin THEN
		RAISE EXCEPTION 'column "%" of table % (mapped as %) has type %, which is not a built-in type',
						col, tbl, field, typ::regtype
			USING ERRCODE = 'datatype_mismatch';
	END IF;
	ref := format('t.%I', col);

	IF path IS NOT NULL AND path <> '' THEN
		IF typname NOT IN ('json', 'jsonb') THEN
			RAISE EXCEPTION 'column "%" of table % is not json or jsonb', col, tbl
				USING ERRCODE = 'datatype_mismatch';
		END IF;
		IF kind = 'time' THEN
			RAISE EXCEPTION 'the created_at mapping of table % is a jsonpath', tbl
				USING ERRCODE = 'feature_not_supported',
					  HINT = 'Time-window detectors need created_at mapped to a timestamp column.';
		END IF;
		-- lax mode, errors suppressed: a row the path does not fit yields NULL
		ref := format('(SELECT pg_catalog.string_agg(v.v #>> ''{}'', E''\n'') '
					  'FROM pg_catalog.jsonb_path_query(%s::pg_catalog.jsonb, %L::pg_catalog.jsonpath, ''{}'', true) AS v(v))',
					  ref, path);
		IF kind = 'numeric' THEN
			RETURN format('(CASE WHEN %1$s ~ ''^\s*[0-9]+(\.[0-9]+)?\s*$'' THEN %1$s::pg_catalog.numeric END)', ref);
		END IF;
		RETURN ref;
	END IF;

	IF kind = 'time' THEN
		IF typname NOT IN ('timestamptz', 'timestamp', 'date') THEN
			RAISE EXCEPTION 'column "%" of table % (mapped as created_at) has type %, not a timestamp',
							col, tbl, typ::regtype
				USING ERRCODE = 'datatype_mismatch';
		END IF;
		RETURN format('%s::pg_catalog.timestamptz', ref);
	ELSIF kind = 'numeric' THEN
		IF typname IN ('int2', 'int4', 'int8', 'numeric', 'float4', 'float8') THEN
			RETURN format('%s::pg_catalog.numeric', ref);
		ELSIF typname IN ('json', 'jsonb') THEN
			RETURN format('(CASE WHEN pg_catalog.jsonb_typeof(%1$s::pg_catalog.jsonb) = ''number'' THEN (%1$s::pg_catalog.jsonb #>> ''{}'')::pg_catalog.numeric END)', ref);
		END IF;
		RETURN format('(CASE WHEN %1$s::pg_catalog.text ~ ''^\s*[0-9]+(\.[0-9]+)?\s*$'' THEN %1$s::pg_catalog.text::pg_catalog.numeric END)', ref);
	ELSIF kind = 'key' THEN
		RETURN ref;
	ELSIF typname IN ('inet', 'cidr') THEN
		RETURN format('pg_catalog.host(%s)', ref);		-- the address without /32
	END IF;
	RETURN format('%s::pg_catalog.text', ref);
END
$$;

-- The plain column created_at is mapped to, or NULL (unmapped or a jsonpath).
CREATE FUNCTION aiguard.time_column(mapping jsonb) RETURNS text
	LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS
$$
	SELECT CASE WHEN jsonb_typeof(mapping -> 'created_at') = 'string'
				THEN mapping ->> 'created_at' END
$$;

-- Schema-qualified, quoted name of a table, as alerts name it.
CREATE FUNCTION aiguard.qualified_name(tbl regclass) RETURNS text
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS
$$
	SELECT format('%I.%I', n.nspname, c.relname)
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE c.oid = tbl
$$;

--
-- Index on the created_at column.  The detectors select rows by time
-- range; without an index each run reads the whole table.  Called by
-- aiguard_protect(): when no index starts with the column, a small table
-- (up to 64 MB) gets one at once; a larger one is not locked against writes
-- for a long build without asking: a NOTICE gives the statement to run
-- with CONCURRENTLY.  aiguard_unprotect() leaves indexes alone.
--
CREATE FUNCTION aiguard.ensure_time_index(tbl regclass, col text) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	attnum int2;
	tblname text := aiguard.qualified_name(tbl);
	idxname text;
	bytes bigint;
BEGIN
	SELECT a.attnum INTO attnum FROM pg_attribute a
	 WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
	IF attnum IS NULL OR EXISTS (
		SELECT 1 FROM pg_index x
		  JOIN pg_class i ON i.oid = x.indexrelid
		  JOIN pg_am am ON am.oid = i.relam
		 WHERE x.indrelid = tbl AND x.indkey[0] = attnum
		   AND x.indpred IS NULL AND am.amname IN ('btree', 'brin')) THEN
		RETURN;
	END IF;
	idxname := left((SELECT relname FROM pg_class WHERE oid = tbl), 40) || '_aiguard_time_idx';
	SELECT coalesce(sum(pg_relation_size(p.relid)), 0) INTO bytes
	  FROM pg_partition_tree(tbl) p;
	IF bytes > 64 * 1024 * 1024 THEN
		RAISE NOTICE 'table % has no index on its created_at column "%"', tbl, col
			USING DETAIL = 'The time-window detectors (wallet attacks, access anomalies) read the table by time range.',
				  HINT = format('Create one without blocking writes: CREATE INDEX CONCURRENTLY %I ON %s (%I);',
								idxname, tblname, col);
		RETURN;
	END IF;
	BEGIN
		EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s (%I)', idxname, tblname, col);
		RAISE NOTICE 'created index "%" on % (%) for the time-window detectors', idxname, tblname, quote_ident(col);
	EXCEPTION WHEN insufficient_privilege THEN
		RAISE NOTICE 'table % has no index on its created_at column "%"', tbl, col
			USING HINT = format('Ask its owner to run: CREATE INDEX %I ON %s (%I);', idxname, tblname, col);
	END;
END
$$;
REVOKE ALL ON FUNCTION aiguard.ensure_time_index(regclass, text) FROM PUBLIC;

--
-- Writes one time-window alert, or continues it.  The fingerprint decides:
-- a new one inserts an alert (announced with NOTIFY, as the trigger's
-- alerts are); an existing one is updated -- occurrences + 1, last_seen_at,
-- the newest details (keeping the first first_seen and the highest
-- peak_count) -- but only when details->'last_seen' (the newest row behind
-- the alert) moved forward: a run that finds nothing new changes nothing.
-- Returns true when an alert was inserted or updated.
--
CREATE FUNCTION aiguard.write_window_alert(
	alert_type text, confidence real, rule_ids text[], source_table text,
	resource text, user_id text, client_ip inet, user_agent text,
	details jsonb, fingerprint text)
	RETURNS boolean
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	r record;
BEGIN
	INSERT INTO aiguard.alerts AS a (alert_type, severity, tactics, action, confidence, rule_ids,
									 source_table, user_id, client_ip, user_agent, resource,
									 details, fingerprint)
	SELECT t.code, t.severity, t.tactics, 'detected', write_window_alert.confidence,
		   write_window_alert.rule_ids, write_window_alert.source_table,
		   write_window_alert.user_id, write_window_alert.client_ip,
		   write_window_alert.user_agent, write_window_alert.resource,
		   write_window_alert.details, write_window_alert.fingerprint
	  FROM aiguard.alert_types t
	 WHERE t.code = write_window_alert.alert_type
	ON CONFLICT ON CONSTRAINT alerts_fingerprint_key DO UPDATE
		SET occurrences = a.occurrences + 1,
			last_seen_at = now(),
			confidence = greatest(a.confidence, excluded.confidence),
			details = a.details || excluded.details
					  || jsonb_build_object('first_seen', coalesce(a.details -> 'first_seen', excluded.details -> 'first_seen'))
					  || CASE WHEN a.details ? 'peak_count' THEN
							 jsonb_build_object('peak_count', greatest((a.details ->> 'peak_count')::bigint,
																	   (excluded.details ->> 'peak_count')::bigint))
						 ELSE '{}' END
		WHERE (excluded.details ->> 'last_seen')::timestamptz > (a.details ->> 'last_seen')::timestamptz
	RETURNING a.alert_id, (a.xmax = 0) AS inserted, a.severity::text AS severity INTO r;

	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF r.inserted THEN
		-- the payload ag_alerts.c sends for the trigger's alerts
		PERFORM pg_notify('aiguard_alerts', jsonb_build_object(
			'alert_id', r.alert_id, 'alert_type', write_window_alert.alert_type,
			'severity', r.severity, 'action', 'detected',
			'source_table', write_window_alert.source_table, 'source_key', NULL)::text);
	END IF;
	RETURN true;
END
$$;
REVOKE ALL ON FUNCTION aiguard.write_window_alert(text, real, text[], text, text, text, inet, text, jsonb, text) FROM PUBLIC;

--
-- The fingerprint of a wallet alert.  An attack goes on across many runs
-- (the worker looks every aiguard.wallet_interval over the last
-- aiguard.wallet_window), so the alert is one per attack episode: the
-- latest alert for the same table, resource (and request) continues while
-- its last request lies within one window of the first request in the
-- current window; otherwise a new episode starts, fingerprinted by its
-- first request's time.
--
CREATE FUNCTION aiguard.wallet_fingerprint(alert_type text, source_table text, resource text,
										   request_hash text, first_seen timestamptz, win interval)
	RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	prev record;
BEGIN
	-- (two queries rather than IS NOT DISTINCT FROM, which no index serves)
	IF request_hash IS NOT NULL THEN
		SELECT a.fingerprint, (a.details ->> 'last_seen')::timestamptz AS last_seen INTO prev
		  FROM aiguard.alerts a
		 WHERE a.alert_type IN ('wallet_attack_duplicates', 'wallet_attack_volume')
		   AND a.alert_type = wallet_fingerprint.alert_type
		   AND a.source_table = wallet_fingerprint.source_table
		   AND (a.details ->> 'request_hash') = wallet_fingerprint.request_hash
		   AND a.resource IS NOT DISTINCT FROM wallet_fingerprint.resource
		 ORDER BY a.alert_id DESC
		 LIMIT 1;
	ELSE
		SELECT a.fingerprint, (a.details ->> 'last_seen')::timestamptz AS last_seen INTO prev
		  FROM aiguard.alerts a
		 WHERE a.alert_type IN ('wallet_attack_duplicates', 'wallet_attack_volume')
		   AND a.alert_type = wallet_fingerprint.alert_type
		   AND a.source_table = wallet_fingerprint.source_table
		   AND (a.details ->> 'request_hash') IS NULL
		   AND a.resource IS NOT DISTINCT FROM wallet_fingerprint.resource
		 ORDER BY a.alert_id DESC
		 LIMIT 1;
	END IF;
	IF FOUND AND prev.last_seen >= first_seen - win THEN
		RETURN prev.fingerprint;
	END IF;
	RETURN md5(concat_ws('|', alert_type, source_table, coalesce(resource, ''),
						 coalesce(request_hash, ''), extract(epoch FROM first_seen)::text));
END
$$;

--
-- Wallet attacks.
--
-- The window is [now() - window, now()].  For each protected table with a
-- created_at column and a prompt (or content + role) mapping:
--
--	 duplicates: rows in the window grouped by resource and request (the
--	   prompt lower-cased with white space collapsed); a group of at least
--	   `threshold` rows is an attack.  Only a keyed hash of the request is
--	   kept (aiguard.hash_key), never its text.
--	 volume: the window and the 24 windows before it, aligned on now():
--	   window k covers (now() - (k+1)*window, now() - k*window].  Per
--	   resource, the current window (k = 0) is compared with the median and
--	   MAD (median absolute deviation) of the non-empty baseline windows
--	   (k = 1..24; at least 6 of them must have traffic).  An alert needs
--	   all of: robust z-score (count - median) / max(1.4826 * MAD,
--	   sqrt(median), 1) >= 6, at least 3 times the median, and at least
--	   `threshold` requests.  With tokens mapped the same test runs on token
--	   sums, with a floor of 100 * threshold tokens.
--
-- Returns the number of alerts raised or continued (see write_window_alert).
--
-- The detectors read protected tables with the extension owner's rights
-- (SECURITY DEFINER), so a table must not be able to run its owner's code
-- while it is read: it must still be a table (not turned into a view by a
-- rule), and none of its indexes or statistics objects (which the planner
-- evaluates) may call a function outside pg_catalog.  Raises an error
-- naming what is wrong; the detectors then skip the table with a WARNING.
CREATE FUNCTION aiguard.require_safe_to_read(tbl regclass) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	why text;
BEGIN
	SELECT CASE WHEN c.relkind NOT IN ('r', 'p') THEN format('%s is no longer a table', c.oid::regclass)
				WHEN EXISTS (SELECT 1 FROM pg_rewrite w WHERE w.ev_class = c.oid)
					THEN format('%s has rewrite rules', c.oid::regclass)
		   END
	  INTO why
	  FROM (SELECT tbl::oid AS relid UNION SELECT t.relid FROM pg_partition_tree(tbl) t) pt
	  JOIN pg_class c ON c.oid = pt.relid
	 WHERE c.relkind NOT IN ('r', 'p') OR EXISTS (SELECT 1 FROM pg_rewrite w WHERE w.ev_class = c.oid)
	 LIMIT 1;
	IF why IS NULL THEN
		SELECT format('%s has an index or statistics object calling %s', tbl, d.refobjid::regprocedure)
		  INTO why
		  FROM (SELECT tbl::oid AS relid UNION SELECT t.relid FROM pg_partition_tree(tbl) t) pt
		  JOIN pg_depend d ON d.refclassid = 'pg_proc'::regclass
		   AND ((d.classid = 'pg_class'::regclass
				 AND d.objid IN (SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = pt.relid))
				OR (d.classid = 'pg_statistic_ext'::regclass
				 AND d.objid IN (SELECT x.oid FROM pg_statistic_ext x WHERE x.stxrelid = pt.relid)))
		  JOIN pg_proc f ON f.oid = d.refobjid
		 WHERE f.pronamespace <> 'pg_catalog'::regnamespace
		 LIMIT 1;
	END IF;
	IF why IS NOT NULL THEN
		RAISE EXCEPTION 'aiguard will not read %: %', tbl, why
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Its owner could run code with aiguard''s rights while it is read.';
	END IF;
END
$$;
REVOKE ALL ON FUNCTION aiguard.require_safe_to_read(regclass) FROM PUBLIC;

--
-- The key under which repeated requests are counted: white space trimmed
-- and collapsed, lower case (src/core/ag_request_key.c; in C, since it is
-- computed for every request of the window).
--
CREATE FUNCTION aiguard.request_key(request text) RETURNS text
	AS 'MODULE_PATHNAME', 'aiguard_request_key'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION aiguard.request_key(text) FROM PUBLIC;

CREATE FUNCTION aiguard_detect_wallet_attacks("window" interval DEFAULT NULL, threshold int DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	win interval := coalesce(aiguard_detect_wallet_attacks."window",
							 aiguard.setting_interval('aiguard.wallet_window', interval '10 minutes'));
	thr int := coalesce(aiguard_detect_wallet_attacks.threshold,
						aiguard.setting_text('aiguard.wallet_threshold')::int, 100);
	baseline_windows constant int := 24;
	min_baseline_windows constant int := 6;
	min_z constant numeric := 6;
	min_ratio constant numeric := 3;
	win_end timestamptz := now();
	win_start timestamptz;
	key text := coalesce((SELECT k.key FROM aiguard.hash_key k), '');
	pt record;
	r record;
	tbl text;
	src text;
	at_col text;
	at_expr text;
	prompt_expr text;
	resource_expr text;
	user_expr text;
	ip_expr text;
	tokens_expr text;
	raised bigint := 0;
BEGIN
	IF win IS NULL OR win <= interval '0' THEN
		RAISE EXCEPTION 'window must be a positive interval'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF thr IS NULL OR thr < 2 THEN
		RAISE EXCEPTION 'threshold must be at least 2'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	win_start := win_end - win;
	-- one run at a time: two would start the same episode twice
	PERFORM pg_advisory_xact_lock(hashtext('aiguard_detect_wallet_attacks'));

	FOR pt IN SELECT p.relid, p.mapping FROM aiguard.protected_tables p
			   WHERE aiguard.time_column(p.mapping) IS NOT NULL
				 AND (p.mapping ? 'prompt' OR (p.mapping ? 'content' AND p.mapping ? 'role_column'))
			   ORDER BY p.relid::oid
	LOOP
		BEGIN
			PERFORM aiguard.require_safe_to_read(pt.relid);
			tbl := aiguard.qualified_name(pt.relid);
			at_col := aiguard.time_column(pt.mapping);
			at_expr := aiguard.mapping_expr(pt.relid, pt.mapping, 'created_at', 'time');
			IF pt.mapping ? 'prompt' THEN
				prompt_expr := aiguard.mapping_expr(pt.relid, pt.mapping, 'prompt', 'text');
			ELSE
				-- one message per row: the user's messages are the requests
				prompt_expr := format('CASE WHEN pg_catalog.lower(%s) IN (''user'', ''human'') THEN %s END',
									  aiguard.mapping_expr(pt.relid, pt.mapping, 'role_column', 'text'),
									  aiguard.mapping_expr(pt.relid, pt.mapping, 'content', 'text'));
			END IF;
			resource_expr := coalesce(aiguard.mapping_expr(pt.relid, pt.mapping, 'resource', 'text'), 'NULL::pg_catalog.text');
			user_expr := coalesce(aiguard.mapping_expr(pt.relid, pt.mapping, 'user_id', 'text'), 'NULL::pg_catalog.text');
			ip_expr := coalesce(aiguard.mapping_expr(pt.relid, pt.mapping, 'client_ip', 'text'), 'NULL::pg_catalog.text');
			tokens_expr := aiguard.mapping_expr(pt.relid, pt.mapping, 'tokens', 'numeric');
			-- the source: rows in a time range, by the index on created_at
			src := format('(SELECT %s AS at, %s AS resource, %s AS user_id, %s AS client_ip, %s AS prompt, %s AS tokens '
						  'FROM %s AS t WHERE t.%I > $1 AND t.%I <= $2)',
						  at_expr, resource_expr, user_expr, ip_expr, prompt_expr,
						  coalesce(tokens_expr, 'NULL::pg_catalog.numeric'), tbl, at_col, at_col);

			-- Duplicates: requests in the window, grouped by resource and
			-- request key; the groups at or above the threshold (blank
			-- requests are left out in HAVING, so the key is computed once a
			-- row).
			FOR r IN EXECUTE format(
				'SELECT s.resource, s.h, pg_catalog.count(*) AS n, '
				'		pg_catalog.count(DISTINCT s.user_id) AS users, pg_catalog.count(DISTINCT s.client_ip) AS ips, '
				'		pg_catalog.min(s.at) AS first_seen, pg_catalog.max(s.at) AS last_seen '
				'  FROM (SELECT r.resource, r.user_id, r.client_ip, r.at, '
				'				pg_catalog.md5(aiguard.request_key(r.prompt)) AS h '
				'		  FROM %s AS r WHERE r.prompt IS NOT NULL) s '
				' GROUP BY s.resource, s.h HAVING pg_catalog.count(*) >= $3 AND s.h <> pg_catalog.md5('''') '
				' ORDER BY 1, 2', src)
				USING win_start, win_end, thr
			LOOP
				DECLARE
					request_hash text := encode(sha256(convert_to(key || ':' || r.h, 'UTF8')), 'hex');
				BEGIN
					IF aiguard.write_window_alert(
						'wallet_attack_duplicates',
						least(0.95, 0.6 + 0.1 * log(2, r.n::numeric / thr))::real,
						'{wallet.duplicates}', tbl, r.resource, NULL, NULL, NULL,
						jsonb_build_object(
							'count', r.n, 'peak_count', r.n, 'threshold', thr,
							'distinct_users', r.users, 'distinct_ips', r.ips,
							'first_seen', r.first_seen, 'last_seen', r.last_seen,
							'request_hash', request_hash,
							'window_seconds', extract(epoch FROM win)::bigint, 'window_start', win_start, 'window_end', win_end),
						aiguard.wallet_fingerprint('wallet_attack_duplicates', tbl, r.resource,
												   request_hash, r.first_seen, win)) THEN
						raised := raised + 1;
					END IF;
				END;
			END LOOP;

			-- Volume: requests and tokens per resource and window k (k = 0 the
			-- current one), the baseline's median and MAD over the non-empty
			-- windows 1..24, and the robust z-scores of the current window.
			FOR r IN EXECUTE format($q$
				WITH per_window AS (
					SELECT s.resource,
						   pg_catalog.floor(extract(epoch FROM ($2 - s.at)) / extract(epoch FROM $3::pg_catalog.interval))::int AS k,
						   pg_catalog.count(*) AS n, pg_catalog.sum(s.tokens) AS tokens,
						   pg_catalog.min(s.at) AS first_seen, pg_catalog.max(s.at) AS last_seen
					  FROM %s AS s
					 GROUP BY 1, 2),
				cur AS (
					SELECT * FROM per_window WHERE k = 0),
				base AS (
					SELECT w.resource, pg_catalog.count(*) AS windows,
						   pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY w.n) AS med_n,
						   pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY w.tokens) AS med_t
					  FROM per_window w WHERE w.k BETWEEN 1 AND $4
					 GROUP BY w.resource),
				mad AS (
					SELECT b.resource,
						   pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(w.n - b.med_n)) AS mad_n,
						   pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(w.tokens - b.med_t)) AS mad_t
					  FROM base b JOIN per_window w ON w.resource IS NOT DISTINCT FROM b.resource AND w.k BETWEEN 1 AND $4
					 GROUP BY b.resource)
				SELECT c.resource, c.n, c.tokens, c.first_seen, c.last_seen, b.windows,
					   b.med_n, m.mad_n, b.med_t, m.mad_t,
					   (c.n - b.med_n) / greatest(1.4826 * m.mad_n, sqrt(b.med_n), 1) AS z_n,
					   (c.tokens - b.med_t) / greatest(1.4826 * m.mad_t, sqrt(b.med_t), 1) AS z_t
				  FROM cur c
				  JOIN base b ON b.resource IS NOT DISTINCT FROM c.resource
				  JOIN mad m ON m.resource IS NOT DISTINCT FROM c.resource
				 WHERE b.windows >= $5
				 ORDER BY 1
				$q$, src)
				USING win_end - (baseline_windows + 1) * win, win_end, win, baseline_windows, min_baseline_windows
			LOOP
				DECLARE
					by_requests boolean := r.n >= thr AND r.z_n >= min_z AND r.n >= min_ratio * r.med_n;
					by_tokens boolean := coalesce(r.tokens >= 100 * thr AND r.z_t >= min_z
												  AND r.tokens >= min_ratio * r.med_t, false);
				BEGIN
					CONTINUE WHEN NOT (by_requests OR by_tokens);
					IF aiguard.write_window_alert(
						'wallet_attack_volume',
						least(0.95, 0.5 + greatest(CASE WHEN by_requests THEN r.z_n END,
												   CASE WHEN by_tokens THEN r.z_t END) / 100)::real,
						CASE WHEN by_requests AND by_tokens THEN '{wallet.volume.requests,wallet.volume.tokens}'::text[]
							 WHEN by_requests THEN '{wallet.volume.requests}'
							 ELSE '{wallet.volume.tokens}' END,
						tbl, r.resource, NULL, NULL, NULL,
						jsonb_build_object(
							'count', r.n, 'peak_count', r.n, 'tokens', r.tokens,
							'baseline_median', round(r.med_n::numeric, 2), 'baseline_mad', round(r.mad_n::numeric, 2),
							'z_score', round(r.z_n::numeric, 2),
							'baseline_median_tokens', round(r.med_t::numeric, 2), 'baseline_mad_tokens', round(r.mad_t::numeric, 2),
							'z_score_tokens', round(r.z_t::numeric, 2),
							'baseline_windows', r.windows, 'baseline_windows_total', baseline_windows,
							'first_seen', r.first_seen, 'last_seen', r.last_seen,
							'window_seconds', extract(epoch FROM win)::bigint, 'window_start', win_start, 'window_end', win_end,
							'baseline_start', win_end - (baseline_windows + 1) * win),
						aiguard.wallet_fingerprint('wallet_attack_volume', tbl, r.resource, NULL,
												   r.first_seen, win)) THEN
						raised := raised + 1;
					END IF;
				END;
			END LOOP;
		EXCEPTION WHEN OTHERS THEN
			-- one table's broken mapping must not stop the others
			RAISE WARNING 'aiguard wallet detection skipped table %: %', pt.relid, SQLERRM;
		END;
	END LOOP;
	RETURN raised;
END
$$;
COMMENT ON FUNCTION aiguard_detect_wallet_attacks(interval, int) IS
	'Looks for wallet attacks (recurring identical requests, volume far above the resource''s baseline) in every protected table; returns the alerts raised or continued';
REVOKE ALL ON FUNCTION aiguard_detect_wallet_attacks(interval, int) FROM PUBLIC;

--
-- A coarse user-agent family: the browser (Chrome, Firefox, Safari, Edge,
-- Opera, ...) for browser agents, otherwise the first product token
-- without its version (curl, python-requests, okhttp, ...), lower-cased.
-- NULL for an empty agent.
--
CREATE FUNCTION aiguard.user_agent_family(ua text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS
$$
	SELECT CASE
		WHEN btrim(ua) = '' THEN NULL
		WHEN ua ~ '\m(Edg|Edge|EdgA|EdgiOS)/' THEN 'Edge'
		WHEN ua ~ '\m(OPR|Opera|OPiOS)\M' THEN 'Opera'
		WHEN ua ~ '\mSamsungBrowser/' THEN 'Samsung Internet'
		WHEN ua ~ '\m(Firefox|FxiOS)/' THEN 'Firefox'
		WHEN ua ~ '\m(Chrome|Chromium|CriOS)/' THEN 'Chrome'
		WHEN ua ~ '\mVersion/[0-9.]+.*\mSafari/' OR ua ~ '^Mozilla/[0-9.]+ \((iPhone|iPad|Macintosh)' THEN 'Safari'
		WHEN ua ~ '\m(MSIE|Trident/)' THEN 'Internet Explorer'
		ELSE left(lower(substring(btrim(ua) FROM '^[^/\s;()]+')), 40)
	END
$$;

--
-- Access anomalies.
--
-- For each protected table with user_id, a created_at column and client_ip
-- and/or user_agent: the recent period runs from the previous run over that
-- table (minus 5 minutes, for rows committed late; or now() - since, or on a
-- first run the last aiguard.wallet_window) to now().  A user's baseline
-- is the aiguard.access_baseline period (30 days) before the recent period.
-- A user with a baseline -- at least 20 rows on at least 3 distinct days --
-- seen in the recent period from an IP range (/16 for IPv4, /48 for IPv6)
-- or user-agent family that the baseline does not contain raises one alert
-- per (table, user, new range or family).  Users without such a baseline,
-- and baselines without any address (or agent) at all, are not judged.
--
CREATE FUNCTION aiguard_detect_access_anomalies(since interval DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	baseline interval := aiguard.setting_interval('aiguard.access_baseline', interval '30 days');
	first_period interval := aiguard.setting_interval('aiguard.wallet_window', interval '10 minutes');
	min_rows constant int := 20;
	min_days constant int := 3;
	late_rows constant interval := interval '5 minutes';
	period_end timestamptz := now();
	period_start timestamptz;
	pt record;
	r record;
	tbl text;
	at_col text;
	at_expr text;
	user_key text;
	ip_expr text;
	ua_expr text;
	src text;
	raised bigint := 0;
BEGIN
	IF since IS NOT NULL AND since <= interval '0' THEN
		RAISE EXCEPTION 'since must be a positive interval'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('aiguard_detect_access_anomalies'));

	FOR pt IN SELECT p.relid, p.mapping, p.protected_at FROM aiguard.protected_tables p
			   WHERE aiguard.time_column(p.mapping) IS NOT NULL AND p.mapping ? 'user_id'
				 AND (p.mapping ? 'client_ip' OR p.mapping ? 'user_agent')
			   ORDER BY p.relid::oid
	LOOP
		BEGIN
			PERFORM aiguard.require_safe_to_read(pt.relid);
			tbl := aiguard.qualified_name(pt.relid);
			period_start := coalesce(
				period_end - since,
				(SELECT d.last_run_at - late_rows FROM aiguard.detector_runs d
				  WHERE d.relid = pt.relid AND d.detector = 'access_anomaly'
					AND d.last_run_at > pt.protected_at),
				period_end - first_period);
			at_col := aiguard.time_column(pt.mapping);
			at_expr := aiguard.mapping_expr(pt.relid, pt.mapping, 'created_at', 'time');
			user_key := aiguard.mapping_expr(pt.relid, pt.mapping, 'user_id', 'key');
			ip_expr := coalesce(aiguard.mapping_expr(pt.relid, pt.mapping, 'client_ip', 'text'), 'NULL::pg_catalog.text');
			ua_expr := coalesce(aiguard.mapping_expr(pt.relid, pt.mapping, 'user_agent', 'text'), 'NULL::pg_catalog.text');
			-- rows of the table between $1 and $2, with the user's key as it
			-- is stored (for an index on (user, created_at)), the address, its
			-- /16 or /48 range and the agent family
			-- (%7$s and %8$s: the parameters holding the time range)
			src := 'SELECT %1$s AS user_key, %2$s AS at, a.addr, '
				   '		pg_catalog.set_masklen(pg_catalog.network(a.addr), CASE pg_catalog.family(a.addr) WHEN 4 THEN 16 ELSE 48 END)::pg_catalog.cidr AS net, '
				   '		%3$s AS ua, aiguard.user_agent_family(%3$s) AS family '
				   '  FROM %4$s AS t '
				   '  CROSS JOIN LATERAL (SELECT @extschema@.aiguard_parse_address(%5$s) AS addr) a '
				   ' WHERE t.%6$I >= %7$s AND t.%6$I < %8$s AND %1$s IS NOT NULL';

			FOR r IN EXECUTE format($q$
				WITH recent AS (%1$s),
				users AS (SELECT DISTINCT user_key FROM recent),
				-- each recent user's baseline, read per user (for an index on (user, created_at))
				base AS (
					SELECT u.user_key, b.n, b.days, b.nets, b.families
					  FROM users u
					 CROSS JOIN LATERAL (
						SELECT pg_catalog.count(*) AS n,
							   pg_catalog.count(DISTINCT pg_catalog.date_trunc('day', h.at)) AS days,
							   pg_catalog.array_agg(DISTINCT h.net) FILTER (WHERE h.net IS NOT NULL) AS nets,
							   pg_catalog.array_agg(DISTINCT h.family) FILTER (WHERE h.family IS NOT NULL) AS families
						  FROM (%2$s AND %3$s = u.user_key) h) b
					 WHERE b.n >= $5 AND b.days >= $6),
				novel AS (
					SELECT r.user_key, 'ip_range' AS kind, r.net::pg_catalog.text AS value,
						   pg_catalog.cardinality(b.nets) AS known,
						   pg_catalog.min(r.at) AS first_seen, pg_catalog.max(r.at) AS last_seen,
						   pg_catalog.count(*) AS n,
						   (pg_catalog.array_agg(r.addr ORDER BY r.at))[1] AS first_addr,
						   (pg_catalog.array_agg(r.ua ORDER BY r.at))[1] AS first_ua
					  FROM recent r JOIN base b ON b.user_key = r.user_key
					 WHERE r.net IS NOT NULL AND b.nets IS NOT NULL AND r.net <> ALL (b.nets)
					 GROUP BY r.user_key, r.net, b.nets
					UNION ALL
					SELECT r.user_key, 'user_agent_family', r.family,
						   pg_catalog.cardinality(b.families),
						   pg_catalog.min(r.at), pg_catalog.max(r.at), pg_catalog.count(*),
						   (pg_catalog.array_agg(r.addr ORDER BY r.at))[1],
						   (pg_catalog.array_agg(r.ua ORDER BY r.at))[1]
					  FROM recent r JOIN base b ON b.user_key = r.user_key
					 WHERE r.family IS NOT NULL AND b.families IS NOT NULL AND r.family <> ALL (b.families)
					 GROUP BY r.user_key, r.family, b.families)
				SELECT n.user_key::pg_catalog.text AS user_id, n.kind, n.value, n.known,
					   n.first_seen, n.last_seen, n.n, n.first_addr, n.first_ua, b.n AS baseline_rows, b.days AS baseline_days
				  FROM novel n JOIN base b ON b.user_key = n.user_key
				 ORDER BY 1, 2, 3
				$q$,
				format(src, user_key, at_expr, ua_expr, tbl, ip_expr, at_col, '$1', '$2'),
				format(src, user_key, at_expr, ua_expr, tbl, ip_expr, at_col, '$3', '$4'),
				user_key)
				USING period_start, period_end, period_start - baseline, period_start, min_rows, min_days
			LOOP
				IF aiguard.write_window_alert(
					'access_anomaly',
					CASE r.kind WHEN 'ip_range' THEN 0.6 ELSE 0.5 END::real,
					ARRAY[CASE r.kind WHEN 'ip_range' THEN 'access.new_ip_range' ELSE 'access.new_user_agent_family' END],
					tbl, NULL, r.user_id, r.first_addr, left(r.first_ua, 1000),
					jsonb_build_object(
						'user_id', r.user_id, 'kind', r.kind,
						CASE r.kind WHEN 'ip_range' THEN 'ip_range' ELSE 'user_agent_family' END, r.value,
						CASE r.kind WHEN 'ip_range' THEN 'known_ip_ranges' ELSE 'known_user_agent_families' END, r.known,
						'first_seen', r.first_seen, 'last_seen', r.last_seen, 'rows', r.n,
						'baseline_rows', r.baseline_rows, 'baseline_days', r.baseline_days,
						'baseline_seconds', extract(epoch FROM baseline)::bigint,
						'baseline_start', period_start - baseline, 'baseline_end', period_start),
					md5(concat_ws('|', 'access_anomaly', tbl, r.user_id, r.kind, r.value))) THEN
					raised := raised + 1;
				END IF;
			END LOOP;

			INSERT INTO aiguard.detector_runs AS d (relid, detector, last_run_at)
			VALUES (pt.relid, 'access_anomaly', period_end)
			ON CONFLICT (relid, detector) DO UPDATE
				SET last_run_at = greatest(d.last_run_at, excluded.last_run_at);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'aiguard access anomaly detection skipped table %: %', pt.relid, SQLERRM;
		END;
	END LOOP;
	RETURN raised;
END
$$;
COMMENT ON FUNCTION aiguard_detect_access_anomalies(interval) IS
	'Looks for known users seen from a new IP range or user-agent family in every protected table; returns the alerts raised or continued';
REVOKE ALL ON FUNCTION aiguard_detect_access_anomalies(interval) FROM PUBLIC;

-- Forget bookkeeping of dropped tables along with their protection.
CREATE FUNCTION aiguard.forget_dropped_detector_runs() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	DELETE FROM aiguard.detector_runs
	 WHERE relid::oid IN (SELECT objid FROM pg_event_trigger_dropped_objects()
						   WHERE classid = 'pg_class'::regclass);
END
$$;
CREATE EVENT TRIGGER aiguard_forget_dropped_detector_runs ON sql_drop
	EXECUTE FUNCTION aiguard.forget_dropped_detector_runs();
