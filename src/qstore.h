/* qstore.h - the quarantine store: messages custos stopped, encrypted
 * at rest, with the metadata officers review them by.
 *
 * Two kinds of entry share one index:
 *   quarantined  custos holds the message: its raw bytes are sealed
 *                (libsodium secretstream XChaCha20-Poly1305 under the
 *                qkey "seal" subkey, 64 KiB chunks, the incident id as
 *                additional data so a file moved onto another id does
 *                not open) and the MTA is told to discard it only after
 *                qstore_put returned 0;
 *   held         Postfix keeps the message in its hold queue (queue id
 *                and node recorded); custos keeps metadata only.
 *
 * Where:
 *   - no Redis configured: everything in dir: ID.msg (sealed message),
 *     ID.json (metadata as decided; never rewritten), ID.state (the
 *     last status change; replaced whole), ID.used (a release token
 *     was honoured; created O_EXCL).  Files are written to a temporary
 *     name (.ID.ext.XXXXXX), fsync'd, linked (new files: never over
 *     another) or renamed (ID.state) into place, and the directory
 *     fsync'd, so a crash leaves the old state or the new one, never
 *     half a file.
 *   - Redis configured (conf.redis): metadata, status and the used
 *     mark in Redis, so every node can list, show and release (keys in
 *     doc/redis-schema.md: PREFIX q:{ID} hash, PREFIX q:index sorted
 *     set by time, PREFIX q:used:{ID}); the sealed message in dir
 *     (shared between nodes, e.g. NFS), or in Redis too when
 *     body_in_redis (field "body" of the hash; refused over
 *     redis_max_size).
 * Metadata holds what the audit log holds (incident, envelope, verdict,
 * reasons, record ids, counts, masked samples): never a value in clear.
 *
 * Ids given to every function must be canonical (incident_parse's
 * output, e.g. "7K2M-Q9XD-3F0A"): anything else is refused (-1), since
 * ids become file names and Redis keys; canonicalise what people type.
 * Nothing here expires: retention is qstore_purge's job.
 *
 * Thread-safe (a Redis connection per call, timeouts from store_conf;
 * SIGPIPE blocked meanwhile).  Errors: -1 with err; lookups 1 found /
 * 0 not found / -1 could not ask. */
#ifndef CUSTOS_QSTORE_H
#define CUSTOS_QSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <glib.h>

#include "incident.h"
#include "qkey.h"
#include "store.h"
#include "token.h"

enum qstatus {
	QSTATUS_QUARANTINED = 0,	/* body stored, awaiting a decision */
	QSTATUS_HELD,			/* in the Postfix hold queue */
	QSTATUS_RELEASED,
	QSTATUS_DELETED
};

const char	*qstatus_name(enum qstatus);
int		 qstatus_parse(const char *, enum qstatus *);	/* 0 / -1 */

struct qstore_conf {
	char		*dir;		/* sealed messages (and metadata
					   without Redis) */
	bool		 body_in_redis;	/* quarantine { store = redis } */
	size_t		 redis_max_size;	/* largest body in Redis */
	const struct store_conf *redis;	/* NULL or ->redis false: no Redis */
};

/* One entry as listed.  Strings are owned by the struct (g_malloc'd;
 * qmeta_clear); as read back they are never NULL ("" when unknown),
 * except officer and reason before any change.  Lists (recipients,
 * rules) are comma-separated.  Stored as JSON, so invalid UTF-8 comes
 * back as U+FFFD. */
struct qmeta {
	char		 id[INCIDENT_ID_SIZE];
	time_t		 when;		/* the decision */
	enum qstatus	 status;
	char		*node;		/* gateway that decided */
	char		*queue_id;	/* Postfix queue id ("" unknown) */
	char		*sender;
	char		*recipients;
	char		*action;	/* as decided: "quarantine", "hold",
					   "reject" */
	char		*rules;
	size_t		 records;	/* distinct customer records */
	size_t		 size;		/* raw message bytes */
	unsigned char	 body_digest[TOKEN_DIGEST_BYTES];
	char		*audit;		/* the decision's audit JSON object */
	/* The last status change (officer actions); 0 / NULL before any. */
	time_t		 changed;
	char		*officer;
	char		*reason;
};

/* Frees the strings and zeroes the struct; NULL-safe. */
void	qmeta_clear(struct qmeta *);

struct qstore;

/* Checks conf, creates dir (0700, not its parents) when missing, keeps
 * a copy of the seal subkey and of conf.  dir may be NULL only with
 * body_in_redis, which needs Redis and redis_max_size > 0.  Does not
 * connect.  NULL with err. */
struct qstore	*qstore_open(const struct qstore_conf *, const struct qkey *,
		    char *err, size_t errlen);
/* Wipes the key copy.  NULL-safe, returns NULL. */
struct qstore	*qstore_close(struct qstore *);

/* Stores a new entry.  raw/len: the whole message for a quarantined
 * entry (status QSTATUS_QUARANTINED; len may be 0); NULL/0 for a held
 * one (QSTATUS_HELD); other combinations are refused.  The body is
 * written first, then the metadata that makes the entry exist.  An id
 * already stored is refused, never overwritten.  Returns 0 only when
 * the entry is durable (fsync'd file and directory; Redis replied OK),
 * else -1 and nothing is left behind that a list would show. */
int	qstore_put(struct qstore *, const struct qmeta *, const void *raw,
	    size_t len, char *err, size_t errlen);

/* 1 and *out filled, 0 no such entry, -1 error (unreadable metadata
 * too).  *out is overwritten (clear it first if it held strings); on 0
 * and -1 it is zeroed, so qmeta_clear is always safe. */
int	qstore_get(struct qstore *, const char *id, struct qmeta *out,
	    char *err, size_t errlen);

/* The decrypted message (caller g_byte_array_unref()s).  1, 0 no body
 * (held, deleted, or no such entry), -1 error: "tampered or wrong key"
 * when authentication fails (a changed, cut, extended or renamed
 * sealed message, or another key), I/O errors otherwise. */
int	qstore_body(struct qstore *, const char *id, GByteArray **out,
	    char *err, size_t errlen);

/* Records a status change by an officer (status, time now, officer,
 * reason); it replaces the previous change, the put-time metadata
 * stays.  QSTATUS_DELETED also removes the body, after the status is
 * recorded (on -1 the status may say deleted with the body still
 * there: call again).  No transition is refused here: that is the
 * caller's policy.  1, 0 no such entry, -1. */
int	qstore_set_status(struct qstore *, const char *id, enum qstatus,
	    const char *officer, const char *reason, char *err,
	    size_t errlen);

/* Calls fn for every entry, oldest first (by time, then id); fn
 * returns 0 to go on, else the walk stops and that value is returned.
 * The qmeta is valid during the call only.  -1 with err when the store
 * cannot be read.  Entries that cannot be read are skipped, not fatal
 * (one bad file must not hide the rest from officers): then the walk
 * still returns 0 (or fn's value), and err (cleared on entry) says
 * how many were skipped and why the first was; log it when non-empty. */
typedef int (*qstore_walk_fn)(const struct qmeta *, void *arg);
int	qstore_list(struct qstore *, qstore_walk_fn, void *arg, char *err,
	    size_t errlen);

/* Removes every trace of entries decided before `before` (body,
 * metadata, index, used mark); unreadable metadata files go by their
 * age.  Also removes what a crash left in dir older than `before`
 * (temporary files; bodies, states and marks of no entry), so pass a
 * time in the past.  *removed (may be NULL) counts entries.  0 or -1. */
int	qstore_purge(struct qstore *, time_t before, size_t *removed,
	    char *err, size_t errlen);

/* Marks the release token of id as used, atomically across nodes
 * (O_EXCL file, or Redis SET NX).  1 claimed now, 0 claimed before or
 * no such entry (a purged entry's mark is gone with it, so its token
 * must not pass again), -1 error (then nobody may pass the message
 * unscanned). */
int	qstore_claim(struct qstore *, const char *id, char *err,
	    size_t errlen);

#endif
