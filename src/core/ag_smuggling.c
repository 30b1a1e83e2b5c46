/*
 * ag_smuggling.c
 *	  Decoding of Unicode tag characters.
 *
 * Tag characters mirror ASCII at U+E0000 + c and render as nothing, so a
 * model reads instructions that a human reviewer cannot see.  Their one
 * legitimate use is the emoji tag sequence: U+1F3F4 WAVING BLACK FLAG, a
 * short run of tag letters/digits naming a subdivision ("gbeng"), and
 * U+E007F CANCEL TAG.  Those are skipped; every other tag character counts
 * as hidden text.
 */
#include "ag_smuggling.h"

#include <string.h>

#define TAG_BASE 0xE0000
#define CANCEL_TAG 0xE007F
#define BLACK_FLAG 0x1F3F4

static int
IsTag(int32_t cp)
{
	return cp >= TAG_BASE && cp <= CANCEL_TAG;
}

static int
IsSubdivisionTag(int32_t cp)
{
	return (cp >= TAG_BASE + 'a' && cp <= TAG_BASE + 'z') ||
		(cp >= TAG_BASE + '0' && cp <= TAG_BASE + '9');
}

int
AgFindSmuggling(AgSmuggled *sm, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *) text;
	size_t		i = 0;
	int32_t		prev_cp = 0;
	size_t		last_end = 0;

	sm->hidden.len = 0;
	sm->ntags = 0;
	sm->start = sm->end = 0;

	/* Tag characters are encoded F3 A0 80/81 xx: skip fast otherwise. */
	if (memchr(text, 0xF3, len) == NULL)
		return 0;

	while (i < len)
	{
		int32_t		cp;
		int			n;

		if (s[i] != 0xF3)
		{
			n = AgUtf8Decode(s + i, len - i, &cp);
			prev_cp = cp;
			i += n;
			continue;
		}
		n = AgUtf8Decode(s + i, len - i, &cp);
		if (!IsTag(cp))
		{
			prev_cp = cp;
			i += n;
			continue;
		}

		/* A run of tag characters starts at i. */
		size_t		run_start = i;
		size_t		j = i;
		int			count = 0,
					subdivision = 1;
		int32_t		last = 0;

		while (j < len)
		{
			int32_t		c2;
			int			m = AgUtf8Decode(s + j, len - j, &c2);

			if (!IsTag(c2))
				break;
			if (c2 != CANCEL_TAG && !IsSubdivisionTag(c2))
				subdivision = 0;
			if (c2 == CANCEL_TAG && j + m < len)
			{
				/* a cancel tag ends a flag sequence */
				last = c2;
				count++;
				j += m;
				break;
			}
			last = c2;
			count++;
			j += m;
		}
		int			legit = prev_cp == BLACK_FLAG && subdivision &&
			last == CANCEL_TAG && count >= 3 && count <= 8;

		if (!legit)
		{
			size_t		k = run_start;

			if (sm->ntags == 0)
				sm->start = run_start;
			else if (sm->hidden.len > 0 && run_start > last_end)
				AgBufAppend(&sm->hidden, " ", 1);
			while (k < j)
			{
				int32_t		c3;
				int			m = AgUtf8Decode(s + k, len - k, &c3);
				char		ch = (char) (c3 - TAG_BASE);

				if (c3 != CANCEL_TAG)
				{
					if (ch < 0x20 || ch > 0x7E)
						ch = ' ';
					if (AgBufAppend(&sm->hidden, &ch, 1) != 0)
						return -1;
				}
				sm->ntags++;
				k += m;
			}
			sm->end = j;
			last_end = j;
		}
		prev_cp = last;
		i = j;
	}
	if (sm->ntags == 0)
		return 0;
	if (sm->hidden.data == NULL)
		AgBufAppend(&sm->hidden, "", 0);
	return 1;
}

void
AgSmuggledFree(AgSmuggled *sm)
{
	AgBufFree(&sm->hidden);
}
