/*
 * bench_quality.c
 *	  Detection quality on the labelled corpus (../shared/corpus):
 *
 *	  bench_quality CORPUS_DIR MODEL RULEFILE...
 *
 * For every source file of jailbreak/ and benign/, the share of rows the
 * scanner flags as a prompt, split into what the rules alone, the model
 * alone and both together catch; then overall jailbreak / prompt-injection
 * recall and the false-positive rate on benign prompts; then the ASCII
 * smuggling figures.  A row counts as flagged when the scan reports
 * jailbreak_detected or llm_reconnaissance (system-prompt extraction is
 * labelled prompt injection in the corpus), or ascii_smuggling.
 * Then credentials / personal data (role response) and user agents (role
 * user_agent: share of each label raising suspicious_user_agent).
 *
 * The shipped model was trained on this same development data, so its
 * figures on it are in-sample and say little about unseen data.  With
 * --oof FILE (written by `ag_train --folds 5 --oof-out FILE`) the model's
 * part of every jailbreak decision uses the score of a model that never saw
 * that text (5-fold cross-validation): the "flagged" columns are then an
 * honest estimate of the whole detector (rules + model) on unseen data.
 * The rules were written by hand, looking at this data; the held-out half
 * will tell how well they generalise.  Likewise --url-oof FILE (written by
 * `ag_train_url --oof-out FILE`) for the phishing URL model's part of the
 * lexical URL score.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_corpus.h"
#include "ag_jsonl.h"
#include "ag_load_rules.h"
#include "ag_url.h"
#include "ag_url_model.h"
#include "ag_util.h"

typedef struct Tally
{
	const char *file;
	const char *label;
	long		rows;
	long		any;
	long		rules;
	long		model;
	long		jailbreak;		/* jailbreak_detected specifically */
	long		smuggling;
	long		spoofing;		/* unicode_spoofing */
} Tally;

static Tally tallies[128];
static int	ntallies;

static Tally *
GetTally(const char *file, const char *label)
{
	for (int i = 0; i < ntallies; i++)
		if (strcmp(tallies[i].file, file) == 0 && strcmp(tallies[i].label, label) == 0)
			return &tallies[i];
	tallies[ntallies].file = file;
	tallies[ntallies].label = label;
	return &tallies[ntallies++];
}

static int
IsPositive(const char *label)
{
	return strcmp(label, "jailbreak") == 0 || strcmp(label, "prompt_injection") == 0;
}

static double
Pct(long a, long b)
{
	return b ? 100.0 * a / b : 0.0;
}

/* Byte offset of the cp-th code point of s (gold spans count code points). */
static size_t
ByteOffset(const char *s, size_t len, long cp)
{
	size_t		i = 0;

	while (i < len && cp > 0)
	{
		i++;
		while (i < len && ((unsigned char) s[i] & 0xC0) == 0x80)
			i++;
		cp--;
	}
	return i;
}

static const struct
{
	const char *gold;			/* presidio entity type */
	const char *ours;			/* our data_type */
}			pii_types[] = {
	{"CREDIT_CARD", "credit_card"},
	{"EMAIL_ADDRESS", "email"},
	{"PHONE_NUMBER", "phone"},
	{"US_SSN", "us_ssn"},
	{"IBAN_CODE", "iban"},
	{"IP_ADDRESS", "ip_address"},
};
#define NPII (int) (sizeof(pii_types) / sizeof(pii_types[0]))

/*
 * Secrets: a row is flagged when a response containing it raises
 * credential_theft.  PII: a gold entity of a covered type is found when a
 * sensitive_data_exposure finding of the same data type overlaps its span.
 */
static void
SecretsAndPii(const char *dir, AgScanner *sc, FILE *misses)
{
	Corpus		c = {0};
	char		err[256];
	long		rows[3] = {0},
				hits[3] = {0};	/* secret, not_secret, ambiguous */
	long		ident_rows = 0,
				ident_hits = 0;	/* secret rows Nosey Parker calls identifiers */
	long		gold[NPII] = {0},
				found[NPII] = {0},
				spurious[NPII] = {0};
	long		nopii_rows = 0,
				nopii_hits = 0;

	if (CorpusLoadFolder(&c, dir, "secrets") != 0 || CorpusLoadFolder(&c, dir, "pii") != 0)
		return;
	printf("\nCredentials (role response)\n");
	printf("%-52s %-11s %6s %8s\n", "source file", "label", "rows", "flagged");
	const char *lastfile = "";

	for (size_t i = 0; i < c.n; i++)
	{
		const CorpusDoc *d = &c.docs[i];
		const AgFinding *f;
		int			n = AgScan(sc, d->text, d->len, AG_ROLE_RESPONSE, NULL, &f, err, sizeof(err));

		if (n < 0)
			continue;
		if (strncmp(d->source_file, "secrets/", 8) == 0)
		{
			int			k = strcmp(d->label, "secret") == 0 ? 0 :
				strcmp(d->label, "not_secret") == 0 ? 1 : 2;
			int			flagged = 0;

			for (int j = 0; j < n; j++)
				flagged |= strcmp(f[j].alert_type, "credential_theft") == 0;
			rows[k]++;
			hits[k] += flagged;
			if (k == 0)
			{
				/* np_categories without "secret": an identifier (ARN, bucket, client id) */
				char	   *cats = JsonGetRaw(d->line, "np_categories");

				if (cats && strstr(cats, "\"secret\"") == NULL && strstr(cats, "[") != NULL)
				{
					ident_rows++;
					ident_hits += flagged;
				}
				free(cats);
			}
			if (misses && k < 2 && flagged != (k == 0))
				fprintf(misses, "%s\t%s\t%.*s\n", k == 0 ? "SECRET_MISSED" : "SECRET_FALSE_POSITIVE",
						d->source_file, (int) d->len, d->text);
			GetTally(d->source_file, d->label)->rows++;
			GetTally(d->source_file, d->label)->any += flagged;
			continue;
		}
		/* PII */
		char	   *ents = JsonGetRaw(d->line, "entities");
		int			any = 0;

		for (int j = 0; j < n; j++)
			any |= strcmp(f[j].alert_type, "sensitive_data_exposure") == 0;
		if (strcmp(d->label, "no_pii") == 0)
		{
			nopii_rows++;
			nopii_hits += any;
		}
		int			used[256] = {0};

		for (const char *p = ents; p && (p = strstr(p, "{")) != NULL; p++)
		{
			const char *close = strchr(p, '}');
			char		obj[2048];
			size_t		tl;

			if (close == NULL || (size_t) (close - p + 1) >= sizeof(obj))
				break;
			memcpy(obj, p, close - p + 1);
			obj[close - p + 1] = '\0';
			char	   *type = JsonGetString(obj, "type", &tl);
			char	   *st = JsonGetRaw(obj, "start");
			char	   *en = JsonGetRaw(obj, "end");

			for (int t = 0; type && st && en && t < NPII; t++)
			{
				if (strcmp(type, pii_types[t].gold) != 0)
					continue;
				size_t		gs = ByteOffset(d->text, d->len, atol(st));
				size_t		ge = ByteOffset(d->text, d->len, atol(en));
				int			hit = 0;

				gold[t]++;
				for (int j = 0; j < n && j < 256; j++)
					if (f[j].data_type && strcmp(f[j].data_type, pii_types[t].ours) == 0 &&
						f[j].value_start < ge && f[j].value_end > gs)
					{
						hit = 1;
						used[j] = 1;
					}
				found[t] += hit;
			}
			free(type);
			free(st);
			free(en);
			p = close;
		}
		for (int j = 0; j < n && j < 256; j++)
			for (int t = 0; t < NPII; t++)
				if (!used[j] && f[j].data_type && strcmp(f[j].data_type, pii_types[t].ours) == 0)
					spurious[t]++;
		free(ents);
	}
	for (int i = 0; i < ntallies; i++)
	{
		const Tally *t = &tallies[i];

		if (strncmp(t->file, "secrets/", 8) != 0)
			continue;
		if (strcmp(t->file, lastfile) != 0 || 1)
			printf("%-52s %-11s %6ld %7.2f%%\n", t->file, t->label, t->rows, Pct(t->any, t->rows));
		lastfile = t->file;
	}
	printf("\nSecrets recall: %.4f (%ld of %ld)   false positives on look-alikes: %.4f (%ld of %ld)   ambiguous flagged: %ld of %ld\n",
		   rows[0] ? (double) hits[0] / rows[0] : 0, hits[0], rows[0],
		   rows[1] ? (double) hits[1] / rows[1] : 0, hits[1], rows[1], hits[2], rows[2]);
	printf("  of the secret rows, %ld are what Nosey Parker's categories call identifiers, not secrets\n"
		   "  (ARNs, bucket names, client ids; %ld flagged); recall on the other %ld: %.4f\n",
		   ident_rows, ident_hits, rows[0] - ident_rows,
		   rows[0] - ident_rows > 0 ? (double) (hits[0] - ident_hits) / (rows[0] - ident_rows) : 0);

	printf("\nPersonal data (role response), recall by span overlap\n");
	printf("%-16s %6s %6s %8s %10s\n", "entity type", "gold", "found", "recall", "unmatched");
	for (int t = 0; t < NPII; t++)
		printf("%-16s %6ld %6ld %8.4f %10ld\n", pii_types[t].gold, gold[t], found[t],
			   gold[t] ? (double) found[t] / gold[t] : 0, spurious[t]);
	printf("(unmatched: findings of that type overlapping no gold entity of the type)\n");
	printf("no_pii rows with a sensitive_data_exposure finding: %ld of %ld\n", nopii_hits, nopii_rows);
	CorpusFree(&c);
}

/*
 * User agents: a row is flagged when scanning its text as the request's
 * User-Agent (role user_agent) reports suspicious_user_agent.  Only
 * `scanner` is a positive label; `bad_bot` and `crawler` are informational
 * (the bad-bot list mixes SEO crawlers and archivers with attack tools).
 * With --misses, missed scanners and flagged browsers / libraries / good
 * bots are written there too.
 */
static void
UserAgents(const char *dir, AgScanner *sc, FILE *misses)
{
	Corpus		c = {0};
	char		err[256];
	static const char *const labels[] = {
		"scanner", "bad_bot", "crawler", "good_bot", "http_library", "browser"
	};
#define NUALABELS (int) (sizeof(labels) / sizeof(labels[0]))
	long		rows[NUALABELS + 1] = {0},
				hits[NUALABELS + 1] = {0};	/* last slot: other labels */

	if (CorpusLoadFolder(&c, dir, "user_agents") != 0)
		return;
	for (size_t i = 0; i < c.n; i++)
	{
		const CorpusDoc *d = &c.docs[i];
		const AgFinding *f;
		int			n = AgScan(sc, d->text, d->len, AG_ROLE_USER_AGENT, NULL, &f, err, sizeof(err));
		int			flagged = 0,
					k = 0;

		if (n < 0)
			continue;
		for (int j = 0; j < n; j++)
			flagged |= strcmp(f[j].alert_type, "suspicious_user_agent") == 0;
		while (k < NUALABELS && strcmp(d->label, labels[k]) != 0)
			k++;
		rows[k]++;
		hits[k] += flagged;
		if (misses && (k == 0 ? !flagged : k >= 3 && k < NUALABELS && flagged))
			fprintf(misses, "%s\t%s\t%s\t%.*s\n", k == 0 ? "UA_MISSED" : "UA_FALSE_POSITIVE",
					d->source_file, d->label, (int) (d->len < 400 ? d->len : 400), d->text);
	}
	printf("\nUser agents (role user_agent), share raising suspicious_user_agent\n");
	printf("%-14s %6s %8s %8s\n", "label", "rows", "flagged", "share");
	for (int k = 0; k <= NUALABELS; k++)
		if (rows[k])
			printf("%-14s %6ld %8ld %7.2f%%\n", k < NUALABELS ? labels[k] : "(other)",
				   rows[k], hits[k], Pct(hits[k], rows[k]));
	printf("(scanner = recall; good_bot, http_library, browser = false positives; "
		   "bad_bot, crawler informational)\n");
	CorpusFree(&c);
}

/* ---------- URLs ---------- */

/* A set of strings (open addressing), for the simulated indicator list. */
typedef struct StrSet
{
	char	  **slot;
	size_t		cap;
	size_t		n;
} StrSet;

static int
StrSetHas(const StrSet *set, const char *s)
{
	if (set->cap == 0)
		return 0;
	for (size_t i = AgFnv1a(AG_FNV_OFFSET, s, strlen(s)) & (set->cap - 1);;
		 i = (i + 1) & (set->cap - 1))
	{
		if (set->slot[i] == NULL)
			return 0;
		if (strcmp(set->slot[i], s) == 0)
			return 1;
	}
}

static void
StrSetAdd(StrSet *set, const char *s)
{
	if (StrSetHas(set, s))
		return;
	if (2 * (set->n + 1) > set->cap)
	{
		StrSet		bigger = {calloc(set->cap ? set->cap * 2 : 1024, sizeof(char *)),
		set->cap ? set->cap * 2 : 1024, 0};

		for (size_t i = 0; i < set->cap; i++)
			if (set->slot[i])
				StrSetAdd(&bigger, set->slot[i]);
		for (size_t i = 0; i < set->cap; i++)
			free(set->slot[i]);
		free(set->slot);
		*set = bigger;
	}
	size_t		i = AgFnv1a(AG_FNV_OFFSET, s, strlen(s)) & (set->cap - 1);

	while (set->slot[i])
		i = (i + 1) & (set->cap - 1);
	set->slot[i] = strdup(s);
	set->n++;
}

static void
StrSetFree(StrSet *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

/* The host or one of its parent domains (not a bare TLD) is in the set. */
static int
HostOrParentIn(const StrSet *hosts, const char *host)
{
	for (const char *h = host; h; h = strchr(h, '.') ? strchr(h, '.') + 1 : NULL)
	{
		if (strchr(h, '.') == NULL)
			break;
		if (StrSetHas(hosts, h))
			return 1;
	}
	return 0;
}

#define URL_FILES 3

/*
 * Out-of-fold probabilities of the phishing URL model (written by
 * `ag_train_url --oof-out FILE`: "p<TAB>source<TAB>host+path" a line),
 * keyed by a hash of host+path as AgUrl has them.
 */
typedef struct UrlOof
{
	uint64_t	hash;
	double		p;
} UrlOof;

static UrlOof *url_oof;
static size_t nurl_oof;
static double url_oof_threshold = 2.0;	/* (none read: nothing passes) */
static double url_oof_weak_threshold = 2.0;

static int
CompareUrlOof(const void *a, const void *b)
{
	uint64_t	x = ((const UrlOof *) a)->hash;
	uint64_t	y = ((const UrlOof *) b)->hash;

	return x < y ? -1 : x > y;
}

static int
LoadUrlOof(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0,
				room = 0;

	if (f == NULL)
	{
		fprintf(stderr, "could not open \"%s\"\n", path);
		return -1;
	}
	while (ReadLine(f, &line, &cap) >= 0)
	{
		char	   *key = strrchr(line, '\t');

		if (strncmp(line, "threshold\t", 10) == 0)
		{
			char	   *w;

			url_oof_threshold = strtod(line + 10, &w);
			url_oof_weak_threshold = *w == '\t' ? atof(w + 1) : url_oof_threshold;
			continue;
		}
		if (key == NULL)
			continue;
		key++;
		key[strcspn(key, "\r\n")] = '\0';
		if (nurl_oof == room)
		{
			room = room ? room * 2 : 4096;
			url_oof = realloc(url_oof, room * sizeof(UrlOof));
		}
		url_oof[nurl_oof].hash = AgFnv1a(AG_FNV_OFFSET, key, strlen(key));
		url_oof[nurl_oof].p = atof(line);
		nurl_oof++;
	}
	free(line);
	fclose(f);
	qsort(url_oof, nurl_oof, sizeof(UrlOof), CompareUrlOof);
	return 0;
}

/*
 * The sign the URL model, out of fold, gives u under that
 * cross-validation's thresholds; AG_URL_MODEL_COMPUTE (the shipped model
 * decides) if the trainer did not see u.
 */
static AgUrlModelSign
UrlOofOf(const AgUrl *u)
{
	UrlOof		k;
	UrlOof	   *hit;

	if (nurl_oof == 0)
		return AG_URL_MODEL_COMPUTE;
	if (u->flags & AG_URL_IP_HOST)
		return AG_URL_MODEL_NONE;	/* the model does not judge these */
	k.hash = AgFnv1a(AgFnv1a(AG_FNV_OFFSET, u->host, strlen(u->host)), u->path, strlen(u->path));
	hit = bsearch(&k, url_oof, nurl_oof, sizeof(UrlOof), CompareUrlOof);
	if (hit == NULL)
		return AG_URL_MODEL_COMPUTE;
	return AgUrlModelSignOf(hit->p, url_oof_threshold, url_oof_weak_threshold);
}

/*
 * URL extraction, the lexical risk score and list matching on
 * urls/ *.jsonl.  (a) recall of the extractor on each corpus URL embedded
 * in a sentence, with its scheme and without; (b) the lexical score alone
 * at AG_URL_RISK_THRESHOLD, and how often each feature fires; (c) the
 * phishing files loaded as an indicator list (normalised URLs and hosts),
 * matched against what the extractor finds in the sentences.
 */
static void
UrlQuality(const char *dir, FILE *misses)
{
	Corpus		c = {0};
	AgUrlList	one = {0},
				found = {0};
	const char *files[URL_FILES] = {NULL};
	long		rows[URL_FILES] = {0},
				parsed[URL_FILES] = {0},
				exact[2][URL_FILES] = {{0}},
				same[2][URL_FILES] = {{0}},
				flagged[URL_FILES] = {0},
				flagged_signs[URL_FILES] = {0},
				no_oof[URL_FILES] = {0},
				url_hit[URL_FILES] = {0},
				host_hit[URL_FILES] = {0};
	long		fires[URL_FILES][AG_URL_RISK_MAX_REASONS * 4] = {{0}};
	const char *reason_names[AG_URL_RISK_MAX_REASONS * 4] = {NULL};
	int			nreason_names = 0;
	StrSet		list_urls = {0},
				list_hosts = {0};
	char		sentence[8192];

	if (CorpusLoadFolder(&c, dir, "urls") != 0)
		return;
	/* the phishing files as an indicator list, normalised as the glue would */
	for (size_t i = 0; i < c.n; i++)
		if (strcmp(c.docs[i].label, "phishing") == 0 &&
			AgUrlNormalizeOne(&one, c.docs[i].text, c.docs[i].len) == 1)
		{
			StrSetAdd(&list_urls, one.urls[0].url_no_scheme);
			StrSetAdd(&list_hosts, one.urls[0].host);
		}

	for (size_t i = 0; i < c.n; i++)
	{
		const CorpusDoc *d = &c.docs[i];
		int			f = 0;

		while (f < URL_FILES && files[f] && strcmp(files[f], d->source_file) != 0)
			f++;
		if (f == URL_FILES)
			continue;
		files[f] = d->source_file;
		rows[f]++;
		if (d->len + 64 > sizeof(sentence))
			continue;

		/* (b) the URL alone: normalised, then scored */
		if (AgUrlNormalizeOne(&one, d->text, d->len) != 1)
		{
			if (misses)
				fprintf(misses, "URL_NOT_PARSED\t%s\t%s\n", d->source_file, d->text);
			continue;
		}
		parsed[f]++;
		AgUrlRisk	risk,
					signs;
		AgUrlModelSign sign = UrlOofOf(&one.urls[0]);
		int			hit = AgUrlLexicalRiskEx(&one.urls[0], &risk, sign) >= AG_URL_RISK_THRESHOLD;

		no_oof[f] += nurl_oof > 0 && sign == AG_URL_MODEL_COMPUTE;
		flagged_signs[f] += AgUrlLexicalRiskEx(&one.urls[0], &signs, AG_URL_MODEL_NONE) >= AG_URL_RISK_THRESHOLD;
		char		expected[8192];

		flagged[f] += hit;
		for (int r = 0; r < risk.nreasons; r++)
		{
			int			k = 0;

			while (k < nreason_names && reason_names[k] != risk.reasons[r])
				k++;
			if (k == nreason_names && nreason_names < AG_URL_RISK_MAX_REASONS * 4)
				reason_names[nreason_names++] = risk.reasons[r];
			fires[f][k]++;
		}
		if (misses && hit != (strcmp(d->label, "phishing") == 0))
		{
			fprintf(misses, "%s\t%s\t%.2f\t%s", hit ? "URL_FALSE_POSITIVE" : "URL_MISSED",
					d->source_file, risk.score, d->text);
			for (int r = 0; r < risk.nreasons; r++)
				fprintf(misses, "\t%s", risk.reasons[r]);
			fputc('\n', misses);
		}
		snprintf(expected, sizeof(expected), "%s", one.urls[0].url_no_scheme);

		/* (a) and (c): in a sentence, with and without its scheme */
		for (int noscheme = 0; noscheme < 2; noscheme++)
		{
			const char *u = d->text;
			size_t		ul = d->len;

			if (noscheme)
			{
				const char *sep = strstr(u, "://");

				if (sep == NULL || sep - u > 5)
					continue;
				ul -= (size_t) (sep + 3 - u);
				u = sep + 3;
			}
			int			prefix = snprintf(sentence, sizeof(sentence), "Please visit ");

			snprintf(sentence + prefix, sizeof(sentence) - prefix, "%.*s today.", (int) ul, u);
			int			n = AgUrlExtract(&found, sentence, strlen(sentence));
			int			got_exact = 0,
						got_same = 0,
						got_url = 0,
						got_host = 0;

			for (int k = 0; k < n; k++)
			{
				const AgUrl *x = &found.urls[k];

				got_exact |= x->start == (size_t) prefix && x->end == (size_t) prefix + ul;
				got_same |= strcmp(x->url_no_scheme, expected) == 0;
				got_url |= StrSetHas(&list_urls, x->url_no_scheme);
				got_host |= HostOrParentIn(&list_hosts, x->host);
			}
			exact[noscheme][f] += got_exact;
			same[noscheme][f] += got_same;
			if (misses && !got_same)
				fprintf(misses, "URL_NOT_EXTRACTED\t%s\t%s\n", noscheme ? "no scheme" : "scheme", sentence);
			if (!noscheme)
			{
				url_hit[f] += got_url;
				host_hit[f] += got_host;
			}
		}
	}

	printf("\nURLs (urls/): extraction from \"Please visit <url> today.\"\n");
	printf("%-34s %6s %7s %14s %14s %14s %14s\n", "source file", "rows", "parsed",
		   "exact span", "same URL", "exact/no sch.", "same/no sch.");
	for (int f = 0; f < URL_FILES && files[f]; f++)
		printf("%-34s %6ld %6.2f%% %13.2f%% %13.2f%% %13.2f%% %13.2f%%\n", files[f] + 5, rows[f],
			   Pct(parsed[f], rows[f]), Pct(exact[0][f], rows[f]), Pct(same[0][f], rows[f]),
			   Pct(exact[1][f], rows[f]), Pct(same[1][f], rows[f]));
	printf("(parsed: the URL alone normalises; same URL: the extracted normalised URL equals it;\n"
		   " no sch.: written without http(s)://, so bare hosts need a known TLD)\n");

	printf("\nURL lexical risk alone (no list), threshold %.2f: share flagged%s\n", AG_URL_RISK_THRESHOLD,
		   nurl_oof ? "; the learned model's part out of fold" : "; the learned model in sample (trained on these URLs)");
	printf("%-34s %6s %12s %12s\n", "source file", "parsed", "signs only", "with model");
	for (int f = 0; f < URL_FILES && files[f]; f++)
	{
		printf("%-34s %6ld %11.2f%% %11.2f%%  (%s)", files[f] + 5, parsed[f],
			   Pct(flagged_signs[f], parsed[f]), Pct(flagged[f], parsed[f]),
			   strstr(files[f], "benign") ? "false-positive rate" : "recall");
		if (no_oof[f])
			printf("  [%ld URLs without an out-of-fold score: the shipped model's]", no_oof[f]);
		printf("\n");
	}
	if (nurl_oof == 0)
		printf("(for figures on URLs the model has not seen: --url-oof FILE, from make bench-quality)\n");
	printf("\n%-58s", "feature fires on (share of parsed URLs)");
	for (int f = 0; f < URL_FILES && files[f]; f++)
		printf(" %10.10s", strchr(files[f], '_') ? strchr(files[f], '_') + 1 : files[f]);
	printf("\n");
	for (int k = 0; k < nreason_names; k++)
	{
		printf("%-58.58s", reason_names[k]);
		for (int f = 0; f < URL_FILES && files[f]; f++)
			printf(" %9.2f%%", Pct(fires[f][k], parsed[f]));
		printf("\n");
	}

	printf("\nURLs with the dev phishing list loaded (%zu URLs, %zu hosts): share matched\n",
		   list_urls.n, list_hosts.n);
	printf("%-34s %6s %12s %16s\n", "source file", "rows", "by URL", "by host/parent");
	for (int f = 0; f < URL_FILES && files[f]; f++)
		printf("%-34s %6ld %11.2f%% %15.2f%%\n", files[f] + 5, rows[f],
			   Pct(url_hit[f], rows[f]), Pct(host_hit[f], rows[f]));
	printf("(phishing: recall of extraction + normalisation against its own list; benign: false\n"
		   " positives -- by host they are shared hosting, shorteners and big platforms)\n");
	StrSetFree(&list_urls);
	StrSetFree(&list_hosts);
	AgUrlListFree(&one);
	AgUrlListFree(&found);
	CorpusFree(&c);
}

/*
 * A file of URLs, one a line (the URL probes of bench/probes): how many
 * the lexical score flags, with the hand-set signs alone and with the
 * shipped URL model as one of them.
 */
static int
UrlLines(const char *path)
{
	FILE	   *f = fopen(path, "r");
	AgUrlList	one = {0};
	char	   *line = NULL;
	size_t		cap = 0;
	long		lines = 0,
				parsed = 0,
				signs = 0,
				both = 0;

	if (f == NULL)
	{
		fprintf(stderr, "could not open \"%s\"\n", path);
		return 1;
	}
	while (ReadLine(f, &line, &cap) >= 0)
	{
		AgUrlRisk	r;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		lines++;
		if (AgUrlNormalizeOne(&one, line, strlen(line)) != 1)
			continue;
		parsed++;
		signs += AgUrlLexicalRiskEx(&one.urls[0], &r, AG_URL_MODEL_NONE) >= AG_URL_RISK_THRESHOLD;
		both += AgUrlLexicalRisk(&one.urls[0], &r) >= AG_URL_RISK_THRESHOLD;
	}
	printf("%ld URLs (%ld parsed): %ld flagged (%ld by the hand-set signs alone)\n",
		   lines, parsed, both, signs);
	free(line);
	fclose(f);
	AgUrlListFree(&one);
	return 0;
}

/* Out-of-fold scores: text hash -> probability, sorted for bsearch. */
typedef struct OofScore
{
	uint64_t	hash;
	double		p;
} OofScore;

static OofScore *oof;
static size_t noof;
static double oof_threshold = 0.5;

static int
CompareOof(const void *a, const void *b)
{
	uint64_t	x = ((const OofScore *) a)->hash;
	uint64_t	y = ((const OofScore *) b)->hash;

	return x < y ? -1 : x > y;
}

static int
LoadOof(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[128];
	size_t		cap = 0;

	if (f == NULL)
	{
		fprintf(stderr, "could not open \"%s\"\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f))
	{
		unsigned long long h;
		double		p;

		if (sscanf(line, "threshold %lf", &oof_threshold) == 1)
			continue;
		if (sscanf(line, "%llx %lf", &h, &p) != 2)
			continue;
		if (noof == cap)
		{
			cap = cap ? cap * 2 : 4096;
			oof = realloc(oof, cap * sizeof(OofScore));
		}
		oof[noof].hash = h;
		oof[noof].p = p;
		noof++;
	}
	fclose(f);
	qsort(oof, noof, sizeof(OofScore), CompareOof);
	return 0;
}

/* The out-of-fold score of a text, or -1 if the trainer did not see it. */
static double
OofScoreOf(const char *text, size_t len)
{
	OofScore	key = {AgFnv1a(AG_FNV_OFFSET, text, len), 0};
	OofScore   *hit = bsearch(&key, oof, noof, sizeof(OofScore), CompareOof);

	return hit ? hit->p : -1;
}

int
main(int argc, char **argv)
{
	Corpus		c = {0};
	AgRuleSet  *set = NULL;
	const char *model = NULL;
	int			argi = 1;

	FILE	   *misses = NULL;

	if (argc >= 3 && strcmp(argv[1], "--url-lines") == 0)
	{
		/* bench_quality --url-lines FILE: a URL a line, e.g. bench/probes/urls_*.txt */
		return UrlLines(argv[2]);
	}
	if (argc >= 3 && strcmp(argv[1], "--urls-only") == 0)
	{
		/* bench_quality --urls-only CORPUS_DIR [MISSES_FILE] */
		misses = argc >= 4 ? fopen(argv[3], "w") : NULL;
		UrlQuality(argv[2], misses);
		return 0;
	}
	while (argc - argi > 3 && strncmp(argv[argi], "--", 2) == 0)
	{
		if (strcmp(argv[argi], "--oof") == 0)
		{
			if (LoadOof(argv[argi + 1]) != 0)
				return 1;
		}
		else if (strcmp(argv[argi], "--url-oof") == 0)
		{
			if (LoadUrlOof(argv[argi + 1]) != 0)
				return 1;
		}
		else if (strcmp(argv[argi], "--misses") == 0)
		{
			/* missed positives and flagged negatives, for rule writers */
			misses = fopen(argv[argi + 1], "w");
			if (misses == NULL)
				return 1;
		}
		else
			break;
		argi += 2;
	}
	if (argc - argi < 3)
	{
		fprintf(stderr, "usage: %s [--oof FILE] [--url-oof FILE] [--misses FILE] CORPUS_DIR MODEL RULEFILE...\n", argv[0]);
		return 2;
	}
	const char *corpus_dir = argv[argi];
	int			nfiles = argc - argi - 2;
	AgRuleFile *files = calloc(nfiles, sizeof(AgRuleFile));

	/* with out-of-fold scores the shipped model stays out of the scan */
	model = oof ? NULL : argv[argi + 1];
	if (LoadRuleFiles(model, argv + argi + 2, nfiles, files, &set) != 0)
		return 1;
	if (CorpusLoadFolder(&c, corpus_dir, "jailbreak") != 0 ||
		CorpusLoadFolder(&c, corpus_dir, "benign") != 0 ||
		CorpusLoadFolder(&c, corpus_dir, "smuggling") != 0)
		return 1;
	if (oof)
		printf("Model part: out-of-fold scores from 5-fold cross-validation (threshold %.2f); rules as shipped.\n\n",
			   oof_threshold);
	else
		printf("Model part: the shipped model, which was trained on this data (in-sample figures).\n\n");

	AgScanner  *sc = AgScannerCreate(set);
	char		err[256];

	for (size_t i = 0; i < c.n; i++)
	{
		const CorpusDoc *d = &c.docs[i];
		const AgFinding *f;
		int			n = AgScan(sc, d->text, d->len, AG_ROLE_PROMPT, NULL, &f, err, sizeof(err));
		int			by_rule = 0,
					by_model = 0,
					jb = 0,
					rule_jb = 0,
					recon = 0,
					smug = 0,
					spoof = 0;

		if (n < 0)
		{
			fprintf(stderr, "scan failed: %s\n", err);
			return 1;
		}
		for (int k = 0; k < n; k++)
		{
			int			is_jb = strcmp(f[k].alert_type, "jailbreak_detected") == 0;
			int			is_recon = strcmp(f[k].alert_type, "llm_reconnaissance") == 0;

			if (strcmp(f[k].alert_type, "ascii_smuggling") == 0)
				smug = 1;
			if (strcmp(f[k].alert_type, "unicode_spoofing") == 0)
				spoof = 1;
			if (!is_jb && !is_recon)
				continue;
			jb |= is_jb;
			recon |= is_recon;
			if (strcmp(f[k].rule_id, "model.jailbreak") == 0)
				by_model = 1;
			else
			{
				by_rule = 1;
				rule_jb |= is_jb;
			}
		}
		if (oof && strncmp(d->source_file, "smuggling/", 10) != 0)
		{
			double		p = OofScoreOf(d->text, d->len);

			if (p < 0)
			{
				fprintf(stderr, "no out-of-fold score for a row of %s: retrain with --oof-out\n",
						d->source_file);
				return 1;
			}
			/* the scanner's recon policy: reconnaissance alone stays recon */
			if (p >= oof_threshold)
			{
				by_model = 1;
				if (rule_jb || !recon)
					jb = 1;
			}
		}
		Tally	   *t = GetTally(d->source_file, d->label);

		if (misses && strncmp(d->source_file, "smuggling/", 10) != 0 &&
			(IsPositive(d->label) ? !(by_rule || by_model) :
			 strcmp(d->label, "benign") == 0 && (by_rule || by_model)))
			fprintf(misses, "%s\t%s\t%.*s\n", IsPositive(d->label) ? "MISSED" : "FALSE_POSITIVE",
					d->source_file, (int) (d->len < 400 ? d->len : 400), d->text);
		t->rows++;
		t->any += by_rule || by_model || smug || (spoof && strncmp(d->source_file, "smuggling/", 10) == 0);
		t->rules += by_rule;
		t->model += by_model;
		t->jailbreak += jb;
		t->smuggling += smug;
		t->spoofing += spoof;
	}

	printf("Jailbreak / prompt-injection detection (role prompt)\n");
	printf("%-56s %-17s %6s %8s %8s %8s\n", "source file", "label", "rows", "flagged", "rules", "model");
	long		pos = 0,
				pos_hit = 0,
				pos_rules = 0,
				pos_model = 0,
				neg = 0,
				neg_hit = 0,
				neg_jb = 0;

	for (int i = 0; i < ntallies; i++)
	{
		const Tally *t = &tallies[i];

		if (strncmp(t->file, "smuggling/", 10) == 0)
			continue;
		printf("%-56s %-17s %6ld %7.2f%% %7.2f%% %7.2f%%\n", t->file, t->label, t->rows,
			   Pct(t->any, t->rows), Pct(t->rules, t->rows), Pct(t->model, t->rows));
		if (IsPositive(t->label))
		{
			pos += t->rows;
			pos_hit += t->any;
			pos_rules += t->rules;
			pos_model += t->model;
		}
		else if (strcmp(t->label, "benign") == 0)
		{
			neg += t->rows;
			neg_hit += t->any;
			neg_jb += t->jailbreak;
		}
	}
	printf("\nOverall recall (jailbreak + prompt_injection): %.4f  (%ld of %ld; rules alone %.4f, model alone %.4f)\n",
		   (double) pos_hit / pos, pos_hit, pos, (double) pos_rules / pos, (double) pos_model / pos);
	printf("False-positive rate on benign prompts:         %.4f  (%ld of %ld; as jailbreak_detected: %ld)\n",
		   (double) neg_hit / neg, neg_hit, neg, neg_jb);
	long		neg_spoof = 0,
				pos_spoof = 0;

	for (int i = 0; i < ntallies; i++)
		if (strncmp(tallies[i].file, "smuggling/", 10) != 0)
		{
			if (strcmp(tallies[i].label, "benign") == 0)
				neg_spoof += tallies[i].spoofing;
			else if (IsPositive(tallies[i].label))
				pos_spoof += tallies[i].spoofing;
		}
	printf("unicode_spoofing raised on benign prompts:     %ld of %ld (on attacks: %ld of %ld)\n",
		   neg_spoof, neg, pos_spoof, pos);

	printf("\nASCII smuggling and deceptive Unicode (role prompt)\n");
	for (int i = 0; i < ntallies; i++)
	{
		const Tally *t = &tallies[i];

		if (strncmp(t->file, "smuggling/", 10) != 0)
			continue;
		if (strcmp(t->label, "ascii_smuggling") == 0)
			printf("%-56s %-22s %4ld rows, ascii_smuggling raised: %ld (recall %.4f)\n",
				   t->file, t->label, t->rows, t->smuggling, (double) t->smuggling / t->rows);
		else
			printf("%-56s %-22s %4ld rows, any alert raised:       %ld (rate %.4f; unicode_spoofing %ld)\n",
				   t->file, t->label, t->rows, t->any, (double) t->any / t->rows, t->spoofing);
	}
	SecretsAndPii(corpus_dir, sc, misses);
	UserAgents(corpus_dir, sc, misses);
	UrlQuality(corpus_dir, misses);
	AgScannerFree(sc);
	AgRuleSetFree(set);
	CorpusFree(&c);
	return 0;
}
