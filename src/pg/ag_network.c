/*
 * ag_network.c
 *	  Client IP and user-agent signals.
 *
 * A listed address is looked up with a containment query on the GiST
 * index of aiguard.indicators (an address matches a listed address or any
 * listed network that contains it, IPv4 and IPv6).  Signals are about the
 * client, not the row: the fingerprint covers the signal, the user, the
 * address (or agent), the resource and the hour, so a burst of requests
 * from a Tor exit is one alert whose occurrences count the rows.
 */
#include "postgres.h"

#include <arpa/inet.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/inet.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "ag_network.h"
#include "ag_scan_sql.h"

char *
AgParseAddress(const char *value)
{
	char		buf[128];
	unsigned char addr[16];
	char	   *slash;
	char	   *p;
	int			family;
	long		bits = -1;
	size_t		len;

	if (value == NULL)
		return NULL;
	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return NULL;
	memcpy(buf, value, len);
	buf[len] = '\0';
	p = buf;
	/* [v6]:port and v4:port, as proxies log them */
	if (p[0] == '[')
	{
		char	   *close = strchr(p, ']');

		if (close == NULL)
			return NULL;
		*close = '\0';
		p++;
	}
	else if (strchr(p, '.') && strchr(p, ':') && strchr(p, ':') == strrchr(p, ':'))
		*strchr(p, ':') = '\0';
	slash = strchr(p, '/');
	if (slash)
	{
		char	   *end;

		*slash = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || end == slash + 1)
			return NULL;
	}
	if (inet_pton(AF_INET, p, addr) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, p, addr) == 1)
		family = 6;
	else
		return NULL;
	if (bits > (family == 4 ? 32 : 128) || (slash && bits < 0))
		return NULL;
	return bits >= 0 ? psprintf("%s/%ld", p, bits) : pstrdup(p);
}

bool
AgUserAgentMalformed(const char *ua, size_t len)
{
	bool		letter = false;

	if (len < 4)
		return true;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) ua[i];

		if (c < 0x20 || c == 0x7f)
			return true;
		letter |= (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
	}
	return !letter;
}

PG_FUNCTION_INFO_V1(aiguard_parse_address);
Datum
aiguard_parse_address(PG_FUNCTION_ARGS)
{
	char	   *s = AgParseAddress(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(inet_in, CStringGetDatum(s)));
}

/*
 * Recent lookups of addresses that are on no list, so that the common
 * case (a known, clean client) needs no query.  Direct-mapped by a hash of
 * the address; an entry is only valid for the catalog generation it was
 * made in, and the catalog is rebuilt whenever indicators change.
 */
#define CLEAN_CACHE_SLOTS 1024
#define CLEAN_CACHE_KEY 48

typedef struct CleanEntry
{
	uint64		generation;
	char		ip[CLEAN_CACHE_KEY];
} CleanEntry;

static CleanEntry clean_cache[CLEAN_CACHE_SLOTS];

static CleanEntry *
CleanSlot(const char *ip)
{
	uint32		h = 2166136261u;

	for (const char *p = ip; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	return &clean_cache[h % CLEAN_CACHE_SLOTS];
}

bool
AgAddressKnownClean(const AgCatalog *cat, const char *ip)
{
	CleanEntry *e;

	if (ip == NULL || cat->n_net_indicators == 0)
		return true;
	e = CleanSlot(ip);
	return e->generation == cat->generation && strcmp(e->ip, ip) == 0;
}

static void
RememberClean(const AgCatalog *cat, const char *ip)
{
	CleanEntry *e = CleanSlot(ip);

	if (strlen(ip) >= CLEAN_CACHE_KEY)
		return;
	strcpy(e->ip, ip);
	e->generation = cat->generation;
}

typedef struct IpLookup
{
	const char *ip;
	char	   *category;
	char	   *source;
	char	   *entry;
	MemoryContext cxt;
} IpLookup;

static void
LookupIp(void *arg)
{
	IpLookup   *l = (IpLookup *) arg;
	Oid			argtypes[1] = {INETOID};
	Datum		values[1];

	values[0] = DirectFunctionCall1(inet_in, CStringGetDatum(l->ip));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT category, source, value FROM aiguard.indicators "
							  "WHERE net >>= $1 AND (expires_at IS NULL OR expires_at > pg_catalog.now()) "
							  "ORDER BY category = 'tor_exit' DESC, pg_catalog.masklen(net) DESC LIMIT 1",
							  1, argtypes, values, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		MemoryContext old = MemoryContextSwitchTo(l->cxt);

		l->category = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		l->source = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		l->entry = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
}

/* Records one client signal, de-duplicated per client, resource and hour. */
static int
RecordSignal(AgCatalog *cat, AgAlertSource *src, const char *field,
			 const char *role_name, const char *subject, AgFinding *f,
			 const char *text)
{
	AgAlertSource s = *src;
	StringInfoData fp;
	pg_time_t	hour = timestamptz_to_time_t(GetCurrentTransactionStartTimestamp()) / 3600;

	initStringInfo(&fp);
	appendStringInfo(&fp, "%s|%s|%s|%s|%s|%ld", f->alert_type,
					 s.source_table ? s.source_table : "", s.user_id ? s.user_id : "",
					 subject, s.resource ? s.resource : "", (long) hour);
	s.field = field;
	s.fingerprint = fp.data;
	s.role_name = role_name;
	return AgRecordFindings(cat, &s, AG_ROLE_USER_AGENT, text, strlen(text), f, 1,
							false);
}

int
AgCheckNetworkSignals(AgCatalog *cat, AgAlertSource *src, bool user_agent_mapped)
{
	int			created = 0;

	if (src->client_ip && !AgAddressKnownClean(cat, src->client_ip))
	{
		IpLookup	l = {src->client_ip, NULL, NULL, NULL, CurrentMemoryContext};

		AgRunAsOwner(cat->owner, LookupIp, &l);
		if (l.category)
		{
			AgFinding	f;
			StringInfoData d;
			bool		tor = strcmp(l.category, "tor_exit") == 0;

			initStringInfo(&d);
			appendStringInfoString(&d, "{\"rule\": \"Client address is on a threat list\", \"indicator\": ");
			escape_json(&d, l.entry);
			appendStringInfoString(&d, ", \"category\": ");
			escape_json(&d, l.category);
			appendStringInfoString(&d, ", \"list_source\": ");
			escape_json(&d, l.source);
			appendStringInfoChar(&d, '}');
			memset(&f, 0, sizeof(f));
			f.alert_type = tor ? "tor_ip_access" : "suspicious_ip_access";
			f.rule_id = tor ? "indicator.tor_exit" : psprintf("indicator.%s", l.category);
			f.confidence = 0.9;
			f.start = 0;
			f.end = strlen(src->client_ip);
			f.value_end = f.end;
			f.details = d.data;
			created += RecordSignal(cat, src, "client_ip", "network", src->client_ip, &f, src->client_ip);
		}
		else
			RememberClean(cat, src->client_ip);
	}

	/* NULL means the application did not log one; '' is a request without */
	if (user_agent_mapped && src->user_agent != NULL)
	{
		const char *ua = src->user_agent;
		size_t		len = strlen(ua);
		bool		malformed = AgUserAgentMalformed(ua, len);
		const AgFinding *found;
		bool		truncated;
		int			n;

		if (malformed)
		{
			AgFinding	f;

			memset(&f, 0, sizeof(f));
			f.alert_type = "suspicious_user_agent";
			f.rule_id = "ua.empty_or_malformed";
			f.confidence = 0.5;
			f.end = f.value_end = len;
			f.details = len == 0 ? "{\"rule\": \"Request without a user agent\"}" :
				"{\"rule\": \"Malformed user agent: under 4 characters, no letters, or control characters\"}";
			created += RecordSignal(cat, src, "user_agent", "user_agent", ua, &f, ua);
		}
		else
		{
			n = AgScanText(cat, ua, len, AG_ROLE_USER_AGENT, &found, &truncated);
			for (int i = 0; i < n; i++)
				if (strcmp(found[i].alert_type, "suspicious_user_agent") == 0)
				{
					AgFinding	f = found[i];

					created += RecordSignal(cat, src, "user_agent", "user_agent", ua, &f, ua);
					break;
				}
		}
	}
	return created;
}
