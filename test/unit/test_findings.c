/* test_findings.c - unit tests for findings_once() (findings.c): each
 * distinct (class, key) counts once, whatever the keys look like (random
 * fingerprints, small numbers, keys that differ only in their high
 * bits, 0), across the set's growth and after findings_clear(). */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once),
		cmocka_unit_test(test_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
