/* report.c - pipeline result to JSON (see report.h). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gstr.h"
#include "report.h"
#include "version.h"

static const char *
report_where(const struct textseg *t, uint32_t seg)
{
	return t != NULL && seg < t->nseg && t->seg[seg].source != NULL ?
	    t->seg[seg].source : "?";
}

static gint
report_strcmp(gconstpointer a, gconstpointer b)
{
	return strcmp(a, b);
}

/* Each record as {"id","list","where"[,"canary":true]}, put together
 * from its list's and segment's names quoted once for the run of
 * records that share them (the records come sorted by list): what the
 * writer would print, at a third of the cost for a message that carries
 * hundreds of records (doc/performance.md, "Record ids"). */
static void
report_record_ids(struct json *j, const struct pipeline_result *r,
    const struct conf *c, const struct finding_record **recs, size_t n)
{
	GString *obj = g_string_sized_new(128), *list = g_string_new(NULL),
	    *where = g_string_new(NULL);
	const char *name;
	uint32_t list_at = UINT32_MAX, where_at = UINT32_MAX;
	size_t i;

	for (i = 0; i < n; i++) {
		if (recs[i]->list != list_at) {
			list_at = recs[i]->list;
			name = conf_list_name(c, list_at);
			g_string_truncate(list, 0);
			json_quote(list, name, strlen(name));
		}
		if (recs[i]->segment != where_at) {
			where_at = recs[i]->segment;
			name = report_where(r->text, where_at);
			g_string_truncate(where, 0);
			json_quote(where, name, strlen(name));
		}
		g_string_truncate(obj, 0);
		gstr_append(obj, "{\"id\":", 6);
		if (recs[i]->id != NULL)
			json_quote(obj, recs[i]->id, strlen(recs[i]->id));
		else
			gstr_append(obj, "null", 4);
		gstr_append(obj, ",\"list\":", 8);
		gstr_append(obj, list->str, list->len);
		gstr_append(obj, ",\"where\":", 9);
		gstr_append(obj, where->str, where->len);
		if (recs[i]->canary)
			gstr_append(obj, ",\"canary\":true", 14);
		gstr_append(obj, "}", 1);
		json_raw(j, obj->str, obj->len);
	}
	g_string_free(obj, TRUE);
	g_string_free(list, TRUE);
	g_string_free(where, TRUE);
}

void
report_findings_fields(struct json *j, const struct pipeline_result *r,
    const struct conf *c, size_t max_ids)
{
	const struct findings *f = &r->findings;
	const struct finding_record **recs;
	GList *keys, *l;
	size_t i, n;

	json_kv_uint(j, "records", findings_records(f));
	json_kv_uint(j, "canaries", f->canaries);
	/* Weak-only matches (a name with a company) that fit too many
	 * records to name any: seen, but counted as no customer. */
	if (f->weak_ambiguous > 0)
		json_kv_uint(j, "weak_ambiguous", f->weak_ambiguous);
	/* A text so full of widely shared names that linking them to
	 * records ran out of its budget: some weak evidence not judged. */
	if (f->weak_truncated) {
		json_key(j, "weak_truncated");
		json_bool(j, true);
	}
	json_key(j, "per_list");
	json_object_begin(j);
	for (i = 0; c != NULL && i < c->nlists && i < FINDINGS_MAX_LISTS; i++)
		if (f->per_list[i] > 0)
			json_kv_uint(j, c->lists[i].name, f->per_list[i]);
	json_object_end(j);
	json_key(j, "kinds");
	json_object_begin(j);
	for (i = 0; i < KIND_COUNT; i++)
		if (f->kind_values[i] > 0)
			json_kv_uint(j, kind_name((enum field_kind)i),
			    f->kind_values[i]);
	json_object_end(j);

	json_key(j, "record_ids");
	json_array_begin(j);
	recs = findings_sorted(f, &n);
	report_record_ids(j, r, c, recs, n < max_ids ? n : max_ids);
	g_free(recs);
	json_array_end(j);
	if (n > max_ids)
		json_kv_uint(j, "record_ids_omitted", n - max_ids);

	json_key(j, "detectors");
	json_object_begin(j);
	for (i = 0; i < DET_COUNT; i++)
		if (f->detector_values[i] > 0)
			json_kv_uint(j, detector_name((enum detector)i),
			    f->detector_values[i]);
	json_object_end(j);

	/* Sorted, so equal findings give equal output. */
	json_key(j, "keywords");
	json_object_begin(j);
	keys = f->keywords != NULL ?
	    g_list_sort(g_hash_table_get_keys(f->keywords), report_strcmp) :
	    NULL;
	for (l = keys; l != NULL; l = l->next)
		json_kv_uint(j, l->data, GPOINTER_TO_SIZE(
		    g_hash_table_lookup(f->keywords, l->data)));
	g_list_free(keys);
	json_object_end(j);

	json_key(j, "samples");
	json_array_begin(j);
	for (i = 0; i < f->nsamples; i++) {
		const struct finding_sample *sm = &f->samples[i];

		json_object_begin(j);
		json_kv_string(j, sm->detector ? "detector" : "kind",
		    sm->detector ? detector_name((enum detector)sm->kind) :
		    kind_name((enum field_kind)sm->kind));
		json_kv_string(j, "sample", sm->text);
		json_kv_string(j, "where", report_where(r->text,
		    sm->segment));
		json_object_end(j);
	}
	json_array_end(j);
}

/* What the engine found, as `custos scan` shows it. */
static void
report_findings(struct json *j, const struct pipeline_result *r,
    const struct conf *c)
{
	json_key(j, "findings");
	json_object_begin(j);
	json_kv_string(j, "list_version", r->findings.list_version);
	report_findings_fields(j, r, c, SIZE_MAX);
	json_kv_uint(j, "bytes_scanned", r->findings.bytes_scanned);
	json_object_end(j);
}

static void
report_segment(struct json *j, const struct segment *s, bool with_text)
{
	json_object_begin(j);
	json_kv_string(j, "source", s->source);
	json_kv_string(j, "type", s->mime_type);
	if (s->sniffed_type != NULL)
		json_kv_string(j, "sniffed_type", s->sniffed_type);
	json_kv_string(j, "charset", s->charset);
	json_kv_string(j, "encoding", s->encoding);
	if (s->filename != NULL)
		json_kv_string(j, "filename", s->filename);
	json_key(j, "opaque");
	json_bool(j, s->text == NULL);
	json_kv_uint(j, "bytes", s->raw_len);
	json_kv_uint(j, "text_bytes", s->text_len);
	if (with_text && s->text != NULL) {
		json_key(j, "text");
		json_string_len(j, s->text, s->text_len);
	}
	json_object_end(j);
}

/* The decision: sender, recipient classes, matching rules, monitor mode,
 * the sender's history when known. */
static void
report_policy(struct json *j, const struct pipeline_result *r,
    const struct conf *c)
{
	const struct policy_outcome *o = &r->outcome;
	size_t i;

	json_key(j, "policy");
	json_object_begin(j);
	json_kv_string(j, "sender", o->sender);
	json_key(j, "recipients");
	json_object_begin(j);
	json_kv_uint(j, "internal", o->rcpt_count[RCPT_INTERNAL]);
	json_kv_uint(j, "partner", o->rcpt_count[RCPT_PARTNER]);
	json_kv_uint(j, "external", o->rcpt_count[RCPT_EXTERNAL]);
	json_object_end(j);
	json_key(j, "rules");
	json_array_begin(j);
	for (i = 0; c != NULL && i < o->nmatched; i++)
		json_string(j, c->policy.rules[o->matched[i]].name);
	json_array_end(j);
	json_kv_string(j, "would", action_name(o->would));
	json_key(j, "monitored");
	json_bool(j, o->monitored);
	if (o->exemption != NULL)
		json_kv_string(j, "exemption", o->exemption);
	json_key(j, "history");
	if (!r->history.known || c == NULL) {
		json_null(j);
	} else {
		json_array_begin(j);
		for (i = 0; i < c->policy.nwindows; i++) {
			json_object_begin(j);
			json_kv_uint(j, "window_seconds", c->policy.windows[i]);
			json_kv_uint(j, "records", r->history.records[i]);
			json_kv_uint(j, "messages", r->history.messages[i]);
			json_kv_uint(j, "recipients", r->history.recipients[i]);
			json_object_end(j);
		}
		json_array_end(j);
	}
	json_object_end(j);
}

void
report_json(struct json *j, const char *file, const struct pipeline_result *r,
    const struct conf *c, bool with_text)
{
	size_t i;

	json_object_begin(j);
	json_kv_string(j, "file", file);
	json_kv_uint(j, "size", r->size);
	json_key(j, "parsed");
	json_bool(j, r->parsed);
	json_key(j, "elapsed_ms");
	json_double(j, r->elapsed_ms, 3);
	json_kv_string(j, "version", CUSTOS_VERSION);

	json_key(j, "verdict");
	json_object_begin(j);
	json_kv_string(j, "action", action_name(r->verdict.action));
	json_kv_string(j, "incident", r->verdict.incident);
	json_key(j, "reasons");
	json_array_begin(j);
	for (i = 0; i < r->verdict.nreasons; i++)
		json_string(j, r->verdict.reasons[i]);
	json_array_end(j);
	json_object_end(j);

	json_key(j, "segments");
	json_array_begin(j);
	for (i = 0; r->text != NULL && i < r->text->nseg; i++)
		report_segment(j, &r->text->seg[i], with_text);
	json_array_end(j);

	report_findings(j, r, c);
	report_policy(j, r, c);

	json_key(j, "unscannable");
	json_array_begin(j);
	for (i = 0; r->text != NULL && i < r->text->nuns; i++) {
		json_object_begin(j);
		json_kv_string(j, "reason", r->text->uns[i].reason);
		json_kv_string(j, "where", r->text->uns[i].where);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}
