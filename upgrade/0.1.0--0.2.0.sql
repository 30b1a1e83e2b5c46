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

-- A built-in rule the owner switched off stays off through pg_dump and
-- restore (pg_extension_config_dump replaces the table's filter).
SELECT pg_catalog.pg_extension_config_dump('aiguard.rules', 'WHERE NOT builtin OR NOT enabled');

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
