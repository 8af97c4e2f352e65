/* mask.c - masked samples of found values (see mask.h for the table).
 *
 * A rule keeps a few characters at the head and tail of a value and
 * puts '*' in between.  Lengths are counted in UTF-8 characters, so a
 * Chinese name loses whole characters, never half of one.  The output is
 * always valid UTF-8: a byte that does not start a valid sequence counts
 * as one character and, if kept, is written as '?'.  The number of stars
 * is capped, so a long value does not reveal its exact length and the
 * result always fits MASK_MAX.
 *
 * Owns nothing; pure and thread-safe.  Never fails: a NULL or empty
 * value gives "". */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "mask.h"

#define MASK_STARS_MAX	16	/* at most this many '*' in a row */

/*
 * head and tail: characters kept at each end.  stars: a fixed number of
 * '*' (hiding the length), or 0 for one per hidden character.  full: the
 * fewest characters a value needs for head and tail to be shown; a
 * shorter value keeps only its first character.
 */
struct mask_rule {
	unsigned int	 head, tail, stars, full;
};

/* Numbers hide at least the half of them a guess would need: a short
 * phone number never shows all but one digit. */
static const struct mask_rule mask_rules[] = {
	[KIND_MOBILE] =		{ 3, 4, 0, 11 },
	[KIND_PHONE] =		{ 2, 2, 0, 8 },
	[KIND_EMAIL] =		{ 1, 0, 3, 2 },	/* of the local part */
	[KIND_CN_ID] =		{ 3, 4, 0, 15 },
	[KIND_ACCOUNT] =	{ 4, 4, 0, 13 },
	[KIND_NAME] =		{ 1, 0, 0, 2 },
	[KIND_COMPANY] =	{ 2, 0, 2, 3 },
	[KIND_ADDRESS] =	{ 2, 0, 2, 3 },
	/* Up to 7 characters, "ab***yz" would show 4 of them. */
	[KIND_CUSTOM] =		{ 2, 2, 3, 8 },
};

_Static_assert(sizeof mask_rules / sizeof *mask_rules == KIND_COUNT,
    "mask_rules must have one row per enum field_kind");

/* Output under construction; pos never passes MASK_MAX - 1. */
struct mask_out {
	char	*buf;
	size_t	 pos;
};

/* Length in bytes of the character at p (1 for a byte that does not
 * start a valid sequence), *valid says which. */
static size_t
mask_charlen(const char *p, size_t left, bool *valid)
{
	gunichar	 c;

	c = g_utf8_get_char_validated(p, (gssize)left);
	/* NUL is valid UTF-8 but would end the C string early. */
	if (c == (gunichar)-1 || c == (gunichar)-2 || c == 0) {
		*valid = false;
		return 1;
	}
	*valid = true;
	return (size_t)g_utf8_skip[(guchar)*p];
}

static size_t
mask_nchars(const char *s, size_t len)
{
	size_t	 off = 0, n = 0;
	bool	 valid;

	while (off < len) {
		off += mask_charlen(s + off, len - off, &valid);
		n++;
	}
	return n;
}

/* Appends bytes b[0..n) if they fit whole; returns false if not. */
static bool
mask_put(struct mask_out *o, const char *b, size_t n)
{
	if (n > MASK_MAX - 1 - o->pos)
		return false;
	memcpy(o->buf + o->pos, b, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
	return true;
}

/* Appends characters [from, to) of s[0..len), counted in characters. */
static void
mask_put_chars(struct mask_out *o, const char *s, size_t len, size_t from,
    size_t to)
{
	size_t	 off = 0, i = 0, cl;
	bool	 valid;

	for (; off < len && i < to; i++) {
		cl = mask_charlen(s + off, len - off, &valid);
		if (i >= from &&
		    !mask_put(o, valid ? s + off : "?", cl))
			return;
		off += cl;
	}
}

static void
mask_put_stars(struct mask_out *o, size_t n)
{
	static const char	 stars[MASK_STARS_MAX + 1] = "****************";

	if (n > MASK_STARS_MAX)
		n = MASK_STARS_MAX;
	(void)mask_put(o, stars, n);
}

/* Masks s[0..len) by rule r. */
static void
mask_rule_apply(struct mask_out *o, const struct mask_rule *r,
    const char *s, size_t len)
{
	size_t	 n, head, tail, hidden;

	if (len == 0)
		return;
	n = mask_nchars(s, len);
	if (n >= r->full) {
		head = r->head;
		tail = r->tail;
	} else {
		/* Too short to show head and tail without giving most of
		 * it away: the first character alone. */
		head = 1;
		tail = 0;
	}
	hidden = n - head - tail;
	mask_put_chars(o, s, len, 0, head);
	/* At least one star, so a one-character value is visibly masked. */
	mask_put_stars(o, r->stars != 0 ? r->stars : hidden > 0 ? hidden : 1);
	mask_put_chars(o, s, len, n - tail, n);
}

/* local@domain: the local part by the email rule, the domain as it is
 * (cut with "..." if it would not fit; never cut inside a character). */
static void
mask_email(struct mask_out *o, const char *s, size_t len)
{
	const char	*at = NULL, *p, *d;
	size_t		 dlen, off, cl, room;
	bool		 valid;

	/* The last '@': whatever precedes it is local part and hidden. */
	for (p = s; p < s + len; p++)
		if (*p == '@')
			at = p;
	if (at == NULL) {
		mask_rule_apply(o, &mask_rules[KIND_EMAIL], s, len);
		return;
	}
	if (at == s)
		mask_put_stars(o, mask_rules[KIND_EMAIL].stars);
	else
		mask_rule_apply(o, &mask_rules[KIND_EMAIL], s,
		    (size_t)(at - s));
	(void)mask_put(o, "@", 1);
	d = at + 1;
	dlen = len - (size_t)(d - s);
	room = MASK_MAX - 1 - o->pos;
	if (dlen > room)
		room = room > 3 ? room - 3 : 0;
	for (off = 0; off < dlen; off += cl) {
		/* cl is 1 for an invalid byte, which becomes one '?'. */
		cl = mask_charlen(d + off, dlen - off, &valid);
		if (cl > room)
			break;
		(void)mask_put(o, valid ? d + off : "?", cl);
		room -= cl;
	}
	if (off < dlen)
		(void)mask_put(o, "...", 3);
}

void
mask_value(enum field_kind k, const char *value, size_t len,
    char out[MASK_MAX])
{
	struct mask_out	 o = { out, 0 };

	out[0] = '\0';
	if (value == NULL || len == 0)
		return;
	if ((unsigned int)k >= KIND_COUNT)
		k = KIND_CUSTOM;
	if (k == KIND_EMAIL)
		mask_email(&o, value, len);
	else
		mask_rule_apply(&o, &mask_rules[k], value, len);
	/* ID numbers are canonical with a lower-case x; people read and
	 * write the check character as X. */
	if (k == KIND_CN_ID && o.pos > 0 && out[o.pos - 1] == 'x')
		out[o.pos - 1] = 'X';
}
