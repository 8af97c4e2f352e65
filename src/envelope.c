/* envelope.c - the SMTP envelope of one message (see envelope.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "envelope.h"

void
envelope_init(struct envelope *e)
{
	memset(e, 0, sizeof *e);
}

void
envelope_clear_message(struct envelope *e)
{
	size_t i;

	for (i = 0; i < e->nrcpt; i++)
		free(e->rcpt[i]);
	free(e->rcpt);
	e->rcpt = NULL;
	e->nrcpt = e->rcptcap = 0;
	free(e->mail_from);
	free(e->auth_user);
	free(e->qid);
	e->mail_from = e->auth_user = e->qid = NULL;
}

void
envelope_clear(struct envelope *e)
{
	envelope_clear_message(e);
	free(e->client_addr);
	free(e->client_name);
	free(e->helo);
	envelope_init(e);
}

int
envelope_set(char **field, const char *val)
{
	char *copy = NULL;

	if (val != NULL && (copy = strdup(val)) == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

/* A copy of an address without one pair of surrounding <>. */
static char *
envelope_strip(const char *val)
{
	size_t n = strlen(val);

	if (n >= 2 && val[0] == '<' && val[n - 1] == '>')
		return strndup(val + 1, n - 2);
	return strdup(val);
}

int
envelope_set_addr(char **field, const char *val)
{
	char *copy = NULL;

	if (val != NULL && (copy = envelope_strip(val)) == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

int
envelope_add_rcpt(struct envelope *e, const char *addr)
{
	char *copy;

	if (e->nrcpt == e->rcptcap) {
		size_t cap = e->rcptcap ? e->rcptcap * 2 : 4;
		char **grown = realloc(e->rcpt, cap * sizeof *grown);

		if (grown == NULL)
			return -1;
		e->rcpt = grown;
		e->rcptcap = cap;
	}
	if ((copy = envelope_strip(addr)) == NULL)
		return -1;
	e->rcpt[e->nrcpt++] = copy;
	return 0;
}
