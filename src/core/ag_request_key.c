/*
 * ag_request_key.c
 *	  The key under which the wallet detector groups requests: the same
 *	  request sent again with other spacing or case has the same key.
 *
 * White space (ASCII \t \n \v \f \r and space, U+0085, and Unicode
 * separators: categories Zs, Zl, Zp) is trimmed from both ends and every
 * run of it inside becomes one space; letters are lower-cased (utf8proc's
 * simple lower case).  ASCII text, the usual case, takes a byte loop.
 * Bytes that are not valid UTF-8 are kept as they are.  The result does
 * not depend on the database's locale.
 */
#include "ag_request_key.h"

#include <utf8proc.h>

static int
IsSpaceCp(utf8proc_int32_t cp)
{
	if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85)
		return 1;
	if (cp < 0x80)
		return 0;

	utf8proc_category_t cat = utf8proc_category(cp);

	return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
		cat == UTF8PROC_CATEGORY_ZP;
}

int
AgRequestKey(AgBuf *out, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *) text;
	int			pending_space = 0;	/* white space seen since the last word */

	out->len = 0;
	/* a lower-case code point takes at most 4 bytes, as its source did... */
	if (AgBufReserve(out, len + 4) != 0)
		return -1;
	for (size_t i = 0; i < len;)
	{
		utf8proc_int32_t cp;
		utf8proc_ssize_t n;

		if (s[i] < 0x80)
		{
			cp = s[i];
			n = 1;
		}
		else
		{
			n = utf8proc_iterate(s + i, (utf8proc_ssize_t) (len - i), &cp);
			if (n <= 0)
			{
				/* not UTF-8: the byte as it is */
				if (pending_space && out->len > 0)
					out->data[out->len++] = ' ';
				pending_space = 0;
				out->data[out->len++] = (char) s[i];
				i++;
				continue;
			}
		}
		i += (size_t) n;
		if (IsSpaceCp(cp))
		{
			pending_space = 1;
			continue;
		}
		if (pending_space && out->len > 0)
		{
			/* ... and a space stands for at least one byte of white space */
			out->data[out->len++] = ' ';
		}
		pending_space = 0;
		if (cp < 0x80)
			out->data[out->len++] = (char) (cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
		else
		{
			utf8proc_uint8_t enc[4];
			utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_tolower(cp), enc);

			/* lower case can be longer than the source (rare): make room */
			if (AgBufReserve(out, (size_t) m + (len - i) + 4) != 0)
				return -1;
			for (utf8proc_ssize_t k = 0; k < m; k++)
				out->data[out->len++] = (char) enc[k];
		}
	}
	out->data[out->len] = '\0';
	return 0;
}
