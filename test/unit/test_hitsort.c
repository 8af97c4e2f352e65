/* test_hitsort.c - hits by record, then place: the same order as a
 * stable comparison sort, for few hits and many, in the order of their
 * places already (the weak pass's) or in any order. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hitsort.h"

/* xorshift64: the same hits on every run. */
static uint64_t
next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* By record, place, then field: each hit's field is its index in the
 * input, so this is the stable order. */
static int
cmp_stable(const void *a, const void *b)
{
	const struct pos_hit *x = a, *y = b;

	if (x->rec != y->rec)
		return x->rec < y->rec ? -1 : 1;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->field < y->field ? -1 : x->field > y->field;
}

static int
cmp_pos(const void *a, const void *b)
{
	const struct pos_hit *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* n hits, records below rec_max and places below pos_max (few values:
 * ties), placed: in rising order of place first.  Sorted by hitsort and
 * by the reference, compared. */
static void
check(size_t n, uint32_t rec_max, uint32_t pos_max, int placed,
    uint64_t seed)
{
	struct pos_hit *v = calloc(n + 1, sizeof *v);
	struct pos_hit *want = calloc(n + 1, sizeof *want);
	struct pos_hit *in = calloc(n + 1, sizeof *in);
	const uint32_t hint[3] = { rec_max - 1, rec_max / 3, UINT32_MAX };
	size_t i, h;

	assert_non_null(v);
	assert_non_null(want);
	assert_non_null(in);
	for (i = 0; i < n; i++) {
		v[i].rec = (uint32_t)(next(&seed) % rec_max);
		v[i].pos = (uint32_t)(next(&seed) % pos_max);
		v[i].kind = (uint16_t)(i % 7);
	}
	if (placed)
		qsort(v, n, sizeof *v, cmp_pos);
	for (i = 0; i < n; i++)
		v[i].field = (uint16_t)i;	/* n <= 65536 */
	memcpy(want, v, n * sizeof *v);
	qsort(want, n, sizeof *want, cmp_stable);
	memcpy(in, v, n * sizeof *v);
	/* The bound the scan gives (the table's last record), one too
	 * small (another count), and none. */
	for (h = 0; h < 3; h++) {
		memcpy(v, in, n * sizeof *v);
		hitsort(v, n, hint[h]);
		for (i = 0; i < n; i++)
			if (memcmp(&v[i], &want[i], sizeof v[i]) != 0)
				fail_msg("n %zu placed %d max_rec %u: hit %zu "
				    "is rec %u pos %u (input %u), want rec %u "
				    "pos %u (input %u)", n, placed, hint[h], i,
				    v[i].rec, v[i].pos, v[i].field,
				    want[i].rec, want[i].pos, want[i].field);
	}
	free(v);
	free(want);
	free(in);
}

static void
test_few(void **state)
{
	static const size_t sizes[] = { 0, 1, 2, 5, 63 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		check(sizes[i], 10, 20, 0, 7 + i);
		check(sizes[i], 10, 20, 1, 11 + i);
	}
}

/* Past 64 hits, the radix sort, with records and places in all four
 * bytes (the top ones too) and in as many bits as a list's records
 * take: in any order, and already in the order of their places, where
 * the place passes are skipped and each record's hits keep that
 * order. */
static void
test_many(void **state)
{
	static const struct {
		size_t		n;
		uint32_t	rec_max, pos_max;
		uint64_t	seed[2];	/* any order, placed */
	} cases[] = {
		{ 64, 1000, 1000, { 3, 17 } },
		{ 5000, 50, 100000, { 5, 19 } },
		{ 65536, UINT32_MAX, UINT32_MAX, { 9, 23 } },
		{ 20000, 3, 3, { 13, 29 } },	/* ties everywhere */
		/* digits sized to the bits used: one pass of 10 bits, two
		 * of 6, two of 9 (100,000 records), three of 8 */
		{ 3000, 1024, 1024, { 31, 37 } },
		{ 3000, 2049, 2049, { 41, 43 } },
		{ 6000, 100000, 300000, { 47, 53 } },
		{ 6000, (1u << 22) + 1, (1u << 22) + 1, { 59, 61 } },
	};
	size_t i;
	int placed;

	(void)state;
	for (placed = 0; placed < 2; placed++)
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
			check(cases[i].n, cases[i].rec_max, cases[i].pos_max,
			    placed, cases[i].seed[placed]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_few),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
