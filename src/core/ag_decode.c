/*
 * ag_decode.c
 *	  Decoding of encoded runs (base64, hex, percent-encoding).
 *
 * Attackers hide instructions as "decode this base64 and follow it".  We
 * look for long runs of one alphabet, decode them and keep only results
 * that are valid UTF-8 made mostly of printable characters, so random keys
 * and hashes (which decode to binary noise) cost nothing downstream.
 */
#include "ag_decode.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <string.h>

#define MIN_B64_RUN 20
#define MIN_HEX_RUN 16
#define MIN_PCT_ESCAPES 4

static int
B64Value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Bytes of the base64 alphabets (standard and URL-safe): B64Value >= 0. */
static const unsigned char b64_byte[256] = {
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
	['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
	['7'] = 1, ['8'] = 1, ['9'] = 1,
	['+'] = 1, ['-'] = 1, ['/'] = 1, ['_'] = 1,
};

static inline int
IsB64(unsigned char c)
{
	return b64_byte[c];
}

static int
HexValue(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Valid UTF-8 with at least 85% printable characters and some letters? */
static int
LooksLikeText(const unsigned char *s, size_t len)
{
	size_t		printable = 0,
				letters = 0,
				chars = 0;
	size_t		i = 0;

	if (len < 8)
		return 0;
	while (i < len)
	{
		int			n = AgUtf8SeqLen(s[i]);

		if (s[i] >= 0x80)
		{
			if (n == 1 || i + n > len)
				return 0;
			for (int k = 1; k < n; k++)
				if ((s[i + k] & 0xC0) != 0x80)
					return 0;
			printable++;
			letters++;
		}
		else if (s[i] >= 0x20 && s[i] < 0x7F)
		{
			printable++;
			if ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')
				letters++;
		}
		else if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
			printable++;
		chars++;
		i += n;
	}
	return printable * 100 >= chars * 85 && letters * 2 >= chars;
}

static int
AddSegment(AgDecoded *dec, size_t start, size_t end, const char *kind,
		   size_t off)
{
	const unsigned char *d = (const unsigned char *) dec->buf.data + off;
	size_t		dlen = dec->buf.len - off;

	if (!LooksLikeText(d, dlen) || dec->nseg >= AG_MAX_DECODED_SEGMENTS)
	{
		dec->buf.len = off;		/* discard */
		return 0;
	}
	AgDecodedSegment *s = &dec->seg[dec->nseg++];

	s->src_start = start;
	s->src_end = end;
	s->kind = kind;
	s->off = off;
	s->len = dlen;
	return AgBufAppend(&dec->buf, "", 1);	/* NUL between segments */
}

/*
 * Decoders write straight into dec->buf after reserving room for the most
 * they can produce (no call per byte); PutByte then needs no check.
 */
static inline void
PutByte(AgBuf *buf, char c)
{
	buf->data[buf->len++] = c;
	buf->data[buf->len] = '\0';
}

static int
DecodeBase64(AgDecoded *dec, const unsigned char *s, size_t len)
{
	uint32_t	acc = 0;
	int			bits = 0;

	if (AgBufReserve(&dec->buf, len / 4 * 3 + 3) != 0)
		return -1;

	for (size_t i = 0; i < len; i++)
	{
		int			v = B64Value(s[i]);

		if (v < 0)
			break;				/* padding */
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			PutByte(&dec->buf, (char) ((acc >> bits) & 0xFF));
		}
	}
	return 0;
}

#ifdef __SSE2__
/* The 16 bits of v's bytes in the base64 alphabet (IsB64), and of its '%'. */
static AG_ALWAYS_INLINE unsigned
B64Bits(__m128i v, unsigned *pct)
{
	__m128i		letter = AgBytesIn(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
	__m128i		digit = AgBytesIn(v, '0', '9');
	__m128i		other = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('+')),
												  _mm_cmpeq_epi8(v, _mm_set1_epi8('-'))),
									 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')),
												  _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));

	*pct = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('%')));
	return (unsigned) _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), other));
}
#endif

/*
 * From i, a place the loop below would visit (not inside a run), the first
 * place it would visit from which something can come: a '%', or a run of
 * base64 bytes long enough to decode.  Plain prose (words shorter than
 * MIN_HEX_RUN, no '%') is passed 64 bytes at a time, then sixteen: a run
 * that crosses a block boundary is followed by its length so far (carry),
 * and the skip stops at the start of any run that reaches MIN_HEX_RUN.  In
 * a 64-byte block, the runs of MIN_HEX_RUN within it are found all at once
 * (a bit where that many base64 bytes start, by ANDing the mask with itself
 * shifted 1, 2, 4 and 8 places), and the skip stops at the first of those
 * or of the '%'.  The portable build visits every byte (same result,
 * tested by check-core).
 */
_Static_assert(MIN_HEX_RUN == 16, "SkipPlainText finds runs of 16 by four shifts");

static size_t
SkipPlainText(const unsigned char *s, size_t i, size_t len)
{
#ifdef __SSE2__
	size_t		carry = 0;		/* base64 bytes just before i */

	while (len - i >= 64)
	{
		unsigned	p0,
					p1,
					p2,
					p3;
		uint64_t	b64 = (uint64_t) B64Bits(_mm_loadu_si128((const __m128i *) (s + i)), &p0) |
			(uint64_t) B64Bits(_mm_loadu_si128((const __m128i *) (s + i + 16)), &p1) << 16 |
			(uint64_t) B64Bits(_mm_loadu_si128((const __m128i *) (s + i + 32)), &p2) << 32 |
			(uint64_t) B64Bits(_mm_loadu_si128((const __m128i *) (s + i + 48)), &p3) << 48;
		uint64_t	pct = (uint64_t) p0 | (uint64_t) p1 << 16 | (uint64_t) p2 << 32 |
			(uint64_t) p3 << 48;
		uint64_t	runs = b64 & (b64 >> 1);
		size_t		lead = b64 == ~UINT64_C(0) ? 64 : (size_t) __builtin_ctzll(~b64);

		if (carry + lead >= MIN_HEX_RUN)
			return i - carry;	/* the run going on from before */
		runs &= runs >> 2;
		runs &= runs >> 4;
		runs &= runs >> 8;		/* bit k: b64 bytes k to k + 15 */
		if ((runs | pct) != 0)
			return i + (size_t) __builtin_ctzll(runs | pct);
		carry = (size_t) __builtin_clzll(~b64);	/* the run at the block's end */
		i += 64;
	}
	while (len - i >= 16)
	{
		unsigned	pct;
		unsigned	notb64 = ~B64Bits(_mm_loadu_si128((const __m128i *) (s + i)), &pct) & 0xFFFF;
		size_t		lead,
					top;

		if (pct != 0 || notb64 == 0)
			break;
		lead = (size_t) __builtin_ctz(notb64);	/* the run going on from before */
		if (carry + lead >= MIN_HEX_RUN)
			break;
		top = (size_t) (__builtin_clz(notb64) - 16);	/* the run at the block's end */
		carry = top;
		i += 16;
	}
	return i - carry;
#else
	(void) s;
	(void) len;
	return i;
#endif
}

int
AgFindEncodedRuns(AgDecoded *dec, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *) text;
	size_t		i = 0;

	dec->buf.len = 0;
	dec->nseg = 0;
	while (i < len && dec->nseg < AG_MAX_DECODED_SEGMENTS)
	{
		unsigned char c = s[i];

		/* percent-encoded run: non-space bytes with enough %XX escapes */
		if (c == '%' && i + 2 < len && HexValue(s[i + 1]) >= 0 &&
			HexValue(s[i + 2]) >= 0)
		{
			size_t		start = i,
						end = i;
			int			escapes = 0;

			while (start > 0 && s[start - 1] > 0x20 && s[start - 1] < 0x7F &&
				   s[start - 1] != '"' && s[start - 1] != '\'')
				start--;
			while (end < len && s[end] > 0x20 && s[end] < 0x7F &&
				   s[end] != '"' && s[end] != '\'')
			{
				if (s[end] == '%' && end + 2 < len &&
					HexValue(s[end + 1]) >= 0 && HexValue(s[end + 2]) >= 0)
					escapes++;
				end++;
			}
			if (escapes >= MIN_PCT_ESCAPES)
			{
				size_t		off = dec->buf.len;

				if (AgBufReserve(&dec->buf, end - start) != 0)
					return -1;

				for (size_t k = start; k < end; k++)
				{
					char		ch = (char) s[k];

					if (s[k] == '%' && k + 2 < end &&
						HexValue(s[k + 1]) >= 0 && HexValue(s[k + 2]) >= 0)
					{
						ch = (char) (HexValue(s[k + 1]) * 16 + HexValue(s[k + 2]));
						k += 2;
					}
					else if (s[k] == '+')
						ch = ' ';
					PutByte(&dec->buf, ch);
				}
				if (AddSegment(dec, start, end, "percent", off) != 0)
					return -1;
			}
			i = end;
			continue;
		}

		if (!IsB64(c))
		{
			size_t		next = SkipPlainText(s, i + 1, len);

			i = next > i + 1 ? next : i + 1;
			continue;
		}

		/* a run of base64 alphabet bytes */
		size_t		start = i;
		int			hex_only = 1,
					lower = 0,
					upper = 0,
					digits = 0;

		while (i < len && IsB64(s[i]))
			i++;
		size_t		end = i;
		size_t		run = end - start;

		/* what the run is made of: only for runs long enough to decode */
		if (run >= MIN_HEX_RUN)
			for (size_t k = start; k < end; k++)
			{
				unsigned char ch = s[k];

				if (HexValue(ch) < 0)
					hex_only = 0;
				if (ch >= 'a' && ch <= 'z')
					lower++;
				else if (ch >= 'A' && ch <= 'Z')
					upper++;
				else if (ch >= '0' && ch <= '9')
					digits++;
			}
		while (i < len && s[i] == '=' && i - end < 2)
			i++;
		if (hex_only && run >= MIN_HEX_RUN && run % 2 == 0)
		{
			size_t		off = dec->buf.len;

			if (AgBufReserve(&dec->buf, run / 2) != 0)
				return -1;
			for (size_t k = start; k + 1 < end; k += 2)
				PutByte(&dec->buf, (char) (HexValue(s[k]) * 16 + HexValue(s[k + 1])));
			if (AddSegment(dec, start, end, "hex", off) != 0)
				return -1;
		}
		else if (run >= MIN_B64_RUN && lower > 0 && (upper > 0 || digits > 0))
		{
			size_t		off = dec->buf.len;

			if (DecodeBase64(dec, s + start, run) != 0)
				return -1;
			if (AddSegment(dec, start, i, "base64", off) != 0)
				return -1;
		}
	}
	return dec->nseg;
}

void
AgDecodedFree(AgDecoded *dec)
{
	AgBufFree(&dec->buf);
	dec->nseg = 0;
}
