/*
 * ag_load_rules.h
 *	  Builds an AgRuleSet from rule files and a model file, for the
 *	  stand-alone tools, tests and benchmarks.
 */
#ifndef AG_LOAD_RULES_H
#define AG_LOAD_RULES_H

#include "ag_core.h"
#include "ag_rulefile.h"

/* Reads a whole file; malloc'd, NUL-terminated; NULL on error. */
extern char *ReadWholeFile(const char *path, size_t *len);

/*
 * Parses the rule files (nfiles of them) into files[] and, when set is not
 * NULL, loads every rule and the model (model_path may be NULL) into a new
 * finalized rule set.  Prints the problem and returns -1 on error.
 */
extern int	LoadRuleFiles(const char *model_path, char **paths, int nfiles,
						  AgRuleFile *files, AgRuleSet **set);

#endif
