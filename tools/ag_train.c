/*
 * ag_train.c
 *	  Trains the jailbreak / prompt-injection model shipped in
 *	  rules/jailbreak.model from the labelled corpus.
 *
 *	  ag_train CORPUS_DIR OUTPUT_MODEL [--folds K] [--negatives FILE]...
 *			   [--sanity FILE] [--no-negatives] [tuning options]
 *
 * Positives: jailbreak/ rows labelled "jailbreak" or "prompt_injection".
 * Negatives: benign/ rows, the plain harmful questions of jailbreak/
 * (label "harmful_request": a harmful topic is not a jailbreak, and the
 * model must learn the framing, not the topic), and hand-written benign
 * prompts in eighteen languages (tools/negatives/benign_multilingual_train.txt,
 * "LANG<TAB>text" per line).  The corpus' benign prompts are all English
 * while every non-English prompt in it is a (machine-translated) injection,
 * so without those extra negatives the model learns "not English" as a
 * jailbreak signal and flags any Chinese or Russian small talk.
 * Hand-written benign technical text in eight of them (documentation,
 * tech-support questions; tools/negatives/benign_technical_train.txt,
 * --technical-negatives FILE, weight --technical-weight) keeps it from
 * taking translated manual pages for injections.
 *
 * With --positives FILE and --hard-negatives FILE (plain text, a prompt a
 * line; make train-model passes the probe sets of bench/probes that rules
 * were already written from or that were written for training, never the
 * ones kept unread), hand-written
 * attacks and benign prompts in an attack's words join the training: the
 * corpus's attacks are mostly long templates, and without short ones in
 * new words the model caught under half of the unread probe sets' attacks
 * (see positives_weight below).
 *
 * With --code-negatives LIST (make train-model passes the list of
 * tools/negatives/debian_code.sh train), pieces of benign code, markup,
 * configuration and SQL files are negatives too (weight --code-weight,
 * 1): the corpus' benign prompts hold almost no code, and without them
 * the model took 37% of 2 KiB pieces of Perl, 57% of HTML and 81% of XML
 * for attacks (bench/bench_offcorpus.sh, on the other half of the files).
 * The weight was 0.25 until the hand-written tool outputs with injections
 * joined the positives (28 November 2026): documentation read like them,
 * and the other half's documentation and HTML flagged went from 3 to 8 of
 * 544 texts; at 0.5, 5; at 1, 2, the corpus's recall out of fold 90.80%
 * -> 91.01%, its false positives 21 -> 23 of 3,292 (at the 0.7% the
 * threshold allows), Debian's texts 20 -> 22 and the sanity prompts 6 -> 7.
 *
 * Sanity check: tools/negatives/benign_multilingual_sanity.txt holds other
 * benign prompts in the same nine languages (short generic requests, and
 * innocent uses of "rules", "instructions", "password", "forget", ...).  It
 * is never trained on; the final model's flag rate on it, per language, is
 * printed as an honest estimate of false alarms off the corpus' benign
 * distribution.  The two default files are read relative to the current
 * directory (the Makefile runs from the repository root); when absent the
 * tool says so and goes on without them.
 *
 * Features come from the scanning core itself (AgNormalize, then
 * AgFeaturesExtract), so training and scanning can never disagree.  The
 * learner is L2-regularised logistic regression with AdaGrad, a fixed
 * number of epochs and a fixed-seed shuffle: the same inputs give the same
 * model, byte for byte.  It is tuned for generalisation rather than for
 * fitting the corpus: buckets hit by fewer than 5 training documents stay
 * at weight zero (a feature seen once or twice is mostly a memorised quirk
 * of one prompt), L2 is strong, weights under 0.1 in magnitude are dropped
 * (also from the cross-validation models, so the report describes what is
 * shipped), and feature values have a floor for short texts (ag_model.h).
 * Each choice lowered false alarms on the sanity set and on real
 * multilingual text at a small cost in out-of-fold recall, and together
 * they halve the model file.
 *
 * With --folds K it first runs K-fold cross-validation (folds by a hash of
 * the text), prints out-of-fold recall per source file, the benign
 * false-positive rate and the harmful-question flag rate, and picks the
 * reporting threshold: the lowest probability >= 0.2 (in steps of 0.01) at
 * which out-of-fold false positives on the corpus' benign prompts (not the
 * hand-written ones) stay under 0.7% (--target-fpr).  The product target is
 * at most 1% on unseen data from the same sources; 0.7% leaves room for the
 * difference between folds and a fresh sample, and for the rules' own false
 * positives.  It also prints recall, benign FPR and harmful-question rate
 * at 0.3/0.5/0.7/1% to show the trade-off.  The floor is below 0.5 because
 * strong L2 squeezes the probabilities towards the middle: the threshold is
 * an operating point, not a calibrated probability.  The final model is
 * then trained on everything and checked against the sanity set.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_corpus.h"
#include "ag_model.h"
#include "ag_normalize.h"
#include "ag_shuffle.h"
#include "ag_util.h"

#define DEFAULT_NEGATIVES "tools/negatives/benign_multilingual_train.txt"
#define DEFAULT_SANITY "tools/negatives/benign_multilingual_sanity.txt"
#define DEFAULT_TECHNICAL "tools/negatives/benign_technical_train.txt"
#define MAX_NEG_FILES 8

/* Tuning knobs; the defaults are what rules/jailbreak.model is made with. */
typedef struct TrainConfig
{
	uint32_t	nbuckets;
	int			epochs;
	double		lambda;			/* L2, per update */
	double		learning_rate;
	double		benign_weight;	/* corpus benign/ rows */
	double		harmful_weight; /* harmful_request rows */
	/*
	 * Hand-written negatives: the short prompts in eighteen languages
	 * (extra) and the technical texts in eight (technical).  The prompts
	 * were weighed 6 until the technical texts came (28 November 2026);
	 * with both at 6 the model gave up 8 points of out-of-fold recall on
	 * the translated injections, since the technical texts use their
	 * words (password, ignore, rules) innocently.  Tried on the model
	 * alone, out of fold, with Debian's man pages and fortunes
	 * (debian_text.py, 3,000 texts) and the sanity set (359) never
	 * trained on: 6 and none, as before, 88.2% recall, 123 and 1 flagged;
	 * 6 and 1: 87.0%, 9 and 1; 2 and 0.5: 88.8%, 16 and 4; 1 and 1:
	 * 89.3%, 14 and 8.  2 and 0.5 it is: more recall than before, and an
	 * eighth of the false alarms off the corpus.
	 */
	double		extra_weight;
	/*
	 * Hand-written attacks (--positives) and benign prompts in their words
	 * (--hard-negatives), from the probe sets rules were written from.
	 * Trained on at full weight (1 and 2), the attacks moved the threshold
	 * up and the corpus's out-of-fold recall down from 91.47% to 90.88%
	 * (rules and model); at 0.5, 91.13%, with the corpus's false positives
	 * unchanged (20 of 3,292); at 0.25, 91.55% but 22 false positives and
	 * 3 more Debian texts flagged.  Unread probe sets, 1 / 0.5 / 0.25 /
	 * without: C 91 / 88 / 87 / 66 of 100, D 93 / 84 / 80 / 59, E 59 / 58
	 * / 56 / 42 of 60; their benign prompts 7 / 5 / 5 / 8 of 310.  (That
	 * was with the first sets; the figures of the sets added since are in
	 * the README's "Quality figures".)
	 */
	double		positives_weight;
	double		hard_weight;
	double		technical_weight;
	double		code_weight;	/* code and markup pieces (--code-negatives) */
	int			min_df;
	double		prune;
	double		min_threshold;	/* lowest reporting threshold allowed */
	double		target_fpr;		/* out-of-fold corpus benign FPR allowed */
	uint32_t	gate_buckets;	/* the gate's (0: no gate) */
	/*
	 * The hand-written negatives' weight in the gate's training.  At 6,
	 * the full model's weight then, the 270 prompts in nine more languages
	 * pulled the gate's scores of the translated injections down, and
	 * with them the threshold that must let those through: the shipped
	 * gate stopped 88.8% of the corpus's benign prompts instead of 94.4%
	 * (79.5% out of fold, as reported below).  At 0.25, with the gate
	 * deciding only texts mostly in ASCII, 95.0% (85.7% out of fold); the
	 * full model still learns from them at their full weight.
	 */
	double		gate_extra_weight;
	double		gate_loss;		/* share of flagged positives it may stop */

	/*
	 * The gate's features: words alone (0), or words and word bigrams
	 * (1, --gate-features bigrams).  Out of fold, the bigram gate stopped
	 * 85.1% of the corpus's benign prompts and the words-only gate 83.2%,
	 * each losing 2 of the 2,116 positives the model flags; but a word
	 * costs one bucket instead of two, and over the 1,330 benign 2 KiB
	 * prompt pieces the scan took 4% fewer instructions (220.1M to
	 * 211.3M with callgrind, the full model reading the few more texts
	 * the gate lets through included).
	 */
	int			gate_bigrams;
} TrainConfig;

static TrainConfig cfg = {
	.nbuckets = 1u << 18,
	.epochs = 12,
	.lambda = 1e-3,
	.learning_rate = 0.5,
	.benign_weight = 2.0,
	.harmful_weight = 1.0,
	.extra_weight = 2.0,
	.positives_weight = 0.5,
	.hard_weight = 2.0,
	.technical_weight = 0.5,
	.code_weight = 1.0,
	.min_df = 5,
	.prune = 0.1,
	.min_threshold = 0.2,
	.target_fpr = 0.007,
	.gate_buckets = 1u << 14,
	.gate_extra_weight = 0.25,
	.gate_loss = 0.001,
};

/* One labelled text, from the corpus or from a negatives file. */
typedef struct Doc
{
	const char *text;
	size_t		len;
	const char *label;			/* corpus label, or "benign" */
	const char *source;			/* source file, for the report */
	char		lang[8];		/* only for negatives files */
	int			code;			/* a piece of a --code-negatives file */
	int			technical;		/* a line of a --technical-negatives file */
	int			hard;			/* a line of a --hard-negatives file */
} Doc;

/* A text's distinct features: bucket and value. */
typedef struct Feats
{
	uint32_t   *bucket;
	float	   *value;
	int			n;
} Feats;

/* x[FULL] for the model, x[GATE] (words and bigrams) for its gate */
#define FULL 0
#define GATE 1

typedef struct Example
{
	Feats		x[2];
	int			y;				/* 1 positive, 0 negative */
	double		weight;
	int			fold;
	int			extra;			/* from a negatives file */
	int			gate_applies;	/* AgModelGateApplies: the gate decides */
	Doc			doc;
} Example;

/*
 * Trains on every example not in skip_fold.  Buckets hit by fewer than
 * cfg.min_df of those examples are never updated, so they stay zero.
 */
static void
Train(Example *ex, size_t n, int skip_fold, int which, uint32_t nbuckets,
	  float *w, double *bias)
{
	float	   *g2 = calloc(nbuckets, sizeof(float));
	uint32_t   *df = calloc(nbuckets, sizeof(uint32_t));
	double		bias_g2 = 0;
	size_t	   *order = malloc(n * sizeof(size_t));

	memset(w, 0, nbuckets * sizeof(float));
	*bias = 0;
	/* the gate learns from the texts it decides (AgModelGateApplies) */
	for (size_t i = 0; i < n; i++)
		if (ex[i].fold != skip_fold && (which != GATE || ex[i].gate_applies))
			for (int f = 0; f < ex[i].x[which].n; f++)
				df[ex[i].x[which].bucket[f]]++;
	uint64_t	rng_state = AG_SHUFFLE_SEED;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (int epoch = 0; epoch < cfg.epochs; epoch++)
	{
		AgShuffle(order, n, &rng_state);
		for (size_t k = 0; k < n; k++)
		{
			Example    *e = &ex[order[k]];
			const Feats *x = &e->x[which];

			if (e->fold == skip_fold || (which == GATE && !e->gate_applies))
				continue;
			double		z = *bias;

			for (int f = 0; f < x->n; f++)
				z += w[x->bucket[f]] * x->value[f];
			double		p = 1.0 / (1.0 + exp(-z));
			double		g = (p - e->y) *
				(which == GATE && e->extra && e->y == 0 && !e->doc.code ?
				 cfg.gate_extra_weight : e->weight);

			for (int f = 0; f < x->n; f++)
			{
				uint32_t	b = x->bucket[f];

				if (df[b] < (uint32_t) cfg.min_df)
					continue;
				double		gi = g * x->value[f] + cfg.lambda * w[b];

				g2[b] += (float) (gi * gi);
				w[b] -= (float) (cfg.learning_rate * gi / sqrt(g2[b] + 1e-8));
			}
			bias_g2 += g * g;
			*bias -= cfg.learning_rate * g / sqrt(bias_g2 + 1e-8);
		}
	}
	/* what is not written out must not count in cross-validation either */
	for (uint32_t b = 0; b < nbuckets; b++)
		if (fabsf(w[b]) < cfg.prune)
			w[b] = 0;
	free(order);
	free(df);
	free(g2);
}

static double
Predict(const Feats *x, const float *w, double bias)
{
	double		z = bias;

	for (int f = 0; f < x->n; f++)
		z += w[x->bucket[f]] * x->value[f];
	return 1.0 / (1.0 + exp(-z));
}

/* A model and its gate, as trained (gw NULL: no gate) */
typedef struct Cascade
{
	const float *w;
	double		bias;
	const float *gw;
	double		gbias;
	double		gthreshold;
} Cascade;

/* What the scanner gives: 0 for a text its gate stops, else the model's. */
static double
PredictCascade(const Example *e, const Cascade *m)
{
	if (m->gw && e->gate_applies &&
		Predict(&e->x[GATE], m->gw, m->gbias) < m->gthreshold)
		return 0.0;
	return Predict(&e->x[FULL], m->w, m->bias);
}

/*
 * The weights as a scanner will hold them: written with three decimals,
 * then quantised by AgModelParse (AgQuantizeWeights).  Cross-validation
 * scores the held-out fold with these, so its figures are the shipped
 * model's, rounding included.
 */
static void
AsStored(float *w, uint32_t nbuckets)
{
	int8_t	   *q = malloc(nbuckets);
	double		scale;

	if (q == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (uint32_t b = 0; b < nbuckets; b++)
		w[b] = (float) (round(w[b] * 1000.0) / 1000.0);
	scale = AgQuantizeWeights(w, nbuckets, q);
	for (uint32_t b = 0; b < nbuckets; b++)
		w[b] = (float) (q[b] * scale);
	free(q);
}

/* A benign prompt of the corpus (not one of the hand-written negatives). */
static int
IsCorpusBenign(const Example *e)
{
	return !e->extra && strcmp(e->doc.label, "benign") == 0;
}

/*
 * The lowest threshold >= cfg.min_threshold (in steps of 0.01) at which
 * out-of-fold false positives on the corpus' benign prompts are at most
 * target_fpr of them.
 */
static double
PickThreshold(const Example *ex, size_t n, const double *oof, double target_fpr)
{
	double		t;

	for (t = cfg.min_threshold; t < 0.99; t += 0.01)
	{
		size_t		neg = 0,
					fp = 0;

		for (size_t i = 0; i < n; i++)
			if (IsCorpusBenign(&ex[i]))
			{
				neg++;
				fp += oof[i] >= t;
			}
		if (fp <= target_fpr * neg)
			break;
	}
	return t;
}

static int
IsPositive(const char *label)
{
	return strcmp(label, "jailbreak") == 0 || strcmp(label, "prompt_injection") == 0;
}

/* A file's bytes and a terminating NUL, kept for good; NULL if unreadable. */
static char *
ReadFileText(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	long		size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
		fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(size + 1)) != NULL &&
		fread(buf, 1, size, f) == (size_t) size)
		buf[size] = '\0';
	else
	{
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/*
 * Reads a file of prompts, one a line ('#' comments and empty lines
 * skipped), into docs[] with the given label; the buffer is kept for the
 * texts.  With langs, a line is "LANG<TAB>text" (a line without the tab
 * is skipped).  With newlines, a backslash-n in a line stands for a line
 * break (the probe sets write a multi-line document on one line so, and
 * bench/bench_probes.sh reads them the same way).  Returns the number of
 * prompts read, or -1 when the file cannot be read.
 */
static long
LoadPromptFile(const char *path, const char *label, int langs, int newlines,
			   Doc **docs, size_t *ndocs)
{
	char	   *buf = ReadFileText(path);
	long		got = 0;

	if (buf == NULL)
		return -1;
	for (char *p = buf; *p;)
	{
		char	   *nl = strchr(p, '\n');
		char	   *text;
		size_t		len;

		if (nl)
			*nl = '\0';
		text = langs ? strchr(p, '\t') : p;
		if (text != NULL && langs)
			text++;
		len = text ? strlen(text) : 0;
		if (len > 0 && text[len - 1] == '\r')
			len--;
		if (newlines && text != NULL)
			len = ProbeLineBreaks(text, len);
		if (p[0] != '#' && len > 0)
		{
			Doc		   *d;

			*docs = realloc(*docs, (*ndocs + 1) * sizeof(Doc));
			d = &(*docs)[(*ndocs)++];
			memset(d, 0, sizeof(Doc));
			if (langs)
				snprintf(d->lang, sizeof(d->lang), "%.*s", (int) (text - 1 - p), p);
			d->text = text;
			d->len = len;
			d->label = label;
			d->source = path;
			got++;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return got;
}

/* A negatives file: "LANG<TAB>text" a line. */
static long
LoadTextFile(const char *path, Doc **docs, size_t *ndocs)
{
	return LoadPromptFile(path, "benign", 1, 0, docs, ndocs);
}

/* ForEachFilePiece callback: a copy of each piece as a benign Doc. */
typedef struct CodeDocs
{
	Doc		  **docs;
	size_t	   *ndocs;
} CodeDocs;

static void
AddCodeDoc(CodeDocs *cd, const char *kind, char *text, size_t len)
{
	Doc		   *d;

	*cd->docs = realloc(*cd->docs, (*cd->ndocs + 1) * sizeof(Doc));
	d = &(*cd->docs)[(*cd->ndocs)++];
	memset(d, 0, sizeof(Doc));
	snprintf(d->lang, sizeof(d->lang), "%.7s", kind);
	d->text = text;
	d->len = len;
	d->label = "benign";
	d->source = "code and markup (tools/negatives/debian_code.sh train)";
	d->code = 1;
}

/*
 * Questions about a snippet of code, for the one-line form of each piece
 * (see AddCodePiece).  bench/bench_offcorpus.c asks about the other half of
 * the files with questions of its own.
 */
static const char *const code_questions[] = {
	"What does this do?", "Can you help me understand this:",
	"Why am I getting an error with", "How would I write this in Go?",
	"Please review this:", "Could you simplify the following:",
	"What is the output of", "Add comments to this:",
	"Is there a bug in this?", "Explain this to a beginner:",
};

/*
 * ForEachFilePiece callback: a copy of each piece as a benign Doc, and for
 * one piece in SNIPPET_EVERY a question followed by its first lines run
 * together on one line, as people paste a snippet into a chat.  Without
 * them, a request followed by one line of code looked like a request with a
 * machine-made suffix (10 of 2,562 such texts flagged; with one in four,
 * 4; with every piece, none, but 2.3 points of recall lost, since every one
 * is also an English request taught to be benign).
 */
#define SNIPPET_EVERY 4

static void
AddCodePiece(const char *kind, const char *path, const char *text, size_t len, void *arg)
{
	CodeDocs   *cd = (CodeDocs *) arg;
	char	   *copy = malloc(len + 1);
	uint64_t	h = AgFnv1a(AG_FNV_OFFSET, text, len);
	const char *q = code_questions[h % (sizeof(code_questions) / sizeof(code_questions[0]))];
	int			want_lines = 1 + (int) ((h >> 8) % 5);
	size_t		qlen = strlen(q);
	char	   *line = malloc(qlen + 1 + 300 + 1);
	size_t		n;

	(void) path;
	if (copy == NULL || line == NULL)
	{
		free(copy);
		free(line);
		return;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	AddCodeDoc(cd, kind, copy, len);
	if ((h >> 16) % SNIPPET_EVERY != 0)
	{
		free(line);
		return;
	}

	n = OneLineSnippet(q, text, len, 0, want_lines, 300, line, qlen + 1 + 300 + 1);
	AddCodeDoc(cd, kind, line, n);
}

static int
KeepFeats(Feats *x, const AgFeatures *fv)
{
	x->n = (int) fv->n;
	x->bucket = malloc(fv->n * sizeof(uint32_t) + 1);
	x->value = malloc(fv->n * sizeof(float) + 1);
	if (x->bucket == NULL || x->value == NULL)
		return -1;
	for (size_t f = 0; f < fv->n; f++)
	{
		x->bucket[f] = fv->f[f].bucket;
		x->value[f] = fv->f[f].value;
	}
	return 0;
}

static int
MakeExample(Example *e, const Doc *d, AgNormText *nt, AgFeatures *fv, int folds)
{
	if (AgNormalize(nt, d->text, d->len) != 0 ||
		AgFeaturesExtract(fv, nt->out.data, nt->out.len, cfg.nbuckets) != 0 ||
		KeepFeats(&e->x[FULL], fv) != 0)
		return -1;
	if (cfg.gate_buckets > 0 &&
		(AgFeaturesExtractWords(fv, nt->out.data, nt->out.len, cfg.gate_buckets,
								cfg.gate_bigrams) != 0 ||
		 KeepFeats(&e->x[GATE], fv) != 0))
		return -1;
	e->gate_applies = AgModelGateApplies(nt->out.data, nt->out.len);
	/* without folds every example is in fold 0, so Train(..., -1) uses all */
	e->fold = folds > 1 ?
		(int) (AgFnv1a(AG_FNV_OFFSET, d->text, d->len) % (uint64_t) folds) : 0;
	e->doc = *d;
	return 0;
}

/* Flag rate of the sanity set per language; lists what it flags. */
static void
ReportSanity(const Example *san, size_t nsan, const Cascade *m,
			 double threshold)
{
	char		langs[32][8];
	int			nlangs = 0;
	size_t		hit_all = 0;

	for (size_t i = 0; i < nsan; i++)
	{
		int			k;

		for (k = 0; k < nlangs; k++)
			if (strcmp(langs[k], san[i].doc.lang) == 0)
				break;
		if (k == nlangs && nlangs < 32)
			strcpy(langs[nlangs++], san[i].doc.lang);
	}
	printf("sanity set (held aside, never trained on), final model, threshold %.2f\n",
		   threshold);
	for (int k = 0; k < nlangs; k++)
	{
		size_t		rows = 0,
					hit = 0;
		double		maxp = 0;

		for (size_t i = 0; i < nsan; i++)
			if (strcmp(san[i].doc.lang, langs[k]) == 0)
			{
				double		p = PredictCascade(&san[i], m);

				rows++;
				hit += p >= threshold;
				if (p > maxp)
					maxp = p;
			}
		hit_all += hit;
		printf("  %-4s %4zu rows %3zu flagged %6.2f%%  (max score %.3f)\n",
			   langs[k], rows, hit, 100.0 * hit / rows, maxp);
	}
	printf("  all  %4zu rows %3zu flagged %6.2f%%\n", nsan, hit_all,
		   nsan ? 100.0 * hit_all / nsan : 0.0);
	for (size_t i = 0; i < nsan; i++)
	{
		double		p = PredictCascade(&san[i], m);

		if (p >= threshold)
			printf("  flagged %.3f [%s] %.*s\n", p, san[i].doc.lang,
				   (int) san[i].doc.len, san[i].doc.text);
	}
}

static const char *oof_out_path = NULL;

static const char *code_list_path = NULL;

/*
 * Hand-written prompts outside the corpus, one per line: attacks
 * (--positives) and benign prompts in an attack's words (--hard-negatives).
 * make train-model passes the probe sets of bench/probes that rules were
 * already written from or that were written to be trained on; the sets
 * never read stay out, to measure.
 */
#define MAX_LINE_FILES 32
static const char *positive_paths[MAX_LINE_FILES];
static int	npositive_paths = 0;
static const char *hard_negative_paths[MAX_LINE_FILES];
static int	nhard_negative_paths = 0;
static const char *technical_path = DEFAULT_TECHNICAL;

static int
ParseArgs(int argc, char **argv, int *folds, const char **negs, int *nnegs,
		  const char **sanity)
{
	for (int i = 3; i < argc; i++)
	{
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--no-negatives") == 0)
		{
			*nnegs = 0;
			technical_path = NULL;
			continue;
		}
		if (v == NULL)
			return -1;
		i++;
		if (strcmp(a, "--folds") == 0)
			*folds = atoi(v);
		else if (strcmp(a, "--negatives") == 0)
		{
			/* the first explicit file replaces the default */
			static int	explicit = 0;

			if (!explicit)
				*nnegs = 0, explicit = 1;
			if (*nnegs < MAX_NEG_FILES)
				negs[(*nnegs)++] = v;
		}
		else if (strcmp(a, "--sanity") == 0)
			*sanity = v;
		else if (strcmp(a, "--code-negatives") == 0)
			code_list_path = v;
		else if (strcmp(a, "--positives-weight") == 0)
			cfg.positives_weight = atof(v);
		else if (strcmp(a, "--hard-weight") == 0)
			cfg.hard_weight = atof(v);
		else if (strcmp(a, "--positives") == 0)
		{
			if (npositive_paths == MAX_LINE_FILES)
				return -1;
			positive_paths[npositive_paths++] = v;
		}
		else if (strcmp(a, "--hard-negatives") == 0)
		{
			if (nhard_negative_paths == MAX_LINE_FILES)
				return -1;
			hard_negative_paths[nhard_negative_paths++] = v;
		}
		else if (strcmp(a, "--code-weight") == 0)
			cfg.code_weight = atof(v);
		else if (strcmp(a, "--technical-negatives") == 0)
			technical_path = v;
		else if (strcmp(a, "--technical-weight") == 0)
			cfg.technical_weight = atof(v);
		else if (strcmp(a, "--oof-out") == 0)
			oof_out_path = v;
		else if (strcmp(a, "--buckets") == 0)
			cfg.nbuckets = (uint32_t) strtoul(v, NULL, 10);
		else if (strcmp(a, "--epochs") == 0)
			cfg.epochs = atoi(v);
		else if (strcmp(a, "--lambda") == 0)
			cfg.lambda = atof(v);
		else if (strcmp(a, "--lr") == 0)
			cfg.learning_rate = atof(v);
		else if (strcmp(a, "--benign-weight") == 0)
			cfg.benign_weight = atof(v);
		else if (strcmp(a, "--harmful-weight") == 0)
			cfg.harmful_weight = atof(v);
		else if (strcmp(a, "--extra-weight") == 0)
			cfg.extra_weight = atof(v);
		else if (strcmp(a, "--min-df") == 0)
			cfg.min_df = atoi(v);
		else if (strcmp(a, "--prune") == 0)
			cfg.prune = atof(v);
		else if (strcmp(a, "--min-threshold") == 0)
			cfg.min_threshold = atof(v);
		else if (strcmp(a, "--gate-buckets") == 0)
			cfg.gate_buckets = (uint32_t) strtoul(v, NULL, 10);
		else if (strcmp(a, "--gate-loss") == 0)
			cfg.gate_loss = atof(v);
		else if (strcmp(a, "--gate-extra-weight") == 0)
			cfg.gate_extra_weight = atof(v);
		else if (strcmp(a, "--gate-features") == 0)
		{
			if (strcmp(v, "words") == 0)
				cfg.gate_bigrams = 0;
			else if (strcmp(v, "bigrams") == 0)
				cfg.gate_bigrams = 1;
			else
				return -1;
		}
		else if (strcmp(a, "--target-fpr") == 0)
			cfg.target_fpr = atof(v);
		else
			return -1;
	}
	if (cfg.nbuckets < 16 || (cfg.nbuckets & (cfg.nbuckets - 1)) != 0)
		return -1;
	if (cfg.gate_buckets != 0 &&
		(cfg.gate_buckets < 16 || cfg.gate_buckets > cfg.nbuckets ||
		 (cfg.gate_buckets & (cfg.gate_buckets - 1)) != 0))
		return -1;
	if (!(cfg.gate_loss >= 0 && cfg.gate_loss < 0.5))
		return -1;
	return 0;
}

static int
CompareDoubles(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * The gate's threshold from the positives outside skip_fold (-1: all) that
 * the model flags out of fold (oof at threshold), by their gate scores
 * goof: the highest, to four decimals, under which at most gate_loss of
 * them fall; 0 (no gate) when there is none to go by.  Kept inside (0, 1),
 * which is what a model file allows.  kept is scratch for n scores; *nk
 * gets how many positives it went by.
 */
static double
GateThreshold(const Example *ex, size_t n, const double *oof,
			  const double *goof, double threshold, int skip_fold,
			  double *kept, size_t *nk)
{
	double		t;

	*nk = 0;
	for (size_t i = 0; i < n; i++)
		if (ex[i].fold != skip_fold && ex[i].y == 1 && oof[i] >= threshold)
			kept[(*nk)++] = goof[i];
	if (*nk == 0)
		return 0;
	qsort(kept, *nk, sizeof(double), CompareDoubles);
	t = floor(kept[(size_t) (cfg.gate_loss * *nk)] * 1e4) / 1e4;
	return t < 1e-4 ? 0 : t > 0.9999 ? 0.9999 : t;
}

int
main(int argc, char **argv)
{
	Corpus		c = {0};
	AgNormText	nt = {0};
	AgFeatures	fv = {0};
	int			folds = 0;
	double		threshold = 0.5;
	const char *negs[MAX_NEG_FILES] = {DEFAULT_NEGATIVES};
	int			nnegs = 1;
	const char *sanity_path = DEFAULT_SANITY;
	Doc		   *extra = NULL;
	size_t		nextra = 0;
	Doc		   *sandocs = NULL;
	size_t		nsandocs = 0;

	if (argc < 3 || ParseArgs(argc, argv, &folds, negs, &nnegs, &sanity_path) != 0)
	{
		fprintf(stderr, "usage: %s CORPUS_DIR OUTPUT_MODEL [--folds K] [--negatives FILE]...\n"
				"          [--no-negatives] [--sanity FILE] [--buckets N] [--epochs N]\n"
				"          [--lambda X] [--lr X] [--benign-weight X] [--harmful-weight X]\n"
				"          [--extra-weight X] [--min-df N] [--prune X] [--min-threshold X]\n"
				"          [--target-fpr X] [--oof-out FILE] [--code-negatives LIST]\n"
				"          [--code-weight X] [--gate-buckets N] [--gate-loss X]\n"
				"          [--gate-extra-weight X] [--gate-features words|bigrams]\n"
				"          [--technical-negatives FILE] [--technical-weight X]\n"
				"          [--positives FILE]... [--hard-negatives FILE]...\n", argv[0]);
		return 2;
	}
	if (CorpusLoadFolder(&c, argv[1], "jailbreak") != 0 ||
		CorpusLoadFolder(&c, argv[1], "benign") != 0)
		return 1;
	for (int k = 0; k < nnegs; k++)
	{
		long		got = LoadTextFile(negs[k], &extra, &nextra);

		if (got < 0)
			fprintf(stderr, "extra negatives \"%s\" not found: training without them\n",
					negs[k]);
		else
			fprintf(stderr, "extra negatives \"%s\": %ld prompts\n", negs[k], got);
	}
	if (technical_path != NULL)
	{
		size_t		first = nextra;
		long		got = LoadTextFile(technical_path, &extra, &nextra);

		if (got < 0)
			fprintf(stderr, "technical negatives \"%s\" not found: training without them\n",
					technical_path);
		else
			fprintf(stderr, "technical negatives \"%s\": %ld texts\n", technical_path, got);
		for (size_t i = first; i < nextra; i++)
			extra[i].technical = 1;
	}
	if (code_list_path != NULL)
	{
		CodeDocs	cd = {&extra, &nextra};
		long		got = ForEachFilePiece(code_list_path, AddCodePiece, &cd);

		if (got < 0)
		{
			fprintf(stderr, "code negatives list \"%s\" cannot be read\n", code_list_path);
			return 1;
		}
		fprintf(stderr, "code negatives \"%s\": %ld pieces\n", code_list_path, got);
	}
	for (int k = 0; k < npositive_paths + nhard_negative_paths; k++)
	{
		int			positive = k < npositive_paths;
		const char *path = positive ? positive_paths[k] : hard_negative_paths[k - npositive_paths];
		size_t		first = nextra;
		long		got = LoadPromptFile(path, positive ? "jailbreak" : "benign", 0, 1,
											 &extra, &nextra);

		if (got < 0)
		{
			fprintf(stderr, "prompts file \"%s\" cannot be read\n", path);
			return 1;
		}
		fprintf(stderr, "hand-written %s \"%s\": %ld prompts\n",
				positive ? "attacks" : "benign prompts", path, got);
		for (size_t i = first; i < nextra; i++)
			extra[i].hard = !positive;
	}
	if (LoadTextFile(sanity_path, &sandocs, &nsandocs) < 0)
		fprintf(stderr, "sanity set \"%s\" not found: no sanity check\n", sanity_path);

	Example    *ex = calloc(c.n + nextra, sizeof(Example));
	Example    *san = calloc(nsandocs + 1, sizeof(Example));
	size_t		n = 0;

	for (size_t i = 0; i < c.n + nextra; i++)
	{
		Example    *e = &ex[n];
		Doc			d;

		if (i < c.n)
		{
			d.text = c.docs[i].text;
			d.len = c.docs[i].len;
			d.label = c.docs[i].label;
			d.source = c.docs[i].source_file;
			d.lang[0] = '\0';
		}
		else
		{
			d = extra[i - c.n];
			e->extra = 1;
		}
		if (IsPositive(d.label))
			e->y = 1, e->weight = e->extra ? cfg.positives_weight : 1.0;
		else if (e->extra)
			e->y = 0, e->weight = d.code ? cfg.code_weight :
				d.technical ? cfg.technical_weight :
				d.hard ? cfg.hard_weight : cfg.extra_weight;
		else if (strcmp(d.label, "benign") == 0)
			e->y = 0, e->weight = cfg.benign_weight;
		else if (strcmp(d.label, "harmful_request") == 0)
			e->y = 0, e->weight = cfg.harmful_weight;
		else
			continue;
		if (MakeExample(e, &d, &nt, &fv, folds) != 0)
		{
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		n++;
	}
	for (size_t i = 0; i < nsandocs; i++)
		if (MakeExample(&san[i], &sandocs[i], &nt, &fv, 0) != 0)
		{
			fprintf(stderr, "out of memory\n");
			return 1;
		}
	fprintf(stderr, "%zu training examples (%zu extra negatives), %zu sanity prompts\n",
			n, nextra, nsandocs);

	float	   *w = malloc(cfg.nbuckets * sizeof(float));
	float	   *gw = cfg.gate_buckets ? malloc(cfg.gate_buckets * sizeof(float)) : NULL;
	double		bias,
				gbias = 0,
				gthreshold = 0;

	if (folds > 1)
	{
		double	   *oof = malloc(n * sizeof(double));
		double	   *goof = malloc(n * sizeof(double));
		size_t		pos = 0,
					tp = 0,
					neg = 0,
					fp = 0;

		for (int k = 0; k < folds; k++)
		{
			Train(ex, n, k, FULL, cfg.nbuckets, w, &bias);
			AsStored(w, cfg.nbuckets);
			if (gw)
			{
				Train(ex, n, k, GATE, cfg.gate_buckets, gw, &gbias);
				AsStored(gw, cfg.gate_buckets);
			}
			for (size_t i = 0; i < n; i++)
				if (ex[i].fold == k)
				{
					oof[i] = Predict(&ex[i].x[FULL], w, bias);
					/* a text the gate does not decide passes it */
					goof[i] = gw && ex[i].gate_applies ?
						Predict(&ex[i].x[GATE], gw, gbias) : 1.0;
				}
		}
		threshold = PickThreshold(ex, n, oof, cfg.target_fpr);
		if (gw)
		{
			/*
			 * The gate's threshold: the highest (to four decimals) that stops
			 * at most gate_loss of the positives the model flags out of fold;
			 * from then on the figures are the pair's, as shipped.
			 */
			double	   *kept = malloc(n * sizeof(double));
			size_t		nk = 0,
						lost = 0,
						stopped[3] = {0, 0, 0},
						of[3] = {0, 0, 0};

			size_t		nested_lost = 0;

			/*
			 * The threshold is chosen on the texts it is then measured on;
			 * for an estimate free of that, each fold's positives are also
			 * measured against a threshold chosen on the other folds.
			 */
			for (int k = 0; k < folds; k++)
			{
				double		t = GateThreshold(ex, n, oof, goof, threshold, k, kept, &nk);

				for (size_t i = 0; i < n; i++)
					if (ex[i].fold == k && ex[i].y == 1 && oof[i] >= threshold)
						nested_lost += goof[i] < t;
			}
			gthreshold = GateThreshold(ex, n, oof, goof, threshold, -1, kept, &nk);
			for (size_t i = 0; i < n; i++)
			{
				int			kind = IsCorpusBenign(&ex[i]) ? 0 : ex[i].doc.code ? 1 :
					ex[i].extra ? 2 : -1;

				if (ex[i].y == 1 && oof[i] >= threshold && goof[i] < gthreshold)
					lost++;
				if (kind >= 0)
				{
					of[kind]++;
					stopped[kind] += goof[i] < gthreshold;
				}
				if (goof[i] < gthreshold)
					oof[i] = 0.0;
			}
			printf("gate (%s, %u buckets), threshold %.4f: stops %zu of the %zu positives the model flags\n"
				   "  (%zu with each fold's threshold chosen on the other folds);\n"
				   "  stops %.1f%% of corpus benign prompts, %.1f%% of code pieces, %.1f%% of hand-written negatives\n",
				   cfg.gate_bigrams ? "words and bigrams" : "words", cfg.gate_buckets,
				   gthreshold, lost, nk, nested_lost,
				   of[0] ? 100.0 * stopped[0] / of[0] : 0.0,
				   of[1] ? 100.0 * stopped[1] / of[1] : 0.0,
				   of[2] ? 100.0 * stopped[2] / of[2] : 0.0);
			free(kept);
		}
		fp = neg = 0;
		for (size_t i = 0; i < n; i++)
			if (IsCorpusBenign(&ex[i]))
			{
				neg++;
				fp += oof[i] >= threshold;
			}
		printf("%d-fold cross-validation, model alone%s, threshold %.2f\n", folds,
			   gw ? " (with its gate)" : "", threshold);
		printf("%-60s %6s %8s\n", "source file", "rows", "flagged");
		const char *last = "";

		for (size_t i = 0; i < n; i++)
		{
			const char *src = ex[i].doc.source;

			if (strcmp(src, last) == 0)
				continue;
			last = src;
			size_t		rows = 0,
						hit = 0;

			for (size_t j = 0; j < n; j++)
				if (strcmp(ex[j].doc.source, src) == 0 &&
					strcmp(ex[j].doc.label, ex[i].doc.label) == 0)
				{
					rows++;
					hit += oof[j] >= threshold;
				}
			printf("%-60s %6zu %7.2f%%  (%s)\n", src, rows, 100.0 * hit / rows,
				   ex[i].doc.label);
		}
		for (size_t i = 0; i < n; i++)
			if (ex[i].y == 1)
			{
				pos++;
				tp += oof[i] >= threshold;
			}
		printf("out-of-fold recall %.2f%% (%zu/%zu), corpus benign FPR %.2f%% (%zu/%zu)\n",
			   100.0 * tp / pos, tp, pos, 100.0 * fp / neg, fp, neg);
		/* the trade-off around the chosen point, to judge the target */
		for (int k = 0; k < 4; k++)
		{
			static const double targets[4] = {0.003, 0.005, 0.007, 0.010};
			double		t = PickThreshold(ex, n, oof, targets[k]);
			size_t		p = 0,
						b = 0,
						h = 0,
						hn = 0;

			for (size_t i = 0; i < n; i++)
			{
				if (ex[i].y == 1)
					p += oof[i] >= t;
				else if (IsCorpusBenign(&ex[i]))
					b += oof[i] >= t;
				else if (strcmp(ex[i].doc.label, "harmful_request") == 0)
					hn++, h += oof[i] >= t;
			}
			printf("  fpr<=%.1f%%: threshold %.2f recall %.2f%% benign FPR %.2f%% harmful %.2f%%\n",
				   100 * targets[k], t, 100.0 * p / pos, 100.0 * b / neg,
				   hn ? 100.0 * h / hn : 0.0);
		}
		if (oof_out_path)
		{
			/* for bench_quality: each corpus text's out-of-fold score */
			FILE	   *of = fopen(oof_out_path, "w");

			if (of == NULL)
			{
				fprintf(stderr, "could not write \"%s\"\n", oof_out_path);
				return 1;
			}
			fprintf(of, "threshold %.2f\n", threshold);
			for (size_t i = 0; i < n; i++)
				if (!ex[i].extra)
					fprintf(of, "%016llx %.4f\n",
							(unsigned long long) AgFnv1a(AG_FNV_OFFSET, ex[i].doc.text, ex[i].doc.len),
							oof[i]);
			fclose(of);
		}
		free(oof);
		free(goof);
	}
	else
		fprintf(stderr, "no --folds: threshold not tuned, writing %.2f\n", threshold);

	Train(ex, n, -1, FULL, cfg.nbuckets, w, &bias);
	if (gw)
		Train(ex, n, -1, GATE, cfg.gate_buckets, gw, &gbias);
	if (nsandocs > 0)
	{
		Cascade		m = {w, bias, gw, gbias, gthreshold};

		ReportSanity(san, nsandocs, &m, threshold);
	}

	FILE	   *out = fopen(argv[2], "w");
	size_t		nz = 0;

	if (out == NULL)
	{
		fprintf(stderr, "could not write \"%s\"\n", argv[2]);
		return 1;
	}
	fprintf(out, "aiguard-model 1\n");
	fprintf(out, "# Jailbreak / prompt-injection model, made by tools/ag_train from\n");
	fprintf(out, "# ../shared/corpus (jailbreak/ positives; benign/ and harmful_request\n");
	fprintf(out, "# negatives) and tools/negatives/ (multilingual benign negatives%s).\n",
			code_list_path ? "; code and markup\n# from tools/negatives/debian_code.sh train" : "");
	fprintf(out, "# Regenerate with: make train-model\n");
	fprintf(out, "name jailbreak\nbuckets %u\nbias %.6f\nthreshold %.2f\n",
			cfg.nbuckets, bias, threshold);
	for (uint32_t b = 0; b < cfg.nbuckets; b++)
		if (w[b] != 0)
		{
			fprintf(out, "%u %.3f\n", b, w[b]);
			nz++;
		}
	if (gw && gthreshold <= 0)
		fprintf(stderr, "no gate written: its threshold needs --folds and positives the model flags\n");
	if (gw && gthreshold > 0)
	{
		fprintf(out, "# The gate: %s only; a text it scores under its\n"
				"# threshold is taken as benign without the model (ag_model.h).\n",
				cfg.gate_bigrams ? "words and bigrams" : "words");
		fprintf(out, "gate\nfeatures %s\nbuckets %u\nbias %.6f\nthreshold %.4f\n",
				cfg.gate_bigrams ? "words bigrams" : "words",
				cfg.gate_buckets, gbias, gthreshold);
		for (uint32_t b = 0; b < cfg.gate_buckets; b++)
			if (gw[b] != 0)
				fprintf(out, "%u %.3f\n", b, gw[b]);
	}
	fclose(out);
	fprintf(stderr, "wrote %s: %zu weights, bias %.4f, threshold %.2f\n",
			argv[2], nz, bias, threshold);
	AgNormFree(&nt);
	AgFeaturesFree(&fv);
	CorpusFree(&c);
	return 0;
}
