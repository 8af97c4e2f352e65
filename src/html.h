/* html.h - turn HTML into the text a reader sees.
 *
 * Tags are dropped (block tags become line breaks so words stay apart),
 * comments, <script>, <style> and <head> content are dropped, character
 * references (&amp; &#49; &#x31; and the named entities people use) are
 * decoded.  Input is UTF-8; malformed markup is read as far as it goes,
 * never rejected.  Works in one pass, in linear time, with no recursion.
 *
 * Thread-safe.  Errors: -1 only when out of memory. */
#ifndef CUSTOS_HTML_H
#define CUSTOS_HTML_H

#include <stddef.h>

/* On success *out is malloc'd, NUL-terminated UTF-8, *outlen its length. */
int	html_to_text(const char *in, size_t len, char **out, size_t *outlen);

#endif
