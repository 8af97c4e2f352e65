/* affected.h - who was exposed: the customer records one sender's mail
 * carried (or tried to carry) out, for breach notification.
 *
 * Read from the JSON audit log (audit.h; current file and rotated ones,
 * plain or .gz), or from the Redis incident stream (store.h) when the
 * audit logs are spread over nodes.  Every decision whose sender matches
 * and whose time and enforced action pass the filter contributes its
 * record_ids; each record gets the first and last time it was seen and
 * the number of messages.  Lines that are not JSON or not audit entries
 * are counted and skipped, never fatal; a decision whose record ids were
 * cut (record_ids_omitted) is counted so the report can say the list is
 * incomplete.
 *
 * Not thread-safe (one query at a time).  Errors: -1 with err. */
#ifndef CUSTOS_AFFECTED_H
#define CUSTOS_AFFECTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "store.h"

struct affected_query {
	const char	*sender;	/* compared case-insensitively */
	time_t		 since;		/* 0: from the start */
	time_t		 until;		/* 0: to now */
	unsigned	 actions;	/* 1u << enum action, as enforced;
					   0: every action */
};

struct affected_record {
	char		*list;
	char		*id;
	bool		 canary;
	time_t		 first;
	time_t		 last;
	size_t		 messages;
	char		*incidents;	/* comma-separated, at most 20 */
};

struct affected_result {
	struct affected_record *records;	/* sorted by list, then id */
	size_t		 nrecords;
	size_t		 decisions;	/* matching decisions read */
	size_t		 incomplete;	/* of those, with ids omitted */
	size_t		 skipped;	/* unreadable lines */
};

/* Reads each path in order (a missing rotated file is an error; the
 * caller picks the files). */
int	affected_from_audit(const char *const *paths, size_t npaths,
	    const struct affected_query *, struct affected_result *,
	    char *err, size_t errlen);
/* Reads the incident stream between since and until. */
int	affected_from_store(struct store *, const struct affected_query *,
	    struct affected_result *, char *err, size_t errlen);

/* CSV: list,record_id,canary,first_seen,last_seen,messages,incidents
 * (RFC 4180 quoting, times ISO 8601 UTC).  JSON: one object with the
 * query, the counts and "records": [...]. */
int	affected_write_csv(FILE *, const struct affected_result *);
int	affected_write_json(FILE *, const struct affected_query *,
	    const struct affected_result *);

void	affected_clear(struct affected_result *);

#endif
