/* test_html.c - unit tests for html_to_text() (html.c).
 *
 * Table rows: HTML in, text out.  The rows pin down the choices html.c
 * documents: inline tags join ("<span>138</span><span>1234</span>" is
 * "1381234"), block tags break lines, cells become tabs, script/style and
 * comments go, title and alt/title attributes stay, malformed markup is
 * read as far as it goes.  Also: hostile sizes finish fast. */
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

#include "html.h"

#define FFFD	"\xef\xbf\xbd"

struct row {
	const char	*in;
	const char	*want;
};

static const struct row rows[] = {
	{ "", "" },
	{ "plain text", "plain text" },
	/* Inline tags must not split what a reader sees as one number. */
	{ "<span>138</span><span>1234</span><span>5678</span>",
	    "13812345678" },
	{ "<b>1</b><i>2</i><font color=red>3</font><a href='x'>4</a>"
	    "<em>5</em><strong>6</strong><u>7</u><sub>8</sub><wbr>9",
	    "123456789" },
	{ "<p>Hello</p><p>World</p>", "Hello\nWorld\n" },
	{ "a<br>b<br/>c<BR />d", "a\nb\nc\nd" },
	{ "<div>a</div><div>b</div>", "a\nb\n" },
	{ "<ul><li>one</li><li>two</li></ul>", "one\ntwo\n" },
	{ "<h1>T</h1>x", "T\nx" },
	{ "<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td>"
	    "</tr></table>", "a\tb\nc\td\n" },
	{ "a<!-- hidden 13812345678 -->b", "ab" },
	{ "a<!---->b<!-->c<!--->d", "abcd" },
	{ "a<script>var x = '<p>13812345678</p>';</script>b", "ab" },
	{ "a<SCRIPT type=x>x</SCRIPT >b", "ab" },
	{ "a<style>p { color: red }</style>b", "ab" },
	{ "a<scripts>b</scripts>c", "abc" },
	{ "<!DOCTYPE html><html><head><title>Title</title>"
	    "<meta charset=utf-8></head><body>x</body></html>",
	    "Title\nx\n" },
	{ "<?xml version='1.0'?>a", "a" },
	{ "<![CDATA[x]]>y", "y" },
	{ "&amp;&lt;&gt;&quot;&apos;", "&<>\"'" },
	{ "a&nbsp;b", "a\xc2\xa0" "b" },
	{ "&#49;&#x32;&#X33;&#52", "1234" },
	{ "&#0;|&#xD800;|&#x110000;|&#99999999999999999999;",
	    FFFD "|" FFFD "|" FFFD "|" FFFD },
	{ "&#150;&#x80;", "\xe2\x80\x93\xe2\x82\xac" },
	{ "&copy;&euro;&mdash;&ndash;&hellip;",
	    "\xc2\xa9\xe2\x82\xac\xe2\x80\x94\xe2\x80\x93\xe2\x80\xa6" },
	{ "&laquo;&raquo;&times;&middot;&deg;&plusmn;",
	    "\xc2\xab\xc2\xbb\xc3\x97\xc2\xb7\xc2\xb0\xc2\xb1" },
	{ "&zwj;&zwnj;&shy;", "\xe2\x80\x8d\xe2\x80\x8c\xc2\xad" },
	{ "&lsquo;&rsquo;&ldquo;&rdquo;",
	    "\xe2\x80\x98\xe2\x80\x99\xe2\x80\x9c\xe2\x80\x9d" },
	{ "&yen;&pound;&cent;&sect;&para;&bull;&trade;&reg;",
	    "\xc2\xa5\xc2\xa3\xc2\xa2\xc2\xa7\xc2\xb6\xe2\x80\xa2"
	    "\xe2\x84\xa2\xc2\xae" },
	{ "&ensp;&emsp;&thinsp;", "\xe2\x80\x82\xe2\x80\x83\xe2\x80\x89" },
	{ "&eacute;&Eacute;&uuml;&szlig;&ntilde;",
	    "\xc3\xa9\xc3\x89\xc3\xbc\xc3\x9f\xc3\xb1" },
	{ "138&period;1234&colon;", "138.1234:" },
	{ "&foo; &amp x &unknownentity; &", "&foo; & x &unknownentity; &" },
	{ "&#; &#x; &#xZ", "&#; &#x; &#xZ" },
	{ "a < b", "a < b" },
	{ "1<2 and 3<4", "1<2 and 3<4" },
	{ "x<", "x<" },
	{ "x</", "x</" },
	{ "abc<span", "abc" },
	{ "abc<span title='unterminated", "abc unterminated " },
	{ "a<!-- never closed", "a" },
	{ "a<script>never closed", "a" },
	{ "a</>b", "ab" },
	{ "a</ b>c", "ac" },
	{ "a  \n\t b", "a b" },
	{ "<pre>a  b\nc</pre>", "a  b\nc\n" },
	{ "x<img src=a.png alt=\"13812345678\">y", "x 13812345678 y" },
	{ "<a title='x>y' href=\"q\">z</a>", "x>y z" },
	{ "<img alt='&lt;id&gt;'>", "<id> " },
	{ "<averyveryverylongtagnamethatisnotknown>x", "x" },
	{ "\xe5\xae\xa2<span>\xe6\x88\xb7</span>", "\xe5\xae\xa2\xe6\x88\xb7" },
};

static void
test_rows(void **state)
{
	size_t	 i, outlen;
	char	*out;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof *rows; i++) {
		if (html_to_text(rows[i].in, strlen(rows[i].in), &out,
		    &outlen) != 0)
			fail_msg("row %zu: returned -1", i);
		if (outlen != strlen(out))
			fail_msg("row %zu: outlen %zu, strlen %zu", i, outlen,
			    strlen(out));
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu (%s): got \"%s\", want \"%s\"", i,
			    rows[i].in, out, rows[i].want);
		free(out);
	}
}

static void
test_null_input(void **state)
{
	char	*out;
	size_t	 outlen;

	(void)state;
	assert_int_equal(html_to_text(NULL, 0, &out, &outlen), 0);
	assert_string_equal(out, "");
	assert_int_equal(outlen, 0);
	free(out);
}

/* Not NUL-terminated: only len bytes are read. */
static void
test_len_bounded(void **state)
{
	char	 in[] = { '<', 'b', '>', 'a', 'b', '<', '/', 'b', '>', 'X' };
	char	*out;
	size_t	 outlen;

	(void)state;
	assert_int_equal(html_to_text(in, 9, &out, &outlen), 0);
	assert_string_equal(out, "ab");
	free(out);
	assert_int_equal(html_to_text(in, 5, &out, &outlen), 0);
	assert_string_equal(out, "ab");
	free(out);
}

/* Hostile shapes: deep nesting, many tags, many '<', no recursion and
 * linear time means these finish quickly. */
static void
test_hostile(void **state)
{
	static const char *units[] = {
		"<div>", "<span>", "<", "<!--", "&", "&#", "<a title='",
		"<script>", "</script", "&#x1111111111", "<p",
	};
	size_t	 n = 2 * 1024 * 1024, i, k, ulen, outlen;
	char	*in = malloc(n + 1), *out;
	gint64	 t0;

	(void)state;
	assert_non_null(in);
	for (k = 0; k < sizeof units / sizeof *units; k++) {
		ulen = strlen(units[k]);
		for (i = 0; i + ulen <= n; i += ulen)
			memcpy(in + i, units[k], ulen);
		t0 = g_get_monotonic_time();
		assert_int_equal(html_to_text(in, i, &out, &outlen), 0);
		if (!g_utf8_validate(out, (gssize)outlen, NULL))
			fail_msg("unit %s: output not valid UTF-8", units[k]);
		if (g_get_monotonic_time() - t0 > 5 * G_USEC_PER_SEC)
			fail_msg("unit %s: took more than 5 s", units[k]);
		free(out);
	}
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_null_input),
		cmocka_unit_test(test_len_bounded),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
