/* token.c - release and notice tokens (see token.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "token.h"

#define TOKEN_VERSION	"v1"
#define TOKEN_NONCE_HEX	16	/* 8 random bytes */

void
token_body_digest(const void *raw, size_t len,
    unsigned char out[TOKEN_DIGEST_BYTES])
{
	const char *p = raw, *end = p + len, *body = end;
	size_t i;

	/* The header ends at the first empty line; a message that starts
	 * with one has no header at all. */
	if (len >= 2 && p[0] == '\r' && p[1] == '\n')
		body = p + 2;
	else if (len >= 1 && p[0] == '\n')
		body = p + 1;
	else
		for (i = 0; i + 1 < len; i++) {
			if (p[i] != '\n')
				continue;
			if (p[i + 1] == '\n') {
				body = p + i + 2;
				break;
			}
			if (i + 2 < len && p[i + 1] == '\r' &&
			    p[i + 2] == '\n') {
				body = p + i + 3;
				break;
			}
		}
	crypto_generichash(out, TOKEN_DIGEST_BYTES,
	    (const unsigned char *)body, (unsigned long long)(end - body),
	    NULL, 0);
}

/* HMAC over "kind\0id\0digest", in hex. */
static void
token_mac(const unsigned char key[QKEY_BYTES], const char *kind,
    const char *id, const unsigned char digest[TOKEN_DIGEST_BYTES],
    char hex[crypto_auth_hmacsha256_BYTES * 2 + 1])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	(void)crypto_auth_hmacsha256_init(&st, key, QKEY_BYTES);
	(void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)kind,
	    strlen(kind) + 1);
	(void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)id,
	    strlen(id) + 1);
	(void)crypto_auth_hmacsha256_update(&st, digest, TOKEN_DIGEST_BYTES);
	(void)crypto_auth_hmacsha256_final(&st, mac);
	(void)sodium_bin2hex(hex, crypto_auth_hmacsha256_BYTES * 2 + 1, mac,
	    sizeof mac);
}

static int
token_make(const unsigned char key[QKEY_BYTES], const char *kind,
    const char *id, const unsigned char digest[TOKEN_DIGEST_BYTES],
    char *out, size_t outlen)
{
	char hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
	int n;

	token_mac(key, kind, id, digest, hex);
	n = snprintf(out, outlen, "%s %s %s", TOKEN_VERSION, id, hex);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* Splits "v1 ID MAC" (spaces and tabs around, as a header value may
 * have) and checks the MAC.  1 valid, 0 not. */
static int
token_check(const unsigned char key[QKEY_BYTES], const char *kind,
    const char *value, const unsigned char digest[TOKEN_DIGEST_BYTES],
    char *id, size_t idlen)
{
	char ver[8], hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
	char want[sizeof hex], idbuf[64], extra[2];

	if (value == NULL)
		return 0;
	if (sscanf(value, " %7s %63s %64s %1s", ver, idbuf, hex,
	    extra) != 3 || strcmp(ver, TOKEN_VERSION) != 0 ||
	    strlen(hex) != sizeof hex - 1 || strlen(idbuf) >= idlen)
		return 0;
	token_mac(key, kind, idbuf, digest, want);
	if (sodium_memcmp(want, hex, sizeof hex - 1) != 0)
		return 0;
	(void)snprintf(id, idlen, "%s", idbuf);
	return 1;
}

int
token_release_make(const struct qkey *k, const char *incident,
    const unsigned char digest[TOKEN_DIGEST_BYTES], char *out, size_t outlen)
{
	char canon[INCIDENT_ID_SIZE];

	/* A token the check would refuse is no token. */
	if (incident_parse(incident, canon) != 0 ||
	    strcmp(canon, incident) != 0)
		return -1;
	return token_make(k->release, "release", incident, digest, out,
	    outlen);
}

int
token_release_check(const struct qkey *k, const char *value,
    const unsigned char digest[TOKEN_DIGEST_BYTES],
    char incident[INCIDENT_ID_SIZE])
{
	char canon[INCIDENT_ID_SIZE], id[INCIDENT_ID_SIZE];

	if (token_check(k->release, "release", value, digest, id,
	    sizeof id) != 1)
		return 0;
	/* Only ids custos makes were ever signed; this keeps a key name
	 * built from the id well-formed all the same. */
	if (incident_parse(id, canon) != 0 || strcmp(canon, id) != 0)
		return 0;
	memcpy(incident, id, sizeof id);
	return 1;
}

int
token_notice_make(const struct qkey *k,
    const unsigned char digest[TOKEN_DIGEST_BYTES], char *out, size_t outlen)
{
	unsigned char nonce[TOKEN_NONCE_HEX / 2];
	char hex[TOKEN_NONCE_HEX + 1];

	randombytes_buf(nonce, sizeof nonce);
	(void)sodium_bin2hex(hex, sizeof hex, nonce, sizeof nonce);
	return token_make(k->notice, "notice", hex, digest, out, outlen);
}

int
token_notice_check(const struct qkey *k, const char *value,
    const unsigned char digest[TOKEN_DIGEST_BYTES])
{
	char nonce[TOKEN_NONCE_HEX + 1];

	return token_check(k->notice, "notice", value, digest, nonce,
	    sizeof nonce);
}
