/* spool.h - the raw message as received, in memory up to a limit and in
 * an unlinked temporary file beyond it, so memory per message is bounded
 * whatever the message size.
 *
 * Owns its buffer and file descriptor.  Not thread-safe; one per message.
 * Errors: -1 with text in err (disk full, no memory); the spool is then
 * unusable and the message must take the on_error path. */
#ifndef CUSTOS_SPOOL_H
#define CUSTOS_SPOOL_H

#include <stddef.h>
#include <gmime/gmime.h>

struct spool;

/* mem_limit: bytes kept in memory before moving to a file in dir. */
struct spool	*spool_new(size_t mem_limit, const char *dir);
struct spool	*spool_free(struct spool *);	/* NULL-safe, returns NULL */

int		 spool_write(struct spool *, const void *, size_t,
		    char *err, size_t errlen);
size_t		 spool_size(const struct spool *);
int		 spool_in_file(const struct spool *);	/* 1 or 0 */

/* A new GMime stream over everything written so far, positioned at the
 * start, and in *bytes and *len the same bytes, readable in place (memory,
 * or the file mapped read-only) so nothing is copied.  The caller unrefs
 * the stream; the bytes stay valid as long as the stream.  Do not write
 * to the spool meanwhile.  Returns NULL with text in err. */
GMimeStream	*spool_stream(struct spool *, const char **bytes, size_t *len,
		    char *err, size_t errlen);

#endif
