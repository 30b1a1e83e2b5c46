/*
 * ag_prefilter.c
 *	  Aho-Corasick automaton over bytes, compressed by byte classes.
 *
 * Keywords are stored normalised (lower case), and the text scanned is the
 * normalised text, so matching is exact on bytes.  The trie is turned into a
 * full DFA over byte classes (bytes that occur in no keyword share class 0),
 * which keeps the transition table small (states x classes x 4 bytes) and
 * the scan loop branch-free: one table load per input byte.  Each state
 * carries the list of rules whose keyword ends there, failure links
 * included.
 */
#include "ag_prefilter.h"

#include <stdlib.h>
#include <string.h>

typedef struct PfState
{
	int32_t		fail;
	int32_t		out_first;		/* index into outs, -1 if none */
	int32_t		out_count;
} PfState;

typedef struct PfEdge
{
	int32_t		from;
	int32_t		to;
	unsigned char byte;
} PfEdge;

struct AgPrefilter
{
	PfState    *states;
	int			nstates;
	int			capstates;
	PfEdge	   *edges;			/* trie edges, used while building */
	int			nedges;
	int			capedges;
	int		   *raw_out;		/* per state: linked outputs while building */
	int		   *raw_next;
	int		   *raw_rule;
	int			nraw;
	int			capraw;
	unsigned char classes[256];
	int			nclasses;
	int			stride;			/* entries per row of next: classes + 1, padded */
	int32_t    *delta;			/* nstates * nclasses, while building */
	uint32_t   *next;			/* the same, as (row << 1) | has outputs */
	int		   *outs;			/* rule numbers */
	int			nouts;
	int			built;
	int			caseless;
	size_t		maxdepth;		/* longest keyword, in bytes */
};

AgPrefilter *
AgPrefilterCreate(void)
{
	AgPrefilter *pf = calloc(1, sizeof(AgPrefilter));

	if (pf == NULL)
		return NULL;
	pf->capstates = 64;
	pf->states = calloc(pf->capstates, sizeof(PfState));
	pf->raw_out = malloc(pf->capstates * sizeof(int));
	if (pf->states == NULL || pf->raw_out == NULL)
	{
		AgPrefilterFree(pf);
		return NULL;
	}
	pf->nstates = 1;
	pf->raw_out[0] = -1;
	return pf;
}

static int32_t
FindEdge(const AgPrefilter *pf, int32_t from, unsigned char byte)
{
	/* Building only: linear scan is fine for a few thousand edges. */
	for (int i = pf->nedges - 1; i >= 0; i--)
		if (pf->edges[i].from == from && pf->edges[i].byte == byte)
			return pf->edges[i].to;
	return -1;
}

AgPrefilter *
AgPrefilterCreateCaseless(void)
{
	AgPrefilter *pf = AgPrefilterCreate();

	if (pf)
		pf->caseless = 1;
	return pf;
}

int
AgPrefilterAdd(AgPrefilter *pf, const char *keyword, size_t len, int rule)
{
	int32_t		s = 0;

	if (pf->built || len == 0)
		return len == 0 ? 0 : -1;
	if (len > pf->maxdepth)
		pf->maxdepth = len;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char b = (unsigned char) keyword[i];
		int32_t		t;

		if (pf->caseless && b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		t = FindEdge(pf, s, b);

		if (t < 0)
		{
			if (pf->nstates == pf->capstates)
			{
				int			cap = pf->capstates * 2;
				PfState    *ns = realloc(pf->states, cap * sizeof(PfState));
				int		   *no;

				if (ns == NULL)
					return -1;
				pf->states = ns;
				no = realloc(pf->raw_out, cap * sizeof(int));
				if (no == NULL)
					return -1;
				pf->raw_out = no;
				pf->capstates = cap;
			}
			if (pf->nedges == pf->capedges)
			{
				int			cap = pf->capedges ? pf->capedges * 2 : 256;
				PfEdge	   *ne = realloc(pf->edges, cap * sizeof(PfEdge));

				if (ne == NULL)
					return -1;
				pf->edges = ne;
				pf->capedges = cap;
			}
			t = pf->nstates++;
			memset(&pf->states[t], 0, sizeof(PfState));
			pf->raw_out[t] = -1;
			pf->edges[pf->nedges].from = s;
			pf->edges[pf->nedges].to = t;
			pf->edges[pf->nedges].byte = b;
			pf->nedges++;
			if (pf->classes[b] == 0)
				pf->classes[b] = (unsigned char) ++pf->nclasses;
		}
		s = t;
	}
	if (pf->nraw == pf->capraw)
	{
		int			cap = pf->capraw ? pf->capraw * 2 : 128;
		int		   *a = realloc(pf->raw_next, cap * sizeof(int));
		int		   *b;

		if (a == NULL)
			return -1;
		pf->raw_next = a;
		b = realloc(pf->raw_rule, cap * sizeof(int));
		if (b == NULL)
			return -1;
		pf->raw_rule = b;
		pf->capraw = cap;
	}
	/* outputs carry the keyword's length too, for hit positions */
	pf->raw_rule[pf->nraw] = (rule << 8) | (int) (len < 255 ? len : 255);
	pf->raw_next[pf->nraw] = pf->raw_out[s];
	pf->raw_out[s] = pf->nraw++;
	return 0;
}

/*
 * Gives the bytes most common in chat text the lowest class numbers, so
 * that in every row of the table the entries a text mostly reads (letters,
 * space, the commonest punctuation) share the row's first cache line or
 * two: on the INSERT path the table is seldom in cache, and each step that
 * touches a new line waits for memory.
 */
static void
NumberClassesByUse(AgPrefilter *pf)
{
	static const char by_use[] = " etaoinsrhldcumfpgwybvk\n.,'-0123456789xjqz:;!?\"()/_";
	unsigned char renumber[256] = {0};
	int			n = 0;

	for (const char *p = by_use; *p; p++)
	{
		int			c = pf->classes[(unsigned char) *p];

		if (c != 0 && renumber[c] == 0)
			renumber[c] = (unsigned char) ++n;
	}
	for (int c = 1; c <= pf->nclasses; c++)
		if (renumber[c] == 0)
			renumber[c] = (unsigned char) ++n;
	for (int b = 0; b < 256; b++)
		pf->classes[b] = renumber[pf->classes[b]];
}

int
AgPrefilterBuild(AgPrefilter *pf)
{
	int			nc = pf->nclasses + 1;
	int32_t    *queue;
	int			qh = 0,
				qt = 0;

	if (pf->nclasses >= 255)
		return -1;
	if (pf->caseless)
		for (int c = 'A'; c <= 'Z'; c++)
			pf->classes[c] = pf->classes[c + ('a' - 'A')];
	NumberClassesByUse(pf);
	pf->delta = malloc((size_t) pf->nstates * nc * sizeof(int32_t));
	queue = malloc((size_t) pf->nstates * sizeof(int32_t));
	if (pf->delta == NULL || queue == NULL)
	{
		free(queue);
		return -1;
	}
	/* goto function as a table, -1 where the trie has no edge */
	for (size_t i = 0; i < (size_t) pf->nstates * nc; i++)
		pf->delta[i] = -1;
	for (int i = 0; i < pf->nedges; i++)
		pf->delta[pf->edges[i].from * nc + pf->classes[pf->edges[i].byte]] =
			pf->edges[i].to;

	/* breadth-first: failure links and DFA completion */
	for (int c = 0; c < nc; c++)
	{
		int32_t		t = pf->delta[c];

		if (t < 0)
			pf->delta[c] = 0;
		else
		{
			pf->states[t].fail = 0;
			queue[qt++] = t;
		}
	}
	/* class 0 means "byte in no keyword": always back to the root */
	while (qh < qt)
	{
		int32_t		s = queue[qh++];

		for (int c = 0; c < nc; c++)
		{
			int32_t		t = pf->delta[s * nc + c];
			int32_t		f = pf->delta[pf->states[s].fail * nc + c];

			if (t < 0 || c == 0)
				pf->delta[s * nc + c] = c == 0 ? 0 : f;
			else
			{
				pf->states[t].fail = f;
				queue[qt++] = t;
			}
		}
	}

	/* flatten outputs: own keywords plus those along the failure chain */
	int			total = 0;

	for (int s = 0; s < pf->nstates; s++)
		for (int32_t f = s; f != 0; f = pf->states[f].fail)
			for (int r = pf->raw_out[f]; r >= 0; r = pf->raw_next[r])
				total++;
	pf->outs = malloc((size_t) (total + 1) * sizeof(int));
	if (pf->outs == NULL)
	{
		free(queue);
		return -1;
	}
	for (int s = 0; s < pf->nstates; s++)
	{
		pf->states[s].out_first = pf->nouts;
		for (int32_t f = s; f != 0; f = pf->states[f].fail)
			for (int r = pf->raw_out[f]; r >= 0; r = pf->raw_next[r])
				pf->outs[pf->nouts++] = pf->raw_rule[r];
		pf->states[s].out_count = pf->nouts - pf->states[s].out_first;
	}
	free(queue);

	/*
	 * The scan's table: each entry the next state's row (state * stride,
	 * so no multiply per byte) and whether that state has outputs (so no
	 * second load per byte).  Rows are padded to whole cache lines (16
	 * entries) and the table aligned on one, so a row's first entries,
	 * the common bytes, share one line.
	 */
	pf->stride = (nc + 15) & ~15;
	if ((size_t) pf->nstates * pf->stride > UINT32_MAX / 2)
		return -1;
	pf->next = aligned_alloc(64, (size_t) pf->nstates * pf->stride * sizeof(uint32_t));
	if (pf->next == NULL)
		return -1;
	for (size_t st = 0; st < (size_t) pf->nstates; st++)
		for (int c = 0; c < pf->stride; c++)
		{
			int32_t		t = c < nc ? pf->delta[st * nc + c] : 0;

			pf->next[st * pf->stride + c] = ((uint32_t) t * (uint32_t) pf->stride) << 1 |
				(pf->states[t].out_count > 0);
		}
	free(pf->delta);
	pf->delta = NULL;
	free(pf->edges);
	pf->edges = NULL;
	pf->built = 1;
	return 0;
}

/* The state a table entry e leads to. */
static inline const PfState *
StateOf(const AgPrefilter *pf, uint32_t e)
{
	return &pf->states[(e >> 1) / (uint32_t) pf->stride];
}

/* Where output k of state st, a keyword ending at byte i, starts. */
static inline size_t
HitStart(const AgPrefilter *pf, const PfState *st, int k, size_t i)
{
	size_t		kwlen = (size_t) (pf->outs[st->out_first + k] & 0xFF);

	return i + 1 >= kwlen ? i + 1 - kwlen : 0;
}

/* Its rule. */
static inline int
HitRule(const AgPrefilter *pf, const PfState *st, int k)
{
	return pf->outs[st->out_first + k] >> 8;
}

/* Reports the keywords that end at byte i (state e has outputs). */
static inline void
ReportHits(const AgPrefilter *pf, uint32_t e, size_t i, AgPrefilterHitFn fn, void *arg)
{
	const PfState *st = StateOf(pf, e);

	for (int k = 0; k < st->out_count; k++)
		fn(arg, HitRule(pf, st, k), HitStart(pf, st, k, i), i + 1);
}

/* Runs the automaton over text[i..end) from state e; returns the state. */
static uint32_t
ScanRange(const AgPrefilter *pf, const unsigned char *s, size_t i, size_t end,
		  uint32_t e, AgPrefilterHitFn fn, void *arg)
{
	const uint32_t *next = pf->next;
	const unsigned char *classes = pf->classes;

	for (; i < end; i++)
	{
		e = next[(e >> 1) + classes[s[i]]];
		if (e & 1)
			ReportHits(pf, e, i, fn, arg);
	}
	return e;
}

/* Runs the automaton over text[i..end) from state e without reporting. */
static uint32_t
Advance(const AgPrefilter *pf, const unsigned char *s, size_t i, size_t end,
		uint32_t e)
{
	for (; i < end; i++)
		e = pf->next[(e >> 1) + pf->classes[s[i]]];
	return e;
}

/*
 * A long text is read as SEGMENTS pieces at once; each piece after the
 * first holds back up to HELD_HITS hits.
 */
#define SEGMENTS 4
#define HELD_HITS 256

typedef struct HeldHits
{
	int			n;
	struct
	{
		int			rule;
		size_t		start;
		size_t		end;
	}			hit[HELD_HITS];
} HeldHits;

/* Holds the hits of state e at byte i; 0 when they do not fit. */
static int
HoldHits(const AgPrefilter *pf, HeldHits *held, uint32_t e, size_t i)
{
	const PfState *st = StateOf(pf, e);

	if (held->n + st->out_count > HELD_HITS)
		return 0;
	for (int k = 0; k < st->out_count; k++)
	{
		held->hit[held->n].rule = HitRule(pf, st, k);
		held->hit[held->n].start = HitStart(pf, st, k, i);
		held->hit[held->n].end = i + 1;
		held->n++;
	}
	return 1;
}

/*
 * Every keyword occurrence, in the order of its end.  Each step of the
 * automaton waits for the one before (a load from the table, which on the
 * INSERT path is seldom in cache), so a long text is read as SEGMENTS
 * pieces at once, independent chains the CPU overlaps.  Each piece after
 * the first starts from the root maxdepth bytes before its own first byte,
 * which puts it in the state a reading from the start would have there (a
 * state stands for at most the last maxdepth bytes); its hits are held
 * back and reported after those of the pieces before it, in order.  When
 * a piece finds more than it can hold, the lockstep stops and every piece
 * is finished alone, in order.
 */
void
AgPrefilterScanHits(const AgPrefilter *pf, const char *text, size_t len,
					AgPrefilterHitFn fn, void *arg)
{
	const unsigned char *s = (const unsigned char *) text;
	const uint32_t *next = pf->next;
	const unsigned char *classes = pf->classes;
	HeldHits	held[SEGMENTS];
	size_t		base[SEGMENTS],	/* piece g reads byte base[g] + i at step i */
				from[SEGMENTS],	/* its first byte */
				end[SEGMENTS];
	uint32_t	e[SEGMENTS];	/* (row << 1) | has outputs */
	size_t		piece,
				i;
	int			stopped = SEGMENTS;	/* pieces before it made step i */

	if (!pf->built || pf->nstates <= 1)
		return;
	if (len < SEGMENTS * (2 * pf->maxdepth + 256))
	{
		ScanRange(pf, s, 0, len, 0, fn, arg);
		return;
	}
	piece = len / SEGMENTS;
	for (int g = 0; g < SEGMENTS; g++)
	{
		from[g] = piece * g;
		base[g] = g == 0 ? 0 : from[g] - pf->maxdepth;
		end[g] = g == SEGMENTS - 1 ? len : piece * (g + 1);
		e[g] = 0;
		held[g].n = 0;
	}
	/* piece steps: all of the first piece, all but maxdepth bytes of the others */
	for (i = 0; i < piece; i++)
	{
#pragma GCC unroll 4
		for (int g = 1; g < SEGMENTS; g++)
		{
			size_t		j = base[g] + i;
			uint32_t	en = next[(e[g] >> 1) + classes[s[j]]];

			if ((en & 1) && j >= from[g] && !HoldHits(pf, &held[g], en, j))
			{
				stopped = g;
				break;
			}
			e[g] = en;
		}
		if (stopped < SEGMENTS)
			break;				/* a piece is full: finish each alone */
		e[0] = next[(e[0] >> 1) + classes[s[i]]];
		if (e[0] & 1)
			ReportHits(pf, e[0], i, fn, arg);
	}
	ScanRange(pf, s, i, end[0], e[0], fn, arg);
	for (int g = 1; g < SEGMENTS; g++)
	{
		size_t		j = base[g] + i + (g < stopped && stopped < SEGMENTS);

		for (int k = 0; k < held[g].n; k++)
			fn(arg, held[g].hit[k].rule, held[g].hit[k].start, held[g].hit[k].end);
		if (j < from[g])
		{
			e[g] = Advance(pf, s, j, from[g], e[g]);
			j = from[g];
		}
		ScanRange(pf, s, j, end[g], e[g], fn, arg);
	}
}

size_t
AgPrefilterMemoryBytes(const AgPrefilter *pf)
{
	return sizeof(*pf) + (size_t) pf->capstates * (sizeof(PfState) + sizeof(int)) +
		(size_t) pf->nstates * pf->stride * sizeof(uint32_t) +
		(size_t) pf->nouts * sizeof(int) + (size_t) pf->capraw * 2 * sizeof(int);
}

void
AgPrefilterFree(AgPrefilter *pf)
{
	if (pf == NULL)
		return;
	free(pf->states);
	free(pf->edges);
	free(pf->raw_out);
	free(pf->raw_next);
	free(pf->raw_rule);
	free(pf->delta);
	free(pf->next);
	free(pf->outs);
	free(pf);
}
