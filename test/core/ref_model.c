/*
 * ref_model.c
 *	  The model's feature extraction and scoring as they were before the
 *	  ASCII-run n-gram loop (ag_model.c at commit 2e03877, symbols renamed
 *	  Ref*), kept as the reference the current one must agree with feature
 *	  for feature: test_core compares them on the corpus and on random
 *	  texts.  Do not edit, except to rename.
 */
#define AgFeaturesExtract RefFeaturesExtract
#define AgFeaturesFree RefFeaturesFree
#define AgModelParse RefModelParse
#define AgModelFree RefModelFree
#define AgQuantizeWeights RefQuantizeWeights
#define AgModelScore RefModelScore
#define AgModelScoreText RefModelScoreTextDecl	/* the header's, now wider */
#define AgModelTopFeatures RefModelTopFeatures
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
 *  - (token shapes were features until November 2026; no longer);
 *  - binned statistics of "odd" tokens, those with two or more code/markup
 *    punctuation characters ([]{}()<>\|`^~=$#@%*_+): their share of all
 *    tokens, and their number among the last TAIL_TOKENS tokens; the same
 *    number again when those tokens are on one line after a first
 *    HEAD_TOKENS free of odd ones; and the number of unbalanced brackets.
 *
 * The last two target machine-made adversarial suffixes (GCG and kin: a
 * plain harmful request followed by punctuation-laden gibberish), which
 * word features cannot tell from the same request without a suffix, a
 * negative in training.  Hashes are cheap multiply-adds over code points
 * (FNV-1a over the bytes for words), finished by one mixing step.
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
#undef AgModelScoreText
#define AgModelScoreText RefModelScoreText

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
 * Extraction state: the text is read once, code point by code point.
 *
 * The same code serves two callers: AgFeaturesExtract, which records every
 * feature with its kind and span (training, and the top terms of a text
 * the model reports), and AgModelScoreText, which needs only the buckets,
 * in the same order, to score a text.  Both are instances of one inline
 * function (Extract below, full = 1 or 0), so they cannot disagree.
 */
typedef struct Extract
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
	/* word in progress and the one before it (for bigrams) */
	int			inword;
	uint32_t	wstart;
	uint64_t	wh;
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
	int			brk;			/* a line break since the last token */
	int			tokbrk;			/* one came before the token in progress */
	uint32_t	depth[3];		/* ( [ { open */
	uint32_t	stray;			/* ) ] } without an opener */
} Extract;

#define AG_ALWAYS_INLINE inline __attribute__((always_inline))

/*
 * Adds a feature.  Training (full) keeps it unless its bucket is already
 * in: a bitmap over all buckets, one bit test; only the bits that were set
 * get cleared after the text, never the whole map.  Branch-free: the entry
 * is written at n whatever, and n moves on only for a new bucket; returns
 * the new n (kept in a register by the caller, not in x).  The caller has
 * reserved room for every feature the text can yield.
 *
 * Scoring only appends the bucket: testing the bitmap here would make
 * where the next bucket goes wait for this bucket's bit, a chain of loads
 * through the whole text.  SumDistinct does the test later, in a loop where
 * nothing waits for it.
 */
static AG_ALWAYS_INLINE size_t
AddFeature(Extract *x, size_t n, uint64_t h, uint8_t kind, uint32_t off,
		   uint32_t len, float value, const int full)
{
	uint32_t	bucket;

	/* the low bits of a multiplicative hash are weak: mix first */
	h ^= h >> 32;
	h *= UINT64_C(0xd6e8feb86659fd93);
	h ^= h >> 32;
	bucket = (uint32_t) h & x->mask;

	if (full)
	{
		uint32_t   *word = &x->seen[bucket >> 5];
		uint32_t	bit = UINT32_C(1) << (bucket & 31);
		uint32_t	old = *word;
		AgFeature  *f = &x->f[n];

		f->bucket = bucket;
		f->value = value;
		f->off = off;
		f->len = len;
		f->kind = kind;
		*word = old | bit;
		return n + ((old & bit) == 0);
	}

	/*
	 * SumDistinct reads the bucket's weight and its bit in the bitmap,
	 * both all over large arrays that the rest of an INSERT pushes out of
	 * cache: ask for them now, so they are in by then (a prefetch, unlike
	 * a load, does not hold up the work that follows).
	 */
	x->b[n] = bucket;
	__builtin_prefetch(&x->weights[bucket], 0, 2);
	__builtin_prefetch(&x->seen[bucket >> 5], 1, 3);
	return n + 1;
}

/*
 * Scoring: of the buckets b[from..to), adds up the weights of those not
 * seen before in this text (sum[0] for plain features, sum[1] for
 * statistics) and counts them.  Integer sums, so the order does not matter.
 */
static void
SumDistinct(Extract *x, size_t from, size_t to, int stat)
{
	const uint32_t *b = x->b;
	const int8_t *w = x->weights;
	uint32_t   *seen = x->seen;
	int64_t		sum = 0;
	size_t		nd = 0;

	for (size_t k = from; k < to; k++)
	{
		uint32_t	bucket = b[k];
		uint32_t   *word = &seen[bucket >> 5];
		uint32_t	bit = UINT32_C(1) << (bucket & 31);
		uint32_t	old = *word;
		uint32_t	isnew = (old & bit) == 0;

		*word = old | bit;
		nd += isnew;
		sum += (int64_t) w[bucket] & -(int64_t) isnew;
	}
	x->sum[stat] += sum;
	x->ndistinct += nd;
}

/*
 * Scoring, when b is nearly full: sums what it holds and starts it again
 * (the bitmap keeps the buckets seen).  Room for the most features one code
 * point can add (two n-grams, two words of two features, a token of two).
 */
#define MAX_FEATURES_PER_CP 8
#define STAT_FEATURES 16		/* see the end of Extract1 */

static size_t
FlushBuckets(Extract *x, size_t n)
{
	SumDistinct(x, 0, n, 0);
	x->flushed = 1;
	return 0;
}

static AG_ALWAYS_INLINE size_t
EndWord(Extract *x, size_t n, uint32_t end, const int full)
{
	uint32_t	wlen = end - x->wstart;

	x->inword = 0;
	if (wlen > MAX_WORD_BYTES)
	{
		x->have_prev = 0;
		return n;
	}
	n = AddFeature(x, n, x->wh, AG_FEAT_WORD, x->wstart, wlen, 1.0f, full);
	if (x->have_prev)
		n = AddFeature(x, n, (x->prevh ^ 2) * GRAM_MUL + x->wh, AG_FEAT_BIGRAM,
					   x->prevoff, end - x->prevoff, 1.0f, full);
	x->prevh = x->wh;
	x->prevoff = x->wstart;
	x->have_prev = 1;
	return n;
}

static AG_ALWAYS_INLINE void
EndToken(Extract *x)
{
	x->intok = 0;
	x->ntok++;
	x->tailodd <<= 1;
	x->tailnl = (x->tailnl << 1) | (x->tokbrk ? 1 : 0);
	if (x->tpunct >= 2)
	{
		x->nodd++;
		x->tailodd |= 1;
		if (x->ntok <= HEAD_TOKENS)
			x->headodd++;
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
 * and common in machine-made adversarial suffixes.
 */
static const unsigned char code_punct[128] = {
	['['] = 1, [']'] = 1, ['{'] = 1, ['}'] = 1, ['('] = 1, [')'] = 1,
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
 * two character n-grams, one word and one token (each ending with two
 * features), plus the statistics; and never more than one per bucket.
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

/*
 * The features of norm, in order, into x (which the caller set up); returns
 * the index of the first statistics feature (they come last).
 *
 * Hashes: a character 3-gram a b c hashes to (((3 + a) M + b) M + c) M,
 * a 5-gram likewise from 5; kept here in closed form, the sum of the last
 * code points times powers of M, updated as the window slides (the same
 * numbers mod 2^64, without refolding every window).
 */
static AG_ALWAYS_INLINE size_t
Extract1(Extract *x, const unsigned char *s, size_t len, const int full)
{
	/* the last five code points and their offsets, p1 the latest (zeros before the text) */
	uint32_t	p1 = 0,
				p2 = 0,
				p3 = 0,
				p4 = 0,
				p5 = 0;
	uint32_t	q1 = 0,
				q2 = 0,
				q3 = 0,
				q4 = 0,
				q5 = 0;
	unsigned	ncp = 0;
	size_t		n = x->n;
	uint64_t	sum3 = 0,		/* a M^3 + b M^2 + c M over the last three */
				sum5 = 0;		/* likewise over the last five */

	for (size_t i = 0; i < len;)
	{
		int32_t		cp;
		int			cplen;
		int			isword;

		if (!full && __builtin_expect(n + MAX_FEATURES_PER_CP > x->bcap, 0))
			n = FlushBuckets(x, n);
		if (s[i] < 0x80)
		{
			cp = s[i];
			cplen = 1;
			isword = ascii_word[cp];
		}
		else
		{
			cplen = AgUtf8Decode(s + i, len - i, &cp);
			isword = AgIsWordCp(cp);
		}

		/*
		 * character 3- and 5-grams, punctuation and spaces included; hashed
		 * from code points, multiply-add per code point
		 */
		{
			uint64_t	cm = (uint64_t) (uint32_t) cp * GRAM_MUL;

			sum3 = sum3 * GRAM_MUL - (uint64_t) p3 * GRAM_MUL4 + cm;
			sum5 = sum5 * GRAM_MUL - (uint64_t) p5 * GRAM_MUL6 + cm;
			p5 = p4, p4 = p3, p3 = p2, p2 = p1, p1 = (uint32_t) cp;
			q5 = q4, q4 = q3, q3 = q2, q2 = q1, q1 = (uint32_t) i;
			ncp++;
		}
		if (ncp >= 3)
		{
			n = AddFeature(x, n, sum3 + 3 * GRAM_MUL3, AG_FEAT_CHAR3, q3,
						   (uint32_t) (i + cplen) - q3, 1.0f, full);
			if (ncp >= 5)
				n = AddFeature(x, n, sum5 + 5 * GRAM_MUL5, AG_FEAT_CHAR5, q5,
							   (uint32_t) (i + cplen) - q5, 1.0f, full);
		}

		/* words: letter/digit runs; each CJK ideograph or kana alone */
		if (isword && cp >= 0x1100 && AgIsIdeographCp(cp))
		{
			if (x->inword)
				n = EndWord(x, n, (uint32_t) i, full);
			x->inword = 1;
			x->wstart = (uint32_t) i;
			x->wh = AgFnv1a(AG_FNV_OFFSET ^ 1, s + i, cplen);
			n = EndWord(x, n, (uint32_t) (i + cplen), full);
		}
		else if (isword)
		{
			if (!x->inword)
			{
				x->inword = 1;
				x->wstart = (uint32_t) i;
				x->wh = AG_FNV_OFFSET ^ 1;
			}
			x->wh = AgFnv1a(x->wh, s + i, cplen);
		}
		else
		{
			if (x->inword)
				n = EndWord(x, n, (uint32_t) i, full);
			/* sentence punctuation breaks bigrams, spaces do not */
			if (cp != ' ')
				x->have_prev = 0;
		}

		/* whitespace-delimited tokens, for the statistics */
		if (cp == ' ' || cp == '\n' || cp == '\t' || cp == '\r')
		{
			if (x->intok)
				EndToken(x);
			if (cp == '\n')
				x->brk = 1;
		}
		else
		{
			const char *opens = "([{";
			const char *closes = ")]}";

			for (int b = 0; b < 3; b++)
			{
				if (cp == opens[b] && x->depth[b] < 1023)
					x->depth[b]++;
				if (cp == closes[b])
				{
					if (x->depth[b] > 0)
						x->depth[b]--;
					else
						x->stray++;
				}
			}
			if (!x->intok)
			{
				x->tokbrk = x->brk;
				x->brk = 0;
				x->intok = 1;
				x->tpunct = 0;
			}
			if (!isword)
				x->tpunct += code_punct[cp < 0x80 ? cp : 0];
		}
		i += cplen;
	}
	if (!full && n + 4 + STAT_FEATURES > x->bcap)
		n = FlushBuckets(x, n);
	if (x->inword)
		n = EndWord(x, n, (uint32_t) len, full);
	if (x->intok)
		EndToken(x);

	size_t		nplain = n;

	if (x->ntok >= MIN_STAT_TOKENS)
	{
		/* share of odd tokens, and odd tokens at the end (adversarial suffix) */
		static const double ratio_bins[] = {0.03, 0.06, 0.1, 0.15, 0.25, 0.4};
		uint32_t	bits = x->tailodd & ((UINT32_C(1) << TAIL_TOKENS) - 1);
		int			tail = 0;

		for (; bits != 0; bits &= bits - 1)
			tail++;

		for (int k = 0; k < 6; k++)
			if (x->nodd >= ratio_bins[k] * x->ntok && x->nodd > 0)
				n = AddFeature(x, n, UINT64_C(0x524154) + k, AG_FEAT_STAT, 0, 0,
						   AG_FEAT_STAT_VALUE, full);
		for (int k = 1; k <= 8; k *= 2)
			if (tail >= k)
				n = AddFeature(x, n, UINT64_C(0x5441494C) + k, AG_FEAT_STAT, 0, 0,
						   AG_FEAT_STAT_VALUE, full);

		/* no line break before any of the last TAIL_TOKENS - 1 tokens */
		int			oneline = 1;

		for (int k = 0; k < TAIL_TOKENS - 1; k++)
			if (x->tailnl & (UINT32_C(1) << k))
				oneline = 0;
		if (oneline && x->headodd == 0)
			for (int k = 2; k <= 6; k += 2)
				if (tail >= k)
					n = AddFeature(x, n, UINT64_C(0x53554646) + k, AG_FEAT_STAT, 0, 0,
								   AG_FEAT_STAT_VALUE, full);

		uint32_t	unbalanced = x->stray + x->depth[0] + x->depth[1] + x->depth[2];

		for (uint32_t k = 2; k <= 8; k *= 2)
			if (unbalanced >= k)
				n = AddFeature(x, n, UINT64_C(0x554E4241) + k, AG_FEAT_STAT, 0, 0,
							   AG_FEAT_STAT_VALUE, full);
	}
	x->n = n;
	return nplain;
}

/* The feature value of a text with n distinct features (see ag_model.h). */
static float
FeatureValue(size_t n)
{
	size_t		norm = n > AG_FEAT_NORM_FLOOR ? n : AG_FEAT_NORM_FLOOR;

	return (float) (1.0 / sqrt((double) norm));
}

int
AgFeaturesExtract(AgFeatures *fv, const char *norm, size_t len,
				  uint32_t nbuckets)
{
	Extract		x;

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

int
AgModelScoreText(const AgModel *model, AgFeatures *fv, const char *norm,
				 size_t len, double *p)
{
	Extract		x;
	size_t		nplain;

	fv->n = 0;
	if (len > UINT32_MAX - 8)
		len = UINT32_MAX - 8;
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
	memset(&x, 0, sizeof(x));
	x.mask = model->nbuckets - 1;
	x.seen = fv->seen;
	x.b = fv->b;
	x.bcap = fv->bcap;
	x.weights = model->weights;
	nplain = Extract1(&x, (const unsigned char *) norm, len, 0);
	SumDistinct(&x, 0, nplain, 0);
	SumDistinct(&x, nplain, x.n, 1);

	/*
	 * Leave the bitmap empty for the next text: bit by bit for a short text,
	 * in one sweep once the text's buckets outnumber an eighth of the
	 * bitmap's words (a 2 KiB text's 5,000 buckets already touch nearly
	 * every cache line of it, and a sweep is a store per 32 bytes).
	 */
	if (x.flushed || x.n > (model->nbuckets + 31) / 32 / 8)
		memset(fv->seen, 0, ((model->nbuckets + 31) / 32) * sizeof(uint32_t));
	else
		for (size_t k = 0; k < x.n; k++)
			fv->seen[x.b[k] >> 5] = 0;

	*p = Probability(model, x.ndistinct, x.sum[0], x.sum[1]);
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

AgModel *
AgModelParse(const char *text, size_t len, char *errbuf, size_t errlen)
{
	const char *p = text;
	const char *end = text + len;
	AgModel    *m = calloc(1, sizeof(AgModel));
	float	   *raw = NULL;		/* the weights as written */
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
			unsigned long b = strtoul(line, &ep, 10);
			double		w = strtod(ep, &ep);

			if (raw == NULL || b >= m->nbuckets)
			{
				AgSetError(errbuf, errlen, "model line %d: bucket out of range or before \"buckets\"", lineno);
				goto fail;
			}
			if (!isfinite(w))
			{
				AgSetError(errbuf, errlen, "model line %d: weight is not a finite number", lineno);
				goto fail;
			}
			raw[b] = (float) w;
			m->nonzero++;
		}
		else if (strncmp(line, "name ", 5) == 0)
			snprintf(m->name, sizeof(m->name), "%.63s", line + 5);
		else if (strncmp(line, "buckets ", 8) == 0)
		{
			unsigned long nb = strtoul(line + 8, NULL, 10);

			if (nb < 16 || nb > (1u << 24) || (nb & (nb - 1)) != 0 || raw)
			{
				AgSetError(errbuf, errlen, "model line %d: buckets must be a power of two between 16 and 16777216", lineno);
				goto fail;
			}
			m->nbuckets = (uint32_t) nb;
			raw = calloc(nb, sizeof(float));
			m->weights = calloc(nb, sizeof(int8_t));
			if (raw == NULL || m->weights == NULL)
			{
				AgSetError(errbuf, errlen, "out of memory");
				goto fail;
			}
		}
		else if (strncmp(line, "bias ", 5) == 0)
			m->bias = strtod(line + 5, NULL);
		else if (strncmp(line, "threshold ", 10) == 0)
		{
			m->threshold = strtod(line + 10, NULL);
			if (!(m->threshold > 0 && m->threshold < 1))
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
	if (!header || raw == NULL)
	{
		AgSetError(errbuf, errlen, "model has no header or no \"buckets\" line");
		goto fail;
	}
	m->weight_scale = AgQuantizeWeights(raw, m->nbuckets, m->weights);
	free(raw);
	return m;

fail:
	free(raw);
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
