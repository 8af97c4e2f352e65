/* html.h - turn HTML into the text a reader sees.
 *
 * Tags are dropped (block tags become line breaks and table cells tabs,
 * so words stay apart; inline tags such as <span> leave nothing, so
 * "<span>138</span><span>1234</span>" is "1381234", as a reader sees
 * it), comments and the content of <script> and <style> are dropped,
 * character references (&amp; &#49; &#x31; and the named entities people
 * use) are decoded, white space runs fold to one space outside <pre>.
 * <head> is not dropped wholesale (browsers end it at the first text, so
 * "<head>" must not hide a message); <title> text and alt/title
 * attribute values are kept, since a reader sees them.  Input is UTF-8;
 * malformed markup is read as far as it goes, never rejected.  Works in
 * one pass, in linear time, with no recursion.
 *
 * Thread-safe.  Errors: -1 only when out of memory. */
#ifndef CUSTOS_HTML_H
#define CUSTOS_HTML_H

#include <stddef.h>

/* On success *out is malloc'd, NUL-terminated UTF-8, *outlen its length. */
int	html_to_text(const char *in, size_t len, char **out, size_t *outlen);

#endif
