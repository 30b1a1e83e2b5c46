/*
 * ag_scan.c
 *	  The scanner: runs a compiled rule set over one text.
 *
 * Order of work for one text:
 *	 1. ASCII smuggling on the raw bytes (any role): tag characters are
 *		decoded; the hidden text is then scanned like a prompt.
 *	 2. Secrets and personal data (raw rules) on the original text, case
 *		kept, gated by a caseless keyword prefilter; every match is checked
 *		by the rule's validators (checksums, entropy, placeholders).
 *	 3. For responses and tool output: registered canaries, compared on
 *		the normalised text with spaces removed.
 *	 4. For prompts and tool output: normalise, run the keyword prefilter
 *		over the normalised text, run the regex of each rule whose keyword
 *		was seen, and score the learned model.  Encoded runs (base64, hex,
 *		percent) that decode to text get the same treatment, and so does
 *		the text turned the right way round when a rule found it written
 *		backwards or upside down (ag_turn.c).  A prompt is also read as
 *		written for a request followed by token soup (ag_suffix.c).
 *	 5. Policy: a text that only asks about the system's instructions (a
 *		reconnaissance rule fired, no override rule did) is reported as
 *		reconnaissance even when the model scores it high: the model learnt
 *		extraction attempts as injections, but without an override there is
 *		nothing to escalate.
 *
 * A rule's regex runs only in windows around its keywords, as wide as its
 * matches can reach in bytes (ag_pattern_reach.c), narrower where the
 * window's characters are one byte each, or few are more (AddWindow).
 *
 * Findings point at byte ranges of the original text; a finding inside a
 * decoded or hidden payload points at the whole encoded run.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ag_decode.h"
#include "ag_normalize.h"
#include "ag_ruleset_int.h"
#include "ag_smuggling.h"
#include "ag_spoofing.h"
#include "ag_suffix.h"
#include "ag_turn.h"
#include "ag_util.h"

#define MODEL_RULE_ID "model.jailbreak"
#define SMUGGLING_RULE_ID "unicode.tag_smuggling"
#define SUFFIX_RULE_ID "suffix.adversarial"
/* the rules (rules/jailbreak.rules) whose finding makes the text be read turned */
#define REVERSED_RULE_ID "jb.reversed_sentence.en"
#define UPSIDE_DOWN_RULE_ID "jb.upside_down.xx"
#define ROT13_RULE_ID "jb.rot13_words.en"

typedef struct PendingFinding
{
	const char *alert_type;
	const char *rule_id;
	double		confidence;
	size_t		start;
	size_t		end;
	size_t		details_off;	/* into scanner->arena */
	AgRuleFamily family;
	int			from_model;
	const char *data_type;
	size_t		value_start;
	size_t		value_end;
	int			inside_other;	/* DropPersonalDataInsideOthers' mark */
} PendingFinding;

/*
 * A window of text in which a rule is tried: WIN_START..WIN_END, and the
 * start of the last keyword occurrence in it (WIN_LAST_KEYWORD).  Every
 * match of a rule contains one of its keywords, so it starts at or before
 * that keyword: no match can start after the window's last keyword.
 */
#define WIN_START 0
#define WIN_END 1
#define WIN_LAST_KEYWORD 2
#define WIN_FIELDS 3

struct AgScanner
{
	const AgRuleSet *set;
	AgNormText	nt;
	AgDecoded	dec;
	AgSmuggled	sm;
	AgFeatures	fv;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	uint32_t   *win;			/* per rule: the first AG_MAX_WINDOWS windows (WIN_*) */
	uint32_t   *nwin;			/* per rule: windows in use */
	uint32_t  **win_more;		/* per rule: windows after the first
								 * AG_MAX_WINDOWS, or NULL */
	uint32_t   *win_more_cap;	/* ... room there, in windows */
	int		   *touched;		/* rules with windows, to reset cheaply */
	int			ntouched;
	size_t		winlen;			/* length of the text the windows are for */
	const char *wintext;		/* and the text itself (for HitHasCase) */
	uint32_t   *extra;			/* its bytes beyond one a character, per 64
								 * (CountExtraBytes) */
	size_t		extracap;		/* ... entries of room */
	int			extra_known;	/* extra describes the text: 1; not yet: -1;
								 * no memory for it: 0 */
	AgBuf		stripped;		/* normalised text without spaces (canaries) */
	AgBuf		turned;			/* the text turned the right way round */
	AgBuf		valid;			/* raw text made valid UTF-8 (ValidUtf8Copy) */
	AgBuf		folded;			/* raw text, caseless partners as ASCII ... */
	uint32_t   *folded_at;		/* ... and the text's offset of each byte */
	size_t		folded_cap;
	uint32_t   *stripped_map;	/* stripped byte -> normalised byte */
	size_t		stripped_cap;
	PendingFinding *pend;
	int			npend;
	int			cappend;
	AgFinding  *out;
	int			capout;
	AgBuf		arena;			/* details JSON, NUL-separated */
	unsigned	raw_roles;		/* AG_ROLE_MASK of roles some raw rule has */
	unsigned	partner_roles;	/* ... some raw rule with partner_keywords has */
	int		   *whole_text;		/* the raw rules with whole_text ... */
	int			nwhole_text;	/* ... and how many */
	long	   *stat_runs;		/* per rule, when stats are enabled */
	double	   *stat_ns;
};

AgScanner *
AgScannerCreate(const AgRuleSet *set)
{
	AgScanner  *sc = calloc(1, sizeof(AgScanner));

	if (sc == NULL)
		return NULL;
	sc->set = set;
	sc->md = pcre2_match_data_create(8, NULL);
	sc->mctx = pcre2_match_context_create(NULL);
	sc->jit_stack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	sc->win = malloc(sizeof(uint32_t) * WIN_FIELDS * AG_MAX_WINDOWS * (set->nrules + 1));
	sc->nwin = calloc(set->nrules + 1, sizeof(uint32_t));
	sc->win_more = calloc(set->nrules + 1, sizeof(uint32_t *));
	sc->win_more_cap = calloc(set->nrules + 1, sizeof(uint32_t));
	sc->touched = malloc(sizeof(int) * (set->nrules + 1));
	sc->whole_text = malloc(sizeof(int) * (set->nrules + 1));
	if (sc->md == NULL || sc->mctx == NULL || sc->win == NULL ||
		sc->nwin == NULL || sc->win_more == NULL || sc->win_more_cap == NULL ||
		sc->touched == NULL || sc->whole_text == NULL)
	{
		AgScannerFree(sc);
		return NULL;
	}
	for (int i = 0; i < set->nrules; i++)
		if (set->rules[i].raw)
		{
			sc->raw_roles |= set->rules[i].roles;
			if (set->rules[i].partner_keywords)
				sc->partner_roles |= set->rules[i].roles;
			if (set->rules[i].whole_text)
				sc->whole_text[sc->nwhole_text++] = i;
		}
	pcre2_set_match_limit(sc->mctx, AG_MATCH_LIMIT);
	pcre2_set_depth_limit(sc->mctx, AG_DEPTH_LIMIT);
	if (sc->jit_stack)
		pcre2_jit_stack_assign(sc->mctx, NULL, sc->jit_stack);
	return sc;
}

void
AgScannerFree(AgScanner *sc)
{
	if (sc == NULL)
		return;
	AgNormFree(&sc->nt);
	AgDecodedFree(&sc->dec);
	AgSmuggledFree(&sc->sm);
	AgFeaturesFree(&sc->fv);
	if (sc->md)
		pcre2_match_data_free(sc->md);
	if (sc->mctx)
		pcre2_match_context_free(sc->mctx);
	if (sc->jit_stack)
		pcre2_jit_stack_free(sc->jit_stack);
	free(sc->win);
	free(sc->extra);
	free(sc->nwin);
	if (sc->win_more)
		for (int i = 0; i < sc->set->nrules; i++)
			free(sc->win_more[i]);
	free(sc->win_more);
	free(sc->win_more_cap);
	free(sc->touched);
	free(sc->stat_runs);
	free(sc->stat_ns);
	AgBufFree(&sc->stripped);
	AgBufFree(&sc->turned);
	AgBufFree(&sc->valid);
	AgBufFree(&sc->folded);
	free(sc->folded_at);
	free(sc->whole_text);
	free(sc->stripped_map);
	free(sc->pend);
	free(sc->out);
	AgBufFree(&sc->arena);
	free(sc);
}

void
AgScannerEnableStats(AgScanner *sc)
{
	if (sc->stat_runs == NULL)
	{
		sc->stat_runs = calloc(sc->set->nrules + 1, sizeof(long));
		sc->stat_ns = calloc(sc->set->nrules + 1, sizeof(double));
	}
}

const char *
AgScannerRuleStats(const AgScanner *sc, int rule, long *runs, double *ns)
{
	if (rule < 0 || rule >= sc->set->nrules || sc->stat_runs == NULL)
		return NULL;
	*runs = sc->stat_runs[rule];
	*ns = sc->stat_ns[rule];
	return sc->set->rules[rule].id;
}

/*
 * A rule's pattern over subject: through pcre2_jit_match once it is
 * JIT-compiled, which its first match here does (AgRuleJit).  That is
 * PCRE2's fast path: the same matching without pcre2_match's checks of its
 * arguments, which cost about 140 instructions a call, and a benign
 * response makes dozens of calls.  Else the interpreter.  Texts are valid
 * UTF-8 (PostgreSQL checked them; the normaliser writes only valid UTF-8),
 * as PCRE2_NO_UTF_CHECK already assumed.
 */
static inline int
JitOrMatch(const AgRule *r, const char *subject, size_t len, size_t offset,
		   pcre2_match_data *md, pcre2_match_context *mctx)
{
	if (__builtin_expect(r->jit == AG_JIT_NOT_YET, 0))
		AgRuleJit(r);
	if (r->jit == AG_JIT_DONE)
		return pcre2_jit_match(r->code, (PCRE2_SPTR) subject, len, offset,
							   0, md, mctx);
	return pcre2_match(r->code, (PCRE2_SPTR) subject, len, offset,
					   PCRE2_NO_UTF_CHECK, md, mctx);
}

/* pcre2_match of rule idx, timed per rule when stats are on. */
static int
MatchRule(AgScanner *sc, int idx, const char *subject, size_t len, size_t offset)
{
	struct timespec t0,
				t1;
	int			rc;
	const AgRule *r = &sc->set->rules[idx];

#ifdef AG_CHECK_SUBJECTS

	/*
	 * (the fuzzer's build) PCRE2 is told every subject is valid UTF-8 and
	 * starts on a character; its code is not instrumented, so a subject
	 * that is not would be a read out of bounds no sanitizer sees
	 */
	if (AgUtf8ValidPrefix(subject, len) != len ||
		(offset < len && ((unsigned char) subject[offset] & 0xC0) == 0x80))
		abort();
#endif
	if (sc->stat_runs == NULL)
		return JitOrMatch(r, subject, len, offset, sc->md, sc->mctx);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = JitOrMatch(r, subject, len, offset, sc->md, sc->mctx);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sc->stat_runs[idx]++;
	sc->stat_ns[idx] += (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	return rc;
}

static inline uint32_t *
RuleWindow(const AgScanner *sc, int rule, uint32_t k)
{
	if (k < AG_MAX_WINDOWS)
		return &sc->win[((size_t) rule * AG_MAX_WINDOWS + k) * WIN_FIELDS];
	return &sc->win_more[rule][(size_t) (k - AG_MAX_WINDOWS) * WIN_FIELDS];
}

/* Room for window n of rule (n >= AG_MAX_WINDOWS); 0, or -1 (no memory). */
static int
MakeRoomForWindow(AgScanner *sc, int rule, uint32_t n)
{
	uint32_t	need = n - AG_MAX_WINDOWS + 1;

	if (need > sc->win_more_cap[rule])
	{
		uint32_t	cap = sc->win_more_cap[rule] ? sc->win_more_cap[rule] * 2 : 16;
		uint32_t   *more = realloc(sc->win_more[rule],
								   sizeof(uint32_t) * WIN_FIELDS * (size_t) cap);

		if (more == NULL)
			return -1;
		sc->win_more[rule] = more;
		sc->win_more_cap[rule] = cap;
	}
	return 0;
}

/* Is the hit one of the rule's keywords as written, case included? */
static int
HitHasCase(const AgRule *r, const char *hit, size_t len)
{
	for (int k = 0; k < r->nexact_keywords; k++)
		if (strlen(r->exact_keywords[k]) == len &&
			memcmp(r->exact_keywords[k], hit, len) == 0)
			return 1;
	return 0;
}

/*
 * How many bytes of text beyond one per character each 64-byte block
 * holds (UTF-8 continuation bytes), summed from the start: sc->extra[b] for
 * the blocks before block b.  For ExtraBytes; without the memory for it,
 * nothing is known (sc->extra_known 0).
 */
static void
CountExtraBytes(AgScanner *sc, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *) text;
	size_t		nblocks = (len + 63) / 64;
	uint32_t	sum = 0;

	sc->extra_known = 0;
	if (len > UINT32_MAX)
		return;					/* (the sums are 32-bit) */
	if (nblocks + 1 > sc->extracap)
	{
		uint32_t   *e = realloc(sc->extra, (nblocks + 1) * sizeof(uint32_t));

		if (e == NULL)
			return;
		sc->extra = e;
		sc->extracap = nblocks + 1;
	}
	for (size_t b = 0; b < nblocks; b++)
	{
		size_t		i = b * 64,
					end = i + 64 < len ? i + 64 : len;

		sc->extra[b] = sum;
#ifdef __SSE2__
		if (end - i == 64)
		{
			const __m128i top = _mm_set1_epi8((char) 0xC0);
			const __m128i cont = _mm_set1_epi8((char) 0x80);
			const __m128i one = _mm_set1_epi8(1);
			__m128i		ones = _mm_setzero_si128();
			__m128i		v[4];

			for (int k = 0; k < 4; k++)
				v[k] = _mm_loadu_si128((const __m128i *) (s + i + 16 * k));
			/* most blocks are ASCII: no byte from 0x80 up, nothing to count */
			if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(v[0], v[1]),
											   _mm_or_si128(v[2], v[3]))) == 0)
				continue;
			for (int k = 0; k < 4; k++)
				ones = _mm_add_epi8(ones, _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(v[k], top), cont),
														one));
			/* a 1 per continuation byte, summed in two halves */
			ones = _mm_sad_epu8(ones, _mm_setzero_si128());
			sum += (uint32_t) _mm_cvtsi128_si32(ones) + (uint32_t) _mm_extract_epi16(ones, 4);
			continue;
		}
#endif
		for (; i < end; i++)
			sum += (s[i] & 0xC0) == 0x80;
	}
	sc->extra[nblocks] = sum;
	sc->extra_known = 1;
}

/*
 * At least as many bytes as the characters of text[from, to) take beyond
 * one each (whole blocks counted; CountExtraBytes the first time a window
 * asks), or SIZE_MAX when not known.
 */
static size_t
ExtraBytes(AgScanner *sc, size_t from, size_t to)
{
	if (sc->extra_known < 0)
		CountExtraBytes(sc, sc->wintext, sc->winlen);
	if (!sc->extra_known)
		return SIZE_MAX;
	if (from >= to)
		return 0;
	return sc->extra[(to + 63) / 64] - sc->extra[from / 64];
}

/* Can a match of rule r hold byte c between its start and its keyword? */
static inline int
IsLeadByte(const AgRule *r, unsigned char c)
{
	return (int) ((r->lead_bytes[c >> 6] >> (c & 63)) & 1);
}

/*
 * Prefilter callback: widen the keyword hit into a window for its rule.
 * A window's matches start between its start and its last keyword, so two
 * windows merge only when those start ranges meet: a rule whose matches
 * start at their keyword (lead 0) is tried once per keyword, however close
 * the keywords are.  A rule has as many windows as its keywords call for
 * (up to AG_WINDOW_LIMIT, or while memory lasts: then the last one grows
 * to take the rest in, which is never wrong, only slower).
 */
static void
AddWindow(void *arg, int rule, size_t start, size_t end)
{
	AgScanner  *sc = (AgScanner *) arg;
	const AgRule *r = &sc->set->rules[rule];

	if (r->exact_keywords != NULL && !HitHasCase(r, sc->wintext + start, end - start))
		return;
	uint32_t	n = sc->nwin[rule];
	size_t		ws = start > r->window_before ? start - r->window_before : 0;
	size_t		we = r->window_after == AG_WINDOW_TO_END ||
		end + r->window_after >= sc->winlen ? sc->winlen : end + r->window_after;
	uint32_t   *w;

	/*
	 * The rule's ASCII bounds count characters (AG_TEXT_ASCII): a match in
	 * the window spans no more bytes than that many characters plus what
	 * its characters take beyond a byte each, at most the window's extra
	 * bytes (a match in the window lies in its text; for a window to the
	 * end, only its lead before the keyword is narrowed, so only that text
	 * is counted).  Text of ASCII alone gets the ASCII bounds.
	 */
	if (r->window_before_ascii < r->window_before ||
		r->window_after_ascii < r->window_after)
	{
		size_t		extra = ExtraBytes(sc, ws, r->window_after == AG_WINDOW_TO_END ? end : we);

		if (extra < r->window_before - r->window_before_ascii)
			ws = start > r->window_before_ascii + extra ?
				start - (r->window_before_ascii + extra) : 0;
		if (r->window_after != AG_WINDOW_TO_END &&
			extra < r->window_after - r->window_after_ascii)
			we = end + r->window_after_ascii + extra >= sc->winlen ? sc->winlen :
				end + r->window_after_ascii + extra;
	}

	/*
	 * Only some bytes can come between a match's start and its keyword
	 * (AgPatternKeywordLeadBytes): back from the keyword over those alone.
	 */
	if (r->lead_walk)
	{
		const unsigned char *t = (const unsigned char *) sc->wintext;
		size_t		p = start;

		while (p > ws && IsLeadByte(r, t[p - 1]))
			p--;

		/*
		 * Fewer of them than every match holds (r->min_lead), the walk
		 * stopped by another byte or the text's start, not by the window:
		 * no match holds this keyword where its lead says ("[A-Z]{2}[0-9]{2}"
		 * and the digits of a year after a space).  Its matches, if any,
		 * hold another keyword, whose own hit opens their window.
		 */
		if (start - p < r->min_lead && (p == 0 || !IsLeadByte(r, t[p - 1])))
			return;
		ws = p;
	}

	if (n == 0)
		sc->touched[sc->ntouched++] = rule;
	else if (ws <= RuleWindow(sc, rule, n - 1)[WIN_LAST_KEYWORD] || n >= AG_WINDOW_LIMIT ||
			 (n >= AG_MAX_WINDOWS && MakeRoomForWindow(sc, rule, n) != 0))
	{
		/* overlaps the last window, or no room: extend it */
		w = RuleWindow(sc, rule, n - 1);
		if (we > w[WIN_END])
			w[WIN_END] = (uint32_t) we;
		if (start > w[WIN_LAST_KEYWORD])
			w[WIN_LAST_KEYWORD] = (uint32_t) start;
		return;
	}
	w = RuleWindow(sc, rule, n);
	w[WIN_START] = (uint32_t) ws;
	w[WIN_END] = (uint32_t) we;
	w[WIN_LAST_KEYWORD] = (uint32_t) start;
	sc->nwin[rule] = n + 1;
}

/* No windows yet, over text (the windows' text, for AddWindow). */
static void
ResetWindows(AgScanner *sc, const char *text, size_t len)
{
	for (int i = 0; i < sc->ntouched; i++)
		sc->nwin[sc->touched[i]] = 0;
	sc->ntouched = 0;
	sc->winlen = len;
	sc->wintext = text;
	sc->extra_known = -1;
}

/* Windows of text for every rule with a keyword in it. */
static void
CollectWindows(AgScanner *sc, const AgPrefilter *pf, const char *text,
			   size_t len)
{
	ResetWindows(sc, text, len);
	AgPrefilterScanHits(pf, text, len, AddWindow, sc);
}

/*
 * PCRE2 matches k caselessly with U+212A KELVIN SIGN and s with U+017F
 * LONG S (AgCaselessPartnerAt); the keyword prefilter folds ASCII case
 * only.  For a text that holds either, the prefilter reads a copy with each
 * written as its ASCII letter (sc->folded), and every hit is moved back
 * onto the text (sc->folded_at: the text's offset of each byte of the
 * copy, and of its end).  0, or -1 when out of memory.
 */
static int
FoldCaselessPartners(AgScanner *sc, const char *text, size_t len)
{
	size_t		n = 0;

	sc->folded.len = 0;
	if (AgBufReserve(&sc->folded, len + 1) != 0)
		return -1;
	if (sc->folded_cap < len + 1)
	{
		uint32_t   *at = realloc(sc->folded_at, (len + 1) * sizeof(uint32_t));

		if (at == NULL)
			return -1;
		sc->folded_at = at;
		sc->folded_cap = len + 1;
	}
	for (size_t i = 0; i < len; n++)
	{
		int			step = 1;
		char		letter = AgCaselessPartnerAt(text, len, i, &step);

		sc->folded_at[n] = (uint32_t) i;
		sc->folded.data[n] = letter ? letter : text[i];
		i += (size_t) step;
	}
	sc->folded_at[n] = (uint32_t) len;
	sc->folded.len = n;
	return 0;
}

/*
 * Rule i runs over the whole text: one window, from its start, a match
 * starting anywhere.
 */
static void
WholeTextWindow(AgScanner *sc, int i, size_t len)
{
	uint32_t   *w = RuleWindow(sc, i, 0);

	if (sc->nwin[i] == 0)
		sc->touched[sc->ntouched++] = i;
	w[WIN_START] = 0;
	w[WIN_END] = (uint32_t) len;
	w[WIN_LAST_KEYWORD] = (uint32_t) len;
	sc->nwin[i] = 1;
}

/* Prefilter callback over sc->folded: the hit, moved back onto the text. */
static void
AddWindowFolded(void *arg, int rule, size_t start, size_t end)
{
	AgScanner  *sc = (AgScanner *) arg;

	AddWindow(arg, rule, sc->folded_at[start], sc->folded_at[end]);
}

/*
 * The rules to run, in rule order: in naive mode every rule (t itself),
 * otherwise those with a window, sc->touched sorted once (SortTouched).
 * Walking 213 rules for the dozen with a window cost a response scan 3k
 * instructions; the order stays the rules' own, so findings come out as
 * before.
 */
static void
SortTouched(AgScanner *sc)
{
	for (int a = 1; a < sc->ntouched; a++)
	{
		int			v = sc->touched[a],
					b = a;

		for (; b > 0 && sc->touched[b - 1] > v; b--)
			sc->touched[b] = sc->touched[b - 1];
		sc->touched[b] = v;
	}
}

static inline int
RuleToRun(const AgScanner *sc, int t, int naive)
{
	return naive ? t : sc->touched[t];
}

/* Moves a byte offset back (or forward) to the start of a UTF-8 character. */
static size_t
CharStart(const char *text, size_t len, size_t off, int forward)
{
	if (forward)
		while (off < len && ((unsigned char) text[off] & 0xC0) == 0x80)
			off++;
	else
		while (off > 0 && off < len && ((unsigned char) text[off] & 0xC0) == 0x80)
			off--;
	return off;
}

/*
 * Window k of rule i as a byte range of text on character boundaries,
 * [*ws, *we), and pcre2's offset limit for it: its last keyword.
 */
static void
WindowRange(const AgScanner *sc, int i, uint32_t k, const char *text,
			size_t len, size_t *ws, size_t *we, PCRE2_SIZE *limit)
{
	const uint32_t *w = RuleWindow(sc, i, k);

	*ws = CharStart(text, len, w[WIN_START], 0);
	*we = CharStart(text, len, w[WIN_END], 1);
	*limit = w[WIN_LAST_KEYWORD];
}

/*
 * Can text[from..to) hold a match of rule r at all?  Not when it has fewer
 * digits than every match holds (AgPatternMinDigits): a year or a count
 * opens windows for every rule keyed on two digits, and most of those
 * rules need nine digits or more (a card number, an SSN, a phone number);
 * counting them costs less than a PCRE2 call.  The text tried is all a
 * match can use (the subject ends at to), so the answer is exact.
 */
static inline int
MayHoldMatch(const AgRule *r, const char *text, size_t from, size_t to)
{
	return r->min_digits == 0 ||
		AgCountDigits(text + from, to - from, r->min_digits) >= r->min_digits;
}

/*
 * First match of rule i in text: over the whole text in naive mode,
 * otherwise in the rule's keyword windows, in order, each tried only from
 * its start to its last keyword (pcre2's offset limit): a match starting
 * later would hold no keyword of the window, nor of a later one, which
 * lies beyond the window's end.  Returns pcre2's code.
 */
static int
FirstMatch(AgScanner *sc, int i, const char *text, size_t len, int naive)
{
	int			rc = PCRE2_ERROR_NOMATCH;

	if (naive)
	{
		pcre2_set_offset_limit(sc->mctx, PCRE2_UNSET);
		return MatchRule(sc, i, text, len, 0);
	}
	for (uint32_t k = 0; k < sc->nwin[i] && rc == PCRE2_ERROR_NOMATCH; k++)
	{
		size_t		ws,
					we;
		PCRE2_SIZE	limit;

		WindowRange(sc, i, k, text, len, &ws, &we, &limit);
		if (!MayHoldMatch(&sc->set->rules[i], text, ws, we))
			continue;
		pcre2_set_offset_limit(sc->mctx, limit);
		rc = MatchRule(sc, i, text, we, ws);
	}
	pcre2_set_offset_limit(sc->mctx, PCRE2_UNSET);
	return rc;
}

/* A rule that hits a match, depth or stack limit is skipped, not fatal. */
static inline int
IsLimitError(int rc)
{
	return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
		rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_HEAPLIMIT;
}

/* Any other matching error: report it with the rule's id; returns -1. */
static int
MatchError(const AgRule *r, int rc, char *errbuf, size_t errlen)
{
	PCRE2_UCHAR msg[128];

	pcre2_get_error_message(rc, msg, sizeof(msg));
	AgSetError(errbuf, errlen, "rule \"%s\" failed: %s", r->id, (const char *) msg);
	return -1;
}

static PendingFinding *
NewFinding(AgScanner *sc)
{
	if (sc->npend == sc->cappend)
	{
		int			cap = sc->cappend ? sc->cappend * 2 : 16;
		PendingFinding *p = realloc(sc->pend, cap * sizeof(PendingFinding));

		if (p == NULL)
			return NULL;
		sc->pend = p;
		sc->cappend = cap;
	}
	PendingFinding *f = &sc->pend[sc->npend++];

	memset(f, 0, sizeof(*f));
	f->details_off = sc->arena.len;
	return f;
}

/* Terminates the details text of the finding just built. */
static int
EndDetails(AgScanner *sc)
{
	return AgBufAppend(&sc->arena, "", 1);
}

/* Where does a finding over a payload come from: "", or a JSON member. */
typedef struct Origin
{
	const char *kind;			/* NULL: the text itself */
	size_t		src_start;		/* range of the payload in the source */
	size_t		src_end;
} Origin;

static int
AppendOrigin(AgScanner *sc, const Origin *o)
{
	if (o->kind == NULL)
		return 0;
	return AgBufAppendf(&sc->arena, ", \"decoded_from\": \"%s\"", o->kind);
}

static const char *
AlertTypeForRole(const AgRule *r, AgRole role)
{
	if (role == AG_ROLE_TOOL &&
		(r->family == AG_FAMILY_JAILBREAK || r->family == AG_FAMILY_RECON))
		return "indirect_prompt_injection";
	return r->alert_type;
}

/*
 * Scans one normalised text (sc->nt must hold it) with the rules and the
 * model.  src/srclen is the text the normalised one came from; when origin
 * names a payload, findings are placed on origin's source range instead.
 */
static int
ScanNormalized(AgScanner *sc, const char *src, size_t srclen, AgRole role,
			   const AgScanOptions *opts, const Origin *origin,
			   char *errbuf, size_t errlen)
{
	const AgRuleSet *set = sc->set;
	const char *norm = sc->nt.out.data;
	size_t		nlen = sc->nt.out.len;

	if (nlen == 0)
		return 0;
	if (!opts->naive)
	{
		CollectWindows(sc, set->prefilter, norm, nlen);
		SortTouched(sc);
	}

	/*
	 * A rule without a window is passed over unread: its AgRule, a few
	 * cache lines apart from the next one's, is seldom in cache on the
	 * INSERT path, and reading all 200 of them cost a prompt scan more
	 * cache misses than the keyword automaton.
	 */
	for (int t = 0; t < (opts->naive ? set->nrules : sc->ntouched); t++)
	{
		int			i = RuleToRun(sc, t, opts->naive);
		const AgRule *r = &set->rules[i];
		int			rc;

		if (r->raw || !(r->roles & AG_ROLE_MASK(role)))
			continue;
		rc = FirstMatch(sc, i, norm, nlen, opts->naive);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0)
		{
			/* a limit skips the rule: it never runs away */
			if (IsLimitError(rc))
				continue;
			return MatchError(r, rc, errbuf, errlen);
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
		PendingFinding *f = NewFinding(sc);

		if (f == NULL)
			goto oom;
		f->alert_type = AlertTypeForRole(r, role);
		f->rule_id = r->id;
		f->confidence = r->confidence;
		f->family = r->family;
		if (origin->kind)
		{
			f->start = origin->src_start;
			f->end = origin->src_end;
		}
		else
			AgNormMapRange(&sc->nt, src, srclen, ov[0], ov[1], &f->start, &f->end);
		if (AgBufAppendf(&sc->arena, "{\"rule\": ") != 0 ||
			AgBufAppendJsonString(&sc->arena, r->description,
								  strlen(r->description)) != 0 ||
			AppendOrigin(sc, origin) != 0 ||
			(sc->nt.changed_invisible &&
			 AgBufAppendStr(&sc->arena, ", \"invisible_characters\": true") != 0) ||
			(sc->nt.changed_confusable &&
			 AgBufAppendStr(&sc->arena, ", \"obfuscated\": true") != 0) ||
			AgBufAppend(&sc->arena, "}", 1) != 0 || EndDetails(sc) != 0)
			goto oom;
	}

	if (set->model && role != AG_ROLE_RESPONSE)
	{
		const AgModel *m = set->model;
		double		threshold = opts->model_threshold >= 0 ?
			opts->model_threshold : m->threshold;
		double		p;

		/*
		 * Buckets only; the spans of words and bigrams only for a text it
		 * reports (its top terms, AgModelTopTerms).  The model's gate was
		 * tuned for the model's own threshold: below it, every text gets
		 * the full model.
		 */
		if (AgModelScoreText(m, &sc->fv, norm, nlen,
							 !opts->no_model_gate && threshold >= m->threshold,
							 &p, NULL) != 0)
			goto oom;
		if (p >= threshold)
		{
			PendingFinding *f;
			size_t		top[3];
			int			ntop;

			if ((ntop = AgModelTopTerms(m, &sc->fv, norm, nlen, 3, top)) < 0 ||
				(f = NewFinding(sc)) == NULL)
				goto oom;
			f->alert_type = role == AG_ROLE_TOOL ?
				"indirect_prompt_injection" : "jailbreak_detected";
			f->rule_id = MODEL_RULE_ID;
			f->confidence = p;
			f->family = AG_FAMILY_JAILBREAK;
			f->from_model = 1;
			if (origin->kind)
			{
				f->start = origin->src_start;
				f->end = origin->src_end;
			}
			else
			{
				f->start = 0;
				f->end = srclen;
			}
			if (AgBufAppendf(&sc->arena, "{\"model\": \"%s\", \"score\": %.3f, \"top_terms\": [",
							 m->name, p) != 0)
				goto oom;
			for (int k = 0; k < ntop; k++)
			{
				const AgFeature *ft = &sc->fv.f[top[k]];

				if ((k > 0 && AgBufAppend(&sc->arena, ", ", 2) != 0) ||
					AgBufAppendJsonString(&sc->arena, norm + ft->off, ft->len) != 0)
					goto oom;
			}
			if (AgBufAppend(&sc->arena, "]", 1) != 0 ||
				AppendOrigin(sc, origin) != 0 ||
				AgBufAppend(&sc->arena, "}", 1) != 0 || EndDetails(sc) != 0)
				goto oom;
		}
	}
	return 0;

oom:
	AgSetError(errbuf, errlen, "out of memory");
	return -1;
}

#define MAX_MATCHES_PER_RULE 32

/*
 * text, from byte from on (its first invalid one), with every byte that
 * starts no valid UTF-8 sequence written as '?': the same length, so
 * offsets are the text's.  NULL when out of memory.
 */
static const char *
ValidUtf8Copy(AgScanner *sc, const char *text, size_t len, size_t from)
{
	const unsigned char *u = (const unsigned char *) text;

	sc->valid.len = 0;
	if (AgBufReserve(&sc->valid, len + 1) != 0)
		return NULL;
	memcpy(sc->valid.data, text, from);
	for (size_t i = from; i < len;)
	{
		int			n = AgUtf8ValidAt(u, len, i);

		if (n == 0)
			sc->valid.data[i++] = '?';
		else
		{
			memcpy(sc->valid.data + i, text + i, (size_t) n);
			i += (size_t) n;
		}
	}
	sc->valid.data[len] = '\0';
	sc->valid.len = len;
	return sc->valid.data;
}

/*
 * Secrets and personal data: raw rules over the original text, every match
 * (a response can leak several keys), each confirmed by the rule's
 * validators before it becomes a finding.
 */
static int
ScanRaw(AgScanner *sc, const char *text, size_t len, AgRole role,
		const AgScanOptions *opts, char *errbuf, size_t errlen)
{
	const AgRuleSet *set = sc->set;

	/* prompts have no raw rule (as shipped): no keyword scan for nothing */
	if (!(sc->raw_roles & AG_ROLE_MASK(role)))
		return 0;

	/*
	 * PCRE2 is told the text is valid UTF-8 (PCRE2_NO_UTF_CHECK), as
	 * PostgreSQL's text always is; a byte that is not would let it read
	 * past the end.  Unless the caller vouches for it (valid_utf8, the
	 * PostgreSQL glue), such bytes become '?' in a copy.
	 */
	size_t		valid = opts->valid_utf8 ? len : AgUtf8ValidPrefix(text, len);

	if (valid < len && (text = ValidUtf8Copy(sc, text, len, valid)) == NULL)
	{
		AgSetError(errbuf, errlen, "out of memory");
		return -1;
	}
	if (!opts->naive)
	{
		/*
		 * A keyword spelt with the Kelvin sign or the long s is a match to
		 * PCRE2: in the rare text that holds either (and only when a rule
		 * could care), the prefilter reads it with them folded to ASCII.
		 */
		if ((sc->partner_roles & AG_ROLE_MASK(role)) &&
			AgHoldsCaselessPartner(text, len) && len <= UINT32_MAX)
		{
			if (FoldCaselessPartners(sc, text, len) != 0)
			{
				AgSetError(errbuf, errlen, "out of memory");
				return -1;
			}
			ResetWindows(sc, text, len);
			AgPrefilterScanHits(set->raw_prefilter, sc->folded.data, sc->folded.len,
								AddWindowFolded, sc);
		}
		else
			CollectWindows(sc, set->raw_prefilter, text, len);
		for (int k = 0; k < sc->nwhole_text; k++)
			if (set->rules[sc->whole_text[k]].roles & AG_ROLE_MASK(role))
				WholeTextWindow(sc, sc->whole_text[k], len);
		SortTouched(sc);
	}
	/* the rules with a window, unread otherwise (see ScanNormalized) */
	for (int t = 0; t < (opts->naive ? set->nrules : sc->ntouched); t++)
	{
		int			i = RuleToRun(sc, t, opts->naive);
		uint32_t	nwin = opts->naive ? 1 : sc->nwin[i];
		const AgRule *r = &set->rules[i];
		PCRE2_SIZE	offset = 0;
		int			m = 0;
		int			stop = 0;

		if (!r->raw || !(r->roles & AG_ROLE_MASK(role)))
			continue;

		/*
		 * Every match in order, as over the whole text: window by window
		 * (the whole text in naive mode), each from its start, or the end
		 * of the last match, for matches that start at or before its last
		 * keyword (see FirstMatch).  A match in a window needs nothing
		 * beyond it (AgPatternReach); a rule of unknown reach has one
		 * window, from shortly before its first keyword to the end.
		 */
		for (uint32_t k = 0; k < nwin && !stop && m < MAX_MATCHES_PER_RULE; k++)
		{
			size_t		ws = 0,
						we = len;
			PCRE2_SIZE	limit = PCRE2_UNSET;

			if (!opts->naive)
				WindowRange(sc, i, k, text, len, &ws, &we, &limit);
			if (offset < ws)
				offset = ws;
			if (!opts->naive && offset <= we && !MayHoldMatch(r, text, offset, we))
				continue;
			pcre2_set_offset_limit(sc->mctx, limit);
			for (; m < MAX_MATCHES_PER_RULE && offset <= we; m++)
			{
				int			rc = MatchRule(sc, i, text, we, offset);
				PCRE2_SIZE *ov;
				size_t		vs,
							ve;

				if (rc == PCRE2_ERROR_NOMATCH)
					break;
				if (IsLimitError(rc))
				{
					stop = 1;	/* the rule is skipped from here on */
					break;
				}
				if (rc < 0)
					return MatchError(r, rc, errbuf, errlen);
				ov = pcre2_get_ovector_pointer(sc->md);
				/* next search starts after this match (at least one byte on) */
				offset = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
				while (offset < len && ((unsigned char) text[offset] & 0xC0) == 0x80)
					offset++;
				vs = ov[0];
				ve = ov[1];
				if (r->secret_group > 0 && rc > r->secret_group &&
					ov[2 * r->secret_group] != PCRE2_UNSET)
				{
					vs = ov[2 * r->secret_group];
					ve = ov[2 * r->secret_group + 1];
				}
				if (ve <= vs || !AgValidate(r->validators, r->nvalidators, text + vs, ve - vs))
					continue;

				PendingFinding *f = NewFinding(sc);

				if (f == NULL)
					goto oom;
				f->alert_type = r->alert_type;
				f->rule_id = r->id;
				f->confidence = r->confidence;
				f->start = ov[0];
				f->end = ov[1];
				f->data_type = r->data_type;
				f->value_start = vs;
				f->value_end = ve;
				if (AgBufAppendStr(&sc->arena, "{\"rule\": ") != 0 ||
					AgBufAppendJsonString(&sc->arena, r->description,
										  strlen(r->description)) != 0 ||
					(r->data_type &&
					 (AgBufAppendStr(&sc->arena, ", \"data_type\": ") != 0 ||
					  AgBufAppendJsonString(&sc->arena, r->data_type,
											strlen(r->data_type)) != 0)) ||
					AgBufAppend(&sc->arena, "}", 1) != 0 || EndDetails(sc) != 0)
					goto oom;
			}
		}
	}
	return 0;

oom:
	AgSetError(errbuf, errlen, "out of memory");
	return -1;
}

/*
 * Registered canaries in a response or tool output.  sc->nt holds the
 * normalised text; spaces are dropped too, so "B a t m a n" and
 * "bat man" both contain "batman".
 */
static int
ScanCanaries(AgScanner *sc, const char *text, size_t len)
{
	const AgRuleSet *set = sc->set;
	const AgNormText *nt = &sc->nt;
	size_t		n = 0;

	if (set->ncanaries == 0 || nt->out.len == 0)
		return 0;
	if (AgBufReserve(&sc->stripped, nt->out.len) != 0)
		return -1;
	if (sc->stripped_cap < nt->out.len)
	{
		uint32_t   *m = realloc(sc->stripped_map, nt->out.len * sizeof(uint32_t));

		if (m == NULL)
			return -1;
		sc->stripped_map = m;
		sc->stripped_cap = nt->out.len;
	}
	for (size_t i = 0; i < nt->out.len; i++)
		if (nt->out.data[i] != ' ')
		{
			sc->stripped.data[n] = nt->out.data[i];
			sc->stripped_map[n] = (uint32_t) i;
			n++;
		}
	sc->stripped.len = n;
	for (int c = 0; c < set->ncanaries; c++)
	{
		const AgCanary *cn = &set->canaries[c];
		const char *hit = memmem(sc->stripped.data, n, cn->needle, cn->len);

		if (hit == NULL)
			continue;
		size_t		ns = sc->stripped_map[hit - sc->stripped.data];
		size_t		ne = sc->stripped_map[hit - sc->stripped.data + cn->len - 1] + 1;
		PendingFinding *f = NewFinding(sc);

		if (f == NULL)
			return -1;
		f->alert_type = "instruction_leakage";
		f->rule_id = cn->id;
		f->confidence = 0.95;
		AgNormMapRange(nt, text, len, ns, ne, &f->start, &f->end);
		f->data_type = "canary";
		f->value_start = f->start;
		f->value_end = f->end;
		if (AgBufAppendStr(&sc->arena, "{\"rule\": \"Registered canary or secret appears in the text\", \"data_type\": \"canary\", \"canary\": ") != 0 ||
			AgBufAppendJsonString(&sc->arena, cn->id + 7, strlen(cn->id + 7)) != 0 ||
			AgBufAppend(&sc->arena, "}", 1) != 0 || EndDetails(sc) != 0)
			return -1;
	}
	return 0;
}

/*
 * A personal-data value inside a longer one of another kind is part of it,
 * not data of its own: the digits "0417 1643 01" of the IBAN "NL64 ABNA
 * 0417 1643 01" are not a phone number.  Such findings are dropped; values
 * of the same kind, or on the same span, all stay.
 */
static int
IsPersonalData(const PendingFinding *f)
{
	return f->data_type != NULL && strcmp(f->alert_type, "sensitive_data_exposure") == 0;
}

static void
DropPersonalDataInsideOthers(AgScanner *sc)
{
	int			w = 0,
				npersonal = 0;

	/* at most 32 matches per rule: the pairs stay few */
	for (int i = 0; i < sc->npend; i++)
		npersonal += IsPersonalData(&sc->pend[i]);
	if (npersonal < 2)
		return;
	/* every finding judged against all the others before any is dropped */
	for (int i = 0; i < sc->npend; i++)
	{
		PendingFinding *a = &sc->pend[i];

		if (IsPersonalData(a))
			for (int j = 0; j < sc->npend && !a->inside_other; j++)
			{
				const PendingFinding *b = &sc->pend[j];

				a->inside_other = j != i && IsPersonalData(b) &&
					strcmp(b->data_type, a->data_type) != 0 &&
					b->value_start <= a->value_start && a->value_end <= b->value_end &&
					b->value_end - b->value_start > a->value_end - a->value_start;
			}
	}
	for (int i = 0; i < sc->npend; i++)
		if (!sc->pend[i].inside_other)
			sc->pend[w++] = sc->pend[i];
	sc->npend = w;
}

/*
 * A request followed by token soup (ag_suffix.c), on the text as written:
 * its case and brackets are the evidence.  0, or -1 (no memory).
 */
static int
AddAdversarialSuffix(AgScanner *sc, const char *text, size_t len)
{
	AgSuffix	sx;
	PendingFinding *f;

	if (!AgFindAdversarialSuffix(text, len, &sx))
		return 0;
	if ((f = NewFinding(sc)) == NULL)
		return -1;
	f->alert_type = "jailbreak_detected";
	f->rule_id = SUFFIX_RULE_ID;
	f->confidence = 0.8;
	f->family = AG_FAMILY_JAILBREAK;
	f->start = sx.start;
	f->end = sx.end;
	if (AgBufAppendf(&sc->arena, "{\"rule\": \"Adversarial suffix: a request followed by token soup "
					 "(unmatched brackets, glued and garbled tokens)\", "
					 "\"unmatched_brackets\": %d, \"garbled_tokens\": %d}",
					 sx.unmatched, sx.garbled) != 0 || EndDetails(sc) != 0)
		return -1;
	return 0;
}

/* Reconnaissance that the model alone would call a jailbreak stays recon. */
static void
ApplyReconPolicy(AgScanner *sc)
{
	int			have_rule_jb = 0,
				have_recon = 0;
	int			w = 0;

	for (int i = 0; i < sc->npend; i++)
	{
		if (sc->pend[i].family == AG_FAMILY_JAILBREAK && !sc->pend[i].from_model)
			have_rule_jb = 1;
		if (sc->pend[i].family == AG_FAMILY_RECON)
			have_recon = 1;
	}
	if (have_rule_jb || !have_recon)
		return;
	for (int i = 0; i < sc->npend; i++)
	{
		if (sc->pend[i].from_model)
			continue;
		sc->pend[w++] = sc->pend[i];
	}
	sc->npend = w;
}

static int
CompareFindings(const void *a, const void *b)
{
	const AgFinding *x = a;
	const AgFinding *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->rule_id, y->rule_id);
}

/*
 * On the INSERT path the scanner's tables are seldom in cache, and the
 * steps that read them most, the keyword automaton and the model's gate,
 * read them wherever the text leads, each read waiting for the one before
 * or holding few in flight.  Asked for first (prefetches do not wait), the
 * gate's weights and the automaton's shallow states, where a text spends
 * most of its steps, arrive while the text is normalised and scanned for
 * hidden characters: with its caches emptied, a 2 KiB prompt scan took 5%
 * less time and a response scan 12% less (bench/bench_speed.c's "caches
 * cold" rows, which time both ways in turns).  A short text
 * (a user agent, a one-line prompt) visits too few states and words to
 * repay asking for all of them.
 */
#define PREFETCH_MIN_BYTES 512

static void
PrefetchTables(const AgScanner *sc, AgRole role)
{
	const AgRuleSet *set = sc->set;

	if (sc->raw_roles & AG_ROLE_MASK(role))
		AgPrefilterPrefetch(set->raw_prefilter);
	if (role == AG_ROLE_PROMPT || role == AG_ROLE_TOOL)
	{
		AgPrefilterPrefetch(set->prefilter);
		if (set->model)
			AgModelPrefetchGate(set->model);
	}
}

/*
 * Deceptive Unicode (ag_spoofing.c): one unicode_spoofing finding per kind
 * found, its rule id naming the kind.  0, or -1 when out of memory.
 */
static int
AddSpoofing(AgScanner *sc, const char *text, size_t len)
{
	static const char *const rule_ids[AG_SPOOF_KINDS] = {
		[AG_SPOOF_BIDI] = "unicode.bidi_override",
		[AG_SPOOF_LOOKALIKE] = "unicode.lookalike_letters",
		[AG_SPOOF_INVISIBLE] = "unicode.invisible_characters",
		[AG_SPOOF_STACKED_MARKS] = "unicode.stacked_marks",
	};
	AgSpoofing	sp;

	if (AgFindSpoofing(&sp, text, len) == 0)
		return 0;
	for (int k = 0; k < AG_SPOOF_KINDS; k++)
	{
		const AgSpoofHit *h = &sp.hit[k];
		PendingFinding *f;
		double		confidence;
		int			rc;

		if (h->count == 0)
			continue;
		if ((f = NewFinding(sc)) == NULL)
			return -1;
		switch (k)
		{
			case AG_SPOOF_BIDI:
				confidence = sp.reversed_executable ? 0.9 : sp.overrides > 0 ? 0.75 : 0.6;
				rc = AgBufAppendf(&sc->arena,
								  "{\"technique\": \"bidi_override\", \"count\": %d, \"overrides\": %d, "
								  "\"reversed_executable\": %s}", h->count, sp.overrides,
								  sp.reversed_executable ? "true" : "false");
				break;
			case AG_SPOOF_LOOKALIKE:
				confidence = h->count >= 2 ? 0.8 : 0.6;
				rc = AgBufAppendf(&sc->arena, "{\"technique\": \"lookalike_letters\", \"words\": %d, "
								  "\"reads_as\": ", h->count) ||
					AgBufAppendJsonString(&sc->arena, sp.reads_as, sp.reads_as_len) ||
					AgBufAppend(&sc->arena, "}", 1);
				break;
			case AG_SPOOF_INVISIBLE:
				confidence = 0.6;
				rc = AgBufAppendf(&sc->arena,
								  "{\"technique\": \"invisible_characters\", \"count\": %d, "
								  "\"longest_run\": %d, \"inside_words\": %d}", h->count,
								  sp.longest_invisible_run, sp.invisible_in_words);
				break;
			default:
				confidence = 0.5;
				rc = AgBufAppendf(&sc->arena,
								  "{\"technique\": \"stacked_marks\", \"count\": %d, \"most_marks\": %d}",
								  h->count, sp.stacked_marks_most);
				break;
		}
		f->alert_type = "unicode_spoofing";
		f->rule_id = rule_ids[k];
		f->confidence = confidence;
		f->start = h->start;
		f->end = h->end;
		if (rc != 0 || EndDetails(sc) != 0)
			return -1;
	}
	return 0;
}

int
AgScan(AgScanner *sc, const char *text, size_t len, AgRole role,
	   const AgScanOptions *opts, const AgFinding **findings,
	   char *errbuf, size_t errlen)
{
	static const AgScanOptions defaults = {0, -1.0, 0, 0, 0};
	Origin		plain = {NULL, 0, 0};
	int			smuggled;

	if (opts == NULL)
		opts = &defaults;
	sc->npend = 0;
	sc->arena.len = 0;
	*findings = NULL;
	if ((int) role < 0 || role >= AG_ROLE_COUNT)
	{
		AgSetError(errbuf, errlen, "unknown role %d", (int) role);
		return -1;
	}
	if (!opts->no_prefetch && len >= PREFETCH_MIN_BYTES)
		PrefetchTables(sc, role);

	/* 1. hidden tag characters */
	smuggled = AgFindSmuggling(&sc->sm, text, len);
	if (smuggled < 0)
		goto oom;
	if (smuggled)
	{
		PendingFinding *f = NewFinding(sc);

		if (f == NULL)
			goto oom;
		f->alert_type = "ascii_smuggling";
		f->rule_id = SMUGGLING_RULE_ID;
		f->confidence = sc->sm.hidden.len >= 3 ? 0.95 : 0.6;
		f->start = sc->sm.start;
		f->end = sc->sm.end;
		if (AgBufAppendf(&sc->arena, "{\"hidden_characters\": %d, \"hidden_text\": ",
						 sc->sm.ntags) != 0 ||
			AgBufAppendJsonString(&sc->arena, sc->sm.hidden.data,
								  sc->sm.hidden.len) != 0 ||
			AgBufAppend(&sc->arena, "}", 1) != 0 || EndDetails(sc) != 0)
			goto oom;
	}

	/* 1b. text disguised from its human reader */
	if (role != AG_ROLE_USER_AGENT && AddSpoofing(sc, text, len) != 0)
		goto oom;

	/* 2. secrets and personal data, on the original text */
	if (ScanRaw(sc, text, len, role, opts, errbuf, errlen) != 0)
		return -1;
	DropPersonalDataInsideOthers(sc);

	/* 3. registered canaries in what the model or a tool produced */
	if ((role == AG_ROLE_RESPONSE || role == AG_ROLE_TOOL) && sc->set->ncanaries > 0)
	{
		if (AgNormalize(&sc->nt, text, len) != 0 || ScanCanaries(sc, text, len) != 0)
			goto oom;
	}

	if (role == AG_ROLE_PROMPT || role == AG_ROLE_TOOL)
	{
		/* 4. jailbreaks: the text itself */
		if (AgNormalize(&sc->nt, text, len) != 0)
			goto oom;
		if (ScanNormalized(sc, text, len, role, opts, &plain, errbuf, errlen) != 0)
			return -1;
		if (role == AG_ROLE_PROMPT && AddAdversarialSuffix(sc, text, len) != 0)
			goto oom;

		int			nplain = sc->npend; /* findings on the text as it is */
		int			names_rot13 = AgNamesRot13(text, len);

		/* encoded payloads */
		int			nseg = AgFindEncodedRuns(&sc->dec, text, len);

		if (nseg < 0)
			goto oom;
		for (int s = 0; s < nseg; s++)
		{
			const AgDecodedSegment *seg = &sc->dec.seg[s];
			Origin		o = {seg->kind, seg->src_start, seg->src_end};

			if (AgNormalize(&sc->nt, sc->dec.buf.data + seg->off, seg->len) != 0)
				goto oom;
			if (ScanNormalized(sc, sc->dec.buf.data + seg->off, seg->len, role,
							   opts, &o, errbuf, errlen) != 0)
				return -1;
		}

		/* the hidden text of a smuggling attempt */
		if (smuggled && sc->sm.hidden.len > 0)
		{
			Origin		o = {"unicode_tags", sc->sm.start, sc->sm.end};

			if (AgNormalize(&sc->nt, sc->sm.hidden.data, sc->sm.hidden.len) != 0)
				goto oom;
			if (ScanNormalized(sc, sc->sm.hidden.data, sc->sm.hidden.len, role,
							   opts, &o, errbuf, errlen) != 0)
				return -1;
		}
		/*
		 * written backwards or upside down (a rule found it), or in ROT13
		 * (the text names it, or a rule found attack words in it): read it
		 * the right way round, findings placed on the whole text
		 */
		for (int t = 0; t < 3; t++)
		{
			static const char *const rule_ids[] = {REVERSED_RULE_ID, UPSIDE_DOWN_RULE_ID, ROT13_RULE_ID};
			static const char *const kinds[] = {"reversed", "upside_down", "rot13"};
			Origin		o = {kinds[t], 0, len};
			int			found = t == 2 && names_rot13;

			for (int i = 0; i < nplain && !found; i++)
				found = strcmp(sc->pend[i].rule_id, rule_ids[t]) == 0;
			if (!found)
				continue;
			if ((t == 0 ? AgTurnReversed(&sc->turned, text, len) :
				 t == 1 ? AgTurnUpsideDown(&sc->turned, text, len) :
				 AgTurnRot13(&sc->turned, text, len)) != 0 ||
				AgNormalize(&sc->nt, sc->turned.data, sc->turned.len) != 0)
				goto oom;
			int			before = sc->npend;

			if (ScanNormalized(sc, sc->turned.data, sc->turned.len, role,
							   opts, &o, errbuf, errlen) != 0)
				return -1;
			/*
			 * the rule that reads attack words in ROT13 reads them in any
			 * plain text turned: in the turned reading, not a finding
			 */
			int			kept = before;

			for (int i = before; i < sc->npend; i++)
				if (strcmp(sc->pend[i].rule_id, ROT13_RULE_ID) != 0)
					sc->pend[kept++] = sc->pend[i];
			sc->npend = kept;
		}
		ApplyReconPolicy(sc);
	}

	/* publish: details pointers are stable now that the arena is done */
	if (sc->npend > sc->capout)
	{
		AgFinding  *o = realloc(sc->out, sc->npend * sizeof(AgFinding));

		if (o == NULL)
			goto oom;
		sc->out = o;
		sc->capout = sc->npend;
	}
	for (int i = 0; i < sc->npend; i++)
	{
		const PendingFinding *p = &sc->pend[i];
		AgFinding  *f = &sc->out[i];

		f->alert_type = p->alert_type;
		f->rule_id = p->rule_id;
		f->confidence = p->confidence;
		f->start = p->start;
		f->end = p->end;
		f->details = sc->arena.data + p->details_off;
		f->data_type = p->data_type;
		f->value_start = p->data_type ? p->value_start : p->start;
		f->value_end = p->data_type ? p->value_end : p->end;
	}
	if (sc->npend > 1)
		qsort(sc->out, sc->npend, sizeof(AgFinding), CompareFindings);
	*findings = sc->out;
	return sc->npend;

oom:
	AgSetError(errbuf, errlen, "out of memory");
	return -1;
}
