/*
 * ag_scan_sql.c
 *	  aiguard_scan(content, role): the pure scan exposed to SQL.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "ag_catalog.h"
#include "ag_guc.h"
#include "ag_mask.h"
#include "ag_phishing.h"
#include "ag_scan_sql.h"

AgRole
AgRoleFromSql(const char *name)
{
	int			r = AgRoleFromName(name);

	if (r < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid role \"%s\"", name),
				 errhint("Valid roles are \"prompt\", \"response\", \"tool\" and \"user_agent\".")));
	return (AgRole) r;
}

int
AgScanText(AgCatalog *cat, const char *text, size_t len, AgRole role,
		   const AgFinding **findings, bool *truncated)
{
	char		err[512];
	int			n;

	*truncated = false;
	if (len > (size_t) aiguard_max_scan_bytes)
	{
		/* cut at a character boundary */
		len = pg_mbcliplen(text, (int) len, aiguard_max_scan_bytes);
		*truncated = true;
	}
	n = AgScan(cat->scanner, text, len, role, &ag_pg_text_scan, findings, err, sizeof(err));
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("aiguard could not scan the text"),
				 errdetail("%s", err)));
	return n;
}

int
AgScanTextAndUrls(AgCatalog *cat, const char *text, size_t len, AgRole role,
				  bool use_lists, AgUserHistoryFn history, void *arg,
				  const AgFinding **findings, bool *truncated, char **image_details)
{
	int			n = AgScanText(cat, text, len, role, findings, truncated);
	AgFinding  *uf;
	int			nu;

	if (*truncated)
		len = pg_mbcliplen(text, (int) len, aiguard_max_scan_bytes);
	nu = AgUrlFindings(cat, role, text, len, use_lists, history, arg, &uf, image_details);
	if (nu > 0)
	{
		*findings = AgMergeFindings(*findings, n, uf, nu);
		n += nu;
	}
	return n;
}

char *
AgMaskedEvidence(const char *text, size_t len, size_t start, size_t end,
				 int context, const AgFinding *f, int n)
{
	char	   *m = AgMaskedSnippet(text, len, start, end, context, f, n);
	char	   *p;

	if (m == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	p = pstrdup(m);
	free(m);
	return p;
}

PG_FUNCTION_INFO_V1(aiguard_scan);
Datum
aiguard_scan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *content = PG_GETARG_TEXT_PP(0);
	char	   *rolename = text_to_cstring(PG_GETARG_TEXT_PP(1));
	AgRole		role = AgRoleFromSql(rolename);
	const char *data = VARDATA_ANY(content);
	size_t		len = VARSIZE_ANY_EXHDR(content);
	AgCatalog  *cat;
	const AgFinding *f;
	bool		truncated;
	int			n;
	AttInMetadata *attinmeta;

	InitMaterializedSRF(fcinfo, 0);
	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aiguard requires a UTF-8 database"),
				 errdetail("The database encoding is \"%s\".", GetDatabaseEncodingName())));
	cat = AgCatalogGet();
	{
		/* threat lists are consulted for callers allowed to read them */
		Oid			indicators = get_relname_relid("indicators", get_namespace_oid("aiguard", false));
		bool		use_lists = OidIsValid(indicators) &&
			pg_class_aclcheck(indicators, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
		char	   *images;

		n = AgScanTextAndUrls(cat, data, len, role, use_lists, NULL, NULL, &f, &truncated, &images);
	}
	attinmeta = TupleDescGetAttInMetadata(rsinfo->setDesc);

	for (int i = 0; i < n; i++)
	{
		const AgAlertTypeInfo *info = AgCatalogAlertType(cat, f[i].alert_type);
		char	   *values[9];
		char		conf[32],
					startbuf[32],
					lenbuf[32];
		size_t		start_chars = AgCharCount(data, f[i].start);
		size_t		len_chars = AgCharCount(data + f[i].start, f[i].end - f[i].start);
		HeapTuple	tup;

		snprintf(conf, sizeof(conf), "%.3f", f[i].confidence);
		snprintf(startbuf, sizeof(startbuf), "%zu", start_chars + 1);
		snprintf(lenbuf, sizeof(lenbuf), "%zu", len_chars);
		values[0] = (char *) f[i].alert_type;
		values[1] = info ? info->severity : NULL;
		values[2] = conf;
		values[3] = (char *) f[i].rule_id;
		values[4] = info ? OidOutputFunctionCall(F_ARRAY_OUT, info->tactics) : NULL;
		values[5] = startbuf;
		values[6] = lenbuf;
		values[7] = AgMaskedEvidence(data, len, f[i].start, f[i].end, 0, f, n);
		if (truncated || f[i].data_type)
		{
			/* splice extra members into the details object */
			StringInfoData d;
			bool		empty = strlen(f[i].details) <= 2;

			initStringInfo(&d);
			appendBinaryStringInfo(&d, f[i].details, strlen(f[i].details) - 1);
			if (f[i].data_type)
			{
				appendStringInfo(&d, "%s\"value_hash\": \"%s\"", empty ? "" : ", ",
								 AgValueHash(cat, data + f[i].value_start,
											 f[i].value_end - f[i].value_start));
				empty = false;
			}
			if (truncated)
				appendStringInfo(&d, "%s\"truncated\": true, \"scanned_bytes\": %d",
								 empty ? "" : ", ", aiguard_max_scan_bytes);
			appendStringInfoChar(&d, '}');
			values[8] = d.data;
		}
		else
			values[8] = f[i].details;
		tup = BuildTupleFromCStrings(attinmeta, values);
		tuplestore_puttuple(rsinfo->setResult, tup);
	}
	return (Datum) 0;
}
