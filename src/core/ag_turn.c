/*
 * ag_turn.c
 *	  Text turned the right way round again (see ag_turn.h).
 *
 * Both ways write the code points of the text in reverse order, each
 * encoded afresh (a byte that starts no valid sequence becomes U+FFFD, so
 * the output is always valid UTF-8): one pass sizes the output, a second
 * writes each character at its place counted from the end.
 */
#include "ag_turn.h"

#include <stdint.h>
#include <string.h>

/* The letter an upside-down character stands for, or cp itself. */
static int32_t
Unflip(int32_t cp)
{
	static const struct
	{
		int32_t		flipped;
		int32_t		letter;
	}			table[] = {
		{'M', 'W'}, {'W', 'M'},
		{'b', 'q'}, {'d', 'p'}, {'n', 'u'}, {'p', 'd'}, {'q', 'b'}, {'u', 'n'},
		{0x00A1, '!'},			/* ¡ */
		{0x00BF, '?'},			/* ¿ */
		{0x0131, 'i'},			/* ı */
		{0x017F, 'J'},			/* ſ */
		{0x0183, 'g'},			/* ƃ */
		{0x0186, 'C'},			/* Ɔ */
		{0x018E, 'E'},			/* Ǝ */
		{0x01DD, 'e'},			/* ǝ */
		{0x0250, 'a'},			/* ɐ */
		{0x0254, 'c'},			/* ɔ */
		{0x025F, 'f'},			/* ɟ */
		{0x0265, 'h'},			/* ɥ */
		{0x026F, 'm'},			/* ɯ */
		{0x0279, 'r'},			/* ɹ */
		{0x027E, 'j'},			/* ɾ */
		{0x0287, 't'},			/* ʇ */
		{0x028C, 'v'},			/* ʌ */
		{0x028D, 'w'},			/* ʍ */
		{0x028E, 'y'},			/* ʎ */
		{0x029E, 'k'},			/* ʞ */
		{0x02D9, '.'},			/* ˙ */
		{0x02E5, 'L'},			/* ˥ */
		{0x039B, 'V'},			/* Λ */
		{0x0500, 'P'},			/* Ԁ */
		{0x2132, 'F'},			/* Ⅎ */
		{0x2141, 'G'},			/* ⅁ */
		{0x2144, 'Y'},			/* ⅄ */
		{0x2200, 'A'},			/* ∀ */
		{0x2229, 'U'},			/* ∩ */
		{0x22A5, 'T'},			/* ⊥ */
		{0x22CA, 'K'},			/* ⋊ */
	};
	size_t		lo = 0,
				hi = sizeof(table) / sizeof(table[0]);

	/* sorted by flipped: binary search */
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (table[mid].flipped < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < sizeof(table) / sizeof(table[0]) && table[lo].flipped == cp)
		return table[lo].letter;
	return cp;
}

static int
Turn(AgBuf *out, const char *text, size_t len, int unflip)
{
	const unsigned char *s = (const unsigned char *) text;
	unsigned char enc[4];
	size_t		total = 0;

	for (size_t i = 0; i < len;)
	{
		int32_t		cp;

		i += (size_t) AgUtf8Decode(s + i, len - i, &cp);
		total += (size_t) AgUtf8Encode(unflip ? Unflip(cp) : cp, enc);
	}
	out->len = 0;
	if (AgBufReserve(out, total + 1) != 0)
		return -1;

	size_t		end = total;

	for (size_t i = 0; i < len;)
	{
		int32_t		cp;
		int			k;

		i += (size_t) AgUtf8Decode(s + i, len - i, &cp);
		k = AgUtf8Encode(unflip ? Unflip(cp) : cp, enc);
		end -= (size_t) k;
		for (int j = 0; j < k; j++)
			out->data[end + j] = (char) enc[j];
	}
	out->len = total;
	out->data[total] = '\0';
	return 0;
}

int
AgTurnReversed(AgBuf *out, const char *text, size_t len)
{
	return Turn(out, text, len, 0);
}

int
AgTurnUpsideDown(AgBuf *out, const char *text, size_t len)
{
	return Turn(out, text, len, 1);
}

int
AgTurnRot13(AgBuf *out, const char *text, size_t len)
{
	out->len = 0;
	if (AgBufReserve(out, len + 1) != 0)
		return -1;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) text[i];

		if ((c >= 'a' && c <= 'm') || (c >= 'A' && c <= 'M'))
			c += 13;
		else if ((c >= 'n' && c <= 'z') || (c >= 'N' && c <= 'Z'))
			c -= 13;
		out->data[i] = (char) c;
	}
	out->len = len;
	out->data[len] = '\0';
	return 0;
}

static int
IsAsciiAlnumByte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char
LowerAscii(char c)
{
	return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
}

/*
 * From each "13" (memchr for '1': digits are rare in prose, so this costs
 * next to nothing) back to "rot", on the text as written.
 */
int
AgNamesRot13(const char *text, size_t len)
{
	const char *end = text + len;

	for (const char *p = text; (p = memchr(p, '1', (size_t) (end - p))) != NULL; p++)
	{
		const char *r = p;

		if (end - p < 2 || p[1] != '3' || (end - p > 2 && IsAsciiAlnumByte(p[2])))
			continue;
		if (r > text && (r[-1] == '-' || r[-1] == ' ' || r[-1] == '_'))
			r--;
		if (r - text >= 3 && LowerAscii(r[-3]) == 'r' && LowerAscii(r[-2]) == 'o' &&
			LowerAscii(r[-1]) == 't' && (r - text == 3 || !IsAsciiAlnumByte(r[-4])))
			return 1;
	}
	return 0;
}
