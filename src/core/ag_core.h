/*
 * ag_core.h
 *	  Public API of the aiguard scanning core: text in, findings out.
 *
 * The core is plain C (PCRE2 + utf8proc, no PostgreSQL headers) so that it
 * can be unit-tested, fuzzed and benchmarked without a server.  The
 * PostgreSQL glue in src/pg builds an AgRuleSet from the catalog, keeps one
 * AgScanner per backend and turns AgFindings into rows.
 *
 * Lifetimes: an AgRuleSet is immutable once finalized and may be shared by
 * any number of scanners; an AgScanner owns reusable buffers, so findings
 * returned by AgScan() stay valid until the next AgScan() on that scanner.
 * Nothing here calls exit() or prints: errors come back as return codes and
 * a message written into the caller's buffer.
 */
#ifndef AG_CORE_H
#define AG_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Who wrote the text being scanned. */
typedef enum AgRole
{
	AG_ROLE_PROMPT = 0,			/* user input */
	AG_ROLE_RESPONSE = 1,		/* model output */
	AG_ROLE_TOOL = 2,			/* tool output, retrieved document */
	AG_ROLE_USER_AGENT = 3,		/* the client's HTTP User-Agent */
	AG_ROLE_COUNT
} AgRole;

#define AG_ROLE_MASK(r)		(1u << (r))
#define AG_ROLE_MASK_ALL	((1u << AG_ROLE_COUNT) - 1)

/* Parses "prompt", "response", "tool", "user_agent" (and synonyms); -1 if unknown. */
extern int	AgRoleFromName(const char *name);
extern const char *AgRoleName(AgRole role);

/* A rule as the catalog or a rule file describes it. */
typedef struct AgRuleDef
{
	const char *id;				/* unique, e.g. "jb.override.en" */
	const char *alert_type;		/* e.g. "jailbreak_detected" */
	const char *pattern;		/* PCRE2 pattern over normalised text */
	const char *description;
	const char *const *keywords;	/* prefilter literals, any of them */
	int			nkeywords;
	double		confidence;		/* 0..1 */
	unsigned	roles;			/* AG_ROLE_MASK bits */
	/* for secrets and personal data (NULL / 0 otherwise): */
	int			raw;			/* match the original text, case-sensitive */
	const char *validators;		/* e.g. "luhn" or "entropy(3.5), no_placeholder" */
	int			secret_group;	/* capture group holding the value, 0 = all */
	const char *data_type;		/* e.g. "aws_access_key", "credit_card" */
} AgRuleDef;

typedef struct AgRuleSet AgRuleSet;
typedef struct AgScanner AgScanner;

/* Limits applied to every PCRE2 match, so no rule runs away. */
#define AG_MATCH_LIMIT		200000
#define AG_DEPTH_LIMIT		10000

extern AgRuleSet *AgRuleSetCreate(void);

/*
 * Adds a rule; returns 0, or -1 with a message in errbuf (bad pattern, bad
 * confidence, no keyword...).  The pattern is compiled here; PCRE2's JIT
 * compiles it to machine code when a scan first runs it (a backend whose
 * traffic never wakes a rule does not pay for it: JIT-compiling every rule
 * was a quarter of loading a rule set), or all at once with
 * AgRuleSetJitCompileAll.  That first run writes into the rule set, so the
 * scanners of one rule set must run in one thread (PostgreSQL's backends
 * and workers are processes).
 */
extern int	AgRuleSetAddRule(AgRuleSet *set, const AgRuleDef *def,
							 char *errbuf, size_t errlen);

/* Attaches a linear model (text format of ag_model.c); 0 or -1 + errbuf. */
extern int	AgRuleSetSetModel(AgRuleSet *set, const char *model_text,
							  size_t len, char *errbuf, size_t errlen);

/*
 * Registers a canary or secret (e.g. from a system prompt) whose appearance
 * in a response or tool output is reported as instruction_leakage.  It is
 * matched after normalisation and with spaces removed, so case, spacing and
 * invisible characters do not hide it.  id names it in findings.
 * Canaries are plain strings, outside the compiled rules: they may be
 * added, or all cleared, at any time, also after AgRuleSetFinalize, so a
 * rule set compiled once (by the postmaster) serves databases whose
 * canaries differ.
 */
extern int	AgRuleSetAddCanary(AgRuleSet *set, const char *id,
							   const char *value, char *errbuf, size_t errlen);
extern void AgRuleSetClearCanaries(AgRuleSet *set);

/* Builds the keyword prefilter; no rule can be added afterwards. */
extern int	AgRuleSetFinalize(AgRuleSet *set, char *errbuf, size_t errlen);
/* JIT-compiles every rule now (benchmarks that time scans, not loading). */
extern void AgRuleSetJitCompileAll(AgRuleSet *set);
extern int	AgRuleSetRuleCount(const AgRuleSet *set);
extern int	AgRuleSetHasModel(const AgRuleSet *set);
extern size_t AgRuleSetMemoryBytes(const AgRuleSet *set);
extern void AgRuleSetFree(AgRuleSet *set);

/* One finding.  Offsets are byte offsets into the scanned text. */
typedef struct AgFinding
{
	const char *alert_type;		/* points into the rule set or a literal */
	const char *rule_id;
	double		confidence;
	size_t		start;			/* byte offset of the first matched byte */
	size_t		end;			/* byte offset one past the match */
	char	   *details;		/* JSON object text, never NULL */
	const char *data_type;		/* secrets and personal data, else NULL */
	size_t		value_start;	/* the secret / personal value itself */
	size_t		value_end;		/* (equal to start/end when not split) */
} AgFinding;

typedef struct AgScanOptions
{
	int			naive;			/* 1: run every rule, no prefilter (bench) */
	double		model_threshold;	/* <0: use the model's own */
	int			no_model_gate;	/* 1: the full model on every text (bench) */
	int			no_prefetch;	/* 1: no early prefetch of the tables (bench) */

	/*
	 * 1: the caller vouches that text is valid UTF-8, as PostgreSQL's text
	 * in a UTF8 database is, and the raw rules' pass does not check it
	 * again.  0: it is checked, and bytes that are not valid UTF-8 are
	 * read as '?' by the raw rules (PCRE2, told the text is valid, could
	 * otherwise read past its end).
	 */
	int			valid_utf8;
} AgScanOptions;

extern AgScanner *AgScannerCreate(const AgRuleSet *set);
extern void AgScannerFree(AgScanner *scanner);

/*
 * Scans text (valid UTF-8, len bytes).  Returns the number of findings (>=0)
 * and sets *findings, or -1 on an internal error (message in errbuf).
 */
extern int	AgScan(AgScanner *scanner, const char *text, size_t len,
				   AgRole role, const AgScanOptions *opts,
				   const AgFinding **findings, char *errbuf, size_t errlen);

/*
 * Per-rule cost accounting for benchmarks: once enabled, every regex run
 * is timed.  AgScannerRuleStats returns rule i's id, runs and nanoseconds.
 */
extern void AgScannerEnableStats(AgScanner *scanner);
extern const char *AgScannerRuleStats(const AgScanner *scanner, int rule,
									  long *runs, double *nanoseconds);

/* Number of UTF-8 characters in text[0..bytes), for 1-based positions. */
extern size_t AgCharCount(const char *text, size_t bytes);

#endif							/* AG_CORE_H */
