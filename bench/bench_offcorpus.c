/*
 * bench_offcorpus.c
 *	  False alarms of the jailbreak detectors on benign text unlike the
 *	  corpus: source code, markup, configuration, SQL.  The corpus' benign
 *	  prompts are English requests, so a model tuned on it is never told
 *	  that a page of C or HTML is not an attack, yet users paste code into
 *	  prompts every day and tools return HTML and JSON.
 *
 *	  bench_offcorpus MODEL RULEFILE... < list
 *
 * Each input line is "KIND<TAB>PATH" (bench/bench_offcorpus.sh builds the
 * list from files a Debian machine has).  Each file gives up to three
 * texts of at most 2 KiB, cut at line ends (ForEachFilePiece); each is
 * scanned as a prompt and as a tool output.  Prints, per kind, how many
 * texts raised jailbreak_detected (as a prompt) or
 * indirect_prompt_injection (as a tool output), and how many of those the
 * model raised; and, scanned as a model's response (answers are full of
 * code), how many raised credential_theft or sensitive_data_exposure.
 * Flagged texts' openings and response findings are shown, a few per kind.
 * Every URL in the texts gets the lexical phishing score, as the trigger
 * gives a URL no list knows; those at or above the threshold are shown.
 * Kind "one_line" is a question followed by a few lines of each code or
 * markup piece run together on one line (QuestionWithSnippet).  Nothing here is
 * trained on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_corpus.h"
#include "ag_url.h"
#include "ag_load_rules.h"
#include "ag_util.h"

#define MAX_KINDS 32
#define SHOW 3

typedef struct Kind
{
	char		name[32];
	long		texts;
	long		prompt_flagged;
	long		prompt_model;
	long		tool_flagged;
	long		tool_model;
	long		resp_cred;		/* as a response: credential_theft */
	long		resp_pii;		/* ... sensitive_data_exposure */
	long		urls;			/* URLs in the texts */
	long		urls_flagged;	/* ... at or above the lexical phishing threshold */
	int			shown;
	int			shown_resp;
} Kind;

/* Whether a scan of text as role raised type; *model: by the model. */
static int
Raised(AgScanner *sc, const char *text, size_t len, AgRole role,
	   const char *type, int *model)
{
	const AgFinding *f;
	char		err[256];
	int			n = AgScan(sc, text, len, role, NULL, &f, err, sizeof(err));
	int			hit = 0;

	*model = 0;
	for (int i = 0; i < n; i++)
		if (strcmp(f[i].alert_type, type) == 0)
		{
			hit = 1;
			*model |= strcmp(f[i].rule_id, "model.jailbreak") == 0;
		}
	return hit;
}

/*
 * Questions for QuestionWithSnippet: not those tools/ag_train.c trains with,
 * which it asks about the other half of the files.
 */
static const char *const questions[] = {
	"Please convert this to Python:", "What does this line do?",
	"Why does this fail", "Can you explain this code:", "Fix the bug here:",
	"Is this correct?", "Rewrite this more idiomatically:",
	"How can I make this faster:", "Explain step by step:",
	"I get a syntax error on this line:",
	"My teacher gave us this snippet, what is wrong with it?",
	"Translate to JavaScript please:",
};

/*
 * A question and one to five lines of the piece, from a line picked by a
 * hash of it, run together on one line (at most 300 bytes of code): how a
 * snippet is pasted into a chat.  A request followed by one line of code
 * is what a machine-made adversarial suffix looks like to the model's
 * token statistics.  Returns the length written to out.
 */
static size_t
QuestionWithSnippet(const char *text, size_t len, char *out, size_t outlen)
{
	uint64_t	h = AgFnv1a(AG_FNV_OFFSET, text, len);
	const char *q = questions[h % (sizeof(questions) / sizeof(questions[0]))];
	int			skip = (int) ((h >> 8) % 16);
	int			want = 1 + (int) ((h >> 16) % 5);
	size_t		i = 0,
				n;

	/* from the start of the skip-th line, if the piece has that many */
	for (size_t j = 0; j < len && skip > 0; j++)
		if (text[j] == '\n' && j + 1 < len)
		{
			i = j + 1;
			skip--;
		}
	n = OneLineSnippet(q, text, len, i, want, 300, out, outlen);
	return n;
}

typedef struct Tally
{
	AgScanner  *sc;
	AgUrlList	urls;
	Kind		kinds[MAX_KINDS];
	int			nkinds;
} Tally;

static void
ScanPiece(const char *kind, const char *path, const char *text, size_t len, void *arg)
{
	Tally	   *t = (Tally *) arg;
	Kind	   *k = NULL;
	int			mp,
				mt,
				fp,
				ft;

	for (int i = 0; i < t->nkinds; i++)
		if (strcmp(t->kinds[i].name, kind) == 0)
			k = &t->kinds[i];
	if (k == NULL)
	{
		if (t->nkinds == MAX_KINDS)
			return;
		k = &t->kinds[t->nkinds++];
		memset(k, 0, sizeof(*k));
		snprintf(k->name, sizeof(k->name), "%.31s", kind);
	}
	k->texts++;
	fp = Raised(t->sc, text, len, AG_ROLE_PROMPT, "jailbreak_detected", &mp);
	ft = Raised(t->sc, text, len, AG_ROLE_TOOL, "indirect_prompt_injection", &mt);
	k->prompt_flagged += fp;
	k->prompt_model += fp && mp;
	k->tool_flagged += ft;
	k->tool_model += ft && mt;
	if ((fp || ft) && k->shown < SHOW)
	{
		k->shown++;
		printf("  flagged %s %s: %.*s\n", k->name, path, (int) (len < 70 ? len : 70), text);
	}

	/* as a model's response (code in answers): secrets and personal data */
	{
		const AgFinding *f;
		char		err[256];
		int			n = AgScan(t->sc, text, len, AG_ROLE_RESPONSE, NULL, &f, err, sizeof(err));
		int			cred = 0,
					pii = 0;

		for (int i = 0; i < n; i++)
		{
			int			c = strcmp(f[i].alert_type, "credential_theft") == 0;
			int			p = strcmp(f[i].alert_type, "sensitive_data_exposure") == 0;

			cred |= c;
			pii |= p;
			if ((c || p) && k->shown_resp < SHOW)
			{
				k->shown_resp++;
				printf("  response finding %s %s: %s %.*s\n", k->name, path, f[i].rule_id,
					   (int) (f[i].end - f[i].start < 60 ? f[i].end - f[i].start : 60),
					   text + f[i].start);
			}
		}
		k->resp_cred += cred;
		k->resp_pii += pii;
	}

	/* URLs in benign files (links to projects, bug trackers, archives) */
	if (strcmp(kind, "one_line") != 0)
	{
		int			nu = AgUrlExtract(&t->urls, text, len);

		for (int i = 0; i < nu; i++)
		{
			AgUrlRisk	risk;

			k->urls++;
			if (AgUrlLexicalRisk(&t->urls.urls[i], &risk) >= AG_URL_RISK_THRESHOLD)
			{
				k->urls_flagged++;
				printf("  URL flagged %s %s: %.2f %s (%s)\n", k->name, path, risk.score,
					   t->urls.urls[i].url, risk.nreasons ? risk.reasons[0] : "-");
			}
		}
	}

	if (strcmp(kind, "doc_text") != 0 && strcmp(kind, "one_line") != 0)
	{
		char		snippet[512];
		size_t		n = QuestionWithSnippet(text, len, snippet, sizeof(snippet));

		ScanPiece("one_line", path, snippet, n, arg);
	}
}

int
main(int argc, char **argv)
{
	static Tally t;
	AgRuleSet  *set = NULL;
	AgRuleFile *files;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s MODEL RULEFILE... < list of KIND<TAB>PATH\n", argv[0]);
		return 2;
	}
	files = calloc(argc - 2, sizeof(AgRuleFile));
	if (LoadRuleFiles(argv[1], argv + 2, argc - 2, files, &set) != 0)
		return 1;
	t.sc = AgScannerCreate(set);
	if (ForEachFilePiece("-", ScanPiece, &t) < 0)
		return 1;
	printf("\n%-10s %6s %24s %24s %18s %18s\n", "kind", "texts", "as prompt: jailbreak",
		   "as tool: injection", "response: secret", "response: PII");
	long		urls = 0,
				urls_flagged = 0;

	for (int i = 0; i < t.nkinds; i++)
	{
		Kind	   *k = &t.kinds[i];

		urls += k->urls;
		urls_flagged += k->urls_flagged;

		printf("%-10s %6ld %6ld %5.1f%% (%ld model) %6ld %5.1f%% (%ld model) %10ld %5.1f%% %10ld %5.1f%%\n",
			   k->name, k->texts,
			   k->prompt_flagged, 100.0 * k->prompt_flagged / k->texts, k->prompt_model,
			   k->tool_flagged, 100.0 * k->tool_flagged / k->texts, k->tool_model,
			   k->resp_cred, 100.0 * k->resp_cred / k->texts,
			   k->resp_pii, 100.0 * k->resp_pii / k->texts);
	}
	printf("\nURLs in these texts flagged by the lexical phishing score (no list): %ld of %ld\n",
		   urls_flagged, urls);
	AgUrlListFree(&t.urls);
	AgScannerFree(t.sc);
	AgRuleSetFree(set);
	return 0;
}
