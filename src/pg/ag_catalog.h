/*
 * ag_catalog.h
 *	  Per-backend cache of the compiled rule set, model and alert catalog.
 */
#ifndef AG_CATALOG_H
#define AG_CATALOG_H

#include "ag_core.h"

typedef struct AgAlertTypeInfo
{
	char	   *code;
	char	   *severity;		/* enum label: low, medium, high */
	Datum		tactics;		/* text[] in TopMemoryContext */
} AgAlertTypeInfo;

typedef struct AgCatalog
{
	AgRuleSet  *set;
	bool		set_preloaded;	/* the postmaster's (ag_preload.c): not ours to free */
	AgScanner  *scanner;
	AgAlertTypeInfo *types;
	int			ntypes;
	Oid			owner;			/* extension owner: alerts are written as it */
	int			nrules;
	bool		have_model;
	int			ncanaries;
	int64		n_net_indicators;	/* ip / cidr entries: 0 = no lookups needed */
	int64		n_url_indicators;	/* url / domain entries: 0 = no lookups needed */
	uint64		generation;		/* changes at every rebuild (lookup caches) */
	char	   *hash_key;		/* HMAC key of value hashes, TopMemoryContext */
} AgCatalog;

extern void AgCatalogInit(void);

/*
 * The options every scan of PostgreSQL text takes: the database is UTF8
 * (checked before any scan), so its text is valid UTF-8 and the core need
 * not check it again.
 */
extern const AgScanOptions ag_pg_text_scan;

/* Hex HMAC-SHA256 (first 32 hex digits) of a leaked value, palloc'd. */
extern char *AgValueHash(const AgCatalog *cat, const char *value, size_t len);

/* The current catalog, rebuilt if a rule, model or alert type changed. */
extern AgCatalog *AgCatalogGet(void);
/* The current catalog if it needs no rebuild, else NULL; never errors. */
extern AgCatalog *AgCatalogPeek(void);
extern const AgAlertTypeInfo *AgCatalogAlertType(const AgCatalog *cat,
												 const char *code);

/*
 * Runs fn(arg) with the extension owner's privileges (for aiguard's own
 * tables), search_path pinned to pg_catalog.
 */
extern void AgRunAsOwner(Oid owner, void (*fn) (void *), void *arg);

/*
 * Runs fn(arg) as the owner of a user table, in a security-restricted
 * operation with search_path pinned (as ANALYZE reads tables): whatever
 * code the table's types, domains or casts run gets no more than the
 * table owner's own rights.  For reading protected tables.
 */
extern void AgRunAsTableOwner(Oid relid, void (*fn) (void *), void *arg);
extern Oid	AgExtensionOwner(void);

#endif
