/* json.c - the JSON writer (see json.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "charset.h"
#include "gstr.h"
#include "json.h"

void
json_init(struct json *j)
{
	memset(j, 0, sizeof *j);
	j->out = g_string_sized_new(1024);
	j->first[0] = true;
}

void
json_reset(struct json *j)
{
	if (j->out != NULL)
		g_string_free(j->out, TRUE);
	memset(j, 0, sizeof *j);
}

char *
json_finish(struct json *j, size_t *len)
{
	char *s;

	if (len != NULL)
		*len = j->out->len;
	s = g_string_free(j->out, FALSE);
	memset(j, 0, sizeof *j);
	return s;
}

/* Writes the comma before a value, unless it follows its key. */
static void
json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		g_string_append_c(j->out, ',');
	j->first[j->depth] = false;
}

static void
json_open(struct json *j, char c)
{
	json_sep(j);
	g_string_append_c(j->out, c);
	/* Deeper than we ever write: keep writing flat, still valid. */
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void
json_close(struct json *j, char c)
{
	g_string_append_c(j->out, c);
	if (j->depth > 0)
		j->depth--;
}

void json_object_begin(struct json *j) { json_open(j, '{'); }
void json_object_end(struct json *j) { json_close(j, '}'); }
void json_array_begin(struct json *j) { json_open(j, '['); }
void json_array_end(struct json *j) { json_close(j, ']'); }

/* Bytes that go out as they are: printable ASCII other than the quote
 * and the backslash. */
static const unsigned char json_plain[256] = {
	[' ' ... '!'] = 1, ['#' ... '['] = 1, [']' ... '~'] = 1
};

/* Appends s, every byte of it plain, quoted in one copy instead of
 * three appends: record ids, list names, keys, most of an audit line.
 * false (nothing written) when it does not fit the buffer. */
static inline bool
json_quote_plain(GString *out, const char *s, size_t len)
{
	size_t at = out->len;
	char *d;

	if (len + 2 >= out->allocated_len - at)
		return false;
	d = out->str + at;
	d[0] = '"';
	memcpy(d + 1, s, len);
	d[len + 1] = '"';
	d[len + 2] = '\0';
	out->len = at + len + 2;
	return true;
}

static void
json_escape(GString *out, const char *s, size_t len)
{
	const char *end = s + len, *p = s;

	/* The leading plain run (most often the whole string) is found
	 * once: a string that is not all plain goes on after it. */
	while (p < end && json_plain[(unsigned char)*p])
		p++;
	if (p == end && json_quote_plain(out, s, len))
		return;
	g_string_append_c(out, '"');
	gstr_append(out, s, (size_t)(p - s));
	s = p;
	while (s < end) {
		const char *run = s;
		unsigned char c;
		size_t n;

		/* Printable ASCII other than the quote and backslash, the
		 * bulk of every string, goes out a run at a time. */
		while (s < end && json_plain[(unsigned char)*s])
			s++;
		if (s > run)
			gstr_append(out, run, (size_t)(s - run));
		if (s == end)
			break;
		c = (unsigned char)*s;
		if (c >= 0x80) {
			/* Copy one valid UTF-8 character, or U+FFFD. */
			n = charset_utf8_len((const unsigned char *)s,
			    (size_t)(end - s));
			if (n == 0) {
				gstr_append(out, "\xef\xbf\xbd", 3);
				s++;
			} else {
				gstr_append(out, s, n);
				s += n;
			}
			continue;
		}
		switch (c) {
		case '"': gstr_append(out, "\\\"", 2); break;
		case '\\': gstr_append(out, "\\\\", 2); break;
		case '\n': gstr_append(out, "\\n", 2); break;
		case '\r': gstr_append(out, "\\r", 2); break;
		case '\t': gstr_append(out, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7f)
				g_string_append_printf(out, "\\u%04x", c);
			else
				g_string_append_c(out, (char)c);
		}
		s++;
	}
	g_string_append_c(out, '"');
}

void
json_key(struct json *j, const char *key)
{
	json_sep(j);
	json_escape(j->out, key, strlen(key));
	g_string_append_c(j->out, ':');
	j->after_key = true;
}

void
json_quote(GString *out, const char *s, size_t len)
{
	json_escape(out, s, len);
}

void
json_raw(struct json *j, const char *text, size_t len)
{
	json_sep(j);
	gstr_append(j->out, text, len);
}

void
json_string_len(struct json *j, const char *s, size_t len)
{
	json_sep(j);
	json_escape(j->out, s, len);
}

void
json_string(struct json *j, const char *s)
{
	if (s == NULL)
		json_null(j);
	else
		json_string_len(j, s, strlen(s));
}

void
json_int(struct json *j, int64_t v)
{
	json_sep(j);
	g_string_append_printf(j->out, "%" PRId64, v);
}

void
json_uint(struct json *j, uint64_t v)
{
	json_sep(j);
	g_string_append_printf(j->out, "%" PRIu64, v);
}

void
json_double(struct json *j, double v, int decimals)
{
	char buf[64];

	json_sep(j);
	/* JSON has no NaN or infinity. */
	if (v != v || v > 1e300 || v < -1e300)
		v = 0;
	(void)snprintf(buf, sizeof buf, "%.*f", decimals, v);
	g_string_append(j->out, buf);
}

void
json_bool(struct json *j, bool v)
{
	json_sep(j);
	g_string_append(j->out, v ? "true" : "false");
}

void
json_null(struct json *j)
{
	json_sep(j);
	g_string_append(j->out, "null");
}

void
json_kv_string(struct json *j, const char *key, const char *val)
{
	json_key(j, key);
	json_string(j, val);
}

void
json_kv_uint(struct json *j, const char *key, uint64_t val)
{
	json_key(j, key);
	json_uint(j, val);
}
