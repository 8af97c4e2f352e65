/* test_message.c - unit tests for message_extract() (message.c).
 *
 * Messages are built inline.  Table rows give a message and the segments
 * (source, a piece of the text) it must produce, and the unscannable
 * reason it must note, if any.  Separate tests cover the limits (depth,
 * parts, header size, text size, time), the nesting bomb that must not
 * reach GMime, input that is no message at all, and the stream entry
 * point.  Byte strings for GBK/Big5/UTF-16 were made with iconv(1). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "message.h"
#include "textseg.h"

#define KEHU_GBK	"\xbf\xcd\xbb\xa7\xc3\xfb\xb5\xa5"	/* 客户名单 */
#define KEHU		"\xe5\xae\xa2\xe6\x88\xb7\xe5\x90\x8d\xe5\x8d\x95"
#define KEHU_T_BIG5	"\xab\xc8\xa4\xe1\xa6\x57\xb3\xe6"	/* 客戶名單 */
#define KEHU_T		"\xe5\xae\xa2\xe6\x88\xb6\xe5\x90\x8d\xe5\x96\xae"
#define KEHU2		"\xe5\xae\xa2\xe6\x88\xb7"		/* 客户 */

/* A PNG header, base64. */
#define PNG_B64		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"
#define PNG_LEN		33

#define MAXWANT		5

struct want {
	const char	*source;
	const char	*text;	/* a piece of the segment's text; NULL: opaque */
};

struct mrow {
	const char	*name;
	const char	*raw;
	struct want	 want[MAXWANT];
	const char	*uns;	/* the one reason noted; NULL: none */
};

static const struct mrow rows[] = {
	{ "plain us-ascii",
	  "From: a@example.com\r\nSubject: hello\r\n"
	  "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	  "customer list attached\r\n",
	  { { "header Subject", "hello" },
	    { "body text/plain", "customer list attached" } }, NULL },
	{ "no mime headers at all",
	  "Subject: x\n\nbare body\n",
	  { { "body text/plain", "bare body" } }, NULL },
	{ "base64 utf-8",
	  "Subject: b64\r\nMIME-Version: 1.0\r\n"
	  "Content-Type: text/plain; charset=utf-8\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\n"
	  "5a6i5oi35ZCN5Y2VIDEzODEyMzQ1Njc4\r\n",
	  { { "body text/plain", KEHU " 13812345678" } }, NULL },
	{ "quoted-printable",
	  "Subject: qp\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	  "=E5=AE=A2=E6=88=B7 138=\r\n12345678\r\n",
	  { { "body text/plain", KEHU2 " 13812345678" } }, NULL },
	{ "gbk 8bit",
	  "Subject: gbk\r\nContent-Type: text/plain; charset=GBK\r\n"
	  "Content-Transfer-Encoding: 8bit\r\n\r\n" KEHU_GBK "\r\n",
	  { { "body text/plain", KEHU } }, NULL },
	{ "gb2312 label, gbk-only char",
	  "Subject: gb\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n"
	  "\xe9\x46" KEHU_GBK "\r\n",
	  { { "body text/plain", "\xe9\x95\x95" KEHU } }, NULL },
	{ "big5",
	  "Subject: big5\r\nContent-Type: text/plain; charset=big5\r\n\r\n"
	  KEHU_T_BIG5 "\r\n",
	  { { "body text/plain", KEHU_T } }, NULL },
	{ "utf-16 with bom",
	  "Subject: u16\r\nContent-Type: text/plain; charset=utf-16\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\n//6iWzdi\r\n",
	  { { "body text/plain", KEHU2 } }, NULL },
	{ "utf-16le declared, no bom",
	  "Subject: u16le\r\nContent-Type: text/plain; charset=utf-16le\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nMQAzADgA\r\n",
	  { { "body text/plain", "138" } }, NULL },
	{ "undeclared gb18030 guessed",
	  "Subject: guess\r\nContent-Type: text/plain\r\n\r\n" KEHU_GBK "\r\n",
	  { { "body text/plain", KEHU } }, NULL },
	/* A utf-8 label on GBK bytes: mostly invalid UTF-8 that decodes
	 * cleanly as GB18030, so charset.c reads it as GB18030. */
	{ "utf-8 label on gbk bytes",
	  "Subject: wrong\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	  KEHU_GBK "\r\n",
	  { { "body text/plain", KEHU } }, NULL },
	{ "html",
	  "Subject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
	  "<html><head><style>p{}</style><script>var s='secret';</script>"
	  "</head><body><!-- 99999 --><p>A&amp;B&nbsp;&copy;</p>"
	  "<p><span>138</span><span>1234</span><b>5678</b></p></body></html>",
	  { { "body text/html", "A&B\xc2\xa0\xc2\xa9" },
	    { "body text/html", "13812345678" } }, NULL },
	{ "rfc 2047 subjects",
	  "Subject: =?GB2312?B?v827p8P7taU=?= and\r\n"
	  " =?UTF-8?Q?=E5=AE=A2=E6=88=B7?=\r\n"
	  "Comments: =?utf-8?b?5a6i5oi3?=\r\nKeywords: k1, k2\r\n\r\nx\r\n",
	  { { "header Subject", KEHU " and" },
	    { "header Subject", KEHU2 },
	    { "header Comments", KEHU2 },
	    { "header Keywords", "k1, k2" } }, NULL },
	{ "8-bit raw header",
	  "Subject: \xbf\xcd\xbb\xa7 list\r\n\r\nx\r\n",
	  { { "header Subject", KEHU2 " list" } }, NULL },
	{ "rfc 2231 filename",
	  "Subject: a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
	  "--b\r\nContent-Type: text/csv; charset=utf-8\r\n"
	  "Content-Disposition: attachment;\r\n"
	  " filename*=UTF-8''%E5%AE%A2%E6%88%B7.csv\r\n"
	  "Content-Description: =?UTF-8?B?5a6i5oi3?= export\r\n\r\n"
	  "id,phone\r\n1,13812345678\r\n--b--\r\n",
	  { { "body text/plain", "see attached" },
	    { "attachment name", KEHU2 ".csv" },
	    { "attachment \"" KEHU2 ".csv\"", "1,13812345678" },
	    { "header Content-Description", KEHU2 " export" } }, NULL },
	{ "rfc 2047 in a quoted filename (common, non-standard)",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment;"
	  " filename=\"=?UTF-8?B?5a6i5oi3LnR4dA==?=\"\r\n\r\nabc\r\n--b--\r\n",
	  { { "attachment name", KEHU2 ".txt" },
	    { "attachment \"" KEHU2 ".txt\"", "abc" } }, NULL },
	{ "nested mixed > alternative",
	  "Subject: n\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n"
	  "--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
	  "--i\r\nContent-Type: text/plain\r\n\r\nplain part\r\n"
	  "--i\r\nContent-Type: text/html\r\n\r\n<p>html part</p>\r\n"
	  "--i--\r\n--o\r\nContent-Type: application/octet-stream\r\n"
	  "Content-Disposition: attachment\r\n\r\n\x01\x02\r\n--o--\r\n",
	  { { "body text/plain", "plain part" },
	    { "body text/html", "html part" },
	    { "attachment #1 application/octet-stream", NULL } }, NULL },
	{ "attached message/rfc822",
	  "Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: text/plain\r\n\r\nouter body\r\n"
	  "--b\r\nContent-Type: message/rfc822\r\n"
	  "Content-Disposition: attachment; filename=fwd.eml\r\n\r\n"
	  "Subject: =?UTF-8?B?5a6i5oi3?= inner\r\n"
	  "Content-Type: text/html; charset=gbk\r\n\r\n"
	  "<div>" KEHU_GBK "</div>\r\n--b--\r\n",
	  { { "header Subject", "outer" },
	    { "attachment name", "fwd.eml" },
	    { "attachment \"fwd.eml\" > header Subject", KEHU2 " inner" },
	    { "attachment \"fwd.eml\" > body text/html", KEHU } }, NULL },
	{ "unnamed message/rfc822",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: message/rfc822\r\n\r\n"
	  "Subject: s\r\n\r\ninner\r\n--b--\r\n",
	  { { "attachment \"message\" > header Subject", "s" },
	    { "attachment \"message\" > body text/plain", "inner" } }, NULL },
	{ "octet-stream named .csv is read as text",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: application/vnd.ms-excel; name=list.csv\r\n"
	  "Content-Disposition: attachment; filename=list.csv\r\n\r\n"
	  "name,phone\r\nzhang,13812345678\r\n--b--\r\n",
	  { { "attachment \"list.csv\"", "zhang,13812345678" } }, NULL },
	/* The bytes win over the label: a (truncated) zip called
	 * text/plain goes to the extractors, which say it is damaged. */
	{ "zip labelled text/plain goes to the extractors",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: text/plain; name=a.txt\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nUEsDBBQAAAAIAA==\r\n"
	  "--b--\r\n",
	  { { "attachment \"a.txt\"", NULL } }, "damaged" },
	{ "missing final boundary",
	  "Subject: m\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
	  "--b\r\nContent-Type: text/plain\r\n\r\nsecond, never closed\r\n",
	  { { "body text/plain", "first" },
	    { "body text/plain", "second, never closed" } }, NULL },
	{ "broken base64",
	  "Subject: b\r\nContent-Type: text/plain\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nZm9v!!!@@@YmFy===xx\r\n",
	  { { "body text/plain", "foo" } }, NULL },
	/* Fields the walk never reads are left out of GMime's parse
	 * (message.c, msg_head_read_fields) with their continuation
	 * lines: the result is the whole parse's, where those lines are
	 * part of X-Foo and Received (the body is neither HTML nor
	 * base64) and the invalid line is noted. */
	{ "unread fields left out",
	  "X-Foo: a\r\n Content-Type: text/html\r\n"
	  "Content-Type: text/plain; charset=utf-8\r\n"
	  "Received: by x\r\n\tContent-Transfer-Encoding: base64\r\n"
	  "Subject: kept 13900007919\r\nThis line is not a header either\r\n"
	  "DKIM-Signature: v=1;\r\n b=QUJD\r\n\r\n"
	  "<b>plain, not html</b> 13900015838\r\n",
	  { { "header Subject", "kept 13900007919" },
	    { "header invalid", "This line is not a header either" },
	    { "body text/plain", "<b>plain, not html</b> 13900015838" } },
	  NULL },
	{ "unread fields left out of a multipart's header",
	  "Received: by x\r\n\tfor <a@b>; Content-Type: text/html\r\n"
	  "Content-Type: multipart/mixed;\r\n boundary=\"b\"\r\n"
	  "X-MS-Has-Attach:\r\nSubject: kept 13900007919\r\n"
	  "DKIM-Signature: v=1;\r\n b=QUJD\r\n\r\n"
	  "preamble 13900023757\r\n"
	  "--b\r\nContent-Type: text/plain\r\n\r\nshown 13900015838\r\n"
	  "--b--\r\n",
	  { { "header Subject", "kept 13900007919" },
	    { "body preamble", "preamble 13900023757" },
	    { "body text/plain", "shown 13900015838" } }, NULL },
	{ "a multipart's header with a line that is no field",
	  "X-Mailer: m\r\nThis line is not a header\r\n"
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: text/plain\r\n\r\nshown\r\n--b--\r\n",
	  { { "header invalid", "This line is not a header" },
	    { "body text/plain", "shown" } }, NULL },
	{ "header without colon",
	  "Subject: hi\r\nThis line is not a header\r\n\r\nthe body\r\n",
	  { { "header Subject", "hi" },
	    { "header invalid", "This line is not a header" },
	    { "body text/plain", "the body" } }, NULL },
	{ "wrong boundary, one text",
	  "Content-Type: multipart/mixed; boundary=zzz\r\n\r\n"
	  "--b\r\nContent-Type: text/plain\r\n\r\ninside\r\n--b--\r\n",
	  { { "body preamble", "inside" } }, NULL },
	{ "preamble and epilogue are text too",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "hidden before 13812345678\r\n"
	  "--b\r\nContent-Type: text/plain\r\n\r\nshown\r\n--b--\r\n"
	  "hidden after\r\n",
	  { { "body preamble", "hidden before 13812345678" },
	    { "body text/plain", "shown" },
	    { "body epilogue", "hidden after" } }, NULL },
};

static struct textseg *
extract(const char *raw, size_t len, const struct message_limits *lim)
{
	struct message_limits	 def;
	struct textseg		*ts = textseg_new();
	char			 err[256] = "";

	assert_non_null(ts);
	if (lim == NULL) {
		message_limits_default(&def);
		lim = &def;
	}
	if (message_extract_buffer(raw, len, lim, ts, err, sizeof err) != 0)
		fail_msg("message_extract_buffer: got -1 (%s), want 0", err);
	return ts;
}

/* What was extracted, for failure messages. */
static void
dump(const struct textseg *ts)
{
	size_t	 i;

	for (i = 0; i < ts->nseg; i++)
		print_message("  seg [%s] type=%s text=%s\n", ts->seg[i].source,
		    ts->seg[i].mime_type ? ts->seg[i].mime_type : "-",
		    ts->seg[i].text ? ts->seg[i].text : "(opaque)");
	for (i = 0; i < ts->nuns; i++)
		print_message("  uns %s at %s\n", ts->uns[i].reason,
		    ts->uns[i].where);
}

static const struct segment *
find(const struct textseg *ts, const char *source, const char *text)
{
	size_t	 i;

	for (i = 0; i < ts->nseg; i++) {
		if (strcmp(ts->seg[i].source, source) != 0)
			continue;
		if (text == NULL && ts->seg[i].text == NULL)
			return &ts->seg[i];
		if (text != NULL && ts->seg[i].text != NULL &&
		    strstr(ts->seg[i].text, text) != NULL)
			return &ts->seg[i];
	}
	return NULL;
}

/* Any segment whose text holds needle. */
static const struct segment *
find_text(const struct textseg *ts, const char *needle)
{
	size_t	 i;

	for (i = 0; i < ts->nseg; i++)
		if (ts->seg[i].text != NULL &&
		    strstr(ts->seg[i].text, needle) != NULL)
			return &ts->seg[i];
	return NULL;
}

static void
check_utf8(const struct textseg *ts, const char *name)
{
	size_t	 i;

	for (i = 0; i < ts->nseg; i++)
		if (ts->seg[i].text != NULL &&
		    !g_utf8_validate(ts->seg[i].text,
		    (gssize)ts->seg[i].text_len, NULL))
			fail_msg("%s: segment %s: text is not valid UTF-8",
			    name, ts->seg[i].source);
}

static void
test_rows(void **state)
{
	struct textseg	*ts;
	size_t		 i, k;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof *rows; i++) {
		const struct mrow *r = &rows[i];

		ts = extract(r->raw, strlen(r->raw), NULL);
		check_utf8(ts, r->name);
		for (k = 0; k < MAXWANT && r->want[k].source != NULL; k++)
			if (find(ts, r->want[k].source, r->want[k].text) ==
			    NULL) {
				dump(ts);
				fail_msg("%s: got no segment [%s] with \"%s\", "
				    "want one", r->name, r->want[k].source,
				    r->want[k].text ? r->want[k].text :
				    "(opaque)");
			}
		if (r->uns == NULL && ts->nuns != 0) {
			dump(ts);
			fail_msg("%s: got %zu unscannable notes, want none",
			    r->name, ts->nuns);
		}
		if (r->uns != NULL && !textseg_has_unscannable(ts, r->uns)) {
			dump(ts);
			fail_msg("%s: got no \"%s\" note, want one", r->name,
			    r->uns);
		}
		textseg_free(ts);
	}
}

/* Whether raw gives the same segments and notes with the unread header
 * fields left out of GMime's parse as with every field read; both
 * printed when not. */
static bool
unread_fields_same(const char *raw, size_t len)
{
	struct textseg	*on, *off;
	bool		 same;

	on = extract(raw, len, NULL);
	assert_true(message_skip_unread_fields(false));
	off = extract(raw, len, NULL);
	assert_false(message_skip_unread_fields(true));
	if (!(same = textseg_same(on, off))) {
		print_message("fields left out:\n");
		dump(on);
		print_message("fields read:\n");
		dump(off);
	}
	textseg_free(on);
	textseg_free(off);
	return same;
}

/* Leaving the unread header fields out of GMime's parse changes nothing
 * but its cost: every row, and every row behind a header of realistic
 * fields, gives the same with the fields read. */
static void
test_rows_unread_fields_same(void **state)
{
	static const char extra[] =
	    "Received: from a.example.com (a.example.com [192.0.2.1])\r\n"
	    "\tby mx.example.net (Postfix) with ESMTPS id 4ABC\r\n"
	    "DKIM-Signature: v=1; a=rsa-sha256; d=example.com;\r\n"
	    " b=QUJDREVG\r\nX-MS-Has-Attach:\r\nThread-Index: AdnCkLzq\r\n";
	char		*raw;
	size_t		 i, k;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof *rows; i++)
		for (k = 0; k < 2; k++) {
			raw = g_strconcat(k ? extra : "", rows[i].raw, NULL);
			if (!unread_fields_same(raw, strlen(raw)))
				fail_msg("%s%s: differs with the unread fields "
				    "left out", rows[i].name,
				    k ? " (behind more fields)" : "");
			g_free(raw);
		}
}

/* The same where GMime's reads end inside an invalid header line: what
 * it reports of such a line stops at the end of its read buffer, so a
 * header shortened by the fields left out would move that cut.  An
 * invalid line of 300 bytes in the top header and in a part's header,
 * behind 0 to 119 fields that are left out, sweeps it across the 4 KB
 * boundaries. */
static void
test_unread_fields_read_ends(void **state)
{
	GString		*m = g_string_new(NULL);
	size_t		 k, i, multi;
	char		 bad[301];

	(void)state;
	for (i = 0; i < 300; i++)
		bad[i] = "abc 13900007919 xyz "[i % 20];
	bad[300] = '\0';
	for (multi = 0; multi < 2; multi++)
		for (k = 0; k < 120; k++) {
			g_string_truncate(m, 0);
			for (i = 0; i < k; i++)
				g_string_append_printf(m, "X-Field-%zu: value "
				    "%zu of a field nobody reads\r\n", i, i);
			if (!multi)
				g_string_append_printf(m, "Subject: s\r\n"
				    "%s\r\n\r\nbody 13900015838\r\n", bad);
			else
				g_string_append_printf(m, "Content-Type: "
				    "multipart/mixed; boundary=b\r\n\r\n--b\r\n"
				    "%s\r\nContent-Type: text/plain\r\n\r\n"
				    "shown 13900015838\r\n--b--\r\n", bad);
			if (!unread_fields_same(m->str, m->len))
				fail_msg("%s behind %zu fields: differs with the "
				    "unread fields left out", multi ? "a part's "
				    "invalid line" : "an invalid line", k);
		}
	g_string_free(m, TRUE);
}

/* The fields of a segment, not just its text. */
static void
test_fields(void **state)
{
	static const char raw[] =
	    "Subject: f\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: TEXT/Plain; charset=GBK\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nv827pw==\r\n"
	    "--b\r\nContent-Type: image/png\r\n"
	    "Content-Disposition: attachment; filename=\"logo.jpg\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n" PNG_B64 "\r\n"
	    "--b--\r\n";
	struct textseg		*ts;
	const struct segment	*s;

	(void)state;
	ts = extract(raw, sizeof raw - 1, NULL);
	if ((s = find(ts, "body text/plain", KEHU2)) == NULL) {
		dump(ts);
		fail_msg("no text/plain segment");
	}
	assert_string_equal(s->mime_type, "text/plain");
	assert_string_equal(s->charset, "GBK");
	assert_string_equal(s->encoding, "base64");
	assert_int_equal(s->raw_len, 4);
	assert_int_equal(s->text_len, 6);
	assert_null(s->sniffed_type);

	/* Named .jpg, but the bytes are PNG: both are reported. */
	if ((s = find(ts, "attachment \"logo.jpg\"", NULL)) == NULL) {
		dump(ts);
		fail_msg("no opaque attachment segment");
	}
	assert_string_equal(s->mime_type, "image/png");
	assert_string_equal(s->sniffed_type, "image/png");
	assert_string_equal(s->filename, "logo.jpg");
	if (s->raw_len != PNG_LEN)
		fail_msg("raw_len: got %zu, want %d", s->raw_len, PNG_LEN);
	assert_null(s->charset);

	s = find(ts, "attachment name", "logo.jpg");
	assert_non_null(s);
	assert_string_equal(s->filename, "logo.jpg");

	s = find(ts, "header Subject", "f");
	assert_non_null(s);
	assert_null(s->mime_type);
	textseg_free(ts);
}

/* A body with NUL bytes: kept as text, the NULs dropped. */
static void
test_nul_bytes(void **state)
{
	static const char raw[] =
	    "Subject: nul\r\nContent-Type: text/plain\r\n\r\n"
	    "138\0" "1234\0" "5678\r\n";
	struct textseg	*ts;

	(void)state;
	ts = extract(raw, sizeof raw - 1, NULL);
	if (find(ts, "body text/plain", "13812345678") == NULL) {
		dump(ts);
		fail_msg("got no joined number, want 13812345678");
	}
	textseg_free(ts);
}

static char *
long_header_message(size_t n)
{
	GString	*g = g_string_new("X-Long: ");
	size_t	 i;

	for (i = 0; i < n; i++)
		g_string_append_c(g, (char)('a' + i % 26));
	g_string_append(g, "\r\nSubject: after the long one\r\n"
	    "Content-Type: text/plain\r\n\r\nbody survives\r\n");
	return g_string_free(g, FALSE);
}

static void
test_header_size(void **state)
{
	struct message_limits	 lim;
	struct textseg		*ts;
	char			*raw = long_header_message(1024 * 1024);

	(void)state;
	/* Default limit (1 MiB) is just above this block... */
	ts = extract(raw, strlen(raw), NULL);
	if (find(ts, "body text/plain", "body survives") == NULL) {
		dump(ts);
		fail_msg("default limits: got no body, want one");
	}
	textseg_free(ts);

	/* ... a smaller one notes it, drops the header segments, keeps the
	 * body. */
	message_limits_default(&lim);
	lim.max_header_bytes = 64 * 1024;
	ts = extract(raw, strlen(raw), &lim);
	if (!textseg_has_unscannable(ts, "header-size")) {
		dump(ts);
		fail_msg("got no header-size note, want one");
	}
	assert_string_equal(ts->uns[0].where, "message");
	assert_null(find(ts, "header Subject", "after"));
	assert_non_null(find(ts, "body text/plain", "body survives"));
	textseg_free(ts);
	g_free(raw);
}

/* n multiparts nested in each other, a text at the bottom. */
static char *
nested_message(size_t n)
{
	GString	*g = g_string_new("Subject: deep\r\n");
	size_t	 i;

	for (i = 0; i < n; i++)
		g_string_append_printf(g, "Content-Type: multipart/mixed; "
		    "boundary=b%zu\r\n\r\n--b%zu\r\n", i, i);
	g_string_append(g, "Content-Type: text/plain\r\n\r\nbottom text\r\n");
	for (i = n; i-- > 0; )
		g_string_append_printf(g, "--b%zu--\r\n", i);
	return g_string_free(g, FALSE);
}

static void
test_depth(void **state)
{
	struct message_limits	 lim;
	struct textseg		*ts;
	char			*raw = nested_message(30);

	(void)state;
	message_limits_default(&lim);
	lim.max_depth = 5;
	ts = extract(raw, strlen(raw), &lim);
	if (!textseg_has_unscannable(ts, "depth")) {
		dump(ts);
		fail_msg("got no depth note, want one");
	}
	assert_string_equal(ts->uns[0].where, "body multipart/mixed");
	assert_null(find_text(ts, "bottom text"));
	assert_non_null(find(ts, "header Subject", "deep"));
	textseg_free(ts);

	/* Within the default limit of 20 the bottom is reached. */
	raw = (g_free(raw), nested_message(15));
	ts = extract(raw, strlen(raw), NULL);
	if (find(ts, "body text/plain", "bottom text") == NULL) {
		dump(ts);
		fail_msg("depth 15: got no bottom text, want it");
	}
	assert_int_equal(ts->nuns, 0);
	textseg_free(ts);
	g_free(raw);
}

/* Attached messages count as depth too, and their path says where. */
static void
test_depth_messages(void **state)
{
	struct message_limits	 lim;
	struct textseg		*ts;
	GString			*g = g_string_new("");
	size_t			 i;

	(void)state;
	for (i = 0; i < 10; i++)
		g_string_append(g, "Subject: level\r\n"
		    "Content-Type: message/rfc822\r\n\r\n");
	g_string_append(g, "Subject: bottom\r\n\r\nbottom text\r\n");
	message_limits_default(&lim);
	lim.max_depth = 3;
	ts = extract(g->str, g->len, &lim);
	if (!textseg_has_unscannable(ts, "depth")) {
		dump(ts);
		fail_msg("got no depth note, want one");
	}
	assert_null(find_text(ts, "bottom text"));
	assert_non_null(find(ts, "attachment \"message\" > header Subject",
	    "level"));
	assert_non_null(strstr(ts->uns[0].where,
	    "attachment \"message\" > attachment \"message\""));
	textseg_free(ts);
	g_string_free(g, TRUE);
}

static char *
many_parts_message(size_t n)
{
	GString	*g = g_string_new("Subject: many\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	size_t	 i;

	for (i = 0; i < n; i++)
		g_string_append_printf(g, "--b\r\nContent-Type: text/plain\r\n"
		    "\r\npart %zu\r\n", i);
	g_string_append(g, "--b--\r\n");
	return g_string_free(g, FALSE);
}

static void
test_parts(void **state)
{
	struct message_limits	 lim;
	struct textseg		*ts;
	char			*raw = many_parts_message(50);

	(void)state;
	message_limits_default(&lim);
	lim.max_parts = 10;
	ts = extract(raw, strlen(raw), &lim);
	if (!textseg_has_unscannable(ts, "parts")) {
		dump(ts);
		fail_msg("got no parts note, want one");
	}
	/* The multipart is part 1, so parts 0..8 are read. */
	assert_non_null(find(ts, "body text/plain", "part 8"));
	assert_null(find_text(ts, "part 9"));
	assert_int_equal(ts->nuns, 1);
	textseg_free(ts);

	ts = extract(raw, strlen(raw), NULL);
	assert_non_null(find(ts, "body text/plain", "part 49"));
	assert_int_equal(ts->nuns, 0);
	textseg_free(ts);
	g_free(raw);
}

/* 100000 nested multiparts would blow GMime's stack; the pre-scan must
 * refuse it before GMime sees it, and quickly, and keep the raw text. */
static void
test_nesting_bomb(void **state)
{
	struct textseg	*ts;
	char		*raw = nested_message(100000);
	gint64		 t0 = g_get_monotonic_time(), dt;

	(void)state;
	ts = extract(raw, strlen(raw), NULL);
	dt = g_get_monotonic_time() - t0;
	if (!textseg_has_unscannable(ts, "parts")) {
		dump(ts);
		fail_msg("got no parts note, want one");
	}
	assert_string_equal(ts->uns[0].where, "message");
	if (find(ts, "body raw", "bottom text") == NULL)
		fail_msg("got no raw body segment with the text, want one");
	if (dt > 10 * G_USEC_PER_SEC)
		fail_msg("took %lld us, want well under 10 s", (long long)dt);
	textseg_free(ts);
	g_free(raw);
}

/* Folded and oddly spaced Content-Type lines count in the pre-scan. */
static void
test_prescan_folded(void **state)
{
	struct message_limits	 lim;
	struct textseg		*ts;
	GString			*g = g_string_new("");
	size_t			 i;

	(void)state;
	for (i = 0; i < 20; i++)
		g_string_append_printf(g, "content-TYPE :\r\n"
		    "\tMultipart/Mixed; boundary=b%zu\r\n\r\n--b%zu\r\n", i, i);
	g_string_append(g, "\r\nx\r\n");
	message_limits_default(&lim);
	lim.max_parts = 10;
	ts = extract(g->str, g->len, &lim);
	if (!textseg_has_unscannable(ts, "parts") ||
	    find(ts, "body raw", "x") == NULL) {
		dump(ts);
		fail_msg("got no pre-scan refusal, want one");
	}
	textseg_free(ts);
	g_string_free(g, TRUE);
}

static void
test_text_size(void **state)
{
	static const char raw[] =
	    "Subject: t\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	    "0123456789012345678901234567890123456789" KEHU KEHU KEHU
	    "0123456789012345678901234567890123456789\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nlater text\r\n"
	    "--b\r\nContent-Type: application/zip; name=a.zip\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nUEsDBBQAAAAIAA==\r\n"
	    "--b--\r\n";
	struct message_limits	 lim;
	struct textseg		*ts;
	const struct segment	*s;
	size_t			 i, n;

	(void)state;
	message_limits_default(&lim);
	lim.max_text_bytes = 50;
	ts = extract(raw, sizeof raw - 1, &lim);
	check_utf8(ts, "text-size");
	if (!textseg_has_unscannable(ts, "text-size")) {
		dump(ts);
		fail_msg("got no text-size note, want one");
	}
	if (ts->text_bytes > 50)
		fail_msg("text_bytes: got %zu, want <= 50", ts->text_bytes);
	/* Cut on a character boundary: 1 (subject) + 40 + 3 x 3. */
	s = find(ts, "body text/plain", "0123");
	assert_non_null(s);
	if (s->text_len != 49)
		fail_msg("text_len: got %zu, want 49", s->text_len);
	/* Later text is an opaque segment, later attachments still show. */
	assert_null(find_text(ts, "later text"));
	assert_non_null(find(ts, "body text/plain", NULL));
	s = find(ts, "attachment \"a.zip\"", NULL);
	assert_non_null(s);
	assert_string_equal(s->sniffed_type, "application/zip");
	for (i = n = 0; i < ts->nuns; i++)
		n += strcmp(ts->uns[i].reason, "text-size") == 0;
	if (n != 1)
		fail_msg("text-size notes: got %zu, want 1", n);
	textseg_free(ts);
}

static void
test_time(void **state)
{
	struct message_limits	 lim;
	struct textseg		*ts;
	char			*raw = many_parts_message(200);

	(void)state;
	message_limits_default(&lim);
	lim.max_seconds = 1e-6;
	ts = extract(raw, strlen(raw), &lim);
	if (!textseg_has_unscannable(ts, "time")) {
		dump(ts);
		fail_msg("got no time note, want one");
	}
	assert_null(find_text(ts, "part 199"));
	textseg_free(ts);
	g_free(raw);
}

/* Random bytes: GMime finds no message; the raw bytes are kept. */
static void
test_not_a_message(void **state)
{
	unsigned char	 buf[3000];
	unsigned int	 seed = 42;
	size_t		 i;
	struct textseg	*ts;

	(void)state;
	for (i = 0; i < sizeof buf; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
	buf[0] = 0x00;	/* no header name starts with NUL */
	ts = extract((const char *)buf, sizeof buf, NULL);
	check_utf8(ts, "random");
	if (!textseg_has_unscannable(ts, "parse") ||
	    find(ts, "body raw", "") == NULL) {
		dump(ts);
		fail_msg("got no parse note and raw body, want both");
	}
	assert_int_equal(find(ts, "body raw", "")->raw_len, sizeof buf);
	textseg_free(ts);

	/* Empty input: nothing to parse, no crash. */
	ts = extract("", 0, NULL);
	textseg_free(ts);
}

/* Garbage shaped like MIME: no crash, valid UTF-8, rc 0. */
static void
test_fuzzish(void **state)
{
	static const char *pieces[] = {
		"Content-Type: multipart/mixed; boundary=a\r\n",
		"Content-Type: message/rfc822\r\n",
		"Content-Transfer-Encoding: base64\r\n",
		"Content-Transfer-Encoding: quoted-printable\r\n",
		("Content-Disposition: attachment; filename*0*=utf-8''%E5%AE;"
		    " filename*1*=%A2\r\n"),
		"\r\n", "--a\r\n", "--a--\r\n", "=E5=\r\n", "!!!!\r\n",
		"Subject: =?x?q?=ff?=\r\n", "\xbf\xcd\r\n", "<p>&#x0;</p>\r\n",
		"begin 644 x\r\n", "Content-Type: text/html; charset=big5\r\n",
	};
	unsigned int	 seed = 7;
	GString		*g;
	struct textseg	*ts;
	size_t		 k, i;

	(void)state;
	for (k = 0; k < 300; k++) {
		g = g_string_new("Subject: fuzz\r\n");
		for (i = 0; i < 40; i++) {
			seed = seed * 1103515245u + 12345u;
			g_string_append(g, pieces[(seed >> 16) %
			    (sizeof pieces / sizeof *pieces)]);
		}
		ts = extract(g->str, g->len, NULL);
		check_utf8(ts, "fuzz");
		textseg_free(ts);
		g_string_free(g, TRUE);
	}
}

/* message_extract() on a stream gives what the buffer call gives. */
static void
test_stream(void **state)
{
	static const char raw[] =
	    "Subject: stream\r\nContent-Type: text/plain; charset=gbk\r\n\r\n"
	    KEHU_GBK "\r\n";
	struct message_limits	 lim;
	struct textseg		*ts = textseg_new();
	GMimeStream		*st;
	char			 err[128];

	(void)state;
	message_limits_default(&lim);
	st = g_mime_stream_mem_new_with_buffer(raw, sizeof raw - 1);
	/* Read once already: message_extract rewinds it. */
	(void)g_mime_stream_read(st, err, 10);
	assert_int_equal(message_extract(st, raw, sizeof raw - 1, &lim, ts,
	    err, sizeof err), 0);
	assert_non_null(find(ts, "header Subject", "stream"));
	assert_non_null(find(ts, "body text/plain", KEHU));
	g_object_unref(st);
	textseg_free(ts);

	ts = textseg_new();
	assert_int_equal(message_extract(NULL, raw, 1, &lim, ts, err,
	    sizeof err), -1);
	assert_true(err[0] != '\0');
	assert_int_equal(message_extract_buffer(NULL, 5, &lim, ts, err,
	    sizeof err), -1);
	textseg_free(ts);
}

static void
test_limits_default(void **state)
{
	struct message_limits	 lim;

	(void)state;
	message_limits_default(&lim);
	assert_int_equal(lim.max_depth, 20);
	assert_int_equal(lim.max_parts, 1000);
	assert_int_equal(lim.max_header_bytes, 1024 * 1024);
	assert_int_equal(lim.max_text_bytes, 64 * 1024 * 1024);
	assert_true(lim.max_seconds == 20);
}

static int
setup(void **state)
{
	(void)state;
	message_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	message_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_default),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_rows_unread_fields_same),
		cmocka_unit_test(test_unread_fields_read_ends),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_header_size),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_depth_messages),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_nesting_bomb),
		cmocka_unit_test(test_prescan_folded),
		cmocka_unit_test(test_text_size),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_not_a_message),
		cmocka_unit_test(test_fuzzish),
		cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
