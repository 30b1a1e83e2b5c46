/*
 * ag_scan_sql.h
 *	  Scanning a text with the cached rule set, from SQL functions and
 *	  triggers alike.
 */
#ifndef AG_SCAN_SQL_H
#define AG_SCAN_SQL_H

#include "ag_catalog.h"
#include "ag_phishing.h"

/*
 * Scans text (at most aiguard.max_scan_bytes of it; *truncated says whether
 * it was cut) and returns the number of findings; ERRORs on failure.
 */
extern int	AgScanText(AgCatalog *cat, const char *text, size_t len,
					   AgRole role, const AgFinding **findings,
					   bool *truncated);

/*
 * AgScanText, plus the findings of the URLs in the scanned part of the text
 * (AgUrlFindings: use_lists, history and image_details as there), merged.
 */
extern int	AgScanTextAndUrls(AgCatalog *cat, const char *text, size_t len,
							  AgRole role, bool use_lists,
							  AgUserHistoryFn history, void *arg,
							  const AgFinding **findings, bool *truncated,
							  char **image_details);

/* Parses a role name or raises an error naming the valid ones. */
extern AgRole AgRoleFromSql(const char *name);

/*
 * Snippet of text around [start, end), at most ~context chars each side,
 * with every secret and personal value among the findings masked; palloc'd.
 */
extern char *AgMaskedEvidence(const char *text, size_t len, size_t start,
							  size_t end, int context, const AgFinding *f,
							  int n);

#endif
