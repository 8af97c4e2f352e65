/* test_notify.c - the SMTP client and the notifier, against an SMTP
 * server in this process (a thread on 127.0.0.1, an ephemeral port)
 * that records what it receives and can be told to refuse, hang up or
 * stall at any step.  Notifier windows and retry delays run on a test
 * time scale (notify_set_timescale), so no test waits for real
 * minutes. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <gmime/gmime.h>
#include <sodium.h>

#include "notify.h"
#include "smtp.h"
#include "token.h"

/* ---- the test server ---- */

enum step {
	STEP_NONE = 0, STEP_GREETING, STEP_EHLO, STEP_HELO, STEP_MAIL,
	STEP_RCPT, STEP_DATA, STEP_BODY, STEP_DOT
};

/* One transaction that reached the end of its data. */
struct txn {
	char		 verb[5];	/* EHLO or HELO */
	char		*mail;		/* the MAIL command line */
	GPtrArray	*rcpts;		/* accepted addresses */
	GString		*wire;		/* as sent, no end dot */
	GString		*data;		/* dots taken out */
	int		 delivered;	/* 250 after the dot */
	long long	 t_ms;		/* when the dot was answered */
};

struct srv {
	int		 lfd, port;
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 stop, started;
	/* behaviour, set before srv_start or under mu */
	const char	*ehlo_reply;
	const char	*greeting;
	enum step	 fail_step;
	const char	*fail_reply;
	int		 fail_times;	/* -1: always */
	enum step	 close_step;
	enum step	 stall_step;
	int		 stall_times;	/* -1: always */
	int		 release;	/* bumped to end the stalls */
	/* records, under mu */
	int		 conns, stalled;
	GPtrArray	*txns;
};

struct conn {
	int	fd;
	char	buf[8192];
	size_t	off, len;
};

static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
txn_free(gpointer p)
{
	struct txn *t = p;

	g_free(t->mail);
	g_ptr_array_free(t->rcpts, TRUE);
	g_string_free(t->wire, TRUE);
	g_string_free(t->data, TRUE);
	g_free(t);
}

static int
srv_stopping(struct srv *s)
{
	int r;

	(void)pthread_mutex_lock(&s->mu);
	r = s->stop;
	(void)pthread_mutex_unlock(&s->mu);
	return r;
}

static void
srv_say(struct conn *c, const char *s)
{
	(void)send(c->fd, s, strlen(s), MSG_NOSIGNAL);
}

/* A raw line with its "\n": 1, 0 at EOF, -1 when stopping. */
static int
srv_line(struct srv *s, struct conn *c, GString *line)
{
	struct pollfd p;
	ssize_t n;
	const char *nl;
	size_t take;

	g_string_truncate(line, 0);
	for (;;) {
		if (c->off == c->len) {
			p.fd = c->fd;
			p.events = POLLIN;
			p.revents = 0;
			n = poll(&p, 1, 50);
			if (srv_stopping(s))
				return -1;
			if (n <= 0)
				continue;
			if ((n = read(c->fd, c->buf, sizeof c->buf)) <= 0)
				return line->len > 0 ? 1 : 0;
			c->off = 0;
			c->len = (size_t)n;
		}
		nl = memchr(c->buf + c->off, '\n', c->len - c->off);
		take = nl != NULL ? (size_t)(nl - c->buf) + 1 - c->off :
		    c->len - c->off;
		g_string_append_len(line, c->buf + c->off, (gssize)take);
		c->off += take;
		if (nl != NULL)
			return 1;
	}
}

/* What the server does at a step: 0 go on, 1 it sent the failure
 * reply, -1 hang up. */
static int
srv_hook(struct srv *s, struct conn *c, enum step step)
{
	char reply[256];
	int gen;

	(void)pthread_mutex_lock(&s->mu);
	if (s->close_step == step) {
		(void)pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (s->stall_step == step && s->stall_times != 0) {
		if (s->stall_times > 0)
			s->stall_times--;
		s->stalled++;
		gen = s->release;
		(void)pthread_cond_broadcast(&s->cv);
		while (s->release == gen && !s->stop)
			(void)pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop) {
			(void)pthread_mutex_unlock(&s->mu);
			return -1;
		}
	}
	if (s->fail_step == step && s->fail_times != 0) {
		if (s->fail_times > 0)
			s->fail_times--;
		(void)snprintf(reply, sizeof reply, "%s\r\n", s->fail_reply);
		(void)pthread_mutex_unlock(&s->mu);
		srv_say(c, reply);
		return 1;
	}
	(void)pthread_mutex_unlock(&s->mu);
	return 0;
}

/* The address between < and >. */
static char *
srv_addr(const char *line)
{
	const char *a = strchr(line, '<'), *b;

	if (a == NULL || (b = strchr(a, '>')) == NULL)
		return g_strdup("");
	return g_strndup(a + 1, (gsize)(b - a - 1));
}

static void
srv_session(struct srv *s, int fd)
{
	struct conn *c = g_new0(struct conn, 1);
	GString *line = g_string_new(NULL);
	struct txn *t = NULL;
	char verb[5] = "", cmd[5];
	int h, r, i;

	c->fd = fd;
	(void)pthread_mutex_lock(&s->mu);
	s->conns++;
	(void)pthread_cond_broadcast(&s->cv);
	(void)pthread_mutex_unlock(&s->mu);

	if ((h = srv_hook(s, c, STEP_GREETING)) != 0)
		goto out;
	srv_say(c, s->greeting != NULL ? s->greeting :
	    "220 test.invalid ESMTP\r\n");
	while (srv_line(s, c, line) == 1) {
		for (i = 0; i < 4; i++)
			cmd[i] = g_ascii_toupper(line->str[i < (int)line->len ?
			    i : 0]);
		cmd[4] = '\0';
		if (strcmp(cmd, "EHLO") == 0 || strcmp(cmd, "HELO") == 0) {
			h = srv_hook(s, c, cmd[0] == 'E' ? STEP_EHLO :
			    STEP_HELO);
			if (h < 0)
				goto out;
			if (h > 0)
				continue;
			memcpy(verb, cmd, sizeof verb);
			srv_say(c, cmd[0] == 'E' ? (s->ehlo_reply != NULL ?
			    s->ehlo_reply : "250-test.invalid\r\n"
			    "250-PIPELINING\r\n250 8BITMIME\r\n") :
			    "250 test.invalid\r\n");
		} else if (strcmp(cmd, "MAIL") == 0) {
			if ((h = srv_hook(s, c, STEP_MAIL)) < 0)
				goto out;
			if (h > 0)
				continue;
			if (t != NULL)
				txn_free(t);
			t = g_new0(struct txn, 1);
			memcpy(t->verb, verb, sizeof t->verb);
			t->mail = g_strndup(line->str, line->len - 2);
			t->rcpts = g_ptr_array_new_with_free_func(g_free);
			t->wire = g_string_new(NULL);
			t->data = g_string_new(NULL);
			srv_say(c, "250 2.1.0 Ok\r\n");
		} else if (strcmp(cmd, "RCPT") == 0) {
			char *a = srv_addr(line->str), reply[300];

			if ((h = srv_hook(s, c, STEP_RCPT)) != 0) {
				g_free(a);
				if (h < 0)
					goto out;
				continue;
			}
			if (t == NULL) {
				srv_say(c, "503 5.5.1 need MAIL\r\n");
				g_free(a);
			} else if (strncmp(a, "bad", 3) == 0) {
				(void)snprintf(reply, sizeof reply,
				    "550 5.1.1 <%s>: unknown user\r\n", a);
				srv_say(c, reply);
				g_free(a);
			} else {
				g_ptr_array_add(t->rcpts, a);
				srv_say(c, "250 2.1.5 Ok\r\n");
			}
		} else if (strcmp(cmd, "DATA") == 0) {
			if ((h = srv_hook(s, c, STEP_DATA)) < 0)
				goto out;
			if (h > 0)
				continue;
			if (t == NULL || t->rcpts->len == 0) {
				srv_say(c, "554 5.5.1 no valid recipients\r\n");
				continue;
			}
			srv_say(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
			if (srv_hook(s, c, STEP_BODY) < 0)
				goto out;
			for (;;) {
				if ((r = srv_line(s, c, line)) != 1)
					goto out;
				if (strcmp(line->str, ".\r\n") == 0)
					break;
				g_string_append_len(t->wire, line->str,
				    (gssize)line->len);
				g_string_append_len(t->data, line->str +
				    (line->str[0] == '.'),
				    (gssize)line->len - (line->str[0] == '.'));
			}
			if ((h = srv_hook(s, c, STEP_DOT)) < 0)
				goto out;
			if (h == 0)
				srv_say(c, "250 2.0.0 Ok: queued\r\n");
			t->delivered = h == 0;
			t->t_ms = now_ms();
			(void)pthread_mutex_lock(&s->mu);
			g_ptr_array_add(s->txns, t);
			(void)pthread_cond_broadcast(&s->cv);
			(void)pthread_mutex_unlock(&s->mu);
			t = NULL;
		} else if (strcmp(cmd, "QUIT") == 0) {
			srv_say(c, "221 2.0.0 Bye\r\n");
			break;
		} else if (strcmp(cmd, "RSET") == 0) {
			srv_say(c, "250 2.0.0 Ok\r\n");
		} else
			srv_say(c, "502 5.5.2 command not recognized\r\n");
	}
out:
	if (t != NULL)
		txn_free(t);
	g_string_free(line, TRUE);
	(void)close(fd);
	g_free(c);
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd p;
	int fd;

	while (!srv_stopping(s)) {
		p.fd = s->lfd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((fd = accept(s->lfd, NULL, NULL)) < 0)
			continue;
		srv_session(s, fd);
	}
	return NULL;
}

static struct srv *
srv_new(void)
{
	struct srv *s = g_new0(struct srv, 1);

	s->lfd = -1;
	s->fail_times = -1;
	s->stall_times = -1;
	(void)pthread_mutex_init(&s->mu, NULL);
	(void)pthread_cond_init(&s->cv, NULL);
	s->txns = g_ptr_array_new_with_free_func(txn_free);
	return s;
}

static void
srv_start(struct srv *s)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;

	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sin, &sl), 0);
	s->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
	s->started = 1;
}

static void
srv_free(struct srv *s)
{
	if (s == NULL)
		return;
	if (s->started) {
		(void)pthread_mutex_lock(&s->mu);
		s->stop = 1;
		(void)pthread_cond_broadcast(&s->cv);
		(void)pthread_mutex_unlock(&s->mu);
		(void)pthread_join(s->th, NULL);
	}
	if (s->lfd >= 0)
		(void)close(s->lfd);
	g_ptr_array_free(s->txns, TRUE);
	(void)pthread_cond_destroy(&s->cv);
	(void)pthread_mutex_destroy(&s->mu);
	g_free(s);
}

/* Waits until the server has recorded n transactions (or timeout_ms
 * passed); returns how many it has. */
static unsigned
srv_wait(struct srv *s, unsigned n, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	unsigned got;

	for (;;) {
		(void)pthread_mutex_lock(&s->mu);
		got = s->txns->len;
		(void)pthread_mutex_unlock(&s->mu);
		if (got >= n || now_ms() >= end)
			return got;
		sleep_ms(5);
	}
}

static unsigned
srv_count(struct srv *s)
{
	return srv_wait(s, 0, 0);
}

static int
srv_wait_stalled(struct srv *s, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int got;

	for (;;) {
		(void)pthread_mutex_lock(&s->mu);
		got = s->stalled;
		(void)pthread_mutex_unlock(&s->mu);
		if (got > 0 || now_ms() >= end)
			return got;
		sleep_ms(5);
	}
}

static void
srv_release(struct srv *s)
{
	(void)pthread_mutex_lock(&s->mu);
	s->release++;
	(void)pthread_cond_broadcast(&s->cv);
	(void)pthread_mutex_unlock(&s->mu);
}

static struct txn *
srv_txn(struct srv *s, unsigned i)
{
	struct txn *t;

	(void)pthread_mutex_lock(&s->mu);
	assert_true(i < s->txns->len);
	t = s->txns->pdata[i];
	(void)pthread_mutex_unlock(&s->mu);
	return t;
}

static int
setup(void **state)
{
	*state = srv_new();
	return 0;
}

static int
teardown(void **state)
{
	srv_free(*state);
	return 0;
}

static char relay_host[] = "127.0.0.1";
static char relay_helo[] = "gw.example.org";

static struct smtp_relay
relay_of(const struct srv *s, int timeout_ms)
{
	struct smtp_relay r;

	r.host = relay_host;
	r.port = s->port;
	r.timeout_ms = timeout_ms;
	r.helo = relay_helo;
	return r;
}

/* Every "\n" of the wire data comes after a "\r". */
static void
assert_crlf(const char *what, const GString *g)
{
	size_t i;

	for (i = 0; i < g->len; i++)
		if (g->str[i] == '\n' && (i == 0 || g->str[i - 1] != '\r'))
			fail_msg("%s: got a bare LF at byte %zu, want CRLF "
			    "only", what, i);
}

static const char *const one_rcpt[] = { "alice@example.com" };

/* ---- smtp_parse_relay ---- */

static void
test_parse_relay(void **state)
{
	static const struct {
		const char	*spec;
		int		 rc;
		const char	*host;
		int		 port;
	} rows[] = {
		{ "mx.example.com:2525", 0, "mx.example.com", 2525 },
		{ "mx.example.com", 0, "mx.example.com", 25 },
		{ "127.0.0.1:10025", 0, "127.0.0.1", 10025 },
		{ "127.0.0.1", 0, "127.0.0.1", 25 },
		{ "[::1]:587", 0, "::1", 587 },
		{ "[::1]", 0, "::1", 25 },
		{ "[2001:db8::25]:65535", 0, "2001:db8::25", 65535 },
		{ "localhost:1", 0, "localhost", 1 },
		{ "", -1, NULL, 0 },
		{ ":25", -1, NULL, 0 },
		{ "host:", -1, NULL, 0 },
		{ "host:0", -1, NULL, 0 },
		{ "host:65536", -1, NULL, 0 },
		{ "host:25x", -1, NULL, 0 },
		{ "host:-25", -1, NULL, 0 },
		{ "host: 25", -1, NULL, 0 },
		{ "host:+25", -1, NULL, 0 },
		{ "::1", -1, NULL, 0 },
		{ "::1:25", -1, NULL, 0 },
		{ "[::1", -1, NULL, 0 },
		{ "[::1]x", -1, NULL, 0 },
		{ "[::1]:", -1, NULL, 0 },
		{ "[]:25", -1, NULL, 0 },
		{ "ho st:25", -1, NULL, 0 },
		{ "host\r\n:25", -1, NULL, 0 },
	};
	struct smtp_relay r;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memset(&r, 0, sizeof r);
		rc = smtp_parse_relay(rows[i].spec, &r);
		if (rc != rows[i].rc)
			fail_msg("\"%s\": got %d, want %d", rows[i].spec, rc,
			    rows[i].rc);
		if (rc != 0) {
			if (r.host != NULL)
				fail_msg("\"%s\": failed but set host",
				    rows[i].spec);
			continue;
		}
		if (strcmp(r.host, rows[i].host) != 0 ||
		    r.port != rows[i].port)
			fail_msg("\"%s\": got %s port %d, want %s port %d",
			    rows[i].spec, r.host, r.port, rows[i].host,
			    rows[i].port);
		g_free(r.host);
	}
	assert_int_equal(smtp_parse_relay(NULL, &r), -1);
}

/* ---- smtp_send ---- */

static void
test_send_lines(void **state)
{
	static const struct {
		const char	*in, *want;
	} rows[] = {
		/* Dot-stuffing: lines of dots, dots first, a lone dot. */
		{ "A: b\r\n\r\n.\r\n..two\r\n.three\nplain\n.last",
		  "A: b\r\n\r\n.\r\n..two\r\n.three\r\nplain\r\n.last\r\n" },
		{ ".x", ".x\r\n" },
		{ "x\n.\n", "x\r\n.\r\n" },
		{ "x\r\n.\r\ny\r\n", "x\r\n.\r\ny\r\n" },
		/* Bare LF becomes CRLF, CRLF stays, never CRCRLF. */
		{ "a\n\nb\n", "a\r\n\r\nb\r\n" },
		{ "a\r\nb\r\n", "a\r\nb\r\n" },
		{ "a\r\n\nb", "a\r\n\r\nb\r\n" },
		/* A bare CR inside a line is data; at the end, a line end. */
		{ "a\rb\r\n", "a\rb\r\n" },
		{ "end\r", "end\r\n" },
		/* The last line without a newline gets one. */
		{ "no newline", "no newline\r\n" },
		{ "", "" },
	};
	struct srv *s = *state;
	struct smtp_relay r;
	char err[512];
	size_t i;
	struct txn *t;
	int rc;

	srv_start(s);
	r = relay_of(s, 2000);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		rc = smtp_send(&r, "", one_rcpt, 1, rows[i].in,
		    strlen(rows[i].in), err, sizeof err);
		if (rc != 0)
			fail_msg("row %zu: got %d (%s), want 0", i, rc, err);
		if (err[0] != '\0')
			fail_msg("row %zu: got err \"%s\", want \"\"", i, err);
		assert_int_equal(srv_wait(s, (unsigned)i + 1, 2000), i + 1);
		t = srv_txn(s, (unsigned)i);
		if (strcmp(t->data->str, rows[i].want) != 0) {
			char *g = g_strescape(t->data->str, NULL);
			char *w = g_strescape(rows[i].want, NULL);

			fail_msg("row %zu: got \"%s\", want \"%s\"", i, g, w);
		}
		assert_crlf("wire", t->wire);
		assert_true(t->delivered);
		if (strcmp(t->mail, "MAIL FROM:<>") != 0)
			fail_msg("row %zu: got \"%s\", want \"MAIL FROM:<>\"",
			    i, t->mail);
	}
	/* On the wire, each line that starts with a dot has another. */
	t = srv_txn(s, 0);
	if (strstr(t->wire->str, "\r\n..\r\n...two\r\n..three\r\n") == NULL ||
	    strstr(t->wire->str, "\r\n..last\r\n") == NULL)
		fail_msg("wire: got \"%s\", want dot-stuffed lines",
		    t->wire->str);
	t = srv_txn(s, 2);
	if (strcmp(t->wire->str, "x\r\n..\r\n") != 0)
		fail_msg("wire: got \"%s\", want \"x\\r\\n..\\r\\n\"",
		    t->wire->str);
	/* EHLO went out with our name. */
	if (strcmp(t->verb, "EHLO") != 0)
		fail_msg("verb: got %s, want EHLO", t->verb);
}

/* A message of many lines and more than the write buffer. */
static void
test_send_large(void **state)
{
	struct srv *s = *state;
	struct smtp_relay r;
	GString *in = g_string_new(NULL), *want = g_string_new(NULL);
	char err[512];
	struct txn *t;
	int i;

	srv_start(s);
	r = relay_of(s, 5000);
	g_string_append(in, "Subject: big\n\n");
	g_string_append(want, "Subject: big\r\n\r\n");
	for (i = 0; i < 20000; i++) {
		g_string_append_printf(in, "%sline %d of the big message%s",
		    i % 7 == 0 ? "." : "", i, i % 3 == 0 ? "\r\n" : "\n");
		g_string_append_printf(want, "%sline %d of the big message\r\n",
		    i % 7 == 0 ? "." : "", i);
	}
	if (smtp_send(&r, "sender@example.org", one_rcpt, 1, in->str, in->len,
	    err, sizeof err) != 0)
		fail_msg("got -1 (%s), want 0", err);
	assert_int_equal(srv_wait(s, 1, 2000), 1);
	t = srv_txn(s, 0);
	if (t->data->len != want->len || memcmp(t->data->str, want->str,
	    want->len) != 0)
		fail_msg("got %zu bytes back, want the %zu sent", t->data->len,
		    want->len);
	if (strcmp(t->mail, "MAIL FROM:<sender@example.org>") != 0)
		fail_msg("got \"%s\", want MAIL FROM:<sender@example.org>",
		    t->mail);
	g_string_free(in, TRUE);
	g_string_free(want, TRUE);
}

static void
test_send_multiline_ehlo(void **state)
{
	struct srv *s = *state;
	struct smtp_relay r;
	char err[512];
	static const char eight[] = "Subject: x\r\n\r\nGr\xc3\xbc\xc3\x9f"
	    "e\r\n";
	static const char seven[] = "Subject: x\r\n\r\nhello\r\n";
	struct txn *t;

	s->ehlo_reply = "250-test.invalid Hello\r\n250-PIPELINING\r\n"
	    "250-SIZE 10240000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
	    "250 ENHANCEDSTATUSCODES\r\n";
	srv_start(s);
	r = relay_of(s, 2000);
	if (smtp_send(&r, "a@example.org", one_rcpt, 1, eight, strlen(eight),
	    err, sizeof err) != 0)
		fail_msg("8-bit: got -1 (%s), want 0", err);
	if (smtp_send(&r, "a@example.org", one_rcpt, 1, seven, strlen(seven),
	    err, sizeof err) != 0)
		fail_msg("7-bit: got -1 (%s), want 0", err);
	if (smtp_send(&r, "j\xc3\xb6rg@example.org", one_rcpt, 1, seven,
	    strlen(seven), err, sizeof err) != 0)
		fail_msg("UTF-8 sender: got -1 (%s), want 0", err);
	assert_int_equal(srv_wait(s, 3, 2000), 3);
	t = srv_txn(s, 0);
	if (strcmp(t->verb, "EHLO") != 0)
		fail_msg("verb: got %s, want EHLO", t->verb);
	if (strcmp(t->mail, "MAIL FROM:<a@example.org> BODY=8BITMIME") != 0)
		fail_msg("8-bit: got \"%s\", want BODY=8BITMIME", t->mail);
	if (strcmp(t->data->str, eight) != 0)
		fail_msg("8-bit data: got \"%s\", want \"%s\"", t->data->str,
		    eight);
	t = srv_txn(s, 1);
	if (strcmp(t->mail, "MAIL FROM:<a@example.org>") != 0)
		fail_msg("7-bit: got \"%s\", want no BODY=", t->mail);
	t = srv_txn(s, 2);
	if (strcmp(t->mail, "MAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8") != 0)
		fail_msg("UTF-8 sender: got \"%s\", want SMTPUTF8", t->mail);
}

static void
test_send_helo_fallback(void **state)
{
	struct srv *s = *state;
	struct smtp_relay r;
	char err[512];

	s->fail_step = STEP_EHLO;
	s->fail_reply = "502 5.5.2 Error: command not recognized";
	srv_start(s);
	r = relay_of(s, 2000);
	if (smtp_send(&r, "", one_rcpt, 1, "x\n", 2, err, sizeof err) != 0)
		fail_msg("got -1 (%s), want 0", err);
	assert_int_equal(srv_wait(s, 1, 2000), 1);
	if (strcmp(srv_txn(s, 0)->verb, "HELO") != 0)
		fail_msg("verb: got %s, want HELO", srv_txn(s, 0)->verb);
}

static void
test_send_rcpt_some_refused(void **state)
{
	static const char *const rcpts[] = { "a@example.com",
	    "bad1@example.com", "b@example.com", "bad2@example.com" };
	struct srv *s = *state;
	struct smtp_relay r;
	char err[512];
	struct txn *t;
	int rc;

	srv_start(s);
	r = relay_of(s, 2000);
	rc = smtp_send(&r, "", rcpts, 4, "x\n", 2, err, sizeof err);
	if (rc != 0)
		fail_msg("got %d (%s), want 0", rc, err);
	if (strstr(err, "RCPT TO:<bad1@example.com>: 550 5.1.1") == NULL ||
	    strstr(err, "bad2@example.com") == NULL ||
	    strstr(err, "<a@example.com>") != NULL ||
	    strstr(err, "<b@example.com>") != NULL)
		fail_msg("err: got \"%s\", want bad1 and bad2 named, not a, b",
		    err);
	assert_int_equal(srv_wait(s, 1, 2000), 1);
	t = srv_txn(s, 0);
	if (t->rcpts->len != 2 || strcmp(t->rcpts->pdata[0],
	    "a@example.com") != 0 || strcmp(t->rcpts->pdata[1],
	    "b@example.com") != 0)
		fail_msg("got %u recipients, want a@ and b@", t->rcpts->len);
}

static void
test_send_rcpt_all_refused(void **state)
{
	static const char *const rcpts[] = { "bad1@example.com",
	    "bad2@example.com" };
	struct srv *s = *state;
	struct smtp_relay r;
	char err[512];
	int rc;

	srv_start(s);
	r = relay_of(s, 2000);
	rc = smtp_send(&r, "", rcpts, 2, "x\n", 2, err, sizeof err);
	if (rc != -1)
		fail_msg("got %d, want -1", rc);
	if (strstr(err, "RCPT TO:<bad1@example.com>: 550") == NULL ||
	    strstr(err, "RCPT TO:<bad2@example.com>: 550") == NULL)
		fail_msg("err: got \"%s\", want both refusals", err);
	sleep_ms(50);
	assert_int_equal(srv_count(s), 0);
}

/* Failures at each step: rc -1, err naming step and reply. */
static void
test_send_failures(void **state)
{
	static const struct {
		enum step	 step;
		const char	*reply;
		const char	*want;		/* in err */
	} rows[] = {
		{ STEP_GREETING, "554 5.3.2 go away", "greeting: 554 5.3.2" },
		{ STEP_MAIL, "451 4.3.0 try later",
		  "MAIL FROM:<>: 451 4.3.0 try later" },
		{ STEP_DATA, "554 5.5.1 no", "DATA: 554 5.5.1 no" },
		{ STEP_DOT, "550 5.7.1 content rejected",
		  "end of data: 550 5.7.1 content rejected" },
		{ STEP_DOT, "451-4.3.0 first line\r\n451 4.3.0 second line",
		  "end of data: 451-4.3.0 first line / 4.3.0 second line" },
		{ STEP_EHLO, "421 4.3.2 shutting down", "EHLO: 421" },
	};
	struct srv *s = *state;
	struct smtp_relay r;
	char err[512];
	size_t i;
	int rc;

	srv_start(s);
	r = relay_of(s, 2000);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		(void)pthread_mutex_lock(&s->mu);
		s->fail_step = rows[i].step;
		s->fail_reply = rows[i].reply;
		s->fail_times = 1;
		(void)pthread_mutex_unlock(&s->mu);
		if (rows[i].step == STEP_GREETING) {
			/* The greeting is sent by the hook instead. */
			(void)pthread_mutex_lock(&s->mu);
			s->fail_step = STEP_NONE;
			s->greeting = "554 5.3.2 go away\r\n";
			(void)pthread_mutex_unlock(&s->mu);
		}
		rc = smtp_send(&r, "", one_rcpt, 1, "x\n", 2, err, sizeof err);
		(void)pthread_mutex_lock(&s->mu);
		s->greeting = NULL;
		(void)pthread_mutex_unlock(&s->mu);
		if (rc != -1)
			fail_msg("row %zu: got %d, want -1", i, rc);
		if (strstr(err, rows[i].want) == NULL)
			fail_msg("row %zu: got err \"%s\", want \"%s\"", i, err,
			    rows[i].want);
	}
}

static void
test_send_server_closes(void **state)
{
	static const struct {
		enum step	 step;
		const char	*want;
	} rows[] = {
		{ STEP_GREETING, "greeting: read: connection closed" },
		{ STEP_MAIL, "MAIL FROM: read: connection closed" },
		{ STEP_RCPT, "RCPT TO:<alice@example.com>: read: connection" },
		{ STEP_BODY, "end of data: " },
		{ STEP_DOT, "end of data: read: connection closed" },
	};
	struct srv *s = *state;
	struct smtp_relay r;
	GString *big = g_string_new(NULL);
	char err[512];
	size_t i;
	int rc;

	/* Big enough that writes meet the closed socket: EPIPE, not a
	 * SIGPIPE that would kill this test. */
	while (big->len < 4u << 20)
		g_string_append(big, "a line of a message that is big\r\n");
	srv_start(s);
	r = relay_of(s, 10000);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int whole = rows[i].step == STEP_BODY;

		(void)pthread_mutex_lock(&s->mu);
		s->close_step = rows[i].step;
		(void)pthread_mutex_unlock(&s->mu);
		rc = smtp_send(&r, "", one_rcpt, 1, big->str, whole ? big->len :
		    4096, err, sizeof err);
		if (rc != -1)
			fail_msg("row %zu: got %d, want -1", i, rc);
		if (strstr(err, rows[i].want) == NULL)
			fail_msg("row %zu: got err \"%s\", want \"%s\"", i, err,
			    rows[i].want);
	}
	g_string_free(big, TRUE);
}

static void
test_send_timeout(void **state)
{
	struct srv *s = *state;
	struct smtp_relay r;
	char err[512];
	long long t0, dt;
	int rc;

	s->stall_step = STEP_GREETING;
	srv_start(s);
	r = relay_of(s, 300);
	t0 = now_ms();
	rc = smtp_send(&r, "", one_rcpt, 1, "x\n", 2, err, sizeof err);
	dt = now_ms() - t0;
	if (rc != -1 || strstr(err, "greeting: read: timed out") == NULL)
		fail_msg("got %d \"%s\", want -1 greeting: read: timed out",
		    rc, err);
	if (dt < 250 || dt > 3000)
		fail_msg("took %lld ms, want about 300", dt);
	/* Now a relay that takes the data and never answers the dot. */
	(void)pthread_mutex_lock(&s->mu);
	s->stall_step = STEP_DOT;
	(void)pthread_mutex_unlock(&s->mu);
	srv_release(s);		/* ends the first stall */
	t0 = now_ms();
	rc = smtp_send(&r, "", one_rcpt, 1, "x\n", 2, err, sizeof err);
	dt = now_ms() - t0;
	if (rc != -1 || strstr(err, "end of data: read: timed out") == NULL)
		fail_msg("got %d \"%s\", want -1 end of data: read: timed out",
		    rc, err);
	if (dt > 3000)
		fail_msg("took %lld ms, want about 300", dt);
	srv_release(s);
}

static void
test_send_bad_input(void **state)
{
	static const char *const crlf[] = { "a@example.com\r\nRCPT TO:<x@y>" };
	static const char *const empty[] = { "" };
	/* Static: the server may still be sending it when we are done. */
	static char longline[5008];
	struct srv *s = *state;
	struct smtp_relay r;
	char err[512];
	int rc, fd, port;
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;

	memset(longline, 'x', sizeof longline - 3);
	memcpy(longline, "220 ", 4);
	memcpy(longline + sizeof longline - 3, "\r\n", 3);
	s->greeting = longline;
	srv_start(s);
	r = relay_of(s, 2000);

	if ((rc = smtp_send(&r, "", one_rcpt, 0, "x", 1, err,
	    sizeof err)) != -1)
		fail_msg("no recipients: got %d, want -1", rc);
	if ((rc = smtp_send(&r, "", crlf, 1, "x", 1, err, sizeof err)) != -1)
		fail_msg("CRLF in address: got %d, want -1", rc);
	if ((rc = smtp_send(&r, "", empty, 1, "x", 1, err, sizeof err)) != -1)
		fail_msg("empty address: got %d, want -1", rc);
	if ((rc = smtp_send(&r, "a>b", one_rcpt, 1, "x", 1, err,
	    sizeof err)) != -1)
		fail_msg("'>' in sender: got %d, want -1", rc);
	/* A reply line past the bound. */
	rc = smtp_send(&r, "", one_rcpt, 1, "x", 1, err, sizeof err);
	if (rc != -1 || strstr(err, "longer than") == NULL)
		fail_msg("long reply: got %d \"%s\", want -1 \"longer than\"",
		    rc, err);
	/* Nobody listening. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	(void)close(fd);
	r.port = port;
	rc = smtp_send(&r, "", one_rcpt, 1, "x", 1, err, sizeof err);
	if (rc != -1 || strstr(err, "connect 127.0.0.1:") == NULL)
		fail_msg("closed port: got %d \"%s\", want -1 connect", rc,
		    err);
}

/* ---- notify_build ---- */

static GMimeMessage *
parse_msg(const char *raw, size_t len)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(raw, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(st);
	assert_non_null(m);
	return m;
}

/* The text of a single-part message, LF line ends. */
static char *
msg_text(GMimeMessage *m)
{
	GMimeObject *part = g_mime_message_get_mime_part(m);
	char *t, *o;
	size_t i, k;

	assert_non_null(part);
	assert_true(GMIME_IS_TEXT_PART(part));
	t = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	assert_non_null(t);
	for (i = k = 0, o = t; t[i] != '\0'; i++)
		if (!(t[i] == '\r' && t[i + 1] == '\n'))
			o[k++] = t[i];
	o[k] = '\0';
	return t;
}

static const char *
hdr(GMimeMessage *m, const char *name)
{
	return g_mime_object_get_header(GMIME_OBJECT(m), name);
}

static void
key_fill(struct qkey *k, unsigned char seed)
{
	memset(k->seal, seed, sizeof k->seal);
	memset(k->release, seed + 1, sizeof k->release);
	memset(k->notice, seed + 2, sizeof k->notice);
}

static struct notify_conf
conf_of(const struct srv *s, const struct qkey *k)
{
	struct notify_conf c;
	static char from[] = "custos@example.org";

	memset(&c, 0, sizeof c);
	c.relay = relay_of(s, 2000);
	c.from = from;
	c.window = 0;
	c.max_queue = 100;
	c.key = k;
	return c;
}

/* The header lines: none longer than max, every line CRLF. */
static void
check_lines(const char *raw, size_t len, size_t hmax)
{
	const char *p = raw, *end = raw + len, *nl;
	int in_header = 1;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			fail_msg("last line: got no line end, want CRLF");
		if (nl == p || nl[-1] != '\r')
			fail_msg("got a bare LF at byte %zu, want CRLF",
			    (size_t)(nl - raw));
		if (nl - p == 1)
			in_header = 0;
		else if (in_header && (size_t)(nl - 1 - p) > hmax &&
		    strncmp(p, TOKEN_NOTICE_HEADER, 15) != 0)
			fail_msg("header line of %zu chars \"%.*s\", want at "
			    "most %zu", (size_t)(nl - 1 - p), (int)(nl - 1 - p),
			    p, hmax);
		else if (!in_header && nl - 1 - p > 76)
			fail_msg("body line of %zu chars, want at most 76",
			    (size_t)(nl - 1 - p));
		p = nl + 1;
	}
}

static void
test_build(void **state)
{
	static const char subject[] =
	    "\xe6\x82\xa8\xe7\x9a\x84\xe9\x82\xae\xe4\xbb\xb6\xe5\x9b\xa0"
	    "\xe5\x8c\x85\xe5\x90\xab\xe6\x95\x8f\xe6\x84\x9f\xe4\xbf\xa1"
	    "\xe6\x81\xaf\xe5\xb7\xb2\xe8\xa2\xab\xe6\x8b\xa6\xe6\x88\xaa"
	    "\xef\xbc\x8c\xe8\xaf\xb7\xe8\x81\x94\xe7\xb3\xbb\xe5\xae\x89"
	    "\xe5\x85\xa8\xe5\x9b\xa2\xe9\x98\x9f\xe3\x80\x82 Incident "
	    "7K2M-Q9XD-3F0A \xe2\x80\x94 \xe9\x82\xae\xe4\xbb\xb6\xe5\xb7\xb2"
	    "\xe9\x9a\x94\xe7\xa6\xbb";
	static const char body[] =
	    "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\n\n"
	    "\xe8\xbf\x99\xe6\x98\xaf\xe4\xb8\x80\xe4\xb8\xaa\xe6\xb5\x8b"
	    "\xe8\xaf\x95\xe3\x80\x82\n.a line with a dot\nline 4\n";
	static const char *const to[] = { "alice@example.com",
	    "bob@example.com" };
	struct srv *s = *state;
	struct qkey k, other;
	struct notify_conf c;
	unsigned char d[TOKEN_DIGEST_BYTES];
	GMimeMessage *m;
	InternetAddressList *al;
	char err[256], *raw, *text, *str;
	const char *v;
	size_t len;
	int r;

	key_fill(&k, 9);
	key_fill(&other, 19);
	c = conf_of(s, &k);
	raw = notify_build(&c, to, 2, subject, body, &len, err, sizeof err);
	if (raw == NULL)
		fail_msg("notify_build: %s", err);
	assert_int_equal(len, strlen(raw));
	check_lines(raw, len, 77);

	m = parse_msg(raw, len);
	if (strcmp(g_mime_message_get_subject(m), subject) != 0)
		fail_msg("subject: got \"%s\", want \"%s\"",
		    g_mime_message_get_subject(m), subject);
	if (strstr(raw, "Subject: =?UTF-8?B?") == NULL)
		fail_msg("raw subject: got no encoded-word, want =?UTF-8?B?");
	text = msg_text(m);
	if (strcmp(text, body) != 0)
		fail_msg("body: got \"%s\", want \"%s\"", text, body);
	g_free(text);
	al = g_mime_message_get_from(m);
	str = internet_address_list_to_string(al, NULL, FALSE);
	if (strcmp(str, "custos@example.org") != 0)
		fail_msg("From: got \"%s\", want custos@example.org", str);
	g_free(str);
	al = g_mime_message_get_to(m);
	if (internet_address_list_length(al) != 2)
		fail_msg("To: got %d addresses, want 2",
		    internet_address_list_length(al));
	v = g_mime_message_get_message_id(m);
	if (v == NULL || !g_str_has_suffix(v, "@example.org") ||
	    strlen(v) < 20)
		fail_msg("Message-ID: got \"%s\", want random@example.org",
		    v != NULL ? v : "(none)");
	if (g_mime_message_get_date(m) == NULL)
		fail_msg("Date: got none or unparsable, want RFC 5322 date");
	if ((v = hdr(m, "MIME-Version")) == NULL || strcmp(v, "1.0") != 0)
		fail_msg("MIME-Version: got %s, want 1.0", v ? v : "(none)");
	if ((v = hdr(m, "Auto-Submitted")) == NULL ||
	    strcmp(v, "auto-generated") != 0)
		fail_msg("Auto-Submitted: got %s, want auto-generated",
		    v ? v : "(none)");
	if ((v = g_mime_object_get_header(g_mime_message_get_mime_part(m),
	    "Content-Transfer-Encoding")) == NULL ||
	    g_ascii_strcasecmp(v, "base64") != 0)
		fail_msg("CTE: got %s, want base64", v ? v : "(none)");
	{
		GMimeContentType *ct = g_mime_object_get_content_type(
		    g_mime_message_get_mime_part(m));
		const char *cs = g_mime_content_type_get_parameter(ct,
		    "charset");

		if (!g_mime_content_type_is_type(ct, "text", "plain") ||
		    cs == NULL || g_ascii_strcasecmp(cs, "utf-8") != 0)
			fail_msg("Content-Type: got another, want "
			    "text/plain; charset=utf-8");
	}

	/* The token verifies over the body as sent, and only so. */
	if ((v = hdr(m, TOKEN_NOTICE_HEADER)) == NULL)
		fail_msg("%s: got none, want one", TOKEN_NOTICE_HEADER);
	token_body_digest(raw, len, d);
	if ((r = token_notice_check(&k, v, d)) != 1)
		fail_msg("token \"%s\": got %d, want 1", v, r);
	if ((r = token_notice_check(&other, v, d)) != 0)
		fail_msg("token, another key: got %d, want 0", r);
	{
		char *mod = g_strdup(raw);
		char *b = strstr(mod, "\r\n\r\n") + 4;

		*b = *b == 'A' ? 'B' : 'A';
		token_body_digest(mod, len, d);
		if ((r = token_notice_check(&k, v, d)) != 0)
			fail_msg("token, body changed: got %d, want 0", r);
		g_free(mod);
	}
	g_object_unref(m);
	g_free(raw);

	/* Without a key, no token header. */
	c.key = NULL;
	raw = notify_build(&c, to, 1, "plain", "hi\n", &len, err, sizeof err);
	assert_non_null(raw);
	if (strstr(raw, TOKEN_NOTICE_HEADER) != NULL)
		fail_msg("no key: got a token header, want none");
	if (strstr(raw, "\r\nSubject: plain\r\n") == NULL)
		fail_msg("ASCII subject: got it encoded, want it plain");
	g_free(raw);

	/* No recipients, no From: errors. */
	if ((raw = notify_build(&c, to, 0, "s", "b", &len, err,
	    sizeof err)) != NULL)
		fail_msg("no recipients: got a message, want NULL");
	c.from = NULL;
	if ((raw = notify_build(&c, to, 1, "s", "b", &len, err,
	    sizeof err)) != NULL)
		fail_msg("no From: got a message, want NULL");
}

static void
test_build_injection(void **state)
{
	static const char *const to[] = {
	    "alice@example.com\r\nBcc: evil@example.net" };
	struct srv *s = *state;
	struct notify_conf c;
	GMimeMessage *m;
	char err[256], *raw, *longsubj;
	size_t len;
	GString *ls = g_string_new(NULL);
	int i;

	c = conf_of(s, NULL);
	raw = notify_build(&c, to, 1, "Hello\r\nBcc: evil@example.net\r\n\r\n"
	    "body", "text\n", &len, err, sizeof err);
	assert_non_null(raw);
	m = parse_msg(raw, len);
	if (hdr(m, "Bcc") != NULL)
		fail_msg("Bcc: got a Bcc header \"%s\", want none",
		    hdr(m, "Bcc"));
	if (strstr(g_mime_message_get_subject(m), "Hello") == NULL ||
	    strstr(g_mime_message_get_subject(m), "Bcc: evil") == NULL)
		fail_msg("subject: got \"%s\", want the text on one line",
		    g_mime_message_get_subject(m));
	check_lines(raw, len, 998);
	g_object_unref(m);
	g_free(raw);

	/* A long ASCII subject is folded, and unfolds to itself. */
	for (i = 0; i < 30; i++)
		g_string_append_printf(ls, "%sword%d", i > 0 ? " " : "", i);
	longsubj = g_string_free(ls, FALSE);
	raw = notify_build(&c, to, 1, longsubj, "x", &len, err, sizeof err);
	assert_non_null(raw);
	check_lines(raw, len, 77);
	m = parse_msg(raw, len);
	if (strcmp(g_mime_message_get_subject(m), longsubj) != 0)
		fail_msg("folded subject: got \"%s\", want \"%s\"",
		    g_mime_message_get_subject(m), longsubj);
	g_object_unref(m);
	g_free(raw);
	g_free(longsubj);
}

/* ---- the notifier ---- */

static void
item_of(struct notify_item *it, const char *key, const char *const *to,
    int n, char *buf, size_t buflen)
{
	memset(it, 0, sizeof *it);
	it->key = key;
	it->to = to;
	it->nto = 1;
	(void)snprintf(buf, buflen, "line %d", n);
	it->subject = "Your message was stopped";
	it->body = "Your message was stopped.\n";
	it->digest_subject = "Messages stopped";
	it->digest_head = "These messages were stopped:";
	it->digest_line = buf;
	it->incident = "7K2M-Q9XD-3F0A";
}

static int
submit(struct notifier *n, const char *key, const char *const *to, int i)
{
	struct notify_item it;
	char line[64], err[256];
	int rc;

	item_of(&it, key, to, i, line, sizeof line);
	if ((rc = notify_submit(n, &it, err, sizeof err)) != 0)
		fail_msg("submit %d: %s", i, err);
	return rc;
}

/* Subject and LF text of transaction i. */
static void
txn_parts(struct srv *s, unsigned i, char **subject, char **text)
{
	struct txn *t = srv_txn(s, i);
	GMimeMessage *m = parse_msg(t->data->str, t->data->len);

	*subject = g_strdup(g_mime_message_get_subject(m));
	*text = msg_text(m);
	g_object_unref(m);
}

static void
test_notify_window(void **state)
{
	struct srv *s = *state;
	struct qkey k;
	struct notify_conf c;
	struct notifier *n;
	char err[256], *subj, *text;
	long long t0, t1;
	int i;

	srv_start(s);
	key_fill(&k, 1);
	notify_set_timescale(10);	/* window 50 s: half a second */
	c = conf_of(s, &k);
	c.window = 50;
	if ((n = notify_start(&c, err, sizeof err)) == NULL)
		fail_msg("notify_start: %s", err);
	t0 = now_ms();
	submit(n, "sender:alice", one_rcpt, 1);
	if (srv_wait(s, 1, 3000) != 1)
		fail_msg("first notice: got %u messages, want 1 at once",
		    srv_count(s));
	for (i = 2; i <= 5; i++)
		submit(n, "sender:alice", one_rcpt, i);
	if (srv_wait(s, 2, 5000) != 2)
		fail_msg("digest: got %u messages, want 2", srv_count(s));
	t1 = srv_txn(s, 1)->t_ms;
	if (t1 - t0 < 490)
		fail_msg("digest after %lld ms, want after the 500 ms window",
		    t1 - t0);

	txn_parts(s, 0, &subj, &text);
	if (strcmp(subj, "Your message was stopped") != 0 ||
	    strcmp(text, "Your message was stopped.\n") != 0)
		fail_msg("first: got \"%s\" / \"%s\", want the notice", subj,
		    text);
	g_free(subj);
	g_free(text);
	txn_parts(s, 1, &subj, &text);
	if (strcmp(subj, "Messages stopped (4)") != 0)
		fail_msg("digest subject: got \"%s\", want \"Messages stopped "
		    "(4)\"", subj);
	if (strcmp(text, "These messages were stopped:\n\nline 2\nline 3\n"
	    "line 4\nline 5\n") != 0)
		fail_msg("digest body: got \"%s\", want 4 lines", text);
	g_free(subj);
	g_free(text);
	if (srv_txn(s, 1)->rcpts->len != 1 || strcmp(srv_txn(s,
	    1)->rcpts->pdata[0], "alice@example.com") != 0)
		fail_msg("digest recipient: want alice@example.com");

	/* The digest opened the next window: one more is held for it. */
	submit(n, "sender:alice", one_rcpt, 6);
	sleep_ms(100);
	if (srv_count(s) != 2)
		fail_msg("inside the next window: got %u messages, want 2",
		    srv_count(s));
	if (srv_wait(s, 3, 5000) != 3)
		fail_msg("second digest: got %u messages, want 3",
		    srv_count(s));
	txn_parts(s, 2, &subj, &text);
	if (strcmp(subj, "Messages stopped (1)") != 0 ||
	    strstr(text, "\nline 6\n") == NULL)
		fail_msg("second digest: got \"%s\" / \"%s\", want (1) with "
		    "line 6", subj, text);
	g_free(subj);
	g_free(text);
	/* Nothing more: an empty window sends nothing. */
	sleep_ms(700);
	if (srv_count(s) != 3)
		fail_msg("after an empty window: got %u messages, want 3",
		    srv_count(s));
	assert_null(notify_stop(n, 5));
}

static void
test_notify_two_keys(void **state)
{
	static const char *const bob[] = { "bob@example.com" };
	struct srv *s = *state;
	struct notify_conf c;
	struct notifier *n;
	char err[256], *subj, *text;
	unsigned i, seen = 0;

	srv_start(s);
	notify_set_timescale(10);
	c = conf_of(s, NULL);
	c.window = 50;
	if ((n = notify_start(&c, err, sizeof err)) == NULL)
		fail_msg("notify_start: %s", err);
	submit(n, "sender:alice", one_rcpt, 1);
	submit(n, "sender:bob", bob, 1);
	if (srv_wait(s, 2, 3000) != 2)
		fail_msg("first notices: got %u messages, want 2",
		    srv_count(s));
	submit(n, "sender:alice", one_rcpt, 2);
	submit(n, "sender:bob", bob, 2);
	submit(n, "sender:bob", bob, 3);
	if (srv_wait(s, 4, 5000) != 4)
		fail_msg("digests: got %u messages, want 4", srv_count(s));
	for (i = 2; i < 4; i++) {
		const char *rc = srv_txn(s, i)->rcpts->pdata[0];

		txn_parts(s, i, &subj, &text);
		if (strcmp(rc, "alice@example.com") == 0) {
			seen |= 1;
			if (strcmp(subj, "Messages stopped (1)") != 0 ||
			    strstr(text, "line 2\n") == NULL)
				fail_msg("alice: got \"%s\", want (1)", subj);
		} else {
			seen |= 2;
			if (strcmp(subj, "Messages stopped (2)") != 0 ||
			    strstr(text, "\nline 2\nline 3\n") == NULL)
				fail_msg("bob: got \"%s\" / \"%s\", want (2)",
				    subj, text);
		}
		g_free(subj);
		g_free(text);
	}
	if (seen != 3)
		fail_msg("digests: got recipients mask %u, want both", seen);
	assert_null(notify_stop(n, 5));
}

/* The Message-ID line of a transaction. */
static char *
txn_msgid(struct srv *s, unsigned i)
{
	const char *p = strstr(srv_txn(s, i)->data->str, "Message-ID: ");

	assert_non_null(p);
	return g_strndup(p, strcspn(p, "\r"));
}

static void
test_notify_retry(void **state)
{
	struct srv *s = *state;
	struct notify_conf c;
	struct notifier *n;
	char err[256], *id0, *id1;
	long long gap;

	s->fail_step = STEP_DOT;
	s->fail_reply = "451 4.3.0 try again later";
	s->fail_times = 1;
	srv_start(s);
	notify_set_timescale(1);	/* 30 s: 30 ms */
	c = conf_of(s, NULL);
	if ((n = notify_start(&c, err, sizeof err)) == NULL)
		fail_msg("notify_start: %s", err);
	submit(n, "k", one_rcpt, 1);
	if (srv_wait(s, 2, 3000) != 2)
		fail_msg("got %u attempts, want 2", srv_count(s));
	if (srv_txn(s, 0)->delivered || !srv_txn(s, 1)->delivered)
		fail_msg("got delivered %d, %d; want 0, 1",
		    srv_txn(s, 0)->delivered, srv_txn(s, 1)->delivered);
	gap = srv_txn(s, 1)->t_ms - srv_txn(s, 0)->t_ms;
	if (gap < 25)
		fail_msg("retry after %lld ms, want after 30", gap);
	/* The same message again, not a new one. */
	id0 = txn_msgid(s, 0);
	id1 = txn_msgid(s, 1);
	if (strcmp(id0, id1) != 0)
		fail_msg("retry: got \"%s\", want \"%s\"", id1, id0);
	g_free(id0);
	g_free(id1);
	sleep_ms(100);
	if (srv_count(s) != 2)
		fail_msg("after delivery: got %u attempts, want 2",
		    srv_count(s));
	assert_null(notify_stop(n, 5));
}

static void
test_notify_give_up(void **state)
{
	struct srv *s = *state;
	struct notify_conf c;
	struct notifier *n;
	char err[256];

	s->fail_step = STEP_DOT;
	s->fail_reply = "451 4.3.0 try again later";
	srv_start(s);
	notify_set_timescale(1);	/* 30 + 120 + 600 s: 750 ms */
	c = conf_of(s, NULL);
	if ((n = notify_start(&c, err, sizeof err)) == NULL)
		fail_msg("notify_start: %s", err);
	submit(n, "k", one_rcpt, 1);
	if (srv_wait(s, 4, 5000) != 4)
		fail_msg("got %u attempts, want 4", srv_count(s));
	sleep_ms(400);
	if (srv_count(s) != 4)
		fail_msg("got %u attempts, want 4 and then none",
		    srv_count(s));
	assert_null(notify_stop(n, 5));
}

static void
test_notify_queue_limit(void **state)
{
	struct srv *s = *state;
	struct notify_conf c;
	struct notifier *n;
	struct notify_item it;
	char err[256], line[64];
	int i, rc;

	s->stall_step = STEP_GREETING;
	s->stall_times = 1;
	srv_start(s);
	notify_set_timescale(1000);
	c = conf_of(s, NULL);
	c.relay.timeout_ms = 5000;
	c.max_queue = 3;
	if ((n = notify_start(&c, err, sizeof err)) == NULL)
		fail_msg("notify_start: %s", err);
	submit(n, "k1", one_rcpt, 1);
	/* The thread is now stuck in the first send: the rest wait. */
	if (srv_wait_stalled(s, 3000) != 1)
		fail_msg("got no connection, want the first send stalled");
	for (i = 2; i <= 4; i++)
		submit(n, "k", one_rcpt, i);
	item_of(&it, "k", one_rcpt, 5, line, sizeof line);
	rc = notify_submit(n, &it, err, sizeof err);
	if (rc != -1 || strstr(err, "queue full") == NULL)
		fail_msg("4th waiting: got %d \"%s\", want -1 queue full", rc,
		    err);
	srv_release(s);
	if (srv_wait(s, 4, 5000) != 4)
		fail_msg("after release: got %u messages, want 4",
		    srv_count(s));
	sleep_ms(50);
	if (srv_count(s) != 4)
		fail_msg("got %u messages, want 4", srv_count(s));
	/* Room again. */
	submit(n, "k", one_rcpt, 6);
	if (srv_wait(s, 5, 3000) != 5)
		fail_msg("after the queue drained: got %u, want 5",
		    srv_count(s));
	assert_null(notify_stop(n, 5));
}

static void
test_notify_stop_flushes(void **state)
{
	struct srv *s = *state;
	struct notify_conf c;
	struct notifier *n;
	char err[256], *subj, *text;
	long long t0;

	srv_start(s);
	notify_set_timescale(1000);
	c = conf_of(s, NULL);
	c.window = 3600;
	if ((n = notify_start(&c, err, sizeof err)) == NULL)
		fail_msg("notify_start: %s", err);
	submit(n, "k", one_rcpt, 1);
	if (srv_wait(s, 1, 3000) != 1)
		fail_msg("got %u messages, want 1", srv_count(s));
	submit(n, "k", one_rcpt, 2);
	submit(n, "k", one_rcpt, 3);
	t0 = now_ms();
	assert_null(notify_stop(n, 5));
	if (now_ms() - t0 > 3000)
		fail_msg("notify_stop took %lld ms, want well under 5 s",
		    now_ms() - t0);
	if (srv_count(s) != 2)
		fail_msg("after stop: got %u messages, want 2", srv_count(s));
	txn_parts(s, 1, &subj, &text);
	if (strcmp(subj, "Messages stopped (2)") != 0 ||
	    strstr(text, "\nline 2\nline 3\n") == NULL)
		fail_msg("flushed digest: got \"%s\" / \"%s\", want (2)", subj,
		    text);
	g_free(subj);
	g_free(text);
}

/* A digest lists 500 lines at most and counts the rest. */
static void
test_notify_digest_cap(void **state)
{
	struct srv *s = *state;
	struct notify_conf c;
	struct notifier *n;
	char err[256], *subj, *text, *p;
	int i, lines = 0;

	srv_start(s);
	notify_set_timescale(1000);
	c = conf_of(s, NULL);
	c.window = 3600;
	c.max_queue = 1000;
	if ((n = notify_start(&c, err, sizeof err)) == NULL)
		fail_msg("notify_start: %s", err);
	for (i = 1; i <= 504; i++)
		submit(n, "k", one_rcpt, i);
	assert_null(notify_stop(n, 5));
	if (srv_count(s) != 2)
		fail_msg("got %u messages, want notice and digest",
		    srv_count(s));
	txn_parts(s, 1, &subj, &text);
	if (strcmp(subj, "Messages stopped (503)") != 0)
		fail_msg("subject: got \"%s\", want \"Messages stopped (503)\"",
		    subj);
	for (p = text; (p = strstr(p, "\nline ")) != NULL; p++)
		lines++;
	if (lines != 500 || strstr(text, "\nline 501\n") == NULL ||
	    strstr(text, "\nline 502\n") != NULL ||
	    !g_str_has_suffix(text, "\n... and 3 more\n"))
		fail_msg("body: got %d lines, want 500 (2..501) and "
		    "\"... and 3 more\"", lines);
	g_free(subj);
	g_free(text);
}

/* A relay that is down: stop gives up within its timeout. */
static void
test_notify_stop_relay_down(void **state)
{
	struct srv *s = *state;
	struct notify_conf c;
	struct notifier *n;
	char err[256];
	long long t0;

	srv_start(s);
	notify_set_timescale(1000);
	c = conf_of(s, NULL);
	c.relay.port = 1;	/* nobody there */
	if ((n = notify_start(&c, err, sizeof err)) == NULL)
		fail_msg("notify_start: %s", err);
	submit(n, "k", one_rcpt, 1);
	sleep_ms(100);
	t0 = now_ms();
	assert_null(notify_stop(n, 1));
	if (now_ms() - t0 > 2500)
		fail_msg("notify_stop took %lld ms, want about 1 s at most",
		    now_ms() - t0);
}

static void
test_notify_configure(void **state)
{
	struct srv *s = *state, *s2 = srv_new();
	struct notify_conf c;
	struct notifier *n;
	char err[256];
	static char from2[] = "notices@example.net";

	srv_start(s);
	srv_start(s2);
	notify_set_timescale(1000);
	c = conf_of(s, NULL);
	if ((n = notify_start(&c, err, sizeof err)) == NULL)
		fail_msg("notify_start: %s", err);
	submit(n, "k", one_rcpt, 1);
	if (srv_wait(s, 1, 3000) != 1)
		fail_msg("first relay: got %u, want 1", srv_count(s));
	c = conf_of(s2, NULL);
	c.from = from2;
	if (notify_configure(n, &c, err, sizeof err) != 0)
		fail_msg("notify_configure: %s", err);
	submit(n, "k", one_rcpt, 2);
	if (srv_wait(s2, 1, 3000) != 1)
		fail_msg("second relay: got %u, want 1", srv_count(s2));
	if (strcmp(srv_txn(s2, 0)->mail, "MAIL FROM:<notices@example.net>"))
		fail_msg("got \"%s\", want the new From", srv_txn(s2, 0)->mail);
	c.from = NULL;
	if (notify_configure(n, &c, err, sizeof err) != -1)
		fail_msg("configure without From: got 0, want -1");
	assert_null(notify_stop(n, 5));
	assert_int_equal(srv_count(s), 1);
	srv_free(s2);
}

static void
test_notify_errors(void **state)
{
	struct srv *s = *state;
	struct notify_conf c;
	struct notifier *n;
	struct notify_item it;
	char err[256], line[64];
	static char empty[] = "";

	c = conf_of(s, NULL);
	c.from = empty;
	if ((n = notify_start(&c, err, sizeof err)) != NULL)
		fail_msg("empty From: got a notifier, want NULL");
	c = conf_of(s, NULL);
	c.relay.host = NULL;
	if ((n = notify_start(&c, err, sizeof err)) != NULL)
		fail_msg("no relay: got a notifier, want NULL");
	assert_null(notify_stop(NULL, 1));
	c = conf_of(s, NULL);
	if ((n = notify_start(&c, err, sizeof err)) == NULL)
		fail_msg("notify_start: %s", err);
	item_of(&it, "k", one_rcpt, 1, line, sizeof line);
	it.nto = 0;
	if (notify_submit(n, &it, err, sizeof err) != -1)
		fail_msg("no recipients: got 0, want -1");
	assert_null(notify_stop(n, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_relay),
		cmocka_unit_test_setup_teardown(test_send_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_large, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_multiline_ehlo,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_helo_fallback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_rcpt_some_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_rcpt_all_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_failures, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_server_closes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_bad_input, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_build, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_injection, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notify_window, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notify_two_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notify_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notify_give_up, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notify_queue_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notify_stop_flushes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_digest_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notify_stop_relay_down,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_configure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notify_errors, setup,
		    teardown),
	};
	int rc;

	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
