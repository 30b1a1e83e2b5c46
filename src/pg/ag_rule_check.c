/*
 * ag_rule_check.c
 *	  Validation of rules as they are saved, and the in-database run of
 *	  every rule's own examples.
 *
 * A rule that does not compile, has no keyword, fails one of its own
 * examples, or can match text that holds none of its keywords (which the
 * prefilter would then never show it) is rejected when it is inserted or
 * updated, with the reason, so aiguard.rules never holds a rule that cannot
 * work.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "ag_catalog.h"
#include "ag_core.h"
#include "ag_rule_coverage.h"

/*
 * Samples of a rule's pattern tried when it is saved (see
 * ag_rule_coverage.c); a fixed seed, so that a rule is accepted or refused
 * the same way every time.  Not while CREATE EXTENSION loads the built-in
 * rules: make check-core tries twice as many of those, and 178 rules would
 * take CREATE EXTENSION from 0.3 to 2.5 seconds.
 */
#define COVERAGE_SAMPLES 200
#define COVERAGE_SEED UINT64_C(0x9E3779B97F4A7C15)

static char *
GetTextAttr(HeapTuple tup, TupleDesc td, const char *name)
{
	int			att = SPI_fnumber(td, name);
	bool		isnull;
	Datum		d;

	if (att <= 0)
		elog(ERROR, "aiguard.rules has no column \"%s\"", name);
	d = heap_getattr(tup, att, td, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

static void
GetTextArrayAttr(HeapTuple tup, TupleDesc td, const char *name,
				 const char ***items, int *n)
{
	int			att = SPI_fnumber(td, name);
	bool		isnull;
	Datum		d;
	Datum	   *elems;
	bool	   *nulls;

	*items = NULL;
	*n = 0;
	if (att <= 0)
		elog(ERROR, "aiguard.rules has no column \"%s\"", name);
	d = heap_getattr(tup, att, td, &isnull);
	if (isnull)
		return;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	*items = palloc0(sizeof(char *) * (*n + 1));
	for (int i = 0; i < *n; i++)
		(*items)[i] = nulls[i] ? "" : TextDatumGetCString(elems[i]);
}

static bool
FindsRule(AgScanner *sc, const char *text, AgRole role, const char *rule_id)
{
	const AgFinding *f;
	char		err[256];
	int			n = AgScan(sc, text, strlen(text), role, NULL, &f, err, sizeof(err));

	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not scan rule example"),
				 errdetail("%s", err)));
	for (int i = 0; i < n; i++)
		if (strcmp(f[i].rule_id, rule_id) == 0)
			return true;
	return false;
}

PG_FUNCTION_INFO_V1(aiguard_rule_check);
Datum
aiguard_rule_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tup;
	TupleDesc	td;
	AgRuleDef	def;
	const char **roles;
	const char **matches;
	const char **nomatches;
	int			nroles,
				nmatches,
				nnomatches;
	char		err[512];
	AgRuleSet  *set;
	AgScanner  *volatile sc = NULL;
	AgRole		role;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("aiguard_rule_check() must be called as a row trigger")));
	tup = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	td = trigdata->tg_relation->rd_att;

	memset(&def, 0, sizeof(def));
	def.id = GetTextAttr(tup, td, "rule_id");
	def.alert_type = GetTextAttr(tup, td, "alert_type");
	def.pattern = GetTextAttr(tup, td, "pattern");
	def.description = GetTextAttr(tup, td, "description");
	def.confidence = 0.5;		/* checked by the table's CHECK constraint */
	{
		char	   *match_on = GetTextAttr(tup, td, "match_on");
		int			att = SPI_fnumber(td, "secret_group");
		bool		isnull;
		Datum		d = heap_getattr(tup, att, td, &isnull);

		def.raw = match_on != NULL && strcmp(match_on, "raw") == 0;
		def.secret_group = isnull ? 0 : DatumGetInt32(d);
		def.validators = GetTextAttr(tup, td, "validate");
		def.data_type = GetTextAttr(tup, td, "data_type");
	}
	GetTextArrayAttr(tup, td, "keywords", (const char ***) &def.keywords, &def.nkeywords);
	GetTextArrayAttr(tup, td, "roles", &roles, &nroles);
	GetTextArrayAttr(tup, td, "match_examples", &matches, &nmatches);
	GetTextArrayAttr(tup, td, "nomatch_examples", &nomatches, &nnomatches);
	for (int i = 0; i < nroles; i++)
	{
		int			r = AgRoleFromName(roles[i]);

		if (r < 0 || strcmp(roles[i], AgRoleName((AgRole) r)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid role \"%s\" in rule \"%s\"", roles[i], def.id),
					 errhint("Roles are \"prompt\", \"response\", \"tool\" and \"user_agent\".")));
		def.roles |= AG_ROLE_MASK(r);
	}
	if (def.nkeywords == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rule \"%s\" has no keywords", def.id),
				 errdetail("The pattern only runs when one of the rule's keywords occurs in the text."),
				 errhint("Set keywords to the literal words every match contains.")));

	set = AgRuleSetCreate();
	if (set == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (AgRuleSetAddRule(set, &def, err, sizeof(err)) != 0 ||
		AgRuleSetFinalize(set, err, sizeof(err)) != 0)
	{
		AgRuleSetFree(set);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("invalid rule \"%s\"", def.id),
				 errdetail("%s", err)));
	}

	role = (def.roles & AG_ROLE_MASK(AG_ROLE_PROMPT)) ? AG_ROLE_PROMPT :
		(def.roles & AG_ROLE_MASK(AG_ROLE_RESPONSE)) ? AG_ROLE_RESPONSE :
		(def.roles & AG_ROLE_MASK(AG_ROLE_TOOL)) ? AG_ROLE_TOOL : AG_ROLE_USER_AGENT;
	PG_TRY();
	{
		sc = AgScannerCreate(set);
		if (sc == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		for (int i = 0; i < nmatches; i++)
			if (!FindsRule(sc, matches[i], role, def.id))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("rule \"%s\" does not match its own example", def.id),
						 errdetail("Example: %s", matches[i])));
		for (int i = 0; i < nnomatches; i++)
			if (FindsRule(sc, nomatches[i], role, def.id))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("rule \"%s\" matches its own near-miss example", def.id),
						 errdetail("Near miss: %s", nomatches[i])));
		if (!creating_extension)
		{
			AgCoverage	cov;
			uint64_t	rng = COVERAGE_SEED;

			if (AgRuleCoverage(set, &def, COVERAGE_SAMPLES, &rng, &cov, err, sizeof(err)) != 0)
				ereport(ERROR,
						(errcode(strstr(err, "out of memory") ? ERRCODE_OUT_OF_MEMORY :
								 ERRCODE_INVALID_REGULAR_EXPRESSION),
						 errmsg("could not check the keywords of rule \"%s\"", def.id),
						 errdetail("%s", err)));
			if (cov.differ > 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("rule \"%s\" can match text that holds none of its keywords", def.id),
						 errdetail("On \"%s\" the rule finds something else when it runs only near its keywords than when it runs over the whole text.",
								   cov.example),
						 errhint("Add a keyword that this text contains; every match of the pattern must contain one of the keywords.")));
			if (cov.sampled == 0)
				ereport(WARNING,
						(errcode(ERRCODE_WARNING),
						 errmsg("the keywords of rule \"%s\" were not checked against its pattern", def.id),
						 errdetail("The pattern uses syntax the checker cannot draw samples from (such as \\p{...}, POSIX classes or \\Q...\\E)."),
						 errhint("Make sure that every match of the pattern contains one of the keywords: the rule runs only near them.")));
		}
	}
	PG_FINALLY();
	{
		AgScannerFree(sc);
		AgRuleSetFree(set);
	}
	PG_END_TRY();
	return PointerGetDatum(tup);
}

static void
SelectExamples(void *arg)
{
	if (SPI_execute("SELECT rule_id, roles, match_examples, nomatch_examples "
					"FROM aiguard.rules WHERE enabled ORDER BY rule_id COLLATE \"C\"",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read aiguard.rules");
}

/*
 * aiguard_check_rules(): runs every enabled rule's examples through the
 * full scanner (all rules and the model, as in production) and returns one
 * row per example with whether it behaved.
 */
PG_FUNCTION_INFO_V1(aiguard_check_rules);
Datum
aiguard_check_rules(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AgCatalog  *cat = AgCatalogGet();
	SPITupleTable *tt;
	uint64		nrows;

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* examples are read as the owner, like the rules themselves */
	AgRunAsOwner(cat->owner, SelectExamples, NULL);
	tt = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 i = 0; i < nrows; i++)
	{
		const char **roles,
				  **matches,
				  **nomatches;
		int			nroles,
					nm,
					nn;
		char	   *id = GetTextAttr(tt->vals[i], tt->tupdesc, "rule_id");
		AgRole		role = AG_ROLE_PROMPT;

		GetTextArrayAttr(tt->vals[i], tt->tupdesc, "roles", &roles, &nroles);
		GetTextArrayAttr(tt->vals[i], tt->tupdesc, "match_examples", &matches, &nm);
		GetTextArrayAttr(tt->vals[i], tt->tupdesc, "nomatch_examples", &nomatches, &nn);
		if (nroles > 0 && AgRoleFromName(roles[0]) >= 0)
			role = (AgRole) AgRoleFromName(roles[0]);
		for (int k = 0; k < nm + nn; k++)
		{
			bool		expect = k < nm;
			const char *ex = expect ? matches[k] : nomatches[k - nm];
			bool		got = FindsRule(cat->scanner, ex, role, id);
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			values[0] = CStringGetTextDatum(id);
			values[1] = CStringGetTextDatum(ex);
			values[2] = BoolGetDatum(expect);
			values[3] = BoolGetDatum(got == expect);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	SPI_finish();
	return (Datum) 0;
}
