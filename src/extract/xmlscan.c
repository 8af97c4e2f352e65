/* xmlscan.c - a streaming XML tokenizer for office document parts.
 *
 * A state machine over the bytes pushed in.  A construct that straddles
 * two chunks is carried: a tag whole (at most XMLSCAN_TAG_MAX bytes),
 * an entity reference (at most XMLSCAN_REF_MAX), a "<!" keyword, the
 * text of an unfinished node (given in pieces past XMLSCAN_TEXT_MAX).
 * Comments, processing instructions, CDATA and a DOCTYPE are streamed:
 * only how much of their terminator was seen is kept.
 *
 * What it accepts is what GMarkup accepted for the same callers, with
 * a few differences, all refusals of hostile input or leniency about
 * parts nobody reads: a tag longer than XMLSCAN_TAG_MAX is an error;
 * the content of comments, PIs and a DOCTYPE is not checked for UTF-8;
 * CDATA outside the root element is dropped; empty text is not given.
 * Like GMarkup: several top-level elements are accepted, text other
 * than white space outside them is an error, "&#xD;" is kept while a
 * literal CR or CRLF becomes LF (in attribute values, a space, as are
 * tabs and LFs), names are not checked against the XML grammar beyond
 * their characters.
 *
 * Owns its buffers (see xmlscan.h).  Errors: the first is kept and every
 * later call fails. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "charset.h"
#include "extract/xmlscan.h"

#define XMLSCAN_REF_MAX	32	/* between & and ; */

/* The steps of a tag are inlined into scan_text(), where nearly every
 * tag is parsed: a call per tag, name and value cost about as much as
 * the parsing itself in a sheet's short tags. */
#ifdef __GNUC__
#define HOT	static inline __attribute__((always_inline))
#else
#define HOT	static inline
#endif

enum { TAG_DONE, TAG_SHORT, TAG_BAD };	/* tag_parse() */

static int	tag_parse(struct xmlscan *, const char *, const char *,
		    const char **);

enum {
	S_BOM,		/* a UTF-8 byte order mark may come first */
	S_TEXT,		/* content, or between top-level constructs */
	S_REF,		/* an entity reference cut by the chunk's end */
	S_LT,		/* after '<' */
	S_BANG,		/* after "<!": which construct */
	S_TAG,		/* a start or end tag, up to '>' */
	S_PI,		/* "<?" up to "?>" */
	S_COMMENT,	/* "<!--" up to "-->" */
	S_CDATA,	/* "<![CDATA[" up to "]]>" */
	S_DOCTYPE	/* "<!DOCTYPE" up to its balanced '>' */
};

struct sbuf {
	char	*p;
	size_t	 len, cap;
};

struct xmlscan {
	const struct xmlscan_ops *ops;
	void		*arg;
	size_t		 max_depth;
	int		 state;
	enum xmlscan_err err;
	const char	*why;
	size_t		 depth;
	bool		 seen;		/* a '<': the document is not empty */
	bool		 cr;		/* text ended on a CR: drop an LF */
	char		 quote;		/* a carried tag is in a value */
	unsigned	 match;		/* of a terminator, or of the BOM */
	size_t		 balance;	/* a DOCTYPE's open '<' */
	char		 part[XMLSCAN_REF_MAX];	/* a reference, or after <! */
	size_t		 plen;
	struct sbuf	 text;		/* the text node so far */
	struct sbuf	 hold;		/* a tag cut by a chunk's end */
	struct sbuf	 names;		/* open elements' names, NUL-ended */
	char		*attrs;		/* a start tag's names and values */
	size_t		*open;		/* per depth: name, local name */
	size_t		 open_cap;
	const char	**an, **av;	/* into attrs */
	size_t		 acap;		/* entries of an, av */
};

/* A start tag's attributes, names and values each with its NUL, take
 * fewer bytes than the tag (a="" is four bytes and a NUL NUL three;
 * decoding never lengthens; the element's name is not copied): attrs
 * is allocated once at the most a tag may be, so parsing writes into
 * it without a check per byte, and an, av point into it.  What is
 * written at d never runs ahead of what is read at p, and a 16-byte
 * copy is made only when p + 16 <= e, the tag's bound (at most
 * XMLSCAN_TAG_MAX + 1 bytes from its start): it stays inside too. */
#define ATTRS_CAP	(XMLSCAN_TAG_MAX + 2)

/* Bytes of text: 1 ends a plain run (markup, a reference, a CR); 2 is
 * NUL or part of a non-ASCII character, so the run is checked as UTF-8
 * before it is given (an ASCII run, the common case, is not). */
static const unsigned char text_stop[256] = {
	['\0'] = 2, ['<'] = 1, ['&'] = 1, ['\r'] = 1,
	[0x80] = 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2
};

/* ------------------------------------------------------- buffers */

static void
sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t cap;

	if (n <= b->cap - b->len)
		return;
	cap = b->cap > 0 ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;	/* bounded by the limits above */
	b->p = g_realloc(b->p, cap);
	b->cap = cap;
}

/* Names are a few bytes: a loop beats a call to memcpy(), and when 16
 * bytes may be read at p (before e) and written at d (the caller says
 * so), one 16-byte copy, inlined, beats the loop. */
static inline void
copy_short(char *d, const char *p, size_t n, const char *e)
{
	size_t i;

	if (n <= 16 && e - p >= 16) {
		memcpy(d, p, 16);
		return;
	}
	if (n > 16) {
		memcpy(d, p, n);
		return;
	}
	for (i = 0; i < n; i++)
		d[i] = p[i];
}

static void
sbuf_add(struct sbuf *b, const char *p, size_t n)
{
	sbuf_reserve(b, n);
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static int
fail(struct xmlscan *s, enum xmlscan_err err, const char *why)
{
	if (s->err == XMLSCAN_OK) {
		s->err = err;
		s->why = why;
	}
	return -1;
}

/* ------------------------------------------------------- characters */

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Letters, '_', ':' and the bytes of non-ASCII characters. */
static const unsigned char name_first[256] = {
	['A'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1,
	['a'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1,
	['_'] = 1, [':'] = 1,
	[0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};

static bool
name_start(unsigned char c)
{
	return name_first[c] != 0;
}

/* After '<' in content: 1 a start tag (name_first), 2 an end tag, 0
 * other markup (or an error), left to scan_lt(). */
static inline unsigned
tag_kind(unsigned char c)
{
	return c == '/' ? 2 : name_first[c];
}

/* The length of the valid UTF-8 character at p (charset_utf8_len()),
 * 0 when it is invalid, cut short by e, or NUL: as g_utf8_validate(). */
static inline size_t
utf8_char(const char *cp, const char *ce)
{
	const unsigned char *p = (const unsigned char *)cp;

	return *p == '\0' ? 0 : charset_utf8_len(p, (size_t)(ce - cp));
}

/* Valid UTF-8 without NUL, as GMarkup wanted its input.  What needs
 * the check is mostly Chinese among ASCII (a customer list's names and
 * addresses between numbers and mail addresses), and checking it took
 * over a quarter of reading such a document: ASCII goes sixteen bytes a
 * step where SSE2 is there, and a three-byte character is checked
 * inline. */
static bool
utf8_valid(const char *cp, size_t len)
{
	const unsigned char *p = (const unsigned char *)cp, *e = p + len;
	size_t n;
#ifdef __SSE2__
	const __m128i zero = _mm_setzero_si128();
	__m128i v;
	unsigned m;
#endif

	while (p < e) {
		if (*p - 1u < 0x7fu) {	/* 1 .. 0x7f */
			p++;
#ifdef __SSE2__
			/* Up to the next byte with bit 7 set, or NUL. */
			while (e - p >= 16) {
				v = _mm_loadu_si128(
				    (const __m128i *)(const void *)p);
				m = (unsigned)_mm_movemask_epi8(_mm_or_si128(v,
				    _mm_cmpeq_epi8(v, zero)));
				if (m != 0) {
					p += __builtin_ctz(m);
					break;
				}
				p += 16;
			}
#endif
			continue;
		}
		/* charset_utf8_len()'s three-byte case, repeated here: in
		 * this loop it measured 3% fewer instructions on a Chinese
		 * .docx than the inline function. */
		if (*p >= 0xe1 && *p <= 0xef && *p != 0xed && e - p >= 3 &&
		    (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
			p += 3;
			continue;
		}
		if ((n = utf8_char((const char *)p, (const char *)e)) == 0)
			return false;
		p += n;
	}
	return true;
}

static size_t
utf8_put(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* "#65", "#x41": the code point, or 0 when not a permitted character
 * (GMarkup's ranges: no NUL, surrogates, U+FFFE, U+FFFF). */
static uint32_t
charref(const char *p, size_t n)
{
	uint32_t c = 0;
	unsigned base = 10, d;
	size_t i = 1;

	if (n > 1 && p[1] == 'x') {
		base = 16;
		i = 2;
	}
	if (i == n)
		return 0;
	for (; i < n; i++) {
		if (g_ascii_isdigit(p[i]))
			d = (unsigned)(p[i] - '0');
		else if (base == 16 && g_ascii_isxdigit(p[i]))
			d = (unsigned)(g_ascii_tolower(p[i]) - 'a' + 10);
		else
			return 0;
		c = c * base + d;
		if (c > 0x10ffff)	/* also keeps c from wrapping */
			return 0;
	}
	if ((c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	return c;
}

/* What the reference p[0 .. n) (between '&' and ';') stands for, as
 * UTF-8 in out (4 bytes): its length, or 0 when it is unknown.  Only
 * the predefined entities: a DOCTYPE's are never defined. */
static size_t
ref_decode(const char *p, size_t n, char *out)
{
	static const struct {
		const char	*name;
		char		 c;
	} pre[] = {
		{ "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' },
		{ "apos", '\'' }
	};
	uint32_t c;
	size_t i;

	if (n > 0 && p[0] == '#') {
		if ((c = charref(p, n)) == 0)
			return 0;
		return utf8_put(c, out);
	}
	for (i = 0; i < G_N_ELEMENTS(pre); i++)
		if (strlen(pre[i].name) == n && memcmp(pre[i].name, p, n) == 0) {
			out[0] = pre[i].c;
			return 1;
		}
	return 0;
}

/* ------------------------------------------------------- text */

/* check: p may hold NUL or non-ASCII bytes, to be checked first. */
HOT int
text_give(struct xmlscan *s, const char *p, size_t n, bool check)
{
	if (n == 0)
		return 0;
	if (check && !utf8_valid(p, n))
		return fail(s, XMLSCAN_BAD, "text is not UTF-8");
	if (s->ops->text(s->arg, p, n) != 0)
		return fail(s, XMLSCAN_STOP, "stopped");
	return 0;
}

/* The buffered text is always checked: it may have been joined from
 * pieces of a character cut by a chunk's end. */
static int
text_flush(struct xmlscan *s)
{
	int rc = text_give(s, s->text.p, s->text.len, true);

	s->text.len = 0;
	return rc;
}

/* Held until the node ends; a huge node goes out in pieces cut before
 * its last, perhaps unfinished, character. */
static int
text_add(struct xmlscan *s, const char *p, size_t n)
{
	struct sbuf *t = &s->text;
	size_t k;

	sbuf_add(t, p, n);
	if (t->len < XMLSCAN_TEXT_MAX)
		return 0;
	for (k = t->len - 1; k > 0 && t->len - k < 4 &&
	    ((unsigned char)t->p[k] & 0xc0) == 0x80; k--)
		;
	if (text_give(s, t->p, k, true) != 0)
		return -1;
	memmove(t->p, t->p + k, t->len - k);
	t->len -= k;
	return 0;
}

/* A reference in text at p ('&'): decoded, or carried when the chunk
 * ends inside it. */
static const char *
text_ref(struct xmlscan *s, const char *p, const char *e)
{
	size_t max = (size_t)(e - p - 1), n;
	const char *semi;
	char out[4];

	if (max > XMLSCAN_REF_MAX + 1)
		max = XMLSCAN_REF_MAX + 1;
	if ((semi = memchr(p + 1, ';', max)) == NULL) {
		if ((size_t)(e - p - 1) > XMLSCAN_REF_MAX) {
			(void)fail(s, XMLSCAN_BAD, "entity reference too long");
			return NULL;
		}
		s->plen = (size_t)(e - p - 1);
		memcpy(s->part, p + 1, s->plen);
		s->state = S_REF;
		return e;
	}
	if ((n = ref_decode(p + 1, (size_t)(semi - p - 1), out)) == 0) {
		(void)fail(s, XMLSCAN_BAD, "unknown entity");
		return NULL;
	}
	return text_add(s, out, n) == 0 ? semi + 1 : NULL;
}

static const char *
scan_ref(struct xmlscan *s, const char *p, const char *e)
{
	char out[4];
	size_t n;

	for (; p < e; p++) {
		if (*p != ';') {
			if (s->plen == XMLSCAN_REF_MAX) {
				(void)fail(s, XMLSCAN_BAD,
				    "entity reference too long");
				return NULL;
			}
			s->part[s->plen++] = *p;
			continue;
		}
		if ((n = ref_decode(s->part, s->plen, out)) == 0) {
			(void)fail(s, XMLSCAN_BAD, "unknown entity");
			return NULL;
		}
		s->state = S_TEXT;
		return text_add(s, out, n) == 0 ? p + 1 : NULL;
	}
	return e;
}

/* Outside the root element only white space may come between
 * constructs, as GMarkup has it. */
static const char *
scan_outside(struct xmlscan *s, const char *p, const char *e)
{
	for (; p < e; p++) {
		if (*p == '<') {
			s->state = S_LT;
			return p + 1;
		}
		if (!is_space((unsigned char)*p)) {
			(void)fail(s, XMLSCAN_BAD, "text outside the root element");
			return NULL;
		}
	}
	return e;
}

/* ------------------------------------------------------- tags */

/* A name's bytes: 1 ASCII, 2 the prefix's ':', 3 part of a non-ASCII
 * character (checked as UTF-8). */
static const unsigned char name_tab[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};

/* Bytes of a value that are not copied as they are: the quotes (one
 * ends the value), references, white space that becomes a space, and
 * NUL or non-ASCII bytes (checked as UTF-8). */
static const unsigned char value_stop[256] = {
	['\0'] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['&'] = 1,
	['"'] = 1, ['\''] = 1,
	[0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};

/* The name at *pp, which is moved past it; *local is after its last
 * ':'.  TAG_SHORT when e may cut it. */
HOT int
name_run(const char **pp, const char *e, const char **local)
{
	const char *p = *pp;
	size_t n;

	unsigned k;

	if (p == e)
		return TAG_SHORT;
	if (!name_start((unsigned char)*p))
		return TAG_BAD;
	*local = p;
	/* A letter or '_' first: past it at once. */
	if (name_tab[(unsigned char)*p] == 1)
		p++;
	for (;;) {
		/* Plain ASCII name bytes, nearly all of them, in a tight
		 * loop. */
		k = 0;
		while (p < e && (k = name_tab[(unsigned char)*p]) == 1)
			p++;
		if (p == e)
			return TAG_SHORT;
		if (k == 0)
			break;
		if (k == 2) {
			*local = ++p;
			continue;
		}
		if ((n = utf8_char(p, e)) == 0)
			return e - p < 4 ? TAG_SHORT : TAG_BAD;
		p += n;
	}
	*pp = p;
	return TAG_DONE;
}

/* A value after its opening quote at *pp, decoded to *dp with its NUL
 * while the closing quote is looked for: TAG_DONE with *pp after that
 * quote.  As when the quote was found first and the value decoded
 * after: TAG_SHORT whenever e comes before the quote, even past a bad
 * byte, TAG_BAD (the error set) for a bad value. */
HOT int
value_run(struct xmlscan *s, const char **pp, const char *e, char quote,
    char **dp)
{
	const char *p = *pp, *q, *semi;
	char *d = *dp;
	size_t n;
#ifdef __SSE2__
	const __m128i dq = _mm_set1_epi8('"'), sq = _mm_set1_epi8('\'');
	const __m128i amp = _mm_set1_epi8('&'), sp = _mm_set1_epi8(' ');
	__m128i v;
	unsigned m;
#endif

	for (;;) {
#ifdef __SSE2__
		/* Sixteen bytes a step, stored whole and kept up to the
		 * first that may stop the value: a quote, '&', or a byte
		 * below 0x20 or past 0x7f (below ' ' as a signed byte), a
		 * superset of value_stop.  The store stays inside attrs:
		 * what is written never runs ahead of what is read (see
		 * ATTRS_CAP) and p + 16 <= e, the tag's bound. */
		while (e - p >= 16) {
			v = _mm_loadu_si128((const __m128i *)(const void *)p);
			m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(v, dq),
			    _mm_cmpeq_epi8(v, sq)), _mm_or_si128(
			    _mm_cmpeq_epi8(v, amp), _mm_cmplt_epi8(v, sp))));
			_mm_storeu_si128((__m128i *)(void *)d, v);
			if (m == 0) {
				p += 16;
				d += 16;
				continue;
			}
			m = (unsigned)__builtin_ctz(m);
			p += m;
			d += m;
			break;
		}
#endif
		while (p < e && !value_stop[(unsigned char)*p])
			*d++ = *p++;
		if (p == e)
			return TAG_SHORT;
		if (*p == quote) {	/* the common end, before the switch */
			*d++ = '\0';
			*dp = d;
			*pp = p + 1;
			return TAG_DONE;
		}
		switch (*p) {
		case '"':
		case '\'':	/* the other quote */
			*d++ = *p++;
			break;
		case '&':
			if ((q = memchr(p, quote, (size_t)(e - p))) == NULL)
				return TAG_SHORT;
			n = (size_t)(q - p - 1);
			semi = memchr(p + 1, ';', MIN(n, XMLSCAN_REF_MAX + 1));
			if (semi == NULL || (n = ref_decode(p + 1,
			    (size_t)(semi - p - 1), d)) == 0) {
				(void)fail(s, XMLSCAN_BAD,
				    "bad reference in a value");
				return TAG_BAD;
			}
			d += n;
			p = semi + 1;
			break;
		case '\r':
			*d++ = ' ';
			if (++p < e && *p == '\n')
				p++;
			break;
		case '\t':
		case '\n':
			*d++ = ' ';
			p++;
			break;
		default:
			/* A quote cannot be part of a character: checked up
			 * to e, this is what checking up to the quote gave. */
			if ((n = utf8_char(p, e)) == 0) {
				if (memchr(p, quote, (size_t)(e - p)) == NULL)
					return TAG_SHORT;
				(void)fail(s, XMLSCAN_BAD, "value is not UTF-8");
				return TAG_BAD;
			}
			memcpy(d, p, n);
			d += n;
			p += n;
			break;
		}
	}
}

static void
attr_room(struct xmlscan *s, size_t n)
{
	if (n < s->acap)
		return;
	if (s->acap == 0)
		s->acap = 16;
	while (n >= s->acap)
		s->acap *= 2;
	s->an = g_renew(const char *, s->an, s->acap);
	s->av = g_renew(const char *, s->av, s->acap);
}

/* One attribute at *pp: its name, NUL, value, NUL at *dp, an[n] and
 * av[n] pointing there. */
HOT int
attr_parse(struct xmlscan *s, const char **pp, const char *e, size_t n,
    char **dp)
{
	const char *p = *pp, *name = p, *local;
	char *d = *dp, quote;
	int rc;

	if ((rc = name_run(&p, e, &local)) != TAG_DONE)
		return rc;
	attr_room(s, n + 1);
	s->an[n] = d;
	/* attrs has room for 16 bytes at d: see ATTRS_CAP. */
	copy_short(d, name, (size_t)(p - name), e);
	d += p - name;
	*d++ = '\0';
	/* name_run() left p before e.  Mostly no space around '='. */
	if (*p != '=') {
		while (p < e && is_space((unsigned char)*p))
			p++;
		if (p == e)
			return TAG_SHORT;
		if (*p != '=')
			return TAG_BAD;
	}
	if (++p == e)
		return TAG_SHORT;
	if (*p != '"' && *p != '\'') {
		while (p < e && is_space((unsigned char)*p))
			p++;
		if (p == e)
			return TAG_SHORT;
		if (*p != '"' && *p != '\'')
			return TAG_BAD;
	}
	quote = *p++;
	s->av[n] = d;
	if ((rc = value_run(s, &p, e, quote, &d)) != TAG_DONE)
		return rc;
	*pp = p;
	*dp = d;
	return TAG_DONE;
}

/* Returns the local name, as kept. */
HOT const char *
open_push(struct xmlscan *s, const char *name, size_t len, size_t local,
    const char *e)
{
	char *d;

	if (s->depth == s->open_cap) {
		s->open_cap = s->open_cap > 0 ? s->open_cap * 2 : 32;
		s->open = g_renew(size_t, s->open, 2 * s->open_cap);
	}
	s->open[2 * s->depth] = s->names.len;
	s->open[2 * s->depth + 1] = s->names.len + local;
	s->depth++;
	/* 16 more: room for copy_short(), and for end_tag() to read 16
	 * bytes of the name. */
	sbuf_reserve(&s->names, len + 1 + 16);
	d = s->names.p + s->names.len;
	copy_short(d, name, len, e);
	d[len] = '\0';
	s->names.len += len + 1;
	return d + local;
}

HOT int
element_end(struct xmlscan *s)
{
	size_t d = s->depth - 1;
	int rc;

	rc = s->ops->end(s->arg, s->names.p + s->open[2 * d + 1]);
	s->names.len = s->open[2 * d];
	s->depth--;
	return rc != 0 ? fail(s, XMLSCAN_STOP, "stopped") : 0;
}

/* "name attr='v' ...>" or ".../>" at p: parsed where it lies, nothing
 * done when e cuts it (TAG_SHORT). */
HOT int
start_tag(struct xmlscan *s, const char *p, const char *e,
    const char **next)
{
	const char *name = p, *local;
	char *d;
	size_t len, n = 0;
	bool empty = false, valued = false;
	int rc;

	if ((rc = name_run(&p, e, &local)) != TAG_DONE)
		return rc;
	len = (size_t)(p - name);
	d = s->attrs;
	for (;;) {
		if (*p == '>') {
			p++;
			break;
		}
		if (*p == '/') {
			if (p + 1 == e)
				return TAG_SHORT;
			if (p[1] != '>')
				return TAG_BAD;
			empty = true;
			p += 2;
			break;
		}
		/* Space after the name; after a value GMarkup did not
		 * ask for it (a="1"b="2"). */
		if (is_space((unsigned char)*p))
			p++;
		else if (!valued)
			return TAG_BAD;
		while (p < e && is_space((unsigned char)*p))
			p++;
		if (p == e)
			return TAG_SHORT;
		if (*p == '>' || *p == '/')
			continue;
		if ((rc = attr_parse(s, &p, e, n++, &d)) != TAG_DONE)
			return rc;
		valued = true;
		if (p == e)
			return TAG_SHORT;
	}

	if (s->depth >= s->max_depth) {
		(void)fail(s, XMLSCAN_DEEP, "too deep");
		return TAG_BAD;
	}
	s->an[n] = s->av[n] = NULL;
	local = open_push(s, name, len, (size_t)(local - name), e);
	*next = p;
	if (s->ops->start(s->arg, local, s->an, s->av) != 0) {
		(void)fail(s, XMLSCAN_STOP, "stopped");
		return TAG_BAD;
	}
	if (empty && element_end(s) != 0)
		return TAG_BAD;
	return TAG_DONE;
}

/* "name >" at p (after "</"): must close the element open last, as in
 * GMarkup. */
HOT int
end_tag(struct xmlscan *s, const char *p, const char *e, const char **next)
{
	const char *open;
	size_t i, n, m;

	if (s->depth == 0)
		return TAG_BAD;
	open = s->names.p + s->open[2 * (s->depth - 1)];
	n = s->names.len - s->open[2 * (s->depth - 1)] - 1;
#ifdef __SSE2__
	/* A short name, 16 bytes readable on both sides (open_push()
	 * left room after it): one compare. */
	if (n < 16 && e - p >= 16) {
		m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const __m128i *)(const void *)p),
		    _mm_loadu_si128((const __m128i *)(const void *)open)));
		if ((~m & ((1u << n) - 1)) != 0)
			return TAG_BAD;
		m = n;
	} else
#endif
	{
		/* A mismatch before e is bad, e first is short. */
		m = MIN(n, (size_t)(e - p));
		for (i = 0; i < m; i++)
			if (p[i] != open[i])
				return TAG_BAD;
		if (m < n)
			return TAG_SHORT;
	}
	p += n;
	if (p == e)
		return TAG_SHORT;
	if (*p != '>') {
		while (p < e && is_space((unsigned char)*p))
			p++;
		if (p == e)
			return TAG_SHORT;
		if (*p != '>')
			return TAG_BAD;
	}
	*next = p + 1;
	return element_end(s) == 0 ? TAG_DONE : TAG_BAD;
}

/* A tag at p (after '<'), within XMLSCAN_TAG_MAX: TAG_DONE with *next
 * after its '>'; TAG_SHORT when e comes first; TAG_BAD, the error set. */
static int
tag_parse(struct xmlscan *s, const char *p, const char *e,
    const char **next)
{
	int rc;

	if ((size_t)(e - p) > XMLSCAN_TAG_MAX + 1)
		e = p + XMLSCAN_TAG_MAX + 1;
	rc = *p == '/' ? end_tag(s, p + 1, e, next) :
	    start_tag(s, p, e, next);
	if (rc == TAG_BAD)
		(void)fail(s, XMLSCAN_BAD, "bad tag");
	return rc;
}

/* The end of the plain run of text at p: the first byte that is 1 in
 * text_stop, or e.  *check is set when the run has a byte that is 2.
 * Sixteen bytes a step where SSE2 is there: a document's runs of prose
 * are long, and a sheet's short ones cost one step. */
static const char *
text_run(const char *p, const char *e, bool *check)
{
	unsigned k = 0;

#ifdef __SSE2__
	const __m128i lt = _mm_set1_epi8('<'), amp = _mm_set1_epi8('&');
	const __m128i cr = _mm_set1_epi8('\r'), zero = _mm_setzero_si128();
	__m128i v;
	unsigned stop, odd;

	while (e - p >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		stop = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, amp)),
		    _mm_cmpeq_epi8(v, cr)));
		/* bit 7 set, or NUL */
		odd = (unsigned)_mm_movemask_epi8(_mm_or_si128(v,
		    _mm_cmpeq_epi8(v, zero)));
		if (stop != 0) {
			stop = (unsigned)__builtin_ctz(stop);
			if ((odd & ((1u << stop) - 1)) != 0)
				*check = true;
			return p + stop;
		}
		if (odd != 0)
			*check = true;
		p += 16;
	}
#endif
	for (; p < e; p++) {
		if (text_stop[(unsigned char)*p] == 1)
			break;
		k |= text_stop[(unsigned char)*p];
	}
	if (k != 0)
		*check = true;
	return p;
}

/* The bytes of a shortcut's tags and text (ops->cell and ops->shared,
 * see xmlscan.h): 1 in a name after its first byte, 2 also first; 4
 * in a value; 8 in text (past 0x7f too, checked as UTF-8).  Names and
 * values ASCII: the rest is the tokenizer's. */
static const unsigned char plain_tab[256] = {
	['\t'] = 8, ['\n'] = 8, [' '] = 4 | 8, ['!'] = 4 | 8,
	['"'] = 8, ['#' ... '%'] = 4 | 8, ['\''] = 8,
	['(' ... ','] = 4 | 8, ['-' ... '.'] = 1 | 4 | 8, ['/'] = 4 | 8,
	['0' ... '9'] = 1 | 4 | 8, [':'] = 1 | 2 | 4 | 8, [';'] = 4 | 8,
	['='] = 4 | 8, ['>' ... '@'] = 4 | 8, ['A' ... 'Z'] = 1 | 2 | 4 | 8,
	['[' ... '^'] = 4 | 8, ['_'] = 1 | 2 | 4 | 8, ['`'] = 4 | 8,
	['a' ... 'z'] = 1 | 2 | 4 | 8, ['{' ... '~'] = 4 | 8,
	[0x80 ... 0xff] = 8
};

enum { PLAIN_NO, PLAIN_DONE, PLAIN_FAIL };

/* A tag's attributes in their plainest form, from *pp (after the name)
 * to its '>' or "/>": ' ' name="value" ..., names and values ASCII,
 * no reference.  The value of the first whose local name is t in *t
 * and *tlen (when t is not NULL).  1 with *pp after the tag and *empty
 * set for "/>"; 0 for any other form, or when e cuts the tag. */
HOT int
plain_attrs(const char **pp, const char *e, const char **t, size_t *tlen,
    bool *empty)
{
	const char *p = *pp, *local, *v;
	bool is_t;
	char quote;

	for (;; p++) {	/* p after the name or a value */
		if (p == e)
			return 0;
		if (*p == '>' || *p == '/')
			break;
		if (*p != ' ' || ++p == e || !(plain_tab[(unsigned char)*p] & 2))
			return 0;
		for (local = p; p < e && (plain_tab[(unsigned char)*p] & 1); p++)
			if (*p == ':')
				local = p + 1;
		if (e - p < 2 || *p != '=' || (p[1] != '"' && p[1] != '\''))
			return 0;
		is_t = p - local == 1 && *local == 't';
		quote = p[1];
		for (v = p += 2; p < e && (plain_tab[(unsigned char)*p] & 4) &&
		    *p != quote; p++)
			;
		if (p == e || *p != quote)
			return 0;
		if (is_t && t != NULL && *t == NULL) {
			*t = v;
			*tlen = (size_t)(p - v);
		}
	}
	if (*p == '/') {
		if (e - p < 2 || p[1] != '>')
			return 0;
		*empty = true;
		*pp = p + 2;
		return 1;
	}
	*empty = false;
	*pp = p + 1;
	return 1;
}

/* Text in its plainest form from *pp: no markup, reference or CR, no
 * NUL, valid UTF-8.  1 with *pp at the '<' that ends it, 0 otherwise. */
HOT int
plain_text(const char **pp, const char *e)
{
	const char *p = *pp;
	unsigned odd = 0;

	for (; p < e && (plain_tab[(unsigned char)*p] & 8); p++)
		odd |= (unsigned char)*p;
	if (p == e || *p != '<' ||
	    ((odd & 0x80) && !utf8_valid(*pp, (size_t)(p - *pp))))
		return 0;
	*pp = p;
	return 1;
}

/* At p, "<c" or "<si": a worksheet's cell or a shared string as one
 * call (PLAIN_DONE, *next after it) when it has the plainest form and
 * lies before e; otherwise PLAIN_NO and nothing done, the tokenizer
 * reads it as it reads any tag.  What is accepted here the tokenizer
 * accepts too, with the same names, attribute and text. */
HOT int
plain_shortcut(struct xmlscan *s, const char *p, const char *e,
    const char **next)
{
	const char *t = NULL, *v = NULL;
	size_t tlen = 0, vlen = 0;
	bool empty;
	int rc;

	if (p[1] == 'c' && s->ops->cell != NULL) {
		/* <c ...><v>text</v></c>, or <c .../> */
		p += 2;
		if (!plain_attrs(&p, e, &t, &tlen, &empty))
			return PLAIN_NO;
		if (!empty) {
			if (s->depth + 1 >= s->max_depth || e - p < 3 ||
			    memcmp(p, "<v>", 3) != 0)
				return PLAIN_NO;
			v = p += 3;
			if (!plain_text(&p, e) || e - p < 8 ||
			    memcmp(p, "</v></c>", 8) != 0)
				return PLAIN_NO;
			vlen = (size_t)(p - v);
			p += 8;
		} else if (s->depth >= s->max_depth)
			return PLAIN_NO;
		rc = s->ops->cell(s->arg, t, tlen, v, vlen);
	} else if (p[1] == 's' && e - p > 2 && p[2] == 'i' &&
	    s->ops->shared != NULL) {
		/* <si ...><t ...>text</t></si> */
		p += 3;
		if (!plain_attrs(&p, e, NULL, NULL, &empty) || empty ||
		    s->depth + 1 >= s->max_depth || e - p < 2 ||
		    memcmp(p, "<t", 2) != 0)
			return PLAIN_NO;
		p += 2;
		if (!plain_attrs(&p, e, NULL, NULL, &empty) || empty)
			return PLAIN_NO;
		v = p;
		if (!plain_text(&p, e) || e - p < 9 ||
		    memcmp(p, "</t></si>", 9) != 0)
			return PLAIN_NO;
		rc = s->ops->shared(s->arg, v, (size_t)(p - v));
		p += 9;
	} else
		return PLAIN_NO;
	*next = p;
	if (rc != 0) {
		(void)fail(s, XMLSCAN_STOP, "stopped");
		return PLAIN_FAIL;
	}
	return PLAIN_DONE;
}

/* Content: plain runs are given straight from the chunk when the whole
 * node lies in it, the common case; anything decoded or carried goes
 * through the text buffer.  A tag that lies in the chunk is parsed
 * here, where it is, without a call per state; one that the chunk cuts
 * goes to scan_tag() through S_TAG, and other markup through S_LT. */
static const char *
scan_text(struct xmlscan *s, const char *p, const char *e)
{
	const char *run, *q, *next = NULL;
	bool check;
	unsigned k;
	int rc;

	if (s->depth == 0)
		return scan_outside(s, p, e);
	if (s->cr) {
		s->cr = false;
		if (*p == '\n')
			p++;
	}
	for (;;) {
		/* p < e.  Between two tags of a sheet there is mostly
		 * nothing. */
		if (*p != '<') {
			run = p;
			check = false;
			p = text_run(p, e, &check);
			if (p == e)
				return text_add(s, run, (size_t)(p - run)) == 0 ?
				    e : NULL;
			if (*p != '<') {
				if (text_add(s, run, (size_t)(p - run)) != 0)
					return NULL;
				if (*p == '\r') {
					if (text_add(s, "\n", 1) != 0)
						return NULL;
					if (++p == e) {
						s->cr = true;
						return e;
					}
					if (*p == '\n')
						p++;
				} else if ((p = text_ref(s, p, e)) == NULL ||
				    s->state != S_TEXT)
					return p;
				if (p == e)
					return e;
				continue;
			}
			if (s->text.len == 0) {
				if (text_give(s, run, (size_t)(p - run),
				    check) != 0)
					return NULL;
			} else if (text_add(s, run, (size_t)(p - run)) != 0 ||
			    text_flush(s) != 0)
				return NULL;
		} else if (s->text.len > 0 && text_flush(s) != 0)
			return NULL;

		q = p + 1;
		if (q != e && (*q == 'c' || *q == 's') &&
		    (rc = plain_shortcut(s, p, e, &next)) != PLAIN_NO) {
			if (rc == PLAIN_FAIL)
				return NULL;
			if ((p = next) == e)
				return e;
			continue;
		}
		if (q == e || (k = tag_kind((unsigned char)*q)) == 0) {
			s->state = S_LT;
			return q;
		}
		/* e is at most XMLSCAN_TAG_MAX + 1 past q (see
		 * xmlscan_feed()), the bound tag_parse() sets. */
		if (k == 2) {
			rc = end_tag(s, q + 1, e, &next);
			/* Past the root: scan_outside(). */
			if (rc == TAG_DONE && s->depth == 0)
				return next;
		} else
			rc = start_tag(s, q, e, &next);
		if (rc != TAG_DONE) {
			if (rc == TAG_SHORT) {
				s->state = S_TAG;
				s->quote = '\0';
				return q;
			}
			(void)fail(s, XMLSCAN_BAD, "bad tag");
			return NULL;
		}
		if ((p = next) == e)
			return e;
	}
}

/* Slow path: up to the '>' that is not in a quoted value, carried
 * across chunks, bounded; then parsed whole. */
static const char *
scan_tag(struct xmlscan *s, const char *p, const char *e)
{
	const char *from = p, *q, *start, *end, *next = NULL;
	size_t n;
	int rc;

	while (p < e) {
		if (s->quote != '\0') {
			if ((q = memchr(p, s->quote, (size_t)(e - p))) == NULL) {
				p = e;
				break;
			}
			s->quote = '\0';
			p = q + 1;
		} else if (*p == '>')
			break;
		else if (*p == '"' || *p == '\'')
			s->quote = *p++;
		else
			p++;
	}
	n = (size_t)(p - from);
	if (n > XMLSCAN_TAG_MAX - s->hold.len) {
		(void)fail(s, XMLSCAN_BAD, "tag too long");
		return NULL;
	}
	if (p == e) {
		sbuf_add(&s->hold, from, n);
		return e;
	}
	start = from;
	end = p + 1;
	if (s->hold.len > 0) {
		sbuf_add(&s->hold, from, n + 1);
		start = s->hold.p;
		end = s->hold.p + s->hold.len;
	}
	rc = tag_parse(s, start, end, &next);
	s->hold.len = 0;
	s->state = S_TEXT;
	if (rc != TAG_DONE || next != end) {
		(void)fail(s, XMLSCAN_BAD, "bad tag");
		return NULL;
	}
	return p + 1;
}

/* ------------------------------------------------------- the rest */

static const char *
scan_lt(struct xmlscan *s, const char *p)
{
	s->seen = true;
	if (*p == '?') {
		s->state = S_PI;
		s->match = 0;
		return p + 1;
	}
	if (*p == '!') {
		s->state = S_BANG;
		s->plen = 0;
		return p + 1;
	}
	if (*p == '/' || name_start((unsigned char)*p)) {
		s->state = S_TAG;
		s->quote = '\0';
		return p;
	}
	(void)fail(s, XMLSCAN_BAD, "bad character after '<'");
	return NULL;
}

static const char *
scan_bang(struct xmlscan *s, const char *p, const char *e)
{
	static const struct {
		const char	*word;
		int		 state;
	} kinds[] = {
		{ "--", S_COMMENT }, { "[CDATA[", S_CDATA },
		{ "DOCTYPE", S_DOCTYPE }
	};
	size_t i, n;

	while (p < e) {
		s->part[s->plen++] = *p++;
		for (i = 0; i < G_N_ELEMENTS(kinds); i++) {
			n = strlen(kinds[i].word);
			if (n >= s->plen && memcmp(kinds[i].word, s->part,
			    s->plen) == 0)
				break;
		}
		if (i == G_N_ELEMENTS(kinds)) {
			(void)fail(s, XMLSCAN_BAD, "unknown '<!' construct");
			return NULL;
		}
		if (n == s->plen) {
			s->state = kinds[i].state;
			s->match = 0;
			s->balance = 1;
			return p;
		}
	}
	return e;
}

/* Skips to the end of a construct closed by need times c then '>':
 * a comment ("-->", need 2) or a processing instruction ("?>", need 1).
 * More c before the '>' still close it ("--->", "??>"). */
static const char *
scan_skip(struct xmlscan *s, const char *p, const char *e, char c,
    unsigned need)
{
	const char *q;

	while (p < e) {
		if (s->match == 0) {
			if ((q = memchr(p, c, (size_t)(e - p))) == NULL)
				return e;
			p = q + 1;
			s->match = 1;
		} else if (*p == c) {
			if (s->match < need)
				s->match++;
			p++;
		} else if (*p == '>' && s->match == need) {
			s->state = S_TEXT;
			return p + 1;
		} else {
			s->match = 0;
			p++;
		}
	}
	return e;
}

/* Content up to "]]>" is text, raw, a call of its own (GMarkup's
 * G_MARKUP_TREAT_CDATA_AS_TEXT); outside the root nobody reads it. */
static const char *
scan_cdata(struct xmlscan *s, const char *p, const char *e)
{
	const bool keep = s->depth > 0;
	const char *q;

	while (p < e) {
		if (*p == ']') {
			if (s->match < 2)
				s->match++;
			else if (keep && text_add(s, "]", 1) != 0)
				return NULL;
			p++;
			continue;
		}
		if (*p == '>' && s->match == 2) {
			s->state = S_TEXT;
			s->match = 0;
			return keep && text_flush(s) != 0 ? NULL : p + 1;
		}
		if (s->match > 0 && keep && text_add(s, "]]", s->match) != 0)
			return NULL;
		s->match = 0;
		if ((q = memchr(p, ']', (size_t)(e - p))) == NULL)
			q = e;
		if (keep && text_add(s, p, (size_t)(q - p)) != 0)
			return NULL;
		p = q;
	}
	return e;
}

/* Skipped, counting angle brackets as GMarkup did: its declarations
 * are never read. */
static const char *
scan_doctype(struct xmlscan *s, const char *p, const char *e)
{
	for (; p < e; p++) {
		if (*p == '<')
			s->balance++;
		else if (*p == '>' && --s->balance == 0) {
			s->state = S_TEXT;
			return p + 1;
		}
	}
	return e;
}

static const char *
scan_bom(struct xmlscan *s, const char *p, const char *e)
{
	static const char bom[] = "\xef\xbb\xbf";

	for (; p < e && s->match < 3; p++, s->match++)
		if (*p != bom[s->match]) {
			if (s->match == 0) {
				s->state = S_TEXT;
				return p;
			}
			(void)fail(s, XMLSCAN_BAD, "bad byte order mark");
			return NULL;
		}
	if (s->match == 3) {
		s->state = S_TEXT;
		s->match = 0;
	}
	return p;
}

/* ------------------------------------------------------- interface */

struct xmlscan *
xmlscan_new(const struct xmlscan_ops *ops, void *arg, size_t max_depth)
{
	struct xmlscan *s = g_new0(struct xmlscan, 1);

	s->ops = ops;
	s->arg = arg;
	s->max_depth = max_depth;
	s->state = S_BOM;
	s->attrs = g_malloc(ATTRS_CAP);
	attr_room(s, 0);
	s->an[0] = s->av[0] = NULL;
	return s;
}

int
xmlscan_feed(struct xmlscan *s, const char *buf, size_t len)
{
	const char *p = buf, *e = buf + len;

	if (s->err != XMLSCAN_OK)
		return -1;
	while (p != NULL && p < e) {
		switch (s->state) {
		case S_BOM:
			p = scan_bom(s, p, e);
			break;
		case S_TEXT:
			/* A window of at most a tag's bound: every tag in
			 * it is parsed against the window's end rather than
			 * each against its own.  A tag the window cuts goes
			 * the way of one a chunk cuts, through S_TAG, once
			 * in 64 KiB. */
			p = scan_text(s, p, (size_t)(e - p) > XMLSCAN_TAG_MAX +
			    1 ? p + XMLSCAN_TAG_MAX + 1 : e);
			break;
		case S_REF:
			p = scan_ref(s, p, e);
			break;
		case S_LT:
			p = scan_lt(s, p);
			break;
		case S_BANG:
			p = scan_bang(s, p, e);
			break;
		case S_TAG:
			p = scan_tag(s, p, e);
			break;
		case S_PI:
			p = scan_skip(s, p, e, '?', 1);
			break;
		case S_COMMENT:
			p = scan_skip(s, p, e, '-', 2);
			break;
		case S_CDATA:
			p = scan_cdata(s, p, e);
			break;
		default:
			p = scan_doctype(s, p, e);
			break;
		}
	}
	return p == NULL ? -1 : 0;
}

int
xmlscan_end(struct xmlscan *s)
{
	if (s->err != XMLSCAN_OK)
		return -1;
	if (s->state == S_BOM ? s->match != 0 : s->state != S_TEXT)
		return fail(s, XMLSCAN_BAD, "document cut short");
	if (s->depth > 0)
		return fail(s, XMLSCAN_BAD, "elements left open");
	if (!s->seen)
		return fail(s, XMLSCAN_BAD, "empty document");
	return 0;
}

enum xmlscan_err
xmlscan_error(const struct xmlscan *s)
{
	return s->err;
}

const char *
xmlscan_errstr(const struct xmlscan *s)
{
	return s->why != NULL ? s->why : "";
}

struct xmlscan *
xmlscan_free(struct xmlscan *s)
{
	if (s == NULL)
		return NULL;
	g_free(s->text.p);
	g_free(s->hold.p);
	g_free(s->names.p);
	g_free(s->attrs);
	g_free(s->open);
	g_free(s->an);
	g_free(s->av);
	g_free(s);
	return NULL;
}
