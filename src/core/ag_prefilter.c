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

#include "ag_util.h"

#include <stdlib.h>
#include <string.h>

/* The top bit of a table entry: its state has outputs. */
#define NARROW_OUT UINT32_C(0x8000)
#define WIDE_OUT UINT32_C(0x80000000)

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
	int32_t    *first_edge;		/* per state: its last edge added, -1 if none */
	int32_t    *next_edge;		/* per edge: the one added before it from the same state */
	int		   *raw_out;		/* per state: linked outputs while building */
	int		   *raw_next;
	int		   *raw_rule;
	int			nraw;
	int			capraw;
	unsigned char classes[256];
	int			nclasses;
	int			stride;			/* entries per row: classes + 1, padded */
	int32_t    *delta;			/* nstates * nclasses, while building */
	uint16_t   *next16;			/* the same, as the state, | NARROW_OUT if it
								 * has outputs ... */
	int			shift;			/* ... in rows of 1 << shift entries */
	uint32_t   *next;			/* or, with too many states for that, as
								 * its row's offset, | WIDE_OUT */
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
	pf->first_edge = malloc(pf->capstates * sizeof(int32_t));
	if (pf->states == NULL || pf->raw_out == NULL || pf->first_edge == NULL)
	{
		AgPrefilterFree(pf);
		return NULL;
	}
	pf->nstates = 1;
	pf->raw_out[0] = -1;
	pf->first_edge[0] = -1;
	return pf;
}

/*
 * Building only: the trie edge from state from on byte, among that state's
 * own edges (a list per state, so adding many keywords stays linear).
 */
static int32_t
FindEdge(const AgPrefilter *pf, int32_t from, unsigned char byte)
{
	for (int32_t i = pf->first_edge[from]; i >= 0; i = pf->next_edge[i])
		if (pf->edges[i].byte == byte)
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
				no = realloc(pf->first_edge, cap * sizeof(int32_t));
				if (no == NULL)
					return -1;
				pf->first_edge = no;
				pf->capstates = cap;
			}
			if (pf->nedges == pf->capedges)
			{
				int			cap = pf->capedges ? pf->capedges * 2 : 256;
				PfEdge	   *ne = realloc(pf->edges, cap * sizeof(PfEdge));
				int32_t    *nn;

				if (ne == NULL)
					return -1;
				pf->edges = ne;
				nn = realloc(pf->next_edge, cap * sizeof(int32_t));
				if (nn == NULL)
					return -1;
				pf->next_edge = nn;
				pf->capedges = cap;
			}
			t = pf->nstates++;
			memset(&pf->states[t], 0, sizeof(PfState));
			pf->raw_out[t] = -1;
			pf->first_edge[t] = -1;
			pf->edges[pf->nedges].from = s;
			pf->edges[pf->nedges].to = t;
			pf->edges[pf->nedges].byte = b;
			pf->next_edge[pf->nedges] = pf->first_edge[s];
			pf->first_edge[s] = pf->nedges;
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

	/*
	 * States renumbered breadth first: the root, then the states one byte
	 * deep, then two... A text spends nearly all its steps in the shallow
	 * states (over the corpus's benign prompts, 140 of 3,014 states take
	 * 90% of the steps, 462 take 99%), and numbered so their rows lie
	 * together at the table's start, where AgPrefilterPrefetch finds them.
	 */
	int32_t    *rank = malloc((size_t) pf->nstates * sizeof(int32_t));
	PfState    *renumbered = malloc((size_t) pf->capstates * sizeof(PfState));

	if (rank == NULL || renumbered == NULL || qt != pf->nstates - 1)
	{
		free(rank);
		free(renumbered);
		free(queue);
		return -1;
	}
	rank[0] = 0;
	for (int k = 0; k < qt; k++)
		rank[queue[k]] = k + 1;
	for (int s = 0; s < pf->nstates; s++)
	{
		renumbered[rank[s]] = pf->states[s];
		renumbered[rank[s]].fail = rank[pf->states[s].fail];
	}
	free(pf->states);
	pf->states = renumbered;

	/*
	 * The scan's table, one load per byte, each entry also saying whether
	 * the state has outputs (no second load), in its top bit: while no
	 * state has any, the entry is the row's number or offset as it is.
	 * Usually 16-bit entries, the state's number, rows of a power of two
	 * entries (a shift, not a multiply, per byte); with more than 32767
	 * states, 32-bit entries holding the row's offset.  Rows are whole
	 * cache lines and the table aligned on one, so a row's first entries,
	 * the common bytes, share one line.  On the INSERT path the table is seldom in cache: the
	 * smaller it is, the fewer lines a text waits for.
	 */
	if (pf->nstates <= 32767)
	{
		pf->shift = 5;			/* 32 entries, 64 bytes */
		while ((1 << pf->shift) < nc)
			pf->shift++;
		pf->stride = 1 << pf->shift;
		pf->next16 = aligned_alloc(64, (size_t) pf->nstates * pf->stride * sizeof(uint16_t));
		if (pf->next16 == NULL)
			goto fail;
	}
	else
	{
		pf->stride = (nc + 15) & ~15;
		if ((size_t) pf->nstates * pf->stride > WIDE_OUT - 1)
			goto fail;
		pf->next = aligned_alloc(64, (size_t) pf->nstates * pf->stride * sizeof(uint32_t));
		if (pf->next == NULL)
			goto fail;
	}
	for (size_t old = 0; old < (size_t) pf->nstates; old++)
		for (int c = 0; c < pf->stride; c++)
		{
			size_t		st = (size_t) rank[old];
			int32_t		t = rank[c < nc ? pf->delta[old * nc + c] : 0];
			uint32_t	out = pf->states[t].out_count > 0;

			if (pf->next16)
				pf->next16[st * pf->stride + c] = (uint16_t) ((uint32_t) t | (out ? NARROW_OUT : 0));
			else
				pf->next[st * pf->stride + c] = (uint32_t) t * (uint32_t) pf->stride | (out ? WIDE_OUT : 0);
		}
	free(rank);
	free(queue);
	free(pf->delta);
	pf->delta = NULL;
	free(pf->edges);
	pf->edges = NULL;
	free(pf->next_edge);
	pf->next_edge = NULL;
	free(pf->first_edge);
	pf->first_edge = NULL;
	pf->built = 1;
	return 0;

fail:
	free(rank);
	free(queue);
	return -1;
}

#define PREFETCH_STATES 256

/*
 * The scanning functions below take narrow: the 16-bit table's row shift
 * (5 to 8), or 0 for the 32-bit table, always a constant, so each is
 * compiled once per table kind and shift: no test per byte, and the shift
 * an immediate, not a register kept for it.
 */
#define WIDE 0

/* The bit of an entry that says its state has outputs. */
static AG_ALWAYS_INLINE uint32_t
OutBit(const int narrow)
{
	return narrow != WIDE ? NARROW_OUT : WIDE_OUT;
}

/*
 * The entry for byte b from the state entry e leads to, when e's state has
 * no outputs (no bit to take off).
 */
static AG_ALWAYS_INLINE uint32_t
StepQuiet(const AgPrefilter *pf, uint32_t e, unsigned char b, const int narrow)
{
	if (narrow != WIDE)
		return pf->next16[((size_t) e << narrow) + pf->classes[b]];
	return pf->next[(size_t) e + pf->classes[b]];
}

/* The same for any entry e. */
static AG_ALWAYS_INLINE uint32_t
Step(const AgPrefilter *pf, uint32_t e, unsigned char b, const int narrow)
{
	return StepQuiet(pf, e & (OutBit(narrow) - 1), b, narrow);
}

/* The state a table entry e leads to. */
static AG_ALWAYS_INLINE const PfState *
StateOf(const AgPrefilter *pf, uint32_t e, const int narrow)
{
	uint32_t	v = e & (OutBit(narrow) - 1);

	return &pf->states[narrow != WIDE ? v : v / (uint32_t) pf->stride];
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
static AG_ALWAYS_INLINE void
ReportHits(const AgPrefilter *pf, uint32_t e, size_t i, AgPrefilterHitFn fn,
		   void *arg, const int narrow)
{
	const PfState *st = StateOf(pf, e, narrow);

	for (int k = 0; k < st->out_count; k++)
		fn(arg, HitRule(pf, st, k), HitStart(pf, st, k, i), i + 1);
}

/* Runs the automaton over text[i..end) from state e; returns the state. */
static AG_ALWAYS_INLINE uint32_t
ScanRange(const AgPrefilter *pf, const unsigned char *s, size_t i, size_t end,
		  uint32_t e, AgPrefilterHitFn fn, void *arg, const int narrow)
{
	for (; i < end; i++)
	{
		e = Step(pf, e, s[i], narrow);
		if (e & OutBit(narrow))
			ReportHits(pf, e, i, fn, arg, narrow);
	}
	return e;
}

/* Runs the automaton over text[i..end) from state e without reporting. */
static AG_ALWAYS_INLINE uint32_t
Advance(const AgPrefilter *pf, const unsigned char *s, size_t i, size_t end,
		uint32_t e, const int narrow)
{
	for (; i < end; i++)
		e = Step(pf, e, s[i], narrow);
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
static AG_ALWAYS_INLINE int
HoldHits(const AgPrefilter *pf, HeldHits *held, uint32_t e, size_t i,
		 const int narrow)
{
	const PfState *st = StateOf(pf, e, narrow);

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
 * ScanHits' lockstep from step i until a piece's entry has outputs: the
 * four states, the table and the bytes' places in locals, and no test but
 * one per step.  Returns that step (or piece, when none has), made: e[] the
 * states after it.  Only the states after each step are kept, so the
 * states and the pointers fit in registers.
 */
_Static_assert(SEGMENTS == 4, "LockstepQuiet steps four pieces");

static AG_ALWAYS_INLINE size_t
LockstepQuiet(const AgPrefilter *pf, const unsigned char *s, const size_t *base,
			  size_t i, size_t piece, uint32_t *e, const int narrow)
{
	/*
	 * One pointer moves, the pieces' bytes at fixed distances from it
	 * (base[0] is 0): fewer registers than a pointer per piece and an
	 * index, and with them the states stay in registers too.
	 */
	const unsigned char *p = s + i,
			   *stop = s + piece;
	const size_t d1 = base[1],
				d2 = base[2],
				d3 = base[3];

	/* (the states before step i may have outputs, reported already) */
	uint32_t	e0 = e[0] & (OutBit(narrow) - 1),
				e1 = e[1] & (OutBit(narrow) - 1),
				e2 = e[2] & (OutBit(narrow) - 1),
				e3 = e[3] & (OutBit(narrow) - 1);

	for (; p < stop; p++)
	{
		e1 = StepQuiet(pf, e1, p[d1], narrow);
		e2 = StepQuiet(pf, e2, p[d2], narrow);
		e3 = StepQuiet(pf, e3, p[d3], narrow);
		e0 = StepQuiet(pf, e0, p[0], narrow);
		if ((e0 | e1 | e2 | e3) & OutBit(narrow))
			break;
	}
	e[0] = e0;
	e[1] = e1;
	e[2] = e2;
	e[3] = e3;
	return (size_t) (p - s);
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
static AG_ALWAYS_INLINE void
ScanHits(const AgPrefilter *pf, const char *text, size_t len,
		 AgPrefilterHitFn fn, void *arg, const int narrow)
{
	const unsigned char *s = (const unsigned char *) text;
	HeldHits	held[SEGMENTS];
	size_t		base[SEGMENTS],	/* piece g reads byte base[g] + i at step i */
				from[SEGMENTS],	/* its first byte */
				end[SEGMENTS];
	uint32_t	e[SEGMENTS];	/* each piece's table entry (see Step) */
	size_t		piece,
				i;
	int			stopped = SEGMENTS;	/* pieces before it made step i */

	if (len < SEGMENTS * (2 * pf->maxdepth + 256))
	{
		ScanRange(pf, s, 0, len, 0, fn, arg, narrow);
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
		/*
		 * Steps where no piece meets a keyword, most of them, in locals
		 * the compiler keeps in registers, up to and with the step where
		 * one does; its hits are taken here
		 */
		i = LockstepQuiet(pf, s, base, i, piece, e, narrow);
		if (i == piece)
			break;
#pragma GCC unroll 4
		for (int g = 1; g < SEGMENTS; g++)
		{
			size_t		j = base[g] + i;

			if ((e[g] & OutBit(narrow)) && j >= from[g] &&
				!HoldHits(pf, &held[g], e[g], j, narrow))
			{
				stopped = g;
				break;
			}
		}
		if (stopped < SEGMENTS)
		{
			/*
			 * A piece is full: finish each alone, piece 0 and those from
			 * the full one on from step i, their states before it made
			 * again from their starts (a piece holds 256 hits: seldom).
			 */
			e[0] = Advance(pf, s, 0, i, 0, narrow);
			for (int g = stopped; g < SEGMENTS; g++)
				e[g] = Advance(pf, s, base[g], base[g] + i, 0, narrow);
			break;
		}
		if (e[0] & OutBit(narrow))
			ReportHits(pf, e[0], i, fn, arg, narrow);
	}
	ScanRange(pf, s, i, end[0], e[0], fn, arg, narrow);
	for (int g = 1; g < SEGMENTS; g++)
	{
		size_t		j = base[g] + i + (g < stopped && stopped < SEGMENTS);

		for (int k = 0; k < held[g].n; k++)
			fn(arg, held[g].hit[k].rule, held[g].hit[k].start, held[g].hit[k].end);
		if (j < from[g])
		{
			e[g] = Advance(pf, s, j, from[g], e[g], narrow);
			j = from[g];
		}
		ScanRange(pf, s, j, end[g], e[g], fn, arg, narrow);
	}
}

/*
 * The first cache line of the rows of the PREFETCH_STATES shallowest states
 * (the common bytes' entries; see NumberClassesByUse), asked for without
 * waiting.
 */
void
AgPrefilterPrefetch(const AgPrefilter *pf)
{
	if (!pf->built)
		return;
	size_t		row = (size_t) pf->stride * (pf->next16 ? sizeof(uint16_t) : sizeof(uint32_t));
	size_t		n = pf->nstates < PREFETCH_STATES ? (size_t) pf->nstates : PREFETCH_STATES;
	const char *base = pf->next16 ? (const char *) pf->next16 : (const char *) pf->next;

	for (size_t s = 0; s < n; s++)
		__builtin_prefetch(base + s * row, 0, 3);
}

void
AgPrefilterScanHits(const AgPrefilter *pf, const char *text, size_t len,
					AgPrefilterHitFn fn, void *arg)
{
	if (!pf->built || pf->nstates <= 1)
		return;
	switch (pf->next16 ? pf->shift : WIDE)
	{
		case 5:
			ScanHits(pf, text, len, fn, arg, 5);
			break;
		case 6:
			ScanHits(pf, text, len, fn, arg, 6);
			break;
		case 7:
			ScanHits(pf, text, len, fn, arg, 7);
			break;
		case 8:
			ScanHits(pf, text, len, fn, arg, 8);
			break;
		default:
			ScanHits(pf, text, len, fn, arg, WIDE);
			break;
	}
}

size_t
AgPrefilterMemoryBytes(const AgPrefilter *pf)
{
	return sizeof(*pf) + (size_t) pf->capstates * (sizeof(PfState) + sizeof(int)) +
		(size_t) pf->nstates * pf->stride * (pf->next16 ? sizeof(uint16_t) : sizeof(uint32_t)) +
		(size_t) pf->nouts * sizeof(int) + (size_t) pf->capraw * 2 * sizeof(int);
}

void
AgPrefilterFree(AgPrefilter *pf)
{
	if (pf == NULL)
		return;
	free(pf->states);
	free(pf->edges);
	free(pf->next_edge);
	free(pf->first_edge);
	free(pf->raw_out);
	free(pf->raw_next);
	free(pf->raw_rule);
	free(pf->delta);
	free(pf->next);
	free(pf->next16);
	free(pf->outs);
	free(pf);
}
