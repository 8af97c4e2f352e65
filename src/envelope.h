/* envelope.h - what the MTA told us about a message besides its bytes:
 * client, HELO, authenticated user, MAIL FROM, every RCPT TO, queue id.
 *
 * All strings are copies the envelope owns; they are untrusted (log them
 * through log_safe).  Not thread-safe; one per message.
 * Errors: -1 when out of memory, the envelope unchanged. */
#ifndef CUSTOS_ENVELOPE_H
#define CUSTOS_ENVELOPE_H

#include <stddef.h>

struct envelope {
	char	*client_addr;
	char	*client_name;
	char	*helo;
	char	*auth_user;	/* {auth_authen}, or NULL */
	char	*mail_from;	/* without the angle brackets */
	char	*qid;		/* Postfix queue id ({i}), or NULL */
	char	**rcpt;		/* without the angle brackets */
	size_t	 nrcpt, rcptcap;
};

void	envelope_init(struct envelope *);
void	envelope_clear(struct envelope *);	/* frees, then as init */
/* Frees the message part (sender, recipients, queue id) and keeps the
 * connection part (client, HELO), for the next message on the link. */
void	envelope_clear_message(struct envelope *);

/* Sets *field to a copy of val (NULL clears it).  Returns 0 or -1. */
int	envelope_set(char **field, const char *val);
/* Copies an SMTP address, dropping one pair of <> around it. */
int	envelope_set_addr(char **field, const char *val);
int	envelope_add_rcpt(struct envelope *, const char *addr);

/* The envelope as it is sealed with a quarantined message (the
 * recipients' addresses stay out of the clear metadata, which names
 * their domains only): "CUSTOS-ENVELOPE 1", a FROM line, a RCPT line per
 * recipient, a blank line, each CRLF-ended.  Caller g_free()s. */
char	*envelope_seal_header(const struct envelope *, size_t *len);
/* Reads that header at the start of buf into e (mail_from, rcpt) and
 * sets *body_off to where the message starts.  0 or -1 (not there,
 * malformed, no memory). */
int	envelope_unseal(const char *buf, size_t len, struct envelope *e,
	    size_t *body_off);

#endif
