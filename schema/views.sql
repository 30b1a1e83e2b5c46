-- schema/views.sql
--	  Analyst views over aiguard.alerts (SPEC 2.2).  Concatenated after
--	  tables.sql and alert_types.sql.

--
-- open_alerts: the alerts still waiting for an analyst, newest first.
--
CREATE VIEW aiguard.open_alerts AS
SELECT a.alert_id,
	   a.detected_at,
	   a.last_seen_at,
	   a.occurrences,
	   a.alert_type,
	   t.title,
	   a.severity,
	   a.tactics,
	   a.status,
	   a.action,
	   a.confidence,
	   a.rule_ids,
	   a.source_table,
	   a.source_key,
	   a.role,
	   a.conversation_id,
	   a.user_id,
	   a.client_ip,
	   a.user_agent,
	   a.resource,
	   a.evidence,
	   a.details,
	   a.fingerprint
  FROM aiguard.alerts a
  JOIN aiguard.alert_types t ON t.code = a.alert_type
 WHERE a.status IN ('new', 'in_progress')
 ORDER BY a.detected_at DESC, a.alert_id DESC;

COMMENT ON VIEW aiguard.open_alerts IS
	'Alerts with status new or in_progress, newest first, with the alert type title';

--
-- alert_summary: counts per day (session time zone), alert type and severity.
--
CREATE VIEW aiguard.alert_summary AS
SELECT date_trunc('day', a.detected_at) AS day,
	   a.alert_type,
	   a.severity,
	   count(*) AS alert_count,
	   sum(a.occurrences)::bigint AS occurrences,
	   count(*) FILTER (WHERE a.status IN ('new', 'in_progress')) AS open_count,
	   count(*) FILTER (WHERE a.action = 'blocked') AS blocked_count
  FROM aiguard.alerts a
 GROUP BY 1, 2, 3
 ORDER BY 1 DESC, 3 DESC, 2;

COMMENT ON VIEW aiguard.alert_summary IS
	'Alert counts per day (detected_at truncated in the session time zone), alert type and severity; occurrences sums repeated sightings';

--
-- incidents: alerts correlated into incidents, the analyst's queue.
--
-- Alerts sharing a conversation_id form one incident.  Alerts without one
-- are grouped by user (or, failing that, client IP) within one-hour buckets
-- (UTC, so the key does not depend on the session time zone).  An alert with
-- neither is an incident of its own.  user_id and client_ip are the most
-- recent non-null values seen in the incident.
--
CREATE VIEW aiguard.incidents AS
WITH keyed AS (
	SELECT a.*,
		   CASE
			   WHEN a.conversation_id IS NOT NULL
				   THEN 'conversation:' || a.conversation_id
			   WHEN a.user_id IS NOT NULL OR a.client_ip IS NOT NULL
				   THEN CASE WHEN a.user_id IS NOT NULL
							 THEN 'user:' || a.user_id
							 ELSE 'ip:' || host(a.client_ip) END
						|| '@' || to_char(date_trunc('hour', a.detected_at AT TIME ZONE 'UTC'),
										  'YYYY-MM-DD"T"HH24":00Z"')
			   ELSE 'alert:' || a.alert_id
		   END AS incident_key
	  FROM aiguard.alerts a
),
tactics AS (
	SELECT k.incident_key,
		   array_agg(DISTINCT tac ORDER BY tac) AS tactics
	  FROM keyed k
	 CROSS JOIN LATERAL unnest(k.tactics) AS tac
	 GROUP BY k.incident_key
)
SELECT g.incident_key,
	   g.first_seen,
	   g.last_seen,
	   g.alert_count,
	   g.alert_types,
	   g.max_severity,
	   coalesce(tc.tactics, '{}'::text[]) AS tactics,
	   g.conversation_id,
	   g.user_id,
	   g.client_ip,
	   g.open,
	   g.alert_ids
  FROM (SELECT k.incident_key,
			   min(k.detected_at) AS first_seen,
			   greatest(max(k.last_seen_at), max(k.detected_at)) AS last_seen,
			   count(*) AS alert_count,
			   array_agg(DISTINCT k.alert_type ORDER BY k.alert_type) AS alert_types,
			   max(k.severity) AS max_severity,
			   min(k.conversation_id) AS conversation_id,
			   (array_agg(k.user_id ORDER BY k.detected_at DESC, k.alert_id DESC)
					FILTER (WHERE k.user_id IS NOT NULL))[1] AS user_id,
			   (array_agg(k.client_ip ORDER BY k.detected_at DESC, k.alert_id DESC)
					FILTER (WHERE k.client_ip IS NOT NULL))[1] AS client_ip,
			   bool_or(k.status IN ('new', 'in_progress')) AS open,
			   array_agg(k.alert_id ORDER BY k.detected_at, k.alert_id) AS alert_ids
		  FROM keyed k
		 GROUP BY k.incident_key) g
  LEFT JOIN tactics tc ON tc.incident_key = g.incident_key
 ORDER BY g.last_seen DESC, g.first_seen DESC, g.incident_key;

COMMENT ON VIEW aiguard.incidents IS
	'Alerts correlated into incidents: by conversation, else by user or client IP within a one-hour (UTC) window, else one alert each; with highest severity, union of tactics and whether any alert is still open';

--
-- alerts_ocsf: each alert as an OCSF 1.1.0 Detection Finding (class_uid 2004)
-- for SIEM ingestion.
--
-- Mapping notes:
--	 severity_id	low 2, medium 3, high 4
--	 status_id		new 1 New, in_progress 2 In Progress, dismissed 3 Suppressed,
--					resolved 4 Resolved
--	 action_id		(security_control profile) blocked 2 Denied, detected 1 Allowed
--	 time			detection time, ms since the epoch; start_time/end_time span
--					the first and last sighting, count the sightings
--	 finding_info.attacks  one entry per ATT&CK tactic of the alert, then one
--					per MITRE ATLAS technique of its type (technique.uid AML.*)
--	 user and client IP sit in evidences[] (actor, src_endpoint), where
--	 Detection Finding defines them; the user is also given as top-level actor.
--	 Fields OCSF has no place for (role, conversation, model, details) are in
--	 evidences[].data and unmapped.
--
CREATE VIEW aiguard.alerts_ocsf AS
SELECT a.alert_id,
	   jsonb_strip_nulls(jsonb_build_object(
		   'activity_id', 1,
		   'activity_name', 'Create',
		   'category_uid', 2,
		   'category_name', 'Findings',
		   'class_uid', 2004,
		   'class_name', 'Detection Finding',
		   'type_uid', 200401,
		   'type_name', 'Detection Finding: Create',
		   'time', (extract(epoch FROM a.detected_at) * 1000)::bigint,
		   'start_time', (extract(epoch FROM a.detected_at) * 1000)::bigint,
		   'end_time', (extract(epoch FROM a.last_seen_at) * 1000)::bigint,
		   'count', a.occurrences,
		   'message', t.title,
		   'severity_id', CASE a.severity
							  WHEN 'low' THEN 2
							  WHEN 'medium' THEN 3
							  WHEN 'high' THEN 4
						  END,
		   'severity', CASE a.severity
						   WHEN 'low' THEN 'Low'
						   WHEN 'medium' THEN 'Medium'
						   WHEN 'high' THEN 'High'
					   END,
		   'status_id', CASE a.status
							WHEN 'new' THEN 1
							WHEN 'in_progress' THEN 2
							WHEN 'dismissed' THEN 3
							WHEN 'resolved' THEN 4
							ELSE 99
						END,
		   'status', CASE a.status
						 WHEN 'new' THEN 'New'
						 WHEN 'in_progress' THEN 'In Progress'
						 WHEN 'dismissed' THEN 'Suppressed'
						 WHEN 'resolved' THEN 'Resolved'
						 ELSE a.status
					 END,
		   'confidence_score', round(a.confidence * 100)::integer,
		   'action_id', CASE a.action WHEN 'blocked' THEN 2 ELSE 1 END,
		   'action', CASE a.action WHEN 'blocked' THEN 'Denied' ELSE 'Allowed' END,
		   'finding_info', jsonb_build_object(
			   'uid', a.fingerprint,
			   'title', t.title,
			   'desc', t.description,
			   'types', jsonb_build_array(a.alert_type),
			   'created_time', (extract(epoch FROM a.detected_at) * 1000)::bigint,
			   'first_seen_time', (extract(epoch FROM a.detected_at) * 1000)::bigint,
			   'last_seen_time', (extract(epoch FROM a.last_seen_at) * 1000)::bigint,
			   'analytic', jsonb_build_object(
				   'name', CASE WHEN cardinality(a.rule_ids) > 0
								THEN array_to_string(a.rule_ids, ', ')
								ELSE 'aiguard.' || a.alert_type END,
				   'uid', CASE WHEN cardinality(a.rule_ids) > 0
							   THEN array_to_string(a.rule_ids, ',')
							   ELSE 'aiguard.' || a.alert_type END,
				   'type_id', CASE
								  WHEN cardinality(a.rule_ids) > 0 THEN 1
								  WHEN a.alert_type IN ('wallet_attack_duplicates',
														'wallet_attack_volume') THEN 3
								  WHEN a.alert_type = 'access_anomaly' THEN 2
								  ELSE 1
							  END,
				   'type', CASE
							   WHEN cardinality(a.rule_ids) > 0 THEN 'Rule'
							   WHEN a.alert_type IN ('wallet_attack_duplicates',
													 'wallet_attack_volume') THEN 'Statistical'
							   WHEN a.alert_type = 'access_anomaly' THEN 'Behavioral'
							   ELSE 'Rule'
						   END),
			   'attacks', (SELECT jsonb_agg(x.attack ORDER BY x.ord)
							 FROM (SELECT tac.ord,
										  jsonb_build_object('tactic', jsonb_strip_nulls(
											  jsonb_build_object(
												  'name', tac.name,
												  'uid', t.tactic_ids[array_position(t.tactics, tac.name)])))
											  AS attack
									 FROM unnest(a.tactics) WITH ORDINALITY AS tac(name, ord)
								   UNION ALL
								   SELECT 1000 + tech.ord,
										  jsonb_build_object('technique',
											  jsonb_build_object('uid', tech.uid))
									 FROM unnest(t.atlas_techniques) WITH ORDINALITY AS tech(uid, ord)
								  ) x)),
		   'metadata', jsonb_build_object(
			   'version', '1.1.0',
			   'uid', a.alert_id::text,
			   'profiles', jsonb_build_array('security_control', 'host'),
			   'product', jsonb_build_object(
				   'name', 'aiguard',
				   'vendor_name', 'aiguard')),
		   'actor', CASE WHEN a.user_id IS NOT NULL THEN
						jsonb_build_object('user', jsonb_build_object('uid', a.user_id))
					END,
		   'resources', (SELECT jsonb_agg(r.res ORDER BY r.ord)
						   FROM (SELECT 1 AS ord,
										jsonb_build_object('name', a.source_table,
														   'uid', a.source_key::text,
														   'type', 'table') AS res
								  WHERE a.source_table IS NOT NULL OR a.source_key IS NOT NULL
								 UNION ALL
								 SELECT 2,
										jsonb_build_object('name', a.resource,
														   'type', 'ai_model')
								  WHERE a.resource IS NOT NULL) r),
		   'evidences', jsonb_build_array(jsonb_build_object(
			   'actor', CASE WHEN a.user_id IS NOT NULL THEN
							jsonb_build_object('user', jsonb_build_object('uid', a.user_id))
						END,
			   'src_endpoint', CASE WHEN a.client_ip IS NOT NULL THEN
								   jsonb_build_object('ip', host(a.client_ip))
							   END,
			   'http_request', CASE WHEN a.user_agent IS NOT NULL THEN
								   jsonb_build_object('user_agent', a.user_agent)
							   END,
			   'data', jsonb_build_object(
				   'role', a.role,
				   'action', a.action,
				   'resource', a.resource,
				   'conversation_id', a.conversation_id,
				   'evidence', a.evidence,
				   'details', a.details))),
		   'unmapped', jsonb_build_object(
			   'alert_type', a.alert_type,
			   'role', a.role,
			   'action', a.action,
			   'resource', a.resource,
			   'conversation_id', a.conversation_id,
			   'source_table', a.source_table,
			   'source_key', a.source_key,
			   'rule_ids', to_jsonb(a.rule_ids),
			   'tactics', to_jsonb(a.tactics),
			   'atlas_techniques', to_jsonb(t.atlas_techniques),
			   'details', a.details)
	   )) AS finding
  FROM aiguard.alerts a
  JOIN aiguard.alert_types t ON t.code = a.alert_type;

COMMENT ON VIEW aiguard.alerts_ocsf IS
	'Alerts as OCSF 1.1.0 Detection Finding (class_uid 2004) JSON, one row per alert, for SIEM export';

REVOKE ALL ON aiguard.open_alerts, aiguard.alert_summary, aiguard.incidents,
	aiguard.alerts_ocsf FROM PUBLIC;
