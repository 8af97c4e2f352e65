/* notify.c - notices and digests, sent from a thread of their own (see
 * notify.h).
 *
 * Owns, behind one mutex: a reference-counted configuration snapshot,
 * the queue of notices to send at once, one group per rate-limit key
 * (its window and the digest lines kept in it), and the built messages
 * waiting for a retry.  notify_submit only copies and files an item
 * under the lock; the thread builds and sends with the lock released,
 * so a slow relay never holds up a milter callback.
 *
 * Fails: notify_start, notify_configure, notify_submit and notify_build
 * return NULL/-1 with err.  The thread logs what it could not send
 * (log.h), once per notice, and drops it after the last retry. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include <sodium.h>

#include "errbuf.h"
#include "log.h"
#include "notify.h"
#include "token.h"

#define NOTIFY_DIGEST_LINES	500	/* lines listed in one digest */
#define NOTIFY_SUBJECT_MAX	400	/* bytes of subject kept */
#define NOTIFY_LINE_MAX		1000	/* bytes of a digest line */
#define NOTIFY_ATTEMPTS		4	/* first and three retries */
#define NOTIFY_B64_COLS		76

static const unsigned	 notify_retry_s[NOTIFY_ATTEMPTS - 1] = {
	30, 120, 600
};
/* Set once by a test before any thread starts. */
static unsigned		 notify_ms_per_s = 1000;

/* A configuration snapshot; refs under the notifier's lock. */
struct nconf {
	int			 refs;
	struct notify_conf	 c;	/* strings owned; c.key -> key */
	struct qkey		 key;
};

/* A notice as submitted (all copied). */
struct nitem {
	char	 *key, **to, *subject, *body;
	char	 *dsubject, *dhead, *dline, *incident;
	size_t	  nto;
	int	  digest;	/* made by notify_digest */
};

/* A rate-limit key. */
struct ngroup {
	long long	 window_end;	/* ms; window open until then */
	GPtrArray	*lines;		/* digest lines (char *) */
	size_t		 more;		/* past the lines kept */
	struct nitem	*latest;	/* subject, head, recipients */
};

/* A built message, sent or waiting for a retry. */
struct nmsg {
	char		**to;
	size_t		  nto;
	char		 *msg;
	size_t		  len;
	char		 *what;		/* for the log */
	int		  attempts;
	long long	  next_try;	/* ms */
};

struct notifier {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	pthread_t	 thread;
	struct nconf	*conf;
	GQueue		 now;		/* nitem *: send at once */
	GHashTable	*groups;	/* key -> struct ngroup * */
	GQueue		 retry;		/* struct nmsg * */
	size_t		 nkept;		/* lines kept in groups */
	int		 stopping;
	long long	 stop_deadline;	/* ms */
};

/* One unit of work the thread takes out of the lock. */
struct njob {
	struct nconf	*conf;		/* a reference */
	struct nitem	*item;		/* to build, or NULL */
	struct nmsg	*msg;		/* built, to retry, or NULL */
	int		 timeout_ms;
	int		 last_try;	/* stopping: no retry after this */
};

void
notify_set_timescale(unsigned ms_per_second)
{
	notify_ms_per_s = ms_per_second > 0 ? ms_per_second : 1;
}

static long long
notify_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
notify_secs(unsigned s)
{
	return (long long)s * notify_ms_per_s;
}

/* A copy of s without control characters: what goes into a header or
 * onto an SMTP command line cannot start a new line. */
static char *
notify_clean(const char *s, int space)
{
	GString *o = g_string_new(NULL);

	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s >= ' ' && *s != 0x7f)
			g_string_append_c(o, *s);
		else if (space)
			g_string_append_c(o, ' ');
	return g_string_free(o, FALSE);
}

/* One line of UTF-8 text for a header or a digest line: valid UTF-8,
 * no controls, no surrounding spaces, at most max bytes. */
static char *
notify_line(const char *s, size_t max)
{
	char *valid, *clean;
	const char *cut;

	valid = g_utf8_make_valid(s != NULL ? s : "", -1);
	clean = notify_clean(valid, 1);
	g_free(valid);
	(void)g_strstrip(clean);
	if (strlen(clean) > max) {
		cut = g_utf8_find_prev_char(clean, clean + max + 1);
		clean[cut != NULL ? (size_t)(cut - clean) : 0] = '\0';
	}
	return clean;
}

static void
notify_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		g_free(v[i]);
	g_free(v);
}

/* The addresses cleaned, empty ones left out.  Returns the count. */
static size_t
notify_addrs(const char *const *in, size_t n, char ***out)
{
	size_t i, k = 0;

	*out = g_new0(char *, n + 1);
	for (i = 0; in != NULL && i < n; i++) {
		char *a = notify_clean(in[i], 0);

		(void)g_strstrip(a);
		if (a[0] == '\0')
			g_free(a);
		else
			(*out)[k++] = a;
	}
	return k;
}

static struct nitem *
notify_item_free(struct nitem *it)
{
	if (it == NULL)
		return NULL;
	g_free(it->key);
	notify_strv_free(it->to, it->nto);
	g_free(it->subject);
	g_free(it->body);
	g_free(it->dsubject);
	g_free(it->dhead);
	g_free(it->dline);
	g_free(it->incident);
	g_free(it);
	return NULL;
}

static struct nmsg *
notify_msg_free(struct nmsg *m)
{
	if (m == NULL)
		return NULL;
	notify_strv_free(m->to, m->nto);
	g_free(m->msg);
	g_free(m->what);
	g_free(m);
	return NULL;
}

static void
notify_group_free(gpointer p)
{
	struct ngroup *g = p;

	g_ptr_array_free(g->lines, TRUE);
	(void)notify_item_free(g->latest);
	g_free(g);
}

static struct nconf *
notify_conf_copy(const struct notify_conf *src, char *err, size_t errlen)
{
	struct nconf *nc;

	if (src == NULL || src->relay.host == NULL ||
	    src->relay.host[0] == '\0') {
		errbuf_set(err, errlen, "notify: no relay");
		return NULL;
	}
	if (src->from == NULL || src->from[0] == '\0') {
		errbuf_set(err, errlen, "notify: no From address");
		return NULL;
	}
	nc = g_new0(struct nconf, 1);
	nc->refs = 1;
	nc->c.relay.host = g_strdup(src->relay.host);
	nc->c.relay.port = src->relay.port;
	nc->c.relay.timeout_ms = src->relay.timeout_ms;
	nc->c.relay.helo = g_strdup(src->relay.helo);
	nc->c.from = notify_clean(src->from, 0);
	nc->c.window = src->window;
	nc->c.max_queue = src->max_queue;
	if (src->key != NULL) {
		nc->key = *src->key;
		nc->c.key = &nc->key;
	}
	return nc;
}

/* Under the notifier's lock. */
static void
notify_conf_unref(struct nconf *nc)
{
	if (nc == NULL || --nc->refs > 0)
		return;
	g_free(nc->c.relay.host);
	g_free(nc->c.relay.helo);
	g_free(nc->c.from);
	sodium_memzero(&nc->key, sizeof nc->key);
	g_free(nc);
}

/* ---- building a message ---- */

/* "Subject: " and the subject: folded at spaces when ASCII, else
 * RFC 2047 B encoded-words of whole UTF-8 characters, each line under
 * 78 characters. */
static void
notify_put_subject(GString *m, const char *s)
{
	const char *p, *q;
	size_t col, n, i;
	int ascii = 1;
	gchar *b64;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			ascii = 0;
	g_string_append(m, "Subject: ");
	col = 9;
	if (ascii) {
		for (p = s; *p != '\0'; p = q) {
			/* A word with the space before it. */
			for (q = p + 1; *q != '\0' && *q != ' '; q++)
				;
			n = (size_t)(q - p);
			if (p != s && *p == ' ' && col + n > 76 && col > 1) {
				g_string_append(m, "\r\n");
				col = 0;
			}
			g_string_append_len(m, p, (gssize)n);
			col += n;
		}
		g_string_append(m, "\r\n");
		return;
	}
	/* 42 bytes give 56 base64 characters: "Subject: =?UTF-8?B?" 19,
	 * "?=" 2, 77 in all. */
	for (p = s, i = 0; *p != '\0'; p += n, i++) {
		n = strlen(p);
		if (n > 42) {
			n = 42;
			while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
				n--;
		}
		b64 = g_base64_encode((const guchar *)p, n);
		g_string_append_printf(m, "%s=?UTF-8?B?%s?=", i > 0 ?
		    "\r\n " : "", b64);
		g_free(b64);
	}
	g_string_append(m, "\r\n");
}

static void
notify_put_addrs(GString *m, const char *name, char *const *to, size_t nto)
{
	size_t i, col, n;

	g_string_append_printf(m, "%s: ", name);
	col = strlen(name) + 2;
	for (i = 0; i < nto; i++) {
		n = strlen(to[i]) + (i + 1 < nto ? 1 : 0);
		if (i > 0) {
			if (col + 1 + n > 76) {
				g_string_append(m, "\r\n");
				col = 0;
			}
			g_string_append_c(m, ' ');
			col++;
		}
		g_string_append(m, to[i]);
		if (i + 1 < nto)
			g_string_append_c(m, ',');
		col += n;
	}
	g_string_append(m, "\r\n");
}

/* RFC 5322 date, in UTC so no locale or time zone is involved. */
static void
notify_put_date(GString *m)
{
	static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = time(NULL);
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	g_string_append_printf(m, "Date: %s, %02d %s %04d %02d:%02d:%02d "
	    "+0000\r\n", wday[tm.tm_wday % 7], tm.tm_mday, mon[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* <random@domain of from>. */
static void
notify_put_msgid(GString *m, const char *from)
{
	unsigned char rnd[16];
	char hex[sizeof rnd * 2 + 1];
	const char *at = strrchr(from, '@'), *p;
	GString *dom = g_string_new(NULL);

	for (p = at != NULL ? at + 1 : ""; *p != '\0'; p++)
		if (g_ascii_isalnum(*p) || *p == '.' || *p == '-')
			g_string_append_c(dom, *p);
	if (dom->len == 0)
		g_string_assign(dom, "localhost");
	randombytes_buf(rnd, sizeof rnd);
	(void)sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	g_string_append_printf(m, "Message-ID: <%s@%s>\r\n", hex, dom->str);
	g_string_free(dom, TRUE);
}

/* The blank line and the body: text in canonical CRLF form (RFC 2045
 * 6.8), base64 in lines of 76. */
static GString *
notify_body(const char *text)
{
	GString *canon = g_string_new(NULL), *b = g_string_new("\r\n");
	char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	const char *p;
	gchar *b64;
	size_t i, n;

	for (p = valid; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n')
			g_string_append_c(canon, '\r');
		g_string_append_c(canon, *p);
	}
	g_free(valid);
	b64 = g_base64_encode((const guchar *)canon->str, canon->len);
	n = strlen(b64);
	for (i = 0; i < n; i += NOTIFY_B64_COLS) {
		g_string_append_len(b, b64 + i, (gssize)MIN(NOTIFY_B64_COLS,
		    n - i));
		g_string_append(b, "\r\n");
	}
	g_free(b64);
	g_string_free(canon, TRUE);
	return b;
}

char *
notify_build(const struct notify_conf *conf, const char *const *to,
    size_t nto, const char *subject, const char *body, size_t *len,
    char *err, size_t errlen)
{
	unsigned char digest[TOKEN_DIGEST_BYTES];
	char tok[TOKEN_MAX], *from, *subj, **addrs = NULL;
	GString *m, *b;
	size_t naddr;

	if (conf == NULL || conf->from == NULL) {
		errbuf_set(err, errlen, "notify: no From address");
		return NULL;
	}
	if (sodium_init() < 0) {
		errbuf_set(err, errlen, "notify: libsodium init failed");
		return NULL;
	}
	from = notify_clean(conf->from, 0);
	(void)g_strstrip(from);
	naddr = notify_addrs(to, nto, &addrs);
	if (from[0] == '\0' || naddr == 0) {
		errbuf_set(err, errlen, "notify: %s", from[0] == '\0' ?
		    "no From address" : "no recipients");
		g_free(from);
		notify_strv_free(addrs, naddr);
		return NULL;
	}
	/* The body first: the token is over it exactly as it is sent. */
	b = notify_body(body);
	if (conf->key != NULL) {
		token_body_digest(b->str, b->len, digest);
		if (token_notice_make(conf->key, digest, tok,
		    sizeof tok) != 0) {
			errbuf_set(err, errlen, "notify: cannot make token");
			g_string_free(b, TRUE);
			g_free(from);
			notify_strv_free(addrs, naddr);
			return NULL;
		}
	}
	subj = notify_line(subject, NOTIFY_SUBJECT_MAX);

	m = g_string_sized_new(1024 + b->len);
	g_string_append_printf(m, "From: %s\r\n", from);
	notify_put_addrs(m, "To", addrs, naddr);
	notify_put_subject(m, subj);
	notify_put_date(m);
	notify_put_msgid(m, from);
	g_string_append(m, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Auto-Submitted: auto-generated\r\n");
	if (conf->key != NULL)
		g_string_append_printf(m, "%s: %s\r\n", TOKEN_NOTICE_HEADER,
		    tok);
	g_string_append_len(m, b->str, (gssize)b->len);

	g_string_free(b, TRUE);
	g_free(subj);
	g_free(from);
	notify_strv_free(addrs, naddr);
	if (len != NULL)
		*len = m->len;
	return g_string_free(m, FALSE);
}

/* ---- the queue ---- */

static size_t
notify_waiting(const struct notifier *n)
{
	return n->now.length + n->nkept + n->retry.length;
}

int
notify_submit(struct notifier *n, const struct notify_item *in, char *err,
    size_t errlen)
{
	struct nitem *it;
	struct ngroup *g;
	long long now;
	int rc = -1;

	if (n == NULL || in == NULL) {
		errbuf_set(err, errlen, "notify: no notifier");
		return -1;
	}
	it = g_new0(struct nitem, 1);
	if ((it->nto = notify_addrs(in->to, in->nto, &it->to)) == 0) {
		errbuf_set(err, errlen, "notify: no recipients");
		(void)notify_item_free(it);
		return -1;
	}
	it->key = g_strdup(in->key != NULL ? in->key : "");
	it->subject = g_strdup(in->subject != NULL ? in->subject : "");
	it->body = g_strdup(in->body != NULL ? in->body : "");
	it->dsubject = g_strdup(in->digest_subject != NULL ?
	    in->digest_subject : it->subject);
	it->dhead = g_strdup(in->digest_head != NULL ? in->digest_head : "");
	it->dline = notify_line(in->digest_line != NULL ? in->digest_line :
	    it->subject, NOTIFY_LINE_MAX);
	it->incident = g_strdup(in->incident != NULL ? in->incident : "-");

	(void)pthread_mutex_lock(&n->lock);
	now = notify_now_ms();
	if (n->stopping) {
		errbuf_set(err, errlen, "notify: stopping");
		goto out;
	}
	if (notify_waiting(n) >= n->conf->c.max_queue) {
		errbuf_set(err, errlen, "notify: queue full (%zu waiting)",
		    notify_waiting(n));
		goto out;
	}
	g = n->conf->c.window > 0 ? g_hash_table_lookup(n->groups, it->key) :
	    NULL;
	if (n->conf->c.window > 0 && g == NULL) {
		g = g_new0(struct ngroup, 1);
		g->lines = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(n->groups, g_strdup(it->key), g);
	}
	if (g == NULL || (g->lines->len == 0 && g->more == 0 &&
	    g->window_end <= now)) {
		/* The first of its window: at once, and the window opens. */
		if (g != NULL)
			g->window_end = now + notify_secs(n->conf->c.window);
		g_queue_push_tail(&n->now, it);
	} else {
		if (g->lines->len < NOTIFY_DIGEST_LINES) {
			g_ptr_array_add(g->lines, g_strdup(it->dline));
			n->nkept++;
		} else
			g->more++;
		(void)notify_item_free(g->latest);
		g->latest = it;
	}
	it = NULL;
	rc = 0;
	(void)pthread_cond_signal(&n->cond);
out:
	(void)pthread_mutex_unlock(&n->lock);
	(void)notify_item_free(it);
	return rc;
}

/* The digest of a group as one item; empties the group.  Under lock. */
static struct nitem *
notify_digest(struct notifier *n, struct ngroup *g)
{
	struct nitem *it = g->latest, *d = g_new0(struct nitem, 1);
	size_t count = g->lines->len + g->more, i;
	GString *body = g_string_new(it->dhead);

	g_string_append(body, "\n\n");
	for (i = 0; i < g->lines->len; i++)
		g_string_append_printf(body, "%s\n",
		    (const char *)g->lines->pdata[i]);
	if (g->more > 0)
		g_string_append_printf(body, "... and %zu more\n", g->more);

	d->key = it->key;
	it->key = NULL;
	d->to = it->to;
	d->nto = it->nto;
	it->to = NULL;
	it->nto = 0;
	d->subject = g_strdup_printf("%s (%zu)", it->dsubject, count);
	d->body = g_string_free(body, FALSE);
	d->incident = g_strdup_printf("%zu, latest incident %s", count,
	    it->incident);
	d->digest = 1;

	n->nkept -= g->lines->len;
	g_ptr_array_set_size(g->lines, 0);
	g->more = 0;
	g->latest = notify_item_free(g->latest);
	return d;
}

/* Picks the next job, or says when to look again (*wake, ms; -1:
 * nothing scheduled).  Under lock.  1 job, 0 none. */
static int
notify_next(struct notifier *n, struct njob *job, long long *wake)
{
	GHashTableIter hi;
	gpointer k, v;
	GList *l, *best = NULL;
	long long now = notify_now_ms(), left;

	*wake = -1;
	memset(job, 0, sizeof *job);
	if (n->stopping && now >= n->stop_deadline)
		return 0;
	job->timeout_ms = n->conf->c.relay.timeout_ms;
	if (n->stopping) {
		/* Every send must end before the deadline. */
		left = n->stop_deadline - now;
		if (job->timeout_ms <= 0 || job->timeout_ms > left)
			job->timeout_ms = left > INT_MAX ? INT_MAX : (int)left;
		job->last_try = 1;
	}

	if ((job->item = g_queue_pop_head(&n->now)) != NULL)
		goto found;

	g_hash_table_iter_init(&hi, n->groups);
	while (g_hash_table_iter_next(&hi, &k, &v)) {
		struct ngroup *g = v;

		if (g->latest == NULL) {
			if (g->window_end <= now)
				g_hash_table_iter_remove(&hi);
			continue;
		}
		if (n->stopping || g->window_end <= now) {
			job->item = notify_digest(n, g);
			/* The digest opens the next window. */
			g->window_end = now + notify_secs(n->conf->c.window);
			goto found;
		}
		if (*wake < 0 || g->window_end < *wake)
			*wake = g->window_end;
	}

	for (l = n->retry.head; l != NULL; l = l->next) {
		struct nmsg *m = l->data;

		if (best == NULL ||
		    m->next_try < ((struct nmsg *)best->data)->next_try)
			best = l;
	}
	if (best != NULL) {
		struct nmsg *m = best->data;

		if (n->stopping || m->next_try <= now) {
			job->msg = m;
			g_queue_delete_link(&n->retry, best);
			goto found;
		}
		if (*wake < 0 || m->next_try < *wake)
			*wake = m->next_try;
	}
	return 0;
found:
	job->conf = n->conf;
	job->conf->refs++;
	return 1;
}

/* Builds (first time) and sends; files a retry.  Called without the
 * lock. */
static void
notify_run(struct notifier *n, struct njob *job)
{
	struct smtp_relay relay;
	struct nmsg *m = job->msg;
	struct nitem *it = job->item;
	char err[512], safe[256], safe2[512];

	if (it != NULL) {
		m = g_new0(struct nmsg, 1);
		m->what = g_strdup_printf("%s %s (%s)", it->digest ?
		    "digest of" : "notice for incident", it->incident,
		    it->key);
		m->msg = notify_build(&job->conf->c,
		    (const char *const *)it->to, it->nto, it->subject,
		    it->body, &m->len, err, sizeof err);
		m->to = it->to;
		m->nto = it->nto;
		it->to = NULL;
		it->nto = 0;
		(void)notify_item_free(it);
		if (m->msg == NULL) {
			log_err("notify: %s: %s; dropped",
			    log_safe(m->what, safe, sizeof safe), err);
			(void)notify_msg_free(m);
			return;
		}
	}

	relay = job->conf->c.relay;
	relay.timeout_ms = job->timeout_ms;
	m->attempts++;
	if (smtp_send(&relay, job->conf->c.from, (const char *const *)m->to,
	    m->nto, m->msg, m->len, err, sizeof err) == 0) {
		if (err[0] != '\0')
			log_warn("notify: %s: sent, but refused: %s",
			    log_safe(m->what, safe, sizeof safe),
			    log_safe(err, safe2, sizeof safe2));
		else
			log_info("notify: %s: sent to %zu recipient%s",
			    log_safe(m->what, safe, sizeof safe), m->nto,
			    m->nto == 1 ? "" : "s");
		(void)notify_msg_free(m);
		return;
	}
	if (job->last_try || m->attempts >= NOTIFY_ATTEMPTS) {
		log_err("notify: %s: %s; dropped after %d attempt%s",
		    log_safe(m->what, safe, sizeof safe),
		    log_safe(err, safe2, sizeof safe2), m->attempts,
		    m->attempts == 1 ? "" : "s");
		(void)notify_msg_free(m);
		return;
	}
	log_warn("notify: %s: %s; retry in %u s",
	    log_safe(m->what, safe, sizeof safe),
	    log_safe(err, safe2, sizeof safe2),
	    notify_retry_s[m->attempts - 1]);
	(void)pthread_mutex_lock(&n->lock);
	m->next_try = notify_now_ms() +
	    notify_secs(notify_retry_s[m->attempts - 1]);
	g_queue_push_tail(&n->retry, m);
	(void)pthread_mutex_unlock(&n->lock);
}

static void *
notify_main(void *arg)
{
	struct notifier *n = arg;
	struct njob job;
	struct timespec ts;
	long long wake;

	(void)pthread_mutex_lock(&n->lock);
	for (;;) {
		if (notify_next(n, &job, &wake)) {
			(void)pthread_mutex_unlock(&n->lock);
			notify_run(n, &job);
			(void)pthread_mutex_lock(&n->lock);
			notify_conf_unref(job.conf);
			continue;
		}
		if (n->stopping)
			break;
		if (wake < 0)
			(void)pthread_cond_wait(&n->cond, &n->lock);
		else {
			ts.tv_sec = (time_t)(wake / 1000);
			ts.tv_nsec = (long)(wake % 1000) * 1000000;
			(void)pthread_cond_timedwait(&n->cond, &n->lock, &ts);
		}
	}
	(void)pthread_mutex_unlock(&n->lock);
	return NULL;
}

/* Frees queues and state; the thread is gone or was never started. */
static struct notifier *
notify_free(struct notifier *n)
{
	struct nitem *it;
	struct nmsg *m;
	size_t left = notify_waiting(n);
	GHashTableIter hi;
	gpointer k, v;

	g_hash_table_iter_init(&hi, n->groups);
	while (g_hash_table_iter_next(&hi, &k, &v))
		left += ((struct ngroup *)v)->more;
	if (left > 0)
		log_err("notify: stopped with %zu notice%s unsent", left,
		    left == 1 ? "" : "s");
	while ((it = g_queue_pop_head(&n->now)) != NULL)
		(void)notify_item_free(it);
	while ((m = g_queue_pop_head(&n->retry)) != NULL)
		(void)notify_msg_free(m);
	g_hash_table_destroy(n->groups);
	notify_conf_unref(n->conf);
	(void)pthread_cond_destroy(&n->cond);
	(void)pthread_mutex_destroy(&n->lock);
	g_free(n);
	return NULL;
}

struct notifier *
notify_start(const struct notify_conf *conf, char *err, size_t errlen)
{
	struct notifier *n;
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	if (sodium_init() < 0) {
		errbuf_set(err, errlen, "notify: libsodium init failed");
		return NULL;
	}
	n = g_new0(struct notifier, 1);
	if ((n->conf = notify_conf_copy(conf, err, errlen)) == NULL) {
		g_free(n);
		return NULL;
	}
	(void)pthread_mutex_init(&n->lock, NULL);
	/* Windows and retries count on the monotonic clock: setting the
	 * date must not send or hold back a digest. */
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&n->cond, &ca);
	(void)pthread_condattr_destroy(&ca);
	g_queue_init(&n->now);
	g_queue_init(&n->retry);
	n->groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    notify_group_free);

	/* Signals are the daemon's control thread's business. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&n->thread, NULL, notify_main, n);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		errbuf_set(err, errlen, "notify: thread: %s", g_strerror(r));
		return notify_free(n);
	}
	return n;
}

int
notify_configure(struct notifier *n, const struct notify_conf *conf,
    char *err, size_t errlen)
{
	struct nconf *nc;

	if (n == NULL) {
		errbuf_set(err, errlen, "notify: no notifier");
		return -1;
	}
	if ((nc = notify_conf_copy(conf, err, errlen)) == NULL)
		return -1;
	(void)pthread_mutex_lock(&n->lock);
	notify_conf_unref(n->conf);
	n->conf = nc;
	(void)pthread_cond_signal(&n->cond);
	(void)pthread_mutex_unlock(&n->lock);
	return 0;
}

struct notifier *
notify_stop(struct notifier *n, int timeout)
{
	if (n == NULL)
		return NULL;
	(void)pthread_mutex_lock(&n->lock);
	n->stopping = 1;
	n->stop_deadline = notify_now_ms() + (long long)(timeout > 0 ?
	    timeout : 0) * 1000;
	(void)pthread_cond_signal(&n->cond);
	(void)pthread_mutex_unlock(&n->lock);
	/* XXX A send already under way when we are called finishes within
	 * its own relay timeout, which may run past ours: smtp_send cannot
	 * be interrupted, and freeing under a running thread is worse. */
	(void)pthread_join(n->thread, NULL);
	return notify_free(n);
}
