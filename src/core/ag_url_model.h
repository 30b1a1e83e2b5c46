/*
 * ag_url_model.h
 *	  A learned phishing model over a URL's host and path: hashed character
 *	  n-grams and tokens, a logistic linear model.  One of the signs of
 *	  AgUrlLexicalRisk (ag_url_lexical.c); trained by tools/ag_train_url,
 *	  whose weights are compiled in (ag_url_model_data.c).
 *
 * No PostgreSQL here.
 */
#ifndef AG_URL_MODEL_H
#define AG_URL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ag_url.h"

#define AG_URL_MODEL_BUCKETS 65536

/* Room a caller gives AgUrlModelFeatures: enough for any URL. */
#define AG_URL_MODEL_MAX_FEATURES 2048

/*
 * The distinct feature buckets of u (its host and the first bytes of its
 * path and query), in buckets[0..return); 0 for an IP-literal host, which
 * the model does not judge.
 */
extern size_t AgUrlModelFeatures(const AgUrl *u, uint32_t *buckets);

/*
 * Probability of phishing from a model's weights (float, for training) and
 * the buckets of one URL: sigmoid(bias + sum(w) / sqrt(n)).
 */
extern double AgUrlModelProbability(const float *weights, double bias,
									const uint32_t *buckets, size_t n);

/* The built-in model's probability that u is a phishing URL (0 for none). */
extern double AgUrlModelScore(const AgUrl *u);

/*
 * The built-in model's thresholds: a probability at or above the first is
 * a sign of its own, at or above the second (lower) a weak one, which only
 * confirms others.
 */
extern double AgUrlModelThreshold(void);
extern double AgUrlModelWeakThreshold(void);

/* The sign a probability gives under two thresholds (0 gives none). */
extern AgUrlModelSign AgUrlModelSignOf(double p, double threshold, double weak_threshold);

/* The compiled-in model (ag_url_model_data.c, written by tools/ag_train_url). */
extern const int8_t ag_url_model_weights[AG_URL_MODEL_BUCKETS];
extern const double ag_url_model_scale;
extern const double ag_url_model_bias;
extern const double ag_url_model_threshold;
extern const double ag_url_model_weak_threshold;

#endif							/* AG_URL_MODEL_H */
