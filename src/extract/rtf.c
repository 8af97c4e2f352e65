/* rtf.c - the text of an RTF document.
 *
 * One pass over the bytes with a stack of group states.  Control words
 * are skipped, except those that make text (\par \line \row \sect \page
 * give a line end, \tab \cell a tab, \uN a character, typographic
 * symbols theirs) or say how to read it: \ansicpg and the font table's
 * \fcharset / \cpg give the code page of the 8-bit bytes (literal or
 * \'hh) under each font, since Chinese RTF often declares \ansicpg1252
 * and writes GBK under a \fcharset134 font.  \ucN fallback characters
 * after \uN are skipped.  Groups that hold no text (\fonttbl \colortbl
 * \stylesheet \info \pict, any \* destination but \fldinst, whose
 * HYPERLINK "mailto:..." is worth reading) are not read.  Objects
 * embedded as \objdata (OLE1 around, say, an Excel workbook) go to
 * extract_file() one level deeper.
 *
 * Groups nested deeper than max_xml_depth stop the reading (note
 * "xml-depth"): the stack is bounded.  Text is counted against
 * max_bytes and given as one segment at the file's own path.
 *
 * Errors: -1 only when out of memory. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "charset.h"
#include "extract/extract.h"

#define RTF_TYPE	"application/rtf"
#define RTF_WORDMAX	32	/* letters in a control word */
#define RTF_FONTS	1024	/* font table entries kept */
#define RTF_UCMAX	16	/* \ucN fallback bytes, at most */

struct rtf_state {
	int		 font;		/* \fN, -1 none */
	unsigned	 uc;		/* \ucN */
	bool		 skip;		/* a group whose text is not read */
	bool		 fonttbl;	/* inside \fonttbl */
	bool		 objdata;	/* inside \objdata */
};

struct rtf {
	struct extract		*ex;
	const struct extract_file *f;
	const unsigned char	*p, *end;
	struct rtf_state	*st;	/* st[0..depth] */
	size_t			 depth, max;
	GString			*out;
	/* 8-bit text not yet converted, and its charset (a copy: the
	 * font table may be redefined meanwhile) */
	GByteArray		*pend;
	char			 pendcs[16];
	char			 ansi[16];	/* \ansicpg's charset */
	int			 deff;		/* \deffN */
	int			 tblfont;	/* being defined in \fonttbl */
	GHashTable		*fonts;		/* font -> charset */
	unsigned		 skipn;	/* fallback still to skip */
	gunichar		 hi;	/* a high surrogate from \uN */
	bool			 star;	/* after \* */
	GByteArray		*obj;	/* \objdata, decoded */
	int			 nib;	/* a pending hex digit, or -1 */
	int			 rc;	/* 0, or -1 out of memory */
};

static struct rtf_state *
rtf_cur(struct rtf *r)
{
	return &r->st[r->depth];
}

/* The charset of 8-bit text under the current font. */
static const char *
rtf_charset(struct rtf *r)
{
	int font = rtf_cur(r)->font >= 0 ? rtf_cur(r)->font : r->deff;
	const char *cs = g_hash_table_lookup(r->fonts, GINT_TO_POINTER(font));

	return cs != NULL ? cs : r->ansi;
}

static void
rtf_flush(struct rtf *r)
{
	char *u;
	size_t ulen;

	if (r->pend->len == 0)
		return;
	if (charset_to_utf8((const char *)r->pend->data, r->pend->len,
	    r->pendcs, 0, &u, &ulen, NULL, NULL) != 0) {
		r->rc = -1;
		return;
	}
	g_string_append_len(r->out, u, (gssize)ulen);
	free(u);
	g_byte_array_set_size(r->pend, 0);
}

static void
rtf_byte(struct rtf *r, unsigned char c)
{
	const char *cs = rtf_charset(r);

	if (r->pend->len > 0 && strcmp(cs, r->pendcs) != 0)
		rtf_flush(r);
	(void)g_strlcpy(r->pendcs, cs, sizeof r->pendcs);
	g_byte_array_append(r->pend, &c, 1);
}

static void
rtf_char(struct rtf *r, gunichar c)
{
	rtf_flush(r);
	if (c >= 0xD800 && c <= 0xDBFF) {
		r->hi = c;
		return;
	}
	if (c >= 0xDC00 && c <= 0xDFFF && r->hi != 0)
		c = 0x10000 + ((r->hi - 0xD800) << 10) + (c - 0xDC00);
	else if (c >= 0xD800 && c <= 0xDFFF)
		c = 0xFFFD;
	r->hi = 0;
	if (c != 0)
		g_string_append_unichar(r->out, c);
}

/* A code page number as a charset name charset.c knows. */
static void
rtf_cpg(char *buf, size_t len, long cpg)
{
	if (cpg == 1252 || cpg <= 0 || cpg > 65535)
		(void)g_strlcpy(buf, "windows-1252", len);
	else if (cpg == 10000)
		(void)g_strlcpy(buf, "macintosh", len);
	else if (cpg == 65001)
		(void)g_strlcpy(buf, "UTF-8", len);
	else
		(void)snprintf(buf, len, "CP%ld", cpg);
}

/* \fcharsetN: the Windows charset identifiers' code pages. */
static long
rtf_fcharset_cpg(long cs)
{
	static const struct { long cs, cpg; } map[] = {
		{ 77, 10000 }, { 128, 932 }, { 129, 949 }, { 130, 1361 },
		{ 134, 936 }, { 136, 950 }, { 161, 1253 }, { 162, 1254 },
		{ 163, 1258 }, { 177, 1255 }, { 178, 1256 }, { 186, 1257 },
		{ 204, 1251 }, { 222, 874 }, { 238, 1250 }, { 255, 437 },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(map); i++)
		if (map[i].cs == cs)
			return map[i].cpg;
	return 0;	/* ANSI, default, symbol: the document's */
}

static void
rtf_font_cpg(struct rtf *r, long cpg)
{
	char buf[16];

	if (r->tblfont < 0 || cpg == 0 ||
	    (g_hash_table_size(r->fonts) >= RTF_FONTS &&
	    !g_hash_table_contains(r->fonts, GINT_TO_POINTER(r->tblfont))))
		return;
	rtf_cpg(buf, sizeof buf, cpg);
	g_hash_table_replace(r->fonts, GINT_TO_POINTER(r->tblfont),
	    g_strdup(buf));
}

/* Groups whose text is not document text. */
static bool
rtf_skipped(const char *w)
{
	static const char *const dest[] = { "fonttbl", "colortbl",
	    "stylesheet", "info", "pict", "listtable", "listoverridetable",
	    "revtbl", "rsidtbl", "xmlnstbl", "generator", "themedata",
	    "colorschememapping", "datastore", "latentstyles", "filetbl",
	    "objclass", "objname", "nonshppict", "pgdsctbl",
	    "mmathPr", "passwordhash", NULL };
	size_t i;

	for (i = 0; dest[i] != NULL; i++)
		if (strcmp(w, dest[i]) == 0)
			return true;
	return false;
}

static void
rtf_word(struct rtf *r, const char *w, bool has, long n)
{
	struct rtf_state *s = rtf_cur(r);
	static const struct { const char *w; gunichar c; } sym[] = {
		{ "par", '\n' }, { "line", '\n' }, { "row", '\n' },
		{ "sect", '\n' }, { "page", '\n' }, { "nestrow", '\n' },
		{ "tab", '\t' }, { "cell", '\t' }, { "nestcell", '\t' },
		{ "emdash", 0x2014 }, { "endash", 0x2013 },
		{ "lquote", 0x2018 }, { "rquote", 0x2019 },
		{ "ldblquote", 0x201C }, { "rdblquote", 0x201D },
		{ "bullet", 0x2022 }, { "emspace", ' ' }, { "enspace", ' ' },
		{ "qmspace", ' ' },
	};
	size_t i;
	bool star = r->star;

	r->star = false;
	if (strcmp(w, "bin") == 0) {	/* raw bytes: never text */
		if (has && n > 0)
			r->p += (size_t)n < (size_t)(r->end - r->p) ?
			    (size_t)n : (size_t)(r->end - r->p);
		return;
	}
	if (r->skipn > 0 && !s->skip) {	/* a \uN fallback */
		r->skipn--;
		return;
	}
	if (strcmp(w, "fonttbl") == 0)
		s->fonttbl = true;
	if (s->fonttbl) {
		if (strcmp(w, "f") == 0 && has)
			r->tblfont = (int)n;
		else if (strcmp(w, "fcharset") == 0 && has)
			rtf_font_cpg(r, rtf_fcharset_cpg(n));
		else if (strcmp(w, "cpg") == 0 && has)
			rtf_font_cpg(r, n);
	}
	if (strcmp(w, "objdata") == 0) {
		s->objdata = true;
		s->skip = true;
		return;
	}
	if (rtf_skipped(w) || (star && strcmp(w, "fldinst") != 0)) {
		s->skip = true;
		return;
	}
	if (strcmp(w, "ansicpg") == 0 && has)
		rtf_cpg(r->ansi, sizeof r->ansi, n);
	else if (strcmp(w, "mac") == 0)
		rtf_cpg(r->ansi, sizeof r->ansi, 10000);
	else if (strcmp(w, "pc") == 0)
		rtf_cpg(r->ansi, sizeof r->ansi, 437);
	else if (strcmp(w, "pca") == 0)
		rtf_cpg(r->ansi, sizeof r->ansi, 850);
	else if (strcmp(w, "deff") == 0 && has)
		r->deff = (int)n;
	else if (strcmp(w, "f") == 0 && has && !s->fonttbl)
		s->font = (int)n;
	else if (strcmp(w, "uc") == 0 && has)
		s->uc = n < 0 ? 0 : n > RTF_UCMAX ? RTF_UCMAX : (unsigned)n;
	else if (strcmp(w, "u") == 0 && has) {
		if (!s->skip)
			rtf_char(r, (gunichar)(n < 0 ? n + 65536 : n) & 0xFFFF);
		r->skipn = s->uc;
	} else if (!s->skip)
		for (i = 0; i < G_N_ELEMENTS(sym); i++)
			if (strcmp(w, sym[i].w) == 0) {
				rtf_char(r, sym[i].c);
				break;
			}
}

static int
rtf_hex(int c)
{
	return g_ascii_xdigit_value((char)c);
}

/* A byte of text, or of hex in \objdata. */
static void
rtf_text(struct rtf *r, unsigned char c)
{
	struct rtf_state *s = rtf_cur(r);
	int v;

	if (r->skipn > 0 && !s->skip) {
		r->skipn--;
		return;
	}
	if (s->objdata) {
		if ((v = rtf_hex(c)) < 0)
			return;
		if (r->nib < 0)
			r->nib = v;
		else {
			unsigned char b = (unsigned char)(r->nib << 4 | v);

			g_byte_array_append(r->obj, &b, 1);
			r->nib = -1;
		}
		return;
	}
	if (!s->skip)
		rtf_byte(r, c);
}

/* An OLE1 object (MS-OLEDS 2.2.4: version, format 2 = embedded, class,
 * topic and item names, then the native data) whose data is a file:
 * to extract_file(). */
static void
rtf_object(struct rtf *r)
{
	const unsigned char *d = r->obj->data;
	size_t len = r->obj->len, pos = 8, k, n;
	struct extract_file sub;
	char *w;

	if (len < 8 || d[4] != 2 || d[5] || d[6] || d[7])
		goto out;
	for (k = 0; k < 3; k++) {	/* class, topic, item */
		if (pos + 4 > len)
			goto out;
		n = (size_t)d[pos] | (size_t)d[pos + 1] << 8 |
		    (size_t)d[pos + 2] << 16 | (size_t)d[pos + 3] << 24;
		if (n > len - pos - 4)
			goto out;
		pos += 4 + n;
	}
	if (pos + 4 > len)
		goto out;
	n = (size_t)d[pos] | (size_t)d[pos + 1] << 8 |
	    (size_t)d[pos + 2] << 16 | (size_t)d[pos + 3] << 24;
	if (n > len - pos - 4)
		goto out;
	w = extract_path(r->f->where, "object");
	memset(&sub, 0, sizeof sub);
	sub.where = w;
	sub.data = d + pos + 4;
	sub.len = n;
	sub.depth = r->f->depth + 1;
	if (extract_file(r->ex, &sub) < 0)
		r->rc = -1;
	g_free(w);
out:
	g_byte_array_set_size(r->obj, 0);
	r->nib = -1;
}

/* Reads from r->p to the end of the document.  0, or 1 when groups
 * nest too deep. */
static int
rtf_parse(struct rtf *r)
{
	char w[RTF_WORDMAX + 1];
	const unsigned char *q;
	size_t wl;
	long n;
	bool has, neg;
	int hi, lo;
	unsigned char c;

	while (r->p < r->end && r->rc == 0) {
		c = *r->p++;
		if (c == '{') {
			r->skipn = 0;
			if (r->depth + 1 >= r->max)
				return 1;
			r->st[r->depth + 1] = r->st[r->depth];
			r->depth++;
			continue;
		}
		if (c == '}') {
			r->skipn = 0;
			if (rtf_cur(r)->objdata && (r->depth == 0 ||
			    !r->st[r->depth - 1].objdata))
				rtf_object(r);
			if (r->depth == 0)
				break;	/* the document's last brace */
			/* Text may change charset with the font. */
			rtf_flush(r);
			r->depth--;
			continue;
		}
		if (c == '\r' || c == '\n')
			continue;	/* line ends in RTF are no text */
		if (c != '\\') {
			if (c == '\t')
				rtf_word(r, "tab", false, 0);
			else if (c >= 0x20)
				rtf_text(r, c);
			continue;
		}
		if (r->p >= r->end)
			break;
		c = *r->p;
		if (g_ascii_isalpha(c)) {
			for (wl = 0; r->p < r->end && g_ascii_isalpha(*r->p);
			    r->p++)
				if (wl < RTF_WORDMAX)
					w[wl++] = (char)*r->p;
			w[wl] = '\0';
			neg = r->p < r->end && *r->p == '-';
			q = r->p + (neg ? 1 : 0);
			has = q < r->end && g_ascii_isdigit(*q);
			n = 0;
			if (has) {
				for (r->p = q; r->p < r->end &&
				    g_ascii_isdigit(*r->p); r->p++)
					if (n < 100000000)
						n = n * 10 + (*r->p - '0');
				if (neg)
					n = -n;
			}
			if (r->p < r->end && *r->p == ' ')
				r->p++;	/* the delimiter */
			rtf_word(r, w, has, n);
			continue;
		}
		r->p++;
		switch (c) {
		case '\'':
			if (r->end - r->p >= 2 && (hi = rtf_hex(r->p[0])) >= 0 &&
			    (lo = rtf_hex(r->p[1])) >= 0) {
				r->p += 2;
				rtf_text(r, (unsigned char)(hi << 4 | lo));
			}
			break;
		case '\\': case '{': case '}':
			rtf_text(r, c);
			break;
		case '*':
			r->star = true;
			break;
		case '~':
			if (r->skipn > 0)
				r->skipn--;
			else if (!rtf_cur(r)->skip)
				rtf_char(r, 0xA0);
			break;
		case '_':
			rtf_text(r, '-');
			break;
		case '\r': case '\n':
			rtf_word(r, "par", false, 0);
			break;
		default:	/* \- \| \: ... */
			if (r->skipn > 0)
				r->skipn--;
			break;
		}
	}
	return 0;
}

int
extract_rtf(struct extract *ex, const struct extract_file *f)
{
	struct rtf r;
	int rc = -1;

	memset(&r, 0, sizeof r);
	r.ex = ex;
	r.f = f;
	r.p = f->data;
	r.end = f->data + f->len;
	r.max = ex->lim->max_xml_depth + 1;
	if (r.max > 100000)
		r.max = 100000;
	if ((r.st = calloc(r.max + 1, sizeof *r.st)) == NULL)
		return -1;
	r.st[0].font = -1;
	r.st[0].uc = 1;
	r.deff = -1;
	r.tblfont = -1;
	r.nib = -1;
	(void)g_strlcpy(r.ansi, "windows-1252", sizeof r.ansi);
	r.out = g_string_new(NULL);
	r.pend = g_byte_array_new();
	r.obj = g_byte_array_new();
	r.fonts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
	    g_free);

	/* The file starts "{\rtf": the outer group is depth 0. */
	if (r.p < r.end && *r.p == '{')
		r.p++;
	if (rtf_parse(&r) != 0 && extract_note(ex, "xml-depth",
	    f->where) != 0)
		goto out;
	rtf_flush(&r);
	if (r.rc != 0)
		goto out;
	if (r.out->len > 0 && extract_take(ex, r.out->len, f->where) == 0 &&
	    extract_text(ex, f->where, RTF_TYPE, r.out->str, r.out->len) < 0)
		goto out;
	rc = 1;
out:
	free(r.st);
	g_string_free(r.out, TRUE);
	g_byte_array_free(r.pend, TRUE);
	g_byte_array_free(r.obj, TRUE);
	g_hash_table_destroy(r.fonts);
	return rc;
}
