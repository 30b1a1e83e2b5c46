/*
 * ag_guc.c
 *	  Definitions of the aiguard.* settings.
 *
 * Settings that change what is recorded (evidence) or enforced (blocking)
 * are superuser-only, so the inserting application cannot turn them off
 * for its own session.
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "ag_guc.h"

bool		aiguard_enabled = true;
bool		aiguard_include_evidence = false;
double		aiguard_block_threshold = 0.8;
char	   *aiguard_block_message = NULL;
int			aiguard_max_scan_bytes = 1024 * 1024;
bool		aiguard_jsonpath_shortcut = true;
char	   *aiguard_database = NULL;
int			aiguard_worker_naptime_ms = 1000;
int			aiguard_batch_size = 200;
int			aiguard_wallet_window_s = 600;
int			aiguard_wallet_threshold = 100;
int			aiguard_wallet_interval_s = 60;
int			aiguard_access_baseline_s = 30 * 86400;

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
	DefineCustomBoolVariable("aiguard.jsonpath_shortcut",
							 "Reads role-filtered message lists without jsonpath (a diagnostic switch).",
							 "Off, every jsonpath mapping is evaluated by PostgreSQL's jsonpath; the results are the same.",
							 &aiguard_jsonpath_shortcut, true,
							 PGC_SUSET, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	/* Postmaster-level settings can only be defined while preloading. */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("aiguard.database",
								   "Database the aiguard background worker connects to.",
								   "Takes effect at server start; needs shared_preload_libraries = 'aiguard'.",
								   &aiguard_database, "postgres",
								   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("aiguard.worker_naptime",
							"How long the background worker sleeps when the scan queue is empty.",
							NULL,
							&aiguard_worker_naptime_ms, 1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("aiguard.batch_size",
							"Queued rows the background worker scans per transaction.",
							NULL,
							&aiguard_batch_size, 200, 1, 100000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("aiguard.wallet_window",
							"Time window over which wallet (cost) attacks are counted.",
							NULL,
							&aiguard_wallet_window_s, 600, 10, 7 * 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("aiguard.wallet_threshold",
							"Identical requests to one resource within the wallet window that raise an alert.",
							NULL,
							&aiguard_wallet_threshold, 100, 2, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("aiguard.wallet_interval",
							"How often the background worker looks for wallet attacks.",
							NULL,
							&aiguard_wallet_interval_s, 60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("aiguard.access_baseline",
							"History a user's addresses and user agents are compared against for access anomalies.",
							NULL,
							&aiguard_access_baseline_s, 30 * 86400, 3600, INT_MAX,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	MarkGUCPrefixReserved("aiguard");
}
