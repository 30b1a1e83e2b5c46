/*
 * ref_normalize.c
 *	  The normaliser as it was before it was made faster (ag_normalize.c at
 *	  commit cb2c90e, symbols renamed Ref*), kept as the reference the
 *	  current one must agree with byte for byte: test_core compares them on
 *	  the corpus and on random texts.  Do not edit, except to rename, or
 *	  to call the steps added since, the same in both (small capitals and
 *	  regional-indicator words in the first pass, AgSmallCapitalToLatin and
 *	  AgRegionalRun; words split by hyphens or run together, AgRejoinWords,
 *	  after either path): marked "added".
 */
#define AgIsIdeographCp RefIsIdeographCp
#define AgIsWordCp RefIsWordCp
#define AgNormalize RefNormalize
#define AgNormalizeEx RefNormalizeEx
#define AgNormalizePatternLiterals RefNormalizePatternLiterals
#define AgNormMapRange RefNormMapRange
#define AgNormFree RefNormFree
#define AgConfusableToLatin RefConfusableToLatin
/*
 * ag_normalize.c
 *	  Normalisation of text before matching.
 *
 * Two passes.  The first maps each code point on its own: invisible
 * characters (zero-width, bidi controls, tag characters, variation
 * selectors) are dropped, everything else goes through utf8proc's
 * compatibility decomposition with case folding and mark stripping, so that
 * fullwidth, mathematical and accented letters become plain ones.  ASCII
 * takes a short path without utf8proc.
 *
 * The second pass works on words: spaced-out letters ("i g n o r e") are
 * joined, words that mix Latin letters with Cyrillic or Greek look-alikes
 * are mapped to Latin (only mixed words, so Russian text stays Russian),
 * words mixing letters and leet digits ("1gn0r3") get letters back, and
 * whitespace runs become one space.
 *
 * Every output byte remembers the source byte offset of the character it
 * came from, so findings point at the original text.
 */
#include "ag_normalize.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static int
IsInvisibleCp(int32_t cp)
{
	if (cp < 0xAD)
		return 0;
	return cp == 0x00AD || cp == 0x034F || cp == 0x061C ||
		cp == 0x115F || cp == 0x1160 || cp == 0x17B4 || cp == 0x17B5 ||
		(cp >= 0x180B && cp <= 0x180F) ||
		(cp >= 0x200B && cp <= 0x200F) ||
		(cp >= 0x202A && cp <= 0x202E) ||
		(cp >= 0x2060 && cp <= 0x206F) ||
		cp == 0x3164 || (cp >= 0xFE00 && cp <= 0xFE0F) ||
		cp == 0xFEFF || cp == 0xFFA0 ||
		(cp >= 0x1D173 && cp <= 0x1D17A) ||
		(cp >= 0xE0000 && cp <= 0xE007F) ||
		(cp >= 0xE0100 && cp <= 0xE01EF);
}

int
AgIsIdeographCp(int32_t cp)
{
	return (cp >= 0x3040 && cp <= 0x30FF) ||	/* kana */
		(cp >= 0x3400 && cp <= 0x4DBF) ||
		(cp >= 0x4E00 && cp <= 0x9FFF) ||
		(cp >= 0xF900 && cp <= 0xFAFF) ||
		(cp >= 0x20000 && cp <= 0x2FFFF) ||
		(cp >= 0x1100 && cp <= 0x11FF) ||	/* hangul jamo */
		(cp >= 0xAC00 && cp <= 0xD7AF);
}

static inline int
IsLetterCp(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
	switch (utf8proc_category(cp))
	{
		case UTF8PROC_CATEGORY_LU:
		case UTF8PROC_CATEGORY_LL:
		case UTF8PROC_CATEGORY_LT:
		case UTF8PROC_CATEGORY_LM:
		case UTF8PROC_CATEGORY_LO:
		case UTF8PROC_CATEGORY_MN:
		case UTF8PROC_CATEGORY_MC:
			return 1;
		default:
			return 0;
	}
}

static inline int
IsWordCp(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') ||
			(cp >= 'A' && cp <= 'Z');
	return IsLetterCp(cp) || utf8proc_category(cp) == UTF8PROC_CATEGORY_ND;
}

int
AgIsWordCp(int32_t cp)
{
	return IsWordCp(cp);
}

static int
IsSpaceCp(int32_t cp)
{
	if (cp < 0x80)
		return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
	return cp == 0x85 || utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS ||
		cp == 0x2028 || cp == 0x2029;
}

/* Cyrillic and Greek letters that look like Latin ones (after case fold). */
static int32_t
ConfusableToLatin(int32_t cp)
{
	switch (cp)
	{
		case 0x0430: return 'a';	/* а */
		case 0x0432: return 'b';	/* в (small caps look) */
		case 0x0435: return 'e';	/* е */
		case 0x0451: return 'e';	/* ё */
		case 0x043E: return 'o';	/* о */
		case 0x0440: return 'p';	/* р */
		case 0x0441: return 'c';	/* с */
		case 0x0443: return 'y';	/* у */
		case 0x0445: return 'x';	/* х */
		case 0x043A: return 'k';	/* к */
		case 0x043C: return 'm';	/* м */
		case 0x043D: return 'h';	/* н */
		case 0x0442: return 't';	/* т */
		case 0x0456: return 'i';	/* і */
		case 0x0458: return 'j';	/* ј */
		case 0x0455: return 's';	/* ѕ */
		case 0x0501: return 'd';	/* ԁ */
		case 0x051B: return 'q';	/* ԛ */
		case 0x051D: return 'w';	/* ԝ */
		case 0x04CF: return 'l';	/* ӏ */
		case 0x0261: return 'g';	/* ɡ */
		case 0x03B1: return 'a';	/* α */
		case 0x03B5: return 'e';	/* ε */
		case 0x03B9: return 'i';	/* ι */
		case 0x03BA: return 'k';	/* κ */
		case 0x03BD: return 'v';	/* ν */
		case 0x03BF: return 'o';	/* ο */
		case 0x03C1: return 'p';	/* ρ */
		case 0x03C4: return 't';	/* τ */
		case 0x03C5: return 'u';	/* υ */
		case 0x03C7: return 'x';	/* χ */
		/* added (29 November 2026): η ω ɑ and Armenian look-alikes */
		case 0x03B7: return 'n';	/* η */
		case 0x03C9: return 'w';	/* ω */
		case 0x0251: return 'a';	/* ɑ (Latin alpha) */
		case 0x0570: return 'h';	/* հ (Armenian) */
		case 0x0578: return 'n';	/* ո */
		case 0x057D: return 'u';	/* ս */
		case 0x0581: return 'g';	/* ց */
		case 0x0585: return 'o';	/* օ */
		case 0x0131: return 'i';	/* dotless i */
		default: return 0;
	}
}

static int32_t
LeetToLatin(int32_t cp)
{
	switch (cp)
	{
		case '0': return 'o';
		case '1': return 'i';
		case '3': return 'e';
		case '4': return 'a';
		case '5': return 's';
		case '7': return 't';
		case '$': return 's';
		default: return 0;
	}
}

static int
EnsureCps(AgNormText *nt, size_t n)
{
	if (n <= nt->cpscap)
		return 0;
	size_t		cap = nt->cpscap ? nt->cpscap : 256;

	while (cap < n)
		cap *= 2;
	AgNormCp   *p = realloc(nt->cps, cap * sizeof(AgNormCp));

	if (p == NULL)
		return -1;
	nt->cps = p;
	nt->cpscap = cap;
	return 0;
}

/* First pass: one code point at a time.  Returns count or -1. */
static long
MapCodePoints(AgNormText *nt, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *) src;
	size_t		n = 0;
	size_t		i = 0;

	size_t		regional = 0;	/* added */
	int			regional_letters = 0;	/* added */

	/* Decomposition can grow a character (ligatures, "ﬃ" -> "ffi"). */
	if (EnsureCps(nt, len + 16) != 0)
		return -1;
	while (i < len)
	{
		int32_t		cp;
		int			used;
		uint32_t	off = (uint32_t) i;

		if (s[i] < 0x80)
		{
			cp = s[i];
			if (cp >= 'A' && cp <= 'Z')
				cp += 'a' - 'A';
			else if (cp != ' ' && cp >= 0x09 && cp <= 0x0D)
				cp = ' ';
			nt->cps[n].cp = cp;
			nt->cps[n].src = off;
			n++;
			i++;
			continue;
		}
		used = AgUtf8Decode(s + i, len - i, &cp);
		i += used;
		if (IsInvisibleCp(cp))
		{
			nt->changed_invisible = 1;
			continue;
		}
		if (IsSpaceCp(cp))
		{
			nt->cps[n].cp = ' ';
			nt->cps[n].src = off;
			n++;
			continue;
		}

		int			ri_letter = 0;	/* added */

		if (cp >= 0x1F1E6 && cp <= 0x1F1FF)
		{
			if (regional == 0)
				regional = AgRegionalRun(s + off, len - off, &regional_letters);
			regional--;
			ri_letter = regional_letters;
		}
		if (AgSmallCapitalToLatin(cp) || ri_letter)	/* added */
		{
			nt->cps[n].cp = ri_letter ? 'a' + (cp - 0x1F1E6) : AgSmallCapitalToLatin(cp);
			nt->cps[n].src = off;
			n++;
			nt->changed_confusable = 1;
			continue;
		}

		utf8proc_int32_t dec[32];
		int			boundclass = 0;
		utf8proc_ssize_t k = utf8proc_decompose_char(cp, dec, 32,
													 UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
													 UTF8PROC_STRIPMARK | UTF8PROC_DECOMPOSE |
													 UTF8PROC_IGNORE,
													 &boundclass);

		if (k < 0 || k > 32)
		{
			dec[0] = cp;
			k = 1;
		}
		if (EnsureCps(nt, n + (size_t) k + (len - i) + 16) != 0)
			return -1;
		for (utf8proc_ssize_t j = 0; j < k; j++)
		{
			int32_t		d = dec[j];

			if (IsSpaceCp(d))
				d = ' ';
			nt->cps[n].cp = d;
			nt->cps[n].src = off;
			n++;
		}
	}
	return (long) n;
}

/* Is cps[i] a letter that stands alone between non-word characters? */
static inline int
IsSingleLetter(const AgNormCp *cps, long n, long i)
{
	if (i < 0 || i >= n)
		return 0;
	/* cheapest test first: most letters have a letter after them */
	if (i + 1 < n && IsWordCp(cps[i + 1].cp))
		return 0;
	if (!IsLetterCp(cps[i].cp) || AgIsIdeographCp(cps[i].cp))
		return 0;
	if (i > 0 && IsWordCp(cps[i - 1].cp))
		return 0;
	return 1;
}

/* Second pass: word-level rewrites, compacting cps in place. */
static long
RewriteWords(AgNormText *nt, long n)
{
	AgNormCp   *c = nt->cps;
	long		w = 0;
	long		i = 0;

	/* Join spaced-out letters: "i g n o r e" -> "ignore". */
	while (i < n)
	{
		if (IsSingleLetter(c, n, i))
		{
			/*
			 * added (29 November 2026): any separator of one to three code
			 * points that are not word characters, operators or brackets,
			 * the same each time (until then one of " .-_*|/")
			 */
			long		sep = 0;
			long		j = i;
			int			count = 1;

			while (sep < 3 && i + 1 + sep < n && !IsWordCp(c[i + 1 + sep].cp))
				sep++;
			for (long m = 1; m <= sep; m++)
				if (c[i + m].cp < 0x80 && strchr("+=<>&^%()[]{}", (int) c[i + m].cp) != NULL)
					sep = 0;
			for (;;)
			{
				long		next = j + sep + 1;
				int			same = sep > 0 && next < n && IsSingleLetter(c, n, next);

				for (long m = 1; same && m <= sep; m++)
					same = c[j + m].cp == c[i + m].cp;
				if (!same)
					break;
				j = next;
				count++;
			}
			if (count >= 3)
			{
				for (long k = i; k <= j; k += sep + 1)
					c[w++] = c[k];
				nt->changed_confusable = 1;
				i = j + 1;
				continue;
			}
		}
		c[w++] = c[i++];
	}
	n = w;

	/* Homoglyphs and leetspeak, word by word. */
	i = 0;
	while (i < n)
	{
		if (!IsWordCp(c[i].cp) && LeetToLatin(c[i].cp) == 0)
		{
			i++;
			continue;
		}
		long		start = i;
		int			latin = 0,
					confusable = 0,
					leet = 0,
					other = 0;

		while (i < n && (IsWordCp(c[i].cp) ||
						 (LeetToLatin(c[i].cp) != 0 && i > start &&
						  i + 1 < n && IsWordCp(c[i + 1].cp))))
		{
			int32_t		cp = c[i].cp;

			if (cp < 0x80 && cp >= 'a' && cp <= 'z')
				latin++;
			else if (LeetToLatin(cp))
				leet++;
			else if (ConfusableToLatin(cp))
				confusable++;
			else if (cp >= 0x80)
				other++;
			i++;
		}
		long		len = i - start;

		if (confusable > 0 && latin > 0)
		{
			for (long k = start; k < i; k++)
			{
				int32_t		m = ConfusableToLatin(c[k].cp);

				if (m)
					c[k].cp = m;
			}
			nt->changed_confusable = 1;
		}
		if (leet > 0 && latin >= 2 && len <= 24 && other == 0 &&
			!(c[start].cp >= '0' && c[start].cp <= '9' && leet == 1 && len <= 4))
		{
			for (long k = start; k < i; k++)
			{
				int32_t		m = LeetToLatin(c[k].cp);

				if (m)
					c[k].cp = m;
			}
			nt->changed_confusable = 1;
		}
		if (len == 0)
			i++;
	}

	/* Collapse whitespace runs; drop leading and trailing space. */
	w = 0;
	for (i = 0; i < n; i++)
	{
		if (c[i].cp == ' ' && (w == 0 || c[w - 1].cp == ' '))
			continue;
		c[w++] = c[i];
	}
	if (w > 0 && c[w - 1].cp == ' ')
		w--;
	return w;
}

static int
IsAsciiAlnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int
IsAsciiAlpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * The fast path: ASCII text in which no word mixes letters with digits or
 * '$' and no letters stand alone in a spaced-out run, i.e. text the word
 * rewrites would leave unchanged.  Then normalising is lower-casing and
 * collapsing whitespace, one table-driven pass.  Returns 1 when it did the
 * work, 0 when the text needs the general path.
 */
static int
NormalizeAsciiFast(AgNormText *nt, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *) src;
	unsigned char *o;
	size_t		ob = 0;
	int			letters = 0,
				digits = 0;

	/* any byte >= 0x80, or a word the rewrites would touch: general path */
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = s[i];

		if (c >= 0x80)
			return 0;
		if (IsAsciiAlnum(c))
		{
			letters |= IsAsciiAlpha(c);
			digits |= !IsAsciiAlpha(c);
			if (letters && digits)
				return 0;
			/* a lone letter, maybe spaced out: "i g n ..." (added: any) */
			if (IsAsciiAlpha(c) && (i == 0 || !IsAsciiAlnum(s[i - 1])) &&
				(i + 1 == len || !IsAsciiAlnum(s[i + 1])))
				return 0;
		}
		else
		{
			if (c == '$')
				return 0;
			letters = digits = 0;
		}
	}

	if (AgBufReserve(&nt->out, len + 1) != 0)
		return -1;
	if (nt->mapcap < len + 1)
	{
		size_t		cap = len + 64;
		uint32_t   *m = realloc(nt->map, cap * sizeof(uint32_t));

		if (m == NULL)
			return -1;
		nt->map = m;
		nt->mapcap = cap;
	}
	o = (unsigned char *) nt->out.data;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = s[i];

		if (c == ' ' || (c >= 0x09 && c <= 0x0D))
		{
			if (ob == 0 || o[ob - 1] == ' ')
				continue;
			c = ' ';
		}
		else if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		o[ob] = c;
		nt->map[ob] = (uint32_t) i;
		ob++;
	}
	if (ob > 0 && o[ob - 1] == ' ')
		ob--;
	o[ob] = '\0';
	nt->out.len = ob;
	if (AgRejoinWords(nt, src, len) != 0)	/* added */
		return -1;
	return 1;
}

int
AgNormalize(AgNormText *nt, const char *src, size_t len)
{
	return AgNormalizeEx(nt, src, len, 1);
}

int
AgNormalizeEx(AgNormText *nt, const char *src, size_t len, int allow_fast)
{
	long		n;

	nt->out.len = 0;
	nt->changed_invisible = 0;
	nt->changed_confusable = 0;
	if (allow_fast)
	{
		int			rc = NormalizeAsciiFast(nt, src, len);

		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	nt->changed_invisible = 0;
	nt->changed_confusable = 0;
	n = MapCodePoints(nt, src, len);
	if (n < 0)
		return -1;
	n = RewriteWords(nt, n);

	if (AgBufReserve(&nt->out, (size_t) n * 4 + 1) != 0)
		return -1;
	if (nt->mapcap < (size_t) n * 4 + 1)
	{
		size_t		cap = (size_t) n * 4 + 64;
		uint32_t   *m = realloc(nt->map, cap * sizeof(uint32_t));

		if (m == NULL)
			return -1;
		nt->map = m;
		nt->mapcap = cap;
	}
	unsigned char *o = (unsigned char *) nt->out.data;
	size_t		ob = 0;

	for (long i = 0; i < n; i++)
	{
		int			k = AgUtf8Encode(nt->cps[i].cp, o + ob);

		for (int j = 0; j < k; j++)
			nt->map[ob + j] = nt->cps[i].src;
		ob += k;
	}
	o[ob] = '\0';
	nt->out.len = ob;
	return AgRejoinWords(nt, src, len);	/* added */
}

void
AgNormMapRange(const AgNormText *nt, const char *src, size_t srclen,
			   size_t nstart, size_t nend, size_t *sstart, size_t *send)
{
	if (nt->out.len == 0)
	{
		*sstart = *send = 0;
		return;
	}
	if (nstart >= nt->out.len)
		nstart = nt->out.len - 1;
	if (nend <= nstart)
		nend = nstart + 1;
	if (nend > nt->out.len)
		nend = nt->out.len;
	*sstart = nt->map[nstart];
	size_t		last = nt->map[nend - 1];

	*send = last + (size_t) AgUtf8SeqLen((unsigned char) src[last]);
	if (*send > srclen)
		*send = srclen;
}

char *
AgNormalizePatternLiterals(const char *pattern)
{
	AgBuf		b = {0};
	const unsigned char *s = (const unsigned char *) pattern;
	size_t		len = strlen(pattern);
	size_t		i = 0;

	if (AgBufReserve(&b, len) != 0)
		return NULL;
	while (i < len)
	{
		if (s[i] < 0x80)
		{
			AgBufAppend(&b, (const char *) s + i, 1);
			i++;
			continue;
		}
		int32_t		cp;
		int			used = AgUtf8Decode(s + i, len - i, &cp);
		utf8proc_int32_t dec[32];
		int			bc = 0;
		utf8proc_ssize_t k;

		i += used;
		if (IsInvisibleCp(cp))
			continue;
		k = utf8proc_decompose_char(cp, dec, 32,
									UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
									UTF8PROC_STRIPMARK | UTF8PROC_DECOMPOSE |
									UTF8PROC_IGNORE, &bc);
		if (k < 0 || k > 32)
		{
			dec[0] = cp;
			k = 1;
		}
		for (utf8proc_ssize_t j = 0; j < k; j++)
		{
			unsigned char enc[4];
			int			m = AgUtf8Encode(dec[j], enc);

			if (AgBufAppend(&b, (const char *) enc, m) != 0)
			{
				AgBufFree(&b);
				return NULL;
			}
		}
	}
	if (b.data == NULL)
		AgBufAppend(&b, "", 0);
	return b.data;
}

void
AgNormFree(AgNormText *nt)
{
	AgBufFree(&nt->out);
	free(nt->map);
	free(nt->cps);
	memset(nt, 0, sizeof(*nt));
}

int32_t
AgConfusableToLatin(int32_t cp)
{
	return ConfusableToLatin(cp);
}
