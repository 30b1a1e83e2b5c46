/*
 * ag_decode.h
 *	  Finds base64, hex and percent-encoded runs in text and decodes those
 *	  that hold readable text, so hidden payloads get scanned too.
 */
#ifndef AG_DECODE_H
#define AG_DECODE_H

#include <stddef.h>

#include "ag_util.h"

#define AG_MAX_DECODED_SEGMENTS 16

typedef struct AgDecodedSegment
{
	size_t		src_start;		/* encoded run in the source text */
	size_t		src_end;
	const char *kind;			/* "base64", "hex", "percent" */
	size_t		off;			/* decoded bytes in AgDecoded.buf */
	size_t		len;
} AgDecodedSegment;

typedef struct AgDecoded
{
	AgBuf		buf;
	AgDecodedSegment seg[AG_MAX_DECODED_SEGMENTS];
	int			nseg;
} AgDecoded;

/* Fills dec with the readable decoded runs of text; returns count or -1. */
extern int	AgFindEncodedRuns(AgDecoded *dec, const char *text, size_t len);
extern void AgDecodedFree(AgDecoded *dec);

#endif							/* AG_DECODE_H */
