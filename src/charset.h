/* charset.h - convert bytes in a declared (or guessed) charset to UTF-8.
 *
 * Order of trust, documented in doc/architecture.md:
 *   1. a byte-order mark (UTF-8, UTF-16LE/BE, UTF-32LE/BE) wins;
 *   2. the declared charset, widened to its superset (GB2312 and GBK to
 *      GB18030, ISO-8859-1 and US-ASCII to windows-1252, Big5 to
 *      Big5-HKSCS where iconv has it);
 *   3. no or an unknown charset: valid UTF-8 as is, else GB18030 when the
 *      bytes decode cleanly as GB18030, else windows-1252.
 * Bytes that do not decode become U+FFFD and conversion goes on: a wrong
 * label never aborts a message.
 *
 * Thread-safe.  Errors: -1 only when out of memory. */
#ifndef CUSTOS_CHARSET_H
#define CUSTOS_CHARSET_H

#include <stddef.h>

/* Converts in[0..len) to UTF-8.  On success *out is a malloc'd,
 * NUL-terminated string the caller frees, *outlen its length, and
 * *used (if not NULL) the charset actually used (a static string).
 * max_out caps the output (0 = no cap): conversion stops there and
 * *truncated (if not NULL) is set to 1. */
int	charset_to_utf8(const char *in, size_t len, const char *declared,
	    size_t max_out, char **out, size_t *outlen, const char **used,
	    int *truncated);

#endif
