/* kinds.h - the kinds of customer-record fields and how each is compared.
 *
 * A kind decides the canonical form of a value (normalize.h), whether it
 * identifies a record alone (strong) or only with another field near it
 * (weak), and how a sample of it is masked (mask.h).
 * Pure data and functions; thread-safe. */
#ifndef CUSTOS_KINDS_H
#define CUSTOS_KINDS_H

#include <stdbool.h>

enum field_kind {
	KIND_MOBILE = 0,	/* mobile number, +86/0086 dropped */
	KIND_PHONE,		/* landline, digits only */
	KIND_EMAIL,		/* lower case */
	KIND_CN_ID,		/* resident ID: 17 digits and a digit or x */
	KIND_ACCOUNT,		/* bank account, card: digits only */
	KIND_NAME,		/* person's name: text */
	KIND_COMPANY,		/* company name: text */
	KIND_ADDRESS,		/* postal address: text */
	KIND_CUSTOM,		/* anything else; strength from config */
	KIND_COUNT
};

/* How values of a kind are canonicalised and found in text. */
enum value_class {
	CLASS_NUMERIC = 0,	/* digits: found as digit runs */
	CLASS_EMAIL,		/* found as e-mail addresses */
	CLASS_ALNUM,		/* letters and digits: found as tokens */
	CLASS_TEXT		/* free text: found as literals */
};

const char	*kind_name(enum field_kind);
int		 kind_parse(const char *, enum field_kind *);	/* 0 or -1 */
bool		 kind_strong_by_default(enum field_kind);
enum value_class kind_class(enum field_kind);

#endif
