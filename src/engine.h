/* engine.h - the detection engine: what is loaded once and shared by all
 * milter threads, and the scan of one message's segments.
 *
 * An engine holds the list key, the compiled customer-list table
 * (table.h) with its weak-literal Hyperscan database, and the candidate
 * database (shapes of strong values, e-mail addresses, tokens, and the
 * classification keywords), compiled at load.  It is read-only once
 * loaded, reference-counted, and swapped whole on reload; messages in
 * flight finish on the engine they started with.
 *
 * engine_scan is thread-safe: each thread gets its own Hyperscan
 * scratch, kept in thread-local storage and grown for each new engine.
 * Errors: NULL or -1 with text in err; never exits. */
#ifndef CUSTOS_ENGINE_H
#define CUSTOS_ENGINE_H

#include <stddef.h>

#include "blobcache.h"
#include "findings.h"
#include "textseg.h"

struct conf;
struct engine;

/* Loads what c names.  When c has lists: the key file (refused if group
 * or world can read it) and the compiled table; if the table is missing
 * or older than its sources and the sources are readable, it is compiled
 * first (listbuild.h).  Without lists: detectors and keywords only. */
struct engine	*engine_load(const struct conf *c, char *err, size_t errlen);
struct engine	*engine_ref(struct engine *);
void		 engine_unref(struct engine *);		/* NULL-safe */

/* Verify compiled tables' digests at load (slow for big lists; for
 * checks, not for the milter's start).  Default: off. */
void		 engine_verify_tables(bool);

/* "" when no list is loaded. */
const char	*engine_list_version(const struct engine *);

/* The kept scans' counts (scanlog.h); zeros without them. */
void		 engine_kept_scans(const struct engine *,
		    struct blobcache_stats *);

/* Scans every text segment of t into f (initialised by the caller). */
int		 engine_scan(const struct engine *, const struct textseg *t,
		    struct findings *f, char *err, size_t errlen);

#endif
