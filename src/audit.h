/* audit.h - the JSON audit log: one line per decision, and one per
 * incident officer's action, for the SIEM.  "type" tells them apart.
 *
 * Decision fields: type ("decision"), time, node, queue_id, incident, sender, auth_user, client,
 * client_name, recipients ([{domain, class, partner, count}]: one entry
 * per domain), size, action (as enforced), mode ("enforce"|"monitor"),
 * would (the action monitor mode held back), rules (matching), exemption,
 * records (distinct), canaries, per_list, record_ids ([{id, list, where,
 * canary}], internal ids for incident response; at most 1000, then
 * record_ids_omitted), detectors, keywords, samples ([{kind|detector,
 * sample, where}]), unscannable ([{reason, where}]), list_version,
 * store_error, elapsed_ms.  Absent parts are null or empty.  Never a
 * value in clear: recipients appear as domains, values only masked.
 *
 * Officer fields: type ("officer"), time, node, event, incident,
 * officer, reason, detail, ok, error.  Reason and detail are what the
 * officer typed, written as given (escaped, never interpreted).
 *
 * The file is opened O_APPEND and each line is one write(2), so lines
 * from threads never interleave; audit_reopen (on SIGHUP or SIGUSR1)
 * opens the path again for logrotate.
 *
 * Thread-safe.  Errors: -1 with err; a failed write is the caller's to
 * log, never a reason to lose or delay mail. */
#ifndef CUSTOS_AUDIT_H
#define CUSTOS_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "envelope.h"
#include "pipeline.h"
#include "policy.h"

struct audit_entry {
	time_t				 when;	/* 0: now, with milliseconds */
	int				 when_ms;	/* with when: its ms */
	const struct conf		*conf;	/* lists, policy names, node */
	const struct envelope		*env;
	const struct pipeline_result	*result;	/* verdict, findings,
							   segments, size */
	const struct policy_outcome	*outcome;
	bool				 store_error;
	double				 elapsed_ms;
};

/* An incident officer's action on a held message. */
struct audit_officer {
	const char	*event;		/* "release", "delete", "show-raw",
					   "purge", "release-delivered",
					   "release-refused" */
	const char	*incident;
	const char	*officer;	/* who: login or certificate name */
	const char	*reason;	/* the officer's words */
	const char	*detail;	/* e.g. the recipients released to */
	const char	*node;
	bool		 ok;
	const char	*error;		/* why it failed, when !ok */
};

/* Opens (creating, mode 0640) the log at path; "" closes it. */
int	audit_open(const char *path, char *err, size_t errlen);
int	audit_reopen(char *err, size_t errlen);
void	audit_close(void);

/* The entry as one JSON object without the newline; caller g_free()s. */
char	*audit_json(const struct audit_entry *, size_t *len);
/* Appends the entry's line.  0 when written or no log is open, -1 on a
 * write error. */
int	audit_write(const struct audit_entry *, char *err, size_t errlen);

/* The officer's action as one JSON object without the newline, time
 * now; caller g_free()s. */
char	*audit_officer_json(const struct audit_officer *, size_t *len);
/* Appends the officer's line, like audit_write: 0 when written or no
 * log is open, -1 on a write error. */
int	audit_write_officer(const struct audit_officer *, char *err,
	    size_t errlen);

#endif
