/* html.c - HTML to the text a reader sees.
 *
 * One left-to-right pass over the input with a few bytes of look-ahead;
 * no tree, no recursion, so hostile nesting costs nothing.  What is
 * dropped and what is kept:
 *   - tags go; block tags (p, div, br, li, tr, h1-h6, table, ...) leave a
 *     line break and cells (td, th) a tab, so words stay apart, while
 *     inline tags (span, b, i, font, a, ...) leave nothing, so that
 *     "<span>138</span><span>1234</span>" reads "1381234" as on screen;
 *   - comments, <!doctype>, <?...?>, and the content of <script> and
 *     <style> go (code, not text);
 *   - <head> is not dropped as a whole: browsers close it at the first
 *     text, so dropping it would let "<head>" hide a message from us.
 *     <title> text is kept (a reader sees it); head's other elements
 *     carry no text anyway;
 *   - alt and title attribute values are kept: a reader sees them in
 *     place of an image or as a tooltip;
 *   - runs of white space become one space, except inside <pre>;
 *   - character references are decoded: numeric ones (invalid code
 *     points become U+FFFD, 128-159 map as windows-1252 the way browsers
 *     do), and a table of named ones; unknown names stay as written.
 * Malformed markup is read as far as it goes: an unterminated tag or
 * comment at the end is dropped, a '<' not followed by a letter, '!', '/'
 * or '?' is text.
 *
 * Owns nothing between calls.  Fails (-1) only when out of memory. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "html.h"

/* Longest tag or attribute name we compare; longer ones are unknown. */
#define HTML_NAME_MAX	16
/* Longest entity name we look up ("thinsp" and friends are short). */
#define HTML_ENTITY_MAX	8

#define HTML_INLINE	0
#define HTML_BLOCK	1	/* line break before and after */
#define HTML_CELL	2	/* tab */
#define HTML_RAW	3	/* content is code: skip to the end tag */
#define HTML_PRE	4	/* a block that keeps its white space */

struct html_tag {
	const char	*name;
	int		 kind;
};

/* Sorted by name for bsearch(). */
static const struct html_tag html_tags[] = {
	{ "address",	HTML_BLOCK },
	{ "article",	HTML_BLOCK },
	{ "aside",	HTML_BLOCK },
	{ "blockquote",	HTML_BLOCK },
	{ "body",	HTML_BLOCK },
	{ "br",		HTML_BLOCK },
	{ "caption",	HTML_BLOCK },
	{ "center",	HTML_BLOCK },
	{ "dd",		HTML_BLOCK },
	{ "details",	HTML_BLOCK },
	{ "dialog",	HTML_BLOCK },
	{ "dir",	HTML_BLOCK },
	{ "div",	HTML_BLOCK },
	{ "dl",		HTML_BLOCK },
	{ "dt",		HTML_BLOCK },
	{ "fieldset",	HTML_BLOCK },
	{ "figcaption",	HTML_BLOCK },
	{ "figure",	HTML_BLOCK },
	{ "footer",	HTML_BLOCK },
	{ "form",	HTML_BLOCK },
	{ "frame",	HTML_BLOCK },
	{ "h1",		HTML_BLOCK },
	{ "h2",		HTML_BLOCK },
	{ "h3",		HTML_BLOCK },
	{ "h4",		HTML_BLOCK },
	{ "h5",		HTML_BLOCK },
	{ "h6",		HTML_BLOCK },
	{ "head",	HTML_BLOCK },
	{ "header",	HTML_BLOCK },
	{ "hr",		HTML_BLOCK },
	{ "html",	HTML_BLOCK },
	{ "legend",	HTML_BLOCK },
	{ "li",		HTML_BLOCK },
	{ "listing",	HTML_PRE },
	{ "main",	HTML_BLOCK },
	{ "menu",	HTML_BLOCK },
	{ "nav",	HTML_BLOCK },
	{ "noscript",	HTML_BLOCK },
	{ "ol",		HTML_BLOCK },
	{ "optgroup",	HTML_BLOCK },
	{ "option",	HTML_BLOCK },
	{ "p",		HTML_BLOCK },
	{ "plaintext",	HTML_PRE },
	{ "pre",	HTML_PRE },
	{ "script",	HTML_RAW },
	{ "section",	HTML_BLOCK },
	{ "select",	HTML_BLOCK },
	{ "style",	HTML_RAW },
	{ "summary",	HTML_BLOCK },
	{ "table",	HTML_BLOCK },
	{ "tbody",	HTML_BLOCK },
	{ "td",		HTML_CELL },
	{ "textarea",	HTML_BLOCK },
	{ "tfoot",	HTML_BLOCK },
	{ "th",		HTML_CELL },
	{ "thead",	HTML_BLOCK },
	{ "title",	HTML_BLOCK },
	{ "tr",		HTML_BLOCK },
	{ "ul",		HTML_BLOCK },
	{ "xmp",	HTML_PRE },
};

struct html_entity {
	const char	*name;
	unsigned int	 cp;
};

/* Sorted by strcmp() (upper case first) for bsearch(). */
static const struct html_entity html_entities[] = {
	{ "AElig",	0x00c6 },
	{ "AMP",		0x0026 },
	{ "Aacute",	0x00c1 },
	{ "Acirc",	0x00c2 },
	{ "Agrave",	0x00c0 },
	{ "Aring",	0x00c5 },
	{ "Atilde",	0x00c3 },
	{ "Auml",		0x00c4 },
	{ "COPY",		0x00a9 },
	{ "Ccedil",	0x00c7 },
	{ "Dagger",	0x2021 },
	{ "ETH",		0x00d0 },
	{ "Eacute",	0x00c9 },
	{ "Ecirc",	0x00ca },
	{ "Egrave",	0x00c8 },
	{ "Euml",		0x00cb },
	{ "GT",		0x003e },
	{ "Iacute",	0x00cd },
	{ "Icirc",	0x00ce },
	{ "Igrave",	0x00cc },
	{ "Iuml",		0x00cf },
	{ "LT",		0x003c },
	{ "NewLine",	0x000a },
	{ "Ntilde",	0x00d1 },
	{ "OElig",	0x0152 },
	{ "Oacute",	0x00d3 },
	{ "Ocirc",	0x00d4 },
	{ "Ograve",	0x00d2 },
	{ "Oslash",	0x00d8 },
	{ "Otilde",	0x00d5 },
	{ "Ouml",		0x00d6 },
	{ "Prime",	0x2033 },
	{ "QUOT",		0x0022 },
	{ "REG",		0x00ae },
	{ "Scaron",	0x0160 },
	{ "THORN",	0x00de },
	{ "Tab",		0x0009 },
	{ "Uacute",	0x00da },
	{ "Ucirc",	0x00db },
	{ "Ugrave",	0x00d9 },
	{ "Uuml",		0x00dc },
	{ "Yacute",	0x00dd },
	{ "Yuml",		0x0178 },
	{ "aacute",	0x00e1 },
	{ "acirc",	0x00e2 },
	{ "acute",	0x00b4 },
	{ "aelig",	0x00e6 },
	{ "agrave",	0x00e0 },
	{ "amp",		0x0026 },
	{ "apos",		0x0027 },
	{ "aring",	0x00e5 },
	{ "ast",		0x002a },
	{ "asymp",	0x2248 },
	{ "atilde",	0x00e3 },
	{ "auml",		0x00e4 },
	{ "bdquo",	0x201e },
	{ "brvbar",	0x00a6 },
	{ "bsol",		0x005c },
	{ "bull",		0x2022 },
	{ "ccedil",	0x00e7 },
	{ "cedil",	0x00b8 },
	{ "cent",		0x00a2 },
	{ "circ",		0x02c6 },
	{ "colon",	0x003a },
	{ "comma",	0x002c },
	{ "commat",	0x0040 },
	{ "copy",		0x00a9 },
	{ "curren",	0x00a4 },
	{ "dagger",	0x2020 },
	{ "darr",		0x2193 },
	{ "dash",		0x2010 },
	{ "deg",		0x00b0 },
	{ "divide",	0x00f7 },
	{ "dollar",	0x0024 },
	{ "eacute",	0x00e9 },
	{ "ecirc",	0x00ea },
	{ "egrave",	0x00e8 },
	{ "emsp",		0x2003 },
	{ "ensp",		0x2002 },
	{ "equals",	0x003d },
	{ "eth",		0x00f0 },
	{ "euml",		0x00eb },
	{ "euro",		0x20ac },
	{ "excl",		0x0021 },
	{ "fnof",		0x0192 },
	{ "frac12",	0x00bd },
	{ "frac14",	0x00bc },
	{ "frac34",	0x00be },
	{ "ge",		0x2265 },
	{ "grave",	0x0060 },
	{ "gt",		0x003e },
	{ "harr",		0x2194 },
	{ "hellip",	0x2026 },
	{ "hyphen",	0x2010 },
	{ "iacute",	0x00ed },
	{ "icirc",	0x00ee },
	{ "iexcl",	0x00a1 },
	{ "igrave",	0x00ec },
	{ "infin",	0x221e },
	{ "iquest",	0x00bf },
	{ "iuml",		0x00ef },
	{ "laquo",	0x00ab },
	{ "larr",		0x2190 },
	{ "lcub",		0x007b },
	{ "ldquo",	0x201c },
	{ "le",		0x2264 },
	{ "lowbar",	0x005f },
	{ "lpar",		0x0028 },
	{ "lrm",		0x200e },
	{ "lsaquo",	0x2039 },
	{ "lsqb",		0x005b },
	{ "lsquo",	0x2018 },
	{ "lt",		0x003c },
	{ "macr",		0x00af },
	{ "mdash",	0x2014 },
	{ "micro",	0x00b5 },
	{ "middot",	0x00b7 },
	{ "minus",	0x2212 },
	{ "nbsp",		0x00a0 },
	{ "ndash",	0x2013 },
	{ "ne",		0x2260 },
	{ "not",		0x00ac },
	{ "ntilde",	0x00f1 },
	{ "num",		0x0023 },
	{ "oacute",	0x00f3 },
	{ "ocirc",	0x00f4 },
	{ "oelig",	0x0153 },
	{ "ograve",	0x00f2 },
	{ "ordf",		0x00aa },
	{ "ordm",		0x00ba },
	{ "oslash",	0x00f8 },
	{ "otilde",	0x00f5 },
	{ "ouml",		0x00f6 },
	{ "para",		0x00b6 },
	{ "percnt",	0x0025 },
	{ "period",	0x002e },
	{ "permil",	0x2030 },
	{ "plus",		0x002b },
	{ "plusmn",	0x00b1 },
	{ "pound",	0x00a3 },
	{ "prime",	0x2032 },
	{ "quest",	0x003f },
	{ "quot",		0x0022 },
	{ "raquo",	0x00bb },
	{ "rarr",		0x2192 },
	{ "rcub",		0x007d },
	{ "rdquo",	0x201d },
	{ "reg",		0x00ae },
	{ "rlm",		0x200f },
	{ "rpar",		0x0029 },
	{ "rsaquo",	0x203a },
	{ "rsqb",		0x005d },
	{ "rsquo",	0x2019 },
	{ "sbquo",	0x201a },
	{ "scaron",	0x0161 },
	{ "sect",		0x00a7 },
	{ "semi",		0x003b },
	{ "shy",		0x00ad },
	{ "sol",		0x002f },
	{ "sup1",		0x00b9 },
	{ "sup2",		0x00b2 },
	{ "sup3",		0x00b3 },
	{ "szlig",	0x00df },
	{ "thinsp",	0x2009 },
	{ "thorn",	0x00fe },
	{ "tilde",	0x02dc },
	{ "times",	0x00d7 },
	{ "trade",	0x2122 },
	{ "uacute",	0x00fa },
	{ "uarr",		0x2191 },
	{ "ucirc",	0x00fb },
	{ "ugrave",	0x00f9 },
	{ "uml",		0x00a8 },
	{ "uuml",		0x00fc },
	{ "verbar",	0x007c },
	{ "yacute",	0x00fd },
	{ "yen",		0x00a5 },
	{ "yuml",		0x00ff },
	{ "zwj",		0x200d },
	{ "zwnj",		0x200c },
};

/* What browsers show for &#128; to &#159;: the windows-1252 reading. */
static const unsigned short html_c1[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

struct html {
	const char	*in;
	size_t		 len;
	char		*buf;
	size_t		 olen, size;
	int		 oom;
	unsigned int	 pre;		/* open <pre>-like elements */
};

static int
html_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int
html_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
html_is_alnum(unsigned char c)
{
	return html_is_alpha(c) || (c >= '0' && c <= '9');
}

static unsigned char
html_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Appends n bytes.  Out of memory is remembered, not returned, so that
 * the scanner reads straight; html_to_text() checks once at the end. */
static void
html_put(struct html *h, const char *s, size_t n)
{
	size_t	 nsize;
	char	*p;

	if (h->oom || n == 0)
		return;
	if (h->size - h->olen <= n) {
		nsize = h->size < 256 ? 256 : h->size;
		while (nsize - h->olen <= n) {
			if (nsize > (size_t)-1 / 2) {
				h->oom = 1;
				return;
			}
			nsize *= 2;
		}
		if ((p = realloc(h->buf, nsize)) == NULL) {
			h->oom = 1;
			return;
		}
		h->buf = p;
		h->size = nsize;
	}
	memcpy(h->buf + h->olen, s, n);
	h->olen += n;
}

static char
html_last(const struct html *h)
{
	return h->olen > 0 ? h->buf[h->olen - 1] : '\n';
}

/* One space for a run of white space; none at the start of a line. */
static void
html_space(struct html *h)
{
	char	 c = html_last(h);

	if (c != ' ' && c != '\n' && c != '\t')
		html_put(h, " ", 1);
}

/* A separator from a tag: it replaces a trailing space (a line break
 * also a trailing tab), and does not repeat. */
static void
html_sep(struct html *h, char sep)
{
	char	 c;

	if (h->olen == 0)
		return;
	c = html_last(h);
	if (c == ' ' || (c == '\t' && sep == '\n')) {
		h->buf[h->olen - 1] = sep;
		return;
	}
	if (c == '\n' || c == sep)
		return;
	html_put(h, &sep, 1);
}

static void
html_put_cp(struct html *h, unsigned long cp)
{
	char	 u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	else if (cp >= 0x80 && cp <= 0x9f)
		cp = html_c1[cp - 0x80];
	if (cp < 0x80) {
		u[0] = (char)cp;
		html_put(h, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		html_put(h, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		html_put(h, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		html_put(h, u, 4);
	}
}

static int
html_entity_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct html_entity *)elem)->name);
}

static int
html_tag_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct html_tag *)elem)->name);
}

/* Decodes the character reference at in[i] == '&' within in[..end).
 * Returns the index after it; an unknown one is copied as written. */
static size_t
html_entity(struct html *h, const char *in, size_t end, size_t i)
{
	const struct html_entity	*e;
	const unsigned char		*u = (const unsigned char *)in;
	char				 name[HTML_ENTITY_MAX + 1];
	unsigned long			 cp = 0;
	size_t				 j = i + 1, k, ndig = 0;
	int				 hex = 0, d;

	if (j < end && u[j] == '#') {
		j++;
		if (j < end && (u[j] == 'x' || u[j] == 'X')) {
			hex = 1;
			j++;
		}
		for (; j < end; j++, ndig++) {
			if (u[j] >= '0' && u[j] <= '9')
				d = u[j] - '0';
			else if (hex && html_lower(u[j]) >= 'a' &&
			    html_lower(u[j]) <= 'f')
				d = html_lower(u[j]) - 'a' + 10;
			else
				break;
			/* Saturate: anything past U+10FFFF is invalid. */
			if (cp <= 0x10ffff)
				cp = cp * (hex ? 16 : 10) + (unsigned long)d;
		}
		if (ndig == 0) {
			html_put(h, "&", 1);
			return i + 1;
		}
		if (j < end && u[j] == ';')
			j++;
		html_put_cp(h, cp);
		return j;
	}

	for (k = 0; j < end && html_is_alnum(u[j]) && k < HTML_ENTITY_MAX;
	    j++, k++)
		name[k] = (char)u[j];
	name[k] = '\0';
	if (k == 0 || (j < end && html_is_alnum(u[j])) ||
	    (e = bsearch(name, html_entities, sizeof html_entities /
	    sizeof *html_entities, sizeof *html_entities,
	    html_entity_cmp)) == NULL) {
		html_put(h, "&", 1);
		return i + 1;
	}
	if (j < end && u[j] == ';')
		j++;
	html_put_cp(h, e->cp);
	return j;
}

/* Copies in[i..end) as text, decoding references and folding white
 * space (outside <pre>). */
static void
html_text(struct html *h, const char *in, size_t i, size_t end)
{
	const unsigned char	*u = (const unsigned char *)in;
	size_t			 j;

	while (i < end) {
		if (u[i] == '&') {
			i = html_entity(h, in, end, i);
			continue;
		}
		if (!h->pre && html_is_space(u[i])) {
			html_space(h);
			i++;
			continue;
		}
		for (j = i; j < end && u[j] != '&' && (h->pre ||
		    !html_is_space(u[j])); j++)
			;
		html_put(h, in + i, j - i);
		i = j;
	}
}

/* Finds "</name" (any case) followed by a delimiter, from i.  Returns its
 * index, or len when the element runs to the end. */
static size_t
html_find_end(const struct html *h, size_t i, const char *name)
{
	const unsigned char	*u = (const unsigned char *)h->in;
	const unsigned char	*p;
	size_t			 n = strlen(name), k;

	while (i < h->len) {
		if ((p = memchr(u + i, '<', h->len - i)) == NULL)
			return h->len;
		i = (size_t)(p - u);
		if (h->len - i >= n + 2 && u[i + 1] == '/') {
			for (k = 0; k < n; k++)
				if (html_lower(u[i + 2 + k]) != (unsigned char)name[k])
					break;
			if (k == n && (i + 2 + n == h->len ||
			    html_is_space(u[i + 2 + n]) ||
			    u[i + 2 + n] == '/' || u[i + 2 + n] == '>'))
				return i;
		}
		i++;
	}
	return h->len;
}

/* Index just past the next '>' from i, or len. */
static size_t
html_skip_to_gt(const struct html *h, size_t i)
{
	const char	*p;

	if (i >= h->len)
		return h->len;
	if ((p = memchr(h->in + i, '>', h->len - i)) == NULL)
		return h->len;
	return (size_t)(p - h->in) + 1;
}

/* Reads the attributes of a tag from i to its '>', keeping the text of
 * alt and title (start tags only).  Returns the index after the tag, or
 * len when it is unterminated. */
static size_t
html_attrs(struct html *h, size_t i, int keep)
{
	const unsigned char	*u = (const unsigned char *)h->in;
	char			 name[HTML_NAME_MAX + 1];
	size_t			 k, vstart, vend;
	int			 want;

	for (;;) {
		while (i < h->len && (html_is_space(u[i]) || u[i] == '/'))
			i++;
		if (i >= h->len)
			return h->len;
		if (u[i] == '>')
			return i + 1;
		for (k = 0; i < h->len && !html_is_space(u[i]) &&
		    u[i] != '/' && u[i] != '>' && (u[i] != '=' || k == 0);
		    i++, k++)
			if (k < HTML_NAME_MAX)
				name[k] = (char)html_lower(u[i]);
		name[k < HTML_NAME_MAX ? k : HTML_NAME_MAX] = '\0';
		want = keep && k <= HTML_NAME_MAX &&
		    (strcmp(name, "alt") == 0 || strcmp(name, "title") == 0);
		while (i < h->len && html_is_space(u[i]))
			i++;
		if (i >= h->len || u[i] != '=')
			continue;
		i++;
		while (i < h->len && html_is_space(u[i]))
			i++;
		if (i >= h->len)
			return h->len;
		if (u[i] == '"' || u[i] == '\'') {
			const unsigned char *q;

			vstart = i + 1;
			q = memchr(u + vstart, u[i], h->len - vstart);
			vend = q != NULL ? (size_t)(q - u) : h->len;
			i = q != NULL ? vend + 1 : h->len;
		} else {
			vstart = i;
			while (i < h->len && !html_is_space(u[i]) &&
			    u[i] != '>')
				i++;
			vend = i;
		}
		if (want && vend > vstart) {
			unsigned int pre = h->pre;

			h->pre = 0;
			html_space(h);
			html_text(h, h->in, vstart, vend);
			html_space(h);
			h->pre = pre;
		}
	}
}

/* Handles the markup at in[i] == '<'.  Returns the index after it. */
static size_t
html_markup(struct html *h, size_t i)
{
	const unsigned char		*u = (const unsigned char *)h->in;
	const struct html_tag		*t;
	char				 name[HTML_NAME_MAX + 1];
	size_t				 j = i + 1, k, end;
	int				 closing = 0, kind;

	if (j >= h->len) {
		html_put(h, "<", 1);
		return j;
	}
	if (u[j] == '!') {
		if (h->len - j >= 3 && u[j + 1] == '-' && u[j + 2] == '-') {
			/* "<!-->" and "<!--->" are complete, empty
			 * comments to a browser. */
			j += 3;
			if (j < h->len && u[j] == '>')
				return j + 1;
			if (h->len - j >= 2 && u[j] == '-' && u[j + 1] == '>')
				return j + 2;
			for (; j + 2 < h->len; j++)
				if (u[j] == '-' && u[j + 1] == '-' &&
				    u[j + 2] == '>')
					return j + 3;
			return h->len;
		}
		return html_skip_to_gt(h, j);	/* doctype, CDATA */
	}
	if (u[j] == '?')
		return html_skip_to_gt(h, j);
	if (u[j] == '/') {
		closing = 1;
		j++;
		if (j >= h->len) {
			html_put(h, "</", 2);
			return j;
		}
		if (u[j] == '>')
			return j + 1;
		if (!html_is_alpha(u[j]))
			return html_skip_to_gt(h, j);
	} else if (!html_is_alpha(u[j])) {
		html_put(h, "<", 1);
		return j;
	}

	for (k = 0; j < h->len && !html_is_space(u[j]) && u[j] != '/' &&
	    u[j] != '>'; j++, k++)
		if (k < HTML_NAME_MAX)
			name[k] = (char)html_lower(u[j]);
	name[k < HTML_NAME_MAX ? k : HTML_NAME_MAX] = '\0';
	t = k <= HTML_NAME_MAX ? bsearch(name, html_tags, sizeof html_tags /
	    sizeof *html_tags, sizeof *html_tags, html_tag_cmp) : NULL;
	kind = t != NULL ? t->kind : HTML_INLINE;

	end = html_attrs(h, j, !closing);
	switch (kind) {
	case HTML_BLOCK:
		html_sep(h, '\n');
		break;
	case HTML_CELL:
		html_sep(h, '\t');
		break;
	case HTML_PRE:
		html_sep(h, '\n');
		if (closing)
			h->pre -= h->pre > 0;
		else
			h->pre++;
		break;
	case HTML_RAW:
		if (!closing)
			end = html_find_end(h, end, t->name);
		break;
	}
	return end;
}

int
html_to_text(const char *in, size_t len, char **out, size_t *outlen)
{
	struct html	 h;
	size_t		 i = 0, j;
	const char	*p;

	*out = NULL;
	*outlen = 0;
	memset(&h, 0, sizeof h);
	h.in = in;
	h.len = in != NULL ? len : 0;

	while (i < h.len) {
		/* Text up to the next '<' in one go. */
		p = memchr(in + i, '<', h.len - i);
		j = p != NULL ? (size_t)(p - in) : h.len;
		html_text(&h, in, i, j);
		if (j < h.len)
			j = html_markup(&h, j);
		i = j;
	}
	/* A NUL at the end, and a buffer even for empty output. */
	html_put(&h, "", 0);
	if (!h.oom && h.buf == NULL && (h.buf = malloc(1)) == NULL)
		h.oom = 1;
	if (h.oom) {
		free(h.buf);
		return -1;
	}
	h.buf[h.olen] = '\0';
	*out = h.buf;
	*outlen = h.olen;
	return 0;
}
