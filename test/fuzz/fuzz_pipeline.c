/* fuzz_pipeline.c - libFuzzer target: a raw message in, the whole
 * pipeline out (MIME walk, every extractor, the engine with the
 * built-in detectors, policy), as the milter runs it.  Anything but a
 * verdict or a clean error is a bug: a crash, a hang (-timeout), a leak
 * or unbounded memory (-rss_limit_mb).  Each input goes through three
 * times: the second reads its attachments from the attachment cache
 * (extract/xcache.c) and keeps the scans of their texts, the third plays
 * those back (scanlog.h); the findings and the action must be the same
 * each time (unless the time budget cut one of them short).  The MIME
 * walk also runs once more with every header field read: leaving out
 * the fields it never reads must not change a segment or a note.
 *
 * Built with ./configure CC=clang --enable-fuzzing; run by
 * test/fuzz/run-fuzz.sh. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "conf.h"
#include "message.h"
#include "pipeline.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct conf *fuzz_conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	message_init();
	/* Built-in defaults: detectors and keywords, no customer list. */
	if ((fuzz_conf = conf_load_all("/dev/null", err, sizeof err)) ==
	    NULL) {
		(void)fprintf(stderr, "fuzz_pipeline: %s\n", err);
		abort();
	}
	/* Small enough budgets that one input stays fast. */
	fuzz_conf->limits.max_seconds = 5;
	fuzz_conf->limits.extract.max_bytes = 32u << 20;
	fuzz_conf->limits.extract.pdf_seconds = 2;
	return 0;
}

/* What must not change between a reading and a replay. */
struct outcome {
	int	rc;
	int	action;
	size_t	records, samples, bytes, notes;
	size_t	kinds[KIND_COUNT];
	size_t	detectors[DET_COUNT];
	bool	timed;		/* the time budget cut it: not compared */
};

static struct outcome
run_once(const uint8_t *data, size_t size)
{
	struct pipeline_result r;
	struct outcome o;
	GMimeStream *mem;
	char err[256];

	memset(&o, 0, sizeof o);
	pipeline_result_init(&r);
	mem = g_mime_stream_mem_new_with_buffer((const char *)data, size);
	o.rc = pipeline_run(fuzz_conf, mem, (const char *)data, size, NULL,
	    false, &r, err, sizeof err);
	g_object_unref(mem);
	if (o.rc == 0) {
		o.action = (int)r.verdict.action;
		o.records = findings_records(&r.findings);
		o.samples = r.findings.nsamples;
		o.bytes = r.findings.bytes_scanned;
		o.notes = r.text->nuns;
		memcpy(o.kinds, r.findings.kind_values, sizeof o.kinds);
		memcpy(o.detectors, r.findings.detector_values,
		    sizeof o.detectors);
		o.timed = textseg_has_unscannable(r.text, "time") == 1;
	}
	pipeline_result_clear(&r);
	return o;
}

static bool
same(const struct outcome *a, const struct outcome *b)
{
	return a->rc == b->rc && a->action == b->action &&
	    a->records == b->records && a->samples == b->samples &&
	    a->bytes == b->bytes && a->notes == b->notes &&
	    memcmp(a->kinds, b->kinds, sizeof a->kinds) == 0 &&
	    memcmp(a->detectors, b->detectors, sizeof a->detectors) == 0;
}

/* The MIME walk with and without the unread header fields left out of
 * GMime's parse (message_skip_unread_fields) gives the same segments
 * and notes. */
static void
check_unread_fields(const uint8_t *data, size_t size)
{
	struct message_limits lim = fuzz_conf->limits;
	struct textseg *ts[2];
	char err[256];
	int i, rc[2];

	lim.cache = NULL;	/* both parses read every attachment */
	for (i = 0; i < 2; i++) {
		(void)message_skip_unread_fields(i == 0);
		ts[i] = textseg_new();
		if (ts[i] == NULL)
			abort();
		rc[i] = message_extract_buffer((const char *)data, size, &lim,
		    ts[i], err, sizeof err);
	}
	(void)message_skip_unread_fields(true);
	if (rc[0] != rc[1] || (rc[0] == 0 &&
	    !textseg_has_unscannable(ts[0], "time") &&
	    !textseg_has_unscannable(ts[1], "time") &&
	    !textseg_same(ts[0], ts[1]))) {
		(void)fprintf(stderr, "fuzz_pipeline: the walk differs with "
		    "the unread header fields left out (%zu/%zu segments)\n",
		    ts[0]->nseg, ts[1]->nseg);
		abort();
	}
	textseg_free(ts[0]);
	textseg_free(ts[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome o[3];
	int i;

	for (i = 0; i < 3; i++)
		o[i] = run_once(data, size);
	for (i = 1; i < 3; i++)
		if (!o[0].timed && !o[i].timed && o[0].rc == 0 &&
		    !same(&o[0], &o[i])) {
			(void)fprintf(stderr, "fuzz_pipeline: run %d differs "
			    "from the first: records %zu/%zu, action %d/%d, "
			    "bytes %zu/%zu\n", i + 1, o[0].records,
			    o[i].records, o[0].action, o[i].action,
			    o[0].bytes, o[i].bytes);
			abort();
		}
	check_unread_fields(data, size);
	return 0;
}
