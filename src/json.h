/* json.h - write JSON text into a growing string.
 *
 * Just enough for custos' output (one object per message, audit lines):
 * objects, arrays, strings, numbers, booleans, null.  Commas are placed
 * by the writer, so callers cannot get them wrong.  Strings are escaped
 * per RFC 8259; invalid UTF-8 becomes U+FFFD, so the output is always
 * valid JSON whatever came off the wire.
 *
 * Owns its GString until json_finish hands it over.  Not thread-safe.
 * Allocation failure aborts inside GLib (g_string_*), as GLib does. */
#ifndef CUSTOS_JSON_H
#define CUSTOS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define JSON_MAX_DEPTH	32

struct json {
	GString	*out;
	int	 depth;
	bool	 first[JSON_MAX_DEPTH];	/* no member written yet at depth */
	bool	 after_key;
};

void	 json_init(struct json *);
/* Returns the text (caller g_free()s it) and resets the writer. */
char	*json_finish(struct json *, size_t *len);
void	 json_reset(struct json *);		/* frees what was written */

void	 json_object_begin(struct json *);
void	 json_object_end(struct json *);
void	 json_array_begin(struct json *);
void	 json_array_end(struct json *);
void	 json_key(struct json *, const char *);

void	 json_string(struct json *, const char *);	/* NULL -> null */
void	 json_string_len(struct json *, const char *, size_t);
void	 json_int(struct json *, int64_t);
void	 json_uint(struct json *, uint64_t);
void	 json_double(struct json *, double, int decimals);
void	 json_bool(struct json *, bool);
void	 json_null(struct json *);

/* For many values of one shape (the record ids of an audit line): a
 * value put together once from quoted parts is cheaper than the writer
 * escaping every key and string again.  json_quote appends s to out
 * quoted and escaped as json_string would write it; json_raw writes
 * text that is one whole JSON value already, with the comma before it. */
void	 json_quote(GString *out, const char *s, size_t len);
void	 json_raw(struct json *, const char *text, size_t len);

/* key + value in one call, for the common case. */
void	 json_kv_string(struct json *, const char *key, const char *val);
void	 json_kv_uint(struct json *, const char *key, uint64_t val);

#endif
