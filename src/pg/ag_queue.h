/*
 * ag_queue.h
 *	  The scan queue of async mode: aiguard.scan_queue.
 */
#ifndef AG_QUEUE_H
#define AG_QUEUE_H

/* Queues a row (by its primary key, JSON) in the current transaction. */
extern void AgEnqueueRow(Oid relid, const char *source_key);

/*
 * Scans up to max_rows queued rows, oldest first, skipping entries other
 * sessions hold, records their alerts and removes their entries, all in
 * the current transaction.  Returns the number of entries processed.
 */
extern int64 AgProcessQueue(int max_rows);

#endif
