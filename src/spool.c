/* spool.c - memory-then-file storage of one raw message.
 *
 * The memory part is a GByteArray so GMime can read it in place (a
 * non-owning memory stream) without a copy.  The file is created with
 * mkstemp and unlinked at once: nothing is left behind if the process
 * dies, and no other process can open it by name.
 *
 * Owns the array and the descriptor.  Errors: -1/NULL with err text. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fdio.h"
#include "spool.h"

struct spool {
	GByteArray	*mem;		/* NULL once moved to the file */
	int		 fd;		/* -1 until moved */
	size_t		 size;
	size_t		 mem_limit;
	char		*dir;
};

struct spool *
spool_new(size_t mem_limit, const char *dir)
{
	struct spool *s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->fd = -1;
	s->mem_limit = mem_limit;
	if ((s->dir = strdup(dir != NULL && *dir != '\0' ? dir : "/tmp"))
	    == NULL) {
		free(s);
		return NULL;
	}
	/* Start small: most mail is a few KB. */
	s->mem = g_byte_array_sized_new(mem_limit < 16384 ? mem_limit : 16384);
	return s;
}

struct spool *
spool_free(struct spool *s)
{
	if (s == NULL)
		return NULL;
	if (s->mem != NULL)
		g_byte_array_unref(s->mem);
	if (s->fd >= 0)
		(void)close(s->fd);
	free(s->dir);
	free(s);
	return NULL;
}

static int
spool_write_fd(int fd, const char *p, size_t len, char *err, size_t errlen)
{
	if (fd_write_all(fd, p, len) != 0) {
		(void)snprintf(err, errlen, "spool write: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Moves what is in memory into a new unlinked file in s->dir. */
static int
spool_to_file(struct spool *s, char *err, size_t errlen)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof path, "%s/custos.XXXXXX", s->dir) >=
	    (int)sizeof path) {
		(void)snprintf(err, errlen, "spool_dir path too long");
		return -1;
	}
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0) {
		(void)snprintf(err, errlen, "spool file in %s: %s", s->dir,
		    strerror(errno));
		return -1;
	}
	(void)unlink(path);
	if (spool_write_fd(fd, (const char *)s->mem->data, s->mem->len, err,
	    errlen) != 0) {
		(void)close(fd);
		return -1;
	}
	g_byte_array_unref(s->mem);
	s->mem = NULL;
	s->fd = fd;
	return 0;
}

int
spool_write(struct spool *s, const void *buf, size_t len, char *err,
    size_t errlen)
{
	if (s->mem != NULL && s->size + len > s->mem_limit &&
	    spool_to_file(s, err, errlen) != 0)
		return -1;
	if (s->mem != NULL) {
		/* GByteArray lengths are guint; mem_limit keeps us far
		 * below that. */
		g_byte_array_append(s->mem, buf, (guint)len);
	} else if (spool_write_fd(s->fd, buf, len, err, errlen) != 0)
		return -1;
	s->size += len;
	return 0;
}

size_t
spool_size(const struct spool *s)
{
	return s->size;
}

int
spool_in_file(const struct spool *s)
{
	return s->fd >= 0;
}

GMimeStream *
spool_stream(struct spool *s, const char **bytes, size_t *len, char *err,
    size_t errlen)
{
	GMimeStream *st;
	int fd;

	*len = s->size;
	if (s->mem != NULL) {
		st = g_mime_stream_mem_new_with_byte_array(s->mem);
		/* The spool keeps the array; GMime only reads it. */
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
		*bytes = (const char *)s->mem->data;
		return st;
	}
	/* Mapped, not read into the heap: a large message costs page cache
	 * the kernel can reclaim, not memory per connection.  The stream
	 * owns (and closes) its own descriptor. */
	if ((fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		(void)snprintf(err, errlen, "spool reopen: %s",
		    strerror(errno));
		return NULL;
	}
	st = g_mime_stream_mmap_new_with_bounds(fd, PROT_READ, MAP_PRIVATE, 0,
	    (gint64)s->size);
	if (st == NULL) {
		(void)snprintf(err, errlen, "spool map: %s", strerror(errno));
		(void)close(fd);
		return NULL;
	}
	*bytes = GMIME_STREAM_MMAP(st)->map;
	return st;
}
