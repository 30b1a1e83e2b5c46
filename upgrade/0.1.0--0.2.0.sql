-- upgrade/0.1.0--0.2.0.sql
--	  The schema changes from 0.1.0 to 0.2.0, written by hand.  The Makefile
--	  appends the alert types and the built-in rules and model of this build
--	  (schema/alert_types.sql, schema/rules.sql) to make
--	  aiguard--0.1.0--0.2.0.sql: see upgrade/README.md.

\echo Use "ALTER EXTENSION aiguard UPDATE TO '0.2.0'" to load this file. \quit

-- A model trained on the database's own data survives pg_dump, as its own
-- rules do.
SELECT pg_catalog.pg_extension_config_dump('aiguard.models', 'WHERE NOT builtin');

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
