/*
 * ag_rule_coverage.h
 *	  Do a rule's keywords cover its matches?  (See the .c file.)
 */
#ifndef AG_RULE_COVERAGE_H
#define AG_RULE_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

#include "ag_core.h"

typedef struct AgCoverage
{
	int			sampled;		/* samples drawn from the pattern */
	int			matched;		/* texts in which the naive scan found the rule */
	int			differ;			/* texts the prefiltered scan got otherwise */
	char		example[512];	/* the first of those, cut to fit */
} AgCoverage;

/* Same findings, in the same order, of the same rules at the same places? */
extern int	AgSameFindings(const AgFinding *a, int na, const AgFinding *b, int nb);

/*
 * Draws nsamples strings from def's pattern (*rng: generator state,
 * nonzero) and scans each, bare and inside a sentence, with set (which
 * holds def) in the rule's first role, with and without the keyword
 * prefilter; counts what differs.  0, or -1 when a scan failed (message in
 * errbuf).  A pattern the sampler does not understand gives sampled = 0.
 */
extern int	AgRuleCoverage(const AgRuleSet *set, const AgRuleDef *def,
						   int nsamples, uint64_t *rng, AgCoverage *out,
						   char *errbuf, size_t errlen);

#endif							/* AG_RULE_COVERAGE_H */
