/*
 * ag_digest.h
 *	  SHA-256 of a text, as the backend's crypto library computes it.
 */
#ifndef AG_DIGEST_H
#define AG_DIGEST_H

#include "common/sha2.h"

#define AG_SHA256_HEX_LEN (PG_SHA256_DIGEST_LENGTH * 2)

/* SHA-256 of data[0..len) as lower-case hex into hex (AG_SHA256_HEX_LEN + 1 bytes) */
extern void AgSha256Hex(const char *data, size_t len, char *hex);

#endif
