/*
 * ag_validate.c
 *	  Confirmation of candidate secrets and personal data.
 *
 * A pattern finds what looks like a card number or a token; these checks
 * decide whether it is one.  Checksums (Luhn, IBAN mod 97, GitHub's CRC32)
 * reject random digit runs; entropy rejects "aaaaaaaa" and "12345678";
 * the placeholder check rejects documentation examples and templates.
 */
#include "ag_validate.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_util.h"

static const struct
{
	const char *name;
	AgValidatorKind kind;
	int			has_param;
}			validator_names[] = {
	{"luhn", AG_VALID_LUHN, 0},
	{"iban", AG_VALID_IBAN, 0},
	{"ssn", AG_VALID_SSN, 0},
	{"github_checksum", AG_VALID_GITHUB_CHECKSUM, 0},
	{"entropy", AG_VALID_ENTROPY, 1},
	{"no_placeholder", AG_VALID_NO_PLACEHOLDER, 0},
	{"mixed", AG_VALID_MIXED, 0},
	{"jwt", AG_VALID_JWT, 0},
	{"phone", AG_VALID_PHONE, 0},
	{"public_ip", AG_VALID_PUBLIC_IP, 0},
	{"personal_email", AG_VALID_PERSONAL_EMAIL, 0},
	{"not_test_card", AG_VALID_NOT_TEST_CARD, 0},
	{"not_example_iban", AG_VALID_NOT_EXAMPLE_IBAN, 0},
	{"not_version_like", AG_VALID_NOT_VERSION_LIKE, 0},
};

int
AgParseValidators(const char *spec, AgValidator *out, char *errbuf,
				  size_t errlen)
{
	int			n = 0;
	const char *p = spec;

	while (*p)
	{
		char		name[64];
		size_t		k = 0;
		double		param = 0;
		int			found = 0;

		while (*p == ' ' || *p == ',' || *p == '|')
			p++;
		if (*p == '\0')
			break;
		while (*p && (isalnum((unsigned char) *p) || *p == '_') && k < sizeof(name) - 1)
			name[k++] = *p++;
		name[k] = '\0';
		if (*p == '(')
		{
			char	   *end;

			param = strtod(p + 1, &end);
			if (*end != ')')
			{
				AgSetError(errbuf, errlen, "validator \"%s\": expected a number in parentheses", name);
				return -1;
			}
			p = end + 1;
		}
		if (k == 0)
		{
			AgSetError(errbuf, errlen, "bad validator list \"%s\"", spec);
			return -1;
		}
		for (size_t i = 0; i < sizeof(validator_names) / sizeof(validator_names[0]); i++)
			if (strcmp(validator_names[i].name, name) == 0)
			{
				if (n >= AG_MAX_VALIDATORS)
				{
					AgSetError(errbuf, errlen, "at most %d validators per rule", AG_MAX_VALIDATORS);
					return -1;
				}
				if (validator_names[i].has_param && param <= 0)
				{
					AgSetError(errbuf, errlen, "validator \"%s\" needs a parameter, e.g. %s(3.0)", name, name);
					return -1;
				}
				out[n].kind = validator_names[i].kind;
				out[n].param = param;
				n++;
				found = 1;
				break;
			}
		if (!found)
		{
			AgSetError(errbuf, errlen, "unknown validator \"%s\"", name);
			return -1;
		}
	}
	return n;
}

/* Copies the digits of s into out (at most outlen-1); returns how many. */
static size_t
Digits(const char *s, size_t len, char *out, size_t outlen)
{
	size_t		n = 0;

	for (size_t i = 0; i < len && n + 1 < outlen; i++)
		if (isdigit((unsigned char) s[i]))
			out[n++] = s[i];
	out[n] = '\0';
	return n;
}

int
AgLuhnValid(const char *s, size_t len)
{
	char		d[32];
	size_t		n = Digits(s, len, d, sizeof(d));
	int			sum = 0;

	if (n < 12 || n > 19)
		return 0;
	for (size_t i = 0; i < n; i++)
	{
		int			v = d[n - 1 - i] - '0';

		if (i % 2 == 1)
		{
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	/* all one digit passes Luhn for some lengths; never a real card */
	int			same = 1;

	for (size_t i = 1; i < n; i++)
		same &= d[i] == d[0];
	return sum % 10 == 0 && !same;
}

static const struct
{
	const char	cc[3];
	int			len;
}			iban_lengths[] = {
	{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20},
	{"BE", 16}, {"BG", 22}, {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21},
	{"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"DO", 28},
	{"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27},
	{"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28},
	{"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
	{"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
	{"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24},
	{"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18},
	{"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29},
	{"RO", 24}, {"RS", 22}, {"SA", 24}, {"SC", 31}, {"SE", 24}, {"SI", 19},
	{"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24},
	{"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

int
AgIbanValid(const char *s, size_t len)
{
	char		c[40];
	size_t		n = 0;
	int			want = 0;
	unsigned	rem = 0;

	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == ' ' || s[i] == '-')
			continue;
		if (!isalnum((unsigned char) s[i]) || n >= sizeof(c) - 1)
			return 0;
		c[n++] = (char) toupper((unsigned char) s[i]);
	}
	c[n] = '\0';
	if (n < 15 || !isalpha((unsigned char) c[0]) || !isalpha((unsigned char) c[1]) ||
		!isdigit((unsigned char) c[2]) || !isdigit((unsigned char) c[3]))
		return 0;
	for (size_t i = 0; i < sizeof(iban_lengths) / sizeof(iban_lengths[0]); i++)
		if (c[0] == iban_lengths[i].cc[0] && c[1] == iban_lengths[i].cc[1])
			want = iban_lengths[i].len;
	if (want == 0 || (size_t) want != n)
		return 0;
	/* move the first four characters to the end, letters to numbers */
	for (size_t k = 0; k < n; k++)
	{
		char		ch = c[(k + 4) % n];

		if (isdigit((unsigned char) ch))
			rem = (rem * 10 + (unsigned) (ch - '0')) % 97;
		else
			rem = (rem * 100 + (unsigned) (ch - 'A' + 10)) % 97;
	}
	return rem == 1;
}

int
AgSsnValid(const char *s, size_t len)
{
	char		d[16];
	size_t		n = Digits(s, len, d, sizeof(d));
	int			area,
				group,
				serial;

	if (n != 9)
		return 0;
	area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	group = (d[3] - '0') * 10 + (d[4] - '0');
	serial = atoi(d + 5);
	if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
		return 0;
	/* numbers published in advertising and by the SSA as examples */
	if (strcmp(d, "078051120") == 0 || strcmp(d, "219099999") == 0 ||
		strcmp(d, "123456789") == 0)
		return 0;
	return 1;
}

static uint32_t
Crc32(const unsigned char *p, size_t len)
{
	uint32_t	crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++)
	{
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

int
AgGithubChecksumValid(const char *s, size_t len)
{
	static const char b62[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	const char *us = memchr(s, '_', len);
	char		enc[7];
	uint32_t	crc;

	/* ghp_ + 30 random + 6 checksum */
	if (us == NULL || (size_t) (s + len - (us + 1)) != 36)
		return 0;
	crc = Crc32((const unsigned char *) us + 1, 30);
	for (int i = 5; i >= 0; i--)
	{
		enc[i] = b62[crc % 62];
		crc /= 62;
	}
	enc[6] = '\0';
	return memcmp(enc, us + 31, 6) == 0;
}

double
AgShannonEntropy(const char *s, size_t len)
{
	int			counts[256] = {0};
	double		h = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		counts[(unsigned char) s[i]]++;
	for (int c = 0; c < 256; c++)
		if (counts[c])
		{
			double		p = (double) counts[c] / len;

			h -= p * log2(p);
		}
	return h;
}

/* Case-insensitive substring search within s[0..len). */
static int
ContainsCI(const char *s, size_t len, const char *needle)
{
	size_t		nl = strlen(needle);

	for (size_t i = 0; i + nl <= len; i++)
	{
		size_t		k = 0;

		while (k < nl && tolower((unsigned char) s[i + k]) == needle[k])
			k++;
		if (k == nl)
			return 1;
	}
	return 0;
}

/*
 * True when "here" ends a word in s: "key_here", "TokenHere", "GOES-HERE".
 * A bare substring test also rejected real values that merely contain the
 * letters ("sphere7", "thereafter", "...wHEREx7..." inside a random token).
 */
static int
EndsWordHere(const char *s, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++)
	{
		if (tolower((unsigned char) s[i]) != 'h' ||
			tolower((unsigned char) s[i + 1]) != 'e' ||
			tolower((unsigned char) s[i + 2]) != 'r' ||
			tolower((unsigned char) s[i + 3]) != 'e')
			continue;
		if (i + 4 == len || !isalnum((unsigned char) s[i + 4]))
			return 1;
	}
	return 0;
}

/*
 * A name in square brackets standing for the value, as documentation and
 * issue reports write it: "[PASSWORD]", "neo4j:[password]", "[YOUR_TOKEN]".
 * Letters, '_', '-' and spaces only, at least three letters, and either in
 * capitals or naming what goes there, so that a real password holding a
 * bracket ("x[Ab]k9", "[9f2]") is not taken for one.
 */
static int
HasBracketedName(const char *s, size_t len)
{
	static const char *const names[] = {
		"pass", "pwd", "token", "key", "secret", "user", "your", "name", NULL
	};

	for (const char *open = memchr(s, '[', len); open != NULL;
		 open = memchr(open + 1, '[', len - (size_t) (open + 1 - s)))
	{
		const char *p = open + 1;
		int			letters = 0,
					lower = 0;

		for (; p < s + len && (isalpha((unsigned char) *p) || *p == '_' ||
							   *p == '-' || *p == ' '); p++)
		{
			letters += isalpha((unsigned char) *p) != 0;
			lower += islower((unsigned char) *p) != 0;
		}
		if (p >= s + len || *p != ']' || letters < 3)
			continue;
		if (lower == 0)
			return 1;
		for (int i = 0; names[i]; i++)
			if (ContainsCI(open + 1, (size_t) (p - open - 1), names[i]))
				return 1;
	}
	return 0;
}

int
AgLooksLikePlaceholder(const char *s, size_t len)
{
	/*
	 * Substrings that mark a template or documentation value: "$(" is shell
	 * command substitution, "a1b2c3", "abc123", "qwerty" and "asdf" are the
	 * keyboard fillers of hand-made examples (a random token contains one
	 * with negligible probability).  Deliberately absent: "123456" (real
	 * passwords such as "Summer123456" contain it; each rule's length and
	 * entropy limits judge short digit runs), "<" and ">" alone (real
	 * passwords and JWT secrets contain them; a template "<...>" is caught
	 * below) and "here" as a bare substring (see EndsWordHere).
	 */
	static const char *const words[] = {
		"example", "sample", "placeholder", "your_", "your-", "yourkey",
		"insert", "replace", "changeme", "change_me", "redacted", "dummy",
		"xxxx", "****", "....", "${", "{{", "$(", "%s", "todo", "fixme",
		"abcdef", "1234567890", "000000", "foobar", "lorem", "put_",
		"not_a_real", "notreal", "fake", "test_key", "testkey", "secret_key_",
		"a1b2c3", "abc123", "qwerty", "asdf",
		NULL
	};
	int			run = 1,
				maxrun = 1;
	const char *lt;

	for (int i = 0; words[i]; i++)
		if (ContainsCI(s, len, words[i]))
			return 1;
	if (EndsWordHere(s, len))
		return 1;
	/* "<your token>", "<TOKEN>": an opening bracket closed later on */
	lt = memchr(s, '<', len);
	if (lt != NULL && memchr(lt, '>', len - (lt - s)) != NULL)
		return 1;
	if (HasBracketedName(s, len))
		return 1;
	/* a value that is only a bracketed name: "<token", "key>" */
	if (len > 0 && (s[0] == '<' || s[len - 1] == '>'))
		return 1;
	/* long runs of one character: "aaaaaaaa", "00000000" */
	for (size_t i = 1; i < len; i++)
	{
		run = s[i] == s[i - 1] ? run + 1 : 1;
		if (run > maxrun)
			maxrun = run;
	}
	return maxrun >= 6;
}

/*
 * Whether an e-mail address belongs to a function, a list or a machine
 * rather than to a person: personal data is about a natural person, and
 * the addresses a response quotes from code, documentation and licences
 * (bug-bash@gnu.org, perl5-porters@perl.org, noreply@...) are not.  The
 * local part (before '@', case-insensitive) is a role word, or a role
 * word joined to something by '-', '_' or '.' (bug-bash, python-devel,
 * security.team), or begins with "no-reply" / "noreply" / "donotreply".
 * A sub-address (after '+': jane.doe+news) is the owner's own tag and
 * does not count.
 */
int
AgEmailIsRoleAddress(const char *s, size_t len)
{
	static const char *const roles[] = {
		"abuse", "admin", "administrator", "announce", "billing", "bug", "bugs",
		"careers", "contact", "devel", "discuss", "feedback", "help",
		"helpdesk", "hostmaster", "info", "jobs", "legal", "list", "lists",
		"maintainers", "mailer-daemon", "marketing", "news", "newsletter",
		"noc", "notifications", "office", "owner", "porters", "postmaster",
		"press", "privacy", "request", "root", "sales", "security", "submit",
		"support", "team", "users", "webmaster",
		NULL
	};
	const char *at = memchr(s, '@', len);
	char		local[65];
	size_t		n;

	if (at == NULL || (n = (size_t) (at - s)) == 0 || n >= sizeof(local))
		return 0;
	{
		const char *plus = memchr(s, '+', n);

		if (plus != NULL && plus > s)
			n = (size_t) (plus - s);
	}
	for (size_t i = 0; i < n; i++)
		local[i] = (char) tolower((unsigned char) s[i]);
	local[n] = '\0';
	if (strncmp(local, "noreply", 7) == 0 || strncmp(local, "no-reply", 8) == 0 ||
		strncmp(local, "no_reply", 8) == 0 || strncmp(local, "donotreply", 10) == 0 ||
		strncmp(local, "do-not-reply", 12) == 0)
		return 1;
	/* each piece between separators: is one of them a role word? */
	for (size_t start = 0; start < n;)
	{
		size_t		end = start;

		while (end < n && local[end] != '-' && local[end] != '_' && local[end] != '.')
			end++;
		for (int r = 0; roles[r]; r++)
			if (strlen(roles[r]) == end - start &&
				memcmp(local + start, roles[r], end - start) == 0)
				return 1;
		start = end + 1;
	}
	return 0;
}

/*
 * Whether a card number (digits, any separators) is one of the test
 * numbers payment providers publish for developers (Stripe, Braintree,
 * Adyen, PayPal and card-scheme documentation): they pass Luhn and fill
 * every answer about payment integration, and belong to no one.  Like
 * AKIAIOSFODNN7EXAMPLE for AWS keys, a documentation value, not a leak.
 */
int
AgIsTestCardNumber(const char *s, size_t len)
{
	static const char *const test_numbers[] = {
		"4242424242424242", "4000056655665556", "4000002500003155",
		"4000000000000002", "4000000000009995", "4000000000000077",
		"4000000000000341", "4000000000003220", "4000002760003184",
		"4111111111111111", "4012888888881881", "4222222222222",
		"4005519200000004", "4009348888881881", "4012000033330026",
		"4012000077777777", "4217651111111119", "4500600000000061",
		"4917610000000000", "4444333322221111",
		"5555555555554444", "2223003122003222", "5200828282828210",
		"5105105105105100", "5454545454545454", "5431111111111111",
		"2223000048400011",
		"378282246310005", "371449635398431", "378734493671000",
		"6011111111111117", "6011000990139424", "6011000400000000",
		"3056930009020004", "36227206271667", "30569309025904",
		"38520000023237", "3566002020360505", "3530111333300000",
		"6200000000000005", "6759649826438453", "6304000000000000",
		NULL
	};
	char		d[32];

	Digits(s, len, d, sizeof(d));
	for (int i = 0; test_numbers[i]; i++)
		if (strcmp(d, test_numbers[i]) == 0)
			return 1;
	return 0;
}

/*
 * Whether an IBAN (any spacing or case) is one of the examples of the
 * SWIFT IBAN registry and the usual references (GB82 WEST 1234 5698 7654
 * 32, DE89 3704 0044 0532 0130 00...): they pass mod 97 and appear in
 * every answer about IBAN validation, and belong to no one.
 */
int
AgIsExampleIban(const char *s, size_t len)
{
	static const char *const examples[] = {
		"GB82WEST12345698765432", "GB29NWBK60161331926819",
		"DE89370400440532013000", "FR1420041010050500013M02606",
		"ES9121000418450200051332", "IT60X0542811101000000123456",
		"NL91ABNA0417164300", "BE68539007547034", "CH9300762011623852957",
		"AT611904300234573201", "PL61109010140000071219812874",
		"SE4550000000058398257466", "DK5000400440116243", "NO9386011117947",
		"FI2112345600000785", "IE29AIBK93115212345678",
		"PT50000201231234567890154", "LU280019400644750000",
		"GR1601101250000000012300695", "CZ6508000000192000145399",
		"HU42117730161111101800000000", "RO49AAAA1B31007593840000",
		"SA0380000000608010167519", "AE070331234567890123456",
		"TR330006100519786457841326", "BG80BNBG96611020345678",
		"HR1210010051863000160", "SK3112000000198742637541",
		"SI56263300012039086", "LT121000011101001000", "LV80BANK0000435195001",
		"EE382200221020145685", "IS140159260076545510730339",
		"MT84MALT011000012345MTLCAST001S", "CY17002001280000001200527600",
		NULL
	};
	char		c[40];
	size_t		n = 0;

	for (size_t i = 0; i < len && n + 1 < sizeof(c); i++)
		if (isalnum((unsigned char) s[i]))
			c[n++] = (char) toupper((unsigned char) s[i]);
	c[n] = '\0';
	for (int i = 0; examples[i]; i++)
		if (strcmp(c, examples[i]) == 0)
			return 1;
	return 0;
}

static int
IsMixed(const char *s, size_t len)
{
	int			alpha = 0,
				digit = 0;

	for (size_t i = 0; i < len; i++)
	{
		alpha |= isalpha((unsigned char) s[i]) != 0;
		digit |= isdigit((unsigned char) s[i]) != 0;
	}
	return alpha && digit;
}

static int
JwtHeaderValid(const char *s, size_t len)
{
	const char *dot = memchr(s, '.', len);
	char		dec[256];
	size_t		n = 0;
	uint32_t	acc = 0;
	int			bits = 0;

	if (dot == NULL || dot - s < 10)
		return 0;
	for (const char *p = s; p < dot && n < sizeof(dec) - 1; p++)
	{
		int			v;
		char		c = *p;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '-' || c == '+')
			v = 62;
		else if (c == '_' || c == '/')
			v = 63;
		else
			return 0;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			dec[n++] = (char) ((acc >> bits) & 0xFF);
		}
	}
	dec[n] = '\0';
	if (dec[0] != '{' || strstr(dec, "\"alg\"") == NULL)
		return 0;

	/*
	 * No signature after the second dot: a real token only when its header
	 * says so (alg "none", which a server that accepts it lets anyone
	 * forge); otherwise it is a signed token with its signature cut off.
	 */
	if (s[len - 1] == '.')
		return ContainsCI(dec, n, "\"none\"");
	return 1;
}

static int
PhoneValid(const char *s, size_t len)
{
	char		d[32];
	size_t		n;
	int			same = 1;
	const char *national = d;
	size_t		nn;

	/*
	 * The number without its extension ("x12", "ext. 12"): E.164 allows it
	 * 15 digits, the extension comes on top (001-804-917-0317x974).
	 */
	for (size_t i = 0; i < len; i++)
		if (s[i] == 'x' || s[i] == 'X' || s[i] == 'e')
		{
			len = i;
			break;
		}
	n = Digits(s, len, d, sizeof(d));
	if (n < 7 || n > 15)
		return 0;
	for (size_t i = 1; i < n; i++)
		same &= d[i] == d[0];
	if (same)
		return 0;
	nn = n;

	/*
	 * Toll-free numbers are a business's by design, not a person's: the
	 * North American 800, 833, 844, 855, 866, 877 and 888 (ten digits, or
	 * eleven after the country code 1) and UK freephone 0800 / 0808 (or
	 * 44 800 / 44 808).  A support bot gives its own all day.
	 */
	if (n == 11 && d[0] == '1')
		national = d + 1, nn = 10;
	if (nn == 10 && national[0] == '8' && national[1] == national[2] &&
		strchr("0345678", national[1]) != NULL)
		return 0;

	/*
	 * North American numbers that reach no one: area code 555 is not in
	 * service, and 555-0100 to 555-0199 are reserved for fiction; both are
	 * what example and generated contact details are written with.
	 */
	if (nn == 10 && (strncmp(national, "555", 3) == 0 ||
					 strncmp(national + 3, "55501", 5) == 0))
		return 0;
	if ((n >= 10 && n <= 11 && (strncmp(d, "0800", 4) == 0 || strncmp(d, "0808", 4) == 0)) ||
		(n >= 11 && n <= 12 && (strncmp(d, "44800", 5) == 0 || strncmp(d, "44808", 5) == 0)))
		return 0;
	return 1;
}

int
AgPublicIpValid(const char *s, size_t len)
{
	unsigned	a[4];
	char		buf[64];

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (memchr(buf, ':', len))
	{
		/* IPv6: reject loopback, link-local, unique-local, documentation */
		if (strcmp(buf, "::1") == 0 || strncasecmp(buf, "fe80", 4) == 0 ||
			strncasecmp(buf, "fc", 2) == 0 || strncasecmp(buf, "fd", 2) == 0 ||
			strncasecmp(buf, "2001:db8", 8) == 0 || strncmp(buf, "::", 2) == 0)
			return 0;
		return 1;
	}
	if (sscanf(buf, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]) != 4)
		return 0;
	for (int i = 0; i < 4; i++)
		if (a[i] > 255)
			return 0;
	if (a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||
		(a[0] == 169 && a[1] == 254) || (a[0] == 172 && a[1] >= 16 && a[1] <= 31) ||
		(a[0] == 192 && a[1] == 168) || (a[0] == 100 && a[1] >= 64 && a[1] <= 127) ||
		(a[0] == 192 && a[1] == 0 && a[2] == 2) ||
		(a[0] == 198 && a[1] == 51 && a[2] == 100) ||
		(a[0] == 203 && a[1] == 0 && a[2] == 113))
		return 0;
	return 1;
}

/*
 * A dotted quad whose four numbers are all under VERSION_PART_LIMIT is far
 * more often a version or a section number than an address: "Git
 * 1.8.1.1", "kernel 2.6.23.1", a C++ header's "// 23.3.1.1", "Section
 * 4.10.22.7", "numpy==1.24.3.1".  Of public addresses drawn at random,
 * about 1 in 1,500 looks like that (a first number under 40 of 223, and
 * three under 40 of 256: 0.17 x 0.0038).
 */
#define VERSION_PART_LIMIT 40

int
AgIsVersionLikeQuad(const char *s, size_t len)
{
	int			parts = 0;
	unsigned	value = 0;
	int			digits = 0;

	for (size_t i = 0; i <= len; i++)
	{
		if (i == len || s[i] == '.')
		{
			if (digits == 0 || value >= VERSION_PART_LIMIT)
				return 0;
			parts++;
			value = 0;
			digits = 0;
		}
		else if (s[i] >= '0' && s[i] <= '9' && digits < 4)
		{
			value = value * 10 + (unsigned) (s[i] - '0');
			digits++;
		}
		else
			return 0;
	}
	return parts == 4;
}

int
AgValidate(const AgValidator *v, int n, const char *value, size_t len)
{
	for (int i = 0; i < n; i++)
	{
		int			ok = 1;

		switch (v[i].kind)
		{
			case AG_VALID_LUHN:
				ok = AgLuhnValid(value, len);
				break;
			case AG_VALID_IBAN:
				ok = AgIbanValid(value, len);
				break;
			case AG_VALID_SSN:
				ok = AgSsnValid(value, len);
				break;
			case AG_VALID_GITHUB_CHECKSUM:
				ok = AgGithubChecksumValid(value, len);
				break;
			case AG_VALID_ENTROPY:
				ok = AgShannonEntropy(value, len) >= v[i].param;
				break;
			case AG_VALID_NO_PLACEHOLDER:
				ok = !AgLooksLikePlaceholder(value, len);
				break;
			case AG_VALID_MIXED:
				ok = IsMixed(value, len);
				break;
			case AG_VALID_JWT:
				ok = JwtHeaderValid(value, len);
				break;
			case AG_VALID_PHONE:
				ok = PhoneValid(value, len);
				break;
			case AG_VALID_PUBLIC_IP:
				ok = AgPublicIpValid(value, len);
				break;
			case AG_VALID_PERSONAL_EMAIL:
				ok = !AgEmailIsRoleAddress(value, len);
				break;
			case AG_VALID_NOT_TEST_CARD:
				ok = !AgIsTestCardNumber(value, len);
				break;
			case AG_VALID_NOT_EXAMPLE_IBAN:
				ok = !AgIsExampleIban(value, len);
				break;
			case AG_VALID_NOT_VERSION_LIKE:
				ok = !AgIsVersionLikeQuad(value, len);
				break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}
