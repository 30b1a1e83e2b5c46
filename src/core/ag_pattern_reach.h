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

#endif							/* AG_PATTERN_REACH_H */
