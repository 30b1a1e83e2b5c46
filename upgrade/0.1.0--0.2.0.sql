-- upgrade/0.1.0--0.2.0.sql
--	  The schema changes from 0.1.0 to 0.2.0, written by hand.  The Makefile
--	  appends the alert types and the built-in rules and model of this build
--	  (schema/alert_types.sql, schema/rules.sql) to make
--	  aiguard--0.1.0--0.2.0.sql: see upgrade/README.md.

\echo Use "ALTER EXTENSION aiguard UPDATE TO '0.2.0'" to load this file. \quit

-- A model trained on the database's own data survives pg_dump, as its own
-- rules do.
SELECT pg_catalog.pg_extension_config_dump('aiguard.models', 'WHERE NOT builtin');
