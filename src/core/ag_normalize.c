/*
 * ag_normalize.c
 *	  Normalisation of text before matching.
 *
 * Two passes.  The first maps each code point on its own: invisible
 * characters (zero-width, bidi controls, tag characters, variation
 * selectors) are dropped, everything else goes through utf8proc's
 * compatibility decomposition with case folding and mark stripping, so that
 * fullwidth, mathematical and accented letters become plain ones.  ASCII
 * text, also with white space and punctuation or symbols from beyond ASCII,
 * accented Latin letters inside words and CJK ideographs apart from Latin
 * words, takes a short path that does both passes at once.  A text is
 * normalised piece by piece: where the short path meets what it cannot
 * take, the two passes run on the words around it only, between cuts
 * where no step looks across (AgNormalizeEx).
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

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* Cyrillic, Greek and Armenian letters that look like Latin ones (after case fold). */
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

/*
 * Small capitals ("ɪɢɴᴏʀᴇ ᴀʟʟ") and negative circled or squared letters
 * ("🅘🅖🅝🅞🅡🅔"), which "fancy text" generators use and Unicode gives no
 * compatibility decomposition (the mathematical, circled and plain squared
 * letters have one, and utf8proc maps them).  No language is
 * written in them; phonetic transcriptions use a few, which become plain
 * letters too, harmlessly.
 */
int32_t
AgSmallCapitalToLatin(int32_t cp)
{
	if (cp < 0x0262)
		return 0;
	/* 🅐..🅩 negative circled and 🅰..🆉 negative squared letters: emoji-like, no decomposition either */
	if (cp >= 0x1F150 && cp <= 0x1F169)
		return 'a' + (cp - 0x1F150);
	if (cp >= 0x1F170 && cp <= 0x1F189)
		return 'a' + (cp - 0x1F170);
	switch (cp)
	{
		case 0x1D00: return 'a';	/* ᴀ */
		case 0x0299: return 'b';	/* ʙ */
		case 0x1D04: return 'c';	/* ᴄ */
		case 0x1D05: return 'd';	/* ᴅ */
		case 0x1D07: return 'e';	/* ᴇ */
		case 0xA730: return 'f';	/* ꜰ */
		case 0x0262: return 'g';	/* ɢ */
		case 0x029C: return 'h';	/* ʜ */
		case 0x026A: return 'i';	/* ɪ */
		case 0x1D0A: return 'j';	/* ᴊ */
		case 0x1D0B: return 'k';	/* ᴋ */
		case 0x029F: return 'l';	/* ʟ */
		case 0x1D0D: return 'm';	/* ᴍ */
		case 0x0274: return 'n';	/* ɴ */
		case 0x1D0F: return 'o';	/* ᴏ */
		case 0x1D18: return 'p';	/* ᴘ */
		case 0xA7AF: return 'q';	/* ꞯ */
		case 0x0280: return 'r';	/* ʀ */
		case 0xA731: return 's';	/* ꜱ */
		case 0x1D1B: return 't';	/* ᴛ */
		case 0x1D1C: return 'u';	/* ᴜ */
		case 0x1D20: return 'v';	/* ᴠ */
		case 0x1D21: return 'w';	/* ᴡ */
		case 0x028F: return 'y';	/* ʏ */
		case 0x1D22: return 'z';	/* ᴢ */
		default: return 0;
	}
}

/*
 * Regional indicator symbols (🇦..🇿) spell letters; two that name a
 * country make its flag.  A run of them that is not a row of flags spells
 * a word ("🇮🇬🇳🇴🇷🇪": IG is no country).  Returns the length in symbols
 * of the run at s, and in *letters whether it is to be read as letters.
 */
#define AG_RI_FIRST 0x1F1E6
#define AG_RI_LAST 0x1F1FF

/*
 * ISO 3166-1 alpha-2 codes (as of Debian's iso-codes 4.15, with EU and UN,
 * which have flags too): bit b of row a is set when the code a b exists.
 */
static const uint32_t country_codes[26] = {
	0x2DF5978, 0x36F7BFB, 0x3F27DED, 0x2005610, 0x01E00D4, 0x0025700, 0x15FB9FB,
	0x01A3400, 0x00F7818, 0x000D010, 0x342B1D0, 0x13E0507, 0x3FFFCFD, 0x212C975,
	0x0001000, 0x14E3CF1, 0x0000001, 0x0544010, 0x3AE7FDF, 0x26A7EEC, 0x3043041,
	0x0102155, 0x0040020, 0x0000000, 0x0080010, 0x0401001,
};

size_t
AgRegionalRun(const unsigned char *s, size_t len, int *letters)
{
	size_t		n = 0,
				i = 0;
	int32_t		first = 0;
	int			flags = 1;

	while (i + 4 <= len)
	{
		int32_t		cp;
		int			used = AgUtf8Decode(s + i, len - i, &cp);

		if (cp < AG_RI_FIRST || cp > AG_RI_LAST)
			break;
		if (n % 2 == 0)
			first = cp - AG_RI_FIRST;
		else if (!(country_codes[first] & (UINT32_C(1) << (cp - AG_RI_FIRST))))
			flags = 0;
		n++;
		i += (size_t) used;
	}
	*letters = !flags || n % 2 != 0;
	return n;
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

/*
 * cp's compatibility decomposition, case-folded, marks stripped, into
 * dec[0..size): utf8proc_decompose_char's count (more than size: did not
 * fit) or a negative error.
 */
static utf8proc_ssize_t
DecomposeCp(int32_t cp, utf8proc_int32_t *dec, utf8proc_ssize_t size)
{
	int			boundclass = 0;

	return utf8proc_decompose_char(cp, dec, size,
								   UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
								   UTF8PROC_STRIPMARK | UTF8PROC_DECOMPOSE |
								   UTF8PROC_IGNORE,
								   &boundclass);
}

/* First pass: one code point at a time.  Returns count or -1. */
static long
MapCodePoints(AgNormText *nt, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *) src;
	size_t		n = 0;
	size_t		i = 0;

	size_t		regional = 0;	/* regional indicators left in the run */
	int			regional_letters = 0;	/* ... and whether they are letters */

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

		int32_t		small = AgSmallCapitalToLatin(cp);

		if (cp >= AG_RI_FIRST && cp <= AG_RI_LAST)
		{
			if (regional == 0)
				regional = AgRegionalRun(s + off, len - off, &regional_letters);
			regional--;
			if (regional_letters)
				small = 'a' + (cp - AG_RI_FIRST);
		}
		if (small)
		{
			nt->cps[n].cp = small;
			nt->cps[n].src = off;
			n++;
			nt->changed_confusable = 1;
			continue;
		}

		utf8proc_int32_t dec[32];
		utf8proc_ssize_t k = DecomposeCp(cp, dec, 32);

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

/*
 * Spaced-out letters: three or more lone letters (IsSingleLetter) with the
 * same separator between each and the next, a separator being one to
 * MAX_SPACING_CPS code points that are neither letters nor digits: white
 * space ("i g n o r e", "i  g  n"), punctuation ("i.g.n", "i, g, n",
 * "i ~ g ~ n") or symbols and emoji ("i\u2022g\u2022n", an emoji between
 * each).  Lists of single letters ("a, b, c or d") are joined too, which
 * changes no word.  Not operators and brackets, which join variables
 * ("x + y + z", "a=b=c", "f(a)(b)(c)"): "concatenate x+y+z" is how payload
 * splitting reads, and joined it reads no more so.
 */
#define MAX_SPACING_CPS 3

static inline int
IsOperatorCp(int32_t cp)
{
	return cp == '+' || cp == '=' || cp == '<' || cp == '>' || cp == '&' ||
		cp == '^' || cp == '%' || cp == '(' || cp == ')' || cp == '[' ||
		cp == ']' || cp == '{' || cp == '}';
}

/*
 * The separator after the lone letter cps[i] when another lone letter
 * follows it: its length in code points, else 0.
 */
static inline int
SeparatorAfter(const AgNormCp *c, long n, long i)
{
	int			k = 0;

	while (k < MAX_SPACING_CPS && i + 1 + k < n && !IsWordCp(c[i + 1 + k].cp))
	{
		if (IsOperatorCp(c[i + 1 + k].cp))
			return 0;
		k++;
	}
	if (k == 0 || !IsSingleLetter(c, n, i + 1 + k))
		return 0;
	return k;
}

/* Do the separators after lone letters i and j, k code points each, agree? */
static inline int
SameSeparator(const AgNormCp *c, long i, long j, int k)
{
	for (int m = 1; m <= k; m++)
		if (c[i + m].cp != c[j + m].cp)
			return 0;
	return 1;
}

/*
 * The last lone letter of the run of spaced-out letters from the lone letter
 * cps[i], and their number (*count); *sep: the separator's length.
 */
static long
SpacedRunEnd(const AgNormCp *c, long n, long i, int *sep, int *count)
{
	int			k = SeparatorAfter(c, n, i);
	long		j = i;

	*sep = k;
	*count = 1;
	if (k == 0)
		return i;
	while (SeparatorAfter(c, n, j) == k && SameSeparator(c, i, j, k))
	{
		j += k + 1;
		(*count)++;
	}
	return j;
}

/*
 * Would the join below join anything?  If nowhere, it copies cps onto
 * themselves.
 */
static int
HasSpacedLetters(const AgNormCp *c, long n)
{
	for (long i = 0; i + 4 < n; i++)
	{
		int			sep,
					count = 0;

		/* (SeparatorAfter first: most lone letters have none, no call) */
		if (IsSingleLetter(c, n, i) && SeparatorAfter(c, n, i) > 0)
			SpacedRunEnd(c, n, i, &sep, &count);
		if (count >= 3)
			return 1;
	}
	return 0;
}

/*
 * Second pass: word-level rewrites, compacting cps in place.  (Whitespace
 * runs are collapsed after it, while encoding: see AgNormalizeEx.)
 */
static long
RewriteWords(AgNormText *nt, long n)
{
	AgNormCp   *c = nt->cps;
	long		w = 0;
	long		i = 0;

	/* Join spaced-out letters: "i g n o r e" -> "ignore". */
	if (HasSpacedLetters(c, n))
	{
		while (i < n)
		{
			if (IsSingleLetter(c, n, i))
			{
				int			sep,
							count;
				long		j = SpacedRunEnd(c, n, i, &sep, &count);

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
	}

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

	return n;
}

static inline int
IsAsciiAlnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static inline int
IsAsciiAlpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Classes of bytes, for the fast path (none for a byte of 0x80 or above). */
#define CLS_ALPHA 1
#define CLS_DIGIT 2
#define CLS_DOLLAR 4
#define CLS_LEET 8				/* LeetToLatin != 0 */
#define CLS_WORDISH (CLS_ALPHA | CLS_DIGIT | CLS_DOLLAR)	/* of a word, leetspeak's too */
#define ALPHA_ROW(a) [a] = CLS_ALPHA, [a + 1] = CLS_ALPHA, [a + 2] = CLS_ALPHA, \
	[a + 3] = CLS_ALPHA, [a + 4] = CLS_ALPHA, [a + 5] = CLS_ALPHA, \
	[a + 6] = CLS_ALPHA, [a + 7] = CLS_ALPHA, [a + 8] = CLS_ALPHA, \
	[a + 9] = CLS_ALPHA, [a + 10] = CLS_ALPHA, [a + 11] = CLS_ALPHA, \
	[a + 12] = CLS_ALPHA
static const unsigned char ascii_class[256] = {
	ALPHA_ROW('a'), ALPHA_ROW('a' + 13), ALPHA_ROW('A'), ALPHA_ROW('A' + 13),
	['0'] = CLS_DIGIT | CLS_LEET, ['1'] = CLS_DIGIT | CLS_LEET,
	['2'] = CLS_DIGIT, ['3'] = CLS_DIGIT | CLS_LEET, ['4'] = CLS_DIGIT | CLS_LEET,
	['5'] = CLS_DIGIT | CLS_LEET, ['6'] = CLS_DIGIT, ['7'] = CLS_DIGIT | CLS_LEET,
	['8'] = CLS_DIGIT, ['9'] = CLS_DIGIT, ['$'] = CLS_DOLLAR | CLS_LEET,
};

/*
 * Whether byte b counts as a letter or digit for the fast path's word
 * tests.  A non-ASCII byte does not: the fast path goes on only past a
 * white space or neutral character (see SimpleCpLen), which is neither.
 */
static inline int
FastAlnum(unsigned char b)
{
	return (ascii_class[b] & (CLS_ALPHA | CLS_DIGIT)) != 0;
}

/*
 * A code point the general path writes out as it is and no word rewrite
 * looks into or across, as if it were an ASCII punctuation mark with no
 * special role (curly quotes, dashes, arrows, box drawing, most symbols and
 * emoji): not invisible, not white space, not a letter, mark or digit, not
 * a homoglyph, and left alone by utf8proc's decomposition with case
 * folding and mark stripping.
 */
static int
IsNeutralCp(int32_t cp)
{
	utf8proc_int32_t dec[4];

	if (cp < 0x80 || IsInvisibleCp(cp) || IsSpaceCp(cp) || IsWordCp(cp) ||
		ConfusableToLatin(cp) != 0 || AgSmallCapitalToLatin(cp) != 0 ||
		(cp >= AG_RI_FIRST && cp <= AG_RI_LAST))
		return 0;				/* flags or letters: the general path decides */
	return DecomposeCp(cp, dec, 4) == 1 && dec[0] == cp;
}

/*
 * Whether the decomposition dec[0..k) of a character is punctuation the
 * fast path may write in its place: neutral code points, and ASCII
 * punctuation other than '$' (leetspeak's s).  ('\u2024' is ".", '\u2026'
 * "...": between lone letters they separate spaced-out letters, which the
 * fast path leaves to the general path, see NormalizeAsciiFast.)
 */
static int
IsPunctuationForm(const utf8proc_int32_t *dec, utf8proc_ssize_t k)
{
	if (k < 1)
		return 0;
	for (utf8proc_ssize_t j = 0; j < k; j++)
	{
		int32_t		d = dec[j];

		if (d >= 0x80)
		{
			if (!IsNeutralCp(d))
				return 0;
		}
		else if (d <= ' ' || d == 0x7F || d == '$' || IsAsciiAlnum((unsigned char) d))
			return 0;
	}
	return 1;
}

/*
 * The ASCII letter the general path makes of the two-byte character at
 * s[i] when it is a Latin letter: with diacritics, one that utf8proc's
 * decomposition with case folding and mark stripping turns into one ASCII
 * letter ("\u00E9", "\u015F"), or the Turkish dotless i (*dotless set),
 * which the general path maps to i in a word with Latin letters (a
 * look-alike, ConfusableToLatin).  Otherwise 0.
 */
static int
LatinLetterAt(const unsigned char *s, size_t len, size_t i, int *dotless)
{
	int32_t		cp;
	utf8proc_int32_t dec[4];

	*dotless = 0;
	if (i + 2 > len || s[i] < 0xC3 || s[i] > 0xC9 || (s[i + 1] & 0xC0) != 0x80)
		return 0;
	cp = ((s[i] & 0x1F) << 6) | (s[i + 1] & 0x3F);	/* U+00C0..U+027F */
	if (cp == 0x0131)
	{
		*dotless = 1;
		return 'i';
	}
	if (!IsLetterCp(cp) || ConfusableToLatin(cp) != 0 || AgSmallCapitalToLatin(cp) != 0)
		return 0;
	if (DecomposeCp(cp, dec, 4) != 1 || dec[0] < 'a' || dec[0] > 'z')
		return 0;
	return dec[0];
}

/*
 * Does the word around the dotless i at s[i] hold an ASCII digit or a '$'
 * (leetspeak)?  Over ASCII letters and digits, '$' and two-byte
 * characters, as far as WORD_SCAN bytes either way; a word longer than
 * that counts as holding one.  The general path counts the dotless i among
 * a word's look-alikes, not its Latin letters, and leetspeak needs two of
 * those: the fast path, which writes an i first, would count one too many.
 */
#define WORD_SCAN 64

static int
WordHoldsLeet(const unsigned char *s, size_t len, size_t i)
{
	size_t		j = i;

	for (int n = 0;; n++)
	{
		if (n == WORD_SCAN)
			return 1;
		if (j >= 1 && (ascii_class[s[j - 1]] & CLS_WORDISH))
			j--;
		else if (j >= 2 && s[j - 2] >= 0xC2 && s[j - 2] <= 0xDF && (s[j - 1] & 0xC0) == 0x80)
			j -= 2;
		else
			break;
		if (ascii_class[s[j]] & (CLS_DIGIT | CLS_DOLLAR))
			return 1;
	}
	j = i + 2;
	for (int n = 0;; n++)
	{
		if (n == WORD_SCAN)
			return 1;
		if (j < len && (ascii_class[s[j]] & CLS_WORDISH))
		{
			if (ascii_class[s[j]] & (CLS_DIGIT | CLS_DOLLAR))
				return 1;
			j++;
		}
		else if (j + 2 <= len && s[j] >= 0xC2 && s[j] <= 0xDF && (s[j + 1] & 0xC0) == 0x80)
			j += 2;
		else
			break;
	}
	return 0;
}

/*
 * A Latin letter with diacritics inside a word (LatinLetterAt), which the
 * fast path can write as the ASCII letter the general path makes of it
 * ("caf\u00E9", "\u00FCber", "gar\u00E7on", "k\u0131rm\u0131z\u0131",
 * "\u00F6\u011Fretmen"): beside it an ASCII letter or another such letter,
 * and no ASCII digit on either side.  Returns that letter, or 0; sets
 * *changed when the general path counts it as a look-alike mapped.
 *
 * A letter of a word is not a lone letter, so it cannot be one of a run of
 * spaced-out letters, which the fast path looks for on the bytes as they
 * are (and where the neighbours of the two bytes count as lone, the fast
 * path at worst suspects a run the general path would not join, and hands
 * the text over).  A digit beside it would make a word of letters and
 * digits that the fast path's byte tests cannot see across it: those, and
 * a letter with no letter beside it ("\u00E0 la", "\u00E9 \u00E9"), go to
 * the general path.  So does a dotless i with nothing but other dotless
 * i's beside it (no Latin letter the general path would see there) or in a
 * word with leetspeak (WordHoldsLeet).
 */
static int
AccentedLetterAt(const unsigned char *s, size_t len, size_t i, int *changed)
{
	int			dotless,
				other_dotless;
	int			letter = LatinLetterAt(s, len, i, &dotless);
	int			before,
				after;

	*changed = dotless;
	if (letter == 0)
		return 0;
	before = i > 0 ? ascii_class[s[i - 1]] : 0;
	after = i + 2 < len ? ascii_class[s[i + 2]] : 0;
	if ((before | after) & CLS_DIGIT)
		return 0;
	if (!((before | after) & CLS_ALPHA) &&
		!(i >= 2 && LatinLetterAt(s, len, i - 2, &other_dotless) != 0 &&
		  !(dotless && other_dotless)) &&
		!(LatinLetterAt(s, len, i + 2, &other_dotless) != 0 && !(dotless && other_dotless)))
		return 0;
	if (dotless && WordHoldsLeet(s, len, i))
		return 0;
	return letter;
}

/*
 * Is s[i..i+3) a CJK unified ideograph (U+4E00..U+9FFF) that the fast path
 * can copy as it is?  The general path leaves one alone (no decomposition,
 * no case, never a look-alike or a lone letter: a test checks every one),
 * but it is a word character, and a word that mixes one with Latin letters
 * is rewritten differently ("other" letters stop leetspeak): so only with
 * no ASCII letter, digit or '$' on either side, and after it nothing but
 * ASCII, another three- or four-byte character (another ideograph, or
 * what the fast path takes or refuses on its own), or the end.  The side
 * before is the caller's: no letter or digit there, ASCII or accented
 * (prev_alnum), and no '$'.
 */
static int
IdeographAt(const unsigned char *s, size_t len, size_t i)
{
	if (i + 3 > len || s[i] < 0xE4 || s[i] > 0xE9 || (s[i] == 0xE4 && s[i + 1] < 0xB8) ||
		(s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
		return 0;
	if (i + 3 < len &&
		((ascii_class[s[i + 3]] & CLS_WORDISH) || (s[i + 3] >= 0x80 && s[i + 3] < 0xE0)))
		return 0;
	return 1;
}

/*
 * What the fast path can do with the non-ASCII character at s (len bytes
 * left).  It takes these, and returns their length:
 *
 *  - white space (no-break, thin, ideographic...; *space set): the general
 *    path writes a space for it;
 *  - a neutral character (IsNeutralCp): written back as it is;
 *  - a compatibility form of punctuation (the ellipsis, the non-breaking
 *    hyphen; IsPunctuationForm): written as what it decomposes to;
 *  - an invisible character right after a neutral one (after_neutral; the
 *    variation selector of an emoji, a zero-width joiner between two):
 *    dropped, as the general path drops it.  Nothing can join across it
 *    there: the neutral character before ends any word, and after a lone
 *    letter it went to the general path (it may separate spaced-out
 *    letters).  Elsewhere ("ig\u200Bnore") the general path decides.
 *
 * The bytes to write go to out (at most 16), their number to *nout.  The
 * character must be well-formed UTF-8.  Anything else returns 0.  *last
 * caches the last neutral code point (0 for none): texts that have one
 * tend to repeat it.
 */
static int
SimpleCpLen(const unsigned char *s, size_t len, int32_t *last, int after_neutral,
			int *space, unsigned char *out, int *nout)
{
	int32_t		cp;
	int			used = AgUtf8Decode(s, len, &cp);
	unsigned char enc[4];

	*space = 0;
	*nout = 0;
	if (used < 2 || AgUtf8Encode(cp, enc) != used || memcmp(enc, s, used) != 0)
		return 0;
	if (cp == *last)
	{
		memcpy(out, s, used);
		*nout = used;
		return used;
	}
	if (IsInvisibleCp(cp))
		return after_neutral ? used : 0;
	if (IsSpaceCp(cp))
	{
		*space = 1;
		return used;
	}
	if (IsWordCp(cp) || ConfusableToLatin(cp) != 0 || AgSmallCapitalToLatin(cp) != 0 ||
		(cp >= AG_RI_FIRST && cp <= AG_RI_LAST))
		return 0;				/* flags or letters: the general path decides */

	utf8proc_int32_t dec[4];
	utf8proc_ssize_t k = DecomposeCp(cp, dec, 4);

	if (k == 1 && dec[0] == cp)
	{
		/* neutral (what IsNeutralCp tests, in the order cheapest first) */
		*last = cp;
		memcpy(out, s, used);
		*nout = used;
		return used;
	}
	if (k > 4 || !IsPunctuationForm(dec, k))
		return 0;
	for (utf8proc_ssize_t j = 0; j < k; j++)
		*nout += AgUtf8Encode(dec[j], out + *nout);
	return used;
}

/*
 * Leetspeak in an ASCII text already lower-cased with whitespace collapsed:
 * RewriteWords' second pass for ASCII, where nothing is confusable or
 * "other" and a word is a run of letters and digits, with '$' inside one
 * (before a letter or digit).  In place; returns whether it changed text.
 *
 * Neither a word nor that pass looks past a byte that is not a letter, a
 * digit or '$', so it runs on each run of those on its own, and only on
 * runs with something to undo (a leet digit or '$').
 */
static int
RewriteLeetRun(unsigned char *c, long n)
{
	int			changed = 0;
	long		i = 0;

	while (i < n)
	{
		if (!IsAsciiAlnum(c[i]) && LeetToLatin(c[i]) == 0)
		{
			i++;
			continue;
		}
		long		start = i;
		int			latin = 0,
					leet = 0;

		while (i < n && (IsAsciiAlnum(c[i]) ||
						 (LeetToLatin(c[i]) != 0 && i > start &&
						  i + 1 < n && IsAsciiAlnum(c[i + 1]))))
		{
			if (c[i] >= 'a' && c[i] <= 'z')
				latin++;
			else if (LeetToLatin(c[i]))
				leet++;
			i++;
		}
		long		len = i - start;

		if (leet > 0 && latin >= 2 && len <= 24 &&
			!(c[start] >= '0' && c[start] <= '9' && leet == 1 && len <= 4))
		{
			for (long k = start; k < i; k++)
			{
				int32_t		m = LeetToLatin(c[k]);

				if (m)
					c[k] = (unsigned char) m;
			}
			changed = 1;
		}
		if (len == 0)
			i++;
	}
	return changed;
}

/* The first digit or '$' in c[i..n), or n. */
static long
NextDigitOrDollar(const unsigned char *c, long n, long i)
{
#ifdef __SSE2__
	for (; i + 16 <= n; i += 16)
	{
		__m128i		v = _mm_loadu_si128((const __m128i *) (c + i));
		__m128i		hit = _mm_or_si128(AgBytesIn(v, '0', '9'),
									   _mm_cmpeq_epi8(v, _mm_set1_epi8('$')));
		unsigned	mask = (unsigned) _mm_movemask_epi8(hit);

		if (mask != 0)
			return i + __builtin_ctz(mask);
	}
#endif
	for (; i < n; i++)
		if (ascii_class[c[i]] & (CLS_DIGIT | CLS_DOLLAR))
			break;
	return i;
}

/*
 * Every run of letters, digits and '$' with a leet character in it (a
 * digit or '$' first of all) is handed to RewriteLeetRun; the runs between
 * are skipped without a look at each byte.
 */
static int
RewriteLeetAscii(unsigned char *c, long n)
{
	int			changed = 0;
	long		i = 0;

	while (i < n)
	{
		long		p = NextDigitOrDollar(c, n, i);

		if (p >= n)
			break;

		/* the whole run around p (i is never inside an earlier run) */
		long		start = p,
					end = p;
		int			leet = 0;

		while (start > i && (ascii_class[c[start - 1]] & CLS_WORDISH))
			start--;
		for (; end < n && (ascii_class[c[end]] & CLS_WORDISH); end++)
			leet |= ascii_class[c[end]];
		if (leet & CLS_LEET)
			changed |= RewriteLeetRun(c + start, end - start);
		i = end + 1;			/* c[end] is not wordish */
	}
	return changed;
}

/* FoldAscii as a table */
static const unsigned char ascii_fold[128] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
	0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
};

/* An ASCII byte as the general path maps it: lower case, \t..\r a space. */
static inline unsigned char
FoldAscii(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c + ('a' - 'A');
	if (c >= 0x09 && c <= 0x0D)
		return ' ';
	return c;
}

/*
 * Three lone letters in a row from the lone letter s[i] ("i g n ...",
 * "a, b, c"), with the same separator after the first two: the general
 * path's spaced-out letters (SpacedRunEnd) where the separator is ASCII,
 * the bytes compared as the general path sees them (FoldAscii: a tab or a
 * line break is a space).  A separator from beyond ASCII the fast path
 * finds when it meets it (LoneLetterBefore).
 */
static inline int
SpacedRunAt(const unsigned char *s, size_t len, size_t i)
{
	size_t		k = 0;

	/* most lone letters: "a word", "I am" (the caller knows i + 4 < len) */
	if (IsAsciiAlnum(s[i + 2]) && IsAsciiAlnum(s[i + 3]))
		return 0;
	while (k < MAX_SPACING_CPS && i + 1 + k < len && s[i + 1 + k] < 0x80 &&
		   !IsAsciiAlnum(s[i + 1 + k]))
	{
		if (IsOperatorCp(s[i + 1 + k]))
			return 0;
		k++;
	}

	size_t		second = i + 1 + k,
				third = second + 1 + k;

	if (k == 0 || third >= len || !IsAsciiAlpha(s[second]))
		return 0;
	for (size_t m = 1; m <= k; m++)
		if (FoldAscii(s[second + m]) != FoldAscii(s[i + m]))
			return 0;
	return IsAsciiAlpha(s[third]) && (third + 1 == len || !IsAsciiAlnum(s[third + 1]));
}

/*
 * Whether the character at s[i], beyond ASCII, may be (part of) the
 * separator after a lone letter: a lone ASCII letter before it with at
 * most MAX_SPACING_CPS ASCII bytes that are neither letters nor digits
 * between.  ("i\u2022g\u2022n", "x \u2013 y \u2013 z"; the general path
 * decides, so the test may say yes where it then joins nothing.)
 */
static inline int
LoneLetterBefore(const unsigned char *s, size_t i)
{
	size_t		p = i;

	while (p > 0 && i - p < MAX_SPACING_CPS && s[p - 1] < 0x80 && !IsAsciiAlnum(s[p - 1]))
		p--;
	return p > 0 && IsAsciiAlpha(s[p - 1]) && (p < 2 || !FastAlnum(s[p - 2]));
}

/*
 * Whether the character at s[i] (used bytes; SimpleCpLen's verdict in
 * space, form and nform), after a lone letter, cannot separate spaced-out
 * letters, seen from what follows it.  Either the next letter or digit,
 * past at most MAX_SPACING_CPS ASCII bytes that are neither, cannot be the
 * next lone letter ("a \u201Csmart\u201D idea", "I \u2014 2"); or the
 * character is a neutral one (one code point, itself) right between two
 * ASCII letters with an ASCII byte after the second ("I\u2019m", "I\u2019ll"):
 * a run would need the same code point again after it.  Those are most of
 * the lone letters before a character beyond ASCII in prose, which would
 * otherwise all go to the general path.
 */
static inline int
CannotSeparateLetters(const unsigned char *s, size_t len, size_t i, int used,
					  int space, const unsigned char *form, int nform)
{
	size_t		next = i + (size_t) used,
				q = next;

	while (q < len && s[q] < 0x80 && !IsAsciiAlnum(s[q]))
	{
		if (q - next == MAX_SPACING_CPS)
			return 1;			/* a separator too long */
		q++;
	}
	if (q >= len)
		return 1;				/* no second letter */
	if (s[q] >= 0x80)
		return 0;				/* the general path decides */
	if (!IsAsciiAlpha(s[q]) || (q + 1 < len && IsAsciiAlnum(s[q + 1])))
		return 1;				/* a digit, or a word: no lone letter */
	return q == next && !space && nform == used &&
		memcmp(form, s + i, (size_t) used) == 0 && IsAsciiAlpha(s[i - 1]) &&
		q + 1 < len && s[q + 1] < 0x80;
}

#ifdef __SSE2__
/*
 * Sixteen bytes s[0..16) of ASCII text (nvec 1), or sixty-four (nvec 4),
 * that the fast path below would copy lower-cased, \t..\r turned into
 * spaces and white space after white space dropped, with no other work: no
 * byte of 0x80 or above, no '$', and no word that mixes letters and digits
 * (a letter next to a digit, also across the block's start: word_kind is
 * CLS_ALPHA and/or CLS_DIGIT for the word the byte before belongs to, 0
 * after a non-word byte).  Writes the bytes kept to o, their offsets (base
 * on) to map, and their number to *written; one bit per lone letter ("a",
 * "I": a letter with no letter or digit either side; next_alnum: whether
 * the byte after the block is a letter or digit as the fast path classes
 * it) to *lone, for the caller's spaced-out-letters test; *kind_after is
 * the word_kind for the byte after the block.  Returns 1; otherwise writes
 * nothing and returns 0.  The masks have a bit per byte, so sixty-four
 * bytes cost little more in mask work than sixteen.
 */
static AG_ALWAYS_INLINE int
AsciiBlockPlain(const unsigned char *s, const int nvec, int word_kind, int next_alnum,
				int last_space, unsigned char *o, uint32_t *map, uint32_t base,
				uint64_t *lone, size_t *written, int *kind_after)
{
	const unsigned last_bit = 16 * (unsigned) nvec - 1;
	const uint64_t all = nvec == 4 ? ~UINT64_C(0) : UINT64_C(0xFFFF);
	const __m128i space = _mm_set1_epi8(' ');
	__m128i		v[4];
	uint64_t	high = 0,
				a = 0,
				d = 0,
				sp = 0,
				dollar = 0;

#pragma GCC unroll 4
	for (int k = 0; k < nvec; k++)
	{
		v[k] = _mm_loadu_si128((const __m128i *) (s + 16 * k));
		high |= (uint64_t) (unsigned) _mm_movemask_epi8(v[k]) << (16 * k);
	}
	if (high != 0)
		return 0;				/* non-ASCII: signed compares below are safe */
#pragma GCC unroll 4
	for (int k = 0; k < nvec; k++)
	{
		__m128i		upper = AgBytesIn(v[k], 'A', 'Z');
		__m128i		alpha = _mm_or_si128(upper, AgBytesIn(v[k], 'a', 'z'));
		__m128i		ctrl = AgBytesIn(v[k], 0x09, 0x0D);

		d |= (uint64_t) (unsigned) _mm_movemask_epi8(AgBytesIn(v[k], '0', '9')) << (16 * k);
		a |= (uint64_t) (unsigned) _mm_movemask_epi8(alpha) << (16 * k);
		sp |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v[k], space),
																  ctrl)) << (16 * k);
		dollar |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v[k], _mm_set1_epi8('$')));

		/* the output: lower case, \t..\r a space */
		v[k] = _mm_add_epi8(v[k], _mm_and_si128(upper, _mm_set1_epi8(0x20)));
		v[k] = _mm_or_si128(_mm_andnot_si128(ctrl, v[k]), _mm_and_si128(ctrl, space));
	}
	if (dollar != 0)
		return 0;

	uint64_t	al = a | d;

	/* a letter beside a digit: a mixed word (the general path's leetspeak) */
	if (((a & ((d << 1) | (d >> 1))) |
		 (a & 1 & -(uint64_t) ((word_kind & CLS_DIGIT) != 0)) |
		 (d & 1 & -(uint64_t) ((word_kind & CLS_ALPHA) != 0))) != 0)
		return 0;

	uint64_t	left = (al << 1) | (uint64_t) (word_kind != 0);
	uint64_t	right = (al >> 1) | ((uint64_t) (next_alnum != 0) << last_bit);
	uint64_t	drop = sp & ((sp << 1) | (uint64_t) (last_space != 0));
	size_t		w = 0;

	*lone = a & ~left & ~right & all;

	*kind_after = (a >> last_bit) & 1 ? CLS_ALPHA : (d >> last_bit) & 1 ? CLS_DIGIT : 0;
#pragma GCC unroll 4
	for (int k = 0; k < nvec; k++)
	{
		unsigned	dropk = (unsigned) (drop >> (16 * k)) & 0xFFFF;
		uint32_t	at = base + 16 * (uint32_t) k;

		if (dropk != 0)
		{
			/* white space after white space: keep the other bytes, in order */
			unsigned char folded[16];
			unsigned	keep = ~dropk & 0xFFFF;

			_mm_storeu_si128((__m128i *) folded, v[k]);
			for (; keep != 0; keep &= keep - 1, w++)
			{
				unsigned	j = (unsigned) __builtin_ctz(keep);

				o[w] = folded[j];
				map[w] = at + j;
			}
			continue;
		}
		_mm_storeu_si128((__m128i *) (o + w), v[k]);

		__m128i		offs = _mm_add_epi32(_mm_set1_epi32((int) at), _mm_setr_epi32(0, 1, 2, 3));

		for (int q = 0; q < 4; q++)
		{
			_mm_storeu_si128((__m128i *) (map + w + 4 * q), offs);
			offs = _mm_add_epi32(offs, _mm_set1_epi32(4));
		}
		w += 16;
	}
	*written = w;
	return 1;
}
#endif

/*
 * Where a text may be cut into pieces that normalise on their own: before
 * an ASCII white space byte that follows two ASCII letters or digits.  No
 * step looks across such a place: a word ends there and the next starts
 * after it (homoglyphs and leetspeak are mapped word by word, invisible
 * characters are dropped inside one), white space is collapsed the same
 * whatever is on either side of it, and a run of spaced-out letters is
 * made of lone letters with single separators between, so the word before
 * it ends one.  Each piece's output is then the whole text's output of its
 * bytes, and the outputs joined are the text's.
 */
static inline int
IsCut(const unsigned char *s, size_t from, size_t p)
{
	return p >= from + 2 && (s[p] == ' ' || (s[p] >= 0x09 && s[p] <= 0x0D)) &&
		IsAsciiAlnum(s[p - 1]) && IsAsciiAlnum(s[p - 2]);
}

/* The first cut in s[from..len) after at, or len */
static size_t
NextCut(const unsigned char *s, size_t len, size_t from, size_t at)
{
	for (size_t p = at + 1; p < len; p++)
		if (IsCut(s, from, p))
			return p;
	return len;
}

/* The last cut in s[from..at], or from */
static size_t
LastCut(const unsigned char *s, size_t from, size_t at)
{
	for (size_t p = at; p > from; p--)
		if (IsCut(s, from, p))
			return p;
	return from;
}

/* Where the fast path stopped in a piece; see NormalizeAsciiFast */
typedef struct FastStop
{
	size_t		at;				/* the character or spaced-out letter */
	size_t		covered;		/* the bytes before it are in the output */
	size_t		written;		/* output bytes written */
} FastStop;

/*
 * Room for len more bytes of output (and the NUL) and as many map entries.
 * 0 or -1 (no memory).
 */
static int
ReserveOutput(AgNormText *nt, size_t len)
{
	size_t		need = nt->out.len + len + 1;

	if (AgBufReserve(&nt->out, len) != 0)
		return -1;
	if (nt->mapcap < need)
	{
		/* doubling: a text of many general pieces may grow it many times */
		size_t		cap = need + 64 > 2 * nt->mapcap ? need + 64 : 2 * nt->mapcap;
		uint32_t   *m = realloc(nt->map, cap * sizeof(uint32_t));

		if (m == NULL)
			return -1;
		nt->map = m;
		nt->mapcap = cap;
	}
	return 0;
}

/*
 * The fast path, for ASCII text: one pass lower-cases, turns
 * \t..\r into spaces and collapses whitespace runs, i.e. MapCodePoints and
 * RewriteWords' last pass, and notes what else the word rewrites could do.
 * It also takes non-ASCII white space and neutral characters (curly quotes,
 * dashes, symbols, emoji: see SimpleCpLen), which chat text is full of.
 * The result is the general path's, always.
 *
 * src[0..len) is a piece of a text (see AgNormalizeEx): its bytes start at
 * byte base of the text, and after_text says whether text came before it
 * (the piece then starts with white space, which becomes one space).  Its
 * output is appended to nt's.  Returns 1 when it did the work, -1 when out
 * of memory, and 0 when the piece needs the general path: *stop then says
 * where it stopped (offsets in src) and what it wrote past nt->out.len,
 * which is the output of src up to any cut at or before stop->covered
 * (IsCut), leetspeak aside (see AgNormalizeEx).
 *
 *	- When no run of lone letters would be joined (as seen on the bytes as
 *	  the general path maps them, exactly its condition) and no word mixes
 *	  letters with digits or '$', the rewrites leave the text alone: done.
 *	- When no run would be joined but a word is mixed, the only rewrite left
 *	  is leetspeak, done here on the output: it neither adds nor removes
 *	  spaces and collapsing spaces changes no word, so the order of the two
 *	  does not matter.
 *	- Anything else (other non-ASCII characters, spaced-out letters) takes
 *	  the general path.
 *
 * (Until November 2026 the first test looked at the bytes as they are, so
 * lone letters separated by tabs or line breaks, "i\tg\tn\to\tr\te", were
 * joined in any text but one of pure ASCII; no corpus finding changed when
 * that was mended.)
 */
static AG_ALWAYS_INLINE int
NormalizeAsciiFast(AgNormText *nt, const char *src, size_t len,
				   uint32_t base, int after_text, FastStop *stop)
{
	const unsigned char *s = (const unsigned char *) src;
	unsigned char *o;
	uint32_t   *map;
	size_t		ob = 0;
	int			letters = 0,
				digits = 0,
				mixed = 0;		/* a word mixes letters with digits, or '$' */
	int			last_space = !after_text;
	int32_t		last_neutral = 0;
	int			after_neutral = 0;	/* the last character written was neutral */
	int			letter,
				mapped;

	if (ReserveOutput(nt, len) != 0)
		return -1;
	o = (unsigned char *) nt->out.data + nt->out.len;
	map = nt->map + nt->out.len;
	int			prev_alnum = 0;
	int			alnum = len > 0 && s[0] < 0x80 &&
		(ascii_class[s[0]] & (CLS_ALPHA | CLS_DIGIT)) != 0;

#ifdef __SSE2__
	size_t		scalar_until = 0;	/* a block failed: bytes before here one by one */
	size_t		narrow_until = 0;	/* a wide block failed: sixteen at a time */
#endif

	for (size_t i = 0; i < len; i++)
	{
		unsigned char c;

#ifdef __SSE2__
		/*
		 * most of a text: sixty-four or sixteen plain bytes at a time (same
		 * result)
		 */
		while (i >= scalar_until && i + 16 < len && base + i + 16 <= UINT32_MAX)
		{
			int			wide = i >= narrow_until && i + 64 < len &&
				base + i + 64 <= UINT32_MAX;
			size_t		step = wide ? 64 : 16;
			int			after = FastAlnum(s[i + step]);
			uint64_t	lone;
			size_t		written;
			int			kind_after;
			int			word_kind = prev_alnum ? letters | digits : 0;

			if (wide ?
				!AsciiBlockPlain(s + i, 4, word_kind, after, last_space, o + ob,
								 map + ob, (uint32_t) (base + i), &lone, &written,
								 &kind_after) :
				!AsciiBlockPlain(s + i, 1, word_kind, after, last_space, o + ob,
								 map + ob, (uint32_t) (base + i), &lone, &written,
								 &kind_after))
			{
				if (wide)
				{
					/* sixteen at a time through these sixty-four */
					narrow_until = i + 64;
					continue;
				}

				/*
				 * One by one up to the end of the block, or only up to its
				 * first non-ASCII byte if it has one: past that character
				 * the next block may well be plain (prose with curly quotes
				 * and dashes).
				 */
				unsigned	high = (unsigned) _mm_movemask_epi8(_mm_loadu_si128((const __m128i *) (s + i)));

				scalar_until = i + (high != 0 ? (size_t) __builtin_ctz(high) + 1 : 16);
				break;
			}
			/* lone letters: the test the byte loop makes on each */
			for (; lone != 0; lone &= lone - 1)
			{
				size_t		p = i + (size_t) __builtin_ctzll(lone);

				if (p + 4 < len && SpacedRunAt(s, len, p))
				{
					/* spaced-out letters: the general path joins them */
					stop->at = p;
					stop->covered = i;	/* (not the block: ob has not moved) */
					stop->written = ob;
					return 0;
				}
			}
			ob += written;
			after_neutral = 0;
			last_space = ascii_fold[s[i + step - 1]] == ' ';
			prev_alnum = kind_after != 0;
			letters = kind_after & CLS_ALPHA;
			digits = kind_after & CLS_DIGIT;
			alnum = after;
			i += step;			/* still short of len: the loop asked for i + step < len */
		}
#endif
		c = s[i];
		if (c >= 0x80 && (letter = AccentedLetterAt(s, len, i, &mapped)) != 0)
		{
			/* as an ASCII letter inside a word (see AccentedLetterAt) */
			nt->changed_confusable |= mapped;
			o[ob] = (unsigned char) letter;
			map[ob] = (uint32_t) (base + i);
			ob++;
			i++;				/* its second byte */
			last_space = 0;
			after_neutral = 0;
			letters = CLS_ALPHA;
			digits = 0;
			prev_alnum = 1;
			alnum = i + 1 < len && FastAlnum(s[i + 1]);
			continue;
		}
		if (c >= 0x80 && !prev_alnum && (i == 0 || s[i - 1] != '$') &&
			IdeographAt(s, len, i))
		{
			/* a word of its own (see IdeographAt) */
			memcpy(o + ob, s + i, 3);
			for (int k = 0; k < 3; k++)
				map[ob + k] = (uint32_t) (base + i);
			ob += 3;
			i += 2;
			last_space = 0;
			after_neutral = 0;
			letters = digits = 0;
			prev_alnum = 0;
			alnum = 0;			/* (IdeographAt: no letter or digit next) */
			continue;
		}
		if (c >= 0x80)
		{
			/*
			 * White space becomes a space and a neutral character is copied
			 * as it is, every byte mapped to the character's first; either
			 * ends a word: what the general path does.  Anything else needs
			 * the general path, and so does either of them after a lone
			 * letter: it may separate spaced-out letters, which the tests
			 * here look for between ASCII bytes only.
			 */
			int			space;
			unsigned char form[16];
			int			nform;
			int			used = SimpleCpLen(s + i, len - i, &last_neutral, after_neutral,
										   &space, form, &nform);

			stop->at = stop->covered = i;
			stop->written = ob;
			if (used == 0 ||
				(LoneLetterBefore(s, i) &&
				 !CannotSeparateLetters(s, len, i, used, space, form, nform)))
				return 0;
			if (space)
			{
				o[ob] = ' ';
				map[ob] = (uint32_t) (base + i);
				ob += !last_space;
				last_space = 1;
				after_neutral = 0;
			}
			else if (nform > used)
				return 0;		/* never more bytes out than in (room for len) */
			else if (nform > 0)
			{
				memcpy(o + ob, form, nform);
				for (int k = 0; k < nform; k++)
					map[ob + k] = (uint32_t) (base + i);
				ob += nform;
				last_space = 0;
				after_neutral = 1;
			}
			else
				nt->changed_invisible = 1;	/* invisible, after a neutral one: dropped */
			i += used - 1;
			letters = digits = 0;
			prev_alnum = 0;
			alnum = i + 1 < len && FastAlnum(s[i + 1]);
			continue;
		}

		/*
		 * Branch-free: word boundaries are too frequent to predict.  The
		 * only branch is on a lone letter, a word of one letter.
		 */
		int			cls = ascii_class[c];
		int			alpha = cls & CLS_ALPHA;
		unsigned char next = i + 1 < len ? s[i + 1] : 0;
		int			next_alnum = FastAlnum(next);

		letters = (letters | alpha) & -alnum;
		digits = (digits | (cls & CLS_DIGIT)) & -alnum;
		mixed |= (letters & (digits >> 1)) | (cls & CLS_DOLLAR);
		if (alpha & !prev_alnum & !next_alnum)
		{
			if (i + 4 < len && SpacedRunAt(s, len, i))
			{
				/* spaced-out letters: the general path joins them */
				stop->at = stop->covered = i;
				stop->written = ob;
				return 0;
			}
		}
		prev_alnum = alnum;
		alnum = next_alnum;

		/* a space after a space (or at the start) is written over */
		int			sp;

		c = ascii_fold[c];
		sp = c == ' ';
		after_neutral = 0;
		o[ob] = c;
		map[ob] = (uint32_t) (base + i);
		ob += !(sp & last_space);
		last_space = sp;
	}
	if (ob > 0 && o[ob - 1] == ' ')
		ob--;
	o[ob] = '\0';
	nt->out.len += ob;
	if (mixed && RewriteLeetAscii(o, (long) ob))
		nt->changed_confusable = 1;
	return 1;
}

/*
 * Words split by hyphens at odd places ("i-gnore a-ll p-revious
 * i-nstructions", "terminatio-n", "fu-lfilled"): joined again, on the
 * normalised output, when a text has SPLIT_WORDS_MIN such splits and they
 * are one in SPLIT_WORDS_DENSITY words or more.  A split is a run of
 * hyphens between two ASCII letter runs one of which is a fragment of one
 * or two letters; ordinary prose has a few ("e-mail", "x-ray", "co-op",
 * "ci-dessus"), seldom three so close together, and joined they still mean
 * the same.  Lone letters spelled out with hyphens ("i-g-n-o-r-e") were
 * joined before, with the spaced-out ones.
 */
#define SPLIT_WORDS_MIN 3
#define SPLIT_WORDS_DENSITY 25

/* me, te, se, le, la, lo, li, ne, vi, ci, si, ce, en, il, y: after a hyphen, a pronoun */
static int
IsClitic(const unsigned char *w, size_t n)
{
	static const char clitics[] = "me te se le la lo li ne vi ci si ce en il ";

	if (n == 1)
		return w[0] == 'y' || w[0] == 'o' || w[0] == 'a';
	for (const char *c = clitics; *c; c += 3)
		if (c[0] == (char) w[0] && c[1] == (char) w[1])
			return 1;
	return 0;
}

/* The hyphen run at o[i] (o[i] == '-') splits a word as above: its end, else 0. */
static size_t
SplitAt(const unsigned char *o, size_t len, size_t i)
{
	size_t		j = i,
				l = 0,
				r = 0;

	while (j < len && o[j] == '-')
		j++;
	while (l < i && IsAsciiAlpha(o[i - 1 - l]))
		l++;
	while (j + r < len && IsAsciiAlpha(o[j + r]))
		r++;
	if (l == 0 || r == 0 || (l > 2 && r > 2))
		return 0;
	/*
	 * The fragment ends the word on its other side ("i-gnore",
	 * "terminatio-n"); between two hyphens it is a word of a compound
	 * ("step-by-step", "up-to-date").
	 */
	if ((l <= 2 && i - l > 0 && o[i - l - 1] == '-') ||
		(l > 2 && j + r < len && o[j + r] == '-'))
		return 0;
	/*
	 * Not the clitics and prefixes of Romance languages, which rules spell
	 * with their hyphen: "diga-me", "de-me", "est-ce", "ci-dessus".
	 */
	if (r <= 2 && IsClitic(o + j, r))
		return 0;
	if (l == 2 && o[i - 2] == 'c' && o[i - 1] == 'i')
		return 0;
	/* the fragment is a whole piece: not the end of a longer word of digits */
	if ((i - l > 0 && (o[i - l - 1] >= '0' && o[i - l - 1] <= '9')) ||
		(j + r < len && (o[j + r] >= '0' && o[j + r] <= '9')))
		return 0;
	return j;
}

static void
JoinSplitWords(AgNormText *nt)
{
	unsigned char *o = (unsigned char *) nt->out.data;
	size_t		len = nt->out.len;
	size_t		splits = 0,
				words = 1;
	/* hyphen to hyphen: most texts have none or a few */
	for (const unsigned char *h = memchr(o, '-', len); h != NULL;
		 h = memchr(h + 1, '-', len - (size_t) (h + 1 - o)))
	{
		size_t		i = (size_t) (h - o);

		if ((i == 0 || o[i - 1] != '-') && SplitAt(o, len, i))
			splits++;
		if (h + 1 == o + len)
			break;
	}
	if (splits < SPLIT_WORDS_MIN)
		return;
	for (size_t i = 0; i < len; i++)
		words += o[i] == ' ';
	if (splits * SPLIT_WORDS_DENSITY < words)
		return;

	size_t		w = 0;

	for (size_t i = 0; i < len;)
	{
		size_t		end;

		if (o[i] == '-' && (i == 0 || o[i - 1] != '-') && (end = SplitAt(o, len, i)) != 0)
		{
			i = end;
			continue;
		}
		o[w] = o[i];
		nt->map[w++] = nt->map[i++];
	}
	o[w] = '\0';
	nt->out.len = w;
	nt->changed_confusable = 1;
}

/*
 * Markup inside a word, between two letters: markdown emphasis or code
 * marks ("ig**no**re", "instruc`tions`", "d*u*mp") and
 * inline HTML tags and comments ("ig<b></b>nore", "pri<span>or</span>",
 * "sys<!-- x -->tem"), which a reader, or a model, reads through.  Dropped,
 * on the normalised output, when a letter is on either side of the whole
 * sequence; markup between words, or beside digits, stays ("**bold**
 * text", "2*x").  Block tags (p, div, br, li...) stay: they end words.
 */
#define MAX_MARKUP_TAG 128		/* bytes of one tag with its attributes */

static const char *const inline_tags[] = {
	"a", "abbr", "b", "big", "cite", "code", "del", "dfn", "em", "font", "i",
	"ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strike",
	"strong", "sub", "sup", "tt", "u", "var", "wbr",
};

/* Length of the inline tag or comment at o[i] ('<'), or 0. */
static size_t
InlineTagAt(const unsigned char *o, size_t len, size_t i)
{
	size_t		k = i + 1,
				name;

	if (len - i >= 7 && memcmp(o + i, "<!--", 4) == 0)
	{
		for (k = i + 4; k + 3 <= len && k - i < MAX_MARKUP_TAG; k++)
			if (memcmp(o + k, "-->", 3) == 0)
				return k + 3 - i;
		return 0;
	}
	k += k < len && o[k] == '/';
	name = k;
	while (k < len && IsAsciiAlpha(o[k]))
		k++;
	if (k == name)
		return 0;
	size_t		n = k - name;
	int			known = 0;

	for (size_t t = 0; t < sizeof(inline_tags) / sizeof(inline_tags[0]) && !known; t++)
		known = strlen(inline_tags[t]) == n && memcmp(inline_tags[t], o + name, n) == 0;
	if (!known)
		return 0;
	/* attributes: anything up to '>', no '<' */
	while (k < len && o[k] != '>' && o[k] != '<' && k - i < MAX_MARKUP_TAG)
		k++;
	return k < len && o[k] == '>' ? k + 1 - i : 0;
}

/* Length of the markup (emphasis marks, inline tags) at o[i], or 0. */
static size_t
MarkupAt(const unsigned char *o, size_t len, size_t i)
{
	size_t		k = i;

	for (;;)
	{
		size_t		n = 0;

		if (k < len && (o[k] == '*' || o[k] == '`' || o[k] == '~'))
			while (k + n < len && o[k + n] == o[k] && n < 3)
				n++;
		else if (k < len && o[k] == '<')
			n = InlineTagAt(o, len, k);
		if (n == 0)
			return k - i;
		k += n;
	}
}

/*
 * Whether the emphasis run of n bytes at o[i] ("*", "**", "`") has a
 * partner in its token (the same run again before the next white space
 * either way, MAX_PARTNER_GAP bytes at most): emphasis comes in pairs ("ig**no**re", "d*u*mp",
 * "prev*ious*"); a lone one inside a word is a censored letter ("f**k",
 * "sh*t") or a glued word boundary, left alone.
 */
#define MAX_PARTNER_GAP 64

static int
HasPartnerRun(const unsigned char *o, size_t len, size_t i, size_t n)
{
	size_t		from = i,
				to = i + n;

	/* (within MAX_PARTNER_GAP bytes: a token can be a whole text) */
	while (from > 0 && o[from - 1] != ' ' && i - from < MAX_PARTNER_GAP)
		from--;
	while (to < len && o[to] != ' ' && to - (i + n) < MAX_PARTNER_GAP)
		to++;
	for (size_t k = from; k < to;)
	{
		size_t		run = 0;

		while (k + run < to && o[k + run] == o[i])
			run++;
		if (run == n && k != i)
			return 1;
		k += run > 0 ? run : 1;
	}
	return 0;
}

#define MAX_MARKUP_DROPS 64		/* per byte kind and text; the rest stay */

/*
 * Drops the markup starting with the byte c ('*', '`' or '<') that sits
 * between two letters (emphasis only with its partner, HasPartnerRun),
 * compacting o and its byte map.  One memchr pass per kind of byte: most
 * texts have none of them, and code, which has many, seldom after a
 * letter.  What to drop is decided on the text as it is, then dropped.
 */
static void
JoinMarkedUpWordsAt(AgNormText *nt, unsigned char c)
{
	unsigned char *o = (unsigned char *) nt->out.data;
	size_t		len = nt->out.len;
	size_t		drop_at[MAX_MARKUP_DROPS],
				drop_len[MAX_MARKUP_DROPS];
	int			ndrops = 0;

	for (size_t i = 0; i < len && ndrops < MAX_MARKUP_DROPS;)
	{
		const unsigned char *hit = memchr(o + i, c, len - i);
		size_t		n,
					run = 0;

		if (hit == NULL)
			break;
		i = (size_t) (hit - o);
		while (i + run < len && o[i + run] == c)
			run++;				/* (for emphasis: its partner's length) */
		if (i > 0 && IsAsciiAlpha(o[i - 1]) && (n = MarkupAt(o, len, i)) > 0 &&
			i + n < len && IsAsciiAlpha(o[i + n]) &&
			(c == '<' || HasPartnerRun(o, len, i, run)))
		{
			drop_at[ndrops] = i;
			drop_len[ndrops++] = n;
			i += n;
			continue;
		}
		i += run;				/* (a run is looked at once, from its start) */
	}
	if (ndrops == 0)
		return;

	size_t		w = drop_at[0],
				i = drop_at[0];

	for (int d = 0; d < ndrops; d++)
	{
		size_t		keep = drop_at[d] - i;

		memmove(o + w, o + i, keep);
		memmove(nt->map + w, nt->map + i, keep * sizeof(uint32_t));
		w += keep;
		i = drop_at[d] + drop_len[d];
	}
	memmove(o + w, o + i, len - i);
	memmove(nt->map + w, nt->map + i, (len - i) * sizeof(uint32_t));
	w += len - i;
	o[w] = '\0';
	nt->out.len = w;
	nt->changed_confusable = 1;
}

static void
JoinMarkedUpWords(AgNormText *nt)
{
	JoinMarkedUpWordsAt(nt, '*');
	JoinMarkedUpWordsAt(nt, '`');
	JoinMarkedUpWordsAt(nt, '<');
}

/*
 * Phrases run together with '_' or '-' ("ignore_all_previous_instructions",
 * "output-previous-instructions-in-bullet-list"): a token of JOINED_MIN_WORDS
 * or more words of two letters or more, nothing but letters between the
 * joiners, is read with spaces for joiners.  Fewer words are left alone
 * ("im_start", "end_of_text", "diga-me", "step-by-step"); a compound of
 * four ("state-of-the-art") reads the same with spaces.  One byte for one:
 * the byte map stays as it is.
 */
#define JOINED_MIN_WORDS 4

static void
SeparateJoinedWords(AgNormText *nt)
{
	unsigned char *o = (unsigned char *) nt->out.data;
	size_t		len = nt->out.len;
	size_t		i = 0;

	while (i < len)
	{
		/* the next joiner between two letters (the output ends in a NUL) */
		for (;;)
		{
			const char *j = strpbrk((const char *) o + i, "_-");

			if (j == NULL)
				return;
			i = (size_t) ((const unsigned char *) j - o);
			if (i > 0 && i + 1 < len && IsAsciiAlpha(o[i - 1]) && IsAsciiAlpha(o[i + 1]))
				break;
			i++;
		}

		/* the token around it: letter runs joined by single joiners */
		size_t		start = i;
		size_t		end;
		int			words = 1,
					short_word = 0;

		while (start > 0 && IsAsciiAlpha(o[start - 1]))
			start--;
		if (start > 0 && !(o[start - 1] == ' ' || o[start - 1] == '"' || o[start - 1] == '\'' ||
						   o[start - 1] == '(' || o[start - 1] == '`'))
		{
			i++;				/* part of something longer: a path, an address */
			continue;
		}
		end = start;
		for (;;)
		{
			size_t		w = end;

			while (end < len && IsAsciiAlpha(o[end]))
				end++;
			short_word |= end - w < 2;
			if (end + 1 < len && (o[end] == '_' || o[end] == '-') && IsAsciiAlpha(o[end + 1]))
			{
				words++;
				end++;
				continue;
			}
			break;
		}
		if (words >= JOINED_MIN_WORDS && !short_word &&
			(end == len || !(IsAsciiAlpha(o[end]) || (o[end] >= '0' && o[end] <= '9') ||
							 o[end] == '_' || o[end] == '-' || o[end] == '/' || o[end] == '.' ||
							 o[end] == '@')))
		{
			for (size_t k = start; k < end; k++)
				if (o[k] == '_' || o[k] == '-')
					o[k] = ' ';
			nt->changed_confusable = 1;
		}
		i = end + 1;
	}
}

/*
 * Phrases run together in camel case ("IgnoreAllPreviousInstructions",
 * "ignoreAllPreviousInstructions"): a run of letters standing alone (white
 * space, a quote or a bracket before it; after it, white space, a quote, a
 * closing bracket or sentence punctuation, not a call's '(' or a member's
 * '.') that the source spells as CAMEL_MIN_WORDS or more parts of two
 * letters or more, each after the first a capital after a small letter,
 * is read with a space before each capital.  The output is lower case by
 * now: the source bytes (through the map) tell the capitals.  Fewer parts
 * are left alone ("JavaScript", "YouTube", "MacBookPro"), and so are
 * names inside code ("obj.getElementsByTagName(", "a/OneTwoThreeFour").
 * Spaces are inserted, each mapped to its capital's source byte.
 * 0 or -1 (no memory).
 */
#define CAMEL_MIN_WORDS 4

static int
IsAsciiLower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static int
IsAsciiUpper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

/* A capital right after a small letter: src[i], i >= 1. */
static int
IsCamelStep(const unsigned char *src, size_t i)
{
	return IsAsciiUpper(src[i]) && IsAsciiLower(src[i - 1]);
}

/*
 * The next i >= from (and >= 1) where src[i] is a capital right after a
 * small letter, or len.  Most text has none or few ("ChatGPT", "iPhone"):
 * sixteen bytes at a time, each block against the one a byte before it.
 */
static size_t
NextCamelStep(const unsigned char *src, size_t len, size_t from)
{
	size_t		i = from < 1 ? 1 : from;

#ifdef __SSE2__
	for (; i + 16 <= len; i += 16)
	{
		__m128i		v = _mm_loadu_si128((const __m128i *) (src + i));
		__m128i		p = _mm_loadu_si128((const __m128i *) (src + i - 1));
		unsigned	hit = (unsigned) _mm_movemask_epi8(_mm_and_si128(AgBytesIn(v, 'A', 'Z'),
																	 AgBytesIn(p, 'a', 'z')));

		if (hit != 0)
			return i + (size_t) __builtin_ctz(hit);
	}
#endif
	for (; i < len; i++)
		if (IsCamelStep(src, i))
			return i;
	return len;
}

/* The first output byte mapped to source offset t or later (the map is in order). */
static size_t
MapLowerBound(const uint32_t *map, size_t len, size_t t)
{
	size_t		lo = 0,
				hi = len;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (map[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
SeparateCamelWords(AgNormText *nt, const unsigned char *src, size_t srclen)
{
	unsigned char *o = (unsigned char *) nt->out.data;
	size_t		len = nt->out.len;
	size_t		ninsert = 0;
	size_t		done = 0;		/* output before here is dealt with */
	uint32_t   *marks = NULL;	/* output offsets that get a space before */
	size_t		markcap = 0;

	/* only the runs of letters that hold a capital after a small letter */
	for (size_t t = NextCamelStep(src, srclen, 1); t < srclen;
		 t = NextCamelStep(src, srclen, t + 1))
	{
		size_t		k = MapLowerBound(nt->map, len, t);

		if (k >= len || k < done || nt->map[k] != t || !IsAsciiAlpha(o[k]))
			continue;

		size_t		start = k,
					end = k;

		while (start > 0 && IsAsciiAlpha(o[start - 1]))
			start--;
		while (end < len && IsAsciiAlpha(o[end]))
			end++;
		done = end;

		size_t		nparts = 1,
					part_start = start,
					first_mark = ninsert;
		int			short_part = 0;

		for (size_t j = start + 1; j < end; j++)
		{
			uint32_t	s1 = nt->map[j];

			if (s1 < srclen && s1 == nt->map[j - 1] + 1 && IsCamelStep(src, s1))
			{
				short_part |= j - part_start < 2;
				part_start = j;
				nparts++;
				if (ninsert == markcap)
				{
					size_t		nc = markcap ? 2 * markcap : 64;
					uint32_t   *nm = realloc(marks, nc * sizeof(uint32_t));

					if (nm == NULL)
					{
						free(marks);
						return -1;
					}
					marks = nm;
					markcap = nc;
				}
				marks[ninsert++] = (uint32_t) j;
			}
		}
		short_part |= end - part_start < 2;
		if (nparts < CAMEL_MIN_WORDS || short_part ||
			(start > 0 && !(o[start - 1] == ' ' || o[start - 1] == '"' ||
							o[start - 1] == '\'' || o[start - 1] == '(' ||
							o[start - 1] == '[' || o[start - 1] == '`')) ||
			(end < len && !(o[end] == ' ' || o[end] == '"' || o[end] == '\'' ||
							o[end] == ')' || o[end] == ']' || o[end] == '`' ||
							o[end] == ',' || o[end] == ';' || o[end] == ':' ||
							o[end] == '!' || o[end] == '?' ||
							(o[end] == '.' && (end + 1 == len || o[end + 1] == ' ')))))
			ninsert = first_mark;	/* not this run */
	}
	if (ninsert == 0)
	{
		free(marks);
		return 0;
	}

	/* move everything right, from the end, a space before each mark */
	if (ReserveOutput(nt, ninsert) != 0)	/* room for len + ninsert + NUL */
	{
		free(marks);
		return -1;
	}
	o = (unsigned char *) nt->out.data;
	size_t		w = len + ninsert;
	size_t		r = len;

	o[w] = '\0';
	for (size_t k = ninsert; k-- > 0;)
	{
		size_t		mark = marks[k];

		while (r > mark)
		{
			r--;
			w--;
			o[w] = o[r];
			nt->map[w] = nt->map[r];
		}
		w--;
		o[w] = ' ';
		nt->map[w] = nt->map[w + 1];	/* the capital's, moved already */
	}
	nt->out.len = len + ninsert;
	nt->changed_confusable = 1;
	free(marks);
	return 0;
}

int
AgRejoinWords(AgNormText *nt, const char *src, size_t srclen)
{
	JoinSplitWords(nt);
	JoinMarkedUpWords(nt);
	SeparateJoinedWords(nt);
	return SeparateCamelWords(nt, (const unsigned char *) src, srclen);
}

int
AgNormalize(AgNormText *nt, const char *src, size_t len)
{
	return AgNormalizeEx(nt, src, len, 1);
}

/*
 * The general path on a piece of a text, src[0..len), its bytes from byte
 * base of the text, after_text as for NormalizeAsciiFast; its output is
 * appended to nt's.  0 or -1 (no memory).
 */
static int
NormalizeGeneral(AgNormText *nt, const char *src, size_t len, uint32_t base,
				 int after_text)
{
	long		n;

	n = MapCodePoints(nt, src, len);
	if (n < 0)
		return -1;
	n = RewriteWords(nt, n);
	if (ReserveOutput(nt, (size_t) n * 4) != 0)
		return -1;

	unsigned char *o = (unsigned char *) nt->out.data;
	size_t		ob = nt->out.len;

	/* whitespace runs collapsed, no leading or trailing space */
	int			last_space = !after_text;

	for (long i = 0; i < n; i++)
	{
		int32_t		cp = nt->cps[i].cp;

		if (cp == ' ' && last_space)
			continue;
		last_space = cp == ' ';
		if (cp < 0x80)
		{
			o[ob] = (unsigned char) cp;
			nt->map[ob++] = base + nt->cps[i].src;
			continue;
		}

		int			k = AgUtf8Encode(cp, o + ob);

		for (int j = 0; j < k; j++)
			nt->map[ob + j] = base + nt->cps[i].src;
		ob += k;
	}
	if (ob > 0 && o[ob - 1] == ' ')
		ob--;
	o[ob] = '\0';
	nt->out.len = ob;
	return 0;
}

/*
 * The fast path from the start; where it stops (a character beyond it, or
 * spaced-out letters), the general path for the piece around that place,
 * from the cut before to the cut after, then the fast path again for the
 * rest: a text with a few characters beyond the fast path pays for the
 * general path on a few words, not on the whole text.
 */
int
AgNormalizeEx(AgNormText *nt, const char *src, size_t len, int allow_fast)
{
	const unsigned char *s = (const unsigned char *) src;
	size_t		from = 0;

	nt->out.len = 0;
	nt->changed_invisible = 0;
	nt->changed_confusable = 0;
	if (ReserveOutput(nt, 0) != 0)
		return -1;
	nt->out.data[0] = '\0';	/* an empty text's */
	while (from < len)
	{
		FastStop	stop = {0};
		size_t		to = len;
		int			rc = allow_fast ?
			NormalizeAsciiFast(nt, src + from, len - from, (uint32_t) from,
							   from > 0, &stop) : 0;

		if (rc < 0)
			return -1;
		if (rc > 0)
			break;
		if (allow_fast && len <= UINT32_MAX)
		{
			/* (the byte map holds 32-bit offsets: a longer text is one piece) */
			size_t		at = from + stop.at;
			size_t		cut = LastCut(s, from, from + stop.covered);

			if (cut > from)
			{
				/*
				 * What the fast path wrote before the cut is the output of
				 * those bytes, once leetspeak is undone in it (which the
				 * fast path leaves to its end).  The flags it set for what
				 * it wrote after the cut stay: the general path sets them
				 * for the same characters (an invisible one dropped; a
				 * dotless i, taken only beside a Latin letter, mapped).
				 */
				size_t		start = nt->out.len;
				size_t		kept = start + stop.written;

				while (kept > start && nt->map[kept - 1] >= cut)
					kept--;
				nt->out.len = kept;
				if (RewriteLeetAscii((unsigned char *) nt->out.data + start,
									 (long) (kept - start)))
					nt->changed_confusable = 1;
				from = cut;
			}
			to = NextCut(s, len, from, at);
		}
		if (NormalizeGeneral(nt, src + from, to - from, (uint32_t) from, from > 0) != 0)
			return -1;
		from = to;
	}
	return AgRejoinWords(nt, src, len);
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
