/*
 * ag_load_rules.c
 *	  See ag_load_rules.h.
 */
#include "ag_load_rules.h"

#include <stdio.h>
#include <stdlib.h>

char *
ReadWholeFile(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		sz;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t) sz + 1);
	if (buf == NULL || fread(buf, 1, (size_t) sz, f) != (size_t) sz)
	{
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[sz] = '\0';
	fclose(f);
	if (len)
		*len = (size_t) sz;
	return buf;
}

int
LoadRuleFiles(const char *model_path, char **paths, int nfiles,
			  AgRuleFile *files, AgRuleSet **setp)
{
	char		err[512];
	AgRuleSet  *set = setp ? AgRuleSetCreate() : NULL;

	for (int i = 0; i < nfiles; i++)
	{
		size_t		len;
		char	   *text = ReadWholeFile(paths[i], &len);

		if (text == NULL)
		{
			fprintf(stderr, "could not read \"%s\"\n", paths[i]);
			return -1;
		}
		if (AgRuleFileParse(text, len, paths[i], &files[i], err, sizeof(err)) != 0)
		{
			fprintf(stderr, "%s\n", err);
			free(text);
			return -1;
		}
		free(text);
		if (set == NULL)
			continue;
		for (int r = 0; r < files[i].n; r++)
			if (AgRuleSetAddRule(set, &files[i].entries[r].def, err, sizeof(err)) != 0)
			{
				fprintf(stderr, "%s:%d: %s\n", paths[i], files[i].entries[r].line, err);
				return -1;
			}
	}
	if (set == NULL)
		return 0;
	if (model_path)
	{
		size_t		len;
		char	   *text = ReadWholeFile(model_path, &len);

		if (text == NULL)
		{
			fprintf(stderr, "could not read \"%s\"\n", model_path);
			return -1;
		}
		if (AgRuleSetSetModel(set, text, len, err, sizeof(err)) != 0)
		{
			fprintf(stderr, "%s: %s\n", model_path, err);
			free(text);
			return -1;
		}
		free(text);
	}
	if (AgRuleSetFinalize(set, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*setp = set;
	return 0;
}
