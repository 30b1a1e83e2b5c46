/*
 * ag_pattern_reach.h
 *	  An upper bound on how many bytes a match of a PCRE2 pattern, with what
 *	  its lookaheads read, can span from its start (see the .c file).
 */
#ifndef AG_PATTERN_REACH_H
#define AG_PATTERN_REACH_H

#include <stddef.h>
#include <stdint.h>

/* No bound known: a '*', '+', back reference, or syntax not understood. */
#define AG_REACH_UNBOUNDED SIZE_MAX

/* caseless: the pattern is compiled with PCRE2_CASELESS */
extern size_t AgPatternReach(const char *pattern, int caseless);

/*
 * How far before one of the keywords a match can start: an upper bound on
 * the distance from a match's start to the start of a keyword occurrence
 * that every match contains, worked out from the pattern's literal text.
 * AG_REACH_UNBOUNDED when the pattern does not show one (then the scanner
 * falls back to the reach).  Keywords compare ignoring ASCII case.
 */
extern size_t AgPatternKeywordLead(const char *pattern, int caseless,
								   const char *const *keywords, int nkeywords);

/*
 * 1 when pattern, matched case-sensitively, holds one of the keywords in
 * every match spelt exactly as written (the lead walk with case kept): the
 * prefilter, which ignores ASCII case, may then drop a keyword hit whose
 * case differs.
 */
extern int	AgPatternKeywordsExact(const char *pattern,
								   const char *const *keywords, int nkeywords);

#endif							/* AG_PATTERN_REACH_H */
