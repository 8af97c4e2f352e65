/* test_mask.c - unit tests for mask_value() (mask.c).
 *
 * Table rows: kind, value, expected masked form, for every kind, short
 * values and Chinese text.  Then properties that must hold for any input:
 * the output is valid UTF-8 and fits MASK_MAX, and it shows no more
 * characters of the value than the kind's rule keeps (the middle digits
 * of a mobile number or the birth date of an ID never appear). */
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

#include "mask.h"

struct row {
	enum field_kind	 kind;
	const char	*value;
	size_t		 len;
	const char	*want;
};

#define R(k, lit, want)	{ (k), (lit), sizeof(lit) - 1, (want) }

static const struct row rows[] = {
	R(KIND_MOBILE, "13812345678", "138****5678"),
	R(KIND_MOBILE, "12345678", "1*******"),	/* short: first only */
	R(KIND_MOBILE, "1234567", "1******"),	/* <= kept: first only */
	R(KIND_PHONE, "02087654321", "02*******21"),
	R(KIND_PHONE, "075512345678", "07********78"),
	R(KIND_PHONE, "12345", "1****"),
	R(KIND_PHONE, "7", "7*"),
	R(KIND_CN_ID, "11010519491231002X", "110***********002X"),
	R(KIND_CN_ID, "110105491231002", "110********1002"),
	R(KIND_ACCOUNT, "6222021234561234", "6222********1234"),
	R(KIND_ACCOUNT, "6222021234567891234", "6222***********1234"),
	R(KIND_ACCOUNT, "123456789", "1********"),
	R(KIND_ACCOUNT, "12345678", "1*******"),
	/* Long runs show at most 16 stars, hiding the exact length. */
	R(KIND_ACCOUNT, "1234567890123456789012345678901234567890",
	    "1234****************7890"),
	R(KIND_EMAIL, "alice@example.com", "a***@example.com"),
	R(KIND_EMAIL, "a@b.cn", "a***@b.cn"),
	R(KIND_EMAIL, "@example.com", "***@example.com"),
	R(KIND_EMAIL, "a@b@example.com", "a***@example.com"),
	R(KIND_EMAIL, "alice", "a***"),
	R(KIND_EMAIL, "\xe5\xbc\xa0\xe4\xb8\x89@\xe4\xbe\x8b\xe5\xad\x90."
	    "\xe4\xb8\xad\xe5\x9b\xbd",		/* 张三@例子.中国 */
	    "\xe5\xbc\xa0***@\xe4\xbe\x8b\xe5\xad\x90.\xe4\xb8\xad\xe5\x9b\xbd"),
	R(KIND_NAME, "\xe5\xbc\xa0\xe4\xb8\x89", "\xe5\xbc\xa0*"),   /* 张三 */
	R(KIND_NAME, "\xe6\xac\xa7\xe9\x98\xb3\xe5\xa8\x9c\xe5\xa8\x9c",
	    "\xe6\xac\xa7***"),				/* 欧阳娜娜 */
	R(KIND_NAME, "\xe5\xbc\xa0", "\xe5\xbc\xa0*"),
	R(KIND_NAME, "John Smith", "J*********"),
	R(KIND_COMPANY, "\xe6\xb7\xb1\xe5\x9c\xb3\xe5\xb8\x82\xe8\x85\xbe"
	    "\xe8\xae\xaf\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
	    "\xe6\xb7\xb1\xe5\x9c\xb3**"),		/* 深圳市腾讯有限公司 */
	R(KIND_COMPANY, "Acme Ltd", "Ac**"),
	R(KIND_COMPANY, "\xe6\xb7\xb1\xe5\x9c\xb3", "\xe6\xb7\xb1**"),
	R(KIND_ADDRESS, "\xe5\x8c\x97\xe4\xba\xac\xe5\xb8\x82\xe6\xb5\xb7"
	    "\xe6\xb7\x80\xe5\x8c\xba 1 \xe5\x8f\xb7",
	    "\xe5\x8c\x97\xe4\xba\xac**"),		/* 北京市海淀区 1 号 */
	R(KIND_ADDRESS, "1 Main St", "1 **"),
	R(KIND_CUSTOM, "abcdefgh", "ab***gh"),
	R(KIND_CUSTOM, "abcdefghijklmnop", "ab***op"),
	R(KIND_CUSTOM, "abcdefg", "a***"),
	R(KIND_CUSTOM, "ab", "a***"),
	R(KIND_CUSTOM, "\xe5\xae\xa2\xe6\x88\xb7\xe7\xbc\x96\xe5\x8f\xb7"
	    "\xe4\xb8\x80\xe4\xba\x8c\xe4\xb8\x89\xe5\x9b\x9b",
	    "\xe5\xae\xa2\xe6\x88\xb7***\xe4\xb8\x89\xe5\x9b\x9b"),
	/* Invalid UTF-8: a bad byte is one character, shown as '?'. */
	R(KIND_NAME, "\xff\xfe", "?*"),
	R(KIND_COMPANY, "\xe5\xbc", "?**"),	/* truncated sequence */
	R(KIND_CUSTOM, "\xe5\xbc\xa0\xe4\xb8xxxxxx\xff", "\xe5\xbc\xa0?***x?"),
	R(KIND_NAME, "\0abc", "?***"),		/* NUL would cut the string */
	R(KIND_EMAIL, "a@exa\xffmple.com", "a***@exa?mple.com"),
	R(KIND_MOBILE, "", ""),
	/* An unknown kind is masked as custom. */
	R((enum field_kind)99, "abcdefgh", "ab***gh"),
	R((enum field_kind)-1, "abcdefgh", "ab***gh"),
};

#undef R

static void
test_rows(void **state)
{
	char	 out[MASK_MAX];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof *rows; i++) {
		memset(out, 'Z', sizeof out);
		mask_value(rows[i].kind, rows[i].value, rows[i].len, out);
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu (kind %d): got \"%s\", want \"%s\"",
			    i, (int)rows[i].kind, out, rows[i].want);
	}
}

static void
test_null(void **state)
{
	char	 out[MASK_MAX];

	(void)state;
	memset(out, 'Z', sizeof out);
	mask_value(KIND_NAME, NULL, 10, out);
	assert_string_equal(out, "");
}

/* The parts of a value that must never show in its mask. */
static const struct {
	enum field_kind	 kind;
	const char	*value;
	const char	*secret;
} secrets[] = {
	{ KIND_MOBILE, "13824695678", "2469" },
	{ KIND_MOBILE, "13824695678", "824" },
	{ KIND_PHONE, "02087654321", "8765" },
	{ KIND_CN_ID, "11010519491231002X", "19491231" },
	{ KIND_CN_ID, "11010519491231002X", "0105" },
	{ KIND_ACCOUNT, "6222027788991234", "0277" },
	{ KIND_ACCOUNT, "6222027788991234", "8899" },
	{ KIND_EMAIL, "zhangsan@example.com", "han" },
	{ KIND_NAME, "\xe5\xbc\xa0\xe4\xb8\x89", "\xe4\xb8\x89" },
	{ KIND_COMPANY, "\xe6\xb7\xb1\xe5\x9c\xb3\xe5\xb8\x82\xe8\x85\xbe",
	    "\xe5\xb8\x82" },
	{ KIND_CUSTOM, "abcdefgh", "cdef" },
	{ KIND_CUSTOM, "abcdefg", "b" },
	{ KIND_CUSTOM, "abcdefg", "g" },
};

static void
test_secrets(void **state)
{
	char	 out[MASK_MAX];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof secrets / sizeof *secrets; i++) {
		mask_value(secrets[i].kind, secrets[i].value,
		    strlen(secrets[i].value), out);
		if (strstr(out, secrets[i].secret) != NULL)
			fail_msg("%s: got \"%s\", which shows \"%s\"",
			    secrets[i].value, out, secrets[i].secret);
	}
}

/* Characters each kind may show (of the local part, for e-mail). */
static size_t
kept(enum field_kind k)
{
	switch (k) {
	case KIND_MOBILE:
	case KIND_PHONE:
	case KIND_CN_ID:
		return 7;
	case KIND_ACCOUNT:
	case KIND_CUSTOM:
		return k == KIND_ACCOUNT ? 8 : 4;
	case KIND_COMPANY:
	case KIND_ADDRESS:
		return 2;
	default:
		return 1;
	}
}

/* Deterministic, so a failure can be replayed. */
static uint32_t
lcg(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

/*
 * Values from an alphabet without '*', so every non-star character in
 * the output came from the value (or is a '?' standing for a bad byte):
 * their number must not pass the rule's, and the output must be valid
 * UTF-8 that fits, whatever the value and its length.
 */
static void
test_properties(void **state)
{
	static const char *const alpha[] = { "1", "a", "Z", "@", ".",
	    "\xe5\xbc\xa0", "\xe4\xb8\x89", "\xf0\x9f\x98\x80", "\xc3\xa9",
	    "\xff", "\xe5\xbc", "\x80" };
	char		 val[400], out[MASK_MAX];
	const char	*p, *at;
	uint32_t	 seed = 1;
	size_t		 n, len, shown, alen, iter;
	enum field_kind	 k;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		k = (enum field_kind)(lcg(&seed) % KIND_COUNT);
		n = lcg(&seed) % 90;
		len = 0;
		while (n-- > 0) {
			p = alpha[lcg(&seed) % (sizeof alpha / sizeof *alpha)];
			alen = strlen(p);
			memcpy(val + len, p, alen);
			len += alen;
		}
		memset(out, 'Z', sizeof out);
		mask_value(k, val, len, out);
		if (memchr(out, '\0', MASK_MAX) == NULL)
			fail_msg("iter %zu: output not terminated", iter);
		if (!g_utf8_validate(out, -1, NULL))
			fail_msg("iter %zu kind %d: got invalid UTF-8", iter,
			    (int)k);
		/* E-mail shows its domain: count only up to the '@'. */
		at = k == KIND_EMAIL ? strrchr(out, '@') : NULL;
		shown = 0;
		for (p = out; *p != '\0' && (at == NULL || p < at);
		    p = g_utf8_next_char(p))
			if (*p != '*')
				shown++;
		if (shown > kept(k))
			fail_msg("iter %zu kind %d: got %zu characters shown "
			    "(\"%s\"), want at most %zu", iter, (int)k, shown,
			    out, kept(k));
	}
}

/* A domain too long for MASK_MAX is cut at a character with "...". */
static void
test_long_domain(void **state)
{
	char	 val[300], out[MASK_MAX];
	size_t	 i, len;

	(void)state;
	memcpy(val, "alice@", 6);
	len = 6;
	for (i = 0; i < 80; i++) {
		memcpy(val + len, "\xe4\xbe\x8b", 3);	/* 例 */
		len += 3;
	}
	memcpy(val + len, ".com", 4);
	len += 4;
	mask_value(KIND_EMAIL, val, len, out);
	assert_true(strlen(out) < MASK_MAX);
	assert_true(g_utf8_validate(out, -1, NULL));
	assert_memory_equal(out, "a***@\xe4\xbe\x8b", 8);
	len = strlen(out);
	assert_true(len > 3);
	assert_string_equal(out + len - 3, "...");
	/* Nothing longer than MASK_MAX - 1 bytes. */
	assert_true(len <= MASK_MAX - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_long_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
