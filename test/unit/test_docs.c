/* test_docs.c - unit tests for the PDF, OLE2 and RTF extractors
 * (src/extract/pdf.c, ole2.c, rtf.c), through extract_file().
 *
 * The fixtures come from test/fixtures/make-docs.py (run with $PYTHON3
 * from $top_srcdir into a mkdtemp directory); its docstring says what
 * each file holds.  A fake sink records every (source, type, text)
 * segment and every note.  The PDF helper's limits are tested with
 * shell scripts standing in for pdftotext: one that sleeps, one that
 * spins, one that crashes after printing a page, one that runs out of
 * memory.  PDF tests skip when pdftotext is not installed, the
 * password ones when qpdf was not there to make their fixtures. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <glib.h>

#include "extract/extract.h"

#define PHONE	"13800138000"
#define EMAIL	"customer0001@example.com"
#define NAME	"\xe6\x9d\x8e\xe7\xa3\x8a\xe5\xa8\x9f"	/* 李磊娟 */
#define KEHU	"\xe5\xae\xa2\xe6\x88\xb7"		/* 客户 */
#define PDFTOTEXT	"/usr/bin/pdftotext"

static char *fixdir;

struct seg {
	char	*source, *type, *text;
};

struct rec {
	GPtrArray	*segs;		/* struct seg */
	GPtrArray	*notes;		/* "reason|where" */
	int		 messages;
	double		 expire_at;	/* seconds from start; 0 never */
	double		 start;
};

static double
now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
seg_free(gpointer p)
{
	struct seg *s = p;

	g_free(s->source);
	g_free(s->type);
	g_free(s->text);
	g_free(s);
}

static int
sink_text(void *arg, const char *source, const char *type, const char *text,
    size_t len)
{
	struct rec *r = arg;
	struct seg *s = g_new0(struct seg, 1);

	s->source = g_strdup(source);
	s->type = g_strdup(type);
	s->text = g_strndup(text, len);
	assert_int_equal(strlen(s->text), len);	/* no NUL inside */
	assert_true(g_utf8_validate(text, (gssize)len, NULL));
	g_ptr_array_add(r->segs, s);
	return 0;
}

static int
sink_note(void *arg, const char *reason, const char *where)
{
	struct rec *r = arg;

	g_ptr_array_add(r->notes, g_strdup_printf("%s|%s", reason, where));
	return 0;
}

static int
sink_message(void *arg, const char *prefix, const unsigned char *data,
    size_t len)
{
	struct rec *r = arg;

	(void)prefix;
	(void)data;
	(void)len;
	r->messages++;
	return 0;
}

static bool
sink_expired(void *arg)
{
	struct rec *r = arg;

	return r->expire_at > 0 && now() - r->start >= r->expire_at;
}

static const struct extract_sink sink = {
	sink_text, sink_note, sink_message, sink_expired, NULL
};

static void
rec_init(struct rec *r)
{
	memset(r, 0, sizeof *r);
	r->segs = g_ptr_array_new_with_free_func(seg_free);
	r->notes = g_ptr_array_new_with_free_func(g_free);
	r->start = now();
}

static void
rec_clear(struct rec *r)
{
	g_ptr_array_free(r->segs, TRUE);
	g_ptr_array_free(r->notes, TRUE);
}

/* All the text, segments joined by newlines. */
static char *
rec_all(const struct rec *r)
{
	GString *s = g_string_new(NULL);
	guint i;

	for (i = 0; i < r->segs->len; i++) {
		g_string_append(s, ((struct seg *)g_ptr_array_index(r->segs,
		    i))->text);
		g_string_append_c(s, '\n');
	}
	return g_string_free(s, FALSE);
}

static void
want_text(const struct rec *r, const char *needle)
{
	char *all = rec_all(r);

	if (strstr(all, needle) == NULL)
		fail_msg("got text \"%s\", want it to hold \"%s\"", all,
		    needle);
	g_free(all);
}

static void
want_no_text(const struct rec *r, const char *needle)
{
	char *all = rec_all(r);

	if (strstr(all, needle) != NULL)
		fail_msg("got text \"%s\", want no \"%s\"", all, needle);
	g_free(all);
}

/* The text of the segment at source, or NULL. */
static const char *
seg_at(const struct rec *r, const char *source)
{
	guint i;

	for (i = 0; i < r->segs->len; i++) {
		struct seg *s = g_ptr_array_index(r->segs, i);

		if (strcmp(s->source, source) == 0)
			return s->text;
	}
	return NULL;
}

static void
want_source(const struct rec *r, const char *source)
{
	GString *got;
	guint i;

	if (seg_at(r, source) != NULL)
		return;
	got = g_string_new(NULL);
	for (i = 0; i < r->segs->len; i++)
		g_string_append_printf(got, " [%s]", ((struct seg *)
		    g_ptr_array_index(r->segs, i))->source);
	fail_msg("got sources%s, want [%s]", got->str, source);
}

static bool
has_note(const struct rec *r, const char *reason)
{
	size_t n = strlen(reason);
	guint i;

	for (i = 0; i < r->notes->len; i++) {
		const char *s = g_ptr_array_index(r->notes, i);

		if (strncmp(s, reason, n) == 0 && s[n] == '|')
			return true;
	}
	return false;
}

static void
want_note(const struct rec *r, const char *reason)
{
	GString *got;
	guint i;

	if (has_note(r, reason))
		return;
	got = g_string_new(NULL);
	for (i = 0; i < r->notes->len; i++)
		g_string_append_printf(got, " [%s]", (char *)
		    g_ptr_array_index(r->notes, i));
	fail_msg("got notes%s, want \"%s\"", got->str, reason);
}

static void
want_notes(const struct rec *r, guint n)
{
	if (r->notes->len != n)
		fail_msg("got %u notes (first: %s), want %u", r->notes->len,
		    r->notes->len ? (char *)g_ptr_array_index(r->notes, 0) :
		    "-", n);
}

/* Reads fixture file (as name, unless name is NULL) through
 * extract_file() with limits lim.  Returns its result. */
static int
run_as(struct rec *r, const struct extract_limits *lim, const char *file,
    const char *name)
{
	struct extract_sink s = sink;
	struct extract_file f;
	struct extract ex;
	char *path = g_build_filename(fixdir, file, NULL), *data, *where;
	gsize len;
	int rc;

	if (!g_file_get_contents(path, &data, &len, NULL))
		fail_msg("cannot read fixture %s", path);
	where = g_strdup_printf("attachment \"%s\"", name ? name : file);
	s.arg = r;
	extract_init(&ex, lim, &s);
	memset(&f, 0, sizeof f);
	f.where = where;
	f.name = name ? name : file;
	f.data = (const unsigned char *)data;
	f.len = len;
	rc = extract_file(&ex, &f);
	g_free(where);
	g_free(data);
	g_free(path);
	return rc;
}

static int
run(struct rec *r, const struct extract_limits *lim, const char *file)
{
	return run_as(r, lim, file, NULL);
}

static bool
have_fixture(const char *file)
{
	char *path = g_build_filename(fixdir, file, NULL);
	bool ok = access(path, R_OK) == 0;

	g_free(path);
	return ok;
}

static void
need_pdftotext(void)
{
	if (access(PDFTOTEXT, X_OK) != 0) {
		print_message("%s not installed: skipped\n", PDFTOTEXT);
		skip();
	}
}

/* A shell script in the fixture directory standing in for pdftotext. */
static char *
helper(const char *name, const char *body)
{
	char *path = g_build_filename(fixdir, name, NULL);
	char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	assert_int_equal(chmod(path, 0755), 0);
	g_free(text);
	return path;
}

/* Open descriptors (-1 without /proc): the helper's pipes and the
 * PDF's memory file must all be closed after each run. */
static int
count_fds(void)
{
	GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
	int n = 0;

	if (d == NULL)
		return -1;
	while (g_dir_read_name(d) != NULL)
		n++;
	g_dir_close(d);
	return n;
}

/* ------------------------------------------------------------------ PDF */

static void
test_pdf_cjk(void **state)
{
	struct extract_limits lim;
	struct rec r;

	(void)state;
	need_pdftotext();
	extract_limits_default(&lim);
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "cjk.pdf"), 1);
	want_source(&r, "attachment \"cjk.pdf\" > page 1");
	want_text(&r, KEHU);
	want_text(&r, NAME);
	want_text(&r, PHONE);
	want_text(&r, EMAIL);
	want_notes(&r, 0);
	assert_string_equal(((struct seg *)g_ptr_array_index(r.segs, 0))->type,
	    "application/pdf");
	rec_clear(&r);
}

static void
test_pdf_pages(void **state)
{
	struct extract_limits lim;
	struct rec r;

	(void)state;
	need_pdftotext();
	extract_limits_default(&lim);
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "pages3.pdf"), 1);
	want_notes(&r, 0);
	assert_int_equal(r.segs->len, 3);
	want_source(&r, "attachment \"pages3.pdf\" > page 1");
	assert_non_null(strstr(seg_at(&r,
	    "attachment \"pages3.pdf\" > page 2"), EMAIL));
	assert_non_null(strstr(seg_at(&r,
	    "attachment \"pages3.pdf\" > page 3"), PHONE));
	rec_clear(&r);

	/* Two pages allowed: the third is not read, and noted. */
	lim.max_pdf_pages = 2;
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "pages3.pdf"), 1);
	want_note(&r, "pdf-pages");
	want_notes(&r, 1);
	want_text(&r, EMAIL);
	want_no_text(&r, PHONE);
	rec_clear(&r);

	/* Exactly as many pages as allowed: no note. */
	lim.max_pdf_pages = 3;
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "pages3.pdf"), 1);
	want_notes(&r, 0);
	want_text(&r, PHONE);
	rec_clear(&r);
}

static void
test_pdf_passwords(void **state)
{
	struct extract_limits lim;
	struct rec r;

	(void)state;
	need_pdftotext();
	if (!have_fixture("encrypted.pdf")) {
		print_message("no qpdf: password PDFs skipped\n");
		skip();
	}
	extract_limits_default(&lim);
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "encrypted.pdf"), 1);
	want_note(&r, "encrypted");
	want_notes(&r, 1);
	assert_int_equal(r.segs->len, 0);
	rec_clear(&r);

	/* An owner password alone restricts nothing a reader must obey. */
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "owner-only.pdf"), 1);
	want_notes(&r, 0);
	want_text(&r, PHONE);
	rec_clear(&r);
}

static void
test_pdf_damaged_unsupported(void **state)
{
	struct extract_limits lim;
	struct rec r;

	(void)state;
	extract_limits_default(&lim);
	if (access(PDFTOTEXT, X_OK) == 0) {
		rec_init(&r);
		assert_int_equal(run(&r, &lim, "damaged.pdf"), 1);
		want_note(&r, "damaged");
		want_notes(&r, 1);
		rec_clear(&r);
	}
	lim.pdftotext = "/nonexistent/pdftotext";
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "pages3.pdf"), 1);
	want_note(&r, "unsupported");
	want_notes(&r, 1);
	rec_clear(&r);
}

/* The helper's limits: wall clock, CPU, crash, memory. */
static void
test_pdf_limits(void **state)
{
	static const struct {
		const char	*name, *body, *note;
		double		 within;	/* seconds */
	} rows[] = {
		/* the sleep is a child of the shell: the group is killed */
		{ "sleeps.sh", "sleep 30; echo late", "time", 3.5 },
		{ "spins.sh", "while :; do :; done", "time", 3.5 },
		{ "crashes.sh", "printf 'page one " PHONE "\\f'; kill -SEGV $$",
		    "damaged", 3.0 },
		{ "eats.sh", "exec awk 'BEGIN { s = \"a\"; for (;;) s = s s }'",
		    "damaged", 3.5 },
	};
	struct extract_limits lim;
	struct rec r;
	char *prog;
	double t0, took;
	size_t i;
	int fds;

	(void)state;
	fds = count_fds();
	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		extract_limits_default(&lim);
		lim.pdf_seconds = 1;
		lim.pdf_memory = 64u << 20;
		prog = helper(rows[i].name, rows[i].body);
		lim.pdftotext = prog;
		rec_init(&r);
		t0 = now();
		assert_int_equal(run(&r, &lim, "pages3.pdf"), 1);
		took = now() - t0;
		if (took > rows[i].within)
			fail_msg("%s: took %.1f s, want at most %.1f",
			    rows[i].name, took, rows[i].within);
		want_note(&r, rows[i].note);
		want_notes(&r, 1);
		if (strcmp(rows[i].name, "crashes.sh") == 0) {
			/* What came before the crash is kept. */
			want_source(&r, "attachment \"pages3.pdf\" > page 1");
			want_text(&r, PHONE);
		}
		rec_clear(&r);
		g_free(prog);
	}
	assert_int_equal(count_fds(), fds);
}

/* The message's time runs out while the helper works: it is stopped
 * long before its own deadline. */
static void
test_pdf_message_time(void **state)
{
	struct extract_limits lim;
	struct rec r;
	char *prog;
	double t0;

	(void)state;
	extract_limits_default(&lim);
	lim.pdf_seconds = 10;
	prog = helper("slow.sh", "sleep 30");
	lim.pdftotext = prog;
	rec_init(&r);
	r.expire_at = 0.4;
	t0 = now();
	assert_int_equal(run(&r, &lim, "pages3.pdf"), 1);
	assert_true(now() - t0 < 2.0);
	want_note(&r, "time");
	want_notes(&r, 1);
	rec_clear(&r);
	g_free(prog);
}

static void
test_pdf_budget(void **state)
{
	struct extract_limits lim;
	struct rec r;

	(void)state;
	need_pdftotext();
	extract_limits_default(&lim);
	lim.max_bytes = 20;
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "pages3.pdf"), 1);
	want_note(&r, "extract-size");
	want_no_text(&r, PHONE);
	rec_clear(&r);
}

/* ----------------------------------------------------------------- OLE2 */

static void
test_ole2_xls(void **state)
{
	struct extract_limits lim;
	struct rec r;
	const char *t;

	(void)state;
	extract_limits_default(&lim);
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "book.xls"), 1);
	want_notes(&r, 0);
	t = seg_at(&r, "attachment \"book.xls\" > sheet \"" KEHU "\"");
	if (t == NULL)
		want_source(&r, "attachment \"book.xls\" > sheet \"" KEHU "\"");
	/* SST strings (one split over CONTINUE), NUMBER, RK, MULRK. */
	assert_string_equal(t, "Name\tEmail\tPhone\n"
	    NAME "\t" EMAIL "\t" PHONE "\n" "4242\t0.5\t77");
	assert_string_equal(((struct seg *)g_ptr_array_index(r.segs, 0))->type,
	    "application/vnd.ms-excel");
	rec_clear(&r);
}

static void
test_ole2_word_ppt_msg(void **state)
{
	struct extract_limits lim;
	struct rec r;

	(void)state;
	extract_limits_default(&lim);
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "word.doc"), 1);
	want_notes(&r, 0);
	want_source(&r, "attachment \"word.doc\" > document");
	want_text(&r, KEHU " " NAME "\n");
	want_text(&r, PHONE "\n");
	want_text(&r, "Mail: " EMAIL);	/* the compressed piece */
	rec_clear(&r);

	/* No piece table: UTF-16 and 8-bit runs, short ones left out. */
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "runs.doc"), 1);
	want_notes(&r, 0);
	assert_string_equal(seg_at(&r, "attachment \"runs.doc\" > document"),
	    KEHU " " NAME " " PHONE "\nMail " EMAIL "\n");
	rec_clear(&r);

	rec_init(&r);
	assert_int_equal(run(&r, &lim, "slides.ppt"), 1);
	want_notes(&r, 0);
	want_source(&r, "attachment \"slides.ppt\" > presentation");
	want_text(&r, NAME);
	want_text(&r, "Phone " PHONE);
	want_text(&r, EMAIL);
	rec_clear(&r);

	/* Outlook: text properties, and the attached file read as one. */
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "mail.msg"), 1);
	want_notes(&r, 0);
	want_source(&r, "attachment \"mail.msg\" > message");
	want_text(&r, KEHU " " NAME);
	want_text(&r, "Contact " EMAIL);
	assert_non_null(seg_at(&r, "attachment \"mail.msg\" > note.txt"));
	assert_non_null(strstr(seg_at(&r, "attachment \"mail.msg\" > note.txt"),
	    PHONE));
	rec_clear(&r);
}

static void
test_ole2_encrypted(void **state)
{
	static const char *const files[] = { "filepass.xls", "word-enc.doc",
	    "encpkg.docx" };
	struct extract_limits lim;
	struct rec r;
	size_t i;

	(void)state;
	extract_limits_default(&lim);
	for (i = 0; i < G_N_ELEMENTS(files); i++) {
		rec_init(&r);
		assert_int_equal(run(&r, &lim, files[i]), 1);
		want_note(&r, "encrypted");
		want_notes(&r, 1);	/* no type-mismatch for .docx */
		assert_int_equal(r.segs->len, 0);
		rec_clear(&r);
	}
}

static void
test_ole2_damaged(void **state)
{
	static const char *const files[] = { "fat-cycle.xls",
	    "truncated.xls" };
	struct extract_limits lim;
	struct rec r;
	size_t i;

	(void)state;
	extract_limits_default(&lim);
	for (i = 0; i < G_N_ELEMENTS(files); i++) {
		rec_init(&r);
		assert_int_equal(run(&r, &lim, files[i]), 1);
		want_note(&r, "damaged");
		want_notes(&r, 1);
		rec_clear(&r);
	}
}

/* A .doc renamed .pdf: noted, and read as what it is. */
static void
test_type_mismatch(void **state)
{
	struct extract_limits lim;
	struct rec r;

	(void)state;
	extract_limits_default(&lim);
	rec_init(&r);
	assert_int_equal(run_as(&r, &lim, "word.doc", "invoice.pdf"), 1);
	want_note(&r, "type-mismatch");
	want_notes(&r, 1);
	want_source(&r, "attachment \"invoice.pdf\" > document");
	want_text(&r, PHONE);
	rec_clear(&r);
}

static void
test_kinds(void **state)
{
	static const struct {
		const char *file, *kind;
	} rows[] = {
		{ "cjk.pdf", "pdf" }, { "book.xls", "ole2" },
		{ "mail.msg", "ole2" }, { "gbk.rtf", "rtf" },
	};
	char *path, *data;
	gsize len;
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		path = g_build_filename(fixdir, rows[i].file, NULL);
		assert_true(g_file_get_contents(path, &data, &len, NULL));
		assert_string_equal(extract_kind((unsigned char *)data, len,
		    rows[i].file), rows[i].kind);
		g_free(data);
		g_free(path);
	}
}

/* ------------------------------------------------------------------ RTF */

static void
test_rtf(void **state)
{
	struct extract_limits lim;
	struct rec r;
	const char *t;

	(void)state;
	extract_limits_default(&lim);
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "gbk.rtf"), 1);
	want_notes(&r, 0);
	assert_int_equal(r.segs->len, 1);
	t = seg_at(&r, "attachment \"gbk.rtf\"");
	assert_non_null(t);
	assert_string_equal(((struct seg *)g_ptr_array_index(r.segs, 0))->type,
	    "application/rtf");
	/* \'hh in \ansicpg936; \par; \tab */
	want_text(&r, KEHU " " NAME "\nphone " PHONE "\tnext\n");
	/* \uN with one and two fallback bytes; \cell, \row */
	want_text(&r, "HYPERLINK fldinst_xyz" NAME " \xe6\x9d\x8e x" EMAIL
	    "\t2\t\n");
	want_text(&r, "line\nend {brace}\n");
	want_no_text(&r, "hidden_author_xyz");	/* \info */
	want_no_text(&r, "Riched20");		/* \*\generator */
	want_no_text(&r, "pict_hex_xyz");	/* \pict */
	want_no_text(&r, "\xe5\xae\x8b");	/* the font's name, 宋 */
	rec_clear(&r);

	/* GBK under a \fcharset134 font in a cp1252 document. */
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "fcharset.rtf"), 1);
	want_text(&r, "caf\xc3\xa9 " NAME " " PHONE);
	rec_clear(&r);
}

static void
test_rtf_depth_object(void **state)
{
	struct extract_limits lim;
	struct rec r;

	(void)state;
	extract_limits_default(&lim);
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "deep.rtf"), 1);
	want_note(&r, "xml-depth");
	want_notes(&r, 1);
	want_text(&r, "before");
	want_no_text(&r, "inner");
	rec_clear(&r);

	/* An Excel sheet embedded as an OLE1 object. */
	rec_init(&r);
	assert_int_equal(run(&r, &lim, "object.rtf"), 1);
	want_notes(&r, 0);
	want_source(&r, "attachment \"object.rtf\" > object > sheet \""
	    KEHU "\"");
	want_text(&r, NAME "\t" EMAIL "\t" PHONE);
	want_text(&r, "before object shown_result_xyz after");
	rec_clear(&r);
}

/* --------------------------------------------------------------- set up */

static int
setup(void **state)
{
	const char *top = getenv("top_srcdir");
	const char *py = getenv("PYTHON3");
	char *cmd;
	int rc;

	(void)state;
	if (top == NULL || *top == '\0')
		top = ".";
	if (py == NULL || *py == '\0')
		py = "python3";
	fixdir = g_dir_make_tmp("custos-docs-XXXXXX", NULL);
	if (fixdir == NULL)
		return -1;
	cmd = g_strdup_printf("'%s' '%s/test/fixtures/make-docs.py' '%s'", py,
	    top, fixdir);
	rc = system(cmd);
	g_free(cmd);
	return rc == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char *cmd;

	(void)state;
	if (fixdir != NULL && getenv("KEEP_FIXTURES") == NULL) {
		cmd = g_strdup_printf("rm -rf '%s'", fixdir);
		(void)system(cmd);
		g_free(cmd);
	}
	g_free(fixdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pdf_cjk),
		cmocka_unit_test(test_pdf_pages),
		cmocka_unit_test(test_pdf_passwords),
		cmocka_unit_test(test_pdf_damaged_unsupported),
		cmocka_unit_test(test_pdf_limits),
		cmocka_unit_test(test_pdf_message_time),
		cmocka_unit_test(test_pdf_budget),
		cmocka_unit_test(test_ole2_xls),
		cmocka_unit_test(test_ole2_word_ppt_msg),
		cmocka_unit_test(test_ole2_encrypted),
		cmocka_unit_test(test_ole2_damaged),
		cmocka_unit_test(test_type_mismatch),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_rtf),
		cmocka_unit_test(test_rtf_depth_object),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
