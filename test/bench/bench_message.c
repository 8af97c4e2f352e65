/* bench_message.c - what one message costs custos' pipeline, the first
 * time and again.
 *
 *   bench_message CONFIG MESSAGE [N]
 *
 * Loads CONFIG as custos-milter does (lists, limits, attachment cache),
 * then takes MESSAGE N times (default 200) through the MIME walk and
 * extraction (message_extract_buffer) and the engine (engine_scan), and
 * prints the CPU milliseconds of each, for the first message and for the
 * mean of the others: with limits { extract_cache } the others read the
 * attachments from memory (extract/xcache.c) and, from the third, play
 * their scans back (scanlog.h); with extract_cache = 0 they cost what
 * the first does.  Records found are printed too: they must not change.
 * Built against build/plain:
 *
 *   gcc -O2 -Ibuild/plain -Isrc -o bench_message test/bench/bench_message.c \
 *       build/plain/libcustos.a $(pkg-config --cflags --libs gmime-3.0 \
 *       glib-2.0 libhs libconfuse hiredis libsodium libarchive \
 *       json-glib-1.0 libdeflate) -lpthread -lm */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <glib.h>

#include "conf.h"
#include "engine.h"
#include "findings.h"
#include "message.h"
#include "textseg.h"

static double
cpu_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	struct conf *c;
	gchar *raw;
	gsize len;
	char err[512];
	double ext[2] = { 0, 0 }, eng[2] = { 0, 0 }, t0, t1, t2;
	size_t recs[2] = { 0, 0 };
	int n, i;

	if (argc < 3 || argc > 4) {
		(void)fprintf(stderr, "usage: bench_message CONFIG MESSAGE "
		    "[N]\n");
		return 2;
	}
	n = argc == 4 ? atoi(argv[3]) : 200;
	if (n < 2)
		n = 2;
	message_init();
	if ((c = conf_load_all(argv[1], err, sizeof err)) == NULL) {
		(void)fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (!g_file_get_contents(argv[2], &raw, &len, NULL)) {
		(void)fprintf(stderr, "cannot read %s\n", argv[2]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct textseg *t = textseg_new();
		struct findings f;
		int k = i > 0;

		t0 = cpu_ms();
		if (message_extract_buffer(raw, len, &c->limits, t, err,
		    sizeof err) != 0) {
			(void)fprintf(stderr, "%s\n", err);
			return 1;
		}
		t1 = cpu_ms();
		(void)findings_init(&f, c->max_samples);
		if (c->engine != NULL && engine_scan(c->engine, t, &f, err,
		    sizeof err) != 0) {
			(void)fprintf(stderr, "%s\n", err);
			return 1;
		}
		t2 = cpu_ms();
		ext[k] += t1 - t0;
		eng[k] += t2 - t1;
		if (i == 0 || i == n - 1)
			recs[k] = findings_records(&f);
		findings_free(&f);
		(void)textseg_free(t);
	}
	(void)printf("first: extraction %.3f ms, engine %.3f ms, %zu records\n"
	    "then (mean of %d): extraction %.3f ms, engine %.3f ms, %zu "
	    "records\n", ext[0], eng[0], recs[0], n - 1, ext[1] / (n - 1),
	    eng[1] / (n - 1), recs[1]);
	g_free(raw);
	conf_unref(c);
	message_shutdown();
	return recs[0] == recs[1] ? 0 : 1;
}
