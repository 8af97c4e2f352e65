/* test_weakprune.c - the weak hits kept are exactly those of records
 * with a strong hit or weak hits of two fields, in their order: against
 * a quadratic reference on random hits (few records: many collisions in
 * the set; many: a set grown between calls), and the cases by hand. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "weakprune.h"

static uint64_t
next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Whether w[i]'s record can be corroborated, by looking at everything. */
static bool
ref_keep(const struct pos_hit *w, size_t nw, const struct pos_hit *s,
    size_t ns, size_t i)
{
	size_t j;

	for (j = 0; j < ns; j++)
		if (s[j].rec == w[i].rec)
			return true;
	for (j = 0; j < nw; j++)
		if (w[j].rec == w[i].rec && w[j].field != w[i].field)
			return true;
	return false;
}

static void
check_random(struct weakprune *wp, size_t nw, size_t ns, uint32_t nrec,
    uint16_t nfield, uint64_t seed)
{
	struct pos_hit *w = calloc(nw + 1, sizeof *w);
	struct pos_hit *in = calloc(nw + 1, sizeof *in);
	struct pos_hit *want = calloc(nw + 1, sizeof *want);
	struct pos_hit *s = calloc(ns + 1, sizeof *s);
	size_t i, k = 0, got;

	assert_non_null(w);
	assert_non_null(in);
	assert_non_null(want);
	assert_non_null(s);
	for (i = 0; i < nw; i++) {
		/* records far apart as well as next to each other */
		in[i].rec = (uint32_t)(next(&seed) % nrec) * 7919u;
		in[i].pos = (uint32_t)i;
		in[i].field = (uint16_t)(next(&seed) % nfield);
		in[i].kind = (uint16_t)i;	/* tells hits apart */
	}
	for (i = 0; i < ns; i++)
		s[i].rec = (uint32_t)(next(&seed) % (nrec * 2)) * 7919u;
	for (i = 0; i < nw; i++)
		if (ref_keep(in, nw, s, ns, i))
			want[k++] = in[i];
	memcpy(w, in, nw * sizeof *w);
	got = weakprune_run(wp, w, nw, s, ns);
	assert_int_equal(got, k);
	assert_memory_equal(w, want, k * sizeof *w);
	free(w);
	free(in);
	free(want);
	free(s);
}

static void
test_random(void **state)
{
	struct weakprune wp;
	static const size_t sizes[] = { 1, 2, 7, 40, 300, 2000 };
	size_t a, b;
	uint64_t seed = 0x5eed1234abcdULL;

	(void)state;
	weakprune_init(&wp);
	for (a = 0; a < sizeof sizes / sizeof *sizes; a++)
		for (b = 0; b < 4; b++) {
			size_t nw = sizes[a], ns = b * nw / 3;

			/* few records, two fields: most are kept */
			check_random(&wp, nw, ns, (uint32_t)(nw / 4 + 1), 2,
			    seed++);
			/* many records, one field: only the strong ones */
			check_random(&wp, nw, ns, (uint32_t)(nw * 8 + 1), 1,
			    seed++);
			/* in between, several fields */
			check_random(&wp, nw, ns, (uint32_t)(nw + 1), 5,
			    seed++);
		}
	weakprune_free(&wp);
}

static void
test_cases(void **state)
{
	struct weakprune wp;
	/* rec 1: one field twice (dropped); rec 2: two fields (kept);
	 * rec 3: one field and a strong hit (kept); rec 0: one field,
	 * no strong hit (dropped); rec UINT32_MAX: two fields (kept) */
	struct pos_hit w[] = {
		{ 1, 10, 4, 0, 0 }, { 2, 11, 4, 0, 0 }, { 3, 12, 4, 0, 0 },
		{ 1, 13, 4, 0, 0 }, { 2, 14, 5, 0, 0 }, { 0, 15, 4, 0, 0 },
		{ UINT32_MAX, 16, 1, 0, 0 }, { UINT32_MAX, 17, 2, 0, 0 },
	};
	const struct pos_hit s[] = { { 3, 99, 0, 0, 0 } };
	const uint32_t want_pos[] = { 11, 12, 14, 16, 17 };
	size_t i, n;

	(void)state;
	weakprune_init(&wp);
	assert_int_equal(weakprune_run(&wp, w, 0, s, 1), 0);
	n = weakprune_run(&wp, w, sizeof w / sizeof *w, s, 1);
	assert_int_equal(n, sizeof want_pos / sizeof *want_pos);
	for (i = 0; i < n; i++)
		assert_int_equal(w[i].pos, want_pos[i]);
	weakprune_free(&wp);
}

/* Too many hits for the set: nothing is dropped, which is always
 * right. */
static void
test_too_many(void **state)
{
	struct weakprune wp;
	size_t n = WEAKPRUNE_MAX_HITS + 1, i;
	struct pos_hit *w = calloc(n, sizeof *w);

	(void)state;
	assert_non_null(w);
	for (i = 0; i < n; i++)
		w[i].rec = (uint32_t)i;
	weakprune_init(&wp);
	assert_int_equal(weakprune_run(&wp, w, n, NULL, 0), n);
	assert_int_equal(weakprune_run(&wp, w, n - 1, NULL, 0), 0);
	weakprune_free(&wp);
	free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_too_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
