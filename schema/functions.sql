-- schema/functions.sql
--	  SQL functions of aiguard: the scan, rule maintenance, and protection
--	  of chat-log tables.

-- Catalog triggers: validate rules as they are saved; tell every backend
-- to rebuild its compiled rule set after a change.
CREATE FUNCTION aiguard_rule_check() RETURNS trigger
	AS 'MODULE_PATHNAME', 'aiguard_rule_check' LANGUAGE C;
CREATE FUNCTION aiguard_catalog_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'aiguard_catalog_changed' LANGUAGE C;
REVOKE ALL ON FUNCTION aiguard_rule_check() FROM PUBLIC;
REVOKE ALL ON FUNCTION aiguard_catalog_changed() FROM PUBLIC;

CREATE TRIGGER rules_check BEFORE INSERT OR UPDATE ON aiguard.rules
	FOR EACH ROW EXECUTE FUNCTION aiguard_rule_check();
CREATE TRIGGER rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aiguard.rules
	FOR EACH STATEMENT EXECUTE FUNCTION aiguard_catalog_changed();
CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aiguard.models
	FOR EACH STATEMENT EXECUTE FUNCTION aiguard_catalog_changed();

-- Any edit of the rules or the model: this database no longer holds the
-- rule set as installed, and its sessions compile their own.
CREATE FUNCTION aiguard.forget_rule_set_origin() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	UPDATE aiguard.rule_set_origin SET fingerprint = NULL WHERE fingerprint IS NOT NULL;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION aiguard.forget_rule_set_origin() FROM PUBLIC;
CREATE TRIGGER rules_edited AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aiguard.rules
	FOR EACH STATEMENT EXECUTE FUNCTION aiguard.forget_rule_set_origin();
CREATE TRIGGER models_edited AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aiguard.models
	FOR EACH STATEMENT EXECUTE FUNCTION aiguard.forget_rule_set_origin();

CREATE FUNCTION aiguard_rule_set(OUT rules int, OUT model boolean, OUT canaries int,
	OUT compiled_at_server_start boolean, OUT compiled_bytes bigint)
	AS 'MODULE_PATHNAME', 'aiguard_rule_set' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aiguard_rule_set() IS
	'The rule set this session scans with: rules, model, canaries, whether the postmaster compiled it at start (shared by every session, aiguard preloaded and the rules as installed) and its size';
REVOKE ALL ON FUNCTION aiguard_rule_set() FROM PUBLIC;

CREATE TRIGGER canaries_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aiguard.canaries
	FOR EACH STATEMENT EXECUTE FUNCTION aiguard_catalog_changed();
CREATE TRIGGER hash_key_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aiguard.hash_key
	FOR EACH STATEMENT EXECUTE FUNCTION aiguard_catalog_changed();

-- A key written replaces the one there: pg_dump saves the key, and its
-- restore, after CREATE EXTENSION has made a new one, brings back the old
-- key, so that the value hashes of restored alerts still match new ones.
-- (Writing a new key by hand rotates it.)
CREATE FUNCTION aiguard.replace_hash_key() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	DELETE FROM aiguard.hash_key;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION aiguard.replace_hash_key() FROM PUBLIC;
CREATE TRIGGER hash_key_replaced BEFORE INSERT ON aiguard.hash_key
	FOR EACH ROW EXECUTE FUNCTION aiguard.replace_hash_key();
CREATE TRIGGER alert_types_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aiguard.alert_types
	FOR EACH STATEMENT EXECUTE FUNCTION aiguard_catalog_changed();

CREATE FUNCTION aiguard.touch_updated_at() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog AS
$$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END
$$;
CREATE TRIGGER rules_touch BEFORE UPDATE ON aiguard.rules
	FOR EACH ROW EXECUTE FUNCTION aiguard.touch_updated_at();
CREATE TRIGGER models_touch BEFORE UPDATE ON aiguard.models
	FOR EACH ROW EXECUTE FUNCTION aiguard.touch_updated_at();

-- pg_dump saves the owner's rules and the built-in rules they switched off
-- (see pg_extension_config_dump in tables.sql).  Their restore comes after
-- CREATE EXTENSION has written the release's built-in rules: a switched-off
-- built-in rule switches the installed one off instead of being inserted a
-- second time, and a rule of the owner's under a built-in id replaces the
-- built-in rule, as an update keeps it in its place.  (An INSERT of either
-- outside a restore does the same.)
CREATE FUNCTION aiguard.settle_rule_insert() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	IF NEW.builtin THEN
		IF NOT NEW.enabled THEN
			UPDATE aiguard.rules SET enabled = false WHERE rule_id = NEW.rule_id AND builtin;
			IF FOUND THEN
				RETURN NULL;
			END IF;
		END IF;
	ELSE
		DELETE FROM aiguard.rules WHERE rule_id = NEW.rule_id AND builtin;
		IF FOUND THEN
			RAISE NOTICE 'aiguard rule "%" replaces the built-in rule of that id', NEW.rule_id;
		END IF;
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION aiguard.settle_rule_insert() FROM PUBLIC;
-- named to fire before rules_check: a row it absorbs needs no checking
CREATE TRIGGER rules_before_insert BEFORE INSERT ON aiguard.rules
	FOR EACH ROW EXECUTE FUNCTION aiguard.settle_rule_insert();

-- The pure scan.
CREATE FUNCTION aiguard_scan(content text, role text DEFAULT 'prompt')
	RETURNS TABLE (alert_type text, severity aiguard.severity, confidence real,
				   rule_id text, tactics text[], start_pos int, length int,
				   evidence text, details jsonb)
	AS 'MODULE_PATHNAME', 'aiguard_scan'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION aiguard_scan(text, text) IS
	'Scans a text as a prompt, response or tool output and returns the findings; writes nothing';

CREATE FUNCTION aiguard_check_rules()
	RETURNS TABLE (rule_id text, example text, should_match boolean, ok boolean)
	AS 'MODULE_PATHNAME', 'aiguard_check_rules'
	LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION aiguard_check_rules() IS
	'Runs every enabled rule''s match and near-miss examples through the full scanner';
REVOKE ALL ON FUNCTION aiguard_check_rules() FROM PUBLIC;

-- Canaries: secrets whose appearance in a response is a leak.
CREATE FUNCTION aiguard_add_canary(value text, description text DEFAULT '')
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog AS
$$
DECLARE
	id bigint;
BEGIN
	IF value IS NULL OR length(btrim(value)) < 4 THEN
		RAISE EXCEPTION 'canary value must have at least 4 characters'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Short values would match ordinary text; use aiguard_new_canary() for a random token.';
	END IF;
	INSERT INTO aiguard.canaries AS c (value, description)
	VALUES (btrim(aiguard_add_canary.value), coalesce(aiguard_add_canary.description, ''))
	ON CONFLICT ON CONSTRAINT canaries_value_key
		DO UPDATE SET description = excluded.description, enabled = true
	RETURNING c.canary_id INTO id;
	RETURN id;
END
$$;
COMMENT ON FUNCTION aiguard_add_canary(text, text) IS
	'Registers a secret or canary token; a response containing it raises instruction_leakage';

CREATE FUNCTION aiguard_new_canary(description text DEFAULT 'generated canary')
	RETURNS text
	LANGUAGE plpgsql SET search_path = pg_catalog AS
$$
DECLARE
	token text := 'AG-' || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 20));
BEGIN
	PERFORM @extschema@.aiguard_add_canary(token, description);
	RETURN token;
END
$$;
COMMENT ON FUNCTION aiguard_new_canary(text) IS
	'Returns a fresh random canary token, already registered, to embed in a system prompt';
REVOKE ALL ON FUNCTION aiguard_add_canary(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aiguard_new_canary(text) FROM PUBLIC;

-- The protection trigger: its arguments carry the column mapping.
CREATE FUNCTION aiguard_protect_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME', 'aiguard_protect_trigger' LANGUAGE C;
-- Only aiguard_protect() attaches it: a hand-made trigger could make the
-- worker scan (or the server store block-mode records for) any table.
REVOKE ALL ON FUNCTION aiguard_protect_trigger() FROM PUBLIC;

-- Resolves one mapping ("column" or "column:jsonpath") against tbl.
-- Returns {column, path}; raises an error naming what is wrong.
CREATE FUNCTION aiguard.resolve_mapping(tbl regclass, field text, spec text)
	RETURNS text[]
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS
$$
DECLARE
	col text;
	path text := '';
	typ oid;
BEGIN
	IF spec IS NULL OR spec = '' THEN
		RETURN ARRAY['', ''];
	END IF;
	-- a whole existing column name wins, even one containing ':'
	SELECT a.attname, a.atttypid INTO col, typ FROM pg_attribute a
	 WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped
	   AND (a.attname = spec OR quote_ident(a.attname) = spec);
	IF col IS NULL THEN
		IF strpos(spec, ':') = 0 THEN
			RAISE EXCEPTION 'column "%" of relation % does not exist', spec, tbl
				USING ERRCODE = 'undefined_column',
					  HINT = format('Map %s to an existing column, or to "column:jsonpath" for a json or jsonb column.', field);
		END IF;
		col := split_part(spec, ':', 1);
		path := substr(spec, length(col) + 2);
		SELECT a.attname, a.atttypid INTO col, typ FROM pg_attribute a
		 WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped
		   AND (a.attname = split_part(spec, ':', 1) OR quote_ident(a.attname) = split_part(spec, ':', 1));
		IF col IS NULL THEN
			RAISE EXCEPTION 'column "%" of relation % does not exist', split_part(spec, ':', 1), tbl
				USING ERRCODE = 'undefined_column';
		END IF;
		IF typ NOT IN ('json'::regtype, 'jsonb'::regtype) THEN
			RAISE EXCEPTION 'column "%" of relation % is of type %, not json or jsonb', col, tbl, typ::regtype
				USING ERRCODE = 'datatype_mismatch',
					  DETAIL = format('The %s mapping uses the jsonpath %s.', field, path);
		END IF;
		PERFORM path::jsonpath;		-- raises a syntax error for a bad path
	END IF;
	RETURN ARRAY[col, path];
END
$$;

-- (Re)creates tbl's aiguard_protect trigger: timing BEFORE or AFTER,
-- level FOR EACH ROW or the statement form, args its arguments (mode,
-- mapping, key columns).  For aiguard_protect() and
-- aiguard.keep_partitions_protected() alone: timing and level are theirs.
CREATE FUNCTION aiguard.create_protect_trigger(tbl regclass, timing text, level text, args text[])
	RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tbl AND tgname = 'aiguard_protect') THEN
		EXECUTE format('DROP TRIGGER aiguard_protect ON %s', tbl);
	END IF;
	EXECUTE format('CREATE TRIGGER aiguard_protect %s INSERT ON %s %s EXECUTE FUNCTION @extschema@.aiguard_protect_trigger(%s)',
				   timing, tbl, level,
				   (SELECT string_agg(quote_literal(a), ', ' ORDER BY o)
					  FROM unnest(args) WITH ORDINALITY AS u(a, o)));
END
$$;
REVOKE ALL ON FUNCTION aiguard.create_protect_trigger(regclass, text, text, text[]) FROM PUBLIC;

CREATE FUNCTION aiguard_protect(
	tbl regclass,
	prompt text DEFAULT NULL,
	response text DEFAULT NULL,
	tool text DEFAULT NULL,
	content text DEFAULT NULL,
	role_column text DEFAULT NULL,
	system text DEFAULT NULL,
	conversation text DEFAULT NULL,
	user_id text DEFAULT NULL,
	client_ip text DEFAULT NULL,
	user_agent text DEFAULT NULL,
	resource text DEFAULT NULL,
	created_at text DEFAULT NULL,
	tokens text DEFAULT NULL,
	mode text DEFAULT 'detect',
	preset text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog AS
$$
DECLARE
	fields text[] := ARRAY['prompt', 'response', 'tool', 'content', 'role_column', 'system',
						   'conversation', 'user_id', 'client_ip', 'user_agent', 'resource',
						   'created_at', 'tokens'];
	specs text[] := ARRAY[prompt, response, tool, content, role_column, system,
						  conversation, user_id, client_ip, user_agent, resource,
						  created_at, tokens];
	defaults text[];
	args text[] := ARRAY[]::text[];
	mapping jsonb := '{}';
	keycols text[];
	resolved text[];
	i int;
	relkind "char";
BEGIN
	SELECT c.relkind INTO relkind FROM pg_class c WHERE c.oid = tbl;
	IF relkind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION '% is not a table', tbl
			USING ERRCODE = 'wrong_object_type';
	END IF;
	IF mode IS NULL OR mode NOT IN ('detect', 'block', 'async') THEN
		RAISE EXCEPTION 'invalid protection mode "%"', mode
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Valid modes are "detect", "block" and "async".';
	END IF;
	IF mode <> 'detect' THEN
		-- async scans and the alerts of blocked rows are the worker's job
		PERFORM aiguard.require_worker(format('protection mode "%s"', mode));
	END IF;

	IF preset IS NOT NULL THEN
		IF preset = 'litellm' THEN
			defaults := ARRAY[
				'messages:$[*] ? (@.role == "user").content',
				'response:$.choices[*].message',
				'messages:$[*] ? (@.role == "tool").content',
				NULL, NULL,
				'messages:$[*] ? (@.role == "system").content',
				'session_id', 'end_user', 'requester_ip_address', NULL, 'model',
				'startTime', 'total_tokens'];
		ELSIF preset = 'langchain' THEN
			defaults := ARRAY[NULL, NULL, NULL,
				'message:$.data', 'message:$.type', NULL,
				'session_id', NULL, NULL, NULL, NULL, 'created_at', NULL];
		ELSE
			RAISE EXCEPTION 'unknown preset "%"', preset
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Known presets are "litellm" and "langchain".';
		END IF;
		FOR i IN 1 .. array_length(fields, 1) LOOP
			-- a preset fills what the caller left out, where the column exists
			IF specs[i] IS NULL AND defaults[i] IS NOT NULL AND EXISTS (
				SELECT 1 FROM pg_attribute a WHERE a.attrelid = tbl AND a.attnum > 0
				   AND NOT a.attisdropped AND a.attname = split_part(defaults[i], ':', 1)) THEN
				specs[i] := defaults[i];
			END IF;
		END LOOP;
	END IF;

	IF specs[1] IS NULL AND specs[2] IS NULL AND specs[3] IS NULL AND specs[4] IS NULL THEN
		RAISE EXCEPTION 'no text column to scan in %', tbl
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Map prompt and/or response (or tool), or content with role_column for one message per row.';
	END IF;
	IF specs[4] IS NOT NULL AND (specs[1] IS NOT NULL OR specs[2] IS NOT NULL) THEN
		RAISE EXCEPTION 'content cannot be mapped together with prompt or response'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use content and role_column for one message per row, prompt and response for one exchange per row.';
	END IF;

	FOR i IN 1 .. array_length(fields, 1) LOOP
		resolved := aiguard.resolve_mapping(tbl, fields[i], specs[i]);
		args := args || resolved;
		IF specs[i] IS NOT NULL THEN
			mapping := mapping || jsonb_build_object(fields[i],
				CASE WHEN resolved[2] = '' THEN to_jsonb(resolved[1])
					 ELSE jsonb_build_object('column', resolved[1], 'path', resolved[2]) END);
		END IF;
	END LOOP;

	SELECT array_agg(a.attname ORDER BY k.ord) INTO keycols
	  FROM pg_index x
	  CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
	  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
	 WHERE x.indrelid = tbl AND x.indisprimary;
	IF keycols IS NULL AND mode = 'async' THEN
		RAISE EXCEPTION 'table % has no primary key', tbl
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'In async mode the worker finds queued rows by primary key.',
				  HINT = 'Add a primary key, or use mode => ''detect''.';
	END IF;
	IF keycols IS NULL THEN
		RAISE NOTICE 'table % has no primary key', tbl
			USING DETAIL = 'Alerts on its rows will have no source_key and are not de-duplicated.',
				  HINT = 'Add a primary key so that alerts point at the row that raised them.';
		keycols := ARRAY[]::text[];
	END IF;
	mapping := mapping || jsonb_build_object('key', to_jsonb(keycols));

	-- block mode must see the row before it is stored, to reject it.
	-- Detect mode reads the statement's new rows as inserted, before TOAST
	-- compressed them (a row trigger would read each back from the table):
	-- a statement trigger with a transition table, except where rows can
	-- arrive without this table's statement triggers firing (rows routed
	-- into a partition; rows a logical-replication subscription applies) or
	-- where the row trigger must be cloned onto partitions (a partitioned
	-- table).  A table attached as a partition later gets a row trigger
	-- then (aiguard.keep_partitions_protected).
	PERFORM aiguard.create_protect_trigger(tbl,
				   CASE WHEN mode = 'block' THEN 'BEFORE' ELSE 'AFTER' END,
				   CASE WHEN mode = 'detect' AND relkind = 'r' AND
							 NOT (SELECT c.relispartition FROM pg_class c WHERE c.oid = tbl) AND
							 NOT EXISTS (SELECT 1 FROM pg_subscription_rel r WHERE r.srrelid = tbl)
						THEN 'REFERENCING NEW TABLE AS aiguard_new_rows FOR EACH STATEMENT'
						ELSE 'FOR EACH ROW' END,
				   ARRAY[mode] || args || keycols);

	INSERT INTO aiguard.protected_tables AS p (relid, mode, mapping)
	VALUES (tbl, mode, mapping)
	ON CONFLICT (relid) DO UPDATE
		SET mode = excluded.mode, mapping = excluded.mapping, protected_at = now();

	-- the time-window detectors read by created_at: see that it is indexed
	IF jsonb_typeof(mapping -> 'created_at') = 'string' THEN
		PERFORM aiguard.ensure_time_index(tbl, mapping ->> 'created_at');
	END IF;
END
$$;
COMMENT ON FUNCTION aiguard_protect(regclass, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text) IS
	'Protects a chat-log table: every inserted row is scanned and findings become alerts';

CREATE FUNCTION aiguard_rescan(tbl regclass, since timestamptz DEFAULT NULL)
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'aiguard_rescan'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aiguard_rescan(regclass, timestamptz) IS
	'Scans rows already stored (since created_at >= since) with the current rules; returns the number of new alerts';
REVOKE ALL ON FUNCTION aiguard_rescan(regclass, timestamptz) FROM PUBLIC;

CREATE FUNCTION aiguard_unprotect(tbl regclass) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog AS
$$
DECLARE
	dropped bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM aiguard.protected_tables WHERE relid = tbl) THEN
		RAISE NOTICE 'table % is not protected by aiguard, skipping', tbl;
	END IF;
	IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tbl AND tgname = 'aiguard_protect') THEN
		EXECUTE format('DROP TRIGGER aiguard_protect ON %s', tbl);
	END IF;
	DELETE FROM aiguard.protected_tables WHERE relid = tbl;
	WITH gone AS (
		DELETE FROM aiguard.scan_queue q
		 WHERE q.relid = tbl::oid
			OR q.relid IN (SELECT i.relid FROM pg_partition_tree(tbl) i)
		RETURNING 1)
	SELECT count(*) INTO dropped FROM gone;
	IF dropped > 0 THEN
		RAISE NOTICE '% queued rows of % will not be scanned', dropped, tbl
			USING HINT = 'Run SELECT aiguard_process_queue() before aiguard_unprotect() to scan them first.';
	END IF;
END
$$;
COMMENT ON FUNCTION aiguard_unprotect(regclass) IS
	'Removes aiguard protection from a table; its alerts are kept';

REVOKE ALL ON FUNCTION aiguard_protect(regclass, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aiguard_unprotect(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION aiguard.resolve_mapping(regclass, text, text) FROM PUBLIC;

-- Forget protected tables that are dropped.
-- SECURITY DEFINER: every role's DROP fires it, and only the owner may
-- touch aiguard's tables.
CREATE FUNCTION aiguard.forget_dropped_tables() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	DELETE FROM aiguard.protected_tables
	 WHERE relid::oid IN (SELECT objid FROM pg_event_trigger_dropped_objects()
						   WHERE classid = 'pg_class'::regclass);
	-- queued rows of a dropped table are gone: nothing left to scan
	DELETE FROM aiguard.scan_queue
	 WHERE relid IN (SELECT objid FROM pg_event_trigger_dropped_objects()
					  WHERE classid = 'pg_class'::regclass);
END
$$;
CREATE EVENT TRIGGER aiguard_forget_dropped_tables ON sql_drop
	EXECUTE FUNCTION aiguard.forget_dropped_tables();

-- A table protected in detect mode by a statement trigger that becomes a
-- partition (ALTER TABLE ... ATTACH PARTITION) would miss the rows routed
-- to it through its parent, which fire no statement trigger of its own:
-- its trigger becomes a row trigger, with the same arguments.  Only
-- aiguard's own trigger, calling aiguard's own function, is rebuilt, from
-- its arguments alone.  SECURITY DEFINER: any role's ALTER TABLE fires it,
-- and only the extension owner may be trusted to recreate the trigger.
CREATE FUNCTION aiguard.keep_partitions_protected() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	t record;
	rest bytea;
	args text[];
	pos int;
BEGIN
	FOR t IN
		SELECT tg.tgrelid::regclass AS tbl, tg.tgargs, tg.tgnargs
		  FROM aiguard.protected_tables p
		  JOIN pg_class c ON c.oid = p.relid
		  JOIN pg_trigger tg ON tg.tgrelid = c.oid AND tg.tgname = 'aiguard_protect'
		 WHERE c.relispartition AND tg.tgtype & 1 = 0
		   AND tg.tgfoid = '@extschema@.aiguard_protect_trigger'::regproc
	LOOP
		-- the arguments: each ends in a zero byte
		args := ARRAY[]::text[];
		rest := t.tgargs;
		FOR k IN 1 .. t.tgnargs LOOP
			pos := position('\x00'::bytea IN rest);
			args := args || convert_from(substring(rest FROM 1 FOR pos - 1), 'UTF8');
			rest := substring(rest FROM pos + 1);
		END LOOP;
		PERFORM aiguard.create_protect_trigger(t.tbl, 'AFTER', 'FOR EACH ROW', args);
	END LOOP;
END
$$;
CREATE EVENT TRIGGER aiguard_keep_partitions_protected ON ddl_command_end
	WHEN TAG IN ('ALTER TABLE')
	EXECUTE FUNCTION aiguard.keep_partitions_protected();
