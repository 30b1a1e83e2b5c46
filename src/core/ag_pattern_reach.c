/*
 * ag_pattern_reach.c
 *	  How far past its start a match of a PCRE2 pattern can look, in bytes
 *	  of UTF-8 subject: an upper bound worked out from the pattern's text.
 *
 * The scanner tries a rule only in a window around each of its keywords.
 * Every match holds a keyword, so when a match and whatever its lookaheads
 * read fit in R bytes from the match's start, the window [keyword start - R,
 * keyword end + R) holds everything the match depends on (lookbehinds read
 * backwards, and the scanner leaves the text before the window in view).
 * One more character (4 bytes) is added for what an assertion at the end
 * reads: \b or $ looks at the character after the match, and the window
 * must not cut it off.
 *
 * Only an upper bound counts, so anything this does not know for certain is
 * unbounded (AG_REACH_UNBOUNDED), and the scanner falls back to its default
 * window.  The subset understood is what rule patterns use: literals,
 * escapes, classes, '.', groups (capturing, non-capturing, named),
 * lookarounds, inline option letters, alternation and the quantifiers ?,
 * {n}, {n,m} (greedy, lazy or possessive), and back references \1 to \9
 * to a group closed before them (as wide as one match of the group);
 * '*', '+', '{n,}' and other back references are unbounded.  Byte widths: an ASCII literal is one byte,
 * except, when matching is caseless, k, s and i, whose caseless Unicode
 * partners (U+212A KELVIN SIGN, U+017F LONG S, U+0130 / U+0131) take up to
 * three; a class of ASCII characters likewise one byte, three if caseless
 * with a letter in it; anything else that matches one character (a negated
 * class, '.', \w, \s, \d, a non-ASCII literal) up to four, the longest
 * UTF-8 sequence.  A pattern that turns caseless matching on anywhere
 * ("(?i") is taken as caseless throughout, unless the text is normalised
 * (AG_CASE_NORMALISED), which holds none of those partners.  (PCRE2 10.42
 * pairs only k and s with characters outside ASCII; i is kept for the
 * Turkish casing later versions offer.)
 *
 * The same walk gives the keyword lead (AgPatternKeywordLead): how far
 * from a match's start a keyword occurrence begins that every match holds.
 * A keyword counts when consecutive literal characters spell it out, in a
 * part of the pattern every match goes through (not a lookaround, not an
 * optional group, in every branch of an alternation), and the atoms before
 * it have bounded widths; their widths add up to the lead.  The window
 * before a keyword need then be no wider than the lead.  The walk also
 * gives the bytes those atoms can consume (AgPatternKeywordLeadBytes):
 * "[a-z0-9_.-]{0,64}?password" holds no space before its keyword, so a
 * match starts after the last space before the keyword's occurrence,
 * whatever the lead.
 */
#include "ag_pattern_reach.h"

#include <string.h>

#define MAX_GROUPS 64
#define MAX_KEYWORD_LENGTHS 64

/*
 * A set of bytes: those the atoms before a keyword can consume (see
 * AgPatternKeywordLeadBytes).  Always a superset: a letter stands for both
 * its cases (a pattern over normalised text is compiled caseless whatever
 * it says), and k, s and i for their caseless partners beyond ASCII too;
 * whatever is not worked out exactly is every byte.
 */
typedef struct ByteSet
{
	uint64_t	w[4];
} ByteSet;

/* (set NULL: the walk is not asked for the lead's bytes; nothing to do) */
static void
SetAdd(ByteSet *set, unsigned c)
{
	if (set)
		set->w[(c >> 6) & 3] |= UINT64_C(1) << (c & 63);
}

/* Bytes lo to hi (at most 255), a mask per 64-bit word. */
static void
SetAddRange(ByteSet *set, unsigned lo, unsigned hi)
{
	for (unsigned w = 0; set && w < 4; w++)
	{
		unsigned	first = w * 64,
					last = first + 63;

		if (hi < first || lo > last || lo > hi)
			continue;

		unsigned	from = lo > first ? lo - first : 0,
					to = hi < last ? hi - first : 63;

		set->w[w] |= (to == 63 ? ~UINT64_C(0) : (UINT64_C(1) << (to + 1)) - 1) &
			~((UINT64_C(1) << from) - 1);
	}
}

static void
SetFill(ByteSet *set)
{
	if (set)
		memset(set, 0xFF, sizeof(*set));
}

static void
SetUnion(ByteSet *set, const ByteSet *other)
{
	for (int k = 0; set && k < 4; k++)
		set->w[k] |= other->w[k];
}

/* A character the pattern spells, with its other case and partners. */
static void
SetAddChar(ByteSet *set, unsigned char c)
{
	if (set == NULL)
		return;
	if (c >= 0x80)
	{
		/* a byte of a non-ASCII character, whose partners may be ASCII letters */
		SetAddRange(set, 0x80, 0xFF);
		SetAddRange(set, 'a', 'z');
		SetAddRange(set, 'A', 'Z');
		return;
	}
	SetAdd(set, c);
	if (c >= 'a' && c <= 'z')
		SetAdd(set, c - 'a' + 'A');
	else if (c >= 'A' && c <= 'Z')
		SetAdd(set, c - 'A' + 'a');
	if (c == 'k' || c == 'K' || c == 's' || c == 'S' || c == 'i' || c == 'I')
		SetAddRange(set, 0x80, 0xFF);	/* U+212A, U+017F, U+0130, U+0131 */
}

typedef struct Reach
{
	const char *p;				/* next pattern byte */
	int			caseless;
	int			ascii_text;		/* AG_TEXT_ASCII: a character is a byte */
	int			bad;			/* met something not understood */
	int			ngroups;		/* capturing groups opened so far */
	size_t		group_width[MAX_GROUPS + 1];	/* of one match of each closed group */
	int			group_closed[MAX_GROUPS + 1];
	/* for AgPatternKeywordLead: the rule's keywords, NULL for reach alone */
	const char *const *keywords;
	int			nkeywords;
	size_t		kwlen[MAX_KEYWORD_LENGTHS];	/* the first keywords' lengths */
	int			exact;			/* keywords compare with their case */
	size_t		least;			/* fewest repeats the last quantifier allows */
	int			lookahead;		/* the last atom was a lookahead: it reads, not consumes */
	int			class_digits;	/* the last class holds ASCII digits alone */
	int			sets;			/* work out the bytes atoms consume (else no set is written) */
	ByteSet		class_set;		/* the bytes the last class or escape consumes */
	/*
	 * Lower bounds, passed up by the function that worked them out, read
	 * by its caller at once: the fewest bytes the last atom, sequence or
	 * alternation consumes (a character takes a byte at least), and the
	 * least distance from a sequence's or alternation's start to the
	 * keyword occurrence of its lead (AgPatternKeywordLeadBytes' min_lead).
	 */
	size_t		min_width;
	size_t		min_lead;
	/*
	 * The last atom was a class of ASCII bytes, a byte wide, repeated
	 * run_least times at least and at most that (run_fixed) or more: a
	 * keyword may be spelt by such classes, "[0-9][0-9]" or ".[a-z]" by
	 * "[A-Z]{2}[0-9]{2}" (see KeywordEndingHere).
	 */
	int			run_class;
	int			class_wide;		/* the last class can match beyond ASCII, or is negated */
	size_t		run_least;
	int			run_fixed;
} Reach;

static size_t
Add(size_t a, size_t b)
{
	return (a == AG_REACH_UNBOUNDED || b == AG_REACH_UNBOUNDED ||
			a > AG_REACH_UNBOUNDED - b) ? AG_REACH_UNBOUNDED : a + b;
}

static size_t
Mul(size_t a, size_t n)
{
	if (a == 0 || n == 0)
		return 0;
	if (a == AG_REACH_UNBOUNDED || n == AG_REACH_UNBOUNDED ||
		a > AG_REACH_UNBOUNDED / n)
		return AG_REACH_UNBOUNDED;
	return a * n;
}

static size_t Alternation(Reach *r, size_t *lead, size_t *digits,
						  ByteSet *lead_set, ByteSet *consumed);

/* Reads a decimal number; returns AG_REACH_UNBOUNDED when there is none. */
static size_t
Number(Reach *r)
{
	size_t		n = 0;
	int			digits = 0;

	while (*r->p >= '0' && *r->p <= '9' && digits < 6)
	{
		n = n * 10 + (size_t) (*r->p - '0');
		r->p++;
		digits++;
	}
	return digits > 0 && !(*r->p >= '0' && *r->p <= '9') ? n : AG_REACH_UNBOUNDED;
}

/*
 * A quantifier after an atom, if any: the most repeats it allows, or 1.
 * A '{' that does not start a valid {n}, {n,} or {n,m} is a literal to
 * PCRE2, and is left for the caller to read as one.
 */
static size_t
Quantifier(Reach *r)
{
	size_t		most = 1;

	r->least = 1;
	if (*r->p == '?')
	{
		r->p++;
		most = 1;
		r->least = 0;
	}
	else if (*r->p == '*' || *r->p == '+')
	{
		r->least = *r->p == '+';
		r->p++;
		most = AG_REACH_UNBOUNDED;
	}
	else if (*r->p == '{')
	{
		const char *save = r->p;
		size_t		lo,
					hi;

		r->p++;
		/*
		 * "{" and a digit, a comma or a space may be a quantifier to some
		 * PCRE2 version ({,n} and { n } are from 10.43; long runs of zeros
		 * are allowed): whatever this does not read as {n}, {n,} or {n,m}
		 * makes the pattern not understood, not a literal.
		 */
		if ((*r->p >= '0' && *r->p <= '9') || *r->p == ',' || *r->p == ' ')
		{
			while (*r->p == '0' && r->p[1] >= '0' && r->p[1] <= '9')
				r->p++;
		}
		else
		{
			r->p = save;
			return 1;
		}
		lo = Number(r);
		if (lo == AG_REACH_UNBOUNDED)
		{
			r->bad = 1;
			return 1;
		}
		if (*r->p == '}')
			hi = lo;
		else if (*r->p == ',' && r->p[1] == '}')
		{
			r->p++;
			hi = AG_REACH_UNBOUNDED;
		}
		else if (*r->p == ',')
		{
			r->p++;
			while (*r->p == '0' && r->p[1] >= '0' && r->p[1] <= '9')
				r->p++;
			hi = Number(r);
			if (hi == AG_REACH_UNBOUNDED || *r->p != '}' || hi < lo)
			{
				r->bad = 1;
				return 1;
			}
		}
		else
		{
			r->bad = 1;
			return 1;
		}
		r->p++;					/* the '}' */
		most = hi;
		r->least = lo;
	}
	else
		return 1;
	/* lazy or possessive: the same repeats */
	if (*r->p == '?' || *r->p == '+')
		r->p++;
	return most;
}

/*
 * A character class (r->p just after its '['): skips it and returns the
 * most bytes a character it matches can take.
 */
static size_t
Class(Reach *r)
{
	int			wide = 0,		/* can match a non-ASCII character */
				letters = 0,
				digits_only = 1,	/* members: digits and ranges of digits */
				negated = 0,
				members = 0,
				range_end = 0;	/* the member read next ends a range */
	unsigned char prev = 0;		/* the member before, if a range can start at it */
	ByteSet    *set = &r->class_set;	/* (also without sets: for keyword runs) */

	if (set)
		memset(set, 0, sizeof(*set));
	if (*r->p == '^')
	{
		r->p++;
		wide = 1;
		digits_only = 0;
		negated = 1;
	}
	if (*r->p == ']')
	{
		/* a leading ']' is a literal (and may start a range: "[]-a]") */
		SetAdd(set, ']');
		digits_only = 0;
		prev = ']';
		members++;
		r->p++;
	}
	while (*r->p && *r->p != ']')
	{
		unsigned char c = (unsigned char) *r->p;

		if (c == '\\' && r->p[1])
		{
			char		e = r->p[1];

			/* \n, \t and escaped punctuation are themselves; \w, \x{...} ... not ASCII-bound */
			if ((e >= 'a' && e <= 'z' && e != 'n' && e != 'r' && e != 't' && e != 'f') ||
				(e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9') ||
				(unsigned char) e >= 0x80)
				wide = 1;
			/*
			 * The set: \n \r \t \f and escaped punctuation are themselves;
			 * \w, \s, \x.., and an escape a range starts or ends at ("[\t-~]",
			 * "[!-\]]"), every byte.
			 */
			if (r->p[2] == '-' || range_end)
				SetFill(set);
			else if (e == 'n' || e == 'r' || e == 't' || e == 'f')
				SetAdd(set, e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : '\f');
			else if (e == 'd')
			{
				SetAddRange(set, '0', '9');
				SetAddRange(set, 0x80, 0xFF);	/* (UCP: digits of other scripts) */
			}
			else if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') ||
					 (e >= '0' && e <= '9') || (unsigned char) e >= 0x80)
				SetFill(set);
			else
				SetAdd(set, (unsigned char) e);
			digits_only = 0;
			prev = 0;
			range_end = 0;
			members++;
			r->p += 2;
		}
		else if (c == '[' && (r->p[1] == ':' || r->p[1] == '.' || r->p[1] == '='))
		{
			/*
			 * A POSIX class ("[:alpha:]"), or what PCRE2 may take for one:
			 * where it ends depends on rules not copied here, so the
			 * pattern is not understood.
			 */
			r->bad = 1;
			return 0;
		}
		else
		{
			/*
			 * A '-' after a member a range can start at, and not last, makes
			 * a range; after a range's end it is itself ("[a-c-e]").
			 */
			int			range = c == '-' && prev != 0 && r->p[1] != ']' && r->p[1] != '\0';

			wide |= c >= 0x80;
			letters |= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
			/* a '-' between two digits makes a range of digits */
			if (!(c >= '0' && c <= '9') &&
				!(range && prev >= '0' && prev <= '9' && r->p[1] >= '0' && r->p[1] <= '9'))
				digits_only = 0;
			if (range)
			{
				/* ASCII ends, each member with its other case */
				unsigned char hi = (unsigned char) r->p[1];

				if (hi == '\\' || hi == '[' || hi >= 0x80 || prev >= 0x80 || hi < prev)
					SetFill(set);
				else
					for (unsigned m = prev; m <= hi; m++)
						SetAddChar(set, (unsigned char) m);
			}
			else
				SetAddChar(set, c);
			prev = range || range_end ? 0 : c;
			range_end = range;
			members += !range;
			r->p++;
		}
	}
	if (*r->p != ']')
	{
		r->bad = 1;
		return 0;
	}
	r->p++;
	r->class_digits = digits_only && members > 0;
	r->class_wide = wide || negated;
	if (negated)
		SetFill(set);
	if (r->ascii_text)
		return 1;
	if (wide)
		return 4;
	return r->caseless && letters ? 3 : 1;
}

/* Skips "{...}" after \p or \x (r->p on the '{'). */
static void
SkipBraces(Reach *r)
{
	const char *end = strchr(r->p, '}');

	if (end == NULL)
		r->bad = 1;
	else
		r->p = end + 1;
}

/*
 * An escape (r->p just after the backslash): its width in bytes; the bytes
 * it consumes in r->class_set.
 */
static size_t
Escape(Reach *r)
{
	char		c = *r->p;
	ByteSet    *set = r->sets ? &r->class_set : NULL;

	if (set)
		memset(set, 0, sizeof(*set));
	if (c == '\0')
	{
		r->bad = 1;
		return 0;
	}
	r->p++;
	switch (c)
	{
		case 'b':
		case 'B':
		case 'A':
		case 'z':
		case 'Z':
		case 'G':
			return 0;			/* assertions */
		case 'd':
		case 'w':
		case 's':
			/* (UCP: beyond ASCII too) */
			SetAddRange(set, 0x80, 0xFF);
			if (c == 'd' || c == 'w')
				SetAddRange(set, '0', '9');
			if (c == 'w')
			{
				SetAddRange(set, 'a', 'z');
				SetAddRange(set, 'A', 'Z');
				SetAdd(set, '_');
			}
			if (c == 's')
			{
				SetAddRange(set, '\t', '\r');
				SetAdd(set, ' ');
			}
			return r->ascii_text ? 1 : 4;
		case 'D':
		case 'W':
		case 'S':
		case 'h':
		case 'H':
		case 'v':
		case 'V':
		case 'N':
			SetFill(set);
			return r->ascii_text ? 1 : 4;
		case 'R':
			SetFill(set);
			return r->ascii_text ? 2 : 4;	/* CR LF */
		case 'p':
		case 'P':
			SetFill(set);
			if (*r->p == '{')
				SkipBraces(r);
			else if (*r->p)
				r->p++;
			return r->ascii_text ? 1 : 4;
		case 'x':
			SetFill(set);
			if (*r->p == '{')
				SkipBraces(r);
			else
				for (int k = 0; k < 2 && ((*r->p >= '0' && *r->p <= '9') ||
										  (*r->p >= 'a' && *r->p <= 'f') ||
										  (*r->p >= 'A' && *r->p <= 'F')); k++)
					r->p++;
			return r->ascii_text ? 1 : 4;
		case 'n':
		case 'r':
		case 't':
		case 'f':
		case 'e':
		case 'a':
			SetAdd(set, c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' :
				   c == 'f' ? '\f' : c == 'e' ? 0x1B : 0x07);
			return 1;
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
			{
				/* a back reference to a closed group: one match of it again */
				int			g = c - '0';

				if (*r->p >= '0' && *r->p <= '9')
					break;		/* \10 and up, or octal */
				if (g > r->ngroups || !r->group_closed[g])
					break;		/* a forward or self reference */
				SetFill(set);
				return r->group_width[g];
			}
		default:
			/* escaped punctuation is itself */
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || (unsigned char) c >= 0x80))
			{
				SetAdd(set, (unsigned char) c);
				return 1;
			}
			break;
	}
	/* letters and digits not named above (\K, \X, \Q, \c, \g...) */
	r->bad = 1;
	return 0;
}

/*
 * One atom and its quantifier; r->p is on the atom.  Returns its width;
 * *lead gets the keyword lead of a group (see Sequence) and *lead_set its
 * bytes, *set the bytes the atom consumes, and *lit / *litlen the bytes of
 * an unquantified literal character (UTF-8), or NULL / 0.
 */
static size_t
Atom(Reach *r, size_t *lead, const char **lit, int *litlen, size_t *digits,
	 ByteSet *lead_set, ByteSet *set)
{
	unsigned char c = (unsigned char) *r->p;
	size_t		width;
	size_t		inner_digits = 0;	/* fewest ASCII digits one match holds */
	size_t		inner_lead = AG_REACH_UNBOUNDED;
	size_t		inner_min = 1,	/* fewest bytes one repeat consumes */
				inner_min_lead = 0;
	int			lookaround = 0,
				lookahead = 0;
	const char *before_quantifier;
	size_t		most;

	*lead = AG_REACH_UNBOUNDED;
	*lit = NULL;
	*litlen = 0;
	*digits = 0;
	r->lookahead = 0;
	r->run_class = 0;
	if (!r->sets)
		lead_set = set = NULL;	/* (the callers' sets are not read) */
	else
	{
		memset(lead_set, 0, sizeof(*lead_set));
		memset(set, 0, sizeof(*set));
	}

	if (c == '(')
	{
		int			lookbehind = 0;
		int			group = 0;	/* capturing: its number */

		r->p++;
		if (*r->p != '?')
			group = ++r->ngroups;
		else
		{
			r->p++;
			if (*r->p == ':')
				r->p++;
			else if (*r->p == '=' || *r->p == '!')
			{
				r->p++;
				lookaround = 1;
			}
			else if (r->p[0] == '<' && (r->p[1] == '=' || r->p[1] == '!'))
			{
				r->p += 2;
				lookbehind = lookaround = 1;
			}
			else if (r->p[0] == '<' || (r->p[0] == 'P' && r->p[1] == '<'))
			{
				const char *end = strchr(r->p, '>');

				if (end == NULL)
				{
					r->bad = 1;
					return 0;
				}
				r->p = end + 1;
				group = ++r->ngroups;	/* named groups are numbered too */
			}
			else
			{
				/* inline options: (?i) (?s-m) or (?i:...) */
				while (*r->p == 'i' || *r->p == 's' || *r->p == 'm' || *r->p == '-')
					r->p++;
				if (*r->p == ')')
				{
					r->p++;
					return 0;
				}
				if (*r->p != ':')
				{
					r->bad = 1;	/* (?x), (?>...), (?|...), conditions ... */
					return 0;
				}
				r->p++;
			}
		}
		if (r->ngroups > MAX_GROUPS)
		{
			r->bad = 1;
			return 0;
		}
		width = Alternation(r, &inner_lead, &inner_digits, lead_set, set);
		r->run_class = 0;		/* (set by the group's last atom) */
		inner_min = lookaround ? 0 : r->min_width;
		inner_min_lead = r->min_lead;
		if (lookaround)
		{
			inner_lead = AG_REACH_UNBOUNDED;	/* what it reads is not matched */
			inner_digits = 0;
			if (set)
				memset(set, 0, sizeof(*set));	/* nor consumed */
		}
		if (*r->p != ')')
		{
			r->bad = 1;
			return 0;
		}
		r->p++;
		if (group > 0)
		{
			r->group_width[group] = width;
			r->group_closed[group] = 1;
		}
		if (lookbehind)
			width = 0;			/* reads before the current position */
		lookahead = lookaround && !lookbehind;
	}
	else if (c == '[')
	{
		r->p++;
		width = Class(r);
		inner_digits = r->class_digits;
		if (set)
			*set = r->class_set;
		/*
		 * ASCII members alone, a byte each (the set's bytes from 0x80 up
		 * are then only the caseless partners SetAddChar adds, which a
		 * class of width 1 does not match)
		 */
		r->run_class = width == 1 && !r->class_wide;
	}
	else if (c == '\\')
	{
		char		e = r->p[1];

		r->p++;
		width = Escape(r);
		/* \b, \A ... consume nothing; a back reference may repeat nothing */
		inner_min = width == 0 || (e >= '1' && e <= '9') ? 0 : 1;
		if (set)
			*set = r->class_set;
		/* escaped punctuation stands for itself */
		if (width == 1 && e && !((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') ||
								 (e >= '0' && e <= '9') || (unsigned char) e >= 0x80))
		{
			*lit = r->p - 1;
			*litlen = 1;
		}
	}
	else if (c == '.')
	{
		r->p++;
		width = r->ascii_text ? 1 : 4;
		SetFill(set);
	}
	else if (c == '^' || c == '$')
	{
		r->p++;
		width = 0;
		inner_min = 0;
	}
	else if (c == '*' || c == '+' || c == '?')
	{
		r->bad = 1;				/* a quantifier with nothing before it */
		return 0;
	}
	else if (c >= 0x80)
	{
		/* a non-ASCII literal: its bytes; its caseless partners up to 4 */
		*lit = r->p;
		r->p++;
		while (((unsigned char) *r->p & 0xC0) == 0x80)
			r->p++;
		*litlen = (int) (r->p - *lit);
		width = 4;
		SetAddChar(set, c);
	}
	else
	{
		r->p++;
		width = r->caseless && (c == 'k' || c == 'K' || c == 's' || c == 'S' ||
								c == 'i' || c == 'I') ? 3 : 1;
		*lit = r->p - 1;
		*litlen = 1;
		inner_digits = c >= '0' && c <= '9';
		SetAddChar(set, c);
	}
	before_quantifier = r->p;
	most = Quantifier(r);
	r->run_least = r->least;
	r->run_fixed = most == r->least;
	r->lookahead = lookahead && r->p == before_quantifier;
	if (r->p != before_quantifier)
	{
		*lit = NULL;			/* "s?" or "a{2}" is no plain literal */
		*litlen = 0;
		if (r->least == 0)
			inner_lead = AG_REACH_UNBOUNDED;	/* may be absent */
	}
	*lead = inner_lead;
	r->min_lead = inner_min_lead;
	r->min_width = Mul(inner_min, r->least);
	/* the fewest repeats, each with its digits (a back reference: none counted) */
	*digits = Mul(inner_digits, r->least);
	return Mul(width, most);
}

/*
 * A run is what consecutive atoms of width 1 spell, a set of bytes per
 * position: a literal's byte alone (a byte of a UTF-8 character beyond
 * ASCII too), or a class's ASCII members.  The members of one position,
 * ASCII case folded unless the keywords compare with their case, into
 * out[] (at most 128: a class's are ASCII); returns how many.
 */
static int
RunMembers(const Reach *r, const ByteSet *set, unsigned char *out)
{
	int			n = 0;
	uint64_t	seen[4] = {0, 0, 0, 0};

	/* the members in ascending order, a word's set bits at a time */
	for (unsigned w = 0; w < 4; w++)
		for (uint64_t bits = set->w[w]; bits != 0; bits &= bits - 1)
		{
			unsigned	b = w * 64 + (unsigned) __builtin_ctzll(bits);
			unsigned	f = b;

			if (!r->exact && b >= 'A' && b <= 'Z')
				f = b + ('a' - 'A');
			if ((seen[f >> 6] >> (f & 63)) & 1)
				continue;
			seen[f >> 6] |= UINT64_C(1) << (f & 63);
			out[n++] = (unsigned char) f;
		}
	return n;
}

static unsigned char
FoldKeywordByte(const Reach *r, unsigned char b)
{
	return !r->exact && b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b;
}

/* Is s (len bytes, folded) one of the keywords? */
static int
IsKeyword(const Reach *r, const unsigned char *s, size_t len)
{
	for (int k = 0; k < r->nkeywords; k++)
	{
		size_t		kl = k < MAX_KEYWORD_LENGTHS ? r->kwlen[k] : strlen(r->keywords[k]);
		size_t		j;

		if (kl != len)
			continue;
		for (j = 0; j < len; j++)
			if (FoldKeywordByte(r, (unsigned char) r->keywords[k][j]) != s[j])
				break;
		if (j == len)
			return 1;
	}
	return 0;
}

#define MAX_RUN 128

/* Spellings of a run's end checked at most: beyond, a keyword is not sought there. */
#define MAX_RUN_SPELLINGS 4096

/*
 * Does a keyword end at the last position of run, whatever bytes its
 * classes take: is every spelling of its last kl positions a keyword
 * (ASCII case ignored unless r->exact)?  Returns that kl, or 0.  With
 * literals alone a run has one spelling, and this is the keyword itself;
 * "[A-Z]{2}[0-9]{2}" ends in "[0-9][0-9]", a hundred spellings, which a
 * rule whose keyword_shapes are "[0-9][0-9]" has all of.
 */
static int
KeywordEndingHere(const Reach *r, const ByteSet *run, int runlen)
{
	unsigned char tried[256];

	memset(tried, 0, sizeof(tried));
	for (int k = 0; k < r->nkeywords; k++)
	{
		size_t		kl = k < MAX_KEYWORD_LENGTHS ? r->kwlen[k] : strlen(r->keywords[k]);
		unsigned char members[MAX_RUN][128];
		int			count[MAX_RUN];
		size_t		spellings = 1;
		unsigned char word[MAX_RUN];

		if (kl == 0 || kl > (size_t) runlen || kl > 255 || tried[kl])
			continue;
		/* this keyword fits the run's end: position by position */
		for (size_t j = 0; j < kl; j++)
		{
			unsigned char b = FoldKeywordByte(r, (unsigned char) r->keywords[k][j]);
			const ByteSet *set = &run[runlen - kl + j];
			int			in = (set->w[b >> 6] >> (b & 63)) & 1;

			if (!in && !r->exact && b >= 'a' && b <= 'z')
				in = (set->w[(b - 32) >> 6] >> ((b - 32) & 63)) & 1;
			if (!in)
				goto next;
		}
		/* then every spelling of the run's end must be a keyword */
		tried[kl] = 1;
		for (size_t j = 0; j < kl && spellings <= MAX_RUN_SPELLINGS; j++)
		{
			count[j] = RunMembers(r, &run[runlen - kl + j], members[j]);
			spellings *= (size_t) count[j];
		}
		if (spellings > MAX_RUN_SPELLINGS)
			continue;
		for (size_t n = 0; n < spellings; n++)
		{
			size_t		rest = n;

			for (size_t j = kl; j-- > 0;)
			{
				word[j] = members[j][rest % (size_t) count[j]];
				rest /= (size_t) count[j];
			}
			if (!IsKeyword(r, word, kl))
				goto next;
		}
		return (int) kl;
next:	;
	}
	return 0;
}

/*
 * A sequence of atoms: returns its width, and in *lead an upper bound on
 * how far from the sequence's start a keyword occurrence begins that every
 * match of the sequence contains (AG_REACH_UNBOUNDED: none known).  Such an
 * occurrence is either spelled out by consecutive literal characters
 * (zero-width atoms such as \b between them do not part them), or lies in
 * a group that every match goes through, after atoms of bounded width.  A
 * lookahead reads ahead without moving on: the atom after it starts where
 * it does (its width still counts in the sequence's, which bounds what the
 * match reads).
 *
 * *lead_set gets the bytes the atoms before that occurrence can consume,
 * and *consumed those of the whole sequence (lookarounds consume none).
 */
static size_t
Sequence(Reach *r, size_t *lead, size_t *digits, ByteSet *lead_set,
		 ByteSet *consumed_set)
{
	size_t		total = 0;
	size_t		consumed = 0;	/* total without the lookaheads: where the next atom starts */
	size_t		consumed_min = 0;	/* ... at the least */
	size_t		lead_min = 0;	/* the least distance to the lead's keyword */
	ByteSet		run[MAX_RUN];	/* the bytes each position of the run can be */
	ByteSet		run_bytes[MAX_RUN];	/* ... and can consume, partners included */
	size_t		run_at[MAX_RUN];	/* offset bound of each run position */
	size_t		run_at_min[MAX_RUN];	/* ... and its least offset */
	int			runlen = 0;
	ByteSet		before_run;		/* consumed before the run's first character */

	*lead = AG_REACH_UNBOUNDED;
	*digits = 0;
	if (!r->sets)
		lead_set = consumed_set = NULL;
	else
	{
		memset(lead_set, 0, sizeof(*lead_set));
		memset(consumed_set, 0, sizeof(*consumed_set));
	}
	memset(&before_run, 0, sizeof(before_run));
	while (*r->p && *r->p != '|' && *r->p != ')' && !r->bad)
	{
		size_t		atom_lead;
		const char *lit;
		int			litlen;
		size_t		atom_digits;
		size_t		at = consumed,
					at_min = consumed_min;
		ByteSet		atom_lead_set,
					atom_set,
					before;
		size_t		width = Atom(r, &atom_lead, &lit, &litlen, &atom_digits,
								 &atom_lead_set, &atom_set);
		size_t		atom_min = r->min_width,
					atom_min_lead = r->min_lead;

		total = Add(total, width);
		*digits = Add(*digits, atom_digits);
		if (!r->lookahead)
		{
			consumed = Add(consumed, width);
			consumed_min = Add(consumed_min, atom_min);
		}
		if (consumed_set)
		{
			before = *consumed_set;
			SetUnion(consumed_set, &atom_set);
		}
		if (*lead != AG_REACH_UNBOUNDED || r->keywords == NULL)
			continue;
		/*
		 * (classes only when keywords compare without case: an exact
		 * reading, AgPatternKeywordsExact, is for dropping a hit whose case
		 * differs, which a shape such as "[0-9][0-9]" never has)
		 */
		if (lit != NULL || (r->run_class && r->run_least > 0 && !r->exact))
		{
			/*
			 * A literal's bytes join the run, each at the character's
			 * offset bound; a class, once for each repeat it always makes,
			 * each a byte further (its ASCII members: the bytes from 0x80
			 * up in its set are caseless partners it does not match).
			 */
			int			n = lit != NULL ? litlen :
				r->run_least < MAX_RUN ? (int) r->run_least : MAX_RUN;
			ByteSet		cls = r->class_set;

			cls.w[2] = cls.w[3] = 0;
			if (runlen == 0 && consumed_set)
				before_run = before;
			for (int b = 0; b < n && *lead == AG_REACH_UNBOUNDED; b++)
			{
				int			kl;

				if (runlen == MAX_RUN)
				{
					if (consumed_set)
						SetUnion(&before_run, &run_bytes[0]);
					memmove(run, run + 1, (MAX_RUN - 1) * sizeof(ByteSet));
					memmove(run_bytes, run_bytes + 1, (MAX_RUN - 1) * sizeof(ByteSet));
					memmove(run_at, run_at + 1, (MAX_RUN - 1) * sizeof(size_t));
					memmove(run_at_min, run_at_min + 1, (MAX_RUN - 1) * sizeof(size_t));
					runlen--;
				}
				if (lit != NULL)
				{
					memset(&run[runlen], 0, sizeof(ByteSet));
					SetAdd(&run[runlen], (unsigned char) lit[b]);
					memset(&run_bytes[runlen], 0, sizeof(ByteSet));
					SetAddChar(&run_bytes[runlen], (unsigned char) lit[b]);
					/* (a character's bytes: a byte each at the least) */
					run_at_min[runlen] = Add(at_min, (size_t) b);
					run_at[runlen++] = at;
				}
				else
				{
					run[runlen] = cls;
					run_bytes[runlen] = r->class_set;
					run_at_min[runlen] = Add(at_min, (size_t) b);
					run_at[runlen++] = Add(at, (size_t) b);
				}
				kl = KeywordEndingHere(r, run, runlen);
				if (kl > 0)
				{
					*lead = run_at[runlen - kl];
					lead_min = run_at_min[runlen - kl];
					if (lead_set)
						*lead_set = before_run;
					for (int j = 0; j < runlen - kl; j++)
						SetUnion(lead_set, &run_bytes[j]);
				}
			}
			/* a class repeated more than always: what follows is no longer next to it */
			if (lit == NULL && !r->run_fixed)
				runlen = 0;
			continue;
		}
		if (width == 0 && atom_lead == AG_REACH_UNBOUNDED)
			continue;			/* an assertion: the run goes on */
		runlen = 0;
		if (atom_lead != AG_REACH_UNBOUNDED)
		{
			*lead = Add(at, atom_lead);
			lead_min = Add(at_min, atom_min_lead);
			if (lead_set)
			{
				*lead_set = before;
				SetUnion(lead_set, &atom_lead_set);
			}
		}
	}
	r->min_width = consumed_min;
	r->min_lead = *lead != AG_REACH_UNBOUNDED ? lead_min : 0;
	return total;
}

static size_t
Alternation(Reach *r, size_t *lead, size_t *digits, ByteSet *lead_set,
			ByteSet *consumed)
{
	size_t		most = Sequence(r, lead, digits, lead_set, consumed);
	size_t		least = r->min_width,
				least_lead = r->min_lead;

	while (*r->p == '|' && !r->bad)
	{
		size_t		b,
					branch_lead,
					branch_digits;
		ByteSet		branch_lead_set,
					branch_consumed;

		r->p++;
		b = Sequence(r, &branch_lead, &branch_digits, &branch_lead_set,
					 &branch_consumed);
		if (b > most)
			most = b;
		if (r->min_width < least)
			least = r->min_width;
		if (r->min_lead < least_lead)
			least_lead = r->min_lead;
		if (branch_lead > *lead)
			*lead = branch_lead;
		if (branch_digits < *digits)
			*digits = branch_digits;
		if (r->sets)
		{
			SetUnion(lead_set, &branch_lead_set);
			SetUnion(consumed, &branch_consumed);
		}
	}
	r->min_width = least;
	r->min_lead = least_lead;
	return most;
}

/*
 * Does the pattern turn caseless matching on anywhere: an option setting
 * "(?i)", "(?si)", "(?mi:" ... with i before any '-'?
 */
static int
TurnsCaselessOn(const char *pattern)
{
	/* (an escaped "\(?i" counts too: taking caseless too often is safe) */
	for (const char *p = strstr(pattern, "(?"); p != NULL; p = strstr(p + 1, "(?"))
		for (const char *q = p + 2; *q && *q != '-' && *q != ')' && *q != ':'; q++)
		{
			if (*q == 'i')
				return 1;
			if (!(*q >= 'a' && *q <= 'z') && !(*q >= 'A' && *q <= 'Z') && *q != '^')
				break;
		}
	return 0;
}

static size_t
Analyse(const char *pattern, int caseless, const char *const *keywords,
		int nkeywords, int exact, size_t *lead, size_t *digits,
		ByteSet *lead_set, size_t *min_lead)
{
	/* lead_set NULL: not asked for (a seventh of the work, at load time) */
	Reach		r;
	size_t		reach;
	ByteSet		consumed;

	memset(&r, 0, sizeof(r));
	r.p = pattern;
	r.caseless = caseless == AG_CASE_CASELESS ||
		(caseless == AG_CASE_EXACT && TurnsCaselessOn(pattern));
	r.ascii_text = caseless == AG_TEXT_ASCII;
	if (r.ascii_text)
		r.caseless = 0;			/* the caseless partners are beyond ASCII */
	r.keywords = keywords;
	r.nkeywords = nkeywords;
	for (int k = 0; k < nkeywords && k < MAX_KEYWORD_LENGTHS; k++)
		r.kwlen[k] = strlen(keywords[k]);
	r.exact = exact;
	r.sets = lead_set != NULL;
	reach = Alternation(&r, lead, digits, lead_set ? lead_set : &consumed, &consumed);
	if (min_lead)
		*min_lead = r.bad || *r.p != '\0' || *lead == AG_REACH_UNBOUNDED ? 0 : r.min_lead;
	if (r.bad || *r.p != '\0' || *lead == AG_REACH_UNBOUNDED)
		SetFill(lead_set);
	if (r.bad || *r.p != '\0')
	{
		*lead = AG_REACH_UNBOUNDED;
		*digits = 0;
		return AG_REACH_UNBOUNDED;
	}
	/* the character after the match, which \b or $ reads */
	return Add(reach, 4);
}

size_t
AgPatternReach(const char *pattern, int caseless)
{
	size_t		lead,
				digits;

	return Analyse(pattern, caseless, NULL, 0, 0, &lead, &digits, NULL, NULL);
}

size_t
AgPatternKeywordLead(const char *pattern, int caseless,
					 const char *const *keywords, int nkeywords)
{
	size_t		lead,
				digits;

	(void) Analyse(pattern, caseless, keywords, nkeywords, 0, &lead, &digits, NULL, NULL);
	return lead;
}

size_t
AgPatternKeywordLeadBytes(const char *pattern, int caseless,
						  const char *const *keywords, int nkeywords,
						  uint64_t bytes[4], int *narrow, size_t *min_lead)
{
	size_t		lead,
				digits;
	ByteSet		set;
	int			all = 1;

	(void) Analyse(pattern, caseless, keywords, nkeywords, 0, &lead, &digits, &set,
				   min_lead);
	for (int k = 0; k < 4; k++)
	{
		bytes[k] = set.w[k];
		all &= set.w[k] == ~UINT64_C(0);
	}
	*narrow = !all;
	return lead;
}

size_t
AgPatternMinDigits(const char *pattern)
{
	size_t		lead,
				digits;

	(void) Analyse(pattern, AG_CASE_EXACT, NULL, 0, 0, &lead, &digits, NULL, NULL);
	return digits;
}

int
AgPatternKeywordsExact(const char *pattern, const char *const *keywords,
					   int nkeywords)
{
	size_t		lead,
				digits;

	if (TurnsCaselessOn(pattern))
		return 0;
	(void) Analyse(pattern, 0, keywords, nkeywords, 1, &lead, &digits, NULL, NULL);
	return lead != AG_REACH_UNBOUNDED;
}
