/*
 * ag_wordset.h
 *	  A fixed set of short ASCII words, written in the source as one
 *	  comma-terminated list ("paypal,apple,ebay,"), indexed by first byte.
 *
 * The URL code asks two questions of its built-in lists: is this label one
 * of the words (a TLD, a brand's own domain), and which words occur inside
 * this host or path (brands, credential keywords).  Walking the list
 * string for each question cost hundreds of thousands of instructions per
 * URL; the index answers the first with one bucket of a few words and the
 * second with one bucket per byte of the text.
 *
 * A set is a static object naming its list (AG_WORDSET); it indexes itself
 * on first use.  Building writes the same values whoever does it, and
 * "built" is published last, so a reader sees either no index or a whole
 * one.  Words are numbered from 0 in list order (empty words and words
 * longer than AG_WORDSET_MAX_WORD are skipped); AgWordSetFind returns the
 * first number of a word listed twice.
 */
#ifndef AG_WORDSET_H
#define AG_WORDSET_H

#include <stddef.h>
#include <stdint.h>

/* Words a set indexes; the rest of a longer list is searched word by word. */
#define AG_WORDSET_MAX 320
/* Size of the filter of the words' first two bytes (bits). */
#define AG_WORDSET_PAIR_BITS 4096
/* Longest word looked up or indexed (bytes). */
#define AG_WORDSET_MAX_WORD 64

typedef struct AgWordSet
{
	const char *list;			/* "a,bb,ccc," (lowercase words) */
	const struct AgWordSet *tokens;	/* words that count only as whole tokens */
	int			built;
	int			n;				/* words indexed */
	int			overflow;		/* the list has more than AG_WORDSET_MAX */
	uint32_t	rest;			/* list + rest: where the words not indexed begin */
	uint16_t	bucket[257];	/* words starting with byte b: order[bucket[b] .. bucket[b + 1]) */
	uint16_t	order[AG_WORDSET_MAX];	/* word numbers, by first byte then number */
	uint32_t	off[AG_WORDSET_MAX];	/* word k is list + off[k] ... */
	uint8_t		len[AG_WORDSET_MAX];	/* ... len[k] bytes long */
	uint8_t		token[AG_WORDSET_MAX];	/* 1: in *tokens */
	int			one_byte;		/* some word is one byte long */
	uint8_t		pairs[AG_WORDSET_PAIR_BITS / 8];	/* bit PairBit(a, b): a word starts "ab" */
} AgWordSet;

#define AG_WORDSET(words) {.list = (words)}
/* The same, where the words of *tokens match only as whole tokens. */
#define AG_WORDSET_TOKENS(words, token_set) {.list = (words), .tokens = (token_set)}

/*
 * The number of word[0..len) in the set, ASCII letters of word compared in
 * any case; -1 when it is not one.
 */
extern int	AgWordSetFind(AgWordSet *ws, const char *word, size_t len);

/* Word number k of the set (its length in *len). */
extern const char *AgWordSetWord(AgWordSet *ws, int k, size_t *len);

/*
 * How many words of the set occur in text[0..len), each counted once, bytes
 * compared exactly.  A word of ws->tokens, or every word when all_tokens is
 * set, counts only where no lowercase letter touches it on either side.
 * With first, stops at the first word found (the result is then 0 or 1).
 */
extern int	AgWordSetCountIn(AgWordSet *ws, const char *text, size_t len,
							 int all_tokens, int first);

#endif							/* AG_WORDSET_H */
