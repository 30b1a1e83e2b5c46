/*
 * ag_overlap.c
 *	  Shingle overlap between a system prompt and a response.
 *
 * A model that prints its instructions rarely does so verbatim: it
 * paraphrases the start, adds markdown, changes case.  Comparing hashed
 * word 6-grams of the normalised texts tolerates all of that while a
 * response that merely shares a phrase or two with the prompt (a refusal
 * sentence the prompt told it to use) covers only a small fraction.
 */
#include "ag_overlap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ag_normalize.h"
#include "ag_util.h"

/* Hashes of the word n-grams of a normalised text; returns count or -1. */
static long
Shingles(const char *norm, size_t len, uint64_t **out)
{
	size_t		starts[4096];
	size_t		ends[4096];
	long		nwords = 0;
	size_t		i = 0;

	while (i < len && nwords < 4096)
	{
		while (i < len && norm[i] == ' ')
			i++;
		if (i >= len)
			break;
		starts[nwords] = i;
		while (i < len && norm[i] != ' ')
			i++;
		ends[nwords++] = i;
	}
	if (nwords < AG_SHINGLE_WORDS)
	{
		*out = NULL;
		return 0;
	}
	long		n = nwords - AG_SHINGLE_WORDS + 1;
	uint64_t   *h = malloc(n * sizeof(uint64_t));

	if (h == NULL)
		return -1;
	for (long k = 0; k < n; k++)
	{
		uint64_t	v = AG_FNV_OFFSET;

		for (int w = 0; w < AG_SHINGLE_WORDS; w++)
		{
			/* strip punctuation at word edges: "instructions:" == "instructions" */
			size_t		s = starts[k + w],
						e = ends[k + w];

			while (s < e && !((unsigned char) norm[s] >= 0x80 ||
							  (norm[s] >= 'a' && norm[s] <= 'z') ||
							  (norm[s] >= '0' && norm[s] <= '9')))
				s++;
			while (e > s && !((unsigned char) norm[e - 1] >= 0x80 ||
							  (norm[e - 1] >= 'a' && norm[e - 1] <= 'z') ||
							  (norm[e - 1] >= '0' && norm[e - 1] <= '9')))
				e--;
			v = AgFnv1a(v, norm + s, e - s);
			v = AgFnv1a(v, " ", 1);
		}
		h[k] = v;
	}
	*out = h;
	return n;
}

static int
CompareU64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a;
	uint64_t	y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

double
AgReproducedFraction(const char *source, size_t slen, const char *text,
					 size_t tlen)
{
	AgNormText	nt = {0};
	uint64_t   *src = NULL,
			   *txt = NULL;
	long		ns,
				nt_;
	long		hit = 0;
	double		result = -1;

	if (AgNormalize(&nt, source, slen) != 0)
		goto done;
	ns = Shingles(nt.out.data, nt.out.len, &src);
	if (ns <= 0 || ns < AG_MIN_SOURCE_WORDS - AG_SHINGLE_WORDS + 1)
		goto done;
	if (AgNormalize(&nt, text, tlen) != 0)
		goto done;
	nt_ = Shingles(nt.out.data, nt.out.len, &txt);
	if (nt_ < 0)
		goto done;
	if (nt_ == 0)
	{
		result = 0;
		goto done;
	}
	qsort(txt, nt_, sizeof(uint64_t), CompareU64);
	for (long k = 0; k < ns; k++)
		if (bsearch(&src[k], txt, nt_, sizeof(uint64_t), CompareU64))
			hit++;
	result = (double) hit / ns;
done:
	free(src);
	free(txt);
	AgNormFree(&nt);
	return result;
}
