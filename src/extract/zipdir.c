/* zipdir.c - where a zip's plain members lie, from its central
 * directory (see zipdir.h).
 *
 * Only the classic end record and directory (APPNOTE 4.3.12, 4.3.16):
 * no zip64, one disk, nothing before the first member.  Every offset
 * and size is checked against the file before it is used; a member is
 * kept only when its local header agrees with its directory entry
 * (name, flags, method, and sizes unless a data descriptor has them). */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "extract/zipdir.h"

#define EOCD_SIG	0x06054b50u
#define EOCD_LEN	22
#define EOCD64_LOC_SIG	0x07064b50u
#define EOCD64_LOC_LEN	20
#define CDIR_SIG	0x02014b50u
#define CDIR_LEN	46
#define LOCAL_SIG	0x04034b50u
#define LOCAL_LEN	30
#define COMMENT_MAX	65535

#define FLAG_ENCRYPTED	0x0001u
#define FLAG_SIZES_AFTER 0x0008u	/* sizes in a data descriptor */
#define FLAG_STRONG	0x0040u

struct zipdir {
	GHashTable	*members;	/* name -> struct zipdir_member */
};

static unsigned
le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* The end of central directory record: its offset, or -1. */
static long long
eocd_find(const unsigned char *f, size_t len)
{
	size_t at, low;

	if (len < EOCD_LEN)
		return -1;
	low = len - EOCD_LEN > COMMENT_MAX ? len - EOCD_LEN - COMMENT_MAX : 0;
	for (at = len - EOCD_LEN + 1; at-- > low;)
		if (le32(f + at) == EOCD_SIG &&
		    at + EOCD_LEN + le16(f + at + 20) <= len)
			return (long long)at;
	return -1;
}

/* Names as an office package's are: ASCII without NUL or backslash.
 * libarchive may convert any other (a code page, a backslash for a
 * slash) into one that another member goes by, and this could not tell
 * which of the two it is at. */
static bool
plain_name(const unsigned char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] == 0 || p[i] > 0x7f || p[i] == '\\')
			return false;
	return true;
}

/* The local header of the directory entry at e, when it and its name
 * lie before cdir; NULL otherwise. */
static const unsigned char *
local_header(const unsigned char *f, size_t cdir, const unsigned char *e)
{
	uint32_t off = le32(e + 42);
	const unsigned char *l;

	if ((size_t)off > cdir || cdir - off < LOCAL_LEN)
		return NULL;
	l = f + off;
	if (le32(l) != LOCAL_SIG || cdir - off - LOCAL_LEN < le16(l + 26))
		return NULL;
	return l;
}

/* The member of the directory entry at e (CDIR_LEN bytes and its name
 * checked to lie in the directory), placed in the file before cdir, or
 * false. */
static bool
member_place(const unsigned char *f, size_t cdir, const unsigned char *e,
    struct zipdir_member *m)
{
	unsigned flags = le16(e + 8), method = le16(e + 10);
	size_t n = le16(e + 28);
	uint32_t csize = le32(e + 20), usize = le32(e + 24);
	const unsigned char *l;
	size_t data;

	if ((flags & (FLAG_ENCRYPTED | FLAG_STRONG)) != 0 ||
	    (method != 0 && method != 8) || csize == UINT32_MAX ||
	    usize == UINT32_MAX || le32(e + 42) == UINT32_MAX ||
	    (method == 0 && csize != usize) || le16(e + 34) != 0)
		return false;
	if ((l = local_header(f, cdir, e)) == NULL ||
	    le16(l + 6) != flags || le16(l + 8) != method ||
	    le16(l + 26) != n)
		return false;
	/* libarchive reads a member by its local header's sizes unless
	 * they come after the data: they must be the directory's. */
	if ((flags & FLAG_SIZES_AFTER) == 0 &&
	    (le32(l + 18) != csize || le32(l + 22) != usize))
		return false;
	data = (size_t)(l - f) + LOCAL_LEN + n + le16(l + 28);
	if (data > cdir || cdir - data < csize ||
	    memcmp(l + LOCAL_LEN, e + CDIR_LEN, n) != 0)
		return false;
	m->data = f + data;
	m->csize = csize;
	m->usize = usize;
	m->method = method;
	return true;
}

static void
name_count(GHashTable *seen, const unsigned char *p, size_t n)
{
	char *name = g_strndup((const char *)p, n);

	g_hash_table_replace(seen, name, GUINT_TO_POINTER(
	    GPOINTER_TO_UINT(g_hash_table_lookup(seen, name)) + 1));
}

struct zipdir *
zipdir_read(const unsigned char *f, size_t len, size_t max_members)
{
	struct zipdir *d;
	struct zipdir_member m, *keep;
	GHashTable *seen;
	const unsigned char *eocd, *e, *end, *ln;
	long long at;
	size_t count, cdir, csize, i, n, entries, lnn;
	bool odd = false;
	char *name;

	if ((at = eocd_find(f, len)) < 0)
		return NULL;
	eocd = f + at;
	/* zip64 (a locator before the record), several disks, sizes that
	 * do not meet the record: libarchive's. */
	if ((at >= EOCD64_LOC_LEN &&
	    le32(eocd - EOCD64_LOC_LEN) == EOCD64_LOC_SIG) ||
	    le16(eocd + 4) != 0 || le16(eocd + 6) != 0 ||
	    le16(eocd + 8) != le16(eocd + 10))
		return NULL;
	count = le16(eocd + 10);
	csize = le32(eocd + 12);
	cdir = le32(eocd + 16);
	if (count > max_members || cdir > (size_t)at ||
	    (size_t)at - cdir != csize)
		return NULL;

	/* Every name an entry goes by, in the directory or in its local
	 * header: libarchive may name a member by either, so a member is
	 * placed only under a name nothing else goes by.  One name that is
	 * not plain, and none is placed. */
	seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	end = eocd;
	for (e = f + cdir, entries = 0; entries < count && !odd; entries++) {
		if (end - e < CDIR_LEN || le32(e) != CDIR_SIG)
			break;
		n = le16(e + 28);
		if ((size_t)(end - e) - CDIR_LEN < n + le16(e + 30) +
		    le16(e + 32))
			break;
		name_count(seen, e + CDIR_LEN, n);
		/* the name in its local header, when that can be read */
		lnn = 0;
		if ((ln = local_header(f, cdir, e)) != NULL) {
			lnn = le16(ln + 26);
			ln += LOCAL_LEN;
		}
		if (lnn > 0 && (lnn != n || memcmp(ln, e + CDIR_LEN, n) != 0))
			name_count(seen, ln, lnn);
		odd = !plain_name(e + CDIR_LEN, n) ||
		    (lnn > 0 && !plain_name(ln, lnn));
		e += CDIR_LEN + n + le16(e + 30) + le16(e + 32);
	}
	if (odd) {
		g_hash_table_destroy(seen);
		return NULL;
	}

	d = g_new0(struct zipdir, 1);
	d->members = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	for (e = f + cdir, i = 0; i < entries; i++) {
		n = le16(e + 28);
		name = g_strndup((const char *)e + CDIR_LEN, n);
		if (GPOINTER_TO_UINT(g_hash_table_lookup(seen, name)) == 1 &&
		    member_place(f, cdir, e, &m)) {
			keep = g_new(struct zipdir_member, 1);
			*keep = m;
			g_hash_table_insert(d->members, name, keep);
		} else
			g_free(name);
		e += CDIR_LEN + n + le16(e + 30) + le16(e + 32);
	}
	g_hash_table_destroy(seen);
	return d;
}

const struct zipdir_member *
zipdir_find(const struct zipdir *d, const char *name)
{
	return d != NULL ? g_hash_table_lookup(d->members, name) : NULL;
}

struct zipdir *
zipdir_free(struct zipdir *d)
{
	if (d == NULL)
		return NULL;
	g_hash_table_destroy(d->members);
	g_free(d);
	return NULL;
}
