/* hitsort.h - the engine's hits, a record and a place each, in order of
 * record, then place.
 *
 * Why: corroboration (scan.c) walks each record's hits along the text.
 * A name thousands of customers share gives as many hits, and a
 * comparison sort through a callback was most of a scan's time on such
 * lists; this is a radix sort that skips what is already in order.
 *
 * No state; thread-safe.  Errors: none (without memory for its scratch
 * copy it falls back on GLib's stable comparison sort). */
#ifndef CUSTOS_HITSORT_H
#define CUSTOS_HITSORT_H

#include <stddef.h>
#include <stdint.h>

/* A record's field found at a place of a segment's view. */
struct pos_hit {
	uint32_t	rec;
	uint32_t	pos;		/* view offset */
	uint16_t	field;
	uint16_t	kind;
	uint8_t		near;		/* weak: what corroborates it */
};

/* Sorts v[0..n) by rec, then pos; stable (hits with the same record and
 * place keep their order).  max_rec: the largest record a hit is
 * expected to have (the table's last); the radix sort takes only as
 * many digits as it needs.  Only a hint: a larger record costs one more
 * pass over the hits, the order is the same. */
void	hitsort(struct pos_hit *v, size_t n, uint32_t max_rec);

#endif
