/* message.h - parse a raw RFC 5322 message with GMime and cut it into
 * text segments (textseg.h).
 *
 * Walks every part once: nested multiparts, attached message/rfc822
 * (recursively, its headers and parts prefixed with the attachment's
 * path).  Text parts are transfer-decoded and converted to UTF-8
 * (charset.h); HTML becomes text (html.h); header values are RFC
 * 2047-decoded and file names RFC 2231-decoded.  Other parts go to the
 * extractors (extract/extract.h: archives, office documents, PDF, ...),
 * by their content; what no extractor reads is an opaque segment.
 *
 * Limits stop a branch and add an unscannable note; they never fail the
 * message.  Only out-of-memory and similar internal errors fail.
 * Segment sources and unscannable reasons are listed in message.c.
 * Input GMime cannot parse, or nested too deep to hand to it, is kept as
 * one "body raw" segment with a "parse" or "parts" note.
 *
 * Thread-safe once message_init() has run (GMime must be initialised
 * once per process). */
#ifndef CUSTOS_MESSAGE_H
#define CUSTOS_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <gmime/gmime.h>

#include "extract/extract.h"
#include "textseg.h"

struct xcache;

struct message_limits {
	size_t	max_depth;	/* nesting of multiparts and messages */
	size_t	max_parts;	/* MIME parts in the whole message */
	size_t	max_header_bytes; /* one part's header block */
	size_t	max_text_bytes;	/* decoded text kept for the message */
	double	max_seconds;	/* wall time for the walk; 0 = none */
	struct extract_limits extract;	/* attachments (extract.h) */
	size_t	cache_bytes;	/* limits { extract_cache } */
	struct xcache	*cache;		/* attachments read before (xcache.h),
					   shared; NULL: none */
};

/* Defaults used when the config says nothing (and by tests). */
void		 message_limits_default(struct message_limits *);

/* Initialises GMime for the process.  Call once, before threads. */
void		 message_init(void);
void		 message_shutdown(void);

/* Parses the message in stream, whose bytes are raw[0..len) (the
 * caller has them in place: spool_stream gives both, so nothing is
 * copied), and appends segments and unscannable notes to out.  The
 * stream is read from the start and not closed.  Returns 0, or -1 with
 * text in err on an internal error (out may then hold a part of the
 * segments). */
int		 message_extract(GMimeStream *stream, const char *raw,
		    size_t len, const struct message_limits *,
		    struct textseg *out, char *err, size_t errlen);

/* The same over a buffer (copied into a GMime memory stream). */
int		 message_extract_buffer(const char *raw, size_t len,
		    const struct message_limits *, struct textseg *out,
		    char *err, size_t errlen);

/* For tests and fuzzers: whether the header fields the walk never
 * reads are left out of GMime's parse (on unless turned off), which
 * must change nothing but the cost.  Returns the previous setting; not
 * for use while messages are parsed. */
bool		 message_skip_unread_fields(bool on);

#endif
