/* qstore.c - the quarantine store (see qstore.h).
 *
 * A sealed message is
 *   "CUSTOSQ1" | secretstream header (24) | chunk ... | final chunk
 * where every chunk but the last encrypts exactly 64 KiB (so a reader
 * can cut the stream without lengths), the last one (possibly empty)
 * carries TAG_FINAL, and each has the incident id as additional data.
 * A missing final chunk (truncation), trailing bytes, another id or
 * another key all fail authentication: "tampered or wrong key".  The
 * same bytes go to ID.msg or to the "body" field in Redis.
 *
 * Metadata is JSON written with json.c and read with json-glib: the
 * record made at qstore_put ("v": 1), immutable, and the last status
 * change, kept apart (ID.state, or hash fields) so that an officer's
 * action never rewrites what the gateway decided.
 *
 * Owns: a copy of the conf and of the seal subkey (wiped at close).
 * Nothing is shared between calls: each call that needs Redis opens
 * its own connection (quarantine operations are rare) with the store
 * timeouts, and SIGPIPE is blocked while it talks to Redis, as in
 * store.c.  So every function is thread-safe.
 *
 * Errors: -1 with err; never exits.  Files are written to a temporary
 * name in dir, fsync'd, then linked (new entries: never overwrite) or
 * renamed (status) into place, and the directory fsync'd. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <hiredis/hiredis.h>
#include <json-glib/json-glib.h>
#include <sodium.h>

#include "errbuf.h"
#include "fdio.h"
#include "json.h"
#include "qstore.h"
#include "redisconn.h"

#define QSTORE_MAGIC		"CUSTOSQ1"
#define QSTORE_MAGIC_LEN	8
#define QSTORE_HDR_LEN	(QSTORE_MAGIC_LEN + \
	crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define QSTORE_CHUNK		65536
#define QSTORE_ABYTES		crypto_secretstream_xchacha20poly1305_ABYTES
#define QSTORE_TAMPERED		"tampered or wrong key"
#define QSTORE_JSON_VERSION	1
#define QSTORE_PAGE		256	/* index members per round trip */
#define QSTORE_DEFAULT_MS	2000	/* a timeout left at 0 */

#define S(x)	((x) != NULL ? (x) : "")

struct qstore {
	char		*dir;		/* NULL: bodies in Redis only */
	bool		 redis;
	bool		 body_in_redis;
	size_t		 redis_max_size;
	char		*socket;	/* "": host:port */
	char		*host;
	int		 port;
	char		*password;
	int		 db;
	char		*prefix;
	int		 connect_timeout_ms;
	int		 command_timeout_ms;
	unsigned char	 seal[QKEY_BYTES];
};

/* One call's Redis connection, with SIGPIPE blocked meanwhile. */
struct qconn {
	redisContext	*c;
	bool		 blocked;
	struct fd_sigpipe sp;
};

/* Creates the hash only if it does not exist: a new entry never
 * overwrites another (an id collision, or a replayed put). */
static const char qstore_lua_put[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end "
    "redis.call('HSET', KEYS[1], unpack(ARGV)) "
    "return 1";

static const char qstore_lua_status[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
    "redis.call('HSET', KEYS[1], 'status', ARGV[1], 'changed', ARGV[2], "
    "'officer', ARGV[3], 'reason', ARGV[4]) "
    "if ARGV[5] == '1' then redis.call('HDEL', KEYS[1], 'body') end "
    "return 1";

/* KEYS[1] q:{ID}, KEYS[2] q:used:{ID}: one hash slot. */
static const char qstore_lua_claim[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
    "if redis.call('SET', KEYS[2], ARGV[1], 'NX') then return 1 end "
    "return 0";

/* ------------------------------------------------------------ names */

static const char *const qstatus_names[] = {
	[QSTATUS_QUARANTINED] = "quarantined",
	[QSTATUS_HELD] = "held",
	[QSTATUS_RELEASED] = "released",
	[QSTATUS_DELETED] = "deleted",
};

const char *
qstatus_name(enum qstatus st)
{
	if ((unsigned)st >= G_N_ELEMENTS(qstatus_names))
		return "unknown";
	return qstatus_names[st];
}

int
qstatus_parse(const char *s, enum qstatus *out)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < G_N_ELEMENTS(qstatus_names); i++)
		if (strcmp(s, qstatus_names[i]) == 0) {
			*out = (enum qstatus)i;
			return 0;
		}
	return -1;
}

void
qmeta_clear(struct qmeta *m)
{
	if (m == NULL)
		return;
	g_free(m->node);
	g_free(m->queue_id);
	g_free(m->sender);
	g_free(m->recipients);
	g_free(m->action);
	g_free(m->rules);
	g_free(m->audit);
	g_free(m->officer);
	g_free(m->reason);
	memset(m, 0, sizeof *m);
}

/* Ids become file names and Redis keys: only the canonical form passes,
 * so "7k2m-q9xd-3f0a" and "../x" never name anything.  The id is not
 * echoed: it may be anything a caller was handed. */
static int
qstore_id_ok(const char *id, char *err, size_t errlen)
{
	char canon[INCIDENT_ID_SIZE];

	if (id == NULL || incident_parse(id, canon) != 0 ||
	    strcmp(id, canon) != 0) {
		errbuf_set(err, errlen, "not a canonical incident id");
		return -1;
	}
	return 0;
}

/* name is "ID.ext" (or ".ID.ext.XXXXXX" with tmp): writes ID to id. */
static bool
qstore_name_id(const char *name, bool tmp, char id[INCIDENT_ID_SIZE],
    const char **ext)
{
	char canon[INCIDENT_ID_SIZE];

	if (tmp) {
		if (name[0] != '.')
			return false;
		name++;
	}
	if (strlen(name) < INCIDENT_ID_SIZE + 1 ||
	    name[INCIDENT_ID_SIZE - 1] != '.')
		return false;
	memcpy(id, name, INCIDENT_ID_SIZE - 1);
	id[INCIDENT_ID_SIZE - 1] = '\0';
	if (incident_parse(id, canon) != 0 || strcmp(id, canon) != 0)
		return false;
	*ext = name + INCIDENT_ID_SIZE;
	return true;
}

static char *
qstore_path(const struct qstore *s, const char *id, const char *ext)
{
	return g_strdup_printf("%s/%s.%s", s->dir, id, ext);
}

/* ------------------------------------------------------------ files */

static int
qstore_syncdir(const struct qstore *s, char *err, size_t errlen)
{
	int fd, rc = 0;

	if ((fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		errbuf_set(err, errlen, "%s: %s", s->dir, g_strerror(errno));
		return -1;
	}
	/* Some file systems cannot sync a directory (EINVAL): their
	 * renames are as durable as they get. */
	if (fsync(fd) != 0 && errno != EINVAL) {
		errbuf_set(err, errlen, "%s: fsync: %s", s->dir,
		    g_strerror(errno));
		rc = -1;
	}
	(void)close(fd);
	return rc;
}

/* Writes dir/ID.ext durably.  replace: rename over what is there (the
 * state file); else link, which fails when the name exists, so a new
 * entry never clobbers another.  On -1 nothing new is left. */
static int
qstore_write(const struct qstore *s, const char *id, const char *ext,
    const void *data, size_t len, bool replace, char *err, size_t errlen)
{
	char *tmp, *path;
	int fd, rc = -1, e;
	bool tmp_gone = false, linked = false;

	tmp = g_strdup_printf("%s/.%s.%s.XXXXXX", s->dir, id, ext);
	path = qstore_path(s, id, ext);
	if ((fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600)) < 0) {
		errbuf_set(err, errlen, "%s: %s", tmp, g_strerror(errno));
		tmp_gone = true;
		goto out;
	}
	if (fd_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		errbuf_set(err, errlen, "%s: %s", tmp, g_strerror(errno));
		goto out;
	}
	e = close(fd);
	fd = -1;
	if (e != 0) {
		errbuf_set(err, errlen, "%s: %s", tmp, g_strerror(errno));
		goto out;
	}
	if (replace) {
		if (rename(tmp, path) != 0) {
			errbuf_set(err, errlen, "%s: %s", path,
			    g_strerror(errno));
			goto out;
		}
		tmp_gone = true;
	} else {
		if (link(tmp, path) != 0) {
			if (errno == EEXIST)
				errbuf_set(err, errlen, "%s: already stored",
				    path);
			else
				errbuf_set(err, errlen, "%s: %s", path,
				    g_strerror(errno));
			goto out;
		}
		linked = true;
	}
	if (qstore_syncdir(s, err, errlen) != 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		(void)close(fd);
	if (!tmp_gone)
		(void)unlink(tmp);
	if (rc != 0 && linked)
		(void)unlink(path);
	g_free(tmp);
	g_free(path);
	return rc;
}

/* Reads dir/ID.ext whole.  1, 0 no such file, -1. */
static int
qstore_read(const struct qstore *s, const char *id, const char *ext,
    GByteArray **out, char *err, size_t errlen)
{
	GByteArray *b = NULL;
	struct stat st;
	char *path;
	ssize_t n;
	int fd, rc = -1;

	*out = NULL;
	path = qstore_path(s, id, ext);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			rc = 0;
		else
			errbuf_set(err, errlen, "%s: %s", path,
			    g_strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		errbuf_set(err, errlen, "%s: %s", path, g_strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > G_MAXUINT / 2) {
		errbuf_set(err, errlen, "%s: %s", path, S_ISREG(st.st_mode) ?
		    "too large" : "not a regular file");
		goto out;
	}
	b = g_byte_array_sized_new((guint)st.st_size);
	for (;;) {
		unsigned char buf[65536];

		if ((n = read(fd, buf, sizeof buf)) < 0) {
			if (errno == EINTR)
				continue;
			errbuf_set(err, errlen, "%s: %s", path,
			    g_strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		g_byte_array_append(b, buf, (guint)n);
	}
	*out = b;
	b = NULL;
	rc = 1;
out:
	if (fd >= 0)
		(void)close(fd);
	if (b != NULL)
		g_byte_array_unref(b);
	g_free(path);
	return rc;
}

/* Removes dir/ID.ext (gone already is fine).  sync: fsync dir after. */
static int
qstore_remove(const struct qstore *s, const char *id, const char *ext,
    bool sync, char *err, size_t errlen)
{
	char *path = qstore_path(s, id, ext);
	int rc = 0;

	if (unlink(path) != 0) {
		if (errno != ENOENT) {
			errbuf_set(err, errlen, "%s: %s", path,
			    g_strerror(errno));
			rc = -1;
		}
	} else if (sync)
		rc = qstore_syncdir(s, err, errlen);
	g_free(path);
	return rc;
}

static bool
qstore_file_exists(const struct qstore *s, const char *id, const char *ext)
{
	struct stat st;
	char *path = qstore_path(s, id, ext);
	bool yes;

	yes = lstat(path, &st) == 0;
	g_free(path);
	return yes;
}

/* The names in dir (a snapshot: the walk may then unlink). */
static GPtrArray *
qstore_names(const struct qstore *s, char *err, size_t errlen)
{
	struct dirent *e;
	GPtrArray *names;
	DIR *d;

	if ((d = opendir(s->dir)) == NULL) {
		errbuf_set(err, errlen, "%s: %s", s->dir, g_strerror(errno));
		return NULL;
	}
	names = g_ptr_array_new_with_free_func(g_free);
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			g_ptr_array_add(names, g_strdup(e->d_name));
		errno = 0;
	}
	if (errno != 0) {
		errbuf_set(err, errlen, "%s: %s", s->dir, g_strerror(errno));
		g_ptr_array_unref(names);
		names = NULL;
	}
	(void)closedir(d);
	return names;
}

/* ------------------------------------------------------------ crypto */

static GByteArray *
qstore_seal(const struct qstore *s, const char *id, const unsigned char *raw,
    size_t len, char *err, size_t errlen)
{
	crypto_secretstream_xchacha20poly1305_state st;
	GByteArray *b;
	size_t nchunks, total, pos = 0, off, n;
	unsigned long long clen;
	unsigned char tag;

	/* GByteArray counts in guint; the overhead is far below half. */
	if (len > G_MAXUINT / 2) {
		errbuf_set(err, errlen, "message too large to seal (%zu bytes)",
		    len);
		return NULL;
	}
	nchunks = len == 0 ? 1 : (len - 1) / QSTORE_CHUNK + 1;
	total = QSTORE_HDR_LEN + len + nchunks * QSTORE_ABYTES;
	b = g_byte_array_sized_new((guint)total);
	g_byte_array_set_size(b, (guint)total);
	memcpy(b->data, QSTORE_MAGIC, QSTORE_MAGIC_LEN);
	(void)crypto_secretstream_xchacha20poly1305_init_push(&st,
	    b->data + QSTORE_MAGIC_LEN, s->seal);
	off = QSTORE_HDR_LEN;
	do {
		n = MIN(QSTORE_CHUNK, len - pos);
		tag = pos + n == len ?
		    crypto_secretstream_xchacha20poly1305_TAG_FINAL :
		    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
		(void)crypto_secretstream_xchacha20poly1305_push(&st,
		    b->data + off, &clen, raw + pos, n,
		    (const unsigned char *)id, strlen(id), tag);
		off += (size_t)clen;
		pos += n;
	} while (pos < len);
	sodium_memzero(&st, sizeof st);
	g_assert(off == total);
	return b;
}

/* Opens a sealed message.  where names it in err.  0 or -1. */
static int
qstore_unseal(const struct qstore *s, const char *id, const char *where,
    const unsigned char *in, size_t len, GByteArray **out, char *err,
    size_t errlen)
{
	crypto_secretstream_xchacha20poly1305_state st;
	GByteArray *b;
	unsigned long long mlen;
	size_t pos, olen = 0, n;
	unsigned char tag;
	int rc = -1;

	*out = NULL;
	if (len < QSTORE_HDR_LEN + QSTORE_ABYTES ||
	    memcmp(in, QSTORE_MAGIC, QSTORE_MAGIC_LEN) != 0 ||
	    crypto_secretstream_xchacha20poly1305_init_pull(&st,
	    in + QSTORE_MAGIC_LEN, s->seal) != 0) {
		errbuf_set(err, errlen, "%s: %s", where, QSTORE_TAMPERED);
		return -1;
	}
	b = g_byte_array_sized_new((guint)(len - QSTORE_HDR_LEN));
	g_byte_array_set_size(b, (guint)(len - QSTORE_HDR_LEN));
	pos = QSTORE_HDR_LEN;
	for (;;) {
		/* Only a full chunk may be followed by another, so a cut
		 * anywhere shows as a bad or a missing final chunk. */
		n = MIN(len - pos, (size_t)QSTORE_CHUNK + QSTORE_ABYTES);
		if (n < QSTORE_ABYTES ||
		    crypto_secretstream_xchacha20poly1305_pull(&st,
		    b->data + olen, &mlen, &tag, in + pos, n,
		    (const unsigned char *)id, strlen(id)) != 0)
			goto out;
		pos += n;
		olen += (size_t)mlen;
		if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
			if (pos != len)
				goto out;
			break;
		}
		if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE ||
		    pos == len)
			goto out;
	}
	g_byte_array_set_size(b, (guint)olen);
	*out = b;
	b = NULL;
	rc = 0;
out:
	if (rc != 0)
		errbuf_set(err, errlen, "%s: %s", where, QSTORE_TAMPERED);
	if (b != NULL) {
		sodium_memzero(b->data, b->len);
		g_byte_array_unref(b);
	}
	sodium_memzero(&st, sizeof st);
	return rc;
}

/* ------------------------------------------------------------ JSON */

static char *
qstore_meta_json(const struct qmeta *m, size_t *len)
{
	char hex[TOKEN_DIGEST_BYTES * 2 + 1];
	struct json j;

	(void)sodium_bin2hex(hex, sizeof hex, m->body_digest,
	    sizeof m->body_digest);
	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "v");
	json_int(&j, QSTORE_JSON_VERSION);
	json_kv_string(&j, "id", m->id);
	json_key(&j, "when");
	json_int(&j, (int64_t)m->when);
	json_kv_string(&j, "status", qstatus_name(m->status));
	json_kv_string(&j, "node", S(m->node));
	json_kv_string(&j, "queue_id", S(m->queue_id));
	json_kv_string(&j, "sender", S(m->sender));
	json_kv_string(&j, "recipients", S(m->recipients));
	json_kv_string(&j, "action", S(m->action));
	json_kv_string(&j, "rules", S(m->rules));
	json_kv_uint(&j, "records", m->records);
	json_kv_uint(&j, "size", m->size);
	json_kv_string(&j, "body_digest", hex);
	/* A string, not an object: kept as the caller gave it. */
	json_kv_string(&j, "audit", S(m->audit));
	json_object_end(&j);
	return json_finish(&j, len);
}

static char *
qstore_state_json(const char *id, enum qstatus st, time_t changed,
    const char *officer, const char *reason, size_t *len)
{
	struct json j;

	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "v");
	json_int(&j, QSTORE_JSON_VERSION);
	json_kv_string(&j, "id", id);
	json_kv_string(&j, "status", qstatus_name(st));
	json_key(&j, "changed");
	json_int(&j, (int64_t)changed);
	json_kv_string(&j, "officer", S(officer));
	json_kv_string(&j, "reason", S(reason));
	json_object_end(&j);
	return json_finish(&j, len);
}

/* A string member: missing or null gives "", another type -1. */
static int
qj_str(JsonObject *o, const char *k, char **out)
{
	JsonNode *n = json_object_get_member(o, k);

	if (n == NULL || JSON_NODE_HOLDS_NULL(n)) {
		*out = g_strdup("");
		return 0;
	}
	if (!JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return -1;
	*out = g_strdup(json_node_get_string(n));
	return 0;
}

/* A required integer member, >= 0. */
static int
qj_int(JsonObject *o, const char *k, int64_t *out)
{
	JsonNode *n = json_object_get_member(o, k);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_INT64 ||
	    json_node_get_int(n) < 0)
		return -1;
	*out = json_node_get_int(n);
	return 0;
}

/* Parses one of our JSON records about id.  The parser owns the
 * object; NULL with err. */
static JsonObject *
qj_parse(JsonParser *p, const char *what, const char *id, const void *text,
    size_t len, char *err, size_t errlen)
{
	GError *gerr = NULL;
	JsonObject *o;
	JsonNode *n;
	int64_t v;

	if (len > G_MAXSSIZE || !json_parser_load_from_data(p, text,
	    (gssize)len, &gerr)) {
		errbuf_set(err, errlen, "%s of %s: %s", what, id,
		    gerr != NULL ? gerr->message : "too large");
		g_clear_error(&gerr);
		return NULL;
	}
	if (json_parser_get_root(p) == NULL ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
		errbuf_set(err, errlen, "%s of %s: not a JSON object", what,
		    id);
		return NULL;
	}
	o = json_node_get_object(json_parser_get_root(p));
	if (qj_int(o, "v", &v) != 0 || v != QSTORE_JSON_VERSION) {
		errbuf_set(err, errlen, "%s of %s: unknown version", what, id);
		return NULL;
	}
	/* A record copied onto another id's name is not that entry. */
	if ((n = json_object_get_member(o, "id")) == NULL ||
	    !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING ||
	    strcmp(json_node_get_string(n), id) != 0) {
		errbuf_set(err, errlen, "%s of %s: belongs to another id",
		    what, id);
		return NULL;
	}
	return o;
}

/* Fills m from the put-time record. */
static int
qstore_meta_parse(const char *id, const void *text, size_t len,
    struct qmeta *m, char *err, size_t errlen)
{
	JsonParser *p = json_parser_new();
	JsonObject *o;
	char *status = NULL, *hex = NULL;
	int64_t when, records, size;
	size_t bin;
	int rc = -1;

	if ((o = qj_parse(p, "metadata", id, text, len, err, errlen)) == NULL)
		goto out;
	if (qj_int(o, "when", &when) != 0 || qj_int(o, "records", &records)
	    != 0 || qj_int(o, "size", &size) != 0 ||
	    qj_str(o, "status", &status) != 0 ||
	    qstatus_parse(status, &m->status) != 0 ||
	    qj_str(o, "node", &m->node) != 0 ||
	    qj_str(o, "queue_id", &m->queue_id) != 0 ||
	    qj_str(o, "sender", &m->sender) != 0 ||
	    qj_str(o, "recipients", &m->recipients) != 0 ||
	    qj_str(o, "action", &m->action) != 0 ||
	    qj_str(o, "rules", &m->rules) != 0 ||
	    qj_str(o, "audit", &m->audit) != 0 ||
	    qj_str(o, "body_digest", &hex) != 0 ||
	    strlen(hex) != TOKEN_DIGEST_BYTES * 2 ||
	    sodium_hex2bin(m->body_digest, sizeof m->body_digest, hex,
	    strlen(hex), NULL, &bin, NULL) != 0 ||
	    bin != TOKEN_DIGEST_BYTES) {
		errbuf_set(err, errlen, "metadata of %s: missing or bad field",
		    id);
		goto out;
	}
	(void)g_strlcpy(m->id, id, sizeof m->id);
	m->when = (time_t)when;
	m->records = (size_t)records;
	m->size = (size_t)size;
	rc = 0;
out:
	g_free(status);
	g_free(hex);
	g_object_unref(p);
	return rc;
}

/* Applies a state record (ID.state) to m. */
static int
qstore_state_parse(const char *id, const void *text, size_t len,
    struct qmeta *m, char *err, size_t errlen)
{
	JsonParser *p = json_parser_new();
	JsonObject *o;
	char *status = NULL, *officer = NULL, *reason = NULL;
	int64_t changed;
	int rc = -1;

	if ((o = qj_parse(p, "state", id, text, len, err, errlen)) == NULL)
		goto out;
	if (qj_str(o, "status", &status) != 0 ||
	    qstatus_parse(status, &m->status) != 0 ||
	    qj_int(o, "changed", &changed) != 0 ||
	    qj_str(o, "officer", &officer) != 0 ||
	    qj_str(o, "reason", &reason) != 0) {
		g_free(officer);
		g_free(reason);
		errbuf_set(err, errlen, "state of %s: missing or bad field",
		    id);
		goto out;
	}
	m->changed = (time_t)changed;
	m->officer = officer;
	m->reason = reason;
	rc = 0;
out:
	g_free(status);
	g_object_unref(p);
	return rc;
}

/* ------------------------------------------------------------ Redis */

static int
qstore_ms(int ms)
{
	return ms > 0 ? ms : QSTORE_DEFAULT_MS;
}

/* A write to a peer that went away raises SIGPIPE, which would kill
 * the gateway unless it is ignored; blocked while we talk (fdio.h). */
static void
qstore_sigpipe_block(struct qconn *q)
{
	fd_sigpipe_block(&q->sp);
	q->blocked = true;
}

static void
qstore_rclose(struct qconn *q)
{
	if (q->c != NULL)
		redisFree(q->c);
	q->c = NULL;
	if (!q->blocked)
		return;
	fd_sigpipe_restore(&q->sp);
	q->blocked = false;
}

/* One command; the reply (never an error reply), or NULL with err.
 * lens NULL: C strings. */
static redisReply *
qstore_rcmd(redisContext *c, int argc, const char **argv,
    const size_t *lens, char *err, size_t errlen)
{
	redisReply *r;

	r = redisCommandArgv(c, argc, argv, lens);
	if (r == NULL) {
		errbuf_set(err, errlen, "redis: %s", c->errstr[0] != '\0' ?
		    c->errstr : "no reply");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		errbuf_set(err, errlen, "redis: %.*s", (int)r->len,
		    r->str != NULL ? r->str : "");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* The integer reply of a command, or -1 with err. */
static long long
qstore_rint(redisContext *c, int argc, const char **argv,
    const size_t *lens, char *err, size_t errlen)
{
	redisReply *r;
	long long v;

	if ((r = qstore_rcmd(c, argc, argv, lens, err, errlen)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER || r->integer < 0) {
		errbuf_set(err, errlen, "redis %s: unexpected reply", argv[0]);
		v = -1;
	} else
		v = r->integer;
	freeReplyObject(r);
	return v;
}

static int
qstore_rconnect(const struct qstore *s, struct qconn *q, char *err,
    size_t errlen)
{
	const struct redisconn_target t = {
		.socket = s->socket, .host = s->host, .port = s->port,
		.password = s->password, .db = s->db,
		.connect_ms = qstore_ms(s->connect_timeout_ms),
		.command_ms = qstore_ms(s->command_timeout_ms)
	};

	memset(q, 0, sizeof *q);
	qstore_sigpipe_block(q);
	return (q->c = redisconn_connect(&t, err, errlen)) != NULL ? 0 : -1;
}

/* PREFIX q:{ID}; the braces keep an entry's keys in one Cluster slot. */
static char *
qstore_hkey(const struct qstore *s, const char *id)
{
	return g_strdup_printf("%sq:{%s}", s->prefix, id);
}

static char *
qstore_ukey(const struct qstore *s, const char *id)
{
	return g_strdup_printf("%sq:used:{%s}", s->prefix, id);
}

static char *
qstore_ikey(const struct qstore *s)
{
	return g_strdup_printf("%sq:index", s->prefix);
}

/* The fields qstore_from_hmget reads, in its order. */
static const char *const qstore_hmget_fields[] = {
	"meta", "status", "changed", "officer", "reason"
};

static void
qstore_hmget_argv(const char **argv, const char *key)
{
	size_t i;

	argv[0] = "HMGET";
	argv[1] = key;
	for (i = 0; i < G_N_ELEMENTS(qstore_hmget_fields); i++)
		argv[2 + i] = qstore_hmget_fields[i];
}
#define QSTORE_HMGET_ARGC	(2 + (int)G_N_ELEMENTS(qstore_hmget_fields))

static bool
qstore_rstr(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING;
}

/* An index member that is a canonical id (no NUL inside either). */
static const char *
qstore_rid(const redisReply *r)
{
	if (!qstore_rstr(r) || r->len != INCIDENT_ID_SIZE - 1 ||
	    strlen(r->str) != r->len || qstore_id_ok(r->str, NULL, 0) != 0)
		return NULL;
	return r->str;
}

/* 1 filled, 0 no such entry, -1 unreadable. */
static int
qstore_from_hmget(const redisReply *r, const char *id, struct qmeta *m,
    char *err, size_t errlen)
{
	redisReply **e;
	char *tmp;
	long long changed;

	memset(m, 0, sizeof *m);
	if (r->type != REDIS_REPLY_ARRAY ||
	    r->elements != G_N_ELEMENTS(qstore_hmget_fields)) {
		errbuf_set(err, errlen, "redis HMGET: unexpected reply");
		return -1;
	}
	e = r->element;
	if (e[0]->type == REDIS_REPLY_NIL)
		return 0;
	if (!qstore_rstr(e[0]) ||
	    qstore_meta_parse(id, e[0]->str, e[0]->len, m, err, errlen) != 0)
		goto bad;
	if (qstore_rstr(e[1])) {
		tmp = g_strndup(e[1]->str, e[1]->len);
		if (qstatus_parse(tmp, &m->status) != 0) {
			g_free(tmp);
			errbuf_set(err, errlen, "entry %s: bad status", id);
			goto bad;
		}
		g_free(tmp);
	}
	if (qstore_rstr(e[2])) {
		tmp = g_strndup(e[2]->str, e[2]->len);
		changed = g_ascii_strtoll(tmp, NULL, 10);
		g_free(tmp);
		m->changed = (time_t)changed;
		if (qstore_rstr(e[3]))
			m->officer = g_strndup(e[3]->str, e[3]->len);
		if (qstore_rstr(e[4]))
			m->reason = g_strndup(e[4]->str, e[4]->len);
	}
	return 1;
bad:
	qmeta_clear(m);
	return -1;
}

/* ------------------------------------------------------------ open */

struct qstore *
qstore_open(const struct qstore_conf *conf, const struct qkey *key,
    char *err, size_t errlen)
{
	const struct store_conf *rc;
	struct qstore *s;
	struct stat st;

	if (conf == NULL || key == NULL) {
		errbuf_set(err, errlen, "quarantine: no configuration or key");
		return NULL;
	}
	if (sodium_init() < 0) {
		errbuf_set(err, errlen, "libsodium failed to start");
		return NULL;
	}
	rc = conf->redis != NULL && conf->redis->redis ? conf->redis : NULL;
	if (conf->body_in_redis && rc == NULL) {
		errbuf_set(err, errlen,
		    "quarantine: store = redis needs Redis configured");
		return NULL;
	}
	if (conf->body_in_redis && conf->redis_max_size == 0) {
		errbuf_set(err, errlen, "quarantine: redis_max_size is 0");
		return NULL;
	}
	if ((conf->dir == NULL || *conf->dir == '\0') && !conf->body_in_redis) {
		errbuf_set(err, errlen, "quarantine: no directory");
		return NULL;
	}
	if (rc != NULL) {
		if ((rc->socket == NULL || *rc->socket == '\0') &&
		    (rc->host == NULL || *rc->host == '\0' || rc->port <= 0 ||
		    rc->port > 65535)) {
			errbuf_set(err, errlen, "quarantine: no Redis socket, "
			    "or host and port");
			return NULL;
		}
		if (rc->prefix != NULL && strpbrk(rc->prefix, "{}") != NULL) {
			errbuf_set(err, errlen, "quarantine: the Redis prefix "
			    "may not contain a brace");
			return NULL;
		}
	}
	if (conf->dir != NULL && *conf->dir != '\0') {
		if (mkdir(conf->dir, 0700) != 0 && errno != EEXIST) {
			errbuf_set(err, errlen, "quarantine dir %s: %s",
			    conf->dir, g_strerror(errno));
			return NULL;
		}
		if (stat(conf->dir, &st) != 0) {
			errbuf_set(err, errlen, "quarantine dir %s: %s",
			    conf->dir, g_strerror(errno));
			return NULL;
		}
		if (!S_ISDIR(st.st_mode)) {
			errbuf_set(err, errlen, "quarantine dir %s: not a "
			    "directory", conf->dir);
			return NULL;
		}
	}

	s = g_new0(struct qstore, 1);
	if (conf->dir != NULL && *conf->dir != '\0')
		s->dir = g_strdup(conf->dir);
	s->body_in_redis = conf->body_in_redis;
	s->redis_max_size = conf->redis_max_size;
	if (rc != NULL) {
		s->redis = true;
		s->socket = g_strdup(S(rc->socket));
		s->host = g_strdup(rc->host);
		s->port = rc->port;
		s->password = g_strdup(S(rc->password));
		s->db = rc->db;
		s->prefix = g_strdup(S(rc->prefix));
		/* The history's timeouts are sized for every message; a
		 * quarantine write is rare and may carry megabytes, so it
		 * gets at least QSTORE_DEFAULT_MS (Postfix waits minutes
		 * at end of message). */
		s->connect_timeout_ms = MAX(rc->connect_timeout_ms,
		    QSTORE_DEFAULT_MS / 4);
		s->command_timeout_ms = MAX(rc->command_timeout_ms,
		    QSTORE_DEFAULT_MS);
	}
	memcpy(s->seal, key->seal, sizeof s->seal);
	return s;
}

struct qstore *
qstore_close(struct qstore *s)
{
	if (s == NULL)
		return NULL;
	sodium_memzero(s->seal, sizeof s->seal);
	g_free(s->dir);
	g_free(s->socket);
	g_free(s->host);
	if (s->password != NULL)
		sodium_memzero(s->password, strlen(s->password));
	g_free(s->password);
	g_free(s->prefix);
	g_free(s);
	return NULL;
}

/* ------------------------------------------------------------ put */

/* The hash of a new entry: HSET arguments after the key. */
static int
qstore_put_redis(struct qstore *s, redisContext *c, const struct qmeta *m,
    const char *meta, size_t metalen, const GByteArray *blob, char *err,
    size_t errlen)
{
	const char *argv[48];
	size_t lens[48];
	char when[32], records[32], size[32];
	char hex[TOKEN_DIGEST_BYTES * 2 + 1];
	char *hkey, *ikey;
	redisReply *r;
	long long v;
	int n = 0, rc = -1;

#define ARG(p, l)	do { argv[n] = (p); lens[n] = (l); n++; } while (0)
#define ARGS(p)		ARG((p), strlen(p))
	hkey = qstore_hkey(s, m->id);
	ikey = qstore_ikey(s);
	(void)snprintf(when, sizeof when, "%lld", (long long)m->when);
	(void)snprintf(records, sizeof records, "%zu", m->records);
	(void)snprintf(size, sizeof size, "%zu", m->size);
	(void)sodium_bin2hex(hex, sizeof hex, m->body_digest,
	    sizeof m->body_digest);
	ARGS("EVAL");
	ARGS(qstore_lua_put);
	ARGS("1");
	ARGS(hkey);
	ARGS("id");		ARGS(m->id);
	ARGS("when");		ARGS(when);
	ARGS("status");		ARGS(qstatus_name(m->status));
	ARGS("node");		ARGS(S(m->node));
	ARGS("queue_id");	ARGS(S(m->queue_id));
	ARGS("sender");		ARGS(S(m->sender));
	ARGS("recipients");	ARGS(S(m->recipients));
	ARGS("action");		ARGS(S(m->action));
	ARGS("rules");		ARGS(S(m->rules));
	ARGS("records");	ARGS(records);
	ARGS("size");		ARGS(size);
	ARGS("body_digest");	ARGS(hex);
	ARGS("audit");		ARGS(S(m->audit));
	ARGS("meta");		ARG(meta, metalen);
	if (blob != NULL) {
		ARGS("body");
		ARG((const char *)blob->data, blob->len);
	}
	g_assert((size_t)n <= G_N_ELEMENTS(argv));
	if ((v = qstore_rint(c, n, argv, lens, err, errlen)) < 0)
		goto out;
	if (v == 0) {
		errbuf_set(err, errlen, "quarantine entry %s: already stored",
		    m->id);
		goto out;
	}
	/* The index makes the entry listable: last. */
	n = 0;
	ARGS("ZADD");
	ARGS(ikey);
	ARGS(when);
	ARGS(m->id);
	if ((v = qstore_rint(c, n, argv, lens, err, errlen)) < 0) {
		/* XXX If the connection broke, this fails too and the
		 * hash stays, unlisted, until a purge finds it... which it
		 * cannot without the index.  Rare (a dead link between
		 * two commands) and holds no cleartext. */
		n = 0;
		ARGS("DEL");
		ARGS(hkey);
		if ((r = redisCommandArgv(c, n, argv, lens)) != NULL)
			freeReplyObject(r);
		goto out;
	}
	rc = 0;
out:
#undef ARG
#undef ARGS
	g_free(hkey);
	g_free(ikey);
	return rc;
}

int
qstore_put(struct qstore *s, const struct qmeta *m, const void *raw,
    size_t len, char *err, size_t errlen)
{
	struct qconn q = { 0 };
	GByteArray *blob = NULL;
	char *meta = NULL;
	size_t metalen;
	bool wrote_msg = false;
	int rc = -1;

	if (m == NULL || qstore_id_ok(m->id, err, errlen) != 0)
		goto out;
	/* A quarantined entry has its message (maybe empty), a held one
	 * none: qstore_body tells them apart by that. */
	if (raw != NULL ? m->status != QSTATUS_QUARANTINED :
	    m->status != QSTATUS_HELD || len != 0) {
		errbuf_set(err, errlen, "quarantine entry %s: status %s with%s "
		    "a message", m->id, qstatus_name(m->status),
		    raw != NULL ? "" : "out");
		goto out;
	}
	if (raw != NULL && s->body_in_redis && len > s->redis_max_size) {
		errbuf_set(err, errlen, "quarantine entry %s: %zu bytes, "
		    "over redis_max_size (%zu)", m->id, len,
		    s->redis_max_size);
		goto out;
	}
	/* Connect first: with Redis down nothing touches the disk. */
	if (s->redis && qstore_rconnect(s, &q, err, errlen) != 0)
		goto out;
	if (raw != NULL) {
		if ((blob = qstore_seal(s, m->id, raw, len, err, errlen))
		    == NULL)
			goto out;
		if (!s->body_in_redis) {
			if (qstore_write(s, m->id, "msg", blob->data,
			    blob->len, false, err, errlen) != 0)
				goto out;
			wrote_msg = true;
		}
	}
	meta = qstore_meta_json(m, &metalen);
	if (s->redis)
		rc = qstore_put_redis(s, q.c, m, meta, metalen,
		    s->body_in_redis ? blob : NULL, err, errlen);
	else
		rc = qstore_write(s, m->id, "json", meta, metalen, false, err,
		    errlen);
out:
	if (rc != 0 && wrote_msg)
		(void)qstore_remove(s, m->id, "msg", true, NULL, 0);
	qstore_rclose(&q);
	if (blob != NULL)
		g_byte_array_unref(blob);
	g_free(meta);
	return rc;
}

/* ------------------------------------------------------------ get */

static int
qstore_get_files(struct qstore *s, const char *id, struct qmeta *out,
    char *err, size_t errlen)
{
	GByteArray *b = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = qstore_read(s, id, "json", &b, err, errlen)) != 1)
		return rc;
	if (qstore_meta_parse(id, b->data, b->len, out, err, errlen) != 0)
		goto bad;
	g_byte_array_unref(b);
	b = NULL;
	if ((rc = qstore_read(s, id, "state", &b, err, errlen)) < 0)
		goto bad;
	if (rc == 1 &&
	    qstore_state_parse(id, b->data, b->len, out, err, errlen) != 0)
		goto bad;
	if (b != NULL)
		g_byte_array_unref(b);
	return 1;
bad:
	if (b != NULL)
		g_byte_array_unref(b);
	qmeta_clear(out);
	return -1;
}

static int
qstore_get_redis(struct qstore *s, redisContext *c, const char *id,
    struct qmeta *out, char *err, size_t errlen)
{
	const char *argv[QSTORE_HMGET_ARGC];
	char *hkey = qstore_hkey(s, id);
	redisReply *r;
	int rc = -1;

	memset(out, 0, sizeof *out);
	qstore_hmget_argv(argv, hkey);
	if ((r = qstore_rcmd(c, QSTORE_HMGET_ARGC, argv, NULL, err, errlen))
	    != NULL) {
		rc = qstore_from_hmget(r, id, out, err, errlen);
		freeReplyObject(r);
	}
	g_free(hkey);
	return rc;
}

int
qstore_get(struct qstore *s, const char *id, struct qmeta *out, char *err,
    size_t errlen)
{
	struct qconn q = { 0 };
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (qstore_id_ok(id, err, errlen) != 0)
		return -1;
	if (!s->redis)
		return qstore_get_files(s, id, out, err, errlen);
	if (qstore_rconnect(s, &q, err, errlen) == 0)
		rc = qstore_get_redis(s, q.c, id, out, err, errlen);
	qstore_rclose(&q);
	return rc;
}

/* ------------------------------------------------------------ body */

int
qstore_body(struct qstore *s, const char *id, GByteArray **out, char *err,
    size_t errlen)
{
	struct qconn q = { 0 };
	struct qmeta m;
	GByteArray *blob = NULL;
	const char *argv[3];
	char *hkey = NULL, *where = NULL;
	redisReply *r;
	int rc = -1, found = 0;

	*out = NULL;
	memset(&m, 0, sizeof m);
	if (qstore_id_ok(id, err, errlen) != 0)
		goto out;
	if (s->redis) {
		if (qstore_rconnect(s, &q, err, errlen) != 0 ||
		    (found = qstore_get_redis(s, q.c, id, &m, err, errlen)) < 0)
			goto out;
	} else if ((found = qstore_get_files(s, id, &m, err, errlen)) < 0)
		goto out;
	/* A deleted entry has no body, even if removing it failed. */
	if (found == 0 || m.status == QSTATUS_DELETED ||
	    m.status == QSTATUS_HELD) {
		rc = 0;
		goto out;
	}
	/* Look in Redis, then in dir, whatever body_in_redis says now:
	 * entries stored before the setting changed stay readable. */
	if (s->redis) {
		hkey = qstore_hkey(s, id);
		argv[0] = "HGET";
		argv[1] = hkey;
		argv[2] = "body";
		if ((r = qstore_rcmd(q.c, 3, argv, NULL, err, errlen)) == NULL)
			goto out;
		if (qstore_rstr(r)) {
			blob = g_byte_array_sized_new((guint)r->len);
			g_byte_array_append(blob, (const guint8 *)r->str,
			    (guint)r->len);
			where = g_strdup_printf("redis %s body", hkey);
		}
		freeReplyObject(r);
	}
	if (blob == NULL && s->dir != NULL) {
		if ((found = qstore_read(s, id, "msg", &blob, err, errlen)) < 0)
			goto out;
		where = qstore_path(s, id, "msg");
	}
	if (blob == NULL) {
		rc = 0;
		goto out;
	}
	if (qstore_unseal(s, id, where, blob->data, blob->len, out, err,
	    errlen) == 0)
		rc = 1;
out:
	qstore_rclose(&q);
	qmeta_clear(&m);
	if (blob != NULL)
		g_byte_array_unref(blob);
	g_free(hkey);
	g_free(where);
	return rc;
}

/* ------------------------------------------------------------ status */

int
qstore_set_status(struct qstore *s, const char *id, enum qstatus st,
    const char *officer, const char *reason, char *err, size_t errlen)
{
	struct qconn q = { 0 };
	const char *argv[10];
	char changed[32], *hkey = NULL, *state = NULL;
	time_t now = time(NULL);
	size_t len;
	long long v;
	int rc = -1;

	if (qstore_id_ok(id, err, errlen) != 0)
		goto out;
	if ((unsigned)st >= G_N_ELEMENTS(qstatus_names)) {
		errbuf_set(err, errlen, "quarantine entry %s: bad status %d",
		    id, (int)st);
		goto out;
	}
	if (s->redis) {
		if (qstore_rconnect(s, &q, err, errlen) != 0)
			goto out;
		hkey = qstore_hkey(s, id);
		(void)snprintf(changed, sizeof changed, "%lld",
		    (long long)now);
		argv[0] = "EVAL";
		argv[1] = qstore_lua_status;
		argv[2] = "1";
		argv[3] = hkey;
		argv[4] = qstatus_name(st);
		argv[5] = changed;
		argv[6] = S(officer);
		argv[7] = S(reason);
		argv[8] = st == QSTATUS_DELETED ? "1" : "0";
		if ((v = qstore_rint(q.c, 9, argv, NULL, err, errlen)) < 0)
			goto out;
		if (v == 0) {
			rc = 0;
			goto out;
		}
	} else {
		if (!qstore_file_exists(s, id, "json")) {
			rc = 0;
			goto out;
		}
		state = qstore_state_json(id, st, now, officer, reason, &len);
		if (qstore_write(s, id, "state", state, len, true, err,
		    errlen) != 0)
			goto out;
	}
	/* The status first, then the body: if removing fails, the trail
	 * says deleted, qstore_body already answers "no body", and the
	 * caller can try again. */
	if (st == QSTATUS_DELETED && s->dir != NULL &&
	    qstore_remove(s, id, "msg", true, err, errlen) != 0)
		goto out;
	rc = 1;
out:
	qstore_rclose(&q);
	g_free(hkey);
	g_free(state);
	return rc;
}

/* ------------------------------------------------------------ list */

/* Unreadable entries are skipped; the first reason is kept. */
struct qstore_skip {
	size_t		 n;
	char		 first[256];
};

static void
qstore_skip_note(struct qstore_skip *sk, const char *why)
{
	if (sk->n++ == 0)
		(void)g_strlcpy(sk->first, why, sizeof sk->first);
}

static void
qstore_skip_report(const struct qstore_skip *sk, char *err, size_t errlen)
{
	if (sk->n > 0)
		errbuf_set(err, errlen, "%zu unreadable quarantine "
		    "entr%s skipped (first: %s)", sk->n,
		    sk->n == 1 ? "y" : "ies", sk->first);
}

static gint
qstore_meta_cmp(gconstpointer a, gconstpointer b)
{
	const struct qmeta *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void
qstore_meta_clear_cb(gpointer p)
{
	qmeta_clear(p);
}

static int
qstore_list_files(struct qstore *s, qstore_walk_fn fn, void *arg,
    struct qstore_skip *sk, char *err, size_t errlen)
{
	GPtrArray *names;
	GArray *metas;
	struct qmeta m;
	char id[INCIDENT_ID_SIZE], why[256];
	const char *ext;
	guint i;
	int rc = 0, got;

	if ((names = qstore_names(s, err, errlen)) == NULL)
		return -1;
	metas = g_array_new(FALSE, FALSE, sizeof(struct qmeta));
	g_array_set_clear_func(metas, qstore_meta_clear_cb);
	for (i = 0; i < names->len; i++) {
		if (!qstore_name_id(names->pdata[i], false, id, &ext) ||
		    strcmp(ext, "json") != 0)
			continue;
		why[0] = '\0';
		got = qstore_get_files(s, id, &m, why, sizeof why);
		if (got < 0)
			qstore_skip_note(sk, why);
		else if (got == 1)	/* 0: purged meanwhile */
			g_array_append_val(metas, m);
	}
	g_array_sort(metas, qstore_meta_cmp);
	for (i = 0; i < metas->len && rc == 0; i++)
		rc = fn(&g_array_index(metas, struct qmeta, i), arg);
	g_array_unref(metas);
	g_ptr_array_unref(names);
	return rc;
}

/* Pages through the index by rank: the sorted set orders by score (the
 * time) and then by member (the id), as the files are sorted.  XXX An
 * entry purged while we walk shifts the ranks, so one entry may be
 * missed or seen twice in that walk; purges are daily and old. */
static int
qstore_list_redis(struct qstore *s, redisContext *c, qstore_walk_fn fn,
    void *arg, struct qstore_skip *sk, char *err, size_t errlen)
{
	const char *argv[QSTORE_HMGET_ARGC];
	char *ikey = qstore_ikey(s), *hkey, start[32], stop[32], why[256];
	const char *zargv[4];
	redisReply *ids = NULL, *r;
	const char *id;
	struct qmeta m;
	long long pos = 0;
	void *p;
	size_t i;
	int rc = 0, got, e;

	for (;;) {
		(void)snprintf(start, sizeof start, "%lld", pos);
		(void)snprintf(stop, sizeof stop, "%lld",
		    pos + QSTORE_PAGE - 1);
		zargv[0] = "ZRANGE";
		zargv[1] = ikey;
		zargv[2] = start;
		zargv[3] = stop;
		if ((ids = qstore_rcmd(c, 4, zargv, NULL, err, errlen))
		    == NULL) {
			rc = -1;
			break;
		}
		if (ids->type != REDIS_REPLY_ARRAY) {
			errbuf_set(err, errlen, "redis ZRANGE: unexpected "
			    "reply");
			rc = -1;
			break;
		}
		if (ids->elements == 0)
			break;
		/* One round trip per page. */
		for (i = 0; i < ids->elements; i++) {
			if ((id = qstore_rid(ids->element[i])) == NULL)
				continue;
			hkey = qstore_hkey(s, id);
			qstore_hmget_argv(argv, hkey);
			e = redisAppendCommandArgv(c, QSTORE_HMGET_ARGC, argv,
			    NULL);
			g_free(hkey);
			if (e != REDIS_OK) {
				errbuf_set(err, errlen, "redis: %s",
				    c->errstr);
				rc = -1;
				goto out;
			}
		}
		for (i = 0; i < ids->elements; i++) {
			if ((id = qstore_rid(ids->element[i])) == NULL) {
				qstore_skip_note(sk, "a bad id in the index");
				continue;
			}
			if (redisGetReply(c, &p) != REDIS_OK || p == NULL) {
				errbuf_set(err, errlen, "redis: %s",
				    c->errstr[0] != '\0' ? c->errstr :
				    "no reply");
				rc = -1;
				goto out;
			}
			r = p;
			why[0] = '\0';
			if (r->type == REDIS_REPLY_ERROR) {
				errbuf_set(why, sizeof why, "redis: %.*s",
				    (int)r->len, S(r->str));
				got = -1;
			} else
				got = qstore_from_hmget(r, id, &m, why,
				    sizeof why);
			freeReplyObject(r);
			if (got < 0)
				qstore_skip_note(sk, why);
			if (got != 1)	/* 0: purged meanwhile */
				continue;
			/* Replies left unread die with the connection. */
			rc = fn(&m, arg);
			qmeta_clear(&m);
			if (rc != 0)
				goto out;
		}
		if (ids->elements < QSTORE_PAGE)
			break;
		pos += QSTORE_PAGE;
		freeReplyObject(ids);
		ids = NULL;
	}
out:
	if (ids != NULL)
		freeReplyObject(ids);
	g_free(ikey);
	return rc;
}

int
qstore_list(struct qstore *s, qstore_walk_fn fn, void *arg, char *err,
    size_t errlen)
{
	struct qstore_skip sk = { 0 };
	struct qconn q = { 0 };
	int rc = -1;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!s->redis)
		rc = qstore_list_files(s, fn, arg, &sk, err, errlen);
	else if (qstore_rconnect(s, &q, err, errlen) == 0)
		rc = qstore_list_redis(s, q.c, fn, arg, &sk, err, errlen);
	qstore_rclose(&q);
	if (rc == 0)
		qstore_skip_report(&sk, err, errlen);
	return rc;
}

/* ------------------------------------------------------------ purge */

/* Whether id is an entry: 1, 0, -1. */
static int
qstore_exists(struct qstore *s, redisContext *c, const char *id, char *err,
    size_t errlen)
{
	const char *argv[2];
	char *hkey;
	long long v;

	if (!s->redis)
		return qstore_file_exists(s, id, "json") ? 1 : 0;
	hkey = qstore_hkey(s, id);
	argv[0] = "EXISTS";
	argv[1] = hkey;
	v = qstore_rint(c, 2, argv, NULL, err, errlen);
	g_free(hkey);
	return v < 0 ? -1 : v > 0;
}

/* Removes what a crash left in dir before `before`: temporary files,
 * and bodies, states and used marks of ids that are no entry. */
static int
qstore_sweep(struct qstore *s, redisContext *c, time_t before, char *err,
    size_t errlen)
{
	GPtrArray *names;
	struct stat st;
	char id[INCIDENT_ID_SIZE], *path;
	const char *ext, *name;
	guint i;
	int rc = 0, ex;
	bool tmp;

	if ((names = qstore_names(s, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < names->len && rc == 0; i++) {
		name = names->pdata[i];
		tmp = name[0] == '.';
		if (!qstore_name_id(name, tmp, id, &ext) ||
		    (!tmp && strcmp(ext, "msg") != 0 &&
		    strcmp(ext, "state") != 0 && strcmp(ext, "used") != 0))
			continue;
		path = g_strdup_printf("%s/%s", s->dir, name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime < before) {
			if (!tmp && (ex = qstore_exists(s, c, id, err,
			    errlen)) != 0)
				rc = ex < 0 ? -1 : 0;
			else if (unlink(path) != 0 && errno != ENOENT) {
				errbuf_set(err, errlen, "%s: %s", path,
				    g_strerror(errno));
				rc = -1;
			}
		}
		g_free(path);
	}
	g_ptr_array_unref(names);
	return rc;
}

/* Every trace of id: body, state and used mark, then what lists it. */
static int
qstore_purge_files_one(struct qstore *s, const char *id, char *err,
    size_t errlen)
{
	static const char *const exts[] = { "msg", "state", "used", "json" };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(exts); i++)
		if (qstore_remove(s, id, exts[i], false, err, errlen) != 0)
			return -1;
	return 0;
}

static int
qstore_purge_files(struct qstore *s, time_t before, size_t *removed,
    char *err, size_t errlen)
{
	GPtrArray *names;
	struct qmeta m;
	struct stat st;
	char id[INCIDENT_ID_SIZE], *path;
	const char *ext;
	time_t when;
	guint i;
	int rc = 0, got;

	if ((names = qstore_names(s, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < names->len && rc == 0; i++) {
		if (!qstore_name_id(names->pdata[i], false, id, &ext) ||
		    strcmp(ext, "json") != 0)
			continue;
		got = qstore_get_files(s, id, &m, NULL, 0);
		when = m.when;
		qmeta_clear(&m);
		if (got == 0)
			continue;
		if (got < 0) {
			/* Unreadable: retention still applies, by the age
			 * of the file. */
			path = qstore_path(s, id, "json");
			got = lstat(path, &st);
			g_free(path);
			if (got != 0)
				continue;
			when = st.st_mtime;
		}
		if (when >= before)
			continue;
		if ((rc = qstore_purge_files_one(s, id, err, errlen)) == 0)
			(*removed)++;
	}
	g_ptr_array_unref(names);
	return rc;
}

static int
qstore_purge_redis(struct qstore *s, redisContext *c, time_t before,
    size_t *removed, char *err, size_t errlen)
{
	const char *argv[8];
	size_t lens[3];
	char *ikey = qstore_ikey(s), *hkey, *ukey, max[32], page[16];
	redisReply *ids;
	const char *id;
	size_t i;
	int rc = 0;

	(void)snprintf(max, sizeof max, "(%lld", (long long)before);
	(void)snprintf(page, sizeof page, "%d", QSTORE_PAGE);
	/* Each page is removed from the index, so the next one starts
	 * at 0 again. */
	for (;;) {
		argv[0] = "ZRANGEBYSCORE";
		argv[1] = ikey;
		argv[2] = "-inf";
		argv[3] = max;
		argv[4] = "LIMIT";
		argv[5] = "0";
		argv[6] = page;
		if ((ids = qstore_rcmd(c, 7, argv, NULL, err, errlen)) == NULL) {
			rc = -1;
			break;
		}
		if (ids->type != REDIS_REPLY_ARRAY) {
			errbuf_set(err, errlen, "redis ZRANGEBYSCORE: "
			    "unexpected reply");
			freeReplyObject(ids);
			rc = -1;
			break;
		}
		for (i = 0; i < ids->elements && rc == 0; i++) {
			if (!qstore_rstr(ids->element[i]))
				continue;
			/* A member that is no id names no file or key. */
			if ((id = qstore_rid(ids->element[i])) != NULL) {
				if (s->dir != NULL && qstore_remove(s, id,
				    "msg", false, err, errlen) != 0) {
					rc = -1;
					break;
				}
				hkey = qstore_hkey(s, id);
				ukey = qstore_ukey(s, id);
				argv[0] = "DEL";
				argv[1] = hkey;
				argv[2] = ukey;
				if (qstore_rint(c, 3, argv, NULL, err, errlen)
				    < 0)
					rc = -1;
				g_free(hkey);
				g_free(ukey);
				if (rc != 0)
					break;
			}
			argv[0] = "ZREM";
			argv[1] = ikey;
			argv[2] = ids->element[i]->str;
			lens[0] = 4;
			lens[1] = strlen(ikey);
			lens[2] = ids->element[i]->len;
			if (qstore_rint(c, 3, argv, lens, err, errlen) < 0) {
				rc = -1;
				break;
			}
			if (id != NULL)
				(*removed)++;
		}
		i = ids->elements;
		freeReplyObject(ids);
		if (rc != 0 || i < QSTORE_PAGE)
			break;
	}
	g_free(ikey);
	return rc;
}

int
qstore_purge(struct qstore *s, time_t before, size_t *removed, char *err,
    size_t errlen)
{
	struct qconn q = { 0 };
	size_t dummy;
	int rc = -1;

	if (removed == NULL)
		removed = &dummy;
	*removed = 0;
	if (s->redis) {
		if (qstore_rconnect(s, &q, err, errlen) != 0 ||
		    qstore_purge_redis(s, q.c, before, removed, err, errlen)
		    != 0)
			goto out;
	} else if (qstore_purge_files(s, before, removed, err, errlen) != 0)
		goto out;
	if (s->dir != NULL &&
	    (qstore_sweep(s, q.c, before, err, errlen) != 0 ||
	    qstore_syncdir(s, err, errlen) != 0))
		goto out;
	rc = 0;
out:
	qstore_rclose(&q);
	return rc;
}

/* ------------------------------------------------------------ claim */

static int
qstore_claim_file(struct qstore *s, const char *id, char *err,
    size_t errlen)
{
	char *path = NULL, buf[32];
	int fd = -1, rc = -1, n;

	/* A token for an entry that is gone (purged: its mark too) is not
	 * honoured, or it would pass again after the retention time. */
	if (!qstore_file_exists(s, id, "json")) {
		rc = 0;
		goto out;
	}
	path = qstore_path(s, id, "used");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0) {
		if (errno == EEXIST)
			rc = 0;
		else
			errbuf_set(err, errlen, "%s: %s", path,
			    g_strerror(errno));
		goto out;
	}
	/* From here a failure still leaves the mark: the token is then
	 * spent without the message passing, which fails safe. */
	n = snprintf(buf, sizeof buf, "%lld\n", (long long)time(NULL));
	if (fd_write_all(fd, buf, (size_t)n) != 0 || fsync(fd) != 0) {
		errbuf_set(err, errlen, "%s: %s", path, g_strerror(errno));
		goto out;
	}
	if (qstore_syncdir(s, err, errlen) != 0)
		goto out;
	rc = 1;
out:
	if (fd >= 0)
		(void)close(fd);
	g_free(path);
	return rc;
}

int
qstore_claim(struct qstore *s, const char *id, char *err, size_t errlen)
{
	struct qconn q = { 0 };
	const char *argv[6];
	char *hkey, *ukey, now[32];
	long long v;

	if (qstore_id_ok(id, err, errlen) != 0)
		return -1;
	if (!s->redis)
		return qstore_claim_file(s, id, err, errlen);
	if (qstore_rconnect(s, &q, err, errlen) != 0) {
		qstore_rclose(&q);
		return -1;
	}
	hkey = qstore_hkey(s, id);
	ukey = qstore_ukey(s, id);
	(void)snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	argv[0] = "EVAL";
	argv[1] = qstore_lua_claim;
	argv[2] = "2";
	argv[3] = hkey;
	argv[4] = ukey;
	argv[5] = now;
	v = qstore_rint(q.c, 6, argv, NULL, err, errlen);
	qstore_rclose(&q);
	g_free(hkey);
	g_free(ukey);
	return v < 0 ? -1 : v > 0;
}
