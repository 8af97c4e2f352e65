/* textseg.h - the text of one message, cut into segments.
 *
 * A segment is UTF-8 text plus where it came from: "header Subject",
 * "body text/plain", "attachment \"q3.csv\"", "attachment name", with the
 * path through nested messages before it ("attachment \"fwd.eml\" > body
 * text/html").  Parts whose text custos cannot read (yet) are opaque
 * segments: name, declared and sniffed type, size, no text.
 *
 * An unscannable note says that something was not (fully) read and why
 * ("too-large", "depth", "parts", "header-size", "text-size", "time",
 * "parse"), with where it happened.  Policy decides what that means.
 *
 * Owns every string it holds.  Not thread-safe; one per message.
 * Errors: allocation failure returns -1 and leaves the set unchanged. */
#ifndef CUSTOS_TEXTSEG_H
#define CUSTOS_TEXTSEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct segment {
	char	*source;	/* where it came from, see above */
	char	*charset;	/* declared charset, or NULL */
	char	*encoding;	/* Content-Transfer-Encoding, or NULL */
	char	*mime_type;	/* declared type, "text/plain"; NULL for headers */
	char	*sniffed_type;	/* type by content, for opaque parts; else NULL */
	char	*filename;	/* decoded file name, or NULL */
	char	*text;		/* UTF-8, NUL-terminated; NULL when opaque */
	size_t	 text_len;	/* bytes of text, without the NUL */
	size_t	 raw_len;	/* bytes after transfer decoding */
	/* Set when the text is one a file read before gave again
	 * (extract/xcache.c): the same key, the same text, so its scan
	 * may be kept (scanlog.h). */
	bool	 keyed;
	uint8_t	 text_key[16];
};

struct unscannable {
	char	*reason;	/* short keyword: "too-large", "depth", ... */
	char	*where;		/* "message", or a segment-style path */
};

struct textseg {
	struct segment		*seg;
	size_t			 nseg, segcap;
	struct unscannable	*uns;
	size_t			 nuns, unscap;
	size_t			 text_bytes;	/* sum of text_len */
};

struct textseg	*textseg_new(void);
struct textseg	*textseg_free(struct textseg *);	/* NULL-safe, returns NULL */

/* Appends a segment; copies every string (NULL stays NULL) and the text
 * (len bytes, need not be NUL-terminated; text NULL means opaque).
 * Returns the new segment, or NULL when out of memory. */
struct segment	*textseg_add(struct textseg *, const char *source,
		    const char *mime_type, const char *charset,
		    const char *encoding, const char *text, size_t len);
/* The same, taking text instead of copying it: a malloc'd buffer of at
 * least len + 1 bytes (a NUL is written at len), the segment's from
 * then on; freed when NULL is returned.  For text made just for the
 * segment (converted to UTF-8, HTML made text): one copy less of every
 * body. */
struct segment	*textseg_add_owned(struct textseg *, const char *source,
		    const char *mime_type, const char *charset,
		    const char *encoding, char *text, size_t len);

/* Sets a string field of a segment to a copy of val.  Returns 0 or -1. */
int		 textseg_set(char **field, const char *val);

/* Records that something was not scanned.  Returns 0 or -1. */
int		 textseg_unscannable(struct textseg *, const char *reason,
		    const char *where);

/* 1 if an unscannable note with this reason exists, else 0. */
int		 textseg_has_unscannable(const struct textseg *, const char *reason);

/* Whether two extractions are the same: every segment (its strings,
 * text and decoded size) and every note, in order; whether a text came
 * from the attachment cache is not compared.  For the tests and fuzzers
 * that parse one message two ways. */
bool		 textseg_same(const struct textseg *, const struct textseg *);

#endif
