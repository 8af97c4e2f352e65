/* test_extract.c - the extraction core: typing by content (never by
 * name), the type-mismatch finding, plain text in any charset, HTML,
 * messages inside containers, depth, the byte budget and the time
 * budget.  The formats have their own tests (test_archive, test_office,
 * test_docs). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "extract/extract.h"

/* A sink that keeps what it is given. */
struct got {
	GString		*text;		/* "source|text\n" per call */
	GString		*notes;		/* "reason@where\n" */
	GString		*messages;	/* "where\n" */
	bool		 expired;
	int		 full_after;	/* text calls before "budget spent" */
	int		 ntext;
};

static int
got_text(void *arg, const char *source, const char *type, const char *text,
    size_t len)
{
	struct got *g = arg;

	(void)type;
	if (g->full_after > 0 && g->ntext >= g->full_after)
		return 1;
	g->ntext++;
	g_string_append_printf(g->text, "%s|%.*s\n", source, (int)len, text);
	return 0;
}

static int
got_note(void *arg, const char *reason, const char *where)
{
	g_string_append_printf(((struct got *)arg)->notes, "%s@%s\n", reason,
	    where);
	return 0;
}

static int
got_message(void *arg, const char *where, const unsigned char *data,
    size_t len)
{
	(void)data;
	(void)len;
	g_string_append_printf(((struct got *)arg)->messages, "%s\n", where);
	return 0;
}

static bool
got_expired(void *arg)
{
	return ((struct got *)arg)->expired;
}

struct fixture {
	struct got		 g;
	struct extract_sink	 sink;
	struct extract_limits	 lim;
	struct extract		 ex;
};

static int
setup(void **state)
{
	struct fixture *fx = g_new0(struct fixture, 1);

	fx->g.text = g_string_new(NULL);
	fx->g.notes = g_string_new(NULL);
	fx->g.messages = g_string_new(NULL);
	fx->sink.text = got_text;
	fx->sink.note = got_note;
	fx->sink.message = got_message;
	fx->sink.expired = got_expired;
	fx->sink.arg = &fx->g;
	extract_limits_default(&fx->lim);
	extract_init(&fx->ex, &fx->lim, &fx->sink);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	g_string_free(fx->g.text, TRUE);
	g_string_free(fx->g.notes, TRUE);
	g_string_free(fx->g.messages, TRUE);
	g_free(fx);
	return 0;
}

static int
run(struct fixture *fx, const char *where, const char *name,
    const void *data, size_t len, size_t depth)
{
	struct extract_file f;

	memset(&f, 0, sizeof f);
	f.where = where;
	f.name = name;
	f.data = data;
	f.len = len;
	f.depth = depth;
	return extract_file(&fx->ex, &f);
}

/* Heads of files, and what they are read as: the bytes decide. */
static void
test_kind(void **state)
{
	static const char odf[] = "PK\x03\x04" "xxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "mimetypeapplication/vnd.oasis.opendocument.spreadsheet";
	static const char ooxml[] = "PK\x03\x04" "xxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "[Content_Types].xml";
	static const struct {
		const char	*head;
		size_t		 len;	/* 0: strlen */
		const char	*name, *want;
	} rows[] = {
		{ odf, sizeof odf - 1, "a.ods", "odf" },
		{ ooxml, sizeof ooxml - 1, "a.xlsx", "ooxml" },
		{ ooxml, sizeof ooxml - 1, "a.pdf", "ooxml" },
		{ "PK\x03\x04" "just a zip", 14, "a.xlsx", "zip" },
		{ "\x1f\x8b\x08", 3, NULL, "gzip" },
		{ "BZh91AY", 0, NULL, "bzip2" },
		{ "\xfd" "7zXZ\0\0", 6, NULL, "xz" },
		{ "7z\xbc\xaf\x27\x1c\0\x04", 8, NULL, "7z" },
		{ "Rar!\x1a\x07\x01\x00", 8, NULL, "rar" },
		{ "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "a.xls", "ole2" },
		{ "%PDF-1.7\n", 0, "a.docx", "pdf" },
		{ "{\\rtf1\\ansi", 0, NULL, "rtf" },
		{ "<!DOCTYPE html><html>", 0, "x.xls", "html" },
		{ "name,mobile\n李磊,13800138000\n", 0, "a.csv", "text" },
		{ "name,mobile\n", 0, "data.bin", "text" },
		{ "\xff\xfe" "a\0b\0", 6, "a.txt", "text" },
		{ "From: a@b\r\nSubject: x\r\n\r\nbody", 0, "fwd.dat", "message" },
		{ "Subject: x\n\nbody", 0, "a.eml", "message" },
		{ "\x89PNG\r\n\x1a\n", 8, "a.csv", NULL },
		{ "\x7f" "ELF\x02\x01", 6, "a.txt", NULL },
		/* NULs hide nothing: UTF-16 without a BOM, padding. */
		{ "1\0" "3\0" "8\0" "0\0", 8, "a.csv", "text" },
		{ "\0\0\0\0\0\0" "13800138000", 17, "a.bin", "text" },
		{ "\0\0\0\0", 4, "a.csv", NULL },
		{ "\x01\x02\x03\x04\x05\x06", 6, "a.csv", NULL },
		{ "", 0, "a.txt", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		size_t len = rows[i].len ? rows[i].len : strlen(rows[i].head);
		const char *got = extract_kind((const unsigned char *)
		    rows[i].head, len, rows[i].name);

		if ((got == NULL) != (rows[i].want == NULL) ||
		    (got != NULL && strcmp(got, rows[i].want) != 0))
			fail_msg("row %zu (%s): got %s, want %s", i,
			    rows[i].name ? rows[i].name : "-",
			    got ? got : "NULL",
			    rows[i].want ? rows[i].want : "NULL");
	}
}

static void
test_text_and_mismatch(void **state)
{
	struct fixture *fx = *state;
	static const char utf16[] = "\xff\xfe" "1\0" "3\0" "8\0" "0\0" "0\0";
	static const char gbk[] = "\xc0\xee\xc0\xda,13800138000\n";

	assert_int_equal(run(fx, "attachment \"a.csv\"", "a.csv", gbk,
	    sizeof gbk - 1, 0), 1);
	assert_int_equal(run(fx, "attachment \"u.txt\"", "u.txt", utf16,
	    sizeof utf16 - 1, 0), 1);
	assert_int_equal(run(fx, "attachment \"p.html\"", "p.html",
	    "<p>tel <b>13800138000</b></p>", 29, 0), 1);
	assert_string_equal(fx->g.text->str,
	    "attachment \"a.csv\"|李磊,13800138000\n\n"
	    "attachment \"u.txt\"|13800\n"
	    "attachment \"p.html\"|tel 13800138000\n\n");
	/* A CSV called .pdf is read, and the name is a finding; an .xls
	 * that is HTML (web exports) is not. */
	assert_int_equal(run(fx, "attachment \"r.pdf\"", "r.pdf",
	    "a,b\n1,2\n", 8, 0), 1);
	assert_int_equal(run(fx, "attachment \"w.xls\"", "w.xls",
	    "<html><td>1</td></html>", 23, 0), 1);
	assert_string_equal(fx->g.notes->str,
	    "type-mismatch@attachment \"r.pdf\"\n");
}

static void
test_not_ours(void **state)
{
	struct fixture *fx = *state;
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

	assert_int_equal(run(fx, "attachment \"i.png\"", "i.png", png,
	    sizeof png - 1, 0), 0);
	assert_string_equal(fx->g.text->str, "");
	assert_string_equal(fx->g.notes->str, "");
}

static void
test_message_depth_time(void **state)
{
	struct fixture *fx = *state;
	static const char eml[] = "From: a@b\r\nSubject: s\r\n\r\nhi\r\n";

	assert_int_equal(run(fx, "attachment \"x.zip\" > fwd.eml", "fwd.eml",
	    eml, sizeof eml - 1, 1), 1);
	assert_string_equal(fx->g.messages->str,
	    "attachment \"x.zip\" > fwd.eml\n");
	/* Deeper than archive_depth: a note, nothing read. */
	assert_int_equal(run(fx, "deep", "d.txt", "13800138000", 11,
	    fx->lim.max_depth + 1), 1);
	assert_string_equal(fx->g.notes->str, "depth@deep\n");
	/* Out of time: a note once, then nothing more. */
	fx->g.expired = true;
	assert_int_equal(run(fx, "late", "l.txt", "13800138000", 11, 0), 1);
	assert_int_equal(run(fx, "later", "l.txt", "13800138000", 11, 0), 1);
	assert_string_equal(fx->g.notes->str, "depth@deep\ntime@late\n");
	assert_string_equal(fx->g.text->str, "");
}

static void
test_budgets(void **state)
{
	struct fixture *fx = *state;

	fx->lim.max_bytes = 100;
	assert_int_equal(extract_take(&fx->ex, 60, "a"), 0);
	assert_int_equal(extract_take(&fx->ex, 40, "b"), 0);
	assert_int_equal(extract_take(&fx->ex, 1, "c"), -1);
	assert_int_equal(extract_take(&fx->ex, 1, "d"), -1);
	/* Said once, where it happened. */
	assert_string_equal(fx->g.notes->str, "extract-size@c\n");
	assert_true(fx->ex.stop);
	assert_true(extract_stopped(&fx->ex, "e"));

	/* The sink's text budget: the extractors are told to stop. */
	extract_init(&fx->ex, &fx->lim, &fx->sink);
	fx->g.full_after = 1;
	assert_int_equal(extract_text(&fx->ex, "s", NULL, "one", 3), 0);
	assert_int_equal(extract_text(&fx->ex, "s", NULL, "two", 3), 1);
	assert_true(fx->ex.stop);
	assert_int_equal(extract_text(&fx->ex, "s", NULL, "three", 5), 1);
	assert_string_equal(fx->g.text->str, "s|one\n");
}

static void
test_path(void **state)
{
	char *p = extract_path("attachment \"a.zip\"", "2024/客户.xlsx");

	(void)state;
	assert_string_equal(p, "attachment \"a.zip\" > 2024/客户.xlsx");
	g_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind),
		cmocka_unit_test_setup_teardown(test_text_and_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_ours, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_message_depth_time, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_budgets, setup, teardown),
		cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
