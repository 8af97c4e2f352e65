/* mask.h - masked samples of found values: enough for an officer to
 * recognise the record, not enough to use the value.
 *
 *   mobile, phone        138****5678     first 3, last 4
 *   cn_id                110***********002X  first 3, last 4
 *   account, card        6222********1234  first 4, last 4
 *   email                a***@example.com  first character of the local part
 *   name                 张*              first character
 *   company, address     深圳**           first 2 characters, then **
 *   custom               ab***yz (>= 8), a*** (shorter)
 *
 * Numbers and names get one '*' per hidden character (at most 16); the
 * others a fixed run that hides the length.  A value no longer than the
 * characters its rule keeps shows only its first character.  The e-mail
 * domain is kept, cut with "..." if it would not fit.
 *
 * Works on canonical values (normalize.h); counts UTF-8 characters, not
 * bytes.  The output is always valid UTF-8 (a byte that is not, if kept,
 * is written as '?').  Pure; thread-safe. */
#ifndef CUSTOS_MASK_H
#define CUSTOS_MASK_H

#include <stddef.h>

#include "kinds.h"

#define MASK_MAX	96

/* Writes the masked form of value[0..len) into out (NUL-terminated). */
void	mask_value(enum field_kind, const char *value, size_t len,
	    char out[MASK_MAX]);

#endif
