/* test_normalize.c - unit tests for normalize.c: canonical values and
 * text views.
 *
 * Table rows give a kind, an input and the canonical value wanted ("" for
 * a rejected value).  The evasion rows are written so that each disguised
 * form sits next to its plain form with the same wanted value.  Invisible
 * and space characters are spelled as byte escapes; visible ones are
 * written as UTF-8 in the source.  Text-view rows check the view and
 * where each view offset maps back to. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <glib.h>

#include "kinds.h"
#include "normalize.h"

#define ZWSP	"\xe2\x80\x8b"	/* U+200B zero-width space */
#define ZWJ	"\xe2\x80\x8d"	/* U+200D zero-width joiner */
#define ZWNBSP	"\xef\xbb\xbf"	/* U+FEFF */
#define SHY	"\xc2\xad"	/* U+00AD soft hyphen */
#define NBSP	"\xc2\xa0"	/* U+00A0 */
#define IDSP	"\xe3\x80\x80"	/* U+3000 ideographic space */
#define NNBSP	"\xe2\x80\xaf"	/* U+202F */
#define WJ	"\xe2\x81\xa0"	/* U+2060 word joiner */

struct vrow {
	enum field_kind	 kind;
	const char	*in;
	const char	*want;	/* "": rejected */
};

static const struct vrow vrows[] = {
	/* Mobile: every disguise meets the plain number. */
	{ KIND_MOBILE, "13800138000", "13800138000" },
	{ KIND_MOBILE, "１３８００１３８０００", "13800138000" },
	{ KIND_MOBILE, "138 0013 8000", "13800138000" },
	{ KIND_MOBILE, "138-0013-8000", "13800138000" },
	{ KIND_MOBILE, "138.0013.8000", "13800138000" },
	{ KIND_MOBILE, "138/0013/8000", "13800138000" },
	{ KIND_MOBILE, "138" NBSP "0013" NBSP "8000", "13800138000" },
	{ KIND_MOBILE, "138" IDSP "0013" IDSP "8000", "13800138000" },
	{ KIND_MOBILE, "138" NNBSP "0013－8000", "13800138000" },
	{ KIND_MOBILE, "+86 138 0013 8000", "13800138000" },
	{ KIND_MOBILE, "+86-13800138000", "13800138000" },
	{ KIND_MOBILE, "0086-13800138000", "13800138000" },
	{ KIND_MOBILE, "008613800138000", "13800138000" },
	{ KIND_MOBILE, "8613800138000", "13800138000" },
	{ KIND_MOBILE, "＋８６ １３８ ００１３ ８０００", "13800138000" },
	{ KIND_MOBILE, "138" ZWSP "0013" ZWJ "80" ZWNBSP "00", "13800138000" },
	{ KIND_MOBILE, "1380" SHY "0138" WJ "000", "13800138000" },
	{ KIND_MOBILE, "①③⑧⓪⓪①③⑧⓪⓪⓪", "13800138000" },
	{ KIND_MOBILE, "𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟎", "13800138000" },
	{ KIND_MOBILE, "¹³⁸⁰⁰¹³⁸⁰⁰⁰", "13800138000" },
	{ KIND_MOBILE, "手机：138 0013 8000", "13800138000" },
	/* Landline: trunk 0 and country code in any combination. */
	{ KIND_PHONE, "010-12345678", "1012345678" },
	{ KIND_PHONE, "(010) 1234-5678", "1012345678" },
	{ KIND_PHONE, "010-1234 5678", "1012345678" },
	{ KIND_PHONE, "+86 10 1234 5678", "1012345678" },
	{ KIND_PHONE, "+86 (0)10 1234 5678", "1012345678" },
	{ KIND_PHONE, "0086 10 12345678", "1012345678" },
	{ KIND_PHONE, "（０１０）１２３４－５６７８", "1012345678" },
	{ KIND_PHONE, "0755-8765432", "7558765432" },
	{ KIND_PHONE, "+86 755 8765 4321", "75587654321" },
	/* Account. */
	{ KIND_ACCOUNT, "6222 0212 3456 7890 123", "6222021234567890123" },
	{ KIND_ACCOUNT, "6222-0212-3456-7890-123", "6222021234567890123" },
	{ KIND_ACCOUNT, "６２２２０２１２３４５６７８９０１２３",
	    "6222021234567890123" },
	/* E-mail. */
	{ KIND_EMAIL, "zhang.wei@example.com", "zhang.wei@example.com" },
	{ KIND_EMAIL, "Zhang.Wei@Example.COM", "zhang.wei@example.com" },
	{ KIND_EMAIL, "  zhang.wei@example.com\t", "zhang.wei@example.com" },
	{ KIND_EMAIL, "<zhang.wei@example.com>", "zhang.wei@example.com" },
	{ KIND_EMAIL, "mailto:Zhang.Wei@example.com", "zhang.wei@example.com" },
	{ KIND_EMAIL, "<mailto:zhang.wei@example.com>",
	    "zhang.wei@example.com" },
	{ KIND_EMAIL, "ｚｈａｎｇ．ｗｅｉ＠ｅｘａｍｐｌｅ．ｃｏｍ",
	    "zhang.wei@example.com" },
	{ KIND_EMAIL, "zhang" ZWSP ".wei@example.com", "zhang.wei@example.com" },
	{ KIND_EMAIL, "<mailto:a@b.cn>", "a@b.cn" },
	{ KIND_EMAIL, "张伟@例子.中国", "张伟@例子.中国" },
	/* Resident ID. */
	{ KIND_CN_ID, "11010519491231002x", "11010519491231002x" },
	{ KIND_CN_ID, "11010519491231002X", "11010519491231002x" },
	{ KIND_CN_ID, "110105 19491231 002X", "11010519491231002x" },
	{ KIND_CN_ID, "１１０１０５１９４９１２３１００２Ｘ",
	    "11010519491231002x" },
	{ KIND_CN_ID, "110105194912310021", "110105194912310021" },
	{ KIND_CN_ID, "110105491231002", "110105491231002" },
	{ KIND_CN_ID, "身份证：110105194912310021", "110105194912310021" },
	/* Names, companies, addresses. */
	{ KIND_NAME, "张伟", "张伟" },
	{ KIND_NAME, "  张伟 ", "张伟" },
	{ KIND_NAME, IDSP "张伟" NBSP, "张伟" },
	{ KIND_NAME, "张" ZWSP "伟", "张伟" },
	{ KIND_NAME, "Zhang Wei", "zhang wei" },
	{ KIND_NAME, "  Zhang   Wei  ", "zhang wei" },
	{ KIND_NAME, "Zhang" NBSP IDSP "\t Wei", "zhang wei" },
	{ KIND_COMPANY, "ABC科技有限公司", "abc科技有限公司" },
	{ KIND_COMPANY, "ＡＢＣ科技有限公司", "abc科技有限公司" },
	{ KIND_COMPANY, "Ａｂｃ 科技  有限公司", "abc 科技 有限公司" },
	{ KIND_ADDRESS, "北京市朝阳区 建国路 88 号",
	    "北京市朝阳区 建国路 88 号" },
	{ KIND_ADDRESS, "北京市朝阳区　建国路　８８号", "北京市朝阳区 建国路 88号" },
	/* The full-width punctuation of prose stays, as in the view;
	 * full-width brackets fold like the rest. */
	{ KIND_ADDRESS, "北京市，朝阳区：建国路！", "北京市，朝阳区：建国路！" },
	{ KIND_COMPANY, "长城（北京）贸易；分部？", "长城(北京)贸易；分部？" },
	{ KIND_NAME, "José Müller", "josé müller" },
	{ KIND_NAME, "JOSÉ MÜLLER", "josé müller" },
	/* Custom values: letters and digits only. */
	{ KIND_CUSTOM, "AB-12 34", "ab1234" },
	{ KIND_CUSTOM, "ａｂ－１２３４", "ab1234" },
	{ KIND_CUSTOM, "ﬁle-9", "file9" },
	{ KIND_CUSTOM, "项目-X1", "项目x1" },
	/* Rejected. */
	{ KIND_MOBILE, "", "" },
	{ KIND_MOBILE, "1234", "" },
	{ KIND_MOBILE, "12-34", "" },
	{ KIND_MOBILE, "no digits here", "" },
	{ KIND_MOBILE, "00001", "" },
	{ KIND_ACCOUNT, "12345678901234567890123456789012345678901", "" },
	{ KIND_EMAIL, "", "" },
	{ KIND_EMAIL, "no-at-sign.example.com", "" },
	{ KIND_EMAIL, "a@@b.cn", "" },
	{ KIND_EMAIL, "a@b@c.cn", "" },
	{ KIND_EMAIL, "@b.cn", "" },
	{ KIND_EMAIL, "a@", "" },
	{ KIND_EMAIL, "zhang wei@example.com", "" },
	{ KIND_EMAIL, "<>", "" },
	{ KIND_CN_ID, "1101051949123100", "" },
	{ KIND_CN_ID, "1101051949123100211", "" },
	{ KIND_CN_ID, "11010519491231002Y", "" },
	{ KIND_CN_ID, "X10105194912310021", "" },
	{ KIND_CN_ID, "11010549123100X", "" },
	{ KIND_NAME, "张", "" },
	{ KIND_NAME, "   ", "" },
	{ KIND_NAME, ZWSP ZWSP, "" },
	{ KIND_CUSTOM, "ab1", "" },
	{ KIND_CUSTOM, "a-b-c", "" },
	{ KIND_COUNT, "13800138000", "" },
};

static void
test_values(void **state)
{
	char	 out[NORM_MAX];
	size_t	 i, n;

	(void)state;
	for (i = 0; i < sizeof vrows / sizeof *vrows; i++) {
		const struct vrow *r = &vrows[i];

		memset(out, 'Z', sizeof out);
		n = normalize_value(r->kind, r->in, strlen(r->in), out);
		if (n != strlen(out) || strcmp(out, r->want) != 0)
			fail_msg("row %zu (kind %d) \"%s\": got \"%s\" (%zu), "
			    "want \"%s\"", i, (int)r->kind, r->in, out, n,
			    r->want);
	}
}

/* The value's length comes from len, not from a NUL. */
static void
test_value_len(void **state)
{
	char	out[NORM_MAX];
	size_t	n;

	(void)state;
	n = normalize_value(KIND_MOBILE, "13800138000999", 11, out);
	if (n != 11 || strcmp(out, "13800138000") != 0)
		fail_msg("got \"%s\", want \"13800138000\"", out);
	n = normalize_value(KIND_MOBILE, "138\0000013\0008000", 13, out);
	if (n != 11 || strcmp(out, "13800138000") != 0)
		fail_msg("embedded NUL: got \"%s\", want \"13800138000\"",
		    out);
}

/* Text values: NORM_MAX - 1 bytes is the most; longer is rejected, not
 * cut; spaces around do not count. */
static void
test_value_limits(void **state)
{
	char	in[NORM_MAX + 64], out[NORM_MAX];
	size_t	n;

	(void)state;
	memset(in, 'a', NORM_MAX - 1);
	n = normalize_value(KIND_NAME, in, NORM_MAX - 1, out);
	if (n != NORM_MAX - 1)
		fail_msg("%d bytes: got %zu, want %d", NORM_MAX - 1, n,
		    NORM_MAX - 1);
	memset(in + NORM_MAX - 1, ' ', 20);
	n = normalize_value(KIND_NAME, in, NORM_MAX - 1 + 20, out);
	if (n != NORM_MAX - 1)
		fail_msg("trailing spaces: got %zu, want %d", n, NORM_MAX - 1);
	memset(in, 'a', NORM_MAX);
	n = normalize_value(KIND_NAME, in, NORM_MAX, out);
	if (n != 0 || out[0] != '\0')
		fail_msg("%d bytes: got %zu, want 0", NORM_MAX, n);
	n = normalize_value(KIND_CUSTOM, in, NORM_MAX, out);
	if (n != 0)
		fail_msg("custom %d bytes: got %zu, want 0", NORM_MAX, n);
	memset(in, '1', 40);
	n = normalize_value(KIND_ACCOUNT, in, 40, out);
	if (n != 40)
		fail_msg("40 digits: got %zu, want 40", n);
}

struct drow {
	const char	*in;
	const char	*want;
};

static const struct drow drows[] = {
	{ "13800138000", "13800138000" },
	{ "8613800138000", "13800138000" },
	{ "008613800138000", "13800138000" },
	{ "861012345678", "1012345678" },
	{ "00861012345678", "1012345678" },
	{ "01012345678", "1012345678" },
	{ "86123456789", "86123456789" },	/* 11 digits: not a prefix */
	{ "0086123456789", "86123456789" },
	{ "86138001380001", "86138001380001" },	/* 14: not a prefix */
	{ "6222021234567890123", "6222021234567890123" },
	{ "000", "" },
	{ "", "" },
	{ "138-0013-8000", "13800138000" },	/* other bytes ignored */
};

static void
test_digits(void **state)
{
	char	 out[NORM_MAX];
	size_t	 i, n;

	(void)state;
	for (i = 0; i < sizeof drows / sizeof *drows; i++) {
		n = normalize_digits(drows[i].in, strlen(drows[i].in), out);
		if (n != strlen(drows[i].want) ||
		    strcmp(out, drows[i].want) != 0)
			fail_msg("\"%s\": got \"%s\" (%zu), want \"%s\"",
			    drows[i].in, out, n, drows[i].want);
	}
}

/* Each row: input, the view, and the original offset of every view
 * offset 0..len (want_orig has len + 1 entries, ended by -1). */
struct trow {
	const char	*name;
	const char	*in;
	size_t		 inlen;
	const char	*view;
	int		 orig[24];
};

#define T(name, in, view, ...) \
	{ (name), (in), sizeof(in) - 1, (view), { __VA_ARGS__, -1 } }

static const struct trow trows[] = {
	T("ascii", "Hello, World 42", "hello, world 42",
	    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
	T("empty", "", "", 0),
	T("full-width inside", "a１２b", "a12b", 0, 1, 4, 7, 8),
	T("full-width letters", "ＡＢ", "ab", 0, 3, 6),
	T("zero-width", "1" ZWSP "2", "12", 0, 4, 5),
	T("zero-width first", ZWSP "ab", "ab", 3, 4, 5),
	T("zero-width last", "ab" ZWSP, "ab", 0, 1, 5),
	T("zero-width run", "a" ZWSP ZWJ ZWNBSP "b", "ab", 0, 10, 11),
	T("soft hyphen", "a" SHY "b", "ab", 0, 3, 4),
	T("cjk unchanged", "张三ab", "张三ab",
	    0, 1, 2, 3, 4, 5, 6, 7, 8),
	T("invalid utf-8", "\xff" "A\xc3", "\xff" "a\xc3", 0, 1, 2, 3),
	T("overlong, surrogate", "\xc0\xaf\xed\xa0\x80",
	    "\xc0\xaf\xed\xa0\x80", 0, 1, 2, 3, 4, 5),
	T("truncated sequence", "a\xe5\xbc", "a\xe5\xbc", 0, 1, 2, 3),
	T("ligature", "ﬁx", "fix", 0, 0, 3, 4),
	T("same-length expansion", "ⅻa", "xiia", 0, 0, 0, 3, 4),
	T("circled", "①2", "12", 0, 3, 4),
	T("nbsp", "a" NBSP "b", "a b", 0, 1, 3, 4),
	T("ideographic space", "张" IDSP "三", "张 三",
	    0, 1, 2, 3, 6, 7, 8, 9),
	T("tab and newline stay", "A\tB\r\nC", "a\tb\r\nc",
	    0, 1, 2, 3, 4, 5, 6),
	T("accented", "ÉCOLE", "école", 0, 1, 2, 3, 4, 5, 6),
	T("mixed", "Tel：１３８" ZWSP "00①",
	    "tel：13800" "1", 0, 1, 2, 3, 4, 5, 6, 9, 12, 18, 19, 20, 23),
	/* The full-width punctuation of Chinese prose is kept; what
	 * identifiers are made of folds. */
	T("kept punctuation", "a，b：c", "a，b：c",
	    0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
	T("kept punctuation 2", "！？；", "！？；",
	    0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
	T("folded punctuation", "（１）－＠．", "(1)-@.", 0, 3, 6, 9, 12, 15,
	    18),
};

static void
test_views(void **state)
{
	struct textview	 v;
	size_t		 i, k, got;

	(void)state;
	for (i = 0; i < sizeof trows / sizeof *trows; i++) {
		const struct trow *r = &trows[i];

		memset(&v, 0, sizeof v);
		assert_int_equal(textview_build(&v, r->in, r->inlen), 0);
		if (v.len != strlen(r->view) ||
		    memcmp(v.buf, r->view, v.len) != 0 || v.buf[v.len] != '\0')
			fail_msg("%s: got view \"%.*s\" (%zu), want \"%s\"",
			    r->name, (int)v.len, v.buf, v.len, r->view);
		for (k = 0; k <= v.len; k++) {
			if (r->orig[k] == -1)
				fail_msg("%s: table has too few offsets",
				    r->name);
			got = textview_orig(&v, k);
			if (got != (size_t)r->orig[k])
				fail_msg("%s: orig(%zu) got %zu, want %d",
				    r->name, k, got, r->orig[k]);
		}
		if (r->orig[k] != -1)
			fail_msg("%s: table has too many offsets", r->name);
		/* Past the end clips to the end. */
		if (textview_orig(&v, v.len + 5) != textview_orig(&v, v.len))
			fail_msg("%s: orig past end differs", r->name);
		textview_free(&v);
		assert_null(v.buf);
		assert_null(v.pts);
	}
}

/* A value and its occurrence in a view: normalising the view of a value
 * written in full-width gives the same value as the plain one. */
static void
test_view_matches_value(void **state)
{
	struct textview	 v;
	char		 a[NORM_MAX], b[NORM_MAX];

	(void)state;
	memset(&v, 0, sizeof v);
	assert_int_equal(textview_build(&v, "ＺＨＡＮＧ．ＷＥＩ＠ＥＸＡＭＰＬＥ．ＣＯＭ",
	    strlen("ＺＨＡＮＧ．ＷＥＩ＠ＥＸＡＭＰＬＥ．ＣＯＭ")), 0);
	assert_string_equal(v.buf, "zhang.wei@example.com");
	normalize_value(KIND_EMAIL, v.buf, v.len, a);
	normalize_value(KIND_EMAIL, "Zhang.Wei@Example.COM", 21, b);
	if (strcmp(a, b) != 0)
		fail_msg("got \"%s\", want \"%s\"", a, b);
	textview_free(&v);
}

static uint32_t
rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* Random text of English, Chinese, full-width digits, invisible
 * characters, odd spaces and stray bytes. */
static char *
random_text(size_t len, uint32_t seed)
{
	static const char *pieces[] = {
		"the ", "Quick ", "BROWN ", "fox", "13800138000", ", ",
		"\n", "\r\n", "客户", "名单", "张伟", "，", "。", "“", "”",
		"：", "；", "！", "？", "、", "（", "）", "－", "＠", "A1", "xY",
		"¥",
		"１３８", "ＡＢＣ", ZWSP, SHY, NBSP, IDSP, "①", "ﬁ", "é",
		"\xff", "\xe5\xbc", "Ü", "ß", "ẞ", "Ⱥ", "ⅻ", "㎏", "𠀀",
	};
	char	*t;
	size_t	 w = 0, k;

	t = malloc(len + 1);
	assert_non_null(t);
	while (w < len) {
		const char *p = pieces[rnd(&seed) % G_N_ELEMENTS(pieces)];

		k = strlen(p);
		if (k > len - w)
			k = len - w;
		memcpy(t + w, p, k);
		w += k;
	}
	t[len] = '\0';
	return t;
}

static double
build_seconds(struct textview *v, const char *t, size_t len)
{
	gint64	start = g_get_monotonic_time();

	assert_int_equal(textview_build(v, t, len), 0);
	return (double)(g_get_monotonic_time() - start) / 1e6;
}

/* 10 MB: the view is no longer than the text, builds in time linear in
 * its length (compared with 1 MB of the same text; a quadratic builder
 * would take 100 times as long), and maps back monotonically to bytes
 * that fold to what the view holds. */
static void
test_large_random(void **state)
{
	struct textview	 v;
	size_t		 big = 10 * 1024 * 1024, small = big / 10, k, o, prev;
	double		 tsmall, tbig;
	char		*t;
	unsigned char	 c;

	(void)state;
	t = random_text(big, 42);
	memset(&v, 0, sizeof v);
	/* Warm up, then time. */
	(void)build_seconds(&v, t, small);
	textview_free(&v);
	tsmall = build_seconds(&v, t, small);
	textview_free(&v);
	tbig = build_seconds(&v, t, big);
	if (tbig > 40 * tsmall + 0.05)
		fail_msg("10 MB took %.3f s, 1 MB %.3f s: want about 10x",
		    tbig, tsmall);
	if (v.len > big)
		fail_msg("view %zu bytes, want <= %zu", v.len, big);
	assert_int_equal(strlen(v.buf), v.len);
	prev = 0;
	for (k = 0; k <= v.len; k++) {
		o = textview_orig(&v, k);
		if (o < prev || o > big)
			fail_msg("orig(%zu) = %zu after %zu: not monotonic",
			    k, o, prev);
		prev = o;
		if (k < v.len && (c = (unsigned char)t[o]) < 0x80 &&
		    (unsigned char)g_ascii_tolower((gchar)c) !=
		    (unsigned char)v.buf[k])
			fail_msg("view[%zu] = 0x%02x maps to 0x%02x at %zu",
			    k, (unsigned char)v.buf[k], c, o);
	}
	if (textview_orig(&v, v.len) != big)
		fail_msg("orig(end) = %zu, want %zu",
		    textview_orig(&v, v.len), big);
	textview_free(&v);
	free(t);
}

/* Random bytes: never crashes, view never longer, NUL-terminated. */
static void
test_random_bytes(void **state)
{
	struct textview	 v;
	unsigned char	 buf[4096];
	uint32_t	 seed = 7;
	size_t		 i, k, prev, o;

	(void)state;
	for (k = 0; k < 200; k++) {
		for (i = 0; i < sizeof buf; i++)
			buf[i] = (unsigned char)rnd(&seed);
		memset(&v, 0, sizeof v);
		assert_int_equal(textview_build(&v, (const char *)buf,
		    sizeof buf), 0);
		assert_true(v.len <= sizeof buf);
		assert_int_equal(v.buf[v.len], '\0');
		prev = 0;
		for (i = 0; i <= v.len; i++) {
			o = textview_orig(&v, i);
			if (o < prev)
				fail_msg("round %zu: orig(%zu) = %zu < %zu", k,
				    i, o, prev);
			prev = o;
		}
		textview_free(&v);
	}
}

/* The view of a text is the views of its characters end to end, the
 * fold knowing no context: so it must be whatever the fast paths (runs
 * of ASCII and CJK in blocks, full-width punctuation and CJK marks
 * inline) do around the characters that stop them, at every offset in
 * a block.  Each character's view starts at its original offset. */
static void
test_view_pieces(void **state)
{
	static const char *const pieces[] = {
		"a", "Z", "7", " ", "-", "\n", "@",
		"\xe4\xb8\xad",				/* 中 */
		"\xe9\xbf\xbf",				/* U+9FFF */
		"\xef\xbc\x8c",				/* ， */
		"\xef\xbc\x9a", "\xef\xbc\x9b",		/* ：； */
		"\xef\xbc\x81", "\xef\xbc\x9f",		/* ！？ */
		"\xef\xbc\x8d", "\xef\xbc\x88",		/* －（ */
		"\xef\xbc\x80", "\xef\xbc",		/* U+FF00, cut */
		"\xef\xbc\x91",				/* １ */
		"\xef\xbc\xa1",				/* Ａ */
		"\xef\xbd\x81",				/* ａ */
		"\xef\xbd\x9e",				/* ～ */
		"\xef\xbd\x9f",				/* U+FF5F, not ASCII */
		"\xe3\x80\x82",				/* 。 */
		"\xe3\x80\x80",				/* ideographic space */
		"\xe3\x83\xbf",				/* U+30FF */
		"\xe3\x89\x91",				/* ㉑: 21 */
		"\xe2\x80\x8b",				/* zero-width */
		"\xc2\xa0", "\xc2\xad", "\xc3\x89",	/* nbsp, shy, É */
		"\xef\xbb\xbf",				/* BOM */
		"\xef\xac\x81",				/* ﬁ: fi */
		"\xf0\x9d\x9f\x8f",				/* 𝟏 */
		"\xff", "\x80", "\xc0",				/* not UTF-8 */
	};
	struct textview	 whole, one;
	char		 text[2048], want[2048];
	size_t		 start[512], vstart[512], n, k, i, tl, wl, len;
	uint32_t	 seed = 11;
	int		 best = textview_simd(-1);

	(void)state;
	for (k = 0; k < 3000; k++) {
		/* Every vector level in turn, the pieces always without. */
		(void)textview_simd(0);
		n = 1 + rnd(&seed) % 400;
		for (i = tl = wl = 0; i < n; i++) {
			const char *p = pieces[rnd(&seed) % (sizeof pieces /
			    sizeof *pieces)];

			len = strlen(p);
			if (tl + len >= sizeof text)
				break;
			memcpy(text + tl, p, len);
			assert_int_equal(textview_build(&one, p, len), 0);
			memcpy(want + wl, one.buf, one.len);
			start[i] = tl;
			vstart[i] = one.len > 0 ? wl : SIZE_MAX;
			tl += len;
			wl += one.len;
			textview_free(&one);
		}
		n = i;
		(void)textview_simd((int)(k % (size_t)(best + 1)));
		assert_int_equal(textview_build(&whole, text, tl), 0);
		if (whole.len != wl || memcmp(whole.buf, want, wl) != 0)
			fail_msg("round %zu: view differs from its pieces", k);
		for (i = 0; i < n; i++)
			if (vstart[i] != SIZE_MAX &&
			    textview_orig(&whole, vstart[i]) != start[i])
				fail_msg("round %zu: piece %zu at view %zu: "
				    "orig %zu, want %zu", k, i, vstart[i],
				    textview_orig(&whole, vstart[i]), start[i]);
		textview_free(&whole);
	}
	(void)textview_simd(-1);
}

/* Every vector level builds the same view and map of the same text,
 * long enough for the bulk loops (English, Chinese, the punctuation
 * that stops them or not, stray bytes), at every alignment. */
static void
test_view_levels(void **state)
{
	struct textview	 ref, v;
	int		 best = textview_simd(-1), level;
	size_t		 k, off;
	char		*t;

	(void)state;
	t = random_text(1 << 16, 5);
	for (off = 0; off < 40; off++) {
		k = (1 << 16) - off * 997;
		(void)textview_simd(0);
		assert_int_equal(textview_build(&ref, t + off, k), 0);
		for (level = 1; level <= best; level++) {
			assert_int_equal(textview_simd(level), level);
			assert_int_equal(textview_build(&v, t + off, k), 0);
			if (v.len != ref.len ||
			    memcmp(v.buf, ref.buf, v.len + 1) != 0 ||
			    v.npts != ref.npts || memcmp(v.pts, ref.pts,
			    v.npts * sizeof *v.pts) != 0)
				fail_msg("offset %zu: level %d view differs "
				    "from level 0", off, level);
			textview_free(&v);
		}
		textview_free(&ref);
	}
	(void)textview_simd(-1);
	free(t);
}

/* Characters of a view, counted over every stretch of it (the vector
 * loop and the tail at every length and alignment), against GLib. */
static void
test_view_chars(void **state)
{
	static const char text[] = "客户 Zhang San，电话 １３８-0013-8000 "
	    "e-mail ａ@example.com；地址 北京市朝阳区 100020";
	struct textview	 v;
	size_t		 a, b;

	(void)state;
	assert_int_equal(textview_build(&v, text, sizeof text - 1), 0);
	for (a = 0; a <= v.len; a++) {
		if ((v.buf[a] & 0xc0) == 0x80)
			continue;	/* starts inside a character */
		for (b = a; b <= v.len; b++)
			if (b == v.len || (v.buf[b] & 0xc0) != 0x80)
				assert_int_equal(textview_chars(&v, a, b),
				    g_utf8_strlen(v.buf + a, (gssize)(b - a)));
	}
	textview_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_value_len),
		cmocka_unit_test(test_value_limits),
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_views),
		cmocka_unit_test(test_view_matches_value),
		cmocka_unit_test(test_large_random),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_view_pieces),
		cmocka_unit_test(test_view_levels),
		cmocka_unit_test(test_view_chars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
