/*
 * ag_rule_coverage.c
 *	  Do a rule's keywords cover its matches?
 *
 * The scanner runs a rule's pattern only near its keywords, so a match
 * that holds none of them is found when every rule runs over the whole
 * text (naive mode) and lost in production.  Nothing in a pattern says
 * which words every match holds, and rule authors get it wrong: the
 * built-in rules had 27 such gaps ("ignoring" against the keyword
 * "ignore", "so far" where the keywords named the prompt).  Random strings
 * shaped by the pattern (AgPatternSample), scanned both ways, find them.
 * The same check guards the keyword windows: a lead or reach worked out
 * too small shows up as a difference too.
 */
#include "ag_rule_coverage.h"

#include <stdio.h>
#include <string.h>

#include "ag_pattern_sample.h"
#include "ag_util.h"

int
AgSameFindings(const AgFinding *a, int na, const AgFinding *b, int nb)
{
	if (na != nb)
		return 0;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i].rule_id, b[i].rule_id) != 0 ||
			a[i].start != b[i].start || a[i].end != b[i].end)
			return 0;
	return 1;
}

/* text into buf, cut if need be at a character boundary (valid UTF-8) */
static void
CopyExample(char *buf, size_t cap, const char *text)
{
	size_t		len = strlen(text);

	if (len >= cap)
	{
		len = cap - 1;
		while (len > 0 && ((unsigned char) text[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
}

int
AgRuleCoverage(const AgRuleSet *set, const AgRuleDef *def, int nsamples,
			   uint64_t *rng, AgCoverage *out, char *errbuf, size_t errlen)
{
	AgScanner  *fast = AgScannerCreate(set);
	AgScanner  *naive = AgScannerCreate(set);
	AgScanOptions nopts = {1, -1.0, 0, 0, 0};
	AgRole		role = AG_ROLE_PROMPT;
	int			rc = 0;

	memset(out, 0, sizeof(*out));
	if (fast == NULL || naive == NULL)
	{
		AgSetError(errbuf, errlen, "out of memory");
		rc = -1;
		goto done;
	}
	while (role < AG_ROLE_COUNT && !(def->roles & AG_ROLE_MASK(role)))
		role++;
	if (role == AG_ROLE_COUNT)
		goto done;
	for (int k = 0; k < nsamples && rc == 0; k++)
	{
		char		sample[2048],
					text[2100];
		size_t		len;

		if (AgPatternSample(def->pattern, rng, sample, sizeof(sample), &len) != 0)
			continue;
		out->sampled++;
		for (int wrap = 0; wrap < 2; wrap++)
		{
			const AgFinding *f1,
					   *f2;
			int			n1,
						n2;

			snprintf(text, sizeof(text), wrap ? "Hello there, %s and bye." : "%s", sample);
			n1 = AgScan(fast, text, strlen(text), role, NULL, &f1, errbuf, errlen);
			if (n1 < 0)
			{
				rc = -1;
				break;
			}
			n2 = AgScan(naive, text, strlen(text), role, &nopts, &f2, errbuf, errlen);
			if (n2 < 0)
			{
				rc = -1;
				break;
			}
			for (int j = 0; j < n2; j++)
				if (strcmp(f2[j].rule_id, def->id) == 0)
				{
					out->matched++;
					break;
				}
			if (!AgSameFindings(f1, n1, f2, n2) && out->differ++ == 0)
				CopyExample(out->example, sizeof(out->example), text);
		}
	}
done:
	AgScannerFree(fast);
	AgScannerFree(naive);
	return rc;
}
