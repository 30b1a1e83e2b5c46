/*
 * ag_rulefile.h
 *	  Parser for rule files (rules/NAME.rules; format in rules/README.md).
 */
#ifndef AG_RULEFILE_H
#define AG_RULEFILE_H

#include <stddef.h>

#include "ag_core.h"

typedef struct AgRuleFileEntry
{
	AgRuleDef	def;			/* strings owned by the entry */
	char	  **keywords;
	char	  **matches;
	int			nmatches;
	char	  **nomatches;
	int			nnomatches;
	int			line;			/* where "[rule ...]" stands */
} AgRuleFileEntry;

typedef struct AgRuleFile
{
	AgRuleFileEntry *entries;
	int			n;
} AgRuleFile;

/* Parses text; 0, or -1 with "file:line: message" in errbuf. */
extern int	AgRuleFileParse(const char *text, size_t len, const char *filename,
							AgRuleFile *out, char *errbuf, size_t errlen);
extern void AgRuleFileFree(AgRuleFile *rf);

#endif							/* AG_RULEFILE_H */
