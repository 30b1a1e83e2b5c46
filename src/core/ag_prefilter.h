/*
 * ag_prefilter.h
 *	  Aho-Corasick keyword automaton: one pass over the text tells which
 *	  rules have a keyword present, and where, so only those rules run their
 *	  regex, and only near their keywords.
 */
#ifndef AG_PREFILTER_H
#define AG_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

typedef struct AgPrefilter AgPrefilter;

extern AgPrefilter *AgPrefilterCreate(void);
/* Same, matching ASCII letters without regard to case. */
extern AgPrefilter *AgPrefilterCreateCaseless(void);
/* Adds keyword for rule number rule; 0 or -1 (out of memory). */
extern int	AgPrefilterAdd(AgPrefilter *pf, const char *keyword, size_t len,
						   int rule);
/* Builds the automaton; 0 or -1. */
extern int	AgPrefilterBuild(AgPrefilter *pf);
/* Calls fn(arg, rule, start, end) for every keyword occurrence. */
typedef void (*AgPrefilterHitFn) (void *arg, int rule, size_t start, size_t end);
extern void AgPrefilterScanHits(const AgPrefilter *pf, const char *text,
								size_t len, AgPrefilterHitFn fn, void *arg);
extern size_t AgPrefilterMemoryBytes(const AgPrefilter *pf);
extern void AgPrefilterFree(AgPrefilter *pf);

/* Asks for the rows of its shallowest states, a text's usual ones, to be brought into cache. */
extern void AgPrefilterPrefetch(const AgPrefilter *pf);

#endif							/* AG_PREFILTER_H */
