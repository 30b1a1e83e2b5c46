/*
 * ag_spoofing.h
 *	  Deceptive Unicode: text written to be read by a person differently
 *	  from what it is.  Bidirectional overrides that reverse what follows
 *	  them ("invoice\u202Efdp.exe" displays as "invoiceexe.pdf"), words
 *	  spelt with Cyrillic, Greek or Armenian letters that look Latin
 *	  ("раypal", "Аmazon"), runs of invisible characters and invisible
 *	  characters inside words, and combining marks stacked on one letter.
 *
 * Hidden tag characters are ag_smuggling.c's; the normaliser maps the
 * same look-alikes so that rules read the text a model reads.  This file
 * says that the text was disguised at all.
 */
#ifndef AG_SPOOFING_H
#define AG_SPOOFING_H

#include <stddef.h>

typedef enum AgSpoofKind
{
	AG_SPOOF_BIDI = 0,			/* an override, or an embedding in text with no RTL letter */
	AG_SPOOF_LOOKALIKE,			/* a Latin word with letters of another script */
	AG_SPOOF_INVISIBLE,			/* invisible characters in a run or inside words */
	AG_SPOOF_STACKED_MARKS,		/* four or more combining marks on one letter */
	AG_SPOOF_KINDS
} AgSpoofKind;

typedef struct AgSpoofHit
{
	int			count;			/* occurrences (words, characters, stacks) */
	size_t		start;			/* the first one, in bytes */
	size_t		end;
} AgSpoofHit;

#define AG_SPOOF_READS_AS_MAX 48

typedef struct AgSpoofing
{
	AgSpoofHit	hit[AG_SPOOF_KINDS];	/* count 0: not found */
	int			overrides;		/* of hit[AG_SPOOF_BIDI]: overrides (the rest embeddings, isolates) */
	int			reversed_executable;	/* an override inside a name ending ".exe", ".bat", ... */
	int			longest_invisible_run;
	int			invisible_in_words;	/* between two letters or digits of ASCII */
	int			stacked_marks_most;	/* the most marks on one letter */
	char		reads_as[AG_SPOOF_READS_AS_MAX];	/* the first look-alike word in Latin letters */
	size_t		reads_as_len;
} AgSpoofing;

/*
 * Fills sp and returns how many kinds were found (0: none).  Text that
 * holds no byte of U+0300 or above is passed over at once.
 */
extern int	AgFindSpoofing(AgSpoofing *sp, const char *text, size_t len);

#endif							/* AG_SPOOFING_H */
