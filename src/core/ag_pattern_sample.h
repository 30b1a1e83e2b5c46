/*
 * ag_pattern_sample.h
 *	  Random strings shaped by a PCRE2 pattern (see the .c file).
 */
#ifndef AG_PATTERN_SAMPLE_H
#define AG_PATTERN_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * One sample of pattern into out (cap bytes, NUL-terminated), its length in
 * *len; *rng is the generator's state (nonzero).  Returns 0, or -1 when the
 * pattern uses syntax the sampler does not know or the sample is too long.
 */
extern int	AgPatternSample(const char *pattern, uint64_t *rng, char *out,
							size_t cap, size_t *len);

#endif							/* AG_PATTERN_SAMPLE_H */
