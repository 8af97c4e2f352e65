/* test_store.c - the sender history and the SOC counters: the
 * in-process store, and the Redis store against a real redis-server this
 * program starts on a free loopback port in a temp dir (one per test,
 * killed in teardown).  Without redis-server the Redis tests are
 * skipped, unless CI=true: then they fail, so CI never passes blind. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <glib.h>
#include <hiredis/hiredis.h>

#include "store.h"
#include "testredis.h"

/* 2023-11-14T22:00:00Z, a multiple of 7200: every bucket of every test
 * window starts there, so the boundaries below are exact. */
#define T0	((time_t)1699999200)
#define MINUTE	60
#define HOUR	3600
#define DAY	86400

enum { W1H = 0, W1D, W7D };

static const char *const no_keys[] = { NULL };

/* ------------------------------------------------------------ helpers */

static void
conf_init(struct store_conf *sc, bool redis, int port)
{
	memset(sc, 0, sizeof *sc);
	sc->redis = redis;
	sc->host = (char *)"127.0.0.1";
	sc->port = port;
	sc->password = (char *)"";
	sc->prefix = (char *)"custos:";
	sc->connect_timeout_ms = 500;
	sc->command_timeout_ms = 500;
	sc->windows[W1H] = HOUR;
	sc->windows[W1D] = DAY;
	sc->windows[W7D] = 7 * DAY;
	sc->nwindows = 3;
	sc->stream_maxlen = 1000;
}

static struct store *
store_or_fail(const struct store_conf *sc)
{
	struct store *s;
	char err[256] = "";

	if ((s = store_new(sc, err, sizeof err)) == NULL)
		fail_msg("store_new: %s", err);
	return s;
}

/* store_history that must succeed. */
static struct policy_history
hist(struct store *s, const char *sender, time_t now,
    const char *const *recs, size_t nrecs, const char *const *rcpts,
    size_t nrcpts)
{
	struct policy_history h;
	char err[256] = "";

	if (store_history(s, sender, now, recs, nrecs, rcpts, nrcpts, &h, err,
	    sizeof err) != 0)
		fail_msg("store_history(%s, %lld): %s", sender,
		    (long long)(now - T0), err);
	assert_true(h.known);
	return h;
}

/* History with no new message: read only. */
static struct policy_history
peek(struct store *s, const char *sender, time_t now)
{
	return hist(s, sender, now, no_keys, 0, no_keys, 0);
}

/* Redis counts distinct values with HyperLogLog: 0.81% standard error,
 * and even small sets can come out one short when two values share a
 * register (34 distinct record keys gave 33).  Counters stay exact. */
static bool approx;

static int
distinct_ok(uint64_t got, uint64_t want)
{
	uint64_t tol = approx ? want / 30 : 0;

	return got + tol >= want && got <= want + tol;
}

static void
hist_eq(const struct policy_history *h, int win, uint64_t rec,
    uint64_t msg, uint64_t rcpt, const char *what)
{
	if (!distinct_ok(h->records[win], rec) || h->messages[win] != msg ||
	    !distinct_ok(h->recipients[win], rcpt))
		fail_msg("%s, window %d: got records %llu messages %llu "
		    "recipients %llu, want %llu %llu %llu", what, win,
		    (unsigned long long)h->records[win],
		    (unsigned long long)h->messages[win],
		    (unsigned long long)h->recipients[win],
		    (unsigned long long)rec, (unsigned long long)msg,
		    (unsigned long long)rcpt);
}

static double
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Messages recorded with nothing read back (out NULL: rules without a
 * history condition) are in the history a later read sees. */
static void
scenario_write_only(struct store *s, const char *what)
{
	const char *a[] = { "customers:C1", "customers:C2" };
	const char *b[] = { "customers:C2", "customers:C3" };
	const char *r[] = { "x@partner.example" };
	struct policy_history h;
	char err[256] = "";

	if (store_history(s, "w@example.com", T0, a, 2, r, 1, NULL, err,
	    sizeof err) != 0 ||
	    store_history(s, "w@example.com", T0 + 10, b, 2, r, 1, NULL, err,
	    sizeof err) != 0)
		fail_msg("%s: write only: %s", what, err);
	h = peek(s, "w@example.com", T0 + 20);
	hist_eq(&h, W1H, 3, 2, 1, what);
	hist_eq(&h, W7D, 3, 2, 1, what);
}

/* Counts the entries store_stream_range hands over. */
static int
collect(const struct store_entry *e, void *arg)
{
	size_t *n = arg;

	(void)e;
	(*n)++;
	return 0;
}

/* -------------------------------------------------- shared scenarios */

/* Windows, distinct counting, case, clean messages, separate senders,
 * recipients and the exact bucket boundaries; the same for both
 * backends.  tag keeps the senders apart between runs. */
static void
scenario_windows(struct store *s, const char *tag)
{
	const char *m1[] = { "customers:C00001", "customers:C00002",
	    "customers:C00003", "customers:C00001" };
	const char *m2[] = { "customers:C00003", "customers:C00004" };
	const char *m3[] = { "customers:C00001" };
	const char *r1[] = { "x@ext.example", "Y@ext.example" };
	const char *r2[] = { "y@EXT.example", "z@ext.example" };
	const char *r3[] = { "w@ext.example" };
	struct policy_history h;
	char alice[64], alice_uc[64], bob[64];
	int w;

	(void)snprintf(alice, sizeof alice, "alice-%s@example.com", tag);
	(void)snprintf(alice_uc, sizeof alice_uc, "Alice-%s@Example.COM", tag);
	(void)snprintf(bob, sizeof bob, "bob-%s@example.com", tag);

	/* The same record twice in one message counts once. */
	h = hist(s, alice, T0, m1, 4, r1, 2);
	for (w = W1H; w <= W7D; w++)
		hist_eq(&h, w, 3, 1, 2, "first message");
	/* C00003 again, Y again in another case. */
	h = hist(s, alice_uc, T0 + 10 * MINUTE, m2, 2, r2, 2);
	for (w = W1H; w <= W7D; w++)
		hist_eq(&h, w, 4, 2, 3, "second message");
	/* A clean message counts nowhere, its recipients neither. */
	h = hist(s, alice, T0 + 11 * MINUTE, no_keys, 0, r3, 1);
	for (w = W1H; w <= W7D; w++)
		hist_eq(&h, w, 4, 2, 3, "clean message");
	/* Another sender has a history of its own. */
	h = hist(s, bob, T0 + 11 * MINUTE, m3, 1, NULL, 0);
	for (w = W1H; w <= W7D; w++)
		hist_eq(&h, w, 1, 1, 0, "bob");
	h = peek(s, alice, T0 + 11 * MINUTE);
	hist_eq(&h, W1D, 4, 2, 3, "alice after bob");

	/* 1h = 30 buckets of 2 min before the current one: T0's bucket is
	 * in until T0 + 1h + 2min, then only the second message is. */
	h = peek(s, alice, T0 + HOUR);
	hist_eq(&h, W1H, 4, 2, 3, "at 1h");
	h = peek(s, alice, T0 + HOUR + 2 * MINUTE);
	hist_eq(&h, W1H, 2, 1, 2, "at 1h2m");
	hist_eq(&h, W1D, 4, 2, 3, "at 1h2m");

	h = hist(s, alice, T0 + 2 * HOUR, m3, 1, NULL, 0);
	hist_eq(&h, W1H, 1, 1, 0, "third message");
	hist_eq(&h, W1D, 4, 3, 3, "third message");
	hist_eq(&h, W7D, 4, 3, 3, "third message");

	h = peek(s, alice, T0 + 2 * DAY + HOUR);
	hist_eq(&h, W1H, 0, 0, 0, "after 2 days");
	hist_eq(&h, W1D, 0, 0, 0, "after 2 days");
	hist_eq(&h, W7D, 4, 3, 3, "after 2 days");

	h = peek(s, alice, T0 + 9 * DAY);
	for (w = W1H; w <= W7D; w++)
		hist_eq(&h, w, 0, 0, 0, "after 9 days");
	h = peek(s, "nobody@example.com", T0);
	hist_eq(&h, W1D, 0, 0, 0, "unknown sender");
}

/* A slow leak: 20 messages of 10 new records each, every 30 minutes.
 * Returns the 1-day record count (exact in memory, a HyperLogLog
 * estimate in Redis). */
static uint64_t
scenario_drip(struct store *s, const char *tag)
{
	struct policy_history h;
	char sender[64], keys[10][32], rcpt[32];
	const char *kp[10], *rp[1];
	int i, j;

	(void)snprintf(sender, sizeof sender, "drip-%s@example.com", tag);
	memset(&h, 0, sizeof h);
	for (i = 0; i < 20; i++) {
		for (j = 0; j < 10; j++) {
			(void)snprintf(keys[j], sizeof keys[j],
			    "customers:C%05d", i * 10 + j);
			kp[j] = keys[j];
		}
		(void)snprintf(rcpt, sizeof rcpt, "r%d@ext.example", i % 5);
		rp[0] = rcpt;
		h = hist(s, sender, T0 + i * 30 * MINUTE, kp, 10, rp, 1);
		if (i < 9)
			hist_eq(&h, W1D, (uint64_t)(i + 1) * 10,
			    (uint64_t)i + 1, i < 5 ? (uint64_t)i + 1 : 5,
			    "drip");
	}
	/* 1h holds the messages at -60, -30 and 0 minutes. */
	hist_eq(&h, W1H, 30, 3, 3, "drip, last hour");
	assert_int_equal(h.messages[W1D], 20);
	assert_int_equal(h.recipients[W1D], 5);
	assert_int_equal(h.messages[W7D], 20);
	return h.records[W1D];
}

/* ----------------------------------------------------- memory backend */

static void
test_mem_windows(void **state)
{
	struct store_conf sc;
	struct store *s;

	(void)state;
	conf_init(&sc, false, 0);
	s = store_or_fail(&sc);
	scenario_windows(s, "mem");
	s = store_free(s);
	assert_null(s);
}

static void
test_mem_write_only(void **state)
{
	struct store_conf sc;
	struct store *s;

	(void)state;
	conf_init(&sc, false, 0);
	s = store_or_fail(&sc);
	scenario_write_only(s, "mem");
	(void)store_free(s);
}

static void
test_mem_drip(void **state)
{
	struct store_conf sc;
	struct store *s;

	(void)state;
	conf_init(&sc, false, 0);
	s = store_or_fail(&sc);
	assert_int_equal(scenario_drip(s, "mem"), 200);
	(void)store_free(s);
}

/* The in-process history outlives the store: a config reload builds a
 * new one and must not forget who sent what. */
static void
test_mem_survives_reload(void **state)
{
	const char *k[] = { "customers:C1", "customers:C2" };
	struct store_conf sc;
	struct store *s;
	struct policy_history h;

	(void)state;
	conf_init(&sc, false, 0);
	s = store_or_fail(&sc);
	(void)hist(s, "reload@example.com", T0, k, 2, NULL, 0);
	s = store_free(s);
	s = store_or_fail(&sc);
	h = peek(s, "reload@example.com", T0 + MINUTE);
	hist_eq(&h, W1D, 2, 1, 0, "after reload");
	(void)store_free(s);
}

/* The periodic sweep forgets senders that went quiet, and keeps what is
 * still in a window.  Seen by asking about the quiet sender at a time
 * when its message would still count: only the sweep can have removed
 * it. */
static void
test_mem_sweep(void **state)
{
	const char *k[] = { "customers:C1" };
	struct store_conf sc;
	struct store *s;
	struct policy_history h;
	char sender[64];
	int i;

	(void)state;
	conf_init(&sc, false, 0);
	s = store_or_fail(&sc);
	(void)hist(s, "quiet@example.com", T0 + 30 * DAY, k, 1, NULL, 0);
	h = peek(s, "quiet@example.com", T0 + 30 * DAY + MINUTE);
	hist_eq(&h, W1D, 1, 1, 0, "quiet, before");
	(void)hist(s, "kept@example.com", T0 + 60 * DAY, k, 1, NULL, 0);
	/* More than a sweep's worth of calls, 30 days later. */
	for (i = 0; i < 1500; i++) {
		(void)snprintf(sender, sizeof sender, "s%d@example.com", i);
		(void)hist(s, sender, T0 + 60 * DAY + i, k, 1, NULL, 0);
	}
	h = peek(s, "quiet@example.com", T0 + 30 * DAY + MINUTE);
	hist_eq(&h, W7D, 0, 0, 0, "quiet, swept");
	h = peek(s, "kept@example.com", T0 + 60 * DAY + HOUR);
	hist_eq(&h, W1D, 1, 1, 0, "kept across sweeps");
	(void)store_free(s);
}

static void
test_mem_account(void **state)
{
	const char *rules[] = { "bulk" };
	size_t det[DET_COUNT] = { 0 };
	struct store_event ev = {
		.when = T0, .node = "gw1", .sender = "a@example.com",
		.incident = "INC-1", .action = "hold", .bytes = 100,
		.records = 3, .rules = rules, .nrules = 1, .detectors = det
	};
	struct store_conf sc;
	struct store *s;
	char err[256] = "";

	(void)state;
	det[DET_CN_MOBILE] = 2;
	conf_init(&sc, false, 0);
	s = store_or_fail(&sc);
	assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	(void)store_free(s);
}

struct worker {
	struct store	*s;
	int		 n;
	char		 sender[64];
	int		 failed;
	char		 err[400];
};

static void *
worker_run(void *arg)
{
	struct worker *wk = arg;
	struct policy_history h;
	char key[32], err[256];
	const char *kp[1] = { key };
	int i;

	for (i = 0; i < 50; i++) {
		(void)snprintf(key, sizeof key, "customers:C%d", i);
		err[0] = '\0';
		if (store_history(wk->s, wk->sender, T0 + i, kp, 1, NULL, 0,
		    &h, err, sizeof err) != 0 ||
		    !distinct_ok(h.records[W1D], (uint64_t)i + 1) ||
		    h.messages[W1D] != (uint64_t)i + 1) {
			wk->failed++;
			(void)snprintf(wk->err, sizeof wk->err, "%d: %s "
			    "records %llu", i, err,
			    (unsigned long long)h.records[W1D]);
		}
	}
	return NULL;
}

/* Several threads on one store, each its own sender; for Redis each
 * thread has its own connection, handed on when the thread exits and
 * freed with the store (the leak checker watches). */
static void
run_workers(struct store *s, const char *tag)
{
	struct worker wk[8];
	pthread_t th[8];
	int i;

	for (i = 0; i < 8; i++) {
		wk[i].s = s;
		wk[i].n = i;
		wk[i].failed = 0;
		wk[i].err[0] = '\0';
		(void)snprintf(wk[i].sender, sizeof wk[i].sender,
		    "t%d-%s@example.com", i, tag);
		assert_int_equal(pthread_create(&th[i], NULL, worker_run,
		    &wk[i]), 0);
	}
	/* All joined before any check: a failing check jumps away. */
	for (i = 0; i < 8; i++)
		(void)pthread_join(th[i], NULL);
	for (i = 0; i < 8; i++)
		if (wk[i].failed != 0)
			fail_msg("thread %d: %d wrong answers, last: %s", i,
			    wk[i].failed, wk[i].err);
}

static void
test_mem_threads(void **state)
{
	struct store_conf sc;
	struct store *s;

	(void)state;
	conf_init(&sc, false, 0);
	s = store_or_fail(&sc);
	run_workers(s, "mem");
	(void)store_free(s);
}

static void
test_new_errors(void **state)
{
	static const struct {
		const char	*what;
		bool		 redis;
		const char	*prefix;
		const char	*host;
		unsigned	 window;
		const char	*want;
	} rows[] = {
		{ "zero window", false, "custos:", "h", 0, "window" },
		{ "brace in prefix", true, "cu{s}:", "h", 60, "brace" },
		{ "no host", true, "custos:", "", 60, "host" },
	};
	struct store_conf sc;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		conf_init(&sc, rows[i].redis, 6379);
		sc.prefix = (char *)rows[i].prefix;
		sc.host = (char *)rows[i].host;
		sc.windows[0] = rows[i].window;
		err[0] = '\0';
		if (store_new(&sc, err, sizeof err) != NULL)
			fail_msg("%s: got a store, want NULL", rows[i].what);
		if (strstr(err, rows[i].want) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].what,
			    err, rows[i].want);
	}
}

/* A "Redis" that reads a little of the request and hangs up, so the
 * store writes into a dead socket. */
struct hangup {
	int	 lfd;
	int	 port;
};

static void *
hangup_run(void *arg)
{
	struct hangup *hu = arg;
	char buf[1024];
	int fd;

	if ((fd = accept(hu->lfd, NULL, NULL)) >= 0) {
		(void)read(fd, buf, sizeof buf);
		/* FIN first, then the reset for unread data: the client's
		 * next write then fails with EPIPE, not ECONNRESET. */
		(void)shutdown(fd, SHUT_WR);
		(void)usleep(50000);
		(void)close(fd);
	}
	return NULL;
}

/* The peer goes away in the middle of a large batch: the write fails
 * with EPIPE, and SIGPIPE (not ignored here, as in a program that
 * forgot to) must not kill the gateway. */
static void
test_redis_sigpipe(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	struct store_conf sc;
	struct store *s;
	struct policy_history h;
	struct hangup hu;
	pthread_t th;
	char **keys, err[256] = "";
	size_t i, n = 200000;

	(void)state;
	assert_true(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	assert_true((hu.lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(hu.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(hu.lfd, 1), 0);
	assert_int_equal(getsockname(hu.lfd, (struct sockaddr *)&sa, &len),
	    0);
	hu.port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&th, NULL, hangup_run, &hu), 0);

	keys = g_new(char *, n);
	for (i = 0; i < n; i++)
		keys[i] = g_strdup_printf("customers:C%06zu", i);
	conf_init(&sc, true, hu.port);
	sc.command_timeout_ms = 2000;
	s = store_or_fail(&sc);
	assert_int_equal(store_history(s, "big@example.com", T0,
	    (const char *const *)keys, n, NULL, 0, &h, err, sizeof err), -1);
	assert_false(h.known);
	print_message("# peer hung up: %s\n", err);
	(void)store_free(s);
	(void)pthread_join(th, NULL);
	(void)close(hu.lfd);
	for (i = 0; i < n; i++)
		g_free(keys[i]);
	g_free(keys);
}

/* -------------------------------------------------- a real Redis */

static int
redis_teardown(void **state)
{
	struct testredis *f = *state;
	struct dirent *e;
	DIR *d;
	char p[512];

	testredis_stop(f);
	if ((d = opendir(f->dir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.') {
				(void)snprintf(p, sizeof p, "%s/%s",
				    f->dir, e->d_name);
				(void)unlink(p);
			}
		(void)closedir(d);
	}
	(void)rmdir(f->dir);
	free(f);
	approx = false;
	return 0;
}

/* One server per test, in its own temp dir; none without redis-server
 * (the tests then skip, see need_redis). */
static int
redis_setup(void **state)
{
	struct testredis *f = calloc(1, sizeof *f);

	assert_non_null(f);
	approx = true;
	(void)snprintf(f->dir, sizeof f->dir,
	    "/tmp/custos-test-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	if (testredis_path() != NULL &&
	    testredis_start(f, f->dir, NULL) != 0) {
		print_error("redis-server did not start on port %d\n",
		    f->port);
		(void)redis_teardown(state);
		return -1;
	}
	return 0;
}

/* The Redis tests need the server: skip without one, fail under CI. */
static struct testredis *
need_redis(void **state)
{
	testredis_need(*state);
	return *state;
}

/* A field of HGETALL as a number, -1 when absent. */
static long long
hash_field(redisContext *c, const char *key, const char *field)
{
	redisReply *r;
	long long v = -1;

	r = redisCommand(c, "HGET %s %s", key, field);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	return v;
}

/* Every key in the database, by SCAN. */
static GPtrArray *
all_keys(redisContext *c)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	redisReply *r;
	char cursor[32] = "0";
	size_t i;

	do {
		r = redisCommand(c, "SCAN %s COUNT 1000", cursor);
		assert_non_null(r);
		assert_int_equal(r->type, REDIS_REPLY_ARRAY);
		(void)snprintf(cursor, sizeof cursor, "%s",
		    r->element[0]->str);
		for (i = 0; i < r->element[1]->elements; i++)
			g_ptr_array_add(keys,
			    g_strdup(r->element[1]->element[i]->str));
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return keys;
}

/* 1 when needle occurs anywhere in the reply (binary values too). */
static int
reply_has(const redisReply *r, const char *needle)
{
	size_t i;

	if (r->str != NULL && r->len > 0 &&
	    memmem(r->str, r->len, needle, strlen(needle)) != NULL)
		return 1;
	for (i = 0; i < r->elements; i++)
		if (reply_has(r->element[i], needle))
			return 1;
	return 0;
}

/* The whole value of key, read the way its type needs. */
static redisReply *
read_value(redisContext *c, const char *key)
{
	redisReply *t, *r = NULL;

	t = redisCommand(c, "TYPE %s", key);
	assert_non_null(t);
	if (strcmp(t->str, "string") == 0)
		r = redisCommand(c, "GET %s", key);
	else if (strcmp(t->str, "hash") == 0)
		r = redisCommand(c, "HGETALL %s", key);
	else if (strcmp(t->str, "zset") == 0)
		r = redisCommand(c, "ZRANGE %s 0 -1 WITHSCORES", key);
	else if (strcmp(t->str, "stream") == 0)
		r = redisCommand(c, "XRANGE %s - +", key);
	else
		fail_msg("%s: unexpected type %s", key, t->str);
	freeReplyObject(t);
	assert_non_null(r);
	return r;
}

static struct store *
redis_store(const struct testredis *f, const char *password, int db)
{
	struct store_conf sc;

	conf_init(&sc, true, f->port);
	sc.password = (char *)(password != NULL ? password : "");
	sc.db = db;
	return store_or_fail(&sc);
}

/* ------------------------------------------------------ Redis tests */

static void
test_redis_windows(void **state)
{
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);

	scenario_windows(s, "redis");
	(void)store_free(s);
}

/* Recorded without reading back: the same history, and Redis is asked
 * to count nothing (no PFCOUNT, no MGET of the windows' buckets). */
static void
test_redis_write_only(void **state)
{
	const char *k[] = { "customers:C9" };
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);
	redisContext *c = testredis_client(f, 0);
	redisReply *rep;
	char err[256] = "";
	long long counts = -1;

	scenario_write_only(s, "redis");
	assert_non_null(rep = redisCommand(c, "CONFIG RESETSTAT"));
	freeReplyObject(rep);
	if (store_history(s, "w2@example.com", T0, k, 1, NULL, 0, NULL, err,
	    sizeof err) != 0)
		fail_msg("write only: %s", err);
	assert_non_null(rep = redisCommand(c, "INFO commandstats"));
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	counts = (strstr(rep->str, "cmdstat_pfcount:") != NULL) +
	    (strstr(rep->str, "cmdstat_mget:") != NULL);
	if (counts != 0 || strstr(rep->str, "cmdstat_pfadd:") == NULL)
		fail_msg("write only: Redis saw %s", rep->str);
	freeReplyObject(rep);
	redisFree(c);
	(void)store_free(s);
}

static void
test_redis_drip(void **state)
{
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);
	uint64_t n;

	n = scenario_drip(s, "redis");
	print_message("# drip: 1-day window estimate %llu of 200\n",
	    (unsigned long long)n);
	/* HyperLogLog: 0.81% standard error; 2% is 2.5 sigma. */
	if (n < 196 || n > 204)
		fail_msg("drip: got %llu records, want 200 +- 2%%",
		    (unsigned long long)n);
	(void)store_free(s);
}

/* Every key under the prefix, one sender's keys under one hash tag,
 * a TTL on every key, and nothing from the mail that the API did not
 * mean to keep: record ids and recipients live only as HyperLogLog
 * registers. */
static void
test_redis_keys(void **state)
{
	const char *rules[] = { "bulk" };
	size_t det[DET_COUNT] = { 0 };
	struct store_event ev = {
		.when = T0, .node = "gw1", .sender = "Alice-redis@example.com",
		.incident = "INC-7", .action = "hold", .bytes = 10,
		.records = 4, .rules = rules, .nrules = 1, .detectors = det
	};
	static const char *const secrets[] = { "customers:", "C0000",
	    "ext.example" };
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);
	redisContext *c;
	redisReply *r;
	GPtrArray *keys;
	const char *k;
	char err[256] = "", want[128];
	long long ttl;
	size_t i, j, hist_keys = 0;

	scenario_windows(s, "redis");
	assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	(void)peek(s, "x@example.com", T0);	/* drains the account */

	c = testredis_client(f, 0);
	keys = all_keys(c);
	assert_true(keys->len > 10);
	for (i = 0; i < keys->len; i++) {
		k = g_ptr_array_index(keys, i);
		if (strncmp(k, "custos:", 7) != 0)
			fail_msg("key \"%s\": want prefix custos:", k);
		if (strncmp(k, "custos:h:{", 10) == 0) {
			hist_keys++;
			if (strncmp(k, "custos:h:{alice-redis@example.com}:",
			    35) != 0 && strncmp(k,
			    "custos:h:{bob-redis@example.com}:", 33) != 0)
				fail_msg("history key \"%s\": want the lower "
				    "case sender as its hash tag", k);
		} else if (strncmp(k, "custos:stats:{stats}:", 21) != 0)
			fail_msg("key \"%s\": neither history nor stats", k);
		ttl = testredis_int(c, "TTL %s", k);
		if (ttl <= 0)
			fail_msg("key \"%s\": TTL %lld, want > 0", k, ttl);
		/* A bucket lives w + b: 1h + 2min, 1d + 1h, 7d + 7h. */
		if (strstr(k, ":3600:") != NULL && ttl > HOUR + 2 * MINUTE)
			fail_msg("key \"%s\": TTL %lld > 3720", k, ttl);
		if (strstr(k, ":86400:") != NULL && ttl > DAY + HOUR)
			fail_msg("key \"%s\": TTL %lld > 90000", k, ttl);
		if (strncmp(k, "custos:h:{", 10) == 0 &&
		    strstr(k, ":604800:") == NULL && ttl > DAY + HOUR)
			fail_msg("key \"%s\": TTL %lld too long", k, ttl);
		r = read_value(c, k);
		for (j = 0; j < sizeof secrets / sizeof secrets[0]; j++)
			if (strstr(k, secrets[j]) != NULL ||
			    reply_has(r, secrets[j]))
				fail_msg("key \"%s\" holds \"%s\"", k,
				    secrets[j]);
		freeReplyObject(r);
	}
	/* rec, msg, rcpt for 3 windows at 4 times (alice) + bob's. */
	assert_true(hist_keys >= 20);
	(void)snprintf(want, sizeof want,
	    "custos:h:{alice-redis@example.com}:rec:3600:%lld",
	    (long long)(T0 / 120));
	assert_int_equal(testredis_int(c, "EXISTS %s", want), 1);
	g_ptr_array_free(keys, TRUE);
	redisFree(c);
	(void)store_free(s);
}

static void
test_redis_auth(void **state)
{
	const char *k[] = { "customers:C1" };
	struct testredis *f = *state;
	struct store *s;
	struct policy_history h;
	char err[256] = "";

	if (f->pid > 0) {
		/* This test's server wants a password. */
		f->password = "s3cret pass";
		if (testredis_restart(f) != 0)
			fail_msg("redis-server --requirepass did not start");
	}
	(void)need_redis(state);

	s = redis_store(f, "s3cret pass", 0);
	h = hist(s, "auth@example.com", T0, k, 1, NULL, 0);
	hist_eq(&h, W1D, 1, 1, 0, "with the password");
	(void)store_free(s);

	s = redis_store(f, "Zq9 wrong one", 0);
	assert_int_equal(store_history(s, "auth@example.com", T0, k, 1, NULL,
	    0, &h, err, sizeof err), -1);
	assert_false(h.known);
	if (strstr(err, "WRONGPASS") == NULL && strstr(err, "invalid") == NULL)
		fail_msg("wrong password: got \"%s\"", err);
	/* The error goes to the log: it names the command, never the
	 * password. */
	if (strstr(err, "AUTH") == NULL || strstr(err, "Zq9") != NULL)
		fail_msg("wrong password: got \"%s\", want AUTH and no "
		    "password", err);
	(void)store_free(s);

	s = redis_store(f, NULL, 0);
	assert_int_equal(store_history(s, "auth@example.com", T0, k, 1, NULL,
	    0, &h, err, sizeof err), -1);
	if (strstr(err, "NOAUTH") == NULL)
		fail_msg("no password: got \"%s\", want NOAUTH", err);
	(void)store_free(s);
}

static void
test_redis_select(void **state)
{
	const char *k[] = { "customers:C1", "customers:C2" };
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 5);
	redisContext *c0, *c5;
	struct policy_history h;

	h = hist(s, "db@example.com", T0, k, 2, NULL, 0);
	hist_eq(&h, W1D, 2, 1, 0, "db 5");
	c0 = testredis_client(f, 0);
	c5 = testredis_client(f, 5);
	assert_int_equal(testredis_int(c0, "DBSIZE"), 0);
	/* rec and msg keys for three windows. */
	assert_int_equal(testredis_int(c5, "DBSIZE"), 6);
	redisFree(c0);
	redisFree(c5);
	(void)store_free(s);

	/* A database the server does not have: refused, never database 0
	 * read or written instead (custos stats once did). */
	{
		char err[256] = "";

		s = redis_store(f, NULL, 99);
		assert_int_equal(store_history(s, "db@example.com", T0, k, 2,
		    NULL, 0, &h, err, sizeof err), -1);
		assert_false(h.known);
		if (strstr(err, "SELECT") == NULL)
			fail_msg("db 99: got \"%s\", want SELECT refused", err);
		(void)store_free(s);
		c0 = testredis_client(f, 0);
		assert_int_equal(testredis_int(c0, "DBSIZE"), 0);
		redisFree(c0);
	}
}

/* Over Redis' unix socket (redis { socket }), with no host or port
 * that could be used instead: the same history, the same keys, and
 * the counters; a socket nobody listens on fails with its path named. */
static void
test_redis_socket(void **state)
{
	const char *k[] = { "customers:C1", "customers:C2" };
	const char *r[] = { "x@partner.example" };
	struct testredis *f = need_redis(state);
	struct store_event ev = { .when = T0, .sender = "sock@example.com",
	    .node = "gw1", .action = "pass", .records = 2 };
	struct store_conf sc;
	struct store *s;
	struct policy_history h;
	redisContext *c;
	GPtrArray *keys;
	size_t i, n_hist = 0, n_stats = 0;
	char err[256] = "", path[sizeof f->dir + 32];

	if (f->sock[0] == '\0')
		skip();
	conf_init(&sc, true, 0);
	sc.host = (char *)"";
	sc.socket = f->sock;
	s = store_or_fail(&sc);
	(void)hist(s, "sock@example.com", T0, k, 1, r, 1);
	h = hist(s, "sock@example.com", T0 + 60, k, 2, r, 1);
	hist_eq(&h, W1H, 2, 2, 1, "over the socket");
	if (store_account(s, &ev, err, sizeof err) != 0)
		fail_msg("store_account over the socket: %s", err);
	c = testredis_client(f, 0);
	keys = all_keys(c);
	for (i = 0; i < keys->len; i++) {
		n_hist += g_str_has_prefix(keys->pdata[i],
		    "custos:h:{sock@example.com}:");
		n_stats += g_str_has_prefix(keys->pdata[i], "custos:stats:");
	}
	/* rec, msg and rcpt keys of three windows (the two calls may fall
	 * in two buckets); the hour's and the day's counters. */
	if (n_hist < 9 || n_stats < 2)
		fail_msg("over the socket: got %zu history and %zu counter "
		    "keys, want 9 and 2 at least", n_hist, n_stats);
	g_ptr_array_free(keys, TRUE);
	redisFree(c);
	(void)store_free(s);

	(void)snprintf(path, sizeof path, "%s/none.sock", f->dir);
	sc.socket = path;
	s = store_or_fail(&sc);
	assert_int_equal(store_history(s, "sock@example.com", T0, k, 2, NULL,
	    0, &h, err, sizeof err), -1);
	if (strstr(err, path) == NULL)
		fail_msg("no socket: got \"%s\", want its path named", err);
	(void)store_free(s);
}

/* Redis dies: the first call fails at once, then the backoff answers
 * without touching the network; Redis returns: the store follows. */
static void
test_redis_down(void **state)
{
	const char *k[] = { "customers:C1", "customers:C2" };
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);
	struct policy_history h;
	char err[256] = "";
	double t, ms;
	int i, backoff = 0;

	(void)hist(s, "down@example.com", T0, k, 2, NULL, 0);
	testredis_kill(f);

	t = now_ms();
	for (i = 0; i < 100; i++) {
		if (store_history(s, "down@example.com", T0, k, 2, NULL, 0,
		    &h, err, sizeof err) != -1)
			fail_msg("call %d with Redis dead: got 0, want -1", i);
		assert_false(h.known);
		backoff += strstr(err, "backoff") != NULL;
	}
	ms = now_ms() - t;
	print_message("# Redis dead: 100 calls in %.2f ms, %d in backoff\n",
	    ms, backoff);
	if (ms >= 200)
		fail_msg("100 calls with Redis dead took %.1f ms, want < 200",
		    ms);
	assert_true(backoff >= 90);

	/* Counters go nowhere either, as fast; nor officers' entries, and
	 * the stream cannot be read: errors, never "nothing there". */
	{
		struct store_event ev = { .when = T0, .sender = "d@x" };
		struct store_officer_event oe = { .event = "release" };
		size_t seen = 0;

		assert_int_equal(store_account(s, &ev, err, sizeof err), -1);
		assert_int_equal(store_officer(s, &oe, err, sizeof err), -1);
		assert_int_equal(store_stream_range(s, 0, 0, collect, &seen,
		    err, sizeof err), -1);
		assert_int_equal(seen, 0);
	}

	if (testredis_restart(f) != 0)
		fail_msg("redis-server did not restart");
	t = now_ms();
	while (store_history(s, "down@example.com", T0, k, 2, NULL, 0, &h,
	    err, sizeof err) != 0) {
		if (now_ms() - t > 8000)
			fail_msg("still failing 8 s after the restart: %s",
			    err);
		(void)usleep(10000);
	}
	print_message("# Redis back: answered after %.0f ms\n", now_ms() - t);
	/* A new, empty Redis (no persistence): just this message. */
	hist_eq(&h, W1D, 2, 1, 0, "after the restart");
	(void)store_free(s);
}

static void
test_redis_account(void **state)
{
	const char *rules[] = { "bulk", "canary" };
	size_t det[DET_COUNT] = { 0 };
	struct store_event ev[3] = {
		{ .when = T0 + 5, .node = "gw1", .sender = "Eve@Example.com",
		  .incident = "INC-42", .action = "quarantine",
		  .would = "quarantine", .bytes = 1000, .records = 12,
		  .rules = rules, .nrules = 2, .detectors = det },
		{ .when = T0 + 6, .node = "gw1", .sender = "eve@example.com",
		  .action = "pass", .monitor = true, .would = "reject",
		  .bytes = 200, .records = 3 },
		{ .when = T0 + 7, .node = "gw2", .sender = "bob@example.com",
		  .action = "pass", .bytes = 50, .store_error = true },
	};
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);
	redisContext *c;
	redisReply *r;
	const char *hour = "custos:stats:{stats}:hour:2023111422";
	const char *day = "custos:stats:{stats}:day:20231114";
	const char *keys[2] = { hour, day };
	char err[256] = "";
	size_t i;
	long long ttl;

	det[DET_CN_MOBILE] = 5;
	det[DET_EMAIL] = 2;
	for (i = 0; i < 3; i++)
		if (store_account(s, &ev[i], err, sizeof err) != 0)
			fail_msg("store_account %zu: %s", i, err);
	(void)peek(s, "x@example.com", T0);

	c = testredis_client(f, 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(hash_field(c, keys[i], "messages"), 3);
		assert_int_equal(hash_field(c, keys[i], "bytes"), 1250);
		assert_int_equal(hash_field(c, keys[i], "records"), 15);
		assert_int_equal(hash_field(c, keys[i], "incidents"), 1);
		assert_int_equal(hash_field(c, keys[i], "action:quarantine"),
		    1);
		assert_int_equal(hash_field(c, keys[i], "action:pass"), 2);
		assert_int_equal(hash_field(c, keys[i], "monitor:reject"), 1);
		assert_int_equal(hash_field(c, keys[i], "monitor:quarantine"),
		    -1);
		assert_int_equal(hash_field(c, keys[i], "rule:bulk"), 1);
		assert_int_equal(hash_field(c, keys[i], "rule:canary"), 1);
		assert_int_equal(hash_field(c, keys[i], "detector:cn_mobile"),
		    5);
		assert_int_equal(hash_field(c, keys[i], "detector:email"), 2);
		assert_int_equal(hash_field(c, keys[i], "store_errors"), 1);
	}
	ttl = testredis_int(c, "TTL %s", hour);
	assert_true(ttl > 8 * DAY - 60 && ttl <= 8 * DAY);
	ttl = testredis_int(c, "TTL %s", day);
	assert_true(ttl > 400 * DAY - 60 && ttl <= 400 * DAY);

	r = redisCommand(c, "ZRANGE custos:stats:{stats}:senders:20231114 "
	    "0 -1 WITHSCORES");
	assert_non_null(r);
	assert_int_equal(r->elements, 2);	/* bob sent no records */
	assert_string_equal(r->element[0]->str, "eve@example.com");
	assert_string_equal(r->element[1]->str, "15");
	freeReplyObject(r);

	/* The monitored pass has neither incident nor record ids here. */
	assert_int_equal(testredis_int(c,
	    "XLEN custos:stats:{stats}:incidents"), 1);
	r = redisCommand(c, "XRANGE custos:stats:{stats}:incidents - +");
	assert_non_null(r);
	assert_int_equal(r->elements, 1);
	{
		static const char *const want[] = {
			"type", "decision",
			"time", "2023-11-14T22:00:05Z", "node", "gw1",
			"incident", "INC-42", "sender", "eve@example.com",
			"mail_from", "",
			"action", "quarantine", "would", "quarantine",
			"monitor", "0", "records", "12",
			"rules", "bulk,canary",
			"detectors", "cn_mobile:5,email:2",
			"record_ids", "[]"
		};
		const redisReply *fv = r->element[0]->element[1];

		assert_int_equal(fv->elements, sizeof want / sizeof want[0]);
		for (i = 0; i < fv->elements; i++)
			if (strcmp(fv->element[i]->str, want[i]) != 0)
				fail_msg("stream field %zu: got \"%s\", want "
				    "\"%s\"", i, fv->element[i]->str, want[i]);
	}
	freeReplyObject(r);
	assert_true(testredis_int(c, "TTL custos:stats:{stats}:incidents") > 0);
	redisFree(c);
	(void)store_free(s);
}

/* ------------------------------------------- the incident stream */

struct entries {
	GPtrArray	*ids;		/* stream ids, in order */
	GPtrArray	*fields;	/* "name=value|name=value..." */
	size_t		 stop_after;	/* 0: read all */
};

static int
keep(const struct store_entry *e, void *arg)
{
	struct entries *es = arg;
	GString *g = g_string_new(NULL);
	size_t i;

	for (i = 0; i < e->nfields; i++)
		g_string_append_printf(g, "%s%s=%s", i > 0 ? "|" : "",
		    e->names[i], e->values[i]);
	g_ptr_array_add(es->ids, g_strdup(e->id));
	g_ptr_array_add(es->fields, g_string_free(g, FALSE));
	return es->stop_after != 0 && es->ids->len >= es->stop_after;
}

static void
entries_init(struct entries *es)
{
	es->ids = g_ptr_array_new_with_free_func(g_free);
	es->fields = g_ptr_array_new_with_free_func(g_free);
	es->stop_after = 0;
}

static void
entries_clear(struct entries *es)
{
	g_ptr_array_free(es->ids, TRUE);
	g_ptr_array_free(es->fields, TRUE);
}

static void
range(struct store *s, time_t since, time_t until, struct entries *es)
{
	char err[256] = "";

	g_ptr_array_set_size(es->ids, 0);
	g_ptr_array_set_size(es->fields, 0);
	if (store_stream_range(s, since, until, keep, es, err, sizeof err)
	    != 0)
		fail_msg("store_stream_range: %s", err);
}

/* Record ids and officers' actions in the stream, as written and as
 * read back. */
static void
test_redis_stream(void **state)
{
	const struct store_record recs[] = {
		{ "customers", "C-1", false },
		{ "customers", "C,2 \"q\"", false },
		{ "vip", "V-1", true },
	};
	struct store_event ev = {
		.when = T0 + 5, .node = "gw1", .sender = "alice",
		.mail_from = "Alice@Example.COM", .incident = "INC-1",
		.action = "reject", .would = "reject", .records = 3,
		.record_ids = recs, .nrecord_ids = 3
	};
	struct store_officer_event oe = {
		.event = "release", .incident = "INC-1", .officer = "carol",
		.reason = "she \"asked\"\nby phone", .detail = "to bob",
		.node = "gw2", .ok = false, .error = "550 5.1.1"
	};
	struct store_record *many;
	struct testredis *f = need_redis(state);
	struct store_conf sc;
	struct store *s;
	struct entries es;
	const char *want;
	char err[256] = "", (*ids)[16];
	time_t now = time(NULL);
	size_t i;

	/* Room for the paging below: MAXLEN ~ would trim it. */
	conf_init(&sc, true, f->port);
	sc.stream_maxlen = 5000;
	s = store_or_fail(&sc);
	entries_init(&es);
	assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	/* A pass that carried records out is in; a clean pass is not. */
	ev.incident = NULL;
	ev.action = "pass";
	ev.would = "pass";
	ev.nrecord_ids = 1;
	assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	ev.nrecord_ids = 0;
	assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	/* More ids than an entry keeps. */
	many = g_new0(struct store_record, 1005);
	ids = g_malloc0(1005 * sizeof *ids);
	for (i = 0; i < 1005; i++) {
		(void)snprintf(ids[i], sizeof ids[i], "M%04zu", i);
		many[i].list = "customers";
		many[i].id = ids[i];
	}
	ev.incident = "INC-2";
	ev.record_ids = many;
	ev.nrecord_ids = 1005;
	assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	g_free(many);
	g_free(ids);
	if (store_officer(s, &oe, err, sizeof err) != 0)
		fail_msg("store_officer: %s", err);

	range(s, 0, 0, &es);
	assert_int_equal(es.ids->len, 4);
	want = "type=decision|time=2023-11-14T22:00:05Z|node=gw1|"
	    "incident=INC-1|sender=alice|mail_from=alice@example.com|"
	    "action=reject|would=reject|monitor=0|records=3|rules=|"
	    "detectors=|record_ids=[{\"list\":\"customers\",\"id\":\"C-1\"},"
	    "{\"list\":\"customers\",\"id\":\"C,2 \\\"q\\\"\"},"
	    "{\"list\":\"vip\",\"id\":\"V-1\",\"canary\":true}]";
	assert_string_equal(g_ptr_array_index(es.fields, 0), want);
	want = "type=decision|time=2023-11-14T22:00:05Z|node=gw1|"
	    "incident=|sender=alice|mail_from=alice@example.com|"
	    "action=pass|would=pass|monitor=0|records=3|rules=|"
	    "detectors=|record_ids=[{\"list\":\"customers\",\"id\":\"C-1\"}]";
	assert_string_equal(g_ptr_array_index(es.fields, 1), want);
	{
		const char *e2 = g_ptr_array_index(es.fields, 2);

		assert_non_null(strstr(e2, "\"id\":\"M0999\"}]|"
		    "record_ids_omitted=5"));
		assert_null(strstr(e2, "M1000"));
	}
	{
		char *got = g_ptr_array_index(es.fields, 3);
		char *tail = strstr(got, "|node=");

		assert_true(strncmp(got, "type=officer|time=", 18) == 0);
		assert_non_null(tail);
		assert_string_equal(tail, "|node=gw2|event=release|"
		    "incident=INC-1|officer=carol|"
		    "reason=she \"asked\"\nby phone|detail=to bob|ok=0|"
		    "error=550 5.1.1");
	}
	/* Ids increase. */
	for (i = 1; i < es.ids->len; i++)
		assert_true(strcmp(g_ptr_array_index(es.ids, i - 1),
		    g_ptr_array_index(es.ids, i)) < 0);

	/* By id time: Redis added them now. */
	range(s, now - 60, now + 60, &es);
	assert_int_equal(es.ids->len, 4);
	range(s, now + 60, 0, &es);
	assert_int_equal(es.ids->len, 0);
	range(s, 0, now - 60, &es);
	assert_int_equal(es.ids->len, 0);
	/* The callback may stop early. */
	es.stop_after = 2;
	range(s, 0, 0, &es);
	assert_int_equal(es.ids->len, 2);
	es.stop_after = 0;

	/* Paging: well over one XRANGE page, each entry once, in order. */
	ev.record_ids = NULL;
	ev.nrecord_ids = 0;
	ev.incident = "INC-P";
	for (i = 0; i < 1203; i++)
		assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	range(s, 0, 0, &es);
	assert_int_equal(es.ids->len, 4 + 1203);
	for (i = 1; i < es.ids->len; i++) {
		unsigned long long m1, s1, m2, s2;

		assert_int_equal(sscanf(g_ptr_array_index(es.ids, i - 1),
		    "%llu-%llu", &m1, &s1), 2);
		assert_int_equal(sscanf(g_ptr_array_index(es.ids, i),
		    "%llu-%llu", &m2, &s2), 2);
		if (m2 < m1 || (m2 == m1 && s2 <= s1))
			fail_msg("entry %zu: id %s after %s", i,
			    (char *)g_ptr_array_index(es.ids, i),
			    (char *)g_ptr_array_index(es.ids, i - 1));
	}

	/* store_entry_get. */
	{
		const char *names[] = { "a", "b" }, *values[] = { "1", "" };
		struct store_entry e = { "1-0", 2, names, values };

		assert_string_equal(store_entry_get(&e, "a"), "1");
		assert_string_equal(store_entry_get(&e, "b"), "");
		assert_null(store_entry_get(&e, "c"));
	}
	entries_clear(&es);
	(void)store_free(s);
}

/* The in-process store keeps no stream: officers' entries are the audit
 * log's, and reading says so. */
static void
test_mem_stream(void **state)
{
	const struct store_record recs[] = { { "customers", "C-1", false } };
	struct store_event ev = { .when = T0, .sender = "m@example.com",
	    .incident = "INC-1", .action = "hold", .records = 1,
	    .record_ids = recs, .nrecord_ids = 1 };
	struct store_officer_event oe = { .event = "delete" };
	struct store_conf sc;
	struct store *s;
	char err[256] = "";
	size_t seen = 0;

	(void)state;
	conf_init(&sc, false, 0);
	s = store_or_fail(&sc);
	assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	assert_int_equal(store_officer(s, &oe, err, sizeof err), 0);
	assert_int_equal(store_stream_range(s, 0, 0, collect, &seen, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "audit log"));
	assert_int_equal(seen, 0);
	(void)store_free(s);
}

/* store_account leaves its replies on the connection; the next batch
 * must read them first or it would take them for its own.  An error
 * among them drops the connection like any other. */
static void
test_redis_pending(void **state)
{
	const char *k[] = { "customers:C1", "customers:C2", "customers:C3" };
	struct store_event ev = { .when = T0, .sender = "p@example.com",
	    .action = "pass", .bytes = 1 };
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);
	struct policy_history h;
	redisContext *c;
	redisReply *r;
	char err[256] = "";
	int i;

	for (i = 0; i < 50; i++)
		assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	h = hist(s, "p@example.com", T0, k, 3, NULL, 0);
	hist_eq(&h, W1H, 3, 1, 0, "after 50 queued batches");
	for (i = 0; i < 10; i++)
		assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	h = hist(s, "p@example.com", T0, k, 3, NULL, 0);
	hist_eq(&h, W1H, 3, 2, 0, "after 10 more");
	for (i = 0; i < 10; i++)
		assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	h = peek(s, "p@example.com", T0);
	hist_eq(&h, W1H, 3, 2, 0, "read only");

	c = testredis_client(f, 0);
	assert_int_equal(hash_field(c, "custos:stats:{stats}:hour:2023111422",
	    "messages"), 70);

	/* A wrong-typed key makes the queued HINCRBY fail. */
	r = redisCommand(c, "SET custos:stats:{stats}:hour:2023111600 x");
	freeReplyObject(r);
	ev.when = T0 + DAY + 2 * HOUR;
	assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	assert_int_equal(store_history(s, "p@example.com", T0, k, 3, NULL, 0,
	    &h, err, sizeof err), -1);
	if (strstr(err, "WRONGTYPE") == NULL)
		fail_msg("error in a queued reply: got \"%s\"", err);
	/* Backoff, then a fresh connection with nothing pending. */
	(void)usleep(150000);
	h = peek(s, "p@example.com", T0);
	hist_eq(&h, W1H, 3, 2, 0, "after the error");
	redisFree(c);
	(void)store_free(s);
}

/* Redis closed an idle connection (its "timeout" setting, an admin's
 * CLIENT KILL): the next message gets a new one, not an error. */
static void
test_redis_idle_close(void **state)
{
	const char *k[] = { "customers:C1" };
	struct store_event ev = { .when = T0, .sender = "i@example.com",
	    .action = "pass" };
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);
	struct policy_history h;
	redisContext *c = testredis_client(f, 0);
	char err[256] = "";

	(void)hist(s, "i@example.com", T0, k, 1, NULL, 0);
	assert_true(testredis_int(c,
	    "CLIENT KILL TYPE normal SKIPME yes") == 1);
	(void)usleep(20000);
	h = hist(s, "i@example.com", T0, k, 1, NULL, 0);
	hist_eq(&h, W1D, 1, 2, 0, "after CLIENT KILL");

	/* The same with counters' replies waiting on the connection. */
	assert_int_equal(store_account(s, &ev, err, sizeof err), 0);
	(void)usleep(50000);
	assert_true(testredis_int(c,
	    "CLIENT KILL TYPE normal SKIPME yes") == 1);
	(void)usleep(20000);
	h = hist(s, "i@example.com", T0, k, 1, NULL, 0);
	hist_eq(&h, W1D, 1, 3, 0, "after CLIENT KILL, replies pending");
	assert_int_equal(hash_field(c, "custos:stats:{stats}:hour:2023111422",
	    "messages"), 1);
	redisFree(c);
	(void)store_free(s);
}

static void
test_redis_threads(void **state)
{
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);

	run_workers(s, "redis");
	(void)store_free(s);
}

/* Number of client connections, ours excluded. */
static long long
clients(redisContext *c)
{
	redisReply *r = redisCommand(c, "CLIENT LIST");
	long long n = -1;
	size_t i;

	assert_non_null(r);
	for (i = 0; i < r->len; i++)
		n += r->str[i] == '\n';
	freeReplyObject(r);
	return n;
}

/* Connections the server accepted so far (INFO stats). */
static long long
connections_received(redisContext *c)
{
	redisReply *r = redisCommand(c, "INFO stats");
	const char *p;
	long long n = -1;

	assert_non_null(r);
	if (r->str != NULL &&
	    (p = strstr(r->str, "total_connections_received:")) != NULL)
		n = atoll(p + strlen("total_connections_received:"));
	freeReplyObject(r);
	assert_true(n >= 0);
	return n;
}

static void *
history_run(void *arg)
{
	struct policy_history h;
	char err[256];

	return store_history(arg, "tr@example.com", T0, no_keys, 0, NULL, 0,
	    &h, err, sizeof err) == 0 ? (void *)1 : (void *)2;
}

/* libmilter ends worker threads all the time: the connection of a
 * thread that ended serves the next new thread, and is closed with its
 * store. */
static void
test_redis_handed_on(void **state)
{
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);
	redisContext *c = testredis_client(f, 0);
	long long before;
	pthread_t th;
	void *rv;
	double t;
	int i;

	before = connections_received(c);
	for (i = 0; i < 5; i++) {
		assert_int_equal(pthread_create(&th, NULL, history_run, s), 0);
		assert_int_equal(pthread_join(th, &rv), 0);
		assert_ptr_equal(rv, (void *)1);
		assert_int_equal(clients(c), 1);
	}
	if (connections_received(c) - before != 1)
		fail_msg("connections for 5 threads one after another: got "
		    "%lld, want 1", connections_received(c) - before);
	(void)store_free(s);
	t = now_ms();
	while (clients(c) != 0 && now_ms() - t < 2000)
		(void)usleep(10000);
	assert_int_equal(clients(c), 0);
	redisFree(c);
}

struct reload_thread {
	struct store	*s;
	GAsyncQueue	*go, *done;
};

static void *
reload_run(void *arg)
{
	struct reload_thread *rt = arg;
	struct policy_history h;
	char err[256];

	/* Two rounds, each on the store the main thread hands over. */
	while ((rt->s = g_async_queue_pop(rt->go)) != (void *)1) {
		if (store_history(rt->s, "rl@example.com", T0, no_keys, 0,
		    NULL, 0, &h, err, sizeof err) != 0)
			g_async_queue_push(rt->done, (void *)2);
		else
			g_async_queue_push(rt->done, (void *)1);
	}
	return NULL;
}

/* A reload frees the old store while worker threads live on: their
 * next call closes their connection to it. */
static void
test_redis_reload(void **state)
{
	struct testredis *f = need_redis(state);
	struct reload_thread rt;
	struct store *s1, *s2;
	redisContext *c;
	pthread_t th;
	double t;

	rt.go = g_async_queue_new();
	rt.done = g_async_queue_new();
	c = testredis_client(f, 0);
	s1 = redis_store(f, NULL, 0);
	assert_int_equal(pthread_create(&th, NULL, reload_run, &rt), 0);
	g_async_queue_push(rt.go, s1);
	assert_ptr_equal(g_async_queue_pop(rt.done), (void *)1);
	assert_int_equal(clients(c), 1);

	s2 = redis_store(f, NULL, 0);
	(void)store_free(s1);
	g_async_queue_push(rt.go, s2);
	assert_ptr_equal(g_async_queue_pop(rt.done), (void *)1);
	t = now_ms();
	while (clients(c) != 1 && now_ms() - t < 2000)
		(void)usleep(10000);
	assert_int_equal(clients(c), 1);

	g_async_queue_push(rt.go, (void *)1);
	assert_int_equal(pthread_join(th, NULL), 0);
	(void)store_free(s2);
	t = now_ms();
	while (clients(c) != 0 && now_ms() - t < 2000)
		(void)usleep(10000);
	assert_int_equal(clients(c), 0);
	g_async_queue_unref(rt.go);
	g_async_queue_unref(rt.done);
	redisFree(c);
}

/* Not a pass/fail test: what one store_history costs on loopback. */
static void
test_redis_timing(void **state)
{
	const char *k[10], *rc[2] = { "a@ext.example", "b@ext.example" };
	char keys[10][32], sender[32];
	struct testredis *f = need_redis(state);
	struct store *s = redis_store(f, NULL, 0);
	double t, write_us, read_us;
	int i, j, n = 2000;

	for (j = 0; j < 10; j++) {
		(void)snprintf(keys[j], sizeof keys[j], "customers:C%05d", j);
		k[j] = keys[j];
	}
	t = now_ms();
	for (i = 0; i < n; i++) {
		(void)snprintf(sender, sizeof sender, "u%d@example.com",
		    i % 50);
		(void)snprintf(keys[0], sizeof keys[0], "customers:X%05d", i);
		(void)hist(s, sender, T0 + i, k, 10, rc, 2);
	}
	write_us = (now_ms() - t) * 1000 / n;
	t = now_ms();
	for (i = 0; i < n; i++)
		(void)peek(s, "u1@example.com", T0 + n);
	read_us = (now_ms() - t) * 1000 / n;
	print_message("# store_history on loopback, 3 windows: %.0f us with "
	    "10 records and 2 recipients, %.0f us read only\n", write_us,
	    read_us);
	(void)store_free(s);
}

#define REDIS_TEST(t)	cmocka_unit_test_setup_teardown(t, redis_setup, \
			    redis_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_mem_windows),
		cmocka_unit_test(test_mem_write_only),
		cmocka_unit_test(test_mem_drip),
		cmocka_unit_test(test_mem_survives_reload),
		cmocka_unit_test(test_mem_sweep),
		cmocka_unit_test(test_mem_account),
		cmocka_unit_test(test_mem_threads),
		cmocka_unit_test(test_mem_stream),
		cmocka_unit_test(test_redis_sigpipe),
		REDIS_TEST(test_redis_windows),
		REDIS_TEST(test_redis_write_only),
		REDIS_TEST(test_redis_drip),
		REDIS_TEST(test_redis_keys),
		REDIS_TEST(test_redis_auth),
		REDIS_TEST(test_redis_select),
		REDIS_TEST(test_redis_socket),
		REDIS_TEST(test_redis_down),
		REDIS_TEST(test_redis_account),
		REDIS_TEST(test_redis_stream),
		REDIS_TEST(test_redis_pending),
		REDIS_TEST(test_redis_idle_close),
		REDIS_TEST(test_redis_threads),
		REDIS_TEST(test_redis_reload),
		REDIS_TEST(test_redis_handed_on),
		REDIS_TEST(test_redis_timing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
