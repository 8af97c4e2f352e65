/* zipdir.h - a zip file's central directory, read to inflate its plain
 * members at once with libdeflate (ooxml.c).
 *
 * libarchive walks a zip and reports on it (damage, encryption, members
 * out of bounds); what it cannot do is hand over a member's compressed
 * bytes, and zlib's inflate behind it was a third of reading an .xlsx.
 * This reads the central directory for one thing: where a member's
 * deflated or stored bytes lie, for the members it can say so of
 * plainly.  Anything else (zip64, encryption, another method, a name
 * that another entry also goes by, in the directory or in its local
 * header, offsets or sizes outside the file, a local header that does
 * not match) leaves the member out, and it is read the usual way; a
 * name anywhere in the zip that is not plain ASCII, or has a backslash,
 * leaves them all out.
 *
 * Points into the file's bytes, which must outlive it.  Memory: an
 * entry per member, at most max_members. */
#ifndef CUSTOS_ZIPDIR_H
#define CUSTOS_ZIPDIR_H

#include <stddef.h>
#include <stdint.h>

struct zipdir;

struct zipdir_member {
	const unsigned char	*data;	/* compressed bytes, csize of them */
	size_t			 csize, usize;
	unsigned		 method;	/* 0 stored, 8 deflated */
};

/* NULL when the file has no central directory this reads, more than
 * max_members entries, or a name that is not plain. */
struct zipdir	*zipdir_read(const unsigned char *file, size_t len,
		    size_t max_members);
/* The member of that name, or NULL when it is not one this can place. */
const struct zipdir_member *zipdir_find(const struct zipdir *,
		    const char *name);
struct zipdir	*zipdir_free(struct zipdir *);	/* NULL-safe */

#endif
