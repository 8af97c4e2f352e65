/* textseg.c - the segment set of one message.
 *
 * Owns two growing arrays (segments, unscannable notes) and a private
 * copy of every string stored in them; textseg_free() releases it all.
 * Fails only when memory runs out: the call returns NULL or -1 and the
 * set is left as it was before the call. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "textseg.h"

/* Enough for a simple message (headers, two bodies, an attachment)
 * without a realloc; larger ones double from here. */
#define TEXTSEG_FIRST_CAP	8

static char *
textseg_strdup(const char *s, int *failed)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		*failed = 1;
	return p;
}

/* Makes room for one more element of size esz in *arr.  Returns 0 or -1. */
static int
textseg_grow(void **arr, size_t n, size_t *cap, size_t esz)
{
	size_t	 ncap;
	void	*p;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? TEXTSEG_FIRST_CAP : *cap * 2;
	if (ncap < *cap || ncap > (size_t)-1 / esz)
		return -1;
	if ((p = realloc(*arr, ncap * esz)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static void
textseg_segment_clear(struct segment *s)
{
	free(s->source);
	free(s->charset);
	free(s->encoding);
	free(s->mime_type);
	free(s->sniffed_type);
	free(s->filename);
	free(s->text);
	memset(s, 0, sizeof *s);
}

struct textseg *
textseg_new(void)
{
	return calloc(1, sizeof(struct textseg));
}

struct textseg *
textseg_free(struct textseg *ts)
{
	size_t	 i;

	if (ts == NULL)
		return NULL;
	for (i = 0; i < ts->nseg; i++)
		textseg_segment_clear(&ts->seg[i]);
	for (i = 0; i < ts->nuns; i++) {
		free(ts->uns[i].reason);
		free(ts->uns[i].where);
	}
	free(ts->seg);
	free(ts->uns);
	free(ts);
	return NULL;
}

/* Appends a segment whose text (if any) is already the segment's own:
 * owned, len bytes and room for a NUL after them; freed on failure. */
static struct segment *
textseg_push(struct textseg *ts, const char *source, const char *mime_type,
    const char *charset, const char *encoding, char *owned, size_t len)
{
	struct segment	 s;
	int		 failed = 0;

	if (owned != NULL && len > (size_t)-1 - ts->text_bytes)
		failed = 1;
	else if (textseg_grow((void **)&ts->seg, ts->nseg, &ts->segcap,
	    sizeof *ts->seg) == -1)
		failed = 1;
	memset(&s, 0, sizeof s);
	if (owned != NULL) {
		s.text = owned;
		s.text[len] = '\0';
		s.text_len = len;
		s.raw_len = len;
	}
	if (failed) {
		textseg_segment_clear(&s);
		return NULL;
	}
	s.source = textseg_strdup(source, &failed);
	s.mime_type = textseg_strdup(mime_type, &failed);
	s.charset = textseg_strdup(charset, &failed);
	s.encoding = textseg_strdup(encoding, &failed);
	if (failed) {
		textseg_segment_clear(&s);
		return NULL;
	}

	ts->seg[ts->nseg] = s;
	ts->text_bytes += s.text_len;
	return &ts->seg[ts->nseg++];
}

struct segment *
textseg_add(struct textseg *ts, const char *source, const char *mime_type,
    const char *charset, const char *encoding, const char *text, size_t len)
{
	char	*copy = NULL;

	if (ts == NULL)
		return NULL;
	if (text != NULL) {
		if (len == (size_t)-1 || (copy = malloc(len + 1)) == NULL)
			return NULL;
		memcpy(copy, text, len);
	}
	return textseg_push(ts, source, mime_type, charset, encoding, copy,
	    len);
}

struct segment *
textseg_add_owned(struct textseg *ts, const char *source,
    const char *mime_type, const char *charset, const char *encoding,
    char *text, size_t len)
{
	if (ts == NULL) {
		free(text);
		return NULL;
	}
	return textseg_push(ts, source, mime_type, charset, encoding, text,
	    len);
}

int
textseg_set(char **field, const char *val)
{
	char	*p = NULL;

	if (field == NULL)
		return -1;
	if (val != NULL && (p = strdup(val)) == NULL)
		return -1;
	free(*field);
	*field = p;
	return 0;
}

int
textseg_unscannable(struct textseg *ts, const char *reason, const char *where)
{
	struct unscannable	 u;
	int			 failed = 0;

	if (ts == NULL || reason == NULL)
		return -1;
	if (textseg_grow((void **)&ts->uns, ts->nuns, &ts->unscap,
	    sizeof *ts->uns) == -1)
		return -1;
	u.reason = textseg_strdup(reason, &failed);
	u.where = textseg_strdup(where != NULL ? where : "message", &failed);
	if (failed) {
		free(u.reason);
		free(u.where);
		return -1;
	}
	ts->uns[ts->nuns++] = u;
	return 0;
}

int
textseg_has_unscannable(const struct textseg *ts, const char *reason)
{
	size_t	 i;

	if (ts == NULL || reason == NULL)
		return 0;
	for (i = 0; i < ts->nuns; i++)
		if (strcmp(ts->uns[i].reason, reason) == 0)
			return 1;
	return 0;
}

static bool
ts_streq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
textseg_same(const struct textseg *a, const struct textseg *b)
{
	size_t	 i;

	if (a->nseg != b->nseg || a->nuns != b->nuns)
		return false;
	for (i = 0; i < a->nseg; i++) {
		const struct segment *x = &a->seg[i], *y = &b->seg[i];

		if (!ts_streq(x->source, y->source) ||
		    !ts_streq(x->mime_type, y->mime_type) ||
		    !ts_streq(x->charset, y->charset) ||
		    !ts_streq(x->encoding, y->encoding) ||
		    !ts_streq(x->sniffed_type, y->sniffed_type) ||
		    !ts_streq(x->filename, y->filename) ||
		    x->raw_len != y->raw_len || x->text_len != y->text_len ||
		    (x->text == NULL) != (y->text == NULL) ||
		    (x->text != NULL &&
		    memcmp(x->text, y->text, x->text_len) != 0))
			return false;
	}
	for (i = 0; i < a->nuns; i++)
		if (!ts_streq(a->uns[i].reason, b->uns[i].reason) ||
		    !ts_streq(a->uns[i].where, b->uns[i].where))
			return false;
	return true;
}
