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

/* One decision, for the counters and the incident stream. */
struct store_event {
	time_t		 when;
	const char	*node;
	const char	*sender;
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
};

struct store;

/* Checks conf (windows > 0, no brace in the prefix, a Redis host and
 * port) and copies it; does not connect.  NULL with err. */
struct store	*store_new(const struct store_conf *, char *err, size_t errlen);
/* NULL-safe, returns NULL.  Closes the calling thread's connection;
 * other threads close theirs at their next call or when they exit. */
struct store	*store_free(struct store *);

/* Adds this message to sender's history when it carries records
 * (nrecords > 0; its external recipients count only then) and returns
 * the history with it included, for every window: one round trip.
 * The sender and recipients are compared in lower case.  now places
 * the message in the windows' time buckets: a window of w seconds
 * covers between w and w + b seconds back (b = max(60, w/24), the
 * bucket size).  record_keys: "list:id" strings; ext_rcpts: the
 * non-internal recipient addresses.  On -1, out->known is false and
 * err says why ("redis unavailable (backoff)" while Redis is being
 * given time after a failure). */
int	store_history(struct store *, const char *sender, time_t now,
	    const char *const *record_keys, size_t nrecords,
	    const char *const *ext_rcpts, size_t nrcpts,
	    struct policy_history *out, char *err, size_t errlen);

/* Counts a decision: per-hour and per-day counters (messages, bytes,
 * each action, each rule, each detector, store errors), the per-day
 * sorted set of senders by records sent, and an XADD to the incident
 * stream (MAXLEN ~ stream_maxlen) when there is an incident.  Queued on
 * the thread's connection without waiting (pipelined); the replies are
 * read before its next command.  Returns 0 or -1. */
int	store_account(struct store *, const struct store_event *, char *err,
	    size_t errlen);

#endif
