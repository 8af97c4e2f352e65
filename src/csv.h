/* csv.h - read a customer list: RFC 4180 CSV, streaming.
 *
 * Quoted fields with embedded commas, quotes ("") and line breaks; CRLF
 * or LF; a UTF-8 byte-order mark is skipped; encoding "gbk" (read as
 * GB18030, its superset) or any iconv name is converted to UTF-8 on the
 * way in.  Rows are returned one at a time, so a 10-million-row list
 * needs no more memory than its longest row.
 *
 * A malformed row (a quote in an unquoted field, text after a closing
 * quote, an unterminated quote at end of file, a row over the length
 * limit, bytes invalid in the encoding) is reported with its line number
 * and skipped; reading goes on with the next row.
 *
 * Owns its buffers; the fields returned stay valid until the next call.
 * Not thread-safe; one reader per file. */
#ifndef CUSTOS_CSV_H
#define CUSTOS_CSV_H

#include <stddef.h>

#define CSV_MAX_ROW	(1 << 20)	/* bytes in one row */
#define CSV_MAX_FIELDS	1024

struct csv_reader;

/* Opens path ("-" is not allowed).  encoding: NULL or "utf-8" for UTF-8,
 * else an iconv name ("gbk" is read as GB18030).  NULL with err. */
struct csv_reader *csv_open(const char *path, const char *encoding,
		    char *err, size_t errlen);
struct csv_reader *csv_close(struct csv_reader *);	/* NULL-safe */

/* Reads the next row.  Returns 1 with *fields (NUL-terminated UTF-8
 * strings, each *lens[i] bytes) and *n set, and *line the line the row
 * starts on; 0 at end of file; -1 for a malformed row (err: "line N:
 * why"), after which reading may go on; -2 for an I/O error (final). */
int	csv_next(struct csv_reader *, char ***fields, size_t **lens,
	    size_t *n, size_t *line, char *err, size_t errlen);

/* Bytes of the file read so far (for progress). */
size_t	csv_offset(const struct csv_reader *);

#endif
