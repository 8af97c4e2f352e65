/* test_affected.c - who was exposed: hand-written audit lines and lines
 * from audit_write itself (so reader and writer cannot drift), the
 * sender, time and action filters, bad and officer lines, rotated .gz
 * files, overlong lines, CSV quoting and JSON output, and the Redis
 * incident stream against a real redis-server (started here on a free
 * loopback port; skipped without one, failed under CI=true), which must
 * give the same answer as the audit log. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <hiredis/hiredis.h>
#include <json-glib/json-glib.h>

#include "affected.h"
#include "audit.h"
#include "csv.h"
#include "testredis.h"

/* ------------------------------------------------------------ helpers */

struct tmp {
	char	dir[64];
};

static void
tmp_init(struct tmp *t)
{
	(void)g_strlcpy(t->dir, "/tmp/custos-test-affected.XXXXXX",
	    sizeof t->dir);
	assert_non_null(g_mkdtemp(t->dir));
}

static char *
tmp_path(const struct tmp *t, const char *name)
{
	return g_build_filename(t->dir, name, NULL);
}

static void
tmp_clear(struct tmp *t)
{
	GDir *d;
	const char *n;
	char *p;

	if ((d = g_dir_open(t->dir, 0, NULL)) != NULL) {
		while ((n = g_dir_read_name(d)) != NULL) {
			p = g_build_filename(t->dir, n, NULL);
			(void)g_unlink(p);
			g_free(p);
		}
		g_dir_close(d);
	}
	(void)g_rmdir(t->dir);
}

static void
write_file(const char *path, const char *text, size_t len)
{
	if (!g_file_set_contents(path, text, (gssize)len, NULL))
		fail_msg("cannot write %s", path);
}

/* path.gz made with GIO's zlib compressor, as logrotate's gzip would. */
static void
write_gz(const char *path, const char *text)
{
	GFile *f = g_file_new_for_path(path);
	GFileOutputStream *fout;
	GZlibCompressor *z;
	GOutputStream *out;
	gsize done;

	fout = g_file_replace(f, NULL, FALSE, G_FILE_CREATE_NONE, NULL, NULL);
	assert_non_null(fout);
	z = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
	out = g_converter_output_stream_new(G_OUTPUT_STREAM(fout),
	    G_CONVERTER(z));
	assert_true(g_output_stream_write_all(out, text, strlen(text), &done,
	    NULL, NULL));
	assert_true(g_output_stream_close(out, NULL, NULL));
	g_object_unref(out);
	g_object_unref(z);
	g_object_unref(fout);
	g_object_unref(f);
}

static time_t
iso(const char *s)
{
	GDateTime *dt = g_date_time_new_from_iso8601(s, NULL);
	time_t t;

	assert_non_null(dt);
	t = (time_t)g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return t;
}

/* What one record should come out as. */
struct want {
	const char	*list;
	const char	*id;
	bool		 canary;
	time_t		 first, last;
	size_t		 messages;
	const char	*incidents;
};

static void
check(const struct affected_result *res, const struct want *w, size_t n,
    const char *what)
{
	const struct affected_record *r;
	size_t i;

	if (res->nrecords != n) {
		for (i = 0; i < res->nrecords; i++)
			print_message("# got %s/%s\n", res->records[i].list,
			    res->records[i].id);
		fail_msg("%s: got %zu records, want %zu", what, res->nrecords,
		    n);
	}
	for (i = 0; i < n; i++) {
		r = &res->records[i];
		if (strcmp(r->list, w[i].list) != 0 ||
		    strcmp(r->id, w[i].id) != 0)
			fail_msg("%s: record %zu: got %s/%s, want %s/%s", what,
			    i, r->list, r->id, w[i].list, w[i].id);
		if (r->canary != w[i].canary || r->first != w[i].first ||
		    r->last != w[i].last || r->messages != w[i].messages)
			fail_msg("%s: %s/%s: got canary %d first %lld last "
			    "%lld messages %zu, want %d %lld %lld %zu", what,
			    r->list, r->id, r->canary, (long long)r->first,
			    (long long)r->last, r->messages, w[i].canary,
			    (long long)w[i].first, (long long)w[i].last,
			    w[i].messages);
		if (strcmp(r->incidents, w[i].incidents) != 0)
			fail_msg("%s: %s/%s: got incidents \"%s\", want "
			    "\"%s\"", what, r->list, r->id, r->incidents,
			    w[i].incidents);
	}
}

/* Two results say the same. */
static void
same(const struct affected_result *a, const struct affected_result *b,
    const char *what)
{
	size_t i;

	if (a->nrecords != b->nrecords || a->decisions != b->decisions ||
	    a->incomplete != b->incomplete)
		fail_msg("%s: got %zu records %zu decisions %zu incomplete, "
		    "want %zu %zu %zu", what, b->nrecords, b->decisions,
		    b->incomplete, a->nrecords, a->decisions, a->incomplete);
	for (i = 0; i < a->nrecords; i++) {
		const struct affected_record *x = &a->records[i],
		    *y = &b->records[i];

		if (strcmp(x->list, y->list) != 0 ||
		    strcmp(x->id, y->id) != 0 || x->canary != y->canary ||
		    x->first != y->first || x->last != y->last ||
		    x->messages != y->messages ||
		    strcmp(x->incidents, y->incidents) != 0)
			fail_msg("%s: record %zu: got %s/%s %d %lld %lld %zu "
			    "\"%s\", want %s/%s %d %lld %lld %zu \"%s\"",
			    what, i, y->list, y->id, y->canary,
			    (long long)y->first, (long long)y->last,
			    y->messages, y->incidents, x->list, x->id,
			    x->canary, (long long)x->first,
			    (long long)x->last, x->messages, x->incidents);
	}
}

static void
audit_query(const char *const *paths, size_t n,
    const struct affected_query *q, struct affected_result *res)
{
	char err[256] = "";

	if (affected_from_audit(paths, n, q, res, err, sizeof err) != 0)
		fail_msg("affected_from_audit: %s", err);
}

/* ---------------------------------------------- hand-written lines */

static const char hand_lines[] =
    /* Alice; C-1 twice in one message counts once. */
    "{\"type\":\"decision\",\"time\":\"2026-11-30T07:34:11.250Z\","
    "\"node\":\"gw1\",\"sender\":\"alice@corp.example\",\"auth_user\":null,"
    "\"action\":\"reject\",\"mode\":\"enforce\",\"would\":\"reject\","
    "\"incident\":\"INC-1\",\"records\":2,\"record_ids\":["
    "{\"id\":\"C-1\",\"list\":\"customers\",\"where\":\"body\"},"
    "{\"id\":\"C-2\",\"list\":\"customers\",\"where\":\"body\"},"
    "{\"id\":\"C-1\",\"list\":\"customers\",\"where\":\"att\"}]}\n"
    /* Written before "type" existed; another case; ids cut. */
    "{\"time\":\"2026-11-30T08:00:00.000Z\",\"sender\":\"ALICE@Corp.Example\","
    "\"action\":\"hold\",\"would\":\"hold\",\"incident\":\"INC-2\","
    "\"record_ids\":[{\"id\":\"C-2\",\"list\":\"customers\"},"
    "{\"id\":\"V-1\",\"list\":\"vip\",\"canary\":true}],"
    "\"record_ids_omitted\":7}\n"
    /* Bob. */
    "{\"type\":\"decision\",\"time\":\"2026-11-30T08:30:00.000Z\","
    "\"sender\":\"bob@corp.example\",\"action\":\"reject\","
    "\"would\":\"reject\",\"incident\":\"INC-3\",\"record_ids\":["
    "{\"id\":\"C-9\",\"list\":\"customers\"}]}\n"
    /* An officer: not a decision, not bad. */
    "{\"type\":\"officer\",\"time\":\"2026-11-30T09:00:00.000Z\","
    "\"node\":\"gw1\",\"event\":\"release\",\"incident\":\"INC-2\","
    "\"officer\":\"carol\",\"reason\":\"alice@corp.example asked\","
    "\"detail\":null,\"ok\":true,\"error\":null}\n"
    "\n"
    /* Bad: no time, not JSON, not an object, ids not a list. */
    "{\"type\":\"decision\",\"time\":\"yesterday\","
    "\"sender\":\"alice@corp.example\",\"action\":\"reject\"}\n"
    "this is not JSON\n"
    "[1,2,3]\n"
    "{\"time\":\"2026-11-30T09:00:00Z\",\"sender\":\"alice@corp.example\","
    "\"action\":\"pass\",\"record_ids\":\"C-1\"}\n"
    /* Half a line: the writer died mid-write. */
    "{\"type\":\"decision\",\"time\":\"2026-11-30T09:";

static void
test_hand_lines(void **state)
{
	struct tmp t;
	struct affected_query q = { .sender = "Alice@corp.example" };
	struct affected_result res;
	char *path;
	const char *paths[1];
	time_t t1 = iso("2026-11-30T07:34:11Z"), t2 = iso("2026-11-30T08:00:00Z");
	const struct want w[] = {
		{ "customers", "C-1", false, t1, t1, 1, "INC-1" },
		{ "customers", "C-2", false, t1, t2, 2, "INC-1,INC-2" },
		{ "vip", "V-1", true, t2, t2, 1, "INC-2" },
	};

	(void)state;
	tmp_init(&t);
	path = tmp_path(&t, "audit.log");
	write_file(path, hand_lines, sizeof hand_lines - 1);
	paths[0] = path;
	audit_query(paths, 1, &q, &res);
	check(&res, w, 3, "alice");
	assert_int_equal(res.decisions, 2);
	assert_int_equal(res.incomplete, 1);
	assert_int_equal(res.skipped, 5);
	affected_clear(&res);

	/* "<addr>" as pasted from a log is the address. */
	q.sender = "<bob@corp.example>";
	audit_query(paths, 1, &q, &res);
	assert_int_equal(res.nrecords, 1);
	assert_string_equal(res.records[0].id, "C-9");
	affected_clear(&res);

	q.sender = "nobody@corp.example";
	audit_query(paths, 1, &q, &res);
	assert_int_equal(res.nrecords, 0);
	assert_int_equal(res.decisions, 0);
	assert_int_equal(res.skipped, 5);
	affected_clear(&res);
	affected_clear(&res);		/* twice is fine */
	affected_clear(NULL);

	g_free(path);
	tmp_clear(&t);
}

static void
test_errors(void **state)
{
	struct tmp t;
	struct affected_query q = { .sender = "alice@corp.example" };
	struct affected_result res;
	char err[256], *path, *gz;
	const char *paths[2];

	(void)state;
	tmp_init(&t);
	path = tmp_path(&t, "audit.log");
	gz = tmp_path(&t, "audit.log.1.gz");
	write_file(path, hand_lines, sizeof hand_lines - 1);

	/* A missing rotated file: the caller named it, so it is an error. */
	paths[0] = gz;
	paths[1] = path;
	err[0] = '\0';
	assert_int_equal(affected_from_audit(paths, 2, &q, &res, err,
	    sizeof err), -1);
	if (strstr(err, gz) == NULL)
		fail_msg("got \"%s\", want the path", err);
	assert_int_equal(res.nrecords, 0);
	assert_null(res.records);

	/* A .gz that is not gzip. */
	write_file(gz, "plain text, not gzip\n", 21);
	err[0] = '\0';
	assert_int_equal(affected_from_audit(paths, 2, &q, &res, err,
	    sizeof err), -1);
	if (strstr(err, gz) == NULL)
		fail_msg("got \"%s\", want the path", err);

	/* No sender; an empty window. */
	q.sender = NULL;
	assert_int_equal(affected_from_audit(paths + 1, 1, &q, &res, err,
	    sizeof err), -1);
	q.sender = "";
	assert_int_equal(affected_from_audit(paths + 1, 1, &q, &res, err,
	    sizeof err), -1);
	q.sender = "alice@corp.example";
	q.since = 100;
	q.until = 100;
	assert_int_equal(affected_from_audit(paths + 1, 1, &q, &res, err,
	    sizeof err), -1);

	g_free(path);
	g_free(gz);
	tmp_clear(&t);
}

/* The rotated, compressed file and the current one read as one log. */
static void
test_gz(void **state)
{
	struct tmp t;
	struct affected_query q = { .sender = "alice@corp.example" };
	struct affected_result res;
	char *path, *gz, *gzlines;
	const char *paths[2];
	time_t t1 = iso("2026-11-29T10:00:00Z"), t2 = iso("2026-11-30T07:34:11Z"),
	    t3 = iso("2026-11-30T08:00:00Z");
	const struct want w[] = {
		{ "customers", "C-1", false, t1, t2, 2, "INC-0,INC-1" },
		{ "customers", "C-2", false, t2, t3, 2, "INC-1,INC-2" },
		{ "customers", "C-7", false, t1, t1, 1, "INC-0" },
		{ "vip", "V-1", true, t3, t3, 1, "INC-2" },
	};

	(void)state;
	tmp_init(&t);
	path = tmp_path(&t, "audit.log");
	gz = tmp_path(&t, "audit.log.1.gz");
	write_file(path, hand_lines, sizeof hand_lines - 1);
	/* Bigger than one read, so the stream is read in pieces. */
	gzlines = g_strdup_printf("%s\n{\"type\":\"decision\",\"time\":"
	    "\"2026-11-29T10:00:00.999Z\",\"sender\":\"alice@corp.example\","
	    "\"action\":\"quarantine\",\"would\":\"quarantine\","
	    "\"incident\":\"INC-0\",\"record_ids\":["
	    "{\"id\":\"C-1\",\"list\":\"customers\"},"
	    "{\"id\":\"C-7\",\"list\":\"customers\"}]}\n",
	    "{\"type\":\"officer\",\"note\":\"padding\"}");
	{
		GString *big = g_string_new(NULL);
		int i;

		for (i = 0; i < 2000; i++)
			g_string_append(big, "{\"type\":\"officer\","
			    "\"event\":\"show-raw\",\"incident\":\"INC-0\","
			    "\"officer\":\"dave\"}\n");
		g_string_append(big, gzlines);
		write_gz(gz, big->str);
		g_string_free(big, TRUE);
	}
	paths[0] = gz;
	paths[1] = path;
	audit_query(paths, 2, &q, &res);
	check(&res, w, 4, "gz + current");
	assert_int_equal(res.decisions, 3);
	assert_int_equal(res.skipped, 5);
	affected_clear(&res);

	g_free(gzlines);
	g_free(path);
	g_free(gz);
	tmp_clear(&t);
}

/* A line over the limit is skipped as it streams past; the next one is
 * read. */
static void
test_overlong(void **state)
{
	struct tmp t;
	struct affected_query q = { .sender = "alice@corp.example" };
	struct affected_result res;
	GString *s;
	char *path;
	const char *paths[1];
	const char *good = "{\"time\":\"2026-11-30T07:00:00Z\","
	    "\"sender\":\"alice@corp.example\",\"action\":\"reject\","
	    "\"record_ids\":[{\"id\":\"C-1\",\"list\":\"customers\"}]}\n";

	(void)state;
	tmp_init(&t);
	path = tmp_path(&t, "audit.log");
	s = g_string_new("{\"time\":\"2026-11-30T06:00:00Z\","
	    "\"sender\":\"alice@corp.example\",\"action\":\"reject\","
	    "\"record_ids\":[");
	while (s->len < (5u << 20))
		g_string_append(s, "{\"id\":\"X-1\",\"list\":\"customers\"},");
	g_string_append(s, "{\"id\":\"X-2\",\"list\":\"customers\"}]}\n");
	g_string_append(s, good);
	/* And one overlong at the end, without its newline. */
	{
		char *head = g_strndup(s->str, 5u << 20);

		g_string_append(s, head);
		g_free(head);
	}
	write_file(path, s->str, s->len);
	paths[0] = path;
	audit_query(paths, 1, &q, &res);
	assert_int_equal(res.nrecords, 1);
	assert_string_equal(res.records[0].id, "C-1");
	assert_int_equal(res.decisions, 1);
	assert_int_equal(res.skipped, 2);
	affected_clear(&res);
	g_string_free(s, TRUE);
	g_free(path);
	tmp_clear(&t);
}

/* ------------------------------- decisions through the real writers */

struct rid {
	uint16_t	 list;		/* 0 customers, 1 vip */
	const char	*id;
	bool		 canary;
};

struct dec {
	const char	*mail_from;
	const char	*auth_user;	/* or NULL */
	time_t		 at;		/* from T0 */
	enum action	 action;
	enum action	 would;
	bool		 monitored;
	const char	*incident;
	const struct rid *ids;
	size_t		 nids;
};

static const struct rid ids1[] = {
	{ 0, "C-1", false }, { 0, "C-2", false }, { 1, "V-1", true } };
static const struct rid ids2[] = { { 0, "C-3", false }, { 0, "C-2", false } };
static const struct rid ids3[] = { { 0, "C-1", false }, { 0, "C-9", false } };
static const struct rid ids4[] = { { 0, "C-3", false }, { 0, "C-4", false } };
static const struct rid ids5[] = { { 0, "C-1", false } };

#define N(a)	(sizeof (a) / sizeof (a)[0])

static const struct dec decs[] = {
	{ "alice@corp.example", NULL, 0, ACTION_REJECT, ACTION_REJECT, false,
	  "AAAA-0000-0001", ids1, N(ids1) },
	{ "Alice@Corp.Example", NULL, 100, ACTION_HOLD, ACTION_HOLD, false,
	  "AAAA-0000-0002", ids2, N(ids2) },
	{ "bob@corp.example", NULL, 150, ACTION_REJECT, ACTION_REJECT, false,
	  "AAAA-0000-0003", ids3, N(ids3) },
	/* Logged in as alice, writing as billing@: still alice's mail.  A
	 * plain pass opens no incident. */
	{ "billing@corp.example", "alice@corp.example", 200, ACTION_PASS,
	  ACTION_PASS, false, "AAAA-0000-0004", ids4, N(ids4) },
	/* Monitor mode held back a reject: an incident all the same. */
	{ "alice@corp.example", NULL, 300, ACTION_PASS, ACTION_REJECT, true,
	  "AAAA-0000-0005", ids5, N(ids5) },
	/* Clean, tagged. */
	{ "alice@corp.example", NULL, 400, ACTION_TAG, ACTION_TAG, false,
	  "AAAA-0000-0006", NULL, 0 },
};

struct wfix {
	struct conf		 conf;
	struct conf_list	 lists[2];
	struct tmp		 t;
	char			*path;
	time_t			 t0;
	struct store		*store;
};

static void
wfix_init(struct wfix *fx, time_t t0)
{
	char err[256];

	memset(fx, 0, sizeof *fx);
	fx->lists[0].name = (char *)"customers";
	fx->lists[1].name = (char *)"vip";
	fx->conf.lists = fx->lists;
	fx->conf.nlists = 2;
	fx->conf.node = (char *)"gw1";
	fx->t0 = t0;
	tmp_init(&fx->t);
	fx->path = tmp_path(&fx->t, "audit.log");
	if (audit_open(fx->path, err, sizeof err) != 0)
		fail_msg("audit_open: %s", err);
}

static void
wfix_clear(struct wfix *fx)
{
	audit_close();
	g_free(fx->path);
	tmp_clear(&fx->t);
}

/* One decision as the milter records it: an audit line through
 * audit_write and, with a store, the stream entry through store_account
 * with the fields milter.c fills. */
static void
record(struct wfix *fx, const struct dec *d, const struct rid *extra,
    size_t nextra)
{
	struct envelope env;
	struct pipeline_result r;
	struct audit_entry ae;
	struct store_event ev;
	struct store_record *sr;
	const struct finding_record **recs;
	char err[256];
	size_t i, n;

	envelope_init(&env);
	assert_int_equal(envelope_set(&env.mail_from, d->mail_from), 0);
	if (d->auth_user != NULL)
		assert_int_equal(envelope_set(&env.auth_user, d->auth_user),
		    0);
	memset(&r, 0, sizeof r);
	verdict_init(&r.verdict);
	r.verdict.action = d->action;
	(void)g_strlcpy(r.verdict.incident, d->incident,
	    sizeof r.verdict.incident);
	r.text = textseg_new();
	assert_non_null(textseg_add(r.text, "body", "text/plain", NULL, NULL,
	    "x", 1));
	assert_int_equal(findings_init(&r.findings, 4), 0);
	for (i = 0; i < d->nids; i++)
		assert_int_equal(findings_add_record(&r.findings, (uint32_t)i,
		    d->ids[i].id, d->ids[i].list, d->ids[i].canary, 0,
		    KIND_MOBILE), 1);
	for (i = 0; i < nextra; i++)
		assert_int_equal(findings_add_record(&r.findings,
		    (uint32_t)(1000 + i), extra[i].id, extra[i].list,
		    extra[i].canary, 0, KIND_MOBILE), 1);
	r.outcome.sender = d->auth_user != NULL ? d->auth_user : d->mail_from;
	r.outcome.would = d->would;
	r.outcome.monitored = d->monitored;
	r.size = 1000;

	memset(&ae, 0, sizeof ae);
	ae.when = fx->t0 + d->at;
	ae.conf = &fx->conf;
	ae.env = &env;
	ae.result = &r;
	ae.outcome = &r.outcome;
	if (audit_write(&ae, err, sizeof err) != 0)
		fail_msg("audit_write: %s", err);

	if (fx->store != NULL) {
		/* What milter.c passes (see the report to the lead). */
		recs = findings_sorted(&r.findings, &n);
		sr = g_new0(struct store_record, n + 1);
		for (i = 0; i < n; i++) {
			sr[i].list = recs[i]->list < fx->conf.nlists ?
			    fx->conf.lists[recs[i]->list].name : "?";
			sr[i].id = recs[i]->id;
			sr[i].canary = recs[i]->canary;
		}
		memset(&ev, 0, sizeof ev);
		ev.when = fx->t0 + d->at;
		ev.node = fx->conf.node;
		ev.sender = r.outcome.sender;
		ev.mail_from = env.mail_from;
		ev.incident = d->action != ACTION_PASS || d->monitored ?
		    d->incident : NULL;
		ev.action = action_name(d->action);
		ev.monitor = d->monitored;
		ev.would = action_name(d->would);
		ev.bytes = r.size;
		ev.records = findings_records(&r.findings);
		ev.record_ids = sr;
		ev.nrecord_ids = n;
		if (store_account(fx->store, &ev, err, sizeof err) != 0)
			fail_msg("store_account: %s", err);
		g_free(sr);
		g_free(recs);
	}

	findings_free(&r.findings);
	r.text = textseg_free(r.text);
	verdict_clear(&r.verdict);
	envelope_clear(&env);
}

static void
record_officer(struct wfix *fx, const char *event, const char *incident)
{
	struct audit_officer o = { .event = event, .incident = incident,
	    .officer = "carol", .reason = "asked, \"twice\"\n", .node = "gw1",
	    .ok = true };
	struct store_officer_event so = { .event = event, .incident = incident,
	    .officer = "carol", .reason = o.reason, .node = "gw1",
	    .ok = true };
	char err[256];

	if (audit_write_officer(&o, err, sizeof err) != 0)
		fail_msg("audit_write_officer: %s", err);
	if (fx->store != NULL && store_officer(fx->store, &so, err,
	    sizeof err) != 0)
		fail_msg("store_officer: %s", err);
}

static void
record_all(struct wfix *fx)
{
	size_t i;

	for (i = 0; i < N(decs); i++) {
		record(fx, &decs[i], NULL, 0);
		if (i == 1)
			record_officer(fx, "release", decs[i].incident);
	}
	record_officer(fx, "delete", decs[0].incident);
}

/* The expected answers for alice over decs, by query. */
static void
check_alice(const struct affected_result *res, time_t T, int which)
{
	const struct want all[] = {
		{ "customers", "C-1", false, T, T + 300, 2,
		  "AAAA-0000-0001,AAAA-0000-0005" },
		{ "customers", "C-2", false, T, T + 100, 2,
		  "AAAA-0000-0001,AAAA-0000-0002" },
		{ "customers", "C-3", false, T + 100, T + 200, 2,
		  "AAAA-0000-0002" },
		{ "customers", "C-4", false, T + 200, T + 200, 1, "" },
		{ "vip", "V-1", true, T, T, 1, "AAAA-0000-0001" },
	};
	/* since T+100 (inclusive), until T+300 (exclusive). */
	const struct want window[] = {
		{ "customers", "C-2", false, T + 100, T + 100, 1,
		  "AAAA-0000-0002" },
		{ "customers", "C-3", false, T + 100, T + 200, 2,
		  "AAAA-0000-0002" },
		{ "customers", "C-4", false, T + 200, T + 200, 1, "" },
	};
	/* reject and hold only. */
	const struct want blocked[] = {
		{ "customers", "C-1", false, T, T, 1, "AAAA-0000-0001" },
		{ "customers", "C-2", false, T, T + 100, 2,
		  "AAAA-0000-0001,AAAA-0000-0002" },
		{ "customers", "C-3", false, T + 100, T + 100, 1,
		  "AAAA-0000-0002" },
		{ "vip", "V-1", true, T, T, 1, "AAAA-0000-0001" },
	};
	/* pass only: what went out. */
	const struct want passed[] = {
		{ "customers", "C-1", false, T + 300, T + 300, 1,
		  "AAAA-0000-0005" },
		{ "customers", "C-3", false, T + 200, T + 200, 1, "" },
		{ "customers", "C-4", false, T + 200, T + 200, 1, "" },
	};

	switch (which) {
	case 0:
		check(res, all, N(all), "all");
		assert_int_equal(res->decisions, 5);
		break;
	case 1:
		check(res, window, N(window), "window");
		assert_int_equal(res->decisions, 2);
		break;
	case 2:
		check(res, blocked, N(blocked), "reject+hold");
		assert_int_equal(res->decisions, 2);
		break;
	case 3:
		check(res, passed, N(passed), "pass");
		assert_int_equal(res->decisions, 2);
		break;
	}
	assert_int_equal(res->incomplete, 0);
}

static void
set_query(struct affected_query *q, time_t T, int which)
{
	memset(q, 0, sizeof *q);
	q->sender = "ALICE@corp.example";
	if (which == 1) {
		q->since = T + 100;
		q->until = T + 300;
	} else if (which == 2)
		q->actions = 1u << ACTION_REJECT | 1u << ACTION_HOLD;
	else if (which == 3)
		q->actions = 1u << ACTION_PASS;
}

static void
test_from_writer(void **state)
{
	struct wfix fx;
	struct affected_query q;
	struct affected_result res;
	const char *paths[1];
	char *text;
	int which;

	(void)state;
	wfix_init(&fx, iso("2026-11-30T07:00:00Z"));
	record_all(&fx);
	audit_close();
	paths[0] = fx.path;
	/* The writer's lines say what the reader expects of them. */
	assert_true(g_file_get_contents(fx.path, &text, NULL, NULL));
	assert_non_null(strstr(text, "{\"type\":\"decision\",\"time\":"));
	assert_non_null(strstr(text, "{\"type\":\"officer\",\"time\":"));
	g_free(text);
	for (which = 0; which < 4; which++) {
		set_query(&q, fx.t0, which);
		audit_query(paths, 1, &q, &res);
		check_alice(&res, fx.t0, which);
		assert_int_equal(res.skipped, 0);
		affected_clear(&res);
	}
	/* Bob's one message. */
	q.sender = "bob@corp.example";
	q.actions = 0;
	audit_query(paths, 1, &q, &res);
	assert_int_equal(res.nrecords, 2);
	assert_string_equal(res.records[0].id, "C-1");
	assert_string_equal(res.records[1].id, "C-9");
	assert_string_equal(res.records[1].incidents, "AAAA-0000-0003");
	affected_clear(&res);
	wfix_clear(&fx);
}

/* ------------------------------------------------------------ output */

static void
test_csv(void **state)
{
	struct tmp t;
	struct affected_record recs[2] = {
		{ .list = (char *)"customers", .id = (char *)"C,1\"x\"",
		  .canary = false, .first = 0, .last = 0, .messages = 3,
		  .incidents = (char *)"A-1,A-2" },
		{ .list = (char *)"vip", .id = (char *)"V-1", .canary = true,
		  .messages = 1, .incidents = (char *)"" },
	};
	struct affected_result res = { .records = recs, .nrecords = 2 };
	struct csv_reader *cr;
	char *path, *text, **fields, err[256];
	size_t *lens, n, line;
	FILE *f;

	(void)state;
	recs[0].first = iso("2026-11-30T07:34:11Z");
	recs[0].last = iso("2026-12-01T00:00:00Z");
	recs[1].first = recs[1].last = iso("2026-11-30T08:00:00Z");
	tmp_init(&t);
	path = tmp_path(&t, "out.csv");
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(affected_write_csv(f, &res), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	assert_string_equal(text,
	    "list,record_id,canary,first_seen,last_seen,messages,incidents\r\n"
	    "customers,\"C,1\"\"x\"\"\",false,2026-11-30T07:34:11Z,"
	    "2026-12-01T00:00:00Z,3,\"A-1,A-2\"\r\n"
	    "vip,V-1,true,2026-11-30T08:00:00Z,2026-11-30T08:00:00Z,1,\r\n");
	g_free(text);

	/* Our own RFC 4180 reader gets the id back whole. */
	assert_non_null(cr = csv_open(path, NULL, err, sizeof err));
	assert_int_equal(csv_next(cr, &fields, &lens, &n, &line, err,
	    sizeof err), 1);
	assert_int_equal(n, 7);
	assert_int_equal(csv_next(cr, &fields, &lens, &n, &line, err,
	    sizeof err), 1);
	assert_int_equal(n, 7);
	assert_string_equal(fields[1], "C,1\"x\"");
	assert_string_equal(fields[6], "A-1,A-2");
	assert_int_equal(csv_next(cr, &fields, &lens, &n, &line, err,
	    sizeof err), 1);
	assert_string_equal(fields[6], "");
	assert_int_equal(csv_next(cr, &fields, &lens, &n, &line, err,
	    sizeof err), 0);
	cr = csv_close(cr);

	/* A full disk is an error. */
	if ((f = fopen("/dev/full", "w")) != NULL) {
		assert_int_equal(affected_write_csv(f, &res), -1);
		(void)fclose(f);
	}
	g_free(path);
	tmp_clear(&t);
}

static void
test_json(void **state)
{
	struct affected_record recs[1] = {
		{ .list = (char *)"customers", .id = (char *)"C,1\"x\"",
		  .canary = true, .messages = 2,
		  .incidents = (char *)"A-1,A-2" },
	};
	struct affected_result res = { .records = recs, .nrecords = 1,
	    .decisions = 4, .incomplete = 1, .skipped = 2 };
	struct affected_query q = { .sender = "alice@corp.example",
	    .actions = 1u << ACTION_REJECT | 1u << ACTION_PASS };
	JsonParser *p;
	JsonObject *o, *qo, *r;
	JsonArray *a;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	recs[0].first = iso("2026-11-30T07:34:11Z");
	recs[0].last = iso("2026-11-30T08:00:00Z");
	q.since = iso("2026-11-01T00:00:00Z");
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(affected_write_json(f, &q, &res), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(len > 0 && buf[len - 1] == '\n');
	p = json_parser_new();
	if (!json_parser_load_from_data(p, buf, (gssize)len, NULL))
		fail_msg("not JSON: %s", buf);
	o = json_node_get_object(json_parser_get_root(p));
	qo = json_object_get_object_member(o, "query");
	assert_string_equal(json_object_get_string_member(qo, "sender"),
	    "alice@corp.example");
	assert_string_equal(json_object_get_string_member(qo, "since"),
	    "2026-11-01T00:00:00Z");
	assert_true(json_object_get_null_member(qo, "until"));
	a = json_object_get_array_member(qo, "actions");
	assert_int_equal(json_array_get_length(a), 2);
	assert_string_equal(json_array_get_string_element(a, 0), "pass");
	assert_string_equal(json_array_get_string_element(a, 1), "reject");
	assert_int_equal(json_object_get_int_member(o, "decisions"), 4);
	assert_int_equal(json_object_get_int_member(o, "incomplete"), 1);
	assert_int_equal(json_object_get_int_member(o, "skipped"), 2);
	a = json_object_get_array_member(o, "records");
	assert_int_equal(json_array_get_length(a), 1);
	r = json_array_get_object_element(a, 0);
	assert_string_equal(json_object_get_string_member(r, "id"),
	    "C,1\"x\"");
	assert_true(json_object_get_boolean_member(r, "canary"));
	assert_string_equal(json_object_get_string_member(r, "first_seen"),
	    "2026-11-30T07:34:11Z");
	assert_string_equal(json_object_get_string_member(r, "last_seen"),
	    "2026-11-30T08:00:00Z");
	assert_int_equal(json_object_get_int_member(r, "messages"), 2);
	a = json_object_get_array_member(r, "incidents");
	assert_int_equal(json_array_get_length(a), 2);
	assert_string_equal(json_array_get_string_element(a, 1), "A-2");
	g_object_unref(p);
	free(buf);
}

/* --------------------------------------------------- a real Redis */

struct rfix {
	struct testredis srv;
	struct tmp	 t;		/* the server's dir */
};

static struct store *
redis_store(const struct testredis *srv)
{
	struct store_conf sc;
	struct store *s;
	char err[256] = "";

	memset(&sc, 0, sizeof sc);
	sc.redis = true;
	sc.host = (char *)"127.0.0.1";
	sc.port = srv->port;
	sc.password = (char *)"";
	sc.prefix = (char *)"custos:";
	sc.connect_timeout_ms = 1000;
	sc.command_timeout_ms = 2000;
	sc.windows[0] = 3600;
	sc.nwindows = 1;
	sc.stream_maxlen = 10000;
	if ((s = store_new(&sc, err, sizeof err)) == NULL)
		fail_msg("store_new: %s", err);
	return s;
}

/* The server is started and stopped around the test, so that a failed
 * assertion does not leave it running. */
static int
redis_teardown(void **state)
{
	struct rfix *f = *state;

	testredis_stop(&f->srv);
	if (f->t.dir[0] != '\0')
		tmp_clear(&f->t);
	g_free(f);
	return 0;
}

/* None without redis-server: the test then skips (fails under CI). */
static int
redis_setup(void **state)
{
	struct rfix *f = g_new0(struct rfix, 1);

	*state = f;
	if (testredis_path() == NULL)
		return 0;
	tmp_init(&f->t);
	if (testredis_start(&f->srv, f->t.dir, NULL) != 0) {
		print_error("redis-server did not start on port %d\n",
		    f->srv.port);
		(void)redis_teardown(state);
		return -1;
	}
	return 0;
}

/* The same decisions through audit_write and store_account: both
 * sources give the same answer, for every query. */
static void
test_store_same(void **state)
{
	struct rfix *f = *state;
	struct wfix fx;
	struct affected_query q;
	struct affected_result a, b;
	struct rid *many;
	const char *paths[1];
	char err[256], *ids;
	int which;
	size_t i;

	testredis_need(&f->srv);
	/* Near now: stream ids are Redis' clock, "time" ours. */
	wfix_init(&fx, time(NULL) / 60 * 60 - 600);
	fx.store = redis_store(&f->srv);
	record_all(&fx);
	paths[0] = fx.path;
	for (which = 0; which < 4; which++) {
		set_query(&q, fx.t0, which);
		audit_query(paths, 1, &q, &a);
		check_alice(&a, fx.t0, which);
		err[0] = '\0';
		if (affected_from_store(fx.store, &q, &b, err, sizeof err) != 0)
			fail_msg("affected_from_store: %s", err);
		same(&a, &b, "store vs audit");
		assert_int_equal(b.skipped, 0);
		affected_clear(&a);
		affected_clear(&b);
	}

	/* 1200 records in one message: both keep the same first 1000 and
	 * both say the list is incomplete. */
	many = g_new0(struct rid, 1200);
	ids = g_malloc0(1200 * 16);
	for (i = 0; i < 1200; i++) {
		(void)snprintf(ids + i * 16, 16, "M-%04zu", i);
		many[i].id = ids + i * 16;
	}
	{
		struct dec d = decs[0];

		d.at = 500;
		d.incident = "AAAA-0000-0007";
		record(&fx, &d, many, 1200);
	}
	set_query(&q, fx.t0, 0);
	audit_query(paths, 1, &q, &a);
	if (affected_from_store(fx.store, &q, &b, err, sizeof err) != 0)
		fail_msg("affected_from_store: %s", err);
	same(&a, &b, "store vs audit, many");
	assert_int_equal(a.incomplete, 1);
	/* Sorted by list: C-1, C-2 and M-0000..M-0997 make the 1000; V-1
	 * and the rest are cut. */
	assert_int_equal(a.nrecords, 5 + 998);
	affected_clear(&a);
	affected_clear(&b);
	g_free(many);
	g_free(ids);

	fx.store = store_free(fx.store);
	wfix_clear(&fx);
}

/* The in-process store keeps no stream: an error that says where to
 * look, not an empty answer. */
static void
test_store_memory(void **state)
{
	struct store_conf sc;
	struct store *s;
	struct affected_query q = { .sender = "alice@corp.example" };
	struct affected_result res;
	char err[256] = "";

	(void)state;
	memset(&sc, 0, sizeof sc);
	sc.windows[0] = 3600;
	sc.nwindows = 1;
	assert_non_null(s = store_new(&sc, err, sizeof err));
	assert_int_equal(affected_from_store(s, &q, &res, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "audit log"));
	(void)store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_lines),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_gz),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_from_writer),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_json),
		cmocka_unit_test_setup_teardown(test_store_same, redis_setup,
		    redis_teardown),
		cmocka_unit_test(test_store_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
