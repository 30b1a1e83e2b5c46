/*
 * ag_shuffle.h
 *	  The trainers' fixed-seed shuffle (xorshift64, Fisher-Yates): the same
 *	  seed gives the same order on every machine, so a model is retrained
 *	  byte for byte.
 */
#ifndef AG_SHUFFLE_H
#define AG_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

#define AG_SHUFFLE_SEED UINT64_C(0x9E3779B97F4A7C15)

static inline uint64_t
AgXorshift64(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* Shuffles order[0..n) in place, drawing from *state. */
static inline void
AgShuffle(size_t *order, size_t n, uint64_t *state)
{
	for (size_t i = n > 0 ? n - 1 : 0; i > 0; i--)
	{
		size_t		j = AgXorshift64(state) % (i + 1);
		size_t		t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

#endif							/* AG_SHUFFLE_H */
