/* simd.h - byte-vector helpers shared by the hot loops (normalize.c's
 * text view, scan.c's candidate extents, charset.c's UTF-8 check).
 * SSE2 only; callers keep a plain loop for builds without it.
 * Header-only, no state. */
#ifndef CUSTOS_SIMD_H
#define CUSTOS_SIMD_H

#ifdef __SSE2__
#include <emmintrin.h>

/* 0xff in each byte of v that lies in [lo, lo + n] (unsigned, n < 128),
 * else 0.  SSE2 has no unsigned byte comparison: v - lo - 128 (mod 256)
 * lands in [-128, n - 128] exactly for those bytes, so one subtraction
 * (of lo ^ 0x80) and one signed comparison do it. */
static inline __m128i
simd_in16(__m128i v, unsigned char lo, unsigned char n)
{
	return _mm_cmpgt_epi8(_mm_set1_epi8((char)(n - 127)),
	    _mm_sub_epi8(v, _mm_set1_epi8((char)(lo ^ 0x80))));
}

/* The bits set in a 16-bit movemask.  __builtin_popcount is a call into
 * libgcc where the build may not assume the POPCNT instruction (63,000
 * instructions of a 100 KB message's UTF-8 check); this is a dozen,
 * inline. */
static inline unsigned
simd_count16(unsigned m)
{
	m = m - ((m >> 1) & 0x5555u);
	m = (m & 0x3333u) + ((m >> 2) & 0x3333u);
	m = (m + (m >> 4)) & 0x0f0fu;
	return (m + (m >> 8)) & 0x1fu;
}
#endif

#endif
