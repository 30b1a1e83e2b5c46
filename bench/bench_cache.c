/*
 * bench_cache.c
 *	  What the scanning core reads from memory when its data is not in
 *	  cache, as on the INSERT path: each benign 2 KiB piece is scanned
 *	  after reading 4 MiB of other memory.  Run under valgrind's callgrind
 *	  with its cache simulation (bench/bench_cache.sh): simulated caches
 *	  count the same misses at every run, where timings on these machines
 *	  move by a quarter.
 *
 *	  bench_cache CORPUS_DIR prompt|response MODEL RULEFILE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_corpus.h"
#include "ag_load_rules.h"
#include "ag_util.h"

#define FLUSH_BYTES (4u << 20)

static volatile unsigned char *flush_buf;
static volatile size_t flush_sum;

/* Reads one byte of every cache line of FLUSH_BYTES. */
static void
Flush(void)
{
	for (size_t i = 0; i < FLUSH_BYTES; i += 64)
		flush_sum += flush_buf[i];
}

/* The scan alone, what the cache simulation counts (--toggle-collect). */
__attribute__((noinline)) void
BenchCacheScan(AgScanner *sc, const char *text, size_t len, AgRole role)
{
	const AgFinding *f;
	char		err[256];

	/* text valid UTF-8, as the PostgreSQL glue says of its text */
	static const AgScanOptions opts = {0, -1.0, 0, 0, 1};

	if (AgScan(sc, text, len, role, &opts, &f, err, sizeof(err)) < 0)
	{
		fprintf(stderr, "bench_cache: %s\n", err);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	Corpus		c = {0};
	AgRuleSet  *set = NULL;
	AgRuleFile *files;
	AgBuf		benign = {0};
	AgRole		role;
	int			n = 0;

	if (argc < 5 || (strcmp(argv[2], "prompt") != 0 && strcmp(argv[2], "response") != 0))
	{
		fprintf(stderr, "usage: bench_cache CORPUS_DIR prompt|response MODEL RULEFILE...\n");
		return 2;
	}
	role = strcmp(argv[2], "prompt") == 0 ? AG_ROLE_PROMPT : AG_ROLE_RESPONSE;
	files = calloc(argc - 4, sizeof(AgRuleFile));
	flush_buf = calloc(1, FLUSH_BYTES);
	if (files == NULL || flush_buf == NULL ||
		LoadRuleFiles(argv[3], argv + 4, argc - 4, files, &set) != 0 ||
		CorpusLoadFolder(&c, argv[1], "benign") != 0)
		return 1;
	AgRuleSetJitCompileAll(set);	/* (what is timed is scanning) */

	AgScanner  *sc = AgScannerCreate(set);

	/* the corpus's benign texts end to end, cut into 2 KiB pieces (bench_speed's) */
	CorpusBenignText(&c, &benign);
	for (size_t off = 0; off < benign.len; n++)
	{
		size_t		len = BenignPieceLen(&benign, off);

		Flush();
		BenchCacheScan(sc, benign.data + off, len, role);
		off += len;
	}
	printf("%d pieces scanned as %ss\n", n, argv[2]);
	AgScannerFree(sc);
	return 0;
}
