/*
 * ag_request_key.h
 *	  The form of a request under which the wallet detector counts repeats:
 *	  white space trimmed and collapsed, lower case.
 */
#ifndef AG_REQUEST_KEY_H
#define AG_REQUEST_KEY_H

#include <stddef.h>

#include "ag_util.h"

/* Writes the key of text[0..len) (UTF-8) to out (NUL-terminated); 0 or -1. */
extern int	AgRequestKey(AgBuf *out, const char *text, size_t len);

#endif							/* AG_REQUEST_KEY_H */
