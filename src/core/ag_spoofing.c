/*
 * ag_spoofing.c
 *	  Deceptive Unicode (see ag_spoofing.h).
 *
 * One pass over the characters that may matter (IsInterestingLead; the
 * bytes between them are skipped 32 at a time), then a verdict per kind:
 *
 * - Bidirectional overrides (U+202D, U+202E) reverse the display of what
 *   follows; their only use in chat text is to disguise a file name or a
 *   line ("Trojan Source").  Embeddings and isolates (U+202A, U+202B,
 *   U+2066..U+2068) count only in a text with no right-to-left letter,
 *   where nothing needs them; bidi marks (U+200E, U+200F) never count.
 * - A look-alike word mixes Latin letters with Cyrillic, Greek or Armenian
 *   letters that all look Latin ("раypal": р and а Cyrillic), the Latin
 *   letters at least as many or the scripts taking turns, or digits with
 *   an O-like letter between them ("1О345"); or a word of four or more
 *   look-alikes in Latin text ("ΑΜΑΖΟΝ"), or of look-alikes of two scripts
 *   ("ӏоցіո").  Words of a script whose other letters appear in the text
 *   (б, д, λ, ...: text in that language, where a Latin letter typed by
 *   mistake is a slip, not a disguise) do not count; nor a quantity's
 *   symbol ("hν", "νmax").
 * - Invisible characters (zero-width space, joiners, word joiner, BOM,
 *   Hangul fillers) count in runs of three or more, inside a word of
 *   ASCII ("clean\u200Bup", "adm\u200Bin"), or three times between ASCII
 *   characters.  Between emoji, in Indic, Arabic or Persian words,
 *   and alone ("@\u200Beveryone") they are ordinary.  Soft hyphens are
 *   ordinary everywhere.
 * - Four or more combining marks on one Latin, Greek or Cyrillic letter
 *   ("Zalgo"): Vietnamese and phonetic transcription need at most three.
 */
#include "ag_spoofing.h"

#include "ag_normalize.h"
#include "ag_util.h"

#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MIN_INVISIBLE_RUN 3
#define MIN_STACKED_MARKS 4

enum
{
	SCRIPT_CYRILLIC,
	SCRIPT_GREEK,
	SCRIPT_ARMENIAN,
	NSCRIPTS
};

/* Adds t's look-alike words (how many, and the first) to h, the earliest first */
static void
AddWords(AgSpoofHit *h, const AgSpoofHit *t)
{
	if (t->count == 0)
		return;
	if (h->count == 0 || t->start < h->start)
	{
		h->start = t->start;
		h->end = t->end;
	}
	h->count += t->count;
}

/*
 * Lead bytes of the characters looked at: U+0300..U+07FF (marks, Greek,
 * Cyrillic, Armenian, Hebrew, Arabic), U+0800..U+3FFF (of which PassOver
 * keeps the right-to-left U+0800..U+08FF, fillers, marks, invisible and
 * bidi characters, U+3164) and U+F000..U+FFFF (Arabic presentation forms,
 * marks, the BOM, the half-width filler).  Text in other scripts (Indic,
 * CJK) and emoji are passed over with ASCII.
 */
static inline int
IsInterestingLead(unsigned char b)
{
	return (b >= 0xCC && b <= 0xE3) || b == 0xEF;
}

/*
 * 3 when the three-byte character at i is certainly none the pass looks
 * at (curly quotes, dashes, bullets, full-width forms...), judged by its
 * bytes without decoding it; 0 otherwise.
 */
static inline int
PassOver(const unsigned char *s, size_t i, size_t len)
{
	unsigned char b1,
				b2;

	if (i + 3 > len || s[i] < 0xE0)
		return 0;
	b1 = s[i + 1];
	b2 = s[i + 2];
	if ((b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80)
		return 0;				/* not a character: decoded, one byte at a time */
	switch (s[i])
	{
		case 0xE0:				/* U+0800..U+08FF: right-to-left scripts */
			return (b1 >= 0xA0 && b1 <= 0xA3) ? 0 : 3;
		case 0xE1:				/* U+115F, U+1160, U+180E, marks U+1AB0.., U+1DC0.. */
			return (b1 == 0x85 || b1 == 0xA0 || b1 == 0xAA || b1 == 0xAB || b1 == 0xB7) ? 0 : 3;
		case 0xE2:				/* U+200B..F, U+202A..E, U+2060..9, marks U+20D0.. */
			if (b1 == 0x80)
				return ((b2 >= 0x8B && b2 <= 0x8F) || (b2 >= 0xAA && b2 <= 0xAE)) ? 0 : 3;
			return (b1 == 0x81 || b1 == 0x83) ? 0 : 3;
		case 0xE3:				/* U+3164 */
			return (b1 == 0x85 && b2 == 0xA4) ? 0 : 3;
		case 0xEF:				/* U+FB1D..U+FEFF, U+FFA0 */
			return (b1 >= 0xAC && b1 <= 0xBB) || (b1 == 0xBE && b2 == 0xA0) ? 0 : 3;
		default:
			return 0;
	}
}

/* The next byte at or after i that may start a character looked at */
static size_t
NextInteresting(const unsigned char *s, size_t i, size_t len)
{
#ifdef __SSE2__
	const __m128i ef = _mm_set1_epi8((char) 0xEF);

	for (; i + 16 <= len; i += 16)
	{
		__m128i		v = _mm_loadu_si128((const __m128i *) (s + i));
		__m128i		in;
		unsigned	m;

		/* ASCII: sixty-four bytes at a time while there is no high bit */
		if (_mm_movemask_epi8(v) == 0)
		{
			while (i + 80 <= len)
			{
				__m128i		w = _mm_or_si128(_mm_or_si128(_mm_loadu_si128((const __m128i *) (s + i + 16)),
														  _mm_loadu_si128((const __m128i *) (s + i + 32))),
											 _mm_or_si128(_mm_loadu_si128((const __m128i *) (s + i + 48)),
														  _mm_loadu_si128((const __m128i *) (s + i + 64))));

				if (_mm_movemask_epi8(w) != 0)
					break;
				i += 64;
			}
			continue;
		}
		in = _mm_or_si128(AgBytesIn(v, (char) 0xCC, (char) 0xE3), _mm_cmpeq_epi8(v, ef));
		m = (unsigned) _mm_movemask_epi8(in);
		if (m != 0)
			return i + (size_t) __builtin_ctz(m);
	}
#endif
	for (; i < len; i++)
		if (IsInterestingLead(s[i]))
			return i;
	return len;
}

static int
ScriptOf(int32_t cp)
{
	if (cp >= 0x0400 && cp <= 0x052F)
		return SCRIPT_CYRILLIC;
	if (cp >= 0x0370 && cp <= 0x03FF)
		return SCRIPT_GREEK;
	if (cp >= 0x0530 && cp <= 0x058F)
		return SCRIPT_ARMENIAN;
	return -1;
}

static int
IsLetter(int32_t cp)
{
	utf8proc_category_t c = utf8proc_category(cp);

	return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

/* The blocks of combining marks (every assigned character in them is one) */
static int
InMarkBlock(int32_t cp)
{
	return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
		(cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
		(cp >= 0xFE20 && cp <= 0xFE2F);
}

static int
IsMark(int32_t cp)
{
	utf8proc_category_t c = utf8proc_category(cp);

	return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME || c == UTF8PROC_CATEGORY_MC;
}

/* A Latin letter: ASCII, Latin-1, Latin Extended A/B, IPA, Extended Additional */
static int
IsLatinLetter(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
	if (cp >= 0x00C0 && cp <= 0x02AF)
		return cp != 0x00D7 && cp != 0x00F7;
	return cp >= 0x1E00 && cp <= 0x1EFF;
}

/*
 * The Latin letter a Cyrillic, Greek or Armenian letter passes for, or 0:
 * capitals as they look (Greek Ν is N, though its small letter ν is a v;
 * Β, Ζ, Μ look Latin though β, ζ, μ do not), small letters as the
 * normaliser maps them.
 */
static int32_t
LooksLatin(int32_t cp)
{
	switch (cp)
	{
		case 0x0391: return 'a';	/* Α */
		case 0x0392: return 'b';	/* Β */
		case 0x0395: return 'e';	/* Ε */
		case 0x0396: return 'z';	/* Ζ */
		case 0x0397: return 'h';	/* Η */
		case 0x0399: return 'i';	/* Ι */
		case 0x039A: return 'k';	/* Κ */
		case 0x039C: return 'm';	/* Μ */
		case 0x039D: return 'n';	/* Ν */
		case 0x039F: return 'o';	/* Ο */
		case 0x03A1: return 'p';	/* Ρ */
		case 0x03A4: return 't';	/* Τ */
		case 0x03A5: return 'y';	/* Υ */
		case 0x03A7: return 'x';	/* Χ */
		case 0x04C0: return 'i';	/* Ӏ */
		case 0x04D1: return 'a';	/* ӑ, as ă */
		case 0x04D3: return 'a';	/* ӓ, as ä */
		case 0x04D7: return 'e';	/* ӗ, as ĕ */
		case 0x04E7: return 'o';	/* ӧ, as ö */
		case 0x04F1: return 'y';	/* ӱ, as ÿ */
		case 0x0457: return 'i';	/* ї, as ï */
		case 0x04AB: return 'c';	/* ҫ, as ç */
		case 0x04AE: return 'y';	/* Ү */
		case 0x04AF: return 'y';	/* ү */
		case 0x0555: return 'o';	/* Օ */
		case 0x054D: return 'u';	/* Ս */
		case 0x03A9:				/* Ω, the ohm: no Latin letter */
		case 0x03C9:				/* ω, angular frequency */
			return 0;
		default: return AgConfusableToLatin(utf8proc_tolower(cp));
	}
}

/*
 * Whether a look-alike (LooksLatin non-zero) is one a reader cannot tell
 * from its Latin letter in any font: the capitals, and the small letters
 * shaped as Latin ones (not к, м, н, т, в, which look like small capitals,
 * nor η, κ, ε).
 */
static int
LooksLatinExactly(int32_t cp)
{
	if (utf8proc_tolower(cp) != cp)
		return 1;				/* a capital */
	switch (cp)
	{
		case 0x0430: case 0x0435: case 0x043E: case 0x0440: case 0x0441:	/* а е о р с */
		case 0x0443: case 0x0445: case 0x0456: case 0x0458: case 0x0455:	/* у х і ј ѕ */
		case 0x0501: case 0x051B: case 0x051D: case 0x04CF:	/* ԁ ԛ ԝ ӏ */
		case 0x03BF: case 0x03BD: case 0x03C1: case 0x03B1: case 0x03C5: case 0x03B9:	/* ο ν ρ α υ ι */
		case 0x0570: case 0x0578: case 0x057D: case 0x0581: case 0x0585:	/* հ ո ս ց օ */
			return 1;
		default:
			return 0;
	}
}

static int
IsRightToLeftLetter(int32_t cp)
{
	return (cp >= 0x0590 && cp <= 0x08FF) || (cp >= 0xFB1D && cp <= 0xFDFF) ||
		(cp >= 0xFE70 && cp <= 0xFEFE) || (cp >= 0x10800 && cp <= 0x10FFF) ||
		(cp >= 0x1E800 && cp <= 0x1EFFF);
}

/*
 * Invisible characters that may be hidden between the visible ones.  Not
 * the normaliser's IsInvisibleCp, which drops more: soft hyphens,
 * variation selectors and tag characters are ordinary here (or
 * ag_smuggling.c's).
 */
static int
IsInvisible(int32_t cp)
{
	return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
		(cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) ||
		cp == 0xFEFF || cp == 0x180E || cp == 0x115F || cp == 0x1160 ||
		cp == 0x3164 || cp == 0xFFA0 || cp == 0x034F;
}

/* ... of which those that are something other than a bidi mark or control */
static int
IsHiddenSpace(int32_t cp)
{
	return IsInvisible(cp) && !(cp == 0x200E || cp == 0x200F ||
								(cp >= 0x202A && cp <= 0x202E) ||
								(cp >= 0x2066 && cp <= 0x2069));
}

static int
IsAsciiAlnum(int32_t cp)
{
	return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
}

/* The character before byte i: its code point, and *at its first byte */
static int32_t
PrevChar(const unsigned char *s, size_t i, size_t *at)
{
	size_t		k = i;
	int32_t		cp;

	if (i == 0)
	{
		*at = 0;
		return -1;
	}
	do
		k--;
	while (k > 0 && i - k < 4 && (s[k] & 0xC0) == 0x80);
	/* bytes that are not one character (a stray continuation byte): none */
	if (AgUtf8Decode(s + k, i - k, &cp) != (int) (i - k))
		cp = 0xFFFD;
	*at = k;
	return cp;
}

static int
IsWordChar(int32_t cp)
{
	if (cp < 0x80)
		return IsAsciiAlnum(cp);
	return IsLetter(cp) || IsMark(cp);
}

static void
Note(AgSpoofHit *h, size_t start, size_t end)
{
	if (h->count++ == 0)
	{
		h->start = start;
		h->end = end;
	}
}

/*
 * Does the file name the override at i starts end in an executable
 * extension?  "invoice\u202Efdp.exe" displays as "invoiceexe.pdf": the
 * bytes after the override are the fake extension reversed, then the real
 * one.
 */
static int
OverrideHidesExecutable(const unsigned char *s, size_t i, size_t len)
{
	static const char *const executable[] = {
		"exe", "bat", "scr", "cmd", "com", "js", "vbs", "ps1", "msi", "jar",
		"lnk", "apk", "hta", "pif", "sh", "dmg", "iso",
	};
	size_t		j = i;

	while (j < len && j - i < 64 && (IsAsciiAlnum(s[j]) || s[j] == '.' || s[j] == '_' || s[j] == '-'))
		j++;
	for (size_t k = 0; k < sizeof(executable) / sizeof(executable[0]); k++)
	{
		size_t		n = strlen(executable[k]);

		if (j - i < n + 2 || s[j - n - 1] != '.')
			continue;
		if (strncasecmp((const char *) s + j - n, executable[k], n) == 0)
			return 1;
	}
	return 0;
}

/* What ExamineWord found */
#define WORD_PLAIN 0			/* no look-alike word */
#define WORD_MIXED 1			/* a Latin word with look-alike letters */
#define WORD_ALL_LOOKALIKE 2	/* look-alike letters only, of one script */
#define WORD_SCRIPTS_MIXED 3	/* look-alike letters only, of two scripts */

/*
 * The word around the look-alike letter at i (not before floor): its
 * bounds, and whether it passes for Latin.  *genuine is set for a script
 * whose own letters it has.
 */
static int
ExamineWord(const unsigned char *s, size_t len, size_t floor, size_t i, size_t *ws,
			size_t *we, int *script, int *genuine)
{
	size_t		k = i,
				at;
	int32_t		cp;
	int			latin = 0,
				digits = 0,
				lookalike = 0,
				olike_between_digits = 0,
				other = 0,
				last_kind = 0,	/* of the letter before: 1 Latin, 2 look-alike */
				switches = 0,
				greek_small_only = 1,	/* every look-alike a small Greek letter */
				scripts = 0,	/* bits of the look-alikes' scripts */
				exact = 1;		/* every look-alike LooksLatinExactly */
	int32_t		before = -1;

	/* back to the word's start (not into the word examined before) */
	while (k > floor && (cp = PrevChar(s, k, &at)) >= 0 && IsWordChar(cp))
		k = at;
	*ws = k;
	*script = -1;
	/* forward to its end, reading each character */
	while (k < len)
	{
		int			n = AgUtf8Decode(s + k, len - k, &cp);

		if (!IsWordChar(cp))
			break;
		if (cp >= '0' && cp <= '9')
			digits++;
		else if (IsLatinLetter(cp))
		{
			latin++;
			switches += last_kind == 2;
			last_kind = 1;
		}
		else if (IsMark(cp))
			;
		else
		{
			int			sc = ScriptOf(cp);
			int32_t		looks = sc >= 0 ? LooksLatin(cp) : 0;

			if (looks != 0)
			{
				greek_small_only &= sc == SCRIPT_GREEK && utf8proc_tolower(cp) == cp;
				exact &= LooksLatinExactly(cp);
				scripts |= 1 << sc;
				lookalike++;
				switches += last_kind == 1;
				last_kind = 2;
				*script = sc;
				if (looks == 'o' && before >= '0' && before <= '9' && k + n < len &&
					s[k + n] >= '0' && s[k + n] <= '9')
					olike_between_digits = 1;
			}
			else
			{
				if (sc >= 0)
					genuine[sc] = 1;
				other++;
			}
		}
		before = cp;
		k += n;
	}
	*we = k;
	if (other > 0 || lookalike == 0)
		return WORD_PLAIN;
	/* look-alikes of two scripts in one word ("pаypοl"): no language does that */
	if ((scripts & (scripts - 1)) != 0 && exact)
		return WORD_SCRIPTS_MIXED;

	/* a quantity's symbol: "νmax", "τ0", "εr", "hν" (small Greek, short) */
	if (greek_small_only && latin + lookalike <= 4)
		return WORD_PLAIN;

	/*
	 * A Latin word with look-alikes in it, not a word of look-alikes with
	 * Latin letters glued on (an escape before it, "\fBстрока", "\nкак"):
	 * Latin letters at least as many, or two or more with the scripts
	 * taking turns ("Рlеаsе": Р l еа s е); not one Latin letter typed by
	 * mistake in a Cyrillic word ("мiсто").
	 */
	if ((latin > 0 && (latin >= lookalike || (switches >= 2 && latin >= 2))) ||
		olike_between_digits)
		return WORD_MIXED;
	if (latin > 0)
		return WORD_PLAIN;
	/*
	 * Look-alikes only, each one a reader takes for its Latin letter
	 * ("ΑΜΑΖΟΝ", "ӏоցіո"; not "структурі", whose т and к show): judged
	 * with the text around
	 */
	return exact && lookalike >= 4 ? WORD_ALL_LOOKALIKE : WORD_PLAIN;
}

/*
 * Whether text has at least n words of two or more ASCII letters, each
 * standing alone: after the start, an ASCII character that is no letter
 * or digit or general punctuation (a curly quote, a dash: lead byte 0xE2),
 * before the end or such a character, so that the Latin tail of a
 * look-alike word ("mazon" in "Αmazon") is none.
 */
static int
HasLatinWords(const unsigned char *s, size_t len, int n)
{
	size_t		k = 0;

	while (k < len && n > 0)
	{
		size_t		start = k;

		while (k < len && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')))
			k++;
		if (k - start >= 2 &&
			(start == 0 || (s[start - 1] < 0x80 && !IsAsciiAlnum(s[start - 1])) ||
			 (start >= 3 && s[start - 3] == 0xE2)) &&
			(k == len || (s[k] < 0x80 && !IsAsciiAlnum(s[k])) || s[k] == 0xE2))
			n--;
		if (k == start)
			k++;
	}
	return n <= 0;
}

/* The word s[ws, we) in Latin letters (look-alikes mapped, ASCII lower-cased) */
static void
ReadsAs(AgSpoofing *sp, const unsigned char *s, size_t ws, size_t we)
{
	size_t		o = 0;

	for (size_t k = ws; k < we;)
	{
		int32_t		cp;
		int			n = AgUtf8Decode(s + k, we - k, &cp);
		int32_t		l = cp < 0x80 ? cp : LooksLatin(cp);

		if (l != 0)
		{
			if (o + 1 >= AG_SPOOF_READS_AS_MAX)
				break;
			sp->reads_as[o++] = (char) (l >= 'A' && l <= 'Z' ? l + 0x20 : l);
		}
		else if (!IsMark(cp))
		{
			if (o + (size_t) n >= AG_SPOOF_READS_AS_MAX)
				break;
			memcpy(sp->reads_as + o, s + k, (size_t) n);
			o += (size_t) n;
		}
		k += (size_t) n;
	}
	sp->reads_as[o] = '\0';
	sp->reads_as_len = o;
}

int
AgFindSpoofing(AgSpoofing *sp, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *) text;
	AgSpoofHit	mixed[NSCRIPTS],	/* words WORD_MIXED, by script */
				only[NSCRIPTS],	/* WORD_ALL_LOOKALIKE, by script */
				two_scripts;	/* WORD_SCRIPTS_MIXED */
	AgSpoofHit	hidden_first = {0, 0, 0};	/* invisible characters between ASCII */
	int			genuine[NSCRIPTS] = {0, 0, 0},
				has_rtl = 0,
				hidden_between_ascii = 0,
				found = 0;
	AgSpoofHit	embeddings = {0, 0, 0};
	size_t		word_done = 0,
				i = 0,
				run_start = 0,
				run_end = 0;
	int			run = 0,
				run_hidden = 0;

	memset(sp, 0, sizeof(*sp));
	memset(mixed, 0, sizeof(mixed));
	memset(only, 0, sizeof(only));
	memset(&two_scripts, 0, sizeof(two_scripts));
	while ((i = NextInteresting(s, i, len)) < len)
	{
		int32_t		cp;
		int			n;
		size_t		at;

		if ((n = PassOver(s, i, len)) != 0)
		{
			i += (size_t) n;
			continue;
		}
		n = AgUtf8Decode(s + i, len - i, &cp);
		if (cp == 0xFEFF && i == 0)
		{
			i += (size_t) n;	/* a byte order mark where it belongs */
			continue;
		}

		/* a run of invisible characters ends where another character is */
		if (run > 0 && i != run_end)
		{
			if (run >= MIN_INVISIBLE_RUN && run_hidden)
				Note(&sp->hit[AG_SPOOF_INVISIBLE], run_start, run_end);
			run = 0;
		}
		if (IsInvisible(cp))
		{
			if (run == 0)
			{
				run_start = i;
				run_hidden = 0;
			}
			run++;
			run_end = i + (size_t) n;
			run_hidden |= IsHiddenSpace(cp);
			if (run > sp->longest_invisible_run)
				sp->longest_invisible_run = run;
			if (cp == 0x202D || cp == 0x202E)
			{
				Note(&sp->hit[AG_SPOOF_BIDI], i, i + (size_t) n);
				sp->overrides++;
				/* (only right-to-left reverses what follows) */
				if (cp == 0x202E)
					sp->reversed_executable |= OverrideHidesExecutable(s, i + (size_t) n, len);
			}
			else if ((cp >= 0x202A && cp <= 0x202B) || (cp >= 0x2066 && cp <= 0x2068))
				Note(&embeddings, i, i + (size_t) n);
			else if (IsHiddenSpace(cp))
			{
				int32_t		prev = PrevChar(s, i, &at);
				int32_t		next = -1;
				int			prev_shown,
							next_shown;

				if (i + (size_t) n < len && s[i + n] < 0x80)
					next = s[i + n];
				prev_shown = prev > 0x20 && prev < 0x7F;
				next_shown = next > 0x20 && next < 0x7F;
				/* between ASCII characters, or between one and a space */
				if ((prev_shown && (next_shown || next == ' ')) || (prev == ' ' && next_shown))
				{
					hidden_between_ascii++;
					Note(&hidden_first, i, i + (size_t) n);
					if (IsAsciiAlnum(prev) && IsAsciiAlnum(next))
						sp->invisible_in_words++;
				}
			}
			i += (size_t) n;
			continue;
		}
		int			sc = ScriptOf(cp);

		if (IsRightToLeftLetter(cp))
			has_rtl = 1;
		else if (sc >= 0)
		{
			if (!genuine[sc] && IsLetter(cp))
			{
				if (LooksLatin(cp) == 0)
					genuine[sc] = 1;
				else if (i >= word_done)
				{
					size_t		ws,
								we;
					int			wscript;
					int			kind = ExamineWord(s, len, word_done, i, &ws, &we, &wscript, genuine);

					if (kind == WORD_MIXED)
						Note(&mixed[wscript], ws, we);
					else if (kind == WORD_ALL_LOOKALIKE)
						Note(&only[wscript], ws, we);
					else if (kind == WORD_SCRIPTS_MIXED)
						Note(&two_scripts, ws, we);
					word_done = we > i ? we : i + (size_t) n;
				}
			}
		}
		else if (InMarkBlock(cp))
		{
			/* a stack of marks: the letter under it, then the marks */
			int32_t		base = PrevChar(s, i, &at);
			size_t		k = i + (size_t) n;
			int			marks = 1;

			while (k < len)
			{
				int32_t		c2;
				int			m = AgUtf8Decode(s + k, len - k, &c2);

				if (!InMarkBlock(c2))
					break;
				marks++;
				k += (size_t) m;
			}
			if (marks >= MIN_STACKED_MARKS && base > 0 && base < 0x0590 &&
				(IsAsciiAlnum(base) || IsLatinLetter(base) || ScriptOf(base) >= 0))
			{
				Note(&sp->hit[AG_SPOOF_STACKED_MARKS], at, k);
				if (marks > sp->stacked_marks_most)
					sp->stacked_marks_most = marks;
			}
			i = k;
			continue;
		}
		i += (size_t) n;
	}
	if (run >= MIN_INVISIBLE_RUN && run_hidden)
		Note(&sp->hit[AG_SPOOF_INVISIBLE], run_start, run_end);

	/* invisible characters one by one between ASCII characters */
	if (sp->hit[AG_SPOOF_INVISIBLE].count == 0 &&
		(hidden_between_ascii >= 3 || sp->invisible_in_words >= 1))
	{
		sp->hit[AG_SPOOF_INVISIBLE] = hidden_first;	/* the first one counted */
	}

	/* embeddings and isolates where no right-to-left letter needs them */
	if (embeddings.count > 0 && !has_rtl)
	{
		if (sp->hit[AG_SPOOF_BIDI].count == 0)
			sp->hit[AG_SPOOF_BIDI] = embeddings;
		else
			sp->hit[AG_SPOOF_BIDI].count += embeddings.count;
	}

	/*
	 * Look-alike words, but not in text written in their script; a word of
	 * look-alikes only, of one script, in Latin text (three Latin words);
	 * a word with look-alikes of two scripts in any text.
	 */
	AgSpoofHit *words = &sp->hit[AG_SPOOF_LOOKALIKE];
	int			latin_text = -1;	/* HasLatinWords, when first asked */

	AddWords(words, &two_scripts);
	for (int sc = 0; sc < NSCRIPTS; sc++)
	{
		if (genuine[sc])
			continue;
		AddWords(words, &mixed[sc]);
		if (only[sc].count > 0 &&
			(latin_text >= 0 ? latin_text : (latin_text = HasLatinWords(s, len, 3))))
			AddWords(words, &only[sc]);
	}
	if (words->count > 0)
		ReadsAs(sp, s, words->start, words->end);

	for (int k = 0; k < AG_SPOOF_KINDS; k++)
		found += sp->hit[k].count > 0;
	return found;
}
