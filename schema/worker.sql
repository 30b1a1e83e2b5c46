-- schema/worker.sql
--	  The background worker's side: the scan queue of async mode, the
--	  bookkeeping of blocked-row alerts, and functions to run the worker's
--	  jobs by hand or to see what it is doing.

-- Rows of async-mode tables waiting to be scanned, by primary key.
CREATE TABLE aiguard.scan_queue (
	queue_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	relid			oid NOT NULL,
	source_key		jsonb NOT NULL,
	queued_at		timestamptz NOT NULL DEFAULT now(),
	attempts		integer NOT NULL DEFAULT 0	-- failed for a passing reason so far
);
-- batches are taken oldest first, rows that failed before last
CREATE INDEX scan_queue_order_idx ON aiguard.scan_queue (attempts, queue_id);
COMMENT ON TABLE aiguard.scan_queue IS 'Rows of async-mode tables waiting for the background worker';
REVOKE ALL ON aiguard.scan_queue FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aiguard.scan_queue', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aiguard.scan_queue', 'queue_id'), '');

-- Ids of the blocked-row records already turned into alerts, so that a
-- record is never ingested twice (see src/pg/ag_blocked.c).
CREATE TABLE aiguard.blocked_ingested (
	record_id		text PRIMARY KEY,
	ingested_at		timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE aiguard.blocked_ingested IS 'Hand-off records of blocked rows already recorded as alerts';
REVOKE ALL ON aiguard.blocked_ingested FROM PUBLIC;

CREATE VIEW aiguard.scan_queue_status AS
SELECT q.relid::regclass AS source_table,
	   count(*) AS queued_rows,
	   min(q.queued_at) AS oldest_queued_at,
	   now() - min(q.queued_at) AS oldest_age
  FROM aiguard.scan_queue q
 GROUP BY q.relid;
COMMENT ON VIEW aiguard.scan_queue_status IS 'Queue depth and age of the oldest entry, per async-mode table';
REVOKE ALL ON aiguard.scan_queue_status FROM PUBLIC;

CREATE FUNCTION aiguard.require_worker(what text) RETURNS void
	AS 'MODULE_PATHNAME', 'aiguard_require_worker' LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION aiguard.require_worker(text) FROM PUBLIC;

CREATE FUNCTION aiguard_process_queue(max_rows int DEFAULT 1000) RETURNS bigint
	AS 'MODULE_PATHNAME', 'aiguard_process_queue' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aiguard_process_queue(int) IS
	'Scans up to max_rows queued rows of async-mode tables now (the worker does this on its own); returns entries processed';
REVOKE ALL ON FUNCTION aiguard_process_queue(int) FROM PUBLIC;

CREATE FUNCTION aiguard_ingest_blocked() RETURNS bigint
	AS 'MODULE_PATHNAME', 'aiguard_ingest_blocked' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aiguard_ingest_blocked() IS
	'Records the alerts of blocked rows that wait for the worker, now; returns records ingested';
REVOKE ALL ON FUNCTION aiguard_ingest_blocked() FROM PUBLIC;

CREATE FUNCTION aiguard_worker_status(
	OUT preloaded boolean, OUT database text, OUT pid int,
	OUT started_at timestamptz, OUT last_cycle_at timestamptz,
	OUT rows_scanned bigint, OUT blocked_ingested bigint,
	OUT detector_runs bigint, OUT errors bigint, OUT blocked_pending int,
	OUT blocked_set_aside int)
	AS 'MODULE_PATHNAME', 'aiguard_worker_status' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aiguard_worker_status() IS
	'Whether the background worker is loaded and running, and what it has done since it started';
REVOKE ALL ON FUNCTION aiguard_worker_status() FROM PUBLIC;
