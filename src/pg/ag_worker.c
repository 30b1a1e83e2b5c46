/*
 * ag_worker.c
 *	  The aiguard background worker (see ag_worker.h).
 *
 * With shared_preload_libraries = 'aiguard' the postmaster starts one
 * worker, connected to aiguard.database.  It loops: ingest the hand-off
 * records of blocked rows, scan a batch of queued rows, and every
 * aiguard.wallet_interval run the time-window detectors; then it sleeps
 * for aiguard.worker_naptime unless woken (a blocked row wakes it at once)
 * or unless a full batch suggests more rows are waiting.
 *
 * Each step is a transaction of its own; an error in one is reported and
 * rolled back, and the loop goes on, so a bad row or a failing detector
 * cannot stop the others.  SIGHUP reloads the settings; SIGTERM ends the
 * worker; it exits if the postmaster dies, and the postmaster restarts it
 * after a crash.  What it does shows in pg_stat_activity.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ag_blocked.h"
#include "ag_guc.h"
#include "ag_queue.h"
#include "ag_worker.h"

PGDLLEXPORT void aiguard_worker_main(Datum main_arg);
static void WorkerExitCleanup(int code, Datum arg);

typedef struct AgWorkerShared
{
	slock_t		mutex;
	pid_t		pid;			/* 0 when no worker runs */
	int			procno;			/* its PGPROC, for waking it */
	TimestampTz started_at;
	TimestampTz last_cycle_at;
	int64		rows_scanned;
	int64		blocked_ingested;
	int64		detector_runs;
	int64		errors;
	bool		wake_requested; /* work is waiting: a blocked row's alert */
} AgWorkerShared;

static AgWorkerShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
WorkerShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(AgWorkerShared)));
}

static void
WorkerShmemStartup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("aiguard worker", sizeof(AgWorkerShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(*shared));
		SpinLockInit(&shared->mutex);
		shared->procno = -1;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
AgWorkerInit(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = WorkerShmemRequest;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = WorkerShmemStartup;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;	/* seconds, after a crash */
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "aiguard");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "aiguard_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "aiguard worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "aiguard worker");
	RegisterBackgroundWorker(&worker);
}

bool
AgWorkerAvailable(void)
{
	return shared != NULL;
}

void
AgWorkerWake(void)
{
	int			procno;

	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	procno = shared->pid != 0 ? shared->procno : -1;
	shared->wake_requested = true;
	SpinLockRelease(&shared->mutex);
	if (procno >= 0)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
}

void
AgWorkerCountScanned(int64 rows)
{
	if (shared == NULL || MyBackendType != B_BG_WORKER)
		return;
	SpinLockAcquire(&shared->mutex);
	shared->rows_scanned += rows;
	SpinLockRelease(&shared->mutex);
}

void
AgRequireWorker(const char *what)
{
	if (shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs the aiguard background worker", what),
				 errdetail("The aiguard library was not loaded at server start."),
				 errhint("Add aiguard to shared_preload_libraries in postgresql.conf and restart the server.")));
	if (aiguard_database == NULL || strcmp(aiguard_database, get_database_name(MyDatabaseId)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs the aiguard background worker, which serves database \"%s\"",
						what, aiguard_database ? aiguard_database : ""),
				 errhint("Set aiguard.database = '%s' in postgresql.conf and restart the server.",
						 get_database_name(MyDatabaseId))));
}

/* ---------------------------------------------------------------- */
/* The worker process                                                 */
/* ---------------------------------------------------------------- */

typedef int (*StepFn) (void);

/*
 * Runs one step in a transaction of its own.  An error is reported to the
 * log, the transaction rolled back, and -1 returned; the worker goes on.
 */
static int
RunStep(const char *activity, StepFn fn)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			result = 0;

	pgstat_report_activity(STATE_RUNNING, activity);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	PG_TRY();
	{
		result = fn();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		SpinLockAcquire(&shared->mutex);
		shared->errors++;
		SpinLockRelease(&shared->mutex);
		result = -1;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	pgstat_report_stat(false);
	return result;
}

static Oid	extension_schema = InvalidOid;

static int
StepCheckExtension(void)
{
	bool		isnull;

	extension_schema = InvalidOid;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT extnamespace FROM pg_catalog.pg_extension WHERE extname = 'aiguard'",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		extension_schema = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return OidIsValid(extension_schema) ? 1 : 0;
}

static int
StepIngestBlocked(void)
{
	int			n = AgIngestBlockedAlerts();

	SpinLockAcquire(&shared->mutex);
	shared->blocked_ingested += n;
	SpinLockRelease(&shared->mutex);
	return n;
}

static int
StepScanQueue(void)
{
	return (int) AgProcessQueue(aiguard_batch_size);
}

/* Calls fn() in the extension's schema if this version has it. */
static int
CallDetector(const char *fn)
{
	char	   *schema = get_namespace_name(extension_schema);
	char	   *sql;
	int			ret = 0;

	if (schema == NULL)
		return 0;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	sql = psprintf("SELECT 1 FROM pg_catalog.pg_proc WHERE proname = '%s' AND pronamespace = %u",
				   fn, extension_schema);
	if (SPI_execute(sql, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		sql = psprintf("SELECT %s.%s()", quote_identifier(schema), quote_identifier(fn));
		if (SPI_execute(sql, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "%s failed", fn);
		ret = 1;
	}
	SPI_finish();
	return ret;
}

static int
StepWallet(void)
{
	return CallDetector("aiguard_detect_wallet_attacks");
}

static int
StepAccess(void)
{
	return CallDetector("aiguard_detect_access_anomalies");
}

/*
 * Sleeps for ms, or until there is work (AgWorkerWake) or a reload.  The
 * latch is also set by PostgreSQL for its own reasons (catalog catch-up,
 * say); such wake-ups do not start a cycle, so the worker's pace is
 * aiguard.worker_naptime and nothing else.
 */
static void
SleepUntilNeeded(long ms)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		bool		wanted;

		if (left <= 0)
			return;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
			return;
		SpinLockAcquire(&shared->mutex);
		wanted = shared->wake_requested;
		shared->wake_requested = false;
		SpinLockRelease(&shared->mutex);
		if (wanted)
			return;
	}
}

void
aiguard_worker_main(Datum main_arg)
{
	TimestampTz last_detectors = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	before_shmem_exit(WorkerExitCleanup, (Datum) 0);
	BackgroundWorkerInitializeConnection(aiguard_database, NULL, 0);
	pgstat_report_appname("aiguard worker");

	/*
	 * The worker is a superuser: no search_path a database setting names may
	 * resolve its queries; and a lock held by someone's ALTER TABLE must not
	 * stall every job (the step fails and is retried next cycle).
	 */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_OVERRIDE);

	SpinLockAcquire(&shared->mutex);
	shared->pid = MyProcPid;
	shared->procno = MyProc->pgprocno;
	shared->started_at = GetCurrentTimestamp();
	SpinLockRelease(&shared->mutex);

	ereport(LOG,
			(errmsg("aiguard worker started for database \"%s\"", aiguard_database)));

	for (;;)
	{
		bool		more = false;
		long		sleep_ms = aiguard_worker_naptime_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			ereport(LOG,
					(errmsg("aiguard worker reloaded its settings: naptime %d ms, batch size %d, detectors every %d s",
							aiguard_worker_naptime_ms, aiguard_batch_size, aiguard_wallet_interval_s)));
		}

		if (RunStep("aiguard: checking for the extension", StepCheckExtension) == 1)
		{
			TimestampTz now;

			RunStep("aiguard: recording alerts of blocked rows", StepIngestBlocked);
			more = RunStep("aiguard: scanning queued rows", StepScanQueue) >= aiguard_batch_size;

			now = GetCurrentTimestamp();
			if (TimestampDifferenceExceeds(last_detectors, now, aiguard_wallet_interval_s * 1000))
			{
				last_detectors = now;
				RunStep("aiguard: looking for wallet attacks", StepWallet);
				RunStep("aiguard: looking for access anomalies", StepAccess);
				SpinLockAcquire(&shared->mutex);
				shared->detector_runs++;
				SpinLockRelease(&shared->mutex);
			}
		}
		SpinLockAcquire(&shared->mutex);
		shared->last_cycle_at = GetCurrentTimestamp();
		SpinLockRelease(&shared->mutex);
		pgstat_report_activity(STATE_IDLE, NULL);

		if (more)
			continue;
		SleepUntilNeeded(sleep_ms);
	}
}

static void
WorkerExitCleanup(int code, Datum arg)
{
	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	if (shared->pid == MyProcPid)
	{
		shared->pid = 0;
		shared->procno = -1;
	}
	SpinLockRelease(&shared->mutex);
}

/* ---------------------------------------------------------------- */
/* SQL interface                                                      */
/* ---------------------------------------------------------------- */

/*
 * aiguard_worker_status(): whether the worker is configured and running,
 * and what it has done since it started.
 */
PG_FUNCTION_INFO_V1(aiguard_worker_status);
Datum
aiguard_worker_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[11];
	bool		nulls[11];
	AgWorkerShared snap;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(nulls, 0, sizeof(nulls));
	memset(&snap, 0, sizeof(snap));
	if (shared)
	{
		SpinLockAcquire(&shared->mutex);
		snap = *shared;
		SpinLockRelease(&shared->mutex);
	}
	values[0] = BoolGetDatum(shared != NULL);
	if (shared && aiguard_database)
		values[1] = CStringGetTextDatum(aiguard_database);
	else
		nulls[1] = true;
	values[2] = Int32GetDatum(snap.pid);
	nulls[2] = snap.pid == 0;
	values[3] = TimestampTzGetDatum(snap.started_at);
	nulls[3] = snap.started_at == 0;
	values[4] = TimestampTzGetDatum(snap.last_cycle_at);
	nulls[4] = snap.last_cycle_at == 0;
	values[5] = Int64GetDatum(snap.rows_scanned);
	values[6] = Int64GetDatum(snap.blocked_ingested);
	values[7] = Int64GetDatum(snap.detector_runs);
	values[8] = Int64GetDatum(snap.errors);
	values[9] = Int32GetDatum(AgPendingBlockedAlerts());
	values[10] = Int32GetDatum(AgSetAsideBlockedAlerts());
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * aiguard_ingest_blocked(): records the pending alerts of blocked rows now,
 * in this transaction (the worker does it on its own).
 */
PG_FUNCTION_INFO_V1(aiguard_ingest_blocked);
Datum
aiguard_ingest_blocked(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(AgIngestBlockedAlerts());
}

/* aiguard.require_worker(what): AgRequireWorker for aiguard_protect(). */
PG_FUNCTION_INFO_V1(aiguard_require_worker);
Datum
aiguard_require_worker(PG_FUNCTION_ARGS)
{
	AgRequireWorker(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
