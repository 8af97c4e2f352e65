/* bench_extract.c - extraction throughput per attachment format.
 *
 *   bench_extract [-r ROUNDS] FILE...
 *
 * Reads each file as one attachment (extract_file with the default
 * limits, extract_size raised so a 5 MB document is read whole), ROUNDS
 * times (default 5), and prints per file: its size, the text extracted,
 * MB/s of attachment and of text (the median round), milliseconds per
 * file, and the process's peak RSS so far.  Timings are for reading;
 * nothing is scanned.  Run by test/bench/run-extract.sh. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "extract/extract.h"

struct count {
	size_t	text;
	size_t	segments;
	size_t	notes;
};

static int
count_text(void *arg, const char *source, const char *type, const char *text,
    size_t len)
{
	struct count *c = arg;

	(void)source;
	(void)type;
	(void)text;
	c->text += len;
	c->segments++;
	return 0;
}

static int
count_note(void *arg, const char *reason, const char *where)
{
	struct count *c = arg;

	(void)fprintf(stderr, "# note: %s at %s\n", reason, where);
	c->notes++;
	return 0;
}

static int
count_message(void *arg, const char *where, const unsigned char *data,
    size_t len)
{
	(void)arg;
	(void)where;
	(void)data;
	(void)len;
	return 0;
}

static bool
count_expired(void *arg)
{
	(void)arg;
	return false;
}

static double
now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct extract_limits lim;
	struct rusage ru;
	int ch, rounds = 5, i, r;

	while ((ch = getopt(argc, argv, "r:")) != -1)
		switch (ch) {
		case 'r': rounds = atoi(optarg); break;
		default:
			(void)fprintf(stderr, "usage: bench_extract [-r ROUNDS] "
			    "FILE...\n");
			return 2;
		}
	if (rounds < 1)
		rounds = 1;
	extract_limits_default(&lim);
	lim.max_bytes = (size_t)1 << 30;
	lim.pdf_seconds = 60;
	lim.max_pdf_pages = 100000;	/* a whole 5 MB PDF */
	(void)printf("%-12s %9s %9s %10s %10s %9s %8s\n", "file", "size MB",
	    "text MB", "file MB/s", "text MB/s", "ms/file", "RSS MB");
	for (i = optind; i < argc; i++) {
		struct extract_sink sink;
		struct count c;
		struct extract ex;
		struct extract_file f;
		gchar *data;
		gsize len;
		double *t = g_new(double, rounds), med;

		if (!g_file_get_contents(argv[i], &data, &len, NULL)) {
			(void)fprintf(stderr, "bench_extract: cannot read %s\n",
			    argv[i]);
			return 1;
		}
		for (r = 0; r < rounds; r++) {
			double t0;

			memset(&c, 0, sizeof c);
			sink.text = count_text;
			sink.note = count_note;
			sink.message = count_message;
			sink.expired = count_expired;
			sink.arg = &c;
			extract_init(&ex, &lim, &sink);
			memset(&f, 0, sizeof f);
			f.where = "attachment";
			f.name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 :
			    argv[i];
			f.data = (const unsigned char *)data;
			f.len = len;
			t0 = now();
			if (extract_file(&ex, &f) < 0) {
				(void)fprintf(stderr, "bench_extract: out of "
				    "memory\n");
				return 1;
			}
			t[r] = now() - t0;
		}
		qsort(t, (size_t)rounds, sizeof *t, cmp_double);
		med = t[rounds / 2];
		(void)getrusage(RUSAGE_SELF, &ru);
		(void)printf("%-12s %9.2f %9.2f %10.1f %10.1f %9.1f %8.1f\n",
		    f.name, (double)len / 1048576.0, (double)c.text / 1048576.0,
		    (double)len / 1048576.0 / med,
		    (double)c.text / 1048576.0 / med, med * 1000.0,
		    (double)ru.ru_maxrss / 1024.0);
		g_free(t);
		g_free(data);
	}
	return 0;
}
