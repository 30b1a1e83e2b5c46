/*
 * ag_rule_sources.h
 *	  A rule set built from its sources (the rule files and the model, as
 *	  shipped) the way a backend builds it from aiguard.rules, and the
 *	  fingerprint of those sources.
 *
 * The extension script holds the shipped rules and model as rows, and the
 * fingerprint of the files they came from (tools/ag_rulegen).  A postmaster
 * with aiguard preloaded compiles the installed copies of the same files
 * once (src/pg/ag_preload.c); a backend whose database still holds exactly
 * those rows (same fingerprint, nothing edited since) uses that compiled set
 * instead of compiling its own.
 */
#ifndef AG_RULE_SOURCES_H
#define AG_RULE_SOURCES_H

#include <stddef.h>

#include "ag_core.h"

typedef struct AgRuleSource
{
	const char *name;			/* for messages, e.g. "credentials.rules" */
	const char *text;
	size_t		len;
} AgRuleSource;

#define AG_FINGERPRINT_LEN 16	/* hex digits */

/*
 * The fingerprint of rule files (in the order given: by name) and a model,
 * as AG_FINGERPRINT_LEN hex digits and a NUL in out.  Each text counts with
 * its length, so moving bytes from one file to the next changes it.
 */
extern void AgRuleSourcesFingerprint(const AgRuleSource *files, int nfiles,
									 const char *model, size_t model_len,
									 char out[AG_FINGERPRINT_LEN + 1]);

/*
 * Parses the rule files and adds every rule in the bytewise order of the
 * rule ids (as a backend reads aiguard.rules: ORDER BY rule_id COLLATE
 * "C"), attaches the model (model may be NULL) and finalizes.  The set, or
 * NULL with a message in errbuf.
 */
extern AgRuleSet *AgRuleSetFromSources(const AgRuleSource *files, int nfiles,
									   const char *model, size_t model_len,
									   char *errbuf, size_t errlen);

#endif							/* AG_RULE_SOURCES_H */
