/* test_spool.c - the message spool: memory, then an unlinked file; what
 * GMime reads back is exactly what was written. */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spool.h"

/* Reads a stream to the end into a malloc'd buffer. */
static char *
slurp(GMimeStream *st, size_t *len)
{
	GByteArray *all = g_byte_array_new();
	char buf[4096];
	ssize_t n;

	while ((n = g_mime_stream_read(st, buf, sizeof buf)) > 0)
		g_byte_array_append(all, (guint8 *)buf, (guint)n);
	*len = all->len;
	return (char *)g_byte_array_free(all, FALSE);
}

static size_t
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

/* Writes total bytes in uneven chunks through a spool with the given
 * memory limit and checks size, placement and content. */
static void
roundtrip(size_t limit, size_t total, int want_file)
{
	char dir[] = "/tmp/custos-test-spool.XXXXXX", err[256];
	struct spool *s;
	GMimeStream *st;
	const char *bytes;
	char *data, *got;
	size_t i, off, len, blen;

	assert_non_null(mkdtemp(dir));
	data = malloc(total + 1);
	assert_non_null(data);
	for (i = 0; i < total; i++)
		data[i] = (char)(i * 7 + i / 251);
	s = spool_new(limit, dir);
	assert_non_null(s);
	for (off = 0, i = 1; off < total; i++) {
		size_t n = i * 37 % 5000 + 1;

		if (n > total - off)
			n = total - off;
		assert_int_equal(spool_write(s, data + off, n, err,
		    sizeof err), 0);
		off += n;
	}
	assert_int_equal(spool_size(s), total);
	if (spool_in_file(s) != want_file)
		fail_msg("%zu bytes, limit %zu: got in_file=%d, want %d",
		    total, limit, spool_in_file(s), want_file);
	/* The file is unlinked: nothing to clean up, nothing to leak. */
	assert_int_equal(count_files(dir), 0);
	st = spool_stream(s, &bytes, &blen, err, sizeof err);
	assert_non_null(st);
	got = slurp(st, &len);
	assert_int_equal(len, total);
	assert_memory_equal(got, data, total);
	/* The in-place bytes are the same as what the stream reads. */
	assert_int_equal(blen, total);
	if (total > 0)
		assert_memory_equal(bytes, data, total);
	g_object_unref(st);
	/* A second reader starts at the beginning again. */
	st = spool_stream(s, &bytes, &blen, err, sizeof err);
	g_free(got);
	got = slurp(st, &len);
	assert_int_equal(len, total);
	g_object_unref(st);
	g_free(got);
	spool_free(s);
	free(data);
	(void)rmdir(dir);
}

static void
test_memory(void **state)
{
	(void)state;
	roundtrip(1 << 20, 100000, 0);
	roundtrip(1 << 20, 1 << 20, 0);		/* exactly at the limit */
	roundtrip(4096, 0, 0);
}

static void
test_file(void **state)
{
	(void)state;
	roundtrip(1 << 20, (1 << 20) + 1, 1);
	roundtrip(4096, 3 << 20, 1);
}

static void
test_bad_dir(void **state)
{
	struct spool *s = spool_new(16, "/nonexistent/dir");
	char err[256];

	(void)state;
	assert_non_null(s);
	assert_int_equal(spool_write(s, "0123456789", 10, err, sizeof err), 0);
	/* Crossing the limit needs the file: a defined error, not a crash. */
	assert_int_equal(spool_write(s, "0123456789", 10, err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/dir"));
	assert_null(spool_free(s));
	assert_null(spool_free(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_bad_dir),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
