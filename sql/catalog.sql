-- catalog: alert types, alerts table, views.
SELECT code, severity, tactics, tactic_ids, atlas_techniques
  FROM aiguard.alert_types ORDER BY code COLLATE "C";
SELECT count(*) AS alert_types FROM aiguard.alert_types;
SELECT bool_and(cardinality(tactics) = cardinality(tactic_ids)) AS tactics_have_ids,
	   bool_and(length(description) > 40) AS described
  FROM aiguard.alert_types;
SELECT 'low'::aiguard.severity < 'medium' AND 'medium'::aiguard.severity < 'high' AS ordered;

-- columns of SPEC 2.2
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'aiguard.alerts'::regclass AND attnum > 0 ORDER BY attnum;

-- the analyst's views answer on an empty table
SELECT count(*) FROM aiguard.open_alerts;
SELECT count(*) FROM aiguard.alert_summary;
SELECT count(*) FROM aiguard.incidents;
SELECT count(*) FROM aiguard.alerts_ocsf;

-- status and action are constrained
\set VERBOSITY terse
INSERT INTO aiguard.alerts (alert_type, severity, tactics, confidence, status, fingerprint)
VALUES ('jailbreak_detected', 'medium', '{}', 0.5, 'bogus', 'x');
INSERT INTO aiguard.alerts (alert_type, severity, tactics, confidence, fingerprint)
VALUES ('no_such_type', 'medium', '{}', 0.5, 'x');
\set VERBOSITY default
