/*
 * aiguard.c
 *	  Module entry point: registers settings and caches.  Each module sets
 *	  itself up in its own Init function.
 */
#include "postgres.h"

#include "fmgr.h"

#include "ag_catalog.h"
#include "ag_guc.h"
#include "ag_preload.h"
#include "ag_worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	AgGucInit();
	AgCatalogInit();
	AgPreloadInit();
	AgWorkerInit();
}
