/* b64.c - base64 decoding, sixteen characters or a group of four at a
 * time (see b64.h). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define B64_SSSE3	1
#endif

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

/* Sixteen characters at a time where the CPU has SSSE3 (its byte
 * shuffle): a line of a base64 attachment is 76 characters and two
 * line-end bytes, so most of it goes this way; a table lookup a
 * character cost about six instructions a byte of the attachment, the
 * largest cost of a message whose attachment's text is kept (a 300 KB
 * spreadsheet: 2.8 of 9.5 million instructions). */
static int b64_simd;

void
b64_init(struct b64 *st)
{
	static int ready;

	/* The tables are the same for everyone: the first caller fills
	 * them, racing callers write the same values. */
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		b64_tables();
#ifdef B64_SSSE3
		__atomic_store_n(&b64_simd, __builtin_cpu_supports("ssse3"),
		    __ATOMIC_RELAXED);
#endif
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	st->acc = 0;
	st->n = 0;
}

int
b64_vector(int on)
{
	int was = __atomic_load_n(&b64_simd, __ATOMIC_RELAXED);

#ifdef B64_SSSE3
	__atomic_store_n(&b64_simd, on && __builtin_cpu_supports("ssse3"),
	    __ATOMIC_RELAXED);
#else
	(void)on;
#endif
	return was;
}

#ifdef B64_SSSE3
/* Whole blocks of sixteen characters of the alphabet from p, each into
 * twelve bytes at out (twelve written, no more); stops at the first
 * block holding anything else.  Returns the characters taken.
 *
 * The method of Muła and Lemire ("Faster Base64 Encoding and Decoding
 * Using AVX2 Instructions", 2018): a character's high and low nibbles
 * pick two bit sets that share a bit exactly when it is not in the
 * alphabet; its high nibble (less one for '/', whose range it shares
 * with '+') picks what to add to it for its value; then two
 * multiply-adds join four values of six bits into three bytes. */
__attribute__((target("ssse3"))) static size_t
b64_blocks(const unsigned char *p, size_t len, uint8_t *out)
{
	const __m128i lut_lo = _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
	const __m128i lut_hi = _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04,
	    0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	const __m128i lut_roll = _mm_setr_epi8(0, 16, 19, 4, -65, -65, -71,
	    -71, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i pack = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13,
	    12, -1, -1, -1, -1);
	const __m128i nib = _mm_set1_epi8(0x0f);
	size_t i = 0;

	while (len - i >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)
		    (p + i));
		__m128i hi = _mm_and_si128(_mm_srli_epi32(x, 4), nib);
		__m128i lo = _mm_and_si128(x, nib);
		__m128i v;

		if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(
		    _mm_shuffle_epi8(lut_lo, lo), _mm_shuffle_epi8(lut_hi, hi)),
		    _mm_setzero_si128())) != 0xffff)
			break;
		v = _mm_add_epi8(x, _mm_shuffle_epi8(lut_roll, _mm_add_epi8(hi,
		    _mm_cmpeq_epi8(x, _mm_set1_epi8('/')))));
		v = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));
		v = _mm_madd_epi16(v, _mm_set1_epi32(0x00011000));
		v = _mm_shuffle_epi8(v, pack);
		_mm_storel_epi64((__m128i *)(void *)out, v);
		v = _mm_srli_si128(v, 8);
		memcpy(out + 8, &v, 4);
		out += 12;
		i += 16;
	}
	return i;
}
#endif

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
	size_t g;
#ifdef B64_SSSE3
	int simd = __atomic_load_n(&b64_simd, __ATOMIC_RELAXED);
	size_t k;
#endif

	while (p < end) {
		/* Whole groups while nothing is open: blocks of sixteen, then
		 * up to four groups one by one (what holds a line end). */
		while (st->n == 0 && end - p >= 4) {
#ifdef B64_SSSE3
			if (simd) {
				k = b64_blocks(p, (size_t)(end - p), o);
				p += k;
				o += k / 4 * 3;
			}
#endif
			for (g = 0; g < 4 && end - p >= 4; g++) {
				v = b64_at[0][p[0]] | b64_at[1][p[1]] |
				    b64_at[2][p[2]] | b64_at[3][p[3]];
				if (v >= 1u << 24)
					goto slow;
				o[0] = (uint8_t)(v >> 16);
				o[1] = (uint8_t)(v >> 8);
				o[2] = (uint8_t)v;
				o += 3;
				p += 4;
			}
		}
slow:
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
