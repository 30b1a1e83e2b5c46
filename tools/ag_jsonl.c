/*
 * ag_jsonl.c
 *	  See ag_jsonl.h.
 */
#include "ag_jsonl.h"

#include <stdlib.h>
#include <string.h>

#include "ag_util.h"

static const char *
SkipWs(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* Skips one JSON value starting at p; returns the byte after it. */
static const char *
SkipValue(const char *p)
{
	p = SkipWs(p);
	if (*p == '"')
	{
		p++;
		while (*p && *p != '"')
			p += (*p == '\\' && p[1]) ? 2 : 1;
		return *p ? p + 1 : p;
	}
	if (*p == '{' || *p == '[')
	{
		int			depth = 0;

		do
		{
			if (*p == '"')
			{
				p = SkipValue(p);
				continue;
			}
			if (*p == '{' || *p == '[')
				depth++;
			else if (*p == '}' || *p == ']')
				depth--;
			p++;
		} while (*p && depth > 0);
		return p;
	}
	while (*p && *p != ',' && *p != '}' && *p != ']')
		p++;
	return p;
}

static int
HexDigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *
DecodeString(const char *p, size_t *outlen)
{
	AgBuf		b = {0};

	p++;						/* opening quote */
	while (*p && *p != '"')
	{
		if (*p != '\\')
		{
			AgBufAppend(&b, p, 1);
			p++;
			continue;
		}
		p++;
		switch (*p)
		{
			case 'n':
				AgBufAppend(&b, "\n", 1);
				break;
			case 't':
				AgBufAppend(&b, "\t", 1);
				break;
			case 'r':
				AgBufAppend(&b, "\r", 1);
				break;
			case 'b':
				AgBufAppend(&b, "\b", 1);
				break;
			case 'f':
				AgBufAppend(&b, "\f", 1);
				break;
			case 'u':
				{
					int32_t		cp = 0;

					for (int i = 1; i <= 4; i++)
						cp = cp * 16 + (HexDigit(p[i]) < 0 ? 0 : HexDigit(p[i]));
					p += 4;
					if (cp >= 0xD800 && cp <= 0xDBFF && p[1] == '\\' && p[2] == 'u')
					{
						int32_t		lo = 0;

						for (int i = 3; i <= 6; i++)
							lo = lo * 16 + (HexDigit(p[i]) < 0 ? 0 : HexDigit(p[i]));
						if (lo >= 0xDC00 && lo <= 0xDFFF)
						{
							cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
							p += 6;
						}
					}
					unsigned char enc[4];
					int			n;

					/* a lone surrogate is no character: U+FFFD, as PostgreSQL's JSON refuses it */
					if (cp >= 0xD800 && cp <= 0xDFFF)
						cp = 0xFFFD;
					n = AgUtf8Encode(cp, enc);

					AgBufAppend(&b, (const char *) enc, n);
					break;
				}
			default:
				if (*p)
					AgBufAppend(&b, p, 1);
		}
		if (*p)
			p++;
	}
	if (b.data == NULL)
		AgBufAppend(&b, "", 0);
	*outlen = b.len;
	return b.data;
}

static const char *
FindMember(const char *line, const char *key)
{
	const char *p = SkipWs(line);
	size_t		kl = strlen(key);

	if (*p != '{')
		return NULL;
	p++;
	for (;;)
	{
		p = SkipWs(p);
		if (*p != '"')
			return NULL;
		const char *ks = p + 1;
		const char *ke = SkipValue(p) - 1;

		p = SkipWs(ke + 1);
		if (*p != ':')
			return NULL;
		p = SkipWs(p + 1);
		if ((size_t) (ke - ks) == kl && memcmp(ks, key, kl) == 0)
			return p;
		p = SkipWs(SkipValue(p));
		if (*p != ',')
			return NULL;
		p++;
	}
}

char *
JsonGetString(const char *line, const char *key, size_t *outlen)
{
	const char *p = FindMember(line, key);

	if (p == NULL || *p != '"')
		return NULL;
	return DecodeString(p, outlen);
}

char *
JsonGetRaw(const char *line, const char *key)
{
	const char *p = FindMember(line, key);

	if (p == NULL)
		return NULL;
	const char *e = SkipValue(p);

	return strndup(p, (size_t) (e - p));
}

long
ReadLine(FILE *f, char **buf, size_t *cap)
{
	ssize_t		n = getline(buf, cap, f);

	if (n < 0)
		return -1;
	while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
		(*buf)[--n] = '\0';
	return (long) n;
}
