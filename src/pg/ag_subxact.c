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

/*
 * Errors a retry may not meet, by class: connection (08), transaction state
 * (25), rollback (40), resources (53), object state and locks (55),
 * operator intervention (57), system (58); and missing privileges.
 */
bool
AgErrorIsTransient(int sqlerrcode)
{
	switch (ERRCODE_TO_CATEGORY(sqlerrcode))
	{
		case MAKE_SQLSTATE('0', '8', '0', '0', '0'):
		case MAKE_SQLSTATE('2', '5', '0', '0', '0'):
		case MAKE_SQLSTATE('4', '0', '0', '0', '0'):
		case MAKE_SQLSTATE('5', '3', '0', '0', '0'):
		case MAKE_SQLSTATE('5', '5', '0', '0', '0'):
		case MAKE_SQLSTATE('5', '7', '0', '0', '0'):
		case MAKE_SQLSTATE('5', '8', '0', '0', '0'):
			return true;
		default:
			return sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE;
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
		 (rethrow_transient && AgErrorIsTransient(edata->sqlerrcode))))
		ReThrowError(edata);
	return edata;
}
