/*
 * ag_catalog.c
 *	  Per-backend cache of the compiled rule set.
 *
 * Compiling some 250 PCRE2 patterns, analysing them for the prefilter and
 * loading the model costs a backend about 35 ms on first use (the patterns
 * are JIT-compiled later, each at its first run), so it is done once per
 * backend and reused by every scan.
 * Changes to aiguard.rules, aiguard.models or aiguard.alert_types fire a
 * statement trigger (aiguard_catalog_changed) that sends a relcache
 * invalidation for that table to every backend; our relcache callback only
 * flips a flag, and the next scan rebuilds.  So a rule edit takes effect in
 * every session at the next statement after it commits, with no reconnect.
 *
 * With aiguard preloaded, a database whose rules and model are as
 * installed uses the rule set the postmaster compiled (ag_preload.c) and
 * only adds its canaries: a new session's first scan then costs no
 * compiling at all.
 *
 * The catalog is read as the extension owner: the application role that
 * inserts chat rows has no access to rules or alerts.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "ag_catalog.h"
#include "ag_preload.h"

static AgCatalog catalog;
static bool catalog_valid = false;
static Oid	watched_relids[6];

static void
CatalogInvalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid)
		catalog_valid = false;
	for (int i = 0; i < lengthof(watched_relids); i++)
		if (relid == watched_relids[i])
			catalog_valid = false;
}

const AgScanOptions ag_pg_text_scan = {.model_threshold = -1.0, .valid_utf8 = 1};

void
AgCatalogInit(void)
{
	CacheRegisterRelcacheCallback(CatalogInvalidate, (Datum) 0);
}

Oid
AgExtensionOwner(void)
{
	Oid			owner = InvalidOid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	/* an index lookup, cheap enough for every queued row */
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("aiguard"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"aiguard\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION aiguard.")));
	return owner;
}

/*
 * Runs fn(arg) as role, with search_path pinned to pg_catalog so that no
 * operator, function or type the session (or a database setting) put in
 * its path can be picked up by the queries fn runs.  The path is restored
 * on success; on error the (sub)transaction abort restores it.
 */
static void
RunAs(Oid role, int sec_flags, void (*fn) (void *), void *arg)
{
	Oid			save_user;
	int			save_sec;
	int			nest;

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(role, save_sec | SECURITY_LOCAL_USERID_CHANGE | sec_flags);
	nest = NewGUCNestLevel();
	PG_TRY();
	{
		(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		fn(arg);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	AtEOXact_GUC(false, nest);	/* drop whatever fn set, too */
}

void
AgRunAsOwner(Oid owner, void (*fn) (void *), void *arg)
{
	RunAs(owner, 0, fn, arg);
}

void
AgRunAsTableOwner(Oid relid, void (*fn) (void *), void *arg)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	RunAs(owner, SECURITY_RESTRICTED_OPERATION, fn, arg);
}

static void
FreeCatalog(AgCatalog *cat)
{
	if (cat->scanner)
		AgScannerFree(cat->scanner);
	if (cat->set && !cat->set_preloaded)
		AgRuleSetFree(cat->set);
	for (int i = 0; i < cat->ntypes; i++)
	{
		pfree(cat->types[i].code);
		pfree(cat->types[i].severity);
		pfree(DatumGetPointer(cat->types[i].tactics));
	}
	if (cat->types)
		pfree(cat->types);
	if (cat->hash_key)
		pfree(cat->hash_key);
	memset(cat, 0, sizeof(*cat));
}

static char *
TextArrayElem(Datum *elems, bool *nulls, int i)
{
	return nulls[i] ? "" : TextDatumGetCString(elems[i]);
}

/* Compiles aiguard.rules and aiguard.models into a new cat->set (in SPI). */
static void
LoadRulesAndModel(AgCatalog *cat)
{
	char		err[512];
	uint64		i;

	cat->set = AgRuleSetCreate();
	if (cat->set == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));

	if (SPI_execute("SELECT rule_id, alert_type, pattern, keywords, confidence, roles, description, "
					"match_on = 'raw', validate, secret_group, data_type "
					"FROM aiguard.rules WHERE enabled ORDER BY rule_id COLLATE \"C\"",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read aiguard.rules");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		AgRuleDef	def;
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		const char **kws;

		memset(&def, 0, sizeof(def));
		def.id = SPI_getvalue(tup, td, 1);
		def.alert_type = SPI_getvalue(tup, td, 2);
		def.pattern = SPI_getvalue(tup, td, 3);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, td, 4, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		kws = palloc0(sizeof(char *) * (n + 1));
		for (int k = 0; k < n; k++)
			kws[k] = TextArrayElem(elems, nulls, k);
		def.keywords = kws;
		def.nkeywords = n;
		def.confidence = DatumGetFloat4(SPI_getbinval(tup, td, 5, &isnull));
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, td, 6, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		def.roles = 0;
		for (int k = 0; k < n; k++)
		{
			int			r = AgRoleFromName(TextArrayElem(elems, nulls, k));

			if (r >= 0)
				def.roles |= AG_ROLE_MASK(r);
		}
		def.description = SPI_getvalue(tup, td, 7);
		def.raw = DatumGetBool(SPI_getbinval(tup, td, 8, &isnull));
		def.validators = SPI_getvalue(tup, td, 9);
		def.secret_group = DatumGetInt32(SPI_getbinval(tup, td, 10, &isnull));
		def.data_type = SPI_getvalue(tup, td, 11);
		if (AgRuleSetAddRule(cat->set, &def, err, sizeof(err)) != 0)
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("aiguard rule \"%s\" is skipped", def.id),
					 errdetail("%s", err),
					 errhint("Fix or disable the rule in aiguard.rules.")));
		else
			cat->nrules++;
	}

	if (SPI_execute("SELECT name, body FROM aiguard.models WHERE enabled AND name = 'jailbreak'",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read aiguard.models");
	if (SPI_processed == 1)
	{
		char	   *body = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		if (AgRuleSetSetModel(cat->set, body, strlen(body), err, sizeof(err)) != 0)
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("aiguard model \"jailbreak\" is not used"),
					 errdetail("%s", err)));
		else
			cat->have_model = true;
		pfree(body);
	}
}

/*
 * A library installed over a database whose catalog is of an earlier
 * release keeps working on it (its new alert types are missing, its
 * built-in rules are the old ones); say so, with the fix, at the session's
 * first catalog load (a session is in one database; the catalog reloads
 * after every rule edit need not ask again).
 */
static void
WarnIfCatalogVersionDiffers(void)
{
	static bool checked = false;

	if (checked)
		return;
	if (SPI_execute("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aiguard'",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_extension");
	checked = true;
	if (SPI_processed == 1)
	{
		char	   *version = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (version != NULL && strcmp(version, AIGUARD_VERSION) != 0)
		{
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("aiguard library version %s does not match this database's extension version %s",
							AIGUARD_VERSION, version),
					 errdetail("Alert types and built-in rules of one version are missing from the other."),
					 errhint("Run ALTER EXTENSION aiguard UPDATE in this database.")));
		}
	}
}

/* Loads rules, model and alert types through SPI into cat. */
static void
LoadCatalog(void *arg)
{
	AgCatalog  *cat = (AgCatalog *) arg;
	char		err[512];
	uint64		i;
	Oid			nsp;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	nsp = get_namespace_oid("aiguard", false);
	watched_relids[0] = get_relname_relid("rules", nsp);
	watched_relids[1] = get_relname_relid("models", nsp);
	watched_relids[2] = get_relname_relid("alert_types", nsp);
	watched_relids[3] = get_relname_relid("canaries", nsp);
	watched_relids[4] = get_relname_relid("hash_key", nsp);
	watched_relids[5] = get_relname_relid("indicators", nsp);

	WarnIfCatalogVersionDiffers();

	/* the rule set the postmaster compiled, if this database's is the same */
	if (SPI_execute("SELECT fingerprint FROM aiguard.rule_set_origin", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read aiguard.rule_set_origin");
	if (SPI_processed == 1)
	{
		char	   *fingerprint = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		cat->set = AgPreloadedRuleSet(fingerprint);
	}
	if (cat->set != NULL)
	{
		cat->set_preloaded = true;
		AgRuleSetClearCanaries(cat->set);
		cat->nrules = AgRuleSetRuleCount(cat->set);
		cat->have_model = AgRuleSetHasModel(cat->set);
	}
	else
		LoadRulesAndModel(cat);
	if (SPI_execute("SELECT canary_id::text, value FROM aiguard.canaries WHERE enabled ORDER BY canary_id",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read aiguard.canaries");
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *value = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		if (AgRuleSetAddCanary(cat->set, id, value, err, sizeof(err)) != 0)
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("aiguard canary %s is skipped", id),
					 errdetail("%s", err)));
		else
			cat->ncanaries++;
	}
	if (SPI_execute("SELECT count(*) FILTER (WHERE net IS NOT NULL), "
					"count(*) FILTER (WHERE kind IN ('url', 'domain')) FROM aiguard.indicators",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;

		cat->n_net_indicators = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
															SPI_tuptable->tupdesc, 1, &isnull));
		cat->n_url_indicators = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
															SPI_tuptable->tupdesc, 2, &isnull));
	}
	if (SPI_execute("SELECT key FROM aiguard.hash_key", true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
		cat->hash_key = MemoryContextStrdup(TopMemoryContext,
											SPI_getvalue(SPI_tuptable->vals[0],
														 SPI_tuptable->tupdesc, 1));

	if (AgRuleSetFinalize(cat->set, err, sizeof(err)) != 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("%s", err)));

	if (SPI_execute("SELECT code, severity::text, tactics FROM aiguard.alert_types",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read aiguard.alert_types");
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		cat->types = palloc0(sizeof(AgAlertTypeInfo) * (SPI_processed + 1));
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		isnull;
			Datum		arr = SPI_getbinval(tup, td, 3, &isnull);
			ArrayType  *a = DatumGetArrayTypePCopy(arr);

			cat->types[i].code = SPI_getvalue(tup, td, 1);
			cat->types[i].severity = SPI_getvalue(tup, td, 2);
			cat->types[i].tactics = PointerGetDatum(a);
			cat->ntypes++;
		}
		MemoryContextSwitchTo(old);
	}
	SPI_finish();

	cat->scanner = AgScannerCreate(cat->set);
	if (cat->scanner == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
}

AgCatalog *
AgCatalogPeek(void)
{
	AcceptInvalidationMessages();
	return catalog_valid ? &catalog : NULL;
}

AgCatalog *
AgCatalogGet(void)
{
	AgCatalog	fresh;

	AcceptInvalidationMessages();
	if (catalog_valid)
		return &catalog;

	memset(&fresh, 0, sizeof(fresh));
	fresh.owner = AgExtensionOwner();
	PG_TRY();
	{
		AgRunAsOwner(fresh.owner, LoadCatalog, &fresh);
	}
	PG_CATCH();
	{
		FreeCatalog(&fresh);
		PG_RE_THROW();
	}
	PG_END_TRY();
	{
		static uint64 generations = 0;

		fresh.generation = ++generations;
	}
	FreeCatalog(&catalog);
	catalog = fresh;
	catalog_valid = true;
	return &catalog;
}

char *
AgValueHash(const AgCatalog *cat, const char *value, size_t len)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	const char *key = cat->hash_key ? cat->hash_key : "";
	char	   *hex = palloc(33);

	if (ctx == NULL ||
		pg_hmac_init(ctx, (const uint8 *) key, strlen(key)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) value, len) < 0 ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
	{
		pg_hmac_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the value hash")));
	}
	pg_hmac_free(ctx);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return hex;
}

const AgAlertTypeInfo *
AgCatalogAlertType(const AgCatalog *cat, const char *code)
{
	for (int i = 0; i < cat->ntypes; i++)
		if (strcmp(cat->types[i].code, code) == 0)
			return &cat->types[i];
	return NULL;
}

/*
 * Statement trigger on the rule, model and alert-type tables: tell every
 * backend to rebuild its cache.
 */
PG_FUNCTION_INFO_V1(aiguard_catalog_changed);
Datum
aiguard_catalog_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("aiguard_catalog_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/*
 * aiguard_rule_set(): what this session's scans use: how many rules, the
 * model, the canaries, and whether the rule set is the one the postmaster
 * compiled at start (shared by every session) or compiled by the session.
 */
PG_FUNCTION_INFO_V1(aiguard_rule_set);
Datum
aiguard_rule_set(PG_FUNCTION_ARGS)
{
	AgCatalog  *cat = AgCatalogGet();
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int32GetDatum(cat->nrules);
	values[1] = BoolGetDatum(cat->have_model);
	values[2] = Int32GetDatum(cat->ncanaries);
	values[3] = BoolGetDatum(cat->set_preloaded);
	values[4] = Int64GetDatum((int64) AgRuleSetMemoryBytes(cat->set));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
