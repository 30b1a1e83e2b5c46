/*
 * ag_url.c
 *	  Finding URLs in chat text and normalising them for indicator matching.
 *
 * One left-to-right pass.  At the start of every token (a letter or digit
 * after a boundary) we try, in order: a scheme ("https://", defanged
 * "hxxps://"), then a scheme-less "www." host or bare "host.tld".  A
 * candidate is [userinfo@]host[:port][/path][?query][#fragment]; its end is
 * found by the path rules (stop at spaces, quotes, angle brackets,
 * unbalanced ')' or ']', CJK punctuation, invalid UTF-8), then trailing
 * punctuation is stripped.  The bytes before the candidate say whether it
 * is a markdown link or image, an HTML attribute, or an <autolink>.
 *
 * Tokens are visited once and every scan is bounded, so the pass is linear
 * in the text; it reads only text[0..len).
 */
#include "ag_url.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "ag_normalize.h"
#include "ag_punycode.h"
#include "ag_url_int.h"
#include "ag_wordset.h"

#define MAX_HOST_BYTES 1024			/* raw host, as written */
#define MAX_LOOKBACK 2000			/* markdown / HTML context search */
#define MAX_USERINFO 512

/* A URL found in the text, as byte ranges, before normalisation. */
typedef struct Candidate
{
	size_t		start,
				end;
	const char *scheme;
	size_t		userinfo_s,
				userinfo_e;
	size_t		host_s,
				host_e;
	int			port;			/* -1 when not written */
	size_t		path_s,
				path_e;			/* path and query, fragment excluded */
	int			ipv6;
	char		quote;			/* attribute quote the URL sits in, or 0 */
	unsigned	flags;
} Candidate;

/* ---------- character classes ---------- */

static int
IsAlnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int
IsHexDigit(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
HexValue(unsigned char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static unsigned char
Lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int32_t
CpAt(const char *t, size_t len, size_t i, int *n)
{
	int32_t		cp;

	*n = AgUtf8Decode((const unsigned char *) t + i, len - i, &cp);
	return cp;
}

/*
 * A non-ASCII code point that can be part of a host name: a letter, mark
 * or digit.  In scheme-less hosts (strict) CJK and later scripts are left
 * out, so that "访问www.example.com" starts at "www".
 */
static int
IsHostCpNonAscii(int32_t cp, int strict)
{
	if (cp == 0xFFFD || (strict && cp >= 0x2E80))
		return 0;
	switch (utf8proc_category(cp))
	{
		case UTF8PROC_CATEGORY_LU:
		case UTF8PROC_CATEGORY_LL:
		case UTF8PROC_CATEGORY_LT:
		case UTF8PROC_CATEGORY_LM:
		case UTF8PROC_CATEGORY_LO:
		case UTF8PROC_CATEGORY_MN:
		case UTF8PROC_CATEGORY_MC:
		case UTF8PROC_CATEGORY_ND:
			return 1;
		default:
			return 0;
	}
}

/* Host character at i (letter, digit, '-', '_', %XX); its length or 0. */
static int
HostCharAt(const char *t, size_t len, size_t i, int strict)
{
	unsigned char c = (unsigned char) t[i];

	if (IsAlnum(c) || c == '-' || c == '_')
		return 1;
	if (c == '%' && i + 2 < len && IsHexDigit(t[i + 1]) && IsHexDigit(t[i + 2]))
		return 3;
	if (c >= 0x80)
	{
		int			n;
		int32_t		cp = CpAt(t, len, i, &n);

		return IsHostCpNonAscii(cp, strict) ? n : 0;
	}
	return 0;
}

/* A label separator at i: '.', 。 ． ｡ (IDNA), or defanged [.] (.) {.}. */
static int
DotAt(const char *t, size_t len, size_t i, unsigned *flags)
{
	unsigned char c = (unsigned char) t[i];

	if (c == '.')
		return 1;
	if ((c == '[' || c == '(' || c == '{') && i + 2 < len && t[i + 1] == '.' &&
		t[i + 2] == (c == '[' ? ']' : c == '(' ? ')' : '}'))
	{
		if (flags)
			*flags |= AG_URL_DEFANGED;
		return 3;
	}
	if (c >= 0x80)
	{
		int			n;
		int32_t		cp = CpAt(t, len, i, &n);

		if (cp == 0x3002 || cp == 0xFF0E || cp == 0xFF61)
			return n;
	}
	return 0;
}

/* Code points that end a URL path: spaces, CJK and general punctuation. */
static int
EndsPathCp(int32_t cp)
{
	return cp == 0xFFFD || cp == 0xA0 || cp == 0xAB || cp == 0xBB ||
		(cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) ||
		(cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF01 && cp <= 0xFF0F) ||
		(cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
		(cp >= 0xFF5B && cp <= 0xFF65) || cp == 0xFEFF ||
		utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

/* The code point ending just before i (0 at the start of the text). */
static int32_t
PrevCp(const char *t, size_t i)
{
	size_t		s = i;
	int32_t		cp;

	if (i == 0)
		return 0;
	while (s > 0 && i - s < 4 && ((unsigned char) t[s - 1] & 0xC0) == 0x80)
		s--;
	if (s > 0)
		s--;
	if (AgUtf8Decode((const unsigned char *) t + s, i - s, &cp) != (int) (i - s))
		return 0xFFFD;
	return cp;
}

/* ---------- scanning ---------- */

/*
 * Scans a host name from i: labels of host characters joined by dots.
 * Returns the end (a trailing dot is not included), or i if none.
 */
static size_t
ScanHost(const char *t, size_t len, size_t i, int strict, unsigned *flags)
{
	size_t		end = i,
				k = i;
	int			label_ascii = 0;

	while (k < len && k - i < MAX_HOST_BYTES)
	{
		int			n = HostCharAt(t, len, k, strict);

		/* "example.com获取": CJK glued to an ASCII label is the next word */
		if (n > 1 && label_ascii && (unsigned char) t[k] >= 0xE2)
		{
			int32_t		cp;

			AgUtf8Decode((const unsigned char *) t + k, len - k, &cp);
			if (cp >= 0x2E80)
				break;
		}
		if (n > 0)
		{
			label_ascii |= (unsigned char) t[k] < 0x80;
			k += n;
			end = k;
			continue;
		}
		n = k > i ? DotAt(t, len, k, NULL) : 0;
		if (n > 0 && k + n < len && HostCharAt(t, len, k + n, strict) > 0)
		{
			DotAt(t, len, k, flags);
			k += n;
			label_ascii = 0;
			continue;
		}
		break;
	}
	return end;
}

/*
 * Scans path, query and fragment from i; sets the end of the URL and where
 * the fragment starts (the end when none).
 */
static void
ScanPath(const char *t, size_t len, size_t i, char quote, size_t *end, size_t *frag)
{
	int			parens = 0,
				brackets = 0;
	size_t		k = i;

	*frag = (size_t) -1;
	while (k < len)
	{
		unsigned char c = (unsigned char) t[k];

		if (c < 0x80)
		{
			if (c <= 0x20 || c == 0x7F || strchr("\"<>`\\{}|", c) || (c == '\'' && quote == '\''))
				break;
			if (c == '(')
				parens++;
			else if (c == ')' && parens-- == 0)
				break;
			else if (c == '[')
				brackets++;
			else if (c == ']' && brackets-- == 0)
				break;
			else if (c == '#' && *frag == (size_t) -1)
				*frag = k;
			k++;
			continue;
		}
		int			n;
		int32_t		cp = CpAt(t, len, k, &n);

		if (EndsPathCp(cp))
			break;
		k += n;
	}
	/* sentence punctuation after a URL is not part of it */
	while (k > i && strchr(".,;:!?'\"*", t[k - 1]))
		k--;
	*end = k;
	if (*frag > k)
		*frag = k;
}

/* Scheme at i: "http://", "https://", "ftp://", "hxxp(s)://", "hxxp[:]//". */
static size_t
MatchScheme(const char *t, size_t len, size_t i, const char **scheme, unsigned *flags)
{
	static const struct
	{
		const char *written;
		const char *scheme;
		int			defanged;
	}			schemes[] = {
		{"https", "https", 0}, {"http", "http", 0}, {"hxxps", "https", 1},
		{"hxxp", "http", 1}, {"ftp", "ftp", 0}
	};

	/* every scheme starts with h or f: most tokens need no more */
	if (i >= len || (Lower(t[i]) != 'h' && Lower(t[i]) != 'f'))
		return 0;
	for (size_t s = 0; s < sizeof(schemes) / sizeof(schemes[0]); s++)
	{
		size_t		n = strlen(schemes[s].written),
					k;

		if (i + n + 3 > len)
			continue;
		for (k = 0; k < n && Lower(t[i + k]) == schemes[s].written[k]; k++)
			;
		if (k < n)
			continue;
		k = i + n;
		if (t[k] == ':' && t[k + 1] == '/' && t[k + 2] == '/')
			k += 3;
		else if (k + 5 <= len && memcmp(t + k, "[:]//", 5) == 0)
		{
			k += 5;
			*flags |= AG_URL_DEFANGED;
		}
		else
			return 0;
		*scheme = schemes[s].scheme;
		if (schemes[s].defanged)
			*flags |= AG_URL_DEFANGED;
		return k;
	}
	return 0;
}

/* Port after the host at *k, if written; -1 none, -2 invalid. */
static int
ScanPort(const char *t, size_t len, size_t *k)
{
	size_t		j = *k + 1;
	long		port = 0;

	if (*k >= len || t[*k] != ':' || j >= len || !(t[j] >= '0' && t[j] <= '9'))
		return -1;
	while (j < len && t[j] >= '0' && t[j] <= '9' && port <= 65535)
		port = port * 10 + (t[j++] - '0');
	if (port > 65535 || (j < len && IsAlnum(t[j])))
		return -2;
	*k = j;
	return (int) port;
}

/*
 * userinfo@ before the host: the last '@' before the authority ends.
 * Returns the position after it, or i when there is none.
 */
static size_t
ScanUserinfo(const char *t, size_t len, size_t i)
{
	size_t		at = i;

	for (size_t k = i; k < len && k - i < MAX_USERINFO; k++)
	{
		unsigned char c = (unsigned char) t[k];

		if (c == '@')
			at = k + 1;
		else if (c <= 0x20 || strchr("/?#\\\"'<>()`{}|", c))
			break;
	}
	return at;
}

/* Parses authority, path and the rest from i; 1 if a URL. */
static int
ScanRest(const char *t, size_t len, size_t i, Candidate *c, int strict)
{
	size_t		k;

	c->host_s = i;
	if (i < len && t[i] == '[' && !strict)
	{
		size_t		close = i + 1;

		while (close < len && close - i < 64 && (IsHexDigit(t[close]) || t[close] == ':' || t[close] == '.'))
			close++;
		if (close >= len || t[close] != ']' || close == i + 1)
			return 0;
		c->ipv6 = 1;
		c->host_s = i + 1;
		c->host_e = close;
		k = close + 1;
	}
	else
	{
		c->host_e = ScanHost(t, len, i, strict, &c->flags);
		if (c->host_e == i)
			return 0;
		k = c->host_e;
		/* a trailing dot of the host before a path or port */
		if (k + 1 < len && t[k] == '.' && strchr("/:?#", t[k + 1]))
			k++;
	}
	c->port = ScanPort(t, len, &k);
	if (c->port == -2)
		return 0;
	c->path_s = c->path_e = c->end = k;
	if (k < len && (t[k] == '/' || t[k] == '?' || t[k] == '#'))
	{
		size_t		frag;

		ScanPath(t, len, k, c->quote, &c->end, &frag);
		c->path_e = frag;
	}
	if (c->end < c->host_e)
		c->end = c->host_e;
	return 1;
}

/* ---------- context: markdown, HTML, autolink ---------- */

static int
PrecededBy(const char *t, size_t i, const char *s)
{
	size_t		n = strlen(s);

	return i >= n && memcmp(t + i - n, s, n) == 0;
}

/* Markdown "](" before i: link, or image when the '[' follows a '!'. */
static unsigned
MarkdownContext(const char *t, size_t i)
{
	size_t		k;
	int			depth = 0;

	if (PrecededBy(t, i, "](<"))
		i--;
	if (!PrecededBy(t, i, "]("))
		return 0;
	for (k = i - 2; k > 0 && i - k < MAX_LOOKBACK; k--)
	{
		char		c = t[k - 1];

		if (c == '\n')
			break;
		if (c == ']')
			depth++;
		else if (c == '[' && depth-- == 0)
			return (k >= 2 && t[k - 2] == '!') ? AG_URL_MARKDOWN_IMAGE : AG_URL_MARKDOWN_LINK;
	}
	return 0;
}

/*
 * An attribute value of an HTML tag: [<tag ... ]name=["']URL.  Resources
 * fetched when the page renders (src, srcset, poster, background, data)
 * also get AG_URL_HTML_IMAGE.  Sets *quote to the quote character.
 */
static unsigned
HtmlContext(const char *t, size_t i, char *quote)
{
	static AgWordSet fetched = AG_WORDSET("src,srcset,poster,background,data,lowsrc,dynsrc,");
	static AgWordSet linked = AG_WORDSET("href,action,formaction,cite,longdesc,");
	size_t		k = i,
				name_e;
	char		q = 0;

	if (k > 0 && (t[k - 1] == '"' || t[k - 1] == '\''))
		q = t[--k];
	while (k > 0 && t[k - 1] == ' ')
		k--;
	if (k == 0 || t[k - 1] != '=')
		return 0;
	k--;
	while (k > 0 && t[k - 1] == ' ')
		k--;
	name_e = k;
	while (k > 0 && (IsAlnum(t[k - 1]) || t[k - 1] == '-'))
		k--;
	int			is_fetched = AgWordSetFind(&fetched, t + k, name_e - k) >= 0;

	if (!is_fetched && AgWordSetFind(&linked, t + k, name_e - k) < 0)
		return 0;
	/* inside a tag: a '<' before, with no '>' in between */
	for (size_t j = k; j > 0 && i - j < MAX_LOOKBACK; j--)
	{
		if (t[j - 1] == '>')
			return 0;
		if (t[j - 1] == '<')
		{
			*quote = q;
			return AG_URL_HTML | (is_fetched ? AG_URL_HTML_IMAGE : 0);
		}
	}
	return 0;
}

/* ---------- scheme-less candidates ---------- */

/* May a scheme-less host start at i?  Not inside a word, path or e-mail. */
static int
SchemelessBoundary(const char *t, size_t i)
{
	int32_t		prev = PrevCp(t, i);

	if (prev == 0)
		return 1;
	if (prev < 0x80)
		return !IsAlnum(prev) && !strchr("._-@/\\%+~#&$=:", prev);
	return !IsHostCpNonAscii(prev, 1);
}

/* Last label of host [s, e) (after the last dot of any kind). */
static void
LastLabel(const char *t, size_t s, size_t e, size_t *ls)
{
	*ls = s;
	for (size_t k = s; k < e; k++)
	{
		int			n = DotAt(t, e, k, NULL);

		if (n > 0)
		{
			k += n - 1;
			*ls = k + 1;
		}
	}
}

/*
 * Is t[s, e) a CIDR prefix length (1 or 2 digits, at most 32), the whole
 * rest of "10.0.0.0/8"?  Any other path after an address makes a URL.
 */
static int
IsCidrLength(const char *t, size_t s, size_t e)
{
	if (e <= s || e - s > 2)
		return 0;
	for (size_t k = s; k < e; k++)
		if (!(t[k] >= '0' && t[k] <= '9'))
			return 0;
	return (e - s == 1 ? t[s] - '0' : (t[s] - '0') * 10 + t[s + 1] - '0') <= 32;
}

static int
AllDigitsOrDots(const char *t, size_t s, size_t e)
{
	for (size_t k = s; k < e; k++)
		if (!(t[k] >= '0' && t[k] <= '9') && t[k] != '.')
			return 0;
	return 1;
}

/* Is the scheme-less candidate c (host and rest already scanned) a URL? */
static int
AcceptSchemeless(const char *t, size_t len, Candidate *c)
{
	size_t		ls,
				hs = c->host_s,
				he = c->host_e;
	int			has_path = c->path_s < len && c->end > c->path_s + 1 &&
		t[c->path_s] == '/';
	/* "host.tld/" before a space: a trailing slash is a URL's, not a file's */
	int			bare_slash = c->path_s < len && c->end == c->path_s + 1 &&
		t[c->path_s] == '/';
	int			dots = 0,
				upper_tld = 0,
				lower_rest = 0,
				hyphen_or_digit = 0;

	/* e-mail local part, or code such as logging.info(...) */
	if (he < len && (t[he] == '@' || t[he] == '('))
		return 0;
	LastLabel(t, hs, he, &ls);
	for (size_t k = hs; k < ls; k++)
	{
		dots += t[k] == '.';
		lower_rest |= t[k] >= 'a' && t[k] <= 'z';
		hyphen_or_digit |= t[k] == '-' || (t[k] >= '0' && t[k] <= '9');
	}
	if (ls == hs)
		return 0;				/* a single label */
	if (AllDigitsOrDots(t, hs, he))
	{
		/* dotted-quad IPv4 with a port, a slash or a path */
		if (dots != 3)
			return 0;
		if (c->port >= 0 || bare_slash)
			return 1;
		return has_path && !IsCidrLength(t, c->path_s + 1, c->end);
	}
	if (he - ls > 4 && memcmp(t + ls, "xn--", 4) == 0)
	{
		/* an internationalised TLD in its ASCII form (.xn--p1ai is .рф) */
		for (size_t k = ls + 4; k < he; k++)
			if (!((t[k] >= 'a' && t[k] <= 'z') || (t[k] >= '0' && t[k] <= '9') || t[k] == '-'))
				return 0;
		return 1;
	}
	for (size_t k = ls; k < he; k++)
	{
		if (!((t[k] | 0x20) >= 'a' && (t[k] | 0x20) <= 'z'))
			return 0;			/* TLDs are letters */
		upper_tld |= t[k] >= 'A' && t[k] <= 'Z';
	}
	if (he - hs > 4 && Lower(t[hs]) == 'w' && Lower(t[hs + 1]) == 'w' &&
		Lower(t[hs + 2]) == 'w' && t[hs + 3] == '.')
	{
		c->flags |= AG_URL_WWW;
		return he - ls >= 2;
	}
	/* "sentence.Next" is a missing space; "ASP.NET" a name */
	if (upper_tld && (lower_rest || !has_path))
		return 0;
	switch (AgUrlTldKind(t + ls, he - ls))
	{
		case AG_TLD_KNOWN:
			return 1;
		case AG_TLD_AMBIGUOUS:
			return has_path || bare_slash || hyphen_or_digit || c->port >= 0;
		default:
			return 0;
	}
}

/* ---------- normalisation ---------- */

static int
IsUnreserved(unsigned char c)
{
	return IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends path/query bytes normalised for matching. */
static int
AppendPath(AgBuf *out, const char *t, size_t s, size_t e, int html)
{
	static const char hex[] = "0123456789ABCDEF";

	if (s >= e || t[s] != '/')
		AgBufAppend(out, "/", 1);
	for (size_t k = s; k < e; k++)
	{
		unsigned char c = (unsigned char) t[k];

		if (c == '%' && k + 2 < e && IsHexDigit(t[k + 1]) && IsHexDigit(t[k + 2]))
		{
			unsigned char d = (unsigned char) (HexValue(t[k + 1]) * 16 + HexValue(t[k + 2]));
			char		esc[3] = {'%', hex[d >> 4], hex[d & 15]};

			if (IsUnreserved(d))
				AgBufAppend(out, (const char *) &d, 1);
			else
				AgBufAppend(out, esc, 3);
			k += 2;
		}
		else if (html && c == '&' && e - k >= 5 && memcmp(t + k, "&amp;", 5) == 0)
		{
			AgBufAppend(out, "&", 1);
			k += 4;
		}
		else if (c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>')
		{
			char		esc[3] = {'%', hex[c >> 4], hex[c & 15]};

			AgBufAppend(out, esc, 3);
		}
		else
			AgBufAppend(out, (const char *) &c, 1);
	}
	return 0;
}

/*
 * IPv4 as WHATWG parses it: 1 to 4 parts, each decimal, octal (leading 0)
 * or hex (0x); the last fills the remaining bytes.  1 and *addr if so.
 */
static int
ParseIPv4(const char *h, uint32_t *addr, int *obfuscated)
{
	uint64_t	parts[4];
	int			n = 0;
	const char *p = h;

	*obfuscated = 0;
	while (*p)
	{
		uint64_t	v = 0;
		int			base = 10,
					digits = 0;

		if (n == 4)
			return 0;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		{
			base = 16;
			p += 2;
			*obfuscated = 1;
		}
		else if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		{
			base = 8;
			*obfuscated = 1;
		}
		for (; *p && *p != '.'; p++, digits++)
		{
			int			d = IsHexDigit(*p) ? HexValue(*p) : 99;

			if (d >= base || v > 0xFFFFFFFFu)
				return 0;
			v = v * base + d;
		}
		if (digits == 0 && base != 16)
			return 0;
		parts[n++] = v;
		if (*p == '.')
			p++;
	}
	if (n == 0)
		return 0;
	if (n < 4)
		*obfuscated = 1;
	uint64_t	ip = 0;

	for (int i = 0; i < n - 1; i++)
	{
		if (parts[i] > 255)
			return 0;
		ip = (ip << 8) | parts[i];
	}
	if (parts[n - 1] >= ((uint64_t) 1 << (8 * (5 - n))))
		return 0;
	ip = (ip << (8 * (5 - n))) | parts[n - 1];
	*addr = (uint32_t) ip;
	return 1;
}

/* Script of a letter, for mixed-script labels: 0 none/other. */
static int
ScriptOf(int32_t cp)
{
	if ((cp >= 'a' && cp <= 'z') || (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7))
		return 1;				/* Latin */
	if (cp >= 0x370 && cp <= 0x3FF)
		return 2;				/* Greek */
	if (cp >= 0x400 && cp <= 0x52F)
		return 3;				/* Cyrillic */
	if (cp >= 0x530 && cp <= 0x58F)
		return 4;				/* Armenian */
	return 0;
}

/* Flags look-alike tricks of one Unicode label. */
static unsigned
CheckLabelScripts(const int32_t *cps, int n)
{
	int			seen = 0,
				scripts = 0,
				lookalikes = 0,
				letters = 0;

	for (int i = 0; i < n; i++)
	{
		int			s = ScriptOf(cps[i]);

		if (s == 0)
			continue;
		letters++;
		if (!(seen & (1 << s)))
			scripts++;
		seen |= 1 << s;
		lookalikes += s != 1 && AgConfusableToLatin(cps[i]) != 0;
	}
	if (scripts > 1)
		return AG_URL_MIXED_SCRIPT;
	if (letters > 0 && lookalikes == letters)
		return AG_URL_CONFUSABLE;
	return 0;
}

/*
 * Writes the normalised ASCII host and its Unicode form.  Returns 0, or -1
 * if the host is not a valid one.
 */
static int
NormalizeHost(const char *t, const Candidate *c, AgBuf *ascii, AgBuf *uni, unsigned *flags)
{
	char		raw[MAX_HOST_BYTES + 1];
	size_t		n = 0;
	int			nonascii = 0;

	for (size_t k = c->host_s; k < c->host_e && n < MAX_HOST_BYTES;)
	{
		int			d = DotAt(t, c->host_e, k, NULL);

		if (d > 0)
		{
			raw[n++] = '.';
			k += d;
		}
		else if (t[k] == '%' && k + 2 < c->host_e && IsHexDigit(t[k + 1]) && IsHexDigit(t[k + 2]))
		{
			raw[n++] = (char) (HexValue(t[k + 1]) * 16 + HexValue(t[k + 2]));
			k += 3;
		}
		else
			raw[n++] = t[k++];
	}
	raw[n] = '\0';
	if (c->ipv6)
	{
		unsigned char bin[16];
		char		text[64];

		for (size_t k = 0; k < n; k++)
			raw[k] = (char) Lower(raw[k]);
		if (inet_pton(AF_INET6, raw, bin) != 1 || inet_ntop(AF_INET6, bin, text, sizeof(text)) == NULL)
			return -1;
		*flags |= AG_URL_IP_HOST;
		AgBufAppendStr(ascii, text);
		AgBufAppendStr(uni, text);
		return 0;
	}
	for (size_t k = 0; k < n; k++)
	{
		nonascii |= (unsigned char) raw[k] >= 0x80;
		if (raw[k] == '\0' || raw[k] == '/' || raw[k] == '@' || raw[k] == ' ')
			return -1;			/* from a percent escape */
	}

	/* IDNA mapping, close to UTS 46: NFKC and case folding */
	char	   *mapped = NULL;

	if (nonascii)
	{
		utf8proc_uint8_t *m = NULL;

		if (utf8proc_map((const utf8proc_uint8_t *) raw, (utf8proc_ssize_t) n, &m,
						 UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
						 UTF8PROC_CASEFOLD) < 0)
			return -1;
		mapped = (char *) m;
	}
	const char *h = mapped ? mapped : raw;
	size_t		hl = strlen(h);
	int			rc = 0;

	while (hl > 0 && h[hl - 1] == '.')
		hl--;
	if (hl == 0 || hl > 253 * 4)
		rc = -1;

	/* IPv4, possibly in decimal / octal / hex form */
	if (rc == 0 && !nonascii)
	{
		char		lower[MAX_HOST_BYTES + 1];
		int			numeric = 1,
					obfuscated;
		uint32_t	addr;

		for (size_t k = 0; k < hl; k++)
		{
			lower[k] = (char) Lower(h[k]);
			numeric &= IsHexDigit(lower[k]) || lower[k] == '.' || lower[k] == 'x';
		}
		lower[hl] = '\0';
		/* a last label of digits or 0x... makes it an address (WHATWG) */
		const char *last = strrchr(lower, '.');

		last = last ? last + 1 : lower;
		if (numeric && ((last[0] >= '0' && last[0] <= '9' &&
						 strspn(last, "0123456789") == strlen(last)) ||
						(last[0] == '0' && last[1] == 'x')))
		{
			if (!ParseIPv4(lower, &addr, &obfuscated))
				rc = -1;
			else
			{
				AgBufAppendf(ascii, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
							 (addr >> 8) & 255, addr & 255);
				*flags |= AG_URL_IP_HOST | (obfuscated ? AG_URL_IP_OBFUSCATED : 0);
				free(mapped);
				return 1;		/* caller copies ascii into uni */
			}
		}
	}

	/* label by label: ASCII stays, Unicode becomes xn--, xn-- is decoded */
	size_t		ls = 0;

	while (rc == 0 && ls <= hl)
	{
		size_t		le = ls;
		int32_t		cps[AG_PUNYCODE_MAX_CPS];
		int			ncps = 0,
					label_nonascii = 0;

		while (le < hl && h[le] != '.')
			le++;
		if (le == ls || le - ls > 63 * 4)
		{
			rc = -1;
			break;
		}
		for (size_t k = ls; k < le && ncps < AG_PUNYCODE_MAX_CPS;)
		{
			int			m = AgUtf8Decode((const unsigned char *) h + k, le - k, &cps[ncps]);

			if (cps[ncps] == 0xFFFD || (cps[ncps] < 0x80 && !IsAlnum(cps[ncps]) &&
										cps[ncps] != '-' && cps[ncps] != '_'))
			{
				rc = -1;
				break;
			}
			if (cps[ncps] < 0x80)
				cps[ncps] = Lower(cps[ncps]);
			label_nonascii |= cps[ncps] >= 0x80;
			ncps++;
			k += m;
		}
		if (rc != 0)
			break;
		if (ascii->len > 0)
		{
			AgBufAppend(ascii, ".", 1);
			AgBufAppend(uni, ".", 1);
		}
		if (label_nonascii)
		{
			char		puny[256];

			if (AgPunycodeEncode(cps, ncps, puny, sizeof(puny)) < 0 || strlen(puny) > 59)
			{
				rc = -1;
				break;
			}
			AgBufAppend(ascii, "xn--", 4);
			AgBufAppendStr(ascii, puny);
			AgBufAppend(uni, h + ls, le - ls);
			*flags |= AG_URL_IDN | AG_URL_PUNYCODE | CheckLabelScripts(cps, ncps);
		}
		else
		{
			char		label[256];
			int32_t		dec[AG_PUNYCODE_MAX_CPS];
			int			ndec;

			for (int k = 0; k < ncps; k++)
				label[k] = (char) cps[k];
			if (ncps > 63)
			{
				rc = -1;
				break;
			}
			AgBufAppend(ascii, label, ncps);
			if (ncps > 4 && memcmp(label, "xn--", 4) == 0 &&
				(ndec = AgPunycodeDecode(label + 4, ncps - 4, dec, AG_PUNYCODE_MAX_CPS)) > 0)
			{
				*flags |= AG_URL_PUNYCODE | CheckLabelScripts(dec, ndec);
				for (int k = 0; k < ndec; k++)
				{
					unsigned char u[4];

					AgBufAppend(uni, (const char *) u, AgUtf8Encode(dec[k], u));
				}
			}
			else
				AgBufAppend(uni, label, ncps);
		}
		ls = le + 1;
	}
	free(mapped);
	return rc;
}

/* ---------- output ---------- */

typedef struct UrlOffsets
{
	size_t		url,
				url_no_scheme,
				host,
				host_unicode,
				path,
				userinfo;
} UrlOffsets;

/* Normalises candidate c and appends it to list; 0 added, 1 rejected, -1 OOM. */
static int
EmitUrl(AgUrlList *list, const char *t, Candidate *c, UrlOffsets **offs, int *offcap)
{
	AgBuf		host = {0},
				uni = {0};
	AgBuf	   *s = &list->strings;
	int			default_port = strcmp(c->scheme, "https") == 0 ? 443 :
		strcmp(c->scheme, "ftp") == 0 ? 21 : 80;
	int			rc = NormalizeHost(t, c, &host, &uni, &c->flags);

	if (rc < 0 || host.data == NULL)
	{
		AgBufFree(&host);
		AgBufFree(&uni);
		return 1;
	}
	if (rc == 1)
	{
		/* IPv4: the Unicode form is the ASCII one */
		uni.len = 0;
		AgBufAppend(&uni, host.data, host.len);
	}
	if (list->n == list->cap)
	{
		int			ncap = list->cap ? list->cap * 2 : 16;
		AgUrl	   *nu = realloc(list->urls, ncap * sizeof(AgUrl));

		if (nu == NULL)
			goto oom;
		list->urls = nu;
		list->cap = ncap;
	}
	if (list->n >= *offcap)
	{
		int			ncap = list->cap;
		UrlOffsets *no = realloc(*offs, ncap * sizeof(UrlOffsets));

		if (no == NULL)
			goto oom;
		*offs = no;
		*offcap = ncap;
	}

	AgUrl	   *u = &list->urls[list->n];
	UrlOffsets *o = &(*offs)[list->n];
	int			port = c->port >= 0 ? c->port : default_port;

	memset(u, 0, sizeof(*u));
	u->start = c->start;
	u->end = c->end;
	u->scheme = c->scheme;
	u->port = port;
	u->flags = c->flags | (port != default_port ? AG_URL_PORT : 0);

	o->url = s->len;
	AgBufAppendStr(s, c->scheme);
	AgBufAppend(s, "://", 3);
	o->url_no_scheme = s->len;
	if (c->ipv6)
		AgBufAppendf(s, "[%s]", host.data);
	else
		AgBufAppend(s, host.data, host.len);
	if (port != default_port)
		AgBufAppendf(s, ":%d", port);
	o->path = s->len;
	AppendPath(s, t, c->path_s, c->path_e, (c->flags & AG_URL_HTML) != 0);
	AgBufAppend(s, "", 1);
	o->host = s->len;
	AgBufAppend(s, host.data, host.len);
	AgBufAppend(s, "", 1);
	o->host_unicode = s->len;
	AgBufAppend(s, uni.data, uni.len);
	AgBufAppend(s, "", 1);
	o->userinfo = s->len;
	for (size_t k = c->userinfo_s; k < c->userinfo_e; k++)
	{
		if (t[k] == '%' && k + 2 < c->userinfo_e && IsHexDigit(t[k + 1]) && IsHexDigit(t[k + 2]))
		{
			char		d = (char) (HexValue(t[k + 1]) * 16 + HexValue(t[k + 2]));

			AgBufAppend(s, d ? &d : "?", 1);
			k += 2;
		}
		else
			AgBufAppend(s, t + k, 1);
	}
	if (AgBufAppend(s, "", 1) != 0)
		goto oom;
	list->n++;
	AgBufFree(&host);
	AgBufFree(&uni);
	return 0;
oom:
	AgBufFree(&host);
	AgBufFree(&uni);
	return -1;
}

/* Points every AgUrl at its strings once the buffer has stopped moving. */
static void
FixPointers(AgUrlList *list, const UrlOffsets *o)
{
	for (int i = 0; i < list->n; i++)
	{
		AgUrl	   *u = &list->urls[i];
		const char *b = list->strings.data;

		u->url = b + o[i].url;
		u->url_no_scheme = b + o[i].url_no_scheme;
		u->host = b + o[i].host;
		u->host_unicode = b + o[i].host_unicode;
		u->path = b + o[i].path;
		u->userinfo = b + o[i].userinfo;
	}
}

/* Tries a URL starting at i (a token start); 1 and *c if one is there. */
static int
TryUrlAt(const char *t, size_t len, size_t i, int lenient, Candidate *c)
{
	memset(c, 0, sizeof(*c));
	c->start = i;
	c->port = -1;
	size_t		k = MatchScheme(t, len, i, &c->scheme, &c->flags);

	/* only a single quote before the URL can end it early */
	c->quote = (i > 0 && t[i - 1] == '\'') ? '\'' : 0;
	if (k > 0)
	{
		c->flags |= AG_URL_HAS_SCHEME;
		c->userinfo_s = c->userinfo_e = k;
		size_t		h = ScanUserinfo(t, len, k);

		if (h > k)
		{
			c->userinfo_e = h - 1;
			c->flags |= AG_URL_USERINFO;
			k = h;
		}
		return ScanRest(t, len, k, c, 0);
	}
	if (!lenient && !SchemelessBoundary(t, i))
		return 0;
	c->scheme = "http";
	if (!ScanRest(t, len, i, c, !lenient))
		return 0;
	/* "host:443/..." is an https URL: normalised as https, port dropped */
	if (c->port == 443)
		c->scheme = "https";
	if (lenient)
	{
		/* an indicator: one token, a host with a dot */
		for (size_t k = c->end; k < len; k++)
			if (!strchr(".,;:!?'\"*", t[k]))
				return 0;
		return memchr(t + c->host_s, '.', c->host_e - c->host_s) != NULL;
	}
	return AcceptSchemeless(t, len, c);
}

typedef struct TriggerScan
{
	size_t		from;			/* scanned from here ... */
	size_t		to;				/* ... to here: a trigger, or the token's end */
	int			found;			/* to is a trigger */
} TriggerScan;

static inline int
IsTrigger(const char *t, size_t len, size_t i)
{
	unsigned char b = (unsigned char) t[i];

	if (b == '[' || b == 0xE3 || b == 0xEF)
		return 1;
	if (b == ':')				/* a scheme's "://", not "Note:" or "a:b" */
		return i + 2 < len && t[i + 1] == '/' && t[i + 2] == '/';
	if ((b == '(' || b == '{') && i + 1 < len && t[i + 1] == '.')
		return 1;				/* defanged (.) {.} */
	return b == '.' && i + 1 < len &&
		(IsAlnum((unsigned char) t[i + 1]) || (unsigned char) t[i + 1] >= 0x80);
}

/*
 * Whether the token starting at i (up to white space) can hold a URL: every
 * form the extractor accepts has a dot followed by a letter, digit or
 * non-ASCII character (a host.tld; a dot ending a sentence is not one), a
 * colon before "//" (a scheme; hxxp[:]// has its bracket), a bracket
 * (defanged "[.]", IPv6), a defanged "(." or
 * "{.", or a full-width or ideographic dot (lead bytes E3, EF).  Most words
 * of chat text have none, and this byte loop is far cheaper than trying
 * them.  ts remembers the last scan, so that the many word starts of one
 * long token (base64, "a,a,a,...") cost one pass over it, not one each.
 */
static int
MayHoldUrl(const char *t, size_t len, size_t i, TriggerScan *ts)
{
	/* what an earlier call over this token found still holds */
	if (i >= ts->from && i <= ts->to && (ts->found || i < ts->to))
		return ts->found;
	ts->from = i;
	for (; i < len; i++)
	{
		unsigned char b = (unsigned char) t[i];

		if (b <= 0x20 || b == 0x7F)
			break;
		if (b >= 'a' && b <= 'z')
			continue;			/* most bytes: no trigger */
		if (IsTrigger(t, len, i))
		{
			ts->to = i;
			ts->found = 1;
			return 1;
		}
	}
	ts->to = i;
	ts->found = 0;
	return 0;
}

/* Bytes at which IsTrigger can hold (a first, cheap test). */
static const unsigned char trigger_lead[256] = {
	['.'] = 1, [':'] = 1, ['['] = 1, ['('] = 1, ['{'] = 1, [0xE3] = 1, [0xEF] = 1,
};

/*
 * The first trigger (IsTrigger) at or after i, or len.  With SSE2 (every
 * x86-64), 32 bytes at a time are compared with the lead bytes, and only
 * those that are one are looked at.  Five compares find the seven: with
 * 0x20 set, '[' reads as '{' (and the controls 0x08, 0x0E and 0x1A as
 * '(', '.' and ':'); with 0x0C set, 0xE3 reads as 0xEF (and so do 0xE7 and
 * 0xEB).  IsTrigger turns the extra bytes away.
 */
#ifdef __SSE2__
static AG_ALWAYS_INLINE unsigned
TriggerLeadBits(__m128i v)
{
	__m128i		a = _mm_or_si128(v, _mm_set1_epi8(0x20));
	__m128i		hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8('.')),
												_mm_cmpeq_epi8(a, _mm_set1_epi8(':'))),
								   _mm_or_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8('(')),
												_mm_cmpeq_epi8(a, _mm_set1_epi8('{'))));

	hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(0x0C)),
										   _mm_set1_epi8((char) 0xEF)));
	return (unsigned) _mm_movemask_epi8(hit);
}
#endif

static size_t
NextTrigger(const char *t, size_t len, size_t i)
{
#ifdef __SSE2__
	for (; i + 32 <= len; i += 32)
	{
		uint32_t	mask = TriggerLeadBits(_mm_loadu_si128((const __m128i *) (t + i))) |
			TriggerLeadBits(_mm_loadu_si128((const __m128i *) (t + i + 16))) << 16;

		for (; mask != 0; mask &= mask - 1)
		{
			size_t		k = i + (size_t) __builtin_ctz(mask);

			if (IsTrigger(t, len, k))
				return k;
		}
	}
#endif
	for (; i < len; i++)
		if (trigger_lead[(unsigned char) t[i]] && IsTrigger(t, len, i))
			break;
	return i;
}

/*
 * Where the white-space-delimited piece of text holding position p starts
 * (MayHoldUrl's token: it stops at bytes up to 0x20 and at 0x7F), looking
 * back no further than i.
 */
static size_t
PieceStart(const char *t, size_t i, size_t p)
{
	while (p > i)
	{
		unsigned char b = (unsigned char) t[p - 1];

		if (b <= 0x20 || b == 0x7F)
			break;
		p--;
	}
	return p;
}

static int
Extract(AgUrlList *list, const char *text, size_t len, int single)
{
	UrlOffsets *offs = NULL;
	int			offcap = 0;
	size_t		i = 0;
	TriggerScan ts = {1, 0, 0};	/* nothing scanned yet */
	size_t		trigger = 0;	/* the next trigger at or after i ... */
	size_t		piece = 0;		/* ... and where its piece of text starts */

	list->n = 0;
	list->truncated = 0;
	list->strings.len = 0;
	if (!single)
	{
		trigger = NextTrigger(text, len, 0);
		piece = PieceStart(text, 0, trigger);
	}
	while (i < len)
	{
		unsigned char b = (unsigned char) text[i];
		int			step = 1;
		Candidate	c;

		/*
		 * Without a scheme-or-dot trigger ahead in the same piece of text,
		 * MayHoldUrl refuses every token start: go straight to the piece
		 * that holds the next trigger (none left: no more URLs).  Tokens
		 * skipped so would all have been refused, and the piece starts
		 * after white space, where the loop below starts afresh.
		 */
		if (!single)
		{
			if (trigger < i)
			{
				trigger = NextTrigger(text, len, i);
				piece = PieceStart(text, i, trigger);
			}
			if (trigger >= len)
				break;
			if (piece > i)
				i = piece;
			b = (unsigned char) text[i];
		}

		if (b >= 0x80)
		{
			int32_t		cp = CpAt(text, len, i, &step);

			if (!IsHostCpNonAscii(cp, 0))
			{
				i += step;
				continue;
			}
		}
		else if (!IsAlnum(b) && !(single && b == '['))
		{
			i++;
			continue;
		}
		/* token starts only: not in the middle of a word */
		int32_t		prev = PrevCp(text, i);

		if ((prev < 0x80 && (IsAlnum(prev) || prev == '_')) ||
			(prev >= 0x80 && IsHostCpNonAscii(prev, b < 0x80)))
		{
			i += step;
			continue;
		}
		if ((single || MayHoldUrl(text, len, i, &ts)) && TryUrlAt(text, len, i, single, &c))
		{
			char		quote = 0;

			/* context, looked at for accepted URLs only (bounded cost) */
			c.flags |= MarkdownContext(text, i) | HtmlContext(text, i, &quote);
			if (i > 0 && text[i - 1] == '<' && c.end < len && text[c.end] == '>')
				c.flags |= AG_URL_ANGLE;
			if (list->n >= AG_URL_MAX_PER_TEXT)
			{
				list->truncated = 1;
				break;
			}
			int			rc = EmitUrl(list, text, &c, &offs, &offcap);

			if (rc < 0)
			{
				free(offs);
				return -1;
			}
			if (rc == 0 || single)
			{
				i = c.end > i ? c.end : i + step;
				if (single)
					break;
				continue;
			}
		}
		if (single)
			break;
		/* skip the rest of this word */
		i += step;
		while (i < len && (IsAlnum(text[i]) || text[i] == '_'))
			i++;
	}
	FixPointers(list, offs);
	free(offs);
	return list->n;
}

int
AgUrlExtract(AgUrlList *list, const char *text, size_t len)
{
	return Extract(list, text, len, 0);
}

int
AgUrlNormalizeOne(AgUrlList *list, const char *text, size_t len)
{
	/* surrounding spaces are not part of an indicator */
	while (len > 0 && (text[0] == ' ' || text[0] == '\t'))
	{
		text++;
		len--;
	}
	while (len > 0 && strchr(" \t\r\n", text[len - 1]))
		len--;
	int			n = Extract(list, text, len, 1);

	return n < 0 ? -1 : n > 0;
}

void
AgUrlListFree(AgUrlList *list)
{
	free(list->urls);
	AgBufFree(&list->strings);
	memset(list, 0, sizeof(*list));
}
