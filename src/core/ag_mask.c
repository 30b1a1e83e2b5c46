/*
 * ag_mask.c
 *	  Masking of secrets and personal data in evidence.
 *
 * Payment cards and SSNs keep their last four digits ("**** **** ****
 * 6467"), as on a receipt; other values keep a short prefix and suffix
 * when they are long enough that these reveal nothing useful
 * ("AKIA************WXYZ"), and are masked whole otherwise.  Separators
 * (spaces, dashes, '@', '.') stay so the shape remains readable.  Masking
 * works on bytes of ASCII values; any non-ASCII byte is masked too.
 */
#include "ag_mask.h"

#include <stdlib.h>
#include <string.h>

#include "ag_util.h"

static int
IsSeparator(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '@' || c == ':' || c == '/';
}

void
AgMaskValue(char *v, size_t len, const char *data_type)
{
	size_t		keep_head = 0,
				keep_tail = 0;

	if (data_type && (strcmp(data_type, "credit_card") == 0 ||
					  strcmp(data_type, "us_ssn") == 0 ||
					  strcmp(data_type, "iban") == 0 ||
					  strcmp(data_type, "phone") == 0))
	{
		/* keep the last four digits */
		int			seen = 0;

		for (size_t i = len; i > 0; i--)
		{
			char		c = v[i - 1];

			if (c >= '0' && c <= '9' && seen < 4)
			{
				seen++;
				continue;
			}
			if (!IsSeparator(c))
				v[i - 1] = '*';
		}
		return;
	}
	if (len >= 16)
		keep_head = keep_tail = 4;
	else if (len >= 10)
		keep_head = keep_tail = 2;
	for (size_t i = keep_head; i + keep_tail < len; i++)
		if (!(data_type && strcmp(data_type, "email") == 0 && IsSeparator(v[i])))
			v[i] = '*';
}

typedef struct Span
{
	size_t		s;
	size_t		e;
	const char *type;
} Span;

char *
AgMaskedSnippet(const char *text, size_t len, size_t start, size_t end,
				int context, const AgFinding *f, int nfindings)
{
	size_t		s = start,
				e = end;
	AgBuf		out = {0};
	char	   *copy;

	if (end > len)
		end = e = len;
	for (int k = 0; k < context && s > 0; k++)
	{
		s--;
		while (s > 0 && ((unsigned char) text[s] & 0xC0) == 0x80)
			s--;
	}
	for (int k = 0; k < context && e < len; k++)
	{
		e++;
		while (e < len && ((unsigned char) text[e] & 0xC0) == 0x80)
			e++;
	}
	if (e - s > 600)
	{
		/* a finding covering a long text: its head is enough */
		e = s + 600;
		while (e > s && ((unsigned char) text[e] & 0xC0) == 0x80)
			e--;
	}
	copy = malloc(e - s + 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, text + s, e - s);
	copy[e - s] = '\0';
	for (int i = 0; i < nfindings; i++)
	{
		size_t		vs,
					ve;

		if (f[i].data_type == NULL || f[i].value_end <= s || f[i].value_start >= e)
			continue;
		vs = f[i].value_start > s ? f[i].value_start : s;
		ve = f[i].value_end < e ? f[i].value_end : e;
		if (vs == f[i].value_start && ve == f[i].value_end)
			AgMaskValue(copy + (vs - s), ve - vs, f[i].data_type);
		else
			memset(copy + (vs - s), '*', ve - vs);	/* cut by the snippet */
	}
	/* masking may have split a multibyte character: make bytes valid */
	for (size_t i = 0; i < e - s; i++)
	{
		unsigned char c = (unsigned char) copy[i];

		if (c >= 0x80)
		{
			int			n = AgUtf8SeqLen(c);
			int			ok = n > 1 && i + n <= e - s;

			for (int k = 1; ok && k < n; k++)
				ok = ((unsigned char) copy[i + k] & 0xC0) == 0x80;
			if (!ok)
				copy[i] = '*';
			else
				i += n - 1;
		}
	}
	if (s > 0 && context > 0)
		AgBufAppend(&out, "...", 3);
	AgBufAppend(&out, copy, e - s);
	if (e < len && (context > 0 || e < end))
		AgBufAppend(&out, "...", 3);
	if (out.data == NULL)
		AgBufAppend(&out, "", 0);
	free(copy);
	return out.data;
}
