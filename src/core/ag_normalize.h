/*
 * ag_normalize.h
 *	  Text normalisation for matching: what attackers vary, we fold away,
 *	  while remembering where every output byte came from.
 */
#ifndef AG_NORMALIZE_H
#define AG_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "ag_util.h"

typedef struct AgNormCp
{
	int32_t		cp;
	uint32_t	src;			/* byte offset of the source character */
} AgNormCp;

/* Reusable normalisation state; zero-initialise, free with AgNormFree. */
typedef struct AgNormText
{
	AgBuf		out;			/* normalised UTF-8, NUL-terminated */
	uint32_t   *map;			/* per output byte: source byte offset */
	size_t		mapcap;
	AgNormCp   *cps;			/* scratch */
	size_t		cpscap;
	int			changed_invisible;	/* invisible characters were removed */
	int			changed_confusable; /* homoglyphs / leetspeak / spacing */
} AgNormText;

/*
 * Normalises src: NFKC, case fold, diacritics stripped, invisible
 * characters dropped, mixed-script homoglyphs and leetspeak mapped to
 * Latin letters, spaced-out letters joined, whitespace runs collapsed.
 */
extern int	AgNormalize(AgNormText *nt, const char *src, size_t len);

/* The same; allow_fast = 0 forces the general path (tests compare both). */
extern int	AgNormalizeEx(AgNormText *nt, const char *src, size_t len,
						  int allow_fast);

/*
 * Normalises only the non-ASCII characters of a regular expression (ASCII
 * is left alone so escapes like \S or \W keep their meaning).  Result is
 * malloc'd; NULL on out-of-memory.
 */
extern char *AgNormalizePatternLiterals(const char *pattern);

/* Maps a normalised byte range back to a source byte range. */
extern void AgNormMapRange(const AgNormText *nt, const char *src, size_t srclen,
						   size_t nstart, size_t nend,
						   size_t *sstart, size_t *send);

extern void AgNormFree(AgNormText *nt);

/* Character classes used by the model tokenizer as well. */
extern int	AgIsWordCp(int32_t cp);
extern int	AgIsIdeographCp(int32_t cp);

/* The Latin letter a Cyrillic/Greek look-alike stands for, or 0. */
extern int32_t AgConfusableToLatin(int32_t cp);
/* ᴀ ʙ ᴄ... (small capitals), 🅐 🅑 🅒..., 🅰 🅱 🅲... -> a b c..., else 0: part of the first pass. */
extern int32_t AgSmallCapitalToLatin(int32_t cp);
/*
 * The length of the run of regional indicators (🇦..🇿) at s, and in
 * *letters whether it spells a word rather than one or two flags.
 */
extern size_t AgRegionalRun(const unsigned char *s, size_t len, int *letters);
/*
 * The last step of AgNormalizeEx, on its output: words split by hyphens at
 * odd places ("i-gnore a-ll") joined again in texts with several, then
 * phrases run together with '_' or '-', or in camel case, read with
 * spaces.  src is the text normalised (the camel case is read from it).
 * 0 or -1 (no memory).
 */
extern int	AgRejoinWords(AgNormText *nt, const char *src, size_t srclen);

#endif							/* AG_NORMALIZE_H */
