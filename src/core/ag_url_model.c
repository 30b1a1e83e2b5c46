/*
 * ag_url_model.c
 *	  A learned phishing model over a URL: what its host and path look like.
 *
 * The hand-set signs of ag_url_lexical.c name what phishing URLs do (a
 * brand outside its domain, a look-alike host, a login page in an upload
 * folder); they miss what is only a resemblance: the made-up names of
 * phishing kits' throw-away domains ("jbaeszfj.com", "ame-perto-de-voce.com"),
 * their paths ("/Sites/index.html", "/v1/check", "/oferta-do-dia/"), the
 * words of their lures in a host ("depart-recovery-society").  This model
 * learns those from labelled URLs (tools/ag_train_url):
 *
 *  - character 3-, 4- and 5-grams of the host, with its start and end
 *    marked ("^jba", "fj.com$");
 *  - character 3-, 4- and 5-grams of the lowercased path and query (their
 *    first PATH_BYTES bytes);
 *  - the host's words (labels split at dots and hyphens), its last label
 *    (the TLD) on its own, the path's words (runs of letters and digits),
 *    and the path's length in bins of 8 bytes (up to 64).
 *
 * Each distinct feature is hashed (FNV-1a, a seed per kind) into one of
 * AG_URL_MODEL_BUCKETS buckets and counted once; the probability is
 * sigmoid(bias + sum of their weights / sqrt(their number)).  At or above
 * the model's threshold it is a sign of its own in the lexical score; at
 * or above its weak threshold, a weak sign that only confirms another
 * (ag_url.h).  The scheme is
 * not a feature: the benign URLs of the training data are of 2016, when
 * most sites still served http, and the model must not learn that.
 * IP-literal hosts are left to the hand-set signs.
 *
 * The shipped weights are 8-bit integers times one scale, compiled in
 * (ag_url_model_data.c): 64 KiB of read-only data that every backend maps
 * from the library file; nothing is loaded or parsed per session.
 */
#include "ag_url_model.h"

#include <math.h>
#include <string.h>

#define PATH_BYTES 128
#define BUCKET_MASK (AG_URL_MODEL_BUCKETS - 1)

enum
{
	SEED_HOST_GRAM = 1,
	SEED_PATH_GRAM,
	SEED_HOST_WORD,
	SEED_TLD,
	SEED_PATH_WORD,
	SEED_PATH_LENGTH
};

typedef struct Collector
{
	uint32_t   *buckets;
	size_t		n;
	uint64_t	seen[AG_URL_MODEL_BUCKETS / 64];
} Collector;

static uint32_t
Mix(uint32_t h)
{
	h ^= h >> 16;
	h *= UINT32_C(0x7feb352d);
	h ^= h >> 15;
	h *= UINT32_C(0x846ca68b);
	h ^= h >> 16;
	return h;
}

static uint32_t
HashBytes(const unsigned char *s, size_t n, uint32_t seed)
{
	uint32_t	h = UINT32_C(2166136261) ^ (seed * UINT32_C(0x9E3779B9));

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * UINT32_C(16777619);
	return h;
}

static void
Add(Collector *c, uint32_t h)
{
	uint32_t	b = Mix(h) & BUCKET_MASK;
	uint64_t	bit = UINT64_C(1) << (b & 63);

	if (c->seen[b >> 6] & bit)
		return;
	c->seen[b >> 6] |= bit;
	if (c->n < AG_URL_MODEL_MAX_FEATURES)
		c->buckets[c->n++] = b;
}

/* 3-, 4- and 5-grams of s[0..n): one running hash per start position. */
static void
AddGrams(Collector *c, const unsigned char *s, size_t n, uint32_t seed)
{
	for (size_t i = 0; i + 3 <= n; i++)
	{
		uint32_t	h = HashBytes(s, 0, seed);

		for (size_t j = 0; j < 5 && i + j < n; j++)
		{
			h = (h ^ s[i + j]) * UINT32_C(16777619);
			if (j >= 2)
				Add(c, h ^ (uint32_t) j);
		}
	}
}

/* A host's words end at dots and hyphens, a path's at anything but a-z0-9. */
static int
HostSeparator(unsigned char c)
{
	return c == '.' || c == '-';
}

static int
PathSeparator(unsigned char c)
{
	return !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
}

/* Words of s[0..n): runs of bytes that are not separators. */
static void
AddWords(Collector *c, const unsigned char *s, size_t n,
		 int (*separator) (unsigned char), uint32_t seed)
{
	size_t		start = 0;

	for (size_t i = 0; i <= n; i++)
		if (i == n || separator(s[i]))
		{
			if (i > start)
				Add(c, HashBytes(s + start, i - start, seed));
			start = i + 1;
		}
}

size_t
AgUrlModelFeatures(const AgUrl *u, uint32_t *buckets)
{
	Collector	c;
	unsigned char buf[PATH_BYTES + 2];
	size_t		hl,
				pl = 0;
	const char *tld;

	if (u->flags & AG_URL_IP_HOST)
		return 0;
	memset(c.seen, 0, sizeof(c.seen));
	c.buckets = buckets;
	c.n = 0;

	/*
	 * The host, its ends marked; of a longer host than DNS allows, its last
	 * 253 bytes (the registered name is at the end: padding subdomains in
	 * front must not push it out).  A cut host has no start mark.
	 */
	const char *host = u->host;

	hl = strlen(host);
	{
		unsigned char hostbuf[256];
		size_t		k = 0;

		if (hl > 253)
		{
			host += hl - 253;
			hl = 253;
		}
		else
			hostbuf[k++] = '^';
		memcpy(hostbuf + k, host, hl);
		k += hl;
		hostbuf[k++] = '$';
		AddGrams(&c, hostbuf, k, SEED_HOST_GRAM);
	}
	AddWords(&c, (const unsigned char *) host, hl, HostSeparator, SEED_HOST_WORD);
	tld = strrchr(u->host, '.');
	tld = tld ? tld + 1 : u->host;
	Add(&c, HashBytes((const unsigned char *) tld, strlen(tld), SEED_TLD));

	/* the path and query, lowercase */
	for (const char *p = u->path; *p && pl < PATH_BYTES; p++)
		buf[pl++] = (unsigned char) ((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	AddGrams(&c, buf, pl, SEED_PATH_GRAM);
	AddWords(&c, buf, pl, PathSeparator, SEED_PATH_WORD);
	{
		size_t		full = strlen(u->path);
		/* (as bytes, so that every machine hashes the same) */
		unsigned char bin[4] = {(unsigned char) (full / 8 > 8 ? 8 : full / 8), 0, 0, 0};

		Add(&c, HashBytes(bin, sizeof(bin), SEED_PATH_LENGTH));
	}
	return c.n;
}

double
AgUrlModelProbability(const float *weights, double bias,
					  const uint32_t *buckets, size_t n)
{
	double		sum = 0.0;

	if (n == 0)
		return 0.0;
	for (size_t i = 0; i < n; i++)
		sum += weights[buckets[i]];
	return 1.0 / (1.0 + exp(-(bias + sum / sqrt((double) n))));
}

double
AgUrlModelScore(const AgUrl *u)
{
	uint32_t	buckets[AG_URL_MODEL_MAX_FEATURES];
	size_t		n = AgUrlModelFeatures(u, buckets);
	int64_t		sum = 0;

	if (n == 0 || ag_url_model_scale == 0.0)
		return 0.0;
	for (size_t i = 0; i < n; i++)
		sum += ag_url_model_weights[buckets[i]];
	return 1.0 / (1.0 + exp(-(ag_url_model_bias +
							  (double) sum * ag_url_model_scale / sqrt((double) n))));
}

double
AgUrlModelThreshold(void)
{
	return ag_url_model_threshold;
}

double
AgUrlModelWeakThreshold(void)
{
	return ag_url_model_weak_threshold;
}

AgUrlModelSign
AgUrlModelSignOf(double p, double threshold, double weak_threshold)
{
	if (p <= 0.0)
		return AG_URL_MODEL_NONE;
	if (p >= threshold)
		return AG_URL_MODEL_STRONG;
	if (p >= weak_threshold)
		return AG_URL_MODEL_WEAK;
	return AG_URL_MODEL_NONE;
}
