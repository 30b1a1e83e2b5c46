/*
 * ag_guc.c
 *	  Definitions of the aiguard.* settings.
 *
 * Settings that change what is recorded (evidence) or enforced (blocking)
 * are superuser-only, so the inserting application cannot turn them off
 * for its own session.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "ag_guc.h"

bool		aiguard_enabled = true;
bool		aiguard_include_evidence = false;
double		aiguard_block_threshold = 0.8;
char	   *aiguard_block_message = NULL;
int			aiguard_max_scan_bytes = 1024 * 1024;

void
AgGucInit(void)
{
	DefineCustomBoolVariable("aiguard.enabled",
							 "Scans rows of protected tables.",
							 "When off, protection triggers keep every row and scan nothing.",
							 &aiguard_enabled, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("aiguard.include_evidence",
							 "Stores a snippet of the scanned text around each finding in the alert.",
							 "Off by default: alerts then carry no prompt or response text.",
							 &aiguard_include_evidence, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("aiguard.block_threshold",
							 "Confidence at or above which block mode rejects a row.",
							 NULL,
							 &aiguard_block_threshold, 0.8, 0.0, 1.0,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("aiguard.block_message",
							   "Error message returned to the application when a row is blocked.",
							   NULL,
							   &aiguard_block_message,
							   "I cannot process this request because it was flagged by a security policy.",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("aiguard.max_scan_bytes",
							"Longest text scanned; longer text is scanned up to this limit.",
							"Alerts on truncated text say so in their details.",
							&aiguard_max_scan_bytes, 1024 * 1024, 1024, 64 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	MarkGUCPrefixReserved("aiguard");
}
