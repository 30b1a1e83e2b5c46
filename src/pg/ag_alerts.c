/*
 * ag_alerts.c
 *	  Writing alerts.
 *
 * One alert per (alert type, table, row, field): the fingerprint is the MD5
 * of those, so rescanning a row or a retried insert of the same key bumps
 * occurrences and last_seen_at instead of adding a row.  Rows of tables
 * without a primary key cannot be told apart and are never de-duplicated.
 *
 * Alerts are inserted as the extension owner (the application role that
 * inserted the chat row cannot read or write aiguard.alerts), through one
 * prepared statement kept for the backend's life.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "ag_alerts.h"
#include "ag_blocked.h"
#include "ag_guc.h"
#include "ag_scan_sql.h"

#define NARGS 16

static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr error_plan = NULL;

static const char *insert_sql =
"INSERT INTO aiguard.alerts (alert_type, severity, tactics, action, confidence, "
"  rule_ids, source_table, source_key, role, conversation_id, user_id, client_ip, "
"  user_agent, resource, evidence, details, fingerprint) "
"SELECT $1, t.severity, t.tactics, $2, $3, $4, $5, $6, $7, $8, $9, $10::inet, "
"  $11, $12, $13, $14, pg_catalog.md5($15) "
"FROM aiguard.alert_types t WHERE t.code = $1 "
"ON CONFLICT (fingerprint) DO UPDATE SET "
"  occurrences = aiguard.alerts.occurrences + CASE WHEN $16 THEN 0 ELSE 1 END, "
"  last_seen_at = CASE WHEN $16 THEN aiguard.alerts.last_seen_at ELSE pg_catalog.now() END, "
"  confidence = GREATEST(aiguard.alerts.confidence, excluded.confidence) "
"RETURNING alert_id, (xmax = 0) AS inserted, severity::text";

typedef struct InsertArgs
{
	Datum		values[NARGS];
	char		nulls[NARGS];
	int64		alert_id;
	bool		inserted;
	char	   *severity;
	bool		found_type;
} InsertArgs;

static void
RunInsert(void *arg)
{
	InsertArgs *a = (InsertArgs *) arg;
	static Oid	argtypes[NARGS] = {TEXTOID, TEXTOID, FLOAT4OID, TEXTARRAYOID,
		TEXTOID, JSONBOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, JSONBOID, TEXTOID, BOOLOID};
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (insert_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(insert_sql, NARGS, argtypes);

		if (p == NULL)
			elog(ERROR, "could not prepare the alert insert: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		insert_plan = p;
	}
	rc = SPI_execute_plan(insert_plan, a->values, a->nulls, false, 1);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert alert: %s", SPI_result_code_string(rc));
	a->found_type = SPI_processed == 1;
	if (a->found_type)
	{
		bool		isnull;
		char	   *severity;

		a->alert_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
		a->inserted = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 2, &isnull));
		/*
		 * in the caller's memory (SPI_palloc), which a statement trigger
		 * empties after each row: CurTransactionContext, inside a row's
		 * subtransaction, would keep a block per alerting row until the
		 * transaction ends
		 */
		severity = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		a->severity = SPI_palloc(strlen(severity) + 1);
		strcpy(a->severity, severity);
	}
	SPI_finish();
}

static Datum
TextArrayFromStrings(const char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

static Datum
JsonbFromText(const char *json)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
}

static void
SetText(InsertArgs *a, int i, const char *s)
{
	if (s == NULL)
		a->nulls[i] = 'n';
	else
	{
		a->values[i] = CStringGetTextDatum(s);
		a->nulls[i] = ' ';
	}
}

/*
 * Adds "leaked": [{data_type, value_hash}, ...] for the findings of one
 * alert type that carry a value: the keyed hash lets an analyst see the
 * same secret leak twice; the value itself is never stored.
 */
static void
AppendLeakedValues(AgCatalog *cat, StringInfo details, const char *text,
				   const AgFinding *f, int n, const char *alert_type)
{
	int			count = 0;

	for (int j = 0; j < n; j++)
	{
		if (f[j].data_type == NULL || strcmp(f[j].alert_type, alert_type) != 0)
			continue;
		appendStringInfoString(details, count++ == 0 ? ", \"leaked\": [" : ", ");
		appendStringInfoString(details, "{\"data_type\": ");
		escape_json(details, f[j].data_type);
		appendStringInfo(details, ", \"value_hash\": \"%s\"}",
						 AgValueHash(cat, text + f[j].value_start,
									 f[j].value_end - f[j].value_start));
	}
	if (count > 0)
		appendStringInfoChar(details, ']');
}

void
AgNotifyAlert(int64 alert_id, const char *alert_type, const char *severity,
			  const char *action, const char *source_table, const char *source_key)
{
	StringInfoData payload;

	initStringInfo(&payload);
	appendStringInfo(&payload, "{\"alert_id\": " INT64_FORMAT ", \"alert_type\": ", alert_id);
	escape_json(&payload, alert_type);
	appendStringInfoString(&payload, ", \"severity\": ");
	escape_json(&payload, severity);
	appendStringInfoString(&payload, ", \"action\": ");
	escape_json(&payload, action);
	appendStringInfoString(&payload, ", \"source_table\": ");
	if (source_table)
		escape_json(&payload, source_table);
	else
		appendStringInfoString(&payload, "null");
	/* NOTIFY payloads are limited (8000 bytes): a huge key is left out */
	appendStringInfoString(&payload, ", \"source_key\": ");
	appendStringInfoString(&payload, source_key == NULL ? "null" :
						   strlen(source_key) > 1000 ? "{\"truncated\": true}" : source_key);
	appendStringInfoChar(&payload, '}');
	Async_Notify("aiguard_alerts", payload.data);
}

/* A hand-off record stays small whatever the row held. */
#define MAX_MEMBER_BYTES 2000
#define MAX_DETAILS_BYTES 65536

static void
AppendJsonMember(StringInfo buf, const char *name, const InsertArgs *a, int i)
{
	appendStringInfo(buf, ", \"%s\": ", name);
	if (a->nulls[i] == 'n')
		appendStringInfoString(buf, "null");
	else
	{
		char	   *v = TextDatumGetCString(a->values[i]);
		int			len = strlen(v);

		if (len > MAX_MEMBER_BYTES)
			v[pg_mbcliplen(v, len, MAX_MEMBER_BYTES)] = '\0';
		escape_json(buf, v);
	}
}

/*
 * The alert of a blocked row as the members of a JSON object, for the
 * durable hand-off (ag_blocked.c reads them back in SQL).
 */
static char *
BlockedRecordJson(const InsertArgs *a)
{
	StringInfoData buf;
	ArrayType  *rules = DatumGetArrayTypeP(a->values[3]);
	Datum	   *items;
	int			nitems;
	char		iso[MAXDATELEN + 1];
	char	   *key;
	char	   *details;

	initStringInfo(&buf);
	/* ISO 8601 with the UTC offset: read back the same in any DateStyle */
	appendStringInfoString(&buf, "\"detected_at\": ");
	escape_json(&buf, JsonEncodeDateTime(iso, TimestampTzGetDatum(GetCurrentTimestamp()),
										 TIMESTAMPTZOID, NULL));
	AppendJsonMember(&buf, "alert_type", a, 0);
	AppendJsonMember(&buf, "action", a, 1);
	appendStringInfo(&buf, ", \"confidence\": %.4f", DatumGetFloat4(a->values[2]));
	appendStringInfoString(&buf, ", \"rule_ids\": [");
	deconstruct_array(rules, TEXTOID, -1, false, TYPALIGN_INT, &items, NULL, &nitems);
	for (int k = 0; k < nitems; k++)
	{
		if (k > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, TextDatumGetCString(items[k]));
	}
	appendStringInfoChar(&buf, ']');
	AppendJsonMember(&buf, "source_table", a, 4);
	appendStringInfoString(&buf, ", \"source_key\": ");
	key = a->nulls[5] == 'n' ? "null" : JsonbToCString(NULL, &DatumGetJsonbP(a->values[5])->root, 0);
	appendStringInfoString(&buf, strlen(key) > MAX_MEMBER_BYTES ? "{\"truncated\": true}" : key);
	AppendJsonMember(&buf, "role", a, 6);
	AppendJsonMember(&buf, "conversation_id", a, 7);
	AppendJsonMember(&buf, "user_id", a, 8);
	AppendJsonMember(&buf, "client_ip", a, 9);
	AppendJsonMember(&buf, "user_agent", a, 10);
	AppendJsonMember(&buf, "resource", a, 11);
	AppendJsonMember(&buf, "evidence", a, 12);
	details = JsonbToCString(NULL, &DatumGetJsonbP(a->values[13])->root, 0);
	appendStringInfo(&buf, ", \"details\": %s",
					 strlen(details) > MAX_DETAILS_BYTES ? "{\"details_truncated\": true}" : details);
	AppendJsonMember(&buf, "fingerprint", a, 14);
	/* a finding already known (history): no new sighting if it is */
	appendStringInfo(&buf, ", \"repeat\": %s", DatumGetBool(a->values[15]) ? "true" : "false");
	return buf.data;
}

int
AgRecordFindings(AgCatalog *cat, const AgAlertSource *src, AgRole role,
				 const char *text, size_t len, const AgFinding *f, int n,
				 bool truncated)
{
	const char *action = src->action ? src->action : "detected";
	int			created = 0;
	bool	   *done = palloc0(sizeof(bool) * (n > 0 ? n : 1));
	bool		blocked = strcmp(action, "blocked") == 0;

	for (int i = 0; i < n; i++)
	{
		const char **rule_ids;
		int			nrules = 0;
		int			best = i;
		InsertArgs	a;
		StringInfoData details,
					fp;

		if (done[i])
			continue;
		rule_ids = palloc(sizeof(char *) * n);
		for (int j = i; j < n; j++)
		{
			bool		dup = false;

			if (done[j] || strcmp(f[j].alert_type, f[i].alert_type) != 0)
				continue;
			done[j] = true;
			if (f[j].confidence > f[best].confidence)
				best = j;
			for (int k = 0; k < nrules; k++)
				dup |= strcmp(rule_ids[k], f[j].rule_id) == 0;
			if (!dup)
				rule_ids[nrules++] = f[j].rule_id;
		}

		/* details: the strongest finding's, plus where it is */
		initStringInfo(&details);
		appendBinaryStringInfo(&details, f[best].details, strlen(f[best].details) - 1);
		appendStringInfo(&details, "%sfield\": ", strlen(f[best].details) > 2 ? ", \"" : "\"");
		escape_json(&details, src->field ? src->field : AgRoleName(role));
		appendStringInfo(&details, ", \"start_pos\": %zu, \"length\": %zu",
						 AgCharCount(text, f[best].start) + 1,
						 AgCharCount(text + f[best].start, f[best].end - f[best].start));
		if (truncated)
			appendStringInfo(&details, ", \"truncated\": true, \"scanned_bytes\": %d",
							 aiguard_max_scan_bytes);
		AppendLeakedValues(cat, &details, text, f, n, f[i].alert_type);
		if (src->message_index > 0)
			appendStringInfo(&details, ", \"message_index\": %d", src->message_index);
		if (src->extra_details)
			appendStringInfo(&details, ", %s", src->extra_details);
		appendStringInfoChar(&details, '}');

		/*
		 * fingerprint: same type on the same field of the same row; for a
		 * message of a message list, in the same message of the same
		 * conversation (or user, or row)
		 */
		initStringInfo(&fp);
		if (src->fingerprint)
			appendStringInfoString(&fp, src->fingerprint);
		else
			appendStringInfo(&fp, "%s|%s|%s|%s|%s", f[i].alert_type,
							 src->source_table ? src->source_table : "",
							 src->message_scope ? src->message_scope :
							 src->source_key ? src->source_key : "",
							 AgRoleName(role), src->field ? src->field : "");
		if (src->message_hash && src->fingerprint == NULL)
			appendStringInfo(&fp, "|message|%s", src->message_hash);
		if (src->source_key == NULL && src->fingerprint == NULL && src->message_scope == NULL)
		{
			/* no key: nothing identifies the row, so never merge */
			appendStringInfo(&fp, "|%d|" INT64_FORMAT "|%u", MyProcPid,
							 GetCurrentTimestamp(), pg_prng_uint32(&pg_global_prng_state));
		}

		memset(&a, 0, sizeof(a));
		memset(a.nulls, ' ', sizeof(a.nulls));
		/* a blocked jailbreak has an alert type of its own */
		SetText(&a, 0, blocked && strcmp(f[i].alert_type, "jailbreak_detected") == 0 ?
				"jailbreak_blocked" : f[i].alert_type);
		SetText(&a, 1, action);
		a.values[2] = Float4GetDatum((float4) f[best].confidence);
		a.values[3] = TextArrayFromStrings(rule_ids, nrules);
		SetText(&a, 4, src->source_table);
		if (src->source_key)
			a.values[5] = JsonbFromText(src->source_key);
		else
			a.nulls[5] = 'n';
		SetText(&a, 6, src->role_name ? src->role_name : AgRoleName(role));
		SetText(&a, 7, src->conversation_id);
		SetText(&a, 8, src->user_id);
		SetText(&a, 9, src->client_ip);
		SetText(&a, 10, src->user_agent);
		SetText(&a, 11, src->resource);
		SetText(&a, 12, aiguard_include_evidence ?
				AgMaskedEvidence(text, len, f[best].start, f[best].end, 60, f, n) : NULL);
		a.values[13] = JsonbFromText(details.data);
		SetText(&a, 14, fp.data);
		/* a known finding seen again by a rescan or in history is no news */
		a.values[15] = BoolGetDatum(src->rescan || src->history);

		if (blocked)
		{
			/* the inserting transaction will roll back: hand the alert off */
			AgHandOffBlockedAlert(BlockedRecordJson(&a));
			created++;
			continue;
		}
		AgRunAsOwner(cat->owner, RunInsert, &a);
		if (!a.found_type)
			ereport(WARNING,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("aiguard alert type \"%s\" is not in aiguard.alert_types", f[i].alert_type),
					 errdetail("The finding of rule \"%s\" was not recorded.", f[best].rule_id),
					 errhint("The database's aiguard catalog is older than its library: run ALTER EXTENSION aiguard UPDATE.")));
		else if (a.inserted)
		{
			AgNotifyAlert(a.alert_id, f[i].alert_type, a.severity, action,
						  src->source_table, src->source_key);
			created++;
		}
	}
	return created;
}

typedef struct ErrorArgs
{
	Datum		values[4];
	char		nulls[4];
} ErrorArgs;

static void
RunErrorInsert(void *arg)
{
	ErrorArgs  *a = (ErrorArgs *) arg;
	static Oid	argtypes[4] = {TEXTOID, JSONBOID, TEXTOID, TEXTOID};

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (error_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("INSERT INTO aiguard.scan_errors (source_table, source_key, sqlstate, message) "
									"VALUES ($1, $2, $3, $4)", 4, argtypes);

		if (p == NULL)
			elog(ERROR, "could not prepare the scan error insert");
		SPI_keepplan(p);
		error_plan = p;
	}
	SPI_execute_plan(error_plan, a->values, a->nulls, false, 0);
	SPI_finish();
}

void
AgRecordScanError(AgCatalog *cat, const char *source_table,
				  const char *source_key, const char *sqlstate,
				  const char *message)
{
	ErrorArgs	a;

	memset(a.nulls, ' ', sizeof(a.nulls));
	if (source_table)
		a.values[0] = CStringGetTextDatum(source_table);
	else
		a.nulls[0] = 'n';
	if (source_key)
		a.values[1] = JsonbFromText(source_key);
	else
		a.nulls[1] = 'n';
	a.values[2] = CStringGetTextDatum(sqlstate);
	a.values[3] = CStringGetTextDatum(message);
	AgRunAsOwner(cat ? cat->owner : AgExtensionOwner(), RunErrorInsert, &a);
}
