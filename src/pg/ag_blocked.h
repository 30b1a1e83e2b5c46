/*
 * ag_blocked.h
 *	  Durable hand-off of alerts on blocked rows.
 *
 * A blocked INSERT rolls back, and every row it wrote goes with it, so the
 * alert recording the attack cannot be written in that transaction.  The
 * backend instead writes the alert as a JSON file under
 * $PGDATA/pg_aiguard/blocked, durably (fsync'd, atomically renamed), before
 * the INSERT fails; the background worker (or aiguard_ingest_blocked())
 * turns each file into a row of aiguard.alerts exactly once.
 */
#ifndef AG_BLOCKED_H
#define AG_BLOCKED_H

/*
 * Writes one alert record (a JSON object, see ag_alerts.c) durably and
 * wakes the worker.  The record's "record_id" member is filled in here.
 * Raises an ERROR if the file cannot be written.
 */
extern void AgHandOffBlockedAlert(const char *json_members);

/*
 * Turns the pending records of the current database into alerts, in the
 * current transaction; their files are removed once it commits.  Returns
 * the number of records ingested.
 */
extern int	AgIngestBlockedAlerts(void);

/* Number of records of the current database waiting to be ingested. */
extern int	AgPendingBlockedAlerts(void);

/*
 * Number of records set aside as unreadable (renamed *.json.bad, with a
 * WARNING in the log): they need an administrator's look.
 */
extern int	AgSetAsideBlockedAlerts(void);

#endif
