/*
 * ag_pattern_sample.c
 *	  Random strings shaped by a PCRE2 pattern: each pick takes one branch
 *	  of every alternation, a repeat count within every quantifier, one
 *	  character of every class.  Most samples match the pattern; those that
 *	  do not (a lookaround said no) are merely useless.  They test that a
 *	  rule's keywords cover its matches (ag_rule_coverage.c).
 *
 * The subset is the one rule patterns use (see ag_pattern_reach.c):
 * literals, escapes, classes, '.', groups, lookarounds (which produce
 * nothing), inline options, alternation, quantifiers and back references
 * \1 to \9.  Anything else makes the sample fail, so that a test can count
 * the patterns it could not exercise.
 */
#include "ag_pattern_sample.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS 64
#define MAX_EXTRA_REPEATS 3		/* beyond a quantifier's minimum */

/*
 * Work per sample, at most: atoms read, repeats made and class bytes read
 * each count one.  Nested repeats multiply the work ("((((x{3}){3}){3}){3})",
 * empty groups that never fill the output, a class of a million bytes
 * picked from again and again), and a pattern saved by a user must not hang
 * the backend that checks it: past this, the sample fails.
 */
#define MAX_STEPS 200000
#define MAX_DEPTH 250			/* group nesting, as PCRE2's own limit */
#define MAX_REPEAT 65535		/* the largest count PCRE2 accepts */

typedef struct Sampler
{
	const char *p;
	char	   *out;
	size_t		len;
	size_t		cap;
	int			bad;
	long		steps;
	int			depth;
	uint64_t   *rng;
	int			ngroups;
	size_t		group_start[MAX_GROUPS + 1];
	size_t		group_end[MAX_GROUPS + 1];
	int			group_closed[MAX_GROUPS + 1];
} Sampler;

static uint32_t
Next(Sampler *s)
{
	/* xorshift64* */
	uint64_t	x = *s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s->rng = x;
	return (uint32_t) ((x * 2685821657736338717ULL) >> 32);
}

static void
Emit(Sampler *s, const char *bytes, size_t n)
{
	if (s->len + n >= s->cap)
	{
		s->bad = 1;
		return;
	}
	memcpy(s->out + s->len, bytes, n);
	s->len += n;
}

static void
EmitChar(Sampler *s, char c)
{
	Emit(s, &c, 1);
}

/* Characters an escape class stands for, in printable ASCII. */
static int
InEscapeClass(char e, unsigned char c)
{
	switch (e)
	{
		case 'd':
			return c >= '0' && c <= '9';
		case 'D':
			return !(c >= '0' && c <= '9');
		case 'w':
			return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
				(c >= 'A' && c <= 'Z') || c == '_';
		case 'W':
			return !InEscapeClass('w', c);
		case 's':
		case 'h':
			return c == ' ';
		case 'S':
		case 'H':
			return c != ' ';
		default:
			return 0;
	}
}

/* One printable ASCII character of an escape class (\d, \w, \s ...), at random. */
static void
EmitFromEscapeClass(Sampler *s, char e)
{
	for (;;)
	{
		unsigned char c = (unsigned char) (32 + Next(s) % 95);

		if (InEscapeClass(e, c))
		{
			EmitChar(s, (char) c);
			return;
		}
	}
}

/*
 * A class (s->p just after '['): the set of printable ASCII characters (and
 * newline) it matches, as a 128-entry table; then one of them, at random.
 */
static void
Class(Sampler *s)
{
	const char *class_start = s->p;
	unsigned char in[128] = {0};
	int			negate = 0,
				first = 1;
	int			n = 0;
	int			pick;

	if (*s->p == '^')
	{
		negate = 1;
		s->p++;
	}
	while (*s->p && (*s->p != ']' || first))
	{
		unsigned char lo = (unsigned char) *s->p;

		first = 0;
		if (lo == '\\' && s->p[1])
		{
			char		e = s->p[1];

			s->p += 2;
			if (strchr("dDwWsShH", e))
			{
				for (int c = 32; c < 127; c++)
					if (InEscapeClass(e, (unsigned char) c))
						in[c] = 1;
				continue;
			}
			if (e == 'n')
				lo = '\n';
			else if (e == 't' || e == 'r' || e == 'f')
				continue;		/* not sampled */
			else if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))
			{
				s->bad = 1;		/* \x{..}, \p{..}: not sampled */
				return;
			}
			else
				lo = (unsigned char) e;
		}
		else if (lo == '[' && s->p[1] == ':')
		{
			s->bad = 1;
			return;
		}
		else if (lo >= 0x80)
		{
			/* a non-ASCII member: skip its bytes, it is not sampled */
			s->p++;
			while (((unsigned char) *s->p & 0xC0) == 0x80)
				s->p++;
			continue;
		}
		else
			s->p++;
		if (*s->p == '-' && s->p[1] && s->p[1] != ']' && (unsigned char) s->p[1] < 0x80 &&
			s->p[1] != '\\')
		{
			unsigned char hi = (unsigned char) s->p[1];

			s->p += 2;
			for (int c = lo; c <= hi && c < 128; c++)
				in[c] = 1;
		}
		else if (lo < 128)
			in[lo] = 1;
	}
	if (*s->p != ']')
	{
		s->bad = 1;
		return;
	}
	s->p++;
	s->steps += s->p - class_start;
	if (s->steps > MAX_STEPS)
	{
		s->bad = 1;
		return;
	}
	for (int c = 0; c < 128; c++)
	{
		int			printable = (c >= 32 && c < 127) || c == '\n';

		in[c] = printable && (negate ? !in[c] : in[c]);
		n += in[c];
	}
	if (n == 0)
	{
		s->bad = 1;
		return;
	}
	pick = (int) (Next(s) % (uint32_t) n);
	for (int c = 0; c < 128; c++)
		if (in[c] && pick-- == 0)
		{
			EmitChar(s, (char) c);
			return;
		}
}

/* Reads a quantifier after an atom: the repeat count to produce. */
static int
Repeats(Sampler *s)
{
	long		lo = 1,
				hi = 1;

	if (*s->p == '?')
	{
		lo = 0;
		s->p++;
	}
	else if (*s->p == '*' || *s->p == '+')
	{
		lo = *s->p == '+';
		hi = lo + MAX_EXTRA_REPEATS;
		s->p++;
	}
	else if (*s->p == '{' && s->p[1] >= '0' && s->p[1] <= '9')
	{
		const char *q = s->p + 1;
		char	   *end;

		lo = strtol(q, &end, 10);
		hi = lo;
		if (*end == ',')
		{
			if (end[1] == '}')
			{
				hi = lo + MAX_EXTRA_REPEATS;
				end++;
			}
			else
				hi = strtol(end + 1, &end, 10);
		}
		if (*end != '}' || hi < lo)
			return 1;			/* a literal '{' to PCRE2 */
		if (lo > MAX_REPEAT || hi > MAX_REPEAT)
		{
			s->bad = 1;
			return 0;
		}
		s->p = end + 1;
		if (hi > lo + MAX_EXTRA_REPEATS)
			hi = lo + MAX_EXTRA_REPEATS;
	}
	else
		return 1;
	if (*s->p == '?' || *s->p == '+')
		s->p++;
	return (int) (lo + (long) (Next(s) % (uint32_t) (hi - lo + 1)));
}

static void Alternation(Sampler *s, int produce);

/* One atom with its quantifier (s->p on the atom). */
static void
Atom(Sampler *s, int produce)
{
	const char *start = s->p;
	int			n;
	int			group = 0;
	int			silent = 0;		/* a lookaround: produces nothing */

	if (++s->steps > MAX_STEPS)
	{
		s->bad = 1;
		return;
	}

	/* find the atom's end first, to repeat it */
	if (*s->p == '(')
	{
		s->p++;
		if (*s->p != '?')
			group = ++s->ngroups;
		else
		{
			s->p++;
			if (*s->p == ':')
				s->p++;
			else if (*s->p == '|')
			{
				/*
				 * A branch-reset group: its branches' groups share numbers,
				 * which only a back-reference could notice; drawn as (?:...).
				 */
				s->p++;
			}
			else if (*s->p == '=' || *s->p == '!')
			{
				s->p++;
				silent = 1;
			}
			else if (s->p[0] == '<' && (s->p[1] == '=' || s->p[1] == '!'))
			{
				s->p += 2;
				silent = 1;
			}
			else if (s->p[0] == '<' || (s->p[0] == 'P' && s->p[1] == '<'))
			{
				const char *end = strchr(s->p, '>');

				if (end == NULL)
				{
					s->bad = 1;
					return;
				}
				s->p = end + 1;
				group = ++s->ngroups;
			}
			else
			{
				while (*s->p == 'i' || *s->p == 's' || *s->p == 'm' || *s->p == '-')
					s->p++;
				if (*s->p == ')')
				{
					s->p++;
					return;
				}
				if (*s->p != ':')
				{
					s->bad = 1;
					return;
				}
				s->p++;
			}
		}
		if (group > MAX_GROUPS)
		{
			s->bad = 1;
			return;
		}
		{
			const char *body = s->p;
			int			before_body = s->ngroups;
			int			after_body;
			const char *resume;

			/* skip the body to find the quantifier, then produce it n times */
			if (++s->depth > MAX_DEPTH)
			{
				s->bad = 1;
				return;
			}
			Alternation(s, 0);
			s->depth--;
			if (s->bad || *s->p != ')')
			{
				s->bad = 1;
				return;
			}
			s->p++;
			after_body = s->ngroups;
			n = Repeats(s);
			resume = s->p;
			for (int k = 0; k < n && produce && !silent && !s->bad; k++)
			{
				if (++s->steps > MAX_STEPS)
				{
					s->bad = 1;
					break;
				}
				s->p = body;
				s->ngroups = before_body;
				if (group)
					s->group_start[group] = s->len;
				s->depth++;
				Alternation(s, 1);
				s->depth--;
				if (group)
				{
					s->group_end[group] = s->len;
					s->group_closed[group] = 1;
				}
			}
			s->ngroups = after_body;
			s->p = resume;
			return;
		}
	}

	/* a single-character atom: read it once to find its end */
	s->p = start;
	{
		size_t		mark = s->len;

		/* produce it once into the buffer, then decide how many times */
		if (*s->p == '[')
		{
			s->p++;
			Class(s);
		}
		else if (*s->p == '\\')
		{
			char		e = s->p[1];

			if (e == '\0' || (unsigned char) e >= 0x80)
			{
				/* a pattern ending in '\', or an escaped multibyte character */
				s->p++;
				s->bad = 1;
				return;
			}
			s->p += 2;
			if (strchr("bBAzZG", e))
				;				/* assertions */
			else if (strchr("dDwWsShH", e))
				EmitFromEscapeClass(s, e);
			else if (e == 'n')
				EmitChar(s, '\n');
			else if (e == 'r')
				EmitChar(s, '\r');
			else if (e == 't')
				EmitChar(s, '\t');
			else if (e >= '1' && e <= '9' && !(s->p[0] >= '0' && s->p[0] <= '9'))
			{
				int			g = e - '0';

				if (!produce)
					;			/* only parsed: the group may not be produced yet */
				else if (g > s->ngroups || !s->group_closed[g])
					s->bad = 1;
				else
				{
					/* copy what the group produced (out may move: use offsets) */
					size_t		gs = s->group_start[g],
								ge = s->group_end[g];

					for (size_t i = gs; i < ge && !s->bad; i++)
						EmitChar(s, s->out[i]);
				}
			}
			else if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))
				s->bad = 1;
			else
				EmitChar(s, e);
		}
		else if (*s->p == '.')
		{
			/* any character: a space or a letter, so that words stay apart */
			s->p++;
			EmitChar(s, Next(s) % 2 ? ' ' : (char) ('a' + Next(s) % 26));
		}
		else if (*s->p == '^' || *s->p == '$')
			s->p++;
		else if ((unsigned char) *s->p >= 0x80)
		{
			const char *c = s->p++;

			while (((unsigned char) *s->p & 0xC0) == 0x80)
				s->p++;
			Emit(s, c, (size_t) (s->p - c));
		}
		else
			EmitChar(s, *s->p++);

		/* repeat what was produced */
		{
			size_t		one = s->len - mark;
			char		piece[16];

			n = Repeats(s);
			if (one > sizeof(piece))
			{
				s->bad = 1;
				return;
			}
			memcpy(piece, s->out + mark, one);
			s->len = mark;
			if (!produce)
				return;
			for (int k = 0; k < n && !s->bad; k++)
			{
				if (++s->steps > MAX_STEPS)
				{
					s->bad = 1;
					break;
				}
				/* a class or escape class picks afresh each time */
				if (k > 0 && (start[0] == '[' || (start[0] == '\\' && strchr("dDwWsShH", start[1]))))
				{
					const char *save = s->p;

					s->p = start;
					if (*s->p == '[')
					{
						s->p++;
						Class(s);
					}
					else
						EmitFromEscapeClass(s, start[1]);
					s->p = save;
				}
				else
					Emit(s, piece, one);
			}
		}
	}
}

static void
Sequence(Sampler *s, int produce)
{
	while (*s->p && *s->p != '|' && *s->p != ')' && !s->bad)
		Atom(s, produce);
}

/*
 * Alternation: with produce, one branch at random is produced and the rest
 * skipped; without, all are skipped (parsed only).
 */
static void
Alternation(Sampler *s, int produce)
{
	const char *branches[256];
	int			nb = 0;
	int			groups_before = s->ngroups;
	int			pick;
	const char *end;

	/* find the branches (parse without producing) */
	branches[nb++] = s->p;
	Sequence(s, 0);
	while (*s->p == '|' && !s->bad)
	{
		s->p++;
		if (nb < 256)
			branches[nb++] = s->p;
		Sequence(s, 0);
	}
	end = s->p;
	if (!produce || s->bad)
		return;
	pick = (int) (Next(s) % (uint32_t) nb);
	{
		int			groups_after = s->ngroups;

		/* group numbers of the picked branch: replay the count */
		s->ngroups = groups_before;
		for (int b = 0; b < pick; b++)
		{
			s->p = branches[b];
			Sequence(s, 0);
		}
		s->p = branches[pick];
		Sequence(s, 1);
		s->ngroups = groups_after;
	}
	s->p = end;
}

int
AgPatternSample(const char *pattern, uint64_t *rng, char *out, size_t cap,
			  size_t *len)
{
	Sampler		s;

	memset(&s, 0, sizeof(s));
	s.p = pattern;
	s.out = out;
	s.cap = cap;
	s.rng = rng;
	Alternation(&s, 1);
	if (s.bad || *s.p != '\0')
		return -1;
	out[s.len] = '\0';
	*len = s.len;
	return 0;
}
