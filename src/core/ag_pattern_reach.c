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
 * ("(?i") is taken as caseless throughout.
 */
#include "ag_pattern_reach.h"

#include <string.h>

#define MAX_GROUPS 64

typedef struct Reach
{
	const char *p;				/* next pattern byte */
	int			caseless;
	int			bad;			/* met something not understood */
	int			ngroups;		/* capturing groups opened so far */
	size_t		group_width[MAX_GROUPS + 1];	/* of one match of each closed group */
	int			group_closed[MAX_GROUPS + 1];
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

static size_t Alternation(Reach *r);

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

	if (*r->p == '?')
	{
		r->p++;
		most = 1;
	}
	else if (*r->p == '*' || *r->p == '+')
	{
		r->p++;
		most = AG_REACH_UNBOUNDED;
	}
	else if (*r->p == '{')
	{
		const char *save = r->p;
		size_t		lo,
					hi;

		r->p++;
		lo = Number(r);
		if (lo == AG_REACH_UNBOUNDED)
		{
			r->p = save;
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
			hi = Number(r);
			if (hi == AG_REACH_UNBOUNDED || *r->p != '}' || hi < lo)
			{
				r->p = save;
				return 1;
			}
		}
		else
		{
			r->p = save;
			return 1;
		}
		r->p++;					/* the '}' */
		most = hi;
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
				letters = 0;

	if (*r->p == '^')
	{
		r->p++;
		wide = 1;
	}
	if (*r->p == ']')
		r->p++;					/* a leading ']' is a literal */
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
			r->p += 2;
		}
		else if (c == '[' && r->p[1] == ':')
		{
			const char *end = strstr(r->p + 2, ":]");

			if (end == NULL)
			{
				r->bad = 1;
				return 0;
			}
			wide = 1;
			r->p = end + 2;
		}
		else
		{
			wide |= c >= 0x80;
			letters |= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
			r->p++;
		}
	}
	if (*r->p != ']')
	{
		r->bad = 1;
		return 0;
	}
	r->p++;
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

/* An escape (r->p just after the backslash): its width in bytes. */
static size_t
Escape(Reach *r)
{
	char		c = *r->p;

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
		case 'D':
		case 'w':
		case 'W':
		case 's':
		case 'S':
		case 'h':
		case 'H':
		case 'v':
		case 'V':
		case 'R':
		case 'N':
			return 4;
		case 'p':
		case 'P':
			if (*r->p == '{')
				SkipBraces(r);
			else if (*r->p)
				r->p++;
			return 4;
		case 'x':
			if (*r->p == '{')
				SkipBraces(r);
			else
				for (int k = 0; k < 2 && ((*r->p >= '0' && *r->p <= '9') ||
										  (*r->p >= 'a' && *r->p <= 'f') ||
										  (*r->p >= 'A' && *r->p <= 'F')); k++)
					r->p++;
			return 4;
		case 'n':
		case 'r':
		case 't':
		case 'f':
		case 'e':
		case 'a':
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
				return r->group_width[g];
			}
		default:
			/* escaped punctuation is itself */
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || (unsigned char) c >= 0x80))
				return 1;
			break;
	}
	/* letters and digits not named above (\K, \X, \Q, \c, \g...) */
	r->bad = 1;
	return 0;
}

/* One atom and its quantifier; r->p is on the atom. */
static size_t
Atom(Reach *r)
{
	unsigned char c = (unsigned char) *r->p;
	size_t		width;

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
			if (*r->p == ':' || *r->p == '=' || *r->p == '!')
				r->p++;
			else if (r->p[0] == '<' && (r->p[1] == '=' || r->p[1] == '!'))
			{
				r->p += 2;
				lookbehind = 1;
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
		width = Alternation(r);
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
	}
	else if (c == '[')
	{
		r->p++;
		width = Class(r);
	}
	else if (c == '\\')
	{
		r->p++;
		width = Escape(r);
	}
	else if (c == '.')
	{
		r->p++;
		width = 4;
	}
	else if (c == '^' || c == '$')
	{
		r->p++;
		width = 0;
	}
	else if (c == '*' || c == '+' || c == '?')
	{
		r->bad = 1;				/* a quantifier with nothing before it */
		return 0;
	}
	else if (c >= 0x80)
	{
		/* a non-ASCII literal: its bytes; its caseless partners up to 4 */
		r->p++;
		while (((unsigned char) *r->p & 0xC0) == 0x80)
			r->p++;
		width = 4;
	}
	else
	{
		r->p++;
		width = r->caseless && (c == 'k' || c == 'K' || c == 's' || c == 'S' ||
								c == 'i' || c == 'I') ? 3 : 1;
	}
	return Mul(width, Quantifier(r));
}

static size_t
Sequence(Reach *r)
{
	size_t		total = 0;

	while (*r->p && *r->p != '|' && *r->p != ')' && !r->bad)
		total = Add(total, Atom(r));
	return total;
}

static size_t
Alternation(Reach *r)
{
	size_t		most = Sequence(r);

	while (*r->p == '|' && !r->bad)
	{
		size_t		b;

		r->p++;
		b = Sequence(r);
		if (b > most)
			most = b;
	}
	return most;
}

size_t
AgPatternReach(const char *pattern, int caseless)
{
	Reach		r;

	memset(&r, 0, sizeof(r));
	r.p = pattern;
	r.caseless = caseless || strstr(pattern, "(?i") != NULL;
	size_t		reach = Alternation(&r);

	if (r.bad || *r.p != '\0')
		return AG_REACH_UNBOUNDED;
	/* the character after the match, which \b or $ reads */
	return Add(reach, 4);
}
