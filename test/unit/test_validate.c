/* test_validate.c - unit tests for the identifier validators (validate.c).
 *
 * Table rows: input, expected answer.  Good vectors are published ones
 * (GB 11643's sample ID, card networks' test numbers, the IBAN registry's
 * examples) or were computed with an independent script and hard-coded;
 * each bad vector breaks exactly one rule (check digit, date, length,
 * prefix, alphabet), so a pass means that rule is enforced. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "validate.h"

#define TODAY	20261130	/* the date the dated rows assume */

struct row {
	const char	*s;
	bool		 want;
};

typedef bool (*validate_fn)(const char *, size_t);

static void
run_rows(const char *what, validate_fn fn, const struct row *rows, size_t n)
{
	size_t	 i;
	bool	 got;

	for (i = 0; i < n; i++) {
		got = fn(rows[i].s, strlen(rows[i].s));
		if (got != rows[i].want)
			fail_msg("%s(\"%s\"): got %d, want %d", what, rows[i].s,
			    got, rows[i].want);
	}
}

#define RUN(fn, rows)	run_rows(#fn, (fn), (rows), sizeof(rows) / sizeof(*rows))

struct id_row {
	const char	*s;
	bool		 legacy;
	int		 today;
	bool		 want;
	const char	*why;
};

static const struct id_row id_rows[] = {
	{ "11010519491231002X", false, TODAY, true, "GB 11643 sample" },
	{ "11010519491231002x", false, TODAY, true, "lower-case x" },
	{ "110105194912310038", false, TODAY, true, "digit check" },
	{ "440306198002291239", false, TODAY, true, "Feb 29 1980" },
	{ "310115200002290013", false, TODAY, true, "Feb 29 2000 (div 400)" },
	{ "110101190001010014", false, TODAY, true, "1900-01-01 lower bound" },
	{ "510107202611303453", false, TODAY, true, "born today" },
	{ "650102201211127897", false, TODAY, true, "2012" },
	{ "11010519491231002X", true, TODAY, true, "18 digits with legacy" },
	{ "110105194912310021", false, TODAY, false, "check X changed to 1" },
	{ "11010519491231002Y", false, TODAY, false, "check not 0-9X" },
	{ "110105194912310039", false, TODAY, false, "check off by one" },
	{ "440306198102291236", false, TODAY, false, "Feb 29 1981" },
	{ "110105190002290025", false, TODAY, false, "Feb 29 1900 (div 100)" },
	{ "110105194913310021", false, TODAY, false, "month 13" },
	{ "110105194900310022", false, TODAY, false, "month 00" },
	{ "110105194912320025", false, TODAY, false, "Dec 32" },
	{ "11010519490431002X", false, TODAY, false, "Apr 31" },
	{ "110105200002300023", false, TODAY, false, "Feb 30 2000" },
	{ "110105189912310023", false, TODAY, false, "before 1900" },
	{ "510107202611303453", false, 20261129, false, "born tomorrow" },
	{ "320102202612011236", false, TODAY, false, "future date" },
	{ "1101051949123100", false, TODAY, false, "16 characters" },
	{ "11010519491231002X0", false, TODAY, false, "19 characters" },
	{ "1101051949123100XX", false, TODAY, false, "X not last" },
	{ "11010519491231 02X", false, TODAY, false, "space inside" },
	{ "", false, TODAY, false, "empty" },
	{ "110105491231002", true, TODAY, true, "legacy 15" },
	{ "110105480229002", true, TODAY, true, "legacy Feb 29 1948" },
	{ "110105491231002", false, TODAY, false, "15 without legacy" },
	{ "110105490229002", true, TODAY, false, "legacy Feb 29 1949" },
	{ "110105491301002", true, TODAY, false, "legacy month 13" },
	{ "11010549123100X", true, TODAY, false, "legacy with letter" },
};

static void
test_cn_resident_id(void **state)
{
	const struct id_row	*r;
	size_t			 i;
	bool			 got;

	(void)state;
	for (i = 0; i < sizeof id_rows / sizeof *id_rows; i++) {
		r = &id_rows[i];
		got = validate_cn_resident_id(r->s, strlen(r->s), r->legacy,
		    r->today);
		if (got != r->want)
			fail_msg("cn_id %s (%s, legacy %d, today %d): "
			    "got %d, want %d", r->s, r->why, r->legacy,
			    r->today, got, r->want);
	}
	assert_false(validate_cn_resident_id(NULL, 18, true, TODAY));
	/* Only the first len bytes count. */
	assert_true(validate_cn_resident_id("11010519491231002Xjunk", 18,
	    false, TODAY));
}

static const struct row uscc_rows[] = {
	{ "91350100M000100Y43", true },
	{ "91110000802100433B", true },
	{ "91110000802100433b", true },		/* case-insensitive */
	{ "91350100m000100y43", true },
	{ "911100001011140888", true },		/* computed check */
	{ "911100001011140884", false },	/* circulating typo: wants 8 */
	{ "91350100M000100Y42", false },	/* check off by one */
	{ "91350100M000100Y4", false },		/* 17 */
	{ "91350100M000100Y433", false },	/* 19 */
	{ "91350100I000100Y43", false },	/* I not in alphabet */
	{ "91350100O000100Y43", false },	/* O */
	{ "91350100Z000100Y43", false },	/* Z */
	{ "91350100S000100Y43", false },	/* S */
	{ "91350100V000100Y43", false },	/* V */
	{ "91350100-000100Y43", false },
	{ "", false },
};

static void
test_cn_uscc(void **state)
{
	(void)state;
	RUN(validate_cn_uscc, uscc_rows);
	assert_false(validate_cn_uscc(NULL, 18));
	assert_false(validate_cn_uscc("91350100M000100\0" "43", 18));
}

static const struct row luhn_rows[] = {
	{ "79927398713", true },
	{ "79927398710", false },
	{ "4111111111111111", true },
	{ "4111111111111112", false },
	{ "18", true },
	{ "0", false },			/* one digit proves nothing */
	{ "", false },
	{ "7992739871a", false },
	{ "7992 7398713", false },
};

static void
test_luhn(void **state)
{
	(void)state;
	RUN(validate_luhn, luhn_rows);
	assert_false(validate_luhn(NULL, 16));
}

static const struct row card_rows[] = {
	/* Networks' published test numbers. */
	{ "4111111111111111", true },		/* Visa */
	{ "4222222222222", true },		/* Visa 13 */
	{ "5555555555554444", true },		/* Mastercard 51-55 */
	{ "2223003122003222", true },		/* Mastercard 2-series */
	{ "378282246310005", true },		/* Amex */
	{ "6011111111111117", true },		/* Discover */
	{ "3530111333300000", true },		/* JCB */
	{ "6200000000000005", true },		/* UnionPay */
	{ "36227206271667", true },		/* Diners 36 */
	{ "30569309025904", true },		/* Diners 305 */
	{ "6759649826438453", true },		/* Maestro */
	/* Computed: Luhn-valid at range edges and lengths. */
	{ "4000000000000000006", true },	/* Visa 19 */
	{ "2221000000000009", true },		/* Mastercard low edge */
	{ "2720000000000005", true },		/* Mastercard high edge */
	{ "2720999999999996", true },
	{ "2200123456789019", true },		/* Mir */
	{ "2204000000000000", true },		/* Mir high edge */
	{ "6200000000000000000", true },	/* UnionPay 19 */
	{ "6221260000000000", true },
	{ "3528000000000007", true },		/* JCB low edge */
	{ "3589000000000003", true },		/* JCB high edge */
	{ "6011000000000000001", true },	/* Discover 19 */
	{ "6440000000000005", true },		/* Discover 644 */
	{ "6531000000000005", true },		/* Discover 65 */
	{ "3012345678901231", true },		/* Diners 301, 16 */
	{ "385200000000001", true },		/* Diners 38, 15 */
	{ "50000000000009", true },		/* Maestro 50 */
	{ "5019717010103742", true },		/* Maestro 50 (Dankort) */
	{ "5000000000005", true },		/* Maestro 13 */
	{ "6099999999999990", true },		/* Maestro, other 60 */
	{ "6430000000000007", true },		/* 643 is not Discover: Maestro */
	/* Luhn fails. */
	{ "4111111111111112", false },
	{ "5555555555554445", false },
	{ "378282246310006", false },
	{ "4111111111111111111", false },
	/* Luhn passes, no issuer. */
	{ "9111111111111110", false },
	{ "111111111111119", false },
	{ "720000000000009", false },
	{ "2220999999999991", false },		/* below Mastercard 2221 */
	{ "2205000000000009", false },		/* above Mir 2204 */
	{ "3590000000000000", false },		/* above JCB 3589 */
	{ "3060000000000001", false },		/* Diners is 300-305 */
	/* Luhn passes, issuer known, length not its own. */
	{ "400000000000006", false },		/* Visa 15 */
	{ "3782822463100052", false },		/* Amex 16 */
	{ "37828224631003", false },		/* Amex 14 */
	{ "51000000000000003", false },		/* Mastercard 17 */
	{ "272000000000001", false },		/* Mastercard 15 */
	{ "62000000000005", false },		/* UnionPay 14, not Maestro */
	{ "6011000000001", false },		/* Discover 13, not Maestro */
	/* Out of 13-19 whatever the prefix. */
	{ "400000000006", false },
	{ "40000000000000000006", false },
	{ "", false },
	{ "4111 1111 1111 1111", false },
};

static void
test_payment_card(void **state)
{
	(void)state;
	RUN(validate_payment_card, card_rows);
	assert_false(validate_payment_card(NULL, 16));
}

static const struct row mobile_rows[] = {
	{ "13812345678", true },
	{ "19912345678", true },
	{ "16612345678", true },
	{ "12812345678", false },		/* second digit 2 */
	{ "10012345678", false },
	{ "23812345678", false },
	{ "1381234567", false },		/* 10 */
	{ "138123456789", false },		/* 12 */
	{ "8613812345678", false },		/* prefix must be gone */
	{ "1381234567a", false },
	{ "", false },
};

static void
test_cn_mobile(void **state)
{
	(void)state;
	RUN(validate_cn_mobile, mobile_rows);
	assert_false(validate_cn_mobile(NULL, 11));
}

/* A local part of 64 and 65 characters, a label of 63 and 64. */
#define L64	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L63	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const struct row email_rows[] = {
	{ "a@example.com", true },
	{ "zhang.san@example.com.cn", true },
	{ "First.Last@Example.COM", true },
	{ "user+tag@example.org", true },
	{ "o'brien@example.ie", true },
	{ "!#$%&'*+/=?^_`{|}~-@example.com", true },
	{ "a@mail-1.example.co", true },
	{ "a@123.example.com", true },
	{ L64 "@example.com", true },
	{ "a@" L63 ".com", true },
	{ "a@" L63 "b.com", false },		/* label of 64 */
	{ L64 "a@example.com", false },		/* local part of 65 */
	{ "a@example.c", false },		/* TLD of 1 */
	{ "a@example.c0m", false },		/* TLD with digit */
	{ "a@example.123", false },
	{ "a@localhost", false },		/* no dot */
	{ "@example.com", false },
	{ "a@", false },
	{ "example.com", false },
	{ "a@@example.com", false },
	{ "a@b@example.com", false },
	{ ".a@example.com", false },
	{ "a.@example.com", false },
	{ "a..b@example.com", false },
	{ "a b@example.com", false },
	{ "a\"b@example.com", false },
	{ "a(b)@example.com", false },
	{ "a@-example.com", false },
	{ "a@example-.com", false },
	{ "a@example..com", false },
	{ "a@.example.com", false },
	{ "a@example.com.", false },
	{ "a@exa_mple.com", false },
	{ "a@exam ple.com", false },
	{ "\xe5\xbc\xa0@example.com", false },	/* not ASCII */
	{ "", false },
};

static void
test_email(void **state)
{
	char	 buf[400];
	size_t	 i;

	(void)state;
	RUN(validate_email, email_rows);
	assert_false(validate_email(NULL, 10));

	/* 254 characters in all is the most RFC 5321 allows, 255 fails:
	 * "a@" then labels of 49 'c' and a dot, then "com". */
	memcpy(buf, "a@", 2);
	for (i = 2; i < 249; i++)
		buf[i] = (i - 2) % 50 == 49 ? '.' : 'c';
	memcpy(buf + 249, ".com", 5);
	i = strlen(buf);
	if (i != 253)
		fail_msg("long address: got length %zu, want 253", i);
	assert_true(validate_email(buf, 253));
	memmove(buf + 1, buf, 254);
	buf[0] = 'b';
	assert_true(validate_email(buf, 254));
	memmove(buf + 1, buf, 255);
	buf[0] = 'c';
	assert_false(validate_email(buf, 255));
}

static const struct row iban_rows[] = {
	{ "GB82WEST12345698765432", true },
	{ "DE89370400440532013000", true },
	{ "FR1420041010050500013M02606", true },
	{ "gb82west12345698765432", true },	/* either case */
	{ "BE68539007547034", true },		/* shortest but one */
	{ "NO9386011117947", true },		/* shortest */
	{ "MT84MALT011000012345MTLCAST001S", true },
	{ "LC55HEMM000100010012001200023015", true },	/* longest */
	{ "RU0204452560040702810412345678901", true },
	{ "GB02WEST12345600000017", true },	/* lowest check digits */
	{ "GB98WEST12345600000035", true },	/* highest */
	{ "GB99WEST12345600000017", false },	/* 99 = 02 mod 97 */
	{ "GB01WEST12345600000035", false },	/* 01 = 98 mod 97 */
	{ "GB28WEST12345698765432", false },	/* check digits changed */
	{ "GB82WEST12345698765433", false },	/* BBAN changed */
	{ "DE89370400440532013001", false },
	{ "FR1420041010050500013M02607", false },
	{ "GB88WEST1234569876543", false },	/* GB 21, mod 97 fine */
	{ "DE543704004405320130001", false },	/* DE 23, mod 97 fine */
	{ "NO698601111794", false },		/* NO 14, mod 97 fine */
	{ "US02WEST12345698765432", false },	/* no IBAN, mod 97 fine */
	{ "XX82WEST12345698765432", false },
	{ "G182WEST12345698765432", false },
	{ "GBX2WEST12345698765432", false },
	{ "GB82WEST1234569876543-", false },
	{ "GB82", false },
	{ "", false },
};

static void
test_iban(void **state)
{
	(void)state;
	RUN(validate_iban, iban_rows);
	assert_false(validate_iban(NULL, 22));
}

static const struct row ssn_rows[] = {
	{ "123456789", true },
	{ "001010001", true },
	{ "899999999", true },
	{ "665123456", true },
	{ "667123456", true },
	{ "000123456", false },		/* area 000 */
	{ "666123456", false },		/* area 666 */
	{ "900123456", false },		/* area 900-999 */
	{ "999123456", false },
	{ "123006789", false },		/* group 00 */
	{ "123450000", false },		/* serial 0000 */
	{ "12345678", false },
	{ "1234567890", false },
	{ "12345678a", false },
	{ "", false },
};

static void
test_us_ssn(void **state)
{
	(void)state;
	RUN(validate_us_ssn, ssn_rows);
	assert_false(validate_us_ssn(NULL, 9));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cn_resident_id),
		cmocka_unit_test(test_cn_uscc),
		cmocka_unit_test(test_luhn),
		cmocka_unit_test(test_payment_card),
		cmocka_unit_test(test_cn_mobile),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_iban),
		cmocka_unit_test(test_us_ssn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
