/* b64.h - base64 content-transfer-decoding, many characters at a time.
 *
 * Why: nearly every attachment comes base64-encoded, and GMime's decoder
 * takes one character at a time: for a message whose attachment's text
 * is kept (extract/xcache.c) it was the largest cost left, about a fifth
 * of the milter's time.  This one decodes blocks of sixteen characters
 * with SSSE3 where the CPU has it, whole groups of four through tables
 * where a block holds anything else, and falls back to a character at a
 * time only around what is not in the alphabet (line breaks, mostly).
 *
 * What it does with any input (RFC 2045, 6.8): characters outside the
 * alphabet are ignored; "=" closes the group it is in (two characters
 * give one byte, three give two) and anything after it starts a new
 * group, so concatenated encodings decode whole; a group left open at
 * the end is closed the same way; a lone character is dropped.  Valid
 * base64 decodes as every decoder decodes it.
 *
 * No allocation; thread-safe for distinct states.  Errors: none. */
#ifndef CUSTOS_B64_H
#define CUSTOS_B64_H

#include <stddef.h>
#include <stdint.h>

struct b64 {
	uint32_t	acc;		/* the open group's bits */
	unsigned	n;		/* its characters, 0..3 */
};

void	b64_init(struct b64 *);

/* Decodes in[0..len) into out, which has room for B64_OUT(len) bytes;
 * returns the bytes written.  A group may stay open for the next call. */
#define B64_OUT(len)	((len) / 4 * 3 + 3)
size_t	b64_decode(struct b64 *, const char *in, size_t len, uint8_t *out);

/* Turns the sixteen-character blocks (SSSE3) off (0) or on where the
 * CPU has them; returns the setting before.  For tests. */
int	b64_vector(int on);

/* Closes an open group at the end of the input: 0, 1 or 2 bytes into
 * out (room for 2). */
size_t	b64_finish(struct b64 *, uint8_t *out);

#endif
