/*
 * ag_corpus.h
 *	  Loading labelled prompts from ../shared/corpus for training and the
 *	  quality benchmark.
 */
#ifndef AG_CORPUS_H
#define AG_CORPUS_H

#include <stddef.h>

#include "ag_util.h"

typedef struct CorpusDoc
{
	char	   *text;
	size_t		len;
	char	   *label;
	char	   *source_file;	/* e.g. "jailbreak/tensortrust_hijacking.jsonl" */
	char	   *line;			/* the whole JSON line, for extra members */
} CorpusDoc;

typedef struct Corpus
{
	CorpusDoc  *docs;
	size_t		n;
	size_t		cap;
} Corpus;

/* Appends every line of dir/sub/ *.jsonl (sorted by name); -1 on error. */
extern int	CorpusLoadFolder(Corpus *c, const char *dir, const char *sub);
extern void CorpusFree(Corpus *c);

/*
 * The benchmarks' benign pieces: the texts of the corpus's benign/ folder
 * end to end, each followed by a line break, appended to out; and the
 * length of the piece at off, at most BENIGN_PIECE_BYTES and ending on a
 * whole UTF-8 character.
 */
#define BENIGN_PIECE_BYTES 2048
extern void CorpusBenignText(const Corpus *c, AgBuf *out);
extern size_t BenignPieceLen(const AgBuf *text, size_t off);

/*
 * Fills out with copies of text[0..len) up to size bytes, cut back to end
 * on a whole UTF-8 character (the benchmarks' one large document).
 */
extern void CorpusRepeatText(AgBuf *out, const char *text, size_t len, size_t size);

/*
 * Benign text from files ("KIND<TAB>PATH" lines, see
 * tools/negatives/debian_code.sh): up to FILE_PIECES pieces of at most
 * FILE_PIECE_BYTES per file, cut at line ends; pieces shorter than 64
 * bytes or holding a NUL byte are skipped.  Calls fn(kind, path, text,
 * len, arg) for each; returns the number of pieces, -1 when the list
 * cannot be read.
 */
#define FILE_PIECES 3
#define FILE_PIECE_BYTES 2048
typedef void (*FilePieceFn) (const char *kind, const char *path,
							 const char *text, size_t len, void *arg);
extern long ForEachFilePiece(const char *list_path, FilePieceFn fn, void *arg);

/*
 * A question about a snippet, as people paste one into a chat: question,
 * a space, then up to lines lines of text from byte from run together on
 * one line (line breaks, tabs and runs of blanks as one space; at most
 * max_code bytes of them).  Writes it to out (outlen bytes, NUL-terminated)
 * and returns its length.
 */
/*
 * The probe sets' convention for a multi-line document written on one
 * line: each backslash-n in text[0..len) becomes a line break, in place.
 * Returns the new length (text is NUL-terminated there when it shrank).
 */
extern size_t ProbeLineBreaks(char *text, size_t len);

extern size_t OneLineSnippet(const char *question, const char *text, size_t len,
							 size_t from, int lines, size_t max_code,
							 char *out, size_t outlen);

#endif
