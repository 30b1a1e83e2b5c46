/*
 * ag_json_texts.c
 *	  The texts a jsonpath mapping selects from a json(b) column.
 *
 * A protected table may keep its messages in a json or jsonb column
 * (LiteLLM's "messages", an OpenAI-style list; LangChain's message
 * objects) and map a field to a jsonpath into it.  Each item the path
 * selects becomes one text to scan: a string as it is, a list of content
 * parts (vision models, many SDKs) as its text parts, a model's message
 * as its content and the arguments of its tool calls, anything else as
 * its JSON.  The paths are parsed once per backend, and the commonest
 * kind, a list filtered by role, is read without jsonpath when its shape
 * allows.
 */
#include "postgres.h"

#include "ag_json_texts.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "ag_guc.h"

/* Appends the JSON of one jsonb value: strings raw, the rest as JSON. */
static void
AppendJsonbScalar(StringInfo out, JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			appendBinaryStringInfo(out, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			appendStringInfoString(out, DatumGetCString(DirectFunctionCall1(numeric_out,
																			  NumericGetDatum(v->val.numeric))));
			break;
		case jbvBool:
			appendStringInfoString(out, v->val.boolean ? "true" : "false");
			break;
		case jbvBinary:
			appendStringInfoString(out, JsonbToCString(NULL, v->val.binary.data,
													   v->val.binary.len));
			break;
		default:
			break;
	}
}

/*
 * Appends the arguments of each call in a tool_calls list, one per line:
 * OpenAI's [{"function": {"name": ..., "arguments": "<JSON text>"}}] or
 * LangChain's [{"name": ..., "args": {...}}]; returns how many.
 */
static int
AppendToolArguments(StringInfo out, JsonbContainer *calls)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	int			n = 0;

	if (!JsonContainerIsArray(calls))
		return 0;
	it = JsonbIteratorInit(calls);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		JsonbValue	fn,
					args;
		JsonbContainer *call;

		if (tok != WJB_ELEM || v.type != jbvBinary ||
			!JsonContainerIsObject(v.val.binary.data))
			continue;
		call = v.val.binary.data;
		if (getKeyJsonValueFromContainer(call, "function", strlen("function"), &fn) &&
			fn.type == jbvBinary && JsonContainerIsObject(fn.val.binary.data))
			call = fn.val.binary.data;
		if (!getKeyJsonValueFromContainer(call, "arguments", strlen("arguments"), &args) &&
			!getKeyJsonValueFromContainer(call, "args", strlen("args"), &args))
			continue;
		if (out->len > 0)
			appendStringInfoChar(out, '\n');
		AppendJsonbScalar(out, &args);
		n++;
	}
	return n;
}

/*
 * Appends the text of a message's content when it is a list of parts
 * (OpenAI's [{"type": "text", "text": ...}, {"type": "image_url", ...}],
 * Anthropic's content blocks): a part's "text" (or nested "content"), one
 * part per line, rather than the JSON of the list, whose escapes (\n, \")
 * would hide words from the rules and the model.  A part of another kind
 * (an image, a document) is kept as its JSON text.  A model's whole
 * message ({"role": "assistant", "content": ..., "tool_calls": [...]})
 * gives its content and the arguments of its tool calls, where an injected
 * model sends data out.  Returns the number of parts appended; 0 when c
 * holds none (the caller then uses the JSON).
 */
static int
AppendContentParts(StringInfo out, JsonbContainer *c, int depth)
{
	static const char *const text_keys[] = {"text", "content"};
	JsonbValue	v;
	int			n = 0;

	if (depth > 8)
		return 0;
	if (JsonContainerIsObject(c))
	{
		for (int k = 0; k < lengthof(text_keys); k++)
		{
			if (!getKeyJsonValueFromContainer(c, text_keys[k], strlen(text_keys[k]), &v))
				continue;
			if (v.type == jbvString)
			{
				if (out->len > 0)
					appendStringInfoChar(out, '\n');
				appendBinaryStringInfo(out, v.val.string.val, v.val.string.len);
				n = 1;
				break;
			}
			if (v.type == jbvBinary)
			{
				n = AppendContentParts(out, v.val.binary.data, depth + 1);
				break;
			}
		}
		/* a model's message: what it calls its tools with goes out too */
		if (getKeyJsonValueFromContainer(c, "tool_calls", strlen("tool_calls"), &v) &&
			v.type == jbvBinary)
			n += AppendToolArguments(out, v.val.binary.data);
		return n;
	}
	if (JsonContainerIsArray(c) && !JsonContainerIsScalar(c))
	{
		JsonbIterator *it = JsonbIteratorInit(c);
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			int			before = out->len;

			if (tok != WJB_ELEM || v.type == jbvNull)
				continue;
			if (v.type == jbvBinary &&
				AppendContentParts(out, v.val.binary.data, depth + 1) > 0)
			{
				n++;
				continue;
			}
			if (before > 0)
				appendStringInfoChar(out, '\n');
			AppendJsonbScalar(out, &v);
			n++;
		}
	}
	return n;
}

/*
 * A mapping's jsonpath, parsed once per backend: parsing it again for every
 * row cost a gateway's INSERT about 10,000 instructions (of 230,000 for
 * the whole trigger).  Up to JSONPATH_CACHE paths are kept (the LiteLLM
 * preset maps four per table), in TopMemoryContext, the oldest making room
 * for a new one; a path is parsed the same whatever the session's
 * settings, so a kept one is never stale.
 */
#define JSONPATH_CACHE 32

static struct
{
	char	   *text;
	Datum		path;
}			jsonpath_cache[JSONPATH_CACHE];
static int	jsonpath_cache_next;

static Datum
ParsedJsonPath(const char *text)
{
	Datum		parsed;
	MemoryContext old;
	int			slot;

	for (int i = 0; i < JSONPATH_CACHE; i++)
		if (jsonpath_cache[i].text != NULL && strcmp(jsonpath_cache[i].text, text) == 0)
			return jsonpath_cache[i].path;
	parsed = DirectFunctionCall1(jsonpath_in, CStringGetDatum(text));
	slot = jsonpath_cache_next;
	jsonpath_cache_next = (jsonpath_cache_next + 1) % JSONPATH_CACHE;
	if (jsonpath_cache[slot].text != NULL)
	{
		pfree(jsonpath_cache[slot].text);
		pfree(DatumGetPointer(jsonpath_cache[slot].path));
		jsonpath_cache[slot].text = NULL;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	jsonpath_cache[slot].path = PointerGetDatum(PG_DETOAST_DATUM_COPY(parsed));
	jsonpath_cache[slot].text = pstrdup(text);
	MemoryContextSwitchTo(old);
	return jsonpath_cache[slot].path;
}

/* The empty object jsonb_path_query_array takes as its variables. */
static Datum
NoJsonPathVars(void)
{
	static Datum vars = (Datum) 0;

	if (vars == (Datum) 0)
	{
		Datum		empty = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		vars = PointerGetDatum(PG_DETOAST_DATUM_COPY(empty));
		MemoryContextSwitchTo(old);
	}
	return vars;
}

/*
 * The commonest mapping, a message list filtered by a member's value and
 * read at another member ('$[*] ? (@.role == "user").content': the LiteLLM
 * preset maps three such paths), read straight from the jsonb instead of
 * through jsonb_path_query_array, which builds the array of results and
 * cost a gateway's row about 17,000 instructions a path.  Only the path
 * written exactly so (no other spacing, identifiers of ASCII letters,
 * digits and '_', a literal without quotes or backslashes), and only a
 * list whose shape leaves lax mode nothing to do: the value is an array,
 * no element is an array, no filtering member is an array or object.
 * Then jsonpath selects, in order, the elements that are objects whose
 * member is that very string, and yields each one's read member when it
 * has one (a missing member yields nothing; a number, a boolean or null
 * never equals a string).  Any other path or shape: false, and the caller
 * asks jsonpath.  (sql/protect.sql compares both on such lists and on the
 * shapes that take jsonpath.)
 */
#define ROLE_FILTER_PART 64

typedef struct RoleFilter
{
	char		member[ROLE_FILTER_PART];	/* "role" */
	char		value[ROLE_FILTER_PART];	/* "user" */
	char		read[ROLE_FILTER_PART];	/* "content" */
} RoleFilter;

/* An identifier at *p into out (at most ROLE_FILTER_PART - 1 bytes). */
static bool
TakeIdentifier(const char **p, char *out)
{
	size_t		n = 0;

	while (((*p)[n] >= 'a' && (*p)[n] <= 'z') || ((*p)[n] >= 'A' && (*p)[n] <= 'Z') ||
		   ((*p)[n] >= '0' && (*p)[n] <= '9') || (*p)[n] == '_')
		n++;
	if (n == 0 || n >= ROLE_FILTER_PART || ((*p)[0] >= '0' && (*p)[0] <= '9'))
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return true;
}

static bool
TakeLiteral(const char **p, const char *lit)
{
	size_t		n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool
ParseRoleFilter(const char *path, RoleFilter *rf)
{
	const char *p = path;
	size_t		n = 0;

	if (!TakeLiteral(&p, "$[*] ? (@.") || !TakeIdentifier(&p, rf->member) ||
		!TakeLiteral(&p, " == \""))
		return false;
	while (p[n] != '\0' && p[n] != '"' && p[n] != '\\' && n < ROLE_FILTER_PART - 1)
		n++;
	if (p[n] != '"')
		return false;
	memcpy(rf->value, p, n);
	rf->value[n] = '\0';
	p += n;
	return TakeLiteral(&p, "\").") && TakeIdentifier(&p, rf->read) && *p == '\0';
}

/* One selected item as text, as FieldValues gives it (NULL for a JSON null). */
static char *
ItemText(JsonbValue *v)
{
	StringInfoData item;

	if (v->type == jbvNull)
		return NULL;
	initStringInfo(&item);
	if (v->type != jbvBinary || AppendContentParts(&item, v->val.binary.data, 0) == 0)
		AppendJsonbScalar(&item, v);
	return item.data;
}

static void
AppendItem(char ***out, int *n, int *cap, char *text)
{
	if (text == NULL)
		return;
	if (*n == *cap)
	{
		*cap *= 2;
		*out = repalloc(*out, *cap * sizeof(char *));
	}
	(*out)[(*n)++] = text;
}

/*
 * The items rf selects from jb, appended to *out; false (and nothing
 * appended) when jb's shape needs jsonpath itself.
 */
static bool
RoleFilterValues(Jsonb *jb, const RoleFilter *rf, char ***out, int *n, int *cap)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	size_t		vlen = strlen(rf->value);

	if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
		return false;
	/* first the shape: no element an array, no filtering member a container */
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		JsonbValue	m;

		if (tok != WJB_ELEM || v.type != jbvBinary)
			continue;
		if (!JsonContainerIsObject(v.val.binary.data))
			return false;
		if (getKeyJsonValueFromContainer(v.val.binary.data, rf->member, strlen(rf->member), &m) &&
			m.type == jbvBinary)
			return false;
	}
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		JsonbValue	m,
					r;

		if (tok != WJB_ELEM || v.type != jbvBinary)
			continue;
		if (!getKeyJsonValueFromContainer(v.val.binary.data, rf->member, strlen(rf->member), &m) ||
			m.type != jbvString || m.val.string.len != (int) vlen ||
			memcmp(m.val.string.val, rf->value, vlen) != 0)
			continue;
		if (getKeyJsonValueFromContainer(v.val.binary.data, rf->read, strlen(rf->read), &r))
			AppendItem(out, n, cap, ItemText(&r));
	}
	return true;
}

char	  **
AgJsonPathTexts(Datum value, const char *path, int *n)
{
	char	  **out;
	RoleFilter	rf;
	int			cap = 4;
	Jsonb	   *res;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	out = palloc(cap * sizeof(char *));
	if (aiguard_jsonpath_shortcut && ParseRoleFilter(path, &rf))
	{
		/* (decompressed once: jsonpath reads the same copy if need be) */
		Jsonb	   *jb = DatumGetJsonbP(value);

		if (RoleFilterValues(jb, &rf, &out, n, &cap))
			return *n > 0 ? out : NULL;
		value = JsonbPGetDatum(jb);
	}
	res = DatumGetJsonbP(DirectFunctionCall4(jsonb_path_query_array,
											 value, ParsedJsonPath(path),
											 NoJsonPathVars(),
											 BoolGetDatum(true)));
	it = JsonbIteratorInit(&res->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		if (tok == WJB_ELEM)
			AppendItem(&out, n, &cap, ItemText(&v));
	return *n > 0 ? out : NULL;
}
