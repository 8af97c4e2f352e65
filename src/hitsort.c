/* hitsort.c - hits in order of record, then place (hitsort.h). */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hitsort.h"

/* Below this many hits the counts would cost more than a plain sort. */
#define HITSORT_RADIX_MIN	64
/* The widest digit: 2^10 counts of 4 bytes stay in the first level
 * cache while the hits are scattered, and the counts of all digits of
 * both keys fit on the stack: 32 KB reserved, of which a key uses at
 * most 12 KB (three digits of 10 bits). */
#define HITSORT_DIGIT_MAX	10
#define HITSORT_DIGITS_MAX	4	/* of a 32-bit key */
#define HITSORT_COUNTS_MAX	(HITSORT_DIGITS_MAX << HITSORT_DIGIT_MAX)

/* The digits of one key: how many, how wide, and their counts. */
struct hitsort_key {
	unsigned	 ndigits, width;
	uint32_t	 mask;		/* 2^width - 1 */
	uint32_t	*count[HITSORT_DIGITS_MAX];	/* 2^width each */
};

static gint
hitsort_cmp(gconstpointer a, gconstpointer b, gpointer arg)
{
	const struct pos_hit *x = a, *y = b;

	(void)arg;
	if (x->rec != y->rec)
		return x->rec < y->rec ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Insertion sort, stable: for the few hits most segments have. */
static void
hitsort_insert(struct pos_hit *v, size_t n)
{
	struct pos_hit h;
	size_t i, j;

	for (i = 1; i < n; i++) {
		h = v[i];
		for (j = i; j > 0 && (v[j - 1].rec > h.rec ||
		    (v[j - 1].rec == h.rec && v[j - 1].pos > h.pos)); j--)
			v[j] = v[j - 1];
		v[j] = h;
	}
}

/* As few digits of at most HITSORT_DIGIT_MAX bits as a key up to max
 * takes, of equal width: a list of 100,000 records sorts in two passes
 * of 9 bits, where whole bytes took three and a copy back. */
static void
hitsort_plan(struct hitsort_key *k, uint32_t max)
{
	unsigned used = max == 0 ? 1 : 32 - (unsigned)__builtin_clz(max);

	k->ndigits = (used + HITSORT_DIGIT_MAX - 1) / HITSORT_DIGIT_MAX;
	k->width = (used + k->ndigits - 1) / k->ndigits;
	k->mask = (uint32_t)((1ull << k->width) - 1);
}

static void
hitsort_counts(struct hitsort_key *k, uint32_t *count)
{
	unsigned d;

	for (d = 0; d < HITSORT_DIGITS_MAX; d++)
		k->count[d] = d < k->ndigits ? count + ((size_t)d << k->width) :
		    NULL;
}

/* What a count of the records saw besides the counts. */
struct hitsort_seen {
	uint32_t	recs, places;	/* every bit set in some rec, pos */
	bool		placed;		/* places never fall along v */
};

/* Counts the digits of the records, nd of them (a constant where it is
 * inlined, so the loop has no inner loop). */
static inline __attribute__((always_inline)) void
hitsort_count_recs(const struct pos_hit *v, size_t n,
    const struct hitsort_key *k, unsigned nd, struct hitsort_seen *seen)
{
	/* Locals: the counts are uint32_t too, so k's fields would be
	 * read again after every increment. */
	uint32_t *c0 = k->count[0], *c1 = k->count[1], *c2 = k->count[2];
	uint32_t *c3 = k->count[3];
	uint32_t mask = k->mask, w = k->width;
	uint32_t last = 0, recs = 0, places = 0;
	bool placed = true;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t r = v[i].rec;

		placed &= v[i].pos >= last;
		last = v[i].pos;
		recs |= r;
		places |= last;
		c0[r & mask]++;
		if (nd > 1)
			c1[(r >> w) & mask]++;
		if (nd > 2)
			c2[(r >> 2 * w) & mask]++;
		if (nd > 3)
			c3[(r >> 3 * w) & mask]++;
	}
	seen->recs = recs;
	seen->places = places;
	seen->placed = placed;
}

static void
hitsort_count_all_recs(const struct pos_hit *v, size_t n,
    struct hitsort_key *k, uint32_t *count, struct hitsort_seen *seen)
{
	memset(count, 0, ((size_t)k->ndigits << k->width) * sizeof *count);
	hitsort_counts(k, count);
	switch (k->ndigits) {
	case 1:
		hitsort_count_recs(v, n, k, 1, seen);
		break;
	case 2:
		hitsort_count_recs(v, n, k, 2, seen);
		break;
	case 3:
		hitsort_count_recs(v, n, k, 3, seen);
		break;
	default:
		hitsort_count_recs(v, n, k, 4, seen);
		break;
	}
}

static void
hitsort_count_places(const struct pos_hit *v, size_t n,
    const struct hitsort_key *k)
{
	uint32_t mask = k->mask;
	unsigned d, nd = k->ndigits, w = k->width;
	size_t i;

	for (i = 0; i < n; i++)
		for (d = 0; d < nd; d++)
			k->count[d][(v[i].pos >> d * w) & mask]++;
}

/* One stable pass by digit d of the records (rec) or the places into
 * dst; false, and nothing moved, when every hit has the same digit. */
static bool
hitsort_pass(const struct pos_hit *src, struct pos_hit *dst, size_t n,
    const struct hitsort_key *k, unsigned d, bool rec)
{
	uint32_t *cnt = k->count[d], sum = 0, c, mask = k->mask;
	unsigned shift = d * k->width;
	uint32_t first = rec ? src[0].rec : src[0].pos;
	size_t i;

	if (cnt[(first >> shift) & mask] == n)
		return false;
	for (i = 0; i <= mask; i++) {
		c = cnt[i];
		cnt[i] = sum;
		sum += c;
	}
	/* Two loops, so that neither asks which key it reads. */
	if (rec)
		for (i = 0; i < n; i++)
			dst[cnt[(src[i].rec >> shift) & mask]++] = src[i];
	else
		for (i = 0; i < n; i++)
			dst[cnt[(src[i].pos >> shift) & mask]++] = src[i];
	return true;
}

/* A stable LSD radix sort on the two keys, with digits sized to the
 * bits they use, skipping the passes where every key has the same digit.
 * The records' digits are counted in the pass that looks at the places,
 * so their width comes from max_rec; a record past it costs one more
 * count.  Hits mostly arrive in the order of their places already (the
 * weak pass reports them along the text): then the place passes are
 * left out, as a stable sort by record alone keeps that order within a
 * record. */
void
hitsort(struct pos_hit *v, size_t n, uint32_t max_rec)
{
	uint32_t count[2][HITSORT_COUNTS_MAX];	/* records, places */
	struct hitsort_key rk, pk;
	struct hitsort_seen seen;
	struct pos_hit *tmp, *src, *dst;
	unsigned d;

	if (n < HITSORT_RADIX_MIN) {
		hitsort_insert(v, n);
		return;
	}
	/* Without the scratch copy, not the insertion sort: a segment may
	 * hold a million hits.  GLib's sort is stable too. */
	if (n > UINT32_MAX || (tmp = malloc(n * sizeof *tmp)) == NULL) {
		g_qsort_with_data(v, (gint)n, sizeof *v, hitsort_cmp, NULL);
		return;
	}
	hitsort_plan(&rk, max_rec);
	hitsort_count_all_recs(v, n, &rk, count[0], &seen);
	if (((uint64_t)seen.recs >> (rk.ndigits * rk.width)) != 0) {
		hitsort_plan(&rk, seen.recs);
		hitsort_count_all_recs(v, n, &rk, count[0], &seen);
	}
	src = v;
	dst = tmp;
	if (!seen.placed) {
		uint32_t *pc = count[1];

		hitsort_plan(&pk, seen.places);
		memset(pc, 0, ((size_t)pk.ndigits << pk.width) * sizeof *pc);
		hitsort_counts(&pk, pc);
		hitsort_count_places(v, n, &pk);
		for (d = 0; d < pk.ndigits; d++)
			if (hitsort_pass(src, dst, n, &pk, d, false)) {
				src = dst;
				dst = src == v ? tmp : v;
			}
	}
	for (d = 0; d < rk.ndigits; d++)
		if (hitsort_pass(src, dst, n, &rk, d, true)) {
			src = dst;
			dst = src == v ? tmp : v;
		}
	if (src != v)
		memcpy(v, src, n * sizeof *v);
	free(tmp);
}
