/* notice.h - what custos tells people about a message it stopped: the
 * sender's notice (the employee: what was found, masked, where, the
 * incident id, whom to ask) and the officers' alert (the same with the
 * sender, the rules and the command to review it), rendered from the
 * notice-* templates (conf/templates/README) and handed to the notifier
 * (notify.h), which sends them, rate-limited per sender, with digests.
 *
 * Languages: the sender's notice is written in the languages of the
 * first `notify { domain "..." }` section whose domain is the sender's
 * (or a parent of it), else notify's `languages`, else
 * `reply_languages`; the officers' alert in notify's `languages`, else
 * `reply_languages`.
 *
 * Thread-safe for distinct results.  Errors: -1 with err (a template
 * that cannot render, the notifier's queue full); never a reason to
 * change what happens to the message. */
#ifndef CUSTOS_NOTICE_H
#define CUSTOS_NOTICE_H

#include <stddef.h>

#include "conf.h"
#include "envelope.h"
#include "notify.h"
#include "pipeline.h"

/* Queues the notices for a verdict that held, quarantined or rejected
 * mail (as enforced: nothing under monitor mode).  0 when queued or
 * nothing was due. */
int	notice_submit(struct notifier *, const struct conf *,
	    const struct pipeline_result *, const struct envelope *,
	    char *err, size_t errlen);

/* The notifier configuration the snapshot asks for (relay parsed; the
 * strings point into c and its qkey).  0 or -1 with err.  The caller
 * g_free()s nc->relay.host. */
int	notice_notify_conf(const struct conf *, struct notify_conf *nc,
	    char *err, size_t errlen);

#endif
