/*
 * ag_rule_sources.c
 *	  A rule set built from the shipped rule files and model, and their
 *	  fingerprint (see ag_rule_sources.h).
 */
#include "ag_rule_sources.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_rulefile.h"
#include "ag_util.h"

static uint64_t
FingerprintText(uint64_t h, const char *text, size_t len)
{
	uint64_t	n = (uint64_t) len;
	unsigned char le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char) (n >> (8 * i));
	h = AgFnv1a(h, le, sizeof(le));
	return AgFnv1a(h, text, len);
}

void
AgRuleSourcesFingerprint(const AgRuleSource *files, int nfiles,
						 const char *model, size_t model_len,
						 char out[AG_FINGERPRINT_LEN + 1])
{
	uint64_t	h = AG_FNV_OFFSET;

	for (int i = 0; i < nfiles; i++)
		h = FingerprintText(h, files[i].text, files[i].len);
	h = FingerprintText(h, model ? model : "", model ? model_len : 0);
	snprintf(out, AG_FINGERPRINT_LEN + 1, "%016llx", (unsigned long long) h);
}

static int
CompareEntryIds(const void *a, const void *b)
{
	const AgRuleFileEntry *x = *(const AgRuleFileEntry *const *) a;
	const AgRuleFileEntry *y = *(const AgRuleFileEntry *const *) b;

	return strcmp(x->def.id, y->def.id);
}

AgRuleSet *
AgRuleSetFromSources(const AgRuleSource *files, int nfiles,
					 const char *model, size_t model_len,
					 char *errbuf, size_t errlen)
{
	AgRuleFile *parsed = calloc(nfiles > 0 ? nfiles : 1, sizeof(AgRuleFile));
	AgRuleFileEntry **order = NULL;
	AgRuleSet  *set = AgRuleSetCreate();
	int			nparsed = 0,
				nentries = 0,
				ok = 0;

	if (parsed == NULL || set == NULL)
	{
		AgSetError(errbuf, errlen, "out of memory");
		goto done;
	}
	for (; nparsed < nfiles; nparsed++)
	{
		if (AgRuleFileParse(files[nparsed].text, files[nparsed].len, files[nparsed].name,
							&parsed[nparsed], errbuf, errlen) != 0)
			goto done;
		nentries += parsed[nparsed].n;
	}
	order = malloc((nentries > 0 ? nentries : 1) * sizeof(*order));
	if (order == NULL)
	{
		AgSetError(errbuf, errlen, "out of memory");
		goto done;
	}
	nentries = 0;
	for (int i = 0; i < nfiles; i++)
		for (int r = 0; r < parsed[i].n; r++)
			order[nentries++] = &parsed[i].entries[r];
	qsort(order, nentries, sizeof(*order), CompareEntryIds);
	for (int r = 0; r < nentries; r++)
	{
		char		err[400];

		if (AgRuleSetAddRule(set, &order[r]->def, err, sizeof(err)) != 0)
		{
			AgSetError(errbuf, errlen, "rule %s: %s", order[r]->def.id, err);
			goto done;
		}
	}
	if (model && AgRuleSetSetModel(set, model, model_len, errbuf, errlen) != 0)
		goto done;
	if (AgRuleSetFinalize(set, errbuf, errlen) != 0)
		goto done;
	ok = 1;

done:
	for (int i = 0; i < nparsed; i++)
		AgRuleFileFree(&parsed[i]);
	free(parsed);
	free(order);
	if (!ok && set)
	{
		AgRuleSetFree(set);
		set = NULL;
	}
	return set;
}
