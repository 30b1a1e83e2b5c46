/*
 * ag_queue.c
 *	  The scan queue of async mode (see ag_queue.h).
 *
 * The protection trigger of an async table only inserts the new row's
 * primary key into aiguard.scan_queue, in the inserting transaction: a
 * rolled-back insert leaves no entry, a committed one leaves exactly one.
 * The worker (or aiguard_process_queue()) takes a batch of entries with
 * FOR UPDATE SKIP LOCKED, fetches the rows by key, scans them, records
 * their alerts and deletes the entries in one transaction: if it fails or
 * crashes half-way, nothing of the batch is committed and the same entries
 * are scanned again, so every committed row is scanned exactly once.
 *
 * A row deleted before its turn is simply not found.  If fetching or
 * scanning the rows of one table fails (its key column was dropped, say),
 * the failure is recorded in aiguard.scan_errors for each of its entries,
 * which are then removed: a broken table cannot jam the queue, and its
 * rows are not forgotten silently.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "ag_alerts.h"
#include "ag_catalog.h"
#include "ag_protect.h"
#include "ag_queue.h"
#include "ag_subxact.h"
#include "ag_worker.h"

static SPIPlanPtr enqueue_plan = NULL;

typedef struct EnqueueArgs
{
	Oid			relid;
	const char *key;
} EnqueueArgs;

static void
RunEnqueue(void *arg)
{
	EnqueueArgs *a = (EnqueueArgs *) arg;
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		values[2];

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (enqueue_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("INSERT INTO aiguard.scan_queue (relid, source_key) "
									"VALUES ($1, $2::jsonb)", 2, argtypes);

		if (p == NULL)
			elog(ERROR, "could not prepare the scan queue insert: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		enqueue_plan = p;
	}
	values[0] = ObjectIdGetDatum(a->relid);
	values[1] = CStringGetTextDatum(a->key);
	if (SPI_execute_plan(enqueue_plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not queue a row for scanning");
	SPI_finish();
}

void
AgEnqueueRow(Oid relid, const char *source_key)
{
	EnqueueArgs a;

	a.relid = relid;
	a.key = source_key;
	/* the inserting role has no rights on aiguard's tables */
	AgRunAsOwner(AgExtensionOwner(), RunEnqueue, &a);
}

typedef struct QueueEntry
{
	int64		queue_id;
	Oid			relid;
	char	   *key;
	bool		retry;			/* failed for a passing reason: stays queued */
} QueueEntry;

typedef struct Batch
{
	int			max_rows;
	int			n;
	QueueEntry *entries;
} Batch;

static void
RunTakeBatch(void *arg)
{
	Batch	   *b = (Batch *) arg;
	Oid			argtypes[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(b->max_rows)};

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT queue_id, relid, source_key::text FROM aiguard.scan_queue "
							  "ORDER BY attempts, queue_id LIMIT $1 FOR UPDATE SKIP LOCKED",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the scan queue");
	b->n = (int) SPI_processed;
	b->entries = SPI_palloc(sizeof(QueueEntry) * (b->n > 0 ? b->n : 1));
	for (int i = 0; i < b->n; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *key = SPI_getvalue(t, td, 3);

		b->entries[i].queue_id = DatumGetInt64(SPI_getbinval(t, td, 1, &isnull));
		b->entries[i].relid = DatumGetObjectId(SPI_getbinval(t, td, 2, &isnull));
		b->entries[i].retry = false;
		b->entries[i].key = SPI_palloc(strlen(key) + 1);
		strcpy(b->entries[i].key, key);
	}
	SPI_finish();
}

/*
 * Removes the batch's entries, but those to retry: they stay queued with
 * one more attempt, which sends them behind entries not yet tried.
 */
static void
RunDeleteBatch(void *arg)
{
	Batch	   *b = (Batch *) arg;
	Datum	   *ids = palloc(sizeof(Datum) * b->n);
	bool	   *retry = palloc(sizeof(bool) * b->n);
	Oid			argtypes[2] = {INT8ARRAYOID, BOOLARRAYOID};
	Datum		values[2];

	for (int i = 0; i < b->n; i++)
	{
		ids[i] = Int64GetDatum(b->entries[i].queue_id);
		retry[i] = b->entries[i].retry;
	}
	values[0] = PointerGetDatum(construct_array(ids, b->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	{
		Datum	   *r = palloc(sizeof(Datum) * b->n);

		for (int i = 0; i < b->n; i++)
			r[i] = BoolGetDatum(retry[i]);
		values[1] = PointerGetDatum(construct_array(r, b->n, BOOLOID, 1, true, TYPALIGN_CHAR));
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("WITH b AS (SELECT * FROM unnest($1, $2) AS u(id, retry)), "
							  "gone AS (DELETE FROM aiguard.scan_queue q USING b "
							  "  WHERE q.queue_id = b.id AND NOT b.retry) "
							  "UPDATE aiguard.scan_queue q SET attempts = q.attempts + 1 FROM b "
							  " WHERE q.queue_id = b.id AND b.retry",
							  2, argtypes, values, NULL, false, 0) < 0)
		elog(ERROR, "could not remove scanned rows from the scan queue");
	SPI_finish();
}

static int
CompareByRelation(const void *a, const void *b)
{
	const QueueEntry *x = a;
	const QueueEntry *y = b;

	if (x->relid != y->relid)
		return x->relid < y->relid ? -1 : 1;
	return x->queue_id < y->queue_id ? -1 : x->queue_id > y->queue_id;
}

typedef struct FetchArgs
{
	const char *sql;
	Datum		keys;			/* jsonb array of source keys */
} FetchArgs;

/*
 * The rows of the queued keys, into SPI_tuptable.  Not read-only: the
 * query needs a snapshot taken after the batch was locked, or rows
 * committed in between would look deleted.
 */
static void
RunFetch(void *arg)
{
	FetchArgs  *f = (FetchArgs *) arg;
	Oid			argtypes[1] = {JSONBOID};
	Datum		values[1] = {f->keys};

	if (SPI_execute_with_args(f->sql, 1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not fetch queued rows");
}

/* Fetches and scans the rows of entries[0..n) (all of one table). */
static void
ScanTableEntries(QueueEntry *entries, int n)
{
	Relation	rel = try_relation_open(entries[0].relid, AccessShareLock);
	char	  **args;
	int			nargs;
	char	   *sql;
	StringInfoData keys;
	FetchArgs	fetch;
	SPITupleTable *rows;
	uint64		nrows;
	MemoryContext rowcxt;
	MemoryContext old;

	if (rel == NULL)
		return;					/* table dropped: nothing left to scan */
	args = AgProtectionArgs(rel, &nargs);
	if (args == NULL)
	{
		ereport(LOG,
				(errmsg("aiguard skipped %d queued rows of \"%s\", which is no longer protected",
						n, RelationGetRelationName(rel))));
		relation_close(rel, AccessShareLock);
		return;
	}
	sql = AgProtectionKeyQuery(rel, args, nargs);
	if (sql == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no primary key to find queued rows by",
						RelationGetRelationName(rel))));
	initStringInfo(&keys);
	appendStringInfoChar(&keys, '[');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&keys, ',');
		appendStringInfoString(&keys, entries[i].key);
	}
	appendStringInfoChar(&keys, ']');
	fetch.sql = sql;
	fetch.keys = DirectFunctionCall1(jsonb_in, CStringGetDatum(keys.data));
	/* as the table's owner, restricted: see AgRunAsTableOwner */
	AgRunAsTableOwner(RelationGetRelid(rel), RunFetch, &fetch);

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aiguard queued row",
								   ALLOCSET_DEFAULT_SIZES);
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 i = 0; i < nrows; i++)
	{
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(rowcxt);
		(void) AgScanStoredRow(rel, rows->vals[i], rows->tupdesc,
							   args, nargs, false, rowcxt);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
	relation_close(rel, AccessShareLock);
}

typedef struct TableEntries
{
	QueueEntry *entries;
	int			n;
} TableEntries;

static void
RunScanTableEntries(void *arg)
{
	TableEntries *t = (TableEntries *) arg;

	ScanTableEntries(t->entries, t->n);
}

/*
 * Runs ScanTableEntries; a failure is not raised.  One that a retry may not
 * meet (a lock, a serialization failure, a privilege: often the table
 * owner's doing) leaves the table's entries queued for a later batch; any
 * other is recorded for each entry in aiguard.scan_errors.  Either way the
 * other tables' rows in the batch go on.
 */
static void
ScanTableEntriesSafely(QueueEntry *entries, int n)
{
	TableEntries t = {entries, n};
	ErrorData  *edata = AgTrySubtransaction(RunScanTableEntries, &t, false);
	char	   *name;
	bool		retry;

	if (edata == NULL)
		return;
	retry = AgErrorIsTransient(edata->sqlerrcode);
	name = get_rel_name(entries[0].relid);
	if (name)
		name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(entries[0].relid)),
										  name);
	ereport(WARNING,
			(errcode(edata->sqlerrcode),
			 errmsg("aiguard could not scan %d queued rows of \"%s\"", n,
					name ? name : "?"),
			 errdetail("%s", edata->message),
			 retry ? errhint("They stay queued and will be tried again.") :
			 errhint("The failures are recorded in aiguard.scan_errors.")));
	for (int i = 0; i < n; i++)
	{
		entries[i].retry = retry;
		if (!retry)
			AgRecordScanError(NULL, name, entries[i].key,
							  unpack_sql_state(edata->sqlerrcode), edata->message);
	}
	FreeErrorData(edata);
}

int64
AgProcessQueue(int max_rows)
{
	Batch		b;
	int			start = 0;

	memset(&b, 0, sizeof(b));
	b.max_rows = max_rows;
	AgRunAsOwner(AgExtensionOwner(), RunTakeBatch, &b);
	if (b.n == 0)
		return 0;

	qsort(b.entries, b.n, sizeof(QueueEntry), CompareByRelation);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int i = 1; i <= b.n; i++)
	{
		if (i == b.n || b.entries[i].relid != b.entries[start].relid)
		{
			ScanTableEntriesSafely(&b.entries[start], i - start);
			start = i;
		}
	}
	SPI_finish();

	AgRunAsOwner(AgExtensionOwner(), RunDeleteBatch, &b);
	AgWorkerCountScanned(b.n);
	return b.n;
}

/*
 * aiguard_process_queue(max_rows): scans queued rows now, in this
 * transaction (the worker does it on its own).  Returns entries processed.
 */
PG_FUNCTION_INFO_V1(aiguard_process_queue);
Datum
aiguard_process_queue(PG_FUNCTION_ARGS)
{
	int			max_rows = PG_ARGISNULL(0) ? 1000 : PG_GETARG_INT32(0);

	if (max_rows <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_rows must be positive")));
	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aiguard requires a UTF-8 database; this one is \"%s\"",
						GetDatabaseEncodingName())));
	PG_RETURN_INT64(AgProcessQueue(max_rows));
}
