/*
 * ag_suffix.h
 *	  Adversarial suffixes: a request in plain words followed, on the same
 *	  line, by a run of token soup (what GCG-style attacks append).
 */
#ifndef AG_SUFFIX_H
#define AG_SUFFIX_H

#include <stddef.h>

typedef struct AgSuffix
{
	size_t		start;			/* the soup: its first token ... */
	size_t		end;			/* ... to the end of its line */
	int			unmatched;		/* brackets of the line left unmatched */
	int			garbled;		/* garbled tokens, densest 16 in a row */
} AgSuffix;

/*
 * Finds the first line of text (UTF-8, len bytes) that opens with plain
 * words (six of its first seven tokens) and goes on into soup: at least
 * three unmatched brackets, or one or two with garbled tokens (words
 * glued in mixed case, punctuation runs like "({[", "'=>", "%}") making
 * five together.  Returns 1 and fills *out, or 0.
 */
extern int	AgFindAdversarialSuffix(const char *text, size_t len, AgSuffix *out);

#endif							/* AG_SUFFIX_H */
