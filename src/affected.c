/* affected.c - who was exposed: one sender's records from the audit log
 * or the incident stream (see affected.h).
 *
 * Both sources are reduced to the same decision (time, the sender's
 * two names, enforced and would-be action, incident, record ids) and
 * go through one filter and one aggregation, so they cannot disagree
 * about what matches.  The audit log names the sender as "sender" (MAIL
 * FROM) and "auth_user"; the stream as "sender" (policy's: the auth user,
 * else MAIL FROM) and "mail_from": the query matches either name, so
 * asking for the address or the login finds the same mail.
 *
 * Owns, during a query, a table of records keyed by list and id; the
 * result it hands over is the caller's until affected_clear.
 *
 * Fails: -1 with err when a file cannot be opened or read (a corrupt
 * .gz included) or Redis cannot be asked.  A line or entry that is not
 * a readable decision is counted in skipped; officers' lines and
 * entries are not decisions and are passed over without counting. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "affected.h"
#include "errbuf.h"
#include "json.h"
#include "verdict.h"

/* An audit line longer than this is skipped, not read: a decision's
 * line is capped at 1000 record ids (audit.c), far below it. */
#define AFFECTED_MAX_LINE	(4u << 20)
#define AFFECTED_MAX_INCIDENTS	20
#define AFFECTED_READ_CHUNK	65536
/* Stream ids are Redis' clock, "time" the gateway's: read this much
 * more on either side and filter on "time". */
#define AFFECTED_CLOCK_SLACK	3600

/* One decision, whichever source it came from. */
struct aff_decision {
	time_t		 when;
	const char	*sender;	/* either name may be NULL */
	const char	*sender2;
	const char	*action;	/* as enforced */
	const char	*would;
	const char	*incident;
	JsonArray	*ids;		/* [{list, id, canary}], or NULL */
	gint64		 omitted;
};

struct aff_rec {
	char		*list;
	char		*id;
	bool		 canary;
	time_t		 first, last;
	size_t		 messages;
	uint64_t	 decision;	/* the last one that counted it */
	char		*incidents[AFFECTED_MAX_INCIDENTS];
	size_t		 nincidents;
};

struct aff_ctx {
	const struct affected_query *q;
	char		*sender;	/* the query's, without <> */
	GHashTable	*recs;		/* key (owned) -> struct aff_rec * */
	JsonParser	*parser;
	uint64_t	 decision;	/* decisions matched so far */
	size_t		 decisions, incomplete, skipped;
};

/* ------------------------------------------------------------ helpers */

static void
aff_rec_free(void *p)
{
	struct aff_rec *r = p;
	size_t i;

	for (i = 0; i < r->nincidents; i++)
		g_free(r->incidents[i]);
	g_free(r->list);
	g_free(r->id);
	g_free(r);
}

static int
aff_init(struct aff_ctx *cx, const struct affected_query *q,
    struct affected_result *out, char *err, size_t errlen)
{
	const char *s = q->sender;
	size_t n;

	memset(out, 0, sizeof *out);
	memset(cx, 0, sizeof *cx);
	if (s == NULL || *s == '\0') {
		errbuf_set(err, errlen, "affected: no sender given");
		return -1;
	}
	if (q->since != 0 && q->until != 0 && q->since >= q->until) {
		errbuf_set(err, errlen, "affected: since is not before until");
		return -1;
	}
	cx->q = q;
	/* "<alice@example.com>" as pasted from a log means the address. */
	n = strlen(s);
	if (n > 2 && s[0] == '<' && s[n - 1] == '>')
		cx->sender = g_strndup(s + 1, n - 2);
	else
		cx->sender = g_strdup(s);
	cx->recs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    aff_rec_free);
	cx->parser = json_parser_new();
	return 0;
}

static void
aff_done(struct aff_ctx *cx)
{
	if (cx->recs != NULL)
		g_hash_table_destroy(cx->recs);
	if (cx->parser != NULL)
		g_object_unref(cx->parser);
	g_free(cx->sender);
	memset(cx, 0, sizeof *cx);
}

static const char *
aff_str(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

/* "2024-05-01T08:30:12.345Z" (audit) or "...:12Z" (stream), to the
 * second.  -1 when it is not a time. */
static int
aff_parse_time(const char *s, time_t *out)
{
	GDateTime *dt;

	if (s == NULL || (dt = g_date_time_new_from_iso8601(s, NULL)) == NULL)
		return -1;
	*out = (time_t)g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return 0;
}

static void
aff_iso(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)g_strlcpy(buf, "", len);
}

/* ------------------------------------------------------ the aggregate */

static bool
aff_matches(const struct aff_ctx *cx, const struct aff_decision *d)
{
	const struct affected_query *q = cx->q;
	enum action a;

	if ((d->sender == NULL ||
	    g_ascii_strcasecmp(d->sender, cx->sender) != 0) &&
	    (d->sender2 == NULL ||
	    g_ascii_strcasecmp(d->sender2, cx->sender) != 0))
		return false;
	if (q->since != 0 && d->when < q->since)
		return false;
	if (q->until != 0 && d->when >= q->until)
		return false;
	if (q->actions != 0 && (action_parse(d->action, &a) != 0 ||
	    (q->actions & (1u << a)) == 0))
		return false;
	return true;
}

static void
aff_add_incident(struct aff_rec *r, const char *inc)
{
	size_t i;

	for (i = 0; i < r->nincidents; i++)
		if (strcmp(r->incidents[i], inc) == 0)
			return;
	if (r->nincidents < AFFECTED_MAX_INCIDENTS)
		r->incidents[r->nincidents++] = g_strdup(inc);
}

static void
aff_add_record(struct aff_ctx *cx, const struct aff_decision *d,
    const char *incident, const char *list, const char *id, bool canary)
{
	struct aff_rec *r;
	char *key;

	/* The length prefix keeps "a,b"+"c" apart from "a"+"b,c" whatever
	 * bytes the names hold. */
	key = g_strdup_printf("%zu:%s\x1f%s", strlen(list), list, id);
	if ((r = g_hash_table_lookup(cx->recs, key)) == NULL) {
		r = g_new0(struct aff_rec, 1);
		r->list = g_strdup(list);
		r->id = g_strdup(id);
		r->first = r->last = d->when;
		g_hash_table_insert(cx->recs, key, r);
	} else
		g_free(key);
	if (canary)
		r->canary = true;
	if (d->when < r->first)
		r->first = d->when;
	if (d->when > r->last)
		r->last = d->when;
	/* A record twice in one message is one message. */
	if (r->decision != cx->decision) {
		r->decision = cx->decision;
		r->messages++;
	}
	if (incident != NULL)
		aff_add_incident(r, incident);
}

/* Counts a decision that passed the filter into the aggregate. */
static void
aff_decision(struct aff_ctx *cx, const struct aff_decision *d)
{
	const char *incident = NULL, *list, *id;
	JsonNode *n, *c;
	JsonObject *o;
	guint i, len;

	if (!aff_matches(cx, d))
		return;
	cx->decisions++;
	cx->decision++;
	if (d->omitted > 0)
		cx->incomplete++;
	/* Only a decision that opened an incident names one: a plain
	 * pass's id is in no header and no stream entry, so it would lead
	 * nowhere (and the two sources would disagree). */
	if (d->incident != NULL && *d->incident != '\0' &&
	    ((d->action != NULL && strcmp(d->action, "pass") != 0) ||
	    (d->would != NULL && strcmp(d->would, "pass") != 0)))
		incident = d->incident;
	len = d->ids != NULL ? json_array_get_length(d->ids) : 0;
	for (i = 0; i < len; i++) {
		n = json_array_get_element(d->ids, i);
		if (!JSON_NODE_HOLDS_OBJECT(n))
			continue;
		o = json_node_get_object(n);
		if ((id = aff_str(o, "id")) == NULL)
			continue;
		if ((list = aff_str(o, "list")) == NULL)
			list = "?";
		c = json_object_get_member(o, "canary");
		aff_add_record(cx, d, incident, list, id, c != NULL &&
		    JSON_NODE_HOLDS_VALUE(c) &&
		    json_node_get_value_type(c) == G_TYPE_BOOLEAN &&
		    json_node_get_boolean(c));
	}
}

static int
aff_cmp(const void *a, const void *b)
{
	const struct affected_record *x = a, *y = b;
	int c;

	if ((c = strcmp(x->list, y->list)) != 0)
		return c;
	return strcmp(x->id, y->id);
}

/* Moves the aggregate into out, sorted. */
static void
aff_result(struct aff_ctx *cx, struct affected_result *out)
{
	GHashTableIter it;
	struct affected_record *ar;
	struct aff_rec *r;
	GString *inc;
	gpointer val;
	size_t i, n = 0;

	out->nrecords = g_hash_table_size(cx->recs);
	out->records = g_new0(struct affected_record, out->nrecords + 1);
	inc = g_string_new(NULL);
	g_hash_table_iter_init(&it, cx->recs);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		r = val;
		ar = &out->records[n++];
		ar->list = r->list;
		ar->id = r->id;
		r->list = r->id = NULL;
		ar->canary = r->canary;
		ar->first = r->first;
		ar->last = r->last;
		ar->messages = r->messages;
		g_string_truncate(inc, 0);
		for (i = 0; i < r->nincidents; i++)
			g_string_append_printf(inc, "%s%s", i > 0 ? "," : "",
			    r->incidents[i]);
		ar->incidents = g_strdup(inc->str);
	}
	g_string_free(inc, TRUE);
	qsort(out->records, out->nrecords, sizeof *out->records, aff_cmp);
	out->decisions = cx->decisions;
	out->incomplete = cx->incomplete;
	out->skipped = cx->skipped;
}

/* ------------------------------------------------------- the audit log */

/* One audit line.  Not JSON, not an object, no time or action: not a
 * decision, counted.  An officer's line (or a type we do not know yet)
 * is not a decision either, but nothing is wrong with it. */
static void
aff_line(struct aff_ctx *cx, const char *line, size_t len)
{
	struct aff_decision d;
	JsonNode *root, *n;
	JsonObject *o;
	const char *type;

	if (len == 0 || (len == 1 && line[0] == '\r'))
		return;
	if (!json_parser_load_from_data(cx->parser, line, (gssize)len, NULL) ||
	    (root = json_parser_get_root(cx->parser)) == NULL ||
	    !JSON_NODE_HOLDS_OBJECT(root))
		goto bad;
	o = json_node_get_object(root);
	/* Lines written before "type" existed are decisions. */
	if ((type = aff_str(o, "type")) != NULL &&
	    strcmp(type, "decision") != 0)
		return;
	memset(&d, 0, sizeof d);
	if (aff_parse_time(aff_str(o, "time"), &d.when) != 0 ||
	    (d.action = aff_str(o, "action")) == NULL)
		goto bad;
	d.sender = aff_str(o, "sender");
	d.sender2 = aff_str(o, "auth_user");
	d.would = aff_str(o, "would");
	d.incident = aff_str(o, "incident");
	if ((n = json_object_get_member(o, "record_ids")) != NULL &&
	    !JSON_NODE_HOLDS_NULL(n)) {
		if (!JSON_NODE_HOLDS_ARRAY(n))
			goto bad;
		d.ids = json_node_get_array(n);
	}
	if ((n = json_object_get_member(o, "record_ids_omitted")) != NULL &&
	    JSON_NODE_HOLDS_VALUE(n) &&
	    json_node_get_value_type(n) == G_TYPE_INT64)
		d.omitted = json_node_get_int(n);
	aff_decision(cx, &d);
	return;
bad:
	cx->skipped++;
}

/* The file as a stream of text: gunzipped when its name ends in .gz
 * (logrotate's compress). */
static GInputStream *
aff_open(const char *path, char *err, size_t errlen)
{
	GFile *f = g_file_new_for_path(path);
	GFileInputStream *fin;
	GZlibDecompressor *z;
	GInputStream *in;
	GError *gerr = NULL;

	fin = g_file_read(f, NULL, &gerr);
	g_object_unref(f);
	if (fin == NULL) {
		errbuf_set(err, errlen, "%s: %s", path, gerr->message);
		g_error_free(gerr);
		return NULL;
	}
	if (!g_str_has_suffix(path, ".gz"))
		return G_INPUT_STREAM(fin);
	/* XXX one gzip member: logrotate and gzip write one; a file made
	 * by concatenating .gz files would end after its first part. */
	z = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
	in = g_converter_input_stream_new(G_INPUT_STREAM(fin),
	    G_CONVERTER(z));
	g_object_unref(z);
	g_object_unref(fin);
	return in;
}

/* Reads path line by line into the aggregate.  Lines are cut by hand
 * rather than by GDataInputStream so that an overlong one is dropped
 * as it streams past instead of being held whole. */
static int
aff_file(struct aff_ctx *cx, const char *path, char *err, size_t errlen)
{
	GInputStream *in;
	GError *gerr = NULL;
	GString *line;
	char *buf, *p, *nl;
	gssize got;
	size_t take;
	bool overlong = false;
	int rc = -1;

	if ((in = aff_open(path, err, errlen)) == NULL)
		return -1;
	buf = g_malloc(AFFECTED_READ_CHUNK);
	line = g_string_sized_new(4096);
	while ((got = g_input_stream_read(in, buf, AFFECTED_READ_CHUNK, NULL,
	    &gerr)) > 0) {
		for (p = buf; p < buf + got; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(buf + got - p));
			take = (size_t)((nl != NULL ? nl : buf + got) - p);
			if (!overlong && line->len + take > AFFECTED_MAX_LINE) {
				overlong = true;
				g_string_truncate(line, 0);
			}
			if (!overlong)
				g_string_append_len(line, p, (gssize)take);
			if (nl == NULL)
				break;
			if (overlong)
				cx->skipped++;
			else
				aff_line(cx, line->str, line->len);
			g_string_truncate(line, 0);
			overlong = false;
		}
	}
	if (got < 0) {
		errbuf_set(err, errlen, "%s: %s", path, gerr->message);
		g_error_free(gerr);
		goto out;
	}
	/* A last line without its newline: a crash mid-write leaves half
	 * a line, which then fails to parse and is counted. */
	if (overlong)
		cx->skipped++;
	else if (line->len > 0)
		aff_line(cx, line->str, line->len);
	rc = 0;
out:
	g_string_free(line, TRUE);
	g_free(buf);
	(void)g_input_stream_close(in, NULL, NULL);
	g_object_unref(in);
	return rc;
}

int
affected_from_audit(const char *const *paths, size_t npaths,
    const struct affected_query *q, struct affected_result *out, char *err,
    size_t errlen)
{
	struct aff_ctx cx;
	size_t i;
	int rc = -1;

	if (aff_init(&cx, q, out, err, errlen) != 0)
		return -1;
	for (i = 0; i < npaths; i++)
		if (aff_file(&cx, paths[i], err, errlen) != 0)
			goto out;
	aff_result(&cx, out);
	rc = 0;
out:
	aff_done(&cx);
	return rc;
}

/* --------------------------------------------------- the Redis stream */

static int
aff_entry(const struct store_entry *e, void *arg)
{
	struct aff_ctx *cx = arg;
	struct aff_decision d;
	const char *type, *ids, *omitted;
	JsonNode *root;
	char *end;

	/* Entries written before "type" existed are decisions. */
	if ((type = store_entry_get(e, "type")) != NULL &&
	    strcmp(type, "decision") != 0)
		return 0;
	memset(&d, 0, sizeof d);
	if (aff_parse_time(store_entry_get(e, "time"), &d.when) != 0 ||
	    (d.action = store_entry_get(e, "action")) == NULL)
		goto bad;
	d.sender = store_entry_get(e, "sender");
	d.sender2 = store_entry_get(e, "mail_from");
	d.would = store_entry_get(e, "would");
	d.incident = store_entry_get(e, "incident");
	if ((omitted = store_entry_get(e, "record_ids_omitted")) != NULL) {
		errno = 0;
		d.omitted = (gint64)g_ascii_strtoll(omitted, &end, 10);
		if (errno != 0 || *end != '\0' || d.omitted < 0)
			goto bad;
	}
	if ((ids = store_entry_get(e, "record_ids")) != NULL &&
	    *ids != '\0') {
		if (!json_parser_load_from_data(cx->parser, ids, -1, NULL) ||
		    (root = json_parser_get_root(cx->parser)) == NULL ||
		    !JSON_NODE_HOLDS_ARRAY(root))
			goto bad;
		d.ids = json_node_get_array(root);
	}
	aff_decision(cx, &d);
	return 0;
bad:
	cx->skipped++;
	return 0;
}

int
affected_from_store(struct store *s, const struct affected_query *q,
    struct affected_result *out, char *err, size_t errlen)
{
	struct aff_ctx cx;
	time_t since = 0, until = 0;
	int rc = -1;

	if (aff_init(&cx, q, out, err, errlen) != 0)
		return -1;
	if (q->since > AFFECTED_CLOCK_SLACK)
		since = q->since - AFFECTED_CLOCK_SLACK;
	if (q->until != 0)
		until = q->until + AFFECTED_CLOCK_SLACK;
	if (store_stream_range(s, since, until, aff_entry, &cx, err, errlen)
	    != 0)
		goto out;
	aff_result(&cx, out);
	rc = 0;
out:
	aff_done(&cx);
	return rc;
}

/* ------------------------------------------------------------- output */

/* One CSV field, quoted when it must be (RFC 4180: a comma, a quote or
 * a line break; quotes doubled). */
static void
aff_csv_field(FILE *f, const char *s, bool last)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL)
		(void)fputs(s, f);
	else {
		(void)fputc('"', f);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				(void)fputc('"', f);
			(void)fputc(*p, f);
		}
		(void)fputc('"', f);
	}
	(void)fputs(last ? "\r\n" : ",", f);
}

int
affected_write_csv(FILE *f, const struct affected_result *res)
{
	const struct affected_record *r;
	char first[32], last[32], n[32];
	size_t i;

	(void)fputs("list,record_id,canary,first_seen,last_seen,messages,"
	    "incidents\r\n", f);
	for (i = 0; i < res->nrecords; i++) {
		r = &res->records[i];
		aff_iso(r->first, first, sizeof first);
		aff_iso(r->last, last, sizeof last);
		(void)snprintf(n, sizeof n, "%zu", r->messages);
		aff_csv_field(f, r->list, false);
		aff_csv_field(f, r->id, false);
		aff_csv_field(f, r->canary ? "true" : "false", false);
		aff_csv_field(f, first, false);
		aff_csv_field(f, last, false);
		aff_csv_field(f, n, false);
		aff_csv_field(f, r->incidents != NULL ? r->incidents : "",
		    true);
	}
	return fflush(f) != 0 || ferror(f) ? -1 : 0;
}

static void
aff_json_time(struct json *j, const char *key, time_t t)
{
	char buf[32];

	json_key(j, key);
	if (t == 0) {
		json_null(j);
		return;
	}
	aff_iso(t, buf, sizeof buf);
	json_string(j, buf);
}

int
affected_write_json(FILE *f, const struct affected_query *q,
    const struct affected_result *res)
{
	const struct affected_record *r;
	struct json j;
	char **inc, *s;
	size_t i, k, len;
	int a, rc;

	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "query");
	json_object_begin(&j);
	json_kv_string(&j, "sender", q->sender);
	aff_json_time(&j, "since", q->since);
	aff_json_time(&j, "until", q->until);
	json_key(&j, "actions");
	if (q->actions == 0)
		json_null(&j);
	else {
		json_array_begin(&j);
		for (a = ACTION_PASS; a <= ACTION_TEMPFAIL; a++)
			if (q->actions & (1u << a))
				json_string(&j, action_name((enum action)a));
		json_array_end(&j);
	}
	json_object_end(&j);
	json_kv_uint(&j, "decisions", res->decisions);
	json_kv_uint(&j, "incomplete", res->incomplete);
	json_kv_uint(&j, "skipped", res->skipped);
	json_key(&j, "records");
	json_array_begin(&j);
	for (i = 0; i < res->nrecords; i++) {
		r = &res->records[i];
		json_object_begin(&j);
		json_kv_string(&j, "list", r->list);
		json_kv_string(&j, "id", r->id);
		json_key(&j, "canary");
		json_bool(&j, r->canary);
		aff_json_time(&j, "first_seen", r->first);
		aff_json_time(&j, "last_seen", r->last);
		json_kv_uint(&j, "messages", r->messages);
		json_key(&j, "incidents");
		json_array_begin(&j);
		if (r->incidents != NULL && *r->incidents != '\0') {
			inc = g_strsplit(r->incidents, ",", -1);
			for (k = 0; inc[k] != NULL; k++)
				json_string(&j, inc[k]);
			g_strfreev(inc);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	g_string_append_c(j.out, '\n');
	s = json_finish(&j, &len);
	rc = fwrite(s, 1, len, f) != len || fflush(f) != 0 ? -1 : 0;
	g_free(s);
	return rc;
}

void
affected_clear(struct affected_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->nrecords; i++) {
		g_free(res->records[i].list);
		g_free(res->records[i].id);
		g_free(res->records[i].incidents);
	}
	g_free(res->records);
	memset(res, 0, sizeof *res);
}
