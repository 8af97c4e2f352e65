/* milter-load.c - a milter-protocol (version 6) load driver: plays the MTA
 * side directly (no MTA, no libmilter) and replays .eml files to a milter
 * over unix: or inet: sockets, from several connections at once.  Not a
 * test: prints throughput, latency and what the milter answered.
 *
 *   cc -O2 -Wall -o milter-load milter-load.c -lpthread
 *   milter-load -s unix:/tmp/custos.sock [-c conns] [-d secs | -n msgs]
 *       [-m msgs-per-conn] [-f sender] [-r rcpt ...] [--nodelay]
 *       [--quickack] [--writes batch|postfix|cmd] [--bufsize N] [--no-abort]
 *       [-T timeout] [-v] [-q] FILE|DIR ...
 *
 * Each connection (one thread each) negotiates once (SMFIC_OPTNEG), sends
 * connect and HELO, then -m messages, as Postfix does for the milter
 * session of one SMTP connection: per message MAIL (macros i and
 * {auth_authen}), RCPT per recipient, DATA (when the milter wants it),
 * each header, end of headers, the body in chunks of at most 65535 bytes,
 * end of body, the replies up to the final one, then SMFIC_ABORT (as
 * Postfix does when its transaction ends).  Each event comes with its
 * SMFIC_MACRO (i, the queue id, from DATA on), as Postfix sends them, even
 * for steps the milter skips.  SMFIC_QUIT closes it.  Steps the milter
 * negotiated away (SMFIP_NO*) are not sent; after the SMFIP_NR_* steps no
 * reply is awaited.  Files (or the .eml files in a
 * directory) are replayed round robin across all connections.
 *
 * Latency is per message, from MAIL to the final reply.  MB/s are of file
 * bytes (10^6 bytes).  Modification actions at end of message
 * (SMFIR_ADDHEADER, SMFIR_QUARANTINE, ...) are counted and skipped.
 *
 * How the MTA writes matters over TCP (Nagle, delayed ACKs):
 *   --writes batch  (default) the commands that need no reply are held and
 *                   go out with the next one that does, in one write():
 *                   Postfix's VSTREAM, flushed when it turns to read;
 *   --writes postfix  batch, but what is held at the end of the envelope
 *                   (the DATA macros when the milter skips DATA) goes out
 *                   on its own: Postfix's smtpd flushes before it hands
 *                   the milter socket to cleanup, which sends the headers;
 *   --writes cmd    one write() per command;
 *   --bufsize N     in batch mode, write whenever N bytes are buffered
 *                   (VSTREAM's 4096; Postfix raises it to 2 x MSS on TCP,
 *                   vstream_tweak_tcp(), so this is the case it avoids);
 *   --nodelay       TCP_NODELAY on the connection (Postfix does not set it);
 *   --quickack      TCP_QUICKACK after every read (no delayed ACKs here).
 *
 * Errors (connect refused, timeout, protocol violation, EOF) are counted,
 * the connection is dropped and a new one made.  Exits 0 when at least one
 * message got a final reply and there were no errors, 1 otherwise, 2 on a
 * usage error. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>	/* protocol constants only */

#define CHUNK_MAX	65535		/* MILTER_CHUNK_SIZE */
#define REPLY_MAX	(1024 * 1024)	/* longest reply packet we take */
#define MAX_RCPTS	64

/* What the MTA offers: every step may be negotiated away or made
 * reply-less, as Postfix 3.x offers. */
#define OFFER_ACTS	SMFI_CURR_ACTS	/* every SMFIF_* action */
#define OFFER_PROT	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | \
			 SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS | \
			 SMFIP_NOEOH | SMFIP_NR_HDR | SMFIP_NOUNKNOWN | \
			 SMFIP_NODATA | SMFIP_SKIP | SMFIP_NR_CONN | \
			 SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
			 SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | \
			 SMFIP_NR_BODY | SMFIP_HDR_LEADSPC)

/* Final replies, counted per message. */
enum reply {
	R_ACCEPT, R_CONTINUE, R_REJECT, R_TEMPFAIL, R_DISCARD, R_REPLYCODE,
	R_OTHER, R_COUNT,
	R_SKIP = R_COUNT	/* SMFIR_SKIP: not final, never counted */
};
static const char *const reply_names[R_COUNT] = {
	"accept", "continue", "reject", "tempfail", "discard", "replycode",
	"other"
};

/* One message, parsed once: headers as Postfix hands them to a milter
 * (value after the colon, folded lines joined by "\n"), body with CRLF
 * line ends as on the wire. */
struct msgfile {
	char	 *path;
	size_t	  size;		/* file bytes */
	size_t	  nhdr;
	char	**hname;
	char	**hval;		/* leading white space kept */
	char	 *body;
	size_t	  bodylen;
};

enum writes { WRITES_BATCH, WRITES_POSTFIX, WRITES_CMD };

static struct {
	const char	 *socket;
	int		  conns;
	double		  duration;
	unsigned long	  count;	/* 0: run for duration */
	unsigned long	  per_conn;
	const char	 *from;
	const char	 *rcpt[MAX_RCPTS];
	int		  nrcpt;
	bool		  nodelay, quickack, abort_after, verbose, quiet;
	enum writes	  writes;
	size_t		  bufsize;	/* 0: no limit */
	int		  timeout_ms;
} opt = {
	.conns = 1, .duration = 10, .per_conn = 10,
	.from = "sender@example.com", .abort_after = true,
	.writes = WRITES_BATCH, .timeout_ms = 300 * 1000,
};

static struct msgfile	*files;
static size_t		 nfiles;
static struct sockaddr_storage	peer;
static socklen_t	 peerlen;
static bool		 peer_inet;

static atomic_ulong	 next_msg;	/* round robin and -n */
static atomic_bool	 stopping;
static double		 t_start, t_deadline;
static atomic_ulong	 negotiated_prot, negotiated_acts, negotiated_vers;
static atomic_bool	 negotiated_seen;

/* Per connection thread. */
struct tstats {
	unsigned long	 msgs;		/* with a final reply */
	unsigned long	 bytes;
	unsigned long	 replies[R_COUNT];
	unsigned long	 mods;		/* modification actions */
	unsigned long	 mod_by_cmd[256];
	unsigned long	 errors, conns;
	double		*lat;		/* ms, one per message */
	size_t		 nlat, caplat;
	char		 lasterr[256];
};

struct conn {
	int		 fd;
	unsigned long	 prot, acts, vers;
	unsigned char	*out;
	size_t		 outlen, outcap;
	unsigned char	 in[8192];
	size_t		 inoff, inlen;
	unsigned char	*pkt;		/* last reply packet's data */
	size_t		 pktcap;
	struct tstats	*st;
};

/* ---------------------------------------------------------------- util */

static double
now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	(void)fprintf(stderr, "milter-load: ");
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	exit(2);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		die("out of memory");
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = xrealloc(NULL, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Records why a connection failed; the thread counts it. */
static int
ml_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->st->lasterr, sizeof c->st->lasterr, fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------ messages */

/* Parses one file into a msgfile.  Returns 0, or -1 when unreadable. */
static int
ml_load_file(const char *path, struct msgfile *m)
{
	FILE *fp;
	char *raw = NULL, *p, *end, *line, *eol;
	size_t cap = 0, len = 0, n, bcap;
	bool in_body = false;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	for (;;) {
		if (len + 65536 > cap)
			raw = xrealloc(raw, cap = (cap + 65536) * 2);
		if ((n = fread(raw + len, 1, cap - len, fp)) == 0)
			break;
		len += n;
	}
	(void)fclose(fp);
	memset(m, 0, sizeof *m);
	m->path = strdup(path);
	m->size = len;
	/* Worst case: every line a bare LF that becomes CRLF. */
	bcap = len * 2 + 2;
	m->body = xrealloc(NULL, bcap);
	for (p = raw, end = raw + len; p < end; p = eol) {
		size_t ll;

		line = p;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		ll = (size_t)(eol - line);
		if (eol < end)
			eol++;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (in_body) {
			memcpy(m->body + m->bodylen, line, ll);
			m->bodylen += ll;
			memcpy(m->body + m->bodylen, "\r\n", 2);
			m->bodylen += 2;
			continue;
		}
		if (ll == 0) {
			in_body = true;
			continue;
		}
		if ((line[0] == ' ' || line[0] == '\t') && m->nhdr > 0) {
			/* Folded: Postfix joins the lines with a bare LF. */
			char **v = &m->hval[m->nhdr - 1];
			size_t ol = strlen(*v);

			*v = xrealloc(*v, ol + 1 + ll + 1);
			(*v)[ol] = '\n';
			memcpy(*v + ol + 1, line, ll);
			(*v)[ol + 1 + ll] = '\0';
			continue;
		}
		{
			char *colon = memchr(line, ':', ll);

			if (colon == NULL || colon == line)
				continue;	/* not a header: dropped */
			m->hname = xrealloc(m->hname,
			    (m->nhdr + 1) * sizeof *m->hname);
			m->hval = xrealloc(m->hval,
			    (m->nhdr + 1) * sizeof *m->hval);
			m->hname[m->nhdr] = xstrndup(line,
			    (size_t)(colon - line));
			m->hval[m->nhdr] = xstrndup(colon + 1,
			    ll - (size_t)(colon + 1 - line));
			m->nhdr++;
		}
	}
	free(raw);
	return 0;
}

static bool
ml_is_eml(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".eml") == 0;
}

static int
ml_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every .eml file in a directory (sorted). */
static void
ml_add_path(const char *path)
{
	struct stat sb;
	DIR *d;
	struct dirent *de;
	char **names = NULL, buf[4096];
	size_t n = 0, i;

	if (stat(path, &sb) != 0)
		die("%s: %s", path, strerror(errno));
	if (!S_ISDIR(sb.st_mode)) {
		files = xrealloc(files, (nfiles + 1) * sizeof *files);
		if (ml_load_file(path, &files[nfiles]) != 0)
			die("%s: %s", path, strerror(errno));
		nfiles++;
		return;
	}
	if ((d = opendir(path)) == NULL)
		die("%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!ml_is_eml(de->d_name))
			continue;
		names = xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = strdup(de->d_name);
	}
	(void)closedir(d);
	qsort(names, n, sizeof *names, ml_cmp_str);
	for (i = 0; i < n; i++) {
		(void)snprintf(buf, sizeof buf, "%s/%s", path, names[i]);
		ml_add_path(buf);
		free(names[i]);
	}
	free(names);
}

/* ------------------------------------------------------------- sockets */

/* unix:/path, local:/path, /path, inet:port@host, inet6:port@host. */
static void
ml_parse_socket(const char *spec)
{
	const char *p, *at;
	struct addrinfo hints, *ai;
	char port[32], host[256];
	int e;

	if ((p = strchr(spec, ':')) == NULL || spec[0] == '/' ||
	    strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&peer;
		const char *path = spec[0] == '/' ? spec : p + 1;

		if (strlen(path) >= sizeof sun->sun_path)
			die("socket path too long: %s", path);
		sun->sun_family = AF_UNIX;
		(void)strcpy(sun->sun_path, path);
		peerlen = sizeof *sun;
		return;
	}
	if (strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0)
		die("socket: want unix:/path or inet:port@host: %s", spec);
	p++;
	if ((at = strchr(p, '@')) == NULL) {
		(void)snprintf(port, sizeof port, "%s", p);
		(void)snprintf(host, sizeof host, "%s",
		    spec[4] == '6' ? "::1" : "127.0.0.1");
	} else {
		(void)snprintf(port, sizeof port, "%.*s", (int)(at - p), p);
		(void)snprintf(host, sizeof host, "%s", at + 1);
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = spec[4] == '6' ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &ai)) != 0)
		die("%s: %s", spec, gai_strerror(e));
	memcpy(&peer, ai->ai_addr, ai->ai_addrlen);
	peerlen = ai->ai_addrlen;
	peer_inet = true;
	freeaddrinfo(ai);
}

static int
ml_sockopt(struct conn *c, int opt_name, int on)
{
	if (setsockopt(c->fd, IPPROTO_TCP, opt_name, &on, sizeof on) != 0)
		return ml_fail(c, "setsockopt: %s", strerror(errno));
	return 0;
}

/* Writes n bytes, whole. */
static int
ml_write_all(struct conn *c, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(c->fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return ml_fail(c, "write: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sends what is buffered, in bufsize pieces when that is set. */
static int
ml_flush(struct conn *c)
{
	size_t off = 0, n;

	while (off < c->outlen) {
		n = c->outlen - off;
		if (opt.bufsize > 0 && n > opt.bufsize)
			n = opt.bufsize;
		if (ml_write_all(c, c->out + off, n) != 0)
			return -1;
		off += n;
	}
	c->outlen = 0;
	return 0;
}

/* Queues one packet: length, command, data (parts concatenated). */
static int
ml_send(struct conn *c, int cmd, const void *d1, size_t l1, const void *d2,
    size_t l2)
{
	uint32_t nl = htonl((uint32_t)(1 + l1 + l2));
	size_t need = c->outlen + 5 + l1 + l2;

	if (need > c->outcap)
		c->out = xrealloc(c->out, c->outcap = need * 2);
	memcpy(c->out + c->outlen, &nl, 4);
	c->out[c->outlen + 4] = (unsigned char)cmd;
	if (l1 > 0)
		memcpy(c->out + c->outlen + 5, d1, l1);
	if (l2 > 0)
		memcpy(c->out + c->outlen + 5 + l1, d2, l2);
	c->outlen = need;
	if (opt.writes == WRITES_CMD)
		return ml_flush(c);
	/* Like a full VSTREAM buffer: out it goes, whole buffers only. */
	if (opt.bufsize > 0 && c->outlen >= opt.bufsize) {
		size_t whole = c->outlen - c->outlen % opt.bufsize;

		if (ml_write_all(c, c->out, whole) != 0)
			return -1;
		memmove(c->out, c->out + whole, c->outlen - whole);
		c->outlen -= whole;
	}
	return 0;
}

/* Reads exactly n bytes within the reply timeout. */
static int
ml_read_exact(struct conn *c, unsigned char *dst, size_t n)
{
	struct pollfd pfd;
	ssize_t r;
	size_t k;

	while (n > 0) {
		if (c->inoff < c->inlen) {
			k = c->inlen - c->inoff < n ? c->inlen - c->inoff : n;
			memcpy(dst, c->in + c->inoff, k);
			c->inoff += k;
			dst += k;
			n -= k;
			continue;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, opt.timeout_ms)) == 0)
			return ml_fail(c, "no reply within %d s",
			    opt.timeout_ms / 1000);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ml_fail(c, "poll: %s", strerror(errno));
		}
		if ((r = read(c->fd, c->in, sizeof c->in)) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return ml_fail(c, "read: %s", r == 0 ?
			    "milter closed the connection" : strerror(errno));
		}
		/* Quick ACK mode lasts only until the stack leaves it. */
		if (opt.quickack && peer_inet)
			(void)ml_sockopt(c, TCP_QUICKACK, 1);
		c->inoff = 0;
		c->inlen = (size_t)r;
	}
	return 0;
}

/* One reply packet: command in *cmd, data in c->pkt, length in *len. */
static int
ml_read_reply(struct conn *c, int *cmd, size_t *len)
{
	unsigned char hdr[5];
	uint32_t nl;

	if (ml_flush(c) != 0 || ml_read_exact(c, hdr, 5) != 0)
		return -1;
	memcpy(&nl, hdr, 4);
	nl = ntohl(nl);
	if (nl < 1 || nl > REPLY_MAX)
		return ml_fail(c, "bad reply length %lu", (unsigned long)nl);
	*cmd = hdr[4];
	*len = nl - 1;
	if (*len + 1 > c->pktcap)
		c->pkt = xrealloc(c->pkt, c->pktcap = *len + 1);
	if (ml_read_exact(c, c->pkt, *len) != 0)
		return -1;
	c->pkt[*len] = '\0';
	return 0;
}

/* Reads replies to one command until a decision: *res is R_CONTINUE to go
 * on, R_SKIP for SMFIR_SKIP, else final.  Modification actions are only
 * counted.  Returns -1 on a protocol or socket error. */
static int
ml_await(struct conn *c, int event, enum reply *res)
{
	int cmd;
	size_t len;

	for (;;) {
		if (ml_read_reply(c, &cmd, &len) != 0)
			return -1;
		switch (cmd) {
		case SMFIR_PROGRESS:
			continue;
		case SMFIR_CONTINUE:	*res = R_CONTINUE; return 0;
		case SMFIR_ACCEPT:	*res = R_ACCEPT; return 0;
		case SMFIR_REJECT:	*res = R_REJECT; return 0;
		case SMFIR_TEMPFAIL:	*res = R_TEMPFAIL; return 0;
		case SMFIR_DISCARD:	*res = R_DISCARD; return 0;
		case SMFIR_REPLYCODE:	*res = R_REPLYCODE; return 0;
		case SMFIR_SHUTDOWN:
		case SMFIR_CONN_FAIL:	*res = R_OTHER; return 0;
		case SMFIR_SKIP:
			if (event != SMFIC_BODY)
				return ml_fail(c, "SMFIR_SKIP after '%c'",
				    event);
			*res = R_SKIP;
			return 0;
		case SMFIR_ADDRCPT: case SMFIR_DELRCPT: case SMFIR_ADDRCPT_PAR:
		case SMFIR_REPLBODY: case SMFIR_CHGFROM: case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER: case SMFIR_CHGHEADER:
		case SMFIR_QUARANTINE:
			if (event != SMFIC_BODYEOB)
				return ml_fail(c, "modification '%c' after "
				    "'%c'", cmd, event);
			c->st->mods++;
			c->st->mod_by_cmd[cmd & 0xff]++;
			continue;
		default:
			return ml_fail(c, "unknown reply '%c' (0x%02x) after "
			    "'%c'", cmd, cmd, event);
		}
	}
}

/* SMFIC_MACRO for one event: stage code, then name/value pairs, sent
 * even when the event itself is not, as Postfix does. */
static int
ml_macros(struct conn *c, int event, const char *const *nv, size_t n)
{
	char buf[2048];
	size_t o = 1, i, l;

	buf[0] = (char)event;
	for (i = 0; i < n; i++) {
		l = strlen(nv[i]) + 1;
		if (o + l > sizeof buf)
			return ml_fail(c, "macros too long");
		memcpy(buf + o, nv[i], l);
		o += l;
	}
	return ml_send(c, SMFIC_MACRO, buf, o, NULL, 0);
}

/* One step: not sent when negotiated away (no), no reply awaited when
 * the milter asked for none (nr). */
static int
ml_step(struct conn *c, int event, unsigned long no, unsigned long nr,
    const void *d1, size_t l1, const void *d2, size_t l2, enum reply *res)
{
	*res = R_CONTINUE;
	if (no != 0 && (c->prot & no) != 0)
		return 0;
	if (ml_send(c, event, d1, l1, d2, l2) != 0)
		return -1;
	if (nr != 0 && (c->prot & nr) != 0)
		return 0;
	return ml_await(c, event, res);
}

static const char *
ml_prot_names(unsigned long p, char *buf, size_t len)
{
	static const struct { unsigned long bit; const char *name; } t[] = {
		{ SMFIP_NOCONNECT, "NOCONNECT" }, { SMFIP_NOHELO, "NOHELO" },
		{ SMFIP_NOMAIL, "NOMAIL" }, { SMFIP_NORCPT, "NORCPT" },
		{ SMFIP_NOBODY, "NOBODY" }, { SMFIP_NOHDRS, "NOHDRS" },
		{ SMFIP_NOEOH, "NOEOH" }, { SMFIP_NR_HDR, "NR_HDR" },
		{ SMFIP_NOUNKNOWN, "NOUNKNOWN" }, { SMFIP_NODATA, "NODATA" },
		{ SMFIP_SKIP, "SKIP" }, { SMFIP_RCPT_REJ, "RCPT_REJ" },
		{ SMFIP_NR_CONN, "NR_CONN" }, { SMFIP_NR_HELO, "NR_HELO" },
		{ SMFIP_NR_MAIL, "NR_MAIL" }, { SMFIP_NR_RCPT, "NR_RCPT" },
		{ SMFIP_NR_DATA, "NR_DATA" }, { SMFIP_NR_UNKN, "NR_UNKN" },
		{ SMFIP_NR_EOH, "NR_EOH" }, { SMFIP_NR_BODY, "NR_BODY" },
		{ SMFIP_HDR_LEADSPC, "HDR_LEADSPC" },
	};
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof t / sizeof t[0] && o < len; i++)
		if (p & t[i].bit)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    o ? " " : "", t[i].name);
	return buf;
}

/* ------------------------------------------------------------- session */

static void
ml_close(struct conn *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	c->outlen = c->inoff = c->inlen = 0;
}

/* Connects, negotiates, sends connect and HELO.  Returns 0, or -1
 * (reason in lasterr); *refused when the milter refused the connection
 * at connect or HELO (counted as its reply). */
static int
ml_open(struct conn *c, bool *refused)
{
	uint32_t neg[3];
	int cmd;
	size_t len;
	enum reply res;
	char cinfo[128];
	size_t cl;
	uint16_t port = htons(52345);
	static const char *const conn_macros[] = {
		"j", "mx.example.com", "{daemon_name}", "smtpd",
		"{daemon_addr}", "192.0.2.25", "v", "Postfix 3.7.11",
		"_", "client.example.net [192.0.2.1]",
	};
	static const char *const helo_macros[] = { "{tls_version}", "" };

	*refused = false;
	if ((c->fd = socket(peer.ss_family, SOCK_STREAM, 0)) < 0)
		return ml_fail(c, "socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&peer, peerlen) != 0)
		return ml_fail(c, "connect %s: %s", opt.socket,
		    strerror(errno));
	if (peer_inet && ml_sockopt(c, TCP_NODELAY, opt.nodelay) != 0)
		return -1;
	c->st->conns++;
	neg[0] = htonl(SMFI_PROT_VERSION);
	neg[1] = htonl(OFFER_ACTS);
	neg[2] = htonl(OFFER_PROT);
	if (ml_send(c, SMFIC_OPTNEG, neg, sizeof neg, NULL, 0) != 0 ||
	    ml_read_reply(c, &cmd, &len) != 0)
		return -1;
	if (cmd != SMFIC_OPTNEG || len < 12)
		return ml_fail(c, "bad SMFIC_OPTNEG reply '%c', %zu bytes",
		    cmd, len);
	memcpy(neg, c->pkt, sizeof neg);
	c->vers = ntohl(neg[0]);
	c->acts = ntohl(neg[1]);
	c->prot = ntohl(neg[2]);
	if (c->vers < 2 || c->vers > SMFI_PROT_VERSION)
		return ml_fail(c, "milter protocol version %lu", c->vers);
	if ((c->prot & ~(unsigned long)OFFER_PROT) != 0)
		return ml_fail(c, "milter wants protocol bits 0x%lx we did "
		    "not offer", c->prot & ~(unsigned long)OFFER_PROT);
	if (!atomic_exchange(&negotiated_seen, true)) {
		atomic_store(&negotiated_vers, c->vers);
		atomic_store(&negotiated_acts, c->acts);
		atomic_store(&negotiated_prot, c->prot);
	}

	/* hostname, family, port, address */
	cl = (size_t)snprintf(cinfo, sizeof cinfo, "client.example.net") + 1;
	cinfo[cl++] = SMFIA_INET;
	memcpy(cinfo + cl, &port, 2);
	cl += 2;
	cl += (size_t)snprintf(cinfo + cl, sizeof cinfo - cl, "192.0.2.1") + 1;
	if (ml_macros(c, SMFIC_CONNECT, conn_macros,
	    sizeof conn_macros / sizeof conn_macros[0]) != 0 ||
	    ml_step(c, SMFIC_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN, cinfo,
	    cl, NULL, 0, &res) != 0)
		return -1;
	if (res != R_CONTINUE) {
		c->st->replies[res]++;
		*refused = true;
		return -1;
	}
	if (ml_macros(c, SMFIC_HELO, helo_macros, 2) != 0 ||
	    ml_step(c, SMFIC_HELO, SMFIP_NOHELO, SMFIP_NR_HELO,
	    "client.example.net", sizeof "client.example.net", NULL, 0,
	    &res) != 0)
		return -1;
	if (res != R_CONTINUE) {
		c->st->replies[res]++;
		*refused = true;
		return -1;
	}
	return 0;
}

/* One message on an open connection.  Returns 0 with the final reply
 * counted, or -1 on an error (the connection is then unusable). */
static int
ml_message(struct conn *c, const struct msgfile *m, unsigned long seq,
    int tid)
{
	char qid[32], addr[600];
	const char *mail_macros[6], *rcpt_macros[2], *eom_macros[2];
	enum reply res = R_CONTINUE;
	unsigned char ok_rcpt = 0;
	double t0;
	size_t i, off, n;
	int r;

	(void)snprintf(qid, sizeof qid, "%02X%08lX", tid & 0xff, seq);
	mail_macros[0] = "i"; mail_macros[1] = qid;
	mail_macros[2] = "{auth_authen}"; mail_macros[3] = "";
	mail_macros[4] = "{mail_addr}"; mail_macros[5] = opt.from;
	eom_macros[0] = "i"; eom_macros[1] = qid;

	t0 = now();
	(void)snprintf(addr, sizeof addr, "<%s>", opt.from);
	if (ml_macros(c, SMFIC_MAIL, mail_macros, 6) != 0 ||
	    ml_step(c, SMFIC_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL, addr,
	    strlen(addr) + 1, NULL, 0, &res) != 0)
		return -1;
	if (res != R_CONTINUE)
		goto done;
	for (r = 0; r < opt.nrcpt; r++) {
		rcpt_macros[0] = "{rcpt_addr}";
		rcpt_macros[1] = opt.rcpt[r];
		(void)snprintf(addr, sizeof addr, "<%s>", opt.rcpt[r]);
		if (ml_macros(c, SMFIC_RCPT, rcpt_macros, 2) != 0 ||
		    ml_step(c, SMFIC_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT, addr,
		    strlen(addr) + 1, NULL, 0, &res) != 0)
			return -1;
		/* A refused recipient is Postfix's business; the message
		 * goes on while one recipient is left. */
		if (res == R_CONTINUE || res == R_ACCEPT)
			ok_rcpt = 1;
	}
	if (!ok_rcpt)
		goto done;
	if (c->vers >= 4) {
		if (ml_macros(c, SMFIC_DATA, eom_macros, 2) != 0 ||
		    ml_step(c, SMFIC_DATA, SMFIP_NODATA, SMFIP_NR_DATA, NULL,
		    0, NULL, 0, &res) != 0)
			return -1;
		if (res != R_CONTINUE)
			goto done;
	}
	/* smtpd hands the milter to cleanup here. */
	if (opt.writes == WRITES_POSTFIX && ml_flush(c) != 0)
		return -1;
	for (i = 0; i < m->nhdr; i++) {
		const char *v = m->hval[i];

		/* Without SMFIP_HDR_LEADSPC the milter gets no leading
		 * white space. */
		if ((c->prot & SMFIP_HDR_LEADSPC) == 0)
			while (*v == ' ' || *v == '\t')
				v++;
		if (ml_macros(c, SMFIC_HEADER, eom_macros, 2) != 0 ||
		    ml_step(c, SMFIC_HEADER, SMFIP_NOHDRS, SMFIP_NR_HDR,
		    m->hname[i], strlen(m->hname[i]) + 1, v, strlen(v) + 1,
		    &res) != 0)
			return -1;
		if (res != R_CONTINUE)
			goto done;
	}
	if (ml_macros(c, SMFIC_EOH, eom_macros, 2) != 0 ||
	    ml_step(c, SMFIC_EOH, SMFIP_NOEOH, SMFIP_NR_EOH, NULL, 0, NULL, 0,
	    &res) != 0)
		return -1;
	if (res != R_CONTINUE)
		goto done;
	for (off = 0; off < m->bodylen; off += n) {
		n = m->bodylen - off < CHUNK_MAX ? m->bodylen - off : CHUNK_MAX;
		if (ml_macros(c, SMFIC_BODY, eom_macros, 2) != 0 ||
		    ml_step(c, SMFIC_BODY, SMFIP_NOBODY, SMFIP_NR_BODY,
		    m->body + off, n, NULL, 0, &res) != 0)
			return -1;
		if (res == R_SKIP)
			break;
		if (res != R_CONTINUE)
			goto done;
	}
	if (ml_macros(c, SMFIC_BODYEOB, eom_macros, 2) != 0 ||
	    ml_send(c, SMFIC_BODYEOB, NULL, 0, NULL, 0) != 0 ||
	    ml_await(c, SMFIC_BODYEOB, &res) != 0)
		return -1;
done:
	{
		struct tstats *st = c->st;
		double ms = (now() - t0) * 1000.0;

		if (st->nlat == st->caplat)
			st->lat = xrealloc(st->lat,
			    (st->caplat = st->caplat * 2 + 1024) *
			    sizeof *st->lat);
		st->lat[st->nlat++] = ms;
		st->replies[res]++;
		st->msgs++;
		st->bytes += m->size;
	}
	/* Postfix ends each transaction with an abort (mail_reset). */
	if (opt.abort_after && ml_send(c, SMFIC_ABORT, NULL, 0, NULL, 0) != 0)
		return -1;
	return 0;
}

struct worker {
	pthread_t	 tid;
	int		 id;
	struct tstats	 st;
};

/* Takes the next message number, or false when done. */
static bool
ml_next(unsigned long *seq)
{
	if (atomic_load(&stopping))
		return false;
	if (opt.count == 0 && now() >= t_deadline) {
		atomic_store(&stopping, true);
		return false;
	}
	*seq = atomic_fetch_add(&next_msg, 1);
	if (opt.count > 0 && *seq >= opt.count)
		return false;
	return true;
}

static void *
ml_worker(void *arg)
{
	struct worker *w = arg;
	struct conn c;
	unsigned long seq, on_conn = 0;
	bool refused;

	memset(&c, 0, sizeof c);
	c.fd = -1;
	c.st = &w->st;
	while (ml_next(&seq)) {
		if (c.fd < 0) {
			on_conn = 0;
			if (ml_open(&c, &refused) != 0) {
				if (!refused) {
					w->st.errors++;
					if (opt.verbose)
						(void)fprintf(stderr, "# conn "
						    "%d: %s\n", w->id,
						    w->st.lasterr);
				}
				ml_close(&c);
				/* Do not spin on a milter that is not
				 * there. */
				(void)usleep(10000);
				continue;
			}
		}
		if (ml_message(&c, &files[seq % nfiles], seq, w->id) != 0) {
			w->st.errors++;
			if (opt.verbose)
				(void)fprintf(stderr, "# conn %d: %s\n", w->id,
				    w->st.lasterr);
			ml_close(&c);
			continue;
		}
		if (++on_conn >= opt.per_conn) {
			if (ml_send(&c, SMFIC_QUIT, NULL, 0, NULL, 0) == 0)
				(void)ml_flush(&c);
			ml_close(&c);
		}
	}
	if (c.fd >= 0) {
		if (ml_send(&c, SMFIC_QUIT, NULL, 0, NULL, 0) == 0)
			(void)ml_flush(&c);
		ml_close(&c);
	}
	free(c.out);
	free(c.pkt);
	return NULL;
}

/* ------------------------------------------------------------- results */

static int
ml_cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
ml_pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static void
usage(FILE *fp)
{
	(void)fprintf(fp,
"usage: milter-load -s socket [-c conns] [-d secs | -n msgs] [-m per-conn]\n"
"                   [-f sender] [-r rcpt ...] [--nodelay] [--quickack]\n"
"                   [--writes batch|postfix|cmd] [--bufsize N] [--no-abort]\n"
"                   [-T timeout] [-v] [-q] FILE|DIR ...\n"
"  -s socket      unix:/path or inet:port@host (inet6:port@host)\n"
"  -c conns       connections, one thread each (1)\n"
"  -d secs        run this long (10); -n msgs: send this many instead\n"
"  -m per-conn    messages per connection before QUIT (10)\n"
"  -f sender      envelope sender (sender@example.com)\n"
"  -r rcpt        envelope recipient, repeatable (recipient@example.net)\n"
"  --nodelay      TCP_NODELAY on inet: connections (default off)\n"
"  --quickack     TCP_QUICKACK after every read (no delayed ACKs)\n"
"  --writes MODE  batch: one write() per reply awaited;\n"
"                 postfix: batch, and the envelope's end on its own (as\n"
"                 smtpd hands over to cleanup); cmd: one write() per command\n"
"  --bufsize N    batch: also write when N bytes are buffered (Postfix 4096)\n"
"  --no-abort     no SMFIC_ABORT after each message\n"
"  -T timeout     seconds to wait for a reply (300)\n"
"  -v             negotiation and errors on stderr; -q: result line only\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "nodelay", no_argument, NULL, 'D' },
		{ "quickack", no_argument, NULL, 'Q' },
		{ "writes", required_argument, NULL, 'W' },
		{ "bufsize", required_argument, NULL, 'B' },
		{ "no-abort", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct worker *w;
	struct tstats tot;
	double *lat, elapsed;
	size_t nlat = 0, i;
	unsigned long bytes_in = 0;
	char pbuf[512];
	int ch, k;

	while ((ch = getopt_long(argc, argv, "s:c:d:n:m:f:r:T:vqh", longopts,
	    NULL)) != -1)
		switch (ch) {
		case 's': opt.socket = optarg; break;
		case 'c': opt.conns = atoi(optarg); break;
		case 'd': opt.duration = atof(optarg); break;
		case 'n': opt.count = strtoul(optarg, NULL, 10); break;
		case 'm': opt.per_conn = strtoul(optarg, NULL, 10); break;
		case 'f': opt.from = optarg; break;
		case 'r':
			if (opt.nrcpt == MAX_RCPTS)
				die("at most %d recipients", MAX_RCPTS);
			opt.rcpt[opt.nrcpt++] = optarg;
			break;
		case 'T': opt.timeout_ms = atoi(optarg) * 1000; break;
		case 'v': opt.verbose = true; break;
		case 'q': opt.quiet = true; break;
		case 'D': opt.nodelay = true; break;
		case 'Q': opt.quickack = true; break;
		case 'A': opt.abort_after = false; break;
		case 'B': opt.bufsize = strtoul(optarg, NULL, 10); break;
		case 'W':
			if (strcmp(optarg, "batch") == 0)
				opt.writes = WRITES_BATCH;
			else if (strcmp(optarg, "postfix") == 0)
				opt.writes = WRITES_POSTFIX;
			else if (strcmp(optarg, "cmd") == 0)
				opt.writes = WRITES_CMD;
			else
				die("--writes: batch, postfix or cmd");
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	if (opt.socket == NULL || optind == argc || opt.conns < 1 ||
	    opt.per_conn < 1 || opt.timeout_ms < 1000 ||
	    (opt.count == 0 && opt.duration <= 0)) {
		usage(stderr);
		return 2;
	}
	if (opt.nrcpt == 0)
		opt.rcpt[opt.nrcpt++] = "recipient@example.net";
	(void)signal(SIGPIPE, SIG_IGN);
	ml_parse_socket(opt.socket);
	for (k = optind; k < argc; k++)
		ml_add_path(argv[k]);
	if (nfiles == 0)
		die("no .eml files");
	for (i = 0; i < nfiles; i++)
		bytes_in += files[i].size;

	w = calloc((size_t)opt.conns, sizeof *w);
	if (w == NULL)
		die("out of memory");
	t_start = now();
	t_deadline = t_start + opt.duration;
	for (k = 0; k < opt.conns; k++) {
		w[k].id = k;
		if (pthread_create(&w[k].tid, NULL, ml_worker, &w[k]) != 0)
			die("pthread_create failed");
	}
	for (k = 0; k < opt.conns; k++)
		(void)pthread_join(w[k].tid, NULL);
	elapsed = now() - t_start;

	memset(&tot, 0, sizeof tot);
	for (k = 0; k < opt.conns; k++)
		nlat += w[k].st.nlat;
	lat = xrealloc(NULL, (nlat + 1) * sizeof *lat);
	nlat = 0;
	for (k = 0; k < opt.conns; k++) {
		struct tstats *s = &w[k].st;

		tot.msgs += s->msgs;
		tot.bytes += s->bytes;
		tot.mods += s->mods;
		tot.errors += s->errors;
		tot.conns += s->conns;
		for (i = 0; i < R_COUNT; i++)
			tot.replies[i] += s->replies[i];
		for (i = 0; i < 256; i++)
			tot.mod_by_cmd[i] += s->mod_by_cmd[i];
		memcpy(lat + nlat, s->lat, s->nlat * sizeof *lat);
		nlat += s->nlat;
		if (s->errors > 0 && tot.lasterr[0] == '\0')
			(void)snprintf(tot.lasterr, sizeof tot.lasterr, "%s",
			    s->lasterr);
		free(s->lat);
	}
	qsort(lat, nlat, sizeof *lat, ml_cmp_dbl);
	{
		double p50 = ml_pct(lat, nlat, 50), p90 = ml_pct(lat, nlat, 90);
		double p99 = ml_pct(lat, nlat, 99);
		double mx = nlat ? lat[nlat - 1] : 0, sum = 0;

		for (i = 0; i < nlat; i++)
			sum += lat[i];
		if (!opt.quiet) {
			(void)printf("milter-load: %s, %d connection%s, %lu "
			    "msgs/conn, %zu file%s (avg %.1f KB), writes %s%s"
			    "%s%s\n", opt.socket, opt.conns,
			    opt.conns == 1 ? "" : "s", opt.per_conn, nfiles,
			    nfiles == 1 ? "" : "s",
			    (double)bytes_in / (double)nfiles / 1024.0,
			    opt.writes == WRITES_CMD ? "cmd" :
			    opt.writes == WRITES_POSTFIX ? "postfix" : "batch",
			    peer_inet ? (opt.nodelay ? ", TCP_NODELAY" :
			    ", Nagle on") : "",
			    opt.quickack ? ", TCP_QUICKACK" : "",
			    opt.bufsize ? ", bufsize set" : "");
			if (atomic_load(&negotiated_seen))
				(void)printf("negotiated: version %lu, actions "
				    "0x%lx, protocol 0x%lx (%s)\n",
				    atomic_load(&negotiated_vers),
				    atomic_load(&negotiated_acts),
				    atomic_load(&negotiated_prot),
				    ml_prot_names(atomic_load(
				    &negotiated_prot), pbuf, sizeof pbuf));
			(void)printf("messages %lu in %.2f s: %.1f msg/s, "
			    "%.2f MB/s, %lu connections\n", tot.msgs, elapsed,
			    (double)tot.msgs / elapsed,
			    (double)tot.bytes / 1e6 / elapsed, tot.conns);
			(void)printf("latency ms (MAIL to final reply): p50 "
			    "%.3f  p90 %.3f  p99 %.3f  max %.3f  mean %.3f\n",
			    p50, p90, p99, mx, nlat ? sum / (double)nlat : 0);
			(void)printf("final replies:");
			for (i = 0; i < R_COUNT; i++)
				(void)printf(" %s %lu", reply_names[i],
				    tot.replies[i]);
			(void)printf("\nmodifications %lu", tot.mods);
			for (i = 0; i < 256; i++)
				if (tot.mod_by_cmd[i])
					(void)printf(" ('%c' %lu)", (int)i,
					    tot.mod_by_cmd[i]);
			(void)printf("\nerrors %lu%s%s\n", tot.errors,
			    tot.errors ? "; last: " : "", tot.lasterr);
		}
		/* One line for scripts. */
		(void)printf("result msgs=%lu secs=%.3f msg_s=%.1f mb_s=%.3f "
		    "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
		    "mean_ms=%.3f", tot.msgs, elapsed,
		    (double)tot.msgs / elapsed,
		    (double)tot.bytes / 1e6 / elapsed, p50, p90, p99, mx,
		    nlat ? sum / (double)nlat : 0);
		for (i = 0; i < R_COUNT; i++)
			(void)printf(" %s=%lu", reply_names[i], tot.replies[i]);
		(void)printf(" mods=%lu errors=%lu conns=%lu\n", tot.mods,
		    tot.errors, tot.conns);
	}
	free(lat);
	free(w);
	return tot.msgs > 0 && tot.errors == 0 ? 0 : 1;
}
