/*
 * bench_speed.c
 *	  Throughput of the scanning core, single core, against baselines
 *	  measured in the same run:
 *
 *	  bench_speed CORPUS_DIR MODEL RULEFILE...
 *
 * Workloads: (a) benign prompts, scanned as prompts and as responses, cut
 * into ~2 KiB documents; (b) the mixed corpus (every folder, every text as
 * it is); (c) one 2 MiB document of benign text.  For each: the core with
 * the prefilter (production), the same with the model's gate off (the full
 * model on every prompt), the core in naive mode (every rule over the
 * whole text), and a memchr pass over the same bytes; and (a) again with
 * the caches emptied before each document, as on the INSERT path.  Also
 * checks that the fast and naive modes report identical findings on the
 * whole corpus, and prints the memory of the compiled rule set and how
 * long a backend takes to load it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ag_corpus.h"
#include "ag_load_rules.h"
#include "ag_model.h"
#include "ag_normalize.h"
#include "ag_url.h"
#include "ag_util.h"

typedef struct Doc
{
	const char *text;
	size_t		len;
	AgRole		role;
} Doc;

static double
Now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static volatile size_t sink;

typedef struct RuleCost
{
	const char *id;
	long		runs;
	double		ns;
} RuleCost;

static int
CompareCost(const void *a, const void *b)
{
	double		x = ((const RuleCost *) a)->ns;
	double		y = ((const RuleCost *) b)->ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Runs the workload repeatedly for at least min_seconds; returns seconds per pass. */
static double
TimeScan(AgScanner *sc, const Doc *docs, int ndocs, int naive, int no_gate,
		 double min_seconds)
{
	/* text valid UTF-8, as the PostgreSQL glue says of its text */
	AgScanOptions opts = {naive, -1.0, no_gate, 0, 1};
	const AgFinding *f;
	char		err[256];
	int			passes = 0;
	double		start = Now(),
				elapsed;

	do
	{
		for (int i = 0; i < ndocs; i++)
			sink += (size_t) AgScan(sc, docs[i].text, docs[i].len, docs[i].role, &opts, &f, err, sizeof(err));
		passes++;
		elapsed = Now() - start;
	} while (elapsed < min_seconds);
	return elapsed / passes;
}

static double
TimeMemchr(const Doc *docs, int ndocs, double min_seconds)
{
	int			passes = 0;
	double		start = Now(),
				elapsed;

	do
	{
		for (int i = 0; i < ndocs; i++)
			sink += memchr(docs[i].text, 0x01, docs[i].len) != NULL;
		passes++;
		elapsed = Now() - start;
	} while (elapsed < min_seconds);
	return elapsed / passes;
}

/*
 * The core as the INSERT path meets it: between two rows a backend parses,
 * plans, writes the heap, the WAL and the indexes, and waits for the disk
 * while other processes run, so a scan seldom finds its tables in cache.
 * Here COLD_BYTES (twice this machine's last-level cache and more) are
 * read between documents, and only the scans are timed.  Returns seconds
 * per document, over the first ndocs documents.
 */
#define COLD_BYTES (64u << 20)

static double
TimeScanCold(AgScanner *sc, const Doc *docs, int ndocs, int no_gate, int no_prefetch)
{
	AgScanOptions opts = {0, -1.0, no_gate, no_prefetch, 1};
	static unsigned char *junk;
	const AgFinding *f;
	char		err[256];
	double		total = 0;

	if (junk == NULL)
	{
		junk = malloc(COLD_BYTES);
		if (junk == NULL)
			return 0;
		memset(junk, 1, COLD_BYTES);
	}
	for (int i = 0; i < ndocs; i++)
	{
		size_t		acc = 0;
		double		start;

		for (size_t k = 0; k < COLD_BYTES; k += 64)
			acc += junk[k];
		sink += acc;
		start = Now();
		sink += (size_t) AgScan(sc, docs[i].text, docs[i].len, docs[i].role, &opts, &f, err, sizeof(err));
		total += Now() - start;
	}
	return total / ndocs;
}

static int
CompareDouble(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/*
 * Cold scans with and without the early prefetch of the tables, in turns
 * (COLD_TURNS each; medians), so that the two are measured under the same
 * load; and once with the model's gate off.
 */
#define COLD_TURNS 5

static void
ReportCold(const char *name, AgScanner *sc, const Doc *docs, int ndocs)
{
	size_t		bytes = 0;
	double		t[COLD_TURNS],
				t_noprefetch[COLD_TURNS],
				t_nogate;

	for (int i = 0; i < ndocs; i++)
		bytes += docs[i].len;
	for (int k = 0; k < COLD_TURNS; k++)
	{
		t[k] = TimeScanCold(sc, docs, ndocs, 0, 0) * ndocs;
		t_noprefetch[k] = TimeScanCold(sc, docs, ndocs, 0, 1) * ndocs;
	}
	qsort(t, COLD_TURNS, sizeof(double), CompareDouble);
	qsort(t_noprefetch, COLD_TURNS, sizeof(double), CompareDouble);
	t_nogate = TimeScanCold(sc, docs, ndocs, 1, 0) * ndocs;
	printf("%-34s %9.2f MB %6d docs | core %8.1f MB/s %8.2f us/2KiB | prefetch off %8.2f us/2KiB | model gate off %8.2f us/2KiB   (%u MiB read between documents; medians of %d turns)\n",
		   name, bytes / 1e6, ndocs, bytes / t[COLD_TURNS / 2] / 1e6,
		   t[COLD_TURNS / 2] / (bytes / 2048.0) * 1e6,
		   t_noprefetch[COLD_TURNS / 2] / (bytes / 2048.0) * 1e6,
		   t_nogate / (bytes / 2048.0) * 1e6, COLD_BYTES >> 20, COLD_TURNS);
}

/* The URL extractor, which the protection trigger runs on every text too. */
static double
TimeUrls(const Doc *docs, int ndocs, double min_seconds)
{
	static AgUrlList urls;
	int			passes = 0;
	double		start = Now(),
				elapsed;

	do
	{
		for (int i = 0; i < ndocs; i++)
			sink += (size_t) AgUrlExtract(&urls, docs[i].text, docs[i].len);
		passes++;
		elapsed = Now() - start;
	} while (elapsed < min_seconds);
	return elapsed / passes;
}

static void
ReportUrls(const char *name, const Doc *docs, int ndocs)
{
	size_t		bytes = 0;
	double		t;

	for (int i = 0; i < ndocs; i++)
		bytes += docs[i].len;
	t = TimeUrls(docs, ndocs, 1.0);
	printf("%-34s %9.2f MB %6d docs | URL extraction %8.1f MB/s %8.2f us/2KiB\n",
		   name, bytes / 1e6, ndocs, bytes / t / 1e6, t / (bytes / 2048.0) * 1e6);
}

static double
Report(const char *name, AgScanner *sc, const Doc *docs, int ndocs)
{
	size_t		bytes = 0;
	double		t_fast,
				t_nogate,
				t_naive,
				t_memchr;

	for (int i = 0; i < ndocs; i++)
		bytes += docs[i].len;
	t_memchr = TimeMemchr(docs, ndocs, 0.5);
	t_fast = TimeScan(sc, docs, ndocs, 0, 0, 2.0);
	t_nogate = TimeScan(sc, docs, ndocs, 0, 1, 2.0);
	t_naive = TimeScan(sc, docs, ndocs, 1, 0, 2.0);
	printf("%-34s %9.2f MB %6d docs | core %8.1f MB/s %8.2f us/2KiB | model gate off %8.2f us/2KiB | naive %7.1f MB/s | memchr %8.1f MB/s | core/memchr 1/%.0f\n",
		   name, bytes / 1e6, ndocs,
		   bytes / t_fast / 1e6, t_fast / (bytes / 2048.0) * 1e6,
		   t_nogate / (bytes / 2048.0) * 1e6,
		   bytes / t_naive / 1e6, bytes / t_memchr / 1e6, t_fast / t_memchr);
	return t_fast / (bytes / 2048.0);
}

/*
 * What a backend pays once, at its first scan: loading the rule files and
 * the model into a rule set (PCRE2 compiles, the prefilter's analysis and
 * automaton, the model's weights), and then, spread over the first run of
 * each pattern, PCRE2's JIT.  Best of three loads, in seconds.
 */
static void
TimeLoad(const char *model_path, char **paths, int nfiles, double *load,
		 double *jit)
{
	*load = *jit = 1e9;
	for (int k = 0; k < 3; k++)
	{
		AgRuleFile *files = calloc(nfiles, sizeof(AgRuleFile));
		AgRuleSet  *set;
		double		t0 = Now(),
					t1,
					t2;

		if (files == NULL || LoadRuleFiles(model_path, paths, nfiles, files, &set) != 0)
			exit(1);
		t1 = Now();
		AgRuleSetJitCompileAll(set);
		t2 = Now();
		*load = t1 - t0 < *load ? t1 - t0 : *load;
		*jit = t2 - t1 < *jit ? t2 - t1 : *jit;
		AgRuleSetFree(set);
		for (int i = 0; i < nfiles; i++)
			AgRuleFileFree(&files[i]);
		free(files);
	}
}

/*
 * How many documents the model's gate stops (the full model does not run
 * on them), as the scanner sees them: normalised.
 */
static void
ReportGate(const char *name, const char *model_path, const Doc *docs, int ndocs)
{
	size_t		mlen;
	char	   *mtext = ReadWholeFile(model_path, &mlen);
	char		err[256];
	AgModel    *m = mtext ? AgModelParse(mtext, mlen, err, sizeof(err)) : NULL;
	AgNormText	nt = {0};
	AgFeatures	fv = {0};
	int			stopped = 0;

	if (m == NULL || m->gate == NULL)
	{
		printf("%-34s the model has no gate\n", name);
		AgModelFree(m);
		free(mtext);
		return;
	}
	for (int i = 0; i < ndocs; i++)
	{
		double		p;
		int			gated = 0;

		if (AgNormalize(&nt, docs[i].text, docs[i].len) == 0 &&
			AgModelScoreText(m, &fv, nt.out.data, nt.out.len, 1, &p, &gated) == 0)
			stopped += gated;
	}
	printf("%-34s %6d docs | the model's gate stops %d (%.1f%%); the full model reads the rest\n",
		   name, ndocs, stopped, 100.0 * stopped / ndocs);
	AgNormFree(&nt);
	AgFeaturesFree(&fv);
	AgModelFree(m);
	free(mtext);
}

int
main(int argc, char **argv)
{
	Corpus		c = {0};
	AgRuleSet  *set = NULL;
	struct rusage ru0,
				ru1;

	if (argc < 4)
	{
		fprintf(stderr, "usage: %s CORPUS_DIR MODEL RULEFILE...\n", argv[0]);
		return 2;
	}
	int			nfiles = argc - 3;
	AgRuleFile *files = calloc(nfiles, sizeof(AgRuleFile));

	getrusage(RUSAGE_SELF, &ru0);
	if (LoadRuleFiles(argv[2], argv + 3, nfiles, files, &set) != 0)
		return 1;
	/* every rule's machine code too: the most a backend ever holds */
	AgRuleSetJitCompileAll(set);
	getrusage(RUSAGE_SELF, &ru1);
	static const char *folders[] = {"benign", "jailbreak", "secrets", "pii", "smuggling", "urls", "user_agents", NULL};

	for (int i = 0; folders[i]; i++)
		if (CorpusLoadFolder(&c, argv[1], folders[i]) != 0)
			return 1;

	AgScanner  *sc = AgScannerCreate(set);

	/* (a) benign prompts as ~2 KiB documents, as prompts and as responses */
	AgBuf		benign = {0};

	CorpusBenignText(&c, &benign);
	int			nchunks = 0;
	Doc		   *chunks = malloc(sizeof(Doc) * (benign.len / 1024 + 2) * 2);

	for (size_t off = 0; off < benign.len;)
	{
		size_t		len = BenignPieceLen(&benign, off);

		chunks[nchunks].text = benign.data + off;
		chunks[nchunks].len = len;
		chunks[nchunks].role = AG_ROLE_PROMPT;
		nchunks++;
		off += len;
	}
	int			nprompts = nchunks;

	for (int i = 0; i < nprompts; i++)
	{
		chunks[nchunks] = chunks[i];
		chunks[nchunks].role = AG_ROLE_RESPONSE;
		nchunks++;
	}

	/* (b) the mixed corpus, each text as it is, as a prompt */
	Doc		   *mixed = malloc(sizeof(Doc) * c.n);

	for (size_t i = 0; i < c.n; i++)
	{
		mixed[i].text = c.docs[i].text;
		mixed[i].len = c.docs[i].len;
		mixed[i].role = strncmp(c.docs[i].source_file, "secrets/", 8) == 0 ||
			strncmp(c.docs[i].source_file, "pii/", 4) == 0 ? AG_ROLE_RESPONSE : AG_ROLE_PROMPT;
	}

	/* (c) one 2 MiB document */
	AgBuf		big = {0};

	CorpusRepeatText(&big, benign.data, benign.len, 2 * 1024 * 1024);
	Doc			bigdoc = {big.data, big.len, AG_ROLE_PROMPT};

	printf("aiguard core throughput, single core; %d rules, model %s\n",
		   AgRuleSetRuleCount(set), argv[2]);
	printf("compiled rule set: %.2f MiB (AgRuleSetMemoryBytes); process RSS growth while loading: %.2f MiB\n\n",
		   AgRuleSetMemoryBytes(set) / 1048576.0, (ru1.ru_maxrss - ru0.ru_maxrss) / 1024.0);
	double		prompt_s = Report("(a) benign prompts, 2 KiB, prompt", sc, chunks, nprompts);

	Report("(a) benign text, 2 KiB, response", sc, chunks + nprompts, nprompts);
	Report("(b) mixed corpus, as stored", sc, mixed, (int) c.n);
	Report("(c) one 2 MiB document", sc, &bigdoc, 1);
	ReportGate("(a) benign prompts, 2 KiB", argv[2], chunks, nprompts);
	ReportCold("(a) benign prompts, caches cold", sc, chunks, nprompts < 300 ? nprompts : 300);
	ReportCold("(a) benign responses, caches cold", sc, chunks + nprompts, nprompts < 300 ? nprompts : 300);
	ReportUrls("(a) benign prompts, 2 KiB", chunks, nprompts);
	ReportUrls("(b) mixed corpus, as stored", mixed, (int) c.n);
	{
		double		load,
					jit;

		TimeLoad(argv[2], argv + 3, nfiles, &load, &jit);
		printf("loading the rule set, once per backend: %.1f ms (as long as %.0f scans of a 2 KiB prompt); "
			   "JIT-compiling every pattern, each at its first run: %.1f ms more\n",
			   load * 1e3, load / prompt_s, jit * 1e3);
	}

	/* where the time goes: the costliest rules on the mixed corpus */
	{
		AgScanner  *st = AgScannerCreate(set);
		int			nr = AgRuleSetRuleCount(set);
		RuleCost   *costs = calloc(nr, sizeof(RuleCost));
		const AgFinding *f;
		char		err[256];
		double		total = 0;

		AgScannerEnableStats(st);
		for (size_t i = 0; i < c.n; i++)
			AgScan(st, mixed[i].text, mixed[i].len, mixed[i].role, NULL, &f, err, sizeof(err));
		for (int r = 0; r < nr; r++)
		{
			costs[r].id = AgScannerRuleStats(st, r, &costs[r].runs, &costs[r].ns);
			total += costs[r].ns;
		}
		qsort(costs, nr, sizeof(RuleCost), CompareCost);
		printf("\nregex time on the mixed corpus: %.1f ms in all; costliest rules:\n", total / 1e6);
		for (int k = 0; k < 10 && k < nr; k++)
			printf("  %-40s %7ld runs %9.1f ms\n", costs[k].id, costs[k].runs, costs[k].ns / 1e6);
		free(costs);
		AgScannerFree(st);
	}

	/* fast and naive must agree on every text */
	AgScanner  *naive = AgScannerCreate(set);
	AgScanOptions nopts = {1, -1.0, 0, 0, 0};
	long		differ = 0;

	for (size_t i = 0; i < c.n; i++)
	{
		const AgFinding *f1,
				   *f2;
		char		err[256];
		int			n1 = AgScan(sc, mixed[i].text, mixed[i].len, mixed[i].role, NULL, &f1, err, sizeof(err));
		int			n2 = AgScan(naive, mixed[i].text, mixed[i].len, mixed[i].role, &nopts, &f2, err, sizeof(err));
		int			same = n1 == n2;

		for (int k = 0; same && k < n1; k++)
			same = strcmp(f1[k].rule_id, f2[k].rule_id) == 0 && f1[k].start == f2[k].start &&
				f1[k].end == f2[k].end;
		if (!same && differ < 10)
		{
			printf("  differ: %s: fast", c.docs[i].source_file);
			for (int k = 0; k < n1; k++)
				printf(" %s@%zu", f1[k].rule_id, f1[k].start);
			printf(" / naive");
			for (int k = 0; k < n2; k++)
				printf(" %s@%zu", f2[k].rule_id, f2[k].start);
			printf("\n");
		}
		differ += !same;
	}
	printf("\nfast vs naive findings on %zu corpus texts: %ld differ\n", c.n, differ);
	AgScannerFree(naive);
	AgScannerFree(sc);
	AgRuleSetFree(set);
	return differ ? 1 : 0;
}
