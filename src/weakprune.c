/* weakprune.c - drop the weak hits nothing can corroborate (see
 * weakprune.h).
 *
 * A set of the segment's records, open addressing, at most three
 * quarters full: per record whether it has a strong hit, the field of
 * its first weak hit and whether a weak hit of another field followed.
 * Cleared, not freed, between calls: only as much of it as the call
 * uses.  Each weak hit's slot is noted on the way, so that the pass
 * that keeps hits reads its record's flags without a second search. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weakprune.h"

enum {
	WP_USED = 1,
	WP_STRONG = 2,		/* a strong hit of the record */
	WP_FIELDS = 4		/* weak hits of two fields or more */
};

struct weakprune_slot {
	uint32_t	rec;
	uint16_t	field;		/* its first weak hit's */
	uint8_t		flags;
};

void
weakprune_init(struct weakprune *wp)
{
	wp->slots = NULL;
	wp->cap = 0;
	wp->at = NULL;
	wp->atcap = 0;
}

void
weakprune_free(struct weakprune *wp)
{
	free(wp->slots);
	free(wp->at);
	weakprune_init(wp);
}

/* The slot of rec among the 2^bits slots of t: its own, or the empty
 * one where it goes.  There is always an empty one (at most three
 * quarters full).  Record numbers of one list run in order, so they are
 * multiplied apart (Fibonacci hashing), not used as they are. */
static struct weakprune_slot *
wp_slot(struct weakprune_slot *t, unsigned bits, uint32_t rec)
{
	size_t mask = ((size_t)1 << bits) - 1;
	size_t i = (size_t)((uint32_t)(rec * 0x9e3779b1u) >> (32 - bits));

	while ((t[i].flags & WP_USED) != 0 && t[i].rec != rec)
		i = (i + 1) & mask;
	return &t[i];
}

size_t
weakprune_run(struct weakprune *wp, struct pos_hit *w, size_t nw,
    const struct pos_hit *s, size_t ns)
{
	struct weakprune_slot *t, *sl;
	unsigned bits = 4;
	size_t i, k, use;

	if (nw == 0 || nw + ns > WEAKPRUNE_MAX_HITS)
		return nw;
	/* At most three quarters full even if every hit is another
	 * record's (a record has 1.3 hits in the run-e2e message): the set
	 * is cleared at each call, and at half full it was twice the size
	 * for 5,625 hits (128 KB). */
	while (3 * ((size_t)1 << bits) < 4 * (nw + ns))
		bits++;
	use = (size_t)1 << bits;
	if (use > wp->cap) {
		if ((t = realloc(wp->slots, use * sizeof *t)) == NULL)
			return nw;	/* nothing dropped: same results */
		wp->slots = t;
		wp->cap = use;
	}
	if (nw > wp->atcap) {
		uint32_t *at = realloc(wp->at, nw * sizeof *at);

		if (at == NULL)
			return nw;
		wp->at = at;
		wp->atcap = nw;
	}
	t = wp->slots;
	memset(t, 0, use * sizeof *t);
	for (i = 0; i < ns; i++) {
		sl = wp_slot(t, bits, s[i].rec);
		sl->rec = s[i].rec;
		sl->flags |= WP_USED | WP_STRONG;
	}
	for (i = 0; i < nw; i++) {
		sl = wp_slot(t, bits, w[i].rec);
		wp->at[i] = (uint32_t)(sl - t);
		if ((sl->flags & WP_USED) == 0) {
			sl->rec = w[i].rec;
			sl->field = w[i].field;
			sl->flags = WP_USED;
		} else if ((sl->flags & WP_STRONG) == 0 &&
		    sl->field != w[i].field)
			sl->flags |= WP_FIELDS;
	}
	for (i = k = 0; i < nw; i++)
		if ((t[wp->at[i]].flags & (WP_STRONG | WP_FIELDS)) != 0)
			w[k++] = w[i];
	return k;
}
