/*
 * ag_validate.h
 *	  Validators that confirm a candidate secret or personal-data value
 *	  found by a rule's pattern: checksums, structure, entropy, and
 *	  rejection of placeholders and documentation examples.
 */
#ifndef AG_VALIDATE_H
#define AG_VALIDATE_H

#include <stddef.h>

#define AG_MAX_VALIDATORS 6

typedef enum AgValidatorKind
{
	AG_VALID_LUHN = 1,			/* payment card numbers */
	AG_VALID_IBAN,				/* country length + ISO 7064 mod 97 */
	AG_VALID_SSN,				/* US SSN area/group/serial rules */
	AG_VALID_GITHUB_CHECKSUM,	/* CRC32 in the last 6 chars of gh*_ tokens */
	AG_VALID_ENTROPY,			/* Shannon entropy >= param bits/char */
	AG_VALID_NO_PLACEHOLDER,	/* not xxxx, EXAMPLE, your-key-here, ... */
	AG_VALID_MIXED,				/* letters and digits both present */
	AG_VALID_JWT,				/* header decodes to JSON with "alg" */
	AG_VALID_PHONE,				/* 7..15 digits, not one repeated digit */
	AG_VALID_PUBLIC_IP,			/* routable unicast IPv4/IPv6 */
	AG_VALID_PERSONAL_EMAIL,	/* not a role or list address */
	AG_VALID_NOT_TEST_CARD,		/* not a payment provider's published test number */
	AG_VALID_NOT_EXAMPLE_IBAN,	/* not a documentation example IBAN */
	AG_VALID_NOT_VERSION_LIKE	/* not a dotted quad of small numbers */
} AgValidatorKind;

typedef struct AgValidator
{
	AgValidatorKind kind;
	double		param;
} AgValidator;

/*
 * Parses "luhn, entropy(3.5), no_placeholder" into out (at most
 * AG_MAX_VALIDATORS); returns the count or -1 with a message.
 */
extern int	AgParseValidators(const char *spec, AgValidator *out,
							  char *errbuf, size_t errlen);

/* 1 if value passes every validator. */
extern int	AgValidate(const AgValidator *v, int n, const char *value,
					   size_t len);

/* Individual checks, exported for tests. */
extern int	AgLuhnValid(const char *s, size_t len);
extern int	AgIbanValid(const char *s, size_t len);
extern int	AgSsnValid(const char *s, size_t len);
extern int	AgGithubChecksumValid(const char *s, size_t len);
extern double AgShannonEntropy(const char *s, size_t len);
extern int	AgLooksLikePlaceholder(const char *s, size_t len);
extern int	AgEmailIsRoleAddress(const char *s, size_t len);
extern int	AgIsTestCardNumber(const char *s, size_t len);
/* A routable unicast IPv4 or IPv6 address (not private, loopback, documentation...). */
extern int	AgPublicIpValid(const char *s, size_t len);
extern int	AgIsExampleIban(const char *s, size_t len);
/* An IPv4 dotted quad that reads as a version or section number. */
extern int	AgIsVersionLikeQuad(const char *s, size_t len);

#endif							/* AG_VALIDATE_H */
