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

extern void AgGucInit(void);

#endif
