/* test_incident.c - incident ids: format, alphabet, uniqueness, and
 * reading back what a person typed. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "incident.h"

static void
test_format(void **state)
{
	char id[INCIDENT_ID_SIZE], back[INCIDENT_ID_SIZE];
	int i, k;

	(void)state;
	for (i = 0; i < 1000; i++) {
		assert_int_equal(incident_new(id), 0);
		assert_int_equal(strlen(id), 14);
		for (k = 0; k < 14; k++) {
			if (k == 4 || k == 9) {
				assert_int_equal(id[k], '-');
				continue;
			}
			/* No letters people misread. */
			if (strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ",
			    id[k]) == NULL)
				fail_msg("%s: bad character '%c'", id, id[k]);
		}
		assert_int_equal(incident_parse(id, back), 0);
		assert_string_equal(id, back);
	}
}

static void
test_unique(void **state)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	char id[INCIDENT_ID_SIZE];
	int i;

	(void)state;
	for (i = 0; i < 100000; i++) {
		assert_int_equal(incident_new(id), 0);
		if (!g_hash_table_add(seen, g_strdup(id)))
			fail_msg("duplicate id %s after %d", id, i);
	}
	g_hash_table_destroy(seen);
}

static void
test_parse(void **state)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{ "7k2m-q9xd-3f0a", "7K2M-Q9XD-3F0A" },
		{ "7K2MQ9XD3F0A", "7K2M-Q9XD-3F0A" },
		{ "7K2M Q9XD 3FOA", "7K2M-Q9XD-3F0A" },	/* O read as 0 */
		{ "ilIL-0000-0000", "1111-0000-0000" },
		{ "7K2M-Q9XD-3F0", NULL },		/* too short */
		{ "7K2M-Q9XD-3F0AB", NULL },		/* too long */
		{ "7K2M-Q9XD-3F0U", NULL },		/* U is not used */
		{ "", NULL },
	};
	char out[INCIDENT_ID_SIZE];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int rc = incident_parse(rows[i].in, out);

		if (rows[i].want == NULL) {
			if (rc == 0)
				fail_msg("\"%s\": got %s, want an error",
				    rows[i].in, out);
			continue;
		}
		if (rc != 0 || strcmp(out, rows[i].want) != 0)
			fail_msg("\"%s\": got %s, want %s", rows[i].in,
			    rc == 0 ? out : "error", rows[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_unique),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
