/* normalize.c - canonical values and evasion-proof text views.
 *
 * One character fold serves both halves: textview_build() runs it over
 * the text of every mail part, normalize_value() over each value of the
 * customer list, so a value and its occurrence in mail are folded the
 * same way.  The fold never makes a character longer, so a view fits in
 * the bytes of its original and offsets map back through a sparse list
 * of points where the view-to-original delta changes.
 *
 * The view builder is on the hot path (every byte of every mail), so it
 * takes text that keeps its length (ASCII, CJK ideographs and marks)
 * 32, 16 or eight bytes at a time without decoding it (AVX2 where the
 * CPU has it, SSE2, plain words), folds full-width ASCII and keeps CJK
 * punctuation inline; only other non-ASCII characters reach GLib's
 * Unicode tables, through a small per-call cache.
 *
 * Owns nothing between calls but the choice of vector code, made once
 * (textview_simd); thread-safe.  textview_build() fails (-1)
 * only when out of memory; normalize_value() returns 0 for anything it
 * cannot use, including out of memory (it does not allocate). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
/* AVX2 and AVX-512BW bulk loops beside the SSE2 one, used where the CPU
 * has them. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define TV_AVX2	1
#endif
#endif

#include <glib.h>

#include "kinds.h"
#include "normalize.h"
#include "simd.h"

#define NORM_MIN_DIGITS	5	/* shorter numbers match too much text */
#define NORM_MAX_DIGITS	40	/* longer ones are not identifiers */
#define NORM_MIN_ALNUM	4	/* characters in a custom value */
#define NORM_MIN_TEXT	2	/* characters in a name, company, address */

#define TV_PTS_MIN	1024	/* first map allocation: 16 KB */
#define TV_CACHE	256	/* slow-path results remembered per call */

#define TV_HI8		0x8080808080808080ULL

/* Slow-path result for one code point: the bytes it folds to. */
struct tv_centry {
	gunichar	 cp;		/* 0: empty (ASCII never gets here) */
	unsigned char	 len;
	unsigned char	 expand;	/* several ASCII chars from one */
	unsigned char	 out[4];
};

/* Per call, on the stack: Chinese and European text repeat the same few
 * punctuation marks and accented letters, and a decomposition lookup
 * costs far more than a probe here.  Cleared lazily so calls on short,
 * pure-ASCII segments pay nothing. */
struct tv_cache {
	int		 ready;
	struct tv_centry e[TV_CACHE];
};

static inline unsigned char
tv_lower(unsigned char c)
{
	return (unsigned char)(c + (((unsigned int)c - 'A' < 26u) << 5));
}

/* Strict UTF-8 decode of s[0..avail): length 2-4 and *cp, or 0 when the
 * bytes are not a well-formed sequence (overlong, surrogate, beyond
 * U+10FFFF, truncated). */
static inline size_t
tv_decode(const unsigned char *s, size_t avail, gunichar *cp)
{
	unsigned char	c = s[0];
	gunichar	u;

	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		if (avail < 2 || (s[1] & 0xc0) != 0x80)
			return 0;
		*cp = ((gunichar)(c & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if (c < 0xf0) {
		if (avail < 3 || (s[1] & 0xc0) != 0x80 ||
		    (s[2] & 0xc0) != 0x80)
			return 0;
		u = ((gunichar)(c & 0x0f) << 12) |
		    ((gunichar)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		if (u < 0x800 || (u >= 0xd800 && u <= 0xdfff))
			return 0;
		*cp = u;
		return 3;
	}
	if (c < 0xf5) {
		if (avail < 4 || (s[1] & 0xc0) != 0x80 ||
		    (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		u = ((gunichar)(c & 0x07) << 18) |
		    ((gunichar)(s[1] & 0x3f) << 12) |
		    ((gunichar)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
		if (u < 0x10000 || u > 0x10ffff)
			return 0;
		*cp = u;
		return 4;
	}
	return 0;
}

/* CJK ideographs, kana, hangul and CJK punctuation: copied as they are.
 * Their compatibility forms are never ASCII and they have no case, so
 * the slow path would keep them anyway; this only saves the lookup. */
static inline int
tv_keep(gunichar c)
{
	return (c >= 0x3001 && c <= 0x30ff) ||		/* punct., kana */
	    (c >= 0x31f0 && c <= 0x31ff) ||		/* kana ext. */
	    (c >= 0x3400 && c <= 0x4dbf) ||		/* ext. A */
	    (c >= 0x4e00 && c <= 0x9fff) ||		/* unified */
	    (c >= 0xac00 && c <= 0xd7a3) ||		/* hangul */
	    (c >= 0x1100 && c <= 0x11ff) ||		/* jamo */
	    (c >= 0xf900 && c <= 0xfaff) ||		/* compat. ideographs */
	    (c >= 0x20000 && c <= 0x2ffff);		/* ext. B and on */
}

/* Unicode space separators other than U+0020: folded to ' '. */
static inline int
tv_space(gunichar c)
{
	return c == 0x00a0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Full-width punctuation of CJK prose kept as it is, not folded to
 * ASCII: ！，：；？ (U+FF01, FF0C, FF1A, FF1B, FF1F).  Chinese text has a
 * full-width comma every few words, and each character that shrinks
 * costs a map point and a stop of the bulk loops, for a character no
 * identifier is made of (digits, letters, the separators of numbers and
 * the characters of e-mail addresses all still fold).  c: U+FF01..FF5E. */
static inline int
tv_fullwidth_kept(gunichar c)
{
	return c == 0xff01 || c == 0xff0c || c == 0xff1a || c == 0xff1b ||
	    c == 0xff1f;
}

/* Invisible characters used to split identifiers: dropped. */
static inline int
tv_drop(gunichar c)
{
	return c == 0x00ad || (c >= 0x200b && c <= 0x200d) || c == 0x2060 ||
	    c == 0xfeff || c == 0x180e;
}

/* The fold of a character no rule above covers.  A compatibility
 * decomposition is used only when it is all ASCII letters and digits
 * (①, 𝟏, ², ﬁ, Ⅻ, ㎏): those are the forms used to hide identifiers,
 * and keeping the rest intact keeps the view readable.  Otherwise the
 * character is lower-cased.  Neither may grow the character, which is
 * what lets the view fit in the original's bytes. */
static void
tv_slow(gunichar c, const unsigned char *s, size_t n, struct tv_centry *e)
{
	gunichar	 d[G_UNICHAR_MAX_DECOMPOSITION_LENGTH], lc;
	gsize		 k, j;
	gchar		 u[8];
	gint		 m;

	e->cp = c;
	e->expand = 0;
	k = g_unichar_fully_decompose(c, TRUE, d, G_N_ELEMENTS(d));
	if (k >= 1 && k <= n && !(k == 1 && d[0] == c)) {
		for (j = 0; j < k; j++)
			if (d[j] >= 0x80 || !g_ascii_isalnum((gchar)d[j]))
				break;
		if (j == k) {
			for (j = 0; j < k; j++)
				e->out[j] = tv_lower((unsigned char)d[j]);
			e->len = (unsigned char)k;
			e->expand = k > 1;
			return;
		}
	}
	lc = g_unichar_tolower(c);
	if (lc != c && (m = g_unichar_to_utf8(lc, u)) > 0 && (size_t)m <= n) {
		memcpy(e->out, u, (size_t)m);
		e->len = (unsigned char)m;
		return;
	}
	memcpy(e->out, s, n);
	e->len = (unsigned char)n;
}

/* Folds the character at s[*i] (*i < len) into out, advances *i and
 * returns the bytes written (0: dropped).  *expand is set when out holds
 * several ASCII characters made from one character. */
static size_t
tv_fold(const unsigned char *s, size_t len, size_t *i, unsigned char out[4],
    struct tv_cache *cache, int *expand)
{
	struct tv_centry	*e;
	gunichar		 c;
	size_t			 n;

	*expand = 0;
	if (s[*i] < 0x80) {
		out[0] = tv_lower(s[*i]);
		(*i)++;
		return 1;
	}
	if ((n = tv_decode(s + *i, len - *i, &c)) == 0) {
		/* Not UTF-8: pass the byte through untouched. */
		out[0] = s[*i];
		(*i)++;
		return 1;
	}
	if (tv_keep(c)) {
		memcpy(out, s + *i, n);
		*i += n;
		return n;
	}
	*i += n;
	if (tv_space(c)) {
		out[0] = ' ';
		return 1;
	}
	if (tv_drop(c))
		return 0;
	if (c >= 0xff01 && c <= 0xff5e) {
		if (tv_fullwidth_kept(c)) {
			memcpy(out, s + *i - n, n);
			return n;
		}
		out[0] = tv_lower((unsigned char)(c - 0xfee0));
		return 1;
	}
	if (!cache->ready) {
		memset(cache->e, 0, sizeof cache->e);
		cache->ready = 1;
	}
	e = &cache->e[(c ^ (c >> 8)) & (TV_CACHE - 1)];
	if (e->cp != c)
		tv_slow(c, s + *i - n, n, e);
	memcpy(out, e->out, e->len);
	*expand = e->expand;
	return e->len;
}

/* Records that view offset vo maps to original offset oo, if that is
 * not what the current run already says.  Points stay sorted by view
 * offset; a second point at the same view offset (characters dropped
 * after a shrink) replaces the first, so the view offset maps to the
 * next character that is still there.
 * XXX Every shrunk character that is not dropped costs a point (16
 * bytes): text made only of no-break spaces needs 8 bytes of map per
 * byte.  struct textview has no way to say "every character of this run
 * shrank by the same amount"; the message size limit bounds the cost. */
static int
tv_grow(struct textview *v)
{
	struct textview_point	*p;
	size_t			 cap;

	cap = v->ptscap ? v->ptscap * 2 : TV_PTS_MIN;
	if (cap > SIZE_MAX / sizeof *p ||
	    (p = realloc(v->pts, cap * sizeof *p)) == NULL)
		return -1;
	v->pts = p;
	v->ptscap = cap;
	return 0;
}

static inline int
tv_mark(struct textview *v, size_t vo, size_t oo, size_t *delta)
{
	if (oo - vo == *delta)
		return 0;
	*delta = oo - vo;
	if (v->npts > 0 && v->pts[v->npts - 1].view == vo) {
		v->pts[v->npts - 1].orig = oo;
		return 0;
	}
	if (v->npts == v->ptscap && tv_grow(v) == -1)
		return -1;
	v->pts[v->npts].view = vo;
	v->pts[v->npts].orig = oo;
	v->npts++;
	return 0;
}

/* Bytes of an eight-byte word that may start a character the view
 * changes: a lead byte other than E4..E9 (U+4000..U+9FFF, CJK, always
 * kept).  Other bytes come out as they are (continuation bytes, invalid
 * bytes, CJK) or only lower-cased (ASCII), and keep their length.
 * Bit 7 of each flagged byte is set.  No sum carries into the next byte:
 * every addend has bit 7 clear. */
static inline uint64_t
tv_special8(uint64_t x)
{
	uint64_t	y = x & ~TV_HI8, lead, cjk;

	lead = x & (x << 1) & TV_HI8;			/* C0..FF */
	cjk = (y + 0x1c1c1c1c1c1c1c1cULL) &		/* >= E4 */
	    ~(y + 0x1616161616161616ULL) & TV_HI8;	/* <= E9 */
	return lead & ~cjk;
}

/* Index of the first flagged byte (bit 7) of a word loaded with
 * memcpy, in memory order. */
static inline size_t
tv_first(uint64_t m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (size_t)__builtin_clzll(m) / 8;
#else
	return (size_t)__builtin_ctzll(m) / 8;
#endif
}

/* Eight bytes lower-cased at once, bytes >= 0x80 left alone.  With y
 * the low seven bits of each byte, bit 7 of y + 0x3f is set iff y >= 'A',
 * of y + 0x25 iff y > 'Z'; no byte carries into the next. */
static inline uint64_t
tv_lower8(uint64_t x)
{
	uint64_t	y = x & ~TV_HI8, m;

	m = (y + 0x3f3f3f3f3f3f3f3fULL) & ~(y + 0x2525252525252525ULL) &
	    ~x & TV_HI8;
	return x | (m >> 2);
}

#ifdef __SSE2__
/* tv_special8 and tv_lower8 over sixteen bytes s[0..16), reading
 * s[16..18) too: stores them lower-cased at o and returns the mask of
 * special bytes (bit k: byte k).  Unlike tv_special8 it also lets
 * through, as they are, the commonest marks of Chinese text: CJK
 * punctuation and kana, E3 then 80..83 then anything but 80 (。、「」《》;
 * E3 80 80 is U+3000, a space), and the full-width comma and colon
 * (EF BC 8C, EF BC 9A; see tv_fullwidth_kept).  What these leave to
 * tv_char comes out the same, only slower. */
static inline unsigned int
tv_bulk16(const unsigned char *s, unsigned char *o)
{
	const __m128i	 x = _mm_loadu_si128((const __m128i *)(const void *)s);
	const __m128i	 x1 = _mm_loadu_si128((const __m128i *)(const void *)
			    (s + 1));
	const __m128i	 x2 = _mm_loadu_si128((const __m128i *)(const void *)
			    (s + 2));
	__m128i		 lead, keep;

	lead = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8((char)0xc0)), x);
	keep = _mm_or_si128(simd_in16(x, 0xe4, 5),
	    _mm_and_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xe3)),
	    _mm_andnot_si128(_mm_cmpeq_epi8(x2, _mm_set1_epi8((char)0x80)),
	    simd_in16(x1, 0x80, 3))));
	keep = _mm_or_si128(keep, _mm_and_si128(_mm_and_si128(
	    _mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xef)),
	    _mm_cmpeq_epi8(x1, _mm_set1_epi8((char)0xbc))), _mm_or_si128(
	    _mm_cmpeq_epi8(x2, _mm_set1_epi8((char)0x8c)),
	    _mm_cmpeq_epi8(x2, _mm_set1_epi8((char)0x9a)))));
	_mm_storeu_si128((__m128i *)(void *)o, _mm_or_si128(x, _mm_and_si128(
	    simd_in16(x, 'A', 25), _mm_set1_epi8(0x20))));
	return (unsigned int)_mm_movemask_epi8(_mm_andnot_si128(keep, lead));
}

/* s[0..len) lower-cased into o up to the first special byte, sixteen
 * bytes at a time while 18 are left: returns the bytes done. */
static size_t
tv_bulk_sse2(const unsigned char *s, size_t len, unsigned char *o)
{
	size_t		i = 0;
	unsigned int	m;

	while (len - i >= 16 + 2) {
		if ((m = tv_bulk16(s + i, o + i)) != 0)
			return i + (size_t)__builtin_ctz(m);
		i += 16;
	}
	return i;
}
#endif

#ifdef TV_AVX2
/* tv_bulk32's byte constants, each 32 times: in memory, where the
 * instructions read them, as sixteen vector registers cannot hold them
 * all and the loop's own values.  Ranges as in simd_in16. */
#define TV_R4(b)	(b), (b), (b), (b)
#define TV_R32(b)	{ TV_R4(b), TV_R4(b), TV_R4(b), TV_R4(b), \
			  TV_R4(b), TV_R4(b), TV_R4(b), TV_R4(b) }
enum {
	TV_K_C0, TV_K_E3, TV_K_EF, TV_K_BC, TV_K_80, TV_K_8C, TV_K_9A,
	TV_K_CJK_LO, TV_K_CJK_N, TV_K_E3_LO, TV_K_E3_N, TV_K_UP_LO,
	TV_K_UP_N, TV_K_20, TV_K_COUNT
};
static const unsigned char tv_k[TV_K_COUNT][32]
    __attribute__((aligned(32))) = {
	TV_R32(0xc0), TV_R32(0xe3), TV_R32(0xef), TV_R32(0xbc), TV_R32(0x80),
	TV_R32(0x8c), TV_R32(0x9a),
	TV_R32(0xe4 ^ 0x80), TV_R32(5 - 127 + 256),	/* E4..E9 */
	TV_R32(0x80 ^ 0x80), TV_R32(3 - 127 + 256),	/* 80..83 */
	TV_R32('A' ^ 0x80), TV_R32(25 - 127 + 256),	/* A..Z */
	TV_R32(0x20)
};

#define TV_K(name)	_mm256_load_si256((const __m256i *)(const void *) \
			    k[TV_K_##name])
#define TV_IN32(v, name) _mm256_cmpgt_epi8(TV_K(name##_N), \
	_mm256_sub_epi8((v), TV_K(name##_LO)))

/* tv_bulk16 over 32 bytes, reading s[32..34) too.  k: tv_k. */
__attribute__((target("avx2"))) static inline uint32_t
tv_bulk32(const unsigned char *s, unsigned char *o,
    const unsigned char (*k)[32])
{
	const __m256i	 x = _mm256_loadu_si256((const __m256i *)
			    (const void *)s);
	const __m256i	 x1 = _mm256_loadu_si256((const __m256i *)
			    (const void *)(s + 1));
	const __m256i	 x2 = _mm256_loadu_si256((const __m256i *)
			    (const void *)(s + 2));
	__m256i		 lead, keep;

	lead = _mm256_cmpeq_epi8(_mm256_max_epu8(x, TV_K(C0)), x);
	keep = _mm256_or_si256(TV_IN32(x, CJK), _mm256_and_si256(
	    _mm256_cmpeq_epi8(x, TV_K(E3)), _mm256_andnot_si256(
	    _mm256_cmpeq_epi8(x2, TV_K(80)), TV_IN32(x1, E3))));
	keep = _mm256_or_si256(keep, _mm256_and_si256(_mm256_and_si256(
	    _mm256_cmpeq_epi8(x, TV_K(EF)), _mm256_cmpeq_epi8(x1, TV_K(BC))),
	    _mm256_or_si256(_mm256_cmpeq_epi8(x2, TV_K(8C)),
	    _mm256_cmpeq_epi8(x2, TV_K(9A)))));
	_mm256_storeu_si256((__m256i *)(void *)o, _mm256_or_si256(x,
	    _mm256_and_si256(TV_IN32(x, UP), TV_K(20))));
	return (uint32_t)_mm256_movemask_epi8(_mm256_andnot_si256(keep,
	    lead));
}

/* tv_bulk_sse2 32 bytes at a time while 34 are left, then 16. */
__attribute__((target("avx2"))) static size_t
tv_bulk_avx2(const unsigned char *s, size_t len, unsigned char *o)
{
	const unsigned char	(*k)[32] = tv_k;
	size_t			 i = 0;
	uint32_t		 m;

	/* Hidden from the compiler, which would otherwise build each
	 * constant in a register again in every round. */
	__asm__("" : "+r"(k));
	while (len - i >= 32 + 2) {
		if ((m = tv_bulk32(s + i, o + i, k)) != 0)
			return i + (size_t)__builtin_ctz(m);
		i += 32;
	}
	return i + tv_bulk_sse2(s + i, len - i, o + i);
}

/* tv_bulk16 over 64 bytes with AVX-512BW, reading s[64..66) too.  Each
 * comparison gives its bit mask directly, and the constants fit in the
 * 32 vector registers.  n in TV_IN64 is the range's width less one. */
__attribute__((target("avx512bw"))) static inline uint64_t
tv_bulk64(const unsigned char *s, unsigned char *o)
{
	const __m512i	 x = _mm512_loadu_si512((const void *)s);
	const __m512i	 x1 = _mm512_loadu_si512((const void *)(s + 1));
	const __m512i	 x2 = _mm512_loadu_si512((const void *)(s + 2));
	__mmask64	 lead, keep, up;

#define TV_EQ64(v, b)	_mm512_cmpeq_epi8_mask((v), \
	_mm512_set1_epi8((char)(b)))
#define TV_IN64(v, lo, n) _mm512_cmple_epu8_mask(_mm512_sub_epi8((v), \
	_mm512_set1_epi8((char)(lo))), _mm512_set1_epi8((char)(n)))
	lead = _mm512_cmpge_epu8_mask(x, _mm512_set1_epi8((char)0xc0));
	keep = TV_IN64(x, 0xe4, 5) | (TV_EQ64(x, 0xe3) & TV_IN64(x1, 0x80, 3) &
	    ~TV_EQ64(x2, 0x80)) | (TV_EQ64(x, 0xef) & TV_EQ64(x1, 0xbc) &
	    (TV_EQ64(x2, 0x8c) | TV_EQ64(x2, 0x9a)));
	up = TV_IN64(x, 'A', 25);
#undef TV_EQ64
#undef TV_IN64
	_mm512_storeu_si512((void *)o, _mm512_mask_add_epi8(x, up, x,
	    _mm512_set1_epi8(0x20)));
	return lead & ~keep;
}

/* tv_bulk_avx2 64 bytes at a time while 66 are left, then 32. */
__attribute__((target("avx512bw"))) static size_t
tv_bulk_avx512(const unsigned char *s, size_t len, unsigned char *o)
{
	size_t		i = 0;
	uint64_t	m;

	while (len - i >= 64 + 2) {
		if ((m = tv_bulk64(s + i, o + i)) != 0)
			return i + (size_t)__builtin_ctzll(m);
		i += 64;
	}
	return i + tv_bulk_avx2(s + i, len - i, o + i);
}

#endif

/* The widest bulk loop the CPU has: 3 AVX-512BW, 2 AVX2, 1 SSE2, 0
 * none. */
static int
tv_simd_best(void)
{
#ifdef TV_AVX2
	if (__builtin_cpu_supports("avx512bw"))
		return 3;
	if (__builtin_cpu_supports("avx2"))
		return 2;
#endif
#ifdef __SSE2__
	return 1;
#else
	return 0;
#endif
}

/* The bulk loop textview_rebuild uses; -1 until chosen.  Every thread
 * chooses the same, so a race on the first call is harmless. */
static int	tv_simd_level = -1;

static int
tv_simd(void)
{
	int	level = __atomic_load_n(&tv_simd_level, __ATOMIC_RELAXED);

	if (level < 0) {
		level = tv_simd_best();
		__atomic_store_n(&tv_simd_level, level, __ATOMIC_RELAXED);
	}
	return level;
}

int
textview_simd(int level)
{
	int	best = tv_simd_best();

	if (level < 0 || level > best)
		level = best;
	__atomic_store_n(&tv_simd_level, level, __ATOMIC_RELAXED);
	return level;
}

/* s[0..len), len >= 18, lower-cased into o by the chosen bulk loop. */
static inline size_t
tv_bulk(int level, const unsigned char *s, size_t len, unsigned char *o)
{
#ifdef TV_AVX2
	if (level == 3)
		return tv_bulk_avx512(s, len, o);
	if (level == 2)
		return tv_bulk_avx2(s, len, o);
#endif
#ifdef __SSE2__
	return tv_bulk_sse2(s, len, o);
#else
	(void)level;
	(void)s;
	(void)len;
	(void)o;
	return 0;
#endif
}

/* The character at s[*i], a lead byte the bulk loops stopped at (or any
 * byte of the tail): folded into o + *w, map points recorded.  Returns
 * 0, or -1 when out of memory. */
static inline int
tv_char(struct textview *v, const unsigned char *s, size_t len, size_t *i,
    unsigned char *o, size_t *w, struct tv_cache *cache, size_t *delta)
{
	size_t	 n, k, start = *i;
	int	 expand;

	if (s[start] < 0xc0 || (s[start] >= 0xe4 && s[start] <= 0xe9)) {
		/* A byte that keeps its length. */
		o[(*w)++] = tv_lower(s[start]);
		*i = start + 1;
		return 0;
	}
	/* Full-width ASCII (U+FF01..U+FF5E: Chinese punctuation, digits
	 * and letters): one byte for three, but for the punctuation kept
	 * (tv_fullwidth_kept). */
	if (s[start] == 0xef && len - start >= 3 &&
	    ((s[start + 1] == 0xbc && s[start + 2] >= 0x81 &&
	    s[start + 2] <= 0xbf) || (s[start + 1] == 0xbd &&
	    s[start + 2] >= 0x80 && s[start + 2] <= 0x9e))) {
		unsigned char a = (unsigned char)(s[start + 1] == 0xbc ?
		    s[start + 2] - 0x60 : s[start + 2] - 0x20);

		*i = start + 3;
		if (tv_fullwidth_kept(0xfee0 + a)) {
			memcpy(o + *w, s + start, 3);
			*w += 3;
			return 0;
		}
		o[(*w)++] = tv_lower(a);
		return tv_mark(v, *w, *i, delta);
	}
	/* U+3001..U+30FF: CJK punctuation and kana, kept. */
	if (s[start] == 0xe3 && len - start >= 3 &&
	    ((s[start + 1] == 0x80 && s[start + 2] >= 0x81 &&
	    s[start + 2] <= 0xbf) || ((s[start + 1] == 0x81 ||
	    s[start + 1] == 0x82 || s[start + 1] == 0x83) &&
	    (s[start + 2] & 0xc0) == 0x80))) {
		memcpy(o + *w, s + start, 3);
		*i = start + 3;
		*w += 3;
		return 0;
	}
	/* The fold never grows a character, so writing straight into the
	 * view cannot pass the original's end. */
	n = tv_fold(s, len, i, o + *w, cache, &expand);
	if (expand) {
		/* Every ASCII character made from one original character
		 * maps to that character's start. */
		for (k = 1; k < n; k++)
			if (tv_mark(v, *w + k, start, delta) == -1)
				return -1;
	}
	*w += n;
	if ((expand || n != *i - start) && tv_mark(v, *w, *i, delta) == -1)
		return -1;
	return 0;
}

int
textview_build(struct textview *v, const char *text, size_t len)
{
	memset(v, 0, sizeof *v);
	return textview_rebuild(v, text, len);
}

int
textview_rebuild(struct textview *v, const char *text, size_t len)
{
	const unsigned char	*s = (const unsigned char *)text;
	unsigned char		*o;
	struct tv_cache		 cache;
	size_t			 i = 0, w = 0, n, delta = 0;
	uint64_t		 x, sp;
	int			 level;

	cache.ready = 0;
	v->len = v->npts = 0;
	if (v->bufcap < len + 1) {
		free(v->buf);
		v->bufcap = 0;
		if (len == SIZE_MAX || (v->buf = malloc(len + 1)) == NULL) {
			textview_free(v);
			return -1;
		}
		v->bufcap = len + 1;
	}
	o = (unsigned char *)v->buf;

	/* Text that keeps its length (ASCII, CJK ideographs, bytes that are
	 * not UTF-8) is only lower-cased and needs no map points: it goes
	 * 64, 32, 16 or eight bytes at a time, and only the lead bytes of
	 * other characters (special bytes, see tv_special8) are looked at
	 * one by one.  A block stored past the first special byte is
	 * written again from there; w <= i keeps every store inside the
	 * buffer. */
	level = tv_simd();
	while (i < len) {
		if (level > 0 && len - i >= 16 + 2) {
			n = tv_bulk(level, s + i, len - i, o + w);
			i += n;
			w += n;
		}
		/* The tail, or all of it without vectors: eight bytes at a
		 * time.  Bulk loops stop only at a special byte or with
		 * fewer than 18 bytes left. */
		if (level == 0 || len - i < 16 + 2) {
			while (len - i >= 8) {
				memcpy(&x, s + i, 8);
				sp = tv_special8(x);
				x = tv_lower8(x);
				memcpy(o + w, &x, 8);
				if (sp != 0) {
					n = tv_first(sp);
					i += n;
					w += n;
					break;
				}
				i += 8;
				w += 8;
			}
			if (i >= len)
				break;
		}
		if (tv_char(v, s, len, &i, o, &w, &cache, &delta) == -1)
			goto fail;
	}
	o[w] = '\0';
	v->len = w;
	return 0;
fail:
	textview_free(v);
	return -1;
}

void
textview_free(struct textview *v)
{
	if (v == NULL)
		return;
	free(v->buf);
	free(v->pts);
	memset(v, 0, sizeof *v);
}

size_t
textview_orig(const struct textview *v, size_t off)
{
	size_t	lo = 0, hi = v->npts, mid;

	if (off > v->len)
		off = v->len;
	/* Last point at or before off; none means the view starts with
	 * the original. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v->pts[mid].view <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return off;
	return v->pts[lo - 1].orig + (off - v->pts[lo - 1].view);
}

size_t
textview_chars(const struct textview *v, size_t from, size_t to)
{
	const unsigned char *p = (const unsigned char *)v->buf;
	size_t	 n = to - from, cont = 0, i = from;

#ifdef __SSE2__
	for (; i + 16 <= to; i += 16)
		cont += simd_count16((unsigned)_mm_movemask_epi8(
		    simd_in16(_mm_loadu_si128((const __m128i *)(const void *)
		    (p + i)), 0x80, 0x3f)));
#endif
	for (; i < to; i++)
		cont += (p[i] & 0xc0) == 0x80;
	return n - cont;
}

size_t
normalize_digits_skip(const char *d, size_t n)
{
	size_t	 skip = 0;

	/* A country prefix before a national number: 11 digits for a
	 * mobile, 10 or 11 for a landline written without its trunk 0
	 * ("+86 10 1234 5678").  Numbers of other lengths keep their 86,
	 * so 11-digit numbers that merely start with 86 stay whole. */
	if (n >= 14 && n <= 15 && memcmp(d, "0086", 4) == 0)
		skip = 4;
	else if (n >= 12 && n <= 13 && memcmp(d, "86", 2) == 0)
		skip = 2;
	/* The trunk 0 ("010-...") and any other leading zeros: written
	 * or not, the number is the same. */
	while (skip < n && d[skip] == '0')
		skip++;
	return skip;
}

size_t
normalize_digits(const char *d, size_t len, char out[NORM_MAX])
{
	char	 buf[NORM_MAX];
	size_t	 i, n = 0, skip;

	for (i = 0; i < len; i++) {
		if (!g_ascii_isdigit(d[i]))
			continue;
		if (n == NORM_MAX - 1) {
			out[0] = '\0';
			return 0;
		}
		buf[n++] = d[i];
	}
	skip = normalize_digits_skip(buf, n);
	memcpy(out, buf + skip, n - skip);
	out[n - skip] = '\0';
	return n - skip;
}

/* Folds in[0..len) into t (cap bytes plus a NUL) for the e-mail and text
 * kinds: leading space dropped, runs of space (any control byte counts)
 * made one ' ', trailing space dropped.  Returns the length, or
 * (size_t)-1 when the folded value does not fit. */
static size_t
norm_fold_text(const char *in, size_t len, char *t, size_t cap)
{
	const unsigned char	*s = (const unsigned char *)in;
	unsigned char		 piece[4];
	struct tv_cache		 cache;
	size_t			 i = 0, n, k, w = 0;
	int			 expand, space = 0;

	cache.ready = 0;
	while (i < len) {
		n = tv_fold(s, len, &i, piece, &cache, &expand);
		for (k = 0; k < n; k++) {
			if (piece[k] <= 0x20 || piece[k] == 0x7f) {
				space = w > 0;
				continue;
			}
			if (space) {
				if (w == cap)
					return (size_t)-1;
				t[w++] = ' ';
				space = 0;
			}
			if (w == cap)
				return (size_t)-1;
			t[w++] = (char)piece[k];
		}
	}
	t[w] = '\0';
	return w;
}

static size_t
norm_utf8_chars(const char *s, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static size_t
norm_numeric(const char *in, size_t len, char out[NORM_MAX])
{
	const unsigned char	*s = (const unsigned char *)in;
	unsigned char		 piece[4];
	struct tv_cache		 cache;
	char			 dig[NORM_MAX_DIGITS];
	size_t			 i = 0, n, k, nd = 0;
	int			 expand;

	cache.ready = 0;
	while (i < len) {
		n = tv_fold(s, len, &i, piece, &cache, &expand);
		for (k = 0; k < n; k++) {
			if (!g_ascii_isdigit(piece[k]))
				continue;
			if (nd == NORM_MAX_DIGITS)
				return 0;
			dig[nd++] = (char)piece[k];
		}
	}
	if (nd < NORM_MIN_DIGITS)
		return 0;
	/* Checked again after the prefix and zeros are gone: "00001"
	 * would otherwise match every 1 in a mail. */
	if ((n = normalize_digits(dig, nd, out)) < NORM_MIN_DIGITS)
		return 0;
	return n;
}

/* Resident ID: 15 digits (first generation) or 17 digits and a check
 * character, digit or x.  Separators and labels are ignored; a letter
 * other than a final x makes it something else. */
static size_t
norm_cn_id(const char *in, size_t len, char out[NORM_MAX])
{
	const unsigned char	*s = (const unsigned char *)in;
	unsigned char		 piece[4];
	struct tv_cache		 cache;
	size_t			 i = 0, n, k, w = 0;
	int			 expand, x = 0;

	cache.ready = 0;
	while (i < len) {
		n = tv_fold(s, len, &i, piece, &cache, &expand);
		for (k = 0; k < n; k++) {
			if (piece[k] >= 0x80 || !g_ascii_isalnum(piece[k]))
				continue;
			if (x || w == 18)
				return 0;
			if (piece[k] == 'x')
				x = 1;
			else if (!g_ascii_isdigit(piece[k]))
				return 0;
			out[w++] = (char)piece[k];
		}
	}
	if (!(w == 18 || (w == 15 && !x)))
		return 0;
	out[w] = '\0';
	return w;
}

static size_t
norm_email(const char *in, size_t len, char out[NORM_MAX])
{
	char	 t[NORM_MAX + 1], *p, *at;
	size_t	 n, i;

	if ((n = norm_fold_text(in, len, t, NORM_MAX)) == (size_t)-1)
		return 0;
	p = t;
	/* "<a@b>", "mailto:a@b", "<mailto:a@b>" as lists have them. */
	if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
		p++;
		n -= 2;
	}
	if (n >= 7 && memcmp(p, "mailto:", 7) == 0) {
		p += 7;
		n -= 7;
	}
	while (n > 0 && p[0] == ' ') {
		p++;
		n--;
	}
	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (n == 0 || n >= NORM_MAX)
		return 0;
	at = NULL;
	for (i = 0; i < n; i++) {
		if (p[i] == ' ')
			return 0;
		if (p[i] == '@') {
			if (at != NULL)
				return 0;
			at = p + i;
		}
	}
	if (at == NULL || at == p || at == p + n - 1)
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

/* Letters and digits only, in any script: "AB-12 34" is "ab1234". */
static size_t
norm_alnum(const char *in, size_t len, char out[NORM_MAX])
{
	const unsigned char	*s = (const unsigned char *)in;
	unsigned char		 piece[4];
	struct tv_cache		 cache;
	gunichar		 c;
	size_t			 i = 0, n, k, w = 0, chars = 0;
	int			 expand;

	cache.ready = 0;
	while (i < len) {
		n = tv_fold(s, len, &i, piece, &cache, &expand);
		if (n == 0)
			continue;
		if (piece[0] < 0x80) {
			for (k = 0; k < n; k++) {
				if (!g_ascii_isalnum(piece[k]))
					continue;
				if (w + 1 > NORM_MAX - 1)
					return 0;
				out[w++] = (char)piece[k];
				chars++;
			}
			continue;
		}
		/* Invalid bytes come back alone and fail the decode. */
		if (tv_decode(piece, n, &c) != n || !g_unichar_isalnum(c))
			continue;
		if (w + n > NORM_MAX - 1)
			return 0;
		memcpy(out + w, piece, n);
		w += n;
		chars++;
	}
	if (chars < NORM_MIN_ALNUM)
		return 0;
	out[w] = '\0';
	return w;
}

/* Names, companies, addresses.  Too long is rejected rather than cut:
 * a cut value would match text that is not the record's. */
static size_t
norm_text(const char *in, size_t len, char out[NORM_MAX])
{
	size_t	n;

	if ((n = norm_fold_text(in, len, out, NORM_MAX - 1)) == (size_t)-1)
		return 0;
	if (norm_utf8_chars(out, n) < NORM_MIN_TEXT)
		return 0;
	return n;
}

size_t
normalize_value(enum field_kind kind, const char *in, size_t len,
    char out[NORM_MAX])
{
	size_t	n = 0;

	if ((unsigned int)kind >= KIND_COUNT)
		goto out;
	if (kind == KIND_CN_ID)
		n = norm_cn_id(in, len, out);
	else if (kind == KIND_EMAIL)
		n = norm_email(in, len, out);
	else {
		switch (kind_class(kind)) {
		case CLASS_NUMERIC:
			n = norm_numeric(in, len, out);
			break;
		case CLASS_EMAIL:
			n = norm_email(in, len, out);
			break;
		case CLASS_ALNUM:
			n = norm_alnum(in, len, out);
			break;
		case CLASS_TEXT:
			n = norm_text(in, len, out);
			break;
		}
	}
out:
	if (n == 0)
		out[0] = '\0';
	return n;
}
