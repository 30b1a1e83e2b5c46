/*
 * ag_alerts.h
 *	  Turning findings into rows of aiguard.alerts.
 */
#ifndef AG_ALERTS_H
#define AG_ALERTS_H

#include "ag_catalog.h"

/* Where a scanned text came from, for the alert's context columns. */
typedef struct AgAlertSource
{
	const char *source_table;	/* qualified, quoted name */
	const char *source_key;		/* JSON object text, or NULL */
	const char *field;			/* mapped field name: prompt, response, ... */
	const char *conversation_id;
	const char *user_id;
	const char *client_ip;		/* validated address text, or NULL */
	const char *user_agent;
	const char *resource;
	const char *extra_details;	/* JSON members to add, or NULL */
	bool		rescan;			/* a rescan: a known finding is not a new sighting */
	const char *fingerprint;	/* de-duplication key, NULL = per row and field */
	const char *role_name;		/* role column, NULL = the scanned role */
	const char *action;			/* "detected" (NULL) or "blocked" */

	/*
	 * One message of a message list (a jsonpath mapping that selects several
	 * items, such as every user message of an OpenAI-style request): its
	 * position (1-based; 0 = not a list), the SHA-256 of its text, and what
	 * scopes it (conversation or user, as "conversation:<id>"; NULL = the
	 * row).  Findings in the same message of the same scope are one alert,
	 * however many later requests repeat the message as history; history
	 * (a message before the list's last) is no new sighting.
	 */
	int			message_index;
	const char *message_hash;
	const char *message_scope;
	bool		history;
} AgAlertSource;

/*
 * Groups the findings of one scanned text by alert type and writes one
 * alert per type (de-duplicated by fingerprint), as the extension owner.
 * New alerts are announced with NOTIFY aiguard_alerts at commit.  Returns
 * the number of new alerts.  With src->action "blocked" the alerts are handed
 * off durably (ag_blocked.h) instead, because the row's transaction is
 * about to fail; a blocked jailbreak becomes jailbreak_blocked.
 */
extern int	AgRecordFindings(AgCatalog *cat, const AgAlertSource *src,
							 AgRole role, const char *text, size_t len,
							 const AgFinding *f, int n, bool truncated);

/* Announces a new alert with NOTIFY aiguard_alerts (sent at commit). */
extern void AgNotifyAlert(int64 alert_id, const char *alert_type,
						  const char *severity, const char *action,
						  const char *source_table, const char *source_key);

/* Records a failed scan in aiguard.scan_errors. */
extern void AgRecordScanError(AgCatalog *cat, const char *source_table,
							  const char *source_key, const char *sqlstate,
							  const char *message);

#endif
