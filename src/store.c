/* store.c - each sender's history over time windows, and the SOC
 * counters and incident stream: in Redis, or in this process.
 *
 * A window of w seconds is cut into buckets of b = max(60, w/24) seconds
 * (a whole minute); the window is the current bucket and the
 * ceil(w/b) before it, so it spans between w and w + b seconds.  Redis
 * keeps a HyperLogLog of record keys, a message counter and a
 * HyperLogLog of recipients per sender, window and bucket
 * (doc/redis-schema.md); store_history writes the current bucket and
 * reads the window in one pipelined round trip.  The in-process store
 * keeps exact sets with the same buckets.
 *
 * The incident stream gets an entry per decision with an incident or
 * record ids (pipelined with the counters) and per officer's action
 * (waited for); store_stream_range reads it back in XRANGE pages.  The
 * in-process store keeps no stream: the audit log is its record.
 *
 * Owns: per store, a copy of its configuration and the backoff state
 * the threads share; per thread, one hiredis context per store it has
 * used (thread-specific data: handed on to the next new thread when the
 * thread exits, see store_tls_destroy; freed by store_free called in
 * the thread that holds it, or by that thread's next call after another
 * thread freed the store).  The in-process data is one global
 * table shared by every store, so history survives a config reload; it
 * lives until the process exits.
 *
 * Errors: -1 with err text, never "nothing there".  After any Redis
 * error the context is dropped and no thread talks to Redis for a
 * backoff period (100 ms, doubling up to 5 s, reset by a success), so a
 * dead Redis costs no time per message; the caller applies
 * on_store_error.  Never exits or aborts (GLib aborts on no memory). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <hiredis/hiredis.h>

#include "fdio.h"
#include "findings.h"
#include "gstr.h"
#include "json.h"
#include "redisconn.h"
#include "store.h"

#define STORE_BACKOFF_MIN_MS	100
#define STORE_BACKOFF_MAX_MS	5000
#define STORE_SWEEP_EVERY	1000	/* in-process calls per sweep */
#define STORE_HOUR_TTL		(8 * 86400)
#define STORE_DAY_TTL		(400 * 86400)
#define STORE_STREAM_MAXLEN	100000	/* when the config says 0 */
#define STORE_STREAM_PAGE	500	/* entries per XRANGE */

struct store {
	uint64_t	 id;		/* never reused, unlike addresses */
	bool		 redis;
	char		*socket;	/* "": host:port */
	char		*host;
	int		 port;
	char		*password;
	int		 db;
	char		*prefix;
	int		 connect_timeout_ms;
	int		 command_timeout_ms;
	unsigned	 windows[POLICY_MAX_WINDOWS];
	size_t		 nwindows;
	size_t		 stream_maxlen;
	bool		 sigpipe_ignored;	/* at store_new: no guard */

	/* Shared by the threads: one thread's failure stops them all. */
	pthread_mutex_t	 lock;
	int64_t		 retry_at;	/* monotonic ms: no Redis before */
	unsigned	 delay_ms;	/* backoff; 0 after a success */
	uint64_t	 epoch;		/* bumped when a backoff starts */
};

/* One thread's connection for one store. */
struct store_conn {
	struct store_conn *next;
	uint64_t	 store_id;
	redisContext	*c;		/* NULL: not connected */
	uint64_t	 epoch;		/* store epoch when connected */
	size_t		 pending;	/* store_account replies unread */
};

/* Thread-specific data: the thread's connections. */
struct store_tls {
	struct store_conn *conns;
	uint64_t	 frees_seen;
};

static pthread_once_t	 store_tls_once = PTHREAD_ONCE_INIT;
static pthread_key_t	 store_tls_key;
static int		 store_tls_error;

/* Connections of threads that ended, for the next threads to take.
 * libmilter's worker pool keeps two idle threads and ends the others:
 * behind Postfix (a milter connection per SMTP session, several at
 * once) most messages reach end of message on a thread that did not
 * exist for the last one.  Freed with their thread, its connections
 * cost a TCP connect (17 system calls here, and Redis' own accept and
 * close) for 61% of the messages behind Postfix.  Bounded: a thread
 * beyond STORE_SPARE ending at once closes its own. */
#define STORE_SPARE	16
static pthread_mutex_t	 store_spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_tls	*store_spare[STORE_SPARE];
static size_t		 store_nspare;

/* Which stores still exist, so a thread can drop its connections to a
 * store freed by another thread (which must not touch them). */
static pthread_mutex_t	 store_glock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable	*store_live;	/* &store->id; NULL when empty */
static uint64_t		 store_next_id;
static _Atomic uint64_t	 store_frees;

/* What a queued command's reply is for. */
enum store_want {
	WANT_IGNORE = 0,
	WANT_RECORDS,
	WANT_MESSAGES,
	WANT_RCPTS
};
#define WANT(kind, win)		((int)(kind) | ((int)(win) << 8))
#define WANT_KIND(x)		((x) & 0xff)
#define WANT_WIN(x)		((size_t)(x) >> 8)

/* Room kept in front of a command's arguments for its "*ARGC" line,
 * written there once the count is known (store_end): the command goes
 * to hiredis without being copied first. */
#define STORE_CMD_HEAD	24

/* A pipeline being built: the current command's arguments, already in
 * the protocol's form (RESP bulk strings), and the purpose of each
 * command appended so far.  Formatting ourselves, not with hiredis'
 * redisAppendCommandArgv, which runs a printf per argument: a history
 * read names about 80 keys, and that was most of the client's time. */
struct store_batch {
	redisContext	*c;
	GString		*cmd;		/* STORE_CMD_HEAD bytes, then this
					   command's arguments */
	int		 argc;
	GString		*tmp;
	GArray		*want;		/* int per appended command */
};

/* In-process history.  For each sender and window, every record key
 * (and recipient) sits in exactly one bucket, the last one it was seen
 * in: the window's distinct count is then the sum of the sizes of the
 * window's buckets, without a union per message, and expiring a bucket
 * forgets exactly the keys not seen since. */
struct mem_bucket {
	int64_t		 idx;		/* key of mem_window.buckets */
	uint64_t	 msgs;
	GHashTable	*recs;		/* sets; keys are the window's */
	GHashTable	*rcpts;
};

struct mem_window {
	int64_t		 b, k;		/* bucket size, buckets back */
	GHashTable	*recs;		/* key (owned) -> mem_bucket * */
	GHashTable	*rcpts;		/* the same for recipients */
	GHashTable	*buckets;	/* &idx -> mem_bucket * */
};

/* In-process counters, named as in Redis without the prefix. */
struct mem_stat {
	time_t		 expires;
	GHashTable	*fields;	/* name -> uint64_t * */
};

struct mem_state {
	GHashTable	*senders;	/* sender -> (window seconds ->
					   struct mem_window *) */
	GHashTable	*stats;		/* name -> struct mem_stat * */
	uint64_t	 calls;
};

static pthread_mutex_t	 mem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mem_state	*mem;

/* ------------------------------------------------------------ common */

static int64_t
store_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bucket size b and the number k of buckets before the current one
 * that a window of w seconds spans.  Rounding b down to a minute and k
 * up keeps the window at least w long, in at most 50 buckets. */
static void
store_geometry(unsigned w, int64_t *b, int64_t *k)
{
	int64_t bs;

	bs = (int64_t)w / 24 / 60 * 60;
	if (bs < 60)
		bs = 60;
	*b = bs;
	*k = ((int64_t)w + bs - 1) / bs;
}

/* The sender as stored: lower case (MUAs differ in case), and "<>" for
 * the null sender so that the hash tag is never "{}", which Redis
 * Cluster ignores. */
static char *
store_sender(const char *sender)
{
	if (sender == NULL || *sender == '\0')
		return g_strdup("<>");
	return g_ascii_strdown(sender, -1);
}

static long long
store_ll(size_t n)
{
	return n > (size_t)LLONG_MAX ? LLONG_MAX : (long long)n;
}

/* A counter to add to the hour and day hashes. */
struct store_field {
	char		*name;
	long long	 n;
};

static void
store_field_add(GArray *fields, long long n, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void
store_field_add(GArray *fields, long long n, const char *fmt, ...)
{
	struct store_field f;
	va_list ap;

	va_start(ap, fmt);
	f.name = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	f.n = n;
	g_array_append_val(fields, f);
}

static void
store_field_clear(void *p)
{
	g_free(((struct store_field *)p)->name);
}

/* The counters one decision adds to; the same for both backends. */
static GArray *
store_event_fields(const struct store_event *ev)
{
	GArray *f;
	size_t i;

	f = g_array_new(FALSE, FALSE, sizeof(struct store_field));
	g_array_set_clear_func(f, store_field_clear);
	store_field_add(f, 1, "messages");
	if (ev->bytes > 0)
		store_field_add(f, store_ll(ev->bytes), "bytes");
	if (ev->records > 0)
		store_field_add(f, store_ll(ev->records), "records");
	if (ev->incident != NULL)
		store_field_add(f, 1, "incidents");
	if (ev->action != NULL && *ev->action != '\0')
		store_field_add(f, 1, "action:%s", ev->action);
	if (ev->monitor && ev->would != NULL && *ev->would != '\0')
		store_field_add(f, 1, "monitor:%s", ev->would);
	for (i = 0; i < ev->nrules; i++)
		if (ev->rules[i] != NULL)
			store_field_add(f, 1, "rule:%s", ev->rules[i]);
	for (i = 0; ev->detectors != NULL && i < DET_COUNT; i++)
		if (ev->detectors[i] > 0)
			store_field_add(f, store_ll(ev->detectors[i]),
			    "detector:%s", detector_name((enum detector)i));
	if (ev->store_error)
		store_field_add(f, 1, "store_errors");
	return f;
}

/* UTC stamps for the hour and day counters. */
static void
store_stamps(time_t when, char *hour, size_t hourlen, char *day,
    size_t daylen)
{
	struct tm tm;

	if (gmtime_r(&when, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	(void)strftime(hour, hourlen, "%Y%m%d%H", &tm);
	(void)strftime(day, daylen, "%Y%m%d", &tm);
}

/* ISO 8601 UTC to the second, as the stream's "time" field. */
static void
store_iso(time_t when, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&when, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	(void)strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The decision's record ids as a JSON array of {"list","id"[,"canary"]}
 * (the audit log's shape, so one parser reads both), capped; *omitted
 * says how many were cut.  Each object is put together with its list's
 * name quoted once for the run of records on that list (they come
 * sorted by list), as report.c does for the audit line.  Caller
 * g_free()s. */
static char *
store_record_json(const struct store_event *ev, size_t *len,
    size_t *omitted)
{
	const struct store_record *r;
	const char *name, *list_at = NULL;
	struct json j;
	GString *obj = g_string_sized_new(96), *list = g_string_new(NULL);
	size_t i, n = ev->record_ids != NULL ? ev->nrecord_ids : 0;

	json_init(&j);
	json_array_begin(&j);
	for (i = 0; i < n && i < STORE_MAX_RECORD_IDS; i++) {
		r = &ev->record_ids[i];
		name = r->list != NULL ? r->list : "?";
		if (list_at == NULL || strcmp(name, list_at) != 0) {
			list_at = name;
			g_string_truncate(list, 0);
			json_quote(list, list_at, strlen(list_at));
		}
		g_string_truncate(obj, 0);
		gstr_append(obj, "{\"list\":", 8);
		gstr_append(obj, list->str, list->len);
		gstr_append(obj, ",\"id\":", 6);
		if (r->id != NULL)
			json_quote(obj, r->id, strlen(r->id));
		else
			gstr_append(obj, "\"\"", 2);
		if (r->canary)
			gstr_append(obj, ",\"canary\":true", 14);
		gstr_append(obj, "}", 1);
		json_raw(&j, obj->str, obj->len);
	}
	json_array_end(&j);
	g_string_free(obj, TRUE);
	g_string_free(list, TRUE);
	*omitted = n > STORE_MAX_RECORD_IDS ? n - STORE_MAX_RECORD_IDS : 0;
	return json_finish(&j, len);
}

/* ---------------------------------------- per-thread Redis connections */

static void
store_conn_free(struct store_conn *cn)
{
	if (cn->c != NULL)
		redisFree(cn->c);
	free(cn);
}

static void store_tls_prune(struct store_tls *);

/* Thread exit: the thread's connections wait for the next new thread
 * (store_spare), or close when enough already wait. */
static void
store_tls_destroy(void *p)
{
	struct store_tls *tls = p;
	struct store_conn *cn, *next;

	/* Pruned under the lock: a store_free either ran before (the
	 * prune drops its connections) or runs after and finds them in
	 * store_spare (store_spare_forget). */
	(void)pthread_mutex_lock(&store_spare_lock);
	store_tls_prune(tls);
	if (tls->conns != NULL && store_nspare < STORE_SPARE) {
		store_spare[store_nspare++] = tls;
		tls = NULL;
	}
	(void)pthread_mutex_unlock(&store_spare_lock);
	if (tls == NULL)
		return;
	for (cn = tls->conns; cn != NULL; cn = next) {
		next = cn->next;
		store_conn_free(cn);
	}
	free(tls);
}

static void
store_tls_init(void)
{
	store_tls_error = pthread_key_create(&store_tls_key,
	    store_tls_destroy);
}

static struct store_tls *
store_tls_get(void)
{
	struct store_tls *tls;

	if ((tls = pthread_getspecific(store_tls_key)) != NULL)
		return tls;
	/* A thread that ended left its connections: ours now.  Its
	 * frees_seen comes along, so the caller's store_tls_prune drops
	 * those to stores freed since. */
	(void)pthread_mutex_lock(&store_spare_lock);
	if (store_nspare > 0)
		tls = store_spare[--store_nspare];
	(void)pthread_mutex_unlock(&store_spare_lock);
	if (tls == NULL) {
		if ((tls = calloc(1, sizeof *tls)) == NULL)
			return NULL;
		tls->frees_seen = atomic_load(&store_frees);
	}
	if (pthread_setspecific(store_tls_key, tls) != 0) {
		store_tls_destroy(tls);
		return NULL;
	}
	return tls;
}

/* Drops the connections to stores freed since this thread last looked:
 * another thread freed them and could not reach our contexts.  The
 * counter makes this one atomic read per call when nothing changed. */
static void
store_tls_prune(struct store_tls *tls)
{
	struct store_conn **pp, *cn;
	uint64_t frees;

	if ((frees = atomic_load(&store_frees)) == tls->frees_seen)
		return;
	(void)pthread_mutex_lock(&store_glock);
	for (pp = &tls->conns; (cn = *pp) != NULL;) {
		if (store_live == NULL ||
		    !g_hash_table_contains(store_live, &cn->store_id)) {
			*pp = cn->next;
			store_conn_free(cn);
		} else
			pp = &cn->next;
	}
	(void)pthread_mutex_unlock(&store_glock);
	tls->frees_seen = frees;
}

static void
store_conn_drop(struct store_conn *cn)
{
	if (cn->c != NULL)
		redisFree(cn->c);
	cn->c = NULL;
	cn->pending = 0;
}

/* A Redis failure: drop this thread's context and start (or extend) the
 * backoff.  Failures during a running backoff come from commands begun
 * before it and do not double it again. */
static void
store_fail(struct store *s, struct store_conn *cn)
{
	int64_t now;

	store_conn_drop(cn);
	(void)pthread_mutex_lock(&s->lock);
	now = store_now_ms();
	if (now >= s->retry_at) {
		if (s->delay_ms == 0)
			s->delay_ms = STORE_BACKOFF_MIN_MS;
		else if ((s->delay_ms *= 2) > STORE_BACKOFF_MAX_MS)
			s->delay_ms = STORE_BACKOFF_MAX_MS;
		s->retry_at = now + s->delay_ms;
		s->epoch++;
	}
	(void)pthread_mutex_unlock(&s->lock);
}

static void
store_ok(struct store *s)
{
	(void)pthread_mutex_lock(&s->lock);
	s->delay_ms = 0;
	(void)pthread_mutex_unlock(&s->lock);
}

/* hiredis writes with write(2): a Redis that went away would raise
 * SIGPIPE and, unless the process ignores it, kill the gateway.  It is
 * blocked in this thread around our I/O (fdio.h), unless the process
 * ignored it when the store was made (custos-milter does): blocking,
 * checking and restoring is four system calls a message. */
static void
store_guard_on(const struct store *s, struct fd_sigpipe *sp)
{
	if (!s->sigpipe_ignored)
		fd_sigpipe_block(sp);
}

static void
store_guard_off(const struct store *s, struct fd_sigpipe *sp)
{
	if (!s->sigpipe_ignored)
		fd_sigpipe_restore(sp);
}

/* Reads one reply.  An I/O error or an error reply is -1 with err; the
 * caller drops the connection. */
static int
store_reply(redisContext *c, redisReply **out, char *err, size_t errlen)
{
	void *p = NULL;
	redisReply *r;

	*out = NULL;
	if (redisGetReply(c, &p) != REDIS_OK || p == NULL) {
		(void)snprintf(err, errlen, "redis: %s", c->errstr[0] != '\0' ?
		    c->errstr : "no reply");
		return -1;
	}
	r = p;
	if (r->type == REDIS_REPLY_ERROR) {
		(void)snprintf(err, errlen, "redis: %.*s", (int)r->len,
		    r->str != NULL ? r->str : "");
		freeReplyObject(r);
		return -1;
	}
	*out = r;
	return 0;
}

static int
store_connect(struct store *s, struct store_conn *cn, char *err,
    size_t errlen)
{
	const struct redisconn_target t = {
		.socket = s->socket, .host = s->host, .port = s->port,
		.password = s->password, .db = s->db,
		.connect_ms = s->connect_timeout_ms,
		.command_ms = s->command_timeout_ms
	};

	if ((cn->c = redisconn_connect(&t, err, errlen)) == NULL)
		return -1;
	cn->pending = 0;
	return 0;
}

/* This thread's connection to s, connected; NULL with err when Redis
 * failed now or is in its backoff period. */
static struct store_conn *
store_conn_get(struct store *s, char *err, size_t errlen)
{
	struct store_tls *tls;
	struct store_conn *cn;
	uint64_t epoch;
	int64_t retry_at;

	if ((tls = store_tls_get()) == NULL) {
		(void)snprintf(err, errlen, "store: out of memory");
		return NULL;
	}
	store_tls_prune(tls);
	for (cn = tls->conns; cn != NULL; cn = cn->next)
		if (cn->store_id == s->id)
			break;
	if (cn == NULL) {
		if ((cn = calloc(1, sizeof *cn)) == NULL) {
			(void)snprintf(err, errlen, "store: out of memory");
			return NULL;
		}
		cn->store_id = s->id;
		cn->next = tls->conns;
		tls->conns = cn;
	}
	(void)pthread_mutex_lock(&s->lock);
	epoch = s->epoch;
	retry_at = s->retry_at;
	(void)pthread_mutex_unlock(&s->lock);
	/* Another thread's failure: ours is likely broken too, and using it
	 * could cost a command timeout per message. */
	if (cn->c != NULL && cn->epoch != epoch)
		store_conn_drop(cn);
	if (cn->c == NULL) {
		if (store_now_ms() < retry_at) {
			(void)snprintf(err, errlen,
			    "redis unavailable (backoff)");
			return NULL;
		}
		if (store_connect(s, cn, err, errlen) != 0) {
			store_fail(s, cn);
			return NULL;
		}
		cn->epoch = epoch;
	}
	return cn;
}

/* ------------------------------------------------------ Redis batches */

static void
store_batch_init(struct store_batch *bt, redisContext *c)
{
	bt->c = c;
	bt->cmd = g_string_sized_new(1024);
	g_string_set_size(bt->cmd, STORE_CMD_HEAD);
	bt->argc = 0;
	bt->tmp = g_string_sized_new(128);
	bt->want = g_array_new(FALSE, FALSE, sizeof(int));
}

static void
store_batch_clear(struct store_batch *bt)
{
	g_string_free(bt->cmd, TRUE);
	g_string_free(bt->tmp, TRUE);
	g_array_free(bt->want, TRUE);
}

/* The decimal v written backwards so that it ends at end (which has at
 * least 20 bytes before it); returns its first byte.  Without printf:
 * a history read formats about 80 keys and lengths a message. */
static char *
store_udec(char *end, uint64_t v)
{
	do
		*--end = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	return end;
}

/* The same for a signed n (21 bytes before end). */
static char *
store_sdec(char *end, int64_t n)
{
	char *p = store_udec(end, n < 0 ? (uint64_t)-(n + 1) + 1 :
	    (uint64_t)n);

	if (n < 0)
		*--p = '-';
	return p;
}

/* Appends c and the decimal n, then CRLF: a RESP length line. */
static void
store_resp_len(GString *g, char c, uint64_t n)
{
	char num[24], *p = num + sizeof num;

	*--p = '\n';
	*--p = '\r';
	p = store_udec(p, n);
	*--p = c;
	gstr_append(g, p, (size_t)(num + sizeof num - p));
}

/* a[0..len) as a RESP bulk string at the end of g; returns where its
 * bytes start in g->str. */
static size_t
store_resp_bulk(GString *g, const char *a, size_t len)
{
	size_t at;

	store_resp_len(g, '$', len);
	at = g->len;
	gstr_append(g, a, len);
	gstr_append(g, "\r\n", 2);
	return at;
}

/* An argument, copied into the command; returns the copy, valid until
 * the next argument. */
static char *
store_arg_copy(struct store_batch *bt, const char *a, size_t len)
{
	size_t at = store_resp_bulk(bt->cmd, a, len);

	bt->argc++;
	return bt->cmd->str + at;
}

static void
store_arg(struct store_batch *bt, const char *a)
{
	(void)store_arg_copy(bt, a, strlen(a));
}

static void
store_argf(struct store_batch *bt, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
store_argf(struct store_batch *bt, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_string_vprintf(bt->tmp, fmt, ap);
	va_end(ap);
	(void)store_arg_copy(bt, bt->tmp->str, bt->tmp->len);
}

static void
store_arg_int(struct store_batch *bt, long long n)
{
	char num[24], *p = store_sdec(num + sizeof num, n);

	(void)store_arg_copy(bt, p, (size_t)(num + sizeof num - p));
}

/* A history key: base ("<prefix>h:{<sender>}:<kind>:<w>:") and the
 * bucket index. */
static void
store_hkey(struct store_batch *bt, const GString *base, int64_t idx)
{
	char num[24], *p = store_sdec(num + sizeof num, idx);
	size_t n = (size_t)(num + sizeof num - p);

	store_resp_len(bt->cmd, '$', base->len + n);
	gstr_append(bt->cmd, base->str, base->len);
	gstr_append(bt->cmd, p, n);
	gstr_append(bt->cmd, "\r\n", 2);
	bt->argc++;
}

/* A history key's base, "<prefix>h:{<sender>}:<kind>:<window>:", in
 * base (store_hkey adds the bucket). */
static void
store_hbase(GString *base, const char *prefix, const char *snd,
    const char *kind, unsigned window)
{
	char num[24], *p = store_udec(num + sizeof num, window);

	g_string_truncate(base, 0);
	gstr_append(base, prefix, strlen(prefix));
	gstr_append(base, "h:{", 3);
	gstr_append(base, snd, strlen(snd));
	gstr_append(base, "}:", 2);
	gstr_append(base, kind, strlen(kind));
	gstr_append(base, ":", 1);
	gstr_append(base, p, (size_t)(num + sizeof num - p));
	gstr_append(base, ":", 1);
}

/* Queues the command built so far; its reply is for want. */
static int
store_end(struct store_batch *bt, int want, char *err, size_t errlen)
{
	char *p = bt->cmd->str + STORE_CMD_HEAD;
	int rc;

	/* "*ARGC\r\n" right before the arguments (at most 13 bytes). */
	*--p = '\n';
	*--p = '\r';
	p = store_udec(p, (uint64_t)bt->argc);
	*--p = '*';
	rc = redisAppendFormattedCommand(bt->c, p,
	    bt->cmd->len - (size_t)(p - bt->cmd->str));
	g_string_set_size(bt->cmd, STORE_CMD_HEAD);
	bt->argc = 0;
	if (rc != REDIS_OK) {
		(void)snprintf(err, errlen, "redis: %s", bt->c->errstr);
		return -1;
	}
	g_array_append_val(bt->want, want);
	return 0;
}

/* Reads and drops the replies store_account left on the connection.
 * They were sent at the end of the thread's previous message, so they
 * are normally waiting in the socket buffer already. */
static int
store_drain(struct store_conn *cn, char *err, size_t errlen)
{
	redisReply *r;

	while (cn->pending > 0) {
		if (store_reply(cn->c, &r, err, errlen) != 0)
			return -1;
		freeReplyObject(r);
		cn->pending--;
	}
	return 0;
}

/* Makes cn ready for a batch: reads what store_account left, then
 * replaces a connection the server closed while the thread was idle
 * (Redis' own idle timeout, a restart long ago): that is not a failure
 * and must not cost a message.  -1 with err when Redis failed. */
static int
store_ready(struct store *s, struct store_conn *cn, char *err,
    size_t errlen)
{
	struct pollfd pfd;

	if (store_drain(cn, err, errlen) != 0)
		goto fail;
	/* Nothing is owed to us now: readable means EOF or garbage. */
	pfd.fd = cn->c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 0)
		return 0;
	store_conn_drop(cn);
	if (store_connect(s, cn, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	store_fail(s, cn);
	return -1;
}

static int
store_redis_history(struct store *s, const char *snd, time_t now,
    const char *const *recs, size_t nrecs, const char *const *rcpts,
    size_t nrcpts, struct policy_history *out, char *err, size_t errlen)
{
	struct store_conn *cn;
	struct store_batch bt;
	redisReply *r;
	static const char *const kinds[3] = { "rec", "msg", "rcpt" };
	static const enum store_want wants[3] = { WANT_RECORDS,
	    WANT_MESSAGES, WANT_RCPTS };
	GString *base = NULL, *recblock = NULL;
	char *a, ttl[32];
	int64_t b, k, cur, j;
	size_t i, n, want, nrecargs = 0;
	int rc = -1, kind;

	/* Pending replies are read before ours are sent: should they hold
	 * an error, a call that fails has counted nothing. */
	if ((cn = store_conn_get(s, err, errlen)) == NULL ||
	    store_ready(s, cn, err, errlen) != 0)
		return -1;
	store_batch_init(&bt, cn->c);
	base = g_string_sized_new(128);
	/* The record keys go to every window's PFADD: encoded once. */
	recblock = g_string_sized_new(nrecs * 32 + 1);
	for (n = 0; n < nrecs; n++)
		if (recs[n] != NULL) {
			(void)store_resp_bulk(recblock, recs[n],
			    strlen(recs[n]));
			nrecargs++;
		}
	for (i = 0; nrecs > 0 && i < s->nwindows; i++) {
		store_geometry(s->windows[i], &b, &k);
		cur = (int64_t)now / b;
		(void)snprintf(ttl, sizeof ttl, "%" PRId64, (k + 1) * b);
		for (kind = 0; kind < 3; kind++) {
			if (kind == 2 && nrcpts == 0)
				break;
			store_hbase(base, s->prefix, snd, kinds[kind],
			    s->windows[i]);
			store_arg(&bt, kind == 1 ? "INCR" : "PFADD");
			store_hkey(&bt, base, cur);
			if (kind == 0) {
				gstr_append(bt.cmd, recblock->str,
				    recblock->len);
				bt.argc += (int)nrecargs;
			}
			for (n = 0; kind == 2 && n < nrcpts; n++)
				if (rcpts[n] != NULL) {
					/* Lower case in place in the arena. */
					a = store_arg_copy(&bt, rcpts[n],
					    strlen(rcpts[n]));
					for (; *a != '\0'; a++)
						*a = g_ascii_tolower(*a);
				}
			if (store_end(&bt, WANT_IGNORE, err, errlen) != 0)
				goto fail;
			store_arg(&bt, "EXPIRE");
			store_hkey(&bt, base, cur);
			store_arg(&bt, ttl);
			if (store_end(&bt, WANT_IGNORE, err, errlen) != 0)
				goto fail;
		}
	}
	/* Read back only for rules that ask: each window's count names
	 * all its buckets, some 260 keys, and Redis merges as many
	 * HyperLogLogs. */
	for (i = 0; out != NULL && i < s->nwindows; i++) {
		store_geometry(s->windows[i], &b, &k);
		cur = (int64_t)now / b;
		for (kind = 0; kind < 3; kind++) {
			store_hbase(base, s->prefix, snd, kinds[kind],
			    s->windows[i]);
			store_arg(&bt, kind == 1 ? "MGET" : "PFCOUNT");
			for (j = cur - k; j <= cur; j++)
				store_hkey(&bt, base, j);
			if (store_end(&bt, WANT(wants[kind], i), err, errlen)
			    != 0)
				goto fail;
		}
	}

	for (n = 0; n < bt.want->len; n++) {
		int w = g_array_index(bt.want, int, n);

		if (store_reply(cn->c, &r, err, errlen) != 0)
			goto fail;
		want = WANT_WIN(w);
		switch (WANT_KIND(w)) {
		case WANT_IGNORE:
			break;
		case WANT_RECORDS:
		case WANT_RCPTS:
			if (r->type != REDIS_REPLY_INTEGER || r->integer < 0)
				goto unexpected;
			if (WANT_KIND(w) == WANT_RECORDS)
				out->records[want] = (uint64_t)r->integer;
			else
				out->recipients[want] = (uint64_t)r->integer;
			break;
		case WANT_MESSAGES:
			if (r->type != REDIS_REPLY_ARRAY)
				goto unexpected;
			for (i = 0; i < r->elements; i++)
				if (r->element[i]->type == REDIS_REPLY_STRING)
					out->messages[want] += strtoull(
					    r->element[i]->str, NULL, 10);
			break;
		}
		freeReplyObject(r);
	}
	store_ok(s);
	rc = 0;
	goto out;
unexpected:
	(void)snprintf(err, errlen, "redis: unexpected reply type %d",
	    r->type);
	freeReplyObject(r);
fail:
	store_fail(s, cn);
out:
	store_batch_clear(&bt);
	g_string_free(base, TRUE);
	g_string_free(recblock, TRUE);
	return rc;
}

/* The start of an XADD to the incident stream, trimmed to about
 * stream_maxlen: every entry has its type and time first. */
static void
store_xadd_head(struct store_batch *bt, const struct store *s,
    const char *type, const char *iso)
{
	store_arg(bt, "XADD");
	store_argf(bt, "%sstats:{stats}:incidents", s->prefix);
	store_arg(bt, "MAXLEN");
	store_arg(bt, "~");
	store_argf(bt, "%zu", s->stream_maxlen);
	store_arg(bt, "*");
	store_arg(bt, "type");
	store_arg(bt, type);
	store_arg(bt, "time");
	store_arg(bt, iso);
}

static int
store_redis_account(struct store *s, const struct store_event *ev,
    const char *snd, GArray *fields, char *err, size_t errlen)
{
	struct store_conn *cn;
	struct store_batch bt;
	struct store_field *f;
	GString *rules = NULL, *dets = NULL;
	char hour[16], day[16], iso[32], num[32], *ids, *from;
	char *keys[2] = { NULL, NULL };
	const long long ttls[2] = { STORE_HOUR_TTL, STORE_DAY_TTL };
	size_t i, k, idslen, omitted;
	int done;

	if ((cn = store_conn_get(s, err, errlen)) == NULL ||
	    store_ready(s, cn, err, errlen) != 0)
		return -1;
	store_batch_init(&bt, cn->c);
	store_stamps(ev->when, hour, sizeof hour, day, sizeof day);
	keys[0] = g_strconcat(s->prefix, "stats:{stats}:hour:", hour, NULL);
	keys[1] = g_strconcat(s->prefix, "stats:{stats}:day:", day, NULL);

	for (k = 0; k < 2; k++) {
		for (i = 0; i < fields->len; i++) {
			f = &g_array_index(fields, struct store_field, i);
			store_arg(&bt, "HINCRBY");
			store_arg(&bt, keys[k]);
			store_arg(&bt, f->name);
			store_arg_int(&bt, f->n);
			if (store_end(&bt, WANT_IGNORE, err, errlen) != 0)
				goto fail;
		}
		store_arg(&bt, "EXPIRE");
		store_arg(&bt, keys[k]);
		store_arg_int(&bt, ttls[k]);
		if (store_end(&bt, WANT_IGNORE, err, errlen) != 0)
			goto fail;
	}
	if (ev->records > 0) {
		store_arg(&bt, "ZINCRBY");
		store_argf(&bt, "%sstats:{stats}:senders:%s", s->prefix, day);
		store_argf(&bt, "%zu", ev->records);
		store_arg(&bt, snd);
		if (store_end(&bt, WANT_IGNORE, err, errlen) != 0)
			goto fail;
		store_arg(&bt, "EXPIRE");
		store_argf(&bt, "%sstats:{stats}:senders:%s", s->prefix, day);
		store_argf(&bt, "%d", STORE_DAY_TTL);
		if (store_end(&bt, WANT_IGNORE, err, errlen) != 0)
			goto fail;
	}
	/* A pass with records goes in too: breach notification needs every
	 * record that left, not only the ones that made an incident. */
	if (ev->incident != NULL ||
	    (ev->record_ids != NULL && ev->nrecord_ids > 0)) {
		store_iso(ev->when, iso, sizeof iso);
		rules = g_string_new(NULL);
		for (i = 0; i < ev->nrules; i++)
			if (ev->rules[i] != NULL)
				g_string_append_printf(rules, "%s%s",
				    rules->len > 0 ? "," : "", ev->rules[i]);
		dets = g_string_new(NULL);
		for (i = 0; ev->detectors != NULL && i < DET_COUNT; i++)
			if (ev->detectors[i] > 0)
				g_string_append_printf(dets, "%s%s:%zu",
				    dets->len > 0 ? "," : "",
				    detector_name((enum detector)i),
				    ev->detectors[i]);
		store_xadd_head(&bt, s, "decision", iso);
		store_arg(&bt, "node");
		store_arg(&bt, ev->node != NULL ? ev->node : "");
		store_arg(&bt, "incident");
		store_arg(&bt, ev->incident != NULL ? ev->incident : "");
		store_arg(&bt, "sender");
		store_arg(&bt, snd);
		store_arg(&bt, "mail_from");
		if (ev->mail_from != NULL) {
			from = store_sender(ev->mail_from);
			(void)store_arg_copy(&bt, from, strlen(from));
			g_free(from);
		} else
			store_arg(&bt, "");
		store_arg(&bt, "action");
		store_arg(&bt, ev->action != NULL ? ev->action : "");
		store_arg(&bt, "would");
		store_arg(&bt, ev->would != NULL ? ev->would : "");
		store_arg(&bt, "monitor");
		store_arg(&bt, ev->monitor ? "1" : "0");
		store_arg(&bt, "records");
		(void)snprintf(num, sizeof num, "%zu", ev->records);
		store_arg(&bt, num);
		store_arg(&bt, "rules");
		store_arg(&bt, rules->str);
		store_arg(&bt, "detectors");
		store_arg(&bt, dets->str);
		store_arg(&bt, "record_ids");
		ids = store_record_json(ev, &idslen, &omitted);
		(void)store_arg_copy(&bt, ids, idslen);
		g_free(ids);
		if (omitted > 0) {
			store_arg(&bt, "record_ids_omitted");
			store_argf(&bt, "%zu", omitted);
		}
		if (store_end(&bt, WANT_IGNORE, err, errlen) != 0)
			goto fail;
		store_arg(&bt, "EXPIRE");
		store_argf(&bt, "%sstats:{stats}:incidents", s->prefix);
		store_argf(&bt, "%d", STORE_DAY_TTL);
		if (store_end(&bt, WANT_IGNORE, err, errlen) != 0)
			goto fail;
	}

	/* Send now: a thread that goes quiet must not sit on counters. */
	do {
		if (redisBufferWrite(cn->c, &done) != REDIS_OK) {
			(void)snprintf(err, errlen, "redis: %s",
			    cn->c->errstr);
			goto fail;
		}
	} while (!done);
	cn->pending = bt.want->len;
	store_batch_clear(&bt);
	g_free(keys[0]);
	g_free(keys[1]);
	if (rules != NULL)
		g_string_free(rules, TRUE);
	if (dets != NULL)
		g_string_free(dets, TRUE);
	return 0;
fail:
	store_fail(s, cn);
	store_batch_clear(&bt);
	g_free(keys[0]);
	g_free(keys[1]);
	if (rules != NULL)
		g_string_free(rules, TRUE);
	if (dets != NULL)
		g_string_free(dets, TRUE);
	return -1;
}

/* Reads the replies of the commands queued in bt, for a call that waits
 * for them. */
static int
store_batch_wait(struct store_batch *bt, char *err, size_t errlen)
{
	redisReply *r;
	size_t n;

	for (n = 0; n < bt->want->len; n++) {
		if (store_reply(bt->c, &r, err, errlen) != 0)
			return -1;
		freeReplyObject(r);
	}
	return 0;
}

static int
store_redis_officer(struct store *s, const struct store_officer_event *oe,
    char *err, size_t errlen)
{
	struct store_conn *cn;
	struct store_batch bt;
	char iso[32];
	int rc = -1;

	if ((cn = store_conn_get(s, err, errlen)) == NULL ||
	    store_ready(s, cn, err, errlen) != 0)
		return -1;
	store_batch_init(&bt, cn->c);
	store_iso(time(NULL), iso, sizeof iso);
	store_xadd_head(&bt, s, "officer", iso);
	store_arg(&bt, "node");
	store_arg(&bt, oe->node != NULL ? oe->node : "");
	store_arg(&bt, "event");
	store_arg(&bt, oe->event != NULL ? oe->event : "");
	store_arg(&bt, "incident");
	store_arg(&bt, oe->incident != NULL ? oe->incident : "");
	store_arg(&bt, "officer");
	store_arg(&bt, oe->officer != NULL ? oe->officer : "");
	store_arg(&bt, "reason");
	store_arg(&bt, oe->reason != NULL ? oe->reason : "");
	store_arg(&bt, "detail");
	store_arg(&bt, oe->detail != NULL ? oe->detail : "");
	store_arg(&bt, "ok");
	store_arg(&bt, oe->ok ? "1" : "0");
	store_arg(&bt, "error");
	store_arg(&bt, oe->error != NULL ? oe->error : "");
	if (store_end(&bt, WANT_IGNORE, err, errlen) != 0)
		goto fail;
	store_arg(&bt, "EXPIRE");
	store_argf(&bt, "%sstats:{stats}:incidents", s->prefix);
	store_argf(&bt, "%d", STORE_DAY_TTL);
	if (store_end(&bt, WANT_IGNORE, err, errlen) != 0 ||
	    store_batch_wait(&bt, err, errlen) != 0)
		goto fail;
	store_ok(s);
	rc = 0;
	goto out;
fail:
	store_fail(s, cn);
out:
	store_batch_clear(&bt);
	return rc;
}

/* The id that follows "ms-seq", for the next page. */
static int
store_id_after(const char *id, char *out, size_t outlen)
{
	unsigned long long ms, seq;
	char *end;

	errno = 0;
	ms = strtoull(id, &end, 10);
	if (errno != 0 || *end != '-')
		return -1;
	seq = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	if (seq == ULLONG_MAX)
		(void)snprintf(out, outlen, "%llu-0", ms + 1);
	else
		(void)snprintf(out, outlen, "%llu-%llu", ms, seq + 1);
	return 0;
}

/* Hands one XRANGE entry ([id, [name, value, ...]]) to fn; 1 when fn
 * asked to stop, -1 when the entry is not shaped like one. */
static int
store_entry_call(const redisReply *e, store_entry_fn fn, void *arg,
    GPtrArray *names, GPtrArray *values)
{
	const redisReply *fv;
	struct store_entry se;
	size_t k;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return -1;
	fv = e->element[1];
	g_ptr_array_set_size(names, 0);
	g_ptr_array_set_size(values, 0);
	for (k = 0; fv->type == REDIS_REPLY_ARRAY && k + 1 < fv->elements;
	    k += 2) {
		if (fv->element[k]->type != REDIS_REPLY_STRING ||
		    fv->element[k + 1]->type != REDIS_REPLY_STRING)
			continue;
		g_ptr_array_add(names, fv->element[k]->str);
		g_ptr_array_add(values, fv->element[k + 1]->str);
	}
	se.id = e->element[0]->str;
	se.nfields = names->len;
	se.names = (const char *const *)names->pdata;
	se.values = (const char *const *)values->pdata;
	return fn(&se, arg) != 0 ? 1 : 0;
}

static int
store_redis_range(struct store *s, time_t since, time_t until,
    store_entry_fn fn, void *arg, char *err, size_t errlen)
{
	struct store_conn *cn;
	GPtrArray *names, *values;
	redisReply *r = NULL;
	const char *argv[6];
	char key[256], start[64], end[64], count[16];
	size_t i;
	int rc = -1, stop = 0;

	if ((cn = store_conn_get(s, err, errlen)) == NULL ||
	    store_ready(s, cn, err, errlen) != 0)
		return -1;
	(void)snprintf(key, sizeof key, "%sstats:{stats}:incidents",
	    s->prefix);
	if (since > 0)
		(void)snprintf(start, sizeof start, "%lld-0",
		    (long long)since * 1000);
	else
		(void)snprintf(start, sizeof start, "-");
	/* An end id without a sequence takes every entry of that ms. */
	if (until > 0)
		(void)snprintf(end, sizeof end, "%lld",
		    (long long)until * 1000 - 1);
	else
		(void)snprintf(end, sizeof end, "+");
	(void)snprintf(count, sizeof count, "%d", STORE_STREAM_PAGE);
	names = g_ptr_array_new();
	values = g_ptr_array_new();
	argv[0] = "XRANGE";
	argv[1] = key;
	argv[2] = start;
	argv[3] = end;
	argv[4] = "COUNT";
	argv[5] = count;
	while (!stop) {
		if (redisAppendCommandArgv(cn->c, 6, argv, NULL) != REDIS_OK) {
			(void)snprintf(err, errlen, "redis: %s", cn->c->errstr);
			goto fail;
		}
		if (store_reply(cn->c, &r, err, errlen) != 0)
			goto fail;
		if (r->type != REDIS_REPLY_ARRAY) {
			(void)snprintf(err, errlen, "redis: XRANGE: unexpected "
			    "reply type %d", r->type);
			goto fail;
		}
		for (i = 0; !stop && i < r->elements; i++)
			switch (store_entry_call(r->element[i], fn, arg, names,
			    values)) {
			case -1:
				(void)snprintf(err, errlen, "redis: XRANGE: "
				    "malformed entry");
				goto fail;
			case 1:
				stop = 1;
				break;
			}
		if (r->elements < STORE_STREAM_PAGE)
			stop = 1;
		else if (!stop && store_id_after(r->element[r->elements - 1]->
		    element[0]->str, start, sizeof start) != 0) {
			(void)snprintf(err, errlen, "redis: XRANGE: bad "
			    "entry id");
			goto fail;
		}
		freeReplyObject(r);
		r = NULL;
	}
	store_ok(s);
	rc = 0;
	goto out;
fail:
	store_fail(s, cn);
out:
	if (r != NULL)
		freeReplyObject(r);
	g_ptr_array_free(names, TRUE);
	g_ptr_array_free(values, TRUE);
	return rc;
}

/* ------------------------------------------------- in-process backend */

static void
mem_bucket_free(void *p)
{
	struct mem_bucket *bk = p;

	g_hash_table_destroy(bk->recs);
	g_hash_table_destroy(bk->rcpts);
	g_free(bk);
}

static struct mem_window *
mem_window_new(unsigned w)
{
	struct mem_window *mw = g_new0(struct mem_window, 1);

	store_geometry(w, &mw->b, &mw->k);
	mw->recs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	mw->rcpts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	mw->buckets = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
	    mem_bucket_free);
	return mw;
}

static void
mem_window_free(void *p)
{
	struct mem_window *mw = p;

	/* Buckets first: their sets borrow the keys the maps free. */
	g_hash_table_destroy(mw->buckets);
	g_hash_table_destroy(mw->recs);
	g_hash_table_destroy(mw->rcpts);
	g_free(mw);
}

static void
mem_stat_free(void *p)
{
	struct mem_stat *st = p;

	g_hash_table_destroy(st->fields);
	g_free(st);
}

/* The global state, created on first use; mem_lock held. */
static struct mem_state *
mem_get(void)
{
	if (mem == NULL) {
		mem = g_new0(struct mem_state, 1);
		mem->senders = g_hash_table_new_full(g_str_hash, g_str_equal,
		    g_free, (GDestroyNotify)g_hash_table_destroy);
		mem->stats = g_hash_table_new_full(g_str_hash, g_str_equal,
		    g_free, mem_stat_free);
	}
	return mem;
}

/* Forgets the buckets that fell out of the window, and with them the
 * keys last seen there. */
static void
mem_window_expire(struct mem_window *mw, int64_t cur)
{
	GHashTableIter it, kt;
	struct mem_bucket *bk;
	gpointer key, val;

	g_hash_table_iter_init(&it, mw->buckets);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		bk = val;
		if (bk->idx >= cur - mw->k)
			continue;
		g_hash_table_iter_init(&kt, bk->recs);
		while (g_hash_table_iter_next(&kt, &key, NULL))
			(void)g_hash_table_remove(mw->recs, key);
		g_hash_table_iter_init(&kt, bk->rcpts);
		while (g_hash_table_iter_next(&kt, &key, NULL))
			(void)g_hash_table_remove(mw->rcpts, key);
		g_hash_table_iter_remove(&it);
	}
}

/* Moves key to bucket bk (its last sighting), or adds it there. */
static void
mem_window_add(GHashTable *map, struct mem_bucket *bk, bool rcpt,
    const char *key)
{
	struct mem_bucket *old;
	gpointer okey, oval;

	if (g_hash_table_lookup_extended(map, key, &okey, &oval)) {
		old = oval;
		/* XXX A clock stepped back: keep the later sighting.  A read
		 * at the earlier time then misses the key where Redis would
		 * count it; wall clocks rarely step back by a bucket. */
		if (old->idx >= bk->idx)
			return;
		(void)g_hash_table_remove(rcpt ? old->rcpts : old->recs, okey);
		(void)g_hash_table_steal(map, okey);
	} else
		okey = g_strdup(key);
	g_hash_table_insert(map, okey, bk);
	g_hash_table_add(rcpt ? bk->rcpts : bk->recs, okey);
}

static struct mem_bucket *
mem_bucket_get(struct mem_window *mw, int64_t idx)
{
	struct mem_bucket *bk;

	if ((bk = g_hash_table_lookup(mw->buckets, &idx)) != NULL)
		return bk;
	bk = g_new0(struct mem_bucket, 1);
	bk->idx = idx;
	bk->recs = g_hash_table_new(g_str_hash, g_str_equal);
	bk->rcpts = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(mw->buckets, &bk->idx, bk);
	return bk;
}

/* Bounds memory for senders who went quiet, and windows a reload
 * removed: nobody's access would expire their buckets. */
static void
mem_sweep(struct mem_state *m, time_t now)
{
	GHashTableIter it, wt;
	struct mem_window *mw;
	struct mem_stat *st;
	gpointer val;

	g_hash_table_iter_init(&it, m->senders);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		g_hash_table_iter_init(&wt, val);
		while (g_hash_table_iter_next(&wt, NULL, (gpointer *)&mw)) {
			mem_window_expire(mw, (int64_t)now / mw->b);
			if (g_hash_table_size(mw->buckets) == 0)
				g_hash_table_iter_remove(&wt);
		}
		if (g_hash_table_size(val) == 0)
			g_hash_table_iter_remove(&it);
	}
	g_hash_table_iter_init(&it, m->stats);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&st))
		if (st->expires <= now)
			g_hash_table_iter_remove(&it);
}

static void
mem_tick(struct mem_state *m, time_t now)
{
	if (++m->calls % STORE_SWEEP_EVERY == 0)
		mem_sweep(m, now);
}

static void
mem_history(const struct store *s, const char *snd, time_t now,
    const char *const *recs, size_t nrecs, const char *const *rcpts,
    size_t nrcpts, struct policy_history *out)
{
	struct mem_state *m;
	struct mem_window *mw;
	struct mem_bucket *bk;
	GHashTable *wins;
	int64_t cur, j;
	size_t i, n;
	char *r;

	(void)pthread_mutex_lock(&mem_lock);
	m = mem_get();
	if ((wins = g_hash_table_lookup(m->senders, snd)) == NULL &&
	    nrecs > 0) {
		wins = g_hash_table_new_full(g_direct_hash, g_direct_equal,
		    NULL, mem_window_free);
		g_hash_table_insert(m->senders, g_strdup(snd), wins);
	}
	for (i = 0; wins != NULL && i < s->nwindows; i++) {
		mw = g_hash_table_lookup(wins, GUINT_TO_POINTER(s->windows[i]));
		if (mw == NULL) {
			if (nrecs == 0)
				continue;
			mw = mem_window_new(s->windows[i]);
			g_hash_table_insert(wins,
			    GUINT_TO_POINTER(s->windows[i]), mw);
		}
		cur = (int64_t)now / mw->b;
		mem_window_expire(mw, cur);
		if (nrecs > 0) {
			bk = mem_bucket_get(mw, cur);
			bk->msgs++;
			for (n = 0; n < nrecs; n++)
				if (recs[n] != NULL)
					mem_window_add(mw->recs, bk, false,
					    recs[n]);
			for (n = 0; n < nrcpts; n++)
				if (rcpts[n] != NULL) {
					r = g_ascii_strdown(rcpts[n], -1);
					mem_window_add(mw->rcpts, bk, true, r);
					g_free(r);
				}
		}
		for (j = cur - mw->k; out != NULL && j <= cur; j++)
			if ((bk = g_hash_table_lookup(mw->buckets, &j))
			    != NULL) {
				out->records[i] += g_hash_table_size(bk->recs);
				out->recipients[i] +=
				    g_hash_table_size(bk->rcpts);
				out->messages[i] += bk->msgs;
			}
	}
	mem_tick(m, now);
	(void)pthread_mutex_unlock(&mem_lock);
}

static void
mem_incr(struct mem_state *m, const char *name, time_t expires,
    const char *field, uint64_t n)
{
	struct mem_stat *st;
	uint64_t *v;

	if ((st = g_hash_table_lookup(m->stats, name)) == NULL) {
		st = g_new0(struct mem_stat, 1);
		st->fields = g_hash_table_new_full(g_str_hash, g_str_equal,
		    g_free, g_free);
		g_hash_table_insert(m->stats, g_strdup(name), st);
	}
	st->expires = expires;
	if ((v = g_hash_table_lookup(st->fields, field)) == NULL) {
		v = g_new0(uint64_t, 1);
		g_hash_table_insert(st->fields, g_strdup(field), v);
	}
	*v += n;
}

/* The same counters as in Redis, for a future "custos stats"; the
 * incident stream is the audit log's job here. */
static void
mem_account(const struct store_event *ev, const char *snd, GArray *fields)
{
	struct mem_state *m;
	struct store_field *f;
	char hour[16], day[16], name[64];
	size_t i;

	store_stamps(ev->when, hour, sizeof hour, day, sizeof day);
	(void)pthread_mutex_lock(&mem_lock);
	m = mem_get();
	for (i = 0; i < fields->len; i++) {
		f = &g_array_index(fields, struct store_field, i);
		(void)snprintf(name, sizeof name, "stats:{stats}:hour:%s",
		    hour);
		mem_incr(m, name, ev->when + STORE_HOUR_TTL, f->name,
		    (uint64_t)f->n);
		(void)snprintf(name, sizeof name, "stats:{stats}:day:%s", day);
		mem_incr(m, name, ev->when + STORE_DAY_TTL, f->name,
		    (uint64_t)f->n);
	}
	if (ev->records > 0) {
		(void)snprintf(name, sizeof name, "stats:{stats}:senders:%s",
		    day);
		mem_incr(m, name, ev->when + STORE_DAY_TTL, snd, ev->records);
	}
	mem_tick(m, ev->when);
	(void)pthread_mutex_unlock(&mem_lock);
}

/* Closes the waiting connections to the store id: no thread holds
 * them, so none would otherwise until a new thread took them. */
static void
store_spare_forget(uint64_t id)
{
	struct store_conn **pp, *cn;
	size_t i;

	(void)pthread_mutex_lock(&store_spare_lock);
	for (i = 0; i < store_nspare;) {
		for (pp = &store_spare[i]->conns; (cn = *pp) != NULL;)
			if (cn->store_id == id) {
				*pp = cn->next;
				store_conn_free(cn);
			} else
				pp = &cn->next;
		if (store_spare[i]->conns == NULL) {
			free(store_spare[i]);
			store_spare[i] = store_spare[--store_nspare];
		} else
			i++;
	}
	(void)pthread_mutex_unlock(&store_spare_lock);
}

/* ------------------------------------------------------------- public */

struct store *
store_free(struct store *s)
{
	struct store_tls *tls;
	struct store_conn **pp, *cn;

	if (s == NULL)
		return NULL;
	if (s->id != 0) {
		/* Our own connection we can close, and those waiting for a
		 * new thread; other threads close theirs when they next
		 * call or exit. */
		if ((tls = pthread_getspecific(store_tls_key)) != NULL)
			for (pp = &tls->conns; (cn = *pp) != NULL;
			    pp = &cn->next)
				if (cn->store_id == s->id) {
					*pp = cn->next;
					store_conn_free(cn);
					break;
				}
		(void)pthread_mutex_lock(&store_glock);
		(void)g_hash_table_remove(store_live, &s->id);
		if (g_hash_table_size(store_live) == 0) {
			g_hash_table_destroy(store_live);
			store_live = NULL;
		}
		(void)pthread_mutex_unlock(&store_glock);
		atomic_fetch_add(&store_frees, 1);
		/* After the store left store_live: see store_tls_destroy. */
		store_spare_forget(s->id);
	}
	(void)pthread_mutex_destroy(&s->lock);
	free(s->socket);
	free(s->host);
	free(s->password);
	free(s->prefix);
	free(s);
	return NULL;
}

struct store *
store_new(const struct store_conf *conf, char *err, size_t errlen)
{
	struct sigaction sa;
	struct store *s;
	size_t i;

	if (conf->nwindows > POLICY_MAX_WINDOWS) {
		(void)snprintf(err, errlen, "store: more than %d windows",
		    POLICY_MAX_WINDOWS);
		return NULL;
	}
	for (i = 0; i < conf->nwindows; i++)
		if (conf->windows[i] == 0) {
			(void)snprintf(err, errlen, "store: a window of 0 "
			    "seconds");
			return NULL;
		}
	/* A brace in the prefix would become the hash tag and put every
	 * sender in one cluster slot. */
	if (conf->prefix != NULL && strpbrk(conf->prefix, "{}") != NULL) {
		(void)snprintf(err, errlen, "store: prefix \"%s\" contains a "
		    "brace", conf->prefix);
		return NULL;
	}
	if (conf->redis && (conf->db < 0 || ((conf->socket == NULL ||
	    *conf->socket == '\0') && (conf->host == NULL ||
	    *conf->host == '\0' || conf->port <= 0 || conf->port > 65535)))) {
		(void)snprintf(err, errlen, "store: redis needs a socket or a "
		    "host and a port, and a database number");
		return NULL;
	}
	if ((s = calloc(1, sizeof *s)) == NULL)
		goto nomem;
	(void)pthread_mutex_init(&s->lock, NULL);
	s->redis = conf->redis;
	s->sigpipe_ignored = sigaction(SIGPIPE, NULL, &sa) == 0 &&
	    !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_IGN;
	s->port = conf->port;
	s->db = conf->db;
	s->connect_timeout_ms = conf->connect_timeout_ms > 0 ?
	    conf->connect_timeout_ms : 1000;
	s->command_timeout_ms = conf->command_timeout_ms > 0 ?
	    conf->command_timeout_ms : 1000;
	memcpy(s->windows, conf->windows, sizeof s->windows);
	s->nwindows = conf->nwindows;
	s->stream_maxlen = conf->stream_maxlen > 0 ? conf->stream_maxlen :
	    STORE_STREAM_MAXLEN;
	s->socket = strdup(conf->socket != NULL ? conf->socket : "");
	s->host = strdup(conf->host != NULL ? conf->host : "");
	s->password = strdup(conf->password != NULL ? conf->password : "");
	s->prefix = strdup(conf->prefix != NULL ? conf->prefix : "");
	if (s->socket == NULL || s->host == NULL || s->password == NULL ||
	    s->prefix == NULL) {
		(void)store_free(s);
		goto nomem;
	}
	if (!s->redis)
		return s;

	(void)pthread_once(&store_tls_once, store_tls_init);
	if (store_tls_error != 0) {
		(void)snprintf(err, errlen, "store: thread key: %s",
		    strerror(store_tls_error));
		return store_free(s);
	}
	(void)pthread_mutex_lock(&store_glock);
	s->id = ++store_next_id;
	if (store_live == NULL)
		store_live = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_hash_table_add(store_live, &s->id);
	(void)pthread_mutex_unlock(&store_glock);
	return s;
nomem:
	(void)snprintf(err, errlen, "store: out of memory");
	return NULL;
}

int
store_history(struct store *s, const char *sender, time_t now,
    const char *const *record_keys, size_t nrecords,
    const char *const *ext_rcpts, size_t nrcpts,
    struct policy_history *out, char *err, size_t errlen)
{
	struct fd_sigpipe sp;
	char *snd;
	int rc = 0;

	if (out != NULL)
		memset(out, 0, sizeof *out);
	/* Only messages that carry records make history; a clean message
	 * to many recipients is not a leak. */
	if (nrecords == 0 || record_keys == NULL)
		nrecords = nrcpts = 0;
	if (ext_rcpts == NULL)
		nrcpts = 0;
	snd = store_sender(sender);
	if (!s->redis)
		mem_history(s, snd, now, record_keys, nrecords, ext_rcpts,
		    nrcpts, out);
	else {
		store_guard_on(s, &sp);
		rc = store_redis_history(s, snd, now, record_keys, nrecords,
		    ext_rcpts, nrcpts, out, err, errlen);
		store_guard_off(s, &sp);
	}
	g_free(snd);
	if (rc != 0) {
		if (out != NULL)
			memset(out, 0, sizeof *out);
		return -1;
	}
	if (out != NULL)
		out->known = true;
	return 0;
}

int
store_account(struct store *s, const struct store_event *ev, char *err,
    size_t errlen)
{
	struct fd_sigpipe sp;
	GArray *fields;
	char *snd;
	int rc = 0;

	snd = store_sender(ev->sender);
	fields = store_event_fields(ev);
	if (!s->redis)
		mem_account(ev, snd, fields);
	else {
		store_guard_on(s, &sp);
		rc = store_redis_account(s, ev, snd, fields, err, errlen);
		store_guard_off(s, &sp);
	}
	g_array_free(fields, TRUE);
	g_free(snd);
	return rc;
}

int
store_officer(struct store *s, const struct store_officer_event *oe,
    char *err, size_t errlen)
{
	struct fd_sigpipe sp;
	int rc;

	/* The in-process store keeps no stream; the audit log has it. */
	if (!s->redis)
		return 0;
	store_guard_on(s, &sp);
	rc = store_redis_officer(s, oe, err, errlen);
	store_guard_off(s, &sp);
	return rc;
}

int
store_stream_range(struct store *s, time_t since, time_t until,
    store_entry_fn fn, void *arg, char *err, size_t errlen)
{
	struct fd_sigpipe sp;
	int rc;

	if (!s->redis) {
		(void)snprintf(err, errlen, "the in-process store keeps no "
		    "incident stream: read the audit log");
		return -1;
	}
	store_guard_on(s, &sp);
	rc = store_redis_range(s, since, until, fn, arg, err, errlen);
	store_guard_off(s, &sp);
	return rc;
}

const char *
store_entry_get(const struct store_entry *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->nfields; i++)
		if (strcmp(e->names[i], name) == 0)
			return e->values[i];
	return NULL;
}
