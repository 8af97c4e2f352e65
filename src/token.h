/* token.h - the headers that let custos' own mail through.
 *
 *   X-Custos-Release: v1 INCIDENT MAC   a message an officer released
 *   X-Custos-Notice: v1 NONCE MAC       a notice custos sent
 *
 * MAC is HMAC-SHA-256 (hex) under a qkey subkey (qkey.h) over the token
 * kind, the incident id or nonce, and a BLAKE2b-256 digest of the
 * message body exactly as the milter receives it (CRLF line ends, after
 * the blank line that ends the header).  So a token copied onto another
 * body, or kept while the body is changed, does not verify; headers may
 * change (Postfix adds Received:).  A release token also lets a message
 * through only once: the caller claims the incident in the quarantine
 * store (qstore_claim) before it trusts the token.
 *
 * Thread-safe, no allocation.  Checks take constant time in the MAC. */
#ifndef CUSTOS_TOKEN_H
#define CUSTOS_TOKEN_H

#include <stddef.h>

#include "incident.h"
#include "qkey.h"

#define TOKEN_RELEASE_HEADER	"X-Custos-Release"
#define TOKEN_NOTICE_HEADER	"X-Custos-Notice"
#define TOKEN_DIGEST_BYTES	32
#define TOKEN_MAX		128	/* longest header value, with NUL */

/* The digest of the body of raw (a whole message: header, blank line,
 * body; CRLF or LF).  A message without a blank line has an empty body. */
void	token_body_digest(const void *raw, size_t len,
	    unsigned char out[TOKEN_DIGEST_BYTES]);

/* Writes the header value into out (TOKEN_MAX bytes).  0 or -1. */
int	token_release_make(const struct qkey *, const char *incident,
	    const unsigned char digest[TOKEN_DIGEST_BYTES], char *out,
	    size_t outlen);
/* 1 when value is a valid release token for this body (the incident id
 * is written to incident), 0 when it is not (malformed, another key,
 * another body). */
int	token_release_check(const struct qkey *, const char *value,
	    const unsigned char digest[TOKEN_DIGEST_BYTES],
	    char incident[INCIDENT_ID_SIZE]);

/* The same for notices; the nonce is made here. */
int	token_notice_make(const struct qkey *,
	    const unsigned char digest[TOKEN_DIGEST_BYTES], char *out,
	    size_t outlen);
int	token_notice_check(const struct qkey *, const char *value,
	    const unsigned char digest[TOKEN_DIGEST_BYTES]);

#endif
