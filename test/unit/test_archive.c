/* test_archive.c - unit tests for extract_archive() (extract/archive.c),
 * reached as message.c reaches it, through extract_file().
 *
 * The archives are made by test/fixtures/make-archives.sh with the real
 * tools (zip, 7z, tar, gzip, bzip2, xz, python3) into a temporary
 * directory, once for the group.  A fake sink records every text with
 * its source path, and every note.  The bomb tests run first: peak RSS
 * (ru_maxrss) only grows, so their bound is measured before other tests
 * raise it. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/resource.h>

#include <glib.h>

#include "extract/extract.h"

/* How much peak RSS a bomb may add.  ASan's shadow memory and
 * quarantine keep freed memory mapped: the bound is checked only
 * without it (the behaviour is checked either way). */
#define RSS_BOUND_KB	(64L * 1024)
#if defined(__SANITIZE_ADDRESS__)
#define RSS_CHECKED	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_CHECKED	0
#endif
#endif
#ifndef RSS_CHECKED
#define RSS_CHECKED	1
#endif

static char fixdir[] = "/tmp/custos-archive-XXXXXX";

struct rec {
	GPtrArray	*sources;	/* parallel: source, text */
	GPtrArray	*texts;
	GPtrArray	*notes;		/* "reason|where" */
	int		 expire_after;	/* expired() calls before true; <0 never */
};

static int
rec_text(void *arg, const char *source, const char *type, const char *text,
    size_t len)
{
	struct rec *r = arg;

	(void)type;
	assert_true(g_utf8_validate(source, -1, NULL));
	assert_true(g_utf8_validate(text, (gssize)len, NULL));
	g_ptr_array_add(r->sources, g_strdup(source));
	g_ptr_array_add(r->texts, g_strndup(text, len));
	return 0;
}

static int
rec_note(void *arg, const char *reason, const char *where)
{
	struct rec *r = arg;

	assert_true(g_utf8_validate(where, -1, NULL));
	g_ptr_array_add(r->notes, g_strdup_printf("%s|%s", reason, where));
	return 0;
}

static int
rec_message(void *arg, const char *prefix, const unsigned char *data,
    size_t len)
{
	struct rec *r = arg;

	(void)data;
	(void)len;
	g_ptr_array_add(r->notes, g_strdup_printf("message|%s", prefix));
	return 0;
}

static bool
rec_expired(void *arg)
{
	struct rec *r = arg;

	if (r->expire_after < 0)
		return false;
	if (r->expire_after == 0)
		return true;
	r->expire_after--;
	return false;
}

static void
rec_init(struct rec *r)
{
	r->sources = g_ptr_array_new_with_free_func(g_free);
	r->texts = g_ptr_array_new_with_free_func(g_free);
	r->notes = g_ptr_array_new_with_free_func(g_free);
	r->expire_after = -1;
}

static void
rec_free(struct rec *r)
{
	g_ptr_array_free(r->sources, TRUE);
	g_ptr_array_free(r->texts, TRUE);
	g_ptr_array_free(r->notes, TRUE);
}

static void
rec_dump(const struct rec *r)
{
	guint i;

	for (i = 0; i < r->sources->len; i++)
		print_message("  text  %s: %.60s\n",
		    (char *)r->sources->pdata[i], (char *)r->texts->pdata[i]);
	for (i = 0; i < r->notes->len; i++)
		print_message("  note  %s\n", (char *)r->notes->pdata[i]);
}

/* The texts found at source containing needle. */
static int
count_text(const struct rec *r, const char *source, const char *needle)
{
	guint i;
	int n = 0;

	for (i = 0; i < r->sources->len; i++)
		if ((source == NULL || strcmp(r->sources->pdata[i],
		    source) == 0) && strstr(r->texts->pdata[i], needle) != NULL)
			n++;
	return n;
}

static int
count_note(const struct rec *r, const char *reason, const char *where)
{
	char *want = g_strdup_printf("%s|%s", reason, where != NULL ?
	    where : "");
	guint i;
	int n = 0;

	for (i = 0; i < r->notes->len; i++)
		if (where != NULL ? strcmp(r->notes->pdata[i], want) == 0 :
		    g_str_has_prefix(r->notes->pdata[i], want))
			n++;
	g_free(want);
	return n;
}

static void
want_text(const struct rec *r, const char *source, const char *needle)
{
	if (count_text(r, source, needle) == 0) {
		rec_dump(r);
		fail_msg("got no text with \"%s\" at %s", needle, source);
	}
}

static void
want_note(const struct rec *r, const char *reason, const char *where)
{
	if (count_note(r, reason, where) == 0) {
		rec_dump(r);
		fail_msg("got no note %s at %s", reason, where ? where : "*");
	}
}

static void
want_no_notes(const struct rec *r)
{
	if (r->notes->len != 0) {
		rec_dump(r);
		fail_msg("got %u notes, want none", r->notes->len);
	}
}

/* Reads fixture file as the attachment called name, under lim (NULL:
 * the defaults); returns extract_file()'s result. */
static int
run(struct rec *r, const char *file, const char *name,
    const struct extract_limits *lim)
{
	struct extract_limits def;
	struct extract_sink sink = { rec_text, rec_note, rec_message,
	    rec_expired, r };
	struct extract ex;
	struct extract_file f;
	char *path, *data, *where;
	gsize len;
	int rc;

	extract_limits_default(&def);
	path = g_build_filename(fixdir, file, NULL);
	if (!g_file_get_contents(path, &data, &len, NULL))
		fail_msg("cannot read fixture %s", path);
	where = g_strdup_printf("attachment \"%s\"", name);
	extract_init(&ex, lim != NULL ? lim : &def, &sink);
	f.where = where;
	f.name = name;
	f.data = (const unsigned char *)data;
	f.len = len;
	f.depth = 0;
	rc = extract_file(&ex, &f);
	assert_false(ex.oom);
	assert_true(ex.bytes_used <= ex.lim->max_bytes);
	g_free(where);
	g_free(data);
	g_free(path);
	return rc;
}

static long
peak_rss_kb(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* The peak before a bomb.  Linux resets the peak to the present RSS on
 * "5" to clear_refs, so each bomb is measured alone; where it cannot,
 * the tests' order (smallest first) keeps the bounds meaningful. */
static long
rss_baseline(void)
{
	FILE *fp = fopen("/proc/self/clear_refs", "w");

	if (fp != NULL) {
		(void)fputs("5", fp);
		(void)fclose(fp);
	}
	return peak_rss_kb();
}

static void
check_rss(const char *what, long before)
{
	long grew = peak_rss_kb() - before;

	print_message("# %s: peak RSS grew %ld KiB\n", what, grew);
	if (RSS_CHECKED && grew >= RSS_BOUND_KB)
		fail_msg("%s: peak RSS grew %ld KiB, want < %ld", what, grew,
		    RSS_BOUND_KB);
}

/* ------------------------------------------------------------ bombs */

/* 1 GiB of zeros in 1 MiB of gzip: the ratio stops it after ~1 MiB. */
static void
test_gzip_bomb_ratio(void **state)
{
	struct rec r;
	long before = rss_baseline();

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "zeros.gz", "zeros.gz", NULL), 1);
	want_note(&r, "ratio", "attachment \"zeros.gz\" > zeros");
	assert_int_equal(r.texts->len, 0);
	check_rss("1 GiB gzip, default limits", before);
	rec_free(&r);
}

/* With the ratio out of the way the byte budget stops it, and only the
 * budget is ever held. */
static void
test_gzip_bomb_budget(void **state)
{
	struct extract_limits lim;
	struct rec r;
	long before = rss_baseline();

	(void)state;
	extract_limits_default(&lim);
	lim.max_ratio = 1000000;
	lim.max_bytes = 16u << 20;
	rec_init(&r);
	assert_int_equal(run(&r, "zeros.gz", "zeros.gz", &lim), 1);
	want_note(&r, "extract-size", "attachment \"zeros.gz\" > zeros");
	assert_int_equal(count_note(&r, "ratio", NULL), 0);
	check_rss("1 GiB gzip, 16 MiB budget", before);
	rec_free(&r);
}

/* 100 members of 20 MiB of zeros: each is dropped by the ratio, and
 * what they cost before that ends at the byte budget. */
static void
test_zip_bomb(void **state)
{
	struct rec r;
	long before = rss_baseline();

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "bomb.zip", "bomb.zip", NULL), 1);
	want_note(&r, "ratio", "attachment \"bomb.zip\" > zeros000.bin");
	want_note(&r, "ratio", "attachment \"bomb.zip\" > zeros001.bin");
	/* Stopped by the budget, or every member dropped. */
	if (count_note(&r, "extract-size", NULL) != 1 &&
	    count_note(&r, "ratio", NULL) != 100) {
		rec_dump(&r);
		fail_msg("got %d ratio notes and no extract-size",
		    count_note(&r, "ratio", NULL));
	}
	assert_int_equal(r.texts->len, 0);
	check_rss("zip of 100 x 20 MiB zeros", before);
	rec_free(&r);
}

/* 42.zip in small: 2^7 zips at the bottom, 8 levels.  The default depth
 * (5) stops it at the zips of depth 5, without opening them. */
static void
test_nest42_depth(void **state)
{
	struct rec r;
	long before = rss_baseline();
	const char *deep = "attachment \"nest42.zip\" > a.zip > a.zip > "
	    "a.zip > a.zip > a.zip";

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "nest42.zip", "nest42.zip", NULL), 1);
	want_note(&r, "depth", deep);
	/* Two per level: 2^5 zips at depth 5. */
	assert_int_equal(count_note(&r, "depth", NULL), 32);
	assert_int_equal(r.texts->len, 0);
	check_rss("nest42.zip, depth 5", before);
	rec_free(&r);
}

/* Deep enough to reach the bottom, the byte budget still bounds the
 * 2^7 MiB of zeros down there. */
static void
test_nest42_budget(void **state)
{
	struct extract_limits lim;
	struct rec r;
	long before = rss_baseline();

	(void)state;
	extract_limits_default(&lim);
	lim.max_depth = 8;
	lim.max_bytes = 32u << 20;
	rec_init(&r);
	assert_int_equal(run(&r, "nest42.zip", "nest42.zip", &lim), 1);
	want_text(&r, "attachment \"nest42.zip\" > a.zip > a.zip > a.zip > "
	    "a.zip > a.zip > a.zip > a.zip > leaf.csv", "13600136000");
	want_note(&r, "extract-size", NULL);
	assert_int_equal(count_note(&r, "depth", NULL), 0);
	check_rss("nest42.zip, depth 8, 32 MiB budget", before);
	rec_free(&r);
}

/* ------------------------------------------------------------ formats */

/* The same tree in every archive format. */
static void
test_formats(void **state)
{
	static const char *const files[] = { "plain.zip", "plain.tar",
	    "plain.tar.gz", "plain.tar.bz2", "plain.tar.xz", "plain.7z" };
	struct rec r;
	char *src;
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(files); i++) {
		print_message("# %s\n", files[i]);
		rec_init(&r);
		assert_int_equal(run(&r, files[i], files[i], NULL), 1);
		src = g_strdup_printf("attachment \"%s\" > 2024/客户.csv",
		    files[i]);
		want_text(&r, src, "13800138000");
		want_text(&r, src, "customer0001@example.com");
		want_text(&r, src, "张三");
		g_free(src);
		src = g_strdup_printf("attachment \"%s\" > readme.txt",
		    files[i]);
		want_text(&r, src, "customer0002@example.com");
		g_free(src);
		/* Two files; the directories are no members to read. */
		assert_int_equal(r.texts->len, 2);
		want_no_notes(&r);
		rec_free(&r);
	}
}

/* One compressed file, no tar: its name without the suffix. */
static void
test_single_streams(void **state)
{
	static const char *const files[] = { "customers.csv.gz",
	    "customers.csv.bz2", "customers.csv.xz" };
	struct rec r;
	char *src;
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(files); i++) {
		rec_init(&r);
		assert_int_equal(run(&r, files[i], files[i], NULL), 1);
		src = g_strdup_printf("attachment \"%s\" > customers.csv",
		    files[i]);
		want_text(&r, src, "13800138000");
		want_text(&r, src, "customer0001@example.com");
		g_free(src);
		assert_int_equal(r.texts->len, 1);
		want_no_notes(&r);
		rec_free(&r);
	}
}

static void
test_rar(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "plain.rar", "plain.rar", NULL), 1);
	want_text(&r, "attachment \"plain.rar\" > rar/customers.csv",
	    "13300133000");
	want_no_notes(&r);
	rec_free(&r);
}

/* zip in zip in tar.gz: the source path is the whole chain. */
static void
test_nested(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "nested.tar.gz", "nested.tar.gz", NULL), 1);
	want_text(&r, "attachment \"nested.tar.gz\" > outer.zip > inner.zip "
	    "> deep/客户.csv", "13700137000");
	want_text(&r, "attachment \"nested.tar.gz\" > outer.zip > outer.txt",
	    "customer0008@example.com");
	want_no_notes(&r);
	rec_free(&r);
}

/* A zip called report.pdf: a finding, and read as the zip it is. */
static void
test_renamed(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "report.pdf", "report.pdf", NULL), 1);
	want_note(&r, "type-mismatch", "attachment \"report.pdf\"");
	want_text(&r, "attachment \"report.pdf\" > 2024/客户.csv",
	    "13800138000");
	assert_int_equal(r.notes->len, 1);
	rec_free(&r);
}

static void
test_encrypted_zip(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "enc.zip", "enc.zip", NULL), 1);
	want_note(&r, "encrypted", "attachment \"enc.zip\" > secret.csv");
	want_text(&r, "attachment \"enc.zip\" > public.txt",
	    "customer0003@example.com");
	assert_int_equal(count_text(&r, NULL, "13900139000"), 0);
	assert_int_equal(r.notes->len, 1);
	rec_free(&r);
}

/* 7z with a password: the members are named in the notes; with
 * -mhe=on not even the names can be read, so the archive is. */
static void
test_encrypted_7z(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "enc.7z", "enc.7z", NULL), 1);
	want_note(&r, "encrypted", "attachment \"enc.7z\" > secret.csv");
	want_note(&r, "encrypted", "attachment \"enc.7z\" > public.txt");
	assert_int_equal(r.texts->len, 0);
	assert_int_equal(r.notes->len, 2);
	rec_free(&r);

	rec_init(&r);
	assert_int_equal(run(&r, "enchdr.7z", "enchdr.7z", NULL), 1);
	want_note(&r, "encrypted", "attachment \"enchdr.7z\"");
	assert_int_equal(r.notes->len, 1);
	assert_int_equal(r.texts->len, 0);
	rec_free(&r);
}

/* 30 members, 10 allowed: the first 10 are read, then the note. */
static void
test_members_limit(void **state)
{
	struct extract_limits lim;
	struct rec r;

	(void)state;
	extract_limits_default(&lim);
	lim.max_members = 10;
	rec_init(&r);
	assert_int_equal(run(&r, "many.zip", "many.zip", &lim), 1);
	want_note(&r, "members", "attachment \"many.zip\"");
	assert_int_equal(r.texts->len, 10);
	want_text(&r, "attachment \"many.zip\" > m10.txt", "member 10");
	assert_int_equal(count_text(&r, NULL, "member 11"), 0);
	assert_int_equal(r.notes->len, 1);
	rec_free(&r);

	/* Exactly at the limit: no note. */
	lim.max_members = 30;
	rec_init(&r);
	assert_int_equal(run(&r, "many.zip", "many.zip", &lim), 1);
	assert_int_equal(r.texts->len, 30);
	want_no_notes(&r);
	rec_free(&r);
}

/* A small member, then one that says it is bigger than what is left:
 * the note names it, nothing of it is read. */
static void
test_extract_size(void **state)
{
	struct extract_limits lim;
	struct rec r;

	(void)state;
	extract_limits_default(&lim);
	lim.max_bytes = 1u << 20;
	rec_init(&r);
	assert_int_equal(run(&r, "big.zip", "big.zip", &lim), 1);
	want_text(&r, "attachment \"big.zip\" > a-small.csv",
	    "customer0004@example.com");
	want_note(&r, "extract-size", "attachment \"big.zip\" > b-big.txt");
	assert_int_equal(r.texts->len, 1);
	assert_int_equal(r.notes->len, 1);
	rec_free(&r);

	/* With room for it, it is read. */
	rec_init(&r);
	assert_int_equal(run(&r, "big.zip", "big.zip", NULL), 1);
	assert_int_equal(r.texts->len, 2);
	want_no_notes(&r);
	rec_free(&r);
}

/* A zip cut in the middle of its second member: the first stays. */
static void
test_damaged(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "truncated.zip", "truncated.zip", NULL), 1);
	want_text(&r, "attachment \"truncated.zip\" > first.csv",
	    "customer0005@example.com");
	want_note(&r, "damaged", "attachment \"truncated.zip\" > noise.bin");
	assert_int_equal(r.notes->len, 1);
	rec_free(&r);
}

/* A zip's first local header, cut short. */
static void
test_damaged_garbage(void **state)
{
	struct extract_limits lim;
	struct extract_sink sink = { rec_text, rec_note, rec_message,
	    rec_expired, NULL };
	struct extract ex;
	struct extract_file f = { "attachment \"junk.zip\"", "junk.zip",
	    (const unsigned char *)"PK\x03\x04\x14\x00\x00\x00\x08\x00", 10,
	    0 };
	struct rec r;

	(void)state;
	rec_init(&r);
	sink.arg = &r;
	extract_limits_default(&lim);
	extract_init(&ex, &lim, &sink);
	assert_int_equal(extract_file(&ex, &f), 1);
	want_note(&r, "damaged", "attachment \"junk.zip\"");
	assert_int_equal(r.texts->len, 0);
	rec_free(&r);
}

/* A gzip without its trailer.  libarchive's gzip filter gives nothing
 * of a block it cannot finish, so nothing of this small file is read:
 * the note says so, once (not once per way of reading it). */
static void
test_damaged_stream(void **state)
{
	struct extract_limits lim;
	struct extract_sink sink = { rec_text, rec_note, rec_message,
	    rec_expired, NULL };
	struct extract ex;
	struct extract_file f = { "attachment \"cut.csv.gz\"", "cut.csv.gz",
	    NULL, 0, 0 };
	struct rec r;
	char *path, *data;
	gsize len;

	(void)state;
	path = g_build_filename(fixdir, "customers.csv.gz", NULL);
	assert_true(g_file_get_contents(path, &data, &len, NULL));
	rec_init(&r);
	sink.arg = &r;
	extract_limits_default(&lim);
	extract_init(&ex, &lim, &sink);
	f.data = (const unsigned char *)data;
	f.len = len - 8;	/* CRC and size */
	assert_int_equal(extract_file(&ex, &f), 1);
	want_note(&r, "damaged", "attachment \"cut.csv.gz\"");
	assert_int_equal(r.notes->len, 1);
	rec_free(&r);
	g_free(data);
	g_free(path);
}

static void
test_empty(void **state)
{
	static const char *const files[] = { "empty.zip", "empty.tar.gz" };
	struct rec r;
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(files); i++) {
		rec_init(&r);
		assert_int_equal(run(&r, files[i], files[i], NULL), 1);
		assert_int_equal(r.texts->len, 0);
		want_no_notes(&r);
		rec_free(&r);
	}
}

/* A zip written on Chinese Windows: GBK names, no UTF-8 flag. */
static void
test_gbk_names(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "gbk.zip", "gbk.zip", NULL), 1);
	want_text(&r, "attachment \"gbk.zip\" > 客户名单.csv", "13500135000");
	want_no_notes(&r);
	rec_free(&r);
}

/* Control characters and a right-to-left override become '?', long
 * names are cut, "./" goes. */
static void
test_name_hygiene(void **state)
{
	struct rec r;
	const char *pre = "attachment \"names.zip\" > long/长长";
	guint i;
	bool seen = false;

	(void)state;
	rec_init(&r);
	assert_int_equal(run(&r, "names.zip", "names.zip", NULL), 1);
	want_text(&r, "attachment \"names.zip\" > bad??[31mname?txt.csv",
	    "customer0010@example.com");
	for (i = 0; i < r.sources->len; i++) {
		const char *s = r.sources->pdata[i];

		if (!g_str_has_prefix(s, pre))
			continue;
		seen = true;
		assert_true(g_str_has_suffix(s, "…"));
		assert_true(strlen(s) - strlen("attachment \"names.zip\" > ") <=
		    256);
	}
	assert_true(seen);
	rec_free(&r);

	rec_init(&r);
	assert_int_equal(run(&r, "dot.tar", "dot.tar", NULL), 1);
	want_text(&r, "attachment \"dot.tar\" > readme.txt",
	    "customer0002@example.com");
	rec_free(&r);
}

/* The time budget ends between members: what was read stays, then the
 * note. */
static void
test_time(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r);
	r.expire_after = 6;
	assert_int_equal(run(&r, "many.zip", "many.zip", NULL), 1);
	want_note(&r, "time", NULL);
	assert_true(r.texts->len >= 1);
	assert_true(r.texts->len < 30);
	assert_int_equal(r.notes->len, 1);
	rec_free(&r);
}

/* ------------------------------------------------------------ fixtures */

static int
setup(void **state)
{
	const char *top = getenv("top_srcdir");
	char *cmd;
	int rc;

	(void)state;
	if (mkdtemp(fixdir) == NULL)
		return -1;
	cmd = g_strdup_printf("bash '%s/test/fixtures/make-archives.sh' '%s'",
	    top != NULL ? top : ".", fixdir);
	rc = system(cmd);
	g_free(cmd);
	if (rc != 0)
		fprintf(stderr, "make-archives.sh failed (%d)\n", rc);
	return rc == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char *cmd;
	int rc;

	(void)state;
	cmd = g_strdup_printf("rm -rf '%s'", fixdir);
	rc = system(cmd);
	g_free(cmd);
	return rc == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* First: see the header comment. */
		cmocka_unit_test(test_gzip_bomb_ratio),
		cmocka_unit_test(test_zip_bomb),
		cmocka_unit_test(test_nest42_depth),
		cmocka_unit_test(test_gzip_bomb_budget),
		cmocka_unit_test(test_nest42_budget),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_single_streams),
		cmocka_unit_test(test_rar),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_renamed),
		cmocka_unit_test(test_encrypted_zip),
		cmocka_unit_test(test_encrypted_7z),
		cmocka_unit_test(test_members_limit),
		cmocka_unit_test(test_extract_size),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_damaged_garbage),
		cmocka_unit_test(test_damaged_stream),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_gbk_names),
		cmocka_unit_test(test_name_hygiene),
		cmocka_unit_test(test_time),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
