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

/* The filter description for smfi_register. */
extern struct smfiDesc	milter_desc;

/* Connections now open. */
int	milter_active(void);

/* Waits up to timeout seconds for open connections to finish.  Returns
 * the number still open (0 when all finished). */
int	milter_drain(int timeout);

#endif
