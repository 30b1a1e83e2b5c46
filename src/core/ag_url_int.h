/*
 * ag_url_int.h
 *	  Internals shared by the URL files of the core (not for the glue).
 */
#ifndef AG_URL_INT_H
#define AG_URL_INT_H

#include <stddef.h>

/* How a top-level domain may be used for scheme-less hosts. */
typedef enum AgTldKind
{
	AG_TLD_UNKNOWN = 0,
	AG_TLD_KNOWN = 1,			/* bare "host.tld" is a URL */
	AG_TLD_AMBIGUOUS = 2		/* also a file extension, code member or word:
								 * needs a path, a hyphen or a digit */
} AgTldKind;

/* tld[0..len) in any case. */
extern AgTldKind AgUrlTldKind(const char *tld, size_t len);

/* Lowercase TLD among those most abused for phishing (Spamhaus, Interisle). */
extern int	AgUrlTldAbused(const char *tld, size_t len);

/* "co", "com", "ac"...: second level of ccTLDs sold to the public. */
extern int	AgUrlIsSecondLevelSuffix(const char *label, size_t len);

#endif							/* AG_URL_INT_H */
