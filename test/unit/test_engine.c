/* test_engine.c - the detection engine end to end on a generated list:
 * compile, load, scan text written the ways evaders write it, count
 * records once, corroborate weak fields, canaries, detectors, and the
 * guards around the key and the compiled table. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "engine.h"
#include "engine_int.h"
#include "listbuild.h"
#include "listkey.h"
#include "message.h"
#include "pipeline.h"
#include "table.h"
#include "textseg.h"

static char dir[] = "/tmp/custos-test-engine.XXXXXX";
static char conf_path[256], csv_path[256];
static struct conf *conf;

/* An 18-digit ID number with a correct check character, born 1980-01-DD. */
static void
make_id(int n, char out[19])
{
	static const int w[] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5,
	    8, 4, 2 };
	static const char check[] = "10X98765432";
	int i, sum = 0;
	char body[32];

	(void)snprintf(body, sizeof body, "440305198001%02u%03u",
	    (unsigned)(1 + n % 28), (unsigned)(100 + n % 900));
	memcpy(out, body, 17);
	for (i = 0; i < 17; i++)
		sum += (out[i] - '0') * w[i];
	out[17] = check[sum % 11];
	out[18] = '\0';
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	(void)fputs(text, fp);
	(void)fclose(fp);
}

/* 30 records: C001..C030, mobile 1380013800NN, e-mail, ID number, name
 * and company; C030 is a canary; one row has no id. */
static void
write_list(void)
{
	GString *s = g_string_new("id,name,mobile,email,id_no,company,trap\n");
	char id[19];
	int i;

	for (i = 1; i <= 30; i++) {
		make_id(i, id);
		g_string_append_printf(s, "C%03d,客户%02d,138001380%02d,"
		    "user%02d@example.com,%s,\"公司%02d, Ltd\",%s\n", i, i, i, i,
		    id, i, i == 30 ? "yes" : "");
	}
	g_string_append(s, ",没有编号,13900000000,,,,\n");
	/* Six records share a name and a company (C101..C106), two share
	 * another pair (C111, C112): see test_ambiguous_weak. */
	for (i = 1; i <= 6; i++)
		g_string_append_printf(s, "C1%02d,王芳,1370013700%d,,,"
		    "长城贸易,\n", i, i);
	for (i = 11; i <= 12; i++)
		g_string_append_printf(s, "C1%02d,李娜,137001370%02d,,,"
		    "东方物流有限公司,\n", i, i);
	/* Three companies behind one head (weakhead.h): 深圳市星 */
	g_string_append(s, "C201,赵小明,13700137201,,,深圳市星河数码科技有限公司,\n"
	    "C202,钱小红,13700137202,,,深圳市星河数码物流有限公司,\n"
	    "C203,孙小刚,13700137203,,,深圳市星,\n");
	write_file(csv_path, s->str);
	g_string_free(s, TRUE);
}

static int
setup(void **state)
{
	char text[2048], err[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(csv_path, sizeof csv_path, "%s/customers.csv", dir);
	(void)snprintf(conf_path, sizeof conf_path, "%s/custos.conf", dir);
	write_list();
	(void)snprintf(text, sizeof text,
	    "key_file = \"%s/list.key\"\n"
	    "database = \"%s/lists.db\"\n"
	    "list \"customers\" {\n"
	    "  file = \"%s\"\n"
	    "  canary_column = \"trap\"\n"
	    "  field \"mobile\" { kind = \"mobile\" }\n"
	    "  field \"email\" { kind = \"email\" }\n"
	    "  field \"id_no\" { kind = \"cn_id\" }\n"
	    "  field \"name\" { kind = \"name\" }\n"
	    "  field \"company\" { kind = \"company\" }\n"
	    "}\n", dir, dir, csv_path);
	write_file(conf_path, text);
	if ((conf = conf_load_all(conf_path, err, sizeof err)) == NULL)
		fail_msg("load: %s", err);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	conf_unref(conf);
	(void)snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

/* Scans one text segment with e; returns the findings (caller
 * frees). */
static struct findings
scan_engine(const struct engine *e, const char *text)
{
	struct textseg *t = textseg_new();
	struct findings f;
	char err[256];

	assert_non_null(textseg_add(t, "body text/plain", "text/plain",
	    "utf-8", NULL, text, strlen(text)));
	(void)findings_init(&f, 8);
	if (engine_scan(e, t, &f, err, sizeof err) != 0)
		fail_msg("scan: %s", err);
	textseg_free(t);
	return f;
}

/* The same with the main list's engine. */
static struct findings
scan_text(const char *text)
{
	return scan_engine(conf->engine, text);
}

/* Writes text to dir/name and loads it with its engine (caller
 * unrefs). */
static struct conf *
load_conf(const char *name, const char *text)
{
	char path[300], err[512];
	struct conf *c;

	(void)snprintf(path, sizeof path, "%s/%s", dir, name);
	write_file(path, text);
	if ((c = conf_load_all(path, err, sizeof err)) == NULL)
		fail_msg("load %s: %s", name, err);
	return c;
}

/* Writes dir/NAME.csv and dir/NAME.conf, a list of the CSV's mobile
 * (strong), name and company (weak) compiled into dir/NAME.db; the
 * config's path goes to path. */
static void
write_list_conf(const char *name, const char *csv, char *path,
    size_t pathlen)
{
	char csv_at[300], text[1024];

	(void)snprintf(csv_at, sizeof csv_at, "%s/%s.csv", dir, name);
	write_file(csv_at, csv);
	(void)snprintf(text, sizeof text,
	    "key_file = \"%s/list.key\"\n"
	    "database = \"%s/%s.db\"\n"
	    "list \"%s\" {\n"
	    "  file = \"%s\"\n"
	    "  field \"mobile\" { kind = \"mobile\" }\n"
	    "  field \"name\" { kind = \"name\" }\n"
	    "  field \"company\" { kind = \"company\" }\n"
	    "}\n", dir, dir, name, name, csv_at);
	(void)snprintf(path, pathlen, "%s/%s.conf", dir, name);
	write_file(path, text);
}

static bool
has_record(const struct findings *f, const char *id)
{
	const struct finding_record **v;
	size_t n, i;
	bool found = false;

	v = findings_sorted(f, &n);
	for (i = 0; i < n; i++)
		found |= strcmp(v[i]->id, id) == 0;
	g_free(v);
	return found;
}

/* Each way of writing C001's mobile (13800138001) finds C001, once. */
static void
test_evasions(void **state)
{
	static const char *const rows[] = {
		"call 13800138001 today",
		"call 138-0013-8001",
		"call 138 0013 8001",
		"call 138.0013.8001",
		"call 138/0013/8001",
		"call +86 138 0013 8001",
		"call 0086-13800138001",
		"call \xef\xbc\x91\xef\xbc\x93\xef\xbc\x98\xef\xbc\x90\xef\xbc\x90"
		    "\xef\xbc\x91\xef\xbc\x93\xef\xbc\x98\xef\xbc\x90\xef\xbc\x90"
		    "\xef\xbc\x91",				/* full-width */
		"call 138\xc2\xa0" "0013\xc2\xa0" "8001",	/* no-break */
		"call 138\xe3\x80\x80" "0013\xe3\x80\x80" "8001", /* ideographic */
		"call 138\xe2\x80\x8b" "0013\xe2\x80\x8b" "8001", /* zero-width */
		"call 138\xc2\xad" "0013\xc2\xad" "8001",	/* soft hyphen */
		"call 138-0013-\r\n8001",			/* wrapped */
		"电话13800138001，谢谢",
		"13800138001 13800138001 13800138001",		/* once */
		"2026 13800138001",				/* year before */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct findings f = scan_text(rows[i]);

		if (findings_records(&f) != 1 || !has_record(&f, "C001"))
			fail_msg("row %zu: got %zu records, want C001 once",
			    i, findings_records(&f));
		assert_int_equal(f.kind_values[KIND_MOBILE], 1);
		findings_free(&f);
	}
}

static void
test_not_matches(void **state)
{
	static const char *const rows[] = {
		"order 913800138001",		/* inside a longer number */
		"order 138001380019",
		"ref A13800138001",		/* part of a word */
		"call 13800138099",		/* not in the list */
		"客户01 alone",			/* a weak field alone */
		"公司01, Ltd alone",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct findings f = scan_text(rows[i]);

		if (findings_records(&f) != 0)
			fail_msg("row %zu (%s): got %zu records, want 0", i,
			    rows[i], findings_records(&f));
		findings_free(&f);
	}
}

static void
test_strong_kinds(void **state)
{
	char id[19], text[256];
	struct findings f;

	(void)state;
	f = scan_text("mail USER02@Example.COM please");
	assert_true(has_record(&f, "C002"));
	assert_int_equal(f.kind_values[KIND_EMAIL], 1);
	findings_free(&f);

	make_id(3, id);
	(void)snprintf(text, sizeof text, "身份证 %.6s %.8s %.4s", id, id + 6,
	    id + 14);
	f = scan_text(text);
	if (!has_record(&f, "C003"))
		fail_msg("ID written in groups: got %zu records",
		    findings_records(&f));
	assert_int_equal(f.kind_values[KIND_CN_ID], 1);
	assert_int_equal(f.detector_values[DET_CN_RESIDENT_ID], 1);
	findings_free(&f);
}

/* Weak fields count only with another field of the record near. */
static void
test_corroboration(void **state)
{
	struct findings f;
	char far[1200];

	(void)state;
	f = scan_text("客户04 公司04, Ltd");
	assert_int_equal(findings_records(&f), 1);
	assert_true(has_record(&f, "C004"));
	assert_int_equal(f.kind_values[KIND_NAME], 1);
	assert_int_equal(f.kind_values[KIND_COMPANY], 1);
	findings_free(&f);

	f = scan_text("客户05 tel 13800138005");
	assert_int_equal(findings_records(&f), 1);
	assert_int_equal(f.kind_values[KIND_NAME], 1);
	findings_free(&f);

	/* the name of one record, the company of another: nothing */
	f = scan_text("客户06 公司07, Ltd");
	assert_int_equal(findings_records(&f), 0);
	findings_free(&f);

	/* too far apart (proximity 300) */
	memset(far, 'x', sizeof far);
	memcpy(far, "客户08 ", 9);
	memcpy(far + sizeof far - 20, " 公司08, Ltd", 14);
	far[sizeof far - 6] = '\0';
	f = scan_text(far);
	assert_int_equal(findings_records(&f), 0);
	findings_free(&f);
}

/* "客户09 ", n characters of Chinese prose (3 bytes each), " " and
 * what: what starts n + 6 characters after the name. */
static struct findings
scan_gap(const char *what, int n)
{
	GString *s = g_string_new("客户09 ");
	struct findings f;
	int i;

	for (i = 0; i < n; i++)
		g_string_append(s, "文");
	g_string_append_printf(s, " %s", what);
	f = scan_text(s->str);
	g_string_free(s, TRUE);
	return f;
}

/* proximity counts characters, not bytes: 300 reaches as far into
 * Chinese as into English (290 characters here are 870 bytes). */
static void
test_proximity_characters(void **state)
{
	struct findings f;

	(void)state;
	f = scan_gap("公司09, Ltd", 290);	/* 296 */
	assert_true(has_record(&f, "C009"));
	assert_int_equal(f.kind_values[KIND_NAME], 1);
	findings_free(&f);
	f = scan_gap("公司09, Ltd", 300);	/* 306 */
	assert_int_equal(findings_records(&f), 0);
	findings_free(&f);
	/* a weak hit and a strong one: the name counts only when near */
	f = scan_gap("13800138009", 290);
	assert_true(has_record(&f, "C009"));
	assert_int_equal(f.kind_values[KIND_NAME], 1);
	findings_free(&f);
	f = scan_gap("13800138009", 300);
	assert_true(has_record(&f, "C009"));
	assert_int_equal(f.kind_values[KIND_NAME], 0);
	findings_free(&f);
}

/* Companies that share their first four characters are one literal
 * of the database, told apart by the rest of their bytes. */
static void
test_weak_heads(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;		/* NULL: no record */
	} cases[] = {
		{ "赵小明 深圳市星河数码科技", "C201" },
		{ "钱小红 深圳市星河数码物流有限公司", "C202" },
		{ "孙小刚，深圳市星", "C203" },
		/* the name of one, the company of the other */
		{ "钱小红 深圳市星河数码科技", NULL },
		/* the head alone, the head and another tail, a cut value */
		{ "赵小明 深圳市星辰", NULL },
		{ "赵小明 深圳市星河数码电子", NULL },
		{ "赵小明 深圳市星河数码科", NULL },
	};
	struct findings f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		f = scan_text(cases[i].text);
		if (cases[i].want == NULL ? findings_records(&f) != 0 :
		    findings_records(&f) != 1 || !has_record(&f,
		    cases[i].want))
			fail_msg("%s: %zu records", cases[i].text,
			    findings_records(&f));
		findings_free(&f);
	}
}

/* A table an older custos compiled on another host (the lists are not
 * here, so it is not rebuilt) has a bare Hyperscan database of whole
 * weak values for its blob, ids being weak ids: it still finds them. */
static void
test_weak_legacy(void **state)
{
	static const char *const lits[] = { "周小川", "北方重工机械制造" };
	unsigned ids[] = { 0, 1 }, flags[] = { 0, 0 };
	size_t lens[] = { strlen(lits[0]), strlen(lits[1]) }, bloblen;
	const char *names[] = { "legacy" };
	char err[512], path[300], db[300], text[1024], *blob;
	struct table_builder *tb;
	struct table_info info;
	struct listkey key;
	hs_database_t *hdb;
	hs_compile_error_t *cerr;
	struct findings f;
	struct conf *c;
	uint32_t rec;

	(void)state;
	(void)snprintf(path, sizeof path, "%s/list.key", dir);
	assert_int_equal(listkey_load(path, 0, &key, err, sizeof err), 0);
	tb = table_builder_new();
	assert_int_equal(table_builder_add_record(tb, "L1", 0, false, &rec),
	    0);
	assert_int_equal(table_builder_add_weak(tb, 0, (struct table_hit){
	    rec, 0, KIND_NAME }), 0);
	assert_int_equal(table_builder_add_weak(tb, 1, (struct table_hit){
	    rec, 1, KIND_COMPANY }), 0);
	assert_int_equal(hs_compile_lit_multi(lits, flags, ids, lens, 2,
	    HS_MODE_BLOCK, NULL, &hdb, &cerr), HS_SUCCESS);
	assert_int_equal(hs_serialize_database(hdb, &blob, &bloblen),
	    HS_SUCCESS);
	hs_free_database(hdb);
	memset(&info, 0, sizeof info);
	info.key_id = key.id;
	(void)snprintf(info.version, sizeof info.version, "legacy");
	(void)snprintf(db, sizeof db, "%s/legacy.db", dir);
	assert_int_equal(table_builder_write(tb, db, &info, names, 1, blob,
	    bloblen, err, sizeof err), 0);
	free(blob);
	table_builder_free(tb);
	(void)snprintf(text, sizeof text,
	    "key_file = \"%s/list.key\"\n"
	    "database = \"%s\"\n"
	    "list \"legacy\" {\n"
	    "  file = \"%s/elsewhere.csv\"\n"
	    "  field \"name\" { kind = \"name\" }\n"
	    "  field \"company\" { kind = \"company\" }\n"
	    "}\n", dir, db, dir);
	c = load_conf("legacy.conf", text);
	assert_null(c->engine->weak_heads.heads);
	f = scan_engine(c->engine, "联系人 周小川，北方重工机械制造");
	assert_int_equal(findings_records(&f), 1);
	assert_int_equal(f.kind_values[KIND_COMPANY], 1);
	findings_free(&f);
	conf_unref(c);
}

/* Weak-only evidence that fits more records than weak_max_records
 * (default 4) names none of them; a strong field still does. */
static void
test_ambiguous_weak(void **state)
{
	struct findings f;

	(void)state;
	f = scan_text("联系人 王芳, 长城贸易");
	assert_int_equal(findings_records(&f), 0);
	assert_int_equal(f.weak_ambiguous, 1);
	assert_int_equal(f.kind_values[KIND_NAME], 0);
	findings_free(&f);

	/* two records fit: both count (a customer entered twice); the
	 * company is found with or without its legal form */
	f = scan_text("联系人 李娜, 东方物流有限公司");
	assert_int_equal(findings_records(&f), 2);
	assert_true(has_record(&f, "C111"));
	assert_true(has_record(&f, "C112"));
	assert_int_equal(f.weak_ambiguous, 0);
	findings_free(&f);
	f = scan_text("联系人 李娜 (东方物流)");
	assert_int_equal(findings_records(&f), 2);
	findings_free(&f);

	/* the mobile names C103; its name and company count with it */
	f = scan_text("王芳, 长城贸易, 13700137003");
	assert_int_equal(findings_records(&f), 1);
	assert_true(has_record(&f, "C103"));
	assert_int_equal(f.kind_values[KIND_NAME], 1);
	assert_int_equal(f.kind_values[KIND_COMPANY], 1);
	assert_int_equal(f.weak_ambiguous, 1);
	findings_free(&f);
}

/* Findings of text with the engine expanding every weak value into
 * one hit per record (expand 64, as loaded: the test list shares a value
 * by 6 records at most) and with every weak value linked instead
 * (expand 0, the path values shared by many records take). */
static struct findings
scan_engine_expand(const struct engine *ce, const char *text, size_t expand)
{
	struct engine *e = (struct engine *)ce;
	size_t was = e->weak_expand;
	struct findings f;

	e->weak_expand = expand;
	f = scan_engine(e, text);
	e->weak_expand = was;
	return f;
}

static struct findings
scan_text_expand(const char *text, size_t expand)
{
	return scan_engine_expand(conf->engine, text, expand);
}

static void
assert_same_findings(const struct findings *a, const struct findings *b,
    const char *text)
{
	const struct finding_record **va, **vb;
	size_t na, nb, i;

	va = findings_sorted(a, &na);
	vb = findings_sorted(b, &nb);
	if (na != nb)
		fail_msg("%zu vs %zu records: %.60s", na, nb, text);
	for (i = 0; i < na; i++)
		if (strcmp(va[i]->id, vb[i]->id) != 0 ||
		    va[i]->kinds != vb[i]->kinds)
			fail_msg("record %s/%s kinds %x/%x: %.60s", va[i]->id,
			    vb[i]->id, va[i]->kinds, vb[i]->kinds, text);
	for (i = 0; i < KIND_COUNT; i++)
		if (a->kind_values[i] != b->kind_values[i])
			fail_msg("kind %zu: %zu vs %zu: %.60s", i,
			    a->kind_values[i], b->kind_values[i], text);
	if (a->weak_ambiguous != b->weak_ambiguous)
		fail_msg("ambiguous %zu vs %zu: %.60s", a->weak_ambiguous,
		    b->weak_ambiguous, text);
	assert_false(a->weak_truncated || b->weak_truncated);
	g_free(va);
	g_free(vb);
}

/* Linking widely shared weak values to records finds what expanding
 * them finds: pairs, strong corroboration, chains of weak fields
 * (company near name near mobile), ambiguity, distance.  Either way,
 * scanning without dropping the hits nothing can corroborate
 * (weakprune.h) finds the same. */
static void
test_weak_linked(void **state)
{
	char pad[260], chain[1024], far[700];
	const char *texts[] = {
		"客户04 公司04, Ltd",
		"客户05 tel 13800138005",
		"客户06 公司07, Ltd",
		"联系人 王芳, 长城贸易",
		"联系人 李娜, 东方物流有限公司",
		"联系人 李娜 (东方物流)",
		"王芳, 长城贸易, 13700137003",
		"王芳 王芳 王芳 长城贸易 王芳",
		"13800138001 user01@example.com 客户01 公司01, Ltd 客户02 "
		    "公司03, Ltd 李娜 13700137011 长城贸易",
		chain, far,
	};
	struct findings a, b, c, d;
	size_t i;

	(void)state;
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	/* the company is 2 pads from the mobile, 1 from the name */
	(void)snprintf(chain, sizeof chain, "13800138009 %s 客户09 %s "
	    "公司09, Ltd", pad, pad);
	/* name and company too far apart for each other */
	(void)snprintf(far, sizeof far, "客户08 %s %s 公司08, Ltd", pad, pad);
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		a = scan_text_expand(texts[i], ENGINE_WEAK_EXPAND);
		b = scan_text_expand(texts[i], 0);
		assert_same_findings(&a, &b, texts[i]);
		assert_true(engine_prune_weak(false));
		c = scan_text_expand(texts[i], ENGINE_WEAK_EXPAND);
		d = scan_text_expand(texts[i], 0);
		assert_false(engine_prune_weak(true));
		assert_same_findings(&a, &c, texts[i]);
		assert_same_findings(&b, &d, texts[i]);
		findings_free(&a);
		findings_free(&b);
		findings_free(&c);
		findings_free(&d);
	}
	/* the chain really counts the company (it is not a test of 0 = 0) */
	a = scan_text_expand(chain, 0);
	assert_true(has_record(&a, "C009"));
	assert_int_equal(a.kind_values[KIND_COMPANY], 1);
	findings_free(&a);
	a = scan_text_expand("王芳 王芳 王芳 长城贸易 王芳", 0);
	assert_int_equal(a.weak_ambiguous, 1);
	findings_free(&a);
}

/* The records two linked weak values share, when one value's records
 * outnumber the other's many times (walked by galloping) and when they
 * are alike (merged): a list where 40 customers work for one company,
 * 20 of them are called 刘洋, 3 陈静 and one 周杰.  Linked (expand 0)
 * and expanded, the findings are the same and the expected ones. */
static void
test_weak_shared_lists(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;		/* the one record, or NULL */
		size_t		 nrec;		/* records found */
		size_t		 ambiguous;
	} cases[] = {
		{ "周杰, 大众汽车销售", "C340", 1, 0 },
		{ "大众汽车销售 联系人 周杰", "C340", 1, 0 },
		{ "陈静, 大众汽车销售", NULL, 3, 0 },
		{ "刘洋, 大众汽车销售", NULL, 0, 1 },
		{ "周杰 刘洋 陈静 大众汽车销售", NULL, 4, 1 },
		/* a name of the list beside a company none of them has */
		{ "周杰, 长城贸易", NULL, 0, 0 },
	};
	GString *csv = g_string_new("id,name,mobile,company\n");
	char path[300], err[512];
	struct findings a, b;
	struct conf *c;
	size_t i;

	(void)state;
	for (i = 1; i <= 40; i++)
		g_string_append_printf(csv, "C3%02zu,%s,137002000%02zu,"
		    "大众汽车销售\n", i, i <= 20 ? "刘洋" : i <= 23 ? "陈静" :
		    i == 40 ? "周杰" : "职员", i);
	g_string_append(csv, "C400,王五,13700200100,长城贸易\n");
	write_list_conf("shared", csv->str, path, sizeof path);
	g_string_free(csv, TRUE);
	if ((c = conf_load_all(path, err, sizeof err)) == NULL)
		fail_msg("load shared.conf: %s", err);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		a = scan_engine_expand(c->engine, cases[i].text,
		    ENGINE_WEAK_EXPAND);
		b = scan_engine_expand(c->engine, cases[i].text, 0);
		assert_same_findings(&a, &b, cases[i].text);
		if (findings_records(&b) != cases[i].nrec ||
		    b.weak_ambiguous != cases[i].ambiguous ||
		    (cases[i].want != NULL && !has_record(&b, cases[i].want)))
			fail_msg("%s: %zu records, %zu ambiguous",
			    cases[i].text, findings_records(&b),
			    b.weak_ambiguous);
		findings_free(&a);
		findings_free(&b);
	}
	conf_unref(c);
}

/* A text made of one shared name and company, over and over: no
 * customer, one ambiguous match, and time linear in the hits (each of
 * the six records gets 30,000). */
static void
test_weak_repeated(void **state)
{
	GString *s = g_string_new(NULL);
	struct findings f;
	size_t expand[] = { ENGINE_WEAK_EXPAND, 0 }, i;

	(void)state;
	while (s->len < 300000)
		g_string_append(s, "王芳 长城贸易 ");
	for (i = 0; i < 2; i++) {
		f = scan_text_expand(s->str, expand[i]);
		assert_int_equal(findings_records(&f), 0);
		assert_int_equal(f.weak_ambiguous, 1);
		assert_false(f.weak_truncated);
		findings_free(&f);
	}
	g_string_free(s, TRUE);
}

static void
test_canary_and_counts(void **state)
{
	struct findings f;

	(void)state;
	f = scan_text("13800138030 and 13800138010, 13800138011; "
	    "user12@example.com");
	assert_int_equal(findings_records(&f), 4);
	assert_int_equal(f.canaries, 1);
	assert_int_equal(f.per_list[0], 4);
	assert_true(f.nsamples >= 4);
	assert_non_null(strstr(f.samples[0].text, "****"));
	assert_string_equal(f.list_version, engine_list_version(conf->engine));
	assert_true(f.list_version[0] != '\0');
	findings_free(&f);
}

static void
test_detectors(void **state)
{
	struct findings f;

	(void)state;
	f = scan_text("ID 11010519491231002x, card 4111 1111 1111 1111, "
	    "iban GB82 WEST 1234 5698 7654 32, uscc 91350100M000100Y43, "
	    "ssn 078-05-1120, mobile 13912345678, bad card 4111111111111112, "
	    "mail someone@example.org");
	assert_int_equal(f.detector_values[DET_CN_RESIDENT_ID], 1);
	assert_int_equal(f.detector_values[DET_PAYMENT_CARD], 1);
	assert_int_equal(f.detector_values[DET_IBAN], 1);
	assert_int_equal(f.detector_values[DET_CN_USCC], 1);
	assert_int_equal(f.detector_values[DET_US_SSN], 1);
	assert_int_equal(f.detector_values[DET_CN_MOBILE], 1);
	assert_int_equal(f.detector_values[DET_EMAIL], 1);
	assert_int_equal(findings_records(&f), 0);
	findings_free(&f);
}

/* Identifiers in the forms and places mail has them: the candidate
 * shapes point at part of them only, the scanner must find the rest. */
static void
test_detector_forms(void **state)
{
	static const struct {
		const char	*text;
		enum detector	 det;
	} rows[] = {
		{ "DE89370400440532013000", DET_IBAN },
		{ "iban de89 3704 0044 0532 0130 00", DET_IBAN },
		{ "账号：DE89 3704 0044 0532 0130 00，谢谢", DET_IBAN },
		{ "NL91ABNA0417164300.", DET_IBAN },
		{ "GB82WEST12345698765432", DET_IBAN },
		{ "(GB82 WEST 1234 5698 7654 32)", DET_IBAN },
		{ "\xef\xbc\xa7\xef\xbc\xa2" "82 WEST 1234 5698 7654 32",
		    DET_IBAN },					/* full-width */
		{ "91350100M000100Y43", DET_CN_USCC },
		{ "统一社会信用代码：91350100M000100Y43。", DET_CN_USCC },
		{ "call 13912345678", DET_CN_MOBILE },
		{ "手机１３９１２３４５６７８，谢谢", DET_CN_MOBILE },
		{ "13912345678", DET_CN_MOBILE },
		{ "tel 139-1234-5678.", DET_CN_MOBILE },
		{ "tel 139 1234 5678", DET_CN_MOBILE },
		{ "tel +86 139 1234 5678", DET_CN_MOBILE },
		{ "tel 86-13912345678", DET_CN_MOBILE },
		{ "tel 139-12345678", DET_CN_MOBILE },
		{ "tel 139.1234.5678", DET_CN_MOBILE },
		{ "tel 139-1234-\r\n5678", DET_CN_MOBILE },	/* wrapped */
		{ "card 4111 1111 1111 1111", DET_PAYMENT_CARD },
		{ "card 4111-1111-1111-1111", DET_PAYMENT_CARD },
		{ "4111111111111111", DET_PAYMENT_CARD },
		{ "amex 3782 822463 10005", DET_PAYMENT_CARD },
		{ "ID 110105 19491231 002X", DET_CN_RESIDENT_ID },
		{ "ID 110105-1949-1231-002X", DET_CN_RESIDENT_ID },
		{ "ssn 078-05-1120", DET_US_SSN },
		/* A number next to other cells of a row: its own groups are
		 * even, whatever separates it from the cells around it. */
		{ "12\t139 1234 5678", DET_CN_MOBILE },
		{ "139 1234 5678\t12", DET_CN_MOBILE },
		{ "2024-01-05 139-1234-5678", DET_CN_MOBILE },
	};
	struct findings f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		f = scan_text(rows[i].text);
		if (f.detector_values[rows[i].det] != 1)
			fail_msg("row %zu (%s): got %zu, want 1", i,
			    rows[i].text, f.detector_values[rows[i].det]);
		findings_free(&f);
	}
}

/* A spreadsheet row's cells are not an identifier: digits of a
 * quantity, a price and a date, or of cells in a row, joined by tabs,
 * dots and dashes, must not make a card number or a mobile.  Before the
 * grouping rule a 300 KB inventory sheet gave 572 "cards" and 503
 * "mobiles" (doc/performance.md has the message). */
static void
test_detector_cells(void **state)
{
	static const char *const rows[] = {
		"4111\t1111\t1111\t1111",		/* four cells */
		"SKU-1\t139\t12.34\t5678",		/* 13912345678 */
		"139 12 34 5678",
		"4111 1111.1111 1111",			/* mixed separators */
		"41 1111 1111 1111 11",
		"1101 0519 4912 3100 2x",		/* an ID in fours */
		"LEN-0791\tspring valve\tSuzhou\t9549\t60.64\t2026-04-02",
		"139 1234\t5678",
		"139\t1234 5678",
	};
	struct findings f;
	size_t i, d;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		f = scan_text(rows[i]);
		for (d = 0; d < DET_COUNT; d++)
			if (f.detector_values[d] != 0)
				fail_msg("row %zu (%s): %s %zu", i, rows[i],
				    detector_name((enum detector)d),
				    f.detector_values[d]);
		findings_free(&f);
	}
}

static void
test_keywords(void **state)
{
	struct findings f = scan_text("这是机密文件, CONFIDENTIAL: Customer List");

	(void)state;
	assert_int_equal(g_hash_table_size(f.keywords), 3);
	assert_non_null(g_hash_table_lookup(f.keywords, "机密"));
	assert_non_null(g_hash_table_lookup(f.keywords, "customer list"));
	findings_free(&f);
}

/* No value of the list may appear in clear in what the engine returns. */
static void
test_no_clear_values(void **state)
{
	struct findings f;
	size_t i;

	(void)state;
	f = scan_text("13800138001 user01@example.com 客户01 公司01, Ltd "
	    "4111111111111111");
	for (i = 0; i < f.nsamples; i++) {
		const char *s = f.samples[i].text;

		if (strstr(s, "13800138001") || strstr(s, "user01@") ||
		    strstr(s, "4111111111111111") || strstr(s, "客户01"))
			fail_msg("sample %zu shows a value: %s", i, s);
	}
	findings_free(&f);
}

/* Scans segs[0..nseg) as the segments of one message, keeping up to
 * max_samples masked samples. */
static struct findings
scan_segments(const char *const *segs, size_t nseg, size_t max_samples)
{
	struct textseg *t = textseg_new();
	struct findings f;
	char err[256];
	size_t i;

	for (i = 0; i < nseg; i++)
		assert_non_null(textseg_add(t, "body text/plain", "text/plain",
		    "utf-8", NULL, segs[i], strlen(segs[i])));
	(void)findings_init(&f, max_samples);
	if (engine_scan(conf->engine, t, &f, err, sizeof err) != 0)
		fail_msg("scan: %s", err);
	textseg_free(t);
	return f;
}

/* Once its samples are full the scanner defers strong lookups and runs
 * them in batches (scan_strong_flush): whatever the number of samples,
 * the findings are those of the lookups made one by one, and the
 * samples those that came first in the text.  Many values per segment
 * (more than a batch), strong values next to detector-only ones, weak
 * fields corroborated by a strong one nearby, two segments. */
static void
test_strong_batches(void **state)
{
	static const size_t maxes[] = { 0, 1, 2, 3, 5, 8, 40 };
	static const struct {
		bool		detector;
		unsigned	kind;
	} first[] = {
		{ true, DET_CN_MOBILE }, { false, KIND_MOBILE },
		{ true, DET_CN_MOBILE }, { true, DET_EMAIL },
		{ false, KIND_EMAIL }, { true, DET_CN_RESIDENT_ID },
		{ false, KIND_CN_ID }, { true, DET_PAYMENT_CARD },
		{ true, DET_CN_MOBILE }, { false, KIND_MOBILE },
	};
	GString *seg[2] = { g_string_new(NULL), g_string_new(NULL) };
	const char *segs[2];
	const struct finding_record **va, **vb;
	struct findings ref, f;
	size_t m, i, na, nb;
	char id[19];
	int k;

	(void)state;
	for (k = 1; k <= 30; k++) {
		GString *s = seg[k > 15];

		make_id(k, id);
		g_string_append_printf(s, "客户%02d tel 138001380%02d, "
		    "other 139123456%02d, mail USER%02d@example.com, id %s; "
		    "card 4111 1111 1111 1111.\n", k, k, k, k, id);
		/* The same value again: one count, one sample. */
		if (k % 7 == 0)
			g_string_append_printf(s, "again 138 0013 80%02d\n", k);
	}
	segs[0] = seg[0]->str;
	segs[1] = seg[1]->str;
	/* Room for every sample: no lookup is deferred. */
	ref = scan_segments(segs, 2, 1000);
	assert_int_equal(findings_records(&ref), 30);
	assert_true(ref.nsamples > 40 && ref.nsamples < 1000);
	assert_int_equal(ref.kind_values[KIND_MOBILE], 30);
	assert_int_equal(ref.kind_values[KIND_NAME], 30);
	/* In text order, each strong value after its detector's sample. */
	for (i = 0; i < sizeof first / sizeof first[0]; i++)
		if (ref.samples[i].detector != first[i].detector ||
		    ref.samples[i].kind != first[i].kind)
			fail_msg("sample %zu: got %s %u, want %s %u", i,
			    ref.samples[i].detector ? "detector" : "kind",
			    ref.samples[i].kind, first[i].detector ?
			    "detector" : "kind", first[i].kind);
	for (m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
		f = scan_segments(segs, 2, maxes[m]);
		assert_same_findings(&ref, &f, "strong batches");
		va = findings_sorted(&ref, &na);
		vb = findings_sorted(&f, &nb);
		for (i = 0; i < na && i < nb; i++)
			if (va[i]->segment != vb[i]->segment ||
			    va[i]->canary != vb[i]->canary)
				fail_msg("max_samples %zu: %s segment %u/%u",
				    maxes[m], va[i]->id, va[i]->segment,
				    vb[i]->segment);
		g_free(va);
		g_free(vb);
		for (i = 0; i < DET_COUNT; i++)
			if (ref.detector_values[i] != f.detector_values[i])
				fail_msg("max_samples %zu: detector %zu: got "
				    "%zu, want %zu", maxes[m], i,
				    f.detector_values[i],
				    ref.detector_values[i]);
		if (f.canaries != ref.canaries || f.per_list[0] !=
		    ref.per_list[0])
			fail_msg("max_samples %zu: canaries %zu per list %zu",
			    maxes[m], f.canaries, f.per_list[0]);
		if (f.nsamples != maxes[m])
			fail_msg("max_samples %zu: got %zu samples", maxes[m],
			    f.nsamples);
		for (i = 0; i < f.nsamples; i++)
			if (strcmp(f.samples[i].text, ref.samples[i].text) !=
			    0 || f.samples[i].kind != ref.samples[i].kind ||
			    f.samples[i].detector != ref.samples[i].detector ||
			    f.samples[i].segment != ref.samples[i].segment)
				fail_msg("max_samples %zu: sample %zu: got "
				    "%s, want %s", maxes[m], i,
				    f.samples[i].text, ref.samples[i].text);
		findings_free(&f);
	}
	findings_free(&ref);
	g_string_free(seg[0], TRUE);
	g_string_free(seg[1], TRUE);
}

static void
test_key_guards(void **state)
{
	char key[300], err[512];
	struct conf *c;

	(void)state;
	(void)snprintf(key, sizeof key, "%s/list.key", dir);
	assert_int_equal(chmod(key, 0644), 0);
	c = conf_load_all(conf_path, err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(key, 0600), 0);

	/* A table compiled under another key is refused. */
	assert_int_equal(rename(key, "/tmp/custos-test-engine.key"), 0);
	c = conf_load(conf_path, err, sizeof err);
	assert_non_null(c);
	{
		struct listbuild_stats st;

		assert_int_equal(listbuild_run(c, false, &st, err, sizeof err),
		    0);
	}
	assert_int_equal(rename("/tmp/custos-test-engine.key", key), 0);
	assert_null(engine_load(c, err, sizeof err));
	if (strstr(err, "another list key") == NULL)
		fail_msg("got \"%s\", want another list key", err);
	conf_unref(c);
}

/* listbuild keeps the weak values it met last by their bytes as the
 * list has them: a repeat must get the id its first time got, per kind.
 * 300 rows over four raw names and two raw companies: "Ｌｉ Ｌｅｉ" and
 * "li lei" are one literal; "华为有限公司" is a name whole and, as a
 * company, "华为" (its legal form off); "LI LEI LTD" as a company is
 * "li lei" again; a name longer than the memo keeps (60 bytes) is one
 * literal however often it comes.  So four literals, and 300 records. */
static void
test_weak_memo(void **state)
{
	static const char *const names[] = {
		"华为有限公司",
		"\xef\xbc\xac\xef\xbd\x89 \xef\xbc\xac\xef\xbd\x85"
		    "\xef\xbd\x89",	/* Ｌｉ Ｌｅｉ */
		"li lei",
		"欧阳青青欧阳青青欧阳青青欧阳青青欧阳青青",
	};
	static const char *const companies[] = {
		"华为有限公司", "LI LEI LTD",
	};
	struct listbuild_stats st;
	char path[300], err[512];
	struct conf *c;
	GString *csv = g_string_new("id,name,mobile,company\n");
	int i;

	(void)state;
	for (i = 0; i < 300; i++)
		g_string_append_printf(csv, "M%03d,%s,1390013%04d,%s\n", i,
		    names[i % 4], i, companies[i % 2]);
	write_list_conf("memo", csv->str, path, sizeof path);
	g_string_free(csv, TRUE);
	if ((c = conf_load(path, err, sizeof err)) == NULL)
		fail_msg("load memo.conf: %s", err);
	if (listbuild_run(c, false, &st, err, sizeof err) != 0)
		fail_msg("build memo.conf: %s", err);
	assert_int_equal(st.records, 300);
	assert_int_equal(st.strong_values, 300);
	assert_int_equal(st.weak_values, 4);
	conf_unref(c);
}

/* A list newer than its build is compiled again at load. */
static void
test_stale_rebuild(void **state)
{
	char err[512], db[300];
	struct conf *c;
	struct stat before, after;

	(void)state;
	(void)snprintf(db, sizeof db, "%s/lists.db", dir);
	c = conf_load(conf_path, err, sizeof err);
	assert_non_null(c);
	if (listbuild_stale(c)) {	/* after test_key_guards: other key */
		struct listbuild_stats st;

		assert_int_equal(listbuild_run(c, false, &st, err, sizeof err),
		    0);
		assert_int_equal(st.records, 30);
		assert_int_equal(st.bad_rows, 1);
	}
	assert_false(listbuild_stale(c));
	assert_int_equal(stat(db, &before), 0);
	sleep(1);
	write_list();
	assert_true(listbuild_stale(c));
	c->engine = engine_load(c, err, sizeof err);
	if (c->engine == NULL)
		fail_msg("reload: %s", err);
	assert_int_equal(stat(db, &after), 0);
	assert_true(after.st_mtime > before.st_mtime);
	assert_false(listbuild_stale(c));
	conf_unref(c);
}

/* The digit shape asks for as many digits as the shortest number the
 * list has (and a written SSN's 9 at most): a list of 6-digit account
 * numbers finds them however they are grouped, a 5-digit number is
 * nothing, and the main list's engine, whose numbers are 11 digits and
 * longer, still finds an SSN's 9. */
static void
test_short_numbers(void **state)
{
	char text[1024], csv[300];
	struct findings f;
	struct conf *c;
	size_t n;
	const struct finding_record **v;

	(void)state;
	assert_int_equal(conf->engine->run_min, 9);
	(void)snprintf(csv, sizeof csv, "%s/short.csv", dir);
	write_file(csv, "id,acct\nS1,123456\nS2,7654321\nS3,88888888888\n");
	(void)snprintf(text, sizeof text,
	    "key_file = \"%s/list.key\"\n"
	    "database = \"%s/short.db\"\n"
	    "list \"short\" {\n"
	    "  file = \"%s\"\n"
	    "  field \"acct\" { kind = \"account\" }\n"
	    "}\n", dir, dir, csv);
	c = load_conf("short.conf", text);
	assert_int_equal(c->engine->run_min, 6);
	f = scan_engine(c->engine, "账号：123 456，另一个 765-4321；"
	    "不是 12345 也不是 1234567890");
	v = findings_sorted(&f, &n);
	if (n != 2 || strcmp(v[0]->id, "S1") != 0 ||
	    strcmp(v[1]->id, "S2") != 0)
		fail_msg("got %zu records, want S1 and S2", n);
	g_free(v);
	findings_free(&f);
	conf_unref(c);

	f = scan_text("SSN 078-05-1120 on file");
	assert_int_equal(f.detector_values[DET_US_SSN], 1);
	findings_free(&f);
}

/* One thread's scan: its scratch, and whether it found C001. */
struct scratch_run {
	hs_scratch_t	*scratch;
	bool		 found;
};

static void *
scratch_run(void *arg)
{
	static const char text[] = "call 13800138001 please";
	struct scratch_run *r = arg;
	struct textseg *t = textseg_new();
	struct findings f;
	char err[256];

	/* No cmocka checks here: they cannot jump out of this thread. */
	r->scratch = engine_scratch(conf->engine, err, sizeof err);
	(void)findings_init(&f, 8);
	r->found = textseg_add(t, "body text/plain", "text/plain", "utf-8",
	    NULL, text, strlen(text)) != NULL &&
	    engine_scan(conf->engine, t, &f, err, sizeof err) == 0 &&
	    has_record(&f, "C001");
	findings_free(&f);
	textseg_free(t);
	return NULL;
}

/* engine_scan leaves the findings as found; pipeline_run, which owns
 * them, sorts them once when the scan is done, so that the readers after
 * it (some on other threads) only read the kept order. */
static void
test_pipeline_orders(void **state)
{
	static const char msg[] =
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
	    "13800138021, 13800138003, 13800138012\r\n";
	const struct finding_record **v;
	struct pipeline_result r;
	struct findings f;
	GMimeStream *st;
	char err[256];
	size_t n;

	(void)state;
	f = scan_text("13800138021, 13800138003, 13800138012");
	assert_int_equal(findings_records(&f), 3);
	assert_null(f.records.order);
	findings_free(&f);

	st = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	pipeline_result_init(&r);
	if (pipeline_run(conf, st, msg, strlen(msg), NULL, false, &r, err,
	    sizeof err) != 0)
		fail_msg("pipeline: %s", err);
	g_object_unref(st);
	assert_int_equal(findings_records(&r.findings), 3);
	assert_non_null(r.findings.records.order);
	assert_int_equal(r.findings.records.norder, 3);
	v = findings_sorted(&r.findings, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0]->id, "C003");
	assert_string_equal(v[1]->id, "C012");
	assert_string_equal(v[2]->id, "C021");
	g_free(v);
	pipeline_result_clear(&r);
}

/* libmilter ends worker threads all the time: a thread that ends hands
 * its scratch to the next new thread, which scans with it as well. */
/* ---- kept scans of files' texts (scanlog.h) */

/* A message of the given segments; those marked with '*' first are
 * texts of a file read before, given again with a key (textseg.h),
 * whose scans are kept. */
static struct findings
scan_message(const struct engine *e, const char *const *segs, size_t n,
    size_t max_samples)
{
	struct textseg *t = textseg_new();
	struct segment *sg;
	struct findings f;
	char err[256];
	size_t i;

	for (i = 0; i < n; i++) {
		bool file = segs[i][0] == '*';
		const char *text = segs[i] + file;

		sg = textseg_add(t, file ? "attachment \"a.xlsx\" > sheet" :
		    "body text/plain", "text/plain", "utf-8", NULL, text,
		    strlen(text));
		assert_non_null(sg);
		if (file) {
			/* as extract/xcache.c keys a text: one key a text */
			GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
			guint8 d[32];
			gsize dl = sizeof d;

			g_checksum_update(ck, (const guchar *)text, -1);
			g_checksum_get_digest(ck, d, &dl);
			memcpy(sg->text_key, d, sizeof sg->text_key);
			sg->keyed = true;
			g_checksum_free(ck);
		}
	}
	(void)findings_init(&f, max_samples);
	if (engine_scan(e, t, &f, err, sizeof err) != 0)
		fail_msg("scan: %s", err);
	textseg_free(t);
	return f;
}

static void
assert_identical(const struct findings *a, const struct findings *b,
    const char *what)
{
	const struct finding_record **va, **vb;
	GHashTableIter it;
	gpointer k, v;
	size_t na, nb, i;

	assert_same_findings(a, b, what);
	va = findings_sorted(a, &na);
	vb = findings_sorted(b, &nb);
	for (i = 0; i < na; i++)
		if (va[i]->segment != vb[i]->segment ||
		    va[i]->canary != vb[i]->canary ||
		    va[i]->list != vb[i]->list)
			fail_msg("%s: %s segment %u/%u", what, va[i]->id,
			    va[i]->segment, vb[i]->segment);
	g_free(va);
	g_free(vb);
	for (i = 0; i < DET_COUNT; i++)
		if (a->detector_values[i] != b->detector_values[i])
			fail_msg("%s: detector %zu: %zu vs %zu", what, i,
			    a->detector_values[i], b->detector_values[i]);
	if (a->canaries != b->canaries || a->per_list[0] != b->per_list[0] ||
	    a->bytes_scanned != b->bytes_scanned)
		fail_msg("%s: canaries %zu/%zu, bytes %zu/%zu", what,
		    a->canaries, b->canaries, a->bytes_scanned,
		    b->bytes_scanned);
	if (a->nsamples != b->nsamples)
		fail_msg("%s: %zu vs %zu samples", what, a->nsamples,
		    b->nsamples);
	for (i = 0; i < a->nsamples; i++)
		if (strcmp(a->samples[i].text, b->samples[i].text) != 0 ||
		    a->samples[i].kind != b->samples[i].kind ||
		    a->samples[i].detector != b->samples[i].detector ||
		    a->samples[i].segment != b->samples[i].segment)
			fail_msg("%s: sample %zu: %s vs %s", what, i,
			    a->samples[i].text, b->samples[i].text);
	assert_int_equal(g_hash_table_size(a->keywords),
	    g_hash_table_size(b->keywords));
	g_hash_table_iter_init(&it, a->keywords);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (g_hash_table_lookup(b->keywords, k) != v)
			fail_msg("%s: keyword %s", what, (const char *)k);
}

/* A file's text of some 20 KB: records, values only a detector knows,
 * weak fields near a strong one, near each other only (two records,
 * and six: ambiguous), keywords, a canary, values again; each variant
 * v its own mix, sharing some values with the others. */
static char *
file_text(int v)
{
	GString *s = g_string_new(v == 0 ? "机密 customer list\n" : "");
	char id[19];
	int k;

	for (k = 1 + v * 5; k <= 14 + v * 5 && k <= 30; k++) {
		make_id(k, id);
		g_string_append_printf(s, "客户%02d\t138-0013-80%02d\t"
		    "user%02d@EXAMPLE.com\t%s\t139 1234 56%02d\t"
		    "4111 1111 1111 1111\n", k, k, k, id, k + v);
	}
	g_string_append(s, "王芳 长城贸易\t李娜 东方物流有限公司\n");
	while (s->len < 20000)
		g_string_append_printf(s, "SKU-%04zu\tvalve\t%zu\t12.50\t"
		    "2026-04-02\n", s->len % 9973, s->len % 977);
	g_string_append_printf(s, "again 13800138%03d\n", 10 + v);
	return g_string_free(s, FALSE);
}

/* The findings of a message whose file texts were scanned before are
 * those of scanning them: whatever came before them in the message
 * (values already counted, samples already taken), whatever room for
 * samples, twice in one message, in another segment's place. */
static void
test_kept_scans(void **state)
{
	static const size_t maxes[] = { 0, 1, 3, 8, 1000 };
	struct engine *e = (struct engine *)conf->engine;
	struct blobcache *scans = e->scans;
	struct blobcache_stats st;
	char *f0 = file_text(0), *f1 = file_text(1), *f2 = file_text(2);
	char *a0 = g_strconcat("*", f0, NULL), *a1 = g_strconcat("*", f1,
	    NULL), *a2 = g_strconcat("*", f2, NULL);
	const char *body = "见附件: 13800138003, user05@example.com, "
	    "139 1234 5606, 客户07 13800138007";
	const char *const msgs[][4] = {
		{ a0, a1, NULL },
		{ body, a0, NULL },
		{ a2, body, a1, a0 },
		{ a1, a1, body, NULL },
		{ body, NULL },
	};
	struct findings ref, f;
	size_t m, k, n, round;
	char what[64];

	(void)state;
	assert_non_null(scans);
	for (round = 0; round < 2; round++)
		for (m = 0; m < sizeof msgs / sizeof msgs[0]; m++) {
			for (n = 0; n < 4 && msgs[m][n] != NULL; n++)
				;
			for (k = 0; k < sizeof maxes / sizeof maxes[0]; k++) {
				e->scans = NULL;
				ref = scan_message(e, msgs[m], n, maxes[k]);
				e->scans = scans;
				f = scan_message(e, msgs[m], n, maxes[k]);
				(void)snprintf(what, sizeof what,
				    "message %zu, %zu samples", m, maxes[k]);
				assert_identical(&ref, &f, what);
				assert_true(findings_records(&f) > 0);
				findings_free(&ref);
				findings_free(&f);
			}
		}
	/* three file texts kept, played back ever after */
	blobcache_get_stats(scans, &st);
	assert_int_equal(st.stored, 3);
	assert_int_equal(st.misses, 3);
	assert_true(st.hits >= 50);
	/* body texts are never kept */
	f = scan_message(e, msgs[4], 1, 8);
	findings_free(&f);
	blobcache_get_stats(scans, &st);
	assert_int_equal(st.stored, 3);
	g_free(a0);
	g_free(a1);
	g_free(a2);
	g_free(f0);
	g_free(f1);
	g_free(f2);
}

static void
test_scratch_handed_on(void **state)
{
	struct scratch_run a = { NULL, false }, b = { NULL, false };
	pthread_t th;

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, scratch_run, &a), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(pthread_create(&th, NULL, scratch_run, &b), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_non_null(a.scratch);
	assert_true(a.found);
	assert_true(b.found);
	if (b.scratch != a.scratch)
		fail_msg("second thread's scratch: got %p, want %p (the "
		    "first thread's)", (void *)b.scratch, (void *)a.scratch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evasions),
		cmocka_unit_test(test_not_matches),
		cmocka_unit_test(test_strong_kinds),
		cmocka_unit_test(test_corroboration),
		cmocka_unit_test(test_proximity_characters),
		cmocka_unit_test(test_weak_heads),
		cmocka_unit_test(test_weak_legacy),
		cmocka_unit_test(test_ambiguous_weak),
		cmocka_unit_test(test_weak_linked),
		cmocka_unit_test(test_weak_repeated),
		cmocka_unit_test(test_weak_shared_lists),
		cmocka_unit_test(test_canary_and_counts),
		cmocka_unit_test(test_detectors),
		cmocka_unit_test(test_detector_forms),
		cmocka_unit_test(test_detector_cells),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_no_clear_values),
		cmocka_unit_test(test_strong_batches),
		cmocka_unit_test(test_short_numbers),
		cmocka_unit_test(test_key_guards),
		cmocka_unit_test(test_weak_memo),
		cmocka_unit_test(test_stale_rebuild),
		cmocka_unit_test(test_scratch_handed_on),
		cmocka_unit_test(test_pipeline_orders),
		cmocka_unit_test(test_kept_scans),
	};
	int rc;

	message_init();		/* test_pipeline_orders parses a message */
	rc = cmocka_run_group_tests(tests, setup, teardown);
	message_shutdown();
	return rc;
}
