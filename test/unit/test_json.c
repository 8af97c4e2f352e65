/* test_json.c - the JSON writer: structure, commas, escaping, and valid
 * output from invalid UTF-8. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static void
expect(struct json *j, const char *want)
{
	size_t len;
	char *got = json_finish(j, &len);

	if (strcmp(got, want) != 0 || len != strlen(want))
		fail_msg("got  %s\nwant %s", got, want);
	g_free(got);
}

static void
test_structure(void **state)
{
	struct json j;

	(void)state;
	json_init(&j);
	json_object_begin(&j);
	json_kv_string(&j, "a", "x");
	json_kv_uint(&j, "n", 42);
	json_key(&j, "list");
	json_array_begin(&j);
	json_int(&j, -1);
	json_bool(&j, true);
	json_null(&j);
	json_object_begin(&j);
	json_object_end(&j);
	json_array_begin(&j);
	json_array_end(&j);
	json_array_end(&j);
	json_kv_string(&j, "none", NULL);
	json_key(&j, "f");
	json_double(&j, 1.5, 2);
	json_object_end(&j);
	expect(&j, "{\"a\":\"x\",\"n\":42,\"list\":[-1,true,null,{},[]],"
	    "\"none\":null,\"f\":1.50}");
}

static void
test_escaping(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} rows[] = {
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
		{ "\n\r\t\x01\x7f", 5, "\"\\n\\r\\t\\u0001\\u007f\"" },
		{ "\xe5\xae\xa2\xe6\x88\xb7", 6, "\"\xe5\xae\xa2\xe6\x88\xb7\"" },
		/* invalid and truncated UTF-8 become U+FFFD */
		{ "a\xff" "b", 3, "\"a\xef\xbf\xbd" "b\"" },
		{ "\xe5\xae", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "x\0y", 3, "\"x\\u0000y\"" },
		/* two- and four-byte characters pass; an overlong form, a
		 * surrogate and a code point past U+10FFFF are a U+FFFD a
		 * byte (RFC 3629) */
		{ "\xc3\xa9\xf0\x9f\x98\x80", 6,
		    "\"\xc3\xa9\xf0\x9f\x98\x80\"" },
		{ "\xc0\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xed\xa0\x80", 3,
		    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd\xef\xbf\xbd\"" },
	};
	struct json j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		json_init(&j);
		json_string_len(&j, rows[i].in, rows[i].len);
		expect(&j, rows[i].want);
	}
}

/* Every ASCII byte alone and inside a run of plain ones: itself, its
 * short escape, or \u00XX, as JSON asks. */
static void
test_ascii(void **state)
{
	char in[4], want[16];
	struct json j;
	unsigned c;

	(void)state;
	for (c = 0; c < 0x80; c++) {
		in[0] = 'a';
		in[1] = (char)c;
		in[2] = 'b';
		if (c == '"' || c == '\\')
			(void)snprintf(want, sizeof want, "\"a\\%cb\"", c);
		else if (c == '\n' || c == '\r' || c == '\t')
			(void)snprintf(want, sizeof want, "\"a\\%cb\"",
			    c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		else if (c < 0x20 || c == 0x7f)
			(void)snprintf(want, sizeof want, "\"a\\u%04xb\"", c);
		else
			(void)snprintf(want, sizeof want, "\"a%cb\"", c);
		json_init(&j);
		json_string_len(&j, in, 3);
		expect(&j, want);
	}
}

static void
test_deep(void **state)
{
	struct json j;
	int i;
	size_t len;
	char *out;

	(void)state;
	json_init(&j);
	for (i = 0; i < 100; i++)
		json_array_begin(&j);
	json_int(&j, 1);
	json_int(&j, 2);
	for (i = 0; i < 100; i++)
		json_array_end(&j);
	out = json_finish(&j, &len);
	/* Brackets stay balanced even beyond JSON_MAX_DEPTH. */
	assert_int_equal(len, 100 + 3 + 100);
	g_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
