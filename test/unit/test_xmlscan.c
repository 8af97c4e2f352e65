/* test_xmlscan.c - unit tests for the streaming XML tokenizer
 * (src/extract/xmlscan.c).
 *
 * Each event is recorded as a line: "S name a=v ..." for a start tag,
 * "E name" for an end tag, "T text" for text; a document is compared
 * by its whole event log, fed in one chunk, byte by byte, and split in
 * two at every point. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <glib.h>

#include "extract/xmlscan.h"

struct rec {
	GString	*log;
	int	 stop_at;	/* event number that asks to stop; 0 never */
	int	 events;
	int	 cells;		/* ops->cell calls */
};

static int
rec_event(struct rec *r)
{
	return ++r->events == r->stop_at;
}

static int
rec_start(void *arg, const char *name, const char **an, const char **av)
{
	struct rec *r = arg;
	size_t i;

	g_string_append_printf(r->log, "S %s", name);
	for (i = 0; an[i] != NULL; i++)
		g_string_append_printf(r->log, " %s=%s", an[i], av[i]);
	assert_null(av[i]);
	g_string_append_c(r->log, '\n');
	return rec_event(r);
}

static int
rec_end(void *arg, const char *name)
{
	struct rec *r = arg;

	g_string_append_printf(r->log, "E %s\n", name);
	return rec_event(r);
}

/* "T text", as a text event is logged; nothing for no text. */
static void
log_text(struct rec *r, const char *text, size_t len)
{
	if (len == 0)
		return;
	g_string_append(r->log, "T ");
	g_string_append_len(r->log, text, (gssize)len);
	g_string_append_c(r->log, '\n');
}

static int
rec_text(void *arg, const char *text, size_t len)
{
	struct rec *r = arg;

	assert_true(len > 0);
	log_text(r, text, len);
	return rec_event(r);
}

static const struct xmlscan_ops rec_ops = { rec_start, rec_end, rec_text,
    NULL, NULL };

/* Feeds doc in chunks cut at the offsets cuts[0 .. ncuts), then ends
 * it: the error (XMLSCAN_OK when none) and, in *log, the events. */
static enum xmlscan_err
ops_cut(const struct xmlscan_ops *ops, const char *doc, size_t len,
    const size_t *cuts, size_t ncuts, size_t depth, int stop_at, char **log,
    int *cells)
{
	struct rec r = { g_string_new(NULL), stop_at, 0, 0 };
	struct xmlscan *s = xmlscan_new(ops, &r, depth);
	enum xmlscan_err err;
	size_t i, from = 0, to;
	int rc = 0;

	for (i = 0; i <= ncuts && rc == 0; i++) {
		to = i < ncuts ? cuts[i] : len;
		rc = xmlscan_feed(s, doc + from, to - from);
		from = to;
	}
	if (rc == 0)
		rc = xmlscan_end(s);
	err = xmlscan_error(s);
	assert_true((rc == 0) == (err == XMLSCAN_OK));
	s = xmlscan_free(s);
	if (log != NULL)
		*log = g_string_free(r.log, FALSE);
	else
		g_string_free(r.log, TRUE);
	if (cells != NULL)
		*cells = r.cells;
	return err;
}

static enum xmlscan_err
scan_cut(const char *doc, size_t len, const size_t *cuts, size_t ncuts,
    size_t depth, int stop_at, char **log)
{
	return ops_cut(&rec_ops, doc, len, cuts, ncuts, depth, stop_at, log,
	    NULL);
}

static enum xmlscan_err
scan(const char *doc, size_t depth, char **log)
{
	return scan_cut(doc, strlen(doc), NULL, 0, depth, 0, log);
}

/* One chunk, every two-chunk split and byte by byte agree: the same
 * events, the same error. */
static void
check_doc(const char *doc, enum xmlscan_err want, const char *want_log)
{
	size_t len = strlen(doc), cut, i, *cuts;
	enum xmlscan_err err;
	char *log, *other;

	err = scan(doc, 64, &log);
	if (err != want || (want_log != NULL && strcmp(log, want_log) != 0))
		fail_msg("doc %s: got error %d, events\n%s\nwant %d\n%s", doc,
		    err, log, want, want_log != NULL ? want_log : "");
	for (cut = 1; cut < len; cut++) {
		err = scan_cut(doc, len, &cut, 1, 64, 0, &other);
		if (err != want || strcmp(log, other) != 0)
			fail_msg("doc %s cut at %zu: got %d\n%s\nwant %d\n%s",
			    doc, cut, err, other, want, log);
		g_free(other);
	}
	cuts = g_new(size_t, len);
	for (i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	err = scan_cut(doc, len, cuts, len > 0 ? len - 1 : 0, 64, 0, &other);
	if (err != want || strcmp(log, other) != 0)
		fail_msg("doc %s byte by byte: got %d\n%s\nwant %d\n%s", doc,
		    err, other, want, log);
	g_free(other);
	g_free(cuts);
	g_free(log);
}

static void
test_entities(void **state)
{
	(void)state;
	check_doc("<a>x &lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x4e2d;"
	    "&#128512;&#0065;</a>", XMLSCAN_OK,
	    "S a\nT x <>&\"' AB\xe4\xb8\xad\xf0\x9f\x98\x80" "A\nE a\n");
	/* &#xD; is kept, a literal CR or CRLF is a line feed. */
	check_doc("<a>1\r\n2\r3&#xD;4\n</a>", XMLSCAN_OK,
	    "S a\nT 1\n2\n3\r4\n\nE a\n");
}

static void
test_bad_refs(void **state)
{
	static const char *const docs[] = {
		"<a>&foo;</a>", "<a>&lt</a>", "<a>& x;</a>", "<a>&#;</a>",
		"<a>&#x;</a>", "<a>&#0;</a>", "<a>&#xD800;</a>",
		"<a>&#x110000;</a>", "<a>&#xFFFE;</a>", "<a>&#X41;</a>",
		"<a>&#99999999999999999999;</a>", "<a b='&foo;'/>",
		"<a b='&amp'/>",
		"<a>&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;</a>",
		/* billion laughs: the DOCTYPE's entities are never defined
		 * (one string: parentheses keep clang from taking the two
		 * lines for a missing comma) */
		("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol2 \"&lol;&lol;&lol;\">]><lolz>&lol2;</lolz>"),
	};
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(docs); i++)
		check_doc(docs[i], XMLSCAN_BAD, NULL);
}

static void
test_skipped(void **state)
{
	(void)state;
	check_doc("\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<!DOCTYPE a [<!ENTITY x \"<y>\">]>\n<!-- c > -- - -->"
	    "<a><?pi x > ? y?>t<!---->u<!-- <b> ---></a>\n<!-- end -->\n",
	    XMLSCAN_OK, "S a\nT t\nT u\nE a\n");
}

static void
test_cdata(void **state)
{
	(void)state;
	check_doc("<a>1<![CDATA[<b>&amp;]]]>2<![CDATA[]]><![CDATA[]]]]>"
	    "</a>", XMLSCAN_OK, "S a\nT 1\nT <b>&amp;]\nT 2\nT ]]\nE a\n");
	check_doc("<![CDATA[x]]><a/>", XMLSCAN_OK, "S a\nE a\n");
	check_doc("<a><![CDATA[x]]</a>", XMLSCAN_BAD, NULL);
}

static void
test_attributes(void **state)
{
	(void)state;
	check_doc("<p:a x='1 &amp; \"2\"' p:y = \"&lt;'&#x9;'\" "
	    "z=\"a\tb\r\nc\nd\" w=''\n/>", XMLSCAN_OK,
	    "S a x=1 & \"2\" p:y=<'\t' z=a b c d w=\nE a\n");
	check_doc("<a b=\"/>\" c='>'><b\n/><c  ></c ></a >", XMLSCAN_OK,
	    "S a b=/> c=>\nS b\nE b\nS c\nE c\nE a\n");
	check_doc("<\xe5\xae\xa2 \xe6\x88\xb7='\xe6\x9d\x8e'>"
	    "\xe7\xa3\x8a</\xe5\xae\xa2>", XMLSCAN_OK,
	    "S \xe5\xae\xa2 \xe6\x88\xb7=\xe6\x9d\x8e\nT \xe7\xa3\x8a\n"
	    "E \xe5\xae\xa2\n");
}

static void
test_bad_syntax(void **state)
{
	static const char *const docs[] = {
		"<a><b></a></b>", "<a></b>", "</a>", "<a>x</a></a>",
		"<a b></a>", "<a b=c></a>", "<a b='c></a>", "<a/ >",
		"<a\"b\"/>", "< a/>", "<1a/>", "<a>x<</a>", "<a><!x></a>",
		"<a b='\xff'/>", "<a>\xc0\x80</a>", "<a>\xed\xa0\x80</a>",
		"<a>\xf4\x90\x80\x80</a>", "<a>\xe4\xb8</a>",
		"<\xff/>", "x<a/>", "<a/>x", "<a/>&amp;", "\xef\xbb<a/>",
		"", "  \n", "<a b='1' b c/>",
	};
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(docs); i++)
		check_doc(docs[i], XMLSCAN_BAD, NULL);
	/* a NUL inside text or a value is not UTF-8 for GMarkup either */
	assert_int_equal(scan_cut("<a>x\0y</a>", 10, NULL, 0, 64, 0, NULL),
	    XMLSCAN_BAD);
	assert_int_equal(scan_cut("<a b='\0'/>", 10, NULL, 0, 64, 0, NULL),
	    XMLSCAN_BAD);
}

/* End tags against names short and long (past 16 bytes names are
 * copied another way), cut anywhere: a name that differs, is a prefix
 * of the open one or runs past it is bad. */
static void
test_end_names(void **state)
{
	static const char *const bad[] = {
		"<abc></abd>", "<abc></ab>", "<ab></abc>", "<abc></abc",
		"<p:abc></abc>", "<abcdefghijklmnopqrstu></abcdefghijklmnopqrst>",
		"<abcdefghijklmnopqrstu></abcdefghijklmnopqrstuv>",
		"<abcdefghijklmnopqrstu></Abcdefghijklmnopqrstu>",
	};
	size_t i;

	(void)state;
	check_doc("<p:abcdefghijklmnopqrstu q:attributenamelongerthan16='v' "
	    "c='w'><x:y/></p:abcdefghijklmnopqrstu \n>", XMLSCAN_OK,
	    "S abcdefghijklmnopqrstu q:attributenamelongerthan16=v c=w\n"
	    "S y\nE y\nE abcdefghijklmnopqrstu\n");
	check_doc("<c r=\"A1\" t=\"s\"><v>12</v></c>", XMLSCAN_OK,
	    "S c r=A1 t=s\nS v\nT 12\nE v\nE c\n");
	for (i = 0; i < G_N_ELEMENTS(bad); i++)
		check_doc(bad[i], XMLSCAN_BAD, NULL);
}

static void
test_roots(void **state)
{
	(void)state;
	/* GMarkup took several top-level elements: so does xmlscan. */
	check_doc(" <a/>\n<b>x</b> ", XMLSCAN_OK,
	    "S a\nE a\nS b\nT x\nE b\n");
	check_doc("<!-- only a comment -->", XMLSCAN_OK, "");
}

static void
test_depth(void **state)
{
	char *log;

	(void)state;
	assert_int_equal(scan("<a><b><c/></b></a>", 3, NULL), XMLSCAN_OK);
	assert_int_equal(scan("<a><b><c><d/></c></b></a>", 3, &log),
	    XMLSCAN_DEEP);
	assert_string_equal(log, "S a\nS b\nS c\n");
	g_free(log);
	assert_int_equal(scan("<a/><b><c/></b>", 1, NULL), XMLSCAN_DEEP);
}

static void
test_tag_max(void **state)
{
	GString *doc = g_string_new("<a b=\"");
	size_t cuts[64], i;

	(void)state;
	while (doc->len < XMLSCAN_TAG_MAX - 1)
		g_string_append_c(doc, 'x');
	/* between < and >, exactly the most: fine */
	g_string_append(doc, "\"/>");
	assert_int_equal(scan(doc->str, 8, NULL), XMLSCAN_OK);
	g_string_truncate(doc, doc->len - 3);
	g_string_append(doc, "x\"/>");
	assert_int_equal(scan(doc->str, 8, NULL), XMLSCAN_BAD);
	for (i = 0; i < G_N_ELEMENTS(cuts); i++)
		cuts[i] = (i + 1) * (doc->len / (G_N_ELEMENTS(cuts) + 1));
	assert_int_equal(scan_cut(doc->str, doc->len, cuts,
	    G_N_ELEMENTS(cuts), 8, 0, NULL), XMLSCAN_BAD);
	/* never closed: refused once past the bound, not held */
	g_string_truncate(doc, doc->len - 3);
	assert_int_equal(scan_cut(doc->str, doc->len, cuts,
	    G_N_ELEMENTS(cuts), 8, 0, NULL), XMLSCAN_BAD);
	g_string_free(doc, TRUE);
}

static void
test_long_text(void **state)
{
	GString *doc = g_string_new("<a>");
	struct rec r = { g_string_new(NULL), 0, 0, 0 };
	struct xmlscan *s = xmlscan_new(&rec_ops, &r, 8);
	size_t i, n = 0;
	const char *p;

	(void)state;
	/* Three-byte characters, fed in odd chunks: pieces are whole
	 * characters and together the text. */
	for (i = 0; i < XMLSCAN_TEXT_MAX; i++)
		g_string_append(doc, "\xe4\xb8\xad");
	g_string_append(doc, "</a>");
	for (i = 0; i < doc->len; i += 4097)
		assert_int_equal(xmlscan_feed(s, doc->str + i,
		    MIN(4097, doc->len - i)), 0);
	assert_int_equal(xmlscan_end(s), 0);
	assert_true(r.events > 3);
	for (p = r.log->str; (p = strstr(p, "T ")) != NULL; p += 2)
		n += strcspn(p + 2, "\n");
	assert_int_equal(n, 3 * XMLSCAN_TEXT_MAX);
	s = xmlscan_free(s);
	g_string_free(r.log, TRUE);
	g_string_free(doc, TRUE);
}

static void
test_truncated(void **state)
{
	static const char *const docs[] = {
		"<a><b>text", "<a", "<a b='1", "<a><!-- x", "<a><![CDATA[x",
		"<?xml", "<!DOCTYPE a [", "<a>&amp", "<a>x</a", "<", "<!-",
		"\xef\xbb\xbf",
	};
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(docs); i++)
		check_doc(docs[i], XMLSCAN_BAD, NULL);
}

static void
test_stop(void **state)
{
	static const char doc[] = "<a><b x='1'>t</b><c/></a>";
	char *log;
	int at;

	(void)state;
	for (at = 1; at <= 5; at++) {
		assert_int_equal(scan_cut(doc, strlen(doc), NULL, 0, 8, at,
		    &log), XMLSCAN_STOP);
		g_free(log);
	}
	assert_int_equal(scan_cut(doc, strlen(doc), NULL, 0, 8, 8, NULL),
	    XMLSCAN_OK);
}

/* Text runs of 16 bytes and more are scanned 16 at a time: stops,
 * references, CRs, non-ASCII and bad bytes at every offset of a block,
 * cut anywhere by check_doc(). */
static void
test_long_runs(void **state)
{
	GString *doc = g_string_new(NULL), *want = g_string_new(NULL);
	static const char *const bad[] = { "\xff", "\xc0\x80", "\xe4\xb8" };
	size_t at, i;

	(void)state;
	for (at = 0; at < 40; at += 3) {
		g_string_assign(doc, "<a>");
		g_string_assign(want, "S a\nT ");
		for (i = 0; i < at; i++) {
			g_string_append_c(doc, (char)('a' + i % 26));
			g_string_append_c(want, (char)('a' + i % 26));
		}
		g_string_append(doc, "&amp;\xe4\xb8\xad\r\n0123456789abcdefghij"
		    "</a>");
		g_string_append(want, "&\xe4\xb8\xad\n0123456789abcdefghij\n"
		    "E a\n");
		check_doc(doc->str, XMLSCAN_OK, want->str);
		/* a character alone in a long run, then markup */
		g_string_assign(doc, "<a>");
		g_string_assign(want, "S a\nT ");
		for (i = 0; i < at; i++) {
			g_string_append_c(doc, 'x');
			g_string_append_c(want, 'x');
		}
		g_string_append(doc, "\xc3\xa9yyyyyyyyyyyyyyyyy<b/></a>");
		g_string_append(want, "\xc3\xa9yyyyyyyyyyyyyyyyy\nS b\nE b\n"
		    "E a\n");
		check_doc(doc->str, XMLSCAN_OK, want->str);
		for (i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_string_assign(doc, "<a>");
			g_string_append_len(doc, "0123456789abcdefghij"
			    "0123456789abcdefghij", (gssize)at);
			g_string_append(doc, bad[i]);
			g_string_append(doc, "0123456789abcdefghij</a>");
			check_doc(doc->str, XMLSCAN_BAD, NULL);
		}
	}
	g_string_free(doc, TRUE);
	g_string_free(want, TRUE);
	/* a NUL in a long run */
	assert_int_equal(scan_cut("<a>0123456789abcdef\0ghij</a>", 28, NULL,
	    0, 64, 0, NULL), XMLSCAN_BAD);
}

/* Text with non-ASCII is checked as UTF-8: ASCII between characters 16
 * bytes at a time, three-byte characters without a call unless their
 * lead bounds the next byte (E0, ED).  Every lead class, good and bad,
 * after ASCII runs of every length up to two blocks, cut anywhere. */
static void
test_utf8_text(void **state)
{
	static const struct {
		const char	*chars;
		bool		 good;
	} rows[] = {
		{ "\xe4\xb8\xad\xe6\x96\x87", true },	/* E1 .. EC */
		{ "\xee\x80\x80\xef\xbf\xbd", true },	/* EE, EF */
		{ "\xe0\xa0\x80\xed\x9f\xbf", true },	/* E0, ED bounds */
		{ "\xc3\xa9\xf0\x9f\x98\x80", true },	/* two, four bytes */
		{ "\xe0\x80\x80", false },	/* overlong */
		{ "\xed\xa0\x80", false },	/* surrogate */
		{ "\xe4\x41\x80", false },
		{ "\xe4\xb8\x41", false },
		{ "\xef\xbf", false },		/* cut by the markup */
		{ "\xf4\x90\x80\x80", false },
		{ "\x80", false },
	};
	GString *doc = g_string_new(NULL), *want = g_string_new(NULL);
	size_t at, i, k;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(rows); i++)
		for (at = 0; at <= 32; at += 5) {
			/* a character first, so that the text is checked */
			g_string_assign(doc, "<a>\xe4\xb8\xad");
			for (k = 0; k < at; k++)
				g_string_append_c(doc, (char)('a' + k % 26));
			g_string_append(doc, rows[i].chars);
			g_string_append(doc, "0123456789abcdefghij\xe6\x96\x87");
			g_string_printf(want, "S a\nT %s\nE a\n", doc->str + 3);
			g_string_append(doc, "</a>");
			check_doc(doc->str, rows[i].good ? XMLSCAN_OK : XMLSCAN_BAD,
			    rows[i].good ? want->str : NULL);
		}
	g_string_free(doc, TRUE);
	g_string_free(want, TRUE);
	/* a NUL in an ASCII run after a character */
	assert_int_equal(scan_cut("<a>\xe4\xb8\xad" "0123456789abcdef\0ghij</a>",
	    31, NULL, 0, 64, 0, NULL), XMLSCAN_BAD);
}

/* Values of 16 bytes and more are copied 16 at a time up to the first
 * byte that may end them; names of 16 bytes and more compared and
 * copied another way. */
static void
test_long_values(void **state)
{
	GString *doc = g_string_new(NULL), *want = g_string_new(NULL);
	size_t at, i;

	(void)state;
	for (at = 0; at < 40; at += 3) {
		g_string_assign(doc, "<a v=\"");
		g_string_assign(want, "S a v=");
		for (i = 0; i < at; i++) {
			g_string_append_c(doc, (char)('A' + i % 26));
			g_string_append_c(want, (char)('A' + i % 26));
		}
		g_string_append(doc, "&lt;'\t\xe4\xb8\xad\x01""0123456789abcdef"
		    "\" w='x\"0123456789abcdefghij'>t</a>");
		g_string_append(want, "<' \xe4\xb8\xad\x01""0123456789abcdef"
		    " w=x\"0123456789abcdefghij\nT t\nE a\n");
		check_doc(doc->str, XMLSCAN_OK, want->str);
		g_string_assign(doc, "<a v='");
		g_string_append_len(doc, "0123456789abcdefghij0123456789abcdefghij",
		    (gssize)at);
		g_string_append(doc, "\xff""0123456789abcdefghij'/>");
		check_doc(doc->str, XMLSCAN_BAD, NULL);
		g_string_assign(doc, "<a v='");
		g_string_append_len(doc, "0123456789abcdefghij0123456789abcdefghij",
		    (gssize)at);
		g_string_append(doc, "&bogus;0123456789abcdefghij'/>");
		check_doc(doc->str, XMLSCAN_BAD, NULL);
	}
	/* names of 15, 16 and 17 bytes: end tags match or not */
	for (at = 15; at <= 17; at++) {
		g_string_assign(doc, "<");
		g_string_append_len(doc, "abcdefghijklmnopqrstu", (gssize)at);
		g_string_append(doc, " ");
		g_string_append_len(doc, "ABCDEFGHIJKLMNOPQRSTU", (gssize)at);
		g_string_append(doc, "='1'></");
		g_string_append_len(doc, "abcdefghijklmnopqrstu", (gssize)at);
		g_string_append(doc, ">");
		g_string_assign(want, "S ");
		g_string_append_len(want, "abcdefghijklmnopqrstu", (gssize)at);
		g_string_append(want, " ");
		g_string_append_len(want, "ABCDEFGHIJKLMNOPQRSTU", (gssize)at);
		g_string_append(want, "=1\nE ");
		g_string_append_len(want, "abcdefghijklmnopqrstu", (gssize)at);
		g_string_append(want, "\n");
		check_doc(doc->str, XMLSCAN_OK, want->str);
		/* the last byte differs */
		doc->str[doc->len - 2] = 'X';
		check_doc(doc->str, XMLSCAN_BAD, NULL);
	}
	g_string_free(doc, TRUE);
	g_string_free(want, TRUE);
}

/* Content is scanned in windows of a tag's bound: tags and text that
 * straddle a window's end, given in one chunk, come out as when the
 * document is cut there. */
static void
test_windows(void **state)
{
	GString *doc = g_string_new(NULL);
	size_t n, cut;
	char *log, *other;

	(void)state;
	for (n = XMLSCAN_TAG_MAX - 24; n < XMLSCAN_TAG_MAX + 8; n++) {
		g_string_assign(doc, "<a>");
		while (doc->len < n)
			g_string_append_c(doc, 'x');
		g_string_append(doc, "&amp;<b c=\"0123456789abcdef0123\">"
		    "y\xe4\xb8\xad\r\nz</b><c/></a>");
		assert_int_equal(scan(doc->str, 8, &log), XMLSCAN_OK);
		for (cut = n - 2; cut < n + 40; cut += 7) {
			assert_int_equal(scan_cut(doc->str, doc->len, &cut, 1,
			    8, 0, &other), XMLSCAN_OK);
			assert_string_equal(log, other);
			g_free(other);
		}
		assert_non_null(strstr(log, "&\nS b c=0123456789abcdef0123\n"
		    "T y\xe4\xb8\xad\nz\nE b\nS c\nE c\nE a\n"));
		g_free(log);
	}
	g_string_free(doc, TRUE);
}

/* ------------------------------------------- the cell shortcut */

/* A worksheet reader's view of a start tag: its name and the first
 * attribute whose local name is t, nothing else. */
static int
sheet_start(void *arg, const char *name, const char **an, const char **av)
{
	struct rec *r = arg;
	const char *c;
	size_t i;

	g_string_append_printf(r->log, "S %s", name);
	for (i = 0; an[i] != NULL; i++) {
		c = strrchr(an[i], ':');
		if (strcmp(c != NULL ? c + 1 : an[i], "t") == 0) {
			g_string_append_printf(r->log, " t=%s", av[i]);
			break;
		}
	}
	g_string_append_c(r->log, '\n');
	return rec_event(r);
}

/* The events the cell stands for, logged as they would have been. */
static int
sheet_cell(void *arg, const char *t, size_t tlen, const char *v,
    size_t vlen)
{
	struct rec *r = arg;

	r->cells++;
	g_string_append(r->log, "S c");
	if (t != NULL) {
		g_string_append(r->log, " t=");
		g_string_append_len(r->log, t, (gssize)tlen);
	}
	g_string_append_c(r->log, '\n');
	if (v != NULL) {
		g_string_append(r->log, "S v\n");
		log_text(r, v, vlen);
		g_string_append(r->log, "E v\n");
	}
	g_string_append(r->log, "E c\n");
	return rec_event(r);
}

static int
sheet_shared(void *arg, const char *text, size_t len)
{
	struct rec *r = arg;

	r->cells++;
	g_string_append(r->log, "S si\nS t\n");
	log_text(r, text, len);
	g_string_append(r->log, "E t\nE si\n");
	return rec_event(r);
}

static const struct xmlscan_ops sheet_events = { sheet_start, rec_end,
    rec_text, NULL, NULL };
static const struct xmlscan_ops sheet_cells = { sheet_start, rec_end,
    rec_text, sheet_cell, sheet_shared };

/* Feeds doc cut at cuts[0 .. ncuts): the error, the log, the cells. */
static enum xmlscan_err
sheet_scan(const struct xmlscan_ops *ops, const char *doc, size_t len,
    const size_t *cuts, size_t ncuts, size_t depth, char **log, int *cells)
{
	return ops_cut(ops, doc, len, cuts, ncuts, depth, 0, log, cells);
}

/* With and without the shortcut, whole, cut in two anywhere and byte
 * by byte: the same events and the same error.  The number of cells
 * the shortcut took when the document came whole. */
static int
check_cells(const char *doc, size_t depth)
{
	size_t len = strlen(doc), cut, i, *cuts;
	enum xmlscan_err want, err;
	char *log, *other;
	int cells;

	want = sheet_scan(&sheet_events, doc, len, NULL, 0, depth, &log, NULL);
	err = sheet_scan(&sheet_cells, doc, len, NULL, 0, depth, &other,
	    &cells);
	if (err != want || strcmp(log, other) != 0)
		fail_msg("%s\nwhole: %d\n%s\nwant %d\n%s", doc, err, other,
		    want, log);
	g_free(other);
	for (cut = 1; cut < len; cut++) {
		err = sheet_scan(&sheet_cells, doc, len, &cut, 1, depth, &other,
		    NULL);
		if (err != want || strcmp(log, other) != 0)
			fail_msg("%s\ncut at %zu: %d\n%s\nwant %d\n%s", doc,
			    cut, err, other, want, log);
		g_free(other);
	}
	cuts = g_new(size_t, len);
	for (i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	err = sheet_scan(&sheet_cells, doc, len, cuts, len - 1, depth, &other,
	    NULL);
	if (err != want || strcmp(log, other) != 0)
		fail_msg("%s\nbyte by byte: %d\n%s\nwant %d\n%s", doc, err,
		    other, want, log);
	g_free(other);
	g_free(cuts);
	g_free(log);
	return cells;
}

static char *
in_sheet(const char *cells)
{
	return g_strdup_printf("<?xml version=\"1.0\"?><worksheet xmlns="
	    "\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
	    "xmlns:x=\"urn:x\"><sheetData><row r=\"1\">%s</row>"
	    "</sheetData></worksheet>", cells);
}

/* Cells the shortcut takes, and cells it must leave to the tokenizer
 * (each a form it does not know, or an error the tokenizer reports). */
static void
test_cell_shortcut(void **state)
{
	static const struct {
		const char	*cells;
		int		 taken;	/* by the shortcut, fed whole */
	} cases[] = {
		{ "<c r=\"A1\" t=\"s\"><v>12</v></c>", 1 },
		{ "<c r=\"A1\" s=\"3\"><v>3.25</v></c>", 1 },
		{ "<c r=\"A1\" s=\"2\"/>", 1 },
		{ "<c/><c></c><c><v></v></c><c><v> 7 </v></c>", 3 },
		{ "<c x:t=\"b\" t=\"s\"><v>1</v></c>", 1 },
		{ "<c t='s' r='B2'><v>4</v></c>", 1 },
		{ "<c t=\"str\"><v>a \"quoted\" &gt; b</v></c>", 0 },
		{ "<c t=\"str\"><v>x > y; z = 'q'\t[1]</v></c>", 1 },
		{ "<c r=\"A1\"t=\"s\"><v>1</v></c>", 0 },
		{ "<c  t=\"s\"><v>1</v></c>", 0 },
		{ "<c\tt=\"s\"><v>1</v></c>", 0 },
		{ "<c t = \"s\"><v>1</v></c>", 0 },
		{ "<c t=\"a&amp;b\"><v>1</v></c>", 0 },
		{ "<c t=\"s\"><v>1&amp;2</v></c>", 0 },
		{ "<c t=\"s\"><v>a\r\nb</v></c>", 0 },
		{ "<c t=\"s\"><v>\xe4\xb8\xad</v></c>", 1 },
		{ "<c t=\"s\"><v>\xe4\xb8</v></c>", 0 },
		{ "<c t=\"s\"><v>a\x01</v></c>", 0 },
		{ "<si><t>plain</t></si><si><t></t></si>", 2 },
		{ "<si><t xml:space=\"preserve\"> lead</t></si>", 1 },
		{ "<si><t>\xe5\xbc\xa0\xe4\xb8\x89 13800138000</t></si>", 1 },
		{ "<si><t>\xe5\xbc</t></si>", 0 },
		{ "<si><t>R&amp;D</t></si>", 0 },
		{ "<si><r><t>a</t></r><r><t>b</t></r></si>", 0 },
		{ "<si><t>a</t><rPh><t>b</t></rPh></si>", 0 },
		{ "<si/><si></si><si ><t>x</t></si><sx/><s/>", 0 },
		{ "<si><tx>a</tx></si><si><t/></si>", 0 },
		{ "<si><t>a</t></si ><si><t>b</t ></si>", 0 },
		{ "<c t=\"s\"><v>1</v ></c>", 0 },
		{ "<c t=\"s\"><v>1</v></c >", 0 },
		{ "<c t=\"s\"><f>SUM(A1:A3)</f><v>3</v></c>", 0 },
		{ "<c t=\"inlineStr\"><is><t>\xe5\xbc\xa0</t></is></c>", 0 },
		{ "<x:c t=\"s\"><x:v>1</x:v></x:c>", 0 },
		{ "<c t=\"s\"><x:v>1</x:v></c>", 0 },
		{ "<col min=\"1\"/><cx/><c-1/><c.d/>", 0 },
		{ "<c t=\"s\" t=\"b\"><v>1</v></c><c><v>2</v></c>", 2 },
		{ "<c><!-- no --><v>1</v></c>", 0 },
		{ "<c><v>1</v><!-- after --></c>", 0 },
		/* errors, the tokenizer's */
		{ "<c 1=\"x\"><v>1</v></c>", 0 },
		{ "<c t=\"s\"><v>1</v></x>", 0 },
		{ "<c t=\"s><v>1</v></c>", 0 },
		{ "<c t=\"s\"><v>1<v></c>", 0 },
		{ "<c t=\"s\"><v>1</v></c></c>", 1 },
		{ "<c t=\"s\"><v>1</v>", 0 },
		{ "<c t=\"s\"/ >", 0 },
	};
	char *doc;
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		doc = in_sheet(cases[i].cells);
		if (check_cells(doc, 64) != cases[i].taken)
			fail_msg("%s: not taken %d times", cases[i].cells,
			    cases[i].taken);
		g_free(doc);
	}
	/* worksheet, sheetData, row, c, v: five deep.  At four the cell
	 * with a value is the tokenizer's, which says too deep; an empty
	 * one is still taken. */
	doc = in_sheet("<c t=\"s\"><v>1</v></c>");
	assert_int_equal(check_cells(doc, 5), 1);
	assert_int_equal(check_cells(doc, 4), 0);
	g_free(doc);
	doc = in_sheet("<c t=\"s\"/>");
	assert_int_equal(check_cells(doc, 4), 1);
	assert_int_equal(check_cells(doc, 3), 0);
	g_free(doc);
}

/* Random rows of cells in every form above, each sheet compared whole
 * and at random cuts, and the shortcut seen to be taken. */
static void
test_cell_random(void **state)
{
	static const char *const forms[] = {
		"<c r=\"A1\" t=\"s\"><v>%u</v></c>",
		"<c r=\"B1\" s=\"1\"><v>%u.5</v></c>",
		"<c r=\"C1\" s=\"%u\"/>",
		"<c t=\"b\"><v>%u</v></c>",
		"<c t=\"str\"><v>a&amp;%u</v></c>",
		"<c t=\"inlineStr\"><is><t>\xe5\xbc\xa0%u</t></is></c>",
		"<c><f>A%u*2</f><v>2</v></c>",
		"<c t=\"s\"><v>%u\r\n</v></c>",
		"<x:c t=\"s\"><x:v>%u</x:v></x:c>",
		"<c  t=\"n\"><v>%u</v></c>",
		"<c r=\"D%u\"><v></v></c>",
		"<si><t>item %u</t></si>",
		"<si><t xml:space=\"preserve\">\xe5\xbc\xa0 %u </t></si>",
		"<si><r><t>%u</t></r></si>",
	};
	GRand *rng = g_rand_new_with_seed(20261202);
	GString *cells = g_string_new(NULL);
	size_t len, cuts[3];
	enum xmlscan_err want, err;
	const char *form, *num;
	char *doc, *log, *other;
	unsigned i, j, n;
	int taken = 0, cells_n;

	(void)state;
	for (i = 0; i < 400; i++) {
		g_string_truncate(cells, 0);
		n = (unsigned)g_rand_int_range(rng, 1, 40);
		for (j = 0; j < n; j++) {
			/* the form, its "%u" a random number */
			form = forms[g_rand_int_range(rng, 0,
			    (gint32)G_N_ELEMENTS(forms))];
			num = strstr(form, "%u");
			g_string_append_len(cells, form, num - form);
			g_string_append_printf(cells, "%u",
			    (unsigned)g_rand_int_range(rng, 0, 100000));
			g_string_append(cells, num + 2);
		}
		doc = in_sheet(cells->str);
		len = strlen(doc);
		want = sheet_scan(&sheet_events, doc, len, NULL, 0, 64, &log,
		    NULL);
		assert_int_equal(want, XMLSCAN_OK);
		err = sheet_scan(&sheet_cells, doc, len, NULL, 0, 64, &other,
		    &cells_n);
		assert_int_equal(err, want);
		assert_string_equal(log, other);
		taken += cells_n;
		g_free(other);
		for (j = 0; j < 20; j++) {
			cuts[0] = (size_t)g_rand_int_range(rng, 1, (gint32)len);
			cuts[1] = cuts[0] + (size_t)g_rand_int_range(rng, 0,
			    (gint32)(len - cuts[0]));
			cuts[2] = cuts[1] + (size_t)g_rand_int_range(rng, 0,
			    (gint32)(len - cuts[1]));
			err = sheet_scan(&sheet_cells, doc, len, cuts, 3, 64,
			    &other, NULL);
			assert_int_equal(err, want);
			assert_string_equal(log, other);
			g_free(other);
		}
		g_free(log);
		g_free(doc);
	}
	assert_true(taken > 1000);
	g_string_free(cells, TRUE);
	g_rand_free(rng);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_bad_refs),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_cdata),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_end_names),
		cmocka_unit_test(test_roots),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_tag_max),
		cmocka_unit_test(test_long_text),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_long_runs),
		cmocka_unit_test(test_utf8_text),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_cell_shortcut),
		cmocka_unit_test(test_cell_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
