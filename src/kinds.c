/* kinds.c - names, default strength and value class of each field kind.
 *
 * One table indexed by enum field_kind, so a kind added to kinds.h
 * without a row here fails to compile (the static assertion below) rather
 * than reading past the table.  Owns only constant data.  Cannot fail;
 * an out-of-range kind gets the answers of KIND_CUSTOM (weak, ALNUM) and
 * the name "?", never undefined behaviour. */
#include "config.h"

#include <stddef.h>
#include <strings.h>

#include "kinds.h"

struct kind_row {
	const char		*name;	/* config and report spelling */
	bool			 strong;
	enum value_class	 class;
};

static const struct kind_row kind_rows[] = {
	[KIND_MOBILE] =		{ "mobile",	true,	CLASS_NUMERIC },
	[KIND_PHONE] =		{ "phone",	true,	CLASS_NUMERIC },
	[KIND_EMAIL] =		{ "email",	true,	CLASS_EMAIL },
	[KIND_CN_ID] =		{ "cn_id",	true,	CLASS_ALNUM },
	[KIND_ACCOUNT] =	{ "account",	true,	CLASS_NUMERIC },
	/* A name, a company or an address alone matches too many people
	 * and too much ordinary prose to count as a record. */
	[KIND_NAME] =		{ "name",	false,	CLASS_TEXT },
	[KIND_COMPANY] =	{ "company",	false,	CLASS_TEXT },
	[KIND_ADDRESS] =	{ "address",	false,	CLASS_TEXT },
	/* Strength of custom fields comes from config; weak is the safe
	 * default because we know nothing about the values. */
	[KIND_CUSTOM] =		{ "custom",	false,	CLASS_ALNUM },
};

_Static_assert(sizeof kind_rows / sizeof *kind_rows == KIND_COUNT,
    "kind_rows must have one row per enum field_kind");

static const struct kind_row *
kind_row(enum field_kind k)
{
	/* The cast catches negative values smuggled in through an int. */
	if ((unsigned int)k >= KIND_COUNT)
		return NULL;
	return &kind_rows[k];
}

const char *
kind_name(enum field_kind k)
{
	const struct kind_row	*r;

	return (r = kind_row(k)) != NULL ? r->name : "?";
}

int
kind_parse(const char *s, enum field_kind *k)
{
	size_t	 i;

	if (s == NULL || k == NULL)
		return -1;
	/* Config files are written by people: accept "Mobile" too. */
	for (i = 0; i < KIND_COUNT; i++) {
		if (strcasecmp(s, kind_rows[i].name) == 0) {
			*k = (enum field_kind)i;
			return 0;
		}
	}
	return -1;
}

bool
kind_strong_by_default(enum field_kind k)
{
	const struct kind_row	*r;

	return (r = kind_row(k)) != NULL ? r->strong : false;
}

enum value_class
kind_class(enum field_kind k)
{
	const struct kind_row	*r;

	return (r = kind_row(k)) != NULL ? r->class : CLASS_ALNUM;
}
