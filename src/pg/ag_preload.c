/*
 * ag_preload.c
 *	  The shipped rule set, compiled once by the postmaster.
 *
 * Compiling the rule set costs a backend some 20 ms of CPU at its first
 * scan (and reading the 2 MiB model out of aiguard.models more): a cost
 * every new connection pays once.  With aiguard in shared_preload_libraries,
 * the postmaster compiles, at start, the rule files and model that make
 * install put in SHAREDIR/extension/aiguard/ (the very files the extension
 * script's rows were made from), JIT code included, and every backend it
 * forks inherits the compiled set in pages it shares until it writes them.
 *
 * A backend uses that set only while its database's aiguard.rule_set_origin
 * holds the fingerprint of these files: its rules and model rows are still
 * those installed from them (any edit clears the fingerprint).  Otherwise,
 * or without the preload, it compiles its own from the tables
 * (ag_catalog.c).  Canaries are per database and added by each backend.
 */
#include "postgres.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "miscadmin.h"
#include "port.h"

#include "ag_preload.h"
#include "ag_rule_sources.h"

static AgRuleSet *preloaded_set = NULL;
static char preloaded_fingerprint[AG_FINGERPRINT_LEN + 1];

#define MAX_RULE_FILES 64
#define MODEL_FILE "jailbreak.model"

/* The whole file, malloc'd and NUL-terminated, or NULL. */
static char *
ReadFileText(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	struct stat st;
	char	   *buf = NULL;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && st.st_size >= 0 &&
		(buf = malloc((size_t) st.st_size + 1)) != NULL)
	{
		if (fread(buf, 1, (size_t) st.st_size, f) == (size_t) st.st_size)
		{
			buf[st.st_size] = '\0';
			*len = (size_t) st.st_size;
		}
		else
		{
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static int
CompareNames(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

void
AgPreloadInit(void)
{
	char		sharepath[MAXPGPATH];
	char		dirpath[MAXPGPATH];
	char		path[MAXPGPATH];
	char	   *names[MAX_RULE_FILES];
	AgRuleSource sources[MAX_RULE_FILES];
	int			nfiles = 0;
	char	   *model = NULL;
	size_t		model_len = 0;
	char		err[512];
	DIR		   *dir;
	struct dirent *de;
	struct timespec t0,
				t1;
	bool		ok = false;

	if (!process_shared_preload_libraries_in_progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	get_share_path(my_exec_path, sharepath);
	snprintf(dirpath, sizeof(dirpath), "%s/extension/aiguard", sharepath);

	dir = opendir(dirpath);
	if (dir == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("aiguard: could not open rule directory \"%s\": %m", dirpath),
				 errdetail("Each session compiles its own rule set.")));
		return;
	}
	while ((de = readdir(dir)) != NULL && nfiles < MAX_RULE_FILES)
	{
		size_t		n = strlen(de->d_name);

		if (n > 6 && strcmp(de->d_name + n - 6, ".rules") == 0)
			names[nfiles++] = strdup(de->d_name);
	}
	closedir(dir);
	qsort(names, nfiles, sizeof(char *), CompareNames);

	memset(sources, 0, sizeof(sources));
	for (int i = 0; i < nfiles; i++)
	{
		if (names[i] == NULL)
			goto done;
		snprintf(path, sizeof(path), "%s/%s", dirpath, names[i]);
		sources[i].name = names[i];
		sources[i].text = ReadFileText(path, &sources[i].len);
		if (sources[i].text == NULL)
		{
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("aiguard: could not read rule file \"%s\": %m", path),
					 errdetail("Each session compiles its own rule set.")));
			goto done;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", dirpath, MODEL_FILE);
	model = ReadFileText(path, &model_len);
	if (nfiles == 0 || model == NULL)
	{
		ereport(LOG,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("aiguard: no rule files or model in \"%s\"", dirpath),
				 errdetail("Each session compiles its own rule set."),
				 errhint("Run make install again.")));
		goto done;
	}

	preloaded_set = AgRuleSetFromSources(sources, nfiles, model, model_len, err, sizeof(err));
	if (preloaded_set == NULL)
	{
		ereport(LOG,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("aiguard: the rule files in \"%s\" do not compile", dirpath),
				 errdetail("%s", err),
				 errhint("Each session compiles its own rule set from aiguard.rules.")));
		goto done;
	}
	/* every rule's machine code too, so no backend compiles any */
	AgRuleSetJitCompileAll(preloaded_set);
	AgRuleSourcesFingerprint(sources, nfiles, model, model_len, preloaded_fingerprint);
	ok = true;

done:
	for (int i = 0; i < nfiles; i++)
	{
		free(names[i]);
		free((char *) sources[i].text);
	}
	free(model);
	if (ok)
	{
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ereport(LOG,
				(errmsg("aiguard: compiled %d rules and the model from \"%s\" in %.0f ms, for every session to share",
						AgRuleSetRuleCount(preloaded_set), dirpath,
						(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6)));
	}
}

AgRuleSet *
AgPreloadedRuleSet(const char *fingerprint)
{
	if (preloaded_set == NULL || fingerprint == NULL ||
		strcmp(fingerprint, preloaded_fingerprint) != 0)
		return NULL;
	return preloaded_set;
}
