/* verdict.h - what custos decided about one message, and why.
 *
 * Actions are ordered by severity: when several reasons apply, the most
 * severe action wins.  Reasons are short strings custos wrote itself
 * (rule names, "unscannable: too-large"): never text from the message.
 *
 * Owns its reason strings.  Not thread-safe; one per message. */
#ifndef CUSTOS_VERDICT_H
#define CUSTOS_VERDICT_H

#include <stddef.h>

#include "incident.h"

enum action {
	ACTION_PASS = 0,
	ACTION_TAG,
	ACTION_HOLD,
	ACTION_QUARANTINE,
	ACTION_REJECT,
	ACTION_TEMPFAIL
};

struct verdict {
	enum action	 action;
	char		 incident[INCIDENT_ID_SIZE];
	char		**reasons;
	size_t		 nreasons;
};

const char	*action_name(enum action);
int		 action_parse(const char *, enum action *);	/* 0 or -1 */

void		 verdict_init(struct verdict *);
void		 verdict_clear(struct verdict *);	/* frees reasons */
/* Raises the action to a (never lowers it) and records why.
 * Returns 0 or -1 when out of memory. */
int		 verdict_raise(struct verdict *, enum action a, const char *why);

#endif
