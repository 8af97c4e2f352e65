/* report.c - pipeline result to JSON (see report.h). */
#include "config.h"

#include "report.h"
#include "version.h"

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

void
report_json(struct json *j, const char *file, const struct pipeline_result *r,
    bool with_text)
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
