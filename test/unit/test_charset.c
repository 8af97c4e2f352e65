/* test_charset.c - unit tests for charset_to_utf8() (charset.c).
 *
 * Table rows: input bytes, declared label, expected UTF-8 and the charset
 * reported as used.  Byte strings were produced with iconv(1), e.g.
 * printf '客户名单' | iconv -f UTF-8 -t GBK | xxd  ->  bf cd bb a7 c3 fb b5 a5.
 * Every output is also checked to be valid UTF-8. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include <glib.h>

#include "charset.h"
#include "simd.h"

#define KEHU_GBK	"\xbf\xcd\xbb\xa7\xc3\xfb\xb5\xa5"	/* 客户名单 */
#define KEHU_UTF8	"\xe5\xae\xa2\xe6\x88\xb7\xe5\x90\x8d\xe5\x8d\x95"
#define KEHU_T_BIG5	"\xab\xc8\xa4\xe1\xa6\x57\xb3\xe6"	/* 客戶名單 */
#define KEHU_T_UTF8	"\xe5\xae\xa2\xe6\x88\xb6\xe5\x90\x8d\xe5\x96\xae"
#define FFFD		"\xef\xbf\xbd"

struct row {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*declared;
	const char	*want;
	const char	*want_used;	/* NULL: do not check */
};

#define R(name, lit, decl, want, used) \
	{ (name), (lit), sizeof(lit) - 1, (decl), (want), (used) }

static const struct row rows[] = {
	R("ascii, no label", "hello", NULL, "hello", "UTF-8"),
	R("empty", "", "gbk", "", NULL),
	R("utf-8 declared", KEHU_UTF8, "UTF-8", KEHU_UTF8, "UTF-8"),
	R("utf-8 unlabelled", KEHU_UTF8, NULL, KEHU_UTF8, "UTF-8"),
	R("gbk", KEHU_GBK, "gbk", KEHU_UTF8, "GB18030"),
	R("GBK upper case", KEHU_GBK, "GBK", KEHU_UTF8, "GB18030"),
	R("x-gbk", KEHU_GBK, "x-gbk", KEHU_UTF8, "GB18030"),
	R("cp936", KEHU_GBK, "cp936", KEHU_UTF8, "GB18030"),
	/* 镕 (e9 46) is GBK, not GB2312: the label is widened. */
	R("gb2312 label, gbk char", "\xe9\x46", "gb2312", "\xe9\x95\x95",
	    "GB18030"),
	R("GB_2312-80 spelling", KEHU_GBK, "GB_2312-80", KEHU_UTF8,
	    "GB18030"),
	R("big5", KEHU_T_BIG5, "big5", KEHU_T_UTF8, NULL),
	R("utf-16le bom", "\xff\xfe\xa2\x5b\x37\x62", NULL,
	    "\xe5\xae\xa2\xe6\x88\xb7", "UTF-16LE"),
	R("utf-16be bom beats label", "\xfe\xff\x5b\xa2\x62\x37", "gbk",
	    "\xe5\xae\xa2\xe6\x88\xb7", "UTF-16BE"),
	R("utf-8 bom", "\xef\xbb\xbf" "abc", "windows-1252", "abc", "UTF-8"),
	R("utf-32le bom", "\xff\xfe\0\0" "a\0\0\0", NULL, "a", "UTF-32LE"),
	R("utf-16le declared, no bom", "1\0003\0008\0", "utf-16le", "138",
	    "UTF-16LE"),
	R("utf-16 declared, no bom: big-endian", "\0001\0002", "utf-16", "12",
	    "UTF-16BE"),
	R("utf-16 odd length", "\xff\xfe" "a\0b", NULL, "a" FFFD, "UTF-16LE"),
	R("undeclared gb18030 guessed", KEHU_GBK, NULL, KEHU_UTF8, "GB18030"),
	R("undeclared latin-1 guessed", "caf\xe9", NULL, "caf\xc3\xa9",
	    "WINDOWS-1252"),
	R("iso-8859-1 widened to windows-1252", "\x80", "iso-8859-1",
	    "\xe2\x82\xac", "WINDOWS-1252"),
	R("latin1", "\xe9", "latin1", "\xc3\xa9", "WINDOWS-1252"),
	R("us-ascii", "plain", "us-ascii", "plain", "WINDOWS-1252"),
	/* 8-bit bytes under an ASCII label: the label is wrong, guess. */
	R("us-ascii label, gbk bytes", KEHU_GBK, "us-ascii", KEHU_UTF8,
	    "GB18030"),
	/* A wrong "utf-8" label on GBK text: most bytes are invalid UTF-8
	 * and they decode cleanly as GB18030, so GB18030 is used. */
	R("utf-8 label, gbk bytes", KEHU_GBK, "utf-8", KEHU_UTF8, "GB18030"),
	/* One stray byte in real UTF-8 does not flip the guess. */
	R("utf-8 label, one bad byte", KEHU_UTF8 "\xff", "utf-8",
	    KEHU_UTF8 FFFD, "UTF-8"),
	R("gbk label, bad byte skipped", "\xbf\xcd\xff\xbb\xa7", "gbk",
	    "\xe5\xae\xa2" FFFD "\xe6\x88\xb7", "GB18030"),
	R("windows-1252 undefined byte", "a\x81" "b", "windows-1252",
	    "a" FFFD "b", "WINDOWS-1252"),
	R("nul dropped", "a\0b\0c", NULL, "abc", "UTF-8"),
	R("unknown label guessed", KEHU_GBK, "x-no-such-charset", KEHU_UTF8,
	    "GB18030"),
	R("hostile label guessed", "abc", "../../../../tmp/x//TRANSLIT",
	    "abc", "UTF-8"),
	R("iso-2022-jp (stateful)", "\x1b$B$3$s\x1b(B", "iso-2022-jp",
	    "\xe3\x81\x93\xe3\x82\x93", "ISO-2022-JP"),
	/* Not in charset.c's table: iconv reads it, used is the label. */
	R("unlisted label", "\xe0", "iso-8859-4", "\xc4\x81", "iso-8859-4"),
	R("koi8-r", "\xf0\xd2\xc9", "koi8-r", "\xd0\x9f\xd1\x80\xd0\xb8",
	    "KOI8-R"),
	R("overlong utf-8 rejected", "abc" KEHU_UTF8 "\xc0\xaf", "utf-8",
	    "abc" KEHU_UTF8 FFFD FFFD, "UTF-8"),
	R("surrogate in utf-8 rejected", "a\xed\xa0\x80", NULL, NULL, NULL),
	/* Three-byte characters are checked without cs_utf8_seq: one cut
	 * at the end, or with a byte that does not continue it, is bad. */
	R("utf-8 label, last character cut", KEHU_UTF8 KEHU_UTF8 "\xe5\xae",
	    "utf-8", KEHU_UTF8 KEHU_UTF8 FFFD, "UTF-8"),
	R("utf-8 label, second byte not continuing",
	    KEHU_UTF8 KEHU_UTF8 "\xe5" "a\xae", "utf-8",
	    KEHU_UTF8 KEHU_UTF8 FFFD "a" FFFD, "UTF-8"),
	R("utf-8 label, third byte not continuing",
	    KEHU_UTF8 KEHU_UTF8 "\xe5\xae" "a", "utf-8",
	    KEHU_UTF8 KEHU_UTF8 FFFD FFFD "a", "UTF-8"),
	R("three-byte lead bytes e1, ef, ec, ee", KEHU_UTF8 "\xe1\x80\x80"
	    "\xef\xbf\xbf\xec\xbf\xbf\xee\x80\x80", NULL, KEHU_UTF8
	    "\xe1\x80\x80\xef\xbf\xbf\xec\xbf\xbf\xee\x80\x80", "UTF-8"),
};

#undef R

static void
test_rows(void **state)
{
	size_t		 i, outlen;
	char		*out;
	const char	*used;
	int		 truncated;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof *rows; i++) {
		const struct row *r = &rows[i];

		used = NULL;
		truncated = -1;
		if (charset_to_utf8(r->in, r->len, r->declared, 0, &out,
		    &outlen, &used, &truncated) != 0)
			fail_msg("%s: returned -1", r->name);
		if (!g_utf8_validate(out, (gssize)outlen, NULL))
			fail_msg("%s: output is not valid UTF-8", r->name);
		if (out[outlen] != '\0')
			fail_msg("%s: output not NUL-terminated", r->name);
		if (truncated != 0)
			fail_msg("%s: truncated: got %d, want 0", r->name,
			    truncated);
		if (r->want != NULL && (outlen != strlen(r->want) ||
		    memcmp(out, r->want, outlen) != 0))
			fail_msg("%s: got \"%s\" (%zu bytes), want \"%s\"",
			    r->name, out, outlen, r->want);
		if (r->want_used != NULL && (used == NULL ||
		    strcmp(used, r->want_used) != 0))
			fail_msg("%s: used: got %s, want %s", r->name,
			    used != NULL ? used : "(null)", r->want_used);
		free(out);
	}
}

/* Big5 is widened to Big5-HKSCS when this iconv has it. */
static void
test_big5_widened(void **state)
{
	char		*out;
	size_t		 outlen;
	const char	*used = NULL;

	(void)state;
	assert_int_equal(charset_to_utf8(KEHU_T_BIG5, 8, "big5", 0, &out,
	    &outlen, &used, NULL), 0);
	assert_string_equal(out, KEHU_T_UTF8);
	if (strcmp(used, "BIG5-HKSCS") != 0 && strcmp(used, "BIG5") != 0)
		fail_msg("used: got %s, want BIG5-HKSCS or BIG5", used);
	free(out);
}

static void
test_truncate_boundary(void **state)
{
	static const struct {
		size_t		 max_out;
		const char	*want;
		int		 want_trunc;
	} trows[] = {
		{ 7, "\xe5\xae\xa2\xe6\x88\xb7", 1 },	/* 客户 */
		{ 6, "\xe5\xae\xa2\xe6\x88\xb7", 1 },
		{ 5, "\xe5\xae\xa2", 1 },
		{ 2, "", 1 },
		{ 12, KEHU_UTF8, 0 },
		{ 100, KEHU_UTF8, 0 },
	};
	size_t	 i, outlen;
	char	*out;
	int	 truncated;

	(void)state;
	for (i = 0; i < sizeof trows / sizeof *trows; i++) {
		truncated = -1;
		/* From GBK, so the cut falls inside converted output. */
		assert_int_equal(charset_to_utf8(KEHU_GBK, 8, "gbk",
		    trows[i].max_out, &out, &outlen, NULL, &truncated), 0);
		if (strcmp(out, trows[i].want) != 0 || outlen !=
		    strlen(trows[i].want))
			fail_msg("max_out %zu: got \"%s\", want \"%s\"",
			    trows[i].max_out, out, trows[i].want);
		if (truncated != trows[i].want_trunc)
			fail_msg("max_out %zu: truncated: got %d, want %d",
			    trows[i].max_out, truncated, trows[i].want_trunc);
		free(out);
	}
}

/* A large input with a small cap stops early and stays bounded. */
static void
test_truncate_large(void **state)
{
	size_t	 n = 4 * 1024 * 1024, outlen;
	char	*in = malloc(n), *out;
	int	 truncated = 0;

	(void)state;
	assert_non_null(in);
	memset(in, 'a', n);
	assert_int_equal(charset_to_utf8(in, n, "windows-1252", 1000, &out,
	    &outlen, NULL, &truncated), 0);
	assert_int_equal(outlen, 1000);
	assert_int_equal(truncated, 1);
	free(out);
	free(in);
}

/* Garbage never aborts: every bad byte becomes U+FFFD. */
static void
test_all_invalid(void **state)
{
	size_t	 n = 100000, outlen;
	char	*in = malloc(n), *out;

	(void)state;
	assert_non_null(in);
	memset(in, 0xff, n);
	assert_int_equal(charset_to_utf8(in, n, "utf-8", 0, &out, &outlen,
	    NULL, NULL), 0);
	assert_int_equal(outlen, 3 * n);
	assert_true(g_utf8_validate(out, (gssize)outlen, NULL));
	free(out);
	free(in);
}

static void
test_random_bytes(void **state)
{
	static const char *labels[] = {
		NULL, "utf-8", "gbk", "big5", "utf-16", "utf-16le",
		"utf-32", "shift_jis", "iso-2022-jp", "windows-1252",
		"euc-kr", "utf-7",
	};
	unsigned char	 buf[4096];
	size_t		 i, k, outlen;
	char		*out;
	unsigned int	 seed = 12345;

	(void)state;
	for (k = 0; k < 50; k++) {
		for (i = 0; i < sizeof buf; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (unsigned char)(seed >> 16);
		}
		for (i = 0; i < sizeof labels / sizeof *labels; i++) {
			if (charset_to_utf8((const char *)buf, sizeof buf,
			    labels[i], k % 2 ? 999 : 0, &out, &outlen, NULL,
			    NULL) != 0)
				fail_msg("label %s: returned -1",
				    labels[i] ? labels[i] : "(none)");
			if (!g_utf8_validate(out, (gssize)outlen, NULL))
				fail_msg("label %s: invalid UTF-8 output",
				    labels[i] ? labels[i] : "(none)");
			if (k % 2 && outlen > 999)
				fail_msg("label %s: got %zu bytes, want <= 999",
				    labels[i] ? labels[i] : "(none)", outlen);
			free(out);
		}
	}
}

/* charset_utf8_scan against the plain reading, a character at a time:
 * random texts of pieces chosen to sit across its sixteen-byte blocks
 * (ASCII runs, Chinese, other valid characters, the leads whose second
 * byte is bounded, bad and cut sequences). */
static void
utf8_scan_plain(const unsigned char *s, size_t len, size_t *nbad,
    size_t *nhigh)
{
	size_t i = 0, n;

	*nbad = *nhigh = 0;
	while (i < len) {
		if (s[i] < 0x80) {
			i++;
		} else if ((n = charset_utf8_len(s + i, len - i)) == 0) {
			++*nbad;
			++*nhigh;
			i++;
		} else {
			*nhigh += n;
			i += n;
		}
	}
}

static void
test_utf8_scan(void **state)
{
	static const char *const pieces[] = {
		"a", "hello world, ", "0123456789abcdef0123", "\n",
		"\xe5\xae\xa2", "\xe6\x88\xb7\xe5\x90\x8d\xe5\x8d\x95",
		"\xef\xbc\x8c", "\xe3\x80\x82", "\xe1\x80\x80",
		"\xec\xbf\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
		"\xc3\xa9", "\xf0\x9f\x98\x80", "\xe0\xa4\x80",
		"\xed\x9f\xbf", "\xed\xa0\x80", "\xe0\x80\x80",
		"\xc0\xaf", "\xff", "\x80", "\xbf\xbf", "\xe5\xae",
		"\xe5", "\xf4\x90\x80\x80", "\xf0\x9f\x98",
	};
	unsigned char	 buf[512];
	unsigned int	 seed = 4242;
	size_t		 k, len, nbad, nhigh, wbad, whigh, p, n;

	(void)state;
	for (k = 0; k < 20000; k++) {
		len = 0;
		for (;;) {
			seed = seed * 1103515245u + 12345u;
			/* Mostly Chinese and ASCII, as mail is. */
			p = (seed >> 16) % 64;
			p = p < 24 ? 4 + p % 4 : p < 40 ? p % 4 :
			    p % (sizeof pieces / sizeof *pieces);
			n = strlen(pieces[p]);
			if (len + n > (k % 97) * 5 + 1)
				break;
			memcpy(buf + len, pieces[p], n);
			len += n;
		}
		charset_utf8_scan(buf, len, &nbad, &nhigh);
		utf8_scan_plain(buf, len, &wbad, &whigh);
		if (nbad != wbad || nhigh != whigh)
			fail_msg("text %zu (%zu bytes): bad %zu high %zu, "
			    "want %zu and %zu", k, len, nbad, nhigh, wbad,
			    whigh);
	}
}

/* simd_count16, which the UTF-8 check counts high bytes with, against
 * the compiler's count, for every 16-bit mask. */
static void
test_count16(void **state)
{
#ifdef __SSE2__
	unsigned m;

	(void)state;
	for (m = 0; m <= 0xffff; m++)
		if (simd_count16(m) != (unsigned)__builtin_popcount(m))
			fail_msg("simd_count16(%#x): got %u, want %d", m,
			    simd_count16(m), __builtin_popcount(m));
#else
	(void)state;
	skip();
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_count16),
		cmocka_unit_test(test_big5_widened),
		cmocka_unit_test(test_truncate_boundary),
		cmocka_unit_test(test_truncate_large),
		cmocka_unit_test(test_all_invalid),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_utf8_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
