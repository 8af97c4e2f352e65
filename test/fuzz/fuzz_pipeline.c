/* fuzz_pipeline.c - libFuzzer target: a raw message in, the whole
 * pipeline out (MIME walk, every extractor, the engine with the
 * built-in detectors, policy), as the milter runs it.  Anything but a
 * verdict or a clean error is a bug: a crash, a hang (-timeout), a leak
 * or unbounded memory (-rss_limit_mb).
 *
 * Built with ./configure CC=clang --enable-fuzzing; run by
 * test/fuzz/run-fuzz.sh. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline_result r;
	GMimeStream *mem;
	char err[256];

	pipeline_result_init(&r);
	mem = g_mime_stream_mem_new_with_buffer((const char *)data, size);
	(void)pipeline_run(fuzz_conf, mem, (const char *)data, size, NULL,
	    false, &r, err, sizeof err);
	g_object_unref(mem);
	pipeline_result_clear(&r);
	return 0;
}
