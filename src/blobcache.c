/* blobcache.c - bounded LRU map of immutable blobs (see blobcache.h). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <sodium.h>

#include "blobcache.h"

#define BC_OVERHEAD	128	/* an entry's bookkeeping, for the bound */

_Static_assert(BLOBCACHE_KEY == crypto_shorthash_siphashx24_BYTES,
    "key size");

struct bc_entry {
	struct blob	 blob;		/* first: a blob is its entry */
	uint8_t		 key[BLOBCACHE_KEY];
	size_t		 size;		/* counted against the bound */
	unsigned	 refs;		/* the index's, and each reader's */
	GList		 link;		/* in lru; data is the entry */
};

struct blobcache {
	GMutex		 lock;
	GHashTable	*index;		/* key -> entry */
	GQueue		 lru;		/* most recently used first */
	size_t		 max_bytes, bytes;
	uint8_t		 secret[crypto_shorthash_siphashx24_KEYBYTES];
	struct blobcache_stats stats;
};

static guint
bc_hash(gconstpointer k)
{
	guint h;

	memcpy(&h, k, sizeof h);	/* already a keyed hash */
	return h;
}

static gboolean
bc_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, BLOBCACHE_KEY) == 0;
}

struct blobcache *
blobcache_new(size_t max_bytes)
{
	struct blobcache *c;

	if (max_bytes == 0 || sodium_init() < 0 ||
	    (c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	g_mutex_init(&c->lock);
	c->index = g_hash_table_new(bc_hash, bc_equal);
	g_queue_init(&c->lru);
	c->max_bytes = max_bytes;
	randombytes_buf(c->secret, sizeof c->secret);
	return c;
}

/* Drops a reference; under c->lock. */
static void
bc_unref_locked(struct bc_entry *e)
{
	if (--e->refs == 0) {
		g_free((void *)e->blob.data);
		free(e);
	}
}

struct blobcache *
blobcache_free(struct blobcache *c)
{
	GList *l, *next;

	if (c == NULL)
		return NULL;
	for (l = c->lru.head; l != NULL; l = next) {
		next = l->next;
		bc_unref_locked(l->data);
	}
	g_hash_table_destroy(c->index);
	g_mutex_clear(&c->lock);
	sodium_memzero(c->secret, sizeof c->secret);
	free(c);
	return NULL;
}

void
blobcache_key(const struct blobcache *c, const void *a, size_t alen,
    const void *b, size_t blen, uint8_t key[BLOBCACHE_KEY])
{
	uint8_t in[2 * BLOBCACHE_KEY];

	/* Each part hashed alone, then the two hashes: no part's bytes can
	 * pass for the other's. */
	(void)crypto_shorthash_siphashx24(in, a, alen, c->secret);
	(void)crypto_shorthash_siphashx24(in + BLOBCACHE_KEY, b != NULL ? b :
	    (const void *)"", blen, c->secret);
	(void)crypto_shorthash_siphashx24(key, in, sizeof in, c->secret);
}

size_t
blobcache_entry_max(const struct blobcache *c)
{
	return c->max_bytes / 8 > BC_OVERHEAD ? c->max_bytes / 8 -
	    BC_OVERHEAD : 0;
}

const struct blob *
blobcache_get(struct blobcache *c, const uint8_t key[BLOBCACHE_KEY])
{
	struct bc_entry *e;

	g_mutex_lock(&c->lock);
	if ((e = g_hash_table_lookup(c->index, key)) != NULL) {
		e->refs++;
		g_queue_unlink(&c->lru, &e->link);
		g_queue_push_head_link(&c->lru, &e->link);
		c->stats.hits++;
	} else
		c->stats.misses++;
	g_mutex_unlock(&c->lock);
	return e != NULL ? &e->blob : NULL;
}

void
blobcache_release(struct blobcache *c, const struct blob *b)
{
	g_mutex_lock(&c->lock);
	bc_unref_locked((struct bc_entry *)(void *)b);
	g_mutex_unlock(&c->lock);
}

/* Takes e out of the index and the list; under c->lock. */
static void
bc_evict_locked(struct blobcache *c, struct bc_entry *e)
{
	(void)g_hash_table_remove(c->index, e->key);
	g_queue_unlink(&c->lru, &e->link);
	c->bytes -= e->size;
	c->stats.evicted++;
	bc_unref_locked(e);
}

bool
blobcache_put(struct blobcache *c, const uint8_t key[BLOBCACHE_KEY],
    const void *data, size_t len)
{
	struct bc_entry *e;

	if (len > blobcache_entry_max(c) || (e = calloc(1, sizeof *e)) == NULL)
		return false;
	memcpy(e->key, key, BLOBCACHE_KEY);
	e->blob.data = g_memdup2(data, len);
	e->blob.len = len;
	e->size = len + BC_OVERHEAD;
	e->refs = 1;
	e->link.data = e;
	g_mutex_lock(&c->lock);
	if (g_hash_table_contains(c->index, e->key)) {
		/* another thread got there first */
		g_mutex_unlock(&c->lock);
		g_free((void *)e->blob.data);
		free(e);
		return false;
	}
	while (c->lru.tail != NULL && c->bytes + e->size > c->max_bytes)
		bc_evict_locked(c, c->lru.tail->data);
	g_hash_table_insert(c->index, e->key, e);
	g_queue_push_head_link(&c->lru, &e->link);
	c->bytes += e->size;
	c->stats.stored++;
	g_mutex_unlock(&c->lock);
	return true;
}

void
blobcache_get_stats(struct blobcache *c, struct blobcache_stats *st)
{
	memset(st, 0, sizeof *st);
	if (c == NULL)
		return;
	g_mutex_lock(&c->lock);
	*st = c->stats;
	st->entries = g_hash_table_size(c->index);
	st->bytes = c->bytes;
	g_mutex_unlock(&c->lock);
}
