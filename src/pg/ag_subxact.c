/*
 * ag_subxact.c
 *	  Running a piece of work so that its failure cannot fail the caller
 *	  (see ag_subxact.h): a scan that fails must keep the inserted row, a
 *	  bad queued row or hand-off record must not stop the others.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "ag_subxact.h"

static bool
IsTransient(int sqlerrcode)
{
	switch (sqlerrcode)
	{
		case ERRCODE_LOCK_NOT_AVAILABLE:
		case ERRCODE_T_R_DEADLOCK_DETECTED:
		case ERRCODE_T_R_SERIALIZATION_FAILURE:
		case ERRCODE_READ_ONLY_SQL_TRANSACTION:
		case ERRCODE_INSUFFICIENT_PRIVILEGE:
		case ERRCODE_OUT_OF_MEMORY:
		case ERRCODE_DISK_FULL:
		case ERRCODE_TOO_MANY_CONNECTIONS:
			return true;
		default:
			return false;
	}
}

ErrorData *
AgTrySubtransaction(void (*fn) (void *), void *arg, bool rethrow_transient)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	if (edata != NULL &&
		(ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION ||
		 (rethrow_transient && IsTransient(edata->sqlerrcode))))
		ReThrowError(edata);
	return edata;
}
