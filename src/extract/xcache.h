/* xcache.h - what an attachment gave the extractors, kept for the next
 * message that carries the same file.
 *
 * Why: the same file goes out again and again (a price list to every
 * customer, a brochure, a report forwarded down a chain), and reading an
 * office document costs far more than scanning its text: a 300 KB xlsx
 * is 1.9 MB of XML to inflate and tokenize, 7 ms of a 10 ms pipeline.
 * So a top-level attachment's extraction is recorded (its texts and
 * notes, in order, with the extract-size budget it took) and replayed
 * into the next message's walk when the same bytes arrive under the
 * same name and place: a hit gives the segments and notes a fresh
 * extraction would have given.  Each replayed text carries a key of its
 * own (textseg.h: the file's key, its place among the texts, its
 * length), so that the engine can keep its scan too (scanlog.h); a text
 * read for the first time has none, as it might have been cut short.
 *
 * What is kept: only complete extractions that no budget cut short (no
 * text-size, extract-size or time, no message inside, and only notes
 * that depend on the file alone), of files of at least XCACHE_MIN_FILE
 * bytes, each at most an eighth of the cache.  A hit is replayed only
 * when the message's extract-size budget can take all of it and its
 * time is not spent; otherwise the file is read again as usual.
 *
 * The key is a 128-bit SipHash of the file's bytes, its place (source
 * prefix), its name and its depth, under a key drawn at random for each
 * cache (blobcache.h): no one outside the process can make two files
 * collide.  The texts are customer data in clear: they stay in this
 * process's memory (as the message itself does while it is scanned),
 * are never written anywhere, and go with the configuration snapshot
 * that owns the cache.
 * Least recently used entries go first once the cache is full.
 *
 * Thread-safe (blobcache.h); replays run on a reference, outside the
 * cache's lock.  Errors: -1 only when out of memory, as extract_file. */
#ifndef CUSTOS_XCACHE_H
#define CUSTOS_XCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "extract/extract.h"

#define XCACHE_MIN_FILE	(16 * 1024)	/* smaller files are read again */

struct xcache;

struct xcache_stats {
	uint64_t	hits;		/* replayed */
	uint64_t	misses;		/* read (and maybe stored) */
	uint64_t	stored;
	uint64_t	evicted;
	size_t		entries;
	size_t		bytes;		/* held, of the cache's size */
};

/* A cache of at most max_bytes (texts, names and bookkeeping).  NULL
 * when max_bytes is 0 (no cache) or without memory. */
struct xcache	*xcache_new(size_t max_bytes);
struct xcache	*xcache_free(struct xcache *);	/* NULL-safe, returns NULL */

/* extract_file(ex, f) through the cache c (NULL: no cache): a stored
 * extraction of the same file is replayed into ex's sink, else the file
 * is read and its extraction stored when it can be.  Same returns as
 * extract_file. */
int		 xcache_extract(struct xcache *c, struct extract *ex,
		    const struct extract_file *f);

void		 xcache_get_stats(struct xcache *, struct xcache_stats *);

#endif
