/*
 * ag_pattern_reach.h
 *	  An upper bound on how many bytes a match of a PCRE2 pattern, with what
 *	  its lookaheads read, can span from its start (see the .c file).
 */
#ifndef AG_PATTERN_REACH_H
#define AG_PATTERN_REACH_H

#include <stddef.h>
#include <stdint.h>

/* No bound known: a '*', '+', back reference, or syntax not understood. */
#define AG_REACH_UNBOUNDED SIZE_MAX

/*
 * How the subject's letters meet the pattern's (the "caseless" argument
 * below).  PCRE2 matches k and s caselessly with U+212A KELVIN SIGN and
 * U+017F LONG S too, three and two bytes; normalised text holds neither
 * (AgNormalize writes them as k and s), so over it an ASCII letter is one
 * byte whatever the case options.
 */
#define AG_CASE_EXACT 0			/* as written, unless the pattern turns (?i) on */
#define AG_CASE_CASELESS 1		/* compiled with PCRE2_CASELESS, over any text */
#define AG_CASE_NORMALISED 2	/* caseless or not, over normalised text */
/*
 * Over text of ASCII bytes alone, where every character is one byte
 * whatever matches it (\R two: a CR LF); what can only match characters
 * beyond ASCII keeps its width, which is then never used.  The scanner
 * uses the bounds this gives for a window whose text is all ASCII.
 */
#define AG_TEXT_ASCII 3

extern size_t AgPatternReach(const char *pattern, int caseless);

/*
 * How far before one of the keywords a match can start: an upper bound on
 * the distance from a match's start to the start of a keyword occurrence
 * that every match contains, worked out from the pattern's literal text.
 * AG_REACH_UNBOUNDED when the pattern does not show one (then the scanner
 * falls back to the reach).  Keywords compare ignoring ASCII case.
 */
extern size_t AgPatternKeywordLead(const char *pattern, int caseless,
								   const char *const *keywords, int nkeywords);

/*
 * AgPatternKeywordLead, and the bytes a match can hold between its start
 * and that keyword occurrence, as a 256-bit set in bytes[] (byte b is bit
 * b % 64 of bytes[b / 64]): a superset, both cases of every letter, all
 * bytes when there is no lead or the pattern is not understood.  *narrow
 * is 1 when some byte is not in the set: a match then starts after the
 * last such byte before its keyword, and the window before a keyword can
 * stop there.  *min_lead (when not NULL) gets a lower bound on the same
 * distance, in bytes (0 when no lead is known): "[A-Z]{2}[0-9]{2}" holds
 * "[0-9][0-9]" two bytes from its start at least, so a hit with fewer lead
 * bytes before it starts no match.
 */
extern size_t AgPatternKeywordLeadBytes(const char *pattern, int caseless,
										const char *const *keywords, int nkeywords,
										uint64_t bytes[4], int *narrow,
										size_t *min_lead);

/*
 * 1 when pattern, matched case-sensitively, holds one of the keywords in
 * every match spelt exactly as written (the lead walk with case kept): the
 * prefilter, which ignores ASCII case, may then drop a keyword hit whose
 * case differs.
 */
extern int	AgPatternKeywordsExact(const char *pattern,
								   const char *const *keywords, int nkeywords);

/*
 * The fewest ASCII digits (0-9) any match of pattern holds, counted from
 * literal digits and classes of digits alone ([0-9], [1-5]); \d, back
 * references and lookarounds count none, and a pattern not understood
 * gives 0.  A window of text with fewer digits holds no match.
 */
extern size_t AgPatternMinDigits(const char *pattern);

#endif							/* AG_PATTERN_REACH_H */
