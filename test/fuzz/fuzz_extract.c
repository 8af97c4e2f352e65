/* fuzz_extract.c - libFuzzer target for one extractor, named at build
 * time by FUZZ_EXTRACTOR (extract_archive, extract_ooxml, ...): bytes
 * in as an attachment of that format, text and notes out to a sink that
 * checks what it is given (valid UTF-8, sources that say where).
 *
 * Built with ./configure CC=clang --enable-fuzzing; run by
 * test/fuzz/run-fuzz.sh. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "extract/extract.h"

#ifndef FUZZ_EXTRACTOR
#error "FUZZ_EXTRACTOR names the extractor under test"
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_text(void *arg, const char *source, const char *type, const char *text,
    size_t len)
{
	(void)arg;
	(void)type;
	/* What reaches the engine must be text it can index. */
	if (source == NULL || !g_utf8_validate(text, (gssize)len, NULL))
		abort();
	return 0;
}

static int
fuzz_note(void *arg, const char *reason, const char *where)
{
	(void)arg;
	if (reason == NULL || where == NULL || *reason == '\0')
		abort();
	return 0;
}

static int
fuzz_message(void *arg, const char *where, const unsigned char *data,
    size_t len)
{
	(void)arg;
	(void)where;
	(void)data;
	(void)len;
	return 0;
}

static bool
fuzz_expired(void *arg)
{
	(void)arg;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct extract_sink sink = { fuzz_text, fuzz_note,
	    fuzz_message, fuzz_expired, NULL };
	struct extract_limits lim;
	struct extract ex;
	struct extract_file f;

	extract_limits_default(&lim);
	lim.max_bytes = 32u << 20;
	lim.pdf_seconds = 2;
	extract_init(&ex, &lim, &sink);
	memset(&f, 0, sizeof f);
	f.where = "attachment \"fuzz\"";
	f.name = "fuzz";
	f.data = data;
	f.len = size;
	(void)FUZZ_EXTRACTOR(&ex, &f);
	return 0;
}
