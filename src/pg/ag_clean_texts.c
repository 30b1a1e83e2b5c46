/*
 * ag_clean_texts.c
 *	  Texts this backend has scanned and found clean.
 *
 * A gateway logs every request with the whole conversation so far (an
 * OpenAI-style message list), so turn k of a chat holds the user's k
 * messages, k - 1 of which an earlier request already carried: scanning
 * them all again makes a conversation cost quadratic in its length.  What
 * a scan of a user message or a tool output finds depends only on its
 * text, its role, the catalog (rules, model, canaries, indicators) and
 * aiguard.max_scan_bytes, so a text found clean stays clean while those
 * stay the same.  Only clean results are kept: a text with a finding is
 * always scanned again, so an alert whose first insert rolled back is
 * raised by the next request carrying the text, and nothing kept here can
 * hide one.  (Responses are not kept: whether a response's URL is the
 * model's own depends on the conversation.)
 *
 * Keyed on the text's SHA-256 (no one can make a malicious text that
 * collides with a clean one, as MD5 would allow), direct-mapped by its
 * first hex digits; an entry is valid for the catalog generation it was
 * made in, and the catalog is rebuilt whenever a rule, the model, a canary
 * or an indicator changes.
 *
 * The most recent clean texts are also kept verbatim (below): the next
 * request of a conversation repeats them as its history, and comparing
 * their bytes costs far less than hashing them, which such a text then
 * needs not.
 */
#include "postgres.h"

#include "ag_clean_texts.h"

#include "utils/memutils.h"

#include "ag_digest.h"
#include "ag_guc.h"

/* What a clean verdict held for: the catalog, the role, the scan limit. */
typedef struct Verdict
{
	uint64		generation;		/* 0: none */
	int			max_scan_bytes;
	AgRole		role;
} Verdict;

static bool
VerdictHolds(const Verdict *v, const AgCatalog *cat, AgRole role)
{
	return v->generation == cat->generation && v->role == role &&
		v->max_scan_bytes == aiguard_max_scan_bytes;
}

static void
SetVerdict(Verdict *v, const AgCatalog *cat, AgRole role)
{
	v->generation = cat->generation;
	v->role = role;
	v->max_scan_bytes = aiguard_max_scan_bytes;
}

#define CLEAN_TEXT_SLOTS 4096

typedef struct CleanText
{
	Verdict		verdict;
	char		digest[AG_SHA256_HEX_LEN + 1];
} CleanText;

static CleanText clean_texts[CLEAN_TEXT_SLOTS];

static CleanText *
Slot(const char *hex)
{
	uint32		h = 0;

	/* the hex digits of a SHA-256 are as good as any hash of them */
	for (int i = 0; i < 8; i++)
		h = (h << 4) | (uint32) (hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
	return &clean_texts[h % CLEAN_TEXT_SLOTS];
}

bool
AgTextKnownClean(const AgCatalog *cat, AgRole role, const char *sha256hex)
{
	CleanText  *e = Slot(sha256hex);

	return VerdictHolds(&e->verdict, cat, role) && strcmp(e->digest, sha256hex) == 0;
}

void
AgRememberCleanText(const AgCatalog *cat, AgRole role, const char *sha256hex)
{
	CleanText  *e = Slot(sha256hex);

	SetVerdict(&e->verdict, cat, role);
	strlcpy(e->digest, sha256hex, sizeof(e->digest));
}

/*
 * The last RECENT_TEXTS clean texts of at most RECENT_TEXT_MAX bytes, as
 * they are (at most 512 KiB, in TopMemoryContext), with what their verdict
 * held for; a text is found here only if every byte is the same.
 */
#define RECENT_TEXTS 64
#define RECENT_TEXT_MAX 8192

typedef struct RecentText
{
	Verdict		verdict;
	size_t		len;			/* 0: empty */
	char	   *text;
} RecentText;

static RecentText recent_texts[RECENT_TEXTS];
static int	recent_next;

bool
AgTextRecentlyClean(const AgCatalog *cat, AgRole role, const char *text, size_t len)
{
	for (int i = 0; i < RECENT_TEXTS; i++)
	{
		const RecentText *e = &recent_texts[i];

		if (e->len == len && VerdictHolds(&e->verdict, cat, role) &&
			memcmp(e->text, text, len) == 0)
			return true;
	}
	return false;
}

void
AgRememberRecentlyClean(const AgCatalog *cat, AgRole role, const char *text, size_t len)
{
	RecentText *e;
	char	   *copy;

	if (len == 0 || len > RECENT_TEXT_MAX)
		return;
	/* (copied before the old copy is freed: running out of memory leaves it whole) */
	copy = MemoryContextAlloc(TopMemoryContext, len);
	memcpy(copy, text, len);
	e = &recent_texts[recent_next];
	recent_next = (recent_next + 1) % RECENT_TEXTS;
	if (e->text != NULL)
		pfree(e->text);
	e->text = copy;
	e->len = len;
	SetVerdict(&e->verdict, cat, role);
}
