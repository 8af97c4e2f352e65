/* explain.c - explanation text for a verdict (see explain.h).
 * Owns only what it returns.  Errors: -1 with err. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "explain.h"
#include "template.h"

const char *
explain_template(const struct conf *c, const struct pipeline_result *r)
{
	const struct policy_outcome *o = &r->outcome;
	size_t i;

	for (i = 0; i < o->nmatched; i++) {
		const struct policy_rule *rule =
		    &c->policy.rules[o->matched[i]];

		if (rule->action == r->verdict.action && !rule->monitor &&
		    !c->policy.monitor && *rule->template != '\0')
			return rule->template;
	}
	return NULL;
}

/* Where records and identifiers were found: distinct segment sources,
 * at most three, "; "-separated. */
static char *
explain_where(const struct pipeline_result *r)
{
	const struct finding_record **recs;
	GPtrArray *seen = g_ptr_array_new();
	GString *out = g_string_new(NULL);
	size_t n, i, k;

	recs = findings_sorted(&r->findings, &n);
	for (i = 0; i < n + r->findings.nsamples && seen->len < 3; i++) {
		uint32_t seg = i < n ? recs[i]->segment :
		    r->findings.samples[i - n].segment;
		const char *src;
		bool dup = false;

		if (r->text == NULL || seg >= r->text->nseg)
			continue;
		src = r->text->seg[seg].source;
		for (k = 0; k < seen->len; k++)
			dup |= strcmp(g_ptr_array_index(seen, k), src) == 0;
		if (!dup)
			g_ptr_array_add(seen, (gpointer)src);
	}
	for (k = 0; k < seen->len; k++)
		g_string_append_printf(out, "%s%s", k ? "; " : "",
		    (const char *)g_ptr_array_index(seen, k));
	g_ptr_array_free(seen, TRUE);
	g_free(recs);
	return g_string_free(out, FALSE);
}

void
explain_vars(const struct conf *c, const struct pipeline_result *r,
    struct explain_strings *es, struct template_vars *v)
{
	GString *lists = g_string_new(NULL), *rules = g_string_new(NULL);
	GString *samples = g_string_new(NULL);
	size_t i;

	for (i = 0; i < c->nlists && i < FINDINGS_MAX_LISTS; i++)
		if (r->findings.per_list[i] > 0)
			g_string_append_printf(lists, "%s%s",
			    lists->len ? ", " : "", c->lists[i].name);
	for (i = 0; i < r->outcome.nmatched; i++)
		g_string_append_printf(rules, "%s%s", i ? ", " : "",
		    c->policy.rules[r->outcome.matched[i]].name);
	/* Masked by the engine (mask.h) before they were ever kept. */
	for (i = 0; i < r->findings.nsamples; i++)
		g_string_append_printf(samples, "%s%s", i ? ", " : "",
		    r->findings.samples[i].text);
	es->lists = g_string_free(lists, FALSE);
	es->rules = g_string_free(rules, FALSE);
	es->samples = g_string_free(samples, FALSE);
	es->where = explain_where(r);
	memset(v, 0, sizeof *v);
	v->incident = r->verdict.incident;
	v->records = findings_records(&r->findings);
	v->lists = es->lists;
	v->detectors = r->findings.detector_values;
	v->where = es->where;
	v->rules = es->rules;
	v->samples = es->samples;
	v->contact = c->contact;
	v->node = c->node;
	v->action = (int)r->verdict.action;
	v->sender = r->outcome.sender;
}

void
explain_strings_clear(struct explain_strings *es)
{
	g_free(es->lists);
	g_free(es->rules);
	g_free(es->samples);
	g_free(es->where);
	memset(es, 0, sizeof *es);
}

int
explain_lines(const struct conf *c, const struct pipeline_result *r,
    char ***lines, char *err, size_t errlen)
{
	struct explain_strings es;
	struct template_vars v;
	const char *name = explain_template(c, r);
	int n;

	*lines = NULL;
	if (name == NULL || c->explain == NULL)
		return 0;
	explain_vars(c, r, &es, &v);
	n = template_render(c->explain, name, &v, lines, err, errlen);
	explain_strings_clear(&es);
	return n;
}

void
explain_free(char **lines, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}
