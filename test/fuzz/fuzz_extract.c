/* fuzz_extract.c - libFuzzer target for one extractor, named at build
 * time by FUZZ_EXTRACTOR (extract_archive, extract_ooxml, ...): bytes
 * in as an attachment of that format, text and notes out to a sink that
 * checks what it is given (valid UTF-8, sources that say where).
 *
 * With FUZZ_ZIP_PATHS, each input is read twice, its zip members
 * inflated at once where zipdir.c places them and then all through
 * libarchive (extract_zip_fast), and the two readings must give the
 * same texts and notes.
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

/* What a reading gave, for FUZZ_ZIP_PATHS. */
static GString	*got;

static int
fuzz_text(void *arg, const char *source, const char *type, const char *text,
    size_t len)
{
	(void)arg;
	(void)type;
	/* What reaches the engine must be text it can index. */
	if (source == NULL || !g_utf8_validate(text, (gssize)len, NULL))
		abort();
	if (got != NULL) {
		g_string_append_printf(got, "T %s\n", source);
		g_string_append_len(got, text, (gssize)len);
		g_string_append_c(got, '\n');
	}
	return 0;
}

static int
fuzz_note(void *arg, const char *reason, const char *where)
{
	(void)arg;
	if (reason == NULL || where == NULL || *reason == '\0')
		abort();
	if (got != NULL)
		g_string_append_printf(got, "N %s %s\n", reason, where);
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

static int
fuzz_read(const uint8_t *data, size_t size)
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
	return FUZZ_EXTRACTOR(&ex, &f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef FUZZ_ZIP_PATHS
	GString *fast;
	int rc;

	got = g_string_new(NULL);
	extract_zip_fast = true;
	rc = fuzz_read(data, size);
	fast = got;
	got = g_string_new(NULL);
	extract_zip_fast = false;
	if (fuzz_read(data, size) != rc || !g_string_equal(fast, got))
		abort();
	g_string_free(fast, TRUE);
	g_string_free(got, TRUE);
	got = NULL;
#else
	(void)fuzz_read(data, size);
#endif
	return 0;
}
