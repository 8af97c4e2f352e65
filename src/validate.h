/* validate.h - checksums and structure of generic identifiers, so a
 * detector counts a number only when it is one.
 *
 * Inputs are ASCII without separators (the scanner strips them); letters
 * may be either case.  Pure functions; thread-safe. */
#ifndef CUSTOS_VALIDATE_H
#define CUSTOS_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* Chinese resident identity number (GB 11643-1999): 18 characters, 17
 * digits and an ISO 7064 MOD 11-2 check character (0-9 or X), a birth
 * date that exists and is not after today (YYYYMMDD, e.g. 20261130) nor
 * before 1900.  With legacy, also the 15-digit form (YYMMDD, 19YY). */
bool	validate_cn_resident_id(const char *s, size_t len, bool legacy,
	    int today);

/* Unified social credit code (GB 32100-2015): 18 characters from
 * 0-9 and A-Z without I O Z S V, MOD 31 check character. */
bool	validate_cn_uscc(const char *s, size_t len);

/* Luhn (mod 10) over at least 2 digits. */
bool	validate_luhn(const char *digits, size_t len);

/* Payment card: 13-19 digits, Luhn, and a known issuer range (Visa,
 * Mastercard, Amex, UnionPay 62, JCB, Discover, Diners, Maestro, Mir),
 * with that issuer's lengths; the longest matching prefix decides the
 * issuer.  Luhn is required even for UnionPay, whose cards need not all
 * pass it (see validate.c). */
bool	validate_payment_card(const char *digits, size_t len);

/* Chinese mobile: 11 digits, 1 then 3-9. */
bool	validate_cn_mobile(const char *digits, size_t len);

/* E-mail address: local@domain with a dot in the domain, sane
 * characters and lengths (RFC 5321 limits: local part 64, domain 253,
 * label 63, address 254); ASCII only, the TLD letters only. */
bool	validate_email(const char *s, size_t len);

/* IBAN: 2 letters, 2 check digits (02-98), BBAN of the country's length
 * in the SWIFT registry, mod 97 of the rearranged number is 1.  No
 * spaces: the scanner strips them. */
bool	validate_iban(const char *s, size_t len);

/* US SSN, 9 digits: area not 000, 666 or 900-999; group not 00; serial
 * not 0000. */
bool	validate_us_ssn(const char *digits, size_t len);

#endif
