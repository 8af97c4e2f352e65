/* milter.h - the libmilter callbacks: collect the envelope and the raw
 * message, run the pipeline at end of message, act on the verdict.
 *
 * Never loses mail: every failure ends in the snapshot's on_error action
 * (tempfail by default).  Per connection: struct connctx holds a config
 * snapshot reference; per message: struct msgctx hangs off it and is
 * freed in one place, milter_msg_free().
 *
 * Thread-safe: libmilter runs one thread per connection. */
#ifndef CUSTOS_MILTER_H
#define CUSTOS_MILTER_H

#include <libmilter/mfapi.h>

#include "notify.h"

/* The filter description for smfi_register. */
extern struct smfiDesc	milter_desc;

/* Messages now between MAIL FROM and their end (or abort). */
int	milter_in_flight(void);

/* Stops taking new messages (MAIL FROM and new connections get 4xx, so
 * clients retry elsewhere or later) and waits up to timeout seconds for
 * the messages in flight to finish.  Returns how many are still in
 * flight (0 when all finished).  libmilter's own stop cuts sessions off
 * mid-message, which is why custos drains before it lets libmilter stop. */
int	milter_drain(int timeout);

/* The notifier notices go to (notify.h); NULL: none are sent.  Set
 * before smfi_main and not changed while it runs. */
void	milter_set_notifier(struct notifier *);

/* Sets how many messages may be parsed and scanned at once (milter {
 * max_scans }): at the worker's start and after each reload. */
void	milter_set_max_scans(int);

#endif
