/*
 * ag_json_texts.h
 *	  The texts a jsonpath mapping selects from a json(b) column.
 */
#ifndef AG_JSON_TEXTS_H
#define AG_JSON_TEXTS_H

#include "postgres.h"

/*
 * The items path selects from jsonb (a message list's messages), each as
 * text: a string as it is, a list of content parts as its text parts (and
 * tool calls' arguments), anything else as its JSON; JSON nulls skipped.
 * Sets *n; NULL when there is nothing.  Errors of the path are silent, as
 * jsonb_path_query's silent mode makes them.
 */
extern char **AgJsonPathTexts(Datum jsonb, const char *path, int *n);

#endif							/* AG_JSON_TEXTS_H */
