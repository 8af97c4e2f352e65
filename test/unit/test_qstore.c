/* test_qstore.c - the quarantine store, the same scenarios against its
 * three layouts: everything in a directory; metadata in Redis with the
 * sealed message in the directory; everything in Redis.  Redis is a
 * real redis-server this program starts (with a password, database 2)
 * on a free loopback port in a temp dir, one per test, killed in
 * teardown.  Without redis-server the Redis tests are skipped, unless
 * CI=true: then they fail, so CI never passes blind. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <glib.h>
#include <hiredis/hiredis.h>

#include "qstore.h"
#include "testredis.h"

#define T0		((time_t)1699999200)
#define PLANT		"13812345678"
#define PASSWORD	"s3cret-test"
#define DB		2
#define PREFIX		"custos:"
#define CHUNK		65536
#define ABYTES		17
#define HDR		(8 + 24)

#define ID_A	"7K2M-Q9XD-3F0A"
#define ID_B	"7K2M-Q9XD-3F0B"
#define ID_C	"7K2M-Q9XD-3F0C"
#define ID_D	"7K2M-Q9XD-3F0D"
#define ID_E	"7K2M-Q9XD-3F0E"

enum layout { L_FILES = 0, L_REDIS_DIR, L_REDIS_BODY };

struct fix {
	enum layout	 layout;
	char		 root[64];	/* temp dir: q/ and Redis files */
	char		 qdir[128];
	struct testredis srv;	/* Redis layouts, in root */
	struct store_conf sc;
	struct qstore_conf qc;
	struct qkey	 key;
	struct qstore	*qs;
};

/* ------------------------------------------------------------ Redis */

/* A hash field, or NULL when missing (caller g_byte_array_unref). */
static GByteArray *
hget(redisContext *c, const char *id, const char *field)
{
	GByteArray *b = NULL;
	redisReply *r;

	r = redisCommand(c, "HGET " PREFIX "q:{%s} %s", id, field);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_STRING) {
		b = g_byte_array_new();
		g_byte_array_append(b, (const guint8 *)r->str, (guint)r->len);
	} else if (r->type != REDIS_REPLY_NIL)
		fail_msg("HGET %s %s: got reply type %d", id, field, r->type);
	freeReplyObject(r);
	return b;
}

/* ------------------------------------------------------------ fixture */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

static void
rm_tree(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
key_init(struct qkey *k, unsigned char fill)
{
	memset(k, 0, sizeof *k);
	memset(k->seal, fill, sizeof k->seal);
	k->seal[0] = 0x42;
}

static struct qstore *
open_or_fail(const struct fix *f, const struct qkey *key)
{
	struct qstore *qs;
	char err[256] = "";

	if ((qs = qstore_open(&f->qc, key, err, sizeof err)) == NULL)
		fail_msg("qstore_open: got NULL (%s), want a store", err);
	return qs;
}

static int
fix_setup(void **state, enum layout layout)
{
	struct fix *f = calloc(1, sizeof *f);
	char err[256] = "";

	assert_non_null(f);
	f->layout = layout;
	(void)snprintf(f->root, sizeof f->root,
	    "/tmp/custos-test-qstore.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	(void)snprintf(f->qdir, sizeof f->qdir, "%s/q", f->root);
	key_init(&f->key, 0x17);

	f->sc.host = (char *)"127.0.0.1";
	f->sc.password = (char *)PASSWORD;
	f->sc.db = DB;
	f->sc.prefix = (char *)PREFIX;
	f->sc.connect_timeout_ms = 500;
	f->sc.command_timeout_ms = 2000;
	f->qc.dir = f->qdir;
	f->qc.redis = &f->sc;
	if (layout != L_FILES) {
		f->sc.redis = true;
		f->qc.body_in_redis = layout == L_REDIS_BODY;
		f->qc.redis_max_size = 1024 * 1024;
		if (testredis_path() != NULL) {
			if (testredis_start(&f->srv, f->root, PASSWORD) != 0) {
				print_error("redis-server did not start on "
				    "port %d\n", f->srv.port);
				return -1;
			}
			f->sc.port = f->srv.port;
		} else	/* the test skips; qstore_open still wants a port */
			f->sc.port = testredis_free_port();
	}
	if ((f->qs = qstore_open(&f->qc, &f->key, err, sizeof err)) == NULL) {
		print_error("qstore_open: %s\n", err);
		testredis_stop(&f->srv);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_files(void **s) { return fix_setup(s, L_FILES); }
static int setup_redis_dir(void **s) { return fix_setup(s, L_REDIS_DIR); }
static int setup_redis_body(void **s) { return fix_setup(s, L_REDIS_BODY); }

static int
fix_teardown(void **state)
{
	struct fix *f = *state;

	(void)qstore_close(f->qs);
	testredis_stop(&f->srv);
	/* A test may have left the directory unusable. */
	(void)chmod(f->qdir, 0700);
	rm_tree(f->root);
	free(f);
	return 0;
}

/* The fixture, or skip (fail under CI) a Redis layout without Redis. */
static struct fix *
need(void **state)
{
	struct fix *f = *state;

	if (f->layout != L_FILES)
		testredis_need(&f->srv);
	return f;
}

/* ------------------------------------------------------------ helpers */

static void
meta_make(struct qmeta *m, const char *id, time_t when, enum qstatus st,
    size_t size)
{
	size_t i;

	memset(m, 0, sizeof *m);
	(void)g_strlcpy(m->id, id, sizeof m->id);
	m->when = when;
	m->status = st;
	m->node = g_strdup("gw1");
	m->queue_id = g_strdup("4XyZ1234");
	m->sender = g_strdup("alice@example.com");
	m->recipients = g_strdup("x@ext.example,y@ext.example");
	m->action = g_strdup(st == QSTATUS_HELD ? "hold" : "quarantine");
	m->rules = g_strdup("bulk-customers,canary");
	m->records = 42;
	m->size = size;
	for (i = 0; i < sizeof m->body_digest; i++)
		m->body_digest[i] = (unsigned char)(i * 7 + 1);
	m->audit = g_strdup("{\"incident\":\"x\",\"samples\":[\"138****5678\"]}");
}

/* A message of len bytes: header, blank line, lines of text, and the
 * plant across the first chunk boundary when it fits. */
static unsigned char *
body_make(size_t len)
{
	static const char hdr[] = "From: alice@example.com\r\n"
	    "Subject: customers\r\n\r\n";
	unsigned char *b = g_malloc(len + 1);
	uint32_t x = 2463534242u;
	size_t i, at;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)('a' + x % 26);
		if (i % 72 == 70)
			b[i] = '\r';
		if (i % 72 == 71)
			b[i] = '\n';
	}
	if (len >= sizeof hdr - 1)
		memcpy(b, hdr, sizeof hdr - 1);
	if (len >= CHUNK + 40) {
		at = CHUNK - 5;
		memcpy(b + at, PLANT, strlen(PLANT));
	} else if (len >= 100)
		memcpy(b + len / 2, PLANT, strlen(PLANT));
	return b;
}

static void
put_ok(struct fix *f, const struct qmeta *m, const void *raw, size_t len)
{
	char err[256] = "";
	int rc;

	if ((rc = qstore_put(f->qs, m, raw, len, err, sizeof err)) != 0)
		fail_msg("put %s (%zu bytes): got %d (%s), want 0", m->id, len,
		    rc, err);
}

/* Puts a quarantined entry of len bytes; returns its body. */
static unsigned char *
put_body(struct fix *f, const char *id, time_t when, size_t len)
{
	struct qmeta m;
	unsigned char *b = body_make(len);

	meta_make(&m, id, when, QSTATUS_QUARANTINED, len);
	put_ok(f, &m, b, len);
	qmeta_clear(&m);
	return b;
}

static void
put_held(struct fix *f, const char *id, time_t when)
{
	struct qmeta m;

	meta_make(&m, id, when, QSTATUS_HELD, 5000);
	put_ok(f, &m, NULL, 0);
	qmeta_clear(&m);
}

static void
str_eq(const char *what, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) ||
	    (got != NULL && strcmp(got, want) != 0))
		fail_msg("%s: got \"%s\", want \"%s\"", what,
		    got != NULL ? got : "(null)", want != NULL ? want : "(null)");
}

static void
get_ok(struct qstore *qs, const char *id, struct qmeta *out)
{
	char err[256] = "";
	int rc;

	if ((rc = qstore_get(qs, id, out, err, sizeof err)) != 1)
		fail_msg("get %s: got %d (%s), want 1", id, rc, err);
}

static void
meta_eq(const struct qmeta *got, const struct qmeta *want)
{
	str_eq("id", got->id, want->id);
	if (got->when != want->when)
		fail_msg("%s when: got %lld, want %lld", want->id,
		    (long long)got->when, (long long)want->when);
	if (got->status != want->status)
		fail_msg("%s status: got %s, want %s", want->id,
		    qstatus_name(got->status), qstatus_name(want->status));
	str_eq("node", got->node, want->node);
	str_eq("queue_id", got->queue_id, want->queue_id);
	str_eq("sender", got->sender, want->sender);
	str_eq("recipients", got->recipients, want->recipients);
	str_eq("action", got->action, want->action);
	str_eq("rules", got->rules, want->rules);
	str_eq("audit", got->audit, want->audit);
	if (got->records != want->records || got->size != want->size)
		fail_msg("%s records/size: got %zu/%zu, want %zu/%zu",
		    want->id, got->records, got->size, want->records,
		    want->size);
	if (memcmp(got->body_digest, want->body_digest,
	    sizeof want->body_digest) != 0)
		fail_msg("%s body_digest differs", want->id);
}

/* qstore_body: the return value, and the message compared to want. */
static int
body_check(struct qstore *qs, const char *id, const unsigned char *want,
    size_t len, char *err, size_t errlen)
{
	GByteArray *b = NULL;
	int rc;

	err[0] = '\0';
	rc = qstore_body(qs, id, &b, err, errlen);
	if (rc == 1) {
		assert_non_null(b);
		if (want != NULL && (b->len != len ||
		    memcmp(b->data, want, len) != 0))
			fail_msg("body %s: got %u bytes, want %zu (%s)", id,
			    b->len, len, b->len == len ? "content differs" :
			    "length differs");
		g_byte_array_unref(b);
	} else if (b != NULL)
		fail_msg("body %s: got %d with a buffer, want no buffer", id,
		    rc);
	return rc;
}

static void
body_ok(struct fix *f, const char *id, const unsigned char *want,
    size_t len)
{
	char err[256];
	int rc;

	if ((rc = body_check(f->qs, id, want, len, err, sizeof err)) != 1)
		fail_msg("body %s: got %d (%s), want 1", id, rc, err);
}

static void
body_tampered(struct qstore *qs, const char *id, const char *what)
{
	char err[256];
	int rc;

	rc = body_check(qs, id, NULL, 0, err, sizeof err);
	if (rc != -1 || strstr(err, "tampered or wrong key") == NULL)
		fail_msg("%s: got %d \"%s\", want -1 \"tampered or wrong key\"",
		    what, rc, err);
}

static void
body_none(struct qstore *qs, const char *id, const char *what)
{
	char err[256];
	int rc;

	if ((rc = body_check(qs, id, NULL, 0, err, sizeof err)) != 0)
		fail_msg("%s: body got %d (%s), want 0", what, rc, err);
}

static char *
qpath(const struct fix *f, const char *id, const char *ext)
{
	return g_strdup_printf("%s/%s.%s", f->qdir, id, ext);
}

static bool
qfile_exists(const struct fix *f, const char *id, const char *ext)
{
	char *p = qpath(f, id, ext);
	bool yes = access(p, F_OK) == 0;

	g_free(p);
	return yes;
}

/* The sealed bytes of id, wherever the layout keeps them; NULL none. */
static GByteArray *
sealed_get(const struct fix *f, const char *id)
{
	GByteArray *b = NULL;
	redisContext *c;
	char *p, *data;
	gsize len;

	if (f->layout == L_REDIS_BODY) {
		c = testredis_client(&f->srv, DB);
		b = hget(c, id, "body");
		redisFree(c);
		return b;
	}
	p = qpath(f, id, "msg");
	if (g_file_get_contents(p, &data, &len, NULL)) {
		b = g_byte_array_new_take((guint8 *)data, len);
	}
	g_free(p);
	return b;
}

static void
sealed_set(const struct fix *f, const char *id, const void *data,
    size_t len)
{
	redisContext *c;
	redisReply *r;
	char *p;

	if (f->layout == L_REDIS_BODY) {
		c = testredis_client(&f->srv, DB);
		r = redisCommand(c, "HSET " PREFIX "q:{%s} body %b", id, data,
		    len);
		assert_non_null(r);
		assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
		freeReplyObject(r);
		redisFree(c);
		return;
	}
	p = qpath(f, id, "msg");
	assert_true(g_file_set_contents(p, data, (gssize)len, NULL));
	g_free(p);
}

static bool
contains(const void *hay, size_t len, const void *needle, size_t nlen)
{
	return memmem(hay, len, needle, nlen) != NULL;
}

/* Every entry's id, in list order, comma-separated; stop after `stop`
 * calls (0: never) returning 7. */
struct walk {
	GString		*ids;
	int		 calls;
	int		 stop;
};

static int
walk_fn(const struct qmeta *m, void *arg)
{
	struct walk *w = arg;

	if (w->ids->len > 0)
		g_string_append_c(w->ids, ',');
	g_string_append(w->ids, m->id);
	w->calls++;
	return w->stop != 0 && w->calls == w->stop ? 7 : 0;
}

/* The ids qstore_list gives; err gets its note. */
static char *
list_ids(struct qstore *qs, char *err, size_t errlen)
{
	struct walk w = { g_string_new(""), 0, 0 };
	int rc;

	if ((rc = qstore_list(qs, walk_fn, &w, err, errlen)) != 0)
		fail_msg("list: got %d (%s), want 0", rc, err);
	return g_string_free(w.ids, FALSE);
}

static void
list_is(struct qstore *qs, const char *want)
{
	char err[256] = "x", *got = list_ids(qs, err, sizeof err);

	str_eq("list", got, want);
	if (err[0] != '\0')
		fail_msg("list note: got \"%s\", want none", err);
	g_free(got);
}

/* ------------------------------------------------------------ tests */

/* Sizes around the 64 KiB chunk: empty, one byte, exactly one chunk,
 * one more, two exactly, several. */
static void
test_roundtrip(void **state)
{
	static const size_t sizes[] = { 0, 1, CHUNK - 1, CHUNK, CHUNK + 1,
	    2 * CHUNK, 200 * 1024 };
	static const char *const ids[] = { "0000-0000-0001",
	    "0000-0000-0002", "0000-0000-0003", "0000-0000-0004",
	    "0000-0000-0005", "0000-0000-0006", "0000-0000-0007" };
	struct fix *f = need(state);
	struct qmeta want, got;
	GByteArray *sealed;
	unsigned char *b;
	size_t i, chunks;

	for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
		b = body_make(sizes[i]);
		meta_make(&want, ids[i], T0 + (time_t)i, QSTATUS_QUARANTINED,
		    sizes[i]);
		put_ok(f, &want, b, sizes[i]);
		get_ok(f->qs, ids[i], &got);
		meta_eq(&got, &want);
		if (got.changed != 0 || got.officer != NULL ||
		    got.reason != NULL)
			fail_msg("%s: got a status change before any", ids[i]);
		body_ok(f, ids[i], b, sizes[i]);

		/* Sealed: the header, 17 bytes per chunk, nothing clear. */
		sealed = sealed_get(f, ids[i]);
		if (sealed == NULL)
			fail_msg("%s: no sealed message stored", ids[i]);
		chunks = sizes[i] == 0 ? 1 : (sizes[i] - 1) / CHUNK + 1;
		if (sealed->len != HDR + sizes[i] + chunks * ABYTES)
			fail_msg("%s: sealed %u bytes, want %zu", ids[i],
			    sealed->len, HDR + sizes[i] + chunks * ABYTES);
		if (memcmp(sealed->data, "CUSTOSQ1", 8) != 0)
			fail_msg("%s: sealed header: got \"%.8s\", want "
			    "\"CUSTOSQ1\"", ids[i], sealed->data);
		if (contains(sealed->data, sealed->len, PLANT, strlen(PLANT)))
			fail_msg("%s: sealed message contains the planted "
			    "value", ids[i]);
		if (sizes[i] >= 200 && contains(sealed->data, sealed->len,
		    b + 100, 32))
			fail_msg("%s: sealed message contains body text",
			    ids[i]);
		g_byte_array_unref(sealed);
		qmeta_clear(&got);
		qmeta_clear(&want);
		g_free(b);
	}
	list_is(f->qs, "0000-0000-0001,0000-0000-0002,0000-0000-0003,"
	    "0000-0000-0004,0000-0000-0005,0000-0000-0006,0000-0000-0007");
}

/* Nothing in the directory (temporary files, metadata) holds the
 * plant or body text in clear; modes are 0700 and 0600. */
static void
test_at_rest(void **state)
{
	struct fix *f = need(state);
	GDir *d;
	const char *name;
	struct stat st;
	unsigned char *b;
	char *p, *data, err[256];
	gsize len;
	int n = 0;

	b = put_body(f, ID_A, T0, 200 * 1024);
	assert_int_equal(qstore_set_status(f->qs, ID_A, QSTATUS_RELEASED,
	    "officer1", "checked", err, sizeof err), 1);
	assert_int_equal(qstore_claim(f->qs, ID_A, err, sizeof err), 1);
	assert_int_equal(stat(f->qdir, &st), 0);
	if ((st.st_mode & 0777) != 0700)
		fail_msg("dir mode: got %o, want 700", st.st_mode & 0777);
	assert_non_null(d = g_dir_open(f->qdir, 0, NULL));
	while ((name = g_dir_read_name(d)) != NULL) {
		p = g_build_filename(f->qdir, name, NULL);
		assert_int_equal(stat(p, &st), 0);
		if ((st.st_mode & 0777) != 0600)
			fail_msg("%s mode: got %o, want 600", name,
			    st.st_mode & 0777);
		assert_true(g_file_get_contents(p, &data, &len, NULL));
		if (contains(data, len, PLANT, strlen(PLANT)) ||
		    contains(data, len, b + 100, 32))
			fail_msg("%s holds message text in clear", name);
		if (name[0] == '.')
			fail_msg("temporary file %s left behind", name);
		g_free(data);
		g_free(p);
		n++;
	}
	g_dir_close(d);
	/* msg json state used; msg only; nothing. */
	if (n != (f->layout == L_FILES ? 4 : f->layout == L_REDIS_DIR ? 1 : 0))
		fail_msg("files in dir: got %d, want %d", n,
		    f->layout == L_FILES ? 4 : f->layout == L_REDIS_DIR ? 1 :
		    0);
	g_free(b);
}

static void
test_tamper(void **state)
{
	struct fix *f = need(state);
	struct qkey other;
	struct qstore *qs2;
	GByteArray *a, *mod;
	unsigned char *ba, *bb, *cc;
	size_t len = 200 * 1024;

	ba = put_body(f, ID_A, T0, len);
	bb = put_body(f, ID_B, T0 + 1, len);
	a = sealed_get(f, ID_A);
	assert_non_null(a);

	/* One flipped bit in the second chunk. */
	mod = g_byte_array_new();
	g_byte_array_append(mod, a->data, a->len);
	mod->data[HDR + CHUNK + ABYTES + 1000] ^= 0x01;
	sealed_set(f, ID_A, mod->data, mod->len);
	body_tampered(f->qs, ID_A, "a flipped byte");
	/* In the file header. */
	g_byte_array_remove_range(mod, 0, mod->len);
	g_byte_array_append(mod, a->data, a->len);
	mod->data[10] ^= 0x80;
	sealed_set(f, ID_A, mod->data, mod->len);
	body_tampered(f->qs, ID_A, "a flipped header byte");
	/* The last chunk cut off, at a chunk boundary. */
	sealed_set(f, ID_A, a->data, HDR + 3 * (CHUNK + ABYTES));
	body_tampered(f->qs, ID_A, "truncated at a chunk boundary");
	sealed_set(f, ID_A, a->data, a->len - 1);
	body_tampered(f->qs, ID_A, "one byte short");
	sealed_set(f, ID_A, a->data, HDR);
	body_tampered(f->qs, ID_A, "header only");
	sealed_set(f, ID_A, a->data, 3);
	body_tampered(f->qs, ID_A, "three bytes");
	/* A byte appended after the final chunk. */
	g_byte_array_remove_range(mod, 0, mod->len);
	g_byte_array_append(mod, a->data, a->len);
	g_byte_array_append(mod, (const guint8 *)"x", 1);
	sealed_set(f, ID_A, mod->data, mod->len);
	body_tampered(f->qs, ID_A, "a byte appended");
	/* The same after a final chunk that is full, where the cut does
	 * not disturb the chunk itself. */
	cc = put_body(f, ID_C, T0 + 2, 2 * CHUNK);
	g_byte_array_unref(mod);
	assert_non_null(mod = sealed_get(f, ID_C));
	g_byte_array_append(mod, (const guint8 *)"x", 1);
	sealed_set(f, ID_C, mod->data, mod->len);
	body_tampered(f->qs, ID_C, "a byte after a full final chunk");
	/* A's sealed message under B's name. */
	sealed_set(f, ID_B, a->data, a->len);
	body_tampered(f->qs, ID_B, "A's message renamed to B");

	/* Put back, it opens again: the changes were the cause. */
	sealed_set(f, ID_A, a->data, a->len);
	body_ok(f, ID_A, ba, len);

	/* Another key. */
	key_init(&other, 0x99);
	qs2 = open_or_fail(f, &other);
	body_tampered(qs2, ID_A, "another key");
	(void)qstore_close(qs2);

	g_byte_array_unref(mod);
	g_byte_array_unref(a);
	g_free(ba);
	g_free(bb);
	g_free(cc);
}

static void
test_held(void **state)
{
	struct fix *f = need(state);
	struct qmeta want, got;
	char err[256];

	meta_make(&want, ID_A, T0, QSTATUS_HELD, 5000);
	put_ok(f, &want, NULL, 0);
	get_ok(f->qs, ID_A, &got);
	meta_eq(&got, &want);
	body_none(f->qs, ID_A, "held entry");
	if (f->layout != L_REDIS_BODY && qfile_exists(f, ID_A, "msg"))
		fail_msg("held entry: got a .msg file, want none");
	qmeta_clear(&got);
	qmeta_clear(&want);

	/* Status and message must agree. */
	meta_make(&want, ID_B, T0, QSTATUS_QUARANTINED, 0);
	assert_int_equal(qstore_put(f->qs, &want, NULL, 0, err, sizeof err),
	    -1);
	want.status = QSTATUS_HELD;
	assert_int_equal(qstore_put(f->qs, &want, "x", 1, err, sizeof err),
	    -1);
	want.status = QSTATUS_RELEASED;
	assert_int_equal(qstore_put(f->qs, &want, "x", 1, err, sizeof err),
	    -1);
	qmeta_clear(&want);
	assert_int_equal(qstore_get(f->qs, ID_B, &got, err, sizeof err), 0);
	body_none(f->qs, ID_B, "no such entry");
	list_is(f->qs, ID_A);
}

/* Ids become names: only canonical ones pass, for every verb. */
static void
test_bad_ids(void **state)
{
	static const char *const bad[] = { "7k2m-q9xd-3f0a",
	    "7K2MQ9XD3F0A", "7K2M-Q9XD-3FOA", "../../etc/passwd", "",
	    "7K2M-Q9XD-3F0A/", "7K2M-Q9XD-3F0A-0000" };
	struct fix *f = need(state);
	struct qmeta m, got;
	GByteArray *b = NULL;
	char err[256];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		meta_make(&m, ID_A, T0, QSTATUS_QUARANTINED, 1);
		/* A longer one does not fit qmeta.id. */
		if (strlen(bad[i]) < sizeof m.id) {
			(void)g_strlcpy(m.id, bad[i], sizeof m.id);
			if (qstore_put(f->qs, &m, "x", 1, err, sizeof err)
			    != -1)
				fail_msg("put id \"%s\": got accepted, want "
				    "-1", bad[i]);
		}
		if (qstore_get(f->qs, bad[i], &got, err, sizeof err) != -1 ||
		    qstore_body(f->qs, bad[i], &b, err, sizeof err) != -1 ||
		    qstore_set_status(f->qs, bad[i], QSTATUS_DELETED, "o",
		    "r", err, sizeof err) != -1 ||
		    qstore_claim(f->qs, bad[i], err, sizeof err) != -1)
			fail_msg("id \"%s\": got accepted, want -1", bad[i]);
		if (strstr(err, "canonical") == NULL)
			fail_msg("id \"%s\": got \"%s\", want \"not a "
			    "canonical incident id\"", bad[i], err);
		qmeta_clear(&m);
	}
	assert_null(b);
	list_is(f->qs, "");
}

/* An id stored twice: refused, and the first entry stays whole (a held
 * entry under the id exercises the cleanup of the body just written). */
static void
test_duplicate(void **state)
{
	struct fix *f = need(state);
	struct qmeta m, got;
	unsigned char *b;
	char err[256];

	b = put_body(f, ID_A, T0, 1000);
	meta_make(&m, ID_A, T0 + 5, QSTATUS_QUARANTINED, 10);
	assert_int_equal(qstore_put(f->qs, &m, "different!", 10, err,
	    sizeof err), -1);
	if (strstr(err, "already stored") == NULL)
		fail_msg("duplicate: got \"%s\", want \"already stored\"",
		    err);
	qmeta_clear(&m);
	body_ok(f, ID_A, b, 1000);
	get_ok(f->qs, ID_A, &got);
	assert_int_equal(got.when, T0);
	qmeta_clear(&got);

	put_held(f, ID_B, T0 + 1);
	meta_make(&m, ID_B, T0 + 1, QSTATUS_QUARANTINED, 10);
	assert_int_equal(qstore_put(f->qs, &m, "0123456789", 10, err,
	    sizeof err), -1);
	qmeta_clear(&m);
	get_ok(f->qs, ID_B, &got);
	if (got.status != QSTATUS_HELD)
		fail_msg("held entry after a refused put: got %s, want held",
		    qstatus_name(got.status));
	qmeta_clear(&got);
	body_none(f->qs, ID_B, "held entry after a refused put");
	if (f->layout != L_REDIS_BODY && qfile_exists(f, ID_B, "msg"))
		fail_msg("refused put: got a .msg left behind, want none");
	list_is(f->qs, ID_A "," ID_B);
	g_free(b);
}

static void
status_is(struct qstore *qs, const char *id, enum qstatus st,
    const char *officer, const char *reason, time_t t0)
{
	struct qmeta got;

	get_ok(qs, id, &got);
	if (got.status != st)
		fail_msg("%s status: got %s, want %s", id,
		    qstatus_name(got.status), qstatus_name(st));
	str_eq("officer", got.officer, officer);
	str_eq("reason", got.reason, reason);
	if (got.changed < t0 || got.changed > time(NULL))
		fail_msg("%s changed: got %lld, want between %lld and now",
		    id, (long long)got.changed, (long long)t0);
	/* The put-time record is untouched. */
	str_eq("action", got.action, "quarantine");
	assert_int_equal(got.when, T0);
	qmeta_clear(&got);
}

static void
test_status(void **state)
{
	struct fix *f = need(state);
	unsigned char *ba, *bb;
	time_t t0 = time(NULL);
	GByteArray *sealed;
	char err[256];

	ba = put_body(f, ID_A, T0, 70000);
	bb = put_body(f, ID_B, T0, 100);

	assert_int_equal(qstore_set_status(f->qs, ID_A, QSTATUS_RELEASED,
	    "officer1", "false positive", err, sizeof err), 1);
	status_is(f->qs, ID_A, QSTATUS_RELEASED, "officer1",
	    "false positive", t0);
	body_ok(f, ID_A, ba, 70000);

	assert_int_equal(qstore_set_status(f->qs, ID_B, QSTATUS_DELETED,
	    "officer2", "real leak", err, sizeof err), 1);
	status_is(f->qs, ID_B, QSTATUS_DELETED, "officer2", "real leak", t0);
	body_none(f->qs, ID_B, "deleted entry");
	if ((sealed = sealed_get(f, ID_B)) != NULL)
		fail_msg("deleted entry: got %u sealed bytes still stored, "
		    "want none", sealed->len);

	/* No such entry. */
	assert_int_equal(qstore_set_status(f->qs, ID_C, QSTATUS_RELEASED,
	    "o", "r", err, sizeof err), 0);
	assert_int_equal(qstore_get(f->qs, ID_C, &(struct qmeta){ 0 }, err,
	    sizeof err), 0);
	assert_int_equal(qstore_set_status(f->qs, ID_A, (enum qstatus)9,
	    "o", "r", err, sizeof err), -1);

	/* Across close and open. */
	f->qs = qstore_close(f->qs);
	f->qs = open_or_fail(f, &f->key);
	status_is(f->qs, ID_A, QSTATUS_RELEASED, "officer1",
	    "false positive", t0);
	status_is(f->qs, ID_B, QSTATUS_DELETED, "officer2", "real leak", t0);
	body_ok(f, ID_A, ba, 70000);
	body_none(f->qs, ID_B, "deleted entry after reopen");
	list_is(f->qs, ID_A "," ID_B);
	g_free(ba);
	g_free(bb);
}

static void
test_list(void **state)
{
	struct fix *f = need(state);
	struct walk w = { NULL, 0, 3 };
	char err[256];
	unsigned char *b;
	int rc;

	list_is(f->qs, "");
	b = put_body(f, ID_C, T0 + 20, 10);
	g_free(b);
	put_held(f, ID_B, T0 + 5);
	b = put_body(f, ID_E, T0 + 5, 10);
	g_free(b);
	b = put_body(f, ID_A, T0 + 30, 10);
	g_free(b);
	put_held(f, ID_D, T0);
	list_is(f->qs, ID_D "," ID_B "," ID_E "," ID_C "," ID_A);

	w.ids = g_string_new("");
	rc = qstore_list(f->qs, walk_fn, &w, err, sizeof err);
	if (rc != 7 || w.calls != 3)
		fail_msg("stopping walk: got %d after %d calls, want 7 after 3",
		    rc, w.calls);
	str_eq("stopped walk", w.ids->str, ID_D "," ID_B "," ID_E);
	g_string_free(w.ids, TRUE);
}

/* One unreadable entry does not hide the others; err says so. */
static void
test_list_unreadable(void **state)
{
	struct fix *f = need(state);
	redisContext *c;
	redisReply *r;
	char err[256] = "", *ids, *p;

	put_held(f, ID_A, T0);
	put_held(f, ID_B, T0 + 1);
	put_held(f, ID_C, T0 + 2);
	if (f->layout == L_FILES) {
		p = qpath(f, ID_B, "json");
		assert_true(g_file_set_contents(p, "{\"v\":1,\"id\":", -1,
		    NULL));
		g_free(p);
	} else {
		c = testredis_client(&f->srv, DB);
		r = redisCommand(c, "HSET " PREFIX "q:{%s} meta garbage",
		    ID_B);
		assert_non_null(r);
		freeReplyObject(r);
		redisFree(c);
	}
	ids = list_ids(f->qs, err, sizeof err);
	str_eq("list", ids, ID_A "," ID_C);
	if (strstr(err, "1 unreadable") == NULL || strstr(err, ID_B) == NULL)
		fail_msg("list note: got \"%s\", want \"1 unreadable ... %s\"",
		    err, ID_B);
	g_free(ids);
	assert_int_equal(qstore_get(f->qs, ID_B, &(struct qmeta){ 0 }, err,
	    sizeof err), -1);
}

static void
test_purge(void **state)
{
	struct fix *f = need(state);
	struct timeval old[2] = { { T0, 0 }, { T0, 0 } };
	char err[256], *tmp, *orphan, *fresh;
	unsigned char *b;
	size_t removed = 99;
	redisContext *c;

	b = put_body(f, ID_A, T0, 1000);
	g_free(b);
	put_held(f, ID_B, T0 + 10);
	b = put_body(f, ID_C, T0 + 20, 1000);
	assert_int_equal(qstore_claim(f->qs, ID_A, err, sizeof err), 1);
	assert_int_equal(qstore_set_status(f->qs, ID_A, QSTATUS_RELEASED,
	    "o", "r", err, sizeof err), 1);

	/* What a crash leaves: a temporary file and an orphan body, old;
	 * a fresh orphan (a put in progress) stays. */
	tmp = g_strdup_printf("%s/." ID_D ".msg.AbCdEf", f->qdir);
	orphan = qpath(f, ID_D, "msg");
	fresh = qpath(f, ID_E, "msg");
	assert_true(g_file_set_contents(tmp, "x", 1, NULL));
	assert_true(g_file_set_contents(orphan, "x", 1, NULL));
	assert_true(g_file_set_contents(fresh, "x", 1, NULL));
	assert_int_equal(utimes(tmp, old), 0);
	assert_int_equal(utimes(orphan, old), 0);

	if (qstore_purge(f->qs, T0 + 15, &removed, err, sizeof err) != 0)
		fail_msg("purge: got -1 (%s), want 0", err);
	if (removed != 2)
		fail_msg("purge: got %zu removed, want 2", removed);
	list_is(f->qs, ID_C);
	assert_int_equal(qstore_get(f->qs, ID_A, &(struct qmeta){ 0 }, err,
	    sizeof err), 0);
	assert_int_equal(qstore_get(f->qs, ID_B, &(struct qmeta){ 0 }, err,
	    sizeof err), 0);
	body_none(f->qs, ID_A, "purged entry");
	body_ok(f, ID_C, b, 1000);
	/* Its used mark went with it: the token is not honoured again. */
	assert_int_equal(qstore_claim(f->qs, ID_A, err, sizeof err), 0);

	if (qfile_exists(f, ID_A, "msg") || qfile_exists(f, ID_A, "json") ||
	    qfile_exists(f, ID_A, "state") || qfile_exists(f, ID_A, "used") ||
	    qfile_exists(f, ID_B, "json"))
		fail_msg("purge: got files of purged entries, want none");
	if (access(tmp, F_OK) == 0 || access(orphan, F_OK) == 0)
		fail_msg("purge: got old crash leftovers, want them removed");
	if (access(fresh, F_OK) != 0)
		fail_msg("purge: got a fresh file removed, want it kept");
	if (f->layout != L_FILES) {
		c = testredis_client(&f->srv, DB);
		if (testredis_int(c, "EXISTS " PREFIX "q:{%s}", ID_A) != 0 ||
		    testredis_int(c, "EXISTS " PREFIX "q:used:{%s}",
		    ID_A) != 0 ||
		    testredis_int(c, "EXISTS " PREFIX "q:{%s}", ID_B) != 0 ||
		    testredis_int(c, "ZCARD " PREFIX "q:index") != 1)
			fail_msg("purge: got keys of purged entries, want "
			    "none");
		redisFree(c);
	}

	/* Nothing more to do. */
	assert_int_equal(qstore_purge(f->qs, T0 + 15, &removed, err,
	    sizeof err), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(qstore_purge(f->qs, T0 + 21, &removed, err,
	    sizeof err), 0);
	assert_int_equal(removed, 1);
	list_is(f->qs, "");
	g_free(b);
	g_free(tmp);
	g_free(orphan);
	g_free(fresh);
}

struct claimer {
	struct qstore	*qs;
	pthread_barrier_t *bar;
	atomic_int	*won;
	atomic_int	*errors;
};

static void *
claimer_run(void *arg)
{
	struct claimer *cl = arg;
	char err[256];
	int rc;

	(void)pthread_barrier_wait(cl->bar);
	rc = qstore_claim(cl->qs, ID_B, err, sizeof err);
	if (rc == 1)
		atomic_fetch_add(cl->won, 1);
	else if (rc != 0)
		atomic_fetch_add(cl->errors, 1);
	return NULL;
}

static void
test_claim(void **state)
{
	struct fix *f = need(state);
	struct claimer cl[8];
	pthread_t th[8];
	pthread_barrier_t bar;
	atomic_int won = 0, errors = 0;
	char err[256];
	int i, rc;

	put_held(f, ID_A, T0);
	if ((rc = qstore_claim(f->qs, ID_A, err, sizeof err)) != 1)
		fail_msg("first claim: got %d (%s), want 1", rc, err);
	if ((rc = qstore_claim(f->qs, ID_A, err, sizeof err)) != 0)
		fail_msg("second claim: got %d (%s), want 0", rc, err);
	if ((rc = qstore_claim(f->qs, ID_C, err, sizeof err)) != 0)
		fail_msg("claim of no entry: got %d (%s), want 0", rc, err);

	put_held(f, ID_B, T0);
	assert_int_equal(pthread_barrier_init(&bar, NULL, 8), 0);
	for (i = 0; i < 8; i++) {
		cl[i] = (struct claimer){ f->qs, &bar, &won, &errors };
		assert_int_equal(pthread_create(&th[i], NULL, claimer_run,
		    &cl[i]), 0);
	}
	for (i = 0; i < 8; i++)
		(void)pthread_join(th[i], NULL);
	(void)pthread_barrier_destroy(&bar);
	if (atomic_load(&won) != 1 || atomic_load(&errors) != 0)
		fail_msg("8 threads: got %d claims and %d errors, want 1 and 0",
		    atomic_load(&won), atomic_load(&errors));
	if (f->layout != L_FILES) {
		redisContext *c = testredis_client(&f->srv, DB);

		if (testredis_int(c, "EXISTS " PREFIX "q:used:{%s}", ID_B) != 1)
			fail_msg("claim: got no q:used key, want one");
		redisFree(c);
	} else if (!qfile_exists(f, ID_B, "used"))
		fail_msg("claim: got no .used file, want one");
}

/* The directory becomes a file: put fails and nothing is listed.
 * (Not for bodies in Redis: they use no directory.) */
static void
test_unusable_dir(void **state)
{
	struct fix *f = need(state);
	struct qstore_conf qc = f->qc;
	struct qmeta m;
	unsigned char *b = body_make(5000);
	char err[256] = "", *bad, *ids;
	redisContext *c;
	int rc;

	/* A dir under a regular file: even root cannot create it. */
	bad = g_strdup_printf("%s/plain", f->root);
	assert_true(g_file_set_contents(bad, "x", 1, NULL));
	g_free(bad);
	bad = g_strdup_printf("%s/plain/q", f->root);
	qc.dir = bad;
	if (qstore_open(&qc, &f->key, err, sizeof err) != NULL ||
	    strstr(err, "Not a directory") == NULL)
		fail_msg("open under a file: got \"%s\", want NULL and "
		    "\"Not a directory\"", err);
	g_free(bad);
	bad = g_strdup_printf("%s/plain", f->root);
	qc.dir = bad;
	if (qstore_open(&qc, &f->key, err, sizeof err) != NULL ||
	    strstr(err, "not a directory") == NULL)
		fail_msg("open on a file: got \"%s\", want NULL and "
		    "\"not a directory\"", err);
	g_free(bad);

	assert_int_equal(rmdir(f->qdir), 0);
	assert_true(g_file_set_contents(f->qdir, "", 0, NULL));
	meta_make(&m, ID_A, T0, QSTATUS_QUARANTINED, 5000);
	if ((rc = qstore_put(f->qs, &m, b, 5000, err, sizeof err)) != -1)
		fail_msg("put into a file: got %d, want -1", rc);
	print_message("# put into an unusable dir: %s\n", err);
	qmeta_clear(&m);
	assert_int_equal(unlink(f->qdir), 0);
	assert_int_equal(mkdir(f->qdir, 0700), 0);
	ids = list_ids(f->qs, err, sizeof err);
	str_eq("list after a failed put", ids, "");
	g_free(ids);
	if (f->layout == L_REDIS_DIR) {
		c = testredis_client(&f->srv, DB);
		if (testredis_int(c, "EXISTS " PREFIX "q:{%s}", ID_A) != 0)
			fail_msg("failed put: got a hash, want none");
		redisFree(c);
	}
	g_free(b);
}

/* Keys, fields and types, as doc/redis-schema.md lists them. */
static void
test_redis_keys(void **state)
{
	struct fix *f = need(state);
	redisContext *c;
	redisReply *r;
	GByteArray *v;
	unsigned char *b;
	char err[256];

	b = put_body(f, ID_A, T0, 3000);
	put_held(f, ID_B, T0 + 7);
	assert_int_equal(qstore_claim(f->qs, ID_A, err, sizeof err), 1);
	assert_int_equal(qstore_set_status(f->qs, ID_A, QSTATUS_RELEASED,
	    "officer1", "ok", err, sizeof err), 1);
	c = testredis_client(&f->srv, DB);
	r = redisCommand(c, "ZRANGE " PREFIX "q:index 0 -1 WITHSCORES");
	assert_non_null(r);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
	    strcmp(r->element[0]->str, ID_A) != 0 ||
	    strcmp(r->element[1]->str, "1699999200") != 0 ||
	    strcmp(r->element[2]->str, ID_B) != 0 ||
	    strcmp(r->element[3]->str, "1699999207") != 0)
		fail_msg("q:index: got another content, want A@T0, B@T0+7");
	freeReplyObject(r);

	v = hget(c, ID_A, "status");
	assert_non_null(v);
	if (v->len != 8 || memcmp(v->data, "released", 8) != 0)
		fail_msg("status field: got \"%.*s\", want \"released\"",
		    (int)v->len, v->data);
	g_byte_array_unref(v);
	assert_non_null(v = hget(c, ID_A, "meta"));
	g_byte_array_unref(v);
	assert_non_null(v = hget(c, ID_A, "sender"));
	g_byte_array_unref(v);
	assert_non_null(v = hget(c, ID_A, "officer"));
	g_byte_array_unref(v);
	v = hget(c, ID_A, "body");
	if ((v != NULL) != (f->layout == L_REDIS_BODY))
		fail_msg("body field: got %s, want %s", v ? "one" : "none",
		    f->layout == L_REDIS_BODY ? "one" : "none");
	if (v != NULL)
		g_byte_array_unref(v);
	if (qfile_exists(f, ID_A, "msg") != (f->layout == L_REDIS_DIR))
		fail_msg("ID.msg in dir: got %s, want %s",
		    qfile_exists(f, ID_A, "msg") ? "one" : "none",
		    f->layout == L_REDIS_DIR ? "one" : "none");
	if (qfile_exists(f, ID_A, "json"))
		fail_msg("metadata in dir with Redis: got ID.json, want none");
	/* Retention is qstore_purge's: no key expires. */
	if (testredis_int(c, "TTL " PREFIX "q:{%s}", ID_A) != -1 ||
	    testredis_int(c, "TTL " PREFIX "q:used:{%s}", ID_A) != -1 ||
	    testredis_int(c, "TTL " PREFIX "q:index") != -1)
		fail_msg("got a TTL on a quarantine key, want none");
	/* Database 2, nothing in 0. */
	r = redisCommand(c, "SELECT 0");
	freeReplyObject(r);
	if (testredis_int(c, "DBSIZE") != 0)
		fail_msg("db 0: got keys, want none");
	redisFree(c);
	g_free(b);
}

static void
test_redis_max_size(void **state)
{
	struct fix *f = need(state);
	struct qmeta m;
	unsigned char *b = body_make(2000);
	char err[256] = "";
	int rc;

	f->qs = qstore_close(f->qs);
	f->qc.redis_max_size = 1000;
	f->qs = open_or_fail(f, &f->key);
	meta_make(&m, ID_A, T0, QSTATUS_QUARANTINED, 1001);
	if ((rc = qstore_put(f->qs, &m, b, 1001, err, sizeof err)) != -1 ||
	    strstr(err, "redis_max_size") == NULL)
		fail_msg("1001 bytes over 1000: got %d \"%s\", want -1 "
		    "\"redis_max_size\"", rc, err);
	qmeta_clear(&m);
	meta_make(&m, ID_B, T0, QSTATUS_QUARANTINED, 1000);
	put_ok(f, &m, b, 1000);
	qmeta_clear(&m);
	body_ok(f, ID_B, b, 1000);
	list_is(f->qs, ID_B);
	g_free(b);
}

/* Redis goes away: every verb fails, nothing lands on disk. */
static void
test_redis_down(void **state)
{
	struct fix *f = need(state);
	struct qmeta m;
	GByteArray *b = NULL;
	struct walk w = { NULL, 0, 0 };
	unsigned char *raw = body_make(3000);
	char err[256] = "";
	GDir *d;
	size_t removed;
	int rc;

	put_held(f, ID_A, T0);
	testredis_kill(&f->srv);
	meta_make(&m, ID_B, T0, QSTATUS_QUARANTINED, 3000);
	if ((rc = qstore_put(f->qs, &m, raw, 3000, err, sizeof err)) != -1)
		fail_msg("put with Redis down: got %d, want -1", rc);
	print_message("# Redis down: %s\n", err);
	qmeta_clear(&m);
	if (qfile_exists(f, ID_B, "msg"))
		fail_msg("put with Redis down: got a .msg, want none");
	assert_non_null(d = g_dir_open(f->qdir, 0, NULL));
	if (g_dir_read_name(d) != NULL)
		fail_msg("put with Redis down: got files in dir, want none");
	g_dir_close(d);
	assert_int_equal(qstore_get(f->qs, ID_A, &m, err, sizeof err), -1);
	assert_int_equal(qstore_body(f->qs, ID_A, &b, err, sizeof err), -1);
	assert_int_equal(qstore_claim(f->qs, ID_A, err, sizeof err), -1);
	assert_int_equal(qstore_set_status(f->qs, ID_A, QSTATUS_RELEASED,
	    "o", "r", err, sizeof err), -1);
	assert_int_equal(qstore_purge(f->qs, T0 + 1, &removed, err,
	    sizeof err), -1);
	w.ids = g_string_new("");
	assert_int_equal(qstore_list(f->qs, walk_fn, &w, err, sizeof err),
	    -1);
	g_string_free(w.ids, TRUE);
	g_free(raw);
}

static void
test_open_errors(void **state)
{
	static const struct {
		const char	*what;
		bool		 redis;
		bool		 body_in_redis;
		size_t		 max;
		const char	*dir;
		const char	*prefix;
		const char	*want;
	} rows[] = {
		{ "no dir", false, false, 0, NULL, PREFIX, "no directory" },
		{ "body in Redis, no Redis", false, true, 100, "", PREFIX,
		    "needs Redis" },
		{ "max size 0", true, true, 0, NULL, PREFIX,
		    "redis_max_size" },
		{ "brace in prefix", true, false, 0, "q", "c{x}:",
		    "brace" },
	};
	struct fix *f = need(state);
	struct qstore_conf qc;
	struct store_conf sc;
	struct qstore *qs;
	char err[256];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(rows); i++) {
		sc = f->sc;
		sc.redis = rows[i].redis;
		sc.port = 6379;
		sc.prefix = (char *)rows[i].prefix;
		memset(&qc, 0, sizeof qc);
		qc.redis = &sc;
		qc.body_in_redis = rows[i].body_in_redis;
		qc.redis_max_size = rows[i].max;
		qc.dir = rows[i].dir == NULL ? NULL :
		    g_strdup_printf("%s/%s", f->root, rows[i].dir);
		err[0] = '\0';
		qs = qstore_open(&qc, &f->key, err, sizeof err);
		if (qs != NULL || strstr(err, rows[i].want) == NULL)
			fail_msg("%s: got %s \"%s\", want NULL \"%s\"",
			    rows[i].what, qs != NULL ? "a store" : "NULL",
			    err, rows[i].want);
		g_free(qc.dir);
	}
	assert_null(qstore_close(NULL));
	qmeta_clear(NULL);

	/* Names. */
	for (i = 0; i <= QSTATUS_DELETED; i++) {
		enum qstatus st;

		assert_int_equal(qstatus_parse(qstatus_name((enum qstatus)i),
		    &st), 0);
		assert_int_equal(st, i);
	}
	assert_int_equal(qstatus_parse("Released", &(enum qstatus){ 0 }), -1);
	str_eq("bad status name", qstatus_name((enum qstatus)9), "unknown");
}

#define FILES(n, fn)	{ "files: " n, fn, setup_files, fix_teardown, NULL }
#define RDIR(n, fn)	{ "redis+dir: " n, fn, setup_redis_dir, \
			    fix_teardown, NULL }
#define RBODY(n, fn)	{ "redis body: " n, fn, setup_redis_body, \
			    fix_teardown, NULL }
#define ALL(n, fn)	FILES(n, fn), RDIR(n, fn), RBODY(n, fn)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		FILES("open errors", test_open_errors),
		ALL("round trip", test_roundtrip),
		ALL("at rest", test_at_rest),
		ALL("tamper", test_tamper),
		ALL("held", test_held),
		ALL("bad ids", test_bad_ids),
		ALL("duplicate", test_duplicate),
		ALL("status", test_status),
		ALL("list", test_list),
		ALL("list unreadable", test_list_unreadable),
		ALL("purge", test_purge),
		ALL("claim", test_claim),
		FILES("unusable dir", test_unusable_dir),
		RDIR("unusable dir", test_unusable_dir),
		RDIR("keys", test_redis_keys),
		RBODY("keys", test_redis_keys),
		RBODY("max size", test_redis_max_size),
		RDIR("redis down", test_redis_down),
		RBODY("redis down", test_redis_down),
	};

	/* As in the gateway, which must not die of a Redis hangup. */
	(void)signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
