/* test_table.c - the compiled customer list: what is written is what is
 * read back; lookups find every value and nothing else; damaged,
 * truncated, foreign or forged files are refused with the right reason;
 * a failed write leaves the old table and no temporary file behind. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <glib.h>

#include <sodium.h>

#include "table.h"

/* Where table.c puts things in the header (format version 1). */
#define HDR_SIZE	256
#define HDR_VERSION	8
#define HDR_ENDIAN	12
#define HDR_FILE_SIZE	16
#define HDR_RECORDS	32
#define HDR_SEC		80	/* 8 x { u64 off, u64 size } */
#define HDR_DIGEST	208
#define HDR_RESERVED	240
enum { SEC_RECORDS, SEC_POOL, SEC_BUCKETS, SEC_HITS, SEC_WEAK_INDEX,
    SEC_WEAK_HITS, SEC_MANIFEST, SEC_BLOB };

struct tdir {
	char	 dir[64];
	char	 path[128];	/* dir/t.tbl */
};

static void
tdir_new(struct tdir *d)
{
	(void)snprintf(d->dir, sizeof d->dir, "/tmp/custos-test-table.XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	(void)snprintf(d->path, sizeof d->path, "%s/t.tbl", d->dir);
}

/* Names of the files in dir, for "nothing left behind" checks. */
static size_t
tdir_count(const struct tdir *d, char *names, size_t len)
{
	DIR *dp = opendir(d->dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(dp);
	if (len > 0)
		names[0] = '\0';
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (len > 0) {
			(void)strncat(names, " ", len - strlen(names) - 1);
			(void)strncat(names, e->d_name,
			    len - strlen(names) - 1);
		}
	}
	(void)closedir(dp);
	return n;
}

static void
tdir_free(struct tdir *d)
{
	DIR *dp = opendir(d->dir);
	struct dirent *e;
	char p[512];

	assert_non_null(dp);
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		(void)snprintf(p, sizeof p, "%s/%s", d->dir, e->d_name);
		(void)unlink(p);
	}
	(void)closedir(dp);
	assert_int_equal(rmdir(d->dir), 0);
}

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct table_hit
hit(uint32_t rec, uint16_t field, uint16_t kind)
{
	struct table_hit h = { rec, field, kind };

	return h;
}

static void
add_records(struct table_builder *b, size_t n)
{
	char id[32];
	uint32_t rec;
	size_t i;

	for (i = 0; i < n; i++) {
		(void)snprintf(id, sizeof id, "R%06zu", i);
		assert_int_equal(table_builder_add_record(b, id, 0, false,
		    &rec), 0);
		if (rec != i)
			fail_msg("record %s: got index %u, want %zu", id, rec,
			    i);
	}
}

static const char *const one_list[] = { "customers" };

/* Writes b to path with one list and no blob; fails the test on error. */
static void
write_ok(struct table_builder *b, const char *path, struct table_info *ti)
{
	struct table_info local;
	char err[512];

	if (ti == NULL) {
		memset(&local, 0, sizeof local);
		ti = &local;
	}
	if (table_builder_write(b, path, ti, one_list, 1, NULL, 0, err,
	    sizeof err) != 0)
		fail_msg("write %s: %s", path, err);
}

static struct table *
open_ok(const char *path)
{
	struct table *t;
	char err[512];

	if ((t = table_open(path, err, sizeof err)) == NULL)
		fail_msg("open %s: %s", path, err);
	return t;
}

/* The hits for fp must be exactly want[0..n). */
static void
want_strong(const struct table *t, uint64_t fp, const struct table_hit *want,
    size_t n)
{
	const struct table_hit *got;
	size_t k, i;

	k = table_lookup_strong(t, fp, &got);
	if (k != n)
		fail_msg("fp %016llx: got %zu hits, want %zu",
		    (unsigned long long)fp, k, n);
	if (n == 0) {
		assert_null(got);
		return;
	}
	for (i = 0; i < n; i++)
		if (got[i].rec != want[i].rec ||
		    got[i].field != want[i].field ||
		    got[i].kind != want[i].kind)
			fail_msg("fp %016llx hit %zu: got (%u,%u,%u), want "
			    "(%u,%u,%u)", (unsigned long long)fp, i,
			    got[i].rec, got[i].field, got[i].kind,
			    want[i].rec, want[i].field, want[i].kind);
}

static void
test_empty(void **state)
{
	struct table_builder *b = table_builder_new();
	const struct table_hit *h;
	struct table_info ti;
	struct table *t;
	struct tdir d;
	size_t len = 99;
	char err[256];

	(void)state;
	tdir_new(&d);
	memset(&ti, 0, sizeof ti);
	assert_int_equal(table_builder_write(b, d.path, &ti, NULL, 0, NULL, 0,
	    err, sizeof err), 0);
	t = open_ok(d.path);
	assert_int_equal(table_records(t), 0);
	assert_int_equal(table_lists(t), 0);
	assert_null(table_list_name(t, 0));
	assert_null(table_record_id(t, 0));
	assert_int_equal(table_lookup_strong(t, 0, &h), 0);
	assert_int_equal(table_lookup_strong(t, 12345, &h), 0);
	assert_int_equal(table_lookup_strong(t, UINT64_MAX, &h), 0);
	assert_int_equal(table_lookup_weak(t, 0, &h), 0);
	assert_null(table_blob(t, &len));
	assert_int_equal(len, 0);
	assert_int_equal(table_info(t)->records, 0);
	assert_int_equal(table_info(t)->strong_values, 0);
	assert_int_equal(table_info(t)->weak_values, 0);
	assert_true(table_size(t) > 256);
	assert_null(table_close(t));
	assert_null(table_close(NULL));
	assert_null(table_builder_free(b));
	assert_null(table_builder_free(NULL));
	tdir_free(&d);
}

static void
test_one(void **state)
{
	struct table_builder *b = table_builder_new();
	struct table_hit want = hit(0, 3, 2);
	struct table *t;
	struct tdir d;

	(void)state;
	tdir_new(&d);
	add_records(b, 1);
	assert_int_equal(table_builder_add_strong(b, 0x1234567890abcdefULL,
	    want), 0);
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	want_strong(t, 0x1234567890abcdefULL, &want, 1);
	want_strong(t, 0x1234567890abcdeeULL, NULL, 0);
	want_strong(t, 0x1234567890abcdf0ULL, NULL, 0);
	want_strong(t, 0, NULL, 0);
	assert_int_equal(table_info(t)->strong_values, 1);
	table_close(t);
	table_builder_free(b);
	tdir_free(&d);
}

/* One value held by several records (and twice by one of them, in two
 * fields) comes back once per (record, field), ordered by record. */
static void
test_shared(void **state)
{
	struct table_builder *b = table_builder_new();
	const struct table_hit want[] = {
		{ 0, 1, 0 }, { 2, 1, 0 }, { 2, 4, 1 }, { 5, 0, 0 },
	};
	struct table *t;
	struct tdir d;

	(void)state;
	tdir_new(&d);
	add_records(b, 6);
	/* Added out of order, with an unrelated value in between. */
	assert_int_equal(table_builder_add_strong(b, 77, want[3]), 0);
	assert_int_equal(table_builder_add_strong(b, 78, hit(1, 0, 0)), 0);
	assert_int_equal(table_builder_add_strong(b, 77, want[2]), 0);
	assert_int_equal(table_builder_add_strong(b, 77, want[0]), 0);
	assert_int_equal(table_builder_add_strong(b, 77, want[1]), 0);
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	want_strong(t, 77, want, 4);
	want_strong(t, 78, (const struct table_hit[]){ { 1, 0, 0 } }, 1);
	assert_int_equal(table_info(t)->strong_values, 2);
	table_close(t);
	table_builder_free(b);
	tdir_free(&d);
}

/* Exact repeats are kept once; the same value in another field is not a
 * repeat.  Two writes of the same builder give the same bytes. */
static void
test_duplicates(void **state)
{
	struct table_builder *b = table_builder_new();
	const struct table_hit want[] = { { 1, 2, 0 }, { 1, 3, 0 } };
	char p2[160], *c1, *c2;
	struct table *t;
	struct tdir d;
	size_t l1, l2;
	int i;

	(void)state;
	tdir_new(&d);
	add_records(b, 2);
	for (i = 0; i < 3; i++) {
		assert_int_equal(table_builder_add_strong(b, 500, want[0]), 0);
		assert_int_equal(table_builder_add_strong(b, 600, want[0]), 0);
	}
	assert_int_equal(table_builder_add_strong(b, 500, want[1]), 0);
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	want_strong(t, 500, want, 2);
	want_strong(t, 600, want, 1);
	table_close(t);

	(void)snprintf(p2, sizeof p2, "%s/again.tbl", d.dir);
	write_ok(b, p2, NULL);
	c1 = NULL;
	c2 = NULL;
	assert_true(g_file_get_contents(d.path, &c1, &l1, NULL));
	assert_true(g_file_get_contents(p2, &c2, &l2, NULL));
	if (l1 != l2 || memcmp(c1, c2, l1) != 0)
		fail_msg("second write: got %zu different bytes, want the "
		    "same %zu", l2, l1);
	g_free(c1);
	g_free(c2);
	table_builder_free(b);
	tdir_free(&d);
}

/* Fingerprints that share their home bucket (equal high bits), equal
 * low bits, or home at the last bucket (the probe wraps to bucket 0) are
 * all found, and absent neighbours are not. */
static void
test_collisions(void **state)
{
	static const struct {
		const char	*name;
		uint64_t	 base, step;
	} rows[] = {
		{ "same home bucket", 0x4000000000000000ULL, 1 },
		{ "equal low bits", 0x0000000000001234ULL, 1ULL << 40 },
		{ "wrap at the end", UINT64_MAX - 200, 1 },
		{ "near zero", 0, 1 },
	};
	const size_t per = 60;
	struct table_builder *b = table_builder_new();
	struct table *t;
	struct tdir d;
	size_t r, i;
	uint32_t rec = 0;

	(void)state;
	tdir_new(&d);
	add_records(b, 4 * per);
	for (r = 0; r < 4; r++)
		for (i = 0; i < per; i++, rec++)
			if (table_builder_add_strong(b, rows[r].base +
			    2 * i * rows[r].step, hit(rec, 0, 0)) != 0)
				fail_msg("%s: add %zu failed", rows[r].name, i);
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	for (r = 0, rec = 0; r < 4; r++)
		for (i = 0; i < per; i++, rec++) {
			uint64_t fp = rows[r].base + 2 * i * rows[r].step;
			const struct table_hit *h;
			size_t n;

			/* fp 0 and 1 are one key (see test_zero). */
			if (fp == 0)
				continue;
			n = table_lookup_strong(t, fp, &h);
			if (n != 1 || h->rec != rec)
				fail_msg("%s #%zu: got %zu hits (rec %u), want "
				    "rec %u", rows[r].name, i, n,
				    n > 0 ? h->rec : 0, rec);
			n = table_lookup_strong(t, fp + rows[r].step, &h);
			if (n != 0 && fp + rows[r].step != 1)
				fail_msg("%s #%zu+1: got %zu hits, want 0",
				    rows[r].name, i, n);
		}
	table_close(t);
	table_builder_free(b);
	tdir_free(&d);
}

/* The prefetch hints take any fingerprint or record, in the table or
 * not (a scanner calls them before it knows), and change no result. */
static void
test_prefetch(void **state)
{
	static const uint64_t fps[] = {
		0, 1, 2, 0x8000000000000000ULL, UINT64_MAX - 1, UINT64_MAX
	};
	static const uint32_t recs[] = { 0, 1, 99, 100, 101, UINT32_MAX };
	struct table_builder *b = table_builder_new();
	struct table *t;
	struct tdir d;
	uint64_t s = 7, fp[100];
	size_t i;

	(void)state;
	tdir_new(&d);
	add_records(b, 100);
	for (i = 0; i < 100; i++) {
		fp[i] = splitmix(&s);
		assert_int_equal(table_builder_add_strong(b, fp[i],
		    hit((uint32_t)i, 1, 2)), 0);
	}
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	for (i = 0; i < sizeof fps / sizeof fps[0]; i++) {
		table_prefetch_strong(t, fps[i]);
		want_strong(t, fps[i], NULL, 0);
	}
	for (i = 0; i < sizeof recs / sizeof recs[0]; i++)
		table_prefetch_record(t, recs[i]);
	for (i = 0; i < 100; i++)
		table_prefetch_strong(t, fp[i]);
	for (i = 0; i < 100; i++) {
		want_strong(t, fp[i], (const struct table_hit[]){
		    { (uint32_t)i, 1, 2 } }, 1);
		table_prefetch_record(t, (uint32_t)i);
		assert_non_null(table_record_id(t, (uint32_t)i));
	}
	table_close(t);
	table_builder_free(b);
	tdir_free(&d);
}

/* 0 marks an empty bucket, so a real fp 0 is stored as 1. */
static void
test_zero(void **state)
{
	struct table_builder *b = table_builder_new();
	const struct table_hit want[] = { { 0, 0, 0 }, { 1, 0, 0 } };
	struct table *t;
	struct tdir d;

	(void)state;
	tdir_new(&d);
	add_records(b, 3);
	assert_int_equal(table_builder_add_strong(b, 0, want[0]), 0);
	assert_int_equal(table_builder_add_strong(b, UINT64_MAX,
	    hit(2, 0, 0)), 0);
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	want_strong(t, 0, want, 1);
	want_strong(t, 1, want, 1);
	want_strong(t, 2, NULL, 0);
	want_strong(t, UINT64_MAX, (const struct table_hit[]){ { 2, 0, 0 } },
	    1);
	table_close(t);
	table_builder_free(b);

	/* 0 and 1 of different records merge into one multi-record key. */
	b = table_builder_new();
	add_records(b, 2);
	assert_int_equal(table_builder_add_strong(b, 1, want[1]), 0);
	assert_int_equal(table_builder_add_strong(b, 0, want[0]), 0);
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	want_strong(t, 0, want, 2);
	table_close(t);
	table_builder_free(b);
	tdir_free(&d);
}

static void
test_weak(void **state)
{
	static const struct {
		uint32_t	 id;
		size_t		 n;
		struct table_hit want[3];
	} rows[] = {
		{ 0, 1, { { 0, 5, 6 } } },
		{ 1, 0, { { 0, 0, 0 } } },
		{ 2, 3, { { 0, 6, 7 }, { 1, 6, 7 }, { 3, 6, 7 } } },
		{ 3, 0, { { 0, 0, 0 } } },
		{ 4, 0, { { 0, 0, 0 } } },
		{ 5, 1, { { 2, 7, 5 } } },
		{ 6, 0, { { 0, 0, 0 } } },
		{ 1000, 0, { { 0, 0, 0 } } },
		{ UINT32_MAX, 0, { { 0, 0, 0 } } },
	};
	struct table_builder *b = table_builder_new();
	const struct table_hit *got;
	struct table *t;
	struct tdir d;
	size_t r, i, n;

	(void)state;
	tdir_new(&d);
	add_records(b, 4);
	/* Reverse order, each added twice: kept once, sorted by record. */
	for (r = sizeof rows / sizeof rows[0]; r-- > 0;)
		for (i = rows[r].n; i-- > 0;) {
			assert_int_equal(table_builder_add_weak(b, rows[r].id,
			    rows[r].want[i]), 0);
			assert_int_equal(table_builder_add_weak(b, rows[r].id,
			    rows[r].want[i]), 0);
		}
	/* A strong value does not show up as weak or the other way round. */
	assert_int_equal(table_builder_add_strong(b, 2, hit(0, 0, 0)), 0);
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	assert_int_equal(table_info(t)->weak_values, 6);
	for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		n = table_lookup_weak(t, rows[r].id, &got);
		if (n != rows[r].n)
			fail_msg("weak %u: got %zu hits, want %zu", rows[r].id,
			    n, rows[r].n);
		if (n == 0)
			assert_null(got);
		for (i = 0; i < n; i++)
			if (memcmp(&got[i], &rows[r].want[i],
			    sizeof got[i]) != 0)
				fail_msg("weak %u hit %zu: got rec %u field "
				    "%u, want rec %u field %u", rows[r].id, i,
				    got[i].rec, got[i].field,
				    rows[r].want[i].rec,
				    rows[r].want[i].field);
	}
	want_strong(t, 0, NULL, 0);
	table_close(t);
	table_builder_free(b);
	tdir_free(&d);
}

/* test_weak_rising's weak id of a record's field: 40 ids, id 5 never
 * given (6 instead). */
static uint32_t
rising_id(uint32_t rec, uint16_t field)
{
	uint32_t id = (rec * 7 + field * 13) % 40;

	return id == 5 ? 6 : id;
}

/* Weak hits in rising (record, field) order, as a list's rows give
 * them, are placed by counting instead of sorted; the table is the same
 * as from hits that need the sort (here each given twice, kept once).
 * A reservation smaller than what comes does not stop the adds. */
static void
test_weak_rising(void **state)
{
	enum { RECS = 600, IDS = 40, FIELDS = 3 };
	struct table_builder *rise = table_builder_new();
	struct table_builder *twice = table_builder_new();
	const struct table_sizes ten = { 0, 0, 0, 10 };
	const struct table_hit *g1, *g2;
	struct table *t1, *t2;
	struct tdir d1, d2;
	size_t n1, n2, i, added = 0, placed = 0;
	uint32_t rec, id;
	uint16_t f;

	(void)state;
	tdir_new(&d1);
	tdir_new(&d2);
	add_records(rise, RECS);
	add_records(twice, RECS);
	assert_int_equal(table_builder_reserve(rise, &ten), 0);
	for (rec = 0; rec < RECS; rec++)
		for (f = 0; f < FIELDS; f++) {
			if ((rec + f) % 5 == 0)
				continue;	/* a field left empty */
			id = rising_id(rec, f);
			assert_int_equal(table_builder_add_weak(rise, id,
			    hit(rec, f, 6)), 0);
			assert_int_equal(table_builder_add_weak(twice, id,
			    hit(rec, f, 6)), 0);
			assert_int_equal(table_builder_add_weak(twice, id,
			    hit(rec, f, 6)), 0);
			added++;
		}
	write_ok(rise, d1.path, NULL);
	write_ok(twice, d2.path, NULL);
	t1 = open_ok(d1.path);
	t2 = open_ok(d2.path);
	assert_int_equal(table_info(t1)->weak_values, IDS);
	assert_int_equal(table_info(t2)->weak_values, IDS);
	for (id = 0; id <= IDS; id++) {
		n1 = table_lookup_weak(t1, id, &g1);
		n2 = table_lookup_weak(t2, id, &g2);
		if (n1 != n2)
			fail_msg("weak %u: %zu hits rising, %zu sorted", id,
			    n1, n2);
		if (id == 5 || id == IDS)
			assert_int_equal(n1, 0);
		for (i = 0; i < n1; i++) {
			assert_memory_equal(&g1[i], &g2[i], sizeof g1[i]);
			assert_int_equal(rising_id(g1[i].rec, g1[i].field),
			    id);
			if (i > 0 && !(g1[i - 1].rec < g1[i].rec ||
			    (g1[i - 1].rec == g1[i].rec &&
			    g1[i - 1].field < g1[i].field)))
				fail_msg("weak %u: hit %zu out of order", id,
				    i);
		}
		placed += n1;
	}
	assert_int_equal(placed, added);
	table_close(t1);
	table_close(t2);
	table_builder_free(rise);
	table_builder_free(twice);
	tdir_free(&d1);
	tdir_free(&d2);
}

/* A reservation from a list's first rows: the arrays are allocated
 * once, and adds past the estimate still land. */
static void
test_reserve(void **state)
{
	struct table_builder *b = table_builder_new();
	const struct table_sizes some = { 100, 800, 100, 0 }, none = { 0 };
	struct table_sizes got;
	struct table *t;
	struct tdir d;
	uint32_t i;

	(void)state;
	tdir_new(&d);
	assert_int_equal(table_builder_reserve(b, &some), 0);
	add_records(b, 300);
	for (i = 0; i < 300; i++)
		assert_int_equal(table_builder_add_strong(b, 1000 + i,
		    hit(i, 0, 0)), 0);
	assert_int_equal(table_builder_reserve(b, &none), 0);
	/* What was added, not what was reserved. */
	table_builder_sizes(b, &got);
	assert_int_equal(got.recs, 300);
	assert_int_equal(got.id_bytes, 300 * sizeof "R000000");
	assert_int_equal(got.strong, 300);
	assert_int_equal(got.weak, 0);
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	assert_int_equal(table_records(t), 300);
	assert_string_equal(table_record_id(t, 299), "R000299");
	for (i = 0; i < 300; i++) {
		struct table_hit want = hit(i, 0, 0);

		want_strong(t, 1000 + i, &want, 1);
	}
	table_close(t);
	table_builder_free(b);
	tdir_free(&d);
}

static void
test_records(void **state)
{
	static const struct {
		const char	*id;
		uint16_t	 list;
		bool		 canary;
	} rows[] = {
		{ "C-0001", 0, false },
		{ "", 1, false },
		{ "客户-42", 2, true },
		{ "C-0001", 0, true },		/* ids need not be unique */
		{ "a-rather-long-record-identifier-that-goes-on-and-on-"
		  "and-on-0123456789", 2, false },
	};
	static const char *const lists[] = { "crm", "", "canaries" };
	struct table_builder *b = table_builder_new();
	struct table_info ti;
	struct table *t;
	struct tdir d;
	uint32_t rec, r;
	char err[256];

	(void)state;
	tdir_new(&d);
	for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		assert_int_equal(table_builder_add_record(b, rows[r].id,
		    rows[r].list, rows[r].canary, &rec), 0);
		assert_int_equal(rec, r);
	}
	memset(&ti, 0, sizeof ti);
	assert_int_equal(table_builder_write(b, d.path, &ti, lists, 3, NULL,
	    0, err, sizeof err), 0);
	assert_int_equal(ti.records, 5);
	t = open_ok(d.path);
	assert_int_equal(table_records(t), 5);
	for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		if (strcmp(table_record_id(t, r), rows[r].id) != 0)
			fail_msg("record %u: got id \"%s\", want \"%s\"", r,
			    table_record_id(t, r), rows[r].id);
		if (table_record_list(t, r) != rows[r].list)
			fail_msg("record %u: got list %u, want %u", r,
			    table_record_list(t, r), rows[r].list);
		if (table_record_canary(t, r) != rows[r].canary)
			fail_msg("record %u: got canary %d, want %d", r,
			    table_record_canary(t, r), rows[r].canary);
	}
	assert_null(table_record_id(t, 5));
	assert_int_equal(table_record_list(t, 5), 0);
	assert_false(table_record_canary(t, UINT32_MAX));
	table_close(t);
	table_builder_free(b);
	tdir_free(&d);
}

static void
test_info(void **state)
{
	static const char *const lists[] = { "crm", "hr", "suppliers" };
	struct table_builder *b = table_builder_new();
	const struct table_info *got;
	struct table_info ti;
	struct table *t;
	struct tdir d;
	char err[256];
	size_t i;

	(void)state;
	tdir_new(&d);
	add_records(b, 3);
	assert_int_equal(table_builder_add_strong(b, 10, hit(0, 0, 0)), 0);
	assert_int_equal(table_builder_add_strong(b, 10, hit(1, 0, 0)), 0);
	assert_int_equal(table_builder_add_strong(b, 11, hit(2, 0, 0)), 0);
	assert_int_equal(table_builder_add_weak(b, 3, hit(2, 1, 5)), 0);
	memset(&ti, 0, sizeof ti);
	/* Longest strings that fit. */
	memset(ti.version, 'v', sizeof ti.version - 1);
	memset(ti.digest, 'f', sizeof ti.digest - 1);
	ti.key_id = 0xfeedfacecafebeefULL;
	ti.built = -1234567890123LL;
	ti.records = 999;	/* the builder's counts win */
	assert_int_equal(table_builder_write(b, d.path, &ti, lists, 3, NULL,
	    0, err, sizeof err), 0);
	if (ti.records != 3 || ti.strong_values != 2 || ti.weak_values != 4)
		fail_msg("filled in: got %u/%u/%u, want 3/2/4", ti.records,
		    ti.strong_values, ti.weak_values);
	t = open_ok(d.path);
	got = table_info(t);
	if (memcmp(got, &ti, sizeof ti) != 0)
		fail_msg("info: got version \"%s\" digest \"%s\" key %llx "
		    "built %lld, want what was written", got->version,
		    got->digest, (unsigned long long)got->key_id,
		    (long long)got->built);
	assert_int_equal(table_lists(t), 3);
	for (i = 0; i < 3; i++)
		if (strcmp(table_list_name(t, i), lists[i]) != 0)
			fail_msg("list %zu: got \"%s\", want \"%s\"", i,
			    table_list_name(t, i), lists[i]);
	assert_null(table_list_name(t, 3));
	table_close(t);

	/* No info at all is fine too. */
	assert_int_equal(table_builder_write(b, d.path, NULL, lists, 3, NULL,
	    0, err, sizeof err), 0);
	t = open_ok(d.path);
	assert_string_equal(table_info(t)->version, "");
	assert_int_equal(table_info(t)->records, 3);
	table_close(t);
	table_builder_free(b);
	tdir_free(&d);
}

static void
test_blob(void **state)
{
	static const size_t lens[] = { 0, 1, 7, 8, 9, 1001, 65536 + 3 };
	struct table_builder *b = table_builder_new();
	unsigned char *blob;
	const void *got;
	struct table *t;
	struct tdir d;
	char err[256];
	size_t i, j, len;

	(void)state;
	tdir_new(&d);
	add_records(b, 1);
	assert_int_equal(table_builder_add_weak(b, 0, hit(0, 0, 0)), 0);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		blob = malloc(lens[i] + 1);
		assert_non_null(blob);
		for (j = 0; j < lens[i]; j++)
			blob[j] = (unsigned char)(j * 31 + i);
		assert_int_equal(table_builder_write(b, d.path, NULL,
		    one_list, 1, blob, lens[i], err, sizeof err), 0);
		t = open_ok(d.path);
		got = table_blob(t, &len);
		if (len != lens[i])
			fail_msg("blob: got %zu bytes, want %zu", len, lens[i]);
		if (len == 0)
			assert_null(got);
		else if (memcmp(got, blob, len) != 0)
			fail_msg("blob of %zu: got other bytes", len);
		/* Hyperscan wants its serialized database aligned. */
		if (len > 0 && ((uintptr_t)got & 7) != 0)
			fail_msg("blob at %p: want 8-byte aligned", got);
		table_close(t);
		free(blob);
	}
	table_builder_free(b);
	tdir_free(&d);
}

static void
test_million(void **state)
{
	const size_t nrec = 200000, per = 5, n = nrec * per;
	struct table_builder *b = table_builder_new();
	const struct table_hit *h;
	struct table *t;
	struct tdir d;
	uint64_t seed = 42, fp;
	size_t i, k;

	(void)state;
	tdir_new(&d);
	add_records(b, nrec);
	for (i = 0; i < n; i++)
		assert_int_equal(table_builder_add_strong(b, splitmix(&seed),
		    hit((uint32_t)(i / per), (uint16_t)(i % per), 1)), 0);
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	assert_int_equal(table_info(t)->strong_values, n);
	seed = 42;
	for (i = 0; i < n; i++) {
		fp = splitmix(&seed);
		k = table_lookup_strong(t, fp, &h);
		if (k != 1 || h->rec != i / per || h->field != i % per)
			fail_msg("value %zu: got %zu hits (rec %u field %u), "
			    "want rec %zu field %zu", i, k, k ? h->rec : 0,
			    k ? h->field : 0, i / per, i % per);
	}
	seed = 4242;
	for (i = 0; i < n; i++) {
		fp = splitmix(&seed);
		if ((k = table_lookup_strong(t, fp, &h)) != 0)
			fail_msg("absent value %zu: got %zu hits, want 0", i,
			    k);
	}
	/* The memory target: at most 32 bytes a value, all included. */
	if (table_size(t) > 32 * n)
		fail_msg("size: got %zu bytes (%.1f a value), want <= 32 a "
		    "value", table_size(t), (double)table_size(t) / n);
	table_close(t);
	table_builder_free(b);
	tdir_free(&d);
}

/* A small table with every section in use, for the damage tests. */
static void
write_sample(const char *path)
{
	static const char *const lists[] = { "crm", "hr" };
	struct table_builder *b = table_builder_new();
	struct table_info ti;
	char err[256];
	uint32_t i;

	add_records(b, 20);
	for (i = 0; i < 20; i++) {
		assert_int_equal(table_builder_add_strong(b, 1000 + i,
		    hit(i, 0, 0)), 0);
		assert_int_equal(table_builder_add_strong(b, 5,
		    hit(i, 1, 0)), 0);
		assert_int_equal(table_builder_add_weak(b, i % 4,
		    hit(i, 2, 5)), 0);
	}
	memset(&ti, 0, sizeof ti);
	(void)snprintf(ti.version, sizeof ti.version, "2024-06-01");
	assert_int_equal(table_builder_write(b, path, &ti, lists, 2,
	    "hyperscan", 9, err, sizeof err), 0);
	table_builder_free(b);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	gchar *c = NULL;
	gsize l;

	assert_true(g_file_get_contents(path, &c, &l, NULL));
	*len = l;
	return (unsigned char *)c;
}

static void
spit(const char *path, const unsigned char *buf, size_t len)
{
	assert_true(g_file_set_contents(path, (const gchar *)buf,
	    (gssize)len, NULL));
}

static uint64_t
get64(const unsigned char *buf, size_t off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof v);
	return v;
}

static void
put32(unsigned char *buf, size_t off, uint32_t v)
{
	memcpy(buf + off, &v, sizeof v);
}

/* Opening must fail with exactly want (after "PATH: "). */
static void
want_refused(const char *path, const char *want, const char *what)
{
	struct table *t;
	char err[512], full[512];

	(void)snprintf(full, sizeof full, "%s: %s", path, want);
	err[0] = '\0';
	if ((t = table_open(path, err, sizeof err)) != NULL) {
		table_close(t);
		fail_msg("%s: got a table, want \"%s\"", what, full);
	}
	if (strcmp(err, full) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", what, err, full);
}

/* A byte flipped anywhere after the header breaks the digest. */
static void
test_corrupt(void **state)
{
	unsigned char *orig, *buf;
	struct tdir d;
	size_t len, s, off;
	char what[64];

	(void)state;
	tdir_new(&d);
	write_sample(d.path);
	orig = slurp(d.path, &len);
	buf = malloc(len);
	assert_non_null(buf);
	for (s = SEC_RECORDS; s <= SEC_BLOB; s++) {
		off = (size_t)get64(orig, HDR_SEC + 16 * s);
		memcpy(buf, orig, len);
		buf[off] ^= 0x01;
		spit(d.path, buf, len);
		(void)snprintf(what, sizeof what, "flip in section %zu", s);
		want_refused(d.path, "corrupt (digest mismatch)", what);
	}
	memcpy(buf, orig, len);
	buf[len - 1] ^= 0x80;
	spit(d.path, buf, len);
	want_refused(d.path, "corrupt (digest mismatch)", "flip last byte");
	memcpy(buf, orig, len);
	buf[HDR_DIGEST] ^= 0x01;
	spit(d.path, buf, len);
	want_refused(d.path, "corrupt (digest mismatch)", "flip in digest");

	/* A byte more is not a table either. */
	memcpy(buf, orig, len);
	spit(d.path, buf, len);
	{
		FILE *f = fopen(d.path, "ab");

		assert_non_null(f);
		assert_int_equal(fputc(0, f), 0);
		assert_int_equal(fclose(f), 0);
	}
	(void)snprintf(what, sizeof what, "corrupt (%zu bytes, header says "
	    "%zu)", len + 1, len);
	want_refused(d.path, what, "trailing byte");

	/* Header fields are cross-checked. */
	memcpy(buf, orig, len);
	buf[HDR_RESERVED + 3] = 1;
	spit(d.path, buf, len);
	want_refused(d.path, "corrupt (bad header)", "reserved");
	memcpy(buf, orig, len);
	buf[HDR_SEC + 16 * SEC_BUCKETS] += 8;
	spit(d.path, buf, len);
	(void)snprintf(what, sizeof what, "corrupt (buckets section at %llu, "
	    "%llu bytes, file is %zu)",
	    (unsigned long long)get64(buf, HDR_SEC + 16 * SEC_BUCKETS),
	    (unsigned long long)get64(buf, HDR_SEC + 16 * SEC_BUCKETS + 8),
	    len);
	want_refused(d.path, what, "section offset");
	memcpy(buf, orig, len);
	buf[HDR_RECORDS] += 1;
	spit(d.path, buf, len);
	want_refused(d.path, "corrupt (counts disagree with section sizes)",
	    "record count");

	spit(d.path, orig, len);
	table_close(open_ok(d.path));
	free(buf);
	g_free(orig);
	tdir_free(&d);
}

static void
test_truncated(void **state)
{
	unsigned char *orig;
	struct tdir d;
	size_t len, i, cut;
	char want[128], what[64];

	(void)state;
	tdir_new(&d);
	write_sample(d.path);
	orig = slurp(d.path, &len);
	{
		const size_t cuts[] = { 0, 1, 7, 8, 12, 15, 16, 23, 24, 100,
		    255, 256, 257, 300, len / 2, len - 9, len - 1 };

		for (i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
			cut = cuts[i];
			spit(d.path, orig, cut);
			if (cut < 8)
				(void)snprintf(want, sizeof want,
				    "not a custos table");
			else if (cut < 24)
				(void)snprintf(want, sizeof want,
				    "truncated (%zu bytes, header alone is "
				    "256)", cut);
			else
				(void)snprintf(want, sizeof want,
				    "truncated (%zu bytes, header says %zu)",
				    cut, len);
			(void)snprintf(what, sizeof what, "cut at %zu", cut);
			want_refused(d.path, want, what);
		}
	}
	g_free(orig);
	tdir_free(&d);
}

static void
test_foreign(void **state)
{
	unsigned char *orig, *buf;
	struct tdir d;
	char p[160], want[300];
	size_t len;

	(void)state;
	tdir_new(&d);
	write_sample(d.path);
	orig = slurp(d.path, &len);
	buf = malloc(len);
	assert_non_null(buf);

	memcpy(buf, orig, len);
	buf[0] = 'X';
	spit(d.path, buf, len);
	want_refused(d.path, "not a custos table", "magic");
	spit(d.path, (const unsigned char *)"From: a@b\r\n\r\nhello\r\n", 20);
	want_refused(d.path, "not a custos table", "a mail");

	memcpy(buf, orig, len);
	put32(buf, HDR_VERSION, 2);
	spit(d.path, buf, len);
	want_refused(d.path, "format version 2, this custos reads 1",
	    "version 2");
	put32(buf, HDR_VERSION, 0);
	spit(d.path, buf, len);
	want_refused(d.path, "format version 0, this custos reads 1",
	    "version 0");

	memcpy(buf, orig, len);
	put32(buf, HDR_ENDIAN, 0x04030201);
	spit(d.path, buf, len);
	want_refused(d.path, "byte order differs from this host's",
	    "endianness");

	(void)snprintf(p, sizeof p, "%s/missing.tbl", d.dir);
	(void)snprintf(want, sizeof want, "%s", strerror(ENOENT));
	want_refused(p, want, "missing file");
	want_refused(d.dir, "not a regular file", "directory");

	free(buf);
	g_free(orig);
	tdir_free(&d);
}

/* Files with a valid digest but bad numbers inside (a buggy or hostile
 * writer): refused at open, so lookups never read outside the mapping. */
static void
test_forged(void **state)
{
	static const struct {
		const char	*what;
		int		 sec;
		size_t		 off;	/* in the section */
		uint32_t	 val;
		const char	*want;
	} rows[] = {
		{ "record id offset", SEC_RECORDS, 0, 100000, "records" },
		{ "record list", SEC_RECORDS, 4 + 8, 0x00000002, "records" },
		{ "record flags", SEC_RECORDS, 4, 0x00020000, "records" },
		{ "hit record", SEC_HITS, 0, 20, "hits" },
		{ "weak offset", SEC_WEAK_INDEX, 0, 1000, "weak index" },
		{ "weak count", SEC_WEAK_INDEX, 4, 6, "weak index" },
		{ "weak hit record", SEC_WEAK_HITS, 8, 99, "weak hits" },
		{ "list count", SEC_MANIFEST, 164, 3, "list names" },
		{ "manifest records", SEC_MANIFEST, 152, 21,
		    "manifest counts" },
	};
	unsigned char *orig, *buf;
	struct tdir d;
	size_t len, r, off;
	char want[64];

	(void)state;
	tdir_new(&d);
	write_sample(d.path);
	orig = slurp(d.path, &len);
	buf = malloc(len);
	assert_non_null(buf);
	for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		memcpy(buf, orig, len);
		off = (size_t)get64(buf, HDR_SEC + 16 * rows[r].sec);
		put32(buf, off + rows[r].off, rows[r].val);
		crypto_generichash(buf + HDR_DIGEST, 32, buf + HDR_SIZE,
		    len - HDR_SIZE, NULL, 0);
		spit(d.path, buf, len);
		(void)snprintf(want, sizeof want, "corrupt (%s)", rows[r].want);
		want_refused(d.path, want, rows[r].what);
	}

	/* Each kind of bucket: single with a bad record, multi with an
	 * offset or count out of range, and no empty bucket at all. */
	{
		size_t boff = (size_t)get64(orig, HDR_SEC + 16 * SEC_BUCKETS);
		size_t bsz = (size_t)get64(orig,
		    HDR_SEC + 16 * SEC_BUCKETS + 8);
		size_t i, single = 0, multi = 0, empty = 0;
		struct {
			const char	*what;
			size_t		 at;
			uint32_t	 val;
		} bad[5];
		uint16_t kind;

		for (i = 0; i < bsz; i += 16) {
			memcpy(&kind, orig + boff + i + 14, 2);
			if (get64(orig, boff + i) == 0)
				empty = boff + i;
			else if (kind & 0x8000)
				multi = boff + i;
			else
				single = boff + i;
		}
		assert_true(single && multi && empty);
		bad[0].what = "single record";
		bad[0].at = single + 8;
		bad[0].val = 20;
		bad[1].what = "multi offset";
		bad[1].at = multi + 8;
		bad[1].val = 1;
		bad[2].what = "multi count";
		bad[2].at = multi + 12;
		bad[2].val = 0x80000015;	/* count 21 of 20 */
		bad[3].what = "multi count 1";
		bad[3].at = multi + 12;
		bad[3].val = 0x80000001;
		bad[4].what = "empty with a hit";
		bad[4].at = empty + 8;
		bad[4].val = 1;
		for (r = 0; r < sizeof bad / sizeof bad[0]; r++) {
			memcpy(buf, orig, len);
			put32(buf, bad[r].at, bad[r].val);
			crypto_generichash(buf + HDR_DIGEST, 32,
			    buf + HDR_SIZE, len - HDR_SIZE, NULL, 0);
			spit(d.path, buf, len);
			want_refused(d.path, "corrupt (buckets)", bad[r].what);
		}
		/* Fill every empty bucket: a probe would never end. */
		memcpy(buf, orig, len);
		for (i = 0; i < bsz; i += 16)
			if (get64(buf, boff + i) == 0) {
				uint64_t fp = 0x7777000000000000ULL + i;

				memcpy(buf + boff + i, &fp, 8);
			}
		crypto_generichash(buf + HDR_DIGEST, 32, buf + HDR_SIZE,
		    len - HDR_SIZE, NULL, 0);
		spit(d.path, buf, len);
		want_refused(d.path, "corrupt (buckets)", "no empty bucket");
	}
	free(buf);
	g_free(orig);
	tdir_free(&d);
}

static void
test_bad_path(void **state)
{
	struct table_builder *b = table_builder_new();
	struct tdir d;
	char p[256], err[512], names[256];

	(void)state;
	tdir_new(&d);
	add_records(b, 1);
	assert_int_equal(table_builder_add_strong(b, 9, hit(0, 0, 0)), 0);

	(void)snprintf(p, sizeof p, "%s/no/such/dir/t.tbl", d.dir);
	err[0] = '\0';
	assert_int_equal(table_builder_write(b, p, NULL, one_list, 1, NULL,
	    0, err, sizeof err), -1);
	if (strstr(err, p) == NULL || strstr(err, strerror(ENOENT)) == NULL)
		fail_msg("got \"%s\", want the path and \"%s\"", err,
		    strerror(ENOENT));
	/* A regular file where a directory should be. */
	write_ok(b, d.path, NULL);
	(void)snprintf(p, sizeof p, "%s/x.tbl", d.path);
	assert_int_equal(table_builder_write(b, p, NULL, one_list, 1, NULL,
	    0, err, sizeof err), -1);
	assert_non_null(strstr(err, strerror(ENOTDIR)));
	if (tdir_count(&d, names, sizeof names) != 1)
		fail_msg("left behind: got%s, want t.tbl", names);
	table_builder_free(b);
	tdir_free(&d);
}

/* A failed write never touches the table at path and cleans up after
 * itself, whether it fails before or after creating its temporary. */
static void
test_replace(void **state)
{
	static const char *const two[] = { "a", "b" };
	struct table_builder *a = table_builder_new(), *b;
	const struct table_hit *h;
	struct rlimit rl, low;
	struct table *t;
	struct tdir d;
	char err[512], names[512], longp[512], base[256];
	uint32_t rec;

	(void)state;
	tdir_new(&d);
	add_records(a, 1);
	assert_int_equal(table_builder_add_strong(a, 111, hit(0, 0, 0)), 0);
	write_ok(a, d.path, NULL);

	/* Success replaces. */
	b = table_builder_new();
	add_records(b, 1);
	assert_int_equal(table_builder_add_strong(b, 222, hit(0, 0, 0)), 0);
	write_ok(b, d.path, NULL);
	t = open_ok(d.path);
	assert_int_equal(table_lookup_strong(t, 111, &h), 0);
	assert_int_equal(table_lookup_strong(t, 222, &h), 1);
	table_close(t);

	/* Bad input (a record in a list that is not there): refused
	 * before any file is made. */
	assert_int_equal(table_builder_add_record(b, "X", 1, false, &rec), 0);
	err[0] = '\0';
	assert_int_equal(table_builder_write(b, d.path, NULL, one_list, 1,
	    NULL, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "list 1 of 1"));

	/* Fails after the temporary exists: the file size limit stops
	 * posix_fallocate. */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	low = rl;
	low.rlim_cur = 300;
	(void)signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
	err[0] = '\0';
	assert_int_equal(table_builder_write(b, d.path, NULL, two, 2, NULL,
	    0, err, sizeof err), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	(void)signal(SIGXFSZ, SIG_DFL);
	if (strstr(err, ".tmp.") == NULL ||
	    strstr(err, strerror(EFBIG)) == NULL)
		fail_msg("got \"%s\", want the temporary and \"%s\"", err,
		    strerror(EFBIG));

	/* A name so long that "<name>.tmp.XXXXXX" cannot exist. */
	memset(base, 'n', 250);
	base[250] = '\0';
	(void)snprintf(longp, sizeof longp, "%s/%s", d.dir, base);
	assert_int_equal(rename(d.path, longp), 0);
	err[0] = '\0';
	assert_int_equal(table_builder_write(a, longp, NULL, one_list, 1,
	    NULL, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, strerror(ENAMETOOLONG)));
	assert_int_equal(rename(longp, d.path), 0);

	if (tdir_count(&d, names, sizeof names) != 1)
		fail_msg("left behind: got%s, want t.tbl", names);
	t = open_ok(d.path);
	assert_int_equal(table_lookup_strong(t, 222, &h), 1);
	assert_int_equal(table_lookup_strong(t, 111, &h), 0);
	table_close(t);
	table_builder_free(a);
	table_builder_free(b);
	tdir_free(&d);
}

static void
test_builder_refuses(void **state)
{
	static const struct {
		const char	*what;
		uint32_t	 rec;
		uint16_t	 kind;
	} rows[] = {
		{ "unknown record", 2, 0 },
		{ "reserved kind bit", 0, 0x8000 },
	};
	struct table_builder *b = table_builder_new();
	size_t r;

	(void)state;
	add_records(b, 2);
	for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		if (table_builder_add_strong(b, 5, hit(rows[r].rec, 0,
		    rows[r].kind)) != -1)
			fail_msg("strong, %s: got 0, want -1", rows[r].what);
		if (table_builder_add_weak(b, 5, hit(rows[r].rec, 0,
		    rows[r].kind)) != -1)
			fail_msg("weak, %s: got 0, want -1", rows[r].what);
	}
	assert_int_equal(table_builder_add_weak(b, UINT32_MAX,
	    hit(0, 0, 0)), -1);
	assert_int_equal(table_builder_add_record(b, NULL, 0, false, NULL),
	    -1);
	assert_int_equal(table_builder_add_record(b, "ok", 0, false, NULL),
	    0);
	table_builder_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_zero),
		cmocka_unit_test(test_prefetch),
		cmocka_unit_test(test_weak),
		cmocka_unit_test(test_weak_rising),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_blob),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_bad_path),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_builder_refuses),
	};

	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
