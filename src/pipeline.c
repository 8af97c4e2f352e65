/* pipeline.c - raw message to verdict (see pipeline.h).
 *
 * Owns nothing between calls.  Never logs: the caller that decides what
 * to do with an error logs it, once. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "pipeline.h"

void
pipeline_result_init(struct pipeline_result *r)
{
	memset(r, 0, sizeof *r);
	verdict_init(&r->verdict);
}

void
pipeline_result_clear(struct pipeline_result *r)
{
	r->text = textseg_free(r->text);
	verdict_clear(&r->verdict);
	findings_free(&r->findings);
	pipeline_result_init(r);
}

static double
pipeline_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Until the policy issue lands, every verdict is pass; what could not be
 * read is still named as a reason so it shows in logs and reports. */
static int
pipeline_decide(const struct pipeline_result *r, struct verdict *v)
{
	char why[128];
	size_t i;

	for (i = 0; i < r->text->nuns; i++) {
		(void)snprintf(why, sizeof why, "unscannable: %s",
		    r->text->uns[i].reason);
		if (verdict_raise(v, ACTION_PASS, why) != 0)
			return -1;
	}
	return 0;
}

int
pipeline_run(const struct conf *c, GMimeStream *stream, const char *raw,
    size_t size, const struct envelope *env, struct pipeline_result *r,
    char *err, size_t errlen)
{
	double start = pipeline_now_ms();
	int rc = -1;

	(void)env;	/* policy will test the envelope */
	r->size = size;
	if ((r->text = textseg_new()) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (incident_new(r->verdict.incident) != 0) {
		(void)snprintf(err, errlen, "no randomness for incident id");
		goto out;
	}
	if (size > c->max_scan_size) {
		/* Not parsed at all: the finding says so, policy decides. */
		if (textseg_unscannable(r->text, "too-large", "message") != 0) {
			(void)snprintf(err, errlen, "out of memory");
			goto out;
		}
	} else {
		if (message_extract(stream, raw, size, &c->limits, r->text,
		    err, errlen) != 0)
			goto out;
		r->parsed = true;
	}
	(void)findings_init(&r->findings, c->max_samples);
	if (c->engine != NULL && engine_scan(c->engine, r->text, &r->findings,
	    err, errlen) != 0)
		goto out;
	if (pipeline_decide(r, &r->verdict) != 0) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	r->elapsed_ms = pipeline_now_ms() - start;
	return rc;
}
