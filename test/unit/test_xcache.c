/* test_xcache.c - unit tests for the extraction cache (extract/xcache.c).
 *
 * The files are made here: gzip members of random words and numbers
 * (GLib's zlib compressor), large enough to be kept, read through
 * xcache_extract() as message.c reads an attachment.  A fake sink
 * records every call in order, so a replay can be compared with a
 * reading call by call.  Then a whole message with an xlsx attachment
 * (test/bench/make-bench-docs.py's customer export, 0.1 MB; in the
 * distribution for this test) goes through
 * message_extract_buffer() twice with a cache, and its segments must be
 * those of a walk without one. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gio/gio.h>
#include <glib.h>

#include "extract/extract.h"
#include "extract/xcache.h"
#include "message.h"
#include "textseg.h"

struct rec {
	GPtrArray	*calls;		/* "T|source|type|text", "N|reason|where" */
	int		 full_after;	/* texts taken before the budget is
					   spent; <0 never */
	bool		 expired;
};

static int
rec_text(void *arg, const char *source, const char *type, const char *text,
    size_t len)
{
	struct rec *r = arg;

	g_ptr_array_add(r->calls, g_strdup_printf("T|%s|%s|%.*s", source,
	    type != NULL ? type : "(none)", (int)len, text));
	if (r->full_after < 0)
		return 0;
	return r->full_after-- == 0 ? 1 : 0;
}

static int
rec_note(void *arg, const char *reason, const char *where)
{
	struct rec *r = arg;

	g_ptr_array_add(r->calls, g_strdup_printf("N|%s|%s", reason, where));
	return 0;
}

static int
rec_message(void *arg, const char *prefix, const unsigned char *data,
    size_t len)
{
	struct rec *r = arg;

	(void)data;
	(void)len;
	g_ptr_array_add(r->calls, g_strdup_printf("M|%s", prefix));
	return 0;
}

static bool
rec_expired(void *arg)
{
	return ((struct rec *)arg)->expired;
}

static void
rec_init(struct rec *r)
{
	r->calls = g_ptr_array_new_with_free_func(g_free);
	r->full_after = -1;
	r->expired = false;
}

static void
rec_free(struct rec *r)
{
	g_ptr_array_free(r->calls, TRUE);
}

static void
assert_same_calls(const struct rec *a, const struct rec *b)
{
	guint i;

	assert_int_equal(a->calls->len, b->calls->len);
	for (i = 0; i < a->calls->len; i++)
		assert_string_equal(a->calls->pdata[i], b->calls->pdata[i]);
}

/* One reading of data (name, place "attachment #1") with a fresh
 * extraction whose extract-size budget has used already; the sink's
 * calls go to r. */
struct reading {
	int	rc;
	size_t	taken;		/* of the extract-size budget */
	bool	stop;
};

static struct reading
read_file(struct xcache *c, const struct extract_limits *lim,
    const GByteArray *data, const char *name, const char *where,
    size_t used, struct rec *r)
{
	struct extract_sink sink = { rec_text, rec_note, rec_message,
	    rec_expired, r };
	struct extract ex;
	struct extract_file f;
	struct reading out;

	extract_init(&ex, lim, &sink);
	ex.bytes_used = used;
	memset(&f, 0, sizeof f);
	f.where = where;
	f.name = name;
	f.data = data->data;
	f.len = data->len;
	out.rc = xcache_extract(c, &ex, &f);
	out.taken = ex.bytes_used - used;
	out.stop = ex.stop;
	assert_ptr_equal(ex.sink, &sink);	/* the walk's sink is back */
	return out;
}

/* n bytes of words and numbers, different for each seed: compressed,
 * they stay about half their size. */
static char *
make_text(guint32 seed, size_t n)
{
	static const char *const words[] = { "invoice", "客户", "shipment",
	    "合同", "order", "price", "地址", "total" };
	GRand *rnd = g_rand_new_with_seed(seed);
	GString *s = g_string_new(NULL);

	while (s->len < n) {
		g_string_append(s, words[g_rand_int_range(rnd, 0, 8)]);
		g_string_append_printf(s, " %08x%u\n", g_rand_int(rnd),
		    g_rand_int_range(rnd, 0, 1000000));
	}
	g_rand_free(rnd);
	return g_string_free(s, FALSE);
}

/* The gzip file of text. */
static GByteArray *
gzip_of(const char *text)
{
	GZlibCompressor *z = g_zlib_compressor_new(
	    G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
	GByteArray *out = g_byte_array_new();
	const guint8 *in = (const guint8 *)text;
	gsize left = strlen(text), nread, nwritten;
	guint8 buf[65536];
	GConverterResult r;

	do {
		r = g_converter_convert(G_CONVERTER(z), in, left, buf,
		    sizeof buf, G_CONVERTER_INPUT_AT_END, &nread, &nwritten,
		    NULL);
		assert_int_not_equal(r, G_CONVERTER_ERROR);
		in += nread;
		left -= nread;
		g_byte_array_append(out, buf, (guint)nwritten);
	} while (r != G_CONVERTER_FINISHED);
	g_object_unref(z);
	return out;
}

static GByteArray *
make_gzip(guint32 seed, size_t text_bytes)
{
	char *t = make_text(seed, text_bytes);
	GByteArray *g = gzip_of(t);

	g_free(t);
	return g;
}

/* The second reading of a file is a replay, call for call, with the
 * same return and budget; a reading without a cache is the same too. */
static void
test_replay_same(void **state)
{
	struct extract_limits lim;
	struct xcache *c = xcache_new(8 << 20);
	GByteArray *gz = make_gzip(1, 120000);
	struct rec plain, first, second;
	struct reading p, a, b;
	struct xcache_stats st;

	(void)state;
	assert_true(gz->len >= XCACHE_MIN_FILE);
	extract_limits_default(&lim);
	rec_init(&plain);
	rec_init(&first);
	rec_init(&second);
	p = read_file(NULL, &lim, gz, "data.gz", "attachment \"data.gz\"", 0,
	    &plain);
	a = read_file(c, &lim, gz, "data.gz", "attachment \"data.gz\"", 0,
	    &first);
	b = read_file(c, &lim, gz, "data.gz", "attachment \"data.gz\"", 100,
	    &second);
	assert_int_equal(p.rc, 1);
	assert_true(plain.calls->len > 0);
	assert_true(p.taken >= 120000);	/* the archive reader counts */
	assert_same_calls(&plain, &first);
	assert_same_calls(&plain, &second);
	assert_int_equal(a.rc, p.rc);
	assert_int_equal(b.rc, p.rc);
	assert_int_equal(a.taken, p.taken);
	assert_int_equal(b.taken, p.taken);
	xcache_get_stats(c, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.stored, 1);
	assert_int_equal(st.entries, 1);
	assert_true(st.bytes > 120000 && st.bytes < 8 << 20);
	rec_free(&plain);
	rec_free(&first);
	rec_free(&second);
	g_byte_array_unref(gz);
	(void)xcache_free(c);
}

/* Another name, another place, one byte changed: another file. */
static void
test_key(void **state)
{
	struct extract_limits lim;
	struct xcache *c = xcache_new(8 << 20);
	GByteArray *gz = make_gzip(2, 60000);
	struct rec r, pdf;
	struct xcache_stats st;
	guint i;

	(void)state;
	extract_limits_default(&lim);
	rec_init(&r);
	(void)read_file(c, &lim, gz, "a.gz", "attachment \"a.gz\"", 0, &r);
	(void)read_file(c, &lim, gz, "b.gz", "attachment \"a.gz\"", 0, &r);
	(void)read_file(c, &lim, gz, "a.gz", "attachment #2", 0, &r);
	gz->data[gz->len / 2] ^= 0x01;
	(void)read_file(c, &lim, gz, "a.gz", "attachment \"a.gz\"", 0, &r);
	gz->data[gz->len / 2] ^= 0x01;
	xcache_get_stats(c, &st);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 4);
	/* and the original is still there */
	(void)read_file(c, &lim, gz, "a.gz", "attachment \"a.gz\"", 0, &r);
	xcache_get_stats(c, &st);
	assert_int_equal(st.hits, 1);

	/* a note on the file alone is kept and given again */
	rec_init(&pdf);
	(void)read_file(c, &lim, gz, "a.pdf", "attachment \"a.pdf\"", 0, &pdf);
	g_ptr_array_set_size(pdf.calls, 0);
	(void)read_file(c, &lim, gz, "a.pdf", "attachment \"a.pdf\"", 0, &pdf);
	xcache_get_stats(c, &st);
	assert_int_equal(st.hits, 2);
	for (i = 0; i < pdf.calls->len; i++)
		if (strcmp(pdf.calls->pdata[i],
		    "N|type-mismatch|attachment \"a.pdf\"") == 0)
			break;
	assert_true(i < pdf.calls->len);
	rec_free(&pdf);
	rec_free(&r);
	g_byte_array_unref(gz);
	(void)xcache_free(c);
}

/* What no budget allows: small files, readings a budget cut short,
 * replays the message's budget or time could not take. */
static void
test_not_kept(void **state)
{
	struct extract_limits lim;
	struct xcache *c = xcache_new(8 << 20);
	GByteArray *small = make_gzip(3, 4000), *gz = make_gzip(4, 80000);
	struct rec r, again;
	struct reading a;
	struct xcache_stats st;
	guint i;
	bool noted = false;

	(void)state;
	extract_limits_default(&lim);
	rec_init(&r);
	assert_true(small->len < XCACHE_MIN_FILE);
	(void)read_file(c, &lim, small, "s.gz", "attachment #1", 0, &r);
	(void)read_file(c, &lim, small, "s.gz", "attachment #1", 0, &r);
	xcache_get_stats(c, &st);
	assert_int_equal(st.stored, 0);
	assert_int_equal(st.misses, 0);	/* not even looked up */

	/* the text budget spent during the reading */
	r.full_after = 0;
	(void)read_file(c, &lim, gz, "g.gz", "attachment #1", 0, &r);
	/* the time spent */
	r.full_after = -1;
	r.expired = true;
	(void)read_file(c, &lim, gz, "g.gz", "attachment #1", 0, &r);
	xcache_get_stats(c, &st);
	assert_int_equal(st.stored, 0);

	/* kept, then not replayed where the budget cannot take it */
	r.expired = false;
	a = read_file(c, &lim, gz, "g.gz", "attachment #1", 0, &r);
	xcache_get_stats(c, &st);
	assert_int_equal(st.stored, 1);
	rec_init(&again);
	(void)read_file(c, &lim, gz, "g.gz", "attachment #1",
	    lim.max_bytes - a.taken + 1, &again);
	for (i = 0; i < again.calls->len; i++)
		if (strncmp(again.calls->pdata[i], "N|extract-size|", 15) == 0)
			noted = true;
	assert_true(noted);	/* read, and cut where a reading is */
	rec_free(&again);
	rec_init(&again);
	again.expired = true;
	(void)read_file(c, &lim, gz, "g.gz", "attachment #1", 0, &again);
	assert_int_equal(again.calls->len, 1);
	assert_string_equal(again.calls->pdata[0], "N|time|attachment #1");
	xcache_get_stats(c, &st);
	assert_int_equal(st.hits, 0);
	rec_free(&again);
	rec_free(&r);
	g_byte_array_unref(small);
	g_byte_array_unref(gz);
	(void)xcache_free(c);
}

/* A full cache lets its least recently used entries go, and holds no
 * more than its size. */
static void
test_eviction(void **state)
{
	struct extract_limits lim;
	size_t max = 400000;
	struct xcache *c = xcache_new(max);
	GByteArray *gz[12];
	struct rec r;
	struct xcache_stats st;
	guint i;

	(void)state;
	extract_limits_default(&lim);
	rec_init(&r);
	for (i = 0; i < 12; i++) {
		gz[i] = make_gzip(10 + i, 40000);	/* ~45 KB kept each */
		(void)read_file(c, &lim, gz[i], "f.gz", "attachment #1", 0,
		    &r);
		/* the first stays in use, so it stays */
		(void)read_file(c, &lim, gz[0], "f.gz", "attachment #1", 0,
		    &r);
		xcache_get_stats(c, &st);
		assert_true(st.bytes <= max);
	}
	assert_int_equal(st.stored, 12);
	assert_true(st.evicted >= 2);
	assert_int_equal(st.entries, 12 - st.evicted);
	assert_int_equal(st.hits, 12);
	(void)read_file(c, &lim, gz[11], "f.gz", "attachment #1", 0, &r);
	(void)read_file(c, &lim, gz[1], "f.gz", "attachment #1", 0, &r);
	xcache_get_stats(c, &st);
	assert_int_equal(st.hits, 13);		/* the newest */
	assert_int_equal(st.misses, 13);	/* the oldest but one: gone */
	for (i = 0; i < 12; i++)
		g_byte_array_unref(gz[i]);
	(void)xcache_free(c);

	/* one file larger than an eighth of the cache is not kept */
	c = xcache_new(200000);
	gz[0] = make_gzip(30, 60000);
	(void)read_file(c, &lim, gz[0], "f.gz", "attachment #1", 0, &r);
	xcache_get_stats(c, &st);
	assert_int_equal(st.stored, 0);
	g_byte_array_unref(gz[0]);
	rec_free(&r);
	(void)xcache_free(c);
	assert_null(xcache_new(0));
}

/* Threads reading the same files at once: each gets the whole text. */
struct worker {
	struct xcache			*c;
	const struct extract_limits	*lim;
	GByteArray			*gz[3];
	const struct rec		*want[3];
	int				 bad;
};

static gpointer
work(gpointer arg)
{
	struct worker *w = arg;
	int i, k;

	for (i = 0; i < 60; i++) {
		struct rec r;
		guint j;

		k = i % 3;
		rec_init(&r);
		(void)read_file(w->c, w->lim, w->gz[k], "t.gz",
		    "attachment #1", 0, &r);
		if (r.calls->len != w->want[k]->calls->len)
			g_atomic_int_inc(&w->bad);
		else
			for (j = 0; j < r.calls->len; j++)
				if (strcmp(r.calls->pdata[j],
				    w->want[k]->calls->pdata[j]) != 0)
					g_atomic_int_inc(&w->bad);
		rec_free(&r);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct extract_limits lim;
	struct worker w;
	struct rec want[3];
	GThread *t[4];
	struct xcache_stats st;
	int i;

	(void)state;
	extract_limits_default(&lim);
	memset(&w, 0, sizeof w);
	/* small enough that entries come and go while others replay */
	w.c = xcache_new(500000);
	w.lim = &lim;
	for (i = 0; i < 3; i++) {
		w.gz[i] = make_gzip(40 + (guint32)i, 50000);
		rec_init(&want[i]);
		(void)read_file(NULL, &lim, w.gz[i], "t.gz", "attachment #1",
		    0, &want[i]);
		w.want[i] = &want[i];
	}
	for (i = 0; i < 4; i++)
		t[i] = g_thread_new("xcache", work, &w);
	for (i = 0; i < 4; i++)
		g_thread_join(t[i]);
	assert_int_equal(w.bad, 0);
	xcache_get_stats(w.c, &st);
	assert_int_equal(st.hits + st.misses, 240);
	assert_true(st.hits > 0);
	for (i = 0; i < 3; i++) {
		rec_free(&want[i]);
		g_byte_array_unref(w.gz[i]);
	}
	(void)xcache_free(w.c);
}

/* ---- a whole message, through message.c */

static char *fixdir;

static int
setup_office(void **state)
{
	const char *py = getenv("PYTHON3"), *top = getenv("top_srcdir");
	char *cmd;
	int rc;

	(void)state;
	if (py == NULL || *py == '\0')
		py = "python3";
	if (top == NULL || *top == '\0')
		top = ".";
	if ((fixdir = g_dir_make_tmp("test_xcache-XXXXXX", NULL)) == NULL)
		return -1;
	cmd = g_strdup_printf("'%s' '%s/test/bench/make-bench-docs.py' '%s' "
	    "0.1", py, top, fixdir);
	rc = system(cmd);
	g_free(cmd);
	if (rc != 0) {
		print_error("make-bench-docs.py failed (%d)\n", rc);
		return -1;
	}
	return 0;
}

static int
teardown_office(void **state)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", fixdir);

	(void)state;
	(void)system(cmd);
	g_free(cmd);
	g_free(fixdir);
	return 0;
}

/* A message carrying file as a base64 attachment called name. */
static char *
message_with(const char *file, const char *name)
{
	gchar *data = NULL, *b64, *msg;
	gsize len = 0, n, i;
	GString *lines = g_string_new(NULL);

	assert_true(g_file_get_contents(file, &data, &len, NULL));
	b64 = g_base64_encode((const guchar *)data, len);
	for (i = 0, n = strlen(b64); i < n; i += 76)
		g_string_append_printf(lines, "%.76s\r\n", b64 + i);
	msg = g_strdup_printf("From: a@example.com\r\nTo: b@example.org\r\n"
	    "Subject: list\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
	    "--b\r\nContent-Type: application/octet-stream; name=\"%s\"\r\n"
	    "Content-Disposition: attachment; filename=\"%s\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s--b--\r\n",
	    name, name, lines->str);
	g_free(data);
	g_free(b64);
	g_string_free(lines, TRUE);
	return msg;
}

static void
assert_same_segments(const struct textseg *a, const struct textseg *b)
{
	size_t i;

	assert_int_equal(a->nseg, b->nseg);
	for (i = 0; i < a->nseg; i++) {
		const struct segment *x = &a->seg[i], *y = &b->seg[i];

		assert_string_equal(x->source, y->source);
		assert_int_equal(x->text_len, y->text_len);
		if (x->text_len > 0)
			assert_memory_equal(x->text, y->text, x->text_len);
		assert_int_equal(x->mime_type == NULL, y->mime_type == NULL);
		if (x->mime_type != NULL)
			assert_string_equal(x->mime_type, y->mime_type);
	}
	assert_int_equal(a->nuns, b->nuns);
	for (i = 0; i < a->nuns; i++) {
		assert_string_equal(a->uns[i].reason, b->uns[i].reason);
		assert_string_equal(a->uns[i].where, b->uns[i].where);
	}
}

static void
test_message_twice(void **state)
{
	struct message_limits lim;
	struct textseg *plain = textseg_new(), *t[3];
	struct xcache_stats st;
	char *file = g_strdup_printf("%s/bench.xlsx", fixdir), *msg;
	char err[256];
	size_t k, keyed = 0;
	int i;

	(void)state;
	msg = message_with(file, "客户.xlsx");
	message_limits_default(&lim);
	assert_int_equal(message_extract_buffer(msg, strlen(msg), &lim, plain,
	    err, sizeof err), 0);
	lim.cache = xcache_new(8 << 20);
	for (i = 0; i < 3; i++) {
		t[i] = textseg_new();
		assert_int_equal(message_extract_buffer(msg, strlen(msg), &lim,
		    t[i], err, sizeof err), 0);
		assert_same_segments(plain, t[i]);
	}
	xcache_get_stats(lim.cache, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 2);
	/* A text given again carries its key, the same each time; a text
	 * read for the first time has none (it might have been cut). */
	for (k = 0; k < plain->nseg; k++) {
		assert_false(plain->seg[k].keyed);
		assert_false(t[0]->seg[k].keyed);
		assert_int_equal(t[1]->seg[k].keyed, t[2]->seg[k].keyed);
		if (!t[1]->seg[k].keyed)
			continue;
		keyed++;
		assert_memory_equal(t[1]->seg[k].text_key,
		    t[2]->seg[k].text_key, sizeof t[1]->seg[k].text_key);
		assert_non_null(strstr(t[1]->seg[k].source, " > sheet"));
	}
	assert_int_equal(keyed, 1);
	/* A replayed text the walk's budget cuts is another text: no key. */
	lim.max_text_bytes = 50000;
	(void)textseg_free(t[2]);
	t[2] = textseg_new();
	assert_int_equal(message_extract_buffer(msg, strlen(msg), &lim, t[2],
	    err, sizeof err), 0);
	xcache_get_stats(lim.cache, &st);
	assert_int_equal(st.hits, 3);
	assert_int_equal(textseg_has_unscannable(t[2], "text-size"), 1);
	for (k = 0; k < t[2]->nseg; k++)
		assert_false(t[2]->seg[k].keyed);
	/* read whole, and the sheet's text is there */
	assert_int_equal(plain->nuns, 0);
	assert_true(plain->text_bytes > 100000);
	for (i = 0; i < 3; i++)
		(void)textseg_free(t[i]);
	(void)textseg_free(plain);
	(void)xcache_free(lim.cache);
	g_free(msg);
	g_free(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_same),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_not_kept),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_threads),
		cmocka_unit_test_setup_teardown(test_message_twice,
		    setup_office, teardown_office),
	};
	int rc;

	message_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	message_shutdown();
	return rc;
}
