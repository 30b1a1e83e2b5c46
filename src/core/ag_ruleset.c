/*
 * ag_ruleset.c
 *	  Compiling rules: PCRE2 patterns (JIT) plus the keyword prefilter.
 *
 * Patterns are compiled once, when the set is built, never per scan.  The
 * non-ASCII letters of a pattern and every keyword are normalised exactly
 * like the text will be, so a rule written with accents or fullwidth forms
 * still matches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_normalize.h"
#include "ag_pattern_reach.h"
#include "ag_ruleset_int.h"
#include "ag_util.h"

/*
 * PCRE2_USE_OFFSET_LIMIT: the scanner tells a pattern how far on a match
 * may start (after the last keyword in view, none can: see FirstMatch).
 */
#define AG_PCRE2_OPTIONS (PCRE2_CASELESS | PCRE2_UTF | PCRE2_DOTALL | PCRE2_USE_OFFSET_LIMIT)
#define AG_PCRE2_RAW_OPTIONS (PCRE2_UTF | PCRE2_DOTALL | PCRE2_USE_OFFSET_LIMIT)

AgRuleSet *
AgRuleSetCreate(void)
{
	AgRuleSet  *set = calloc(1, sizeof(AgRuleSet));

	if (set == NULL)
		return NULL;
	set->prefilter = AgPrefilterCreate();
	set->raw_prefilter = AgPrefilterCreateCaseless();
	if (set->prefilter == NULL || set->raw_prefilter == NULL)
	{
		AgPrefilterFree(set->prefilter);
		AgPrefilterFree(set->raw_prefilter);
		free(set);
		return NULL;
	}
	return set;
}

/*
 * Compiles a rule's pattern: for normalised-text rules the literals are
 * normalised and matching is caseless; raw rules (secrets, personal data)
 * match the original text exactly, since case is part of a token.
 *
 * Unicode properties for \b, \w and friends (PCRE2_UCP) are only turned
 * on for patterns that contain non-ASCII characters, i.e. rules written
 * for another script: they halve the speed of every match, and an
 * ASCII-written rule means ASCII word boundaries.
 */
static pcre2_code *
CompilePattern(const char *pattern, int raw, char *const *keywords,
			   int nkeywords, size_t *reach, size_t *lead, size_t *reach_ascii,
			   size_t *lead_ascii, size_t *min_digits, int *lead_walk,
			   uint64_t lead_bytes[4], size_t *min_lead, char *errbuf,
			   size_t errlen)
{
	char	   *norm = raw ? strdup(pattern) : AgNormalizePatternLiterals(pattern);
	int			errcode;
	PCRE2_SIZE	erroff;
	pcre2_code *code;
	uint32_t	options = raw ? AG_PCRE2_RAW_OPTIONS : AG_PCRE2_OPTIONS;
	/* (raw options are case-sensitive; a raw pattern may turn (?i) on) */
	int			casing = raw ? AG_CASE_EXACT : AG_CASE_NORMALISED;

	if (norm == NULL)
	{
		AgSetError(errbuf, errlen, "out of memory");
		return NULL;
	}
	for (const unsigned char *p = (const unsigned char *) norm; *p; p++)
		if (*p >= 0x80)
		{
			options |= PCRE2_UCP;
			break;
		}
	code = pcre2_compile((PCRE2_SPTR) norm, PCRE2_ZERO_TERMINATED, options,
						 &errcode, &erroff, NULL);
	/* (after a successful compile: nesting is within PCRE2's limit) */
	*reach = code ? AgPatternReach(norm, casing) : AG_REACH_UNBOUNDED;
	*lead = code ? AgPatternKeywordLeadBytes(norm, casing,
											 (const char *const *) keywords, nkeywords,
											 lead_bytes, lead_walk, min_lead) :
		AG_REACH_UNBOUNDED;
	*reach_ascii = code ? AgPatternReach(norm, AG_TEXT_ASCII) : AG_REACH_UNBOUNDED;
	*lead_ascii = code ? AgPatternKeywordLead(norm, AG_TEXT_ASCII,
											  (const char *const *) keywords, nkeywords) :
		AG_REACH_UNBOUNDED;
	*min_digits = code ? AgPatternMinDigits(norm) : 0;
	/*
	 * The walk back from a keyword pays where the lead holds no space: in
	 * text, a word or two; otherwise it would mostly walk the whole lead.
	 */
	*lead_walk = code && *lead_walk && !((lead_bytes[' ' / 64] >> (' ' % 64)) & 1);
	free(norm);
	if (code == NULL)
	{
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		AgSetError(errbuf, errlen, "invalid pattern at offset %zu: %s",
				   (size_t) erroff, (const char *) msg);
		return NULL;
	}
	return code;
}

void
AgRuleJit(const AgRule *r)
{
	/*
	 * (the rule set is const to its scanners; its patterns' machine code is
	 * the one thing a scan adds, once, before the first match)
	 */
	AgRule	   *rule = (AgRule *) r;
	size_t		jit_bytes = 0;

	/* JIT is an accelerator; the interpreter is the fallback. */
	rule->jit = pcre2_jit_compile(rule->code, PCRE2_JIT_COMPLETE) == 0 &&
		pcre2_pattern_info(rule->code, PCRE2_INFO_JITSIZE, &jit_bytes) == 0 &&
		jit_bytes > 0 ? AG_JIT_DONE : AG_JIT_NONE;
}

void
AgRuleSetJitCompileAll(AgRuleSet *set)
{
	for (int i = 0; i < set->nrules; i++)
		if (set->rules[i].jit == AG_JIT_NOT_YET)
			AgRuleJit(&set->rules[i]);
}

static char *
Dup(const char *s)
{
	return strdup(s ? s : "");
}

static void
FreeRuleCodes(AgRule *r)
{
	pcre2_code_free(r->code);
	r->code = NULL;
}

static void
FreeStrings(char **s, int n)
{
	for (int i = 0; i < n && s; i++)
		free(s[i]);
	free(s);
}

/*
 * The rule's keywords as the prefilter sees them: as written for raw rules,
 * normalised otherwise.  NULL when out of memory.
 */
static char **
PrefilterKeywords(const AgRuleDef *def)
{
	char	  **kws = calloc(def->nkeywords, sizeof(char *));
	AgNormText	nt = {0};

	if (kws == NULL)
		return NULL;
	for (int k = 0; k < def->nkeywords; k++)
	{
		const char *kw = def->keywords[k];

		if (def->raw)
			kws[k] = strdup(kw);
		else if (AgNormalize(&nt, kw, strlen(kw)) == 0)
			kws[k] = strndup(nt.out.data ? nt.out.data : "", nt.out.len);
		if (kws[k] == NULL)
		{
			AgNormFree(&nt);
			FreeStrings(kws, def->nkeywords);
			return NULL;
		}
	}
	AgNormFree(&nt);
	return kws;
}

/*
 * Windows as wide as a match can reach.  Without a known reach, the
 * defaults: around the keyword, or for raw rules, whose matches such as
 * key blocks can be long, from before it to the end of the text.  A match
 * starts no further before its keyword than the pattern's lead
 * (AgPatternKeywordLead), when one is known: often a few bytes, where the
 * reach is hundreds, and every byte before the keyword is a start PCRE2
 * tries.
 */
static void
WindowSizes(size_t reach, size_t lead, int raw, uint32_t *before, uint32_t *after)
{
	if (reach >= AG_WINDOW_TO_END)
	{
		*before = AG_WINDOW_BEFORE;
		*after = raw ? AG_WINDOW_TO_END : AG_WINDOW_AFTER;
	}
	else if (raw)
		*before = *after = (uint32_t) reach;
	else
	{
		*before = reach < AG_WINDOW_BEFORE ? (uint32_t) reach : AG_WINDOW_BEFORE;
		*after = reach < AG_WINDOW_AFTER ? (uint32_t) reach : AG_WINDOW_AFTER;
	}
	if (lead < *before)
		*before = (uint32_t) lead;
}

int
AgRuleSetAddRule(AgRuleSet *set, const AgRuleDef *def, char *errbuf,
				 size_t errlen)
{
	AgRule	   *r;
	char	  **kws;
	int			idx;
	size_t		reach_ascii,
				lead_ascii,
				reach,
				lead,
				min_digits,
				min_lead = 0;

	if (set->finalized)
	{
		AgSetError(errbuf, errlen, "rule set is already finalized");
		return -1;
	}
	if (def->id == NULL || def->id[0] == '\0' || def->pattern == NULL ||
		def->alert_type == NULL || def->alert_type[0] == '\0')
	{
		AgSetError(errbuf, errlen, "rule needs an id, an alert type and a pattern");
		return -1;
	}
	if (!(def->confidence > 0 && def->confidence <= 1))
	{
		AgSetError(errbuf, errlen, "rule \"%s\": confidence must be in (0, 1]", def->id);
		return -1;
	}
	if (def->nkeywords <= 0)
	{
		AgSetError(errbuf, errlen, "rule \"%s\": at least one keyword is required", def->id);
		return -1;
	}
	if ((def->roles & AG_ROLE_MASK_ALL) == 0)
	{
		AgSetError(errbuf, errlen, "rule \"%s\": no role", def->id);
		return -1;
	}
	if (set->nrules == set->caprules)
	{
		int			cap = set->caprules ? set->caprules * 2 : 64;
		AgRule	   *nr = realloc(set->rules, cap * sizeof(AgRule));

		if (nr == NULL)
		{
			AgSetError(errbuf, errlen, "out of memory");
			return -1;
		}
		set->rules = nr;
		set->caprules = cap;
	}
	idx = set->nrules;
	r = &set->rules[idx];
	memset(r, 0, sizeof(*r));
	if (def->validators && def->validators[0])
	{
		char		verr[200];

		r->nvalidators = AgParseValidators(def->validators, r->validators,
										   verr, sizeof(verr));
		if (r->nvalidators < 0)
		{
			AgSetError(errbuf, errlen, "rule \"%s\": %s", def->id, verr);
			return -1;
		}
	}
	r->raw = def->raw;
	kws = PrefilterKeywords(def);
	if (kws == NULL)
	{
		AgSetError(errbuf, errlen, "out of memory");
		return -1;
	}
	r->code = CompilePattern(def->pattern, def->raw, kws, def->nkeywords,
							 &reach, &lead, &reach_ascii, &lead_ascii, &min_digits,
							 &r->lead_walk, r->lead_bytes, &min_lead, errbuf, errlen);
	if (r->code == NULL)
	{
		char		tmp[300];

		snprintf(tmp, sizeof(tmp), "rule \"%s\": %s", def->id, errbuf);
		AgSetError(errbuf, errlen, "%s", tmp);
		FreeStrings(kws, def->nkeywords);
		return -1;
	}
	WindowSizes(reach, lead, def->raw, &r->window_before, &r->window_after);
	/* over text of ASCII alone every character is a byte: narrower */
	WindowSizes(reach_ascii, lead_ascii, def->raw, &r->window_before_ascii,
				&r->window_after_ascii);
	if (r->window_before_ascii > r->window_before)
		r->window_before_ascii = r->window_before;
	if (r->window_after_ascii > r->window_after)
		r->window_after_ascii = r->window_after;
	r->min_digits = min_digits < UINT32_MAX ? (uint32_t) min_digits : UINT32_MAX;
	r->min_lead = r->lead_walk && min_lead < UINT32_MAX ? (uint32_t) min_lead : 0;
	pcre2_pattern_info(r->code, PCRE2_INFO_SIZE, &r->code_bytes);
	r->jit = AG_JIT_NOT_YET;
	{
		uint32_t	ncaptures = 0;

		pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &ncaptures);
		if (def->secret_group < 0 || (uint32_t) def->secret_group > ncaptures)
		{
			FreeRuleCodes(r);
			FreeStrings(kws, def->nkeywords);
			AgSetError(errbuf, errlen, "rule \"%s\": secret_group %d does not exist in the pattern",
					   def->id, def->secret_group);
			return -1;
		}
		r->secret_group = def->secret_group;
	}
	for (int k = 0; k < def->nkeywords; k++)
	{
		AgPrefilter *pf = def->raw ? set->raw_prefilter : set->prefilter;

		if (AgPrefilterAdd(pf, kws[k], strlen(kws[k]), idx) != 0)
		{
			FreeRuleCodes(r);
			FreeStrings(kws, def->nkeywords);
			AgSetError(errbuf, errlen, "out of memory");
			return -1;
		}
		set->keyword_bytes += strlen(kws[k]);
	}
	if (def->raw)
		for (int k = 0; k < def->nkeywords; k++)
		{
			if (strpbrk(kws[k], "kKsS") != NULL)
				r->partner_keywords = 1;
			for (const char *c = kws[k]; *c; c++)
				if ((unsigned char) *c >= 0x80)
					r->whole_text = 1;
		}
	if (def->raw && AgPatternKeywordsExact(def->pattern, (const char *const *) kws,
										   def->nkeywords))
	{
		/* every match spells a keyword with its case: seen as it is */
		r->partner_keywords = 0;
		r->whole_text = 0;
		r->exact_keywords = kws;	/* kept: hits are checked against them */
		r->nexact_keywords = def->nkeywords;
	}
	else
		FreeStrings(kws, def->nkeywords);
	r->id = Dup(def->id);
	r->alert_type = Dup(def->alert_type);
	r->description = Dup(def->description);
	r->confidence = def->confidence;
	r->roles = def->roles;
	r->data_type = def->data_type && def->data_type[0] ? strdup(def->data_type) : NULL;
	if (strcmp(def->alert_type, "jailbreak_detected") == 0 ||
		strcmp(def->alert_type, "indirect_prompt_injection") == 0)
		r->family = AG_FAMILY_JAILBREAK;
	else if (strcmp(def->alert_type, "llm_reconnaissance") == 0)
		r->family = AG_FAMILY_RECON;
	set->nrules++;
	return 0;
}

int
AgRuleSetSetModel(AgRuleSet *set, const char *model_text, size_t len,
				  char *errbuf, size_t errlen)
{
	AgModel    *m = AgModelParse(model_text, len, errbuf, errlen);

	if (m == NULL)
		return -1;
	AgModelFree(set->model);
	set->model = m;
	return 0;
}

int
AgRuleSetAddCanary(AgRuleSet *set, const char *id, const char *value,
				   char *errbuf, size_t errlen)
{
	AgNormText	nt = {0};
	AgCanary   *c;
	char	   *needle;
	size_t		n = 0;
	size_t		idlen;

	if (AgNormalize(&nt, value, strlen(value)) != 0)
	{
		AgSetError(errbuf, errlen, "out of memory");
		return -1;
	}
	needle = malloc(nt.out.len + 1);
	for (size_t i = 0; needle && i < nt.out.len; i++)
		if (nt.out.data[i] != ' ')
			needle[n++] = nt.out.data[i];
	AgNormFree(&nt);
	if (needle == NULL)
	{
		AgSetError(errbuf, errlen, "out of memory");
		return -1;
	}
	needle[n] = '\0';
	if (n < 4)
	{
		free(needle);
		AgSetError(errbuf, errlen, "canary \"%s\" is shorter than 4 characters after normalisation", id);
		return -1;
	}
	c = realloc(set->canaries, (set->ncanaries + 1) * sizeof(AgCanary));
	if (c == NULL)
	{
		free(needle);
		AgSetError(errbuf, errlen, "out of memory");
		return -1;
	}
	set->canaries = c;
	c = &set->canaries[set->ncanaries++];
	idlen = strlen(id) + 8;
	c->id = malloc(idlen);
	if (c->id)
		snprintf(c->id, idlen, "canary:%s", id);
	c->needle = needle;
	c->len = n;
	return c->id ? 0 : -1;
}

void
AgRuleSetClearCanaries(AgRuleSet *set)
{
	for (int i = 0; i < set->ncanaries; i++)
	{
		free(set->canaries[i].id);
		free(set->canaries[i].needle);
	}
	free(set->canaries);
	set->canaries = NULL;
	set->ncanaries = 0;
}

int
AgRuleSetHasModel(const AgRuleSet *set)
{
	return set->model != NULL;
}

int
AgRuleSetFinalize(AgRuleSet *set, char *errbuf, size_t errlen)
{
	if (set->finalized)
		return 0;
	if (AgPrefilterBuild(set->raw_prefilter) != 0)
	{
		AgSetError(errbuf, errlen, "could not build the keyword prefilter");
		return -1;
	}
	if (AgPrefilterBuild(set->prefilter) != 0)
	{
		AgSetError(errbuf, errlen, "could not build the keyword prefilter");
		return -1;
	}
	set->finalized = 1;
	return 0;
}

int
AgRuleSetRuleCount(const AgRuleSet *set)
{
	return set->nrules;
}

size_t
AgRuleSetMemoryBytes(const AgRuleSet *set)
{
	size_t		total = sizeof(*set) + (size_t) set->caprules * sizeof(AgRule);

	for (int i = 0; i < set->nrules; i++)
		total += set->rules[i].code_bytes + strlen(set->rules[i].id) +
			strlen(set->rules[i].alert_type) + strlen(set->rules[i].description) + 3;
	total += AgPrefilterMemoryBytes(set->prefilter);
	total += AgPrefilterMemoryBytes(set->raw_prefilter);
	if (set->model)
	{
		total += sizeof(AgModel) + (size_t) set->model->nbuckets * sizeof(*set->model->weights);
		if (set->model->gate)
			total += sizeof(AgModel) + (size_t) set->model->gate->nbuckets;
	}
	return total;
}

void
AgRuleSetFree(AgRuleSet *set)
{
	if (set == NULL)
		return;
	for (int i = 0; i < set->nrules; i++)
	{
		pcre2_code_free(set->rules[i].code);
		free(set->rules[i].id);
		free(set->rules[i].alert_type);
		free(set->rules[i].description);
		free(set->rules[i].data_type);
		FreeStrings(set->rules[i].exact_keywords, set->rules[i].nexact_keywords);
	}
	free(set->rules);
	AgRuleSetClearCanaries(set);
	AgPrefilterFree(set->prefilter);
	AgPrefilterFree(set->raw_prefilter);
	AgModelFree(set->model);
	free(set);
}

int
AgRoleFromName(const char *name)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "prompt") == 0 || strcmp(name, "user") == 0 ||
		strcmp(name, "human") == 0)
		return AG_ROLE_PROMPT;
	if (strcmp(name, "response") == 0 || strcmp(name, "assistant") == 0 ||
		strcmp(name, "ai") == 0 || strcmp(name, "model") == 0)
		return AG_ROLE_RESPONSE;
	if (strcmp(name, "tool") == 0 || strcmp(name, "function") == 0 ||
		strcmp(name, "document") == 0)
		return AG_ROLE_TOOL;
	if (strcmp(name, "user_agent") == 0)
		return AG_ROLE_USER_AGENT;
	return -1;
}

const char *
AgRoleName(AgRole role)
{
	switch (role)
	{
		case AG_ROLE_PROMPT:
			return "prompt";
		case AG_ROLE_RESPONSE:
			return "response";
		case AG_ROLE_TOOL:
			return "tool";
		case AG_ROLE_USER_AGENT:
			return "user_agent";
		default:
			return "unknown";
	}
}

size_t
AgCharCount(const char *text, size_t bytes)
{
	size_t		n = 0;

	for (size_t i = 0; i < bytes; i++)
		if (((unsigned char) text[i] & 0xC0) != 0x80)
			n++;
	return n;
}
