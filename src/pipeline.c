/* pipeline.c - raw message to verdict (see pipeline.h).
 *
 * Owns nothing between calls.  Never logs: the caller that decides what
 * to do with an error logs it, once. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "engine.h"
#include "pipeline.h"
#include "store.h"

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

double
pipeline_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* What could not be read is named as a reason even when it changes
 * nothing, so it shows in logs and reports. */
static int
pipeline_unscannable(const struct pipeline_result *r, struct verdict *v)
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

/* 1 when a rule has a history condition: only then does the decision
 * need the sender's history read back. */
static int
pipeline_reads_history(const struct policy_conf *pc)
{
	size_t i;

	for (i = 0; i < pc->nrules; i++)
		if (pc->rules[i].window >= 0)
			return 1;
	return 0;
}

/* The history's record keys, "<list>:<id>", for n records: one
 * allocation holding the pointers and the strings (a message can carry
 * thousands of records), NULL-terminated; free() it.  NULL when out of
 * memory. */
static char **
pipeline_record_keys(const struct conf *c, const struct finding_record **recs,
    size_t n)
{
	const char *list;
	char **keys, *p;
	size_t i, len, size = (n + 1) * sizeof *keys;

	for (i = 0; i < n; i++) {
		list = conf_list_name(c, recs[i]->list);
		size += strlen(list) + 1 + strlen(recs[i]->id) + 1;
	}
	if ((keys = malloc(size)) == NULL)
		return NULL;
	p = (char *)(keys + n + 1);
	for (i = 0; i < n; i++) {
		list = conf_list_name(c, recs[i]->list);
		keys[i] = p;
		len = strlen(list);
		memcpy(p, list, len);
		p += len;
		*p++ = ':';
		len = strlen(recs[i]->id) + 1;
		memcpy(p, recs[i]->id, len);
		p += len;
	}
	keys[n] = NULL;
	return keys;
}

/* Adds this message to the sender's history and, for rules with a
 * history condition, reads the history back.  Only records sent to
 * someone outside the company count.  A message that adds nothing (no
 * records, or none sent outside) under rules that never read history
 * costs the store nothing: no round trip, and no store error to apply
 * on_store_error to, since none could change the decision. */
static void
pipeline_history(const struct conf *c, const struct envelope *env,
    struct pipeline_result *r)
{
	const struct finding_record **recs = NULL;
	char **keys = NULL;
	const char **ext = NULL;
	size_t nrec = 0, next = 0, i;
	int partner, reads;

	if (env != NULL && env->nrcpt > 0) {
		ext = calloc(env->nrcpt, sizeof *ext);
		for (i = 0; ext != NULL && i < env->nrcpt; i++)
			if (policy_rcpt_class(&c->policy, env->rcpt[i],
			    &partner) != RCPT_INTERNAL)
				ext[next++] = env->rcpt[i];
	}
	if (next > 0) {
		recs = findings_sorted(&r->findings, &nrec);
		keys = pipeline_record_keys(c, recs, nrec);
	}
	if (keys == NULL)
		nrec = 0;
	reads = pipeline_reads_history(&c->policy);
	if ((nrec == 0 || next == 0) && !reads)
		goto out;
	/* Without a history condition the message is still recorded (a
	 * rule added later sees it), and nothing is read back. */
	if (store_history(c->history, policy_sender(env), time(NULL),
	    (const char *const *)keys, nrec, ext, nrec > 0 ? next : 0,
	    reads ? &r->history : NULL, r->store_why,
	    sizeof r->store_why) != 0) {
		r->store_error = true;
		r->history.known = false;
	}
out:
	free(keys);
	g_free(recs);
	free(ext);
}

int
pipeline_run(const struct conf *c, GMimeStream *stream, const char *raw,
    size_t size, const struct envelope *env, bool history,
    struct pipeline_result *r, char *err, size_t errlen)
{
	double start = pipeline_now_ms();
	int rc = -1;

	struct envelope none;

	envelope_init(&none);
	if (env == NULL)
		env = &none;
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
	/* Sorted once, here, for the five readers that follow (history,
	 * policy, verdict, notices, audit), some on other threads; not in
	 * engine_scan, whose callers may scan more into the same findings
	 * and whose cost is the scan's alone.  At 10M records this sort
	 * reads each record's id from the table, a cache miss each. */
	findings_order(&r->findings);
	if (history && c->history != NULL)
		pipeline_history(c, env, r);
	if (pipeline_unscannable(r, &r->verdict) != 0 ||
	    policy_decide(&c->policy, env, &r->findings, r->text, &r->history,
	    &r->verdict, &r->outcome) != 0) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (r->store_error && c->store_error_tempfail &&
	    verdict_raise(&r->verdict, ACTION_TEMPFAIL, "history store "
	    "unavailable (on_store_error = tempfail)") != 0) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	r->elapsed_ms = pipeline_now_ms() - start;
	return rc;
}
