/* explain.h - what to tell the people involved about a verdict: picks
 * the explanation template of the rule that decided, and fills its
 * variables from the result (counts, lists, places, incident id; never a
 * value).  Used for the SMTP reply of a reject; notices reuse it.
 *
 * Thread-safe for distinct results.  Errors: -1 with err. */
#ifndef CUSTOS_EXPLAIN_H
#define CUSTOS_EXPLAIN_H

#include <stddef.h>

#include "conf.h"
#include "pipeline.h"
#include "template.h"

/* The template of the first matching rule whose action is the verdict's
 * and that names one, or NULL. */
const char	*explain_template(const struct conf *,
		    const struct pipeline_result *);

/* Renders the explanation into lines (caller frees each and the array);
 * returns how many, 0 when there is no template, -1 with err. */
int		 explain_lines(const struct conf *,
		    const struct pipeline_result *, char ***lines, char *err,
		    size_t errlen);

void		 explain_free(char **lines, int n);

/* The strings template variables point into; explain_strings_clear
 * frees them. */
struct explain_strings {
	char	*lists;
	char	*rules;
	char	*samples;
	char	*where;
};

/* Fills v from the result: counts, lists, rules, masked samples, places,
 * incident, action, sender, contact, node (es owns the strings). */
void		 explain_vars(const struct conf *,
		    const struct pipeline_result *, struct explain_strings *es,
		    struct template_vars *v);
void		 explain_strings_clear(struct explain_strings *);

#endif
