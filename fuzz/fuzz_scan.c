/*
 * fuzz_scan.c
 *	  libFuzzer target for the scanning core: any bytes, any role, must scan
 *	  without crashing, leaking or reading out of bounds, and every finding
 *	  must lie inside the text.  With the whole shipped rule set, and when
 *	  the bytes are valid UTF-8 (what PostgreSQL hands over), the scan must
 *	  find exactly what the naive scan finds (every rule over the whole
 *	  text): the prefilter and keyword windows never change a result.  The
 *	  same bytes go through URL extraction, the lexical score and the
 *	  image-exfiltration check.
 *
 *	  make fuzz   (builds with clang -fsanitize=fuzzer,address,undefined
 *				   and runs for FUZZ_SECONDS, default 60)
 *
 * The text PostgreSQL hands us is valid UTF-8, but the core must not
 * depend on that for memory safety, so inputs are not validated here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ag_load_rules.h"
#include "ag_rule_coverage.h"
#include "ag_url.h"
#include "ag_util.h"

static AgRuleSet *set;
static AgScanner *scanner;
static AgScanner *naive_scanner;
static AgUrlList urls;

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *files[] = {"rules/jailbreak.rules", "rules/recon.rules",
		"rules/credentials.rules", "rules/pii.rules", "rules/user_agents.rules"};
	enum
	{
		NFILES = sizeof(files) / sizeof(files[0])
	};
	AgRuleFile	rf[NFILES];

	memset(rf, 0, sizeof(rf));
	if (LoadRuleFiles("rules/jailbreak.model", files, NFILES, rf, &set) != 0)
		abort();
	for (int i = 0; i < NFILES; i++)
		AgRuleFileFree(&rf[i]);
	scanner = AgScannerCreate(set);
	naive_scanner = AgScannerCreate(set);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const AgFinding *f;
	char		err[256];
	AgRole		role;
	int			n;

	if (size == 0)
		return 0;
	role = (AgRole) (data[0] % AG_ROLE_COUNT);
	n = AgScan(scanner, (const char *) data + 1, size - 1, role, NULL, &f, err, sizeof(err));
	if (n < 0)
		abort();				/* only running out of memory may fail a scan */
	for (int i = 0; i < n; i++)
		if (f[i].start > f[i].end || f[i].end > size - 1 || f[i].details[0] != '{')
			abort();
	if (AgUtf8ValidPrefix((const char *) data + 1, size - 1) == size - 1)
	{
		static const AgScanOptions naive = {1, -1.0, 0, 0, 0};
		const AgFinding *g;
		int			m = AgScan(naive_scanner, (const char *) data + 1, size - 1, role,
							   &naive, &g, err, sizeof(err));

		if (m < 0 || !AgSameFindings(f, n, g, m))
			abort();
	}

	n = AgUrlExtract(&urls, (const char *) data + 1, size - 1);
	for (int i = 0; i < n; i++)
	{
		const AgUrl *u = &urls.urls[i];
		AgUrlRisk	risk;
		char		reason[128];

		if (u->start >= u->end || u->end > size - 1 || strncmp(u->url, u->scheme, strlen(u->scheme)) != 0)
			abort();
		if (AgUrlLexicalRisk(u, &risk) < 0 || risk.score > 1.0)
			abort();
		AgUrlImageExfiltration(u, reason, sizeof(reason));
	}
	if (AgUrlNormalizeOne(&urls, (const char *) data + 1, size - 1) < 0)
		abort();
	return 0;
}
