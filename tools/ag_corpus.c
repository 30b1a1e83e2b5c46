/*
 * ag_corpus.c
 *	  See ag_corpus.h.
 */
#include "ag_corpus.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_jsonl.h"

static int
CompareNames(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
LoadFile(Corpus *c, const char *path, const char *relname)
{
	FILE	   *f = fopen(path, "r");
	char	   *buf = NULL;
	size_t		cap = 0;
	long		n;

	if (f == NULL)
	{
		fprintf(stderr, "could not open \"%s\"\n", path);
		return -1;
	}
	while ((n = ReadLine(f, &buf, &cap)) >= 0)
	{
		size_t		tl,
					ll;

		if (n == 0)
			continue;
		if (c->n == c->cap)
		{
			c->cap = c->cap ? c->cap * 2 : 1024;
			c->docs = realloc(c->docs, c->cap * sizeof(CorpusDoc));
		}
		CorpusDoc  *d = &c->docs[c->n];

		d->text = JsonGetString(buf, "text", &tl);
		d->label = JsonGetString(buf, "label", &ll);
		if (d->text == NULL || d->label == NULL)
		{
			free(d->text);
			free(d->label);
			continue;
		}
		d->len = tl;
		d->source_file = strdup(relname);
		d->line = strdup(buf);
		c->n++;
	}
	free(buf);
	fclose(f);
	return 0;
}

int
CorpusLoadFolder(Corpus *c, const char *dir, const char *sub)
{
	char		path[4096];
	DIR		   *d;
	struct dirent *de;
	char	   *names[256];
	int			nn = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (d == NULL)
	{
		fprintf(stderr, "could not open corpus folder \"%s\"\n", path);
		return -1;
	}
	while ((de = readdir(d)) != NULL && nn < 256)
	{
		size_t		l = strlen(de->d_name);

		if (l > 6 && strcmp(de->d_name + l - 6, ".jsonl") == 0)
			names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(char *), CompareNames);
	for (int i = 0; i < nn; i++)
	{
		char		rel[512];

		snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, names[i]);
		snprintf(rel, sizeof(rel), "%s/%s", sub, names[i]);
		if (LoadFile(c, path, rel) != 0)
			return -1;
		free(names[i]);
	}
	return 0;
}

void
CorpusFree(Corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
	{
		free(c->docs[i].text);
		free(c->docs[i].label);
		free(c->docs[i].source_file);
		free(c->docs[i].line);
	}
	free(c->docs);
	memset(c, 0, sizeof(*c));
}

void
CorpusBenignText(const Corpus *c, AgBuf *out)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->docs[i].label, "benign") == 0 &&
			strncmp(c->docs[i].source_file, "benign/", 7) == 0)
		{
			AgBufAppend(out, c->docs[i].text, c->docs[i].len);
			AgBufAppend(out, "\n", 1);
		}
}

size_t
BenignPieceLen(const AgBuf *text, size_t off)
{
	size_t		len = text->len - off < BENIGN_PIECE_BYTES ? text->len - off : BENIGN_PIECE_BYTES;

	while (off + len < text->len && ((unsigned char) text->data[off + len] & 0xC0) == 0x80)
		len--;					/* whole characters */
	return len;
}

void
CorpusRepeatText(AgBuf *out, const char *text, size_t len, size_t size)
{
	while (len > 0 && out->len < size)
		AgBufAppend(out, text, len < size - out->len ? len : size - out->len);
	while (out->len > 0 && ((unsigned char) out->data[out->len - 1] & 0xC0) == 0x80)
		out->len--;
	if (out->len > 0 && (unsigned char) out->data[out->len - 1] >= 0xC0)
		out->len--;
}

long
ForEachFilePiece(const char *list_path, FilePieceFn fn, void *arg)
{
	FILE	   *list = strcmp(list_path, "-") == 0 ? stdin : fopen(list_path, "r");
	char		line[4096];
	long		pieces = 0;

	if (list == NULL)
		return -1;
	while (fgets(line, sizeof(line), list))
	{
		char	   *tab = strchr(line, '\t');
		char	   *path;
		size_t		plen,
					len,
					pos = 0;
		char	   *data;
		FILE	   *f;
		long		size;

		if (tab == NULL || line[0] == '#')
			continue;
		*tab = '\0';
		path = tab + 1;
		plen = strlen(path);
		while (plen > 0 && (path[plen - 1] == '\n' || path[plen - 1] == '\r'))
			path[--plen] = '\0';
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fseek(f, 0, SEEK_SET);
		data = size >= 0 ? malloc((size_t) size + 1) : NULL;
		len = data ? fread(data, 1, (size_t) size, f) : 0;
		fclose(f);
		if (data == NULL)
			continue;
		for (int c = 0; c < FILE_PIECES && pos < len; c++)
		{
			size_t		end = pos + FILE_PIECE_BYTES < len ? pos + FILE_PIECE_BYTES : len;

			/* cut after the last line end, unless the line is longer */
			if (end < len)
			{
				size_t		e = end;

				while (e > pos && data[e - 1] != '\n')
					e--;
				if (e > pos)
					end = e;
			}
			if (end - pos >= 64 && memchr(data + pos, '\0', end - pos) == NULL)
			{
				fn(line, path, data + pos, end - pos, arg);
				pieces++;
			}
			pos = end;
		}
		free(data);
	}
	if (list != stdin)
		fclose(list);
	return pieces;
}

size_t
OneLineSnippet(const char *question, const char *text, size_t len, size_t from,
			   int lines, size_t max_code, char *out, size_t outlen)
{
	size_t		n,
				code = 0;

	if (outlen == 0)
		return 0;
	n = (size_t) snprintf(out, outlen, "%s ", question);
	if (n >= outlen)
		n = outlen - 1;
	for (size_t i = from; i < len && lines > 0 && code < max_code && n + 1 < outlen; i++)
	{
		char		c = text[i];

		if (c == '\n')
			lines--;
		if (c == '\n' || c == '\t' || c == '\r')
			c = ' ';
		if (c == ' ' && n > 0 && out[n - 1] == ' ')
			continue;			/* indentation and runs of blanks: one space */
		out[n++] = c;
		code++;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return n;
}

size_t
ProbeLineBreaks(char *text, size_t len)
{
	size_t		w = 0;

	for (size_t r = 0; r < len; r++, w++)
	{
		if (text[r] == '\\' && r + 1 < len && text[r + 1] == 'n')
		{
			text[w] = '\n';
			r++;
		}
		else
			text[w] = text[r];
	}
	if (w < len)
		text[w] = '\0';
	return w;
}
