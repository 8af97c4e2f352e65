/* normalize.h - canonical forms of values, and evasion-proof text views.
 *
 * The same functions serve `custos compile` (values from the customer
 * list) and the scanner (text from mail), so a value and its occurrence
 * in mail meet in one canonical form however it was written:
 * full-width digits and letters, digits grouped by spaces, dashes, dots
 * or slashes, +86 or 0086 prefixes, zero-width characters and soft
 * hyphens inside, mixed case.
 *
 * A text view is the text with compatibility forms folded (NFKC for the
 * characters that have them: full-width forms, no-break and ideographic
 * spaces, circled and mathematical digits; but the full-width
 * punctuation of Chinese prose, ！，：；？, is kept), letters lower-cased,
 * zero-width characters and soft hyphens removed, and all spaces made
 * ' '.  It keeps a sparse map back to the original offsets so proximity
 * and samples refer to the original text.
 *
 * Thread-safe.  Errors: -1 only when out of memory. */
#ifndef CUSTOS_NORMALIZE_H
#define CUSTOS_NORMALIZE_H

#include <stddef.h>

#include "kinds.h"

#define NORM_MAX	256	/* longest canonical value, bytes */

/* Canonical form of value in[0..len) of kind into out (NUL-terminated,
 * at most NORM_MAX bytes with the NUL).  Returns its length, or 0 when
 * nothing usable is left (no digits in a number, no @ in an e-mail,
 * too short: fewer than 5 digits or 2 text characters, too long). */
size_t	normalize_value(enum field_kind, const char *in, size_t len,
	    char out[NORM_MAX]);

/* The canonical number of the digits d[0..len) (other bytes are
 * ignored): a 0086 or 86 country prefix before 10 or 11 further digits
 * (a mobile, or a landline without its trunk 0) is dropped, then
 * leading zeros, so "010-1234 5678", "(010) 12345678" and
 * "+86 10 1234 5678" all become 1012345678.  Both sides of a comparison
 * go through this.  Returns the length written to out (NUL-terminated),
 * 0 if nothing is left or len is over NORM_MAX - 1 digits. */
size_t	normalize_digits(const char *d, size_t len, char out[NORM_MAX]);

/* How many leading digits normalize_digits() drops from the n digits
 * d[0..n) (digits only): the canonical number is d + skip, n - skip
 * long.  For the scanner, which has the digits in hand already. */
size_t	normalize_digits_skip(const char *d, size_t n);

struct textview_point {
	size_t	view;		/* offset in the view */
	size_t	orig;		/* offset in the original it maps to */
};

struct textview {
	char			*buf;	/* NUL-terminated view text */
	size_t			 len, bufcap;
	struct textview_point	*pts;	/* where view->original shifts */
	size_t			 npts, ptscap;
};

/* Builds the view of UTF-8 text[0..len) into v (initially zeroed or
 * freed).  Invalid UTF-8 bytes pass through unchanged.  Returns 0/-1;
 * on error v is left freed. */
int	textview_build(struct textview *v, const char *text, size_t len);

/* The same into a v that is zeroed or holds a view built before, whose
 * memory is reused (a scanner's segments, one after another). */
int	textview_rebuild(struct textview *v, const char *text, size_t len);
void	textview_free(struct textview *v);	/* leaves v zeroed */

/* The vector code views are built with: 3 AVX-512BW, 2 AVX2, 1 SSE2, 0
 * none; -1 or more than the CPU has: the widest it has (the default).
 * Returns the level now used.  For tests, which build the same views at
 * every level; call it while no view is being built. */
int	textview_simd(int level);

/* Offset in the original text of view offset off (0..len). */
size_t	textview_orig(const struct textview *v, size_t off);

/* Characters (UTF-8 lead bytes; an invalid byte passed through counts
 * as one unless it is a stray continuation byte) in the view from
 * offset from to offset to (from <= to <= len): what `proximity` is
 * counted in, so 300 reaches as far into Chinese as into English. */
size_t	textview_chars(const struct textview *v, size_t from, size_t to);

#endif
