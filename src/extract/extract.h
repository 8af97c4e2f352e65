/* extract.h - the text inside attachments: archives and compressed
 * files, office documents (OOXML, OpenDocument, legacy OLE2), PDF, RTF,
 * plain text in any charset, HTML, attached messages.
 *
 * message.c hands every attachment that is not plain text to
 * extract_file(), which reads it by its content (never by its name or
 * declared type) and calls the extractor of its format; containers hand
 * each member back to extract_file() one level deeper.  Extractors give
 * their text to the sink (message.c's walk: the same segments, text
 * budget and unscannable notes as message bodies), with a source path
 * that says where it was:
 *     attachment "export.zip" > 2024/客户.xlsx > sheet "客户" 
 *
 * Limits (struct extract_limits, from custos.conf `extract { }`): each
 * one hit stops that branch and adds an unscannable note
 *     depth       containers nested deeper than max_depth
 *     members     more than max_members entries in one archive
 *     extract-size  more than max_bytes extracted for the whole message
 *     ratio       a member that expands more than max_ratio times
 *     xml-depth   XML (or RTF groups) nested deeper than max_xml_depth
 *     pdf-pages   a PDF longer than max_pdf_pages (the first pages are read)
 *     time        the message's time budget is spent, or the PDF
 *                 helper's (pdf_seconds)
 *     encrypted   a password-protected member, PDF or OOXML file
 *     damaged     a file of a known format that cannot be read
 *     unsupported a format custos reads only with a helper that is
 *                 missing (pdftotext not installed)
 *     type-mismatch  a file whose name says another type than its bytes
 *                 (a finding, not a failure: the file is read as what
 *                 it is)
 * with `where` the path of the file.  Text already extracted stays.
 * Memory stays bounded: at most max_bytes of extracted data is held for
 * a message, plus one member being read.
 *
 * Thread-safe for distinct struct extract.  Errors: -1 only when out of
 * memory (the caller fails the message); everything about the input is
 * a note. */
#ifndef CUSTOS_EXTRACT_H
#define CUSTOS_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct extract_limits {
	size_t		 max_depth;	/* containers inside containers */
	size_t		 max_members;	/* entries per archive */
	size_t		 max_bytes;	/* extracted per message, in all */
	unsigned	 max_ratio;	/* uncompressed / compressed, a member */
	size_t		 max_xml_depth;
	unsigned	 max_pdf_pages;
	unsigned	 pdf_seconds;	/* CPU seconds of the PDF helper */
	size_t		 pdf_memory;	/* its address space, bytes */
	const char	*pdftotext;	/* the helper program */
};

/* Fills in the defaults (also custos.conf's): depth 5, members 10000,
 * bytes 100M, ratio 200, xml depth 256, 500 PDF pages, 10 s, 512M,
 * /usr/bin/pdftotext. */
void	extract_limits_default(struct extract_limits *);

/* Where results go (message.c implements it). */
struct extract_sink {
	/* UTF-8 text found at source, of declared/sniffed type (may be
	 * NULL).  0 added, 1 the text budget is spent (nothing more will
	 * be taken: stop), -1 out of memory. */
	int	(*text)(void *arg, const char *source, const char *type,
		    const char *text, size_t len);
	/* An unscannable note.  0 or -1 (out of memory). */
	int	(*note)(void *arg, const char *reason, const char *where);
	/* An RFC 5322 message found in a container (an .eml in a zip):
	 * walked like an attached message, its sources prefixed with
	 * prefix.  0 or -1 (out of memory). */
	int	(*message)(void *arg, const char *prefix,
		    const unsigned char *data, size_t len);
	/* True when the message's time budget is spent. */
	bool	(*expired)(void *arg);
	void	*arg;
};

/* One extraction: what a message's attachments share. */
struct extract {
	const struct extract_limits	*lim;
	const struct extract_sink	*sink;
	size_t				 bytes_used;	/* of max_bytes */
	bool				 stop;	/* budget or time: no more */
	bool				 oom;
	/* While extract/xcache.c gives a kept text again: its key (16
	 * bytes), for the sink to pass on (textseg.h); else NULL. */
	const uint8_t			*text_key;
};

void	extract_init(struct extract *, const struct extract_limits *,
	    const struct extract_sink *);

/* A file found in a MIME part or inside a container. */
struct extract_file {
	const char		*where;	/* its path, the source prefix */
	const char		*name;	/* its file name, or NULL */
	const unsigned char	*data;
	size_t			 len;
	size_t			 depth;	/* containers above it (0: a part) */
};

/* Reads f by its content.  1 when it is a format custos reads (text or
 * notes were given to the sink), 0 when it is not (the caller keeps it
 * opaque), -1 out of memory. */
int	extract_file(struct extract *, const struct extract_file *);

/* The type extract_file() would read f as ("zip", "ooxml", "odf",
 * "ole2", "pdf", "rtf", "text", "html", "message", "gzip", ...), or
 * NULL: for tests and `custos scan` reports. */
const char *extract_kind(const unsigned char *data, size_t len,
	    const char *name);

/* ---- for extractors (extract.c) */

/* Gives text to the sink.  0, 1 budget spent (ex->stop is set), -1. */
int	extract_text(struct extract *, const char *source, const char *type,
	    const char *text, size_t len);
/* Text in an unknown or given charset (BOM, UTF-16, GBK guessed as
 * charset.h does).  Same returns. */
int	extract_text_bytes(struct extract *, const char *source,
	    const char *type, const char *charset, const void *bytes,
	    size_t len);
/* A note.  0 or -1. */
int	extract_note(struct extract *, const char *reason, const char *where);
/* Counts n more extracted bytes against max_bytes.  0 when they fit;
 * -1 when not: the note "extract-size" is added once and ex->stop set. */
int	extract_take(struct extract *, size_t n, const char *where);
/* True (and ex->stop set, the note "time" added once) when the time
 * budget is spent or ex->stop is set already. */
bool	extract_stopped(struct extract *, const char *where);
/* "where > name", the child's path (g_free). */
char	*extract_path(const char *where, const char *name);

/* ---- the extractors, each in its own file; called by extract_file
 * with f already typed.  Same returns as extract_file. */
int	extract_archive(struct extract *, const struct extract_file *);
int	extract_ooxml(struct extract *, const struct extract_file *);
int	extract_odf(struct extract *, const struct extract_file *);
int	extract_ole2(struct extract *, const struct extract_file *);
int	extract_pdf(struct extract *, const struct extract_file *);
int	extract_rtf(struct extract *, const struct extract_file *);

/* ---- zipped XML documents: OOXML's reader (ooxml.c), which odf.c
 * shares.  An element is matched by its local name (prefix dropped). */
struct extract_xml;			/* one XML part being read */
#define EXTRACT_XML_TEXT	0x01	/* its character data is text */
#define EXTRACT_XML_LINE	0x02	/* ends a line (in a cell: a space) */
#define EXTRACT_XML_CELL	0x04	/* a row's cells share a line, tabbed */
#define EXTRACT_XML_ROW		0x08
#define EXTRACT_XML_SKIP	0x10	/* nothing inside is text */
/* What element name at depth (1: the root) is to the text: EXTRACT_XML_*
 * flags; *put, when set, is text it stands for.  May switch sources. */
typedef unsigned (*extract_xml_fn)(void *arg, struct extract_xml *,
	    size_t depth, const char *name, const char **attr_names,
	    const char **attr_values, const char **put);
/* Whether to read member in pass (0 .. passes - 1): its role function,
 * its source name and text type (*source g_malloc'd, may stay NULL: no
 * text), or NULL to skip it. */
typedef extract_xml_fn (*extract_member_fn)(void *arg, unsigned pass,
	    const char *member, char **source, const char **type);
/* Reads zip f's members the passes over it choose; budget, limits and
 * notes as for archives.  How many parts with a source were read or
 * noted (0: nothing custos reads), or -1 out of memory. */
int	extract_zipxml(struct extract *, const struct extract_file *,
	    unsigned passes, extract_member_fn, void *arg);
/* Zip members that the central directory places plainly are inflated
 * at once by libdeflate (zipdir.h), the rest through libarchive; false
 * sends them all through libarchive, for tests that compare the two.
 * Set before any thread extracts. */
extern bool extract_zip_fast;
/* Text from here on goes to "f->where > source". */
void	extract_xml_source(struct extract_xml *, const char *source,
	    const char *type);
/* The value of the attribute of that local name, or NULL.  Inline: it
 * runs for every cell of a sheet (its t), where a call cost as much as
 * the lookup.  The local name is what follows the last ':', so it
 * matches when the name ends with it right after a ':' or the start;
 * one pass to each name's end, then its last bytes compared. */
static inline const char *
extract_xml_attr(const char **names, const char **values, const char *name)
{
	const char *p, *q, *e;
	size_t i, n;

	for (n = 0; name[n] != '\0'; n++)
		if (name[n] == ':')
			return NULL;	/* no local name has one */
	for (i = 0; names[i] != NULL; i++) {
		for (e = names[i]; *e != '\0'; e++)
			;
		if ((size_t)(e - names[i]) < n)
			continue;
		p = e - n;
		if (p != names[i] && p[-1] != ':')
			continue;
		for (q = name; *q != '\0' && *p == *q; p++, q++)
			;
		if (*q == '\0')
			return values[i];
	}
	return NULL;
}

#endif
