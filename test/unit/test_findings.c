/* test_findings.c - unit tests for findings_once() and
 * findings_add_record() (findings.c): each distinct (class, key) counts
 * once, and each record once with the union of its kinds, whatever the
 * keys look like (random fingerprints, small numbers, keys that differ
 * only in their high bits, 0), across the sets' growth and after
 * findings_clear(). */
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

#include "findings.h"

#define NKEYS	20000

/* The keys of one shape, i of NKEYS. */
static uint64_t
key_of(int shape, size_t i)
{
	uint64_t x = i + 1;

	switch (shape) {
	case 0:		/* like a fingerprint */
		x *= 0x9e3779b97f4a7c15ULL;
		return x ^ (x >> 29);
	case 1:		/* a record's field: rec << 16 | field */
		return ((uint64_t)(i / 3) << 16) | (i % 3);
	case 2:		/* only the high bits differ */
		return (uint64_t)i << 44;
	default:	/* small numbers, 0 included */
		return i;
	}
}

static void
test_once(void **state)
{
	struct findings f;
	size_t i;
	int shape, got;

	(void)state;
	assert_int_equal(findings_init(&f, 0), 0);
	for (shape = 0; shape < 4; shape++) {
		for (i = 0; i < NKEYS; i++)
			if ((got = findings_once(&f, 0x100u + (unsigned)shape,
			    key_of(shape, i))) != 1)
				fail_msg("shape %d key %zu: first time got %d, "
				    "want 1", shape, i, got);
		for (i = 0; i < NKEYS; i++)
			if ((got = findings_once(&f, 0x100u + (unsigned)shape,
			    key_of(shape, i))) != 0)
				fail_msg("shape %d key %zu: again got %d, "
				    "want 0", shape, i, got);
	}
	/* The same key under another class is another value. */
	assert_int_equal(findings_once(&f, 0x200, key_of(0, 7)), 1);
	assert_int_equal(findings_once(&f, 0x200, key_of(0, 7)), 0);
	findings_clear(&f);
	assert_int_equal(findings_once(&f, 0x100, key_of(0, 7)), 1);
	assert_int_equal(findings_once(&f, 0x100, key_of(0, 7)), 0);
	findings_free(&f);
}

/* A key that folds to 0 (class 0, key 0) is a value like any other. */
static void
test_zero(void **state)
{
	struct findings f;

	(void)state;
	assert_int_equal(findings_init(&f, 0), 0);
	assert_int_equal(findings_once(&f, 0, 0), 1);
	assert_int_equal(findings_once(&f, 0, 0), 0);
	assert_int_equal(findings_once(&f, 0, 1), 1);
	assert_int_equal(findings_once(&f, 1, 0), 1);
	assert_int_equal(findings_once(&f, 1, 0), 0);
	findings_free(&f);
}

/* Records of every shape (record 0 included), each added three times
 * with another kind: counted once, per list and canary once, the kinds
 * OR-ed, the first segment kept; findings_sorted orders them by list
 * then id. */
static void
test_records(void **state)
{
	static char ids[NKEYS][16];
	const struct finding_record **v;
	struct findings f;
	size_t i, n, k;
	uint32_t rec;
	int shape;

	(void)state;
	for (shape = 0; shape < 3; shape++) {
		assert_int_equal(findings_init(&f, 0), 0);
		for (k = 0; k < 3; k++)
			for (i = 0; i < NKEYS; i++) {
				rec = (uint32_t)key_of(shape == 2 ? 3 : shape,
				    i) ^ (shape == 2 ? 0x80000000u : 0);
				(void)snprintf(ids[i], sizeof ids[i], "R%05zu",
				    NKEYS - i);
				assert_int_equal(findings_add_record(&f, rec,
				    ids[i], (uint16_t)(i % 2), i % 1000 == 0,
				    (uint32_t)k, (enum field_kind)k), k == 0);
			}
		assert_int_equal(findings_records(&f), NKEYS);
		assert_int_equal(f.per_list[0], NKEYS / 2);
		assert_int_equal(f.per_list[1], NKEYS / 2);
		assert_int_equal(f.canaries, NKEYS / 1000);
		v = findings_sorted(&f, &n);
		assert_int_equal(n, NKEYS);
		for (i = 0; i < n; i++) {
			if (v[i]->kinds != 7 || v[i]->segment != 0)
				fail_msg("shape %d record %s: kinds %x segment "
				    "%u, want 7 and 0", shape, v[i]->id,
				    v[i]->kinds, v[i]->segment);
			if (i > 0 && (v[i - 1]->list > v[i]->list ||
			    (v[i - 1]->list == v[i]->list &&
			    strcmp(v[i - 1]->id, v[i]->id) >= 0)))
				fail_msg("shape %d: %s before %s", shape,
				    v[i - 1]->id, v[i]->id);
		}
		g_free(v);
		findings_clear(&f);
		assert_int_equal(findings_records(&f), 0);
		assert_int_equal(findings_add_record(&f, 5, "X", 0, false, 0,
		    KIND_NAME), 1);
		findings_free(&f);
	}
}

/* The order findings_order keeps gives what sorting gives, and is
 * dropped when a record comes after it (the records array moving as it
 * grows): findings_sorted then sorts anew, and findings_order keeps the
 * new order. */
static void
test_sorted_cache(void **state)
{
	static const char *const ids[] = { "C05", "C01", "C04", "C02" };
	const struct finding_record **a, **b;
	struct findings f;
	size_t na, nb, i;
	char more[40][8];

	(void)state;
	assert_int_equal(findings_init(&f, 0), 0);
	for (i = 0; i < 4; i++)
		(void)findings_add_record(&f, (uint32_t)i, ids[i], 0, false, 0,
		    KIND_MOBILE);
	a = findings_sorted(&f, &na);
	assert_null(f.records.order);	/* only findings_order keeps one */
	findings_order(&f);
	assert_non_null(f.records.order);
	b = findings_sorted(&f, &nb);
	assert_int_equal(na, 4);
	assert_int_equal(nb, 4);
	assert_memory_equal(a, b, 4 * sizeof *a);
	assert_string_equal(b[0]->id, "C01");
	assert_string_equal(b[3]->id, "C05");
	g_free(a);
	g_free(b);
	/* 40 more: v is reallocated; "C03" lands between C02 and C04 */
	for (i = 0; i < 40; i++) {
		(void)snprintf(more[i], sizeof more[i], i == 0 ? "C03" :
		    "D%02zu", 40 - i);
		(void)findings_add_record(&f, (uint32_t)(100 + i), more[i], 0,
		    false, 0, KIND_MOBILE);
	}
	a = findings_sorted(&f, &na);
	assert_int_equal(na, 44);
	assert_string_equal(a[2]->id, "C03");
	assert_string_equal(a[3]->id, "C04");
	assert_string_equal(a[5]->id, "D01");
	assert_string_equal(a[43]->id, "D39");
	for (i = 0; i < na; i++)
		assert_true(a[i] >= f.records.v && a[i] < f.records.v + 44);
	findings_order(&f);
	b = findings_sorted(&f, &nb);
	assert_int_equal(nb, 44);
	assert_memory_equal(a, b, 44 * sizeof *a);
	g_free(a);
	g_free(b);
	findings_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once),
		cmocka_unit_test(test_zero),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_sorted_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
