/* test_textseg.c - unit tests for the segment set (textseg.c).
 *
 * Checks that every string is copied, opaque segments have no text,
 * text_bytes adds up, the arrays grow, and notes are found by reason.
 * Run under ASan: a missed free in textseg_free() shows up as a leak. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "textseg.h"

static void
test_new_free(void **state)
{
	struct textseg	*ts;

	(void)state;
	ts = textseg_new();
	assert_non_null(ts);
	assert_int_equal(ts->nseg, 0);
	assert_int_equal(ts->nuns, 0);
	assert_int_equal(ts->text_bytes, 0);
	assert_null(textseg_free(ts));
	assert_null(textseg_free(NULL));
}

static void
test_add_copies(void **state)
{
	struct textseg	*ts = textseg_new();
	struct segment	*s;
	char		 src[] = "body text/plain", mt[] = "text/plain";
	char		 cs[] = "gbk", enc[] = "base64";
	char		 text[] = "hello world";

	(void)state;
	/* Not NUL-terminated at len: only 5 bytes are taken. */
	s = textseg_add(ts, src, mt, cs, enc, text, 5);
	assert_non_null(s);
	memset(src, 'x', sizeof src - 1);
	memset(mt, 'x', sizeof mt - 1);
	memset(cs, 'x', sizeof cs - 1);
	memset(enc, 'x', sizeof enc - 1);
	memset(text, 'x', sizeof text - 1);
	assert_string_equal(ts->seg[0].source, "body text/plain");
	assert_string_equal(ts->seg[0].mime_type, "text/plain");
	assert_string_equal(ts->seg[0].charset, "gbk");
	assert_string_equal(ts->seg[0].encoding, "base64");
	assert_string_equal(ts->seg[0].text, "hello");
	assert_int_equal(ts->seg[0].text_len, 5);
	assert_int_equal(ts->seg[0].raw_len, 5);
	assert_null(ts->seg[0].sniffed_type);
	assert_null(ts->seg[0].filename);
	assert_int_equal(ts->text_bytes, 5);
	textseg_free(ts);
}

static void
test_add_nulls_and_opaque(void **state)
{
	struct textseg	*ts = textseg_new();
	struct segment	*s;

	(void)state;
	s = textseg_add(ts, "header Subject", NULL, NULL, NULL, "", 0);
	assert_non_null(s);
	assert_null(s->mime_type);
	assert_null(s->charset);
	assert_null(s->encoding);
	assert_non_null(s->text);
	assert_string_equal(s->text, "");

	s = textseg_add(ts, "attachment \"a.zip\"", "application/zip", NULL,
	    "base64", NULL, 1234);
	assert_non_null(s);
	assert_null(s->text);
	assert_int_equal(s->text_len, 0);
	assert_int_equal(textseg_set(&s->sniffed_type, "application/zip"), 0);
	assert_int_equal(textseg_set(&s->filename, "a.zip"), 0);
	assert_string_equal(ts->seg[1].sniffed_type, "application/zip");
	/* Replacing frees the old value; NULL clears. */
	assert_int_equal(textseg_set(&s->filename, "b.zip"), 0);
	assert_string_equal(ts->seg[1].filename, "b.zip");
	assert_int_equal(textseg_set(&s->filename, NULL), 0);
	assert_null(ts->seg[1].filename);
	assert_int_equal(textseg_set(NULL, "x"), -1);
	assert_int_equal(ts->text_bytes, 0);
	textseg_free(ts);
}

static void
test_grow(void **state)
{
	struct textseg	*ts = textseg_new();
	char		 src[32], want[32];
	size_t		 i, n = 1000;

	(void)state;
	for (i = 0; i < n; i++) {
		snprintf(src, sizeof src, "seg %zu", i);
		assert_non_null(textseg_add(ts, src, NULL, NULL, NULL, "abc",
		    3));
		assert_int_equal(textseg_unscannable(ts, "depth", src), 0);
	}
	assert_int_equal(ts->nseg, n);
	assert_int_equal(ts->nuns, n);
	assert_int_equal(ts->text_bytes, 3 * n);
	for (i = 0; i < n; i += 97) {
		snprintf(want, sizeof want, "seg %zu", i);
		if (strcmp(ts->seg[i].source, want) != 0)
			fail_msg("seg[%zu]: got %s, want %s", i,
			    ts->seg[i].source, want);
		if (strcmp(ts->uns[i].where, want) != 0)
			fail_msg("uns[%zu]: got %s, want %s", i,
			    ts->uns[i].where, want);
	}
	textseg_free(ts);
}

static void
test_unscannable(void **state)
{
	static const struct {
		const char	*reason;
		int		 want;
	} rows[] = {
		{ "depth", 1 },
		{ "parts", 1 },
		{ "text-size", 0 },
		{ "dept", 0 },
		{ "", 0 },
	};
	struct textseg	*ts = textseg_new();
	size_t		 i;
	int		 got;

	(void)state;
	assert_int_equal(textseg_has_unscannable(ts, "depth"), 0);
	assert_int_equal(textseg_unscannable(ts, "depth",
	    "attachment \"a.eml\" > body multipart/mixed"), 0);
	assert_int_equal(textseg_unscannable(ts, "parts", NULL), 0);
	assert_string_equal(ts->uns[1].where, "message");
	assert_int_equal(textseg_unscannable(ts, NULL, "x"), -1);
	assert_int_equal(textseg_unscannable(NULL, "x", "x"), -1);
	for (i = 0; i < sizeof rows / sizeof *rows; i++) {
		got = textseg_has_unscannable(ts, rows[i].reason);
		if (got != rows[i].want)
			fail_msg("has_unscannable(%s): got %d, want %d",
			    rows[i].reason, got, rows[i].want);
	}
	assert_int_equal(textseg_has_unscannable(NULL, "depth"), 0);
	assert_int_equal(textseg_has_unscannable(ts, NULL), 0);
	textseg_free(ts);
}

static void
test_add_null_set(void **state)
{
	(void)state;
	assert_null(textseg_add(NULL, "x", NULL, NULL, NULL, "x", 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_add_copies),
		cmocka_unit_test(test_add_nulls_and_opaque),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_unscannable),
		cmocka_unit_test(test_add_null_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
