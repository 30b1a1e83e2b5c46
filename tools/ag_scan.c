/*
 * ag_scan.c
 *	  Command-line scanner for trying rules without a server:
 *
 *	  ag_scan [--lines [--newlines]] [--role prompt|response|tool] MODEL RULEFILE... < text
 *
 * Prints one line per finding: alert type, rule, confidence, byte range,
 * details.  With --lines each input line is a text of its own (a probe
 * set, one prompt per line): prints, per line, how many findings and
 * which rules, then the line; and on standard error how many lines raised
 * anything.  With --newlines as well, the two characters \n inside a line
 * stand for a line break (probe sets of multi-line documents, such as tool
 * outputs, are written one document per line that way).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_corpus.h"
#include "ag_load_rules.h"
#include "ag_util.h"

/*
 * A copy of line in buf, each backslash-n a line break (ProbeLineBreaks);
 * NULL when out of memory.
 */
static const char *
WithLineBreaks(AgBuf *buf, const char *line, size_t len, size_t *outlen)
{
	buf->len = 0;
	if (AgBufAppend(buf, line, len) != 0)
		return NULL;
	*outlen = buf->len = ProbeLineBreaks(buf->data, len);
	return buf->data;
}

/*
 * --lines: each line of text (a trailing CR dropped) scanned alone; prints
 * "findings<TAB>rule,rule...<TAB>line" per line, then the count of lines
 * that raised anything on standard error.  newlines: see --newlines.
 */
static int
ScanLines(AgScanner *sc, AgRuleSet *set, char *text, size_t len, AgRole role,
		  int newlines)
{
	AgBuf		doc = {0};
	size_t		nlines = 0,
				flagged = 0;
	char		err[256];

	for (size_t at = 0; at < len;)
	{
		char	   *nl = memchr(text + at, '\n', len - at);
		size_t		end = nl ? (size_t) (nl - text) : len;
		size_t		linelen = end - at;
		const AgFinding *f;
		int			k;

		if (linelen > 0 && text[at + linelen - 1] == '\r')
			linelen--;
		if (newlines)
		{
			size_t		doclen;
			const char *d = WithLineBreaks(&doc, text + at, linelen, &doclen);

			if (d == NULL)
			{
				fprintf(stderr, "out of memory on line %zu\n", nlines + 1);
				return 1;
			}
			k = AgScan(sc, d, doclen, role, NULL, &f, err, sizeof(err));
		}
		else
			k = AgScan(sc, text + at, linelen, role, NULL, &f, err, sizeof(err));
		if (k < 0)
		{
			fprintf(stderr, "scan failed on line %zu: %s\n", nlines + 1, err);
			return 1;
		}
		printf("%d\t", k);
		for (int i = 0; i < k; i++)
			printf("%s%s", i ? "," : "", f[i].rule_id);
		printf("\t%.*s\n", (int) linelen, text + at);
		nlines++;
		flagged += k > 0;
		at = end + 1;
	}
	fprintf(stderr, "%zu of %zu lines raised a finding\n", flagged, nlines);
	AgBufFree(&doc);
	AgScannerFree(sc);
	AgRuleSetFree(set);
	return 0;
}

int
main(int argc, char **argv)
{
	int			role = AG_ROLE_PROMPT;
	int			argi = 1;
	int			lines = 0;
	int			newlines = 0;

	if (argc > argi && strcmp(argv[argi], "--lines") == 0)
	{
		lines = 1;
		argi++;
		if (argc > argi && strcmp(argv[argi], "--newlines") == 0)
		{
			newlines = 1;
			argi++;
		}
	}
	if (argc > argi + 1 && strcmp(argv[argi], "--role") == 0)
	{
		role = AgRoleFromName(argv[argi + 1]);
		argi += 2;
	}
	if (role < 0 || argc - argi < 2)
	{
		fprintf(stderr, "usage: %s [--lines [--newlines]] [--role prompt|response|tool] MODEL RULEFILE... < text\n", argv[0]);
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

	if (lines)
		return ScanLines(sc, set, in.data, in.len, (AgRole) role, newlines);

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
