/*
 * ag_overlap.h
 *	  Does a response reproduce a given text (its conversation's system
 *	  prompt)?  Word-shingle overlap on normalised text.
 */
#ifndef AG_OVERLAP_H
#define AG_OVERLAP_H

#include <stddef.h>

#define AG_SHINGLE_WORDS 6
#define AG_MIN_SOURCE_WORDS 8

/*
 * Fraction (0..1) of the source's word 6-grams that occur in text, after
 * normalising both; -1 when the source is too short (under 8 words) to
 * tell reproduction from coincidence, or out of memory.
 */
extern double AgReproducedFraction(const char *source, size_t slen,
								   const char *text, size_t tlen);

#endif
