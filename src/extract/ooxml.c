/* ooxml.c - Office Open XML (.xlsx .xlsm .docx .docm .pptx .pptm): the
 * text of sheets, document bodies, headers, footers, footnotes,
 * comments, slides and their notes, charts and diagrams; embedded files
 * go back to extract_file() one level deeper.
 *
 * Also the reader of zipped XML that odf.c shares (extract_zipxml):
 * members read from memory with libarchive, each XML part streamed
 * through xmlscan.c as it is inflated, text in lines, a table row's cells
 * on one line separated by tabs so that a row's fields stay together.
 * Passes over the zip let a format read what it needs first (shared
 * strings, sheet and slide names) without holding any other part.
 *
 * Owns nothing past a call.  Every problem of the input is a note
 * (extract.h): ratio, extract-size, xml-depth, encrypted, damaged,
 * members, time; the text read before it stays.  -1 only when out of
 * memory. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>
#include <libdeflate.h>

#include "extract/extract.h"
#include "gstr.h"
#include "extract/xmlscan.h"
#include "extract/zipdir.h"

#define XML_RATIO_FLOOR	((size_t)1 << 20)	/* no ratio judged below */
#define XML_SEGMENT	((size_t)1 << 20)	/* text given at a line end */
#define XML_SEGMENT_MAX	((size_t)4 << 20)	/* ... or between cells */
/* A member inflated at once is held whole, in a buffer kept for the
 * next: larger ones stream. */
#define ZIP_INFLATE_MAX	((size_t)8 << 20)
#define ZIP_POOL	4	/* buffers kept */
#define ZIP_SLICE	((size_t)64 << 10)	/* parsed at a time */

/* See extract.h. */
bool extract_zip_fast = true;

#define T_SHEET	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#define T_DOC	"application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#define T_SLIDES "application/vnd.openxmlformats-officedocument.presentationml.presentation"

struct extract_xml {
	struct extract			*ex;
	const struct extract_file	*f;
	extract_xml_fn			 role;
	void				*arg;
	char				*where;	/* the member, for notes */
	char				*source;	/* f->where > source */
	const char			*type;
	GString				*out;	/* text not given yet */
	unsigned			*flags;	/* the flow's, per element */
	size_t				 nflags, flags_cap;
	size_t				 depth;
	unsigned			 text, skip, cell, row;
	size_t				 cell_mark, cell_from;
	bool				 row_used;
	bool				 stop;	/* budget, time or memory */
};

/* What to do with a member: parse it (ops: the flow, with a role
 * function, or a parser of its own for shared strings and worksheets,
 * called by xmlscan.c with the struct extract_xml as arg) or, NULL,
 * hand the file to extract_file (an embedded object). */
struct part {
	const struct xmlscan_ops *ops;
	extract_xml_fn		 role;
	void			*arg;
	char			*source;
	const char		*type;
};

typedef bool (*part_fn)(void *arg, unsigned pass, const char *member,
    struct part *);

struct zipwalk {
	struct extract			*ex;
	const struct extract_file	*f;
	part_fn				 choose;
	void				*arg;
	size_t				 parts;	/* read with text, or noted */
	bool				 streamable;	/* no central directory */
	bool				 halt;		/* nothing more to read */
	bool				 damaged;	/* noted for f */
	bool				 members;	/* noted for f */
	struct zipdir			*dir;	/* read at the first XML part */
	bool				 dir_read;
	struct libdeflate_decompressor	*inflater;
};

/* ------------------------------------------------------- text out */

static const char *
xml_local(const char *qname)
{
	const char *c = strrchr(qname, ':');

	return c != NULL ? c + 1 : qname;
}

/* Bytes that would split a row if they came out in a cell. */
static const unsigned char cell_blank[256] = {
	['\t'] = 1, ['\n'] = 1, ['\r'] = 1
};

static const char *
xml_where(const struct extract_xml *x)
{
	return x->source != NULL ? x->source : x->where;
}

static void
xml_flush(struct extract_xml *x)
{
	if (x->out->len > 0 && x->source != NULL && !x->stop &&
	    extract_text(x->ex, x->source, x->type, x->out->str,
	    x->out->len) != 0)
		x->stop = true;
	g_string_truncate(x->out, 0);
}

/* Segments end at line ends; a row is split only when it is huge. */
static void
xml_flush_some(struct extract_xml *x, size_t at)
{
	if (x->cell == 0 && (x->row == 0 || at == XML_SEGMENT_MAX) &&
	    x->out->len >= at)
		xml_flush(x);
}

static char
xml_last(const struct extract_xml *x)
{
	return x->out->len > 0 ? x->out->str[x->out->len - 1] : '\0';
}

/* In a cell, tabs and line ends would split the row: spaces. */
static void
cell_spaces(char *d, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (cell_blank[(unsigned char)d[i]])
			d[i] = ' ';
}

static void
xml_put(struct extract_xml *x, const char *s, size_t len)
{
	gstr_append(x->out, s, len);
	if (x->cell == 0)
		xml_flush_some(x, XML_SEGMENT_MAX);
	else
		cell_spaces(x->out->str + x->out->len - len, len);
}

static void
xml_line(struct extract_xml *x)
{
	char c = xml_last(x);

	if (x->cell > 0) {
		if (c != '\0' && c != ' ' && c != '\t')
			g_string_append_c(x->out, ' ');
		return;
	}
	if (c != '\0' && c != '\n')
		g_string_append_c(x->out, '\n');
	xml_flush_some(x, XML_SEGMENT);
}

static void
xml_cell_begin(struct extract_xml *x)
{
	if (x->cell++ > 0) {	/* a table in a cell: its cells flow */
		xml_line(x);
		return;
	}
	x->cell_mark = x->out->len;
	if (x->row_used)
		g_string_append_c(x->out, '\t');
	x->cell_from = x->out->len;
}

static void
xml_cell_end(struct extract_xml *x)
{
	if (x->cell == 0 || --x->cell > 0)
		return;
	while (x->out->len > x->cell_from && xml_last(x) == ' ')
		g_string_truncate(x->out, x->out->len - 1);
	/* Empty cells add nothing: a sheet's thousand blank columns do not
	 * push a row's fields apart. */
	if (x->out->len == x->cell_from)
		g_string_truncate(x->out, x->cell_mark);
	else
		x->row_used = true;
	xml_flush_some(x, XML_SEGMENT_MAX);
}

static void
xml_row_begin(struct extract_xml *x)
{
	char c = xml_last(x);

	if (x->cell > 0)
		return;
	if (x->row++ == 0) {
		if (c != '\0' && c != '\n')
			g_string_append_c(x->out, '\n');
		x->row_used = false;
	}
}

static void
xml_row_end(struct extract_xml *x)
{
	if (x->cell > 0) {
		xml_line(x);
		return;
	}
	if (x->row == 0 || --x->row > 0)
		return;
	if (x->row_used)
		g_string_append_c(x->out, '\n');
	x->row_used = false;
	xml_flush_some(x, XML_SEGMENT);
}

void
extract_xml_source(struct extract_xml *x, const char *source,
    const char *type)
{
	xml_flush(x);
	g_free(x->source);
	x->source = source != NULL ? extract_path(x->f->where, source) : NULL;
	x->type = type;
}

/* ------------------------------------------------------- the flow */

/* A stack of our own, as deep as the elements open (max_xml_depth):
 * a GArray's push and pop were a third of the flow's cost. */
static void
flow_push(struct extract_xml *x, unsigned fl)
{
	if (x->nflags == x->flags_cap) {
		x->flags_cap = x->flags_cap > 0 ? 2 * x->flags_cap : 32;
		x->flags = g_renew(unsigned, x->flags, x->flags_cap);
	}
	x->flags[x->nflags++] = fl;
}

/* The tokenizer (xmlscan.c) enforces max_xml_depth and gives element
 * names without their prefix; a parser's stop (budget, time, memory)
 * becomes its stop. */
static int
flow_start(void *arg, const char *name, const char **an, const char **av)
{
	struct extract_xml *x = arg;
	const char *put = NULL;
	unsigned fl = 0;

	x->depth++;
	if (x->skip == 0)
		fl = x->role(x->arg, x, x->depth, name, an, av, &put);
	flow_push(x, fl);
	if (fl & EXTRACT_XML_ROW)
		xml_row_begin(x);
	if (fl & EXTRACT_XML_CELL)
		xml_cell_begin(x);
	if (put != NULL)
		xml_put(x, put, strlen(put));
	if (fl & EXTRACT_XML_TEXT)
		x->text++;
	if (fl & EXTRACT_XML_SKIP)
		x->skip++;
	return x->stop ? -1 : 0;
}

static int
flow_end(void *arg, const char *name)
{
	struct extract_xml *x = arg;
	unsigned fl;

	(void)name;
	x->depth--;
	if (x->nflags == 0)
		return x->stop ? -1 : 0;
	fl = x->flags[--x->nflags];
	if (fl & EXTRACT_XML_TEXT)
		x->text--;
	if (fl & EXTRACT_XML_SKIP)
		x->skip--;
	if (fl & EXTRACT_XML_LINE)
		xml_line(x);
	if (fl & EXTRACT_XML_CELL)
		xml_cell_end(x);
	if (fl & EXTRACT_XML_ROW)
		xml_row_end(x);
	return x->stop ? -1 : 0;
}

static int
flow_text(void *arg, const char *text, size_t len)
{
	struct extract_xml *x = arg;

	if (x->text > 0 && x->skip == 0)
		xml_put(x, text, len);
	return x->stop ? -1 : 0;
}

static const struct xmlscan_ops flow_ops = { flow_start, flow_end,
    flow_text, NULL, NULL };

/* ------------------------------------------------------- zip members */

static void
zip_note(struct zipwalk *z, const char *reason, const char *where)
{
	(void)extract_note(z->ex, reason, where);
	z->parts++;
}

static void
zip_damaged(struct zipwalk *z)
{
	if (!z->damaged)
		zip_note(z, "damaged", z->f->where);
	z->damaged = true;
}

/* An embedded file, read whole: back to extract_file, one level down. */
static void
zip_embedded(struct zipwalk *z, const char *member, const GByteArray *b)
{
	struct extract_file child;
	const char *slash = strrchr(member, '/');
	char *where = extract_path(z->f->where, member);

	memset(&child, 0, sizeof child);
	child.where = where;
	child.name = slash != NULL ? slash + 1 : member;
	child.data = b->data;
	child.len = b->len;
	child.depth = z->f->depth + 1;
	if (extract_file(z->ex, &child) < 0)
		z->ex->oom = true;
	g_free(where);
}

/* What a block of a member's bytes did: ZB_GO on, ZB_STOP the reading
 * ends here (stopped, over budget or noted), ZB_BAD the parse failed. */
enum { ZB_GO, ZB_STOP, ZB_BAD };

/* A block of a member's bytes, counted against the budget before it is
 * parsed (or kept, raw), refused when the member expands too much for
 * the compressed bytes used so far. */
static int
zip_block(struct zipwalk *z, struct extract_xml *x, struct xmlscan *sc,
    GByteArray *raw, const void *buf, size_t size, size_t *total,
    uint64_t used)
{
	struct extract *ex = z->ex;

	if (size == 0)
		return ZB_GO;
	if (extract_stopped(ex, xml_where(x)))
		return ZB_STOP;
	*total += size;
	if (*total > XML_RATIO_FLOOR && *total / used > ex->lim->max_ratio) {
		zip_note(z, "ratio", xml_where(x));
		/* Without a central directory, getting past the member
		 * means inflating all of it. */
		if (z->streamable)
			z->halt = true;
		return ZB_STOP;
	}
	if (extract_take(ex, size, xml_where(x)) != 0)
		return ZB_STOP;
	if (raw != NULL) {
		if (size > G_MAXUINT - raw->len) {	/* GByteArray's */
			zip_note(z, "extract-size", xml_where(x));
			return ZB_STOP;
		}
		g_byte_array_append(raw, buf, (guint)size);
		return ZB_GO;
	}
	return xmlscan_feed(sc, buf, size) == 0 ? ZB_GO : ZB_BAD;
}

/* Buffers of ZIP_INFLATE_MAX bytes, kept from one member to the next
 * (at most ZIP_POOL; the scan gate lets max_scans messages extract at
 * once).  Fresh memory is paid for a page at a time: a new 1.4 MB
 * buffer a message took 700 more page faults than libarchive's reused
 * one, and on a VM, where a fault cost 11 us, more CPU than inflating
 * faster saved.  Only the pages a member used are resident. */
static GMutex		 zip_pool_lock;
static unsigned char	*zip_pool[ZIP_POOL];

static unsigned char *
zip_buf_get(void)
{
	unsigned char *p = NULL;
	size_t i;

	g_mutex_lock(&zip_pool_lock);
	for (i = 0; i < ZIP_POOL && p == NULL; i++) {
		p = zip_pool[i];
		zip_pool[i] = NULL;
	}
	g_mutex_unlock(&zip_pool_lock);
	return p != NULL ? p : g_try_malloc(ZIP_INFLATE_MAX);
}

static void
zip_buf_put(unsigned char *p)
{
	size_t i;

	g_mutex_lock(&zip_pool_lock);
	for (i = 0; i < ZIP_POOL && p != NULL; i++)
		if (zip_pool[i] == NULL) {
			zip_pool[i] = p;
			p = NULL;
		}
	g_mutex_unlock(&zip_pool_lock);
	g_free(p);
}

/* An XML member inflated at once by libdeflate, three times as fast
 * as zlib's inflate through libarchive, when the central directory
 * places it plainly (zipdir.h), it expands no more than max_ratio and
 * fits in what is left of the budget: then parsed in slices as
 * zip_block() parses libarchive's blocks.
 * What zip_block() returned last, or -1 when the member is not one
 * for this (not placed, too large, its bytes do not inflate to its
 * size): libarchive reads it then, and says what is wrong with it. */
static int
zip_inflate(struct zipwalk *z, struct archive_entry *e, const char *member,
    struct extract_xml *x, struct xmlscan *sc, size_t *total)
{
	const struct zipdir_member *m;
	const unsigned char *buf;
	unsigned char *out = NULL;
	size_t at, n;
	int rc = ZB_GO;

	if (z->streamable)
		return -1;
	if (!z->dir_read) {
		z->dir = zipdir_read(z->f->data, z->f->len,
		    z->ex->lim->max_members);
		z->dir_read = true;
	}
	/* One the budget would cut is streamed up to the cut.
	 * libarchive's entry and the directory's agree on the size too,
	 * and the entry is a regular file: of one whose Unix mode (the
	 * directory's external attributes) says anything else, even a
	 * type that does not exist, libarchive gives no data, and both
	 * ways must say the same of it. */
	if ((m = zipdir_find(z->dir, member)) == NULL ||
	    archive_entry_filetype(e) != AE_IFREG ||
	    (archive_entry_size_is_set(e) &&
	    archive_entry_size(e) != (la_int64_t)m->usize) ||
	    m->usize > ZIP_INFLATE_MAX ||
	    m->usize > z->ex->lim->max_bytes - z->ex->bytes_used ||
	    (m->usize > XML_RATIO_FLOOR &&
	    m->usize / MAX(m->csize, 1) > z->ex->lim->max_ratio))
		return -1;
	buf = m->data;
	if (m->method != 0) {
		if (z->inflater == NULL &&
		    (z->inflater = libdeflate_alloc_decompressor()) == NULL)
			return -1;
		if ((out = zip_buf_get()) == NULL)
			return -1;
		/* No actual size asked for: anything but exactly usize
		 * bytes fails. */
		if (libdeflate_deflate_decompress(z->inflater, m->data,
		    m->csize, out, m->usize, NULL) != LIBDEFLATE_SUCCESS) {
			zip_buf_put(out);
			return -1;
		}
		buf = out;
	}
	for (at = 0; at < m->usize && rc == ZB_GO; at += n) {
		n = MIN(ZIP_SLICE, m->usize - at);
		rc = zip_block(z, x, sc, NULL, buf + at, n, total,
		    MAX(m->csize, 1));
	}
	if (out != NULL)
		zip_buf_put(out);
	return rc;
}

/* Reads the member the archive is at: an XML part inflated at once
 * where it can be (zip_inflate()), else block by block through
 * libarchive (zip_block()). */
static void
zip_member(struct zipwalk *z, struct archive *a, struct archive_entry *e,
    const char *member, struct part *p)
{
	struct extract		*ex = z->ex;
	struct extract_xml	 x;
	struct xmlscan		*sc = NULL;
	GByteArray		*raw = NULL;
	const void		*buf;
	size_t			 size, total = 0;
	la_int64_t		 off, base, used;
	bool			 ok;
	int			 r, rc = -1;

	memset(&x, 0, sizeof x);
	x.ex = ex;
	x.f = z->f;
	x.role = p->role;
	x.arg = p->arg;
	x.where = extract_path(z->f->where, member);
	x.source = p->source != NULL ? extract_path(z->f->where,
	    p->source) : NULL;
	x.type = p->type;
	x.out = g_string_new(NULL);
	if (p->ops != NULL)
		sc = xmlscan_new(p->ops, &x, ex->lim->max_xml_depth);
	else
		raw = g_byte_array_new();

	if (x.source != NULL || raw != NULL)
		z->parts++;
	if (sc != NULL && extract_zip_fast)
		rc = zip_inflate(z, e, member, &x, sc, &total);
	if (rc < 0) {
		rc = ZB_GO;
		base = archive_filter_bytes(a, -1);
		while (rc == ZB_GO) {
			r = archive_read_data_block(a, &buf, &size, &off);
			if (r == ARCHIVE_EOF)
				break;
			if (r < ARCHIVE_WARN) {
				zip_note(z, "damaged", xml_where(&x));
				if (r == ARCHIVE_FATAL)
					z->halt = true;
				goto out;
			}
			/* The compressed bytes read so far, as libarchive's
			 * reader consumed them; the whole file when it
			 * cannot say. */
			used = archive_filter_bytes(a, -1) - base;
			if (base < 0 || used <= 0)
				used = (la_int64_t)z->f->len;
			rc = zip_block(z, &x, sc, raw, buf, size, &total,
			    (uint64_t)used);
		}
	}
	if (rc == ZB_STOP)
		goto out;
	ok = rc == ZB_GO;
	if (ok && sc != NULL)
		ok = xmlscan_end(sc) == 0;
	if (!ok) {
		if (xmlscan_error(sc) == XMLSCAN_DEEP)
			zip_note(z, "xml-depth", xml_where(&x));
		else if (!x.stop && !ex->stop && !ex->oom)
			zip_note(z, "damaged", xml_where(&x));
	}
	if (raw != NULL)
		zip_embedded(z, member, raw);
out:
	xml_flush(&x);
	sc = xmlscan_free(sc);
	if (raw != NULL)
		g_byte_array_free(raw, TRUE);
	g_free(x.flags);
	g_string_free(x.out, TRUE);
	g_free(x.source);
	g_free(x.where);
}

/* Passes a member by.  Read from the central directory, that is a
 * seek; member by member, one whose size comes after its data (a data
 * descriptor) has to be inflated to find its end: with the same ratio
 * guard as a member read. */
static void
zip_skip(struct zipwalk *z, struct archive *a, struct archive_entry *e)
{
	const void	*buf;
	size_t		 size, total = 0;
	la_int64_t	 off, base, used;
	char		*where;

	if (z->halt || !z->streamable || archive_entry_size_is_set(e))
		return;		/* archive_read_next_header() skips it */
	base = archive_filter_bytes(a, -1);
	where = extract_path(z->f->where, archive_entry_pathname(e) != NULL ?
	    archive_entry_pathname(e) : "?");
	while (archive_read_data_block(a, &buf, &size, &off) == ARCHIVE_OK) {
		total += size;
		used = archive_filter_bytes(a, -1) - base;
		if (base < 0 || used <= 0)
			used = (la_int64_t)z->f->len;
		if (total > XML_RATIO_FLOOR &&
		    total / (uint64_t)used > z->ex->lim->max_ratio) {
			zip_note(z, "ratio", where);
			z->halt = true;
			break;
		}
		if (extract_stopped(z->ex, where)) {
			z->halt = true;
			break;
		}
	}
	g_free(where);
}

/* One pass over the members.  The central directory is what Office
 * reads; a file without one (truncated) is read member by member from
 * the start, as far as it goes. */
static void
zip_pass(struct zipwalk *z, unsigned pass)
{
	struct extract		*ex = z->ex;
	struct archive		*a;
	struct archive_entry	*e;
	struct part		 p;
	const char		*member;
	size_t			 n = 0;
	int			 r;

again:
	if ((a = archive_read_new()) == NULL) {
		ex->oom = true;
		return;
	}
	if (z->streamable)
		(void)archive_read_support_format_zip_streamable(a);
	else
		(void)archive_read_support_format_zip_seekable(a);
	/* A member's CRC-32 is not checked: a mismatch never kept its text
	 * from being read (test_office's badcrc.docx), and the sum cost 5%
	 * of a message with an xlsx (7 million instructions for its 1.9 MB
	 * of XML).  Damage that matters stops the inflate. */
	(void)archive_read_set_format_option(a, "zip", "ignorecrc32", "1");
	r = archive_read_open_memory(a, z->f->data, z->f->len);
	while (r >= ARCHIVE_WARN && !z->halt && !ex->oom) {
		if ((r = archive_read_next_header(a, &e)) == ARCHIVE_EOF ||
		    r < ARCHIVE_WARN)
			break;
		if (++n > ex->lim->max_members) {
			if (!z->members)
				zip_note(z, "members", z->f->where);
			z->members = true;
			break;
		}
		if (extract_stopped(ex, z->f->where))
			break;
		memset(&p, 0, sizeof p);
		if ((member = archive_entry_pathname(e)) == NULL ||
		    !z->choose(z->arg, pass, member, &p)) {
			zip_skip(z, a, e);
			continue;
		}
		if (archive_entry_is_encrypted(e)) {
			char *w = p.source != NULL ? extract_path(z->f->where,
			    p.source) : extract_path(z->f->where, member);

			zip_note(z, "encrypted", w);
			g_free(w);
		} else
			zip_member(z, a, e, member, &p);
		/* What a member left unread, past a parse error. */
		zip_skip(z, a, e);
		g_free(p.source);
	}
	if (r < ARCHIVE_WARN && r != ARCHIVE_EOF) {
		if (!z->streamable && n == 0) {
			(void)archive_read_free(a);
			z->streamable = true;
			zip_damaged(z);
			goto again;
		}
		zip_damaged(z);
	}
	(void)archive_read_free(a);
}

static int
zip_run(struct extract *ex, const struct extract_file *f, unsigned passes,
    part_fn choose, void *arg)
{
	struct zipwalk z;
	unsigned pass;

	memset(&z, 0, sizeof z);
	z.ex = ex;
	z.f = f;
	z.choose = choose;
	z.arg = arg;
	for (pass = 0; pass < passes && !ex->stop && !ex->oom; pass++) {
		z.halt = false;
		zip_pass(&z, pass);
	}
	z.dir = zipdir_free(z.dir);
	if (z.inflater != NULL)
		libdeflate_free_decompressor(z.inflater);
	if (ex->oom)
		return -1;
	/* Stopped by the budget or time: noted by extract.c. */
	if (z.parts == 0 && ex->stop)
		return 1;
	return (int)MIN(z.parts, INT_MAX);
}

struct zipxml {
	extract_member_fn	 fn;
	void			*arg;
};

static bool
zipxml_choose(void *arg, unsigned pass, const char *member, struct part *p)
{
	struct zipxml *zx = arg;

	if ((p->role = zx->fn(zx->arg, pass, member, &p->source,
	    &p->type)) == NULL) {
		g_free(p->source);
		p->source = NULL;
		return false;
	}
	p->ops = &flow_ops;
	p->arg = zx->arg;
	return true;
}

int
extract_zipxml(struct extract *ex, const struct extract_file *f,
    unsigned passes, extract_member_fn fn, void *arg)
{
	struct zipxml zx = { fn, arg };

	return zip_run(ex, f, passes, zipxml_choose, &zx);
}

/* ------------------------------------------------------- OOXML */

struct ooxml {
	GString		*sst;		/* shared strings, end to end */
	size_t		*sst_at;	/* where each starts in sst */
	size_t		 sst_n, sst_cap;	/* of sst_at */
	GHashTable	*rels;		/* "part\nId" -> member, lower case */
	GPtrArray	*sheets;	/* workbook.xml: name, r:id, ... */
	GPtrArray	*slides;	/* presentation.xml: r:id in order */
	GHashTable	*names;		/* member -> source name */
	bool		 named;
	char		*member;	/* being read, lower case */
	/* A shared string or a cell being read. */
	GString		*val;
	char		 ctype;		/* 's', 'b' or 0: the cell's t */
	unsigned	 in_si, in_c, in_v, in_is, in_t, in_rph;
};

/* Elements of WordprocessingML, DrawingML (slides, charts, diagrams)
 * and comments, by local name. */
static const struct {
	const char	*name;
	unsigned	 flags;
	const char	*put;
} ooxml_roles[] = {
	{ "t", EXTRACT_XML_TEXT, NULL },
	{ "delText", EXTRACT_XML_TEXT, NULL },	/* still in the file */
	{ "instrText", EXTRACT_XML_TEXT, NULL },	/* mailto: links */
	{ "v", EXTRACT_XML_TEXT, NULL },	/* a chart's cached value */
	{ "text", EXTRACT_XML_TEXT, NULL },	/* a comment's */
	{ "p", EXTRACT_XML_LINE, NULL },
	{ "br", EXTRACT_XML_LINE, NULL },
	{ "cr", EXTRACT_XML_LINE, NULL },
	{ "pt", EXTRACT_XML_LINE, NULL },
	{ "comment", EXTRACT_XML_LINE, NULL },
	{ "cm", EXTRACT_XML_LINE, NULL },
	{ "threadedComment", EXTRACT_XML_LINE, NULL },
	{ "tab", 0, "\t" },
	{ "ptab", 0, "\t" },
	{ "noBreakHyphen", 0, "-" },
	{ "tc", EXTRACT_XML_CELL, NULL },
	{ "tr", EXTRACT_XML_ROW, NULL },
	{ "cell", EXTRACT_XML_CELL, NULL },	/* external links' caches */
	{ "row", EXTRACT_XML_ROW, NULL },
	{ "tabs", EXTRACT_XML_SKIP, NULL },	/* tab stops, not tabs */
	{ "tabLst", EXTRACT_XML_SKIP, NULL },
	/* mc:AlternateContent: the Fallback repeats the Choice. */
	{ "Fallback", EXTRACT_XML_SKIP, NULL },
	{ "rPh", EXTRACT_XML_SKIP, NULL },	/* phonetic guides */
};

static unsigned
ooxml_role(void *arg, struct extract_xml *x, size_t depth, const char *name,
    const char **an, const char **av, const char **put)
{
	size_t i;

	(void)arg;
	(void)x;
	(void)depth;
	(void)an;
	(void)av;
	/* Most elements (w:r, w:rPr, a:off, ...) have no role: the first
	 * byte sends nearly all of them past a name without a call to
	 * strcmp(), which took an eighth of a long document's reading. */
	for (i = 0; i < G_N_ELEMENTS(ooxml_roles); i++)
		if (name[0] == ooxml_roles[i].name[0] &&
		    strcmp(name, ooxml_roles[i].name) == 0) {
			*put = ooxml_roles[i].put;
			return ooxml_roles[i].flags;
		}
	return 0;
}

/* Pivot caches keep a copy of their source data, even of a sheet since
 * deleted: a definition the distinct values of each field, the records
 * its rows; values are attributes. */
static unsigned
ooxml_pivot_role(void *arg, struct extract_xml *x, size_t depth,
    const char *name, const char **an, const char **av, const char **put)
{
	(void)arg;
	(void)x;
	(void)depth;
	if (strcmp(name, "cacheField") == 0 || strcmp(name, "r") == 0)
		return EXTRACT_XML_ROW;
	if (strcmp(name, "s") == 0 || strcmp(name, "n") == 0 ||
	    strcmp(name, "d") == 0 || strcmp(name, "e") == 0 ||
	    strcmp(name, "b") == 0) {
		*put = extract_xml_attr(an, av, "v");
		return *put != NULL ? EXTRACT_XML_CELL : 0;
	}
	return 0;
}

/* A relationship's target as a member name, lower case (part names are
 * case-insensitive, OPC 9.1.1): relative to the directory of part, or
 * absolute. */
static char *
ooxml_resolve(const char *part, const char *target)
{
	GPtrArray *seg = g_ptr_array_new_with_free_func(g_free);
	GString *s = g_string_new(NULL);
	char **t, *dir;
	size_t i;

	if (target[0] != '/') {
		dir = g_path_get_dirname(part);
		t = g_strsplit(dir, "/", -1);
		for (i = 0; t[i] != NULL; i++)
			if (t[i][0] != '\0' && strcmp(t[i], ".") != 0)
				g_ptr_array_add(seg, g_strdup(t[i]));
		g_strfreev(t);
		g_free(dir);
	}
	t = g_strsplit(target, "/", -1);
	for (i = 0; t[i] != NULL; i++) {
		if (t[i][0] == '\0' || strcmp(t[i], ".") == 0)
			continue;
		if (strcmp(t[i], "..") == 0) {
			if (seg->len > 0)
				g_ptr_array_remove_index(seg, seg->len - 1);
		} else
			g_ptr_array_add(seg, g_strdup(t[i]));
	}
	g_strfreev(t);
	for (i = 0; i < seg->len; i++) {
		if (i > 0)
			g_string_append_c(s, '/');
		g_string_append(s, g_ptr_array_index(seg, i));
	}
	g_ptr_array_free(seg, TRUE);
	dir = g_ascii_strdown(s->str, -1);
	g_string_free(s, TRUE);
	return dir;
}

/* _rels/NAME.rels: the relationships of NAME. */
static unsigned
ooxml_rels_role(void *arg, struct extract_xml *x, size_t depth,
    const char *name, const char **an, const char **av, const char **put)
{
	struct ooxml *o = arg;
	const char *id, *type, *target, *mode, *rels;
	char *part, *to;
	size_t len;

	(void)x;
	(void)depth;
	(void)put;
	if (strcmp(name, "Relationship") != 0)
		return 0;
	id = extract_xml_attr(an, av, "Id");
	type = extract_xml_attr(an, av, "Type");
	target = extract_xml_attr(an, av, "Target");
	mode = extract_xml_attr(an, av, "TargetMode");
	if (id == NULL || target == NULL || (mode != NULL &&
	    g_ascii_strcasecmp(mode, "External") == 0) ||
	    (rels = strstr(o->member, "_rels/")) == NULL)
		return 0;
	len = strlen(rels + 6);
	part = g_strdup_printf("%.*s%.*s", (int)(rels - o->member), o->member,
	    (int)(len > 5 ? len - 5 : 0), rels + 6);
	to = ooxml_resolve(part, target);
	if (type != NULL && g_str_has_suffix(type, "/slide"))
		g_hash_table_replace(o->rels, g_strdup_printf("%s\n#slide",
		    part), g_strdup(to));
	g_hash_table_replace(o->rels, g_strdup_printf("%s\n%s", part, id),
	    to);
	g_free(part);
	return 0;
}

/* r:id: the relationship id, whatever the prefix; sldId also has an
 * "id" of its own, without one. */
static const char *
ooxml_rid(const char **an, const char **av)
{
	size_t i;

	for (i = 0; an[i] != NULL; i++)
		if (strchr(an[i], ':') != NULL &&
		    strcmp(xml_local(an[i]), "id") == 0)
			return av[i];
	return NULL;
}

static unsigned
ooxml_book_role(void *arg, struct extract_xml *x, size_t depth,
    const char *name, const char **an, const char **av, const char **put)
{
	struct ooxml *o = arg;
	const char *sheet, *rid;

	(void)x;
	(void)depth;
	(void)put;
	if (strcmp(name, "sheet") == 0 &&
	    (sheet = extract_xml_attr(an, av, "name")) != NULL &&
	    (rid = ooxml_rid(an, av)) != NULL) {
		g_ptr_array_add(o->sheets, g_strdup(sheet));
		g_ptr_array_add(o->sheets, g_strdup(rid));
	} else if (strcmp(name, "sldId") == 0 &&
	    (rid = ooxml_rid(an, av)) != NULL)
		g_ptr_array_add(o->slides, g_strdup(rid));
	return 0;
}

/* Sheets and slides by the names their users see. */
static void
ooxml_name(struct ooxml *o)
{
	const char *to;
	char *key;
	size_t i;

	for (i = 0; i + 1 < o->sheets->len; i += 2) {
		key = g_strdup_printf("xl/workbook.xml\n%s",
		    (const char *)g_ptr_array_index(o->sheets, i + 1));
		if ((to = g_hash_table_lookup(o->rels, key)) != NULL)
			g_hash_table_replace(o->names, g_strdup(to),
			    g_strdup_printf("sheet \"%s\"",
			    (const char *)g_ptr_array_index(o->sheets, i)));
		g_free(key);
	}
	for (i = 0; i < o->slides->len; i++) {
		key = g_strdup_printf("ppt/presentation.xml\n%s",
		    (const char *)g_ptr_array_index(o->slides, i));
		if ((to = g_hash_table_lookup(o->rels, key)) != NULL)
			g_hash_table_replace(o->names, g_strdup(to),
			    g_strdup_printf("slide %zu", i + 1));
		g_free(key);
	}
	o->named = true;
}

/* The elements of shared strings and worksheets that matter, by local
 * name: one switch per event rather than a chain of strcmp(). */
enum { E_OTHER, E_ROW, E_C, E_V, E_IS, E_T, E_RPH, E_SI };

static inline int
sheet_elem(const char *n)
{
	switch (n[0]) {
	case 'c':
		return n[1] == '\0' ? E_C : E_OTHER;
	case 'i':
		return n[1] == 's' && n[2] == '\0' ? E_IS : E_OTHER;
	case 'r':
		if (n[1] == 'o' && n[2] == 'w' && n[3] == '\0')
			return E_ROW;
		return n[1] == 'P' && n[2] == 'h' && n[3] == '\0' ? E_RPH :
		    E_OTHER;
	case 's':
		return n[1] == 'i' && n[2] == '\0' ? E_SI : E_OTHER;
	case 't':
		return n[1] == '\0' ? E_T : E_OTHER;
	case 'v':
		return n[1] == '\0' ? E_V : E_OTHER;
	default:
		return E_OTHER;
	}
}

/* Where the next shared string starts.  An array of our own: appending
 * to a GArray cost ten times as much, a call into GLib and one to
 * memcpy() per string. */
static void
sst_mark(struct ooxml *o, size_t at)
{
	if (o->sst_n == o->sst_cap) {
		o->sst_cap = o->sst_cap > 0 ? 2 * o->sst_cap : 256;
		o->sst_at = g_renew(size_t, o->sst_at, o->sst_cap);
	}
	o->sst_at[o->sst_n++] = at;
}

/* xl/sharedStrings.xml: <si> strings, rich runs <r><t> joined, without
 * phonetic guides. */
static int
sst_start(void *arg, const char *name, const char **an, const char **av)
{
	struct extract_xml *x = arg;
	struct ooxml *o = x->arg;
	size_t at = o->sst->len;
	int el = sheet_elem(name);

	(void)an;
	(void)av;
	if (el == E_SI) {
		/* "<si/>" is five bytes, its offset eight: counted too. */
		if (o->in_si++ == 0 && extract_take(x->ex, sizeof at,
		    xml_where(x)) != 0)
			x->stop = true;
		else if (o->in_si == 1)
			sst_mark(o, at);
	} else if (el == E_T)
		o->in_t++;
	else if (el == E_RPH)
		o->in_rph++;
	return x->stop ? -1 : 0;
}

static int
sst_end(void *arg, const char *name)
{
	struct extract_xml *x = arg;
	struct ooxml *o = x->arg;
	int el = sheet_elem(name);

	if (el == E_SI && o->in_si > 0)
		o->in_si--;
	else if (el == E_T && o->in_t > 0)
		o->in_t--;
	else if (el == E_RPH && o->in_rph > 0)
		o->in_rph--;
	return x->stop ? -1 : 0;
}

static int
sst_text(void *arg, const char *text, size_t len)
{
	struct extract_xml *x = arg;
	struct ooxml *o = x->arg;

	/* Held until the sheets are read; its bytes were counted against
	 * max_bytes as they were inflated. */
	if (o->in_si > 0 && o->in_t > 0 && o->in_rph == 0) {
		gstr_append(o->sst, text, len);
		/* Shared strings go out in cells only (sheet_cell()): made
		 * what a cell shows once, here, rather than at every use. */
		cell_spaces(o->sst->str + o->sst->len - len, len);
	}
	return x->stop ? -1 : 0;
}

/* xmlscan's shortcut for a plain shared string (see xmlscan.h): its
 * events, in order. */
static int
sst_plain(void *arg, const char *text, size_t len)
{
	static const char *none[] = { NULL };

	if (sst_start(arg, "si", none, none) != 0 ||
	    sst_start(arg, "t", none, none) != 0 ||
	    (len > 0 && sst_text(arg, text, len) != 0) ||
	    sst_end(arg, "t") != 0)
		return -1;
	return sst_end(arg, "si");
}

static const struct xmlscan_ops sst_ops = { sst_start, sst_end, sst_text,
    NULL, sst_plain };

/* A cell begins; t, tlen bytes (NULL, 0: none), is its type. */
static inline void
sheet_cell_open(struct extract_xml *x, struct ooxml *o, const char *t,
    size_t tlen)
{
	xml_cell_begin(x);
	o->in_c = 1;
	o->ctype = tlen == 1 && (t[0] == 's' || t[0] == 'b') ? t[0] : '\0';
	o->val->len = 0;	/* g_string_truncate(), inline */
	o->val->str[0] = '\0';
}

/* A worksheet: <row><c t=TYPE><v>value</v> or <is><t>inline</t></is>
 * </c></row>.  A formula's cached value is its <v>; <f> is left out. */
static int
sheet_start(void *arg, const char *name, const char **an, const char **av)
{
	struct extract_xml *x = arg;
	struct ooxml *o = x->arg;
	const char *t;
	int el = sheet_elem(name);

	if (el == E_ROW)
		xml_row_begin(x);
	else if (el == E_C) {
		t = extract_xml_attr(an, av, "t");
		sheet_cell_open(x, o, t, t != NULL ? strlen(t) : 0);
	} else if (o->in_c == 0)
		return x->stop ? -1 : 0;
	else if (el == E_V)
		o->in_v++;
	else if (el == E_IS)
		o->in_is++;
	else if (el == E_T)
		o->in_t++;
	else if (el == E_RPH)
		o->in_rph++;
	return x->stop ? -1 : 0;
}

/* A shared string's index as g_ascii_strtoull() reads it: plain
 * digits here, anything else (space, sign, overflow) left to it.
 * 1 and *i, or 0 when there is no number. */
static int
sheet_index(const char *v, guint64 *i)
{
	const char *p;
	char *end;

	*i = 0;
	for (p = v; *p >= '0' && *p <= '9' && p - v < 18; p++)
		*i = *i * 10 + (guint64)(*p - '0');
	if (p > v && !(*p >= '0' && *p <= '9'))
		return 1;
	*i = g_ascii_strtoull(v, &end, 10);
	return end != v;
}

static void
sheet_cell(struct extract_xml *x, struct ooxml *o)
{
	const char *v = o->val->str;
	guint64 i;
	size_t from, to;

	if (o->ctype == 's') {
		if (!sheet_index(v, &i) || i >= o->sst_n)
			return;
		from = o->sst_at[i];
		to = i + 1 < o->sst_n ? o->sst_at[i + 1] : o->sst->len;
		/* In a cell, and spaced out already (sst_text()). */
		gstr_append(x->out, o->sst->str + from, to - from);
	} else if (o->ctype == 'b')
		xml_put(x, v[0] == '1' ? "TRUE" : "FALSE", v[0] == '1' ? 4 :
		    5);
	else
		xml_put(x, v, o->val->len);
}

/* The cell ends: its value out, if it has one. */
static inline void
sheet_cell_close(struct extract_xml *x, struct ooxml *o)
{
	if (o->val->len > 0)
		sheet_cell(x, o);
	xml_cell_end(x);
	o->in_c = o->in_v = o->in_is = o->in_t = o->in_rph = 0;
}

static int
sheet_end(void *arg, const char *name)
{
	struct extract_xml *x = arg;
	struct ooxml *o = x->arg;
	int el = sheet_elem(name);

	if (el == E_ROW)
		xml_row_end(x);
	else if (el == E_C)
		sheet_cell_close(x, o);
	else if (o->in_c == 0)
		return x->stop ? -1 : 0;
	else if (el == E_V && o->in_v > 0)
		o->in_v--;
	else if (el == E_IS && o->in_is > 0)
		o->in_is--;
	else if (el == E_T && o->in_t > 0)
		o->in_t--;
	else if (el == E_RPH && o->in_rph > 0)
		o->in_rph--;
	return x->stop ? -1 : 0;
}

static int
sheet_text(void *arg, const char *text, size_t len)
{
	struct extract_xml *x = arg;
	struct ooxml *o = x->arg;

	if (o->in_c > 0 && (o->in_v > 0 || (o->in_is > 0 && o->in_t > 0 &&
	    o->in_rph == 0)))
		gstr_append(o->val, text, len);
	return x->stop ? -1 : 0;
}

/* xmlscan's shortcut for a plain cell (see xmlscan.h): what
 * sheet_start(), sheet_text() and sheet_end() do for its events. */
static int
sheet_cell_plain(void *arg, const char *t, size_t tlen, const char *v,
    size_t vlen)
{
	struct extract_xml *x = arg;
	struct ooxml *o = x->arg;

	sheet_cell_open(x, o, t, tlen);
	if (vlen > 0)		/* v is NULL for <c .../> */
		gstr_append(o->val, v, vlen);
	sheet_cell_close(x, o);
	return x->stop ? -1 : 0;
}

static const struct xmlscan_ops sheet_ops = { sheet_start, sheet_end,
    sheet_text, sheet_cell_plain, NULL };

/* dir + stem + digits + ".xml", no deeper directory: 1 and the number
 * (0 when none). */
static bool
ooxml_is(const char *m, const char *dir, const char *stem, unsigned *num)
{
	size_t dl = strlen(dir), sl = strlen(stem);
	const char *rest = m + dl;

	*num = 0;
	if (strncmp(m, dir, dl) != 0 || strchr(rest, '/') != NULL ||
	    strncmp(rest, stem, sl) != 0 || !g_str_has_suffix(rest, ".xml"))
		return false;
	for (rest += sl; g_ascii_isdigit(*rest); rest++)
		*num = *num * 10 + (unsigned)(*rest - '0');
	return true;
}

static const char *
ooxml_type(const char *m)
{
	if (strncmp(m, "xl/", 3) == 0)
		return T_SHEET;
	if (strncmp(m, "word/", 5) == 0)
		return T_DOC;
	if (strncmp(m, "ppt/", 4) == 0)
		return T_SLIDES;
	return NULL;
}

/* "header 2", or "header" when the part has no number. */
static char *
ooxml_numbered(const char *what, unsigned num)
{
	return num > 0 ? g_strdup_printf("%s %u", what, num) : g_strdup(what);
}

/* The first pass reads what names things and the shared strings. */
static bool
ooxml_meta(struct ooxml *o, const char *m, struct part *p)
{
	p->ops = &flow_ops;
	p->arg = o;
	if (strcmp(m, "xl/sharedstrings.xml") == 0)
		p->ops = &sst_ops;
	else if (strcmp(m, "xl/workbook.xml") == 0 ||
	    strcmp(m, "ppt/presentation.xml") == 0)
		p->role = ooxml_book_role;
	else if (strcmp(m, "xl/_rels/workbook.xml.rels") == 0 ||
	    strcmp(m, "ppt/_rels/presentation.xml.rels") == 0 ||
	    (strncmp(m, "ppt/notesslides/_rels/", 22) == 0 &&
	    g_str_has_suffix(m, ".rels")))
		p->role = ooxml_rels_role;
	else
		return false;
	return true;
}

static bool
ooxml_content(struct ooxml *o, const char *m, struct part *p)
{
	static const char *const dirs[] = { "xl/", "word/", "ppt/" };
	const char *slide;
	char *key;
	unsigned num;
	size_t i;

	p->ops = &flow_ops;
	p->role = ooxml_role;
	p->arg = o;
	p->type = ooxml_type(m);
	if (ooxml_is(m, "xl/worksheets/", "", &num)) {
		p->ops = &sheet_ops;
		p->source = g_strdup(g_hash_table_lookup(o->names, m));
		if (p->source == NULL)
			p->source = ooxml_numbered("sheet", num);
	} else if (strcmp(m, "word/document.xml") == 0)
		p->source = g_strdup("document");
	else if (ooxml_is(m, "word/", "header", &num))
		p->source = ooxml_numbered("header", num);
	else if (ooxml_is(m, "word/", "footer", &num))
		p->source = ooxml_numbered("footer", num);
	else if (strcmp(m, "word/footnotes.xml") == 0)
		p->source = g_strdup("footnotes");
	else if (strcmp(m, "word/endnotes.xml") == 0)
		p->source = g_strdup("endnotes");
	else if (strcmp(m, "word/comments.xml") == 0 ||
	    ooxml_is(m, "xl/", "comments", &num) ||
	    ooxml_is(m, "xl/threadedcomments/", "", &num) ||
	    ooxml_is(m, "ppt/comments/", "", &num))
		p->source = g_strdup("comments");
	else if (ooxml_is(m, "ppt/slides/", "slide", &num)) {
		p->source = g_strdup(g_hash_table_lookup(o->names, m));
		if (p->source == NULL)
			p->source = ooxml_numbered("slide", num);
	} else if (ooxml_is(m, "ppt/notesslides/", "notesslide", &num)) {
		key = g_strdup_printf("%s\n#slide", m);
		if ((slide = g_hash_table_lookup(o->rels, key)) != NULL &&
		    (slide = g_hash_table_lookup(o->names, slide)) != NULL)
			p->source = g_strdup_printf("%s notes", slide);
		else
			p->source = ooxml_numbered("notes", num);
		g_free(key);
	} else if (ooxml_is(m, "xl/drawings/", "drawing", &num))
		p->source = ooxml_numbered("drawing", num);
	else if (ooxml_is(m, "xl/externallinks/", "externallink", &num))
		p->source = ooxml_numbered("external link", num);
	else if (ooxml_is(m, "xl/pivotcache/", "pivotcachedefinition", &num) ||
	    ooxml_is(m, "xl/pivotcache/", "pivotcacherecords", &num)) {
		p->role = ooxml_pivot_role;
		p->source = ooxml_numbered("pivot cache", num);
	}
	else {
		for (i = 0; i < G_N_ELEMENTS(dirs); i++) {
			if (strncmp(m, dirs[i], strlen(dirs[i])) != 0)
				continue;
			key = g_strconcat(dirs[i], "charts/", NULL);
			if (ooxml_is(m, key, "chart", &num))
				p->source = ooxml_numbered("chart", num);
			g_free(key);
			key = g_strconcat(dirs[i], "diagrams/", NULL);
			if (ooxml_is(m, key, "data", &num))
				p->source = ooxml_numbered("diagram", num);
			g_free(key);
			key = g_strconcat(dirs[i], "embeddings/", NULL);
			if (g_str_has_prefix(m, key) &&
			    !g_str_has_suffix(m, "/")) {
				p->ops = NULL;	/* a file in the file */
				g_free(key);
				return true;
			}
			g_free(key);
		}
	}
	return p->source != NULL;
}

static bool
ooxml_choose(void *arg, unsigned pass, const char *member, struct part *p)
{
	struct ooxml *o = arg;

	g_free(o->member);
	o->member = g_ascii_strdown(member, -1);
	if (pass == 0)
		return ooxml_meta(o, o->member, p);
	if (!o->named)
		ooxml_name(o);
	return ooxml_content(o, o->member, p);
}

int
extract_ooxml(struct extract *ex, const struct extract_file *f)
{
	struct ooxml o;
	int rc;

	memset(&o, 0, sizeof o);
	o.sst = g_string_new(NULL);
	o.rels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	o.names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	o.sheets = g_ptr_array_new_with_free_func(g_free);
	o.slides = g_ptr_array_new_with_free_func(g_free);
	o.val = g_string_new(NULL);
	/* Pass 0: names and shared strings; pass 1: the text. */
	rc = zip_run(ex, f, 2, ooxml_choose, &o);
	g_string_free(o.sst, TRUE);
	g_free(o.sst_at);
	g_hash_table_destroy(o.rels);
	g_hash_table_destroy(o.names);
	g_ptr_array_free(o.sheets, TRUE);
	g_ptr_array_free(o.slides, TRUE);
	g_string_free(o.val, TRUE);
	g_free(o.member);
	if (rc < 0 || ex->oom)
		return -1;
	/* No part custos reads (.xlsb, .vsdx): the caller keeps it opaque. */
	return rc > 0 ? 1 : 0;
}
