/*
 * ag_util.c
 *	  Growable buffers, JSON escaping and UTF-8 helpers for the core.
 */
#include "ag_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
AgBufReserve(AgBuf *buf, size_t extra)
{
	size_t		need = buf->len + extra + 1;

	if (need <= buf->cap)
		return 0;
	size_t		ncap = buf->cap ? buf->cap : 256;

	while (ncap < need)
		ncap *= 2;
	char	   *n = realloc(buf->data, ncap);

	if (n == NULL)
		return -1;
	buf->data = n;
	buf->cap = ncap;
	return 0;
}

int
AgBufAppend(AgBuf *buf, const char *data, size_t len)
{
	if (AgBufReserve(buf, len) != 0)
		return -1;
	memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return 0;
}

int
AgBufAppendStr(AgBuf *buf, const char *str)
{
	return AgBufAppend(buf, str, strlen(str));
}

int
AgBufAppendf(AgBuf *buf, const char *fmt,...)
{
	va_list		ap;
	char		small[256];
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t) n < sizeof(small))
		return AgBufAppend(buf, small, (size_t) n);
	if (AgBufReserve(buf, (size_t) n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf->data + buf->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t) n;
	return 0;
}

int
AgBufAppendJsonString(AgBuf *buf, const char *str, size_t len)
{
	if (AgBufReserve(buf, len + 2) != 0)
		return -1;
	AgBufAppend(buf, "\"", 1);
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) str[i];
		char		esc[8];

		switch (c)
		{
			case '"':
				AgBufAppend(buf, "\\\"", 2);
				break;
			case '\\':
				AgBufAppend(buf, "\\\\", 2);
				break;
			case '\n':
				AgBufAppend(buf, "\\n", 2);
				break;
			case '\r':
				AgBufAppend(buf, "\\r", 2);
				break;
			case '\t':
				AgBufAppend(buf, "\\t", 2);
				break;
			default:
				if (c < 0x20 || c == 0x7f)
				{
					snprintf(esc, sizeof(esc), "\\u%04x", c);
					AgBufAppend(buf, esc, 6);
				}
				else if (AgBufAppend(buf, (const char *) &str[i], 1) != 0)
					return -1;
		}
	}
	return AgBufAppend(buf, "\"", 1);
}

void
AgBufFree(AgBuf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

int
AgUtf8Decode(const unsigned char *s, size_t len, int32_t *cp)
{
	int			n = AgUtf8SeqLen(s[0]);

	if ((size_t) n > len || n == 1)
	{
		*cp = s[0] < 0x80 ? s[0] : 0xFFFD;
		return 1;
	}
	int32_t		v = s[0] & (0x7F >> n);

	for (int i = 1; i < n; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
		{
			*cp = 0xFFFD;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3F);
	}

	/*
	 * Overlong forms, surrogates and code points past U+10FFFF are not
	 * UTF-8: written back they would hand PCRE2 (which is told the text is
	 * valid) an invalid sequence.
	 */
	if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
		(v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
	{
		*cp = 0xFFFD;
		return 1;
	}
	*cp = v;
	return n;
}

int
AgUtf8ValidAt(const unsigned char *s, size_t len, size_t i)
{
	int32_t		cp;
	int			n = AgUtf8Decode(s + i, len - i, &cp);

	/* U+FFFD is three bytes written out, one byte standing for an error */
	return cp == 0xFFFD && n != 3 ? 0 : n;
}

size_t
AgUtf8ValidPrefix(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		i = 0;

#ifdef __SSE2__

	/*
	 * 64 bytes at a time: the bytes from 0x80 up as a bit mask, and only
	 * those looked at, a sequence each; a sequence that runs past the
	 * block moves the next block's start.
	 */
	while (len - i >= 64)
	{
		uint64_t	high = (uint64_t) (unsigned) _mm_movemask_epi8(_mm_loadu_si128((const __m128i *) (u + i))) |
			(uint64_t) (unsigned) _mm_movemask_epi8(_mm_loadu_si128((const __m128i *) (u + i + 16))) << 16 |
			(uint64_t) (unsigned) _mm_movemask_epi8(_mm_loadu_si128((const __m128i *) (u + i + 32))) << 32 |
			(uint64_t) (unsigned) _mm_movemask_epi8(_mm_loadu_si128((const __m128i *) (u + i + 48))) << 48;
		size_t		next = i + 64;

		while (high != 0)
		{
			unsigned	p = (unsigned) __builtin_ctzll(high);
			int			n = AgUtf8ValidAt(u, len, i + p);

			if (n == 0)
				return i + p;
			if (p + (unsigned) n >= 64)
			{
				next = i + p + (size_t) n;
				break;
			}
			high &= ~((((uint64_t) 1 << n) - 1) << p);
		}
		i = next;
	}
#endif
	while (i < len)
	{
		int			n = AgUtf8ValidAt(u, len, i);

		if (n == 0)
			return i;
		i += (size_t) n;
	}
	return len;
}

int
AgUtf8Encode(int32_t cp, unsigned char *out)
{
	if (cp < 0x80)
	{
		out[0] = (unsigned char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = 0xC0 | (cp >> 6);
		out[1] = 0x80 | (cp & 0x3F);
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = 0xE0 | (cp >> 12);
		out[1] = 0x80 | ((cp >> 6) & 0x3F);
		out[2] = 0x80 | (cp & 0x3F);
		return 3;
	}
	out[0] = 0xF0 | (cp >> 18);
	out[1] = 0x80 | ((cp >> 12) & 0x3F);
	out[2] = 0x80 | ((cp >> 6) & 0x3F);
	out[3] = 0x80 | (cp & 0x3F);
	return 4;
}

void
AgSetError(char *errbuf, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/*
 * The last bytes, AA and BF, are rare in most text (English with curly
 * quotes and dashes has none): memchr finds them, and only then are the
 * bytes before looked at.
 */
static int
EndsOfSequence(const unsigned char *s, size_t len, unsigned char last,
			   const char *before, size_t nbefore)
{
	const unsigned char *p = s,
			   *end = s + len;

	while ((p = memchr(p, last, (size_t) (end - p))) != NULL)
	{
		if ((size_t) (p - s) >= nbefore && memcmp(p - nbefore, before, nbefore) == 0)
			return 1;
		p++;
	}
	return 0;
}

int
AgHoldsCaselessPartner(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;

	return EndsOfSequence(u, len, 0xBF, "\xC5", 1) ||
		EndsOfSequence(u, len, 0xAA, "\xE2\x84", 2);
}

char
AgCaselessPartnerAt(const char *s, size_t len, size_t i, int *n)
{
	const unsigned char *u = (const unsigned char *) s;

	if (u[i] == 0xE2 && len - i >= 3 && u[i + 1] == 0x84 && u[i + 2] == 0xAA)
	{
		*n = 3;
		return 'k';
	}
	if (u[i] == 0xC5 && len - i >= 2 && u[i + 1] == 0xBF)
	{
		*n = 2;
		return 's';
	}
	return 0;
}

size_t
AgCountDigits(const char *s, size_t len, size_t enough)
{
	size_t		n = 0,
				i = 0;

#ifdef __SSE2__
	if (len >= 16)
	{
		const __m128i lane = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

		for (;;)
		{
			size_t		at = i + 16 <= len ? i : len - 16;
			__m128i		digit = AgBytesIn(_mm_loadu_si128((const __m128i *) (s + at)), '0', '9');
			__m128i		sums;

			/* the last block overlaps the one before: only its new bytes */
			if (at < i)
				digit = _mm_and_si128(digit, _mm_cmpgt_epi8(lane, _mm_set1_epi8((char) (i - at - 1))));
			/* a 1 per digit, summed in two halves (no popcount in baseline x86-64) */
			sums = _mm_sad_epu8(_mm_and_si128(digit, _mm_set1_epi8(1)), _mm_setzero_si128());
			n += (size_t) _mm_cvtsi128_si32(sums) + (size_t) _mm_extract_epi16(sums, 4);
			i = at + 16;
			if (i >= len || n >= enough)
				return n < enough ? n : enough;
		}
	}
#endif
	for (; i < len && n < enough; i++)
		n += s[i] >= '0' && s[i] <= '9';
	return n < enough ? n : enough;
}
