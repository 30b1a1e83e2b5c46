/*
 * ag_model.h
 *	  Linear model over hashed word and character n-grams of normalised
 *	  text: feature extraction (shared by the scanner and the training
 *	  tool, so both see exactly the same features) and scoring.
 */
#ifndef AG_MODEL_H
#define AG_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum
{
	AG_FEAT_WORD = 1,
	AG_FEAT_BIGRAM = 2,
	AG_FEAT_CHAR3 = 3,
	AG_FEAT_CHAR5 = 4,
	AG_FEAT_STAT = 6			/* token statistics, binned (5 was token shapes) */
};

typedef struct AgFeature
{
	uint32_t	bucket;
	float		value;
	uint32_t	off;			/* span in the normalised text */
	uint32_t	len;
	uint8_t		kind;
} AgFeature;

/* Reusable feature vector; zero-initialise, free with AgFeaturesFree. */
typedef struct AgFeatures
{
	AgFeature  *f;
	size_t		n;
	size_t		cap;
	uint32_t   *b;				/* buckets only (AgModelScoreText) */
	size_t		bcap;
	uint32_t   *seen;			/* bitmap over the buckets */
	size_t		seencap;
	size_t		seenmask;		/* size in use - 1 (a power of two) */
} AgFeatures;

/*
 * Feature values are 1/sqrt(max(n, AG_FEAT_NORM_FLOOR)) for n distinct
 * features.  Plain L2 normalisation (floor 1) gives each feature of a
 * five-word text a value several times that of a paragraph's, so a couple
 * of common words ("please", "this") decide short texts on their own; the
 * floor keeps short texts near the bias unless their words are telling.
 * Changing it changes every score: retrain the model (make train-model).
 */
#ifndef AG_FEAT_NORM_FLOOR
#define AG_FEAT_NORM_FLOOR 256
#endif

/*
 * Extracts the distinct hashed features of normalised text into fv, values
 * as above; nbuckets must be a power of two.  0 or -1 (no memory).
 */
extern int	AgFeaturesExtract(AgFeatures *fv, const char *norm, size_t len,
							  uint32_t nbuckets);

/*
 * Word features only, and word bigrams with bigrams: what a gate (below)
 * reads.  The same words and bigrams as AgFeaturesExtract's, hashed another
 * way (a word's bytes eight at a time, not one by one), so their buckets
 * differ.
 */
extern int	AgFeaturesExtractWords(AgFeatures *fv, const char *norm,
								   size_t len, uint32_t nbuckets, int bigrams);
extern void AgFeaturesFree(AgFeatures *fv);

/*
 * Weights are kept as 8-bit integers times one scale: a quarter of the
 * memory of floats, so the table a text's features look up stays in cache
 * between one insert and the next; and sums of integers are exact in any
 * order, so the fast path adds them up in whatever order is quickest and
 * still gives AgModelScore's result bit for bit.
 */
typedef struct AgModel
{
	char		name[64];
	uint32_t	nbuckets;
	int8_t	   *weights;		/* weight = weights[b] * weight_scale */
	double		weight_scale;
	double		bias;
	double		threshold;		/* probability at which it reports */
	size_t		nonzero;

	/*
	 * A gate (or NULL): a small model of the same form over words alone,
	 * or words and word bigrams (AgFeaturesExtractWords; the model file's
	 * "features" line), trained beside this one.  A
	 * text it scores under its own threshold is taken as benign without the
	 * full model: in training that threshold lost at most a set share (0.1%)
	 * of the texts the full model flagged out of fold, while most benign
	 * texts stop there.  Its nbuckets is a power of two no larger than this
	 * model's.
	 */
	struct AgModel *gate;
	int			bigrams;		/* a gate: its features include word bigrams */
} AgModel;

extern AgModel *AgModelParse(const char *text, size_t len, char *errbuf,
							 size_t errlen);
extern void AgModelFree(AgModel *model);

/*
 * Quantises w[0..n) to q (the scale times q[b] is the nearest to w[b]);
 * returns the scale.  The one rounding rule of the model file's weights.
 */
extern double AgQuantizeWeights(const float *w, uint32_t n, int8_t *q);

/* Probability for a feature vector (logistic of the linear score). */
extern double AgModelScore(const AgModel *model, const AgFeatures *fv);

/*
 * AgModelScore(model, features of norm), bit for bit, without recording
 * the features' kinds and spans: uses fv's bucket buffer (16384 buckets at
 * a time, however long the text) and bitmap, leaves its feature list fv->f
 * empty, and sets *p.  With use_gate and a model that has a gate, a text
 * the gate applies to (AgModelGateApplies) and scores under its threshold
 * gets *p = 0 and *gated = 1 (gated may be NULL) without the full model.
 * 0 or -1 (no memory).
 */
extern int	AgModelScoreText(const AgModel *model, AgFeatures *fv,
							 const char *norm, size_t len, int use_gate,
							 double *p, int *gated);

/*
 * Whether the gate decides for norm: a text mostly in ASCII once
 * normalised (at most a quarter of its bytes beyond it, so English and the
 * Latin-script languages whose accents normalisation drops).  Other
 * scripts always go to the full model: the corpus holds them only as
 * injections, and a gate that must pass every one of those while stopping
 * everyday text in the same scripts stops far less English (its threshold
 * is set by the positives it may not stop).  ag_train sets the threshold
 * on the texts this admits.
 */
extern int	AgModelGateApplies(const char *norm, size_t len);

/*
 * Asks for the gate's weights to be brought into cache (prefetches, no
 * wait): a scan calls it before normalising, so that by the time the gate
 * reads them, all over its table, they are near.
 */
extern void AgModelPrefetchGate(const AgModel *model);

/*
 * The gate's probability for norm (AgModelScore(model->gate, words-only
 * features of norm), bit for bit), as AgModelScoreText computes it before
 * deciding; for tests and diagnostics.  0, or -1 (no gate, no memory).
 */
extern int	AgModelGateScore(const AgModel *model, AgFeatures *fv,
							 const char *norm, size_t len, double *p);

/*
 * Indexes (into fv->f) of up to k word or bigram features that pushed the
 * score up most, strongest first; returns how many.
 */
extern int	AgModelTopFeatures(const AgModel *model, const AgFeatures *fv,
							   int k, size_t *idx);

/*
 * The same for norm, read for its words and bigrams alone (with the
 * model's hashes, spans kept in fv): the top terms of a text the model
 * reports, without the character n-grams that are most of a full
 * extraction's work and never among them.  A word or bigram whose bucket
 * a character n-gram of the text shares is a candidate here, where
 * AgFeaturesExtract keeps the n-gram (the first feature of a bucket).
 * Returns how many, or -1 (no memory).
 */
extern int	AgModelTopTerms(const AgModel *model, AgFeatures *fv,
							const char *norm, size_t len, int k, size_t *idx);

#endif							/* AG_MODEL_H */
