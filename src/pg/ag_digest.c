/*
 * ag_digest.c
 *	  SHA-256 of a text, as the backend's crypto library computes it.
 *
 * A gateway's row carries the conversation so far, and every message of it
 * is hashed (ag_protect.c: the key of the texts known clean, and of a
 * message's alerts).  PostgreSQL's pg_cryptohash_init, with OpenSSL 3,
 * looks the digest up by name every time (EVP_DigestInit_ex with
 * EVP_sha256() fetches it from the provider): about 5,000 instructions a
 * message, as much as hashing 600 bytes.  With OpenSSL, which PostgreSQL
 * links anyway when built with it (USE_OPENSSL), the digest is fetched
 * once per backend and one context is used again; otherwise
 * pg_cryptohash does the work.
 */
#include "postgres.h"

#include "ag_digest.h"

#include "common/cryptohash.h"
#include "utils/builtins.h"

#ifdef USE_OPENSSL
#include <openssl/err.h>
#include <openssl/evp.h>
#endif

static void
DigestFailed(const char *why)
{
#ifdef USE_OPENSSL
	ERR_clear_error();			/* (what OpenSSL queued is not ours to keep) */
#endif
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not compute a SHA-256 digest: %s", why)));
}

void
AgSha256Hex(const char *data, size_t len, char *hex)
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

#ifdef USE_OPENSSL
	/* kept for the backend's life: made once, reset by every init */
	static EVP_MD *sha256 = NULL;
	static EVP_MD_CTX *ctx = NULL;
	unsigned int outlen = 0;

	if (sha256 == NULL)
	{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
		sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
		sha256 = (EVP_MD *) EVP_sha256();
#endif
		if (sha256 == NULL)
			DigestFailed("OpenSSL has no SHA-256");
	}
#if OPENSSL_VERSION_NUMBER >= 0x10100000L
	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
#else
	if (ctx == NULL && (ctx = EVP_MD_CTX_create()) == NULL)
#endif
		DigestFailed("out of memory");
	if (EVP_DigestInit_ex(ctx, sha256, NULL) != 1 ||
		EVP_DigestUpdate(ctx, data, len) != 1 ||
		EVP_DigestFinal_ex(ctx, digest, &outlen) != 1 ||
		outlen != sizeof(digest))
		DigestFailed("OpenSSL failed");
#else
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		DigestFailed(pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
#endif
	hex_encode((const char *) digest, sizeof(digest), hex);
	hex[AG_SHA256_HEX_LEN] = '\0';
}
