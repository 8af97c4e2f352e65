/* officer.c - quarantine review and incident response (see officer.h).
 *
 * The tool runs as an officer, on any node: it reads the configuration
 * for the store, the key, the relay and the audit log, and does one
 * thing.  What it prints about a message comes from the store's
 * metadata (never a value in clear) and, for `show`, from the decrypted
 * message's envelope and header lines, which the officer is entitled to
 * see. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "affected.h"
#include "audit.h"
#include "conf.h"
#include "envelope.h"
#include "json.h"
#include "officer.h"
#include "qstore.h"
#include "smtp.h"
#include "store.h"
#include "token.h"

/* What every subcommand works with. */
struct officer_ctx {
	struct conf	*conf;
	struct store	*stream;	/* Redis incident stream, or NULL */
	char		 officer[256];
	const char	*config;
};

static void
officer_usage(FILE *fp)
{
	(void)fprintf(fp,
"usage: custos quarantine list [-c config] [--sender ADDR] [--since T]\n"
"                   [--until T] [--rule NAME] [--action A] [--status S]\n"
"                   [--json]\n"
"       custos quarantine show [-c config] [--json] [--raw FILE] ID\n"
"       custos quarantine release [-c config] --reason TEXT ID\n"
"       custos quarantine delete [-c config] --reason TEXT ID\n"
"       custos quarantine purge [-c config] [--older-than DURATION]\n"
"       custos incidents affected [-c config] --sender ADDR [--since T]\n"
"                   [--until T] [--action A,B] [--format csv|json]\n"
"                   [--source audit|redis] [--audit-log FILE]...\n"
"  --officer NAME  who acts (default: the sudo user, else the Unix user)\n"
"  T: 2026-11-30, 2026-11-30T08:00[:00][Z] (UTC), @EPOCH, or 7d (ago)\n"
"  S: quarantined, held, released, deleted\n");
}

/* Parses a time as officers type it.  0, or -1 after saying why. */
static int
officer_parse_time(const char *s, time_t *out)
{
	static const char *const fmts[] = {
		"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
		"%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
		"%Y-%m-%d", NULL
	};
	struct tm tm;
	unsigned ago;
	char *end;
	size_t i;

	if (s[0] == '@') {
		long long v = strtoll(s + 1, &end, 10);

		if (*end != '\0' || end == s + 1)
			goto bad;
		*out = (time_t)v;
		return 0;
	}
	if (conf_parse_duration(s, &ago) == 0 && !strchr(s, '-')) {
		*out = time(NULL) - (time_t)ago;
		return 0;
	}
	for (i = 0; fmts[i] != NULL; i++) {
		memset(&tm, 0, sizeof tm);
		end = strptime(s, fmts[i], &tm);
		if (end != NULL && *end == '\0') {
			*out = timegm(&tm);
			return 0;
		}
	}
bad:
	(void)fprintf(stderr, "custos: \"%s\" is not a time\n", s);
	return -1;
}

static void
officer_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0) {
		(void)snprintf(buf, len, "-");
		return;
	}
	(void)gmtime_r(&t, &tm);
	(void)strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* --officer, else the user sudo ran for, else the Unix user. */
static void
officer_identity(const char *given, char *buf, size_t len)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (given != NULL && *given != '\0')
		(void)snprintf(buf, len, "%s", given);
	else if (sudo != NULL && *sudo != '\0')
		(void)snprintf(buf, len, "%s", sudo);
	else if ((pw = getpwuid(getuid())) != NULL)
		(void)snprintf(buf, len, "%s", pw->pw_name);
	else
		(void)snprintf(buf, len, "uid %ld", (long)getuid());
}

/* Loads the config (no engine: the officer's tool does not scan), the
 * quarantine key and store, the audit log and the incident stream. */
static int
officer_open(struct officer_ctx *oc, const char *config, const char *who,
    bool need_store)
{
	char err[512];

	memset(oc, 0, sizeof *oc);
	oc->config = config != NULL ? config : CONF_DEFAULT_PATH;
	officer_identity(who, oc->officer, sizeof oc->officer);
	if ((oc->conf = conf_load(oc->config, err, sizeof err)) == NULL) {
		(void)fprintf(stderr, "%s\n", err);
		return EX_CONFIG;
	}
	if (need_store &&
	    conf_open_quarantine(oc->conf, false, err, sizeof err) != 0) {
		(void)fprintf(stderr, "custos: %s\n", err);
		return 1;
	}
	if (audit_open(oc->conf->audit_log, err, sizeof err) != 0) {
		(void)fprintf(stderr, "custos: audit log: %s\n", err);
		return 1;
	}
	if (oc->conf->store.redis &&
	    (oc->stream = store_new(&oc->conf->store, err, sizeof err)) ==
	    NULL) {
		(void)fprintf(stderr, "custos: %s\n", err);
		return 1;
	}
	return 0;
}

static void
officer_close(struct officer_ctx *oc)
{
	audit_close();
	oc->stream = store_free(oc->stream);
	conf_unref(oc->conf);
	oc->conf = NULL;
}

/* An officer's action to the audit log and the incident stream.  The
 * action is done whatever happens here, so a failure is reported, not
 * undone; it makes the exit status 1 so scripts notice. */
static int
officer_audit(struct officer_ctx *oc, const char *event,
    const char *incident, const char *reason, const char *detail, bool ok,
    const char *error)
{
	struct audit_officer a;
	struct store_officer_event s;
	char err[256];
	int rc = 0;

	memset(&a, 0, sizeof a);
	a.event = event;
	a.incident = incident;
	a.officer = oc->officer;
	a.reason = reason;
	a.detail = detail;
	a.node = oc->conf->node;
	a.ok = ok;
	a.error = error;
	if (audit_write_officer(&a, err, sizeof err) != 0) {
		(void)fprintf(stderr, "custos: audit log: %s\n", err);
		rc = -1;
	}
	if (oc->stream != NULL) {
		memset(&s, 0, sizeof s);
		s.event = event;
		s.incident = incident;
		s.officer = oc->officer;
		s.reason = reason;
		s.detail = detail;
		s.node = oc->conf->node;
		s.ok = ok;
		s.error = error;
		if (store_officer(oc->stream, &s, err, sizeof err) != 0) {
			(void)fprintf(stderr, "custos: incident stream: %s\n",
			    err);
			rc = -1;
		}
	}
	return rc;
}

/* The entry id argument, canonical.  1 found (m filled), else printed. */
static int
officer_get(struct officer_ctx *oc, const char *arg, struct qmeta *m)
{
	char id[INCIDENT_ID_SIZE], err[256];
	int rc;

	if (incident_parse(arg, id) != 0) {
		(void)fprintf(stderr, "custos: \"%s\" is not an incident id "
		    "(like 7K2M-Q9XD-3F0A)\n", arg);
		return -1;
	}
	rc = qstore_get(oc->conf->qstore, id, m, err, sizeof err);
	if (rc < 0)
		(void)fprintf(stderr, "custos: %s: %s\n", id, err);
	else if (rc == 0)
		(void)fprintf(stderr, "custos: %s: no such entry in the "
		    "quarantine\n", id);
	return rc;
}

/* ------------------------------------------------------------ list */

struct officer_filter {
	const char	*sender;
	time_t		 since, until;
	const char	*rule;
	const char	*action;
	int		 status;	/* enum qstatus, -1 any */
	bool		 json;
	size_t		 shown;
};

static bool
officer_has_word(const char *csv, const char *word)
{
	char **v = g_strsplit(csv != NULL ? csv : "", ",", -1);
	bool found = false;
	size_t i;

	for (i = 0; v[i] != NULL && !found; i++)
		found = g_ascii_strcasecmp(g_strstrip(v[i]), word) == 0;
	g_strfreev(v);
	return found;
}

static void
officer_meta_json(struct json *j, const struct qmeta *m)
{
	char t[32], ch[32];

	officer_time(m->when, t, sizeof t);
	officer_time(m->changed, ch, sizeof ch);
	json_kv_string(j, "incident", m->id);
	json_kv_string(j, "time", t);
	json_kv_string(j, "status", qstatus_name(m->status));
	json_kv_string(j, "action", m->action);
	json_kv_string(j, "node", m->node);
	json_kv_string(j, "queue_id", m->queue_id);
	json_kv_string(j, "sender", m->sender);
	json_kv_string(j, "recipient_domains", m->recipients);
	json_kv_string(j, "rules", m->rules);
	json_kv_uint(j, "records", m->records);
	json_kv_uint(j, "size", m->size);
	json_key(j, "changed");
	if (m->changed != 0)
		json_string(j, ch);
	else
		json_null(j);
	json_kv_string(j, "officer", m->officer);
	json_kv_string(j, "reason", m->reason);
}

static int
officer_list_one(const struct qmeta *m, void *arg)
{
	struct officer_filter *f = arg;
	char t[32];

	if ((f->sender != NULL && g_ascii_strcasecmp(f->sender,
	    m->sender != NULL ? m->sender : "") != 0) ||
	    (f->since != 0 && m->when < f->since) ||
	    (f->until != 0 && m->when >= f->until) ||
	    (f->rule != NULL && !officer_has_word(m->rules, f->rule)) ||
	    (f->action != NULL && g_ascii_strcasecmp(f->action,
	    m->action != NULL ? m->action : "") != 0) ||
	    (f->status >= 0 && (int)m->status != f->status))
		return 0;
	if (f->json) {
		struct json j;
		char *out;

		json_init(&j);
		json_object_begin(&j);
		officer_meta_json(&j, m);
		json_object_end(&j);
		out = json_finish(&j, NULL);
		(void)printf("%s\n", out);
		g_free(out);
	} else {
		if (f->shown == 0)
			(void)printf("%-14s  %-23s  %-11s  %-10s  %7s  %9s  "
			    "%s\n", "INCIDENT", "TIME", "STATUS", "ACTION",
			    "RECORDS", "SIZE", "SENDER  RULES");
		officer_time(m->when, t, sizeof t);
		(void)printf("%-14s  %-23s  %-11s  %-10s  %7zu  %9zu  %s  %s\n",
		    m->id, t, qstatus_name(m->status),
		    m->action != NULL ? m->action : "-", m->records, m->size,
		    m->sender != NULL && *m->sender ? m->sender : "<>",
		    m->rules != NULL && *m->rules ? m->rules : "-");
	}
	f->shown++;
	return 0;
}

static int
officer_list(struct officer_ctx *oc, struct officer_filter *f)
{
	char err[256];

	if (qstore_list(oc->conf->qstore, officer_list_one, f, err,
	    sizeof err) != 0) {
		(void)fprintf(stderr, "custos: quarantine list: %s\n", err);
		return 1;
	}
	if (!f->json && f->shown == 0)
		(void)printf("no entries\n");
	return 0;
}

/* ------------------------------------------------------------ show */

static void
officer_gstring_free(gpointer s)
{
	(void)g_string_free(s, TRUE);
}

/* The findings of the decision, per place: from the audit object the
 * store keeps (record ids, masked samples, unscannable parts). */
static void
officer_show_findings(JsonObject *a)
{
	static const char *const arrays[] = { "record_ids", "samples",
	    "unscannable" };
	GHashTable *places = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, officer_gstring_free);
	GList *keys, *k;
	size_t i;
	guint n;

	for (i = 0; i < G_N_ELEMENTS(arrays); i++) {
		JsonArray *arr;

		if (!json_object_has_member(a, arrays[i]) ||
		    !JSON_NODE_HOLDS_ARRAY(json_object_get_member(a,
		    arrays[i])))
			continue;
		arr = json_object_get_array_member(a, arrays[i]);
		for (n = 0; n < json_array_get_length(arr); n++) {
			JsonObject *e = json_array_get_object_element(arr, n);
			const char *where = e != NULL &&
			    json_object_has_member(e, "where") ?
			    json_object_get_string_member(e, "where") : NULL;
			GString *s;

			if (e == NULL)
				continue;
			if (where == NULL)
				where = "message";
			if ((s = g_hash_table_lookup(places, where)) == NULL) {
				s = g_string_new(NULL);
				g_hash_table_insert(places, g_strdup(where), s);
			}
			if (i == 0)
				g_string_append_printf(s, "\n      record %s "
				    "(%s)%s", json_object_get_string_member(e,
				    "id"), json_object_has_member(e, "list") ?
				    json_object_get_string_member(e, "list") :
				    "?", json_object_has_member(e, "canary") &&
				    json_object_get_boolean_member(e,
				    "canary") ? " CANARY" : "");
			else if (i == 1)
				g_string_append_printf(s, "\n      sample %s "
				    "(%s)", json_object_get_string_member(e,
				    "sample"), json_object_has_member(e,
				    "kind") ? json_object_get_string_member(e,
				    "kind") : json_object_has_member(e,
				    "detector") ?
				    json_object_get_string_member(e,
				    "detector") : "?");
			else
				g_string_append_printf(s, "\n      not fully "
				    "scanned: %s",
				    json_object_get_string_member(e,
				    "reason"));
		}
	}
	keys = g_list_sort(g_hash_table_get_keys(places),
	    (GCompareFunc)strcmp);
	if (keys == NULL)
		(void)printf("Findings   none recorded\n");
	else
		(void)printf("Findings\n");
	for (k = keys; k != NULL; k = k->next)
		(void)printf("  in %s:%s\n", (const char *)k->data,
		    ((GString *)g_hash_table_lookup(places, k->data))->str);
	g_list_free(keys);
	g_hash_table_destroy(places);
}

/* Prints the envelope and the main header lines of the decrypted
 * message. */
static void
officer_show_message(const struct envelope *e, const char *raw, size_t len)
{
	static const char *const want[] = { "From", "To", "Cc", "Subject",
	    "Date", "Message-ID" };
	const char *p = raw, *end = raw + len;
	size_t i;

	(void)printf("Envelope   MAIL FROM:<%s>\n", e->mail_from ?
	    e->mail_from : "");
	for (i = 0; i < e->nrcpt; i++)
		(void)printf("           RCPT TO:<%s>\n", e->rcpt[i]);
	(void)printf("Headers\n");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		size_t w;

		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;
		for (w = 0; w < G_N_ELEMENTS(want); w++) {
			size_t wl = strlen(want[w]);

			if (ll > wl && g_ascii_strncasecmp(p, want[w],
			    wl) == 0 && p[wl] == ':') {
				/* Header text goes to a terminal: no
				 * control characters. */
				char *line = g_strndup(p, ll);

				g_strcanon(line, "\t !\"#$%&'()*+,-./0123456789"
				    ":;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
				    "abcdefghijklmnopqrstuvwxyz{|}~", '?');
				(void)printf("  %.300s\n", line);
				g_free(line);
			}
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* Writes buf to a new file (mode 0600, never over an existing one). */
static int
officer_write_file(const char *path, const char *buf, size_t len,
    char *err, size_t errlen)
{
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			(void)snprintf(err, errlen, "%s: %s", path,
			    strerror(errno));
			(void)close(fd);
			(void)unlink(path);
			return -1;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		(void)unlink(path);
		return -1;
	}
	return 0;
}

/* The decrypted message of an entry, split into envelope and message.
 * 1 (blob owned by the caller), 0 none kept, -1 printed. */
static int
officer_body(struct officer_ctx *oc, const struct qmeta *m,
    GByteArray **blob, struct envelope *e, size_t *off)
{
	unsigned char digest[TOKEN_DIGEST_BYTES];
	char err[256];
	int rc;

	*blob = NULL;
	rc = qstore_body(oc->conf->qstore, m->id, blob, err, sizeof err);
	if (rc < 0) {
		(void)fprintf(stderr, "custos: %s: %s\n", m->id, err);
		return -1;
	}
	if (rc == 0)
		return 0;
	if (envelope_unseal((const char *)(*blob)->data, (*blob)->len, e,
	    off) != 0) {
		(void)fprintf(stderr, "custos: %s: the stored message has no "
		    "readable envelope\n", m->id);
		goto fail;
	}
	/* Authenticated already; this catches a store that mixed up
	 * entries of the same key. */
	token_body_digest((*blob)->data + *off, (*blob)->len - *off, digest);
	if (memcmp(digest, m->body_digest, sizeof digest) != 0) {
		(void)fprintf(stderr, "custos: %s: the stored message does not "
		    "match its metadata\n", m->id);
		goto fail;
	}
	return 1;
fail:
	g_byte_array_unref(*blob);
	*blob = NULL;
	return -1;
}

static int
officer_show(struct officer_ctx *oc, const char *arg, bool json,
    const char *raw_file)
{
	JsonParser *p = NULL;
	JsonObject *a = NULL;
	struct envelope e;
	struct qmeta m;
	GByteArray *blob = NULL;
	char t[32], err[256];
	size_t off = 0;
	int rc = 1, have;

	envelope_init(&e);
	if (officer_get(oc, arg, &m) != 1)
		return 1;
	if ((have = officer_body(oc, &m, &blob, &e, &off)) < 0)
		goto out;
	if (raw_file != NULL) {
		if (have == 0) {
			(void)fprintf(stderr, "custos: %s: no message kept "
			    "(status %s)\n", m.id, qstatus_name(m.status));
			goto out;
		}
		if (officer_write_file(raw_file, (const char *)blob->data +
		    off, blob->len - off, err, sizeof err) != 0) {
			(void)fprintf(stderr, "custos: %s\n", err);
			(void)officer_audit(oc, "show-raw", m.id, NULL,
			    raw_file, false, err);
			goto out;
		}
		rc = officer_audit(oc, "show-raw", m.id, NULL, raw_file,
		    true, NULL) == 0 ? 0 : 1;
		(void)fprintf(stderr, "custos: %s: message written to %s "
		    "(this is in the audit log)\n", m.id, raw_file);
		goto out;
	}
	p = json_parser_new();
	if (m.audit != NULL && json_parser_load_from_data(p, m.audit, -1,
	    NULL) && JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
		a = json_node_get_object(json_parser_get_root(p));
	if (json) {
		struct json j;
		char *out;

		json_init(&j);
		json_object_begin(&j);
		officer_meta_json(&j, &m);
		json_object_end(&j);
		out = json_finish(&j, NULL);
		/* The decision's own object goes in as it was written. */
		out[strlen(out) - 1] = '\0';
		(void)printf("%s,\"decision\":%s}\n", out,
		    m.audit != NULL && a != NULL ? m.audit : "null");
		g_free(out);
		rc = 0;
		goto out;
	}
	officer_time(m.when, t, sizeof t);
	(void)printf("Incident   %s\nStatus     %s\nDecided    %s on %s "
	    "(queue id %s)\nAction     %s\nRules      %s\nSender     %s\n"
	    "Recipients %s (domains)\nRecords    %zu\nSize       %zu bytes\n",
	    m.id, qstatus_name(m.status), t, m.node, *m.queue_id ?
	    m.queue_id : "-", m.action, *m.rules ? m.rules : "-",
	    *m.sender ? m.sender : "<>", m.recipients, m.records, m.size);
	if (m.changed != 0) {
		officer_time(m.changed, t, sizeof t);
		(void)printf("Changed    %s by %s: %s\n", t, m.officer ?
		    m.officer : "?", m.reason ? m.reason : "");
	}
	if (have == 1)
		officer_show_message(&e, (const char *)blob->data + off,
		    blob->len - off);
	else if (m.status == QSTATUS_HELD)
		(void)printf("Message    in the Postfix hold queue of %s "
		    "(postqueue -p; queue id %s)\n", m.node, m.queue_id);
	if (a != NULL)
		officer_show_findings(a);
	rc = 0;
out:
	if (p != NULL)
		g_object_unref(p);
	if (blob != NULL)
		g_byte_array_unref(blob);
	envelope_clear(&e);
	qmeta_clear(&m);
	return rc;
}

/* -------------------------------------------------- release, delete */

/* Runs postsuper with one operation on one queue id.  0 or -1. */
static int
officer_postsuper(const struct conf *c, const char *op, const char *qid,
    char *err, size_t errlen)
{
	const char *argv[7];
	int n = 0, status;
	pid_t pid;

	argv[n++] = c->quarantine.postsuper;
	if (*c->quarantine.postfix_config != '\0') {
		argv[n++] = "-c";
		argv[n++] = c->quarantine.postfix_config;
	}
	argv[n++] = op;
	argv[n++] = qid;
	argv[n] = NULL;
	if ((pid = fork()) < 0) {
		(void)snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		(void)execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			(void)snprintf(err, errlen, "waitpid: %s",
			    strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		(void)snprintf(err, errlen, "%s %s %s failed (exit %d)",
		    argv[0], op, qid, WIFEXITED(status) ?
		    WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/* Re-injects a quarantined message by SMTP with a release token. */
static int
officer_reinject(struct officer_ctx *oc, const struct qmeta *m, char *err,
    size_t errlen)
{
	struct smtp_relay relay;
	struct envelope e;
	GByteArray *blob = NULL;
	GString *msg;
	char token[TOKEN_MAX];
	size_t off;
	int rc = -1;

	envelope_init(&e);
	memset(&relay, 0, sizeof relay);
	if (officer_body(oc, m, &blob, &e, &off) != 1) {
		(void)snprintf(err, errlen, "no message to release");
		goto out;
	}
	if (token_release_make(oc->conf->qkey, m->id, m->body_digest, token,
	    sizeof token) != 0 ||
	    smtp_parse_relay(oc->conf->quarantine.relay, &relay) != 0) {
		(void)snprintf(err, errlen, "cannot make the release token "
		    "or read the relay");
		goto out;
	}
	relay.timeout_ms = 60000;
	relay.helo = oc->conf->node;
	/* The token header goes first; the message follows untouched, so
	 * the body the milter digests is the one that was quarantined. */
	msg = g_string_sized_new(blob->len - off + 200);
	g_string_append_printf(msg, "%s: %s\r\n", TOKEN_RELEASE_HEADER, token);
	g_string_append_len(msg, (const char *)blob->data + off,
	    (gssize)(blob->len - off));
	rc = smtp_send(&relay, e.mail_from != NULL ? e.mail_from : "",
	    (const char *const *)e.rcpt, e.nrcpt, msg->str, msg->len, err,
	    errlen);
	g_string_free(msg, TRUE);
out:
	g_free(relay.host);
	if (blob != NULL)
		g_byte_array_unref(blob);
	envelope_clear(&e);
	return rc;
}

static int
officer_decide(struct officer_ctx *oc, const char *arg, bool release,
    const char *reason)
{
	const char *event = release ? "release" : "delete";
	struct qmeta m;
	char err[512], detail[256], t[32];
	int rc = 1;

	if (reason == NULL || *reason == '\0') {
		(void)fprintf(stderr, "custos: %s needs --reason TEXT: it goes "
		    "to the audit log\n", event);
		return 2;
	}
	if (officer_get(oc, arg, &m) != 1)
		return 1;
	if (m.status != QSTATUS_QUARANTINED && m.status != QSTATUS_HELD) {
		officer_time(m.changed, t, sizeof t);
		(void)fprintf(stderr, "custos: %s: already %s (by %s, %s)\n",
		    m.id, qstatus_name(m.status), m.officer ? m.officer : "?",
		    t);
		goto out;
	}
	if (m.status == QSTATUS_HELD && strcmp(m.node, oc->conf->node) != 0) {
		(void)fprintf(stderr, "custos: %s: held in the Postfix queue of "
		    "%s; run this on that node\n", m.id, m.node);
		goto out;
	}
	if (m.status == QSTATUS_HELD) {
		(void)snprintf(detail, sizeof detail, "postsuper %s %s",
		    release ? "-H" : "-d", m.queue_id);
		if (officer_postsuper(oc->conf, release ? "-H" : "-d",
		    m.queue_id, err, sizeof err) != 0)
			goto failed;
	} else if (release) {
		(void)snprintf(detail, sizeof detail, "re-injected via %s",
		    oc->conf->quarantine.relay);
		if (officer_reinject(oc, &m, err, sizeof err) != 0)
			goto failed;
	} else
		(void)snprintf(detail, sizeof detail, "stored message erased");
	if (qstore_set_status(oc->conf->qstore, m.id, release ?
	    QSTATUS_RELEASED : QSTATUS_DELETED, oc->officer, reason, err,
	    sizeof err) != 1) {
		/* Done, but not recorded: say so loudly, and audit it. */
		(void)fprintf(stderr, "custos: %s: %s done, but the store "
		    "could not record it: %s\n", m.id, event, err);
		(void)officer_audit(oc, event, m.id, reason, detail, true, err);
		goto out;
	}
	rc = officer_audit(oc, event, m.id, reason, detail, true, NULL) == 0 ?
	    0 : 1;
	(void)printf("%s: %s (%s)\n", m.id, release ? "released" : "deleted",
	    detail);
	goto out;
failed:
	(void)fprintf(stderr, "custos: %s: %s failed: %s\n", m.id, event, err);
	(void)officer_audit(oc, event, m.id, reason, detail, false, err);
out:
	qmeta_clear(&m);
	return rc;
}

static int
officer_purge(struct officer_ctx *oc, const char *older)
{
	unsigned age = oc->conf->quarantine.retention;
	char err[256], detail[128], t[32];
	size_t removed = 0;
	time_t before;

	/* "0" is allowed here (everything, this second's entries too);
	 * durations elsewhere must be positive. */
	if (older != NULL && strspn(older, "0") > 0 &&
	    (older[strspn(older, "0")] == '\0' ||
	    strchr("smhd", older[strspn(older, "0")]) != NULL))
		age = 0;
	else if (older != NULL && conf_parse_duration(older, &age) != 0) {
		(void)fprintf(stderr, "custos: --older-than \"%s\" is not a "
		    "duration (30d, 12h, 0)\n", older);
		return 2;
	}
	before = time(NULL) - (time_t)age + (age == 0);
	officer_time(before, t, sizeof t);
	if (qstore_purge(oc->conf->qstore, before, &removed, err,
	    sizeof err) != 0) {
		(void)fprintf(stderr, "custos: purge: %s\n", err);
		(void)snprintf(detail, sizeof detail, "before %s", t);
		(void)officer_audit(oc, "purge", NULL, NULL, detail, false,
		    err);
		return 1;
	}
	(void)snprintf(detail, sizeof detail, "%zu entries decided before %s",
	    removed, t);
	(void)printf("purged %s\n", detail);
	return officer_audit(oc, "purge", NULL, NULL, detail, true, NULL) ==
	    0 ? 0 : 1;
}

int
officer_quarantine(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sender", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "rule", required_argument, NULL, 'r' },
		{ "action", required_argument, NULL, 'a' },
		{ "status", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "raw", required_argument, NULL, 'w' },
		{ "reason", required_argument, NULL, 'R' },
		{ "officer", required_argument, NULL, 'o' },
		{ "older-than", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct officer_filter f;
	struct officer_ctx oc;
	const char *config = NULL, *raw = NULL, *reason = NULL, *who = NULL;
	const char *older = NULL, *cmd;
	enum qstatus st;
	int ch, rc;

	memset(&f, 0, sizeof f);
	f.status = -1;
	/* Options may come before or after the command word: getopt_long
	 * moves the words to the end. */
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1)
		switch (ch) {
		case 'c': config = optarg; break;
		case 's': f.sender = optarg; break;
		case 'S':
		case 'U':
			if (officer_parse_time(optarg, ch == 'S' ? &f.since :
			    &f.until) != 0)
				return 2;
			break;
		case 'r': f.rule = optarg; break;
		case 'a': f.action = optarg; break;
		case 't':
			if (qstatus_parse(optarg, &st) != 0) {
				(void)fprintf(stderr, "custos: \"%s\" is not "
				    "a status\n", optarg);
				return 2;
			}
			f.status = (int)st;
			break;
		case 'j': f.json = true; break;
		case 'w': raw = optarg; break;
		case 'R': reason = optarg; break;
		case 'o': who = optarg; break;
		case 'O': older = optarg; break;
		case 'h': officer_usage(stdout); return 0;
		default: officer_usage(stderr); return 2;
		}
	if (optind >= argc) {
		officer_usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if ((strcmp(cmd, "list") == 0 || strcmp(cmd, "purge") == 0) !=
	    (optind == argc) || optind + 1 < argc) {
		officer_usage(stderr);
		return 2;
	}
	if ((rc = officer_open(&oc, config, who, true)) != 0) {
		officer_close(&oc);
		return rc;
	}
	if (strcmp(cmd, "list") == 0)
		rc = officer_list(&oc, &f);
	else if (strcmp(cmd, "show") == 0)
		rc = officer_show(&oc, argv[optind], f.json, raw);
	else if (strcmp(cmd, "release") == 0)
		rc = officer_decide(&oc, argv[optind], true, reason);
	else if (strcmp(cmd, "delete") == 0)
		rc = officer_decide(&oc, argv[optind], false, reason);
	else if (strcmp(cmd, "purge") == 0)
		rc = officer_purge(&oc, older);
	else {
		(void)fprintf(stderr, "custos: unknown quarantine command "
		    "\"%s\"\n", cmd);
		officer_usage(stderr);
		rc = 2;
	}
	officer_close(&oc);
	return rc;
}

/* ------------------------------------------------------- incidents */

struct officer_rotated {
	unsigned long	 n;	/* logrotate's number: higher is older */
	char		*path;
};

static int
officer_rotated_cmp(const void *a, const void *b)
{
	const struct officer_rotated *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

/* The audit log and its rotated files (name.N, name.N.gz), oldest
 * first, then the current file. */
static char **
officer_audit_files(const char *path, size_t *n)
{
	struct officer_rotated *r = NULL;
	char *pat = g_strdup_printf("%s.*", path), **out;
	size_t i, nr = 0, o = 0, plen = strlen(path);
	glob_t g;

	if (glob(pat, 0, NULL, &g) == 0) {
		r = g_new0(struct officer_rotated, g.gl_pathc);
		for (i = 0; i < g.gl_pathc; i++) {
			const char *suf = g.gl_pathv[i] + plen + 1;

			if (!g_ascii_isdigit(*suf))
				continue;
			r[nr].n = strtoul(suf, NULL, 10);
			r[nr++].path = g_strdup(g.gl_pathv[i]);
		}
		globfree(&g);
	}
	g_free(pat);
	if (nr > 1)
		qsort(r, nr, sizeof *r, officer_rotated_cmp);
	out = g_new0(char *, nr + 2);
	for (i = 0; i < nr; i++)
		out[o++] = r[i].path;
	if (access(path, F_OK) == 0)
		out[o++] = g_strdup(path);
	g_free(r);
	*n = o;
	return out;
}

static int
officer_parse_actions(const char *s, unsigned *mask)
{
	char **v = g_strsplit(s, ",", -1);
	enum action a;
	size_t i;
	int rc = 0;

	*mask = 0;
	for (i = 0; v[i] != NULL; i++) {
		if (action_parse(g_strstrip(v[i]), &a) != 0) {
			(void)fprintf(stderr, "custos: \"%s\" is not an action "
			    "(pass, tag, hold, quarantine, reject, tempfail)\n",
			    v[i]);
			rc = -1;
			break;
		}
		*mask |= 1u << a;
	}
	g_strfreev(v);
	return rc;
}

static int
officer_affected(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sender", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "action", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "source", required_argument, NULL, 'x' },
		{ "audit-log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct affected_query q;
	struct affected_result res;
	struct officer_ctx oc;
	GPtrArray *logs = g_ptr_array_new_with_free_func(g_free);
	const char *config = NULL, *format = "csv", *source = NULL;
	char **files = NULL, err[512];
	size_t nfiles = 0;
	int ch, rc = 2;

	memset(&q, 0, sizeof q);
	memset(&res, 0, sizeof res);
	memset(&oc, 0, sizeof oc);
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1)
		switch (ch) {
		case 'c': config = optarg; break;
		case 's': q.sender = optarg; break;
		case 'S':
		case 'U':
			if (officer_parse_time(optarg, ch == 'S' ? &q.since :
			    &q.until) != 0)
				goto out;
			break;
		case 'a':
			if (officer_parse_actions(optarg, &q.actions) != 0)
				goto out;
			break;
		case 'f': format = optarg; break;
		case 'x': source = optarg; break;
		case 'l': g_ptr_array_add(logs, g_strdup(optarg)); break;
		case 'h': officer_usage(stdout); rc = 0; goto out;
		default: officer_usage(stderr); goto out;
		}
	if (optind + 1 != argc || strcmp(argv[optind], "affected") != 0) {
		(void)fprintf(stderr, "custos: incidents: the command is "
		    "\"affected\"\n");
		officer_usage(stderr);
		goto out;
	}
	if (q.sender == NULL ||
	    (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) ||
	    (source != NULL && strcmp(source, "audit") != 0 &&
	    strcmp(source, "redis") != 0)) {
		officer_usage(stderr);
		goto out;
	}
	if ((rc = officer_open(&oc, config, NULL, false)) != 0)
		goto out;
	rc = 1;
	if (source == NULL)
		source = logs->len > 0 || *oc.conf->audit_log != '\0' ||
		    oc.stream == NULL ? "audit" : "redis";
	if (strcmp(source, "redis") == 0) {
		if (oc.stream == NULL) {
			(void)fprintf(stderr, "custos: --source redis needs "
			    "store = redis in %s\n", oc.config);
			goto out;
		}
		if (affected_from_store(oc.stream, &q, &res, err,
		    sizeof err) != 0) {
			(void)fprintf(stderr, "custos: %s\n", err);
			goto out;
		}
	} else {
		if (logs->len > 0) {
			nfiles = logs->len;
			g_ptr_array_add(logs, NULL);
			files = g_strdupv((char **)logs->pdata);
		} else if (*oc.conf->audit_log != '\0')
			files = officer_audit_files(oc.conf->audit_log,
			    &nfiles);
		if (nfiles == 0) {
			(void)fprintf(stderr, "custos: no audit log to read "
			    "(audit_log in %s, or --audit-log FILE)\n",
			    oc.config);
			goto out;
		}
		if (affected_from_audit((const char *const *)files, nfiles,
		    &q, &res, err, sizeof err) != 0) {
			(void)fprintf(stderr, "custos: %s\n", err);
			goto out;
		}
	}
	if ((strcmp(format, "json") == 0 ?
	    affected_write_json(stdout, &q, &res) :
	    affected_write_csv(stdout, &res)) != 0 || fflush(stdout) != 0) {
		(void)fprintf(stderr, "custos: cannot write the report\n");
		goto out;
	}
	(void)fprintf(stderr, "custos: %zu records in %zu decisions of %s%s",
	    res.nrecords, res.decisions, q.sender, res.skipped ?
	    "" : "\n");
	if (res.skipped)
		(void)fprintf(stderr, " (%zu unreadable lines skipped)\n",
		    res.skipped);
	if (res.incomplete)
		(void)fprintf(stderr, "custos: WARNING: %zu decisions carried "
		    "more record ids than the audit log keeps; the list is "
		    "incomplete for them\n", res.incomplete);
	rc = 0;
out:
	affected_clear(&res);
	g_strfreev(files);
	g_ptr_array_free(logs, TRUE);
	if (oc.conf != NULL)
		officer_close(&oc);
	return rc;
}

int
officer_incidents(int argc, char **argv)
{
	/* One command so far; its options may stand on either side of the
	 * word (getopt_long moves it to the end). */
	return officer_affected(argc, argv);
}
