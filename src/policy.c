/* policy.c - findings x envelope x sender history -> verdict (see
 * policy.h).
 *
 * Classes recipients by domain, names the sender, applies the first
 * exemption that fits, else evaluates every rule and raises the verdict
 * with each matching one.  Owns nothing: it reads the config, envelope,
 * findings, segments and history it is given, and writes only the
 * verdict and the outcome.  Pure and thread-safe.
 *
 * Fails only when the verdict cannot grow (no memory): policy_decide()
 * returns -1 and the verdict keeps the reasons raised so far; the caller
 * then defers the message, it never passes it.  Config mistakes that
 * conf.c should have caught (an index out of range) make the condition
 * that uses them fail rather than read past an array. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "policy.h"

#define POLICY_MAX_MATCHED	(sizeof ((struct policy_outcome *)0)->matched \
				    / sizeof ((struct policy_outcome *)0)->matched[0])

/* The domain part of an address: after the last '@', because a quoted
 * local part or a source route may hold an '@' of its own.  NULL when
 * there is none. */
static const char *
policy_domain_of(const char *addr)
{
	const char *at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return NULL;
	return at + 1;
}

/* 1 when dom is pat or a subdomain of it.  ASCII case folding only:
 * domains are compared as the DNS does, and the locale must not change
 * the answer.  Admins write "@example.com" and ".example.com" in
 * domain lists too; both mean the same as "example.com" here. */
static int
policy_domain_covers(const char *pat, const char *dom)
{
	size_t plen, dlen;

	if (pat == NULL || dom == NULL)
		return 0;
	if (*pat == '@' || *pat == '.')
		pat++;
	/* An empty pattern would cover "" (the domain of "user@"). */
	if ((plen = strlen(pat)) == 0)
		return 0;
	dlen = strlen(dom);
	if (dlen == plen)
		return g_ascii_strcasecmp(dom, pat) == 0;
	/* The dot keeps "badexample.com" out of "example.com". */
	if (dlen > plen && dom[dlen - plen - 1] == '.')
		return g_ascii_strcasecmp(dom + dlen - plen, pat) == 0;
	return 0;
}

/* 1 when some domain of the list covers dom. */
static int
policy_domain_listed(char *const *list, size_t n, const char *dom)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (policy_domain_covers(list[i], dom))
			return 1;
	return 0;
}

enum rcpt_class
policy_rcpt_class(const struct policy_conf *pc, const char *addr,
    int *partner)
{
	const char *dom;
	size_t i;

	if (partner != NULL)
		*partner = -1;
	/* Cannot happen with an envelope; the strictest class is safe. */
	if (addr == NULL)
		return RCPT_EXTERNAL;
	/* No domain: the MTA delivers it locally. */
	if ((dom = policy_domain_of(addr)) == NULL)
		return RCPT_INTERNAL;
	if (policy_domain_listed(pc->internal_domains, pc->ninternal, dom))
		return RCPT_INTERNAL;
	/* A domain listed under two partners belongs to the first. */
	for (i = 0; i < pc->npartners; i++)
		if (policy_domain_listed(pc->partners[i].domains,
		    pc->partners[i].ndomains, dom)) {
			if (partner != NULL)
				*partner = (int)i;
			return RCPT_PARTNER;
		}
	return RCPT_EXTERNAL;
}

const char *
policy_sender(const struct envelope *env)
{
	/* The authenticated user is who really sent it; MAIL FROM is
	 * whatever the client chose to write. */
	if (env->auth_user != NULL && env->auth_user[0] != '\0')
		return env->auth_user;
	if (env->mail_from == NULL || strcmp(env->mail_from, "<>") == 0)
		return "";
	return env->mail_from;
}

int
policy_in_group(const struct policy_conf *pc, size_t g, const char *addr)
{
	const struct policy_group *grp;
	const char *dom, *m;
	size_t i;

	if (g >= pc->ngroups || addr == NULL)
		return 0;
	grp = &pc->groups[g];
	dom = policy_domain_of(addr);
	for (i = 0; i < grp->nmembers; i++) {
		if ((m = grp->members[i]) == NULL || *m == '\0')
			continue;
		if (*m == '.') {
			if (dom != NULL && policy_domain_covers(m, dom))
				return 1;
		} else if (*m == '@') {
			if (dom != NULL && m[1] != '\0' &&
			    g_ascii_strcasecmp(m + 1, dom) == 0)
				return 1;
		} else if (strchr(m, '@') != NULL) {
			if (g_ascii_strcasecmp(m, addr) == 0)
				return 1;
		} else if (dom != NULL && g_ascii_strcasecmp(m, dom) == 0)
			return 1;
	}
	return 0;
}

void
policy_classify(const struct policy_conf *pc, const struct envelope *env,
    struct policy_outcome *out)
{
	enum rcpt_class c;
	size_t i;
	int p;

	memset(out, 0, sizeof *out);
	out->sender = policy_sender(env);
	out->would = ACTION_PASS;
	for (i = 0; i < env->nrcpt; i++) {
		c = policy_rcpt_class(pc, env->rcpt[i], &p);
		out->rcpt_count[c]++;
		/* XXX partners past the bitmap get no bit; conf.c caps
		 * them at POLICY_MAX_PARTNERS, and policy_partner_hit()
		 * does not rely on the bit. */
		if (c == RCPT_PARTNER && p >= 0 && p < POLICY_MAX_PARTNERS)
			out->partners_hit |= (uint32_t)1 << p;
	}
}

/* The first exemption that fits this sender and every recipient outside
 * the company, or NULL.  All internal (or no) recipients fit any
 * exemption of the sender: the exemption only narrows where data may
 * go, and internal mail goes nowhere. */
static const struct policy_exemption *
policy_exemption(const struct policy_conf *pc, const struct envelope *env,
    const char *sender)
{
	const struct policy_exemption *ex;
	const char *dom;
	size_t i, r;

	for (i = 0; i < pc->nexemptions; i++) {
		ex = &pc->exemptions[i];
		/* An empty sender would exempt every bounce. */
		if (ex->sender == NULL || ex->sender[0] == '\0' ||
		    g_ascii_strcasecmp(ex->sender, sender) != 0)
			continue;
		for (r = 0; r < env->nrcpt; r++) {
			if (policy_rcpt_class(pc, env->rcpt[r], NULL) ==
			    RCPT_INTERNAL)
				continue;
			dom = policy_domain_of(env->rcpt[r]);
			if (!policy_domain_listed(ex->rcpt_domains,
			    ex->nrcpt_domains, dom))
				break;
		}
		if (r == env->nrcpt)
			return ex;
	}
	return NULL;
}

/* 1 when some recipient belongs to partner p. */
static int
policy_partner_hit(const struct policy_conf *pc, const struct envelope *env,
    const struct policy_outcome *out, int p)
{
	size_t i;
	int q;

	if (p < 0 || (size_t)p >= pc->npartners)
		return 0;
	if (p < POLICY_MAX_PARTNERS)
		return (out->partners_hit >> p) & 1;
	for (i = 0; i < env->nrcpt; i++)
		if (policy_rcpt_class(pc, env->rcpt[i], &q) == RCPT_PARTNER &&
		    q == p)
			return 1;
	return 0;
}

static int
policy_rcpt_holds(const struct policy_conf *pc, const struct envelope *env,
    const struct policy_outcome *out, const struct policy_rule *r)
{
	size_t outside;

	outside = out->rcpt_count[RCPT_PARTNER] +
	    out->rcpt_count[RCPT_EXTERNAL];
	switch (r->recipients) {
	case COND_RCPT_ANY:
		return 1;
	case COND_RCPT_EXTERNAL:
		return out->rcpt_count[RCPT_EXTERNAL] > 0;
	case COND_RCPT_PARTNER:
		if (r->partner < 0)
			return out->rcpt_count[RCPT_PARTNER] > 0;
		return policy_partner_hit(pc, env, out, r->partner);
	case COND_RCPT_NOT_INTERNAL:
		return outside > 0;
	case COND_RCPT_INTERNAL_ONLY:
		return outside == 0;
	}
	/* An unknown value is a config bug; never match on it. */
	return 0;
}

/* The content conditions: what the message carries. */
static int
policy_content_holds(const struct policy_rule *r, const struct findings *f,
    const struct textseg *t)
{
	size_t n, d;
	int tested, reached;

	if (r->records_min > 0) {
		if (f == NULL)
			n = 0;
		else if (r->list < 0)
			n = findings_records(f);
		else if (r->list < FINDINGS_MAX_LISTS)
			n = f->per_list[r->list];
		else
			n = 0;
		if (n < r->records_min)
			return 0;
	}
	/* Any of the detectors: a message with 5 card numbers or 5 ID
	 * numbers is as bad as one with both. */
	tested = reached = 0;
	for (d = 0; d < DET_COUNT; d++) {
		if (r->detector_min[d] == 0)
			continue;
		tested = 1;
		if (f != NULL && f->detector_values[d] >= r->detector_min[d])
			reached = 1;
	}
	if (tested && !reached)
		return 0;
	if (r->canary && (f == NULL || f->canaries == 0))
		return 0;
	if (r->unscannable && (t == NULL || t->nuns == 0))
		return 0;
	if (r->keyword && (f == NULL || f->keywords == NULL ||
	    g_hash_table_size(f->keywords) == 0))
		return 0;
	return 1;
}

/* The history condition.  Sets *unknown when the store could not say,
 * so the caller learns that a rule might have matched. */
static int
policy_history_holds(const struct policy_conf *pc,
    const struct policy_rule *r, const struct policy_history *h,
    bool *unknown)
{
	size_t w;

	if (r->window < 0)
		return 1;
	w = (size_t)r->window;
	/* A window the store was not asked about has no numbers. */
	if (w >= pc->nwindows || w >= POLICY_MAX_WINDOWS)
		return 0;
	if (h == NULL || !h->known) {
		*unknown = true;
		return 0;
	}
	if (r->history_records_min > 0 &&
	    h->records[w] < r->history_records_min)
		return 0;
	if (r->history_messages_min > 0 &&
	    h->messages[w] < r->history_messages_min)
		return 0;
	if (r->history_recipients_min > 0 &&
	    h->recipients[w] < r->history_recipients_min)
		return 0;
	return 1;
}

/* Every condition of rule r.  A rule that tests nothing matches every
 * message: that is how a config says "tag everything" or sets a floor.
 * History comes last so that history_unknown is set only for a rule
 * whose other conditions held, i.e. one the missing history decided. */
static int
policy_rule_holds(const struct policy_conf *pc, const struct policy_rule *r,
    const struct envelope *env, const struct findings *f,
    const struct textseg *t, const struct policy_history *h,
    struct policy_outcome *out)
{
	int in;

	if (!policy_content_holds(r, f, t))
		return 0;
	if (!policy_rcpt_holds(pc, env, out, r))
		return 0;
	if (r->group >= 0) {
		/* A group conf.c could not resolve fails either way:
		 * "!ghost" must not match everybody. */
		if ((size_t)r->group >= pc->ngroups)
			return 0;
		in = policy_in_group(pc, (size_t)r->group, out->sender);
		if (r->not_in_group ? in : !in)
			return 0;
	}
	return policy_history_holds(pc, r, h, &out->history_unknown);
}

/* "KIND NAME" plus suffix, malloc'd; NULL when out of memory. */
static char *
policy_reason(const char *kind, const char *name, const char *suffix)
{
	size_t n;
	char *s;

	if (name == NULL)
		name = "?";
	n = strlen(kind) + 1 + strlen(name) + strlen(suffix) + 1;
	if ((s = malloc(n)) == NULL)
		return NULL;
	(void)snprintf(s, n, "%s %s%s", kind, name, suffix);
	return s;
}

static int
policy_raise(struct verdict *v, enum action a, const char *kind,
    const char *name, const char *suffix)
{
	char *why;
	int rc;

	if ((why = policy_reason(kind, name, suffix)) == NULL)
		return -1;
	rc = verdict_raise(v, a, why);
	free(why);
	return rc;
}

int
policy_decide(const struct policy_conf *pc, const struct envelope *env,
    const struct findings *f, const struct textseg *t,
    const struct policy_history *h, struct verdict *v,
    struct policy_outcome *out)
{
	const struct policy_exemption *ex;
	const struct policy_rule *r;
	bool monitor;
	size_t i;

	policy_classify(pc, env, out);

	/* An exemption is a deliberate hole: no rule may see the message,
	 * and the caller logs the name on every use. */
	if ((ex = policy_exemption(pc, env, out->sender)) != NULL) {
		out->exemption = ex->name != NULL ? ex->name : "?";
		return policy_raise(v, ACTION_PASS, "exemption",
		    ex->name, "");
	}

	for (i = 0; i < pc->nrules; i++) {
		r = &pc->rules[i];
		if (!policy_rule_holds(pc, r, env, f, t, h, out))
			continue;
		if (out->nmatched < POLICY_MAX_MATCHED)
			out->matched[out->nmatched++] = i;
		if (r->action > out->would)
			out->would = r->action;
		monitor = r->monitor || pc->monitor;
		if (monitor)
			out->monitored = true;
		if (policy_raise(v, monitor ? ACTION_PASS : r->action, "rule",
		    r->name, monitor ? " (monitor)" : "") == -1)
			return -1;
	}
	return 0;
}
