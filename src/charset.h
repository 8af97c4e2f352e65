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
 * Details of the order (charset.c):
 *   - UTF-16 and UTF-32 labelled without a BOM are big-endian (RFC 2781)
 *     unless the label says LE;
 *   - a US-ASCII label on bytes >= 0x80 is wrong by definition: treated
 *     as no label (ASCII reads the same under every guess);
 *   - a UTF-8 label on bytes of which a third or more of the 8-bit ones
 *     are invalid UTF-8, and that decode cleanly as GB18030, is taken for
 *     mislabelled GBK (common in Chinese mail) and read as GB18030; a
 *     stray bad byte in real UTF-8 just becomes U+FFFD;
 *   - labels are matched ignoring case and punctuation ("GB_2312-80");
 *     unknown ones go to iconv only if they look like charset names
 *     (letters, digits, "-_.:", at most 40), else they are no label.
 * U+0000 is dropped from the output: it is no text, it would cut C
 * strings, and NULs between digits (UTF-16 under a one-byte label) would
 * split the identifiers custos looks for.  The output is always valid
 * UTF-8.
 *
 * Thread-safe.  Errors: -1 only when out of memory. */
#ifndef CUSTOS_CHARSET_H
#define CUSTOS_CHARSET_H

#include <stddef.h>

/* Length of the valid UTF-8 character at s[0..avail) (avail > 0): 1 for
 * ASCII, NUL included; 0 when none is valid there or it is cut short
 * (RFC 3629: no overlong forms, surrogates or code points past
 * U+10FFFF).  The charset check and the XML tokenizer (with its own rule
 * for NUL) call it for each character of Chinese text: the common cases
 * are inline, the rest is charset_utf8_len_rest(). */
size_t	charset_utf8_len_rest(const unsigned char *s, size_t avail);

static inline size_t
charset_utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	/* Three bytes whose lead puts no bound on the second (U+1000 ..
	 * U+CFFF, U+E000 .. U+FFFF: all of CJK), most of the 8-bit text of
	 * Chinese mail: a call for each was half of the time spent on it. */
	if (c >= 0xe1 && c <= 0xef && c != 0xed && avail >= 3 &&
	    (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80)
		return 3;
	return charset_utf8_len_rest(s, avail);
}

/* Counts the bytes of s[0..len) that are not part of a valid UTF-8
 * character (*nbad) and the bytes >= 0x80 (*nhigh): what the charset
 * check decides on. */
void	charset_utf8_scan(const void *s, size_t len, size_t *nbad,
	    size_t *nhigh);

/* Converts in[0..len) to UTF-8.  On success *out is a malloc'd,
 * NUL-terminated string the caller frees, *outlen its length, and
 * *used (if not NULL) the charset actually used: a static string
 * ("UTF-8", "GB18030", "WINDOWS-1252", "BIG5-HKSCS", "UTF-16LE", ...),
 * or, for a label iconv knows but charset.c does not list, declared
 * itself (valid as long as declared is).
 * max_out caps the output (0 = no cap): conversion stops there and
 * *truncated (if not NULL) is set to 1. */
int	charset_to_utf8(const char *in, size_t len, const char *declared,
	    size_t max_out, char **out, size_t *outlen, const char **used,
	    int *truncated);

#endif
