/* weakprune.h - drop, before they are sorted, the weak hits that nothing
 * can corroborate.
 *
 * Why: a name or a company a dozen customers share gives a hit for each
 * of them wherever it appears.  In a message listing 200 customers of a
 * 100,000-record list that was 5,225 weak hits for 200 records; sorting
 * them by record and walking each record's hits along the text was a
 * sixth of the engine's work, and all but a few hundred of those hits
 * belong to records with no other evidence.  A weak hit counts only when
 * its record has a strong hit near it or a weak hit of another field near
 * it (scan.c, scan_corroborate), so a record with no strong hit in the
 * segment and weak hits of one field only can never count: its hits are
 * dropped here, in one pass over a small hash set, and corroboration
 * sees the same records it would have counted.
 *
 * Owns its set (reused from call to call).  Not thread-safe: one a scan.
 * Errors: none; when the set cannot grow (no memory, or more hits than
 * WEAKPRUNE_MAX_HITS) nothing is dropped, which changes no result. */
#ifndef CUSTOS_WEAKPRUNE_H
#define CUSTOS_WEAKPRUNE_H

#include <stddef.h>
#include <stdint.h>

#include "hitsort.h"

/* Past this many hits (weak and strong) the set would be bigger than
 * the work it saves is worth keeping in memory: nothing is dropped. */
#define WEAKPRUNE_MAX_HITS	(1u << 17)

struct weakprune_slot;

struct weakprune {
	struct weakprune_slot	*slots;
	size_t			 cap;	/* slots, a power of two, or 0 */
	uint32_t		*at;	/* each weak hit's slot */
	size_t			 atcap;
};

void	weakprune_init(struct weakprune *);
void	weakprune_free(struct weakprune *);

/* Moves to the front of w[0..nw), in their order, the weak hits whose
 * record has a hit in s[0..ns) or weak hits of at least two fields in
 * w; returns how many.  The rest of w is left unspecified. */
size_t	weakprune_run(struct weakprune *, struct pos_hit *w, size_t nw,
	    const struct pos_hit *s, size_t ns);

#endif
