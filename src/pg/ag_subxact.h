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
 */
extern ErrorData *AgTrySubtransaction(void (*fn) (void *), void *arg);

#endif
