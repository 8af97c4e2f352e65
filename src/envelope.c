/* envelope.c - the SMTP envelope of one message (see envelope.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

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

#define ENVELOPE_SEAL_MAGIC	"CUSTOS-ENVELOPE 1\r\n"

char *
envelope_seal_header(const struct envelope *e, size_t *len)
{
	GString *s = g_string_new(ENVELOPE_SEAL_MAGIC);
	size_t i;

	/* Addresses come from the MTA without CR or LF; a line per
	 * address keeps the format trivial to read back. */
	g_string_append_printf(s, "FROM <%s>\r\n",
	    e->mail_from != NULL ? e->mail_from : "");
	for (i = 0; i < e->nrcpt; i++)
		g_string_append_printf(s, "RCPT <%s>\r\n", e->rcpt[i]);
	g_string_append(s, "\r\n");
	*len = s->len;
	return g_string_free(s, FALSE);
}

int
envelope_unseal(const char *buf, size_t len, struct envelope *e,
    size_t *body_off)
{
	size_t m = strlen(ENVELOPE_SEAL_MAGIC), off = m;

	if (len < m || memcmp(buf, ENVELOPE_SEAL_MAGIC, m) != 0)
		return -1;
	while (off < len) {
		const char *line = buf + off, *nl;
		size_t ll;
		char *addr;
		int rc;

		if ((nl = memchr(line, '\n', len - off)) == NULL)
			return -1;
		ll = (size_t)(nl - line);
		off += ll + 1;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0) {
			*body_off = off;
			return 0;
		}
		if (ll < 6 || (memcmp(line, "FROM ", 5) != 0 &&
		    memcmp(line, "RCPT ", 5) != 0))
			return -1;
		if ((addr = strndup(line + 5, ll - 5)) == NULL)
			return -1;
		rc = line[0] == 'F' ? envelope_set_addr(&e->mail_from, addr) :
		    envelope_add_rcpt(e, addr);
		free(addr);
		if (rc != 0)
			return -1;
	}
	return -1;
}
