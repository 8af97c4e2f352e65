/* audit.c - the JSON audit log: decisions and officers' actions (see
 * audit.h).
 *
 * Owns one process-wide descriptor and the path it was opened from,
 * behind a rwlock: writers share the read side, since O_APPEND makes
 * each write(2) land whole at the end of the file; audit_open, reopen
 * and close take the write side to swap the descriptor.  A line is
 * built in memory before the lock is taken, so the lock is held only
 * for the write.
 *
 * Fails: audit_open and audit_reopen return -1 with err and keep the
 * descriptor they had (reopen keeps writing to the rotated file rather
 * than lose lines); audit_write returns -1 with err when the write
 * fails.  None of them exits, and none of them logs: the caller does. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>

#include "errbuf.h"
#include "fdio.h"
#include "audit.h"
#include "report.h"
#include "json.h"

/* Record ids per line.  XXX A message with a whole customer list in it
 * would otherwise make a line of megabytes, which SIEM collectors cut or
 * drop; "records" keeps the true count and "record_ids_omitted" says how
 * many ids are missing (the held message, if any, still has them). */
#define AUDIT_MAX_RECORD_IDS	1000

static pthread_rwlock_t	 audit_lock = PTHREAD_RWLOCK_INITIALIZER;
static int		 audit_fd = -1;		/* under audit_lock */
static char		*audit_path;		/* under audit_lock */

static int
audit_openfd(const char *path, char *err, size_t errlen)
{
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd < 0)
		errbuf_set(err, errlen, "audit log %s: %s", path,
		    g_strerror(errno));
	return fd;
}

int
audit_open(const char *path, char *err, size_t errlen)
{
	char *oldpath;
	int fd = -1, oldfd;

	if (path != NULL && *path != '\0' &&
	    (fd = audit_openfd(path, err, errlen)) < 0)
		return -1;
	(void)pthread_rwlock_wrlock(&audit_lock);
	oldfd = audit_fd;
	oldpath = audit_path;
	audit_fd = fd;
	audit_path = fd >= 0 ? g_strdup(path) : NULL;
	(void)pthread_rwlock_unlock(&audit_lock);
	if (oldfd >= 0)
		(void)close(oldfd);
	g_free(oldpath);
	return 0;
}

int
audit_reopen(char *err, size_t errlen)
{
	int fd, oldfd, rc = 0;

	/* Under the write lock throughout, so a concurrent audit_open
	 * cannot be undone by a reopen of the path it replaced. */
	(void)pthread_rwlock_wrlock(&audit_lock);
	if (audit_path == NULL)
		goto out;
	if ((fd = audit_openfd(audit_path, err, errlen)) < 0) {
		rc = -1;
		goto out;
	}
	oldfd = audit_fd;
	audit_fd = fd;
	if (oldfd >= 0)
		(void)close(oldfd);
out:
	(void)pthread_rwlock_unlock(&audit_lock);
	return rc;
}

void
audit_close(void)
{
	(void)audit_open("", NULL, 0);
}

/* RFC 3339, UTC, milliseconds: "2024-05-01T08:30:12.345Z". */
static void
audit_time(struct json *j, time_t when, int when_ms)
{
	struct timespec ts;
	struct tm tm;
	char buf[40];
	long ms = when_ms;

	if (when == 0 && clock_gettime(CLOCK_REALTIME, &ts) == 0) {
		when = ts.tv_sec;
		ms = ts.tv_nsec / 1000000;
	}
	if (gmtime_r(&when, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		json_null(j);
		return;
	}
	(void)snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
	    ".%03ldZ", ms);
	json_string(j, buf);
}

struct audit_domain {
	char		*domain;
	const char	*class;		/* NULL: no config to class it */
	const char	*partner;	/* partner name, or NULL */
	size_t		 count;
};

static const char *
audit_class_name(enum rcpt_class c)
{
	switch (c) {
	case RCPT_INTERNAL:	return "internal";
	case RCPT_PARTNER:	return "partner";
	case RCPT_EXTERNAL:	return "external";
	}
	return "external";
}

/* The domain of an address, lower case, without a trailing dot; "" for
 * an address without one.  Only the part after the last '@' is kept:
 * the local part never reaches the log. */
static char *
audit_domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	char *d = g_ascii_strdown(at != NULL ? at + 1 : "", -1);
	size_t n = strlen(d);

	while (n > 0 && d[n - 1] == '.')
		d[--n] = '\0';
	return d;
}

/* Recipients as [{"domain","class","partner","count"}], one entry per
 * domain in the order first seen. */
static void
audit_recipients(struct json *j, const struct conf *c,
    const struct envelope *env)
{
	struct audit_domain *doms;
	GHashTable *index;
	size_t i, n = 0;

	json_key(j, "recipients");
	json_array_begin(j);
	if (env == NULL || env->nrcpt == 0) {
		json_array_end(j);
		return;
	}
	doms = g_new0(struct audit_domain, env->nrcpt);
	index = g_hash_table_new(g_str_hash, g_str_equal);
	for (i = 0; i < env->nrcpt; i++) {
		char *d = audit_domain_of(env->rcpt[i] != NULL ?
		    env->rcpt[i] : "");
		gpointer slot;
		int partner = -1;

		if (g_hash_table_lookup_extended(index, d, NULL, &slot)) {
			doms[GPOINTER_TO_SIZE(slot)].count++;
			g_free(d);
			continue;
		}
		doms[n].domain = d;
		doms[n].count = 1;
		if (c != NULL) {
			enum rcpt_class rc = policy_rcpt_class(&c->policy,
			    env->rcpt[i] != NULL ? env->rcpt[i] : "",
			    &partner);

			doms[n].class = audit_class_name(rc);
			if (rc == RCPT_PARTNER && partner >= 0 &&
			    (size_t)partner < c->policy.npartners)
				doms[n].partner =
				    c->policy.partners[partner].name;
		}
		g_hash_table_insert(index, d, GSIZE_TO_POINTER(n));
		n++;
	}
	for (i = 0; i < n; i++) {
		json_object_begin(j);
		json_kv_string(j, "domain", doms[i].domain);
		if (doms[i].class != NULL)
			json_kv_string(j, "class", doms[i].class);
		if (doms[i].partner != NULL)
			json_kv_string(j, "partner", doms[i].partner);
		json_kv_uint(j, "count", doms[i].count);
		json_object_end(j);
		g_free(doms[i].domain);
	}
	json_array_end(j);
	g_hash_table_destroy(index);
	g_free(doms);
}

/* What the engine found (report.c's fields, record ids capped), what
 * could not be read, and the list version. */
static void
audit_findings(struct json *j, const struct conf *c,
    const struct pipeline_result *r)
{
	size_t i;

	/* XXX capped so one message cannot make a multi-megabyte line a
	 * SIEM would drop; "records" always has the true total. */
	report_findings_fields(j, r, c, AUDIT_MAX_RECORD_IDS);
	json_key(j, "unscannable");
	json_array_begin(j);
	for (i = 0; r->text != NULL && i < r->text->nuns; i++) {
		json_object_begin(j);
		json_kv_string(j, "reason", r->text->uns[i].reason);
		json_kv_string(j, "where", r->text->uns[i].where);
		json_object_end(j);
	}
	json_array_end(j);
	json_kv_string(j, "list_version", r->findings.list_version);
}

static void
audit_build(struct json *j, const struct audit_entry *e)
{
	const struct conf *c = e->conf;
	const struct envelope *env = e->env;
	const struct pipeline_result *r = e->result;
	const struct policy_outcome *o = e->outcome;
	enum action action = r != NULL ? r->verdict.action : ACTION_PASS;
	bool monitor;
	size_t i;

	json_object_begin(j);
	json_kv_string(j, "type", "decision");
	json_key(j, "time");
	audit_time(j, e->when, e->when_ms);
	json_kv_string(j, "node", c != NULL ? c->node : NULL);
	json_kv_string(j, "queue_id", env != NULL ? env->qid : NULL);
	json_kv_string(j, "incident", r != NULL && r->verdict.incident[0] !=
	    '\0' ? r->verdict.incident : NULL);
	json_kv_string(j, "sender", env != NULL ? env->mail_from : NULL);
	json_kv_string(j, "auth_user", env != NULL ? env->auth_user : NULL);
	json_kv_string(j, "client", env != NULL ? env->client_addr : NULL);
	json_kv_string(j, "client_name", env != NULL ? env->client_name :
	    NULL);
	audit_recipients(j, c, env);
	json_kv_uint(j, "size", r != NULL ? r->size : 0);

	json_kv_string(j, "action", action_name(action));
	/* Under global monitor mode nothing is enforced, whether or not a
	 * rule matched this message. */
	monitor = (o != NULL && o->monitored) ||
	    (c != NULL && c->policy.monitor);
	json_kv_string(j, "mode", monitor ? "monitor" : "enforce");
	json_kv_string(j, "would", action_name(o != NULL ? o->would :
	    action));
	json_key(j, "rules");
	json_array_begin(j);
	for (i = 0; o != NULL && c != NULL && i < o->nmatched &&
	    i < G_N_ELEMENTS(o->matched); i++)
		if (o->matched[i] < c->policy.nrules)
			json_string(j, c->policy.rules[o->matched[i]].name);
	json_array_end(j);
	json_kv_string(j, "exemption", o != NULL ? o->exemption : NULL);

	if (r != NULL)
		audit_findings(j, c, r);
	json_key(j, "store_error");
	json_bool(j, e->store_error);
	json_key(j, "elapsed_ms");
	json_double(j, e->elapsed_ms, 3);
	json_object_end(j);
}

static void
audit_build_officer(struct json *j, const struct audit_officer *o)
{
	json_object_begin(j);
	json_kv_string(j, "type", "officer");
	json_key(j, "time");
	audit_time(j, 0, 0);
	json_kv_string(j, "node", o->node);
	json_kv_string(j, "event", o->event);
	json_kv_string(j, "incident", o->incident);
	json_kv_string(j, "officer", o->officer);
	json_kv_string(j, "reason", o->reason);
	json_kv_string(j, "detail", o->detail);
	json_key(j, "ok");
	json_bool(j, o->ok);
	json_kv_string(j, "error", o->error);
	json_object_end(j);
}

char *
audit_officer_json(const struct audit_officer *o, size_t *len)
{
	struct json j;

	json_init(&j);
	audit_build_officer(&j, o);
	return json_finish(&j, len);
}

char *
audit_json(const struct audit_entry *e, size_t *len)
{
	struct json j;

	json_init(&j);
	audit_build(&j, e);
	return json_finish(&j, len);
}

/* Nothing to build when nobody reads it. */
static bool
audit_is_open(void)
{
	bool is_open;

	(void)pthread_rwlock_rdlock(&audit_lock);
	is_open = audit_fd >= 0;
	(void)pthread_rwlock_unlock(&audit_lock);
	return is_open;
}

/* Appends one line (newline included) in one write(2). */
static int
audit_append(const char *line, size_t len, char *err, size_t errlen)
{
	int rc = 0, saved;

	(void)pthread_rwlock_rdlock(&audit_lock);
	if (audit_fd >= 0 && fd_write_all(audit_fd, line, len) != 0) {
		saved = errno;
		errbuf_set(err, errlen, "audit log %s: %s",
		    audit_path != NULL ? audit_path : "?", g_strerror(saved));
		rc = -1;
	}
	(void)pthread_rwlock_unlock(&audit_lock);
	return rc;
}

/* Ends the line built in j and appends it: the one place a line is
 * written, for decisions and officers' events alike. */
static int
audit_write_json(struct json *j, char *err, size_t errlen)
{
	char *line;
	size_t len;
	int rc;

	g_string_append_c(j->out, '\n');
	line = json_finish(j, &len);
	rc = audit_append(line, len, err, errlen);
	g_free(line);
	return rc;
}

int
audit_write(const struct audit_entry *e, char *err, size_t errlen)
{
	struct json j;

	if (!audit_is_open())
		return 0;
	json_init(&j);
	audit_build(&j, e);
	return audit_write_json(&j, err, errlen);
}

int
audit_write_officer(const struct audit_officer *o, char *err,
    size_t errlen)
{
	struct json j;

	if (!audit_is_open())
		return 0;
	json_init(&j);
	audit_build_officer(&j, o);
	return audit_write_json(&j, err, errlen);
}
