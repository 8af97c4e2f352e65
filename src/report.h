/* report.h - a pipeline result as one JSON object, for `custos scan`
 * (and, as fields grow, the audit log).
 *
 * Only what custos wrote itself and what the MIME structure says goes
 * out: sources, types, sizes, reasons.  The extracted text goes out only
 * when asked (--text, a debugging aid run by an admin on a file).
 * Thread-safe for distinct writers. */
#ifndef CUSTOS_REPORT_H
#define CUSTOS_REPORT_H

#include <stdbool.h>

#include "json.h"
#include "pipeline.h"

/* The findings' members (records, canaries, per_list, kinds, record_ids
 * (at most max_ids, then record_ids_omitted), detectors, keywords,
 * samples) into the object being written: shared by `custos scan` and
 * the audit log, so both say the same thing the same way.  c may be
 * NULL. */
void	report_findings_fields(struct json *, const struct pipeline_result *,
	    const struct conf *c, size_t max_ids);

/* c: the config the result was made with (for list names); may be NULL. */
void	report_json(struct json *, const char *file,
	    const struct pipeline_result *, const struct conf *c,
	    bool with_text);

#endif
