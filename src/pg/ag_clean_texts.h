/*
 * ag_clean_texts.h
 *	  Texts this backend has scanned and found clean (see ag_clean_texts.c).
 */
#ifndef AG_CLEAN_TEXTS_H
#define AG_CLEAN_TEXTS_H

#include "ag_catalog.h"

/*
 * Whether a text of this role, by the SHA-256 of its bytes (64 hex
 * digits), was scanned in this backend with the current catalog and the current
 * aiguard.max_scan_bytes and had no finding at all.
 */
extern bool AgTextKnownClean(const AgCatalog *cat, AgRole role, const char *sha256hex);

/* Remembers that it had none (call only after a complete scan). */
extern void AgRememberCleanText(const AgCatalog *cat, AgRole role, const char *sha256hex);

/*
 * The same for a text kept verbatim among the last ones found clean: no
 * digest needed, every byte compared.
 */
extern bool AgTextRecentlyClean(const AgCatalog *cat, AgRole role, const char *text, size_t len);

/* Keeps it among them (call only after a complete scan found nothing). */
extern void AgRememberRecentlyClean(const AgCatalog *cat, AgRole role, const char *text, size_t len);

#endif							/* AG_CLEAN_TEXTS_H */
