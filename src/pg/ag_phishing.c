/*
 * ag_phishing.c
 *	  URLs in scanned text (see ag_phishing.h).
 *
 * The core extracts and normalises URLs (src/core/ag_url.c); here they are
 * looked up in aiguard.indicators and given the alert type of their
 * direction.  Indicators are stored normalised the same way
 * (aiguard_normalize_indicator), so one index lookup per URL compares:
 *	  - url entries with the URL without scheme, the URL without its query,
 *		and the bare host (a list line that was only a host);
 *	  - domain entries with the host and each parent domain.
 * Lookups run only when some url or domain indicator is loaded.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "ag_core.h"
#include "ag_phishing.h"
#include "ag_url.h"

#define LIST_URL_CONFIDENCE 0.95
#define LIST_DOMAIN_CONFIDENCE 0.9
#define LEXICAL_MAX_CONFIDENCE 0.75	/* under the default block threshold */
#define MAX_CANDIDATES 16

static AgUrlList urls;			/* the scanned text's URLs, reused */
static AgUrlList history_urls;	/* the user history's, reused */
static SPIPlanPtr lookup_plan = NULL;

typedef struct ListMatch
{
	bool		found;
	char	   *kind;
	char	   *value;
	char	   *category;
	char	   *source;
} ListMatch;

typedef struct LookupArgs
{
	const char *candidates[MAX_CANDIDATES];
	int			ncandidates;
	ListMatch  *match;
	MemoryContext cxt;
} LookupArgs;

static void
RunLookup(void *arg)
{
	LookupArgs *a = (LookupArgs *) arg;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	Datum	   *items = palloc(sizeof(Datum) * a->ncandidates);

	for (int i = 0; i < a->ncandidates; i++)
		items[i] = CStringGetTextDatum(a->candidates[i]);
	values[0] = PointerGetDatum(construct_array(items, a->ncandidates, TEXTOID, -1, false, TYPALIGN_INT));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (lookup_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("SELECT kind, value, category, source FROM aiguard.indicators "
									"WHERE kind IN ('url', 'domain') AND value = ANY ($1) "
									"  AND (expires_at IS NULL OR expires_at > pg_catalog.now()) "
									"ORDER BY kind = 'url' DESC, length(value) DESC LIMIT 1",
									1, argtypes);

		if (p == NULL)
			elog(ERROR, "could not prepare the URL indicator lookup");
		SPI_keepplan(p);
		lookup_plan = p;
	}
	if (SPI_execute_plan(lookup_plan, values, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(a->cxt);

		a->match->found = true;
		a->match->kind = SPI_getvalue(t, td, 1);
		a->match->value = SPI_getvalue(t, td, 2);
		a->match->category = SPI_getvalue(t, td, 3);
		a->match->source = SPI_getvalue(t, td, 4);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
}

/* The URL without its query ("host/path"), palloc'd. */
static char *
WithoutQuery(const char *url_no_scheme)
{
	const char *q = strchr(url_no_scheme, '?');

	return q ? pnstrdup(url_no_scheme, q - url_no_scheme) : pstrdup(url_no_scheme);
}

static void
LookupUrl(AgCatalog *cat, const AgUrl *u, ListMatch *match)
{
	LookupArgs	a;
	const char *h;

	memset(match, 0, sizeof(*match));
	memset(&a, 0, sizeof(a));
	a.match = match;
	a.cxt = CurrentMemoryContext;
	a.candidates[a.ncandidates++] = u->url_no_scheme;
	a.candidates[a.ncandidates++] = WithoutQuery(u->url_no_scheme);
	a.candidates[a.ncandidates++] = psprintf("%s/", u->host);
	/* the host and its parent domains, not the bare top-level domain */
	for (h = u->host; h != NULL && a.ncandidates < MAX_CANDIDATES; h = strchr(h, '.'))
	{
		if (*h == '.')
			h++;
		if (strchr(h, '.') == NULL && h != u->host)
			break;
		a.candidates[a.ncandidates++] = h;
		if (u->flags & AG_URL_IP_HOST)
			break;
	}
	AgRunAsOwner(cat->owner, RunLookup, &a);
}

/* Whether the user history has the same URL or host. */
static bool
SentByUser(const AgUrl *u, const char *history)
{
	int			n;

	if (history == NULL || history[0] == '\0')
		return false;
	n = AgUrlExtract(&history_urls, history, strlen(history));
	for (int i = 0; i < n; i++)
		if (strcmp(history_urls.urls[i].host, u->host) == 0)
			return true;
	return false;
}

/* "scheme://host/path" without query or userinfo: enough to act on, no data. */
static char *
ReportedUrl(const AgUrl *u)
{
	const char *q = strchr(u->path, '?');
	int			plen = q ? (int) (q - u->path) : (int) strlen(u->path);

	if (plen > 200)
		plen = 200;
	return psprintf("%s://%s%.*s", u->scheme, u->host, plen, u->path);
}

int
AgUrlFindings(AgCatalog *cat, AgRole role, const char *text, size_t len,
			  bool use_lists, AgUserHistoryFn history, void *arg,
			  AgFinding **out, char **image_details)
{
	AgFinding  *f;
	int			nf = 0;
	int			n;
	bool		history_read = false;
	const char *hist = NULL;
	StringInfoData images;
	int			nimages = 0;
	AgUrl	   *found;

	*out = NULL;
	*image_details = NULL;
	if (role == AG_ROLE_USER_AGENT)
		return 0;
	n = AgUrlExtract(&urls, text, len);
	if (n < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (n == 0)
		return 0;

	/* copy: the history's extraction must not overwrite them */
	found = palloc(sizeof(AgUrl) * n);
	for (int i = 0; i < n; i++)
	{
		found[i] = urls.urls[i];
		found[i].url = pstrdup(urls.urls[i].url);
		found[i].url_no_scheme = pstrdup(urls.urls[i].url_no_scheme);
		found[i].host = pstrdup(urls.urls[i].host);
		found[i].path = pstrdup(urls.urls[i].path);
		found[i].scheme = pstrdup(urls.urls[i].scheme);
	}

	f = palloc0(sizeof(AgFinding) * n);
	initStringInfo(&images);
	for (int i = 0; i < n; i++)
	{
		const AgUrl *u = &found[i];
		ListMatch	match;
		AgUrlRisk	risk;
		StringInfoData d;
		const char *type;
		double		confidence;
		bool		both_sides = false;

		if (u->flags & AG_URL_IMAGE)
		{
			char		reason[200];

			if (AgUrlImageExfiltration(u, reason, sizeof(reason)) && nimages < 10)
			{
				appendStringInfoString(&images, nimages++ == 0 ? "" : ", ");
				appendStringInfoString(&images, "{\"host\": ");
				escape_json(&images, u->host);
				appendStringInfoString(&images, ", \"reason\": ");
				escape_json(&images, reason);
				appendStringInfoChar(&images, '}');
			}
		}

		match.found = false;
		if (use_lists && cat->n_url_indicators > 0)
			LookupUrl(cat, u, &match);
		if (match.found)
			confidence = strcmp(match.kind, "url") == 0 ? LIST_URL_CONFIDENCE : LIST_DOMAIN_CONFIDENCE;
		else if (AgUrlLexicalRisk(u, &risk) >= AG_URL_RISK_THRESHOLD)
			confidence = Min(LEXICAL_MAX_CONFIDENCE, 0.8 * risk.score);
		else
			continue;

		if (role == AG_ROLE_PROMPT)
			type = "phishing_url_user_prompt";
		else if (role == AG_ROLE_TOOL)
			type = "phishing_url_tool_output";
		else
		{
			if (!history_read)
			{
				hist = history ? history(arg) : NULL;
				history_read = true;
			}
			both_sides = SentByUser(u, hist);
			type = hist == NULL || both_sides ? "phishing_url_unknown_source" :
				"phishing_url_model_response";
		}

		initStringInfo(&d);
		appendStringInfoString(&d, "{\"rule\": ");
		escape_json(&d, match.found ? "URL on a threat list" : "URL with a high lexical phishing risk");
		appendStringInfoString(&d, ", \"url\": ");
		escape_json(&d, ReportedUrl(u));
		appendStringInfoString(&d, ", \"host\": ");
		escape_json(&d, u->host);
		if (match.found)
		{
			appendStringInfoString(&d, ", \"indicator\": {\"kind\": ");
			escape_json(&d, match.kind);
			appendStringInfoString(&d, ", \"value\": ");
			escape_json(&d, match.value);
			appendStringInfoString(&d, ", \"category\": ");
			escape_json(&d, match.category);
			appendStringInfoString(&d, ", \"source\": ");
			escape_json(&d, match.source);
			appendStringInfoChar(&d, '}');
		}
		else
		{
			appendStringInfo(&d, ", \"lexical_score\": %.2f, \"reasons\": [", risk.score);
			for (int k = 0; k < risk.nreasons; k++)
			{
				if (k > 0)
					appendStringInfoString(&d, ", ");
				escape_json(&d, risk.reasons[k]);
			}
			appendStringInfoChar(&d, ']');
		}
		if (role == AG_ROLE_RESPONSE)
			appendStringInfoString(&d, hist == NULL ? ", \"origin\": \"conversation unknown\"" :
								   both_sides ? ", \"origin\": \"also sent by the user\"" :
								   ", \"origin\": \"not in the user's messages\"");
		appendStringInfoChar(&d, '}');

		f[nf].alert_type = type;
		f[nf].rule_id = match.found ? (strcmp(match.kind, "url") == 0 ? "url.list.url" : "url.list.domain") :
			"url.lexical";
		f[nf].confidence = confidence;
		f[nf].start = u->start;
		f[nf].end = u->end;
		f[nf].value_start = u->start;
		f[nf].value_end = u->end;
		f[nf].details = d.data;
		f[nf].data_type = NULL;
		nf++;
	}
	if (nimages > 0)
		*image_details = psprintf("\"image_exfiltration\": [%s]", images.data);
	*out = f;
	return nf;
}

bool
AgUrlsNeedAttention(AgCatalog *cat, const char *text, size_t len)
{
	int			n = AgUrlExtract(&urls, text, len);

	if (n != 0)
	{
		if (n < 0 || cat->n_url_indicators > 0)
			return true;
		for (int i = 0; i < n; i++)
		{
			AgUrlRisk	risk;
			char		reason[200];

			if (AgUrlLexicalRisk(&urls.urls[i], &risk) >= AG_URL_RISK_THRESHOLD)
				return true;
			if ((urls.urls[i].flags & AG_URL_IMAGE) &&
				AgUrlImageExfiltration(&urls.urls[i], reason, sizeof(reason)))
				return true;
		}
	}
	return false;
}

AgFinding *
AgMergeFindings(const AgFinding *a, int na, const AgFinding *b, int nb)
{
	AgFinding  *all = palloc(sizeof(AgFinding) * (na + nb + 1));

	if (na > 0)
		memcpy(all, a, sizeof(AgFinding) * na);
	if (nb > 0)
		memcpy(all + na, b, sizeof(AgFinding) * nb);
	return all;
}

/*
 * aiguard_normalize_indicator(kind, value): an url or domain indicator
 * normalised as URLs found in text are, so that the two compare equal;
 * NULL when it is not one.  Other kinds are returned as they are.
 */
PG_FUNCTION_INFO_V1(aiguard_normalize_indicator);
Datum
aiguard_normalize_indicator(PG_FUNCTION_ARGS)
{
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *value = PG_GETARG_TEXT_PP(1);
	static AgUrlList one;
	int			r;

	if (strcmp(kind, "url") != 0 && strcmp(kind, "domain") != 0)
		PG_RETURN_TEXT_P(value);
	r = AgUrlNormalizeOne(&one, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
	if (r < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (r == 0)
		PG_RETURN_NULL();
	if (strcmp(kind, "domain") == 0)
	{
		/* a domain is a host alone */
		if (strcmp(one.urls[0].path, "/") != 0 || one.urls[0].userinfo[0] != '\0')
			PG_RETURN_NULL();
		PG_RETURN_TEXT_P(cstring_to_text(one.urls[0].host));
	}
	PG_RETURN_TEXT_P(cstring_to_text(one.urls[0].url_no_scheme));
}
