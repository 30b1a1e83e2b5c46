/*
 * ag_protect.h
 *	  Scanning rows of protected tables outside their insert trigger
 *	  (rescans, the async queue).
 */
#ifndef AG_PROTECT_H
#define AG_PROTECT_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/rel.h"

/* The protection trigger's arguments (the mapping), or NULL if unprotected. */
extern char **AgProtectionArgs(Relation rel, int *nargs);

/*
 * A query returning the rows of rel whose primary keys are in the JSON
 * array of source keys in $1 (jsonb), or NULL if the mapping has no key columns.
 */
extern char *AgProtectionKeyQuery(Relation rel, char **args, int nargs);

/*
 * Scans one stored row with the mapping in args and records its alerts;
 * failures are kept in aiguard.scan_errors.  rescan: the row was scanned
 * before, so known findings are not new sightings.  Returns new alerts.
 */
extern int	AgScanStoredRow(Relation rel, HeapTuple tuple, TupleDesc tupdesc,
							char **args, int nargs, bool rescan,
							MemoryContext cxt);

#endif
