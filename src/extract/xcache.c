/* xcache.c - extractions kept for the same file's next arrival (see
 * xcache.h). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "blobcache.h"
#include "extract/xcache.h"

/* A stored extraction is one blob: this header, then, in order, what
 * the sink got:
 *   'T' u32 source, u32 type (UINT32_MAX: none), u64 text, then the
 *       three strings, each followed by a NUL
 *   'N' u32 reason, u32 where, then the two strings, NUL after each
 * (lengths in host order: it never leaves the process). */
struct xc_header {
	uint64_t	taken;		/* of the extract-size budget */
	int32_t		rc;		/* extract_file's */
	uint32_t	pad;
};

struct xcache {
	struct blobcache	*store;
	GMutex			 lock;		/* the counts */
	uint64_t		 hits, misses;
};

/* Notes that depend on the file alone: the same bytes give them every
 * time.  The rest (budgets, time, a helper that could not start) depend
 * on the message or the moment, so such an extraction is not kept. */
static const char *const xc_file_notes[] = {
	"depth", "encrypted", "members", "pdf-pages", "ratio",
	"type-mismatch", "xml-depth", NULL
};

/* A live extraction being recorded: its sink forwards every call to
 * the walk's and keeps a copy while it can. */
struct xc_rec {
	const struct extract_sink	*real;
	struct extract_sink		 sink;
	GByteArray			*events;	/* NULL: not kept */
	size_t				 cap;
};

struct xcache *
xcache_new(size_t max_bytes)
{
	struct xcache *c;

	if (max_bytes == 0 || (c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	if ((c->store = blobcache_new(max_bytes)) == NULL) {
		free(c);
		return NULL;
	}
	g_mutex_init(&c->lock);
	return c;
}

struct xcache *
xcache_free(struct xcache *c)
{
	if (c == NULL)
		return NULL;
	(void)blobcache_free(c->store);
	g_mutex_clear(&c->lock);
	free(c);
	return NULL;
}

/* The file's key: its bytes, then where it is, its name and depth (the
 * sources and the type-mismatch note depend on them). */
static void
xc_key(const struct xcache *c, const struct extract_file *f,
    uint8_t key[BLOBCACHE_KEY])
{
	uint64_t depth = f->depth;
	GByteArray *b = g_byte_array_new();

	g_byte_array_append(b, (const guint8 *)&depth, sizeof depth);
	g_byte_array_append(b, (const guint8 *)f->where, (guint)strlen(
	    f->where) + 1);
	if (f->name != NULL)
		g_byte_array_append(b, (const guint8 *)f->name, (guint)strlen(
		    f->name) + 1);
	blobcache_key(c->store, f->data, f->len, b->data, b->len, key);
	g_byte_array_unref(b);
}

static void
xc_count(struct xcache *c, bool replayed)
{
	g_mutex_lock(&c->lock);
	if (replayed)
		c->hits++;
	else
		c->misses++;
	g_mutex_unlock(&c->lock);
}

/* ---- recording */

static void
xc_rec_drop(struct xc_rec *r)
{
	if (r->events != NULL)
		g_byte_array_unref(r->events);
	r->events = NULL;
}

static void
xc_put_u32(GByteArray *b, size_t v)
{
	uint32_t u = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;

	g_byte_array_append(b, (const guint8 *)&u, sizeof u);
}

static void
xc_put_str(GByteArray *b, const char *s, size_t len)
{
	g_byte_array_append(b, (const guint8 *)s, (guint)len);
	g_byte_array_append(b, (const guint8 *)"", 1);
}

/* Whether add more bytes fit within the entry's bound; drops the
 * record when they do not. */
static bool
xc_rec_room(struct xc_rec *r, size_t add)
{
	if (r->events == NULL)
		return false;
	if (add > r->cap || r->events->len > r->cap - add) {
		xc_rec_drop(r);
		return false;
	}
	return true;
}

static int
xc_rec_text(void *arg, const char *source, const char *type,
    const char *text, size_t len)
{
	struct xc_rec *r = arg;
	size_t slen = strlen(source), tlen = type != NULL ? strlen(type) : 0;
	uint64_t l64 = len;
	int rc;

	rc = r->real->text(r->real->arg, source, type, text, len);
	if (rc != 0)		/* the text budget is spent: not kept */
		xc_rec_drop(r);
	else if (xc_rec_room(r, 1 + 4 + 4 + 8 + slen + tlen + len + 3)) {
		g_byte_array_append(r->events, (const guint8 *)"T", 1);
		xc_put_u32(r->events, slen);
		xc_put_u32(r->events, type != NULL ? tlen : UINT32_MAX);
		g_byte_array_append(r->events, (const guint8 *)&l64,
		    sizeof l64);
		xc_put_str(r->events, source, slen);
		xc_put_str(r->events, type != NULL ? type : "", tlen);
		xc_put_str(r->events, text, len);
	}
	return rc;
}

static int
xc_rec_note(void *arg, const char *reason, const char *where)
{
	struct xc_rec *r = arg;
	size_t rlen = strlen(reason), wlen = strlen(where), i;
	bool file_only = false;

	for (i = 0; xc_file_notes[i] != NULL; i++)
		if (strcmp(reason, xc_file_notes[i]) == 0)
			file_only = true;
	if (!file_only)
		xc_rec_drop(r);
	else if (xc_rec_room(r, 1 + 4 + 4 + rlen + wlen + 2)) {
		g_byte_array_append(r->events, (const guint8 *)"N", 1);
		xc_put_u32(r->events, rlen);
		xc_put_u32(r->events, wlen);
		xc_put_str(r->events, reason, rlen);
		xc_put_str(r->events, where, wlen);
	}
	return r->real->note(r->real->arg, reason, where);
}

/* A message inside (an .eml in a zip) is walked by message.c, with its
 * own budgets and parts: such a file is read each time. */
static int
xc_rec_message(void *arg, const char *prefix, const unsigned char *data,
    size_t len)
{
	struct xc_rec *r = arg;

	xc_rec_drop(r);
	return r->real->message(r->real->arg, prefix, data, len);
}

static bool
xc_rec_expired(void *arg)
{
	struct xc_rec *r = arg;

	if (r->real->expired == NULL || !r->real->expired(r->real->arg))
		return false;
	xc_rec_drop(r);
	return true;
}

/* ---- replay */

static uint32_t
xc_get_u32(const guint8 **p)
{
	uint32_t u;

	memcpy(&u, *p, sizeof u);
	*p += sizeof u;
	return u;
}

/* Gives the texts and notes of blob b, kept under key, to ex's sink as
 * the extractors did.  Each text goes with a key of its own (the file's,
 * its place among the texts and its length), so that its scan can be
 * kept too (scanlog.h): only texts given again get one, as only they
 * are sure to be whole. */
static int
xc_replay(const struct xcache *c, struct extract *ex, const struct blob *b,
    const uint8_t key[BLOBCACHE_KEY])
{
	const guint8 *p = b->data + sizeof(struct xc_header), *end = b->data +
	    b->len;
	struct xc_header h;
	uint8_t text_key[BLOBCACHE_KEY];
	uint64_t which[2] = { 0, 0 };

	memcpy(&h, b->data, sizeof h);
	ex->bytes_used += h.taken;
	while (p < end) {
		char kind = (char)*p++;
		uint32_t la = xc_get_u32(&p), lb = xc_get_u32(&p);

		if (kind == 'T') {
			const char *source, *type, *text;
			uint64_t len;
			int rc;

			memcpy(&len, p, sizeof len);
			p += sizeof len;
			source = (const char *)p;
			p += la + 1;
			type = lb == UINT32_MAX ? NULL : (const char *)p;
			p += (lb == UINT32_MAX ? 0 : lb) + 1;
			text = (const char *)p;
			p += len + 1;
			which[1] = len;
			blobcache_key(c->store, key, BLOBCACHE_KEY, which,
			    sizeof which, text_key);
			which[0]++;
			ex->text_key = text_key;
			rc = extract_text(ex, source, type, text, (size_t)len);
			ex->text_key = NULL;
			if (rc != 0)
				return rc < 0 ? -1 : h.rc;
		} else {
			const char *reason = (const char *)p, *where;

			p += la + 1;
			where = (const char *)p;
			p += lb + 1;
			if (extract_note(ex, reason, where) != 0)
				return -1;
		}
	}
	return h.rc;
}

/* Whether replaying blob b now gives what reading the file would: the
 * message's extract-size budget takes all of it and its time is left.
 * (The text budget needs no test: the walk cuts a replayed text where
 * it would cut a read one, and the extractors stop there too.) */
static bool
xc_replayable(struct extract *ex, const struct blob *b)
{
	struct xc_header h;

	memcpy(&h, b->data, sizeof h);
	if (ex->bytes_used > ex->lim->max_bytes ||
	    h.taken > ex->lim->max_bytes - ex->bytes_used)
		return false;
	return ex->sink->expired == NULL || !ex->sink->expired(ex->sink->arg);
}

int
xcache_extract(struct xcache *c, struct extract *ex,
    const struct extract_file *f)
{
	uint8_t key[BLOBCACHE_KEY];
	const struct blob *b;
	struct xc_header h;
	struct xc_rec r;
	size_t before;
	int rc;

	if (c == NULL || f->len < XCACHE_MIN_FILE || ex->stop || ex->oom)
		return extract_file(ex, f);
	xc_key(c, f, key);
	if ((b = blobcache_get(c->store, key)) != NULL) {
		if (xc_replayable(ex, b)) {
			rc = xc_replay(c, ex, b, key);
			blobcache_release(c->store, b);
			xc_count(c, true);
			if (rc < 0)
				ex->oom = true;
			return rc;
		}
		blobcache_release(c->store, b);
	}
	memset(&r, 0, sizeof r);
	r.real = ex->sink;
	r.sink.text = xc_rec_text;
	r.sink.note = xc_rec_note;
	r.sink.message = xc_rec_message;
	r.sink.expired = xc_rec_expired;
	r.sink.arg = &r;
	r.events = g_byte_array_new();
	memset(&h, 0, sizeof h);
	g_byte_array_append(r.events, (const guint8 *)&h, sizeof h);
	/* a GByteArray holds under 4 GiB */
	r.cap = blobcache_entry_max(c->store);
	if (r.cap > (1u << 30))
		r.cap = 1u << 30;
	before = ex->bytes_used;
	ex->sink = &r.sink;
	rc = extract_file(ex, f);
	ex->sink = r.real;
	xc_count(c, false);
	/* Only a whole reading is kept: one that stopped (a budget, time,
	 * no memory) says nothing of the file alone. */
	if (rc == 1 && r.events != NULL && !ex->stop && !ex->oom) {
		h.taken = ex->bytes_used - before;
		h.rc = rc;
		memcpy(r.events->data, &h, sizeof h);
		(void)blobcache_put(c->store, key, r.events->data,
		    r.events->len);
	}
	xc_rec_drop(&r);
	return rc;
}

void
xcache_get_stats(struct xcache *c, struct xcache_stats *st)
{
	struct blobcache_stats bs;

	memset(st, 0, sizeof *st);
	if (c == NULL)
		return;
	blobcache_get_stats(c->store, &bs);
	g_mutex_lock(&c->lock);
	st->hits = c->hits;
	st->misses = c->misses;
	g_mutex_unlock(&c->lock);
	st->stored = bs.stored;
	st->evicted = bs.evicted;
	st->entries = bs.entries;
	st->bytes = bs.bytes;
}
