/*
 * ag_preload.h
 *	  The shipped rule set, compiled once by the postmaster.
 */
#ifndef AG_PRELOAD_H
#define AG_PRELOAD_H

#include "ag_core.h"

/* In the postmaster (shared_preload_libraries): compiles the installed files. */
extern void AgPreloadInit(void);

/*
 * The rule set the postmaster compiled, if its sources' fingerprint is
 * fingerprint; else NULL.  The caller may replace its canaries, and must
 * not free it.
 */
extern AgRuleSet *AgPreloadedRuleSet(const char *fingerprint);

#endif
