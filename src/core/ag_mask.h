/*
 * ag_mask.h
 *	  Evidence snippets in which every secret and personal value is masked,
 *	  so an alert table never becomes a second copy of a leak.
 */
#ifndef AG_MASK_H
#define AG_MASK_H

#include <stddef.h>

#include "ag_core.h"

/*
 * Returns a malloc'd snippet of text around [start, end) with up to
 * context characters on each side (and "..." where cut), in which the value
 * span of every finding that carries a data_type is masked.  Findings may
 * lie anywhere in the text; only those inside the snippet matter.
 */
extern char *AgMaskedSnippet(const char *text, size_t len, size_t start,
							 size_t end, int context, const AgFinding *f,
							 int nfindings);

/* Masks one value in place per its data type (exported for tests). */
extern void AgMaskValue(char *value, size_t len, const char *data_type);

#endif
