/*
 * ag_model.c
 *	  Hashed n-gram features and a logistic linear model.
 *
 * Features of a normalised text, all from one pass over its code points:
 *
 *  - words (runs of letters and digits; every CJK ideograph or kana is a
 *    word of its own, since those scripts do not separate words) and word
 *    bigrams (sentence punctuation breaks them, spaces do not);
 *  - character 3- and 5-grams over the text with punctuation and spaces
 *    kept;
 *  - binned statistics of whitespace-delimited tokens: of "odd" tokens,
 *    those with two or more code/markup punctuation characters
 *    ([]{}()<>\|`^~=$#@%*_+), their share of all tokens, and their number
 *    among the last TAIL_TOKENS tokens; the same number again when those
 *    tokens are on one line after a first HEAD_TOKENS free of odd ones; and
 *    the number of unbalanced brackets (for texts of at least
 *    MIN_STAT_TOKENS tokens).
 *
 * (Token shapes, "textit{[newcommand" as "a{[a", and pairs of them were
 * features too until November 2026: out of fold they made no difference
 * once the statistics above existed, 89.79% recall with them and 89.66%
 * without at 0.70% false positives, 87.61% and 88.07% at 0.5%, and they
 * were a seventh of the features.)
 *
 * The statistics target machine-made adversarial suffixes (GCG and kin: a
 * plain harmful request followed by punctuation-laden gibberish), which
 * word features cannot tell from the same request without a suffix, a
 * negative in training.  Hashes are cheap multiply-adds over code points
 * (FNV-1a over the bytes for words; a gate's words eight bytes at a time,
 * GateWordHash), finished by one mixing step.
 *
 * Each distinct feature is hashed into one of nbuckets and counted once;
 * values are 1/sqrt(distinct features) so long and short texts are on the
 * same scale, but with a floor (AG_FEAT_NORM_FLOOR, see ag_model.h) so the
 * few features of a very short text do not get extreme values; statistics
 * get AG_FEAT_STAT_VALUE times that.  Any change here changes every score:
 * retrain (make train-model).  The model is a weight per bucket and a bias,
 * trained by
 * tools/ag_train.c from labelled data; its text format is
 *
 *     aiguard-model 1
 *     name <name>
 *     buckets <power of two>
 *     bias <float>
 *     threshold <probability>
 *     <bucket> <weight>        (one line per non-zero weight)
 *
 * Loaded, the weights become 8-bit integers times one scale (see
 * AgQuantizeWeights): a quarter of the memory, and exact integer sums.
 */
#include "ag_model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_normalize.h"
#include "ag_util.h"

/*
 * A statistic is one feature standing for many tokens: worth more than one
 * n-gram.  2 let it move the score of a short suffixed request without
 * making every harmful question with a stray bracket suspicious.
 */
#define AG_FEAT_STAT_VALUE 2.0f

#define GRAM_MUL UINT64_C(0x9E3779B97F4A7C15)
#define MAX_WORD_BYTES 40
#define TAIL_TOKENS 16
/*
 * The token statistics need this many tokens: a share of odd tokens among
 * three is noise, and with it alone "[]", "**" or "<div>Hello</div>" scored
 * as jailbreaks; an adversarial suffix is a request and a dozen tokens.
 */
#define MIN_STAT_TOKENS 12
#define HEAD_TOKENS 8

/*
 * Extraction: the text is read once, code point by code point.
 *
 * The same code serves two callers: AgFeaturesExtract, which records every
 * feature with its kind and span (training, and the top terms of a text
 * the model reports), and AgModelScoreText, which needs only the buckets,
 * in the same order, to score a text.  Both are instances of one inline
 * function (Extract1 below, full = 1 or 0), so they cannot disagree.
 *
 * Extract1 keeps its state in locals (a Sink for where features go, a Lex
 * for words and tokens) that no pointer outside it can reach: were they
 * behind the caller's pointer, every bucket stored would oblige the
 * compiler to read them again from memory, since a uint32_t store may
 * change any uint32_t.
 */
typedef struct Sink
{
	uint32_t	mask;
	uint32_t   *seen;			/* bitmap over all buckets */
	AgFeature  *f;				/* full: the features */
	uint32_t   *b;				/* otherwise: only their buckets ... */
	size_t		bcap;			/* ... this many at a time */
	const int8_t *weights;		/* (the model's) */
	size_t		n;
	/* scoring: weights of the distinct features so far, plain and stats */
	int64_t		sum[2];
	size_t		ndistinct;
	int			flushed;		/* b was emptied before the end */
	int			no_bigrams;		/* words only, no word bigrams (a gate's choice) */
} Sink;

typedef struct Lex
{
	/* word in progress and the one before it (for bigrams) */
	int			inword;
	uint32_t	wstart;
	uint64_t	wh;				/* its hash (a gate's: set when it ends) */
	int			have_prev;
	uint64_t	prevh;
	uint32_t	prevoff;
	/* whitespace-delimited token in progress */
	int			intok;
	int			tpunct;
	/* token statistics */
	uint32_t	ntok;
	uint32_t	nodd;
	uint32_t	tailodd;		/* one bit per token of the last TAIL_TOKENS */
	uint32_t	tailnl;			/* likewise: a line break came before it */
	uint32_t	headodd;		/* odd tokens among the first HEAD_TOKENS */
	int			nlpending;		/* a line break since the last token */
	int			toknl;			/* one came before the token in progress */
	uint32_t	open;			/* ( [ { not closed yet: 10 bits per kind */
	uint32_t	unmatched;		/* ) ] } with no opener */
	size_t		len;			/* the text's length */
} Lex;


/*
 * Adds a feature.  Training (full) keeps it unless its bucket is already
 * in: a bitmap over all buckets, one bit test; only the bits that were set
 * get cleared after the text, never the whole map.  Branch-free: the entry
 * is written at n whatever, and n moves on only for a new bucket; returns
 * the new n (kept in a register by the caller).  The caller has reserved
 * room for every feature the text can yield.
 *
 * Scoring only appends the bucket: testing the bitmap here would make
 * where the next bucket goes wait for this bucket's bit, a chain of loads
 * through the whole text.  SumDistinct does the test later, in a loop where
 * nothing waits for it.  Except a gate's (sum_now): its weights and bitmap
 * are small enough to stay in the nearest cache, and its features few
 * enough that the chain costs less than storing them and reading them
 * back; they are summed here, n stays where it is.
 */
static AG_ALWAYS_INLINE size_t
AddFeature(Sink *k, size_t n, uint64_t h, uint8_t kind, uint32_t off,
		   uint32_t len, float value, const int full, const int sum_now)
{
	uint32_t	bucket;

	/* the low bits of a multiplicative hash are weak: mix first */
	h ^= h >> 32;
	h *= UINT64_C(0xd6e8feb86659fd93);
	h ^= h >> 32;
	bucket = (uint32_t) h & k->mask;

	if (full)
	{
		uint32_t   *word = &k->seen[bucket >> 5];
		uint32_t	bit = UINT32_C(1) << (bucket & 31);
		uint32_t	old = *word;
		AgFeature  *f = &k->f[n];

		f->bucket = bucket;
		f->value = value;
		f->off = off;
		f->len = len;
		f->kind = kind;
		*word = old | bit;
		return n + ((old & bit) == 0);
	}
	if (sum_now)
	{
		uint32_t   *word = &k->seen[bucket >> 5];
		uint32_t	bit = UINT32_C(1) << (bucket & 31);
		uint32_t	old = *word;
		uint32_t	isnew = (old & bit) == 0;

		*word = old | bit;
		k->ndistinct += isnew;
		k->sum[0] += (int64_t) k->weights[bucket] & -(int64_t) isnew;
		return n;
	}

	/*
	 * SumDistinct reads the bucket's weight and its bit in the bitmap,
	 * both all over large arrays that the rest of an INSERT pushes out of
	 * cache: ask for them now, so they are in by then (a prefetch, unlike
	 * a load, does not hold up the work that follows).
	 */
	k->b[n] = bucket;
	__builtin_prefetch(&k->weights[bucket], 0, 2);
	__builtin_prefetch(&k->seen[bucket >> 5], 1, 3);
	return n + 1;
}

/*
 * Scoring: of the buckets b[from..to), adds up the weights of those not
 * seen before in this text (sum[0] for plain features, sum[1] for
 * statistics) and counts them.  Integer sums, so the order does not matter.
 */
static void
SumDistinct(Sink *k, size_t from, size_t to, int stat)
{
	const uint32_t *b = k->b;
	const int8_t *w = k->weights;
	uint32_t   *seen = k->seen;
	int64_t		sum = 0;
	size_t		nd = 0;

	for (size_t i = from; i < to; i++)
	{
		uint32_t	bucket = b[i];
		uint32_t   *word = &seen[bucket >> 5];
		uint32_t	bit = UINT32_C(1) << (bucket & 31);
		uint32_t	old = *word;
		uint32_t	isnew = (old & bit) == 0;

		*word = old | bit;
		nd += isnew;
		sum += (int64_t) w[bucket] & -(int64_t) isnew;
	}
	k->sum[stat] += sum;
	k->ndistinct += nd;
}

/*
 * Scoring, when b is nearly full: sums what it holds and starts it again
 * (the bitmap keeps the buckets seen).  Room for the most features one code
 * point can add: two n-grams and two words of two features (an ideograph
 * ends the word before it and is one); 8 leaves room to spare.
 */
#define MAX_FEATURES_PER_CP 8
#define STAT_FEATURES 16		/* see the end of Extract1 */

static size_t
FlushBuckets(Sink *k, size_t n)
{
	SumDistinct(k, 0, n, 0);
	k->flushed = 1;
	return 0;
}

/*
 * A gate's word hash, from the word's bytes eight at a time (little-endian,
 * the last piece zero-padded), seeded with its length: a gate has only
 * words (and bigrams), and a word of up to eight bytes costs one multiply
 * here where FNV-1a (the full model's words) costs one per byte.  room:
 * the bytes readable from w on (the rest of the text); nothing past the
 * word changes the hash.
 */
#define GATE_WORD_MUL UINT64_C(0xff51afd7ed558ccd)

/* The n (at most 8) bytes at p as a little-endian number, byte by byte. */
static AG_ALWAYS_INLINE uint64_t
LoadLittleBytes(const unsigned char *p, uint32_t n)
{
	uint64_t	v = 0;

	for (uint32_t j = n; j > 0; j--)
		v = (v << 8) | p[j - 1];
	return v;
}

/* The same for 8 bytes, one load where the byte order allows. */
static AG_ALWAYS_INLINE uint64_t
LoadLittle64(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
#else
	/* any other byte order, or none the compiler tells */
	return LoadLittleBytes(p, 8);
#endif
}

/* The low n bytes of a 64-bit piece (n < 8). */
static const uint64_t gate_piece_mask[8] = {
	0, UINT64_C(0xff), UINT64_C(0xffff), UINT64_C(0xffffff),
	UINT64_C(0xffffffff), UINT64_C(0xffffffffff), UINT64_C(0xffffffffffff),
	UINT64_C(0xffffffffffffff),
};

static AG_ALWAYS_INLINE uint64_t
GateWordHash(const unsigned char *w, uint32_t wlen, size_t room)
{
	uint64_t	h = (AG_FNV_OFFSET ^ 1) + (uint64_t) wlen * GRAM_MUL;
	uint32_t	off = 0;

	/* most words: one piece, read at once (the loop's tests, skipped) */
	if (wlen < 8 && room >= 8)
		return (h ^ (LoadLittle64(w) & gate_piece_mask[wlen])) * GATE_WORD_MUL;
	for (; off + 8 <= wlen; off += 8)
	{
		h = (h ^ LoadLittle64(w + off)) * GATE_WORD_MUL;
		h ^= h >> 29;
	}
	if (off < wlen)
	{
		uint32_t	rest = wlen - off;
		uint64_t	c = room >= (size_t) off + 8 ?
			LoadLittle64(w + off) & gate_piece_mask[rest] :
			LoadLittleBytes(w + off, rest);

		h = (h ^ c) * GATE_WORD_MUL;
	}
	return h;
}

/*
 * What a words-only reading hashes words for (the words_only argument of
 * the functions below; 0 is every feature, words with the model's hash):
 * a gate (GateWordHash), or the model itself (its byte-by-byte FNV-1a,
 * which Extract1 keeps up as a word goes, taken at the word's end).
 */
#define WORDS_GATE 1
#define WORDS_MODEL 2

static AG_ALWAYS_INLINE size_t
EndWordAt(Sink *k, Lex *x, size_t n, const unsigned char *s, uint32_t end,
		  const int full, const int words_only, const int roomy)
{
	uint32_t	wlen = end - x->wstart;

	x->inword = 0;
	if (wlen > MAX_WORD_BYTES)
	{
		x->have_prev = 0;
		return n;
	}
	/*
	 * roomy: eight bytes past the word's end can be read (ExtractWords
	 * knows it for a whole block), so no piece needs the room tested
	 */
	if (words_only == WORDS_GATE)
		x->wh = GateWordHash(s + x->wstart, wlen,
							 roomy ? (size_t) wlen + 8 : x->len - x->wstart);
	else if (words_only == WORDS_MODEL)
		x->wh = AgFnv1a(AG_FNV_OFFSET ^ 1, s + x->wstart, wlen);
	n = AddFeature(k, n, x->wh, AG_FEAT_WORD, x->wstart, wlen, 1.0f, full,
				   words_only && !full);
	if (x->have_prev && !k->no_bigrams)
		n = AddFeature(k, n, (x->prevh ^ 2) * GRAM_MUL + x->wh, AG_FEAT_BIGRAM,
					   x->prevoff, end - x->prevoff, 1.0f, full, words_only && !full);
	x->prevh = x->wh;
	x->prevoff = x->wstart;
	x->have_prev = 1;
	return n;
}

static AG_ALWAYS_INLINE size_t
EndWord(Sink *k, Lex *x, size_t n, const unsigned char *s, uint32_t end,
		const int full, const int words_only)
{
	return EndWordAt(k, x, n, s, end, full, words_only, 0);
}

/* A token ends: its statistics (it yields no feature of its own). */
static AG_ALWAYS_INLINE void
EndToken(Lex *x)
{
	x->intok = 0;
	x->ntok++;
	x->tailodd <<= 1;
	x->tailnl = (x->tailnl << 1) | (uint32_t) x->toknl;
	if (x->tpunct >= 2)
	{
		x->nodd++;
		x->tailodd |= 1;
		x->headodd += x->ntok <= HEAD_TOKENS;
	}
}

/* ASCII letters and digits: word characters without a utf8proc call */
static const unsigned char ascii_word[128] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
};

/*
 * ASCII punctuation of code and markup rather than of prose: a word with two
 * of these ("](/", "{\\!", "`[newcommand") is rare in prompts people write
 * and common in machine-made adversarial suffixes.  Bit 0 says so; brackets
 * also carry their kind above it (BRACKET_OPEN + 0..2 for ( [ {,
 * BRACKET_CLOSE + 0..2 for ) ] }), for the count of unbalanced ones.  The
 * white space that ends a token is TOKEN_BREAK, so one look-up serves both.
 */
#define BRACKET_OPEN 1
#define BRACKET_CLOSE 4
#define BR(kind) (1 | ((kind) << 1))
#define TOKEN_BREAK 0x80
static const unsigned char code_punct[128] = {
	[' '] = TOKEN_BREAK, ['\n'] = TOKEN_BREAK, ['\t'] = TOKEN_BREAK, ['\r'] = TOKEN_BREAK,
	['('] = BR(BRACKET_OPEN), ['['] = BR(BRACKET_OPEN + 1),
	['{'] = BR(BRACKET_OPEN + 2), [')'] = BR(BRACKET_CLOSE),
	[']'] = BR(BRACKET_CLOSE + 1), ['}'] = BR(BRACKET_CLOSE + 2),
	['<'] = 1, ['>'] = 1, ['\\'] = 1, ['|'] = 1, ['`'] = 1, ['^'] = 1,
	['~'] = 1, ['='] = 1, ['$'] = 1, ['#'] = 1, ['@'] = 1, ['%'] = 1,
	['*'] = 1, ['_'] = 1, ['+'] = 1,
};

/* Powers of GRAM_MUL, for the n-gram hashes in closed form (mod 2^64). */
#define GRAM_MUL2 (GRAM_MUL * GRAM_MUL)
#define GRAM_MUL3 (GRAM_MUL2 * GRAM_MUL)
#define GRAM_MUL4 (GRAM_MUL3 * GRAM_MUL)
#define GRAM_MUL5 (GRAM_MUL4 * GRAM_MUL)
#define GRAM_MUL6 (GRAM_MUL5 * GRAM_MUL)

/*
 * Room for every feature of a text of len bytes: per code point at most
 * two character n-grams and two words (each with its bigram), plus the
 * statistics; and never more than one per bucket.
 */
static size_t
MaxFeatures(size_t len, uint32_t nbuckets)
{
	size_t		n = 6 * len + 16;

	return n < (size_t) nbuckets + 1 ? n : (size_t) nbuckets + 1;
}

static int
PrepareSeen(AgFeatures *fv, uint32_t nbuckets)
{
	size_t		words = (nbuckets + 31) / 32;

	if (fv->seencap < words)
	{
		uint32_t   *ns = realloc(fv->seen, words * sizeof(uint32_t));

		if (ns == NULL)
			return -1;
		memset(ns + fv->seencap, 0, (words - fv->seencap) * sizeof(uint32_t));
		fv->seen = ns;
		fv->seencap = words;
	}
	return 0;
}

/* The last five code points and their offsets, for the n-grams. */
typedef struct Grams
{
	uint32_t	p1,
				p2,
				p3,
				p4,
				p5;				/* p1 the latest (zeros before the text) */
	uint32_t	q1,
				q2,
				q3,
				q4,
				q5;
	unsigned	ncp;
	unsigned	ascii_run;		/* the latest code points in a row that are ASCII */
	uint64_t	sum3;			/* a M^3 + b M^2 + c M over the last three */
	uint64_t	sum5;			/* likewise over the last five */
} Grams;

/*
 * gram_term[c][k] = c M^(k + 1): an ASCII byte's term in an n-gram's hash
 * when it is k places before the n-gram's last byte.  In a run of ASCII
 * the n-grams' hashes are sums of these, straight from the bytes.
 */
#define GT(c) {(uint64_t) (c) * GRAM_MUL, (uint64_t) (c) * GRAM_MUL2, \
		(uint64_t) (c) * GRAM_MUL3, (uint64_t) (c) * GRAM_MUL4, (uint64_t) (c) * GRAM_MUL5}
#define GT8(c) GT(c), GT(c + 1), GT(c + 2), GT(c + 3), GT(c + 4), GT(c + 5), \
		GT(c + 6), GT(c + 7)
static const uint64_t gram_term[128][5] = {
	GT8(0), GT8(8), GT8(16), GT8(24), GT8(32), GT8(40), GT8(48), GT8(56),
	GT8(64), GT8(72), GT8(80), GT8(88), GT8(96), GT8(104), GT8(112), GT8(120),
};
#undef GT8
#undef GT

/*
 * Grams' sum3 and sum5 for the ASCII bytes ending at s[i] (the five before
 * and at i are ASCII): one formula for the run loop and for setting the
 * window up again after it.
 */
static AG_ALWAYS_INLINE uint64_t
AsciiSum3(const unsigned char *s, size_t i)
{
	return gram_term[s[i - 2]][2] + gram_term[s[i - 1]][1] + gram_term[s[i]][0];
}

static AG_ALWAYS_INLINE uint64_t
AsciiSum5(const unsigned char *s, size_t i, uint64_t sum3)
{
	return sum3 + gram_term[s[i - 4]][4] + gram_term[s[i - 3]][3];
}

static AG_ALWAYS_INLINE size_t
StepLex(Sink *k, Lex *x, size_t n, const unsigned char *s,
		uint32_t i, int32_t cp, int cplen, int isword, const int ascii,
		const int full, const int words_only);

/*
 * The features one code point cp (cplen bytes at offset i) completes.
 * ascii: cp < 0x80, known to the compiler, which then drops the tests that
 * only other code points can pass (the loop has one instance for each).
 *
 * Hashes: a character 3-gram a b c hashes to (((3 + a) M + b) M + c) M,
 * a 5-gram likewise from 5; kept here in closed form, the sum of the last
 * code points times powers of M, updated as the window slides (the same
 * numbers mod 2^64, without refolding every window).
 */
static AG_ALWAYS_INLINE size_t
Step(Sink *k, Lex *x, Grams *g, size_t n, const unsigned char *s,
	 uint32_t i, int32_t cp, int cplen, int isword, const int ascii,
	 const int full)
{
	/*
	 * character 3- and 5-grams, punctuation and spaces included; hashed
	 * from code points, multiply-add per code point
	 */
	uint64_t	cm = (uint64_t) (uint32_t) cp * GRAM_MUL;

	g->sum3 = g->sum3 * GRAM_MUL - (uint64_t) g->p3 * GRAM_MUL4 + cm;
	g->sum5 = g->sum5 * GRAM_MUL - (uint64_t) g->p5 * GRAM_MUL6 + cm;
	g->p5 = g->p4, g->p4 = g->p3, g->p3 = g->p2, g->p2 = g->p1, g->p1 = (uint32_t) cp;
	g->q5 = g->q4, g->q4 = g->q3, g->q3 = g->q2, g->q2 = g->q1, g->q1 = i;
	g->ncp++;
	if (g->ncp >= 3)
	{
		n = AddFeature(k, n, g->sum3 + 3 * GRAM_MUL3, AG_FEAT_CHAR3, g->q3,
					   i + cplen - g->q3, 1.0f, full, 0);
		if (g->ncp >= 5)
			n = AddFeature(k, n, g->sum5 + 5 * GRAM_MUL5, AG_FEAT_CHAR5, g->q5,
						   i + cplen - g->q5, 1.0f, full, 0);
	}
	return StepLex(k, x, n, s, i, cp, cplen, isword, ascii, full, 0);
}

/*
 * Brackets opened and not closed, and closed without an opener.  The open
 * counts are fields of one integer, not an array: an array indexed at run
 * time would keep the whole Lex in memory instead of in registers.
 */
#define OPEN_BITS 10
#define OPEN_MAX ((UINT32_C(1) << OPEN_BITS) - 1)

static AG_ALWAYS_INLINE void
CountBracket(Lex *x, int kind)
{
	int			shift;

	if (kind < BRACKET_CLOSE)
	{
		shift = OPEN_BITS * (kind - BRACKET_OPEN);
		if (((x->open >> shift) & OPEN_MAX) < OPEN_MAX)
			x->open += UINT32_C(1) << shift;
		return;
	}
	shift = OPEN_BITS * (kind - BRACKET_CLOSE);
	if (((x->open >> shift) & OPEN_MAX) > 0)
		x->open -= UINT32_C(1) << shift;
	else
		x->unmatched++;
}

/* The word and bigram features one code point completes; token statistics. */
static AG_ALWAYS_INLINE size_t
StepLex(Sink *k, Lex *x, size_t n, const unsigned char *s,
		uint32_t i, int32_t cp, int cplen, int isword, const int ascii,
		const int full, const int words_only)
{
	/* words: letter/digit runs; each CJK ideograph or kana alone */
	if (!ascii && isword && cp >= 0x1100 && AgIsIdeographCp(cp))
	{
		if (x->inword)
			n = EndWord(k, x, n, s, i, full, words_only);
		x->inword = 1;
		x->wstart = i;
		if (!words_only)
			x->wh = AgFnv1a(AG_FNV_OFFSET ^ 1, s + i, cplen);
		n = EndWord(k, x, n, s, i + cplen, full, words_only);
	}
	else if (isword)
	{
		if (!x->inword)
		{
			x->inword = 1;
			x->wstart = i;
			x->wh = AG_FNV_OFFSET ^ 1;
		}
		if (!words_only)
			x->wh = AgFnv1a(x->wh, s + i, ascii ? 1 : cplen);
	}
	else
	{
		if (x->inword)
			n = EndWord(k, x, n, s, i, full, words_only);
		/* sentence punctuation breaks bigrams, spaces do not */
		if (cp != ' ')
			x->have_prev = 0;
	}

	if (words_only)
		return n;

	/*
	 * whitespace-delimited tokens, for the statistics (white space is
	 * ASCII after normalisation)
	 */
	int			punct = ascii ? code_punct[cp] : 0;	/* 0 for letters and digits */

	if (punct == TOKEN_BREAK)
	{
		if (x->intok)
			EndToken(x);
		x->nlpending |= cp == '\n';
	}
	else
	{
		if (!x->intok)
		{
			x->toknl = x->nlpending;
			x->nlpending = 0;
			x->intok = 1;
			x->tpunct = 0;
		}
		x->tpunct += punct & 1;
		if (punct > 1)
			CountBracket(x, punct >> 1);
	}
	return n;
}

/*
 * Words only (a gate's features): StepLex's words and bigrams (or words
 * alone), in the same order, without a look at each byte.  Sixteen bytes
 * at a time make a 64-byte block; one look at it says which bytes are word
 * bytes (ASCII letters and digits) and which are neither that nor a space
 * (they break bigrams).  Words start where a word byte follows another byte and end
 * at the first byte that is not one: two bit masks, read in order with
 * one count of trailing zeros per word; the words whose bigram punctuation
 * breaks come from a third mask, in one addition for the block
 * (WordsBlock).  A word is hashed when it ends (GateWordHash; a word under
 * eight bytes in one load when the block is not near the text's end).  A
 * block stops at its first byte from 0x80 up: a letter such as é may go on
 * with the word before it, so such a code point, and the last bytes of the
 * text that fill no block, go through StepLex one at a time, the word
 * still open.
 *
 * (Until November 2026 the blocks were sixteen bytes, in Extract1's loop:
 * a gate's scoring took 7% more instructions; until late 27 November each start
 * looked for punctuation below it, and each word's hash tested the room
 * left: 11% more.  Most of what is left, about 145 instructions per word,
 * is the word's hash and the two features' buckets, bitmap and weights,
 * with the sums kept in memory for want of registers.  Finding all the
 * words of a chunk, or of a block, first and adding their features in a
 * loop of their own was tried, and was slower, 8% for a block; so was one
 * sum for both weights and count.)
 */
#ifdef __SSE2__
static AG_ALWAYS_INLINE size_t
WordsBlock(Sink *k, Lex *x, size_t n, const unsigned char *s, size_t i,
		   uint64_t valid, uint64_t word, uint64_t other, const int full,
		   const int words, const int roomy)
{
	uint64_t	before = (word << 1) | (uint64_t) (x->inword != 0);
	uint64_t	starts = word & ~before;
	uint64_t	ends = ~word & before & valid;

	/*
	 * Sentence punctuation (other) breaks bigrams, spaces do not.  breaks:
	 * the word starts with such a byte between them and the start before
	 * (or the block's start), for all of them at once.  In ~starts + other,
	 * an other bit's carry runs up through the ones of ~starts and stops
	 * at the next start, a zero there, which it sets.  Punctuation after
	 * the block's last start breaks the next block's first bigram.
	 */
	uint64_t	breaks = (~starts + other) & starts;
	int			tail_break = starts != 0 ?
		(other >> (63 - __builtin_clzll(starts))) != 0 : other != 0;

	for (;;)
	{
		if (x->inword)
		{
			if (ends == 0)
				break;			/* the word goes on past the block */
			n = EndWordAt(k, x, n, s, (uint32_t) (i + (unsigned) __builtin_ctzll(ends)),
						  full, words, roomy);
			ends &= ends - 1;
		}
		if (starts == 0)
			break;

		uint64_t	first = starts & -starts;

		if (breaks & first)
			x->have_prev = 0;
		starts ^= first;
		x->inword = 1;
		x->wstart = (uint32_t) (i + (unsigned) __builtin_ctzll(first));
	}
	if (tail_break)
		x->have_prev = 0;
	return n;
}

/* The 16 bits of v's bytes that are ASCII letters or digits */
static AG_ALWAYS_INLINE uint64_t
WordBits(__m128i v)
{
	__m128i		letter = AgBytesIn(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');

	return (uint64_t) (unsigned) _mm_movemask_epi8(_mm_or_si128(letter, AgBytesIn(v, '0', '9')));
}

static AG_ALWAYS_INLINE uint64_t
SpaceBits(__m128i v)
{
	return (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
}
#endif

static AG_ALWAYS_INLINE size_t
ExtractWords(Sink *sink, const unsigned char *s, size_t len, const int full,
			 const int words)
{
	Sink		k = *sink;
	Lex			x;
	size_t		n = k.n;
	size_t		i = 0;

	memset(&x, 0, sizeof(x));
	x.len = len;
	while (i < len)
	{
#ifdef __SSE2__
		if (len - i >= 64)
		{
			__m128i		v0 = _mm_loadu_si128((const __m128i *) (s + i));
			__m128i		v1 = _mm_loadu_si128((const __m128i *) (s + i + 16));
			__m128i		v2 = _mm_loadu_si128((const __m128i *) (s + i + 32));
			__m128i		v3 = _mm_loadu_si128((const __m128i *) (s + i + 48));
			uint64_t	high = (uint64_t) (unsigned) _mm_movemask_epi8(v0) |
				(uint64_t) (unsigned) _mm_movemask_epi8(v1) << 16 |
				(uint64_t) (unsigned) _mm_movemask_epi8(v2) << 32 |
				(uint64_t) (unsigned) _mm_movemask_epi8(v3) << 48;
			unsigned	limit = high != 0 ? (unsigned) __builtin_ctzll(high) : 64;

			if (limit > 0)
			{
				/* (the signed compares in WordBits are right for ASCII) */
				uint64_t	valid = limit == 64 ? ~UINT64_C(0) :
					(UINT64_C(1) << limit) - 1;
				uint64_t	word = (WordBits(v0) | WordBits(v1) << 16 |
									WordBits(v2) << 32 | WordBits(v3) << 48) & valid;
				uint64_t	space = SpaceBits(v0) | SpaceBits(v1) << 16 |
					SpaceBits(v2) << 32 | SpaceBits(v3) << 48;

				/* every word ending in the block ends by i + 64 */
				if (len - i >= 64 + 8)
					n = WordsBlock(&k, &x, n, s, i, valid, word, ~(word | space) & valid,
								   full, words, 1);
				else
					n = WordsBlock(&k, &x, n, s, i, valid, word, ~(word | space) & valid,
								   full, words, 0);
				i += limit;
				continue;
			}
		}
#endif
		if (s[i] < 0x80)
		{
			n = StepLex(&k, &x, n, s, (uint32_t) i, s[i], 1, ascii_word[s[i]], 1,
						full, words);
			i++;
		}
		else
		{
			int32_t		cp;
			int			cplen = AgUtf8Decode(s + i, len - i, &cp);

			n = StepLex(&k, &x, n, s, (uint32_t) i, cp, cplen, AgIsWordCp(cp), 0,
						full, words);
			i += cplen;
		}
	}
	if (x.inword)
		n = EndWord(&k, &x, n, s, (uint32_t) len, full, words);
	k.n = n;
	*sink = k;
	return n;
}

/* A statistics feature: no span, worth AG_FEAT_STAT_VALUE. */
static AG_ALWAYS_INLINE size_t
AddStat(Sink *k, size_t n, uint64_t h, const int full)
{
	return AddFeature(k, n, h, AG_FEAT_STAT, 0, 0, AG_FEAT_STAT_VALUE, full, 0);
}

/*
 * The features of s, in order, into the sink; returns the index of the
 * first statistics feature (they come last).
 */
static AG_ALWAYS_INLINE size_t
Extract1(Sink *sink, const unsigned char *s, size_t len, const int full)
{
	Sink		k = *sink;
	Lex			x;
	Grams		g;
	size_t		n = k.n;
	size_t		i = 0;

	memset(&x, 0, sizeof(x));
	memset(&g, 0, sizeof(g));
	x.len = len;
	while (i < len)
	{
		/*
		 * Scoring keeps room in b for the code points up to stop (each adds
		 * at most MAX_FEATURES_PER_CP and takes a byte or more), so the
		 * loop below need not look.
		 */
		size_t		stop = len;

		if (!full)
		{
			if (n + MAX_FEATURES_PER_CP > k.bcap)
				n = FlushBuckets(&k, n);
			if ((k.bcap - n) / MAX_FEATURES_PER_CP < len - i)
				stop = i + (k.bcap - n) / MAX_FEATURES_PER_CP;
		}
		while (i < stop)
		{
			if (s[i] < 0x80 && g.ascii_run >= 4)
			{
				/*
				 * In a run of ASCII, with the four code points before it
				 * ASCII too, each byte ends a 3-gram and a 5-gram whose
				 * hashes are sums of gram_term (Step's numbers, without
				 * its sliding window); the window is set up again after.
				 */
				size_t		from = i;

				for (; i < stop && s[i] < 0x80; i++)
				{
					uint64_t	h3 = AsciiSum3(s, i);
					uint64_t	h5 = AsciiSum5(s, i, h3);

					n = AddFeature(&k, n, h3 + 3 * GRAM_MUL3, AG_FEAT_CHAR3,
								   (uint32_t) i - 2, 3, 1.0f, full, 0);
					n = AddFeature(&k, n, h5 + 5 * GRAM_MUL5, AG_FEAT_CHAR5,
								   (uint32_t) i - 4, 5, 1.0f, full, 0);
					n = StepLex(&k, &x, n, s, (uint32_t) i, s[i], 1,
								ascii_word[s[i]], 1, full, 0);
				}
				g.ncp += (unsigned) (i - from);
				g.ascii_run += (unsigned) (i - from);
				g.p1 = s[i - 1], g.p2 = s[i - 2], g.p3 = s[i - 3];
				g.p4 = s[i - 4], g.p5 = s[i - 5];
				g.q1 = (uint32_t) i - 1, g.q2 = (uint32_t) i - 2;
				g.q3 = (uint32_t) i - 3, g.q4 = (uint32_t) i - 4;
				g.q5 = (uint32_t) i - 5;
				g.sum3 = AsciiSum3(s, i - 1);
				g.sum5 = AsciiSum5(s, i - 1, g.sum3);
			}
			else if (s[i] < 0x80)
			{
				int32_t		cp = s[i];

				n = Step(&k, &x, &g, n, s, (uint32_t) i, cp, 1, ascii_word[cp],
						 1, full);
				g.ascii_run++;
				i++;
			}
			else
			{
				int32_t		cp;
				int			cplen = AgUtf8Decode(s + i, len - i, &cp);

				n = Step(&k, &x, &g, n, s, (uint32_t) i, cp, cplen,
						 AgIsWordCp(cp), 0, full);
				g.ascii_run = 0;
				i += cplen;
			}
		}
	}
	if (!full && n + 4 + STAT_FEATURES > k.bcap)
		n = FlushBuckets(&k, n);
	if (x.inword)
		n = EndWord(&k, &x, n, s, (uint32_t) len, full, 0);
	if (x.intok)
		EndToken(&x);

	size_t		nplain = n;

	if (x.ntok >= MIN_STAT_TOKENS)
	{
		/* share of odd tokens, and odd tokens at the end (adversarial suffix) */
		static const double ratio_bins[] = {0.03, 0.06, 0.1, 0.15, 0.25, 0.4};
		uint32_t	bits = x.tailodd & ((UINT32_C(1) << TAIL_TOKENS) - 1);
		int			tail = 0;

		for (; bits != 0; bits &= bits - 1)
			tail++;

		for (int j = 0; j < 6; j++)
			if (x.nodd >= ratio_bins[j] * x.ntok && x.nodd > 0)
				n = AddStat(&k, n, UINT64_C(0x524154) + j, full);
		for (int j = 1; j <= 8; j *= 2)
			if (tail >= j)
				n = AddStat(&k, n, UINT64_C(0x5441494C) + j, full);

		/*
		 * A request with no odd token in its first HEAD_TOKENS, then odd
		 * tokens at the end on one line: the shape of a machine-made suffix
		 * (a pasted block of code spans lines); and brackets left open or
		 * closed without an opener, which such suffixes strew about.
		 */
		uint32_t	tailbreaks = x.tailnl & ((UINT32_C(1) << (TAIL_TOKENS - 1)) - 1);
		uint32_t	unbalanced = x.unmatched + (x.open & OPEN_MAX) +
			((x.open >> OPEN_BITS) & OPEN_MAX) + (x.open >> (2 * OPEN_BITS));

		if (tailbreaks == 0 && x.headodd == 0)
			for (int j = 2; j <= 6; j += 2)
				if (tail >= j)
					n = AddStat(&k, n, UINT64_C(0x53554646) + j, full);
		for (uint32_t j = 2; j <= 8; j *= 2)
			if (unbalanced >= j)
				n = AddStat(&k, n, UINT64_C(0x554E4241) + j, full);
	}
	k.n = n;
	*sink = k;
	return nplain;
}

/* The feature value of a text with n distinct features (see ag_model.h). */
static float
FeatureValue(size_t n)
{
	size_t		norm = n > AG_FEAT_NORM_FLOOR ? n : AG_FEAT_NORM_FLOOR;

	return (float) (1.0 / sqrt((double) norm));
}

static AG_ALWAYS_INLINE int
FeaturesExtract(AgFeatures *fv, const char *norm, size_t len,
				uint32_t nbuckets, const int words_only, int bigrams)
{
	Sink		x;

	fv->n = 0;
	if (len > UINT32_MAX - 8)
		len = UINT32_MAX - 8;
	if (PrepareSeen(fv, nbuckets) != 0)
		return -1;

	size_t		need = MaxFeatures(len, nbuckets);

	if (fv->cap < need)
	{
		AgFeature  *nf = realloc(fv->f, need * sizeof(AgFeature));

		if (nf == NULL)
			return -1;
		fv->f = nf;
		fv->cap = need;
	}
	memset(&x, 0, sizeof(x));
	x.mask = nbuckets - 1;
	x.seen = fv->seen;
	x.f = fv->f;
	x.no_bigrams = !bigrams;
	if (words_only)
		ExtractWords(&x, (const unsigned char *) norm, len, 1, words_only);
	else
		Extract1(&x, (const unsigned char *) norm, len, 1);
	fv->n = x.n;

	/* leave the bitmap empty for the next text */
	for (size_t k = 0; k < fv->n; k++)
		fv->seen[fv->f[k].bucket >> 5] = 0;
	if (fv->n > 0)
	{
		float		v = FeatureValue(fv->n);

		for (size_t k = 0; k < fv->n; k++)
			fv->f[k].value *= v;
	}
	return 0;
}

int
AgFeaturesExtract(AgFeatures *fv, const char *norm, size_t len,
				  uint32_t nbuckets)
{
	return FeaturesExtract(fv, norm, len, nbuckets, 0, 1);
}

int
AgFeaturesExtractWords(AgFeatures *fv, const char *norm, size_t len,
					   uint32_t nbuckets, int bigrams)
{
	return FeaturesExtract(fv, norm, len, nbuckets, WORDS_GATE, bigrams);
}

int
AgModelTopTerms(const AgModel *model, AgFeatures *fv, const char *norm,
				size_t len, int k, size_t *idx)
{
	if (FeaturesExtract(fv, norm, len, model->nbuckets, WORDS_MODEL, 1) != 0)
		return -1;
	return AgModelTopFeatures(model, fv, k, idx);
}

/*
 * The probability of a text from its sums of quantised weights; one
 * formula for both paths, so they agree bit for bit.
 */
static double
Probability(const AgModel *model, size_t ndistinct, int64_t sum_plain,
			int64_t sum_stat)
{
	float		v = ndistinct > 0 ? FeatureValue(ndistinct) : 0.0f;
	double		v1 = (double) (1.0f * v);
	double		v2 = (double) (AG_FEAT_STAT_VALUE * v);
	double		z = model->bias +
		model->weight_scale * ((double) sum_plain * v1 + (double) sum_stat * v2);

	return 1.0 / (1.0 + exp(-z));
}

/* Buckets held in memory at a time while scoring (see FlushBuckets). */
#define SCORE_CHUNK 16384

/*
 * The probability model gives norm, from the buckets of its features
 * (words, and bigrams if it has them, for a gate); fv's bitmap is ready
 * and empty.
 */
static AG_ALWAYS_INLINE double
ScoreBuckets(const AgModel *model, AgFeatures *fv, const char *norm,
			 size_t len, const int words_only)
{
	Sink		x;
	size_t		nplain;

	memset(&x, 0, sizeof(x));
	x.mask = model->nbuckets - 1;
	x.no_bigrams = words_only && !model->bigrams;
	x.seen = fv->seen;
	x.b = fv->b;
	x.bcap = fv->bcap;
	x.weights = model->weights;
	nplain = words_only ?
		ExtractWords(&x, (const unsigned char *) norm, len, 0, WORDS_GATE) :
		Extract1(&x, (const unsigned char *) norm, len, 0);
	SumDistinct(&x, 0, nplain, 0);
	SumDistinct(&x, nplain, x.n, 1);

	/*
	 * Leave the bitmap empty for the next text: bit by bit for a short text,
	 * in one sweep once the text's buckets outnumber an eighth of the
	 * bitmap's words (a 2 KiB text's 5,000 buckets already touch nearly
	 * every cache line of it, and a sweep is a store per 32 bytes).  A
	 * gate's buckets were summed as they came (AddFeature): not kept, so a
	 * sweep, of a small bitmap.
	 */
	if (words_only || x.flushed || x.n > (model->nbuckets + 31) / 32 / 8)
		memset(fv->seen, 0, ((model->nbuckets + 31) / 32) * sizeof(uint32_t));
	else
		for (size_t k = 0; k < x.n; k++)
			fv->seen[x.b[k] >> 5] = 0;

	return Probability(model, x.ndistinct, x.sum[0], x.sum[1]);
}

/* fv ready for ScoreBuckets with model (or its gate); 0 or -1 (no memory) */
static int
PrepareScoring(const AgModel *model, AgFeatures *fv)
{
	fv->n = 0;
	/* (a gate's buckets are never more than the model's: AgModelParse) */
	if (PrepareSeen(fv, model->nbuckets) != 0)
		return -1;
	if (fv->bcap < SCORE_CHUNK)
	{
		uint32_t   *nb = realloc(fv->b, SCORE_CHUNK * sizeof(uint32_t));

		if (nb == NULL)
			return -1;
		fv->b = nb;
		fv->bcap = SCORE_CHUNK;
	}
	return 0;
}

int
AgModelGateApplies(const char *norm, size_t len)
{
	const unsigned char *s = (const unsigned char *) norm;
	size_t		high = 0,
				i = 0;

	/* eight bytes at a time: about 2,000 instructions for 2 KiB */
	for (; i + 8 <= len; i += 8)
	{
		uint64_t	v;

		memcpy(&v, s + i, sizeof(v));
		/* the eight high bits as 0/1 bytes, summed by one multiply */
		high += (size_t) ((((v >> 7) & UINT64_C(0x0101010101010101)) *
						   UINT64_C(0x0101010101010101)) >> 56);
	}
	for (; i < len; i++)
		high += s[i] >> 7;
	return high <= len / 4;
}

void
AgModelPrefetchGate(const AgModel *model)
{
	const AgModel *gate = model->gate;

	if (gate == NULL)
		return;
	for (uint32_t b = 0; b < gate->nbuckets; b += 64)
		__builtin_prefetch(&gate->weights[b], 0, 3);
}

int
AgModelGateScore(const AgModel *model, AgFeatures *fv, const char *norm,
				 size_t len, double *p)
{
	*p = 0.0;
	if (model->gate == NULL)
		return -1;
	if (len > UINT32_MAX - 8)
		len = UINT32_MAX - 8;
	if (PrepareScoring(model, fv) != 0)
		return -1;
	*p = ScoreBuckets(model->gate, fv, norm, len, 1);
	return 0;
}

int
AgModelScoreText(const AgModel *model, AgFeatures *fv, const char *norm,
				 size_t len, int use_gate, double *p, int *gated)
{
	const AgModel *gate = use_gate ? model->gate : NULL;

	if (gated)
		*gated = 0;
	if (len > UINT32_MAX - 8)
		len = UINT32_MAX - 8;
	if (PrepareScoring(model, fv) != 0)
		return -1;
	if (gate && AgModelGateApplies(norm, len) &&
		ScoreBuckets(gate, fv, norm, len, 1) < gate->threshold)
	{
		*p = 0.0;
		if (gated)
			*gated = 1;
		return 0;
	}
	*p = ScoreBuckets(model, fv, norm, len, 0);
	return 0;
}

void
AgFeaturesFree(AgFeatures *fv)
{
	free(fv->f);
	free(fv->b);
	free(fv->seen);
	memset(fv, 0, sizeof(*fv));
}

static const char *
NextLine(const char *p, const char *end, const char **line_end)
{
	const char *e = memchr(p, '\n', (size_t) (end - p));

	if (e == NULL)
		e = end;
	*line_end = e;
	return e < end ? e + 1 : end;
}

/*
 * A weight line, "<bucket> <weight>", read without strtoul and strtod: a
 * model has some 180,000 of them, and those two took 170M of the 634M
 * instructions a backend spent loading its rules and model (three quarters
 * of reading the model).  Only the plain shape is taken
 * (decimal bucket, one or more blanks, an optional sign, at most 15 digits
 * with an optional decimal point, nothing after); its value is then exact:
 * the digits as an integer below 2^53 divided by a power of ten up to
 * 10^15, both exact doubles, and IEEE division rounds correctly, as strtod
 * does.  Returns 0 for any other shape: the caller reads it the slow way.
 */
static int
ParsePlainWeightLine(const char *p, const char *end, unsigned long *bucket,
					 double *weight)
{
	static const double pow10[16] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	unsigned long b = 0;
	uint64_t	digits = 0;
	int			ndigits = 0,
				nfraction = 0,
				point = 0,
				negative = 0;
	const char *q = p;

	for (; q < end && *q >= '0' && *q <= '9'; q++)
	{
		if (q - p >= 9)
			return 0;
		b = b * 10 + (unsigned long) (*q - '0');
	}
	if (q == p || q == end || (*q != ' ' && *q != '\t'))
		return 0;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q < end && (*q == '-' || *q == '+'))
		negative = *q++ == '-';
	for (; q < end; q++)
	{
		if (*q == '.' && !point)
		{
			point = 1;
			continue;
		}
		if (*q < '0' || *q > '9' || ++ndigits > 15)
			return 0;
		digits = digits * 10 + (uint64_t) (*q - '0');
		nfraction += point;
	}
	if (ndigits == 0)
		return 0;
	*bucket = b;
	*weight = (double) digits / pow10[nfraction];
	if (negative)
		*weight = -*weight;
	return 1;
}

AgModel *
AgModelParse(const char *text, size_t len, char *errbuf, size_t errlen)
{
	const char *p = text;
	const char *end = text + len;
	AgModel    *m = calloc(1, sizeof(AgModel));
	AgModel    *cur = m;		/* the model the lines are about */
	float	   *raws[2] = {NULL, NULL}; /* the weights as written */
	float	  **raw = &raws[0];
	int			lineno = 0;
	int			header = 0;

	if (m == NULL)
	{
		AgSetError(errbuf, errlen, "out of memory");
		return NULL;
	}
	m->threshold = 0.5;
	while (p < end)
	{
		const char *le;
		const char *next = NextLine(p, end, &le);
		char		line[256];
		size_t		ll = (size_t) (le - p);

		lineno++;
		if (ll >= sizeof(line))
		{
			AgSetError(errbuf, errlen, "model line %d is too long", lineno);
			goto fail;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = next;
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (!header)
		{
			if (strncmp(line, "aiguard-model 1", 15) != 0)
			{
				AgSetError(errbuf, errlen, "model does not start with \"aiguard-model 1\"");
				goto fail;
			}
			header = 1;
			continue;
		}
		if (isdigit((unsigned char) line[0]))
		{
			char	   *ep;
			unsigned long b;
			double		w;

			if (!ParsePlainWeightLine(line, line + ll, &b, &w))
			{
				b = strtoul(line, &ep, 10);
				w = strtod(ep, &ep);
			}

			if (*raw == NULL || b >= cur->nbuckets)
			{
				AgSetError(errbuf, errlen, "model line %d: bucket out of range or before \"buckets\"", lineno);
				goto fail;
			}
			if (!isfinite(w))
			{
				AgSetError(errbuf, errlen, "model line %d: weight is not a finite number", lineno);
				goto fail;
			}
			(*raw)[b] = (float) w;
			cur->nonzero++;
		}
		else if (strcmp(line, "gate") == 0)
		{
			/* what follows describes the gate (see ag_model.h) */
			if (cur != m || m->weights == NULL)
			{
				AgSetError(errbuf, errlen, "model line %d: \"gate\" must come once, after the model's \"buckets\"", lineno);
				goto fail;
			}
			if ((m->gate = calloc(1, sizeof(AgModel))) == NULL)
			{
				AgSetError(errbuf, errlen, "out of memory");
				goto fail;
			}
			cur = m->gate;
			cur->threshold = 0.5;
			cur->bigrams = 1;	/* (a file without "features") */
			snprintf(cur->name, sizeof(cur->name), "gate");
			raw = &raws[1];
		}
		else if (cur != m && strncmp(line, "features ", 9) == 0)
		{
			/* the gate's: "words", or "words bigrams" */
			if (strcmp(line + 9, "words") == 0)
				cur->bigrams = 0;
			else if (strcmp(line + 9, "words bigrams") == 0)
				cur->bigrams = 1;
			else
			{
				AgSetError(errbuf, errlen, "model line %d: a gate's features are \"words\" or \"words bigrams\"", lineno);
				goto fail;
			}
		}
		else if (cur == m && strncmp(line, "name ", 5) == 0)
			snprintf(m->name, sizeof(m->name), "%.63s", line + 5);
		else if (strncmp(line, "buckets ", 8) == 0)
		{
			unsigned long nb = strtoul(line + 8, NULL, 10);

			if (nb < 16 || nb > (1u << 24) || (nb & (nb - 1)) != 0 || *raw)
			{
				AgSetError(errbuf, errlen, "model line %d: buckets must be a power of two between 16 and 16777216", lineno);
				goto fail;
			}
			cur->nbuckets = (uint32_t) nb;
			*raw = calloc(nb, sizeof(float));
			cur->weights = calloc(nb, sizeof(int8_t));
			if (*raw == NULL || cur->weights == NULL)
			{
				AgSetError(errbuf, errlen, "out of memory");
				goto fail;
			}
		}
		else if (strncmp(line, "bias ", 5) == 0)
			cur->bias = strtod(line + 5, NULL);
		else if (strncmp(line, "threshold ", 10) == 0)
		{
			cur->threshold = strtod(line + 10, NULL);
			if (!(cur->threshold > 0 && cur->threshold < 1))
			{
				AgSetError(errbuf, errlen, "model line %d: threshold must be between 0 and 1", lineno);
				goto fail;
			}
		}
		else
		{
			AgSetError(errbuf, errlen, "model line %d: unrecognised line", lineno);
			goto fail;
		}
	}
	if (!header || raws[0] == NULL || (m->gate && raws[1] == NULL))
	{
		AgSetError(errbuf, errlen, "model has no header or no \"buckets\" line");
		goto fail;
	}
	if (m->gate && m->gate->nbuckets > m->nbuckets)
	{
		AgSetError(errbuf, errlen, "model's gate has more buckets than the model");
		goto fail;
	}
	m->weight_scale = AgQuantizeWeights(raws[0], m->nbuckets, m->weights);
	if (m->gate)
		m->gate->weight_scale = AgQuantizeWeights(raws[1], m->gate->nbuckets,
												  m->gate->weights);
	free(raws[0]);
	free(raws[1]);
	return m;

fail:
	free(raws[0]);
	free(raws[1]);
	AgModelFree(m);
	return NULL;
}

double
AgQuantizeWeights(const float *w, uint32_t n, int8_t *q)
{
	double		maxabs = 0;
	double		scale;

	for (uint32_t b = 0; b < n; b++)
		if (fabs(w[b]) > maxabs)
			maxabs = fabs(w[b]);
	scale = maxabs > 0 ? maxabs / 127 : 1;
	for (uint32_t b = 0; b < n; b++)
		q[b] = (int8_t) lrint(w[b] / scale);
	return scale;
}

void
AgModelFree(AgModel *model)
{
	if (model == NULL)
		return;
	AgModelFree(model->gate);
	free(model->weights);
	free(model);
}

double
AgModelScore(const AgModel *model, const AgFeatures *fv)
{
	int64_t		sum[2] = {0, 0};

	for (size_t i = 0; i < fv->n; i++)
		sum[fv->f[i].kind == AG_FEAT_STAT] +=
			model->weights[fv->f[i].bucket & (model->nbuckets - 1)];
	return Probability(model, fv->n, sum[0], sum[1]);
}

int
AgModelTopFeatures(const AgModel *model, const AgFeatures *fv, int k,
				   size_t *idx)
{
	int			got = 0;
	double		best[8];

	if (k > 8)
		k = 8;
	for (size_t i = 0; i < fv->n; i++)
	{
		const AgFeature *f = &fv->f[i];

		if (f->kind != AG_FEAT_WORD && f->kind != AG_FEAT_BIGRAM)
			continue;
		double		c = model->weights[f->bucket & (model->nbuckets - 1)];

		if (c <= 0)
			continue;
		int			pos = got;

		while (pos > 0 && best[pos - 1] < c)
			pos--;
		if (pos >= k)
			continue;
		int			last = got < k ? got : k - 1;

		for (int j = last; j > pos; j--)
		{
			best[j] = best[j - 1];
			idx[j] = idx[j - 1];
		}
		best[pos] = c;
		idx[pos] = i;
		if (got < k)
			got++;
	}
	return got;
}
