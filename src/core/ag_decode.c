/*
 * ag_decode.c
 *	  Decoding of encoded runs (base64, also twice, base32, hex,
 *	  percent-encoding, and character escapes: HTML numeric character
 *	  references, \u and \x escapes).
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
#define MIN_CHAR_ESCAPES 4
/* character escapes further apart than this are two regions */
#define ESCAPE_GAP 256

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

/*
 * A character escape at s[i]: an HTML numeric character reference
 * ("&#105;", "&#x69;", the ';' optional), a \u escape ("\u0069", "\u{69}";
 * a UTF-16 surrogate pair as two), \U and eight hex digits, or \x and two
 * (a byte).  Returns its length in bytes, 0 if none; *value is the code
 * point, or the byte when *is_byte.
 */
static size_t
EscapeAt(const unsigned char *s, size_t i, size_t len, uint32_t *value,
		 int *is_byte)
{
	size_t		k = i + 2,
				digits = 0;
	uint32_t	v = 0;

	*is_byte = 0;
	if (i + 2 >= len)
		return 0;
	if (s[i] == '&' && s[i + 1] == '#')
	{
		int			hex = s[k] == 'x' || s[k] == 'X';

		k += hex;
		for (; k < len && digits < 8; k++, digits++)
		{
			int			d = hex ? HexValue(s[k]) : (s[k] >= '0' && s[k] <= '9' ? s[k] - '0' : -1);

			if (d < 0)
				break;
			v = v * (hex ? 16 : 10) + (uint32_t) d;
		}
		if (digits == 0 || digits == 8)
			return 0;
		if (k < len && s[k] == ';')
			k++;
	}
	else if (s[i] == '\\' && s[i + 1] == 'x')
	{
		if (i + 4 > len || HexValue(s[i + 2]) < 0 || HexValue(s[i + 3]) < 0)
			return 0;
		*value = (uint32_t) (HexValue(s[i + 2]) * 16 + HexValue(s[i + 3]));
		*is_byte = 1;
		return 4;
	}
	else if (s[i] == '\\' && (s[i + 1] == 'u' || s[i + 1] == 'U'))
	{
		size_t		want = s[i + 1] == 'U' ? 8 : 4;
		int			braced = s[i + 1] == 'u' && s[k] == '{';

		k += braced;
		for (; k < len && digits < (braced ? 7 : want) && HexValue(s[k]) >= 0; k++, digits++)
			v = v * 16 + (uint32_t) HexValue(s[k]);
		if (braced ? (digits == 0 || digits == 7 || k >= len || s[k] != '}') : digits != want)
			return 0;
		k += braced;
		/* a high surrogate and its low one */
		if (v >= 0xD800 && v <= 0xDBFF && k + 6 <= len && s[k] == '\\' && s[k + 1] == 'u')
		{
			uint32_t	lo = 0;
			size_t		j = k + 2;

			for (; j < k + 6 && HexValue(s[j]) >= 0; j++)
				lo = lo * 16 + (uint32_t) HexValue(s[j]);
			if (j == k + 6 && lo >= 0xDC00 && lo <= 0xDFFF)
			{
				v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
				k += 6;
			}
		}
	}
	else
		return 0;
	if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*value = v;
	return k - i;
}

/*
 * Character escapes from s[first] on (an escape is there): the region from
 * the start of its line (not before floor) to the end of the line of the
 * last escape that follows within ESCAPE_GAP bytes of the one before,
 * decoded, plain characters between the escapes kept as they are.  Decoded
 * when it holds MIN_CHAR_ESCAPES escapes and reads as text.  Returns the
 * region's end, 0 when it has too few escapes, or (size_t) -1 (no memory).
 */
static size_t
DecodeEscapedRegion(AgDecoded *dec, const unsigned char *s, size_t len,
					size_t first, size_t floor)
{
	size_t		start = first,
				end,
				last_end = first,
				escapes = 0;
	int			html_first = s[first] == '&';
	uint32_t	v;
	int			is_byte;

	while (start > floor && s[start - 1] != '\n' && first - start < ESCAPE_GAP)
		start--;
	for (size_t k = first; k < len && k - last_end <= ESCAPE_GAP;)
	{
		size_t		n = (s[k] == '&' || s[k] == '\\') ? EscapeAt(s, k, len, &v, &is_byte) : 0;

		if (n > 0)
		{
			escapes++;
			k += n;
			last_end = k;
		}
		else
			k++;
	}
	end = last_end;
	while (end < len && s[end] != '\n' && end - last_end < ESCAPE_GAP)
		end++;
	/* white space at either end is no part of it */
	while (start < first && (s[start] == ' ' || s[start] == '\t' || s[start] == '\r'))
		start++;
	while (end > last_end && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r'))
		end--;
	if (escapes < MIN_CHAR_ESCAPES)
		return 0;

	size_t		off = dec->buf.len;

	/* no escape decodes to more bytes than it takes */
	if (AgBufReserve(&dec->buf, end - start) != 0)
		return (size_t) -1;
	for (size_t k = start; k < end;)
	{
		size_t		n = (s[k] == '&' || s[k] == '\\') ? EscapeAt(s, k, len, &v, &is_byte) : 0;

		if (n == 0)
		{
			PutByte(&dec->buf, (char) s[k++]);
			continue;
		}
		if (is_byte)
			PutByte(&dec->buf, (char) v);
		else
		{
			unsigned char enc[4];
			int			m = AgUtf8Encode((int32_t) v, enc);

			for (int j = 0; j < m; j++)
				PutByte(&dec->buf, (char) enc[j]);
		}
		k += n;
	}
	if (AddSegment(dec, start, end, html_first ? "html_entities" : "escapes", off) != 0)
		return (size_t) -1;
	return end;
}

/* Base64 of s[0..len) onto buf, which has room (len / 4 * 3 + 3). */
static void
Base64Into(AgBuf *buf, const unsigned char *s, size_t len)
{
	uint32_t	acc = 0;
	int			bits = 0;

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
			PutByte(buf, (char) ((acc >> bits) & 0xFF));
		}
	}
}

static int
DecodeBase64(AgDecoded *dec, const unsigned char *s, size_t len)
{
	if (AgBufReserve(&dec->buf, len / 4 * 3 + 3) != 0)
		return -1;
	Base64Into(&dec->buf, s, len);
	return 0;
}

/* Base32 (RFC 4648: A-Z, 2-7), the run's bytes known to be of it. */
static int
DecodeBase32(AgDecoded *dec, const unsigned char *s, size_t len)
{
	uint64_t	acc = 0;
	int			bits = 0;

	if (AgBufReserve(&dec->buf, len / 8 * 5 + 5) != 0)
		return -1;
	for (size_t i = 0; i < len; i++)
	{
		acc = (acc << 5) | (uint64_t) (s[i] >= 'A' ? s[i] - 'A' : s[i] - '2' + 26);
		bits += 5;
		if (bits >= 8)
		{
			bits -= 8;
			PutByte(&dec->buf, (char) ((acc >> bits) & 0xFF));
		}
	}
	return 0;
}

/*
 * The segment just added (the last) decodes from base64 to base64 again, a
 * payload encoded twice: decode that too, as a segment of its own.
 */
static int
DecodeTwice(AgDecoded *dec, size_t start, size_t end)
{
	const AgDecodedSegment *last = &dec->seg[dec->nseg - 1];
	size_t		n = last->len;

	while (n > 0 && dec->buf.data[last->off + n - 1] == '=')
		n--;
	if (n < MIN_B64_RUN)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (!IsB64((unsigned char) dec->buf.data[last->off + k]))
			return 0;

	size_t		off = dec->buf.len;
	size_t		from = last->off;

	/* room first: the source is in dec->buf, which may move */
	if (AgBufReserve(&dec->buf, n / 4 * 3 + 3) != 0)
		return -1;
	Base64Into(&dec->buf, (const unsigned char *) dec->buf.data + from, n);
	return AddSegment(dec, start, end, "base64 (twice)", off);
}

#ifdef __SSE2__
/*
 * The 16 bits of v's bytes in the base64 alphabet (IsB64), and of those an
 * escape starts with ('%', '&', '\\') in *pct.
 */
static AG_ALWAYS_INLINE unsigned
B64Bits(__m128i v, unsigned *pct)
{
	__m128i		letter = AgBytesIn(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
	__m128i		digit = AgBytesIn(v, '0', '9');
	__m128i		other = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('+')),
												  _mm_cmpeq_epi8(v, _mm_set1_epi8('-'))),
									 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')),
												  _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));

	/* ('%' and '&' are neighbours: 0x25, 0x26) */
	*pct = (unsigned) _mm_movemask_epi8(_mm_or_si128(AgBytesIn(v, '%', '&'),
													 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
	return (unsigned) _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), other));
}
#endif

/*
 * From i, a place the loop below would visit (not inside a run), the first
 * place it would visit from which something can come: a '%', '&' or '\\', or a run of
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

	size_t		floor = 0;		/* the end of the last escaped region */

	dec->buf.len = 0;
	dec->nseg = 0;
	while (i < len && dec->nseg < AG_MAX_DECODED_SEGMENTS)
	{
		unsigned char c = s[i];

		/*
		 * character escapes (HTML references, \u, \x): a region around
		 * them decoded whole; the loop goes on inside it, for base64 or
		 * percent-encoding there, without starting another region
		 */
		if (c == '&' || c == '\\')
		{
			uint32_t	v;
			int			is_byte;
			size_t		n = i >= floor ? EscapeAt(s, i, len, &v, &is_byte) : 0;

			if (n > 0)
			{
				size_t		end = DecodeEscapedRegion(dec, s, len, i, floor);

				if (end == (size_t) -1)
					return -1;
				floor = end > 0 ? end : i + n;
			}
			i += n > 0 ? n : 1;
			continue;
		}

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
					b32_only = 1,
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
				if (!((ch >= 'A' && ch <= 'Z') || (ch >= '2' && ch <= '7')))
					b32_only = 0;
				if (ch >= 'a' && ch <= 'z')
					lower++;
				else if (ch >= 'A' && ch <= 'Z')
					upper++;
				else if (ch >= '0' && ch <= '9')
					digits++;
			}
		while (i < len && s[i] == '=' && i - end < (b32_only && lower == 0 ? 6 : 2))
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

			int			nseg = dec->nseg;

			if (DecodeBase64(dec, s + start, run) != 0)
				return -1;
			if (AddSegment(dec, start, i, "base64", off) != 0)
				return -1;
			if (dec->nseg > nseg && dec->nseg < AG_MAX_DECODED_SEGMENTS &&
				DecodeTwice(dec, start, i) != 0)
				return -1;
		}
		else if (run >= MIN_B64_RUN && b32_only && upper > 0)
		{
			size_t		off = dec->buf.len;

			if (DecodeBase32(dec, s + start, run) != 0)
				return -1;
			if (AddSegment(dec, start, i, "base32", off) != 0)
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
