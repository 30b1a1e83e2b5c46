/*
 * ag_util.h
 *	  Small helpers shared by the scanning core: a growable byte buffer,
 *	  JSON string escaping, UTF-8 stepping and hashing.
 */
#ifndef AG_UTIL_H
#define AG_UTIL_H

#include <stddef.h>
#include <stdint.h>

typedef struct AgBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} AgBuf;

extern int	AgBufReserve(AgBuf *buf, size_t extra);
extern int	AgBufAppend(AgBuf *buf, const char *data, size_t len);
extern int	AgBufAppendStr(AgBuf *buf, const char *str);
extern int	AgBufAppendf(AgBuf *buf, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
/* Appends str as a JSON string literal, quotes included. */
extern int	AgBufAppendJsonString(AgBuf *buf, const char *str, size_t len);
extern void AgBufFree(AgBuf *buf);

/* Length of the UTF-8 sequence starting with lead byte c (1 for bad bytes). */
static inline int
AgUtf8SeqLen(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		return 2;
	if ((c & 0xF0) == 0xE0)
		return 3;
	if ((c & 0xF8) == 0xF0)
		return 4;
	return 1;
}

/* Decodes one code point at s (len bytes left); returns bytes used. */
extern int	AgUtf8Decode(const unsigned char *s, size_t len, int32_t *cp);
/*
 * Length of the longest prefix of s that is valid UTF-8 (len when all of
 * it is): no stray continuation byte, truncated sequence, overlong form,
 * surrogate or code point past U+10FFFF; what PCRE2 calls valid.
 */
extern size_t AgUtf8ValidPrefix(const char *s, size_t len);
/* Length of the valid UTF-8 sequence at s[i] (i < len), or 0 if none starts there. */
extern int	AgUtf8ValidAt(const unsigned char *s, size_t len, size_t i);
/* Encodes cp into out (4 bytes room); returns bytes written. */
extern int	AgUtf8Encode(int32_t cp, unsigned char *out);

/*
 * Does text hold a character that PCRE2 matches caselessly with an ASCII
 * letter: U+212A KELVIN SIGN (E2 84 AA) with k, U+017F LATIN SMALL LETTER
 * LONG S (C5 BF) with s?  (PCRE2 10.42 pairs no other character outside
 * ASCII with an ASCII letter.)
 */
extern int	AgHoldsCaselessPartner(const char *s, size_t len);

/*
 * The ASCII letter such a character at s[i] stands for ('k' or 's'), its
 * length in *n; 0 when none is there.
 */
extern char AgCaselessPartnerAt(const char *s, size_t len, size_t i, int *n);

/* for a helper whose constant arguments the caller's loop must see */
#define AG_ALWAYS_INLINE inline __attribute__((always_inline))

#ifdef __SSE2__
#include <emmintrin.h>

/*
 * Each byte of v from lo to hi (lo <= hi, as unsigned bytes), as 0xFF,
 * else 0.  A byte c is in when (c - lo) mod 256 < hi - lo + 1, unsigned;
 * adding 0x80 - lo instead of subtracting lo makes that one signed compare
 * with -128 + (hi - lo + 1): two operations, not a compare at each end and
 * an AND.  (For an ASCII range, bytes of 0x80 and up land at 0x80 - lo
 * and above, never in.)
 */
static inline __m128i
AgBytesIn(__m128i v, char lo, char hi)
{
	return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char) (0x80 - lo))),
						  _mm_set1_epi8((char) (-128 + (hi - lo + 1))));
}
#endif

/* ASCII digits (0-9) in s[0..len), counted up to enough (then enough). */
extern size_t AgCountDigits(const char *s, size_t len, size_t enough);

/* 64-bit FNV-1a, continued from h (start with AG_FNV_OFFSET). */
#define AG_FNV_OFFSET UINT64_C(0xcbf29ce484222325)
static inline uint64_t
AgFnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
	{
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

extern void AgSetError(char *errbuf, size_t errlen, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

#endif							/* AG_UTIL_H */
