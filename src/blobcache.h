/* blobcache.h - a bounded map from 128-bit keys to immutable byte
 * strings, least recently used out first.
 *
 * Why: custos keeps what reading an attachment gave (extract/xcache.c)
 * and what scanning a large segment found (scan.c), for the next message
 * with the same bytes; both need the same bounded, thread-safe store.
 *
 * Keys are keyed hashes (blobcache_key: SipHash-128 under a secret drawn
 * for each cache), so nobody outside the process can make two inputs
 * share one.  A blob is copied in once and never changes; a reader holds
 * a reference while it uses one, so eviction never frees a blob in use.
 * One entry may take at most an eighth of the cache.
 *
 * Thread-safe: one mutex around the index, none while a blob is read.
 * Errors: none; a cache without memory keeps nothing. */
#ifndef CUSTOS_BLOBCACHE_H
#define CUSTOS_BLOBCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOBCACHE_KEY	16

struct blobcache;

struct blob {
	const uint8_t	*data;
	size_t		 len;
};

struct blobcache_stats {
	uint64_t	hits;		/* blobcache_get found one */
	uint64_t	misses;
	uint64_t	stored;
	uint64_t	evicted;
	size_t		entries;
	size_t		bytes;		/* held, bookkeeping included */
};

/* A cache of at most max_bytes.  NULL when max_bytes is 0 or without
 * memory. */
struct blobcache *blobcache_new(size_t max_bytes);
struct blobcache *blobcache_free(struct blobcache *);	/* NULL-safe */

/* The key of a[0..alen) then b[0..blen) (b may be NULL, blen 0). */
void	blobcache_key(const struct blobcache *, const void *a, size_t alen,
	    const void *b, size_t blen, uint8_t key[BLOBCACHE_KEY]);

/* The blob kept under key, with a reference for the caller, made the
 * most recently used; NULL when there is none. */
const struct blob *blobcache_get(struct blobcache *,
	    const uint8_t key[BLOBCACHE_KEY]);
/* Gives back a reference blobcache_get gave. */
void	blobcache_release(struct blobcache *, const struct blob *);

/* Keeps a copy of data[0..len) under key, making room by dropping the
 * least recently used.  False when it is not kept: larger than an
 * eighth of the cache, or the key is there already. */
bool	blobcache_put(struct blobcache *, const uint8_t key[BLOBCACHE_KEY],
	    const void *data, size_t len);

/* The largest blob blobcache_put keeps. */
size_t	blobcache_entry_max(const struct blobcache *);

void	blobcache_get_stats(struct blobcache *, struct blobcache_stats *);

#endif
