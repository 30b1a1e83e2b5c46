/*
 * ag_rulefile.c
 *	  Reads the rule file format: "[rule id]" sections of "key = value"
 *	  lines, '#' comments, '\' continuation.  Every problem is reported with
 *	  file and line, since rule files are edited by hand.
 */
#include "ag_rulefile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_util.h"

static char *
Trim(char *s)
{
	char	   *e;

	while (*s && isspace((unsigned char) *s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	return s;
}

static int
PushString(char ***arr, int *n, const char *s)
{
	char	  **a = realloc(*arr, (*n + 1) * sizeof(char *));

	if (a == NULL)
		return -1;
	*arr = a;
	a[*n] = strdup(s);
	if (a[*n] == NULL)
		return -1;
	(*n)++;
	return 0;
}

/*
 * A keyword shape: literal characters and "[...]" classes of characters
 * (ranges "a-z" allowed), e.g. "[0-9][0-9]" for every two-digit run.  Every
 * string of the shape is pushed as a keyword, so that a rule led by a class
 * (digits, hex) gets keywords far rarer than one character of it.
 */
#define AG_SHAPE_MAX_KEYWORDS 4096

static int
ExpandShape(const char *shape, char *prefix, size_t plen, char ***arr, int *n,
			int *budget)
{
	if (*shape == '\0')
	{
		if (plen == 0)
			return 0;
		if (--*budget < 0)
			return -2;
		prefix[plen] = '\0';
		return PushString(arr, n, prefix);
	}
	if (*shape != '[')
	{
		prefix[plen] = *shape;
		return ExpandShape(shape + 1, prefix, plen + 1, arr, n, budget);
	}

	const char *close = strchr(shape + 1, ']');
	unsigned char seen[256] = {0};

	if (close == NULL || close == shape + 1)
		return -3;
	for (const unsigned char *c = (const unsigned char *) shape + 1;
		 c < (const unsigned char *) close; c++)
	{
		unsigned char hi = *c;
		int			range = c + 2 < (const unsigned char *) close && c[1] == '-';

		if (range)
		{
			hi = c[2];
			if (hi < *c)
				return -3;
		}
		if (*c >= 0x80 || hi >= 0x80)
			return -3;			/* a class is of ASCII characters */
		for (unsigned ch = *c; ch <= hi; ch++)
		{
			int			rc;

			if (seen[ch])
				continue;
			seen[ch] = 1;
			prefix[plen] = (char) ch;
			rc = ExpandShape(close + 1, prefix, plen + 1, arr, n, budget);
			if (rc != 0)
				return rc;
		}
		if (range)
			c += 2;
	}
	return 0;
}

static void
FreeEntry(AgRuleFileEntry *e)
{
	free((char *) e->def.id);
	free((char *) e->def.alert_type);
	free((char *) e->def.pattern);
	free((char *) e->def.description);
	free((char *) e->def.validators);
	free((char *) e->def.data_type);
	for (int i = 0; i < e->def.nkeywords; i++)
		free(e->keywords[i]);
	free(e->keywords);
	for (int i = 0; i < e->nmatches; i++)
		free(e->matches[i]);
	free(e->matches);
	for (int i = 0; i < e->nnomatches; i++)
		free(e->nomatches[i]);
	free(e->nomatches);
}

static int
CheckEntry(const AgRuleFileEntry *e, const char *filename, char *errbuf,
		   size_t errlen)
{
	const char *missing = NULL;

	if (e->def.alert_type == NULL)
		missing = "alert";
	else if (e->def.pattern == NULL)
		missing = "pattern";
	else if (e->def.nkeywords == 0)
		missing = "keywords";
	else if (e->def.roles == 0)
		missing = "roles";
	else if (e->nmatches == 0)
		missing = "match";
	else if (e->nnomatches == 0)
		missing = "nomatch";
	if (missing)
	{
		AgSetError(errbuf, errlen, "%s:%d: rule \"%s\" has no \"%s\"",
				   filename, e->line, e->def.id, missing);
		return -1;
	}
	return 0;
}

int
AgRuleFileParse(const char *text, size_t len, const char *filename,
				AgRuleFile *out, char *errbuf, size_t errlen)
{
	AgBuf		logical = {0};
	size_t		pos = 0;
	int			lineno = 0,
				startline = 0;
	AgRuleFileEntry *cur = NULL;

	memset(out, 0, sizeof(*out));
	while (pos < len)
	{
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t		ll = nl ? (size_t) (nl - (text + pos)) : len - pos;

		lineno++;
		if (logical.len == 0)
			startline = lineno;
		AgBufAppend(&logical, text + pos, ll);
		pos += ll + (nl ? 1 : 0);
		if (logical.len > 0 && logical.data[logical.len - 1] == '\r')
			logical.data[--logical.len] = '\0';
		/* continuation */
		if (logical.len > 0 && logical.data[logical.len - 1] == '\\' && pos < len)
		{
			logical.data[--logical.len] = '\0';
			continue;
		}
		if (logical.data == NULL)
			AgBufAppend(&logical, "", 0);

		char	   *line = Trim(logical.data);

		if (*line == '\0' || *line == '#')
		{
			logical.len = 0;
			continue;
		}
		if (strncmp(line, "[rule ", 6) == 0)
		{
			char	   *id = Trim(line + 6);
			size_t		idl = strlen(id);

			if (idl == 0 || id[idl - 1] != ']')
			{
				AgSetError(errbuf, errlen, "%s:%d: expected \"[rule ID]\"", filename, startline);
				goto fail;
			}
			id[idl - 1] = '\0';
			id = Trim(id);
			if (cur && CheckEntry(cur, filename, errbuf, errlen) != 0)
				goto fail;
			for (int i = 0; i < out->n; i++)
				if (strcmp(out->entries[i].def.id, id) == 0)
				{
					AgSetError(errbuf, errlen, "%s:%d: duplicate rule id \"%s\"", filename, startline, id);
					goto fail;
				}
			AgRuleFileEntry *ne = realloc(out->entries, (out->n + 1) * sizeof(AgRuleFileEntry));

			if (ne == NULL)
				goto oom;
			out->entries = ne;
			cur = &out->entries[out->n++];
			memset(cur, 0, sizeof(*cur));
			cur->def.id = strdup(id);
			cur->def.confidence = 0.8;
			cur->line = startline;
			logical.len = 0;
			continue;
		}
		char	   *eq = strchr(line, '=');

		if (eq == NULL || cur == NULL)
		{
			AgSetError(errbuf, errlen, cur ? "%s:%d: expected \"key = value\"" :
					   "%s:%d: expected \"[rule ID]\" before any setting",
					   filename, startline);
			goto fail;
		}
		*eq = '\0';
		char	   *key = Trim(line);
		char	   *val = Trim(eq + 1);

		if (strcmp(key, "alert") == 0)
		{
			free((char *) cur->def.alert_type);
			cur->def.alert_type = strdup(val);
		}
		else if (strcmp(key, "pattern") == 0)
		{
			free((char *) cur->def.pattern);
			cur->def.pattern = strdup(val);
		}
		else if (strcmp(key, "description") == 0)
		{
			free((char *) cur->def.description);
			cur->def.description = strdup(val);
		}
		else if (strcmp(key, "confidence") == 0)
		{
			char	   *ep;

			cur->def.confidence = strtod(val, &ep);
			if (*ep != '\0' || !(cur->def.confidence > 0 && cur->def.confidence <= 1))
			{
				AgSetError(errbuf, errlen, "%s:%d: confidence must be a number in (0, 1]", filename, startline);
				goto fail;
			}
		}
		else if (strcmp(key, "roles") == 0)
		{
			char	   *save = NULL;

			cur->def.roles = 0;
			for (char *t = strtok_r(val, " ,", &save); t; t = strtok_r(NULL, " ,", &save))
			{
				int			r = strcmp(t, "prompt") == 0 ? AG_ROLE_PROMPT :
					strcmp(t, "response") == 0 ? AG_ROLE_RESPONSE :
					strcmp(t, "tool") == 0 ? AG_ROLE_TOOL :
					strcmp(t, "user_agent") == 0 ? AG_ROLE_USER_AGENT : -1;

				if (r < 0)
				{
					AgSetError(errbuf, errlen, "%s:%d: unknown role \"%s\"", filename, startline, t);
					goto fail;
				}
				cur->def.roles |= AG_ROLE_MASK(r);
			}
		}
		else if (strcmp(key, "keywords") == 0)
		{
			char	   *save = NULL;

			for (char *t = strtok_r(val, "|", &save); t; t = strtok_r(NULL, "|", &save))
			{
				char	   *kw = Trim(t);

				if (*kw && PushString(&cur->keywords, &cur->def.nkeywords, kw) != 0)
					goto oom;
			}
			cur->def.keywords = (const char *const *) cur->keywords;
		}
		else if (strcmp(key, "keyword_shapes") == 0)
		{
			char	   *save = NULL;

			for (char *t = strtok_r(val, "|", &save); t; t = strtok_r(NULL, "|", &save))
			{
				char	   *shape = Trim(t);
				char		prefix[256];
				int			budget = AG_SHAPE_MAX_KEYWORDS;
				int			rc;

				if (strlen(shape) >= sizeof(prefix))
					rc = -3;
				else
					rc = ExpandShape(shape, prefix, 0, &cur->keywords, &cur->def.nkeywords, &budget);
				if (rc == -1)
					goto oom;
				if (rc == -2)
				{
					AgSetError(errbuf, errlen, "%s:%d: keyword shape \"%s\" stands for more than %d keywords",
							   filename, startline, shape, AG_SHAPE_MAX_KEYWORDS);
					goto fail;
				}
				if (rc == -3)
				{
					AgSetError(errbuf, errlen, "%s:%d: keyword shape \"%s\" is not literals and \"[...]\" classes of ASCII characters",
							   filename, startline, shape);
					goto fail;
				}
			}
			cur->def.keywords = (const char *const *) cur->keywords;
		}
		else if (strcmp(key, "match_on") == 0)
		{
			if (strcmp(val, "raw") == 0)
				cur->def.raw = 1;
			else if (strcmp(val, "normalized") == 0 || strcmp(val, "normalised") == 0)
				cur->def.raw = 0;
			else
			{
				AgSetError(errbuf, errlen, "%s:%d: match_on must be \"raw\" or \"normalized\"", filename, startline);
				goto fail;
			}
		}
		else if (strcmp(key, "validate") == 0)
		{
			free((char *) cur->def.validators);
			cur->def.validators = strdup(val);
		}
		else if (strcmp(key, "data_type") == 0)
		{
			free((char *) cur->def.data_type);
			cur->def.data_type = strdup(val);
		}
		else if (strcmp(key, "secret_group") == 0)
			cur->def.secret_group = atoi(val);
		else if (strcmp(key, "match") == 0)
		{
			if (PushString(&cur->matches, &cur->nmatches, val) != 0)
				goto oom;
		}
		else if (strcmp(key, "nomatch") == 0)
		{
			if (PushString(&cur->nomatches, &cur->nnomatches, val) != 0)
				goto oom;
		}
		else
		{
			AgSetError(errbuf, errlen, "%s:%d: unknown key \"%s\"", filename, startline, key);
			goto fail;
		}
		logical.len = 0;
	}
	if (cur && CheckEntry(cur, filename, errbuf, errlen) != 0)
		goto fail;
	AgBufFree(&logical);
	return 0;

oom:
	AgSetError(errbuf, errlen, "%s: out of memory", filename);
fail:
	AgBufFree(&logical);
	AgRuleFileFree(out);
	return -1;
}

void
AgRuleFileFree(AgRuleFile *rf)
{
	for (int i = 0; i < rf->n; i++)
		FreeEntry(&rf->entries[i]);
	free(rf->entries);
	rf->entries = NULL;
	rf->n = 0;
}
