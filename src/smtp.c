/* smtp.c - a minimal SMTP client for the local relay (see smtp.h).
 *
 * Owns one socket per smtp_send call and nothing between calls.  The
 * socket is non-blocking and every wait goes through poll(2) with the
 * relay's timeout, so a stalled relay costs at most that long per
 * command.  Writes use MSG_NOSIGNAL: a relay that hangs up gives EPIPE,
 * never SIGPIPE in a milter process.  Replies are read through a
 * bounded line buffer; a reply longer than SMTP_LINE_MAX per line or
 * SMTP_REPLY_LINES lines is an error, not an allocation.
 *
 * Fails: -1 with err naming the step and the relay's reply (made
 * printable); never logs, never exits. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <glib.h>

#include "errbuf.h"
#include "smtp.h"

#define SMTP_LINE_MAX		2048	/* RFC 5321: 512; be lenient */
#define SMTP_REPLY_LINES	128	/* lines in one multi-line reply */
#define SMTP_REPLY_TEXT		512	/* reply text kept for err */
#define SMTP_WBUF		16384
#define SMTP_DEFAULT_TIMEOUT	30000	/* ms, when relay gives none */

struct smtp_conn {
	int	 fd;
	int	 timeout_ms;
	/* read side */
	char	 rbuf[4096];
	size_t	 roff, rlen;
	/* the last reply */
	int	 code;
	char	 text[SMTP_REPLY_TEXT];	/* "250 line one / two" */
	int	 ext_8bitmime, ext_smtputf8;
	/* write side */
	char	 wbuf[SMTP_WBUF];
	size_t	 wlen;
};

int
smtp_parse_relay(const char *spec, struct smtp_relay *relay)
{
	const char *host, *hend, *pstr = NULL, *p;
	long port = 25;
	char *end;

	if (spec == NULL || relay == NULL)
		return -1;
	if (spec[0] == '[') {
		host = spec + 1;
		if ((hend = strchr(host, ']')) == NULL || hend == host)
			return -1;
		if (hend[1] == ':')
			pstr = hend + 2;
		else if (hend[1] != '\0')
			return -1;
	} else {
		host = spec;
		/* "::1" without brackets cannot say where the port starts;
		 * refuse it rather than guess. */
		if ((p = strchr(spec, ':')) != NULL && strchr(p + 1, ':'))
			return -1;
		hend = p != NULL ? p : spec + strlen(spec);
		if (p != NULL)
			pstr = p + 1;
		if (hend == host)
			return -1;
	}
	for (p = host; p < hend; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '[' ||
		    *p == ']' || *p == '/')
			return -1;
	if (pstr != NULL) {
		if (*pstr < '0' || *pstr > '9')
			return -1;
		errno = 0;
		port = strtol(pstr, &end, 10);
		if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
			return -1;
	}
	relay->host = g_strndup(host, (gsize)(hend - host));
	relay->port = (int)port;
	return 0;
}

/* Milliseconds on the monotonic clock. */
static long long
smtp_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline.  1 ready, 0 timed out, -1
 * error (errno). */
static int
smtp_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int n;

	for (;;) {
		left = deadline - smtp_now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* Connects to one address within the timeout.  The fd or -1 (errno). */
static int
smtp_connect_one(const struct addrinfo *ai, int timeout_ms)
{
	socklen_t slen = sizeof(int);
	int fd, soerr = 0, r;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR)
		goto fail;
	r = smtp_wait(fd, POLLOUT, smtp_now_ms() + timeout_ms);
	if (r == 0)
		errno = ETIMEDOUT;
	if (r <= 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) != 0)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
	return fd;
fail:
	r = errno;
	(void)close(fd);
	errno = r;
	return -1;
}

static int
smtp_connect(struct smtp_conn *c, const struct smtp_relay *relay,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16], *host;
	size_t hl;
	int r, saved = 0;

	/* smtp.h allows "[::1]" in host as well as "::1". */
	host = g_strdup(relay->host != NULL ? relay->host : "");
	hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	(void)snprintf(port, sizeof port, "%d", relay->port > 0 ?
	    relay->port : 25);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	/* No AI_ADDRCONFIG: on a host with only loopback it hides the
	 * loopback relay we are most often given. */
	hints.ai_socktype = SOCK_STREAM;
	/* XXX getaddrinfo has no timeout; the relay is local or named in
	 * /etc/hosts in every setup we support, so a lookup is quick. */
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		errbuf_set(err, errlen, "connect %s:%s: %s", host, port,
		    gai_strerror(r));
		g_free(host);
		return -1;
	}
	c->fd = -1;
	for (ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next)
		if ((c->fd = smtp_connect_one(ai, c->timeout_ms)) < 0)
			saved = errno;
	if (c->fd < 0)
		errbuf_set(err, errlen, "connect %s:%s: %s", host, port,
		    g_strerror(saved));
	freeaddrinfo(res);
	g_free(host);
	return c->fd < 0 ? -1 : 0;
}

/* Sends len bytes, each chunk within the timeout. */
static int
smtp_write_raw(struct smtp_conn *c, const char *buf, size_t len,
    char *err, size_t errlen)
{
	ssize_t n;
	int r;

	while (len > 0) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			errbuf_set(err, errlen, "write: %s",
			    g_strerror(errno));
			return -1;
		}
		r = smtp_wait(c->fd, POLLOUT, smtp_now_ms() + c->timeout_ms);
		if (r <= 0) {
			errbuf_set(err, errlen, "write: %s", r == 0 ?
			    "timed out" : g_strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int
smtp_flush(struct smtp_conn *c, char *err, size_t errlen)
{
	int r = smtp_write_raw(c, c->wbuf, c->wlen, err, errlen);

	c->wlen = 0;
	return r;
}

static int
smtp_put(struct smtp_conn *c, const char *buf, size_t len, char *err,
    size_t errlen)
{
	size_t n;

	while (len > 0) {
		if (c->wlen == sizeof c->wbuf &&
		    smtp_flush(c, err, errlen) != 0)
			return -1;
		n = sizeof c->wbuf - c->wlen;
		if (n > len)
			n = len;
		memcpy(c->wbuf + c->wlen, buf, n);
		c->wlen += n;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Reads one line (CRLF or LF ended, the end stripped) into line
 * (SMTP_LINE_MAX + 1 bytes) before deadline. */
static int
smtp_read_line(struct smtp_conn *c, char *line, long long deadline,
    char *err, size_t errlen)
{
	size_t n = 0;
	ssize_t got;
	char ch;
	int r;

	for (;;) {
		if (c->roff == c->rlen) {
			r = smtp_wait(c->fd, POLLIN, deadline);
			if (r <= 0) {
				errbuf_set(err, errlen, "read: %s", r == 0 ?
				    "timed out" : g_strerror(errno));
				return -1;
			}
			got = recv(c->fd, c->rbuf, sizeof c->rbuf, 0);
			if (got < 0 && (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK))
				continue;
			if (got <= 0) {
				errbuf_set(err, errlen, "read: %s", got == 0 ?
				    "connection closed by relay" :
				    g_strerror(errno));
				return -1;
			}
			c->roff = 0;
			c->rlen = (size_t)got;
		}
		ch = c->rbuf[c->roff++];
		if (ch == '\n') {
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			return 0;
		}
		if (n == SMTP_LINE_MAX) {
			errbuf_set(err, errlen, "read: reply line longer "
			    "than %d bytes", SMTP_LINE_MAX);
			return -1;
		}
		line[n++] = ch;
	}
}

/* Appends printable text of a reply line to c->text. */
static void
smtp_keep_text(struct smtp_conn *c, const char *s)
{
	size_t n = strlen(c->text);

	if (n > 0 && n + 3 < sizeof c->text) {
		memcpy(c->text + n, " / ", 3);
		n += 3;
	}
	for (; *s != '\0' && n + 1 < sizeof c->text; s++)
		c->text[n++] = (unsigned char)*s < ' ' ||
		    (unsigned char)*s >= 0x7f ? '?' : *s;
	c->text[n] = '\0';
}

/* Reads a whole reply, single or multi-line, into c->code and c->text.
 * ehlo: note the extensions we use. */
static int
smtp_reply(struct smtp_conn *c, int ehlo, char *err, size_t errlen)
{
	char line[SMTP_LINE_MAX + 1];
	long long deadline = smtp_now_ms() + c->timeout_ms;
	int i, code;

	c->code = 0;
	c->text[0] = '\0';
	for (i = 0; i < SMTP_REPLY_LINES; i++) {
		if (smtp_read_line(c, line, deadline, err, errlen) != 0)
			return -1;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (line[3] != '\0' && line[3] != ' ' &&
		    line[3] != '-')) {
			c->text[0] = '\0';
			smtp_keep_text(c, line);
			errbuf_set(err, errlen, "malformed reply \"%s\"",
			    c->text);
			return -1;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (i > 0 && code != c->code) {
			errbuf_set(err, errlen, "reply codes %d and %d mixed",
			    c->code, code);
			return -1;
		}
		c->code = code;
		smtp_keep_text(c, i == 0 ? line : line + 4);
		if (ehlo && i > 0 && line[3] != '\0') {
			if (g_ascii_strncasecmp(line + 4, "8BITMIME", 8) == 0 &&
			    (line[12] == '\0' || line[12] == ' '))
				c->ext_8bitmime = 1;
			if (g_ascii_strncasecmp(line + 4, "SMTPUTF8", 8) == 0 &&
			    (line[12] == '\0' || line[12] == ' '))
				c->ext_smtputf8 = 1;
		}
		if (line[3] != '-')
			return 0;
	}
	errbuf_set(err, errlen, "reply longer than %d lines",
	    SMTP_REPLY_LINES);
	return -1;
}

/* Sends a command line (CRLF added) and reads the reply.  what names
 * the step in err. */
static int
smtp_cmd(struct smtp_conn *c, const char *what, const char *cmd, int ehlo,
    char *err, size_t errlen)
{
	char e[256];

	if (smtp_put(c, cmd, strlen(cmd), e, sizeof e) != 0 ||
	    smtp_put(c, "\r\n", 2, e, sizeof e) != 0 ||
	    smtp_flush(c, e, sizeof e) != 0 ||
	    smtp_reply(c, ehlo, e, sizeof e) != 0) {
		errbuf_set(err, errlen, "%s: %s", what, e);
		return -1;
	}
	return 0;
}

/* An address or name we put on a command line: no controls, no angle
 * brackets, bounded. */
static int
smtp_ok_arg(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if ((unsigned char)*s < ' ' || *s == 0x7f || *s == '<' ||
		    *s == '>')
			return 0;
	return n < 500;
}

/* Sends the message as DATA content: CRLF line ends, dot-stuffed, the
 * last line ended, then the lone dot. */
static int
smtp_data(struct smtp_conn *c, const char *p, size_t len, char *err,
    size_t errlen)
{
	const char *end = p + len, *nl;
	size_t n;

	while (p < end) {
		if (*p == '.' && smtp_put(c, ".", 1, err, errlen) != 0)
			return -1;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		/* CRLF stays CRLF; a message ending in a bare CR has the CR
		 * as its last line end. */
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (smtp_put(c, p, n, err, errlen) != 0 ||
		    smtp_put(c, "\r\n", 2, err, errlen) != 0)
			return -1;
		p = nl != NULL ? nl + 1 : end;
	}
	if (smtp_put(c, ".\r\n", 3, err, errlen) != 0)
		return -1;
	return smtp_flush(c, err, errlen);
}

static int
smtp_has_8bit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

int
smtp_send(const struct smtp_relay *relay, const char *mail_from,
    const char *const *rcpts, size_t nrcpts, const void *msg, size_t len,
    char *err, size_t errlen)
{
	struct smtp_conn *c;
	GString *refused = NULL, *cmd = NULL;
	const char *helo;
	char e[256];
	size_t i, naccepted = 0;
	int rc = -1, utf8 = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (mail_from == NULL)
		mail_from = "";
	if (nrcpts == 0) {
		errbuf_set(err, errlen, "no recipients");
		return -1;
	}
	if (!smtp_ok_arg(mail_from)) {
		errbuf_set(err, errlen, "MAIL FROM: bad address");
		return -1;
	}
	/* Internationalised addresses (RFC 6531) go as they are, with
	 * SMTPUTF8 when the relay offers it. */
	utf8 = smtp_has_8bit(mail_from, strlen(mail_from));
	for (i = 0; i < nrcpts; i++) {
		if (rcpts[i] == NULL || rcpts[i][0] == '\0' ||
		    !smtp_ok_arg(rcpts[i])) {
			errbuf_set(err, errlen, "RCPT TO: bad address #%zu",
			    i + 1);
			return -1;
		}
		utf8 |= smtp_has_8bit(rcpts[i], strlen(rcpts[i]));
	}
	helo = relay->helo != NULL && relay->helo[0] != '\0' &&
	    smtp_ok_arg(relay->helo) ? relay->helo : "localhost";

	c = g_new0(struct smtp_conn, 1);
	c->fd = -1;
	c->timeout_ms = relay->timeout_ms > 0 ? relay->timeout_ms :
	    SMTP_DEFAULT_TIMEOUT;
	cmd = g_string_new(NULL);
	if (smtp_connect(c, relay, err, errlen) != 0)
		goto out;
	if (smtp_reply(c, 0, e, sizeof e) != 0) {
		errbuf_set(err, errlen, "greeting: %s", e);
		goto out;
	}
	if (c->code != 220) {
		errbuf_set(err, errlen, "greeting: %s", c->text);
		goto quit;
	}

	g_string_printf(cmd, "EHLO %s", helo);
	if (smtp_cmd(c, "EHLO", cmd->str, 1, err, errlen) != 0)
		goto out;
	/* An old or odd relay refuses EHLO; 421 means it is closing. */
	if (c->code / 100 != 2 && c->code != 421) {
		c->ext_8bitmime = c->ext_smtputf8 = 0;
		g_string_printf(cmd, "HELO %s", helo);
		if (smtp_cmd(c, "HELO", cmd->str, 0, err, errlen) != 0)
			goto out;
		if (c->code / 100 != 2) {
			errbuf_set(err, errlen, "HELO: %s", c->text);
			goto quit;
		}
	} else if (c->code / 100 != 2) {
		errbuf_set(err, errlen, "EHLO: %s", c->text);
		goto quit;
	}

	g_string_printf(cmd, "MAIL FROM:<%s>", mail_from);
	if (c->ext_8bitmime && smtp_has_8bit(msg, len))
		g_string_append(cmd, " BODY=8BITMIME");
	if (c->ext_smtputf8 && utf8)
		g_string_append(cmd, " SMTPUTF8");
	if (smtp_cmd(c, "MAIL FROM", cmd->str, 0, err, errlen) != 0)
		goto out;
	if (c->code / 100 != 2) {
		errbuf_set(err, errlen, "MAIL FROM:<%s>: %s", mail_from,
		    c->text);
		goto quit;
	}

	refused = g_string_new(NULL);
	for (i = 0; i < nrcpts; i++) {
		g_string_printf(cmd, "RCPT TO:<%s>", rcpts[i]);
		if (smtp_cmd(c, cmd->str, cmd->str, 0, err, errlen) != 0)
			goto out;
		if (c->code / 100 == 2) {
			naccepted++;
			continue;
		}
		g_string_append_printf(refused, "%s%s: %s",
		    refused->len > 0 ? "; " : "", cmd->str, c->text);
		if (c->code == 421)
			break;
	}
	if (naccepted == 0 || c->code == 421) {
		errbuf_set(err, errlen, "%s", refused->str);
		goto quit;
	}

	if (smtp_cmd(c, "DATA", "DATA", 0, err, errlen) != 0)
		goto out;
	if (c->code != 354) {
		errbuf_set(err, errlen, "DATA: %s", c->text);
		goto quit;
	}
	if (smtp_data(c, msg, len, e, sizeof e) != 0 ||
	    smtp_reply(c, 0, e, sizeof e) != 0) {
		errbuf_set(err, errlen, "end of data: %s", e);
		goto out;
	}
	if (c->code / 100 != 2) {
		errbuf_set(err, errlen, "end of data: %s", c->text);
		goto quit;
	}
	rc = 0;
	if (refused->len > 0)
		errbuf_set(err, errlen, "%s", refused->str);

quit:
	/* Polite, but the outcome is already decided. */
	if (c->code != 421)
		(void)smtp_cmd(c, "QUIT", "QUIT", 0, e, sizeof e);
out:
	if (c->fd >= 0)
		(void)close(c->fd);
	g_free(c);
	if (refused != NULL)
		g_string_free(refused, TRUE);
	g_string_free(cmd, TRUE);
	return rc;
}
