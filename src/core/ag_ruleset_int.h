/*
 * ag_ruleset_int.h
 *	  Internal layout of a compiled rule set, shared by ag_ruleset.c (which
 *	  builds it) and ag_scan.c (which runs it).
 */
#ifndef AG_RULESET_INT_H
#define AG_RULESET_INT_H

/*
 * The regex of a rule runs only near its keywords: from this many bytes
 * before a keyword occurrence to this many after it (normalised-text
 * rules), or from this many bytes before to the end of the text (raw
 * rules, whose matches such as key blocks can be long).  Every match of a
 * rule must contain one of its keywords and fit in such a window.  A
 * rule whose pattern has a known reach (AgPatternReach) gets windows only
 * that wide, and one with a known keyword lead (AgPatternKeywordLead)
 * starts its windows only that far before the keyword.
 */
#define AG_WINDOW_BEFORE 400
#define AG_WINDOW_AFTER 400
#define AG_MAX_WINDOWS 8			/* per rule, kept without allocating */
#define AG_WINDOW_LIMIT (1u << 20)	/* per rule and text */
#define AG_WINDOW_TO_END UINT32_MAX	/* window_after: to the end of the text */

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ag_core.h"
#include "ag_model.h"
#include "ag_prefilter.h"
#include "ag_validate.h"

typedef enum AgRuleFamily
{
	AG_FAMILY_OTHER = 0,
	AG_FAMILY_JAILBREAK,		/* reported as indirect injection for tools */
	AG_FAMILY_RECON
} AgRuleFamily;

/* AgRule.jit: a pattern is JIT-compiled at its first match (AgRuleJit) */
#define AG_JIT_NOT_YET	0
#define AG_JIT_DONE		1		/* matched with pcre2_jit_match */
#define AG_JIT_NONE		(-1)	/* JIT failed or is missing: the interpreter */

typedef struct AgRule
{
	char	   *id;
	char	   *alert_type;
	char	   *description;
	pcre2_code *code;
	double		confidence;
	unsigned	roles;
	AgRuleFamily family;
	size_t		code_bytes;
	int			jit;			/* AG_JIT_*: how the pattern is matched */
	int			raw;
	uint32_t	window_before;	/* bytes tried before and after a keyword */
	uint32_t	window_after;	/* (see AgPatternReach), or AG_WINDOW_TO_END */
	uint32_t	window_before_ascii;	/* the same where the text is all ASCII */
	uint32_t	window_after_ascii; /* (AG_TEXT_ASCII), never wider */
	uint32_t	min_digits;		/* ASCII digits every match holds (AgPatternMinDigits) */
	/*
	 * lead_walk: a match holds only these bytes before its keyword
	 * (AgPatternKeywordLeadBytes), so a window need not start before the
	 * last other byte before the keyword
	 */
	int			lead_walk;
	uint64_t	lead_bytes[4];
	/*
	 * and at least this many of them (AgPatternKeywordLeadBytes): a
	 * keyword the walk finds fewer before starts no match
	 */
	uint32_t	min_lead;
	int			secret_group;
	char	   *data_type;		/* NULL unless a secret / personal-data rule */
	AgValidator validators[AG_MAX_VALIDATORS];
	int			nvalidators;
	/*
	 * Raw rules whose every match spells a keyword with its case
	 * (AgPatternKeywordsExact): the keywords, so that a prefilter hit of
	 * another case ("sk" in "task" for the keyword "SK") opens no window.
	 * NULL otherwise.
	 */
	char	  **exact_keywords;
	int			nexact_keywords;

	/*
	 * A raw rule with a keyword holding k or s that a match may spell in
	 * another case: PCRE2 matches k caselessly with U+212A KELVIN SIGN and
	 * s with U+017F LONG S, which the prefilter (ASCII case folding) does
	 * not.  A text that holds either is read by the prefilter with them
	 * folded to ASCII, when a rule of its role has this flag.
	 */
	int			partner_keywords;

	/*
	 * A raw rule with a keyword beyond ASCII (a rule a user wrote for
	 * "пароль", or with the Kelvin sign itself) whose matches may spell it
	 * in another case: the prefilter folds ASCII case only and could miss
	 * "ПАРОЛЬ", so the rule runs over the whole text.
	 */
	int			whole_text;
} AgRule;

typedef struct AgCanary
{
	char	   *id;				/* "canary:<id>" */
	char	   *needle;			/* normalised, spaces removed */
	size_t		len;
} AgCanary;

struct AgRuleSet
{
	AgRule	   *rules;
	int			nrules;
	int			caprules;
	AgPrefilter *prefilter;		/* keywords over normalised text */
	AgPrefilter *raw_prefilter; /* keywords over original text, ASCII case-insensitive */
	AgModel    *model;
	AgCanary   *canaries;
	int			ncanaries;
	int			finalized;
	size_t		keyword_bytes;
};

/*
 * JIT-compiles rule r of a scan's rule set at its first match, or marks it
 * for the interpreter; the one change a scan makes to its rule set.
 */
extern void AgRuleJit(const AgRule *r);

#endif							/* AG_RULESET_INT_H */
