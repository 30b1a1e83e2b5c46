/*
 * ag_jsonl.h
 *	  Minimal reader for the corpus's JSON Lines files: pulls the string and
 *	  number members of one flat object, decoding escapes.  Enough for the
 *	  training tool and the benchmarks; not a general JSON parser.
 */
#ifndef AG_JSONL_H
#define AG_JSONL_H

#include <stddef.h>
#include <stdio.h>

/* Returns a malloc'd copy of string member key of the JSON object in line,
 * or NULL if absent.  *outlen gets its byte length. */
extern char *JsonGetString(const char *line, const char *key, size_t *outlen);

/* Returns the raw text of member key (any type), malloc'd, or NULL. */
extern char *JsonGetRaw(const char *line, const char *key);

/* Reads one line (any length) into *buf; returns its length or -1 at EOF. */
extern long ReadLine(FILE *f, char **buf, size_t *cap);

#endif
