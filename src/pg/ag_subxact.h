/*
 * ag_subxact.h
 *	  Running a piece of work so that its failure cannot fail the caller.
 */
#ifndef AG_SUBXACT_H
#define AG_SUBXACT_H

#include "utils/elog.h"

/*
 * Runs fn(arg) in a subtransaction.  Returns NULL when it succeeded (its
 * work is kept), or the error it raised, copied into the caller's memory
 * context, after rolling its work back.  The caller's memory context and
 * resource owner are current again either way.
 *
 * A cancel or shutdown request is never swallowed: it is raised again.
 * With rethrow_transient, so are errors that a retry may not meet (lock
 * timeouts, deadlocks, serialization failures, read-only transactions,
 * missing privileges): for work that will be retried, rather than set
 * aside as failed.
 */
extern ErrorData *AgTrySubtransaction(void (*fn) (void *), void *arg,
									  bool rethrow_transient);

/*
 * Whether an error is one a retry may not meet: connection, transaction
 * state, rollback, resources, object state and locks, operator
 * intervention, system errors, and missing privileges.
 */
extern bool AgErrorIsTransient(int sqlerrcode);

#endif
