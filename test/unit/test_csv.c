/* test_csv.c - unit tests for the streaming CSV reader (csv.c).
 *
 * Each case writes its bytes to a temporary file, reads it to the end
 * and compares a transcript: "N:f1|f2\n" for a row starting on line N,
 * "!message\n" for a malformed row.  GBK bytes were produced with
 * iconv(1), e.g. printf '客户,名单' | iconv -f UTF-8 -t GBK | xxd; the
 * block-boundary cases build theirs with g_convert() at run time. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <glib.h>

#include "csv.h"

#define BLOCK		(64 * 1024)

#define KEHU_GBK	"\xbf\xcd\xbb\xa7"	/* 客户 */
#define MINGDAN_GBK	"\xc3\xfb\xb5\xa5"	/* 名单 */
#define GB_BOM		"\x84\x31\x95\x33"	/* U+FEFF in GB18030 */

/* Writes len bytes to a new temporary file; returns its name. */
static char *
tmpfile_with(const char *data, size_t len)
{
	GError	*gerr = NULL;
	char	*path = NULL;
	int	 fd;

	fd = g_file_open_tmp("test_csv.XXXXXX", &path, &gerr);
	if (fd == -1)
		fail_msg("g_file_open_tmp: %s", gerr->message);
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		fail_msg("write %s failed", path);
	close(fd);
	return path;
}

/* Reads path to the end; returns the transcript (g_free it). */
static char *
transcript(const char *path, const char *enc, size_t *rows, size_t *bad,
    size_t *offset)
{
	struct csv_reader	*r;
	GString			*s = g_string_new(NULL);
	char			**f, err[256];
	size_t			*lens, n, line, i;
	int			 rc;

	*rows = *bad = 0;
	r = csv_open(path, enc, err, sizeof err);
	if (r == NULL)
		fail_msg("csv_open %s: %s", path, err);
	while ((rc = csv_next(r, &f, &lens, &n, &line, err, sizeof err)) != 0) {
		if (rc == -2)
			fail_msg("csv_next: I/O error: %s", err);
		if (rc == -1) {
			g_string_append_printf(s, "!%s\n", err);
			(*bad)++;
			continue;
		}
		(*rows)++;
		g_string_append_printf(s, "%zu:", line);
		for (i = 0; i < n; i++) {
			if (strlen(f[i]) != lens[i])
				fail_msg("field %zu: length %zu, strlen %zu",
				    i, lens[i], strlen(f[i]));
			if (i > 0)
				g_string_append_c(s, '|');
			g_string_append_len(s, f[i], (gssize)lens[i]);
		}
		g_string_append_c(s, '\n');
	}
	/* End of file stays end of file. */
	if (csv_next(r, &f, &lens, &n, &line, err, sizeof err) != 0)
		fail_msg("csv_next after end: want 0");
	if (offset != NULL)
		*offset = csv_offset(r);
	csv_close(r);
	return g_string_free(s, FALSE);
}

struct crow {
	const char	*name;
	const char	*enc;
	const char	*in;
	size_t		 len;
	const char	*want;
};

#define C(name, enc, in, want) { (name), (enc), (in), sizeof(in) - 1, (want) }

static const struct crow crows[] = {
	C("simple", NULL, "a,b,c\n1,2,3\n", "1:a|b|c\n2:1|2|3\n"),
	C("empty file", NULL, "", ""),
	C("only line breaks", NULL, "\n\r\n\n", ""),
	C("no final newline", NULL, "a,b\nc,d", "1:a|b\n2:c|d\n"),
	C("one field, no newline", NULL, "x", "1:x\n"),
	C("empty lines skipped", NULL, "\n\na\n\r\n\nb\n", "3:a\n6:b\n"),
	C("empty fields", NULL, ",,\na,,b\n", "1:||\n2:a||b\n"),
	C("quoted empty field", NULL, "\"\"\n", "1:\n"),
	C("quotes", NULL, "\"a\",\"b,c\",\"d\"\"e\"\n", "1:a|b,c|d\"e\n"),
	C("quoted, only quotes", NULL, "\"\"\"\"\n", "1:\"\n"),
	C("mixed quoted and not", NULL, "x,\"y\",z\n", "1:x|y|z\n"),
	C("embedded newline", NULL, "\"x\ny\",z\nnext,row\n",
	    "1:x\ny|z\n3:next|row\n"),
	C("two embedded newlines", NULL, "a,\"1\n2\n3\"\nb\n\"c\nd\"\ne\n",
	    "1:a|1\n2\n3\n4:b\n5:c\nd\n7:e\n"),
	C("crlf", NULL, "a,b\r\nc,d\r\n", "1:a|b\n2:c|d\n"),
	C("crlf after quote", NULL, "\"a\",\"b\"\r\nc\r\n", "1:a|b\n2:c\n"),
	C("crlf inside quotes kept", NULL, "\"a\r\nb\",c\r\nd\r\n",
	    "1:a\r\nb|c\n3:d\n"),
	C("lone cr is data", NULL, "a\rb\n", "1:a\rb\n"),
	C("trailing cr at eof", NULL, "a,b\r", "1:a|b\n"),
	C("empty last field, crlf", NULL, "a,\r\n", "1:a|\n"),
	C("bom", NULL, "\xef\xbb\xbf" "a,b\n", "1:a|b\n"),
	C("bom, quoted", NULL, "\xef\xbb\xbf\"a\",b\n", "1:a|b\n"),
	C("bom only", NULL, "\xef\xbb\xbf", ""),
	C("bom later is data", NULL, "a,\xef\xbb\xbf\n",
	    "1:a|\xef\xbb\xbf\n"),
	C("utf-8", NULL, "客户,名单\n", "1:客户|名单\n"),
	C("utf-8 label", "UTF-8", "客户\n", "1:客户\n"),
	C("spaces kept", NULL, " a , b \n", "1: a | b \n"),
	/* Malformed rows, with good rows around them. */
	C("quote in unquoted field", NULL, "a,b\"c,d\ne,f\n",
	    "!line 1: quote in unquoted field\n2:e|f\n"),
	C("text after closing quote", NULL, "ok,1\n\"a\"x,b\n\"c\",d\n",
	    "1:ok|1\n!line 2: text after closing quote\n3:c|d\n"),
	C("skip follows quoted newline", NULL, "\"a\"x,\"m\nn\"\nz\n",
	    "!line 1: text after closing quote\n3:z\n"),
	C("bad row after multi-line row", NULL,
	    "\"a\nb\nc\",1\nx\"y\nok\n",
	    "1:a\nb\nc|1\n!line 4: quote in unquoted field\n5:ok\n"),
	C("cr then text after quote", NULL, "\"a\"\rb\nc\n",
	    "!line 1: text after closing quote\n2:c\n"),
	C("unterminated quote at eof", NULL, "a\n\"b,c\nd\n",
	    "1:a\n!line 2: unterminated quote\n"),
	C("unterminated quote, no newline", NULL, "a\n\"b",
	    "1:a\n!line 2: unterminated quote\n"),
	C("closing quote at eof", NULL, "a,\"b\"", "1:a|b\n"),
	C("invalid utf-8", NULL, "a\n\xff\xfe,b\nc\n",
	    "1:a\n!line 2: invalid UTF-8\n3:c\n"),
	C("truncated utf-8", NULL, "\xe5\xae\n\xe5\xae\xa2\n",
	    "!line 1: invalid UTF-8\n2:客\n"),
	C("nul byte", NULL, "a\0b\nc\n", "!line 1: NUL byte\n2:c\n"),
	/* Encodings. */
	C("gbk", "gbk", KEHU_GBK "," MINGDAN_GBK "\n", "1:客户|名单\n"),
	C("GBK upper case", "GBK", KEHU_GBK "\n", "1:客户\n"),
	C("gb2312 label, gbk char", "gb2312", "\xe9\x46\n", "1:镕\n"),
	C("cp936", "cp936", "\"" KEHU_GBK ",x\"\n", "1:客户,x\n"),
	C("gbk bom", "gbk", GB_BOM KEHU_GBK "\n", "1:客户\n"),
	C("gbk invalid byte", "gbk", "a\n\xff,b\nc\n",
	    "1:a\n!line 2: bytes invalid in GB18030\n3:c\n"),
	C("gbk cut at eof", "gbk", "a\nb," "\x81",
	    "1:a\n!line 2: bytes invalid in GB18030\n"),
	C("latin1", "ISO-8859-1", "caf\xe9\n", "1:café\n"),
	C("utf-16le with bom", "UTF-16",
	    "\xff\xfe" "a\0,\0b\0\n\0", "1:a|b\n"),
};

static void
test_rows(void **state)
{
	size_t	 i, rows, bad, off;
	char	*path, *got;

	(void)state;
	for (i = 0; i < sizeof crows / sizeof *crows; i++) {
		const struct crow *c = &crows[i];

		path = tmpfile_with(c->in, c->len);
		got = transcript(path, c->enc, &rows, &bad, &off);
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->name, got,
			    c->want);
		if (off != c->len)
			fail_msg("%s: offset %zu at end, want %zu", c->name,
			    off, c->len);
		g_free(got);
		unlink(path);
		g_free(path);
	}
}

static void
test_open_errors(void **state)
{
	struct csv_reader	*r;
	char			 err[256], *path;

	(void)state;
	err[0] = '\0';
	assert_null(csv_open("-", NULL, err, sizeof err));
	assert_true(err[0] != '\0');
	err[0] = '\0';
	assert_null(csv_open("/nonexistent/list.csv", NULL, err, sizeof err));
	if (strstr(err, "/nonexistent/list.csv") == NULL)
		fail_msg("got \"%s\", want the path in it", err);
	assert_null(csv_open("/tmp", NULL, err, sizeof err));
	path = tmpfile_with("a\n", 2);
	err[0] = '\0';
	assert_null(csv_open(path, "no-such-encoding-x", err, sizeof err));
	if (strstr(err, "encoding") == NULL)
		fail_msg("got \"%s\", want an encoding error", err);
	r = csv_open(path, "utf8", err, sizeof err);
	assert_non_null(r);
	assert_null(csv_close(r));
	assert_null(csv_close(NULL));
	/* A NULL or empty error buffer is fine. */
	assert_null(csv_open("-", NULL, NULL, 0));
	unlink(path);
	g_free(path);
}

/* A multibyte character split exactly across the first 64 KiB block:
 * row 1 fills the block up to the character, which starts at offset
 * BLOCK - shift. */
static void
split_case(const char *enc, const char *utf8ch)
{
	GString	*in;
	gchar	*ch, *want, *got, *path;
	gsize	 chlen, shift, pad;
	size_t	 rows, bad;

	if (enc == NULL) {
		ch = g_strdup(utf8ch);
		chlen = strlen(ch);
	} else {
		ch = g_convert(utf8ch, -1, "GB18030", "UTF-8", NULL, &chlen,
		    NULL);
		assert_non_null(ch);
	}
	for (shift = 1; shift < chlen; shift++) {
		in = g_string_new(NULL);
		pad = BLOCK - shift - 1;	/* row 1 and its '\n' */
		while (in->len < pad)
			g_string_append_c(in, 'a');
		g_string_append_c(in, '\n');
		assert_int_equal(in->len, BLOCK - shift);
		g_string_append_len(in, ch, (gssize)chlen);
		g_string_append(in, ",x\n");
		g_string_append_len(in, ch, (gssize)chlen);
		g_string_append(in, "\n");
		path = tmpfile_with(in->str, in->len);
		got = transcript(path, enc, &rows, &bad, NULL);
		want = g_strdup_printf("2:%s|x\n3:%s\n", utf8ch, utf8ch);
		/* Skip row 1 (the padding) in the comparison. */
		if (strncmp(got, "1:a", 3) != 0 ||
		    strcmp(strchr(got, '\n') + 1, want) != 0)
			fail_msg("%s split %zu/%zu: got \"%s\", want \"%s\"",
			    enc ? enc : "utf-8", chlen - shift, shift,
			    strchr(got, '\n') + 1, want);
		g_free(want);
		g_free(got);
		unlink(path);
		g_free(path);
		g_string_free(in, TRUE);
	}
	g_free(ch);
}

static void
test_block_boundary(void **state)
{
	(void)state;
	split_case(NULL, "客");		/* 3 bytes */
	split_case(NULL, "𠀀");		/* 4 bytes */
	split_case("gbk", "客");	/* 2 bytes */
	split_case("gbk", "𠀀");	/* 4 bytes in GB18030 */
}

/* A field holding line breaks across the block boundary: line numbers
 * after it stay right. */
static void
test_lines_across_blocks(void **state)
{
	GString	*in = g_string_new("\"");
	size_t	 rows, bad, lines = 1, i;
	char	*path, *got, *want;

	(void)state;
	for (i = 0; i < 30000; i++) {
		g_string_append(in, "ab\n");
		lines++;
	}
	g_string_append(in, "\",x\nlast\n");
	path = tmpfile_with(in->str, in->len);
	got = transcript(path, NULL, &rows, &bad, NULL);
	want = g_strdup_printf("%zu:last\n", lines + 1);
	if (rows != 2 || !g_str_has_suffix(got, want))
		fail_msg("got %zu rows ending \"%s\", want 2 ending \"%s\"",
		    rows, got + strlen(got) - strlen(want), want);
	g_free(want);
	g_free(got);
	unlink(path);
	g_free(path);
	g_string_free(in, TRUE);
}

static void
test_too_many_fields(void **state)
{
	GString	*in = g_string_new("ok\n");
	size_t	 rows, bad, i;
	char	*path, *got, want[128];

	(void)state;
	for (i = 0; i < CSV_MAX_FIELDS; i++)
		g_string_append(in, "f,");
	g_string_append(in, "\"last\nfield\"\nafter\n");
	/* Exactly CSV_MAX_FIELDS fields is fine. */
	for (i = 0; i < CSV_MAX_FIELDS - 1; i++)
		g_string_append(in, "g,");
	g_string_append(in, "g\nend\n");
	path = tmpfile_with(in->str, in->len);
	got = transcript(path, NULL, &rows, &bad, NULL);
	(void)snprintf(want, sizeof want, "1:ok\n!line 2: more than %d "
	    "fields\n4:after\n5:g|g|g", CSV_MAX_FIELDS);
	if (strncmp(got, want, strlen(want)) != 0 ||
	    !g_str_has_suffix(got, "|g\n6:end\n") || rows != 4 || bad != 1)
		fail_msg("got %zu rows, %zu bad, \"%.80s...\", want \"%s\"",
		    rows, bad, got, want);
	g_free(got);
	unlink(path);
	g_free(path);
	g_string_free(in, TRUE);
}

static void
test_row_too_long(void **state)
{
	GString	*in = g_string_new("ok\n");
	size_t	 rows, bad, i, lines = 1;
	char	*path, *got, want[128], wantend[64];

	(void)state;
	/* Unquoted, then quoted with line breaks inside. */
	while (in->len < 3 + (size_t)CSV_MAX_ROW + 10)
		g_string_append(in, "0123456789");
	g_string_append(in, "\nmid\n\"");
	while (in->len < 2 * (size_t)CSV_MAX_ROW + 100)
		g_string_append(in, "line\n");
	g_string_append(in, "\",x\n");
	for (i = 0; i < in->len; i++)
		lines += in->str[i] == '\n';
	g_string_append(in, "end\n");
	(void)snprintf(wantend, sizeof wantend, "\n%zu:end\n", lines);
	path = tmpfile_with(in->str, in->len);
	got = transcript(path, NULL, &rows, &bad, NULL);
	(void)snprintf(want, sizeof want, "1:ok\n!line 2: row longer than %d "
	    "bytes\n3:mid\n!line 4: row longer than %d bytes\n", CSV_MAX_ROW,
	    CSV_MAX_ROW);
	if (strncmp(got, want, strlen(want)) != 0 ||
	    !g_str_has_suffix(got, wantend) || rows != 3 || bad != 2)
		fail_msg("got %zu rows, %zu bad, \"%s\", want \"%s%s\"",
		    rows, bad, got, want, wantend + 1);
	g_free(got);
	unlink(path);
	g_free(path);
	g_string_free(in, TRUE);
}

/* A long list streams: 200 000 rows, every one back with its line, in
 * UTF-8 and in GBK. */
static void
large_case(const char *enc)
{
	struct csv_reader	*r;
	GString			*in = g_string_new("name,mobile,email\r\n");
	char			**f, err[256], *path, *data;
	size_t			*lens, n, line, i, rows = 0;
	gsize			 len;
	gint64			 start;
	int			 rc;

	for (i = 0; i < 200000; i++)
		g_string_append_printf(in, "张伟%zu,138%08zu,"
		    "\"wei.%zu@example.com\"\r\n", i, i, i);
	if (enc != NULL) {
		data = g_convert(in->str, (gssize)in->len, "GB18030", "UTF-8",
		    NULL, &len, NULL);
		assert_non_null(data);
	} else {
		data = g_strdup(in->str);
		len = in->len;
	}
	path = tmpfile_with(data, len);
	start = g_get_monotonic_time();
	r = csv_open(path, enc, err, sizeof err);
	assert_non_null(r);
	while ((rc = csv_next(r, &f, &lens, &n, &line, err, sizeof err)) == 1) {
		if (n != 3 || line != rows + 1)
			fail_msg("row %zu: got %zu fields at line %zu, want 3 "
			    "at %zu", rows, n, line, rows + 1);
		if (rows == 150000 && (strcmp(f[0], "张伟149999") != 0 ||
		    strcmp(f[1], "13800149999") != 0 ||
		    strcmp(f[2], "wei.149999@example.com") != 0))
			fail_msg("row 150000: got %s, %s, %s", f[0], f[1],
			    f[2]);
		rows++;
	}
	if (rc != 0)
		fail_msg("%s: got %d at row %zu (%s), want 0",
		    enc ? enc : "utf-8", rc, rows, err);
	assert_int_equal(rows, 200001);
	assert_int_equal(csv_offset(r), len);
	csv_close(r);
	if (g_get_monotonic_time() - start > 20 * G_USEC_PER_SEC)
		fail_msg("200k rows took over 20 s");
	unlink(path);
	g_free(path);
	g_free(data);
	g_string_free(in, TRUE);
}

static void
test_large(void **state)
{
	(void)state;
	large_case(NULL);
	large_case("gbk");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_block_boundary),
		cmocka_unit_test(test_lines_across_blocks),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_row_too_long),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
