/*
 * ag_train.c
 *	  Trains the jailbreak / prompt-injection model shipped in
 *	  rules/jailbreak.model from the labelled corpus.
 *
 *	  ag_train CORPUS_DIR OUTPUT_MODEL [--folds K]
 *
 * Positives: jailbreak/ rows labelled "jailbreak" or "prompt_injection".
 * Negatives: benign/ rows, and the plain harmful questions of jailbreak/
 * (label "harmful_request": a harmful topic is not a jailbreak, and the
 * model must learn the framing, not the topic).
 *
 * Features come from the scanning core itself (AgNormalize, then
 * AgFeaturesExtract), so training and scanning can never disagree.  The
 * learner is L2-regularised logistic regression with AdaGrad, a fixed
 * number of epochs and a fixed-seed shuffle: the same corpus gives the same
 * model, byte for byte.
 *
 * With --folds K it first runs K-fold cross-validation (folds by a hash of
 * the text), prints out-of-fold recall per source file and the benign
 * false-positive rate, and picks the reporting threshold: the lowest
 * probability >= 0.5 at which out-of-fold false positives on benign
 * prompts stay under 0.5%.  The final model is then trained on everything.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_corpus.h"
#include "ag_model.h"
#include "ag_normalize.h"
#include "ag_util.h"

#define NBUCKETS (1u << 18)
#define EPOCHS 12
#define LAMBDA 1e-6
#define LEARNING_RATE 0.5
#define NEG_WEIGHT 2.0
#define TARGET_FPR 0.005

typedef struct Example
{
	uint32_t   *bucket;
	float	   *value;
	int			n;
	int			y;				/* 1 positive, 0 negative */
	double		weight;
	int			fold;
	const CorpusDoc *doc;
} Example;

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t
Rand64(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
Train(Example *ex, size_t n, int skip_fold, float *w, double *bias)
{
	float	   *g2 = calloc(NBUCKETS, sizeof(float));
	double		bias_g2 = 0;
	size_t	   *order = malloc(n * sizeof(size_t));

	memset(w, 0, NBUCKETS * sizeof(float));
	*bias = 0;
	rng_state = UINT64_C(0x9E3779B97F4A7C15);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (int epoch = 0; epoch < EPOCHS; epoch++)
	{
		for (size_t i = n - 1; i > 0; i--)
		{
			size_t		j = Rand64() % (i + 1);
			size_t		t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (size_t k = 0; k < n; k++)
		{
			Example    *e = &ex[order[k]];

			if (e->fold == skip_fold)
				continue;
			double		z = *bias;

			for (int f = 0; f < e->n; f++)
				z += w[e->bucket[f]] * e->value[f];
			double		p = 1.0 / (1.0 + exp(-z));
			double		g = (p - e->y) * e->weight;

			for (int f = 0; f < e->n; f++)
			{
				uint32_t	b = e->bucket[f];
				double		gi = g * e->value[f] + LAMBDA * w[b];

				g2[b] += (float) (gi * gi);
				w[b] -= (float) (LEARNING_RATE * gi / sqrt(g2[b] + 1e-8));
			}
			bias_g2 += g * g;
			*bias -= LEARNING_RATE * g / sqrt(bias_g2 + 1e-8);
		}
	}
	free(order);
	free(g2);
}

static double
Predict(const Example *e, const float *w, double bias)
{
	double		z = bias;

	for (int f = 0; f < e->n; f++)
		z += w[e->bucket[f]] * e->value[f];
	return 1.0 / (1.0 + exp(-z));
}

static int
IsPositive(const char *label)
{
	return strcmp(label, "jailbreak") == 0 || strcmp(label, "prompt_injection") == 0;
}

int
main(int argc, char **argv)
{
	Corpus		c = {0};
	AgNormText	nt = {0};
	AgFeatures	fv = {0};
	int			folds = 0;
	double		threshold = 0.5;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s CORPUS_DIR OUTPUT_MODEL [--folds K]\n", argv[0]);
		return 2;
	}
	if (argc >= 5 && strcmp(argv[3], "--folds") == 0)
		folds = atoi(argv[4]);
	if (CorpusLoadFolder(&c, argv[1], "jailbreak") != 0 ||
		CorpusLoadFolder(&c, argv[1], "benign") != 0)
		return 1;

	Example    *ex = calloc(c.n, sizeof(Example));
	size_t		n = 0;

	for (size_t i = 0; i < c.n; i++)
	{
		const CorpusDoc *d = &c.docs[i];
		Example    *e = &ex[n];

		if (IsPositive(d->label))
			e->y = 1, e->weight = 1.0;
		else if (strcmp(d->label, "benign") == 0)
			e->y = 0, e->weight = NEG_WEIGHT;
		else if (strcmp(d->label, "harmful_request") == 0)
			e->y = 0, e->weight = 1.0;
		else
			continue;
		if (AgNormalize(&nt, d->text, d->len) != 0 ||
			AgFeaturesExtract(&fv, nt.out.data, nt.out.len, NBUCKETS) != 0)
		{
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		e->n = (int) fv.n;
		e->bucket = malloc(fv.n * sizeof(uint32_t) + 1);
		e->value = malloc(fv.n * sizeof(float) + 1);
		for (size_t f = 0; f < fv.n; f++)
		{
			e->bucket[f] = fv.f[f].bucket;
			e->value[f] = fv.f[f].value;
		}
		e->fold = folds > 0 ?
			(int) (AgFnv1a(AG_FNV_OFFSET, d->text, d->len) % (uint64_t) folds) : -1;
		e->doc = d;
		n++;
	}
	fprintf(stderr, "%zu training examples\n", n);

	float	   *w = malloc(NBUCKETS * sizeof(float));
	double		bias;

	if (folds > 1)
	{
		double	   *oof = malloc(n * sizeof(double));

		for (int k = 0; k < folds; k++)
		{
			Train(ex, n, k, w, &bias);
			for (size_t i = 0; i < n; i++)
				if (ex[i].fold == k)
					oof[i] = Predict(&ex[i], w, bias);
		}
		/* threshold: lowest t >= 0.5 keeping benign out-of-fold FPR <= target */
		for (threshold = 0.5; threshold < 0.99; threshold += 0.01)
		{
			size_t		fp = 0,
						neg = 0;

			for (size_t i = 0; i < n; i++)
				if (strcmp(ex[i].doc->label, "benign") == 0)
				{
					neg++;
					fp += oof[i] >= threshold;
				}
			if (fp <= TARGET_FPR * neg)
				break;
		}
		printf("%d-fold cross-validation, model alone, threshold %.2f\n", folds, threshold);
		printf("%-55s %6s %8s\n", "source file", "rows", "flagged");
		const char *last = "";

		for (size_t i = 0; i < n; i++)
		{
			const char *src = ex[i].doc->source_file;

			if (strcmp(src, last) == 0)
				continue;
			last = src;
			size_t		rows = 0,
						hit = 0;

			for (size_t j = 0; j < n; j++)
				if (strcmp(ex[j].doc->source_file, src) == 0 &&
					strcmp(ex[j].doc->label, ex[i].doc->label) == 0)
				{
					rows++;
					hit += oof[j] >= threshold;
				}
			printf("%-55s %6zu %7.2f%%  (%s)\n", src, rows, 100.0 * hit / rows,
				   ex[i].doc->label);
		}
		free(oof);
	}

	Train(ex, n, -1, w, &bias);

	FILE	   *out = fopen(argv[2], "w");
	size_t		nz = 0;

	if (out == NULL)
	{
		fprintf(stderr, "could not write \"%s\"\n", argv[2]);
		return 1;
	}
	fprintf(out, "aiguard-model 1\n");
	fprintf(out, "# Jailbreak / prompt-injection model, made by tools/ag_train from\n");
	fprintf(out, "# ../shared/corpus (jailbreak/ positives; benign/ and harmful_request negatives).\n");
	fprintf(out, "# Regenerate with: make train-model\n");
	fprintf(out, "name jailbreak\nbuckets %u\nbias %.6f\nthreshold %.2f\n",
			NBUCKETS, bias, threshold);
	for (uint32_t b = 0; b < NBUCKETS; b++)
		if (fabsf(w[b]) >= 0.002f)
		{
			fprintf(out, "%u %.4f\n", b, w[b]);
			nz++;
		}
	fclose(out);
	fprintf(stderr, "wrote %s: %zu weights, bias %.4f, threshold %.2f\n",
			argv[2], nz, bias, threshold);
	AgNormFree(&nt);
	AgFeaturesFree(&fv);
	CorpusFree(&c);
	return 0;
}
