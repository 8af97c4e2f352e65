/* gstr.h - appending to a GString in hot loops (the JSON writer,
 * the office readers' text and cells).  Header-only, no state. */
#ifndef CUSTOS_GSTR_H
#define CUSTOS_GSTR_H

#include <string.h>

#include <glib.h>

/* Appends len bytes that do not lie in g.  g_string_append_len() goes
 * through g_string_insert_len(), which copes with overlap and costs a
 * few times more per call than the copy: a sheet's cells and an audit
 * line's keys and values are a few bytes each, and mostly fit. */
static inline void
gstr_append(GString *g, const char *s, size_t len)
{
	size_t at = g->len;

	if (len < g->allocated_len - at) {
		memcpy(g->str + at, s, len);
		g->len = at + len;
		g->str[g->len] = '\0';
		return;
	}
	g_string_set_size(g, at + len);
	memcpy(g->str + at, s, len);
}

#endif
