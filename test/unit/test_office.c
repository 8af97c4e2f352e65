/* test_office.c - unit tests for the office document extractors
 * (extract/ooxml.c, extract/odf.c), through extract_file().
 *
 * test/fixtures/make-office.py writes the documents into a temporary
 * directory ($PYTHON3, $top_srcdir); a fake sink records every (source,
 * text) and (reason, where).  Known values must arrive under the right
 * source, a row's cells on one tab-separated line; the hostile
 * documents must end in the right note with the text read before kept
 * and the peak RSS bounded. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <glib.h>

#include "extract/extract.h"
#include "extract/zipdir.h"

/* ASan's shadow memory and quarantine make RSS meaningless. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN	1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN	0
#endif

/* What the bomb cases may add to the peak RSS, KiB. */
#define RSS_BOUND_KB	(24 * 1024)

#define PHONE	"13800138000"
#define MAIL	"customer0001@example.com"
#define NAME	"李磊娟"

static char	*dir;	/* the fixtures */

/* The fake sink. */
static GPtrArray *texts;	/* source, text, source, text ... */
static GPtrArray *notes;	/* reason, where ... */
static size_t	  text_calls_max;	/* 0: no limit */
static bool	  expired;
static size_t	  bad_utf8;	/* texts that are not UTF-8 */
static char	 *attachment;	/* "attachment \"NAME\"" of the last run */

static int
sink_text(void *arg, const char *source, const char *type, const char *text,
    size_t len)
{
	(void)arg;
	(void)type;
	if (!g_utf8_validate(text, (gssize)len, NULL))
		bad_utf8++;
	g_ptr_array_add(texts, g_strdup(source));
	g_ptr_array_add(texts, g_strndup(text, len));
	if (text_calls_max > 0 && texts->len / 2 >= text_calls_max)
		return 1;
	return 0;
}

static int
sink_note(void *arg, const char *reason, const char *where)
{
	(void)arg;
	g_ptr_array_add(notes, g_strdup(reason));
	g_ptr_array_add(notes, g_strdup(where));
	return 0;
}

static int
sink_message(void *arg, const char *prefix, const unsigned char *data,
    size_t len)
{
	(void)arg;
	(void)prefix;
	(void)data;
	(void)len;
	return 0;
}

static bool
sink_expired(void *arg)
{
	(void)arg;
	return expired;
}

static const struct extract_sink sink = { sink_text, sink_note, sink_message,
    sink_expired, NULL };

static void
reset(void)
{
	g_ptr_array_set_size(texts, 0);
	g_ptr_array_set_size(notes, 0);
	text_calls_max = 0;
	expired = false;
	bad_utf8 = 0;
}

static void
dump(void)
{
	size_t i;

	for (i = 0; i + 1 < texts->len; i += 2)
		print_message("# text [%s]\n#   %s\n",
		    (char *)g_ptr_array_index(texts, i),
		    (char *)g_ptr_array_index(texts, i + 1));
	for (i = 0; i + 1 < notes->len; i += 2)
		print_message("# note %s [%s]\n",
		    (char *)g_ptr_array_index(notes, i),
		    (char *)g_ptr_array_index(notes, i + 1));
}

/* Reads file from the fixtures as an attachment called name: what
 * extract_file() returns, or -2 when the file cannot be read.  No
 * cmocka assertions: a forked child runs it too. */
static int
extract_run(const char *file, const char *name,
    const struct extract_limits *lim)
{
	struct extract_limits def;
	struct extract ex;
	struct extract_file f;
	char *path, *data;
	gsize len;
	int rc = -2;

	if (lim == NULL) {
		extract_limits_default(&def);
		lim = &def;
	}
	path = g_build_filename(dir, file, NULL);
	g_free(attachment);
	attachment = g_strdup_printf("attachment \"%s\"", name);
	if (g_file_get_contents(path, &data, &len, NULL)) {
		extract_init(&ex, lim, &sink);
		memset(&f, 0, sizeof f);
		f.where = attachment;
		f.name = name;
		f.data = (const unsigned char *)data;
		f.len = len;
		rc = extract_file(&ex, &f);
		g_free(data);
	}
	g_free(path);
	return rc;
}

static void
run(const char *file, const char *name, const struct extract_limits *lim)
{
	int rc = extract_run(file, name, lim);

	if (getenv("OFFICE_DUMP") != NULL)
		dump();
	if (rc != 1)
		fail_msg("%s: got %d, want 1", file, rc);
	if (bad_utf8 > 0)
		fail_msg("%s: got %zu texts not in UTF-8", file, bad_utf8);
}

/* The text at "attachment > source" holding want, or NULL. */
static const char *
text_at(const char *source, const char *want)
{
	char *full = g_strdup_printf("%s > %s", attachment, source);
	const char *got = NULL;
	size_t i;

	for (i = 0; got == NULL && i + 1 < texts->len; i += 2)
		if (strcmp(g_ptr_array_index(texts, i), full) == 0 &&
		    strstr(g_ptr_array_index(texts, i + 1), want) != NULL)
			got = g_ptr_array_index(texts, i + 1);
	g_free(full);
	return got;
}

#define want_text(source, want) do {					\
	if (text_at((source), (want)) == NULL) {			\
		dump();							\
		fail_msg("got no \"%s\" at %s > %s", (want),		\
		    attachment, (source));				\
	}								\
} while (0)

/* How many texts hold s, anywhere. */
static size_t
count_text(const char *s)
{
	size_t i, n = 0;
	const char *t;

	for (i = 1; i < texts->len; i += 2)
		for (t = g_ptr_array_index(texts, i); (t = strstr(t, s)) !=
		    NULL; t += strlen(s))
			n++;
	return n;
}

static bool
has_note(const char *reason, const char *where)
{
	size_t i;

	for (i = 0; i + 1 < notes->len; i += 2)
		if (strcmp(g_ptr_array_index(notes, i), reason) == 0 &&
		    strcmp(g_ptr_array_index(notes, i + 1), where) == 0)
			return true;
	return false;
}

/* where: below the attachment, or NULL for the attachment itself. */
#define want_note(reason, below) do {					\
	char *w_ = (below) != NULL ? g_strdup_printf("%s > %s",		\
	    attachment, (const char *)(below)) : g_strdup(attachment);	\
	if (!has_note((reason), w_)) {					\
		dump();							\
		fail_msg("got no note %s at %s", (reason), w_);		\
	}								\
	g_free(w_);							\
} while (0)

static long
maxrss_kb(void)
{
	struct rusage ru;

	(void)getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* What reading file adds to the peak RSS, KiB.  Measured in a child:
 * the peak is a high-water mark, and each case should start from the
 * same low one. */
static void
want_rss(const char *file, const struct extract_limits *lim,
    const char *what)
{
	long grew = -1, before;
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		before = maxrss_kb();
		if (extract_run(file, file, lim) == 1)
			grew = maxrss_kb() - before;
		_exit(write(fds[1], &grew, sizeof grew) == sizeof grew ? 0 :
		    1);
	}
	assert_true(pid > 0);
	(void)close(fds[1]);
	assert_int_equal(read(fds[0], &grew, sizeof grew), sizeof grew);
	(void)close(fds[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	print_message("# %s: peak RSS grew %ld KiB\n", what, grew);
	assert_true(grew >= 0);
	if (!UNDER_ASAN && grew > RSS_BOUND_KB)
		fail_msg("%s: peak RSS grew %ld KiB, want <= %d", what, grew,
		    RSS_BOUND_KB);
}

/* ------------------------------------------------------- bombs */

static void
test_huge_shared_strings(void **state)
{
	struct extract_limits lim;

	(void)state;
	reset();
	extract_limits_default(&lim);
	lim.max_bytes = 2u << 20;
	lim.max_ratio = 1000000;	/* the size limit, not the ratio */
	run("bigsst.xlsx", "bigsst.xlsx", &lim);
	want_note("extract-size", "xl/sharedStrings.xml");
	want_rss("bigsst.xlsx", &lim, "20 MB shared strings, 2 MiB budget");
}

static void
test_billion_laughs(void **state)
{
	(void)state;
	reset();
	run("laughs.xlsx", "laughs.xlsx", NULL);
	want_note("damaged", "xl/sharedStrings.xml");
	want_text("sheet \"客户\"", PHONE);	/* the rest is read */
	assert_int_equal(count_text("lol"), 0);
	want_rss("laughs.xlsx", NULL, "billion laughs");
}

static void
test_ratio(void **state)
{
	struct extract_limits lim;

	(void)state;
	/* The sheet expands about 300 times; zlib versions differ. */
	extract_limits_default(&lim);
	lim.max_ratio = 50;
	reset();
	run("ratio.xlsx", "ratio.xlsx", &lim);
	want_note("ratio", "sheet \"大表\"");
	want_text("sheet \"大表\"", MAIL);	/* read before the refusal */
	want_rss("ratio.xlsx", &lim, "8 MB sheet, ratio");
}

/* ------------------------------------------------------- OOXML */

static void
test_xlsx(void **state)
{
	(void)state;
	reset();
	run("book.xlsx", "客户.xlsx", NULL);
	/* Names from workbook.xml and its rels; shared strings read
	 * though they come after the sheets; a row on one line. */
	want_text("sheet \"客户\"", "姓名\t手机\t邮箱\n");
	want_text("sheet \"客户\"", "\n" NAME "\t" PHONE "\t" MAIL "\n");
	want_text("sheet \"订单\"",
	    "备注 inline-13900139000\t42\tTRUE\tformula-string\ta & b\n");
	assert_int_equal(count_text("PHONETIC"), 0);
	assert_int_equal(count_text("SUM("), 0);
	want_text("pivot cache 1", NAME "\t王五\n13500135000\n");
	want_text("pivot cache 1", "13500135000\tpivot-row\n");
	want_text("external link 1", "extlink-name\t13400134000\n");
	assert_int_equal(notes->len, 0);
}

/* OOXML with no part custos reads: opaque for the caller, not read. */
static void
test_xlsb(void **state)
{
	struct extract_limits lim;
	struct extract ex;
	struct extract_file f;
	char *path, *data;
	gsize len;

	(void)state;
	reset();
	extract_limits_default(&lim);
	extract_init(&ex, &lim, &sink);
	path = g_build_filename(dir, "book.xlsb", NULL);
	assert_true(g_file_get_contents(path, &data, &len, NULL));
	memset(&f, 0, sizeof f);
	f.where = "attachment \"book.xlsb\"";
	f.name = "book.xlsb";
	f.data = (const unsigned char *)data;
	f.len = len;
	assert_string_equal(extract_kind(f.data, f.len, f.name), "ooxml");
	assert_int_equal(extract_file(&ex, &f), 0);
	assert_int_equal(texts->len, 0);
	assert_int_equal(notes->len, 0);
	g_free(data);
	g_free(path);
}

static void
test_docx(void **state)
{
	const char *t;

	(void)state;
	reset();
	run("doc.docx", "doc.docx", NULL);
	/* Runs joined, a tab stop is no tab, paragraphs are lines. */
	t = text_at("document", "联系人");
	assert_non_null(t);
	assert_true(g_str_has_prefix(t, "联系人 " NAME "\tbody-line\n"
	    "second paragraph\n"));
	want_text("document", "\n" NAME "\t" PHONE "\t" MAIL "\n");
	want_text("document", "\nrow2\ttwo paragraphs\n");
	want_text("document", "deleted-13600136000");
	/* A text box once, not again from its fallback. */
	assert_int_equal(count_text("textbox-13700137000"), 1);
	want_text("header 1", "header-" PHONE);
	want_text("footer 2", "footer-" MAIL);
	want_text("comments", "comment " NAME);
	want_text("footnotes", "footnote-text");
	assert_int_equal(notes->len, 0);
}

static void
test_pptx(void **state)
{
	(void)state;
	reset();
	run("deck.pptx", "deck.pptx", NULL);
	/* Slides numbered as shown, not as their files are. */
	want_text("slide 1", "客户名单 first\n" NAME);
	want_text("slide 2", "second phone " PHONE);
	want_text("slide 2 notes", "notes " MAIL);
	assert_int_equal(notes->len, 0);
}

static void
test_embedded(void **state)
{
	(void)state;
	reset();
	run("embed.docx", "embed.docx", NULL);
	want_text("document", NAME "\t" PHONE);
	want_text("word/embeddings/Microsoft_Excel_Worksheet.xlsx > "
	    "sheet \"客户\"", NAME "\t" PHONE "\t" MAIL);
}

/* ------------------------------------------------------- ODF */

static void
test_ods(void **state)
{
	size_t i, total = 0;

	(void)state;
	reset();
	run("book.ods", "客户.ods", NULL);
	want_text("sheet \"客户\"", "姓名\t手机\n");
	/* The number as stored, not as shown; blank cells add nothing. */
	want_text("sheet \"客户\"", "\n" NAME "\t" PHONE "\t" MAIL "\n");
	want_text("sheet \"客户\"", "\ntwo paragraphs\tnext\n");
	want_text("sheet \"其他\"", "other-" MAIL);
	assert_int_equal(count_text("1.38E+10"), 0);
	/* A million repeated empty rows are no text. */
	for (i = 1; i < texts->len; i += 2)
		total += strlen(g_ptr_array_index(texts, i));
	assert_true(total < 200);
	assert_int_equal(notes->len, 0);
}

static void
test_odt(void **state)
{
	(void)state;
	reset();
	run("doc.odt", "doc.odt", NULL);
	want_text("document", "标题 " NAME "\n");
	want_text("document", "电话 " PHONE " ");	/* not PHONE "1" */
	want_text("document", "footnote-odt");
	want_text("document", "\n" NAME "\t" MAIL "\n");
	want_text("header", "odt-header-" PHONE);
	want_text("footer", "odt-footer");
	assert_int_equal(notes->len, 0);
}

static void
test_odp(void **state)
{
	(void)state;
	reset();
	run("deck.odp", "deck.odp", NULL);
	want_text("slide 1", "odp-first " NAME);
	want_text("slide 1 notes", "odp-notes " MAIL);
	want_text("slide 2", "odp-second " PHONE);
	assert_int_equal(notes->len, 0);
}

/* ------------------------------------------------------- damage */

static void
test_xml_depth(void **state)
{
	(void)state;
	reset();
	run("deep.docx", "deep.docx", NULL);
	want_note("xml-depth", "document");
	want_text("document", "before-the-deep-part");
	assert_int_equal(count_text("after-the-deep-part"), 0);
}

static void
test_truncated(void **state)
{
	(void)state;
	reset();
	run("truncated.docx", "truncated.docx", NULL);
	want_note("damaged", NULL);
	want_text("document", "kept-" PHONE);
	assert_int_equal(count_text("lost-header"), 0);
}

/* A member whose CRC-32 does not match its (intact) data is read all
 * the same: what the recipient's Office shows once it repairs the file
 * is scanned, not set aside as damaged. */
static void
test_bad_crc(void **state)
{
	(void)state;
	reset();
	run("badcrc.docx", "badcrc.docx", NULL);
	want_text("document", "\n" NAME "\t" PHONE "\t" MAIL "\n");
	assert_int_equal(notes->len, 0);
}

static void
test_type_mismatch(void **state)
{
	(void)state;
	reset();
	run("doc.docx", "report.pdf", NULL);
	want_note("type-mismatch", NULL);
	want_text("document", NAME "\t" PHONE);
}

static void
test_encrypted(void **state)
{
	(void)state;
	reset();
	run("locked.docx", "locked.docx", NULL);
	want_note("encrypted", "document");
	want_text("header 1", "header-" PHONE);	/* the others are read */

	reset();
	run("secret.odt", "secret.odt", NULL);
	want_note("encrypted", NULL);
	assert_int_equal(texts->len, 0);
}

/* The sink's budget and the time budget stop the reading. */
static void
test_stops(void **state)
{
	(void)state;
	reset();
	text_calls_max = 1;
	run("doc.docx", "doc.docx", NULL);
	assert_int_equal(texts->len, 2);

	reset();
	expired = true;
	run("book.xlsx", "book.xlsx", NULL);
	want_note("time", NULL);
	assert_int_equal(texts->len, 0);
}

/* ------------------------------------------------------- zips */

/* Everything a run gave, texts and notes, as one string. */
static char *
run_record(const char *file, int *rc)
{
	GString *g = g_string_new(NULL);
	size_t i;

	reset();
	*rc = extract_run(file, file, NULL);
	for (i = 0; i + 1 < texts->len; i += 2)
		g_string_append_printf(g, "T %s\n%s\n",
		    (char *)g_ptr_array_index(texts, i),
		    (char *)g_ptr_array_index(texts, i + 1));
	for (i = 0; i + 1 < notes->len; i += 2)
		g_string_append_printf(g, "N %s %s\n",
		    (char *)g_ptr_array_index(notes, i),
		    (char *)g_ptr_array_index(notes, i + 1));
	return g_string_free(g, FALSE);
}

/* Members inflated at once (zipdir.c, libdeflate) or through libarchive
 * come out the same, text and notes, for every document, the hostile
 * ones too. */
static void
test_zip_paths(void **state)
{
	static const char *const files[] = {
		"book.xlsx", "doc.docx", "deck.pptx", "deep.docx",
		"laughs.xlsx", "bigsst.xlsx", "ratio.xlsx", "book.xlsb",
		"book.ods", "doc.odt", "secret.odt", "deck.odp", "embed.docx",
		"truncated.docx", "locked.docx", "badcrc.docx", "stored.xlsx",
		"zip64.xlsx", "twice.xlsx", "sfx.xlsx", "short.xlsx",
		"renamed.pptx", "backslash.xlsx", "badmode.xlsx"
	};
	char *fast, *slow;
	int rc_fast, rc_slow;
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(files); i++) {
		extract_zip_fast = true;
		fast = run_record(files[i], &rc_fast);
		extract_zip_fast = false;
		slow = run_record(files[i], &rc_slow);
		extract_zip_fast = true;
		if (rc_fast != rc_slow || strcmp(fast, slow) != 0)
			fail_msg("%s: inflated at once %d\n%s\nthrough "
			    "libarchive %d\n%s", files[i], rc_fast, fast,
			    rc_slow, slow);
		g_free(fast);
		g_free(slow);
	}
	/* The short member is read all the same (libarchive's way). */
	reset();
	run("short.xlsx", "short.xlsx", NULL);
	want_text("sheet \"客户\"", PHONE);
}

static struct zipdir *
zipdir_of(const char *file, char **data)
{
	char *path = g_build_filename(dir, file, NULL);
	struct zipdir *d = NULL;
	gsize len;

	if (g_file_get_contents(path, data, &len, NULL))
		d = zipdir_read((const unsigned char *)*data, len, 10000);
	else
		*data = NULL;
	g_free(path);
	return d;
}

/* What the central directory reader places, and what it leaves. */
static void
test_zipdir(void **state)
{
	static const struct {
		const char	*file, *member;
		bool		 placed;
	} cases[] = {
		/* each local header says zip64, its sizes in an extra
		 * field; the directory does not: libarchive's */
		{ "zip64.xlsx", "xl/worksheets/sheet1.xml", false },
		/* a name twice: neither; the others still */
		{ "twice.xlsx", "xl/worksheets/sheet1.xml", false },
		{ "twice.xlsx", "xl/sharedStrings.xml", true },
		/* two entries go by slide2.xml, one in the directory, the
		 * other in its local header: neither */
		{ "renamed.pptx", "ppt/slides/slide1.xml", false },
		{ "renamed.pptx", "ppt/slides/slide2.xml", false },
		{ "renamed.pptx", "ppt/presentation.xml", true },
		/* the encrypted member, not the others */
		{ "locked.docx", "word/document.xml", false },
		{ "locked.docx", "[Content_Types].xml", true },
	};
	const struct zipdir_member *m;
	struct zipdir *d;
	char *data, *path;
	gsize len;
	size_t i;

	(void)state;
	d = zipdir_of("book.xlsx", &data);
	assert_non_null(d);
	assert_non_null(m = zipdir_find(d, "xl/worksheets/sheet1.xml"));
	assert_int_equal(m->method, 8);
	assert_true(m->usize > m->csize);
	assert_memory_equal(m->data - 30 - strlen("xl/worksheets/sheet1.xml"),
	    "PK\x03\x04", 4);
	assert_null(zipdir_find(d, "xl/worksheets/sheet9.xml"));
	d = zipdir_free(d);
	g_free(data);

	d = zipdir_of("stored.xlsx", &data);
	assert_non_null(m = zipdir_find(d, "xl/sharedStrings.xml"));
	assert_int_equal(m->method, 0);
	assert_int_equal(m->csize, m->usize);
	assert_memory_equal(m->data, "<?xml", 5);
	d = zipdir_free(d);
	g_free(data);

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		d = zipdir_of(cases[i].file, &data);
		if ((zipdir_find(d, cases[i].member) != NULL) !=
		    cases[i].placed)
			fail_msg("%s: %s %s placed", cases[i].file,
			    cases[i].member, cases[i].placed ? "not" : "");
		d = zipdir_free(d);
		g_free(data);
	}

	/* Offsets that do not add up, a name libarchive may turn into
	 * another's, no directory, too many members, the end cut off. */
	assert_null(d = zipdir_of("sfx.xlsx", &data));
	g_free(data);
	assert_null(d = zipdir_of("backslash.xlsx", &data));
	g_free(data);
	assert_null(d = zipdir_of("truncated.docx", &data));
	g_free(data);
	path = g_build_filename(dir, "book.xlsx", NULL);
	assert_true(g_file_get_contents(path, &data, &len, NULL));
	assert_null(zipdir_read((const unsigned char *)data, len, 3));
	assert_null(zipdir_read((const unsigned char *)data, len - 1, 10000));
	assert_null(zipdir_read((const unsigned char *)"PK\x05\x06", 4,
	    10000));
	g_free(data);
	g_free(path);
}

/* ------------------------------------------------------- fixtures */

static int
setup(void **state)
{
	const char *py = getenv("PYTHON3"), *top = getenv("top_srcdir");
	char *cmd;
	int rc;

	(void)state;
	if (py == NULL || *py == '\0')
		py = "python3";
	if (top == NULL || *top == '\0')
		top = ".";
	if ((dir = g_dir_make_tmp("test_office-XXXXXX", NULL)) == NULL)
		return -1;
	cmd = g_strdup_printf("'%s' '%s/test/fixtures/make-office.py' '%s'",
	    py, top, dir);
	rc = system(cmd);
	g_free(cmd);
	if (rc != 0) {
		print_error("make-office.py failed (%d)\n", rc);
		return -1;
	}
	texts = g_ptr_array_new_with_free_func(g_free);
	notes = g_ptr_array_new_with_free_func(g_free);
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	int rc;

	(void)state;
	rc = system(cmd);
	g_free(cmd);
	g_free(dir);
	if (texts != NULL)
		g_ptr_array_free(texts, TRUE);
	if (notes != NULL)
		g_ptr_array_free(notes, TRUE);
	g_free(attachment);
	return rc == 0 ? 0 : -1;
}

/* An attribute by its local name: what follows the last ':', or the
 * whole name; never a name that only ends with the same letters. */
static void
test_xml_attr(void **state)
{
	const char *an[] = { "r", "x:value-type", "date-value", "s",
	    "a:b:t", "office:value", "Id", NULL };
	const char *av[] = { "A1", "float", "2024", "1", "s", "42", "rId1",
	    NULL };
	const char *none[] = { NULL };

	(void)state;
	assert_string_equal(extract_xml_attr(an, av, "t"), "s");
	assert_string_equal(extract_xml_attr(an, av, "value"), "42");
	assert_string_equal(extract_xml_attr(an, av, "value-type"), "float");
	assert_string_equal(extract_xml_attr(an, av, "r"), "A1");
	assert_string_equal(extract_xml_attr(an, av, "Id"), "rId1");
	assert_null(extract_xml_attr(an, av, "id"));
	assert_null(extract_xml_attr(an, av, "type"));
	assert_null(extract_xml_attr(an, av, "b:t"));
	assert_null(extract_xml_attr(an, av, "longer-than-any-name"));
	assert_null(extract_xml_attr(none, none, "t"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_huge_shared_strings),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_xml_attr),
		cmocka_unit_test(test_zip_paths),
		cmocka_unit_test(test_zipdir),
		cmocka_unit_test(test_xlsx),
		cmocka_unit_test(test_xlsb),
		cmocka_unit_test(test_docx),
		cmocka_unit_test(test_pptx),
		cmocka_unit_test(test_embedded),
		cmocka_unit_test(test_ods),
		cmocka_unit_test(test_odt),
		cmocka_unit_test(test_odp),
		cmocka_unit_test(test_xml_depth),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_crc),
		cmocka_unit_test(test_type_mismatch),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_stops),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
