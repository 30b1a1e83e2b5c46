/*
 * bench_quality.c
 *	  Detection quality on the labelled corpus (../shared/corpus):
 *
 *	  bench_quality CORPUS_DIR MODEL RULEFILE...
 *
 * For every source file of jailbreak/ and benign/, the share of rows the
 * scanner flags as a prompt, split into what the rules alone, the model
 * alone and both together catch; then overall jailbreak / prompt-injection
 * recall and the false-positive rate on benign prompts; then the ASCII
 * smuggling figures.  A row counts as flagged when the scan reports
 * jailbreak_detected or llm_reconnaissance (system-prompt extraction is
 * labelled prompt injection in the corpus), or ascii_smuggling.
 *
 * The shipped model was trained on this same development data, so its
 * figures here are in-sample; `make train-model` prints the out-of-fold
 * (cross-validated) figures, which are the honest estimate for unseen
 * data.  The rules were written without training on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_corpus.h"
#include "ag_load_rules.h"

typedef struct Tally
{
	const char *file;
	const char *label;
	long		rows;
	long		any;
	long		rules;
	long		model;
	long		jailbreak;		/* jailbreak_detected specifically */
	long		smuggling;
} Tally;

static Tally tallies[128];
static int	ntallies;

static Tally *
GetTally(const char *file, const char *label)
{
	for (int i = 0; i < ntallies; i++)
		if (strcmp(tallies[i].file, file) == 0 && strcmp(tallies[i].label, label) == 0)
			return &tallies[i];
	tallies[ntallies].file = file;
	tallies[ntallies].label = label;
	return &tallies[ntallies++];
}

static int
IsPositive(const char *label)
{
	return strcmp(label, "jailbreak") == 0 || strcmp(label, "prompt_injection") == 0;
}

static double
Pct(long a, long b)
{
	return b ? 100.0 * a / b : 0.0;
}

int
main(int argc, char **argv)
{
	Corpus		c = {0};
	AgRuleSet  *set = NULL;

	if (argc < 4)
	{
		fprintf(stderr, "usage: %s CORPUS_DIR MODEL RULEFILE...\n", argv[0]);
		return 2;
	}
	int			nfiles = argc - 3;
	AgRuleFile *files = calloc(nfiles, sizeof(AgRuleFile));

	if (LoadRuleFiles(argv[2], argv + 3, nfiles, files, &set) != 0)
		return 1;
	if (CorpusLoadFolder(&c, argv[1], "jailbreak") != 0 ||
		CorpusLoadFolder(&c, argv[1], "benign") != 0 ||
		CorpusLoadFolder(&c, argv[1], "smuggling") != 0)
		return 1;

	AgScanner  *sc = AgScannerCreate(set);
	char		err[256];

	for (size_t i = 0; i < c.n; i++)
	{
		const CorpusDoc *d = &c.docs[i];
		const AgFinding *f;
		int			n = AgScan(sc, d->text, d->len, AG_ROLE_PROMPT, NULL, &f, err, sizeof(err));
		int			by_rule = 0,
					by_model = 0,
					jb = 0,
					smug = 0;

		if (n < 0)
		{
			fprintf(stderr, "scan failed: %s\n", err);
			return 1;
		}
		for (int k = 0; k < n; k++)
		{
			int			is_jb = strcmp(f[k].alert_type, "jailbreak_detected") == 0;
			int			is_recon = strcmp(f[k].alert_type, "llm_reconnaissance") == 0;

			if (strcmp(f[k].alert_type, "ascii_smuggling") == 0)
				smug = 1;
			if (!is_jb && !is_recon)
				continue;
			jb |= is_jb;
			if (strcmp(f[k].rule_id, "model.jailbreak") == 0)
				by_model = 1;
			else
				by_rule = 1;
		}
		Tally	   *t = GetTally(d->source_file, d->label);

		t->rows++;
		t->any += by_rule || by_model || smug;
		t->rules += by_rule;
		t->model += by_model;
		t->jailbreak += jb;
		t->smuggling += smug;
	}

	printf("Jailbreak / prompt-injection detection (role prompt)\n");
	printf("%-56s %-17s %6s %8s %8s %8s\n", "source file", "label", "rows", "flagged", "rules", "model");
	long		pos = 0,
				pos_hit = 0,
				pos_rules = 0,
				pos_model = 0,
				neg = 0,
				neg_hit = 0,
				neg_jb = 0;

	for (int i = 0; i < ntallies; i++)
	{
		const Tally *t = &tallies[i];

		if (strncmp(t->file, "smuggling/", 10) == 0)
			continue;
		printf("%-56s %-17s %6ld %7.2f%% %7.2f%% %7.2f%%\n", t->file, t->label, t->rows,
			   Pct(t->any, t->rows), Pct(t->rules, t->rows), Pct(t->model, t->rows));
		if (IsPositive(t->label))
		{
			pos += t->rows;
			pos_hit += t->any;
			pos_rules += t->rules;
			pos_model += t->model;
		}
		else if (strcmp(t->label, "benign") == 0)
		{
			neg += t->rows;
			neg_hit += t->any;
			neg_jb += t->jailbreak;
		}
	}
	printf("\nOverall recall (jailbreak + prompt_injection): %.4f  (%ld of %ld; rules alone %.4f, model alone %.4f)\n",
		   (double) pos_hit / pos, pos_hit, pos, (double) pos_rules / pos, (double) pos_model / pos);
	printf("False-positive rate on benign prompts:         %.4f  (%ld of %ld; as jailbreak_detected: %ld)\n",
		   (double) neg_hit / neg, neg_hit, neg, neg_jb);

	printf("\nASCII smuggling (any role)\n");
	for (int i = 0; i < ntallies; i++)
	{
		const Tally *t = &tallies[i];

		if (strncmp(t->file, "smuggling/", 10) != 0)
			continue;
		if (strcmp(t->label, "ascii_smuggling") == 0)
			printf("%-56s %-22s %4ld rows, ascii_smuggling raised: %ld (recall %.4f)\n",
				   t->file, t->label, t->rows, t->smuggling, (double) t->smuggling / t->rows);
		else
			printf("%-56s %-22s %4ld rows, any alert raised:       %ld (rate %.4f)\n",
				   t->file, t->label, t->rows, t->any, (double) t->any / t->rows);
	}
	AgScannerFree(sc);
	AgRuleSetFree(set);
	CorpusFree(&c);
	return 0;
}
