/* test_kinds.c - unit tests for the kind table (kinds.c).
 *
 * One row per kind: name, strong by default, value class; then parsing
 * (round trip, case, unknown names) and out-of-range kinds. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "kinds.h"

static const struct {
	enum field_kind		 kind;
	const char		*name;
	bool			 strong;
	enum value_class	 class;
} rows[] = {
	{ KIND_MOBILE, "mobile", true, CLASS_NUMERIC },
	{ KIND_PHONE, "phone", true, CLASS_NUMERIC },
	{ KIND_EMAIL, "email", true, CLASS_EMAIL },
	{ KIND_CN_ID, "cn_id", true, CLASS_ALNUM },
	{ KIND_ACCOUNT, "account", true, CLASS_NUMERIC },
	{ KIND_NAME, "name", false, CLASS_TEXT },
	{ KIND_COMPANY, "company", false, CLASS_TEXT },
	{ KIND_ADDRESS, "address", false, CLASS_TEXT },
	{ KIND_CUSTOM, "custom", false, CLASS_ALNUM },
};

static void
test_rows(void **state)
{
	enum field_kind	 k;
	size_t		 i;

	(void)state;
	assert_int_equal(sizeof rows / sizeof *rows, KIND_COUNT);
	for (i = 0; i < sizeof rows / sizeof *rows; i++) {
		if (strcmp(kind_name(rows[i].kind), rows[i].name) != 0)
			fail_msg("kind %zu: got name %s, want %s", i,
			    kind_name(rows[i].kind), rows[i].name);
		if (kind_strong_by_default(rows[i].kind) != rows[i].strong)
			fail_msg("%s: got strong %d, want %d", rows[i].name,
			    !rows[i].strong, rows[i].strong);
		if (kind_class(rows[i].kind) != rows[i].class)
			fail_msg("%s: got class %d, want %d", rows[i].name,
			    (int)kind_class(rows[i].kind), (int)rows[i].class);
		k = KIND_COUNT;
		if (kind_parse(rows[i].name, &k) != 0 || k != rows[i].kind)
			fail_msg("parse %s: got %d, want %d", rows[i].name,
			    (int)k, (int)rows[i].kind);
	}
}

static void
test_parse(void **state)
{
	enum field_kind	 k = KIND_COUNT;

	(void)state;
	assert_int_equal(kind_parse("CN_ID", &k), 0);
	assert_int_equal(k, KIND_CN_ID);
	k = KIND_COUNT;
	assert_int_equal(kind_parse("mobil", &k), -1);
	assert_int_equal(kind_parse("mobiles", &k), -1);
	assert_int_equal(kind_parse("", &k), -1);
	assert_int_equal(kind_parse(" mobile", &k), -1);
	assert_int_equal(kind_parse(NULL, &k), -1);
	assert_int_equal(kind_parse("mobile", NULL), -1);
	assert_int_equal(k, KIND_COUNT);	/* untouched on failure */
}

static void
test_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(kind_name(KIND_COUNT), "?");
	assert_string_equal(kind_name((enum field_kind)-1), "?");
	assert_false(kind_strong_by_default(KIND_COUNT));
	assert_int_equal(kind_class(KIND_COUNT), CLASS_ALNUM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
