/* simd.h - byte-vector helpers shared by the hot loops (normalize.c's
 * text view, scan.c's candidate extents).  SSE2 only; callers keep a
 * plain loop for builds without it.  Header-only, no state. */
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
#endif

#endif
