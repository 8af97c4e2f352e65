/* notice.c - notices and alerts for stopped mail (see notice.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "explain.h"
#include "notice.h"
#include "template.h"

/* The sender's notice languages: a domain section, notify's own, or the
 * reply languages. */
static const char *const *
notice_sender_langs(const struct conf *c, const char *addr, size_t *n)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	size_t i, dl, hl;

	for (i = 0; at != NULL && i < c->notify.ndomains; i++) {
		const struct conf_notify_domain *d = &c->notify.domains[i];
		const char *host = at + 1;

		dl = strlen(d->domain);
		hl = strlen(host);
		/* The domain itself or a subdomain of it. */
		if (hl >= dl && g_ascii_strcasecmp(host + hl - dl,
		    d->domain) == 0 && (hl == dl || host[hl - dl - 1] == '.')) {
			*n = d->nlanguages;
			return (const char *const *)d->languages;
		}
	}
	if (c->notify.nlanguages > 0) {
		*n = c->notify.nlanguages;
		return (const char *const *)c->notify.languages;
	}
	*n = c->nlanguages;
	return (const char *const *)c->languages;
}

static const char *const *
notice_officer_langs(const struct conf *c, size_t *n)
{
	if (c->notify.nlanguages > 0) {
		*n = c->notify.nlanguages;
		return (const char *const *)c->notify.languages;
	}
	*n = c->nlanguages;
	return (const char *const *)c->languages;
}

/* A subject: the languages on one line, " / " between them. */
static char *
notice_subject(const struct conf *c, const char *name,
    const struct template_vars *v, const char *const *langs, size_t n,
    char *err, size_t errlen)
{
	char *text, **parts, *out;
	GString *s;
	size_t i;

	if (template_render_text(c->explain, name, v, langs, n, &text, err,
	    errlen) != 0)
		return NULL;
	parts = g_strsplit_set(text, "\r\n", -1);
	s = g_string_new(NULL);
	for (i = 0; parts[i] != NULL; i++)
		if (*g_strstrip(parts[i]) != '\0')
			g_string_append_printf(s, "%s%s", s->len ? " / " : "",
			    parts[i]);
	g_strfreev(parts);
	g_free(text);
	out = g_string_free(s, FALSE);
	return out;
}

/* "1h", "30m", "90s": the window as the config would say it. */
static void
notice_window(unsigned w, char *buf, size_t len)
{
	if (w >= 86400 && w % 86400 == 0)
		(void)snprintf(buf, len, "%ud", w / 86400);
	else if (w >= 3600 && w % 3600 == 0)
		(void)snprintf(buf, len, "%uh", w / 3600);
	else if (w >= 60 && w % 60 == 0)
		(void)snprintf(buf, len, "%um", w / 60);
	else
		(void)snprintf(buf, len, "%us", w);
}

/* Renders and queues one notice (kind: "sender" or "officer"). */
static int
notice_one(struct notifier *nf, const struct conf *c,
    const struct pipeline_result *r, const struct template_vars *v,
    const char *kind, const char *const *to, size_t nto,
    const char *const *langs, size_t nlangs, char *err, size_t errlen)
{
	struct notify_item it;
	char name[64], key[600], line[256], ts[32];
	char *subject = NULL, *body = NULL, *dsubject = NULL, *dhead = NULL;
	struct tm tm;
	time_t now = time(NULL);
	int rc = -1;

	(void)snprintf(name, sizeof name, "notice-subject-%s", kind);
	if ((subject = notice_subject(c, name, v, langs, nlangs, err,
	    errlen)) == NULL)
		goto out;
	(void)snprintf(name, sizeof name, "notice-%s", kind);
	if (template_render_text(c->explain, name, v, langs, nlangs, &body,
	    err, errlen) != 0)
		goto out;
	if ((dsubject = notice_subject(c, "notice-subject-digest", v, langs,
	    nlangs, err, errlen)) == NULL ||
	    template_render_text(c->explain, "notice-digest", v, langs,
	    nlangs, &dhead, err, errlen) != 0)
		goto out;
	(void)gmtime_r(&now, &tm);
	(void)strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S UTC", &tm);
	(void)snprintf(line, sizeof line, "%s  %s  %s  %zu",
	    ts, r->verdict.incident, action_name(r->verdict.action),
	    findings_records(&r->findings));
	/* One window per sender and audience: a drip from one sender
	 * becomes a digest, another sender is told at once. */
	(void)snprintf(key, sizeof key, "%s:%s", kind,
	    v->sender != NULL ? v->sender : "");
	memset(&it, 0, sizeof it);
	it.key = key;
	it.to = to;
	it.nto = nto;
	it.subject = subject;
	it.body = body;
	it.digest_subject = dsubject;
	it.digest_head = dhead;
	it.digest_line = line;
	it.incident = r->verdict.incident;
	rc = notify_submit(nf, &it, err, errlen);
out:
	g_free(subject);
	g_free(body);
	g_free(dsubject);
	g_free(dhead);
	return rc;
}

int
notice_submit(struct notifier *nf, const struct conf *c,
    const struct pipeline_result *r, const struct envelope *env,
    char *err, size_t errlen)
{
	struct explain_strings es;
	struct template_vars v;
	const char *const *langs;
	const char *to[1];
	char show[128], window[32];
	size_t nlangs;
	int rc = 0;

	if (nf == NULL || !conf_notices(c) || c->explain == NULL ||
	    r->outcome.monitored)
		return 0;
	if (r->verdict.action != ACTION_HOLD &&
	    r->verdict.action != ACTION_QUARANTINE &&
	    r->verdict.action != ACTION_REJECT)
		return 0;
	explain_vars(c, r, &es, &v);
	/* A refused message is not kept: nothing to review but the audit
	 * line. */
	if (r->verdict.action == ACTION_REJECT)
		(void)snprintf(show, sizeof show, "(refused, nothing kept; "
		    "audit log incident %s)", r->verdict.incident);
	else
		(void)snprintf(show, sizeof show, "custos quarantine show %s",
		    r->verdict.incident);
	notice_window(c->notify.window, window, sizeof window);
	v.show = show;
	v.window = window;
	/* The notice goes where the employee reads mail: the envelope
	 * sender.  A bounce (null sender) is told nothing. */
	if (c->notify.sender && env->mail_from != NULL &&
	    *env->mail_from != '\0') {
		to[0] = env->mail_from;
		langs = notice_sender_langs(c, env->mail_from, &nlangs);
		rc |= notice_one(nf, c, r, &v, "sender", to, 1, langs, nlangs,
		    err, errlen);
	}
	if (c->notify.nofficers > 0) {
		langs = notice_officer_langs(c, &nlangs);
		rc |= notice_one(nf, c, r, &v, "officer",
		    (const char *const *)c->notify.officers,
		    c->notify.nofficers, langs, nlangs, err, errlen);
	}
	explain_strings_clear(&es);
	return rc != 0 ? -1 : 0;
}

int
notice_notify_conf(const struct conf *c, struct notify_conf *nc, char *err,
    size_t errlen)
{
	memset(nc, 0, sizeof *nc);
	if (smtp_parse_relay(c->notify.relay, &nc->relay) != 0) {
		(void)snprintf(err, errlen, "notify relay \"%s\" is not "
		    "host:port", c->notify.relay);
		return -1;
	}
	nc->relay.timeout_ms = 30000;
	nc->relay.helo = c->node;
	nc->from = c->notify.from;
	nc->window = c->notify.window;
	nc->max_queue = c->notify.max_queue;
	nc->key = c->qkey;
	return 0;
}
