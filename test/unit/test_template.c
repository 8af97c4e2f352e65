/* test_template.c - explanation templates: the shipped set in both
 * languages, substitution, ${detectors} wording, load errors with
 * file:line, caps on lines and bytes, hostile values. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "template.h"

static const char *const langs[] = { "zh_CN", "en" };
#define NLANGS	(sizeof langs / sizeof langs[0])

static const char *const shipped[] = {
	"records", "hold", "canary", "unscannable", "identifiers"
};

/* Notices, and whether each names the incident. */
static const struct {
	const char	*name;
	int		 incident;
} shipped_notices[] = {
	{ "notice-sender", 1 }, { "notice-officer", 1 },
	{ "notice-digest", 0 }, { "notice-subject-sender", 1 },
	{ "notice-subject-officer", 1 }, { "notice-subject-digest", 0 },
};

/* A scratch template directory, removed by the test's teardown. */
static int
setup_dir(void **state)
{
	char *dir = g_dir_make_tmp("custos-test-template.XXXXXX", NULL);

	assert_non_null(dir);
	*state = dir;
	return 0;
}

static int
teardown_dir(void **state)
{
	char *dir = *state;
	const char *ent;
	GDir *d = g_dir_open(dir, 0, NULL);

	while (d != NULL && (ent = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(dir, ent, NULL);

		(void)g_unlink(p);
		g_free(p);
	}
	if (d != NULL)
		g_dir_close(d);
	(void)g_rmdir(dir);
	g_free(dir);
	return 0;
}

static void
put(const char *dir, const char *file, const char *text)
{
	char *p = g_build_filename(dir, file, NULL);

	assert_true(g_file_set_contents(p, text, -1, NULL));
	g_free(p);
}

/* Loads dir in English only, renders name with v; returns the lines
 * joined with '|' (g_free). */
static char *
render_en(const char *dir, const char *name, const struct template_vars *v)
{
	static const char *const en[] = { "en" };
	struct template_set *set;
	char err[512], **lines, *joined;
	int n;

	set = template_load(dir, en, 1, err, sizeof err);
	if (set == NULL)
		fail_msg("load: got error %s", err);
	n = template_render(set, name, v, &lines, err, sizeof err);
	if (n < 0)
		fail_msg("render %s: got error %s", name, err);
	assert_null(lines[n]);
	joined = g_strjoinv("|", lines);
	g_strfreev(lines);
	template_free(set);
	return joined;
}

static void
check_line(const char *line)
{
	const unsigned char *p;

	if (strlen(line) == 0 || strlen(line) > TEMPLATE_MAX_LINE)
		fail_msg("line \"%s\": got %zu bytes, want 1..%d", line,
		    strlen(line), TEMPLATE_MAX_LINE);
	if (!g_utf8_validate(line, -1, NULL))
		fail_msg("line \"%s\": not UTF-8", line);
	if (strstr(line, "${") != NULL)
		fail_msg("line \"%s\": a variable left over", line);
	for (p = (const unsigned char *)line; *p != '\0'; p++)
		if (*p < 0x20 && *p != '\t')
			fail_msg("line \"%s\": control character 0x%02x",
			    line, *p);
}

/* The templates we ship: all of them in both languages, render without
 * error, fill in every variable they use, stay within the caps. */
static void
test_shipped(void **state)
{
	const char *srcdir = getenv("top_srcdir");
	size_t det[DET_COUNT] = { 0 };
	struct template_vars v;
	struct template_set *set;
	char dir[4096], err[512], **lines;
	size_t i;
	int n, k, incidents, cjk;

	(void)state;
	(void)snprintf(dir, sizeof dir, "%s/conf/templates",
	    srcdir != NULL ? srcdir : ".");
	set = template_load(dir, langs, NLANGS, err, sizeof err);
	if (set == NULL)
		fail_msg("got error %s loading the shipped templates", err);
	det[DET_CN_RESIDENT_ID] = 3;
	det[DET_PAYMENT_CARD] = 1;
	memset(&v, 0, sizeof v);
	v.incident = "7K2M-Q9XD-3F0A";
	v.records = 52;
	v.lists = "customers";
	v.detectors = det;
	v.where = "attachment \"客户.xlsx\"; body text/plain";
	v.rules = "records-external";
	v.contact = "security@example.com";
	v.node = "gw1";
	for (i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
		if (!template_has(set, shipped[i]))
			fail_msg("template %s: missing", shipped[i]);
		n = template_render(set, shipped[i], &v, &lines, err,
		    sizeof err);
		if (n < 0)
			fail_msg("template %s: got error %s", shipped[i], err);
		/* 3 to 6 lines per language. */
		if (n < 3 * (int)NLANGS || n > 6 * (int)NLANGS)
			fail_msg("template %s: got %d lines, want %d..%d",
			    shipped[i], n, 3 * (int)NLANGS, 6 * (int)NLANGS);
		incidents = cjk = 0;
		for (k = 0; k < n; k++) {
			check_line(lines[k]);
			incidents += strstr(lines[k], v.incident) != NULL;
			cjk += strstr(lines[k], "邮件") != NULL;
		}
		/* Chinese first (configured order), English after it, and
		 * both end saying whom to ask. */
		assert_non_null(strstr(lines[0], "邮件"));
		assert_non_null(strstr(lines[n - 1], "contact"));
		if (incidents != (int)NLANGS)
			fail_msg("template %s: incident id on %d lines, want "
			    "%zu", shipped[i], incidents, NLANGS);
		assert_true(cjk >= 1);
		g_strfreev(lines);
	}
	assert_false(template_has(set, "no-such-template"));
	assert_int_equal(template_render(set, "no-such-template", &v, &lines,
	    err, sizeof err), -1);
	assert_null(lines);
	assert_non_null(strstr(err, "no-such-template"));
	template_free(set);
}

static void
test_substitution(void **state)
{
	const char *dir = *state;
	struct template_vars v;
	char *got;

	memset(&v, 0, sizeof v);
	v.incident = "7K2M-Q9XD-3F0A";
	v.records = 52;
	v.lists = "customers, vip";
	v.where = "body";
	v.rules = "r1, r2";
	v.contact = "soc";
	v.node = "gw1";
	put(dir, "t.en.txt", "A ${incident} ${records} from ${lists}\r\n"
	    "\n"
	    "$$5 and $ and $x, 100% ${rules} ${contact}@${node} ${where}\n"
	    "\n\n");
	got = render_en(dir, "t", &v);
	assert_string_equal(got, "A 7K2M-Q9XD-3F0A 52 from customers, vip| |"
	    "$5 and $ and $x, 100%% r1, r2 soc@gw1 body");
	g_free(got);

	/* Values left NULL render empty; a NULL vars too. */
	put(dir, "t.en.txt", "[${incident}][${where}][${records}]"
	    "[${detectors}]");
	memset(&v, 0, sizeof v);
	got = render_en(dir, "t", &v);
	assert_string_equal(got, "[][][0][none]");
	g_free(got);
	got = render_en(dir, "t", NULL);
	assert_string_equal(got, "[][][0][none]");
	g_free(got);

	/* A byte-order mark is not text. */
	put(dir, "t.en.txt", "\xef\xbb\xbfhello");
	got = render_en(dir, "t", &v);
	assert_string_equal(got, "hello");
	g_free(got);
}

/* The shipped notices render in both languages with every variable
 * filled in, and name the incident where they should. */
static void
test_shipped_notices(void **state)
{
	const char *srcdir = getenv("top_srcdir");
	size_t det[DET_COUNT] = { 0 };
	struct template_vars v;
	struct template_set *set;
	char dir[4096], err[512], *text;
	size_t i;

	(void)state;
	(void)snprintf(dir, sizeof dir, "%s/conf/templates",
	    srcdir != NULL ? srcdir : ".");
	set = template_load(dir, langs, NLANGS, err, sizeof err);
	if (set == NULL)
		fail_msg("got error %s loading the shipped templates", err);
	det[DET_CN_MOBILE] = 2;
	memset(&v, 0, sizeof v);
	v.incident = "7K2M-Q9XD-3F0A";
	v.records = 52;
	v.lists = "customers";
	v.detectors = det;
	v.where = "attachment \"客户.xlsx\"";
	v.rules = "records-external";
	v.contact = "security@example.com";
	v.node = "gw1";
	v.action = 2;	/* ACTION_HOLD */
	v.sender = "alice@example.com";
	v.samples = "138****5678";
	v.show = "custos quarantine show 7K2M-Q9XD-3F0A";
	v.window = "1h";
	for (i = 0; i < sizeof shipped_notices / sizeof shipped_notices[0];
	    i++) {
		const char *name = shipped_notices[i].name;

		if (template_render_text(set, name, &v, NULL, 0, &text, err,
		    sizeof err) != 0)
			fail_msg("template %s: got error %s", name, err);
		if (!g_utf8_validate(text, -1, NULL) ||
		    strstr(text, "${") != NULL)
			fail_msg("template %s: \"%s\" is not clean text", name,
			    text);
		if (shipped_notices[i].incident &&
		    strstr(text, v.incident) == NULL)
			fail_msg("template %s: no incident in \"%s\"", name,
			    text);
		/* Both languages: the Chinese action words and the
		 * English ones. */
		if (strstr(text, "已暂扣待审核") == NULL &&
		    strstr(text, "alice@example.com") == NULL)
			fail_msg("template %s: \"%s\" lacks the variables",
			    name, text);
		if (!g_str_has_prefix(name, "notice-subject") &&
		    (strstr(text, "\n\n") == NULL))
			fail_msg("template %s: want two languages, got \"%s\"",
			    name, text);
		g_free(text);
	}
	template_free(set);
}

/* Notices: plain text in the languages asked for, the new variables,
 * no '%' doubling and no line cut (that is for SMTP replies only). */
static void
test_render_text(void **state)
{
	static const char *const both[] = { "zh_CN", "en" };
	static const char *const en[] = { "en" };
	static const char *const fr[] = { "fr" };
	const char *dir = *state;
	struct template_set *set;
	struct template_vars v;
	char err[512], *got, *long_line;

	memset(&v, 0, sizeof v);
	v.action = 3;	/* ACTION_QUARANTINE */
	v.sender = "alice@example.com";
	v.samples = "138****5678";
	v.show = "custos quarantine show 7K2M-Q9XD-3F0A";
	v.window = "1h";
	put(dir, "n.en.txt", "${sender}: ${action}, 100% ${samples}\n"
	    "${show} (${window})\n");
	put(dir, "n.zh_CN.txt", "${sender}：${action}\n");
	set = template_load(dir, both, 2, err, sizeof err);
	if (set == NULL)
		fail_msg("load: got error %s", err);
	assert_int_equal(template_render_text(set, "n", &v, en, 1, &got, err,
	    sizeof err), 0);
	assert_string_equal(got, "alice@example.com: quarantined, 100% "
	    "138****5678\ncustos quarantine show 7K2M-Q9XD-3F0A (1h)");
	g_free(got);
	/* None asked, or none loaded: every language, in the set's order,
	 * a blank line between. */
	assert_int_equal(template_render_text(set, "n", &v, NULL, 0, &got,
	    err, sizeof err), 0);
	assert_true(g_str_has_prefix(got, "alice@example.com：已隔离\n\n"
	    "alice@example.com: quarantined"));
	g_free(got);
	assert_int_equal(template_render_text(set, "n", &v, fr, 1, &got, err,
	    sizeof err), 0);
	assert_true(g_str_has_prefix(got, "alice@example.com：已隔离\n\n"));
	g_free(got);
	if (template_render_text(set, "nope", &v, en, 1, &got, err,
	    sizeof err) != -1 || got != NULL)
		fail_msg("unknown template: got a text, want -1");
	template_free(set);

	/* A line longer than an SMTP reply line stays whole in a notice. */
	long_line = g_strnfill(2 * TEMPLATE_MAX_LINE, 'x');
	put(dir, "n.en.txt", long_line);
	put(dir, "n.zh_CN.txt", "x");
	set = template_load(dir, en, 1, err, sizeof err);
	assert_non_null(set);
	assert_int_equal(template_render_text(set, "n", &v, en, 1, &got, err,
	    sizeof err), 0);
	assert_string_equal(got, long_line);
	g_free(got);
	g_free(long_line);
	template_free(set);
}

static void
test_detectors(void **state)
{
	static const struct {
		size_t		 counts[DET_COUNT];
		const char	*en, *zh;
	} rows[] = {
		{ { 0 }, "none", "无" },
		{ { [DET_CN_RESIDENT_ID] = 3, [DET_PAYMENT_CARD] = 1,
		    [DET_CN_MOBILE] = 2 },
		  "3 resident ID numbers, 1 payment card number, "
		  "2 mobile numbers",
		  "3 个身份证号码、1 个银行卡号、2 个手机号码" },
		{ { [DET_CN_RESIDENT_ID] = 1 }, "1 resident ID number",
		  "1 个身份证号码" },
		{ { [DET_EMAIL] = 2, [DET_IBAN] = 1, [DET_US_SSN] = 4,
		    [DET_CN_USCC] = 1 },
		  "1 unified social credit code, 2 email addresses, 1 IBAN, "
		  "4 US Social Security numbers",
		  "1 个统一社会信用代码、2 个电子邮件地址、1 个 IBAN 账号、"
		  "4 个美国社会安全号码" },
	};
	static const char *const both[] = { "en", "zh_CN" };
	const char *dir = *state;
	struct template_set *set;
	struct template_vars v;
	char err[512], **lines;
	size_t i;
	int n;

	put(dir, "d.en.txt", "${detectors}");
	put(dir, "d.zh_CN.txt", "${detectors}");
	set = template_load(dir, both, 2, err, sizeof err);
	if (set == NULL)
		fail_msg("got error %s", err);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memset(&v, 0, sizeof v);
		v.detectors = rows[i].counts;
		n = template_render(set, "d", &v, &lines, err, sizeof err);
		assert_int_equal(n, 2);
		if (strcmp(lines[0], rows[i].en) != 0)
			fail_msg("row %zu en: got \"%s\", want \"%s\"", i,
			    lines[0], rows[i].en);
		if (strcmp(lines[1], rows[i].zh) != 0)
			fail_msg("row %zu zh: got \"%s\", want \"%s\"", i,
			    lines[1], rows[i].zh);
		g_strfreev(lines);
	}
	template_free(set);
}

/* Every mistake in a template stops the load and names file and line. */
static void
test_load_errors(void **state)
{
	static const struct {
		const char *file, *text, *want;
	} rows[] = {
		{ "t.en.txt", "one\ntwo\nthree ${bogus} four\n",
		  "t.en.txt:3: unknown variable ${bogus}" },
		{ "t.en.txt", "one\n${incident\n", "t.en.txt:2: unterminated" },
		{ "t.en.txt", "${incident", "t.en.txt:1: unterminated" },
		{ "t.en.txt", "${}", "t.en.txt:1: unknown variable ${}" },
		{ "t.en.txt", "${Incident}", "unknown variable ${Incident}" },
		{ "t.en.txt", "ok\nbad \xff byte\n", "t.en.txt:2: not UTF-8" },
		{ "t.en.txt", "bell \a\n", "t.en.txt:1: control character" },
		{ "t.en.txt", "\n\r\n", "t.en.txt: empty template" },
		{ "bad name.en.txt", "x", "a template name has only" },
	};
	static const char *const en[] = { "en" };
	const char *dir = *state;
	char err[512], path[4096];
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		put(dir, rows[i].file, rows[i].text);
		err[0] = '\0';
		if (template_load(dir, en, 1, err, sizeof err) != NULL)
			fail_msg("row %zu: loaded, want an error", i);
		if (strstr(err, rows[i].want) == NULL)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, err,
			    rows[i].want);
		(void)snprintf(path, sizeof path, "%s/%s", dir, rows[i].file);
		(void)unlink(path);
	}

	/* Not a template at all. */
	{
		char *huge = g_malloc(70001);

		memset(huge, 'x', 70000);
		huge[70000] = '\0';
		put(dir, "t.en.txt", huge);
		g_free(huge);
		assert_null(template_load(dir, en, 1, err, sizeof err));
		assert_non_null(strstr(err, "t.en.txt: larger than"));
	}

	/* A language missing. */
	put(dir, "t.en.txt", "hello");
	assert_null(template_load(dir, langs, NLANGS, err, sizeof err));
	assert_non_null(strstr(err, "t.zh_CN.txt: missing"));
	/* Files of languages not configured, and other files, are not
	 * templates. */
	put(dir, "t.zh_CN.txt", "你好");
	put(dir, "t.fr.txt", "${nonsense}");
	put(dir, "README", "${nonsense}");
	put(dir, ".#t.en.txt", "${nonsense}");
	{
		struct template_set *set = template_load(dir, langs, NLANGS,
		    err, sizeof err);

		if (set == NULL)
			fail_msg("got error %s", err);
		assert_true(template_has(set, "t"));
		assert_false(template_has(set, "t.fr"));
		assert_false(template_has(set, "README"));
		template_free(set);
	}
	/* Bad arguments. */
	assert_null(template_load(dir, langs, 0, err, sizeof err));
	{
		static const char *const bad[] = { "../en" };

		assert_null(template_load(dir, bad, 1, err, sizeof err));
		assert_non_null(strstr(err, "bad template language"));
	}
	assert_null(template_load("/nonexistent/custos", en, 1, err,
	    sizeof err));
	assert_null(template_free(NULL));
}

static void
test_caps(void **state)
{
	const char *dir = *state;
	struct template_vars v;
	GString *many = g_string_new(NULL), *big = g_string_new(NULL);
	char err[512], **lines, *got;
	struct template_set *set;
	static const char *const en[] = { "en" };
	int i, n;

	/* Too many lines for one reply: refused at load, not cut. */
	for (i = 0; i < TEMPLATE_MAX_LINES + 1; i++)
		g_string_append_printf(many, "line %d\n", i);
	put(dir, "t.en.txt", many->str);
	assert_null(template_load(dir, en, 1, err, sizeof err));
	assert_non_null(strstr(err, "lines in all languages"));
	/* Exactly the cap is fine. */
	g_string_truncate(many, 0);
	for (i = 0; i < TEMPLATE_MAX_LINES; i++)
		g_string_append_printf(many, "line %d\n", i);
	put(dir, "t.en.txt", many->str);
	set = template_load(dir, en, 1, err, sizeof err);
	assert_non_null(set);
	n = template_render(set, "t", NULL, &lines, err, sizeof err);
	assert_int_equal(n, TEMPLATE_MAX_LINES);
	g_strfreev(lines);
	template_free(set);
	/* The cap counts every language together. */
	g_string_truncate(many, 0);
	for (i = 0; i < TEMPLATE_MAX_LINES / 2 + 1; i++)
		g_string_append_printf(many, "line %d\n", i);
	put(dir, "t.en.txt", many->str);
	put(dir, "t.zh_CN.txt", many->str);
	assert_null(template_load(dir, langs, NLANGS, err, sizeof err));
	(void)g_snprintf(err, sizeof err, "%s/t.zh_CN.txt", dir);
	(void)unlink(err);

	/* A long value: cut between characters, within the byte cap. */
	for (i = 0; i < 400; i++)
		g_string_append(big, "客");
	memset(&v, 0, sizeof v);
	v.where = big->str;
	put(dir, "t.en.txt", "where: ${where}\nnext");
	got = render_en(dir, "t", &v);
	{
		char **l = g_strsplit(got, "|", -1);

		assert_int_equal(g_strv_length(l), 2);
		check_line(l[0]);
		assert_true(strlen(l[0]) <= TEMPLATE_MAX_LINE);
		assert_true(strlen(l[0]) > TEMPLATE_MAX_LINE - 6);
		assert_true(g_str_has_suffix(l[0], "客..."));
		assert_string_equal(l[1], "next");
		g_strfreev(l);
	}
	g_free(got);

	/* '%' doubled counts against the cap, and is never split. */
	g_string_truncate(big, 0);
	for (i = 0; i < 600; i++)
		g_string_append_c(big, '%');
	v.where = big->str;
	put(dir, "t.en.txt", "${where}");
	got = render_en(dir, "t", &v);
	assert_true(strlen(got) <= TEMPLATE_MAX_LINE);
	assert_true(g_str_has_suffix(got, "%%..."));
	assert_int_equal((strlen(got) - 3) % 2, 0);
	g_free(got);
	g_string_free(many, TRUE);
	g_string_free(big, TRUE);
}

/* Values cannot add lines, control characters or bad UTF-8, nor
 * smuggle a variable in. */
static void
test_hostile_values(void **state)
{
	const char *dir = *state;
	struct template_vars v;
	char *got;

	memset(&v, 0, sizeof v);
	v.where = "attachment \"a\r\n550 5.7.1 forged\".txt";
	v.lists = "x\ty\x01z\x7f\xc2\x85!";	/* TAB, SOH, DEL, NEL */
	v.contact = "bad \xff\xfe byte";
	v.rules = "${incident}";
	v.incident = "INC";
	put(dir, "t.en.txt", "${where}\n${lists}\n${contact}\n${rules}");
	got = render_en(dir, "t", &v);
	assert_string_equal(got, "attachment \"a  550 5.7.1 forged\".txt|"
	    "x y z  !|bad ?? byte|${incident}");
	g_free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped),
		cmocka_unit_test_setup_teardown(test_substitution, setup_dir,
		    teardown_dir),
		cmocka_unit_test(test_shipped_notices),
		cmocka_unit_test_setup_teardown(test_render_text, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_detectors, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_load_errors, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_caps, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_hostile_values, setup_dir,
		    teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
