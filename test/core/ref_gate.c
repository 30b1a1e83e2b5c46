/*
 * ref_gate.c
 *	  A gate's features (words and word bigrams, see ag_model.c), written
 *	  the plain way: code point by code point, each word's hash computed
 *	  from its bytes one by one.  test_core compares AgFeaturesExtractWords
 *	  (sixteen bytes at a time, words hashed eight bytes at a time) with it,
 *	  feature for feature, on the corpus and on random texts.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ag_model.h"
#include "ag_normalize.h"
#include "ag_util.h"

#define REF_MAX_WORD_BYTES 40
#define REF_GRAM_MUL UINT64_C(0x9E3779B97F4A7C15)
#define REF_GATE_WORD_MUL UINT64_C(0xff51afd7ed558ccd)

typedef struct RefWords
{
	AgFeatures *fv;
	uint32_t   *seen;
	uint32_t	mask;
	int			failed;
} RefWords;

/* The word's bytes as little-endian 64-bit pieces, the last zero-padded. */
static uint64_t
RefWordHash(const unsigned char *w, uint32_t wlen)
{
	uint64_t	h = (AG_FNV_OFFSET ^ 1) + (uint64_t) wlen * REF_GRAM_MUL;

	for (uint32_t off = 0; off < wlen; off += 8)
	{
		uint64_t	piece = 0;

		for (uint32_t j = 0; j < 8 && off + j < wlen; j++)
			piece |= (uint64_t) w[off + j] << (8 * j);
		h = (h ^ piece) * REF_GATE_WORD_MUL;
		if (off + 8 <= wlen)	/* a whole piece is mixed on */
			h ^= h >> 29;
	}
	return h;
}

static void
RefAdd(RefWords *r, uint64_t h, uint8_t kind, uint32_t off, uint32_t len)
{
	AgFeatures *fv = r->fv;
	uint32_t	bucket;

	h ^= h >> 32;
	h *= UINT64_C(0xd6e8feb86659fd93);
	h ^= h >> 32;
	bucket = (uint32_t) h & r->mask;
	if (r->seen[bucket >> 5] & (UINT32_C(1) << (bucket & 31)))
		return;
	r->seen[bucket >> 5] |= UINT32_C(1) << (bucket & 31);
	if (fv->n == fv->cap)
	{
		size_t		cap = fv->cap ? fv->cap * 2 : 256;
		AgFeature  *f = realloc(fv->f, cap * sizeof(AgFeature));

		if (f == NULL)
		{
			r->failed = 1;
			return;
		}
		fv->f = f;
		fv->cap = cap;
	}
	fv->f[fv->n].bucket = bucket;
	fv->f[fv->n].value = 1.0f;
	fv->f[fv->n].off = off;
	fv->f[fv->n].len = len;
	fv->f[fv->n].kind = kind;
	fv->n++;
}

int
RefGateWordsExtract(AgFeatures *fv, const char *text, size_t len,
					uint32_t nbuckets, int bigrams)
{
	const unsigned char *s = (const unsigned char *) text;
	RefWords	r = {fv, calloc((nbuckets + 31) / 32, sizeof(uint32_t)), nbuckets - 1, 0};
	int			inword = 0,
				have_prev = 0;
	uint32_t	wstart = 0,
				prevoff = 0;
	uint64_t	prevh = 0;

	fv->n = 0;
	if (r.seen == NULL)
		return -1;
	for (size_t i = 0; i <= len;)
	{
		int32_t		cp = ' ';
		int			cplen = 1;
		int			isword = 0,
					ideograph = 0;

		if (i < len)
		{
			if (s[i] < 0x80)
			{
				cp = s[i];
				isword = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
					(cp >= '0' && cp <= '9');
			}
			else
			{
				cplen = AgUtf8Decode(s + i, len - i, &cp);
				isword = AgIsWordCp(cp);
				ideograph = isword && cp >= 0x1100 && AgIsIdeographCp(cp);
			}
		}
		/* a word ends before a non-word code point, an ideograph, the end */
		if (inword && (!isword || ideograph || i == len))
		{
			uint32_t	wlen = (uint32_t) i - wstart;

			inword = 0;
			if (wlen > REF_MAX_WORD_BYTES)
				have_prev = 0;
			else
			{
				uint64_t	h = RefWordHash(s + wstart, wlen);

				RefAdd(&r, h, AG_FEAT_WORD, wstart, wlen);
				if (have_prev && bigrams)
					RefAdd(&r, (prevh ^ 2) * REF_GRAM_MUL + h, AG_FEAT_BIGRAM,
						   prevoff, (uint32_t) i - prevoff);
				prevh = h;
				prevoff = wstart;
				have_prev = 1;
			}
		}
		if (i == len)
			break;
		if (isword && !inword)
		{
			inword = 1;
			wstart = (uint32_t) i;
		}
		/* an ideograph is a word of its own */
		if (ideograph)
		{
			uint64_t	h = RefWordHash(s + i, (uint32_t) cplen);

			inword = 0;
			RefAdd(&r, h, AG_FEAT_WORD, (uint32_t) i, (uint32_t) cplen);
			if (have_prev && bigrams)
				RefAdd(&r, (prevh ^ 2) * REF_GRAM_MUL + h, AG_FEAT_BIGRAM,
					   prevoff, (uint32_t) (i + cplen) - prevoff);
			prevh = h;
			prevoff = (uint32_t) i;
			have_prev = 1;
		}
		/* sentence punctuation breaks bigrams, spaces do not */
		if (!isword && cp != ' ')
			have_prev = 0;
		i += cplen;
	}
	free(r.seen);
	if (r.failed)
		return -1;
	if (fv->n > 0)
	{
		float		v = (float) (1.0 / sqrt((double) (fv->n > AG_FEAT_NORM_FLOOR ?
														 fv->n : AG_FEAT_NORM_FLOOR)));

		for (size_t k = 0; k < fv->n; k++)
			fv->f[k].value = v;
	}
	return 0;
}
