/*
 * ag_blocked.c
 *	  Durable hand-off of alerts on blocked rows (see ag_blocked.h).
 *
 * Each record is one file, pg_aiguard/blocked/<dboid>-<time>-<pid>-<n>.json,
 * written to a temporary name, fsync'd and renamed, so a file either holds
 * a whole record or does not exist.  Ingesting inserts the alert and the
 * record id (into aiguard.blocked_ingested) in one transaction, and removes
 * the file only after that transaction commits: a crash between the commit
 * and the removal leaves a file whose id is already known, which the next
 * ingest removes without a second alert.  So every record becomes exactly
 * one alert, whatever crashes in between.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/file_perm.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "ag_alerts.h"
#include "ag_blocked.h"
#include "ag_subxact.h"
#include "ag_catalog.h"
#include "ag_worker.h"

#define BLOCKED_DIR "pg_aiguard/blocked"
#define MAX_RECORD_BYTES (4 * 1024 * 1024)

/*
 * One row: the alert written (or NULLs) and whether the record's id was
 * new.  A known id (a record ingested before a crash removed its file)
 * writes nothing; a new id without an alert means an unknown alert type.
 */
static const char *ingest_sql =
"WITH first_time AS ("
"  INSERT INTO aiguard.blocked_ingested (record_id) VALUES ($1::jsonb ->> 'record_id')"
"  ON CONFLICT DO NOTHING RETURNING record_id), "
"written AS ("
"INSERT INTO aiguard.alerts AS a (detected_at, last_seen_at, alert_type, severity, tactics, "
"  action, confidence, rule_ids, source_table, source_key, role, conversation_id, user_id, "
"  client_ip, user_agent, resource, evidence, details, fingerprint) "
"SELECT (r.j ->> 'detected_at')::timestamptz, (r.j ->> 'detected_at')::timestamptz, t.code, "
"  t.severity, t.tactics, r.j ->> 'action', (r.j ->> 'confidence')::real, "
"  ARRAY(SELECT pg_catalog.jsonb_array_elements_text(r.j -> 'rule_ids')), "
"  r.j ->> 'source_table', pg_catalog.jsonb_strip_nulls(NULLIF(r.j -> 'source_key', 'null')), "
"  r.j ->> 'role', r.j ->> 'conversation_id', r.j ->> 'user_id', (r.j ->> 'client_ip')::inet, "
"  r.j ->> 'user_agent', r.j ->> 'resource', r.j ->> 'evidence', r.j -> 'details', "
"  pg_catalog.md5(r.j ->> 'fingerprint') "
"FROM (SELECT $1::jsonb AS j) r JOIN aiguard.alert_types t ON t.code = r.j ->> 'alert_type' "
"WHERE EXISTS (SELECT 1 FROM first_time) "
"ON CONFLICT (fingerprint) DO UPDATE SET "
"  occurrences = a.occurrences + "
"    CASE WHEN COALESCE(($1::jsonb ->> 'repeat')::boolean, false) THEN 0 ELSE 1 END, "
"  last_seen_at = GREATEST(a.last_seen_at, excluded.last_seen_at), "
"  confidence = GREATEST(a.confidence, excluded.confidence) "
"RETURNING alert_id, (xmax = 0) AS inserted, alert_type, severity::text, action, "
"  source_table, source_key::text) "
"SELECT w.*, EXISTS (SELECT 1 FROM first_time) FROM (SELECT 1) AS one "
"LEFT JOIN written w ON true";

static SPIPlanPtr ingest_plan = NULL;

/* Files to remove when the ingesting transaction commits. */
static List *done_files = NIL;
static bool callback_registered = false;

static void WriteRecordFile(const char *data, int len, const char *tmp_path,
							const char *path);

/* Creates a directory if need be, durably (itself and its parent). */
static void
EnsureDirectory(const char *path)
{
	if (MakePGDirectory(path) == 0)
	{
		char	   *parent = pstrdup(path);
		char	   *slash = strrchr(parent, '/');

		fsync_fname(path, true);
		if (slash)
			*slash = '\0';
		fsync_fname(slash ? parent : ".", true);
	}
	else if (errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", path)));
}

void
AgHandOffBlockedAlert(const char *json_members)
{
	static uint32 counter = 0;
	char	   *record_id;
	char	   *tmp_path;
	char	   *path;
	StringInfoData buf;

	record_id = psprintf("%u-" INT64_FORMAT "-%d-%u", MyDatabaseId,
						 GetCurrentTimestamp(), MyProcPid, ++counter);
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"record_id\": \"%s\", \"database_oid\": %u, %s}\n",
					 record_id, MyDatabaseId, json_members);

	tmp_path = psprintf("%s/%s.tmp", BLOCKED_DIR, record_id);
	path = psprintf("%s/%s.json", BLOCKED_DIR, record_id);
	PG_TRY();
	{
		WriteRecordFile(buf.data, buf.len, tmp_path, path);
	}
	PG_CATCH();
	{
		/* the last resort: the server log keeps the record */
		unlink(tmp_path);
		ereport(LOG,
				(errmsg("aiguard could not hand off the alert of a blocked row; the record follows"),
				 errdetail_internal("%s", buf.data)));
		PG_RE_THROW();
	}
	PG_END_TRY();
	AgWorkerWake();
}

/* Writes data to tmp_path, fsyncs it, and renames it to path durably. */
static void
WriteRecordFile(const char *data, int len, const char *tmp_path, const char *path)
{
	int			fd;

	EnsureDirectory("pg_aiguard");
	EnsureDirectory(BLOCKED_DIR);

	fd = OpenTransientFile(tmp_path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", tmp_path)));
	errno = 0;
	if (write(fd, data, len) != len)
	{
		int			save_errno = errno ? errno : ENOSPC;

		CloseTransientFile(fd);
		unlink(tmp_path);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmp_path)));
	}
	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", tmp_path)));
	/* fsyncs the file, renames it, and fsyncs the directory */
	durable_rename(tmp_path, path, ERROR);
}

static void
RemoveIngestedFiles(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event == XACT_EVENT_PRE_PREPARE && done_files != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot PREPARE a transaction that ran aiguard_ingest_blocked()")));
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		foreach(lc, done_files)
		{
			char	   *p = (char *) lfirst(lc);

			if (unlink(p) != 0 && errno != ENOENT)
				ereport(WARNING,
						(errcode_for_file_access(),
						 errmsg("could not remove ingested aiguard record \"%s\": %m", p),
						 errdetail("It will not raise a second alert: its id is recorded.")));
		}
	}
	list_free_deep(done_files);
	done_files = NIL;
}

static char *
ReadRecord(const char *path)
{
	int			fd;
	struct stat st;
	char	   *data;
	ssize_t		got;

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		if (errno == ENOENT)
			return NULL;		/* ingested concurrently */
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	}
	if (fstat(fd, &st) != 0 || st.st_size > MAX_RECORD_BYTES)
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aiguard record \"%s\" is unreadable or larger than %d bytes",
						path, MAX_RECORD_BYTES)));
	}
	data = palloc(st.st_size + 1);
	got = read(fd, data, st.st_size);
	CloseTransientFile(fd);
	if (got != st.st_size)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
	data[got] = '\0';
	return data;
}

typedef struct IngestArgs
{
	const char *path;
	const char *json;
	bool		new_record;		/* its id was not known: not a replay */
} IngestArgs;

/* Inserts one record (as a new alert, or a sighting of a known one). */
static void
InsertRecord(void *arg)
{
	IngestArgs *a = (IngestArgs *) arg;
	const char *json = a->json;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			rc;
	if (ingest_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(ingest_sql, 1, argtypes);

		if (p == NULL)
			elog(ERROR, "could not prepare the blocked alert ingest: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		ingest_plan = p;
	}
	values[0] = CStringGetTextDatum(json);
	rc = SPI_execute_plan(ingest_plan, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not ingest blocked alert: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		first_time = DatumGetBool(SPI_getbinval(tup, td, 8, &isnull));

		(void) SPI_getbinval(tup, td, 1, &isnull);
		a->new_record = first_time;
		if (first_time && isnull)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("aiguard record names an unknown alert type")));
		if (first_time && DatumGetBool(SPI_getbinval(tup, td, 2, &isnull)))
			AgNotifyAlert(DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull)),
						  SPI_getvalue(tup, td, 3), SPI_getvalue(tup, td, 4),
						  SPI_getvalue(tup, td, 5), SPI_getvalue(tup, td, 6),
						  SPI_getvalue(tup, td, 7));
	}
}

static int
CompareNames(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/* Reads one record file and inserts it as the extension owner. */
static void
RunIngestRecord(void *arg)
{
	IngestArgs *a = (IngestArgs *) arg;

	a->json = ReadRecord(a->path);
	a->new_record = false;
	if (a->json == NULL)
		return;					/* ingested by someone else meanwhile */
	AgRunAsOwner(AgExtensionOwner(), InsertRecord, a);
}

/* Names of the current database's records with suffix, sorted (oldest first). */
static List *
RecordFiles(const char *suffix)
{
	DIR		   *dir;
	struct dirent *de;
	List	   *names = NIL;
	char		prefix[32];

	snprintf(prefix, sizeof(prefix), "%u-", MyDatabaseId);
	dir = AllocateDir(BLOCKED_DIR);
	if (dir == NULL)
	{
		if (errno == ENOENT)
			return NIL;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\": %m", BLOCKED_DIR)));
	}
	while ((de = ReadDir(dir, BLOCKED_DIR)) != NULL)
	{
		size_t		len = strlen(de->d_name);

		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 && len > strlen(suffix) &&
			strcmp(de->d_name + len - strlen(suffix), suffix) == 0)
			names = lappend(names, pstrdup(de->d_name));
	}
	FreeDir(dir);
	list_sort(names, CompareNames);
	return names;
}

static List *
PendingRecords(void)
{
	return RecordFiles(".json");
}

int
AgPendingBlockedAlerts(void)
{
	return list_length(PendingRecords());
}

int
AgSetAsideBlockedAlerts(void)
{
	return list_length(RecordFiles(".json.bad"));
}

int
AgIngestBlockedAlerts(void)
{
	List	   *names = PendingRecords();
	ListCell   *lc;
	int			ingested = 0;
	ErrorData  *edata;

	if (names == NIL)
		return 0;
	PreventCommandIfReadOnly("aiguard_ingest_blocked()");
	if (IsSubTransaction())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("aiguard_ingest_blocked() cannot run inside a subtransaction"),
				 errdetail("Its files are removed when the transaction commits, which a savepoint could not undo."),
				 errhint("Call it outside savepoints and exception blocks.")));
	if (!callback_registered)
	{
		RegisterXactCallback(RemoveIngestedFiles, NULL);
		callback_registered = true;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	foreach(lc, names)
	{
		char	   *path = psprintf("%s/%s", BLOCKED_DIR, (char *) lfirst(lc));
		IngestArgs	a = {path, NULL, false};
		MemoryContext old;

		/* a bad record must not stop the others: set it aside, loudly */
		edata = AgTrySubtransaction(RunIngestRecord, &a, true);
		if (edata == NULL)
		{
			old = MemoryContextSwitchTo(TopMemoryContext);
			done_files = lappend(done_files, pstrdup(path));
			MemoryContextSwitchTo(old);
			ingested += a.new_record;	/* a replay is only tidied away */
			continue;
		}
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("aiguard could not ingest blocked-alert record \"%s\"; it was set aside as \"%s.bad\"",
						path, path),
				 errdetail("%s", edata->message)));
		if (rename(path, psprintf("%s.bad", path)) != 0)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not rename \"%s\": %m", path)));
		FreeErrorData(edata);
	}
	/* ids only matter until their files are gone; keep a generous margin */
	SPI_execute("DELETE FROM aiguard.blocked_ingested "
				"WHERE ingested_at < pg_catalog.now() - interval '30 days'", false, 0);
	SPI_finish();
	return ingested;
}
