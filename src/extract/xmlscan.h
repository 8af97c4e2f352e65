/* xmlscan.h - a small streaming XML tokenizer for the parts of zipped
 * office documents (ooxml.c, odf.c).
 *
 * Pushed arbitrary chunks; a tag, an entity or a UTF-8 character may
 * straddle two.  Calls start, end and text with qualified names,
 * attribute values and text decoded (the five predefined entities and
 * character references, line ends normalized as XML says).  Text of
 * one node comes in one call up to XMLSCAN_TEXT_MAX bytes, in pieces
 * of whole UTF-8 characters past that; a CDATA section is a text call
 * of its own.  The XML declaration, processing instructions, comments
 * and a DOCTYPE are skipped; no DOCTYPE entity is ever defined, so a
 * reference to one is an error (no billion laughs, no external
 * entities).
 *
 * Owns its buffers, reused from token to token: names, values and text
 * handed to a callback live until it returns.  Memory is bounded by
 * XMLSCAN_TAG_MAX, XMLSCAN_TEXT_MAX and the depth limit.  Not thread
 * safe; one document per scanner.
 *
 * Errors: feed and end return -1 and the scanner stays failed;
 * xmlscan_error() says why. */
#ifndef CUSTOS_XMLSCAN_H
#define CUSTOS_XMLSCAN_H

#include <stddef.h>

#define XMLSCAN_TAG_MAX		((size_t)64 << 10)	/* a tag, < to > */
#define XMLSCAN_TEXT_MAX	((size_t)1 << 20)	/* one text call */

/* Each returns 0 to go on, anything else to stop (XMLSCAN_STOP).
 * an and av are NULL-terminated, of the same length.
 *
 * cell and shared, when set, are a spreadsheet's shortcuts: a cell
 * in its plainest form, <c a="..." ...><v>text</v></c> or <c .../>,
 * and a shared string, <si ...><t ...>text</t></si>, the bulk of an
 * .xlsx, come as one call instead of their five (or two) events.
 * Only when the whole of it lies in the chunk, its element names are
 * as shown, without a prefix, its attributes are ASCII without
 * references, its text has no markup, reference or CR and is valid
 * UTF-8, and it is not too deep; anything else comes as events.  For
 * cell: t is the value of the first attribute of c whose local name
 * is t (tlen bytes, not NUL-ended), NULL when none; v the text (vlen
 * bytes, not NUL-ended either; vlen 0 for <v></v>), NULL for <c .../>.
 * For shared: the text of t (len 0 for <t></t>).  The attributes of
 * si and t are not given. */
struct xmlscan_ops {
	int	(*start)(void *arg, const char *name, const char **an,
		    const char **av);
	int	(*end)(void *arg, const char *name);
	int	(*text)(void *arg, const char *text, size_t len);
	int	(*cell)(void *arg, const char *t, size_t tlen, const char *v,
		    size_t vlen);
	int	(*shared)(void *arg, const char *text, size_t len);
};

enum xmlscan_err {
	XMLSCAN_OK = 0,
	XMLSCAN_BAD,		/* not well-formed, or not UTF-8 */
	XMLSCAN_DEEP,		/* more open elements than max_depth */
	XMLSCAN_STOP		/* a callback asked to stop */
};

struct xmlscan;

/* Elements may nest max_depth deep (the root is depth 1). */
struct xmlscan	*xmlscan_new(const struct xmlscan_ops *, void *arg,
		    size_t max_depth);
/* 0, or -1: an error, see xmlscan_error(). */
int		 xmlscan_feed(struct xmlscan *, const char *buf, size_t len);
/* The document is complete: 0, or -1 when it is not (open elements, a
 * construct cut short, no markup at all). */
int		 xmlscan_end(struct xmlscan *);
enum xmlscan_err xmlscan_error(const struct xmlscan *);
/* Why, for tests and debugging; "" when no error. */
const char	*xmlscan_errstr(const struct xmlscan *);
struct xmlscan	*xmlscan_free(struct xmlscan *);	/* NULL-safe */

#endif
