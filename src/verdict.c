/* verdict.c - actions, their order, and the reasons behind a verdict.
 * Owns the reason strings of each verdict.  Fails only on no memory. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "verdict.h"

static const char *const action_names[] = {
	"pass", "tag", "hold", "quarantine", "reject", "tempfail"
};

const char *
action_name(enum action a)
{
	if ((size_t)a >= sizeof action_names / sizeof action_names[0])
		return "?";
	return action_names[a];
}

int
action_parse(const char *s, enum action *out)
{
	size_t i;

	for (i = 0; i < sizeof action_names / sizeof action_names[0]; i++)
		if (strcmp(s, action_names[i]) == 0) {
			*out = (enum action)i;
			return 0;
		}
	/* Admins write "accept" for a pass when they think in SMTP. */
	if (strcmp(s, "accept") == 0) {
		*out = ACTION_PASS;
		return 0;
	}
	return -1;
}

void
verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof *v);
	v->action = ACTION_PASS;
}

void
verdict_clear(struct verdict *v)
{
	size_t i;

	for (i = 0; i < v->nreasons; i++)
		free(v->reasons[i]);
	free(v->reasons);
	verdict_init(v);
}

int
verdict_raise(struct verdict *v, enum action a, const char *why)
{
	char **grown, *copy;

	if (why != NULL) {
		if ((copy = strdup(why)) == NULL)
			return -1;
		grown = realloc(v->reasons, (v->nreasons + 1) * sizeof *grown);
		if (grown == NULL) {
			free(copy);
			return -1;
		}
		v->reasons = grown;
		v->reasons[v->nreasons++] = copy;
	}
	if (a > v->action)
		v->action = a;
	return 0;
}
