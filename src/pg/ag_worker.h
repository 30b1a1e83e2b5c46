/*
 * ag_worker.h
 *	  The aiguard background worker: scans queued rows (async mode), turns
 *	  the hand-off records of blocked rows into alerts, and runs the
 *	  time-window detectors (wallet attacks, access anomalies).
 */
#ifndef AG_WORKER_H
#define AG_WORKER_H

/* Registers the worker and its shared memory; only when preloading. */
extern void AgWorkerInit(void);

/* Whether the library was preloaded, so that a worker exists. */
extern bool AgWorkerAvailable(void);

/* Wakes the worker up (no-op without one). */
extern void AgWorkerWake(void);

/* Counts a scanned queued row (for aiguard_worker_status()). */
extern void AgWorkerCountScanned(int64 rows);

/*
 * Errors unless the worker can serve this database: the library must be
 * preloaded and aiguard.database must name the current database.  what
 * says what needs the worker, for the message.
 */
extern void AgRequireWorker(const char *what);

#endif
