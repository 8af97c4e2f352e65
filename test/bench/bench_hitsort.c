/* bench_hitsort.c - what sorting one segment's hits costs, alone: n hits
 * with records below a list's size, in rising order of place (as the weak
 * pass reports them) or shuffled, copied and sorted ROUNDS times.  Prints
 * the median CPU microseconds a sort.  For doc/performance.md ("Tenth
 * round"): to compare with an older src/hitsort.c, build against it (one
 * from before 911d391 takes no hint: drop hitsort()'s third argument
 * in a copy of this file).
 *
 *   gcc -O2 -Ibuild/plain -Isrc -o bench_hitsort test/bench/bench_hitsort.c \
 *       src/hitsort.c $(pkg-config --cflags --libs glib-2.0)
 *   bench_hitsort [ROUNDS]
 *
 * Exits 1 without memory or if a sort's result is out of order (the
 * order is checked by test/unit/test_hitsort.c; here only so a broken
 * build prints no timing). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hitsort.h"

static uint64_t
next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double
cpu_us(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median microseconds of sorting n hits of records below nrec; placed:
 * the input rises by place.  -1 without memory, -2 when a result is out
 * of order. */
static double
run(size_t n, uint32_t nrec, int placed, int rounds)
{
	struct pos_hit *in = calloc(n, sizeof *in);
	struct pos_hit *v = calloc(n, sizeof *v);
	double *t = calloc((size_t)rounds, sizeof *t), med = -1;
	uint64_t s = 0x9e3779b97f4a7c15ULL ^ n ^ nrec;
	size_t i;
	int r;

	if (in == NULL || v == NULL || t == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		in[i].rec = (uint32_t)(next(&s) % nrec);
		in[i].pos = placed ? (uint32_t)(i * 7) :
		    (uint32_t)(next(&s) % (n * 7 + 1));
		in[i].field = (uint16_t)i;
	}
	for (r = 0; r < rounds; r++) {
		double t0;

		memcpy(v, in, n * sizeof *v);
		t0 = cpu_us();
		hitsort(v, n, nrec - 1);
		t[r] = cpu_us() - t0;
		for (i = 1; i < n; i++)
			if (v[i - 1].rec > v[i].rec || (v[i - 1].rec ==
			    v[i].rec && v[i - 1].pos > v[i].pos)) {
				med = -2;
				goto out;
			}
	}
	qsort(t, (size_t)rounds, sizeof *t, cmp_double);
	med = t[rounds / 2];
out:
	free(in);
	free(v);
	free(t);
	return med;
}

int
main(int argc, char **argv)
{
	/* The records message (5,225 hits at 100,000 records), a small one,
	 * dense segments at 1M and 10M, and hits not yet in place order. */
	static const struct {
		size_t		n;
		uint32_t	nrec;
		int		placed;
	} cases[] = {
		{ 5225, 100000, 1 }, { 400, 100000, 1 }, { 20000, 1000000, 1 },
		{ 50000, 10000000, 1 }, { 5000, 100000, 0 },
	};
	int rounds = argc > 1 ? atoi(argv[1]) : 201;
	size_t c;

	if (rounds < 1)
		rounds = 1;
	printf("%8s %10s %7s %10s\n", "hits", "records", "placed", "median_us");
	for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		double us = run(cases[c].n, cases[c].nrec, cases[c].placed,
		    rounds);

		if (us < 0) {
			fprintf(stderr, "bench_hitsort: %s\n", us == -1 ?
			    "out of memory" : "a sort came out of order");
			return 1;
		}
		printf("%8zu %10u %7s %10.1f\n", cases[c].n, cases[c].nrec,
		    cases[c].placed ? "yes" : "no", us);
	}
	return 0;
}
