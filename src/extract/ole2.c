/* ole2.c - legacy Office files and Outlook messages: a small, bounded
 * reader of the Compound File Binary format (MS-CFB) and of the streams
 * in it that hold text.
 *
 *   WordDocument        Word 97-2003: the piece table (FIB -> CLX in the
 *                       0Table/1Table stream); text runs when it is not
 *                       there (Word 6/95) or does not parse
 *   Workbook, Book      Excel BIFF8/BIFF5: SST, LABELSST, LABEL, NUMBER,
 *                       RK, MULRK, FORMULA + STRING cells, a segment per
 *                       sheet, rows on lines, cells split by tabs
 *   PowerPoint Document text atoms (TextChars, TextBytes, CString)
 *   __substg1.0_*       Outlook .msg: the 001F (UTF-16) and 001E (8-bit)
 *                       properties; attached files go to extract_file()
 *   Package, \1Ole10Native  files embedded as OLE objects: extract_file()
 *   EncryptedPackage    encrypted OOXML: "encrypted"
 * Streams are found anywhere in the tree, so an Excel table embedded in
 * a Word file is read too; sources name the storages on the way:
 *     attachment "a.doc" > ObjectPool > _1234 > sheet "Sheet1"
 *
 * Every sector number, chain and length is checked against the file:
 * a chain that leaves the file, loops, or is shorter than its stream
 * makes the file (or that stream) "damaged".  Memory: the FAT, the
 * directory and the stream being read, each at most the file's size;
 * extracted text is counted against max_bytes as it is made (a cell
 * repeated a million times costs what it expands to).
 *
 * Notes: "damaged", "encrypted" (FILEPASS, Word's fEncrypted,
 * EncryptedPackage, PowerPoint's CryptSession).  Errors: -1 only when
 * out of memory. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "charset.h"
#include "extract/extract.h"

#define OLE2_HDR	512
#define OLE2_ENDCHAIN	0xFFFFFFFEu
#define OLE2_FREE	0xFFFFFFFFu
#define OLE2_NONE	0xFFFFFFFFu	/* no sibling, child, parent */
#define OLE2_DIRENT	128
#define OLE2_MINISEC	64
#define OLE2_CUTOFF	4096	/* smaller streams live in the mini stream */
#define OLE2_RUNMIN	4	/* shortest text run worth reporting */
#define OLE2_PATHMAX	8	/* storages named in a source */

enum { OLE2_STORAGE = 1, OLE2_STREAM = 2, OLE2_ROOT = 5 };

struct ole2_ent {
	char		 name[128];	/* UTF-8 */
	unsigned	 type;
	uint32_t	 left, right, child, parent;
	uint32_t	 first, next;	/* a storage's entries, as a list */
	uint32_t	 start;
	uint64_t	 size;
};

struct ole2 {
	const unsigned char	*data;
	size_t			 len;
	size_t			 ssz;	/* sector size: 512 or 4096 */
	uint32_t		 nsec;	/* sectors in the file */
	uint32_t		*fat;
	uint32_t		 nfat;
	uint32_t		*minifat;
	uint32_t		 nminifat;
	unsigned char		*mini;	/* the mini stream */
	size_t			 minilen;
	struct ole2_ent		*dir;
	uint32_t		 ndir;
	/* Stream bytes still to be read: a valid file reads each stream
	 * once, a hostile one could point many entries at one chain. */
	size_t			 readleft;
	size_t			 members;	/* streams handled */
	/* what reading found */
	struct extract		*ex;
	const struct extract_file *f;
	bool			 damaged, encrypted, known, toomany;
};

/* Outcome of a step: go on, the file is damaged, or out of memory. */
enum { OLE2_OK = 0, OLE2_BAD = 1, OLE2_OOM = -1 };

static uint16_t
u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------- text */

/* Appends n UTF-16LE code units as UTF-8.  Word's control characters
 * become the white space they stand for when word is set; other
 * controls are dropped (they are no text and would join or split
 * identifiers at random). */
static void
ole2_utf16(GString *s, const unsigned char *p, size_t n, bool word)
{
	size_t i;
	gunichar c, lo;

	for (i = 0; i < n; i++) {
		c = u16(p + 2 * i);
		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n &&
		    (lo = u16(p + 2 * i + 2)) >= 0xDC00 && lo <= 0xDFFF) {
			c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
			i++;
		} else if (c >= 0xD800 && c <= 0xDFFF)
			c = 0xFFFD;
		if (c < 0x20) {
			if (c == '\r' || c == '\n' || c == 0x0B || c == 0x0C)
				c = '\n';
			else if (c == '\t' || c == 0x07)	/* cell mark */
				c = '\t';
			else if (word && (c == 0x13 || c == 0x14 || c == 0x15))
				c = ' ';	/* field begin/separator/end */
			else if (word && c == 0x1E)
				c = '-';	/* non-breaking hyphen */
			else
				continue;
		}
		g_string_append_unichar(s, c);
	}
}

/* Appends 8-bit text in a charset (NULL: guessed).  Control bytes as in
 * ole2_utf16().  0 or -1. */
static int
ole2_bytes(GString *s, const unsigned char *p, size_t n, const char *cs,
    bool word)
{
	char *b, *u;
	size_t i, j, ulen;
	int rc;

	if (n == 0)
		return 0;
	if ((b = malloc(n)) == NULL)
		return -1;
	for (i = j = 0; i < n; i++) {
		if (p[i] >= 0x20)
			b[j++] = (char)p[i];
		else if (p[i] == '\r' || p[i] == '\n' || p[i] == 0x0B ||
		    p[i] == 0x0C)
			b[j++] = '\n';
		else if (p[i] == '\t' || p[i] == 0x07)
			b[j++] = '\t';
		else if (word && (p[i] == 0x13 || p[i] == 0x14 || p[i] == 0x15))
			b[j++] = ' ';
		else if (word && p[i] == 0x1E)
			b[j++] = '-';
	}
	rc = charset_to_utf8(b, j, cs, 0, &u, &ulen, NULL, NULL);
	free(b);
	if (rc != 0)
		return -1;
	g_string_append_len(s, u, (gssize)ulen);
	free(u);
	return 0;
}

/* ISO-8859-1: BIFF8's "compressed" strings are UTF-16 with the high
 * bytes left out, not a code page. */
static void
ole2_latin1(GString *s, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] >= 0x20 || p[i] == '\t' || p[i] == '\n')
			g_string_append_unichar(s, p[i]);
		else if (p[i] == '\r')
			g_string_append_c(s, '\n');
}

/* A UTF-16 code unit that reads as text in a run. */
static bool
ole2_texty16(unsigned c)
{
	return (c >= 0x20 && c < 0x7F) || c == '\t' || c == '\r' ||
	    c == '\n' || (c >= 0xA0 && c < 0xD800) || (c >= 0xF900 &&
	    c < 0xFFF0);
}

static bool
ole2_texty8(unsigned char c)
{
	return (c >= 0x20 && c != 0x7F) || c == '\t' || c == '\r' ||
	    c == '\n';
}

enum { OLE2_U_NO, OLE2_U_TEXT, OLE2_U_AMBIG };

/* How the UTF-16LE unit at p reads in a run.  Two printable ASCII
 * bytes make a CJK character as well as two letters of 8-bit text:
 * ambiguous.  U+0100, U+0200... are small binary numbers far more
 * often than letters. */
static int
ole2_class16(const unsigned char *p)
{
	if (!ole2_texty16(u16(p)) || (p[0] == 0 && p[1] != 0 && p[1] < 0x20))
		return OLE2_U_NO;
	if (p[0] >= 0x20 && p[0] < 0x7F && p[1] >= 0x20 && p[1] < 0x7F)
		return OLE2_U_AMBIG;
	return OLE2_U_TEXT;
}

/* A UTF-16 run starting at even offset i of cls (a class per unit):
 * its length in units, or 0 when it is too short or holds only
 * ambiguous units. */
static size_t
ole2_run16(const unsigned char *cls, size_t nu, size_t u)
{
	size_t k;
	bool text = false;

	for (k = u; k < nu && cls[k] != OLE2_U_NO; k++)
		text |= cls[k] == OLE2_U_TEXT;
	return text && k - u >= OLE2_RUNMIN ? k - u : 0;
}

/* Text runs, in file order: printable UTF-16LE characters at even
 * offsets, else 8-bit ones (code page guessed), at least OLE2_RUNMIN
 * long, a line each: for Word 6/95 and files whose structure does not
 * parse.  8 ambiguous units in a row are 8-bit text, not CJK: real
 * Chinese rarely has that many characters made of two ASCII bytes.
 * 0 or -1. */
static int
ole2_runs(GString *s, const unsigned char *p, size_t n)
{
	unsigned char *cls;
	size_t nu = n / 2, i, j, k, run;

	if ((cls = malloc(nu + 1)) == NULL)
		return -1;
	for (k = 0; k < nu; k++)
		cls[k] = (unsigned char)ole2_class16(p + 2 * k);
	for (k = 0; k < nu; k = j) {
		for (j = k; j < nu && cls[j] == OLE2_U_AMBIG; j++)
			;
		if (j - k >= 8)
			memset(cls + k, OLE2_U_NO, j - k);
		if (j == k)
			j++;
	}
	for (i = 0; i < n; ) {
		if (i % 2 == 0 && (run = ole2_run16(cls, nu, i / 2)) > 0) {
			ole2_utf16(s, p + i, run, true);
			g_string_append_c(s, '\n');
			i += 2 * run;
			continue;
		}
		/* 8-bit text, up to where UTF-16 text begins */
		for (j = i; j < n && ole2_texty8(p[j]); j++)
			if (j > i && j % 2 == 0 && ole2_run16(cls, nu, j / 2) > 0)
				break;
		if (j - i >= OLE2_RUNMIN) {
			if (ole2_bytes(s, p + i, j - i, NULL, true) != 0) {
				free(cls);
				return -1;
			}
			g_string_append_c(s, '\n');
		}
		i = j > i ? j : i + 1;
	}
	free(cls);
	return 0;
}

/* "where > storage > storage", the path of entry i's parent storages
 * below the root (g_free).  Control characters in names (\1CompObj,
 * \5SummaryInformation) are left out. */
static char *
ole2_prefix(const struct ole2 *o, uint32_t i)
{
	GString *s = g_string_new(o->f->where);
	GPtrArray *up = g_ptr_array_new();
	uint32_t p;
	const char *c;
	guint k;

	/* Storages nest at will: the nearest OLE2_PATHMAX name the place
	 * well enough and keep this cheap per stream. */
	for (p = o->dir[i].parent; p != OLE2_NONE && p != 0 &&
	    up->len < OLE2_PATHMAX; p = o->dir[p].parent)
		g_ptr_array_add(up, o->dir[p].name);
	for (k = up->len; k > 0; k--) {
		g_string_append(s, " > ");
		for (c = g_ptr_array_index(up, k - 1); *c != '\0'; c++)
			if ((unsigned char)*c >= 0x20)
				g_string_append_c(s, *c);
	}
	g_ptr_array_free(up, TRUE);
	return g_string_free(s, FALSE);
}

/* Counts s against max_bytes and gives it to the sink at
 * "prefix > what".  0, 1 stop, -1. */
static int
ole2_emit(struct ole2 *o, const char *prefix, const char *what,
    const char *type, GString *s)
{
	char *src;
	int rc;

	if (s->len == 0)
		return 0;
	src = extract_path(prefix, what);
	rc = extract_text(o->ex, src, type, s->str, s->len);
	g_free(src);
	return rc;
}

/* Counts n bytes of text about to be made.  0 when they fit, 1 when the
 * budget is spent (noted, ex->stop set). */
static int
ole2_take(struct ole2 *o, size_t n)
{
	return extract_take(o->ex, n, o->f->where) == 0 ? 0 : 1;
}

/* --------------------------------------------------------- the file */

/* Copies sector sec to out (ssz bytes; a short last sector is padded
 * with zeros, as readers do).  false when sec is not in the file. */
static bool
ole2_sector(const struct ole2 *o, uint32_t sec, unsigned char *out)
{
	size_t off, n;

	if (sec >= o->nsec)
		return false;
	off = ((size_t)sec + 1) * o->ssz;
	n = o->len - off < o->ssz ? o->len - off : o->ssz;
	memcpy(out, o->data + off, n);
	memset(out + n, 0, o->ssz - n);
	return true;
}

/* Reads a chain of regular sectors from start: size bytes, or with
 * size UINT64_MAX up to the end of the chain.  Every sector number is
 * checked, and a sector met twice is a loop.  *out (malloc'd) and *outlen. */
static int
ole2_chain(const struct ole2 *o, uint32_t start, uint64_t size,
    unsigned char **out, size_t *outlen)
{
	unsigned char *buf = NULL, *seen = NULL;
	size_t need, n = 0;
	uint32_t sec = start;
	int rc = OLE2_BAD;

	*out = NULL;
	*outlen = 0;
	if (size != UINT64_MAX && size > (uint64_t)o->nsec * o->ssz)
		return OLE2_BAD;
	need = size == UINT64_MAX ? o->nsec : (size_t)((size + o->ssz - 1) /
	    o->ssz);
	if (need == 0)
		return OLE2_OK;
	if ((seen = calloc((size_t)o->nsec / 8 + 1, 1)) == NULL ||
	    (buf = malloc(need * o->ssz)) == NULL) {
		rc = OLE2_OOM;
		goto out;
	}
	while (n < need) {
		if (sec == OLE2_ENDCHAIN && size == UINT64_MAX)
			break;
		if (sec >= o->nsec || sec >= o->nfat ||
		    (seen[sec / 8] & (1u << (sec % 8))))
			goto out;	/* out of the file, or a loop */
		seen[sec / 8] |= (unsigned char)(1u << (sec % 8));
		if (!ole2_sector(o, sec, buf + n * o->ssz))
			goto out;
		n++;
		sec = o->fat[sec];
	}
	*out = buf;
	*outlen = size == UINT64_MAX ? n * o->ssz : (size_t)size;
	buf = NULL;
	rc = OLE2_OK;
out:
	free(buf);
	free(seen);
	return rc;
}

/* The FAT: the sectors the header lists, then the DIFAT chain. */
static int
ole2_load_fat(struct ole2 *o, const unsigned char *h)
{
	uint32_t nfatsec = u32(h + 44), ds = u32(h + 68), nds = u32(h + 72);
	uint32_t *secs, per = (uint32_t)(o->ssz / 4), k = 0, i, steps = 0;
	unsigned char *b;
	int rc = OLE2_BAD;

	if (nfatsec == 0 || nfatsec > o->nsec)
		return OLE2_BAD;
	if ((secs = malloc((size_t)nfatsec * 4)) == NULL ||
	    (b = malloc(o->ssz)) == NULL) {
		free(secs);
		return OLE2_OOM;
	}
	for (i = 0; i < 109 && k < nfatsec; i++)
		secs[k++] = u32(h + 76 + 4 * i);
	while (k < nfatsec) {
		/* A DIFAT sector: per - 1 FAT sector numbers, then the
		 * next DIFAT sector.  Bounded by the count and the file. */
		if (steps++ > nds || steps > o->nsec || !ole2_sector(o, ds, b))
			goto out;
		for (i = 0; i + 1 < per && k < nfatsec; i++)
			secs[k++] = u32(b + 4 * i);
		ds = u32(b + 4 * (per - 1));
	}
	o->nfat = nfatsec * per;
	if ((o->fat = malloc((size_t)o->nfat * 4)) == NULL) {
		rc = OLE2_OOM;
		goto out;
	}
	for (k = 0; k < nfatsec; k++) {
		if (!ole2_sector(o, secs[k], b))
			goto out;
		for (i = 0; i < per; i++)
			o->fat[k * per + i] = u32(b + 4 * i);
	}
	rc = OLE2_OK;
out:
	free(secs);
	free(b);
	return rc;
}

/* The directory, and each entry's parent storage from a walk of the
 * trees: an entry met twice (a loop, a shared subtree) is damage. */
static int
ole2_load_dir(struct ole2 *o, uint32_t start)
{
	unsigned char *d, *e;
	size_t len;
	uint32_t i, j, *stack = NULL, nl, id;
	size_t sp = 0;
	bool *seen = NULL;
	int rc;

	if ((rc = ole2_chain(o, start, UINT64_MAX, &d, &len)) != OLE2_OK)
		return rc;
	o->ndir = (uint32_t)(len / OLE2_DIRENT);
	rc = OLE2_OOM;
	if (o->ndir == 0 || (o->dir = calloc(o->ndir, sizeof *o->dir)) ==
	    NULL || (stack = malloc((size_t)o->ndir * 4 * 2)) == NULL ||
	    (seen = calloc(o->ndir, sizeof *seen)) == NULL) {
		rc = o->ndir == 0 ? OLE2_BAD : OLE2_OOM;
		goto out;
	}
	for (i = 0; i < o->ndir; i++) {
		struct ole2_ent *t = &o->dir[i];
		GString *name = g_string_new(NULL);

		e = d + (size_t)i * OLE2_DIRENT;
		nl = u16(e + 64);
		nl = nl >= 2 && nl <= 64 ? nl / 2 - 1 : 0;
		ole2_utf16(name, e, nl, false);
		/* ole2_utf16 drops controls; names keep \1 and \5. */
		if (nl > 0 && u16(e) < 0x20) {
			g_string_truncate(name, 0);
			g_string_append_c(name, (char)u16(e));
			ole2_utf16(name, e + 2, nl - 1, false);
		}
		(void)g_strlcpy(t->name, name->str, sizeof t->name);
		g_string_free(name, TRUE);
		t->type = e[66];
		t->left = u32(e + 68);
		t->right = u32(e + 72);
		t->child = u32(e + 76);
		t->start = u32(e + 116);
		t->size = (uint64_t)u32(e + 120) | (o->ssz == 512 ? 0 :
		    (uint64_t)u32(e + 124) << 32);	/* v3: high half junk */
		t->parent = t->first = t->next = OLE2_NONE;
	}
	rc = OLE2_BAD;
	if (o->dir[0].type != OLE2_ROOT)
		goto out;
	/* stack holds (entry, parent) pairs; an entry pushed twice is a
	 * loop or a shared subtree, found when popped or when the stack
	 * would outgrow one slot per entry. */
#define OLE2_PUSH(id_, parent_) do {					\
		if ((id_) == OLE2_NONE)					\
			break;						\
		if (sp + 2 > 2 * (size_t)o->ndir)			\
			goto out;					\
		stack[sp++] = (id_);					\
		stack[sp++] = (parent_);				\
	} while (0)
	seen[0] = true;
	OLE2_PUSH(o->dir[0].child, 0);
	while (sp > 0) {
		j = stack[--sp];
		id = stack[--sp];
		if (id >= o->ndir || seen[id])
			goto out;
		seen[id] = true;
		o->dir[id].parent = j;
		o->dir[id].next = o->dir[j].first;
		o->dir[j].first = id;
		OLE2_PUSH(o->dir[id].left, j);
		OLE2_PUSH(o->dir[id].right, j);
		if (o->dir[id].type == OLE2_STORAGE)
			OLE2_PUSH(o->dir[id].child, id);
	}
#undef OLE2_PUSH
	rc = OLE2_OK;
out:
	free(d);
	free(stack);
	free(seen);
	return rc;
}

static int
ole2_open(struct ole2 *o)
{
	const unsigned char *h = o->data;
	unsigned shift;
	size_t n;
	int rc;

	if (o->len < OLE2_HDR || u16(h + 28) != 0xFFFE)
		return OLE2_BAD;
	shift = u16(h + 30);
	if ((shift != 9 && shift != 12) || u16(h + 32) != 6)
		return OLE2_BAD;
	o->ssz = (size_t)1 << shift;
	if (o->len <= o->ssz)
		return OLE2_BAD;
	n = (o->len - o->ssz + o->ssz - 1) / o->ssz;
	o->nsec = n > 0xFFFFFFF0u ? 0xFFFFFFF0u : (uint32_t)n;
	if ((rc = ole2_load_fat(o, h)) != OLE2_OK ||
	    (rc = ole2_load_dir(o, u32(h + 48))) != OLE2_OK)
		return rc;
	/* The mini stream is the root's data; the mini FAT a chain. */
	if (o->dir[0].size > 0 && (rc = ole2_chain(o, o->dir[0].start,
	    o->dir[0].size, &o->mini, &o->minilen)) != OLE2_OK)
		return rc;
	if (u32(h + 64) > 0) {
		unsigned char *m;
		size_t mlen, i;

		if ((uint64_t)u32(h + 64) > o->nsec)
			return OLE2_BAD;
		if ((rc = ole2_chain(o, u32(h + 60), (uint64_t)u32(h + 64) *
		    o->ssz, &m, &mlen)) != OLE2_OK)
			return rc;
		o->nminifat = (uint32_t)(mlen / 4);
		if ((o->minifat = malloc(mlen)) == NULL) {
			free(m);
			return OLE2_OOM;
		}
		for (i = 0; i < o->nminifat; i++)
			o->minifat[i] = u32(m + 4 * i);
		free(m);
	}
	return OLE2_OK;
}

/* Reads stream entry i (malloc'd into *out).  OLE2_BAD when its chain
 * is broken or too short. */
static int
ole2_stream(struct ole2 *o, uint32_t i, unsigned char **out,
    size_t *outlen)
{
	const struct ole2_ent *e = &o->dir[i];
	unsigned char *buf, *seen;
	uint32_t sec = e->start;
	size_t need, n;

	*out = NULL;
	*outlen = 0;
	if (e->size > o->readleft)
		return OLE2_BAD;
	o->readleft -= (size_t)e->size;
	if (e->size >= OLE2_CUTOFF)
		return ole2_chain(o, e->start, e->size, out, outlen);
	if (e->size == 0)
		return OLE2_OK;
	need = (size_t)(e->size + OLE2_MINISEC - 1) / OLE2_MINISEC;
	if ((buf = malloc(need * OLE2_MINISEC)) == NULL ||
	    (seen = calloc(o->nminifat / 8 + 1, 1)) == NULL) {
		free(buf);
		return OLE2_OOM;
	}
	for (n = 0; n < need; n++) {
		if (sec >= o->nminifat || (seen[sec / 8] & (1u << (sec % 8))) ||
		    ((size_t)sec + 1) * OLE2_MINISEC > o->minilen) {
			free(buf);
			free(seen);
			return OLE2_BAD;
		}
		seen[sec / 8] |= (unsigned char)(1u << (sec % 8));
		memcpy(buf + n * OLE2_MINISEC, o->mini + (size_t)sec *
		    OLE2_MINISEC, OLE2_MINISEC);
		sec = o->minifat[sec];
	}
	free(seen);
	*out = buf;
	*outlen = (size_t)e->size;
	return OLE2_OK;
}

/* Counts one more stream to read: false (and noted later) past
 * max_members, as for an archive's entries. */
static bool
ole2_member(struct ole2 *o)
{
	if (++o->members <= o->ex->lim->max_members)
		return true;
	o->toomany = true;
	return false;
}

/* The entry named name with the given parent, or OLE2_NONE. */
static uint32_t
ole2_find(const struct ole2 *o, uint32_t parent, const char *name)
{
	uint32_t i;

	for (i = o->dir[parent].first; i != OLE2_NONE; i = o->dir[i].next)
		if (o->dir[i].type == OLE2_STREAM &&
		    g_ascii_strcasecmp(o->dir[i].name, name) == 0)
			return i;
	return OLE2_NONE;
}

/* ------------------------------------------------------------- Word */

#define WORD_TYPE	"application/msword"

/* The text of a Word 97+ document through its piece table: FIB ->
 * fcClx/lcbClx in the table stream -> the pieces, each UTF-16LE or
 * "compressed" cp1252 at an offset in WordDocument.  OLE2_BAD when
 * something does not parse (the caller reads text runs instead). */
static int
ole2_word_pieces(struct ole2 *o, const unsigned char *doc, size_t dlen,
    const unsigned char *tbl, size_t tlen, GString *s)
{
	const unsigned char *clx, *plc;
	size_t off, rgfc, fcclx, lcbclx, pos, lcb, n, k, cnt, fcoff, bytes;
	size_t before;
	uint32_t cp0, cp1, fc;
	int cb;

	if (dlen < 34)
		return OLE2_BAD;
	off = 34 + (size_t)u16(doc + 32) * 2;		/* past fibRgW */
	if (off + 2 > dlen)
		return OLE2_BAD;
	off += 2 + (size_t)u16(doc + off) * 4;		/* past fibRgLw */
	if (off + 2 > dlen)
		return OLE2_BAD;
	rgfc = off + 2;
	if (u16(doc + off) < 34 || rgfc + 34 * 8 > dlen)
		return OLE2_BAD;
	fcclx = u32(doc + rgfc + 33 * 8);
	lcbclx = u32(doc + rgfc + 33 * 8 + 4);
	if (lcbclx == 0 || fcclx > tlen || lcbclx > tlen - fcclx)
		return OLE2_BAD;
	clx = tbl + fcclx;
	for (pos = 0; pos < lcbclx && clx[pos] == 0x01; pos += 3 + (size_t)cb)
		if (pos + 3 > lcbclx || (cb = (int16_t)u16(clx + pos + 1)) < 0)
			return OLE2_BAD;	/* Prc: property modifiers */
	if (pos + 5 > lcbclx || clx[pos] != 0x02)
		return OLE2_BAD;
	lcb = u32(clx + pos + 1);
	if (lcb > lcbclx - pos - 5 || lcb < 16 || (lcb - 4) % 12 != 0)
		return OLE2_BAD;
	plc = clx + pos + 5;
	n = (lcb - 4) / 12;
	for (k = 0; k < n && !o->ex->stop; k++) {
		cp0 = u32(plc + 4 * k);
		cp1 = u32(plc + 4 * k + 4);
		fc = u32(plc + 4 * (n + 1) + 8 * k + 2);
		if (cp1 <= cp0)
			continue;
		cnt = cp1 - cp0;
		if (fc & 0x40000000u) {
			fcoff = (fc & 0x3FFFFFFFu) / 2;
			bytes = cnt;
		} else {
			fcoff = fc;
			bytes = cnt * 2;
		}
		if (fcoff > dlen || bytes > dlen - fcoff)
			return OLE2_BAD;
		/* Pieces may all point at the same bytes: the text made
		 * is counted, piece by piece. */
		before = s->len;
		if (fc & 0x40000000u) {
			if (ole2_bytes(s, doc + fcoff, cnt, "windows-1252",
			    true) != 0)
				return OLE2_OOM;
		} else
			ole2_utf16(s, doc + fcoff, cnt, true);
		if (ole2_take(o, s->len - before) != 0)
			break;
	}
	return OLE2_OK;
}

static int
ole2_word(struct ole2 *o, uint32_t i)
{
	unsigned char *doc = NULL, *tbl = NULL;
	size_t dlen, tlen = 0;
	uint32_t t;
	uint16_t flags;
	GString *s = g_string_new(NULL);
	char *prefix = NULL;
	int rc;

	if ((rc = ole2_stream(o, i, &doc, &dlen)) != OLE2_OK)
		goto out;
	o->known = true;
	flags = dlen >= 12 ? u16(doc + 10) : 0;
	if (dlen >= 12 && u16(doc) == 0xA5EC && (flags & 0x0100)) {
		o->encrypted = true;	/* fEncrypted (or fObfuscated) */
		goto out;
	}
	/* fWhichTblStm picks 1Table or 0Table; Word 6/95 (nFib < 101)
	 * has no piece table there. */
	rc = OLE2_BAD;
	if (dlen >= 12 && u16(doc) == 0xA5EC && u16(doc + 2) >= 101 &&
	    (t = ole2_find(o, o->dir[i].parent, (flags & 0x0200) ? "1Table" :
	    "0Table")) != OLE2_NONE) {
		if ((rc = ole2_stream(o, t, &tbl, &tlen)) == OLE2_OOM)
			goto out;
		if (rc == OLE2_OK)
			rc = ole2_word_pieces(o, doc, dlen, tbl, tlen, s);
	}
	if (rc == OLE2_OOM)
		goto out;
	if (rc == OLE2_BAD) {
		g_string_truncate(s, 0);
		if (ole2_runs(s, doc, dlen) != 0) {
			rc = OLE2_OOM;
			goto out;
		}
		(void)ole2_take(o, s->len);
		rc = OLE2_OK;
	}
	prefix = ole2_prefix(o, i);
	if (ole2_emit(o, prefix, "document", WORD_TYPE, s) < 0)
		rc = OLE2_OOM;
out:
	if (rc == OLE2_BAD)
		o->damaged = true;
	g_free(prefix);
	g_string_free(s, TRUE);
	free(doc);
	free(tbl);
	return rc == OLE2_OOM ? -1 : 0;
}

/* ------------------------------------------------------------ Excel */

#define XLS_TYPE	"application/vnd.ms-excel"

enum {
	XLS_FORMULA = 0x0006, XLS_EOF = 0x000A, XLS_FILEPASS = 0x002F,
	XLS_CONTINUE = 0x003C, XLS_CODEPAGE = 0x0042, XLS_BOUNDSHEET = 0x0085,
	XLS_MULRK = 0x00BD, XLS_RSTRING = 0x00D6, XLS_SST = 0x00FC,
	XLS_LABELSST = 0x00FD, XLS_NUMBER = 0x0203, XLS_LABEL = 0x0204,
	XLS_STRING = 0x0207, XLS_RK = 0x027E, XLS_BOF = 0x0809
};

struct xls {
	struct ole2	*o;
	char		*prefix;
	bool		 biff8;
	char		 cs[16];	/* BIFF5's code page, as a charset */
	GPtrArray	*sst;		/* UTF-8 strings */
	GPtrArray	*names;		/* sheet names, BOUNDSHEET order */
	GHashTable	*plypos;	/* BOF offset -> index in names + 1 */
	GString		*cells;		/* the sheet being read */
	uint32_t	 row;		/* of the last cell */
	uint32_t	 frow;		/* of a formula awaiting STRING */
	unsigned	 depth;		/* BOF..EOF nesting */
	unsigned	 nsheet;	/* sheets begun */
	const char	*sheet;		/* its name, or NULL */
	bool		 in_sheet, formula_string, emitted;
	int		 rc;		/* 0, or -1 out of memory */
};

/* A cell: rows on lines, cells split by tabs. */
static void
xls_cell(struct xls *x, uint32_t row, const char *t, size_t n)
{
	size_t before = x->cells->len;

	if (!x->in_sheet || x->o->ex->stop)
		return;
	if (x->cells->len > 0)
		g_string_append_c(x->cells, row != x->row ? '\n' : '\t');
	x->row = row;
	g_string_append_len(x->cells, t, (gssize)n);
	(void)ole2_take(x->o, x->cells->len - before);
}

static void
xls_number(struct xls *x, uint32_t row, double d)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	/* Phone and account numbers are stored as numbers: whole ones
	 * print with every digit, no exponent, no ".0". */
	if (!isfinite(d))
		return;
	if (d == floor(d) && fabs(d) < 1e17)
		(void)snprintf(buf, sizeof buf, "%.0f", d == 0 ? 0.0 : d);
	else
		(void)g_ascii_formatd(buf, sizeof buf, "%.15g", d);
	xls_cell(x, row, buf, strlen(buf));
}

static double
xls_rk(uint32_t v)
{
	uint64_t b;
	double d;

	if (v & 2)
		d = (double)((int32_t)v >> 2);
	else {
		b = (uint64_t)(v & 0xFFFFFFFCu) << 32;
		memcpy(&d, &b, sizeof d);
	}
	return (v & 1) ? d / 100 : d;
}

/* A string inside one record: BIFF8 XLUnicodeString (cch, flags,
 * chars: rich-text runs and phonetic data skipped) or BIFF5 (cch,
 * bytes in the code page).  wide: a 16-bit cch.  Appends to s; false
 * when it does not fit in n. */
static bool
xls_string(struct xls *x, const unsigned char *p, size_t n, bool wide,
    GString *s)
{
	size_t cch, off = wide ? 2 : 1, unit;
	unsigned flags;

	if (n < off)
		return false;
	cch = wide ? u16(p) : p[0];
	if (!x->biff8) {
		if (cch > n - off)
			cch = n - off;	/* cut short: take what is there */
		if (ole2_bytes(s, p + off, cch, x->cs, false) != 0)
			x->rc = -1;
		return true;
	}
	if (off >= n)
		return false;
	flags = p[off++];
	if (flags & 0x08)
		off += 2;	/* cRun */
	if (flags & 0x04)
		off += 4;	/* cbExtRst */
	unit = (flags & 1) ? 2 : 1;
	if (off > n)
		return false;
	if (cch > (n - off) / unit)
		cch = (n - off) / unit;
	if (unit == 2)
		ole2_utf16(s, p + off, cch, false);
	else
		ole2_latin1(s, p + off, cch);
	return true;
}

/* The SST's records: the SST body, then its CONTINUE records. */
struct xls_cur {
	const unsigned char	**seg;
	size_t			 *seglen;
	size_t			  nseg, i, off;
};

/* n bytes across record boundaries (out NULL: skipped). */
static bool
xls_cur_read(struct xls_cur *c, unsigned char *out, size_t n)
{
	size_t k;

	while (n > 0) {
		if (c->off == c->seglen[c->i]) {
			if (c->i + 1 >= c->nseg)
				return false;
			c->i++;
			c->off = 0;
			continue;
		}
		k = c->seglen[c->i] - c->off < n ? c->seglen[c->i] - c->off : n;
		if (out != NULL) {
			memcpy(out, c->seg[c->i] + c->off, k);
			out += k;
		}
		c->off += k;
		n -= k;
	}
	return true;
}

/* One XLUnicodeRichExtendedString.  Its characters may go on in the
 * next CONTINUE record, which then starts with a new flags byte (the
 * rest may be compressed or not, whatever the first part was). */
static bool
xls_cur_string(struct xls_cur *c, GString *s)
{
	unsigned char h[3], x[4];
	size_t cch, crun = 0, ext = 0, k, avail, unit;
	bool high;

	if (!xls_cur_read(c, h, 3))
		return false;
	cch = u16(h);
	high = h[2] & 1;
	if ((h[2] & 0x08) && xls_cur_read(c, x, 2))
		crun = u16(x);
	if ((h[2] & 0x04) && xls_cur_read(c, x, 4))
		ext = u32(x);
	while (cch > 0) {
		if (c->off == c->seglen[c->i]) {
			if (c->i + 1 >= c->nseg)
				return false;
			c->i++;
			c->off = 0;
			if (c->seglen[c->i] == 0)
				continue;
			high = c->seg[c->i][0] & 1;
			c->off = 1;
			continue;
		}
		unit = high ? 2 : 1;
		avail = (c->seglen[c->i] - c->off) / unit;
		if (avail == 0)
			return false;
		k = cch < avail ? cch : avail;
		if (high)
			ole2_utf16(s, c->seg[c->i] + c->off, k, false);
		else
			ole2_latin1(s, c->seg[c->i] + c->off, k);
		c->off += k * unit;
		cch -= k;
	}
	return xls_cur_read(c, NULL, crun * 4) && xls_cur_read(c, NULL, ext);
}

/* The shared string table at d[pos..): the SST record and the CONTINUE
 * records after it.  Strings that parse are kept; damage stops it. */
static void
xls_sst(struct xls *x, const unsigned char *d, size_t len, size_t pos)
{
	struct xls_cur c;
	GString *s;
	size_t p, max, total = 0, i, cap = 16;
	uint32_t want;

	memset(&c, 0, sizeof c);
	c.seg = g_new(const unsigned char *, cap);
	c.seglen = g_new(size_t, cap);
	for (p = pos; p + 4 <= len && (p == pos || u16(d + p) == XLS_CONTINUE) &&
	    u16(d + p + 2) <= len - p - 4; p += 4 + u16(d + p + 2)) {
		if (c.nseg == cap) {
			cap *= 2;
			c.seg = g_renew(const unsigned char *, c.seg, cap);
			c.seglen = g_renew(size_t, c.seglen, cap);
		}
		c.seg[c.nseg] = d + p + 4;
		c.seglen[c.nseg++] = u16(d + p + 2);
		total += u16(d + p + 2);
	}
	if (c.nseg == 0 || c.seglen[0] < 8)
		goto out;
	want = u32(c.seg[0] + 4);	/* cstUnique */
	c.off = 8;
	max = total / 3;		/* each string takes 3 bytes at least */
	for (i = 0; i < want && i < max; i++) {
		s = g_string_new(NULL);
		if (!xls_cur_string(&c, s)) {
			g_string_free(s, TRUE);
			x->o->damaged = true;
			break;
		}
		g_ptr_array_add(x->sst, g_string_free(s, FALSE));
	}
out:
	g_free(c.seg);
	g_free(c.seglen);
}

static void
xls_flush(struct xls *x)
{
	char *what;

	if (x->in_sheet && x->cells->len > 0 && x->rc == 0) {
		what = x->sheet != NULL ? g_strdup_printf("sheet \"%s\"",
		    x->sheet) : g_strdup_printf("sheet %u", x->nsheet);
		if (ole2_emit(x->o, x->prefix, what, XLS_TYPE, x->cells) < 0)
			x->rc = -1;
		x->emitted = true;
		g_free(what);
	}
	g_string_truncate(x->cells, 0);
	x->in_sheet = false;
}

/* A sheet's BOF at offset pos: its name from BOUNDSHEET, by offset or
 * else by order. */
static void
xls_sheet(struct xls *x, size_t pos)
{
	guint k;

	x->in_sheet = true;
	x->sheet = NULL;
	x->nsheet++;
	if (pos <= UINT32_MAX && (k = GPOINTER_TO_UINT(g_hash_table_lookup(
	    x->plypos, GUINT_TO_POINTER((guint)pos)))) > 0)
		x->sheet = g_ptr_array_index(x->names, k - 1);
	if (x->sheet == NULL && x->nsheet <= x->names->len)
		x->sheet = g_ptr_array_index(x->names, x->nsheet - 1);
}

static void
xls_record(struct xls *x, unsigned type, const unsigned char *b, size_t n,
    const unsigned char *d, size_t len, size_t pos)
{
	GString *s;
	uint32_t v;
	size_t k;

	switch (type) {
	case XLS_BOF:
	case 0x0009: case 0x0209: case 0x0409:	/* BIFF2-4 BOFs */
		if (n >= 4 && x->depth == 0) {
			x->biff8 = type == XLS_BOF && u16(b) == 0x0600;
			if (u16(b + 2) != 0x0005)	/* not the globals */
				xls_sheet(x, pos);
		}
		x->depth++;
		break;
	case XLS_EOF:
		if (x->depth > 0 && --x->depth == 0)
			xls_flush(x);
		break;
	case XLS_FILEPASS:
		x->o->encrypted = true;
		break;
	case XLS_CODEPAGE:
		if (n >= 2) {
			v = u16(b);
			if (v == 1252 || v == 367 || v == 0x8000)
				(void)g_strlcpy(x->cs, "windows-1252",
				    sizeof x->cs);
			else
				(void)snprintf(x->cs, sizeof x->cs, "CP%u", v);
		}
		break;
	case XLS_BOUNDSHEET:
		if (n >= 7) {
			s = g_string_new(NULL);
			(void)xls_string(x, b + 6, n - 6, false, s);
			g_ptr_array_add(x->names, g_string_free(s, FALSE));
			g_hash_table_insert(x->plypos, GUINT_TO_POINTER(u32(b)),
			    GUINT_TO_POINTER(x->names->len));
		}
		break;
	case XLS_SST:
		xls_sst(x, d, len, pos);
		break;
	case XLS_LABELSST:
		if (n >= 10 && (v = u32(b + 6)) < x->sst->len) {
			const char *t = g_ptr_array_index(x->sst, v);

			xls_cell(x, u16(b), t, strlen(t));
		}
		break;
	case XLS_LABEL:
	case XLS_RSTRING:
		if (n > 6) {
			s = g_string_new(NULL);
			(void)xls_string(x, b + 6, n - 6, true, s);
			xls_cell(x, u16(b), s->str, s->len);
			g_string_free(s, TRUE);
		}
		break;
	case XLS_NUMBER:
		if (n >= 14) {
			double dv;
			uint64_t bits = (uint64_t)u32(b + 6) |
			    (uint64_t)u32(b + 10) << 32;

			memcpy(&dv, &bits, sizeof dv);
			xls_number(x, u16(b), dv);
		}
		break;
	case XLS_RK:
		if (n >= 10)
			xls_number(x, u16(b), xls_rk(u32(b + 6)));
		break;
	case XLS_MULRK:
		/* rw, colFirst, (ixfe, RK)..., colLast */
		for (k = 4; n >= 6 && k + 6 <= n - 2; k += 6)
			xls_number(x, u16(b), xls_rk(u32(b + k + 2)));
		break;
	case XLS_FORMULA:
		/* A cached result: a double, or 0xFFFF in its top bytes
		 * and a type (0 string in the next STRING record, 1
		 * boolean). */
		x->formula_string = false;
		if (n < 14)
			break;
		if (u16(b + 12) != 0xFFFF) {
			double dv;
			uint64_t bits = (uint64_t)u32(b + 6) |
			    (uint64_t)u32(b + 10) << 32;

			memcpy(&dv, &bits, sizeof dv);
			xls_number(x, u16(b), dv);
		} else if (b[6] == 0) {
			x->formula_string = true;
			x->frow = u16(b);
		} else if (b[6] == 1)
			xls_cell(x, u16(b), b[8] ? "TRUE" : "FALSE",
			    b[8] ? 4 : 5);
		break;
	case XLS_STRING:
		if (x->formula_string && n >= 2) {
			s = g_string_new(NULL);
			(void)xls_string(x, b, n, true, s);
			xls_cell(x, x->frow, s->str, s->len);
			g_string_free(s, TRUE);
		}
		x->formula_string = false;
		break;
	default:
		break;
	}
}

static int
ole2_xls(struct ole2 *o, uint32_t i)
{
	struct xls x;
	unsigned char *d = NULL;
	size_t len, pos, n;
	unsigned type;
	GString *all;
	guint k;
	int rc;

	if ((rc = ole2_stream(o, i, &d, &len)) != OLE2_OK) {
		if (rc == OLE2_BAD)
			o->damaged = true;
		return rc == OLE2_OOM ? -1 : 0;
	}
	o->known = true;
	memset(&x, 0, sizeof x);
	x.o = o;
	x.prefix = ole2_prefix(o, i);
	x.biff8 = true;
	(void)g_strlcpy(x.cs, "windows-1252", sizeof x.cs);
	x.sst = g_ptr_array_new_with_free_func(g_free);
	x.names = g_ptr_array_new_with_free_func(g_free);
	x.plypos = g_hash_table_new(g_direct_hash, g_direct_equal);
	x.cells = g_string_new(NULL);
	for (pos = 0; pos + 4 <= len && x.rc == 0 && !o->encrypted &&
	    !o->ex->stop; pos += 4 + n) {
		type = u16(d + pos);
		n = u16(d + pos + 2);
		if (n > len - pos - 4) {
			o->damaged = true;	/* a record cut short */
			break;
		}
		xls_record(&x, type, d + pos + 4, n, d, len, pos);
	}
	xls_flush(&x);
	/* No sheet cells (they did not parse): the strings at least. */
	if (!x.emitted && !o->encrypted && x.rc == 0 && x.sst->len > 0) {
		all = g_string_new(NULL);
		for (k = 0; k < x.sst->len; k++) {
			g_string_append(all, g_ptr_array_index(x.sst, k));
			g_string_append_c(all, '\n');
		}
		if (ole2_take(o, all->len) == 0 &&
		    ole2_emit(o, x.prefix, "workbook", XLS_TYPE, all) < 0)
			x.rc = -1;
		g_string_free(all, TRUE);
	}
	rc = x.rc;
	g_free(x.prefix);
	g_ptr_array_free(x.sst, TRUE);
	g_ptr_array_free(x.names, TRUE);
	g_hash_table_destroy(x.plypos);
	g_string_free(x.cells, TRUE);
	free(d);
	return rc;
}

/* ------------------------------------------------------- PowerPoint */

#define PPT_TYPE	"application/vnd.ms-powerpoint"

/* Text atoms, wherever they are: containers (version 0xF) are entered,
 * atoms stepped over, so the walk is flat and bounded by the stream. */
static int
ole2_ppt(struct ole2 *o, uint32_t i)
{
	unsigned char *d = NULL;
	size_t len, pos, n, before;
	unsigned ver, type;
	GString *s = g_string_new(NULL);
	char *prefix;
	int rc;

	if ((rc = ole2_stream(o, i, &d, &len)) != OLE2_OK) {
		if (rc == OLE2_BAD)
			o->damaged = true;
		g_string_free(s, TRUE);
		return rc == OLE2_OOM ? -1 : 0;
	}
	o->known = true;
	for (pos = 0; pos + 8 <= len && !o->ex->stop; pos += 8 + n) {
		ver = u16(d + pos) & 0xF;
		type = u16(d + pos + 2);
		n = u32(d + pos + 4);
		if (type == 0x2F14) {	/* CryptSession10Container */
			o->encrypted = true;
			break;
		}
		if (ver == 0xF) {
			n = 0;
			continue;
		}
		if (n > len - pos - 8) {
			o->damaged = true;
			break;
		}
		before = s->len;
		if (type == 0x0FA0 || type == 0x0FBA)	/* TextChars, CString */
			ole2_utf16(s, d + pos + 8, n / 2, false);
		else if (type == 0x0FA8)		/* TextBytes */
			ole2_latin1(s, d + pos + 8, n);
		else
			continue;
		g_string_append_c(s, '\n');
		(void)ole2_take(o, s->len - before);
	}
	rc = 0;
	if (!o->encrypted) {
		prefix = ole2_prefix(o, i);
		rc = ole2_emit(o, prefix, "presentation", PPT_TYPE, s) < 0 ?
		    -1 : 0;
		g_free(prefix);
	}
	g_string_free(s, TRUE);
	free(d);
	return rc;
}

/* ---------------------------------------------- embedded files, .msg */

/* Hands a file found inside to extract_file(), one level deeper. */
static int
ole2_nested(struct ole2 *o, const char *where, const char *name,
    const unsigned char *data, size_t len)
{
	struct extract_file sub;
	char *w = extract_path(where, name != NULL && *name != '\0' ? name :
	    "embedded");
	int rc;

	memset(&sub, 0, sizeof sub);
	sub.where = w;
	sub.name = name;
	sub.data = data;
	sub.len = len;
	sub.depth = o->f->depth + 1;
	rc = extract_file(o->ex, &sub);
	g_free(w);
	return rc < 0 ? -1 : 0;
}

/* A NUL-terminated string at d[*pos..len): its end, or NULL. */
static const char *
ole2_cstr(const unsigned char *d, size_t len, size_t *pos)
{
	const unsigned char *z = memchr(d + *pos, '\0', len - *pos);
	const char *s = (const char *)d + *pos;

	if (z == NULL)
		return NULL;
	*pos = (size_t)(z - d) + 1;
	return s;
}

/* Package (an embedded OOXML file), CONTENTS (embedded PDF), and
 * \1Ole10Native (a packaged file: size, 2, label, path, 0x00030000,
 * temp path, data size, data). */
static int
ole2_embedded(struct ole2 *o, uint32_t i)
{
	unsigned char *d = NULL;
	const char *label = NULL, *base;
	size_t len, pos = 6, n;
	char *prefix, *name = NULL;
	int rc;

	if ((rc = ole2_stream(o, i, &d, &len)) != OLE2_OK) {
		if (rc == OLE2_BAD)
			o->damaged = true;
		return rc == OLE2_OOM ? -1 : 0;
	}
	prefix = ole2_prefix(o, i);
	rc = 0;
	if (strcmp(o->dir[i].name, "\1Ole10Native") != 0) {
		rc = ole2_nested(o, prefix, o->dir[i].name, d, len);
		goto out;
	}
	if (len < 6 || (label = ole2_cstr(d, len, &pos)) == NULL ||
	    ole2_cstr(d, len, &pos) == NULL || pos + 8 > len)
		goto out;
	pos += 4;
	n = u32(d + pos);
	pos += 4;
	if (n > len - pos)
		goto out;
	pos += n;
	if (pos + 4 > len || (n = u32(d + pos)) > len - pos - 4)
		goto out;
	if ((base = strrchr(label, '\\')) != NULL)
		label = base + 1;
	name = g_utf8_make_valid(label, -1);
	rc = ole2_nested(o, prefix, name, d + pos + 4, n);
out:
	g_free(name);
	g_free(prefix);
	free(d);
	return rc;
}

#define MSG_TYPE	"application/vnd.ms-outlook"

/* A .msg property stream's tag ("__substg1.0_0037001F"): the type, or
 * NULL for other names. */
static const char *
ole2_msg_type(const char *name)
{
	return strncmp(name, "__substg1.0_", 12) == 0 && strlen(name) == 20 ?
	    name + 16 : NULL;
}

/* An attachment's name: its long or short file name property. */
static char *
ole2_msg_name(struct ole2 *o, uint32_t st)
{
	static const char *const tags[] = { "__substg1.0_3707001F",
	    "__substg1.0_3707001E", "__substg1.0_3704001F",
	    "__substg1.0_3704001E", NULL };
	unsigned char *d;
	size_t len, k;
	uint32_t e;
	GString *s = g_string_new(NULL);

	for (k = 0; tags[k] != NULL && s->len == 0; k++) {
		if ((e = ole2_find(o, st, tags[k])) == OLE2_NONE ||
		    o->dir[e].size > 1024 ||
		    ole2_stream(o, e, &d, &len) != OLE2_OK)
			continue;
		if (tags[k][19] == 'F')
			ole2_utf16(s, d, len / 2, false);
		else
			(void)ole2_bytes(s, d, strnlen((char *)d, len), NULL,
			    false);
		free(d);
	}
	return g_string_free(s, FALSE);
}

/* Outlook: every text property (001F UTF-16, 001E 8-bit) as one
 * segment, and each attachment's data to extract_file(). */
static int
ole2_msg(struct ole2 *o)
{
	unsigned char *d;
	const char *t;
	size_t len, before;
	uint32_t i, e;
	GString *s = g_string_new(NULL);
	char *name;
	int rc = 0;

	o->known = true;
	for (i = 1; i < o->ndir && !o->ex->stop; i++) {
		if (o->dir[i].type != OLE2_STREAM || o->dir[i].parent ==
		    OLE2_NONE || (t = ole2_msg_type(o->dir[i].name)) == NULL ||
		    (g_ascii_strcasecmp(t, "001F") != 0 &&
		    g_ascii_strcasecmp(t, "001E") != 0))
			continue;
		if ((rc = ole2_stream(o, i, &d, &len)) == OLE2_OOM)
			goto out;
		if (rc == OLE2_BAD) {
			o->damaged = true;
			continue;
		}
		before = s->len;
		if (g_ascii_strcasecmp(t, "001F") == 0)
			ole2_utf16(s, d, len / 2, false);
		else if (ole2_bytes(s, d, len, NULL, false) != 0)
			rc = OLE2_OOM;
		free(d);
		if (rc == OLE2_OOM)
			goto out;
		g_string_append_c(s, '\n');
		(void)ole2_take(o, s->len - before);
	}
	if ((rc = ole2_emit(o, o->f->where, "message", MSG_TYPE, s)) < 0)
		goto out;
	rc = 0;
	for (i = 1; i < o->ndir && !o->ex->stop && rc == 0; i++) {
		if (o->dir[i].type != OLE2_STORAGE || o->dir[i].parent ==
		    OLE2_NONE || strncmp(o->dir[i].name,
		    "__attach_version1.0_#", 21) != 0 ||
		    (e = ole2_find(o, i, "__substg1.0_37010102")) == OLE2_NONE)
			continue;
		if (!ole2_member(o))
			break;
		if ((rc = ole2_stream(o, e, &d, &len)) != OLE2_OK) {
			if (rc == OLE2_BAD)
				o->damaged = true;
			rc = rc == OLE2_OOM ? -1 : 0;
			continue;
		}
		name = ole2_msg_name(o, i);
		rc = ole2_nested(o, o->f->where, name, d, len);
		g_free(name);
		free(d);
	}
out:
	g_string_free(s, TRUE);
	return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------- main */

static int
ole2_walk(struct ole2 *o)
{
	const char *n;
	bool msg = false;
	uint32_t i;
	int rc = 0;

	for (i = 1; i < o->ndir; i++)
		if (o->dir[i].parent == 0 && o->dir[i].type == OLE2_STREAM &&
		    (strcmp(o->dir[i].name, "EncryptedPackage") == 0 ||
		    strcmp(o->dir[i].name, "EncryptedSummary") == 0)) {
			o->known = o->encrypted = true;
			return 0;
		}
	for (i = 1; i < o->ndir && rc == 0 && !o->encrypted; i++) {
		if (extract_stopped(o->ex, o->f->where))
			break;
		if (o->dir[i].type != OLE2_STREAM || o->dir[i].parent ==
		    OLE2_NONE)
			continue;	/* not in the tree: free or junk */
		n = o->dir[i].name;
		if ((strcmp(n, "WordDocument") == 0 ||
		    strcmp(n, "Workbook") == 0 || strcmp(n, "Book") == 0 ||
		    strcmp(n, "PowerPoint Document") == 0 ||
		    strcmp(n, "Package") == 0 || strcmp(n, "CONTENTS") == 0 ||
		    strcmp(n, "\1Ole10Native") == 0) && !ole2_member(o))
			break;
		if (strcmp(n, "WordDocument") == 0)
			rc = ole2_word(o, i);
		else if (strcmp(n, "Workbook") == 0 || strcmp(n, "Book") == 0)
			rc = ole2_xls(o, i);
		else if (strcmp(n, "PowerPoint Document") == 0)
			rc = ole2_ppt(o, i);
		else if (strcmp(n, "Package") == 0 ||
		    strcmp(n, "CONTENTS") == 0 ||
		    strcmp(n, "\1Ole10Native") == 0) {
			o->known = true;
			rc = ole2_embedded(o, i);
		} else if (ole2_msg_type(n) != NULL)
			msg = true;
	}
	if (msg && rc == 0 && !o->encrypted && !o->ex->stop)
		rc = ole2_msg(o);
	return rc;
}

int
extract_ole2(struct extract *ex, const struct extract_file *f)
{
	struct ole2 o;
	int rc;

	memset(&o, 0, sizeof o);
	o.data = f->data;
	o.len = f->len;
	o.ex = ex;
	o.f = f;
	o.readleft = f->len > SIZE_MAX / 4 ? SIZE_MAX : 2 * f->len + (1u << 20);
	if ((rc = ole2_open(&o)) == OLE2_OK)
		rc = ole2_walk(&o);
	else if (rc == OLE2_BAD) {
		o.damaged = o.known = true;
		rc = 0;
	}
	if (rc == 0 && o.encrypted)
		rc = extract_note(ex, "encrypted", f->where);
	if (rc == 0 && o.damaged)
		rc = extract_note(ex, "damaged", f->where);
	if (rc == 0 && o.toomany)
		rc = extract_note(ex, "members", f->where);
	free(o.fat);
	free(o.minifat);
	free(o.mini);
	free(o.dir);
	if (rc < 0)
		return -1;
	return o.known ? 1 : 0;
}
