/*
 * ag_phishing.h
 *	  URLs in scanned text: phishing URLs (threat lists, then a lexical
 *	  score) with the alert type of their direction, and markdown/HTML
 *	  images that carry data out.
 */
#ifndef AG_PHISHING_H
#define AG_PHISHING_H

#include "ag_catalog.h"

/*
 * Earlier user text of the conversation a response belongs to (all the
 * user prompts before it), "" when there were none, or NULL when it cannot
 * be told (no conversation mapping).
 */
typedef const char *(*AgUserHistoryFn) (void *arg);

/*
 * Findings of the URLs in text for role: one per phishing URL, typed
 * phishing_url_user_prompt (prompt), phishing_url_tool_output (tool), and
 * for a response phishing_url_model_response, or phishing_url_unknown_source
 * when the user had sent it too or history is NULL.  A URL on a threat list
 * (aiguard.indicators, kind url or domain, with subdomains) has high
 * confidence; an unlisted URL whose lexical risk passes the threshold has a
 * lower one (use_lists false: the lexical score only).  Returns the number of findings (*out palloc'd).  If the text
 * has images carrying data, *image_details gets JSON members for the
 * details of any alert on the text (else NULL).
 */
extern int	AgUrlFindings(AgCatalog *cat, AgRole role, const char *text, size_t len,
						  bool use_lists, AgUserHistoryFn history, void *arg,
						  AgFinding **out, char **image_details);

/*
 * Cheap test for the protection trigger's fast path: false when the URLs
 * of text (if any) can raise nothing.
 */
extern bool AgUrlsNeedAttention(AgCatalog *cat, const char *text, size_t len);

/* Merges two finding arrays into a palloc'd one. */
extern AgFinding *AgMergeFindings(const AgFinding *a, int na, const AgFinding *b, int nb);

#endif
