/* notify.h - notices about stopped mail: to the sender (the employee)
 * and to the security officers, sent by SMTP (smtp.h) from a thread of
 * their own, so no milter callback ever waits on it.
 *
 * Rate limit and digests: notices are grouped by a key the caller picks
 * (e.g. "sender:alice@example.com" and "officer:alice@example.com").
 * The first notice of a key goes out at once and opens a window of
 * `window` seconds; notices of that key arriving inside the window are
 * kept, and when the window ends they go out as ONE digest (subject and
 * heading from the latest item, then one line per notice), which opens
 * the next window.  So a drip of 100 blocked messages gives a notice
 * and a digest per window, never 100 mails.
 *
 * Each message is built here: From, To, Subject (RFC 2047 when not
 * ASCII), Date, Message-ID, MIME-Version, text/plain UTF-8 in base64,
 * Auto-Submitted: auto-generated (RFC 3834: no auto-replies back), and
 * X-Custos-Notice (token.h) so custos-milter lets its own notices
 * through unscanned, and no loop forms.
 *
 * A failed send is retried (30 s, 2 min, 10 min), then dropped and
 * logged: notices are best effort, the incident itself is in the audit
 * log and the quarantine.  Never a value in clear in a notice: callers
 * give text rendered from templates (counts, masked samples, places).
 *
 * Thread-safe.  Errors: NULL/-1 with err; notify_submit never blocks on
 * the network. */
#ifndef CUSTOS_NOTIFY_H
#define CUSTOS_NOTIFY_H

#include <stddef.h>
#include <time.h>

#include "qkey.h"
#include "smtp.h"

struct notify_conf {
	struct smtp_relay relay;
	char		*from;		/* envelope and header From */
	unsigned	 window;	/* seconds; 0: every notice at once */
	size_t		 max_queue;	/* items waiting; beyond, dropped */
	const struct qkey *key;		/* for X-Custos-Notice; NULL: none */
};

struct notify_item {
	const char	*key;		/* rate-limit group */
	const char	*const *to;	/* recipient addresses */
	size_t		 nto;
	const char	*subject;	/* UTF-8, one line */
	const char	*body;		/* UTF-8, LF line ends */
	const char	*digest_subject;	/* for a digest of this key */
	const char	*digest_head;	/* text above the digest's lines */
	const char	*digest_line;	/* this notice as one digest line */
	const char	*incident;	/* for the log */
};

struct notifier;

/* Starts the sending thread with a copy of conf. */
struct notifier	*notify_start(const struct notify_conf *, char *err,
		    size_t errlen);
/* Replaces the configuration (reload); windows and pending digests are
 * kept. */
int		 notify_configure(struct notifier *,
		    const struct notify_conf *, char *err, size_t errlen);
/* Copies the item into the queue.  0 queued, -1 dropped (queue full,
 * no memory, stopping) with err. */
int		 notify_submit(struct notifier *, const struct notify_item *,
		    char *err, size_t errlen);
/* Sends the pending digests now (at most timeout seconds in all), then
 * stops the thread and frees everything.  NULL-safe, returns NULL. */
struct notifier	*notify_stop(struct notifier *, int timeout);

/* The message as it goes out (for tests and `custos` tools): caller
 * g_free()s.  NULL with err. */
char		*notify_build(const struct notify_conf *,
		    const char *const *to, size_t nto, const char *subject,
		    const char *body, size_t *len, char *err, size_t errlen);

/* For tests: how many milliseconds one second of a window or of a
 * retry delay lasts (default 1000), so a test can run a 30 s retry in
 * 30 ms.  Process-wide; call before notify_start. */
void		 notify_set_timescale(unsigned ms_per_second);

#endif
