/*
 * fuzz_scan.c
 *	  libFuzzer target for the scanning core: any bytes, any role, must scan
 *	  without crashing, leaking or reading out of bounds, and every finding
 *	  must lie inside the text.  The same bytes go through URL extraction,
 *	  the lexical score and the image-exfiltration check.
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
#include "ag_url.h"

static AgRuleSet *set;
static AgScanner *scanner;
static AgUrlList urls;

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *files[] = {"rules/jailbreak.rules", "rules/recon.rules"};
	AgRuleFile	rf[2];

	memset(rf, 0, sizeof(rf));
	if (LoadRuleFiles("rules/jailbreak.model", files, 2, rf, &set) != 0)
		abort();
	for (int i = 0; i < 2; i++)
		AgRuleFileFree(&rf[i]);
	scanner = AgScannerCreate(set);
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
	for (int i = 0; i < n; i++)
		if (f[i].start > f[i].end || f[i].end > size - 1 || f[i].details[0] != '{')
			abort();

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
