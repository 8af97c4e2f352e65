/* smtp.h - hand a message to a relay by SMTP: how custos re-injects a
 * released message and sends its notices (RFC 5321; no TLS or AUTH:
 * the relay is the local Postfix, on loopback or a trusted network).
 *
 * One connection per call: EHLO (HELO when refused), MAIL FROM, one RCPT
 * TO per recipient, DATA with the message's lines sent CRLF-terminated
 * (bare LF becomes CRLF, CRLF stays) and dot-stuffed, QUIT.  Multi-line
 * replies are read whole.  Every read and write has the timeout.
 *
 * Thread-safe (no shared state).  Errors: -1 with err naming the step
 * and the server's reply ("RCPT TO:<a@b>: 550 5.1.1 unknown user"). */
#ifndef CUSTOS_SMTP_H
#define CUSTOS_SMTP_H

#include <stddef.h>

struct smtp_relay {
	char	*host;		/* name or address; "[::1]" style allowed */
	int	 port;
	int	 timeout_ms;	/* per read or write */
	char	*helo;		/* our name in EHLO */
};

/* Parses "host:port", "[v6addr]:port" or "host" (port 25) into relay's
 * host and port (host is g_strdup'd; the caller g_free()s it).
 * 0 or -1. */
int	smtp_parse_relay(const char *spec, struct smtp_relay *relay);

/* Sends msg (a whole RFC 5322 message, len bytes) from mail_from ("" is
 * the null sender) to every rcpt.  0 when the relay accepted the
 * message (250 after the final dot), -1 otherwise.  A message refused
 * for some recipients but accepted for others is 0; err then names the
 * refused ones. */
int	smtp_send(const struct smtp_relay *, const char *mail_from,
	    const char *const *rcpts, size_t nrcpts, const void *msg,
	    size_t len, char *err, size_t errlen);

#endif
