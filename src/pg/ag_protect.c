/*
 * ag_protect.c
 *	  The protection trigger of chat-log tables, and scanning stored rows.
 *
 * aiguard_protect() (schema/functions.sql) validates the column mapping and
 * creates an INSERT trigger (AFTER in detect and async modes, BEFORE in
 * block mode; for each row, except detect mode on a table that is neither
 * partitioned nor a partition: for each statement, with a transition table
 * of the new rows, see ProtectNewRows) whose arguments carry it:
 *
 *	 argv[0]			mode
 *	 argv[1 + 2k]		column of field k ('' if unmapped)
 *	 argv[2 + 2k]		jsonpath into that column ('' for the whole value)
 *	 argv[1 + 2*NFIELDS ...]	primary key columns
 *
 * with the fields in the order of FieldNames below.  Everything the
 * trigger needs is in its arguments, so protecting a table again simply
 * replaces the trigger.
 *
 * detect: the row is scanned in the inserting transaction.  async: only
 * its key is queued (ag_queue.c).  block: a user prompt with a blockable
 * finding at or above aiguard.block_threshold fails the INSERT with
 * SQLSTATE AG001, after the row's alerts were handed off durably
 * (ag_blocked.c), since the transaction's own writes roll back.
 *
 * A scan never loses the row: all the work happens in a subtransaction;
 * if anything fails, the subtransaction is rolled back, a WARNING is
 * raised, the failure is recorded in aiguard.scan_errors, and the row is
 * kept as inserted (in block mode too: a failed scan does not block).
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/formatting.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "ag_alerts.h"
#include "ag_catalog.h"
#include "ag_clean_texts.h"
#include "ag_digest.h"
#include "ag_guc.h"
#include "ag_json_texts.h"
#include "ag_network.h"
#include "ag_overlap.h"
#include "ag_phishing.h"
#include "ag_protect.h"
#include "ag_queue.h"
#include "ag_scan_sql.h"
#include "ag_subxact.h"

typedef enum Field
{
	F_PROMPT,
	F_RESPONSE,
	F_TOOL,
	F_CONTENT,
	F_ROLE,
	F_SYSTEM,
	F_CONVERSATION,
	F_USER,
	F_CLIENT_IP,
	F_USER_AGENT,
	F_RESOURCE,
	F_CREATED_AT,
	F_TOKENS,
	NFIELDS
} Field;

static const char *const FieldNames[NFIELDS] = {
	"prompt", "response", "tool", "content", "role_column", "system",
	"conversation", "user_id", "client_ip", "user_agent", "resource",
	"created_at", "tokens"
};

static char *SourceTableName(Relation rel);
static Oid	RootRelid(Relation rel);

typedef struct RowContext
{
	TriggerData *trigdata;		/* NULL when rescanning */
	Relation	rel;
	HeapTuple	tuple;
	TupleDesc	tupdesc;
	char	  **args;
	int			nargs;
	char	   *source_table;
	char	   *source_key;
	MemoryContext cxt;			/* where results outlive SPI */
	bool		rescan;			/* scanned before: known findings are not news */
	bool		block_mode;		/* block mode: may reject the row */
	bool		blocked;		/* set when the row is to be rejected */
} RowContext;

/*
 * Values of one mapped field as texts: the column's value for a plain
 * mapping, each non-null item a jsonpath selects otherwise (the messages
 * of a message list).  Sets *n; NULL when there is nothing.
 */
static char **
FieldValues(RowContext *rc, Field field, int *n)
{
	const char *col = rc->args[1 + 2 * field];
	const char *path = rc->args[2 + 2 * field];
	int			attno;
	bool		isnull;
	Datum		value;
	Oid			typid;
	char	  **out;

	*n = 0;
	if (col[0] == '\0')
		return NULL;
	attno = SPI_fnumber(rc->tupdesc, col);
	if (attno <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" mapped as %s does not exist in table %s",
						col, FieldNames[field], rc->source_table),
				 errhint("Call aiguard_protect() again with the current column names.")));
	if (path[0] == '\0')
	{
		char	   *v = SPI_getvalue(rc->tuple, rc->tupdesc, attno);

		if (v == NULL)
			return NULL;
		out = palloc(sizeof(char *));
		out[0] = v;
		*n = 1;
		return out;
	}

	value = heap_getattr(rc->tuple, attno, rc->tupdesc, &isnull);
	if (isnull)
		return NULL;
	typid = SPI_gettypeid(rc->tupdesc, attno);
	if (typid == JSONOID)
		value = DirectFunctionCall1(jsonb_in, CStringGetDatum(TextDatumGetCString(value)));
	else if (typid != JSONBOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table %s is not json or jsonb", col, rc->source_table),
				 errdetail("A jsonpath mapping (\"%s\") needs a json or jsonb column.", path)));
	return AgJsonPathTexts(value, path, n);
}

/* Value of one mapped field as one text (jsonpath items joined by newlines). */
static char *
FieldValue(RowContext *rc, Field field)
{
	int			n;
	char	  **v = FieldValues(rc, field, &n);
	StringInfoData out;

	if (n <= 1)
		return n == 1 ? v[0] : NULL;
	initStringInfo(&out);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&out, '\n');
		appendStringInfoString(&out, v[i]);
	}
	return out.data;
}

/*
 * One key value as JSON, written the same whatever the session's settings
 * (DateStyle, TimeZone, extra_float_digits), so that the trigger, a rescan
 * and the queue name a row alike, and jsonb_to_recordset reads it back.
 */
static void
AppendKeyValue(StringInfo buf, RowContext *rc, int attno, Oid typid, const char *val)
{
	bool		isnull;
	Datum		d = heap_getattr(rc->tuple, attno, rc->tupdesc, &isnull);

	typid = getBaseType(typid);	/* a domain is written as its type */
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			appendStringInfoString(buf, val);
			break;
		case NUMERICOID:
			/* NaN and infinities are not JSON numbers */
			if (isdigit((unsigned char) val[val[0] == '-' ? 1 : 0]))
				appendStringInfoString(buf, val);
			else
				escape_json(buf, val);
			break;
		case FLOAT4OID:
		case FLOAT8OID:
			{
				double		v = typid == FLOAT4OID ? DatumGetFloat4(d) : DatumGetFloat8(d);
				char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

				if (isnan(v) || isinf(v))
					escape_json(buf, val);
				else
				{
					if (typid == FLOAT4OID)
						float_to_shortest_decimal_buf((float) v, num);
					else
						double_to_shortest_decimal_buf(v, num);
					appendStringInfoString(buf, num);
				}
				break;
			}
		case DATEOID:
		case TIMESTAMPOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPTZOID:
			{
				/* ISO 8601 like to_jsonb(); time zones as UTC */
				char		iso[MAXDATELEN + 1];
				int			utc = 0;

				escape_json(buf, JsonEncodeDateTime(iso, d, typid,
													typid == TIMESTAMPTZOID ? &utc : NULL));
				break;
			}
		default:
			escape_json(buf, val);
	}
}

static char *
BuildSourceKey(RowContext *rc)
{
	StringInfoData buf;
	int			first = 1 + 2 * NFIELDS;

	if (rc->nargs <= first)
		return NULL;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = first; i < rc->nargs; i++)
	{
		int			attno = SPI_fnumber(rc->tupdesc, rc->args[i]);
		char	   *val;
		Oid			typid;

		if (attno <= 0)
			return NULL;
		val = SPI_getvalue(rc->tuple, rc->tupdesc, attno);
		typid = SPI_gettypeid(rc->tupdesc, attno);
		if (i > first)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, rc->args[i]);
		appendStringInfoString(&buf, ": ");
		if (val == NULL)
			appendStringInfoString(&buf, "null");
		else
			AppendKeyValue(&buf, rc, attno, typid, val);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}


#define REPRODUCTION_THRESHOLD 0.5

typedef struct ConversationQuery
{
	const char *sql;			/* one text column, $1 = the conversation */
	const char *conversation;
	MemoryContext cxt;
	char	   *result;
} ConversationQuery;

static void
RunConversationQuery(void *arg)
{
	ConversationQuery *q = (ConversationQuery *) arg;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(q->conversation);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* not read-only: an AFTER trigger must see its own statement's rows */
	if (SPI_execute_with_args(q->sql, 1, argtypes, values, NULL, false, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v)
			q->result = MemoryContextStrdup(q->cxt, v);
	}
	SPI_finish();
}

/* A column's type as SQL, with its modifier: char(8), not char(1). */
static char *
ColumnType(Form_pg_attribute att)
{
	return format_type_extended(att->atttypid, att->atttypmod,
								FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
}

/*
 * "conversation = $1" in the column's own type ($1 is its text), so that an
 * index on the conversation column serves the lookup.
 */
static char *
SameConversation(RowContext *rc)
{
	const char *col = rc->args[1 + 2 * F_CONVERSATION];
	int			attno = SPI_fnumber(rc->tupdesc, col);

	if (attno <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" mapped as conversation does not exist", col),
				 errhint("Call aiguard_protect() again with the current column names.")));
	return psprintf("%s = $1::%s", quote_identifier(col),
					ColumnType(TupleDescAttr(rc->tupdesc, attno - 1)));
}

/*
 * Text gathered from other rows of the same conversation, read as the
 * table's owner in a security-restricted operation: the application may be
 * allowed to insert without being allowed to read, and nothing the table's
 * owner defined runs with more than the owner's rights.
 */
static char *
ConversationText(RowContext *rc, const char *sql, const char *conversation)
{
	ConversationQuery q;

	q.sql = sql;
	q.conversation = conversation;
	q.cxt = rc->cxt;
	q.result = NULL;
	AgRunAsTableOwner(RootRelid(rc->rel), RunConversationQuery, &q);
	return q.result;
}

/* Earlier user messages of the conversation (any role but the model's, tools' and system's). */
static char *
UserMessages(RowContext *rc, const char *conversation)
{
	char	   *sql;

	if (rc->args[1 + 2 * F_CONTENT][0] != '\0')
		sql = psprintf("SELECT string_agg(%s::text, E'\\n') FROM %s WHERE %s "
					   "AND lower(%s::text) NOT IN ('response', 'assistant', 'ai', 'model', 'tool', "
					   "'function', 'document', 'system', 'developer')",
					   quote_identifier(rc->args[1 + 2 * F_CONTENT]), SourceTableName(rc->rel),
					   SameConversation(rc), quote_identifier(rc->args[1 + 2 * F_ROLE]));
	else
		sql = psprintf("SELECT string_agg(%s::text, E'\\n') FROM %s WHERE %s",
					   quote_identifier(rc->args[1 + 2 * F_PROMPT]), SourceTableName(rc->rel),
					   SameConversation(rc));
	return ConversationText(rc, sql, conversation);
}

static bool
PlainMapping(RowContext *rc, Field field)
{
	return rc->args[1 + 2 * field][0] != '\0' && rc->args[2 + 2 * field][0] == '\0';
}

/*
 * What the user had sent in the conversation of this row (for the origin of
 * a URL in a response), or NULL when that cannot be told.  A prompt mapped
 * by jsonpath is the request's whole message list (LiteLLM's "messages"),
 * so it is the history; otherwise earlier rows of the same conversation
 * are read, when the conversation and the texts are plain columns.
 */
static const char *
UserHistory(void *arg)
{
	RowContext *rc = (RowContext *) arg;
	StringInfoData h;
	bool		known = false;
	char	   *prompt = FieldValue(rc, F_PROMPT);
	char	   *conversation = FieldValue(rc, F_CONVERSATION);

	initStringInfo(&h);
	if (prompt)
		appendStringInfoString(&h, prompt);
	if (rc->args[1 + 2 * F_PROMPT][0] != '\0' && !PlainMapping(rc, F_PROMPT))
		known = true;
	if (conversation != NULL && PlainMapping(rc, F_CONVERSATION) &&
		(PlainMapping(rc, F_PROMPT) || (PlainMapping(rc, F_CONTENT) && PlainMapping(rc, F_ROLE))))
	{
		char	   *earlier = UserMessages(rc, conversation);

		if (earlier)
			appendStringInfo(&h, "\n%s", earlier);
		known = true;
	}
	return known ? h.data : NULL;
}

/*
 * Scans one mapped text.  For a response, system holds the conversation's
 * system prompt (or NULL): a response that reproduces most of it is an
 * instruction_leakage finding of its own.
 */
static int
ScanFieldCounting(RowContext *rc, AgCatalog *cat, AgAlertSource *src, const char *field,
				  AgRole role, const char *text, const char *system, int *nfound)
{
	const AgFinding *f;
	bool		truncated;
	int			n;
	size_t		len;
	char	   *images;
	const char *saved_details = src->extra_details;
	int			created;

	*nfound = 0;
	if (text == NULL || text[0] == '\0')
		return 0;
	len = strlen(text);
	n = AgScanTextAndUrls(cat, text, len, role, true, UserHistory, rc, &f, &truncated, &images);
	if (role == AG_ROLE_RESPONSE && system != NULL && system[0] != '\0')
	{
		double		frac = AgReproducedFraction(system, strlen(system), text, len);

		if (frac >= REPRODUCTION_THRESHOLD)
		{
			AgFinding  *all = palloc(sizeof(AgFinding) * (n + 1));

			memcpy(all, f, sizeof(AgFinding) * n);
			all[n].alert_type = "instruction_leakage";
			all[n].rule_id = "system_prompt.reproduced";
			all[n].confidence = Min(0.99, 0.6 + 0.4 * frac);
			all[n].start = 0;
			all[n].end = len;
			all[n].details = psprintf("{\"rule\": \"Response reproduces the conversation's system prompt\", \"reproduced_fraction\": %.2f}", frac);
			all[n].data_type = NULL;
			all[n].value_start = 0;
			all[n].value_end = len;
			f = all;
			n++;
		}
	}
	*nfound = n;
	if (n == 0)
		return 0;
	src->field = field;
	/* images carrying data out are context for any alert on this text */
	if (images)
		src->extra_details = saved_details ? psprintf("%s, %s", saved_details, images) : images;
	created = AgRecordFindings(cat, src, role, text, len, f, n, truncated);
	src->extra_details = saved_details;
	return created;
}

static int
ScanField(RowContext *rc, AgCatalog *cat, AgAlertSource *src, const char *field,
		  AgRole role, const char *text, const char *system)
{
	int			nfound;

	return ScanFieldCounting(rc, cat, src, field, role, text, system, &nfound);
}

/*
 * Scans a mapped field.  What a jsonpath mapping selects is a list of
 * messages (LiteLLM's "messages": every user message of the request, that
 * is the whole conversation so far), and each message is scanned on its
 * own: a finding then points at its message, the model judges each message
 * rather than a growing history in which a short attack is a small part,
 * and the alert of an attack in turn one is not raised again by every
 * later request that repeats it as history.  Such a finding is keyed on
 * the message's text (its SHA-256) within the conversation (or, when no
 * conversation is mapped, the user; or else the row): a later request
 * repeating it finds the alert already there, and only the list's last
 * message, the one this request sends, counts as a new sighting of it.
 */
static int
ScanMessages(RowContext *rc, AgCatalog *cat, AgAlertSource *src, const char *field,
			 AgRole role, Field f, const char *system)
{
	int			n;
	char	  **texts;
	int			created = 0;

	if (PlainMapping(rc, f))
		return ScanField(rc, cat, src, field, role, FieldValue(rc, f), system);
	texts = FieldValues(rc, f, &n);

	if (src->conversation_id != NULL)
		src->message_scope = psprintf("conversation:%s", src->conversation_id);
	else if (src->user_id != NULL)
		src->message_scope = psprintf("user:%s", src->user_id);
	for (int i = 0; i < n; i++)
	{
		char		hash[AG_SHA256_HEX_LEN + 1];
		int			nfound;
		size_t		len;

		if (texts[i][0] == '\0')
			continue;
		len = strlen(texts[i]);
		/*
		 * a user message or tool output found clean before is clean again:
		 * a recent one is known by its bytes, any other by its digest
		 */
		if (role != AG_ROLE_RESPONSE && AgTextRecentlyClean(cat, role, texts[i], len))
			continue;
		AgSha256Hex(texts[i], len, hash);
		if (role != AG_ROLE_RESPONSE && AgTextKnownClean(cat, role, hash))
		{
			AgRememberRecentlyClean(cat, role, texts[i], len);
			continue;
		}
		src->message_index = i + 1;
		src->message_hash = hash;
		src->history = i < n - 1;
		created += ScanFieldCounting(rc, cat, src, field, role, texts[i], system, &nfound);
		if (nfound == 0 && role != AG_ROLE_RESPONSE)
		{
			AgRememberCleanText(cat, role, hash);
			AgRememberRecentlyClean(cat, role, texts[i], len);
		}
	}
	src->message_index = 0;
	src->message_hash = NULL;
	src->message_scope = NULL;
	src->history = false;
	return created;
}

/*
 * System messages stored earlier in the same conversation, for tables that
 * keep one message per row in plain columns.
 */
static char *
SystemMessages(RowContext *rc, const char *conversation)
{
	char	   *sql = psprintf("SELECT string_agg(%s::text, E'\\n') FROM %s "
							   "WHERE %s AND lower(%s::text) IN ('system', 'developer')",
							   quote_identifier(rc->args[1 + 2 * F_CONTENT]),
							   SourceTableName(rc->rel), SameConversation(rc),
							   quote_identifier(rc->args[1 + 2 * F_ROLE]));

	return ConversationText(rc, sql, conversation);
}

/*
 * Role of the message in the content column of a one-message-per-row
 * table: -1 for the application's own instructions (system, developer),
 * which are not scanned; unknown speakers count as users.
 */
static int
ContentRole(RowContext *rc)
{
	char	   *rolev = FieldValue(rc, F_ROLE);
	char	   *lower;
	int			role;

	if (rolev == NULL)
		return AG_ROLE_PROMPT;
	lower = str_tolower(rolev, strlen(rolev), DEFAULT_COLLATION_OID);
	if (strcmp(lower, "system") == 0 || strcmp(lower, "developer") == 0)
		return -1;
	role = AgRoleFromName(lower);
	return role < 0 ? AG_ROLE_PROMPT : role;
}

/* Findings that block mode rejects (SPEC 4): attacks sent by the user. */
static bool
IsBlockable(const AgFinding *f)
{
	return f->confidence >= aiguard_block_threshold &&
		(strcmp(f->alert_type, "jailbreak_detected") == 0 ||
		 strcmp(f->alert_type, "ascii_smuggling") == 0 ||
		 strcmp(f->alert_type, "phishing_url_user_prompt") == 0);
}

/*
 * The last aiguard.max_scan_bytes of a text longer than that (from a
 * character boundary), or NULL.  Block mode judges a long prompt by its
 * head and its tail, so an attack cannot hide behind a megabyte of filler.
 */
static const char *
BlockModeTail(RowContext *rc, const char *text)
{
	size_t		len;
	const char *t;

	if (!rc->block_mode || text == NULL)
		return NULL;
	len = strlen(text);
	if (len <= (size_t) aiguard_max_scan_bytes)
		return NULL;
	t = text + len - aiguard_max_scan_bytes;
	while (*t && ((unsigned char) *t & 0xC0) == 0x80)
		t++;
	return t;
}

/* Whether the user's text in this row has a finding block mode rejects. */
static bool
PromptIsBlocked(RowContext *rc, AgCatalog *cat)
{
	const char *texts[4];

	texts[0] = FieldValue(rc, F_PROMPT);
	texts[1] = rc->args[1 + 2 * F_CONTENT][0] != '\0' && ContentRole(rc) == AG_ROLE_PROMPT ?
		FieldValue(rc, F_CONTENT) : NULL;
	texts[2] = BlockModeTail(rc, texts[0]);
	texts[3] = BlockModeTail(rc, texts[1]);
	for (int i = 0; i < lengthof(texts); i++)
	{
		const AgFinding *f;
		bool		truncated;
		char	   *images;
		int			n;

		if (texts[i] == NULL || texts[i][0] == '\0')
			continue;
		n = AgScanTextAndUrls(cat, texts[i], strlen(texts[i]), AG_ROLE_PROMPT, true, NULL, NULL,
							  &f, &truncated, &images);
		for (int k = 0; k < n; k++)
			if (IsBlockable(&f[k]))
				return true;
	}
	return false;
}

/* Scans every mapped text of one row; returns the number of new alerts. */
static int
ScanRow(RowContext *rc)
{
	AgCatalog  *cat = AgCatalogGet();
	AgAlertSource src;
	char	   *raw_ip;
	int			created = 0;

	memset(&src, 0, sizeof(src));
	src.source_table = rc->source_table;
	src.source_key = rc->source_key;
	src.rescan = rc->rescan;
	if (rc->block_mode && PromptIsBlocked(rc, cat))
	{
		/* every alert of a rejected row goes through the durable hand-off */
		rc->blocked = true;
		src.action = "blocked";
	}
	src.conversation_id = FieldValue(rc, F_CONVERSATION);
	src.user_id = FieldValue(rc, F_USER);
	raw_ip = FieldValue(rc, F_CLIENT_IP);
	src.client_ip = AgParseAddress(raw_ip);
	src.user_agent = FieldValue(rc, F_USER_AGENT);
	src.resource = FieldValue(rc, F_RESOURCE);
	if (raw_ip && src.client_ip == NULL)
	{
		StringInfoData x;

		initStringInfo(&x);
		appendStringInfoString(&x, "\"client_ip_raw\": ");
		escape_json(&x, raw_ip);
		src.extra_details = x.data;
	}

	created += AgCheckNetworkSignals(cat, &src, rc->args[1 + 2 * F_USER_AGENT][0] != '\0');
	created += ScanMessages(rc, cat, &src, "prompt", AG_ROLE_PROMPT, F_PROMPT, NULL);
	if (rc->block_mode)
		created += ScanField(rc, cat, &src, "prompt_tail", AG_ROLE_PROMPT,
							 BlockModeTail(rc, FieldValue(rc, F_PROMPT)), NULL);
	if (rc->args[1 + 2 * F_RESPONSE][0] != '\0')
		created += ScanMessages(rc, cat, &src, "response", AG_ROLE_RESPONSE, F_RESPONSE,
								FieldValue(rc, F_SYSTEM));
	created += ScanMessages(rc, cat, &src, "tool", AG_ROLE_TOOL, F_TOOL, NULL);

	if (rc->args[1 + 2 * F_CONTENT][0] != '\0')
	{
		int			role = ContentRole(rc);
		char	   *system = NULL;

		if (role < 0)
			return created;		/* the application's own instructions */
		if (role == AG_ROLE_RESPONSE && src.conversation_id != NULL &&
			PlainMapping(rc, F_CONTENT) && PlainMapping(rc, F_ROLE) &&
			PlainMapping(rc, F_CONVERSATION))
			system = SystemMessages(rc, src.conversation_id);
		created += ScanField(rc, cat, &src, "content", (AgRole) role, FieldValue(rc, F_CONTENT), system);
		if (role == AG_ROLE_PROMPT && rc->block_mode)
			created += ScanField(rc, cat, &src, "content_tail", AG_ROLE_PROMPT,
								 BlockModeTail(rc, FieldValue(rc, F_CONTENT)), NULL);
	}
	return created;
}

static char *
SourceTableName(Relation rel)
{
	Oid			relid = RootRelid(rel);

	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* The table rows are reported under: a partition's partitioned table. */
static Oid
RootRelid(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);

	if (rel->rd_rel->relispartition)
	{
		List	   *anc = get_partition_ancestors(relid);

		if (anc != NIL)
			relid = llast_oid(anc);
	}
	return relid;
}

/*
 * Text of a plain text/varchar column, or NULL (*ok = false when the field
 * is mapped in a way the quick path does not handle).
 */
static char *
QuickText(RowContext *rc, Field field, bool *ok, size_t *len)
{
	const char *col = rc->args[1 + 2 * field];
	int			attno;
	Oid			typid;
	bool		isnull;
	Datum		d;
	text	   *t;

	*len = 0;
	if (col[0] == '\0')
		return NULL;
	attno = SPI_fnumber(rc->tupdesc, col);
	if (rc->args[2 + 2 * field][0] != '\0' || attno <= 0)
	{
		*ok = false;
		return NULL;
	}
	typid = SPI_gettypeid(rc->tupdesc, attno);
	if (typid != TEXTOID && typid != VARCHAROID)
	{
		*ok = false;
		return NULL;
	}
	d = heap_getattr(rc->tuple, attno, rc->tupdesc, &isnull);
	if (isnull)
		return NULL;
	t = DatumGetTextPP(d);
	*len = VARSIZE_ANY_EXHDR(t);
	return VARDATA_ANY(t);
}

/*
 * The common case costs no subtransaction: with the rule set already
 * compiled and the texts in plain text columns, scan them directly; when
 * nothing at all is found, the row needs nothing more.  Anything else (a
 * finding, a jsonpath mapping, a system prompt to compare with, any scan
 * error) returns false and the row takes the full, subtransaction-guarded
 * path, which scans again and records what it finds.
 */
static bool
QuickScanFindsNothing(RowContext *rc)
{
	AgCatalog  *cat = AgCatalogPeek();
	static const Field texts[] = {F_PROMPT, F_RESPONSE, F_TOOL, F_CONTENT};
	static const AgRole roles[] = {AG_ROLE_PROMPT, AG_ROLE_RESPONSE, AG_ROLE_TOOL, AG_ROLE_PROMPT};
	bool		ok = true;

	if (cat == NULL || rc->args[1 + 2 * F_SYSTEM][0] != '\0')
		return false;
	/* a client address needs an indicator lookup, unless known to be clean */
	if (rc->args[1 + 2 * F_CLIENT_IP][0] != '\0' && cat->n_net_indicators > 0)
	{
		int			attno = SPI_fnumber(rc->tupdesc, rc->args[1 + 2 * F_CLIENT_IP]);
		char	   *raw;

		if (rc->args[2 + 2 * F_CLIENT_IP][0] != '\0' || attno <= 0)
			return false;
		raw = SPI_getvalue(rc->tuple, rc->tupdesc, attno);
		if (raw != NULL && !AgAddressKnownClean(cat, AgParseAddress(raw)))
			return false;
	}
	if (rc->args[1 + 2 * F_USER_AGENT][0] != '\0')
	{
		size_t		ualen;
		char	   *ua = QuickText(rc, F_USER_AGENT, &ok, &ualen);
		const AgFinding *f;
		char		err[256];

		/* empty or malformed agents are signals of their own */
		if (!ok || (ua != NULL && AgUserAgentMalformed(ua, ualen)))
			return false;
		if (ua != NULL && AgScan(cat->scanner, ua, ualen, AG_ROLE_USER_AGENT, &ag_pg_text_scan, &f, err, sizeof(err)) != 0)
			return false;
	}
	for (int i = 0; i < lengthof(texts); i++)
	{
		size_t		len;
		char	   *text = QuickText(rc, texts[i], &ok, &len);
		AgRole		role = roles[i];
		const AgFinding *f;
		char		err[256];

		if (!ok)
			return false;
		if (text == NULL || len == 0)
			continue;
		if (texts[i] == F_CONTENT && rc->args[1 + 2 * F_ROLE][0] != '\0')
		{
			size_t		rlen;
			char	   *r = QuickText(rc, F_ROLE, &ok, &rlen);
			char		name[16];
			int			rr;

			if (!ok || r == NULL || rlen == 0 || rlen >= sizeof(name))
				return false;
			for (size_t k = 0; k < rlen; k++)
				name[k] = (char) pg_ascii_tolower((unsigned char) r[k]);
			name[rlen] = '\0';
			rr = AgRoleFromName(name);
			if (rr < 0)
				return false;
			role = (AgRole) rr;
			/* a reply may reproduce the conversation's system prompt */
			if (role == AG_ROLE_RESPONSE && rc->args[1 + 2 * F_CONVERSATION][0] != '\0')
				return false;
		}
		if (len > (size_t) aiguard_max_scan_bytes)
		{
			if (rc->block_mode)
				return false;	/* its tail needs a look too */
			len = pg_mbcliplen(text, (int) len, aiguard_max_scan_bytes);
		}
		if (AgScan(cat->scanner, text, len, role, &ag_pg_text_scan, &f, err, sizeof(err)) != 0)
			return false;
		if (AgUrlsNeedAttention(cat, text, len))
			return false;
	}
	return true;
}

/*
 * Scans a row in a subtransaction: whatever fails, the row stays, the
 * failure is reported as a WARNING and recorded in aiguard.scan_errors.
 * Returns the number of new alerts.
 */
typedef struct ScanRowArgs
{
	RowContext *rc;
	int			created;
} ScanRowArgs;

static void
RunScanRow(void *arg)
{
	ScanRowArgs *a = (ScanRowArgs *) arg;

	a->created = ScanRow(a->rc);
}

static int
ScanRowSafely(RowContext *rc, MemoryContext cxt)
{
	ScanRowArgs a = {rc, 0};
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = AgTrySubtransaction(RunScanRow, &a, false);
	if (edata == NULL)
		return a.created;
	ereport(WARNING,
			(errcode(edata->sqlerrcode),
			 errmsg("aiguard could not scan a row of %s; the row was kept", rc->source_table),
			 errdetail("%s", edata->message),
			 errhint("The failure is recorded in aiguard.scan_errors.")));
	AgRecordScanError(NULL, rc->source_table, rc->source_key,
					  unpack_sql_state(edata->sqlerrcode), edata->message);
	FreeErrorData(edata);
	return 0;
}

#define ERRCODE_AIGUARD_BLOCKED MAKE_SQLSTATE('A','G','0','0','1')

/*
 * Protects one inserted row (tuple) of the trigger's table: scans it, or
 * in async mode queues it.  In block mode a blockable finding raises the
 * ERROR that rejects the INSERT, after its alert was recorded.
 */
static void
ProtectRow(TriggerData *trigdata, HeapTuple tuple)
{
	RowContext	rc;
	const char *mode;

	memset(&rc, 0, sizeof(rc));
	rc.trigdata = trigdata;
	rc.rel = trigdata->tg_relation;
	rc.tuple = tuple;
	rc.tupdesc = trigdata->tg_relation->rd_att;
	rc.args = trigdata->tg_trigger->tgargs;
	rc.nargs = trigdata->tg_trigger->tgnargs;
	rc.cxt = CurrentMemoryContext;
	mode = rc.args[0];

	if (strcmp(mode, "async") == 0)
	{
		/* the worker scans it later; only the key is queued, in this transaction */
		rc.source_key = BuildSourceKey(&rc);
		if (rc.source_key == NULL)
		{
			/* keep the row; say loudly that it will not be scanned */
			rc.source_table = SourceTableName(rc.rel);
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("aiguard could not queue a row of %s for scanning; the row was kept",
							rc.source_table),
					 errdetail("The primary key columns of the protection mapping no longer exist."),
					 errhint("Call aiguard_protect() again for this table.")));
			AgRecordScanError(NULL, rc.source_table, NULL, "55000",
							  "row not queued: the mapping's primary key columns no longer exist");
			return;
		}
		AgEnqueueRow(RelationGetRelid(rc.rel), rc.source_key);
		return;
	}
	rc.block_mode = strcmp(mode, "block") == 0;

	if (GetDatabaseEncoding() == PG_UTF8 && QuickScanFindsNothing(&rc))
		return;

	rc.source_table = SourceTableName(trigdata->tg_relation);
	rc.source_key = BuildSourceKey(&rc);
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		ereport(WARNING,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aiguard did not scan a row of %s", rc.source_table),
				 errdetail("aiguard requires a UTF-8 database; this one is \"%s\".",
						   GetDatabaseEncodingName())));
		return;
	}

	(void) ScanRowSafely(&rc, CurrentMemoryContext);
	if (rc.blocked)
		ereport(ERROR,
				(errcode(ERRCODE_AIGUARD_BLOCKED),
				 errmsg("%s", aiguard_block_message),
				 errdetail_log("aiguard blocked a row of %s; the alert is recorded in aiguard.alerts.",
							   rc.source_table)));
}

/*
 * Detect mode on a plain table (not partitioned, not a partition, not in a
 * subscription: schema/functions.sql): a statement trigger reads the
 * statement's new rows from its transition table.  Those are the rows as
 * the INSERT made them, before TOAST compressed them for storage; a row
 * trigger fired after the INSERT reads each row back from the table, and
 * a 2 KiB text stored compressed costs its decompression (about a seventh
 * of what scanning it does, more for a gateway's message lists).  Each row
 * gets a memory context of its own, emptied after it (what PostgreSQL
 * keeps of a row's subtransaction until the transaction ends is not).
 */
static void
ProtectNewRows(TriggerData *trigdata)
{
	Tuplestorestate *rows = trigdata->tg_newtable;
	TupleTableSlot *slot;
	MemoryContext rowcxt,
				old;
	int			ptr;

	if (rows == NULL)
	{
		/* a trigger made by hand: keep the rows, say so loudly */
		char	   *table = SourceTableName(trigdata->tg_relation);

		ereport(WARNING,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("aiguard did not scan the rows this statement inserted into %s; the rows were kept",
						table),
				 errdetail("aiguard_protect_trigger() as a statement trigger needs a transition table of the new rows."),
				 errhint("Call aiguard_protect() again for this table.")));
		AgRecordScanError(NULL, table, NULL, "39P01",
						  "rows not scanned: the statement trigger has no transition table of new rows");
		return;
	}
	slot = MakeSingleTupleTableSlot(trigdata->tg_relation->rd_att, &TTSOpsMinimalTuple);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aiguard row", ALLOCSET_DEFAULT_SIZES);

	/* a read pointer of its own: other triggers may read the same rows */
	ptr = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(rows, ptr);
	tuplestore_rescan(rows);
	for (;;)
	{
		bool		should_free;
		HeapTuple	tuple;

		CHECK_FOR_INTERRUPTS();
		if (!tuplestore_gettupleslot(rows, true, false, slot))
			break;
		old = MemoryContextSwitchTo(rowcxt);
		tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);
		ProtectRow(trigdata, tuple);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	tuplestore_select_read_pointer(rows, 0);
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(rowcxt);
}

PG_FUNCTION_INFO_V1(aiguard_protect_trigger);
Datum
aiguard_protect_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("aiguard_protect_trigger() must be called as an INSERT trigger")));
	if (trigdata->tg_trigger->tgnargs < 1 + 2 * NFIELDS)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("aiguard protection trigger on table \"%s\" has a malformed mapping",
						RelationGetRelationName(trigdata->tg_relation)),
				 errhint("Call aiguard_protect() again for this table.")));

	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
	{
		if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
			strcmp(trigdata->tg_trigger->tgargs[0], "detect") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("aiguard_protect_trigger() runs as a statement trigger only AFTER INSERT in detect mode"),
					 errhint("Call aiguard_protect() again for table \"%s\".",
							 RelationGetRelationName(trigdata->tg_relation))));
		if (aiguard_enabled)
			ProtectNewRows(trigdata);
		return PointerGetDatum(NULL);
	}

	tuple = trigdata->tg_trigtuple;
	if (aiguard_enabled)
		ProtectRow(trigdata, tuple);
	return PointerGetDatum(tuple);
}

char	  **
AgProtectionArgs(Relation rel, int *nargs)
{
	Trigger    *trig = NULL;
	char	  **args;

	if (rel->trigdesc)
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
			if (strcmp(rel->trigdesc->triggers[i].tgname, "aiguard_protect") == 0)
				trig = &rel->trigdesc->triggers[i];
	if (trig == NULL || trig->tgnargs < 1 + 2 * NFIELDS)
		return NULL;
	*nargs = trig->tgnargs;
	args = palloc(sizeof(char *) * trig->tgnargs);
	for (int i = 0; i < trig->tgnargs; i++)
		args[i] = pstrdup(trig->tgargs[i]);
	return args;
}

char	   *
AgProtectionKeyQuery(Relation rel, char **args, int nargs)
{
	StringInfoData sql;
	char	   *table = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												   RelationGetRelationName(rel));
	int			first = 1 + 2 * NFIELDS;

	if (nargs <= first)
		return NULL;
	/* only the key columns are read from the JSON, as the key's own types */
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT t.* FROM %s t, pg_catalog.jsonb_to_recordset($1) AS k(", table);
	for (int i = first; i < nargs; i++)
	{
		AttrNumber	attno = get_attnum(RelationGetRelid(rel), args[i]);

		if (attno == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("key column \"%s\" of table %s no longer exists", args[i], table),
					 errhint("Call aiguard_protect() again for this table.")));
		appendStringInfo(&sql, "%s%s %s", i > first ? ", " : "", quote_identifier(args[i]),
						 ColumnType(TupleDescAttr(RelationGetDescr(rel), attno - 1)));
	}
	appendStringInfoString(&sql, ") WHERE ");
	for (int i = first; i < nargs; i++)
		appendStringInfo(&sql, "%st.%s = k.%s", i > first ? " AND " : "",
						 quote_identifier(args[i]), quote_identifier(args[i]));
	return sql.data;
}

int
AgScanStoredRow(Relation rel, HeapTuple tuple, TupleDesc tupdesc,
				char **args, int nargs, bool rescan, MemoryContext cxt)
{
	RowContext	rc;

	memset(&rc, 0, sizeof(rc));
	rc.rel = rel;
	rc.tuple = tuple;
	rc.tupdesc = tupdesc;
	rc.args = args;
	rc.nargs = nargs;
	rc.source_table = SourceTableName(rel);
	rc.source_key = BuildSourceKey(&rc);
	rc.cxt = cxt;
	rc.rescan = rescan;
	return ScanRowSafely(&rc, cxt);
}

/*
 * aiguard_rescan(tbl, since): scans rows already stored, with the table's
 * current mapping and the current rules, raising only alerts not raised
 * before (the fingerprint de-duplicates).  Rows whose scan fails are
 * recorded in aiguard.scan_errors and skipped.  Returns the number of new
 * alerts.
 */
PG_FUNCTION_INFO_V1(aiguard_rescan);
Datum
aiguard_rescan(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		have_since = !PG_ARGISNULL(1);
	Relation	rel;
	char	  **args;
	int			nargs;
	char	   *sql;
	Portal		portal;
	int64		created = 0;
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	Datum		since = have_since ? PG_GETARG_DATUM(1) : (Datum) 0;

	rel = table_open(relid, AccessShareLock);
	args = AgProtectionArgs(rel, &nargs);
	if (args == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not protected by aiguard", RelationGetRelationName(rel)),
				 errhint("Call aiguard_protect() first.")));
	if (have_since && args[1 + 2 * F_CREATED_AT][0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" has no created_at mapping", RelationGetRelationName(rel)),
				 errhint("Map created_at in aiguard_protect(), or call aiguard_rescan() without since.")));
	if (have_since && args[2 + 2 * F_CREATED_AT][0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("since cannot be used with a jsonpath created_at mapping")));

	sql = psprintf("SELECT * FROM %s%s%s",
				   quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											  RelationGetRelationName(rel)),
				   have_since ? " WHERE " : "",
				   have_since ? psprintf("%s >= $1", quote_identifier(args[1 + 2 * F_CREATED_AT])) : "");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	{
		/* the table must not run its owner's code with the caller's rights */
		Oid			argtypes[1] = {REGCLASSOID};
		Datum		values[1] = {ObjectIdGetDatum(relid)};

		SPI_execute_with_args("SELECT aiguard.require_safe_to_read($1)", 1, argtypes, values,
							  NULL, true, 0);
	}
	{
		Oid			argtypes[1] = {TIMESTAMPTZOID};
		Datum		values[1] = {since};

		portal = SPI_cursor_open_with_args(NULL, sql, have_since ? 1 : 0, argtypes,
										   values, NULL, true, 0);
	}
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aiguard rescan row",
								   ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		SPITupleTable *tt;

		SPI_cursor_fetch(portal, true, 500);
		if (SPI_processed == 0)
			break;
		tt = SPI_tuptable;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			CHECK_FOR_INTERRUPTS();
			oldcxt = MemoryContextSwitchTo(rowcxt);
			created += AgScanStoredRow(rel, tt->vals[i], tt->tupdesc, args, nargs,
									   true, rowcxt);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(rowcxt);
		}
		SPI_freetuptable(tt);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	table_close(rel, AccessShareLock);
	PG_RETURN_INT64(created);
}
