/* b64.c - base64 decoding, a group of four at a time (see b64.h). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "b64.h"

#define B64_BAD		0x80000000u	/* not a character of the alphabet */
#define B64_PAD		0x40000000u	/* '=' */

/* The value of a character in each of a group's four places, shifted
 * into place, so that a group is four lookups ORed; a character outside
 * the alphabet sets a high bit instead. */
static uint32_t b64_at[4][256];

static uint32_t
b64_value(unsigned c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return c == '=' ? B64_PAD : B64_BAD;
}

static void
b64_tables(void)
{
	unsigned c, k;

	for (c = 0; c < 256; c++)
		for (k = 0; k < 4; k++) {
			uint32_t v = b64_value(c);

			b64_at[k][c] = v >= 64 ? v : v << (18 - 6 * k);
		}
}

void
b64_init(struct b64 *st)
{
	static int ready;

	/* The tables are the same for everyone: the first caller fills
	 * them, racing callers write the same values. */
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		b64_tables();
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	st->acc = 0;
	st->n = 0;
}

/* The bytes of an open group of n characters (2 or 3; fewer carry no
 * whole byte), which is then closed. */
static size_t
b64_close(struct b64 *st, uint8_t *out)
{
	size_t w = 0;

	if (st->n >= 2)
		out[w++] = (uint8_t)(st->acc >> 16);
	if (st->n == 3)
		out[w++] = (uint8_t)(st->acc >> 8);
	st->acc = 0;
	st->n = 0;
	return w;
}

size_t
b64_decode(struct b64 *st, const char *in, size_t len, uint8_t *out)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + len;
	uint8_t *o = out;
	uint32_t v;

	while (p < end) {
		/* Whole groups while nothing is open. */
		while (st->n == 0 && end - p >= 4) {
			v = b64_at[0][p[0]] | b64_at[1][p[1]] |
			    b64_at[2][p[2]] | b64_at[3][p[3]];
			if (v >= 1u << 24)
				break;
			o[0] = (uint8_t)(v >> 16);
			o[1] = (uint8_t)(v >> 8);
			o[2] = (uint8_t)v;
			o += 3;
			p += 4;
		}
		if (p == end)
			break;
		/* One character: the slow way. */
		v = b64_at[3][*p++];
		if (v == B64_PAD)
			o += b64_close(st, o);
		else if (v < 64) {
			st->acc |= v << (18 - 6 * st->n);
			if (++st->n == 4) {
				o[0] = (uint8_t)(st->acc >> 16);
				o[1] = (uint8_t)(st->acc >> 8);
				o[2] = (uint8_t)st->acc;
				o += 3;
				st->acc = 0;
				st->n = 0;
			}
		}
	}
	return (size_t)(o - out);
}

size_t
b64_finish(struct b64 *st, uint8_t *out)
{
	return b64_close(st, out);
}
