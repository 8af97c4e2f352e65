/* validate.c - checksums and structure of identifiers (see validate.h).
 *
 * Each validator answers one question, "is this string one of those?",
 * from the string alone (and, for dates, the caller's idea of today), so
 * the scanner can count a number only when it is one.  Arithmetic stays
 * in small integers: mod 97 is taken digit by digit, never on a bignum.
 *
 * Owns nothing; pure and thread-safe.  Never fails: anything malformed,
 * including a NULL pointer or a length out of range, is just "false". */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "validate.h"

/* ASCII only on purpose: isdigit() and friends follow the locale, and
 * the scanner has already folded full-width forms to ASCII. */
#define V_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define V_UPPER(c)	((c) >= 'A' && (c) <= 'Z')
#define V_LOWER(c)	((c) >= 'a' && (c) <= 'z')
#define V_ALPHA(c)	(V_UPPER(c) || V_LOWER(c))
#define V_TOUPPER(c)	(V_LOWER(c) ? (char)((c) - 'a' + 'A') : (c))

static bool
v_all_digits(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!V_DIGIT(s[i]))
			return false;
	return true;
}

/* Value of n decimal digits at s (n <= 9, the caller checked digits). */
static int
v_number(const char *s, size_t n)
{
	int	 v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

/* A Gregorian date YYYYMMDD that exists, from 1900-01-01 to today. */
static bool
v_date_ok(int y, int m, int d, int today)
{
	static const int mdays[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int	 dim;

	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return false;
	dim = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	if (d > dim)
		return false;
	return y * 10000 + m * 100 + d <= today;
}

/*
 * GB 11643-1999.  The check character is ISO 7064 MOD 11-2 over the first
 * 17 digits with weights 2^(17-i) mod 11, written out below; the
 * remainder indexes "10X98765432".
 */
bool
validate_cn_resident_id(const char *s, size_t len, bool legacy, int today)
{
	static const int	 w[17] =
	    { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char	 check[] = "10X98765432";
	int			 sum = 0;
	size_t			 i;

	if (s == NULL)
		return false;
	if (len == 15) {
		/* The first-generation card: region, YYMMDD in the 1900s,
		 * sequence; no check character to test. */
		if (!legacy || !v_all_digits(s, 15))
			return false;
		return v_date_ok(1900 + v_number(s + 6, 2),
		    v_number(s + 8, 2), v_number(s + 10, 2), today);
	}
	if (len != 18 || !v_all_digits(s, 17))
		return false;
	for (i = 0; i < 17; i++)
		sum += (s[i] - '0') * w[i];
	if (V_TOUPPER(s[17]) != check[sum % 11])
		return false;
	return v_date_ok(v_number(s + 6, 4), v_number(s + 10, 2),
	    v_number(s + 12, 2), today);
}

/*
 * GB 32100-2015.  The alphabet leaves out I, O, Z, S and V (they read as
 * digits); a character's value is its index.  Weights are 3^i mod 31.
 */
bool
validate_cn_uscc(const char *s, size_t len)
{
	static const char	 alpha[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	static const int	 w[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20,
	    29, 25, 13, 8, 24, 10, 30, 28 };
	const char		*p;
	int			 sum = 0, v[18];
	size_t			 i;
	char			 c;

	if (s == NULL || len != 18)
		return false;
	for (i = 0; i < 18; i++) {
		c = V_TOUPPER(s[i]);
		/* '\0' would match the terminator in strchr(). */
		if (c == '\0' || (p = strchr(alpha, c)) == NULL)
			return false;
		v[i] = (int)(p - alpha);
	}
	for (i = 0; i < 17; i++)
		sum += v[i] * w[i];
	return v[17] == (31 - sum % 31) % 31;
}

bool
validate_luhn(const char *digits, size_t len)
{
	unsigned int	 sum = 0, d;
	size_t		 i;

	/* One digit "passes" trivially; that says nothing. */
	if (digits == NULL || len < 2 || !v_all_digits(digits, len))
		return false;
	for (i = 0; i < len; i++) {
		d = (unsigned int)(digits[len - 1 - i] - '0');
		if (i % 2 == 1 && (d *= 2) > 9)
			d -= 9;
		sum += d;
	}
	return sum % 10 == 0;
}

/*
 * Issuer ranges: a number belongs to the row with the longest prefix that
 * matches it (so 6011 is Discover, not Maestro's catch-all 6), and then
 * only that row's lengths count.  A length is a bit in lens.
 *
 * XXX UnionPay does not promise Luhn on every card; we still require it,
 * because a 16-19 digit run starting 62 without a checksum is too common
 * in ordinary mail (order and tracking numbers) to count as a card.  Real
 * cards that fail Luhn are missed here; the customer's own account list
 * (KIND_ACCOUNT) still matches them exactly.
 */
#define L(n)		(UINT32_C(1) << (n))
#define L_RANGE(a, b)	((UINT32_C(1) << ((b) + 1)) - (UINT32_C(1) << (a)))

struct card_row {
	int		 lo, hi;	/* prefix value range */
	unsigned int	 ndigits;	/* prefix length */
	uint32_t	 lens;
};

/* Grouped by first digit: card_first[d] .. card_first[d + 1] are the
 * rows of numbers starting with d, so most digit runs in mail (those
 * starting with 0, 1, 7, 8 or 9) are dismissed at once and the others
 * look at a few rows, not all. */
static const struct card_row card_rows[] = {
	{ 2221, 2720, 4, L(16) },			/* Mastercard */
	{ 2200, 2204, 4, L_RANGE(16, 19) },		/* Mir */
	{ 34, 34, 2, L(15) },				/* Amex */
	{ 37, 37, 2, L(15) },				/* Amex */
	{ 3528, 3589, 4, L_RANGE(16, 19) },		/* JCB */
	{ 300, 305, 3, L_RANGE(14, 19) },		/* Diners */
	{ 36, 36, 2, L_RANGE(14, 19) },			/* Diners */
	{ 38, 39, 2, L_RANGE(14, 19) },			/* Diners */
	{ 4, 4, 1, L(13) | L(16) | L(19) },		/* Visa */
	{ 51, 55, 2, L(16) },				/* Mastercard */
	{ 50, 50, 2, L_RANGE(13, 19) },			/* Maestro */
	{ 56, 58, 2, L_RANGE(13, 19) },			/* Maestro */
	{ 62, 62, 2, L_RANGE(16, 19) },			/* UnionPay */
	{ 6011, 6011, 4, L_RANGE(16, 19) },		/* Discover */
	{ 644, 649, 3, L_RANGE(16, 19) },		/* Discover */
	{ 65, 65, 2, L_RANGE(16, 19) },			/* Discover */
	{ 6, 6, 1, L_RANGE(13, 19) },			/* Maestro, other 6 */
};
static const unsigned char card_first[11] = {
	0, 0, 0, 2, 8, 9, 12, 17, 17, 17, 17
};

#undef L
#undef L_RANGE

bool
validate_payment_card(const char *digits, size_t len)
{
	const struct card_row	*best = NULL;
	size_t			 i;
	int			 v, pre[4];

	if (digits == NULL || len < 13 || len > 19 || !V_DIGIT(digits[0]) ||
	    card_first[digits[0] - '0'] == card_first[digits[0] - '0' + 1])
		return false;
	/* The number's first one to four digits, as numbers. */
	for (i = 0, v = 0; i < 4; i++)
		pre[i] = v = v * 10 + (digits[i] - '0');
	for (i = card_first[digits[0] - '0'];
	    i < card_first[digits[0] - '0' + 1]; i++) {
		v = pre[card_rows[i].ndigits - 1];
		if (v < card_rows[i].lo || v > card_rows[i].hi)
			continue;
		if (best == NULL || card_rows[i].ndigits > best->ndigits)
			best = &card_rows[i];
	}
	/* Issuer first: most long numbers in mail have none, and the
	 * ranges are cheaper than the checksum. */
	return best != NULL && (best->lens & (UINT32_C(1) << len)) != 0 &&
	    validate_luhn(digits, len);
}

bool
validate_cn_mobile(const char *digits, size_t len)
{
	return digits != NULL && len == 11 && v_all_digits(digits, len) &&
	    digits[0] == '1' && digits[1] >= '3';
}

/* RFC 5322 atext, plus '.' which the caller checks for position. */
static bool
v_local_char(char c)
{
	return V_ALPHA(c) || V_DIGIT(c) ||
	    (c != '\0' && strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* Domain d[0..len): LDH labels, at least two, TLD all letters. */
static bool
v_domain_ok(const char *d, size_t len)
{
	size_t	 i, start = 0, labels = 0;
	bool	 alpha_only = true;
	char	 c;

	if (len < 1 || len > 253)
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			/* End of label d[start..i). */
			if (i == start || i - start > 63 || d[start] == '-' ||
			    d[i - 1] == '-')
				return false;
			labels++;
			if (i == len)
				break;
			start = i + 1;
			alpha_only = true;
			continue;
		}
		c = d[i];
		if (!V_ALPHA(c) && !V_DIGIT(c) && c != '-')
			return false;
		if (!V_ALPHA(c))
			alpha_only = false;
	}
	/* alpha_only now describes the last label, the TLD. */
	return labels >= 2 && alpha_only && len - start >= 2;
}

bool
validate_email(const char *s, size_t len)
{
	const char	*at;
	size_t		 llen, i;

	/* RFC 5321: a path is at most 256 octets with its <>, so 254. */
	if (s == NULL || len < 3 || len > 254)
		return false;
	if ((at = memchr(s, '@', len)) == NULL)
		return false;
	llen = (size_t)(at - s);
	if (llen < 1 || llen > 64 || s[0] == '.' || s[llen - 1] == '.')
		return false;
	for (i = 0; i < llen; i++) {
		if (!v_local_char(s[i]))
			return false;
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
	}
	/* A second '@' fails v_domain_ok's character test. */
	return v_domain_ok(at + 1, len - llen - 1);
}

/*
 * IBAN lengths from the SWIFT IBAN Registry (ISO 13616), whole IBAN
 * including country and check digits, as of the 2025 releases.  Sorted
 * by country; a linear scan of ninety rows costs less than the mod 97.
 */
struct iban_row {
	char		 cc[3];
	unsigned char	 len;
};

static const struct iban_row iban_rows[] = {	/* sorted: v_iban_len */
	{ "AD", 24 }, { "AE", 23 }, { "AL", 28 }, { "AT", 20 }, { "AZ", 28 },
	{ "BA", 20 }, { "BE", 16 }, { "BG", 22 }, { "BH", 22 }, { "BI", 27 },
	{ "BR", 29 }, { "BY", 28 }, { "CH", 21 }, { "CR", 22 }, { "CY", 28 },
	{ "CZ", 24 }, { "DE", 22 }, { "DJ", 27 }, { "DK", 18 }, { "DO", 28 },
	{ "EE", 20 }, { "EG", 29 }, { "ES", 24 }, { "FI", 18 }, { "FK", 18 },
	{ "FO", 18 }, { "FR", 27 }, { "GB", 22 }, { "GE", 22 }, { "GI", 23 },
	{ "GL", 18 }, { "GR", 27 }, { "GT", 28 }, { "HN", 28 }, { "HR", 21 },
	{ "HU", 28 }, { "IE", 22 }, { "IL", 23 }, { "IQ", 23 }, { "IS", 26 },
	{ "IT", 27 }, { "JO", 30 }, { "KW", 30 }, { "KZ", 20 }, { "LB", 28 },
	{ "LC", 32 }, { "LI", 21 }, { "LT", 20 }, { "LU", 20 }, { "LV", 21 },
	{ "LY", 25 }, { "MC", 27 }, { "MD", 24 }, { "ME", 22 }, { "MK", 19 },
	{ "MN", 20 }, { "MR", 27 }, { "MT", 31 }, { "MU", 30 }, { "NI", 28 },
	{ "NL", 18 }, { "NO", 15 }, { "OM", 23 }, { "PK", 24 }, { "PL", 28 },
	{ "PS", 29 }, { "PT", 25 }, { "QA", 29 }, { "RO", 24 }, { "RS", 22 },
	{ "RU", 33 }, { "SA", 24 }, { "SC", 31 }, { "SD", 18 }, { "SE", 24 },
	{ "SI", 19 }, { "SK", 24 }, { "SM", 27 }, { "SO", 23 }, { "ST", 25 },
	{ "SV", 28 }, { "TL", 23 }, { "TN", 24 }, { "TR", 26 }, { "UA", 29 },
	{ "VA", 22 }, { "VG", 24 }, { "XK", 20 }, { "YE", 30 },
};

/* Registered length of an IBAN for country c0 c1 (upper case), 0 if
 * the country has no IBAN.  iban_rows is sorted by country code: the
 * scanner asks for every letter-letter-digit-digit token. */
static size_t
v_iban_len(char c0, char c1)
{
	size_t	 lo = 0, hi = sizeof iban_rows / sizeof *iban_rows, mid;
	int	 key = (unsigned char)c0 << 8 | (unsigned char)c1, k;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		k = (unsigned char)iban_rows[mid].cc[0] << 8 |
		    (unsigned char)iban_rows[mid].cc[1];
		if (k == key)
			return iban_rows[mid].len;
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Folds one IBAN character into the running remainder r (mod 97): a
 * digit appends one decimal digit, a letter (A=10 .. Z=35) two.  The
 * remainder stays below 97, so r * 100 + 35 fits any int. */
static int
v_mod97_step(int r, char c)
{
	if (V_DIGIT(c))
		return (r * 10 + (c - '0')) % 97;
	return (r * 100 + (V_TOUPPER(c) - 'A' + 10)) % 97;
}

bool
validate_iban(const char *s, size_t len)
{
	size_t	 i;
	int	 r = 0, ck;
	char	 c0, c1;

	if (s == NULL || len < 5 || len > 34)
		return false;
	c0 = V_TOUPPER(s[0]);
	c1 = V_TOUPPER(s[1]);
	if (!V_UPPER(c0) || !V_UPPER(c1) || !V_DIGIT(s[2]) || !V_DIGIT(s[3]))
		return false;
	if (v_iban_len(c0, c1) != len)
		return false;
	/* 00, 01 and 99 are congruent to 97, 98 and 2 and would pass the
	 * remainder test, but ISO 13616 never issues them. */
	ck = v_number(s + 2, 2);
	if (ck < 2 || ck > 98)
		return false;
	for (i = 4; i < len; i++) {
		if (!V_DIGIT(s[i]) && !V_ALPHA(s[i]))
			return false;
		r = v_mod97_step(r, s[i]);
	}
	for (i = 0; i < 4; i++)
		r = v_mod97_step(r, s[i]);
	return r == 1;
}

/*
 * SSA rules since randomisation (2011): area 000, 666 and 900-999 are
 * never issued, nor group 00 or serial 0000.
 */
bool
validate_us_ssn(const char *digits, size_t len)
{
	int	 area;

	if (digits == NULL || len != 9 || !v_all_digits(digits, len))
		return false;
	area = v_number(digits, 3);
	return area != 0 && area != 666 && area < 900 &&
	    v_number(digits + 3, 2) != 0 && v_number(digits + 5, 4) != 0;
}
