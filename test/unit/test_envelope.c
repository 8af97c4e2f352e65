/* test_envelope.c - the envelope sealed with a quarantined message: it
 * reads back exactly, and a damaged or foreign header is refused. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "envelope.h"

static void
test_seal_roundtrip(void **state)
{
	static const char *const rows[][4] = {
		/* from, rcpt..., NULL */
		{ "alice@example.com", "bob@gmail.test", "c@d.example", NULL },
		{ "", "x@y.example", NULL, NULL },	/* a bounce */
		{ "张三@例子.中国", "李四@example.com", NULL, NULL },
	};
	size_t i, k, hlen, off;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct envelope e, back;
		char *h;
		GString *blob;

		envelope_init(&e);
		envelope_init(&back);
		assert_int_equal(envelope_set_addr(&e.mail_from, rows[i][0]), 0);
		for (k = 1; k < 4 && rows[i][k] != NULL; k++)
			assert_int_equal(envelope_add_rcpt(&e, rows[i][k]), 0);
		h = envelope_seal_header(&e, &hlen);
		blob = g_string_new_len(h, (gssize)hlen);
		g_string_append(blob, "Subject: x\r\n\r\nbody\r\n");
		if (envelope_unseal(blob->str, blob->len, &back, &off) != 0)
			fail_msg("row %zu: got -1, want 0", i);
		assert_int_equal(off, hlen);
		assert_string_equal(back.mail_from, rows[i][0]);
		assert_int_equal(back.nrcpt, e.nrcpt);
		for (k = 0; k < e.nrcpt; k++)
			assert_string_equal(back.rcpt[k], e.rcpt[k]);
		assert_string_equal(blob->str + off, "Subject: x\r\n\r\nbody\r\n");
		g_string_free(blob, TRUE);
		g_free(h);
		envelope_clear(&e);
		envelope_clear(&back);
	}
}

static void
test_unseal_refuses(void **state)
{
	static const char *const rows[] = {
		"",
		"Subject: a message without the envelope\r\n\r\n",
		"CUSTOS-ENVELOPE 2\r\nFROM <a@b>\r\n\r\n",
		"CUSTOS-ENVELOPE 1\r\nFROM <a@b>\r\n",		/* no end */
		"CUSTOS-ENVELOPE 1\r\nBCC <a@b>\r\n\r\n",	/* unknown */
		"CUSTOS-ENVELOPE 1\r\nFROM\r\n\r\n",		/* short */
	};
	size_t i, off;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct envelope e;

		envelope_init(&e);
		if (envelope_unseal(rows[i], strlen(rows[i]), &e, &off) != -1)
			fail_msg("row %zu: got 0, want -1", i);
		envelope_clear(&e);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_unseal_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
