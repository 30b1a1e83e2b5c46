-- schema/indicators.sql
--	  Loading threat indicators: newline lists with '#' comments, and the Tor
--	  project's exit-addresses format.  A reload of a source replaces that
--	  source's entries in one transaction, so readers never see an empty list.

CREATE FUNCTION aiguard_parse_address(value text) RETURNS inet
	AS 'MODULE_PATHNAME', 'aiguard_parse_address'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aiguard_parse_address(text) IS
	'An IPv4/IPv6 address or network (a.b.c.d, a.b.c.d/n, IPv6, [IPv6], with or without a port), or NULL when it is not one; never raises an error';

CREATE FUNCTION aiguard_normalize_indicator(kind text, value text) RETURNS text
	AS 'MODULE_PATHNAME', 'aiguard_normalize_indicator'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aiguard_normalize_indicator(text, text) IS
	'A url or domain indicator normalised as URLs found in text are (lowercase punycode host, no default port, no scheme or fragment), or NULL when it is not one';

CREATE FUNCTION aiguard.domain_suffixes(host text) RETURNS text[]
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog AS
$$
	SELECT array_agg(array_to_string(p[i:], '.') ORDER BY i)
	  FROM (SELECT string_to_array(rtrim(lower(host), '.'), '.') AS p) s,
		   generate_subscripts(p, 1) AS i
	 WHERE i < array_length(p, 1) OR array_length(p, 1) = 1
$$;

CREATE FUNCTION aiguard_load_indicators(kind text, category text, source text, data text)
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog AS
$$
DECLARE
	line text;
	lineno int := 0;
	v text;
	addr inet;
	good text[] := '{}';
	nets inet[] := '{}';
	bad int := 0;
	bad_examples text[] := '{}';
	loaded bigint;
BEGIN
	IF kind IS NULL OR kind NOT IN ('ip', 'cidr', 'domain', 'url', 'user_agent') THEN
		RAISE EXCEPTION 'invalid indicator kind "%"', kind
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Kinds are "ip", "cidr", "domain", "url" and "user_agent".';
	END IF;
	IF category IS NULL OR category = '' OR source IS NULL OR source = '' THEN
		RAISE EXCEPTION 'category and source must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF data IS NULL THEN
		RAISE EXCEPTION 'indicator data must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;

	FOR line IN SELECT regexp_split_to_table(data, E'\r?\n') LOOP
		lineno := lineno + 1;
		-- a comment starts the line or follows white space (URLs keep their #fragment)
		v := btrim(regexp_replace(line, '(^|\s)#.*$', ''));
		CONTINUE WHEN v = '';
		addr := NULL;
		IF kind IN ('ip', 'cidr') THEN
			addr := @extschema@.aiguard_parse_address(v);
			IF addr IS NULL OR (kind = 'ip' AND masklen(addr) <> (CASE family(addr) WHEN 4 THEN 32 ELSE 128 END)) THEN
				v := NULL;
			ELSE
				v := CASE WHEN kind = 'ip' THEN host(addr) ELSE network(addr)::text END;
				addr := CASE WHEN kind = 'ip' THEN addr ELSE network(addr)::inet END;
			END IF;
		ELSIF kind = 'domain' THEN
			-- lowercase, punycode for IDN, no trailing dot: as hosts in text are
			v := @extschema@.aiguard_normalize_indicator('domain', v);
			IF v !~ '^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$' THEN
				v := NULL;
			END IF;
		ELSIF kind = 'url' THEN
			-- stored without scheme, as extracted URLs are matched
			IF v !~* '^([a-z][a-z0-9+.-]*://)?[^\s/?#]+\.[^\s/?#]+' THEN
				v := NULL;
			ELSE
				v := @extschema@.aiguard_normalize_indicator('url', v);
			END IF;
		ELSIF length(v) > 1000 THEN
			v := NULL;
		END IF;
		IF v IS NULL THEN
			bad := bad + 1;
			IF cardinality(bad_examples) < 5 THEN
				bad_examples := bad_examples || format('line %s: %s', lineno, left(line, 80));
			END IF;
			CONTINUE;
		END IF;
		good := good || v;
		nets := nets || addr;
	END LOOP;

	IF bad > 0 THEN
		RAISE NOTICE '% of % lines were not valid % indicators and were skipped', bad, bad + cardinality(good), kind
			USING DETAIL = array_to_string(bad_examples, E'\n');
	END IF;

	-- replace the source's entries of this kind, keeping first_seen of known ones
	INSERT INTO aiguard.indicators AS i (kind, value, net, category, source)
	SELECT DISTINCT ON (u.value) aiguard_load_indicators.kind, u.value, u.net,
		   aiguard_load_indicators.category, aiguard_load_indicators.source
	  FROM unnest(good, nets) AS u(value, net)
	ON CONFLICT ON CONSTRAINT indicators_source_kind_value_key DO UPDATE
		SET last_seen = now(), category = excluded.category, net = excluded.net;
	DELETE FROM aiguard.indicators i
	 WHERE i.source = aiguard_load_indicators.source AND i.kind = aiguard_load_indicators.kind
	   AND i.value <> ALL (good);
	SELECT count(*) INTO loaded FROM aiguard.indicators i
	 WHERE i.source = aiguard_load_indicators.source AND i.kind = aiguard_load_indicators.kind;
	RETURN loaded;
END
$$;
COMMENT ON FUNCTION aiguard_load_indicators(text, text, text, text) IS
	'Loads a newline list of indicators of one kind for a source, replacing that source''s previous entries; returns the count loaded';

CREATE FUNCTION aiguard_load_tor_exits(data text, source text DEFAULT 'tor-exit-list')
	RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog AS
$$
DECLARE
	ips text;
BEGIN
	IF data IS NULL THEN
		RAISE EXCEPTION 'indicator data must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- exit-addresses: "ExitAddress 1.2.3.4 2024-01-01 00:00:00"; other
	-- descriptor lines (ExitNode, Published, LastStatus) carry no address.
	-- Plain lists of addresses are accepted too.
	SELECT string_agg(CASE WHEN l ~ '^ExitAddress\s' THEN split_part(regexp_replace(l, '\s+', ' ', 'g'), ' ', 2)
						   ELSE l END, E'\n')
	  INTO ips
	  FROM regexp_split_to_table(data, E'\r?\n') AS l
	 WHERE l !~ '^(ExitNode|Published|LastStatus)\s';
	RETURN @extschema@.aiguard_load_indicators('ip', 'tor_exit', source, coalesce(ips, ''));
END
$$;
COMMENT ON FUNCTION aiguard_load_tor_exits(text, text) IS
	'Loads Tor exit addresses (the Tor project''s exit-addresses format or a plain list), replacing the source''s previous entries';

REVOKE ALL ON FUNCTION aiguard_load_indicators(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aiguard_load_tor_exits(text, text) FROM PUBLIC;

CREATE TRIGGER indicators_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aiguard.indicators
	FOR EACH STATEMENT EXECUTE FUNCTION aiguard_catalog_changed();
