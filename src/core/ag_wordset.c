/*
 * ag_wordset.c
 *	  Short-word sets indexed by first byte (see ag_wordset.h).
 */
#include "ag_wordset.h"

#include <string.h>

static int
LowerAscii(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The words of the list after the first AG_WORDSET_MAX: where they start. */
static const char *
OverflowStart(const AgWordSet *ws)
{
	return ws->list + ws->rest;
}

/*
 * Next word of a list at *p; 0 at the end.  Empty words and words longer
 * than AG_WORDSET_MAX_WORD are no words.
 */
static int
NextWord(const char **p, const char **word, size_t *len)
{
	for (;;)
	{
		while (**p == ',')
			(*p)++;
		if (**p == '\0')
			return 0;
		*word = *p;
		while (**p != '\0' && **p != ',')
			(*p)++;
		*len = (size_t) (*p - *word);
		if (*len <= AG_WORDSET_MAX_WORD)
			return 1;
	}
}

/* Is word[0..wl) equal to text[0..len) with the letters of text in any case? */
static int
SameWord(const char *word, size_t wl, const char *text, size_t len)
{
	if (wl != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (word[i] != LowerAscii((unsigned char) text[i]))
			return 0;
	return 1;
}

/* The filter bit of a word (or text) starting with bytes a b. */
static inline unsigned
PairBit(unsigned char a, unsigned char b)
{
	return (((unsigned) a << 5) ^ b) & (AG_WORDSET_PAIR_BITS - 1);
}

static void
Build(AgWordSet *ws)
{
	const char *p = ws->list;
	const char *w;
	size_t		wl;
	uint16_t	count[257];
	int			n = 0;

	memset(count, 0, sizeof(count));
	while (n < AG_WORDSET_MAX && NextWord(&p, &w, &wl))
	{
		ws->off[n] = (uint32_t) (w - ws->list);
		ws->len[n] = (uint8_t) wl;
		ws->token[n] = ws->tokens != NULL &&
			AgWordSetFind((AgWordSet *) ws->tokens, w, wl) >= 0;
		count[(unsigned char) w[0]]++;
		if (wl == 1)
			ws->one_byte = 1;
		else
		{
			unsigned	bit = PairBit((unsigned char) w[0], (unsigned char) w[1]);

			ws->pairs[bit / 8] |= (uint8_t) (1u << (bit % 8));
		}
		n++;
	}
	ws->rest = (uint32_t) (p - ws->list);
	ws->overflow = NextWord(&p, &w, &wl);
	ws->n = n;
	/* counting sort by first byte, in word order within each bucket */
	ws->bucket[0] = 0;
	for (int b = 0; b < 256; b++)
		ws->bucket[b + 1] = ws->bucket[b] + count[b];
	memset(count, 0, sizeof(count));
	for (int k = 0; k < n; k++)
	{
		unsigned char b = (unsigned char) ws->list[ws->off[k]];

		ws->order[ws->bucket[b] + count[b]++] = (uint16_t) k;
	}
	__atomic_store_n(&ws->built, 1, __ATOMIC_RELEASE);
}

static inline void
EnsureBuilt(AgWordSet *ws)
{
	if (!__atomic_load_n(&ws->built, __ATOMIC_ACQUIRE))
		Build(ws);
}

int
AgWordSetFind(AgWordSet *ws, const char *word, size_t len)
{
	if (len == 0 || len > AG_WORDSET_MAX_WORD)
		return -1;
	EnsureBuilt(ws);

	unsigned char b = (unsigned char) LowerAscii((unsigned char) word[0]);

	for (int j = ws->bucket[b]; j < ws->bucket[b + 1]; j++)
	{
		int			k = ws->order[j];

		if (SameWord(ws->list + ws->off[k], ws->len[k], word, len))
			return k;
	}
	if (ws->overflow)
	{
		const char *p = OverflowStart(ws);
		const char *w;
		size_t		wl;

		for (int k = AG_WORDSET_MAX; NextWord(&p, &w, &wl); k++)
			if (SameWord(w, wl, word, len))
				return k;
	}
	return -1;
}

const char *
AgWordSetWord(AgWordSet *ws, int k, size_t *len)
{
	EnsureBuilt(ws);
	if (k >= 0 && k < ws->n)
	{
		*len = ws->len[k];
		return ws->list + ws->off[k];
	}
	if (k >= AG_WORDSET_MAX && ws->overflow)
	{
		const char *p = OverflowStart(ws);
		const char *w;
		size_t		wl;

		for (int i = AG_WORDSET_MAX; NextWord(&p, &w, &wl); i++)
			if (i == k)
			{
				*len = wl;
				return w;
			}
	}
	*len = 0;
	return NULL;
}

static inline int
IsLower(const char *text, size_t len, size_t i)
{
	return i < len && text[i] >= 'a' && text[i] <= 'z';
}

/*
 * Does word w (wl bytes) occur at text[i..] with its token rule?  Short
 * words: compared here, byte by byte, rather than by a call.
 */
static inline int
OccursAt(const char *text, size_t len, size_t i, const char *w, size_t wl, int token)
{
	if (wl > len - i)
		return 0;
	for (size_t k = 0; k < wl; k++)
		if (text[i + k] != w[k])
			return 0;
	return !token || ((i == 0 || !IsLower(text, len, i - 1)) && !IsLower(text, len, i + wl));
}

int
AgWordSetCountIn(AgWordSet *ws, const char *text, size_t len, int all_tokens,
				 int first)
{
	uint64_t	seen[(AG_WORDSET_MAX + 63) / 64] = {0};
	int			found = 0;

	EnsureBuilt(ws);
	for (size_t i = 0; i < len; i++)
	{
		unsigned char b = (unsigned char) text[i];

		/* most places start no word: two bytes and one bit say so */
		if (!ws->one_byte)
		{
			unsigned	bit;

			if (i + 1 == len)
				break;
			bit = PairBit(b, (unsigned char) text[i + 1]);
			if (!(ws->pairs[bit / 8] & (1u << (bit % 8))))
				continue;
		}

		for (int j = ws->bucket[b]; j < ws->bucket[b + 1]; j++)
		{
			int			k = ws->order[j];

			if (seen[k / 64] & (UINT64_C(1) << (k % 64)))
				continue;
			if (!OccursAt(text, len, i, ws->list + ws->off[k], ws->len[k],
						  all_tokens || ws->token[k]))
				continue;
			if (first)
				return 1;
			seen[k / 64] |= UINT64_C(1) << (k % 64);
			found++;
		}
	}
	if (ws->overflow)
	{
		const char *p = OverflowStart(ws);
		const char *w;
		size_t		wl;

		while (NextWord(&p, &w, &wl))
		{
			int			token = all_tokens || (ws->tokens != NULL &&
											   AgWordSetFind((AgWordSet *) ws->tokens, w, wl) >= 0);

			for (size_t i = 0; i < len; i++)
				if (OccursAt(text, len, i, w, wl, token))
				{
					if (first)
						return 1;
					found++;
					break;
				}
		}
	}
	return found;
}
