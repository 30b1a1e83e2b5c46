/*
 * ag_model.c
 *	  Hashed n-gram features and a logistic linear model.
 *
 * Features of a normalised text: words (runs of letters and digits; every
 * CJK ideograph or kana is a word of its own, since those scripts do not
 * separate words), word bigrams, and character 3- and 5-grams over the text
 * with punctuation kept (which catches machine-made adversarial suffixes).
 * Each distinct feature is hashed into one of nbuckets and counted once;
 * values are 1/sqrt(distinct features) so long and short texts are on the
 * same scale, but with a floor (AG_FEAT_NORM_FLOOR, see ag_model.h) so the
 * few features of a very short text do not get extreme values.  The model is a weight per bucket and a bias, trained by
 * tools/ag_train.c from labelled data; its text format is
 *
 *     aiguard-model 1
 *     name <name>
 *     buckets <power of two>
 *     bias <float>
 *     threshold <probability>
 *     <bucket> <weight>        (one line per non-zero weight)
 */
#include "ag_model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_normalize.h"
#include "ag_util.h"

#define MAX_WORDS_TRACKED 4096

static int
SeenInsert(AgFeatures *fv, uint32_t bucket)
{
	size_t		mask = fv->seenmask;
	size_t		i = (bucket * 2654435761u) & mask;

	while (fv->seen[i] != UINT32_MAX)
	{
		if (fv->seen[i] == bucket)
			return 0;
		i = (i + 1) & mask;
	}
	fv->seen[i] = bucket;
	return 1;
}

static int
AddFeature(AgFeatures *fv, uint64_t h, uint32_t nbuckets, uint8_t kind,
		   uint32_t off, uint32_t len)
{
	uint32_t	bucket = (uint32_t) (h ^ (h >> 29)) & (nbuckets - 1);

	if (!SeenInsert(fv, bucket))
		return 0;
	if (fv->n == fv->cap)
	{
		size_t		cap = fv->cap ? fv->cap * 2 : 1024;
		AgFeature  *nf = realloc(fv->f, cap * sizeof(AgFeature));

		if (nf == NULL)
			return -1;
		fv->f = nf;
		fv->cap = cap;
	}
	AgFeature  *f = &fv->f[fv->n++];

	f->bucket = bucket;
	f->value = 1.0f;
	f->off = off;
	f->len = len;
	f->kind = kind;
	return 0;
}

int
AgFeaturesExtract(AgFeatures *fv, const char *norm, size_t len,
				  uint32_t nbuckets)
{
	const unsigned char *s = (const unsigned char *) norm;
	/* character offsets of code points, for char n-grams */
	size_t		ncp_max = len + 1;
	size_t		need_seen = 16;

	fv->n = 0;
	while (need_seen < ncp_max * 6 + 64)
		need_seen *= 2;
	if (fv->seencap < need_seen)
	{
		uint32_t   *ns = realloc(fv->seen, need_seen * sizeof(uint32_t));

		if (ns == NULL)
			return -1;
		fv->seen = ns;
		fv->seencap = need_seen;
	}
	/* only the part this text needs: the array keeps its largest size */
	fv->seenmask = need_seen - 1;
	memset(fv->seen, 0xFF, need_seen * sizeof(uint32_t));

	/* char n-grams over byte-offset positions of code points */
	size_t		pos[6];
	int			npos = 0;
	size_t		i = 0;

	while (i < len)
	{
		int			n = AgUtf8SeqLen(s[i]);

		if (i + n > len)
			n = (int) (len - i);
		if (npos == 6)
		{
			memmove(pos, pos + 1, 5 * sizeof(size_t));
			npos = 5;
		}
		pos[npos++] = i;
		i += n;
		/* gram ending at i: 3 and 5 code points */
		if (npos >= 3)
		{
			size_t		st = pos[npos - 3];

			if (AddFeature(fv, AgFnv1a(AG_FNV_OFFSET ^ 3, s + st, i - st),
						   nbuckets, AG_FEAT_CHAR3, (uint32_t) st,
						   (uint32_t) (i - st)) != 0)
				return -1;
		}
		if (npos >= 5)
		{
			size_t		st = pos[npos - 5];

			if (AddFeature(fv, AgFnv1a(AG_FNV_OFFSET ^ 5, s + st, i - st),
						   nbuckets, AG_FEAT_CHAR5, (uint32_t) st,
						   (uint32_t) (i - st)) != 0)
				return -1;
		}
	}

	/* words and bigrams */
	size_t		prev_off = 0,
				prev_len = 0;
	int			have_prev = 0;

	i = 0;
	while (i < len)
	{
		int32_t		cp;
		int			n = AgUtf8Decode(s + i, len - i, &cp);

		if (!AgIsWordCp(cp))
		{
			/* sentence punctuation breaks bigrams, spaces do not */
			if (cp != ' ')
				have_prev = 0;
			i += n;
			continue;
		}
		size_t		start = i;

		if (AgIsIdeographCp(cp))
			i += n;
		else
		{
			while (i < len)
			{
				n = AgUtf8Decode(s + i, len - i, &cp);
				if (!AgIsWordCp(cp) || AgIsIdeographCp(cp))
					break;
				i += n;
			}
		}
		size_t		wlen = i - start;

		if (wlen > 40)
		{
			have_prev = 0;
			continue;
		}
		if (AddFeature(fv, AgFnv1a(AG_FNV_OFFSET ^ 1, s + start, wlen),
					   nbuckets, AG_FEAT_WORD, (uint32_t) start,
					   (uint32_t) wlen) != 0)
			return -1;
		if (have_prev)
		{
			uint64_t	h = AgFnv1a(AG_FNV_OFFSET ^ 2, s + prev_off, prev_len);

			h = AgFnv1a(h, " ", 1);
			h = AgFnv1a(h, s + start, wlen);
			if (AddFeature(fv, h, nbuckets, AG_FEAT_BIGRAM, (uint32_t) prev_off,
						   (uint32_t) (start + wlen - prev_off)) != 0)
				return -1;
		}
		prev_off = start;
		prev_len = wlen;
		have_prev = 1;
	}

	if (fv->n > 0)
	{
		size_t		norm = fv->n > AG_FEAT_NORM_FLOOR ? fv->n : AG_FEAT_NORM_FLOOR;
		float		v = (float) (1.0 / sqrt((double) norm));

		for (size_t k = 0; k < fv->n; k++)
			fv->f[k].value = v;
	}
	return 0;
}

void
AgFeaturesFree(AgFeatures *fv)
{
	free(fv->f);
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

			if (m->weights == NULL || b >= m->nbuckets)
			{
				AgSetError(errbuf, errlen, "model line %d: bucket out of range or before \"buckets\"", lineno);
				goto fail;
			}
			m->weights[b] = (float) w;
			m->nonzero++;
		}
		else if (strncmp(line, "name ", 5) == 0)
			snprintf(m->name, sizeof(m->name), "%.63s", line + 5);
		else if (strncmp(line, "buckets ", 8) == 0)
		{
			unsigned long nb = strtoul(line + 8, NULL, 10);

			if (nb < 16 || nb > (1u << 24) || (nb & (nb - 1)) != 0 || m->weights)
			{
				AgSetError(errbuf, errlen, "model line %d: buckets must be a power of two between 16 and 16777216", lineno);
				goto fail;
			}
			m->nbuckets = (uint32_t) nb;
			m->weights = calloc(nb, sizeof(float));
			if (m->weights == NULL)
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
	if (!header || m->weights == NULL)
	{
		AgSetError(errbuf, errlen, "model has no header or no \"buckets\" line");
		goto fail;
	}
	return m;

fail:
	AgModelFree(m);
	return NULL;
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
	double		z = model->bias;

	for (size_t i = 0; i < fv->n; i++)
		z += (double) model->weights[fv->f[i].bucket & (model->nbuckets - 1)] *
			fv->f[i].value;
	return 1.0 / (1.0 + exp(-z));
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
