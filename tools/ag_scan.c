/*
 * ag_scan.c
 *	  Command-line scanner for trying rules without a server:
 *
 *	  ag_scan [--role prompt|response|tool] MODEL RULEFILE... < text
 *
 * Prints one line per finding: alert type, rule, confidence, byte range,
 * details.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_load_rules.h"
#include "ag_util.h"

int
main(int argc, char **argv)
{
	int			role = AG_ROLE_PROMPT;
	int			argi = 1;

	if (argc > 2 && strcmp(argv[1], "--role") == 0)
	{
		role = AgRoleFromName(argv[2]);
		argi = 3;
	}
	if (role < 0 || argc - argi < 2)
	{
		fprintf(stderr, "usage: %s [--role prompt|response|tool] MODEL RULEFILE... < text\n", argv[0]);
		return 2;
	}
	int			nfiles = argc - argi - 1;
	AgRuleFile *files = calloc(nfiles, sizeof(AgRuleFile));
	AgRuleSet  *set = NULL;

	if (LoadRuleFiles(argv[argi], argv + argi + 1, nfiles, files, &set) != 0)
		return 1;

	AgBuf		in = {0};
	char		chunk[65536];
	size_t		n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		AgBufAppend(&in, chunk, n);
	if (in.data == NULL)
		AgBufAppend(&in, "", 0);

	AgScanner  *sc = AgScannerCreate(set);
	const AgFinding *f;
	char		err[256];
	int			k = AgScan(sc, in.data, in.len, (AgRole) role, NULL, &f, err, sizeof(err));

	if (k < 0)
	{
		fprintf(stderr, "scan failed: %s\n", err);
		return 1;
	}
	for (int i = 0; i < k; i++)
		printf("%s\t%s\t%.3f\t%zu-%zu\t%s\n", f[i].alert_type, f[i].rule_id,
			   f[i].confidence, f[i].start, f[i].end, f[i].details);
	AgScannerFree(sc);
	AgRuleSetFree(set);
	return 0;
}
