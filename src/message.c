/* message.c - a raw message, parsed by GMime, cut into text segments.
 *
 * Parses once, then walks the MIME tree depth-first with an explicit
 * depth counter.  Every part is read once, through a transfer-decoding
 * stream, in bounded chunks.  Sources it emits (with "attachment \"NAME\"
 * > " in front for everything inside an attached message):
 *   header Subject, header Comments, header Keywords   message headers
 *   header Content-Description                        a part's header
 *   body TYPE                                         inline part
 *   attachment "NAME"                                 part with a name
 *   attachment #N TYPE                                unnamed attachment
 *   attachment name                                   text = file name
 *   body preamble, body epilogue                      around a multipart
 *   header invalid                                    line GMime skipped
 *   body raw                                          GMime gave up
 * Opaque parts are segments with no text and a sniffed type.
 *
 * Owns the GMime objects of one call and frees them before returning;
 * segments belong to the caller's textseg.  Limits (depth, parts, header
 * size, text size, time) add unscannable notes and never fail the call;
 * only out-of-memory fails it, with text in the caller's buffer. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "b64.h"
#include "charset.h"
#include "html.h"
#include "message.h"
#include "extract/xcache.h"
#include "sniff.h"

#define MSG_CHUNK	65536	/* one read from a decoding stream */
#define MSG_HEAD	4096	/* bytes kept for sniffing */
#define MSG_NAME_MAX	200	/* bytes of a file name used in a path */

struct walk {
	const struct message_limits	*lim;
	struct textseg			*out;
	gint64				 deadline;	/* 0: none */
	size_t				 nparts;
	size_t				 nattach;	/* unnamed, for "#N" */
	size_t				 text_used;
	int				 text_full;	/* budget spent */
	int				 text_noted;	/* and said so */
	int				 stop;		/* parts or time */
	int				 oom;
	GPtrArray			*badlines;	/* header lines GMime skipped */
	int				 gmime_depth;	/* GMime's own limit hit */
	size_t				 badbytes;
	/* Attachments: the extractors' shared budgets, and the MIME
	 * depth of the part being extracted (for messages inside). */
	struct extract			 ex;
	struct extract_sink		 sink;
	size_t				 cur_depth;
};

static const char *const msg_text_apps[] = {
	"csv", "ecmascript", "javascript", "json", "ld+json", "sql",
	"tab-separated-values", "x-csv", "x-javascript", "x-ndjson", "x-sh",
	"x-sql", "x-yaml", "xhtml+xml", "xml", "yaml", NULL
};

/* File names that promise text whatever type the sender declared:
 * Outlook sends .csv as application/vnd.ms-excel, many clients send
 * everything as application/octet-stream. */
static const char *const msg_text_exts[] = {
	"conf", "csv", "htm", "html", "ini", "json", "log", "md", "sql",
	"text", "tsv", "txt", "vcf", "xml", "yaml", "yml", NULL
};

static int	msg_walk_object(struct walk *, GMimeObject *, const char *,
		    size_t);
void
message_limits_default(struct message_limits *lim)
{
	lim->max_depth = 20;
	lim->max_parts = 1000;
	lim->max_header_bytes = 1024 * 1024;
	lim->max_text_bytes = 64 * 1024 * 1024;
	lim->max_seconds = 20;
	extract_limits_default(&lim->extract);
	lim->cache_bytes = 0;
	lim->cache = NULL;
}

void
message_init(void)
{
	/* Tried in order for 8-bit header text and unlabelled words;
	 * windows-1252 last because it decodes any byte. */
	static const char	*fallback[] = {
		"utf-8", "gb18030", "windows-1252", NULL
	};

	g_mime_init();
	g_mime_parser_options_set_fallback_charsets(
	    g_mime_parser_options_get_default(), fallback);
}

void
message_shutdown(void)
{
	g_mime_shutdown();
}

static int
msg_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive: does s[0..len) start with the lower-case word w? */
static int
msg_prefix(const char *s, size_t len, const char *w)
{
	size_t	 i;

	for (i = 0; w[i] != '\0'; i++)
		if (i >= len || msg_lower((unsigned char)s[i]) != w[i])
			return 0;
	return 1;
}

/*
 * Counts header lines that open a multipart or an embedded message:
 * "Content-Type:" at the start of a line whose value (on that line or its
 * folded continuation) names "multipart/" or "message/".
 *
 * Why: GMime's parser recurses once per nested multipart or message.
 * Older GMime has no depth limit at all, and 3.2's (about a thousand
 * levels, GMIME_CRIT_NESTING_OVERFLOW) is still a deep recursion for a
 * milter thread's stack; a small message nested 100000 deep must not get
 * that far, and our walk only starts after the parse.  Every
 * level of nesting needs one such line, so this count bounds the depth
 * GMime will reach; if it exceeds max_parts we do not hand the message
 * to GMime at all.  It overcounts (lines inside bodies also count),
 * which errs towards "unscannable", never towards a crash.  Linear: each
 * byte is looked at a bounded number of times.
 */
static size_t
msg_prescan(const char *raw, size_t len)
{
	const char	*nl;
	size_t		 i = 0, j, n = 0, stop;

	while (i < len) {
		if (msg_prefix(raw + i, len - i, "content-type")) {
			j = i + 12;
			while (j < len && (raw[j] == ' ' || raw[j] == '\t'))
				j++;
			if (j < len && raw[j] == ':') {
				/* The value, through folded lines, but no
				 * further than a few kilobytes. */
				stop = len - j > 4096 ? j + 4096 : len;
				for (j++; j < stop; j++) {
					if (raw[j] == '\n' && (j + 1 >= len ||
					    (raw[j + 1] != ' ' &&
					    raw[j + 1] != '\t')))
						break;
					if (msg_prefix(raw + j, len - j,
					    "multipart/") ||
					    msg_prefix(raw + j, len - j,
					    "message/")) {
						n++;
						break;
					}
				}
			}
		}
		if ((nl = memchr(raw + i, '\n', len - i)) == NULL)
			break;
		i = (size_t)(nl - raw) + 1;
	}
	return n;
}

static size_t
msg_text_left(const struct walk *w)
{
	if (w->text_full || w->text_used >= w->lim->max_text_bytes)
		return 0;
	return w->lim->max_text_bytes - w->text_used;
}

static int
msg_note(struct walk *w, const char *reason, const char *where)
{
	if (textseg_unscannable(w->out, reason, where) == -1) {
		w->oom = 1;
		return -1;
	}
	return 0;
}

/* Marks the text budget spent; says so once. */
static void
msg_text_full(struct walk *w, const char *where)
{
	if (!w->text_noted)
		(void)msg_note(w, "text-size", where);
	w->text_noted = 1;
	w->text_full = 1;
}

/* Whether some of text[0..*len) goes in within the text budget, and
 * *len what does, cut on a character boundary when it does not all
 * fit.  False when the budget is spent (or memory was). */
static bool
msg_text_fits(struct walk *w, const char *text, size_t *len,
    const char *where)
{
	size_t	 left = msg_text_left(w);

	if (w->oom)
		return false;
	if (left == 0) {
		msg_text_full(w, where);
		return false;
	}
	if (*len > left) {
		*len = left;
		while (*len > 0 && ((unsigned char)text[*len] & 0xc0) == 0x80)
			(*len)--;
		msg_text_full(w, where);
	}
	return true;
}

/* Appends a text segment within the text budget (msg_text_fits).
 * Returns the segment, or NULL when nothing was added (budget spent, or
 * out of memory). */
static struct segment *
msg_add_text(struct walk *w, const char *source, const char *mime_type,
    const char *charset, const char *encoding, const char *text, size_t len,
    const char *where)
{
	struct segment	*s;

	if (!msg_text_fits(w, text, &len, where))
		return NULL;
	if ((s = textseg_add(w->out, source, mime_type, charset, encoding,
	    text, len)) == NULL) {
		w->oom = 1;
		return NULL;
	}
	w->text_used += len;
	return s;
}

/* The same for text made for the segment (malloc'd, NUL-terminated at
 * len: charset_to_utf8's, html_to_text's), which the segment takes
 * instead of a copy: *text is the segment's, or freed, and NULL after. */
static struct segment *
msg_add_text_owned(struct walk *w, const char *source,
    const char *mime_type, const char *charset, const char *encoding,
    char **text, size_t len, const char *where)
{
	struct segment	*s;
	char		*t = *text;

	*text = NULL;
	if (!msg_text_fits(w, t, &len, where)) {
		free(t);
		return NULL;
	}
	if ((s = textseg_add_owned(w->out, source, mime_type, charset,
	    encoding, t, len)) == NULL) {
		w->oom = 1;
		return NULL;
	}
	w->text_used += len;
	return s;
}

/* Adds bytes of unknown charset (a preamble, a skipped header line) as a
 * text segment, unless they are only white space. */
static void
msg_add_untagged(struct walk *w, const char *source, const char *text,
    size_t len, const char *where)
{
	char	*u;
	size_t	 ulen, i;
	int	 truncated = 0;

	for (i = 0; i < len; i++)
		if (!g_ascii_isspace(text[i]))
			break;
	if (i == len || w->oom)
		return;
	if (charset_to_utf8(text, len, NULL, msg_text_left(w), &u, &ulen,
	    NULL, &truncated) == -1) {
		w->oom = 1;
		return;
	}
	(void)msg_add_text_owned(w, source, NULL, NULL, NULL, &u, ulen, where);
	if (truncated)
		msg_text_full(w, where);
}

/* GMime drops a header line without a colon (and what it cannot name),
 * but a sender can put anything there; keep the line so that it is
 * scanned.  Bounded by max_header_bytes in all. */
static void
msg_parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
    gpointer arg)
{
	struct walk	*w = arg;
	size_t		 n;

	(void)offset;
	if (code == GMIME_CRIT_NESTING_OVERFLOW)
		w->gmime_depth = 1;
	if (code != GMIME_CRIT_INVALID_HEADER_NAME || item == NULL)
		return;
	n = strlen(item);
	if (n > w->lim->max_header_bytes - w->badbytes ||
	    w->badbytes > w->lim->max_header_bytes)
		return;
	w->badbytes += n;
	g_ptr_array_add(w->badlines, g_strdup(item));
}

/* Makes a malloc'd string valid UTF-8 (GMime decodes 8-bit header text
 * with the fallback charsets, but we do not rely on it).  Takes and
 * returns ownership of a g_malloc'd string; NULL when out of memory. */
static char *
msg_utf8(char *s)
{
	char	*u, *g;
	size_t	 ulen;

	if (s == NULL || g_utf8_validate(s, -1, NULL))
		return s;
	if (charset_to_utf8(s, strlen(s), NULL, 0, &u, &ulen, NULL,
	    NULL) == -1) {
		g_free(s);
		return NULL;
	}
	g = g_strndup(u, ulen);
	free(u);
	g_free(s);
	return g;
}

/* The RFC 2047-decoded, unfolded, trimmed value of a header, as UTF-8.
 * NULL when empty or out of memory (*oom tells which). */
static char *
msg_header_text(GMimeHeader *h, int *oom)
{
	const char	*raw = g_mime_header_get_raw_value(h);
	char		*unf, *dec;

	if (raw == NULL)
		return NULL;
	if ((unf = g_mime_utils_header_unfold(raw)) == NULL)
		return NULL;
	dec = g_mime_utils_header_decode_text(NULL, unf);
	g_free(unf);
	if (dec == NULL)
		return NULL;
	if ((dec = msg_utf8(dec)) == NULL) {
		*oom = 1;
		return NULL;
	}
	g_strstrip(dec);
	if (*dec == '\0') {
		g_free(dec);
		return NULL;
	}
	return dec;
}

/* 1 if the header block of obj fits max_header_bytes; else notes it. */
static int
msg_headers_fit(struct walk *w, GMimeObject *obj, const char *where)
{
	GMimeHeaderList	*hl = g_mime_object_get_header_list(obj);
	GMimeHeader	*h;
	const char	*s;
	size_t		 total = 0;
	int		 i, n;

	if (hl == NULL)
		return 1;
	n = g_mime_header_list_get_count(hl);
	for (i = 0; i < n; i++) {
		if ((h = g_mime_header_list_get_header_at(hl, i)) == NULL)
			continue;
		if ((s = g_mime_header_get_raw_name(h)) != NULL)
			total += strlen(s);
		if ((s = g_mime_header_get_raw_value(h)) != NULL)
			total += strlen(s);
	}
	if (total <= w->lim->max_header_bytes)
		return 1;
	(void)msg_note(w, "header-size", where);
	return 0;
}

/* A message's header fields whose text is scanned (msg_extract, and
 * msg_walk_message for an attached one).  Also what msg_head_read_fields
 * keeps: one list, so that a field added here is never left out of the
 * parse that reads it. */
static const char *const msg_top_fields[] = {
	"Subject", "Comments", "Keywords", NULL
};

/* Adds a segment for every header of obj named in names. */
static void
msg_header_segments(struct walk *w, GMimeObject *obj, const char *prefix,
    const char *const *names, const char *filename, const char *where)
{
	GMimeHeaderList	*hl = g_mime_object_get_header_list(obj);
	GMimeHeader	*h;
	struct segment	*s;
	const char	*name;
	char		*text, *source;
	int		 i, n, k;

	if (hl == NULL)
		return;
	n = g_mime_header_list_get_count(hl);
	for (i = 0; i < n && !w->oom; i++) {
		if ((h = g_mime_header_list_get_header_at(hl, i)) == NULL ||
		    (name = g_mime_header_get_name(h)) == NULL)
			continue;
		for (k = 0; names[k] != NULL; k++)
			if (g_ascii_strcasecmp(name, names[k]) == 0)
				break;
		if (names[k] == NULL)
			continue;
		if ((text = msg_header_text(h, &w->oom)) == NULL)
			continue;
		source = g_strdup_printf("%sheader %s", prefix, names[k]);
		s = msg_add_text(w, source, NULL, NULL, NULL, text,
		    strlen(text), where);
		if (s != NULL && filename != NULL &&
		    textseg_set(&s->filename, filename) == -1)
			w->oom = 1;
		g_free(source);
		g_free(text);
	}
}

/* The decoded file name of obj as UTF-8 (g_malloc'd), or NULL. */
static char *
msg_filename(GMimeObject *obj)
{
	const char	*name = NULL;
	char		*s;

	if (GMIME_IS_PART(obj))
		name = g_mime_part_get_filename(GMIME_PART(obj));
	else {
		name = g_mime_object_get_content_disposition_parameter(obj,
		    "filename");
		if (name == NULL)
			name = g_mime_object_get_content_type_parameter(obj,
			    "name");
	}
	if (name == NULL)
		return NULL;
	if ((s = msg_utf8(g_strdup(name))) == NULL)
		return NULL;
	g_strstrip(s);
	if (*s == '\0') {
		g_free(s);
		return NULL;
	}
	return s;
}

/* A file name fit for a path: control characters blanked, long names
 * cut on a character boundary. */
static char *
msg_path_name(const char *name)
{
	char	*s;
	size_t	 n = strlen(name), i;

	if (n > MSG_NAME_MAX) {
		n = MSG_NAME_MAX;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	s = g_strndup(name, n);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	return s;
}

/* "type/subtype" in lower case, g_malloc'd. */
static char *
msg_mime_type(GMimeObject *obj)
{
	GMimeContentType	*ct = g_mime_object_get_content_type(obj);
	char			*t, *l;

	if (ct == NULL || (t = g_mime_content_type_get_mime_type(ct)) == NULL)
		return g_strdup("application/octet-stream");
	l = g_ascii_strdown(t, -1);
	g_free(t);
	return l;
}

static int
msg_is_attachment(GMimeObject *obj)
{
	GMimeContentDisposition	*cd;

	cd = g_mime_object_get_content_disposition(obj);
	return cd != NULL && g_mime_content_disposition_is_attachment(cd);
}

/* 1 for types we read as text, 2 for HTML, 0 for the rest. */
static int
msg_text_kind(const char *mime_type)
{
	const char	*sub;
	int		 i;

	if (strcmp(mime_type, "text/html") == 0 ||
	    strcmp(mime_type, "application/xhtml+xml") == 0)
		return 2;
	/* RTF is a document format; leave it to an extractor. */
	if (strncmp(mime_type, "text/", 5) == 0)
		return strcmp(mime_type, "text/rtf") != 0;
	if (strncmp(mime_type, "application/", 12) != 0)
		return 0;
	sub = mime_type + 12;
	for (i = 0; msg_text_apps[i] != NULL; i++)
		if (strcmp(sub, msg_text_apps[i]) == 0)
			return 1;
	if (g_str_has_suffix(sub, "+xml") || g_str_has_suffix(sub, "+json"))
		return 1;
	return 0;
}

/* 1 or 2 (HTML) when the file name promises text, else 0. */
static int
msg_text_by_name(const char *filename)
{
	const char	*dot;
	int		 i;

	if (filename == NULL || (dot = strrchr(filename, '.')) == NULL)
		return 0;
	for (i = 0; msg_text_exts[i] != NULL; i++)
		if (g_ascii_strcasecmp(dot + 1, msg_text_exts[i]) == 0)
			return g_ascii_strncasecmp(dot + 1, "htm", 3) == 0 ?
			    2 : 1;
	return 0;
}

/* Appends what of buf[0..n) fits under keep to data; counts it all. */
static void
msg_keep(GByteArray *data, size_t keep, const void *buf, size_t n,
    size_t *total)
{
	size_t take;

	if (data->len < keep) {
		take = keep - data->len;
		if (take > n)
			take = n;
		g_byte_array_append(data, buf, (guint)take);
	}
	*total += n;
}

/* Makes room in data for what the encoded content (len bytes, -1 when
 * unknown) can decode to, up to keep: decoding only shrinks.  Growing by
 * doubling instead copied a 100 KB part a dozen times. */
static void
msg_reserve(GByteArray *data, size_t keep, gint64 len)
{
	guint have = data->len;
	size_t want;

	if (len <= 0)
		return;
	want = (uint64_t)len < keep ? (size_t)len : keep;
	if (want > G_MAXUINT - have)
		return;
	/* GArray keeps its allocation when it shrinks. */
	g_byte_array_set_size(data, have + (guint)want);
	g_byte_array_set_size(data, have);
}

/* msg_read_part for base64, through b64.h: GMime's filter decodes a
 * character at a time. */
static void
msg_read_base64(GMimeStream *src, size_t keep, GByteArray *data,
    size_t *total)
{
	char *in = g_malloc(MSG_CHUNK);
	uint8_t *out = g_malloc(B64_OUT(MSG_CHUNK));
	struct b64 st;
	ssize_t n;

	b64_init(&st);
	while ((n = g_mime_stream_read(src, in, MSG_CHUNK)) > 0)
		msg_keep(data, keep, out, b64_decode(&st, in, (size_t)n, out),
		    total);
	msg_keep(data, keep, out, b64_finish(&st, out), total);
	g_free(in);
	g_free(out);
}

/* Reads the transfer-decoded content of part: keeps the first keep bytes
 * in *data (g_byte_array) and counts them all in *total.  Returns 0, or
 * -1 when GMime cannot give a stream (the part is then empty). */
static int
msg_read_part(GMimePart *part, size_t keep, GByteArray *data, size_t *total)
{
	GMimeDataWrapper	*content;
	GMimeStream		*src, *fs;
	GMimeFilter		*f;
	GMimeContentEncoding	 enc;
	char			*buf;
	ssize_t			 n;

	*total = 0;
	if ((content = g_mime_part_get_content(part)) == NULL ||
	    (src = g_mime_data_wrapper_get_stream(content)) == NULL)
		return -1;
	if (g_mime_stream_reset(src) == -1)
		return -1;
	enc = g_mime_data_wrapper_get_encoding(content);
	msg_reserve(data, keep, g_mime_stream_length(src));
	if (enc == GMIME_CONTENT_ENCODING_BASE64) {
		msg_read_base64(src, keep, data, total);
		return 0;
	}
	fs = g_mime_stream_filter_new(src);
	if (enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		f = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	buf = g_malloc(MSG_CHUNK);
	while ((n = g_mime_stream_read(fs, buf, MSG_CHUNK)) > 0)
		msg_keep(data, keep, buf, (size_t)n, total);
	g_free(buf);
	g_object_unref(fs);
	return 0;
}

/* Converts the bytes of a text part and adds its segment.  Returns the
 * segment or NULL (budget spent, or out of memory). */
static struct segment *
msg_text_segment(struct walk *w, const char *source, const char *mime_type,
    const char *charset, const char *encoding, int kind,
    const GByteArray *data, int cut, const char *where)
{
	struct segment	*s = NULL;
	char		*u = NULL, *t = NULL;
	size_t		 ulen, tlen;
	size_t		 left = msg_text_left(w);
	int		 truncated = 0;

	if (charset_to_utf8((const char *)data->data, data->len, charset,
	    kind == 2 ? 0 : left, &u, &ulen, NULL, &truncated) == -1) {
		w->oom = 1;
		goto out;
	}
	if (kind == 2) {
		if (html_to_text(u, ulen, &t, &tlen) == -1) {
			w->oom = 1;
			goto out;
		}
		free(u);
		u = t;
		ulen = tlen;
		t = NULL;
	}
	/* What fits of this part is kept even when the rest is cut. */
	s = msg_add_text_owned(w, source, mime_type, charset, encoding, &u,
	    ulen, where);
	if (cut || truncated)
		msg_text_full(w, where);
out:
	free(u);
	free(t);
	return s;
}

/* ---- the extractors' sink (extract.h): the same segments, budget and
 * notes as the message's own parts. */

static int
msg_sink_text(void *arg, const char *source, const char *type,
    const char *text, size_t len)
{
	struct walk *w = arg;
	struct segment *s;

	if ((s = msg_add_text(w, source, type, NULL, NULL, text, len,
	    source)) == NULL)
		return w->oom ? -1 : 1;
	/* A text replayed whole keeps its key (a cut one is another). */
	if (w->ex.text_key != NULL && s->text_len == len) {
		memcpy(s->text_key, w->ex.text_key, sizeof s->text_key);
		s->keyed = true;
	}
	return w->text_full ? 1 : 0;
}

static int
msg_sink_note(void *arg, const char *reason, const char *where)
{
	return msg_note(arg, reason, where);
}

static bool
msg_sink_expired(void *arg)
{
	struct walk *w = arg;

	if (w->deadline != 0 && g_get_monotonic_time() > w->deadline)
		w->stop = 1;
	return w->stop != 0;
}

static void	msg_walk_message(struct walk *, GMimeMessage *, const char *,
		    size_t, const char *);

/* A message found inside a container (an .eml in a zip): walked like an
 * attached message, one level deeper. */
static int
msg_sink_message(void *arg, const char *where, const unsigned char *data,
    size_t len)
{
	struct walk	*w = arg;
	GMimeStream	*mem;
	GMimeParser	*parser;
	GMimeMessage	*m;
	char		*prefix;
	size_t		 depth = w->cur_depth;

	/* GMime's parser recurses per level: the same guard as for the
	 * message itself. */
	if (msg_prescan((const char *)data, len) > w->lim->max_parts)
		return msg_note(w, "parts", where);
	mem = g_mime_stream_mem_new_with_buffer((const char *)data, len);
	parser = g_mime_parser_new_with_stream(mem);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	if ((m = g_mime_parser_construct_message(parser, NULL)) == NULL)
		(void)msg_note(w, "parse", where);
	else {
		prefix = g_strconcat(where, " > ", NULL);
		msg_walk_message(w, m, prefix, depth + 1, where);
		w->cur_depth = depth;
		g_free(prefix);
		g_object_unref(m);
	}
	g_object_unref(parser);
	g_object_unref(mem);
	return w->oom ? -1 : 0;
}

/* Hands a part that is not text to the extractors.  Returns 1 when one
 * read it, 0 when none does (it stays opaque). */
static int
msg_extract_part(struct walk *w, const char *source, const char *filename,
    const GByteArray *data, size_t depth)
{
	struct extract_file f;
	int rc;

	if (w->stop || w->oom)
		return 0;
	memset(&f, 0, sizeof f);
	f.where = source;
	f.name = filename;
	f.data = data->data;
	f.len = data->len;
	f.depth = 0;
	w->cur_depth = depth;
	if ((rc = xcache_extract(w->lim->cache, &w->ex, &f)) < 0)
		w->oom = 1;
	/* The extractors stopped on time: so does the walk. */
	if (w->ex.stop)
		(void)msg_sink_expired(w);
	return rc > 0;
}

/* A leaf part: text, or opaque with a sniffed type. */
static void
msg_leaf(struct walk *w, GMimePart *part, const char *source,
    const char *mime_type, const char *filename, int headers_ok,
    const char *prefix, const char *where, size_t depth)
{
	GMimeContentEncoding	 ce;
	GByteArray		*data;
	struct segment		*s = NULL;
	const char		*charset, *encoding = NULL, *sniffed;
	char			*asource;
	size_t			 total = 0, keep, left, i, headlen;
	int			 kind, by_name = 0, has_nul = 0;

	charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
	    "charset");
	ce = g_mime_part_get_content_encoding(part);
	if (ce != GMIME_CONTENT_ENCODING_DEFAULT)
		encoding = g_mime_content_encoding_to_string(ce);

	/* Names carry identifiers too ("张三 13812345678.xlsx"). */
	if (filename != NULL && headers_ok) {
		asource = g_strdup_printf("%sattachment name", prefix);
		s = msg_add_text(w, asource, mime_type, NULL, NULL, filename,
		    strlen(filename), where);
		if (s != NULL && textseg_set(&s->filename, filename) == -1)
			w->oom = 1;
		g_free(asource);
		if (w->oom)
			return;
	}

	if ((kind = msg_text_kind(mime_type)) == 0)
		by_name = kind = msg_text_by_name(filename);
	left = msg_text_left(w);
	/* Room for the budget in any charset (UTF-16 doubles ASCII, HTML
	 * markup outweighs its text), bounded: a part never holds much more
	 * than the budget that is left. */
	keep = MSG_HEAD;
	if (kind != 0 && left > 0)
		keep = left > ((size_t)-1 - MSG_CHUNK) / 4 ? (size_t)-1 :
		    left * 4 + MSG_CHUNK;
	/* Not text by its label: the whole part, for the extractors.  It
	 * is no larger than the message, which max_scan_size bounds. */
	if (kind == 0)
		keep = (size_t)-1;
	data = g_byte_array_new();
	(void)msg_read_part(part, keep, data, &total);

	headlen = data->len < MSG_HEAD ? data->len : MSG_HEAD;
	sniffed = sniff_type(data->data, headlen);
	for (i = 0; i < headlen; i++)
		if (data->data[i] == '\0') {
			has_nul = 1;
			break;
		}
	/* Bytes that say "archive" or "image" win over a text label: a zip
	 * called text/plain must reach the extractors, not the charset
	 * converter.  A name alone needs text-looking bytes. */
	if (kind != 0 && sniffed != NULL && strncmp(sniffed, "text/", 5) != 0)
		kind = 0;
	if (by_name && sniffed == NULL && has_nul)
		kind = 0;

	s = NULL;
	if (kind != 0 && left > 0)
		s = msg_text_segment(w, source, mime_type, charset, encoding,
		    kind, data, data->len < total, where);
	else if (kind != 0)
		msg_text_full(w, where);
	else if (!w->oom) {
		/* The part itself is listed (opaque, with its type), then
		 * what the extractors found in it. */
		if ((s = textseg_add(w->out, source, mime_type, charset,
		    encoding, NULL, 0)) == NULL)
			w->oom = 1;
		else if (textseg_set(&s->sniffed_type, sniffed) == -1)
			w->oom = 1;
		else {
			s->raw_len = total;
			if (filename != NULL &&
			    textseg_set(&s->filename, filename) == -1)
				w->oom = 1;
		}
		if (!w->oom)
			(void)msg_extract_part(w, source, filename, data,
			    depth);
		g_byte_array_unref(data);
		return;
	}
	if (s == NULL && !w->oom) {
		if ((s = textseg_add(w->out, source, mime_type, charset,
		    encoding, NULL, 0)) == NULL)
			w->oom = 1;
		else if (textseg_set(&s->sniffed_type, sniffed) == -1)
			w->oom = 1;
	}
	if (s != NULL) {
		s->raw_len = total;
		if (filename != NULL && textseg_set(&s->filename, filename) == -1)
			w->oom = 1;
	}
	g_byte_array_unref(data);
}

/* An attached message: its headers and body, one level deeper, with the
 * attachment's name in front of every source. */
static void
msg_walk_message(struct walk *w, GMimeMessage *m, const char *prefix,
    size_t depth, const char *where)
{
	GMimeObject	*body;

	if (msg_headers_fit(w, GMIME_OBJECT(m), where))
		msg_header_segments(w, GMIME_OBJECT(m), prefix, msg_top_fields,
		    NULL, where);
	if (w->oom)
		return;
	if ((body = g_mime_message_get_mime_part(m)) != NULL)
		(void)msg_walk_object(w, body, prefix, depth);
}

/* Walks obj at depth.  Returns -1 when out of memory, else 0. */
static int
msg_walk_object(struct walk *w, GMimeObject *obj, const char *prefix,
    size_t depth)
{
	static const char *const names[] = { "Content-Description", NULL };
	GMimeMessage	*inner;
	char		*mime_type = NULL, *filename = NULL, *pname = NULL;
	char		*label = NULL, *path = NULL, *iprefix = NULL;
	int		 i, n, headers_ok;

	if (w->stop || w->oom)
		goto out;
	if (w->deadline != 0 && g_get_monotonic_time() > w->deadline) {
		(void)msg_note(w, "time", "message");
		w->stop = 1;
		goto out;
	}
	if (++w->nparts > w->lim->max_parts) {
		(void)msg_note(w, "parts", "message");
		w->stop = 1;
		goto out;
	}

	mime_type = msg_mime_type(obj);
	filename = msg_filename(obj);
	if (GMIME_IS_MESSAGE_PART(obj)) {
		pname = msg_path_name(filename != NULL ? filename : "message");
		label = g_strdup_printf("attachment \"%s\"", pname);
	} else if (filename != NULL) {
		pname = msg_path_name(filename);
		label = g_strdup_printf("attachment \"%s\"", pname);
	} else if (msg_is_attachment(obj) && !GMIME_IS_MULTIPART(obj))
		label = g_strdup_printf("attachment #%zu %s", ++w->nattach,
		    mime_type);
	else
		label = g_strdup_printf("body %s", mime_type);
	path = g_strconcat(prefix, label, NULL);

	if (depth > w->lim->max_depth) {
		(void)msg_note(w, "depth", path);
		goto out;
	}

	if ((headers_ok = msg_headers_fit(w, obj, path)) != 0)
		msg_header_segments(w, obj, prefix, names, filename, path);
	if (w->oom)
		goto out;

	if (GMIME_IS_MESSAGE_PART(obj)) {
		if (filename != NULL && headers_ok) {
			char *src = g_strdup_printf("%sattachment name", prefix);
			struct segment *s = msg_add_text(w, src, mime_type,
			    NULL, NULL, filename, strlen(filename), path);

			if (s != NULL && textseg_set(&s->filename,
			    filename) == -1)
				w->oom = 1;
			g_free(src);
		}
		inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));
		if (inner == NULL) {
			(void)msg_note(w, "parse", path);
			goto out;
		}
		iprefix = g_strconcat(path, " > ", NULL);
		msg_walk_message(w, inner, iprefix, depth + 1, path);
	} else if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart	*mp = GMIME_MULTIPART(obj);
		const char	*pe;

		/* Text before the first and after the last boundary: mail
		 * readers hide it, but it travels with the message (and a
		 * multipart whose boundary matches nothing is all
		 * preamble). */
		if ((pe = g_mime_multipart_get_prologue(mp)) != NULL) {
			iprefix = g_strconcat(prefix, "body preamble", NULL);
			msg_add_untagged(w, iprefix, pe, strlen(pe), path);
			g_free(iprefix);
			iprefix = NULL;
		}
		n = g_mime_multipart_get_count(mp);
		for (i = 0; i < n && !w->stop && !w->oom; i++)
			(void)msg_walk_object(w, g_mime_multipart_get_part(mp,
			    i), prefix, depth + 1);
		if ((pe = g_mime_multipart_get_epilogue(mp)) != NULL &&
		    !w->stop) {
			iprefix = g_strconcat(prefix, "body epilogue", NULL);
			msg_add_untagged(w, iprefix, pe, strlen(pe), path);
		}
	} else if (GMIME_IS_PART(obj))
		msg_leaf(w, GMIME_PART(obj), path, mime_type, filename,
		    headers_ok, prefix, path, depth);
	else if (textseg_add(w->out, path, mime_type, NULL, NULL, NULL,
	    0) == NULL)
		w->oom = 1;
out:
	g_free(mime_type);
	g_free(filename);
	g_free(pname);
	g_free(label);
	g_free(path);
	g_free(iprefix);
	return w->oom ? -1 : 0;
}

/* GMime could not (or must not) parse it: the raw bytes are all we have,
 * and custos must still look at them. */
static void
msg_raw_fallback(struct walk *w, const char *raw, size_t len)
{
	struct segment	*s;
	char		*u;
	size_t		 ulen, left = msg_text_left(w);
	int		 truncated = 0;

	if (left == 0) {
		msg_text_full(w, "body raw");
		return;
	}
	if (charset_to_utf8(raw, len, NULL, left, &u, &ulen, NULL,
	    &truncated) == -1) {
		w->oom = 1;
		return;
	}
	if ((s = msg_add_text_owned(w, "body raw", NULL, NULL, NULL, &u,
	    ulen, "body raw")) != NULL)
		s->raw_len = len;
	if (truncated)
		msg_text_full(w, "body raw");
}

/* Where the body of raw starts: just past the first empty line (LF or
 * CRLF line ends) after at least one header line; 0 when there is
 * none. */
static size_t
msg_body_start(const char *raw, size_t len)
{
	const char	*p = raw, *end = raw + len, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (nl == raw || (nl == raw + 1 && raw[0] == '\r'))
			return 0;
		p = nl + 1;
		if (p < end && *p == '\n')
			return (size_t)(p + 1 - raw);
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			return (size_t)(p + 2 - raw);
	}
	return 0;
}

/* message_skip_unread_fields: off only for the tests that compare the
 * parse with and without the fields left out. */
static bool msg_skip_unread = true;

bool
message_skip_unread_fields(bool on)
{
	bool	 was = msg_skip_unread;

	msg_skip_unread = on;
	return was;
}

/* Whether the header field name[0..len) is one the walk reads: the
 * Content-* fields (type, encoding, disposition, description, and what
 * GMime keeps of a part), MIME-Version, and msg_top_fields. */
static bool
msg_field_read(const char *name, size_t len)
{
	size_t	 k;

	if (len > 8 && g_ascii_strncasecmp(name, "Content-", 8) == 0)
		return true;
	if (len == 12 && g_ascii_strncasecmp(name, "MIME-Version", 12) == 0)
		return true;
	for (k = 0; msg_top_fields[k] != NULL; k++)
		if (strlen(msg_top_fields[k]) == len &&
		    g_ascii_strncasecmp(name, msg_top_fields[k], len) == 0)
			return true;
	return false;
}

/* For msg_head_read_fields: the lines [run, p) of raw are left out of
 * *out, which is made on first use with the lines before them.  With
 * filler they become one field of the same length: "X:", blanks and a
 * line end (every line left out has a name, a colon and a line end). */
static void
msg_leave_out(GByteArray **out, const char *raw, size_t hlen,
    const char *run, const char *p, bool filler)
{
	size_t	 n = (size_t)(p - run);

	if (*out == NULL) {
		*out = g_byte_array_sized_new((guint)hlen);
		g_byte_array_append(*out, (const guint8 *)raw,
		    (guint)(run - raw));
	}
	if (!filler)
		return;
	if (n < 3) {
		g_byte_array_append(*out, (const guint8 *)run, (guint)n);
		return;
	}
	g_byte_array_append(*out, (const guint8 *)"X:", 2);
	g_byte_array_set_size(*out, (*out)->len + (guint)(n - 3));
	memset((*out)->data + (*out)->len - (n - 3), ' ', n - 3);
	g_byte_array_append(*out, (const guint8 *)"\n", 1);
}

/* The header block raw[0..hlen) (its empty line included) less the
 * fields the walk never reads, for GMime to parse: it spends some
 * 15,000 instructions on each field (parse and teardown), and mail
 * carries dozens it does not need (Received, DKIM-Signature, X-MS-*).
 * Only a line that starts a well-formed field ("Name:", the name
 * letters, digits and dashes) and its continuation lines are left out;
 * every other line stays where it was, so that GMime warns of the same
 * invalid lines and ends the header where it would have.
 *
 * With body_behind, for a block GMime parses with the body after it
 * (msg_stream_read_fields): the block must hold nothing but fields (a
 * first line that is one, then fields and continuation lines with more
 * than blanks, no NUL), and each run of lines left out becomes one
 * field "X:" padded with blanks to the same length, so that every byte
 * of the body stays at its offset.  What GMime reports of a part's
 * invalid first header line is cut where its read buffer ends, so a
 * body moved by what was left out changed that text (fuzz_pipeline
 * found it).  The top header's invalid lines are reported whole.
 *
 * NULL when nothing is left out, or with body_behind when the block
 * holds anything but fields: parse raw itself.  *nleft counts the
 * fields left out. */
static GByteArray *
msg_head_read_fields(const char *raw, size_t hlen, bool body_behind,
    size_t *nleft)
{
	const char	*p = raw, *end = raw + hlen, *eol = end, *q, *run = NULL;
	GByteArray	*out = NULL;
	bool		 drop = false, field;

	if (body_behind && memchr(raw, '\0', hlen) != NULL)
		return NULL;
	for (; p <= end; p = eol) {
		if (p < end) {
			eol = memchr(p, '\n', (size_t)(end - p));
			eol = eol != NULL ? eol + 1 : end;
			if (*p != ' ' && *p != '\t') {
				for (q = p; q < eol && (g_ascii_isalnum(*q) ||
				    *q == '-'); q++)
					;
				field = q > p && q < eol && *q == ':';
				drop = field &&
				    !msg_field_read(p, (size_t)(q - p));
				*nleft += drop;
				/* The empty line ending the block is
				 * neither. */
				if (body_behind && !field && eol < end)
					goto other;
			} else if (body_behind) {
				for (q = p; q < eol && g_ascii_isspace(*q);
				    q++)
					;
				if (p == raw || q == eol)
					goto other;
			}
			if (drop) {
				if (run == NULL)
					run = p;
				continue;
			}
		}
		if (run != NULL)
			msg_leave_out(&out, raw, hlen, run, p, body_behind);
		run = NULL;
		if (p == end)
			break;
		if (out != NULL)
			g_byte_array_append(out, (const guint8 *)p,
			    (guint)(eol - p));
	}
	return out;
other:
	if (out != NULL)
		g_byte_array_free(out, TRUE);
	return NULL;
}

/* How much of a body msg_stream_read_fields copies to leave fields out:
 * 32 KB for each (a field costs GMime some 18,000 instructions, ~3 us;
 * 32 KB take ~0.5 us to allocate and copy: 0.012-0.027 us a KB measured
 * up to 1 MB), and never more than 256 KB: the milter's CPU a message
 * with 23 fields left out went 0.767 -> 0.710 ms at 11 KB and 0.947 ->
 * 0.845 ms at 62 KB, but did not move at 300 KB, where the attachment
 * costs the most; a bigger copy would only add to the memory a scan
 * takes. */
#define MSG_COPY_PER_FIELD	(32u << 10)
#define MSG_COPY_MAX		(256u << 10)

/* The stream GMime parses for a message that may have parts: a copy of
 * it whose header block has the fields the walk never reads left out
 * (msg_head_read_fields).  Only for a block of well-formed fields
 * (body_behind): GMime then ends the header at the empty line whatever
 * is left out.  A line it could take for the start of the body would
 * move the header's end, and so the body, which msg_parse_single checks
 * by a parse of the header alone; a multipart's header cannot be
 * checked without its body.  A copy, not the new header followed by the
 * rest through a GMime cat stream: that stream's reads stop where its
 * first source ends, which moved where GMime's read buffer ends and so
 * what it reports of a part's invalid header lines.  So only while the
 * copy costs much less than the fields it saves (MSG_COPY_*).  NULL:
 * parse the message's own stream. */
static GMimeStream *
msg_stream_read_fields(const struct walk *w, const char *raw, size_t len)
{
	GByteArray	*copy;
	size_t		 hlen = msg_body_start(raw, len), nleft = 0;

	/* As in msg_parse_single: within the header size limit only. */
	if (!msg_skip_unread || hlen == 0 ||
	    hlen > w->lim->max_header_bytes ||
	    (copy = msg_head_read_fields(raw, hlen, true, &nleft)) == NULL)
		return NULL;
	if (len - hlen > MSG_COPY_MAX ||
	    len - hlen > nleft * MSG_COPY_PER_FIELD) {
		g_byte_array_free(copy, TRUE);
		return NULL;
	}
	g_byte_array_append(copy, (const guint8 *)raw + hlen,
	    (guint)(len - hlen));
	return g_mime_stream_mem_new_with_byte_array(copy);
}

/* The message parsed by its header alone, its body given to it as it
 * stands, when it is a single part (not multipart/ or message/): for a
 * leaf GMime scans the content a line at a time for boundaries it
 * cannot have, some 6 instructions a byte (636,000 of a 100 KB text
 * message's 6 million).  NULL, with nothing the parse noted kept, when
 * the message is not such a part, or when GMime's header parse did
 * not end at the empty line (a line it took for the start of the
 * body): the whole parse then decides, as for every other message. */
static GMimeObject *
msg_parse_single(struct walk *w, GMimeStream *stream, const char *raw,
    size_t len, GMimeParserOptions *opts)
{
	GMimeStream		*head, *body;
	GMimeParser		*parser;
	GMimeObject		*top;
	GMimeDataWrapper	*content;
	GByteArray		*fields;
	size_t			 hlen = msg_body_start(raw, len), nleft = 0;
	gint64			 base = g_mime_stream_tell(stream);
	bool			 whole;

	if (hlen == 0 || base < 0)
		return NULL;
	/* Fields left out only where the header size limit cannot be
	 * reached: what msg_headers_fit counts is within the block. */
	if (msg_skip_unread && hlen <= w->lim->max_header_bytes &&
	    (fields = msg_head_read_fields(raw, hlen, false, &nleft)) != NULL)
		head = g_mime_stream_mem_new_with_byte_array(fields);
	else
		head = g_mime_stream_substream(stream, base,
		    base + (gint64)hlen);
	parser = g_mime_parser_new_with_stream(head);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	top = g_mime_parser_construct_part(parser, opts);
	g_object_unref(parser);
	g_object_unref(head);
	whole = top != NULL && GMIME_IS_PART(top) && !w->gmime_depth;
	if (whole && (content = g_mime_part_get_content(GMIME_PART(top))) !=
	    NULL)
		whole = g_mime_stream_length(
		    g_mime_data_wrapper_get_stream(content)) == 0;
	if (!whole) {
		if (top != NULL)
			g_object_unref(top);
		g_ptr_array_set_size(w->badlines, 0);
		w->badbytes = 0;
		w->gmime_depth = 0;
		(void)g_mime_stream_seek(stream, base, GMIME_STREAM_SEEK_SET);
		return NULL;
	}
	body = g_mime_stream_substream(stream, base + (gint64)hlen,
	    base + (gint64)len);
	content = g_mime_data_wrapper_new_with_stream(body,
	    g_mime_part_get_content_encoding(GMIME_PART(top)));
	g_mime_part_set_content(GMIME_PART(top), content);
	g_object_unref(content);
	g_object_unref(body);
	return top;
}

/* Parses stream, whose bytes are raw[0..len), into out. */
static int
msg_extract(GMimeStream *stream, const char *raw, size_t len,
    const struct message_limits *lim, struct textseg *out, char *err,
    size_t errlen)
{
	struct walk		 w;
	GMimeParserOptions	*opts = NULL;
	GMimeParser		*parser = NULL;
	GMimeObject		*top = NULL;
	GMimeStream		*read = NULL;
	guint			 i;
	size_t			 nmulti;
	int			 rc = -1;

	memset(&w, 0, sizeof w);
	w.lim = lim;
	w.out = out;
	w.badlines = g_ptr_array_new_with_free_func(g_free);
	w.sink.text = msg_sink_text;
	w.sink.note = msg_sink_note;
	w.sink.message = msg_sink_message;
	w.sink.expired = msg_sink_expired;
	w.sink.arg = &w;
	extract_init(&w.ex, &lim->extract, &w.sink);
	if (lim->max_seconds > 0)
		w.deadline = g_get_monotonic_time() +
		    (gint64)(lim->max_seconds * G_USEC_PER_SEC);

	if ((nmulti = msg_prescan(raw, len)) > lim->max_parts) {
		if (msg_note(&w, "parts", "message") == 0)
			msg_raw_fallback(&w, raw, len);
		goto done;
	}

	/* Our own copy of the defaults (fallback charsets from
	 * message_init()), so that the warning callback can carry this
	 * call's state without a global. */
	opts = g_mime_parser_options_clone(g_mime_parser_options_get_default());
	g_mime_parser_options_set_warning_callback(opts, msg_parser_warning,
	    &w);
	/* The message as its top MIME part, whose header list holds every
	 * header of the message: what a GMimeMessage adds (address lists,
	 * dates, a second header list for its part) we never read, and it
	 * cost a third of the parse. */
	/* Not a multipart/ or message/ type anywhere: one part, at most. */
	if (nmulti > 0 ||
	    (top = msg_parse_single(&w, stream, raw, len, opts)) == NULL) {
		read = nmulti > 0 ? msg_stream_read_fields(&w, raw, len) :
		    NULL;
		parser = g_mime_parser_new_with_stream(read != NULL ? read :
		    stream);
		g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
		top = g_mime_parser_construct_part(parser, opts);
	}
	if (top == NULL) {
		if (msg_note(&w, "parse", "message") == 0)
			msg_raw_fallback(&w, raw, len);
		goto done;
	}

	if (msg_headers_fit(&w, top, "message"))
		msg_header_segments(&w, top, "", msg_top_fields, NULL,
		    "message");
	if (w.gmime_depth)
		(void)msg_note(&w, "depth", "message");
	for (i = 0; i < w.badlines->len && !w.oom; i++)
		msg_add_untagged(&w, "header invalid", w.badlines->pdata[i],
		    strlen(w.badlines->pdata[i]), "message");
	if (!w.oom)
		(void)msg_walk_object(&w, top, "", 0);

done:
	if (w.oom)
		errbuf_set(err, errlen, "message: out of memory");
	else
		rc = 0;
	/* The message may refer to the options: free them last. */
	if (top != NULL)
		g_object_unref(top);
	if (parser != NULL)
		g_object_unref(parser);
	if (read != NULL)
		g_object_unref(read);
	if (opts != NULL)
		g_mime_parser_options_free(opts);
	g_ptr_array_unref(w.badlines);
	return rc;
}

int
message_extract(GMimeStream *stream, const char *raw, size_t len,
    const struct message_limits *lim, struct textseg *out, char *err,
    size_t errlen)
{
	if (stream == NULL || (raw == NULL && len > 0) || lim == NULL ||
	    out == NULL) {
		errbuf_set(err, errlen, "message: no stream");
		return -1;
	}
	if (g_mime_stream_reset(stream) != 0) {
		errbuf_set(err, errlen, "message: cannot rewind the stream");
		return -1;
	}
	return msg_extract(stream, raw != NULL ? raw : "", len, lim, out, err,
	    errlen);
}

int
message_extract_buffer(const char *raw, size_t len,
    const struct message_limits *lim, struct textseg *out, char *err,
    size_t errlen)
{
	GMimeStream	*mem;
	int		 rc;

	if ((raw == NULL && len > 0) || lim == NULL || out == NULL) {
		errbuf_set(err, errlen, "message: no buffer");
		return -1;
	}
	if (raw == NULL)
		raw = "";
	mem = g_mime_stream_mem_new_with_buffer(raw, len);
	rc = msg_extract(mem, raw, len, lim, out, err, errlen);
	g_object_unref(mem);
	return rc;
}
