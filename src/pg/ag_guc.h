/*
 * ag_guc.h
 *	  aiguard.* settings.
 */
#ifndef AG_GUC_H
#define AG_GUC_H

extern bool aiguard_enabled;
extern bool aiguard_include_evidence;
extern double aiguard_block_threshold;
extern char *aiguard_block_message;
extern int	aiguard_max_scan_bytes;
extern bool aiguard_jsonpath_shortcut;
extern char *aiguard_database;
extern int	aiguard_worker_naptime_ms;
extern int	aiguard_batch_size;
extern int	aiguard_wallet_window_s;
extern int	aiguard_wallet_threshold;
extern int	aiguard_wallet_interval_s;
extern int	aiguard_access_baseline_s;

extern void AgGucInit(void);

#endif
