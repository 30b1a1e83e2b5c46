/*
 * ag_punycode.h
 *	  Punycode (RFC 3492) for one IDNA label: Unicode code points to the
 *	  ASCII form that follows "xn--", and back.
 */
#ifndef AG_PUNYCODE_H
#define AG_PUNYCODE_H

#include <stddef.h>
#include <stdint.h>

/* Longest label handled, in code points (DNS labels are at most 63 bytes). */
#define AG_PUNYCODE_MAX_CPS 256

/*
 * Encodes cps[0..ncps) into out (without the "xn--" prefix), NUL-terminated.
 * Returns the length written, or -1 if out is too small or a value overflows.
 */
extern int	AgPunycodeEncode(const int32_t *cps, int ncps, char *out, size_t outlen);

/*
 * Decodes the ASCII label in[0..len) (without "xn--") into at most maxcps
 * code points.  Returns their number, or -1 on malformed input.
 */
extern int	AgPunycodeDecode(const char *in, size_t len, int32_t *cps, int maxcps);

#endif							/* AG_PUNYCODE_H */
