/* pipeline.h - from raw message to verdict: the one path both the milter
 * and `custos scan` take, so the CLI gives exactly the milter's verdict.
 *
 * Today: size check, MIME walk into text segments (message.h), verdict.
 * Detection and policy plug in here as they land.
 *
 * Owns the result it fills until pipeline_result_clear.  Thread-safe for
 * distinct results (the config snapshot is read-only).
 * Errors: -1 with text in err for internal failures only (no memory, a
 * stream that cannot be read); hostile input is not an error. */
#ifndef CUSTOS_PIPELINE_H
#define CUSTOS_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <gmime/gmime.h>

#include "conf.h"
#include "envelope.h"
#include "findings.h"
#include "policy.h"
#include "textseg.h"
#include "verdict.h"

struct pipeline_result {
	struct textseg	*text;		/* segments and unscannable notes */
	struct verdict	 verdict;
	struct findings	 findings;	/* what the engine found */
	struct policy_outcome outcome;	/* recipients, rules, monitor */
	struct policy_history history;	/* the sender's, this message in */
	bool		 store_error;	/* the history store did not answer */
	char		 store_why[128];
	size_t		 size;		/* raw message bytes */
	bool		 parsed;	/* false when too large to parse */
	double		 elapsed_ms;
};

/* Milliseconds on the monotonic clock: for elapsed times. */
double	pipeline_now_ms(void);

void	pipeline_result_init(struct pipeline_result *);
void	pipeline_result_clear(struct pipeline_result *);

/* Runs the pipeline over stream, whose bytes are raw[0..size) (see
 * spool_stream): MIME walk, engine, recipients, sender history (added to
 * and read from the store when history is true), policy.  env may be
 * NULL (the CLI on a stored file).  A store that does not answer is not
 * an error: r->store_error says so and on_store_error decides. */
int	pipeline_run(const struct conf *, GMimeStream *stream,
	    const char *raw, size_t size, const struct envelope *env,
	    bool history, struct pipeline_result *, char *err, size_t errlen);

#endif
