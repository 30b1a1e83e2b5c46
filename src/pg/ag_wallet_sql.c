/*
 * ag_wallet_sql.c
 *	  SQL-callable helper of the wallet-attack detector
 *	  (schema/window_detectors.sql).
 *
 * aiguard.request_key(text): the key under which repeated requests are
 * counted (AgRequestKey: white space trimmed and collapsed, lower case).
 * In C because the detector computes it for every request of the last
 * window, and the same in SQL (regexp_replace over each prompt) took 40
 * seconds for a window of 250,000 2 KiB prompts.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "ag_request_key.h"

PG_FUNCTION_INFO_V1(aiguard_request_key);
Datum
aiguard_request_key(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	static AgBuf key;			/* reused: one allocation per backend */
	text	   *result;

	if (AgRequestKey(&key, VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	result = cstring_to_text_with_len(key.data, (int) key.len);
	if (key.cap > 1024 * 1024)
		AgBufFree(&key);		/* do not hold on to a huge request's room */
	PG_FREE_IF_COPY(in, 0);
	PG_RETURN_TEXT_P(result);
}
