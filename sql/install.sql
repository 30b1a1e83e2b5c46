-- install: the extension installs, drops cleanly and installs again.
CREATE EXTENSION aiguard;
SELECT extname, extversion FROM pg_extension WHERE extname = 'aiguard';

-- what it created
SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'aiguard' AND c.relkind IN ('r', 'v') ORDER BY c.relname COLLATE "C";
SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND p.proname LIKE 'aiguard%' ORDER BY p.proname COLLATE "C";
SELECT count(*) > 50 AS has_builtin_rules, bool_and(builtin) AS all_builtin FROM aiguard.rules;
SELECT name, builtin, length(body) > 1000 AS has_weights FROM aiguard.models;

-- DROP EXTENSION removes everything it created
DROP EXTENSION aiguard;
SELECT count(*) AS aiguard_schemas FROM pg_namespace WHERE nspname = 'aiguard';
SELECT count(*) AS aiguard_functions FROM pg_proc WHERE proname LIKE 'aiguard%';
SELECT count(*) AS aiguard_types FROM pg_type WHERE typname = 'severity';
SELECT count(*) AS aiguard_event_triggers FROM pg_event_trigger WHERE evtname LIKE 'aiguard%';

CREATE EXTENSION aiguard;
-- used by later tests to open a second session
CREATE EXTENSION dblink;
-- a UTF-8 database is required for scanning
SELECT getdatabaseencoding();
