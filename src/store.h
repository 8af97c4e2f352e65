/* store.h - shared state between gateway nodes: each sender's history
 * over time windows, and the SOC counters and incident stream.
 *
 * Redis (hiredis) when configured, else an in-process store with the
 * same semantics for a single gateway.  Redis: one connection per
 * thread (thread-local, created on first use), connect and command
 * timeouts, reconnect with backoff after a failure, AUTH and SELECT, a
 * key prefix, the sender in a hash tag {...} so one sender's keys share a
 * Redis Cluster slot, EXPIRE on every key.  Keys are documented in
 * doc/redis-schema.md.  No value from mail is ever written: senders,
 * recipient domains/addresses, record ids and counts only.
 *
 * History: per sender and per window, distinct customer records sent to
 * non-internal recipients (HyperLogLog per time bucket; PFCOUNT over the
 * window's buckets), messages carrying customer data, and distinct
 * external recipients.
 *
 * Thread-safe.  Errors: -1 with err text: "could not ask" is never
 * "nothing there"; the caller applies on_store_error. */
#ifndef CUSTOS_STORE_H
#define CUSTOS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "policy.h"

struct store_conf {
	bool		 redis;		/* false: in-process store */
	char		*socket;	/* unix socket; NULL or "": host:port */
	char		*host;
	int		 port;
	char		*password;	/* "" = no AUTH */
	int		 db;
	char		*prefix;	/* e.g. "custos:" */
	int		 connect_timeout_ms;
	int		 command_timeout_ms;
	unsigned	 windows[POLICY_MAX_WINDOWS];	/* seconds */
	size_t		 nwindows;
	size_t		 stream_maxlen;	/* incident stream, approximate */
};

/* A customer record a message carried, for the incident stream. */
struct store_record {
	const char	*list;		/* list name */
	const char	*id;		/* record id */
	bool		 canary;
};

/* Record ids per stream entry, as in the audit log: beyond this the
 * entry says how many it left out. */
#define STORE_MAX_RECORD_IDS	1000

/* One decision, for the counters and the incident stream. */
struct store_event {
	time_t		 when;
	const char	*node;
	const char	*sender;	/* as policy saw it: the auth user, else
					   the envelope sender */
	const char	*mail_from;	/* envelope sender; NULL: unknown */
	const char	*incident;	/* NULL for a plain pass */
	const char	*action;	/* as enforced */
	bool		 monitor;	/* decided under monitor mode */
	const char	*would;		/* action without monitor mode */
	size_t		 bytes;
	size_t		 records;
	const char	*const *rules;	/* names of matching rules */
	size_t		 nrules;
	const size_t	*detectors;	/* DET_COUNT counts */
	bool		 store_error;	/* the history could not be read */
	const struct store_record *record_ids;	/* every record found, in
					   findings_sorted() order; the
					   stream keeps the first
					   STORE_MAX_RECORD_IDS */
	size_t		 nrecord_ids;
};

/* An incident officer's action (release, delete, ...), for the incident
 * stream.  Mirrors struct audit_officer (audit.h), which cannot be used
 * here: audit.h includes conf.h, which includes this file.  Every string
 * may be NULL (written as ""). */
struct store_officer_event {
	const char	*event;		/* "release", "delete", "show-raw",
					   "purge", "release-delivered",
					   "release-refused" */
	const char	*incident;
	const char	*officer;
	const char	*reason;	/* the officer's words */
	const char	*detail;
	const char	*node;
	bool		 ok;
	const char	*error;		/* why it failed, when !ok */
};

/* One incident stream entry as store_stream_range hands it over: the
 * stream id ("<ms>-<seq>", Redis' clock) and the fields in the order
 * written.  Valid during the callback only; the callback must not
 * call the store (its connection is busy with the read). */
struct store_entry {
	const char	*id;
	size_t		 nfields;
	const char *const *names;
	const char *const *values;	/* NUL-terminated */
};

/* Returns 0 to go on, non-zero to stop reading (not an error). */
typedef int	(*store_entry_fn)(const struct store_entry *, void *arg);

struct store;

/* Checks conf (windows > 0, no brace in the prefix, a Redis host and
 * port) and copies it; does not connect.  NULL with err.  Notes whether
 * the process ignores SIGPIPE now: if it does, the store's calls do not
 * block SIGPIPE around their Redis I/O, so a process that ignores it
 * must not stop ignoring it while the store lives. */
struct store	*store_new(const struct store_conf *, char *err, size_t errlen);
/* NULL-safe, returns NULL.  Closes the calling thread's connection and
 * those waiting for a new thread (a thread's connections outlive it, for
 * the next thread to take); other threads close theirs at their next
 * call or when they exit. */
struct store	*store_free(struct store *);

/* Adds this message to sender's history when it carries records
 * (nrecords > 0; its external recipients count only then) and returns
 * the history with it included, for every window: one round trip.
 * The sender and recipients are compared in lower case.  now places
 * the message in the windows' time buckets: a window of w seconds
 * covers between w and w + b seconds back (b = max(60, w/24), the
 * bucket size).  record_keys: "list:id" strings; ext_rcpts: the
 * non-internal recipient addresses.  out NULL: the message is added
 * and nothing is read back, for rules that have no history condition
 * (the write's replies are still waited for, so a failure is -1 as
 * ever).  On -1, out->known is false and err says why ("redis
 * unavailable (backoff)" while Redis is being given time after a
 * failure). */
int	store_history(struct store *, const char *sender, time_t now,
	    const char *const *record_keys, size_t nrecords,
	    const char *const *ext_rcpts, size_t nrcpts,
	    struct policy_history *out, char *err, size_t errlen);

/* Counts a decision: per-hour and per-day counters (messages, bytes,
 * each action, each rule, each detector, store errors), the per-day
 * sorted set of senders by records sent, and an XADD to the incident
 * stream (MAXLEN ~ stream_maxlen, type=decision) when there is an
 * incident or record ids: a pass that carried records out is part of
 * who was exposed (affected.h).  The strings and record ids are copied
 * before the call returns.  Queued on the thread's connection without
 * waiting (pipelined); the replies are read before its next command.
 * Returns 0 or -1. */
int	store_account(struct store *, const struct store_event *, char *err,
	    size_t errlen);

/* Appends an officer's action to the incident stream (type=officer),
 * waiting for the reply: officers act rarely, and the caller wants to
 * know it is recorded.  The in-process store keeps no stream: 0 (the
 * audit log has the line).  Returns 0 or -1 with err. */
int	store_officer(struct store *, const struct store_officer_event *,
	    char *err, size_t errlen);

/* Calls fn for each incident stream entry whose id (the time Redis
 * added it) lies in [since, until), oldest first, in pages; until 0 is
 * no end.  The caller filters on the entry's own "time" field, which is
 * the gateway's clock.  -1 with err on a Redis error (fn may have been
 * called for some entries) and for the in-process store, which keeps no
 * stream. */
int	store_stream_range(struct store *, time_t since, time_t until,
	    store_entry_fn fn, void *arg, char *err, size_t errlen);
/* The value of field name in e, or NULL. */
const char *store_entry_get(const struct store_entry *, const char *name);

#endif
