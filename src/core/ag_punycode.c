/*
 * ag_punycode.c
 *	  RFC 3492 Punycode with the IDNA parameters (section 5).
 *
 * Code points are written as a run of the basic (ASCII) ones, a '-', then
 * the insertions of the others as generalized variable-length integers
 * whose thresholds follow a bias adapted after each insertion.
 */
#include "ag_punycode.h"

enum
{
	BASE = 36,
	TMIN = 1,
	TMAX = 26,
	SKEW = 38,
	DAMP = 700,
	INITIAL_BIAS = 72,
	INITIAL_N = 128
};

#define PUNY_MAXINT 0x7FFFFFFFu

/* Bias adaptation, RFC 3492 section 6.1. */
static uint32_t
Adapt(uint32_t delta, uint32_t numpoints, int first_time)
{
	uint32_t	k = 0;

	delta = first_time ? delta / DAMP : delta / 2;
	delta += delta / numpoints;
	while (delta > ((BASE - TMIN) * TMAX) / 2)
	{
		delta /= BASE - TMIN;
		k += BASE;
	}
	return k + (((BASE - TMIN + 1) * delta) / (delta + SKEW));
}

/* The threshold t for digit position k. */
static uint32_t
Threshold(uint32_t k, uint32_t bias)
{
	if (k <= bias)
		return TMIN;
	if (k >= bias + TMAX)
		return TMAX;
	return k - bias;
}

static char
EncodeDigit(uint32_t d)
{
	return (char) (d < 26 ? 'a' + d : '0' + (d - 26));
}

static int
DecodeDigit(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '0' && c <= '9')
		return c - '0' + 26;
	return -1;
}

int
AgPunycodeEncode(const int32_t *cps, int ncps, char *out, size_t outlen)
{
	size_t		o = 0;
	uint32_t	n = INITIAL_N,
				delta = 0,
				bias = INITIAL_BIAS,
				h,
				b;

	if (ncps < 0 || ncps > AG_PUNYCODE_MAX_CPS || outlen == 0)
		return -1;
	for (int i = 0; i < ncps; i++)
	{
		if (cps[i] < 0 || cps[i] > 0x10FFFF)
			return -1;
		if (cps[i] < 0x80)
		{
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char) cps[i];
		}
	}
	h = b = (uint32_t) o;
	if (b > 0)
	{
		if (o + 1 >= outlen)
			return -1;
		out[o++] = '-';
	}
	while (h < (uint32_t) ncps)
	{
		uint32_t	m = PUNY_MAXINT;

		for (int i = 0; i < ncps; i++)
			if ((uint32_t) cps[i] >= n && (uint32_t) cps[i] < m)
				m = (uint32_t) cps[i];
		if ((m - n) > (PUNY_MAXINT - delta) / (h + 1))
			return -1;
		delta += (m - n) * (h + 1);
		n = m;
		for (int i = 0; i < ncps; i++)
		{
			uint32_t	c = (uint32_t) cps[i];

			if (c < n && ++delta == 0)
				return -1;
			if (c != n)
				continue;
			uint32_t	q = delta;

			for (uint32_t k = BASE;; k += BASE)
			{
				uint32_t	t = Threshold(k, bias);

				if (q < t)
					break;
				if (o + 1 >= outlen)
					return -1;
				out[o++] = EncodeDigit(t + (q - t) % (BASE - t));
				q = (q - t) / (BASE - t);
			}
			if (o + 1 >= outlen)
				return -1;
			out[o++] = EncodeDigit(q);
			bias = Adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		n++;
	}
	out[o] = '\0';
	return (int) o;
}

int
AgPunycodeDecode(const char *in, size_t len, int32_t *cps, int maxcps)
{
	uint32_t	n = INITIAL_N,
				i = 0,
				bias = INITIAL_BIAS;
	size_t		basic = 0,
				pos;
	int			out = 0;

	for (size_t j = 0; j < len; j++)
		if (in[j] == '-')
			basic = j;
	for (size_t j = 0; j < basic; j++)
	{
		if ((unsigned char) in[j] >= 0x80 || out >= maxcps)
			return -1;
		cps[out++] = (unsigned char) in[j];
	}
	pos = basic > 0 ? basic + 1 : 0;
	while (pos < len)
	{
		uint32_t	oldi = i,
					w = 1;

		for (uint32_t k = BASE;; k += BASE)
		{
			int			digit;
			uint32_t	t;

			if (pos >= len || (digit = DecodeDigit(in[pos++])) < 0)
				return -1;
			if ((uint32_t) digit > (PUNY_MAXINT - i) / w)
				return -1;
			i += (uint32_t) digit * w;
			t = Threshold(k, bias);
			if ((uint32_t) digit < t)
				break;
			if (w > PUNY_MAXINT / (BASE - t))
				return -1;
			w *= BASE - t;
		}
		bias = Adapt(i - oldi, (uint32_t) out + 1, oldi == 0);
		if (i / ((uint32_t) out + 1) > PUNY_MAXINT - n)
			return -1;
		n += i / ((uint32_t) out + 1);
		i %= (uint32_t) out + 1;
		if (out >= maxcps || n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF))
			return -1;
		for (int j = out; j > (int) i; j--)
			cps[j] = cps[j - 1];
		cps[i] = (int32_t) n;
		out++;
		i++;
	}
	return out;
}
