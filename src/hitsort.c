/* hitsort.c - hits in order of record, then place (hitsort.h). */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hitsort.h"

/* Below this many hits the counts would cost more than a plain sort. */
#define HITSORT_RADIX_MIN	64

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

/* A stable radix sort on the two 32-bit keys, a byte a pass, skipping
 * the passes where every key has the same byte.  The counts of all eight
 * bytes are made in one pass over the hits, not in one pass each.  Hits
 * mostly arrive in the order of their places already (the weak pass
 * reports them along the text): then the place passes are skipped too,
 * as a stable sort by record alone keeps that order within a record. */
void
hitsort(struct pos_hit *v, size_t n)
{
	struct pos_hit *tmp, *src, *dst;
	size_t i, pass, sum, c;
	size_t count[8][256];
	bool placed = true;	/* places never fall: v[i].pos >= v[i-1] */

	if (n < HITSORT_RADIX_MIN) {
		hitsort_insert(v, n);
		return;
	}
	/* Without the scratch copy, not the insertion sort: a segment may
	 * hold a million hits.  GLib's sort is stable too. */
	if ((tmp = malloc(n * sizeof *tmp)) == NULL) {
		g_qsort_with_data(v, (gint)n, sizeof *v, hitsort_cmp, NULL);
		return;
	}
	memset(count, 0, sizeof count);
	for (i = 0; i < n; i++) {
		uint32_t p = v[i].pos, r = v[i].rec;

		placed &= i == 0 || p >= v[i - 1].pos;
		count[0][p & 0xff]++;
		count[1][(p >> 8) & 0xff]++;
		count[2][(p >> 16) & 0xff]++;
		count[3][p >> 24]++;
		count[4][r & 0xff]++;
		count[5][(r >> 8) & 0xff]++;
		count[6][(r >> 16) & 0xff]++;
		count[7][r >> 24]++;
	}
	src = v;
	dst = tmp;
	for (pass = placed ? 4 : 0; pass < 8; pass++) {
		unsigned shift = (unsigned)(pass & 3) * 8;
		size_t *cnt = count[pass];

#define DIGIT(h) (((pass < 4 ? (h).pos : (h).rec) >> shift) & 0xff)
		if (cnt[DIGIT(src[0])] == n)
			continue;	/* one value: already in order */
		for (i = 0, sum = 0; i < 256; i++) {
			c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[DIGIT(src[i])]++] = src[i];
#undef DIGIT
		src = dst;
		dst = src == v ? tmp : v;
	}
	if (src != v)
		memcpy(v, src, n * sizeof *v);
	free(tmp);
}
