/*
 * ag_findings.c
 *	  Dumps every finding of every corpus text, for checking that a change
 *	  meant to be behaviour-preserving (a speed-up) really is:
 *
 *	  ag_findings CORPUS_DIR MODEL RULEFILE... > dump
 *
 * Each corpus text (every folder) is scanned as a prompt, a response, a
 * tool output and a user agent, and so are the ~2 KiB chunks of benign text
 * that bench_speed times, and its one 2 MiB document.  Prompts and tool outputs are scanned a second
 * time with a model threshold of 0, so the model's probability for every
 * text is printed (to 17 significant digits), not only those it reports.
 * One line per finding: text, role, pass, alert type, rule, start, end,
 * confidence, data type, value range, details.  Then the URLs the URL
 * extractor finds in the text (the protection trigger's second pass), one
 * line each with every field.  Two dumps from two builds must be
 * byte-identical (make check-findings-stable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_corpus.h"
#include "ag_load_rules.h"
#include "ag_url.h"
#include "ag_util.h"

static int
Dump(AgScanner *sc, const char *name, size_t idx, const char *text, size_t len,
	 AgRole role, const AgScanOptions *opts, const char *pass)
{
	const AgFinding *f;
	char		err[256];
	int			n = AgScan(sc, text, len, role, opts, &f, err, sizeof(err));

	if (n < 0)
	{
		printf("%s#%zu\t%s\t%s\tERROR %s\n", name, idx, AgRoleName(role), pass, err);
		return 0;
	}
	for (int k = 0; k < n; k++)
		printf("%s#%zu\t%s\t%s\t%s\t%s\t%zu\t%zu\t%.17g\t%s\t%zu\t%zu\t%s\n",
			   name, idx, AgRoleName(role), pass, f[k].alert_type, f[k].rule_id,
			   f[k].start, f[k].end, f[k].confidence,
			   f[k].data_type ? f[k].data_type : "-",
			   f[k].value_start, f[k].value_end, f[k].details);
	return n;
}

static long
DumpUrls(const char *name, size_t idx, const char *text, size_t len)
{
	static AgUrlList urls;
	int			n = AgUrlExtract(&urls, text, len);

	if (n < 0)
	{
		printf("%s#%zu\turl\tERROR out of memory\n", name, idx);
		return 0;
	}
	for (int k = 0; k < n; k++)
	{
		const AgUrl *u = &urls.urls[k];

		printf("%s#%zu\turl\t%zu\t%zu\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%u\n",
			   name, idx, u->start, u->end, u->scheme, u->url, u->host,
			   u->host_unicode, u->path, u->userinfo, u->port, u->flags);
	}
	if (urls.truncated)
		printf("%s#%zu\turl\ttruncated\n", name, idx);
	return n;
}

static long
DumpAll(AgScanner *sc, const char *name, size_t idx, const char *text, size_t len)
{
	static const AgScanOptions def = {0, -1.0, 0, 0, 0};
	static const AgScanOptions all = {0, 0.0, 0, 0, 0};
	long		n = 0;

	for (int r = 0; r < AG_ROLE_COUNT; r++)
		n += Dump(sc, name, idx, text, len, (AgRole) r, &def, "default");
	n += Dump(sc, name, idx, text, len, AG_ROLE_PROMPT, &all, "threshold0");
	n += Dump(sc, name, idx, text, len, AG_ROLE_TOOL, &all, "threshold0");
	return n + DumpUrls(name, idx, text, len);
}

int
main(int argc, char **argv)
{
	Corpus		c = {0};
	AgRuleSet  *set = NULL;
	static const char *folders[] = {"benign", "jailbreak", "secrets", "pii", "smuggling", "urls", "user_agents", NULL};
	long		total = 0;

	if (argc < 4)
	{
		fprintf(stderr, "usage: %s CORPUS_DIR MODEL RULEFILE...\n", argv[0]);
		return 2;
	}
	int			nfiles = argc - 3;
	AgRuleFile *files = calloc(nfiles, sizeof(AgRuleFile));

	if (LoadRuleFiles(argv[2], argv + 3, nfiles, files, &set) != 0)
		return 1;
	for (int i = 0; folders[i]; i++)
		if (CorpusLoadFolder(&c, argv[1], folders[i]) != 0)
			return 1;

	AgScanner  *sc = AgScannerCreate(set);

	for (size_t i = 0; i < c.n; i++)
		total += DumpAll(sc, c.docs[i].source_file, i, c.docs[i].text, c.docs[i].len);

	/* the benign ~2 KiB chunks of bench_speed, cut the same way */
	AgBuf		benign = {0};
	size_t		chunk = 0;

	CorpusBenignText(&c, &benign);
	for (size_t off = 0; off < benign.len; chunk++)
	{
		size_t		len = BenignPieceLen(&benign, off);

		total += DumpAll(sc, "benign-chunk", chunk, benign.data + off, len);
		off += len;
	}

	/* and bench_speed's one 2 MiB document */
	AgBuf		big = {0};

	CorpusRepeatText(&big, benign.data, benign.len, 2 * 1024 * 1024);
	total += DumpAll(sc, "benign-2MiB", 0, big.data, big.len);
	AgBufFree(&big);
	fprintf(stderr, "%zu corpus texts, %zu benign chunks, %ld findings and URLs\n", c.n, chunk, total);
	AgScannerFree(sc);
	AgRuleSetFree(set);
	AgBufFree(&benign);
	CorpusFree(&c);
	free(files);
	return 0;
}
