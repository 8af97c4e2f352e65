/* weakhead.h - weak literals found by their heads.
 *
 * Hyperscan's literal matcher confirms a hit by the literal's last
 * bytes, and a list's weak values share theirs by the thousand: company
 * names end in 科技, 贸易, 物流 or "trading" once their legal form is
 * gone, addresses in 号.  Every such word in the text was then checked
 * against all of them: a 100 KB message carrying 200 customers took
 * 226 us in the weak pass, 165 of them for 5,760 companies ending in
 * 科技 (test/bench/bench_weak_scan.c).  So the Hyperscan database holds
 * each value's head instead (its first WEAKHEAD_MAX bytes, cut between
 * characters; shorter values whole), one literal per distinct head,
 * and the rest of a value is checked here: the bytes after a head's
 * hit, as long as each value behind the head, are fingerprinted with
 * the list key and looked up among that head's values.  The same
 * 100 KB went to 40 us.
 *
 * The weak blob of a compiled table (table_blob) is then:
 *
 *   header  "CWHEAD1\0", u32 heads, u32 tails, u64 hs offset, u64 hs size
 *   tails   struct weakhead_tail, per head sorted by length, fingerprint
 *   heads   struct weakhead_head
 *   hs      the serialized Hyperscan database, literal id = head index
 *
 * A blob without the header is an older build's: its Hyperscan ids are
 * weak ids themselves (weakhead_open says so with heads NULL).  Values
 * past their head are kept as keyed fingerprints only, like strong
 * values: less of a list in clear than before.
 *
 * Thread-safe; an index points into the blob and is read-only.
 * Errors: -1 with text in err. */
#ifndef CUSTOS_WEAKHEAD_H
#define CUSTOS_WEAKHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "listkey.h"

#define WEAKHEAD_MAX	12	/* bytes of a value in the database */

struct weakhead_tail {
	uint64_t	fp;		/* the whole value's fingerprint */
	uint32_t	weak_id;	/* the table's weak id */
	uint16_t	len;		/* the whole value's bytes */
	uint16_t	pad;
};

struct weakhead_head {
	uint32_t	first;		/* its tails: first .. first + count */
	uint32_t	count;
	uint32_t	len;		/* the head's bytes */
};

struct weakhead_index {
	const struct weakhead_tail *tails;
	const struct weakhead_head *heads;	/* NULL: an older blob */
	uint32_t	ntails, nheads;
};

/* Bytes of the head of value s[0..len): len when it is at most
 * WEAKHEAD_MAX, else the longest prefix up to that which ends between
 * two UTF-8 characters. */
size_t	weakhead_len(const char *s, size_t len);

/* The fingerprint a tail holds of value s[0..len). */
uint64_t weakhead_fp(const struct listkey *, const char *s, size_t len);

/* The blob for the n canonical weak values lits (weak id = index):
 * heads, tails and their Hyperscan database.  *blob is malloc'd (NULL,
 * 0 when n is 0); *nheads gets the literals compiled. */
int	weakhead_build(const char *const *lits, size_t n,
	    const struct listkey *, char **blob, size_t *bloblen,
	    size_t *nheads, char *err, size_t errlen);

/* Reads blob[0..len) (8-byte aligned) of a table with nweak weak ids:
 * idx points into it, *hs and *hslen at the Hyperscan database.  Every
 * offset and id is checked, so lookups stay inside the blob. */
int	weakhead_open(const void *blob, size_t len, uint32_t nweak,
	    struct weakhead_index *idx, const void **hs, size_t *hslen,
	    char *err, size_t errlen);

/* The first of head h's tails (idx->tails[lo..hi)) with length len and
 * fingerprint fp, or hi when none: tails of one head are sorted. */
size_t	weakhead_seek(const struct weakhead_index *idx, size_t lo,
	    size_t hi, uint16_t len, uint64_t fp);

#endif
